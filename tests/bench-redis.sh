#!/usr/bin/env bash
# make bench, Redis part (tests/bench.sh runs it; BENCH_REDIS=0 skips it):
#
#   tests/bench-redis.sh CAPTURE
#
# Starts its own redis-server on a free loopback port (no persistence), then
# runs the same command with and without --redis, alternating, BENCH_RUNS
# (default 5) times each, and reports medians:
#   - the cost of the Redis output on the run, as a ratio of wall times against
#     the file output alone (-w /dev/null), for the default record types
#     (alert,stats) and for every record (--redis-events all);
#   - records per second into Redis, pipelined: the entries of the stream over
#     the span of their IDs, which the sender takes from the wall clock when it
#     sends each record (so the span is the sending time, capture excluded).
# With `all` the run ends only when Redis has taken the backlog (or after the
# flush timeout, the rest going to the spool): that wait is part of its time.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RUNS=${BENCH_RUNS:-5}
cap=${1:?usage: tests/bench-redis.sh CAPTURE}

if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
    echo "redis: redis-server or redis-cli is not installed (make deps): skipped"
    exit 0
fi
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
dir=$(mktemp -d)
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" \
    --logfile "$dir/redis.log" >/dev/null 2>&1 &
rpid=$!
trap 'kill "$rpid" 2>/dev/null; wait "$rpid" 2>/dev/null; rm -rf "$dir"' EXIT
cli() { redis-cli -p "$port" "$@"; }
for _ in $(seq 200); do # a bounded wait for the server to answer
    [ "$(cli ping 2>/dev/null)" = PONG ] && break
    sleep 0.05
done
[ "$(cli ping 2>/dev/null)" = PONG ] || { echo "bench-redis: redis-server did not start" >&2; exit 1; }
url="redis://127.0.0.1:$port"

mid() { # numbers on stdin -> their median
    sort -g | sed -n "$(((RUNS + 1) / 2))p"
}

timed() { # command... -> "wall cpu": seconds of one run, wall clock and user+sys
    /usr/bin/time -f '%e %U %S' -o "$dir/time" "$@" >/dev/null 2>&1 || true
    awk 'END {print $1, $2 + $3}' "$dir/time"
}

base=("$BUILD/postcard" -q -r "$cap" -w /dev/null)
declare -A wall cpu
for _ in $(seq "$RUNS"); do
    for v in file alert all; do
        cli del bench >/dev/null
        rm -rf "$dir/spool"
        case $v in
        file) read -r w c < <(timed "${base[@]}") ;;
        alert) read -r w c < <(timed "${base[@]}" --redis "$url" --redis-key bench \
                                   --redis-spool "$dir/spool") ;;
        all) read -r w c < <(timed "${base[@]}" --redis "$url" --redis-key bench \
                                 --redis-events all --redis-maxlen 0 --redis-spool "$dir/spool") ;;
        esac
        wall[$v]+="$w " cpu[$v]+="$c "
    done
done
med() { tr ' ' '\n' <<<"$1" | grep . | mid; }

# the last run (all): the stream's entries and the span of their IDs
n=$(cli xlen bench)
info=$(cli xinfo stream bench)
first=$(awk 'p {print; exit} /^first-entry$/ {p = 1}' <<<"$info")
last=$(awk 'p {print; exit} /^last-generated-id$/ {p = 1}' <<<"$info")
span_ms=$((${last%-*} - ${first%-*}))
spooled=0
if [ -d "$dir/spool" ]; then
    spooled=$(find "$dir/spool" -name '*.spool' | wc -l)
fi
# an untimed run for the output's own account (the summary at exit)
"${base[@]:0:1}" -r "$cap" -w /dev/null --redis "$url" --redis-key bench2 \
    --redis-events all --redis-maxlen 0 --redis-spool "$dir/spool2" 2>"$dir/summary" \
    >/dev/null || true

echo "Redis output: redis-server $(redis-server --version | awk '{sub("v=", "", $3); print $3}') on 127.0.0.1:$port, capture $cap," \
    "median of $RUNS runs"
t_file=$(med "${wall[file]}") c_file=$(med "${cpu[file]}")
printf '%-40s %8.3f s  %6.2f s CPU   (ratio: wall, CPU)\n' "postcard -q -r F -w /dev/null" \
    "$t_file" "$c_file"
for v in alert all; do
    label="  + --redis (alert,stats)"
    [ "$v" = all ] && label="  + --redis --redis-events all"
    t=$(med "${wall[$v]}") c=$(med "${cpu[$v]}")
    printf '%-40s %8.3f s  %6.2f s CPU   %5.2fx %5.2fx\n' "$label" "$t" "$c" \
        "$(echo "$t / $t_file" | bc -l)" "$(echo "$c / $c_file" | bc -l)"
done
if [ "$span_ms" -gt 0 ]; then
    printf 'records into Redis, pipelined: %d/s (%d stream entries sent in %.2f s)\n' \
        "$((n * 1000 / span_ms))" "$n" "$(echo "$span_ms / 1000" | bc -l)"
fi
[ "$spooled" -eq 0 ] || echo "  (the last timed run left $spooled spool files: Redis was slower than the flush timeout)"
grep -E '^  redis' "$dir/summary" | sed 's/^  /  untimed run: /' || true

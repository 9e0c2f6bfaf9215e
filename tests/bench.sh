#!/usr/bin/env bash
# make bench: postcard's cost against tcpdump and ndpiReader on the same capture,
# and the cost of 10,000 loaded rules against the default rules.
#
# The captures are built from the project's captures and the shared corpus
# (POSTCARD_CORPUS=/path: that one; POSTCARD_CORPUS=none: none),
# replicated with new addresses (tests/mkbench.py): BENCH_MB (default 400) MiB
# for the first part, BENCH_RULES_MB (default 1024) for the rules part; mostly
# non-mail traffic, as on a real link. They are built once and kept in
# build/bench/. Figures are ratios against baselines run in the same command,
# so they hold on any machine; each time is the median of BENCH_RUNS (default
# 5) runs. BENCH_RULES=0 skips the rules part. Then the Redis output
# (tests/bench-redis.sh, on a BENCH_REDIS_MB (default 200) MiB capture;
# BENCH_REDIS=0 skips it), and the alert latency on a live link
# (tests/bench-latency.py, as root; BENCH_LATENCY=0 skips it).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
MB=${BENCH_MB:-400}
RULES_MB=${BENCH_RULES_MB:-1024}
RUNS=${BENCH_RUNS:-5}
dir=build/bench
mkdir -p "$dir"

capture() { # MiB -> path of the capture of that size, built once
    local cap="$dir/bench-$1.pcap"
    if [ ! -f "$cap" ]; then
        local inputs=() f corpus=${POSTCARD_CORPUS:-../shared/corpus}
        [ "$corpus" != none ] || corpus=/nonexistent
        for f in pcaps/*.pcap "$corpus"/*/*.pcap; do
            [ -f "$f" ] && inputs+=("$f")
        done
        python3 tests/mkbench.py "$cap.tmp" "$1" "${inputs[@]}" >&2
        mv "$cap.tmp" "$cap"
    fi
    echo "$cap"
}

mid() { # numbers on stdin -> their median
    sort -g | sed -n "$(((RUNS + 1) / 2))p"
}

median() { # command... -> median wall seconds of $RUNS runs
    local ts=()
    for _ in $(seq "$RUNS"); do
        local s e
        s=$(date +%s.%N)
        "$@" >/dev/null 2>&1 || true
        e=$(date +%s.%N)
        ts+=("$(echo "$e - $s" | bc -l)")
    done
    printf '%s\n' "${ts[@]}" | mid
}

describe() { # capture -> one line: size and packets
    local pkts
    pkts=$(capinfos -c -M "$1" | awk '/Number of packets/ {print $NF}')
    echo "capture: $1 ($(du -m "$1" | cut -f1) MiB, $pkts packets), median of $RUNS runs"
}

# --- postcard against tcpdump and ndpiReader ---
cap=$(capture "$MB")
cat "$cap" >/dev/null # warm the page cache for every contender alike
describe "$cap"
t_tcpdump=$(median tcpdump -nr "$cap" -w /dev/null)
t_post=$(median "$BUILD/postcard" -q -r "$cap" -w /dev/null)
t_ndpi=$(median ndpiReader -q -i "$cap")
rss=$( { /usr/bin/time -f '%M' "$BUILD/postcard" -q -r "$cap" -w /dev/null; } 2>&1 | tail -n1)
printf '%-28s %8.3f s\n' "tcpdump -nr F -w /dev/null" "$t_tcpdump"
printf '%-28s %8.3f s\n' "postcard -q -r F" "$t_post"
printf '%-28s %8.3f s\n' "ndpiReader -i F" "$t_ndpi"
echo "postcard / tcpdump:   $(echo "scale=2; $t_post / $t_tcpdump" | bc -l)x   (goal: at most 1.5x)"
echo "ndpiReader / postcard: $(echo "scale=2; $t_ndpi / $t_post" | bc -l)x  (goal: at least 3x)"
echo "postcard peak RSS:     $((rss / 1024)) MiB"

last_parts() { # the Redis output, then the alert latency on a live link
    [ "${BENCH_REDIS:-1}" = 0 ] || { echo; BUILD=$BUILD tests/bench-redis.sh "$(capture "${BENCH_REDIS_MB:-200}")"; }
    [ "${BENCH_LATENCY:-1}" = 0 ] || { echo; BUILD=$BUILD python3 tests/bench-latency.py; }
}

if [ "${BENCH_RULES:-1}" = 0 ]; then
    last_parts
    exit 0
fi

# --- 10,000 rules against the default rules ---
# The rule directory holds the default rule files and 10,000 generated site
# rules (tests/mkrules.py): mostly about servers, users, names and
# certificates the capture does not have, a few about ones it has.
echo
big=$(capture "$RULES_MB")
gen="$dir/generated-10000.rules"
if [ ! -f "$gen" ] || [ tests/mkrules.py -nt "$gen" ]; then
    python3 tests/mkrules.py "$gen.tmp" 10000 >/dev/null
    mv "$gen.tmp" "$gen"
fi
rules="$dir/rules10k"
rm -rf "$rules"
mkdir -p "$rules"
cp rules/default/*.rules "$gen" "$rules/"
if ! "$BUILD/postcard" --check-rules -R "$rules" >"$dir/rules10k.check" 2>&1; then
    cat "$dir/rules10k.check" >&2
    echo "bench: $rules does not load cleanly" >&2
    exit 1
fi
grep ': warning:' "$dir/rules10k.check" >&2 || true
n_rules=$(awk '/^rules:/ {print $2}' "$dir/rules10k.check")

alerts() { # name, postcard options... -> alerts in a run over the big capture
    # (an untimed run, writing to a file; its summary is kept beside it)
    local out="$dir/alerts-$1.json" sum="$dir/alerts-$1.summary"
    shift
    rm -f "$out"
    "$BUILD/postcard" --no-flow-records --no-session-records "$@" -r "$big" -w "$out" \
        >/dev/null 2>"$sum" || true
    grep -c '"event_type":"alert"' "$out" || true
}

timed() { # command... -> "wall cpu": seconds of one run, wall clock and user+sys
    /usr/bin/time -f '%e %U %S' -o "$dir/time.tmp" "$@" >/dev/null 2>&1 || true
    awk 'END {print $1, $2 + $3}' "$dir/time.tmp"
}

cat "$big" >/dev/null
describe "$big"
# The two runs alternate, so that whatever else the machine does weighs on both
# alike. The goal is on wall time; CPU time is shown as well, being less
# disturbed by other work on the machine.
w_def=() c_def=() w_10k=() c_10k=()
for _ in $(seq "$RUNS"); do
    read -r w c < <(timed "$BUILD/postcard" -q -r "$big" -w /dev/null)
    w_def+=("$w") c_def+=("$c")
    read -r w c < <(timed "$BUILD/postcard" -q -R "$rules" -r "$big" -w /dev/null)
    w_10k+=("$w") c_10k+=("$c")
done
rm -f "$dir/time.tmp"
t_def=$(printf '%s\n' "${w_def[@]}" | mid) cpu_def=$(printf '%s\n' "${c_def[@]}" | mid)
t_10k=$(printf '%s\n' "${w_10k[@]}" | mid) cpu_10k=$(printf '%s\n' "${c_10k[@]}" | mid)
a_def=$(alerts default)
a_10k=$(alerts rules10k -R "$rules")
printf '%-34s %8.3f s  %8.2f s CPU  %8d alerts\n' "postcard -q -r F (default rules)" \
    "$t_def" "$cpu_def" "$a_def"
printf '%-34s %8.3f s  %8.2f s CPU  %8d alerts\n' "postcard -q -R rules10k -r F" \
    "$t_10k" "$cpu_10k" "$a_10k"
for run in default rules10k; do # the engine's own account, from the summaries
    printf '  %-9s %s\n' "$run:" "$(sed -n 's/^ *alerts: *//p' "$dir/alerts-$run.summary")"
done
echo "  (rules10k: $n_rules rules: rules/default/*.rules and $gen; alerts in $dir/alerts-*.json)"
printf '10,000 rules / default rules: %.2fx (goal: at most 1.10x)\n' \
    "$(echo "$t_10k / $t_def" | bc -l)"
printf '  in CPU time (user+sys):     %.2fx\n' "$(echo "$cpu_10k / $cpu_def" | bc -l)"

# --- the Redis output (BENCH_REDIS=0 skips it) and the alert latency (BENCH_LATENCY=0) ---
last_parts

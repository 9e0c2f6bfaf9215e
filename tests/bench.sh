#!/usr/bin/env bash
# make bench: postcard's cost against tcpdump and ndpiReader on the same capture.
#
# The capture is built from the project's captures and the shared corpus,
# replicated with new addresses (tests/mkbench.py) to BENCH_MB (default 400)
# MiB: mostly non-mail traffic, as on a real link. Figures are ratios against
# baselines run in the same command, so they hold on any machine.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
MB=${BENCH_MB:-400}
RUNS=${BENCH_RUNS:-5}
dir=build/bench
mkdir -p "$dir"
cap="$dir/bench-$MB.pcap"
if [ ! -f "$cap" ]; then
    inputs=()
    for f in pcaps/*.pcap ../shared/corpus/*/*.pcap; do
        [ -f "$f" ] && inputs+=("$f")
    done
    python3 tests/mkbench.py "$cap.tmp" "$MB" "${inputs[@]}"
    mv "$cap.tmp" "$cap"
fi
cat "$cap" >/dev/null # warm the page cache for every contender alike

median() { # command... -> median wall seconds of $RUNS runs
    local ts=()
    for _ in $(seq "$RUNS"); do
        local s e
        s=$(date +%s.%N)
        "$@" >/dev/null 2>&1 || true
        e=$(date +%s.%N)
        ts+=("$(echo "$e - $s" | bc -l)")
    done
    printf '%s\n' "${ts[@]}" | sort -g | sed -n "$(((RUNS + 1) / 2))p"
}

pkts=$(capinfos -c -M "$cap" | awk '/Number of packets/ {print $NF}')
echo "capture: $cap ($(du -m "$cap" | cut -f1) MiB, $pkts packets), median of $RUNS runs"
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

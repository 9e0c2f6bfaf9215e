#!/usr/bin/env bash
# Run postcard's test suites and print one closing line: "N passed, N failed".
#
#   tests/run.sh            unit tests, then integration tests
#   tests/run.sh unit       unit tests only
#   tests/run.sh integration [name-filter]   (tests/integration.py, then tests/integration_alerts.py)
#
# BUILD names the build directory (default build/san: the ASan+UBSan build).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build/san}
export BUILD
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=99}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=98}
what=${1:-all}
passed=0
failed=0
skipped=0

count() { # add the "N passed, N failed[, N skipped]" line of a suite's output
    local line p f s
    line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)
    if [ -z "$line" ]; then
        echo "no result line from $2: counted as 1 failure"
        failed=$((failed + 1))
        return
    fi
    p=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+')
    f=$(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+')
    s=$(grep -oE '[0-9]+ skipped' <<<"$line" | grep -oE '[0-9]+')
    passed=$((passed + p))
    failed=$((failed + f))
    skipped=$((skipped + ${s:-0}))
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ "$what" = all ] || [ "$what" = unit ]; then
    for t in "$BUILD"/tests/test-*; do
        [ -x "$t" ] || continue
        "$t" >"$tmp/out" 2>&1
        grep -v '^ok - ' "$tmp/out"
        count "$tmp/out" "$t"
    done
fi
if [ "$what" = all ] || [ "$what" = integration ]; then
    /usr/bin/env python3 tests/integration.py "${2:-}" 2>&1 | tee "$tmp/int" | grep -v '^ok - '
    count "$tmp/int" integration
    /usr/bin/env python3 tests/integration_alerts.py "${2:-}" 2>&1 | tee "$tmp/alerts" | grep -v '^ok - '
    count "$tmp/alerts" integration-alerts
    /usr/bin/env python3 tests/integration_redis.py "${2:-}" 2>&1 | tee "$tmp/redis" | grep -v '^ok - '
    count "$tmp/redis" integration-redis
    /usr/bin/env python3 tests/integration_eve.py "${2:-}" 2>&1 | tee "$tmp/eve" | grep -v '^ok - '
    count "$tmp/eve" integration-eve
    /usr/bin/env python3 tests/integration_summary.py "${2:-}" 2>&1 | tee "$tmp/summary" | grep -v '^ok - '
    count "$tmp/summary" integration-summary
    /usr/bin/env python3 tests/integration_anon.py "${2:-}" 2>&1 | tee "$tmp/anon" | grep -v '^ok - '
    count "$tmp/anon" integration-anon
    /usr/bin/env python3 tests/integration_report.py "${2:-}" 2>&1 | tee "$tmp/report" | grep -v '^ok - '
    count "$tmp/report" integration-report
fi
if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]

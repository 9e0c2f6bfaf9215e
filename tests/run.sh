#!/usr/bin/env bash
# Run postcard's test suites and print one closing line: "N passed, N failed[, N skipped]";
# the exit status is 0 when nothing failed.
#
#   tests/run.sh                              unit tests, the fuzz corpus, integration tests
#   tests/run.sh unit                         unit tests only: every $BUILD/tests/test-*
#   tests/run.sh fuzz                         every file of tests/fuzz/corpus/<target>/
#                                             through $BUILD/tests/replay-<target>: one
#                                             result per target (docs/fuzzing.md)
#   tests/run.sh integration [name-filter]    integration tests only: every
#                                             tests/integration/test_*.py, with the tests
#                                             whose name contains name-filter
#
# BUILD names the build directory (default build/san: the ASan+UBSan build).
# POSTCARD_CORPUS=none runs the integration tests without the corpus (tests/integration/common.py).
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

case $what in
all | unit | fuzz | integration) ;;
*)
    echo "usage: tests/run.sh [unit | fuzz | integration [name-filter]]" >&2
    exit 2
    ;;
esac

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
    n=0
    for t in "$BUILD"/tests/test-*; do
        [ -f "$t" ] && [ -x "$t" ] || continue
        n=$((n + 1))
        "$t" >"$tmp/out" 2>&1
        grep -v '^ok - ' "$tmp/out"
        count "$tmp/out" "$t"
    done
    if [ "$n" -eq 0 ]; then
        echo "no unit test binary in $BUILD/tests/ (make unit-bins): counted as 1 failure"
        failed=$((failed + 1))
    fi
fi
if [ "$what" = all ] || [ "$what" = fuzz ]; then
    for dir in tests/fuzz/corpus/*/; do
        [ -d "$dir" ] || continue
        t=$(basename "$dir")
        bin=$BUILD/tests/replay-$t
        n=$(find "$dir" -type f | wc -l)
        if [ ! -x "$bin" ]; then
            echo "not ok - fuzz corpus $t: no $bin (make replay-bins)"
            failed=$((failed + 1))
        elif "$bin" "$dir" >"$tmp/out" 2>&1; then
            passed=$((passed + 1))
            echo "fuzz corpus $t: $n files replayed"
        else
            echo "not ok - fuzz corpus $t ($n files):"
            tail -n 30 "$tmp/out" | sed 's/^/  /'
            failed=$((failed + 1))
        fi
    done
fi
if [ "$what" = all ] || [ "$what" = integration ]; then
    for t in tests/integration/test_*.py; do
        /usr/bin/env python3 "$t" "${2:-}" 2>&1 | tee "$tmp/out" | grep -v '^ok - '
        count "$tmp/out" "$t"
    done
fi
if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# Run the libFuzzer targets of build/fuzz/ (make fuzz-build) and say what each run did.
#
#   tests/fuzz/run.sh [-t SECONDS] [-j JOBS] [-l LOGDIR] TARGET...   fuzz each for SECONDS
#                                                   (default 900), JOBS at a time (default 2)
#   tests/fuzz/run.sh -m TARGET...      merge what the runs found into tests/fuzz/corpus/: the
#                                       inputs that reach code (edges) the corpus does not
#   tests/fuzz/run.sh -s DIR TARGET...  merge the seeds in DIR/<target>/ into tests/fuzz/corpus/:
#                                       those that add coverage (edges and hit counts)
#
# A run reads tests/fuzz/corpus/<target>/ and writes what it finds that adds coverage to
# build/fuzz-work/<target>/ (the committed corpus only grows by a merge, libFuzzer's
# -merge=1; for the packet path only inputs of at most 2 KiB are merged, to keep it small). Findings (crash-*, leak-*, timeout-*, oom-*) go to
# build/fuzz-findings/<target>/, the log to LOGDIR/<target>.log (default build/fuzz-logs).
# Each run ends with one line: executions, executions per second, coverage (cov: edges,
# ft: features), corpus, findings. The exit status is 1 when a run found anything.
set -u
cd "$(dirname "$0")/../.." || exit 2
secs=900
jobs=2
logs=build/fuzz-logs
mode=run
seeds=
while getopts "t:j:l:ms:" o; do
    case $o in
    t) secs=$OPTARG ;;
    j) jobs=$OPTARG ;;
    l) logs=$OPTARG ;;
    m) mode=merge ;;
    s)
        mode=seeds
        seeds=$OPTARG
        ;;
    *)
        sed -n '2,14p' "$0" >&2
        exit 2
        ;;
    esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || {
    sed -n '2,14p' "$0" >&2
    exit 2
}

# Longest input per target: past the longest line the text protocols keep (8 KiB), past
# the largest handshake message TLS keeps (32 KiB), whole small captures for the packet path.
max_len() {
    case $1 in
    smtp | pop3 | imap | x509) echo 20000 ;;
    tls | packet) echo 40000 ;;
    rules | jsonread) echo 32768 ;;
    *) echo 4096 ;;
    esac
}

opts() { # the options every run of target $1 gets
    local dict=tests/fuzz/$1.dict
    echo -max_len="$(max_len "$1")" -timeout=30 -rss_limit_mb=2560
    [ -f "$dict" ] && echo -dict="$dict"
}

bin_of() {
    local b=build/fuzz/tests/fuzz-$1
    [ -x "$b" ] || {
        echo "run.sh: $b missing (make fuzz-build)" >&2
        exit 2
    }
    echo "$b"
}

# Largest input of the runs' finds a merge takes (0: any).
merge_cap() {
    case $1 in
    packet) echo 2048 ;;
    *) echo 0 ;;
    esac
}

if [ "$mode" != run ]; then
    pick=$(mktemp -d)
    trap 'rm -rf "$pick"' EXIT
    for t in "$@"; do
        b=$(bin_of "$t")
        from=build/fuzz-work/$t
        how=-use_counters=0 # the runs' finds: only those that reach new code
        [ "$mode" = seeds ] && from=$seeds/$t && how=
        [ -d "$from" ] || continue
        cap=$(merge_cap "$t")
        if [ "$mode" = merge ] && [ "$cap" -gt 0 ]; then
            rm -rf "${pick:?}/$t" && mkdir -p "$pick/$t"
            find "$from" -type f -size -$((cap + 1))c -exec cp {} "$pick/$t/" \;
            from=$pick/$t
        fi
        mkdir -p "tests/fuzz/corpus/$t"
        before=$(find "tests/fuzz/corpus/$t" -type f | wc -l)
        # shellcheck disable=SC2046,SC2086
        "$b" -merge=1 $how $(opts "$t") "tests/fuzz/corpus/$t" "$from" >"build/fuzz-merge-$t.log" 2>&1 ||
            {
                echo "$t: merge failed (build/fuzz-merge-$t.log)"
                exit 1
            }
        after=$(find "tests/fuzz/corpus/$t" -type f | wc -l)
        echo "$t: corpus $before -> $after files, $(cat "tests/fuzz/corpus/$t"/* | wc -c) bytes"
    done
    exit 0
fi

# One run: the log, then its line.
run_one() {
    local t=$1 b log art
    b=$(bin_of "$t")
    log=$logs/$t.log
    art=build/fuzz-findings/$t
    mkdir -p "$logs" "$art" "build/fuzz-work/$t" "tests/fuzz/corpus/$t"
    local before
    before=$(find "$art" -type f | wc -l)
    local start
    start=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    # shellcheck disable=SC2046
    nice -n "${FUZZ_NICE:-10}" "$b" -max_total_time="$secs" -print_final_stats=1 \
        -artifact_prefix="$art/" $(opts "$t") "build/fuzz-work/$t" "tests/fuzz/corpus/$t" \
        </dev/null >"$log" 2>&1
    local rc=$?
    local found
    found=$(($(find "$art" -type f | wc -l) - before))
    local last execs rate cov ft corp secs_run
    last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    cov=$(grep -oE 'cov: [0-9]+' <<<"$last" | grep -oE '[0-9]+')
    ft=$(grep -oE 'ft: [0-9]+' <<<"$last" | grep -oE '[0-9]+')
    corp=$(grep -oE 'corp: [0-9]+/[0-9]+[a-zA-Z]*' <<<"$last" | cut -d' ' -f2)
    secs_run=$(grep -oE 'Done [0-9]+ runs in [0-9]+ second' "$log" | grep -oE '[0-9]+ second' | grep -oE '[0-9]+')
    printf '%s  %-9s started %s, %ss: %s executions, %s/s, cov %s, ft %s, corpus %s, findings %s%s\n' \
        "$(date -u +%H:%M:%S)" "$t" "$start" "${secs_run:-?}" "${execs:-?}" "${rate:-?}" \
        "${cov:-?}" "${ft:-?}" "${corp:-?}" "$found" "$([ "$rc" -ne 0 ] && echo " (exit $rc: $log)")"
    [ "$found" -eq 0 ] && [ "$rc" -eq 0 ]
}

status=0
running=0
for t in "$@"; do
    bin_of "$t" >/dev/null || exit 2
    if [ "$running" -ge "$jobs" ]; then
        wait -n || status=1
        running=$((running - 1))
    fi
    run_one "$t" &
    running=$((running + 1))
done
while [ "$running" -gt 0 ]; do
    wait -n || status=1
    running=$((running - 1))
done
exit $status

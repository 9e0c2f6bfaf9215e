#!/usr/bin/env python3
"""postcard integration tests: the command line.

--help and --version, usage errors, --check-rules, a BPF filter, stdin and several files,
-w, the summary at exit and -q, the progress line on a terminal, --max-flows; runs that never
start (no input opened, a bad filter, no rules): no record, no summary, the exit status of
docs/cli.md; --no-rules.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

from common import BIN, PCAPS, ROOT, Skip, flows, records, run, run_fatal, run_suite


# --- rules (the language front-end; matching comes with the engine) ---------------------

def test_check_rules_default_set_loads_clean():
    st, out, err = run(["--check-rules", "-R", os.path.join(ROOT, "rules", "default")])
    assert st == 0 and err == "", err
    assert re.search(r"rules: \d+ loaded", out), out
    for finding in ("cleartext-login", "starttls-stripped", "weak-cipher", "cert-expired"):
        assert finding in out, (finding, out)


def test_check_rules_reports_file_line_col_and_suggests():
    d = tempfile.mkdtemp()
    try:
        p = os.path.join(d, "bad.rules")
        with open(p, "w") as fh:
            fh.write("# a comment\n"
                     "alert smtp any any -> any 25 (msg:\"x\"; clastype:cleartext-login; sid:1;)\n")
        st, out, err = run(["--check-rules", "-R", p])
        assert st == 1, (st, err)
        assert "%s:2:40: unknown option 'clastype'; did you mean 'classtype'?" % p in err, err
        st, _, err = run(["--check-rules"])
        assert st == 2 and "-R" in err, err
        # a rule line past RULES_MAX_RULE_BYTES (16 KiB) is an error, not a rule lost in silence
        with open(p, "w") as fh:
            fh.write("alert smtp any any -> any any (msg:\"long\"; " + "mail.login; " * 1500 +
                     "classtype:cleartext-login; sid:1;)\n"
                     "alert smtp any any -> any any (msg:\"y\"; mail.login; "
                     "classtype:cleartext-login; sid:2;)\n")
        st, out, err = run(["--check-rules", "-R", p])
        assert st == 1, (st, out, err)
        assert "%s:1:1: rule longer than 16384 bytes" % p in err, err
    finally:
        shutil.rmtree(d)


# --- command line -------------------------------------------------------------

def test_help_and_version():
    st, out, _ = run(["--help"])
    assert st == 0 and "-r FILE" in out and "-i IFACE" in out
    st, out, _ = run(["-h"])
    assert st == 0 and "usage:" in out
    st, out, _ = run(["--version"])
    assert st == 0 and re.match(r"^postcard \d+\.\d+\.\d+", out)


def test_usage_errors_exit_2():
    for args in ([], ["-r", "a", "-i", "lo"], ["--bogus"], ["-r"], ["--max-flows", "x", "-r", "a"]):
        st, _, err = run(args)
        assert st == 2, (args, st, err)
        assert err.strip(), args


def test_bpf_filter_expression():
    f = os.path.join(PCAPS, "demo.pcapng")
    _, out, _ = run(["-q", "-r", f, "tcp", "port", "110"])
    fl = flows(out)
    assert len(fl) == 1 and fl[0]["app_proto"] == "pop3", fl
    st, _, err = run(["-q", "-r", f, "tcp", "port", "notaport"])
    assert st == 2 and "filter" in err and len(err.strip().splitlines()) == 1, err


def test_stdin_and_several_files():
    f = os.path.join(PCAPS, "demo.pcapng")
    a = run(["-q", "-r", f])[1]
    with open(f, "rb") as fh:
        b = run(["-q", "-r", "-"], stdin=fh)[1]
    assert '"pcap_filename":"stdin"' in b and ('"pcap_filename":"%s"' % f) in a
    strip = lambda s: re.sub(r'"pcap_filename":"[^"]*"', "", s)
    assert strip(a) == strip(b) and a
    g = os.path.join(PCAPS, "pop3-plain.pcap")
    c = run(["-q", "-r", f, "-r", g])[1]
    assert len(flows(c)) == len(flows(a)) + len(flows(run(["-q", "-r", g])[1]))


def test_write_file_appends():
    d = tempfile.mkdtemp()
    try:
        w = os.path.join(d, "out.json")
        f = os.path.join(PCAPS, "pop3-plain.pcap")
        st, out, _ = run(["-q", "-r", f, "-w", w])
        assert st == 0 and out == ""
        run(["-q", "-r", f, "-w", w])
        with open(w) as fh:
            assert len(flows(fh.read())) == 2
        st, _, err = run(["-q", "-r", f, "-w", os.path.join(d, "no", "such", "dir.json")])
        assert st == 1 and "dir.json" in err
    finally:
        shutil.rmtree(d)


def test_summary_at_exit_and_quiet():
    st, _, err = run(["-r", os.path.join(PCAPS, "demo.pcapng")])
    assert st == 0
    for k in ("packets:", "flows:", "flows by protocol:", "anomalies:", "evicted"):
        assert k in err, err
    assert re.search(r"flows by protocol:.*pop3=1", err), err
    st, _, err = run(["-q", "-r", os.path.join(PCAPS, "demo.pcapng")])
    assert st == 0 and err == "", err


def test_progress_on_a_terminal():
    if shutil.which("script") is None:
        raise Skip("script(1) is not installed")
    f = os.path.join(PCAPS, "demo.pcapng")
    p = subprocess.run(["script", "-qec", "%s -r %s -w /dev/null" % (BIN, f), "/dev/null"],
                       capture_output=True, timeout=60)
    out = p.stdout.decode("utf-8", "replace")
    assert "packets/s" in out and "MiB" in out, out
    assert "postcard summary" in out


def test_max_flows_evicts_oldest():
    st, out, err = run(["-r", os.path.join(PCAPS, "demo.pcapng"), "--max-flows", "1"])
    assert st == 0
    fl = flows(out)
    assert len(fl) == 5
    assert sum(1 for r in fl if r["flow"]["reason"] == "forced") >= 1
    assert re.search(r"[1-9]\d* evicted", err), err


# --- runs that never start: an error line and the status, no record, no summary ---------

DEMO = os.path.join(PCAPS, "demo.pcapng")


def test_fatal_missing_file():
    run_fatal(["-r", "/nonexistent.pcap"], 1,
              "postcard: /nonexistent.pcap: No such file or directory")


def test_fatal_directory_as_file():
    d = tempfile.mkdtemp()
    try:
        run_fatal(["-r", d], 1, "postcard: %s: is a directory, not a capture file" % d)
    finally:
        shutil.rmtree(d)


def test_fatal_bad_filter_is_a_usage_error():
    run_fatal(["-r", DEMO, "tcp", "prt", "25"], 2, 'postcard: filter "tcp prt 25": ')
    run_fatal(["-r", "/nonexistent.pcap", "tcp", "prt", "25"], 2, "filter")


def test_fatal_no_such_interface():
    if os.geteuid() != 0:
        raise Skip("needs root: without it the interface may fail for want of privileges")
    run_fatal(["-i", "nosuchif0"], 1, "postcard: nosuchif0: no such interface")


def test_fatal_rules_empty_directory():
    d = tempfile.mkdtemp()
    try:
        err = run_fatal(["-R", d, "-r", DEMO], 1, "postcard: rules %s: no rule there" % d,
                        "--no-rules")
        assert len(err.splitlines()) == 1, err
    finally:
        shutil.rmtree(d)


def test_fatal_rules_missing_path():
    err = run_fatal(["-R", "/nonexistent-rules", "-r", DEMO], 1,
                    "postcard: rules /nonexistent-rules: No such file or directory", "--no-rules")
    assert len(err.splitlines()) == 1, err


def test_fatal_check_rules_without_R():
    run_fatal(["--check-rules"], 2, "postcard: --check-rules needs -R PATH")


def test_fatal_R_with_no_rules():
    run_fatal(["-R", os.path.join(ROOT, "rules", "default"), "--no-rules", "-r", DEMO], 2,
              "postcard: -R and --no-rules: give one or the other")


def test_fatal_program_name_is_postcard():
    """Started by a path, postcard still names itself postcard, getopt's messages too."""
    rel = "./" + os.path.relpath(BIN, ROOT)
    for args, line in ((["--bogus"], "postcard: unrecognized option '--bogus'"),
                       (["-r"], "postcard: option requires an argument -- 'r'"),
                       (["report", "--bogus"], "postcard report: unrecognized option '--bogus'"),
                       (["-r", "/nonexistent.pcap"], "postcard: /nonexistent.pcap: ")):
        p = subprocess.run([rel] + args, cwd=ROOT, capture_output=True, timeout=60)
        err = p.stderr.decode("utf-8", "replace")
        assert p.returncode in (1, 2) and err.startswith(line), (args, err)
        assert rel not in err and BIN not in err, (args, err)


def test_a_later_input_failing_still_reports_what_was_read():
    """Not a run that never started: the records and the summary of what was read, status 1."""
    for args in (["-r", DEMO, "-r", "/nonexistent.pcap"], ["-r", "/nonexistent.pcap", "-r", DEMO]):
        st, out, err = run(args)
        assert st == 1 and "/nonexistent.pcap: No such file" in err, (args, err)
        assert "postcard summary" in err, (args, err)
        types = [r["event_type"] for r in records(out)]
        assert "flow" in types and types[-1] == "stats", (args, types)


def test_no_rules_gives_every_record_but_alerts():
    st, with_rules, _ = run(["-q", "-r", DEMO])
    assert st == 0 and any(r["event_type"] == "alert" for r in records(with_rules))
    st, out, err = run(["-r", DEMO, "--no-rules"])
    assert st == 0, err
    types = {r["event_type"] for r in records(out)}
    assert "alert" not in types, types
    assert {"mail", "tls", "flow", "stats"} <= types, types
    want = [r for r in records(with_rules) if r["event_type"] != "alert"]
    got = records(out)
    strip = lambda rs: [r for r in rs if r["event_type"] not in ("alert", "stats")]
    assert strip(got) == strip(want)
    assert "alerts:         none: --no-rules" in err, err
    assert "warning" not in err, err


if __name__ == "__main__":
    sys.exit(run_suite(globals()))

#!/usr/bin/env python3
"""postcard integration tests: the command line.

--help and --version, usage errors, --check-rules, a BPF filter, stdin and several files,
-w, the summary at exit and -q, the progress line on a terminal, --max-flows.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

from common import BIN, PCAPS, ROOT, Skip, flows, run, run_suite


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
    assert st == 1 and "filter" in err and len(err.strip().splitlines()) == 1, err


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


if __name__ == "__main__":
    sys.exit(run_suite(globals()))

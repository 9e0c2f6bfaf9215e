#!/usr/bin/env python3
"""postcard integration tests: the -w file as a reader sees it (sensor/output/out-file.c).

Live, an alert is in the file while its session is open; the file only ever grows by whole
records, so postcard killed with SIGKILL in the middle of a long run leaves whole lines; and
the next postcard to open the file cuts off a record that a kill cut short inside write(2).

Same runner as every suite (tests/integration/common.py); the last line is
"integration-output: N passed, N failed, N skipped".
"""
import base64
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile

import common as C
from common import (BIN, PCAPS, Postcard, Skip, listen_on_lo, read_pcap, run, run_suite, wait_for,
                    write_pcap)


def lines_of(path):
    with open(path, "rb") as fh:
        return fh.read()


def check_whole_lines(data, what):
    """Every line of data is one JSON record and the last one ends with a newline."""
    assert data.endswith(b"\n"), "%s: ends with %r" % (what, data[-200:])
    n = 0
    for i, line in enumerate(data.split(b"\n")[:-1]):
        try:
            rec = json.loads(line)
        except ValueError:
            raise AssertionError("%s: line %d is not JSON: %r" % (what, i + 1, line[:300]))
        assert "event_type" in rec, (what, i + 1, rec)
        n += 1
    return n


def big_capture(d, mib):
    """The project's captures replicated with new addresses and later times (tests/mkbench.py)
    to mib MiB: a long run that writes records all along."""
    cap = os.path.join(d, "big.pcap")
    inputs = [f for f in C.project_pcaps() if f.endswith(".pcap")]
    subprocess.run([sys.executable, os.path.join(C.ROOT, "tests", "mkbench.py"), cap, str(mib)] +
                   inputs, check=True, capture_output=True, timeout=300)
    return cap


def state_of(pid):
    """The process state letter of /proc/PID/stat (R, S, D, T, Z...)."""
    with open("/proc/%d/stat" % pid) as fh:
        return fh.read().rsplit(")", 1)[1].split()[0]


class SmtpSession:
    """An SMTP session on 127.0.0.1 between two sockets of the test, the client logging in with
    AUTH PLAIN in clear (made-up credentials). Each exchange waits for the other side."""

    def __init__(self, srv):
        self.c = socket.create_connection(srv.getsockname())
        self.s, _ = srv.accept()

    def say(self, line, reply):
        self.c.sendall(line)
        self.s.recv(4096)
        self.s.sendall(reply)
        self.c.recv(4096)

    def login(self):
        self.s.sendall(b"220 mail.example ESMTP postcard-test\r\n")
        self.c.recv(4096)
        self.say(b"EHLO client.example\r\n", b"250-mail.example\r\n250 AUTH PLAIN LOGIN\r\n")
        blob = base64.b64encode(b"\0carol\0made-up-test-secret").decode()
        self.say(("AUTH PLAIN %s\r\n" % blob).encode(), b"235 2.7.0 Authenticated\r\n")

    def close(self):
        self.say(b"QUIT\r\n", b"221 2.0.0 Bye\r\n")
        self.c.close()
        self.s.close()


# --- tests ------------------------------------------------------------------------

def test_live_alert_is_in_the_file_while_its_session_is_open():
    """Live, an alert record is in the file while postcard runs and its session is still open:
    postcard raises it at the packet that carries the login, and the file output hands it on
    at once (a 256 KiB stdio buffer kept it until exit). "listening on lo" says the capture
    is active; the test then waits (bounded) for the alert, the session open, and checks the
    file holds whole lines only at every look."""
    if os.geteuid() != 0:
        raise Skip("live capture needs root")
    srv, port = listen_on_lo()
    d = tempfile.mkdtemp()
    w = os.path.join(d, "eve.json")
    pc = Postcard(["-i", "lo", "--immediate-mode", "-w", w, "tcp", "port", str(port)],
                  stdin=None)
    try:
        pc.wait_stderr("listening on lo")
        smtp = SmtpSession(srv)
        smtp.login()

        def login_alert():
            assert pc.p.poll() is None, "postcard exited: %s" % pc.stderr()
            data = lines_of(w) if os.path.exists(w) else b""
            if not data:
                return None
            check_whole_lines(data, w)
            return next((r for r in map(json.loads, data.splitlines())
                         if r["event_type"] == "alert" and
                         r["alert"]["category"] == "cleartext-login"), None)

        a = wait_for(login_alert, "the cleartext-login alert in %s, the session open" % w)
        assert a["dest_port"] == port and a["mail"]["logins"][0]["user"] == "carol", a
        smtp.close()
        pc.signal(signal.SIGINT)
        st, _, err = pc.finish(timeout=60)
        assert st == 0, err
        data = lines_of(w)
        check_whole_lines(data, w)
        assert b"made-up-test-secret" not in data
        mail = [r for r in map(json.loads, data.splitlines()) if r["event_type"] == "mail"]
        assert len(mail) == 1 and mail[0]["flow_id"] == a["flow_id"], mail
    finally:
        pc.close()
        srv.close()
        subprocess.run(["rm", "-rf", d])


def test_sigkill_in_a_long_run_leaves_whole_lines():
    """postcard killed with SIGKILL while it writes a long run's records: every line of the
    file is a whole record, at every moment tried.

    The moments are chosen by the file's size: the test waits for the file to reach each
    size, stops postcard with SIGSTOP and waits until it is stopped, then sends SIGKILL. A
    process stops only on its way back from a system call, so the kill lands between two
    write(2) calls, wherever postcard was in its work: what the file holds then is exactly
    what postcard chose to write. (A SIGKILL that lands while the kernel is copying one
    write(2) can stop that copy at a page boundary: the kernel's doing, which the next
    test covers.)"""
    d = tempfile.mkdtemp()
    try:
        cap = big_capture(d, 48)
        w = os.path.join(d, "eve.json")
        for size in (300000, 1500000, 4 << 20, (7 << 20) + 4321, 11 << 20):
            if os.path.exists(w):
                os.unlink(w)
            p = subprocess.Popen([BIN, "-q", "-r", cap, "-w", w], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE)
            try:
                wait_for(lambda: p.poll() is not None or
                         (os.path.exists(w) and os.path.getsize(w) >= size),
                         "%s to reach %d bytes" % (w, size))
                assert p.poll() is None, "postcard ended before %d bytes: make the capture " \
                    "bigger; stderr: %s" % (size, p.stderr.read())
                p.send_signal(signal.SIGSTOP)
                wait_for(lambda: state_of(p.pid) == "T", "postcard to stop")
                p.kill()
                p.wait()
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait()
                p.stderr.close()
            assert p.returncode == -signal.SIGKILL, p.returncode
            data = lines_of(w)
            assert len(data) >= size, (len(data), size)
            n = check_whole_lines(data, "%s killed at %d bytes" % (w, len(data)))
            assert n > 100, n
    finally:
        subprocess.run(["rm", "-rf", d])


def test_sigkill_at_any_moment_then_the_next_open_leaves_whole_lines():
    """SIGKILL with no stop before it, at several sizes: the lines before the end are whole
    records; a record the kill cut short inside write(2) can only be the file's unfinished
    last line, and postcard opening the file again (here for an empty capture) cuts it off
    before it appends: the file is whole lines again."""
    d = tempfile.mkdtemp()
    try:
        cap = big_capture(d, 48)
        header, _ = read_pcap(os.path.join(PCAPS, "smtp-plain.pcap"))
        empty = os.path.join(d, "empty.pcap")
        write_pcap(empty, header, [])
        w = os.path.join(d, "eve.json")
        for size in (1 << 20, 5 << 20, (9 << 20) + 999):
            if os.path.exists(w):
                os.unlink(w)
            p = subprocess.Popen([BIN, "-q", "-r", cap, "-w", w], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            try:
                wait_for(lambda: p.poll() is not None or
                         (os.path.exists(w) and os.path.getsize(w) >= size),
                         "%s to reach %d bytes" % (w, size))
                assert p.poll() is None, "postcard ended before %d bytes" % size
            finally:
                p.kill()
                p.wait()
            data = lines_of(w)
            whole, _, tail = data.rpartition(b"\n")
            check_whole_lines(whole + b"\n", "%s killed at %d bytes" % (w, len(data)))
            assert tail == b"" or tail.startswith(b'{"timestamp":'[:len(tail)]), tail[:100]
            st, _, err = run(["-q", "-r", empty, "-w", w])
            assert st == 0, err
            after = lines_of(w)
            assert after.startswith(whole + b"\n"), "the whole lines were kept"
            check_whole_lines(after, "%s opened again" % w)
            assert after.count(b"\n") == whole.count(b"\n") + 2  # and the new stats record
    finally:
        subprocess.run(["rm", "-rf", d])


if __name__ == "__main__":
    sys.exit(run_suite(globals()))

#!/usr/bin/env python3
"""postcard integration tests: the -w file as a reader sees it (sensor/output/out-file.c).

Live, an alert is in the file while its session is open; the file only ever grows by whole
records, so postcard killed with SIGKILL in the middle of a long run leaves whole lines; and
the next postcard to open the file cuts off a record that a kill cut short inside write(2).

Nothing lost without a word: a disk that fills up during the run (a tmpfs the test mounts and
fills) leaves whole lines only, is said on stderr when it happens and again when space comes
back, and the counts are exact (the lines of the file are the summary's "written", written +
failed the records a roomy run writes); /dev/full writes nothing and counts everything failed;
stdout closed by its reader (a pipe the test reads one line from, or `| head -1`) ends the run
cleanly: exit status 3, the summary, every record produced up to the stop in Redis (or in the
spool when Redis is gone), whether postcard's parent ignores SIGPIPE or not.

Same runner as every suite (tests/integration/common.py); the last line is
"integration-output: N passed, N failed, N skipped".
"""
import atexit
import base64
import fcntl
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

import common as C
from common import (BIN, PCAPS, Postcard, Skip, check_sanitizers, listen_on_lo, read_pcap, run,
                    run_suite, wait_for, write_pcap)

F_GETPIPE_SZ = 1032  # fcntl(2): a pipe's capacity


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


# --- a full disk, /dev/full, stdout closed by its reader --------------------------------------

class Tmpfs:
    """A tmpfs of `size` bytes mounted by the test on a new directory, unmounted at the end
    whatever happened (root)."""

    def __init__(self, size):
        if os.geteuid() != 0:
            raise Skip("mounting a tmpfs needs root")
        self.size = size
        self.dir = None

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="postcard-tmpfs-")
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%d" % self.size, "tmpfs",
                            self.dir], capture_output=True, text=True, timeout=C.WAIT)
        if p.returncode != 0:
            os.rmdir(self.dir)
            raise Skip("cannot mount a tmpfs: %s" % p.stderr.strip())
        return self

    def __exit__(self, *exc):
        subprocess.run(["umount", self.dir], capture_output=True, timeout=C.WAIT)
        os.rmdir(self.dir)

    def free(self):
        st = os.statvfs(self.dir)
        return st.f_bavail * st.f_frsize

    def fill(self, leave):
        """A file that leaves exactly `leave` bytes (whole pages) free; its path."""
        path = os.path.join(self.dir, "filler")
        with open(path, "wb") as fh:
            fh.write(b"\0" * (self.free() - leave))
        assert self.free() == leave, (self.free(), leave)
        return path


def records_line(err):
    """The summary's records line: (written, failed, cut)."""
    m = re.search(r"^  records: +(\d+) written(?:, (\d+) failed)?"
                  r"(?: \((\d+) after the reader closed stdout\))?$", err, re.M)
    assert m, "no records line in the summary:\n" + err[-3000:]
    return tuple(int(g or 0) for g in m.groups())


def summary_packets(err):
    m = re.search(r"^  packets: +(\d+) ", err, re.M)
    assert m, "no packets line in the summary:\n" + err[-3000:]
    return int(m.group(1))


def file_size(path):
    return os.path.getsize(path) if os.path.exists(path) else 0


def lost_lines(ref, got):
    """The lines of ref missing from got, got being ref with some lines left out (in order);
    fails if got holds a line out of order or not in ref."""
    lost, i = [], 0
    for line in got:
        j = i
        while j < len(ref) and ref[j] != line:
            j += 1
        assert j < len(ref), "a line that is not in the reference, or out of order: %r" % \
            line[:300]
        lost += ref[i:j]
        i = j + 1
    return lost + ref[i:]


def fed_sizes(args, pieces, path):
    """postcard args (reading -), fed pieces one by one: the size of path after each piece is
    handled, and (status, stderr) at the end."""
    pc = Postcard(args)
    try:
        sizes = []
        for piece in pieces:
            pc.feed(piece)
            pc.wait_stdin_drained()
            sizes.append(file_size(path))
        st, _, err = pc.finish()
    finally:
        pc.close()
    return sizes, st, err


def test_full_disk_mid_run_whole_lines_said_at_once_exact_counts():
    """-w on a 2 MiB tmpfs that a filler file leaves 100 KiB free: the first buffer to go out
    (256 KiB) fills the disk part way through a record. While postcard waits for more input
    (its stdin is a pipe the test feeds), stderr says so, once, and the file holds whole
    lines (the record cut short was truncated away). The next buffer fails too, and is not
    said again. Then the filler is deleted: the next buffer goes out whole, which is said,
    with the count of what was lost. At the end: exit status 1, the file is whole JSON lines,
    as many as the summary's "written"; written + failed is what a run to a roomy file
    writes; the lines missing are exactly the records counted lost (their bytes too), every
    record after the space came back is there, and the last stats record tells the failure.

    Where each buffer goes out is found first with a run to a roomy file fed the same pieces:
    the buffer holds whole records and goes out when the next does not fit, at the same
    record in every run."""
    leave = 100 * 1024
    with Tmpfs(2 << 20) as fs:
        d = tempfile.mkdtemp()
        try:
            cap = big_capture(d, 1)
            with open(cap, "rb") as fh:
                pieces = C.pcap_chunks(fh.read(), 60)
            ref_path = os.path.join(d, "ref.json")
            sizes, st, err = fed_sizes(["-r", "-", "-w", ref_path], pieces, ref_path)
            assert st == 0, err
            ref_data = lines_of(ref_path)
            check_whole_lines(ref_data, ref_path)
            ref = ref_data.decode().splitlines()
            drains = [k for k in range(len(pieces)) if sizes[k] > (sizes[k - 1] if k else 0)]
            assert len(drains) >= 3, drains
            d1, d2, d3 = drains[:3]
            assert sizes[d1] > leave, "the first buffer must not fit"
            assert len(ref_data) - sizes[d2] + leave < fs.size - (64 << 10), \
                "what comes after the space is back must fit: %d bytes" % len(ref_data)

            filler = fs.fill(leave)
            w = os.path.join(fs.dir, "eve.json")
            pc = Postcard(["-r", "-", "-w", w])
            try:
                for k in range(d1):
                    pc.feed(pieces[k])
                pc.wait_stdin_drained()
                assert file_size(w) == 0 and "cannot write" not in pc.stderr()
                pc.feed(pieces[d1])
                pc.wait_stdin_drained()
                line = pc.wait_stderr("cannot write")  # said now, postcard waiting for input
                assert pc.p.poll() is None
                assert line == "postcard: %s: cannot write: No space left on device: records " \
                    "are lost until writing works again\n" % w, line
                first = lines_of(w)
                n_first = check_whole_lines(first, "%s when the disk filled" % w)
                assert 0 < len(first) <= leave, len(first)
                for k in range(d1 + 1, d2 + 1):
                    pc.feed(pieces[k])
                pc.wait_stdin_drained()
                check_whole_lines(lines_of(w), "%s, the disk full" % w)
                os.unlink(filler)
                for k in range(d2 + 1, d3 + 1):
                    pc.feed(pieces[k])
                pc.wait_stdin_drained()
                again = pc.wait_stderr(": writing works again; ")
                assert pc.p.poll() is None
                for k in range(d3 + 1, len(pieces)):
                    pc.feed(pieces[k])
                st, _, err = pc.finish()
            finally:
                pc.close()
            assert st == 1, err
            assert err.count(": cannot write: ") == 1, err  # not once per failed buffer
            assert err.count(": writing works again; ") == 1, err
            written, failed, cut = records_line(err)
            assert cut == 0 and failed > 0
            data = lines_of(w)
            assert check_whole_lines(data, w) == written
            assert written + failed == len(ref), (written, failed, len(ref))
            got = data.decode().splitlines()
            assert got[:n_first] == ref[:n_first]
            lost = lost_lines(ref[:-1], got[:-1])  # the last: this run's stats record
            n_bytes = sum(len(x) + 1 for x in lost)
            assert len(lost) == failed, (len(lost), failed)
            assert again == "postcard: %s: writing works again; %d records (%d bytes) were " \
                "lost (No space left on device)\n" % (w, failed, n_bytes), again
            after = len(ref_data[:sizes[d2]].splitlines())  # records of the buffers after
            assert got[-(len(ref) - after):-1] == ref[after:-1]
            assert "postcard: %s: %d records could not be written\n" % (w, failed) in err
            assert re.search(r"^  output errors:  %s: \d+ writes failed, %d records \(%d bytes\) "
                             r"lost; last error: No space left on device$" % (
                                 re.escape(w), failed, n_bytes), err, re.M), err
            last = json.loads(got[-1])
            assert last["event_type"] == "stats"
            out = last["stats"]["outputs"]
            f = out["file"]
            assert out["failed"] == f["failed"] == failed, out
            assert f["bytes_lost"] == n_bytes and f["errors"] >= 2, f
            assert f["failing"] is False and f["last_error"] == "No space left on device", f
            assert out["records"] == f["written"] + f["buffered"] == written - 1, (out, written)
        finally:
            shutil.rmtree(d)


def test_live_full_disk_is_said_while_it_runs_and_in_the_next_stats_record():
    """Live (-i lo), -w on a tmpfs filled to its last byte, a stats record every second, to
    Redis too. The first push of the file's buffer (the first stats record) fails: stderr says
    so while postcard runs, and the next stats record, in Redis, says outputs.file.failing with
    what was lost and why. The filler deleted, the next push goes out whole: stderr says
    writing works again, once. SIGINT: exit status 1, the file whole lines, as many as the
    summary's written; failed is what the "works again" line said was lost."""
    if os.geteuid() != 0:
        raise Skip("live capture needs root")
    R = redis_module()
    d = tempfile.mkdtemp()
    try:
        with Tmpfs(1 << 20) as fs, R.RedisServer() as rs:
            filler = fs.fill(0)
            w = os.path.join(fs.dir, "eve.json")
            srv, port = listen_on_lo()  # a port no traffic uses: only stats records
            pc = Postcard(["-i", "lo", "-w", w, "--stats-interval", "1", "--redis", rs.url(),
                           "--redis-key", "pc:live", "--redis-events", "stats", "--redis-spool",
                           os.path.join(d, "spool"), "tcp", "port", str(port)], stdin=None)
            try:
                pc.wait_stderr("listening on lo")
                line = pc.wait_stderr(": cannot write: ")
                assert pc.p.poll() is None
                assert line == "postcard: %s: cannot write: No space left on device: records " \
                    "are lost until writing works again\n" % w, line

                def failing_stats():
                    for _, rec in R.stream(rs.client(), "pc:live"):
                        f = json.loads(rec)["stats"]["outputs"]["file"]
                        if f["failing"]:
                            return f
                    return None

                f = wait_for(failing_stats, "a stats record in Redis saying the file fails")
                assert f["failed"] >= 1 and f["errors"] >= 1 and f["written"] == 0, f
                assert f["last_error"] == "No space left on device" and f["bytes_lost"] > 0, f
                os.unlink(filler)
                again = pc.wait_stderr(": writing works again; ")
                assert pc.p.poll() is None
                pc.signal(signal.SIGINT)
                st, _, err = pc.finish(timeout=60)
            finally:
                pc.close()
                srv.close()
            assert st == 1, err
            assert err.count(": cannot write: ") == 1 and err.count(": writing works again; ") == 1
            written, failed, _ = records_line(err)
            m = re.search(r"works again; (\d+) records \((\d+) bytes\) were lost", again)
            assert m and int(m.group(1)) == failed, (again, failed)
            assert check_whole_lines(lines_of(w), w) == written > 0
    finally:
        shutil.rmtree(d)


def test_dev_full_writes_nothing_counts_everything_says_it_once():
    """-w /dev/full and stdout on /dev/full: every write fails (ENOSPC): "0 written, N
    failed" where N is what a roomy run writes, one line on stderr when it starts failing
    (not one per buffer: the capture fills several), exit status 1. --version, --check-rules
    and report on a full stdout: exit 1 with the reason."""
    d = tempfile.mkdtemp()
    try:
        cap = big_capture(d, 1)
        st, out, err = run(["-r", cap])
        assert st == 0, err
        n = len(out.splitlines())
        assert len(out) > 3 * (256 << 10), "several buffers"
        for name, args, stdout in (("/dev/full", ["-w", "/dev/full"], subprocess.DEVNULL),
                                   ("stdout", [], "/dev/full")):
            with open(stdout, "wb") if isinstance(stdout, str) else open(os.devnull, "wb") as fh:
                p = subprocess.run([BIN, "-r", cap] + args, stdout=fh, stderr=subprocess.PIPE,
                                   timeout=120)
            err = p.stderr.decode()
            check_sanitizers(err)
            assert p.returncode == 1, err
            assert records_line(err) == (0, n, 0), (records_line(err), n)
            assert err.count("postcard: %s: cannot write: No space left on device" % name) == 1, err
            assert "postcard: %s: %d records could not be written\n" % (name, n) in err, err
        summary = os.path.join(d, "summary.json")
        st, _, err = run(["-q", "-r", os.path.join(PCAPS, "demo.pcapng"), "--summary", summary])
        assert st == 0, err
        for args in (["--version"], ["--check-rules", "-R", os.path.join(C.ROOT, "rules",
                                                                        "default")],
                     ["report", "-o", os.path.join(d, "report"), summary]):
            with open("/dev/full", "wb") as fh:
                p = subprocess.run([BIN] + args, stdout=fh, stderr=subprocess.PIPE, timeout=60)
            assert p.returncode == 1 and \
                p.stderr.decode().endswith("postcard: stdout: No space left on device\n"), \
                (args, p.returncode, p.stderr)
    finally:
        shutil.rmtree(d)


def first_packets(src, dst, k):
    """dst: the first k packets of the capture src."""
    header, pkts = read_pcap(src)
    assert k <= len(pkts), (k, len(pkts))
    write_pcap(dst, header, pkts[:k])


def reference(d, name, cap, k):
    """The lines a run over the first k packets of cap writes to a roomy file, postcard
    started in directory d on d/name (so that the records name the capture as in the run
    they are compared with)."""
    first_packets(cap, os.path.join(d, name), k)
    p = subprocess.run([BIN, "-r", name, "-w", "ref.json"], cwd=d, capture_output=True,
                       timeout=120)
    check_sanitizers(p.stderr.decode())
    assert p.returncode == 0, p.stderr.decode()
    return lines_of(os.path.join(d, "ref.json"))


def ignore_sigpipe():
    """preexec_fn: the child starts with SIGPIPE ignored, as systemd starts its services."""
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)


def cut_after_one_line(d, name, args, is_sigpipe_ignored):
    """postcard -r name (in d) args, stdout a pipe whose reader reads one line and closes it.

    Order: the test waits until postcard sleeps in write(2) on a full pipe (its first buffer
    is larger than the pipe), stops it (SIGSTOP: the write returns what the pipe took), reads
    one line, closes the pipe, lets postcard go on (SIGCONT): its next write meets EPIPE.
    Returns (status, the line read, the pipe's capacity, stderr)."""
    r, w = os.pipe()
    pipe_cap = fcntl.fcntl(r, F_GETPIPE_SZ)
    p = subprocess.Popen([BIN, "-r", name] + args, cwd=d, stdout=w, stderr=subprocess.PIPE,
                         preexec_fn=ignore_sigpipe if is_sigpipe_ignored else None)
    os.close(w)
    try:
        wait_for(lambda: p.poll() is not None or
                 (C.blocked_writing(p.pid, 1) and C.fionread(r) == pipe_cap),
                 "postcard to fill its stdout pipe")
        assert p.poll() is None, "postcard ended: %s" % p.stderr.read().decode()
        p.send_signal(signal.SIGSTOP)
        wait_for(lambda: state_of(p.pid) == "T", "postcard to stop")
        line = b""
        while not line.endswith(b"\n"):
            line += os.read(r, 1)
        os.close(r)
        r = None
        p.send_signal(signal.SIGCONT)
        _, err = p.communicate(timeout=180)
    finally:
        if r is not None:
            os.close(r)
        if p.poll() is None:
            p.kill()
            p.wait()
    err = err.decode()
    check_sanitizers(err)
    return p.returncode, line, pipe_cap, err


def redis_module():
    import test_redis
    atexit.register(shutil.rmtree, test_redis.TMP, True)
    return test_redis


def test_stdout_closed_by_its_reader_ends_the_run_with_redis_flushed():
    """postcard -r CAPTURE --redis URL --redis-events all, stdout a pipe whose reader closes
    it after one line; once as started by a shell, once with SIGPIPE ignored by the parent
    (systemd's way). Each time: exit status 3, "closed by its reader" on stderr, the summary;
    the reading stopped at the packet whose records met EPIPE, and everything produced up to
    there is in Redis: exactly the records a run over those packets alone writes (the stats
    record's outputs counters aside), in order, all sent, none spooled; "written" counts the
    whole lines the pipe took, "failed" the rest, all of them after the reader left."""
    R = redis_module()
    d = tempfile.mkdtemp()
    try:
        cap = big_capture(d, 2)
        for i, ignored in enumerate((False, True)):
            with R.RedisServer() as rs:
                key = "pc:cut:%d" % i
                spool = os.path.join(d, "spool%d" % i)
                st, line, pipe_cap, err = cut_after_one_line(
                    d, "big.pcap", ["--redis", rs.url(), "--redis-key", key, "--redis-events",
                                    "all", "--redis-spool", spool] + list(R.NO_TIMEOUT), ignored)
                got = [rec for _, rec in R.stream(rs.client(), key)]
            what = "SIGPIPE ignored by the parent" if ignored else "SIGPIPE as the shell leaves it"
            assert st == 3, (what, st, err)
            assert "postcard: stdout: closed by its reader (Broken pipe): the input is read no " \
                "further\n" in err, (what, err)
            k = summary_packets(err)
            stats = json.loads(got[-1])
            assert stats["event_type"] == "stats" and stats["stats"]["decoder"]["pkts"] == k
            assert k < len(read_pcap(cap)[1]), "the reading stopped early"
            rd = os.path.join(d, "ref%d" % i)
            os.mkdir(rd)
            ref_data = reference(rd, "big.pcap", cap, k)
            ref = ref_data.decode().splitlines()
            assert len(got) == len(ref), (what, len(got), len(ref))
            for a, b in zip(got, ref):
                ja, jb = json.loads(a), json.loads(b)
                if ja["event_type"] == "stats":  # the counters of the outputs differ
                    del ja["stats"]["outputs"], jb["stats"]["outputs"]
                    assert ja == jb, (what, a, b)
                else:
                    assert a == b, (what, a[:300], b[:300])
            written, failed, cut = records_line(err)
            assert line.decode() == ref[0] + "\n"
            assert written == ref_data[:pipe_cap].count(b"\n"), (what, written)
            assert written + failed == len(ref) and cut == failed, (what, written, failed)
            red = R.summary(err)
            assert red["sent"] == len(ref) and red["spooled"] == 0 and red["dropped"] == 0, red
            out = stats["stats"]["outputs"]
            assert out["file"]["closed_by_reader"] is True and out["file"]["written"] == written
    finally:
        shutil.rmtree(d)


def test_stdout_closed_by_its_reader_with_redis_gone_spools_everything():
    """The same cut with Redis not listening: every record produced up to the stop is kept in
    the spool (the summary's spooled count, the message at exit), exit status 1 (records not
    delivered: a failure says more than the cut), the cut said all the same."""
    R = redis_module()
    d = tempfile.mkdtemp()
    try:
        cap = big_capture(d, 2)
        rs = R.RedisServer()
        rs.stop()  # nothing listens on its port
        spool = os.path.join(d, "spool")
        st, _, _, err = cut_after_one_line(
            d, "big.pcap", ["--redis", rs.url(), "--redis-key", "pc:gone", "--redis-events", "all",
                            "--redis-spool", spool, "--redis-timeout", "200"], False)
        assert st == 1, err
        assert "postcard: stdout: closed by its reader (Broken pipe)" in err, err
        written, failed, cut = records_line(err)
        os.mkdir(os.path.join(d, "ref"))
        n = len(reference(os.path.join(d, "ref"), "big.pcap", cap, summary_packets(err))
                .splitlines())
        assert written + failed == n and cut == failed, (written, failed, n)
        red = R.summary(err)
        assert red["sent"] == 0 and red["spooled"] == n and red["dropped"] == 0, (red, n)
        assert re.search(r"^postcard: redis: %d records not delivered: kept in spool %s/" % (
            n, re.escape(spool)), err, re.M), err
    finally:
        shutil.rmtree(d)


def test_head_1_ends_the_run_cleanly():
    """`postcard -r CAPTURE | head -1` in a shell, as the report has it, and again with
    SIGPIPE ignored (`trap '' PIPE`): postcard's status is 3 (not 141), stderr says why and
    holds the summary, whose written + failed is what a run over the packets read writes."""
    d = tempfile.mkdtemp()
    try:
        cap = big_capture(d, 2)
        for trap in ("", "trap '' PIPE; "):
            p = subprocess.run(["bash", "-c", trap + '"$0" -r big.pcap | head -1; '
                                'echo "status ${PIPESTATUS[0]}" >&2', BIN],
                               cwd=d, capture_output=True, timeout=180)
            err = p.stderr.decode()
            check_sanitizers(err)
            assert err.endswith("status 3\n"), (trap, err)
            assert "postcard: stdout: closed by its reader (Broken pipe)" in err, err
            written, failed, cut = records_line(err)
            rd = tempfile.mkdtemp(dir=d)
            ref = reference(rd, "big.pcap", cap, summary_packets(err)).decode().splitlines()
            assert written + failed == len(ref) and cut == failed and written > 0, \
                (written, failed, len(ref))
            assert p.stdout.decode() == ref[0] + "\n"
    finally:
        shutil.rmtree(d)




if __name__ == "__main__":
    sys.exit(run_suite(globals()))

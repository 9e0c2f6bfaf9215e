#!/usr/bin/env python3
"""postcard's Redis output when Redis is gone, slow or killed, against a real redis-server
(test_redis.RedisServer, never a mock): every record once in a stream, across a run and the
next one; at least once, and counted, in a list; no record dropped on the way to the output's
threads; the spool's files, the summary and the last message agreeing (the counters are
described in test_redis.py). Closes with "integration-redis_outage: N passed, ...".

Redis is killed at chosen points: before postcard's first command, with a batch it has not
read (stopped first), and in the burst at the end of a run, after postcard has read its last
packet (its -w file ends with the final stats record); a restarted Redis keeps what it
acknowledged (appendfsync always: an acknowledged entry is on disk). Redis can also hold
postcard's commands (CLIENT PAUSE WRITE) past the end of the run's flush timeout: postcard is
then seen joining its threads (its main thread sleeps in futex(2)), and Redis is let go.

A capture is fed to postcard -r - piece by piece (Fed) when a test acts on Redis during the
run. What happens in between is made certain, not waited for: Redis is stopped (SIGSTOP)
until postcard has sent a batch it cannot have answered, seen in /proc/net/tcp as bytes Redis
has not read (rx_queue) on its side of a connection; the spool is looked at until a record
is on disk; Redis is asked (XLEN, CLIENT LIST) until postcard has delivered or reconnected.
"""
import atexit
import ctypes
import glob
import json
import os
import platform
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import Counter

import common as C
from common import Skip, run
from test_redis import (NO_TIMEOUT, TMP, RedisServer, RespError, alerts_capture, check_same,
                        file_lines, last_message, postcard_args, postcard_connections,
                        small_capture, stream, summary, unread_by_redis, wired, xlen)


# --- feeding postcard, the spool's files, barriers ------------------------------------------

class Fed:
    """postcard -r - (args), the capture written to its stdin in pieces of whole records, up
    to the piece the test names: feed(n) writes pieces [next, n); finish() writes the rest,
    closes stdin and returns (status, stdout, stderr)."""

    def __init__(self, args, cap, pieces=60):
        with open(cap, "rb") as fh:
            self.pieces = C.pcap_chunks(fh.read(), pieces)
        self.next = 0
        self.pc = C.Postcard(args + ["-r", "-"])

    def feed(self, upto):
        while self.next < min(upto, len(self.pieces)):
            self.pc.feed(self.pieces[self.next])
            self.next += 1

    def finish(self, timeout=180):
        self.feed(len(self.pieces))
        return self.pc.finish(timeout)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.pc.close()


def spool_files(spool):
    return sorted(glob.glob(os.path.join(spool, "*.spool")))


SPOOL_MAGIC = b"postcard-spool 1\n"


def spool_records(spool):
    """(id, record) of every record in the spool's files, oldest first: what the next run
    will send (docs/redis.md, "The spool on disk"). A file without a record fails: none may
    be left behind."""
    out = []
    for path in spool_files(spool):
        with open(path, "rb") as fh:
            data = fh.read()
        assert data.startswith(SPOOL_MAGIC), "%s: not a spool file" % path
        pos, n0 = len(SPOOL_MAGIC), len(out)
        while pos < len(data):
            nl = data.index(b"\n", pos)
            kind, rid, n, _ = data[pos:nl].decode().split(" ")
            assert kind == "R", (path, pos)
            rec = data[nl + 1:nl + 1 + int(n)]
            assert data[nl + 1 + int(n):nl + 2 + int(n)] == b"\n", (path, pos)
            out.append((rid, rec.decode()))
            pos = nl + 2 + int(n)
        assert len(out) > n0, "an empty spool file was left behind: %s" % path
    return out


def id_key(rid):
    ms, seq = rid.split("-")
    return int(ms), int(seq)


# futex(2)'s number on the machines the tests run on (/proc/PID/syscall shows it)
FUTEX_SYSCALL = {"x86_64": 202, "aarch64": 98, "riscv64": 98}.get(platform.machine())


def in_futex(pid):
    """The main thread of pid sleeps in futex(2)."""
    if FUTEX_SYSCALL is None:
        raise Skip("futex(2)'s system call number on %s is not known here" % platform.machine())
    try:
        with open("/proc/%d/syscall" % pid) as fh:
            return fh.read().split()[0] == str(FUTEX_SYSCALL)
    except (OSError, IndexError):
        return False


def joining(pc):
    """Barrier: postcard's main thread waits for the output's threads at the end of the run
    (pthread_join: futex), seen twice a moment apart. After the end of its input, its main
    thread polls (nanosleep) while the output flushes, and sleeps in futex(2) only once the
    flush timeout has passed and it joins the threads."""
    def waits():
        pc._check_alive("before joining its threads")
        if not in_futex(pc.pid):
            return False
        time.sleep(0.005)  # the second look of the same condition
        return in_futex(pc.pid)
    C.wait_for(waits, "postcard to give up flushing and join its output threads")


def run_ended(out):
    """postcard has read its last packet: the -w file ends with the final stats record."""
    try:
        with open(out, "rb") as fh:
            fh.seek(max(0, os.path.getsize(out) - 65536))
            tail = fh.read().decode("utf-8", "replace").splitlines()
    except FileNotFoundError:
        return False
    return bool(tail) and '"event_type":"stats"' in tail[-1]


def stats_redis(out):
    """stats.outputs.redis of the last stats record in the -w file."""
    return [json.loads(l) for l in file_lines(out, kinds=("stats",))][-1]["stats"]["outputs"][
        "redis"]


def same_multiset(got, want, what):
    """Each record exactly as often in got as in want (exactly once, when want has no twins)."""
    g, w = Counter(got), Counter(want)
    if g == w:
        return
    raise AssertionError("%s: %d records, expected %d; %d twice or more, %d missing, %d unknown"
                         % (what, len(got), len(want), sum(1 for k in g if g[k] > w.get(k, 0)),
                            sum(1 for k in w if g.get(k, 0) < w[k]),
                            sum(1 for k in g if k not in w)))


class Frozen:
    """One thread of a running process held still while the others go on: ptrace(2)
    PTRACE_SEIZE then PTRACE_INTERRUPT (waited for: the thread is in a ptrace stop), released
    by PTRACE_DETACH. The thread is found by its name (/proc/PID/task/TID/comm)."""

    SEIZE, INTERRUPT, DETACH, CONT = 0x4206, 0x4207, 17, 7
    WALL = 0x40000000

    def __init__(self, pid, name):
        def named():
            return next((int(t) for t in os.listdir("/proc/%d/task" % pid)
                         if open("/proc/%d/task/%s/comm" % (pid, t)).read().strip() == name),
                        None)
        # a thread names itself once it runs: it may be created and not named yet
        self.tid = C.wait_for(named, "a thread named %s in postcard" % name)
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p,
                                     ctypes.c_void_p]
        self.libc.ptrace.restype = ctypes.c_long

    def _ptrace(self, req):
        if self.libc.ptrace(req, self.tid, None, None) != 0:
            e = ctypes.get_errno()
            if req == self.SEIZE and e in (1, 13):  # EPERM, EACCES: not allowed here
                raise Skip("ptrace is not allowed here: %s" % os.strerror(e))
            raise OSError(e, "ptrace(%#x, %d): %s" % (req, self.tid, os.strerror(e)))

    def __enter__(self):
        # Held still only where it holds no lock: asleep in futex(2) (its idle wait, or waiting
        # for a lock while holding none of the capture's). Caught anywhere else (it may hold
        # the hand-off's mutex, and the capture would wait on that, not on the full buffer),
        # it is let go and caught again.
        self._ptrace(self.SEIZE)
        deadline = time.monotonic() + C.WAIT
        while True:
            self._ptrace(self.INTERRUPT)
            _, status = os.waitpid(self.tid, self.WALL)
            assert os.WIFSTOPPED(status), status
            if in_futex(self.tid):
                return self
            assert time.monotonic() < deadline, "thread %d never caught in futex(2)" % self.tid
            self._ptrace(self.CONT)
            time.sleep(0.001)  # let it run on to its next wait

    def __exit__(self, *exc):
        self._ptrace(self.DETACH)


def on_disk(spool):
    """A spool file holds a record (more than its first line, "postcard-spool 1")."""
    return any(os.path.getsize(f) > len("postcard-spool 1\n") for f in spool_files(spool))


# --- Redis gone, slow, killed: nothing lost, nothing twice -----------------------------------

def test_redis_stopped_mid_run_then_back_exactly_once():
    """Redis shut down (SIGTERM) or killed (SIGKILL) once it has some of the run's records,
    started again (same port; its append-only file, fsynced at every write, keeps what it
    acknowledged) once postcard has put records on disk: every alert once, in order; the
    run's own records went through the spool (spooled), none came from an earlier run."""
    wired()
    for how in (signal.SIGTERM, signal.SIGKILL):
        tmp = tempfile.mkdtemp(dir=TMP)
        with RedisServer(persist=True) as rs:
            args, out, spool = postcard_args(tmp, None, rs.url(), "pc:outage",
                                             "--redis-queue", "50")
            with Fed(args, alerts_capture()) as fed:
                fed.feed(20)
                c = rs.client()
                C.wait_for(lambda: xlen(c, "pc:outage") > 0, "the first alerts in Redis")
                c.close()
                rs.stop(how)
                fed.feed(40)
                C.wait_for(lambda: on_disk(spool), "a record in the spool while Redis is down")
                rs.start()
                st, _, err = fed.finish()
            assert st == 0, err
            want = file_lines(out)
            entries = stream(rs.client(), "pc:outage")
            check_same([rec for _, rec in entries], want, "stream after %s" % how.name)
            s = summary(err)  # the stream grew by what the run says it sent
            assert s["sent"] == len(entries) == len(want), (how.name, s, len(want))
            assert s["spooled"] > 0 and s["replayed"] == 0, (how.name, s)
            assert s["reconnects"] >= 1 and s["dropped"] == 0, (how.name, s)
            assert not spool_files(spool)


def pause_with_a_batch_unread(rs, fed, cycle, reserve=10):
    """Stop Redis (SIGSTOP) with a batch of postcard's in its socket, unread. A stop can also
    catch postcard waiting for a reply that Redis had computed but not yet written (the reply
    to its connection set-up, or to a batch): then no batch comes, so Redis is let go and
    stopped again, with one more piece of the capture each time (whose alerts postcard sends).
    Whether a try finds the state wanted may vary; the state the test goes on from does not."""
    for attempt in range(60):
        rs.pause()
        if fed.next < len(fed.pieces) - reserve:
            fed.feed(fed.next + 1)
        try:
            C.wait_for(lambda: unread_by_redis(rs.port), "a batch", timeout=3)
            return
        except AssertionError:  # not this time: let Redis answer, then try again
            rs.resume()
    raise AssertionError("no batch of postcard's was caught unread by a stopped Redis "
                         "(cycle %d, %d tries)" % (cycle, attempt + 1))


def test_redis_killed_repeatedly_with_replies_in_flight():
    """Three times: Redis is stopped (SIGSTOP) until postcard has sent it a batch, a CLIENT
    KILL is queued behind that batch, and Redis resumes: it applies what it reads of the
    batch, then kills the connection before the replies are written. postcard sends again
    what was not acknowledged, over a new connection, and finds the applied part there."""
    wired()
    tmp = tempfile.mkdtemp(dir=TMP)
    with RedisServer() as rs:
        # a reply never times out here: the connection ends by the kill only
        args, out, _ = postcard_args(tmp, None, rs.url(), "pc:kill", "--redis-queue", "200",
                                     *NO_TIMEOUT)
        with Fed(args, alerts_capture(), pieces=40) as fed:
            c = rs.client()
            fed.feed(4)
            seen = C.wait_for(lambda: postcard_connections(c), "postcard's first connection")
            for cycle in range(3):
                pause_with_a_batch_unread(rs, fed, cycle)
                c.send("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
                rs.resume()
                assert c.reply() >= 1, "postcard's connection was not killed"
                new = C.wait_for(lambda: postcard_connections(c) - seen,
                                 "postcard to connect again (cycle %d)" % cycle)
                seen |= new
            c.close()
            st, _, err = fed.finish()
        assert st == 0, err
        want = file_lines(out)
        check_same([rec for _, rec in stream(rs.client(), "pc:kill")], want,
                   "stream with connections killed")
        s = summary(err)
        assert s["reconnects"] >= 3 and s["retried"] >= 3, s
        assert s["sent"] == len(want) and s["duplicates"] == 0 and s["dropped"] == 0, (s, len(want))


def test_replies_lost_to_a_timeout_are_found_delivered():
    """Redis stopped (SIGSTOP) with a batch in flight: postcard gives the connection up after
    --redis-timeout (Redis's end is then in CLOSE_WAIT with the batch unread), and Redis,
    resumed, applies what it reads of it. After reconnecting postcard reads the stream's last
    ID and does not add those entries again."""
    wired()
    tmp = tempfile.mkdtemp(dir=TMP)
    with RedisServer() as rs:
        args, out, _ = postcard_args(tmp, None, rs.url(), "pc:slow", "--redis-timeout", "150")
        with Fed(args, alerts_capture()) as fed:
            fed.feed(10)
            c = rs.client()
            C.wait_for(lambda: xlen(c, "pc:slow") > 0, "the first alerts in Redis")
            c.close()
            rs.pause()
            fed.feed(25)
            C.wait_for(lambda: unread_by_redis(rs.port, "08"),
                       "postcard to give up a connection whose batch the stopped Redis has "
                       "not read (CLOSE_WAIT, rx_queue > 0)")
            rs.resume()
            st, _, err = fed.finish()
        assert st == 0, err
        want = file_lines(out)
        check_same([rec for _, rec in stream(rs.client(), "pc:slow")], want,
                   "stream after timeouts")
        s = summary(err)
        assert s["reconnects"] >= 1 and s["retried"] >= 1, s
        # what the stalled Redis applied after the timeout is found there, not added twice;
        # this run put it there: sent, not "found already delivered" (an earlier run's)
        assert s["sent"] == len(want) and s["duplicates"] == 0, (s, len(want))


def test_redis_not_up_yet_at_start():
    """A sensor may start before Redis: the output retries in the background, and delivers
    while the capture still runs (stdin still open)."""
    wired()
    tmp = tempfile.mkdtemp(dir=TMP)
    with RedisServer() as rs:
        rs.stop()
        args, out, _ = postcard_args(tmp, None, rs.url(), "pc:late")
        with Fed(args, alerts_capture()) as fed:
            fed.feed(25)
            rs.start()
            c = rs.client()
            C.wait_for(lambda: xlen(c, "pc:late") > 0,
                       "postcard to connect to Redis started after it, and deliver")
            c.close()
            st, _, err = fed.finish()
        assert st == 0, err
        want = file_lines(out)
        check_same([rec for _, rec in stream(rs.client(), "pc:late")], want,
                   "stream of a sensor started first")
        s = summary(err)
        assert s["sent"] == len(want) and s["dropped"] == 0, (s, len(want))


def test_redis_never_reachable_spool_then_next_run_sends_it_first():
    wired()
    tmp = tempfile.mkdtemp(dir=TMP)
    rs = RedisServer()
    rs.stop()  # nothing listens on its port
    args, out, spool = postcard_args(tmp, alerts_capture(), rs.url(), "pc:later",
                                     "--redis-timeout", "200")
    st, _, err = run(args)
    first = file_lines(out)
    assert st == 1, (st, err)
    m = re.search(r"^postcard: redis: (\d+) records not delivered: kept in spool (\S+)/ "
                  r"\(sent first by the next run\)$", err, re.M)
    assert m, err[-2000:]
    assert int(m.group(1)) == len(first) and m.group(2) == spool, (m.groups(), len(first))
    assert spool_files(spool)
    s = summary(err)
    assert s["sent"] == 0 and s["spooled"] == len(first) and s["replayed"] == 0, (s, len(first))
    # the next run, Redis up: the spool first, then its own records
    rs.start()
    try:
        os.unlink(out)
        st, _, err = run(postcard_args(tmp, small_capture(), rs.url(), "pc:later")[0])
        assert st == 0, err
        second = file_lines(out)
        got = [rec for _, rec in stream(rs.client(), "pc:later")]
        check_same(got, first + second, "spool then the new run")
        s = summary(err)
        # its own records go to the spool's tail while the spool is not empty: some, or none
        assert s["replayed"] == len(first) and s["spooled"] <= len(second), (s, len(first))
        assert s["sent"] == len(first) + len(second) and s["duplicates"] == 0, \
            (s, len(first), len(second))
        assert not spool_files(spool)  # the directory stays: it was there before this run
    finally:
        rs.stop()


def test_batch_in_flight_at_exit_is_not_sent_twice_by_the_next_run():
    """Redis stopped (SIGSTOP) at the end of a run with a batch in flight: the run gives up
    after the flush timeout and spools that batch with its stream IDs; Redis, resumed, then
    applies what it reads of it. The next run reads the stream's last ID and sends only what
    is missing: every alert once."""
    wired()
    tmp = tempfile.mkdtemp(dir=TMP)
    with RedisServer() as rs:
        args, out, spool = postcard_args(tmp, None, rs.url(), "pc:exit", "--redis-timeout",
                                         "1000")
        with Fed(args, alerts_capture()) as fed:
            fed.feed(30)
            c = rs.client()
            C.wait_for(lambda: xlen(c, "pc:exit") > 0, "the first alerts in Redis")
            c.close()
            rs.pause()
            fed.feed(45)
            C.wait_for(lambda: unread_by_redis(rs.port), "a batch sent to the stopped Redis")
            st, _, err = fed.finish()
        first = file_lines(out)
        assert st == 1 and "records not delivered: kept in spool" in err, (st, err[-1500:])
        kept = int(re.search(r"redis: (\d+) records not delivered", err).group(1))
        s = summary(err)
        assert s["spooled"] == kept and s["replayed"] == 0, (s, kept)
        rs.resume()
        C.wait_for(lambda: not unread_by_redis(rs.port),
                   "Redis to read what was sent to it while it was stopped")
        applied = len(stream(rs.client(), "pc:exit"))
        assert len(first) - kept < applied < len(first), (applied, kept, len(first))
        os.unlink(out)
        st, _, err = run(postcard_args(tmp, small_capture(), rs.url(), "pc:exit")[0])
        assert st == 0, err
        second = file_lines(out)
        got = [rec for _, rec in stream(rs.client(), "pc:exit")]
        check_same(got, first + second, "stream after a stalled exit and a new run")
        s = summary(err)
        assert s["duplicates"] > 0, "the batch applied after the timeout was not recognised: %s" % s
        assert s["replayed"] == kept and s["spooled"] <= len(second), (s, kept)
        assert s["sent"] + s["duplicates"] == kept + len(second), (s, kept, len(second))
        assert not spool_files(spool)


def test_killed_before_the_first_send_then_the_next_run_sends_the_spool():
    """Redis killed (SIGKILL) once postcard is connected, before its first command: the run's
    alerts all go to the spool, in order; the first batch, sent into the dead connection,
    keeps the stream IDs it was given, the rest has none; every figure says so. The next run,
    Redis back, sends them first: each once, nothing left."""
    wired()
    tmp = tempfile.mkdtemp(dir=TMP)
    with RedisServer(persist=True) as rs:
        args, out, spool = postcard_args(tmp, None, rs.url(), "pc:first", "--redis-timeout", "200")
        with Fed(args, alerts_capture()) as fed:
            c = rs.client()
            C.wait_for(lambda: postcard_connections(c), "postcard's first connection")
            c.close()
            rs.stop(signal.SIGKILL)
            st, _, err = fed.finish()
        first = file_lines(out)
        assert st == 1, (st, err[-1500:])
        kept = spool_records(spool)
        assert [rec for _, rec in kept] == first
        ids = [id_key(rid) for rid, _ in kept if rid != "0-0"]
        assert ids == sorted(set(ids)) and len(ids) <= 512, "IDs not one batch, in order"
        assert all(rid == "0-0" for rid, _ in kept[len(ids):]), "an ID behind a record without"
        s = summary(err)
        assert s["retried"] == len(ids), (s, len(ids))
        assert s["sent"] == 0 and s["spooled"] == len(first) and s["dropped"] == 0, s
        assert s["backlog"] == len(first) and last_message(err) == (len(first), 0, ""), err[-800:]
        rs.start()
        os.unlink(out)
        st, _, err = run(postcard_args(tmp, small_capture(), rs.url(), "pc:first")[0])
        assert st == 0, err
        second = file_lines(out)
        check_same([rec for _, rec in stream(rs.client(), "pc:first")], first + second,
                   "the spool, then the next run's own")
        s = summary(err)
        assert s["replayed"] == len(first) and s["duplicates"] == 0, (s, len(first))
        assert s["sent"] == len(first) + len(second) and s["backlog"] == 0, (s, len(second))
        assert not spool_files(spool)


def test_killed_mid_run_with_a_batch_unread_exactly_once():
    """Redis stopped (SIGSTOP) with a batch of postcard's in its socket, then killed: what it
    had not read of the batch was never applied. The capture reads on (memory, then the
    spool), Redis is started again from its append-only file: postcard sends the batch again
    with the same IDs, finds what got there, then sends the rest. Every alert once, in order,
    and the stream grew by exactly what the run says it sent."""
    wired()
    tmp = tempfile.mkdtemp(dir=TMP)
    with RedisServer(persist=True) as rs:
        args, out, spool = postcard_args(tmp, None, rs.url(), "pc:mid", "--redis-queue", "50",
                                         *NO_TIMEOUT)
        with Fed(args, alerts_capture()) as fed:
            fed.feed(10)
            c = rs.client()
            C.wait_for(lambda: xlen(c, "pc:mid") > 0, "the first alerts in Redis")
            c.close()
            pause_with_a_batch_unread(rs, fed, 0)
            rs.stop(signal.SIGKILL)
            fed.feed(40)
            C.wait_for(lambda: on_disk(spool), "a record in the spool while Redis is down")
            rs.start()
            st, _, err = fed.finish()
        assert st == 0, err
        want = file_lines(out)
        entries = stream(rs.client(), "pc:mid")
        check_same([rec for _, rec in entries], want, "stream after a kill mid-batch")
        s = summary(err)
        assert s["sent"] == len(entries) == len(want) and s["duplicates"] == 0, (s, len(want))
        assert s["retried"] >= 1 and s["spooled"] > 0 and s["dropped"] == 0, s
        assert s["backlog"] == 0 and last_message(err) is None and not spool_files(spool)


def client_pause_write(rs):
    """Redis holds every write command (XADD) until CLIENT UNPAUSE; reads (XINFO) go on. A
    Redis still loading its append-only file answers LOADING: asked again."""
    c = rs.client()

    def paused():
        try:
            return c.call("CLIENT", "PAUSE", str(1000 * C.WAIT * 4), "WRITE") == "OK"
        except RespError as e:
            if str(e).startswith("LOADING"):
                return False
            raise
    C.wait_for(paused, "Redis to take CLIENT PAUSE")
    return c


def test_killed_in_the_exit_burst_then_the_next_run_replays_exactly_once():
    """Redis dies (SIGKILL) in the burst at the end of a run: postcard has read its last
    packet and is flushing its backlog (in memory and in the spool) with a batch Redis has not
    read. Redis comes back at once from its append-only file but holds postcard's writes
    (CLIENT PAUSE WRITE) until postcard's flush timeout has passed; then it either lets them
    go (the batch held is acknowledged) or is killed again (the batch held is lost). postcard
    keeps in the spool exactly what Redis did not acknowledge, with the stream IDs it was
    sent with: the stream and then the spool hold the run's alerts, each once, in order.
    The next run sends the spool first, each record once, and leaves no file behind."""
    wired()
    for end in ("let go", "killed again"):
        tmp = tempfile.mkdtemp(dir=TMP)
        with RedisServer(persist=True) as rs:
            args, out, spool = postcard_args(tmp, None, rs.url(), "pc:burst", "--redis-queue",
                                             "50", "--redis-timeout", str(1000 * C.WAIT * 4))
            with Fed(args, alerts_capture()) as fed:
                fed.feed(10)
                c = rs.client()
                C.wait_for(lambda: xlen(c, "pc:burst") > 0, "the first alerts in Redis")
                c.close()
                pause_with_a_batch_unread(rs, fed, 0)
                fed.feed(len(fed.pieces))
                fed.pc.close_stdin()
                C.wait_for(lambda: run_ended(out), "postcard to read its last packet")
                rs.stop(signal.SIGKILL)  # the batch it had not read is gone
                rs.start()
                c = client_pause_write(rs)
                joining(fed.pc)
                if end == "let go":
                    c.call("CLIENT", "UNPAUSE")
                    c.close()
                else:
                    c.close()
                    rs.stop(signal.SIGKILL)
                st, _, err = fed.finish()
            first = file_lines(out)
            assert st == 1, (end, err[-1500:])
            if rs.p is None:
                rs.start()
            entries = stream(rs.client(), "pc:burst")
            kept = spool_records(spool)
            check_same([rec for _, rec in entries] + [rec for _, rec in kept], first,
                       "the stream, then the spool (%s)" % end)
            s = summary(err)
            assert s["sent"] == len(entries) and s["duplicates"] == 0, (end, s, len(entries))
            assert s["backlog"] == len(kept) and s["dropped"] == 0, (end, s, len(kept))
            assert last_message(err) == (len(kept), 0, ""), (end, err[-800:])
            assert s["retried"] >= 1, (end, s)
            top = id_key(entries[-1][0])  # IDs kept in the spool are above the stream's top
            assert all(id_key(rid) > top for rid, _ in kept if rid != "0-0"), end
            if end == "killed again":  # the batch held at the end went to the spool, IDs kept
                assert kept[0][0] != "0-0", kept[0]
            os.unlink(out)
            st, _, err = run(postcard_args(tmp, small_capture(), rs.url(), "pc:burst")[0])
            assert st == 0, err
            second = file_lines(out)
            got = [rec for _, rec in stream(rs.client(), "pc:burst")]
            check_same(got, first + second, "the next run after a kill in the exit burst (%s)"
                       % end)
            same_multiset(got, first + second, "exactly once (%s)" % end)
            s = summary(err)
            assert s["replayed"] == len(kept) and s["duplicates"] == 0, (end, s, len(kept))
            assert s["sent"] == len(kept) + len(second) and s["backlog"] == 0, (end, s)
            assert not spool_files(spool), end


def test_records_read_back_in_the_exit_window_leave_the_spool():
    """A run that starts with an earlier run's spool while Redis holds every write (CLIENT
    PAUSE WRITE): postcard reads a batch back from the spool (--redis-queue 50: fifty of
    them), sends it and waits; its flush timeout passes (it joins its threads); Redis, let go,
    acknowledges the batch. The run ends with nothing in memory and a spool file partly read
    back: those fifty are in the stream and must leave the spool, or the next run sends them
    again. The third run sends the rest: every record once."""
    wired()
    tmp = tempfile.mkdtemp(dir=TMP)
    rs = RedisServer()
    rs.stop()
    try:
        args, out, spool = postcard_args(tmp, alerts_capture(), rs.url(), "pc:window",
                                         "--redis-timeout", "200")
        st, _, err = run(args)
        first = file_lines(out)
        assert st == 1 and [rec for _, rec in spool_records(spool)] == first, err[-1500:]
        rs.start()
        c = client_pause_write(rs)
        os.unlink(out)
        args, out, _ = postcard_args(tmp, None, rs.url(), "pc:window", "--redis-queue", "50",
                                     "--redis-timeout", str(1000 * C.WAIT * 4))
        with C.Postcard(args + ["-r", "-"]) as pc:
            with open(small_capture(), "rb") as fh:
                pc.feed(fh.read())
            pc.close_stdin()
            C.wait_for(lambda: run_ended(out), "postcard to read its last packet")
            joining(pc)
            c.call("CLIENT", "UNPAUSE")
            st, _, err = pc.finish()
        second = file_lines(out)
        assert st == 1, err[-1500:]
        entries = stream(c, "pc:window")
        kept = spool_records(spool)
        assert [rec for _, rec in entries] == first[:50], len(entries)
        check_same([rec for _, rec in entries] + [rec for _, rec in kept], first + second,
                   "the stream, then the spool")
        s = summary(err)
        assert s["sent"] == 50 and s["replayed"] == 50 and s["duplicates"] == 0, s
        assert s["backlog"] == len(kept) and last_message(err) == (len(kept), 0, ""), err[-800:]
        os.unlink(out)
        st, _, err = run(postcard_args(tmp, small_capture(), rs.url(), "pc:window")[0])
        assert st == 0, err
        third = file_lines(out)
        got = [rec for _, rec in stream(c, "pc:window")]
        check_same(got, first + second + third, "three runs")
        s = summary(err)
        assert s["replayed"] == len(kept) and s["duplicates"] == 0, (s, len(kept))
        assert s["sent"] == len(kept) + len(third), (s, len(kept), len(third))
        assert not spool_files(spool)
    finally:
        rs.stop()


def test_handoff_waits_instead_of_dropping_while_redis_is_up():
    """The capture never drops a record on its way to the output's threads: with the ingest
    thread held still (ptrace) while the capture writes more than a hand-off buffer holds
    (every record of a 20 MiB capture, many of them written at its end, when the flows
    close), the capture waits for it: its main thread sleeps in futex(2) before the run's
    final stats record. Let go, every record reaches Redis once, and the stats say the
    capture waited."""
    wired()
    tmp = tempfile.mkdtemp(dir=TMP)
    with RedisServer() as rs:
        args, out, _ = postcard_args(tmp, None, rs.url(), "pc:handoff", *NO_TIMEOUT,
                                     events="all")
        with Fed(args, alerts_capture(), pieces=200) as fed:
            c = rs.client()
            C.wait_for(lambda: postcard_connections(c), "postcard's first connection")
            c.close()
            with Frozen(fed.pc.pid, "pc-redis-in"):
                # Fed from a thread: the capture may fill the hand-off while reading (which
                # records come before the end depends on the capture) and then wait there,
                # reading no more; at the end of the input the flows close and records come.
                def feed_all():
                    fed.feed(len(fed.pieces))
                    fed.pc.close_stdin()
                feeder = threading.Thread(target=feed_all)
                feeder.start()

                def blocked_or_ended():
                    if run_ended(out):
                        return "ended"
                    if not in_futex(fed.pc.pid):
                        return False
                    time.sleep(0.005)  # the second look of the same condition
                    return in_futex(fed.pc.pid) and not run_ended(out) and "waits"
                how = C.wait_for(blocked_or_ended,
                                 "the capture to wait for the ingest thread held still")
            feeder.join(C.WAIT)  # let go, the capture reads the rest
            assert not feeder.is_alive(), "postcard did not read the rest of its input"
            st, _, err = fed.finish()
        assert st == 0, err[-1500:]
        want = file_lines(out, kinds=None)
        assert sum(len(l) + 4 for l in want) > 16 << 20, "less than a hand-off buffer"
        got = [rec for _, rec in stream(rs.client(), "pc:handoff")]
        check_same(got, want, "every record through a full hand-off")
        s = summary(err)
        assert s["sent"] == len(want) and s["dropped"] == 0, (s, len(want))
        assert how == "waits", "the run ended while the ingest thread was held"
        assert stats_redis(out)["handoff_waits"] >= 1


def test_list_killed_mid_batch_at_least_once_counted():
    """A list, Redis stopped with a batch of postcard's unread, then killed and started again
    from its append-only file: the batch is pushed again; what Redis had applied of it is in
    the list twice (at least once, docs/redis.md), never more than the replies lost; every
    record is there, first seen in order, and `sent` counts each record once."""
    wired()
    tmp = tempfile.mkdtemp(dir=TMP)
    with RedisServer(persist=True) as rs:
        args, out, spool = postcard_args(tmp, None, rs.url(), "pc:klist", "--redis-mode", "list",
                                         "--redis-push", "rpush", "--redis-queue", "50",
                                         *NO_TIMEOUT)
        with Fed(args, alerts_capture()) as fed:
            fed.feed(10)
            c = rs.client()
            C.wait_for(lambda: c.call("LLEN", "pc:klist") > 0, "the first alerts in Redis")
            c.close()
            pause_with_a_batch_unread(rs, fed, 0)
            rs.stop(signal.SIGKILL)
            fed.feed(40)
            C.wait_for(lambda: on_disk(spool), "a record in the spool while Redis is down")
            rs.start()
            st, _, err = fed.finish()
        assert st == 0, err
        want = file_lines(out)
        got = [x.decode() for x in rs.client().call("LRANGE", "pc:klist", 0, -1)]
        assert list(dict.fromkeys(got)) == want, "a record missing, or out of order"
        s = summary(err)
        assert s["sent"] == len(want) and s["retried"] >= 1 and s["dropped"] == 0, s
        assert len(got) - len(want) <= s["retried"], (len(got), len(want), s)


def test_spool_cap_drops_the_oldest_and_says_so_once():
    """A spool capped at 1 MiB under a long path, Redis unreachable, every record of a 20 MiB
    capture with --redis-queue 20000 (memory at exit holds many times the cap): the spool
    stays within its cap, also with what memory puts in front at exit; the summary, its
    backlog line, the last message and the files agree; the records dropped are the oldest
    (the spool's during the run; at exit memory's, older still), counted once and named once,
    in a last message that is whole; no empty file is left."""
    wired()
    tmp = tempfile.mkdtemp(dir=TMP)
    rs = RedisServer()
    rs.stop()
    parent = os.path.join(tmp, "a-spool-directory-with-a-long-name-" * 5)
    os.makedirs(parent)
    args, out, _ = postcard_args(tmp, alerts_capture(), rs.url(), "pc:cap", "--redis-spool-max",
                                 "1", "--redis-queue", "20000", "--redis-timeout", "100",
                                 events="all")
    spool = os.path.join(parent, "spool")
    args[args.index("--redis-spool") + 1] = spool
    st, _, err = run(args)
    assert st == 1, err[-1500:]
    produced = file_lines(out, kinds=None)
    kept = spool_records(spool)
    s = summary(err)
    assert s["sent"] == 0 and s["spooled"] == len(produced), (s, len(produced))
    assert s["backlog"] == len(kept) > 0 and len(kept) + s["dropped"] == len(produced), \
        (s, len(kept), len(produced))
    # kept: the newest of memory (the first 20000 records), then the newest of the spool
    in_memory = set(produced[:20000])
    spooled = [rec for _, rec in kept if rec not in in_memory]
    from_memory = [rec for _, rec in kept][:len(kept) - len(spooled)]
    assert spooled == produced[len(produced) - len(spooled):], "not the newest of the spool"
    assert from_memory == produced[20000 - len(from_memory):20000], "not the newest of memory"
    line = [l for l in err.splitlines() if l.startswith("postcard: redis:")]
    assert len(line) == 1 and len(line[0]) < 256 + len("postcard: "), line
    assert last_message(err) == (len(kept), s["dropped"],
                                 "%d oldest, over the spool cap" % s["dropped"]), line
    assert err.count("over the spool cap") == 1, err[-2000:]
    assert "kept in %s/ at exit" % spool in err  # the whole path in the summary
    size = sum(os.path.getsize(f) for f in spool_files(spool))
    assert size <= (1 << 20) + (64 << 10) + 65536, size


if __name__ == "__main__":
    atexit.register(shutil.rmtree, TMP, True)
    sys.exit(C.run_suite(globals()))

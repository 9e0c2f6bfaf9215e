#!/usr/bin/env python3
"""postcard's Redis output against a real redis-server (never a mock).

Each test starts its own redis-server on a free loopback port, in a temporary directory
(--save '' --appendonly no, unless the test needs the data to survive a restart), runs
$BUILD/postcard with the file output and --redis side by side, and compares: every record
the file output has must be in Redis with the same bytes, in the same order, exactly once
(streams, also across a Redis outage, a Redis killed with replies in flight, and the next
run), at least once for lists, and as published for a subscriber (channels). Runs as
tests/integration.py does (test_* functions, "ok - / not ok - / skip -" lines, sanitizer
reports checked), closing with "integration-redis: N passed, N failed, N skipped".
"""
import atexit
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import integration as I  # noqa: E402
from integration import BIN, PCAPS, ROOT, SAN_MARKERS, Skip  # noqa: E402

SAN_MARKERS = SAN_MARKERS + ("WARNING: ThreadSanitizer",)  # a -fsanitize=thread build too
CONSUMER = os.path.join(ROOT, "docs", "examples", "redis-consumer.py")
TMP = tempfile.mkdtemp(prefix="postcard-redis-")


def run(args, **kw):
    """integration.run, and no ThreadSanitizer report either."""
    st, out, err = I.run(args, **kw)
    assert "ThreadSanitizer" not in err, "ThreadSanitizer report:\n" + err[-3000:]
    return st, out, err


# --- a RESP client, enough for the checks ------------------------------------------------

class RespError(Exception):
    pass


class Resp:
    def __init__(self, port, user=None, password=None, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.f = self.sock.makefile("rb")
        if password:
            self.call("AUTH", *([user] if user else []), password)

    def send(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(out))

    def reply(self):
        line = self.f.readline()
        if not line.endswith(b"\r\n"):
            raise ConnectionError("closed")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RespError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            return None if int(rest) < 0 else self.f.read(int(rest) + 2)[:-2]
        if kind == b"*":
            return None if int(rest) < 0 else [self.reply() for _ in range(int(rest))]
        raise ValueError(line)

    def call(self, *args):
        self.send(*args)
        return self.reply()

    def close(self):
        self.sock.close()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """redis-server on 127.0.0.1:port in its own directory; start, stop, start again."""

    def __init__(self, *args, persist=False, password=None):
        if shutil.which("redis-server") is None:
            raise Skip("redis-server is not installed (make deps)")
        self.dir = tempfile.mkdtemp(dir=TMP)
        self.port = free_port()
        self.password = password
        self.args = ["--appendonly", "yes", "--appendfsync", "always"] if persist else \
            ["--appendonly", "no"]
        self.args += list(args)
        if password:
            self.args += ["--requirepass", password]
        self.p = None
        self.start()

    def start(self):
        self.p = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--dir", self.dir, "--logfile", os.path.join(self.dir, "redis.log")] + self.args,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t0 = time.time()
        while time.time() - t0 < 10:
            try:
                self.client().call("PING")
                return
            except (OSError, ConnectionError, RespError):
                time.sleep(0.02)
        raise AssertionError("redis-server did not start on port %d" % self.port)

    def client(self):
        return Resp(self.port, password=self.password)

    def stop(self, how=signal.SIGKILL):
        if self.p is not None:
            self.p.send_signal(how)
            self.p.wait(timeout=30)
            self.p = None

    def url(self, cred=""):
        return "redis://%s127.0.0.1:%d" % (cred, self.port)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


# --- captures and records ------------------------------------------------------------------

_capture = []


def alerts_capture():
    """A capture with many alerts: the project's captures and the corpus, replicated with
    new addresses (tests/mkbench.py) to about 20 MiB; built once per run."""
    if not _capture:
        inputs = sorted(glob.glob(os.path.join(PCAPS, "*.pcap")) +
                        glob.glob(os.path.join(I.CORPUS, "*", "*.pcap")))
        path = os.path.join(TMP, "alerts.pcap")
        subprocess.run([sys.executable, os.path.join(ROOT, "tests", "mkbench.py"), path, "20"]
                       + inputs, check=True, capture_output=True)
        _capture.append(path)
    return _capture[0]


def small_capture():
    return os.path.join(PCAPS, "demo.pcapng")


def file_lines(path, kinds=("alert",)):
    """The records of the file output, as exact strings (no newline), of the given types."""
    with open(path, encoding="utf-8") as fh:
        lines = [l.rstrip("\n") for l in fh]
    return [l for l in lines if kinds is None or json.loads(l)["event_type"] in kinds]


def stream(r, key):
    """(id, record) of each entry of a stream, oldest first."""
    out = []
    for eid, fields in r.call("XRANGE", key, "-", "+"):
        f = dict(zip(fields[::2], fields[1::2]))
        assert list(f) == [b"record"], fields
        out.append((eid.decode(), f[b"record"].decode()))
    return out


def check_same(got, want, what):
    """got == want, with a useful message: first difference, duplicates, missing."""
    if got == want:
        return
    dup = len(got) - len(set(got))
    missing = len(set(want) - set(got))
    first = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
    raise AssertionError("%s: %d records, expected %d (%d duplicated, %d missing); first "
                         "difference at %d:\n  got  %s\n  want %s" % (
                             what, len(got), len(want), dup, missing, first,
                             got[first][:200] if first < len(got) else "-",
                             want[first][:200] if first < len(want) else "-"))


def summary(err):
    """The Redis line of the summary at exit, as numbers."""
    m = re.search(r"^  redis: +(\d+) sent to .*, (\d+) spooled, (\d+) replayed, (\d+) dropped, "
                  r"(\d+) reconnects(?:, (\d+) found already delivered)?$", err, re.M)
    assert m, "no redis line in the summary at exit (main.c: out->summary):\n" + err[-2000:]
    keys = ("sent", "spooled", "replayed", "dropped", "reconnects", "duplicates")
    return {k: int(v or 0) for k, v in zip(keys, m.groups())}


def wired():
    """Skip until main.c has the --redis options."""
    p = subprocess.run([BIN, "--redis-mode", "nonsense"], capture_output=True, timeout=30)
    if b"unrecognized option" in p.stderr or b"unknown option" in p.stderr:
        raise Skip("main.c has no --redis options yet")


def postcard_args(tmp, cap, url, key, *extra, events="alert"):
    spool = os.path.join(tmp, "spool")
    out = os.path.join(tmp, "out.json")
    return ["-w", out, "--redis", url, "--redis-key", key, "--redis-events", events,
            "--redis-spool", spool] + list(extra) + (["-r", cap] if cap else []), out, spool


def run_fed(args, cap, chunks=60, delay=0.05, at=None, timeout=180):
    """postcard -r - with the capture written to its stdin in chunks, delay apart;
    at: {chunk index: function} called before that chunk. Returns (status, stdout, stderr)."""
    p = subprocess.Popen([BIN] + args + ["-r", "-"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out_chunks = []
    reader = threading.Thread(target=lambda: out_chunks.append(p.stdout.read()))
    err_chunks = []
    ereader = threading.Thread(target=lambda: err_chunks.append(p.stderr.read()))
    reader.start()
    ereader.start()
    with open(cap, "rb") as fh:
        data = fh.read()
    step = len(data) // chunks + 1
    for i in range(chunks):
        if at and i in at:
            at[i]()
        p.stdin.write(data[i * step:(i + 1) * step])
        p.stdin.flush()
        time.sleep(delay)
    p.stdin.close()
    p.wait(timeout=timeout)
    reader.join()
    ereader.join()
    err = err_chunks[0].decode("utf-8", "replace")
    for m in SAN_MARKERS:
        assert m not in err, "sanitizer report:\n" + err[-3000:]
    return p.returncode, out_chunks[0].decode("utf-8", "replace"), err


def spool_files(spool):
    return sorted(glob.glob(os.path.join(spool, "*.spool")))


# --- every mode: every alert, identical, in order -----------------------------------------

def test_stream_has_every_alert_identical_in_order():
    wired()
    tmp = tempfile.mkdtemp(dir=TMP)
    with RedisServer() as rs:
        args, out, spool = postcard_args(tmp, alerts_capture(), rs.url(), "pc:alerts")
        st, _, err = run(args)
        assert st == 0, err
        want = file_lines(out)
        assert len(want) > 1000, "only %d alerts in the capture" % len(want)
        entries = stream(rs.client(), "pc:alerts")
        check_same([rec for _, rec in entries], want, "stream")
        s = summary(err)
        assert s["sent"] == len(want) and s["dropped"] == 0 and s["spooled"] == 0, s
        assert not os.path.exists(spool), "an empty spool directory was left behind"


def test_stream_maxlen_trims_approximately():
    wired()
    tmp = tempfile.mkdtemp(dir=TMP)
    with RedisServer() as rs:
        args, out, _ = postcard_args(tmp, alerts_capture(), rs.url(), "pc:trim",
                                     "--redis-maxlen", "300")
        st, _, err = run(args)
        assert st == 0, err
        want = file_lines(out)
        entries = stream(rs.client(), "pc:trim")
        # MAXLEN ~ trims whole macro nodes: at least 300 kept, far fewer than sent
        assert 300 <= len(entries) < len(want), (len(entries), len(want))
        check_same([rec for _, rec in entries], want[-len(entries):], "trimmed stream")


def test_list_lpush_and_rpush():
    wired()
    for push in ("lpush", "rpush"):
        tmp = tempfile.mkdtemp(dir=TMP)
        with RedisServer() as rs:
            args, out, _ = postcard_args(tmp, alerts_capture(), rs.url(), "pc:list",
                                         "--redis-mode", "list", "--redis-push", push)
            st, _, err = run(args)
            assert st == 0, err
            got = [x.decode() for x in rs.client().call("LRANGE", "pc:list", 0, -1)]
            if push == "lpush":  # the newest at the head
                got.reverse()
            check_same(got, file_lines(out), "list (%s)" % push)


def test_channel_subscriber_gets_every_alert():
    wired()
    tmp = tempfile.mkdtemp(dir=TMP)
    with RedisServer() as rs:
        sub = rs.client()
        sub.send("SUBSCRIBE", "pc:chan")
        assert sub.reply()[0] == b"subscribe"
        got = []

        def listen():
            sub.sock.settimeout(1.0)
            while True:
                try:
                    m = sub.reply()
                except (socket.timeout, OSError, ConnectionError, ValueError):
                    return
                if m[0] == b"message":
                    got.append(m[2].decode())

        th = threading.Thread(target=listen)
        th.start()
        args, out, _ = postcard_args(tmp, alerts_capture(), rs.url(), "pc:chan",
                                     "--redis-mode", "channel")
        st, _, err = run(args)
        assert st == 0, err
        th.join(timeout=30)
        check_same(got, file_lines(out), "channel")


def test_every_record_type_with_events_all():
    """--redis-events all: flow, mail, tls, alert and the stats record, as in the file."""
    wired()
    tmp = tempfile.mkdtemp(dir=TMP)
    with RedisServer() as rs:
        args, out, _ = postcard_args(tmp, small_capture(), rs.url(), "pc:all", events="all")
        st, _, err = run(args)
        assert st == 0, err
        want = file_lines(out, kinds=None)
        got = [rec for _, rec in stream(rs.client(), "pc:all")]
        assert {json.loads(l)["event_type"] for l in got} >= {"flow", "mail", "tls", "alert"}
        check_same(got, want, "all records")


def test_stats_record_counts_redis():
    wired()
    tmp = tempfile.mkdtemp(dir=TMP)
    with RedisServer() as rs:
        args, out, _ = postcard_args(tmp, small_capture(), rs.url(), "pc:st",
                                     events="alert,stats")
        st, _, err = run(args)
        assert st == 0, err
        stats = [json.loads(l) for l in file_lines(out, kinds=("stats",))]
        assert stats, "no stats record"
        red = stats[-1]["stats"]["outputs"]["redis"]
        for k in ("sent", "queued", "spooled", "replayed", "dropped", "reconnects", "in_flight",
                  "spool_bytes", "last_error", "connected"):
            assert k in red, (k, red)
        assert red["connected"] is True and red["dropped"] == 0, red
        got = [json.loads(rec) for _, rec in stream(rs.client(), "pc:st")]
        assert got[-1]["event_type"] == "stats"


# --- Redis gone, slow, killed: nothing lost, nothing twice -----------------------------------

def test_redis_stopped_mid_run_then_back_exactly_once():
    """Redis shut down (SIGTERM) or killed (SIGKILL) a third of the way, started again two
    thirds of the way (same port; its append-only file, fsynced at every write, keeps what it
    acknowledged): every alert once, in order; the summary counts the spool's part."""
    wired()
    for how in (signal.SIGTERM, signal.SIGKILL):
        tmp = tempfile.mkdtemp(dir=TMP)
        with RedisServer(persist=True) as rs:
            args, out, spool = postcard_args(tmp, None, rs.url(), "pc:outage",
                                             "--redis-queue", "50")
            st, _, err = run_fed(args, alerts_capture(), at={
                20: lambda: rs.stop(how), 40: rs.start})
            assert st == 0, err
            want = file_lines(out)
            entries = stream(rs.client(), "pc:outage")
            check_same([rec for _, rec in entries], want, "stream after %s" % how.name)
            s = summary(err)
            assert s["sent"] + s["duplicates"] == len(want), (how.name, s, len(want))
            assert s["spooled"] > 0 and s["replayed"] == s["spooled"], (how.name, s)
            assert s["reconnects"] >= 1 and s["dropped"] == 0, (how.name, s)
            assert not spool_files(spool)


def test_redis_killed_repeatedly_with_replies_in_flight():
    """The server kills postcard's connection again and again mid-pipeline (CLIENT KILL):
    batches applied whose replies were lost are sent again, and found already there."""
    wired()
    tmp = tempfile.mkdtemp(dir=TMP)
    with RedisServer() as rs:
        stop = []

        def killer():
            c = rs.client()
            while not stop:
                try:
                    c.call("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
                except (RespError, OSError):
                    pass
                time.sleep(0.01)

        th = threading.Thread(target=killer)
        args, out, _ = postcard_args(tmp, None, rs.url(), "pc:kill", "--redis-queue", "200")
        st, _, err = run_fed(args, alerts_capture(), chunks=40, delay=0.03,
                             at={1: th.start})
        stop.append(1)
        th.join()
        assert st == 0, err
        want = file_lines(out)
        check_same([rec for _, rec in stream(rs.client(), "pc:kill")], want,
                   "stream with connections killed")
        s = summary(err)
        assert s["reconnects"] >= 3, s


def test_replies_lost_to_a_timeout_are_found_delivered():
    """Redis stalls (DEBUG SLEEP) longer than --redis-timeout with a batch in flight:
    postcard gives the connection up, Redis then applies the batch; after reconnecting
    postcard reads the stream's last ID and does not add those entries again."""
    wired()
    tmp = tempfile.mkdtemp(dir=TMP)
    with RedisServer("--enable-debug-command", "local") as rs:
        def stall():
            c = rs.client()
            c.send("DEBUG", "SLEEP", "0.6")  # the reply is not awaited
        args, out, _ = postcard_args(tmp, None, rs.url(), "pc:slow", "--redis-timeout", "150")
        st, _, err = run_fed(args, alerts_capture(), chunks=60, delay=0.05,
                             at={i: stall for i in range(10, 55, 9)})
        assert st == 0, err
        want = file_lines(out)
        check_same([rec for _, rec in stream(rs.client(), "pc:slow")], want,
                   "stream after timeouts")
        s = summary(err)
        assert s["reconnects"] >= 1, s
        assert s["duplicates"] > 0, "no batch was found applied after a timeout: %s" % s


def test_redis_not_up_yet_at_start():
    """A sensor may start before Redis: the output retries in the background."""
    wired()
    tmp = tempfile.mkdtemp(dir=TMP)
    with RedisServer() as rs:
        rs.stop()
        args, out, _ = postcard_args(tmp, None, rs.url(), "pc:late")
        st, _, err = run_fed(args, alerts_capture(), at={25: rs.start})
        assert st == 0, err
        check_same([rec for _, rec in stream(rs.client(), "pc:late")], file_lines(out),
                   "stream of a sensor started first")


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
    assert summary(err)["sent"] == 0
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
        assert s["replayed"] == len(first), s
        assert not spool_files(spool)  # the directory stays: it was there before this run
    finally:
        rs.stop()


def test_batch_in_flight_at_exit_is_not_sent_twice_by_the_next_run():
    """Redis stalls at the end of a run with a batch in flight: the run gives up after the
    flush timeout and spools that batch with its stream IDs; Redis then applies it. The next
    run reads the stream's last ID and sends only what is missing: every alert once."""
    wired()
    tmp = tempfile.mkdtemp(dir=TMP)
    with RedisServer("--enable-debug-command", "local") as rs:
        def stall():
            rs.client().send("DEBUG", "SLEEP", "8")
        args, out, spool = postcard_args(tmp, None, rs.url(), "pc:exit", "--redis-timeout",
                                         "1000")
        st, _, err = run_fed(args, alerts_capture(), chunks=60, delay=0.03, at={45: stall})
        first = file_lines(out)
        assert st == 1 and "records not delivered: kept in spool" in err, (st, err[-1500:])
        time.sleep(9)  # Redis wakes and applies what was sent before the timeout
        applied = len(stream(rs.client(), "pc:exit"))
        assert 0 < applied < len(first), (applied, len(first))
        os.unlink(out)
        st, _, err = run(postcard_args(tmp, small_capture(), rs.url(), "pc:exit")[0])
        assert st == 0, err
        got = [rec for _, rec in stream(rs.client(), "pc:exit")]
        check_same(got, first + file_lines(out), "stream after a stalled exit and a new run")
        s = summary(err)
        assert s["duplicates"] > 0, "the batch applied after the timeout was not recognised: %s" % s


def test_spool_cap_drops_the_oldest_and_says_so():
    wired()
    tmp = tempfile.mkdtemp(dir=TMP)
    rs = RedisServer()
    rs.stop()
    args, out, spool = postcard_args(tmp, alerts_capture(), rs.url(), "pc:cap",
                                     "--redis-spool-max", "1", "--redis-queue", "10",
                                     "--redis-timeout", "100")
    st, _, err = run(args)
    assert st == 1, err
    m = re.search(r"redis: (\d+) records not delivered: kept in spool .*; (\d+) dropped "
                  r"\((\d+) oldest, over the spool cap", err)
    assert m, err[-2000:]
    kept, dropped = int(m.group(1)), int(m.group(2))
    assert kept + dropped == len(file_lines(out)), (kept, dropped)
    size = sum(os.path.getsize(f) for f in spool_files(spool))
    assert size <= 1024 * 1024 + 64 * 1024 + 65536, size


# --- authentication and settings --------------------------------------------------------------

def test_password_and_acl_user():
    wired()
    with RedisServer(password="pc-secret-1") as rs:
        c = rs.client()
        c.call("ACL", "SETUSER", "sensor", "on", ">pc-secret-2", "resetkeys", "~pc:*",
               "-@all", "+xadd", "+xinfo|stream")
        for cred, key in ((":pc-secret-1@", "pc:pw"), ("sensor:pc-secret-2@", "pc:acl")):
            tmp = tempfile.mkdtemp(dir=TMP)
            args, out, _ = postcard_args(tmp, small_capture(), rs.url(cred), key)
            st, _, err = run(args)
            assert st == 0, err
            check_same([rec for _, rec in stream(c, key)], file_lines(out), key)
            assert "pc-secret" not in err


def test_refused_credentials_exit_1_without_the_password():
    wired()
    with RedisServer(password="pc-secret-1") as rs:
        rs.client().call("ACL", "SETUSER", "sensor", "on", ">pc-secret-2", "~*", "+@all")
        cases = (("", "NOAUTH"), (":pc-wrong-9@", "authentication refused"),
                 ("sensor:pc-wrong-8@", "authentication refused"),
                 ("nobody:pc-secret-2@", "authentication refused"))
        for cred, needle in cases:
            tmp = tempfile.mkdtemp(dir=TMP)
            args, out, spool = postcard_args(tmp, small_capture(), rs.url(cred), "pc:x")
            st, so, err = run(args)
            assert st == 1, (cred, st, err)
            line = [l for l in err.splitlines() if l.startswith("postcard: ")]
            assert len(line) == 1 and needle in line[0], (cred, err)
            assert "pc-wrong" not in err + so and "pc-secret" not in err + so, err
            assert not os.path.exists(out) or os.path.getsize(out) == 0
            assert not os.path.exists(spool)


def test_startup_errors_that_will_not_change():
    wired()
    with RedisServer() as rs:
        c = rs.client()
        c.call("SET", "pc:string", "x")
        for url, key, needle in ((rs.url() + "/99", "k", "DB index is out of range"),
                                 (rs.url(), "pc:string", "other than a stream"),
                                 ("redis://127.0.0.1:99999", "k", "port"),
                                 ("rediss://127.0.0.1", "k", "TLS")):
            tmp = tempfile.mkdtemp(dir=TMP)
            st, _, err = run(postcard_args(tmp, small_capture(), url, key)[0])
            assert st == 1 and needle in err, (url, st, err)


def test_unix_socket_and_database():
    wired()
    d = tempfile.mkdtemp(dir=TMP)
    sock = os.path.join(d, "redis.sock")
    with RedisServer("--unixsocket", sock, "--unixsocketperm", "700") as rs:
        tmp = tempfile.mkdtemp(dir=TMP)
        args, out, _ = postcard_args(tmp, small_capture(), "unix://%s?db=3" % sock, "pc:unix")
        st, _, err = run(args)
        assert st == 0, err
        c = rs.client()
        c.call("SELECT", 3)
        check_same([rec for _, rec in stream(c, "pc:unix")], file_lines(out), "unix socket db 3")


def test_two_sensors_cannot_share_a_spool():
    wired()
    tmp = tempfile.mkdtemp(dir=TMP)
    with RedisServer() as rs:
        args, _, spool = postcard_args(tmp, None, rs.url(), "pc:a")
        os.makedirs(spool)  # an existing spool is locked at start
        holder = subprocess.Popen([BIN] + args + ["-r", "-"], stdin=subprocess.PIPE,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(1.0)
            st, _, err = run(["-w", os.path.join(tmp, "b.json"), "--redis", rs.url(),
                              "--redis-key", "pc:b", "--redis-spool", spool,
                              "-r", small_capture()])
            assert st == 1 and "in use by another postcard" in err, (st, err)
        finally:
            holder.stdin.close()
            holder.wait(timeout=30)


# --- the example consumer ---------------------------------------------------------------------

def test_example_consumer_reads_with_a_group_and_acks():
    wired()
    tmp = tempfile.mkdtemp(dir=TMP)
    with RedisServer() as rs:
        args, out, _ = postcard_args(tmp, alerts_capture(), rs.url(), "pc:soc")
        st, _, err = run(args)
        assert st == 0, err
        p = subprocess.run([sys.executable, CONSUMER, "--port", str(rs.port), "--group", "soc",
                            "--consumer", "c1", "--once", "pc:soc"],
                           capture_output=True, timeout=120)
        assert p.returncode == 0, p.stderr.decode()
        check_same(p.stdout.decode().splitlines(), file_lines(out), "consumer output")
        pending = rs.client().call("XPENDING", "pc:soc", "soc")
        assert pending[0] == 0, pending


if __name__ == "__main__":
    atexit.register(shutil.rmtree, TMP, True)
    sys.exit(I.run_suite(globals(), "integration-redis"))

#!/usr/bin/env python3
"""postcard's Redis output against a real redis-server (never a mock).

Each test starts its own redis-server on a free loopback port, in a temporary directory
(--save '' --appendonly no, unless the test needs the data to survive a restart), runs
$BUILD/postcard with the file output and --redis side by side, and compares: every record
the file output has must be in Redis with the same bytes, in the same order, exactly once
(streams), at least once for lists, and as published for a subscriber (channels). Runs as every
suite does (tests/integration/common.py: test_* functions, "ok - / not ok - / skip -" lines,
sanitizer reports checked), closing with "integration-redis: N passed, N failed, N skipped".

The counters of the summary's redis line (docs/redis.md) are checked by what they mean:
  sent        records this run put in Redis: acknowledged, or (a stream) found there after this
              run sent them and lost the reply; this run's own and an earlier run's. A stream
              grows by exactly `sent` during a run;
  duplicates  ("found already delivered") records an earlier run left in the spool that the
              stream already held (that run's last batch got there, its reply did not): not
              added twice, not counted in sent;
  retried     ("retried after a lost reply") replies lost with a connection;
  replayed    records an earlier run left in the spool that this run delivered (sent, or
              found already delivered); never this run's own records;
  spooled     this run's own records handed to the spool (while Redis was slow or gone, or at
              exit), each counted once;
  backlog     (the "redis backlog" line and the last message) what the spool's files hold at
              exit: read here record by record, as the next run will.
So every record delivered is counted once in sent + duplicates, and a run's records are
sent + backlog + dropped.

Redis gone, slow or killed at chosen points, the spool and the hand-off are tested in
test_redis_outage.py, with the helpers here.
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

import common as C
from common import BIN, PCAPS, ROOT, Skip, run

CONSUMER = os.path.join(ROOT, "docs", "examples", "redis-consumer.py")
# No reply times out, however loaded the machine: a test that compares lists or channels
# exactly, or expects the connection up at the end, must not see a resend after a timeout.
NO_TIMEOUT = ("--redis-timeout", str(1000 * C.WAIT))
TMP = tempfile.mkdtemp(prefix="postcard-redis-")


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
    """redis-server on 127.0.0.1:port in its own directory; start, stop, start again; pause
    (SIGSTOP) and resume (SIGCONT): stopped, it takes no command, but the kernel still
    accepts connections and data for it."""

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
        self.start(first=True)

    def start(self, first=False):
        """Start redis-server and wait until it answers. The first time, a port taken since
        free_port() chose it (another test run) is given up for another one; later, the
        server comes back on its own port or the test fails."""
        for attempt in range(5 if first else 1):
            if attempt > 0:
                self.port = free_port()
            self.p = subprocess.Popen(
                ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--dir", self.dir, "--logfile", os.path.join(self.dir, "redis.log")]
                + self.args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            C.wait_for(self._answers_or_exited, "redis-server to answer on port %d" % self.port)
            if self.p.poll() is None:
                return
        raise AssertionError("redis-server exited with status %d: %s" % (
            self.p.returncode, os.path.join(self.dir, "redis.log")))

    def _answers_or_exited(self):
        """True once this server answers (not another one on the same port) with its data
        loaded (a restart reads its append-only file first), or exited."""
        if self.p.poll() is not None:
            return True
        try:
            c = self.client()
            try:
                info = c.call("INFO", "server").decode() + c.call("INFO", "persistence").decode()
            finally:
                c.close()
        except (OSError, ConnectionError, RespError):
            return False
        return "\r\nprocess_id:%d\r\n" % self.p.pid in info and "\r\nloading:0\r\n" in info

    def client(self, timeout=C.WAIT):
        return Resp(self.port, password=self.password, timeout=timeout)

    def stop(self, how=signal.SIGKILL):
        if self.p is not None:
            self.p.send_signal(how)
            self.p.send_signal(signal.SIGCONT)  # a paused server handles SIGTERM too
            self.p.wait(timeout=C.WAIT)
            self.p = None

    def pause(self):
        self.p.send_signal(signal.SIGSTOP)

    def resume(self):
        self.p.send_signal(signal.SIGCONT)

    def url(self, cred=""):
        return "redis://%s127.0.0.1:%d" % (cred, self.port)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def redis_side(port):
    """(state, rx_queue) of Redis's end of each connection to port, from /proc/net/tcp and
    tcp6 (the listening socket left out). rx_queue: bytes Redis has not read; state "01" is
    ESTABLISHED, "08" CLOSE_WAIT (the client has closed its end)."""
    out = []
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as fh:
                rows = [l.split() for l in fh][1:]
        except FileNotFoundError:
            continue
        for f in rows:
            if int(f[1].rsplit(":", 1)[1], 16) == port and f[3] != "0A":
                out.append((f[3], int(f[4].split(":")[1], 16)))
    return out


def unread_by_redis(port, state=None):
    """Connections to port with bytes Redis has not read (in that state, if given)."""
    return [s for s in redis_side(port) if s[1] > 0 and state in (None, s[0])]


def postcard_connections(c):
    """Ids of the connections CLIENT LIST shows that postcard set up: the last command on
    them is its XINFO STREAM (the connection's set-up) or an XADD (no test client sends
    either)."""
    ids = set()
    for line in c.call("CLIENT", "LIST").decode().splitlines():
        f = dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
        if f.get("cmd") == "xadd" or f.get("cmd", "").startswith("xinfo"):
            ids.add(int(f["id"]))
    return ids


def xlen(c, key):
    return c.call("XLEN", key)


# --- captures and records ------------------------------------------------------------------

_capture = []


def alerts_capture():
    """A capture with many alerts: the project's captures and the corpus (if there is one),
    replicated with new addresses (tests/mkbench.py) to about 20 MiB; built once per run."""
    if not _capture:
        inputs = sorted(glob.glob(os.path.join(PCAPS, "*.pcap")) +
                        (glob.glob(os.path.join(C.CORPUS, "*", "*.pcap")) if C.CORPUS else []))
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
    """The Redis lines of the summary at exit, as numbers (backlog: 0 without its line)."""
    m = re.search(r"^  redis: +(\d+) sent to .*, (\d+) spooled, (\d+) replayed, (\d+) dropped, "
                  r"(\d+) reconnects(?:, (\d+) retried after a lost reply)?"
                  r"(?:, (\d+) found already delivered)?$", err, re.M)
    assert m, "no redis line in the summary at exit (main.c: out->summary):\n" + err[-2000:]
    keys = ("sent", "spooled", "replayed", "dropped", "reconnects", "retried", "duplicates")
    out = {k: int(v or 0) for k, v in zip(keys, m.groups())}
    b = re.search(r"^  redis backlog: +(\d+) records not delivered, kept in (.*)/ at exit "
                  r"\(sent first by the next run\)$", err, re.M)
    out["backlog"] = int(b.group(1)) if b else 0
    return out


def last_message(err):
    """The last line of a run that left records behind: (kept, dropped, why), or None."""
    m = re.search(r"^postcard: redis: (?:(\d+) records not delivered: kept in spool (\S+)/ "
                  r"\(sent first by the next run\)(?:; (\d+) dropped \((.*)\))?|"
                  r"(\d+) records dropped \((.*)\))$", err, re.M)
    if m is None:
        assert "postcard: redis:" not in err, "a last message of another form:\n" + err[-2000:]
        return None
    if m.group(1) is not None:
        return int(m.group(1)), int(m.group(3) or 0), m.group(4) or ""
    return 0, int(m.group(5)), m.group(6)


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
        assert s["sent"] == len(want) and s["duplicates"] == 0, (s, len(want))
        assert s["dropped"] == 0 and s["spooled"] == 0 and s["replayed"] == 0, s
        assert s["backlog"] == 0 and last_message(err) is None, err[-1500:]
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
                                         "--redis-mode", "list", "--redis-push", push,
                                         *NO_TIMEOUT)
            st, _, err = run(args)
            assert st == 0, err
            got = [x.decode() for x in rs.client().call("LRANGE", "pc:list", 0, -1)]
            if push == "lpush":  # the newest at the head
                got.reverse()
            check_same(got, file_lines(out), "list (%s)" % push)
            s = summary(err)  # no reply lost: each pushed once, and counted once
            assert s["sent"] == len(got) and s["retried"] == 0 and s["dropped"] == 0, s


def test_channel_subscriber_gets_every_alert():
    """A subscriber gets every alert, in order. Once postcard has exited (every PUBLISH
    acknowledged), the test publishes an end marker: the subscriber reads up to it."""
    wired()
    tmp = tempfile.mkdtemp(dir=TMP)
    end = "-- end of the run --"
    with RedisServer() as rs:
        sub = rs.client()
        sub.send("SUBSCRIBE", "pc:chan")
        assert sub.reply()[0] == b"subscribe"
        args, out, _ = postcard_args(tmp, alerts_capture(), rs.url(), "pc:chan",
                                     "--redis-mode", "channel", *NO_TIMEOUT)
        st, _, err = run(args)
        assert st == 0, err
        assert rs.client().call("PUBLISH", "pc:chan", end) == 1
        got = []
        while True:
            m = sub.reply()  # fails after C.WAIT seconds without a message
            if m[0] == b"message":
                if m[2].decode() == end:
                    break
                got.append(m[2].decode())
        check_same(got, file_lines(out), "channel")
        s = summary(err)
        assert s["sent"] == len(got) and s["dropped"] == 0, s


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
        args, out, _ = postcard_args(tmp, small_capture(), rs.url(), "pc:st", *NO_TIMEOUT,
                                     events="alert,stats")
        st, _, err = run(args)
        assert st == 0, err
        stats = [json.loads(l) for l in file_lines(out, kinds=("stats",))]
        assert stats, "no stats record"
        red = stats[-1]["stats"]["outputs"]["redis"]
        for k in ("sent", "queued", "spooled", "replayed", "dropped", "reconnects", "in_flight",
                  "spool_bytes", "last_error", "connected", "already_delivered", "retried",
                  "handoff_waits", "dropped_spool_full", "spool_write_errors", "spool_corrupt"):
            assert k in red, (k, red)
        assert red["connected"] is True and red["dropped"] == 0, red
        got = [json.loads(rec) for _, rec in stream(rs.client(), "pc:st")]
        assert got[-1]["event_type"] == "stats"


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
        with C.Postcard(args + ["-r", "-"]) as holder:
            C.wait_for(lambda: C.flock_holders(os.path.join(spool, "lock")),
                       "the first postcard to lock %s/lock" % spool)
            st, _, err = run(["-w", os.path.join(tmp, "b.json"), "--redis", rs.url(),
                              "--redis-key", "pc:b", "--redis-spool", spool,
                              "-r", small_capture()])
            assert st == 1 and "in use by another postcard" in err, (st, err)
            holder.finish(timeout=C.WAIT)  # no capture on its stdin: its status is not the point


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
    sys.exit(C.run_suite(globals()))

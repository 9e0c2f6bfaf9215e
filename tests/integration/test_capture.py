#!/usr/bin/env python3
"""postcard integration tests: live capture on the loopback interface, and stopping a
capture with SIGINT or SIGTERM: what was captured is analysed, flushed and summarised.

The live clock (docs/cli.md, "Live capture and the clock"): on an interface the timers follow
the wall clock, packets or not. What postcard writes while it runs is watched in Redis, which
gets each record as it is written (the file output may hold records in its buffer until the
end): a test waits, with a bound, for the records that must come, then stops postcard and
reads the file too. Kernel drops are made on a veth pair in a network namespace the test
creates (nothing leaves it), flooded by tcpreplay into a ring too small for it.
"""
import atexit
import calendar
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import common as C
from common import PCAPS, Postcard, Skip, flows, listen_on_lo, run_fatal, run_suite, wait_for

TMP = tempfile.mkdtemp(prefix="postcard-capture-")


def need_root():
    if os.geteuid() != 0:
        raise Skip("live capture needs root")


def redis_server():
    """A redis-server of its own (test_redis.RedisServer), or Skip."""
    import test_redis
    atexit.register(shutil.rmtree, test_redis.TMP, True)
    return test_redis.RedisServer()


def stream_records(rs, key):
    """The records in stream key, oldest first, as (exact line, parsed)."""
    c = rs.client()
    try:
        out = []
        for _, fields in c.call("XRANGE", key, "-", "+"):
            line = dict(zip(fields[::2], fields[1::2]))[b"record"].decode()
            out.append((line, json.loads(line)))
        return out
    finally:
        c.close()


def unused_port():
    """A TCP port of 127.0.0.1 held bound (not listening) while the test runs: a filter on it
    lets nothing through to postcard."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    return s, s.getsockname()[1]


def epoch(ts):
    """An EVE timestamp ("2026-01-02T03:04:05.123456+0000") in seconds since the epoch."""
    return calendar.timegm(time.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S")) + int(ts[20:26]) / 1e6


def file_records(path):
    with open(path, encoding="utf-8") as fh:
        return [(l.rstrip("\n"), json.loads(l)) for l in fh if l.strip()]


def test_live_capture_on_loopback_and_sigint():
    """A session on lo while postcard listens: its flow is reported after SIGINT.

    "listening on lo" is printed once the capture is active, so the session starts after it;
    the packets of the session are in the kernel's buffer once the sockets' calls returned,
    and a stopped live capture first analyses what the kernel already captured: no wait is
    needed between the session and SIGINT."""
    if os.geteuid() != 0:
        raise Skip("live capture needs root")
    srv, port = listen_on_lo()
    pc = Postcard(["-i", "lo", "--immediate-mode", "tcp", "port", str(port)], stdin=None)
    try:
        pc.wait_stderr("listening on lo")
        session_on_lo(port, srv)
        pc.signal(signal.SIGINT)
        st, out, err = pc.finish(timeout=30)
    finally:
        pc.close()
        srv.close()
    assert st == 0, (st, err)
    assert "listening on lo" in err and "kernel:" in err and "dropped" in err, err
    fl = flows(out)
    assert len(fl) == 1 and fl[0]["app_proto"] == "smtp" and fl[0]["dest_port"] == port, fl


def test_sigterm_stops_cleanly_and_flushes():
    """SIGTERM once the whole capture was read (the pipe stays open): the open flow is
    flushed, the summary printed, status 0."""
    with open(os.path.join(PCAPS, "pop3-plain.pcap"), "rb") as fh:
        data = fh.read()
    with Postcard(["-r", "-"]) as pc:
        pc.feed(data)
        pc.wait_stdin_drained()
        pc.signal(signal.SIGTERM)
        st, out, err = pc.finish(timeout=30)
    assert st == 0, (st, err)
    assert "postcard summary" in err
    assert len(flows(out)) == 1


def test_live_heartbeat_stats_with_no_traffic_at_all():
    """No packet reaches postcard (a filter on a port nobody uses) and --stats-interval 1:
    stats records come all the same, a second apart, each with the kernel's counters; they
    reach Redis while postcard runs, and the file has the same ones once it stopped."""
    need_root()
    hold, port = unused_port()
    out = os.path.join(TMP, "heartbeat.json")
    with redis_server() as rs:
        pc = Postcard(["-i", "lo", "--no-rules", "--stats-interval", "1", "-w", out, "--redis",
                       rs.url(), "--redis-key", "hb", "--redis-events", "stats", "tcp", "port",
                       str(port)], stdin=None)
        try:
            pc.wait_stderr("listening on lo")
            wait_for(lambda: len(stream_records(rs, "hb")) >= 3, "three stats records in Redis")
            live = stream_records(rs, "hb")
            pc.signal(signal.SIGINT)
            st, _, err = pc.finish(timeout=60)
        finally:
            pc.close()
            hold.close()
    assert st == 0, err
    recs = [r for _, r in live]
    assert all(r["event_type"] == "stats" and r["in_iface"] == "lo" for r in recs), recs
    for r in recs:
        s = r["stats"]
        assert s["decoder"]["pkts"] == 0, s
        cap = s["capture"]
        assert cap["kernel_packets"] == cap["kernel_packets_delta"] == 0, cap
        assert cap["kernel_drops"] == cap["kernel_drops_delta"] == 0, cap
        assert cap["kernel_drop_share"] == cap["kernel_drop_share_interval"] == 0, cap
    times = [epoch(r["timestamp"]) for r in recs]
    gaps = [b - a for a, b in zip(times, times[1:])]
    # a second apart: never less (the next is due a second after the last), a tick late at
    # most on an idle machine; the bound only says "about a second", not how busy it was
    assert all(0.999 <= g < 3 for g in gaps), gaps
    assert [r["stats"]["uptime"] for r in recs[:2]] == [1, 2], recs
    written = file_records(out)
    assert [l for l, _ in written[:len(live)]] == [l for l, _ in live], "file and Redis differ"
    assert written[-1][1]["event_type"] == "stats" and len(written) > len(live), written[-1]


def session_on_lo(port, srv):
    """An SMTP-like session to 127.0.0.1:port that both sides close (FIN both ways)."""
    c = socket.create_connection(("127.0.0.1", port))
    s, _ = srv.accept()
    s.sendall(b"220 mail.example ESMTP postcard-test\r\n")
    c.recv(100)
    c.sendall(b"QUIT\r\n")
    s.recv(100)
    s.sendall(b"221 bye\r\n")
    c.recv(100)
    c.shutdown(socket.SHUT_WR)
    assert s.recv(100) == b""  # the client's FIN
    s.close()
    assert c.recv(100) == b""  # the server's FIN
    c.close()


def test_live_closed_session_reported_its_timeout_after_its_end():
    """--flow-timeout closed=1: a session that ended (FIN both ways) on an otherwise idle link is
    reported by the clock, about a second after its last packet, while postcard goes on
    listening; not at the stop. Seen in Redis as it is written."""
    need_root()
    srv, port = listen_on_lo()
    out = os.path.join(TMP, "closed.json")
    with redis_server() as rs:
        pc = Postcard(["-i", "lo", "--no-rules", "--flow-timeout", "closed=1", "-w", out,
                       "--redis", rs.url(), "--redis-key", "fl", "--redis-events", "flow",
                       "tcp", "port", str(port)], stdin=None)
        try:
            pc.wait_stderr("listening on lo")
            session_on_lo(port, srv)
            got = wait_for(lambda: stream_records(rs, "fl"), "the flow record in Redis")
            seen = time.time()
            assert pc.p.poll() is None, "postcard stopped"
            pc.signal(signal.SIGINT)
            st, _, err = pc.finish(timeout=60)
        finally:
            pc.close()
            srv.close()
    assert st == 0, err
    assert len(got) == 1, got
    line, f = got[0]
    assert f["dest_port"] == port and f["flow"]["state"] == "closed", f
    assert f["flow"]["reason"] == "timeout", f  # by the clock, not "shutdown" at the stop
    end = epoch(f["flow"]["end"])
    assert f["timestamp"] == f["flow"]["end"], f  # a flow's records carry its last packet's time
    # never before its timeout; after it by what a tick and the kernel's block take, well
    # under the 10 s of the default (which would not have ended it before the stop)
    assert seen >= end + 1.0 - 0.001, (seen, end)
    assert seen - end < 6, (seen, end)
    assert [l for l, r in file_records(out) if r["event_type"] == "flow"] == [line]


def test_fatal_bad_flow_timeout_is_a_usage_error():
    run_fatal(["-i", "lo", "--flow-timeout", "closed=0"], 2,
              "postcard: --flow-timeout: closed: expected seconds from 1 to 86400, got \"0\"")
    run_fatal(["-i", "lo", "--flow-timeout", "fin=2"], 2,
              "postcard: --flow-timeout: expected CLASS=SECONDS", "got \"fin=2\"")
    run_fatal(["-i", "lo", "--drop-warn", "101"], 2,
              "postcard: --drop-warn: expected a percentage from 0 to 100, got \"101\"")


class Netns:
    """A network namespace of this test with a veth pair inside it, both ends up: packets sent
    on one end arrive on the other, and nowhere else."""

    def __init__(self):
        self.name = "pcclk-%d" % os.getpid()
        self.a, self.b = "pcva", "pcvb"
        subprocess.run(["ip", "netns", "add", self.name], check=True, capture_output=True)
        try:
            for cmd in (["link", "add", self.a, "type", "veth", "peer", "name", self.b],
                        ["link", "set", self.a, "up"], ["link", "set", self.b, "up"]):
                self.ip(*cmd)
        except Exception:
            self.close()
            raise

    def ip(self, *args):
        subprocess.run(["ip", "-n", self.name] + list(args), check=True, capture_output=True)

    def exec(self):
        return ["ip", "netns", "exec", self.name]

    def close(self):
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def test_live_kernel_drops_in_a_periodic_stats_record_and_a_warning():
    """A 64 KiB ring (-B 64) flooded at top speed (tcpreplay, looping a capture, on a veth pair
    in a namespace of the test): the kernel drops packets. A periodic stats record, not only
    the one at the end, has the interval's drops, and stderr says so (postcard: warning: ...).
    The intervals add up to the totals of the last record, which the summary shows too."""
    need_root()
    if shutil.which("tcpreplay") is None:
        raise Skip("tcpreplay is not installed (make deps)")
    out = os.path.join(TMP, "drops.json")
    with Netns() as ns:
        pc = Postcard(["-i", ns.a, "--no-rules", "-B", "64", "--stats-interval", "1", "-w", out],
                      stdin=None, prefix=ns.exec())
        flood = None
        try:
            pc.wait_stderr("listening on %s" % ns.a)
            flood = subprocess.Popen(ns.exec() + ["tcpreplay", "-q", "-i", ns.b, "--topspeed",
                                                  "--loop", "0",
                                                  os.path.join(PCAPS, "smtp-auth-mechs.pcap")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            warning = pc.wait_stderr("postcard: warning: %s: the kernel dropped" % ns.a)
            flood.terminate()
            flood.wait(timeout=C.WAIT)
            pc.signal(signal.SIGINT)
            st, _, err = pc.finish(timeout=120)
        finally:
            if flood is not None and flood.poll() is None:
                flood.kill()
                flood.wait()
            pc.close()
    assert st == 0, err
    assert "(over --drop-warn 1%)" in warning, warning
    stats = [r for _, r in file_records(out) if r["event_type"] == "stats"]
    assert len(stats) >= 2, stats
    periodic, last = stats[:-1], stats[-1]
    dropped = [r["stats"]["capture"] for r in periodic
               if r["stats"]["capture"]["kernel_drops_delta"] > 0]
    assert dropped, [r["stats"]["capture"] for r in stats]
    cap = dropped[0]
    assert cap["kernel_packets_delta"] >= cap["kernel_drops_delta"] > 0, cap
    assert abs(cap["kernel_drop_share_interval"] -
               cap["kernel_drops_delta"] / cap["kernel_packets_delta"]) < 1e-6, cap
    for k in ("kernel_packets", "kernel_drops", "kernel_ifdrops"):
        assert sum(r["stats"]["capture"][k + "_delta"] for r in stats) == \
            last["stats"]["capture"][k], k
    total = last["stats"]["capture"]
    assert "kernel:         %d received, %d dropped" % (total["kernel_packets"],
                                                        total["kernel_drops"]) in err, err


if __name__ == "__main__":
    atexit.register(shutil.rmtree, TMP, True)
    sys.exit(run_suite(globals()))

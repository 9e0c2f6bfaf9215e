#!/usr/bin/env python3
"""make bench-latency: how long after the packet that decides an alert the alert is in the
-w file, when postcard listens on a live link.

    tests/bench-latency.py [--seconds S] [--hold S] [--capture FILE]

Needs root, ip (iproute2) and tcpreplay; says so and exits 0 without them. Runs $BUILD/postcard
(default build/postcard).

The capture. By default, made from the project's Ethernet captures (pcaps/*.pcap), one after
the other 0.25 s apart, over and over until it lasts --seconds (default 30). Each copy of a
capture gets new addresses (tests/mkbench.py's rewrite, numbered per copy and file), so no
flow clashes with another. In every TCP flow, the packets from the first FIN or RST on are
sent --hold seconds (default 5) later: each session stays open a while after what it did, as
a mail client does, and many are open at once. --capture FILE replays FILE as it is instead
(an Ethernet capture: a long one of the corpus, say).

The run. A veth pair in a network namespace of its own (tests/integration/common.py,
PrivateLink); postcard -i on one end with --immediate-mode -w FILE; the capture replayed on
the other end by tcpreplay at its own pace (--multiplier 1, preloaded). When each packet was
sent is read on the link, not computed from the replay's start: a packet socket of this
tool's own on postcard's end gives the kernel's receive time of every packet (the time
postcard's capture gets too). tcpreplay 4.4 falls behind the capture's pace, by about
0.15 ms a packet on the development VM, so a schedule would be off by tenths of a second;
the tool prints by how much. Every line postcard writes is timed when it appears whole in
the file (inotify). When the replay is over and no alert came for 3 s, postcard is stopped
(SIGINT).

Each alert's deciding packet is the packet of its flow sent nearest to the alert's timestamp
(live, a record's time is the time the kernel captured its packet). Its latency is the time it
appeared in the file minus the time that packet was sent. Printed: the median and maximum
over the alerts written while postcard ran, and how many were written only after the stop.
The same capture read offline (-r) says how many alerts there should be.
"""
import argparse
import ctypes
import datetime
import glob
import json
import os
import platform
import select
import signal
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
os.environ.setdefault("BUILD", "build")
sys.path.insert(0, os.path.join(HERE, "integration"))
sys.path.insert(0, HERE)
import common as C  # noqa: E402
import mkbench  # noqa: E402

GAP_US = 250000  # between one capture and the next in the made capture
QUIET = 3.0  # no new alert for this long after the replay: postcard is stopped
SO_TIMESTAMPNS = 35  # socket(7): the kernel's receive time of each packet, as a timespec
ETH_P_ALL = 3
IN_MODIFY = 0x2  # inotify(7)


def flow_of(frame):
    """(proto, (addr, port), (addr, port), tcp flags) of an Ethernet frame (802.1Q/802.1ad
    tags skipped) carrying TCP or UDP in IPv4 or IPv6, else None. Addresses as in the records
    (inet_ntop); IPv6 extension headers and IPv4 fragments past the first are not followed."""
    off = 12
    if len(frame) < 14:
        return None
    et = struct.unpack_from(">H", frame, off)[0]
    while et in (0x8100, 0x88A8) and off + 6 <= len(frame):
        off += 4
        et = struct.unpack_from(">H", frame, off)[0]
    ip = off + 2
    if et == 0x0800 and len(frame) >= ip + 20:
        if struct.unpack_from(">H", frame, ip + 6)[0] & 0x1FFF:
            return None  # a later fragment: no ports
        proto, l4 = frame[ip + 9], ip + (frame[ip] & 0x0F) * 4
        src = socket.inet_ntop(socket.AF_INET, bytes(frame[ip + 12:ip + 16]))
        dst = socket.inet_ntop(socket.AF_INET, bytes(frame[ip + 16:ip + 20]))
    elif et == 0x86DD and len(frame) >= ip + 40:
        proto, l4 = frame[ip + 6], ip + 40
        src = socket.inet_ntop(socket.AF_INET6, bytes(frame[ip + 8:ip + 24]))
        dst = socket.inet_ntop(socket.AF_INET6, bytes(frame[ip + 24:ip + 40]))
    else:
        return None
    if proto not in (6, 17) or len(frame) < l4 + (14 if proto == 6 else 4):
        return None
    sport, dport = struct.unpack_from(">HH", frame, l4)
    return proto, (src, sport), (dst, dport), frame[l4 + 13] if proto == 6 else 0


def key(proto, a, b):
    """The same key for both directions of a flow."""
    return (proto,) + tuple(sorted((a, b)))


def make_capture(path, seconds, hold_us):
    """The project's Ethernet captures, copied with new addresses until the whole lasts
    seconds; in each TCP flow the packets from its first FIN or RST on come hold_us later."""
    inputs = [p for p in (mkbench.read_pcap(f) for f in
                          sorted(glob.glob(os.path.join(C.PCAPS, "*.pcap")))) if p]
    pkts, t, copy = [], 0, 0
    while t < seconds * 1000000:
        for pk in inputs:
            if t >= seconds * 1000000:
                break
            copy += 1
            t0, closing = pk[0][0], set()
            for ts, orig, frame in pk:
                g = bytearray(frame)
                mkbench.rewrite(g, copy)
                f = flow_of(g)
                if f and f[0] == 6 and f[3] & 0x05:  # FIN or RST
                    closing.add(key(*f[:3]))
                late = hold_us if f and key(*f[:3]) in closing else 0
                pkts.append((t + ts - t0 + late, orig, g))
            t += pk[-1][0] - t0 + GAP_US
    pkts.sort(key=lambda p: p[0])
    base = int(time.time()) * 1000000  # certificates are judged at the packets' time: now
    with open(path, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for ts, orig, g in pkts:
            fh.write(struct.pack("<IIII", (base + ts) // 1000000, (base + ts) % 1000000, len(g),
                                 orig) + g)


def index(path):
    """{flow key: [index of each of its packets]} of an Ethernet capture, and the offset in
    seconds of each packet from the first."""
    pkts = mkbench.read_pcap(path)
    if not pkts:
        sys.exit("bench-latency: %s: not an Ethernet pcap" % path)
    flows = {}
    for i, (_, _, frame) in enumerate(pkts):
        f = flow_of(frame)
        if f:
            flows.setdefault(key(*f[:3]), []).append(i)
    return flows, [(ts - pkts[0][0]) / 1e6 for ts, _, _ in pkts]


class Watch:
    """Each line appended to a file, with the wall-clock time it was seen whole (inotify)."""

    def __init__(self, path):
        self.lines = []  # (time.time(), record)
        libc = ctypes.CDLL(None, use_errno=True)
        self._fd = libc.inotify_init1(os.O_NONBLOCK)
        if self._fd < 0 or libc.inotify_add_watch(self._fd, path.encode(), IN_MODIFY) < 0:
            raise OSError(ctypes.get_errno(), "inotify on " + path)
        self._fh = open(path, "rb")
        self._rest = b""
        self._stop = False
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _read(self):
        data = self._fh.read()
        if data:
            now = time.time()
            lines = (self._rest + data).split(b"\n")
            self._rest = lines.pop()
            self.lines.extend((now, json.loads(l)) for l in lines)

    def _run(self):
        while not self._stop:
            if select.select([self._fd], [], [], 0.1)[0]:
                try:
                    os.read(self._fd, 65536)
                except BlockingIOError:
                    pass
            self._read()

    def alerts(self):
        return [(t, r) for t, r in list(self.lines) if r["event_type"] == "alert"]

    def close(self):
        self._stop = True
        self._t.join()
        self._read()
        os.close(self._fd)
        self._fh.close()


class Arrivals:
    """The kernel's receive time of every packet on iface, in order, read on a packet socket
    of this tool's own (the same time postcard's capture gets), until n have come."""

    def __init__(self, iface, n):
        self.times = []
        self._n = n
        self._s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self._s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 20)
        self._s.bind((iface, ETH_P_ALL))
        self._s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self._s.settimeout(0.2)
        self._stop = False
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self):
        while len(self.times) < self._n and not self._stop:
            try:
                _, anc, _, _ = self._s.recvmsg(65536, 256)
            except socket.timeout:
                continue
            for level, kind, data in anc:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                    sec, nsec = struct.unpack("qq", data[:16])
                    self.times.append(sec + nsec / 1e9)

    def close(self, timeout):
        self._t.join(timeout)
        self._stop = True
        self._t.join()
        self._s.close()


def ts_seconds(ts):
    return datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def offline_alerts(path):
    p = subprocess.run([C.BIN, "-q", "-r", path], capture_output=True, text=True, timeout=600)
    return sum(1 for l in p.stdout.splitlines() if json.loads(l)["event_type"] == "alert")


def cpu_model():
    with open("/proc/cpuinfo") as fh:
        for l in fh:
            if l.startswith("model name"):
                return l.split(":", 1)[1].strip()
    return platform.machine()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=30, help="length of the made capture")
    ap.add_argument("--hold", type=float, default=5, help="seconds each TCP session stays "
                    "open after its last data (made capture)")
    ap.add_argument("--capture", help="replay this Ethernet capture instead")
    a = ap.parse_args()
    try:
        C.need_live("tcpreplay")
    except C.Skip as e:
        print("latency: %s: skipped" % e)
        return 0
    if not os.access(C.BIN, os.X_OK):
        sys.exit("bench-latency: %s is missing (make)" % C.BIN)
    work = os.path.join(C.ROOT, "build", "bench")
    os.makedirs(work, exist_ok=True)
    cap = a.capture
    if cap is None:
        cap = os.path.join(work, "latency.pcap")
        make_capture(cap, a.seconds, int(a.hold * 1000000))
    flows, offsets = index(cap)
    n_pkts, length = len(offsets), offsets[-1]
    expected = offline_alerts(cap)
    out = os.path.join(work, "latency.json")
    if os.path.exists(out):
        os.unlink(out)
    with C.PrivateLink() as link:
        pc = C.Postcard(["-i", link.cap, "--immediate-mode", "-w", out], stdin=None)
        try:
            pc.wait_stderr("listening on " + link.cap)
            C.wait_for(lambda: os.path.exists(out), "postcard to open " + out)
            watch = Watch(out)
            arrived = Arrivals(link.cap, n_pkts)
            done = C.wall(C.tcpreplay(link.send, cap, "--multiplier", "1", "--preload-pcap",
                                      timeout=length + 600))
            arrived.close(timeout=C.WAIT)
            while True:  # wait until no alert came for QUIET seconds
                last = max([t for t, _ in watch.alerts()] + [done])
                if time.time() - last >= QUIET:
                    break
                time.sleep(0.1)
            stopped = time.time()
            pc.signal(signal.SIGINT)
            st, _, err = pc.finish(timeout=C.WAIT)
            watch.close()
        finally:
            pc.close()
    if st != 0:
        sys.exit("bench-latency: postcard status %d\n%s" % (st, err))
    if len(arrived.times) != n_pkts:
        sys.exit("bench-latency: %d packets sent, %d seen on the link" % (n_pkts,
                                                                          len(arrived.times)))
    lat, at_stop, unmatched, skew = [], [], 0, []
    midway, at_end = [], []  # (latency, category): decided before the flow's last packet, or by it
    for seen, r in watch.alerts():
        sends = flows.get(key(6 if r["proto"] == "TCP" else 17, (r["src_ip"], r["src_port"]),
                              (r["dest_ip"], r["dest_port"])))
        if not sends:
            unmatched += 1
            continue
        when = ts_seconds(r["timestamp"])
        sent = min((arrived.times[i] for i in sends), key=lambda s: abs(s - when))
        skew.append(abs(when - sent))
        (lat if seen < stopped else at_stop).append(seen - sent)
        if seen < stopped:  # decided by the flow's last packet: only its end could decide it
            (at_end if when >= max(arrived.times[i] for i in sends) - 1e-4 else midway).append(
                (seen - sent, r["alert"]["category"]))
    print("capture: %s (%d packets, %.1f s), replayed at its own pace on a veth pair"
          % (os.path.relpath(cap, C.ROOT), n_pkts, length))
    print("command: %s -i VETH --immediate-mode -w FILE; tcpreplay --multiplier 1 --preload-pcap"
          % os.path.relpath(C.BIN, C.ROOT))
    print("machine: %d cores, %s, Linux %s; %s" % (os.cpu_count(), cpu_model(),
                                                   platform.release(),
                                                   time.strftime("%Y-%m-%d")))
    print("alerts: %d live (%d reading the capture offline), %d written while postcard ran, "
          "%d only after it was stopped, %d of a flow not in the capture's index"
          % (len(lat) + len(at_stop) + unmatched, expected, len(lat), len(at_stop), unmatched))
    if lat:
        print("latency, deciding packet sent -> alert in the -w file: median %.3f s, "
              "99th percentile %.3f s, max %.3f s" % (statistics.median(lat),
                                                   sorted(lat)[int(0.99 * (len(lat) - 1))],
                                                   max(lat)))
        for what, group in (("decided while the session went on", midway),
                            ("decided by the flow's last packet (written at its timeout)", at_end)):
            if group:
                worst = max(group)
                print("  %s: %d, median %.3f s, max %.3f s (%s)"
                      % (what, len(group), statistics.median(l for l, _ in group), worst[0],
                         worst[1]))
    else:
        print("latency, deciding packet sent -> alert in the -w file: none written while "
              "postcard ran")
    if at_stop:
        every = lat + at_stop
        print("  counting those written at the stop (%.1f s after the replay's end): "
              "median %.3f s, max %.3f s" % (stopped - done,
                                            statistics.median(every), max(every)))
    lag = [t - arrived.times[0] - off for t, off in zip(arrived.times, offsets)]
    print("tcpreplay behind the capture's pace: median %.3f s, max %.3f s (hence each "
          "packet's time is taken on the link)" % (statistics.median(lag), max(lag)))
    if skew:
        print("alert timestamp -> nearest send of a packet of its flow: median %.4f s, "
              "max %.4f s" % (statistics.median(skew), max(skew)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

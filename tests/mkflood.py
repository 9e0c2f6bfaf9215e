#!/usr/bin/env python3
"""Build a capture of real mail sessions inside a flood of spoofed TCP SYNs.

    mkflood.py OUT.pcap [--syns N] [--seconds S] [--session-seconds D] [--seed X] SESSION.pcap...

Each TCP conversation of the SESSION captures (Ethernet, IPv4) is one real session. Its
packets keep their order and the proportions of the time between them, stretched so that the
session lasts D seconds (5 by default); the sessions start one after the other, spread over
the first S - D seconds of the flood. N SYNs (2,000,000 by default) are spread evenly over S
seconds (20 by default): each from its own spoofed source in 198.18.0.0/15 (RFC 2544's
benchmarking range) and port, to 10.77.0.2 port 25 (every other one), 587, 143, 80 or 443,
never answered. The two are interleaved by time. Source address and port come from a bijection
of the SYN's number, so no two SYNs share a tuple and the flood makes exactly N flows.

IP and TCP checksums are left zero: postcard, tshark and tcpdump do not check them.

The test suite imports build() and sessions(); tests/bench-flood.py uses the command line.
"""
import argparse
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mkbench import read_pcap  # noqa: E402

FLOOD_NET = (198 << 24) | (18 << 16)      # 198.18.0.0/15
SERVER = bytes([10, 77, 0, 2])            # the project captures' server
FLOOD_PORTS = (25, 587, 25, 143, 25, 80, 25, 443)
SEC = 1000000


def _tuple_key(frame):
    """The conversation of an Ethernet/IPv4/TCP frame (both directions alike), or None."""
    if len(frame) < 34 or frame[12:14] != b"\x08\x00" or frame[23] != 6:
        return None
    ihl = (frame[14] & 15) * 4
    if len(frame) < 14 + ihl + 4:
        return None
    sport, dport = struct.unpack_from(">HH", frame, 14 + ihl)
    a, b = (bytes(frame[26:30]), sport), (bytes(frame[30:34]), dport)
    return (a, b) if a <= b else (b, a)


def sessions(paths):
    """Every TCP conversation of the captures, in order: a list of [(t_us, orig_len, frame)]."""
    out = []
    for p in paths:
        pk = read_pcap(p)
        if pk is None:
            raise SystemExit("mkflood: %s: not an Ethernet pcap" % p)
        conv = {}
        for t, orig, frame in pk:
            k = _tuple_key(frame)
            if k is not None:
                conv.setdefault(k, []).append((t, orig, bytes(frame)))
        out.extend(sorted(conv.values(), key=lambda c: c[0][0]))
    return out


def retime(sess, start, duration):
    """The session's packets moved to start at `start` and stretched to last `duration` (µs)."""
    t0, t1 = sess[0][0], sess[-1][0]
    span = max(t1 - t0, 1)
    return [(start + (t - t0) * duration // span, orig, f) for t, orig, f in sess]


def placed(sess_list, seconds, session_seconds, t0):
    """The sessions, retimed one after the other over the first seconds - session_seconds."""
    n = len(sess_list)
    room = max(seconds - session_seconds - 2, 0) * SEC
    out = []
    for i, s in enumerate(sess_list):
        start = t0 + SEC + (room * i // (n - 1) if n > 1 else 0)
        out.append(retime(s, start, session_seconds * SEC))
    return out


def _syn_template():
    eth = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 40, 0, 0x4000, 64, 6, 0, b"\0" * 4, SERVER)
    tcp = struct.pack(">HHIIBBHHH", 0, 25, 0, 0, 5 << 4, 0x02, 64240, 0, 0)
    return bytearray(eth + ip + tcp)


def syn_frame(i, seed, tmpl=None):
    """The i-th spoofed SYN: source and port from a bijection of i (no tuple twice)."""
    f = _syn_template() if tmpl is None else tmpl
    k = (i * 0x9E3779B1 + seed) & 0xFFFFFFFF  # odd multiplier: a bijection on 32 bits
    src = FLOOD_NET | (k >> 15)                # 17 bits of address
    sport = 1024 + (k & 0x7FFF)                # 15 bits of port
    struct.pack_into(">H", f, 18, i & 0xFFFF)                          # IP id
    struct.pack_into(">I", f, 26, src)                                 # source address
    struct.pack_into(">HHI", f, 34, sport, FLOOD_PORTS[i % len(FLOOD_PORTS)],
                     (k * 2654435761) & 0xFFFFFFFF)                   # ports, ISN
    return f


def build(out, session_paths, syns=2000000, seconds=20, session_seconds=5, seed=1,
          t0=1700000000 * SEC, extra=None):
    """Write the capture; returns (session packet lists as placed, SYNs written).

    extra: more (t_us, orig_len, frame) packets to interleave by time."""
    placed_sessions = placed(sessions(session_paths), seconds, session_seconds, t0)
    real = sorted([p for s in placed_sessions for p in s] + list(extra or []),
                  key=lambda p: p[0])
    tmpl = _syn_template()
    rec = struct.Struct("<IIII")
    step = seconds * SEC / syns if syns else 0
    with open(out, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        chunk, r = [], 0
        for i in range(syns):
            t = t0 + int(i * step)
            while r < len(real) and real[r][0] <= t:
                rt, orig, f = real[r]
                chunk.append(rec.pack(rt // SEC, rt % SEC, len(f), orig) + f)
                r += 1
            f = syn_frame(i, seed, tmpl)
            chunk.append(rec.pack(t // SEC, t % SEC, 54, 54) + f)
            if len(chunk) >= 65536:
                fh.write(b"".join(chunk))
                chunk = []
        for rt, orig, f in real[r:]:
            chunk.append(rec.pack(rt // SEC, rt % SEC, len(f), orig) + f)
        fh.write(b"".join(chunk))
    return placed_sessions, syns


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("sessions", nargs="+")
    ap.add_argument("--syns", type=int, default=2000000)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--session-seconds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    placed_sessions, n = build(a.out, a.sessions, a.syns, a.seconds, a.session_seconds, a.seed)
    print("%s: %d SYNs over %d s, %d sessions of %d s, %d MiB"
          % (a.out, n, a.seconds, len(placed_sessions), a.session_seconds,
             os.path.getsize(a.out) >> 20))


if __name__ == "__main__":
    main()

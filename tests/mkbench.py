#!/usr/bin/env python3
"""Build a large benchmark capture from smaller Ethernet pcap files.

    mkbench.py OUT.pcap SIZE_MB IN.pcap...

The inputs are replicated until OUT reaches SIZE_MB. Each copy gets new
IPv4 addresses (the last two octets of every address are rewritten with the
copy number) and a later time, so each copy's flows are new flows, as on a
busy link. IPv6 packets get the copy number in the last 16 bits of each
address. Checksums are not fixed: neither postcard nor tcpdump checks them.
"""
import struct
import sys


def read_pcap(path):
    with open(path, "rb") as fh:
        data = fh.read()
    magic = data[:4]
    if magic == b"\xd4\xc3\xb2\xa1":
        e, nano = "<", False
    elif magic == b"\xa1\xb2\xc3\xd4":
        e, nano = ">", False
    elif magic == b"\x4d\x3c\xb2\xa1":
        e, nano = "<", True
    elif magic == b"\xa1\xb2\x3c\x4d":
        e, nano = ">", True
    else:
        return None
    link = struct.unpack_from(e + "I", data, 20)[0]
    if link != 1:
        return None
    pkts, off = [], 24
    while off + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack_from(e + "IIII", data, off)
        off += 16
        if incl > 262144 or off + incl > len(data):
            break
        usec = frac // 1000 if nano else frac
        pkts.append((sec * 1000000 + usec, orig, bytearray(data[off:off + incl])))
        off += incl
    return pkts


def rewrite(frame, copy):
    off = 12
    if len(frame) < 14:
        return
    et = struct.unpack_from(">H", frame, off)[0]
    while et in (0x8100, 0x88a8) and off + 6 <= len(frame):
        off += 4
        et = struct.unpack_from(">H", frame, off)[0]
    ip = off + 2
    hi, lo = (copy >> 8) & 0xff, copy & 0xff
    if et == 0x0800 and len(frame) >= ip + 20:
        for a in (ip + 12, ip + 16):
            frame[a + 1] ^= hi
            frame[a + 2] ^= lo
    elif et == 0x86dd and len(frame) >= ip + 40:
        for a in (ip + 8, ip + 24):
            frame[a + 14] ^= hi
            frame[a + 15] ^= lo


def main():
    out, size_mb, inputs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    base = []
    for p in inputs:
        pk = read_pcap(p)
        if pk:
            t0 = pk[0][0]
            base.append([(t - t0, orig, f) for t, orig, f in pk])
    if not base:
        sys.exit("mkbench: no Ethernet pcap inputs")
    limit = size_mb * 1024 * 1024
    written, copy, t = 24, 0, 1700000000 * 1000000
    with open(out, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1))
        while written < limit:
            copy += 1
            for pk in base:
                for dt, orig, f in pk:
                    g = bytearray(f)
                    rewrite(g, copy)
                    ts = t + dt
                    fh.write(struct.pack("<IIII", ts // 1000000, ts % 1000000, len(g), orig))
                    fh.write(g)
                    written += 16 + len(g)
                t += 1000  # 1 ms between files
            t += 10 * 1000000
    print("%s: %d MiB, %d copies" % (out, written >> 20, copy))


if __name__ == "__main__":
    main()

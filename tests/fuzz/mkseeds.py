#!/usr/bin/env python3
"""Write the seed inputs of the fuzz targets from the project's own captures
and test vectors, in each target's input format (tests/fuzz/README.md).

    python3 tests/fuzz/mkseeds.py [OUT_DIR]     (default: tests/fuzz/seeds)

  packet    every capture of pcaps/, whole, in fuzz-packet.c's format
  smtp, pop3, imap
            every TCP conversation of pcaps/ on a mail port, split per
            segment as captured; the scripts of tests/unit/test-{smtp,pop3,
            imap}.c (read through the C preprocessor, so their macros expand)
  tls       every TLS conversation of pcaps/ from its first TLS record on;
            the SSLv2 hellos of tests/unit/tls-vectors.h
  x509      every certificate the servers of pcaps/ sent (TLS 1.2 and
            below), alone and as the chain it came in, with the SNI sent
  sasl      SASL exchanges built from the vectors of the unit tests
  rules     rules/default/*.rules, with and without a variables file
  config    the command lines of docs/cli.md and README.md
  jsonread  the summary documents postcard writes for pcaps/ (build/postcard
            must exist: `make`), records it writes, and hand-made cases

The seeds are then minimised into tests/fuzz/corpus/<target>/ with
libFuzzer's -merge=1 (`make fuzz-corpus`), which keeps the inputs that add
coverage.
"""
import glob
import os
import re
import shlex
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
MAIL_PORTS = {25: "smtp", 587: "smtp", 2525: "smtp", 110: "pop3", 143: "imap"}
TLS_PORTS = {465, 993, 995}
# fuzz-packet.c's link types, in order
LINKS = [1, 101, 113, 276, 0, 108, 228, 229, 12, 14]
SEED_MAX = 64 * 1024  # bytes of one seed at most

# ---- captures -----------------------------------------------------------------


def read_capture(path):
    """(link type, [(time in µs, frame bytes, wire length)]) of a pcap or pcapng file."""
    data = open(path, "rb").read()
    magic = data[:4]
    if magic == b"\x0a\x0d\x0d\x0a":
        return read_pcapng(data)
    for endian, nano in (("<", False), (">", False), ("<", True), (">", True)):
        want = 0xA1B23C4D if nano else 0xA1B2C3D4
        if struct.unpack(endian + "I", magic)[0] == want:
            break
    else:
        raise ValueError(path + ": not a capture")
    link = struct.unpack(endian + "I", data[20:24])[0] & 0xFFFF
    pkts, off = [], 24
    while off + 16 <= len(data):
        sec, frac, caplen, wirelen = struct.unpack(endian + "IIII", data[off : off + 16])
        off += 16
        us = sec * 1000000 + (frac // 1000 if nano else frac)
        pkts.append((us, data[off : off + caplen], wirelen))
        off += caplen
    return link, pkts


def read_pcapng(data):
    endian, off, links, pkts, res = "<", 0, [], [], []
    while off + 12 <= len(data):
        btype = struct.unpack(endian + "I", data[off : off + 4])[0]
        if btype == 0x0A0D0D0A:
            endian = "<" if data[off + 8 : off + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            links, res = [], []
        blen = struct.unpack(endian + "I", data[off + 4 : off + 8])[0]
        body = data[off + 8 : off + blen - 4]
        if btype == 1:  # interface description
            links.append(struct.unpack(endian + "H", body[:2])[0])
            tsres = 6
            opt = 8
            while opt + 4 <= len(body):
                code, olen = struct.unpack(endian + "HH", body[opt : opt + 4])
                if code == 0:
                    break
                if code == 9:
                    tsres = body[opt + 4]
                opt += 4 + (olen + 3) // 4 * 4
            res.append(tsres)
        elif btype == 6:  # enhanced packet
            ifc, hi, lo, caplen, wirelen = struct.unpack(endian + "IIIII", body[:20])
            ts = hi << 32 | lo
            r = res[ifc] if ifc < len(res) else 6
            us = ts * 1000000 // (10 ** r) if r < 128 else ts
            pkts.append((us, body[20 : 20 + caplen], wirelen))
        off += blen
    return (links[0] if links else 1), pkts


def l3_of(link, frame):
    """The IP datagram in a frame, or None."""
    if link == 1:
        off, etype = 12, None
        while off + 2 <= len(frame):
            etype = struct.unpack("!H", frame[off : off + 2])[0]
            if etype in (0x8100, 0x88A8):
                off += 4
                continue
            break
        return frame[off + 2 :] if etype in (0x0800, 0x86DD) else None
    if link == 113:
        return frame[16:] if frame[14:16] in (b"\x08\x00", b"\x86\xdd") else None
    if link == 276:
        return frame[20:] if frame[0:2] in (b"\x08\x00", b"\x86\xdd") else None
    if link in (101, 12, 14, 228, 229):
        return frame
    if link in (0, 108):
        return frame[4:]
    return None


def tcp_of(ip):
    """(src, dst, sport, dport, seq, flags, payload) of a TCP segment, or None."""
    if not ip:
        return None
    v = ip[0] >> 4
    if v == 4:
        ihl = (ip[0] & 15) * 4
        if ip[9] != 6 or struct.unpack("!H", ip[6:8])[0] & 0x3FFF:
            return None
        tot = struct.unpack("!H", ip[2:4])[0]
        src, dst, t = ip[12:16], ip[16:20], ip[ihl:tot]
    elif v == 6:
        if ip[6] != 6:
            return None
        plen = struct.unpack("!H", ip[4:6])[0]
        src, dst, t = ip[8:24], ip[24:40], ip[40 : 40 + plen]
    else:
        return None
    if len(t) < 20:
        return None
    sport, dport, seq = struct.unpack("!HHI", t[:8])
    doff = (t[12] >> 4) * 4
    return src, dst, sport, dport, seq, t[13], t[doff:]


def conversations(path):
    """Each TCP conversation of a capture: (server port, [(dir, bytes)]) in wire order,
    dir 0 client → server; retransmitted bytes are dropped."""
    link, pkts = read_capture(path)
    flows = {}
    order = []
    for _, frame, _ in pkts:
        seg = tcp_of(l3_of(link, frame))
        if seg is None:
            continue
        src, dst, sport, dport, seq, flags, payload = seg
        key = tuple(sorted([(src, sport), (dst, dport)]))
        f = flows.get(key)
        if f is None or (flags & 0x12 == 0x02 and f["closed"]):
            client = (src, sport)
            if not flags & 0x02 or flags & 0x10:  # picked up mid-way: the mail port is the server
                client = (dst, dport) if sport in MAIL_PORTS or sport in TLS_PORTS else (src, sport)
            server = (dst, dport) if client == (src, sport) else (src, sport)
            f = {"client": client, "port": server[1], "next": {}, "chunks": [], "closed": False}
            flows[key] = f
            order.append(f)
        d = 0 if (src, sport) == f["client"] else 1
        if flags & 0x05:
            f["closed"] = True
        if flags & 0x02:
            f["next"][d] = (seq + 1) & 0xFFFFFFFF
            continue
        if not payload:
            continue
        nxt = f["next"].get(d, seq)
        skip = (nxt - seq) & 0xFFFFFFFF
        if skip >= len(payload) and skip < 1 << 31:
            continue  # a retransmission
        if skip >= 1 << 31:
            skip = 0  # a hole: take the bytes as they come
        payload = payload[skip:]
        f["next"][d] = (seq + skip + len(payload)) & 0xFFFFFFFF
        f["chunks"].append((d, payload))
    return [(f["port"], f["chunks"]) for f in order if f["chunks"]]


# ---- input formats -------------------------------------------------------------


def dissect_input(chunks, rule=0x5A):
    """fuzz-dissect.h: a rule byte, then chunks (dir, bytes) or (dir, None, gap length)."""
    out = bytearray([rule])
    for c in chunks:
        d = c[0]
        if c[1] is None:
            n = min(c[2], 16384) - 1
            out += bytes([0x80 * d | 0x40 | n >> 8, n & 0xFF])
            continue
        data = c[1]
        while True:
            part, data = data[:16383], data[16383:]
            out += bytes([0x80 * d | len(part) >> 8, len(part) & 0xFF]) + part
            if not data:
                break
        if len(out) > SEED_MAX:
            break
    return bytes(out[:SEED_MAX])


def packet_input(link, pkts, a, b):
    """fuzz-packet.c: link, two set-up bytes, then (time, wire extra, length, bytes)."""
    out = bytearray([LINKS.index(link), a, b])
    prev = None
    for us, frame, wirelen in pkts:
        d = 0 if prev is None else max(0, round((us - prev) / 1000))
        prev = us
        while d > 127:
            if d >= 60000:
                k = min(31, d // 60000)
                out += bytes([0xA0 | k, 0xFF])
                d -= k * 60000
            elif d >= 1000:
                k = min(31, d // 1000)
                out += bytes([0x80 | k, 0xFF])
                d -= k * 1000
            else:
                out += bytes([127, 0xFF])
                d -= 127
        extra = wirelen - len(frame)
        w = extra if extra < 0x80 else min(0xFE, 0x80 + extra // 1024)
        out += bytes([d, w]) + struct.pack("!H", len(frame)) + frame
    return bytes(out)


# ---- the unit tests' scripts -----------------------------------------------------

C_STR = re.compile(r'"((?:[^"\\]|\\.)*)"')


def c_string(body):
    """The bytes of a C string literal's body."""
    out, i = bytearray(), 0
    simple = {"n": 10, "r": 13, "t": 9, "0": 0, "\\": 92, '"': 34, "'": 39, "a": 7, "b": 8,
              "f": 12, "v": 11, "?": 63}
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out += ch.encode()
            i += 1
            continue
        nx = body[i + 1]
        if nx == "x":
            m = re.match(r"[0-9a-fA-F]+", body[i + 2 :])
            out.append(int(m.group(0), 16) & 0xFF)
            i += 2 + len(m.group(0))
        elif nx in "01234567":
            m = re.match(r"[0-7]{1,3}", body[i + 1 :])
            out.append(int(m.group(0), 8) & 0xFF)
            i += 1 + len(m.group(0))
        else:
            out.append(simple[nx])
            i += 2
    return bytes(out)


def unit_scripts(test_file):
    """The chunk arrays of a unit test file: [[(dir, bytes) or (dir, None, n)]]."""
    pre = subprocess.run(
        ["cpp", "-P", "-I" + os.path.join(ROOT, "dissectors"), "-I" + os.path.join(ROOT, "tests/unit"),
         test_file], capture_output=True, text=True, check=True).stdout
    scripts = []
    for m in re.finditer(r"struct chunk \w+\[\] = \{", pre):
        i, depth = m.end(), 1
        while depth and i < len(pre):
            depth += {"{": 1, "}": -1}.get(pre[i], 0)
            i += 1
        body = pre[m.end() : i - 1]
        chunks = []
        for el in re.finditer(r"\{\s*DIR_TO_(SERVER|CLIENT)\s*,(.*?)\}", body, re.S):
            d = 0 if el.group(1) == "SERVER" else 1
            rest = el.group(2)
            if "sizeof" in rest or '"' in rest:
                lit = rest.split("sizeof")[0]
                chunks.append((d, b"".join(c_string(s) for s in C_STR.findall(lit))))
            else:
                n = re.findall(r"\d+", rest)
                if n:
                    chunks.append((d, None, int(n[-1])))
        if chunks:
            scripts.append(chunks)
    return scripts


def tls_vector(name):
    """A byte array of tests/unit/tls-vectors.h by name."""
    text = open(os.path.join(ROOT, "tests/unit/tls-vectors.h")).read()
    m = re.search(r"static const uint8_t " + name + r"\[\] = \{(.*?)\};", text, re.S)
    body = re.sub(r"/\*.*?\*/", "", m.group(1), flags=re.S)
    return bytes(int(x, 0) for x in re.findall(r"0x[0-9a-fA-F]+|\d+", body))


# ---- TLS: the server's certificates -------------------------------------------------


def server_certs(chunks):
    """(SNI, [DER]) from a TLS conversation: the Certificate message of TLS 1.2 and below."""
    streams = [b"".join(c[1] for c in chunks if c[0] == d) for d in (0, 1)]
    sni, certs = b"", []
    for d, s in enumerate(streams):
        hs, off = b"", 0
        while off + 5 <= len(s):
            ctype, _, n = struct.unpack("!BHH", s[off : off + 5])
            if ctype == 22:
                hs += s[off + 5 : off + 5 + n]
            elif ctype == 20:
                break  # after ChangeCipherSpec: encrypted
            off += 5 + n
        o = 0
        while o + 4 <= len(hs):
            t, n = hs[o], int.from_bytes(hs[o + 1 : o + 4], "big")
            msg = hs[o + 4 : o + 4 + n]
            if t == 1 and d == 0:
                m = re.search(rb"\x00\x00..\x00..\x00(..)", msg, re.S)
                if m:
                    k = int.from_bytes(m.group(1), "big")
                    sni = msg[m.end() : m.end() + k]
            if t == 11 and d == 1:
                p = 3
                while p + 3 <= len(msg):
                    k = int.from_bytes(msg[p : p + 3], "big")
                    certs.append(msg[p + 3 : p + 3 + k])
                    p += 3 + k
            o += 4 + n
    return sni, certs


def x509_input(when, flags, host, certs):
    """fuzz-x509.c: time (s), flags, host, then certificates with 2-byte lengths."""
    out = struct.pack("!IB", when, flags) + bytes([len(host)]) + host
    for c in certs:
        out += struct.pack("!H", len(c)) + c
    return out


# ---- the rest ---------------------------------------------------------------------


def sasl_inputs():
    """fuzz-sasl.c: a flags byte, then lines: the mechanism, the client's responses."""
    b64 = {
        "PLAIN": ["AGJvYgBzZWNyZXQ=", "YWRtaW4AYm9iAHNlY3JldA==", "AGFsaWNlAGh1bnRlcjI="],
        "LOGIN": ["Ym9i\nc2VjcmV0", "YWxpY2U=\naHVudGVyMg=="],
        "CRAM-MD5": ["Ym9iIDNjNmUwYjhhOWMxNTIyNGE4MjI4YjlhOThjYTE1MzFk"],
        "XOAUTH2": ["dXNlcj1ib2JAZXhhbXBsZS5jb20BYXV0aD1CZWFyZXIgeWEyOS5zZWNyZXQtdG9rZW4BAQ=="],
        "OAUTHBEARER": ["bixhPWJvYkBleGFtcGxlLmNvbSwBaG9zdD1tYWlsLmV4YW1wbGUuY29tAXBvcnQ9NTg3AWF1dGg9"
                        "QmVhcmVyIHRvay5zZWNyZXQBAQ=="],
        "SCRAM-SHA-256": ["biwsbj1ib2Iscj1yT3ByTkdmd0ViZVJXZ2JORWtxTw==\n"
                          "Yz1iaXdzLHI9ck9wck5HZndFYmVSV2diTkVrcU8laHZZRHBXVWEyUmFUQ0FmdXhGSWxqKWhO"
                          "bEYscD1kSHpiWmFwV0lrNGpVaE4rVXRlOXl0YWc5empmTUhnc3FtbWl6N0FuZFZRPQ=="],
        "DIGEST-MD5": ["dXNlcm5hbWU9ImJvYiIscmVhbG09ImV4YW1wbGUub3JnIixub25jZT0iT0E2TUc5dEVRR20yaGgi"],
        "ANONYMOUS": ["dHJhY2U="],
        "GSSAPI": ["YIIBxgYJKoZIhvcSAQICAQBuggG1MIIBsaADAgEF"],
    }
    out = []
    for i, (mech, lines) in enumerate(sorted(b64.items())):
        for j, body in enumerate(lines):
            out.append(bytes([(i + j) & 0xFF]) + (mech + "\n" + body + "\n").encode())
    out.append(b"\x04PLAIN\n*\n")
    out.append(b"\x05LOGIN\n=\nc2VjcmV0\n!PLAIN\nAGJvYgBzZWNyZXQ=\n")
    out.append(b"\x06PLAIN\nAGJv YgBz\n")
    return out


def command_lines():
    """fuzz-config.c: each command line of docs/cli.md and README.md, NUL-separated."""
    lines = set()
    for doc in ("docs/cli.md", "README.md", "docs/redis.md", "docs/anonymize.md", "docs/summary.md"):
        path = os.path.join(ROOT, doc)
        if not os.path.exists(path):
            continue
        for ln in open(path, encoding="utf-8"):
            ln = ln.strip()
            m = re.match(r"^(?:\$ |sudo )?postcard (.*)$", ln)
            if not m:
                continue
            cmd = m.group(1).split(" #")[0].split("|")[0].strip()
            try:
                args = shlex.split(cmd)
            except ValueError:
                continue
            if args and args[0] != "report":
                lines.add(b"\0".join(a.encode() for a in args))
    return sorted(lines)


def json_docs():
    """fuzz-jsonread.c: summary documents and records of postcard, and a few edge cases."""
    docs = [b'{"a":[1,2.5,-3,true,false,null,"\\u00e9\\ud83d\\ude00"],"b":{}}',
            b"\xef\xbb\xbf[]", b'"\\u0000"', b"18446744073709551615", b"18446744073709551616"]
    pc = os.path.join(ROOT, "build", "postcard")
    if not os.path.exists(pc):
        print("mkseeds: build/postcard missing: no summary documents (make)", file=sys.stderr)
        return docs
    with tempfile.TemporaryDirectory() as tmp:
        for cap in ("demo.pcapng", "tls-certs.pcap", "smtp-auth-mechs.pcap", "imap-plain.pcap"):
            summ, recs = os.path.join(tmp, "s.json"), os.path.join(tmp, "r.json")
            subprocess.run([pc, "-q", "-r", os.path.join(ROOT, "pcaps", cap), "--sensor-id", "seed",
                            "-w", recs, "--summary", summ], check=True)
            docs.append(open(summ, "rb").read())
            kinds = {}
            for ln in open(recs, "rb"):
                m = re.search(rb'"event_type":"(\w+)"', ln)
                if m and m.group(1) not in kinds:
                    kinds[m.group(1)] = ln.rstrip(b"\n")
            docs.extend(kinds.values())
            os.unlink(recs)
    return docs


# ---- writing ------------------------------------------------------------------------


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "tests/fuzz/seeds")
    seeds = {}

    def add(target, name, data):
        seeds.setdefault(target, {})[name] = data

    captures = sorted(glob.glob(os.path.join(ROOT, "pcaps", "*.pcap*")))
    # set-ups of fuzz-packet.c, one per capture in turn: as main.c runs; tiny caps with
    # short timeouts, stats and summaries; live; anonymised with --tls-all-ports
    setups = [(0x1F, 0x00), (0x00, 0x07), (0x5A, 0x01), (0xBF, 0x22)]
    for i, cap in enumerate(captures):
        stem = os.path.basename(cap).split(".")[0]
        link, pkts = read_capture(cap)
        if link in LINKS:
            a, b = setups[i % len(setups)]
            add("packet", stem, packet_input(link, pkts, a, b))
        for k, (port, chunks) in enumerate(conversations(cap)):
            proto = MAIL_PORTS.get(port)
            if proto is not None:
                add(proto, "%s-%d" % (stem, k), dissect_input(chunks))
            first_tls = next((j for j, c in enumerate(chunks)
                              if c[1][:1] == b"\x16" or (c[1][:1] == b"\x80" and c[1][2:3] == b"\x01")),
                             None)
            if first_tls is None:
                continue
            tls = chunks[first_tls:]
            add("tls", "%s-%d" % (stem, k), dissect_input(tls))
            sni, certs = server_certs(tls)
            for c in certs:
                add("x509", "cert-" + c[-8:].hex(), x509_input(1700000000, 1, sni, [c]))
            if len(certs) > 1:
                add("x509", "chain-" + certs[0][-8:].hex(), x509_input(1700000000, 1, sni, certs))
    for proto in ("smtp", "pop3", "imap"):
        for k, script in enumerate(unit_scripts(os.path.join(ROOT, "tests/unit/test-%s.c" % proto))):
            add(proto, "unit-%d" % k, dissect_input(script, rule=k & 0xFF))
    add("tls", "unit-sslv2", dissect_input([(0, tls_vector("v2_client_hello")),
                                            (1, tls_vector("v2_server_hello"))]))
    for k, s in enumerate(sasl_inputs()):
        add("sasl", "vector-%d" % k, s)
    default = [open(p, "rb").read() for p in sorted(glob.glob(os.path.join(ROOT, "rules/default/*.rules")))]
    variables = b"HOME_NET = [10.0.0.0/8,192.168.0.0/16]\nMAIL_SERVERS = [$HOME_NET,!10.1.2.3]\n" \
                b"MAIL_PORTS = [25,465,587,110,995,143,993]\n"
    for k, text in enumerate(default):
        add("rules", "default-%d" % k, text)
        add("rules", "default-vars-%d" % k, variables + b"\0" + text)
    add("rules", "include", b'include "mail.rules"\ninclude "cycle.rules"\n'
        b"suppress gen_id 1, sig_id 2100001, track by_src, ip 10.0.0.0/8\n")
    for k, line in enumerate(command_lines()):
        add("config", "cli-%d" % k, line)
    for k, doc in enumerate(json_docs()):
        add("jsonread", "doc-%d" % k, doc)

    for target, files in sorted(seeds.items()):
        d = os.path.join(out_dir, target)
        os.makedirs(d, exist_ok=True)
        for name, data in sorted(files.items()):
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
        print("%-9s %4d seeds, %7d bytes" % (target, len(files), sum(len(v) for v in files.values())))


if __name__ == "__main__":
    main()

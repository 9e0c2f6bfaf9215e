#!/usr/bin/env python3
"""make bench-flood: postcard under a flood of spoofed SYNs at its default settings, and the
memory each kind of tracked flow costs (the figures of docs/limits.md).

    BUILD=build python3 tests/bench-flood.py

1. The flood: 2,000,000 spoofed SYNs over 20 s (100,000 a second) with 8 real mail sessions of
   5 s each inside it (tests/mkflood.py), against the default --max-flows (200,000), so the
   table turns over every 2 s. postcard runs once with the flood and once on the sessions
   alone; their mail, tls and alert records must be the same (apart from pcap_filename), and
   the evictions are counted by class. Peak RSS (/usr/bin/time), CPU time per packet.
2. Normal traffic: CPU time per packet over build/bench/bench-BENCH_MB.pcap (tests/mkbench.py
   from pcaps/ and the corpus, as make bench builds it; BENCH_MB default 200).
3. Memory per tracked flow, by kind: peak RSS with N and with 2N flows of one kind held open
   at once (--max-flows 1,000,000 for both): (RSS(2N) - RSS(N)) / N. Kinds: embryonic (a SYN),
   other (an HTTP exchange, classified and bypassed), mail (an SMTP session up to its QUIT),
   tls (an IMAPS session through its handshake and certificates), tls-hello (an IMAPS session
   whose handshake is under way: the ClientHello sent, no answer yet).

Captures are built once in build/bench/ and kept. BENCH_RUNS (default 3): runs per timing,
the median is shown.
"""
import json
import os
import re
import statistics
import struct
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
import mkflood  # noqa: E402

BUILD = os.environ.get("BUILD", "build")
BIN = os.path.join(ROOT, BUILD, "postcard")
DIR = os.path.join(ROOT, "build", "bench")
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
BENCH_MB = int(os.environ.get("BENCH_MB", "200"))
PCAPS = os.path.join(ROOT, "pcaps")
SESSIONS = [os.path.join(PCAPS, f + ".pcap") for f in (
    "smtp-plain", "smtp-offered-unused", "smtp-starttls", "imap-plain", "imap-starttls",
    "pop3-plain", "pop3-stls")]
SYNS, SECONDS = 2000000, 20


def capture(name, make):
    path = os.path.join(DIR, name)
    if not os.path.exists(path):
        make(path + ".tmp")
        os.rename(path + ".tmp", path)
    return path


def packets_in(path):
    n, off = 0, 24
    with open(path, "rb") as fh:
        data = fh.read()
    while off + 16 <= len(data):
        n += 1
        off += 16 + struct.unpack_from("<I", data, off + 8)[0]
    return n


def run(args, keep_output=False):
    """(user+sys seconds, peak RSS KiB, stdout, stderr) of one postcard run."""
    out = subprocess.PIPE if keep_output else subprocess.DEVNULL
    p = subprocess.run(["/usr/bin/time", "-f", "@@%U %S %M", BIN] + args, stdout=out,
                       stderr=subprocess.PIPE, timeout=3600)
    err = p.stderr.decode("utf-8", "replace")
    if p.returncode != 0:
        sys.exit("postcard %s: status %d\n%s" % (" ".join(args), p.returncode, err))
    m = re.search(r"^@@([\d.]+) ([\d.]+) (\d+)$", err, re.M)
    return (float(m.group(1)) + float(m.group(2)), int(m.group(3)),
            p.stdout.decode("utf-8", "replace") if keep_output else "", err)


def median_cpu(args):
    return statistics.median(run(args)[0] for _ in range(RUNS))


def session_records(out):
    recs = [json.loads(l) for l in out.splitlines() if l.strip()]
    keep = {}
    for r in recs:
        if r["event_type"] in ("mail", "tls", "alert"):
            r.pop("pcap_filename", None)
            keep[(r["event_type"], r["flow_id"], r.get("alert", {}).get("signature_id"))] = r
    stats = [r for r in recs if r["event_type"] == "stats"][-1]["stats"]
    return keep, stats


# --- 1. the flood ---------------------------------------------------------------------

def flood():
    t = time.time()
    path = capture("flood-2m.pcap", lambda p: mkflood.build(p, SESSIONS, SYNS, SECONDS))
    alone = capture("flood-alone.pcap", lambda p: mkflood.build(p, SESSIONS, 0, SECONDS))
    print("capture: %s (%d MiB, %d packets; built or found in %.0f s)"
          % (os.path.relpath(path, ROOT), os.path.getsize(path) >> 20, packets_in(path),
             time.time() - t))
    # the records (2 M flow records left out: they do not bear on the sessions)
    ours, st = session_records(run(["-r", path, "--no-flow-records"], keep_output=True)[2])
    theirs, _ = session_records(run(["-r", alone, "--no-flow-records"], keep_output=True)[2])
    same = ours == theirs
    false_alerts = [k for k in ours if k[0] == "alert" and k not in theirs]
    n = packets_in(path)
    # time and memory at the default settings: every record written
    runs = [run(["-q", "-r", path, "-w", "/dev/null"]) for _ in range(RUNS)]
    cpu = statistics.median(r[0] for r in runs)
    rss = max(r[1] for r in runs)
    f = st["flow"]
    print("default settings (--max-flows 200000), %d SYNs over %d s and %d sessions:"
          % (SYNS, SECONDS, sum(k[0] == "mail" for k in theirs)))
    print("  session records as without the flood: %s (%d mail, %d tls, %d alert records; "
          "%d alerts not raised without the flood)"
          % ("yes" if same else "NO", sum(k[0] == "mail" for k in ours),
             sum(k[0] == "tls" for k in ours), sum(k[0] == "alert" for k in ours),
             len(false_alerts)))
    print("  flows evicted: %d (embryonic %d, other %d, session %d); sessions cut: %d mail, "
          "%d tls" % (f["evicted"], f["evicted_embryonic"], f["evicted_other"],
                      f["evicted_session"], st["mail"]["cut"], st["tls"]["cut"]))
    print("  peak RSS: %d MiB" % (rss // 1024))
    print("  CPU time: %.2f s, %.0f ns per packet" % (cpu, cpu * 1e9 / n))
    return same and not false_alerts, cpu * 1e9 / n


# --- 2. normal traffic ----------------------------------------------------------------

def normal():
    def make(p):
        corpus = os.environ.get("POSTCARD_CORPUS", os.path.join(ROOT, "..", "shared", "corpus"))
        inputs = [os.path.join(PCAPS, f) for f in sorted(os.listdir(PCAPS)) if f.endswith(".pcap")]
        if corpus != "none" and os.path.isdir(corpus):
            for d in sorted(os.listdir(corpus)):
                sub = os.path.join(corpus, d)
                if os.path.isdir(sub):
                    inputs += [os.path.join(sub, f) for f in sorted(os.listdir(sub))
                               if f.endswith(".pcap")]
        subprocess.run([sys.executable, os.path.join(ROOT, "tests", "mkbench.py"), p,
                        str(BENCH_MB)] + inputs, check=True, stdout=subprocess.DEVNULL)
    path = capture("bench-%d.pcap" % BENCH_MB, make)
    n = packets_in(path)
    cpu = median_cpu(["-q", "-r", path, "-w", "/dev/null"])
    print("normal traffic: %s (%d packets): CPU time %.2f s, %.0f ns per packet"
          % (os.path.relpath(path, ROOT), n, cpu, cpu * 1e9 / n))
    return cpu * 1e9 / n


# --- 3. memory per flow ---------------------------------------------------------------

def conversation(pcap, server_port, first_bytes_only=False):
    """The packets of the capture's conversation with server_port, up to its first FIN or
    RST (left out, so the flow stays open); first_bytes_only: up to the client's first
    payload."""
    for s in mkflood.sessions([os.path.join(PCAPS, pcap)]):
        ihl = (s[0][2][14] & 15) * 4
        if server_port in struct.unpack_from(">HH", s[0][2], 14 + ihl):
            out = []
            for t, orig, f in s:
                if f[14 + ihl + 13] & 0x05:  # FIN or RST
                    break
                out.append((t, orig, f))
                to_server = struct.unpack_from(">H", f, 14 + ihl + 2)[0] == server_port
                data = len(f) > 14 + ihl + (f[14 + ihl + 12] >> 4) * 4
                if first_bytes_only and to_server and data:
                    break
            return out
    raise SystemExit("no conversation with port %d in %s" % (server_port, pcap))


def replicate(conv, n, out):
    """n copies of a conversation, each from its own client address (10.100.0.0/10 + k), one
    after the other, every packet 1 µs after the one before."""
    client = conv[0][2][26:30]
    rec = struct.Struct("<IIII")
    t = 1700000000 * 1000000
    with open(out, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        chunk = []
        for k in range(n):
            addr = struct.pack(">I", (10 << 24 | 100 << 16) + k)
            for _, orig, f in conv:
                g = bytearray(f)
                if g[26:30] == client:
                    g[26:30] = addr
                else:
                    g[30:34] = addr
                chunk.append(rec.pack(t // 1000000, t % 1000000, len(g), orig) + g)
                t += 1
            if len(chunk) >= 65536:
                fh.write(b"".join(chunk))
                chunk = []
        fh.write(b"".join(chunk))


def syn_only(n, out):
    rec = struct.Struct("<IIII")
    t = 1700000000 * 1000000
    tmpl = mkflood._syn_template()
    with open(out, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        chunk = []
        for i in range(n):
            chunk.append(rec.pack(t // 1000000, t % 1000000, 54, 54) +
                         mkflood.syn_frame(i, 1, tmpl))
            t += 5
            if len(chunk) >= 65536:
                fh.write(b"".join(chunk))
                chunk = []
        fh.write(b"".join(chunk))


def per_flow():
    kinds = [
        ("embryonic (a SYN)", 200000, lambda n, p: syn_only(n, p)),
        ("other (HTTP, bypassed)", 100000,
         lambda n, p: replicate(conversation("mixed-nonmail.pcap", 8080), n, p)),
        ("mail (SMTP session, open)", 20000,
         lambda n, p: replicate(conversation("smtp-plain.pcap", 25), n, p)),
        ("tls (IMAPS session, open)", 20000,
         lambda n, p: replicate(conversation("imaps-pop3s.pcap", 993), n, p)),
        ("tls-hello (IMAPS, ClientHello)", 10000,
         lambda n, p: replicate(conversation("imaps-pop3s.pcap", 993, True), n, p)),
    ]
    print("memory per tracked flow (peak RSS with 2N flows open minus with N, over N; "
          "--max-flows 1000000):")
    out = {}
    for name, n, make in kinds:
        tag = name.split()[0]
        rss = []
        for m in (n, 2 * n):
            path = capture("flows-%s-%d.pcap" % (tag, m), lambda p, m=m: make(m, p))
            rss.append(min(run(["-q", "-r", path, "-w", "/dev/null", "--max-flows",
                                "1000000"])[1] for _ in range(RUNS)))
        b = (rss[1] - rss[0]) * 1024 / n
        out[tag] = b
        print("  %-28s N=%-7d %6d -> %6d KiB: %7.0f bytes per flow" % (name, n, rss[0],
                                                                      rss[1], b))
    return out


def main():
    if not os.access(BIN, os.X_OK):
        sys.exit("%s is missing: make" % BIN)
    os.makedirs(DIR, exist_ok=True)
    ok, flood_ns = flood()
    print()
    normal_ns = normal()
    print("time per packet: flood %.0f ns, normal traffic %.0f ns (%.2fx)"
          % (flood_ns, normal_ns, flood_ns / normal_ns))
    print()
    per_flow()
    if not ok:
        sys.exit("the flood changed the sessions' records")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""postcard integration tests: inputs that are not what they should be.

Empty, garbage, truncated and mislabelled captures, a pcapng mixing link types, files and
interfaces that cannot be opened, and every capture damaged at many places: one line on
stderr and the right exit status, what was read before the damage still reported, and no
sanitizer report.
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

from common import (BIN, CORPUS, PCAPS, Skip, corpus_files, flows, project_pcaps, run,
                    run_suite)


# --- broken inputs -------------------------------------------------------------

def pcap_header(link=1, snaplen=65535):
    return struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, snaplen, link)


def broken_inputs(d):
    src = os.path.join(PCAPS, "smtp-plain.pcap")
    with open(src, "rb") as fh:
        good = fh.read()
    # cut in the middle of the 11th packet
    off, n = 24, 0
    while n < 10:
        incl = struct.unpack_from("<I", good, off + 8)[0]
        off += 16 + incl
        n += 1
    cases = {
        "empty.pcap": b"",
        "garbage.pcap": bytes((i * 7919 + 13) & 0xff for i in range(4096)),
        "truncated.pcap": good[: off + 16 + 20],
        "bogus-caplen.pcap": pcap_header() + struct.pack("<IIII", 1, 0, 0xFFFFFFF0, 60) + b"\0" * 60,
        "wifi.pcap": pcap_header(link=105) + struct.pack("<IIII", 1, 0, 24, 24) + b"\0" * 24,
        "text.pcap": b"this is not a capture file\n" * 10,
    }
    out = {}
    for name, data in cases.items():
        p = os.path.join(d, name)
        with open(p, "wb") as fh:
            fh.write(data)
        out[name] = p
    return out


def mixed_link_pcapng(path):
    """A pcapng with two interfaces of different link types (Ethernet and raw IP)."""
    def block(t, body):
        pad = (4 - len(body) % 4) % 4
        n = 12 + len(body) + pad
        return struct.pack("<II", t, n) + body + b"\0" * pad + struct.pack("<I", n)
    shb = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    idb_eth = block(1, struct.pack("<HHI", 1, 0, 65535))
    idb_raw = block(1, struct.pack("<HHI", 101, 0, 65535))
    pkt = bytes.fromhex("4500002800010000400600007f0000017f000001"
                        "303900190000000000000000500220000000000000")[:40]
    epb0 = block(6, struct.pack("<IIIII", 0, 0, 1, 14 + 40, 14 + 40) +
                 b"\x02" * 12 + b"\x08\x00" + pkt)
    epb1 = block(6, struct.pack("<IIIII", 1, 0, 2, 40, 40) + pkt)
    with open(path, "wb") as fh:
        fh.write(shb + idb_eth + idb_raw + epb0 + epb1)


def expect_error(args, status, *needles):
    st, out, err = run(["-q"] + args)
    lines = [l for l in err.splitlines() if l.strip()]
    assert st == status, "%s: status %d, expected %d; stderr: %s" % (args, st, status, err)
    assert len(lines) == 1, "%s: expected one line, got: %s" % (args, err)
    for n in needles:
        assert n in lines[0], "%s: %r not in %r" % (args, n, lines[0])
    return out


def test_broken_inputs_give_one_line_and_status():
    d = tempfile.mkdtemp()
    try:
        b = broken_inputs(d)
        expect_error(["-r", b["empty.pcap"]], 1, b["empty.pcap"], "empty")
        expect_error(["-r", b["garbage.pcap"]], 1, b["garbage.pcap"], "not a pcap or pcapng")
        expect_error(["-r", b["text.pcap"]], 1, b["text.pcap"], "not a pcap or pcapng")
        expect_error(["-r", b["bogus-caplen.pcap"]], 1, b["bogus-caplen.pcap"])
        expect_error(["-r", b["wifi.pcap"]], 1, b["wifi.pcap"], "unsupported link type 105")
        expect_error(["-r", os.path.join(d, "missing.pcap")], 1, "missing.pcap",
                     "No such file")
        expect_error(["-r", d], 1, d, "directory")
        m = os.path.join(d, "mixed.pcapng")
        mixed_link_pcapng(m)
        expect_error(["-r", m], 1, m, "different")
    finally:
        shutil.rmtree(d)


def test_truncated_capture_still_reports_what_was_read():
    d = tempfile.mkdtemp()
    try:
        b = broken_inputs(d)
        out = expect_error(["-r", b["truncated.pcap"]], 1, b["truncated.pcap"], "truncated")
        fl = flows(out)
        assert len(fl) == 1 and fl[0]["app_proto"] == "smtp", fl
        assert fl[0]["flow"]["pkts_toserver"] + fl[0]["flow"]["pkts_toclient"] == 10
        st, _, err = run(["-r", b["truncated.pcap"]])
        assert "capture-truncated=1" in err, err
    finally:
        shutil.rmtree(d)


def test_unreadable_file():
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        raise Skip("needs root and setpriv to drop privileges")
    d = tempfile.mkdtemp()
    try:
        p = os.path.join(d, "secret.pcap")
        shutil.copy(os.path.join(PCAPS, "pop3-plain.pcap"), p)
        os.chmod(p, 0o600)
        os.chmod(d, 0o755)
        # --no-rules: the rules of a checkout in a private folder are unreadable to that user,
        # which would stop postcard first; this test is about the capture file
        r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            BIN, "-q", "--no-rules", "-r", p], capture_output=True)
        err = r.stderr.decode()
        assert r.returncode == 1 and p in err and "Permission denied" in err, err
    finally:
        shutil.rmtree(d)


def test_bad_interfaces():
    expect_error(["-i", "nosuchif0"], 1, "nosuchif0", "no such interface")
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        raise Skip("needs root and setpriv to test the permission message")
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        "--inh-caps=-all", BIN, "-q", "--no-rules", "-i", "lo"],
                       capture_output=True, timeout=30)
    err = r.stderr.decode()
    assert r.returncode == 1 and "lo" in err and "permission denied" in err, err


def test_hostile_corpus_is_survived():
    """Every capture, cut at many points and with bytes flipped, runs clean under the sanitizers."""
    d = tempfile.mkdtemp()
    try:
        srcs = project_pcaps()
        if CORPUS is not None:
            srcs += [f for f in corpus_files() if f.endswith(".pcap")][::6]
        n = 0
        for src in srcs:
            with open(src, "rb") as fh:
                data = bytearray(fh.read())
            if data[:4] not in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1"):
                continue  # classic pcap only: its record headers are easy to keep intact
            seed = len(data)
            for i in range(24, len(data)):
                seed = (seed * 1103515245 + 12345) & 0x7fffffff
                if seed % 97 == 0:
                    data[i] ^= (seed >> 8) & 0xff
            p = os.path.join(d, "fuzzed.pcap")
            with open(p, "wb") as fh:
                fh.write(bytes(data))
            st, out, err = run(["-q", "--tls-all-ports", "-r", p])
            assert st in (0, 1), (src, st, err)
            for l in out.splitlines():
                json.loads(l)
            n += 1
        assert n >= 10
    finally:
        shutil.rmtree(d)


if __name__ == "__main__":
    sys.exit(run_suite(globals()))

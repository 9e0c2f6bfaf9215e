#!/usr/bin/env python3
"""postcard integration tests: packets to flows and streams, checked against tshark and tcpdump.

Flow counts (TCP, UDP) of the project's captures and the corpus, per-direction packets and
bytes, reassembled stream bytes, link types (SLL, SLL2, 802.1Q, 802.1ad), IP fragments,
protocols found by content on any port, and the shape of every record.
"""
import concurrent.futures
import json
import os
import re
import subprocess
import sys

from common import (PCAPS, ROOT, corpus_files, flows, project_pcaps, run, run_suite,
                    tshark_convs)


def check_flow_counts(files):
    """postcard's TCP flows == tshark's TCP conversations, for each file."""
    def one(f):
        st, out, err = run(["-q", "-r", f])
        # a damaged file ends with one line naming it; what came before still counts
        assert st == 0 or (st == 1 and len(err.splitlines()) == 1 and f in err), \
            "%s: status %d: %s" % (f, st, err)
        ours = len(flows(out, "TCP"))
        theirs = tshark_convs(f)
        return f, ours, theirs
    bad = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
        for f, ours, theirs in ex.map(one, files):
            if ours != theirs:
                bad.append("%s: postcard %d TCP flows, tshark %d conversations"
                           % (os.path.relpath(f, ROOT), ours, theirs))
    assert not bad, "\n".join(bad)


# --- corpus and project captures ---------------------------------------------

def test_corpus_flow_counts_match_tshark():
    check_flow_counts(corpus_files())


def test_project_pcaps_flow_counts_match_tshark():
    files = project_pcaps()
    assert len(files) >= 10, "pcaps/ has %d captures" % len(files)
    check_flow_counts(files)


def test_project_udp_flow_counts_match_tshark():
    bad = []
    for f in project_pcaps():
        st, out, _ = run(["-q", "-r", f])
        ours, theirs = len(flows(out, "UDP")), tshark_convs(f, "udp")
        if ours != theirs:
            bad.append("%s: postcard %d UDP flows, tshark %d" % (f, ours, theirs))
    assert not bad, "\n".join(bad)


def test_output_is_deterministic():
    files = project_pcaps()[:6]
    args = ["-q"] + sum((["-r", f] for f in files), [])
    a = run(args)[1]
    b = run(args)[1]
    assert a and a == b, "two runs over the same captures differ"


def test_every_record_is_one_json_object_per_line():
    _, out, _ = run(["-q", "-r", os.path.join(PCAPS, "demo.pcapng")])
    lines = out.splitlines()
    assert lines
    kinds = set()
    for l in lines:
        r = json.loads(l)
        kinds.add(r["event_type"])
        assert r.get("pcap_filename", "").endswith("demo.pcapng"), l
        assert r.get("host"), l
        if r["event_type"] == "stats":
            assert set(r["stats"]) >= {"decoder", "flow", "mail", "tls", "detect", "outputs"}, l
            continue
        for k in ("timestamp", "flow_id", "event_type", "src_ip", "src_port", "dest_ip",
                  "dest_port", "proto", "app_proto"):
            assert k in r, "missing %s in %s" % (k, l)
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+0000$", r["timestamp"])
        if r["event_type"] == "flow":
            for k in ("pkts_toserver", "pkts_toclient", "bytes_toserver", "bytes_toclient",
                      "start", "end"):
                assert k in r["flow"], "missing flow.%s" % k
        elif r["event_type"] == "mail":
            for k in ("port_class", "capabilities", "starttls", "logins", "cleartext_messages"):
                assert k in r["mail"], "missing mail.%s" % k
        elif r["event_type"] == "tls":
            for k in ("version", "sni", "from_proto", "client_max_version", "cipher",
                      "cipher_weaknesses", "alert", "handshake_complete", "ja3", "ja3s", "certs"):
                assert k in r["tls"], "missing tls.%s" % k
        elif r["event_type"] == "alert":
            for k in ("action", "gid", "signature_id", "rev", "signature", "category",
                      "severity"):
                assert k in r["alert"], "missing alert.%s" % k
            assert "mail" in r or "tls" in r, "alert without the session's facts: " + l
        else:
            raise AssertionError("unknown event_type in " + l)
    assert kinds == {"flow", "mail", "tls", "alert", "stats"}, kinds


def test_flow_packets_and_bytes_match_tshark():
    """Per-direction packet and byte counts of each flow equal tshark's conversation table."""
    f = os.path.join(PCAPS, "demo.pcapng")
    p = subprocess.run(["tshark", "-r", f, "-q", "-z", "conv,tcp"], capture_output=True)
    convs = {}
    for l in p.stdout.decode().splitlines():
        m = re.match(r"^(\S+):(\d+)\s+<->\s+(\S+):(\d+)\s+(\d+)\s+(\d+) bytes\s+(\d+)\s+(\d+) bytes", l)
        if m:
            a, pa, b, pb = m.group(1), int(m.group(2)), m.group(3), int(m.group(4))
            # tshark: "<-" column is frames b->a, "->" column is a->b
            convs[frozenset([(a, pa), (b, pb)])] = {
                (b, pb): (int(m.group(5)), int(m.group(6))),
                (a, pa): (int(m.group(7)), int(m.group(8)))}
    _, out, _ = run(["-q", "-r", f])
    fl = flows(out, "TCP")
    assert len(fl) == len(convs) and fl
    for r in fl:
        c, s = (r["src_ip"], r["src_port"]), (r["dest_ip"], r["dest_port"])
        conv = convs[frozenset([c, s])]
        assert conv[c] == (r["flow"]["pkts_toserver"], r["flow"]["bytes_toserver"]), (r, conv)
        assert conv[s] == (r["flow"]["pkts_toclient"], r["flow"]["bytes_toclient"]), (r, conv)


def test_mail_and_tls_found_by_content_on_any_port():
    _, out, _ = run(["-q", "-r", os.path.join(PCAPS, "mixed-nonmail.pcap")])
    fl = flows(out)
    smtp = [r for r in fl if r["app_proto"] == "smtp"]
    assert len(smtp) == 1 and smtp[0]["dest_port"] == 2525, fl
    assert smtp[0]["classify"]["by"] == "content"
    http = [r for r in fl if r["app_proto"] == "http"]
    assert http and all(r["flow"]["bypassed"] for r in http), http


def test_demo_protocols():
    _, out, _ = run(["-q", "-r", os.path.join(PCAPS, "demo.pcapng")])
    apps = sorted(r["app_proto"] for r in flows(out))
    assert apps == ["http", "imap", "pop3", "smtp", "tls"], apps


def test_link_types_and_vlans():
    """SLL, SLL2, 802.1Q and 802.1ad+802.1Q captures all yield their SMTP sessions."""
    for name, n in (("sll-any.pcap", 1), ("sll-v1.pcap", 1), ("vlan-qinq.pcap", 2),
                    ("smtp-ipv6.pcap", 1)):
        _, out, _ = run(["-q", "-r", os.path.join(PCAPS, name)])
        smtp = [r for r in flows(out) if r["app_proto"] == "smtp"]
        assert len(smtp) == n, "%s: %d smtp flows, expected %d" % (name, len(smtp), n)
        for r in smtp:
            assert r["stream"]["gap_bytes_toserver"] == 0 and r["stream"]["gap_bytes_toclient"] == 0


def test_link_types_reported():
    for name, link in (("sll-any.pcap", "LINUX_SLL2"), ("sll-v1.pcap", "LINUX_SLL"),
                       ("vlan-qinq.pcap", "EN10MB")):
        p = subprocess.run(["tcpdump", "-r", os.path.join(PCAPS, name), "-c", "1"],
                           capture_output=True)
        assert link in p.stderr.decode(), (name, p.stderr)


def test_fragments_reassembled():
    for name in ("frag-ipv4.pcap", "frag-ipv6.pcap"):
        st, out, err = run(["-r", os.path.join(PCAPS, name)])
        assert st == 0
        m = re.search(r"fragments:\s+(\d+) \((\d+) datagrams rebuilt\)", err)
        assert m and int(m.group(1)) > 0 and int(m.group(2)) > 0, err
        udp = flows(out, "UDP")
        assert udp, out
        # each rebuilt 4000-byte datagram is one packet of the flow
        assert "anomalies:      none" in err, err


def test_stream_bytes_match_tshark_follow():
    """Reassembled bytes per direction equal tshark's follow,tcp for each project session."""
    for name in ("pop3-plain.pcap", "imap-plain.pcap", "smtp-plain.pcap"):
        f = os.path.join(PCAPS, name)
        _, out, _ = run(["-q", "-r", f])
        for idx, r in enumerate(sorted(flows(out, "TCP"), key=lambda r: r["flow"]["start"])):
            p = subprocess.run(["tshark", "-r", f, "-q", "-z", "follow,tcp,raw,%d" % idx],
                               capture_output=True)
            ts = tc = 0
            for l in p.stdout.decode().splitlines():
                if re.match(r"^\t[0-9a-f]+$", l):
                    tc += len(l.strip()) // 2
                elif re.match(r"^[0-9a-f]+$", l):
                    ts += len(l) // 2
            assert (r["stream"]["bytes_toserver"], r["stream"]["bytes_toclient"]) == (ts, tc), \
                (name, idx, r["stream"], ts, tc)


if __name__ == "__main__":
    sys.exit(run_suite(globals()))

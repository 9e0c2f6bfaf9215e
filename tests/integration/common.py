#!/usr/bin/env python3
"""postcard integration tests: the real binary on real captures.

Each test is a function named test_*; it raises AssertionError (fail) or
Skip. Output: "ok - name" / "not ok - name" / "skip - name: why", then
"integration: N passed, N failed, N skipped".

The binary is $BUILD/postcard (tests/run.sh sets BUILD=build/san, the
ASan+UBSan build). Every run is checked for sanitizer reports.
"""
import concurrent.futures
import glob
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("BUILD", "build/san")
BIN = os.path.join(ROOT, BUILD, "postcard")
PCAPS = os.path.join(ROOT, "pcaps")
CORPUS = os.path.normpath(os.path.join(ROOT, "..", "shared", "corpus"))
SAN_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
               "AddressSanitizer:DEADLYSIGNAL")


class Skip(Exception):
    pass


def run(args, stdin=None, timeout=120, input_bytes=None):
    """Run postcard; return (status, stdout, stderr). Fails on a sanitizer report."""
    p = subprocess.run([BIN] + args, stdin=stdin, input=input_bytes, capture_output=True,
                       timeout=timeout)
    err = p.stderr.decode("utf-8", "replace")
    for m in SAN_MARKERS:
        assert m not in err, "sanitizer report for %s:\n%s" % (args, err[-3000:])
    return p.returncode, p.stdout.decode("utf-8", "replace"), err


def records(out):
    return [json.loads(l) for l in out.splitlines() if l.strip()]


def flows(out, proto=None):
    return [r for r in records(out) if r["event_type"] == "flow" and
            (proto is None or r["proto"] == proto)]


def tshark_convs(path, kind="tcp"):
    p = subprocess.run(["tshark", "-r", path, "-q", "-z", "conv," + kind],
                       capture_output=True, timeout=300)
    return sum(1 for l in p.stdout.decode("utf-8", "replace").splitlines() if "<->" in l)


def corpus_files():
    if not os.path.isdir(CORPUS):
        raise Skip("../shared/corpus is absent")
    return sorted(f for d in ("ndpi", "zeek", "suricata-verify")
                  for f in glob.glob(os.path.join(CORPUS, d, "*.pcap*")))


def project_pcaps():
    return sorted(glob.glob(os.path.join(PCAPS, "*.pcap*")))


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


# --- mail sessions ---------------------------------------------------------------

def mail_records(out):
    """Mail records with their flow's start time (from the flow record of the same flow_id)."""
    recs = records(out)
    start = {r["flow_id"]: r["flow"]["start"] for r in recs if r["event_type"] == "flow"}
    mails = [r for r in recs if r["event_type"] == "mail"]
    for r in mails:
        r["_start"] = start.get(r["flow_id"], "")
    return sorted(mails, key=lambda r: r["_start"])


def label_expectation(m):
    """What the corpus label of one mail stream says a correct sensor reports."""
    proto = {"smtps": "smtp", "imaps": "imap", "pop3s": "pop3"}.get(m["proto"], m["proto"])
    if m.get("implicit_tls"):
        st = "implicit"
    elif m["starttls"]:
        ok = str(m["starttls"][0]["reply"]) in ("220", "+OK", "OK")
        st = ("upgraded" if m.get("tls_after_starttls") else "failed") if ok else "refused"
    else:
        offers = m.get("ehlo_offers_starttls", m.get("capability_starttls", m.get("capa_stls")))
        st = {True: "offered-unused", False: "not-offered", None: None}[offers]
    logins = []
    for c in m["creds"]:
        if not c["cleartext_password"]:
            continue
        mech = {"USER/PASS": "USER", "AUTH PLAIN": "PLAIN", "AUTH LOGIN": "LOGIN"}.get(
            c["mech"], c["mech"])
        res = "success" if str(c["result"]) in ("235", "+OK", "OK") else "failure"
        logins.append((mech, c["user"], res))
    return proto, m["server"], st, logins


def corpus_labels():
    if not os.path.isdir(CORPUS):
        raise Skip("../shared/corpus is absent")
    out = []
    for lab in sorted(glob.glob(os.path.join(CORPUS, "labels", "*.json"))):
        with open(lab) as fh:
            info = json.load(fh)["info"]
        out.append((os.path.join(CORPUS, info["path"]), info))
    return out


def test_corpus_mail_sessions_match_labels():
    """Server, protocol, STARTTLS outcome and each cleartext login (mechanism, user, result)."""
    bad, n = [], 0
    for cap, info in corpus_labels():
        streams = info.get("mail_streams", [])
        _, out, _ = run(["-q", "-r", cap])
        mails = mail_records(out)
        got = {}
        for r in mails:
            host = r["dest_ip"] if ":" not in r["dest_ip"] else r["dest_ip"]
            got.setdefault("%s:%d" % (host, r["dest_port"]), []).append(r)
        if len(mails) != len(streams):
            bad.append("%s: %d mail records, labels list %d mail streams"
                       % (info["path"], len(mails), len(streams)))
            continue
        for m in streams:
            n += 1
            proto, srv, st, logins = label_expectation(m)
            cands = got.get(srv, [])
            if not cands:
                bad.append("%s: no mail record for %s" % (info["path"], srv))
                continue
            r = cands.pop(0)
            mm = r["mail"]
            ours = [(l["mechanism"], l["user"], l["result"]) for l in mm["logins"]
                    if l["cleartext"] and not l.get("bearer_token")]
            if r["app_proto"] != proto:
                bad.append("%s %s: app_proto %s, label %s" % (info["path"], srv, r["app_proto"], proto))
            if st is not None and mm["starttls"] != st:
                bad.append("%s %s: starttls %s, label %s" % (info["path"], srv, mm["starttls"], st))
            if ours != logins:
                bad.append("%s %s: cleartext logins %s, label %s" % (info["path"], srv, ours, logins))
    assert n >= 40, n
    assert not bad, "\n".join(bad)


def test_corpus_bearer_token_login_is_an_exposure():
    """pop3-auth-01: AUTH XOAUTH2 in clear is reported as a login with an exposed bearer token."""
    cap = os.path.join(CORPUS, "suricata-verify", "pop3-auth-01__input.pcap")
    if not os.path.exists(cap):
        raise Skip("../shared/corpus is absent")
    _, out, _ = run(["-q", "-r", cap])
    m = mail_records(out)
    assert len(m) == 1, m
    l = m[0]["mail"]["logins"]
    assert len(l) == 1 and l[0]["mechanism"] == "XOAUTH2" and l[0]["bearer_token"] is True, l
    assert l[0]["cleartext"] is True and l[0]["user"] == "joe.speedboat", l


def test_no_mail_records_where_there_is_no_mail():
    """Redis answering +OK, TLS on web ports, scans: no mail record."""
    bad = []
    for cap, info in corpus_labels():
        if info.get("mail_streams"):
            continue
        _, out, _ = run(["-q", "-r", cap])
        m = [r for r in records(out) if r["event_type"] == "mail"]
        if m:
            bad.append("%s: %d mail records: %s" % (info["path"], len(m), m[0]))
    assert not bad, "\n".join(bad)


def known_secrets_in(path):
    """Passwords visible in a capture, found independently with tshark's stream follower."""
    secrets = set()
    p = subprocess.run(["tshark", "-r", path, "-q", "-z", "conv,tcp"], capture_output=True)
    n = sum(1 for l in p.stdout.decode("utf-8", "replace").splitlines() if "<->" in l)
    for i in range(min(n, 64)):
        q = subprocess.run(["tshark", "-r", path, "-q", "-z", "follow,tcp,ascii,%d" % i],
                           capture_output=True)
        lines = q.stdout.decode("latin-1").splitlines()
        prev = ""
        for l in lines:
            l = l.strip()
            m = re.match(r"^PASS (.+)$", l, re.I)
            if m:
                secrets.add(m.group(1))
            m = re.match(r"^\S+ LOGIN (\S+) (\S+)$", l, re.I)
            if m:
                secrets.add(m.group(2).strip('"'))
            m = re.match(r"^AUTH(?:ENTICATE)? PLAIN (\S+)$", l, re.I) or \
                re.match(r"^\S+ AUTHENTICATE PLAIN (\S+)$", l, re.I)
            blob = m.group(1) if m else None
            if prev.startswith("334 UGFzc3dvcmQ6") or prev.startswith("+ UGFzc3dvcmQ6"):
                blob = l
            if blob:
                secrets.add(blob)
                try:
                    dec = __import__("base64").b64decode(blob + "==", validate=False)
                    parts = dec.split(b"\0")
                    secrets.add(parts[-1].decode("latin-1"))
                except Exception:
                    pass
            if l:
                prev = l
    # a redacted password ("XXXXXX") is no secret and would match innocent text
    return {x for x in secrets if len(x) >= 4 and len(set(x)) > 2}


def test_no_password_in_any_output():
    files = project_pcaps()
    with open(os.path.join(PCAPS, "README.md")) as fh:
        listed = set(re.findall(r"postcard-(?:secret|token)-\d+", fh.read()))
    assert listed, "pcaps/README.md lists no test passwords"
    secrets = set(listed)
    if os.path.isdir(CORPUS):
        for cap, info in corpus_labels():
            if any(c.get("password_seen") for m in info.get("mail_streams", []) for c in m["creds"]):
                files.append(cap)
                secrets |= known_secrets_in(cap)
    b64 = __import__("base64")
    secrets |= {b64.b64encode(x.encode("latin-1")).decode() for x in list(secrets)}
    leaks = []
    for f in files:
        st, out, err = run(["-r", f])
        # a user name may contain the password ("PASS zeek" for "zeek@zeek.org"): look
        # for secrets everywhere but in the user names
        out = re.sub(r'"user":"(?:[^"\\]|\\.)*"', '"user":""', out)
        # the capture's own path and the sensor's name are not captured data
        out = re.sub(r'"(?:pcap_filename|host)":"(?:[^"\\]|\\.)*"', '""', out)
        for sec in secrets:
            if sec in out or sec in err:
                leaks.append("%s: %r appears in the output" % (f, sec))
    assert len(secrets) > len(listed), secrets
    assert not leaks, "\n".join(leaks)


def test_project_mail_verdicts():
    """Each project capture's mail sessions match its verdict file (what the script did)."""
    files = sorted(glob.glob(os.path.join(PCAPS, "*.verdicts.json")))
    assert len(files) >= 10, "pcaps/ has %d verdict files" % len(files)
    bad = []
    for vf in files:
        cap = vf[: -len(".verdicts.json")]
        cap = cap + ".pcap" if os.path.exists(cap + ".pcap") else cap + ".pcapng"
        with open(vf) as fh:
            want = json.load(fh)
        _, out, _ = run(["-q", "-r", cap])
        got = mail_records(out)
        name = os.path.basename(cap)
        if len(got) != len(want):
            bad.append("%s: %d mail records, verdict file has %d" % (name, len(got), len(want)))
            continue
        for w, r in zip(want, got):
            mm = r["mail"]
            host = r["dest_ip"] if ":" not in r["dest_ip"] else "[%s]" % r["dest_ip"]
            srv = "%s:%d" % (host, r["dest_port"])
            checks = [("server", srv, w["server"]), ("proto", r["app_proto"], w["proto"]),
                      ("starttls", mm["starttls"], w["starttls"]),
                      ("cleartext_messages", mm["cleartext_messages"], w["cleartext_messages"])]
            if w.get("starttls_reply"):
                checks.append(("starttls_reply", mm.get("starttls_reply", "").split(" ")[0]
                               if w["proto"] != "imap" else
                               (mm.get("starttls_reply", "").split(" ") + ["", ""])[1],
                               w["starttls_reply"]))
            if w["proto"] == "imap":
                checks.append(("login_disabled_violated", mm["login_disabled_violated"],
                               w["login_disabled_violated"]))
            ours = [(l["mechanism"], l["user"], l["cleartext"], l["result"]) for l in mm["logins"]]
            theirs = [(l["mechanism"], l["user"], l["cleartext"], l["result"]) for l in w["logins"]]
            checks.append(("logins", ours, theirs))
            for what, a, b in checks:
                if a != b and not (what == "server" and b.endswith(a.split(":")[-1]) and
                                   a.replace("[", "").replace("]", "") == b.replace("[", "").replace("]", "")):
                    bad.append("%s %s: %s is %r, verdict file says %r" % (name, srv, what, a, b))
    assert not bad, "\n".join(bad)


# --- TLS ------------------------------------------------------------------------

def tls_records(out):
    return [r["tls"] for r in records(out) if r["event_type"] == "tls"]


def label_version(v):
    return {"TLSv1.0": "TLS1.0", "TLSv1.1": "TLS1.1", "TLSv1.2": "TLS1.2", "TLSv1.3": "TLS1.3",
            "SSLv3": "SSLv3", "SSLv2": "SSLv2"}.get(v, v.replace("TLSv", "TLS"))


# Corpus files whose TLS runs inside another protocol that postcard does not follow (it is a
# mail sensor): FTP's AUTH TLS (RFC 4217), a Gnutella connection upgrade, a SOCKS tunnel.
TLS_INSIDE_OTHER = {"ndpi/ftp-start-tls.pcap", "ndpi/gnutella.pcap", "zeek/socks-with-ssl.pcap"}

# Where the labels (tshark) missed a ServerHello that the capture holds, read from the bytes:
# google_ssl's server stream starts 16 03 01 00 4a 02 (ServerHello, TLS 1.0, suite 0x0005);
# tls-fingerprint-alert's starts 16 03 03 00 64 02 (ServerHello, TLS 1.2, suite 0xc02f).
TLS_LABEL_MISSED_SH = {
    "ndpi/google_ssl.pcap": ({"TLS1.0": 1}, {"TLS_RSA_WITH_RC4_128_SHA": 1}),
    "suricata-verify/tls_tls-fingerprint-alert__input.pcap":
        ({"TLS1.2": 1}, {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": 1}),
}


def test_corpus_tls_matches_labels():
    """Negotiated versions, suites, weaknesses, client maximum and certificate verdicts."""
    import collections
    bad, n = [], 0
    for cap, info in corpus_labels():
        t = info.get("tls") or {}
        if not t.get("streams") or info["path"] in TLS_INSIDE_OTHER:
            continue
        n += 1
        st, out, err = run(["-q", "--tls-all-ports", "-r", cap])
        tl = tls_records(out)
        versions = collections.Counter(label_version(x["version"]) for x in tl if x["version"])
        ciphers = collections.Counter((x["cipher"] or "").replace("SSL_CK_", "SSL2_")
                                      for x in tl if x["version"])
        want_v, want_c = TLS_LABEL_MISSED_SH.get(info["path"], (t["server_versions"], t["ciphers"]))
        if versions != collections.Counter(want_v):
            bad.append("%s: versions %s, expected %s" % (info["path"], dict(versions), want_v))
        if ciphers != collections.Counter(want_c):
            bad.append("%s: suites %s, expected %s" % (info["path"], dict(ciphers), want_c))
        for name in t.get("weak", {}):
            suite = name.split("(")[0].replace("SSL2_", "SSL_CK_")
            cls = name.split("(")[1].rstrip(")").split("+")[0].lower() if "(" in name else ""
            hits = [x for x in tl if x["cipher"] == suite]
            if not hits or not all(cls in x["cipher_weaknesses"] for x in hits):
                bad.append("%s: weak suite %s not marked %s" % (info["path"], name, cls))
        # client maximum: each session's highest offered version (tshark counts every hello)
        ours = {label_version(x["client_max_version"]) for x in tl
                if x.get("client_max_version") and not x.get("client_sslv2_hello")}
        theirs = set(t["client_hello_max"])
        if not ours <= theirs or (theirs and not ours):
            bad.append("%s: client maximum %s, labels %s" % (info["path"], ours, theirs))
        certs = {}
        for x in tl:
            for c in x["certs"] or []:
                if c.get("serial"):
                    certs[c["serial"].lower().lstrip("0")] = c
        for lc in t.get("certs", []):
            if lc.get("sent_by") != "server" or "status" not in lc or "serial" not in lc:
                continue  # client certificates; certificates the oracle could not parse
            key = lc["serial"].lower().replace("0x", "").lstrip("0")
            if lc["serial"].startswith("-"):
                continue  # negative serials: OpenSSL prints them differently
            c = certs.get(key)
            if c is None:
                bad.append("%s: certificate %s not reported" % (info["path"], lc["serial"]))
                continue
            want = ("EXPIRED" in lc["status"], "NOT_YET_VALID" in lc["status"],
                    "SELF_SIGNED" in lc["status"])
            got = (c["expired"], c["not_yet_valid"], c["self_signed"])
            if want != got:
                bad.append("%s: certificate %s expired/not-yet-valid/self-signed %s, labels %s"
                           % (info["path"], lc["serial"], got, want))
    assert n >= 60, n
    assert not bad, "\n".join(bad)


def test_project_tls_verdicts():
    """Each project TLS capture's sessions match its .tls.json (what the script configured)."""
    files = sorted(glob.glob(os.path.join(PCAPS, "*.tls.json")))
    assert len(files) >= 4, "pcaps/ has %d TLS verdict files" % len(files)
    bad = []
    for vf in files:
        stem = vf[: -len(".tls.json")]
        cap = stem + ".pcap" if os.path.exists(stem + ".pcap") else stem + ".pcapng"
        with open(vf) as fh:
            want = json.load(fh)
        _, out, _ = run(["-q", "--tls-all-ports", "-r", cap])
        recs = records(out)
        start = {r["flow_id"]: r["flow"]["start"] for r in recs if r["event_type"] == "flow"}
        got = sorted((r for r in recs if r["event_type"] == "tls"),
                     key=lambda r: start.get(r["flow_id"], ""))
        name = os.path.basename(cap)
        if len(got) != len(want):
            bad.append("%s: %d tls records, verdict file has %d" % (name, len(got), len(want)))
            continue
        for w, r in zip(want, got):
            t = r["tls"]
            srv = "%s:%d" % (r["dest_ip"], r["dest_port"])
            checks = [("server", srv, w["server"]), ("from_proto", t["from_proto"], w["from_proto"]),
                      ("version", t["version"], w["version"]),
                      ("client_max_version", t.get("client_max_version"), w["client_max_version"]),
                      ("cipher", t["cipher"], w["cipher"]), ("sni", t["sni"], w["sni"]),
                      ("handshake_complete", t["handshake_complete"], w["handshake_complete"])]
            wa = w.get("alert")
            ga = t.get("alert")
            checks.append(("alert", None if ga is None or ga.get("encrypted") else
                           {"level": ga["level"], "description": ga["description"]},
                           None if wa is None else {"level": wa["level"], "description": wa["description"]}))
            if w["certs"] is None:
                checks.append(("certs", t["certs"], None))
            else:
                gc = t["certs"] or []
                checks.append(("number of certs", len(gc), len(w["certs"])))
                for i, (wc, c) in enumerate(zip(w["certs"], gc)):
                    for k in ("subject", "issuer", "expired", "not_yet_valid", "self_signed",
                              "weak_key", "key_type", "key_bits", "weak_signature",
                              "name_mismatch", "validity_too_long", "trusted"):
                        if k in wc and (i == 0 or k != "name_mismatch"):
                            checks.append(("certs[%d].%s" % (i, k), c.get(k), wc[k]))
            for what, a, b in checks:
                if a != b:
                    bad.append("%s %s: %s is %r, verdict file says %r" % (name, srv, what, a, b))
    assert not bad, "\n".join(bad)


def test_tls_not_analysed_off_mail_ports_by_default():
    """Without --tls-all-ports only TLS on mail ports (and after STARTTLS) is analysed."""
    cap = os.path.join(CORPUS, "zeek", "tls1.2.pcap")
    if not os.path.exists(cap):
        raise Skip("../shared/corpus is absent")
    assert tls_records(run(["-q", "-r", cap])[1]) == []
    assert len(tls_records(run(["-q", "--tls-all-ports", "-r", cap])[1])) >= 1


def test_starttls_links_mail_and_tls_records():
    _, out, _ = run(["-q", "-r", os.path.join(PCAPS, "smtp-starttls.pcap")])
    recs = records(out)
    mail = [r for r in recs if r["event_type"] == "mail"]
    tls = [r for r in recs if r["event_type"] == "tls"]
    assert len(mail) == 1 and len(tls) == 1
    assert mail[0]["flow_id"] == tls[0]["flow_id"]
    assert mail[0]["mail"]["starttls"] == "upgraded"
    assert tls[0]["tls"]["from_proto"] == "smtp" and tls[0]["tls"]["handshake_complete"]
    assert tls[0]["tls"]["version"] == "TLSv1.3" and tls[0]["tls"]["certs"] is None


def test_bad_ca_file_is_a_startup_error():
    st, _, err = run(["-q", "--ca-file", "/nonexistent/ca.pem", "-r",
                      os.path.join(PCAPS, "smtp-starttls.pcap")])
    assert st == 1 and "/nonexistent/ca.pem" in err and len(err.strip().splitlines()) == 1, err


# --- rules (the language front-end; matching comes with the engine) ---------------------

def test_check_rules_default_set_loads_clean():
    st, out, err = run(["--check-rules", "-R", os.path.join(ROOT, "rules")])
    assert st == 0 and err == "", err
    assert re.search(r"rules: \d+ loaded", out), out
    for finding in ("cleartext-login", "starttls-stripped", "weak-cipher", "cert-expired"):
        assert finding in out, (finding, out)


def test_check_rules_reports_file_line_col_and_suggests():
    d = tempfile.mkdtemp()
    try:
        p = os.path.join(d, "bad.rules")
        with open(p, "w") as fh:
            fh.write("# a comment\n"
                     "alert smtp any any -> any 25 (msg:\"x\"; clastype:cleartext-login; sid:1;)\n")
        st, out, err = run(["--check-rules", "-R", p])
        assert st == 1, (st, err)
        assert "%s:2:40: unknown option 'clastype'; did you mean 'classtype'?" % p in err, err
        st, _, err = run(["--check-rules"])
        assert st == 2 and "-R" in err, err
    finally:
        shutil.rmtree(d)


# --- command line -------------------------------------------------------------

def test_help_and_version():
    st, out, _ = run(["--help"])
    assert st == 0 and "-r FILE" in out and "-i IFACE" in out
    st, out, _ = run(["-h"])
    assert st == 0 and "usage:" in out
    st, out, _ = run(["--version"])
    assert st == 0 and re.match(r"^postcard \d+\.\d+\.\d+", out)


def test_usage_errors_exit_2():
    for args in ([], ["-r", "a", "-i", "lo"], ["--bogus"], ["-r"], ["--max-flows", "x", "-r", "a"]):
        st, _, err = run(args)
        assert st == 2, (args, st, err)
        assert err.strip(), args


def test_bpf_filter_expression():
    f = os.path.join(PCAPS, "demo.pcapng")
    _, out, _ = run(["-q", "-r", f, "tcp", "port", "110"])
    fl = flows(out)
    assert len(fl) == 1 and fl[0]["app_proto"] == "pop3", fl
    st, _, err = run(["-q", "-r", f, "tcp", "port", "notaport"])
    assert st == 1 and "filter" in err and len(err.strip().splitlines()) == 1, err


def test_stdin_and_several_files():
    f = os.path.join(PCAPS, "demo.pcapng")
    a = run(["-q", "-r", f])[1]
    with open(f, "rb") as fh:
        b = run(["-q", "-r", "-"], stdin=fh)[1]
    assert '"pcap_filename":"stdin"' in b and ('"pcap_filename":"%s"' % f) in a
    strip = lambda s: re.sub(r'"pcap_filename":"[^"]*"', "", s)
    assert strip(a) == strip(b) and a
    g = os.path.join(PCAPS, "pop3-plain.pcap")
    c = run(["-q", "-r", f, "-r", g])[1]
    assert len(flows(c)) == len(flows(a)) + len(flows(run(["-q", "-r", g])[1]))


def test_write_file_appends():
    d = tempfile.mkdtemp()
    try:
        w = os.path.join(d, "out.json")
        f = os.path.join(PCAPS, "pop3-plain.pcap")
        st, out, _ = run(["-q", "-r", f, "-w", w])
        assert st == 0 and out == ""
        run(["-q", "-r", f, "-w", w])
        with open(w) as fh:
            assert len(flows(fh.read())) == 2
        st, _, err = run(["-q", "-r", f, "-w", os.path.join(d, "no", "such", "dir.json")])
        assert st == 1 and "dir.json" in err
    finally:
        shutil.rmtree(d)


def test_summary_at_exit_and_quiet():
    st, _, err = run(["-r", os.path.join(PCAPS, "demo.pcapng")])
    assert st == 0
    for k in ("packets:", "flows:", "flows by protocol:", "anomalies:", "evicted"):
        assert k in err, err
    assert re.search(r"flows by protocol:.*pop3=1", err), err
    st, _, err = run(["-q", "-r", os.path.join(PCAPS, "demo.pcapng")])
    assert st == 0 and err == "", err


def test_progress_on_a_terminal():
    if shutil.which("script") is None:
        raise Skip("script(1) is not installed")
    f = os.path.join(PCAPS, "demo.pcapng")
    p = subprocess.run(["script", "-qec", "%s -r %s -w /dev/null" % (BIN, f), "/dev/null"],
                       capture_output=True, timeout=60)
    out = p.stdout.decode("utf-8", "replace")
    assert "packets/s" in out and "MiB" in out, out
    assert "postcard summary" in out


def test_max_flows_evicts_oldest():
    st, out, err = run(["-r", os.path.join(PCAPS, "demo.pcapng"), "--max-flows", "1"])
    assert st == 0
    fl = flows(out)
    assert len(fl) == 5
    assert sum(1 for r in fl if r["flow"]["reason"] == "forced") >= 1
    assert re.search(r"[1-9]\d* evicted", err), err


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
        r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            BIN, "-q", "-r", p], capture_output=True)
        err = r.stderr.decode()
        assert r.returncode == 1 and p in err and "Permission denied" in err, err
    finally:
        shutil.rmtree(d)


def test_bad_interfaces():
    expect_error(["-i", "nosuchif0"], 1, "nosuchif0", "no such interface")
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        raise Skip("needs root and setpriv to test the permission message")
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        "--inh-caps=-all", BIN, "-q", "-i", "lo"], capture_output=True, timeout=30)
    err = r.stderr.decode()
    assert r.returncode == 1 and "lo" in err and "permission denied" in err, err


def test_hostile_corpus_is_survived():
    """Every capture, cut at many points and with bytes flipped, runs clean under the sanitizers."""
    d = tempfile.mkdtemp()
    try:
        srcs = project_pcaps()
        if os.path.isdir(CORPUS):
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


# --- live capture and signals ----------------------------------------------------

def test_live_capture_on_loopback_and_sigint():
    if os.geteuid() != 0:
        raise Skip("live capture needs root")
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    p = subprocess.Popen([BIN, "-i", "lo", "--immediate-mode", "tcp", "port", str(port)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        time.sleep(1.5)
        c = socket.create_connection(("127.0.0.1", port))
        s, _ = srv.accept()
        s.sendall(b"220 mail.example ESMTP postcard-test\r\n")
        c.recv(100)
        c.sendall(b"QUIT\r\n")
        s.recv(100)
        s.sendall(b"221 bye\r\n")
        c.close()
        s.close()
        time.sleep(1.0)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
        srv.close()
    err = err.decode()
    for m in SAN_MARKERS:
        assert m not in err, err
    assert p.returncode == 0, (p.returncode, err)
    assert "listening on lo" in err and "kernel:" in err and "dropped" in err, err
    fl = flows(out.decode())
    assert len(fl) == 1 and fl[0]["app_proto"] == "smtp" and fl[0]["dest_port"] == port, fl


def test_sigterm_stops_cleanly_and_flushes():
    f = os.path.join(PCAPS, "pop3-plain.pcap")
    r, w = os.pipe()
    p = subprocess.Popen([BIN, "-r", "-"], stdin=r, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    os.close(r)
    with open(f, "rb") as fh:
        os.write(w, fh.read())   # whole capture, but the pipe stays open
    time.sleep(1.5)
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=30)
    os.close(w)
    err = err.decode()
    for m in SAN_MARKERS:
        assert m not in err, err
    assert p.returncode == 0, (p.returncode, err)
    assert "postcard summary" in err
    assert len(flows(out.decode())) == 1


def run_suite(namespace, suite):
    """Run the test_* functions of namespace (a module's globals()) whose name contains
    argv[1] (if given); print "ok"/"not ok"/"skip" lines and "<suite>: N passed, N failed,
    N skipped". Returns the exit status."""
    only = sys.argv[1] if len(sys.argv) > 1 else ""
    if not os.access(BIN, os.X_OK):
        print("not ok - build: %s is missing (make SAN=address,undefined)" % BIN)
        print("%s: 0 passed, 1 failed" % suite)
        return 1
    tests = [(n, f) for n, f in sorted(namespace.items())
             if n.startswith("test_") and callable(f) and only in n]
    passed = failed = skipped = 0
    for name, fn in tests:
        t0 = time.time()
        try:
            fn()
        except Skip as e:
            skipped += 1
            print("skip - %s: %s" % (name, e))
            continue
        except Exception:
            failed += 1
            print("not ok - %s" % name)
            print("  " + traceback.format_exc().replace("\n", "\n  ")[-4000:])
            continue
        passed += 1
        print("ok - %s (%.1fs)" % (name, time.time() - t0))
        sys.stdout.flush()
    print("%s: %d passed, %d failed, %d skipped" % (suite, passed, failed, skipped))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(run_suite(globals(), "integration"))

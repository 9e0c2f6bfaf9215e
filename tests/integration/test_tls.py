#!/usr/bin/env python3
"""postcard integration tests: TLS sessions (implicit TLS and after STARTTLS).

Versions, cipher suites and their weaknesses, the client's maximum version and certificate
verdicts against the corpus labels and the capture script's pcaps/*.tls.json.
"""
import collections
import glob
import json
import os
import sys

from common import (PCAPS, TLS_INSIDE_OTHER, TLS_LABEL_MISSED_SH, corpus_labels, need_corpus,
                    records, run, run_suite)


# --- TLS ------------------------------------------------------------------------

def tls_records(out):
    return [r["tls"] for r in records(out) if r["event_type"] == "tls"]


def label_version(v):
    return {"TLSv1.0": "TLS1.0", "TLSv1.1": "TLS1.1", "TLSv1.2": "TLS1.2", "TLSv1.3": "TLS1.3",
            "SSLv3": "SSLv3", "SSLv2": "SSLv2"}.get(v, v.replace("TLSv", "TLS"))


def test_corpus_tls_matches_labels():
    """Negotiated versions, suites, weaknesses, client maximum and certificate verdicts."""
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
    cap = need_corpus("zeek", "tls1.2.pcap")
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


if __name__ == "__main__":
    sys.exit(run_suite(globals()))

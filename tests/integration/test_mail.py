#!/usr/bin/env python3
"""postcard integration tests: mail sessions (SMTP, POP3, IMAP).

Each session's server, protocol, STARTTLS outcome and cleartext logins against the capture
script's verdict files (pcaps/*.verdicts.json) and the corpus labels; no mail record where
there is no mail; no password or token in any output.
"""
import base64
import glob
import json
import os
import re
import sys

from common import (CORPUS, PCAPS, check_on_the_wire, corpus_labels, known_secrets_in,
                    label_expectation, need_corpus, project_pcaps, readme_secrets, records, run,
                    run_suite)


# --- mail sessions ---------------------------------------------------------------

def mail_records(out):
    """Mail records with their flow's start time (from the flow record of the same flow_id)."""
    recs = records(out)
    start = {r["flow_id"]: r["flow"]["start"] for r in recs if r["event_type"] == "flow"}
    mails = [r for r in recs if r["event_type"] == "mail"]
    for r in mails:
        r["_start"] = start.get(r["flow_id"], "")
    return sorted(mails, key=lambda r: r["_start"])



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
    cap = need_corpus("suricata-verify", "pop3-auth-01__input.pcap")
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


def test_no_password_in_any_output():
    """No secret of a capture in any record or on stderr: the test secrets pcaps/README.md
    lists, the passwords tshark finds in the corpus's mail captures, and their base64 forms.
    Every listed secret the README says is readable on the wire is first found in the bytes
    of the captures read here, so the check looks for something that is there to leak."""
    files = project_pcaps()
    listed = readme_secrets()
    check_on_the_wire({s for s, readable in listed.items() if readable}, files)
    secrets = set(listed)
    if CORPUS is not None:
        for cap, info in corpus_labels():
            if any(c.get("password_seen") for m in info.get("mail_streams", []) for c in m["creds"]):
                files.append(cap)
                secrets |= known_secrets_in(cap)
    secrets |= {base64.b64encode(x.encode("latin-1")).decode() for x in list(secrets)}
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


if __name__ == "__main__":
    sys.exit(run_suite(globals()))

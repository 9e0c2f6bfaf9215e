#!/usr/bin/env python3
"""postcard integration tests: a full flow table, floods, cut sessions and mid-stream pickup.

The captures are built here from the project's own (pcaps/) with tests/mkflood.py: real mail
sessions, retimed, inside a flood of spoofed SYNs, or crowded together beyond --max-flows, or
cut by hand. What postcard says of them is compared with what it says of the same sessions
alone, run with the same options: a full table may cost what it cannot keep, never a false
fact or a false alert.
"""
import collections
import json
import os
import re
import shutil
import struct
import sys
import tempfile

from common import PCAPS, ROOT, records, run, run_suite

sys.path.insert(0, os.path.join(ROOT, "tests"))
import mkflood  # noqa: E402

SESSIONS = [os.path.join(PCAPS, f + ".pcap") for f in (
    "smtp-plain", "smtp-offered-unused", "smtp-starttls", "imap-plain", "imap-starttls",
    "pop3-plain", "pop3-stls")]

# The flood of the defect, 2,000,000 SYNs over 20 s against the default --max-flows of 200,000,
# at a tenth of the scale: the same ratio, so the table turns over every 2 s as it did.
SYNS, MAX_FLOWS, SECONDS = 20000, 2000, 20


def tmpdir():
    return tempfile.mkdtemp(prefix="postcard-evict-")


def tuple_of(r):
    return (r["src_ip"], r["src_port"], r["dest_ip"], r["dest_port"])


def comparable(r):
    """A copy of a record without what depends on the capture file rather than the flow."""
    r = json.loads(json.dumps(r))
    r.pop("pcap_filename", None)
    return r


def run_capture(path, *extra):
    st, out, err = run(["-r", path, "--max-flows", str(MAX_FLOWS)] + list(extra))
    assert st == 0, (st, err)
    return records(out), err


def stats_of(recs):
    return [r for r in recs if r["event_type"] == "stats"][-1]["stats"]


def exit_evictions(err):
    """The exit summary's eviction line: (embryonic, other, sessions, mail cut, TLS cut)."""
    m = re.search(r"^  evicted: +(\d+) embryonic, (\d+) other, (\d+) sessions; sessions cut: "
                  r"(\d+) mail, (\d+) TLS$", err, re.M)
    assert m, err
    return tuple(int(x) for x in m.groups())


def in_flood(ip):
    a, b = (int(x) for x in ip.split(".")[:2])
    return a == 198 and b in (18, 19)


def session_records(recs):
    """mail, tls and alert records, and the flow records that are not the flood's."""
    return [r for r in recs if r["event_type"] in ("mail", "tls", "alert") or
            (r["event_type"] == "flow" and not in_flood(r["src_ip"]))]


def keyed(recs):
    """Records by (event_type, flow_id, sid): one each."""
    out = {}
    for r in recs:
        k = (r["event_type"], r["flow_id"], r.get("alert", {}).get("signature_id"))
        assert k not in out, "two records for %s" % (k,)
        out[k] = comparable(r)
    return out


def write_pcap(path, pkts):
    with open(path, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for t, orig, f in pkts:
            fh.write(struct.pack("<IIII", t // 1000000, t % 1000000, len(f), orig) + f)


def payload(frame):
    ihl = (frame[14] & 15) * 4
    off = 14 + ihl + (frame[14 + ihl + 12] >> 4) * 4
    return frame[off:]


def is_to_server(frame, server_port):
    ihl = (frame[14] & 15) * 4
    return struct.unpack_from(">H", frame, 14 + ihl + 2)[0] == server_port


def check_facts_against(recs, base):
    """Every mail record holds only what the same session showed alone (or says it does not
    know), and every alert is one the session raised alone. Returns the mail records."""
    base_mail = {tuple_of(r): r["mail"] for r in base if r["event_type"] == "mail"}
    base_alerts = {(tuple_of(r), r["alert"]["signature_id"]) for r in base
                   if r["event_type"] == "alert"}
    problems = []
    mails = [r for r in recs if r["event_type"] == "mail"]
    for r in mails:
        m, b = r["mail"], base_mail.get(tuple_of(r))
        if b is None:
            problems.append("a mail record for a session that has none alone: %s" % r)
            continue
        if m["starttls"] not in (b["starttls"], "unknown"):
            problems.append("%s: starttls %s, alone %s" % (tuple_of(r), m["starttls"],
                                                          b["starttls"]))
        if "greeting" in m and m["greeting"] != b.get("greeting"):
            problems.append("%s: greeting %r, alone %r" % (tuple_of(r), m["greeting"],
                                                          b.get("greeting")))
        if m.get("midstream") and "greeting" in m:
            problems.append("%s: a greeting picked up mid-way" % (tuple_of(r),))
        alone = [(l["mechanism"], l["user"], l["cleartext"], l["result"]) for l in b["logins"]]
        for l in m["logins"]:
            if not any((l["mechanism"], l["user"], l["cleartext"]) == a[:3] and
                       l["result"] in (a[3], "unknown") for a in alone):
                problems.append("%s: login %s, alone %s" % (tuple_of(r), l, alone))
    for r in recs:
        if r["event_type"] == "alert" and (tuple_of(r), r["alert"]["signature_id"]) \
                not in base_alerts:
            problems.append("false alert %d (%s) on %s" % (r["alert"]["signature_id"],
                                                            r["alert"]["category"], tuple_of(r)))
    assert not problems, "\n".join(problems)
    return mails


def check_cut_marks(recs):
    """A mail or tls record says "cut" exactly when its flow was evicted (flow.reason forced)."""
    reason = {r["flow_id"]: r["flow"]["reason"] for r in recs if r["event_type"] == "flow"}
    for r in recs:
        if r["event_type"] in ("mail", "tls"):
            obj = r[r["event_type"]]
            assert (obj.get("cut") == "evicted") == (reason[r["flow_id"]] == "forced"), r


# --- a flood of SYNs ------------------------------------------------------------------

def test_syn_flood_leaves_mail_sessions_whole():
    """20,000 spoofed SYNs over 20 s, a table of 2,000 (the ratio of 2 M against the default
    200,000) and 8 real sessions of 5 s each: every record of the sessions is the one they
    give alone, no alert is added, and only embryonic flows were evicted."""
    d = tmpdir()
    try:
        flood, alone = os.path.join(d, "flood.pcap"), os.path.join(d, "alone.pcap")
        placed, _ = mkflood.build(flood, SESSIONS, syns=SYNS, seconds=SECONDS)
        mkflood.build(alone, SESSIONS, syns=0, seconds=SECONDS)
        # the flood is strong enough: a table that evicted the least recently seen flow
        # would lose sessions that sit idle longer than it takes SYNs to fill it
        turnover = MAX_FLOWS * SECONDS * 1000000 // SYNS
        idle = [max(b[0] - a[0] for a, b in zip(s, s[1:])) for s in placed]
        assert len(placed) == 8 and sum(g > turnover for g in idle) >= 3, (turnover, idle)

        recs, err = run_capture(flood)
        base, _ = run_capture(alone)
        ours, theirs = keyed(session_records(recs)), keyed(session_records(base))
        assert sum(k[0] == "mail" for k in theirs) == 8, theirs.keys()
        for k in theirs:
            if k[0] == "flow":  # its end may differ: the flood's packets run the clock on
                ours[k]["flow"].pop("reason"), theirs[k]["flow"].pop("reason")
        assert set(ours) == set(theirs), set(ours) ^ set(theirs)
        for k in theirs:
            assert ours[k] == theirs[k], "%s:\n%s\nalone:\n%s" % (k, ours[k], theirs[k])

        st = stats_of(recs)["flow"]
        forced = [r for r in recs if r["event_type"] == "flow" and r["flow"]["reason"] == "forced"]
        assert st["evicted"] >= SYNS - MAX_FLOWS, st
        assert st["evicted"] == st["evicted_embryonic"] == len(forced), st
        assert st["evicted_other"] == 0 and st["evicted_session"] == 0, st
        assert all(in_flood(r["src_ip"]) and r["stream"]["bytes_toserver"] == 0 for r in forced)
        assert stats_of(recs)["mail"]["cut"] == 0 and stats_of(recs)["tls"]["cut"] == 0
        assert exit_evictions(err) == (st["evicted"], 0, 0, 0, 0), err
    finally:
        shutil.rmtree(d)


# --- mail sessions alone beyond --max-flows --------------------------------------------

def test_mail_sessions_beyond_max_flows_are_cut_and_raise_no_false_alert():
    """8 real sessions at once in a table of 4: sessions are evicted; each record of an
    evicted one says "cut", every fact is the one the session gives alone or unknown, the
    pieces picked up afterwards take no greeting, and no alert comes that the sessions do not
    raise alone."""
    d = tmpdir()
    try:
        crowd = os.path.join(d, "crowd.pcap")
        mkflood.build(crowd, SESSIONS, syns=0, seconds=8, session_seconds=5)  # all at once
        st, out, err = run(["-r", crowd, "--max-flows", "4"])
        assert st == 0, err
        recs = records(out)
        base, _ = run_capture(crowd)  # the same sessions in a table they fit in
        assert not any(r["event_type"] == "flow" and r["flow"]["reason"] == "forced"
                       for r in base)
        mails = check_facts_against(recs, base)
        check_cut_marks(recs)
        stats = stats_of(recs)
        assert stats["flow"]["evicted_session"] > 0, stats["flow"]
        cut = [r for r in mails if r["mail"].get("cut")]
        assert cut and len(cut) == stats["mail"]["cut"], (len(cut), stats["mail"])
        tls_cut = sum(1 for r in recs if r["event_type"] == "tls" and r["tls"].get("cut"))
        assert tls_cut == stats["tls"]["cut"], (tls_cut, stats["tls"])
        assert any(r["mail"].get("midstream") for r in mails), "no piece was picked up mid-way"
        f = stats["flow"]
        assert f["evicted"] == f["evicted_embryonic"] + f["evicted_other"] + f["evicted_session"]
        assert exit_evictions(err) == (f["evicted_embryonic"], f["evicted_other"],
                                       f["evicted_session"], len(cut), tls_cut), err
    finally:
        shutil.rmtree(d)


def test_a_session_cut_in_its_tls_handshake_decides_nothing():
    """An SMTP session evicted between its ClientHello and the server's answer (a SYN arrives
    and the table holds one flow): its mail record says cut with STARTTLS unknown (not
    failed), its tls record says cut with handshake_complete null, and no starttls-failed
    alert comes from it; the rest of the session, picked up mid-way, claims nothing either."""
    d = tmpdir()
    try:
        pk = mkflood.sessions([os.path.join(PCAPS, "smtp-starttls.pcap")])[0]
        hello = next(i for i, (_, _, f) in enumerate(pk)
                     if is_to_server(f, 25) and payload(f)[:2] == b"\x16\x03")
        syn = (pk[hello][0], 54, bytes(mkflood.syn_frame(0, 7)))
        cut = os.path.join(d, "cut.pcap")
        write_pcap(cut, pk[:hello + 1] + [syn] + pk[hello + 1:])
        alone = os.path.join(d, "alone.pcap")
        write_pcap(alone, pk)
        st, out, err = run(["-r", cut, "--max-flows", "1"])
        assert st == 0, err
        recs = records(out)
        base, _ = run_capture(alone)
        check_facts_against(recs, base)
        check_cut_marks(recs)
        first = [r for r in recs if r["event_type"] in ("mail", "tls") and
                 r[r["event_type"]].get("cut")]
        assert sorted(r["event_type"] for r in first) == ["mail", "tls"], first
        mail = next(r["mail"] for r in first if r["event_type"] == "mail")
        tls = next(r["tls"] for r in first if r["event_type"] == "tls")
        assert mail["starttls"] == "unknown" and mail["starttls_reply"].startswith("220"), mail
        assert "midstream" not in mail and mail["greeting"], mail
        assert tls["handshake_complete"] is None and tls["client_max_version"], tls
        assert [r["mail"]["starttls"] for r in base if r["event_type"] == "mail"] == ["upgraded"]
        assert not any(r["event_type"] == "alert" and r["alert"]["category"] == "starttls-failed"
                       for r in recs)
        rest = [r for r in recs if r["event_type"] in ("mail", "tls") and
                not r[r["event_type"]].get("cut")]
        assert all(r[r["event_type"]].get("midstream") for r in rest), rest
        assert all(r["mail"]["starttls"] == "unknown" for r in rest if r["event_type"] == "mail")
        f = stats_of(recs)["flow"]
        assert (f["evicted_session"], f["evicted_embryonic"], f["evicted_other"]) == (1, 1, 0), f
        assert stats_of(recs)["mail"]["cut"] == 1 and stats_of(recs)["tls"]["cut"] == 1
    finally:
        shutil.rmtree(d)


# --- mid-stream pickup ----------------------------------------------------------------

def test_midstream_pickup_takes_no_greeting_and_no_starttls_verdict():
    """A submission session whose capture starts after the client's AUTH: the first server
    line is the answer to AUTH, not a greeting, and no capability listing is seen. The record
    says midstream, has no greeting and STARTTLS unknown; the message sent in clear is still
    found, and starttls-not-offered (which the whole session raises) is not."""
    d = tmpdir()
    try:
        sess = [s for s in mkflood.sessions([os.path.join(PCAPS, "smtp-plain.pcap")])
                if is_to_server(s[0][2], 587)][0]
        auth = next(i for i, (_, _, f) in enumerate(sess)
                    if is_to_server(f, 587) and payload(f).startswith(b"AUTH "))
        assert payload(sess[auth + 1][2]).startswith(b"235") or \
            payload(sess[auth + 2][2]).startswith(b"235")
        mid, whole = os.path.join(d, "mid.pcap"), os.path.join(d, "whole.pcap")
        write_pcap(mid, sess[auth + 1:])
        write_pcap(whole, sess)
        recs, _ = run_capture(mid)
        base, _ = run_capture(whole)
        check_facts_against(recs, base)
        mail = [r["mail"] for r in recs if r["event_type"] == "mail"]
        assert len(mail) == 1, recs
        m = mail[0]
        assert m["midstream"] is True and "greeting" not in m, m
        assert m["starttls"] == "unknown" and m["logins"] == [], m
        assert m["cleartext_messages"] == 1, m
        cats = collections.Counter(r["alert"]["category"] for r in recs
                                   if r["event_type"] == "alert")
        assert cats == {"cleartext-mail": 1}, cats
        whole_cats = {r["alert"]["category"] for r in base if r["event_type"] == "alert"}
        assert "starttls-not-offered" in whole_cats, whole_cats
        flows = [r for r in recs if r["event_type"] == "flow"]
        assert len(flows) == 1 and not flows[0]["tcp"]["syn"], flows
    finally:
        shutil.rmtree(d)


if __name__ == "__main__":
    sys.exit(run_suite(globals()))

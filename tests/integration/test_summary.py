#!/usr/bin/env python3
"""postcard integration tests: the summary document (--summary FILE, --summary-interval S,
docs/summary.md).

Every count in a summary is checked against numbers computed here, independently, from the
mail, tls, alert and flow records of the same run: for every project capture, every corpus
capture (with --tls-all-ports), and captures rewritten to the addresses of MaxMind's test
databases (countries and AS, looked up here with mmdblookup). Then the periodic "summary"
record, the file rewritten at each interval (atomically: a reader never sees half of it), the
record's size cap and the option errors. Last, the summary printed at exit: each of its counts
equals what the records, the stats record and the summary file say, for every capture, also
with flow or session records turned off.

Same runner as every suite (tests/integration/common.py); the last line is
"integration-summary: N passed, N failed, N skipped".
"""
import collections
import concurrent.futures
import datetime
import ipaddress
import json
import os
import re
import subprocess
import sys
import tempfile

import common as C
from common import (ASN, CITY, COUNTRY, PCAPS, Postcard, Skip, mmdb_value, need_mmdb,
                    pcap_chunks, read_pcap, records, rewrite_addresses, run, write_pcap)

CLEARTEXT = {"not-offered", "offered-unused", "refused", "failed", "stripped"}
OUTCOMES = CLEARTEXT | {"upgraded", "implicit", "unknown"}  # unknown: in no class


# --- what the records say ----------------------------------------------------------

def sessions_of(recs):
    """Group the records by session: the mail, tls and alert records of a flow carry its
    flow_id and come before its flow record (docs/eve.md); an alert is written at the packet
    that decides it, so records of other flows may come between. Returns
    [(mail, tls, [alerts], flow)] in the order of the flow records."""
    out, pending = [], {}
    for r in recs:
        t = r["event_type"]
        if t in ("stats", "summary"):
            continue
        if t != "flow":
            pending.setdefault(r["flow_id"], []).append(r)
            continue
        mine = pending.pop(r["flow_id"], [])
        mail = [p for p in mine if p["event_type"] == "mail"]
        tls = [p for p in mine if p["event_type"] == "tls"]
        alerts = [p for p in mine if p["event_type"] == "alert"]
        assert len(mail) <= 1 and len(tls) <= 1 and len(mail) + len(tls) + len(alerts) == \
            len(mine), mine
        if mail or tls:
            out.append((mail[0] if mail else None, tls[0] if tls else None, alerts, r))
        else:
            assert not alerts, alerts
    assert not pending, "records of no flow record: %s" % list(pending.values())[:2]
    return out


def upper_ascii(s):
    return "".join(c.upper() if "a" <= c <= "z" else c for c in s)


def server_key(r):
    ip = r["dest_ip"]
    return ("[%s]:%d" if ":" in ip else "%s:%d") % (ip, r["dest_port"])


def add(d, key, n=1):
    d[key] = d.get(key, 0) + n


def geo_of(ip, country_db, asn_db):
    """(country key, AS key, org) of a server as mmdblookup sees it; "??" when unknown."""
    country = asn = "??"
    org = ""
    public = ipaddress.ip_address(ip).is_global
    if country_db and public:
        country = mmdb_value(country_db, ip, "country", "iso_code") or "??"
    if asn_db and public:
        num = mmdb_value(asn_db, ip, "autonomous_system_number")
        if num is not None:
            asn = str(num)
            org = mmdb_value(asn_db, ip, "autonomous_system_organization") or ""
    return country, asn, org


def expected_summary(recs, sensor, country_db=None, asn_db=None, anonymized=False):
    """The summary document of a run, computed from its records alone."""
    totals = {k: 0 for k in ("sessions", "bytes", "cleartext", "starttls", "implicit_tls",
                             "cleartext_logins", "cleartext_messages", "alerts")}
    ports, findings, servers, countries, ases, hours = {}, {}, {}, {}, {}, {}
    tls = {"sessions": 0, "client_max_version": {}, "version": {}, "cipher_weakness": {},
           "certs": {k: 0 for k in ("sessions_with_cert", "expired", "expiring_30d",
                                    "self_signed", "untrusted", "weak_key", "weak_signature")}}
    times = []
    for mail, t, alerts, flow in sessions_of(recs):
        n_alerts = len(alerts)
        totals["alerts"] += n_alerts
        for a in alerts:
            add(findings, a["alert"]["category"])
            s = servers.setdefault(server_key(a), {"alerts": 0, "findings": {}})
            s["alerts"] += 1
            add(s["findings"], a["alert"]["category"])
        if t is not None:
            times.append(t["timestamp"])
            tt = t["tls"]
            tls["sessions"] += 1
            add(tls["client_max_version"], tt.get("client_max_version", "unknown"))
            add(tls["version"], tt["version"] or "none")
            if tt["cipher"] is not None:
                for w in tt["cipher_weaknesses"] or ["none"]:
                    add(tls["cipher_weakness"], w)
            certs = tt.get("certs")
            if certs and certs[0].get("parsed", True):
                leaf, c = certs[0], tls["certs"]
                c["sessions_with_cert"] += 1
                c["expired"] += leaf["expired"]
                c["expiring_30d"] += (not leaf["expired"]) and leaf["days_left"] < 30
                c["self_signed"] += leaf["self_signed"]
                c["untrusted"] += leaf["trusted"] is False
                c["weak_key"] += leaf["weak_key"]
                c["weak_signature"] += leaf["weak_signature"]
        if mail is None:
            continue
        times.append(mail["timestamp"])
        m = mail["mail"]
        st = m["starttls"]
        assert st in OUTCOMES, st
        clear, up, imp = st in CLEARTEXT, st == "upgraded", st == "implicit"
        nbytes = flow["flow"]["bytes_toserver"] + flow["flow"]["bytes_toclient"]
        p = ports.setdefault("%s/%d" % (mail["app_proto"], mail["dest_port"]), {
            "sessions": 0, "bytes": 0, "cleartext": 0, "starttls": 0, "implicit_tls": 0,
            "starttls_outcome": {}, "logins": {}, "cleartext_messages": 0,
            "logins_not_listed": 0})
        for d in (p, totals):
            d["sessions"] += 1
            d["bytes"] += nbytes
            d["cleartext"] += clear
            d["starttls"] += up
            d["implicit_tls"] += imp
            d["cleartext_messages"] += m["cleartext_messages"]
        add(p["starttls_outcome"], st)
        p["logins_not_listed"] += m.get("logins_not_listed", 0)
        for l in m["logins"]:
            mech = p["logins"].setdefault(upper_ascii(l["mechanism"]),
                                          {"cleartext": 0, "protected": 0})
            mech["cleartext" if l["cleartext"] else "protected"] += 1
            totals["cleartext_logins"] += l["cleartext"]
        h = hours.setdefault(mail["timestamp"][:13], {"sessions": 0, "cleartext": 0,
                                                      "starttls": 0, "implicit_tls": 0,
                                                      "alerts": 0})
        h["sessions"] += 1
        h["cleartext"] += clear
        h["starttls"] += up
        h["implicit_tls"] += imp
        h["alerts"] += n_alerts
        if country_db or asn_db:
            country, asn, org = geo_of(mail["dest_ip"], country_db, asn_db)
            for on, d, key in ((country_db, countries, country), (asn_db, ases, asn)):
                if not on:
                    continue
                g = d.setdefault(key, {"sessions": 0, "cleartext": 0, "alerts": 0})
                g["sessions"] += 1
                g["cleartext"] += clear
                g["alerts"] += n_alerts
                if d is ases:
                    g.setdefault("org", org)
    return {"summary_version": 1, "sensors": [sensor], "anonymized": anonymized,
            "first": min(times) if times else "", "last": max(times) if times else "",
            "totals": totals, "ports": ports, "tls": tls, "findings": findings,
            "servers": servers, "countries": countries, "as": ases, "hours": hours}


# --- comparing ------------------------------------------------------------------------

def flat(doc, path=""):
    """path -> value of every leaf; a count of 0 is the same as no count (the merge rule)."""
    out = {}
    if isinstance(doc, dict):
        for k, v in doc.items():
            out.update(flat(v, path + "/" + k))
    elif isinstance(doc, list):
        out[path] = sorted(doc)
    elif not (isinstance(doc, int) and not isinstance(doc, bool) and doc == 0):
        out[path] = doc
    return out


def diff(got, want):
    g, w = flat(got), flat(want)
    return ["%s: summary %r, records %r" % (k, g.get(k), w.get(k))
            for k in sorted(set(g) | set(w)) if g.get(k) != w.get(k)]


def check_shape(doc):
    """Schema 1's fixed members, counts as non-negative integers, keys sorted (byte order),
    and the sums that must agree inside one document."""
    def walk(v, path):
        if isinstance(v, dict):
            assert list(v) == sorted(v, key=lambda k: k.encode("utf-8")), "unsorted: " + path
            for k, x in v.items():
                walk(x, path + "/" + k)
        elif isinstance(v, bool) or isinstance(v, str) or isinstance(v, list):
            pass
        else:
            assert isinstance(v, int) and v >= 0, (path, v)
    walk(doc, "")
    assert set(doc) >= {"summary_version", "sensors", "anonymized", "first", "last", "totals",
                        "ports", "tls", "findings", "servers", "countries", "as", "hours"}, doc
    t = doc["totals"]
    unknown = sum(p["starttls_outcome"].get("unknown", 0) for p in doc["ports"].values())
    assert t["cleartext"] + t["starttls"] + t["implicit_tls"] + unknown == t["sessions"], t
    for key, p in doc["ports"].items():
        assert p["cleartext"] + p["starttls"] + p["implicit_tls"] + \
            p["starttls_outcome"].get("unknown", 0) == p["sessions"], (key, p)
        assert sum(p["starttls_outcome"].values()) == p["sessions"], (key, p)
    for k in ("sessions", "bytes", "cleartext", "starttls", "implicit_tls", "cleartext_messages"):
        assert sum(p[k] for p in doc["ports"].values()) == t[k], k
    for k in ("sessions", "cleartext", "starttls", "implicit_tls"):
        assert sum(h[k] for h in doc["hours"].values()) == t[k], k
    assert sum(doc["findings"].values()) == t["alerts"]
    assert sum(s["alerts"] for s in doc["servers"].values()) == t["alerts"]
    tls = doc["tls"]
    assert sum(tls["client_max_version"].values()) == tls["sessions"]
    assert sum(tls["version"].values()) == tls["sessions"]


def summarise(cap, extra=(), sensor="sum-test"):
    """Run postcard on cap with --summary; returns (records, summary document, stderr)."""
    d = tempfile.mkdtemp()
    try:
        path = os.path.join(d, "summary.json")
        st, out, err = run(["-q", "-r", cap, "--sensor-id", sensor, "--summary", path] +
                           list(extra))
        # a damaged capture ends with one line naming it; what came before still counts
        assert st == 0 or (st == 1 and len(err.splitlines()) == 1 and cap in err), \
            "%s: status %d: %s" % (cap, st, err)
        assert not os.path.exists(path + ".tmp")
        with open(path) as fh:
            doc = json.load(fh)
        return records(out), doc, err
    finally:
        subprocess.run(["rm", "-rf", d])


def check_captures(files, extra=()):
    def one(f):
        recs, doc, _ = summarise(f, extra)
        check_shape(doc)
        return f, diff(doc, expected_summary(recs, "sum-test")), doc
    bad, sessions, alerts, tls = [], 0, 0, 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
        for f, problems, doc in ex.map(one, files):
            bad += ["%s: %s" % (os.path.relpath(f, C.ROOT), p) for p in problems]
            sessions += doc["totals"]["sessions"]
            alerts += doc["totals"]["alerts"]
            tls += doc["tls"]["sessions"]
    assert not bad, "\n".join(bad[:60])
    return sessions, alerts, tls


# --- tests ----------------------------------------------------------------------------

def test_project_captures_summary_equals_their_records():
    files = C.project_pcaps()
    assert len(files) >= 10, files
    sessions, alerts, tls = check_captures(files)
    assert sessions >= 40 and alerts >= 40 and tls >= 10, (sessions, alerts, tls)


def test_corpus_summary_equals_its_records():
    files = C.corpus_files()
    sessions, alerts, tls = check_captures(files, ["--tls-all-ports"])
    assert sessions >= 40 and tls >= 40, (sessions, tls)


def crowd_capture(d):
    """8 real sessions of pcaps/ at once (tests/mkflood.py), for a table of 4: cut sessions
    and pieces picked up mid-way, some with STARTTLS unknown."""
    sys.path.insert(0, os.path.join(C.ROOT, "tests"))
    import mkflood
    path = os.path.join(d, "crowd.pcap")
    mkflood.build(path, [os.path.join(PCAPS, f + ".pcap") for f in (
        "smtp-plain", "smtp-offered-unused", "smtp-starttls", "imap-plain", "imap-starttls",
        "pop3-plain", "pop3-stls")], syns=0, seconds=8, session_seconds=5)
    return path


def test_cut_and_midstream_sessions_summary_equals_their_records():
    """Sessions cut by a full table, and the rest of them picked up mid-way: the summary
    counts them as their records say; an unknown STARTTLS outcome is in none of the classes;
    the exit summary's eviction line is the stats record's and the records' count."""
    d = tempfile.mkdtemp()
    try:
        cap = crowd_capture(d)
        recs, doc, _ = summarise(cap, ["--max-flows", "4"])
        check_shape(doc)
        problems = diff(doc, expected_summary(recs, "sum-test"))
        assert not problems, "\n".join(problems)
        outcomes = collections.Counter(r["mail"]["starttls"] for r in recs
                                       if r["event_type"] == "mail")
        assert outcomes["unknown"] > 0 and doc["totals"]["sessions"] > 8, outcomes
        bad = check_exit_summary(cap, ["--max-flows", "4"])
        assert not bad, "\n".join(bad)
    finally:
        subprocess.run(["rm", "-rf", d])


def test_all_project_captures_in_one_run():
    """Several -r files: one document for the run, every count as its records say."""
    files = [f for f in C.project_pcaps() if f.endswith(".pcap")]
    d = tempfile.mkdtemp()
    try:
        path = os.path.join(d, "s.json")
        st, out, err = run(["-q", "--summary", path, "--sensor-id", "sum-test"] +
                           sum((["-r", f] for f in files), []))
        assert st == 0, err
        with open(path) as fh:
            doc = json.load(fh)
        check_shape(doc)
        problems = diff(doc, expected_summary(records(out), "sum-test"))
        assert not problems, "\n".join(problems)
        assert len(doc["ports"]) >= 6 and len(doc["hours"]) >= 1, doc["ports"]
        assert doc["sensors"] == ["sum-test"] and doc["anonymized"] is False
        assert doc["first"] <= doc["last"], (doc["first"], doc["last"])
    finally:
        subprocess.run(["rm", "-rf", d])


def test_countries_and_as_from_geoip_databases():
    """Captures rewritten to MaxMind's test addresses: by country and AS of the server."""
    need_mmdb()
    cases = [  # capture, address mapping (server 10.77.0.2 / fd77::2)
        ("smtp-plain.pcap", {"10.77.0.1": "81.2.69.142", "10.77.0.2": "89.160.20.128"}),
        ("smtp-ipv6.pcap", {"fd77::1": "2a02:d180::1", "fd77::2": "2001:218::1"}),
        ("tls-certs.pcap", {"10.77.0.1": "216.160.83.56", "10.77.0.2": "214.78.120.5"}),
        ("pop3-plain.pcap", {"10.77.0.2": "81.2.69.142"}),
        ("imap-plain.pcap", {"10.77.0.1": "89.160.20.128"}),  # the server stays private: ??
    ]
    d = tempfile.mkdtemp()
    try:
        seen_c, seen_as = set(), set()
        for name, mapping in cases:
            cap = os.path.join(d, name)
            rewrite_addresses(os.path.join(PCAPS, name), cap, mapping)
            for db in (CITY, COUNTRY):
                for args, cdb, adb in ((["--geoip", db, "--asn", ASN], db, ASN),
                                       (["--geoip", db], db, None),
                                       (["--asn", ASN], None, ASN)):
                    recs, doc, _ = summarise(cap, args)
                    check_shape(doc)
                    want = expected_summary(recs, "sum-test", cdb, adb)
                    problems = diff(doc, want)
                    assert not problems, (name, args, problems)
                    for k in ("countries", "as"):
                        assert sum(v["sessions"] for v in doc[k].values()) == \
                            (doc["totals"]["sessions"] if (cdb if k == "countries" else adb)
                             else 0), (name, args, doc[k])
                    seen_c |= set(doc["countries"])
                    seen_as |= set(doc["as"])
        assert {"SE", "??"} <= seen_c and len(seen_c) >= 3, seen_c
        assert "29518" in seen_as and "??" in seen_as, seen_as
    finally:
        subprocess.run(["rm", "-rf", d])


def test_anonymized_run_keys_servers_by_their_pseudonyms():
    """--anonymize: "anonymized":true, servers keyed by the pseudonyms the records show, never
    by the real address."""
    d = tempfile.mkdtemp()
    try:
        key = os.path.join(d, "key")
        st, _, err = run(["--anonymize-keygen", key])
        if st != 0 and "anonymize" in err and "unrecognized" in err:
            raise Skip("this build has no --anonymize")
        assert st == 0, err
        n = 0
        for name in ("smtp-plain.pcap", "smtp-ipv6.pcap", "tls-certs.pcap", "demo.pcapng"):
            cap = os.path.join(PCAPS, name)
            recs, doc, _ = summarise(cap, ["--anonymize", key])
            check_shape(doc)
            assert doc["anonymized"] is True, doc["anonymized"]
            problems = diff(doc, expected_summary(recs, "sum-test", anonymized=True))
            assert not problems, (name, problems)
            _, plain, _ = summarise(cap)
            real = set(plain["servers"])
            assert real and not (real & set(doc["servers"])), (name, real, list(doc["servers"]))
            assert sorted(v["alerts"] for v in plain["servers"].values()) == \
                sorted(v["alerts"] for v in doc["servers"].values())
            n += len(doc["servers"])
        assert n >= 6, n
    finally:
        subprocess.run(["rm", "-rf", d])


def slow_capture(d):
    """smtp-plain.pcap and pop3-plain.pcap, one packet every 10 s: several hours apart."""
    header, pkts = read_pcap(os.path.join(PCAPS, "smtp-plain.pcap"))
    _, pkts2 = read_pcap(os.path.join(PCAPS, "pop3-plain.pcap"))
    t0 = pkts[0][0]
    for i, p in enumerate(pkts):
        p[0], p[1] = t0 + 10 * i, 0
    for i, p in enumerate(pkts2):  # two hours after the last SMTP packet
        p[0], p[1] = t0 + 10 * len(pkts) + 7200 + 10 * i, 0
    cap = os.path.join(d, "slow.pcap")
    write_pcap(cap, header, pkts + pkts2)
    return cap, len(pkts) + len(pkts2)


def test_summary_records_every_interval_and_the_last_equals_the_file():
    d = tempfile.mkdtemp()
    try:
        cap, n_pkts = slow_capture(d)
        path, eve = os.path.join(d, "summary.json"), os.path.join(d, "eve.json")
        st, _, err = run(["-q", "-r", cap, "--sensor-id", "mx-tap-1", "--summary", path,
                          "--summary-interval", "120", "-w", eve])
        assert st == 0, err
        with open(eve) as fh:
            recs = [json.loads(l) for l in fh]
        sums = [r for r in recs if r["event_type"] == "summary"]
        assert len(sums) >= 3, [s["timestamp"] for s in sums]
        for s in sums:
            assert set(s) == {"timestamp", "host", "pcap_filename", "event_type", "summary"}, s
            assert s["host"] == "mx-tap-1" and s["pcap_filename"] == cap, s
            check_shape(s["summary"])
            assert "truncated" not in s["summary"], s
        # cumulative: counts only grow, the last record is written at the end of the run
        tot = [s["summary"]["totals"]["sessions"] for s in sums]
        assert tot == sorted(tot) and tot[0] < tot[-1], tot
        assert sums[-1]["timestamp"] == max(r["timestamp"] for r in recs), sums[-1]
        with open(path) as fh:
            doc = json.load(fh)
        assert sums[-1]["summary"] == doc
        assert not diff(doc, expected_summary(recs, "mx-tap-1"))
        assert len(doc["hours"]) >= 2, doc["hours"]
        # a record in the middle counts the sessions that had ended by then
        mid = sums[len(sums) // 2]
        ended = [m for m, _, _, f in sessions_of(recs) if m is not None and
                 recs.index(f) < recs.index(mid)]
        assert mid["summary"]["totals"]["sessions"] == len(ended), (mid, len(ended))
        # without --summary-interval: no summary record
        st, out, err = run(["-q", "-r", cap, "--summary", path])
        assert st == 0 and not any(r["event_type"] == "summary" for r in records(out)), err
        # --summary-interval alone: records, no file needed
        st, out, err = run(["-q", "-r", cap, "--summary-interval", "120"])
        assert st == 0 and any(r["event_type"] == "summary" for r in records(out)), err
    finally:
        subprocess.run(["rm", "-rf", d])


def test_summary_record_too_big_for_one_line_leaves_out_servers_first():
    """800 servers with alerts: the file keeps them all, the record drops the map and says so."""
    header, pkts = read_pcap(os.path.join(PCAPS, "smtp-plain.pcap"))
    d = tempfile.mkdtemp()
    try:
        many = []
        t0 = pkts[0][0]
        src = os.path.join(PCAPS, "smtp-plain.pcap")
        for i in range(800):
            one = os.path.join(d, "one.pcap")
            rewrite_addresses(src, one, {"10.77.0.2": "10.%d.%d.2" % (100 + i // 250, i % 250)})
            _, p1 = read_pcap(one)
            for p in p1:
                p[0] = p[0] - t0 + 1700000000 + 60 * i
            many += p1
        cap = os.path.join(d, "many.pcap")
        write_pcap(cap, header, many)
        path = os.path.join(d, "s.json")
        st, out, err = run(["-q", "-r", cap, "--summary", path, "--summary-interval", "86400",
                            "--no-flow-records", "--no-session-records"], timeout=600)
        assert st == 0, err
        lines = out.splitlines()
        sums = [json.loads(l) for l in lines if '"event_type":"summary"' in l]
        assert sums and all(len(l) < 65536 for l in lines)
        with open(path) as fh:
            doc = json.load(fh)
        _, one_doc, _ = summarise(src)
        assert one_doc["servers"] and len(doc["servers"]) == 800 * len(one_doc["servers"]), \
            (len(doc["servers"]), len(one_doc["servers"]))
        last = sums[-1]["summary"]
        assert last["truncated"] is True and "servers" not in last, list(last)
        assert last["totals"] == doc["totals"] and last["hours"] == doc["hours"]
        assert last["ports"] == doc["ports"] and last["findings"] == doc["findings"]
    finally:
        subprocess.run(["rm", "-rf", d])


def test_summary_file_replaced_atomically_and_errors():
    cap = os.path.join(PCAPS, "smtp-plain.pcap")
    d = tempfile.mkdtemp()
    try:
        path = os.path.join(d, "s.json")
        with open(path, "w") as fh:
            fh.write("old")
        st, _, err = run(["-q", "-r", cap, "--summary", path])
        assert st == 0, err
        with open(path) as fh:
            assert json.load(fh)["totals"]["sessions"] >= 1
        assert os.listdir(d) == ["s.json"], os.listdir(d)
        # a place that cannot be written: said at once, before any input is read
        st, out, err = run(["-q", "-r", cap, "--summary", os.path.join(d, "no", "s.json")])
        assert st == 1 and out == "" and "--summary" in err and "No such file" in err, err
        assert len(err.strip().splitlines()) == 1, err
        for args in (["--summary-interval", "0"], ["--summary-interval", "x"]):
            st, out, err = run(["-q", "-r", cap] + args)
            assert st == 2 and "--summary-interval" in err and out == "", (args, err)
        st, _, err = run(["-q", "-r", cap, "--redis-events", "nope"])
        assert st == 2 and "summary" in err, err
    finally:
        subprocess.run(["rm", "-rf", d])


def test_empty_run_gives_an_empty_document():
    d = tempfile.mkdtemp()
    try:
        cap = os.path.join(d, "empty.pcap")
        header, _ = read_pcap(os.path.join(PCAPS, "smtp-plain.pcap"))
        write_pcap(cap, header, [])
        recs, doc, _ = summarise(cap)
        check_shape(doc)
        assert doc["first"] == "" and doc["last"] == "" and doc["ports"] == {}, doc
        assert not any(flat(doc["totals"]).values())
    finally:
        subprocess.run(["rm", "-rf", d])


def record_time(r):
    """A record's timestamp in seconds since the epoch."""
    return datetime.datetime.strptime(r["timestamp"], "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def test_summary_file_rewritten_at_each_interval_while_running():
    """--summary FILE is replaced at each --summary-interval, not only at exit. The capture is
    fed through stdin in steps (packet time drives the interval when reading a capture);
    after each step postcard has handled everything fed (wait_stdin_drained), and the file,
    read while postcard runs, is a whole document: the one of the latest summary record."""
    d = tempfile.mkdtemp()
    try:
        cap, _ = slow_capture(d)
        with open(cap, "rb") as fh:
            data = fh.read()
        _, pkts = read_pcap(cap)
        path, eve = os.path.join(d, "summary.json"), os.path.join(d, "eve.json")
        snaps, fed = [], 0
        with Postcard(["-q", "-r", "-", "--sensor-id", "mx-tap-1", "--summary", path,
                       "--summary-interval", "30", "-w", eve]) as pc:
            for chunk in pcap_chunks(data, 10):
                pc.feed(chunk)
                pc.wait_stdin_drained()
                fed += len(chunk)
                t = max(p[0] for p in pkts[:len(C.pcap_record_offsets(data[:fed])[0])])
                assert not [f for f in os.listdir(d) if f.endswith(".tmp")], os.listdir(d)
                if os.path.exists(path):
                    with open(path) as fh:
                        snaps.append((t, json.load(fh)))
            st, _, err = pc.finish()
        assert st == 0, err
        with open(eve) as fh:
            sums = [r for r in map(json.loads, fh) if r["event_type"] == "summary"]
        periodic = sums[:-1]  # the last one is written at the end of the run
        assert len(snaps) >= 7 and len(periodic) >= 7, (len(snaps), len(periodic))
        for t, doc in snaps:
            latest = [r for r in periodic if record_time(r) <= t][-1]
            assert doc == latest["summary"], (t, latest["timestamp"])
        assert len({json.dumps(doc, sort_keys=True) for _, doc in snaps}) >= 3, \
            "the file changed as sessions ended"
        with open(path) as fh:
            assert json.load(fh) == sums[-1]["summary"]
    finally:
        subprocess.run(["rm", "-rf", d])


def test_summary_file_that_cannot_be_written_is_said_once_and_leaves_no_temporary_file():
    """The rename over FILE fails while FILE is a directory: postcard says so once (not at
    every interval), goes on, and writes FILE at the next interval once it can; the run
    exits 0 when the last write succeeded. When the last one fails too, the exit status is 1.
    No FILE.tmp is ever left behind."""
    d = tempfile.mkdtemp()
    try:
        cap, _ = slow_capture(d)
        with open(cap, "rb") as fh:
            data = fh.read()
        path = os.path.join(d, "s.json")
        os.mkdir(path)
        args = ["-q", "--summary", path, "--summary-interval", "120"]
        with Postcard(args + ["-r", "-"]) as pc:
            chunks = pcap_chunks(data, 4)
            for chunk in chunks[:2]:  # several intervals: each write fails
                pc.feed(chunk)
                pc.wait_stdin_drained()
            line = pc.wait_stderr("--summary")
            assert path in line and "Is a directory" in line, line
            assert sorted(os.listdir(d)) == ["s.json", "slow.pcap"], os.listdir(d)
            os.rmdir(path)
            for chunk in chunks[2:]:
                pc.feed(chunk)
                pc.wait_stdin_drained()
            with open(path) as fh:
                assert json.load(fh)["totals"]["sessions"] >= 1
            st, out, err = pc.finish()
        assert st == 0, err
        assert len([l for l in err.splitlines() if "--summary" in l]) == 1, err
        assert sorted(os.listdir(d)) == ["s.json", "slow.pcap"], os.listdir(d)
        # the last write fails as well: exit status 1, said at the end
        os.unlink(path)
        os.mkdir(path)
        st, out, err = run(args + ["-r", cap])
        told = [l for l in err.splitlines() if "--summary" in l]
        assert st == 1 and len(told) == 2, err  # the first failure, and the last one
        assert told[0].endswith("(tried again at each --summary-interval)"), err
        assert told[1] == "postcard: --summary %s: Is a directory" % path, err
        assert sorted(os.listdir(d)) == ["s.json", "slow.pcap"] and os.path.isdir(path)
        # a run that fails on its input: the file is written, nothing else is left
        os.rmdir(path)
        cut = os.path.join(d, "cut.pcap")
        with open(cut, "wb") as fh:
            fh.write(data[:len(data) * 2 // 3])
        st, out, err = run(args + ["-r", cut])
        assert st == 1 and "truncated" in err, err
        assert sorted(os.listdir(d)) == ["cut.pcap", "s.json", "slow.pcap"], os.listdir(d)
        with open(path) as fh:
            json.load(fh)
    finally:
        subprocess.run(["rm", "-rf", d])


# --- the summary printed at exit ------------------------------------------------------

def exit_summary(err):
    """The counts of the summary printed at exit (docs/cli.md, "Progress and summary")."""
    def grab(rx):
        m = re.search(rx, err, re.M)
        assert m, "no %r in:\n%s" % (rx, err)
        return m
    m = grab(r"^  flows: +(\d+) \((\d+) TCP, (\d+) UDP\), (\d+) bypassed, (\d+) evicted(.*)$")
    ex = dict(zip(("flows", "tcp", "udp", "bypassed", "evicted"), map(int, m.groups()[:5])))
    ex["flows_note"] = m.group(6)
    m = re.search(r"^  evicted: +(\d+) embryonic, (\d+) other, (\d+) sessions; sessions cut: "
                  r"(\d+) mail, (\d+) TLS$", err, re.M)
    ex["evicted_by"] = tuple(int(x) for x in m.groups()) if m else None
    m = grab(r"^  flows by protocol:(.*)$")
    ex["apps"] = {k: int(v) for k, v in re.findall(r" ([^ =]+)=(\d+)", m.group(1))}
    m = grab(r"^  mail sessions: +(\d+), TLS sessions: (\d+) \(\d+ certificates parsed, "
             r"\d+ from the cache\)(.*)$")
    ex["mail"], ex["tls"], ex["sessions_note"] = int(m.group(1)), int(m.group(2)), m.group(3)
    m = re.search(r"^  alerts: +(\d+) written \(\d+ rules; (\d+) sessions judged", err, re.M)
    ex["alerts"], ex["judged"] = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
    assert m or "alerts:         none: --no-rules" in err, err
    ex["records"] = int(grab(r"^  records: +(\d+) written$").group(1))
    return ex


def check_exit_summary(cap, extra):
    """Run cap; the problems where the exit summary differs from the records, the last stats
    record or the summary file."""
    d = tempfile.mkdtemp()
    try:
        path = os.path.join(d, "s.json")
        st, out, err = run(["-r", cap, "--summary", path] + list(extra))
        assert st == 0 or (st == 1 and "postcard: %s: " % cap in err), (cap, st, err)
        with open(path) as fh:
            doc = json.load(fh)
    finally:
        subprocess.run(["rm", "-rf", d])
    recs = records(out)
    ex = exit_summary(err)
    stats = [r for r in recs if r["event_type"] == "stats"][-1]["stats"]
    n = collections.Counter(r["event_type"] for r in recs)
    fl = [r for r in recs if r["event_type"] == "flow"]
    problems = []

    def same(what, *vals):
        if any(v != vals[0] for v in vals):
            problems.append("%s: %s" % (what, vals))

    no_flows = "--no-flow-records" in extra
    no_sessions = "--no-session-records" in extra
    same("flows note", ex["flows_note"], "; no flow records (--no-flow-records)" if no_flows
         else "")
    same("sessions note", ex["sessions_note"],
         "; no mail or tls records (--no-session-records)" if no_sessions else "")
    same("records", ex["records"], len(recs), stats["outputs"]["records"] + 1)
    same("flows", ex["flows"], stats["flow"]["ended"], ex["tcp"] + ex["udp"],
         *([] if no_flows else [len(fl)]))
    same("flows: tcp, udp", (ex["tcp"], ex["udp"]), (stats["flow"]["tcp"], stats["flow"]["udp"]),
         *([] if no_flows else [(sum(r["proto"] == "TCP" for r in fl),
                                 sum(r["proto"] == "UDP" for r in fl))]))
    same("flows bypassed", ex["bypassed"], stats["flow"]["bypassed"],
         *([] if no_flows else [sum(r["flow"]["bypassed"] for r in fl)]))
    same("flows evicted", ex["evicted"], stats["flow"]["evicted"],
         *([] if no_flows else [sum(r["flow"]["reason"] == "forced" for r in fl)]))
    f = stats["flow"]
    same("evicted by class", ex["evicted_by"] or (0, 0, 0, 0, 0),
         (f["evicted_embryonic"], f["evicted_other"], f["evicted_session"],
          stats["mail"]["cut"], stats["tls"]["cut"]),
         *([] if no_sessions else [(f["evicted_embryonic"], f["evicted_other"],
                                    f["evicted_session"],
                                    sum(1 for r in recs if r["event_type"] == "mail" and
                                        r["mail"].get("cut")),
                                    sum(1 for r in recs if r["event_type"] == "tls" and
                                        r["tls"].get("cut")))]))
    same("evicted line", ex["evicted_by"] is not None, ex["evicted"] > 0)
    same("evicted classes", ex["evicted"], sum((f["evicted_embryonic"], f["evicted_other"],
                                                f["evicted_session"])))
    if not no_flows:
        same("flows by protocol", ex["apps"], dict(collections.Counter(r["app_proto"]
                                                                       for r in fl)))
    same("mail sessions", ex["mail"], stats["mail"]["sessions"], doc["totals"]["sessions"],
         *([] if no_sessions else [n["mail"]]))
    same("TLS sessions", ex["tls"], stats["tls"]["sessions"], doc["tls"]["sessions"],
         *([] if no_sessions else [n["tls"]]))
    same("alerts", ex["alerts"], n["alert"], stats["detect"]["alerts"], doc["totals"]["alerts"])
    judged = {r["flow_id"] for r in recs if r["event_type"] in ("mail", "tls")}
    same("sessions judged", ex["judged"], stats["detect"]["sessions"],
         *([] if no_sessions or "--no-rules" in extra else [len(judged)]))
    return ["%s %s: %s" % (os.path.relpath(cap, C.ROOT), " ".join(extra), p) for p in problems]


def check_exit_summaries(files, variants):
    jobs = [(f, v) for f in files for v in variants]
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
        bad = sum(ex.map(lambda job: check_exit_summary(*job), jobs), [])
    assert not bad, "\n".join(bad[:60])


def test_exit_summary_counts_equal_records_and_summary_file_project_captures():
    check_exit_summaries(C.project_pcaps(), [[], ["--tls-all-ports"], ["--no-rules"],
                                             ["--no-flow-records", "--no-session-records"]])


def test_exit_summary_counts_equal_records_and_summary_file_corpus():
    check_exit_summaries(C.corpus_files(), [["--tls-all-ports"], [],
                                            ["--no-flow-records", "--no-session-records",
                                             "--tls-all-ports"]])


if __name__ == "__main__":
    sys.exit(C.run_suite(globals()))

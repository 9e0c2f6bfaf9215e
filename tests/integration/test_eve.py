#!/usr/bin/env python3
"""postcard integration tests: the EVE envelope of every record (host, pcap_filename), GeoIP
enrichment from MaxMind's test databases on captures rewritten to their addresses, stats
records, and output files reopened on SIGHUP.

Same runner as every suite (tests/integration/common.py); the last line is
"integration-eve: N passed, N failed, N skipped".
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile

from common import (ASN, CITY, COUNTRY, PCAPS, Postcard, mmdb_value, need_mmdb, pcap_bytes,
                    read_pcap, records, rewrite_addresses, run, run_suite, write_pcap)


# --- what MaxMind's test databases say ---------------------------------------------

def expected_geo(ip, city_db):
    geo = {}
    for key, path in (("country_iso", ("country", "iso_code")),
                      ("country", ("country", "names", "en")),
                      ("city", ("city", "names", "en"))):
        v = mmdb_value(city_db, ip, *path)
        if v is not None:
            geo[key] = v
    asn = {}
    v = mmdb_value(ASN, ip, "autonomous_system_number")
    if v is not None:
        asn["number"] = v
    v = mmdb_value(ASN, ip, "autonomous_system_organization")
    if v is not None:
        asn["org"] = v
    out = {}
    if geo:
        out["geoip"] = geo
    if asn:
        out["as"] = asn
    return out or None


# --- tests ------------------------------------------------------------------------

def test_every_record_names_its_sensor_and_input():
    cap = os.path.join(PCAPS, "demo.pcapng")
    _, out, _ = run(["-q", "-r", cap, "--sensor-id", "mx-tap-1"])
    recs = records(out)
    assert recs and all(r["host"] == "mx-tap-1" for r in recs)
    assert all(r["pcap_filename"] == cap for r in recs)
    _, out, _ = run(["-q", "-r", cap])
    assert {r["host"] for r in records(out)} == {socket.gethostname()}
    st, _, err = run(["-q", "-r", cap, "--sensor-id", ""])
    assert st == 2 and "--sensor-id" in err, err
    # two files: each record names the file being read when it was written; flows still open
    # at the end of the last file end then, so they name it
    g = os.path.join(PCAPS, "pop3-plain.pcap")
    header, pkts = read_pcap(g)
    d = tempfile.mkdtemp()
    try:
        early = os.path.join(d, "early.pcap")
        for p in pkts:
            p[0] -= 7200  # two hours before demo.pcapng: its flows end while demo is read
        write_pcap(early, header, pkts)
        _, out, _ = run(["-q", "-r", early, "-r", cap])
        recs = records(out)
        # the sessions end at demo's first packet: their records name demo; their alerts were
        # raised at the packets that decided them, while early.pcap was being read
        names = {r["pcap_filename"] for r in recs if r["event_type"] != "alert"}
        assert names == {cap}, names
        _, alone, _ = run(["-q", "-r", early])
        early_flows = {r["flow_id"] for r in records(alone) if r["event_type"] == "flow"}
        raised = [(i, r) for i, r in enumerate(recs)
                  if r["event_type"] == "alert" and r["flow_id"] in early_flows]
        ended = {r["flow_id"]: i for i, r in enumerate(recs)
                 if r["event_type"] == "mail" and r["flow_id"] in early_flows}
        # raised before the session ended (its mail record): early.pcap; decided at its end
        # (the POP3 session's missing STARTTLS: no CAPA came): the file read then
        during = {r["pcap_filename"] for i, r in raised if i < ended[r["flow_id"]]}
        at_end = {r["pcap_filename"] for i, r in raised if i > ended[r["flow_id"]]}
        assert len(raised) >= 2 and during == {early} and at_end <= {cap}, raised
        assert {r["pcap_filename"] for r in recs if r["event_type"] == "alert"} == {early, cap}
        _, out, _ = run(["-q", "-r", early, "-r", early])
        assert {r["pcap_filename"] for r in records(out)} == {early}
    finally:
        subprocess.run(["rm", "-rf", d])


def test_eve_names_of_tls_and_smtp():
    """The EVE fields a Suricata consumer reads are where EVE puts them."""
    _, out, _ = run(["-q", "-r", os.path.join(PCAPS, "tls-certs.pcap")])
    tls = [r["tls"] for r in records(out) if r["event_type"] == "tls" and r["tls"].get("subject")]
    assert tls
    for t in tls:
        for k in ("version", "subject", "issuerdn", "serial", "fingerprint", "sni", "notbefore",
                  "notafter"):
            assert k in t, k
        assert set(t["ja3"]) == {"hash", "string"} and set(t["ja3s"]) == {"hash", "string"}
        assert re.match(r"^([0-9a-f]{2}:){31}[0-9a-f]{2}$", t["fingerprint"]), t["fingerprint"]
    _, out, _ = run(["-q", "-r", os.path.join(PCAPS, "smtp-plain.pcap")])
    smtp = [r["smtp"] for r in records(out) if r["event_type"] == "mail"]
    assert smtp and all(set(s) == {"helo", "mail_from", "rcpt_to"} for s in smtp), smtp


def test_geoip_and_asn_of_public_addresses():
    need_mmdb()
    d = tempfile.mkdtemp()
    try:
        cases = [  # capture, client -> address, server -> address
            ("smtp-plain.pcap", {"10.77.0.1": "81.2.69.142", "10.77.0.2": "89.160.20.128"}),
            ("smtp-ipv6.pcap", {"fd77::1": "2a02:d180::1", "fd77::2": "2001:218::1"}),
            ("tls-certs.pcap", {"10.77.0.1": "216.160.83.56", "10.77.0.2": "214.78.120.5"}),
        ]
        n = 0
        for name, mapping in cases:
            cap = os.path.join(d, name)
            rewrite_addresses(os.path.join(PCAPS, name), cap, mapping)
            for db in (CITY, COUNTRY):
                st, out, err = run(["-q", "-r", cap, "--geoip", db, "--asn", ASN])
                assert st == 0, err
                recs = records(out)
                assert any(r["event_type"] == "alert" for r in recs), name
                for r in recs:
                    if r["event_type"] in ("flow", "stats"):
                        assert "src_geo" not in r and "dest_geo" not in r, r
                        continue
                    for side, ip in (("src", r["src_ip"]), ("dest", r["dest_ip"])):
                        want = expected_geo(ip, db)
                        assert r.get(side + "_geo") == want, (name, db, side, ip,
                                                              r.get(side + "_geo"), want)
                        n += want is not None
            # the same capture with its private addresses: nothing is looked up
        _, out, _ = run(["-q", "-r", os.path.join(PCAPS, "smtp-plain.pcap"), "--geoip", CITY,
                         "--asn", ASN])
        assert not any("src_geo" in r or "dest_geo" in r for r in records(out))
        assert n >= 20, n
    finally:
        subprocess.run(["rm", "-rf", d])


def test_geoip_database_problems_are_startup_errors():
    need_mmdb()
    cap = os.path.join(PCAPS, "smtp-plain.pcap")
    d = tempfile.mkdtemp()
    try:
        bad = os.path.join(d, "corrupt.mmdb")
        with open(CITY, "rb") as fh:
            data = fh.read()
        with open(bad, "wb") as fh:
            fh.write(data[: len(data) // 3])  # cut: the metadata at the end is gone
        for args, needle in (
                (["--geoip", os.path.join(d, "nope.mmdb")], "No such file"),
                (["--geoip", bad], "not a MaxMind database"),
                (["--geoip", cap], "not a MaxMind database"),
                (["--geoip", ASN], "not Country or City"),
                (["--asn", CITY], "not ASN")):
            st, out, err = run(["-q", "-r", cap] + args)
            assert st == 1 and needle in err and out == "", (args, st, err)
            assert len(err.strip().splitlines()) == 1, err
    finally:
        subprocess.run(["rm", "-rf", d])


def test_stats_records_count_what_the_run_saw():
    d = tempfile.mkdtemp()
    try:
        header, pkts = read_pcap(os.path.join(PCAPS, "smtp-plain.pcap"))
        t0 = pkts[0][0]
        for i, p in enumerate(pkts):  # one packet every 10 s: 430 s in all
            p[0], p[1] = t0 + 10 * i, 0
        cap = os.path.join(d, "slow.pcap")
        write_pcap(cap, header, pkts)
        st, out, err = run(["-r", cap, "--stats-interval", "60"])
        assert st == 0, err
        recs = records(out)
        stats = [r for r in recs if r["event_type"] == "stats"]
        # at 60, 120, ... 420 s of packet time (each one 60 s after the one before), and at the end
        assert len(stats) == 8, [s["stats"]["uptime"] for s in stats]
        ups = [s["stats"]["uptime"] for s in stats]
        assert ups == [60, 120, 180, 240, 300, 360, 420, 430], ups
        pk = [s["stats"]["decoder"]["pkts"] for s in stats]
        assert pk == sorted(pk) and pk[-1] == len(pkts), pk
        last = stats[-1]["stats"]
        summary = dict(re.findall(r"^\s+([a-z ]+):\s+(\d+)", err, re.M))
        assert last["decoder"]["pkts"] == int(summary["packets"])
        assert last["flow"]["ended"] == int(summary["flows"])
        assert last["detect"]["alerts"] == sum(r["event_type"] == "alert" for r in recs)
        assert last["mail"]["sessions"] == sum(r["event_type"] == "mail" for r in recs)
        assert last["outputs"]["records"] == len(recs) - 1  # all but itself
        # files: one at the end unless asked
        _, out, _ = run(["-q", "-r", cap])
        assert sum(r["event_type"] == "stats" for r in records(out)) == 1
    finally:
        subprocess.run(["rm", "-rf", d])


def test_output_file_reopened_on_sighup():
    """logrotate: the file is moved away, SIGHUP, and postcard writes a new one; nothing lost.

    The first capture and the first packet of the second, 20 minutes later, go through the
    pipe and are handled (the pipe stays open): that packet ends the first capture's flows by
    timeout. Then the file is moved, SIGHUP sent, and the rest written: postcard reopens the
    file before it handles the next packet, so the first capture's records are in the old
    file and the second's in the new one."""
    d = tempfile.mkdtemp()
    try:
        caps = [os.path.join(PCAPS, n) for n in ("smtp-plain.pcap", "pop3-plain.pcap")]
        whole = os.path.join(d, "whole.json")
        st, _, err = run(["-q", "-w", whole, "-r", caps[0], "-r", caps[1]])
        assert st == 0, err
        out = os.path.join(d, "eve.json")
        header, pkts = read_pcap(caps[0])
        _, pkts2 = read_pcap(caps[1])
        for p in pkts2:  # 20 minutes later: the first flows time out
            p[0] += 1200
        with Postcard(["-q", "-w", out, "-r", "-", "--no-flow-records"]) as pc:
            pc.feed(pcap_bytes(header, pkts + pkts2[:1]))
            pc.wait_stdin_drained()
            os.rename(out, out + ".1")
            pc.signal(signal.SIGHUP)
            pc.feed(pcap_bytes(b"", pkts2[1:]))
            st, _, err = pc.finish(timeout=60)
        assert st == 0, err
        assert os.path.exists(out) and os.path.exists(out + ".1"), os.listdir(d)
        with open(out + ".1") as fh:
            old = [json.loads(l) for l in fh]
        with open(out) as fh:
            new = [json.loads(l) for l in fh]
        # records written before the SIGHUP went to the old file (the buffer was flushed
        # into it), later ones to the new file
        smtp = {r["src_port"] for r in old if r["event_type"] == "mail"}
        pop3 = {r["src_port"] for r in new if r["event_type"] == "mail"}
        assert smtp and pop3 and not smtp & pop3, (old, new)
        assert {r["dest_port"] for r in old if r["event_type"] == "mail"} == {25, 587}, old
        assert {r["dest_port"] for r in new if r["event_type"] == "mail"} == {110}, new
        with open(whole) as fh:
            want = [json.loads(l) for l in fh]
        key = lambda r: (r["event_type"], r.get("src_port"), r.get("dest_port"),
                         (r.get("alert") or {}).get("signature_id"))
        got = sorted(key(r) for r in old + new if r["event_type"] in ("mail", "alert"))
        exp = sorted(key(r) for r in want if r["event_type"] in ("mail", "alert"))
        assert got == exp, (got, exp)
    finally:
        subprocess.run(["rm", "-rf", d])


def test_output_options_are_checked():
    cap = os.path.join(PCAPS, "smtp-plain.pcap")
    for args, needle in ((["--redis-mode", "queue"], "--redis-mode"),
                         (["--redis-push", "xpush"], "--redis-push"),
                         (["--redis-events", "alert,nope"], "--redis-events"),
                         (["--stats-interval", "-1"], "--stats-interval")):
        st, out, err = run(["-q", "-r", cap] + args)
        assert st == 2 and needle in err and out == "", (args, st, err)


if __name__ == "__main__":
    sys.exit(run_suite(globals()))

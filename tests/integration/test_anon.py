#!/usr/bin/env python3
"""postcard integration tests: --anonymize (docs/anonymize.md).

Every project capture and every mail capture of the corpus is read with and without
--anonymize: no address of the capture (IPv4 dotted, IPv6 compressed or written out) and no
name of a person or host (user names, mail addresses, HELO names, greetings, SNI, the
server certificate's names; taken from the plain run and from pcaps/README.md) appears in
the anonymised output; pseudonyms preserve the common prefix of every pair of addresses;
the same key gives the same output on every run and sensor; alerts fire as without it.

Same runner as every suite (tests/integration/common.py); the last line is
"integration-anon: N passed, N failed, N skipped".
"""
import concurrent.futures
import ipaddress
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

import common as C
from common import PCAPS, Skip, records, run

# The Crypto-PAn reference distribution's sample key: the tests know what it maps to.
REF_KEY = bytes([21, 34, 23, 141, 51, 164, 207, 128, 19, 10, 91, 22, 73, 144, 125, 16,
                 216, 152, 143, 131, 121, 121, 101, 39, 98, 87, 76, 45, 42, 132, 34, 2])

_tmp = tempfile.mkdtemp(prefix="postcard-anon-")


def key_file(name="ref.key", data=REF_KEY, mode=0o600):
    path = os.path.join(_tmp, name)
    with open(path, "wb") as fh:
        fh.write(data)
    os.chmod(path, mode)
    return path


def mail_captures():
    """Every capture of pcaps/, and the corpus captures whose labels list mail."""
    files = C.project_pcaps()
    assert len(files) >= 10, files
    corpus = []
    if C.CORPUS is not None:
        corpus = [cap for cap, info in C.corpus_labels() if info.get("mail_streams")]
    return files, corpus


def envelope_blanked(out):
    """The capture's path and the sensor's name are the operator's words, not captured data."""
    return re.sub(r'"(?:pcap_filename|host)":"(?:[^"\\]|\\.)*"', '""', out)


# --- what a plain run shows ---------------------------------------------------------------

def strip_path(p):
    return p[1:-1] if len(p) >= 2 and p[0] == "<" and p[-1] == ">" else p


def secrets_of(recs):
    """Addresses and names a plain run shows: what an anonymised run must not."""
    addrs, names = set(), set()
    for r in recs:
        for k in ("src_ip", "dest_ip"):
            if k in r:
                addrs.add(r[k])
        m = r.get("mail") or {}
        for l in m.get("logins", []):
            names.add(l.get("user", ""))
        g = m.get("greeting", "")
        if g and "." in g.split(" ")[0]:
            names.add(g.split(" ")[0])  # RFC 5321 §4.3.1: the server's name first
        s = r.get("smtp") or {}
        names.add(s.get("helo", ""))
        for p in [s.get("mail_from", "")] + s.get("rcpt_to", []):
            names.add(p)
            names.add(strip_path(p))
        t = r.get("tls") or {}
        names.add(t.get("sni") or "")
        certs = t.get("certs") or []
        if certs and certs[0].get("subject"):
            names.add(certs[0]["subject"])
            names.update(certs[0].get("sans", []))
            names.add(certs[0].get("serial", ""))
            names.add(certs[0].get("sha256", ""))
    # "<>" and names this short would match innocent text
    names = {n for n in names if len(n) >= 3 and n != "<>"}
    return addrs, names


def readme_users():
    """The test accounts pcaps/README.md says the captures log in with."""
    with open(os.path.join(PCAPS, "README.md")) as fh:
        text = fh.read()
    users = set(re.findall(r"\b([a-z]+)'s password", text))
    users |= set(re.findall(r"^\s+\d+\. ([a-z]+): ", text, re.M))
    users |= set(re.findall(r"`(?:USER|APOP) ([a-z]+)[ `]", text))
    users |= set(re.findall(r"`a\d LOGIN \"?([a-z]+)\"? ", text))
    assert {"alice", "bob", "dave"} <= users, users
    return users


def address_patterns(addr):
    """A regex per textual form of addr: dotted IPv4; IPv6 compressed, written out with and
    without leading zeros; an IPv4 address also inside ::ffff:a.b.c.d."""
    ip = ipaddress.ip_address(addr)
    if ip.version == 4:
        return [r"(?<![0-9.])%s(?![0-9])" % re.escape(str(ip))]
    full = ip.exploded
    forms = {ip.compressed, full, ":".join(g.lstrip("0") or "0" for g in full.split(":"))}
    return [r"(?i)(?<![0-9a-f:])%s(?![0-9a-f:])" % re.escape(f) for f in forms]


def leaks_in(text, addrs, names):
    found = []
    for a in addrs:
        if a in ("0.0.0.0", "::", "255.255.255.255"):
            continue
        for pat in address_patterns(a):
            if re.search(pat, text):
                found.append("address %s" % a)
                break
    for n in names:
        if re.search(r"(?<![A-Za-z0-9_.@-])%s(?![A-Za-z0-9_@-])" % re.escape(n), text):
            found.append("name %r" % n)
    return found


def check_no_leaks(files):
    users = readme_users()
    key = key_file()

    def one(cap):
        st, plain, err = run(["-q", "-r", cap])
        assert st in (0, 1), (cap, err)
        addrs, names = secrets_of(records(plain))
        names |= users
        bad = []
        for extra in ([], ["--anonymize-users", "hash"]):
            st2, out, err2 = run(["-r", cap, "--anonymize", key] + extra)
            assert st2 == st, (cap, extra, err2)
            recs = records(out)
            assert recs and all(r.get("anonymized") is True for r in recs), (cap, extra)
            for where, text in (("stdout", envelope_blanked(out)), ("stderr", err2)):
                for what in leaks_in(text, addrs, names):
                    bad.append("%s %s: %s in %s" % (os.path.basename(cap), extra, what, where))
        return cap, len(addrs), bad

    bad, n_addrs = [], 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as ex:
        for _, n, b in ex.map(one, files):
            n_addrs += n
            bad += b
    assert n_addrs >= len(files), n_addrs
    assert not bad, "\n".join(bad[:40])


# --- tests -----------------------------------------------------------------------------------

def test_project_captures_show_no_address_or_name():
    files, _ = mail_captures()
    check_no_leaks(files)


def test_corpus_mail_captures_show_no_address_or_name():
    C.need_corpus()
    _, corpus = mail_captures()
    assert corpus, "no corpus capture has mail"
    check_no_leaks(corpus)


def prefix_len(a, b):
    x, y = ipaddress.ip_address(a), ipaddress.ip_address(b)
    bits = x.max_prefixlen
    d = int(x) ^ int(y)
    return bits - d.bit_length()


def paired_runs(cap, key, extra=()):
    """The records of a plain and an anonymised run, in the same order."""
    _, plain, _ = run(["-q", "-r", cap])
    _, anon, _ = run(["-q", "-r", cap, "--anonymize", key] + list(extra))
    p, a = records(plain), records(anon)
    assert len(p) == len(a), (cap, len(p), len(a))
    for x, y in zip(p, a):
        assert x["event_type"] == y["event_type"], (cap, x, y)
        assert x.get("src_port") == y.get("src_port") and x.get("dest_port") == y.get("dest_port")
    return p, a


def aes_ecb(key, data):
    """AES-128-ECB by the openssl command, not by postcard's code."""
    p = subprocess.run(["openssl", "enc", "-aes-128-ecb", "-nopad", "-K", key.hex()],
                       input=data, capture_output=True, check=True)
    return p.stdout


def reference_cryptopan(addr, key=REF_KEY):
    """Crypto-PAn as the reference code computes it (IPv6: the same over 128 bits)."""
    ip = ipaddress.ip_address(addr)
    bits = ip.max_prefixlen
    pad = int.from_bytes(aes_ecb(key[:16], key[16:]), "big")
    a = int(ip) << (128 - bits)
    blocks = b""
    for i in range(bits):
        keep = ((1 << 128) - 1) ^ ((1 << (128 - i)) - 1)  # the first i bits of the address
        blocks += ((a & keep) | (pad & ~keep & ((1 << 128) - 1))).to_bytes(16, "big")
    out = aes_ecb(key[:16], blocks)
    flips = 0
    for i in range(bits):
        flips |= (out[16 * i] >> 7) << (bits - 1 - i)
    return str(ipaddress.ip_address(int(ip) ^ flips))


def test_pseudonyms_preserve_prefixes_between_every_pair():
    """Client and server of each record, and every pair of addresses of a capture, share as
    many leading bits after as before; the mapping is one-to-one, and each pseudonym is the
    one an independent Crypto-PAn (openssl's AES) computes."""
    key = key_file()
    files, corpus = mail_captures()
    n_pairs = 0
    checked = {}
    for cap in files + corpus:
        p, a = paired_runs(cap, key)
        mapping = {}
        for x, y in zip(p, a):
            if "src_ip" not in x:
                continue
            for k in ("src_ip", "dest_ip"):
                assert mapping.setdefault(x[k], y[k]) == y[k], (cap, x[k], y[k])
                assert x[k] != y[k], (cap, x[k])
                assert ipaddress.ip_address(x[k]).version == ipaddress.ip_address(y[k]).version
            assert prefix_len(x["src_ip"], x["dest_ip"]) == prefix_len(y["src_ip"], y["dest_ip"]), \
                (cap, x["src_ip"], x["dest_ip"], y["src_ip"], y["dest_ip"])
        assert len(set(mapping.values())) == len(mapping), (cap, mapping)
        real = sorted(mapping)
        for i, r1 in enumerate(real):
            for r2 in real[i + 1:]:
                if ipaddress.ip_address(r1).version != ipaddress.ip_address(r2).version:
                    continue
                assert prefix_len(r1, r2) == prefix_len(mapping[r1], mapping[r2]), (cap, r1, r2)
                n_pairs += 1
        for r1 in real:
            if r1 not in checked:
                checked[r1] = reference_cryptopan(r1)
            assert ipaddress.ip_address(mapping[r1]) == ipaddress.ip_address(checked[r1]), \
                (cap, r1, mapping[r1], checked[r1])
    assert n_pairs >= len(files), n_pairs
    assert any(":" in a for a in checked), "no IPv6 address was checked"


def test_same_key_same_pseudonyms_on_every_run_and_sensor():
    key = key_file()
    copy = key_file("copy.key")  # another path, the same bytes: another sensor
    other = key_file("other.key", bytes(reversed(REF_KEY)))
    cap = os.path.join(PCAPS, "demo.pcapng")
    _, a, _ = run(["-q", "-r", cap, "--anonymize", key, "--sensor-id", "mx-tap-1"])
    _, b, _ = run(["-q", "-r", cap, "--anonymize", copy, "--sensor-id", "mx-tap-2"])
    _, c, _ = run(["-q", "-r", cap, "--anonymize", other, "--sensor-id", "mx-tap-1"])
    ra, rb, rc = records(a), records(b), records(c)
    assert ra and len(ra) == len(rb) == len(rc)
    for x, y in zip(ra, rb):
        assert x["host"] == "mx-tap-1" and y["host"] == "mx-tap-2"
        x.pop("host"), y.pop("host")
        assert x == y, (x, y)
    fields = lambda recs: {(r.get("flow_id"), r.get("src_ip"), r.get("dest_ip")) for r in recs
                           if "src_ip" in r}
    assert not fields(ra) & fields(rc), "another key gave the same pseudonyms"
    # flow_id is re-keyed too: the plain one is a public hash of the real tuple
    _, plain, _ = run(["-q", "-r", cap])
    ids = {r["flow_id"] for r in records(plain) if "flow_id" in r}
    assert ids and not ids & {r["flow_id"] for r in ra if "flow_id" in r}
    assert all(r["flow_id"] < 2 ** 51 for r in ra if "flow_id" in r)


def alert_keys(recs):
    return [(r["src_port"], r["dest_port"], r["alert"]["signature_id"], r["alert"]["category"])
            for r in recs if r["event_type"] == "alert"]


def test_alerts_fire_the_same_with_and_without():
    """The rules match the real facts; only what is written changes."""
    key = key_file()
    files, corpus = mail_captures()
    n = 0
    for cap in files + corpus:
        p, a = paired_runs(cap, key)
        assert alert_keys(p) == alert_keys(a), cap
        n += len(alert_keys(p))
    assert n >= 20, n


def test_rules_on_real_addresses_and_user_names_still_match():
    key = key_file()
    rules = os.path.join(_tmp, "real.rules")
    with open(rules, "w") as fh:
        fh.write('alert smtp any any -> 10.77.0.2 any (msg:"real server address"; '
                 'mail.login.cleartext; classtype:cleartext-login; severity:high; '
                 'sid:9900001; rev:1;)\n'
                 'alert smtp any any -> any any (msg:"real user name"; '
                 'mail.login.user:"bob"; classtype:cleartext-login; severity:high; '
                 'sid:9900002; rev:1;)\n')
    cap = os.path.join(PCAPS, "smtp-plain.pcap")
    for extra in ([], ["--anonymize", key]):
        st, out, err = run(["-q", "-r", cap, "-R", rules] + extra)
        assert st == 0, err
        sids = {r["alert"]["signature_id"] for r in records(out) if r["event_type"] == "alert"}
        assert sids == {9900001, 9900002}, (extra, sids)


def test_drop_keeps_the_facts_and_leaves_names_out():
    key = key_file()
    n_logins = n_reply = n_tls = 0
    for cap in C.project_pcaps():
        p, a = paired_runs(cap, key)
        for x, y in zip(p, a):
            assert y["anonymized"] is True
            assert x.get("app_proto") == y.get("app_proto") and x.get("proto") == y.get("proto")
            if "mail" in x:
                mx, my = dict(x["mail"]), dict(y["mail"])
                assert "greeting" not in my and "smtp" not in y, y
                lx = mx.pop("logins")
                ly = my.pop("logins")
                assert [dict(l, user=None) for l in lx] == [dict(l, user=None) for l in ly]
                assert all("user" not in l for l in ly), ly
                n_logins += len(ly)
                if "starttls_reply" in mx:  # the status, what the verdict rests on
                    sx, sy = mx.pop("starttls_reply"), my.pop("starttls_reply")
                    assert sy and sx.startswith(sy) and len(sy.split()) <= 2, (sx, sy)
                    n_reply += 1
                mx.pop("greeting", None)
                assert mx == my, (cap, mx, my)
            if "tls" in x:
                tx, ty = x["tls"], y["tls"]
                for k in ("subject", "serial", "fingerprint"):
                    assert k not in ty, (cap, k, ty)
                assert ty.get("sni", "absent") in (None, "absent")
                assert (tx["sni"] is None) == ("sni" in ty and ty["sni"] is None)
                for cx, cy in zip(tx.get("certs") or [], ty.get("certs") or []):
                    for k in ("expired", "not_yet_valid", "self_signed", "weak_key",
                              "weak_signature", "validity_too_long", "trusted", "days_left",
                              "key_bits", "sig_alg", "notafter"):
                        assert cx.get(k) == cy.get(k), (cap, k)
                n_tls += 1
                same = {k: v for k, v in tx.items() if k not in
                        ("subject", "issuerdn", "serial", "fingerprint", "sni", "certs")}
                assert same == {k: v for k, v in ty.items() if k not in ("issuerdn", "sni", "certs")}
    assert n_logins >= 20 and n_reply >= 3 and n_tls >= 20, (n_logins, n_reply, n_tls)


def test_hash_gives_each_user_one_keyed_pseudonym():
    key = key_file()
    other = key_file("other.key", bytes(reversed(REF_KEY)))
    seen = {}
    n = 0
    for cap in C.project_pcaps():
        p, a = paired_runs(cap, key, ["--anonymize-users", "hash"])
        for x, y in zip(p, a):
            if "mail" not in x:
                continue
            for lx, ly in zip(x["mail"]["logins"], y["mail"]["logins"]):
                if lx["user"] == "":
                    assert ly["user"] == "", ly
                    continue
                assert re.match(r"^anon-[0-9a-f]{16}$", ly["user"]), ly
                assert seen.setdefault(lx["user"], ly["user"]) == ly["user"], lx["user"]
                n += 1
            sx, sy = x.get("smtp"), y.get("smtp")
            if sx and "mail_from" not in sx and not sx["rcpt_to"]:
                assert sy is None, sy  # a HELO alone: nothing of it is left
            elif sx:
                assert "helo" not in sy, sy
                for px, py in zip([sx.get("mail_from")] + sx["rcpt_to"],
                                  [sy.get("mail_from")] + sy["rcpt_to"]):
                    if px in (None, "<>"):
                        assert py == px
                        continue
                    # a mailbox and a login of the same name share the pseudonym
                    assert seen.setdefault(strip_path(px), py) == py, (px, py)
    assert n >= 20 and len(set(seen.values())) == len(seen), seen
    _, out, _ = run(["-q", "-r", os.path.join(PCAPS, "smtp-plain.pcap"), "--anonymize", other,
                     "--anonymize-users", "hash"])
    users = {l["user"] for r in records(out) if r["event_type"] == "mail"
             for l in r["mail"]["logins"]}
    assert users and not users & set(seen.values()), users


def test_key_file_problems_are_startup_errors():
    cap = os.path.join(PCAPS, "smtp-plain.pcap")
    cases = [
        (os.path.join(_tmp, "nope.key"), "No such file"),
        (key_file("short.key", REF_KEY[:31]), "31 bytes"),
        (key_file("long.key", REF_KEY + b"\n"), "33 bytes"),
        (key_file("open.key", REF_KEY, 0o644), "chmod 600"),
        (key_file("zero.key", bytes(32)), "not a key"),
        (_tmp, "not a regular file"),
    ]
    for path, needle in cases:
        st, out, err = run(["-q", "-r", cap, "--anonymize", path])
        assert st == 1 and out == "" and needle in err and path in err, (path, st, err)
        assert len(err.strip().splitlines()) == 1, err
    for args, needle in ((["--anonymize", key_file(), "--anonymize-users", "md5"],
                          "--anonymize-users"),
                         (["--anonymize-users", "hash"], "needs --anonymize")):
        st, out, err = run(["-q", "-r", cap] + args)
        assert st == 2 and out == "" and needle in err, (args, st, err)


def test_keygen_writes_a_private_key_and_never_overwrites():
    path = os.path.join(_tmp, "new.key")
    st, out, err = run(["--anonymize-keygen", path])
    assert st == 0 and out == "", err
    sb = os.stat(path)
    assert sb.st_size == 32 and stat.S_IMODE(sb.st_mode) == 0o600, oct(sb.st_mode)
    with open(path, "rb") as fh:
        first = fh.read()
    st, out, err = run(["--anonymize-keygen", path])
    assert st == 1 and "never overwritten" in err, err
    with open(path, "rb") as fh:
        assert fh.read() == first
    st, out, err = run(["-q", "-r", os.path.join(PCAPS, "smtp-plain.pcap"), "--anonymize", path])
    assert st == 0 and records(out), err
    st, out, err = run(["--anonymize-keygen", os.path.join(_tmp, "new2.key")])
    with open(os.path.join(_tmp, "new2.key"), "rb") as fh:
        assert fh.read() != first


def test_geoip_describes_the_real_addresses():
    """The country and AS of the real address are kept (docs/anonymize.md)."""
    C.need_mmdb()
    key = key_file()
    d = tempfile.mkdtemp(dir=_tmp)
    cap = os.path.join(d, "smtp-plain.pcap")
    C.rewrite_addresses(os.path.join(PCAPS, "smtp-plain.pcap"), cap,
                        {"10.77.0.1": "81.2.69.142", "10.77.0.2": "89.160.20.128"})
    args = ["-q", "-r", cap, "--geoip", C.CITY, "--asn", C.ASN]
    _, plain, _ = run(args)
    _, anon, _ = run(args + ["--anonymize", key])
    n = 0
    for x, y in zip(records(plain), records(anon)):
        assert x.get("src_geo") == y.get("src_geo") and x.get("dest_geo") == y.get("dest_geo")
        if "src_ip" in x:
            assert x["src_ip"] != y["src_ip"]
        n += x.get("src_geo") is not None
    assert n >= 2, n
    assert "81.2.69.142" not in anon and "89.160.20.128" not in anon


def test_summary_names_no_original_address():
    _, helptext, _ = run(["--help"])
    if "--summary" not in helptext:
        raise Skip("this build has no --summary")
    key = key_file()
    cap = os.path.join(PCAPS, "demo.pcapng")
    _, plain, _ = run(["-q", "-r", cap])
    addrs, names = secrets_of(records(plain))
    path = os.path.join(_tmp, "summary.json")
    st, out, err = run(["-q", "-r", cap, "--anonymize", key, "--summary", path])
    assert st == 0, err
    with open(path) as fh:
        text = envelope_blanked(fh.read())
    found = leaks_in(text, addrs, names | readme_users())
    assert not found, found


if __name__ == "__main__":
    try:
        status = C.run_suite(globals())
    finally:
        shutil.rmtree(_tmp, ignore_errors=True)
    sys.exit(status)

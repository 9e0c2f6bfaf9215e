#!/usr/bin/env python3
"""postcard integration tests: `postcard report [-o DIR] SUMMARY.json...` (docs/report.md).

The summaries come from a generator here that invents sessions (port, STARTTLS outcome,
logins, TLS version and suite, certificate faults, alerts, server, country, AS, hour) and
counts them as docs/summary.md says the sensor does, so they are realistic and consistent;
and from the sensor itself on the demo capture. report.json is compared with a merge
computed here independently (sums, unions, min/max); merging is checked to be associative
and commutative at the command line; report.html is rendered by headless Chromium (Debian's
`chromium`): a screenshot that is not blank, and the rendered DOM holding the five charts
with their marks; hostile strings come out escaped; errors name file:line:col.

Same runner as every suite (tests/integration/common.py); the last line is
"integration-report: N passed, N failed, N skipped".
"""
import html.parser
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

import common as C
from common import PCAPS, Skip, run

CHARTS = ("chart-ports", "chart-tls-versions", "chart-ciphers", "chart-certs", "chart-hours")
OUTCOMES = ["implicit", "upgraded", "failed", "refused", "stripped", "offered-unused",
            "not-offered"]
CLEARTEXT = {"failed", "refused", "stripped", "offered-unused", "not-offered"}


# --- a generator of realistic summaries -----------------------------------------------

PORTS = [("smtp", 25, 0.50), ("smtp", 587, 0.12), ("smtp", 465, 0.05), ("imap", 143, 0.08),
         ("imap", 993, 0.12), ("pop3", 110, 0.05), ("pop3", 995, 0.05), ("smtp", 2525, 0.03)]
IMPLICIT_PORTS = {465, 993, 995}
MECHS = {"smtp": ["PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2"], "imap": ["LOGIN", "PLAIN"],
         "pop3": ["USER", "APOP", "PLAIN"]}
PROTECTED = {"CRAM-MD5", "APOP", "SCRAM-SHA-256"}
VERSIONS = [("TLSv1.3", 0.55), ("TLSv1.2", 0.35), ("TLSv1.1", 0.04), ("TLSv1.0", 0.04),
            ("SSLv3", 0.02)]
WEAK = {"TLSv1.3": [], "TLSv1.2": [["no-forward-secrecy"], ["cbc"], []],
        "TLSv1.1": [["cbc"], ["rc4", "no-forward-secrecy"]],
        "TLSv1.0": [["cbc", "no-forward-secrecy"], ["3des", "cbc"]], "SSLv3": [["rc4", "md5"]]}
COUNTRIES = [("SE", "29518", "Bredband2 AB"), ("DE", "3320", "Deutsche Telekom AG"),
             ("US", "15169", "Google LLC"), ("??", "??", "")]


def pick(rng, weighted):
    x, acc = rng.random(), 0.0
    for item in weighted:
        acc += item[-1]
        if x < acc:
            return item
    return weighted[-1]


def add(d, key, n=1):
    d[key] = d.get(key, 0) + n


def gen_summary(seed, sessions=200, sensor=None, anonymized=False, geo=True, days=2,
                servers=40, start_day=28):
    """Count `sessions` invented sessions the way the sensor does (docs/summary.md)."""
    rng = random.Random(seed)
    totals = dict.fromkeys(["sessions", "bytes", "cleartext", "starttls", "implicit_tls",
                            "cleartext_logins", "cleartext_messages", "alerts"], 0)
    ports, findings, srv, countries, ases, hours = {}, {}, {}, {}, {}, {}
    tls = {"sessions": 0, "client_max_version": {}, "version": {}, "cipher_weakness": {},
           "certs": dict.fromkeys(["sessions_with_cert", "expired", "expiring_30d",
                                   "self_signed", "untrusted", "weak_key", "weak_signature"], 0)}
    times = []
    for _ in range(sessions):
        proto, port, _w = pick(rng, PORTS)
        key = "%s/%d" % (proto, port)
        p = ports.setdefault(key, {"sessions": 0, "bytes": 0, "cleartext": 0, "starttls": 0,
                                   "implicit_tls": 0, "starttls_outcome": {}, "logins": {},
                                   "logins_not_listed": 0, "cleartext_messages": 0})
        if port in IMPLICIT_PORTS:
            outcome = "implicit"
        else:
            outcome = rng.choice(["upgraded"] * 6 + ["not-offered", "offered-unused",
                                                     "refused", "failed", "stripped"])
        cls = "cleartext" if outcome in CLEARTEXT else "starttls" if outcome == "upgraded" \
            else "implicit_tls"
        nbytes = rng.randrange(800, 60000)
        msgs = rng.randrange(0, 3) if cls == "cleartext" else 0
        alerts = {}
        for _ in range(rng.randrange(0, 3)):
            mech = rng.choice(MECHS[proto])
            readable = cls == "cleartext" and mech not in PROTECTED
            lg = p["logins"].setdefault(mech, {"cleartext": 0, "protected": 0})
            lg["cleartext" if readable else "protected"] += 1
            if readable:
                totals["cleartext_logins"] += 1
                add(alerts, "cleartext-login")
        if rng.random() < 0.01:
            p["logins_not_listed"] += rng.randrange(1, 500)
        if msgs:
            add(alerts, "cleartext-mail")
        if outcome in ("not-offered", "stripped", "offered-unused"):
            add(alerts, "starttls-" + outcome)
        if cls != "cleartext":  # a TLS session on top
            tls["sessions"] += 1
            ver = pick(rng, VERSIONS)[0]
            add(tls["client_max_version"], "TLSv1.3" if rng.random() < 0.8 else ver)
            add(tls["version"], ver)
            weak = rng.choice(WEAK[ver]) if WEAK[ver] else []
            for w in weak or ["none"]:
                add(tls["cipher_weakness"], w)
            if ver in ("SSLv3",):
                add(alerts, "sslv3")
            elif ver in ("TLSv1.0", "TLSv1.1"):
                add(alerts, "tls-obsolete")
            if ver != "TLSv1.3":
                c = tls["certs"]
                c["sessions_with_cert"] += 1
                for fault, prob in (("expired", 0.05), ("expiring_30d", 0.05),
                                    ("self_signed", 0.1), ("untrusted", 0.15),
                                    ("weak_key", 0.02), ("weak_signature", 0.03)):
                    if rng.random() < prob:
                        c[fault] += 1
                        if fault in ("expired", "self_signed", "untrusted"):
                            add(alerts, "cert-" + fault.replace("_", "-"))
        n_alerts = sum(alerts.values())
        p["sessions"] += 1
        p["bytes"] += nbytes
        p[cls] += 1
        add(p["starttls_outcome"], outcome)
        p["cleartext_messages"] += msgs
        for k, v in (("sessions", 1), ("bytes", nbytes), (cls, 1), ("cleartext_messages", msgs),
                     ("alerts", n_alerts)):
            totals[k] += v
        for f, n in alerts.items():
            add(findings, f, n)
        if n_alerts:
            s = srv.setdefault("10.%d.0.%d:%d" % (seed % 200, rng.randrange(servers), port),
                               {"alerts": 0, "findings": {}})
            s["alerts"] += n_alerts
            for f, n in alerts.items():
                add(s["findings"], f, n)
        country, asn, org = rng.choice(COUNTRIES)
        for d, k in ((countries, country), (ases, asn)):
            g = d.setdefault(k, {"sessions": 0, "cleartext": 0, "alerts": 0})
            g["sessions"] += 1
            g["cleartext"] += cls == "cleartext"
            g["alerts"] += n_alerts
        ases[asn]["org"] = org
        day, hour = start_day + rng.randrange(days), rng.randrange(24)
        hk = "2026-11-%02dT%02d" % (day, hour) if day <= 30 else "2026-12-%02dT%02d" % (
            day - 30, hour)
        h = hours.setdefault(hk, {"sessions": 0, "cleartext": 0, "starttls": 0,
                                  "implicit_tls": 0, "alerts": 0})
        h["sessions"] += 1
        h[cls] += 1
        h["alerts"] += n_alerts
        times.append("%s:%02d:%02d.%06d+0000" % (hk, rng.randrange(60), rng.randrange(60),
                                                 rng.randrange(10 ** 6)))
    doc = {"summary_version": 1, "sensors": [sensor or "mx-tap-%d" % (seed % 3)],
           "anonymized": anonymized, "first": min(times, default=""),
           "last": max(times, default=""), "totals": totals, "ports": ports, "tls": tls,
           "findings": findings, "servers": srv, "hours": hours}
    if geo:
        doc["countries"], doc["as"] = countries, ases
    return doc


# --- the merge, computed here ------------------------------------------------------------

def py_merge(a, b, path=()):
    """docs/report.md: counts add, sensors unite, first is the smallest non-empty, last the
    largest, an AS's org the smallest non-empty name, anonymized must agree, maps by key."""
    if isinstance(a, bool):
        assert a == b, "anonymized differs"
        return a
    if isinstance(a, int):
        return a if path == ("summary_version",) else a + b
    if isinstance(a, list):
        return sorted(set(a) | set(b))
    if isinstance(a, str):
        if path[-1] == "last":
            return max(a, b)
        ne = [s for s in (a, b) if s]
        return min(ne) if ne else ""
    out = dict(a)
    for k, v in b.items():
        out[k] = py_merge(a[k], v, path + (k,)) if k in a else v
    return out


def merge_all(docs):
    acc = docs[0]
    for d in docs[1:]:
        acc = py_merge(acc, d)
    return acc


# --- running the report -----------------------------------------------------------------

def write_docs(tmp, docs, prefix="s"):
    paths = []
    for i, d in enumerate(docs):
        p = os.path.join(tmp, "%s%d.json" % (prefix, i))
        with open(p, "w") as fh:
            json.dump(d, fh, indent=1)
        paths.append(p)
    return paths


def report(args, cwd=None, expect=0):
    """Run `postcard report ARGS`; the status must be `expect`. Returns (stdout, stderr)."""
    p = subprocess.run([C.BIN, "report"] + args, capture_output=True, timeout=300, cwd=cwd)
    err = p.stderr.decode("utf-8", "replace")
    for m in C.SAN_MARKERS:
        assert m not in err, "sanitizer report for %s:\n%s" % (args, err[-3000:])
    assert p.returncode == expect, "status %d (want %d) for %s:\n%s" % (
        p.returncode, expect, args, err)
    return p.stdout.decode("utf-8", "replace"), err


def load(path):
    with open(path, "rb") as fh:
        return json.loads(fh.read().decode("utf-8"))


def read(path):
    with open(path, "rb") as fh:
        return fh.read()


# --- Chromium and PNG ---------------------------------------------------------------------

def chromium():
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        raise Skip("chromium is not installed (Debian package chromium)")
    return exe


def chromium_run(args, tmp, timeout=180):
    exe = chromium()
    profile = tempfile.mkdtemp(dir=tmp)
    p = subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu",
                        "--user-data-dir=" + profile, "--no-first-run",
                        "--disable-extensions"] + args,
                       capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def png_pixels(data):
    """Decode an 8-bit RGB or RGBA, non-interlaced PNG (what Chromium writes) with zlib:
    returns (width, height, bytes per pixel, rows of raw bytes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, ihdr = 8, [], None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + n
    w, h, depth, ctype, _c, _f, interlace = ihdr
    assert depth == 8 and ctype in (2, 6) and interlace == 0, ihdr
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xff
        elif f == 2:
            line = bytearray((a + b) & 0xff for a, b in zip(line, prev))
        elif f == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xff
        elif f == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = prev[i], prev[i - bpp] if i >= bpp else 0
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                pr = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pr) & 0xff
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def png_stats(data):
    """(width, height, distinct colours, share of pixels that are not white)."""
    w, h, bpp, rows = png_pixels(data)
    colours, ink = set(), 0
    for row in rows:
        for x in range(0, w * bpp, bpp):
            px = row[x:x + 3]
            colours.add(px)
            if px != b"\xff\xff\xff":
                ink += 1
    return w, h, len(colours), ink / float(w * h)


class Dom(html.parser.HTMLParser):
    """The rendered DOM: for each <svg id>, its data marks (class bar / line) and children."""

    def __init__(self):
        super().__init__()
        self.svgs, self.stack, self.scripts, self.tags = {}, [], 0, []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if tag == "script":
            self.scripts += 1
        if tag == "svg" and a.get("id"):
            self.svgs[a["id"]] = {"rect": 0, "path": 0, "bar": 0, "line": 0, "title": 0,
                                  "viewBox": a.get("viewbox")}
            self.stack.append(a["id"])
        elif self.stack:
            s = self.svgs[self.stack[-1]]
            if tag in ("rect", "path", "title"):
                s[tag] += 1
            for c in (a.get("class") or "").split():
                if c in ("bar", "line"):
                    s[c] += 1

    def handle_endtag(self, tag):
        if tag == "svg" and self.stack:
            self.stack.pop()


def render(html_path, tmp, size="1200,2400"):
    """Screenshot and DOM of a page, through headless Chromium."""
    shot = os.path.join(tmp, "shot.png")
    url = "file://" + os.path.abspath(html_path)
    rc, _o, err = chromium_run(["--screenshot=" + shot, "--window-size=" + size,
                                "--hide-scrollbars", url], tmp)
    assert rc == 0 and os.path.exists(shot), "chromium --screenshot failed (%d): %s" % (
        rc, err[-2000:])
    rc, dom, err = chromium_run(["--dump-dom", url], tmp)
    assert rc == 0 and "<html" in dom, "chromium --dump-dom failed (%d): %s" % (rc, err[-2000:])
    return read(shot), dom


def demo_summary(tmp):
    """The sensor's own summary of pcaps/demo.pcapng."""
    out = os.path.join(tmp, "demo-summary.json")
    st, _o, err = run(["-q", "-r", os.path.join(PCAPS, "demo.pcapng"), "--summary", out])
    if st != 0 and "--summary" in err:
        raise Skip("this postcard has no --summary")
    assert st == 0, err
    return out


# --- tests -------------------------------------------------------------------------------

def test_writes_three_files_into_the_output_directory():
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_docs(tmp, [gen_summary(s) for s in (1, 2, 3)])
        out = os.path.join(tmp, "out")  # made when missing
        stdout, err = report(["-o", out] + paths)
        assert sorted(os.listdir(out)) == ["report.html", "report.json", "report.md"], \
            os.listdir(out)
        assert "3 summaries" in stdout and out + "/report.html" in stdout, stdout
        assert err == "", err
        md = read(os.path.join(out, "report.md")).decode()
        assert md.startswith("# Mail on the wire\n") and "| port |" in md, md[:400]


def test_default_output_directory_is_the_current_one():
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_docs(tmp, [gen_summary(7)])
        cwd = os.path.join(tmp, "here")
        os.mkdir(cwd)
        report(paths, cwd=cwd)
        assert sorted(os.listdir(cwd)) == ["report.html", "report.json", "report.md"]


def test_report_json_is_the_merge_computed_independently():
    for n, seed in ((1, 10), (2, 20), (3, 30), (5, 40), (8, 50)):
        docs = [gen_summary(seed + i, sessions=50 + 40 * i, geo=(i % 2 == 0),
                            sensor="sensor-%d" % (i % 3)) for i in range(n)]
        with tempfile.TemporaryDirectory() as tmp:
            paths = write_docs(tmp, docs)
            report(["-o", tmp] + paths)
            got = load(os.path.join(tmp, "report.json"))
            want = merge_all(docs)
            assert got == want, "n=%d: report.json differs from the merge:\n%s\n%s" % (
                n, json.dumps(got, sort_keys=True)[:2000], json.dumps(want, sort_keys=True)[:2000])
            # and the counts add up exactly
            assert got["totals"]["sessions"] == sum(d["totals"]["sessions"] for d in docs)
            assert sum(p["sessions"] for p in got["ports"].values()) == \
                got["totals"]["sessions"]


def test_report_json_keys_are_sorted_and_it_is_a_summary_again():
    def check_sorted(pairs):
        keys = [k for k, _ in pairs]
        assert keys == sorted(keys, key=lambda s: s.encode()), keys
        return dict(pairs)
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_docs(tmp, [gen_summary(s) for s in (4, 5)])
        report(["-o", tmp] + paths)
        text = read(os.path.join(tmp, "report.json")).decode()
        json.loads(text, object_pairs_hook=check_sorted)
        again = os.path.join(tmp, "again")
        report(["-o", again, os.path.join(tmp, "report.json")])
        assert read(os.path.join(again, "report.json")).decode() == text


def test_merging_is_associative_and_commutative_at_the_command_line():
    with tempfile.TemporaryDirectory() as tmp:
        a, b, c = write_docs(tmp, [gen_summary(s, sessions=120) for s in (61, 62, 63)])

        def rep(name, *inputs):
            d = os.path.join(tmp, name)
            report(["-o", d] + list(inputs))
            return os.path.join(d, "report.json")
        ab_c = rep("ab_c", rep("ab", a, b), c)
        a_bc = rep("a_bc", a, rep("bc", b, c))
        b_ca = rep("b_ca", b, rep("ca", c, a))
        cab = rep("cab", c, a, b)
        texts = {n: read(p) for n, p in (("(ab)c", ab_c), ("a(bc)", a_bc), ("b(ca)", b_ca),
                                          ("c,a,b", cab))}
        assert len(set(texts.values())) == 1, "merges differ: %s" % list(texts)
        for f in ("report.md", "report.html"):  # same document, same pages
            assert read(os.path.join(tmp, "ab_c", f)) == read(os.path.join(tmp, "cab", f)), f


def test_outputs_are_deterministic_and_replaced_whole():
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_docs(tmp, [gen_summary(s) for s in (8, 9)])
        out = os.path.join(tmp, "out")
        report(["-o", out] + paths)
        first = {f: read(os.path.join(out, f)) for f in os.listdir(out)}
        report(["-o", out] + paths)
        assert {f: read(os.path.join(out, f)) for f in os.listdir(out)} == first
        assert not [f for f in os.listdir(out) if f.endswith(".tmp")]


def test_the_sensors_own_summary_of_the_demo_capture():
    with tempfile.TemporaryDirectory() as tmp:
        s = demo_summary(tmp)
        _o, err = report(["-o", tmp, s])
        assert "warning" not in err, err  # the sensor writes nothing the report does not know
        got, want = load(os.path.join(tmp, "report.json")), load(s)
        assert got == want, "a report of one summary is that summary"
        md = read(os.path.join(tmp, "report.md")).decode()
        t = want["totals"]
        assert "Of %d mail sessions" % t["sessions"] in md, md[:600]
        for port in want["ports"]:
            assert "| %s |" % port in md, port
        # two runs of the same capture: every count doubles
        report(["-o", os.path.join(tmp, "twice"), s, s])
        twice = load(os.path.join(tmp, "twice", "report.json"))
        assert twice["totals"] == {k: 2 * v for k, v in t.items()}
        assert twice["sensors"] == want["sensors"]


def test_the_sensors_summaries_of_every_project_capture_merge_exactly():
    files = C.project_pcaps()
    assert len(files) >= 10, files
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, f in enumerate(files):
            p = os.path.join(tmp, "%02d.json" % i)
            st, _o, err = run(["-q", "-r", f, "--summary", p, "-w", os.devnull])
            if st != 0 and "--summary" in err:
                raise Skip("this postcard has no --summary")
            assert st == 0 or os.path.exists(p), (f, err)
            paths.append(p)
        _o, err = report(["-o", tmp] + paths)
        assert "warning" not in err, err
        docs = [load(p) for p in paths]
        got = load(os.path.join(tmp, "report.json"))
        assert got == merge_all(docs)
        assert got["totals"]["sessions"] == sum(d["totals"]["sessions"] for d in docs) > 0


def test_html_renders_in_chromium_with_every_chart():
    with tempfile.TemporaryDirectory() as tmp:
        docs = [gen_summary(s, sessions=400, days=3) for s in (71, 72, 73)]
        paths = write_docs(tmp, docs)
        report(["-o", tmp] + paths)
        png, dom = render(os.path.join(tmp, "report.html"), tmp)
        w, h, colours, ink = png_stats(png)
        assert (w, h) == (1200, 2400), (w, h)
        assert colours >= 20 and ink > 0.05, "blank-looking screenshot: %d colours, %.1f%% ink" % (
            colours, 100 * ink)
        d = Dom()
        d.feed(dom)
        for cid in CHARTS:
            s = d.svgs.get(cid)
            assert s is not None, "%s is not in the rendered DOM" % cid
            assert s["bar"] > 0 and s["rect"] >= s["bar"], (cid, s)
            assert s["title"] > 0 and s["viewBox"], (cid, s)
        assert d.svgs["chart-hours"]["line"] == 1 and d.svgs["chart-hours"]["path"] >= 1
        assert d.scripts == 0, "the page has a script"


def test_demo_report_renders_in_chromium():
    with tempfile.TemporaryDirectory() as tmp:
        s = demo_summary(tmp)
        report(["-o", tmp, s])
        png, dom = render(os.path.join(tmp, "report.html"), tmp)
        _w, _h, colours, ink = png_stats(png)
        assert colours >= 20 and ink > 0.02, (colours, ink)
        d = Dom()
        d.feed(dom)
        for cid in CHARTS:
            assert cid in d.svgs and d.svgs[cid]["rect"] + d.svgs[cid]["path"] > 0, (cid, d.svgs)


def test_page_loads_nothing_from_the_network():
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_docs(tmp, [gen_summary(81)])
        report(["-o", tmp] + paths)
        page = read(os.path.join(tmp, "report.html")).decode()
        for bad in ("http:", "https:", "<script", "<link", "<img", "<iframe", "@import",
                    "url(", " src=", " href="):
            assert bad not in page, "%r in report.html" % bad
        assert "default-src 'none'" in page
        assert "viewBox" in page and "@media print" in page and "max-width:100%" in page


HOSTILE = "<script>alert(1)</script>"


def hostile_summary():
    d = gen_summary(91, sessions=40)
    d["sensors"] = sorted([HOSTILE, "a|b\n# c", "</title><script>x()</script>"])
    d["first"] = "<img src=x onerror=alert(2)>"
    d["ports"]["<script>p()</script>/25"] = d["ports"].pop(sorted(d["ports"])[0])
    d["ports"]["<script>p()</script>/25"]["logins"]["<b onmouseover=x()>PLAIN"] = {
        "cleartext": 1, "protected": 0}
    d["tls"]["version"]["<svg onload=alert(3)>"] = 1
    d["tls"]["cipher_weakness"]["</svg><script>w()</script>"] = 1
    d["findings"][HOSTILE] = 1
    d["servers"]["[<script>s()</script>]:25"] = {"alerts": 99, "findings": {HOSTILE: 99}}
    d["as"]["666"] = {"org": "</td><script>alert(4)</script>\u0000\u202e", "sessions": 1,
                      "cleartext": 1, "alerts": 0}
    d["countries"]["<\u0007>"] = {"sessions": 1, "cleartext": 0, "alerts": 0}
    d["hours"]["<script>h()</script>"] = {"sessions": 1, "cleartext": 0, "starttls": 0,
                                          "implicit_tls": 0, "alerts": 0}
    return d


def test_hostile_strings_are_escaped_in_every_output():
    with tempfile.TemporaryDirectory() as tmp:
        d = hostile_summary()
        paths = write_docs(tmp, [d])
        report(["-o", tmp] + paths)
        page = read(os.path.join(tmp, "report.html")).decode()
        for bad in ("<script", "<img", "<svg onload", "<b onmouseover", "</td><script"):
            assert bad not in page, "%r in report.html" % bad
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        md = read(os.path.join(tmp, "report.md")).decode()
        for i, ch in enumerate(md):
            if ch == "<":
                assert md[i - 1] == "\\", "unescaped '<' in report.md: %r" % md[i - 20:i + 20]
        assert load(os.path.join(tmp, "report.json")) == d  # the data itself is kept as it was
        _png, dom = render(os.path.join(tmp, "report.html"), tmp, size="800,1200")
        dm = Dom()
        dm.feed(dom)
        assert dm.scripts == 0 and "img" not in dm.tags and "b" not in dm.tags, "markup got in"
        assert HOSTILE in html.unescape(dom)  # shown as text


def test_errors_name_the_file_line_and_column():
    with tempfile.TemporaryDirectory() as tmp:
        good = write_docs(tmp, [gen_summary(3)])[0]
        cases = [
            ("bad.json", b'{"summary_version": 1,\n  "totals": {"sessions": tru}}',
             "bad.json:2:26: expected a value, found 't'"),
            ("cut.json", b'{"summary_version": 1, "ports": {"smtp/25": {',
             "cut.json:1:46: expected a string key, found end of input"),
            ("type.json", b'{"summary_version": 1,\n "totals": {"sessions": -4}}',
             'type.json:2:25: "totals.sessions": expected a non-negative integer'),
            ("v2.json", b'{"summary_version": 2}', "v2.json:1:21: summary_version 2 is not"),
            ("deep.json", b"[" * 100, "deep.json:1:33: nested deeper than 32"),
            ("nul.json", b'{"summary_version": 1, "sensors": ["a\x00"]}',
             "nul.json:1:38: control character 0x00"),
            ("utf.json", b'{"summary_version": 1, "sensors": ["\xff"]}',
             "utf.json:1:37: byte 0xff is not valid UTF-8"),
            ("esc.json", b'{"summary_version": 1, "sensors": ["\\ud800"]}',
             "esc.json:1:37: \\ud800 must be followed"),
            ("dup.json", b'{"summary_version": 1, "summary_version": 1}',
             "dup.json:1:24: key given twice"),
        ]
        for name, body, want in cases:
            p = os.path.join(tmp, name)
            with open(p, "wb") as fh:
                fh.write(body)
            out = os.path.join(tmp, "out-" + name)
            _o, err = report(["-o", out, good, p], expect=1)
            assert err == "postcard: %s/%s\n" % (tmp, want) or (tmp + "/" + want) in err, \
                "%s: %r" % (name, err)
            assert not os.path.exists(out), "%s: outputs written after an error" % name
        _o, err = report([os.path.join(tmp, "missing.json")], expect=1)
        assert "missing.json: No such file or directory" in err, err
        _o, err = report([tmp], expect=1)
        assert "Is a directory" in err, err


def test_anonymized_and_real_summaries_are_not_merged():
    with tempfile.TemporaryDirectory() as tmp:
        real, anon = write_docs(tmp, [gen_summary(1), gen_summary(2, anonymized=True)])
        _o, err = report(["-o", tmp, real, anon], expect=1)
        assert '"anonymized" is true here but false in %s' % real in err, err
        assert anon + ":" in err, err
        assert not os.path.exists(os.path.join(tmp, "report.json"))
        a2 = write_docs(tmp, [gen_summary(3, anonymized=True)], prefix="anon")[0]
        report(["-o", tmp, anon, a2])  # two anonymized ones merge
        assert load(os.path.join(tmp, "report.json"))["anonymized"] is True
        assert "pseudonymised" in read(os.path.join(tmp, "report.md")).decode()


def test_a_sum_past_2_64_is_an_error():
    with tempfile.TemporaryDirectory() as tmp:
        a, b = gen_summary(1), gen_summary(2)
        a["totals"]["bytes"] = 2 ** 64 - 1
        pa, pb = write_docs(tmp, [a, b])
        _o, err = report([pa, pb], expect=1, cwd=tmp)
        assert '"totals.bytes": 18446744073709551615 + ' in err and "passes 2^64-1" in err, err


def test_unknown_keys_are_warnings_and_the_report_is_written():
    with tempfile.TemporaryDirectory() as tmp:
        d = gen_summary(5)
        d["from_the_future"] = {"x": 1}
        d["totals"]["quanta"] = 3
        p = write_docs(tmp, [d])[0]
        _o, err = report(["-o", tmp, p])
        lines = err.splitlines()
        assert len(lines) == 2 and all(": warning: unknown key" in l for l in lines), err
        assert lines[0].startswith("postcard: %s:" % p), err
        got = load(os.path.join(tmp, "report.json"))
        assert "from_the_future" not in got and "quanta" not in got["totals"]


def paths_of(v, path=()):
    """Every path to a value of a document."""
    yield path
    if isinstance(v, dict):
        for k, x in v.items():
            yield from paths_of(x, path + (k,))
    elif isinstance(v, list):
        for i, x in enumerate(v):
            yield from paths_of(x, path + (i,))


def test_every_value_of_a_wrong_type_is_refused_with_its_place():
    """Each value in turn replaced by values of other types: the report refuses the file
    naming the file and a position, or (for a map that may be empty, a string that may be
    anything) accepts it; never a crash."""
    wrong = ["x", -1, 1.5, 2 ** 64, [], {}, None, True, [1], {"k": "v"}]
    base = gen_summary(17, sessions=20, days=1, servers=3)
    with tempfile.TemporaryDirectory() as tmp:
        refused = 0
        for n, path in enumerate(list(paths_of(base))[1:]):
            d = json.loads(json.dumps(base))
            at = d
            for k in path[:-1]:
                at = at[k]
            orig = at[path[-1]]
            bad = wrong[n % len(wrong)]
            if type(bad) is type(orig) and not isinstance(bad, (dict, list)):
                bad = wrong[(n + 1) % len(wrong)]
            at[path[-1]] = bad
            p = os.path.join(tmp, "w.json")
            with open(p, "w") as fh:
                json.dump(d, fh, indent=1)
            proc = subprocess.run([C.BIN, "report", "-o", os.path.join(tmp, "o"), p],
                                  capture_output=True, timeout=60)
            err = proc.stderr.decode("utf-8", "replace")
            for m in C.SAN_MARKERS:
                assert m not in err, "%s: %s" % (path, err[-2000:])
            assert proc.returncode in (0, 1), (path, proc.returncode, err)
            if proc.returncode == 1:
                refused += 1
                assert err.startswith("postcard: %s:" % p) and err.count("\n") == 1, (path, err)
        assert refused > 100, refused


def test_damaged_summaries_never_crash_the_report():
    base = json.dumps(gen_summary(23, sessions=30, days=1, servers=4)).encode()
    rng = random.Random(5)
    junk = b'{}[]",:\\u0123456789eE+-.tfnl \n\x00\x80\xc3\xff<>&'
    with tempfile.TemporaryDirectory() as tmp:
        statuses = set()
        for i in range(150):
            b = bytearray(base)
            for _ in range(rng.randrange(1, 6)):
                at = rng.randrange(len(b))
                op = rng.randrange(3)
                if op == 0:
                    b[at] = rng.choice(junk)
                elif op == 1:
                    del b[at]
                else:
                    b.insert(at, rng.choice(junk))
            p = os.path.join(tmp, "d.json")
            with open(p, "wb") as fh:
                fh.write(bytes(b))
            proc = subprocess.run([C.BIN, "report", "-o", os.path.join(tmp, "o"), p],
                                  capture_output=True, timeout=60)
            err = proc.stderr.decode("utf-8", "replace")
            for m in C.SAN_MARKERS:
                assert m not in err, "case %d: %s" % (i, err[-2000:])
            assert proc.returncode in (0, 1), (i, proc.returncode, err)
            statuses.add(proc.returncode)
        assert statuses == {0, 1}, statuses


def test_usage():
    _o, err = report([], expect=2)
    assert "usage: postcard report" in err
    _o, err = report(["-x", "a.json"], expect=2)
    assert "usage" in err
    out, _e = report(["--help"])
    assert "usage: postcard report [-o DIR] SUMMARY.json..." in out


def test_stdin_and_a_size_limit():
    with tempfile.TemporaryDirectory() as tmp:
        d = gen_summary(6)
        p = subprocess.run([C.BIN, "report", "-o", tmp, "-"], input=json.dumps(d).encode(),
                           capture_output=True, timeout=120)
        assert p.returncode == 0, p.stderr
        assert load(os.path.join(tmp, "report.json")) == d
        big = os.path.join(tmp, "big.json")
        with open(big, "wb") as fh:
            fh.truncate(64 * 1024 * 1024 + 1)
        _o, err = report([big], expect=1, cwd=tmp)
        assert "big.json: larger than 64 MiB" in err, err


def test_a_large_merge_stays_quick_and_complete():
    """Many servers and a month of hours: the charts stay bounded, the tables complete."""
    with tempfile.TemporaryDirectory() as tmp:
        docs = [gen_summary(100 + i, sessions=3000, days=40, servers=3000, start_day=1)
                for i in range(4)]
        paths = write_docs(tmp, docs)
        report(["-o", tmp] + paths)
        got = load(os.path.join(tmp, "report.json"))
        assert got == merge_all(docs)
        page = read(os.path.join(tmp, "report.html")).decode()
        assert page.count('class="bar"') < 20000, page.count('class="bar"')
        md = read(os.path.join(tmp, "report.md")).decode()
        assert "| day (UTC) |" in md  # 40 days of hours: the table goes by day
        assert "The 20 of " in md and "report.json lists them all" in md


if __name__ == "__main__":
    sys.exit(C.run_suite(globals()))

#!/usr/bin/python3
"""mail-sessions.py - mail client sessions and verdicts for pcaps/make-pcaps.sh.

Used only by make-pcaps.sh, inside the network namespaces it creates.

    mail-sessions.py SCENARIO HOST          run the client sessions of a capture
    mail-sessions.py relay LHOST LPORT UHOST UPORT MODE[,MODE...]
                                            STARTTLS-stripping TCP relay
    mail-sessions.py swaks-verdict FILE HOST PORT USER [stripped]
                                            verdict of one swaks transcript
    mail-sessions.py note PROTO HOST PORT STARTTLS [REPLY]
                                            verdict of a session with no login and
                                            no message (openssl s_client)
    mail-sessions.py finalize PCAP JSONL OUT.json
                                            check the verdicts against the capture
                                            (tshark), fill client_port_hint, write
    mail-sessions.py tls-note KEY=VALUE...  expected TLS verdict of one TLS session
                                            (what the script configured), see tls_note
    mail-sessions.py finalize-tls PCAP JSONL OUT.json
                                            check the TLS verdicts against the capture
                                            (tshark, openssl x509/verify), write

Every client session appends one JSON object, its verdict, to the file named by
$PC_VERDICTS.  A verdict is built from what the client did and from the
replies it really got from the server; "finalize" then checks it against the
bytes in the capture.  The format is described in pcaps/README.md
("Verdict files").

TLS sessions of the tls-*.pcap captures also get a TLS verdict: the script
(or a python client here) appends the expected one to $PC_TLS ("tls-note"),
and "finalize-tls" compares it with what tshark and openssl read from the
capture ("TLS verdict files" in pcaps/README.md).
"""
import base64
import binascii
import calendar
import imaplib
import json
import os
import poplib
import re
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

DOMAIN = "postcard.test"
HELO = "client." + DOMAIN
MAIL_PORTS = {25, 465, 587, 2525, 110, 995, 143, 993}


def env_secrets():
    pw = dict(x.split("=", 1) for x in os.environ.get("PC_PASS", "").split())
    return pw, os.environ.get("PC_BADPASS", ""), os.environ.get("PC_TOKEN", "")


PASS, BAD, TOKEN = env_secrets()


def tls_ctx():
    c = ssl.create_default_context()
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    return c


def b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


def endpoint(host, port):
    return "[%s]:%d" % (host, int(port)) if ":" in host else "%s:%d" % (host, int(port))


# ------------------------------------------------------------------ verdicts --
class Verdict:
    """Ground truth of one session, filled in while the client runs it."""

    def __init__(self, proto, host, port, implicit=False):
        self.proto, self.server, self.implicit = proto, endpoint(host, port), implicit
        self.tls = implicit          # TLS in effect now
        self.offered = False         # STARTTLS/STLS seen in a capability list
        self.sent = False            # client sent STARTTLS/STLS
        self.reply = None            # first token of the server's answer to it
        self.positive = False
        self.handshake = False
        self.logins, self.msgs, self.ldv = [], 0, False
        self.login_disabled = False  # IMAP LOGINDISABLED advertised (clear text)

    def starttls(self, reply, positive, handshake):
        self.sent, self.reply, self.positive, self.handshake = True, reply, positive, handshake
        if handshake:
            self.tls = True

    def login(self, command, mech, user, ok):
        if self.tls:
            return                   # inside TLS: not visible on the wire
        if self.proto == "imap" and command == "LOGIN" and self.login_disabled:
            self.ldv = True
        self.logins.append({
            "mechanism": mech, "command": command, "user": user,
            "cleartext": mech not in ("CRAM-MD5", "APOP"),
            "result": {True: "success", False: "failure", None: "unknown"}[ok]})

    def message(self, n=1):
        if not self.tls:
            self.msgs += n

    def state(self, stripped=False):
        if self.implicit:
            return "implicit"
        if self.sent:
            if not self.positive:
                return "refused"
            return "upgraded" if self.handshake else "failed"
        if stripped:
            assert not self.offered, "stripped session, but STARTTLS was offered"
            return "stripped"
        return "offered-unused" if self.offered else "not-offered"

    def emit(self, stripped=False):
        d = {"proto": self.proto, "server": self.server, "client_port_hint": None,
             "starttls": self.state(stripped),
             "starttls_reply": self.reply if self.sent else None,
             "logins": self.logins, "cleartext_messages": self.msgs,
             "login_disabled_violated": self.ldv}
        path = os.environ.get("PC_VERDICTS")
        if path:
            with open(path, "a") as f:
                f.write(json.dumps(d) + "\n")
        return d


# ------------------------------------------------------------- raw clients --
class Line:
    def __init__(self, host, port):
        self.s = socket.create_connection((host, port), timeout=10)
        self.f = self.s.makefile("rb")

    def send(self, text):
        self.s.sendall(text.encode() + b"\r\n")

    def line(self):
        ln = self.f.readline()
        if not ln:
            raise EOFError("connection closed by server")
        return ln.decode("latin-1").rstrip("\r\n")

    def close(self):
        self.f.close()
        self.s.close()


class Smtp(Line):
    def reply(self):
        lines = []
        while True:
            ln = self.line()
            lines.append(ln)
            if not (len(ln) > 3 and ln[3] == "-"):
                return int(ln[:3]), lines

    def cmd(self, text):
        self.send(text)
        return self.reply()


class Imap(Line):
    def __init__(self, host, port):
        super().__init__(host, port)
        self.caps = set()
        self.last_tag = 0

    def send(self, text):
        m = re.match(r"a(\d+) ", text)
        if m:
            self.last_tag = max(self.last_tag, int(m.group(1)))
        super().send(text)

    def _caps(self, ln):
        m = re.search(r"\[CAPABILITY ([^\]]*)\]", ln) or re.match(r"\* CAPABILITY (.*)", ln)
        if m:
            self.caps = set(m.group(1).upper().split())

    def greet(self):
        ln = self.line()
        assert ln.startswith("* OK"), ln
        self._caps(ln)
        return ln

    def resp(self, tag):
        """Read up to the tagged reply; returns (OK|NO|BAD, [literals])."""
        lits = []
        while True:
            ln = self.line()
            while True:
                m = re.search(r"\{(\d+)\}$", ln)
                if not m:
                    break
                lits.append(self.f.read(int(m.group(1))))
                ln = self.line()
            self._caps(ln)
            if ln.startswith(tag + " "):
                return ln.split(" ", 2)[1].upper(), lits

    def cmd(self, tag, text):
        self.send(tag + " " + text)
        return self.resp(tag)

    def cont(self):
        ln = self.line()
        assert ln.startswith("+"), ln
        return ln


def imap_session(host, user_login, port=143):
    """One raw IMAP session: greeting, USER_LOGIN(c, v), LOGOUT."""
    c = Imap(host, port)
    v = Verdict("imap", host, port)
    c.greet()
    v.offered = "STARTTLS" in c.caps
    v.login_disabled = "LOGINDISABLED" in c.caps
    user_login(c, v)
    st, _ = c.cmd("a%d" % (c.last_tag + 1), "LOGOUT")
    assert st == "OK", st
    c.close()
    return v


# ----------------------------------------------------------------- scenarios --
MSG = ("From: <postmaster@%s>\r\nTo: <alice@%s>\r\nSubject: postcard test (%%s)\r\n"
       "Message-Id: <%%s@client.%s>\r\n\r\n"
       "Test message generated by pcaps/make-pcaps.sh.\r\n" % (DOMAIN, DOMAIN, DOMAIN))


def pop3_basic(host, user, pw, mode):
    """USER/PASS, STAT, RETR 1, QUIT (plain: tcp/110, ssl: tcp/995)."""
    if mode == "ssl":
        p = poplib.POP3_SSL(host, 995, context=tls_ctx(), timeout=10)
        v = Verdict("pop3", host, 995, implicit=True)
    else:
        p = poplib.POP3(host, 110, timeout=10)
        v = Verdict("pop3", host, 110)
    p.user(user)
    p.pass_(pw)
    v.login("USER", "USER", user, True)
    print(p.stat())
    resp, lines, octets = p.retr(1)
    assert any(b"postcard test message" in ln for ln in lines), lines
    v.message()
    p.quit()
    v.emit()


def imap_basic(host, user, pw, mode):
    """imaplib: [STARTTLS], LOGIN, SELECT INBOX, FETCH 1 (BODY[]), LOGOUT."""
    if mode == "ssl":
        m = imaplib.IMAP4_SSL(host, 993, ssl_context=tls_ctx(), timeout=10)
        v = Verdict("imap", host, 993, implicit=True)
        tls_note_sock(m.sock, host, 993, None)
    else:
        m = imaplib.IMAP4(host, 143, timeout=10)
        v = Verdict("imap", host, 143)
        v.offered = "STARTTLS" in m.capabilities
        v.login_disabled = "LOGINDISABLED" in m.capabilities
        if mode == "starttls":
            typ, _ = m.starttls(ssl_context=tls_ctx())
            v.starttls(typ, typ == "OK", True)
            tls_note_sock(m.sock, host, 143, "imap")
    m.login(user, pw)
    v.login("LOGIN", "LOGIN", user, True)
    typ, data = m.select("INBOX")
    assert typ == "OK", data
    typ, data = m.fetch("1", "(BODY[])")
    assert typ == "OK" and b"postcard test message" in data[0][1], data
    v.message()
    m.logout()
    v.emit()


def smtp_auth_mechs(host):
    """Submission tcp/587 in clear, one session per AUTH form."""
    xoauth2 = "user=alice\x01auth=Bearer %s\x01\x01" % TOKEN
    plan = [  # mechanism, user, secret, initial response
        ("PLAIN", "bob", PASS["bob"], True),
        ("PLAIN", "alice", PASS["alice"], False),
        ("LOGIN", "bob", PASS["bob"], False),
        ("LOGIN", "alice", PASS["alice"], True),
        ("CRAM-MD5", "bob", PASS["bob"], False),
        ("PLAIN", "bob", BAD, True),
        ("XOAUTH2", "alice", TOKEN, True),
    ]
    for mech, user, secret, ir in plan:
        s = smtplib.SMTP(host, 587, local_hostname=HELO, timeout=10)
        v = Verdict("smtp", host, 587)
        s.ehlo()
        v.offered = s.has_extn("starttls")
        advertised = s.esmtp_features.get("auth", "").upper().split()
        s.user, s.password = user, secret
        if mech == "XOAUTH2":
            obj = lambda challenge=None: xoauth2 if challenge is None else ""
        else:
            obj = getattr(s, "auth_" + mech.lower().replace("-", "_"))
        try:
            code, resp = s.auth(mech, obj, initial_response_ok=ir)
        except smtplib.SMTPAuthenticationError as e:
            code, resp = e.smtp_code, e.smtp_error
        print("AUTH %s%s %s (advertised: %s): %d %s" % (
            mech, " +IR" if ir else "", user, " ".join(advertised), code, resp.decode()))
        v.login("AUTH", mech, user, code == 235 if code != 334 else None)
        s.quit()
        v.emit()


def smtp_starttls_refused(host):
    """STARTTLS advertised but answered 4xx; the client goes on in clear."""
    s = smtplib.SMTP(host, 25, local_hostname=HELO, timeout=10)
    v = Verdict("smtp", host, 25)
    s.ehlo()
    v.offered = s.has_extn("starttls")
    assert v.offered, "STARTTLS not advertised"
    try:
        code, resp = s.starttls(context=tls_ctx())
        raise SystemExit("STARTTLS unexpectedly accepted: %d %s" % (code, resp))
    except smtplib.SMTPResponseException as e:
        code, resp = e.smtp_code, e.smtp_error
    print("STARTTLS ->", code, resp.decode())
    v.starttls(str(code), code == 220, False)
    s.ehlo()
    s.sendmail("postmaster@" + DOMAIN, ["alice@" + DOMAIN], MSG % ("starttls refused", "refused"))
    v.message()
    s.quit()
    v.emit()
    return code


def smtp_starttls_failed(host):
    """STARTTLS, 220, then no TLS handshake: QUIT in clear text."""
    c = Smtp(host, 25)
    v = Verdict("smtp", host, 25)
    code, _ = c.reply()
    assert code == 220
    code, lines = c.cmd("EHLO " + HELO)
    v.offered = any(ln[4:].upper() == "STARTTLS" for ln in lines)
    c.send("STARTTLS")
    code, lines = c.reply()
    print("STARTTLS ->", lines)
    assert code == 220, lines
    c.send("QUIT")
    try:                         # postfix tries a TLS handshake, fails, closes
        rest = c.f.read()
    except ConnectionResetError as e:
        rest = e
    print("after QUIT:", rest)
    c.close()
    v.starttls(str(code), True, False)
    v.emit()


def smtp_bdat(host):
    """CHUNKING: MAIL, RCPT, BDAT n, BDAT m LAST (tcp/25)."""
    c = Smtp(host, 25)
    v = Verdict("smtp", host, 25)
    assert c.reply()[0] == 220
    code, lines = c.cmd("EHLO " + HELO)
    ext = [ln[4:].upper() for ln in lines]
    v.offered = "STARTTLS" in ext
    assert "CHUNKING" in ext, lines
    assert c.cmd("MAIL FROM:<postmaster@%s>" % DOMAIN)[0] == 250
    assert c.cmd("RCPT TO:<alice@%s>" % DOMAIN)[0] == 250
    msg = (MSG % ("BDAT", "bdat-1")).encode()
    cut = msg.index(b"\r\n\r\n") + 4
    for chunk, last in ((msg[:cut], False), (msg[cut:], True)):
        c.s.sendall(b"BDAT %d%s\r\n" % (len(chunk), b" LAST" if last else b"") + chunk)
        code, lines = c.reply()
        print("BDAT %d%s ->" % (len(chunk), " LAST" if last else ""), lines)
        assert code == 250, lines
    v.message()
    assert c.cmd("QUIT")[0] == 221
    c.close()
    v.emit()


def pop3_auth_mechs(host):
    def connect():               # every session starts with CAPA (STLS listed)
        p = poplib.POP3(host, 110, timeout=10)
        v = Verdict("pop3", host, 110)
        caps = p.capa()
        v.offered = "STLS" in caps
        assert v.offered, caps
        return p, v
    # 1: USER/PASS, STAT, LIST, TOP, RETR of a message with lines that start
    #    with "." (dot-stuffed on the wire)
    p, v = connect()
    p.user("dave")
    p.pass_(PASS["dave"])
    v.login("USER", "USER", "dave", True)
    print(p.stat(), p.list()[1])
    _, top, _ = p.top(1, 20)
    v.message()
    _, lines, _ = p.retr(1)
    v.message()
    assert b"." in lines and b"..two dots" in lines and b"..two dots" in top, lines
    p.quit()
    v.emit()
    # 2: APOP (greeting carries the <timestamp>)
    p, v = connect()
    assert re.search(rb"<[^>]+@[^>]+>", p.welcome), p.welcome
    p.apop("alice", PASS["alice"])
    v.login("APOP", "APOP", "alice", True)
    p.stat()
    p.quit()
    v.emit()
    # 3: AUTH PLAIN with initial response
    p, v = connect()
    p._shortcmd("AUTH PLAIN " + b64("\0bob\0" + PASS["bob"]))
    v.login("AUTH", "PLAIN", "bob", True)
    p.stat()
    p.quit()
    v.emit()
    # 4: AUTH LOGIN
    p, v = connect()
    assert p._shortcmd("AUTH LOGIN").startswith(b"+ ")
    assert p._shortcmd(b64("alice")).startswith(b"+ ")
    assert p._shortcmd(b64(PASS["alice"])).startswith(b"+OK")
    v.login("AUTH", "LOGIN", "alice", True)
    p.stat()
    p.quit()
    v.emit()
    # 5: a failed USER/PASS
    p, v = connect()
    p.user("bob")
    try:
        p.pass_(BAD)
        raise SystemExit("bad POP3 password accepted")
    except poplib.error_proto as e:
        print("PASS (bad) ->", e)
        assert e.args[0].startswith(b"-ERR")
    v.login("USER", "USER", "bob", False)
    p.quit()
    v.emit()


def pop3_stls(host):
    """CAPA, STLS accepted, then USER/PASS (carol), STAT, RETR inside TLS."""
    p = poplib.POP3(host, 110, timeout=10)
    v = Verdict("pop3", host, 110)
    v.offered = "STLS" in p.capa()
    resp = p.stls(context=tls_ctx())
    v.starttls(resp.split()[0].decode(), resp.startswith(b"+OK"), True)
    tls_note_sock(p.sock, host, 110, "pop3")
    p.user("carol")
    p.pass_(PASS["carol"])
    v.login("USER", "USER", "carol", True)
    p.stat()
    p.retr(1)
    v.message()
    p.quit()
    v.emit()


def pop3_stls_refused(host):
    """STLS to a server without TLS (-ERR), then USER/PASS in clear text."""
    p = poplib.POP3(host, 110, timeout=10)
    v = Verdict("pop3", host, 110)
    v.offered = "STLS" in p.capa()
    try:
        p._shortcmd("STLS")     # poplib.stls() would refuse: STLS not in CAPA
        raise SystemExit("STLS unexpectedly accepted")
    except poplib.error_proto as e:
        resp = e.args[0]
    print("STLS ->", resp)
    v.starttls(resp.split()[0].decode(), False, False)
    p.user("alice")
    p.pass_(PASS["alice"])
    v.login("USER", "USER", "alice", True)
    p.stat()
    p.quit()
    v.emit()


def imap_login_forms(host):
    pa, pb = PASS["alice"], PASS["bob"]

    def atoms(c, v):                       # LOGIN with atoms, then a body FETCH
        st, _ = c.cmd("a1", "LOGIN alice " + pa)
        v.login("LOGIN", "LOGIN", "alice", st == "OK")
        assert c.cmd("a2", "SELECT INBOX")[0] == "OK"
        st, lits = c.cmd("a3", "FETCH 1 BODY[]")
        assert st == "OK" and b"postcard test message" in lits[0], lits
        v.message()

    def quoted(c, v):
        st, _ = c.cmd("a1", 'LOGIN "bob" "%s"' % pb)
        v.login("LOGIN", "LOGIN", "bob", st == "OK")

    def sync_literal(c, v):               # {5}: wait for "+ " each time
        c.send("a1 LOGIN {5}")
        c.cont()
        c.send("alice {%d}" % len(pa))
        c.cont()
        c.send(pa)
        st, _ = c.resp("a1")
        v.login("LOGIN", "LOGIN", "alice", st == "OK")

    def nonsync_literal(c, v):            # LITERAL+: {17+}, no wait
        assert "LITERAL+" in c.caps, c.caps
        c.s.sendall(("a1 LOGIN bob {%d+}\r\n%s\r\n" % (len(pb), pb)).encode())
        c.last_tag = 1
        st, _ = c.resp("a1")
        v.login("LOGIN", "LOGIN", "bob", st == "OK")

    def auth_plain(c, v):                 # no SASL-IR: "+ " then the base64
        c.send("a1 AUTHENTICATE PLAIN")
        c.cont()
        c.send(b64("\0alice\0" + pa))
        st, _ = c.resp("a1")
        v.login("AUTHENTICATE", "PLAIN", "alice", st == "OK")

    def auth_plain_ir(c, v):              # SASL-IR
        assert "SASL-IR" in c.caps, c.caps
        st, _ = c.cmd("a1", "AUTHENTICATE PLAIN " + b64("\0bob\0" + pb))
        v.login("AUTHENTICATE", "PLAIN", "bob", st == "OK")

    def auth_login(c, v):
        c.send("a1 AUTHENTICATE LOGIN")
        c.cont()
        c.send(b64("dave"))
        c.cont()
        c.send(b64(PASS["dave"]))
        st, _ = c.resp("a1")
        v.login("AUTHENTICATE", "LOGIN", "dave", st == "OK")

    def failed(c, v):
        st, _ = c.cmd("a1", "LOGIN alice " + BAD)
        print("LOGIN (bad) ->", st)
        assert st == "NO", st
        v.login("LOGIN", "LOGIN", "alice", False)

    for f in (atoms, quoted, sync_literal, nonsync_literal, auth_plain, auth_plain_ir,
              auth_login, failed):
        v = imap_session(host, f)
        d = v.emit()
        print(f.__name__, [(x["user"], x["result"]) for x in d["logins"]])
        if f is not failed:
            assert d["logins"][0]["result"] == "success", (f.__name__, d)


def imap_logindisabled(host):
    """LOGINDISABLED advertised; LOGIN sent anyway."""
    def go(c, v):
        assert "LOGINDISABLED" in c.caps and "STARTTLS" in c.caps, c.caps
        assert c.cmd("a1", "CAPABILITY")[0] == "OK"
        c.send("a2 LOGIN alice " + PASS["alice"])
        st, _ = c.resp("a2")
        print("LOGIN despite LOGINDISABLED ->", st)
        v.login("LOGIN", "LOGIN", "alice", st == "OK")
    imap_session(host, go).emit()


def imap_starttls_refused(host):
    """STARTTLS to a server without TLS (BAD), then LOGIN in clear text."""
    def go(c, v):
        assert c.cmd("a1", "CAPABILITY")[0] == "OK"
        v.offered = "STARTTLS" in c.caps
        st, _ = c.cmd("a2", "STARTTLS")
        print("STARTTLS ->", st)
        v.starttls(st, st == "OK", False)
        assert st != "OK"
        st, _ = c.cmd("a3", "LOGIN alice " + PASS["alice"])
        v.login("LOGIN", "LOGIN", "alice", st == "OK")
    imap_session(host, go).emit()


# -------------------------------------------------------------------- relay --
def relay(lhost, lport, uhost, uport, modes):
    """Accept one connection per MODE on LHOST:LPORT and relay it to UHOST:UPORT.
    Server->client lines are rewritten: rewrite = "250-STARTTLS" becomes
    "250-XXXXXXXA"; remove = the line is dropped; pass = unchanged."""
    srv = socket.socket(socket.AF_INET6 if ":" in lhost else socket.AF_INET)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((lhost, int(lport)))
    srv.listen(4)
    print("ready", flush=True)

    def pump(a, b):
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
        try:
            b.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    for mode in modes.split(","):
        c, peer = srv.accept()
        u = socket.create_connection((uhost, int(uport)), timeout=30)
        t = threading.Thread(target=pump, args=(c, u), daemon=True)
        t.start()
        buf = b""
        while True:
            d = u.recv(65536)
            if not d:
                break
            buf += d
            out = b""
            while b"\n" in buf:
                ln, buf = buf.split(b"\n", 1)
                ln += b"\n"
                if ln[:4] == b"250-" and ln[4:].rstrip(b"\r\n").upper() == b"STARTTLS":
                    if mode == "rewrite":
                        ln = ln[:4] + b"XXXXXXXA" + ln[12:]
                    elif mode == "remove":
                        ln = b""
                    print("relay %s: %r" % (mode, ln), flush=True)
                out += ln
            if out:
                c.sendall(out)
        if buf:
            c.sendall(buf)
        try:
            c.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        t.join(10)
        c.close()
        u.close()
        print("relay %s: done (%s:%d)" % (mode, peer[0], peer[1]), flush=True)


# ------------------------------------------------------ swaks / openssl notes --
REPLY = re.compile(r"^<([-~*]+)\s+(\d{3})([ -])(.*)$")


def swaks_verdict(path, host, port, user, stripped=False):
    """Verdict of one swaks session from its transcript (-> sent, <- received,
    ~ inside TLS, ** an error reply)."""
    lines = open(path, encoding="latin-1").read().splitlines()
    v = Verdict("smtp", host, int(port))
    first = next(ln for ln in lines if ln.startswith("<"))
    v.implicit = v.tls = "~" in first[:3]
    replies = lambda i: [m for m in (REPLY.match(x) for x in lines[i + 1:]) if m]
    for i, ln in enumerate(lines):
        m = REPLY.match(ln)
        if m and "~" not in m.group(1) and m.group(4).upper() == "STARTTLS" and m.group(2) == "250":
            v.offered = True
        if ln == " -> STARTTLS":
            r = replies(i)[0]
            ok = r.group(2) == "220"
            v.starttls(r.group(2), ok, ok and any(x.startswith("=== TLS started") for x in lines[i:]))
        elif ln.startswith(" -> AUTH "):
            mech = ln.split()[2].upper()
            res = next(r.group(2) for r in replies(i) if r.group(2) != "334")
            v.login("AUTH", mech, user, res == "235" if res[0] in "245" else None)
        elif ln == " -> DATA":
            v.message()
    return v.emit(stripped)


def note(proto, host, port, state, reply=None):
    v = Verdict(proto, host, int(port), implicit=(state == "implicit"))
    if state in ("upgraded", "failed", "refused"):
        v.starttls(reply, state != "refused", state == "upgraded")
    v.offered = state == "offered-unused"
    v.emit(stripped=(state == "stripped"))


# ------------------------------------------------------------------- check --
def tcp_sessions(pcap):
    """TCP sessions of a capture (in order of their SYN) with their payload
    segments in capture order: [(client, server, [(dir, bytes)], tcp.stream)]."""
    fields = ["tcp.stream", "ip.src", "ipv6.src", "tcp.srcport", "ip.dst", "ipv6.dst",
              "tcp.dstport", "tcp.flags.syn", "tcp.flags.ack", "tcp.seq_raw", "tcp.payload"]
    cmd = ["tshark", "-r", pcap, "-n", "-Y", "tcp", "-T", "fields", "-E", "occurrence=l"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, check=True, text=True).stdout
    st, order = {}, []
    for row in out.splitlines():
        s, ip4s, ip6s, sp, ip4d, ip6d, dp, syn, ack, seq, pl = row.split("\t")
        src, dst = (ip4s or ip6s, int(sp)), (ip4d or ip6d, int(dp))
        truth = lambda x: x in ("1", "True")
        if truth(syn) and not truth(ack):
            if s not in st:
                st[s] = {"client": src, "server": dst, "segs": [], "seen": set()}
                order.append(s)
            continue
        if s not in st or not pl:
            continue
        d = "c" if src == st[s]["client"] else "s"
        if (d, seq) in st[s]["seen"]:
            continue             # retransmission
        st[s]["seen"].add((d, seq))
        st[s]["segs"].append((d, binascii.unhexlify(pl.replace(":", ""))))
    return [(st[s]["client"], st[s]["server"], st[s]["segs"], s) for s in order]


def is_tls(b):
    return len(b) >= 3 and b[0] in (0x14, 0x15, 0x16, 0x17) and b[1] == 3


def wire_facts(proto, segs, tls_complete=False):
    """What the capture shows for one session, the way the README defines it.
    tls_complete: tshark saw a complete TLS handshake in this session."""
    clear = []
    for d, b in segs:
        if is_tls(b):
            break
        clear.append((d, b))
    text = lambda d: b"".join(b for x, b in clear if x == d).decode("latin-1")
    c2s, s2c = text("c"), text("s")
    cl = c2s.upper().split("\r\n")
    f = {"implicit": bool(segs) and segs[0][0] == "c" and is_tls(segs[0][1])}
    capline = {"smtp": r"^250[- ]STARTTLS\s*$", "pop3": r"^STLS\s*$",
               "imap": r"CAPABILITY[^\r\n]*\bSTARTTLS\b"}[proto]
    f["offered"] = bool(re.search(capline, s2c, re.M | re.I))
    # the client saw a capability list: EHLO reply, POP3 CAPA, IMAP capabilities
    f["capabilities_seen"] = {
        "smtp": any(ln.startswith("EHLO ") for ln in cl) and bool(re.search(r"^250-", s2c, re.M)),
        "pop3": "CAPA" in cl,
        "imap": "CAPABILITY" in s2c.upper()}[proto]
    f["sent"] = f["reply"] = None
    f["handshake"] = False
    cmdre = re.compile(rb"^(\S+ )?(STARTTLS|STLS)\r\n", re.I)
    for i, (d, b) in enumerate(segs):
        if d == "c" and not is_tls(b) and cmdre.match(b):
            f["sent"] = True
            nxt = next((x for x in segs[i + 1:] if x[0] == "s"), None)
            if nxt:
                w = nxt[1].decode("latin-1").split()
                f["reply"] = w[1].upper() if proto == "imap" else w[0]
            after = next((x for x in segs[i + 1:] if x[0] == "c"), None)
            # upgraded: a ClientHello, a TLS answer, and the handshake completed
            # (a handshake that ends in an alert is "failed")
            f["handshake"] = bool(after and after[1][:1] == b"\x16" and tls_complete and
                                  any(x[0] == "s" and x[1][:1] == b"\x16" for x in segs[i + 1:]))
            break
    mechs = []
    for ln in cl:
        m = None
        if proto == "smtp":
            m = re.match(r"^AUTH (\S+)", ln)
            m = m and ("AUTH", m.group(1))
        elif proto == "pop3":
            m = re.match(r"^(USER|APOP) ", ln) and (ln[:4], ln[:4]) or \
                (re.match(r"^AUTH (\S+)", ln) and ("AUTH", ln.split()[1]))
        else:
            m = re.match(r"^\S+ (LOGIN|AUTHENTICATE)(?: (\S+))?", ln)
            m = m and (m.group(1), m.group(2) if m.group(1) == "AUTHENTICATE" else "LOGIN")
        if m:
            mechs.append(m)
    f["logins"] = mechs
    msg = {"smtp": r"^(DATA|BDAT \d+ LAST)$", "pop3": r"^(RETR|TOP) ",
           "imap": r"^\S+ (UID )?FETCH .*(BODY\[|BODY\.PEEK\[|RFC822|BINARY\[)"}[proto]
    f["messages"] = sum(1 for ln in cl if re.match(msg, ln))
    f["ldv"] = proto == "imap" and "LOGINDISABLED" in s2c.upper() and \
        any(m[0] == "LOGIN" for m in mechs)
    f["mangled"] = bool(re.search(r"^250[- ]X{4,}A?\s*$", s2c, re.M))
    return f


def finalize(pcap, jsonl, out):
    verdicts = []
    if os.path.exists(jsonl):
        verdicts = [json.loads(x) for x in open(jsonl) if x.strip()]
    every = tcp_sessions(pcap)
    tls = tls_wire(pcap, every)
    sess = [x for x in every if x[1][1] in MAIL_PORTS]
    errs = []
    if len(sess) != len(verdicts):
        errs.append("%d mail sessions in the capture, %d verdicts" % (len(sess), len(verdicts)))
    offered_before = set()
    for n, (v, (cli, srv, segs, stream)) in enumerate(zip(verdicts, sess)):
        e = lambda msg: errs.append("session %d (%s, client port %d): %s" % (n, v["server"], cli[1], msg))
        if endpoint(*srv) != v["server"]:
            e("server %s in the capture" % endpoint(*srv))
        v["client_port_hint"] = cli[1]
        f = wire_facts(v["proto"], segs, tls_facts(tls.get(stream))["handshake_complete"])
        st = v["starttls"]
        if f["implicit"] != (st == "implicit"):
            e("implicit TLS on the wire: %s" % f["implicit"])
        if st in ("upgraded", "failed", "refused"):
            if not f["sent"] or f["reply"] != v["starttls_reply"]:
                e("STARTTLS reply on the wire: %s" % f["reply"])
            if f["handshake"] != (st == "upgraded"):
                e("TLS handshake after STARTTLS on the wire: %s" % f["handshake"])
        elif st != "implicit":
            if f["sent"]:
                e("STARTTLS/STLS sent on the wire")
            if v["starttls_reply"] is not None:
                e("starttls_reply must be null")
            want_offered = st == "offered-unused"
            if f["offered"] != want_offered:
                e("STARTTLS offered on the wire: %s" % f["offered"])
            stripped = not f["offered"] and f["capabilities_seen"] and (
                v["server"] in offered_before or f["mangled"])
            if stripped != (st == "stripped"):
                e("stripped by the wire rule: %s" % stripped)
        if f["offered"]:
            offered_before.add(v["server"])
        # every login listed was made outside TLS, so its command is on the wire
        got = [(x["command"], x["mechanism"]) for x in v["logins"]]
        if f["logins"] != got:
            e("login commands in clear text on the wire: %s" % f["logins"])
        if f["messages"] != v["cleartext_messages"]:
            e("messages in clear text on the wire: %d" % f["messages"])
        if f["ldv"] != v["login_disabled_violated"]:
            e("LOGIN despite LOGINDISABLED on the wire: %s" % f["ldv"])
    if errs:
        sys.exit("verdicts for %s do not match the capture:\n  %s" % (pcap, "\n  ".join(errs)))
    with open(out, "w") as fh:
        fh.write("[\n" + ",\n".join("  " + json.dumps(v) for v in verdicts) + ("\n" if verdicts else "") + "]\n")


# -------------------------------------------------------------- TLS verdicts --
TLS_VERSION = {0x0300: "SSLv3", 0x0301: "TLSv1.0", 0x0302: "TLSv1.1", 0x0303: "TLSv1.2",
               0x0304: "TLSv1.3"}
RANK = {v: i for i, v in enumerate(["SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"])}
PROTO_BY_PORT = {25: "smtp", 465: "smtp", 587: "smtp", 2525: "smtp", 110: "pop3", 995: "pop3",
                 143: "imap", 993: "imap"}
SYSTEM_STORE = "/etc/ssl/certs/ca-certificates.crt"
WEAK_HASHES = {"md2", "md4", "md5", "sha1"}
MAX_VALIDITY_DAYS = 398          # CA/Browser Forum limit for server certificates
TLS_KEYS = ["server", "client_port_hint", "from_proto", "version", "client_max_version",
            "cipher", "sni", "alert", "handshake_complete", "certs"]
CERT_KEYS = ["subject", "issuer", "expired", "not_yet_valid", "self_signed", "weak_key",
             "key_type", "key_bits", "weak_signature", "sig_hash", "name_mismatch",
             "validity_too_long", "trusted"]


def version_name(v):
    """0x0303, "TLSv1.2", "TLSv1", "TLS1.2", "TLSv1_2" -> "TLSv1.2"; None for none."""
    if v in (None, "", "-", "(NONE)"):
        return None
    if isinstance(v, int):
        return TLS_VERSION.get(v, "0x%04x" % v)
    m = re.match(r"^TLSv?1(?:[._](\d))?$", v)
    if m:
        return "TLSv1.%s" % (m.group(1) or "0")
    if v == "SSLv3":
        return v
    raise ValueError("unknown TLS version %r" % v)


_IANA = {}


def iana(name):
    """IANA name of a cipher suite given by its OpenSSL or IANA name."""
    if name in (None, "", "-", "(NONE)"):
        return None
    if name.startswith("TLS_"):
        return name
    if not _IANA:
        out = subprocess.run(["openssl", "ciphers", "-stdname", "ALL:COMPLEMENTOFALL:@SECLEVEL=0"],
                             capture_output=True, text=True, check=True).stdout
        for ln in out.splitlines():
            w = ln.split()
            if len(w) >= 3 and w[1] == "-":
                _IANA[w[2]] = w[0]
    return _IANA[name]


def name_matches(host, names):
    host = host.lower().rstrip(".")
    for n in (x.lower().rstrip(".") for x in names):
        if n == host or (n.startswith("*.") and host.split(".", 1)[-1] == n[2:] and "." in host):
            return True
    return False


def cert_verdict(c, when, sni, first):
    """One entry of "certs".  c: the facts of one certificate (subject, issuer,
    key_type, key_bits, sig_hash, not_before, not_after, names, self_signed,
    trusted); when: the time to judge validity at; first: the server's own
    certificate (the names and the validity period are only judged for it)."""
    bits, kt = c["key_bits"], c["key_type"]
    return {
        "subject": c["subject"], "issuer": c["issuer"],
        "expired": when > c["not_after"],
        "not_yet_valid": when < c["not_before"],
        "self_signed": c["self_signed"],
        "weak_key": bits < 2048 if kt in ("RSA", "DSA") else bits < 224 if kt == "EC" else False,
        "key_type": kt, "key_bits": bits,
        "weak_signature": c["sig_hash"] in WEAK_HASHES,
        "sig_hash": c["sig_hash"],
        # the server's own certificate only; null when there is no SNI to compare
        "name_mismatch": (not name_matches(sni, c["names"]) if sni else None) if first else False,
        "validity_too_long": bool(first and c["not_after"] - c["not_before"] > MAX_VALIDITY_DAYS * 86400),
        "trusted": c["trusted"],
    }


def profile_facts(name):
    """Facts of a certificate as make-pcaps.sh configured it ($PC_PKI/NAME.json,
    written when it signed it).  None of them is trusted: the private CA is not
    in the system store, and nothing here puts it there."""
    with open(os.path.join(os.environ["PC_PKI"], name + ".json")) as fh:
        p = json.load(fh)
    p["names"] = p["san"] or [p["subject"].split("CN=", 1)[1].split(",")[0]]
    p["trusted"] = False
    return p


def emit_tls(server, proto, version, cmax, cipher, sni, alert, complete, certs):
    """Append an expected TLS verdict to $PC_TLS.  certs: names of the
    certificates the server was set up to send, in order ("-": none)."""
    names = [] if certs in (None, "", "-") else certs.split(",")
    when = time.time()
    d = {"server": server, "client_port_hint": None, "from_proto": proto, "version": version,
         "client_max_version": cmax, "cipher": iana(cipher), "sni": sni, "alert": alert,
         "handshake_complete": complete,
         "certs": None if version == "TLSv1.3" else
         [] if version is None else
         [cert_verdict(profile_facts(n), when, sni, i == 0) for i, n in enumerate(names)]}
    path = os.environ.get("PC_TLS")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps(d) + "\n")
    return d


def tls_note_sock(sock, host, port, proto):
    """TLS verdict of a python client session (ssl module, default context:
    up to TLS 1.3, no SNI for an IP address).  The server's certificates are
    the ones make-pcaps.sh says it set up ($PC_TLS_CERTS)."""
    if not os.environ.get("PC_TLS"):
        return
    mv = sock.context.maximum_version
    cmax = "TLSv1.3" if mv == ssl.TLSVersion.MAXIMUM_SUPPORTED else version_name(mv.name)
    emit_tls(endpoint(host, port), proto, version_name(sock.version()), cmax, sock.cipher()[0],
             None, None, True, os.environ.get("PC_TLS_CERTS", "-"))


def client_report(kind, path):
    """(version, cipher) as the client program printed them."""
    text = open(path, encoding="latin-1").read()
    if kind == "openssl":            # SSL-Session: "Protocol  : TLSv1.2", "Cipher    : AES128-SHA"
        v = re.findall(r"^\s+Protocol\s*: (\S+)", text, re.M)
        c = re.findall(r"^\s+Cipher\s*: (\S+)", text, re.M)
        return (version_name(v[-1]) if v else None), (iana(c[-1]) if c and c[-1] != "0000" else None)
    if kind == "gnutls":             # "- Description: (TLS1.2-X.509)-(RSA)-(3DES-CBC)-(SHA1)"
        m = re.search(r"^- Description: \((TLS1\.\d)[^)]*\)-\(([^)]+)\)-\(([^)]+)\)-\(([^)]+)\)",
                      text, re.M)
        if not m:
            return None, None
        kx = {"RSA": "RSA", "ECDHE-RSA": "ECDHE_RSA", "DHE-RSA": "DHE_RSA"}.get(m.group(2))
        enc = {"3DES-CBC": "3DES_EDE_CBC", "ARCFOUR-128": "RC4_128", "AES-128-CBC": "AES_128_CBC",
               "AES-256-CBC": "AES_256_CBC"}.get(m.group(3))
        mac = {"SHA1": "SHA", "SHA256": "SHA256", "SHA384": "SHA384"}.get(m.group(4))
        return version_name(m.group(1)), ("TLS_%s_WITH_%s_%s" % (kx, enc, mac) if kx and enc and mac else None)
    if kind == "swaks":              # "=== TLS started with cipher TLSv1.3:TLS_AES_256_GCM_SHA384:256"
        m = re.search(r"TLS started with cipher (TLSv[\d.]+):([^:\s]+)", text)
        return (version_name(m.group(1)), iana(m.group(2))) if m else (None, None)
    raise ValueError(kind)


def tls_note(*kv):
    """Expected TLS verdict of one session, from what the script configured:
    server=IP:PORT proto=smtp|pop3|imap|- version=TLSv1.2|- max=TLSv1.3
    cipher=NAME|auto|- sni=NAME|- alert=LEVEL/DESCRIPTION|- complete=1|0
    certs=NAME[,NAME...]|- and the client's output as openssl=FILE,
    gnutls=FILE or swaks=FILE.  The client must report the same version and
    cipher; cipher=auto takes the cipher from its report."""
    a = dict(x.split("=", 1) for x in kv)
    opt = lambda k: None if a.get(k, "-") == "-" else a[k]
    version, cipher = version_name(opt("version")), opt("cipher")
    for kind in ("openssl", "gnutls", "swaks"):
        if kind in a:
            rv, rc = client_report(kind, a[kind])
            if rv != version:
                sys.exit("tls-note %s: configured %s, the client reports %s" % (a["server"], version, rv))
            if cipher == "auto":
                cipher = rc
            elif rc and iana(cipher) != rc:
                sys.exit("tls-note %s: configured %s, the client reports %s" % (a["server"], cipher, rc))
    assert cipher != "auto", "cipher=auto needs the client's report"
    alert = opt("alert")
    if alert:
        lv, desc = alert.split("/")
        alert = {"level": int(lv), "description": int(desc)}
    emit_tls(a["server"], opt("proto"), version, version_name(a["max"]), cipher, opt("sni"), alert,
             a["complete"] == "1", a.get("certs", "-"))


def grease(v):
    return (v & 0x0f0f) == 0x0a0a


def tls_wire(pcap, sessions):
    """TLS facts of each TCP stream with a ClientHello, read by tshark (it also
    follows STARTTLS / STLS): {stream: facts}."""
    fields = ["frame.time_epoch", "tcp.stream", "ip.src", "ipv6.src", "tcp.srcport",
              "tls.record.content_type", "tls.record.opaque_type", "tls.handshake.type",
              "tls.handshake.version", "tls.handshake.extensions.supported_version",
              "tls.handshake.ciphersuite", "tls.handshake.extensions_server_name",
              "tls.alert_message.level", "tls.alert_message.desc", "tls.handshake.certificate"]
    cmd = ["tshark", "-r", pcap, "-n", "-Y", "tls", "-T", "fields", "-E", "occurrence=a",
           "-E", "aggregator=|"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, check=True, text=True).stdout
    client = {s[3]: s[0] for s in sessions}
    facts = {}
    for row in out.splitlines():
        r = dict(zip(fields, row.split("\t")))
        st = r["tcp.stream"]
        if st not in client:
            continue
        d = "c" if (r["ip.src"] or r["ipv6.src"], int(r["tcp.srcport"])) == client[st] else "s"
        L = lambda k: [x for x in r[k].split("|") if x]
        f = facts.setdefault(st, {"ch": False, "sni": None, "client_max": None, "version": None,
                                  "cipher": None, "alert": None, "certs": None, "cert_time": None,
                                  "ccs": set(), "c_app": False, "s_app_after_c": False,
                                  "fatal": False, "done_at_fatal": False})
        hs = [int(x) for x in L("tls.handshake.type")]
        if 1 in hs and d == "c" and not f["ch"]:
            f["ch"] = True
            sv = [int(x, 16) for x in L("tls.handshake.extensions.supported_version")]
            sv = [x for x in sv if not grease(x)]
            f["client_max"] = max(sv) if sv else int(L("tls.handshake.version")[0], 16)
            sni = L("tls.handshake.extensions_server_name")
            f["sni"] = sni[0] if sni else None
        if 2 in hs and d == "s" and f["version"] is None:
            sv = [int(x, 16) for x in L("tls.handshake.extensions.supported_version")]
            f["version"] = sv[0] if sv else int(L("tls.handshake.version")[0], 16)
            f["cipher"] = int(L("tls.handshake.ciphersuite")[0], 16)
        if 11 in hs and d == "s" and f["certs"] is None:
            f["certs"] = L("tls.handshake.certificate")
            f["cert_time"] = float(r["frame.time_epoch"])
        # an alert in clear: one its sender sent before its own ChangeCipherSpec,
        # so without record protection (with the NULL suite tshark can read the
        # protected ones too: they do not count)
        ct = [int(x) for x in L("tls.record.content_type")]
        clear = d not in f["ccs"] and 21 in ct and (20 not in ct or ct.index(21) < ct.index(20))
        if clear and L("tls.alert_message.desc"):
            if f["alert"] is None:
                f["alert"] = {"level": int(L("tls.alert_message.level")[0]),
                              "description": int(L("tls.alert_message.desc")[0])}
            if not f["fatal"] and "2" in L("tls.alert_message.level")[:1]:
                f["fatal"], f["done_at_fatal"] = True, handshake_done(f)
        types = ct + [int(x) for x in L("tls.record.opaque_type")]
        if 20 in types:
            f["ccs"].add(d)
        if 23 in types and f["version"] is not None:
            if d == "c":
                f["c_app"] = True
            elif f["c_app"]:
                f["s_app_after_c"] = True
    return {k: v for k, v in facts.items() if v["ch"]}


def handshake_done(f):
    """The handshake is complete by now: a ServerHello, and for TLS <= 1.2 a
    ChangeCipherSpec from both sides; for TLS 1.3 (whose Finished messages
    are encrypted) an encrypted record from the client after the ServerHello,
    answered by one from the server."""
    if f["version"] is None:
        return False
    if RANK[version_name(f["version"])] <= RANK["TLSv1.2"]:
        return f["ccs"] == {"c", "s"}
    return f["s_app_after_c"]


def tls_facts(f):
    """version name and handshake_complete of tls_wire facts (None: no TLS).
    A fatal alert in clear before the handshake was done means it failed."""
    if not f:
        return {"version": None, "handshake_complete": False}
    return {"version": version_name(f["version"]) if f["version"] is not None else None,
            "handshake_complete": f["done_at_fatal"] if f["fatal"] else handshake_done(f)}


def der_tlv(b, i):
    """DER element at offset i: (tag, content start, end)."""
    tag, ln, j = b[i], b[i + 1], i + 2
    if ln & 0x80:
        ln, j = int.from_bytes(b[j:j + (ln & 0x7f)], "big"), j + (ln & 0x7f)
    return tag, j, j + ln


def own_signature_ok(der, pem, sig_hash, tmp, n):
    """The certificate's signature verifies with its own public key
    (RSA PKCS#1 v1.5 or ECDSA: openssl dgst -verify over the TBSCertificate)."""
    _, cs, _ = der_tlv(der, 0)                  # Certificate ::= SEQUENCE {
    _, _, te = der_tlv(der, cs)                 #   tbsCertificate,
    _, _, ae = der_tlv(der, te)                 #   signatureAlgorithm,
    tag, ss, se = der_tlv(der, ae)              #   signatureValue BIT STRING }
    if tag != 0x03 or not re.match(r"^(sha\d+|md5)$", sig_hash):
        return False
    files = {k: os.path.join(tmp, "%s%d" % (k, n)) for k in ("tbs", "sig", "pub")}
    open(files["tbs"], "wb").write(der[cs:te])
    open(files["sig"], "wb").write(der[ss + 1:se])
    with open(files["pub"], "w") as fh:
        subprocess.run(["openssl", "x509", "-in", pem, "-noout", "-pubkey"], stdout=fh, check=True)
    return subprocess.run(["openssl", "dgst", "-" + sig_hash, "-verify", files["pub"], "-signature",
                           files["sig"], files["tbs"]], capture_output=True).returncode == 0


def der_facts(der, tmp, n):
    """Facts of one certificate from the capture (DER), with openssl."""
    pem = os.path.join(tmp, "c%d.pem" % n)
    pem_of = lambda b: "-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n" % "\n".join(
        re.findall(".{1,64}", base64.b64encode(b).decode()))
    with open(pem, "w") as fh:
        fh.write(pem_of(der))
    run = lambda *a: subprocess.run(["openssl"] + list(a), capture_output=True, text=True)
    out = run("x509", "-in", pem, "-noout", "-subject", "-issuer", "-startdate", "-enddate",
              "-nameopt", "RFC2253").stdout
    kv = dict(ln.split("=", 1) for ln in out.splitlines() if "=" in ln)
    date = lambda s: calendar.timegm(time.strptime(s.strip(), "%b %d %H:%M:%S %Y GMT"))
    text = run("x509", "-in", pem, "-noout", "-text").stdout
    sigalg = re.search(r"Signature Algorithm: (\S+)", text).group(1)
    m = re.search(r"(sha\d+|md[245])", sigalg.lower())
    kalg = re.search(r"Public Key Algorithm: (\S+)", text).group(1)
    san = re.search(r"X509v3 Subject Alternative Name:[^\n]*\n\s*([^\n]*)", text)
    names = [x.strip()[4:] for x in san.group(1).split(",") if x.strip().startswith("DNS:")] if san else []
    c = {"subject": kv["subject"], "issuer": kv["issuer"],
         "not_before": date(kv["notBefore"]), "not_after": date(kv["notAfter"]),
         "key_type": {"rsaEncryption": "RSA", "id-ecPublicKey": "EC", "dsaEncryption": "DSA"}.get(kalg, kalg),
         "key_bits": int(re.search(r"Public-Key: \((\d+) bit\)", text).group(1)),
         "sig_hash": m.group(1) if m else sigalg,
         "names": names or re.findall(r"(?:^|,)CN=([^,]*)", kv["subject"])}
    # self-signed: issuer = subject, and the signature verifies with its own key
    # (checked directly: "openssl verify -check_ss_sig" skips the signature of a
    # certificate whose keyUsage lacks keyCertSign)
    c["self_signed"] = c["subject"] == c["issuer"] and own_signature_ok(der, pem, c["sig_hash"], tmp, n)
    c["pem"] = pem
    return c


def trusted(c, rest, when, tmp, n):
    """The certificate chains to the system store with the certificates sent
    after it as intermediates, at the time of the packet."""
    args = ["verify", "-no-CApath", "-no-CAstore", "-CAfile", SYSTEM_STORE, "-attime", str(int(when))]
    if rest:
        chain = os.path.join(tmp, "rest%d.pem" % n)
        with open(chain, "w") as fh:
            fh.write("".join(open(x["pem"]).read() for x in rest))
        args += ["-untrusted", chain]
    return subprocess.run(["openssl"] + args + [c["pem"]], capture_output=True).returncode == 0


def wire_tls_verdict(sess, f, tmp):
    """The TLS verdict of one session as the capture shows it."""
    cli, srv, segs, _ = sess
    first_c = next((b for d, b in segs if d == "c"), b"")
    vf = tls_facts(f)
    v = vf["version"]
    certs = None
    if v != "TLSv1.3":
        ders = [binascii.unhexlify(x.replace(":", "")) for x in (f["certs"] or [])]
        cf = [der_facts(d, tmp, i) for i, d in enumerate(ders)]
        certs = []
        for i, c in enumerate(cf):
            c["trusted"] = trusted(c, cf[i + 1:], f["cert_time"], tmp, i)
            certs.append(cert_verdict(c, f["cert_time"], f["sni"], i == 0))
    elif f["certs"]:
        certs = "certificates in clear in TLS 1.3"
    return {"server": endpoint(*srv), "client_port_hint": cli[1],
            "from_proto": None if is_tls(first_c) else PROTO_BY_PORT.get(srv[1], "?"),
            "version": v, "client_max_version": version_name(f["client_max"]),
            "cipher": TLS_CIPHER_NAMES().get(f["cipher"], f["cipher"]) if f["cipher"] is not None else None,
            "sni": f["sni"], "alert": f["alert"], "handshake_complete": vf["handshake_complete"],
            "certs": certs}


_CIPHER_NAMES = {}


def TLS_CIPHER_NAMES():
    """tshark's names of the cipher suites (IANA names): {number: name}."""
    if not _CIPHER_NAMES:
        out = subprocess.run(["tshark", "-G", "values"], capture_output=True, text=True).stdout
        for ln in out.splitlines():
            w = ln.split("\t")
            if len(w) == 4 and w[0] == "V" and w[1] == "tls.handshake.ciphersuite":
                _CIPHER_NAMES[int(w[2])] = w[3]
    return _CIPHER_NAMES


def finalize_tls(pcap, jsonl, out):
    want = []
    if os.path.exists(jsonl):
        want = [json.loads(x) for x in open(jsonl) if x.strip()]
    every = tcp_sessions(pcap)
    wire = tls_wire(pcap, every)
    sess = [(s, wire[s[3]]) for s in every if s[3] in wire]
    errs = []
    if len(sess) != len(want):
        errs.append("%d TLS sessions in the capture, %d TLS verdicts" % (len(sess), len(want)))
    with tempfile.TemporaryDirectory(prefix="tls-check.") as tmp:
        for n, (w, (s, f)) in enumerate(zip(want, sess)):
            got = wire_tls_verdict(s, f, tmp)
            w["client_port_hint"] = got["client_port_hint"]
            e = lambda msg: errs.append("TLS session %d (%s, client port %d): %s" % (
                n, w["server"], got["client_port_hint"], msg))
            for k in TLS_KEYS:
                if k == "certs" and isinstance(w[k], list) and isinstance(got[k], list) \
                        and len(w[k]) == len(got[k]):
                    for i, (a, b) in enumerate(zip(w[k], got[k])):
                        for ck in CERT_KEYS:
                            if a[ck] != b[ck]:
                                e("certificate %d: %s is %r on the wire, verdict says %r" % (i, ck, b[ck], a[ck]))
                elif w[k] != got[k]:
                    e("%s is %r on the wire, verdict says %r" % (k, got[k], w[k]))
    if errs:
        sys.exit("TLS verdicts for %s do not match the capture:\n  %s" % (pcap, "\n  ".join(errs)))
    rows = [json.dumps({k: w[k] for k in TLS_KEYS}) for w in want]
    with open(out, "w") as fh:
        fh.write("[\n" + ",\n".join("  " + r for r in rows) + ("\n" if rows else "") + "]\n")


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "relay":
        relay(*args)
    elif cmd == "swaks-verdict":
        swaks_verdict(args[0], args[1], args[2], args[3] or None, len(args) > 4 and args[4] == "stripped")
    elif cmd == "note":
        note(*args)
    elif cmd == "finalize":
        finalize(*args)
    elif cmd == "finalize-tls":
        finalize_tls(*args)
    elif cmd == "tls-note":
        tls_note(*args)
    elif cmd in ("pop3-basic", "imap-basic"):
        {"pop3-basic": pop3_basic, "imap-basic": imap_basic}[cmd](*args)
    else:
        globals()[cmd.replace("-", "_")](*args)


if __name__ == "__main__":
    main()

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

Every client session appends one JSON object, its verdict, to the file named by
$PC_VERDICTS.  A verdict is built from what the client did and from the
replies it really got from the server; "finalize" then checks it against the
bytes in the capture.  The format is described in pcaps/README.md
("Verdict files").
"""
import base64
import binascii
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
import threading

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
    else:
        m = imaplib.IMAP4(host, 143, timeout=10)
        v = Verdict("imap", host, 143)
        v.offered = "STARTTLS" in m.capabilities
        v.login_disabled = "LOGINDISABLED" in m.capabilities
        if mode == "starttls":
            typ, _ = m.starttls(ssl_context=tls_ctx())
            v.starttls(typ, typ == "OK", True)
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
    segments in capture order: [(client, server, [(dir, bytes)])]."""
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
    return [(st[s]["client"], st[s]["server"], st[s]["segs"]) for s in order]


def is_tls(b):
    return len(b) >= 3 and b[0] in (0x14, 0x15, 0x16, 0x17) and b[1] == 3


def wire_facts(proto, segs):
    """What the capture shows for one session, the way the README defines it."""
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
            f["handshake"] = bool(after and after[1][:1] == b"\x16" and
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
    sess = [x for x in tcp_sessions(pcap) if x[1][1] in MAIL_PORTS]
    errs = []
    if len(sess) != len(verdicts):
        errs.append("%d mail sessions in the capture, %d verdicts" % (len(sess), len(verdicts)))
    offered_before = set()
    for n, (v, (cli, srv, segs)) in enumerate(zip(verdicts, sess)):
        e = lambda msg: errs.append("session %d (%s, client port %d): %s" % (n, v["server"], cli[1], msg))
        if endpoint(*srv) != v["server"]:
            e("server %s in the capture" % endpoint(*srv))
        v["client_port_hint"] = cli[1]
        f = wire_facts(v["proto"], segs)
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
    elif cmd in ("pop3-basic", "imap-basic"):
        {"pop3-basic": pop3_basic, "imap-basic": imap_basic}[cmd](*args)
    else:
        globals()[cmd.replace("-", "_")](*args)


if __name__ == "__main__":
    main()

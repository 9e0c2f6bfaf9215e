#!/usr/bin/env python3
"""Generate a large, realistic rule set for the benchmark.

    mkrules.py OUT.rules N [SEED]

Writes N rules (sids from 3000000 up) plus a few suppress lines, in the
language of docs/rules.md, the way a real site's rule set looks: most rules
name one server, user, host name, certificate or cipher suite of the site's
own (addresses in 10.128.0.0/9, 172.20.0.0/14 and fd5a::/16, names under
corp.example and friends), so they are plausible but rarely match the
benchmark capture (tests/mkbench.py: the project's captures, whose addresses
it rewrites only in the middle two octets of IPv4 or the last 16 bits of
IPv6). Eleven rules are about facts the capture does have (the test users
alice and bob, mail.postcard.test, weak suites), so the alert path is
exercised too (MATCHING below; one of them is a pass rule, and one
suppress line drops part of another's alerts).

The kinds, in proportion of N: per-server pass rules, rules on login user
names, on TLS server names (SNI), on certificate subjects and issuers, on
TLS versions with port sets, on cipher suite names, and mixes of predicates
with address CIDRs, port lists, negations and the '<>' direction; about one
alert rule in five has a threshold. The same N and SEED give the same file.
The set loads with no error and no warning:

    postcard --check-rules -R OUT.rules
"""
import random
import sys

SID0 = 3000000

PORTS = {"smtp": [25, 465, 587], "pop3": [110, 995], "imap": [143, 993]}
MAIL_PROTOS = ["smtp", "pop3", "imap"]
TLS_PORTS = [25, 110, 143, 465, 587, 993, 995]
STARTTLS_PORTS = {"smtp": [25, 587, 2525], "pop3": [110], "imap": [143],
                  "mail": [25, 587, 110, 143]}
PORT_CLASSES = {"smtp": ["relay", "submission", "other"], "pop3": ["access", "other"],
                "imap": ["access", "other"], "mail": ["relay", "submission", "access", "other"]}
VERSIONS = ["sslv3", "tls1.0", "tls1.1", "tls1.2", "tls1.3"]
MECHS = ["PLAIN", "LOGIN", "XOAUTH2", "USER", "CRAM-MD5", "OAUTHBEARER"]
CIPHERS = [
    "TLS_RSA_WITH_RC4_128_MD5", "TLS_RSA_WITH_RC4_128_SHA", "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_RSA_WITH_DES_CBC_SHA", "TLS_RSA_EXPORT_WITH_RC4_40_MD5", "TLS_RSA_WITH_NULL_SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_AES_256_CBC_SHA",
    "TLS_RSA_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "TLS_DH_anon_WITH_AES_256_CBC_SHA",
    "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA",
    "TLS_RSA_WITH_SEED_CBC_SHA", "TLS_RSA_WITH_IDEA_CBC_SHA",
]
WEAK = ["null", "export", "anon", "des", "3des", "rc4", "md5", "rc2", "idea"]
CERT_CHECKS = [  # (predicates, classtype)
    ("tls.cert.expired", "cert-expired"),
    ("tls.cert.not_yet_valid", "cert-not-yet-valid"),
    ("tls.cert.self_signed", "cert-self-signed"),
    ("tls.cert.trusted:false; tls.cert.self_signed:false", "cert-untrusted"),
    ("tls.cert.weak_key", "cert-weak-key"),
    ("tls.cert.weak_signature", "cert-weak-signature"),
    ("tls.cert.name_mismatch", "cert-name-mismatch"),
    ("tls.cert.validity_too_long", "cert-validity-too-long"),
    ("tls.cert.expired:false; tls.cert.days_left:<14d", "cert-expiring"),
    ("tls.cert.key_bits:<2048", "cert-weak-key"),
]
STARTTLS_CLASS = {
    "not-offered": "starttls-not-offered", "refused": "starttls-refused",
    "failed": "starttls-failed", "stripped": "starttls-stripped",
    "offered-unused": "starttls-offered-unused",
}
SEVERITIES = ["info", "low", "medium", "high", "critical"]
DOMAINS = ["corp.example", "mail.example.net", "branch.example.org", "lab.example.com"]
ORGS = ["Example Corp", "Example Branch GmbH", "Example Labs", "Example Hosting Ltd"]
CAS = ["CN=Example Corp Issuing CA 1,O=Example Corp,C=DE",
       "CN=Example Corp Issuing CA 2,O=Example Corp,C=DE",
       "CN=Example Labs Root,O=Example Labs,C=US",
       "CN=Legacy Mail CA,OU=IT,O=Example Hosting Ltd,C=GB"]

# The rules that match the benchmark capture (its sessions are the
# project's captures: tests/mkbench.py keeps their names and users).
# Headers and options after the sid are filled in as the others.
MATCHING = [
    ('alert imap any any -> any 143', 'LOCAL IMAP cleartext login by the shared test account alice',
     'mail.login.user:"alice"; mail.login.cleartext', 'cleartext-login', 'severity:critical; '
     'threshold: type limit, track by_src, count 1, seconds 3600'),
    ('alert pop3 any any -> any [110,995]', 'LOCAL POP3 USER/PASS login by bob',
     'mail.login.user:"bob"; mail.login.mechanism:USER', 'cleartext-login', ''),
    ('alert smtp any any -> any [25,587]', 'LOCAL SMTP AUTH by alice or bob in clear',
     'mail.login.user:["alice","bob"]; mail.login.mechanism:[PLAIN,LOGIN]', 'cleartext-login',
     'threshold: type both, track by_server, count 3, seconds 60'),
    ('alert tls any any -> any 993', 'LOCAL IMAPS test server mail.postcard.test on a private CA',
     'tls.sni:"mail.postcard.test"; tls.cert.issuer:"CN=Postcard Test CA"', 'cert-untrusted', ''),
    ('alert tls any any -> any any', 'LOCAL test certificate CN=mail.postcard.test seen',
     'tls.cert.subject:"CN=mail.postcard.test"', 'cert-untrusted',
     'threshold: type limit, track by_rule, count 10, seconds 86400'),
    ('alert tls any any -> 10.64.0.0/10 any', 'LOCAL RC4 suite to an internal server',
     'tls.cipher:"TLS_RSA_WITH_RC4_128_SHA"', 'weak-cipher', ''),
    ('alert tls any any -> any any', 'LOCAL lavabit certificate',
     'tls.sni:"pop.lavabit.com"; tls.cert.subject:"CN=*.lavabit.com,OU=Domain Control Validated,O=*.lavabit.com"',
     'cert-validity-too-long', ''),
    ('alert mail any any -> any any', 'LOCAL mail server refused STARTTLS with a login following',
     'mail.starttls:refused; mail.login', 'starttls-refused', ''),
    ('alert imap any any -> any any', 'LOCAL IMAP LOGINDISABLED ignored by a client',
     'mail.login_disabled_violated:true', 'login-disabled-violated', ''),
    ('alert tls any any -> any [465,993,995]', 'LOCAL implicit TLS 1.2 to the test server, 1.3 expected',
     'tls.version:tls1.2; tls.sni:"MAIL.POSTCARD.TEST"; tls.from_proto:absent', 'tls-obsolete',
     'severity:info; threshold: type threshold, track by_dst, count 5, seconds 300'),
    ('pass smtp any any -> [10.76.100.0/24,10.77.200.0/21] 25', 'LOCAL lab relays: clear by design',
     'mail.starttls:[not-offered,offered-unused]', 'starttls-not-offered', ''),
]


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.sid = SID0

    def pick(self, seq):
        return self.r.choice(seq)

    # --- addresses and ports the capture does not have ---

    def host(self):
        """One of the site's own servers."""
        r = self.r
        if r.random() < 0.8:
            return "10.%d.%d.%d" % (r.randint(128, 255), r.randint(0, 255), r.randint(1, 254))
        if r.random() < 0.7:
            return "172.%d.%d.%d" % (r.randint(20, 23), r.randint(0, 255), r.randint(1, 254))
        return "fd5a:%x:%x::%x" % (r.randint(1, 0xffff), r.randint(0, 0xffff), r.randint(1, 0xffff))

    def net(self):
        r = self.r
        if r.random() < 0.85:
            p = r.choice([16, 20, 24, 24, 24, 28])
            a = (10 << 24) | (r.randint(128, 255) << 16) | (r.randint(0, 255) << 8) | r.randint(0, 255)
            a &= ~((1 << (32 - p)) - 1) & 0xffffffff
            return "%d.%d.%d.%d/%d" % (a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255, p)
        return "fd5a:%x:%x::/48" % (r.randint(1, 0xffff), r.randint(0, 0xffff))

    def dst_set(self):
        """A destination address set: one server, a network, or a list (sometimes with a hole)."""
        r = self.r
        k = r.random()
        if k < 0.4:
            return self.host()
        if k < 0.7:
            return self.net()
        items = [self.net() if r.random() < 0.5 else self.host() for _ in range(r.randint(2, 5))]
        if r.random() < 0.2:
            items.append("!" + self.host())
        return "[%s]" % ",".join(items)

    def src_set(self):
        r = self.r
        k = r.random()
        if k < 0.6:
            return "any"
        if k < 0.75:
            return r.choice(["$HOME_NET", "$EXTERNAL_NET"])
        if k < 0.9:
            return self.net()
        return "!" + self.net()

    def ports(self, proto):
        r = self.r
        base = PORTS.get(proto, TLS_PORTS)
        k = r.random()
        if k < 0.35:
            return "any"
        if k < 0.7:
            return str(r.choice(base))
        if k < 0.9:
            ps = sorted(set(r.sample(base + [2525, 10025, 4190], r.randint(2, min(4, len(base) + 3)))))
            return "[%s]" % ",".join(map(str, ps))
        return r.choice(["!25", "[1:1023,!80]", "1024:", "[25,465,587,2525]"])

    # --- rule text ---

    def threshold(self, p=0.2):
        r = self.r
        if r.random() >= p:
            return ""
        return "threshold: type %s, track %s, count %d, seconds %d; " % (
            r.choice(["limit", "threshold", "both"]),
            r.choice(["by_src", "by_dst", "by_rule", "by_server"]),
            r.choice([1, 1, 2, 5, 10, 100]), r.choice([60, 300, 600, 3600, 86400]))

    def extras(self, action):
        r = self.r
        s = ""
        if r.random() < 0.3:
            s += "severity:%s; " % r.choice(SEVERITIES)
        elif r.random() < 0.1:
            s += "priority:%d; " % r.randint(1, 4)
        if r.random() < 0.25:
            s += "reference:url,wiki.corp.example/mail/policy/%d; " % r.randint(1, 400)
        if r.random() < 0.3:
            s += "metadata:owner %s, created_at 2024_%02d_%02d; " % (
                r.choice(["mailops", "secops", "netops"]), r.randint(1, 12), r.randint(1, 28))
        if action == "alert":
            s += self.threshold()
        return s

    def rule(self, header, msg, preds, classtype, extra=None):
        action = header.split()[0]
        if extra is None:
            extra = self.extras(action)
        elif extra:
            extra += "; "
        sid = self.sid
        self.sid += 1
        rev = self.r.choice([1, 1, 1, 2, 3])
        return sid, '%s (msg:"%s"; %s; classtype:%s; %ssid:%d; rev:%d;)' % (
            header, msg, preds, classtype, extra, sid, rev)

    def name(self, i):
        return "%s%d" % (self.pick(["mail", "mx", "imap", "pop", "smtp", "relay", "edge"]), i)

    # --- the kinds ---

    def k_pass_server(self, i):
        r = self.r
        proto = r.choice(MAIL_PROTOS + ["mail"])
        port = {"smtp": "25", "pop3": "110", "imap": "143", "mail": "[25,110,143]"}[proto]
        st = r.sample(["not-offered", "offered-unused", "refused", "failed"], r.randint(1, 2))
        h = self.host()
        preds = "mail.starttls:%s" % (st[0] if len(st) == 1 else "[%s]" % ",".join(st))
        if r.random() < 0.3:
            preds += "; mail.port_class:%s" % ("relay" if proto == "smtp" else "access")
        return self.rule("pass %s any any -> %s %s" % (proto, h, port),
                         "LOCAL %s %s: legacy server, STARTTLS findings accepted" % (self.name(i), h),
                         preds, STARTTLS_CLASS[st[0]])

    def k_user(self, i):
        r = self.r
        proto = r.choice(MAIL_PROTOS + ["mail", "mail", "any"])
        user = r.choice(["user%05d" % i, "svc-%s-%d" % (r.choice(["backup", "scan", "crm", "print"]), i),
                         "%s.%s%d@%s" % (r.choice(["j", "m", "a", "k"]), r.choice(["doe", "roe", "moe"]),
                                          i, r.choice(DOMAINS))])
        preds = 'mail.login.user:"%s"' % user
        k = r.random()
        if k < 0.4:
            preds += "; mail.login.cleartext"
            cls = "cleartext-login"
        elif k < 0.6:
            preds += "; mail.login.mechanism:[%s]" % ",".join(r.sample(MECHS, r.randint(1, 3)))
            cls = "cleartext-login"
        elif k < 0.8:
            preds += "; mail.login.result:failure"
            cls = "cleartext-login"
        else:
            preds += "; mail.cleartext_messages:>0"
            cls = "cleartext-mail"
        if r.random() < 0.2:
            preds += "; mail.login.bearer_token:false"
        dst = "$MAIL_SERVERS" if r.random() < 0.5 else self.dst_set()
        return self.rule("alert %s %s any -> %s %s" % (proto, self.src_set(), dst, self.ports(proto)),
                         "LOCAL login by %s" % user, preds, cls)

    def k_sni(self, i):
        r = self.r
        host = "%s.%s" % (self.name(i), r.choice(DOMAINS))
        if r.random() < 0.3:
            host = host.upper()
        preds = 'tls.sni:"%s"' % host
        k = r.random()
        if k < 0.4:
            preds += "; tls.version:<%s" % r.choice(["tls1.2", "tls1.2", "tls1.3"])
            cls = "tls-obsolete"
        elif k < 0.6:
            preds += "; tls.cipher_weakness:[%s]" % ",".join(r.sample(WEAK, r.randint(1, 4)))
            cls = "weak-cipher"
        elif k < 0.8:
            preds += "; tls.handshake_complete:false; tls.alert.description:%d" % r.choice([40, 42, 46, 48, 70, 80])
            cls = "starttls-failed"
        else:
            preds += "; tls.cert.name_mismatch"
            cls = "cert-name-mismatch"
        return self.rule("alert tls %s any -> any %s" % (self.src_set(), self.ports("tls")),
                         "LOCAL TLS to %s" % host, preds, cls)

    def k_cert(self, i):
        r = self.r
        cn = "%s.%s" % (self.name(i), r.choice(DOMAINS))
        check, cls = r.choice(CERT_CHECKS)
        if r.random() < 0.7:
            subj = "CN=%s,O=%s,C=%s" % (cn, r.choice(ORGS), r.choice(["DE", "US", "GB", "FR"]))
            preds = 'tls.cert.subject:"%s"; %s' % (subj, check)
            what = cn
        else:
            ca = r.choice(CAS)
            preds = 'tls.cert.issuer:"%s"; tls.cert.subject:"CN=%s"; %s' % (ca, cn, check)
            what = "%s from %s" % (cn, ca.split(",")[0][3:])
        dst = "any" if r.random() < 0.5 else self.dst_set()
        return self.rule("alert tls any any -> %s %s" % (dst, self.ports("tls")),
                         "LOCAL certificate %s: %s" % (what, cls), preds, cls)

    def k_version(self, i):
        r = self.r
        v = r.choice(VERSIONS[:4])
        op = r.choice(["<=", "<"]) if v != "sslv3" else "<="
        preds = "tls.version:%s%s" % (op, v)
        if r.random() < 0.3:
            preds += "; tls.client_max_version:>=tls1.2"
        ports = "[%s]" % ",".join(map(str, sorted(r.sample(TLS_PORTS, r.randint(1, 4)))))
        if r.random() < 0.3:  # TLS after STARTTLS: the protocol's clear-text port
            fp = r.choice(MAIL_PROTOS)
            preds += "; tls.from_proto:%s" % fp
            ports = str(STARTTLS_PORTS[fp][0])
        cls = "sslv3" if v == "sslv3" else "tls-obsolete"
        return self.rule("alert tls any any -> %s %s" % (self.dst_set(), ports),
                         "LOCAL %s %s: TLS %s%s" % (self.name(i), ports, op, v), preds, cls)

    def k_cipher(self, i):
        r = self.r
        c = r.choice(CIPHERS)
        preds = 'tls.cipher:"%s"' % c
        if r.random() < 0.3:
            preds += "; tls.version:>=tls1.2"
        weak = any(w in c for w in ("RC4", "DES", "NULL", "EXPORT", "anon", "IDEA", "MD5"))
        cls = "weak-cipher" if weak else "no-forward-secrecy"
        return self.rule("alert tls %s any -> %s %s" % (self.src_set(), self.dst_set(), self.ports("tls")),
                         "LOCAL %s on %s" % (c, self.name(i)), preds, cls)

    def k_mix(self, i):
        r = self.r
        proto = r.choice(MAIL_PROTOS + ["mail"])
        st = r.choice(list(STARTTLS_CLASS))
        preds = ["mail.starttls:%s" % st]
        classes = PORT_CLASSES[proto]
        if r.random() < 0.5:
            preds.append("mail.port_class:[%s]" % ",".join(r.sample(classes, r.randint(1, 2))))
        if r.random() < 0.4:
            preds.append("mail.cleartext_messages:>=%d" % r.choice([1, 10, 100]))
        if r.random() < 0.3:
            preds.append("mail.login.result:%s" % r.choice(["success", "failure", "unknown"]))
        direction = "<>" if r.random() < 0.15 else "->"
        ports = r.sample(STARTTLS_PORTS[proto], r.randint(1, len(STARTTLS_PORTS[proto])))
        ports = "any" if r.random() < 0.3 else "[%s]" % ",".join(map(str, sorted(ports)))
        header = "alert %s %s any %s %s %s" % (proto, self.net(), direction, self.dst_set(), ports)
        return self.rule(header, "LOCAL %s: %s from a branch network" % (self.name(i), st),
                         "; ".join(preds), STARTTLS_CLASS[st])

    KINDS = [  # (method, share of N)
        ("k_pass_server", 0.18), ("k_user", 0.20), ("k_sni", 0.15), ("k_cert", 0.13),
        ("k_version", 0.09), ("k_cipher", 0.11), ("k_mix", 0.14),
    ]

    def generate(self, n):
        out = []
        m = MATCHING[:max(0, min(len(MATCHING), n // 100))] if n < 1000 else MATCHING
        for header, msg, preds, cls, extra in m:
            out.append(self.rule(header, msg, preds, cls, extra))
        left = n - len(out)
        counts = [int(left * share) for _, share in self.KINDS]
        counts[1] += left - sum(counts)
        plan = [k for (k, _), c in zip(self.KINDS, counts) for _ in range(c)]
        self.r.shuffle(plan)
        for i, k in enumerate(plan):
            out.append(getattr(self, k)(i))
        return m, out


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: mkrules.py OUT.rules N [SEED]")
    path, n = sys.argv[1], int(sys.argv[2])
    seed = int(sys.argv[3]) if len(sys.argv) == 4 else 1
    g = Gen(seed)
    matching, rules = g.generate(n)
    alert_sids = [sid for sid, text in rules[len(matching):] if text.startswith("alert")]
    with open(path, "w") as fh:
        fh.write("# %d generated site rules (tests/mkrules.py, seed %d), sids %d-%d.\n"
                 % (n, seed, SID0, SID0 + n - 1))
        fh.write("# The first %d are about facts the benchmark capture has; the rest are not.\n"
                 % len(matching))
        for _, text in rules:
            fh.write(text + "\n")
        if rules:
            fh.write("\n# suppressions\n")
        if matching:  # half of alice's alerts: copies whose client is in 10.77.0.0/16
            fh.write("suppress gen_id 1, sig_id %d, track by_src, ip 10.77.0.0/16\n" % rules[0][0])
        r = random.Random(seed + 1)
        for sid in r.sample(alert_sids, min(8, len(alert_sids))):
            if r.random() < 0.5:
                fh.write("suppress gen_id 1, sig_id %d\n" % sid)
            else:
                fh.write("suppress gen_id 1, sig_id %d, track %s, ip %s\n"
                         % (sid, r.choice(["by_src", "by_dst"]), g.net()))
    print("%s: %d rules, sids %d-%d" % (path, n, SID0, SID0 + n - 1))


if __name__ == "__main__":
    main()

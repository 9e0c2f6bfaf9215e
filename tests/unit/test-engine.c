/*
 * test-engine.c — does a rule hold for a session? Every comparison on
 * every type, absent facts, sets, logins, addresses, ports, direction and
 * protocol; and the index against evaluating every rule, on random rules
 * and random sessions.
 */
#include "engine-harness.h"

/* ---- every comparison ------------------------------------------------------ */

enum fk { ABSENT, NUM, STR };

struct cmp_case {
    const char *pred;  /* the predicate as written */
    enum rule_field f; /* the fact it tests */
    enum fk kind;      /* the session's fact: absent, a number, a text */
    int64_t num;       /* NUM */
    const char *str;   /* STR */
    bool want;         /* the rule holds */
};

#define W(n)                                                                                       \
    (1LL << (n)) /* a cipher_weakness member: null 0 export 1 anon 2 des 3 3des 4                  \
                    rc4 5 md5 6 rc2 7 idea 8 no-forward-secrecy 9 cbc 10 */

static const struct cmp_case CMP[] = {
    /* bool */
    {"tls.cert.expired", RULE_F_TLS_CERT_EXPIRED, NUM, 1, NULL, true},
    {"tls.cert.expired", RULE_F_TLS_CERT_EXPIRED, NUM, 0, NULL, false},
    {"tls.cert.expired", RULE_F_TLS_CERT_EXPIRED, ABSENT, 0, NULL, false},
    {"tls.cert.expired:false", RULE_F_TLS_CERT_EXPIRED, NUM, 0, NULL, true},
    {"tls.cert.expired:false", RULE_F_TLS_CERT_EXPIRED, NUM, 1, NULL, false},
    {"tls.cert.expired:false", RULE_F_TLS_CERT_EXPIRED, ABSENT, 0, NULL, false},
    {"tls.cert.expired:!true", RULE_F_TLS_CERT_EXPIRED, NUM, 0, NULL, true},
    {"tls.cert.expired:!true", RULE_F_TLS_CERT_EXPIRED, ABSENT, 0, NULL, false},
    {"tls.cert.expired:absent", RULE_F_TLS_CERT_EXPIRED, ABSENT, 0, NULL, true},
    {"tls.cert.expired:absent", RULE_F_TLS_CERT_EXPIRED, NUM, 0, NULL, false},
    {"tls.cert.expired:present", RULE_F_TLS_CERT_EXPIRED, NUM, 0, NULL, true},
    {"tls.cert.expired:present", RULE_F_TLS_CERT_EXPIRED, ABSENT, 0, NULL, false},
    {"tls.cert.trusted:false", RULE_F_TLS_CERT_TRUSTED, ABSENT, 0, NULL, false},
    /* enum: implicit 0 upgraded 1 failed 2 refused 3 stripped 4 offered-unused 5 not-offered 6 */
    {"mail.starttls:refused", RULE_F_MAIL_STARTTLS, NUM, 3, NULL, true},
    {"mail.starttls:REFUSED", RULE_F_MAIL_STARTTLS, NUM, 3, NULL, true},
    {"mail.starttls:refused", RULE_F_MAIL_STARTTLS, NUM, 2, NULL, false},
    {"mail.starttls:refused", RULE_F_MAIL_STARTTLS, ABSENT, 0, NULL, false},
    {"mail.starttls:!refused", RULE_F_MAIL_STARTTLS, NUM, 2, NULL, true},
    {"mail.starttls:!refused", RULE_F_MAIL_STARTTLS, NUM, 3, NULL, false},
    {"mail.starttls:!refused", RULE_F_MAIL_STARTTLS, ABSENT, 0, NULL, false},
    {"mail.starttls:[refused,failed]", RULE_F_MAIL_STARTTLS, NUM, 2, NULL, true},
    {"mail.starttls:[refused,failed]", RULE_F_MAIL_STARTTLS, NUM, 3, NULL, true},
    {"mail.starttls:[refused,failed]", RULE_F_MAIL_STARTTLS, NUM, 4, NULL, false},
    {"mail.starttls:![refused,failed]", RULE_F_MAIL_STARTTLS, NUM, 4, NULL, true},
    {"mail.starttls:![refused,failed]", RULE_F_MAIL_STARTTLS, NUM, 2, NULL, false},
    {"mail.starttls:![refused,failed]", RULE_F_MAIL_STARTTLS, ABSENT, 0, NULL, false},
    {"mail.starttls", RULE_F_MAIL_STARTTLS, NUM, 0, NULL, true},
    {"mail.starttls", RULE_F_MAIL_STARTTLS, ABSENT, 0, NULL, false},
    {"mail.starttls:absent", RULE_F_MAIL_STARTTLS, ABSENT, 0, NULL, true},
    /* number */
    {"mail.cleartext_messages:>0", RULE_F_MAIL_CLEARTEXT_MESSAGES, NUM, 1, NULL, true},
    {"mail.cleartext_messages:>0", RULE_F_MAIL_CLEARTEXT_MESSAGES, NUM, 0, NULL, false},
    {"mail.cleartext_messages:>0", RULE_F_MAIL_CLEARTEXT_MESSAGES, ABSENT, 0, NULL, false},
    {"mail.cleartext_messages:>=2", RULE_F_MAIL_CLEARTEXT_MESSAGES, NUM, 2, NULL, true},
    {"mail.cleartext_messages:>=2", RULE_F_MAIL_CLEARTEXT_MESSAGES, NUM, 1, NULL, false},
    {"mail.cleartext_messages:<2", RULE_F_MAIL_CLEARTEXT_MESSAGES, NUM, 1, NULL, true},
    {"mail.cleartext_messages:<2", RULE_F_MAIL_CLEARTEXT_MESSAGES, NUM, 2, NULL, false},
    {"mail.cleartext_messages:<=2", RULE_F_MAIL_CLEARTEXT_MESSAGES, NUM, 2, NULL, true},
    {"mail.cleartext_messages:<=2", RULE_F_MAIL_CLEARTEXT_MESSAGES, NUM, 3, NULL, false},
    {"mail.cleartext_messages:3", RULE_F_MAIL_CLEARTEXT_MESSAGES, NUM, 3, NULL, true},
    {"mail.cleartext_messages:3", RULE_F_MAIL_CLEARTEXT_MESSAGES, NUM, 4, NULL, false},
    {"mail.cleartext_messages:!3", RULE_F_MAIL_CLEARTEXT_MESSAGES, NUM, 4, NULL, true},
    {"mail.cleartext_messages:!3", RULE_F_MAIL_CLEARTEXT_MESSAGES, NUM, 3, NULL, false},
    {"mail.cleartext_messages:[1,5]", RULE_F_MAIL_CLEARTEXT_MESSAGES, NUM, 5, NULL, true},
    {"mail.cleartext_messages:[1,5]", RULE_F_MAIL_CLEARTEXT_MESSAGES, NUM, 2, NULL, false},
    {"mail.cleartext_messages:![1,5]", RULE_F_MAIL_CLEARTEXT_MESSAGES, NUM, 2, NULL, true},
    {"tls.alert.description:40", RULE_F_TLS_ALERT_DESCRIPTION, NUM, 40, NULL, true},
    {"tls.cert.key_bits:<2048", RULE_F_TLS_CERT_KEY_BITS, NUM, 1024, NULL, true},
    {"tls.cert.key_bits:<2048", RULE_F_TLS_CERT_KEY_BITS, NUM, 2048, NULL, false},
    /* duration (days) */
    {"tls.cert.days_left:<30d", RULE_F_TLS_CERT_DAYS_LEFT, NUM, 29, NULL, true},
    {"tls.cert.days_left:<30d", RULE_F_TLS_CERT_DAYS_LEFT, NUM, 30, NULL, false},
    {"tls.cert.days_left:<30d", RULE_F_TLS_CERT_DAYS_LEFT, NUM, -5, NULL, true},
    {"tls.cert.days_left:<30d", RULE_F_TLS_CERT_DAYS_LEFT, ABSENT, 0, NULL, false},
    {"tls.cert.days_left:<48h", RULE_F_TLS_CERT_DAYS_LEFT, NUM, 1, NULL, true},
    {"tls.cert.days_left:<48h", RULE_F_TLS_CERT_DAYS_LEFT, NUM, 2, NULL, false},
    {"tls.cert.days_left:>=-1", RULE_F_TLS_CERT_DAYS_LEFT, NUM, -1, NULL, true},
    {"tls.cert.days_left:>=-1", RULE_F_TLS_CERT_DAYS_LEFT, NUM, -2, NULL, false},
    {"tls.cert.days_left:>7", RULE_F_TLS_CERT_DAYS_LEFT, NUM, 8, NULL, true},
    /* version: sslv2 0 sslv3 1 tls1.0 2 tls1.1 3 tls1.2 4 tls1.3 5 */
    {"tls.version:<tls1.2", RULE_F_TLS_VERSION, NUM, 3, NULL, true},
    {"tls.version:<tls1.2", RULE_F_TLS_VERSION, NUM, 0, NULL, true},
    {"tls.version:<tls1.2", RULE_F_TLS_VERSION, NUM, 4, NULL, false},
    {"tls.version:<tls1.2", RULE_F_TLS_VERSION, ABSENT, 0, NULL, false},
    {"tls.version:>=tls1.2", RULE_F_TLS_VERSION, NUM, 5, NULL, true},
    {"tls.version:>=tls1.2", RULE_F_TLS_VERSION, NUM, 3, NULL, false},
    {"tls.version:>tls1.2", RULE_F_TLS_VERSION, NUM, 5, NULL, true},
    {"tls.version:>tls1.2", RULE_F_TLS_VERSION, NUM, 4, NULL, false},
    {"tls.version:<=sslv3", RULE_F_TLS_VERSION, NUM, 1, NULL, true},
    {"tls.version:<=sslv3", RULE_F_TLS_VERSION, NUM, 2, NULL, false},
    {"tls.version:tls1.0", RULE_F_TLS_VERSION, NUM, 2, NULL, true},
    {"tls.version:[sslv3,TLSv1.1]", RULE_F_TLS_VERSION, NUM, 1, NULL, true},
    {"tls.version:[sslv3,TLSv1.1]", RULE_F_TLS_VERSION, NUM, 3, NULL, true},
    {"tls.version:[sslv3,TLSv1.1]", RULE_F_TLS_VERSION, NUM, 2, NULL, false},
    {"tls.version:!tls1.3", RULE_F_TLS_VERSION, NUM, 4, NULL, true},
    {"tls.version:!tls1.3", RULE_F_TLS_VERSION, ABSENT, 0, NULL, false},
    {"tls.client_max_version:<tls1.2", RULE_F_TLS_CLIENT_MAX_VERSION, NUM, 2, NULL, true},
    /* set */
    {"tls.cipher_weakness:rc4", RULE_F_TLS_CIPHER_WEAKNESS, NUM, W(5), NULL, true},
    {"tls.cipher_weakness:rc4", RULE_F_TLS_CIPHER_WEAKNESS, NUM, W(5) | W(9), NULL, true},
    {"tls.cipher_weakness:rc4", RULE_F_TLS_CIPHER_WEAKNESS, NUM, W(4), NULL, false},
    {"tls.cipher_weakness:rc4", RULE_F_TLS_CIPHER_WEAKNESS, NUM, 0, NULL, false},
    {"tls.cipher_weakness:rc4", RULE_F_TLS_CIPHER_WEAKNESS, ABSENT, 0, NULL, false},
    {"tls.cipher_weakness:[rc4,3des]", RULE_F_TLS_CIPHER_WEAKNESS, NUM, W(4), NULL, true},
    {"tls.cipher_weakness:[rc4,3des]", RULE_F_TLS_CIPHER_WEAKNESS, NUM, W(9), NULL, false},
    {"tls.cipher_weakness:!rc4", RULE_F_TLS_CIPHER_WEAKNESS, NUM, W(9), NULL, true},
    {"tls.cipher_weakness:!rc4", RULE_F_TLS_CIPHER_WEAKNESS, NUM, W(5) | W(9), NULL, false},
    {"tls.cipher_weakness:!rc4", RULE_F_TLS_CIPHER_WEAKNESS, NUM, 0, NULL, false},
    {"tls.cipher_weakness:![rc4,3des]", RULE_F_TLS_CIPHER_WEAKNESS, NUM, W(10), NULL, true},
    {"tls.cipher_weakness:![rc4,3des]", RULE_F_TLS_CIPHER_WEAKNESS, NUM, W(4) | W(10), NULL, false},
    {"tls.cipher_weakness", RULE_F_TLS_CIPHER_WEAKNESS, NUM, W(9), NULL, true},
    {"tls.cipher_weakness", RULE_F_TLS_CIPHER_WEAKNESS, NUM, 0, NULL, false},
    {"tls.cipher_weakness:absent", RULE_F_TLS_CIPHER_WEAKNESS, NUM, 0, NULL, true},
    {"tls.cipher_weakness:absent", RULE_F_TLS_CIPHER_WEAKNESS, ABSENT, 0, NULL, true},
    {"tls.cipher_weakness:absent", RULE_F_TLS_CIPHER_WEAKNESS, NUM, W(9), NULL, false},
    /* strings: tls.sni ignores ASCII case (RFC 4343), subjects do not */
    {"tls.sni:\"Mail.Example.ORG\"", RULE_F_TLS_SNI, STR, 0, "mail.example.org", true},
    {"tls.sni:\"mail.example.org\"", RULE_F_TLS_SNI, STR, 0, "mail.example.org.", false},
    {"tls.sni:\"mail.example.org\"", RULE_F_TLS_SNI, ABSENT, 0, NULL, false},
    {"tls.sni:[a.example,b.example]", RULE_F_TLS_SNI, STR, 0, "B.EXAMPLE", true},
    {"tls.sni:[a.example,b.example]", RULE_F_TLS_SNI, STR, 0, "c.example", false},
    {"tls.sni:!\"a.example\"", RULE_F_TLS_SNI, STR, 0, "b.example", true},
    {"tls.sni:!\"a.example\"", RULE_F_TLS_SNI, STR, 0, "A.example", false},
    {"tls.sni:![a.example,b.example]", RULE_F_TLS_SNI, STR, 0, "c.example", true},
    {"tls.sni:absent", RULE_F_TLS_SNI, ABSENT, 0, NULL, true},
    {"tls.sni:\"absent\"", RULE_F_TLS_SNI, STR, 0, "absent", true},
    {"tls.sni:\"absent\"", RULE_F_TLS_SNI, ABSENT, 0, NULL, false},
    {"tls.cert.subject:\"CN=x\"", RULE_F_TLS_CERT_SUBJECT, STR, 0, "CN=x", true},
    {"tls.cert.subject:\"CN=x\"", RULE_F_TLS_CERT_SUBJECT, STR, 0, "cn=x", false},
    {"tls.cert.subject:present", RULE_F_TLS_CERT_SUBJECT, STR, 0, "", true},
    {"tls.cert.issuer:absent", RULE_F_TLS_CERT_ISSUER, ABSENT, 0, NULL, true},
    {"tls.cipher:\"TLS_RSA_WITH_RC4_128_SHA\"", RULE_F_TLS_CIPHER, STR, 0,
     "TLS_RSA_WITH_RC4_128_SHA", true},
    {"tls.cipher:\"TLS_RSA_WITH_RC4_128_SHA\"", RULE_F_TLS_CIPHER, STR, 0,
     "tls_rsa_with_rc4_128_sha", false},
    /* enum fields of the session */
    {"mail.port_class:[submission,access]", RULE_F_MAIL_PORT_CLASS, NUM, 2, NULL, true},
    {"mail.port_class:[submission,access]", RULE_F_MAIL_PORT_CLASS, NUM, 0, NULL, false},
    {"tls.from_proto:imap", RULE_F_TLS_FROM_PROTO, NUM, 2, NULL, true},
    {"tls.from_proto:absent", RULE_F_TLS_FROM_PROTO, ABSENT, 0, NULL, true},
};

TEST(every_comparison_on_every_type)
{
    for (size_t i = 0; i < sizeof CMP / sizeof CMP[0]; i++) {
        const struct cmp_case *c = &CMP[i];
        char text[512];
        snprintf(text, sizeof text,
                 "alert any any any -> any any (msg:\"m\"; %s; classtype:cleartext-mail; "
                 "sid:1;)\n",
                 c->pred);
        struct rule_engine *e = engine_from(text);
        struct rule_facts f;
        facts_ends(&f, "192.0.2.1", 40000, "198.51.100.25", 25);
        facts_mail(&f, RULE_PROTO_SMTP);
        f.is_tls = true;
        if (c->kind == NUM)
            fact_num(&f, c->f, c->num);
        else if (c->kind == STR)
            fact_str(&f, c->f, c->str);
        const struct rule *r = ruleset_rule(rule_engine_ruleset(e), 0);
        if (rule_matches(r, &f) != c->want)
            TEST_FAIL("case %zu: %s on %s%lld%s: expected %s", i, c->pred,
                      c->kind == ABSENT ? "an absent fact" : "", (long long)c->num,
                      c->str ? c->str : "", c->want ? "a match" : "no match");
        /* the index must let the same sessions through as the rule itself */
        ASSERT_STREQ(match_sids(e, NULL, &f, 0, NULL), c->want ? "1" : "");
        rule_engine_free(e);
    }
}

/* ---- logins: every mail.login.* predicate of a rule holds for one attempt ---- */

TEST(login_predicates_hold_for_one_attempt)
{
    struct rule_engine *e =
        engine_from("alert smtp any any -> any any (msg:\"a\"; mail.login.cleartext; "
                    "mail.login.result:success; "
                    "classtype:cleartext-login; sid:1;)\n"
                    "alert smtp any any -> any any (msg:\"b\"; mail.login.user:\"bob\"; "
                    "mail.login.mechanism:plain; classtype:cleartext-login; sid:2;)\n"
                    "alert smtp any any -> any any (msg:\"c\"; mail.login.user:absent; "
                    "classtype:cleartext-login; sid:3;)\n"
                    "alert smtp any any -> any any (msg:\"d\"; mail.login:false; "
                    "classtype:cleartext-login; sid:4;)\n"
                    "alert smtp any any -> any any (msg:\"e\"; mail.login.cleartext:false; "
                    "classtype:cleartext-login; sid:5;)\n");
    struct rule_facts f;
    struct rule_login_facts l[2];
    facts_ends(&f, "192.0.2.1", 40000, "198.51.100.25", 587);
    facts_mail(&f, RULE_PROTO_SMTP);
    /* a cleartext attempt that failed, then a hashed one that succeeded: no 1 */
    login_set(&l[0], "LOGIN", true, false, RULE_LOGIN_FAILURE, "alice");
    login_set(&l[1], "CRAM-MD5", false, false, RULE_LOGIN_SUCCESS, "bob");
    f.logins = l;
    f.n_logins = 2;
    fact_num(&f, RULE_F_MAIL_LOGIN, 1);
    ASSERT_STREQ(match_sids(e, NULL, &f, 0, NULL), "5"); /* bob used CRAM-MD5, not PLAIN */
    login_set(&l[1], "PLAIN", true, false, RULE_LOGIN_SUCCESS, "bob");
    ASSERT_STREQ(match_sids(e, NULL, &f, 0, NULL), "1,2");
    /* no attempt at all: the login facts are absent */
    f.n_logins = 0;
    fact_num(&f, RULE_F_MAIL_LOGIN, 0);
    ASSERT_STREQ(match_sids(e, NULL, &f, 0, NULL), "3,4");
    rule_engine_free(e);
}

/* ---- addresses, ports, direction, protocol --------------------------------- */

TEST(addresses_ports_and_direction)
{
    struct rule_engine *e = engine_from(
        "alert smtp 10.0.0.0/8 any -> 192.0.2.1 25 (msg:\"a\"; classtype:cleartext-mail; sid:1;)\n"
        "alert smtp 10.0.0.0/8 any <> 192.0.2.1 25 (msg:\"b\"; classtype:cleartext-mail; sid:2;)\n"
        "alert smtp any any -> [2001:db8::/32] [25,587] (msg:\"c\"; classtype:cleartext-mail; "
        "sid:3;)\n"
        "alert smtp any any -> any !25 (msg:\"d\"; classtype:cleartext-mail; sid:4;)\n"
        "alert smtp ![10.0.0.0/8,192.0.2.0/24] 1024: -> any any (msg:\"e\"; "
        "classtype:cleartext-mail; sid:5;)\n");
    struct rule_facts f;
    facts_ends(&f, "10.1.1.1", 40000, "192.0.2.1", 25);
    facts_mail(&f, RULE_PROTO_SMTP);
    ASSERT_STREQ(match_sids(e, NULL, &f, 0, NULL), "1,2");
    facts_ends(&f, "10.1.1.1", 40000, "192.0.2.1", 587);
    facts_mail(&f, RULE_PROTO_SMTP);
    ASSERT_STREQ(match_sids(e, NULL, &f, 0, NULL), "4");
    facts_ends(&f, "11.1.1.1", 40000, "192.0.2.1", 25);
    facts_mail(&f, RULE_PROTO_SMTP);
    ASSERT_STREQ(match_sids(e, NULL, &f, 0, NULL), "5");
    /* the server in 10/8, the client 192.0.2.1:25: only "<>" holds */
    facts_ends(&f, "192.0.2.1", 25, "10.1.1.1", 40000);
    facts_mail(&f, RULE_PROTO_SMTP);
    ASSERT_STREQ(match_sids(e, NULL, &f, 0, NULL), "2,4");
    facts_ends(&f, "2001:db9::1", 1000, "2001:db8::25", 587);
    facts_mail(&f, RULE_PROTO_SMTP);
    ASSERT_STREQ(match_sids(e, NULL, &f, 0, NULL), "3,4");
    facts_ends(&f, "2001:db9::1", 1000, "2001:db9::25", 587);
    facts_mail(&f, RULE_PROTO_SMTP);
    ASSERT_STREQ(match_sids(e, NULL, &f, 0, NULL), "4");
    rule_engine_free(e);
}

TEST(protocols_select_sessions)
{
    struct rule_engine *e =
        engine_from("alert smtp any any -> any any (msg:\"a\"; classtype:cleartext-mail; sid:1;)\n"
                    "alert pop3 any any -> any any (msg:\"b\"; classtype:cleartext-mail; sid:2;)\n"
                    "alert imap any any -> any any (msg:\"c\"; classtype:cleartext-mail; sid:3;)\n"
                    "alert mail any any -> any any (msg:\"d\"; classtype:cleartext-mail; sid:4;)\n"
                    "alert tls any any -> any any (msg:\"e\"; classtype:cleartext-mail; sid:5;)\n"
                    "alert any any any -> any any (msg:\"f\"; classtype:cleartext-mail; sid:6;)\n");
    struct rule_facts f;
    facts_ends(&f, "10.1.1.1", 40000, "192.0.2.1", 143);
    facts_mail(&f, RULE_PROTO_IMAP);
    ASSERT_STREQ(match_sids(e, NULL, &f, 0, NULL), "3,4,6");
    f.is_tls = true; /* IMAP after STARTTLS */
    ASSERT_STREQ(match_sids(e, NULL, &f, 0, NULL), "3,4,5,6");
    facts_ends(&f, "10.1.1.1", 40000, "192.0.2.1", 443);
    f.is_tls = true; /* TLS on another port, no mail */
    ASSERT_STREQ(match_sids(e, NULL, &f, 0, NULL), "5,6");
    facts_ends(&f, "10.1.1.1", 40000, "192.0.2.1", 443);
    ASSERT_STREQ(match_sids(e, NULL, &f, 0, NULL), ""); /* neither: no session */
    rule_engine_free(e);
}

/* ---- the index lets through exactly what evaluating every rule would --------- */

static uint64_t rnd_state = 0x9e3779b97f4a7c15ULL;
static unsigned rnd(unsigned n)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return (unsigned)(rnd_state % n);
}

static const char *const ST[] = {"implicit", "upgraded",       "failed",     "refused",
                                 "stripped", "offered-unused", "not-offered"};
static const char *const VER[] = {"sslv2", "sslv3", "tls1.0", "tls1.1", "tls1.2", "tls1.3"};
static const char *const WK[] = {"null", "export", "anon", "des",  "3des",
                                 "rc4",  "md5",    "rc2",  "idea", "no-forward-secrecy",
                                 "cbc"};
static const char *const MECH[] = {"PLAIN", "LOGIN", "USER", "XOAUTH2"};
static const char *const USERS[] = {"u0", "u1", "u2", "u3"};
static const char *const SNIS[] = {"h0.example", "H1.example", "h2.example"};
static const char *const CIPH[] = {"TLS_RSA_WITH_RC4_128_SHA", "TLS_AES_128_GCM_SHA256"};
static const char *const OPS[] = {"<", "<=", ">", ">=", "", "!"};

static void random_pred(char *b, size_t n)
{
    switch (rnd(24)) {
    case 0:
        snprintf(b, n, "mail.starttls:%s", ST[rnd(7)]);
        break;
    case 1:
        snprintf(b, n, "mail.starttls:![%s,%s]", ST[rnd(7)], ST[rnd(7)]);
        break;
    case 2:
        snprintf(b, n, "mail.starttls:absent");
        break;
    case 3:
        snprintf(b, n, "mail.login%s", rnd(2) ? "" : ":false");
        break;
    case 4:
        snprintf(b, n, "mail.login.mechanism:[%s,%s]", MECH[rnd(4)], MECH[rnd(4)]);
        break;
    case 5:
        snprintf(b, n, "mail.login.cleartext%s", rnd(2) ? "" : ":false");
        break;
    case 6:
        snprintf(b, n, "mail.login.result:%s%s", rnd(2) ? "!" : "", rnd(2) ? "success" : "failure");
        break;
    case 7:
        snprintf(b, n, "mail.login.user:\"%s\"", USERS[rnd(4)]);
        break;
    case 8:
        snprintf(b, n, "mail.login.user:absent");
        break;
    case 9:
        snprintf(b, n, "mail.cleartext_messages:%s%u", OPS[rnd(6)], rnd(3));
        break;
    case 10:
        snprintf(b, n, "tls.version:%s%s", OPS[rnd(6)], VER[rnd(6)]);
        break;
    case 11:
        snprintf(b, n, "tls.version:%s", rnd(2) ? "absent" : "present");
        break;
    case 12:
        snprintf(b, n, "tls.client_max_version:%s%s", OPS[rnd(6)], VER[rnd(6)]);
        break;
    case 13:
        snprintf(b, n, "tls.cipher:\"%s\"", CIPH[rnd(2)]);
        break;
    case 14:
        snprintf(b, n, "tls.cipher_weakness:[%s,%s]", WK[rnd(11)], WK[rnd(11)]);
        break;
    case 15:
        snprintf(b, n, "tls.cipher_weakness:%s%s", rnd(2) ? "!" : "", WK[rnd(11)]);
        break;
    case 16:
        snprintf(b, n, "tls.cipher_weakness:%s", rnd(2) ? "absent" : "present");
        break;
    case 17:
        snprintf(b, n, "tls.sni:\"%s\"", SNIS[rnd(3)]);
        break;
    case 18:
        snprintf(b, n, "tls.sni:%s", rnd(2) ? "absent" : "present");
        break;
    case 19:
        snprintf(b, n, "tls.cert.expired%s", rnd(2) ? "" : ":false");
        break;
    case 20:
        snprintf(b, n, "tls.cert.trusted:%s", rnd(2) ? "false" : "absent");
        break;
    case 21:
        snprintf(b, n, "tls.cert.days_left:%s%dd", OPS[rnd(4)], (int)rnd(60) - 10);
        break;
    case 22:
        snprintf(b, n, "tls.from_proto:%s", rnd(2) ? "smtp" : "absent");
        break;
    default:
        snprintf(b, n, "mail.port_class:[relay,%s]", rnd(2) ? "access" : "other");
        break;
    }
}

struct sb_text {
    char s[1024]; /* one rule */
};

static void random_rule(struct sb_text *t, unsigned sid)
{
    static const char *const PROTO[] = {"smtp", "pop3", "imap", "tls", "mail", "any"};
    static const char *const DST[] = {"any",         "10.0.0.1",  "[10.0.0.1,10.0.0.2]",
                                      "10.0.0.0/30", "!10.0.0.3", "[2001:db8::1,10.0.0.2]"};
    static const char *const PORT[] = {"any", "25", "[25,587]", "!25", "100:200"};
    char preds[600] = "";
    size_t at = 0;
    unsigned np = rnd(4);
    for (unsigned i = 0; i < np; i++) {
        char p[128];
        random_pred(p, sizeof p);
        at += (size_t)snprintf(preds + at, sizeof preds - at, "%s; ", p);
    }
    snprintf(t->s, sizeof t->s,
             "%s %s any any %s %s %s (msg:\"r\"; %sclasstype:cleartext-mail; priority:%u; "
             "sid:%u;)\n",
             rnd(40) == 0 ? "pass" : "alert", PROTO[rnd(6)], rnd(8) ? "->" : "<>", DST[rnd(6)],
             PORT[rnd(5)], preds, 1 + rnd(4), sid);
}

static void random_facts(struct rule_facts *f, struct rule_login_facts *l)
{
    static const char *const ADDR[] = {"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.9"};
    static const uint16_t PORTS[] = {25, 587, 150, 993};
    if (rnd(6) == 0)
        facts_ends(f, "2001:db8::9", 40000, rnd(2) ? "2001:db8::1" : "2001:db8::2", PORTS[rnd(4)]);
    else
        facts_ends(f, ADDR[rnd(4)], (uint16_t)(rnd(2) ? 40000 : 25), ADDR[rnd(4)], PORTS[rnd(4)]);
    if (rnd(3)) {
        facts_mail(f, (enum rule_proto)rnd(3));
        if (rnd(5))
            fact_num(f, RULE_F_MAIL_STARTTLS, rnd(7));
        fact_num(f, RULE_F_MAIL_PORT_CLASS, rnd(5));
        fact_num(f, RULE_F_MAIL_CLEARTEXT_MESSAGES, rnd(3));
        f->n_logins = rnd(4);
        for (size_t i = 0; i < f->n_logins; i++)
            login_set(&l[i], MECH[rnd(4)], rnd(2), rnd(2), (enum rule_login_result)rnd(3),
                      USERS[rnd(4)]);
        f->logins = l;
        fact_num(f, RULE_F_MAIL_LOGIN, f->n_logins > 0);
    }
    if (rnd(2) || !f->is_mail) {
        f->is_tls = true;
        if (rnd(4))
            fact_num(f, RULE_F_TLS_VERSION, rnd(6));
        if (rnd(4))
            fact_num(f, RULE_F_TLS_CLIENT_MAX_VERSION, rnd(6));
        if (rnd(3))
            fact_str(f, RULE_F_TLS_CIPHER, CIPH[rnd(2)]);
        if (rnd(3))
            fact_num(f, RULE_F_TLS_CIPHER_WEAKNESS, (int64_t)(rnd(1u << 11) & rnd(1u << 11)));
        if (rnd(3))
            fact_str(f, RULE_F_TLS_SNI, SNIS[rnd(3)]);
        if (rnd(2))
            fact_num(f, RULE_F_TLS_CERT_EXPIRED, rnd(2));
        if (rnd(2))
            fact_num(f, RULE_F_TLS_CERT_TRUSTED, rnd(2));
        if (rnd(2))
            fact_num(f, RULE_F_TLS_CERT_DAYS_LEFT, (int64_t)rnd(80) - 20);
        if (rnd(2))
            fact_num(f, RULE_F_TLS_FROM_PROTO, rnd(3));
    }
}

static int by_urgency(const void *a, const void *b)
{
    const struct rule *x = *(const struct rule *const *)a, *y = *(const struct rule *const *)b;
    if (x->priority != y->priority)
        return x->priority < y->priority ? -1 : 1;
    return x->sid < y->sid ? -1 : x->sid > y->sid;
}

TEST(index_agrees_with_evaluating_every_rule)
{
    enum { N_RULES = 800, N_SESSIONS = 4000 };
    static char text[N_RULES * 1024];
    size_t at = 0;
    for (unsigned i = 0; i < N_RULES; i++) {
        struct sb_text t;
        random_rule(&t, i + 1);
        size_t k = strlen(t.s);
        memcpy(text + at, t.s, k);
        at += k;
    }
    text[at] = '\0';
    struct rule_engine *e = engine_from(text);
    const struct ruleset *rs = rule_engine_ruleset(e);
    ASSERT_EQ(ruleset_len(rs), N_RULES);
    struct rule_match_stats ms = {0};
    size_t total = 0, n_pass = 0;
    for (unsigned s = 0; s < N_SESSIONS; s++) {
        struct rule_facts f;
        struct rule_login_facts l[4];
        random_facts(&f, l);
        const struct rule *want[N_RULES];
        size_t nw = 0;
        bool pass = false;
        for (size_t i = 0; i < N_RULES; i++) {
            const struct rule *r = ruleset_rule(rs, i);
            if (!rule_matches(r, &f))
                continue;
            if (r->action == RULE_ACTION_PASS)
                pass = true;
            else
                want[nw++] = r;
        }
        if (pass)
            nw = 0;
        n_pass += pass;
        qsort(want, nw, sizeof want[0], by_urgency);
        if (nw > RULES_MAX_ALERTS_PER_SESSION)
            nw = RULES_MAX_ALERTS_PER_SESSION;
        const struct rule *got[RULES_MAX_ALERTS_PER_SESSION];
        size_t ng = rule_engine_match(e, NULL, &f, 0, got, RULES_MAX_ALERTS_PER_SESSION, &ms);
        if (ng != nw)
            TEST_FAIL("session %u: %zu alerts, every rule evaluated gives %zu", s, ng, nw);
        for (size_t i = 0; i < ng; i++)
            if (got[i] != want[i])
                TEST_FAIL("session %u: alert %zu is sid %u, expected sid %u", s, i, got[i]->sid,
                          want[i]->sid);
        total += ng;
    }
    /* the test means something: alerts, passes, and the index did skip rules */
    ASSERT(total > N_SESSIONS);
    ASSERT(n_pass > 10);
    ASSERT(ms.evaluated < (uint64_t)N_SESSIONS * N_RULES / 2);
    rule_engine_free(e);
}

TEST(many_rules_about_other_servers_are_not_evaluated)
{
    /* 10,000 rules, each about one server, user or name: a session looks at a handful */
    enum { N = 10000 };
    static char text[N * 160];
    size_t at = 0;
    for (unsigned i = 0; i < N; i++) {
        unsigned a = i / 250, b = i % 250;
        switch (i % 3) {
        case 0:
            at += (size_t)snprintf(text + at, sizeof text - at,
                                   "pass smtp any any -> 10.9.%u.%u 25 (msg:\"ok\"; "
                                   "classtype:cleartext-mail; sid:%u;)\n",
                                   a, b, i + 1);
            break;
        case 1:
            at += (size_t)snprintf(text + at, sizeof text - at,
                                   "alert mail any any -> any any (msg:\"u\"; mail.login.user:"
                                   "\"user%u\"; classtype:cleartext-login; sid:%u;)\n",
                                   i, i + 1);
            break;
        default:
            at += (size_t)snprintf(
                text + at, sizeof text - at,
                "alert tls any any -> any any (msg:\"s\"; tls.sni:\"h%u.example\"; "
                "classtype:sslv3; sid:%u;)\n",
                i, i + 1);
            break;
        }
    }
    struct rule_engine *e = engine_from(text);
    struct rule_facts f;
    struct rule_login_facts l[1];
    facts_ends(&f, "192.0.2.1", 40000, "10.9.3.7", 25);
    facts_mail(&f, RULE_PROTO_SMTP);
    login_set(&l[0], "PLAIN", true, false, RULE_LOGIN_SUCCESS, "user1000");
    f.logins = l;
    f.n_logins = 1;
    f.is_tls = true;
    fact_str(&f, RULE_F_TLS_SNI, "H5.example");
    struct rule_match_stats ms = {0};
    ASSERT_STREQ(match_sids(e, NULL, &f, 0, &ms), "6,1001");
    ASSERT(ms.evaluated <= 3);
    facts_ends(&f, "192.0.2.1", 40000, "10.9.3.6", 25);
    facts_mail(&f, RULE_PROTO_SMTP);
    f.logins = l;
    f.n_logins = 1;
    ms = (struct rule_match_stats){0};
    /* 10.9.3.6 is rule index 756 (756 % 3 == 0): a pass rule, so no alert */
    ASSERT_STREQ(match_sids(e, NULL, &f, 0, &ms), "");
    ASSERT_EQ(ms.passed, 1);
    ASSERT(ms.evaluated <= 3);
    rule_engine_free(e);
}

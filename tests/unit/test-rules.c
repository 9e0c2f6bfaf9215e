/*
 * test-rules.c — the rule language front end (rules/): grammar, type
 * checks, diagnostics, variables, includes, limits, and the default rule
 * files.
 *
 * The grammar is tested by two tables: valid rules, each with a dump of
 * everything parsed from it, and invalid rules, each with the exact
 * diagnostic lines ("file:line:col: message") it must produce. Files for
 * include and directory tests are made in a fresh directory under /tmp
 * and removed. The default rules are read from rules/ (the tests run
 * from the repository root).
 */
#include "rules-harness.h"

/* ---- valid rules -------------------------------------------------------------- */

struct valid_case {
    const char *rule; /* the text, as in a file */
    const char *dump; /* dump_rule() of what must be parsed */
};

#define OK_CL " classtype:cleartext-login; sid:1;)"
#define ANY "alert smtp any any -> any any "
#define TLS "alert tls any any -> any any "

static const struct valid_case VALID[] = {
    {ANY "(msg:\"x\"; mail.login.cleartext;" OK_CL,
     "alert smtp any any -> any any sid:1 rev:1 class:cleartext-login sev:high prio:1 msg:\"x\" | "
     "mail.login.cleartext true;"},
    {"pass smtp 10.0.0.1 any -> any 25 (msg:\"ok\"; mail.login.cleartext; "
     "classtype:cleartext-login; severity:info; sid:2;)",
     "pass smtp 10.0.0.1 any -> any 25 sid:2 rev:1 class:cleartext-login sev:info prio:4 "
     "msg:\"ok\" | mail.login.cleartext true;"},
    {ANY "(msg:\"r\"; mail.starttls:refused; classtype:starttls-refused; sid:3; rev:2;)",
     "alert smtp any any -> any any sid:3 rev:2 class:starttls-refused sev:medium prio:2 msg:\"r\" "
     "| mail.starttls = refused;"},
    {"alert mail any any -> any any (msg:\"m\"; mail.starttls:!upgraded; "
     "classtype:starttls-failed; sid:4;)",
     "alert mail any any -> any any sid:4 rev:1 class:starttls-failed sev:medium prio:2 msg:\"m\" "
     "| mail.starttls != upgraded;"},
    {"alert mail any any -> any any (msg:\"m\"; mail.port_class:[submission, access]; "
     "classtype:starttls-not-offered; severity:high; sid:5;)",
     "alert mail any any -> any any sid:5 rev:1 class:starttls-not-offered sev:high prio:1 "
     "msg:\"m\" | mail.port_class in submission,access;"},
    {"alert mail any any -> any any (msg:\"m\"; mail.port_class:![relay,other]; "
     "classtype:starttls-stripped; sid:6;)",
     "alert mail any any -> any any sid:6 rev:1 class:starttls-stripped sev:high prio:1 msg:\"m\" "
     "| mail.port_class not in relay,other;"},
    {TLS "(msg:\"s\"; tls.sni:absent; classtype:cert-name-mismatch; sid:7;)",
     "alert tls any any -> any any sid:7 rev:1 class:cert-name-mismatch sev:medium prio:2 "
     "msg:\"s\" | tls.sni absent;"},
    {TLS "(msg:\"s\"; tls.sni:present; classtype:cert-name-mismatch; sid:8;)",
     "alert tls any any -> any any sid:8 rev:1 class:cert-name-mismatch sev:medium prio:2 "
     "msg:\"s\" | tls.sni present;"},
    {TLS "(msg:\"s\"; tls.sni; classtype:cert-name-mismatch; sid:9;)",
     "alert tls any any -> any any sid:9 rev:1 class:cert-name-mismatch sev:medium prio:2 "
     "msg:\"s\" | tls.sni present;"},
    {TLS "(msg:\"s\"; tls.sni:\"a\\\"b\\\\c\\;d\"; classtype:cert-name-mismatch; sid:10;)",
     "alert tls any any -> any any sid:10 rev:1 class:cert-name-mismatch sev:medium prio:2 "
     "msg:\"s\" | tls.sni = \"a\"b\\c;d\";"},
    {ANY "(msg:\"x\"; mail.login.mechanism:PLAIN;" OK_CL,
     "alert smtp any any -> any any sid:1 rev:1 class:cleartext-login sev:high prio:1 msg:\"x\" | "
     "mail.login.mechanism = \"PLAIN\";"},
    {ANY "(msg:\"x\"; mail.login.mechanism:[PLAIN, LOGIN, \"XOAUTH2\"];" OK_CL,
     "alert smtp any any -> any any sid:1 rev:1 class:cleartext-login sev:high prio:1 msg:\"x\" | "
     "mail.login.mechanism in \"PLAIN\",\"LOGIN\",\"XOAUTH2\";"},
    {ANY "(msg:\"x\"; mail.cleartext_messages:>0; classtype:cleartext-mail; sid:13;)",
     "alert smtp any any -> any any sid:13 rev:1 class:cleartext-mail sev:medium prio:2 msg:\"x\" "
     "| mail.cleartext_messages > 0;"},
    {TLS "(msg:\"x\"; tls.alert.description:<=40; classtype:starttls-failed; sid:14;)",
     "alert tls any any -> any any sid:14 rev:1 class:starttls-failed sev:medium prio:2 msg:\"x\" "
     "| tls.alert.description <= 40;"},
    {TLS "(msg:\"x\"; tls.cert.key_bits:1024; classtype:cert-weak-key; sid:15;)",
     "alert tls any any -> any any sid:15 rev:1 class:cert-weak-key sev:medium prio:2 msg:\"x\" | "
     "tls.cert.key_bits = 1024;"},
    {TLS "(msg:\"x\"; tls.alert.description:[40,70]; classtype:starttls-failed; sid:16;)",
     "alert tls any any -> any any sid:16 rev:1 class:starttls-failed sev:medium prio:2 msg:\"x\" "
     "| tls.alert.description in 40,70;"},
    {TLS "(msg:\"x\"; tls.cert.days_left:<30d; classtype:cert-expiring; sid:17;)",
     "alert tls any any -> any any sid:17 rev:1 class:cert-expiring sev:medium prio:2 msg:\"x\" | "
     "tls.cert.days_left < 30d;"},
    {TLS "(msg:\"x\"; tls.cert.days_left:>=48h; classtype:cert-expiring; sid:18;)",
     "alert tls any any -> any any sid:18 rev:1 class:cert-expiring sev:medium prio:2 msg:\"x\" | "
     "tls.cert.days_left >= 2d;"},
    {TLS "(msg:\"x\"; tls.cert.days_left:<-5d; classtype:cert-expired; sid:19;)",
     "alert tls any any -> any any sid:19 rev:1 class:cert-expired sev:high prio:1 msg:\"x\" | "
     "tls.cert.days_left < -5d;"},
    {TLS "(msg:\"x\"; tls.cert.days_left:>7; classtype:cert-expiring; sid:20;)",
     "alert tls any any -> any any sid:20 rev:1 class:cert-expiring sev:medium prio:2 msg:\"x\" | "
     "tls.cert.days_left > 7d;"},
    {TLS "(msg:\"x\"; tls.cert.days_left:<=1440m; tls.cert.days_left:>-86400s; "
         "classtype:cert-expiring; sid:21;)",
     "alert tls any any -> any any sid:21 rev:1 class:cert-expiring sev:medium prio:2 msg:\"x\" | "
     "tls.cert.days_left <= 1d; tls.cert.days_left > -1d;"},
    {TLS "(msg:\"x\"; tls.version:tls1.2; classtype:tls-obsolete; sid:22;)",
     "alert tls any any -> any any sid:22 rev:1 class:tls-obsolete sev:medium prio:2 msg:\"x\" | "
     "tls.version = tls1.2;"},
    {TLS "(msg:\"x\"; tls.version:<tls1.2; classtype:tls-obsolete; sid:23;)",
     "alert tls any any -> any any sid:23 rev:1 class:tls-obsolete sev:medium prio:2 msg:\"x\" | "
     "tls.version < tls1.2;"},
    {TLS "(msg:\"x\"; tls.client_max_version:>=TLSv1.3; classtype:tls-obsolete; sid:24;)",
     "alert tls any any -> any any sid:24 rev:1 class:tls-obsolete sev:medium prio:2 msg:\"x\" | "
     "tls.client_max_version >= tls1.3;"},
    {TLS "(msg:\"x\"; tls.version:[sslv2,SSLv3]; classtype:sslv2; sid:25;)",
     "alert tls any any -> any any sid:25 rev:1 class:sslv2 sev:high prio:1 msg:\"x\" | "
     "tls.version in sslv2,sslv3;"},
    {TLS "(msg:\"x\"; tls.cipher_weakness:rc4; classtype:weak-cipher; sid:26;)",
     "alert tls any any -> any any sid:26 rev:1 class:weak-cipher sev:high prio:1 msg:\"x\" | "
     "tls.cipher_weakness = rc4;"},
    {TLS "(msg:\"x\"; tls.cipher_weakness:!cbc; classtype:weak-cipher; sid:27;)",
     "alert tls any any -> any any sid:27 rev:1 class:weak-cipher sev:high prio:1 msg:\"x\" | "
     "tls.cipher_weakness != cbc;"},
    {TLS "(msg:\"x\"; tls.cipher_weakness:[3des, rc4]; classtype:weak-cipher; sid:28;)",
     "alert tls any any -> any any sid:28 rev:1 class:weak-cipher sev:high prio:1 msg:\"x\" | "
     "tls.cipher_weakness in 3des,rc4;"},
    {TLS "(msg:\"x\"; tls.cert.trusted:false; classtype:cert-untrusted; sid:29;)",
     "alert tls any any -> any any sid:29 rev:1 class:cert-untrusted sev:medium prio:2 msg:\"x\" | "
     "tls.cert.trusted = false;"},
    {TLS "(msg:\"x\"; tls.handshake_complete:!true; classtype:starttls-failed; sid:30;)",
     "alert tls any any -> any any sid:30 rev:1 class:starttls-failed sev:medium prio:2 msg:\"x\" "
     "| tls.handshake_complete != true;"},
    {TLS "(msg:\"f\"; tls.from_proto:smtp; tls.version:tls1.3; classtype:tls-obsolete; sid:31;)",
     "alert tls any any -> any any sid:31 rev:1 class:tls-obsolete sev:medium prio:2 msg:\"f\" | "
     "tls.from_proto = smtp; tls.version = tls1.3;"},
    {ANY "(msg:\"x\"; mail.login.result:failure; mail.login.user:\"alice\";" OK_CL,
     "alert smtp any any -> any any sid:1 rev:1 class:cleartext-login sev:high prio:1 msg:\"x\" | "
     "mail.login.result = failure; mail.login.user = \"alice\";"},
    {"alert smtp [10.0.0.0/8,!10.1.0.0/16] any -> any any (msg:\"x\"; mail.login;" OK_CL,
     "alert smtp 10.0.0.0-10.0.255.255,10.2.0.0-10.255.255.255 any -> any any sid:1 rev:1 "
     "class:cleartext-login sev:high prio:1 msg:\"x\" | mail.login true;"},
    {"alert imap 2001:db8::/32 any -> ::1 143 (msg:\"x\"; mail.login;" OK_CL,
     "alert imap 2001:db8::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff any -> ::1 143 sid:1 rev:1 "
     "class:cleartext-login sev:high prio:1 msg:\"x\" | mail.login true;"},
    {"alert smtp !192.168.0.0/16 any -> any any (msg:\"x\"; mail.login;" OK_CL,
     "alert smtp "
     "0.0.0.0-192.167.255.255,192.169.0.0-255.255.255.255,::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:"
     "ffff any -> any any sid:1 rev:1 class:cleartext-login sev:high prio:1 msg:\"x\" | mail.login "
     "true;"},
    {"alert smtp any [1:1023,!80] -> any [25, 465, 587] (msg:\"x\"; mail.login;" OK_CL,
     "alert smtp any 1-79,81-1023 -> any 25,465,587 sid:1 rev:1 class:cleartext-login sev:high "
     "prio:1 msg:\"x\" | mail.login true;"},
    {"alert smtp any 1024: -> any !25 (msg:\"x\"; mail.login;" OK_CL,
     "alert smtp any 1024-65535 -> any 0-24,26-65535 sid:1 rev:1 class:cleartext-login sev:high "
     "prio:1 msg:\"x\" | mail.login true;"},
    {"alert smtp $HOME_NET any -> $EXTERNAL_NET any (msg:\"x\"; mail.login;" OK_CL,
     "alert smtp any any -> any any sid:1 rev:1 class:cleartext-login sev:high prio:1 msg:\"x\" | "
     "mail.login true;"},
    {"alert smtp any any <> any any (msg:\"x\"; mail.login;" OK_CL,
     "alert smtp any any <> any any sid:1 rev:1 class:cleartext-login sev:high prio:1 msg:\"x\" | "
     "mail.login true;"},
    {ANY "(msg:\"x\"; mail.login; classtype:cleartext-login; priority:3; sid:1;)",
     "alert smtp any any -> any any sid:1 rev:1 class:cleartext-login sev:low prio:3 msg:\"x\" | "
     "mail.login true;"},
    {ANY
     "(msg:\"x\"; mail.login; classtype:cleartext-login; severity:critical; priority:2; sid:1;)",
     "alert smtp any any -> any any sid:1 rev:1 class:cleartext-login sev:critical prio:2 "
     "msg:\"x\" | mail.login true;"},
    {TLS
     "(msg:\"x\"; tls.cipher_weakness:no-forward-secrecy; classtype:no-forward-secrecy; sid:42;)",
     "alert tls any any -> any any sid:42 rev:1 class:no-forward-secrecy sev:low prio:3 msg:\"x\" "
     "| tls.cipher_weakness = no-forward-secrecy;"},
    {ANY "(msg:\"x\"; mail.login; reference:url,example.org/a#b; reference: cve , 2014-3566 ; "
         "metadata:author postcard, created 2025-01-01;" OK_CL,
     "alert smtp any any -> any any sid:1 rev:1 class:cleartext-login sev:high prio:1 msg:\"x\" "
     "ref:url=example.org/a#b ref:cve=2014-3566 meta:author=postcard meta:created=2025-01-01 | "
     "mail.login true;"},
    {ANY "(msg:\"x\"; mail.login; threshold: type both, track by_rule, count 5, seconds 60;" OK_CL,
     "alert smtp any any -> any any sid:1 rev:1 class:cleartext-login sev:high prio:1 msg:\"x\" "
     "thr:both/by_rule/5/60 | mail.login true;"},
    {ANY "(msg:\"x\"; mail.login; threshold:seconds 3600,count 1,track by_server,type limit;" OK_CL,
     "alert smtp any any -> any any sid:1 rev:1 class:cleartext-login sev:high prio:1 msg:\"x\" "
     "thr:limit/by_server/1/3600 | mail.login true;"},
    {ANY "(msg:\"x\"; mail.login;" OK_CL " # a trailing comment (with a parenthesis)",
     "alert smtp any any -> any any sid:1 rev:1 class:cleartext-login sev:high prio:1 msg:\"x\" | "
     "mail.login true;"},
    {"alert\ttls   any any  ->  any any  (  msg : \"x\" ; tls.version : sslv3 ; classtype : sslv3 "
     "; sid : 9 ; )  ",
     "alert tls any any -> any any sid:9 rev:1 class:sslv3 sev:high prio:1 msg:\"x\" | tls.version "
     "= sslv3;"},
    {"alert any any any -> any any (msg:\"x\"; tls.sni:present; classtype:cert-name-mismatch; "
     "sid:48;)",
     "alert any any any -> any any sid:48 rev:1 class:cert-name-mismatch sev:medium prio:2 "
     "msg:\"x\" | tls.sni present;"},
    {ANY "(msg:\"x\"; mail.login.bearer_token; mail.login.user:\"\";" OK_CL,
     "alert smtp any any -> any any sid:1 rev:1 class:cleartext-login sev:high prio:1 msg:\"x\" | "
     "mail.login.bearer_token true; mail.login.user = \"\";"},
    {TLS "(msg:\"x\"; tls.cert.subject:\"CN=mail.example.org, O=Example\"; "
         "tls.cert.issuer:present; classtype:cert-self-signed; sid:50;)",
     "alert tls any any -> any any sid:50 rev:1 class:cert-self-signed sev:medium prio:2 msg:\"x\" "
     "| tls.cert.subject = \"CN=mail.example.org, O=Example\"; tls.cert.issuer present;"},
    {"alert imap any any -> any any (msg:\"x\"; mail.login_disabled_violated:true; "
     "classtype:login-disabled-violated; sid:51;)",
     "alert imap any any -> any any sid:51 rev:1 class:login-disabled-violated sev:medium prio:2 "
     "msg:\"x\" | mail.login_disabled_violated = true;"},
    {ANY "(msg:\"a;b\"; mail.login;" OK_CL,
     "alert smtp any any -> any any sid:1 rev:1 class:cleartext-login sev:high prio:1 msg:\"a;b\" "
     "| mail.login true;"},
    {ANY "(msg:\"x\"; mail.starttls:REFUSED; classtype:starttls-refused; sid:1;)",
     "alert smtp any any -> any any sid:1 rev:1 class:starttls-refused sev:medium prio:2 msg:\"x\" "
     "| mail.starttls = refused;"},
    {TLS "(msg:\"x\"; tls.alert; tls.alert.description:40; classtype:starttls-failed; sid:54;)",
     "alert tls any any -> any any sid:54 rev:1 class:starttls-failed sev:medium prio:2 msg:\"x\" "
     "| tls.alert true; tls.alert.description = 40;"},
    {TLS "(msg:\"x\"; tls.cipher:\"TLS_RSA_WITH_RC4_128_SHA\"; classtype:weak-cipher; sid:55;)",
     "alert tls any any -> any any sid:55 rev:1 class:weak-cipher sev:high prio:1 msg:\"x\" | "
     "tls.cipher = \"TLS_RSA_WITH_RC4_128_SHA\";"},
    {"alert mail any any -> any any (msg:\"x\"; mail.starttls:\"not-offered\"; "
     "classtype:starttls-not-offered; sid:56;)",
     "alert mail any any -> any any sid:56 rev:1 class:starttls-not-offered sev:medium prio:2 "
     "msg:\"x\" | mail.starttls = not-offered;"},
    {TLS "(msg:\"x\"; tls.cert.expired; tls.cert.not_yet_valid:false; tls.cert.self_signed; "
         "tls.cert.weak_signature; tls.cert.name_mismatch; tls.cert.validity_too_long; "
         "tls.cert.weak_key:true; classtype:cert-expired; sid:57;)",
     "alert tls any any -> any any sid:57 rev:1 class:cert-expired sev:high prio:1 msg:\"x\" | "
     "tls.cert.expired true; tls.cert.not_yet_valid = false; tls.cert.self_signed true; "
     "tls.cert.weak_signature true; tls.cert.name_mismatch true; tls.cert.validity_too_long true; "
     "tls.cert.weak_key = true;"},
    {"alert pop3 any any -> any 110 (msg:\"x\"; mail.login.cleartext:true;" OK_CL,
     "alert pop3 any any -> any 110 sid:1 rev:1 class:cleartext-login sev:high prio:1 msg:\"x\" | "
     "mail.login.cleartext = true;"},
    {"alert imap [::/0,!fe80::/10] any -> any any (msg:\"x\"; mail.login;" OK_CL,
     "alert imap "
     "::-fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff,fec0::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
     "any -> any any sid:1 rev:1 class:cleartext-login sev:high prio:1 msg:\"x\" | mail.login "
     "true;"},
    {"alert smtp [[10.0.0.0/24,10.0.1.0/24],!10.0.0.128/25] any -> any any (msg:\"x\"; "
     "mail.login;" OK_CL,
     "alert smtp 10.0.0.0-10.0.0.127,10.0.1.0-10.0.1.255 any -> any any sid:1 rev:1 "
     "class:cleartext-login sev:high prio:1 msg:\"x\" | mail.login true;"},
    {"alert smtp [!10.0.0.0/8, !172.16.0.0/12] any -> any any (msg:\"x\"; mail.login;" OK_CL,
     "alert smtp "
     "0.0.0.0-9.255.255.255,11.0.0.0-172.15.255.255,172.32.0.0-255.255.255.255,::-ffff:ffff:ffff:"
     "ffff:ffff:ffff:ffff:ffff any -> any any sid:1 rev:1 class:cleartext-login sev:high prio:1 "
     "msg:\"x\" | mail.login true;"},
    {ANY "(msg:\"x\"; mail.login; mail.login.result:[success, unknown];" OK_CL,
     "alert smtp any any -> any any sid:1 rev:1 class:cleartext-login sev:high prio:1 msg:\"x\" | "
     "mail.login true; mail.login.result in success,unknown;"},
    {"alert smtp any any -> any [25,587](msg:\"x\"; mail.login;" OK_CL,
     "alert smtp any any -> any 25,587 sid:1 rev:1 class:cleartext-login sev:high prio:1 msg:\"x\" "
     "| mail.login true;"},
};

TEST(valid_rules_parse_with_every_field)
{
    size_t n = sizeof VALID / sizeof VALID[0];
    ASSERT(n >= 40);
    for (size_t i = 0; i < n; i++) {
        struct parsed p;
        const struct rule *r = parse_one(&p, VALID[i].rule);
        struct sb b = {.n = 0};
        dump_rule(&b, r);
        if (strcmp(b.s, VALID[i].dump) != 0)
            TEST_FAIL("row %zu: %s\n  got:  %s\n  want: %s", i, VALID[i].rule, b.s, VALID[i].dump);
        ASSERT_STREQ(r->file, "t.rules");
        ASSERT_EQ(r->line, 1);
        ASSERT_EQ(r->col, 1);
        parsed_free(&p);
    }
}

/* ---- invalid rules ------------------------------------------------------------- */

struct invalid_case {
    const char *text; /* the file */
    const char *diag; /* every diagnostic line it must produce, exactly */
    size_t n_rules;   /* rules that still load */
};

static const struct invalid_case INVALID[] = {
    {"alert smtp any any -> any any (msg:\"x\"; clastype:cleartext-login; mail.login; sid:1;)",
     "t.rules:1:41: unknown option 'clastype'; did you mean 'classtype'?\n", 0},
    {"alert smtp any any -> any any (msg:\"x\"; mail.startls:refused; classtype:cleartext-login; "
     "sid:1;)",
     "t.rules:1:41: unknown option 'mail.startls'; did you mean 'mail.starttls'?\n", 0},
    {"alert tls any any -> any any (msg:\"x\"; tls.version:3; classtype:sslv3; sid:1;)",
     "t.rules:1:52: tls.version is a version, not a number: '3' (versions: sslv2, sslv3, tls1.0, "
     "tls1.1, tls1.2, tls1.3)\n",
     0},
    {"alert tls any any -> any any (msg:\"x\"; tls.version:>3; classtype:sslv3; sid:1;)",
     "t.rules:1:53: tls.version is a version, not a number: '3' (versions: sslv2, sslv3, tls1.0, "
     "tls1.1, tls1.2, tls1.3)\n",
     0},
    {"alert smtp any any -> any any (msg:\"x\"; mail.starttls:upgrade; classtype:cleartext-login; "
     "sid:1;)",
     "t.rules:1:55: unknown mail.starttls value 'upgrade'; allowed: implicit, upgraded, failed, "
     "refused, stripped, offered-unused, not-offered, unknown\n",
     0},
    {"alert smtp any any -> any any (msg:\"x\"; mail.port_class:[relay,submision]; "
     "classtype:cleartext-login; sid:1;)",
     "t.rules:1:64: unknown mail.port_class value 'submision'; allowed: relay, submission, access, "
     "implicit-tls, other\n",
     0},
    {"alert tls any any -> any any (msg:\"x\"; tls.cert.key_bits:<30d; classtype:sslv3; sid:1;)",
     "t.rules:1:59: tls.cert.key_bits is a number, not a duration: '30d'\n", 0},
    {"alert tls any any -> any any (msg:\"x\"; tls.cert.days_left:<12h; classtype:sslv3; sid:1;)",
     "t.rules:1:60: tls.cert.days_left counts whole days: '12h' is not a whole number of days\n",
     0},
    {"alert tls any any -> any any (msg:\"x\"; tls.cert.days_left:<tls1.2; classtype:sslv3; "
     "sid:1;)",
     "t.rules:1:60: tls.cert.days_left is a duration, not a version: 'tls1.2'\n", 0},
    {"alert tls any any -> any any (msg:\"x\"; tls.cert.days_left:<soon; classtype:sslv3; sid:1;)",
     "t.rules:1:60: tls.cert.days_left needs a duration (a whole number with d, h, m or s), found "
     "'soon'\n",
     0},
    {"alert smtp any any -> any any (msg:\"x\"; mail.login:yes; classtype:cleartext-login; sid:1;)",
     "t.rules:1:52: mail.login is a bool: expected true or false, found 'yes'\n", 0},
    {"alert smtp any any -> any any (msg:\"x\"; mail.login:[true]; classtype:cleartext-login; "
     "sid:1;)",
     "t.rules:1:52: mail.login is a bool: write mail.login:true or mail.login:false, not a list\n",
     0},
    {"alert smtp any any -> any any (msg:\"x\"; mail.starttls:<refused; classtype:cleartext-login; "
     "sid:1;)",
     "t.rules:1:55: '<' needs a number, a duration or a version; mail.starttls is an enum\n", 0},
    {"alert tls any any -> any any (msg:\"x\"; tls.sni:!present; classtype:sslv3; sid:1;)",
     "t.rules:1:48: '!present' is not allowed: write 'absent'\n", 0},
    {"alert tls any any -> any any (msg:\"x\"; tls.version:!absent; classtype:sslv3; sid:1;)",
     "t.rules:1:52: '!absent' is not allowed: write 'present'\n", 0},
    {"alert tls any any -> any any (msg:\"x\"; tls.alert.description:300; classtype:sslv3; sid:1;)",
     "t.rules:1:62: tls.alert.description must be from 0 to 255, found '300'\n", 0},
    {"alert smtp any any -> any any (msg:\"x\"; mail.cleartext_messages:-1; "
     "classtype:cleartext-login; sid:1;)",
     "t.rules:1:65: mail.cleartext_messages must be from 0 to 4294967295, found '-1'\n", 0},
    {"alert tls any any -> any any (msg:\"x\"; tls.version:[]; classtype:sslv3; sid:1;)",
     "t.rules:1:52: empty list\n", 0},
    {"alert tls any any -> any any (msg:\"x\"; tls.version:[tls1.0; classtype:sslv3; sid:1;)",
     "t.rules:1:52: unclosed '['\n", 0},
    {"alert tls any any -> any any (msg:\"x\"; tls.version:[tls1.0,[tls1.1]]; classtype:sslv3; "
     "sid:1;)",
     "t.rules:1:60: lists of values do not nest\n", 0},
    {"alert tls any any -> any any (msg:\"x\"; tls.version:tls1.2 tls1.3; classtype:sslv3; sid:1;)",
     "t.rules:1:59: unexpected 'tls1.3' after the value of tls.version\n", 0},
    {"alert tls any any -> any any (msg:\"x\"; tls.cipher_weakness:[rc4,weak]; classtype:sslv3; "
     "sid:1;)",
     "t.rules:1:65: unknown tls.cipher_weakness value 'weak'; allowed: null, export, anon, des, "
     "3des, rc4, md5, no-forward-secrecy, cbc, rc2, idea\n",
     0},
    {"alert tls any any -> any any (msg:\"x\"; tls.cert.key_bits:!<5; classtype:sslv3; sid:1;)",
     "t.rules:1:58: '!' cannot be combined with '<'\n", 0},
    {"alert tls any any -> any any (msg:\"x\"; tls.cipher_weakness:>rc4; classtype:sslv3; sid:1;)",
     "t.rules:1:60: '>' needs a number, a duration or a version; tls.cipher_weakness is a set\n",
     0},
    {"alert smtp any any -> any any (msg:\"x\"; mail.login:; classtype:cleartext-login; sid:1;)",
     "t.rules:1:52: mail.login: needs a value after ':' (or no ':' at all)\n", 0},
    {"alert smtp any any -> any any (msg:\"x\"; mail.login; classtype:cleartext-login;)",
     "t.rules:1:1: rule has no sid\n", 0},
    {"alert smtp any any -> any any (msg:\"x\"; mail.login; sid:1;)",
     "t.rules:1:1: rule has no classtype\n", 0},
    {"alert smtp any any -> any any (msg:\"x\"; mail.login;)",
     "t.rules:1:1: rule has no sid\nt.rules:1:1: rule has no classtype\n", 0},
    {"alert smtp any any -> any any (msg:\"x\"; mail.login; classtype:cleartext-login; sid:0;)",
     "t.rules:1:84: sid must be a whole number from 1 to 4294967295, found '0'\n", 0},
    {"alert smtp any any -> any any (msg:\"x\"; mail.login; classtype:cleartext-login; sid:abc;)",
     "t.rules:1:84: sid must be a whole number from 1 to 4294967295, found 'abc'\n", 0},
    {"alert smtp any any -> any any (msg:\"x\"; mail.login; classtype:cleartext-login; "
     "sid:4294967296;)",
     "t.rules:1:84: sid must be a whole number from 1 to 4294967295, found '4294967296'\n", 0},
    {"alert smtp any any -> any any (msg:\"x\"; mail.login; classtype:cleartext-login; sid:1; "
     "rev:x;)",
     "t.rules:1:91: rev must be a whole number from 1 to 4294967295, found 'x'\n", 0},
    {"alert smtp any any -> any any (msg:\"x\"; mail.login; classtype:cleartext-login; sid:1; "
     "sid:2;)",
     "t.rules:1:87: duplicate option 'sid'\n", 0},
    {"alert smtp any any -> any any (msg:\"x\"; mail.login; msg:\"y\"; classtype:cleartext-login; "
     "sid:1;)",
     "t.rules:1:53: duplicate option 'msg'\n", 0},
    {"alert smtp any any -> any any (msg:\"x\"; mail.login; classtype:foo; sid:1;)",
     "t.rules:1:63: unknown classtype 'foo'; allowed: cleartext-login, cleartext-mail, "
     "starttls-not-offered, starttls-offered-unused, starttls-refused, starttls-failed, "
     "starttls-stripped, login-disabled-violated, sslv2, sslv3, tls-obsolete, weak-cipher, "
     "no-forward-secrecy, cert-expired, cert-not-yet-valid, cert-expiring, cert-self-signed, "
     "cert-untrusted, cert-weak-key, cert-weak-signature, cert-name-mismatch, "
     "cert-validity-too-long\n",
     0},
    {"alert smtp any any -> any any (msg:\"x\"; mail.login; classtype:cleartext-logn; sid:1;)",
     "t.rules:1:63: unknown classtype 'cleartext-logn'; did you mean 'cleartext-login'?\n", 0},
    {"alert smtp any any -> any any (msg:\"x\"; mail.login; priority:5; classtype:cleartext-login; "
     "sid:1;)",
     "t.rules:1:62: priority must be 1, 2, 3 or 4, found '5'\n", 0},
    {"alert smtp any any -> any any (msg:\"x\"; mail.login; severity:hihg; "
     "classtype:cleartext-login; sid:1;)",
     "t.rules:1:62: unknown severity 'hihg'; did you mean 'high'?\n", 0},
    {"alert smtp any any -> any any (msg:\"x\"; mail.login; severity:urgent; "
     "classtype:cleartext-login; sid:1;)",
     "t.rules:1:62: unknown severity 'urgent'; allowed: info, low, medium, high, critical\n", 0},
    {"alert smpt any any -> any any (msg:\"x\"; mail.login; classtype:cleartext-login; sid:1;)",
     "t.rules:1:7: unknown protocol 'smpt'; did you mean 'smtp'?\n", 0},
    {"alert quic any any -> any any (msg:\"x\"; mail.login; classtype:cleartext-login; sid:1;)",
     "t.rules:1:7: unknown protocol 'quic'; allowed: smtp, pop3, imap, tls, mail, any\n", 0},
    {"alert smtp any any <- any any (msg:\"x\"; mail.login; classtype:cleartext-login; sid:1;)",
     "t.rules:1:20: direction '<-' is not supported: swap the sides and write '->'\n", 0},
    {"alert smtp any any => any any (msg:\"x\"; mail.login; classtype:cleartext-login; sid:1;)",
     "t.rules:1:20: expected '->' or '<>', found '=>'\n", 0},
    {"alert smtp 10.0.0.300 any -> any any (msg:\"x\"; mail.login; classtype:cleartext-login; "
     "sid:1;)",
     "t.rules:1:12: '10.0.0.300' is not an IP address, a CIDR, 'any' or a $VARIABLE\n", 0},
    {"alert smtp 10.0.0.0/33 any -> any any (msg:\"x\"; mail.login; classtype:cleartext-login; "
     "sid:1;)",
     "t.rules:1:12: prefix /33 is longer than 32 bits in '10.0.0.0/33'\n", 0},
    {"alert smtp 10.0.0.0/x any -> any any (msg:\"x\"; mail.login; classtype:cleartext-login; "
     "sid:1;)",
     "t.rules:1:20: bad prefix length '/x' (a whole number of bits)\n", 0},
    {"alert smtp any any -> any 70000 (msg:\"x\"; mail.login; classtype:cleartext-login; sid:1;)",
     "t.rules:1:27: port 70000 is out of range (0 to 65535)\n", 0},
    {"alert smtp any 600:500 -> any any (msg:\"x\"; mail.login; classtype:cleartext-login; sid:1;)",
     "t.rules:1:16: port range '600:500' goes backwards\n", 0},
    {"alert smtp any :80 -> any any (msg:\"x\"; mail.login; classtype:cleartext-login; sid:1;)",
     "t.rules:1:16: ':80' is not a port, a range a:b, 'any' or a $VARIABLE\n", 0},
    {"alert smtp $HOME_NETS any -> any any (msg:\"x\"; mail.login; classtype:cleartext-login; "
     "sid:1;)",
     "t.rules:1:12: unknown variable '$HOME_NETS'; did you mean '$HOME_NET'?\n", 0},
    {"alert smtp $ any -> any any (msg:\"x\"; mail.login; classtype:cleartext-login; sid:1;)",
     "t.rules:1:12: '$' must be followed by a variable name\n", 0},
    {"alert smtp $SMTP_SERVERS any -> any any (msg:\"x\"; mail.login; classtype:cleartext-login; "
     "sid:1;)",
     "t.rules:1:12: unknown variable '$SMTP_SERVERS'\n", 0},
    {"alert smtp !any any -> any any (msg:\"x\"; mail.login; classtype:cleartext-login; sid:1;)",
     "t.rules:1:12: '!any' matches no address\n", 0},
    {"alert smtp any [25,!25] -> any any (msg:\"x\"; mail.login; classtype:cleartext-login; "
     "sid:1;)",
     "t.rules:1:16: '[25,!25]' matches no port\n", 0},
    {"alert smtp [] any -> any any (msg:\"x\"; mail.login; classtype:cleartext-login; sid:1;)",
     "t.rules:1:12: empty list\n", 0},
    {"alert smtp [10.0.0.1,10.0.0.2 any -> any any (msg:\"x\"; mail.login; "
     "classtype:cleartext-login; sid:1;)",
     "t.rules:1:31: expected ',' or ']' in a list, found 'any'\n", 0},
    {"alert smtp [10.0.0.1, any -> any any (msg:\"x\"; mail.login; classtype:cleartext-login; "
     "sid:1;)",
     "t.rules:1:27: expected ',' or ']' in a list, found '->'\n", 0},
    {"alert smtp 10.0.0.1,10.0.0.2 any -> any any (msg:\"x\"; mail.login; "
     "classtype:cleartext-login; sid:1;)",
     "t.rules:1:20: unexpected ',10.0.0.2' after the address set\n", 0},
    {"alert smtp any any -> any any (msg:\"x\"; mail.login; classtype:cleartext-login; sid:1)",
     "t.rules:1:85: missing ';' after option 'sid'\n", 0},
    {"alert smtp any any -> any any (msg:\"x\"; mail.login; classtype:cleartext-login; sid:1;",
     "t.rules:1:86: missing ')' at the end of the rule\n", 0},
    {"alert smtp any any -> any any (msg:\"x\"; mail.login)",
     "t.rules:1:51: missing ';' after option 'mail.login'\n", 0},
    {"alert smtp any any -> any any (msg:\"abc; mail.login; classtype:cleartext-login; sid:1;)",
     "t.rules:1:36: unterminated string\n", 0},
    {"alert smtp any any -> any any (msg:\"a\\nb\"; mail.login; classtype:cleartext-login; sid:1;)",
     "t.rules:1:38: unknown escape '\\n' (a string knows \\\", \\\\ and \\;)\n", 0},
    {"alert smtp any any -> any any (msg:hello; mail.login; classtype:cleartext-login; sid:1;)",
     "t.rules:1:36: msg needs a quoted string, found 'hello'\n", 0},
    {"alert smtp any any -> any any (msg:\"a\" b; mail.login; classtype:cleartext-login; sid:1;)",
     "t.rules:1:40: unexpected 'b' after the msg string\n", 0},
    {"alert smtp any any -> any any (msg; mail.login; classtype:cleartext-login; sid:1;)",
     "t.rules:1:32: option 'msg' needs a value\n", 0},
    {"drop smtp any any -> any any (msg:\"x\"; mail.login; classtype:cleartext-login; sid:1;)",
     "t.rules:1:1: action 'drop' is not supported: postcard only watches (use alert or pass)\n", 0},
    {"alrt smtp any any -> any any (msg:\"x\"; mail.login; classtype:cleartext-login; sid:1;)",
     "t.rules:1:1: unknown keyword 'alrt'; did you mean 'alert'?\n", 0},
    {"rule smtp any any -> any any (msg:\"x\"; mail.login; classtype:cleartext-login; sid:1;)",
     "t.rules:1:1: expected a rule, 'include' or 'suppress', found 'rule'\n", 0},
    {"alert smtp any any -> any any (msg:\"x\"; mail.login; classtype:cleartext-login; sid:1;) "
     "extra",
     "t.rules:1:88: unexpected 'extra' after ')' (one rule per line; '#' starts a comment)\n", 0},
    {"alert", "t.rules:1:6: expected a protocol, found the end of the line\n", 0},
    {"alert smtp any any -> any any",
     "t.rules:1:30: expected '(' and the rule options, found the end of the line\n", 0},
    {"alert smtp any any -> any any msg:\"x\";",
     "t.rules:1:31: expected '(' and the rule options, found 'msg:\"x\";'\n", 0},
    {"alert smtp any any -> any any ( ; sid:1;)", "t.rules:1:33: expected an option, found ';'\n",
     0},
    {"alert smtp any any -> any any (msg \"x\"; sid:1;)",
     "t.rules:1:36: expected ':' or ';' after 'msg', found '\"x\";'\n", 0},
    {"alert smtp any any -> any any (msg:\"x\"; mail.login; threshold: type limit, track by_src, "
     "count 1; classtype:cleartext-login; sid:1;)",
     "t.rules:1:53: threshold needs type, track, count and seconds; seconds is missing\n", 0},
    {"alert smtp any any -> any any (msg:\"x\"; mail.login; threshold: type limit, track "
     "by_client, count 1, seconds 60; classtype:cleartext-login; sid:1;)",
     "t.rules:1:82: threshold track must be by_src, by_dst, by_rule or by_server, found "
     "'by_client'\n",
     0},
    {"alert smtp any any -> any any (msg:\"x\"; mail.login; threshold: type often, track by_src, "
     "count 1, seconds 60; classtype:cleartext-login; sid:1;)",
     "t.rules:1:69: threshold type must be limit, threshold or both, found 'often'\n", 0},
    {"alert smtp any any -> any any (msg:\"x\"; mail.login; threshold: type limit, track by_src, "
     "cout 1, seconds 60; classtype:cleartext-login; sid:1;)",
     "t.rules:1:90: unknown threshold setting 'cout'; did you mean 'count'?\n", 0},
    {"alert smtp any any -> any any (msg:\"x\"; mail.login; threshold: type limit, track by_src, "
     "count 0, seconds 60; classtype:cleartext-login; sid:1;)",
     "t.rules:1:96: threshold count must be a whole number from 1 to 1000000, found '0'\n", 0},
    {"alert smtp any any -> any any (msg:\"x\"; mail.login; threshold: type limit, track by_src, "
     "count 1, seconds 31622401; classtype:cleartext-login; sid:1;)",
     "t.rules:1:107: threshold seconds must be a whole number from 1 to 31622400, found "
     "'31622401'\n",
     0},
    {"alert smtp any any -> any any (msg:\"x\"; mail.login; threshold: type limit, type limit, "
     "count 1, seconds 60; classtype:cleartext-login; sid:1;)",
     "t.rules:1:76: threshold setting 'type' given twice\n", 0},
    {"alert smtp any any -> any any (msg:\"x\"; mail.login; threshold: type limit track by_src, "
     "count 1, seconds 60; classtype:cleartext-login; sid:1;)",
     "t.rules:1:75: expected ',' between threshold settings, found 'track'\n", 0},
    {"alert smtp any any -> any any (msg:\"x\"; mail.login; reference:nocomma; "
     "classtype:cleartext-login; sid:1;)",
     "t.rules:1:63: reference needs 'type,value', found 'nocomma'\n", 0},
    {"alert smtp any any -> any any (msg:\"x\"; mail.login; metadata:key; "
     "classtype:cleartext-login; sid:1;)",
     "t.rules:1:62: metadata needs 'key value' pairs, found 'key'\n", 0},
    {"alert smtp any any -> any any (msg:\"x\"; mail.login; content:\"x\"; "
     "classtype:cleartext-login; sid:1;)",
     "t.rules:1:53: unknown option 'content'\n", 0},
    {"include other.rules", "t.rules:1:9: include needs a quoted file name, found 'other.rules'\n",
     0},
    {"include \"\"", "t.rules:1:9: include needs a file name\n", 0},
    {"include \"a.rules\" \"b.rules\"",
     "t.rules:1:19: unexpected '\"b.rules\"' after the include\n", 0},
    {"suppress gen_id 2, sig_id 5",
     "t.rules:1:17: gen_id must be 1 (the rules' generator), found '2'\n", 0},
    {"suppress gen_id 1, sig_id 5, track by_src", "t.rules:1:1: suppress with track needs ip\n", 0},
    {"suppress gen_id 1, sig_id 5, ip 10.0.0.1", "t.rules:1:1: suppress with ip needs track\n", 0},
    {"suppress gen_id 1, sigid 5",
     "t.rules:1:20: unknown suppress setting 'sigid'; did you mean 'sig_id'?\n", 0},
    {"suppress gen_id 1", "t.rules:1:1: suppress needs gen_id and sig_id\n", 0},
    {"suppress gen_id 1, sig_id 5, track by_rule, ip 1.2.3.4",
     "t.rules:1:36: suppress track must be by_src or by_dst, found 'by_rule'\n", 0},
    {"suppress gen_id 1, sig_id 5, track by_src, ip 1.2.3.999",
     "t.rules:1:47: '1.2.3.999' is not an IP address, a CIDR, 'any' or a $VARIABLE\n", 0},
    {"alert tls any any -> any any (msg:\"x\"; tls.version:3; severity:hihg; classtype:sslv3; "
     "sid:1;)",
     "t.rules:1:52: tls.version is a version, not a number: '3' (versions: sslv2, sslv3, tls1.0, "
     "tls1.1, tls1.2, tls1.3)\nt.rules:1:64: unknown severity 'hihg'; did you mean 'high'?\n",
     0},
    {"alert smtp any any -> any any (msg:\"x\"; mail.login; classtype:cleartext-lgin; "
     "sid:1;)\nalert smtp any any -> any any (msg:\"y\"; mail.login; classtype:cleartext-login; "
     "sid:2;)\nalert smtp any any -> any any (msg:\"z\"; mail.logn; classtype:cleartext-login; "
     "sid:3;)\n",
     "t.rules:1:63: unknown classtype 'cleartext-lgin'; did you mean "
     "'cleartext-login'?\nt.rules:3:41: unknown option 'mail.logn'; did you mean 'mail.login'?\n",
     1},
    {"alert smtp any any -> any any (msg:\"x\"; mail.login; classtype:cleartext-login; sid:7;)\n# "
     "a comment\nalert pop3 any any -> any any (msg:\"y\"; mail.login; classtype:cleartext-login; "
     "sid:7;)\n",
     "t.rules:3:84: sid 7 is already used by the rule at t.rules:1:1\n", 1},
};

TEST(invalid_rules_report_exact_diagnostics)
{
    size_t n = sizeof INVALID / sizeof INVALID[0];
    ASSERT(n >= 40);
    for (size_t i = 0; i < n; i++) {
        struct parsed p;
        parse(&p, INVALID[i].text);
        if (p.rc != -1 || strcmp(rule_diag_text(&p.d), INVALID[i].diag) != 0)
            TEST_FAIL("row %zu (rc %d): %s\n  got:\n%s  want:\n%s", i, p.rc, INVALID[i].text,
                      rule_diag_text(&p.d), INVALID[i].diag);
        size_t lines = 0;
        for (const char *c = INVALID[i].diag; *c; c++)
            lines += *c == '\n';
        ASSERT_EQ(p.d.errors, lines);
        ASSERT_EQ(p.d.warnings, 0);
        ASSERT_EQ(ruleset_len(p.rs), INVALID[i].n_rules);
        parsed_free(&p);
    }
}

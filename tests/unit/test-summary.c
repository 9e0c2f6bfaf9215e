/*
 * test-summary.c — the summary's caps (each map keeps its SUM_* keys and
 * counts the rest under its "(other ...)" key, so totals stay exact), its
 * key order (byte order), the escaping of wire text in keys, a record
 * that must leave maps out to fit in one line, and an unknown STARTTLS
 * outcome counted in none of the classes.
 *
 * Sessions are built by hand (session_new, then the facts a dissector would
 * have set) and counted with summary_session, as flow_ended does.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eve/eve.h"
#include "sensor-limits.h"
#include "rules.h"
#include "app/session.h"
#include "eve/summary.h"
#include "test.h"
#include "app/tlssess.h"

static const struct eve_ctx EC = {.host = "unit-sensor"};

/* A flow that ended at hour h (from 2026-01-01T00) to server 10.a.b.c:port. */
static void make_flow(struct flow *f, uint32_t server, uint16_t port, int64_t hour)
{
    memset(f, 0, sizeof *f);
    f->ipver = 4;
    f->proto = 6;
    f->srv[0] = 10;
    f->srv[1] = (uint8_t)(server >> 16);
    f->srv[2] = (uint8_t)(server >> 8);
    f->srv[3] = (uint8_t)server;
    f->cli[0] = 192;
    f->cli[1] = 168;
    f->cport = 40000;
    f->sport = port;
    f->first = f->last = (1767225600LL + hour * 3600) * 1000000;
    f->bytes[0] = 100;
    f->bytes[1] = 200;
}

/* The document, one line, in a malloc'ed string. */
static char *doc_of(struct summary *sm)
{
    char *text = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&text, &n);
    ASSERT(f != NULL);
    ASSERT_EQ(summary_write(sm, &EC, f, false), 0);
    fclose(f);
    ASSERT(n > 0 && text[n - 1] == '\n');
    return text;
}

/* One plain SMTP session (STARTTLS not offered) ending on f, with these alerts. */
static void count_session(struct summary *sm, const struct flow *f, size_t n_alerts)
{
    static const uint8_t classes[4] = {RULE_CLASS_CLEARTEXT_MAIL, RULE_CLASS_CLEARTEXT_MAIL,
                                       RULE_CLASS_CLEARTEXT_MAIL, RULE_CLASS_CLEARTEXT_MAIL};
    struct session *ss = session_new(PROTO_SMTP, false);
    summary_session(sm, &EC, f, ss, NULL, classes, n_alerts);
    session_free(ss);
}

#define HAS(doc, s)                                                                                \
    do {                                                                                           \
        if (strstr((doc), (s)) == NULL)                                                            \
            TEST_FAIL("missing %s in %.300s", (s), (doc));                                         \
    } while (0)

TEST(servers_past_the_cap_are_counted_under_other_servers)
{
    struct summary *sm = summary_new(42);
    struct flow f;
    for (uint32_t i = 0; i < SUM_SERVERS_MAX + 5; i++) {
        make_flow(&f, i, 25, 0);
        count_session(sm, &f, 1);
    }
    char *doc = doc_of(sm);
    HAS(doc, "\"(other servers)\":{\"alerts\":5,\"findings\":{\"cleartext-mail\":5}}");
    HAS(doc, "\"10.0.0.0:25\":{\"alerts\":1,");
    HAS(doc, "\"findings\":{\"cleartext-mail\":10005}");
    HAS(doc, "\"totals\":{\"alerts\":10005,\"bytes\":3001500,\"cleartext\":10005,");
    size_t n = 0;
    for (const char *p = doc; (p = strstr(p, ":25\":{\"alerts\"")) != NULL; p++)
        n++;
    ASSERT_EQ(n, SUM_SERVERS_MAX);
    free(doc);
    summary_free(sm);
}

TEST(ports_past_the_cap_are_counted_under_other_ports)
{
    struct summary *sm = summary_new(1);
    struct flow f;
    for (uint32_t i = 0; i < SUM_PORTS_MAX + 3; i++) {
        make_flow(&f, 1, (uint16_t)(2000 + i), 0);
        count_session(sm, &f, 0);
        count_session(sm, &f, 0);
    }
    char *doc = doc_of(sm);
    HAS(doc, "\"(other ports)\":{\"bytes\":1800,\"cleartext\":6,");
    HAS(doc, "\"sessions\":6,\"starttls\":0,\"starttls_outcome\":{\"not-offered\":6}}");
    HAS(doc, "\"smtp/3023\":{\"bytes\":600,");
    ASSERT(strstr(doc, "\"smtp/3024\"") == NULL);
    HAS(doc, "\"servers\":{}");
    free(doc);
    summary_free(sm);
}

TEST(an_unknown_starttls_outcome_is_in_none_of_the_classes)
{
    struct summary *sm = summary_new(1);
    struct flow f;
    make_flow(&f, 1, 25, 0);
    struct session *ss = session_new(PROTO_SMTP, false);
    ss->is_cut = true; /* evicted before any listing: the outcome is not known */
    summary_session(sm, &EC, &f, ss, NULL, NULL, 0);
    count_session(sm, &f, 0); /* and one that ended: not-offered, in clear */
    char *doc = doc_of(sm);
    HAS(doc, "\"smtp/25\":{\"bytes\":600,\"cleartext\":1,\"cleartext_messages\":0,");
    HAS(doc, "\"implicit_tls\":0,");
    HAS(doc, "\"sessions\":2,\"starttls\":0,\"starttls_outcome\":{\"not-offered\":1,"
             "\"unknown\":1}}");
    free(doc);
    session_free(ss);
    summary_free(sm);
}

TEST(mechanisms_past_the_cap_are_counted_under_other_mechanisms)
{
    struct summary *sm = summary_new(1);
    struct flow f;
    make_flow(&f, 1, 587, 0);
    for (int k = 0; k < 2; k++) {
        struct session *ss = session_new(PROTO_SMTP, false);
        ss->n_logins = SESSION_MAX_LOGINS;
        for (unsigned i = 0; i < SESSION_MAX_LOGINS; i++) {
            snprintf(ss->logins[i].mech, sizeof ss->logins[i].mech, "x-mech-%02u",
                     k * SESSION_MAX_LOGINS + i);
            ss->logins[i].cleartext = i % 2 == 0;
        }
        ss->logins_dropped = 7;
        summary_session(sm, &EC, &f, ss, NULL, NULL, 0);
        session_free(ss);
    }
    char *doc = doc_of(sm);
    /* upper case; the 16 first names seen; the other 16 in one key */
    HAS(doc, "\"logins\":{\"(other mechanisms)\":{\"cleartext\":8,\"protected\":8},"
             "\"X-MECH-00\":{\"cleartext\":1,\"protected\":0},");
    HAS(doc, "\"X-MECH-15\":{\"cleartext\":0,\"protected\":1}},\"logins_not_listed\":14,");
    ASSERT(strstr(doc, "X-MECH-16") == NULL);
    HAS(doc, "\"cleartext_logins\":16,");
    free(doc);
    summary_free(sm);
}

TEST(hours_past_the_cap_are_counted_under_other_hours)
{
    struct summary *sm = summary_new(7);
    struct flow f;
    for (int64_t h = 0; h < SUM_HOURS_MAX + 2; h++) {
        make_flow(&f, 1, 25, h);
        count_session(sm, &f, 0);
    }
    char *doc = doc_of(sm);
    HAS(doc, "\"hours\":{\"(other hours)\":{\"alerts\":0,\"cleartext\":2,\"implicit_tls\":0,"
             "\"sessions\":2,\"starttls\":0},\"2026-01-01T00\":{");
    HAS(doc, "\"first\":\"2026-01-01T00:00:00.000000+0000\"");
    HAS(doc, "\"last\":\"2027-02-05T01:00:00.000000+0000\""); /* hour 9601 */
    free(doc);
    summary_free(sm);
}

TEST(tls_versions_past_the_cap_are_counted_under_other_versions)
{
    struct summary *sm = summary_new(3);
    struct flow f;
    make_flow(&f, 1, 443, 0);
    for (unsigned v = 0; v < SUM_VERSIONS_MAX + 4; v++) {
        struct tls_session *ts = tls_session_new(-1, NULL);
        ts->is_closed = true;
        ts->seen_ch = true;
        ts->client_max = (uint16_t)(0x1000 + v); /* junk: named "0x1000" ... */
        summary_session(sm, &EC, &f, NULL, ts, NULL, 0);
        tls_session_free(ts);
    }
    char *doc = doc_of(sm);
    HAS(doc, "\"client_max_version\":{\"(other versions)\":4,\"0x1000\":1,");
    HAS(doc, "\"version\":{\"none\":36}");
    HAS(doc, "\"cipher_weakness\":{}");
    /* a TLS-only session counts in "tls" alone */
    HAS(doc, "\"ports\":{}");
    HAS(doc, "\"totals\":{\"alerts\":0,\"bytes\":0,");
    free(doc);
    summary_free(sm);
}

TEST(wire_text_in_keys_is_escaped_and_keys_are_in_byte_order)
{
    struct summary *sm = summary_new(5);
    struct flow f;
    static const uint16_t ports[] = {465, 25, 2525, 587};
    for (size_t i = 0; i < 4; i++) {
        make_flow(&f, 1, ports[i], 0);
        count_session(sm, &f, 0);
    }
    struct session *ss = session_new(PROTO_IMAP, false);
    ss->n_logins = 2;
    snprintf(ss->logins[0].mech, sizeof ss->logins[0].mech, "a\"b\\c\x01\xff\xc3\xa9");
    snprintf(ss->logins[1].mech, sizeof ss->logins[1].mech, "plain");
    make_flow(&f, 1, 143, 0);
    summary_session(sm, &EC, &f, ss, NULL, NULL, 0);
    session_free(ss);
    char *doc = doc_of(sm);
    HAS(doc, "\"ports\":{\"imap/143\":{");
    HAS(doc, "\"logins\":{\"A\\\"B\\\\C\\u0001\\u00ff\xc3\xa9\":{\"cleartext\":0,\"protected\":1},"
             "\"PLAIN\":{");
    const char *p25 = strstr(doc, "\"smtp/25\""), *p2525 = strstr(doc, "\"smtp/2525\"");
    const char *p465 = strstr(doc, "\"smtp/465\""), *p587 = strstr(doc, "\"smtp/587\"");
    ASSERT(p25 && p2525 && p465 && p587);
    ASSERT(p25 < p2525 && p2525 < p465 && p465 < p587);
    HAS(doc, "{\"anonymized\":false,\"as\":{},\"countries\":{},\"findings\":{},\"first\":");
    HAS(doc, "\"sensors\":[\"unit-sensor\"],\"servers\":{},\"summary_version\":1,\"tls\":{");
    free(doc);
    summary_free(sm);
}

TEST(a_record_too_big_for_a_line_leaves_out_servers_first)
{
    struct summary *sm = summary_new(9);
    struct flow f;
    for (uint32_t i = 0; i < 2000; i++) {
        make_flow(&f, i, 25, i / 4); /* 500 hours */
        count_session(sm, &f, 2);
    }
    struct jbuf *j = malloc(sizeof *j);
    ASSERT(j != NULL);
    summary_record(sm, &EC, f.last, j);
    ASSERT(j->len < JSON_LINE_MAX && !j->is_full);
    const char *head = "{\"timestamp\":\"2026-01-21T19:00:00.000000+0000\",\"host\":"
                       "\"unit-sensor\",\"event_type\":\"summary\",\"summary\":{";
    ASSERT(strncmp(j->buf, head, strlen(head)) == 0);
    ASSERT(strcmp(j->buf + j->len - 3, "}}\n") == 0);
    ASSERT(strstr(j->buf, "\"servers\"") == NULL);
    ASSERT(strstr(j->buf, "\"hours\":{\"2026-01-01T00\"") != NULL);
    ASSERT(strstr(j->buf, "\"truncated\":true}") != NULL);
    ASSERT(strstr(j->buf, "\"totals\":{\"alerts\":4000,") != NULL);
    /* small enough: the whole document, as the file has it */
    struct summary *small = summary_new(9);
    count_session(small, &f, 1);
    summary_record(small, &EC, f.last, j);
    char *doc = doc_of(small);
    doc[strlen(doc) - 1] = '\0';
    ASSERT(strstr(j->buf, doc) != NULL);
    ASSERT(strstr(j->buf, "truncated") == NULL);
    free(doc);
    summary_free(small);
    free(j);
    summary_free(sm);
}

TEST(an_empty_summary_is_a_complete_document)
{
    struct summary *sm = summary_new(0);
    char *doc = doc_of(sm);
    ASSERT_STREQ(doc,
                 "{\"anonymized\":false,\"as\":{},\"countries\":{},\"findings\":{},\"first\":\"\","
                 "\"hours\":{},\"last\":\"\",\"ports\":{},\"sensors\":[\"unit-sensor\"],"
                 "\"servers\":{},\"summary_version\":1,\"tls\":{\"certs\":{\"expired\":0,"
                 "\"expiring_30d\":0,\"self_signed\":0,\"sessions_with_cert\":0,\"untrusted\":0,"
                 "\"weak_key\":0,\"weak_signature\":0},\"cipher_weakness\":{},"
                 "\"client_max_version\":{},\"sessions\":0,\"version\":{}},\"totals\":{"
                 "\"alerts\":0,\"bytes\":0,\"cleartext\":0,\"cleartext_logins\":0,"
                 "\"cleartext_messages\":0,\"implicit_tls\":0,\"sessions\":0,\"starttls\":0}}\n");
    free(doc);
    summary_free(sm);
}

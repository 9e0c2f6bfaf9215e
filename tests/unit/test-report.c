/*
 * test-report.c — `postcard report` below its command line: checking a
 * summary against schema 1 (defaults, wrong types, unknown keys), merging
 * (counts add exactly; associative and commutative on many random
 * summaries, compared by their written JSON; the identity; anonymized and
 * real addresses refused; overflow refused), and the writers (every string
 * of the input escaped in HTML and Markdown, the five charts present, the
 * timeline by hour and by day).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/jsonread.h"
#include "sensor-limits.h"
#include "report/report.h"
#include "test.h"

/* ---- helpers -------------------------------------------------------------------- */

struct warnings {
    int n;          /* how many */
    char last[256]; /* the last one, with its position */
};

static void collect(void *ctx, uint32_t line, uint32_t col, const char *msg)
{
    struct warnings *w = ctx;
    w->n++;
    snprintf(w->last, sizeof w->last, "%u:%u: %s", line, col, msg);
}

/* Parse and check; the test fails if either refuses. */
static struct jval *doc_of(const char *text, struct warnings *w)
{
    struct jread_err e;
    struct jval *v = jsonread_parse(text, strlen(text), &e);
    if (v == NULL)
        TEST_FAIL("not JSON: %u:%u: %s\n%s", e.line, e.col, e.msg, text);
    struct warnings none = {0, ""};
    struct report_diag d = {collect, w != NULL ? w : &none, {0, 0, ""}};
    if (report_check(v, &d) != 0)
        TEST_FAIL("refused: %u:%u: %s\n%s", d.err.line, d.err.col, d.err.msg, text);
    return v;
}

/* Parse and check; the check must refuse with `want` in the message, at line:col. */
static void check_refuses(const char *text, unsigned line, unsigned col, const char *want, int at)
{
    struct jread_err e;
    struct jval *v = jsonread_parse(text, strlen(text), &e);
    if (v == NULL)
        TEST_FAIL("line %d: not JSON: %s", at, e.msg);
    struct report_diag d = {NULL, NULL, {0, 0, ""}};
    if (report_check(v, &d) == 0)
        TEST_FAIL("line %d: accepted", at);
    if (d.err.line != line || d.err.col != col || strstr(d.err.msg, want) == NULL)
        TEST_FAIL("line %d: got %u:%u: %s\n    want %u:%u: ...%s...", at, d.err.line, d.err.col,
                  d.err.msg, line, col, want);
    jval_free(v);
}

#define CHECK_REFUSES(t, l, c, w) check_refuses((t), (l), (c), (w), __LINE__)

typedef int (*writer_fn)(FILE *f, const struct jval *doc);

static char *write_with(writer_fn fn, const struct jval *v)
{
    char *out = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&out, &n);
    ASSERT(f != NULL);
    ASSERT_EQ(fn(f, v), 0);
    fclose(f);
    return out;
}

static char *json_of(const struct jval *v)
{
    return write_with(jval_write, v);
}

static struct jval *merged(const struct jval *a, const struct jval *b)
{
    struct err e = {""};
    struct jval *m = report_merge(a, "a.json", b, "b.json", &e);
    if (m == NULL)
        TEST_FAIL("merge refused: %s", e.msg);
    return m;
}

/* ---- a generator of random summaries ---------------------------------------------- */

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

struct gen {
    char *buf;     /* the text */
    size_t n, cap; /* used, allocated */
    uint64_t rng;  /* state */
};

__attribute__((format(printf, 2, 3))) static void gp(struct gen *g, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int k = vsnprintf(g->buf + g->n, g->cap - g->n, fmt, ap);
        va_end(ap);
        ASSERT(k >= 0);
        if ((size_t)k < g->cap - g->n) {
            g->n += (size_t)k;
            return;
        }
        g->cap = g->cap * 2 + (size_t)k;
        g->buf = realloc(g->buf, g->cap);
        ASSERT(g->buf != NULL);
    }
}

static uint64_t rnd(struct gen *g, uint64_t below)
{
    return rng_next(&g->rng) % below;
}

/* A count: mostly small, sometimes 0, sometimes large (but far from overflowing). */
static uint64_t count(struct gen *g)
{
    switch (rnd(g, 8)) {
    case 0:
        return 0;
    case 1:
        return rnd(g, (uint64_t)1 << 40);
    default:
        return rnd(g, 1000);
    }
}

/* A map of counts over a random subset of names. */
static void count_map(struct gen *g, const char *key, const char *const *names, size_t n)
{
    gp(g, "\"%s\": {", key);
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        if (rnd(g, 2))
            continue;
        gp(g, "%s\"%s\": %" PRIu64, first ? "" : ", ", names[i], 1 + count(g));
        first = false;
    }
    gp(g, "}");
}

/* A map of records over a random subset of names; fields of each are random counts. */
static void record_map(struct gen *g, const char *key, const char *const *names, size_t n,
                       const char *const *fields, size_t nf, bool with_org)
{
    static const char *const orgs[] = {"", "Bredband2 AB", "Example \\\"Net\\\"", "\\u00c5land"};
    gp(g, "\"%s\": {", key);
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        if (rnd(g, 2))
            continue;
        gp(g, "%s\"%s\": {", first ? "" : ", ", names[i]);
        for (size_t k = 0; k < nf; k++)
            gp(g, "%s\"%s\": %" PRIu64, k ? ", " : "", fields[k], count(g));
        if (with_org)
            gp(g, ", \"org\": \"%s\"", orgs[rnd(g, 4)]);
        gp(g, "}");
        first = false;
    }
    gp(g, "}");
}

static char *random_summary(uint64_t seed, bool anonymized)
{
    static const char *const sensors[] = {"mx-tap-1", "mx-tap-2", "core", "\\u00e9dge"};
    static const char *const times[] = {
        "", "2026-11-28T17:37:04.590299+0000", "2026-11-28T17:37:54.564149+0000",
        "2026-12-01T00:00:00.000001+0000", "2025-01-01T12:00:00.000000+0000"};
    static const char *const ports[] = {"smtp/25",  "smtp/587", "smtp/2525", "imap/143",
                                        "imap/993", "pop3/110", "pop3/995",  "(other ports)"};
    static const char *const outcomes[] = {"implicit", "upgraded",       "failed",     "refused",
                                           "stripped", "offered-unused", "not-offered"};
    static const char *const mechs[] = {"PLAIN", "LOGIN", "USER", "CRAM-MD5", "XOAUTH2"};
    static const char *const versions[] = {"SSLv3",   "TLSv1.0", "TLSv1.1", "TLSv1.2",
                                           "TLSv1.3", "unknown", "none",    "0x0a0a"};
    static const char *const weak[] = {"rc4", "3des", "cbc", "no-forward-secrecy", "none"};
    static const char *const findings[] = {"cleartext-login", "cleartext-mail", "sslv3",
                                           "cert-expired", "starttls-stripped"};
    static const char *const servers[] = {"10.0.0.1:25", "10.0.0.2:110", "[2001:db8::1]:993",
                                          "(other servers)"};
    static const char *const countries[] = {"SE", "DE", "??", "US"};
    static const char *const asns[] = {"29518", "3301", "??"};
    static const char *const hours[] = {"2026-11-28T17", "2026-11-28T18", "2026-11-29T00",
                                        "2026-12-01T23"};
    static const char *const totals[] = {"sessions",           "bytes",        "cleartext",
                                         "starttls",           "implicit_tls", "cleartext_logins",
                                         "cleartext_messages", "alerts"};
    static const char *const port_counts[] = {
        "sessions",         "bytes", "cleartext", "starttls", "implicit_tls", "cleartext_messages",
        "logins_not_listed"};
    static const char *const login_fields[] = {"cleartext", "protected"};
    static const char *const geo_fields[] = {"sessions", "cleartext", "alerts"};
    static const char *const hour_fields[] = {"sessions", "cleartext", "starttls", "implicit_tls",
                                              "alerts"};
    static const char *const cert_fields[] = {"sessions_with_cert", "expired",   "expiring_30d",
                                              "self_signed",        "untrusted", "weak_key",
                                              "weak_signature"};
    struct gen g = {NULL, 0, 0, seed * 0x9e3779b97f4a7c15ULL + 1};
    gp(&g, "{\"summary_version\": 1, \"anonymized\": %s, \"sensors\": [",
       anonymized ? "true" : "false");
    for (size_t i = 0, k = 0; i < 4; i++)
        if (rnd(&g, 2))
            gp(&g, "%s\"%s\"", k++ ? ", " : "", sensors[i]);
    size_t t1 = rnd(&g, 5), t2 = t1 == 0 ? 0 : 1 + rnd(&g, 4);
    gp(&g, "], \"first\": \"%s\", \"last\": \"%s\", \"totals\": {", times[t1], times[t2]);
    for (size_t i = 0; i < 8; i++)
        gp(&g, "%s\"%s\": %" PRIu64, i ? ", " : "", totals[i], count(&g));
    gp(&g, "}, \"ports\": {");
    for (size_t i = 0, k = 0; i < 8; i++) {
        if (rnd(&g, 2))
            continue;
        gp(&g, "%s\"%s\": {", k++ ? ", " : "", ports[i]);
        for (size_t f = 0; f < 7; f++)
            gp(&g, "\"%s\": %" PRIu64 ", ", port_counts[f], count(&g));
        count_map(&g, "starttls_outcome", outcomes, 7);
        gp(&g, ", ");
        record_map(&g, "logins", mechs, 5, login_fields, 2, false);
        gp(&g, "}");
    }
    gp(&g, "}, \"tls\": {\"sessions\": %" PRIu64 ", ", count(&g));
    count_map(&g, "client_max_version", versions, 8);
    gp(&g, ", ");
    count_map(&g, "version", versions, 8);
    gp(&g, ", ");
    count_map(&g, "cipher_weakness", weak, 5);
    gp(&g, ", \"certs\": {");
    for (size_t i = 0; i < 7; i++)
        gp(&g, "%s\"%s\": %" PRIu64, i ? ", " : "", cert_fields[i], count(&g));
    gp(&g, "}}, ");
    count_map(&g, "findings", findings, 5);
    gp(&g, ", \"servers\": {");
    for (size_t i = 0, k = 0; i < 4; i++) {
        if (rnd(&g, 2))
            continue;
        gp(&g, "%s\"%s\": {\"alerts\": %" PRIu64 ", ", k++ ? ", " : "", servers[i], count(&g));
        count_map(&g, "findings", findings, 5);
        gp(&g, "}");
    }
    gp(&g, "}, ");
    if (rnd(&g, 2)) { /* only with --geoip / --asn */
        record_map(&g, "countries", countries, 4, geo_fields, 3, false);
        gp(&g, ", ");
        record_map(&g, "as", asns, 3, geo_fields, 3, true);
        gp(&g, ", ");
    }
    record_map(&g, "hours", hours, 4, hour_fields, 5, false);
    gp(&g, "}");
    return g.buf;
}

/* ---- checking ------------------------------------------------------------------------ */

TEST(a_bare_version_is_completed_to_the_empty_summary)
{
    struct jval *v = doc_of("{\"summary_version\": 1}", NULL);
    struct jval *empty = report_empty();
    char *a = json_of(v), *b = json_of(empty);
    ASSERT_STREQ(a, b);
    ASSERT(strstr(a, "\"logins_not_listed\"") == NULL); /* a port's fields: only in ports */
    ASSERT(strstr(a, "\"sessions_with_cert\": 0") != NULL);
    ASSERT(strstr(a, "\"countries\"") == NULL); /* optional maps stay out */
    ASSERT(strstr(a, "\"first\": \"\"") != NULL);
    free(a);
    free(b);
    jval_free(v);
    jval_free(empty);
}

TEST(missing_fields_of_a_record_are_zero)
{
    struct jval *v =
        doc_of("{\"summary_version\": 1, \"ports\": {\"smtp/25\": {\"sessions\": 3}}}", NULL);
    const struct jval *p = jval_get(jval_get(v, "ports"), "smtp/25");
    ASSERT_EQ(rv_u64(p, "sessions"), 3);
    ASSERT(jval_get(p, "cleartext") != NULL && jval_get(p, "cleartext")->type == JV_INT);
    ASSERT(rv_obj(p, "logins") != NULL && rv_obj(p, "starttls_outcome") != NULL);
    ASSERT_EQ(jval_get(p, "logins_not_listed")->u, 0);
    jval_free(v);
}

TEST(wrong_types_are_refused_with_their_path_and_position)
{
    CHECK_REFUSES("{\"summary_version\": 1,\n \"totals\": {\"sessions\": \"3\"}}", 2, 25,
                  "\"totals.sessions\": expected a non-negative integer, found a string");
    CHECK_REFUSES("{\"summary_version\": 1, \"totals\": {\"alerts\": -1}}", 1, 45,
                  "found a number that is not a non-negative integer");
    CHECK_REFUSES("{\"summary_version\": 1, \"totals\": {\"alerts\": 1.0}}", 1, 45,
                  "\"totals.alerts\"");
    CHECK_REFUSES("{\"summary_version\": 1, \"totals\": {\"alerts\": 18446744073709551616}}", 1, 45,
                  "below 2^64");
    CHECK_REFUSES("{\"summary_version\": 1, \"ports\": []}", 1, 33,
                  "\"ports\": expected an object, found an array");
    CHECK_REFUSES("{\"summary_version\": 1, \"ports\": {\"smtp/25\": {\"logins\": {\"PLAIN\": "
                  "{\"cleartext\": null}}}}}",
                  1, 80, "\"ports.smtp/25.logins.PLAIN.cleartext\": expected a non-negative");
    CHECK_REFUSES("{\"summary_version\": 1, \"sensors\": [\"a\", 7]}", 1, 41,
                  "\"sensors\": expected a string, found an integer");
    CHECK_REFUSES("{\"summary_version\": 1, \"anonymized\": \"no\"}", 1, 38, "true or false");
    CHECK_REFUSES("{\"summary_version\": 1, \"first\": 0}", 1, 33, "\"first\": expected a string");
    CHECK_REFUSES("{\"summary_version\": 1, \"hours\": {\"x\": 1}}", 1, 39,
                  "\"hours.x\": expected an object, found an integer");
}

TEST(only_version_1_is_read)
{
    CHECK_REFUSES("{\"summary_version\": 2}", 1, 21, "summary_version 2 is not supported");
    CHECK_REFUSES("{\"summary_version\": \"1\"}", 1, 21, "expected the integer 1");
    CHECK_REFUSES("{\"totals\": {}}", 1, 1, "not a summary: no \"summary_version\"");
    CHECK_REFUSES("[1]", 1, 1, "not a summary: expected an object, found an array");
}

TEST(unknown_keys_are_warned_about_and_dropped)
{
    struct warnings w = {0, ""};
    struct jval *v = doc_of("{\"summary_version\": 1, \"flux\": [1, {\"x\": 2}],\n"
                            " \"totals\": {\"sessions\": 2, \"zeal\": \"x\"}}",
                            &w);
    ASSERT_EQ(w.n, 2);
    ASSERT_STREQ(w.last, "2:28: unknown key \"totals.zeal\" ignored");
    ASSERT(jval_get(v, "flux") == NULL);
    ASSERT(jval_get(rv_obj(v, "totals"), "zeal") == NULL);
    ASSERT_EQ(rv_u64(rv_obj(v, "totals"), "sessions"), 2);
    jval_free(v);
    /* a summary record cut to fit says so: one warning of its own */
    w.n = 0;
    v = doc_of("{\"summary_version\": 1, \"truncated\": true}", &w);
    ASSERT_EQ(w.n, 1);
    ASSERT(strstr(w.last, "left maps out") != NULL);
    jval_free(v);
}

TEST(hostile_keys_in_messages_stay_one_printable_line)
{
    struct jread_err e;
    const char *t = "{\"summary_version\": 1, \"ports\": {\"a\\nb\\u001b[31m\\\"\": {\"sessions\": "
                    "true}}}";
    struct jval *v = jsonread_parse(t, strlen(t), &e);
    ASSERT(v != NULL);
    struct report_diag d = {NULL, NULL, {0, 0, ""}};
    ASSERT_EQ(report_check(v, &d), -1);
    ASSERT_STREQ(d.err.msg, "\"ports.a?b?[31m?.sessions\": expected a non-negative integer, "
                            "found a boolean");
    jval_free(v);
}

TEST(sensors_are_sorted_and_unique)
{
    struct jval *v =
        doc_of("{\"summary_version\": 1, \"sensors\": [\"b\", \"a\", \"b\", \"c\", \"a\"]}", NULL);
    const struct jval *s = jval_get(v, "sensors");
    ASSERT_EQ(s->arr.n, 3);
    ASSERT_STREQ(s->arr.v[0].str.s, "a");
    ASSERT_STREQ(s->arr.v[2].str.s, "c");
    jval_free(v);
}

/* ---- merging ---------------------------------------------------------------------------- */

TEST(counts_add_up_exactly)
{
    struct jval *a = doc_of(
        "{\"summary_version\": 1, \"sensors\": [\"s1\"], \"first\": "
        "\"2026-11-28T17:00:00.000000+0000\", "
        "\"last\": \"2026-11-28T18:00:00.000000+0000\", \"totals\": {\"sessions\": 10, \"alerts\": "
        "4},"
        " \"ports\": {\"smtp/25\": {\"sessions\": 10, \"cleartext\": 3, \"logins\": {\"PLAIN\": "
        "{\"cleartext\": 2, \"protected\": 0}}, \"starttls_outcome\": {\"upgraded\": 7}}},"
        " \"as\": {\"3301\": {\"org\": \"Telia\", \"sessions\": 1}},"
        " \"tls\": {\"sessions\": 7, \"version\": {\"TLSv1.2\": 7}}}",
        NULL);
    struct jval *b = doc_of(
        "{\"summary_version\": 1, \"sensors\": [\"s0\", \"s1\"], \"first\": "
        "\"2026-11-28T16:00:00.000000+0000\", "
        "\"last\": \"2026-11-28T17:30:00.000000+0000\", \"totals\": {\"sessions\": 5, \"alerts\": "
        "18446744073709551611},"
        " \"ports\": {\"smtp/25\": {\"sessions\": 4, \"cleartext\": 4, \"logins\": {\"PLAIN\": "
        "{\"cleartext\": 1, \"protected\": 5}, \"LOGIN\": {\"cleartext\": 9, \"protected\": 0}}},"
        " \"imap/993\": {\"sessions\": 1, \"implicit_tls\": 1}},"
        " \"as\": {\"3301\": {\"org\": \"\", \"sessions\": 2}, \"29518\": {\"org\": \"B2\"}},"
        " \"tls\": {\"sessions\": 1, \"version\": {\"TLSv1.3\": 1, \"TLSv1.2\": 0}}}",
        NULL);
    struct jval *m = merged(a, b);
    const struct jval *t = rv_obj(m, "totals");
    ASSERT_EQ(rv_u64(t, "sessions"), 15);
    ASSERT(rv_u64(t, "alerts") == UINT64_MAX); /* 4 + (2^64 - 5): exactly the largest count */
    const struct jval *p = rv_obj(rv_obj(m, "ports"), "smtp/25");
    ASSERT_EQ(rv_u64(p, "sessions"), 14);
    ASSERT_EQ(rv_u64(p, "cleartext"), 7);
    ASSERT_EQ(rv_u64(rv_obj(rv_obj(p, "logins"), "PLAIN"), "cleartext"), 3);
    ASSERT_EQ(rv_u64(rv_obj(rv_obj(p, "logins"), "PLAIN"), "protected"), 5);
    ASSERT_EQ(rv_u64(rv_obj(rv_obj(p, "logins"), "LOGIN"), "cleartext"), 9);
    ASSERT_EQ(rv_u64(rv_obj(p, "starttls_outcome"), "upgraded"), 7);
    ASSERT_EQ(rv_u64(rv_obj(rv_obj(m, "ports"), "imap/993"), "implicit_tls"), 1);
    ASSERT_EQ(rv_u64(rv_obj(rv_obj(m, "tls"), "version"), "TLSv1.2"), 7);
    ASSERT_EQ(rv_u64(rv_obj(rv_obj(m, "tls"), "version"), "TLSv1.3"), 1);
    ASSERT_STREQ(jval_get(m, "first")->str.s, "2026-11-28T16:00:00.000000+0000");
    ASSERT_STREQ(jval_get(m, "last")->str.s, "2026-11-28T18:00:00.000000+0000");
    const struct jval *s = jval_get(m, "sensors");
    ASSERT_EQ(s->arr.n, 2);
    ASSERT_STREQ(s->arr.v[0].str.s, "s0");
    ASSERT_STREQ(jval_get(rv_obj(rv_obj(m, "as"), "3301"), "org")->str.s, "Telia");
    ASSERT_EQ(rv_u64(rv_obj(rv_obj(m, "as"), "3301"), "sessions"), 3);
    ASSERT_STREQ(jval_get(rv_obj(rv_obj(m, "as"), "29518"), "org")->str.s, "B2");
    jval_free(a);
    jval_free(b);
    jval_free(m);
}

TEST(an_empty_first_or_last_does_not_win)
{
    struct jval *a = doc_of("{\"summary_version\": 1, \"first\": \"\", \"last\": \"\"}", NULL);
    struct jval *b =
        doc_of("{\"summary_version\": 1, \"first\": \"2026-01-01T00:00:00.000000+0000\", "
               "\"last\": \"2026-01-02T00:00:00.000000+0000\"}",
               NULL);
    struct jval *m = merged(a, b), *n = merged(b, a);
    ASSERT_STREQ(jval_get(m, "first")->str.s, "2026-01-01T00:00:00.000000+0000");
    ASSERT_STREQ(jval_get(n, "first")->str.s, "2026-01-01T00:00:00.000000+0000");
    ASSERT_STREQ(jval_get(m, "last")->str.s, "2026-01-02T00:00:00.000000+0000");
    jval_free(a);
    jval_free(b);
    jval_free(m);
    jval_free(n);
}

TEST(merging_is_associative_and_commutative_on_random_summaries)
{
    for (uint64_t seed = 1; seed <= 300; seed++) {
        bool anon = seed % 7 == 0;
        char *ta = random_summary(seed * 3, anon), *tb = random_summary(seed * 3 + 1, anon);
        char *tc = random_summary(seed * 3 + 2, anon);
        struct jval *a = doc_of(ta, NULL), *b = doc_of(tb, NULL), *c = doc_of(tc, NULL);
        struct jval *ab = merged(a, b), *ab_c = merged(ab, c);
        struct jval *bc = merged(b, c), *a_bc = merged(a, bc);
        struct jval *ca = merged(c, a), *b_ca = merged(b, ca);
        struct jval *ba = merged(b, a);
        char *x = json_of(ab_c), *y = json_of(a_bc), *z = json_of(b_ca);
        char *p = json_of(ab), *q = json_of(ba);
        if (strcmp(x, y) != 0 || strcmp(x, z) != 0 || strcmp(p, q) != 0)
            TEST_FAIL("seed %" PRIu64 ": merges differ:\n%s\n---\n%s\n---\n%s", seed, ta, tb, tc);
        /* and a written merge reads back as the same summary */
        struct jval *back = doc_of(x, NULL);
        char *w = json_of(back);
        ASSERT_STREQ(w, x);
        free(w);
        jval_free(back);
        struct jval *all[] = {a, b, c, ab, ab_c, bc, a_bc, ca, b_ca, ba};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
            jval_free(all[i]);
        char *texts[] = {ta, tb, tc, x, y, z, p, q};
        for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
            free(texts[i]);
    }
}

/* Sum of the counts at every path of one document, added into totals by path. */
static void sum_paths(const struct jval *v, char *path, size_t n, size_t cap, uint64_t *total,
                      const char *only)
{
    if (v->type == JV_INT && strcmp(path, only) == 0)
        *total += v->u;
    if (v->type != JV_OBJ)
        return;
    for (size_t i = 0; i < v->obj.n; i++) {
        int k = snprintf(path + n, cap - n, "/%s", v->obj.m[i].key);
        if (k > 0 && (size_t)k < cap - n)
            sum_paths(&v->obj.m[i].val, path, n + (size_t)k, cap, total, only);
        path[n] = '\0';
    }
}

TEST(the_counts_of_a_merge_are_the_sums_of_the_inputs)
{
    static const char *const paths[] = {"/totals/sessions",
                                        "/ports/smtp/25/sessions",
                                        "/ports/smtp/25/logins/PLAIN/cleartext",
                                        "/tls/version/TLSv1.2",
                                        "/servers/10.0.0.1:25/findings/sslv3",
                                        "/hours/2026-11-28T17/alerts",
                                        "/as/29518/sessions"};
    for (uint64_t seed = 1; seed <= 40; seed++) {
        struct jval *docs[8];
        struct jval *acc = report_empty();
        for (int i = 0; i < 8; i++) {
            char *t = random_summary(1000 + seed * 8 + (uint64_t)i, false);
            docs[i] = doc_of(t, NULL);
            free(t);
            struct jval *m = merged(acc, docs[i]);
            jval_free(acc);
            acc = m;
        }
        for (size_t k = 0; k < sizeof paths / sizeof paths[0]; k++) {
            uint64_t want = 0, got = 0;
            char path[256] = "";
            for (int i = 0; i < 8; i++)
                sum_paths(docs[i], path, 0, sizeof path, &want, paths[k]);
            sum_paths(acc, path, 0, sizeof path, &got, paths[k]);
            if (want != got)
                TEST_FAIL("seed %" PRIu64 " %s: %" PRIu64 " != %" PRIu64, seed, paths[k], got,
                          want);
        }
        for (int i = 0; i < 8; i++)
            jval_free(docs[i]);
        jval_free(acc);
    }
}

TEST(the_empty_summary_is_the_identity)
{
    for (uint64_t seed = 1; seed <= 50; seed++) {
        char *t = random_summary(seed, seed % 2);
        struct jval *a = doc_of(t, NULL), *e = report_empty();
        if (seed % 2) { /* the empty one must agree on "anonymized" */
            jval_free(e);
            e = doc_of("{\"summary_version\": 1, \"anonymized\": true}", NULL);
        }
        struct jval *m = merged(a, e), *n = merged(e, a);
        char *x = json_of(a), *y = json_of(m), *z = json_of(n);
        ASSERT_STREQ(x, y);
        ASSERT_STREQ(x, z);
        free(t);
        free(x);
        free(y);
        free(z);
        jval_free(a);
        jval_free(e);
        jval_free(m);
        jval_free(n);
    }
}

TEST(anonymized_and_real_addresses_are_not_merged)
{
    struct jval *a = doc_of("{\"summary_version\": 1, \"anonymized\": false}", NULL);
    struct jval *b = doc_of("{\"summary_version\": 1,\n \"anonymized\": true}", NULL);
    struct err e = {""};
    ASSERT(report_merge(a, "real.json", b, "anon.json", &e) == NULL);
    ASSERT_STREQ(e.msg, "anon.json:2:16: \"anonymized\" is true here but false in real.json: "
                        "pseudonymised and real addresses cannot be merged");
    ASSERT(report_merge(b, "anon.json", a, "real.json", &e) == NULL);
    jval_free(a);
    jval_free(b);
}

TEST(a_sum_past_2_64_is_refused_not_wrapped)
{
    struct jval *a = doc_of("{\"summary_version\": 1, \"hours\": {\"2026-11-28T17\": "
                            "{\"alerts\": 18446744073709551615}}}",
                            NULL);
    struct jval *b =
        doc_of("{\"summary_version\": 1, \"hours\": {\"2026-11-28T17\": {\"alerts\": 1}}}", NULL);
    struct err e = {""};
    ASSERT(report_merge(a, "a.json", b, "b.json", &e) == NULL);
    ASSERT(strstr(e.msg, "b.json:1:62: \"hours.2026-11-28T17.alerts\": 18446744073709551615 + 1 "
                         "passes 2^64-1") != NULL);
    jval_free(a);
    jval_free(b);
}

/* ---- writers -------------------------------------------------------------------------------- */

static const char hostile[] =
    "{\"summary_version\": 1, \"sensors\": [\"<script>alert(1)</script>\", \"a|b\\n# c\"],"
    " \"first\": \"<img src=x onerror=alert(2)>\", \"last\": \"\\\"'&\","
    " \"totals\": {\"sessions\": 3, \"cleartext\": 1, \"alerts\": 2},"
    " \"ports\": {\"<script>x</script>/25\": {\"sessions\": 3, \"cleartext\": 1, "
    "\"logins\": {\"<b>PLAIN</b>\": {\"cleartext\": 1}}, \"starttls_outcome\": {\"<i>x\": 1}}},"
    " \"tls\": {\"sessions\": 1, \"version\": {\"<svg onload=alert(3)>\": 1},"
    " \"cipher_weakness\": {\"</svg><script>\": 1}},"
    " \"findings\": {\"<script>f</script>\": 2},"
    " \"servers\": {\"[<script>]:25\": {\"alerts\": 2, \"findings\": {\"]]><script>\": 2}}},"
    " \"as\": {\"1\": {\"org\": \"</td><script>alert(4)</script>\\u0000\", \"sessions\": 1}},"
    " \"countries\": {\"<\\u0007>\": {\"sessions\": 1}},"
    " \"hours\": {\"<script>h\": {\"sessions\": 1}, \"2026-11-28T17\": {\"sessions\": 2}}}";

TEST(html_escapes_every_string_of_the_input)
{
    struct jval *v = doc_of(hostile, NULL);
    char *h = write_with(report_write_html, v);
    ASSERT(strstr(h, "<script") == NULL);
    ASSERT(strstr(h, "<img") == NULL);
    ASSERT(strstr(h, "<svg onload") == NULL);
    ASSERT(strstr(h, "<b>PLAIN") == NULL);
    ASSERT(strstr(h, "</td><script") == NULL);
    ASSERT(strstr(h, "&lt;script&gt;alert(1)&lt;/script&gt;") != NULL);
    ASSERT(strstr(h, "&quot;&#39;&amp;") != NULL);
    ASSERT(memchr(h, '\0', strlen(h) + 1) == h + strlen(h)); /* the NUL became U+FFFD */
    ASSERT(strstr(h, "\x07") == NULL);
    ASSERT(strstr(h, "http:") == NULL && strstr(h, "https:") == NULL); /* loads nothing */
    ASSERT(strstr(h, "default-src 'none'") != NULL);
    free(h);
    jval_free(v);
}

TEST(markdown_escapes_every_string_of_the_input)
{
    struct jval *v = doc_of(hostile, NULL);
    char *m = write_with(report_write_md, v);
    for (const char *p = strchr(m, '<'); p != NULL; p = strchr(p + 1, '<'))
        if (p == m || p[-1] != '\\') /* raw HTML would start here */
            TEST_FAIL("an unescaped '<': ...%.40s", p > m + 20 ? p - 20 : m);
    ASSERT(strstr(m, "\\<script\\>alert(1)\\</script\\>") != NULL);
    ASSERT(strstr(m, "a\\|b \\# c") != NULL); /* a cell stays a cell, a line a line */
    /* every table row has as many unescaped '|' as its header */
    const char *line = m;
    int cols = -1;
    while (*line) {
        const char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) : strlen(line);
        if (n > 0 && line[0] == '|') {
            int bars = 0;
            for (size_t i = 0; i < n; i++)
                if (line[i] == '|' && (i == 0 || line[i - 1] != '\\'))
                    bars++;
            if (cols < 0)
                cols = bars;
            if (bars != cols)
                TEST_FAIL("a row with %d cells in a table of %d: %.*s", bars - 1, cols - 1, (int)n,
                          line);
        } else {
            cols = -1;
        }
        line += n + (end != NULL);
    }
    free(m);
    jval_free(v);
}

TEST(html_has_the_five_charts_with_titles_and_data_marks)
{
    char *t = random_summary(42, false);
    struct jval *v = doc_of(t, NULL);
    char *h = write_with(report_write_html, v);
    static const char *const ids[] = {"ports", "tls-versions", "ciphers", "certs", "hours"};
    for (size_t i = 0; i < 5; i++) {
        char want[96];
        snprintf(want, sizeof want, "<svg id=\"chart-%s\" class=\"chart\" viewBox=", ids[i]);
        const char *at = strstr(h, want);
        if (at == NULL)
            TEST_FAIL("no chart-%s", ids[i]);
        snprintf(want, sizeof want, "<title id=\"chart-%s-title\">", ids[i]);
        ASSERT(strstr(at, want) != NULL);
        const char *end = strstr(at, "</svg>");
        ASSERT(end != NULL);
        const char *bar = strstr(at, "class=\"bar\"");
        ASSERT(bar != NULL && bar < end);
    }
    ASSERT(strstr(h, "<path class=\"line\"") != NULL);
    free(h);
    free(t);
    jval_free(v);
}

TEST(the_timeline_fills_empty_hours_and_goes_by_day_when_long)
{
    struct jval *v =
        doc_of("{\"summary_version\": 1, \"hours\": {\"2026-02-28T22\": {\"sessions\": 1},"
               " \"2026-03-01T01\": {\"sessions\": 2}, \"bogus\": {\"sessions\": 5},"
               " \"2026-02-29T00\": {\"sessions\": 7}}}",
               NULL);
    struct rv_bucket *b;
    bool by_day;
    size_t n = rv_timeline(rv_obj(v, "hours"), RV_TIMELINE, &b, &by_day);
    ASSERT(!by_day);
    ASSERT_EQ(n, 4); /* 22, 23, 00, 01: 2026 has no 29 February, so that key is not an hour */
    ASSERT_STREQ(b[0].label, "2026-02-28T22");
    ASSERT_EQ(b[1].sessions, 0);
    ASSERT_STREQ(b[3].label, "2026-03-01T01");
    ASSERT_EQ(b[3].sessions, 2);
    free(b);
    n = rv_timeline(rv_obj(v, "hours"), RV_TABLE, &b, &by_day);
    ASSERT_EQ(n, 4); /* the table keeps every key, bogus ones too */
    free(b);
    jval_free(v);

    v = doc_of("{\"summary_version\": 1, \"hours\": {\"1969-12-31T23\": {\"sessions\": 1},"
               " \"1970-03-01T00\": {\"sessions\": 2, \"alerts\": 3}}}",
               NULL);
    n = rv_timeline(rv_obj(v, "hours"), RV_TIMELINE, &b, &by_day);
    ASSERT(by_day); /* 1,417 hours: more than REPORT_TIMELINE_MAX_BARS */
    ASSERT_EQ(n, 61);
    ASSERT_STREQ(b[0].label, "1969-12-31");
    ASSERT_EQ(b[0].sessions, 1);
    ASSERT_STREQ(b[60].label, "1970-03-01");
    ASSERT_EQ(b[60].alerts, 3);
    free(b);
    jval_free(v);

    v = doc_of("{\"summary_version\": 1, \"hours\": {\"2001-01-01T00\": {\"sessions\": 1},"
               " \"2026-01-01T05\": {\"sessions\": 2}, \"2026-01-01T07\": {\"sessions\": 4}}}",
               NULL);
    n = rv_timeline(rv_obj(v, "hours"), RV_TIMELINE, &b, &by_day);
    ASSERT(by_day); /* 25 years of days: only the days that have data */
    ASSERT_EQ(n, 2);
    ASSERT_EQ(b[1].sessions, 6);
    free(b);
    jval_free(v);
}

TEST(numbers_read_as_a_person_writes_them)
{
    char b[40];
    rv_count(b, sizeof b, 0);
    ASSERT_STREQ(b, "0");
    rv_count(b, sizeof b, 1234);
    ASSERT_STREQ(b, "1,234");
    rv_count(b, sizeof b, 123456789);
    ASSERT_STREQ(b, "123,456,789");
    rv_count(b, sizeof b, UINT64_MAX);
    ASSERT_STREQ(b, "18,446,744,073,709,551,615");
    rv_pct(b, sizeof b, 1, 3);
    ASSERT_STREQ(b, "33.3%");
    rv_pct(b, sizeof b, 1, 100000);
    ASSERT_STREQ(b, "<0.1%");
    rv_pct(b, sizeof b, 99999, 100000);
    ASSERT_STREQ(b, ">99.9%");
    rv_pct(b, sizeof b, 0, 0);
    ASSERT_STREQ(b, "-");
}

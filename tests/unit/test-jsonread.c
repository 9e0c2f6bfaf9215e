/*
 * test-jsonread.c — the bounded JSON reader of `postcard report`
 * (sensor/jsonread.c): what it reads, what it refuses and where it says the
 * problem is, on valid documents and on hostile ones (cut anywhere, nested
 * too deep, numbers too big, bad escapes, lone surrogates, NUL bytes, bytes
 * that are not UTF-8, duplicate keys, too many values, random damage).
 *
 * Every input is copied into a buffer of exactly its length before it is
 * parsed, so ASan catches a read past the end (STYLE §7).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/jsonread.h"
#include "sensor-limits.h"
#include "test.h"

/* Parse exactly n bytes of s (copied to a buffer of that size). */
static struct jval *parse_n(const char *s, size_t n, struct jread_err *e)
{
    char *copy = malloc(n ? n : 1);
    ASSERT(copy != NULL);
    memcpy(copy, s, n);
    memset(e, 0, sizeof *e);
    struct jval *v = jsonread_parse(copy, n, e);
    free(copy);
    return v;
}

static struct jval *parse(const char *s, struct jread_err *e)
{
    return parse_n(s, strlen(s), e);
}

/* The input must be refused at line:col with a message containing `want`. */
static void refused_n(const char *s, size_t n, unsigned line, unsigned col, const char *want,
                      int at)
{
    struct jread_err e;
    struct jval *v = parse_n(s, n, &e);
    if (v != NULL)
        TEST_FAIL("line %d: accepted what should be refused", at);
    if (e.line != line || e.col != col || strstr(e.msg, want) == NULL)
        TEST_FAIL("line %d: got %u:%u: %s\n    want %u:%u: ...%s...", at, e.line, e.col, e.msg,
                  line, col, want);
}

#define REFUSED(s, line, col, want) refused_n((s), strlen(s), (line), (col), (want), __LINE__)
#define REFUSED_N(s, n, line, col, want) refused_n((s), (n), (line), (col), (want), __LINE__)

/* Written form of a tree, in a malloc'ed string. */
static char *written(const struct jval *v)
{
    char *out = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&out, &n);
    ASSERT(f != NULL);
    ASSERT_EQ(jval_write(f, v), 0);
    fclose(f);
    return out;
}

TEST(reads_a_document_with_every_kind_of_value)
{
    struct jread_err e;
    struct jval *v = parse("{\"b\": [1, 2.5, -3, true, false, null, \"x\"],\n"
                           " \"a\": {\"z\": 0, \"y\": 18446744073709551615}}",
                           &e);
    ASSERT(v != NULL);
    ASSERT_EQ(v->type, JV_OBJ);
    ASSERT_EQ(v->obj.n, 2);
    ASSERT_STREQ(v->obj.m[0].key, "a"); /* members sorted by key */
    ASSERT_STREQ(v->obj.m[1].key, "b");
    const struct jval *b = jval_get(v, "b");
    ASSERT_EQ(b->type, JV_ARR);
    ASSERT_EQ(b->arr.n, 7);
    ASSERT_EQ(b->arr.v[0].type, JV_INT);
    ASSERT_EQ(b->arr.v[0].u, 1);
    ASSERT_EQ(b->arr.v[1].type, JV_NUM);
    ASSERT_EQ(b->arr.v[2].type, JV_NUM);
    ASSERT_EQ(b->arr.v[3].type, JV_BOOL);
    ASSERT(b->arr.v[3].b);
    ASSERT_EQ(b->arr.v[4].type, JV_BOOL);
    ASSERT(!b->arr.v[4].b);
    ASSERT_EQ(b->arr.v[5].type, JV_NULL);
    ASSERT_EQ(b->arr.v[6].type, JV_STR);
    ASSERT_STREQ(b->arr.v[6].str.s, "x");
    const struct jval *a = jval_get(v, "a");
    ASSERT(jval_get(a, "y")->u == UINT64_MAX);
    ASSERT_EQ(jval_get(a, "y")->line, 2); /* positions of values */
    ASSERT_EQ(jval_get(a, "y")->col, 21);
    ASSERT_EQ(jval_get(a, "z")->col, 13);
    ASSERT(jval_get(a, "nope") == NULL);
    ASSERT(jval_get(b, "x") == NULL); /* not an object */
    jval_free(v);
}

TEST(empty_containers_and_a_bare_scalar_are_documents)
{
    struct jread_err e;
    const char *ok[] = {"{}", "[]", " { } ", "[[]]", "0", "\"\"", "true", "null", "\xef\xbb\xbf{}"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        struct jval *v = parse(ok[i], &e);
        if (v == NULL)
            TEST_FAIL("\"%s\" refused: %u:%u: %s", ok[i], e.line, e.col, e.msg);
        jval_free(v);
    }
}

TEST(escapes_decode_to_utf8_with_surrogate_pairs_and_nul)
{
    struct jread_err e;
    struct jval *v = parse("[\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\", \"\\u00e9\\u20AC\", "
                           "\"\\ud83d\\ude00\", \"x\\u0000y\", \"\xc3\xa9\xf0\x9f\x98\x80\"]",
                           &e);
    ASSERT(v != NULL);
    ASSERT_STREQ(v->arr.v[0].str.s, "a\"b\\c/d\b\f\n\r\t");
    ASSERT_STREQ(v->arr.v[1].str.s, "\xc3\xa9\xe2\x82\xac");
    ASSERT_STREQ(v->arr.v[2].str.s, "\xf0\x9f\x98\x80");
    ASSERT_EQ(v->arr.v[3].str.n, 3); /* the NUL is inside the string */
    ASSERT_MEMEQ(v->arr.v[3].str.s, "x\0y", 4);
    ASSERT_STREQ(v->arr.v[4].str.s, "\xc3\xa9\xf0\x9f\x98\x80");
    jval_free(v);
}

TEST(bad_escapes_are_refused_where_they_start)
{
    REFUSED("[\"ab\\x\"]", 1, 5, "unknown escape \\x");
    REFUSED("[\"\\u12\"]", 1, 3, "four hex digits");
    REFUSED("[\"\\u12G4\"]", 1, 3, "four hex digits");
    REFUSED("[\"\\udc00\"]", 1, 3, "second half of a surrogate pair");
    REFUSED("[\"\\ud800\"]", 1, 3, "must be followed by a \\uDC00-\\uDFFF");
    REFUSED("[\"\\ud800x\"]", 1, 3, "must be followed by a \\uDC00-\\uDFFF");
    REFUSED("[\"\\ud800\\u0041\"]", 1, 9, "must be followed by a \\uDC00-\\uDFFF");
    REFUSED("[\"\\ud800\\ud800\"]", 1, 9, "must be followed by a \\uDC00-\\uDFFF");
    REFUSED_N("[\"\\\x01\"]", 6, 1, 3, "byte 0x01");
    REFUSED("\"\\", 1, 1, "not closed");
    REFUSED("\"\\u", 1, 1, "not closed");
    REFUSED("\"\\\"", 1, 1, "not closed");
}

TEST(strings_must_be_utf8_without_raw_control_bytes)
{
    REFUSED("[\"a\tb\"]", 1, 4, "control character 0x09");
    REFUSED("[\"a\nb\"]", 1, 4, "control character 0x0a");
    REFUSED("[\"\xff\"]", 1, 3, "0xff is not valid UTF-8");
    REFUSED("[\"\xc0\x80\"]", 1, 3, "not valid UTF-8");         /* overlong NUL */
    REFUSED("[\"\xe0\x80\xaf\"]", 1, 3, "not valid UTF-8");     /* overlong '/' */
    REFUSED("[\"\xed\xa0\x80\"]", 1, 3, "not valid UTF-8");     /* a surrogate */
    REFUSED("[\"\xf4\x90\x80\x80\"]", 1, 3, "not valid UTF-8"); /* past U+10FFFF */
    REFUSED("[\"\xe2\x82\"]", 1, 3, "not valid UTF-8");         /* cut before the quote */
    REFUSED("{\"k\x80\":1}", 1, 4, "not valid UTF-8");          /* keys too */
}

TEST(nul_bytes_are_refused_inside_and_outside_strings)
{
    REFUSED_N("[\"a\0b\"]", 7, 1, 4, "control character 0x00");
    REFUSED_N("[1,\0 2]", 7, 1, 4, "found byte 0x00");
    REFUSED_N("{}\0", 3, 1, 3, "byte 0x00 after the end of the document");
    REFUSED_N("\0", 1, 1, 1, "found byte 0x00");
}

TEST(numbers_past_uint64_or_not_integers_are_kept_as_numbers)
{
    struct jread_err e;
    const char *nums[] = {"18446744073709551616",
                          "99999999999999999999999",
                          "-1",
                          "-0",
                          "1.5",
                          "1e3",
                          "1E+3",
                          "0.0",
                          "2e-2"};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        struct jval *v = parse(nums[i], &e);
        if (v == NULL || v->type != JV_NUM)
            TEST_FAIL("%s: not read as JV_NUM", nums[i]);
        jval_free(v);
    }
    struct jval *v = parse("[0, 18446744073709551615, 10]", &e);
    ASSERT(v != NULL && v->arr.v[0].u == 0 && v->arr.v[1].u == UINT64_MAX && v->arr.v[2].u == 10);
    jval_free(v);
}

TEST(numbers_outside_the_grammar_are_refused)
{
    REFUSED("01", 1, 1, "may not start with 0");
    REFUSED("[-]", 1, 3, "expected a digit, found ']'");
    REFUSED("[1.]", 1, 4, "after '.'");
    REFUSED("[1e]", 1, 4, "in the exponent");
    REFUSED("[1e+]", 1, 5, "in the exponent");
    REFUSED("[.5]", 1, 2, "expected a value");
    REFUSED("[+1]", 1, 2, "expected a value");
    REFUSED("[0x10]", 1, 3, "expected ',' or ']'");
    REFUSED("[NaN]", 1, 2, "expected a value");
    REFUSED("[Infinity]", 1, 2, "expected a value");
    REFUSED("-", 1, 2, "found end of input");
}

TEST(nesting_stops_at_the_limit)
{
    char deep[2 * REPORT_JSON_MAX_DEPTH + 8];
    size_t n = 0;
    for (int i = 0; i < REPORT_JSON_MAX_DEPTH; i++)
        deep[n++] = '[';
    for (int i = 0; i < REPORT_JSON_MAX_DEPTH; i++)
        deep[n++] = ']';
    struct jread_err e;
    struct jval *v = parse_n(deep, n, &e);
    ASSERT(v != NULL); /* exactly the limit: fine */
    jval_free(v);
    /* one level more, with objects: refused at the opening brace of level 33 */
    char text[16 * REPORT_JSON_MAX_DEPTH];
    size_t t = 0;
    for (int i = 0; i <= REPORT_JSON_MAX_DEPTH; i++)
        t += (size_t)snprintf(text + t, sizeof text - t, "{\"k\":");
    REFUSED_N(text, t, 1, (unsigned)(5 * REPORT_JSON_MAX_DEPTH + 1), "nested deeper than 32");
    /* a million brackets: refused at the limit, without recursing a million times */
    size_t big = 1000000;
    char *b = malloc(big);
    ASSERT(b != NULL);
    memset(b, '[', big);
    REFUSED_N(b, big, 1, REPORT_JSON_MAX_DEPTH + 1, "nested deeper");
    free(b);
}

TEST(too_many_values_are_refused)
{
    size_t n = (size_t)REPORT_JSON_MAX_VALUES + 1; /* the array itself is one value */
    size_t len = 2 * n + 2;
    char *s = malloc(len);
    ASSERT(s != NULL);
    size_t k = 0;
    s[k++] = '[';
    for (size_t i = 0; i < n; i++) {
        s[k++] = '0';
        s[k++] = ',';
    }
    s[k - 1] = ']';
    struct jread_err e;
    struct jval *v = jsonread_parse(s, k, &e);
    ASSERT(v == NULL);
    ASSERT(strstr(e.msg, "more than") != NULL);
    /* one element fewer fits */
    k = 0;
    s[k++] = '[';
    for (size_t i = 0; i + 2 < n; i++) {
        s[k++] = '0';
        s[k++] = ',';
    }
    s[k - 1] = ']';
    v = jsonread_parse(s, k, &e);
    ASSERT(v != NULL);
    ASSERT_EQ(v->arr.n, n - 2);
    jval_free(v);
    free(s);
}

TEST(a_document_past_the_size_limit_is_refused_before_reading)
{
    struct jread_err e;
    /* the length alone decides: the bytes are not looked at */
    static const char tiny[] = "{}";
    ASSERT(jsonread_parse(tiny, (size_t)REPORT_JSON_MAX_BYTES + 1, &e) == NULL);
    ASSERT(strstr(e.msg, "larger than 64 MiB") != NULL);
}

TEST(duplicate_keys_are_refused_at_the_second)
{
    REFUSED("{\"a\": 1,\n \"b\": 2,\n \"a\": 3}", 3, 2, "key given twice");
    REFUSED("{\"x\": {\"q\": 1, \"q\": 1}}", 1, 16, "key given twice");
    REFUSED("{\"a\\u0000\": 1, \"a\\u0000\": 2}", 1, 16, "key given twice");
    struct jread_err e; /* a NUL makes a different key */
    struct jval *v = parse("{\"a\\u0000\": 1, \"a\": 2}", &e);
    ASSERT(v != NULL);
    ASSERT_EQ(v->obj.n, 2);
    ASSERT_EQ(v->obj.m[0].klen, 1); /* "a" sorts before "a\0" */
    jval_free(v);
}

TEST(errors_name_line_and_column)
{
    REFUSED("{\n  \"a\": tru\n}", 2, 8, "expected a value, found 't'");
    REFUSED("{\n  \"a\" 1}", 2, 7, "expected ':' after a key, found '1'");
    REFUSED("{\"a\":1,}", 1, 8, "expected a string key, found '}'");
    REFUSED("[1 2]", 1, 4, "expected ',' or ']' in an array, found '2'");
    REFUSED("{\"a\":1 \"b\":2}", 1, 8, "expected ',' or '}' in an object");
    REFUSED("{} {}", 1, 4, "'{' after the end of the document");
    REFUSED("", 1, 1, "unexpected end of input");
    REFUSED("  \r\n\t ", 2, 3, "unexpected end of input");
    REFUSED("{\"a\":", 1, 6, "unexpected end of input");
    REFUSED("\n\n   [\"abc", 3, 5, "string not closed");
}

TEST(every_cut_of_a_valid_document_is_refused_cleanly)
{
    static const char doc[] =
        "{\"summary_version\": 1, \"sensors\": [\"mx-1\", \"\\u00e9t\\u00e9\"],\n"
        " \"ports\": {\"smtp/25\": {\"sessions\": 12, \"logins\": {\"PLAIN\": "
        "{\"cleartext\": 3, \"protected\": 0}}}},\n"
        " \"x\": [true, false, null, -1.5e3, \"\\ud83d\\ude00\"]}";
    size_t n = strlen(doc);
    for (size_t cut = 0; cut < n; cut++) {
        struct jread_err e;
        struct jval *v = parse_n(doc, cut, &e);
        if (v != NULL)
            TEST_FAIL("the first %zu bytes were accepted", cut);
        if (e.line < 1 || e.line > 3 || e.col < 1 || e.msg[0] == '\0')
            TEST_FAIL("cut at %zu: %u:%u: %s", cut, e.line, e.col, e.msg);
    }
    struct jread_err e;
    struct jval *v = parse_n(doc, n, &e);
    ASSERT(v != NULL);
    jval_free(v);
}

TEST(writing_then_reading_gives_the_same_tree)
{
    struct jread_err e;
    struct jval *v =
        parse("{\"z\": {\"b\": [1, \"two\", {}], \"a\": []}, \"s\": \"q\\\"\\\\\\u0001\\u007f"
              "\\n\\u0000\xc3\xa9\", \"t\": true, \"n\": null}",
              &e);
    ASSERT(v != NULL);
    char *a = written(v);
    struct jval *w = parse(a, &e);
    ASSERT(w != NULL);
    char *b = written(w);
    ASSERT_STREQ(a, b);
    ASSERT_STREQ(a, "{\n  \"n\": null,\n  \"s\": \"q\\\"\\\\\\u0001\\u007f\\n\\u0000\xc3\xa9\",\n"
                    "  \"t\": true,\n  \"z\": {\n    \"a\": [],\n    \"b\": [\n      1,\n"
                    "      \"two\",\n      {}\n    ]\n  }\n}\n");
    free(a);
    free(b);
    jval_free(v);
    jval_free(w);
}

TEST(copies_are_deep)
{
    struct jread_err e;
    struct jval *v = parse("{\"a\": [\"x\", {\"b\": \"y\"}]}", &e);
    ASSERT(v != NULL);
    struct jval c;
    jval_copy(&c, v);
    jval_free(v); /* the copy must not share anything with it (ASan) */
    char *s = written(&c);
    ASSERT_STREQ(s, "{\n  \"a\": [\n    \"x\",\n    {\n      \"b\": \"y\"\n    }\n  ]\n}\n");
    free(s);
    jval_clear(&c);
}

/* A small deterministic generator (xorshift64*), so failures repeat. */
static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

TEST(random_damage_never_crashes_and_what_reads_writes_back)
{
    static const char seed_doc[] =
        "{\"summary_version\": 1, \"sensors\": [\"a\", \"b\"], \"anonymized\": false,\n"
        " \"ports\": {\"smtp/25\": {\"sessions\": 12, \"starttls_outcome\": {\"upgraded\": 3}}},\n"
        " \"hours\": {\"2026-11-28T17\": {\"sessions\": 4}}, \"s\": \"\\u00e9\\ud83d\\ude00\"}";
    static const char bytes[] = "{}[]\",:\\u0123456789eE+-.tfnrl \n\x00\x80\xc3\xff";
    uint64_t rng = 0x9e3779b97f4a7c15ULL;
    size_t n = strlen(seed_doc), accepted = 0;
    char buf[512];
    for (int round = 0; round < 20000; round++) {
        memcpy(buf, seed_doc, n);
        size_t len = n;
        int edits = 1 + (int)(rng_next(&rng) % 4);
        for (int k = 0; k < edits; k++) {
            size_t at = (size_t)(rng_next(&rng) % len);
            char c = bytes[rng_next(&rng) % (sizeof bytes - 1)];
            switch (rng_next(&rng) % 3) {
            case 0: /* replace */
                buf[at] = c;
                break;
            case 1: /* delete */
                memmove(buf + at, buf + at + 1, len - at - 1);
                len--;
                break;
            default: /* insert */
                if (len + 1 < sizeof buf) {
                    memmove(buf + at + 1, buf + at, len - at);
                    buf[at] = c;
                    len++;
                }
            }
        }
        struct jread_err e;
        struct jval *v = parse_n(buf, len, &e);
        if (v == NULL) {
            ASSERT(e.line >= 1 && e.col >= 1 && e.msg[0] != '\0');
            continue;
        }
        accepted++;
        char *a = written(v);
        struct jval *w = parse(a, &e);
        if (w == NULL)
            TEST_FAIL("what was read does not read back: %u:%u: %s\n%s", e.line, e.col, e.msg, a);
        char *b = written(w);
        ASSERT_STREQ(a, b);
        free(a);
        free(b);
        jval_free(v);
        jval_free(w);
    }
    ASSERT(accepted > 100); /* some damage is harmless (a digit for a digit) */
}

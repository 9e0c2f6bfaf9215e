/*
 * test-json.c — the JSON record builder: exact output, RFC 8259 escaping of
 * wire text (control bytes, DEL, bytes that are not UTF-8), and records
 * that do not fit in JSON_LINE_MAX, which must still be one valid JSON
 * object ending in "}\n".
 *
 * Validity is checked by a strict parser written here (RFC 8259 grammar,
 * UTF-8 per RFC 3629), and for a few records also by python3's json module.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eve/json.h"
#include "sensor-limits.h"
#include "test.h"

/* ---- a strict JSON checker ---------------------------------------------- */

struct jp {
    const unsigned char *p;   /* next byte */
    const unsigned char *end; /* one past the last byte */
    int depth;                /* nesting, to bound recursion */
};

static bool jp_value(struct jp *j);

static void jp_ws(struct jp *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static bool jp_lit(struct jp *j, const char *s)
{
    size_t n = strlen(s);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, s, n) != 0)
        return false;
    j->p += n;
    return true;
}

static bool is_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* One UTF-8 sequence starting at j->p (RFC 3629: no overlongs, surrogates
 * or code points past U+10FFFF). */
static bool jp_utf8(struct jp *j)
{
    unsigned char c = *j->p;
    size_t k;
    uint32_t cp, min;
    if (c >= 0xc2 && c <= 0xdf) {
        k = 2;
        cp = c & 0x1f;
        min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        k = 3;
        cp = c & 0x0f;
        min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        k = 4;
        cp = c & 0x07;
        min = 0x10000;
    } else {
        return false;
    }
    if ((size_t)(j->end - j->p) < k)
        return false;
    for (size_t i = 1; i < k; i++) {
        if ((j->p[i] & 0xc0) != 0x80)
            return false;
        cp = cp << 6 | (j->p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return false;
    j->p += k;
    return true;
}

static bool jp_string(struct jp *j)
{
    if (j->p >= j->end || *j->p != '"')
        return false;
    j->p++;
    while (j->p < j->end) {
        unsigned char c = *j->p;
        if (c == '"') {
            j->p++;
            return true;
        }
        if (c < 0x20)
            return false; /* RFC 8259 §7: control characters must be escaped */
        if (c == '\\') {
            if (j->end - j->p < 2)
                return false;
            unsigned char e = j->p[1];
            if (e == 'u') {
                if (j->end - j->p < 6)
                    return false;
                for (int i = 2; i < 6; i++)
                    if (!is_hex(j->p[i]))
                        return false;
                j->p += 6;
            } else if (strchr("\"\\/bfnrt", e) != NULL && e != '\0') {
                j->p += 2;
            } else {
                return false;
            }
        } else if (c >= 0x80) {
            if (!jp_utf8(j))
                return false;
        } else {
            j->p++;
        }
    }
    return false;
}

static bool jp_digits(struct jp *j)
{
    const unsigned char *s = j->p;
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
        j->p++;
    return j->p > s;
}

static bool jp_number(struct jp *j)
{
    if (j->p < j->end && *j->p == '-')
        j->p++;
    if (j->p < j->end && *j->p == '0')
        j->p++;
    else if (!jp_digits(j))
        return false;
    if (j->p < j->end && *j->p == '.') {
        j->p++;
        if (!jp_digits(j))
            return false;
    }
    if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
        j->p++;
        if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
            j->p++;
        if (!jp_digits(j))
            return false;
    }
    return true;
}

static bool jp_members(struct jp *j, bool is_obj)
{
    char close = is_obj ? '}' : ']';
    j->p++; /* the opening bracket */
    if (++j->depth > 64)
        return false;
    jp_ws(j);
    if (j->p < j->end && *j->p == close) {
        j->p++;
        j->depth--;
        return true;
    }
    for (;;) {
        jp_ws(j);
        if (is_obj) {
            if (!jp_string(j))
                return false;
            jp_ws(j);
            if (j->p >= j->end || *j->p != ':')
                return false;
            j->p++;
        }
        if (!jp_value(j))
            return false;
        jp_ws(j);
        if (j->p >= j->end)
            return false;
        if (*j->p == ',') {
            j->p++;
            continue;
        }
        if (*j->p != close)
            return false;
        j->p++;
        j->depth--;
        return true;
    }
}

static bool jp_value(struct jp *j)
{
    jp_ws(j);
    if (j->p >= j->end)
        return false;
    switch (*j->p) {
    case '{':
        return jp_members(j, true);
    case '[':
        return jp_members(j, false);
    case '"':
        return jp_string(j);
    case 't':
        return jp_lit(j, "true");
    case 'f':
        return jp_lit(j, "false");
    case 'n':
        return jp_lit(j, "null");
    default:
        return jp_number(j);
    }
}

/* A finished record: one JSON object, then "\n", nothing else, NUL after. */
static void check_record(const struct jbuf *j, int line)
{
    if (j->len < 3 || j->len >= sizeof j->buf)
        TEST_FAIL("line %d: record length %zu", line, j->len);
    if (j->buf[j->len] != '\0' || strlen(j->buf) != j->len)
        TEST_FAIL("line %d: record is not a C string of its length", line);
    if (j->buf[0] != '{' || j->buf[j->len - 2] != '}' || j->buf[j->len - 1] != '\n')
        TEST_FAIL("line %d: record does not run from \"{\" to \"}\\n\": ...\"%s\"", line,
                  j->buf + (j->len > 40 ? j->len - 40 : 0));
    if (memchr(j->buf, '\n', j->len - 1) != NULL)
        TEST_FAIL("line %d: record is more than one line", line);
    struct jp p = {(const unsigned char *)j->buf, (const unsigned char *)j->buf + j->len - 1, 0};
    if (p.p[0] != '{' || !jp_value(&p) || p.p != p.end) {
        size_t at = (size_t)(p.p - (const unsigned char *)j->buf);
        TEST_FAIL("line %d: not valid JSON near byte %zu of %zu: ...\"%.60s\"", line, at, j->len,
                  j->buf + (at > 30 ? at - 30 : 0));
    }
}

#define CHECK_RECORD(j) check_record((j), __LINE__)

/* Second opinion: python3's json module parses the record. */
static void python_accepts(const struct jbuf *j)
{
    if (system("command -v python3 >/dev/null 2>&1") != 0) {
        fprintf(stderr, "  (python3 not found: second check skipped)\n");
        return;
    }
    FILE *py = popen("python3 -c 'import json,sys; json.loads(sys.stdin.buffer.read())'", "w");
    ASSERT(py != NULL);
    ASSERT_EQ(fwrite(j->buf, 1, j->len, py), j->len);
    int status = pclose(py);
    if (status != 0)
        TEST_FAIL("python3 json.loads rejected the record (status %d)", status);
}

static struct jbuf *jnew(void)
{
    struct jbuf *j = malloc(sizeof *j);
    ASSERT(j != NULL);
    memset(j, 0x5a, sizeof *j); /* j_begin must set up everything */
    return j;
}

/* The record of one string member "s". */
static void one_string(struct jbuf *j, const char *s, size_t n)
{
    j_begin(j);
    j_strn(j, "s", (const uint8_t *)s, n);
    j_end(j);
}

#define STRLIT(s) (s), (sizeof(s) - 1)

/* ---- exact output ------------------------------------------------------- */

TEST(empty_record)
{
    struct jbuf *j = jnew();
    j_begin(j);
    j_end(j);
    ASSERT_STREQ(j->buf, "{}\n");
    ASSERT_EQ(j->len, 3);
    ASSERT(!j->is_full);
    free(j);
}

TEST(scalar_members_in_order)
{
    struct jbuf *j = jnew();
    j_begin(j);
    j_str(j, "event", "smtp");
    j_u64(j, "zero", 0);
    j_u64(j, "max", UINT64_MAX);
    j_i64(j, "neg", INT64_MIN);
    j_bool(j, "yes", true);
    j_bool(j, "no", false);
    j_null(j, "nothing");
    j_str(j, "empty", "");
    j_end(j);
    ASSERT_STREQ(j->buf, "{\"event\":\"smtp\",\"zero\":0,\"max\":18446744073709551615,"
                         "\"neg\":-9223372036854775808,\"yes\":true,\"no\":false,"
                         "\"nothing\":null,\"empty\":\"\"}\n");
    CHECK_RECORD(j);
    free(j);
}

TEST(fixed_point_numbers_have_their_decimals_and_no_nan)
{
    struct jbuf *j = jnew();
    j_begin(j);
    j_fixed(j, "zero", 0.0, 6);
    j_fixed(j, "share", 1.0 / 80.0, 6);
    j_fixed(j, "third", 1.0 / 3.0, 3);
    j_fixed(j, "one", 1.0, 0);
    j_fixed(j, "neg", -2.5, 1);
    j_fixed(j, "nan", 0.0 / 0.0, 6);
    j_fixed(j, "inf", 1.0 / 0.0, 6);
    j_fixed(j, "huge", 1e300, 6);
    j_end(j);
    ASSERT_STREQ(j->buf, "{\"zero\":0.000000,\"share\":0.012500,\"third\":0.333,\"one\":1,"
                         "\"neg\":-2.5,\"nan\":null,\"inf\":null,\"huge\":null}\n");
    CHECK_RECORD(j);
    python_accepts(j);
    free(j);
}

TEST(nested_objects_and_arrays)
{
    struct jbuf *j = jnew();
    j_begin(j);
    j_u64(j, "flow_id", 42);
    j_obj(j, "smtp");
    j_str(j, "helo", "client.example.org");
    j_arr(j, "rcpt_to");
    j_str(j, NULL, "<a@example.org>");
    j_str(j, NULL, "<b@example.org>");
    j_arr_end(j);
    j_arr(j, "none");
    j_arr_end(j);
    j_obj_end(j);
    j_arr(j, "mixed");
    j_u64(j, NULL, 1);
    j_obj(j, NULL);
    j_str(j, "k", "v");
    j_obj_end(j);
    j_obj(j, NULL);
    j_obj_end(j);
    j_arr(j, NULL);
    j_u64(j, NULL, 2);
    j_arr_end(j);
    j_arr_end(j);
    j_obj(j, "empty");
    j_obj_end(j);
    j_u64(j, "last", 7);
    j_end(j);
    ASSERT_STREQ(j->buf, "{\"flow_id\":42,\"smtp\":{\"helo\":\"client.example.org\","
                         "\"rcpt_to\":[\"<a@example.org>\",\"<b@example.org>\"],\"none\":[]},"
                         "\"mixed\":[1,{\"k\":\"v\"},{},[2]],\"empty\":{},\"last\":7}\n");
    CHECK_RECORD(j);
    python_accepts(j);
    free(j);
}

TEST(j_end_closes_what_is_left_open)
{
    struct jbuf *j = jnew();
    j_begin(j);
    j_obj(j, "a");
    j_arr(j, "b");
    j_u64(j, NULL, 1);
    j_end(j);
    ASSERT_STREQ(j->buf, "{\"a\":{\"b\":[1]}}\n");
    CHECK_RECORD(j);
    free(j);
}

TEST(j_begin_starts_afresh_after_a_full_record)
{
    struct jbuf *j = jnew();
    static char big[JSON_LINE_MAX + 10];
    memset(big, 'a', sizeof big - 1);
    j_begin(j);
    j_obj(j, "o");
    j_str(j, "big", big);
    j_end(j);
    ASSERT(j->is_full);
    j_begin(j);
    j_u64(j, "n", 1);
    j_end(j);
    ASSERT_STREQ(j->buf, "{\"n\":1}\n");
    ASSERT(!j->is_full);
    free(j);
}

/* ---- escaping ----------------------------------------------------------- */

TEST(quotes_backslash_and_named_escapes)
{
    struct jbuf *j = jnew();
    one_string(j, STRLIT("say \"hi\" \\ bye\r\n\tend/"));
    ASSERT_STREQ(j->buf, "{\"s\":\"say \\\"hi\\\" \\\\ bye\\r\\n\\tend/\"}\n");
    CHECK_RECORD(j);
    free(j);
}

TEST(control_bytes_and_del_as_u00xx)
{
    struct jbuf *j = jnew();
    one_string(j, STRLIT("\x00\x01\x08\x0b\x0c\x1b\x1f \x7f~"));
    ASSERT_STREQ(j->buf, "{\"s\":\"\\u0000\\u0001\\u0008\\u000b\\u000c\\u001b\\u001f "
                         "\\u007f~\"}\n");
    CHECK_RECORD(j);
    /* every byte below 0x20 comes out escaped */
    for (unsigned c = 0; c < 0x20; c++) {
        char s[1] = {(char)c};
        one_string(j, s, 1);
        CHECK_RECORD(j);
        ASSERT(j->buf[6] == '\\');
    }
    free(j);
}

TEST(valid_multibyte_utf8_is_kept)
{
    struct jbuf *j = jnew();
    /* é (2 bytes), € (3), U+FFFD (3), 😀 (4), U+10FFFF (4) */
    one_string(j,
               STRLIT("caf\xc3\xa9 \xe2\x82\xac \xef\xbf\xbd \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf"));
    ASSERT_STREQ(j->buf, "{\"s\":\"caf\xc3\xa9 \xe2\x82\xac \xef\xbf\xbd \xf0\x9f\x98\x80 "
                         "\xf4\x8f\xbf\xbf\"}\n");
    CHECK_RECORD(j);
    python_accepts(j);
    free(j);
}

TEST(bytes_that_are_not_utf8_become_u00xx)
{
    static const struct {
        const char *in;  /* wire bytes */
        size_t n;        /* their length */
        const char *out; /* the record */
    } cases[] = {
        {STRLIT("\xff"), "{\"s\":\"\\u00ff\"}\n"},
        {STRLIT("a\x80z"), "{\"s\":\"a\\u0080z\"}\n"},                   /* lone continuation */
        {STRLIT("\xc3"), "{\"s\":\"\\u00c3\"}\n"},                       /* cut 2-byte sequence */
        {STRLIT("\xe2\x82"), "{\"s\":\"\\u00e2\\u0082\"}\n"},            /* cut 3-byte sequence */
        {STRLIT("\xc3("), "{\"s\":\"\\u00c3(\"}\n"},                     /* bad continuation */
        {STRLIT("\xc0\xaf"), "{\"s\":\"\\u00c0\\u00af\"}\n"},            /* overlong '/' */
        {STRLIT("\xe0\x80\xaf"), "{\"s\":\"\\u00e0\\u0080\\u00af\"}\n"}, /* overlong */
        {STRLIT("\xed\xa0\x80"), "{\"s\":\"\\u00ed\\u00a0\\u0080\"}\n"}, /* surrogate D800 */
        {STRLIT("\xf4\x90\x80\x80"),
         "{\"s\":\"\\u00f4\\u0090\\u0080\\u0080\"}\n"}, /* past U+10FFFF */
        {STRLIT("\xf8\x88\x80\x80\x80"),
         "{\"s\":\"\\u00f8\\u0088\\u0080\\u0080\\u0080\"}\n"}, /* 5-byte form */
        {STRLIT("ok\xc3\xa9\xff\xc3\xa9"), "{\"s\":\"ok\xc3\xa9\\u00ff\xc3\xa9\"}\n"},
    };
    struct jbuf *j = jnew();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        one_string(j, cases[i].in, cases[i].n);
        if (strcmp(j->buf, cases[i].out) != 0)
            TEST_FAIL("case %zu:\n    \"%s\"\n != \"%s\"", i, j->buf, cases[i].out);
        CHECK_RECORD(j);
    }
    free(j);
}

TEST(every_byte_value_gives_valid_json)
{
    struct jbuf *j = jnew();
    char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (char)i;
    one_string(j, all, sizeof all);
    CHECK_RECORD(j);
    python_accepts(j);
    /* and every pair, to catch a sequence judged across two bytes */
    for (int a = 0x80; a < 0x100; a++) {
        for (int b = 0; b < 0x100; b += 7) {
            char s[3] = {(char)a, (char)b, 'x'};
            one_string(j, s, 3);
            CHECK_RECORD(j);
        }
    }
    free(j);
}

/* ---- records that do not fit -------------------------------------------- */

TEST(string_longer_than_a_record_is_left_out_and_marked)
{
    struct jbuf *j = jnew();
    size_t n = JSON_LINE_MAX + 100;
    char *big = malloc(n + 1);
    ASSERT(big != NULL);
    memset(big, 'a', n);
    big[n] = '\0';
    j_begin(j);
    j_str(j, "event", "smtp");
    j_str(j, "body", big);
    j_end(j);
    ASSERT(j->is_full);
    CHECK_RECORD(j);
    python_accepts(j);
    ASSERT(strstr(j->buf, "\"event\":\"smtp\"") != NULL);
    ASSERT(strstr(j->buf, "\"body\"") == NULL); /* left out whole */
    free(big);
    free(j);
}

/*
 * Fill a record to just below, at and just past the limit with one long
 * string inside `depth` open levels, then close everything and add more;
 * at every length the record must be valid JSON ending in "}\n".
 * `unit` is what the string is made of (one byte, a 6-byte escape or a
 * 2-byte UTF-8 sequence), so the limit falls at every place inside one.
 */
static void fill_one(int depth, const char *unit, size_t unit_len, size_t unit_out,
                     bool member_after)
{
    struct jbuf *j = jnew();
    size_t max = JSON_LINE_MAX / unit_len + 8;
    char *s = malloc(max * unit_len);
    ASSERT(s != NULL);
    for (size_t i = 0; i < max; i++)
        memcpy(s + i * unit_len, unit, unit_len);
    /* bytes before the string's content: {"o0":{"o1":[... "x":" */
    size_t prefix = 1 + (size_t)depth * 6 + 5;
    size_t room = JSON_LINE_MAX - prefix;
    int cuts = 0;
    for (size_t out = room - 64; out <= room + 8; out++) {
        size_t units = out / unit_out;
        j_begin(j);
        for (int d = 0; d < depth; d++) {
            char k[16];
            snprintf(k, sizeof k, "o%d", d);
            if (d % 2)
                j_arr(j, k);
            else
                j_obj(j, k);
            if (d % 2)
                j_obj(j, NULL); /* arrays hold an object */
        }
        j_strn(j, "x", (const uint8_t *)s, units * unit_len);
        if (member_after)
            j_u64(j, "after", 1);
        for (int d = depth - 1; d >= 0; d--) {
            if (d % 2) {
                j_obj_end(j);
                j_arr_end(j);
            } else {
                j_obj_end(j);
            }
        }
        j_u64(j, "tail", 2);
        j_end(j);
        if (j->len >= JSON_LINE_MAX || j->buf[j->len - 1] != '\n')
            TEST_FAIL("depth %d, %zu bytes of string: bad length %zu", depth, out, j->len);
        struct jp p = {(const unsigned char *)j->buf, (const unsigned char *)j->buf + j->len - 1,
                       0};
        if (!jp_value(&p) || p.p != p.end || j->buf[j->len - 2] != '}')
            TEST_FAIL("depth %d%s, string of %zu bytes (%zu escaped): record of %zu bytes is "
                      "not valid JSON; it ends \"%s\"",
                      depth, member_after ? " + member" : "", units * unit_len, units * unit_out,
                      j->len, j->buf + j->len - (j->len > 30 ? 30 : j->len));
        cuts += j->is_full;
    }
    ASSERT(cuts > 0 && cuts < 73); /* some fitted, some did not */
    free(s);
    free(j);
}

static void fill_to_the_limit(int depth, const char *unit, size_t unit_len, size_t unit_out)
{
    fill_one(depth, unit, unit_len, unit_out, true);
    fill_one(depth, unit, unit_len, unit_out, false);
}

TEST(record_cut_at_the_limit_is_valid_at_top_level)
{
    fill_to_the_limit(0, "a", 1, 1);
    fill_to_the_limit(0, "\x01", 1, 6);
    fill_to_the_limit(0, "\xc3\xa9", 2, 2);
}

TEST(record_cut_at_the_limit_is_valid_inside_an_object)
{
    fill_to_the_limit(1, "a", 1, 1);
    fill_to_the_limit(1, "\x01", 1, 6);
}

TEST(record_cut_at_the_limit_is_valid_inside_nested_levels)
{
    fill_to_the_limit(2, "a", 1, 1);
    fill_to_the_limit(3, "\"", 1, 2);
    fill_to_the_limit(5, "\xc3\xa9", 2, 2);
}

TEST(nesting_deeper_than_the_closer_stack_stays_valid)
{
    struct jbuf *j = jnew();
    j_begin(j);
    for (int d = 0; d < 40; d++)
        j_arr(j, d == 0 ? "deep" : NULL);
    j_u64(j, NULL, 1);
    for (int d = 0; d < 40; d++)
        j_arr_end(j);
    j_u64(j, "after", 2);
    j_end(j);
    ASSERT(j->is_full);
    CHECK_RECORD(j);
    python_accepts(j);
    free(j);
}

/* The smallest case of the above: one object holding one string, closed
 * right after it, for every string length near the limit. */
TEST(closing_an_object_at_the_limit_keeps_braces_balanced)
{
    struct jbuf *j = jnew();
    char *s = malloc(JSON_LINE_MAX);
    ASSERT(s != NULL);
    memset(s, 'a', JSON_LINE_MAX);
    for (size_t n = JSON_LINE_MAX - 64; n < JSON_LINE_MAX; n++) {
        j_begin(j);
        j_obj(j, "o");
        j_strn(j, "x", (const uint8_t *)s, n);
        j_obj_end(j);
        j_end(j);
        int opens = 0, closes = 0;
        for (size_t i = 0; i < j->len; i++) {
            opens += j->buf[i] == '{';
            closes += j->buf[i] == '}';
        }
        if (opens != closes)
            TEST_FAIL("string of %zu bytes: %d \"{\" but %d \"}\" in \"%.40s\"", n, opens, closes,
                      j->buf);
        CHECK_RECORD(j);
    }
    free(s);
    free(j);
}

/* j_raw: a member whose value is already JSON (the summary record) is copied
 * whole when it fits, and left out whole, the record marked cut, when not. */
TEST(raw_member_is_copied_whole_or_left_out_whole)
{
    struct jbuf *j = jnew();
    j_begin(j);
    j_str(j, "a", "x");
    j_raw(j, "summary", "{\"k\":[1,2]}", 11);
    j_end(j);
    ASSERT_STREQ(j->buf, "{\"a\":\"x\",\"summary\":{\"k\":[1,2]}}\n");
    CHECK_RECORD(j);
    char *big = malloc(JSON_LINE_MAX);
    ASSERT(big != NULL);
    memset(big, ' ', JSON_LINE_MAX);
    big[0] = '0';
    j_begin(j);
    j_str(j, "a", "x");
    j_raw(j, "summary", big, JSON_LINE_MAX);
    j_end(j);
    ASSERT(j->is_full);
    ASSERT_STREQ(j->buf, "{\"a\":\"x\"}\n");
    CHECK_RECORD(j);
    free(big);
    free(j);
}

/*
 * test-sasl.c — sasl.c: base64 (RFC 4648 §4) and what each SASL mechanism
 * reveals (RFC 4616 PLAIN, LOGIN, RFC 2195 CRAM-MD5, RFC 2831 DIGEST-MD5,
 * RFC 5802 SCRAM, XOAUTH2, RFC 7628 OAUTHBEARER, RFC 4505 ANONYMOUS).
 *
 * Responses are written decoded, as readable C strings, and base64-encoded
 * by the test. After every exchange the whole struct sasl is scanned for
 * the password: only the user name may be kept.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dissect-harness.h"
#include "sasl.h"
#include "test.h"

/* ---- helpers ------------------------------------------------------------- */

static struct span sp(const char *s)
{
    struct span r = {(const uint8_t *)s, strlen(s)};
    return r;
}

/* Base64 of n bytes (RFC 4648 §4, padded); the caller frees. */
static char *b64(const void *in, size_t n)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const uint8_t *p = in;
    char *out = malloc((n + 2) / 3 * 4 + 1);
    ASSERT(out != NULL);
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? alphabet[v & 63] : '=';
    }
    out[o] = '\0';
    return out;
}

/* One client response, given decoded (n bytes, NULs allowed). */
static bool respond(struct sasl *s, const void *decoded, size_t n)
{
    char *e = b64(decoded, n);
    bool ok = sasl_response(s, sp(e));
    free(e);
    return ok;
}

#define RESPOND(s, lit) respond((s), "" lit "", sizeof(lit) - 1)

#define ASSERT_USER(s, want)                                                                       \
    do {                                                                                           \
        ASSERT_EQ((s)->user_len, strlen(want));                                                    \
        ASSERT_MEMEQ((s)->user, (want), strlen(want));                                             \
    } while (0)

#define ASSERT_MECH(s, want)                                                                       \
    do {                                                                                           \
        ASSERT_EQ((s)->mech_len, strlen(want));                                                    \
        ASSERT_MEMEQ((s)->mech_name, (want), strlen(want));                                        \
    } while (0)

/* Nothing of any test password is left anywhere in the struct. */
#define ASSERT_NO_SECRET(s)                                                                        \
    do {                                                                                           \
        const char *leak_ = harness_find_secret((const uint8_t *)(s), sizeof *(s));                \
        if (leak_ != NULL)                                                                         \
            TEST_FAIL("struct sasl holds \"%s\"", leak_);                                          \
    } while (0)

/* Decode a literal and compare with the expected bytes. */
#define ASSERT_B64(in, want)                                                                       \
    do {                                                                                           \
        uint8_t out_[64];                                                                          \
        long n_ = b64_decode(sp(in), out_, sizeof out_);                                           \
        ASSERT_EQ(n_, sizeof(want) - 1);                                                           \
        ASSERT_MEMEQ(out_, want, sizeof(want) - 1);                                                \
    } while (0)

#define ASSERT_B64_BAD(in)                                                                         \
    do {                                                                                           \
        uint8_t out_[64];                                                                          \
        ASSERT_EQ(b64_decode(sp(in), out_, sizeof out_), -1);                                      \
    } while (0)

/* ---- base64 -------------------------------------------------------------- */

TEST(b64_decode_valid)
{
    ASSERT_B64("", "");
    ASSERT_B64("QUJD", "ABC");
    ASSERT_B64("QUJDREVG", "ABCDEF");
    ASSERT_B64("+/+/", "\xfb\xff\xbf");
    ASSERT_B64("AAAA", "\0\0\0");
    ASSERT_B64(B64_PLAIN_BOB, "\0bob\0secret");
    ASSERT_B64(B64_USERNAME, "Username:");
}

TEST(b64_decode_padding)
{
    ASSERT_B64("QQ==", "A");
    ASSERT_B64("QUI=", "AB");
    ASSERT_B64("YWxpY2U=", "alice");
    ASSERT_B64(B64_HUNTER2, "hunter2");
}

TEST(b64_decode_invalid)
{
    ASSERT_B64_BAD("Q");        /* one character: 6 bits, not a byte */
    ASSERT_B64_BAD("QUJDR");    /* 4n+1 characters */
    ASSERT_B64_BAD("Q===");     /* three pad characters */
    ASSERT_B64_BAD("QQ==QQ=="); /* data after padding */
    ASSERT_B64_BAD("QQ=A");     /* data after padding */
    ASSERT_B64_BAD("=QUJ");     /* padding first */
    ASSERT_B64_BAD("QU JD");    /* a space */
    ASSERT_B64_BAD("QUJD\r\n"); /* a line end is not part of the response */
    ASSERT_B64_BAD("QUJD*");    /* "*" is the cancel response, not base64 */
    ASSERT_B64_BAD("-_-_");     /* the URL-safe alphabet (RFC 4648 §5) */
    ASSERT_B64_BAD("QUJD\x80"); /* a non-ASCII byte */
}

TEST(b64_decode_max_cuts_output_and_still_checks_the_rest)
{
    uint8_t *out = malloc(2); /* exactly max bytes: ASan catches a write past it */
    ASSERT(out != NULL);
    ASSERT_EQ(b64_decode(sp("QUJDREVG"), out, 2), 2);
    ASSERT_MEMEQ(out, "AB", 2);
    ASSERT_EQ(b64_decode(sp("QUJDRE!G"), out, 2), -1);
    ASSERT_EQ(b64_decode(sp("QUJDREVG"), out, 0), 0);
    free(out);
}

/* ---- mechanisms ---------------------------------------------------------- */

TEST(sasl_mechanism_names)
{
    struct sasl s;
    sasl_begin(&s, sp("plain"));
    ASSERT_EQ(s.mech, SASL_PLAIN);
    ASSERT_MECH(&s, "PLAIN");
    ASSERT(s.is_active);
    sasl_begin(&s, sp("SCRAM-SHA-1"));
    ASSERT_EQ(s.mech, SASL_SCRAM);
    sasl_begin(&s, sp("SCRAM-SHA-256-PLUS"));
    ASSERT_EQ(s.mech, SASL_SCRAM);
    sasl_begin(&s, sp("Cram-Md5"));
    ASSERT_EQ(s.mech, SASL_CRAM_MD5);
    ASSERT_MECH(&s, "CRAM-MD5");
    sasl_begin(&s, sp("GSSAPI"));
    ASSERT_EQ(s.mech, SASL_OTHER);
    ASSERT_MECH(&s, "GSSAPI");
    sasl_begin(&s, sp("PLAINX"));
    ASSERT_EQ(s.mech, SASL_OTHER);
    sasl_begin(&s, sp("X-A-VERY-LONG-MECHANISM-NAME-THAT-GOES-ON"));
    ASSERT_EQ(s.mech, SASL_OTHER);
    ASSERT_MECH(&s, "X-A-VERY-LONG-MECHANISM-NAME-THA"); /* cut at SASL_MECH_MAX */
    sasl_begin(&s, sp(""));
    ASSERT_EQ(s.mech, SASL_OTHER);
    ASSERT_EQ(s.mech_len, 0);
}

TEST(sasl_plain_user_and_readable_secret)
{
    struct sasl s;
    sasl_begin(&s, sp("PLAIN"));
    ASSERT(RESPOND(&s, "\0bob\0secret"));
    ASSERT_USER(&s, "bob");
    ASSERT(s.has_secret);
    ASSERT(s.secret_readable);
    ASSERT(!s.is_token);
    ASSERT(!s.is_cancelled);
    ASSERT_EQ(s.steps, 1);
    ASSERT_NO_SECRET(&s);
}

TEST(sasl_plain_authzid_is_not_the_user)
{
    struct sasl s;
    sasl_begin(&s, sp("PLAIN"));
    ASSERT(sasl_response(&s, sp(B64_PLAIN_AUTHZ))); /* "admin\0bob\0secret" */
    ASSERT_USER(&s, "bob");
    ASSERT(s.has_secret && s.secret_readable);
    ASSERT_NO_SECRET(&s);
}

TEST(sasl_plain_empty_password)
{
    struct sasl s;
    sasl_begin(&s, sp("PLAIN"));
    ASSERT(RESPOND(&s, "\0bob\0"));
    ASSERT_USER(&s, "bob");
    ASSERT(!s.has_secret);
    ASSERT(!s.secret_readable);
}

TEST(sasl_plain_malformed_has_no_user)
{
    struct sasl s;
    sasl_begin(&s, sp("PLAIN"));
    ASSERT(RESPOND(&s, "bob secret")); /* no NULs at all */
    ASSERT_EQ(s.user_len, 0);
    ASSERT_NO_SECRET(&s);
}

TEST(sasl_plain_long_password_user_still_found)
{
    /* 5 + 3000 bytes decoded: more than sasl.c decodes; the user is first. */
    size_t n = 5 + 3000;
    uint8_t *d = malloc(n);
    ASSERT(d != NULL);
    memcpy(d, "\0bob\0", 5);
    for (size_t i = 5; i < n; i += 6)
        memcpy(d + i, "secret", n - i < 6 ? n - i : 6);
    struct sasl s;
    sasl_begin(&s, sp("PLAIN"));
    ASSERT(respond(&s, d, n));
    ASSERT_USER(&s, "bob");
    ASSERT(s.has_secret && s.secret_readable);
    ASSERT_NO_SECRET(&s);
    free(d);
}

TEST(sasl_plain_user_cut_at_max)
{
    size_t ulen = 300;
    uint8_t *d = malloc(ulen + 8);
    ASSERT(d != NULL);
    d[0] = 0;
    memset(d + 1, 'u', ulen);
    memcpy(d + 1 + ulen, "\0secret", 7);
    struct sasl s;
    sasl_begin(&s, sp("PLAIN"));
    ASSERT(respond(&s, d, ulen + 8));
    ASSERT_EQ(s.user_len, SASL_USER_MAX);
    ASSERT_MEMEQ(s.user, d + 1, SASL_USER_MAX);
    ASSERT_NO_SECRET(&s);
    free(d);
}

TEST(sasl_login_user_then_password)
{
    struct sasl s;
    sasl_begin(&s, sp("LOGIN"));
    ASSERT(RESPOND(&s, "alice"));
    ASSERT_USER(&s, "alice");
    ASSERT(!s.has_secret);
    ASSERT(RESPOND(&s, "hunter2"));
    ASSERT_USER(&s, "alice");
    ASSERT(s.has_secret && s.secret_readable && !s.is_token);
    ASSERT_EQ(s.steps, 2);
    ASSERT_NO_SECRET(&s);
}

TEST(sasl_cram_md5_user_secret_not_readable)
{
    struct sasl s;
    sasl_begin(&s, sp("CRAM-MD5"));
    ASSERT(sasl_response(&s, sp(B64_CRAM_BOB)));
    ASSERT_USER(&s, "bob");
    ASSERT(s.has_secret);
    ASSERT(!s.secret_readable);
}

TEST(sasl_digest_md5_username)
{
    struct sasl s;
    sasl_begin(&s, sp("DIGEST-MD5"));
    ASSERT(RESPOND(&s, "username=\"bob\",realm=\"example.com\",nonce=\"OA6MG9tEQGm2hh\","
                       "nc=00000001,cnonce=\"OA6MHXh6VqTrRk\",digest-uri=\"imap/example.com\","
                       "response=d388dad90d4bbd760a152321f2143af7,qop=auth"));
    ASSERT_USER(&s, "bob");
    ASSERT(s.has_secret);
    ASSERT(!s.secret_readable);
}

TEST(sasl_scram_user_from_client_first)
{
    struct sasl s;
    sasl_begin(&s, sp("SCRAM-SHA-256"));
    ASSERT(sasl_response(&s, sp(B64_SCRAM_FIRST_BOB))); /* "n,,n=bob,r=..." */
    ASSERT_USER(&s, "bob");
    ASSERT(s.has_secret);
    ASSERT(!s.secret_readable);
    ASSERT(sasl_response(&s, sp(B64_SCRAM_FINAL))); /* "c=biws,r=...,p=..." */
    ASSERT_USER(&s, "bob");
    ASSERT(!s.secret_readable);
}

TEST(sasl_scram_with_authzid)
{
    struct sasl s;
    sasl_begin(&s, sp("SCRAM-SHA-1"));
    ASSERT(RESPOND(&s, "n,a=admin,n=bob,r=fyko+d2lbbFgONRv9qkxdawL"));
    ASSERT_USER(&s, "bob");
}

TEST(sasl_xoauth2_user_and_token)
{
    struct sasl s;
    sasl_begin(&s, sp("XOAUTH2"));
    ASSERT(sasl_response(&s, sp(B64_XOAUTH2_BOB)));
    ASSERT_USER(&s, "bob@example.com");
    ASSERT(s.has_secret && s.secret_readable && s.is_token);
    ASSERT_NO_SECRET(&s);
}

TEST(sasl_oauthbearer_user_and_token)
{
    struct sasl s;
    sasl_begin(&s, sp("OAUTHBEARER"));
    ASSERT(sasl_response(&s, sp(B64_OAUTHBEARER_BOB)));
    ASSERT_USER(&s, "bob@example.com");
    ASSERT(s.has_secret && s.secret_readable && s.is_token);
    ASSERT_NO_SECRET(&s);
}

TEST(sasl_oauthbearer_without_authzid)
{
    struct sasl s;
    sasl_begin(&s, sp("OAUTHBEARER"));
    ASSERT(RESPOND(&s, "n,,\x01"
                       "auth=Bearer tok.secret\x01\x01"));
    ASSERT_EQ(s.user_len, 0);
    ASSERT(s.has_secret && s.is_token);
    ASSERT_NO_SECRET(&s);
}

TEST(sasl_anonymous_trace_is_not_a_secret)
{
    /* RFC 4505 §2: the message is trace information (often an e-mail
     * address), not a credential. */
    struct sasl s;
    sasl_begin(&s, sp("ANONYMOUS"));
    ASSERT_EQ(s.mech, SASL_ANONYMOUS);
    ASSERT(RESPOND(&s, "trace@example.com"));
    ASSERT(!s.has_secret);
    ASSERT(!s.secret_readable);
}

TEST(sasl_unknown_mechanism_secret_opaque)
{
    struct sasl s;
    sasl_begin(&s, sp("GSSAPI"));
    ASSERT(RESPOND(&s, "\x60\x82\x02\x0b\x06\x09\x2a\x86\x48\x86\xf7\x12\x01\x02\x02"));
    ASSERT_EQ(s.user_len, 0);
    ASSERT(s.has_secret);
    ASSERT(!s.secret_readable);
}

TEST(sasl_cancel_with_star)
{
    struct sasl s;
    sasl_begin(&s, sp("LOGIN"));
    ASSERT(sasl_response(&s, sp("*")));
    ASSERT(s.is_cancelled);
    ASSERT_EQ(s.steps, 0);
    ASSERT(!s.has_secret);
}

TEST(sasl_empty_response_is_equals_sign)
{
    struct sasl s;
    sasl_begin(&s, sp("PLAIN"));
    ASSERT(sasl_response(&s, sp("=")));
    ASSERT_EQ(s.steps, 1);
    ASSERT_EQ(s.user_len, 0);
    ASSERT(!s.has_secret);
}

TEST(sasl_bad_base64_rejected)
{
    struct sasl s;
    sasl_begin(&s, sp("PLAIN"));
    ASSERT(!sasl_response(&s, sp("MAIL FROM:<a@example.com>")));
    ASSERT_EQ(s.steps, 0);
    ASSERT_EQ(s.user_len, 0);
}

TEST(sasl_set_user_cut_at_max)
{
    char name[SASL_USER_MAX + 50];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    struct sasl s;
    memset(&s, 0, sizeof s);
    sasl_set_user(&s, sp(name));
    ASSERT_EQ(s.user_len, SASL_USER_MAX);
    sasl_set_user(&s, sp("bob"));
    ASSERT_USER(&s, "bob");
}

TEST(sasl_login_event_from_exchange)
{
    struct sasl s;
    sasl_begin(&s, sp("xoauth2"));
    ASSERT(sasl_response(&s, sp(B64_XOAUTH2_BOB)));
    struct ev_login l;
    memset(&l, 0, sizeof l);
    sasl_login(&s, &l);
    ASSERT_EQ(l.mech.n, 7);
    ASSERT_MEMEQ(l.mech.p, "XOAUTH2", 7);
    ASSERT_EQ(l.user.n, 15);
    ASSERT_MEMEQ(l.user.p, "bob@example.com", 15);
    ASSERT(l.has_secret && l.secret_readable && l.is_token);
    ASSERT(!l.is_command);
    ASSERT(harness_find_secret(l.user.p, l.user.n) == NULL);
}

TEST(sasl_plain_response_keeps_user_and_no_password_bytes)
{
    /* The one check that matters most: after the response, the struct has
     * "bob" and not one copy of "secret" (nor of its base64). */
    struct sasl s;
    memset(&s, 0xa5, sizeof s); /* no zero bytes lying around by chance */
    sasl_begin(&s, sp("PLAIN"));
    ASSERT(sasl_response(&s, sp(B64_PLAIN_BOB)));
    ASSERT_USER(&s, "bob");
    ASSERT_NO_SECRET(&s);
    const uint8_t *raw = (const uint8_t *)&s;
    for (size_t i = 0; i + 6 <= sizeof s; i++)
        ASSERT(memcmp(raw + i, "secret", 6) != 0);
}

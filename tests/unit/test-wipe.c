/*
 * test-wipe.c — once a login line is parsed, no copy of its secret stays in what postcard
 * keeps (docs/security.md, "What is wiped"):
 *
 *   - a mail session (app/session.c) with its dissector (SMTP, POP3, IMAP; SASL): every
 *     conversation is fed in pieces cut inside the login line, so that the line is put
 *     together in the session's buffer of unconsumed bytes; after each whole chunk of the
 *     conversation, every byte the session owns is scanned: the struct, the dissector's
 *     state, both buffers whole (SESSION_BUF_BYTES each);
 *   - the reassembly (packet/reasm.c): a login segment that arrives out of order is held in
 *     a pool block; once it is handed on (or the stream is stopped) every slab of the pool
 *     is scanned.
 *
 * The secret is looked for in clear and base64-encoded at each of the three alignments a
 * SASL blob can give it (the characters that depend only on its own bytes). Each test also
 * checks that the login was seen (a login with its secret in the session's facts), so that
 * a scan never passes because nothing was parsed.
 */
#include "test.h"

#include <malloc.h>

#include "app/session.h"
#include "packet/flow.h"
#include "packet/reasm.h"
#include "sensor-limits.h"
#include "stats.h"

#define SECRET "Tr0ub4dor&3" /* the password of every conversation below */
/* "\0bob\0Tr0ub4dor&3" (SASL PLAIN) and "Tr0ub4dor&3" (SASL LOGIN), base64 */
#define B64_PLAIN "AGJvYgBUcjB1YjRkb3ImMw=="
#define B64_LOGIN "VHIwdWI0ZG9yJjM="

/* ---- the secret's forms ----------------------------------------------------------------- */

static size_t b64_encode(const uint8_t *in, size_t n, char *out)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = al[(v >> 18) & 63];
        out[o++] = al[(v >> 12) & 63];
        out[o++] = i + 1 < n ? al[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? al[v & 63] : '=';
    }
    out[o] = '\0';
    return o;
}

/* The secret in clear, and the base64 characters that carry only its bytes when it starts 0,
 * 1 or 2 bytes into a blob (as common.py's wire_forms does). */
struct forms {
    char f[4][64]; /* NUL-ended */
};

static void secret_forms(struct forms *fs)
{
    snprintf(fs->f[0], sizeof fs->f[0], "%s", SECRET);
    for (size_t pad = 0; pad < 3; pad++) {
        uint8_t in[64] = {0};
        size_t n = strlen(SECRET);
        memcpy(in + pad, SECRET, n);
        char enc[128];
        b64_encode(in, pad + n, enc);
        static const size_t from[3] = {0, 2, 3};
        size_t full = (pad + n) / 3 * 4;
        snprintf(fs->f[pad + 1], sizeof fs->f[pad + 1], "%.*s", (int)(full - from[pad]),
                 enc + from[pad]);
    }
}

/* Fail when [p, p+n), named what, holds a form of the secret. */
static void scan(const char *what, const void *p, size_t n)
{
    struct forms fs;
    secret_forms(&fs);
    const uint8_t *b = p;
    for (size_t k = 0; k < 4; k++) {
        size_t m = strlen(fs.f[k]);
        for (size_t i = 0; i + m <= n; i++)
            if (memcmp(b + i, fs.f[k], m) == 0)
                TEST_FAIL("%s holds \"%s\" at byte %zu of %zu", what, fs.f[k], i, n);
    }
}

TEST(the_forms_looked_for_are_those_of_the_blobs_used)
{
    struct forms fs;
    secret_forms(&fs);
    ASSERT(strstr(B64_LOGIN, fs.f[1]) != NULL);
    ASSERT(strstr(B64_PLAIN, fs.f[3]) != NULL); /* "\0bob\0": 5 bytes, the secret at 2 mod 3 */
}

/* ---- a mail session fed in pieces ------------------------------------------------------- */

struct chunk {
    int dir;       /* 0: the client sent it, 1: the server */
    const char *p; /* its bytes */
};

#define C(s)                                                                                       \
    {                                                                                              \
        0, s                                                                                       \
    }
#define S(s)                                                                                       \
    {                                                                                              \
        1, s                                                                                       \
    }

/* Every byte the session owns, scanned. */
static void scan_session(const struct session *ss, size_t chunk, size_t cut)
{
    char what[96];
    snprintf(what, sizeof what, "the session after chunk %zu (pieces of %zu)", chunk, cut);
    scan(what, ss, sizeof *ss);
    snprintf(what, sizeof what, "the dissector state after chunk %zu (pieces of %zu)", chunk, cut);
    scan(what, ss->dstate, ss->d->state_size);
    for (int d = 0; d < 2; d++) {
        if (ss->buf[d] == NULL)
            continue;
        snprintf(what, sizeof what, "buffer %d after chunk %zu (pieces of %zu)", d, chunk, cut);
        ASSERT_EQ(malloc_usable_size(ss->buf[d]) >= SESSION_BUF_BYTES, 1);
        scan(what, ss->buf[d], SESSION_BUF_BYTES);
    }
}

/*
 * Play the conversation through a session of proto, each chunk cut in pieces of cut bytes
 * (0: whole), each piece in a buffer of its exact size; scan after every chunk. Returns
 * whether the session's buffer was used (some chunk left bytes unconsumed).
 */
static bool play(enum proto proto, const struct chunk *cv, size_t n, size_t cut)
{
    struct stats st;
    memset(&st, 0, sizeof st);
    struct flow f;
    memset(&f, 0, sizeof f);
    f.ipver = 4;
    f.proto = 6;
    f.sport = proto == PROTO_SMTP ? 25 : proto == PROTO_POP3 ? 110 : 143;
    f.cport = 40000;
    struct starttls_memory *mem = starttls_memory_new();
    struct session *ss = session_new(proto, false);
    bool used_buf = false;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(cv[i].p);
        size_t step = cut == 0 ? len : cut;
        for (size_t at = 0; at < len; at += step) {
            size_t k = len - at < step ? len - at : step;
            uint8_t *piece = malloc(k);
            ASSERT(piece != NULL);
            memcpy(piece, cv[i].p + at, k);
            session_data(ss, mem, &f, cv[i].dir, piece, k, &st);
            explicit_bzero(piece, k); /* the capture's copy is not the session's business */
            free(piece);
            used_buf = used_buf || ss->buf_len[cv[i].dir] > 0;
        }
        scan_session(ss, i, cut);
    }
    ASSERT_EQ(ss->n_logins >= 1, 1);
    ASSERT_EQ(ss->logins[0].cleartext, 1); /* the secret was seen, readable, and parsed */
    ASSERT_EQ(session_close(ss, mem, &f, &st), 1);
    scan_session(ss, n, cut);
    session_free(ss);
    starttls_memory_free(mem);
    return used_buf;
}

/* Whole chunks, one byte at a time, and pieces of 2, 3, 5, 7 and 13 bytes: some cut lands
 * inside the secret in every conversation. At least one of them goes through the buffer. */
static void play_all(enum proto proto, const struct chunk *cv, size_t n)
{
    static const size_t cuts[] = {0, 1, 2, 3, 5, 7, 13};
    bool buffered = false;
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++)
        buffered = play(proto, cv, n, cuts[i]) || buffered;
    ASSERT_EQ(buffered, 1);
}

#define PLAY(proto, cv) play_all(proto, cv, sizeof(cv) / sizeof((cv)[0]))

TEST(smtp_auth_plain_with_initial_response)
{
    static const struct chunk cv[] = {
        S("220 mx.example ESMTP\r\n"),
        C("EHLO c.example\r\n"),
        S("250-mx.example\r\n250 AUTH PLAIN\r\n"),
        C("AUTH PLAIN " B64_PLAIN "\r\n"),
        S("235 2.7.0 ok\r\n"),
        C("QUIT\r\n"),
    };
    PLAY(PROTO_SMTP, cv);
}

TEST(smtp_auth_plain_in_a_continuation)
{
    static const struct chunk cv[] = {
        S("220 mx.example ESMTP\r\n"), C("EHLO c.example\r\n"), S("250 AUTH PLAIN\r\n"),
        C("AUTH PLAIN\r\n"),           S("334 \r\n"),           C(B64_PLAIN "\r\n"),
        S("235 2.7.0 ok\r\n"),
    };
    PLAY(PROTO_SMTP, cv);
}

TEST(smtp_auth_login)
{
    static const struct chunk cv[] = {
        S("220 mx.example ESMTP\r\n"), C("EHLO c.example\r\n"),   S("250 AUTH LOGIN\r\n"),
        C("AUTH LOGIN\r\n"),           S("334 VXNlcm5hbWU6\r\n"), C("Ym9i\r\n"),
        S("334 UGFzc3dvcmQ6\r\n"),     C(B64_LOGIN "\r\n"),       S("235 2.7.0 ok\r\n"),
    };
    PLAY(PROTO_SMTP, cv);
}

TEST(pop3_user_pass)
{
    static const struct chunk cv[] = {
        S("+OK ready\r\n"),       C("USER bob\r\n"),      S("+OK\r\n"),
        C("PASS " SECRET "\r\n"), S("+OK logged in\r\n"), C("QUIT\r\n"),
    };
    PLAY(PROTO_POP3, cv);
}

TEST(pop3_auth_plain_and_login)
{
    static const struct chunk plain[] = {
        S("+OK ready\r\n"),
        C("AUTH PLAIN " B64_PLAIN "\r\n"),
        S("+OK logged in\r\n"),
    };
    static const struct chunk login[] = {
        S("+OK ready\r\n"),      C("AUTH LOGIN\r\n"), S("+ VXNlcm5hbWU6\r\n"), C("Ym9i\r\n"),
        S("+ UGFzc3dvcmQ6\r\n"), C(B64_LOGIN "\r\n"), S("+OK logged in\r\n"),
    };
    PLAY(PROTO_POP3, plain);
    PLAY(PROTO_POP3, login);
}

TEST(imap_login_atom_and_quoted)
{
    static const struct chunk atom[] = {
        S("* OK ready\r\n"),
        C("a1 LOGIN bob " SECRET "\r\n"),
        S("a1 OK done\r\n"),
    };
    static const struct chunk quoted[] = {
        S("* OK ready\r\n"),
        C("a1 LOGIN \"bob\" \"" SECRET "\"\r\n"),
        S("a1 OK done\r\n"),
    };
    PLAY(PROTO_IMAP, atom);
    PLAY(PROTO_IMAP, quoted);
}

TEST(imap_login_literal)
{
    static const struct chunk cv[] = {
        S("* OK ready\r\n"), C("a1 LOGIN bob {11}\r\n"), S("+ go on\r\n"),
        C(SECRET "\r\n"),    S("a1 OK done\r\n"),
    };
    PLAY(PROTO_IMAP, cv);
}

TEST(imap_authenticate_plain_in_a_continuation_and_with_sasl_ir)
{
    static const struct chunk cont[] = {
        S("* OK ready\r\n"), C("a1 AUTHENTICATE PLAIN\r\n"), S("+ \r\n"), C(B64_PLAIN "\r\n"),
        S("a1 OK done\r\n"),
    };
    static const struct chunk ir[] = {
        S("* OK ready\r\n"),
        C("a1 AUTHENTICATE PLAIN " B64_PLAIN "\r\n"),
        S("a1 OK done\r\n"),
    };
    PLAY(PROTO_IMAP, cont);
    PLAY(PROTO_IMAP, ir);
}

/* A login line cut off by the end of the flow, or by a gap, is dropped unparsed: wiped too. */
TEST(an_unfinished_login_line_is_wiped_when_dropped)
{
    struct stats st;
    memset(&st, 0, sizeof st);
    struct flow f;
    memset(&f, 0, sizeof f);
    f.sport = 110;
    struct starttls_memory *mem = starttls_memory_new();
    struct session *ss = session_new(PROTO_POP3, false);
    static const char greet[] = "+OK ready\r\n", user[] = "USER bob\r\n", ok[] = "+OK\r\n",
                      half[] = "PASS " SECRET;
    session_data(ss, mem, &f, 1, (const uint8_t *)greet, sizeof greet - 1, &st);
    session_data(ss, mem, &f, 0, (const uint8_t *)user, sizeof user - 1, &st);
    session_data(ss, mem, &f, 1, (const uint8_t *)ok, sizeof ok - 1, &st);
    session_data(ss, mem, &f, 0, (const uint8_t *)half, sizeof half - 1, &st);
    ASSERT_EQ(ss->buf_len[0], sizeof half - 1); /* held: no LF yet */
    uint8_t *b = ss->buf[0];
    session_gap(ss, mem, &f, 0, 100, &st);
    ASSERT_EQ(ss->buf_len[0], 0);
    scan("buffer 0 after a gap", b, SESSION_BUF_BYTES);
    static const char crlf[] = "\r\n"; /* after a gap, the dissector resumes at a line start */
    session_data(ss, mem, &f, 0, (const uint8_t *)crlf, sizeof crlf - 1, &st);
    session_data(ss, mem, &f, 0, (const uint8_t *)half, sizeof half - 1, &st);
    ASSERT_EQ(ss->buf_len[0], sizeof half - 1);
    session_close(ss, mem, &f, &st);
    scan("buffer 0 at the end", ss->buf[0], SESSION_BUF_BYTES);
    session_free(ss);
    starttls_memory_free(mem);
}

/* ---- reassembly ------------------------------------------------------------------------- */

static void ignore_data(void *ctx, int dir, const uint8_t *p, size_t n)
{
    (void)dir;
    (void)p;
    *(size_t *)ctx += n;
}

static void ignore_gap(void *ctx, int dir, uint64_t n)
{
    (void)ctx;
    (void)dir;
    (void)n;
}

/* Every slab of the pool, scanned. */
static void scan_pool(const char *what, const struct reasm_pool *pool)
{
    ASSERT_EQ(pool->n_slabs >= 1, 1);
    for (size_t i = 0; i < pool->n_slabs; i++)
        scan(what, pool->slabs[i], malloc_usable_size(pool->slabs[i]));
}

/* "PASS <secret>" arrives before the line in front of it: held, then handed on. */
TEST(a_login_segment_held_out_of_order_is_wiped_once_handed_on)
{
    struct stats st;
    memset(&st, 0, sizeof st);
    struct reasm_pool pool;
    reasm_pool_init(&pool, 64 * REASM_BLOCK_BYTES, &st);
    struct reasm_dir rd;
    memset(&rd, 0, sizeof rd);
    size_t got = 0;
    struct reasm_consumer c = {ignore_data, ignore_gap, &got};
    static const char first[] = "USER bob\r\n", second[] = "PASS " SECRET "\r\n";
    uint32_t isn = 1000;
    reasm_segment(&pool, &rd, 0, 0x02 /* SYN */, isn, NULL, 0, 0, &c);
    reasm_segment(&pool, &rd, 0, 0, isn + 1 + (uint32_t)(sizeof first - 1), (const uint8_t *)second,
                  sizeof second - 1, sizeof second - 1, &c);
    ASSERT_EQ(pool.in_use, 1); /* held */
    reasm_segment(&pool, &rd, 0, 0, isn + 1, (const uint8_t *)first, sizeof first - 1,
                  sizeof first - 1, &c);
    ASSERT_EQ(got, sizeof first - 1 + sizeof second - 1);
    ASSERT_EQ(pool.in_use, 0);
    scan_pool("the reassembly pool after the held segment was handed on", &pool);
    reasm_pool_free(&pool);
}

TEST(a_login_segment_held_when_the_stream_stops_is_wiped)
{
    struct stats st;
    memset(&st, 0, sizeof st);
    struct reasm_pool pool;
    reasm_pool_init(&pool, 64 * REASM_BLOCK_BYTES, &st);
    struct reasm_dir rd;
    memset(&rd, 0, sizeof rd);
    size_t got = 0;
    struct reasm_consumer c = {ignore_data, ignore_gap, &got};
    static const char second[] = "a1 LOGIN bob " SECRET "\r\n";
    reasm_segment(&pool, &rd, 0, 0x02, 5000, NULL, 0, 0, &c);
    reasm_segment(&pool, &rd, 0, 0, 5100, (const uint8_t *)second, sizeof second - 1,
                  sizeof second - 1, &c);
    ASSERT_EQ(pool.in_use, 1);
    reasm_stop(&pool, &rd);
    ASSERT_EQ(pool.in_use, 0);
    ASSERT_EQ(got, 0);
    scan_pool("the reassembly pool after the stream stopped", &pool);
    reasm_pool_free(&pool);
}

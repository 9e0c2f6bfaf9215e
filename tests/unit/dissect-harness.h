/*
 * dissect-harness.h — play a scripted mail conversation through a dissector
 * and write down what it said, one text line per event.
 *
 *   script: CLI("EHLO x\r\n"), SRV("250 ok\r\n"), GAP_CLI(10), ... in wire order
 *      │  each direction keeps its own buffer of bytes feed() did not consume,
 *      │  and offers them again with the next bytes of that direction, as
 *      │  sensor/session.c does; a gap empties that direction's buffer
 *      ▼
 *   feed(): every call gets a malloc'ed copy of EXACTLY the bytes offered,
 *           freed after the call, so ASan catches a read past the end or a
 *           pointer kept into the bytes after the call
 *      ▼
 *   events ──▶ log: "GREETING mail.example ESMTP\n" "CAPA STARTTLS ''\n" ...
 *
 * feed_all() plays the script whole, one byte per feed, and cut in 50 seeded
 * random ways (random cuts, and consecutive chunks of one direction joined),
 * calls finish(), and requires the same log every time (STYLE §2, §7). It
 * returns that log for the test to compare with the exact text it expects.
 *
 * Passwords: no span of any event may contain a password or a base64 blob
 * carrying one (harness_secrets below); the logger fails the test at the
 * event that does. After each run the dissector's state is scanned too.
 *
 * Log lines (spans are printed with bytes outside printable ASCII and "\" as
 * \xHH; direction is checked by the logger for every type that has a fixed
 * one, and printed for the two that do not):
 *   GREETING <text>                 HELO <text>
 *   CAPA <name> '<args>'            CAPA_END
 *   STARTTLS                        STARTTLS_REPLY ok=<0|1> <line>
 *   UPGRADE                         MAIL_FROM <path>      RCPT_TO <path>
 *   LOGIN mech=M user=U secret=0|1 readable=0|1 token=0|1 cmd=0|1
 *         result=unknown|success|failure reply=<line>
 *   MESSAGE <bytes> from=client|server
 *   ANOMALY <name> from=client|server
 */
#ifndef POSTCARD_DISSECT_HARNESS_H
#define POSTCARD_DISSECT_HARNESS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dissector.h"
#include "event.h"
#include "test.h"

/* ---- secrets the tests use: none may ever appear in an event ------------- */

/* Every password or token in the test scripts, and every base64 response
 * that carries one (the base64 of a secret inside a longer blob depends on
 * its alignment, so the whole blobs are listed). */
#define B64_PLAIN_BOB "AGJvYgBzZWNyZXQ="           /* "\0bob\0secret" */
#define B64_PLAIN_AUTHZ "YWRtaW4AYm9iAHNlY3JldA==" /* "admin\0bob\0secret" */
#define B64_PLAIN_ALICE "AGFsaWNlAGh1bnRlcjI="     /* "\0alice\0hunter2" */
#define B64_BOB "Ym9i"                             /* "bob" */
#define B64_ALICE "YWxpY2U="                       /* "alice" */
#define B64_SECRET "c2VjcmV0"                      /* "secret" */
#define B64_HUNTER2 "aHVudGVyMg=="                 /* "hunter2" */
#define B64_USERNAME "VXNlcm5hbWU6"                /* "Username:" */
#define B64_PASSWORD "UGFzc3dvcmQ6"                /* "Password:" */
/* "bob 3c6e0b8a9c15224a8228b9a98ca1531d" (a CRAM-MD5 digest, not a secret) */
#define B64_CRAM_BOB "Ym9iIDNjNmUwYjhhOWMxNTIyNGE4MjI4YjlhOThjYTE1MzFk"
/* "user=bob@example.com\x01auth=Bearer ya29.secret-token\x01\x01" */
#define B64_XOAUTH2_BOB "dXNlcj1ib2JAZXhhbXBsZS5jb20BYXV0aD1CZWFyZXIgeWEyOS5zZWNyZXQtdG9rZW4BAQ=="
/* "n,a=bob@example.com,\x01host=mail.example.com\x01port=587\x01auth=Bearer tok.secret\x01\x01" */
#define B64_OAUTHBEARER_BOB                                                                        \
    "bixhPWJvYkBleGFtcGxlLmNvbSwBaG9zdD1tYWlsLmV4YW1wbGUuY29tAXBvcnQ9NTg3AWF1dGg9QmVhcmVy"         \
    "IHRvay5zZWNyZXQBAQ=="
/* "n,,n=bob,r=rOprNGfwEbeRWgbNEkqO" (SCRAM client-first) */
#define B64_SCRAM_FIRST_BOB "biwsbj1ib2Iscj1yT3ByTkdmd0ViZVJXZ2JORWtxTw=="
/* "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF,p=dHzb..." (SCRAM client-final) */
#define B64_SCRAM_FINAL                                                                            \
    "Yz1iaXdzLHI9ck9wck5HZndFYmVSV2diTkVrcU8laHZZRHBXVWEyUmFUQ0FmdXhGSWxqKWhObEYscD1kSHpi"         \
    "WmFwV0lrNGpVaE4rVXRlOXl0YWc5empmTUhnc3FtbWl6N0FuZFZRPQ=="

static const char *const harness_secrets[] = {
    "secret",            /* the password of most tests; also inside every token */
    "hunter2",           /* alice's password */
    "Tr0ub4dor",         /* an IMAP literal password */
    "sesame",            /* an IMAP quoted password with an escaped quote */
    B64_PLAIN_BOB,       /* PLAIN, bob */
    B64_PLAIN_AUTHZ,     /* PLAIN, admin for bob */
    B64_PLAIN_ALICE,     /* PLAIN, alice */
    B64_SECRET,          /* LOGIN, bob's password */
    B64_HUNTER2,         /* LOGIN, alice's password */
    B64_XOAUTH2_BOB,     /* XOAUTH2 bearer token */
    B64_OAUTHBEARER_BOB, /* OAUTHBEARER bearer token */
};

/* Does [p, p+n) contain any test secret? Returns it, or NULL. */
static inline const char *harness_find_secret(const uint8_t *p, size_t n)
{
    for (size_t k = 0; k < sizeof harness_secrets / sizeof harness_secrets[0]; k++) {
        const char *s = harness_secrets[k];
        size_t m = strlen(s);
        for (size_t i = 0; m <= n && i + m <= n; i++)
            if (memcmp(p + i, s, m) == 0)
                return s;
    }
    return NULL;
}

/* ---- the event log ------------------------------------------------------- */

struct evlog {
    char *buf;       /* NUL-terminated text, one line per event */
    size_t len;      /* bytes used, without the NUL */
    size_t cap;      /* bytes allocated */
    size_t n_events; /* events logged */
};

static inline void log_put(struct evlog *l, const char *p, size_t n)
{
    if (l->len + n + 1 > l->cap) {
        size_t cap = l->cap ? l->cap : 256;
        while (cap < l->len + n + 1)
            cap *= 2;
        char *b = realloc(l->buf, cap);
        if (b == NULL)
            TEST_FAIL("out of memory");
        l->buf = b;
        l->cap = cap;
    }
    memcpy(l->buf + l->len, p, n);
    l->len += n;
    l->buf[l->len] = '\0';
}

__attribute__((format(printf, 2, 3))) static inline void log_printf(struct evlog *l,
                                                                    const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= sizeof tmp)
        TEST_FAIL("log_printf: line too long");
    log_put(l, tmp, (size_t)k);
}

/* A span, checked for secrets, printed with non-printable bytes and '\' escaped. */
static inline void log_span(struct evlog *l, const char *what, struct span s)
{
    if (s.n > 0 && s.p == NULL)
        TEST_FAIL("%s: span of %zu bytes at NULL", what, s.n);
    const char *leak = s.n ? harness_find_secret(s.p, s.n) : NULL;
    if (leak != NULL)
        TEST_FAIL("%s: the event carries the secret \"%s\" (%zu bytes: \"%.*s\")", what, leak, s.n,
                  (int)(s.n < 200 ? s.n : 200), (const char *)s.p);
    for (size_t i = 0; i < s.n; i++) {
        uint8_t c = s.p[i];
        if (c < 0x20 || c >= 0x7f || c == '\\')
            log_printf(l, "\\x%02x", c);
        else
            log_put(l, (const char *)&c, 1);
    }
}

static inline const char *harness_from(enum dir d)
{
    return d == DIR_TO_SERVER ? "client" : d == DIR_TO_CLIENT ? "server" : "?";
}

static inline void harness_want_dir(const struct event *ev, enum dir want, const char *type)
{
    if (ev->dir != want)
        TEST_FAIL("%s event with dir %d, want %d", type, (int)ev->dir, (int)want);
}

/*
 * The events that mark a moment (EV_COMMAND, EV_LOGIN_SENT, EV_TLS_CERTS_END) are checked
 * always but logged only while this is set: the tests of those moments set it, the others
 * compare the facts alone.
 */
static bool harness_log_moments;

static inline void harness_login(struct evlog *l, const char *name, const struct ev_login *g)
{
    static const char *const results[] = {"unknown", "success", "failure"};
    if ((unsigned)g->result > LOGIN_FAILURE)
        TEST_FAIL("%s result %d", name, (int)g->result);
    log_printf(l, "%s mech=", name);
    log_span(l, "LOGIN mech", g->mech);
    log_put(l, " user=", 6);
    log_span(l, "LOGIN user", g->user);
    log_printf(l, " secret=%d readable=%d token=%d cmd=%d result=%s reply=", g->has_secret,
               g->secret_readable, g->is_token, g->is_command, results[g->result]);
    log_span(l, "LOGIN reply", g->reply);
}

/* struct emitter callback: ctx is a struct evlog. */
static inline void harness_emit(void *ctx, const struct event *ev)
{
    struct evlog *l = ctx;
    if (ev->type == EV_COMMAND || ev->type == EV_LOGIN_SENT) {
        struct evlog scratch = {0};
        struct evlog *to = harness_log_moments ? l : &scratch;
        harness_want_dir(ev, DIR_TO_SERVER, ev->type == EV_COMMAND ? "COMMAND" : "LOGIN_SENT");
        if (ev->type == EV_COMMAND) {
            log_put(to, "COMMAND ", 8);
            log_span(to, "COMMAND", ev->u.text);
        } else {
            if (ev->u.login.result != LOGIN_UNKNOWN || ev->u.login.reply.n != 0)
                TEST_FAIL("LOGIN_SENT with a result");
            harness_login(to, "LOGIN_SENT", &ev->u.login);
        }
        free(scratch.buf);
        if (!harness_log_moments)
            return;
        l->n_events++;
        log_put(l, "\n", 1);
        return;
    }
    l->n_events++;
    switch (ev->type) {
    case EV_GREETING:
        harness_want_dir(ev, DIR_TO_CLIENT, "GREETING");
        log_put(l, "GREETING ", 9);
        log_span(l, "GREETING", ev->u.text);
        break;
    case EV_CAPA:
        harness_want_dir(ev, DIR_TO_CLIENT, "CAPA");
        log_put(l, "CAPA ", 5);
        log_span(l, "CAPA name", ev->u.capa.name);
        log_put(l, " '", 2);
        log_span(l, "CAPA args", ev->u.capa.args);
        log_put(l, "'", 1);
        break;
    case EV_CAPA_END:
        harness_want_dir(ev, DIR_TO_CLIENT, "CAPA_END");
        log_put(l, "CAPA_END", 8);
        break;
    case EV_HELO:
        harness_want_dir(ev, DIR_TO_SERVER, "HELO");
        log_put(l, "HELO ", 5);
        log_span(l, "HELO", ev->u.text);
        break;
    case EV_STARTTLS:
        harness_want_dir(ev, DIR_TO_SERVER, "STARTTLS");
        log_put(l, "STARTTLS", 8);
        break;
    case EV_STARTTLS_REPLY:
        harness_want_dir(ev, DIR_TO_CLIENT, "STARTTLS_REPLY");
        log_printf(l, "STARTTLS_REPLY ok=%d ", ev->u.reply.ok);
        log_span(l, "STARTTLS_REPLY", ev->u.reply.line);
        break;
    case EV_UPGRADE:
        harness_want_dir(ev, DIR_TO_CLIENT, "UPGRADE");
        log_put(l, "UPGRADE", 7);
        break;
    case EV_LOGIN:
        harness_want_dir(ev, DIR_TO_CLIENT, "LOGIN");
        harness_login(l, "LOGIN", &ev->u.login);
        break;
    case EV_MAIL_FROM:
        harness_want_dir(ev, DIR_TO_SERVER, "MAIL_FROM");
        log_put(l, "MAIL_FROM ", 10);
        log_span(l, "MAIL_FROM", ev->u.text);
        break;
    case EV_RCPT_TO:
        harness_want_dir(ev, DIR_TO_SERVER, "RCPT_TO");
        log_put(l, "RCPT_TO ", 8);
        log_span(l, "RCPT_TO", ev->u.text);
        break;
    case EV_MESSAGE:
        log_printf(l, "MESSAGE %llu from=%s", (unsigned long long)ev->u.bytes,
                   harness_from(ev->dir));
        break;
    case EV_ANOMALY:
        if ((unsigned)ev->u.anomaly >= EVA_COUNT)
            TEST_FAIL("ANOMALY with reason %d", (int)ev->u.anomaly);
        log_printf(l, "ANOMALY %s from=%s", ev_anomaly_name(ev->u.anomaly), harness_from(ev->dir));
        break;
    default:
        TEST_FAIL("unknown event type %d", (int)ev->type);
    }
    log_put(l, "\n", 1);
}

/* ---- the script ---------------------------------------------------------- */

struct chunk {
    enum dir dir;  /* DIR_TO_SERVER: the client sent it; DIR_TO_CLIENT: the server */
    const char *p; /* its bytes; NULL for a gap */
    size_t n;      /* bytes in p, or the bytes missing for a gap */
};

/* "" s "" accepts only a string literal, so sizeof is its length (embedded NULs kept). */
#define CLI(s)                                                                                     \
    {                                                                                              \
        DIR_TO_SERVER, "" s "", sizeof(s) - 1                                                      \
    }
#define SRV(s)                                                                                     \
    {                                                                                              \
        DIR_TO_CLIENT, "" s "", sizeof(s) - 1                                                      \
    }
#define GAP_CLI(len)                                                                               \
    {                                                                                              \
        DIR_TO_SERVER, NULL, (len)                                                                 \
    }
#define GAP_SRV(len)                                                                               \
    {                                                                                              \
        DIR_TO_CLIENT, NULL, (len)                                                                 \
    }
#define N_CHUNKS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the driver ---------------------------------------------------------- */

enum harness_split {
    SPLIT_WHOLE,  /* each chunk in one feed */
    SPLIT_BYTES,  /* one byte per feed */
    SPLIT_RANDOM, /* seeded: chunks of a direction joined, then cut at random */
};

static inline uint32_t harness_rand(uint64_t *s) /* splitmix64, top bits */
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return (uint32_t)((z ^ (z >> 31)) >> 32);
}

struct harness_side {
    uint8_t *buf; /* bytes feed() did not consume yet (malloc'ed, exact size) */
    size_t len;   /* how many */
};

struct harness_run {
    const struct dissector *d;   /* the dissector under test */
    void *st;                    /* its state: calloc'ed, exactly state_size */
    struct evlog log;            /* what it said */
    struct emitter em;           /* harness_emit on log */
    struct harness_side side[2]; /* per direction */
    size_t feeds;                /* feed() calls made */
};

/* Offer the side's unconsumed bytes plus n new ones, in an exact-size copy. */
static inline void harness_offer(struct harness_run *r, enum dir dir, const uint8_t *p, size_t n)
{
    struct harness_side *sd = &r->side[dir];
    size_t total = sd->len + n;
    if (total == 0)
        return;
    uint8_t *b = malloc(total);
    if (b == NULL)
        TEST_FAIL("out of memory");
    if (sd->len > 0)
        memcpy(b, sd->buf, sd->len);
    memcpy(b + sd->len, p, n);
    free(sd->buf);
    sd->buf = NULL;
    sd->len = 0;
    size_t used = r->d->feed(r->st, dir, b, total, &r->em);
    r->feeds++;
    if (used > total)
        TEST_FAIL("feed consumed %zu of %zu bytes", used, total);
    /* A dissector consumes a line once it is DISSECT_LINE_MAX long (the sensor's
     * buffer holds one such line plus one byte, then drops it). */
    if (total - used >= DISSECT_LINE_MAX)
        TEST_FAIL("feed left %zu bytes unconsumed (line max %d)", total - used, DISSECT_LINE_MAX);
    if (used < total) {
        sd->len = total - used;
        sd->buf = malloc(sd->len);
        if (sd->buf == NULL)
            TEST_FAIL("out of memory");
        memcpy(sd->buf, b + used, sd->len);
    }
    free(b);
}

/* A gap: bytes before it cannot be joined to bytes after it (session_gap). */
static inline void harness_gap(struct harness_run *r, enum dir dir, uint64_t n)
{
    free(r->side[dir].buf);
    r->side[dir].buf = NULL;
    r->side[dir].len = 0;
    r->d->gap(r->st, dir, n, &r->em);
}

/* Feed one stretch of bytes of one direction, cut as the split asks. */
static inline void harness_cut(struct harness_run *r, enum dir dir, const uint8_t *p, size_t n,
                               enum harness_split how, uint64_t *rng)
{
    if (how == SPLIT_WHOLE || n == 0) {
        harness_offer(r, dir, p, n);
        return;
    }
    if (how == SPLIT_BYTES) {
        for (size_t i = 0; i < n; i++)
            harness_offer(r, dir, p + i, 1);
        return;
    }
    size_t max; /* longest piece, drawn per stretch */
    switch (harness_rand(rng) % 4) {
    case 0:
        max = 1 + harness_rand(rng) % 3;
        break;
    case 1:
        max = 1 + harness_rand(rng) % 16;
        break;
    case 2:
        max = 1 + harness_rand(rng) % 256;
        break;
    default:
        max = n; /* a few random cuts */
        break;
    }
    size_t i = 0;
    while (i < n) {
        size_t k = 1 + harness_rand(rng) % max;
        if (k > n - i)
            k = n - i;
        harness_offer(r, dir, p + i, k);
        i += k;
    }
}

/* One run of the script; returns the log (malloc'ed, caller frees). */
static inline char *harness_run_once(const struct dissector *d, const struct chunk *c, size_t nc,
                                     enum harness_split how, uint64_t seed)
{
    struct harness_run r;
    memset(&r, 0, sizeof r);
    r.d = d;
    r.st = calloc(1, d->state_size);
    if (r.st == NULL)
        TEST_FAIL("out of memory");
    r.em.emit = harness_emit;
    r.em.ctx = &r.log;
    log_put(&r.log, "", 0);
    d->init(r.st);
    uint64_t rng = seed * 0x2545f4914f6cdd1dULL + 1;
    size_t i = 0;
    while (i < nc) {
        if (c[i].p == NULL) {
            harness_gap(&r, c[i].dir, c[i].n);
            i++;
            continue;
        }
        /* Join the following chunks of the same direction, in a random run. */
        size_t j = i + 1, n = c[i].n;
        while (how == SPLIT_RANDOM && j < nc && c[j].p != NULL && c[j].dir == c[i].dir &&
               harness_rand(&rng) % 2 == 0)
            n += c[j++].n;
        uint8_t *b = malloc(n ? n : 1);
        if (b == NULL)
            TEST_FAIL("out of memory");
        size_t o = 0;
        for (size_t k = i; k < j; k++) {
            memcpy(b + o, c[k].p, c[k].n);
            o += c[k].n;
        }
        harness_cut(&r, c[i].dir, b, n, how, &rng);
        free(b);
        i = j;
    }
    d->finish(r.st, &r.em);
    const char *leak = harness_find_secret(r.st, d->state_size);
    if (leak != NULL)
        TEST_FAIL("the %s state holds the secret \"%s\" after the run", d->name, leak);
    free(r.side[0].buf);
    free(r.side[1].buf);
    if (d->release != NULL)
        d->release(r.st);
    free(r.st);
    return r.log.buf;
}

#define HARNESS_RANDOM_RUNS 50

/* Run the script whole, one byte per feed and in 50 random splits; every
 * run must log the same events. Returns that log (caller frees). */
static inline char *feed_all(const struct dissector *d, const struct chunk *c, size_t nc)
{
    char *whole = harness_run_once(d, c, nc, SPLIT_WHOLE, 0);
    for (int k = -1; k < HARNESS_RANDOM_RUNS; k++) {
        enum harness_split how = k < 0 ? SPLIT_BYTES : SPLIT_RANDOM;
        char *got = harness_run_once(d, c, nc, how, (uint64_t)(k + 1));
        if (strcmp(got, whole) != 0)
            TEST_FAIL("%s split (seed %d) logs differently from whole chunks:\n"
                      "--- whole:\n%s--- %s:\n%s",
                      k < 0 ? "byte-by-byte" : "random", k + 1, whole,
                      k < 0 ? "byte-by-byte" : "random", got);
        free(got);
    }
    return whole;
}

#define FEED_ALL(d, script) feed_all((d), (script), N_CHUNKS(script))

/* The log of a script, whichever way it is split, is exactly `want`. */
#define ASSERT_LOG(d, script, want)                                                                \
    do {                                                                                           \
        harness_log_moments = false;                                                               \
        char *got_ = FEED_ALL(d, script);                                                          \
        ASSERT_STREQ(got_, want);                                                                  \
        free(got_);                                                                                \
    } while (0)

/* The same, with the events that mark a moment (COMMAND, LOGIN_SENT, CERTS_END) logged too. */
#define ASSERT_MOMENTS(d, script, want)                                                            \
    do {                                                                                           \
        harness_log_moments = true;                                                                \
        char *got_ = FEED_ALL(d, script);                                                          \
        harness_log_moments = false;                                                               \
        ASSERT_STREQ(got_, want);                                                                  \
        free(got_);                                                                                \
    } while (0)

#endif

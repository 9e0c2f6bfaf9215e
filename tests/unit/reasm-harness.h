/*
 * reasm-harness.h — the logging consumer, the readable stream and the
 * segment feeder shared by test-reasm.c and test-reasm-edges.c. Test-only.
 */
#ifndef POSTCARD_REASM_HARNESS_H
#define POSTCARD_REASM_HARNESS_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "packet/decode.h"
#include "sensor-limits.h"
#include "packet/reasm.h"
#include "stats.h"
#include "test.h"

#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-const-variable"

/* ---- the log ------------------------------------------------------------ */

struct log {
    char *buf;     /* data bytes and "[gap N]" markers */
    size_t len;    /* bytes used */
    size_t cap;    /* bytes allocated */
    int want_dir;  /* the direction every callback must report */
    int bad_calls; /* callbacks with the wrong dir or an empty length */
};

static void log_put(struct log *l, const void *p, size_t n)
{
    if (l->len + n + 1 > l->cap) {
        size_t cap = l->cap ? l->cap : 4096;
        while (cap < l->len + n + 1)
            cap *= 2;
        char *b = realloc(l->buf, cap);
        if (b == NULL)
            TEST_FAIL("out of memory");
        l->buf = b;
        l->cap = cap;
    }
    if (n > 0)
        memcpy(l->buf + l->len, p, n);
    l->len += n;
    l->buf[l->len] = '\0';
}

static void log_gap(struct log *l, uint64_t n)
{
    char s[40];
    int k = snprintf(s, sizeof s, "[gap %" PRIu64 "]", n);
    log_put(l, s, (size_t)k);
}

static void on_data(void *ctx, int dir, const uint8_t *p, size_t n)
{
    struct log *l = ctx;
    if (dir != l->want_dir || n == 0)
        l->bad_calls++;
    log_put(l, p, n);
}

static void on_gap(void *ctx, int dir, uint64_t n)
{
    struct log *l = ctx;
    if (dir != l->want_dir || n == 0)
        l->bad_calls++;
    log_gap(l, n);
}

/* Print 64 bytes of a log from `from`, newlines shown as \n. */
static void log_show(const char *what, const struct log *l, size_t from)
{
    fprintf(stderr, "    %s \"", what);
    for (size_t i = from; i < l->len && i < from + 64; i++) {
        if (l->buf[i] == '\n')
            fputs("\\n", stderr);
        else
            fputc(l->buf[i], stderr);
    }
    fprintf(stderr, "\"\n");
}

/* Fail with the first difference between the two logs, and some context. */
static void log_check(const struct log *got, const struct log *exp, int line)
{
    size_t n = got->len < exp->len ? got->len : exp->len;
    size_t i = 0;
    while (i < n && got->buf[i] == exp->buf[i])
        i++;
    if (i == n && got->len == exp->len)
        return;
    size_t from = i > 24 ? i - 24 : 0;
    fprintf(stderr, "  line %d: logs differ at byte %zu (got %zu bytes, expected %zu)\n", line, i,
            got->len, exp->len);
    log_show("got:     ", got, from);
    log_show("expected:", exp, from);
    TEST_FAIL("delivered log differs from the expected one");
}

#define LOG_CHECK(got, exp) log_check((got), (exp), __LINE__)

/* ---- the stream --------------------------------------------------------- */

/* n bytes of "0000000\n0000008\n...": every 8-byte record is its own offset. */
static uint8_t *make_stream(size_t n)
{
    uint8_t *s = malloc(n + 8);
    if (s == NULL)
        TEST_FAIL("out of memory");
    for (size_t off = 0; off < n; off += 8) {
        char rec[16];
        snprintf(rec, sizeof rec, "%07zu\n", off % 10000000);
        memcpy(s + off, rec, 8);
    }
    return s;
}

/* ---- a reassembly rig: one direction, its pool, its log ----------------- */

struct rig {
    struct stats st;            /* anomaly counters */
    struct reasm_pool pool;     /* held blocks */
    struct reasm_dir rd;        /* the direction under test */
    struct log log;             /* what the consumer was handed */
    struct reasm_consumer cons; /* writes into log */
    uint32_t isn;               /* SYN sequence number: data byte k is at isn+1+k */
    int dir;                    /* direction passed to reasm_* */
};

static void rig_init(struct rig *r, uint32_t isn, uint64_t pool_bytes, int dir)
{
    memset(r, 0, sizeof *r);
    reasm_pool_init(&r->pool, pool_bytes, &r->st);
    r->log.want_dir = dir;
    r->cons = (struct reasm_consumer){on_data, on_gap, &r->log};
    r->isn = isn;
    r->dir = dir;
}

#define POOL_BIG (64ULL * 1024 * 1024)

static void rig_syn(struct rig *r)
{
    reasm_segment(&r->pool, &r->rd, r->dir, TCP_SYN, r->isn, NULL, 0, 0, &r->cons);
}

/* A segment at raw sequence number seq with `len` captured bytes of data,
 * `wire` bytes on the wire, copied into an exact-size buffer. */
static void rig_raw(struct rig *r, uint8_t flags, uint32_t seq, const uint8_t *data, size_t len,
                    size_t wire)
{
    uint8_t *copy = len ? malloc(len) : NULL;
    if (len)
        memcpy(copy, data, len);
    reasm_segment(&r->pool, &r->rd, r->dir, flags, seq, copy, len, wire, &r->cons);
    free(copy);
}

/* Stream bytes [off, off+len) as one segment. */
static void rig_seg(struct rig *r, const uint8_t *stream, size_t off, size_t len)
{
    rig_raw(r, TCP_ACK, r->isn + 1 + (uint32_t)off, stream + off, len, len);
}

static void rig_flush(struct rig *r)
{
    reasm_flush(&r->pool, &r->rd, r->dir, &r->cons);
}

static uint64_t rig_an(const struct rig *r, enum anomaly a)
{
    return r->st.anomalies[a];
}

/* Stop, check nothing is held, release. */
static void rig_done(struct rig *r)
{
    reasm_stop(&r->pool, &r->rd);
    ASSERT_EQ(r->pool.in_use, 0);
    ASSERT(r->rd.ooo == NULL);
    ASSERT_EQ(r->log.bad_calls, 0);
    reasm_pool_free(&r->pool);
    free(r->log.buf);
    r->log.buf = NULL;
}

/* Expected log: stream bytes [a, b). */
static void exp_data(struct log *e, const uint8_t *stream, size_t a, size_t b)
{
    log_put(e, stream + a, b - a);
}

static void exp_free(struct log *e)
{
    free(e->buf);
    memset(e, 0, sizeof *e);
}

/* ---- a seeded PRNG (splitmix64) ----------------------------------------- */

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static size_t rng_below(uint64_t *s, size_t n)
{
    return (size_t)(rng_next(s) % n);
}

struct span {
    size_t off; /* first stream byte */
    size_t len; /* bytes */
};

static void shuffle(struct span *v, size_t n, uint64_t *s)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = rng_below(s, i);
        struct span t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
}

/* Next lexicographic permutation of idx[0..n); false after the last. */
static bool next_perm(int *idx, int n)
{
    int i = n - 2;
    while (i >= 0 && idx[i] >= idx[i + 1])
        i--;
    if (i < 0)
        return false;
    int j = n - 1;
    while (idx[j] <= idx[i])
        j--;
    int t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
    for (int a = i + 1, b = n - 1; a < b; a++, b--) {
        t = idx[a];
        idx[a] = idx[b];
        idx[b] = t;
    }
    return true;
}

#define STREAM_LEN 5000

/* Six segments covering [0, 5000): one spans two pool blocks (2500 > 2048),
 * one is a single byte. */
static const struct span six[6] = {
    {0, 700}, {700, 2500}, {3200, 100}, {3300, 800}, {4100, 1}, {4101, 899},
};

/* Six segments that overlap one another (with the same bytes) and cover
 * [0, 5000) together. */
static const struct span six_overlapping[6] = {
    {0, 1000}, {600, 2200}, {2000, 1000}, {2999, 1501}, {4000, 1000}, {100, 100},
};

/* Feed every order of the six spans after a SYN at isn; each must deliver
 * the whole stream, with no gap, before any flush. Returns the orders run. */
static int run_all_orders(const struct span *spans, uint32_t isn)
{
    uint8_t *stream = make_stream(STREAM_LEN);
    struct log exp = {0};
    exp_data(&exp, stream, 0, STREAM_LEN);
    int idx[6] = {0, 1, 2, 3, 4, 5};
    int orders = 0;
    do {
        struct rig r;
        rig_init(&r, isn, POOL_BIG, 0);
        rig_syn(&r);
        for (int i = 0; i < 6; i++)
            rig_seg(&r, stream, spans[idx[i]].off, spans[idx[i]].len);
        LOG_CHECK(&r.log, &exp);
        rig_flush(&r);
        LOG_CHECK(&r.log, &exp);
        ASSERT_EQ(r.rd.delivered, STREAM_LEN);
        ASSERT_EQ(r.rd.gap_bytes, 0);
        ASSERT_EQ(rig_an(&r, AN_REASM_GAP), 0);
        ASSERT_EQ(rig_an(&r, AN_REASM_OVERLAP_DIFF), 0);
        rig_done(&r);
        orders++;
    } while (next_perm(idx, 6));
    exp_free(&exp);
    free(stream);
    return orders;
}

#endif

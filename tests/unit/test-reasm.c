/*
 * test-reasm.c — TCP reassembly (reasm.c) against its stated policy.
 *
 * A consumer writes what it is handed into a log: data bytes as they are,
 * each gap as the text "[gap N]". The stream is made of readable 8-byte
 * records "0000000\n0000008\n..." (each record is its own offset), so the
 * log of a correct run is the stream itself with the gaps marked where
 * bytes were never seen, and any misplaced byte shows up at once.
 *
 * Every segment is copied into a buffer of exactly its size before it is
 * fed, and freed after, so ASan catches a read past it or a pointer kept.
 * Each test ends with reasm_stop + reasm_pool_free; ASan's leak checker
 * runs when the test's process exits.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "limits.h"
#include "reasm.h"
#include "stats.h"
#include "test.h"

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

/* ---- tests -------------------------------------------------------------- */

TEST(in_order_segments_are_delivered_whole)
{
    uint8_t *stream = make_stream(STREAM_LEN);
    struct rig r;
    rig_init(&r, 1000, POOL_BIG, 0);
    rig_syn(&r);
    for (int i = 0; i < 6; i++)
        rig_seg(&r, stream, six[i].off, six[i].len);
    struct log exp = {0};
    exp_data(&exp, stream, 0, STREAM_LEN);
    LOG_CHECK(&r.log, &exp);
    ASSERT_EQ(r.rd.delivered, STREAM_LEN);
    ASSERT_EQ(r.pool.in_use, 0); /* in-order data is never copied into blocks */
    ASSERT(r.rd.has_syn);
    ASSERT(!r.rd.is_closed);
    for (int a = 0; a < AN_COUNT; a++)
        ASSERT_EQ(r.st.anomalies[a], 0);
    rig_done(&r);
    exp_free(&exp);
    free(stream);
}

TEST(every_order_of_six_segments_gives_the_stream)
{
    ASSERT_EQ(run_all_orders(six, 1000), 720);
}

TEST(every_order_of_six_overlapping_segments_gives_the_stream)
{
    ASSERT_EQ(run_all_orders(six_overlapping, 424242), 720);
}

TEST(every_order_across_sequence_wrap_gives_the_stream)
{
    /* data byte 0 at 0xfffff830; the stream crosses 2^32 at byte 2000, inside
     * the 2500-byte segment */
    ASSERT_EQ(run_all_orders(six, 0xfffff82fu), 720);
    ASSERT_EQ(run_all_orders(six_overlapping, 0xffffffffu), 720);
}

TEST(reversed_small_segments_are_held_then_delivered)
{
    uint8_t *stream = make_stream(STREAM_LEN);
    struct log exp = {0};
    exp_data(&exp, stream, 0, STREAM_LEN);
    struct rig r;
    rig_init(&r, 7, POOL_BIG, 1);
    rig_syn(&r);
    for (size_t off = STREAM_LEN; off >= 100; off -= 100) {
        rig_seg(&r, stream, off - 100, 100);
        if (off - 100 > 0) {
            ASSERT_EQ(r.log.len, 0); /* nothing in order yet */
            ASSERT_EQ(r.rd.ooo_bytes, STREAM_LEN - (off - 100));
        }
    }
    LOG_CHECK(&r.log, &exp);
    ASSERT_EQ(r.pool.in_use, 0);
    rig_done(&r);
    exp_free(&exp);
    free(stream);
}

TEST(seeded_shuffles_with_duplicates_and_overlaps_give_the_stream)
{
    uint8_t *stream = make_stream(STREAM_LEN);
    struct log exp = {0};
    exp_data(&exp, stream, 0, STREAM_LEN);
    for (uint64_t seed = 1; seed <= 300; seed++) {
        uint64_t s = seed;
        static struct span v[STREAM_LEN + 8];
        size_t n = 0;
        size_t max = 1 + rng_below(&s, seed % 3 == 0 ? 40 : 3000);
        for (size_t off = 0; off < STREAM_LEN;) { /* a cover of random sizes */
            size_t len = 1 + rng_below(&s, max);
            if (off + len > STREAM_LEN)
                len = STREAM_LEN - off;
            v[n++] = (struct span){off, len};
            off += len;
        }
        size_t extra = rng_below(&s, 8); /* duplicates and overlapping copies */
        for (size_t i = 0; i < extra; i++) {
            size_t a = rng_below(&s, STREAM_LEN);
            size_t len = 1 + rng_below(&s, STREAM_LEN - a);
            v[n++] = (struct span){a, len};
        }
        shuffle(v, n, &s);
        uint32_t isn = (uint32_t)rng_next(&s);
        if (seed % 4 == 0)
            isn = 0xffffffffu - (uint32_t)rng_below(&s, STREAM_LEN); /* wraps */
        struct rig r;
        rig_init(&r, isn, POOL_BIG, (int)(seed & 1));
        rig_syn(&r);
        for (size_t i = 0; i < n; i++)
            rig_seg(&r, stream, v[i].off, v[i].len);
        rig_flush(&r);
        if (r.log.len != exp.len || memcmp(r.log.buf, exp.buf, exp.len) != 0)
            fprintf(stderr, "  seed %" PRIu64 ", isn %" PRIu32 ", %zu segments\n", seed, isn, n);
        LOG_CHECK(&r.log, &exp);
        ASSERT_EQ(rig_an(&r, AN_REASM_OVERLAP_DIFF), 0);
        ASSERT_EQ(rig_an(&r, AN_REASM_GAP), 0);
        rig_done(&r);
    }
    exp_free(&exp);
    free(stream);
}

TEST(every_segment_twice_gives_the_stream_once)
{
    uint8_t *stream = make_stream(STREAM_LEN);
    struct log exp = {0};
    exp_data(&exp, stream, 0, STREAM_LEN);
    for (int mode = 0; mode < 3; mode++) {
        struct rig r;
        rig_init(&r, 99, POOL_BIG, 0);
        rig_syn(&r);
        for (int k = 0; k < 6; k++) {
            int i = mode == 2 ? 5 - k : k;
            rig_seg(&r, stream, six[i].off, six[i].len);
            if (mode == 0) /* each right after itself */
                rig_seg(&r, stream, six[i].off, six[i].len);
        }
        if (mode != 0) /* the whole set again */
            for (int k = 0; k < 6; k++)
                rig_seg(&r, stream, six[k].off, six[k].len);
        rig_flush(&r);
        LOG_CHECK(&r.log, &exp);
        ASSERT_EQ(r.rd.delivered, STREAM_LEN);
        ASSERT_EQ(rig_an(&r, AN_REASM_OVERLAP_DIFF), 0);
        rig_done(&r);
    }
    exp_free(&exp);
    free(stream);
}

TEST(held_bytes_first_arrival_wins_over_later_held_copy)
{
    uint8_t *stream = make_stream(STREAM_LEN);
    uint8_t forged[1000];
    memset(forged, 'x', sizeof forged);
    struct rig r;
    rig_init(&r, 5000, POOL_BIG, 0);
    rig_syn(&r);
    /* [1000,2000) arrives first as 'x'; the true bytes [1500,2500) later */
    rig_raw(&r, TCP_ACK, r.isn + 1 + 1000, forged, 1000, 1000);
    rig_seg(&r, stream, 1500, 1000);
    ASSERT_EQ(r.log.len, 0);
    ASSERT(rig_an(&r, AN_REASM_OVERLAP_DIFF) >= 1);
    rig_seg(&r, stream, 0, 1000);
    rig_seg(&r, stream, 2500, STREAM_LEN - 2500);
    struct log exp = {0};
    exp_data(&exp, stream, 0, 1000);
    log_put(&exp, forged, 1000);
    exp_data(&exp, stream, 2000, STREAM_LEN);
    LOG_CHECK(&r.log, &exp);
    ASSERT_EQ(rig_an(&r, AN_REASM_GAP), 0);
    rig_done(&r);
    exp_free(&exp);
    free(stream);
}

TEST(identical_held_overlap_is_not_an_anomaly)
{
    uint8_t *stream = make_stream(STREAM_LEN);
    struct rig r;
    rig_init(&r, 5000, POOL_BIG, 0);
    rig_syn(&r);
    rig_seg(&r, stream, 1000, 1000);
    rig_seg(&r, stream, 1500, 1000);
    rig_seg(&r, stream, 1200, 100);
    rig_seg(&r, stream, 0, 1000);
    struct log exp = {0};
    exp_data(&exp, stream, 0, 2500);
    LOG_CHECK(&r.log, &exp);
    ASSERT_EQ(rig_an(&r, AN_REASM_OVERLAP_DIFF), 0);
    rig_done(&r);
    exp_free(&exp);
    free(stream);
}

TEST(delivered_bytes_are_final)
{
    uint8_t *stream = make_stream(STREAM_LEN);
    struct rig r;
    rig_init(&r, 77, POOL_BIG, 0);
    rig_syn(&r);
    rig_seg(&r, stream, 0, 1000);
    /* a "retransmission" of [500,1500) whose first half was changed */
    uint8_t re[1000];
    memcpy(re, stream + 500, sizeof re);
    memset(re, 'z', 500);
    rig_raw(&r, TCP_ACK, r.isn + 1 + 500, re, sizeof re, sizeof re);
    /* and one entirely inside delivered bytes */
    rig_raw(&r, TCP_ACK, r.isn + 1 + 100, re, 200, 200);
    rig_seg(&r, stream, 1500, STREAM_LEN - 1500);
    struct log exp = {0};
    exp_data(&exp, stream, 0, STREAM_LEN);
    LOG_CHECK(&r.log, &exp);
    ASSERT_EQ(r.rd.delivered, STREAM_LEN);
    rig_done(&r);
    exp_free(&exp);
    free(stream);
}

/* reasm.c policy: "Among held out-of-order bytes the first copy to arrive
 * wins; a later overlapping copy with different bytes is counted." A later
 * in-order segment covering held bytes is such a copy. */
TEST(held_bytes_first_arrival_wins_over_later_in_order_copy)
{
    uint8_t *stream = make_stream(STREAM_LEN);
    uint8_t forged[1000];
    memset(forged, 'x', sizeof forged);
    struct rig r;
    rig_init(&r, 5000, POOL_BIG, 0);
    rig_syn(&r);
    rig_raw(&r, TCP_ACK, r.isn + 1 + 1000, forged, 1000, 1000); /* held first */
    rig_seg(&r, stream, 0, 2500);                               /* covers it, in order */
    rig_seg(&r, stream, 2500, STREAM_LEN - 2500);
    struct log exp = {0};
    exp_data(&exp, stream, 0, 1000);
    log_put(&exp, forged, 1000);
    exp_data(&exp, stream, 2000, STREAM_LEN);
    LOG_CHECK(&r.log, &exp);
    ASSERT(rig_an(&r, AN_REASM_OVERLAP_DIFF) >= 1);
    rig_done(&r);
    exp_free(&exp);
    free(stream);
}

TEST(hole_is_handed_on_as_gap_of_its_length_at_flush)
{
    uint8_t *stream = make_stream(STREAM_LEN);
    struct rig r;
    rig_init(&r, 31337, POOL_BIG, 1);
    rig_syn(&r);
    rig_seg(&r, stream, 0, 1000);
    rig_seg(&r, stream, 1500, 500);  /* hole [1000,1500) */
    rig_seg(&r, stream, 3000, 2000); /* hole [2000,3000) */
    struct log exp = {0};
    exp_data(&exp, stream, 0, 1000);
    LOG_CHECK(&r.log, &exp); /* nothing past the hole before the flush */
    rig_flush(&r);
    log_gap(&exp, 500);
    exp_data(&exp, stream, 1500, 2000);
    log_gap(&exp, 1000);
    exp_data(&exp, stream, 3000, STREAM_LEN);
    LOG_CHECK(&r.log, &exp);
    ASSERT_EQ(r.rd.delivered, STREAM_LEN);
    ASSERT_EQ(r.rd.gap_bytes, 1500);
    ASSERT_EQ(rig_an(&r, AN_REASM_GAP), 2);
    ASSERT_EQ(r.pool.in_use, 0);
    /* the missing bytes arriving late change nothing */
    rig_seg(&r, stream, 1000, 500);
    rig_flush(&r);
    LOG_CHECK(&r.log, &exp);
    rig_done(&r);
    exp_free(&exp);
    free(stream);
}

TEST(flush_with_nothing_held_hands_on_nothing)
{
    uint8_t *stream = make_stream(STREAM_LEN);
    struct rig r;
    rig_init(&r, 1, POOL_BIG, 0);
    rig_flush(&r); /* never initialised */
    rig_syn(&r);
    rig_flush(&r);
    rig_seg(&r, stream, 0, 1234);
    rig_flush(&r);
    struct log exp = {0};
    exp_data(&exp, stream, 0, 1234);
    LOG_CHECK(&r.log, &exp);
    ASSERT_EQ(rig_an(&r, AN_REASM_GAP), 0);
    rig_done(&r);
    exp_free(&exp);
    free(stream);
}

TEST(syn_takes_one_sequence_number)
{
    struct rig r;
    rig_init(&r, 0x12345678u, POOL_BIG, 0);
    rig_syn(&r);
    ASSERT(r.rd.is_init);
    ASSERT(r.rd.has_syn);
    ASSERT_EQ(r.rd.next_seq, 0x12345679u);
    const char *a = "EHLO mail.example.org\r\n";
    rig_raw(&r, TCP_ACK | TCP_PSH, 0x12345679u, (const uint8_t *)a, strlen(a), strlen(a));
    rig_syn(&r); /* a retransmitted SYN does not restart the stream */
    const char *b = "MAIL FROM:<a@example.org>\r\n";
    rig_raw(&r, TCP_ACK, 0x12345679u + (uint32_t)strlen(a), (const uint8_t *)b, strlen(b),
            strlen(b));
    ASSERT_STREQ(r.log.buf, "EHLO mail.example.org\r\nMAIL FROM:<a@example.org>\r\n");
    rig_done(&r);
}

TEST(syn_with_data_delivers_it_after_the_syn_number)
{
    struct rig r;
    rig_init(&r, 4000, POOL_BIG, 0);
    const char *a = "220 mx ESMTP\r\n"; /* TCP Fast Open: data in the SYN */
    rig_raw(&r, TCP_SYN, 4000, (const uint8_t *)a, strlen(a), strlen(a));
    const char *b = "250 ok\r\n";
    rig_raw(&r, TCP_ACK, 4001 + (uint32_t)strlen(a), (const uint8_t *)b, strlen(b), strlen(b));
    ASSERT_STREQ(r.log.buf, "220 mx ESMTP\r\n250 ok\r\n");
    rig_done(&r);
}

TEST(midstream_pickup_starts_at_first_data_byte)
{
    struct rig r;
    rig_init(&r, 0, POOL_BIG, 0);
    /* a pure ACK does not fix the start of the stream */
    rig_raw(&r, TCP_ACK, 777000, NULL, 0, 0);
    ASSERT(!r.rd.is_init);
    const char *a = "RCPT TO:<b@example.net>\r\n";
    rig_raw(&r, TCP_ACK, 777777, (const uint8_t *)a, strlen(a), strlen(a));
    ASSERT(r.rd.is_init);
    ASSERT(!r.rd.has_syn);
    /* bytes from before the pickup are not this stream's any more */
    const char *old = "MAIL FROM:<a@example.org>\r\n";
    rig_raw(&r, TCP_ACK, 777777 - (uint32_t)strlen(old), (const uint8_t *)old, strlen(old),
            strlen(old));
    const char *b = "DATA\r\n";
    rig_raw(&r, TCP_ACK, 777777 + (uint32_t)strlen(a), (const uint8_t *)b, strlen(b), strlen(b));
    ASSERT_STREQ(r.log.buf, "RCPT TO:<b@example.net>\r\nDATA\r\n");
    ASSERT_EQ(r.rd.gap_bytes, 0);
    rig_done(&r);
}

TEST(hole_across_sequence_wrap_has_its_exact_length)
{
    uint8_t *stream = make_stream(STREAM_LEN);
    struct rig r;
    rig_init(&r, 0xffffffffu - 2000, POOL_BIG, 0); /* byte 2000 is at seq 0 */
    rig_syn(&r);
    rig_seg(&r, stream, 0, 1500);
    rig_seg(&r, stream, 2600, 2400); /* hole [1500,2600) spans the wrap */
    rig_flush(&r);
    struct log exp = {0};
    exp_data(&exp, stream, 0, 1500);
    log_gap(&exp, 1100);
    exp_data(&exp, stream, 2600, STREAM_LEN);
    LOG_CHECK(&r.log, &exp);
    ASSERT_EQ(r.rd.next_seq, (uint32_t)(0xffffffffu - 2000 + 1 + STREAM_LEN));
    rig_done(&r);
    exp_free(&exp);
    free(stream);
}

TEST(in_order_fin_closes_the_direction)
{
    uint8_t *stream = make_stream(STREAM_LEN);
    struct rig r;
    rig_init(&r, 100, POOL_BIG, 0);
    rig_syn(&r);
    rig_seg(&r, stream, 0, 4000);
    ASSERT(!r.rd.is_closed);
    rig_raw(&r, TCP_ACK | TCP_FIN, r.isn + 1 + 4000, stream + 4000, 1000, 1000);
    ASSERT(r.rd.has_fin);
    ASSERT(r.rd.is_closed);
    ASSERT_EQ(r.rd.next_seq, r.isn + 1 + STREAM_LEN + 1); /* the FIN takes one number */
    /* nothing is delivered after the FIN */
    const char *late = "late";
    rig_raw(&r, TCP_ACK, r.isn + 1 + STREAM_LEN + 1, (const uint8_t *)late, 4, 4);
    rig_flush(&r);
    struct log exp = {0};
    exp_data(&exp, stream, 0, STREAM_LEN);
    LOG_CHECK(&r.log, &exp);
    rig_done(&r);
    exp_free(&exp);
    free(stream);
}

TEST(out_of_order_fin_closes_once_the_hole_fills)
{
    uint8_t *stream = make_stream(STREAM_LEN);
    struct rig r;
    rig_init(&r, 100, POOL_BIG, 0);
    rig_syn(&r);
    rig_seg(&r, stream, 0, 1000);
    rig_raw(&r, TCP_ACK | TCP_FIN, r.isn + 1 + STREAM_LEN, NULL, 0, 0); /* bare FIN */
    rig_seg(&r, stream, 3000, 2000);
    ASSERT(r.rd.has_fin);
    ASSERT(!r.rd.is_closed);
    rig_seg(&r, stream, 1000, 2000);
    ASSERT(r.rd.is_closed);
    struct log exp = {0};
    exp_data(&exp, stream, 0, STREAM_LEN);
    LOG_CHECK(&r.log, &exp);
    rig_done(&r);
    exp_free(&exp);
    free(stream);
}

TEST(fin_after_unseen_bytes_gives_gap_and_closes_at_flush)
{
    uint8_t *stream = make_stream(STREAM_LEN);
    struct rig r;
    rig_init(&r, 100, POOL_BIG, 0);
    rig_syn(&r);
    rig_seg(&r, stream, 0, 3000);
    rig_raw(&r, TCP_ACK | TCP_FIN, r.isn + 1 + 4000, stream + 4000, 1000, 1000);
    ASSERT(!r.rd.is_closed);
    rig_flush(&r);
    ASSERT(r.rd.is_closed);
    struct log exp = {0};
    exp_data(&exp, stream, 0, 3000);
    log_gap(&exp, 1000);
    exp_data(&exp, stream, 4000, STREAM_LEN);
    LOG_CHECK(&r.log, &exp);
    rig_done(&r);

    /* nothing held at all: the bytes up to the FIN are one gap */
    rig_init(&r, 100, POOL_BIG, 0);
    rig_syn(&r);
    rig_seg(&r, stream, 0, 3000);
    rig_raw(&r, TCP_ACK | TCP_FIN, r.isn + 1 + STREAM_LEN, NULL, 0, 0);
    rig_flush(&r);
    ASSERT(r.rd.is_closed);
    exp_free(&exp);
    exp_data(&exp, stream, 0, 3000);
    log_gap(&exp, 2000);
    LOG_CHECK(&r.log, &exp);
    rig_done(&r);
    exp_free(&exp);
    free(stream);
}

TEST(snaplen_cut_segment_hands_on_the_cut_as_gap)
{
    uint8_t *stream = make_stream(STREAM_LEN);
    struct log exp = {0};
    exp_data(&exp, stream, 0, 1300);
    log_gap(&exp, 1200);
    exp_data(&exp, stream, 2500, STREAM_LEN);
    for (int order = 0; order < 2; order++) {
        struct rig r;
        rig_init(&r, 2024, POOL_BIG, 0);
        rig_syn(&r);
        if (order == 0)
            rig_seg(&r, stream, 0, 1000);
        /* [1000,2500) on the wire, only 300 bytes captured */
        rig_raw(&r, TCP_ACK, r.isn + 1 + 1000, stream + 1000, 300, 1500);
        if (order == 1)
            rig_seg(&r, stream, 0, 1000);
        rig_seg(&r, stream, 2500, STREAM_LEN - 2500);
        if (order == 0)
            LOG_CHECK(&r.log, &exp); /* in order: the gap needs no flush */
        rig_flush(&r);
        LOG_CHECK(&r.log, &exp);
        ASSERT_EQ(r.rd.delivered, STREAM_LEN);
        ASSERT_EQ(r.rd.gap_bytes, 1200);
        rig_done(&r);
    }
    exp_free(&exp);
    free(stream);
}

/* Feed [from, to) in `seg`-byte segments, ascending or descending, after a
 * SYN, with [0, from) never sent. Returns the offset of the segment during
 * which anomaly `an` was first counted (or `to` if never). */
static size_t feed_run(struct rig *r, const uint8_t *stream, size_t from, size_t to, size_t seg,
                       bool descending, enum anomaly an)
{
    size_t hit = to;
    size_t n = (to - from) / seg;
    for (size_t k = 0; k < n; k++) {
        size_t off = descending ? to - (k + 1) * seg : from + k * seg;
        uint64_t before = rig_an(r, an);
        rig_seg(r, stream, off, seg);
        if (before == 0 && rig_an(r, an) > 0)
            hit = off;
    }
    return hit;
}

#define BIG_LEN 700000

TEST(direction_cap_hands_on_held_bytes_with_gaps)
{
    uint8_t *stream = make_stream(BIG_LEN);
    struct rig r;
    rig_init(&r, 3, POOL_BIG, 0);
    rig_syn(&r);
    size_t hit = feed_run(&r, stream, 2000, BIG_LEN, 2000, false, AN_REASM_DIR_CAP);
    ASSERT(hit < BIG_LEN);
    /* held when it failed: [2000, hit), which is at most the cap */
    ASSERT(hit > REASM_DIR_MAX_BYTES && hit <= REASM_DIR_MAX_BYTES + 2000);
    ASSERT(rig_an(&r, AN_REASM_DIR_CAP) >= 1);
    ASSERT_EQ(rig_an(&r, AN_REASM_GLOBAL_CAP), 0);
    ASSERT_EQ(r.pool.in_use, 0);
    rig_seg(&r, stream, 0, 2000); /* the lost segment, too late */
    rig_flush(&r);
    struct log exp = {0};
    log_gap(&exp, 2000);
    exp_data(&exp, stream, 2000, BIG_LEN);
    LOG_CHECK(&r.log, &exp);
    ASSERT_EQ(r.rd.gap_bytes, 2000);
    ASSERT_EQ(r.rd.delivered, BIG_LEN);
    rig_done(&r);
    exp_free(&exp);
    free(stream);
}

/* The segment that finds the direction full was captured: its bytes must be
 * handed on, not swallowed into a gap, even when it lies below held data. */
TEST(direction_cap_hands_on_segment_below_held_bytes)
{
    uint8_t *stream = make_stream(BIG_LEN);
    struct rig r;
    rig_init(&r, 3, POOL_BIG, 0);
    rig_syn(&r);
    size_t hit = feed_run(&r, stream, 2000, BIG_LEN, 2000, true, AN_REASM_DIR_CAP);
    ASSERT(hit < BIG_LEN && hit > 2000);
    ASSERT_EQ(r.pool.in_use, 0);
    rig_flush(&r);
    struct log exp = {0};
    log_gap(&exp, hit);
    exp_data(&exp, stream, hit, BIG_LEN);
    LOG_CHECK(&r.log, &exp);
    ASSERT_EQ(r.rd.gap_bytes, hit);
    rig_done(&r);
    exp_free(&exp);
    free(stream);
}

#define POOL_ONE_SLAB ((uint64_t)REASM_SLAB_BLOCKS * REASM_BLOCK_BYTES)

TEST(global_cap_hands_on_held_bytes_with_gaps)
{
    uint8_t *stream = make_stream(BIG_LEN);
    struct rig r;
    rig_init(&r, 0xfffff000u, POOL_ONE_SLAB, 0);
    rig_syn(&r);
    /* 1000-byte segments: one block each, so the pool (512 blocks) runs dry
     * before the direction cap (512 KiB) is reached */
    size_t hit = feed_run(&r, stream, 1000, 600000, 1000, false, AN_REASM_GLOBAL_CAP);
    ASSERT(hit < 600000);
    ASSERT(rig_an(&r, AN_REASM_GLOBAL_CAP) >= 1);
    ASSERT_EQ(rig_an(&r, AN_REASM_DIR_CAP), 0);
    ASSERT(r.pool.n_blocks <= r.pool.max_blocks);
    ASSERT_EQ(r.pool.in_use, 0);
    rig_flush(&r);
    struct log exp = {0};
    log_gap(&exp, 1000);
    exp_data(&exp, stream, 1000, 600000);
    LOG_CHECK(&r.log, &exp);
    rig_done(&r);
    exp_free(&exp);
    free(stream);
}

TEST(global_cap_is_shared_by_all_streams)
{
    uint8_t *stream = make_stream(BIG_LEN);
    struct stats st;
    memset(&st, 0, sizeof st);
    struct reasm_pool pool;
    reasm_pool_init(&pool, POOL_ONE_SLAB, &st);
    struct reasm_dir a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    struct log la = {0}, lb = {0};
    lb.want_dir = 1;
    struct reasm_consumer ca = {on_data, on_gap, &la}, cb = {on_data, on_gap, &lb};
    reasm_segment(&pool, &a, 0, TCP_SYN, 0, NULL, 0, 0, &ca);
    reasm_segment(&pool, &b, 1, TCP_SYN, 0, NULL, 0, 0, &cb);
    /* a fills the pool with out-of-order blocks */
    for (size_t off = 1000; off < 1000 + REASM_SLAB_BLOCKS * 1000; off += 1000)
        reasm_segment(&pool, &a, 0, TCP_ACK, 1 + (uint32_t)off, stream + off, 1000, 1000, &ca);
    ASSERT_EQ(pool.in_use, REASM_SLAB_BLOCKS);
    ASSERT_EQ(st.anomalies[AN_REASM_GLOBAL_CAP], 0);
    ASSERT_EQ(la.len, 0);
    /* b cannot hold anything: it hands on at once, with the hole as a gap */
    reasm_segment(&pool, &b, 1, TCP_ACK, 1 + 500, stream + 500, 100, 100, &cb);
    ASSERT_EQ(st.anomalies[AN_REASM_GLOBAL_CAP], 1);
    struct log exp = {0};
    log_gap(&exp, 500);
    exp_data(&exp, stream, 500, 600);
    LOG_CHECK(&lb, &exp);
    ASSERT_EQ(la.len, 0); /* a keeps what it holds */
    ASSERT_EQ(pool.in_use, REASM_SLAB_BLOCKS);
    /* a's hole fills: everything it held comes out */
    reasm_segment(&pool, &a, 0, TCP_ACK, 1, stream, 1000, 1000, &ca);
    exp_free(&exp);
    exp_data(&exp, stream, 0, 1000 + REASM_SLAB_BLOCKS * 1000);
    LOG_CHECK(&la, &exp);
    ASSERT_EQ(pool.in_use, 0);
    reasm_stop(&pool, &a);
    reasm_stop(&pool, &b);
    ASSERT_EQ(la.bad_calls + lb.bad_calls, 0);
    reasm_pool_free(&pool);
    free(la.buf);
    free(lb.buf);
    exp_free(&exp);
    free(stream);
}

/* reasm_pool_init(max_bytes): the pool may hold max_bytes / REASM_BLOCK_BYTES
 * blocks. A cap smaller than a slab must still allow that many. */
TEST(global_cap_smaller_than_a_slab_holds_its_blocks)
{
    uint8_t *stream = make_stream(STREAM_LEN);
    struct rig r;
    rig_init(&r, 0, 4 * REASM_BLOCK_BYTES, 0);
    rig_syn(&r);
    for (size_t off = 1000; off < 5000; off += 1000) /* 4 segments, 4 blocks */
        rig_seg(&r, stream, off, 1000);
    ASSERT_EQ(rig_an(&r, AN_REASM_GLOBAL_CAP), 0);
    ASSERT_EQ(r.log.len, 0);
    ASSERT_EQ(r.pool.in_use, 4);
    ASSERT(r.pool.n_blocks <= 4);
    rig_seg(&r, stream, 0, 1000);
    struct log exp = {0};
    exp_data(&exp, stream, 0, STREAM_LEN);
    LOG_CHECK(&r.log, &exp);
    rig_done(&r);
    exp_free(&exp);
    free(stream);
}

TEST(ack_past_hole_hands_on_gap_and_held_bytes_at_once)
{
    uint8_t *stream = make_stream(STREAM_LEN);
    struct rig r;
    rig_init(&r, 0xffffff00u, POOL_BIG, 0);
    rig_syn(&r);
    uint32_t base = r.isn + 1;
    rig_seg(&r, stream, 0, 1000);
    rig_seg(&r, stream, 2000, 1000); /* hole [1000,2000) */
    rig_seg(&r, stream, 4000, 1000); /* hole [3000,4000) */
    struct log exp = {0};
    exp_data(&exp, stream, 0, 1000);
    reasm_ack(&r.pool, &r.rd, 0, base + 1500, &r.cons); /* inside the hole */
    reasm_ack(&r.pool, &r.rd, 0, base + 2000, &r.cons); /* up to the held bytes */
    reasm_ack(&r.pool, &r.rd, 0, base + 500, &r.cons);  /* old ack */
    /* an ack far past the window is not about this stream */
    reasm_ack(&r.pool, &r.rd, 0, base + 1000 + REASM_SEQ_WINDOW + 5000, &r.cons);
    reasm_ack(&r.pool, &r.rd, 0, base + 0x80000000u, &r.cons);
    LOG_CHECK(&r.log, &exp);
    reasm_ack(&r.pool, &r.rd, 0, base + 2500, &r.cons); /* past the first hole */
    log_gap(&exp, 1000);
    exp_data(&exp, stream, 2000, 3000);
    LOG_CHECK(&r.log, &exp);
    ASSERT_EQ(r.pool.in_use, 1); /* [4000,5000) still held */
    reasm_ack(&r.pool, &r.rd, 0, base + STREAM_LEN, &r.cons);
    log_gap(&exp, 1000);
    exp_data(&exp, stream, 4000, STREAM_LEN);
    LOG_CHECK(&r.log, &exp);
    ASSERT_EQ(r.pool.in_use, 0);
    ASSERT_EQ(rig_an(&r, AN_REASM_GAP), 2);
    rig_flush(&r);
    LOG_CHECK(&r.log, &exp);
    rig_done(&r);
    exp_free(&exp);
    free(stream);
}

TEST(out_of_window_segment_is_ignored_and_counted)
{
    uint8_t *stream = make_stream(STREAM_LEN);
    struct rig r;
    rig_init(&r, 0xfff00000u, POOL_BIG, 0);
    rig_syn(&r);
    uint32_t base = r.isn + 1;
    rig_seg(&r, stream, 0, 1000);
    const char *junk = "junk from another stream";
    rig_raw(&r, TCP_ACK, base + 1000 + REASM_SEQ_WINDOW + 1, (const uint8_t *)junk, strlen(junk),
            strlen(junk));
    ASSERT_EQ(rig_an(&r, AN_REASM_OUT_OF_WINDOW), 1);
    ASSERT_EQ(r.pool.in_use, 0);
    rig_raw(&r, TCP_ACK, base + 0x80000000u, (const uint8_t *)junk, strlen(junk), strlen(junk));
    ASSERT_EQ(rig_an(&r, AN_REASM_OUT_OF_WINDOW), 2);
    rig_seg(&r, stream, 1000, STREAM_LEN - 1000);
    rig_flush(&r);
    struct log exp = {0};
    exp_data(&exp, stream, 0, STREAM_LEN);
    LOG_CHECK(&r.log, &exp);
    ASSERT_EQ(rig_an(&r, AN_REASM_GAP), 0);
    rig_done(&r);

    /* just inside the window: held, and the distance becomes a gap */
    rig_init(&r, 0, POOL_BIG, 0);
    rig_syn(&r);
    rig_raw(&r, TCP_ACK, 1 + REASM_SEQ_WINDOW - 100, (const uint8_t *)junk, strlen(junk),
            strlen(junk));
    ASSERT_EQ(rig_an(&r, AN_REASM_OUT_OF_WINDOW), 0);
    ASSERT_EQ(r.pool.in_use, 1);
    rig_flush(&r);
    exp_free(&exp);
    log_gap(&exp, REASM_SEQ_WINDOW - 100);
    log_put(&exp, junk, strlen(junk));
    LOG_CHECK(&r.log, &exp);
    rig_done(&r);
    exp_free(&exp);
    free(stream);
}

TEST(stop_releases_blocks_and_silences_the_consumer)
{
    uint8_t *stream = make_stream(STREAM_LEN);
    struct rig r;
    rig_init(&r, 50, POOL_BIG, 0);
    rig_syn(&r);
    rig_seg(&r, stream, 0, 1000);
    rig_seg(&r, stream, 2000, 3000); /* two blocks held */
    ASSERT_EQ(r.pool.in_use, 2);
    reasm_stop(&r.pool, &r.rd);
    ASSERT(r.rd.is_stopped);
    ASSERT_EQ(r.pool.in_use, 0);
    ASSERT_EQ(r.rd.ooo_bytes, 0);
    rig_seg(&r, stream, 1000, 1000);
    rig_flush(&r);
    reasm_ack(&r.pool, &r.rd, 0, r.isn + 1 + STREAM_LEN, &r.cons);
    struct log exp = {0};
    exp_data(&exp, stream, 0, 1000);
    LOG_CHECK(&r.log, &exp);
    ASSERT_EQ(r.pool.in_use, 0);
    rig_done(&r);
    exp_free(&exp);
    free(stream);
}

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
#include "reasm-harness.h"

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

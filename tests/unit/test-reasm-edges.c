/*
 * test-reasm-edges.c — TCP reassembly at the edges of a stream: SYN and
 * mid-stream pickup, sequence wrap-around, FIN, snaplen cuts, the direction
 * and global caps, acknowledgements past a hole, out-of-window segments and
 * stopping. The consumer and the stream are in reasm-harness.h.
 */
#include "reasm-harness.h"

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

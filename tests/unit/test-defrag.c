/*
 * test-defrag.c — IPv4 (RFC 791) and IPv6 (RFC 8200 §4.5) fragment
 * reassembly through decode_packet(): order, duplicates, conflicting
 * overlaps, limits and timeouts, on frames built in decode-frames.h.
 */
#include "decode-frames.h"

/* ---- fragments ---------------------------------------------------------- */

/* A UDP datagram of 8 + 40 bytes, cut into three 16-byte fragments. */
static const char frag_text[] = "fragmented UDP payload, 40 bytes long!!!";

static void frag_datagram(struct frame *dg)
{
    dg->n = 0;
    size_t u = udp_begin(dg, 40000, 53);
    put_str(dg, frag_text);
    udp_end(dg, u);
}

/* Fragment [off, off+len) of dg, over Ethernet. `poison` changes its bytes. */
static void frag4(struct frame *f, const struct frame *dg, unsigned id, size_t off, size_t len,
                  bool more, bool poison)
{
    f->n = 0;
    eth(f, ETH_IPV4);
    size_t ip = ip4_begin(f, 17, 5, id, (unsigned)(off / 8) | (more ? 0x2000 : 0));
    for (size_t i = 0; i < len; i++)
        put8(f, poison ? '#' : dg->b[off + i]);
    ip4_end(f, ip);
}

static void frag6(struct frame *f, const struct frame *dg, uint32_t id, size_t off, size_t len,
                  bool more, bool poison)
{
    f->n = 0;
    eth(f, ETH_IPV6);
    size_t ip = ip6_begin(f, 44);
    put8(f, 17);                              /* next header */
    put8(f, 0);                               /* reserved */
    put16(f, (unsigned)off | (more ? 1 : 0)); /* offset (8-byte units << 3), M */
    put32(f, id);
    for (size_t i = 0; i < len; i++)
        put8(f, poison ? '#' : dg->b[off + i]);
    ip6_end(f, ip);
}

struct frag_step {
    int piece;   /* 0, 1 or 2: which third of the datagram */
    bool poison; /* different bytes at the same place */
};

/* Feed the steps; the last must complete the datagram unless `fails`. */
static void run_frags(int ipver, const struct frag_step *steps, size_t n, bool fails)
{
    struct frame dg, f;
    frag_datagram(&dg);
    struct dec x;
    dec_init(&x);
    int oks = 0;
    for (size_t i = 0; i < n; i++) {
        size_t off = (size_t)steps[i].piece * 16;
        bool more = steps[i].piece < 2;
        if (ipver == 4)
            frag4(&f, &dg, 0x1234, off, 16, more, steps[i].poison);
        else
            frag6(&f, &dg, 0xdeadbeefu, off, 16, more, steps[i].poison);
        enum decode_status r = dec_run(&x, LINK_EN10MB, &f, f.n, f.n, 1000 + (pc_time)i);
        if (r == DEC_OK) {
            oks++;
            if (i + 1 != n)
                TEST_FAIL("step %zu completed the datagram early", i);
            ASSERT(x.pk.from_fragments);
            ASSERT_EQ(x.pk.ipver, ipver);
            ASSERT_EQ(x.pk.l4, 17);
            ASSERT_EQ(x.pk.sport, 40000);
            ASSERT_EQ(x.pk.dport, 53);
            ASSERT_MEMEQ(x.pk.src, ipver == 4 ? src4 : src6, ipver == 4 ? 4 : 16);
            ASSERT_MEMEQ(x.pk.dst, ipver == 4 ? dst4 : dst6, ipver == 4 ? 4 : 16);
            assert_payload(&x.pk, frag_text);
            ASSERT_EQ(x.pk.l3_len, (ipver == 4 ? 20 : 40) + dg.n);
            ASSERT_EQ(x.st.frag_reassembled, 1);
        } else {
            ASSERT_EQ(r, DEC_FRAG_HELD);
        }
    }
    ASSERT_EQ(x.st.frags, n);
    if (fails) {
        ASSERT_EQ(oks, 0);
        ASSERT_EQ(x.st.anomalies[AN_FRAG_OVERLAP], 1);
        ASSERT_EQ(x.st.frag_reassembled, 0);
    } else {
        ASSERT_EQ(oks, 1);
        ASSERT_EQ(anomalies(&x.st), 0);
    }
    dec_free(&x);
}

static void frag_orders(int ipver)
{
    const struct frag_step in_order[] = {{0, false}, {1, false}, {2, false}};
    const struct frag_step reversed[] = {{2, false}, {1, false}, {0, false}};
    const struct frag_step middle_first[] = {{1, false}, {2, false}, {0, false}};
    const struct frag_step duplicate[] = {
        {0, false}, {1, false}, {1, false}, {0, false}, {2, false}};
    const struct frag_step conflict[] = {{0, false}, {1, false}, {1, true}, {2, false}};
    const struct frag_step conflict_first[] = {{1, true}, {2, false}, {1, false}, {0, false}};
    run_frags(ipver, in_order, 3, false);
    run_frags(ipver, reversed, 3, false);
    run_frags(ipver, middle_first, 3, false);
    run_frags(ipver, duplicate, 5, false);
    run_frags(ipver, conflict, 4, true);
    run_frags(ipver, conflict_first, 4, true);
}

TEST(ipv4_fragments_in_any_order_rebuild_the_datagram)
{
    frag_orders(4);
}

TEST(ipv6_fragments_in_any_order_rebuild_the_datagram)
{
    frag_orders(6);
}

TEST(interleaved_datagrams_are_kept_apart_by_id)
{
    struct frame dg, other, f;
    frag_datagram(&dg);
    other = dg;
    for (size_t i = 8; i < other.n; i++)
        other.b[i] = 'o';
    struct dec x;
    dec_init(&x);
    for (int piece = 0; piece < 3; piece++) {
        frag4(&f, &dg, 1, (size_t)piece * 16, 16, piece < 2, false);
        enum decode_status a = dec_run(&x, LINK_EN10MB, &f, f.n, f.n, 1);
        if (piece == 2) {
            ASSERT_EQ(a, DEC_OK);
            assert_payload(&x.pk, frag_text);
        }
        frag4(&f, &other, 2, (size_t)piece * 16, 16, piece < 2, false);
        enum decode_status b = dec_run(&x, LINK_EN10MB, &f, f.n, f.n, 1);
        if (piece == 2) {
            ASSERT_EQ(b, DEC_OK);
            ASSERT_EQ(x.pk.payload_len, 40);
            ASSERT_EQ(x.pk.payload[0], 'o');
            ASSERT_EQ(x.pk.payload[39], 'o');
        } else {
            ASSERT_EQ(a, DEC_FRAG_HELD);
            ASSERT_EQ(b, DEC_FRAG_HELD);
        }
    }
    ASSERT_EQ(x.st.frag_reassembled, 2);
    ASSERT_EQ(anomalies(&x.st), 0);
    dec_free(&x);
}

TEST(fragments_older_than_the_timeout_are_dropped)
{
    struct frame dg, f;
    frag_datagram(&dg);
    const pc_time t0 = 1000000;

    /* defrag_expire directly */
    struct dec x;
    dec_init(&x);
    frag4(&f, &dg, 7, 0, 16, true, false);
    ASSERT_EQ(dec_run(&x, LINK_EN10MB, &f, f.n, f.n, t0), DEC_FRAG_HELD);
    frag4(&f, &dg, 7, 16, 16, true, false);
    ASSERT_EQ(dec_run(&x, LINK_EN10MB, &f, f.n, f.n, t0), DEC_FRAG_HELD);
    defrag_expire(x.d.defrag, t0 + DEFRAG_TIMEOUT_US - 1000000);
    ASSERT_EQ(x.st.anomalies[AN_FRAG_TIMEOUT], 0);
    defrag_expire(x.d.defrag, t0 + DEFRAG_TIMEOUT_US + 1000000);
    ASSERT_EQ(x.st.anomalies[AN_FRAG_TIMEOUT], 1);
    frag4(&f, &dg, 7, 32, 16, false, false);
    ASSERT_EQ(dec_run(&x, LINK_EN10MB, &f, f.n, f.n, t0 + DEFRAG_TIMEOUT_US + 1000000),
              DEC_FRAG_HELD);
    ASSERT_EQ(x.st.frag_reassembled, 0);
    dec_free(&x);

    /* through decode_packet: a late last fragment finds its datagram gone */
    dec_init(&x);
    frag6(&f, &dg, 9, 0, 16, true, false);
    ASSERT_EQ(dec_run(&x, LINK_EN10MB, &f, f.n, f.n, t0), DEC_FRAG_HELD);
    frag6(&f, &dg, 9, 16, 16, true, false);
    ASSERT_EQ(dec_run(&x, LINK_EN10MB, &f, f.n, f.n, t0 + DEFRAG_TIMEOUT_US / 2), DEC_FRAG_HELD);
    frag6(&f, &dg, 9, 32, 16, false, false);
    ASSERT_EQ(dec_run(&x, LINK_EN10MB, &f, f.n, f.n, t0 + DEFRAG_TIMEOUT_US + 1000000),
              DEC_FRAG_HELD);
    ASSERT_EQ(x.st.anomalies[AN_FRAG_TIMEOUT], 1);
    ASSERT_EQ(x.st.frag_reassembled, 0);
    dec_free(&x);

    /* the same, in time, completes */
    dec_init(&x);
    frag6(&f, &dg, 9, 0, 16, true, false);
    ASSERT_EQ(dec_run(&x, LINK_EN10MB, &f, f.n, f.n, t0), DEC_FRAG_HELD);
    frag6(&f, &dg, 9, 16, 16, true, false);
    ASSERT_EQ(dec_run(&x, LINK_EN10MB, &f, f.n, f.n, t0 + 1), DEC_FRAG_HELD);
    frag6(&f, &dg, 9, 32, 16, false, false);
    ASSERT_EQ(dec_run(&x, LINK_EN10MB, &f, f.n, f.n, t0 + DEFRAG_TIMEOUT_US - 1000000), DEC_OK);
    assert_payload(&x.pk, frag_text);
    ASSERT_EQ(x.st.anomalies[AN_FRAG_TIMEOUT], 0);
    dec_free(&x);
}

TEST(snaplen_cut_fragment_is_not_reassembled)
{
    struct frame dg, f;
    frag_datagram(&dg);
    struct dec x;
    dec_init(&x);
    frag4(&f, &dg, 3, 0, 16, true, false);
    ASSERT_EQ(dec_run(&x, LINK_EN10MB, &f, f.n - 4, f.n, 1), DEC_ANOMALY);
    ASSERT_EQ(x.st.anomalies[AN_IP_SNAPLEN_CUT], 1);
    frag4(&f, &dg, 3, 16, 16, true, false);
    ASSERT_EQ(dec_run(&x, LINK_EN10MB, &f, f.n, f.n, 1), DEC_FRAG_HELD);
    frag4(&f, &dg, 3, 32, 16, false, false);
    ASSERT_EQ(dec_run(&x, LINK_EN10MB, &f, f.n, f.n, 1), DEC_FRAG_HELD);
    ASSERT_EQ(x.st.frag_reassembled, 0);
    dec_free(&x);
}

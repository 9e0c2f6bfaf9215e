/*
 * test-decode.c — decode_packet() and the IP defragmenter on frames built
 * here, header field by header field (no struct casts over packet bytes).
 *
 * Every frame is copied into a buffer of exactly its captured length before
 * it is decoded, so ASan catches any read past the capture. For DEC_OK the
 * view must lie inside the captured bytes (or, for a rebuilt datagram,
 * inside the rebuilt datagram) and agree with what was built.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "decode.h"
#include "defrag.h"
#include "limits.h"
#include "stats.h"
#include "test.h"

/* ---- frame builder ------------------------------------------------------ */

struct frame {
    uint8_t b[4096]; /* the bytes */
    size_t n;        /* bytes used */
};

static void put8(struct frame *f, unsigned v)
{
    if (f->n >= sizeof f->b)
        TEST_FAIL("frame too long");
    f->b[f->n++] = (uint8_t)v;
}

static void put16(struct frame *f, unsigned v)
{
    put8(f, (v >> 8) & 0xff);
    put8(f, v & 0xff);
}

static void put32(struct frame *f, uint32_t v)
{
    put16(f, v >> 16);
    put16(f, v & 0xffff);
}

static void put_le32(struct frame *f, uint32_t v)
{
    put8(f, v & 0xff);
    put8(f, (v >> 8) & 0xff);
    put8(f, (v >> 16) & 0xff);
    put8(f, v >> 24);
}

static void put_mem(struct frame *f, const void *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put8(f, ((const uint8_t *)p)[i]);
}

static void put_str(struct frame *f, const char *s)
{
    put_mem(f, s, strlen(s));
}

static void set16(struct frame *f, size_t at, unsigned v)
{
    f->b[at] = (uint8_t)(v >> 8);
    f->b[at + 1] = (uint8_t)v;
}

#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86dd
#define ETH_ARP 0x0806
#define ETH_8021Q 0x8100
#define ETH_8021AD 0x88a8

static void eth(struct frame *f, unsigned type)
{
    static const uint8_t dst[6] = {0x02, 0x00, 0x5e, 0x00, 0x00, 0x01};
    static const uint8_t src[6] = {0x02, 0x00, 0x5e, 0x00, 0x00, 0x02};
    put_mem(f, dst, 6);
    put_mem(f, src, 6);
    put16(f, type);
}

/* The rest of a VLAN tag after its TPID: TCI, then the next ethertype. */
static void vlan_tag(struct frame *f, unsigned vid, unsigned next)
{
    put16(f, vid & 0x0fff);
    put16(f, next);
}

static const uint8_t src4[4] = {192, 0, 2, 1};     /* TEST-NET-1 */
static const uint8_t dst4[4] = {198, 51, 100, 25}; /* TEST-NET-2 */
static const uint8_t src6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t dst6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x25};

/* IPv4 header of ihl 32-bit words (options are NOPs); the total length is
 * set by ip4_end. frag: flags and offset field as on the wire. */
static size_t ip4_begin(struct frame *f, unsigned proto, unsigned ihl, unsigned id, unsigned frag)
{
    size_t at = f->n;
    put8(f, 0x40 | (ihl & 0x0f));
    put8(f, 0);     /* DSCP/ECN */
    put16(f, 0);    /* total length, set by ip4_end */
    put16(f, id);   /* identification */
    put16(f, frag); /* flags, fragment offset */
    put8(f, 64);    /* TTL */
    put8(f, proto); /* protocol */
    put16(f, 0);    /* checksum (not checked) */
    put_mem(f, src4, 4);
    put_mem(f, dst4, 4);
    for (unsigned i = 5; i < ihl; i++)
        put32(f, 0x01010101); /* NOP options */
    return at;
}

static void ip4_end(struct frame *f, size_t at)
{
    set16(f, at + 2, (unsigned)(f->n - at));
}

static size_t ip6_begin(struct frame *f, unsigned nh)
{
    size_t at = f->n;
    put32(f, 0x60000000); /* version 6, class 0, flow 0 */
    put16(f, 0);          /* payload length, set by ip6_end */
    put8(f, nh);          /* next header */
    put8(f, 64);          /* hop limit */
    put_mem(f, src6, 16);
    put_mem(f, dst6, 16);
    return at;
}

static void ip6_end(struct frame *f, size_t at)
{
    set16(f, at + 4, (unsigned)(f->n - at - 40));
}

/* An 8-byte IPv6 option header (hop-by-hop or destination options): PadN. */
static void ip6_opts(struct frame *f, unsigned next)
{
    put8(f, next);
    put8(f, 0); /* length: 8 bytes */
    put8(f, 1); /* PadN */
    put8(f, 4); /* 4 bytes of padding */
    put32(f, 0);
}

#define TCP_HDR_WORDS 5

static void tcp_hdr(struct frame *f, unsigned sport, unsigned dport, uint32_t seq, uint32_t ack,
                    unsigned flags, unsigned off_words)
{
    put16(f, sport);
    put16(f, dport);
    put32(f, seq);
    put32(f, ack);
    put8(f, (off_words & 0x0f) << 4);
    put8(f, flags);
    put16(f, 65535); /* window */
    put16(f, 0);     /* checksum */
    put16(f, 0);     /* urgent pointer */
    for (unsigned i = 5; i < off_words; i++)
        put32(f, 0x01010101); /* NOP options */
}

static size_t udp_begin(struct frame *f, unsigned sport, unsigned dport)
{
    size_t at = f->n;
    put16(f, sport);
    put16(f, dport);
    put16(f, 0); /* length, set by udp_end */
    put16(f, 0); /* checksum */
    return at;
}

static void udp_end(struct frame *f, size_t at)
{
    set16(f, at + 4, (unsigned)(f->n - at));
}

static const char smtp_line[] = "EHLO client.example.org\r\n";
static const char dns_text[] = "a UDP payload of some length";

/* IPv4 TCP packet (no link header) carrying smtp_line, 25000 -> 25. */
static void ip4_tcp(struct frame *f, unsigned ihl)
{
    size_t ip = ip4_begin(f, 6, ihl, 0x4242, 0x4000 /* DF */);
    tcp_hdr(f, 25000, 25, 1000, 2000, TCP_ACK | TCP_PSH, TCP_HDR_WORDS);
    put_str(f, smtp_line);
    ip4_end(f, ip);
}

static void ip4_udp(struct frame *f)
{
    size_t ip = ip4_begin(f, 17, 5, 7, 0);
    size_t u = udp_begin(f, 40000, 53);
    put_str(f, dns_text);
    udp_end(f, u);
    ip4_end(f, ip);
}

/* IPv6 TCP with hop-by-hop and destination options before TCP. */
static void ip6_ext_tcp(struct frame *f)
{
    size_t ip = ip6_begin(f, 0);
    ip6_opts(f, 60);
    ip6_opts(f, 6);
    tcp_hdr(f, 40001, 587, 0xfffffff0u, 5, TCP_ACK, TCP_HDR_WORDS);
    put_str(f, smtp_line);
    ip6_end(f, ip);
}

static void ip6_udp(struct frame *f)
{
    size_t ip = ip6_begin(f, 17);
    size_t u = udp_begin(f, 40000, 53);
    put_str(f, dns_text);
    udp_end(f, u);
    ip6_end(f, ip);
}

/* ---- decoding rig ------------------------------------------------------- */

struct dec {
    struct stats st;  /* counters */
    struct decoder d; /* the decoder under test */
    struct pkt pk;    /* the last view */
    uint8_t *cap;     /* exact-size copy of the last frame's captured bytes */
    size_t caplen;    /* its length */
};

static void dec_init(struct dec *x)
{
    memset(x, 0, sizeof *x);
    struct err e = {{0}};
    ASSERT_EQ(decoder_init(&x->d, &x->st, &e), 0);
}

static void dec_free(struct dec *x)
{
    decoder_free(&x->d);
    free(x->cap);
    x->cap = NULL;
}

static uint64_t anomalies(const struct stats *st)
{
    uint64_t n = 0;
    for (int a = 0; a < AN_COUNT; a++)
        n += st->anomalies[a];
    return n;
}

/* The view of a DEC_OK packet must lie inside what it points into. */
static void check_view(const struct dec *x)
{
    const struct pkt *pk = &x->pk;
    ASSERT(pk->ipver == 4 || pk->ipver == 6);
    ASSERT(pk->l4 == 6 || pk->l4 == 17);
    ASSERT(pk->l3 != NULL && pk->payload != NULL);
    if (!pk->from_fragments) {
        ASSERT(pk->l3 >= x->cap && pk->l3 <= x->cap + x->caplen);
        ASSERT(pk->l3_len <= (size_t)(x->cap + x->caplen - pk->l3));
    }
    /* compare as offsets from l3, so that a bad view does no pointer overflow */
    uintptr_t l3 = (uintptr_t)pk->l3, pl = (uintptr_t)pk->payload;
    if (pl < l3 || pl - l3 > pk->l3_len)
        TEST_FAIL("caplen %zu: payload starts %zd bytes after l3, which has %zu bytes", x->caplen,
                  (ssize_t)(pl - l3), pk->l3_len);
    size_t room = pk->l3_len - (size_t)(pl - l3);
    if (pk->payload_len > room)
        TEST_FAIL("caplen %zu: payload_len %zu runs past the %zu bytes left after the payload",
                  x->caplen, pk->payload_len, room);
    ASSERT(pk->payload_len <= pk->payload_wire_len);
}

/* Decode the first caplen bytes of f (copied to an exact-size buffer). */
static enum decode_status dec_run(struct dec *x, int link, const struct frame *f, size_t caplen,
                                  size_t wirelen, pc_time ts)
{
    free(x->cap);
    x->cap = malloc(caplen ? caplen : 1);
    ASSERT(x->cap != NULL);
    if (caplen)
        memcpy(x->cap, f->b, caplen);
    x->caplen = caplen;
    memset(&x->pk, 0xa5, sizeof x->pk); /* no field may be left over from before */
    enum decode_status r = decode_packet(&x->d, link, x->cap, caplen, wirelen, ts, &x->pk);
    ASSERT(r == DEC_OK || r == DEC_NOT_IP || r == DEC_OTHER_L4 || r == DEC_FRAG_HELD ||
           r == DEC_ANOMALY);
    if (r == DEC_OK)
        check_view(x);
    return r;
}

static enum decode_status dec_whole(struct dec *x, int link, const struct frame *f)
{
    return dec_run(x, link, f, f->n, f->n, 1700000000123456LL);
}

static void assert_payload(const struct pkt *pk, const char *s)
{
    ASSERT_EQ(pk->payload_len, strlen(s));
    ASSERT_EQ(pk->payload_wire_len, strlen(s));
    ASSERT_MEMEQ(pk->payload, s, strlen(s));
}

/* The SMTP packet of ip4_tcp(), wherever it was carried. */
static void assert_ip4_tcp(const struct dec *x)
{
    const struct pkt *pk = &x->pk;
    ASSERT_EQ(pk->ipver, 4);
    ASSERT_EQ(pk->l4, 6);
    ASSERT_MEMEQ(pk->src, src4, 4);
    ASSERT_MEMEQ(pk->dst, dst4, 4);
    ASSERT_EQ(pk->sport, 25000);
    ASSERT_EQ(pk->dport, 25);
    ASSERT_EQ(pk->seq, 1000);
    ASSERT_EQ(pk->ack, 2000);
    ASSERT_EQ(pk->tcp_flags, TCP_ACK | TCP_PSH);
    ASSERT(!pk->from_fragments);
    assert_payload(pk, smtp_line);
    ASSERT_EQ(anomalies(&x->st), 0);
}

static void assert_ip6_ext_tcp(const struct dec *x)
{
    const struct pkt *pk = &x->pk;
    ASSERT_EQ(pk->ipver, 6);
    ASSERT_EQ(pk->l4, 6);
    ASSERT_MEMEQ(pk->src, src6, 16);
    ASSERT_MEMEQ(pk->dst, dst6, 16);
    ASSERT_EQ(pk->sport, 40001);
    ASSERT_EQ(pk->dport, 587);
    ASSERT_EQ(pk->seq, 0xfffffff0u);
    ASSERT_EQ(pk->ack, 5);
    assert_payload(pk, smtp_line);
    ASSERT_EQ(anomalies(&x->st), 0);
}

static void assert_udp(const struct dec *x, int ipver)
{
    const struct pkt *pk = &x->pk;
    ASSERT_EQ(pk->ipver, ipver);
    ASSERT_EQ(pk->l4, 17);
    ASSERT_EQ(pk->sport, 40000);
    ASSERT_EQ(pk->dport, 53);
    assert_payload(pk, dns_text);
    ASSERT_EQ(anomalies(&x->st), 0);
}

/* ---- well-formed frames ------------------------------------------------- */

TEST(ethernet_ipv4_tcp_with_payload)
{
    struct dec x;
    dec_init(&x);
    struct frame f = {.n = 0};
    eth(&f, ETH_IPV4);
    ip4_tcp(&f, 5);
    ASSERT_EQ(dec_whole(&x, LINK_EN10MB, &f), DEC_OK);
    assert_ip4_tcp(&x);
    ASSERT(x.pk.l3 == x.cap + 14);
    ASSERT_EQ(x.pk.l3_len, 20 + 20 + strlen(smtp_line));
    ASSERT(x.pk.payload == x.cap + 54);
    ASSERT_EQ(x.pk.wire_len, f.n);
    ASSERT_EQ(x.pk.ts, 1700000000123456LL);
    ASSERT_EQ(x.st.ip_packets, 1);
    ASSERT_EQ(x.st.tcp_packets, 1);
    dec_free(&x);
}

TEST(ethernet_padding_is_not_payload)
{
    struct dec x;
    dec_init(&x);
    struct frame f = {.n = 0};
    eth(&f, ETH_IPV4);
    size_t ip = ip4_begin(&f, 6, 5, 1, 0);
    tcp_hdr(&f, 25, 25000, 7, 8, TCP_ACK, TCP_HDR_WORDS);
    ip4_end(&f, ip);
    while (f.n < 60)
        put8(&f, 0); /* Ethernet minimum frame */
    ASSERT_EQ(dec_whole(&x, LINK_EN10MB, &f), DEC_OK);
    ASSERT_EQ(x.pk.payload_len, 0);
    ASSERT_EQ(x.pk.payload_wire_len, 0);
    ASSERT_EQ(x.pk.l3_len, 40);
    ASSERT_EQ(anomalies(&x.st), 0);
    dec_free(&x);
}

TEST(ipv4_options_are_skipped)
{
    static const unsigned ihls[] = {6, 8, 15};
    for (size_t i = 0; i < sizeof ihls / sizeof ihls[0]; i++) {
        struct dec x;
        dec_init(&x);
        struct frame f = {.n = 0};
        eth(&f, ETH_IPV4);
        ip4_tcp(&f, ihls[i]);
        ASSERT_EQ(dec_whole(&x, LINK_EN10MB, &f), DEC_OK);
        assert_ip4_tcp(&x);
        ASSERT(x.pk.payload == x.cap + 14 + ihls[i] * 4 + 20);
        dec_free(&x);
    }
}

TEST(tcp_options_are_skipped)
{
    struct dec x;
    dec_init(&x);
    struct frame f = {.n = 0};
    size_t ip = ip4_begin(&f, 6, 5, 1, 0);
    tcp_hdr(&f, 25000, 25, 1000, 2000, TCP_ACK | TCP_PSH, 15); /* 40 bytes of options */
    put_str(&f, smtp_line);
    ip4_end(&f, ip);
    ASSERT_EQ(dec_whole(&x, LINK_RAW, &f), DEC_OK);
    assert_ip4_tcp(&x);
    ASSERT(x.pk.payload == x.cap + 20 + 60);
    dec_free(&x);
}

TEST(vlan_8021q_tag)
{
    struct dec x;
    dec_init(&x);
    struct frame f = {.n = 0};
    eth(&f, ETH_8021Q);
    vlan_tag(&f, 100, ETH_IPV4);
    ip4_tcp(&f, 5);
    ASSERT_EQ(dec_whole(&x, LINK_EN10MB, &f), DEC_OK);
    assert_ip4_tcp(&x);
    ASSERT(x.pk.l3 == x.cap + 18);
    dec_free(&x);
}

TEST(vlan_qinq_8021ad_then_8021q)
{
    static const unsigned outer[] = {ETH_8021AD, 0x9100};
    for (size_t i = 0; i < 2; i++) {
        struct dec x;
        dec_init(&x);
        struct frame f = {.n = 0};
        eth(&f, outer[i]);
        vlan_tag(&f, 10, ETH_8021Q);
        vlan_tag(&f, 200, ETH_IPV6);
        ip6_ext_tcp(&f);
        ASSERT_EQ(dec_whole(&x, LINK_EN10MB, &f), DEC_OK);
        assert_ip6_ext_tcp(&x);
        ASSERT(x.pk.l3 == x.cap + 22);
        dec_free(&x);
    }
}

TEST(vlan_tags_up_to_the_limit_and_one_too_many)
{
    for (int tags = 1; tags <= VLAN_MAX_DEPTH + 2; tags++) {
        struct dec x;
        dec_init(&x);
        struct frame f = {.n = 0};
        eth(&f, ETH_8021AD);
        for (int t = 1; t < tags; t++)
            vlan_tag(&f, (unsigned)t, ETH_8021Q);
        vlan_tag(&f, 99, ETH_IPV4);
        ip4_tcp(&f, 5);
        enum decode_status r = dec_whole(&x, LINK_EN10MB, &f);
        if (tags <= VLAN_MAX_DEPTH) {
            ASSERT_EQ(r, DEC_OK);
            assert_ip4_tcp(&x);
        } else {
            ASSERT_EQ(r, DEC_ANOMALY);
            ASSERT_EQ(x.st.anomalies[AN_VLAN_TOO_DEEP], 1);
            ASSERT_EQ(anomalies(&x.st), 1);
        }
        dec_free(&x);
    }
}

TEST(linux_sll_cooked_v1)
{
    struct dec x;
    dec_init(&x);
    struct frame f = {.n = 0};
    put16(&f, 0);          /* packet type: to us */
    put16(&f, 1);          /* ARPHRD_ETHER */
    put16(&f, 6);          /* address length */
    put32(&f, 0x02005e00); /* address, padded to 8 bytes */
    put32(&f, 0x00020000);
    put16(&f, ETH_IPV4); /* protocol */
    ip4_tcp(&f, 5);
    ASSERT_EQ(dec_whole(&x, LINK_SLL, &f), DEC_OK);
    assert_ip4_tcp(&x);
    ASSERT(x.pk.l3 == x.cap + 16);
    dec_free(&x);
}

TEST(linux_sll2_cooked_v2)
{
    struct dec x;
    dec_init(&x);
    struct frame f = {.n = 0};
    put16(&f, ETH_IPV6); /* protocol */
    put16(&f, 0);        /* reserved */
    put32(&f, 3);        /* interface index */
    put16(&f, 1);        /* ARPHRD_ETHER */
    put8(&f, 4);         /* packet type: outgoing */
    put8(&f, 6);         /* address length */
    put32(&f, 0x02005e00);
    put32(&f, 0x00020000);
    ip6_ext_tcp(&f);
    ASSERT_EQ(dec_whole(&x, LINK_SLL2, &f), DEC_OK);
    assert_ip6_ext_tcp(&x);
    ASSERT(x.pk.l3 == x.cap + 20);
    dec_free(&x);
}

TEST(dlt_null_family_in_either_byte_order)
{
    for (int le = 0; le < 2; le++) {
        struct dec x;
        dec_init(&x);
        struct frame f = {.n = 0};
        if (le)
            put_le32(&f, 2); /* AF_INET */
        else
            put32(&f, 2);
        ip4_tcp(&f, 5);
        ASSERT_EQ(dec_whole(&x, LINK_NULL, &f), DEC_OK);
        assert_ip4_tcp(&x);
        ASSERT(x.pk.l3 == x.cap + 4);
        dec_free(&x);
    }
    /* AF_INET6 of NetBSD/OpenBSD (24), FreeBSD (28), macOS (30), Linux (10) */
    static const uint32_t fam6[] = {24, 28, 30, 10};
    for (size_t i = 0; i < 4; i++) {
        for (int le = 0; le < 2; le++) {
            struct dec x;
            dec_init(&x);
            struct frame f = {.n = 0};
            if (le)
                put_le32(&f, fam6[i]);
            else
                put32(&f, fam6[i]);
            ip6_ext_tcp(&f);
            ASSERT_EQ(dec_whole(&x, LINK_NULL, &f), DEC_OK);
            assert_ip6_ext_tcp(&x);
            dec_free(&x);
        }
    }
    /* a family that is not IP */
    struct dec x;
    dec_init(&x);
    struct frame f = {.n = 0};
    put_le32(&f, 7);
    ip4_tcp(&f, 5);
    ASSERT_EQ(dec_whole(&x, LINK_NULL, &f), DEC_NOT_IP);
    ASSERT_EQ(x.st.non_ip, 1);
    dec_free(&x);
}

TEST(dlt_loop_family_in_network_order)
{
    struct dec x;
    dec_init(&x);
    struct frame f = {.n = 0};
    put32(&f, 2);
    ip4_tcp(&f, 5);
    ASSERT_EQ(dec_whole(&x, LINK_LOOP, &f), DEC_OK);
    assert_ip4_tcp(&x);
    dec_free(&x);

    dec_init(&x);
    f.n = 0;
    put32(&f, 24);
    ip6_udp(&f);
    ASSERT_EQ(dec_whole(&x, LINK_LOOP, &f), DEC_OK);
    assert_udp(&x, 6);
    dec_free(&x);
}

TEST(raw_ip_link_types)
{
    static const int links[] = {LINK_RAW, LINK_DLT_RAW_ALT1, LINK_DLT_RAW_ALT2, LINK_IPV4};
    for (size_t i = 0; i < 4; i++) {
        struct dec x;
        dec_init(&x);
        struct frame f = {.n = 0};
        ip4_tcp(&f, 5);
        ASSERT_EQ(dec_whole(&x, links[i], &f), DEC_OK);
        assert_ip4_tcp(&x);
        ASSERT(x.pk.l3 == x.cap);
        dec_free(&x);
    }
    static const int links6[] = {LINK_RAW, LINK_IPV6};
    for (size_t i = 0; i < 2; i++) {
        struct dec x;
        dec_init(&x);
        struct frame f = {.n = 0};
        ip6_ext_tcp(&f);
        ASSERT_EQ(dec_whole(&x, links6[i], &f), DEC_OK);
        assert_ip6_ext_tcp(&x);
        dec_free(&x);
    }
}

TEST(decode_ip_from_the_ip_header)
{
    struct dec x;
    dec_init(&x);
    struct frame f = {.n = 0};
    ip4_tcp(&f, 5);
    memset(&x.pk, 0, sizeof x.pk);
    ASSERT_EQ(decode_ip(&x.d, f.b, f.n, 42, &x.pk), DEC_OK);
    ASSERT_EQ(x.pk.ts, 42);
    ASSERT_EQ(x.pk.sport, 25000);
    ASSERT_MEMEQ(x.pk.payload, smtp_line, strlen(smtp_line));
    dec_free(&x);
}

TEST(ipv6_hop_by_hop_and_destination_options_before_tcp)
{
    struct dec x;
    dec_init(&x);
    struct frame f = {.n = 0};
    eth(&f, ETH_IPV6);
    ip6_ext_tcp(&f);
    ASSERT_EQ(dec_whole(&x, LINK_EN10MB, &f), DEC_OK);
    assert_ip6_ext_tcp(&x);
    ASSERT(x.pk.payload == x.cap + 14 + 40 + 16 + 20);
    ASSERT_EQ(x.pk.l3_len, 40 + 16 + 20 + strlen(smtp_line));
    dec_free(&x);
}

TEST(ipv6_extension_headers_up_to_the_limit_and_past_it)
{
    for (int n = IPV6_MAX_EXT_HDRS - 1; n <= IPV6_MAX_EXT_HDRS + 1; n++) {
        struct dec x;
        dec_init(&x);
        struct frame f = {.n = 0};
        size_t ip = ip6_begin(&f, 60);
        for (int i = 0; i < n; i++)
            ip6_opts(&f, i + 1 < n ? 60 : 6);
        tcp_hdr(&f, 40001, 587, 0xfffffff0u, 5, TCP_ACK, TCP_HDR_WORDS);
        put_str(&f, smtp_line);
        ip6_end(&f, ip);
        enum decode_status r = dec_whole(&x, LINK_RAW, &f);
        if (n <= IPV6_MAX_EXT_HDRS) {
            ASSERT_EQ(r, DEC_OK);
            assert_ip6_ext_tcp(&x);
        } else {
            ASSERT_EQ(r, DEC_ANOMALY);
            ASSERT_EQ(x.st.anomalies[AN_IP6_EXT_TOO_MANY], 1);
        }
        dec_free(&x);
    }
}

TEST(udp_over_ipv4_and_ipv6)
{
    struct dec x;
    dec_init(&x);
    struct frame f = {.n = 0};
    eth(&f, ETH_IPV4);
    ip4_udp(&f);
    ASSERT_EQ(dec_whole(&x, LINK_EN10MB, &f), DEC_OK);
    assert_udp(&x, 4);
    ASSERT_EQ(x.st.udp_packets, 1);
    dec_free(&x);

    dec_init(&x);
    f.n = 0;
    eth(&f, ETH_IPV6);
    ip6_udp(&f);
    ASSERT_EQ(dec_whole(&x, LINK_EN10MB, &f), DEC_OK);
    assert_udp(&x, 6);
    ASSERT_MEMEQ(x.pk.src, src6, 16);
    dec_free(&x);
}

TEST(icmp_is_other_l4)
{
    struct dec x;
    dec_init(&x);
    struct frame f = {.n = 0};
    eth(&f, ETH_IPV4);
    size_t ip = ip4_begin(&f, 1, 5, 9, 0);
    put8(&f, 8); /* echo request */
    put8(&f, 0);
    put16(&f, 0);
    put32(&f, 0x00010001);
    put_str(&f, "ping");
    ip4_end(&f, ip);
    ASSERT_EQ(dec_whole(&x, LINK_EN10MB, &f), DEC_OTHER_L4);
    ASSERT_EQ(x.st.other_l4, 1);
    ASSERT_EQ(x.st.ip_packets, 1);
    ASSERT_EQ(anomalies(&x.st), 0);
    dec_free(&x);

    dec_init(&x); /* ICMPv6 behind a hop-by-hop header */
    f.n = 0;
    size_t ip6 = ip6_begin(&f, 0);
    ip6_opts(&f, 58);
    put8(&f, 128);
    put8(&f, 0);
    put16(&f, 0);
    put32(&f, 0);
    ip6_end(&f, ip6);
    ASSERT_EQ(dec_whole(&x, LINK_RAW, &f), DEC_OTHER_L4);
    ASSERT_EQ(x.st.other_l4, 1);
    dec_free(&x);
}

TEST(arp_and_8023_frames_are_not_ip)
{
    struct dec x;
    dec_init(&x);
    struct frame f = {.n = 0};
    eth(&f, ETH_ARP);
    put16(&f, 1);      /* hardware: Ethernet */
    put16(&f, 0x0800); /* protocol: IPv4 */
    put8(&f, 6);
    put8(&f, 4);
    put16(&f, 1); /* request */
    put_mem(&f, "\x02\x00\x5e\x00\x00\x02", 6);
    put_mem(&f, src4, 4);
    put_mem(&f, "\0\0\0\0\0\0", 6);
    put_mem(&f, dst4, 4);
    ASSERT_EQ(dec_whole(&x, LINK_EN10MB, &f), DEC_NOT_IP);
    ASSERT_EQ(x.st.non_ip, 1);
    ASSERT_EQ(x.st.ip_packets, 0);
    ASSERT_EQ(anomalies(&x.st), 0);

    f.n = 0; /* IEEE 802.3 length field, LLC */
    eth(&f, 46);
    put_str(&f, "\xaa\xaa\x03 an LLC/SNAP frame of 46 bytes ....");
    ASSERT_EQ(dec_whole(&x, LINK_EN10MB, &f), DEC_NOT_IP);
    ASSERT_EQ(x.st.non_ip, 2);
    dec_free(&x);
}

/* ---- truncation at every length ---------------------------------------- */

/*
 * Decode every prefix of a valid frame, with the wire length both the
 * whole frame (cut by the snaplen) and the prefix (a frame that is
 * really that short). Nothing may crash or read past the capture; DEC_OK
 * needs a view inside the buffer, and a snaplen cut must show up as
 * payload_len < payload_wire_len by exactly the bytes cut.
 */
static void truncate_all(int link, const struct frame *f, size_t hdr_len)
{
    for (size_t k = 0; k <= f->n; k++) {
        for (int really_short = 0; really_short < 2; really_short++) {
            struct dec x;
            dec_init(&x);
            size_t wire = really_short ? k : f->n;
            enum decode_status r = dec_run(&x, link, f, k, wire, 1);
            if (k == f->n) {
                if (r != DEC_OK)
                    TEST_FAIL("whole frame: status %d", r);
                ASSERT_EQ(x.pk.payload_len, f->n - hdr_len);
                ASSERT_EQ(x.pk.payload_wire_len, f->n - hdr_len);
                ASSERT_MEMEQ(x.pk.payload, f->b + hdr_len, f->n - hdr_len);
                ASSERT_EQ(anomalies(&x.st), 0);
            } else if (r == DEC_OK) {
                if (really_short)
                    TEST_FAIL("caplen=wirelen=%zu of %zu: DEC_OK for a frame shorter than its "
                              "IP length",
                              k, f->n);
                ASSERT(k >= hdr_len);
                ASSERT_EQ(x.pk.payload_len, k - hdr_len);
                ASSERT_EQ(x.pk.payload_wire_len - x.pk.payload_len, f->n - k);
                ASSERT_EQ(x.st.anomalies[AN_IP_SNAPLEN_CUT], 1);
            } else {
                if (r != DEC_ANOMALY)
                    TEST_FAIL("caplen %zu of %zu: status %d", k, f->n, r);
                ASSERT(anomalies(&x.st) >= 1);
            }
            dec_free(&x);
        }
    }
}

TEST(every_truncation_of_ethernet_ipv4_tcp)
{
    struct frame f = {.n = 0};
    eth(&f, ETH_IPV4);
    ip4_tcp(&f, 7);
    truncate_all(LINK_EN10MB, &f, 14 + 28 + 20);
}

TEST(every_truncation_of_vlan_ipv6_extension_headers_tcp)
{
    struct frame f = {.n = 0};
    eth(&f, ETH_8021Q);
    vlan_tag(&f, 5, ETH_IPV6);
    ip6_ext_tcp(&f);
    truncate_all(LINK_EN10MB, &f, 18 + 40 + 16 + 20);
}

TEST(every_truncation_of_sll2_ipv4_tcp)
{
    struct frame f = {.n = 0};
    put16(&f, ETH_IPV4);
    put16(&f, 0);
    put32(&f, 1);
    put16(&f, 1);
    put8(&f, 0);
    put8(&f, 6);
    put32(&f, 0);
    put32(&f, 0);
    ip4_tcp(&f, 5);
    truncate_all(LINK_SLL2, &f, 20 + 20 + 20);
}

TEST(every_truncation_of_ethernet_ipv4_udp)
{
    struct frame f = {.n = 0};
    eth(&f, ETH_IPV4);
    ip4_udp(&f);
    truncate_all(LINK_EN10MB, &f, 14 + 20 + 8);
}

TEST(every_truncation_of_null_ipv6_udp)
{
    struct frame f = {.n = 0};
    put_le32(&f, 30);
    ip6_udp(&f);
    truncate_all(LINK_NULL, &f, 4 + 40 + 8);
}

/* The anomaly each prefix of an Ethernet/IPv4/TCP frame is named by. */
TEST(truncated_ethernet_ipv4_tcp_names_the_cut_layer)
{
    struct frame f = {.n = 0};
    eth(&f, ETH_IPV4);
    ip4_tcp(&f, 5);
    for (size_t k = 0; k < f.n; k++) {
        struct dec x;
        dec_init(&x);
        enum decode_status r = dec_run(&x, LINK_EN10MB, &f, k, f.n, 1);
        enum anomaly want = k < 14   ? AN_L2_TRUNCATED
                            : k < 34 ? AN_IP_TRUNCATED
                            : k < 54 ? AN_TCP_TRUNCATED
                                     : AN_IP_SNAPLEN_CUT;
        if (x.st.anomalies[want] != 1)
            TEST_FAIL("caplen %zu: anomaly %s not counted once", k, anomaly_name(want));
        ASSERT_EQ(r, k < 54 ? DEC_ANOMALY : DEC_OK);
        dec_free(&x);
    }
}

/* A UDP header cut inside its checksum (6 or 7 of its 8 bytes captured)
 * must not give a payload that starts past the capture with a length that
 * wrapped around. */
TEST(udp_header_cut_by_snaplen_gives_no_wrapped_payload)
{
    struct frame f = {.n = 0};
    eth(&f, ETH_IPV4);
    ip4_udp(&f);
    for (size_t k = 14 + 20 + 4; k < 14 + 20 + 8; k++) {
        struct dec x;
        dec_init(&x);
        enum decode_status r = dec_run(&x, LINK_EN10MB, &f, k, f.n, 1);
        ASSERT_EQ(r, DEC_ANOMALY);
        ASSERT_EQ(x.st.anomalies[AN_UDP_TRUNCATED], 1);
        dec_free(&x);
    }
}

/* ---- malformed headers -------------------------------------------------- */

static enum decode_status dec_raw_once(struct frame *f, enum anomaly want)
{
    struct dec x;
    dec_init(&x);
    enum decode_status r = dec_whole(&x, LINK_RAW, f);
    if (x.st.anomalies[want] != 1)
        TEST_FAIL("anomaly %s not counted once", anomaly_name(want));
    dec_free(&x);
    return r;
}

TEST(ipv4_header_length_below_five_words)
{
    for (unsigned ihl = 0; ihl < 5; ihl++) {
        struct frame f = {.n = 0};
        ip4_tcp(&f, 5);
        f.b[0] = (uint8_t)(0x40 | ihl);
        ASSERT_EQ(dec_raw_once(&f, AN_IP_BAD_HLEN), DEC_ANOMALY);
    }
}

TEST(ipv4_header_length_past_the_packet)
{
    struct frame f = {.n = 0};
    size_t ip = ip4_begin(&f, 6, 5, 1, 0);
    put_str(&f, "abcd"); /* 24 bytes; IHL says 60 */
    ip4_end(&f, ip);
    f.b[0] = 0x4f;
    ASSERT_EQ(dec_raw_once(&f, AN_IP_BAD_HLEN), DEC_ANOMALY);
}

TEST(ipv4_total_length_below_header_or_past_frame)
{
    struct frame f = {.n = 0};
    ip4_tcp(&f, 6);
    set16(&f, 2, 20); /* header is 24 */
    ASSERT_EQ(dec_raw_once(&f, AN_IP_BAD_LEN), DEC_ANOMALY);
    set16(&f, 2, 0);
    ASSERT_EQ(dec_raw_once(&f, AN_IP_BAD_LEN), DEC_ANOMALY);
    set16(&f, 2, (unsigned)f.n + 1); /* one byte more than the wire had */
    ASSERT_EQ(dec_raw_once(&f, AN_IP_BAD_LEN), DEC_ANOMALY);
}

TEST(ip_version_other_than_4_or_6)
{
    struct frame f = {.n = 0};
    ip4_tcp(&f, 5);
    f.b[0] = 0x55;
    ASSERT_EQ(dec_raw_once(&f, AN_IP_BAD_VERSION), DEC_ANOMALY);
}

TEST(ipv6_payload_length_past_frame)
{
    struct frame f = {.n = 0};
    ip6_udp(&f);
    set16(&f, 4, (unsigned)(f.n - 40 + 1));
    ASSERT_EQ(dec_raw_once(&f, AN_IP_BAD_LEN), DEC_ANOMALY);
}

TEST(ipv6_extension_header_past_the_end)
{
    struct frame f = {.n = 0};
    size_t ip = ip6_begin(&f, 60);
    put8(&f, 6);
    put8(&f, 10); /* 88 bytes, but the packet ends after 8 */
    put8(&f, 1);
    put8(&f, 4);
    put32(&f, 0);
    ip6_end(&f, ip);
    ASSERT_EQ(dec_raw_once(&f, AN_IP6_EXT_TRUNCATED), DEC_ANOMALY);
}

TEST(tcp_data_offset_below_five_or_past_the_end)
{
    for (unsigned off = 0; off < 5; off++) {
        struct frame f = {.n = 0};
        ip4_tcp(&f, 5);
        f.b[20 + 12] = (uint8_t)(off << 4);
        ASSERT_EQ(dec_raw_once(&f, AN_TCP_BAD_OFFSET), DEC_ANOMALY);
    }
    struct frame f = {.n = 0}; /* 60-byte header claimed, 20 bytes + "hi" sent */
    size_t ip = ip4_begin(&f, 6, 5, 1, 0);
    tcp_hdr(&f, 25000, 25, 1, 2, TCP_ACK, TCP_HDR_WORDS);
    put_str(&f, "hi");
    ip4_end(&f, ip);
    f.b[20 + 12] = 0xf0;
    ASSERT_EQ(dec_raw_once(&f, AN_TCP_BAD_OFFSET), DEC_ANOMALY);
}

TEST(udp_length_below_eight_or_past_ip)
{
    for (unsigned len = 0; len < 8; len++) {
        struct frame f = {.n = 0};
        ip4_udp(&f);
        set16(&f, 20 + 4, len);
        ASSERT_EQ(dec_raw_once(&f, AN_UDP_BAD_LEN), DEC_ANOMALY);
    }
    struct frame f = {.n = 0};
    ip4_udp(&f);
    set16(&f, 20 + 4, (unsigned)(f.n - 20 + 1));
    ASSERT_EQ(dec_raw_once(&f, AN_UDP_BAD_LEN), DEC_ANOMALY);
}

TEST(udp_length_shorter_than_ip_payload_bounds_the_payload)
{
    struct dec x;
    dec_init(&x);
    struct frame f = {.n = 0};
    ip4_udp(&f);
    set16(&f, 20 + 4, 8 + 5); /* UDP says 5 bytes of payload, IP carries more */
    ASSERT_EQ(dec_whole(&x, LINK_RAW, &f), DEC_OK);
    ASSERT_EQ(x.pk.payload_len, 5);
    ASSERT_EQ(x.pk.payload_wire_len, 5);
    ASSERT_MEMEQ(x.pk.payload, dns_text, 5);
    dec_free(&x);
}

TEST(snaplen_cut_packet_is_ok_with_shorter_payload)
{
    struct dec x;
    dec_init(&x);
    struct frame f = {.n = 0};
    eth(&f, ETH_IPV4);
    ip4_tcp(&f, 5);
    size_t cap = 54 + 10;
    ASSERT_EQ(dec_run(&x, LINK_EN10MB, &f, cap, f.n, 5), DEC_OK);
    ASSERT_EQ(x.pk.payload_len, 10);
    ASSERT_EQ(x.pk.payload_wire_len, strlen(smtp_line));
    ASSERT(x.pk.payload_len < x.pk.payload_wire_len);
    ASSERT_MEMEQ(x.pk.payload, smtp_line, 10);
    ASSERT_EQ(x.pk.wire_len, f.n);
    ASSERT_EQ(x.pk.l3_len, cap - 14);
    ASSERT_EQ(x.st.anomalies[AN_IP_SNAPLEN_CUT], 1);
    ASSERT_EQ(anomalies(&x.st), 1);
    dec_free(&x);
}

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

/*
 * decode-frames.h — frames built header field by header field, and the
 * decoding rig, shared by test-decode.c and test-defrag.c. Test-only: each
 * test file uses part of it.
 */
#ifndef POSTCARD_DECODE_FRAMES_H
#define POSTCARD_DECODE_FRAMES_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "common.h"
#include "packet/decode.h"
#include "packet/defrag.h"
#include "sensor-limits.h"
#include "stats.h"
#include "test.h"

#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-const-variable"

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

#endif

/*
 * test-flow.c — the flow table: bidirectional lookup, who is the client,
 * the hard cap with eviction by value (the least recently seen flow of the
 * lowest eviction class), per-class timeouts (settable) against the caller's
 * clock, ordered shutdown, port reuse, mid-stream pickup, and seed-independent
 * flow ids.
 *
 * Packets are struct pkt values filled here (the decoder is not involved).
 * A callback records every ended flow: its ports, id and why it ended.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "packet/decode.h"
#include "packet/flow.h"
#include "sensor-limits.h"
#include "test.h"

#define SEC 1000000LL /* pc_time is in microseconds */

/* ---- packets ------------------------------------------------------------ */

/* An IPv4 packet a.b.c.d:sport -> e.f.g.h:dport; addresses as 32-bit values. */
static struct pkt pkt4(uint8_t l4, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
                       uint8_t flags, pc_time ts)
{
    struct pkt p;
    memset(&p, 0, sizeof p);
    p.ts = ts;
    p.ipver = 4;
    p.l4 = l4;
    for (int i = 0; i < 4; i++) {
        p.src[i] = (uint8_t)(src >> (24 - 8 * i));
        p.dst[i] = (uint8_t)(dst >> (24 - 8 * i));
    }
    p.sport = sport;
    p.dport = dport;
    p.tcp_flags = flags;
    return p;
}

static struct pkt tcp4(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, uint8_t flags,
                       pc_time ts)
{
    return pkt4(6, src, sport, dst, dport, flags, ts);
}

/* The same packet sent the other way. */
static struct pkt reply(const struct pkt *p, uint8_t flags)
{
    struct pkt r = *p;
    memcpy(r.src, p->dst, 16);
    memcpy(r.dst, p->src, 16);
    r.sport = p->dport;
    r.dport = p->sport;
    r.tcp_flags = flags;
    return r;
}

#define CLI 0xc0000201u /* 192.0.2.1 */
#define SRV 0xc6336419u /* 198.51.100.25 */

/* ---- ended-flow recorder ------------------------------------------------ */

#define ENDED_KEEP 256

struct ended {
    size_t n; /* flows ended */
    struct {
        uint16_t cport;    /* client port */
        uint16_t sport;    /* server port */
        uint64_t flow_id;  /* its id */
        pc_time last;      /* its last packet time */
        enum flow_end why; /* why it ended */
    } e[ENDED_KEEP];       /* the first ENDED_KEEP of them */
};

static void on_end(void *ctx, struct flow *f, enum flow_end why)
{
    struct ended *r = ctx;
    ASSERT(f->is_used);
    if (r->n < ENDED_KEEP) {
        r->e[r->n].cport = f->cport;
        r->e[r->n].sport = f->sport;
        r->e[r->n].flow_id = f->flow_id;
        r->e[r->n].last = f->last;
        r->e[r->n].why = why;
    }
    r->n++;
}

/* Look pk up; check is_new and dir. */
static struct flow *lookup(struct flow_table *ft, const struct pkt *pk, bool want_new, int want_dir)
{
    int dir = -1;
    bool is_new = !want_new;
    struct flow *f = flow_lookup(ft, pk, &dir, &is_new);
    ASSERT(f != NULL);
    ASSERT_EQ(is_new, want_new);
    ASSERT_EQ(dir, want_dir);
    return f;
}

static void assert_endpoints(const struct flow *f, uint32_t cli, uint16_t cport, uint32_t srv,
                             uint16_t sport)
{
    struct pkt c = pkt4(6, cli, cport, srv, sport, 0, 0);
    ASSERT_MEMEQ(f->cli, c.src, 16);
    ASSERT_MEMEQ(f->srv, c.dst, 16);
    ASSERT_EQ(f->cport, cport);
    ASSERT_EQ(f->sport, sport);
}

/* ---- tests -------------------------------------------------------------- */

TEST(both_directions_find_the_same_flow)
{
    struct ended ended = {0};
    struct flow_table *ft = flow_table_new(16, 1, on_end, &ended);
    struct pkt syn = tcp4(CLI, 40000, SRV, 25, TCP_SYN, 1 * SEC);
    struct flow *f = lookup(ft, &syn, true, 0);
    assert_endpoints(f, CLI, 40000, SRV, 25);
    ASSERT_EQ(f->proto, 6);
    ASSERT_EQ(f->ipver, 4);
    ASSERT_EQ(f->first, 1 * SEC);
    ASSERT_EQ(f->tc, FLOW_TC_TCP_NEW);
    struct pkt synack = reply(&syn, TCP_SYN | TCP_ACK);
    ASSERT(lookup(ft, &synack, false, 1) == f);
    struct pkt ack = syn;
    ack.tcp_flags = TCP_ACK;
    ASSERT(lookup(ft, &ack, false, 0) == f);
    ASSERT_EQ(flow_table_count(ft), 1);
    ASSERT_EQ(ended.n, 0);
    flow_table_free(ft);
}

TEST(client_is_the_sender_of_a_syn_whatever_the_ports)
{
    struct ended ended = {0};
    struct flow_table *ft = flow_table_new(16, 2, on_end, &ended);
    /* a SYN from port 25 to a high port: the SYN decides, not the port */
    struct pkt syn = tcp4(SRV, 25, CLI, 40000, TCP_SYN, SEC);
    struct flow *f = lookup(ft, &syn, true, 0);
    assert_endpoints(f, SRV, 25, CLI, 40000);
    flow_table_free(ft);
}

TEST(client_is_the_receiver_of_a_syn_ack)
{
    struct ended ended = {0};
    struct flow_table *ft = flow_table_new(16, 3, on_end, &ended);
    /* first packet seen is the server's SYN+ACK; ports give no hint */
    struct pkt synack = tcp4(SRV, 5000, CLI, 6000, TCP_SYN | TCP_ACK, SEC);
    struct flow *f = lookup(ft, &synack, true, 1);
    assert_endpoints(f, CLI, 6000, SRV, 5000);
    struct pkt ack = reply(&synack, TCP_ACK);
    ASSERT(lookup(ft, &ack, false, 0) == f);
    flow_table_free(ft);
}

TEST(client_mid_stream_is_chosen_by_mail_port_then_low_port)
{
    static const struct {
        uint16_t sport, dport; /* the first packet seen (no SYN) */
        int dir;               /* expected direction of that packet */
    } cases[] = {
        {40000, 25, 0},    /* SMTP */
        {25, 40000, 1},    /* SMTP, the server's packet first */
        {40000, 587, 0},   /* submission */
        {110, 40000, 1},   /* POP3 */
        {143, 50000, 1},   /* IMAP */
        {40000, 993, 0},   /* IMAPS */
        {995, 1024, 1},    /* POP3S */
        {465, 3000, 1},    /* SMTPS */
        {25, 80, 1},       /* the mail port serves even against a low port */
        {40000, 80, 0},    /* no mail port: the low port serves */
        {80, 40000, 1},    /* the same, the other way */
        {40000, 50000, 0}, /* no hint: the sender is the client */
        {50000, 40000, 0}, /* the same, the other way */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ended ended = {0};
        struct flow_table *ft = flow_table_new(16, 4, on_end, &ended);
        struct pkt p = tcp4(CLI, cases[i].sport, SRV, cases[i].dport, TCP_ACK | TCP_PSH, SEC);
        struct flow *f = lookup(ft, &p, true, cases[i].dir);
        if (cases[i].dir == 0)
            assert_endpoints(f, CLI, cases[i].sport, SRV, cases[i].dport);
        else
            assert_endpoints(f, SRV, cases[i].dport, CLI, cases[i].sport);
        struct pkt back = reply(&p, TCP_ACK);
        ASSERT(lookup(ft, &back, false, !cases[i].dir) == f);
        flow_table_free(ft);
    }
    /* UDP: the same rule */
    struct ended ended = {0};
    struct flow_table *ft = flow_table_new(16, 4, on_end, &ended);
    struct pkt dns = pkt4(17, SRV, 53, CLI, 40000, 0, SEC);
    struct flow *f = lookup(ft, &dns, true, 1);
    ASSERT_EQ(f->cport, 40000);
    ASSERT_EQ(f->tc, FLOW_TC_UDP);
    flow_table_free(ft);
}

TEST(a_different_tuple_is_a_different_flow)
{
    struct ended ended = {0};
    struct flow_table *ft = flow_table_new(64, 5, on_end, &ended);
    struct pkt base = tcp4(CLI, 40000, SRV, 25, TCP_SYN, SEC);
    struct flow *f0 = lookup(ft, &base, true, 0);
    struct pkt v[6];
    for (int i = 0; i < 6; i++)
        v[i] = base;
    v[0].src[3] ^= 1; /* client address */
    v[1].dst[3] ^= 1; /* server address */
    v[2].sport += 1;  /* client port */
    v[3].dport = 587; /* server port */
    v[4].l4 = 17;     /* protocol */
    v[5].ipver = 6;   /* IP version (same 16 bytes) */
    struct flow *seen[6];
    for (int i = 0; i < 6; i++) {
        seen[i] = lookup(ft, &v[i], true, 0);
        ASSERT(seen[i] != f0);
        for (int j = 0; j < i; j++)
            ASSERT(seen[i] != seen[j]);
    }
    ASSERT_EQ(flow_table_count(ft), 7);
    ASSERT(lookup(ft, &base, false, 0) == f0);
    for (int i = 0; i < 6; i++)
        ASSERT(lookup(ft, &v[i], false, 0) == seen[i]);
    ASSERT_EQ(ended.n, 0);
    flow_table_free(ft);
}

TEST(ipv6_flows_are_found_both_ways)
{
    struct ended ended = {0};
    struct flow_table *ft = flow_table_new(16, 6, on_end, &ended);
    struct pkt p;
    memset(&p, 0, sizeof p);
    p.ipver = 6;
    p.l4 = 6;
    p.ts = SEC;
    p.src[0] = 0x20;
    p.src[1] = 0x01;
    p.src[15] = 1;
    p.dst[0] = 0x20;
    p.dst[1] = 0x01;
    p.dst[15] = 0x25;
    p.sport = 40000;
    p.dport = 993;
    p.tcp_flags = TCP_SYN;
    struct flow *f = lookup(ft, &p, true, 0);
    ASSERT_MEMEQ(f->cli, p.src, 16);
    struct pkt r = reply(&p, TCP_SYN | TCP_ACK);
    ASSERT(lookup(ft, &r, false, 1) == f);
    r.src[15] = 2; /* a different address in the low bytes */
    ASSERT(lookup(ft, &r, true, 1) != f);
    flow_table_free(ft);
}

TEST(full_table_evicts_the_least_recently_seen_flow)
{
    struct ended ended = {0};
    struct flow_table *ft = flow_table_new(3, 7, on_end, &ended);
    struct pkt a = tcp4(CLI, 1001, SRV, 25, TCP_SYN, 1 * SEC);
    struct pkt b = tcp4(CLI, 1002, SRV, 25, TCP_SYN, 2 * SEC);
    struct pkt c = pkt4(17, CLI, 1003, SRV, 53, 0, 3 * SEC); /* another class */
    struct flow *fa = lookup(ft, &a, true, 0);
    struct flow *fb = lookup(ft, &b, true, 0);
    struct flow *fc = lookup(ft, &c, true, 0);
    (void)fb;
    flow_touch(ft, fa, FLOW_TC_TCP_OPEN, 4 * SEC); /* a is now the most recent */
    flow_touch(ft, fc, FLOW_TC_UDP, 5 * SEC);
    ASSERT_EQ(flow_table_count(ft), 3);
    struct pkt d = tcp4(CLI, 1004, SRV, 25, TCP_SYN, 6 * SEC);
    struct flow *fd = lookup(ft, &d, true, 0);
    ASSERT_EQ(ended.n, 1);
    ASSERT_EQ(ended.e[0].cport, 1002);
    ASSERT_EQ(ended.e[0].why, FLOW_END_EVICTED);
    ASSERT_EQ(flow_table_count(ft), 3);
    ASSERT(lookup(ft, &a, false, 0) == fa);
    ASSERT(lookup(ft, &c, false, 0) == fc);
    ASSERT(lookup(ft, &d, false, 0) == fd);
    /* b comes back as a new flow and pushes out the oldest now: a (4 s) */
    b.ts = 7 * SEC;
    lookup(ft, &b, true, 0);
    ASSERT_EQ(ended.n, 2);
    ASSERT_EQ(ended.e[1].cport, 1001);
    ASSERT_EQ(ended.e[1].why, FLOW_END_EVICTED);
    ASSERT_EQ(ended.e[1].last, 4 * SEC);
    flow_table_free(ft);
}

TEST(full_table_evicts_from_the_lowest_eviction_class_first)
{
    struct ended ended = {0};
    struct flow_table *ft = flow_table_new(4, 17, on_end, &ended);
    /* oldest first: a session, a flow with payload, then two bare SYNs */
    struct pkt a = tcp4(CLI, 1001, SRV, 25, TCP_SYN, 1 * SEC);
    struct pkt b = tcp4(CLI, 1002, SRV, 80, TCP_SYN, 2 * SEC);
    struct pkt c = tcp4(CLI, 1003, SRV, 25, TCP_SYN, 3 * SEC);
    struct pkt d = tcp4(CLI, 1004, SRV, 25, TCP_SYN, 4 * SEC);
    struct flow *fa = lookup(ft, &a, true, 0);
    struct flow *fb = lookup(ft, &b, true, 0);
    lookup(ft, &c, true, 0);
    lookup(ft, &d, true, 0);
    ASSERT_EQ(fa->evc, FLOW_EVC_EMBRYONIC);
    flow_raise(ft, fa, FLOW_EVC_OTHER);
    flow_raise(ft, fa, FLOW_EVC_SESSION); /* a class only rises, one step or two */
    flow_raise(ft, fb, FLOW_EVC_OTHER);
    ASSERT_EQ(fa->evc, FLOW_EVC_SESSION);
    ASSERT_EQ(fa->last, 1 * SEC); /* raising is not a packet */
    /* each new flow pushes out the oldest bare SYN, not the older flows worth more */
    struct pkt e = tcp4(CLI, 1005, SRV, 25, TCP_SYN, 5 * SEC);
    lookup(ft, &e, true, 0);
    ASSERT_EQ(ended.n, 1);
    ASSERT_EQ(ended.e[0].cport, 1003);
    ASSERT_EQ(ended.e[0].why, FLOW_END_EVICTED);
    struct pkt g = tcp4(CLI, 1006, SRV, 25, TCP_SYN, 6 * SEC);
    lookup(ft, &g, true, 0);
    ASSERT_EQ(ended.e[1].cport, 1004);
    /* with bare flows only newer than the others, still a bare one goes */
    struct pkt h = tcp4(CLI, 1007, SRV, 25, TCP_SYN, 7 * SEC);
    lookup(ft, &h, true, 0);
    ASSERT_EQ(ended.e[2].cport, 1005);
    ASSERT(lookup(ft, &a, false, 0) == fa);
    ASSERT(lookup(ft, &b, false, 0) == fb);
    flow_table_free(ft);
}

TEST(a_table_of_sessions_evicts_the_least_recently_seen_one)
{
    struct ended ended = {0};
    struct flow_table *ft = flow_table_new(3, 18, on_end, &ended);
    struct flow *f[3];
    for (int i = 0; i < 3; i++) {
        struct pkt p = tcp4(CLI, (uint16_t)(2001 + i), SRV, 143, TCP_SYN, (1 + i) * SEC);
        f[i] = lookup(ft, &p, true, 0);
    }
    flow_raise(ft, f[2], FLOW_EVC_OTHER);
    flow_raise(ft, f[0], FLOW_EVC_SESSION);
    flow_raise(ft, f[1], FLOW_EVC_SESSION);
    flow_touch(ft, f[0], FLOW_TC_TCP_OPEN, 4 * SEC); /* f[1] is now the older session */
    struct pkt n1 = tcp4(CLI, 2004, SRV, 143, TCP_SYN, 5 * SEC);
    lookup(ft, &n1, true, 0); /* no bare flow: the flow of the lowest class, f[2], goes */
    ASSERT_EQ(ended.e[0].cport, 2003);
    struct pkt n2 = tcp4(CLI, 2005, SRV, 143, TCP_SYN, 6 * SEC);
    lookup(ft, &n2, true, 0); /* the newcomer is bare: it goes, the sessions stay */
    ASSERT_EQ(ended.e[1].cport, 2004);
    flow_table_free(ft);
    /* sessions only: the least recently seen session goes */
    memset(&ended, 0, sizeof ended);
    ft = flow_table_new(2, 19, on_end, &ended);
    for (int i = 0; i < 2; i++) {
        struct pkt p = tcp4(CLI, (uint16_t)(3001 + i), SRV, 143, TCP_SYN, (1 + i) * SEC);
        f[i] = lookup(ft, &p, true, 0);
        flow_raise(ft, f[i], FLOW_EVC_SESSION);
    }
    flow_touch(ft, f[0], FLOW_TC_TCP_OPEN, 3 * SEC);
    struct pkt n3 = tcp4(CLI, 3003, SRV, 143, TCP_SYN, 4 * SEC);
    lookup(ft, &n3, true, 0);
    ASSERT_EQ(ended.n, 1);
    ASSERT_EQ(ended.e[0].cport, 3002);
    ASSERT_EQ(ended.e[0].why, FLOW_END_EVICTED);
    flow_table_free(ft);
}

TEST(a_syn_flood_never_evicts_the_sessions)
{
    enum { CAP = 100, FLOOD = 20000, SESSIONS = 10 };
    struct ended ended = {0};
    struct flow_table *ft = flow_table_new(CAP, 20, on_end, &ended);
    struct flow *s[SESSIONS];
    for (int i = 0; i < SESSIONS; i++) {
        struct pkt p = tcp4(CLI, (uint16_t)(4000 + i), SRV, 587, TCP_SYN, SEC);
        s[i] = lookup(ft, &p, true, 0);
        flow_raise(ft, s[i], FLOW_EVC_SESSION);
    }
    for (uint32_t i = 0; i < FLOOD; i++) { /* spoofed sources, each a new tuple */
        pc_time t = SEC + 1 + (pc_time)i;
        struct pkt p = tcp4(0xc6120000u + i, (uint16_t)(1024 + i % 60000), SRV, 25, TCP_SYN, t);
        lookup(ft, &p, true, 0);
    }
    ASSERT_EQ(ended.n, SESSIONS + FLOOD - CAP);
    for (size_t i = 0; i < ENDED_KEEP; i++)
        ASSERT_EQ(ended.e[i].sport, 25);
    for (int i = 0; i < SESSIONS; i++) { /* idle since the start, and still there */
        struct pkt p = tcp4(CLI, (uint16_t)(4000 + i), SRV, 587, TCP_ACK, 2 * SEC);
        ASSERT(lookup(ft, &p, false, 0) == s[i]);
    }
    flow_table_free(ft);
}

TEST(a_raised_flow_keeps_its_timeout_class)
{
    struct ended ended = {0};
    struct flow_table *ft = flow_table_new(16, 21, on_end, &ended);
    const pc_time t = 10 * SEC;
    struct pkt p = tcp4(CLI, 40000, SRV, 25, TCP_ACK, t);
    struct flow *f = lookup(ft, &p, true, 0);
    flow_touch(ft, f, FLOW_TC_TCP_CLOSED, t);
    flow_raise(ft, f, FLOW_EVC_SESSION);
    ASSERT_EQ(f->tc, FLOW_TC_TCP_CLOSED);
    ASSERT_EQ(flow_expire(ft, t + FLOW_TIMEOUT_TCP_CLOSED_US), 0);
    ASSERT_EQ(flow_expire(ft, t + FLOW_TIMEOUT_TCP_CLOSED_US + 1), 1);
    ASSERT_EQ(ended.e[0].why, FLOW_END_TIMEOUT);
    flow_table_free(ft);
}

TEST(a_flow_touched_into_a_shorter_timeout_expires_on_time)
{
    struct ended ended = {0};
    struct flow_table *ft = flow_table_new(16, 22, on_end, &ended);
    struct pkt o = tcp4(CLI, 1, SRV, 25, TCP_ACK, 0);
    flow_touch(ft, lookup(ft, &o, true, 0), FLOW_TC_TCP_OPEN, 0);
    ASSERT_EQ(flow_expire(ft, 1 * SEC), 0); /* nothing due before 600 s now */
    struct pkt c = tcp4(CLI, 2, SRV, 25, TCP_ACK, 2 * SEC);
    struct flow *fc = lookup(ft, &c, true, 0);
    flow_touch(ft, fc, FLOW_TC_TCP_OPEN, 2 * SEC);
    ASSERT_EQ(flow_expire(ft, 3 * SEC), 0);
    flow_touch(ft, fc, FLOW_TC_TCP_CLOSED, 4 * SEC); /* due at 14 s, long before 600 s */
    ASSERT_EQ(flow_expire(ft, 4 * SEC + FLOW_TIMEOUT_TCP_CLOSED_US), 0);
    ASSERT_EQ(flow_expire(ft, 4 * SEC + FLOW_TIMEOUT_TCP_CLOSED_US + 1), 1);
    ASSERT_EQ(ended.e[0].cport, 2);
    /* a timeout set later applies to the flows already there */
    flow_table_set_timeout(ft, FLOW_TC_TCP_OPEN, 20 * SEC);
    ASSERT_EQ(flow_expire(ft, 20 * SEC + 1), 1);
    ASSERT_EQ(ended.e[1].cport, 1);
    flow_table_free(ft);
}

TEST(a_flow_whose_first_packet_has_no_syn_is_midstream)
{
    struct ended ended = {0};
    struct flow_table *ft = flow_table_new(16, 23, on_end, &ended);
    struct pkt syn = tcp4(CLI, 1, SRV, 25, TCP_SYN, SEC);
    ASSERT(!lookup(ft, &syn, true, 0)->is_midstream);
    struct pkt synack = tcp4(SRV, 25, CLI, 2, TCP_SYN | TCP_ACK, SEC);
    ASSERT(!lookup(ft, &synack, true, 1)->is_midstream); /* the handshake was seen */
    struct pkt data = tcp4(CLI, 3, SRV, 25, TCP_ACK | TCP_PSH, SEC);
    ASSERT(lookup(ft, &data, true, 0)->is_midstream);
    struct pkt rst = tcp4(CLI, 4, SRV, 25, TCP_RST, SEC);
    ASSERT(lookup(ft, &rst, true, 0)->is_midstream);
    struct pkt udp = pkt4(17, CLI, 5, SRV, 53, 0, SEC);
    ASSERT(!lookup(ft, &udp, true, 0)->is_midstream);
    flow_table_free(ft);
}

TEST(each_timeout_class_expires_on_packet_time)
{
    struct ended ended = {0};
    struct flow_table *ft = flow_table_new(16, 8, on_end, &ended);
    const pc_time t = 1000 * SEC;
    static const struct {
        uint16_t cport;  /* names the flow */
        enum flow_tc tc; /* its class */
        pc_time timeout; /* its idle timeout */
    } k[] = {
        {1, FLOW_TC_TCP_CLOSED, FLOW_TIMEOUT_TCP_CLOSED_US},
        {2, FLOW_TC_TCP_NEW, FLOW_TIMEOUT_TCP_NEW_US},
        {3, FLOW_TC_UDP, FLOW_TIMEOUT_UDP_US},
        {4, FLOW_TC_TCP_OPEN, FLOW_TIMEOUT_TCP_OPEN_US},
    };
    for (size_t i = 0; i < 4; i++) {
        struct pkt p = pkt4(k[i].tc == FLOW_TC_UDP ? 17 : 6, CLI, k[i].cport, SRV, 25, TCP_ACK, t);
        struct flow *f = lookup(ft, &p, true, 0);
        flow_touch(ft, f, k[i].tc, t);
    }
    flow_expire(ft, t);
    ASSERT_EQ(ended.n, 0);
    for (size_t i = 0; i < 4; i++) {
        flow_expire(ft, t + k[i].timeout - SEC);
        ASSERT_EQ(ended.n, i);
        flow_expire(ft, t + k[i].timeout + SEC);
        ASSERT_EQ(ended.n, i + 1);
        ASSERT_EQ(ended.e[i].cport, k[i].cport);
        ASSERT_EQ(ended.e[i].why, FLOW_END_TIMEOUT);
        ASSERT_EQ(flow_table_count(ft), 3 - i);
    }
    flow_table_free(ft);
}

TEST(each_class_can_have_its_own_timeout)
{
    struct ended ended = {0};
    struct flow_table *ft = flow_table_new(16, 13, on_end, &ended);
    flow_table_set_timeout(ft, FLOW_TC_TCP_CLOSED, 2 * SEC);
    flow_table_set_timeout(ft, FLOW_TC_UDP, 5 * SEC);
    const pc_time t = 100 * SEC;
    struct pkt c = tcp4(CLI, 1, SRV, 25, TCP_FIN | TCP_ACK, t);
    flow_touch(ft, lookup(ft, &c, true, 0), FLOW_TC_TCP_CLOSED, t);
    struct pkt u = pkt4(17, CLI, 2, SRV, 53, 0, t);
    flow_touch(ft, lookup(ft, &u, true, 0), FLOW_TC_UDP, t);
    struct pkt o = tcp4(CLI, 3, SRV, 25, TCP_ACK, t);
    flow_touch(ft, lookup(ft, &o, true, 0), FLOW_TC_TCP_OPEN, t);
    ASSERT_EQ(flow_expire(ft, t + 2 * SEC), 0); /* idle for longer than, not as long as */
    ASSERT_EQ(flow_expire(ft, t + 2 * SEC + 1), 1);
    ASSERT_EQ(ended.e[0].cport, 1);
    ASSERT_EQ(flow_expire(ft, t + 5 * SEC + 1), 1);
    ASSERT_EQ(ended.e[1].cport, 2);
    ASSERT_EQ(flow_expire(ft, t + 59 * SEC), 0); /* the others keep their defaults */
    ASSERT_EQ(flow_expire(ft, t + FLOW_TIMEOUT_TCP_OPEN_US + 1), 1);
    ASSERT_EQ(ended.e[2].cport, 3);
    ASSERT_EQ(ended.e[2].why, FLOW_END_TIMEOUT);
    flow_table_free(ft);
}

TEST(a_clock_behind_a_flows_last_packet_expires_nothing)
{
    struct ended ended = {0};
    struct flow_table *ft = flow_table_new(16, 14, on_end, &ended);
    flow_table_set_timeout(ft, FLOW_TC_TCP_CLOSED, 1 * SEC);
    struct pkt p = tcp4(CLI, 40000, SRV, 25, TCP_RST, 50 * SEC);
    flow_touch(ft, lookup(ft, &p, true, 0), FLOW_TC_TCP_CLOSED, 50 * SEC);
    ASSERT_EQ(flow_expire(ft, 49 * SEC), 0); /* a packet a little ahead of the last tick */
    ASSERT_EQ(flow_expire(ft, 51 * SEC + 1), 1);
    flow_table_free(ft);
}

TEST(a_touched_flow_is_not_expired)
{
    struct ended ended = {0};
    struct flow_table *ft = flow_table_new(16, 9, on_end, &ended);
    struct pkt p = tcp4(CLI, 40000, SRV, 25, TCP_ACK, 0);
    struct flow *f = lookup(ft, &p, true, 0);
    flow_touch(ft, f, FLOW_TC_TCP_OPEN, 0);
    flow_touch(ft, f, FLOW_TC_TCP_OPEN, 500 * SEC);
    flow_expire(ft, FLOW_TIMEOUT_TCP_OPEN_US + SEC);
    ASSERT_EQ(ended.n, 0);
    ASSERT_EQ(f->last, 500 * SEC);
    flow_expire(ft, 500 * SEC + FLOW_TIMEOUT_TCP_OPEN_US + SEC);
    ASSERT_EQ(ended.n, 1);
    flow_table_free(ft);
}

TEST(expiry_is_bounded_per_call_and_ends_all_in_the_end)
{
    struct ended ended = {0};
    const size_t n = 3 * FLOW_EXPIRE_BATCH + 5;
    struct flow_table *ft = flow_table_new(n, 10, on_end, &ended);
    for (size_t i = 0; i < n; i++) {
        struct pkt p = pkt4(17, CLI, (uint16_t)(2000 + i), SRV, 53, 0, (pc_time)i);
        lookup(ft, &p, true, 0);
    }
    const pc_time late = (pc_time)n + FLOW_TIMEOUT_UDP_US + SEC;
    ASSERT_EQ(flow_expire(ft, late), FLOW_EXPIRE_BATCH);
    ASSERT_EQ(ended.n, FLOW_EXPIRE_BATCH);
    for (int calls = 0; calls < 10 && flow_table_count(ft) > 0; calls++)
        flow_expire(ft, late);
    ASSERT_EQ(flow_table_count(ft), 0);
    ASSERT_EQ(ended.n, n);
    for (size_t i = 0; i < n && i < ENDED_KEEP; i++) {
        ASSERT_EQ(ended.e[i].why, FLOW_END_TIMEOUT);
        ASSERT_EQ(ended.e[i].cport, 2000 + i); /* oldest first */
    }
    flow_table_free(ft);
}

TEST(end_all_ends_flows_oldest_first)
{
    struct ended ended = {0};
    struct flow_table *ft = flow_table_new(16, 11, on_end, &ended);
    static const struct {
        uint16_t cport;  /* names the flow */
        enum flow_tc tc; /* its class */
        pc_time last;    /* its last packet */
    } k[] = {
        {5, FLOW_TC_TCP_OPEN, 5 * SEC},   /* fifth */
        {1, FLOW_TC_UDP, 1 * SEC},        /* oldest */
        {3, FLOW_TC_TCP_NEW, 3 * SEC},    /* third */
        {2, FLOW_TC_TCP_CLOSED, 2 * SEC}, /* second */
        {4, FLOW_TC_UDP, 4 * SEC},        /* fourth, behind 1 in the same list */
        {6, FLOW_TC_TCP_NEW, 6 * SEC},    /* touched last of all */
    };
    for (size_t i = 0; i < 6; i++) {
        struct pkt p = pkt4(k[i].tc == FLOW_TC_UDP ? 17 : 6, CLI, k[i].cport, SRV, 25, TCP_ACK, 0);
        struct flow *f = lookup(ft, &p, true, 0);
        flow_touch(ft, f, k[i].tc, k[i].last);
    }
    flow_end_all(ft);
    ASSERT_EQ(ended.n, 6);
    for (size_t i = 0; i < 6; i++) {
        ASSERT_EQ(ended.e[i].cport, i + 1);
        ASSERT_EQ(ended.e[i].why, FLOW_END_SHUTDOWN);
    }
    ASSERT_EQ(flow_table_count(ft), 0);
    flow_end_all(ft); /* nothing left: no call */
    ASSERT_EQ(ended.n, 6);
    flow_table_free(ft);
}

TEST(new_syn_on_closed_flow_ends_it_and_starts_another)
{
    struct ended ended = {0};
    struct flow_table *ft = flow_table_new(16, 12, on_end, &ended);
    struct pkt syn = tcp4(CLI, 40000, SRV, 25, TCP_SYN, 1 * SEC);
    syn.seq = 1000;
    struct flow *f = lookup(ft, &syn, true, 0);
    uint64_t old_id = f->flow_id;
    flow_touch(ft, f, FLOW_TC_TCP_OPEN, 2 * SEC);
    /* a SYN on an open flow (retransmission) is the same flow */
    syn.ts = 3 * SEC;
    ASSERT(lookup(ft, &syn, false, 0) == f);
    flow_touch(ft, f, FLOW_TC_TCP_CLOSED, 4 * SEC);
    /* a SYN+ACK or an ACK on a closed flow still belongs to it */
    struct pkt late = reply(&syn, TCP_SYN | TCP_ACK);
    ASSERT(lookup(ft, &late, false, 1) == f);
    /* so does the first SYN again (retransmitted after an RST) */
    syn.ts = 5 * SEC;
    ASSERT(lookup(ft, &syn, false, 0) == f);
    ASSERT_EQ(ended.n, 0);
    /* a SYN with a new ISN reuses the tuple: a new connection */
    syn.seq = 777777;
    syn.ts = 6 * SEC;
    struct flow *g = lookup(ft, &syn, true, 0);
    ASSERT_EQ(ended.n, 1);
    ASSERT_EQ(ended.e[0].why, FLOW_END_REUSED);
    ASSERT_EQ(ended.e[0].flow_id, old_id);
    ASSERT_EQ(flow_table_count(ft), 1);
    ASSERT_EQ(g->first, 6 * SEC);
    ASSERT_EQ(g->tc, FLOW_TC_TCP_NEW);
    ASSERT(g->flow_id != old_id);
    assert_endpoints(g, CLI, 40000, SRV, 25);
    ASSERT(lookup(ft, &late, false, 1) == g);
    flow_table_free(ft);
}

TEST(flow_id_does_not_depend_on_the_seed)
{
    struct ended ended = {0};
    struct flow_table *t1 = flow_table_new(16, 1, on_end, &ended);
    struct flow_table *t2 = flow_table_new(16, 0xfeedfacecafebeefULL, on_end, &ended);
    struct pkt syn = tcp4(CLI, 40000, SRV, 25, TCP_SYN, 77 * SEC);
    struct flow *a = lookup(t1, &syn, true, 0);
    /* the other table first sees the server's SYN+ACK at the same time */
    struct pkt synack = reply(&syn, TCP_SYN | TCP_ACK);
    struct flow *b = lookup(t2, &synack, true, 1);
    ASSERT_EQ(a->flow_id, b->flow_id);
    ASSERT(a->flow_id < (1ULL << 53)); /* exact as a JSON number */
    /* different tuples, different ids */
    struct pkt other = syn;
    other.sport = 40001;
    struct flow *c = lookup(t1, &other, true, 0);
    ASSERT(c->flow_id != a->flow_id);
    other = syn;
    other.dst[3] ^= 1;
    struct flow *d = lookup(t1, &other, true, 0);
    ASSERT(d->flow_id != a->flow_id && d->flow_id != c->flow_id);
    flow_table_free(t1);
    flow_table_free(t2);
}

TEST(a_hundred_thousand_flows_are_all_found_again)
{
    enum { N = 100000 };
    struct ended ended = {0};
    struct flow_table *ft = flow_table_new(N, 0x0123456789abcdefULL, on_end, &ended);
    struct flow **seen = malloc(N * sizeof *seen);
    ASSERT(seen != NULL);
    for (uint32_t i = 0; i < N; i++) {
        uint32_t src = 0x0a000000u | (i / 7); /* 10.x.y.z, seven ports each */
        struct pkt p = tcp4(src, (uint16_t)(40000 + i % 7), SRV, 25, TCP_SYN, (pc_time)i);
        seen[i] = lookup(ft, &p, true, 0);
    }
    ASSERT_EQ(flow_table_count(ft), N);
    for (uint32_t i = 0; i < N; i++) {
        uint32_t src = 0x0a000000u | (i / 7);
        struct pkt p = tcp4(src, (uint16_t)(40000 + i % 7), SRV, 25, TCP_ACK, N + (pc_time)i);
        if (i % 2) {
            struct pkt r = reply(&p, TCP_ACK);
            ASSERT(lookup(ft, &r, false, 1) == seen[i]);
        } else {
            ASSERT(lookup(ft, &p, false, 0) == seen[i]);
        }
        ASSERT_EQ(seen[i]->cport, 40000 + i % 7);
    }
    ASSERT_EQ(ended.n, 0);
    flow_end_all(ft);
    ASSERT_EQ(ended.n, N);
    for (size_t i = 0; i < ENDED_KEEP; i++)
        ASSERT_EQ(ended.e[i].last, (pc_time)i); /* oldest first */
    free(seen);
    flow_table_free(ft);
}

/* ---- the bucket hash ------------------------------------------------------ */

#include "packet/siphash.h"

/* SipHash-2-4's reference vectors (the paper's appendix and its test.c): key 00..0f, message
 * 00..n-1. The flow table runs the same rounds as SipHash-1-3. */
TEST(siphash_reference_vectors)
{
    uint8_t m[16];
    for (int i = 0; i < 16; i++)
        m[i] = (uint8_t)i;
    const uint64_t k0 = 0x0706050403020100ULL, k1 = 0x0f0e0d0c0b0a0908ULL;
    static const struct {
        size_t n;
        uint64_t want;
    } v[] = {{0, 0x726fdb47dd0e0e31ULL},
             {1, 0x74f839c593dc67fdULL},
             {8, 0x93f5f5799a932462ULL},
             {15, 0xa129ca6149be45e5ULL},
             {16, 0x3f2acc7f57c29bdbULL}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        ASSERT_EQ(siphash(2, 4, k0, k1, m, v[i].n), v[i].want);
    ASSERT(siphash(1, 3, k0, k1, m, 15) != siphash(2, 4, k0, k1, m, 15));
}

/*
 * Tuples built to collide under a hash that mixes the ports into the same lane as address
 * bytes before the first mix: IPv6 clients whose address bytes 4-5 XOR the client port is
 * constant, and IPv4 clients whose last address bytes and port move together. Spoofed
 * sources are free, so an attacker can send such tuples. Under a keyed hash they spread:
 * 2,000 flows in 4,096 buckets, for three seeds, leave no chain longer than 8.
 */
static size_t longest_chain_of(uint64_t seed, int ipver)
{
    struct ended ended = {0};
    struct flow_table *ft = flow_table_new(4096, seed, on_end, &ended);
    for (unsigned i = 0; i < 2000; i++) {
        struct pkt p;
        memset(&p, 0, sizeof p);
        p.ipver = (uint8_t)ipver;
        p.l4 = 6;
        p.ts = SEC;
        p.tcp_flags = TCP_SYN;
        p.dport = 25;
        if (ipver == 6) {
            p.src[0] = 0x20, p.src[1] = 0x01, p.src[2] = 0x0d, p.src[3] = 0xb8;
            p.src[4] = (uint8_t)(i >> 8), p.src[5] = (uint8_t)i;
            p.sport = (uint16_t)(i ^ 0x4242);
            p.dst[0] = 0xfe; /* the larger address: the client's is hashed first */
            p.dst[15] = 0x25;
        } else {
            p.src[0] = 10, p.src[1] = 0, p.src[2] = (uint8_t)(i >> 8), p.src[3] = (uint8_t)i;
            p.sport = (uint16_t)(40000 + (i ^ 0x00ff));
            p.dst[0] = 198, p.dst[1] = 51, p.dst[2] = 100, p.dst[3] = 25;
        }
        int dir;
        bool is_new;
        flow_lookup(ft, &p, &dir, &is_new);
        ASSERT(is_new);
    }
    ASSERT_EQ(flow_table_count(ft), 2000);
    size_t longest = flow_table_longest_chain(ft);
    flow_table_free(ft);
    return longest;
}

TEST(structured_tuples_do_not_share_buckets)
{
    const uint64_t seeds[] = {1, 0x5eed, 0xdeadbeefcafef00dULL};
    for (size_t s = 0; s < 3; s++) {
        size_t v6 = longest_chain_of(seeds[s], 6), v4 = longest_chain_of(seeds[s], 4);
        if (v6 > 8 || v4 > 8)
            TEST_FAIL("seed %zu: longest chain %zu (IPv6), %zu (IPv4) of 2000 flows", s, v6, v4);
    }
}

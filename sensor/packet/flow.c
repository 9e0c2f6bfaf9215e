/*
 * flow.c — flow table.
 *
 *  - All flow slots are allocated once (calloc: pages are touched only as
 *    flows first use them, so memory follows the most flows ever held, not
 *    --max-flows); a free list recycles them, so no per-packet malloc.
 *  - Buckets are chained; the bucket hash is symmetric (both directions of a
 *    flow land in the same bucket) and is SipHash-1-3 (siphash.h) of the whole
 *    tuple under a key drawn from the run's random seed: without the key an
 *    attacker cannot choose tuples (spoofed addresses and ports are free) that
 *    share a bucket [FLOW-HASH-FLOOD].
 *  - Every flow is on one LRU list (lru.h), chosen by its eviction class and
 *    its timeout class, ordered by last packet time; the list nodes live in the
 *    flow slots: no allocation.
 *
 *              TCP new   TCP open   TCP closed   UDP      (timeout class)
 *    embryonic   [ ]        [ ]        [ ]        [ ]   ← evicted first
 *    other       [ ]        [ ]        [ ]        [ ]
 *    session     [ ]        [ ]        [ ]        [ ]   ← evicted last
 *
 *  - Expiry looks at the oldest flow of each list, and only once the clock has
 *    passed the earliest time any flow can expire (expire_at: lowered at every
 *    touch, recomputed after each expiry pass): one comparison per packet
 *    while nothing is due.
 *  - Expiry compares a flow's last packet time with the caller's clock: the
 *    latest packet time reading a file, the wall clock on a live interface
 *    (sensor.c). A flow's last time is always a packet's.
 *  - A full table evicts the least recently seen flow of the lowest eviction
 *    class that has one [FLOW-TABLE-FULL] [FLOW-EVICT-BY-VALUE]: a flood of
 *    spoofed SYNs (embryonic flows) replaces itself and never reaches a mail
 *    session; the caller raises a flow's class as it learns what it is worth.
 *    At most four lists are looked at: O(1) per new flow.
 *  - The flow_id written to output is derived from the tuple and the first
 *    packet time with a fixed key, so a capture always gives the same ids.
 *
 * Hazards: [FLOW-HASH-FLOOD] [FLOW-TABLE-FULL]
 *          [FLOW-EVICT-BY-VALUE] a class must cost an attacker what it is worth: what a
 *          blind spoofer can make in one packet stays in the lowest class (sensor.c)
 */
#include "packet/flow.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "packet/siphash.h"
#include "sensor-limits.h"

struct flow_table {
    struct flow *slots;     /* max_flows flows */
    size_t n_fresh;         /* slots handed out at least once (the rest were never touched) */
    struct flow *free_list; /* slots used before and free again, chained by hnext */
    struct flow **buckets;  /* hash chains */
    size_t n_buckets;       /* power of two */
    size_t max_flows;       /* hard cap */
    size_t n_used;          /* live flows */
    uint64_t key[2];        /* the bucket hash's key, from the per-run seed */
    struct lru lists[FLOW_EVC_COUNT][FLOW_TC_COUNT]; /* one LRU list per (evc, tc) */
    pc_time timeout[FLOW_TC_COUNT]; /* idle time after which a flow of each class ends */
    pc_time expire_at;              /* no flow can expire at or before this time */
    flow_end_fn on_end;             /* end-of-flow callback */
    void *ctx;                      /* its context */
};

static const pc_time tc_timeout_default[FLOW_TC_COUNT] = {
    [FLOW_TC_TCP_NEW] = FLOW_TIMEOUT_TCP_NEW_US,
    [FLOW_TC_TCP_OPEN] = FLOW_TIMEOUT_TCP_OPEN_US,
    [FLOW_TC_TCP_CLOSED] = FLOW_TIMEOUT_TCP_CLOSED_US,
    [FLOW_TC_UDP] = FLOW_TIMEOUT_UDP_US,
};

struct flow_table *flow_table_new(size_t max_flows, uint64_t seed, flow_end_fn on_end, void *ctx)
{
    struct flow_table *ft = xcalloc(1, sizeof *ft);
    ft->max_flows = max_flows ? max_flows : 1;
    ft->n_buckets = 1024;
    while (ft->n_buckets < ft->max_flows)
        ft->n_buckets <<= 1;
    ft->buckets = xcalloc(ft->n_buckets, sizeof *ft->buckets);
    ft->slots = xcalloc(ft->max_flows, sizeof *ft->slots); /* untouched until used */
    for (int v = 0; v < FLOW_EVC_COUNT; v++)
        for (int i = 0; i < FLOW_TC_COUNT; i++)
            lru_init(&ft->lists[v][i]);
    for (int i = 0; i < FLOW_TC_COUNT; i++)
        ft->timeout[i] = tc_timeout_default[i];
    /* the second half of the key from the seed by splitmix64's output step */
    uint64_t z = seed + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    ft->key[0] = seed;
    ft->key[1] = z ^ (z >> 31);
    ft->expire_at = INT64_MAX; /* no flow yet */
    ft->on_end = on_end;
    ft->ctx = ctx;
    return ft;
}

void flow_table_free(struct flow_table *ft)
{
    if (ft == NULL)
        return;
    free(ft->slots);
    free(ft->buckets);
    free(ft);
}

void flow_table_set_timeout(struct flow_table *ft, enum flow_tc tc, pc_time us)
{
    assert((unsigned)tc < FLOW_TC_COUNT && us >= 0);
    ft->timeout[tc] = us;
    ft->expire_at = INT64_MIN; /* look again at the next flow_expire */
}

size_t flow_table_longest_chain(const struct flow_table *ft)
{
    size_t longest = 0;
    for (size_t i = 0; i < ft->n_buckets; i++) {
        size_t n = 0;
        for (const struct flow *f = ft->buckets[i]; f != NULL; f = f->hnext)
            n++;
        if (n > longest)
            longest = n;
    }
    return longest;
}

size_t flow_table_count(const struct flow_table *ft)
{
    return ft->n_used;
}

static inline uint64_t mix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

static uint64_t load64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* The two endpoints in a fixed order, so that both directions give the same hash. */
static void order_ends(const uint8_t **a, uint16_t *pa, const uint8_t **b, uint16_t *pb)
{
    int cmp = memcmp(*a, *b, 16);
    if (cmp > 0 || (cmp == 0 && *pa > *pb)) {
        const uint8_t *t = *a;
        *a = *b;
        *b = t;
        uint16_t tp = *pa;
        *pa = *pb;
        *pb = tp;
    }
}

/* The bucket hash: SipHash-1-3 of proto, both ends and their ports, keyed per run. */
static uint64_t bucket_hash(const struct flow_table *ft, uint8_t proto, const uint8_t *a,
                            uint16_t pa, const uint8_t *b, uint16_t pb)
{
    order_ends(&a, &pa, &b, &pb);
    uint8_t t[37];
    t[0] = proto;
    memcpy(t + 1, a, 16);
    t[17] = (uint8_t)(pa >> 8);
    t[18] = (uint8_t)pa;
    memcpy(t + 19, b, 16);
    t[35] = (uint8_t)(pb >> 8);
    t[36] = (uint8_t)pb;
    return siphash(1, 3, ft->key[0], ft->key[1], t, sizeof t);
}

/* The tuple's part of a flow_id: a fixed mix, the same in every run (not a defence). */
static uint64_t tuple_hash(uint64_t seed, uint8_t proto, const uint8_t *a, uint16_t pa,
                           const uint8_t *b, uint16_t pb)
{
    order_ends(&a, &pa, &b, &pb);
    uint64_t h = seed ^ ((uint64_t)proto << 32 | (uint64_t)pa << 16 | pb);
    h = mix64(h ^ load64(a));
    h = mix64(h ^ load64(a + 8));
    h = mix64(h ^ load64(b));
    h = mix64(h ^ load64(b + 8));
    return h;
}

/* A flow of class tc was active at time t: it cannot expire before t + its timeout. */
static inline void expire_no_later(struct flow_table *ft, enum flow_tc tc, pc_time t)
{
    pc_time at = t + ft->timeout[tc];
    if (at < ft->expire_at)
        ft->expire_at = at;
}

void flow_touch(struct flow_table *ft, struct flow *f, enum flow_tc tc, pc_time now)
{
    f->last = now;
    f->tc = (uint8_t)tc;
    lru_touch(&ft->lists[f->evc][tc], &f->lru);
    expire_no_later(ft, tc, now);
}

void flow_raise(struct flow_table *ft, struct flow *f, enum flow_evc evc)
{
    assert((unsigned)evc < FLOW_EVC_COUNT && evc > f->evc);
    f->evc = (uint8_t)evc;
    lru_touch(&ft->lists[evc][f->tc], &f->lru);
}

static void flow_release(struct flow_table *ft, struct flow *f, enum flow_end why)
{
    ft->on_end(ft->ctx, f, why);
    lru_unlink(&f->lru);
    struct flow **pp = &ft->buckets[f->hash & (ft->n_buckets - 1)];
    while (*pp != f)
        pp = &(*pp)->hnext;
    *pp = f->hnext;
    f->is_used = false;
    f->hnext = ft->free_list;
    ft->free_list = f;
    ft->n_used--;
}

/* The least recently seen flow of eviction class evc and timeout class tc, or NULL. */
static struct flow *oldest_of(const struct flow_table *ft, int evc, int tc)
{
    struct lru_node *n = lru_oldest(&ft->lists[evc][tc]);
    return n != NULL ? LRU_ENTRY(n, struct flow, lru) : NULL;
}

/* The least recently seen flow of eviction class evc, or NULL. */
static struct flow *oldest_in(const struct flow_table *ft, int evc)
{
    struct flow *o = NULL;
    for (int tc = 0; tc < FLOW_TC_COUNT; tc++) {
        struct flow *h = oldest_of(ft, evc, tc);
        if (h != NULL && (o == NULL || h->last < o->last))
            o = h;
    }
    return o;
}

/* The least recently seen flow of timeout class tc, or NULL (equal times: the lower eviction
 * class first). */
static struct flow *oldest_tc(const struct flow_table *ft, int tc)
{
    struct flow *o = NULL;
    for (int evc = 0; evc < FLOW_EVC_COUNT; evc++) {
        struct flow *h = oldest_of(ft, evc, tc);
        if (h != NULL && (o == NULL || h->last < o->last))
            o = h;
    }
    return o;
}

/* The least recently seen flow of all (equal times: the lower timeout class, then the lower
 * eviction class first). */
static struct flow *oldest(const struct flow_table *ft)
{
    struct flow *o = NULL;
    for (int tc = 0; tc < FLOW_TC_COUNT; tc++) {
        struct flow *h = oldest_tc(ft, tc);
        if (h != NULL && (o == NULL || h->last < o->last))
            o = h;
    }
    return o;
}

/* The flow a full table gives up: the least recently seen of the lowest eviction class that
 * has one [FLOW-EVICT-BY-VALUE]. */
static struct flow *eviction_victim(const struct flow_table *ft)
{
    for (int evc = 0; evc < FLOW_EVC_COUNT; evc++) {
        struct flow *o = oldest_in(ft, evc);
        if (o != NULL)
            return o;
    }
    return NULL;
}

static bool is_server_port(uint16_t p)
{
    return classify_port_app(p) != PROTO_UNKNOWN;
}

/* Who is the client of a flow first seen with packet pk? */
static bool src_is_client(const struct pkt *pk)
{
    if (pk->l4 == 6) {
        if ((pk->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN)
            return true;
        if ((pk->tcp_flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK))
            return false;
    }
    /* picked up mid-stream: the side on a mail port, else a low port, serves */
    if (is_server_port(pk->dport) != is_server_port(pk->sport))
        return is_server_port(pk->dport);
    if ((pk->sport < 1024) != (pk->dport < 1024))
        return pk->dport < 1024;
    return true;
}

static uint64_t flow_id_of(const struct flow *f)
{
    uint64_t h = tuple_hash(0x706f7374636172dULL, f->proto, f->cli, f->cport, f->srv, f->sport);
    h = mix64(h ^ (uint64_t)f->first);
    return h & ((1ULL << 51) - 1); /* exact in a JSON number (IEEE double) */
}

struct flow *flow_lookup(struct flow_table *ft, const struct pkt *pk, int *dir, bool *is_new)
{
    uint64_t h64 = bucket_hash(ft, pk->l4, pk->src, pk->sport, pk->dst, pk->dport);
    uint32_t h = (uint32_t)h64;
    struct flow *f = ft->buckets[h & (ft->n_buckets - 1)];
    for (; f != NULL; f = f->hnext) {
        if (f->hash != h || f->proto != pk->l4 || f->ipver != pk->ipver)
            continue;
        if (f->cport == pk->sport && f->sport == pk->dport && !memcmp(f->cli, pk->src, 16) &&
            !memcmp(f->srv, pk->dst, 16)) {
            *dir = 0;
            break;
        }
        if (f->cport == pk->dport && f->sport == pk->sport && !memcmp(f->cli, pk->dst, 16) &&
            !memcmp(f->srv, pk->src, 16)) {
            *dir = 1;
            break;
        }
    }
    if (f != NULL) {
        /* A fresh SYN on a closed flow starts a new connection (port reuse);
         * the same SYN again is a retransmission after a refusal. */
        bool syn = pk->l4 == 6 && (pk->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN;
        if (syn && !f->has_client_isn && *dir == 0) {
            f->has_client_isn = true;
            f->client_isn = pk->seq;
        }
        if (!(syn && f->tc == FLOW_TC_TCP_CLOSED) ||
            (f->has_client_isn && f->client_isn == pk->seq)) {
            *is_new = false;
            return f;
        }
        flow_release(ft, f, FLOW_END_REUSED);
    }
    if (ft->free_list == NULL && ft->n_fresh == ft->max_flows) /* [FLOW-TABLE-FULL] */
        flow_release(ft, eviction_victim(ft), FLOW_END_EVICTED);
    if (ft->free_list != NULL) {
        f = ft->free_list;
        ft->free_list = f->hnext;
    } else {
        f = &ft->slots[ft->n_fresh++]; /* its page is touched now, not at start */
    }
    memset(f, 0, sizeof *f);
    f->is_used = true;
    f->hash = h;
    f->proto = pk->l4;
    f->ipver = pk->ipver;
    if (src_is_client(pk)) {
        memcpy(f->cli, pk->src, 16);
        memcpy(f->srv, pk->dst, 16);
        f->cport = pk->sport;
        f->sport = pk->dport;
        *dir = 0;
    } else {
        memcpy(f->cli, pk->dst, 16);
        memcpy(f->srv, pk->src, 16);
        f->cport = pk->dport;
        f->sport = pk->sport;
        *dir = 1;
    }
    if (pk->l4 == 6 && (pk->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
        f->has_client_isn = true;
        f->client_isn = pk->seq;
    }
    f->is_midstream = pk->l4 == 6 && !(pk->tcp_flags & TCP_SYN);
    f->first = f->last = pk->ts;
    f->flow_id = flow_id_of(f);
    f->tc = pk->l4 == 6 ? FLOW_TC_TCP_NEW : FLOW_TC_UDP;
    f->evc = FLOW_EVC_EMBRYONIC;
    lru_push_front(&ft->lists[f->evc][f->tc], &f->lru);
    expire_no_later(ft, (enum flow_tc)f->tc, f->last);
    size_t b = h & (ft->n_buckets - 1);
    f->hnext = ft->buckets[b];
    ft->buckets[b] = f;
    ft->n_used++;
    *is_new = true;
    return f;
}

/* The least recently seen flow of the first timeout class whose own is past its timeout at
 * now, or NULL; with none, *next is the earliest time one can be. */
static struct flow *expired(const struct flow_table *ft, pc_time now, pc_time *next)
{
    *next = INT64_MAX;
    for (int tc = 0; tc < FLOW_TC_COUNT; tc++) {
        struct flow *h = oldest_tc(ft, tc);
        if (h == NULL)
            continue;
        if (now - h->last > ft->timeout[tc])
            return h;
        if (h->last + ft->timeout[tc] < *next)
            *next = h->last + ft->timeout[tc];
    }
    return NULL;
}

size_t flow_expire(struct flow_table *ft, pc_time now)
{
    if (now <= ft->expire_at)
        return 0; /* nothing is due yet: the common case, one comparison */
    size_t n = 0;
    pc_time next = 0;
    for (; n < FLOW_EXPIRE_BATCH; n++) {
        struct flow *victim = expired(ft, now, &next);
        if (victim == NULL)
            break;
        flow_release(ft, victim, FLOW_END_TIMEOUT);
    }
    /* a full batch leaves the rest for the next call, which looks again */
    ft->expire_at = n == FLOW_EXPIRE_BATCH ? INT64_MIN : next;
    return n;
}

void flow_end_all(struct flow_table *ft)
{
    struct flow *f;
    while ((f = oldest(ft)) != NULL)
        flow_release(ft, f, FLOW_END_SHUTDOWN);
}

/*
 * defrag.c — IP fragment reassembly.
 *
 * RFC 791 (IPv4) and RFC 8200 §4.5 (IPv6). Each datagram in progress has a
 * slot with a buffer allocated the first time the slot is used and kept
 * for reuse, so steady state does no allocation.
 *
 * Policy:
 *  - Fragments that overlap with identical bytes (retransmissions) are
 *    accepted. Overlaps that change bytes drop the whole datagram and are
 *    counted [FRAG-OVERLAP]: RFC 5722 requires this for IPv6, and for IPv4
 *    it removes the ambiguity that evasion relies on (end hosts disagree).
 *  - A datagram larger than 65535 bytes is dropped [FRAG-TOO-BIG].
 *  - More than DEFRAG_MAX_FRAGS pieces drops the datagram [FRAG-TOO-MANY].
 *  - A full table evicts the oldest datagram [FRAG-TABLE-FULL].
 *  - Datagrams older than DEFRAG_TIMEOUT_US are dropped [FRAG-TIMEOUT].
 *
 * Hazards: [FRAG-OVERLAP] [FRAG-TOO-BIG] [FRAG-TOO-MANY] [FRAG-TABLE-FULL]
 *          [FRAG-TIMEOUT] [FRAG-HDR-SIZE]
 */
#include "packet/defrag.h"

#include <stdlib.h>
#include <string.h>

#include "sensor-limits.h"

#define DEFRAG_HDR_MAX 60 /* IPv4 header with options; IPv6 uses 40 */

struct frag_range {
    uint32_t off; /* first byte */
    uint32_t end; /* one past the last byte */
};

struct dg {
    bool in_use;                                /* slot holds a datagram */
    struct defrag_key key;                      /* which datagram */
    pc_time first;                              /* time of its first fragment */
    uint8_t *buf;                               /* header + payload, allocated once */
    size_t hdr_len;                             /* header bytes at buf[0..) */
    bool have_hdr;                              /* header of offset 0 copied */
    uint32_t total;                             /* payload size, 0 until the last fragment */
    uint32_t have;                              /* distinct payload bytes received */
    unsigned n_ranges;                          /* entries in ranges[] */
    struct frag_range ranges[DEFRAG_MAX_FRAGS]; /* received, sorted, disjoint */
};

struct defrag {
    struct stats *st;                      /* anomaly counters */
    unsigned n_used;                       /* slots in use */
    struct dg slots[DEFRAG_MAX_DATAGRAMS]; /* datagrams in progress */
};

struct defrag *defrag_new(struct stats *st)
{
    struct defrag *df = xcalloc(1, sizeof *df);
    df->st = st;
    return df;
}

void defrag_free(struct defrag *df)
{
    if (df == NULL)
        return;
    for (size_t i = 0; i < DEFRAG_MAX_DATAGRAMS; i++)
        free(df->slots[i].buf);
    free(df);
}

static bool key_eq(const struct defrag_key *a, const struct defrag_key *b)
{
    return a->ipver == b->ipver && a->proto == b->proto && a->id == b->id &&
           memcmp(a->src, b->src, 16) == 0 && memcmp(a->dst, b->dst, 16) == 0;
}

static void slot_drop(struct defrag *df, struct dg *g)
{
    g->in_use = false;
    df->n_used--;
}

static struct dg *slot_find(struct defrag *df, const struct defrag_key *k, pc_time ts)
{
    struct dg *free_slot = NULL, *oldest = NULL;
    for (size_t i = 0; i < DEFRAG_MAX_DATAGRAMS; i++) {
        struct dg *g = &df->slots[i];
        if (!g->in_use) {
            if (free_slot == NULL)
                free_slot = g;
            continue;
        }
        if (key_eq(&g->key, k))
            return g;
        if (oldest == NULL || g->first < oldest->first)
            oldest = g;
    }
    if (free_slot == NULL) { /* [FRAG-TABLE-FULL] */
        stats_anomaly(df->st, AN_FRAG_TABLE_FULL);
        slot_drop(df, oldest);
        free_slot = oldest;
    }
    struct dg *g = free_slot;
    if (g->buf == NULL)
        g->buf = xmalloc(DEFRAG_HDR_MAX + DEFRAG_MAX_BYTES);
    g->in_use = true;
    g->key = *k;
    g->first = ts;
    g->hdr_len = 0;
    g->have_hdr = false;
    g->total = 0;
    g->have = 0;
    g->n_ranges = 0;
    df->n_used++;
    return g;
}

/* Insert [off,end) into the sorted disjoint ranges; return bytes that were new,
 * or -1 if an overlap carries different bytes or the table is full. */
static long range_add(struct dg *g, const uint8_t *data, uint32_t off, uint32_t end)
{
    uint8_t *pl = g->buf + DEFRAG_HDR_MAX;
    uint32_t overlap = 0;
    for (unsigned i = 0; i < g->n_ranges; i++) {
        uint32_t lo = g->ranges[i].off > off ? g->ranges[i].off : off;
        uint32_t hi = g->ranges[i].end < end ? g->ranges[i].end : end;
        if (lo >= hi)
            continue;
        if (memcmp(pl + lo, data + (lo - off), hi - lo) != 0)
            return -1; /* [FRAG-OVERLAP] */
        overlap += hi - lo;
    }
    memcpy(pl + off, data, end - off);
    /* merge: collect into a new sorted list */
    struct frag_range merged[DEFRAG_MAX_FRAGS + 1] = {{0, 0}};
    unsigned n = 0;
    bool placed = false;
    struct frag_range nr = {off, end};
    for (unsigned i = 0; i <= g->n_ranges; i++) {
        struct frag_range r;
        if (i < g->n_ranges && (placed || g->ranges[i].off < nr.off)) {
            r = g->ranges[i];
        } else if (!placed) {
            r = nr;
            placed = true;
            i--; /* revisit ranges[i] next round */
        } else {
            break;
        }
        if (n > 0 && r.off <= merged[n - 1].end) {
            if (r.end > merged[n - 1].end)
                merged[n - 1].end = r.end;
        } else {
            merged[n++] = r;
        }
    }
    if (n > DEFRAG_MAX_FRAGS)
        return -2; /* [FRAG-TOO-MANY] */
    memcpy(g->ranges, merged, n * sizeof merged[0]);
    g->n_ranges = n;
    return (long)(end - off - overlap);
}

bool defrag_add(struct defrag *df, const struct defrag_key *k, pc_time ts, const uint8_t *hdr,
                size_t hdr_len, const uint8_t *data, size_t len, size_t off, bool more,
                const uint8_t **out, size_t *out_len)
{
    if (hdr_len > DEFRAG_HDR_MAX) /* [FRAG-HDR-SIZE] cannot happen for valid IP, be safe */
        return false;
    if (off + len > DEFRAG_MAX_BYTES) { /* [FRAG-TOO-BIG] */
        stats_anomaly(df->st, AN_FRAG_TOO_BIG);
        for (size_t i = 0; i < DEFRAG_MAX_DATAGRAMS; i++)
            if (df->slots[i].in_use && key_eq(&df->slots[i].key, k))
                slot_drop(df, &df->slots[i]);
        return false;
    }
    struct dg *g = slot_find(df, k, ts);
    if (!more) {
        uint32_t total = (uint32_t)(off + len);
        if ((g->total != 0 && g->total != total) || total < g->have) {
            stats_anomaly(df->st, AN_FRAG_OVERLAP); /* two different ends */
            slot_drop(df, g);
            return false;
        }
        g->total = total;
    } else if (g->total != 0 && off + len > g->total) {
        stats_anomaly(df->st, AN_FRAG_OVERLAP); /* data past the end */
        slot_drop(df, g);
        return false;
    }
    if (off == 0 && !g->have_hdr) {
        memcpy(g->buf + DEFRAG_HDR_MAX - hdr_len, hdr, hdr_len);
        g->hdr_len = hdr_len;
        g->have_hdr = true;
    }
    if (len > 0) {
        long added = range_add(g, data, (uint32_t)off, (uint32_t)(off + len));
        if (added < 0) {
            stats_anomaly(df->st, added == -1 ? AN_FRAG_OVERLAP : AN_FRAG_TOO_MANY);
            slot_drop(df, g);
            return false;
        }
        g->have += (uint32_t)added;
    }
    if (g->total == 0 || g->have != g->total || !g->have_hdr)
        return false;
    uint8_t *h = g->buf + DEFRAG_HDR_MAX - g->hdr_len;
    size_t n = g->hdr_len + g->total;
    if (g->key.ipver == 4) { /* RFC 791: total length, clear MF and offset */
        h[2] = (uint8_t)(n >> 8);
        h[3] = (uint8_t)n;
        h[6] = 0;
        h[7] = 0;
    } else { /* RFC 8200: payload length; next header is the fragment's */
        h[4] = (uint8_t)(g->total >> 8);
        h[5] = (uint8_t)g->total;
        h[6] = g->key.proto;
    }
    *out = h;
    *out_len = n;
    slot_drop(df, g); /* buffer stays valid until the slot is reused */
    return true;
}

void defrag_expire(struct defrag *df, pc_time now)
{
    if (df->n_used == 0)
        return;
    for (size_t i = 0; i < DEFRAG_MAX_DATAGRAMS; i++) {
        struct dg *g = &df->slots[i];
        if (g->in_use && now - g->first > DEFRAG_TIMEOUT_US) { /* [FRAG-TIMEOUT] */
            stats_anomaly(df->st, AN_FRAG_TIMEOUT);
            slot_drop(df, g);
        }
    }
}

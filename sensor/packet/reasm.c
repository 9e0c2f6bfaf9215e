/*
 * reasm.c — TCP reassembly (RFC 9293 sequence space), per direction.
 *
 *   segment ─▶ trim what was already delivered (retransmission)
 *           ─▶ in order?  yes: hand on directly (no copy), then drain the
 *                              out-of-order list while it continues
 *                         no:  copy into pool blocks (first arrival wins)
 *
 * Policy, chosen to be simple to reason about and hard to poison:
 *  - Bytes already handed on are final. A later segment that covers them is
 *    a retransmission and is ignored.
 *  - Among held out-of-order bytes the first copy to arrive wins; a later
 *    overlapping copy with different bytes is counted [REASM-OVERLAP-DIFF].
 *  - A hole becomes an explicit gap when (a) the peer acknowledges past it
 *    while later data is held, (b) the held bytes reach REASM_DIR_MAX_BYTES
 *    or the global pool runs dry, or (c) the stream ends (flush).
 *  - A stream picked up mid-way (no SYN seen) starts at the first data byte.
 *  - Sequence numbers compare modulo 2^32 (wrap-around safe); a segment more
 *    than REASM_SEQ_WINDOW away is not this stream [REASM-OUT-OF-WINDOW].
 *  - Bytes cut off by the snaplen are handed on as a gap.
 *  - Held bytes are wiped when their block goes back to the pool: a login line
 *    that arrived out of order does not stay in a free block [REASM-WIPE]. In-order
 *    bytes are never copied: they stay in the capture's buffer.
 *
 * Hazards: [REASM-DIR-CAP] [REASM-GLOBAL-CAP] [REASM-OUT-OF-WINDOW]
 *          [REASM-OVERLAP-DIFF] [REASM-WRAP] [REASM-WIPE]
 */
#include "packet/reasm.h"

#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "packet/decode.h"
#include "sensor-limits.h"

struct reasm_seg {
    struct reasm_seg *next;          /* next block in seq order (or free list) */
    uint32_t seq;                    /* sequence number of data[0] */
    uint32_t len;                    /* bytes used in data */
    uint8_t data[REASM_BLOCK_BYTES]; /* the bytes */
};

/* [REASM-WRAP] RFC 9293 §3.4: compare in 32-bit modular space */
static inline bool seq_lt(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) < 0;
}
static inline bool seq_le(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) <= 0;
}

void reasm_pool_init(struct reasm_pool *pool, uint64_t max_bytes, struct stats *st)
{
    memset(pool, 0, sizeof *pool);
    pool->max_blocks = (size_t)(max_bytes / REASM_BLOCK_BYTES);
    pool->st = st;
}

void reasm_pool_free(struct reasm_pool *pool)
{
    for (size_t i = 0; i < pool->n_slabs; i++)
        free(pool->slabs[i]);
    free(pool->slabs);
    memset(pool, 0, sizeof *pool);
}

static struct reasm_seg *seg_get(struct reasm_pool *pool)
{
    if (pool->free_list == NULL) {
        size_t grow = pool->max_blocks - pool->n_blocks;
        if (grow > REASM_SLAB_BLOCKS)
            grow = REASM_SLAB_BLOCKS;
        if (grow == 0) /* [REASM-GLOBAL-CAP] */
            return NULL;
        if (pool->n_slabs == pool->cap_slabs) {
            size_t cap = pool->cap_slabs ? pool->cap_slabs * 2 : 16;
            void **s = realloc(pool->slabs, cap * sizeof *s);
            if (s == NULL)
                return NULL;
            pool->slabs = s;
            pool->cap_slabs = cap;
        }
        struct reasm_seg *slab = xmalloc(grow * sizeof *slab);
        pool->slabs[pool->n_slabs++] = slab;
        for (size_t i = 0; i < grow; i++) {
            slab[i].next = pool->free_list;
            pool->free_list = &slab[i];
        }
        pool->n_blocks += grow;
    }
    struct reasm_seg *s = pool->free_list;
    pool->free_list = s->next;
    pool->in_use++;
    return s;
}

static void seg_put(struct reasm_pool *pool, struct reasm_seg *s)
{
    explicit_bzero(s->data, s->len); /* [REASM-WIPE] */
    s->len = 0;
    s->next = pool->free_list;
    pool->free_list = s;
    pool->in_use--;
}

static void deliver(struct reasm_dir *rd, int dir, const uint8_t *p, size_t n,
                    const struct reasm_consumer *c)
{
    if (n == 0)
        return;
    rd->delivered += n;
    if (!rd->is_stopped)
        c->data(c->ctx, dir, p, n);
}

static void deliver_gap(struct reasm_pool *pool, struct reasm_dir *rd, int dir, uint64_t n,
                        const struct reasm_consumer *c)
{
    if (n == 0)
        return;
    stats_anomaly(pool->st, AN_REASM_GAP);
    rd->delivered += n;
    rd->gap_bytes += n;
    if (!rd->is_stopped)
        c->gap(c->ctx, dir, n);
}

static void check_fin(struct reasm_dir *rd)
{
    if (rd->has_fin && !rd->is_closed && seq_le(rd->fin_seq, rd->next_seq)) {
        rd->is_closed = true;
        rd->next_seq = rd->fin_seq + 1;
    }
}

/* Hand on held blocks that continue the stream. */
static void drain(struct reasm_pool *pool, struct reasm_dir *rd, int dir,
                  const struct reasm_consumer *c)
{
    while (rd->ooo != NULL && seq_le(rd->ooo->seq, rd->next_seq)) {
        struct reasm_seg *s = rd->ooo;
        uint32_t end = s->seq + s->len;
        if (seq_lt(rd->next_seq, end)) {
            uint32_t skip = rd->next_seq - s->seq;
            deliver(rd, dir, s->data + skip, s->len - skip, c);
            rd->next_seq = end;
        }
        rd->ooo = s->next;
        rd->ooo_bytes -= s->len;
        seg_put(pool, s);
    }
    check_fin(rd);
}

/*
 * Hand on a segment that starts at or before next_seq. Held bytes that it
 * overlaps arrived first and win; a difference is counted.
 */
static void deliver_inorder(struct reasm_pool *pool, struct reasm_dir *rd, int dir, uint32_t seq,
                            const uint8_t *p, size_t len, const struct reasm_consumer *c)
{
    uint32_t end = seq + (uint32_t)len;
    while (seq_lt(rd->next_seq, end)) {
        struct reasm_seg *h = rd->ooo;
        if (h != NULL && seq_le(h->seq, rd->next_seq)) {
            uint32_t lo = rd->next_seq, hi = h->seq + h->len;
            if (seq_lt(end, hi))
                hi = end;
            if (seq_lt(lo, hi) && memcmp(h->data + (lo - h->seq), p + (lo - seq), hi - lo) != 0)
                stats_anomaly(pool->st, AN_REASM_OVERLAP_DIFF); /* [REASM-OVERLAP-DIFF] */
            drain(pool, rd, dir, c); /* hands on h (and what follows it) */
            continue;
        }
        uint32_t lim = (h != NULL && seq_lt(h->seq, end)) ? h->seq : end;
        uint32_t from = rd->next_seq - seq;
        deliver(rd, dir, p + from, lim - rd->next_seq, c);
        rd->next_seq = lim;
    }
    drain(pool, rd, dir, c);
}

/* Declare the hole before the first held block a gap, and go on from there. */
static void skip_hole(struct reasm_pool *pool, struct reasm_dir *rd, int dir,
                      const struct reasm_consumer *c)
{
    if (rd->ooo == NULL)
        return;
    deliver_gap(pool, rd, dir, rd->ooo->seq - rd->next_seq, c);
    rd->next_seq = rd->ooo->seq;
    drain(pool, rd, dir, c);
}

/* Copy [seq, seq+len) into held blocks, keeping bytes that are already held. */
static bool hold(struct reasm_pool *pool, struct reasm_dir *rd, uint32_t seq, const uint8_t *p,
                 size_t len)
{
    uint32_t cur = seq, end = seq + (uint32_t)len;
    struct reasm_seg **link = &rd->ooo;
    while (seq_lt(cur, end)) {
        while (*link != NULL && seq_le((*link)->seq + (*link)->len, cur))
            link = &(*link)->next;
        struct reasm_seg *nx = *link;
        if (nx != NULL && seq_le(nx->seq, cur)) { /* cur is inside a held block */
            uint32_t hi = seq_lt(nx->seq + nx->len, end) ? nx->seq + nx->len : end;
            if (memcmp(nx->data + (cur - nx->seq), p + (cur - seq), hi - cur) != 0)
                stats_anomaly(pool->st, AN_REASM_OVERLAP_DIFF); /* [REASM-OVERLAP-DIFF] */
            cur = hi;
            continue;
        }
        uint32_t lim = (nx != NULL && seq_lt(nx->seq, end)) ? nx->seq : end;
        uint32_t n = lim - cur;
        if (n > REASM_BLOCK_BYTES)
            n = REASM_BLOCK_BYTES;
        if (rd->ooo_bytes + n > REASM_DIR_MAX_BYTES) { /* [REASM-DIR-CAP] */
            stats_anomaly(pool->st, AN_REASM_DIR_CAP);
            return false;
        }
        struct reasm_seg *s = seg_get(pool);
        if (s == NULL) {
            stats_anomaly(pool->st, AN_REASM_GLOBAL_CAP);
            return false;
        }
        s->seq = cur;
        s->len = n;
        memcpy(s->data, p + (cur - seq), n);
        s->next = nx;
        *link = s;
        link = &s->next;
        rd->ooo_bytes += n;
        cur += n;
    }
    return true;
}

void reasm_segment(struct reasm_pool *pool, struct reasm_dir *rd, int dir, uint8_t flags,
                   uint32_t seq, const uint8_t *p, size_t len, size_t wire_len,
                   const struct reasm_consumer *c)
{
    if (flags & TCP_SYN) {
        if (!rd->is_init || (!rd->has_syn && rd->delivered == 0)) {
            rd->next_seq = seq + 1;
            rd->is_init = true;
            rd->has_syn = true;
        }
        seq += 1; /* the SYN takes one sequence number; data (TFO) follows */
    }
    if (!rd->is_init) {
        if (wire_len == 0 && !(flags & TCP_FIN))
            return;
        rd->next_seq = seq; /* picked up mid-stream */
        rd->is_init = true;
    }
    if (rd->is_closed || rd->is_stopped)
        return;
    if (flags & TCP_FIN) {
        rd->has_fin = true;
        rd->fin_seq = seq + (uint32_t)wire_len;
    }
    if (wire_len > 0) {
        uint32_t end = seq + (uint32_t)wire_len;
        if (seq_le(end, rd->next_seq)) {
            /* retransmission of delivered bytes */
        } else if (seq_lt(rd->next_seq, seq) && seq - rd->next_seq > REASM_SEQ_WINDOW) {
            stats_anomaly(pool->st, AN_REASM_OUT_OF_WINDOW); /* [REASM-OUT-OF-WINDOW] */
        } else if (seq_lt(seq, rd->next_seq) && rd->next_seq - seq > REASM_SEQ_WINDOW) {
            stats_anomaly(pool->st, AN_REASM_OUT_OF_WINDOW);
        } else {
            if (seq_lt(seq, rd->next_seq)) { /* overlaps delivered bytes: trim */
                uint32_t trim = rd->next_seq - seq;
                seq += trim;
                wire_len -= trim;
                if (trim >= len) {
                    p = NULL;
                    len = 0;
                } else {
                    p += trim;
                    len -= trim;
                }
            }
            if (seq == rd->next_seq) {
                deliver_inorder(pool, rd, dir, seq, p, len, c);
                if (wire_len > len && rd->next_seq == seq + (uint32_t)len) {
                    /* cut by the snaplen: the rest is a gap */
                    deliver_gap(pool, rd, dir, wire_len - len, c);
                    rd->next_seq += (uint32_t)(wire_len - len);
                    drain(pool, rd, dir, c);
                }
            } else if (len > 0 && !hold(pool, rd, seq, p, len)) {
                /* No room: the holes before this segment will not be filled
                 * in time. Hand on what is held below it (holes as gaps), the
                 * gap up to it, then the segment and what continues it. */
                while (rd->ooo != NULL && seq_lt(rd->ooo->seq, seq) && seq_lt(rd->next_seq, seq))
                    skip_hole(pool, rd, dir, c);
                if (seq_lt(rd->next_seq, seq)) {
                    deliver_gap(pool, rd, dir, seq - rd->next_seq, c);
                    rd->next_seq = seq;
                }
                deliver_inorder(pool, rd, dir, seq, p, len, c);
            }
        }
    }
    check_fin(rd);
}

void reasm_ack(struct reasm_pool *pool, struct reasm_dir *rd, int dir, uint32_t ack,
               const struct reasm_consumer *c)
{
    if (!rd->is_init || rd->ooo == NULL || rd->is_stopped)
        return;
    /* The peer has everything below ack; if held data lies below it, the
     * hole in front of that data was received by the peer but not by us. */
    while (rd->ooo != NULL && seq_lt(rd->ooo->seq, ack) && ack - rd->next_seq <= REASM_SEQ_WINDOW)
        skip_hole(pool, rd, dir, c);
}

void reasm_flush(struct reasm_pool *pool, struct reasm_dir *rd, int dir,
                 const struct reasm_consumer *c)
{
    while (rd->ooo != NULL)
        skip_hole(pool, rd, dir, c);
    if (rd->has_fin && !rd->is_closed && seq_lt(rd->next_seq, rd->fin_seq)) {
        /* bytes before the FIN were never seen */
        deliver_gap(pool, rd, dir, rd->fin_seq - rd->next_seq, c);
        rd->next_seq = rd->fin_seq;
        check_fin(rd);
    }
}

void reasm_stop(struct reasm_pool *pool, struct reasm_dir *rd)
{
    while (rd->ooo != NULL) {
        struct reasm_seg *s = rd->ooo;
        rd->ooo = s->next;
        seg_put(pool, s);
    }
    rd->ooo_bytes = 0;
    rd->is_stopped = true;
}

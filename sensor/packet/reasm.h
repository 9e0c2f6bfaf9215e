/*
 * reasm.h — TCP stream reassembly, one direction at a time.
 *
 * Bytes reach the consumer in sequence order, exactly once; bytes that were
 * never seen are handed over as an explicit gap of a known length.
 */
#ifndef POSTCARD_REASM_H
#define POSTCARD_REASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stats.h"

struct reasm_seg;

/* What reassembled bytes are handed to. `dir` is 0 client→server, 1 back. */
struct reasm_consumer {
    void (*data)(void *ctx, int dir, const uint8_t *p, size_t n); /* in-order bytes */
    void (*gap)(void *ctx, int dir, uint64_t n);                  /* n bytes never seen */
    void *ctx;                                                    /* passed back */
};

/* Shared pool of fixed-size blocks that hold out-of-order data for all flows. */
struct reasm_pool {
    struct reasm_seg *free_list; /* blocks ready for reuse */
    void **slabs;                /* slabs allocated so far (freed at the end) */
    size_t n_slabs;              /* entries used in slabs */
    size_t cap_slabs;            /* entries allocated in slabs */
    size_t max_blocks;           /* the global cap, in blocks */
    size_t n_blocks;             /* blocks allocated (free or in use) */
    size_t in_use;               /* blocks holding data now */
    struct stats *st;            /* anomaly counters */
};

struct reasm_dir {
    struct reasm_seg *ooo; /* out-of-order blocks, sorted by seq, disjoint */
    uint32_t next_seq;     /* next byte to hand to the consumer */
    uint32_t fin_seq;      /* sequence number of the FIN, if has_fin */
    uint32_t ooo_bytes;    /* bytes held in ooo */
    uint64_t delivered;    /* bytes handed on, data and gaps */
    uint64_t gap_bytes;    /* of which gaps */
    bool is_init;          /* next_seq is known (SYN or first data seen) */
    bool has_syn;          /* the stream started with a SYN we saw */
    bool has_fin;          /* a FIN was seen */
    bool is_closed;        /* FIN delivered in order, or RST */
    bool is_stopped;       /* the consumer wants no more bytes */
};

void reasm_pool_init(struct reasm_pool *pool, uint64_t max_bytes, struct stats *st);
void reasm_pool_free(struct reasm_pool *pool);

/*
 * One TCP segment of this direction. `p`/`len` is the captured payload;
 * `wire_len` >= len is its length on the wire (the rest was cut by the
 * snaplen and becomes a gap).
 */
void reasm_segment(struct reasm_pool *pool, struct reasm_dir *rd, int dir, uint8_t flags,
                   uint32_t seq, const uint8_t *p, size_t len, size_t wire_len,
                   const struct reasm_consumer *c);

/* The peer acknowledged `ack` for this direction: a hole below a buffered
 * segment that the peer has acknowledged will never be filled. */
void reasm_ack(struct reasm_pool *pool, struct reasm_dir *rd, int dir, uint32_t ack,
               const struct reasm_consumer *c);

/* End of the stream (FIN/RST/timeout/end of capture): hand on what is held. */
void reasm_flush(struct reasm_pool *pool, struct reasm_dir *rd, int dir,
                 const struct reasm_consumer *c);

/* Stop reassembling this direction and release its blocks. */
void reasm_stop(struct reasm_pool *pool, struct reasm_dir *rd);

#endif

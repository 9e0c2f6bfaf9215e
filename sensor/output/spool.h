/*
 * spool.h — the Redis output's backlog on disk: the records that did not fit
 * in memory while Redis was slow or gone, and those still undelivered at
 * exit, kept in their original order for the next connection or the next
 * run. One writer thread owns a spool; nothing here is thread-safe.
 *
 * The spool is a FIFO of segment files in one directory; records are appended
 * at the tail (spool_append), read back from the head (spool_next), and the
 * records held in memory at exit go in front of everything (spool_put_front),
 * because they are older than what is on disk. See spool.c for the format.
 */
#ifndef POSTCARD_SPOOL_H
#define POSTCARD_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"

/* One record going in or coming out. */
struct spool_item {
    uint64_t ms;      /* stream entry ID given when first sent (0-0: never sent) */
    uint64_t seq;     /* its sequence part */
    size_t len;       /* bytes of data */
    const char *data; /* the record: one JSON object, no newline */
    bool is_earlier;  /* spool_next: an earlier run left it here (ignored going in) */
};

struct spool_counts {
    uint64_t records;      /* records in the spool now (not yet read back) */
    uint64_t earlier;      /* of those, left by an earlier run (found by spool_scan) */
    uint64_t bytes;        /* bytes of its files now */
    uint64_t segments;     /* files now */
    uint64_t dropped;      /* records removed unread: the oldest, past the cap */
    uint64_t lost;         /* records that could not be written (disk full, ...) */
    uint64_t corrupt;      /* files, or parts of files, found damaged and skipped */
    uint64_t corrupt_recs; /* records known to be in those parts (at least) */
};

/* No I/O yet. max_bytes: the cap (approximate: by whole segments). */
struct spool *spool_new(const char *dir, uint64_t max_bytes);

/* If dir exists: take its lock (one postcard per spool). 0, or -1 with e set (in use by
 * another process, not a directory, no permission). A missing dir is created when needed. */
int spool_open(struct spool *sp, struct err *e);

/* Find the segments a previous run left and count their records, checking every one.
 * Damaged parts are counted and skipped (spool_problem says which). 0, or -1 with e set (the
 * directory cannot be read). */
int spool_scan(struct spool *sp, struct err *e);

/* Append one record at the tail, creating dir and a segment when needed; past the cap the
 * oldest segment is removed (counted in dropped). Buffered: spool_flush makes it durable.
 * 0, or -1 with e set (the record is lost, counted in lost). */
int spool_append(struct spool *sp, const struct spool_item *it, struct err *e);

/* Write buffered appends to the file. 0, or -1 with e set (those records counted in lost). */
int spool_flush(struct spool *sp, struct err *e);
/* spool_flush, then fsync: the records kept are on disk, or e says why not. */
int spool_sync(struct spool *sp, struct err *e);

/* The oldest record, copied into buf (cap bytes: JSON_LINE_MAX is enough for any record);
 * it->data points into buf; it->is_earlier says whether an earlier run left it (those come
 * first: a run only appends behind them). 1: one record; 0: the spool is empty. Damaged
 * parts are skipped. The record is the caller's from then on: a segment read to its end is
 * removed at once, and spool_put_front takes the rest of a file partly read out of it. */
int spool_next(struct spool *sp, struct spool_item *it, char *buf, size_t cap);

/* The bytes one record takes in a file (its header, the data, the newline). */
uint64_t spool_item_bytes(const struct spool_item *it);

/* At exit, once: put records in front of everything the spool holds (what was in memory, older
 * than anything on disk), and take out of the files every record spool_next() handed out (they
 * are the caller's: delivered, or among the items given here). Called even with no item, so
 * that the files hold only what was not delivered. next() fills one item and returns 1, or 0
 * when there are no more; in_bytes is the sum of spool_item_bytes() over them. Past the cap
 * the oldest items are left out and counted in dropped. 0, or -1 with e set: then the files are
 * as they were, and the items are not in them. */
int spool_put_front(struct spool *sp, int (*next)(void *ctx, struct spool_item *it), void *ctx,
                    uint64_t in_bytes, struct err *e);

/* Counters, and the last problem met ("" if none). */
void spool_get_counts(const struct spool *sp, struct spool_counts *c);
const char *spool_problem(const struct spool *sp);
const char *spool_dir(const struct spool *sp);

/* Close the files; a file with nothing left unread is removed, and so is an empty spool
 * directory created by this run. NULL is fine. */
void spool_free(struct spool *sp);

#endif

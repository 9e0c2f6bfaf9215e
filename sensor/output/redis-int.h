/*
 * redis-int.h — what out-redis.c (the queue: hand-off, memory, spool, the output's
 * interface) and redis-send.c (the wire: hiredis, the sender thread) share. Private to
 * those two files. Which thread touches which field, and under which lock, is said at
 * each field; see out-redis.c for the picture.
 */
#ifndef POSTCARD_REDIS_INT_H
#define POSTCARD_REDIS_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "sensor-limits.h"
#include "output/out-redis.h"
#include "output/spool.h"

/* The last problem: a name or a spool path, and why (never cut: see out_redis_error). */
#define REDIS_ERROR_BYTES (PATH_BYTES + 512)
/* A name and a key in a struct err (256 bytes) beside a reason: longer ones are shortened. */
#define REDIS_SHORT_NAME 81
#define REDIS_SHORT_KEY 49
/* Text from the server in a message: longer replies are cut, visibly ("..."). */
#define REDIS_REPLY_TEXT 96

struct redisContext;

/* Where a record in memory came from: what the counters count (docs/redis.md). */
enum rrec_origin {
    RREC_NEW,     /* written by this run, never on disk */
    RREC_SPOOLED, /* written by this run, spooled, read back */
    RREC_EARLIER, /* left in the spool by an earlier run */
};

/* One record held in memory. */
struct rrec {
    struct rrec *next;       /* FIFO link, towards newer */
    uint64_t ms;             /* stream entry ID (0-0: not sent yet) */
    uint64_t seq;            /* its sequence part */
    bool is_acked;           /* delivered (or found delivered already): leaves at the head */
    enum rrec_origin origin; /* this run's, or an earlier run's */
    uint32_t tries;          /* commands this run sent for it (its replies lost, but one) */
    uint32_t len;            /* bytes of data */
    char data[];             /* the record, JSON without its newline */
};

/* A capture->writer buffer: records as [uint32 length][bytes], back to back. */
struct handoff {
    char *p;     /* REDIS_HANDOFF_BYTES */
    size_t len;  /* bytes used */
    size_t recs; /* records in it */
};

/* Counters; the writer's own, copied under the lock for stats() and summary(). Each is
 * defined by what happened to a record, never by when (docs/redis.md, "Counters"). */
struct rstats {
    uint64_t sent;       /* delivered by this run: acknowledged, or found in the stream after
                          * this run sent it and lost the reply (this run's and earlier ones) */
    uint64_t already;    /* an earlier run's, found in the stream already: not sent again */
    uint64_t retried;    /* replies lost with a connection: sent again, or found in the stream */
    uint64_t spooled;    /* this run's own records handed to the spool, each once */
    uint64_t replayed;   /* an earlier run's spooled records this run delivered or found there */
    uint64_t reconnects; /* connections made after one was lost */
    uint64_t connect_failures;          /* attempts that failed */
    uint64_t errors;                    /* error replies */
    uint64_t in_flight;                 /* sent, reply not read yet */
    uint64_t lost_at_exit;              /* in memory at exit, and the spool could not take them */
    uint64_t memory;                    /* records held in memory now */
    bool is_connected;                  /* a connection is up */
    struct spool_counts sp;             /* the spool's */
    char last_error[REDIS_ERROR_BYTES]; /* the last problem ("" if none) */
};

struct out_redis {
    struct output o;              /* the interface (first member) */
    struct redis_opts opt;        /* settings (strings below) */
    char *key;                    /* owned copy of opt.key */
    struct redis_url url;         /* parsed opt.url */
    char name[512];               /* the URL without its password, for messages */
    char sname[REDIS_SHORT_NAME]; /* name, shortened for a struct err message */
    char skey[REDIS_SHORT_KEY];   /* key, the same */
    pthread_t sender;             /* the sender thread */
    pthread_t ingester;           /* the ingest thread */
    bool has_sender;              /* to be joined */
    bool has_ingester;            /* to be joined */
    bool is_stopped;              /* joined, memory moved to the spool */
    bool is_stopping;             /* close() asked the threads to finish (set under both locks) */
    bool is_flushing;             /* summary() waits for the backlog (set under both locks) */
    int64_t deadline;             /* monotonic ms: stop trying then (set with either, once) */
    pthread_mutex_t hmu;          /* guards the hand-off, up to qmu */
    pthread_cond_t hcv;           /* wakes the ingest thread: records, stop */
    pthread_cond_t hroom;         /* wakes write(): the ingest thread took a full buffer */
    struct handoff hin[2];        /* hand-off buffers */
    int active;                   /* the one write() fills */
    uint64_t handoff_waits;       /* write() waited for room [REDIS-HANDOFF-FULL] */
    struct rstats pub;            /* the counters as last published */
    pthread_mutex_t qmu;          /* guards what follows, up to "sender only" */
    pthread_cond_t qcv;           /* wakes the sender: records, stop, ingest done */
    pthread_cond_t cv_first;      /* wakes out_redis_open: the first connection was tried */
    int first;            /* first connection: 0 not tried yet, 1 done, -1 refused for good */
    struct err first_err; /* why, when refused */
    bool is_ingest_done;  /* the ingest thread finished */
    /* sender only (records' ms, seq, is_acked too): */
    struct redisContext *c; /* the connection, or NULL */
    bool has_connected;     /* a connection was made once (the next ones are reconnects) */
    uint64_t last_ms;       /* the highest stream ID used or seen */
    uint64_t last_seq;
    uint64_t conn_ms; /* the stream's last-generated-id at this connection */
    uint64_t conn_seq;
    int backoff_ms;   /* next reconnect delay */
    int64_t retry_at; /* monotonic ms of the next connection attempt */
    uint64_t rng;     /* xorshift state for the backoff jitter */
    /* under qmu: */
    struct rrec *head;  /* memory FIFO, oldest */
    struct rrec *tail;  /* newest */
    uint64_t mem_bytes; /* bytes of data in memory */
    struct spool *sp;   /* the disk backlog */
    char *rbuf;         /* spool read buffer, JSON_LINE_MAX + 1 */
    struct rstats st;   /* counters */
};

static inline int64_t redis_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* out-redis.c; each is called with qmu held. */
void out_redis_error(struct out_redis *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void out_redis_publish(struct out_redis *r);     /* counters for stats() and summary() */
bool out_redis_has_backlog(struct out_redis *r); /* records not delivered yet */
void out_redis_refill(struct out_redis *r);      /* the spool's head into memory */
void out_redis_pop_acked(struct out_redis *r);   /* delivered records leave the head */
/* Put x (in memory) right behind anchor: records refused while later ones may be applied. */
void out_redis_move_behind(struct out_redis *r, struct rrec *x, struct rrec *anchor);

/* redis-send.c */
void *redis_send_main(void *arg);           /* the sender thread (arg: struct out_redis) */
void redis_send_close(struct out_redis *r); /* free the connection (threads joined) */

#endif

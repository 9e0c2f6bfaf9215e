/*
 * out-redis.h — records to Redis (hiredis 0.14, no TLS) from dedicated
 * threads: the capture loop only copies each record into a bounded hand-off
 * buffer and never waits for Redis. See docs/redis.md; the code is in
 * out-redis.c (queue, spool, interface), redis-send.c (the wire),
 * redis-url.c (the URL) and spool.c (the files).
 *
 *   stream   XADD key MAXLEN ~ N <id> record <json>   (default; exactly once)
 *   list     LPUSH / RPUSH key <json>                 (at least once)
 *   channel  PUBLISH key <json>                       (best effort: Redis keeps nothing)
 *
 * When Redis is slow or gone the writer reconnects with capped exponential
 * backoff and keeps every record not acknowledged: in memory up to
 * queue_records, then in a spool on disk (spool_dir) up to spool_max_bytes,
 * past which the oldest are dropped and counted. On reconnect (and at the
 * start of the next run) the backlog is sent first, in the original order.
 */
#ifndef POSTCARD_OUT_REDIS_H
#define POSTCARD_OUT_REDIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "output/output.h"

enum redis_mode {
    REDIS_STREAM,  /* XADD */
    REDIS_LIST,    /* LPUSH or RPUSH */
    REDIS_CHANNEL, /* PUBLISH */
};

struct redis_opts {
    const char *url;          /* redis://[user:password@]host[:port][/db] or unix:///path/to.sock */
    const char *password;     /* from a file or the environment (NULL: the URL's); copied */
    enum redis_mode mode;     /* stream (default), list or channel */
    const char *key;          /* the stream, list or channel name */
    bool rpush;               /* list mode: RPUSH instead of LPUSH */
    uint64_t maxlen;          /* stream mode: MAXLEN ~ maxlen (0: no trimming) */
    size_t queue_records;     /* records held in memory before the spool is used */
    const char *spool_dir;    /* the spool's directory (created when first needed) */
    uint64_t spool_max_bytes; /* past it the oldest spooled records are dropped (counted) */
    int timeout_ms;           /* connect and command timeout */
    int backoff_max_ms;       /* cap of the reconnect backoff */
    int flush_timeout_ms;     /* at close: how long to keep trying before spooling the rest */
    unsigned types;           /* record types sent (bits of enum rec_type) */
};

/* Defaults for every field but url and key. */
void redis_opts_default(struct redis_opts *o);

/* Parsed redis:// or unix:// URL. */
struct redis_url {
    bool is_unix;       /* unix:///path */
    char host[256];     /* host name or address (TCP) */
    int port;           /* TCP port (6379 by default) */
    char path[256];     /* socket path (unix) */
    char user[128];     /* ACL user ("" for none: AUTH password alone) */
    char password[256]; /* "" for none */
    int db;             /* SELECT db (0 by default) */
};

/* 0, or -1 with e saying what is wrong with the URL (the password is never repeated). */
int redis_url_parse(const char *url, struct redis_url *u, struct err *e);

/* The same with the password given apart (NULL: none): the URL then gives at most the user
 * ("redis://user@host"), never a password of its own. On error u holds no password. */
int redis_url_parse_with(const char *url, const char *password, struct redis_url *u, struct err *e);

/* The bytes of the password in url, as written (still %-encoded): url[*off .. *off + *len).
 * False when the URL has none. For scrubbing the command line. */
bool redis_url_password_span(const char *url, size_t *off, size_t *len);

/* Start the output's threads. The first connection is tried at once; if it fails for a reason
 * that will not change (authentication refused, unknown database, bad URL, a key of another
 * type, a spool directory in use) this is a start-up error (NULL, e set, never with the
 * password); if Redis is merely unreachable the output starts and keeps trying.
 * summary() waits (at most flush_timeout_ms) for the backlog to be delivered, then stops the
 * threads and puts what is left in the spool (nothing is written after it), so that the
 * figures it prints are final; close() does the same if summary() was not called, and
 * returns -1 with e saying how many records were left in the spool or dropped. */
struct output *out_redis_open(const struct redis_opts *o, struct err *e);

#endif

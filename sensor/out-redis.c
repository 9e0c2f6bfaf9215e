/*
 * out-redis.c — records to Redis. First version: the interface compiles and
 * links; the writer thread, spool and replay follow (see out-redis.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "out-redis.h"

void redis_opts_default(struct redis_opts *o)
{
    memset(o, 0, sizeof *o);
    o->mode = REDIS_STREAM;
    o->maxlen = 1000000;
    o->queue_records = 100000;
    o->spool_dir = "postcard-spool";
    o->spool_max_bytes = 1024ull * 1024 * 1024;
    o->timeout_ms = 2000;
    o->backoff_max_ms = 30000;
    o->flush_timeout_ms = 5000;
    o->types = (1u << REC_ALERT) | (1u << REC_STATS);
}

int redis_url_parse(const char *url, struct redis_url *u, struct err *e)
{
    memset(u, 0, sizeof *u);
    u->port = 6379;
    (void)url;
    return err_set(e, "redis: not implemented yet");
}

struct output *out_redis_open(const struct redis_opts *o, struct err *e)
{
    (void)o;
    err_set(e, "redis: output not implemented yet");
    return NULL;
}

/*
 * out-redis.c — records to Redis without the capture loop ever waiting (see out-redis.h and
 * docs/redis.md): the hand-off, the ingest thread, the memory FIFO and its spool, the
 * output's interface. The wire (hiredis, the sender thread) is redis-send.c.
 *
 *   capture thread           ingest thread                  sender thread (hiredis)
 *   write(): lock hmu,  ──▶  swap the two hand-off    ──▶   refill memory from the spool's
 *   copy the line into       buffers (hmu, O(1)); then      head; send a batch: append
 *   the active hand-off      under qmu: to the memory       <=512 commands, read the
 *   buffer, unlock           FIFO while the spool is        replies (no lock held); ack;
 *   (full: wait for the      empty and memory has room,     connection lost: keep them,
 *   ingest thread's swap)    else to the spool's tail       reconnect with backoff
 *
 * Two threads behind the capture so that a Redis that stalls (up to the command timeout)
 * or a connection attempt to a host that does not answer never stops the hand-off from
 * being emptied: the ingest thread waits for nothing but the CPU and the spool's disk. When
 * it falls behind all the same (no CPU to spare, a slow disk), write() waits for it: a record
 * is never dropped between the capture and the FIFO. Locks: hmu (hand-off, published
 * counters; held for a copy at most), qmu (memory FIFO, spool, counters); order qmu then
 * hmu. The capture thread takes hmu only (and qmu once the threads are stopped).
 *
 *   the FIFO:  [memory: oldest ... ] ++ [spool on disk: ... newest] ++ [hand-off]
 *   at exit:   memory goes in front of the spool, and what the spool handed to memory is taken
 *              out of its files (spool_put_front): the spool holds exactly what Redis has not
 *              acknowledged, and the next run sends it first
 *
 * Delivery (exactly once for streams, at least once for lists, best effort for channels)
 * is the sender's part: see redis-send.c.
 *
 * Hazards:
 *   [REDIS-HANDOFF-FULL] both hand-off buffers full: write() waits for the ingest thread, which
 *                        waits for no Redis (only the spool's disk): back-pressure, never a drop
 *   [REDIS-SIGPIPE]      writing to a socket the server closed raises SIGPIPE: the threads
 *                        run with every signal blocked (they go to the capture thread)
 *   [REDIS-FIFO]         memory holds the oldest records, the spool the newer ones: while the
 *                        spool is not empty new records go to it, never to memory
 *   [REDIS-PASSWORD]     the URL's password is kept for AUTH only, wiped at the end
 *   [REDIS-EXIT-SPOOL]   at exit every record not acknowledged goes to the spool with its
 *                        stream ID, and nothing acknowledged stays there (spool_put_front)
 *   [REDIS-MSG-FIT]      a message in a struct err (256 bytes) is built to fit: long names
 *                        and paths shortened, a reason list left out last; never cut
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sensor-limits.h"
#include "output/redis-int.h"

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
    o->types = (1u << REC_ALERT) | (1u << REC_STATS) | (1u << REC_SUMMARY);
}

/* s as it fits in n bytes: whole, or "..." and its end. [REDIS-MSG-FIT] */
static void shorten(char *dst, size_t n, const char *s)
{
    size_t len = strlen(s);
    if (len < n)
        memcpy(dst, s, len + 1);
    else
        snprintf(dst, n, "...%s", s + len - (n - 4));
}

void out_redis_error(struct out_redis *r, const char *fmt, ...)
{
    char buf[sizeof r->st.last_error]; /* an argument may be last_error itself */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    memcpy(r->st.last_error, buf, sizeof buf);
}

/* ---- the memory FIFO ---------------------------------------------------------------- */

static void mem_push(struct out_redis *r, const char *d, size_t n, uint64_t ms, uint64_t seq,
                     enum rrec_origin origin)
{
    struct rrec *x = malloc(sizeof *x + n);
    if (x == NULL)
        abort(); /* bounded by queue_records and REDIS_QUEUE_MAX_BYTES */
    x->next = NULL;
    x->ms = ms;
    x->seq = seq;
    x->is_acked = false;
    x->origin = origin;
    x->tries = 0;
    x->len = (uint32_t)n;
    memcpy(x->data, d, n);
    if (r->tail != NULL)
        r->tail->next = x;
    else
        r->head = x;
    r->tail = x;
    r->st.memory++;
    r->mem_bytes += n;
}

void out_redis_pop_acked(struct out_redis *r)
{
    while (r->head != NULL && r->head->is_acked) {
        struct rrec *x = r->head;
        r->head = x->next;
        if (r->head == NULL)
            r->tail = NULL;
        r->st.memory--;
        r->mem_bytes -= x->len;
        free(x);
    }
}

void out_redis_move_behind(struct out_redis *r, struct rrec *x, struct rrec *anchor)
{
    assert(x != anchor && x->next != NULL); /* anchor is newer than x */
    struct rrec **pp = &r->head;
    while (*pp != x) /* x is in the first batch of memory: a short walk */
        pp = &(*pp)->next;
    *pp = x->next;
    x->next = anchor->next;
    anchor->next = x;
    if (r->tail == anchor)
        r->tail = x;
}

static bool mem_has_room(const struct out_redis *r, size_t n)
{
    return r->st.memory < r->opt.queue_records && r->mem_bytes + n <= REDIS_QUEUE_MAX_BYTES;
}

static void to_spool(struct out_redis *r, const char *d, size_t n, uint64_t ms, uint64_t seq)
{
    struct spool_item it = {ms, seq, n, d, false};
    struct err e = {""};
    if (spool_append(r->sp, &it, &e) == 0)
        r->st.spooled++;
    else
        out_redis_error(r, "%s", e.msg); /* counted by the spool as lost */
}

/* Records from a hand-off buffer into the FIFO: memory while the spool is empty and memory
 * has room, the spool's tail otherwise (a strict FIFO). to_disk: everything to the spool. */
static void ingest(struct out_redis *r, struct handoff *h, bool to_disk)
{
    struct spool_counts sc;
    spool_get_counts(r->sp, &sc);
    bool spooling = to_disk || sc.records > 0; /* [REDIS-FIFO] */
    size_t off = 0;
    while (off < h->len) {
        uint32_t n;
        memcpy(&n, h->p + off, sizeof n);
        const char *d = h->p + off + sizeof n;
        off += sizeof n + n;
        if (!spooling && mem_has_room(r, n)) {
            mem_push(r, d, n, 0, 0, RREC_NEW);
        } else {
            spooling = true;
            to_spool(r, d, n, 0, 0);
        }
    }
    struct err e = {""};
    if (spooling && spool_flush(r->sp, &e) != 0)
        out_redis_error(r, "%s", e.msg);
}

/* The spool's head into memory, enough for the next batch. */
void out_redis_refill(struct out_redis *r)
{
    struct spool_item it;
    while (r->st.memory < REDIS_BATCH_RECORDS && mem_has_room(r, JSON_LINE_MAX) &&
           spool_next(r->sp, &it, r->rbuf, JSON_LINE_MAX + 1) == 1) {
        mem_push(r, it.data, it.len, it.ms, it.seq, it.is_earlier ? RREC_EARLIER : RREC_SPOOLED);
    }
}

/* ---- the ingest thread ------------------------------------------------------------------- */

/* The counters for stats() and summary(). Caller holds qmu. */
void out_redis_publish(struct out_redis *r)
{
    spool_get_counts(r->sp, &r->st.sp);
    if (r->st.last_error[0] == '\0' && spool_problem(r->sp)[0] != '\0')
        out_redis_error(r, "%s", spool_problem(r->sp));
    pthread_mutex_lock(&r->hmu);
    r->pub = r->st;
    pthread_mutex_unlock(&r->hmu);
}

/* Records not delivered yet, in memory or on disk. Caller holds qmu. */
bool out_redis_has_backlog(struct out_redis *r)
{
    struct spool_counts sc;
    spool_get_counts(r->sp, &sc);
    return r->head != NULL || sc.records > 0;
}

/* Hand-off buffers into the FIFO, until stopped and empty. */
static void *ingest_main(void *arg)
{
    struct out_redis *r = arg;
    pthread_setname_np(pthread_self(), "pc-redis-in"); /* top -H, and the tests find it */
    for (;;) {
        pthread_mutex_lock(&r->hmu);
        while (r->hin[r->active].len == 0 && !r->is_stopping)
            pthread_cond_wait(&r->hcv, &r->hmu);
        struct handoff *h = &r->hin[r->active];
        bool is_done = h->len == 0; /* and stopping */
        if (!is_done) {
            r->active ^= 1; /* h is this thread's until the next swap; the other is empty */
            pthread_cond_signal(&r->hroom); /* a write() waiting for room [REDIS-HANDOFF-FULL] */
        }
        pthread_mutex_unlock(&r->hmu);
        if (is_done)
            break;
        pthread_mutex_lock(&r->qmu);
        ingest(r, h, false);
        out_redis_publish(r);
        pthread_cond_signal(&r->qcv);
        pthread_mutex_unlock(&r->qmu);
        pthread_mutex_lock(&r->hmu); /* emptied after publishing: drain() never sees a gap */
        h->len = h->recs = 0;
        pthread_mutex_unlock(&r->hmu);
    }
    pthread_mutex_lock(&r->qmu);
    r->is_ingest_done = true;
    pthread_cond_signal(&r->qcv);
    pthread_mutex_unlock(&r->qmu);
    return NULL;
}

/* ---- the interface ------------------------------------------------------------------ */

/* The hand-off buffers straight to the spool: once the threads are stopped, nothing else
 * empties them. Capture thread, no lock held. */
static void spill(struct out_redis *r)
{
    pthread_mutex_lock(&r->qmu);
    for (int i = 0; i < 2; i++) {
        if (r->hin[i].len > 0)
            ingest(r, &r->hin[i], true);
        r->hin[i].len = r->hin[i].recs = 0;
    }
    out_redis_publish(r);
    pthread_mutex_unlock(&r->qmu);
}

static int rd_write(struct output *o, enum rec_type t, const char *line, size_t n)
{
    (void)t;
    struct out_redis *r = (struct out_redis *)o;
    if (n > 0 && line[n - 1] == '\n')
        n--;
    if (n == 0 || n > JSON_LINE_MAX) { /* eve/json.c never writes one: refused, counted */
        o->failed++;
        return -1;
    }
    size_t need = sizeof(uint32_t) + n;
    pthread_mutex_lock(&r->hmu);
    if (r->hin[r->active].len + need > REDIS_HANDOFF_BYTES) { /* [REDIS-HANDOFF-FULL] */
        r->handoff_waits++;
        if (r->is_stopped) { /* after the summary: no ingest thread any more */
            pthread_mutex_unlock(&r->hmu);
            spill(r);
            pthread_mutex_lock(&r->hmu);
        }
        while (r->hin[r->active].len + need > REDIS_HANDOFF_BYTES)
            pthread_cond_wait(&r->hroom, &r->hmu);
    }
    struct handoff *h = &r->hin[r->active];
    uint32_t len = (uint32_t)n;
    memcpy(h->p + h->len, &len, sizeof len);
    memcpy(h->p + h->len + sizeof len, line, n);
    h->len += sizeof len + n;
    bool wake = h->recs++ == 0; /* the ingest thread sleeps only on an empty buffer */
    pthread_mutex_unlock(&r->hmu);
    if (wake)
        pthread_cond_signal(&r->hcv);
    return 0; /* counted written once Redis has it (stop) */
}

static int rd_flush(struct output *o)
{
    struct out_redis *r = (struct out_redis *)o;
    pthread_cond_signal(&r->hcv); /* the threads send at once anyway; never waits here */
    return 0;
}

/* spool_put_front's source: the memory FIFO, oldest first (acknowledged ones skipped). */
struct mem_iter {
    struct out_redis *r; /* whose memory */
    uint64_t n;          /* records handed over */
    uint64_t n_new;      /* of those, this run's never spooled before */
};

static int mem_next(void *ctx, struct spool_item *it)
{
    struct mem_iter *m = ctx;
    out_redis_pop_acked(m->r);
    if (m->r->head == NULL)
        return 0;
    struct rrec *x = m->r->head;
    *it = (struct spool_item){x->ms, x->seq, x->len, x->data, false};
    x->is_acked = true; /* handed over: popped on the next call */
    m->n++;
    m->n_new += x->origin == RREC_NEW;
    return 1;
}

/* [REDIS-EXIT-SPOOL] Threads joined: every record in memory (not acknowledged; with the
 * stream ID it was sent with, if any) goes in front of the spool, and the records the spool
 * handed to memory leave its files. Afterwards memory is empty. Caller holds qmu. */
static void keep_backlog(struct out_redis *r)
{
    out_redis_pop_acked(r);
    uint64_t bytes = 0, unacked = 0;
    for (struct rrec *x = r->head; x != NULL; x = x->next) {
        if (x->is_acked)
            continue;
        struct spool_item it = {x->ms, x->seq, x->len, x->data, false};
        bytes += spool_item_bytes(&it);
        unacked++;
    }
    struct mem_iter m = {r, 0, 0};
    struct err e = {""};
    if (spool_put_front(r->sp, mem_next, &m, bytes, &e) == 0) {
        r->st.spooled += m.n_new;
    } else { /* the spool could not take them: lost, every one (counted once) */
        out_redis_error(r, "%s", e.msg);
        r->st.lost_at_exit += unacked;
    }
    for (; r->head != NULL; out_redis_pop_acked(r))
        r->head->is_acked = true;
}

/* Stop the threads (once), move memory in front of the spool; then whatever write() added
 * since goes to the spool's tail. Called by the capture thread, at exit. */
static void stop(struct out_redis *r)
{
    if (!r->is_stopped) {
        pthread_mutex_lock(&r->qmu);
        pthread_mutex_lock(&r->hmu);
        if (!r->is_flushing && !r->is_stopping)
            r->deadline = redis_mono_ms() + r->opt.flush_timeout_ms;
        r->is_stopping = true;
        pthread_cond_signal(&r->hcv);
        pthread_cond_signal(&r->qcv);
        pthread_mutex_unlock(&r->hmu);
        pthread_mutex_unlock(&r->qmu);
        if (r->has_ingester)
            pthread_join(r->ingester, NULL);
        if (r->has_sender)
            pthread_join(r->sender, NULL);
        r->has_ingester = r->has_sender = false;
        r->is_stopped = true;
        redis_send_close(r);
        pthread_mutex_lock(&r->qmu); /* alone now: for the form */
        r->st.is_connected = false;
        r->st.in_flight = 0;
        keep_backlog(r);
        pthread_mutex_unlock(&r->qmu);
    }
    spill(r);
    struct err e = {""};
    if (spool_sync(r->sp, &e) != 0) /* said now: spool_free comes after the summary */
        out_redis_error(r, "%s", e.msg);
    /* written: this run's records Redis has (acknowledged, or found there) */
    r->o.written = r->st.sent + r->st.already - r->st.replayed;
}

static uint64_t dropped_total(const struct rstats *s)
{
    return s->sp.dropped + s->sp.lost + s->sp.corrupt_recs + s->lost_at_exit;
}

static void rd_stats(struct output *o, struct jbuf *j)
{
    struct out_redis *r = (struct out_redis *)o;
    pthread_mutex_lock(&r->hmu);
    struct rstats s = r->pub;
    uint64_t waiting = r->hin[0].recs + r->hin[1].recs;
    uint64_t waits = r->handoff_waits;
    pthread_mutex_unlock(&r->hmu);
    j_obj(j, "redis");
    j_bool(j, "connected", s.is_connected);
    j_u64(j, "sent", s.sent);
    j_u64(j, "queued", s.memory + waiting);
    j_u64(j, "in_flight", s.in_flight);
    j_u64(j, "spooled", s.spooled);
    j_u64(j, "replayed", s.replayed);
    j_u64(j, "already_delivered", s.already);
    j_u64(j, "retried", s.retried);
    j_u64(j, "spool_records", s.sp.records);
    j_u64(j, "spool_bytes", s.sp.bytes);
    j_u64(j, "dropped", dropped_total(&s));
    j_u64(j, "dropped_spool_full", s.sp.dropped);
    j_u64(j, "spool_write_errors", s.sp.lost);
    j_u64(j, "spool_corrupt", s.sp.corrupt);
    j_u64(j, "handoff_waits", waits);
    j_u64(j, "reconnects", s.reconnects);
    j_u64(j, "connect_failures", s.connect_failures);
    j_u64(j, "errors", s.errors);
    j_str(j, "last_error", s.last_error);
    j_obj_end(j);
}

static const char *mode_name(enum redis_mode m)
{
    return m == REDIS_STREAM ? "stream" : m == REDIS_LIST ? "list" : "channel";
}

/* Wait (at most flush_timeout_ms from the first call of this or stop()) until Redis has
 * everything written so far, without stopping the threads: more may be written after. */
static void drain(struct out_redis *r)
{
    pthread_mutex_lock(&r->qmu);
    pthread_mutex_lock(&r->hmu);
    if (!r->is_flushing && !r->is_stopping)
        r->deadline = redis_mono_ms() + r->opt.flush_timeout_ms;
    r->is_flushing = true;
    int64_t deadline = r->deadline;
    pthread_mutex_unlock(&r->hmu);
    pthread_cond_signal(&r->qcv);
    pthread_mutex_unlock(&r->qmu);
    for (;;) {
        pthread_mutex_lock(&r->hmu);
        bool is_done = r->is_stopped || (r->hin[0].recs + r->hin[1].recs == 0 &&
                                         r->pub.memory == 0 && r->pub.sp.records == 0);
        pthread_mutex_unlock(&r->hmu);
        if (is_done || redis_mono_ms() >= deadline)
            return;
        struct timespec ts = {0, 10 * 1000000}; /* at exit only: a poll is simplest */
        nanosleep(&ts, NULL);
    }
}

/* Why records were dropped, e.g. "12 oldest, over the spool cap, 3 lost at exit". */
static void dropped_why(const struct rstats *s, char *buf, size_t n)
{
    const struct {
        uint64_t v;
        const char *what;
    } parts[] = {
        {s->sp.dropped, "oldest, over the spool cap"},
        {s->sp.lost, "the spool could not write"},
        {s->sp.corrupt_recs, "in damaged spool files"},
        {s->lost_at_exit, "the spool could not take at exit"},
    };
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        if (parts[i].v == 0 || o >= n)
            continue;
        int w =
            snprintf(buf + o, n - o, "%s%" PRIu64 " %s", o ? ", " : "", parts[i].v, parts[i].what);
        if (w > 0)
            o += (size_t)w;
    }
}

/* The figures at exit, the same for the summary and the last message: the threads are
 * stopped, memory and the hand-off are in the spool. */
struct final {
    struct rstats s;  /* the counters */
    uint64_t kept;    /* records in the spool: not delivered, sent first by the next run */
    uint64_t dropped; /* records lost, for every reason */
    char why[320];    /* the reasons, with their numbers (4 x (20 + 34) at most) */
};

static void final_figures(struct out_redis *r, struct final *f)
{
    pthread_mutex_lock(&r->hmu);
    f->s = r->pub;
    assert(r->hin[0].recs + r->hin[1].recs == 0 && f->s.memory == 0);
    pthread_mutex_unlock(&r->hmu);
    f->kept = f->s.sp.records;
    f->dropped = dropped_total(&f->s);
    dropped_why(&f->s, f->why, sizeof f->why);
}

/* At exit: the figures once the backlog was delivered, or flush_timeout_ms passed. */
static void rd_summary(struct output *o, FILE *f)
{
    struct out_redis *r = (struct out_redis *)o;
    drain(r);
    stop(r); /* nothing is written after the summary: what is left goes to the spool now, so
              * the figures below are final ("spooled" counts it) */
    struct final fi;
    final_figures(r, &fi);
    const struct rstats *s = &fi.s;
    fprintf(f,
            "  redis:          %" PRIu64 " sent to %s (%s %s), %" PRIu64 " spooled, %" PRIu64
            " replayed, %" PRIu64 " dropped, %" PRIu64 " reconnects",
            s->sent, r->name, mode_name(r->opt.mode), r->key, s->spooled, s->replayed, fi.dropped,
            s->reconnects);
    if (s->retried > 0)
        fprintf(f, ", %" PRIu64 " retried after a lost reply", s->retried);
    if (s->already > 0)
        fprintf(f, ", %" PRIu64 " found already delivered", s->already);
    fprintf(f, "\n");
    if (fi.kept > 0)
        fprintf(f,
                "  redis backlog:  %" PRIu64 " records not delivered, kept in %s/ at exit (sent "
                "first by the next run)\n",
                fi.kept, spool_dir(r->sp));
    if (s->last_error[0] != '\0' && (fi.kept > 0 || fi.dropped > 0 || s->reconnects > 0 ||
                                     s->connect_failures > 0 || s->errors > 0 || s->sp.corrupt > 0))
        fprintf(f, "  redis, last problem: %s\n", s->last_error);
}

static void rd_free(struct out_redis *r)
{
    spool_free(r->sp);
    free(r->hin[0].p);
    free(r->hin[1].p);
    free(r->rbuf);
    free(r->key);
    pthread_mutex_destroy(&r->hmu);
    pthread_mutex_destroy(&r->qmu);
    pthread_cond_destroy(&r->hcv);
    pthread_cond_destroy(&r->hroom);
    pthread_cond_destroy(&r->qcv);
    pthread_cond_destroy(&r->cv_first);
    memset(&r->url, 0, sizeof r->url); /* [REDIS-PASSWORD] */
    free(r);
}

/* The last message of a run that left records behind, in e: the same figures as the summary.
 * [REDIS-MSG-FIT] the spool's path is shortened, and the reasons left out, until it fits. */
static int close_message(const struct out_redis *r, const struct final *f, struct err *e)
{
    if (f->kept == 0 && f->dropped == 0)
        return 0;
    char dir[PATH_BYTES], buf[PATH_BYTES + 512];
    for (int k = 0; k < 3; k++) {
        shorten(dir, k == 0 ? sizeof dir : 49, spool_dir(r->sp));
        const char *why = k < 2 ? f->why : NULL;
        char dropped[400] = "";
        if (f->dropped > 0)
            snprintf(dropped, sizeof dropped, "%s%" PRIu64 " %s%s%s%s", f->kept > 0 ? "; " : "",
                     f->dropped, f->kept > 0 ? "dropped" : "records dropped", why ? " (" : "",
                     why ? why : "", why ? ")" : "");
        int n;
        if (f->kept > 0)
            n = snprintf(buf, sizeof buf,
                         "redis: %" PRIu64 " records not delivered: kept in spool %s/ (sent first "
                         "by the next run)%s",
                         f->kept, dir, dropped);
        else
            n = snprintf(buf, sizeof buf, "redis: %s", dropped);
        if (n >= 0 && (size_t)n < sizeof e->msg) {
            memcpy(e->msg, buf, (size_t)n + 1);
            return -1;
        }
    }
    assert(0); /* the last form is at most ~180 bytes */
    return err_set(e, "redis: %" PRIu64 " records not delivered, %" PRIu64 " dropped", f->kept,
                   f->dropped);
}

static int rd_close(struct output *o, struct err *e)
{
    struct out_redis *r = (struct out_redis *)o;
    stop(r);
    struct final fi;
    final_figures(r, &fi);
    int rc = close_message(r, &fi, e);
    rd_free(r);
    return rc;
}

struct output *out_redis_open(const struct redis_opts *opt, struct err *e)
{
    struct redis_url url;
    if (redis_url_parse(opt->url != NULL ? opt->url : "", &url, e) != 0)
        return NULL;
    if (opt->key == NULL || opt->key[0] == '\0') {
        err_set(e, "redis: no key name");
        return NULL;
    }
    struct out_redis *r = xcalloc(1, sizeof *r);
    r->opt = *opt;
    r->url = url;
    r->key = strdup(opt->key);
    if (r->key == NULL)
        abort();
    r->opt.key = r->key;
    if (r->opt.queue_records == 0)
        r->opt.queue_records = 1;
    if (r->opt.timeout_ms <= 0)
        r->opt.timeout_ms = 2000;
    if (r->opt.backoff_max_ms < REDIS_BACKOFF_MIN_MS)
        r->opt.backoff_max_ms = REDIS_BACKOFF_MIN_MS;
    if (url.is_unix)
        snprintf(r->name, sizeof r->name, "unix://%s%s%s", url.user, url.user[0] ? "@" : "",
                 url.path);
    else
        snprintf(r->name, sizeof r->name, "redis://%s%s%s%s%s:%d/%d", url.user,
                 url.user[0] ? "@" : "", strchr(url.host, ':') ? "[" : "", url.host,
                 strchr(url.host, ':') ? "]" : "", url.port, url.db);
    shorten(r->sname, sizeof r->sname, r->name);
    shorten(r->skey, sizeof r->skey, r->key);
    r->o.name = r->name;
    r->o.types = opt->types;
    r->o.write = rd_write;
    r->o.flush = rd_flush;
    r->o.stats = rd_stats;
    r->o.summary = rd_summary;
    r->o.close = rd_close;
    r->backoff_ms = REDIS_BACKOFF_MIN_MS;
    r->rng = (uint64_t)time(NULL) ^ ((uint64_t)(uintptr_t)r << 16) ^ 0x9e3779b97f4a7c15ull;
    r->sp =
        spool_new(opt->spool_dir != NULL ? opt->spool_dir : "postcard-spool", opt->spool_max_bytes);
    r->hin[0].p = xmalloc(REDIS_HANDOFF_BYTES);
    r->hin[1].p = xmalloc(REDIS_HANDOFF_BYTES);
    r->rbuf = xmalloc(JSON_LINE_MAX + 1);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* backoff and deadlines: monotonic */
    pthread_mutex_init(&r->hmu, NULL);
    pthread_mutex_init(&r->qmu, NULL);
    pthread_cond_init(&r->hcv, NULL);
    pthread_cond_init(&r->hroom, NULL);
    pthread_cond_init(&r->qcv, &ca);
    pthread_cond_init(&r->cv_first, NULL);
    pthread_condattr_destroy(&ca);
    /* what an earlier run left is read (and checked) now, before any thread runs: it is
     * sent first. Costs a read of the spool at start. */
    if (spool_open(r->sp, e) != 0 || spool_scan(r->sp, e) != 0) {
        rd_free(r);
        return NULL;
    }
    /* [REDIS-SIGPIPE] the threads inherit a mask blocking every signal */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int prc = pthread_create(&r->sender, NULL, redis_send_main, r);
    r->has_sender = prc == 0;
    int first = -1;
    if (prc == 0) {
        pthread_mutex_lock(&r->qmu);
        while (r->first == 0)
            pthread_cond_wait(&r->cv_first, &r->qmu);
        first = r->first;
        pthread_mutex_unlock(&r->qmu);
        if (first > 0) {
            prc = pthread_create(&r->ingester, NULL, ingest_main, r);
            r->has_ingester = prc == 0;
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (prc != 0 || first < 0) {
        if (prc != 0) {
            err_set(e, "redis: cannot start a thread: %s", strerror(prc));
            pthread_mutex_lock(&r->qmu);
            r->is_ingest_done = true; /* there is none: the sender need not wait for it */
            pthread_mutex_unlock(&r->qmu);
        } else /* refused for a reason that will not change by itself */
            err_set(e, "redis: %s", r->first_err.msg);
        stop(r); /* the sender, if any, is finished or told to finish */
        rd_free(r);
        return NULL;
    }
    return &r->o;
}

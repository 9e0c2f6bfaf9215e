/*
 * redis-send.c — the Redis output's wire side: the sender thread and its one hiredis 0.14
 * synchronous context (see out-redis.c for the queue it reads, docs/redis.md for users).
 *
 *   connect (timeout) -> AUTH [user] password -> SELECT db -> XINFO STREAM key | PING
 *   loop: refill memory from the spool (qmu) -> choose a batch and give stream IDs (qmu)
 *         -> append <=512 commands, read their replies (no lock) -> ack, pop (qmu)
 *         connection lost or an error reply: keep the records, free the context,
 *         connect again after a capped exponential backoff (100 ms, x2, to backoff_max_ms)
 *
 * Exactly once in stream mode. Every record gets an explicit entry ID <ms>-<seq> when it is
 * first sent, and keeps it (also in the spool). IDs grow along the FIFO: ms is the wall
 * clock but never below the last ID used, nor below the stream's last-generated-id read at
 * each connection (XINFO STREAM). After a lost connection the unacknowledged records are
 * sent again with the same IDs: those at or below the stream's last ID were applied (their
 * replies were lost) and are dropped as delivered; if one slips through, Redis refuses an
 * ID not above the stream's top, and that one error reply also means "already delivered".
 * This assumes one writer per stream key (docs/redis.md). Lists are at least once (a batch
 * applied whose replies were lost is sent again); channels are best effort (PUBLISH keeps
 * nothing for a subscriber that is not there).
 *
 * Hazards:
 *   [REDIS-TIMEOUT]      redisConnectWithTimeout sets only the connect timeout: a silent
 *                        server would block the sender forever without redisSetTimeout
 *   [REDIS-RECONNECT]    a new connection has no AUTH, no SELECT, no timeout: redo all three
 *   [REDIS-STICKY-ERR]   c->err kills the context for good: free it and connect again
 *   [REDIS-LOST-REPLIES] a batch applied whose replies never came: stream IDs make the resend
 *                        harmless; lists may get a record twice
 *   [REDIS-ID-ORDER]     an ID not above the stream's top is refused: IDs follow the FIFO
 *   [REDIS-ERROR-REPLY]  an error reply (OOM, NOPERM, WRONGTYPE, READONLY...) is not a dead
 *                        connection: the record is kept, a new connection after a backoff
 *   [REDIS-PASSWORD]     never in a message, a name or a counter: only user@host is shown
 *   [REDIS-HELLO]        never HELLO 3: hiredis 0.14 cannot read RESP3
 *   [REDIS-EXIT-RETRY]   at the end of the run the backoff is capped short: the output has only
 *                        its flush timeout left, and a Redis restarted within it must be seen
 *   [REDIS-MSG-FIT]      names, keys and the server's text are shortened in a struct err
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "sensor-limits.h"
#include "output/redis-int.h"

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- the connection ----------------------------------------------------------------- */

enum conn_rc { CONN_OK, CONN_RETRY, CONN_REFUSED };

static redisReply *command(redisContext *c, int argc, const char **argv)
{
    size_t lens[8];
    for (int i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    return redisCommandArgv(c, argc, argv, lens);
}

static bool reply_starts(const redisReply *rep, const char *prefix)
{
    return rep->type == REDIS_REPLY_ERROR && rep->str != NULL &&
           strncmp(rep->str, prefix, strlen(prefix)) == 0;
}

/* The text of an error reply for a message: never one that would repeat the password
 * [REDIS-PASSWORD], and at most REDIS_REPLY_TEXT bytes of it, cut visibly ("..."), so that a
 * message that holds it fits its buffer [REDIS-MSG-FIT]. */
struct reply_text {
    char s[REDIS_REPLY_TEXT + 4]; /* the text, NUL-terminated */
};

static struct reply_text safe_str(const struct out_redis *r, const redisReply *rep)
{
    struct reply_text t;
    if (rep->str == NULL)
        snprintf(t.s, sizeof t.s, "?");
    else if (r->url.password[0] != '\0' && strstr(rep->str, r->url.password) != NULL)
        snprintf(t.s, sizeof t.s, "(error text withheld: it contains the password)");
    else if (strlen(rep->str) > REDIS_REPLY_TEXT)
        snprintf(t.s, sizeof t.s, "%.*s...", REDIS_REPLY_TEXT, rep->str);
    else
        snprintf(t.s, sizeof t.s, "%s", rep->str);
    return t;
}

static bool parse_id(const char *s, uint64_t *ms, uint64_t *seq)
{
    char *end;
    errno = 0;
    unsigned long long a = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '-')
        return false;
    const char *t = end + 1;
    unsigned long long b = strtoull(t, &end, 10);
    if (errno != 0 || end == t || *end != '\0')
        return false;
    *ms = a;
    *seq = b;
    return true;
}

/* Stream mode: the stream's last-generated-id (0-0 if no stream yet). */
static enum conn_rc read_stream_top(struct out_redis *r, redisContext *c, struct err *e)
{
    const char *argv[] = {"XINFO", "STREAM", r->key};
    redisReply *rep = command(c, 3, argv);
    enum conn_rc rc = CONN_OK;
    r->conn_ms = r->conn_seq = 0;
    if (rep == NULL) {
        err_set(e, "%s: %s", r->sname, c->errstr);
        return CONN_RETRY;
    }
    if (rep->type == REDIS_REPLY_ARRAY) {
        bool found = false;
        for (size_t i = 0; i + 1 < rep->elements; i += 2) {
            const redisReply *k = rep->element[i], *v = rep->element[i + 1];
            if (k->type == REDIS_REPLY_STRING && strcmp(k->str, "last-generated-id") == 0 &&
                (v->type == REDIS_REPLY_STRING || v->type == REDIS_REPLY_STATUS))
                found = parse_id(v->str, &r->conn_ms, &r->conn_seq);
        }
        if (!found) {
            err_set(e, "%s: XINFO STREAM %s: no last-generated-id in the reply", r->sname, r->skey);
            rc = CONN_REFUSED;
        }
    } else if (reply_starts(rep, "ERR no such key")) {
        /* no stream yet: XADD makes it */
    } else if (reply_starts(rep, "LOADING") || reply_starts(rep, "BUSY")) {
        err_set(e, "%s: %s", r->sname, safe_str(r, rep).s);
        rc = CONN_RETRY;
    } else if (reply_starts(rep, "WRONGTYPE")) {
        err_set(e, "%s: the key %s holds something other than a stream", r->sname, r->skey);
        rc = CONN_REFUSED;
    } else {
        err_set(e, "%s: XINFO STREAM %s: %s", r->sname, r->skey,
                rep->type == REDIS_REPLY_ERROR ? safe_str(r, rep).s : "unexpected reply");
        rc = CONN_REFUSED;
    }
    freeReplyObject(rep);
    if (rc == CONN_OK &&
        (r->conn_ms > r->last_ms || (r->conn_ms == r->last_ms && r->conn_seq > r->last_seq))) {
        r->last_ms = r->conn_ms;
        r->last_seq = r->conn_seq;
    }
    return rc;
}

/* One command whose error reply means the settings are wrong (CONN_REFUSED). */
static enum conn_rc setup_command(struct out_redis *r, redisContext *c, int argc, const char **argv,
                                  const char *what, struct err *e)
{
    redisReply *rep = command(c, argc, argv);
    if (rep == NULL) {
        err_set(e, "%s: %s", r->sname, c->errstr);
        return CONN_RETRY;
    }
    enum conn_rc rc = CONN_OK;
    if (rep->type == REDIS_REPLY_ERROR) {
        rc = reply_starts(rep, "LOADING") || reply_starts(rep, "BUSY") ? CONN_RETRY : CONN_REFUSED;
        err_set(e, "%s: %s: %s", r->sname, what, safe_str(r, rep).s);
    }
    freeReplyObject(rep);
    return rc;
}

/* Connect, set the timeout, AUTH, SELECT, and check the key. [REDIS-RECONNECT] */
static enum conn_rc rconnect(struct out_redis *r, struct err *e)
{
    struct timeval tv = {r->opt.timeout_ms / 1000, (r->opt.timeout_ms % 1000) * 1000};
    redisContext *c = r->url.is_unix ? redisConnectUnixWithTimeout(r->url.path, tv)
                                     : redisConnectWithTimeout(r->url.host, r->url.port, tv);
    if (c == NULL) {
        err_set(e, "%s: cannot allocate a connection", r->sname);
        return CONN_RETRY;
    }
    enum conn_rc rc = CONN_OK;
    if (c->err) {
        err_set(e, "%s: %s", r->sname, c->errstr);
        rc = CONN_RETRY;
    } else if (redisSetTimeout(c, tv) != REDIS_OK) { /* [REDIS-TIMEOUT] */
        err_set(e, "%s: cannot set the command timeout: %s", r->sname, c->errstr);
        rc = CONN_RETRY;
    }
    if (rc == CONN_OK && r->url.password[0] != '\0') { /* AUTH, never HELLO [REDIS-HELLO] */
        const char *a1[] = {"AUTH", r->url.password};
        const char *a2[] = {"AUTH", r->url.user, r->url.password};
        bool has_user = r->url.user[0] != '\0';
        rc = setup_command(r, c, has_user ? 3 : 2, has_user ? a2 : a1,
                           has_user ? "authentication refused (AUTH user password)"
                                    : "authentication refused (AUTH password)",
                           e);
    }
    if (rc == CONN_OK && r->url.db != 0) {
        char db[16];
        snprintf(db, sizeof db, "%d", r->url.db);
        const char *argv[] = {"SELECT", db};
        rc = setup_command(r, c, 2, argv, "SELECT (the database in the URL)", e);
    }
    if (rc == CONN_OK && r->opt.mode == REDIS_STREAM) {
        rc = read_stream_top(r, c, e);
    } else if (rc == CONN_OK) {
        /* PING shows a missing password (NOAUTH); a user not allowed PING is still in */
        const char *argv[] = {"PING"};
        redisReply *rep = command(c, 1, argv);
        if (rep == NULL) {
            err_set(e, "%s: %s", r->sname, c->errstr);
            rc = CONN_RETRY;
        } else if (rep->type == REDIS_REPLY_ERROR && !reply_starts(rep, "NOPERM")) {
            rc = reply_starts(rep, "LOADING") || reply_starts(rep, "BUSY") ? CONN_RETRY
                                                                           : CONN_REFUSED;
            err_set(e, "%s: %s", r->sname, safe_str(r, rep).s);
        }
        if (rep != NULL)
            freeReplyObject(rep);
    }
    if (rc != CONN_OK) {
        redisFree(c);
        return rc;
    }
    r->c = c;
    return CONN_OK;
}

/* After a failure: the next attempt in backoff ms, +-25% so that sensors spread out. Once the
 * run ends (summary or close waiting) the delay stays short: a Redis back within the last
 * seconds still gets the backlog [REDIS-EXIT-RETRY]. Caller holds qmu. */
static void schedule_retry(struct out_redis *r)
{
    int max = r->opt.backoff_max_ms;
    if ((r->is_flushing || r->is_stopping) && max > REDIS_EXIT_BACKOFF_MS)
        max = REDIS_EXIT_BACKOFF_MS;
    if (r->backoff_ms > max)
        r->backoff_ms = max;
    r->rng ^= r->rng << 13;
    r->rng ^= r->rng >> 7;
    r->rng ^= r->rng << 17;
    int jitter = r->backoff_ms / 4;
    int d = r->backoff_ms - jitter + (jitter > 0 ? (int)(r->rng % (uint64_t)(2 * jitter + 1)) : 0);
    r->retry_at = redis_mono_ms() + d;
    r->backoff_ms = r->backoff_ms * 2 > max ? max : r->backoff_ms * 2;
}

/* Sender thread, no lock held (the counters: under qmu). */
static void try_connect(struct out_redis *r)
{
    struct err e = {""};
    enum conn_rc rc = rconnect(r, &e);
    pthread_mutex_lock(&r->qmu);
    if (rc != CONN_OK) {
        r->st.connect_failures++;
        out_redis_error(r, "%s", e.msg);
        schedule_retry(r);
    } else {
        if (r->has_connected)
            r->st.reconnects++;
        r->has_connected = true;
        r->backoff_ms = REDIS_BACKOFF_MIN_MS;
    }
    r->st.is_connected = rc == CONN_OK;
    out_redis_publish(r);
    pthread_mutex_unlock(&r->qmu);
}

/* ---- sending ------------------------------------------------------------------------ */

static bool id_le(uint64_t ams, uint64_t aseq, uint64_t bms, uint64_t bseq)
{
    return ams < bms || (ams == bms && aseq <= bseq);
}

/* The next ID: the wall clock, never below the last used or seen. [REDIS-ID-ORDER] */
static void assign_id(struct out_redis *r, struct rrec *x)
{
    uint64_t now = wall_ms();
    if (now > r->last_ms) {
        r->last_ms = now;
        r->last_seq = 0;
    } else if (r->last_seq == UINT64_MAX) {
        r->last_ms++;
        r->last_seq = 0;
    } else {
        r->last_seq++;
    }
    x->ms = r->last_ms;
    x->seq = r->last_seq;
}

static int append_command(struct out_redis *r, struct rrec *x)
{
    const char *argv[9];
    size_t lens[9];
    int n = 0;
    char maxlen[24], id[48];
    if (r->opt.mode == REDIS_STREAM) {
        argv[n++] = "XADD";
        argv[n++] = r->key;
        if (r->opt.maxlen > 0) {
            snprintf(maxlen, sizeof maxlen, "%" PRIu64, r->opt.maxlen);
            argv[n++] = "MAXLEN";
            argv[n++] = "~";
            argv[n++] = maxlen;
        }
        snprintf(id, sizeof id, "%" PRIu64 "-%" PRIu64, x->ms, x->seq);
        argv[n++] = id;
        argv[n++] = "record";
    } else if (r->opt.mode == REDIS_LIST) {
        argv[n++] = r->opt.rpush ? "RPUSH" : "LPUSH";
        argv[n++] = r->key;
    } else {
        argv[n++] = "PUBLISH";
        argv[n++] = r->key;
    }
    for (int i = 0; i < n; i++)
        lens[i] = strlen(argv[i]);
    argv[n] = x->data;
    lens[n++] = x->len;
    return redisAppendCommandArgv(r->c, n, argv, lens) == REDIS_OK ? 0 : -1;
}

/* A record found applied (its ID at or below the stream's top, or refused as such): sent by
 * this run before, whose reply was lost, or an earlier run's that got there. Caller holds qmu,
 * or is the sender with the record in its batch. */
static void found_delivered(struct rstats *st, struct rrec *x, bool sent_before)
{
    x->is_acked = true;
    if (sent_before)
        st->sent++; /* this run put it there */
    else
        st->already++;
    st->replayed += x->origin == RREC_EARLIER;
}

/* Append up to a batch of commands, then read their replies. [REDIS-LOST-REPLIES]
 * The batch is chosen under qmu; the I/O is done without it (the ingest thread only appends
 * at the tail and never frees, so the batch's records stay put). */
static void send_batch(struct out_redis *r)
{
    struct rrec *batch[REDIS_BATCH_RECORDS];
    size_t n = 0, bytes = 0;
    bool is_stream = r->opt.mode == REDIS_STREAM;
    pthread_mutex_lock(&r->qmu);
    out_redis_refill(r);
    for (struct rrec *x = r->head;
         x != NULL && n < REDIS_BATCH_RECORDS && bytes < REDIS_BATCH_BYTES; x = x->next) {
        if (x->is_acked)
            continue;
        bool has_id = x->ms != 0 || x->seq != 0;
        if (is_stream && has_id && id_le(x->ms, x->seq, r->conn_ms, r->conn_seq)) {
            found_delivered(&r->st, x, x->tries > 0); /* applied before its reply was lost */
            continue;
        }
        if (is_stream && !has_id) {
            assign_id(r, x);
        } else if (is_stream && !id_le(x->ms, x->seq, r->last_ms, r->last_seq)) {
            r->last_ms = x->ms; /* an ID from the spool, given by an earlier run */
            r->last_seq = x->seq;
        }
        if (append_command(r, x) != 0)
            break;
        x->tries++;
        batch[n++] = x;
        bytes += x->len;
    }
    r->st.in_flight = n;
    out_redis_publish(r);
    pthread_mutex_unlock(&r->qmu);
    struct rstats d = {0}; /* what the replies say, added under qmu below */
    char why[sizeof r->st.last_error] = "";
    size_t lost_at = n;   /* replies from here on lost with the connection */
    bool refused = false; /* an error reply: that record was not applied */
    for (size_t i = 0; i < n; i++) {
        redisReply *rep = NULL;
        if (redisGetReply(r->c, (void **)&rep) != REDIS_OK || rep == NULL) {
            if (r->c->err == REDIS_ERR_IO && strcmp(r->c->errstr, strerror(EAGAIN)) == 0)
                snprintf(why, sizeof why, "no reply within %d ms (--redis-timeout)",
                         r->opt.timeout_ms);
            else
                snprintf(why, sizeof why, "%s", r->c->errstr);
            lost_at = i; /* the rest stays, IDs kept: sent again, or found in the stream */
            break;
        }
        struct rrec *x = batch[i];
        if (rep->type != REDIS_REPLY_ERROR) {
            x->is_acked = true;
            d.sent++;
            d.replayed += x->origin == RREC_EARLIER;
        } else if (is_stream && strstr(rep->str, "equal or smaller than the target stream top")) {
            found_delivered(&d, x, x->tries > 1); /* [REDIS-ID-ORDER] applied, reply lost */
        } else { /* [REDIS-ERROR-REPLY] not applied: kept, sent again later */
            d.errors++;
            if (x->tries == 1) { /* never applied anywhere: a new ID when sent again */
                x->ms = x->seq = 0;
                x->tries = 0;
                refused = true;
            } /* else an earlier send (reply lost) may still be applied: the ID stays */
            snprintf(why, sizeof why, "%s", safe_str(r, rep).s);
        }
        freeReplyObject(rep);
    }
    d.retried = n - lost_at;
    if (lost_at < n || d.errors > 0) {
        redisFree(r->c); /* [REDIS-STICKY-ERR] dead, or not to be trusted: a new one */
        r->c = NULL;
    }
    pthread_mutex_lock(&r->qmu);
    if (is_stream && refused && lost_at < n) {
        /* A record refused ahead of records whose replies were lost: those keep their IDs
         * (they may be applied yet), so the refused one, which needs a new ID above them,
         * goes behind the last of them, in the order they had. */
        struct rrec *anchor = batch[n - 1];
        for (size_t i = 0; i < lost_at; i++)
            if (!batch[i]->is_acked && batch[i]->ms == 0 && batch[i]->seq == 0) {
                out_redis_move_behind(r, batch[i], anchor);
                anchor = batch[i];
            }
    }
    r->st.sent += d.sent;
    r->st.already += d.already;
    r->st.replayed += d.replayed;
    r->st.errors += d.errors;
    r->st.retried += d.retried;
    r->st.in_flight = 0;
    if (why[0] != '\0')
        out_redis_error(r, "%s: %s", r->sname, why);
    if (r->c == NULL)
        schedule_retry(r);
    r->st.is_connected = r->c != NULL; /* c is the sender's: the others read this */
    out_redis_pop_acked(r);
    out_redis_publish(r);
    pthread_mutex_unlock(&r->qmu);
}

/* ---- the thread ---------------------------------------------------------------------- */

/* The first connection, then: connect when due, send while there is a backlog. */
void *redis_send_main(void *arg)
{
    struct out_redis *r = arg;
    pthread_setname_np(pthread_self(), "pc-redis-send");
    struct err e = {""};
    enum conn_rc rc = rconnect(r, &e);
    pthread_mutex_lock(&r->qmu);
    r->st.is_connected = rc == CONN_OK;
    if (rc == CONN_OK) {
        r->has_connected = true;
    } else {
        r->st.connect_failures++;
        out_redis_error(r, "%s", e.msg);
        schedule_retry(r);
    }
    r->first = rc == CONN_REFUSED ? -1 : 1;
    r->first_err = e;
    out_redis_publish(r);
    pthread_cond_broadcast(&r->cv_first);
    pthread_mutex_unlock(&r->qmu);
    if (rc == CONN_REFUSED)
        return NULL;
    bool seen_flush = false; /* the first summary() or close() seen */
    for (;;) {
        pthread_mutex_lock(&r->qmu);
        bool is_backlog, is_stopping, is_late;
        for (;;) {
            int64_t now = redis_mono_ms();
            is_backlog = out_redis_has_backlog(r);
            is_stopping = r->is_stopping;
            is_late = is_stopping && now >= r->deadline;
            if ((r->is_flushing || is_stopping) && !seen_flush)
                break;
            if (is_stopping && r->is_ingest_done && (!is_backlog || is_late))
                break;
            if (!is_late && r->c != NULL && is_backlog)
                break;
            if (!is_late && r->c == NULL && now >= r->retry_at)
                break;
            int64_t until = now + REDIS_IDLE_WAKE_MS;
            if (r->c == NULL && r->retry_at < until)
                until = r->retry_at;
            if (is_stopping && r->deadline < until)
                until = r->deadline;
            struct timespec ts = {(time_t)(until / 1000), (long)(until % 1000) * 1000000};
            pthread_cond_timedwait(&r->qcv, &r->qmu, &ts);
        }
        bool is_done = is_stopping && r->is_ingest_done && (!is_backlog || is_late);
        bool is_flushing = r->is_flushing;
        pthread_mutex_unlock(&r->qmu);
        if (is_done)
            break;
        if (!seen_flush && (is_stopping || is_flushing)) {
            seen_flush = true; /* the run ends: one more try right now, whatever the backoff */
            r->retry_at = redis_mono_ms();
            continue;
        }
        if (r->c == NULL)
            try_connect(r);
        else
            send_batch(r);
    }
    return NULL;
}

void redis_send_close(struct out_redis *r)
{
    if (r->c != NULL)
        redisFree(r->c);
    r->c = NULL;
}

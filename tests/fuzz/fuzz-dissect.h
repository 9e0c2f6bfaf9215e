/*
 * fuzz-dissect.h — one dissector fuzzed the way the sensor drives it, three
 * times over the same bytes cut three ways, and the three event logs compared.
 *
 * The input: a rule byte, then chunks of one direction each, or gaps.
 *
 *   byte 0      the rule of the third run's cuts (a seed, below)
 *   then, until the input ends, a chunk:
 *     h         bit 7: direction (0 client → server, 1 server → client)
 *               bit 6: 1 = a gap: bytes of that direction never seen
 *               bits 0-5 and the next byte: a length L (0..16383)
 *     data      a data chunk: the next L bytes (fewer when the input ends);
 *               a gap: no bytes, L + 1 bytes missing
 *
 *   whole   each data chunk in one feed()
 *   bytes   one byte per feed()
 *   cut     runs of chunks of one direction joined at random, then cut into
 *           random pieces (1-3, 1-16, 1-256 bytes or a few cuts), the
 *           randomness seeded by byte 0
 *
 * As sensor/app/session.c does, the bytes feed() leaves unconsumed are
 * offered again with the next bytes of that direction; a gap drops them.
 * Every feed() gets a malloc'ed copy of exactly what it is offered, freed
 * when it returns, so ASan catches a read past the end and a span kept
 * after the call. The state is malloc'ed at exactly state_size and filled
 * with 0xa5 before init(), as the sensor's xmalloc gives it.
 *
 * What ends the dissector's work, as in the sensor: a mail dissector's
 * EV_UPGRADE (the flow's later bytes are TLS; session.c drops what was
 * pending and calls no finish()), the TLS dissector's EV_TLS_DONE (tlssess.c
 * frees the state). Events emitted in the same feed() after them are logged:
 * the sensor folds them in too.
 *
 * Checked: every log equals the whole run's (dissectors/README.md: the same
 * events however the stream is split); feed() returns at most what it was
 * offered, the TLS dissector all of it (tlssess.c ignores the return), a
 * text dissector leaves less than DISSECT_LINE_MAX bytes unconsumed (the
 * sensor keeps one line); each event has a known type, a direction, a known
 * anomaly, the fixed direction of its type, and spans that can be read to
 * their end (every byte is copied into the log).
 */
#ifndef POSTCARD_FUZZ_DISSECT_H
#define POSTCARD_FUZZ_DISSECT_H

#include "dissector.h"
#include "event.h"
#include "fuzz.h"

#define FD_STATE_FILL 0xa5 /* what xmalloc'ed state holds before init() */

enum fd_how {
    FD_WHOLE, /* a chunk per feed */
    FD_BYTES, /* a byte per feed */
    FD_CUT,   /* joined and cut at random */
};

struct fd_run {
    const struct dissector *d; /* under test */
    bool is_tls;               /* the TLS dissector: consumes all, ends at EV_TLS_DONE */
    void *st;                  /* its state */
    struct fuzz_buf log;       /* what it said */
    struct emitter em;         /* fd_emit on this run */
    uint8_t *pend[2];          /* bytes feed() left, per direction (exact size) */
    size_t pend_n[2];          /* how many */
    bool is_over;              /* EV_UPGRADE / EV_TLS_DONE: no more feed, gap or finish */
};

static void fd_span(struct fuzz_buf *l, const char *what, struct span s)
{
    if (s.n > 0 && s.p == NULL)
        FUZZ_FAIL("%s: a span of %zu bytes at NULL", what, s.n);
    if (s.n > (1u << 24))
        FUZZ_FAIL("%s: a span of %zu bytes", what, s.n);
    fbuf_printf(l, " %s=%zu:", what, s.n);
    fbuf_put(l, s.p, s.n); /* reads every byte */
}

static void fd_want_dir(const struct event *ev, enum dir d, const char *what)
{
    if (ev->dir != d)
        FUZZ_FAIL("%s from direction %d", what, (int)ev->dir);
}

static void fd_login(struct fuzz_buf *l, const struct ev_login *g)
{
    fd_span(l, "mech", g->mech);
    fd_span(l, "user", g->user);
    fbuf_printf(l, " secret=%d readable=%d token=%d cmd=%d result=%d", g->has_secret,
                g->secret_readable, g->is_token, g->is_command, (int)g->result);
    if ((unsigned)g->result > LOGIN_FAILURE)
        FUZZ_FAIL("login result %d", (int)g->result);
    fd_span(l, "reply", g->reply);
}

static void fd_tls_ch(struct fuzz_buf *l, const struct ev_tls_ch *c)
{
    fbuf_printf(l, " legacy=%04x max=%04x v2=%d hb=%d reneg=%d etm=%d ems=%d n=%u",
                c->legacy_version, c->max_version, c->is_sslv2, c->has_heartbeat, c->has_reneg_info,
                c->has_etm, c->has_ems, c->n_ciphers);
    fd_span(l, "ciphers", c->ciphers);
    fd_span(l, "sni", c->sni);
    fd_span(l, "alpn", c->alpn);
    fd_span(l, "ja3", c->ja3);
    fd_span(l, "comp", c->compression);
    fd_span(l, "groups", c->groups);
    fd_span(l, "sigalgs", c->sig_algs);
}

static void fd_emit(void *ctx, const struct event *ev)
{
    struct fd_run *r = ctx;
    struct fuzz_buf *l = &r->log;
    if (ev->dir != DIR_TO_SERVER && ev->dir != DIR_TO_CLIENT)
        FUZZ_FAIL("event %d with direction %d", (int)ev->type, (int)ev->dir);
    fbuf_printf(l, "%d dir=%d", (int)ev->type, (int)ev->dir);
    switch (ev->type) {
    case EV_GREETING:
    case EV_CAPA_END:
    case EV_STARTTLS_REPLY:
    case EV_UPGRADE:
    case EV_LOGIN:
        fd_want_dir(ev, DIR_TO_CLIENT, "a server event");
        break;
    case EV_HELO:
    case EV_STARTTLS:
    case EV_MAIL_FROM:
    case EV_RCPT_TO:
    case EV_COMMAND:
    case EV_LOGIN_SENT:
        fd_want_dir(ev, DIR_TO_SERVER, "a client event");
        break;
    default:
        break;
    }
    switch (ev->type) {
    case EV_GREETING:
    case EV_HELO:
    case EV_MAIL_FROM:
    case EV_RCPT_TO:
    case EV_COMMAND:
        fd_span(l, "text", ev->u.text);
        break;
    case EV_CAPA:
        fd_span(l, "name", ev->u.capa.name);
        fd_span(l, "args", ev->u.capa.args);
        break;
    case EV_CAPA_END:
    case EV_STARTTLS:
    case EV_TLS_CERTS_END:
        break;
    case EV_UPGRADE:
        if (!r->is_tls)
            r->is_over = true;
        break;
    case EV_STARTTLS_REPLY:
        fbuf_printf(l, " ok=%d", ev->u.reply.ok);
        fd_span(l, "line", ev->u.reply.line);
        break;
    case EV_LOGIN_SENT:
        if (ev->u.login.result != LOGIN_UNKNOWN || ev->u.login.reply.n != 0)
            FUZZ_FAIL("EV_LOGIN_SENT with a result");
        fd_login(l, &ev->u.login);
        break;
    case EV_LOGIN:
        fd_login(l, &ev->u.login);
        break;
    case EV_MESSAGE:
        fbuf_printf(l, " bytes=%llu", (unsigned long long)ev->u.bytes);
        break;
    case EV_ANOMALY:
        if ((unsigned)ev->u.anomaly >= EVA_COUNT)
            FUZZ_FAIL("anomaly %d", (int)ev->u.anomaly);
        fbuf_printf(l, " %s", ev_anomaly_name(ev->u.anomaly));
        break;
    case EV_TLS_CLIENT_HELLO:
        fd_tls_ch(l, &ev->u.tls_ch);
        break;
    case EV_TLS_SERVER_HELLO: {
        const struct ev_tls_sh *s = &ev->u.tls_sh;
        fbuf_printf(l, " v=%04x cipher=%x comp=%u v2=%d hrr=%d", s->version, s->cipher,
                    s->compression, s->is_sslv2, s->is_hrr);
        fd_span(l, "ja3s", s->ja3s);
        break;
    }
    case EV_TLS_CERT:
        fbuf_printf(l, " index=%u", ev->u.cert.index);
        fd_span(l, "der", ev->u.cert.der);
        break;
    case EV_TLS_KEX:
        fbuf_printf(l, " dh=%u group=%u", ev->u.kex.dh_bits, ev->u.kex.group);
        break;
    case EV_TLS_ALERT:
        fbuf_printf(l, " level=%u desc=%u enc=%d", ev->u.alert.level, ev->u.alert.desc,
                    ev->u.alert.is_encrypted);
        break;
    case EV_TLS_DONE:
        fbuf_printf(l, " complete=%d", ev->u.done.complete);
        if (r->is_tls)
            r->is_over = true;
        break;
    default:
        FUZZ_FAIL("unknown event type %d", (int)ev->type);
    }
    fbuf_put(l, "\n", 1);
}

/* Offer direction d's unconsumed bytes plus p[0..n), in one exact-size copy. */
static void fd_offer(struct fd_run *r, enum dir d, const uint8_t *p, size_t n)
{
    if (r->is_over)
        return;
    size_t total = r->pend_n[d] + n;
    if (total == 0)
        return;
    uint8_t *b = malloc(total);
    if (b == NULL)
        FUZZ_FAIL("out of memory");
    if (r->pend_n[d] > 0)
        memcpy(b, r->pend[d], r->pend_n[d]);
    memcpy(b + r->pend_n[d], p, n);
    free(r->pend[d]);
    r->pend[d] = NULL;
    r->pend_n[d] = 0;
    size_t used = r->d->feed(r->st, d, b, total, &r->em);
    if (used > total)
        FUZZ_FAIL("%s: feed consumed %zu of %zu bytes", r->d->name, used, total);
    if (r->is_tls && used != total)
        FUZZ_FAIL("tls: feed left %zu of %zu bytes", total - used, total);
    if (!r->is_tls && total - used >= DISSECT_LINE_MAX)
        FUZZ_FAIL("%s: feed left %zu bytes unconsumed (a line is at most %d)", r->d->name,
                  total - used, DISSECT_LINE_MAX);
    if (r->is_over) { /* session.c: what was pending either way is not this protocol's */
        for (int k = 0; k < 2; k++) {
            free(r->pend[k]);
            r->pend[k] = NULL;
            r->pend_n[k] = 0;
        }
    } else if (used < total) {
        r->pend[d] = fuzz_copy(b + used, total - used);
        r->pend_n[d] = total - used;
    }
    free(b);
}

static void fd_gap(struct fd_run *r, enum dir d, uint64_t n)
{
    if (r->is_over)
        return;
    free(r->pend[d]);
    r->pend[d] = NULL;
    r->pend_n[d] = 0;
    r->d->gap(r->st, d, n, &r->em);
}

/* One stretch of bytes of direction d, cut as the run asks. */
static void fd_cut(struct fd_run *r, enum dir d, const uint8_t *p, size_t n, enum fd_how how,
                   uint64_t *rng)
{
    if (how == FD_WHOLE || n == 0) {
        fd_offer(r, d, p, n);
        return;
    }
    size_t max = 1;
    if (how == FD_CUT) {
        switch (fuzz_rand(rng) % 4) {
        case 0:
            max = 1 + fuzz_rand(rng) % 3;
            break;
        case 1:
            max = 1 + fuzz_rand(rng) % 16;
            break;
        case 2:
            max = 1 + fuzz_rand(rng) % 256;
            break;
        default:
            max = n;
            break;
        }
    }
    for (size_t i = 0; i < n;) {
        size_t k = how == FD_BYTES ? 1 : 1 + fuzz_rand(rng) % max;
        if (k > n - i)
            k = n - i;
        fd_offer(r, d, p + i, k);
        i += k;
    }
}

struct fd_chunk {
    enum dir d;       /* direction */
    const uint8_t *p; /* its bytes in the input; NULL: a gap */
    size_t n;         /* bytes, or bytes missing */
};

/* The chunks of data[1..size); returns how many (chunks has room for size of them). */
static size_t fd_chunks(const uint8_t *data, size_t size, struct fd_chunk *chunks)
{
    struct fuzz_in in = {data + 1, size - 1};
    size_t nc = 0;
    while (in.n >= 2) {
        uint8_t h = fin_u8(&in);
        size_t len = (size_t)(h & 0x3f) << 8 | fin_u8(&in);
        struct fd_chunk *c = &chunks[nc++];
        c->d = (h & 0x80) ? DIR_TO_CLIENT : DIR_TO_SERVER;
        if (h & 0x40) {
            c->p = NULL;
            c->n = len + 1;
        } else {
            c->n = fin_take(&in, len, &c->p);
        }
    }
    return nc;
}

/* One run over the chunks; returns its log (the caller frees it). */
static struct fuzz_buf fd_run_once(const struct dissector *d, const struct fd_chunk *c, size_t nc,
                                   enum fd_how how, uint8_t rule)
{
    struct fd_run r = {0};
    r.d = d;
    r.is_tls = d == &tls_dissector;
    r.st = malloc(d->state_size);
    if (r.st == NULL)
        FUZZ_FAIL("out of memory");
    memset(r.st, FD_STATE_FILL, d->state_size);
    r.em.emit = fd_emit;
    r.em.ctx = &r;
    fbuf_put(&r.log, "", 0);
    d->init(r.st);
    uint64_t rng = (uint64_t)rule * 0x2545f4914f6cdd1dULL + 1;
    for (size_t i = 0; i < nc;) {
        if (c[i].p == NULL) {
            fd_gap(&r, c[i].d, c[i].n);
            i++;
            continue;
        }
        size_t j = i + 1, n = c[i].n;
        while (how == FD_CUT && j < nc && c[j].p != NULL && c[j].d == c[i].d &&
               fuzz_rand(&rng) % 2 == 0)
            n += c[j++].n;
        if (j == i + 1) {
            fd_cut(&r, c[i].d, c[i].p, n, how, &rng);
        } else { /* the joined chunks, in one buffer */
            uint8_t *b = malloc(n);
            if (b == NULL)
                FUZZ_FAIL("out of memory");
            size_t o = 0;
            for (size_t k = i; k < j; k++) {
                if (c[k].n > 0)
                    memcpy(b + o, c[k].p, c[k].n);
                o += c[k].n;
            }
            fd_cut(&r, c[i].d, b, n, how, &rng);
            free(b);
        }
        i = j;
    }
    if (!r.is_over)
        d->finish(r.st, &r.em);
    free(r.pend[0]);
    free(r.pend[1]);
    if (d->release != NULL)
        d->release(r.st);
    free(r.st);
    return r.log;
}

/* Where two logs first differ, shown around that place (bytes as \xHH). */
static void fd_show_diff(const char *what, const struct fuzz_buf *a, const struct fuzz_buf *b)
{
    size_t i = 0;
    while (i < a->len && i < b->len && a->p[i] == b->p[i])
        i++;
    size_t from = i > 200 ? i - 200 : 0;
    fprintf(stderr, "fuzz: the %s run logs differently from the whole run at byte %zu\n", what, i);
    for (int k = 0; k < 2; k++) {
        const struct fuzz_buf *x = k == 0 ? a : b;
        fprintf(stderr, "--- %s:\n", k == 0 ? "whole" : what);
        for (size_t j = from; j < x->len && j < i + 400; j++) {
            unsigned char ch = (unsigned char)x->p[j];
            if (ch == '\n' || (ch >= 0x20 && ch < 0x7f))
                fputc(ch, stderr);
            else
                fprintf(stderr, "\\x%02x", ch);
        }
        fputc('\n', stderr);
    }
}

static int fuzz_dissector(const struct dissector *d, const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct fd_chunk *chunks = malloc(size * sizeof *chunks);
    if (chunks == NULL)
        FUZZ_FAIL("out of memory");
    size_t nc = fd_chunks(data, size, chunks);
    struct fuzz_buf whole = fd_run_once(d, chunks, nc, FD_WHOLE, data[0]);
    static const enum fd_how others[] = {FD_BYTES, FD_CUT};
    static const char *const names[] = {"byte-by-byte", "cut"};
    for (size_t k = 0; k < 2; k++) {
        struct fuzz_buf got = fd_run_once(d, chunks, nc, others[k], data[0]);
        if (got.len != whole.len || memcmp(got.p, whole.p, whole.len) != 0) {
            fd_show_diff(names[k], &whole, &got);
            FUZZ_FAIL("%s: events depend on how the stream is cut", d->name);
        }
        fbuf_free(&got);
    }
    fbuf_free(&whole);
    free(chunks);
    return 0;
}

#endif

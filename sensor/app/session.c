/*
 * session.c — a mail session's facts and verdict.
 *
 *   reassembled bytes ─▶ (buffer of what the dissector has not consumed)
 *                     ─▶ dissector feed ─▶ events ─▶ facts
 *   EV_UPGRADE ─▶ bytes are TLS: only their first bytes are looked at, to
 *                 tell an upgrade that happened from one that failed
 *   flow end ─▶ dissector finish ─▶ "mail" record
 *
 * STARTTLS verdicts (RFC 3207, RFC 2595, RFC 8314):
 *   implicit        TLS from the first byte (465/993/995 or TLS content)
 *   upgraded        STARTTLS accepted and a TLS handshake followed
 *   failed          accepted (or unanswered) but no handshake, or an alert
 *   refused         the server said no (454 / -ERR / NO / BAD)
 *   stripped        the capability was X-ed out, or this server offered
 *                   STARTTLS earlier in the run and not in this session
 *   offered-unused  offered, never asked for
 *   not-offered     no capability listing in the capture offered it (none was
 *                   seen, or the listing lacked it)
 *   unknown         the part seen does not show it: the flow was evicted before
 *                   the outcome was settled (a cut session), or was picked up
 *                   mid-way with no listing, or with TLS already running
 *
 * A session picked up mid-way (its flow's first packet had no SYN) takes no
 * greeting: its first server line may answer a command it never saw
 * [SESS-MIDSTREAM]. A cut session keeps what it saw; what only its missing
 * part would have settled is unknown, never guessed [SESS-CUT].
 *
 * Passwords never reach this file's facts: events carry user names and flags only. Its
 * buffer of unconsumed bytes does hold them, a line that arrived in pieces: the bytes the
 * dissector has parsed are wiped at once, and what is dropped unparsed (a gap, the upgrade
 * to TLS, the session's end) too [SESS-WIPE] (docs/security.md).
 *
 * With --anonymize the record names no one (docs/anonymize.md): user names
 * and mail addresses are dropped or replaced by their keyed hash, the HELO
 * name and the greeting (which name the client and the server) are dropped,
 * and the STARTTLS reply is cut to its status. The facts themselves, and the
 * rules that read them (alerts.c), are not changed.
 *
 * Hazards: [SESS-BUF-FULL] [SESS-CAPS-CAP] [SESS-LOGINS-CAP] [SESS-MIDSTREAM] [SESS-CUT]
 *          [SESS-WIPE]
 *          [SESS-ANON-NAMES] with the anonymiser on, a name taken from the wire
 *          (user, path, HELO, greeting, reply text) goes through it or is not
 *          written; capabilities are protocol keywords and stay.
 */
#include "app/session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eve/anon.h"
#include "packet/classify.h"
#include "eve/eve.h"
#include "line.h"

struct starttls_key {
    uint8_t addr[16]; /* server address */
    uint16_t port;    /* server port */
    bool used;        /* slot holds a server */
};

struct starttls_memory {
    struct starttls_key slots[STARTTLS_MEMORY]; /* open addressing, overwritten when full */
};

struct starttls_memory *starttls_memory_new(void)
{
    return xcalloc(1, sizeof(struct starttls_memory));
}

void starttls_memory_free(struct starttls_memory *m)
{
    free(m);
}

static size_t mem_slot(const uint8_t *addr, uint16_t port)
{
    uint64_t h = 1469598103934665603ULL;
    for (int i = 0; i < 16; i++)
        h = (h ^ addr[i]) * 1099511628211ULL;
    h = (h ^ port) * 1099511628211ULL;
    return (size_t)(h % STARTTLS_MEMORY);
}

static bool mem_has(const struct starttls_memory *m, const struct flow *f)
{
    size_t i = mem_slot(f->srv, f->sport);
    for (int k = 0; k < 8; k++) {
        const struct starttls_key *s = &m->slots[(i + (size_t)k) % STARTTLS_MEMORY];
        if (!s->used)
            return false;
        if (s->port == f->sport && memcmp(s->addr, f->srv, 16) == 0)
            return true;
    }
    return false;
}

static void mem_add(struct starttls_memory *m, const struct flow *f)
{
    size_t i = mem_slot(f->srv, f->sport);
    struct starttls_key *s = NULL;
    for (int k = 0; k < 8; k++) {
        s = &m->slots[(i + (size_t)k) % STARTTLS_MEMORY];
        if (!s->used || (s->port == f->sport && memcmp(s->addr, f->srv, 16) == 0))
            break;
    }
    /* a full probe run overwrites its last slot: memory is bounded, not exact */
    memcpy(s->addr, f->srv, 16);
    s->port = f->sport;
    s->used = true;
}

static const struct dissector *dissector_for(enum proto p)
{
    switch (p) {
    case PROTO_SMTP:
        return &smtp_dissector;
    case PROTO_POP3:
        return &pop3_dissector;
    case PROTO_IMAP:
    default:
        return &imap_dissector;
    }
}

struct session *session_new(enum proto proto, bool is_implicit)
{
    struct session *ss = xcalloc(1, sizeof *ss);
    ss->proto = (uint8_t)proto;
    ss->is_implicit = is_implicit;
    if (!is_implicit) {
        ss->d = dissector_for(proto);
        ss->dstate = xcalloc(1, ss->d->state_size);
        ss->d->init(ss->dstate);
    }
    return ss;
}

/* Drop the unconsumed bytes of direction dir, wiped: they may be the start of a login line
 * [SESS-WIPE]. */
static void buf_drop(struct session *ss, int dir)
{
    if (ss->buf[dir] != NULL)
        explicit_bzero(ss->buf[dir], ss->buf_len[dir]);
    ss->buf_len[dir] = 0;
}

void session_free(struct session *ss)
{
    if (ss == NULL)
        return;
    buf_drop(ss, 0);
    buf_drop(ss, 1);
    if (ss->dstate != NULL && ss->d->release != NULL)
        ss->d->release(ss->dstate);
    free(ss->dstate);
    free(ss->buf[0]);
    free(ss->buf[1]);
    free(ss);
}

static void text_set(struct fact_text *t, struct span s)
{
    size_t n = s.n < sizeof t->s ? s.n : sizeof t->s;
    memcpy(t->s, s.p, n);
    t->n = (uint16_t)n;
}

struct sess_ctx {
    struct session *ss;          /* the session */
    struct starttls_memory *mem; /* servers seen offering STARTTLS */
    const struct flow *f;        /* its flow */
    struct stats *st;            /* run counters */
};

/* "XXXXXXXA" / "XXXXXXXX" in place of STARTTLS, "XXXX" in place of STLS. */
static bool is_mangled(struct span name, size_t want)
{
    if (name.n != want)
        return false;
    for (size_t i = 0; i + 1 < name.n; i++)
        if (name.p[i] != 'X' && name.p[i] != 'x')
            return false;
    uint8_t last = name.p[name.n - 1];
    return last == 'X' || last == 'x' || last == 'A' || last == 'a' || last == 'S';
}

static void on_capa(struct session *ss, const struct event *ev)
{
    if (ss->caps_seen || ss->is_upgraded)
        return; /* the first listing in clear is the one that counts */
    struct span name = ev->u.capa.name;
    bool tls_word = ss->proto == PROTO_POP3 ? span_eq(name, "STLS") : span_eq(name, "STARTTLS");
    if (tls_word)
        ss->offers_starttls = true;
    if (is_mangled(name, ss->proto == PROTO_POP3 ? 4 : 8))
        ss->starttls_mangled = true;
    if (ss->proto == PROTO_IMAP && span_eq(name, "LOGINDISABLED"))
        ss->login_disabled = true;
    if (ss->n_caps == SESSION_MAX_CAPS) /* [SESS-CAPS-CAP] */
        return;
    struct cap_text *t = &ss->caps[ss->n_caps++];
    size_t n = name.n < sizeof t->s ? name.n : sizeof t->s;
    memcpy(t->s, name.p, n);
    if (ev->u.capa.args.n > 0 && n + 1 < sizeof t->s) {
        size_t room = sizeof t->s - n - 1;
        size_t k = ev->u.capa.args.n < room ? ev->u.capa.args.n : room;
        t->s[n++] = ' ';
        memcpy(t->s + n, ev->u.capa.args.p, k);
        n += k;
    }
    t->n = (uint8_t)n;
}

/*
 * EV_LOGIN_SENT opens an attempt (its result pending); EV_LOGIN ends the pending one, or
 * is an attempt of its own (a mechanism with no secret is known only at its answer). An
 * attempt still pending when another is sent keeps the result "unknown".
 */
static void on_login(struct session *ss, const struct event *ev)
{
    const struct ev_login *l = &ev->u.login;
    bool is_sent = ev->type == EV_LOGIN_SENT;
    bool ends_pending = !is_sent && (ss->has_pending || ss->pending_dropped);
    if (ss->has_pending) /* answered now, or never: a new attempt was sent */
        ss->logins[ss->n_logins - 1].is_pending = false;
    ss->has_pending = false;
    if (ss->pending_dropped) {
        ss->pending_dropped = false;
        if (!is_sent)
            return; /* its attempt was counted in logins_dropped when it was sent */
    }
    if (ss->proto == PROTO_IMAP && l->is_command && ss->login_disabled && !ss->is_upgraded &&
        !ends_pending)
        ss->login_disabled_violated = true; /* RFC 2595 §3.2, RFC 9051 §6.2.3 */
    if (ss->n_logins == SESSION_MAX_LOGINS && !ends_pending) { /* [SESS-LOGINS-CAP] */
        ss->logins_dropped++;
        ss->pending_dropped = is_sent;
        return;
    }
    struct login_fact *lf = &ss->logins[ends_pending ? ss->n_logins - 1 : ss->n_logins++];
    lf->is_pending = is_sent;
    ss->has_pending = is_sent;
    size_t m = l->mech.n < sizeof lf->mech - 1 ? l->mech.n : sizeof lf->mech - 1;
    memcpy(lf->mech, l->mech.p, m);
    lf->mech[m] = '\0';
    text_set(&lf->user, l->user);
    lf->cleartext = l->has_secret && l->secret_readable;
    lf->is_token = l->is_token;
    lf->is_command = l->is_command;
    lf->result = (uint8_t)l->result;
}

static void on_event(void *ctx, const struct event *ev)
{
    struct sess_ctx *c = ctx;
    struct session *ss = c->ss;
    bool was_valid = ss->is_valid;
    if (ev->type != EV_ANOMALY)
        ss->is_valid = true;
    switch (ev->type) {
    case EV_CAPA_END:
    case EV_STARTTLS:
    case EV_STARTTLS_REPLY:
    case EV_UPGRADE:
    case EV_LOGIN:
    case EV_LOGIN_SENT:
    case EV_MESSAGE:
        ss->facts_changed = true;
        break;
    case EV_COMMAND:
        ss->facts_changed |= !ss->went_on;
        break;
    default:
        break;
    }
    if (!was_valid && ss->is_valid)
        ss->facts_changed = true; /* the session is known to be this protocol */
    switch (ev->type) {
    case EV_GREETING: /* mid-way, a "greeting" may be any reply [SESS-MIDSTREAM] */
        if (ss->greeting.n == 0 && !ss->is_midstream)
            text_set(&ss->greeting, ev->u.text);
        break;
    case EV_CAPA:
        on_capa(ss, ev);
        break;
    case EV_CAPA_END:
        if (ss->caps_seen || ss->is_upgraded)
            break;
        ss->caps_seen = true;
        if (ss->offers_starttls)
            mem_add(c->mem, c->f);
        else if (!ss->starttls_mangled && mem_has(c->mem, c->f))
            ss->stripped_by_history = true;
        break;
    case EV_HELO:
        if (ss->helo.n == 0)
            text_set(&ss->helo, ev->u.text);
        break;
    case EV_STARTTLS:
        ss->starttls_requested = true;
        break;
    case EV_STARTTLS_REPLY:
        ss->starttls_reply_seen = true;
        ss->starttls_ok = ev->u.reply.ok;
        text_set(&ss->starttls_reply, ev->u.reply.line);
        break;
    case EV_UPGRADE:
        ss->is_upgraded = true;
        break;
    case EV_LOGIN:
    case EV_LOGIN_SENT:
        on_login(ss, ev);
        break;
    case EV_COMMAND:
        ss->went_on = true;
        break;
    case EV_MAIL_FROM:
        if (ss->mail_from.n == 0)
            text_set(&ss->mail_from, ev->u.text);
        break;
    case EV_RCPT_TO:
        if (ss->n_rcpt < SESSION_MAX_RCPT)
            text_set(&ss->rcpt[ss->n_rcpt++], ev->u.text);
        break;
    case EV_MESSAGE:
        ss->cleartext_messages++;
        ss->cleartext_message_bytes += ev->u.bytes;
        break;
    case EV_ANOMALY:
        ss->anomalies++;
        if ((unsigned)ev->u.anomaly < EVA_COUNT)
            c->st->mail_anomalies[ev->u.anomaly]++;
        break;
    default: /* TLS events come from the TLS dissector, not here */
        break;
    }
}

void session_data(struct session *ss, struct starttls_memory *mem, const struct flow *f, int dir,
                  const uint8_t *p, size_t n, struct stats *st)
{
    if (dir == 0 && !ss->client_started && n > 0 && !ss->is_upgraded) {
        /* A client that starts with TLS wants implicit TLS, whatever the
         * server answered in clear (a plain server on 465 says 220 first). */
        ss->client_started = true;
        ss->facts_changed = true; /* implicit TLS or not is known now */
        if (classify_bytes_are_tls(p, n))
            ss->is_implicit = true;
    }
    if (ss->is_implicit || ss->is_upgraded)
        return; /* TLS: the sensor hands these bytes to the TLS session */
    struct sess_ctx c = {ss, mem, f, st};
    struct emitter em = {on_event, &c};
    enum dir d = dir == 0 ? DIR_TO_SERVER : DIR_TO_CLIENT;
    if (ss->buf_len[dir] == 0) {
        size_t used = ss->d->feed(ss->dstate, d, p, n, &em);
        p += used;
        n -= used;
    }
    if (n > 0 && ss->buf[dir] == NULL && !ss->is_upgraded)
        ss->buf[dir] = xmalloc(SESSION_BUF_BYTES); /* once per session and direction */
    uint8_t *b = ss->buf[dir];
    while (n > 0 && !ss->is_upgraded) {
        size_t room = SESSION_BUF_BYTES - ss->buf_len[dir];
        size_t k = n < room ? n : room;
        memcpy(b + ss->buf_len[dir], p, k);
        ss->buf_len[dir] += k;
        p += k;
        n -= k;
        size_t used = ss->d->feed(ss->dstate, d, b, ss->buf_len[dir], &em);
        if (used == 0 && ss->buf_len[dir] == SESSION_BUF_BYTES) { /* [SESS-BUF-FULL] */
            used = ss->buf_len[dir]; /* a dissector must consume a full line: drop it */
            ss->anomalies++;
        }
        memmove(b, b + used, ss->buf_len[dir] - used);
        explicit_bzero(b + ss->buf_len[dir] - used, used); /* [SESS-WIPE] what was parsed */
        ss->buf_len[dir] -= used;
    }
    if (ss->is_upgraded) { /* whatever followed the upgrade in these bytes is TLS */
        buf_drop(ss, 0);
        buf_drop(ss, 1);
    }
}

void session_gap(struct session *ss, struct starttls_memory *mem, const struct flow *f, int dir,
                 uint64_t n, struct stats *st)
{
    if (ss->is_implicit || ss->is_upgraded)
        return;
    struct sess_ctx c = {ss, mem, f, st};
    struct emitter em = {on_event, &c};
    buf_drop(ss, dir); /* bytes before a hole cannot be joined to bytes after it */
    ss->d->gap(ss->dstate, dir == 0 ? DIR_TO_SERVER : DIR_TO_CLIENT, n, &em);
}

enum starttls_outcome session_starttls(const struct session *ss, const struct tls_session *ts)
{
    if (ss->is_implicit) /* mid-way on a STARTTLS port, TLS may follow an upgrade not seen */
        return ss->is_midstream && !ss->is_tls_port ? STARTTLS_UNKNOWN : STARTTLS_IMPLICIT;
    if (ss->starttls_requested) {
        if (!ss->starttls_reply_seen) /* never answered, or answered after the cut */
            return ss->is_cut ? STARTTLS_UNKNOWN : STARTTLS_FAILED;
        if (!ss->starttls_ok)
            return STARTTLS_REFUSED;
        /* accepted: upgraded only if a TLS handshake followed and completed */
        if (ts != NULL && tls_session_succeeded(ts))
            return STARTTLS_UPGRADED;
        if (ss->is_cut && !(ts != NULL && tls_session_failed(ts)))
            return STARTTLS_UNKNOWN; /* [SESS-CUT] the handshake went on past the cut */
        return STARTTLS_FAILED;
    }
    if (ss->starttls_mangled || ss->stripped_by_history)
        return STARTTLS_STRIPPED;
    if (ss->offers_starttls) /* cut before the client went on: it may still have asked */
        return ss->is_cut && !ss->went_on ? STARTTLS_UNKNOWN : STARTTLS_OFFERED_UNUSED;
    if (!ss->caps_seen && (ss->is_cut || ss->is_midstream))
        return STARTTLS_UNKNOWN; /* the listing, if any, was in the part not seen */
    return STARTTLS_NOT_OFFERED; /* no listing in this capture offered it */
}

bool session_starttls_settled(const struct session *ss, const struct tls_session *ts)
{
    if ((ss->is_closed && !ss->is_cut) || ss->is_implicit)
        return true; /* implicit from the start, or from the client's first bytes */
    if (!ss->client_started)
        return false; /* the client may still start with TLS */
    if (ss->starttls_requested) {
        if (!ss->starttls_reply_seen)
            return false;
        if (!ss->starttls_ok)
            return true; /* refused at the refusal */
        /* accepted: upgraded at the end of the handshake, failed at an alert in clear, at
         * bytes that are not TLS or at a handshake that ended unfinished */
        return ts != NULL && (tls_session_succeeded(ts) || tls_session_failed(ts));
    }
    if (ss->starttls_mangled || ss->stripped_by_history || !ss->offers_starttls)
        return ss->caps_seen; /* stripped, not-offered: at the listing's end; with no listing,
                               * at the session's end (the client may still ask for one) */
    return ss->went_on;       /* offered-unused: at the first command that goes on in clear */
}

static void j_text(struct jbuf *j, const char *key, const struct fact_text *t)
{
    j_strn(j, key, (const uint8_t *)t->s, t->n);
}

bool session_close(struct session *ss, struct starttls_memory *mem, const struct flow *f,
                   struct stats *st)
{
    if (!ss->is_implicit && !ss->is_upgraded && !ss->is_closed) {
        struct sess_ctx c = {ss, mem, f, st};
        struct emitter em = {on_event, &c};
        ss->d->finish(ss->dstate, &em);
    }
    buf_drop(ss, 0); /* [SESS-WIPE] a line the flow ended in the middle of */
    buf_drop(ss, 1);
    ss->is_closed = true;
    return ss->is_implicit || ss->is_valid; /* else not this protocol after all */
}

const char *session_proto_name(const struct session *ss)
{
    return proto_name(ss->proto);
}

/* A user name or a mailbox: as it is, its keyed hash, or nothing [SESS-ANON-NAMES]. */
static void j_person(struct jbuf *j, const char *key, const char *s, size_t n,
                     const struct anon *an)
{
    char h[ANON_USER_BYTES];
    if (an == NULL) {
        j_strn(j, key, (const uint8_t *)s, n);
        return;
    }
    if (anon_users_mode(an) != ANON_USERS_HASH)
        return;
    if (n == 0) { /* the wire showed no name: there is none to hide */
        j_strn(j, key, (const uint8_t *)"", 0);
        return;
    }
    size_t hn = anon_user(an, s, n, h, sizeof h);
    if (hn != 0)
        j_strn(j, key, (const uint8_t *)h, hn);
}

/* A MAIL FROM or RCPT TO path. Hashed without its brackets, so that a mailbox and a
 * login of the same name get the same pseudonym; the null path names no one. */
static void j_path(struct jbuf *j, const char *key, const struct fact_text *t,
                   const struct anon *an)
{
    const char *s = t->s;
    size_t n = t->n;
    if (an != NULL && n >= 2 && s[0] == '<' && s[n - 1] == '>') {
        if (n == 2) { /* RFC 5321 §4.5.5: "<>", a bounce */
            j_text(j, key, t);
            return;
        }
        s++;
        n -= 2;
    }
    j_person(j, key, s, n, an);
}

static bool word_of(struct span w, size_t max, bool (*ok)(uint8_t))
{
    if (w.n == 0 || w.n > max)
        return false;
    for (size_t i = 0; i < w.n; i++)
        if (!ok(w.p[i]))
            return false;
    return true;
}

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

static bool is_code(uint8_t c) /* RFC 3463 enhanced status codes: 4.7.0 */
{
    return is_digit(c) || c == '.';
}

static bool is_atom(uint8_t c) /* an IMAP tag, +OK/-ERR, OK/NO/BAD */
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '+' ||
           c == '-' || c == '.';
}

/* The STARTTLS answer cut to its status, what the verdict rests on: SMTP "454 4.7.0",
 * POP3 "-ERR", IMAP "a2 BAD". The text after it may name the server. */
static void j_reply_status(struct jbuf *j, const struct session *ss)
{
    struct span rest = {(const uint8_t *)ss->starttls_reply.s, ss->starttls_reply.n};
    struct span w1 = span_word(&rest), w2 = span_word(&rest);
    size_t n = 0;
    if (ss->proto == PROTO_SMTP && w1.n >= 3 && is_digit(w1.p[0]) && is_digit(w1.p[1]) &&
        is_digit(w1.p[2])) /* "454-4.7.0 ..." keeps "454" */
        n = w1.n == 3 && word_of(w2, 11, is_code) && is_digit(w2.p[0])
                ? (size_t)(w2.p + w2.n - w1.p)
                : 3;
    else if (ss->proto == PROTO_POP3 && word_of(w1, 8, is_atom))
        n = w1.n;
    else if (ss->proto == PROTO_IMAP && word_of(w1, 16, is_atom))
        n = word_of(w2, 7, is_atom) ? (size_t)(w2.p + w2.n - w1.p) : w1.n;
    j_strn(j, "starttls_reply", w1.p, n);
}

void session_write(const struct session *ss, const struct flow *f, const struct tls_session *ts,
                   const struct anon *an, struct jbuf *j)
{
    static const char *const results[] = {"unknown", "success", "failure"};
    j_obj(j, "mail");
    j_str(j, "port_class", port_class_names[port_class_of(f->sport)]);
    if (ss->greeting.n && an == NULL) /* [SESS-ANON-NAMES]: it names the server */
        j_text(j, "greeting", &ss->greeting);
    j_arr(j, "capabilities");
    for (unsigned i = 0; i < ss->n_caps; i++)
        j_strn(j, NULL, (const uint8_t *)ss->caps[i].s, ss->caps[i].n);
    j_arr_end(j);
    j_str(j, "starttls", starttls_outcome_names[session_starttls(ss, ts)]);
    if (ss->starttls_reply_seen && an == NULL)
        j_text(j, "starttls_reply", &ss->starttls_reply);
    else if (ss->starttls_reply_seen)
        j_reply_status(j, ss);
    j_arr(j, "logins");
    for (unsigned i = 0; i < ss->n_logins; i++) {
        const struct login_fact *l = &ss->logins[i];
        j_obj(j, NULL);
        j_str(j, "mechanism", l->mech);
        j_person(j, "user", l->user.s, l->user.n, an);
        j_bool(j, "cleartext", l->cleartext);
        if (l->is_token)
            j_bool(j, "bearer_token", true);
        j_str(j, "result", results[l->result < 3 ? l->result : 0]);
        j_obj_end(j);
    }
    j_arr_end(j);
    if (ss->logins_dropped)
        j_u64(j, "logins_not_listed", ss->logins_dropped);
    j_u64(j, "cleartext_messages", ss->cleartext_messages);
    j_u64(j, "cleartext_message_bytes", ss->cleartext_message_bytes);
    if (ss->proto == PROTO_IMAP)
        j_bool(j, "login_disabled_violated", ss->login_disabled_violated);
    j_u64(j, "anomalies", ss->anomalies);
    if (ss->is_midstream)
        j_bool(j, "midstream", true);
    if (ss->is_cut)
        j_str(j, "cut", "evicted");
    j_obj_end(j);
    if (an != NULL && anon_users_mode(an) != ANON_USERS_HASH)
        return; /* the HELO name and the paths all go: nothing is left of EVE's smtp */
    bool has_helo = ss->helo.n && an == NULL; /* [SESS-ANON-NAMES]: it names the client */
    if (ss->proto == PROTO_SMTP && (has_helo || ss->mail_from.n || ss->n_rcpt)) {
        j_obj(j, "smtp"); /* EVE's smtp object */
        if (has_helo)
            j_text(j, "helo", &ss->helo);
        if (ss->mail_from.n)
            j_path(j, "mail_from", &ss->mail_from, an);
        j_arr(j, "rcpt_to");
        for (unsigned i = 0; i < ss->n_rcpt; i++)
            j_path(j, NULL, &ss->rcpt[i], an);
        j_arr_end(j);
        j_obj_end(j);
    }
}

void session_record(const struct session *ss, const struct flow *f, const struct tls_session *ts,
                    const struct eve_ctx *ec, struct jbuf *j)
{
    eve_begin(j, ec, f->last, f, "mail");
    j_str(j, "app_proto", session_proto_name(ss));
    session_write(ss, f, ts, ec != NULL ? ec->anon : NULL, j);
    j_end(j);
}

const char *session_server_name(const struct session *ss, char *buf, size_t n)
{
    /* RFC 5321 §4.3.1: "220 domain ..."; other greetings carry a name by habit only */
    struct span g = {(const uint8_t *)ss->greeting.s, ss->greeting.n};
    struct span w = span_word(&g);
    size_t dots = 0;
    for (size_t i = 0; i < w.n; i++) {
        uint8_t ch = w.p[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '-' || ch == '.';
        if (!ok)
            return NULL;
        dots += ch == '.';
    }
    if (dots == 0 || w.n == 0 || w.n >= n)
        return NULL;
    memcpy(buf, w.p, w.n);
    buf[w.n] = '\0';
    return buf;
}

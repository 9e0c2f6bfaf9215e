/*
 * pop3.c — POP3 sessions: RFC 1939 (commands, +OK/-ERR, multi-line
 * responses with dot-stuffing, APOP), RFC 2449 (CAPA, PIPELINING),
 * RFC 2595 §4 (STLS), RFC 5034 (AUTH with SASL).
 *
 *   client: CMD ──AUTH──▶ SASL (lines are responses) ──final reply──▶ CMD
 *           any ──+OK to STLS──▶ TLS
 *   server: REPLY ──+OK to CAPA/LIST/UIDL/RETR/TOP──▶ MULTI (to ".")
 *           each status line answers the oldest pending command.
 *
 * Message bodies (RETR, TOP) are skipped by scanning for CRLF.CRLF and
 * counted; capability lines are reported.
 *
 * Hazards: [POP3-LINE-OVERLONG] [POP3-PENDING-OVERFLOW] [POP3-BAD-REPLY] [POP3-GAP]
 */
#include <string.h>

#include "dissector.h"
#include "line.h"
#include "sasl.h"

#define POP3_PENDING_MAX 64 /* pipelined commands tracked (RFC 2449 §6.6) */

enum pop3_cmd {
    POP3_CMD_OTHER,
    POP3_CMD_MULTI, /* a command whose +OK starts a multi-line listing */
    POP3_CMD_CAPA,
    POP3_CMD_STLS,
    POP3_CMD_USER,
    POP3_CMD_PASS,
    POP3_CMD_APOP,
    POP3_CMD_AUTH,
    POP3_CMD_MESSAGE, /* RETR / TOP: a multi-line message */
};

enum pop3_sst {
    POP3_S_REPLY,   /* status lines */
    POP3_S_CAPA,    /* CAPA listing lines */
    POP3_S_LISTING, /* other multi-line listing, skipped */
    POP3_S_MESSAGE, /* message body, skipped and counted */
};

struct pop3 {
    bool is_greeted;                   /* the greeting was seen */
    bool is_tls;                       /* STLS accepted */
    bool in_sasl;                      /* client lines are SASL responses */
    bool discard[2];                   /* dropping bytes up to the next LF */
    bool has_pass;                     /* PASS was sent for the pending USER */
    uint8_t sst;                       /* enum pop3_sst */
    uint8_t eod;                       /* CRLF.CRLF bytes matched in a body */
    uint8_t n_pending;                 /* commands awaiting a reply */
    uint8_t head;                      /* oldest pending */
    uint8_t pending[POP3_PENDING_MAX]; /* enum pop3_cmd ring */
    uint64_t msg_bytes;                /* bytes of the message in progress */
    struct sasl sasl;                  /* user and mechanism of the login in progress */
};

static void push(struct pop3 *s, enum pop3_cmd c, const struct emitter *em)
{
    if (s->n_pending == POP3_PENDING_MAX) { /* [POP3-PENDING-OVERFLOW] */
        dissect_anomaly(em, DIR_TO_SERVER, EVA_TOO_MANY_PENDING);
        s->head = (uint8_t)((s->head + 1) % POP3_PENDING_MAX);
        s->n_pending--;
    }
    s->pending[(s->head + s->n_pending) % POP3_PENDING_MAX] = (uint8_t)c;
    s->n_pending++;
}

static enum pop3_cmd pop(struct pop3 *s)
{
    if (s->n_pending == 0)
        return POP3_CMD_OTHER;
    enum pop3_cmd c = (enum pop3_cmd)s->pending[s->head];
    s->head = (uint8_t)((s->head + 1) % POP3_PENDING_MAX);
    s->n_pending--;
    return c;
}

static enum pop3_cmd front(const struct pop3 *s)
{
    return s->n_pending ? (enum pop3_cmd)s->pending[s->head] : POP3_CMD_OTHER;
}

static void pop3_init(void *st)
{
    memset(st, 0, sizeof(struct pop3));
}

static void client_line(struct pop3 *s, struct span line, const struct emitter *em)
{
    if (s->in_sasl) {
        if (!sasl_response(&s->sasl, span_trim(line)))
            dissect_anomaly(em, DIR_TO_SERVER, EVA_BAD_BASE64);
        sasl_emit_sent(&s->sasl, NULL, em);
        return;
    }
    struct span rest = line;
    struct span verb = span_word(&rest);
    struct span arg = span_word(&rest);
    if (!span_eq(verb, "CAPA") && !span_eq(verb, "STLS") && !span_eq(verb, "NOOP") &&
        !(span_eq(verb, "AUTH") && arg.n == 0))
        dissect_command(em, verb); /* USER, APOP, AUTH mech, RETR, QUIT, ... */
    if (span_eq(verb, "CAPA")) {
        push(s, POP3_CMD_CAPA, em);
    } else if (span_eq(verb, "STLS")) {
        push(s, POP3_CMD_STLS, em);
        struct event ev = {.type = EV_STARTTLS, .dir = DIR_TO_SERVER};
        emit(em, &ev);
    } else if (span_eq(verb, "USER")) { /* RFC 1939 §7 */
        memset(&s->sasl, 0, sizeof s->sasl);
        sasl_set_user(&s->sasl, arg);
        s->has_pass = false;
        push(s, POP3_CMD_USER, em);
    } else if (span_eq(verb, "PASS")) {
        s->sasl.is_active = true;
        s->sasl.has_secret = s->sasl.secret_readable = arg.n > 0;
        sasl_emit_sent(&s->sasl, "USER", em);
        push(s, POP3_CMD_PASS, em);
    } else if (span_eq(verb, "APOP")) { /* RFC 1939 §7: APOP name digest */
        memset(&s->sasl, 0, sizeof s->sasl);
        sasl_set_user(&s->sasl, arg);
        s->sasl.is_active = true;
        s->sasl.has_secret = span_word(&rest).n > 0;
        sasl_emit_sent(&s->sasl, "APOP", em);
        push(s, POP3_CMD_APOP, em);
    } else if (span_eq(verb, "AUTH")) { /* RFC 5034 §4: AUTH mech [initial-response] */
        if (arg.n == 0) {
            push(s, POP3_CMD_MULTI, em); /* RFC 1734 listing of mechanisms */
            return;
        }
        sasl_begin(&s->sasl, arg);
        struct span ir = span_word(&rest);
        if (ir.n > 0 && !sasl_response(&s->sasl, ir))
            dissect_anomaly(em, DIR_TO_SERVER, EVA_BAD_BASE64);
        sasl_emit_sent(&s->sasl, NULL, em);
        s->in_sasl = true;
        push(s, POP3_CMD_AUTH, em);
    } else if (span_eq(verb, "RETR") || span_eq(verb, "TOP")) {
        push(s, POP3_CMD_MESSAGE, em);
    } else if ((span_eq(verb, "LIST") || span_eq(verb, "UIDL")) && arg.n == 0) {
        push(s, POP3_CMD_MULTI, em);
    } else {
        push(s, POP3_CMD_OTHER, em);
    }
}

static void server_status(struct pop3 *s, struct span line, const struct emitter *em)
{
    bool ok = span_starts(line, "+OK");
    bool err = span_starts(line, "-ERR");
    bool cont = span_at(line, 0) == '+' && !ok; /* "+ challenge" (RFC 5034 §4) */
    if (!ok && !err && !cont) {                 /* [POP3-BAD-REPLY] */
        dissect_anomaly(em, DIR_TO_CLIENT, EVA_BAD_REPLY);
        return;
    }
    if (!s->is_greeted) {
        s->is_greeted = true;
        if (s->n_pending == 0) { /* else the greeting was missed: this answers a command */
            struct span rest = line;
            span_word(&rest); /* "+OK" */
            struct event ev = {
                .type = EV_GREETING, .dir = DIR_TO_CLIENT, .u.text = span_trim(rest)};
            emit(em, &ev);
            return;
        }
    }
    if (cont) {
        if (front(s) != POP3_CMD_AUTH)
            dissect_anomaly(em, DIR_TO_CLIENT, EVA_BAD_REPLY);
        return; /* the exchange goes on */
    }
    enum pop3_cmd c = pop(s);
    enum login_result r = ok ? LOGIN_SUCCESS : LOGIN_FAILURE;
    switch (c) {
    case POP3_CMD_CAPA:
        if (ok)
            s->sst = POP3_S_CAPA;
        break;
    case POP3_CMD_MULTI:
        if (ok)
            s->sst = POP3_S_LISTING;
        break;
    case POP3_CMD_MESSAGE:
        if (ok) {
            s->sst = POP3_S_MESSAGE;
            s->eod = 2;
            s->msg_bytes = 0;
        }
        break;
    case POP3_CMD_STLS: /* RFC 2595 §4 */
        s->is_tls = dissect_starttls_reply(em, ok, line);
        break;
    case POP3_CMD_PASS:
        if (s->sasl.is_active)
            sasl_emit_login(&s->sasl, "USER", r, line, em);
        break;
    case POP3_CMD_APOP:
        if (s->sasl.is_active)
            sasl_emit_login(&s->sasl, "APOP", r, line, em);
        break;
    case POP3_CMD_AUTH:
        if (s->sasl.is_active)
            sasl_emit_login(&s->sasl, NULL, r, line, em);
        s->in_sasl = false;
        break;
    default:
        break;
    }
}

static void capa_line(struct pop3 *s, struct span line, const struct emitter *em)
{
    if (line.n == 1 && line.p[0] == '.') {
        s->sst = POP3_S_REPLY;
        struct event ev = {.type = EV_CAPA_END, .dir = DIR_TO_CLIENT};
        emit(em, &ev);
        return;
    }
    struct span rest = line;
    struct event ev = {.type = EV_CAPA, .dir = DIR_TO_CLIENT};
    ev.u.capa.name = span_word(&rest);
    ev.u.capa.args = span_trim(rest);
    emit(em, &ev);
}

static size_t pop3_feed(void *st, enum dir d, const uint8_t *p, size_t n, const struct emitter *em)
{
    struct pop3 *s = st;
    size_t used = 0;
    while (used < n) {
        const uint8_t *q = p + used;
        size_t left = n - used;
        if (s->is_tls)
            return n; /* TLS bytes belong to the TLS dissector */
        if (s->discard[d]) {
            bool done;
            used += line_discard(q, left, &done);
            s->discard[d] = !done;
            if (done && d == DIR_TO_CLIENT &&
                (s->sst == POP3_S_MESSAGE || s->sst == POP3_S_LISTING))
                s->eod = 2; /* at a line start: "." alone ends the listing */
            continue;
        }
        if (d == DIR_TO_CLIENT && (s->sst == POP3_S_MESSAGE || s->sst == POP3_S_LISTING)) {
            bool done;
            uint64_t before = s->msg_bytes;
            used += dot_body_scan(&s->eod, &s->msg_bytes, q, left, &done);
            if (s->sst == POP3_S_LISTING && done)
                s->msg_bytes = before;
            if (done) {
                if (s->sst == POP3_S_MESSAGE) {
                    struct event ev = {
                        .type = EV_MESSAGE, .dir = DIR_TO_CLIENT, .u.bytes = s->msg_bytes};
                    emit(em, &ev);
                }
                s->msg_bytes = 0;
                s->sst = POP3_S_REPLY;
            }
            continue;
        }
        struct span line;
        size_t k;
        enum line_step step = line_step(&s->discard[d], d, q, left, DISSECT_LINE_MAX, &line, &k,
                                        em); /* [POP3-LINE-OVERLONG] */
        if (step == STEP_MORE)
            break;
        used += k;
        if (step == STEP_SKIPPED)
            continue;
        if (d == DIR_TO_SERVER)
            client_line(s, line, em);
        else if (s->sst == POP3_S_CAPA)
            capa_line(s, line, em);
        else
            server_status(s, line, em);
    }
    return used;
}

static void pop3_gap(void *st, enum dir d, uint64_t n, const struct emitter *em)
{
    struct pop3 *s = st;
    (void)n;
    if (s->is_tls)
        return;
    dissect_anomaly(em, d, EVA_GAP); /* [POP3-GAP] */
    if (d == DIR_TO_CLIENT && s->sst == POP3_S_MESSAGE) {
        s->msg_bytes += n;
        s->eod = 0;
        return;
    }
    s->discard[d] = true;
}

static void pop3_finish(void *st, const struct emitter *em)
{
    struct pop3 *s = st;
    struct span none = {NULL, 0};
    if (s->sasl.is_active && s->in_sasl)
        sasl_emit_login(&s->sasl, NULL, LOGIN_UNKNOWN, none, em);
    else if (s->sasl.is_active && s->sasl.has_secret)
        sasl_emit_login(&s->sasl, front(s) == POP3_CMD_APOP ? "APOP" : "USER", LOGIN_UNKNOWN, none,
                        em);
    if (s->sst == POP3_S_MESSAGE && s->msg_bytes > 0) {
        struct event ev = {.type = EV_MESSAGE, .dir = DIR_TO_CLIENT, .u.bytes = s->msg_bytes};
        emit(em, &ev);
    }
}

const struct dissector pop3_dissector = {
    .name = "pop3",
    .state_size = sizeof(struct pop3),
    .init = pop3_init,
    .feed = pop3_feed,
    .gap = pop3_gap,
    .finish = pop3_finish,
};

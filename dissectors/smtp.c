/*
 * smtp.c — SMTP sessions as seen on the wire: RFC 5321 (commands, replies,
 * DATA), RFC 3207 (STARTTLS), RFC 4954 (AUTH), RFC 2920 (PIPELINING),
 * RFC 3030 (CHUNKING/BDAT).
 *
 *   client: CMD ──DATA──▶ BODY ──CRLF.CRLF──▶ CMD
 *           CMD ──BDAT n──▶ CHUNK (n bytes) ──▶ CMD
 *           CMD ──AUTH──▶ SASL (lines are responses) ──final reply──▶ CMD
 *           any ──220 to STARTTLS──▶ TLS (bytes are not SMTP any more)
 *   server: REPLY lines "ddd-" (more) / "ddd " (last); each complete reply
 *           answers the oldest pending command (pipelining keeps order).
 *
 * The body of a message is skipped but counted; its end (CRLF.CRLF) is
 * found across any split. A client line may carry a password (AUTH): it is
 * handed to sasl.c, which keeps only the user name.
 *
 * Hazards: [SMTP-LINE-OVERLONG] [SMTP-PENDING-OVERFLOW] [SMTP-BAD-REPLY]
 *          [SMTP-BDAT-SIZE] [SMTP-GAP]
 */
#include <string.h>

#include "dissector.h"
#include "line.h"
#include "sasl.h"

#define SMTP_PENDING_MAX 64 /* pipelined commands tracked; RFC 2920 groups are small */

enum smtp_cst {
    SMTP_C_CMD,   /* command lines */
    SMTP_C_BODY,  /* DATA body, until CRLF.CRLF */
    SMTP_C_CHUNK, /* BDAT chunk bytes */
    SMTP_C_SASL,  /* AUTH responses */
    SMTP_C_TLS,   /* after STARTTLS: not SMTP */
};

enum smtp_cmd {
    SMTP_CMD_OTHER,
    SMTP_CMD_EHLO,
    SMTP_CMD_HELO,
    SMTP_CMD_STARTTLS,
    SMTP_CMD_AUTH,
    SMTP_CMD_DATA,
    SMTP_CMD_DATA_END, /* the end of a DATA body, answered like a command */
    SMTP_CMD_BDAT,
};

struct smtp {
    uint8_t cst;                       /* enum smtp_cst */
    bool is_tls;                       /* STARTTLS accepted: both sides done */
    bool is_greeted;                   /* the greeting was seen */
    bool discard[2];                   /* dropping bytes up to the next LF */
    bool in_reply;                     /* a multi-line reply is open */
    bool bdat_last;                    /* the chunk being read ends the message */
    uint8_t eod;                       /* bytes of CRLF.CRLF matched */
    uint8_t n_pending;                 /* commands awaiting a reply */
    uint8_t head;                      /* oldest pending */
    uint8_t pending[SMTP_PENDING_MAX]; /* enum smtp_cmd ring */
    uint64_t chunk_left;               /* BDAT bytes still to skip */
    uint64_t msg_bytes;                /* bytes of the message in progress */
    struct sasl sasl;                  /* AUTH exchange in progress */
};

static void push(struct smtp *s, enum smtp_cmd c, const struct emitter *em)
{
    if (s->n_pending == SMTP_PENDING_MAX) { /* [SMTP-PENDING-OVERFLOW] forget the oldest */
        dissect_anomaly(em, DIR_TO_SERVER, EVA_TOO_MANY_PENDING);
        s->head = (uint8_t)((s->head + 1) % SMTP_PENDING_MAX);
        s->n_pending--;
    }
    s->pending[(s->head + s->n_pending) % SMTP_PENDING_MAX] = (uint8_t)c;
    s->n_pending++;
}

static enum smtp_cmd front(const struct smtp *s)
{
    return s->n_pending ? (enum smtp_cmd)s->pending[s->head] : SMTP_CMD_OTHER;
}

static void pop(struct smtp *s)
{
    if (s->n_pending) {
        s->head = (uint8_t)((s->head + 1) % SMTP_PENDING_MAX);
        s->n_pending--;
    }
}

static void smtp_init(void *st)
{
    memset(st, 0, sizeof(struct smtp));
}

static void message_end(struct smtp *s, const struct emitter *em)
{
    struct event ev = {.type = EV_MESSAGE, .dir = DIR_TO_SERVER, .u.bytes = s->msg_bytes};
    emit(em, &ev);
    s->msg_bytes = 0;
}

static void text_event(enum ev_type t, struct span text, const struct emitter *em)
{
    struct event ev = {.type = t, .dir = DIR_TO_SERVER, .u.text = text};
    emit(em, &ev);
}

/* Strip "FROM:" / "TO:" and the angle brackets' surroundings: keep the path. */
static struct span mail_path(struct span arg, size_t skip)
{
    arg.p += skip;
    arg.n -= skip;
    arg = span_trim(arg);
    struct span rest = arg;
    return span_word(&rest);
}

static void client_line(struct smtp *s, struct span line, const struct emitter *em)
{
    if (s->cst == SMTP_C_SASL) {
        if (!sasl_response(&s->sasl, span_trim(line)))
            dissect_anomaly(em, DIR_TO_SERVER, EVA_BAD_BASE64);
        sasl_emit_sent(&s->sasl, NULL, em);
        return;
    }
    struct span rest = line;
    struct span verb = span_word(&rest);
    if (!span_eq(verb, "EHLO") && !span_eq(verb, "HELO") && !span_eq(verb, "STARTTLS") &&
        !span_eq(verb, "NOOP") && !span_eq(verb, "RSET") && !span_eq(verb, "HELP"))
        dissect_command(em, verb); /* MAIL, AUTH, QUIT, ...: the session goes on in clear */
    if (span_eq(verb, "EHLO") || span_eq(verb, "HELO")) {
        push(s, span_eq(verb, "EHLO") ? SMTP_CMD_EHLO : SMTP_CMD_HELO, em);
        text_event(EV_HELO, span_trim(rest), em);
    } else if (span_eq(verb, "STARTTLS")) {
        push(s, SMTP_CMD_STARTTLS, em);
        struct event ev = {.type = EV_STARTTLS, .dir = DIR_TO_SERVER};
        emit(em, &ev);
    } else if (span_eq(verb, "AUTH")) { /* RFC 4954 §4: AUTH mechanism [initial-response] */
        struct span mech = span_word(&rest);
        struct span ir = span_word(&rest);
        sasl_begin(&s->sasl, mech);
        if (ir.n > 0 && !sasl_response(&s->sasl, ir))
            dissect_anomaly(em, DIR_TO_SERVER, EVA_BAD_BASE64);
        sasl_emit_sent(&s->sasl, NULL, em);
        push(s, SMTP_CMD_AUTH, em);
        s->cst = SMTP_C_SASL;
    } else if (span_eq(verb, "MAIL")) {
        push(s, SMTP_CMD_OTHER, em);
        if (span_starts(span_trim(rest), "FROM:"))
            text_event(EV_MAIL_FROM, mail_path(span_trim(rest), 5), em);
    } else if (span_eq(verb, "RCPT")) {
        push(s, SMTP_CMD_OTHER, em);
        if (span_starts(span_trim(rest), "TO:"))
            text_event(EV_RCPT_TO, mail_path(span_trim(rest), 3), em);
    } else if (span_eq(verb, "DATA")) {
        /* The body follows a 354; it is read as body at once, and given
         * back to commands if the server refuses DATA. */
        push(s, SMTP_CMD_DATA, em);
        s->cst = SMTP_C_BODY;
        s->eod = 2; /* the DATA line's CRLF counts: "." alone ends an empty body */
        s->msg_bytes = 0;
    } else if (span_eq(verb, "BDAT")) { /* RFC 3030 §2: BDAT size [LAST] */
        uint64_t n;
        struct span size = span_word(&rest);
        if (!span_u64(size, &n)) { /* [SMTP-BDAT-SIZE] */
            dissect_anomaly(em, DIR_TO_SERVER, EVA_BAD_LITERAL);
            push(s, SMTP_CMD_OTHER, em);
            return;
        }
        s->bdat_last = span_eq(span_word(&rest), "LAST");
        push(s, SMTP_CMD_BDAT, em);
        s->chunk_left = n;
        s->cst = SMTP_C_CHUNK;
        if (n == 0 && s->bdat_last) {
            message_end(s, em);
            s->cst = SMTP_C_CMD;
        } else if (n == 0) {
            s->cst = SMTP_C_CMD;
        }
    } else {
        push(s, SMTP_CMD_OTHER, em);
    }
}

/* One server line. */
static void server_line(struct smtp *s, struct span line, const struct emitter *em)
{
    uint8_t c0 = span_at(line, 0), c1 = span_at(line, 1), c2 = span_at(line, 2),
            sep = span_at(line, 3);
    bool is_reply = c0 >= '2' && c0 <= '5' && c1 >= '0' && c1 <= '9' && c2 >= '0' && c2 <= '9' &&
                    (line.n == 3 || sep == ' ' || sep == '-');
    if (!is_reply) { /* [SMTP-BAD-REPLY] */
        dissect_anomaly(em, DIR_TO_CLIENT, EVA_BAD_REPLY);
        return;
    }
    bool is_last = line.n == 3 || sep == ' ';
    struct span text = {line.p + (line.n > 4 ? 4 : line.n), line.n > 4 ? line.n - 4 : 0};
    bool first = !s->in_reply;
    s->in_reply = !is_last;
    bool is_220 = c0 == '2' && c1 == '2' && c2 == '0';
    if (!s->is_greeted && first && s->n_pending > 0 && (!is_220 || front(s) == SMTP_CMD_STARTTLS))
        s->is_greeted = true; /* the greeting was missed: this answers a command */
    if (!s->is_greeted) {     /* RFC 5321 §4.2: the greeting may span lines; it ends at "220 " */
        if (first) {
            struct event ev = {.type = EV_GREETING, .dir = DIR_TO_CLIENT, .u.text = text};
            emit(em, &ev);
        }
        if (is_last)
            s->is_greeted = true;
        return;
    }
    enum smtp_cmd cmd = front(s);
    if (cmd == SMTP_CMD_EHLO && c0 == '2' && !first) { /* RFC 5321 §4.1.1.1: ehlo-line */
        struct span rest = text;
        struct event ev = {.type = EV_CAPA, .dir = DIR_TO_CLIENT};
        ev.u.capa.name = span_word(&rest);
        ev.u.capa.args = span_trim(rest);
        emit(em, &ev);
    }
    if (!is_last)
        return;
    switch (cmd) {
    case SMTP_CMD_EHLO:
    case SMTP_CMD_HELO: /* HELO's answer lists no extensions (RFC 5321 §4.1.1.1) */
        if (c0 == '2') {
            struct event ev = {.type = EV_CAPA_END, .dir = DIR_TO_CLIENT};
            emit(em, &ev);
        }
        break;
    case SMTP_CMD_STARTTLS: /* RFC 3207 §4: 220 ready, 454/501 refused */
        if (dissect_starttls_reply(em, is_220, line)) {
            s->is_tls = true;
            s->cst = SMTP_C_TLS;
        }
        break;
    case SMTP_CMD_AUTH: /* RFC 4954 §4: 334 continues, 235 success, else failure */
        if (c0 == '3' && c1 == '3' && c2 == '4')
            return; /* the exchange goes on: the command stays pending */
        if (s->sasl.is_active)
            sasl_emit_login(&s->sasl, NULL, c0 == '2' ? LOGIN_SUCCESS : LOGIN_FAILURE, line, em);
        if (s->cst == SMTP_C_SASL)
            s->cst = SMTP_C_CMD;
        break;
    case SMTP_CMD_DATA:
        if (!(c0 == '3' && c1 == '5' && c2 == '4') && s->cst == SMTP_C_BODY && s->msg_bytes == 0)
            s->cst = SMTP_C_CMD; /* refused: no body follows */
        break;
    default:
        break;
    }
    pop(s);
}

/* Skip DATA body bytes up to CRLF.CRLF (RFC 5321 §4.1.1.4). */
static size_t body(struct smtp *s, const uint8_t *p, size_t n, const struct emitter *em)
{
    bool done;
    size_t k = dot_body_scan(&s->eod, &s->msg_bytes, p, n, &done);
    if (done) {
        message_end(s, em);
        push(s, SMTP_CMD_DATA_END, em);
        s->cst = SMTP_C_CMD;
    }
    return k;
}

static size_t smtp_feed(void *st, enum dir d, const uint8_t *p, size_t n, const struct emitter *em)
{
    struct smtp *s = st;
    size_t used = 0;
    while (used < n) {
        const uint8_t *q = p + used;
        size_t left = n - used;
        if (s->is_tls || (d == DIR_TO_SERVER && s->cst == SMTP_C_TLS))
            return n; /* TLS bytes belong to the TLS dissector */
        if (d == DIR_TO_SERVER && s->cst == SMTP_C_BODY) {
            used += body(s, q, left, em);
            continue;
        }
        if (d == DIR_TO_SERVER && s->cst == SMTP_C_CHUNK) {
            size_t k = s->chunk_left < left ? (size_t)s->chunk_left : left;
            s->chunk_left -= k;
            s->msg_bytes += k;
            used += k;
            if (s->chunk_left == 0) {
                s->cst = SMTP_C_CMD;
                if (s->bdat_last)
                    message_end(s, em);
            }
            continue;
        }
        struct span line;
        size_t k;
        enum line_step step = line_step(&s->discard[d], d, q, left, DISSECT_LINE_MAX, &line, &k,
                                        em); /* [SMTP-LINE-OVERLONG] */
        if (step == STEP_MORE)
            break;
        used += k;
        if (step == STEP_SKIPPED)
            continue;
        if (d == DIR_TO_SERVER)
            client_line(s, line, em);
        else
            server_line(s, line, em);
    }
    return used;
}

static void smtp_gap(void *st, enum dir d, uint64_t n, const struct emitter *em)
{
    struct smtp *s = st;
    if (s->is_tls)
        return;
    dissect_anomaly(em, d, EVA_GAP); /* [SMTP-GAP] */
    if (d == DIR_TO_SERVER && s->cst == SMTP_C_CHUNK) {
        uint64_t k = n < s->chunk_left ? n : s->chunk_left;
        s->chunk_left -= k;
        s->msg_bytes += k;
        if (s->chunk_left == 0) {
            s->cst = SMTP_C_CMD;
            if (s->bdat_last)
                message_end(s, em);
        }
        if (k == n)
            return;
    } else if (d == DIR_TO_SERVER && s->cst == SMTP_C_BODY) {
        s->msg_bytes += n;
        s->eod = 0;
        return;
    }
    s->discard[d] = true; /* resynchronise at the next line */
    if (d == DIR_TO_CLIENT)
        s->in_reply = false;
}

static void smtp_finish(void *st, const struct emitter *em)
{
    struct smtp *s = st;
    if (s->sasl.is_active) {
        struct span none = {NULL, 0};
        sasl_emit_login(&s->sasl, NULL, LOGIN_UNKNOWN, none, em);
    }
    if ((s->cst == SMTP_C_BODY || s->cst == SMTP_C_CHUNK) && s->msg_bytes > 0)
        message_end(s, em);
}

const struct dissector smtp_dissector = {
    .name = "smtp",
    .state_size = sizeof(struct smtp),
    .init = smtp_init,
    .feed = smtp_feed,
    .gap = smtp_gap,
    .finish = smtp_finish,
};

/*
 * imap.c — IMAP sessions: RFC 9051 / RFC 3501 (tags, untagged and tagged
 * responses, literals), RFC 7888 (LITERAL+ "{n+}"), RFC 2595 §3.1
 * (STARTTLS, LOGINDISABLED), RFC 4959 (SASL-IR).
 *
 *   client: CMD line ── ends with {n} ──▶ LITERAL (n bytes) ──▶ CMD (same command)
 *           CMD ──AUTHENTICATE──▶ SASL (lines are responses) ──tagged reply──▶ CMD
 *   server: LINE ── ends with {n} ──▶ LITERAL (skipped, a FETCH body is counted)
 *           tagged OK/NO/BAD answers the command with that tag
 *           OK to STARTTLS ──▶ TLS
 *
 * LOGIN's arguments may be atoms, quoted strings or literals: the user name
 * is kept, the password only measured.
 *
 * Hazards: [IMAP-LINE-OVERLONG] [IMAP-LITERAL-SIZE] [IMAP-PENDING-OVERFLOW]
 *          [IMAP-TAG-LONG] [IMAP-GAP]
 */
#include <string.h>

#include "dissector.h"
#include "line.h"
#include "sasl.h"

#define IMAP_PENDING_MAX 32 /* tagged commands in flight; clients pipeline a few */
#define IMAP_TAG_MAX 32     /* longest tag kept; longer tags are cut [IMAP-TAG-LONG] */

enum imap_cmd {
    IMAP_CMD_OTHER,
    IMAP_CMD_LOGIN,
    IMAP_CMD_AUTHENTICATE,
    IMAP_CMD_STARTTLS,
};

enum imap_lit {                /* what a client literal holds */
                IMAP_LIT_SKIP, /* nothing we keep */
                IMAP_LIT_USER, /* LOGIN's user name */
                IMAP_LIT_PASS, /* LOGIN's password: measured, not kept */
};

struct imap_pending {
    uint8_t kind;              /* enum imap_cmd */
    uint8_t tag_len;           /* bytes in tag */
    uint8_t tag[IMAP_TAG_MAX]; /* the command's tag */
};

struct imap {
    bool is_greeted;           /* the greeting was seen */
    bool is_tls;               /* STARTTLS accepted */
    bool in_sasl;              /* client lines are SASL responses */
    bool in_command;           /* a client command continues after a literal */
    bool discard[2];           /* dropping bytes up to the next LF */
    bool srv_msg_lit;          /* the server literal being skipped is a message body */
    bool srv_in_resp;          /* the next server line continues a response */
    bool srv_lit_active;       /* a server literal (maybe of 0 bytes) is being read */
    uint8_t cmd;               /* enum imap_cmd of the command being read */
    uint8_t login_arg;         /* LOGIN arguments read so far */
    uint8_t lit_kind;          /* enum imap_lit of the client literal */
    uint8_t n_pending;         /* entries used in pending */
    uint8_t tag_len;           /* bytes in tag */
    uint8_t tag[IMAP_TAG_MAX]; /* tag of the command being read */
    uint64_t lit_left[2];      /* literal bytes still to read, per direction */
    uint64_t srv_lit_size;     /* size of the server literal being skipped */
    struct sasl sasl;          /* the login in progress */
    struct imap_pending pending[IMAP_PENDING_MAX]; /* commands awaiting their tagged reply */
};

static void imap_init(void *st)
{
    memset(st, 0, sizeof(struct imap));
}

static void push(struct imap *s, const struct emitter *em)
{
    if (s->n_pending == IMAP_PENDING_MAX) { /* [IMAP-PENDING-OVERFLOW] forget the oldest */
        dissect_anomaly(em, DIR_TO_SERVER, EVA_TOO_MANY_PENDING);
        memmove(&s->pending[0], &s->pending[1], sizeof s->pending[0] * (IMAP_PENDING_MAX - 1));
        s->n_pending--;
    }
    struct imap_pending *p = &s->pending[s->n_pending++];
    p->kind = s->cmd;
    p->tag_len = s->tag_len;
    memcpy(p->tag, s->tag, s->tag_len);
}

/* Take the pending command with this tag; IMAP_CMD_OTHER if none. */
static enum imap_cmd take(struct imap *s, struct span tag)
{
    for (unsigned i = 0; i < s->n_pending; i++) {
        struct imap_pending *p = &s->pending[i];
        size_t n = tag.n < IMAP_TAG_MAX ? tag.n : IMAP_TAG_MAX;
        if (p->tag_len == n && memcmp(p->tag, tag.p, n) == 0) {
            enum imap_cmd k = (enum imap_cmd)p->kind;
            memmove(p, p + 1, sizeof *p * (s->n_pending - i - 1));
            s->n_pending--;
            return k;
        }
    }
    return IMAP_CMD_OTHER;
}

/* A literal announced at the end of a line: "{123}" or "{123+}" (RFC 7888). */
static bool literal_at_end(struct span line, uint64_t *n, bool *bad)
{
    *bad = false;
    if (line.n < 3 || line.p[line.n - 1] != '}')
        return false;
    size_t i = line.n - 1;
    while (i > 0 && line.p[i - 1] != '{')
        i--;
    if (i == 0)
        return false;
    struct span num = {line.p + i, line.n - 1 - i};
    if (num.n > 0 && num.p[num.n - 1] == '+')
        num.n--;
    if (!span_u64(num, n)) { /* [IMAP-LITERAL-SIZE] */
        *bad = true;
        return false;
    }
    return true;
}

/* One astring of LOGIN (RFC 9051 §9: atom / quoted / literal). Returns false
 * when the argument is a literal that follows the line. */
static bool login_arg(struct imap *s, struct span *rest)
{
    struct span r = span_trim(*rest);
    struct span v = {r.p, 0};
    bool quoted = r.n > 0 && r.p[0] == '"';
    if (quoted) {
        size_t i = 1;
        while (i < r.n && r.p[i] != '"')
            i += (r.p[i] == '\\') ? 2 : 1;
        v.p = r.p + 1;
        v.n = (i < r.n ? i : r.n) - 1;
        rest->p = r.p + (i < r.n ? i + 1 : r.n);
        rest->n = r.n - (size_t)(rest->p - r.p);
    } else if (r.n > 0 && r.p[0] == '{') {
        return false;
    } else {
        *rest = r;
        v = span_word(rest);
    }
    if (s->login_arg == 0 && quoted) { /* RFC 9051 §4.3: "\\" and "\"" are escapes */
        size_t n = 0;
        for (size_t i = 0; i < v.n && n < SASL_USER_MAX; i++) {
            if (v.p[i] == '\\' && i + 1 < v.n)
                i++;
            s->sasl.user[n++] = v.p[i];
        }
        s->sasl.user_len = (uint16_t)n;
    } else if (s->login_arg == 0) {
        sasl_set_user(&s->sasl, v);
    } else if (s->login_arg == 1)
        s->sasl.has_secret = s->sasl.secret_readable = v.n > 0;
    s->login_arg++;
    return true;
}

static void client_line(struct imap *s, struct span line, const struct emitter *em)
{
    if (s->in_sasl && !s->in_command) {
        if (!sasl_response(&s->sasl, span_trim(line)))
            dissect_anomaly(em, DIR_TO_SERVER, EVA_BAD_BASE64);
        sasl_emit_sent(&s->sasl, NULL, em);
        return;
    }
    struct span rest = line;
    if (!s->in_command) {
        struct span tag = span_word(&rest);
        struct span verb = span_word(&rest);
        s->tag_len = (uint8_t)(tag.n < IMAP_TAG_MAX ? tag.n : IMAP_TAG_MAX);
        memcpy(s->tag, tag.p, s->tag_len);
        s->cmd = IMAP_CMD_OTHER;
        if (!span_eq(verb, "CAPABILITY") && !span_eq(verb, "STARTTLS") && !span_eq(verb, "NOOP") &&
            !span_eq(verb, "ID"))
            dissect_command(em, verb); /* LOGIN, AUTHENTICATE, SELECT, LOGOUT, ... */
        if (span_eq(verb, "LOGIN")) {  /* RFC 9051 §6.2.3 */
            s->cmd = IMAP_CMD_LOGIN;
            s->login_arg = 0;
            memset(&s->sasl, 0, sizeof s->sasl);
            s->sasl.is_active = true;
        } else if (span_eq(verb, "AUTHENTICATE")) { /* RFC 9051 §6.2.2, RFC 4959 */
            s->cmd = IMAP_CMD_AUTHENTICATE;
            struct span mech = span_word(&rest);
            struct span ir = span_word(&rest);
            sasl_begin(&s->sasl, mech);
            if (ir.n > 0 && !sasl_response(&s->sasl, ir))
                dissect_anomaly(em, DIR_TO_SERVER, EVA_BAD_BASE64);
            sasl_emit_sent(&s->sasl, NULL, em);
            s->in_sasl = true;
        } else if (span_eq(verb, "STARTTLS")) {
            s->cmd = IMAP_CMD_STARTTLS;
            struct event ev = {.type = EV_STARTTLS, .dir = DIR_TO_SERVER};
            emit(em, &ev);
        }
    }
    uint64_t lit;
    bool bad;
    bool has_lit = literal_at_end(line, &lit, &bad);
    if (bad)
        dissect_anomaly(em, DIR_TO_SERVER, EVA_BAD_LITERAL);
    if (s->cmd == IMAP_CMD_LOGIN) {
        while (s->login_arg < 2 && login_arg(s, &rest))
            ;
    }
    if (has_lit) {
        s->in_command = true;
        s->lit_left[DIR_TO_SERVER] = lit;
        s->lit_kind = IMAP_LIT_SKIP;
        if (s->cmd == IMAP_CMD_LOGIN && s->login_arg < 2) {
            s->lit_kind = s->login_arg == 0 ? IMAP_LIT_USER : IMAP_LIT_PASS;
            s->login_arg++;
            if (s->lit_kind == IMAP_LIT_PASS)
                s->sasl.has_secret = s->sasl.secret_readable = lit > 0;
        }
        return;
    }
    s->in_command = false;
    if (s->cmd == IMAP_CMD_LOGIN)
        sasl_emit_sent(&s->sasl, "LOGIN", em); /* the whole command, literals included, is in */
    push(s, em);
}

static void client_literal(struct imap *s, const uint8_t *p, size_t k)
{
    if (s->lit_kind == IMAP_LIT_USER) {
        size_t room = SASL_USER_MAX - s->sasl.user_len;
        size_t c = k < room ? k : room;
        memcpy(s->sasl.user + s->sasl.user_len, p, c);
        s->sasl.user_len = (uint16_t)(s->sasl.user_len + c);
    }
}

static void capabilities(struct span list, const struct emitter *em)
{
    for (;;) {
        struct span w = span_word(&list);
        if (w.n == 0)
            break;
        struct event ev = {.type = EV_CAPA, .dir = DIR_TO_CLIENT};
        ev.u.capa.name = w;
        ev.u.capa.args.p = w.p + w.n;
        ev.u.capa.args.n = 0;
        emit(em, &ev);
    }
    struct event end = {.type = EV_CAPA_END, .dir = DIR_TO_CLIENT};
    emit(em, &end);
}

/* "[CAPABILITY ...]" response code at the start of text (RFC 9051 §7.1). */
static void capability_code(struct span text, const struct emitter *em)
{
    text = span_trim(text);
    if (!span_starts(text, "[CAPABILITY "))
        return;
    const uint8_t *close = memchr(text.p, ']', text.n);
    if (close == NULL)
        return;
    struct span list = {text.p + 12, (size_t)(close - text.p) - 12};
    capabilities(list, em);
}

/* Does the text before a literal name a message body (FETCH BODY[], RFC822, BINARY[])? */
static bool is_body_literal(struct span line)
{
    size_t n = line.n;
    size_t from = n > 64 ? n - 64 : 0;
    struct span tail = {line.p + from, n - from};
    for (size_t i = 0; i < tail.n; i++) {
        struct span t = {tail.p + i, tail.n - i};
        if (span_starts(t, "BODY[]") || span_starts(t, "BODY[TEXT]") || span_starts(t, "BINARY[") ||
            span_starts(t, "RFC822 ") || span_starts(t, "RFC822.TEXT") ||
            (span_starts(t, "BODY[") && t.n > 5 && t.p[5] >= '1' && t.p[5] <= '9'))
            return true;
    }
    return false;
}

/* A server literal has been read: a FETCH body is a message moved in clear. */
static void server_literal_end(struct imap *s, const struct emitter *em)
{
    if (s->srv_msg_lit) {
        struct event ev = {.type = EV_MESSAGE, .dir = DIR_TO_CLIENT, .u.bytes = s->srv_lit_size};
        emit(em, &ev);
        s->srv_msg_lit = false;
    }
    s->srv_lit_active = false;
    s->srv_in_resp = true; /* the response goes on after the literal */
}

static void server_line(struct imap *s, struct span line, bool continued, const struct emitter *em)
{
    uint64_t lit;
    bool bad;
    if (literal_at_end(line, &lit, &bad)) {
        s->lit_left[DIR_TO_CLIENT] = lit;
        s->srv_lit_size = lit;
        s->srv_lit_active = true;
        s->srv_msg_lit = is_body_literal(line);
    } else if (bad) {
        dissect_anomaly(em, DIR_TO_CLIENT, EVA_BAD_LITERAL);
    }
    if (continued)
        return; /* the rest of a response after a literal */
    struct span rest = line;
    struct span tag = span_word(&rest);
    if (tag.n == 1 && tag.p[0] == '*') {
        struct span kind = span_word(&rest);
        if (!s->is_greeted) {
            s->is_greeted = true;
            struct event ev = {
                .type = EV_GREETING, .dir = DIR_TO_CLIENT, .u.text = span_trim(rest)};
            emit(em, &ev);
        }
        if (span_eq(kind, "CAPABILITY"))
            capabilities(rest, em);
        else if (span_eq(kind, "OK") || span_eq(kind, "PREAUTH") || span_eq(kind, "BYE"))
            capability_code(rest, em);
        return;
    }
    if (tag.n == 1 && tag.p[0] == '+')
        return;           /* continuation request: the client goes on */
    if (!s->is_greeted) { /* [IMAP-BAD-REPLY] no greeting: not IMAP as we know it */
        dissect_anomaly(em, DIR_TO_CLIENT, EVA_BAD_REPLY);
        return;
    }
    struct span status = span_word(&rest);
    bool ok = span_eq(status, "OK");
    if (!ok && !span_eq(status, "NO") && !span_eq(status, "BAD")) {
        dissect_anomaly(em, DIR_TO_CLIENT, EVA_BAD_REPLY);
        return;
    }
    capability_code(rest, em);
    enum login_result r = ok ? LOGIN_SUCCESS : LOGIN_FAILURE;
    enum imap_cmd kind;
    size_t tn = tag.n < IMAP_TAG_MAX ? tag.n : IMAP_TAG_MAX;
    if (s->in_command && tn == s->tag_len && memcmp(tag.p, s->tag, tn) == 0) {
        /* RFC 9051 §4.3: the server refused a synchronising literal; the
         * command ends here and the client's next line is a new command */
        kind = (enum imap_cmd)s->cmd;
        s->in_command = false;
        s->lit_left[DIR_TO_SERVER] = 0;
    } else {
        kind = take(s, tag);
    }
    switch (kind) {
    case IMAP_CMD_LOGIN:
        if (s->sasl.is_active)
            sasl_emit_login(&s->sasl, "LOGIN", r, line, em);
        break;
    case IMAP_CMD_AUTHENTICATE:
        if (s->sasl.is_active)
            sasl_emit_login(&s->sasl, NULL, r, line, em);
        s->in_sasl = false;
        break;
    case IMAP_CMD_STARTTLS: /* RFC 9051 §6.2.1 */
        s->is_tls = dissect_starttls_reply(em, ok, line);
        break;
    default:
        break;
    }
}

static size_t imap_feed(void *st, enum dir d, const uint8_t *p, size_t n, const struct emitter *em)
{
    struct imap *s = st;
    size_t used = 0;
    while (used < n) {
        const uint8_t *q = p + used;
        size_t left = n - used;
        if (s->is_tls)
            return n;
        if (d == DIR_TO_CLIENT ? s->srv_lit_active : s->lit_left[d] > 0) {
            size_t k = s->lit_left[d] < left ? (size_t)s->lit_left[d] : left;
            if (d == DIR_TO_SERVER)
                client_literal(s, q, k);
            s->lit_left[d] -= k;
            used += k;
            if (d == DIR_TO_CLIENT && s->lit_left[d] == 0)
                server_literal_end(s, em);
            continue;
        }
        struct span line;
        size_t k;
        enum line_step step = line_step(&s->discard[d], d, q, left, DISSECT_LINE_MAX, &line, &k,
                                        em); /* [IMAP-LINE-OVERLONG] */
        if (step == STEP_MORE)
            break;
        used += k;
        if (step == STEP_SKIPPED)
            continue;
        if (d == DIR_TO_SERVER) {
            client_line(s, line, em);
        } else {
            /* a line right after a server literal continues its response */
            server_line(s, line, s->srv_in_resp, em);
            s->srv_in_resp = false;
        }
    }
    return used;
}

static void imap_gap(void *st, enum dir d, uint64_t n, const struct emitter *em)
{
    struct imap *s = st;
    if (s->is_tls)
        return;
    dissect_anomaly(em, d, EVA_GAP); /* [IMAP-GAP] */
    if (s->lit_left[d] > 0) {
        uint64_t k = n < s->lit_left[d] ? n : s->lit_left[d];
        s->lit_left[d] -= k;
        if (d == DIR_TO_CLIENT && s->lit_left[d] == 0)
            server_literal_end(s, em);
        if (k == n)
            return;
    }
    s->discard[d] = true;
    if (d == DIR_TO_SERVER)
        s->in_command = false;
}

static void imap_finish(void *st, const struct emitter *em)
{
    struct imap *s = st;
    /* the login still waiting for its answer: in the pending table, or being sent */
    int kind = -1;
    for (unsigned i = 0; i < s->n_pending; i++)
        if (s->pending[i].kind == IMAP_CMD_LOGIN || s->pending[i].kind == IMAP_CMD_AUTHENTICATE)
            kind = s->pending[i].kind;
    if (s->in_command && (s->cmd == IMAP_CMD_LOGIN || s->cmd == IMAP_CMD_AUTHENTICATE))
        kind = s->cmd;
    if (s->sasl.is_active && kind >= 0) {
        struct span none = {NULL, 0};
        sasl_emit_login(&s->sasl, kind == IMAP_CMD_LOGIN ? "LOGIN" : NULL, LOGIN_UNKNOWN, none, em);
    }
}

const struct dissector imap_dissector = {
    .name = "imap",
    .state_size = sizeof(struct imap),
    .init = imap_init,
    .feed = imap_feed,
    .gap = imap_gap,
    .finish = imap_finish,
};

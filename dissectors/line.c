/*
 * line.c — line splitting and span helpers for SMTP, POP3 and IMAP.
 *
 * Hazards: [LINE-OVERLONG] a line with no LF within max bytes is reported,
 * never buffered without bound.
 */
#include "line.h"

#include <string.h>

enum line_status line_next(const uint8_t *p, size_t n, size_t max, struct span *line, size_t *used)
{
    size_t lim = n < max ? n : max;
    const uint8_t *lf = memchr(p, '\n', lim);
    if (lf == NULL) {
        *used = 0;
        return n < max ? LINE_MORE : LINE_TOO_LONG; /* [LINE-OVERLONG] */
    }
    size_t len = (size_t)(lf - p);
    *used = len + 1;
    if (len > 0 && p[len - 1] == '\r')
        len--;
    line->p = p;
    line->n = len;
    return LINE_OK;
}

size_t line_discard(const uint8_t *p, size_t n, bool *done)
{
    const uint8_t *lf = memchr(p, '\n', n);
    *done = lf != NULL;
    return lf ? (size_t)(lf - p) + 1 : n;
}

size_t dot_body_scan(uint8_t *state, uint64_t *bytes, const uint8_t *p, size_t n, bool *done)
{
    static const uint8_t eod[5] = {'\r', '\n', '.', '\r', '\n'};
    uint8_t st = *state < 5 ? *state : 0;
    *done = false;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c == eod[st])
            st++;
        else
            st = c == '\r' ? 1 : 0;
        if (st == 5) {
            *bytes += i + 1;
            *bytes -= *bytes >= 3 ? 3 : *bytes;
            *state = 0;
            *done = true;
            return i + 1;
        }
    }
    *bytes += n;
    *state = st;
    return n;
}

void dissect_command(const struct emitter *em, struct span verb)
{
    struct event ev = {.type = EV_COMMAND, .dir = DIR_TO_SERVER, .u.text = verb};
    emit(em, &ev);
}

void dissect_anomaly(const struct emitter *em, enum dir d, enum ev_anomaly a)
{
    struct event ev = {.type = EV_ANOMALY, .dir = d, .u.anomaly = a};
    emit(em, &ev);
}

bool dissect_starttls_reply(const struct emitter *em, bool ok, struct span line)
{
    struct event ev = {.type = EV_STARTTLS_REPLY, .dir = DIR_TO_CLIENT};
    ev.u.reply.ok = ok;
    ev.u.reply.line = line;
    emit(em, &ev);
    if (ok) {
        struct event up = {.type = EV_UPGRADE, .dir = DIR_TO_CLIENT};
        emit(em, &up);
    }
    return ok;
}

enum line_step line_step(bool *discard, enum dir d, const uint8_t *p, size_t n, size_t max,
                         struct span *line, size_t *used, const struct emitter *em)
{
    if (*discard) {
        bool done;
        *used = line_discard(p, n, &done);
        *discard = !done;
        return STEP_SKIPPED;
    }
    enum line_status ls = line_next(p, n, max, line, used);
    if (ls == LINE_MORE)
        return STEP_MORE;
    if (ls == LINE_TOO_LONG) { /* [LINE-OVERLONG] */
        dissect_anomaly(em, d, EVA_LINE_TOO_LONG);
        *discard = true;
        *used = 0;
        return STEP_SKIPPED;
    }
    return STEP_LINE;
}

static uint8_t lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

bool span_starts(struct span s, const char *lit)
{
    size_t k = strlen(lit);
    if (s.n < k)
        return false;
    for (size_t i = 0; i < k; i++)
        if (lower(s.p[i]) != lower((uint8_t)lit[i]))
            return false;
    return true;
}

bool span_eq(struct span s, const char *lit)
{
    return s.n == strlen(lit) && span_starts(s, lit);
}

uint8_t span_at(struct span s, size_t i)
{
    return i < s.n ? s.p[i] : 0;
}

struct span span_word(struct span *s)
{
    size_t i = 0;
    while (i < s->n && (s->p[i] == ' ' || s->p[i] == '\t'))
        i++;
    size_t b = i;
    while (i < s->n && s->p[i] != ' ' && s->p[i] != '\t')
        i++;
    struct span w = {s->p + b, i - b};
    s->p += i;
    s->n -= i;
    return w;
}

struct span span_trim(struct span s)
{
    while (s.n > 0 && (s.p[0] == ' ' || s.p[0] == '\t')) {
        s.p++;
        s.n--;
    }
    while (s.n > 0 && (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\t'))
        s.n--;
    return s;
}

bool span_u64(struct span s, uint64_t *v)
{
    if (s.n == 0 || s.n > 19)
        return false;
    uint64_t r = 0;
    for (size_t i = 0; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return false;
        r = r * 10 + (uint64_t)(s.p[i] - '0');
    }
    *v = r;
    return true;
}

const char *ev_anomaly_name(enum ev_anomaly a)
{
    static const char *const names[EVA_COUNT] = {
        [EVA_LINE_TOO_LONG] = "line-too-long",
        [EVA_GAP] = "stream-gap",
        [EVA_BAD_REPLY] = "bad-reply",
        [EVA_BAD_BASE64] = "bad-base64",
        [EVA_TOO_MANY_PENDING] = "too-many-pending",
        [EVA_BAD_LITERAL] = "bad-literal",
        [EVA_TLS_NOT_TLS] = "tls-not-tls",
        [EVA_TLS_BAD_LENGTH] = "tls-bad-length",
        [EVA_TLS_HS_TOO_BIG] = "tls-handshake-too-big",
    };
    return (unsigned)a < EVA_COUNT ? names[a] : "?";
}

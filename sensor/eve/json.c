/*
 * json.c — JSON record builder. See json.h.
 *
 * Hazards: [JSON-OVERFLOW] every append checks the space left; a record that
 * does not fit is cut at a value boundary and marked, never overrun.
 */
#include "eve/json.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static void put(struct jbuf *j, const char *s, size_t n)
{
    if (j->is_full)
        return;
    /* [JSON-OVERFLOW] keep room for a quote, the closers and "}\n" */
    if (j->len + n + sizeof j->closers + 4 > sizeof j->buf) {
        j->is_full = true;
        j->len = j->mark; /* drop the member that did not fit */
        return;
    }
    memcpy(j->buf + j->len, s, n);
    j->len += n;
}

static void puts_(struct jbuf *j, const char *s)
{
    put(j, s, strlen(s));
}

static void key(struct jbuf *j, const char *k)
{
    j->mark = j->len;
    size_t kn = k != NULL ? strlen(k) : 0;
    size_t need = (j->need_comma ? 1 : 0) + (k != NULL ? kn + 3 : 0);
    if (j->is_full || j->len + need + sizeof j->closers + 4 > sizeof j->buf) {
        j->is_full = true; /* [JSON-OVERFLOW] the member is left out */
        return;
    }
    char *o = j->buf + j->len; /* written directly: this runs for every field */
    if (j->need_comma)
        *o++ = ',';
    if (k != NULL) {
        *o++ = '"';
        memcpy(o, k, kn);
        o += kn;
        *o++ = '"';
        *o++ = ':';
    }
    j->len = (size_t)(o - j->buf);
    j->need_comma = true;
}

void j_begin(struct jbuf *j)
{
    j->len = 0;
    j->is_full = false;
    j->need_comma = false;
    j->mark = 0;
    j->depth = 0;
    put(j, "{", 1);
}

void j_end(struct jbuf *j)
{
    /* put() always leaves room for these bytes */
    while (j->depth > 0)
        j->buf[j->len++] = j->closers[--j->depth];
    j->buf[j->len++] = '}';
    j->buf[j->len++] = '\n';
    j->buf[j->len] = '\0';
}

static void open_(struct jbuf *j, const char *k, char open, char close)
{
    key(j, k);
    if (j->is_full || j->depth >= sizeof j->closers) {
        if (!j->is_full)
            j->len = j->mark;
        j->is_full = true;
        return;
    }
    put(j, &open, 1);
    if (!j->is_full)
        j->closers[j->depth++] = close;
    j->need_comma = false;
}

static void close_(struct jbuf *j)
{
    if (j->is_full)
        return; /* j_end closes what is open */
    if (j->depth > 0) {
        put(j, &j->closers[j->depth - 1], 1);
        if (!j->is_full) { /* if it did not fit, j_end still closes this level */
            j->depth--;
            j->mark = j->len; /* a closer written stays written */
        }
    }
    j->need_comma = true;
}

void j_obj(struct jbuf *j, const char *k)
{
    open_(j, k, '{', '}');
}

void j_obj_end(struct jbuf *j)
{
    close_(j);
}

void j_arr(struct jbuf *j, const char *k)
{
    open_(j, k, '[', ']');
}

void j_arr_end(struct jbuf *j)
{
    close_(j);
}

/* Length of a valid UTF-8 sequence at s (RFC 3629), or 0. */
static size_t utf8_len(const uint8_t *s, size_t n)
{
    uint8_t c = s[0];
    size_t k;
    uint32_t min;
    if (c < 0x80)
        return 1;
    if ((c & 0xe0) == 0xc0) {
        k = 2;
        min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        k = 3;
        min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
        k = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    if (n < k)
        return 0;
    uint32_t cp = c & (0x7f >> k);
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return k;
}

void j_strn(struct jbuf *j, const char *k, const uint8_t *s, size_t n)
{
    key(j, k);
    put(j, "\"", 1);
    size_t i = 0;
    while (i < n && !j->is_full) {
        size_t run = i;
        while (run < n && s[run] >= 0x20 && s[run] < 0x7f && s[run] != '"' && s[run] != '\\')
            run++;
        if (run > i) { /* plain ASCII needs no escaping */
            put(j, (const char *)s + i, run - i);
            i = run;
            continue;
        }
        uint8_t c = s[i];
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            put(j, esc, 2);
            i++;
        } else if (c == '\n') {
            put(j, "\\n", 2);
            i++;
        } else if (c == '\r') {
            put(j, "\\r", 2);
            i++;
        } else if (c == '\t') {
            put(j, "\\t", 2);
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            put(j, esc, 6);
            i++;
        } else {
            size_t u = utf8_len(s + i, n - i);
            if (u == 0) { /* not UTF-8: keep the byte visible */
                snprintf(esc, sizeof esc, "\\u%04x", c);
                put(j, esc, 6);
                i++;
            } else {
                put(j, (const char *)s + i, u);
                i += u;
            }
        }
    }
    put(j, "\"", 1);
}

void j_str(struct jbuf *j, const char *k, const char *s)
{
    j_strn(j, k, (const uint8_t *)s, strlen(s));
}

/* Decimal digits of v, right-aligned in b[0..24); returns the first digit. */
static char *u64_digits(uint64_t v, char *end)
{
    char *p = end;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    return p;
}

void j_u64(struct jbuf *j, const char *k, uint64_t v)
{
    char b[24];
    char *p = u64_digits(v, b + sizeof b);
    key(j, k);
    put(j, p, (size_t)(b + sizeof b - p));
}

void j_i64(struct jbuf *j, const char *k, int64_t v)
{
    char b[24];
    uint64_t m = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    char *p = u64_digits(m, b + sizeof b);
    if (v < 0)
        *--p = '-';
    key(j, k);
    put(j, p, (size_t)(b + sizeof b - p));
}

void j_fixed(struct jbuf *j, const char *k, double v, int decimals)
{
    if (!isfinite(v) || decimals < 0 || decimals > 9 || v > 1e15 || v < -1e15) {
        j_null(j, k); /* JSON has no NaN or infinity; the bounds keep the text short */
        return;
    }
    char b[40];
    int n = snprintf(b, sizeof b, "%.*f", decimals, v);
    key(j, k);
    put(j, b, (size_t)n);
}

void j_bool(struct jbuf *j, const char *k, bool v)
{
    key(j, k);
    puts_(j, v ? "true" : "false");
}

void j_null(struct jbuf *j, const char *k)
{
    key(j, k);
    put(j, "null", 4);
}

void j_raw(struct jbuf *j, const char *k, const char *json, size_t n)
{
    key(j, k);
    put(j, json, n);
}

size_t j_utf8_len(const uint8_t *s, size_t n)
{
    return n > 0 ? utf8_len(s, n) : 0;
}

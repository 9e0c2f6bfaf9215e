/*
 * json.h — a JSON object builder into a fixed buffer (one record, one line).
 * Keys are trusted literals; string values are escaped (RFC 8259 §7) and
 * bytes that are not valid UTF-8 are written as \u00XX of the byte, so any
 * wire text becomes valid JSON. A member that does not fit is left out
 * whole and the record marked cut; what is open is closed by j_end.
 */
#ifndef POSTCARD_JSON_H
#define POSTCARD_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sensor-limits.h"

struct jbuf {
    char buf[JSON_LINE_MAX]; /* the record */
    size_t len;              /* bytes used */
    bool need_comma;         /* a value was written at this level */
    bool is_full;            /* something did not fit: record cut */
    size_t mark;             /* length before the member being written */
    unsigned depth;          /* open objects/arrays */
    char closers[16];        /* what closes each open level */
};

void j_begin(struct jbuf *j);                /* start a record: "{" */
void j_end(struct jbuf *j);                  /* close it: "}\n" */
void j_obj(struct jbuf *j, const char *key); /* "key":{ (key NULL inside arrays) */
void j_obj_end(struct jbuf *j);              /* } */
void j_arr(struct jbuf *j, const char *key); /* "key":[ */
void j_arr_end(struct jbuf *j);              /* ] */
void j_str(struct jbuf *j, const char *key, const char *s);
void j_strn(struct jbuf *j, const char *key, const uint8_t *s, size_t n);
void j_u64(struct jbuf *j, const char *key, uint64_t v);
void j_i64(struct jbuf *j, const char *key, int64_t v);
/* v with exactly `decimals` digits after the point (0 to 9), e.g. 0.012500; null when v is
 * not finite or beyond ±1e15. */
void j_fixed(struct jbuf *j, const char *key, double v, int decimals);
void j_bool(struct jbuf *j, const char *key, bool v);
void j_null(struct jbuf *j, const char *key);
/* A member whose value is already JSON text (n bytes, one line, valid: the caller's
 * promise); left out whole, and the record marked cut, when it does not fit. */
void j_raw(struct jbuf *j, const char *key, const char *json, size_t n);

/* Length of the valid UTF-8 sequence at s[0..n) (RFC 3629), or 0: for a writer of its own
 * that escapes strings the way j_strn does (summary.c). */
size_t j_utf8_len(const uint8_t *s, size_t n);

#endif

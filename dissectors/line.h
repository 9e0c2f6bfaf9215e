/*
 * line.h — lines of the text protocols (CRLF or bare LF).
 */
#ifndef POSTCARD_LINE_H
#define POSTCARD_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dissector.h"
#include "event.h"

enum line_status {
    LINE_OK,       /* *line holds a line without its CRLF; *used covers the LF */
    LINE_MORE,     /* no LF yet: offer these bytes again with more */
    LINE_TOO_LONG, /* no LF within max bytes: discard to the next LF */
};

enum line_status line_next(const uint8_t *p, size_t n, size_t max, struct span *line, size_t *used);

/* Discard up to and including the next LF; *done when it was found. Returns bytes used. */
size_t line_discard(const uint8_t *p, size_t n, bool *done);

enum line_step {
    STEP_LINE,    /* *line is the next line; *used covers it */
    STEP_MORE,    /* no whole line yet: offer these bytes again with more */
    STEP_SKIPPED, /* *used bytes were thrown away (rest of an over-long line) */
};

/*
 * One step of a text protocol's feed loop, for one direction: finish
 * discarding an over-long line (*discard), or take the next line. A line
 * longer than max starts discarding and is reported as EVA_LINE_TOO_LONG
 * from direction d. [LINE-OVERLONG]
 */
enum line_step line_step(bool *discard, enum dir d, const uint8_t *p, size_t n, size_t max,
                         struct span *line, size_t *used, const struct emitter *em);

/* The server answered STARTTLS/STLS: emit EV_STARTTLS_REPLY, and EV_UPGRADE
 * if it accepted. Returns ok (the caller then treats its bytes as TLS). */
bool dissect_starttls_reply(const struct emitter *em, bool ok, struct span line);

/* Emit EV_COMMAND for a client command (verb) that carries the session on in clear. */
void dissect_command(const struct emitter *em, struct span verb);

/* Emit an EV_ANOMALY event. */
void dissect_anomaly(const struct emitter *em, enum dir d, enum ev_anomaly a);

/*
 * Scan a dot-terminated body (SMTP DATA, POP3 multi-line) for CRLF.CRLF.
 * *state is the number of terminator bytes matched (start at 2: the line
 * before the body ended with CRLF); *bytes counts the body without the
 * final ".CRLF". Returns bytes used; *done when the terminator was seen.
 */
size_t dot_body_scan(uint8_t *state, uint64_t *bytes, const uint8_t *p, size_t n, bool *done);

/* Helpers over spans (case-insensitive ASCII). */
bool span_eq(struct span s, const char *lit);
bool span_starts(struct span s, const char *lit);
struct span span_word(struct span *s); /* next space-separated word; *s advances */
struct span span_trim(struct span s);
bool span_u64(struct span s, uint64_t *v); /* decimal, no sign, no overflow */
uint8_t span_at(struct span s, size_t i);  /* byte i, 0 if out of range */

#endif

/*
 * dissector.h — the contract between the sensor and a protocol dissector.
 *
 * A dissector is a pure state machine over one flow's reassembled bytes: no
 * I/O, no clock, no malloc, no globals. feed() consumes a prefix of what it
 * is offered and returns its length; the sensor offers the rest again with
 * new bytes appended. Whatever way a stream is split, the events are the
 * same. Hostile input yields EV_ANOMALY events, never an abort.
 */
#ifndef POSTCARD_DISSECTOR_H
#define POSTCARD_DISSECTOR_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

struct emitter {
    void (*emit)(void *ctx, const struct event *ev); /* called for each event */
    void *ctx;                                       /* passed back */
};

struct dissector {
    const char *name;  /* "smtp", "pop3", "imap" */
    size_t state_size; /* bytes the sensor allocates for the state */
    void (*init)(void *st);
    /* Consume a prefix of p[0..n) and return its length; the rest comes again. */
    size_t (*feed)(void *st, enum dir d, const uint8_t *p, size_t n, const struct emitter *em);
    /* n bytes of direction d were never seen. */
    void (*gap)(void *st, enum dir d, uint64_t n, const struct emitter *em);
    /* The flow ended: emit what is pending. */
    void (*finish)(void *st, const struct emitter *em);
    /* Free what the state holds besides itself, before the state is freed (NULL: nothing).
     * Called once for every state init was called on, whether finish was or not. */
    void (*release)(void *st);
};

extern const struct dissector smtp_dissector;
extern const struct dissector pop3_dissector;
extern const struct dissector imap_dissector;
extern const struct dissector tls_dissector;

/* Longest line a text protocol keeps; longer lines are discarded to the next LF. */
#define DISSECT_LINE_MAX 8192

static inline void emit(const struct emitter *em, const struct event *ev)
{
    em->emit(em->ctx, ev);
}

#endif

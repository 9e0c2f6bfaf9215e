/*
 * common.h — error reporting and allocation helpers shared by sensor/.
 */
#ifndef POSTCARD_COMMON_H
#define POSTCARD_COMMON_H

#include <stddef.h>
#include <stdint.h>

#define POSTCARD_VERSION "0.1.0"

struct err {
    char msg[256]; /* one line, no trailing newline */
};

/* Format a message into e (may be NULL) and return -1. */
int err_set(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Abort with a message when memory runs out: used at setup and per flow only. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);

/* Packet time: microseconds since the Unix epoch. */
typedef int64_t pc_time;

/* The wall clock (CLOCK_REALTIME) as pc_time: the clock of a live capture's timestamps. */
pc_time time_now(void);

/* Format t as ISO 8601 with microseconds and offset: 2024-01-02T03:04:05.123456+0000 */
void time_iso8601(pc_time t, char *buf, size_t n);

#endif

/*
 * common.c — error reporting, allocation and time formatting.
 */
#include "common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int err_set(struct err *e, const char *fmt, ...)
{
    if (e != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL) {
        fprintf(stderr, "postcard: out of memory (%zu bytes)\n", n);
        abort();
    }
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL) {
        fprintf(stderr, "postcard: out of memory (%zu x %zu bytes)\n", n, size);
        abort();
    }
    return p;
}

pc_time time_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (pc_time)t.tv_sec * 1000000 + (pc_time)(t.tv_nsec / 1000);
}

/* Write v as exactly `width` decimal digits (zero-padded). */
static char *put_digits(char *p, unsigned long v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + width;
}

void time_iso8601(pc_time t, char *buf, size_t n)
{
    int64_t sec = t / 1000000;
    int64_t usec = t % 1000000;
    if (usec < 0) {
        usec += 1000000;
        sec -= 1;
    }
    time_t tt = (time_t)sec;
    struct tm tm;
    if (n < 32)
        return;
    if (gmtime_r(&tt, &tm) == NULL || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) {
        snprintf(buf, n, "1970-01-01T00:00:00.000000+0000");
        return;
    }
    /* formatted by hand: this runs for every record */
    char *p = put_digits(buf, (unsigned long)(tm.tm_year + 1900), 4);
    *p++ = '-';
    p = put_digits(p, (unsigned long)tm.tm_mon + 1, 2);
    *p++ = '-';
    p = put_digits(p, (unsigned long)tm.tm_mday, 2);
    *p++ = 'T';
    p = put_digits(p, (unsigned long)tm.tm_hour, 2);
    *p++ = ':';
    p = put_digits(p, (unsigned long)tm.tm_min, 2);
    *p++ = ':';
    p = put_digits(p, (unsigned long)tm.tm_sec, 2);
    *p++ = '.';
    p = put_digits(p, (unsigned long)usec, 6);
    memcpy(p, "+0000", 6);
}

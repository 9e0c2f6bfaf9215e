/*
 * output.h — where JSON records go. Each output is one small object behind
 * this interface: the sensor hands it complete lines and never waits on it.
 */
#ifndef POSTCARD_OUTPUT_H
#define POSTCARD_OUTPUT_H

#include <stddef.h>

#include "common.h"

struct output {
    const char *name;                                            /* "stdout", a path, ... */
    int (*write)(struct output *o, const char *line, size_t n);  /* one record, '\n' ended */
    int (*flush)(struct output *o);                              /* push buffered records */
    void (*close)(struct output *o);                             /* flush and free */
    unsigned long long written;                                  /* records accepted */
    unsigned long long failed;                                   /* records that could not be written */
};

/* JSON lines to stdout (path NULL or "-") or appended to a file. */
struct output *out_file_open(const char *path, struct err *e);

#endif

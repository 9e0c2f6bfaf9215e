/*
 * output.h — where JSON records go. Each output is one small object behind
 * this interface: the sensor hands it complete lines and never waits on it.
 *
 *   sensor ─▶ tee (out-tee.c) ─▶ file / stdout (out-file.c)
 *                              └▶ Redis (out-redis.c: its own thread, queue, spool)
 *
 * Each output takes the record types in its `types` mask (e.g. Redis: alerts
 * and stats by default); the tee hands each record to those that take it.
 */
#ifndef POSTCARD_OUTPUT_H
#define POSTCARD_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "common.h"
#include "eve/json.h"

enum rec_type {
    REC_FLOW,    /* event_type "flow" */
    REC_MAIL,    /* "mail" */
    REC_TLS,     /* "tls" */
    REC_ALERT,   /* "alert" */
    REC_STATS,   /* "stats" */
    REC_SUMMARY, /* "summary" (--summary-interval, docs/summary.md) */
    REC_COUNT
};
#define REC_ALL ((1u << REC_COUNT) - 1)

const char *rec_type_name(enum rec_type t);
/* A comma-separated list of type names ("alert,stats") as a mask; 0 when a name is unknown. */
unsigned rec_types_parse(const char *list);

struct output {
    const char *name; /* "stdout", a path, "redis://host:port", ... */
    unsigned types;   /* bit (1u << enum rec_type) per record type it takes */
    /* One record, '\n' ended. Never blocks on a slow consumer. -1: this record could not be
     * written (counted in failed). */
    int (*write)(struct output *o, enum rec_type t, const char *line, size_t n);
    int (*flush)(struct output *o); /* push buffered records (may wait for a slow consumer) */
    /* Hand on what is buffered without waiting: called on a live capture's clock tick (at
     * least every second) so a reader of the output sees records on time. NULL: nothing to do. */
    int (*push)(struct output *o);
    /* SIGHUP: reopen files (logrotate). NULL: nothing to do. -1 with e set on failure. */
    int (*reopen)(struct output *o, struct err *e);
    /* Its counters as members of the object being built in j (the stats record). NULL: none. */
    void (*stats)(struct output *o, struct jbuf *j);
    /* Lines for the summary at exit, each starting with two spaces; called after the last
     * write, so an output may finish its work first. NULL: none. */
    void (*summary)(struct output *o, FILE *f);
    /* The next thing to tell at once, into e (one line, without "postcard: "): writing
     * started to fail, works again, the reader went away. false when nothing is left to tell
     * (has_news is then false). NULL: never anything. */
    bool (*news)(struct output *o, struct err *e);
    /* Flush what it can, free. 0, or -1 with e saying what could not be done (records
     * left in a spool, ...). A note that is not a failure may be left in e with 0. */
    int (*close)(struct output *o, struct err *e);
    /* The counters of the run's records. A record is written once it has arrived (a whole
     * line in the file); until then it is buffered; a record that cannot arrive is failed.
     * written + buffered + failed = records accepted. */
    unsigned long long written;  /* records that arrived */
    unsigned long long buffered; /* records held, neither written nor failed yet */
    unsigned long long failed;   /* records that could not be written */
    unsigned long long cut;      /* of failed: lost because the reader closed the output */
    bool has_news;               /* news() has something to tell: checked after each packet */
    bool is_gone; /* the reader closed the output (stdout, EPIPE): nothing more can be written,
                   * the run ends */
};

/* JSON lines to stdout (path NULL or "-") or appended to a file (reopened by reopen()), in
 * whole lines. is_live (a live capture): buffered records also go out on push() and at once
 * after an alert record; otherwise when the buffer is full, on flush() and at close().
 * A write that fails is told once (news()) and again when writing works again; stdout closed
 * by its reader sets is_gone. */
struct output *out_file_open(const char *path, bool is_live, struct err *e);

/* Every record to each of outs[0..n) that takes its type. The tee owns them. Its counters
 * (written, buffered, failed, cut) are those of outs[0], the output that takes every record
 * (stdout or -w FILE): the others tell their own in stats() and summary(). has_news and
 * is_gone: any of them. */
struct output *out_tee_new(struct output **outs, size_t n);
/* The tee's outputs (for counters). */
size_t out_tee_len(const struct output *tee);
struct output *out_tee_get(struct output *tee, size_t i);

#endif

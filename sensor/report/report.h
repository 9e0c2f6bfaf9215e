/*
 * report.h — `postcard report [-o DIR] SUMMARY.json...`: read summary
 * documents (schema 1, docs/report.md), merge them, write report.json,
 * report.md and report.html.
 *
 *   files ──jsonread.c──▶ trees ──report-merge.c: check, merge──▶ one tree
 *                                                                    │
 *        report.json ◀── jval_write ─────────────────────────────────┤
 *        report.md   ◀── report-doc.c (sections) ─ report-out.c (md) ─┤
 *        report.html ◀── report-doc.c (sections) ─ report-out.c (html)┘
 *                                        └── report-svg.c (charts, html only)
 *
 * report-view.c holds what the writers share: numbers as text, the orders
 * in which ports, versions and servers are listed, and the timeline.
 */
#ifndef POSTCARD_REPORT_H
#define POSTCARD_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common.h"
#include "report/jsonread.h"

/* The subcommand: argv[0] is "report". Returns the exit status (0, 1, 2). */
int report_main(int argc, char **argv);

/* ---- report-merge.c: the schema, checking, merging ----------------------- */

#define REPORT_SUMMARY_VERSION 1 /* the schema this postcard reads and writes */

/* What checking a document found: warnings as they come, the error at the end. */
struct report_diag {
    void (*warn)(void *ctx, uint32_t line, uint32_t col, const char *msg); /* may be NULL */
    void *ctx;                                                             /* for warn */
    struct jread_err err; /* the error, when report_check returns -1 */
};

/*
 * Check doc against schema 1 and bring it to its normal form: unknown keys
 * dropped (each a warning), every key of a fixed record present (0, "", [],
 * {}), "sensors" sorted without duplicates. A value of the wrong type is an
 * error with its position. Returns 0 or -1.
 */
int report_check(struct jval *doc, struct report_diag *d);

/*
 * Merge two checked documents into a new one the caller owns: counts added,
 * sensors united, first the earliest, last the latest, maps key by key.
 * a_name and b_name name the inputs in messages. NULL with e->msg set
 * ("b_name:line:col: message") when the two cannot be merged: one is
 * anonymized and the other is not, or a sum passes 2^64-1.
 */
struct jval *report_merge(const struct jval *a, const char *a_name, const struct jval *b,
                          const char *b_name, struct err *e);

/* An empty checked document: the identity of report_merge. */
struct jval *report_empty(void);

/* ---- report-view.c: what the writers share ------------------------------- */

uint64_t rv_u64(const struct jval *o, const char *key); /* o[key] as a count; 0 when absent */
const struct jval *rv_obj(const struct jval *o, const char *key); /* o[key] when an object */
uint64_t rv_sat_add(uint64_t a, uint64_t b);                      /* a + b, stopping at 2^64-1 */

void rv_count(char *buf, size_t n, uint64_t v);                  /* 1234567 -> "1,234,567" */
void rv_pct(char *buf, size_t n, uint64_t part, uint64_t whole); /* "23.4%"; "-" when whole is 0 */
double rv_share(uint64_t part, uint64_t whole); /* part / whole in [0, 1]; 0 when whole is 0 */

/* The members of map in a listing order, into out (room for map->obj.n). Returns how many. */
size_t rv_ports(const struct jval *map, const struct jmember **out); /* proto, then port number */
size_t rv_versions(const struct jval *map,
                   const struct jmember **out); /* SSLv2 .. TLSv1.3, then others */
size_t rv_weaknesses(const struct jval *map, const struct jmember **out); /* most serious first */
size_t rv_outcomes(const struct jval *map,
                   const struct jmember **out); /* implicit .. not-offered */
size_t rv_version_union(const struct jval *a, const struct jval *b, const struct jmember **out);
/* ^ the keys of two version maps (room for both), each once, in version order */
size_t rv_by_count(const struct jval *map, const char *field, const struct jmember **out);
/* ^ largest first, by the member's value (field NULL) or by its value's field; ties by key */

/* The colour class of a TLS version name: "old" (SSL, TLS 1.0/1.1), "ok" (1.2), "good" (1.3),
 * "unknown". */
const char *rv_version_class(const char *name);

/* One bar of the timeline, or one row of the hours table. */
struct rv_bucket {
    char label[24];        /* "2026-11-28T17" (an hour) or "2026-11-28" (a day); in a table,
                              the key as it was, cut: data, to be escaped */
    size_t label_n;        /* its length (a key may hold a NUL) */
    uint64_t sessions;     /* mail sessions ending in it */
    uint64_t cleartext;    /* of those, in cleartext */
    uint64_t starttls;     /* upgraded with STARTTLS */
    uint64_t implicit_tls; /* on an implicit-TLS port */
    uint64_t alerts;       /* alerts raised */
};

enum rv_timeline {
    RV_TABLE,    /* the hours present, or the days present when there are too many hours */
    RV_TIMELINE, /* every hour from the first to the last (empty ones too), or every day */
};

/*
 * The buckets of the "hours" map, in time order, in a new array the caller
 * frees (*out, possibly NULL when there are none). *by_day tells whether a
 * bucket is a day. Keys that are not "YYYY-MM-DDTHH" are left out of the
 * timeline (they stay in the table). Returns how many.
 */
size_t rv_timeline(const struct jval *hours, enum rv_timeline how, struct rv_bucket **out,
                   bool *by_day);

/* ---- report-out.c: Markdown and HTML behind one interface ---------------- */

enum rep_fmt {
    REP_MD,   /* report.md */
    REP_HTML, /* report.html */
};

#define REP_MAX_COLS 12 /* columns of the widest table */

struct rep_out {
    FILE *f;                   /* where it goes */
    enum rep_fmt fmt;          /* which syntax */
    unsigned cols;             /* columns of the table being written */
    unsigned col;              /* cells written in the current row */
    bool in_row;               /* a row is open */
    bool is_num[REP_MAX_COLS]; /* which columns hold numbers (right-aligned) */
};

void ro_heading(struct rep_out *o, int level, const char *id, const char *text); /* trusted text */
void ro_para_begin(struct rep_out *o);
void ro_para_end(struct rep_out *o);
void ro_text(struct rep_out *o, const char *trusted);    /* literal, not escaped */
void ro_str(struct rep_out *o, const char *s, size_t n); /* from the input: escaped */
void ro_printf(struct rep_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* ^ trusted format and numbers only: never a string from the input through %s */
void ro_table_begin(struct rep_out *o, unsigned cols, const char *const *heads);
/* ^ heads: trusted; a head starting with '>' is a number column (right-aligned), without the '>' */
void ro_cell(struct rep_out *o, const char *s, size_t n); /* text from the input: escaped */
void ro_cell_begin(struct rep_out *o); /* a cell written piece by piece with ro_text/ro_str */
void ro_cell_end(struct rep_out *o);
void ro_cell_text(struct rep_out *o, const char *trusted); /* literal, not escaped */
void ro_cell_count(struct rep_out *o, uint64_t v);
void ro_cell_pct(struct rep_out *o, uint64_t part, uint64_t whole);
void ro_table_end(struct rep_out *o);

/* HTML-escape s[0..n) to f: & < > " ' as entities, control bytes as U+FFFD. */
void ro_html_escape(FILE *f, const char *s, size_t n);

/* The whole report.md, or report.html (the sections of report-doc.c in a page). 0, or -1. */
int report_write_md(FILE *f, const struct jval *doc);
int report_write_html(FILE *f, const struct jval *doc);

/* ---- report-doc.c: the sections, shared by report.md and report.html ------ */

/* Called where a chart belongs (html only); which is "ports", "tls-versions", ... */
typedef void (*rep_chart_fn)(FILE *f, const struct jval *doc, const char *which);

void report_sections(struct rep_out *o, const struct jval *doc, rep_chart_fn chart);

/* ---- report-svg.c: the charts -------------------------------------------- */

/* The chart `which` as one inline <svg id="chart-WHICH"> inside a <figure>. */
void report_svg_chart(FILE *f, const struct jval *doc, const char *which);

#endif

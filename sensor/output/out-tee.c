/*
 * out-tee.c — one output in front of several: each record goes to every
 * output whose type mask takes it. The run's record counts (the summary's
 * records line, the stats record's outputs) are those of the first output,
 * stdout or -w FILE, which takes every record and counts a record written
 * only once its line is in the file; the others (Redis) tell their own
 * figures through stats() and summary(). Something to tell at once
 * (has_news) or an output whose reader went away (is_gone) is the tee's as
 * soon as it is any of its outputs'.
 */
#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "output/output.h"
#include "sensor-limits.h"

struct out_tee {
    struct output o;      /* the interface (first member) */
    size_t n;             /* outputs */
    struct output **outs; /* owned */
};

static const char *const REC_NAMES[REC_COUNT] = {"flow",  "mail",  "tls",
                                                 "alert", "stats", "summary"};

const char *rec_type_name(enum rec_type t)
{
    return (unsigned)t < REC_COUNT ? REC_NAMES[t] : "?";
}

unsigned rec_types_parse(const char *list)
{
    unsigned mask = 0;
    const char *p = list;
    while (*p != '\0') {
        size_t n = strcspn(p, ",");
        if (n == 3 && strncmp(p, "all", 3) == 0) {
            mask |= REC_ALL;
        } else {
            int t = -1;
            for (int i = 0; i < REC_COUNT; i++)
                if (strlen(REC_NAMES[i]) == n && strncmp(p, REC_NAMES[i], n) == 0)
                    t = i;
            if (t < 0)
                return 0;
            mask |= 1u << t;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return mask;
}

/* After every call: the first output's counts, and any output's news or departure. */
static void mirror(struct output *o, const struct out_tee *tee)
{
    if (tee->n == 0)
        return;
    const struct output *first = tee->outs[0];
    o->written = first->written;
    o->buffered = first->buffered;
    o->failed = first->failed;
    o->cut = first->cut;
    for (size_t i = 0; i < tee->n; i++) {
        o->has_news |= tee->outs[i]->has_news;
        o->is_gone |= tee->outs[i]->is_gone;
    }
}

static int tee_write(struct output *o, enum rec_type t, const char *line, size_t n)
{
    struct out_tee *tee = (struct out_tee *)o;
    int rc = 0;
    for (size_t i = 0; i < tee->n; i++) {
        struct output *x = tee->outs[i];
        if ((x->types & (1u << t)) && x->write(x, t, line, n) != 0)
            rc = -1;
    }
    mirror(o, tee);
    return rc;
}

static int tee_flush(struct output *o)
{
    struct out_tee *tee = (struct out_tee *)o;
    int rc = 0;
    for (size_t i = 0; i < tee->n; i++)
        if (tee->outs[i]->flush(tee->outs[i]) != 0)
            rc = -1;
    mirror(o, tee);
    return rc;
}

static int tee_push(struct output *o)
{
    struct out_tee *tee = (struct out_tee *)o;
    int rc = 0;
    for (size_t i = 0; i < tee->n; i++)
        if (tee->outs[i]->push != NULL && tee->outs[i]->push(tee->outs[i]) != 0)
            rc = -1;
    mirror(o, tee);
    return rc;
}

static int tee_reopen(struct output *o, struct err *e)
{
    struct out_tee *tee = (struct out_tee *)o;
    int rc = 0;
    for (size_t i = 0; i < tee->n; i++)
        if (tee->outs[i]->reopen != NULL && tee->outs[i]->reopen(tee->outs[i], e) != 0)
            rc = -1;
    mirror(o, tee);
    return rc;
}

static bool tee_news(struct output *o, struct err *e)
{
    struct out_tee *tee = (struct out_tee *)o;
    for (size_t i = 0; i < tee->n; i++) {
        struct output *x = tee->outs[i];
        if (x->has_news && x->news != NULL && x->news(x, e))
            return true;
        x->has_news = false; /* an output without news() has nothing to tell */
    }
    o->has_news = false;
    return false;
}

static void tee_stats(struct output *o, struct jbuf *j)
{
    struct out_tee *tee = (struct out_tee *)o;
    for (size_t i = 0; i < tee->n; i++)
        if (tee->outs[i]->stats != NULL)
            tee->outs[i]->stats(tee->outs[i], j);
}

static void tee_summary(struct output *o, FILE *f)
{
    struct out_tee *tee = (struct out_tee *)o;
    for (size_t i = 0; i < tee->n; i++)
        if (tee->outs[i]->summary != NULL)
            tee->outs[i]->summary(tee->outs[i], f);
}

static int tee_close(struct output *o, struct err *e)
{
    struct out_tee *tee = (struct out_tee *)o;
    int rc = 0;
    for (size_t i = 0; i < tee->n; i++) {
        struct err one = {""};
        if (tee->outs[i]->close(tee->outs[i], &one) != 0) {
            if (rc == 0) /* the first failure is what the caller is told */
                err_set(e, "%s", one.msg);
            rc = -1;
        } else if (one.msg[0] != '\0' && rc == 0 && e->msg[0] == '\0') {
            err_set(e, "%s", one.msg); /* a note */
        }
    }
    free(tee->outs);
    free(tee);
    return rc;
}

struct output *out_tee_new(struct output **outs, size_t n)
{
    assert(n <= OUT_TEE_MAX);
    struct out_tee *tee = xcalloc(1, sizeof *tee);
    tee->outs = xcalloc(n ? n : 1, sizeof *tee->outs);
    memcpy(tee->outs, outs, n * sizeof *outs);
    tee->n = n;
    tee->o.name = n > 0 ? outs[0]->name : "none";
    tee->o.types = REC_ALL;
    tee->o.write = tee_write;
    tee->o.flush = tee_flush;
    tee->o.push = tee_push;
    tee->o.reopen = tee_reopen;
    tee->o.news = tee_news;
    tee->o.stats = tee_stats;
    tee->o.summary = tee_summary;
    tee->o.close = tee_close;
    return &tee->o;
}

size_t out_tee_len(const struct output *o)
{
    return ((const struct out_tee *)o)->n;
}

struct output *out_tee_get(struct output *o, size_t i)
{
    return ((struct out_tee *)o)->outs[i];
}

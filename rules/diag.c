/*
 * diag.c — diagnostics of the rule loader: the bounded list of
 * "file:line:col: message" lines, "did you mean" by edit distance, and the
 * aborting allocators the loader uses (loading rules is setup: running out
 * of memory there ends the program, as xmalloc() does in sensor/).
 *
 * Hazards: [RULES-DIAG-FLOOD] a broken file can have a problem per line:
 * RULES_MAX_DIAG_LINES are kept, the rest only counted.
 * [RULES-SUGGEST-COST] the distance is O(n*m): words past
 * RULES_SUGGEST_MAX_WORD get no suggestion.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules-int.h"

/* ---- allocation ----------------------------------------------------------- */

static void rl_oom(size_t n)
{
    fprintf(stderr, "postcard: out of memory (rules: %zu bytes)\n", n);
    abort();
}

void *rl_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        rl_oom(n);
    return p;
}

void *rl_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL)
        rl_oom(n * size);
    return p;
}

void *rl_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL)
        rl_oom(n);
    return q;
}

char *rl_xstrndup(const char *s, size_t n)
{
    char *p = rl_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void rl_grow(void **p, size_t *cap, size_t need, size_t sz)
{
    if (need <= *cap)
        return;
    size_t c = *cap ? *cap : 8;
    while (c < need)
        c *= 2;
    *p = rl_xrealloc(*p, c * sz);
    *cap = c;
}

/* ---- one step's error ----------------------------------------------------- */

int rl_perr_set(struct rl_perr *pe, size_t off, const char *fmt, ...)
{
    if (pe->is_set) /* the first error is the one that explains the rest */
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pe->msg, sizeof pe->msg, fmt, ap);
    va_end(ap);
    pe->is_set = true;
    pe->off = off;
    return -1;
}

void rl_perr_warn(struct rl_perr *pe, size_t off, const char *fmt, ...)
{
    if (pe->n_warn >= RL_PERR_WARNINGS)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pe->warn[pe->n_warn], sizeof pe->warn[0], fmt, ap);
    va_end(ap);
    pe->warn_off[pe->n_warn++] = off;
}

/* ---- the diagnostic list --------------------------------------------------- */

void rule_diag_init(struct rule_diag *d)
{
    memset(d, 0, sizeof *d);
}

void rule_diag_free(struct rule_diag *d)
{
    if (d == NULL)
        return;
    free(d->text);
    memset(d, 0, sizeof *d);
}

const char *rule_diag_text(const struct rule_diag *d)
{
    return d->text ? d->text : "";
}

static void diag_append(struct rule_diag *d, const char *s, size_t n)
{
    void *p = d->text;
    rl_grow(&p, &d->cap, d->len + n + 1, 1);
    d->text = p;
    memcpy(d->text + d->len, s, n);
    d->len += n;
    d->text[d->len] = '\0';
}

void rl_diag_vadd(struct rule_diag *d, bool is_error, const char *file, uint32_t line, uint32_t col,
                  const char *fmt, va_list ap)
{
    if (is_error)
        d->errors++;
    else
        d->warnings++;
    if (d->n_kept >= RULES_MAX_DIAG_LINES) { /* [RULES-DIAG-FLOOD] */
        d->n_more++;
        char more[64];
        int m = snprintf(more, sizeof more, "... %u more\n", d->n_more);
        d->len = d->kept_len; /* rewrite the trailer */
        diag_append(d, more, (size_t)m);
        return;
    }
    char msg[RULES_MSG_BYTES];
    vsnprintf(msg, sizeof msg, fmt, ap);
    char head[64];
    if (line == 0)
        head[0] = '\0';
    else
        snprintf(head, sizeof head, ":%u:%u", line, col);
    const char *kind = is_error ? "" : "warning: ";
    diag_append(d, file, strlen(file));
    diag_append(d, head, strlen(head));
    diag_append(d, ": ", 2);
    diag_append(d, kind, strlen(kind));
    diag_append(d, msg, strlen(msg));
    diag_append(d, "\n", 1);
    d->kept_len = d->len;
    d->n_kept++;
}

void rl_diag_add(struct rule_diag *d, bool is_error, const char *file, uint32_t line, uint32_t col,
                 const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rl_diag_vadd(d, is_error, file, line, col, fmt, ap);
    va_end(ap);
}

/* ---- suggestions ---------------------------------------------------------- */

size_t rl_edit_distance(const char *a, size_t na, const char *b, size_t nb)
{
    /* Three rows of the optimal string alignment table: a swap looks two rows back. */
    size_t rows[3][RULES_SUGGEST_MAX_WORD + 1];
    if (na > RULES_SUGGEST_MAX_WORD || nb > RULES_SUGGEST_MAX_WORD) /* [RULES-SUGGEST-COST] */
        return (size_t)-1;
    size_t *pp = rows[0], *prev = rows[1], *cur = rows[2];
    for (size_t j = 0; j <= nb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= na; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= nb; j++) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t v = prev[j] + 1;
            if (cur[j - 1] + 1 < v)
                v = cur[j - 1] + 1;
            if (prev[j - 1] + cost < v)
                v = prev[j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && pp[j - 2] + 1 < v)
                v = pp[j - 2] + 1;
            cur[j] = v;
        }
        size_t *t = pp;
        pp = prev;
        prev = cur;
        cur = t;
    }
    return prev[nb];
}

const char *rl_suggest(const char *w, size_t n, const char *const *cands, size_t n_cands)
{
    const char *best = NULL;
    size_t best_d = RULES_SUGGEST_DISTANCE + 1;
    for (size_t i = 0; i < n_cands; i++) {
        if (cands[i] == NULL)
            continue;
        size_t d = rl_edit_distance(w, n, cands[i], strlen(cands[i]));
        if (d < best_d) { /* ties: the first in table order */
            best_d = d;
            best = cands[i];
        }
    }
    return best;
}

/*
 * fuzz-jsonread.c — the report's JSON reader (sensor/report/jsonread.c),
 * and what `postcard report` does with a document it accepts: the summary
 * schema's check (report-merge.c), the merge, the Markdown and HTML writers.
 *
 * The input: one JSON document, as a summary file (any bytes).
 *
 * Checked:
 *   - a refusal has a position (line and column from 1) and a message;
 *   - an accepted document written out (jval_write) reads back, and writes
 *     the same text again; a deep copy writes the same text;
 *   - a document the schema check accepts merges with the empty document,
 *     either side, into the same document (report_empty is the identity of
 *     report_merge), and both writers take it.
 */
#include "fuzz.h"
#include "report/jsonread.h"
#include "report/report.h"

/* v as text (jval_write into memory); the caller frees it. */
static char *text_of(const struct jval *v, size_t *n)
{
    char *p = NULL;
    FILE *f = open_memstream(&p, n);
    if (f == NULL)
        FUZZ_FAIL("open_memstream failed");
    if (jval_write(f, v) != 0)
        FUZZ_FAIL("jval_write failed");
    fclose(f);
    return p;
}

static void same(const char *what, const char *a, size_t an, const char *b, size_t bn)
{
    if (an != bn || memcmp(a, b, an) != 0)
        FUZZ_FAIL("%s: %zu bytes, then %zu bytes:\n%.*s\n---\n%.*s", what, an, bn,
                  (int)(an < 2000 ? an : 2000), a, (int)(bn < 2000 ? bn : 2000), b);
}

static void check_refusal(const struct jread_err *e)
{
    if (e->line < 1 || e->col < 1 || memchr(e->msg, '\0', sizeof e->msg) == NULL ||
        e->msg[0] == '\0' || strchr(e->msg, '\n') != NULL)
        FUZZ_FAIL("a refusal at %u:%u with the message \"%.*s\"", e->line, e->col,
                  (int)sizeof e->msg, e->msg);
}

static void writers(const struct jval *doc)
{
    char *p = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&p, &n);
    if (f == NULL)
        FUZZ_FAIL("open_memstream failed");
    if (report_write_md(f, doc) != 0 || report_write_html(f, doc) != 0)
        FUZZ_FAIL("a writer failed on a checked document");
    fclose(f);
    free(p);
}

/* The schema, the merge with the empty document, the writers. */
static void report(struct jval *doc)
{
    struct report_diag d = {0};
    if (report_check(doc, &d) != 0) {
        check_refusal(&d.err);
        return;
    }
    size_t n0, n1, n2;
    char *t0 = text_of(doc, &n0);
    struct jval *empty = report_empty();
    struct err e = {""};
    struct jval *m1 = report_merge(doc, "doc", empty, "empty", &e);
    struct jval *m2 = report_merge(empty, "empty", doc, "doc", &e);
    if (m1 == NULL || m2 == NULL)
        FUZZ_FAIL("a checked document does not merge with the empty one: %s", e.msg);
    char *t1 = text_of(m1, &n1);
    char *t2 = text_of(m2, &n2);
    same("doc + empty", t0, n0, t1, n1);
    same("empty + doc", t0, n0, t2, n2);
    writers(doc);
    free(t0);
    free(t1);
    free(t2);
    jval_free(m1);
    jval_free(m2);
    jval_free(empty);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct jread_err e;
    struct jval *doc = jsonread_parse((const char *)data, size, &e);
    if (doc == NULL) {
        check_refusal(&e);
        return 0;
    }
    size_t n1, n2, n3;
    char *t1 = text_of(doc, &n1);
    struct jval *back = jsonread_parse(t1, n1, &e);
    if (back == NULL)
        FUZZ_FAIL("a document written by jval_write does not read back: %u:%u: %s\n%.*s", e.line,
                  e.col, e.msg, (int)(n1 < 2000 ? n1 : 2000), t1);
    char *t2 = text_of(back, &n2);
    same("written, read back, written", t1, n1, t2, n2);
    struct jval copy;
    jval_copy(&copy, doc);
    char *t3 = text_of(&copy, &n3);
    same("a deep copy", t1, n1, t3, n3);
    jval_clear(&copy);
    report(doc);
    free(t1);
    free(t2);
    free(t3);
    jval_free(back);
    jval_free(doc);
    return 0;
}

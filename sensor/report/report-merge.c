/*
 * report-merge.c — the summary schema (version 1), checking a document
 * against it, and merging two documents.
 *
 * The schema is a table (below), walked by one checker and one merger, so
 * a new counter is one line here. Each node says how a value merges:
 *
 *   count       sum (a sum past 2^64-1 is refused, never wrapped)
 *   strset      sorted union                          (sensors)
 *   time-min    smallest non-empty string             (first)
 *   time-max    largest string                        (last)
 *   name        smallest non-empty string             (as.*.org)
 *   flag-equal  must be equal on both sides           (anonymized)
 *   record      fixed keys, each merged by its own rule
 *   map         keys from the data, united; a key missing on one side is 0
 *
 * Every rule is associative and commutative, so any grouping and any order
 * of the inputs gives the same document, and because counts are only ever
 * added, the counts of a merge are those one run over all the input would
 * have given. "as.*.org" is the one place that departs from the schema's
 * wording ("the first non-empty"): which input comes first is not a
 * property of the data, so the smallest non-empty name is kept instead; one
 * AS has one name in practice, so the two agree.
 *
 * Timestamps ("first", "last") compare as strings: the sensor writes them
 * in one fixed-width UTC form (2026-11-28T17:37:04.590299+0000), for which
 * byte order is time order.
 *
 * Hazards:
 *   [REPORT-OVERFLOW]   sums are checked; a document claiming 2^64-1 sessions cannot
 *                       make another's counts wrap
 *   [REPORT-ANON-MIX]   pseudonymised and real addresses are never merged into one
 *                       document: the servers map would hold both and mean neither
 *   [REPORT-UNKNOWN]    unknown keys are dropped with a warning, so a newer sensor's
 *                       summary still reads, and nothing unchecked reaches a writer
 *   [REPORT-PATH]       keys from the input appear in messages: printed with
 *                       non-printable bytes as '?', and cut, so a message stays one line
 */
#include "report/report.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

enum rs_kind {
    RS_VERSION,    /* the integer REPORT_SUMMARY_VERSION */
    RS_COUNT,      /* a non-negative integer: summed */
    RS_FLAG_EQUAL, /* a boolean that must agree between inputs */
    RS_STRSET,     /* an array of strings: united, sorted */
    RS_TIME_MIN,   /* a string: the smallest non-empty */
    RS_TIME_MAX,   /* a string: the largest */
    RS_NAME,       /* a string: the smallest non-empty */
    RS_RECORD,     /* an object with the keys of `fields` */
    RS_MAP,        /* an object with any keys, each value shaped as `item` */
};

struct rs_node;

struct rs_field {
    const char *key;            /* the key */
    const struct rs_node *node; /* its value's shape */
    bool is_optional;           /* left out when absent (countries, as: only with --geoip/--asn) */
};

struct rs_node {
    enum rs_kind kind;             /* the rule */
    const struct rs_field *fields; /* RS_RECORD: its keys */
    size_t n_fields;               /* how many */
    const struct rs_node *item;    /* RS_MAP: the shape of each value */
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static const struct rs_node n_version = {RS_VERSION, NULL, 0, NULL};
static const struct rs_node n_count = {RS_COUNT, NULL, 0, NULL};
static const struct rs_node n_flag = {RS_FLAG_EQUAL, NULL, 0, NULL};
static const struct rs_node n_strset = {RS_STRSET, NULL, 0, NULL};
static const struct rs_node n_tmin = {RS_TIME_MIN, NULL, 0, NULL};
static const struct rs_node n_tmax = {RS_TIME_MAX, NULL, 0, NULL};
static const struct rs_node n_name = {RS_NAME, NULL, 0, NULL};
static const struct rs_node n_counts = {RS_MAP, NULL, 0, &n_count};

static const struct rs_field f_totals[] = {
    {"sessions", &n_count, false},           {"bytes", &n_count, false},
    {"cleartext", &n_count, false},          {"starttls", &n_count, false},
    {"implicit_tls", &n_count, false},       {"cleartext_logins", &n_count, false},
    {"cleartext_messages", &n_count, false}, {"alerts", &n_count, false},
};
static const struct rs_node n_totals = {RS_RECORD, f_totals, N_OF(f_totals), NULL};

static const struct rs_field f_login[] = {
    {"cleartext", &n_count, false},
    {"protected", &n_count, false},
};
static const struct rs_node n_login = {RS_RECORD, f_login, N_OF(f_login), NULL};
static const struct rs_node n_logins = {RS_MAP, NULL, 0, &n_login};

static const struct rs_field f_port[] = {
    {"sessions", &n_count, false},
    {"bytes", &n_count, false},
    {"cleartext", &n_count, false},
    {"starttls", &n_count, false},
    {"implicit_tls", &n_count, false},
    {"starttls_outcome", &n_counts, false},
    {"logins", &n_logins, false},
    {"logins_not_listed", &n_count, false}, /* docs/summary.md: attempts past a session's 16 */
    {"cleartext_messages", &n_count, false},
};
static const struct rs_node n_port = {RS_RECORD, f_port, N_OF(f_port), NULL};
static const struct rs_node n_ports = {RS_MAP, NULL, 0, &n_port};

static const struct rs_field f_certs[] = {
    {"sessions_with_cert", &n_count, false}, {"expired", &n_count, false},
    {"expiring_30d", &n_count, false},       {"self_signed", &n_count, false},
    {"untrusted", &n_count, false},          {"weak_key", &n_count, false},
    {"weak_signature", &n_count, false},
};
static const struct rs_node n_certs = {RS_RECORD, f_certs, N_OF(f_certs), NULL};

static const struct rs_field f_tls[] = {
    {"sessions", &n_count, false}, {"client_max_version", &n_counts, false},
    {"version", &n_counts, false}, {"cipher_weakness", &n_counts, false},
    {"certs", &n_certs, false},
};
static const struct rs_node n_tls = {RS_RECORD, f_tls, N_OF(f_tls), NULL};

static const struct rs_field f_server[] = {
    {"alerts", &n_count, false},
    {"findings", &n_counts, false},
};
static const struct rs_node n_server = {RS_RECORD, f_server, N_OF(f_server), NULL};
static const struct rs_node n_servers = {RS_MAP, NULL, 0, &n_server};

static const struct rs_field f_country[] = {
    {"sessions", &n_count, false},
    {"cleartext", &n_count, false},
    {"alerts", &n_count, false},
};
static const struct rs_node n_country = {RS_RECORD, f_country, N_OF(f_country), NULL};
static const struct rs_node n_countries = {RS_MAP, NULL, 0, &n_country};

static const struct rs_field f_as[] = {
    {"org", &n_name, false},
    {"sessions", &n_count, false},
    {"cleartext", &n_count, false},
    {"alerts", &n_count, false},
};
static const struct rs_node n_as1 = {RS_RECORD, f_as, N_OF(f_as), NULL};
static const struct rs_node n_as = {RS_MAP, NULL, 0, &n_as1};

static const struct rs_field f_hour[] = {
    {"sessions", &n_count, false}, {"cleartext", &n_count, false},
    {"starttls", &n_count, false}, {"implicit_tls", &n_count, false},
    {"alerts", &n_count, false},
};
static const struct rs_node n_hour = {RS_RECORD, f_hour, N_OF(f_hour), NULL};
static const struct rs_node n_hours = {RS_MAP, NULL, 0, &n_hour};

static const struct rs_field f_root[] = {
    {"summary_version", &n_version, false},
    {"sensors", &n_strset, false},
    {"anonymized", &n_flag, false},
    {"first", &n_tmin, false},
    {"last", &n_tmax, false},
    {"totals", &n_totals, false},
    {"ports", &n_ports, false},
    {"tls", &n_tls, false},
    {"findings", &n_counts, false},
    {"servers", &n_servers, false},
    {"countries", &n_countries, true},
    {"as", &n_as, true},
    {"hours", &n_hours, false},
};
static const struct rs_node n_root = {RS_RECORD, f_root, N_OF(f_root), NULL};

/* ---- messages -------------------------------------------------------------- */

/* A path of keys for messages: "ports.smtp/25.sessions". [REPORT-PATH] */
struct rs_path {
    char s[96]; /* the path, NUL-terminated, cut when long */
    size_t n;   /* its length */
};

static size_t path_push(struct rs_path *p, const char *key, size_t klen)
{
    size_t was = p->n;
    if (p->n > 0 && p->n + 1 < sizeof p->s)
        p->s[p->n++] = '.';
    for (size_t i = 0; i < klen && p->n + 4 < sizeof p->s; i++) {
        unsigned char c = (unsigned char)key[i];
        p->s[p->n++] = (c >= 0x20 && c < 0x7f && c != '"') ? (char)c : '?';
    }
    if (klen > 0 && p->n + 4 >= sizeof p->s && p->n >= 3) /* cut: say so */
        memcpy(p->s + p->n - 3, "...", 3);
    p->s[p->n] = '\0';
    return was;
}

static void path_pop(struct rs_path *p, size_t was)
{
    p->n = was;
    p->s[was] = '\0';
}

static const char *type_name(const struct jval *v)
{
    switch (v->type) {
    case JV_NULL:
        return "null";
    case JV_BOOL:
        return "a boolean";
    case JV_INT:
        return "an integer";
    case JV_NUM:
        return "a number that is not a non-negative integer below 2^64";
    case JV_STR:
        return "a string";
    case JV_ARR:
        return "an array";
    case JV_OBJ:
        return "an object";
    }
    return "?";
}

static int check_fail(struct report_diag *d, const struct jval *at, const struct rs_path *p,
                      const char *expected)
{
    d->err.line = at->line;
    d->err.col = at->col;
    snprintf(d->err.msg, sizeof d->err.msg, "\"%s\": expected %s, found %s", p->s, expected,
             type_name(at));
    return -1;
}

/* ---- checking ------------------------------------------------------------------ */

static void set_default(struct jval *v, const struct rs_node *n)
{
    switch (n->kind) {
    case RS_VERSION:
    case RS_COUNT:
        v->type = JV_INT;
        v->u = n->kind == RS_VERSION ? REPORT_SUMMARY_VERSION : 0;
        break;
    case RS_FLAG_EQUAL:
        v->type = JV_BOOL;
        v->b = false;
        break;
    case RS_STRSET:
        v->type = JV_ARR;
        v->arr.v = NULL;
        v->arr.n = 0;
        break;
    case RS_TIME_MIN:
    case RS_TIME_MAX:
    case RS_NAME:
        v->type = JV_STR;
        v->str.s = xcalloc(1, 1);
        v->str.n = 0;
        break;
    case RS_RECORD:
    case RS_MAP:
        v->type = JV_OBJ;
        v->obj.m = NULL;
        v->obj.n = 0;
        if (n->kind == RS_RECORD) {
            v->obj.m = xcalloc(n->n_fields, sizeof *v->obj.m);
            for (size_t i = 0; i < n->n_fields; i++) {
                if (n->fields[i].is_optional)
                    continue;
                struct jmember *m = &v->obj.m[v->obj.n++];
                m->klen = strlen(n->fields[i].key);
                m->key = xmalloc(m->klen + 1);
                memcpy(m->key, n->fields[i].key, m->klen + 1);
                m->line = v->line;
                m->col = v->col;
                m->val.line = v->line;
                m->val.col = v->col;
                set_default(&m->val, n->fields[i].node);
            }
            jval_sort(v);
        }
        break;
    }
}

static const struct rs_field *field_of(const struct rs_node *n, const char *key, size_t klen)
{
    for (size_t i = 0; i < n->n_fields; i++)
        if (strlen(n->fields[i].key) == klen && memcmp(n->fields[i].key, key, klen) == 0)
            return &n->fields[i];
    return NULL;
}

static int str_cmp(const void *a, const void *b)
{
    const struct jval *x = a, *y = b;
    return jval_keycmp(x->str.s, x->str.n, y->str.s, y->str.n);
}

static int check_node(struct jval *v, const struct rs_node *n, struct rs_path *p,
                      struct report_diag *d);

static int check_record(struct jval *v, const struct rs_node *n, struct rs_path *p,
                        struct report_diag *d)
{
    size_t kept = 0;
    for (size_t i = 0; i < v->obj.n; i++) {
        struct jmember *m = &v->obj.m[i];
        const struct rs_field *f = field_of(n, m->key, m->klen);
        size_t was = path_push(p, m->key, m->klen);
        if (f == NULL) { /* [REPORT-UNKNOWN] */
            char msg[192];
            snprintf(msg, sizeof msg, "unknown key \"%s\" ignored", p->s);
            if (d->warn != NULL)
                d->warn(d->ctx, m->line, m->col, msg);
            path_pop(p, was);
            free(m->key);
            jval_clear(&m->val);
            continue;
        }
        int rc = check_node(&m->val, f->node, p, d);
        path_pop(p, was);
        if (rc != 0) {
            /* the members not yet looked at are still whole: keep them so the caller frees them */
            memmove(&v->obj.m[kept], m, (v->obj.n - i) * sizeof *m);
            v->obj.n = kept + (v->obj.n - i);
            return -1;
        }
        v->obj.m[kept++] = *m;
    }
    v->obj.n = kept;
    /* every non-optional key present, so readers and writers need no default */
    size_t missing = 0;
    for (size_t i = 0; i < n->n_fields; i++)
        if (!n->fields[i].is_optional &&
            jval_find(v, n->fields[i].key, strlen(n->fields[i].key)) == NULL)
            missing++;
    if (missing == 0)
        return 0;
    struct jmember *m = xcalloc(kept + missing, sizeof *m);
    if (kept > 0)
        memcpy(m, v->obj.m, kept * sizeof *m);
    for (size_t i = 0; i < n->n_fields; i++) {
        const struct rs_field *f = &n->fields[i];
        if (f->is_optional || jval_find(v, f->key, strlen(f->key)) != NULL)
            continue;
        struct jmember *nm = &m[kept++];
        nm->klen = strlen(f->key);
        nm->key = xmalloc(nm->klen + 1);
        memcpy(nm->key, f->key, nm->klen + 1);
        nm->line = v->line;
        nm->col = v->col;
        nm->val.line = v->line;
        nm->val.col = v->col;
        set_default(&nm->val, f->node);
    }
    free(v->obj.m);
    v->obj.m = m;
    v->obj.n = kept;
    jval_sort(v);
    return 0;
}

static int check_node(struct jval *v, const struct rs_node *n, struct rs_path *p,
                      struct report_diag *d)
{
    switch (n->kind) {
    case RS_VERSION:
        if (v->type != JV_INT)
            return check_fail(d, v, p, "the integer 1");
        if (v->u != REPORT_SUMMARY_VERSION) {
            d->err.line = v->line;
            d->err.col = v->col;
            snprintf(d->err.msg, sizeof d->err.msg,
                     "summary_version %" PRIu64 " is not supported (this postcard reads %d)", v->u,
                     REPORT_SUMMARY_VERSION);
            return -1;
        }
        return 0;
    case RS_COUNT:
        return v->type == JV_INT ? 0 : check_fail(d, v, p, "a non-negative integer");
    case RS_FLAG_EQUAL:
        return v->type == JV_BOOL ? 0 : check_fail(d, v, p, "true or false");
    case RS_TIME_MIN:
    case RS_TIME_MAX:
    case RS_NAME:
        return v->type == JV_STR ? 0 : check_fail(d, v, p, "a string");
    case RS_STRSET: {
        if (v->type != JV_ARR)
            return check_fail(d, v, p, "an array of strings");
        for (size_t i = 0; i < v->arr.n; i++)
            if (v->arr.v[i].type != JV_STR)
                return check_fail(d, &v->arr.v[i], p, "a string");
        if (v->arr.n > 1)
            qsort(v->arr.v, v->arr.n, sizeof *v->arr.v, str_cmp);
        size_t k = 0; /* the schema says unique: made so, quietly */
        for (size_t i = 0; i < v->arr.n; i++) {
            if (k > 0 && str_cmp(&v->arr.v[k - 1], &v->arr.v[i]) == 0)
                jval_clear(&v->arr.v[i]);
            else
                v->arr.v[k++] = v->arr.v[i];
        }
        v->arr.n = k;
        return 0;
    }
    case RS_RECORD:
        if (v->type != JV_OBJ)
            return check_fail(d, v, p, "an object");
        return check_record(v, n, p, d);
    case RS_MAP:
        if (v->type != JV_OBJ)
            return check_fail(d, v, p, "an object");
        for (size_t i = 0; i < v->obj.n; i++) {
            struct jmember *m = &v->obj.m[i];
            size_t was = path_push(p, m->key, m->klen);
            int rc = check_node(&m->val, n->item, p, d);
            path_pop(p, was);
            if (rc != 0)
                return -1;
        }
        return 0;
    }
    return -1;
}

int report_check(struct jval *doc, struct report_diag *d)
{
    struct rs_path p = {"", 0};
    if (doc->type != JV_OBJ) {
        d->err.line = doc->line;
        d->err.col = doc->col;
        snprintf(d->err.msg, sizeof d->err.msg, "not a summary: expected an object, found %s",
                 type_name(doc));
        return -1;
    }
    if (jval_find(doc, "summary_version", 15) == NULL) {
        d->err.line = doc->line;
        d->err.col = doc->col;
        snprintf(d->err.msg, sizeof d->err.msg, "not a summary: no \"summary_version\"");
        return -1;
    }
    struct jmember *t = jval_find(doc, "truncated", 9);
    if (t != NULL) { /* docs/summary.md: a record cut to fit JSON_LINE_MAX; said once, dropped */
        if (d->warn != NULL)
            d->warn(d->ctx, t->line, t->col,
                    "\"truncated\": a summary record that left maps out to fit; its totals "
                    "are exact, its maps are not (use the --summary file)");
        size_t at = (size_t)(t - doc->obj.m);
        free(t->key);
        jval_clear(&t->val);
        memmove(t, t + 1, (doc->obj.n - at - 1) * sizeof *t);
        doc->obj.n--;
    }
    return check_node(doc, &n_root, &p, d);
}

struct jval *report_empty(void)
{
    struct jval *v = xcalloc(1, sizeof *v);
    v->line = 1;
    v->col = 1;
    set_default(v, &n_root);
    return v;
}

/* ---- merging --------------------------------------------------------------------- */

struct merge_ctx {
    const char *a_name;  /* the first input, for messages */
    const char *b_name;  /* the second */
    struct err *e;       /* the message */
    struct rs_path path; /* where we are */
};

static const struct jval *smaller_nonempty(const struct jval *a, const struct jval *b)
{
    if (a->str.n == 0)
        return b;
    if (b->str.n == 0)
        return a;
    return str_cmp(a, b) <= 0 ? a : b;
}

static int merge_node(const struct jval *a, const struct jval *b, const struct rs_node *n,
                      struct jval *out, struct merge_ctx *c);

static int merge_members(const struct jval *a, const struct jval *b, const struct rs_node *n,
                         struct jval *out, struct merge_ctx *c)
{
    out->type = JV_OBJ;
    out->line = a->line;
    out->col = a->col;
    out->obj.m = xcalloc(a->obj.n + b->obj.n, sizeof *out->obj.m);
    out->obj.n = 0;
    size_t i = 0, k = 0;
    while (i < a->obj.n || k < b->obj.n) {
        const struct jmember *x = i < a->obj.n ? &a->obj.m[i] : NULL;
        const struct jmember *y = k < b->obj.n ? &b->obj.m[k] : NULL;
        int cmp = x == NULL ? 1 : y == NULL ? -1 : jval_keycmp(x->key, x->klen, y->key, y->klen);
        struct jmember *m = &out->obj.m[out->obj.n];
        const struct jmember *from = cmp <= 0 ? x : y;
        *m = *from;
        m->key = xmalloc(from->klen + 1);
        memcpy(m->key, from->key, from->klen + 1);
        if (cmp != 0) { /* on one side only: 0 on the other, so the value as it is */
            jval_copy(&m->val, &from->val);
            cmp < 0 ? i++ : k++;
            out->obj.n++;
            continue;
        }
        const struct rs_node *child = n->item;
        if (n->kind == RS_RECORD) {
            const struct rs_field *f = field_of(n, x->key, x->klen);
            child = f != NULL ? f->node : NULL;
        }
        size_t was = path_push(&c->path, x->key, x->klen);
        m->val.type = JV_NULL;
        out->obj.n++;
        int rc = child != NULL ? merge_node(&x->val, &y->val, child, &m->val, c) : -1;
        if (child == NULL)
            err_set(c->e, "%s:%u:%u: \"%s\" is not in the schema (document not checked)", c->b_name,
                    y->line, y->col, c->path.s);
        path_pop(&c->path, was);
        if (rc != 0)
            return -1;
        i++;
        k++;
    }
    return 0;
}

/* The type a checked document has for a node of this kind. */
static enum jv_type kind_type(enum rs_kind k)
{
    switch (k) {
    case RS_VERSION:
    case RS_COUNT:
        return JV_INT;
    case RS_FLAG_EQUAL:
        return JV_BOOL;
    case RS_STRSET:
        return JV_ARR;
    case RS_TIME_MIN:
    case RS_TIME_MAX:
    case RS_NAME:
        return JV_STR;
    case RS_RECORD:
    case RS_MAP:
        break;
    }
    return JV_OBJ;
}

static int merge_node(const struct jval *a, const struct jval *b, const struct rs_node *n,
                      struct jval *out, struct merge_ctx *c)
{
    out->type = JV_NULL;
    if (a->type != kind_type(n->kind) || b->type != kind_type(n->kind)) /* a bug: not checked */
        return err_set(c->e, "%s:%u:%u: \"%s\": not checked against the schema", c->b_name, b->line,
                       b->col, c->path.s);
    switch (n->kind) {
    case RS_VERSION:
    case RS_COUNT:
        *out = *a;
        if (a->u > UINT64_MAX - b->u) /* [REPORT-OVERFLOW] */
            return err_set(c->e, "%s:%u:%u: \"%s\": %" PRIu64 " + %" PRIu64 " passes 2^64-1",
                           c->b_name, b->line, b->col, c->path.s, a->u, b->u);
        if (n->kind == RS_COUNT)
            out->u = a->u + b->u;
        return 0;
    case RS_FLAG_EQUAL:
        *out = *a;
        if (a->b != b->b) /* [REPORT-ANON-MIX] */
            return err_set(c->e,
                           "%s:%u:%u: \"%s\" is %s here but %s in %s: pseudonymised and real "
                           "addresses cannot be merged",
                           c->b_name, b->line, b->col, c->path.s, b->b ? "true" : "false",
                           a->b ? "true" : "false", c->a_name);
        return 0;
    case RS_TIME_MIN:
    case RS_NAME:
        jval_copy(out, smaller_nonempty(a, b));
        return 0;
    case RS_TIME_MAX:
        jval_copy(out, str_cmp(a, b) >= 0 ? a : b);
        return 0;
    case RS_STRSET: {
        out->type = JV_ARR;
        out->line = a->line;
        out->col = a->col;
        out->arr.v = xcalloc(a->arr.n + b->arr.n, sizeof *out->arr.v);
        out->arr.n = 0;
        size_t i = 0, k = 0;
        while (i < a->arr.n || k < b->arr.n) {
            int cmp = i == a->arr.n ? 1 : k == b->arr.n ? -1 : str_cmp(&a->arr.v[i], &b->arr.v[k]);
            jval_copy(&out->arr.v[out->arr.n++], cmp <= 0 ? &a->arr.v[i] : &b->arr.v[k]);
            if (cmp <= 0)
                i++;
            if (cmp >= 0)
                k++;
        }
        return 0;
    }
    case RS_RECORD:
    case RS_MAP:
        return merge_members(a, b, n, out, c);
    }
    return -1;
}

struct jval *report_merge(const struct jval *a, const char *a_name, const struct jval *b,
                          const char *b_name, struct err *e)
{
    struct merge_ctx c = {a_name, b_name, e, {"", 0}};
    struct jval *out = xcalloc(1, sizeof *out);
    if (merge_node(a, b, &n_root, out, &c) != 0) {
        jval_free(out);
        return NULL;
    }
    return out;
}

/*
 * jsonread.c — recursive descent from JSON text (RFC 8259) to a tree, and
 * back. See jsonread.h.
 *
 *   value  = object / array / string / number / true / false / null
 *   object = "{" [ string ":" value *( "," string ":" value ) ] "}"   §4
 *   array  = "[" [ value *( "," value ) ] "]"                         §5
 *   number = [ "-" ] int [ frac ] [ exp ]                              §6
 *   string = quotation-mark *char quotation-mark                       §7
 *
 * The reader does no I/O: the caller hands it the whole document. Errors
 * are sticky (the first one wins) and carry the line and byte column where
 * the offending byte is; nothing is printed here.
 *
 * Hazards:
 *   [JSONREAD-DEPTH]      nesting is counted and refused past REPORT_JSON_MAX_DEPTH,
 *                         so hostile input cannot exhaust the stack
 *   [JSONREAD-VALUES]     values are counted and refused past REPORT_JSON_MAX_VALUES,
 *                         so 64 MiB of "[0,0,0..." cannot take gigabytes of tree
 *   [JSONREAD-TRUNCATED]  every read checks the end first: a document cut anywhere
 *                         is "unexpected end of input", never a read past it
 *   [JSONREAD-SURROGATE]  \uD800-\uDBFF must be followed by \uDC00-\uDFFF (RFC 8259 §7);
 *                         a lone half would become invalid UTF-8, so it is refused
 *   [JSONREAD-UTF8]       raw bytes in strings must be UTF-8 (RFC 8259 §8.1, RFC 3629:
 *                         no overlong forms, no surrogates, nothing past U+10FFFF)
 *   [JSONREAD-BIGNUM]     integers past 2^64-1 are JV_NUM, never a wrapped value
 *   [JSONREAD-DUPKEY]     a key given twice in one object is refused: which copy
 *                         counts would depend on the reader
 */
#include "report/jsonread.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "eve/json.h"
#include "sensor-limits.h"

struct jp {
    const unsigned char *p;          /* next byte */
    const unsigned char *end;        /* one past the last byte */
    const unsigned char *line_start; /* first byte of the current line */
    uint32_t line;                   /* current line, from 1 */
    unsigned depth;                  /* open arrays and objects */
    size_t values;                   /* values read so far */
    bool failed;                     /* e holds the first error */
    struct jread_err *e;             /* where errors go */
};

static void *grow(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL) {
        fprintf(stderr, "postcard: out of memory (%zu bytes)\n", n);
        abort();
    }
    return q;
}

__attribute__((format(printf, 3, 4))) static bool fail(struct jp *j, const unsigned char *at,
                                                       const char *fmt, ...)
{
    if (j->failed)
        return false;
    j->failed = true;
    j->e->line = j->line;
    j->e->col = (uint32_t)(at - j->line_start) + 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->e->msg, sizeof j->e->msg, fmt, ap);
    va_end(ap);
    return false;
}

/* A printable name for the byte at p, for messages. */
static const char *what(const struct jp *j, const unsigned char *p, char *buf, size_t n)
{
    if (p >= j->end)
        return "end of input";
    if (*p >= 0x21 && *p < 0x7f)
        snprintf(buf, n, "'%c'", *p);
    else
        snprintf(buf, n, "byte 0x%02x", *p);
    return buf;
}

static void skip_ws(struct jp *j)
{
    while (j->p < j->end) {
        unsigned char c = *j->p;
        if (c == '\n') {
            j->line++;
            j->line_start = ++j->p;
        } else if (c == ' ' || c == '\t' || c == '\r') {
            j->p++;
        } else {
            return;
        }
    }
}

static void set_pos(const struct jp *j, struct jval *v, const unsigned char *at)
{
    v->line = j->line;
    v->col = (uint32_t)(at - j->line_start) + 1;
}

static bool parse_value(struct jp *j, struct jval *v);

/* ---- strings ------------------------------------------------------------ */

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Four hex digits at p (p + 4 <= end checked by the caller), or -1. */
static long hex4(const unsigned char *p)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(p[i]);
        if (h < 0)
            return -1;
        v = v << 4 | h;
    }
    return v;
}

static size_t put_utf8(char *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* One \uXXXX escape (or a surrogate pair) at j->p, which points at the 'u'. */
static bool parse_u_escape(struct jp *j, char *o, size_t *on)
{
    const unsigned char *esc = j->p - 1;
    if (j->end - j->p < 5) /* [JSONREAD-TRUNCATED] */
        return fail(j, j->end, "unexpected end of input in a \\u escape");
    long cp = hex4(j->p + 1);
    if (cp < 0)
        return fail(j, esc, "\\u must be followed by four hex digits");
    j->p += 5;
    if (cp >= 0xdc00 && cp <= 0xdfff) /* [JSONREAD-SURROGATE] */
        return fail(j, esc, "\\u%04lx is the second half of a surrogate pair, alone", cp);
    if (cp >= 0xd800 && cp <= 0xdbff) {
        if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u')
            return fail(j, esc, "\\u%04lx must be followed by a \\uDC00-\\uDFFF escape", cp);
        long lo = hex4(j->p + 2);
        if (lo < 0xdc00 || lo > 0xdfff)
            return fail(j, j->p, "\\u%04lx must be followed by a \\uDC00-\\uDFFF escape", cp);
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        j->p += 6;
    }
    *on += put_utf8(o + *on, (uint32_t)cp);
    return true;
}

/*
 * A string at j->p (the opening quote), decoded into a new NUL-terminated
 * buffer. The decoded form is never longer than the text (every escape is at
 * least as long as the bytes it stands for), so one allocation of the text's
 * length is enough.
 */
static bool parse_string(struct jp *j, char **out, size_t *outn)
{
    const unsigned char *open = j->p++;
    const unsigned char *q = j->p;
    while (q < j->end && *q != '"') { /* find the end first, escapes skipped */
        if (*q == '\\' && j->end - q < 2) {
            q = j->end; /* a backslash as the last byte: nothing closes the string */
            break;
        }
        q += (*q == '\\') ? 2 : 1;
    }
    if (q >= j->end) /* [JSONREAD-TRUNCATED] */
        return fail(j, open, "string not closed before the end of input");
    char *o = grow(NULL, (size_t)(q - j->p) + 1);
    size_t on = 0;
    while (j->p < q) {
        unsigned char c = *j->p;
        if (c < 0x20) { /* RFC 8259 §7: control characters must be escaped */
            fail(j, j->p, "control character 0x%02x in a string (write it as \\u%04x)", c, c);
            goto bad;
        }
        if (c == '\\') {
            unsigned char e = j->p[1];
            j->p += 2;
            switch (e) {
            case '"':
            case '\\':
            case '/':
                o[on++] = (char)e;
                break;
            case 'b':
                o[on++] = '\b';
                break;
            case 'f':
                o[on++] = '\f';
                break;
            case 'n':
                o[on++] = '\n';
                break;
            case 'r':
                o[on++] = '\r';
                break;
            case 't':
                o[on++] = '\t';
                break;
            case 'u':
                j->p--;
                if (!parse_u_escape(j, o, &on))
                    goto bad;
                break;
            default:
                if (e >= 0x21 && e < 0x7f)
                    fail(j, j->p - 2, "unknown escape \\%c", e);
                else
                    fail(j, j->p - 2, "unknown escape: '\\' followed by byte 0x%02x", e);
                goto bad;
            }
        } else if (c < 0x80) {
            o[on++] = (char)c;
            j->p++;
        } else {
            size_t k = j_utf8_len(j->p, (size_t)(q - j->p)); /* c >= 0x80: 2..4 or 0 */
            if (k == 0) {                                    /* [JSONREAD-UTF8] */
                fail(j, j->p, "byte 0x%02x is not valid UTF-8 here", c);
                goto bad;
            }
            memcpy(o + on, j->p, k);
            on += k;
            j->p += k;
        }
    }
    if (j->p != q) { /* an escape ran into the closing quote: it was escaped, so not one */
        fail(j, open, "string not closed before the end of input");
        goto bad;
    }
    j->p = q + 1;
    o[on] = '\0';
    *out = o;
    *outn = on;
    return true;
bad:
    free(o);
    return false;
}

/* ---- numbers and literals ------------------------------------------------ */

static bool is_digit(const struct jp *j, const unsigned char *p)
{
    return p < j->end && *p >= '0' && *p <= '9';
}

static bool parse_number(struct jp *j, struct jval *v)
{
    const unsigned char *s = j->p;
    bool is_int = true, is_big = false;
    uint64_t u = 0;
    char b[16];
    if (*j->p == '-') {
        is_int = false;
        j->p++;
    }
    if (!is_digit(j, j->p)) /* [JSONREAD-TRUNCATED] */
        return fail(j, j->p, "expected a digit, found %s", what(j, j->p, b, sizeof b));
    if (*j->p == '0') {
        j->p++;
        if (is_digit(j, j->p)) /* RFC 8259 §6: no leading zeros */
            return fail(j, s, "a number may not start with 0 followed by digits");
    } else {
        while (is_digit(j, j->p)) {
            unsigned d = (unsigned)(*j->p++ - '0');
            if (u > (UINT64_MAX - d) / 10) /* [JSONREAD-BIGNUM] */
                is_big = true;
            else
                u = u * 10 + d;
        }
    }
    if (j->p < j->end && *j->p == '.') {
        is_int = false;
        j->p++;
        if (!is_digit(j, j->p))
            return fail(j, j->p, "expected a digit after '.', found %s",
                        what(j, j->p, b, sizeof b));
        while (is_digit(j, j->p))
            j->p++;
    }
    if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
        is_int = false;
        j->p++;
        if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
            j->p++;
        if (!is_digit(j, j->p))
            return fail(j, j->p, "expected a digit in the exponent, found %s",
                        what(j, j->p, b, sizeof b));
        while (is_digit(j, j->p))
            j->p++;
    }
    if (is_int && !is_big) {
        v->type = JV_INT;
        v->u = u;
    } else {
        v->type = JV_NUM;
    }
    return true;
}

static bool literal(struct jp *j, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
        return false;
    j->p += n;
    return true;
}

/* ---- arrays and objects --------------------------------------------------- */

static void free_members(struct jmember *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(m[i].key);
        jval_clear(&m[i].val);
    }
    free(m);
}

static void free_elements(struct jval *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        jval_clear(&v[i]);
    free(v);
}

static bool parse_array(struct jp *j, struct jval *v)
{
    struct jval *el = NULL;
    size_t n = 0, cap = 0;
    char b[16];
    j->p++; /* '[' */
    skip_ws(j);
    if (j->p < j->end && *j->p == ']') {
        j->p++;
        goto done;
    }
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 4;
            el = grow(el, cap * sizeof *el);
        }
        el[n].type = JV_NULL;
        if (!parse_value(j, &el[n]))
            goto bad;
        n++;
        skip_ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->end && *j->p == ']') {
            j->p++;
            break;
        }
        fail(j, j->p, "expected ',' or ']' in an array, found %s", what(j, j->p, b, sizeof b));
        goto bad;
    }
done:
    v->type = JV_ARR;
    v->arr.v = el;
    v->arr.n = n;
    return true;
bad:
    free_elements(el, n);
    return false;
}

static int member_cmp(const void *a, const void *b)
{
    const struct jmember *x = a, *y = b;
    return jval_keycmp(x->key, x->klen, y->key, y->klen);
}

/* Which of two members came later in the file. */
static const struct jmember *later(const struct jmember *a, const struct jmember *b)
{
    if (a->line != b->line)
        return a->line > b->line ? a : b;
    return a->col > b->col ? a : b;
}

static bool parse_object(struct jp *j, struct jval *v)
{
    struct jmember *m = NULL;
    size_t n = 0, cap = 0;
    char b[16];
    j->p++; /* '{' */
    skip_ws(j);
    if (j->p < j->end && *j->p == '}') {
        j->p++;
        goto done;
    }
    for (;;) {
        skip_ws(j);
        if (j->p >= j->end || *j->p != '"') {
            fail(j, j->p, "expected a string key, found %s", what(j, j->p, b, sizeof b));
            goto bad;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 4;
            m = grow(m, cap * sizeof *m);
        }
        struct jmember *mm = &m[n];
        mm->line = j->line;
        mm->col = (uint32_t)(j->p - j->line_start) + 1;
        if (!parse_string(j, &mm->key, &mm->klen))
            goto bad;
        mm->val.type = JV_NULL;
        n++;
        skip_ws(j);
        if (j->p >= j->end || *j->p != ':') {
            fail(j, j->p, "expected ':' after a key, found %s", what(j, j->p, b, sizeof b));
            goto bad;
        }
        j->p++;
        if (!parse_value(j, &mm->val))
            goto bad;
        skip_ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->end && *j->p == '}') {
            j->p++;
            break;
        }
        fail(j, j->p, "expected ',' or '}' in an object, found %s", what(j, j->p, b, sizeof b));
        goto bad;
    }
    if (n > 1)
        qsort(m, n, sizeof *m, member_cmp);
    for (size_t i = 1; i < n; i++) {
        if (member_cmp(&m[i - 1], &m[i]) == 0) { /* [JSONREAD-DUPKEY] */
            const struct jmember *d = later(&m[i - 1], &m[i]);
            j->failed = true;
            j->e->line = d->line;
            j->e->col = d->col;
            snprintf(j->e->msg, sizeof j->e->msg, "key given twice in one object");
            goto bad;
        }
    }
done:
    v->type = JV_OBJ;
    v->obj.m = m;
    v->obj.n = n;
    return true;
bad:
    free_members(m, n);
    return false;
}

static bool parse_value(struct jp *j, struct jval *v)
{
    char b[16];
    skip_ws(j);
    set_pos(j, v, j->p);
    if (++j->values > REPORT_JSON_MAX_VALUES) /* [JSONREAD-VALUES] */
        return fail(j, j->p, "more than %d values in one document", REPORT_JSON_MAX_VALUES);
    if (j->p >= j->end) /* [JSONREAD-TRUNCATED] */
        return fail(j, j->p, "unexpected end of input, a value was expected");
    bool ok;
    switch (*j->p) {
    case '{':
    case '[':
        if (j->depth >= REPORT_JSON_MAX_DEPTH) /* [JSONREAD-DEPTH] */
            return fail(j, j->p, "nested deeper than %d levels", REPORT_JSON_MAX_DEPTH);
        j->depth++;
        ok = *j->p == '{' ? parse_object(j, v) : parse_array(j, v);
        j->depth--;
        return ok;
    case '"': {
        char *s;
        size_t n;
        if (!parse_string(j, &s, &n))
            return false;
        v->type = JV_STR;
        v->str.s = s;
        v->str.n = n;
        return true;
    }
    case 't':
    case 'f':
        if (literal(j, "true")) {
            v->type = JV_BOOL;
            v->b = true;
            return true;
        }
        if (literal(j, "false")) {
            v->type = JV_BOOL;
            v->b = false;
            return true;
        }
        break;
    case 'n':
        if (literal(j, "null")) {
            v->type = JV_NULL;
            return true;
        }
        break;
    default:
        if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9'))
            return parse_number(j, v);
        break;
    }
    return fail(j, j->p, "expected a value, found %s", what(j, j->p, b, sizeof b));
}

struct jval *jsonread_parse(const char *text, size_t n, struct jread_err *e)
{
    struct jp j = {0};
    j.p = (const unsigned char *)text;
    j.end = j.p + n;
    j.line_start = j.p;
    j.line = 1;
    j.e = e;
    if (n > REPORT_JSON_MAX_BYTES) {
        fail(&j, j.p, "larger than %d MiB", REPORT_JSON_MAX_BYTES / (1024 * 1024));
        return NULL;
    }
    if (n >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) /* RFC 8259 §8.1: may be ignored */
        j.p += 3;
    struct jval *v = grow(NULL, sizeof *v);
    v->type = JV_NULL;
    if (!parse_value(&j, v)) {
        free(v);
        return NULL;
    }
    skip_ws(&j);
    if (j.p < j.end) {
        char b[16];
        fail(&j, j.p, "%s after the end of the document", what(&j, j.p, b, sizeof b));
        jval_free(v);
        return NULL;
    }
    return v;
}

/* ---- the tree ------------------------------------------------------------ */

void jval_clear(struct jval *v)
{
    if (v == NULL)
        return;
    if (v->type == JV_STR)
        free(v->str.s);
    else if (v->type == JV_ARR)
        free_elements(v->arr.v, v->arr.n);
    else if (v->type == JV_OBJ)
        free_members(v->obj.m, v->obj.n);
    v->type = JV_NULL;
}

void jval_free(struct jval *v)
{
    jval_clear(v);
    free(v);
}

static char *dup_bytes(const char *s, size_t n)
{
    char *d = grow(NULL, n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

void jval_copy(struct jval *dst, const struct jval *src)
{
    *dst = *src;
    if (src->type == JV_STR) {
        dst->str.s = dup_bytes(src->str.s, src->str.n);
    } else if (src->type == JV_ARR) {
        dst->arr.v = grow(NULL, src->arr.n * sizeof *dst->arr.v);
        for (size_t i = 0; i < src->arr.n; i++)
            jval_copy(&dst->arr.v[i], &src->arr.v[i]);
    } else if (src->type == JV_OBJ) {
        dst->obj.m = grow(NULL, src->obj.n * sizeof *dst->obj.m);
        for (size_t i = 0; i < src->obj.n; i++) {
            struct jmember *d = &dst->obj.m[i];
            const struct jmember *s = &src->obj.m[i];
            *d = *s;
            d->key = dup_bytes(s->key, s->klen);
            jval_copy(&d->val, &s->val);
        }
    }
}

int jval_keycmp(const char *a, size_t an, const char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    if (c != 0)
        return c;
    return an < bn ? -1 : an > bn;
}

struct jmember *jval_find(const struct jval *o, const char *key, size_t klen)
{
    if (o == NULL || o->type != JV_OBJ)
        return NULL;
    size_t lo = 0, hi = o->obj.n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        struct jmember *m = &o->obj.m[mid];
        int c = jval_keycmp(m->key, m->klen, key, klen);
        if (c == 0)
            return m;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const struct jval *jval_get(const struct jval *o, const char *key)
{
    const struct jmember *m = jval_find(o, key, strlen(key));
    return m != NULL ? &m->val : NULL;
}

void jval_sort(struct jval *o)
{
    if (o->type == JV_OBJ && o->obj.n > 1)
        qsort(o->obj.m, o->obj.n, sizeof *o->obj.m, member_cmp);
}

/* ---- writing -------------------------------------------------------------- */

static void write_str(FILE *f, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    putc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            putc('\\', f);
            putc(c, f);
        } else if (c == '\n') {
            fputs("\\n", f);
        } else if (c == '\r') {
            fputs("\\r", f);
        } else if (c == '\t') {
            fputs("\\t", f);
        } else if (c < 0x20 || c == 0x7f) { /* strings are valid UTF-8: the rest goes as is */
            fputs("\\u00", f);
            putc(hex[c >> 4], f);
            putc(hex[c & 15], f);
        } else {
            putc(c, f);
        }
    }
    putc('"', f);
}

static void indent(FILE *f, unsigned level)
{
    putc('\n', f);
    for (unsigned i = 0; i < level; i++)
        fputs("  ", f);
}

static void write_val(FILE *f, const struct jval *v, unsigned level)
{
    switch (v->type) {
    case JV_NULL:
    case JV_NUM: /* the reader keeps no value for these; the report never writes one */
        fputs("null", f);
        break;
    case JV_BOOL:
        fputs(v->b ? "true" : "false", f);
        break;
    case JV_INT:
        fprintf(f, "%" PRIu64, v->u);
        break;
    case JV_STR:
        write_str(f, v->str.s, v->str.n);
        break;
    case JV_ARR:
        putc('[', f);
        for (size_t i = 0; i < v->arr.n; i++) {
            if (i)
                putc(',', f);
            indent(f, level + 1);
            write_val(f, &v->arr.v[i], level + 1);
        }
        if (v->arr.n)
            indent(f, level);
        putc(']', f);
        break;
    case JV_OBJ:
        putc('{', f);
        for (size_t i = 0; i < v->obj.n; i++) {
            if (i)
                putc(',', f);
            indent(f, level + 1);
            write_str(f, v->obj.m[i].key, v->obj.m[i].klen);
            fputs(": ", f);
            write_val(f, &v->obj.m[i].val, level + 1);
        }
        if (v->obj.n)
            indent(f, level);
        putc('}', f);
        break;
    }
}

int jval_write(FILE *f, const struct jval *v)
{
    write_val(f, v, 0);
    putc('\n', f);
    return ferror(f) ? -1 : 0;
}

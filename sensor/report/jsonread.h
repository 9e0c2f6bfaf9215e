/*
 * jsonread.h — a bounded JSON reader (RFC 8259) into a tree, and the tree's
 * writer. Used by `postcard report` to read summary documents, which may come
 * from anywhere: every limit is in limits.h (REPORT_JSON_*), and a document
 * past one is an error with its line and column, never a crash.
 *
 * The tree: every object's members are sorted by key (byte order) when read,
 * so lookups are binary searches, merges walk two objects in step, and
 * writing a tree gives keys in sorted order. A key given twice is an error.
 * Strings carry their length (a \u0000 escape is a NUL byte inside one) and
 * are always valid UTF-8: the reader refuses anything else.
 *
 * Numbers: a non-negative integer without fraction or exponent that fits in
 * 64 bits is a JV_INT with its value; any other number (negative, fraction,
 * exponent, too large) is a JV_NUM, which keeps only that it was a number:
 * the summary schema has no use for one and says so with the position.
 */
#ifndef POSTCARD_JSONREAD_H
#define POSTCARD_JSONREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum jv_type {
    JV_NULL,
    JV_BOOL,
    JV_INT, /* non-negative integer that fits in uint64_t */
    JV_NUM, /* any other number: negative, fraction, exponent, or past 2^64-1 */
    JV_STR,
    JV_ARR,
    JV_OBJ,
};

struct jmember;

struct jval {
    enum jv_type type; /* which member of the union holds the value */
    uint32_t line;     /* where the value starts in its file, from 1 */
    uint32_t col;      /* column of that, in bytes, from 1 */
    union {
        bool b;     /* JV_BOOL */
        uint64_t u; /* JV_INT */
        struct {
            char *s;  /* NUL-terminated copy; may hold NULs itself */
            size_t n; /* bytes, without the terminator */
        } str;        /* JV_STR */
        struct {
            struct jval *v; /* elements, in order */
            size_t n;       /* how many */
        } arr;              /* JV_ARR */
        struct {
            struct jmember *m; /* members sorted by key, keys unique */
            size_t n;          /* how many */
        } obj;                 /* JV_OBJ */
    };
};

struct jmember {
    char *key;       /* NUL-terminated copy; may hold NULs itself */
    size_t klen;     /* bytes of key */
    uint32_t line;   /* where the key starts */
    uint32_t col;    /* its column */
    struct jval val; /* the value */
};

/* Where reading failed, and why. */
struct jread_err {
    uint32_t line; /* from 1 */
    uint32_t col;  /* in bytes, from 1 */
    char msg[256]; /* no file name, no position, no newline */
};

/*
 * Read one JSON document from text[0..n) (a UTF-8 byte order mark is
 * skipped). Returns a tree the caller owns (jval_free), or NULL with e
 * filled. Never reads past text + n.
 */
struct jval *jsonread_parse(const char *text, size_t n, struct jread_err *e);

void jval_free(struct jval *v);  /* the tree from jsonread_parse or jval_copy; NULL is fine */
void jval_clear(struct jval *v); /* frees what v holds and makes it JV_NULL (v itself stays) */
void jval_copy(struct jval *dst, const struct jval *src); /* deep copy into dst (overwritten) */

/* Comparison of two keys in byte order (shorter first on a common prefix). */
int jval_keycmp(const char *a, size_t an, const char *b, size_t bn);

/* The member of object o named key (a C string), or NULL (also when o is not an object). */
const struct jval *jval_get(const struct jval *o, const char *key);
struct jmember *jval_find(const struct jval *o, const char *key, size_t klen);

/* Sort o's members by key again after members were added or removed. */
void jval_sort(struct jval *o);

/*
 * Write v as JSON to f: two-space indentation, members in their (sorted)
 * order, strings escaped per RFC 8259 §7. Returns 0, or -1 when f failed.
 */
int jval_write(FILE *f, const struct jval *v);

#endif

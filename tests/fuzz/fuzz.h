/*
 * fuzz.h — what every fuzz target shares: reading its input a field at a
 * time, exact-size copies, and failing loudly.
 *
 * Each target is one LLVMFuzzerTestOneInput(data, size). The same file is
 * linked with libFuzzer (clang, `make fuzz`) and with replay.c (gcc under
 * ASan+UBSan, `make test`), so a finding kept in tests/fuzz/corpus/<target>/
 * is replayed by every test run from then on.
 *
 * A check that fails calls FUZZ_FAIL: the message on stderr, then abort(),
 * which libFuzzer reports as a crash (and saves the input) and replay.c as
 * a failed target.
 */
#ifndef POSTCARD_FUZZ_H
#define POSTCARD_FUZZ_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_FAIL(...)                                                                             \
    do {                                                                                           \
        fprintf(stderr, "fuzz: %s:%d: ", __FILE__, __LINE__);                                      \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fprintf(stderr, "\n");                                                                     \
        abort();                                                                                   \
    } while (0)

/* The input, read front to back; reads past its end give zeros and short takes. */
struct fuzz_in {
    const uint8_t *p; /* next byte */
    size_t n;         /* bytes left */
};

static inline uint8_t fin_u8(struct fuzz_in *in)
{
    if (in->n == 0)
        return 0;
    in->n--;
    return *in->p++;
}

static inline uint16_t fin_be16(struct fuzz_in *in)
{
    uint16_t hi = fin_u8(in);
    return (uint16_t)(hi << 8 | fin_u8(in));
}

static inline uint32_t fin_be32(struct fuzz_in *in)
{
    uint32_t hi = fin_be16(in);
    return hi << 16 | fin_be16(in);
}

/* Up to want bytes: *p points at them, the return says how many there were. */
static inline size_t fin_take(struct fuzz_in *in, size_t want, const uint8_t **p)
{
    size_t k = want < in->n ? want : in->n;
    *p = in->p;
    in->p += k;
    in->n -= k;
    return k;
}

/* A malloc'ed copy of exactly n bytes (ASan catches a read one past them). */
static inline uint8_t *fuzz_copy(const uint8_t *p, size_t n)
{
    uint8_t *b = malloc(n ? n : 1);
    if (b == NULL)
        FUZZ_FAIL("out of memory");
    if (n > 0)
        memcpy(b, p, n);
    return b;
}

/* The same as a NUL-terminated string (the bytes may hold NULs of their own). */
static inline char *fuzz_strndup(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s == NULL)
        FUZZ_FAIL("out of memory");
    if (n > 0)
        memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* splitmix64: the cuts a seed byte stands for, the same on every machine. */
static inline uint32_t fuzz_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return (uint32_t)((z ^ (z >> 31)) >> 32);
}

/* A growing byte string (event logs, records). */
struct fuzz_buf {
    char *p;    /* bytes (NUL-terminated when len < cap) */
    size_t len; /* bytes used */
    size_t cap; /* bytes allocated */
};

static inline void fbuf_put(struct fuzz_buf *b, const void *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (b->len + n + 1 > cap)
            cap *= 2;
        char *q = realloc(b->p, cap);
        if (q == NULL)
            FUZZ_FAIL("out of memory");
        b->p = q;
        b->cap = cap;
    }
    if (n > 0)
        memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
}

__attribute__((format(printf, 2, 3))) static inline void fbuf_printf(struct fuzz_buf *b,
                                                                     const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= sizeof tmp)
        FUZZ_FAIL("log line too long");
    fbuf_put(b, tmp, (size_t)k);
}

static inline void fbuf_free(struct fuzz_buf *b)
{
    free(b->p);
    *b = (struct fuzz_buf){0};
}

#endif

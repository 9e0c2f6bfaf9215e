/*
 * cursor.h — bounds-checked readers over untrusted bytes.
 *
 * Every read of wire bytes goes through a cursor. A read past the end
 * returns 0, sets `bad` and empties the cursor, so a chain of reads can be
 * checked once at the end ("sticky" error, as in tcpdump's GET_ macros).
 * No struct casts, no unaligned loads: bytes are assembled one by one.
 *
 * Hazards: [CUR-OVERREAD] every getter checks `left` before touching p.
 */
#ifndef POSTCARD_CURSOR_H
#define POSTCARD_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cursor {
    const uint8_t *p; /* next unread byte */
    size_t left;      /* bytes remaining after p */
    bool bad;         /* a read ran past the end (sticky) */
};

static inline struct cursor cur_make(const uint8_t *p, size_t n)
{
    struct cursor c = {p, n, false};
    return c;
}

static inline bool cur_need(struct cursor *c, size_t n)
{
    if (c->bad || c->left < n) { /* [CUR-OVERREAD] */
        c->bad = true;
        c->left = 0;
        return false;
    }
    return true;
}

static inline uint8_t cur_u8(struct cursor *c)
{
    if (!cur_need(c, 1))
        return 0;
    uint8_t v = c->p[0];
    c->p += 1;
    c->left -= 1;
    return v;
}

static inline uint16_t cur_be16(struct cursor *c)
{
    if (!cur_need(c, 2))
        return 0;
    uint16_t v = (uint16_t)((uint16_t)c->p[0] << 8 | c->p[1]);
    c->p += 2;
    c->left -= 2;
    return v;
}

static inline uint16_t cur_le16(struct cursor *c)
{
    if (!cur_need(c, 2))
        return 0;
    uint16_t v = (uint16_t)((uint16_t)c->p[1] << 8 | c->p[0]);
    c->p += 2;
    c->left -= 2;
    return v;
}

static inline uint32_t cur_be24(struct cursor *c)
{
    if (!cur_need(c, 3))
        return 0;
    uint32_t v = (uint32_t)c->p[0] << 16 | (uint32_t)c->p[1] << 8 | c->p[2];
    c->p += 3;
    c->left -= 3;
    return v;
}

static inline uint32_t cur_be32(struct cursor *c)
{
    if (!cur_need(c, 4))
        return 0;
    uint32_t v =
        (uint32_t)c->p[0] << 24 | (uint32_t)c->p[1] << 16 | (uint32_t)c->p[2] << 8 | c->p[3];
    c->p += 4;
    c->left -= 4;
    return v;
}

static inline uint32_t cur_le32(struct cursor *c)
{
    if (!cur_need(c, 4))
        return 0;
    uint32_t v =
        (uint32_t)c->p[3] << 24 | (uint32_t)c->p[2] << 16 | (uint32_t)c->p[1] << 8 | c->p[0];
    c->p += 4;
    c->left -= 4;
    return v;
}

/* Skip n bytes. */
static inline void cur_skip(struct cursor *c, size_t n)
{
    if (!cur_need(c, n))
        return;
    c->p += n;
    c->left -= n;
}

/* Copy n bytes out. */
static inline void cur_copy(struct cursor *c, void *dst, size_t n)
{
    if (!cur_need(c, n))
        return;
    for (size_t i = 0; i < n; i++)
        ((uint8_t *)dst)[i] = c->p[i];
    c->p += n;
    c->left -= n;
}

/* Peek at byte i without consuming; 0 and no error if out of range. */
static inline uint8_t cur_peek(const struct cursor *c, size_t i)
{
    return (!c->bad && i < c->left) ? c->p[i] : 0;
}

/* Split off the next n bytes as a sub-cursor and advance past them. */
static inline struct cursor cur_sub(struct cursor *c, size_t n)
{
    struct cursor s = {c->p, 0, true};
    if (!cur_need(c, n))
        return s;
    s.left = n;
    s.bad = false;
    c->p += n;
    c->left -= n;
    return s;
}

#endif

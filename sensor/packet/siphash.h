/*
 * siphash.h — SipHash (Aumasson and Bernstein, "SipHash: a fast short-input
 * PRF", 2012): a keyed hash whose collisions an attacker cannot aim without
 * the key. The flow table keys it from the run's random seed and uses
 * SipHash-1-3 (one compression round, three finalisation rounds, the choice of
 * Python and Rust's hash tables); SipHash-2-4, the paper's, is what the test
 * vectors check the rounds with.
 */
#ifndef POSTCARD_SIPHASH_H
#define POSTCARD_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

static inline uint64_t sip_rotl(uint64_t x, int b)
{
    return (x << b) | (x >> (64 - b));
}

#define SIP_ROUND(v0, v1, v2, v3)                                                                  \
    do {                                                                                           \
        v0 += v1;                                                                                  \
        v1 = sip_rotl(v1, 13);                                                                     \
        v1 ^= v0;                                                                                  \
        v0 = sip_rotl(v0, 32);                                                                     \
        v2 += v3;                                                                                  \
        v3 = sip_rotl(v3, 16);                                                                     \
        v3 ^= v2;                                                                                  \
        v0 += v3;                                                                                  \
        v3 = sip_rotl(v3, 21);                                                                     \
        v3 ^= v0;                                                                                  \
        v2 += v1;                                                                                  \
        v1 = sip_rotl(v1, 17);                                                                     \
        v1 ^= v2;                                                                                  \
        v2 = sip_rotl(v2, 32);                                                                     \
    } while (0)

/* SipHash-c-d of p[0..n) under the key (k0, k1): the key's bytes 0-7 and 8-15, little-endian. */
static inline uint64_t siphash(int c, int d, uint64_t k0, uint64_t k1, const uint8_t *p, size_t n)
{
    uint64_t v0 = k0 ^ 0x736f6d6570736575ULL, v1 = k1 ^ 0x646f72616e646f6dULL;
    uint64_t v2 = k0 ^ 0x6c7967656e657261ULL, v3 = k1 ^ 0x7465646279746573ULL;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t m = 0;
        for (int k = 7; k >= 0; k--)
            m = m << 8 | p[i + (size_t)k];
        v3 ^= m;
        for (int r = 0; r < c; r++)
            SIP_ROUND(v0, v1, v2, v3);
        v0 ^= m;
    }
    uint64_t b = (uint64_t)(n & 0xff) << 56; /* the last word: what is left, and n's low byte */
    for (size_t k = 0; i + k < n; k++)
        b |= (uint64_t)p[i + k] << (8 * k);
    v3 ^= b;
    for (int r = 0; r < c; r++)
        SIP_ROUND(v0, v1, v2, v3);
    v0 ^= b;
    v2 ^= 0xff;
    for (int r = 0; r < d; r++)
        SIP_ROUND(v0, v1, v2, v3);
    return v0 ^ v1 ^ v2 ^ v3;
}

#endif

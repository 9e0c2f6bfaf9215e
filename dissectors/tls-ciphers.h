/*
 * tls-ciphers.h — every cipher suite in the IANA "TLS Cipher Suites"
 * registry, with the weaknesses its name spells out. The table
 * (tls-ciphers.c) is generated from tls-cipher-suites.csv by
 * gen-tls-ciphers.py; `make tls-ciphers` regenerates it.
 */
#ifndef POSTCARD_TLS_CIPHERS_H
#define POSTCARD_TLS_CIPHERS_H

#include <stdint.h>

enum tls_weakness {
    TLS_WEAK_NULL = 1 << 0,   /* no encryption (WITH_NULL) */
    TLS_WEAK_EXPORT = 1 << 1, /* export-grade (40/56-bit) */
    TLS_WEAK_ANON = 1 << 2,   /* anonymous key exchange: no server authentication */
    TLS_WEAK_DES = 1 << 3,    /* single DES (incl. DES40) */
    TLS_WEAK_3DES = 1 << 4,   /* triple DES (Sweet32) */
    TLS_WEAK_RC4 = 1 << 5,    /* RC4 (RFC 7465 forbids it) */
    TLS_WEAK_MD5 = 1 << 6,    /* MD5 MAC */
    TLS_WEAK_NO_FS = 1 << 7,  /* no forward secrecy: static RSA, DH or ECDH key exchange */
    TLS_WEAK_CBC = 1 << 8,    /* CBC mode (Lucky13, POODLE-style padding oracles) */
    TLS_WEAK_RC2 = 1 << 9,    /* RC2 */
    TLS_WEAK_IDEA = 1 << 10,  /* IDEA (RFC 5469 deprecated it) */
};
#define TLS_WEAK_COUNT 11

/* The classes that make a suite "weak" (as opposed to merely without FS or CBC). */
#define TLS_WEAK_SERIOUS                                                                           \
    (TLS_WEAK_NULL | TLS_WEAK_EXPORT | TLS_WEAK_ANON | TLS_WEAK_DES | TLS_WEAK_3DES |              \
     TLS_WEAK_RC4 | TLS_WEAK_MD5 | TLS_WEAK_RC2 | TLS_WEAK_IDEA)

struct tls_cipher {
    uint16_t id;      /* the two-byte code point */
    uint16_t weak;    /* enum tls_weakness bits */
    const char *name; /* IANA name, e.g. "TLS_RSA_WITH_RC4_128_SHA" */
};

/* The suite with this code point, or NULL if it is not assigned (GREASE, private use, ...). */
const struct tls_cipher *tls_cipher_lookup(uint16_t id);

/* Name of one weakness bit: "null", "export", "anon", "des", "3des", "rc4", "md5",
 * "no-forward-secrecy", "cbc", "rc2", "idea"; NULL for anything else. */
const char *tls_weakness_name(unsigned bit);

/* The same names in bit order: tls_weakness_names[i] names the bit 1 << i. */
extern const char *const tls_weakness_names[TLS_WEAK_COUNT];

/* SSLv2 cipher kinds (3 bytes, RFC 6101 appendix / draft-hickman-netscape-ssl-00). */
const char *sslv2_cipher_name(uint32_t kind, uint16_t *weak);

/* Number of entries in the table (for tests). */
unsigned tls_cipher_count(void);

#endif

/*
 * x509.h — certificates seen on the wire, parsed by OpenSSL libcrypto (no
 * hand-written ASN.1). The only file of postcard that touches X509 objects
 * is x509.c.
 */
#ifndef POSTCARD_X509_H
#define POSTCARD_X509_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define X509_TEXT_MAX 256 /* bytes kept of a subject, issuer or SAN */
#define X509_SANS_MAX 8   /* SANs kept per certificate */

struct x509_cert;  /* a parsed certificate (opaque) */
struct x509_store; /* trust anchors (opaque) */

struct x509_info {
    char subject[X509_TEXT_MAX];             /* RFC 2253 form */
    char issuer[X509_TEXT_MAX];              /* RFC 2253 form */
    char serial[80];                         /* hex, colon-free, upper case */
    char sans[X509_SANS_MAX][X509_TEXT_MAX]; /* DNS names (and IP addresses) */
    uint8_t n_sans;                          /* entries used */
    uint8_t sha256[32];                      /* SHA-256 of the DER */
    int64_t not_before, not_after;           /* seconds since the epoch */
    char key_type[8];                        /* "RSA", "EC", "DSA", "Ed25519", ... */
    unsigned key_bits;                       /* key size */
    char sig_alg[48];                        /* e.g. "sha256WithRSAEncryption" */
    bool sig_weak;                           /* signed with MD5 or SHA-1 (or MD2/MD4) */
    bool self_issued;                        /* issuer equals subject */
    bool self_signed;                        /* ... and the signature verifies with its own key */
    bool is_ca;                              /* basicConstraints CA */
};

/* Parse DER; NULL if it is not a certificate OpenSSL accepts. */
struct x509_cert *x509_cert_parse(const uint8_t *der, size_t n);
void x509_cert_free(struct x509_cert *c);             /* drops one reference */
struct x509_cert *x509_cert_ref(struct x509_cert *c); /* one more reference */
void x509_cert_info(const struct x509_cert *c, struct x509_info *out);

/* Does the certificate name this host (SAN, or CN without SANs; RFC 6125)? */
bool x509_cert_matches_host(const struct x509_cert *c, const char *host, size_t n);

/* SHA-256 of any bytes (for cache keys), and MD5 as hex (JA3). */
void x509_sha256(const uint8_t *p, size_t n, uint8_t out[32]);
void x509_md5_hex(const uint8_t *p, size_t n, char out[33]);

/* Trust anchors from a PEM bundle (e.g. /etc/ssl/certs/ca-certificates.crt). */
struct x509_store *x509_store_load(const char *path, char *err, size_t errlen);
void x509_store_free(struct x509_store *s);

/* Does chain[0] verify against the store at time t (seconds), with
 * chain[1..n) as untrusted intermediates? */
bool x509_chain_trusted(struct x509_store *s, struct x509_cert *const *chain, size_t n, int64_t t);

#endif

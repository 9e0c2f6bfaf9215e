/*
 * certcache.h — parsed certificates by SHA-256 of their DER, least recently
 * used dropped beyond CERT_CACHE_MAX, so a certificate seen on every
 * connection of a busy server is parsed once per run.
 */
#ifndef POSTCARD_CERTCACHE_H
#define POSTCARD_CERTCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "app/x509.h"

struct certcache;

struct certcache *certcache_new(void);
void certcache_free(struct certcache *cc);

/*
 * The certificate with this DER: *info is set (borrowed until the next
 * call), and the return is a new reference the caller frees with
 * x509_cert_free(), or NULL if OpenSSL cannot parse it.
 */
struct x509_cert *certcache_get(struct certcache *cc, const uint8_t *der, size_t n,
                                const struct x509_info **info);

uint64_t certcache_parsed(const struct certcache *cc); /* parses done (misses) */
uint64_t certcache_hits(const struct certcache *cc);   /* lookups answered from the cache */

#endif

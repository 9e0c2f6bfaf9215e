/*
 * certcache.c — see certcache.h. Open addressing on the SHA-256 (already
 * uniform), an LRU list (lru.h) through the entries, tombstone-free
 * deletion by re-inserting the rest of the probe run: an entry that moves
 * takes its place in the list along [LRU-ENTRY-MOVED].
 */
#include "app/certcache.h"

#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "lru.h"
#include "sensor-limits.h"

#define CC_SLOTS (CERT_CACHE_MAX * 2) /* load factor 1/2 */

struct cc_entry {
    uint8_t sha[32];        /* key */
    bool used;              /* slot holds an entry */
    bool parsed;            /* OpenSSL could parse it */
    struct x509_cert *cert; /* the certificate (one reference held by the cache) */
    struct x509_info info;  /* its facts */
    struct lru_node lru;    /* place in the LRU list (follows the entry to another slot) */
};

struct certcache {
    struct cc_entry *slots; /* CC_SLOTS entries */
    struct lru lru;         /* entries in order of last use */
    size_t n;               /* entries in use */
    uint64_t parsed, hits;  /* counters */
};

struct certcache *certcache_new(void)
{
    struct certcache *cc = xcalloc(1, sizeof *cc);
    cc->slots = xcalloc(CC_SLOTS, sizeof *cc->slots);
    lru_init(&cc->lru);
    return cc;
}

void certcache_free(struct certcache *cc)
{
    if (cc == NULL)
        return;
    for (size_t i = 0; i < CC_SLOTS; i++)
        if (cc->slots[i].used)
            x509_cert_free(cc->slots[i].cert);
    free(cc->slots);
    free(cc);
}

static size_t home(const uint8_t *sha)
{
    uint64_t h = 0;
    memcpy(&h, sha, sizeof h);
    return (size_t)(h % CC_SLOTS);
}

/* Move an entry to another slot (its LRU neighbours follow it). [LRU-ENTRY-MOVED] */
static void relocate(struct cc_entry *from, struct cc_entry *to)
{
    *to = *from;
    lru_relocate(&from->lru, &to->lru);
    memset(from, 0, sizeof *from);
}

static void evict(struct certcache *cc, struct cc_entry *e)
{
    lru_unlink(&e->lru);
    x509_cert_free(e->cert);
    memset(e, 0, sizeof *e);
    cc->n--;
    /* close the hole: re-place the rest of the probe run */
    size_t i = (size_t)(e - cc->slots);
    for (size_t j = (i + 1) % CC_SLOTS; cc->slots[j].used; j = (j + 1) % CC_SLOTS) {
        size_t h = home(cc->slots[j].sha);
        size_t k = h;
        while (cc->slots[k].used && k != j)
            k = (k + 1) % CC_SLOTS;
        if (k != j)
            relocate(&cc->slots[j], &cc->slots[k]);
    }
}

struct x509_cert *certcache_get(struct certcache *cc, const uint8_t *der, size_t n,
                                const struct x509_info **info)
{
    uint8_t sha[32];
    x509_sha256(der, n, sha);
    size_t i = home(sha);
    while (cc->slots[i].used) {
        struct cc_entry *e = &cc->slots[i];
        if (memcmp(e->sha, sha, 32) == 0) {
            cc->hits++;
            lru_touch(&cc->lru, &e->lru);
            *info = e->parsed ? &e->info : NULL;
            return x509_cert_ref(e->cert);
        }
        i = (i + 1) % CC_SLOTS;
    }
    if (cc->n == CERT_CACHE_MAX) {
        evict(cc, LRU_ENTRY(lru_oldest(&cc->lru), struct cc_entry, lru));
        i = home(sha);
        while (cc->slots[i].used)
            i = (i + 1) % CC_SLOTS;
    }
    struct cc_entry *e = &cc->slots[i];
    memcpy(e->sha, sha, 32);
    e->used = true;
    e->cert = x509_cert_parse(der, n);
    e->parsed = e->cert != NULL;
    if (e->parsed)
        x509_cert_info(e->cert, &e->info);
    cc->parsed++;
    cc->n++;
    lru_push_front(&cc->lru, &e->lru);
    *info = e->parsed ? &e->info : NULL;
    return x509_cert_ref(e->cert);
}

uint64_t certcache_parsed(const struct certcache *cc)
{
    return cc->parsed;
}

uint64_t certcache_hits(const struct certcache *cc)
{
    return cc->hits;
}

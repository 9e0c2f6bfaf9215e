/*
 * certcache.c — see certcache.h. Open addressing on the SHA-256 (already
 * uniform), an LRU list through the entries, tombstone-free deletion by
 * re-inserting the rest of the probe run.
 */
#include "app/certcache.h"

#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "sensor-limits.h"

#define CC_SLOTS (CERT_CACHE_MAX * 2) /* load factor 1/2 */

struct cc_entry {
    uint8_t sha[32];        /* key */
    bool used;              /* slot holds an entry */
    bool parsed;            /* OpenSSL could parse it */
    struct x509_cert *cert; /* the certificate (one reference held by the cache) */
    struct x509_info info;  /* its facts */
    struct cc_entry *prev;  /* LRU: more recently used */
    struct cc_entry *next;  /* LRU: less recently used */
};

struct certcache {
    struct cc_entry *slots; /* CC_SLOTS entries */
    struct cc_entry *mru;   /* most recently used */
    struct cc_entry *lru;   /* least recently used */
    size_t n;               /* entries in use */
    uint64_t parsed, hits;  /* counters */
};

struct certcache *certcache_new(void)
{
    struct certcache *cc = xcalloc(1, sizeof *cc);
    cc->slots = xcalloc(CC_SLOTS, sizeof *cc->slots);
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

static void lru_unlink(struct certcache *cc, struct cc_entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        cc->mru = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        cc->lru = e->prev;
    e->prev = e->next = NULL;
}

static void lru_front(struct certcache *cc, struct cc_entry *e)
{
    e->prev = NULL;
    e->next = cc->mru;
    if (cc->mru)
        cc->mru->prev = e;
    cc->mru = e;
    if (cc->lru == NULL)
        cc->lru = e;
}

/* Move an entry to another slot (its LRU neighbours follow it). */
static void relocate(struct certcache *cc, struct cc_entry *from, struct cc_entry *to)
{
    *to = *from;
    if (to->prev)
        to->prev->next = to;
    else
        cc->mru = to;
    if (to->next)
        to->next->prev = to;
    else
        cc->lru = to;
    memset(from, 0, sizeof *from);
}

static void evict(struct certcache *cc, struct cc_entry *e)
{
    lru_unlink(cc, e);
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
            relocate(cc, &cc->slots[j], &cc->slots[k]);
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
            lru_unlink(cc, e);
            lru_front(cc, e);
            *info = e->parsed ? &e->info : NULL;
            return x509_cert_ref(e->cert);
        }
        i = (i + 1) % CC_SLOTS;
    }
    if (cc->n == CERT_CACHE_MAX) {
        evict(cc, cc->lru);
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
    lru_front(cc, e);
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

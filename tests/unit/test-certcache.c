/*
 * test-certcache.c — the certificate cache: one parse per distinct DER, the least recently
 * used dropped past CERT_CACHE_MAX, and entries that move between slots when another is
 * dropped keep their place in the LRU order. The DER here is not a certificate (OpenSSL
 * refuses it): the cache keeps refusals too, so the order is all that is tested.
 */
#include <stdio.h>
#include <stdlib.h>

#include "app/certcache.h"
#include "sensor-limits.h"
#include "test.h"

/* Fake DER number i: distinct bytes, distinct SHA-256. */
static size_t der(char *buf, size_t n, unsigned i)
{
    return (size_t)snprintf(buf, n, "not a certificate %u", i);
}

/* Look certificate i up; true when the cache answered without a parse. */
static bool lookup(struct certcache *cc, unsigned i)
{
    char buf[64];
    size_t n = der(buf, sizeof buf, i);
    uint64_t parsed = certcache_parsed(cc);
    const struct x509_info *info = (const struct x509_info *)1;
    struct x509_cert *c = certcache_get(cc, (const uint8_t *)buf, n, &info);
    ASSERT(c == NULL && info == NULL); /* refused by OpenSSL, and said so */
    return certcache_parsed(cc) == parsed;
}

TEST(the_same_der_is_parsed_once)
{
    struct certcache *cc = certcache_new();
    ASSERT(!lookup(cc, 1));
    ASSERT(lookup(cc, 1));
    ASSERT(lookup(cc, 1));
    ASSERT(!lookup(cc, 2));
    ASSERT_EQ(certcache_parsed(cc), 2);
    ASSERT_EQ(certcache_hits(cc), 2);
    certcache_free(cc);
}

TEST(past_the_cap_the_least_recently_used_goes)
{
    struct certcache *cc = certcache_new();
    for (unsigned i = 0; i < CERT_CACHE_MAX; i++)
        ASSERT(!lookup(cc, i));
    ASSERT(lookup(cc, 0)); /* 0 is now the most recent; 1 the oldest */
    ASSERT(!lookup(cc, CERT_CACHE_MAX));
    ASSERT(lookup(cc, 0));
    ASSERT(!lookup(cc, 1)); /* it was dropped: parsed again (and 2 dropped for it) */
    ASSERT(lookup(cc, CERT_CACHE_MAX));
    ASSERT(!lookup(cc, 2));
    certcache_free(cc);
}

/* A model: ids in order of last use, most recent last. */
struct model {
    unsigned *ids;
    size_t n;
};

static bool model_lookup(struct model *m, unsigned id)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->ids[i] == id) {
            memmove(&m->ids[i], &m->ids[i + 1], (m->n - i - 1) * sizeof *m->ids);
            m->ids[m->n - 1] = id;
            return true;
        }
    if (m->n == CERT_CACHE_MAX) {
        memmove(&m->ids[0], &m->ids[1], (m->n - 1) * sizeof *m->ids);
        m->n--;
    }
    m->ids[m->n++] = id;
    return false;
}

TEST(random_lookups_hit_and_miss_as_an_lru_model_does)
{
    /* more distinct keys than the cap, so entries are dropped all the time and the rest of
     * each probe run moves up a slot: the order must survive every move */
    struct certcache *cc = certcache_new();
    struct model m = {calloc(CERT_CACHE_MAX, sizeof(unsigned)), 0};
    uint64_t x = 0x9e3779b97f4a7c15ull;
    uint64_t hits = 0;
    for (int k = 0; k < 60000; k++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        unsigned id = (unsigned)(x % (CERT_CACHE_MAX + CERT_CACHE_MAX / 4));
        bool want = model_lookup(&m, id);
        if (lookup(cc, id) != want)
            TEST_FAIL("lookup %d of %u: cache %s, model %s", k, id, want ? "missed" : "hit",
                      want ? "hit" : "missed");
        hits += want;
    }
    ASSERT(hits > 10000 && hits < 59000); /* both paths were taken, many times */
    ASSERT_EQ(certcache_hits(cc), hits);
    free(m.ids);
    certcache_free(cc);
}

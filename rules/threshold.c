/*
 * threshold.c — the counters behind `threshold:`, on packet time.
 *
 * One counter per rule and tracked key:
 *
 *   by_src     the client address
 *   by_dst     the server address
 *   by_rule    nothing: one counter for the rule
 *   by_server  the server address and port, and the server's certificate
 *              when the session has one (a certificate finding is about
 *              that certificate: a server that changes it is told again)
 *
 * A window starts at the first match it counts and lasts `seconds`:
 *
 *   limit      the first `count` matches of a window alert
 *   threshold  every `count`-th match alerts; the count and the window
 *              start again after it
 *   both       the `count`-th match of a window alerts, once
 *
 * Sessions end out of time order (a flow's record waits for its end), so a
 * match earlier than its window's start counts in that window.
 *
 * Counters are kept by rule sid, not by rule: a reloaded rule set keeps
 * counting where the old one was. Hazards: [ENGINE-THR-CAP] at most
 * max_entries counters; past it the least recently used is dropped
 * (counted in thr_evicted), which at worst lets one alert through early.
 */
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "lru.h"
#include "rules-int.h"

struct thr_key {
    uint32_t sid;     /* the rule */
    uint8_t track;    /* enum rule_track */
    uint8_t ipver;    /* of addr (0 when not tracked by address) */
    uint16_t port;    /* server port (by_server) */
    uint8_t addr[16]; /* tracked address */
    uint8_t cert[32]; /* server certificate's SHA-256 (by_server), zero when none */
};

struct thr_entry {
    struct thr_key k;       /* what it counts */
    uint64_t h;             /* hash of k */
    int64_t start;          /* window start, seconds */
    uint32_t count;         /* matches counted in the window */
    bool alerted;           /* both: the window's alert was raised */
    struct thr_entry *next; /* hash chain */
    struct lru_node lru;    /* place in the LRU list */
};

struct rule_thresholds {
    struct thr_entry *e;      /* max entries, allocated once: the lists point into it */
    size_t n, max;            /* used, at most */
    struct thr_entry **heads; /* hash chains */
    size_t n_heads;           /* a power of two, at least max */
    struct lru lru;           /* entries in order of last use */
};

struct rule_thresholds *rule_thresholds_new(size_t max_entries)
{
    struct rule_thresholds *t = rl_xcalloc(1, sizeof *t);
    t->max = max_entries ? max_entries : RULES_MAX_THRESHOLD_ENTRIES;
    if (t->max > UINT32_MAX - 1)
        t->max = UINT32_MAX - 1;
    t->n_heads = 64;
    while (t->n_heads < t->max && t->n_heads < ((size_t)1 << 30))
        t->n_heads *= 2;
    t->heads = rl_xcalloc(t->n_heads, sizeof *t->heads);
    /* calloc: pages are touched only as counters are used */
    t->e = rl_xcalloc(t->max, sizeof *t->e);
    lru_init(&t->lru);
    return t;
}

void rule_thresholds_free(struct rule_thresholds *t)
{
    if (t == NULL)
        return;
    free(t->e);
    free(t->heads);
    free(t);
}

static uint64_t key_hash(const struct thr_key *k)
{
    const uint8_t *p = (const uint8_t *)k;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < sizeof *k; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h ^ (h >> 29);
}

static void chain_unlink(struct rule_thresholds *t, struct thr_entry *x)
{
    struct thr_entry **pp = &t->heads[x->h & (t->n_heads - 1)];
    while (*pp != NULL && *pp != x)
        pp = &(*pp)->next;
    if (*pp == x)
        *pp = x->next;
}

/* The counter for k: found, new, or the least recently used one reset for k. */
static struct thr_entry *counter(struct rule_thresholds *t, const struct thr_key *k,
                                 struct rule_match_stats *ms, bool *is_new)
{
    uint64_t h = key_hash(k);
    struct thr_entry **head = &t->heads[h & (t->n_heads - 1)];
    for (struct thr_entry *x = *head; x != NULL; x = x->next) {
        if (x->h == h && memcmp(&x->k, k, sizeof *k) == 0) {
            lru_touch(&t->lru, &x->lru);
            *is_new = false;
            return x;
        }
    }
    struct thr_entry *x;
    if (t->n < t->max) {
        x = &t->e[t->n++];
    } else { /* [ENGINE-THR-CAP] */
        x = LRU_ENTRY(lru_oldest(&t->lru), struct thr_entry, lru);
        chain_unlink(t, x);
        lru_unlink(&x->lru);
        ms->thr_evicted++;
    }
    memset(x, 0, sizeof *x);
    x->k = *k;
    x->h = h;
    x->next = *head;
    *head = x;
    lru_push_front(&t->lru, &x->lru);
    *is_new = true;
    return x;
}

bool rl_threshold_allows(struct rule_thresholds *t, const struct rule *r,
                         const struct rule_facts *f, int64_t now_s, struct rule_match_stats *ms)
{
    const struct rule_threshold *th = &r->threshold;
    struct thr_key k;
    memset(&k, 0, sizeof k); /* padding too: the key is hashed and compared as bytes */
    k.sid = r->sid;
    k.track = (uint8_t)th->track;
    switch (th->track) {
    case RULE_TRACK_BY_SRC:
        k.ipver = f->ipver;
        memcpy(k.addr, f->cli, 16);
        break;
    case RULE_TRACK_BY_DST:
        k.ipver = f->ipver;
        memcpy(k.addr, f->srv, 16);
        break;
    case RULE_TRACK_BY_SERVER:
        k.ipver = f->ipver;
        memcpy(k.addr, f->srv, 16);
        k.port = f->sport;
        if (f->cert_id != NULL)
            memcpy(k.cert, f->cert_id, 32);
        break;
    case RULE_TRACK_BY_RULE:
    default:
        break;
    }
    bool is_new;
    struct thr_entry *x = counter(t, &k, ms, &is_new);
    bool expired = !is_new && now_s - x->start >= (int64_t)th->seconds;
    if (is_new || expired || (th->type == RULE_THR_THRESHOLD && x->count == 0)) {
        x->start = now_s;
        x->count = 0;
        x->alerted = false;
    }
    if (x->count < UINT32_MAX)
        x->count++;
    switch (th->type) {
    case RULE_THR_LIMIT:
        return x->count <= th->count;
    case RULE_THR_THRESHOLD:
        if (x->count < th->count)
            return false;
        x->count = 0;
        return true;
    case RULE_THR_BOTH:
    default:
        if (x->alerted || x->count < th->count)
            return false;
        x->alerted = true;
        return true;
    }
}

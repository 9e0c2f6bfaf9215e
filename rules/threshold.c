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
    struct thr_key k; /* what it counts */
    uint64_t h;       /* hash of k */
    int64_t start;    /* window start, seconds */
    uint32_t count;   /* matches counted in the window */
    bool alerted;     /* both: the window's alert was raised */
    uint32_t next;    /* hash chain: entry index + 1, 0 = end */
    uint32_t older;   /* LRU list towards the least recent: index + 1 */
    uint32_t newer;   /* towards the most recent: index + 1 */
};

struct rule_thresholds {
    struct thr_entry *e; /* entries */
    size_t n, cap, max;  /* used, allocated, at most */
    uint32_t *heads;     /* hash chains: entry index + 1 */
    size_t n_heads;      /* a power of two, at least max */
    uint32_t lru_old;    /* least recently used: index + 1 */
    uint32_t lru_new;    /* most recently used: index + 1 */
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

static void lru_unlink(struct rule_thresholds *t, uint32_t i)
{
    struct thr_entry *x = &t->e[i - 1];
    if (x->older)
        t->e[x->older - 1].newer = x->newer;
    else
        t->lru_old = x->newer;
    if (x->newer)
        t->e[x->newer - 1].older = x->older;
    else
        t->lru_new = x->older;
    x->older = x->newer = 0;
}

static void lru_push_new(struct rule_thresholds *t, uint32_t i)
{
    struct thr_entry *x = &t->e[i - 1];
    x->older = t->lru_new;
    x->newer = 0;
    if (t->lru_new)
        t->e[t->lru_new - 1].newer = i;
    else
        t->lru_old = i;
    t->lru_new = i;
}

static void chain_unlink(struct rule_thresholds *t, uint32_t i)
{
    uint32_t *pp = &t->heads[t->e[i - 1].h & (t->n_heads - 1)];
    while (*pp != 0 && *pp != i)
        pp = &t->e[*pp - 1].next;
    if (*pp == i)
        *pp = t->e[i - 1].next;
}

/* The counter for k: found, new, or the least recently used one reset for k. */
static struct thr_entry *counter(struct rule_thresholds *t, const struct thr_key *k,
                                 struct rule_match_stats *ms, bool *is_new)
{
    uint64_t h = key_hash(k);
    uint32_t *head = &t->heads[h & (t->n_heads - 1)];
    for (uint32_t i = *head; i != 0; i = t->e[i - 1].next) {
        struct thr_entry *x = &t->e[i - 1];
        if (x->h == h && memcmp(&x->k, k, sizeof *k) == 0) {
            lru_unlink(t, i);
            lru_push_new(t, i);
            *is_new = false;
            return x;
        }
    }
    uint32_t i;
    if (t->n < t->max) {
        if (t->n == t->cap) {
            size_t cap = t->cap;
            rl_grow((void **)&t->e, &cap, t->n + 1, sizeof *t->e);
            t->cap = cap > t->max ? t->max : cap;
        }
        i = (uint32_t)++t->n;
    } else { /* [ENGINE-THR-CAP] */
        i = t->lru_old;
        chain_unlink(t, i);
        lru_unlink(t, i);
        ms->thr_evicted++;
    }
    struct thr_entry *x = &t->e[i - 1];
    memset(x, 0, sizeof *x);
    x->k = *k;
    x->h = h;
    x->next = *head;
    *head = i;
    lru_push_new(t, i);
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

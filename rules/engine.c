/*
 * engine.c — the rule set compiled into an index, and one session matched
 * against it.
 *
 * Each rule goes into the bucket of its protocol (smtp, pop3, imap, tls,
 * mail, any) and, inside it, under one key: the predicate that lets the
 * fewest sessions through, found when the set is compiled.
 *
 *   enum, bool, version, set field   one list per value, plus one for
 *                                    "absent": the rule is listed under
 *                                    every value its predicate accepts
 *                                    (tls.version:<tls1.2 under sslv2,
 *                                    sslv3, tls1.0, tls1.1)
 *   string field, = or [..]          a hash of (field, text)
 *   server address list              a hash of the address
 *   nothing selective                the bucket's generic list
 *
 * A session looks up its own value of each field keyed in its buckets, so
 * the rules it evaluates in full are the generic ones and those whose key
 * its facts already satisfy: 10,000 rules about other servers, users or
 * names cost a few lookups, not 10,000 evaluations. The index is only a
 * filter: rule_matches() decides. A rule reached twice (a session with two
 * logins, a set with two members) is evaluated once (a stamp per rule).
 *
 * Multi-valued facts: a set field visits the list of each member; the
 * mail.login.* fields visit the value of each attempt, and a session
 * without attempts visits "absent" (docs/rules.md: those predicates hold
 * for one attempt, or for none when there is none).
 *
 * A session is matched each time its facts change (alerts at the packet
 * that decides them). The index still finds every rule that holds on the
 * facts as they are; of those, only the ones certain now raise an alert,
 * each once per session (struct rule_session). Pass rules are few and
 * kept apart too: while any may still hold, the session's alerts wait.
 */
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "rules-int.h"

struct ivec {
    uint32_t *v;     /* rule indexes */
    uint32_t n, cap; /* used, allocated */
};

static void ivec_push(struct ivec *iv, uint32_t x)
{
    if (iv->n > 0 && iv->v[iv->n - 1] == x)
        return; /* a rule listed under two values of one list set: once is enough */
    if (iv->n == iv->cap) {
        size_t cap = iv->cap;
        rl_grow((void **)&iv->v, &cap, (size_t)iv->n + 1, sizeof *iv->v);
        iv->cap = (uint32_t)cap;
    }
    iv->v[iv->n++] = x;
}

/* Key bytes -> rules: open addressing, a power-of-two table at most half full. */
struct kent {
    uint64_t h;       /* hash of key */
    uint8_t *key;     /* the key (NULL: empty slot) */
    size_t klen;      /* its bytes */
    struct ivec list; /* rules under it */
};

struct kmap {
    struct kent *e; /* slots */
    size_t n, cap;  /* used, allocated (0 or a power of two) */
};

static uint64_t hash_bytes(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

static struct kent *kmap_find(const struct kmap *m, const uint8_t *key, size_t klen, uint64_t h)
{
    if (m->cap == 0)
        return NULL;
    for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        struct kent *e = &m->e[i];
        if (e->key == NULL)
            return e;
        if (e->h == h && e->klen == klen && memcmp(e->key, key, klen) == 0)
            return e;
    }
}

static struct ivec *kmap_get(struct kmap *m, const uint8_t *key, size_t klen)
{
    if (2 * (m->n + 1) > m->cap) {
        struct kmap big = {rl_xcalloc(m->cap ? 2 * m->cap : 64, sizeof(struct kent)), m->n,
                           m->cap ? 2 * m->cap : 64};
        for (size_t i = 0; i < m->cap; i++)
            if (m->e[i].key != NULL)
                *kmap_find(&big, m->e[i].key, m->e[i].klen, m->e[i].h) = m->e[i];
        free(m->e);
        *m = big;
    }
    uint64_t h = hash_bytes(key, klen);
    struct kent *e = kmap_find(m, key, klen, h);
    if (e->key == NULL) {
        e->key = rl_xmalloc(klen);
        memcpy(e->key, key, klen);
        e->klen = klen;
        e->h = h;
        m->n++;
    }
    return &e->list;
}

static const struct ivec *kmap_lookup(const struct kmap *m, const uint8_t *key, size_t klen)
{
    struct kent *e = kmap_find(m, key, klen, hash_bytes(key, klen));
    return e != NULL && e->key != NULL ? &e->list : NULL;
}

static void kmap_free(struct kmap *m)
{
    for (size_t i = 0; i < m->cap; i++) {
        free(m->e[i].key);
        free(m->e[i].list.v);
    }
    free(m->e);
}

struct bucket {
    struct ivec generic;              /* rules without a selective key */
    struct ivec *slots[RULE_F_COUNT]; /* per enumerable field keyed: n_values + 1 lists */
    uint8_t keyed[RULE_F_COUNT];      /* fields with slots, in order */
    unsigned n_keyed;                 /* entries in keyed */
    uint64_t str_fields;              /* bit per string field keyed in strs */
    struct kmap strs;                 /* (field, text) -> rules */
    struct kmap addrs;                /* (ip version, server address) -> rules */
};

struct rule_engine {
    struct ruleset *rs;                /* owned */
    size_t n_rules;                    /* rules in rs */
    struct bucket b[RULE_PROTO_COUNT]; /* index: enum rule_proto */
    uint32_t *stamp;                   /* per rule: the match that last reached it */
    uint32_t cur;                      /* this match's stamp */
    const struct rule **hits;          /* alert rules that held (n_rules entries) */
    size_t n_hits;                     /* used */
    bool passed;                       /* a pass rule held */
    uint32_t *pass;                    /* the pass rules */
    size_t n_pass;                     /* entries in pass */
    const struct rule_suppress **sup;  /* suppress lines sorted by sid */
    size_t n_sup;                      /* entries in sup */
    uint64_t evaluated;                /* rules evaluated in this match */
};

/* ---- compiling ---------------------------------------------------------- */

static bool is_enumerable(const struct rule_field_info *fi)
{
    return fi->type == RULE_T_BOOL || fi->type == RULE_T_ENUM || fi->type == RULE_T_VERSION ||
           fi->type == RULE_T_SET;
}

static size_t n_slot_values(const struct rule_field_info *fi)
{
    return fi->type == RULE_T_BOOL ? 2 : fi->n_values;
}

/* Slots (bit n_values: absent) under which a session for which p holds is sure to look. */
static uint64_t accepted_slots(const struct rule_pred *p, const struct rule_field_info *fi)
{
    size_t n = n_slot_values(fi);
    uint64_t all = (2ULL << n) - 1;
    if (fi->type == RULE_T_SET) {
        switch (p->op) {
        case RULE_OP_EQ:
        case RULE_OP_IN: {
            uint64_t m = 0;
            for (size_t i = 0; i < p->n_values; i++)
                if (p->values[i].num >= 0 && (size_t)p->values[i].num < n)
                    m |= 1ULL << p->values[i].num;
            return m;
        }
        case RULE_OP_ABSENT:
            return 1ULL << n;
        case RULE_OP_TRUE:
        case RULE_OP_PRESENT:
            return all & ~(1ULL << n);
        default:
            return all; /* "lacks v" holds for sets of any member */
        }
    }
    uint64_t m = 0;
    for (size_t v = 0; v <= n; v++) {
        struct rule_fact f = {v < n, (int64_t)v, NULL, 0, RULE_FACT_FINAL};
        if (rl_pred_holds(p, &f))
            m |= 1ULL << v;
    }
    return m;
}

static size_t popcount64(uint64_t m)
{
    size_t c = 0;
    for (; m; m &= m - 1)
        c++;
    return c;
}

/* The server addresses of r when they are a short list of single addresses, for the index. */
static size_t single_addrs(const struct rule *r)
{
    const struct rule_addr_set *d = &r->dst;
    if (r->dir != RULE_DIR_TO_SERVER || d->is_any || d->n_v4 + d->n_v6 > RULES_INDEX_MAX_ADDRS ||
        d->n_v4 + d->n_v6 == 0)
        return 0;
    for (size_t i = 0; i < d->n_v4; i++)
        if (d->v4[i].lo != d->v4[i].hi)
            return 0;
    for (size_t i = 0; i < d->n_v6; i++)
        if (memcmp(d->v6[i].lo, d->v6[i].hi, 16) != 0)
            return 0;
    return d->n_v4 + d->n_v6;
}

static size_t str_key(uint8_t *key, enum rule_field f, const char *s, size_t n, bool nocase)
{
    key[0] = (uint8_t)f;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)s[i];
        key[1 + i] = nocase && c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
    }
    return n + 1;
}

static size_t addr_key(uint8_t *key, uint8_t ipver, const uint8_t *a)
{
    key[0] = ipver;
    memset(key + 1, 0, 16);
    memcpy(key + 1, a, ipver == 4 ? 4 : 16);
    return 17;
}

static void index_rule(struct rule_engine *e, const struct rule *r, uint32_t ri)
{
    struct bucket *b = &e->b[r->proto];
    enum { K_NONE, K_SLOTS, K_STR, K_ADDR } kind = K_NONE;
    double best = 1.0;
    const struct rule_pred *kp = NULL;
    uint64_t kmask = 0;
    size_t na = single_addrs(r);
    if (na > 0) {
        kind = K_ADDR;
        best = 0.001 * (double)na;
    }
    for (size_t i = 0; i < r->n_preds; i++) {
        const struct rule_pred *p = &r->preds[i];
        const struct rule_field_info *fi = rule_field_info(p->field);
        double cost = 1.0;
        uint64_t m = 0;
        if (is_enumerable(fi)) {
            m = accepted_slots(p, fi);
            cost = (double)popcount64(m) / (double)(n_slot_values(fi) + 1);
        } else if (fi->type == RULE_T_STRING && (p->op == RULE_OP_EQ || p->op == RULE_OP_IN)) {
            cost = 0.01 * (double)p->n_values;
        }
        if (cost < best) {
            best = cost;
            kp = p;
            kmask = m;
            kind = is_enumerable(fi) ? K_SLOTS : K_STR;
        }
    }
    uint8_t key[1 + RULES_MAX_STRING_BYTES];
    switch (kind) {
    case K_SLOTS: {
        const struct rule_field_info *fi = rule_field_info(kp->field);
        size_t n = n_slot_values(fi);
        if (b->slots[kp->field] == NULL) {
            b->slots[kp->field] = rl_xcalloc(n + 1, sizeof(struct ivec));
            b->keyed[b->n_keyed++] = (uint8_t)kp->field;
        }
        for (size_t v = 0; v <= n; v++)
            if (kmask >> v & 1)
                ivec_push(&b->slots[kp->field][v], ri);
        break;
    }
    case K_STR: {
        const struct rule_field_info *fi = rule_field_info(kp->field);
        b->str_fields |= 1ULL << kp->field;
        for (size_t i = 0; i < kp->n_values; i++) {
            const char *s = kp->values[i].str;
            size_t k = str_key(key, kp->field, s, strlen(s), fi->is_nocase);
            ivec_push(kmap_get(&b->strs, key, k), ri);
        }
        break;
    }
    case K_ADDR: {
        uint8_t a[16];
        for (size_t i = 0; i < r->dst.n_v4; i++) {
            uint32_t x = r->dst.v4[i].lo;
            a[0] = (uint8_t)(x >> 24);
            a[1] = (uint8_t)(x >> 16);
            a[2] = (uint8_t)(x >> 8);
            a[3] = (uint8_t)x;
            ivec_push(kmap_get(&b->addrs, key, addr_key(key, 4, a)), ri);
        }
        for (size_t i = 0; i < r->dst.n_v6; i++)
            ivec_push(kmap_get(&b->addrs, key, addr_key(key, 6, r->dst.v6[i].lo)), ri);
        break;
    }
    case K_NONE:
    default:
        ivec_push(&b->generic, ri);
        break;
    }
}

static int sup_cmp(const void *a, const void *b)
{
    const struct rule_suppress *x = *(const struct rule_suppress *const *)a;
    const struct rule_suppress *y = *(const struct rule_suppress *const *)b;
    return x->sid < y->sid ? -1 : x->sid > y->sid;
}

struct rule_engine *rule_engine_new(struct ruleset *rs)
{
    struct rule_engine *e = rl_xcalloc(1, sizeof *e);
    e->rs = rs;
    e->n_rules = ruleset_len(rs);
    e->stamp = rl_xcalloc(e->n_rules + 1, sizeof *e->stamp);
    e->hits = rl_xcalloc(e->n_rules + 1, sizeof *e->hits);
    e->pass = rl_xcalloc(e->n_rules + 1, sizeof *e->pass);
    for (size_t i = 0; i < e->n_rules; i++) {
        const struct rule *r = ruleset_rule(rs, i);
        index_rule(e, r, (uint32_t)i);
        if (r->action == RULE_ACTION_PASS)
            e->pass[e->n_pass++] = (uint32_t)i;
    }
    e->n_sup = ruleset_suppress_len(rs);
    e->sup = rl_xcalloc(e->n_sup + 1, sizeof *e->sup);
    for (size_t i = 0; i < e->n_sup; i++)
        e->sup[i] = ruleset_suppress(rs, i);
    qsort(e->sup, e->n_sup, sizeof *e->sup, sup_cmp);
    return e;
}

void rule_engine_free(struct rule_engine *e)
{
    if (e == NULL)
        return;
    for (int p = 0; p < RULE_PROTO_COUNT; p++) {
        struct bucket *b = &e->b[p];
        free(b->generic.v);
        for (unsigned k = 0; k < b->n_keyed; k++) {
            enum rule_field f = (enum rule_field)b->keyed[k];
            size_t n = n_slot_values(rule_field_info(f));
            for (size_t v = 0; v <= n; v++)
                free(b->slots[f][v].v);
            free(b->slots[f]);
        }
        kmap_free(&b->strs);
        kmap_free(&b->addrs);
    }
    free(e->stamp);
    free(e->hits);
    free(e->pass);
    free(e->sup);
    ruleset_free(e->rs);
    free(e);
}

const struct ruleset *rule_engine_ruleset(const struct rule_engine *e)
{
    return e->rs;
}

/* ---- matching ------------------------------------------------------------ */

static void visit_list(struct rule_engine *e, const struct ivec *iv, const struct rule_facts *f)
{
    if (iv == NULL)
        return;
    for (uint32_t i = 0; i < iv->n; i++) {
        uint32_t ri = iv->v[i];
        if (e->stamp[ri] == e->cur)
            continue;
        e->stamp[ri] = e->cur;
        e->evaluated++;
        const struct rule *r = ruleset_rule(e->rs, ri);
        if (!rule_matches(r, f))
            continue;
        if (r->action == RULE_ACTION_PASS)
            e->passed = true;
        else
            e->hits[e->n_hits++] = r;
    }
}

/* The lists of field k under which the value v (one fact of the session) is found. */
static void visit_value(struct rule_engine *e, const struct bucket *b, enum rule_field k,
                        const struct rule_fact *v, const struct rule_facts *f)
{
    const struct rule_field_info *fi = rule_field_info(k);
    size_t n = n_slot_values(fi);
    const struct ivec *sl = b->slots[k];
    if (fi->type == RULE_T_SET) {
        if (!v->is_set || v->num == 0) {
            visit_list(e, &sl[n], f);
            return;
        }
        for (size_t i = 0; i < n; i++)
            if ((uint64_t)v->num >> i & 1)
                visit_list(e, &sl[i], f);
        if ((uint64_t)v->num >> n != 0) /* a member beyond the list: cannot be, but be safe */
            for (size_t i = 0; i <= n; i++)
                visit_list(e, &sl[i], f);
        return;
    }
    if (!v->is_set) {
        visit_list(e, &sl[n], f);
    } else if (v->num >= 0 && (size_t)v->num < n) {
        visit_list(e, &sl[v->num], f);
    } else { /* out of the field's range: cannot be, but then no list may be skipped */
        for (size_t i = 0; i <= n; i++)
            visit_list(e, &sl[i], f);
    }
}

static void visit_string(struct rule_engine *e, const struct bucket *b, enum rule_field k,
                         const struct rule_fact *v, const struct rule_facts *f)
{
    uint8_t key[1 + RULES_MAX_STRING_BYTES];
    if (!v->is_set || v->str == NULL || v->len > RULES_MAX_STRING_BYTES)
        return; /* no rule's text is longer: = and [..] cannot hold */
    size_t n = str_key(key, k, v->str, v->len, rule_field_info(k)->is_nocase);
    visit_list(e, kmap_lookup(&b->strs, key, n), f);
}

static void visit_bucket(struct rule_engine *e, const struct bucket *b, const struct rule_facts *f)
{
    static const struct rule_fact none = {false, 0, NULL, 0, RULE_FACT_FINAL};
    visit_list(e, &b->generic, f);
    for (unsigned i = 0; i < b->n_keyed; i++) {
        enum rule_field k = (enum rule_field)b->keyed[i];
        if (!rl_is_login_field(k)) {
            visit_value(e, b, k, &f->f[k], f);
            continue;
        }
        if (f->n_logins == 0)
            visit_value(e, b, k, &none, f);
        for (size_t l = 0; l < f->n_logins; l++)
            visit_value(e, b, k, &f->logins[l].f[k - RULE_LOGIN_FIRST], f);
    }
    for (uint64_t m = b->str_fields; m; m &= m - 1) {
        enum rule_field k = (enum rule_field)__builtin_ctzll(m);
        if (!rl_is_login_field(k)) {
            visit_string(e, b, k, &f->f[k], f);
            continue;
        }
        for (size_t l = 0; l < f->n_logins; l++)
            visit_string(e, b, k, &f->logins[l].f[k - RULE_LOGIN_FIRST], f);
    }
    if (b->addrs.n > 0) {
        uint8_t key[17];
        visit_list(e, kmap_lookup(&b->addrs, key, addr_key(key, f->ipver, f->srv)), f);
    }
}

static bool is_suppressed(const struct rule_engine *e, const struct rule *r,
                          const struct rule_facts *f)
{
    size_t lo = 0, hi = e->n_sup;
    while (lo < hi) { /* the first line for r's sid */
        size_t mid = lo + (hi - lo) / 2;
        if (e->sup[mid]->sid < r->sid)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < e->n_sup && e->sup[i]->sid == r->sid; i++) {
        const struct rule_suppress *s = e->sup[i];
        if (!s->has_track)
            return true;
        const uint8_t *a = s->track == RULE_TRACK_BY_SRC ? f->cli : f->srv;
        if (rl_addr_in(&s->ip, a, f->ipver))
            return true;
    }
    return false;
}

static int hit_cmp(const void *a, const void *b)
{
    const struct rule *x = *(const struct rule *const *)a;
    const struct rule *y = *(const struct rule *const *)b;
    if (x->priority != y->priority)
        return x->priority < y->priority ? -1 : 1;
    return x->sid < y->sid ? -1 : x->sid > y->sid;
}

void rule_session_release(struct rule_session *rs)
{
    free(rs->sids);
    memset(rs, 0, sizeof *rs);
}

static bool decided_before(const struct rule_session *rs, uint32_t sid)
{
    for (size_t i = 0; i < rs->n; i++)
        if (rs->sids[i] == sid)
            return true;
    return false;
}

static void decide(struct rule_session *rs, uint32_t sid)
{
    if (rs->n == rs->cap)
        rl_grow((void **)&rs->sids, &rs->cap, rs->n + 1, sizeof *rs->sids);
    rs->sids[rs->n++] = sid;
}

/* Of the pass rules, does one hold for certain (yes), may one still (maybe), or none (no)? */
static enum rule_certainty pass_certainly(const struct rule_engine *e, const struct rule_facts *f)
{
    enum rule_certainty c = RULE_NO;
    for (size_t i = 0; i < e->n_pass && c != RULE_YES; i++) {
        enum rule_certainty k = rule_holds_certainly(ruleset_rule(e->rs, e->pass[i]), f);
        if (k != RULE_NO)
            c = k;
    }
    return c;
}

size_t rule_engine_match_session(struct rule_engine *e, struct rule_thresholds *th,
                                 const struct rule_facts *f, int64_t now_s, struct rule_session *rs,
                                 const struct rule **out, size_t max, struct rule_match_stats *ms)
{
    if (f->is_final)
        ms->sessions++;
    if (rs->passed)
        return 0;
    if (++e->cur == 0) { /* the stamp wrapped: forget every old one */
        memset(e->stamp, 0, (e->n_rules + 1) * sizeof *e->stamp);
        e->cur = 1;
    }
    e->n_hits = 0;
    e->passed = false;
    e->evaluated = 0;
    if (f->is_mail) {
        visit_bucket(e, &e->b[f->mail_proto], f);
        visit_bucket(e, &e->b[RULE_PROTO_MAIL], f);
    }
    if (f->is_tls)
        visit_bucket(e, &e->b[RULE_PROTO_TLS], f);
    if (f->is_mail || f->is_tls)
        visit_bucket(e, &e->b[RULE_PROTO_ANY], f);
    ms->evaluated += e->evaluated;
    enum rule_certainty pass =
        f->is_final ? (e->passed ? RULE_YES : RULE_NO) : pass_certainly(e, f);
    if (pass == RULE_YES) {
        rs->passed = true;
        ms->passed++;
        return 0;
    }
    if (pass == RULE_MAYBE)
        return 0; /* a pass rule may still hold: every alert waits */
    size_t n_new = 0;
    for (size_t i = 0; i < e->n_hits; i++) {
        const struct rule *r = e->hits[i];
        if (decided_before(rs, r->sid))
            continue;
        if (!f->is_final && rule_holds_certainly(r, f) != RULE_YES)
            continue; /* holds on the facts so far, which may still change */
        e->hits[n_new++] = r;
    }
    ms->matched += n_new;
    qsort(e->hits, n_new, sizeof *e->hits, hit_cmp);
    size_t n = 0;
    for (size_t i = 0; i < n_new; i++) {
        const struct rule *r = e->hits[i];
        decide(rs, r->sid);
        if (is_suppressed(e, r, f)) {
            ms->suppressed++;
            continue;
        }
        if (rs->n_alerts == max) { /* [ENGINE-ALERT-CAP] */
            ms->over_cap++;
            continue;
        }
        if (r->threshold.is_set && th != NULL && !rl_threshold_allows(th, r, f, now_s, ms)) {
            ms->thresholded++;
            continue;
        }
        out[n++] = r;
        rs->n_alerts++;
    }
    return n;
}

size_t rule_engine_match(struct rule_engine *e, struct rule_thresholds *th,
                         const struct rule_facts *f, int64_t now_s, const struct rule **out,
                         size_t max, struct rule_match_stats *ms)
{
    struct rule_session rs = {0};
    size_t n = rule_engine_match_session(e, th, f, now_s, &rs, out, max, ms);
    rule_session_release(&rs);
    return n;
}

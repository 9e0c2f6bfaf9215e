/*
 * summary.c — the run's numbers (docs/summary.md), counted once per session
 * when its flow ends and written as one JSON document with sorted keys.
 *
 *   flow_ended ─▶ alerts_session ─▶ summary_session ─▶ counters
 *   every --summary-interval seconds ─▶ summary_record ─▶ outputs ("summary")
 *     and at the end of the run       └▶ summary_write_file (FILE.tmp, fsync, rename)
 *
 * What is counted comes from the same facts the "mail", "tls" and "alert"
 * records show (session_starttls, the logins, tls_version_name,
 * the suite's weakness bits, the leaf certificate's verdicts), so a count
 * can always be checked against the records of the same run.
 *
 * A map is an open-addressing hash of string keys (FNV-1a seeded with the
 * run's hash seed, linear probing, no deletion) over entries allocated
 * once: cap keys plus one "(other ...)" key that takes whatever arrives
 * after the cap, so every total stays exact and memory stays fixed.
 *
 * Hazards:
 *   [SUM-MAP-CAP]     a map is full: the new key is counted under its "(other ...)" key
 *   [SUM-KEY-WIRE]    mechanisms come from the wire, country codes and AS names from a
 *                     database file: escaped as json.c does (bytes not UTF-8 → \u00XX)
 *   [SUM-ORG-CUT]     an AS name longer than SUM_ORG_BYTES is cut at a UTF-8 boundary
 *   [SUM-RECORD-CAP]  a record holds JSON_LINE_MAX bytes: maps are left out to fit
 *   [SUM-ANON]        server keys use the pseudonymised address when the run anonymises
 *   [SUM-WRITE-FAIL]  the file is written to FILE.tmp beside it, fsync'd and renamed over it:
 *                     never half a document; FILE.tmp is removed when any step fails
 */
#include "eve/summary.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eve/anon.h"
#include "eve/eve.h"
#include "eve/geoip.h"
#include "sensor-limits.h"
#include "rules.h"
#include "tls-ciphers.h"

#define SUM_VERSION 1 /* "summary_version": schema 1 (docs/summary.md) */

/* ---- maps ------------------------------------------------------------------ */

struct sum_map {
    const char *other;           /* the key that takes what comes past the cap */
    size_t cap;                  /* keys taken before other */
    size_t width;                /* counters per key */
    size_t n;                    /* keys used (other included) */
    size_t mask;                 /* hash slots - 1 (slots: a power of two >= 2 (cap + 1)) */
    uint64_t seed;               /* the run's hash seed */
    uint32_t *slots;             /* entry index + 1; 0: free */
    char (*keys)[SUM_KEY_BYTES]; /* the keys, NUL-terminated */
    uint64_t *vals;              /* width counters per key */
    const char **order;          /* keys sorted for writing (scratch) */
};

static void map_init(struct sum_map *m, const char *other, size_t cap, size_t width, uint64_t seed)
{
    size_t slots = 1;
    while (slots < 2 * (cap + 1))
        slots <<= 1;
    m->other = other;
    m->cap = cap;
    m->width = width;
    m->n = 0;
    m->mask = slots - 1;
    m->seed = seed;
    m->slots = xcalloc(slots, sizeof *m->slots);
    m->keys = xcalloc(cap + 1, sizeof *m->keys);
    m->vals = xcalloc((cap + 1) * width, sizeof *m->vals);
    m->order = xcalloc(cap + 1, sizeof *m->order);
}

static void map_free(struct sum_map *m)
{
    free(m->slots);
    free(m->keys);
    free(m->vals);
    free(m->order);
}

static uint64_t key_hash(uint64_t seed, const char *k)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ seed; /* FNV-1a, seeded per run */
    for (; *k != '\0'; k++) {
        h ^= (uint8_t)*k;
        h *= 0x100000001b3ULL;
    }
    return h ^ (h >> 29);
}

/* The entry of key, added if there is room; SIZE_MAX when absent and the map is full. */
static size_t map_slot(struct sum_map *m, const char *key, bool may_add)
{
    size_t i = (size_t)key_hash(m->seed, key) & m->mask;
    for (;;) { /* terminates: at most cap + 1 of the 2 (cap + 1) slots are used */
        uint32_t e = m->slots[i];
        if (e == 0)
            break;
        if (strcmp(m->keys[e - 1], key) == 0)
            return e - 1;
        i = (i + 1) & m->mask;
    }
    if (!may_add)
        return SIZE_MAX;
    size_t e = m->n++;
    snprintf(m->keys[e], sizeof m->keys[e], "%s", key);
    m->slots[i] = (uint32_t)(e + 1);
    return e;
}

/* The entry that counts key: its own, or [SUM-MAP-CAP] the map's "(other ...)" one. */
static size_t map_at(struct sum_map *m, const char *key)
{
    size_t e = map_slot(m, key, m->n < m->cap);
    if (e == SIZE_MAX)
        e = map_slot(m, m->other, true); /* there is always room for it: cap + 1 entries */
    return e;
}

static uint64_t *map_vals(const struct sum_map *m, size_t e)
{
    return m->vals + e * m->width;
}

static int cmp_key(const void *a, const void *b)
{
    /* strcmp compares as unsigned char: byte order, as the schema asks */
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sort the keys into m->order; returns how many. */
static size_t map_sort(struct sum_map *m)
{
    for (size_t i = 0; i < m->n; i++)
        m->order[i] = m->keys[i];
    qsort(m->order, m->n, sizeof *m->order, cmp_key);
    return m->n;
}

/* The entry of a key pointer from m->order. */
static size_t map_index(const struct sum_map *m, const char *key)
{
    return (size_t)(key - &m->keys[0][0]) / SUM_KEY_BYTES;
}

/* ---- the counters -------------------------------------------------------- */

/* Every list of names below is in byte order: the writer relies on it. */
enum {
    TOT_ALERTS,
    TOT_BYTES,
    TOT_CLEARTEXT,
    TOT_CLEAR_LOGINS,
    TOT_CLEAR_MSGS,
    TOT_IMPLICIT,
    TOT_SESSIONS,
    TOT_STARTTLS,
    TOT_COUNT
};
static const char *const TOT_NAMES[TOT_COUNT] = {
    "alerts",       "bytes",    "cleartext", "cleartext_logins", "cleartext_messages",
    "implicit_tls", "sessions", "starttls"};

/* a port's counters; its logins are in struct sum_logins */
enum {
    PT_BYTES,
    PT_CLEARTEXT,
    PT_CLEAR_MSGS,
    PT_IMPLICIT,
    PT_NOT_LISTED,
    PT_SESSIONS,
    PT_STARTTLS,
    PT_OUTCOME,
    PT_WIDTH = PT_OUTCOME + STARTTLS_OUTCOME_COUNT /* then a count per enum starttls_outcome */
};

enum { SV_ALERTS, SV_FINDINGS, SV_WIDTH = SV_FINDINGS + RULE_CLASS_COUNT };

/* countries and AS */
enum { GE_ALERTS, GE_CLEARTEXT, GE_SESSIONS, GE_WIDTH };

enum { HR_ALERTS, HR_CLEARTEXT, HR_IMPLICIT, HR_SESSIONS, HR_STARTTLS, HR_WIDTH };
static const char *const HR_NAMES[HR_WIDTH] = {"alerts", "cleartext", "implicit_tls", "sessions",
                                               "starttls"};

/* the server's (leaf) certificate */
enum {
    CT_EXPIRED,
    CT_EXPIRING,
    CT_SELF_SIGNED,
    CT_WITH_CERT,
    CT_UNTRUSTED,
    CT_WEAK_KEY,
    CT_WEAK_SIG,
    CT_COUNT
};
static const char *const CT_NAMES[CT_COUNT] = {
    "expired",   "expiring_30d", "self_signed",   "sessions_with_cert",
    "untrusted", "weak_key",     "weak_signature"};

#define SUM_OTHER_MECHS "(other mechanisms)"
#define SUM_UNKNOWN_GEO "??" /* the database does not know the address, or it is not public */

struct sum_mech {
    char name[24];        /* mechanism, upper case (as struct login_fact's) */
    uint64_t n_clear;     /* attempts whose secret was readable */
    uint64_t n_protected; /* attempts whose secret was not */
};

struct sum_logins {
    uint8_t n;                            /* entries used */
    struct sum_mech m[SUM_MECHS_MAX + 1]; /* the last one: SUM_OTHER_MECHS */
};

struct summary {
    bool has_any;                        /* a session was counted */
    pc_time first, last;                 /* earliest and latest end of a counted session */
    uint64_t totals[TOT_COUNT];          /* mail sessions (alerts: every alert) */
    uint64_t findings[RULE_CLASS_COUNT]; /* alerts by category */
    struct sum_map ports;                /* "<proto>/<port>" → PT_* */
    struct sum_logins *logins;           /* per entry of ports */
    struct sum_map servers;              /* "<addr>:<port>" → SV_* (servers with alerts) */
    struct sum_map countries;            /* ISO code → GE_* */
    struct sum_map as;                   /* AS number → GE_* */
    char (*as_org)[SUM_ORG_BYTES];       /* per entry of as: its organisation */
    struct sum_map hours;                /* "YYYY-MM-DDTHH" → HR_* */
    uint64_t tls_sessions;               /* TLS sessions */
    struct sum_map client_max;           /* highest version offered → sessions */
    struct sum_map version;              /* negotiated version → sessions */
    uint64_t weak[TLS_WEAK_COUNT];       /* sessions per weakness bit of the suite */
    uint64_t weak_none;                  /* sessions whose suite has none */
    uint64_t certs[CT_COUNT];            /* leaf certificate verdicts */
    char rec[JSON_LINE_MAX];             /* the record's document being built */
};

struct summary *summary_new(uint64_t hash_seed)
{
    struct summary *sm = xcalloc(1, sizeof *sm);
    map_init(&sm->ports, "(other ports)", SUM_PORTS_MAX, PT_WIDTH, hash_seed);
    sm->logins = xcalloc(SUM_PORTS_MAX + 1, sizeof *sm->logins);
    map_init(&sm->servers, "(other servers)", SUM_SERVERS_MAX, SV_WIDTH, hash_seed);
    map_init(&sm->countries, "(other countries)", SUM_GEO_MAX, GE_WIDTH, hash_seed);
    map_init(&sm->as, "(other as)", SUM_GEO_MAX, GE_WIDTH, hash_seed);
    sm->as_org = xcalloc(SUM_GEO_MAX + 1, sizeof *sm->as_org);
    map_init(&sm->hours, "(other hours)", SUM_HOURS_MAX, HR_WIDTH, hash_seed);
    map_init(&sm->client_max, "(other versions)", SUM_VERSIONS_MAX, 1, hash_seed);
    map_init(&sm->version, "(other versions)", SUM_VERSIONS_MAX, 1, hash_seed);
    return sm;
}

void summary_free(struct summary *sm)
{
    if (sm == NULL)
        return;
    map_free(&sm->ports);
    map_free(&sm->servers);
    map_free(&sm->countries);
    map_free(&sm->as);
    map_free(&sm->hours);
    map_free(&sm->client_max);
    map_free(&sm->version);
    free(sm->logins);
    free(sm->as_org);
    free(sm);
}

/*
 * [SUM-ANON] The one place where a server's address becomes a key: with
 * --anonymize (ec->anon) the key is the pseudonym the records show, never
 * the real address. (Countries and AS are looked up on the real address,
 * as eve.c does [EVE-ANON-GEO-REAL].)
 */
static void server_key(const struct eve_ctx *ec, const struct flow *f, char *buf, size_t n)
{
    char a[46]; /* INET6_ADDRSTRLEN */
    uint8_t p[16];
    const uint8_t *srv = f->srv;
    if (ec != NULL && ec->anon != NULL) {
        anon_addr(ec->anon, f->srv, f->ipver, p);
        srv = p;
    }
    eve_addr(srv, f->ipver, a, sizeof a);
    if (f->ipver == 6)
        snprintf(buf, n, "[%s]:%u", a, (unsigned)f->sport);
    else
        snprintf(buf, n, "%s:%u", a, (unsigned)f->sport);
}

static bool is_anonymized(const struct eve_ctx *ec)
{
    return ec != NULL && ec->anon != NULL;
}

/* The mechanism's counters in a port's logins: [SUM-MAP-CAP] past SUM_MECHS_MAX names,
 * SUM_OTHER_MECHS. */
static struct sum_mech *mech_at(struct sum_logins *lg, const char *name)
{
    for (unsigned i = 0; i < lg->n; i++)
        if (strcmp(lg->m[i].name, name) == 0)
            return &lg->m[i];
    if (lg->n >= SUM_MECHS_MAX) {
        name = SUM_OTHER_MECHS;
        for (unsigned i = SUM_MECHS_MAX; i < lg->n; i++)
            if (strcmp(lg->m[i].name, name) == 0)
                return &lg->m[i];
    }
    struct sum_mech *m = &lg->m[lg->n++]; /* n <= SUM_MECHS_MAX here: there is room */
    snprintf(m->name, sizeof m->name, "%s", name);
    return m;
}

/* [SUM-ORG-CUT] Copy an AS name into dst, cut at a UTF-8 boundary. */
static void copy_org(char *dst, size_t n, const char *src)
{
    size_t k = strlen(src);
    if (k >= n) {
        k = n - 1;
        while (k > 0 && ((uint8_t)src[k] & 0xc0) == 0x80)
            k--; /* src[k] starts a sequence: cut before it */
    }
    memcpy(dst, src, k);
    dst[k] = '\0';
}

static void count_geo(struct summary *sm, const struct eve_ctx *ec, const struct flow *f,
                      bool cleartext, size_t n_hits)
{
    const struct geoip *g = ec != NULL ? ec->geo : NULL;
    bool by_country = geoip_has_country(g), by_as = geoip_has_asn(g);
    if (!by_country && !by_as)
        return;
    struct geoip_where w; /* looked up on the real address, even when anonymised */
    geoip_where(g, f->srv, f->ipver, &w);
    if (by_country) {
        uint64_t *v =
            map_vals(&sm->countries, map_at(&sm->countries, w.has_iso ? w.iso : SUM_UNKNOWN_GEO));
        v[GE_SESSIONS]++;
        v[GE_CLEARTEXT] += cleartext;
        v[GE_ALERTS] += n_hits;
    }
    if (by_as) {
        char num[16];
        snprintf(num, sizeof num, "%" PRIu32, w.as_num);
        size_t e = map_at(&sm->as, w.has_as ? num : SUM_UNKNOWN_GEO);
        uint64_t *v = map_vals(&sm->as, e);
        v[GE_SESSIONS]++;
        v[GE_CLEARTEXT] += cleartext;
        v[GE_ALERTS] += n_hits;
        if (sm->as_org[e][0] == '\0' && w.has_as) /* the first name seen stays */
            copy_org(sm->as_org[e], sizeof sm->as_org[e], w.as_org);
    }
}

static void count_mail(struct summary *sm, const struct eve_ctx *ec, const struct flow *f,
                       const struct session *ss, const struct tls_session *ts, size_t n_hits)
{
    enum starttls_outcome oc = session_starttls(ss, ts);
    bool implicit = oc == STARTTLS_IMPLICIT, upgraded = oc == STARTTLS_UPGRADED;
    /* no TLS in effect: docs/summary.md; an unknown outcome is none of the three classes */
    bool cleartext = !implicit && !upgraded && oc != STARTTLS_UNKNOWN;
    uint64_t bytes = f->bytes[0] + f->bytes[1];
    char key[SUM_KEY_BYTES];
    snprintf(key, sizeof key, "%s/%u", session_proto_name(ss), (unsigned)f->sport);
    size_t pe = map_at(&sm->ports, key);
    uint64_t *p = map_vals(&sm->ports, pe);
    p[PT_SESSIONS]++;
    p[PT_BYTES] += bytes;
    p[PT_CLEARTEXT] += cleartext;
    p[PT_STARTTLS] += upgraded;
    p[PT_IMPLICIT] += implicit;
    p[PT_OUTCOME + oc]++;
    p[PT_CLEAR_MSGS] += ss->cleartext_messages;
    p[PT_NOT_LISTED] += ss->logins_dropped;
    uint64_t clear_logins = 0;
    for (unsigned i = 0; i < ss->n_logins; i++) {
        const struct login_fact *l = &ss->logins[i];
        char mech[sizeof l->mech];
        size_t k = 0;
        for (; k < sizeof mech - 1 && l->mech[k] != '\0'; k++) {
            char c = l->mech[k];
            mech[k] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
        }
        mech[k] = '\0';
        struct sum_mech *m = mech_at(&sm->logins[pe], mech);
        m->n_clear += l->cleartext;
        m->n_protected += !l->cleartext;
        clear_logins += l->cleartext;
    }
    sm->totals[TOT_SESSIONS]++;
    sm->totals[TOT_BYTES] += bytes;
    sm->totals[TOT_CLEARTEXT] += cleartext;
    sm->totals[TOT_STARTTLS] += upgraded;
    sm->totals[TOT_IMPLICIT] += implicit;
    sm->totals[TOT_CLEAR_LOGINS] += clear_logins;
    sm->totals[TOT_CLEAR_MSGS] += ss->cleartext_messages;

    char t[40];
    time_iso8601(f->last, t, sizeof t);
    t[13] = '\0'; /* "2026-11-28T17": the hour, UTC */
    uint64_t *h = map_vals(&sm->hours, map_at(&sm->hours, t));
    h[HR_SESSIONS]++;
    h[HR_CLEARTEXT] += cleartext;
    h[HR_STARTTLS] += upgraded;
    h[HR_IMPLICIT] += implicit;
    h[HR_ALERTS] += n_hits;
    count_geo(sm, ec, f, cleartext, n_hits);
}

static void count_tls(struct summary *sm, const struct tls_session *ts)
{
    char vb[24];
    sm->tls_sessions++;
    const char *cm = ts->seen_ch ? tls_version_name(ts->client_max, vb, sizeof vb) : "unknown";
    map_vals(&sm->client_max, map_at(&sm->client_max, cm))[0]++;
    const char *v = ts->has_sh ? tls_version_name(ts->version, vb, sizeof vb) : "none";
    map_vals(&sm->version, map_at(&sm->version, v))[0]++;
    if (ts->has_sh) { /* a suite was chosen: its weaknesses, as in tls.cipher_weaknesses */
        if (ts->weak == 0)
            sm->weak_none++;
        for (unsigned b = 0; b < TLS_WEAK_COUNT; b++)
            sm->weak[b] += (ts->weak & (1u << b)) != 0;
    }
    /* the leaf as the record shows it: seen in clear and parsed */
    if (ts->certs_encrypted || ts->n_certs == 0 || !ts->certs[0].parsed)
        return;
    const struct tls_cert_verdict *cv = &ts->verdicts[0];
    const struct x509_info *in = &ts->certs[0].info;
    sm->certs[CT_WITH_CERT]++;
    sm->certs[CT_EXPIRED] += cv->expired;
    sm->certs[CT_EXPIRING] += !cv->expired && cv->days_left < 30;
    sm->certs[CT_SELF_SIGNED] += in->self_signed;
    sm->certs[CT_UNTRUSTED] += cv->trusted == 0; /* -1: no trust store, not judged */
    sm->certs[CT_WEAK_KEY] += cv->weak_key;
    sm->certs[CT_WEAK_SIG] += in->sig_weak;
}

void summary_session(struct summary *sm, const struct eve_ctx *ec, const struct flow *f,
                     const struct session *ss, const struct tls_session *ts, const uint8_t *classes,
                     size_t n_hits)
{
    if (ss == NULL && ts == NULL)
        return;
    if (!sm->has_any || f->last < sm->first)
        sm->first = f->last;
    if (!sm->has_any || f->last > sm->last)
        sm->last = f->last;
    sm->has_any = true;
    sm->totals[TOT_ALERTS] += n_hits;
    if (n_hits > 0) {
        char key[SUM_KEY_BYTES];
        server_key(ec, f, key, sizeof key);
        uint64_t *v = map_vals(&sm->servers, map_at(&sm->servers, key));
        v[SV_ALERTS] += n_hits;
        for (size_t i = 0; i < n_hits; i++) {
            unsigned c = classes[i];
            if (c < RULE_CLASS_COUNT) {
                sm->findings[c]++;
                v[SV_FINDINGS + c]++;
            }
        }
    }
    if (ts != NULL)
        count_tls(sm, ts);
    if (ss != NULL) /* a TLS-only session (--tls-all-ports) counts in "tls" alone */
        count_mail(sm, ec, f, ss, ts, n_hits);
}

/* ---- the writer ---------------------------------------------------------- */

struct sum_out {
    FILE *f;         /* the target, or NULL: buf */
    char *buf;       /* bounded target */
    size_t cap;      /* its size */
    size_t len;      /* bytes used */
    bool is_full;    /* buf could not take everything: the output is incomplete */
    bool has_error;  /* a write to f failed */
    bool pretty;     /* newlines and 2-space indents */
    unsigned depth;  /* open containers */
    bool need_comma; /* a member was written at this level */
};

static void o_put(struct sum_out *o, const char *s, size_t n)
{
    if (o->f != NULL) {
        if (n > 0 && fwrite(s, 1, n, o->f) != n)
            o->has_error = true;
        return;
    }
    if (o->is_full || n > o->cap - o->len) {
        o->is_full = true; /* [SUM-RECORD-CAP] the caller tries again with less */
        return;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static void o_newline(struct sum_out *o)
{
    static const char spaces[] = "\n                                ";
    if (!o->pretty)
        return;
    size_t n = 1 + 2 * (size_t)o->depth; /* the document nests 6 deep */
    o_put(o, spaces, n < sizeof spaces - 1 ? n : sizeof spaces - 1);
}

/* [SUM-KEY-WIRE] a JSON string, escaped as json.c escapes (RFC 8259 §7) */
static void o_string(struct sum_out *o, const char *str)
{
    const uint8_t *s = (const uint8_t *)str;
    size_t n = strlen(str), i = 0;
    o_put(o, "\"", 1);
    while (i < n) {
        size_t run = i;
        while (run < n && s[run] >= 0x20 && s[run] < 0x7f && s[run] != '"' && s[run] != '\\')
            run++;
        if (run > i) {
            o_put(o, str + i, run - i);
            i = run;
            continue;
        }
        uint8_t c = s[i];
        char esc[8];
        size_t u;
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            o_put(o, esc, 2);
        } else if (c == '\n') {
            o_put(o, "\\n", 2);
        } else if (c == '\r') {
            o_put(o, "\\r", 2);
        } else if (c == '\t') {
            o_put(o, "\\t", 2);
        } else if (c < 0x20 || c == 0x7f || (u = j_utf8_len(s + i, n - i)) == 0) {
            snprintf(esc, sizeof esc, "\\u%04x", c); /* control byte, or not UTF-8 */
            o_put(o, esc, 6);
        } else {
            o_put(o, str + i, u);
            i += u;
            continue;
        }
        i++;
    }
    o_put(o, "\"", 1);
}

/* Before a member: the comma, the indent, "key": (key NULL in arrays). */
static void o_key(struct sum_out *o, const char *key)
{
    if (o->depth > 0) {
        if (o->need_comma)
            o_put(o, ",", 1);
        o_newline(o);
    }
    if (key != NULL) {
        o_string(o, key);
        o_put(o, o->pretty ? ": " : ":", o->pretty ? 2 : 1);
    }
    o->need_comma = true;
}

static void o_open(struct sum_out *o, const char *key, char c)
{
    o_key(o, key);
    o_put(o, &c, 1);
    o->depth++;
    o->need_comma = false;
}

static void o_close(struct sum_out *o, char c)
{
    o->depth--;
    if (o->need_comma) /* not empty: the closer on a line of its own */
        o_newline(o);
    o_put(o, &c, 1);
    o->need_comma = true;
}

static void o_u64(struct sum_out *o, const char *key, uint64_t v)
{
    char b[24];
    int n = snprintf(b, sizeof b, "%" PRIu64, v);
    o_key(o, key);
    o_put(o, b, (size_t)n);
}

static void o_str(struct sum_out *o, const char *key, const char *s)
{
    o_key(o, key);
    o_string(o, s);
}

_Static_assert(RULE_CLASS_COUNT <= 32 && TLS_WEAK_COUNT + 1 <= 32, "o_counts sorts 32 names");

/* {"name": count, ...} of the non-zero counts; names need not be sorted (at most 32). */
static void o_counts(struct sum_out *o, const char *key, const char *const *names,
                     const uint64_t *counts, size_t n)
{
    const char *sorted[32] = {NULL};
    size_t k = 0;
    for (size_t i = 0; i < n && k < 32; i++)
        if (counts[i] != 0)
            sorted[k++] = names[i];
    qsort(sorted, k, sizeof *sorted, cmp_key);
    o_open(o, key, '{');
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < n; j++)
            if (names[j] == sorted[i])
                o_u64(o, names[j], counts[j]);
    o_close(o, '}');
}

/* {"name": count, ...} of every count, names in byte order */
static void o_fixed(struct sum_out *o, const char *key, const char *const *names,
                    const uint64_t *counts, size_t n)
{
    o_open(o, key, '{');
    for (size_t i = 0; i < n; i++)
        o_u64(o, names[i], counts[i]);
    o_close(o, '}');
}

static void write_logins(struct sum_out *o, const struct sum_logins *lg)
{
    const char *names[SUM_MECHS_MAX + 1] = {NULL};
    for (unsigned i = 0; i < lg->n; i++)
        names[i] = lg->m[i].name;
    qsort(names, lg->n, sizeof *names, cmp_key);
    o_open(o, "logins", '{');
    for (unsigned i = 0; i < lg->n; i++) {
        const struct sum_mech *m = (const struct sum_mech *)(const void *)names[i];
        o_open(o, m->name, '{'); /* name is the first member: the entry's address */
        o_u64(o, "cleartext", m->n_clear);
        o_u64(o, "protected", m->n_protected);
        o_close(o, '}');
    }
    o_close(o, '}');
}

static void write_ports(struct sum_out *o, struct summary *sm)
{
    static const char *const pt_names[] = {"bytes", "cleartext", "cleartext_messages",
                                           "implicit_tls"};
    size_t n = map_sort(&sm->ports);
    o_open(o, "ports", '{');
    for (size_t i = 0; i < n; i++) {
        size_t e = map_index(&sm->ports, sm->ports.order[i]);
        const uint64_t *v = map_vals(&sm->ports, e);
        o_open(o, sm->ports.keys[e], '{');
        for (size_t k = 0; k < 4; k++) /* PT_BYTES .. PT_IMPLICIT, in name order */
            o_u64(o, pt_names[k], v[k]);
        write_logins(o, &sm->logins[e]);
        o_u64(o, "logins_not_listed", v[PT_NOT_LISTED]);
        o_u64(o, "sessions", v[PT_SESSIONS]);
        o_u64(o, "starttls", v[PT_STARTTLS]);
        o_counts(o, "starttls_outcome", starttls_outcome_names, v + PT_OUTCOME,
                 STARTTLS_OUTCOME_COUNT);
        o_close(o, '}');
    }
    o_close(o, '}');
}

static void write_servers(struct sum_out *o, struct summary *sm)
{
    const char *names[RULE_CLASS_COUNT];
    for (int c = 0; c < RULE_CLASS_COUNT; c++)
        names[c] = rule_class_name((enum rule_class)c);
    size_t n = map_sort(&sm->servers);
    o_open(o, "servers", '{');
    for (size_t i = 0; i < n; i++) {
        size_t e = map_index(&sm->servers, sm->servers.order[i]);
        const uint64_t *v = map_vals(&sm->servers, e);
        o_open(o, sm->servers.keys[e], '{');
        o_u64(o, "alerts", v[SV_ALERTS]);
        o_counts(o, "findings", names, v + SV_FINDINGS, RULE_CLASS_COUNT);
        o_close(o, '}');
    }
    o_close(o, '}');
}

/* countries, or (orgs != NULL) AS */
static void write_geo(struct sum_out *o, const char *key, struct sum_map *m,
                      char (*orgs)[SUM_ORG_BYTES])
{
    size_t n = map_sort(m);
    o_open(o, key, '{');
    for (size_t i = 0; i < n; i++) {
        size_t e = map_index(m, m->order[i]);
        const uint64_t *v = map_vals(m, e);
        o_open(o, m->keys[e], '{');
        o_u64(o, "alerts", v[GE_ALERTS]);
        o_u64(o, "cleartext", v[GE_CLEARTEXT]);
        if (orgs != NULL)
            o_str(o, "org", orgs[e]);
        o_u64(o, "sessions", v[GE_SESSIONS]);
        o_close(o, '}');
    }
    o_close(o, '}');
}

/* {"key": {names[0]: n, ...}, ...} for every key of m, or {"key": n} when names is NULL */
static void write_map(struct sum_out *o, const char *key, struct sum_map *m,
                      const char *const *names)
{
    size_t n = map_sort(m);
    o_open(o, key, '{');
    for (size_t i = 0; i < n; i++) {
        size_t e = map_index(m, m->order[i]);
        if (names == NULL)
            o_u64(o, m->keys[e], map_vals(m, e)[0]);
        else
            o_fixed(o, m->keys[e], names, map_vals(m, e), m->width);
    }
    o_close(o, '}');
}

static void write_tls(struct sum_out *o, struct summary *sm)
{
    const char *names[TLS_WEAK_COUNT + 1];
    uint64_t counts[TLS_WEAK_COUNT + 1];
    for (unsigned b = 0; b < TLS_WEAK_COUNT; b++) {
        names[b] = tls_weakness_name(1u << b);
        counts[b] = sm->weak[b];
    }
    names[TLS_WEAK_COUNT] = "none";
    counts[TLS_WEAK_COUNT] = sm->weak_none;
    o_open(o, "tls", '{');
    o_fixed(o, "certs", CT_NAMES, sm->certs, CT_COUNT);
    o_counts(o, "cipher_weakness", names, counts, TLS_WEAK_COUNT + 1);
    write_map(o, "client_max_version", &sm->client_max, NULL);
    o_u64(o, "sessions", sm->tls_sessions);
    write_map(o, "version", &sm->version, NULL);
    o_close(o, '}');
}

/* maps a record may leave out, in the order it leaves them out [SUM-RECORD-CAP] */
enum { CUT_SERVERS = 1, CUT_HOURS = 2, CUT_AS = 4, CUT_COUNTRIES = 8, CUT_PORTS = 16 };

static void write_doc(struct sum_out *o, struct summary *sm, const struct eve_ctx *ec, unsigned cut)
{
    const char *names[RULE_CLASS_COUNT];
    for (int c = 0; c < RULE_CLASS_COUNT; c++)
        names[c] = rule_class_name((enum rule_class)c);
    char t[40] = "";
    o_open(o, NULL, '{');
    o_key(o, "anonymized");
    o_put(o, is_anonymized(ec) ? "true" : "false", is_anonymized(ec) ? 4 : 5);
    if (!(cut & CUT_AS))
        write_geo(o, "as", &sm->as, sm->as_org);
    if (!(cut & CUT_COUNTRIES))
        write_geo(o, "countries", &sm->countries, NULL);
    o_counts(o, "findings", names, sm->findings, RULE_CLASS_COUNT);
    if (sm->has_any)
        time_iso8601(sm->first, t, sizeof t);
    o_str(o, "first", t);
    if (!(cut & CUT_HOURS))
        write_map(o, "hours", &sm->hours, HR_NAMES);
    if (sm->has_any)
        time_iso8601(sm->last, t, sizeof t);
    o_str(o, "last", t);
    if (!(cut & CUT_PORTS))
        write_ports(o, sm);
    o_open(o, "sensors", '[');
    if (ec != NULL && ec->host != NULL)
        o_str(o, NULL, ec->host);
    o_close(o, ']');
    if (!(cut & CUT_SERVERS))
        write_servers(o, sm);
    o_u64(o, "summary_version", SUM_VERSION);
    write_tls(o, sm);
    o_fixed(o, "totals", TOT_NAMES, sm->totals, TOT_COUNT);
    if (cut != 0) {
        o_key(o, "truncated");
        o_put(o, "true", 4);
    }
    o_close(o, '}');
}

int summary_write(struct summary *sm, const struct eve_ctx *ec, FILE *out, bool pretty)
{
    struct sum_out o = {.f = out, .pretty = pretty};
    write_doc(&o, sm, ec, 0);
    o_put(&o, "\n", 1);
    return o.has_error || ferror(out) ? -1 : 0;
}

static int tmp_path(const char *path, char *buf, size_t n, struct err *e)
{
    int k = snprintf(buf, n, "%s.tmp", path);
    if (k < 0 || (size_t)k >= n)
        return err_set(e, "--summary %s: path too long", path);
    return 0;
}

int summary_check_path(const char *path, struct err *e)
{
    char tmp[PATH_BYTES];
    if (tmp_path(path, tmp, sizeof tmp, e) != 0)
        return -1;
    FILE *f = fopen(tmp, "w");
    if (f == NULL)
        return err_set(e, "--summary %s: %s", tmp, strerror(errno));
    fclose(f);
    unlink(tmp);
    return 0;
}

int summary_write_file(struct summary *sm, const struct eve_ctx *ec, const char *path,
                       struct err *e)
{
    char tmp[PATH_BYTES];
    if (tmp_path(path, tmp, sizeof tmp, e) != 0)
        return -1;
    FILE *f = fopen(tmp, "w");
    if (f == NULL)
        return err_set(e, "--summary %s: %s", tmp, strerror(errno));
    errno = 0;
    int rc = summary_write(sm, ec, f, true);
    int saved = errno;
    if (rc == 0 && (fflush(f) != 0 || fsync(fileno(f)) != 0)) { /* on disk before the rename */
        rc = -1;
        saved = errno;
    }
    if (fclose(f) != 0 && rc == 0) {
        rc = -1;
        saved = errno;
    }
    if (rc != 0) { /* [SUM-WRITE-FAIL] no half document under the final name */
        unlink(tmp);
        return err_set(e, "--summary %s: %s", tmp, saved ? strerror(saved) : "write error");
    }
    if (rename(tmp, path) != 0) {
        saved = errno;
        unlink(tmp);
        return err_set(e, "--summary %s: %s", path, strerror(saved));
    }
    return 0;
}

void summary_record(struct summary *sm, const struct eve_ctx *ec, pc_time ts, struct jbuf *j)
{
    /* [SUM-RECORD-CAP] what leaves room for the envelope, the key and json.c's reserve */
    static const unsigned cuts[] = {0,
                                    CUT_SERVERS,
                                    CUT_SERVERS | CUT_HOURS,
                                    CUT_SERVERS | CUT_HOURS | CUT_AS,
                                    CUT_SERVERS | CUT_HOURS | CUT_AS | CUT_COUNTRIES,
                                    CUT_SERVERS | CUT_HOURS | CUT_AS | CUT_COUNTRIES | CUT_PORTS};
    eve_begin_plain(j, ec, ts, "summary");
    size_t reserve = j->len + 64;
    size_t room = reserve < sizeof sm->rec ? sizeof sm->rec - reserve : 0;
    struct sum_out o = {.buf = sm->rec};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        o = (struct sum_out){.buf = sm->rec, .cap = room};
        write_doc(&o, sm, ec, cuts[i]);
        if (!o.is_full)
            break;
    }
    if (!o.is_full) {
        j_raw(j, "summary", sm->rec, o.len);
    } else { /* not even the totals fit beside this envelope */
        j_obj(j, "summary");
        j_u64(j, "summary_version", SUM_VERSION);
        j_bool(j, "truncated", true);
        j_obj_end(j);
    }
    j_end(j);
}

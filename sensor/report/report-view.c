/*
 * report-view.c — what report.md and report.html share: counts and shares
 * as text, the order in which ports, versions, weaknesses and servers are
 * listed, and the "hours" map as a table or a timeline.
 *
 * Everything here reads a checked document (report_check): every key of a
 * record is there with its type, so a lookup that fails means a map key
 * that is absent, which counts as 0.
 *
 * Hazards:
 *   [REPORT-SUM-SAT]   totals computed here (logins over all ports, hours into days)
 *                      add counts a hostile document may set near 2^64: they
 *                      saturate instead of wrapping
 *   [REPORT-HOUR-KEY]  an hour key is data: only "YYYY-MM-DDTHH" with a real date is
 *                      placed on the timeline; anything else stays a table row
 */
#include "report/report.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "sensor-limits.h"

uint64_t rv_u64(const struct jval *o, const char *key)
{
    const struct jval *v = jval_get(o, key);
    return v != NULL && v->type == JV_INT ? v->u : 0;
}

const struct jval *rv_obj(const struct jval *o, const char *key)
{
    const struct jval *v = jval_get(o, key);
    return v != NULL && v->type == JV_OBJ ? v : NULL;
}

uint64_t rv_sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b; /* [REPORT-SUM-SAT] */
}

void rv_count(char *buf, size_t n, uint64_t v)
{
    char d[32];
    int len = snprintf(d, sizeof d, "%" PRIu64, v);
    size_t o = 0;
    for (int i = 0; i < len && o + 1 < n; i++) {
        if (i > 0 && (len - i) % 3 == 0 && o + 2 < n)
            buf[o++] = ',';
        buf[o++] = d[i];
    }
    if (n > 0)
        buf[o < n ? o : n - 1] = '\0';
}

double rv_share(uint64_t part, uint64_t whole)
{
    if (whole == 0)
        return 0;
    double s = (double)part / (double)whole;
    return s > 1 ? 1 : s;
}

void rv_pct(char *buf, size_t n, uint64_t part, uint64_t whole)
{
    if (whole == 0) {
        snprintf(buf, n, "-");
        return;
    }
    double p = 100.0 * (double)part / (double)whole;
    if (part > 0 && p < 0.05)
        snprintf(buf, n, "<0.1%%"); /* not "0.0%": there was some */
    else if (part < whole && p > 99.95)
        snprintf(buf, n, ">99.9%%"); /* not "100.0%": some were not */
    else
        snprintf(buf, n, "%.1f%%", p);
}

/* ---- listing orders ------------------------------------------------------------ */

struct ranked {
    const struct jmember *m; /* the member */
    uint64_t rank;           /* primary order (meaning depends on the listing) */
    uint64_t sub;            /* secondary order */
};

static int ranked_cmp(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;
    if (x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    if (x->sub != y->sub)
        return x->sub < y->sub ? -1 : 1;
    return jval_keycmp(x->m->key, x->m->klen, y->m->key, y->m->klen);
}

static size_t sort_ranked(struct ranked *r, size_t n, const struct jmember **out)
{
    if (n > 1)
        qsort(r, n, sizeof *r, ranked_cmp);
    for (size_t i = 0; i < n; i++)
        out[i] = r[i].m;
    free(r);
    return n;
}

size_t rv_ports(const struct jval *map, const struct jmember **out)
{
    if (map == NULL || map->type != JV_OBJ)
        return 0;
    struct ranked *r = xcalloc(map->obj.n, sizeof *r);
    for (size_t i = 0; i < map->obj.n; i++) {
        const struct jmember *m = &map->obj.m[i];
        const char *slash = memchr(m->key, '/', m->klen);
        uint64_t port = UINT64_MAX; /* keys without a readable port go last in their protocol */
        if (slash != NULL) {
            const char *p = slash + 1, *end = m->key + m->klen;
            uint64_t v = 0;
            while (p < end && *p >= '0' && *p <= '9' && v < 100000)
                v = v * 10 + (uint64_t)(*p++ - '0');
            if (p == end && p > slash + 1)
                port = v;
        }
        /* protocol order: by the first bytes of the key, then the port */
        uint64_t proto = 0;
        size_t plen = slash != NULL ? (size_t)(slash - m->key) : m->klen;
        for (size_t k = 0; k < 7; k++)
            proto = proto << 8 | (k < plen ? (unsigned char)m->key[k] : 0);
        r[i] = (struct ranked){m, proto, port};
    }
    return sort_ranked(r, map->obj.n, out);
}

static uint64_t rank_in(const struct jmember *m, const char *const *order, size_t n)
{
    for (size_t k = 0; k < n && order[k] != NULL; k++)
        if (strlen(order[k]) == m->klen && memcmp(order[k], m->key, m->klen) == 0)
            return k;
    return 1000; /* not in the list: after it, by key */
}

/* order: n names, or fewer ended by NULL */
static size_t ordered(const struct jval *map, const char *const *order, size_t n,
                      const struct jmember **out)
{
    if (map == NULL || map->type != JV_OBJ)
        return 0;
    struct ranked *r = xcalloc(map->obj.n, sizeof *r);
    for (size_t i = 0; i < map->obj.n; i++)
        r[i] = (struct ranked){&map->obj.m[i], rank_in(&map->obj.m[i], order, n), 0};
    return sort_ranked(r, map->obj.n, out);
}

static const char *const version_order[] = {"SSLv2",   "SSLv3",   "TLSv1",   "TLSv1.0", "TLSv1.1",
                                            "TLSv1.2", "TLSv1.3", "unknown", "none",    NULL};

size_t rv_versions(const struct jval *map, const struct jmember **out)
{
    return ordered(map, version_order, SIZE_MAX, out);
}

size_t rv_version_union(const struct jval *a, const struct jval *b, const struct jmember **out)
{
    size_t na = a != NULL && a->type == JV_OBJ ? a->obj.n : 0;
    size_t nb = b != NULL && b->type == JV_OBJ ? b->obj.n : 0;
    struct ranked *r = xcalloc(na + nb, sizeof *r);
    for (size_t i = 0; i < na; i++)
        r[i] = (struct ranked){&a->obj.m[i], rank_in(&a->obj.m[i], version_order, SIZE_MAX), 0};
    for (size_t i = 0; i < nb; i++)
        r[na + i] =
            (struct ranked){&b->obj.m[i], rank_in(&b->obj.m[i], version_order, SIZE_MAX), 0};
    size_t n = sort_ranked(r, na + nb, out), k = 0;
    for (size_t i = 0; i < n; i++) /* the same key from both maps: once */
        if (k == 0 ||
            jval_keycmp(out[k - 1]->key, out[k - 1]->klen, out[i]->key, out[i]->klen) != 0)
            out[k++] = out[i];
    return k;
}

size_t rv_weaknesses(const struct jval *map, const struct jmember **out)
{
    /* most serious first (RFC 7465 rc4, RFC 6176-era export/null/anon), then
     * the ones that only fall short of today's practice */
    static const char *const order[] = {"null", "export", "anon", "des",  "rc2",
                                        "rc4",  "md5",    "3des", "idea", "no-forward-secrecy",
                                        "cbc",  "none",   NULL};
    return ordered(map, order, SIZE_MAX, out);
}

size_t rv_outcomes(const struct jval *map, const struct jmember **out)
{
    return ordered(map, starttls_outcome_names, STARTTLS_OUTCOME_COUNT, out);
}

size_t rv_by_count(const struct jval *map, const char *field, const struct jmember **out)
{
    if (map == NULL || map->type != JV_OBJ)
        return 0;
    struct ranked *r = xcalloc(map->obj.n, sizeof *r);
    for (size_t i = 0; i < map->obj.n; i++) {
        const struct jmember *m = &map->obj.m[i];
        uint64_t c =
            field == NULL ? (m->val.type == JV_INT ? m->val.u : 0) : rv_u64(&m->val, field);
        r[i] = (struct ranked){m, UINT64_MAX - c, 0}; /* largest first */
    }
    return sort_ranked(r, map->obj.n, out);
}

const char *rv_version_class(const char *name)
{
    static const char *const old[] = {"SSLv2", "SSLv3", "TLSv1", "TLSv1.0", "TLSv1.1", NULL};
    for (size_t i = 0; old[i] != NULL; i++)
        if (strcmp(name, old[i]) == 0)
            return "old";
    if (strcmp(name, "TLSv1.2") == 0)
        return "ok";
    if (strncmp(name, "TLSv1.3", 7) == 0) /* and its drafts */
        return "good";
    return "unknown";
}

/* ---- the timeline ------------------------------------------------------------------ */

/* Days since 1970-01-01 of a civil date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static bool digits(const char *s, size_t n, unsigned *v)
{
    *v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        *v = *v * 10 + (unsigned)(s[i] - '0');
    }
    return true;
}

/* "YYYY-MM-DDTHH" as hours since the epoch. [REPORT-HOUR-KEY] */
static bool hour_of(const struct jmember *m, int64_t *h)
{
    unsigned y, mo, d, hh;
    const char *k = m->key;
    if (m->klen != 13 || k[4] != '-' || k[7] != '-' || k[10] != 'T')
        return false;
    if (!digits(k, 4, &y) || !digits(k + 5, 2, &mo) || !digits(k + 8, 2, &d) ||
        !digits(k + 11, 2, &hh))
        return false;
    static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || hh > 23)
        return false;
    int64_t days = days_from_civil(y, mo, d);
    int cy;
    unsigned cm, cd; /* 29 February of a common year does not come back the same */
    civil_from_days(days, &cy, &cm, &cd);
    if (cm != mo || cd != d)
        return false;
    *h = days * 24 + hh;
    return true;
}

/* The first hour of the day of hour h (floor, also before 1970). */
static int64_t day_start(int64_t h)
{
    int64_t r = h % 24;
    return h - (r < 0 ? r + 24 : r);
}

static void label_of(struct rv_bucket *b, int64_t hour, bool by_day)
{
    int y;
    unsigned m, d;
    int64_t day = day_start(hour) / 24;
    civil_from_days(day, &y, &m, &d);
    if (by_day)
        snprintf(b->label, sizeof b->label, "%04d-%02u-%02u", y, m, d);
    else
        snprintf(b->label, sizeof b->label, "%04d-%02u-%02uT%02u", y, m, d,
                 (unsigned)(hour - day * 24));
    b->label_n = strlen(b->label);
}

static void add_counts(struct rv_bucket *b, const struct jval *v)
{
    b->sessions = rv_sat_add(b->sessions, rv_u64(v, "sessions"));
    b->cleartext = rv_sat_add(b->cleartext, rv_u64(v, "cleartext"));
    b->starttls = rv_sat_add(b->starttls, rv_u64(v, "starttls"));
    b->implicit_tls = rv_sat_add(b->implicit_tls, rv_u64(v, "implicit_tls"));
    b->alerts = rv_sat_add(b->alerts, rv_u64(v, "alerts"));
}

/* Table rows: one per key, or one per run of keys sharing their first 10 bytes (a day). */
static size_t table_rows(const struct jval *hours, struct rv_bucket **out, bool *by_day)
{
    size_t n = hours->obj.n;
    *by_day = n > REPORT_TABLE_MAX_HOURS;
    struct rv_bucket *b = xcalloc(n, sizeof *b);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const struct jmember *m = &hours->obj.m[i];
        size_t ln = *by_day && m->klen > 10 ? 10 : m->klen;
        if (ln > sizeof b->label - 1) { /* cut, at a UTF-8 boundary */
            ln = sizeof b->label - 1;
            while (ln > 0 && ((unsigned char)m->key[ln] & 0xc0) == 0x80)
                ln--;
        }
        if (!(*by_day && k > 0 && b[k - 1].label_n == ln &&
              memcmp(b[k - 1].label, m->key, ln) == 0)) {
            memcpy(b[k].label, m->key, ln);
            b[k].label_n = ln;
            k++;
        }
        add_counts(&b[k - 1], &m->val);
    }
    *out = b;
    return k;
}

size_t rv_timeline(const struct jval *hours, enum rv_timeline how, struct rv_bucket **out,
                   bool *by_day)
{
    *out = NULL;
    *by_day = false;
    if (hours == NULL || hours->type != JV_OBJ || hours->obj.n == 0)
        return 0;
    if (how == RV_TABLE)
        return table_rows(hours, out, by_day);
    int64_t lo = INT64_MAX, hi = INT64_MIN, h;
    size_t valid = 0;
    for (size_t i = 0; i < hours->obj.n; i++) {
        if (!hour_of(&hours->obj.m[i], &h))
            continue;
        valid++;
        lo = h < lo ? h : lo;
        hi = h > hi ? h : hi;
    }
    if (valid == 0)
        return 0;
    int64_t step = 1;
    if (hi - lo + 1 > REPORT_TIMELINE_MAX_BARS) { /* by day */
        *by_day = true;
        step = 24;
        lo = day_start(lo);
        hi = day_start(hi);
    }
    size_t n;
    int64_t *start = NULL; /* the hour each bucket starts at, for the sparse case */
    if ((hi - lo) / step + 1 <= REPORT_TIMELINE_MAX_BARS) {
        n = (size_t)((hi - lo) / step + 1);
    } else { /* more days than bars: only the days that have data, in order */
        start = xcalloc(valid, sizeof *start);
        n = 0;
        for (size_t i = 0; i < hours->obj.n; i++) {
            if (!hour_of(&hours->obj.m[i], &h))
                continue;
            h = day_start(h);
            if (n == 0 || start[n - 1] != h)
                start[n++] = h; /* keys are sorted, and their text order is time order */
        }
    }
    struct rv_bucket *b = xcalloc(n, sizeof *b);
    for (size_t i = 0; i < n; i++)
        label_of(&b[i], start != NULL ? start[i] : lo + (int64_t)i * step, *by_day);
    for (size_t i = 0; i < hours->obj.n; i++) {
        if (!hour_of(&hours->obj.m[i], &h))
            continue;
        size_t at;
        if (start == NULL) {
            at = (size_t)((h - lo) / step);
        } else {
            size_t l = 0, r = n; /* the day's bucket */
            while (l + 1 < r) {
                size_t mid = (l + r) / 2;
                if (start[mid] <= h)
                    l = mid;
                else
                    r = mid;
            }
            at = l;
        }
        add_counts(&b[at], &hours->obj.m[i].val);
    }
    free(start);
    *out = b;
    return n;
}

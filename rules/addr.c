/*
 * addr.c — address and port sets of a rule header (and of suppress ip and
 * variable values), parsed and normalised into sorted disjoint ranges.
 *
 *   set   := '!'* prim
 *   prim  := 'any' | '$' NAME | '[' set (',' set)* ']' | literal
 *   addr literal := IPv4 | IPv6 | IPv4 '/' 0..32 | IPv6 '/' 0..128
 *   port literal := N | N ':' M | N ':'          (0 <= N <= M <= 65535)
 *
 * Meaning, as in Suricata: '!x' is everything but x; a list is the union
 * of its plain items minus the union of its negated items, and a list of
 * negated items only starts from 'any'. '$NAME' is the variable's value,
 * parsed the same way. A set that ends up empty ('!any') is an error.
 *
 * Ranges are 128-bit wide whatever they hold (IPv4 in 0..2^32-1, IPv6 in
 * 0..2^128-1, ports in 0..65535), so one piece of interval arithmetic
 * serves the three.
 *
 * Hazards: [RULES-LIST-DEEP] '[' nesting is bounded (RULES_MAX_LIST_DEPTH).
 * [RULES-VAR-CYCLE] variables naming each other are caught by a stack of
 * the names being expanded. [RULES-VAR-BLOWUP] variables repeating
 * variables could expand exponentially: RULES_MAX_EXPAND_BYTES bounds the
 * text parsed through them. [RULES-LIST-LONG] RULES_MAX_LIST_ITEMS per list.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules-int.h"

/* ---- 128-bit range sets --------------------------------------------------- */

struct u128 {
    uint64_t hi, lo; /* the value is hi * 2^64 + lo */
};

struct irange {
    struct u128 lo, hi; /* inclusive */
};

struct iset {
    struct irange *r; /* ranges; sorted, disjoint and non-adjacent once normalised */
    size_t n;         /* entries used */
    size_t cap;       /* entries allocated */
};

static int u_cmp(struct u128 a, struct u128 b)
{
    if (a.hi != b.hi)
        return a.hi < b.hi ? -1 : 1;
    if (a.lo != b.lo)
        return a.lo < b.lo ? -1 : 1;
    return 0;
}

static struct u128 u_inc(struct u128 a)
{
    a.lo++;
    if (a.lo == 0)
        a.hi++;
    return a;
}

static struct u128 u_dec(struct u128 a)
{
    if (a.lo == 0)
        a.hi--;
    a.lo--;
    return a;
}

static struct u128 u_make(uint64_t hi, uint64_t lo)
{
    struct u128 v = {hi, lo};
    return v;
}

static void iset_free(struct iset *s)
{
    free(s->r);
    memset(s, 0, sizeof *s);
}

static void iset_add(struct iset *s, struct u128 lo, struct u128 hi)
{
    void *p = s->r;
    rl_grow(&p, &s->cap, s->n + 1, sizeof s->r[0]);
    s->r = p;
    s->r[s->n].lo = lo;
    s->r[s->n].hi = hi;
    s->n++;
}

static int irange_cmp(const void *a, const void *b)
{
    return u_cmp(((const struct irange *)a)->lo, ((const struct irange *)b)->lo);
}

/* Sort, then merge ranges that overlap or touch. */
static void iset_norm(struct iset *s)
{
    if (s->n < 2)
        return;
    qsort(s->r, s->n, sizeof s->r[0], irange_cmp);
    size_t o = 0;
    for (size_t i = 1; i < s->n; i++) {
        struct irange *cur = &s->r[o];
        const struct irange *nx = &s->r[i];
        bool is_full = cur->hi.hi == UINT64_MAX && cur->hi.lo == UINT64_MAX;
        if (is_full || u_cmp(nx->lo, u_inc(cur->hi)) <= 0) {
            if (u_cmp(nx->hi, cur->hi) > 0)
                cur->hi = nx->hi;
        } else {
            s->r[++o] = *nx;
        }
    }
    s->n = o + 1;
}

static void iset_union(struct iset *dst, const struct iset *src)
{
    for (size_t i = 0; i < src->n; i++)
        iset_add(dst, src->r[i].lo, src->r[i].hi);
    iset_norm(dst);
}

/* out = [0, max] minus a (a normalised). */
static void iset_complement(const struct iset *a, struct u128 max, struct iset *out)
{
    struct u128 next = u_make(0, 0);
    for (size_t i = 0; i < a->n; i++) {
        if (u_cmp(a->r[i].lo, next) > 0)
            iset_add(out, next, u_dec(a->r[i].lo));
        if (u_cmp(a->r[i].hi, max) >= 0)
            return;
        next = u_inc(a->r[i].hi);
    }
    iset_add(out, next, max);
}

/* out = a and b (both normalised). */
static void iset_intersect(const struct iset *a, const struct iset *b, struct iset *out)
{
    size_t i = 0, j = 0;
    while (i < a->n && j < b->n) {
        struct u128 lo = u_cmp(a->r[i].lo, b->r[j].lo) > 0 ? a->r[i].lo : b->r[j].lo;
        struct u128 hi = u_cmp(a->r[i].hi, b->r[j].hi) < 0 ? a->r[i].hi : b->r[j].hi;
        if (u_cmp(lo, hi) <= 0)
            iset_add(out, lo, hi);
        if (u_cmp(a->r[i].hi, b->r[j].hi) < 0)
            i++;
        else
            j++;
    }
}

/* ---- address or port values ----------------------------------------------- */

struct aset {
    struct iset v4; /* IPv4 addresses, or the ports */
    struct iset v6; /* IPv6 addresses (unused for ports) */
};

static void aset_free(struct aset *a)
{
    iset_free(&a->v4);
    iset_free(&a->v6);
}

static const struct u128 V6_MAX = {UINT64_MAX, UINT64_MAX};

struct ap {
    const struct rule_vars *vars;           /* variables, or NULL */
    bool is_port;                           /* ports, not addresses */
    struct rl_perr *pe;                     /* the error */
    size_t budget;                          /* variable text still allowed [RULES-VAR-BLOWUP] */
    const char *stack[RULES_MAX_VAR_DEPTH]; /* variables being expanded [RULES-VAR-CYCLE] */
    size_t stack_n[RULES_MAX_VAR_DEPTH];    /* their name lengths */
    unsigned depth;                         /* entries in stack */
};

static struct u128 ap_max4(const struct ap *a)
{
    return u_make(0, a->is_port ? 65535 : UINT32_MAX);
}

static void aset_any(const struct ap *a, struct aset *out)
{
    iset_add(&out->v4, u_make(0, 0), ap_max4(a));
    if (!a->is_port)
        iset_add(&out->v6, u_make(0, 0), V6_MAX);
}

/* out = a minus b */
static void aset_subtract(const struct ap *ap, const struct aset *a, const struct aset *b,
                          struct aset *out)
{
    struct aset nb = {0};
    iset_complement(&b->v4, ap_max4(ap), &nb.v4);
    iset_intersect(&a->v4, &nb.v4, &out->v4);
    if (!ap->is_port) {
        iset_complement(&b->v6, V6_MAX, &nb.v6);
        iset_intersect(&a->v6, &nb.v6, &out->v6);
    }
    aset_free(&nb);
}

static const char *ap_what(const struct ap *a)
{
    return a->is_port ? "a port" : "an address";
}

static bool is_delim(char c)
{
    return rl_is_space(c) || c == ',' || c == '[' || c == ']' || c == '!' || c == '$' || c == '(' ||
           c == ')' || c == ';';
}

static int parse_set(struct ap *a, const char *s, size_t end, size_t *pos, unsigned depth,
                     bool *is_neg, struct aset *out);

/* An address literal: IPv4 or IPv6, with an optional /prefix. */
static int addr_literal(struct ap *a, const char *s, size_t at, size_t n, struct aset *out)
{
    char tok[64];
    if (n >= sizeof tok)
        return rl_perr_set(
            a->pe, at, "'%.*s...' is not an IP address, a CIDR, 'any' or a $VARIABLE", 24, s + at);
    memcpy(tok, s + at, n);
    tok[n] = '\0';
    char *slash = strchr(tok, '/');
    long prefix = -1;
    if (slash != NULL) {
        *slash = '\0';
        uint64_t p;
        if (rl_parse_u64(slash + 1, strlen(slash + 1), 128, &p) < 0)
            return rl_perr_set(a->pe, at + (size_t)(slash - tok),
                               "bad prefix length '/%s' (a whole number of bits)", slash + 1);
        prefix = (long)p;
    }
    uint8_t b[16];
    if (inet_pton(AF_INET, tok, b) == 1) {
        uint32_t v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
        if (prefix > 32)
            return rl_perr_set(a->pe, at, "prefix /%ld is longer than 32 bits in '%.*s'", prefix,
                               (int)n, s + at);
        uint32_t mask = prefix < 0 ? UINT32_MAX : prefix == 0 ? 0 : UINT32_MAX << (32 - prefix);
        if ((v & ~mask) != 0) {
            uint32_t net = v & mask;
            rl_perr_warn(a->pe, at, "'%.*s' has host bits set: it stands for %u.%u.%u.%u/%ld",
                         (int)n, s + at, net >> 24, (net >> 16) & 255, (net >> 8) & 255, net & 255,
                         prefix);
        }
        iset_add(&out->v4, u_make(0, v & mask), u_make(0, (v & mask) | ~mask));
        return 0;
    }
    if (inet_pton(AF_INET6, tok, b) == 1) {
        struct u128 v = {0, 0};
        for (int i = 0; i < 8; i++) {
            v.hi = v.hi << 8 | b[i];
            v.lo = v.lo << 8 | b[i + 8];
        }
        long p = prefix < 0 ? 128 : prefix;
        struct u128 mask = {0, 0};
        if (p > 64) {
            mask.hi = UINT64_MAX;
            mask.lo = UINT64_MAX << (128 - p);
        } else if (p > 0) {
            mask.hi = UINT64_MAX << (64 - p);
        }
        struct u128 lo = {v.hi & mask.hi, v.lo & mask.lo};
        struct u128 hi = {lo.hi | ~mask.hi, lo.lo | ~mask.lo};
        if (lo.hi != v.hi || lo.lo != v.lo) {
            uint8_t nb[16];
            char txt[INET6_ADDRSTRLEN];
            for (int i = 0; i < 8; i++) {
                nb[i] = (uint8_t)(lo.hi >> (56 - 8 * i));
                nb[i + 8] = (uint8_t)(lo.lo >> (56 - 8 * i));
            }
            inet_ntop(AF_INET6, nb, txt, sizeof txt);
            rl_perr_warn(a->pe, at, "'%.*s' has host bits set: it stands for %s/%ld", (int)n,
                         s + at, txt, p);
        }
        iset_add(&out->v6, lo, hi);
        return 0;
    }
    return rl_perr_set(a->pe, at, "'%.*s' is not an IP address, a CIDR, 'any' or a $VARIABLE",
                       (int)n, s + at);
}

/* A port literal: N, N:M or N: */
static int port_literal(struct ap *a, const char *s, size_t at, size_t n, struct aset *out)
{
    const char *colon = memchr(s + at, ':', n);
    size_t n1 = colon ? (size_t)(colon - (s + at)) : n;
    uint64_t lo, hi = 65535;
    if (rl_parse_u64(s + at, n1, UINT64_MAX, &lo) < 0 ||
        (colon != NULL && n1 + 1 < n && rl_parse_u64(colon + 1, n - n1 - 1, UINT64_MAX, &hi) < 0))
        return rl_perr_set(a->pe, at, "'%.*s' is not a port, a range a:b, 'any' or a $VARIABLE",
                           (int)n, s + at);
    if (colon == NULL)
        hi = lo;
    if (lo > 65535 || hi > 65535)
        return rl_perr_set(a->pe, at, "port %llu is out of range (0 to 65535)",
                           (unsigned long long)(lo > 65535 ? lo : hi));
    if (lo > hi)
        return rl_perr_set(a->pe, at, "port range '%.*s' goes backwards", (int)n, s + at);
    iset_add(&out->v4, u_make(0, lo), u_make(0, hi));
    return 0;
}

static int var_ref(struct ap *a, const char *s, size_t end, size_t *pos, struct aset *out)
{
    size_t at = *pos;
    size_t i = at + 1;
    while (i < end && rl_is_name_char(s[i]))
        i++;
    const char *name = s + at + 1;
    size_t n = i - at - 1;
    *pos = i;
    if (n == 0)
        return rl_perr_set(a->pe, at, "'$' must be followed by a variable name");
    const char *val = a->vars ? rl_vars_getn(a->vars, name, n) : NULL;
    if (val == NULL) {
        const char *near = a->vars ? rl_vars_suggest(a->vars, name, n) : NULL;
        if (near)
            return rl_perr_set(a->pe, at, "unknown variable '$%.*s'; did you mean '$%s'?", (int)n,
                               name, near);
        return rl_perr_set(a->pe, at, "unknown variable '$%.*s'", (int)n, name);
    }
    for (unsigned k = 0; k < a->depth; k++) {
        if (a->stack_n[k] == n && memcmp(a->stack[k], name, n) == 0) { /* [RULES-VAR-CYCLE] */
            char chain[RULES_MSG_BYTES];
            size_t c = 0;
            for (unsigned m = k; m < a->depth && c < sizeof chain; m++)
                c += (size_t)snprintf(chain + c, sizeof chain - c, "$%.*s -> ", (int)a->stack_n[m],
                                      a->stack[m]);
            a->pe->is_nested = true;
            return rl_perr_set(a->pe, at, "variables refer to each other: %s$%.*s", chain, (int)n,
                               name);
        }
    }
    if (a->depth >= RULES_MAX_VAR_DEPTH)
        return rl_perr_set(a->pe, at, "variables nested deeper than %d", RULES_MAX_VAR_DEPTH);
    size_t vn = strlen(val);
    if (vn > a->budget) { /* [RULES-VAR-BLOWUP] */
        a->pe->is_nested = true;
        return rl_perr_set(a->pe, at, "variables expand to more than %u bytes",
                           RULES_MAX_EXPAND_BYTES);
    }
    a->budget -= vn;

    struct rl_perr sub = {0};
    struct rl_perr *outer = a->pe;
    a->pe = &sub;
    a->stack[a->depth] = name;
    a->stack_n[a->depth] = n;
    a->depth++;
    size_t p = 0;
    bool is_neg = false;
    struct aset v = {0};
    rl_skip_space(val, vn, &p);
    int rc = parse_set(a, val, vn, &p, 0, &is_neg, &v);
    if (rc == 0) {
        rl_skip_space(val, vn, &p);
        if (p < vn) {
            char show[48];
            rc = rl_perr_set(&sub, p, "unexpected %s after the %s set",
                             rl_show(val, vn, p, show, sizeof show),
                             a->is_port ? "port" : "address");
        }
    }
    a->depth--;
    a->pe = outer;
    if (rc < 0) {
        aset_free(&v);
        if (sub.is_nested)
            rl_perr_set(outer, at, "%s", sub.msg);
        else
            rl_perr_set(outer, at, "variable $%.*s: %s", (int)n, name, sub.msg);
        outer->is_nested = true;
        return -1;
    }
    if (is_neg) {
        struct aset all = {0}, c = {0};
        aset_any(a, &all);
        aset_subtract(a, &all, &v, &c);
        aset_free(&all);
        aset_free(&v);
        v = c;
    }
    iset_union(&out->v4, &v.v4);
    iset_union(&out->v6, &v.v6);
    aset_free(&v);
    return 0;
}

static int parse_list(struct ap *a, const char *s, size_t end, size_t *pos, unsigned depth,
                      struct aset *out)
{
    size_t open = *pos;
    if (depth >= RULES_MAX_LIST_DEPTH) /* [RULES-LIST-DEEP] */
        return rl_perr_set(a->pe, open, "lists nested deeper than %d", RULES_MAX_LIST_DEPTH);
    (*pos)++;
    struct aset plus = {0}, minus = {0};
    bool has_plus = false;
    size_t items = 0;
    int rc = 0;
    char show[48];
    rl_skip_space(s, end, pos);
    if (*pos < end && s[*pos] == ']') {
        rc = rl_perr_set(a->pe, open, "empty list");
        goto out;
    }
    for (;;) {
        if (++items > RULES_MAX_LIST_ITEMS) { /* [RULES-LIST-LONG] */
            rc = rl_perr_set(a->pe, *pos, "more than %d items in a list", RULES_MAX_LIST_ITEMS);
            goto out;
        }
        bool is_neg = false;
        struct aset item = {0};
        if (parse_set(a, s, end, pos, depth + 1, &is_neg, &item) < 0) {
            aset_free(&item);
            rc = -1;
            goto out;
        }
        struct aset *into = is_neg ? &minus : &plus;
        has_plus |= !is_neg;
        iset_union(&into->v4, &item.v4);
        iset_union(&into->v6, &item.v6);
        aset_free(&item);
        rl_skip_space(s, end, pos);
        if (*pos >= end) {
            rc = rl_perr_set(a->pe, open, "unclosed '['");
            goto out;
        }
        if (s[*pos] == ']') {
            (*pos)++;
            break;
        }
        if (s[*pos] != ',') {
            rc = rl_perr_set(a->pe, *pos, "expected ',' or ']' in a list, found %s",
                             rl_show(s, end, *pos, show, sizeof show));
            goto out;
        }
        (*pos)++;
        rl_skip_space(s, end, pos);
    }
    if (!has_plus) /* only exclusions: they are taken from everything */
        aset_any(a, &plus);
    aset_subtract(a, &plus, &minus, out);
out:
    aset_free(&plus);
    aset_free(&minus);
    return rc;
}

/* One set; *is_neg tells whether it was written negated (an odd count of '!'). */
static int parse_set(struct ap *a, const char *s, size_t end, size_t *pos, unsigned depth,
                     bool *is_neg, struct aset *out)
{
    char show[48];
    *is_neg = false;
    while (*pos < end && s[*pos] == '!') {
        *is_neg = !*is_neg;
        (*pos)++;
    }
    if (*pos >= end || (is_delim(s[*pos]) && s[*pos] != '[' && s[*pos] != '$'))
        return rl_perr_set(a->pe, *pos, "expected %s, found %s", ap_what(a),
                           rl_show(s, end, *pos, show, sizeof show));
    if (s[*pos] == '[')
        return parse_list(a, s, end, pos, depth, out);
    if (s[*pos] == '$')
        return var_ref(a, s, end, pos, out);
    size_t at = *pos;
    while (*pos < end && !is_delim(s[*pos]))
        (*pos)++;
    size_t n = *pos - at;
    if (rl_word_eq(s + at, n, "any")) {
        aset_any(a, out);
        return 0;
    }
    int rc = a->is_port ? port_literal(a, s, at, n, out) : addr_literal(a, s, at, n, out);
    iset_norm(&out->v4);
    iset_norm(&out->v6);
    return rc;
}

static int parse_top(struct ap *a, const char *s, size_t end, size_t *pos, struct aset *out,
                     char **text)
{
    size_t start = *pos;
    bool is_neg = false;
    struct aset v = {0};
    if (parse_set(a, s, end, pos, 0, &is_neg, &v) < 0) {
        aset_free(&v);
        return -1;
    }
    if (is_neg) {
        struct aset all = {0};
        aset_any(a, &all);
        aset_subtract(a, &all, &v, out);
        aset_free(&all);
        aset_free(&v);
    } else {
        *out = v;
    }
    if (out->v4.n == 0 && out->v6.n == 0) {
        aset_free(out);
        return rl_perr_set(a->pe, start, "'%.*s' matches no %s", (int)(*pos - start), s + start,
                           a->is_port ? "port" : "address");
    }
    *text = rl_xstrndup(s + start, *pos - start);
    return 0;
}

int rl_parse_addr(const char *s, size_t end, size_t *pos, const struct rule_vars *vars,
                  struct rule_addr_set *out, struct rl_perr *pe)
{
    struct ap a = {.vars = vars, .is_port = false, .pe = pe, .budget = RULES_MAX_EXPAND_BYTES};
    struct aset v = {0};
    memset(out, 0, sizeof *out);
    if (parse_top(&a, s, end, pos, &v, &out->text) < 0)
        return -1;
    out->n_v4 = v.v4.n;
    out->n_v6 = v.v6.n;
    if (v.v4.n) {
        out->v4 = rl_xcalloc(v.v4.n, sizeof out->v4[0]);
        for (size_t i = 0; i < v.v4.n; i++) {
            out->v4[i].lo = (uint32_t)v.v4.r[i].lo.lo;
            out->v4[i].hi = (uint32_t)v.v4.r[i].hi.lo;
        }
    }
    if (v.v6.n) {
        out->v6 = rl_xcalloc(v.v6.n, sizeof out->v6[0]);
        for (size_t i = 0; i < v.v6.n; i++) {
            for (int k = 0; k < 8; k++) {
                out->v6[i].lo[k] = (uint8_t)(v.v6.r[i].lo.hi >> (56 - 8 * k));
                out->v6[i].lo[k + 8] = (uint8_t)(v.v6.r[i].lo.lo >> (56 - 8 * k));
                out->v6[i].hi[k] = (uint8_t)(v.v6.r[i].hi.hi >> (56 - 8 * k));
                out->v6[i].hi[k + 8] = (uint8_t)(v.v6.r[i].hi.lo >> (56 - 8 * k));
            }
        }
    }
    out->is_any = v.v4.n == 1 && v.v4.r[0].lo.lo == 0 && v.v4.r[0].hi.lo == UINT32_MAX &&
                  v.v6.n == 1 && u_cmp(v.v6.r[0].lo, u_make(0, 0)) == 0 &&
                  u_cmp(v.v6.r[0].hi, V6_MAX) == 0;
    aset_free(&v);
    return 0;
}

int rl_parse_ports(const char *s, size_t end, size_t *pos, const struct rule_vars *vars,
                   struct rule_port_set *out, struct rl_perr *pe)
{
    struct ap a = {.vars = vars, .is_port = true, .pe = pe, .budget = RULES_MAX_EXPAND_BYTES};
    struct aset v = {0};
    memset(out, 0, sizeof *out);
    if (parse_top(&a, s, end, pos, &v, &out->text) < 0)
        return -1;
    out->n = v.v4.n;
    out->r = rl_xcalloc(v.v4.n, sizeof out->r[0]);
    for (size_t i = 0; i < v.v4.n; i++) {
        out->r[i].lo = (uint16_t)v.v4.r[i].lo.lo;
        out->r[i].hi = (uint16_t)v.v4.r[i].hi.lo;
    }
    out->is_any = v.v4.n == 1 && v.v4.r[0].lo.lo == 0 && v.v4.r[0].hi.lo == 65535;
    aset_free(&v);
    return 0;
}

void rl_addr_set_free(struct rule_addr_set *a)
{
    free(a->v4);
    free(a->v6);
    free(a->text);
    memset(a, 0, sizeof *a);
}

void rl_port_set_free(struct rule_port_set *p)
{
    free(p->r);
    free(p->text);
    memset(p, 0, sizeof *p);
}

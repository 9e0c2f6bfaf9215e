/*
 * match.c — does one rule hold for one session's facts?
 *
 *   protocol   smtp/pop3/imap: that mail session; mail: any of the three;
 *              tls: a TLS session; any: every session
 *   ends       "->": src is the client, dst the server; "<>": either way
 *   predicates all of them; the mail.login.* ones all for one attempt
 *
 * The meaning of each operator on each type is docs/rules.md's table:
 * every form but `absent` is false on an absent fact, and a set that is
 * empty is absent. Address and port sets are sorted disjoint ranges, so
 * membership is a binary search.
 *
 * rule_holds_certainly() asks the same of a session still going on: each
 * part is yes, no or maybe (engine.h), and the rule is the parts' Kleene
 * conjunction. The mail.login.* predicates hold for one attempt: certainly
 * for an attempt whose facts settle them, certainly not only once no more
 * attempts can come and none holds.
 */
#include <string.h>
#include <strings.h>

#include "engine.h"
#include "rules-int.h"

void rule_facts_init(struct rule_facts *f)
{
    memset(f, 0, sizeof *f);
    f->is_final = true;
}

static bool v4_in(const struct rule_addr_set *s, uint32_t a)
{
    size_t lo = 0, hi = s->n_v4;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a < s->v4[mid].lo)
            hi = mid;
        else if (a > s->v4[mid].hi)
            lo = mid + 1;
        else
            return true;
    }
    return false;
}

static bool v6_in(const struct rule_addr_set *s, const uint8_t *a)
{
    size_t lo = 0, hi = s->n_v6;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (memcmp(a, s->v6[mid].lo, 16) < 0)
            hi = mid;
        else if (memcmp(a, s->v6[mid].hi, 16) > 0)
            lo = mid + 1;
        else
            return true;
    }
    return false;
}

bool rl_addr_in(const struct rule_addr_set *s, const uint8_t *a, uint8_t ipver)
{
    if (s->is_any)
        return true;
    if (ipver == 4)
        return v4_in(s, (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3]);
    return v6_in(s, a);
}

static bool port_in(const struct rule_port_set *s, uint16_t p)
{
    if (s->is_any)
        return true;
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p < s->r[mid].lo)
            hi = mid;
        else if (p > s->r[mid].hi)
            lo = mid + 1;
        else
            return true;
    }
    return false;
}

static bool str_eq(const struct rule_fact *v, const struct rule_value *rv, bool nocase)
{
    size_t n = strlen(rv->str);
    if (v->len != n)
        return false;
    return nocase ? strncasecmp(v->str, rv->str, n) == 0 : memcmp(v->str, rv->str, n) == 0;
}

static bool value_eq(const struct rule_field_info *fi, const struct rule_fact *v,
                     const struct rule_value *rv)
{
    switch (fi->type) {
    case RULE_T_STRING:
        return v->str != NULL && str_eq(v, rv, fi->is_nocase);
    case RULE_T_SET:
        return rv->num >= 0 && rv->num < 63 && ((uint64_t)v->num >> rv->num & 1) != 0;
    default:
        return v->num == rv->num;
    }
}

bool rl_pred_holds(const struct rule_pred *p, const struct rule_fact *v)
{
    const struct rule_field_info *fi = rule_field_info(p->field);
    bool present = v->is_set && !(fi->type == RULE_T_SET && v->num == 0);
    if (p->op == RULE_OP_ABSENT)
        return !present;
    if (!present)
        return false;
    switch (p->op) {
    case RULE_OP_TRUE:
        return v->num != 0;
    case RULE_OP_PRESENT:
        return true;
    case RULE_OP_EQ:
        return value_eq(fi, v, &p->values[0]);
    case RULE_OP_NE:
        return !value_eq(fi, v, &p->values[0]);
    case RULE_OP_LT:
        return v->num < p->values[0].num;
    case RULE_OP_LE:
        return v->num <= p->values[0].num;
    case RULE_OP_GT:
        return v->num > p->values[0].num;
    case RULE_OP_GE:
        return v->num >= p->values[0].num;
    case RULE_OP_IN:
    case RULE_OP_NOT_IN:
        for (size_t i = 0; i < p->n_values; i++)
            if (value_eq(fi, v, &p->values[i]))
                return p->op == RULE_OP_IN;
        return p->op == RULE_OP_NOT_IN;
    case RULE_OP_ABSENT:
    default:
        return false;
    }
}

bool rl_is_login_field(enum rule_field f)
{
    return f >= RULE_LOGIN_FIRST && f <= RULE_LOGIN_LAST;
}

bool rl_proto_applies(enum rule_proto p, const struct rule_facts *f)
{
    switch (p) {
    case RULE_PROTO_SMTP:
    case RULE_PROTO_POP3:
    case RULE_PROTO_IMAP:
        return f->is_mail && f->mail_proto == p;
    case RULE_PROTO_MAIL:
        return f->is_mail;
    case RULE_PROTO_TLS:
        return f->is_tls;
    case RULE_PROTO_ANY:
    default:
        return f->is_mail || f->is_tls;
    }
}

static bool ends_hold(const struct rule *r, const uint8_t *src, uint16_t sport, const uint8_t *dst,
                      uint16_t dport, uint8_t ipver)
{
    return port_in(&r->dst_ports, dport) && port_in(&r->src_ports, sport) &&
           rl_addr_in(&r->dst, dst, ipver) && rl_addr_in(&r->src, src, ipver);
}

/* One login attempt (or, with l NULL, none: every login fact absent) against the login predicates.
 */
static bool login_holds(const struct rule *r, const struct rule_login_facts *l)
{
    static const struct rule_fact none = {false, 0, NULL, 0, RULE_FACT_FINAL};
    for (size_t i = 0; i < r->n_preds; i++) {
        const struct rule_pred *p = &r->preds[i];
        if (!rl_is_login_field(p->field))
            continue;
        if (!rl_pred_holds(p, l != NULL ? &l->f[p->field - RULE_LOGIN_FIRST] : &none))
            return false;
    }
    return true;
}

bool rule_matches(const struct rule *r, const struct rule_facts *f)
{
    if (!rl_proto_applies(r->proto, f))
        return false;
    bool has_login_preds = false;
    for (size_t i = 0; i < r->n_preds; i++) {
        const struct rule_pred *p = &r->preds[i];
        if (rl_is_login_field(p->field)) {
            has_login_preds = true;
            continue;
        }
        if (!rl_pred_holds(p, &f->f[p->field]))
            return false;
    }
    bool ends =
        ends_hold(r, f->cli, f->cport, f->srv, f->sport, f->ipver) ||
        (r->dir == RULE_DIR_EITHER && ends_hold(r, f->srv, f->sport, f->cli, f->cport, f->ipver));
    if (!ends)
        return false;
    if (!has_login_preds)
        return true;
    if (f->n_logins == 0)
        return login_holds(r, NULL);
    for (size_t i = 0; i < f->n_logins; i++)
        if (login_holds(r, &f->logins[i]))
            return true;
    return false;
}

/* ---- certainty ----------------------------------------------------------- */

static enum rule_certainty tri_of(bool b)
{
    return b ? RULE_YES : RULE_NO;
}

/* Kleene's and: no wins, then maybe. */
static enum rule_certainty tri_and(enum rule_certainty a, enum rule_certainty b)
{
    if (a == RULE_NO || b == RULE_NO)
        return RULE_NO;
    return a == RULE_MAYBE || b == RULE_MAYBE ? RULE_MAYBE : RULE_YES;
}

static enum rule_certainty pred_certainly(const struct rule_pred *p, const struct rule_fact *v,
                                          bool is_final)
{
    bool h = rl_pred_holds(p, v);
    if (is_final || v->state == RULE_FACT_FINAL)
        return tri_of(h);
    if (v->state != RULE_FACT_GROWING || !v->is_set)
        return RULE_MAYBE;
    if (rule_field_info(p->field)->type == RULE_T_BOOL && v->num != 0)
        return tri_of(h); /* a flag that became true stays true */
    switch (p->op) {
    case RULE_OP_TRUE:
    case RULE_OP_PRESENT:
    case RULE_OP_GT:
    case RULE_OP_GE:
        return h ? RULE_YES : RULE_MAYBE; /* holds now: holds for good */
    case RULE_OP_LT:
    case RULE_OP_LE:
        return h ? RULE_MAYBE : RULE_NO; /* fails now: fails for good */
    case RULE_OP_ABSENT:
        return RULE_NO; /* it is there, and stays */
    default:
        return RULE_MAYBE;
    }
}

static enum rule_certainty login_certainly(const struct rule *r, const struct rule_login_facts *l,
                                           bool is_final)
{
    enum rule_certainty c = RULE_YES;
    for (size_t i = 0; i < r->n_preds && c != RULE_NO; i++) {
        const struct rule_pred *p = &r->preds[i];
        if (rl_is_login_field(p->field))
            c = tri_and(c, pred_certainly(p, &l->f[p->field - RULE_LOGIN_FIRST], is_final));
    }
    return c;
}

enum rule_certainty rule_holds_certainly(const struct rule *r, const struct rule_facts *f)
{
    if (f->is_final)
        return tri_of(rule_matches(r, f));
    enum rule_certainty c = RULE_YES;
    if (!rl_proto_applies(r->proto, f)) {
        bool tls_may_come = f->tls_state != RULE_FACT_FINAL && !f->is_tls &&
                            (r->proto == RULE_PROTO_TLS || r->proto == RULE_PROTO_ANY);
        if (!tls_may_come)
            return RULE_NO;
        c = RULE_MAYBE;
    }
    bool ends =
        ends_hold(r, f->cli, f->cport, f->srv, f->sport, f->ipver) ||
        (r->dir == RULE_DIR_EITHER && ends_hold(r, f->srv, f->sport, f->cli, f->cport, f->ipver));
    if (!ends)
        return RULE_NO;
    bool has_login_preds = false;
    bool tls_to_come = !f->is_tls && f->tls_state != RULE_FACT_FINAL; /* its facts are open */
    for (size_t i = 0; i < r->n_preds && c != RULE_NO; i++) {
        const struct rule_pred *p = &r->preds[i];
        if (rl_is_login_field(p->field))
            has_login_preds = true;
        else if (tls_to_come && p->field >= RULE_F_TLS_VERSION)
            c = tri_and(c, RULE_MAYBE);
        else
            c = tri_and(c, pred_certainly(p, &f->f[p->field], false));
    }
    if (!has_login_preds || c == RULE_NO)
        return c;
    bool more_may_come = f->logins_state != RULE_FACT_FINAL;
    if (f->n_logins == 0)
        return tri_and(c, more_may_come ? RULE_MAYBE : tri_of(login_holds(r, NULL)));
    enum rule_certainty any = RULE_NO; /* one attempt for which they hold */
    for (size_t i = 0; i < f->n_logins && any != RULE_YES; i++) {
        enum rule_certainty l = login_certainly(r, &f->logins[i], false);
        if (l != RULE_NO)
            any = l;
    }
    if (any == RULE_NO && more_may_come)
        any = RULE_MAYBE;
    return tri_and(c, any);
}

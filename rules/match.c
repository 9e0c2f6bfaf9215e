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
 */
#include <string.h>
#include <strings.h>

#include "engine.h"
#include "rules-int.h"

void rule_facts_init(struct rule_facts *f)
{
    memset(f, 0, sizeof *f);
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
    static const struct rule_fact none = {false, 0, NULL, 0};
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

/*
 * engine-harness.h — helpers for the rule engine's tests: rule sets from
 * text, sessions' facts by hand. Test-only.
 */
#ifndef POSTCARD_ENGINE_HARNESS_H
#define POSTCARD_ENGINE_HARNESS_H

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "engine.h"
#include "rules-limits.h"
#include "rules.h"
#include "test.h"

#pragma GCC diagnostic ignored "-Wunused-function"

/* A rule set from text that must load without error. */
static struct ruleset *set_from(const char *text)
{
    struct ruleset *rs = ruleset_new();
    struct rule_diag d;
    rule_diag_init(&d);
    int rc = rules_parse_text(rs, text, strlen(text), "t.rules", NULL, &d);
    if (rc != 0 || d.errors != 0)
        TEST_FAIL("rules did not load:\n%s\n%s", text, rule_diag_text(&d));
    rule_diag_free(&d);
    return rs;
}

static struct rule_engine *engine_from(const char *text)
{
    return rule_engine_new(set_from(text));
}

/* A session between two addresses (IPv4 or IPv6 text), no facts yet. */
static void facts_ends(struct rule_facts *f, const char *cli, uint16_t cport, const char *srv,
                       uint16_t sport)
{
    rule_facts_init(f);
    bool v6 = strchr(cli, ':') != NULL;
    f->ipver = v6 ? 6 : 4;
    ASSERT(inet_pton(v6 ? AF_INET6 : AF_INET, cli, f->cli) == 1);
    ASSERT(inet_pton(v6 ? AF_INET6 : AF_INET, srv, f->srv) == 1);
    f->cport = cport;
    f->sport = sport;
}

static void facts_mail(struct rule_facts *f, enum rule_proto p)
{
    f->is_mail = true;
    f->mail_proto = p;
}

static void fact_num(struct rule_facts *f, enum rule_field k, int64_t v)
{
    f->f[k].is_set = true;
    f->f[k].num = v;
}

static void fact_str(struct rule_facts *f, enum rule_field k, const char *s)
{
    f->f[k].is_set = true;
    f->f[k].str = s;
    f->f[k].len = strlen(s);
}

static void login_set(struct rule_login_facts *l, const char *mech, bool cleartext, bool token,
                      enum rule_login_result res, const char *user)
{
    memset(l, 0, sizeof *l);
    struct rule_fact *v = l->f;
    v[RULE_F_MAIL_LOGIN_MECHANISM - RULE_LOGIN_FIRST] =
        (struct rule_fact){true, 0, mech, strlen(mech), RULE_FACT_FINAL};
    v[RULE_F_MAIL_LOGIN_CLEARTEXT - RULE_LOGIN_FIRST] =
        (struct rule_fact){true, cleartext, NULL, 0, RULE_FACT_FINAL};
    v[RULE_F_MAIL_LOGIN_BEARER_TOKEN - RULE_LOGIN_FIRST] =
        (struct rule_fact){true, token, NULL, 0, RULE_FACT_FINAL};
    v[RULE_F_MAIL_LOGIN_RESULT - RULE_LOGIN_FIRST] =
        (struct rule_fact){true, res, NULL, 0, RULE_FACT_FINAL};
    v[RULE_F_MAIL_LOGIN_USER - RULE_LOGIN_FIRST] =
        (struct rule_fact){true, 0, user, strlen(user), RULE_FACT_FINAL};
}

/* sids of what one match returns, as "a,b,c" (in the order returned). */
static const char *match_sids(struct rule_engine *e, struct rule_thresholds *th,
                              const struct rule_facts *f, int64_t now, struct rule_match_stats *ms)
{
    static char buf[2048];
    const struct rule *out[RULES_MAX_ALERTS_PER_SESSION];
    struct rule_match_stats local = {0};
    size_t n = rule_engine_match(e, th, f, now, out, RULES_MAX_ALERTS_PER_SESSION,
                                 ms != NULL ? ms : &local);
    size_t at = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++)
        at += (size_t)snprintf(buf + at, sizeof buf - at, "%s%u", i ? "," : "", out[i]->sid);
    return buf;
}

#endif

/*
 * test-certainty.c — a session matched while it goes on: an alert is raised
 * once the facts its rule tests make it certain, once per session, and pass
 * rules that may still hold keep every alert back (engine.h, match.c).
 */
#include <stdlib.h>
#include <string.h>

#include "engine-harness.h"

/* sids raised by one match of a session that goes on (rs kept by the caller). */
static const char *raise_now(struct rule_engine *e, struct rule_thresholds *th,
                             const struct rule_facts *f, int64_t now, struct rule_session *rs,
                             struct rule_match_stats *ms)
{
    static char buf[512];
    const struct rule *out[RULES_MAX_ALERTS_PER_SESSION];
    size_t n = rule_engine_match_session(e, th, f, now, rs, out, RULES_MAX_ALERTS_PER_SESSION, ms);
    size_t at = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++)
        at += (size_t)snprintf(buf + at, sizeof buf - at, "%s%u", i ? "," : "", out[i]->sid);
    return buf;
}

/* A plain SMTP session to port 587, still going on: nothing settled but its ends. */
static void going_on(struct rule_facts *f)
{
    facts_ends(f, "192.0.2.1", 40000, "198.51.100.25", 587);
    facts_mail(f, RULE_PROTO_SMTP);
    f->is_final = false;
    f->logins_state = RULE_FACT_GROWING;
    f->tls_state = RULE_FACT_FINAL;
    fact_num(f, RULE_F_MAIL_STARTTLS, STARTTLS_NOT_OFFERED);
    f->f[RULE_F_MAIL_STARTTLS].state = RULE_FACT_OPEN;
    fact_num(f, RULE_F_MAIL_CLEARTEXT_MESSAGES, 0);
    f->f[RULE_F_MAIL_CLEARTEXT_MESSAGES].state = RULE_FACT_GROWING;
    fact_num(f, RULE_F_MAIL_LOGIN, 0);
    f->f[RULE_F_MAIL_LOGIN].state = RULE_FACT_GROWING;
}

static const char RULES[] =
    "alert smtp any any -> any any (msg:\"msg\"; mail.cleartext_messages:>0; "
    "classtype:cleartext-mail; sid:1;)\n"
    "alert smtp any any -> any any (msg:\"few\"; mail.cleartext_messages:<2; "
    "classtype:cleartext-mail; sid:2;)\n"
    "alert smtp any any -> any any (msg:\"no\"; mail.starttls:not-offered; "
    "classtype:starttls-not-offered; sid:3;)\n"
    "alert smtp any any -> any any (msg:\"login\"; mail.login.cleartext; "
    "classtype:cleartext-login; sid:4;)\n"
    "alert smtp any any -> any any (msg:\"ok login\"; mail.login.cleartext; "
    "mail.login.result:success; classtype:cleartext-login; sid:5;)\n"
    "alert smtp any any -> any any (msg:\"none\"; mail.login:false; "
    "classtype:cleartext-login; sid:6;)\n";

TEST(a_count_that_can_only_grow_decides_when_it_crosses)
{
    struct rule_engine *e = engine_from(RULES);
    struct rule_session rs = {0};
    struct rule_match_stats ms = {0};
    struct rule_facts f;
    going_on(&f);
    /* 0 messages so far: ">0" may still hold, "<2" may still fail: neither is certain */
    ASSERT_STREQ(raise_now(e, NULL, &f, 0, &rs, &ms), "");
    f.f[RULE_F_MAIL_CLEARTEXT_MESSAGES].num = 1; /* the first message ended */
    ASSERT_STREQ(raise_now(e, NULL, &f, 0, &rs, &ms), "1");
    ASSERT_STREQ(raise_now(e, NULL, &f, 0, &rs, &ms), ""); /* once per session */
    f.f[RULE_F_MAIL_CLEARTEXT_MESSAGES].num = 2;           /* "<2" failed for good */
    f.is_final = true;
    f.f[RULE_F_MAIL_STARTTLS].num = STARTTLS_OFFERED_UNUSED;
    ASSERT_STREQ(raise_now(e, NULL, &f, 0, &rs, &ms), "6"); /* no login came: known at the end */
    ASSERT_EQ(ms.sessions, 1);                              /* counted at its end only */
    ASSERT_EQ(ms.matched, 2);
    rule_session_release(&rs);
    rule_engine_free(e);
}

TEST(an_open_fact_decides_when_it_settles)
{
    struct rule_engine *e = engine_from(RULES);
    struct rule_session rs = {0};
    struct rule_match_stats ms = {0};
    struct rule_facts f;
    going_on(&f);
    ASSERT_STREQ(raise_now(e, NULL, &f, 0, &rs, &ms), ""); /* not-offered, but not yet for good */
    f.f[RULE_F_MAIL_STARTTLS].state = RULE_FACT_FINAL;     /* the listing ended without it */
    ASSERT_STREQ(raise_now(e, NULL, &f, 0, &rs, &ms), "3");
    /* at the end, the same facts: what was raised is not raised again; "<2" and "no login"
     * are certain now (most urgent first: cleartext-login before cleartext-mail) */
    f.is_final = true;
    ASSERT_STREQ(raise_now(e, NULL, &f, 0, &rs, &ms), "6,2");
    rule_session_release(&rs);
    rule_engine_free(e);
}

TEST(a_login_is_certain_at_its_credentials_and_its_result_at_the_answer)
{
    struct rule_engine *e = engine_from(RULES);
    struct rule_session rs = {0};
    struct rule_match_stats ms = {0};
    struct rule_facts f;
    going_on(&f);
    struct rule_login_facts l[1];
    login_set(&l[0], "PLAIN", true, false, RULE_LOGIN_UNKNOWN, "bob");
    l[0].f[RULE_F_MAIL_LOGIN_RESULT - RULE_LOGIN_FIRST].state = RULE_FACT_OPEN; /* pending */
    f.logins = l;
    f.n_logins = 1;
    fact_num(&f, RULE_F_MAIL_LOGIN, 1);
    f.f[RULE_F_MAIL_LOGIN].state = RULE_FACT_GROWING;
    ASSERT_STREQ(raise_now(e, NULL, &f, 0, &rs, &ms), "4"); /* the rule that asks no result */
    l[0].f[RULE_F_MAIL_LOGIN_RESULT - RULE_LOGIN_FIRST].num = RULE_LOGIN_SUCCESS;
    l[0].f[RULE_F_MAIL_LOGIN_RESULT - RULE_LOGIN_FIRST].state = RULE_FACT_FINAL;
    ASSERT_STREQ(raise_now(e, NULL, &f, 0, &rs, &ms), "5"); /* the answer */
    rule_session_release(&rs);
    rule_engine_free(e);
}

TEST(a_failed_attempt_is_not_the_last_word_while_more_may_come)
{
    struct rule_engine *e = engine_from(RULES);
    struct rule_session rs = {0};
    struct rule_match_stats ms = {0};
    struct rule_facts f;
    going_on(&f);
    struct rule_login_facts l[2];
    login_set(&l[0], "PLAIN", true, false, RULE_LOGIN_FAILURE, "bob");
    f.logins = l;
    f.n_logins = 1;
    ASSERT_STREQ(raise_now(e, NULL, &f, 0, &rs, &ms), "4");
    login_set(&l[1], "PLAIN", true, false, RULE_LOGIN_SUCCESS, "bob");
    f.n_logins = 2;
    ASSERT_STREQ(raise_now(e, NULL, &f, 0, &rs, &ms), "5");
    rule_session_release(&rs);
    rule_engine_free(e);
}

TEST(a_pass_rule_that_may_still_hold_keeps_every_alert_back)
{
    char text[2048];
    snprintf(text, sizeof text, "%s%s", RULES,
             "pass smtp any any -> any any (msg:\"clean\"; mail.starttls:upgraded; "
             "classtype:cleartext-mail; sid:9;)\n");
    struct rule_engine *e = engine_from(text);
    struct rule_session rs = {0};
    struct rule_match_stats ms = {0};
    struct rule_facts f;
    going_on(&f);
    f.f[RULE_F_MAIL_CLEARTEXT_MESSAGES].num = 1;
    /* STARTTLS is open: the session may still be upgraded, and then passed */
    ASSERT_STREQ(raise_now(e, NULL, &f, 0, &rs, &ms), "");
    f.f[RULE_F_MAIL_STARTTLS].state = RULE_FACT_FINAL; /* not-offered: the pass rule is out */
    ASSERT_STREQ(raise_now(e, NULL, &f, 0, &rs, &ms), "1,3");
    rule_session_release(&rs);
    /* the same session, upgraded: passed for good, nothing ever */
    going_on(&f);
    f.f[RULE_F_MAIL_CLEARTEXT_MESSAGES].num = 1;
    f.f[RULE_F_MAIL_STARTTLS].num = STARTTLS_UPGRADED;
    f.f[RULE_F_MAIL_STARTTLS].state = RULE_FACT_FINAL;
    ASSERT_STREQ(raise_now(e, NULL, &f, 0, &rs, &ms), "");
    ASSERT(rs.passed);
    f.is_final = true;
    ASSERT_STREQ(raise_now(e, NULL, &f, 0, &rs, &ms), "");
    ASSERT_EQ(ms.passed, 1);
    rule_session_release(&rs);
    rule_engine_free(e);
}

TEST(a_tls_rule_may_still_apply_to_a_mail_session_before_its_upgrade)
{
    struct rule_engine *e =
        engine_from("alert smtp any any -> any any (msg:\"msg\"; mail.cleartext_messages:>0; "
                    "classtype:cleartext-mail; sid:1;)\n"
                    "pass tls any any -> any any (msg:\"known\"; tls.sni:\"mx.example\"; "
                    "classtype:cleartext-mail; sid:2;)\n");
    struct rule_session rs = {0};
    struct rule_match_stats ms = {0};
    struct rule_facts f;
    going_on(&f);
    f.f[RULE_F_MAIL_CLEARTEXT_MESSAGES].num = 1;
    f.tls_state = RULE_FACT_OPEN; /* STARTTLS may still follow */
    ASSERT_STREQ(raise_now(e, NULL, &f, 0, &rs, &ms), "");
    f.tls_state = RULE_FACT_FINAL; /* no TLS can come: the tls pass rule cannot hold */
    ASSERT_STREQ(raise_now(e, NULL, &f, 0, &rs, &ms), "1");
    rule_session_release(&rs);
    rule_engine_free(e);
}

TEST(thresholds_count_at_the_deciding_time)
{
    struct rule_engine *e = engine_from(
        "alert smtp any any -> any any (msg:\"msg\"; mail.cleartext_messages:>0; "
        "classtype:cleartext-mail; threshold: type limit, track by_dst, count 1, seconds 60; "
        "sid:1;)\n");
    struct rule_thresholds *th = rule_thresholds_new(0);
    struct rule_match_stats ms = {0};
    struct rule_facts f;
    going_on(&f);
    f.f[RULE_F_MAIL_CLEARTEXT_MESSAGES].num = 1;
    int64_t at[] = {1000, 1059, 1061};
    const char *want[] = {"1", "", "1"};
    for (int i = 0; i < 3; i++) { /* three sessions to one server, each decided at at[i] */
        struct rule_session rs = {0};
        ASSERT_STREQ(raise_now(e, th, &f, at[i], &rs, &ms), want[i]);
        rule_session_release(&rs);
    }
    ASSERT_EQ(ms.thresholded, 1);
    rule_thresholds_free(th);
    rule_engine_free(e);
}

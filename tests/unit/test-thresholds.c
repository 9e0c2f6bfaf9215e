/*
 * test-thresholds.c — what happens after a rule held: pass rules win,
 * suppress lines drop, thresholds count on packet time per tracked key,
 * the per-session cap, and the bounded counter table.
 */
#include "engine-harness.h"

static struct rule_facts smtp_session(const char *cli, const char *srv, uint16_t sport)
{
    struct rule_facts f;
    facts_ends(&f, cli, 40000, srv, sport);
    facts_mail(&f, RULE_PROTO_SMTP);
    fact_num(&f, RULE_F_MAIL_CLEARTEXT_MESSAGES, 1);
    return f;
}

/* How many of the sessions at times t[0..n) alert, as a string of 0/1. */
static const char *run_times(struct rule_engine *e, struct rule_thresholds *th,
                             const struct rule_facts *f, const int64_t *t, size_t n)
{
    static char buf[128];
    for (size_t i = 0; i < n && i + 1 < sizeof buf; i++)
        buf[i] = match_sids(e, th, f, t[i], NULL)[0] != '\0' ? '1' : '0';
    buf[n < sizeof buf ? n : sizeof buf - 1] = '\0';
    return buf;
}

#define RULE_WITH(thr)                                                                             \
    "alert smtp any any -> any any (msg:\"m\"; mail.cleartext_messages:>0; "                       \
    "classtype:cleartext-mail; threshold: " thr "; sid:7;)\n"

TEST(limit_alerts_the_first_count_matches_of_each_window)
{
    struct rule_engine *e =
        engine_from(RULE_WITH("type limit, track by_rule, count 2, seconds 60"));
    struct rule_thresholds *th = rule_thresholds_new(0);
    struct rule_facts f = smtp_session("10.0.0.1", "10.0.0.25", 25);
    /* window from 100: 100, 110 alert; 120, 159 not; 160 starts a new window */
    int64_t t[] = {100, 110, 120, 159, 160, 161, 162, 300};
    ASSERT_STREQ(run_times(e, th, &f, t, 8), "11001101");
    rule_thresholds_free(th);
    rule_engine_free(e);
}

TEST(threshold_alerts_every_count_th_match)
{
    struct rule_engine *e =
        engine_from(RULE_WITH("type threshold, track by_rule, count 3, seconds 60"));
    struct rule_thresholds *th = rule_thresholds_new(0);
    struct rule_facts f = smtp_session("10.0.0.1", "10.0.0.25", 25);
    /* 1,2,3(alert) 4,5,6(alert); then two matches, a gap past the window, which starts over */
    int64_t t[] = {0, 1, 2, 3, 4, 5, 10, 11, 200, 201, 202};
    ASSERT_STREQ(run_times(e, th, &f, t, 11), "00100100001");
    rule_thresholds_free(th);
    rule_engine_free(e);
}

TEST(both_alerts_once_per_window_after_count_matches)
{
    struct rule_engine *e = engine_from(RULE_WITH("type both, track by_rule, count 3, seconds 60"));
    struct rule_thresholds *th = rule_thresholds_new(0);
    struct rule_facts f = smtp_session("10.0.0.1", "10.0.0.25", 25);
    int64_t t[] = {0, 1, 2, 3, 4, 59, 60, 61, 62, 63};
    ASSERT_STREQ(run_times(e, th, &f, t, 10), "0010000010");
    rule_thresholds_free(th);
    rule_engine_free(e);
}

TEST(sessions_ending_out_of_time_order_count_in_their_window)
{
    struct rule_engine *e =
        engine_from(RULE_WITH("type limit, track by_rule, count 1, seconds 3600"));
    struct rule_thresholds *th = rule_thresholds_new(0);
    struct rule_facts f = smtp_session("10.0.0.1", "10.0.0.25", 25);
    /* a long flow ending at 5000 first, then short ones that ended earlier */
    int64_t t[] = {5000, 4000, 1000, 8599, 8600};
    ASSERT_STREQ(run_times(e, th, &f, t, 5), "10001");
    rule_thresholds_free(th);
    rule_engine_free(e);
}

TEST(tracks_keep_separate_counters)
{
    struct rule_engine *e = engine_from(
        "alert smtp any any -> any any (msg:\"s\"; mail.cleartext_messages:>0; "
        "classtype:cleartext-mail; threshold: type limit, track by_src, count 1, seconds 60; "
        "sid:1;)\n"
        "alert smtp any any -> any any (msg:\"d\"; mail.cleartext_messages:>0; "
        "classtype:cleartext-mail; threshold: type limit, track by_dst, count 1, seconds 60; "
        "sid:2;)\n"
        "alert smtp any any -> any any (msg:\"r\"; mail.cleartext_messages:>0; "
        "classtype:cleartext-mail; threshold: type limit, track by_rule, count 1, seconds 60; "
        "sid:3;)\n"
        "alert smtp any any -> any any (msg:\"v\"; mail.cleartext_messages:>0; "
        "classtype:cleartext-mail; threshold: type limit, track by_server, count 1, seconds 60; "
        "sid:4;)\n");
    struct rule_thresholds *th = rule_thresholds_new(0);
    struct rule_facts a = smtp_session("10.0.0.1", "10.0.0.25", 25);
    ASSERT_STREQ(match_sids(e, th, &a, 0, NULL), "1,2,3,4");
    ASSERT_STREQ(match_sids(e, th, &a, 1, NULL), "");
    struct rule_facts b = smtp_session("10.0.0.2", "10.0.0.25", 25); /* another client */
    ASSERT_STREQ(match_sids(e, th, &b, 2, NULL), "1");
    struct rule_facts c = smtp_session("10.0.0.2", "10.0.0.25", 587); /* same server, other port */
    ASSERT_STREQ(match_sids(e, th, &c, 3, NULL), "4");
    struct rule_facts d = smtp_session("10.0.0.2", "10.0.0.26", 587); /* another server */
    ASSERT_STREQ(match_sids(e, th, &d, 4, NULL), "2,4");
    /* by_server tells one certificate from another on the same server and port */
    static const uint8_t cert1[32] = {1}, cert2[32] = {2};
    struct rule_facts x = smtp_session("10.0.0.3", "10.0.0.40", 993);
    x.cert_id = cert1;
    ASSERT_STREQ(match_sids(e, th, &x, 5, NULL), "1,2,4");
    ASSERT_STREQ(match_sids(e, th, &x, 6, NULL), "");
    x.cert_id = cert2;
    ASSERT_STREQ(match_sids(e, th, &x, 7, NULL), "4");
    ASSERT_STREQ(match_sids(e, th, &x, 70, NULL), "1,2,3,4"); /* every window has passed */
    rule_thresholds_free(th);
    rule_engine_free(e);
}

TEST(counters_survive_a_reload_of_the_rules)
{
    struct rule_thresholds *th = rule_thresholds_new(0);
    struct rule_facts f = smtp_session("10.0.0.1", "10.0.0.25", 25);
    struct rule_engine *e1 =
        engine_from(RULE_WITH("type limit, track by_server, count 1, seconds 3600"));
    ASSERT_STREQ(match_sids(e1, th, &f, 0, NULL), "7");
    rule_engine_free(e1);
    struct rule_engine *e2 =
        engine_from(RULE_WITH("type limit, track by_server, count 1, seconds 3600"));
    ASSERT_STREQ(match_sids(e2, th, &f, 10, NULL), ""); /* the same sid: still in its window */
    rule_engine_free(e2);
    rule_thresholds_free(th);
}

TEST(the_counter_table_is_bounded)
{
    struct rule_engine *e =
        engine_from(RULE_WITH("type limit, track by_src, count 1, seconds 3600"));
    struct rule_thresholds *th = rule_thresholds_new(16);
    struct rule_match_stats ms = {0};
    char cli[32];
    for (unsigned i = 0; i < 100; i++) { /* 100 clients: each one's first alert goes out */
        snprintf(cli, sizeof cli, "10.1.%u.%u", i / 250, i % 250);
        struct rule_facts f = smtp_session(cli, "10.0.0.25", 25);
        ASSERT_STREQ(match_sids(e, th, &f, i, &ms), "7");
    }
    ASSERT_EQ(ms.thr_evicted, 100 - 16);
    /* the 16 most recent are still counted; the first was forgotten */
    struct rule_facts last = smtp_session("10.1.0.99", "10.0.0.25", 25);
    ASSERT_STREQ(match_sids(e, th, &last, 200, NULL), "");
    struct rule_facts first = smtp_session("10.1.0.0", "10.0.0.25", 25);
    ASSERT_STREQ(match_sids(e, th, &first, 201, NULL), "7");
    rule_thresholds_free(th);
    rule_engine_free(e);
}

TEST(a_counter_used_again_is_not_the_one_dropped_when_the_table_is_full)
{
    struct rule_engine *e =
        engine_from(RULE_WITH("type limit, track by_src, count 1, seconds 3600"));
    struct rule_thresholds *th = rule_thresholds_new(4);
    struct rule_match_stats ms = {0};
    struct rule_facts f[6];
    char cli[32];
    for (unsigned i = 0; i < 6; i++) {
        snprintf(cli, sizeof cli, "10.2.0.%u", i);
        f[i] = smtp_session(cli, "10.0.0.25", 25);
    }
    for (unsigned i = 0; i < 4; i++) /* clients 0..3 fill the table */
        ASSERT_STREQ(match_sids(e, th, &f[i], i, &ms), "7");
    ASSERT_STREQ(match_sids(e, th, &f[0], 10, &ms), "");  /* 0 is used again: 1 is the oldest */
    ASSERT_STREQ(match_sids(e, th, &f[4], 11, &ms), "7"); /* drops 1 */
    ASSERT_STREQ(match_sids(e, th, &f[5], 12, &ms), "7"); /* drops 2 */
    ASSERT_EQ(ms.thr_evicted, 2);
    ASSERT_STREQ(match_sids(e, th, &f[0], 13, &ms), ""); /* still counted */
    ASSERT_STREQ(match_sids(e, th, &f[3], 14, &ms), ""); /* still counted */
    ASSERT_EQ(ms.thr_evicted, 2);
    ASSERT_STREQ(match_sids(e, th, &f[1], 15, &ms), "7"); /* forgotten: alerts again */
    ASSERT_EQ(ms.thr_evicted, 3);
    rule_thresholds_free(th);
    rule_engine_free(e);
}

TEST(pass_wins_over_every_alert)
{
    struct rule_engine *e = engine_from(
        "alert smtp any any -> any any (msg:\"a\"; mail.cleartext_messages:>0; "
        "classtype:cleartext-mail; sid:1;)\n"
        "alert mail any any -> any any (msg:\"b\"; classtype:cleartext-mail; sid:2;)\n"
        "pass smtp any any -> 10.0.0.25 25 (msg:\"our relay\"; classtype:cleartext-mail; sid:3;)\n"
        "pass any 10.9.0.0/16 any -> any any (msg:\"lab\"; mail.cleartext_messages:>5; "
        "classtype:cleartext-mail; sid:4;)\n");
    struct rule_match_stats ms = {0};
    struct rule_facts f = smtp_session("10.0.0.1", "10.0.0.25", 25);
    ASSERT_STREQ(match_sids(e, NULL, &f, 0, &ms), "");
    ASSERT_EQ(ms.passed, 1);
    f = smtp_session("10.0.0.1", "10.0.0.26", 25);
    ASSERT_STREQ(match_sids(e, NULL, &f, 0, &ms), "1,2");
    f = smtp_session("10.9.1.1", "10.0.0.26", 25);
    ASSERT_STREQ(match_sids(e, NULL, &f, 0, &ms), "1,2"); /* 1 message: the pass needs > 5 */
    fact_num(&f, RULE_F_MAIL_CLEARTEXT_MESSAGES, 6);
    ASSERT_STREQ(match_sids(e, NULL, &f, 0, &ms), "");
    ASSERT_EQ(ms.passed, 2);
    rule_engine_free(e);
}

TEST(a_passed_session_does_not_count_towards_thresholds)
{
    struct rule_engine *e = engine_from(RULE_WITH(
        "type limit, track by_rule, count 1, seconds 3600") "pass smtp any any -> 10.0.0.25 any "
                                                            "(msg:\"ok\"; "
                                                            "classtype:cleartext-mail; sid:8;)\n");
    struct rule_thresholds *th = rule_thresholds_new(0);
    struct rule_facts ok = smtp_session("10.0.0.1", "10.0.0.25", 25);
    struct rule_facts bad = smtp_session("10.0.0.1", "10.0.0.26", 25);
    ASSERT_STREQ(match_sids(e, th, &ok, 0, NULL), "");
    ASSERT_STREQ(match_sids(e, th, &bad, 1, NULL), "7");
    rule_thresholds_free(th);
    rule_engine_free(e);
}

TEST(suppress_drops_a_rule_for_everyone_or_for_some_addresses)
{
    struct rule_engine *e =
        engine_from("alert smtp any any -> any any (msg:\"a\"; classtype:cleartext-mail; sid:1;)\n"
                    "alert smtp any any -> any any (msg:\"b\"; classtype:cleartext-mail; sid:2;)\n"
                    "alert smtp any any -> any any (msg:\"c\"; classtype:cleartext-mail; sid:3;)\n"
                    "alert smtp any any -> any any (msg:\"d\"; classtype:cleartext-mail; "
                    "threshold: type limit, track by_rule, count 1, seconds 60; sid:4;)\n"
                    "suppress gen_id 1, sig_id 1\n"
                    "suppress gen_id 1, sig_id 2, track by_src, ip 10.0.0.0/24\n"
                    "suppress gen_id 1, sig_id 3, track by_dst, ip [192.0.2.25, 2001:db8::25]\n"
                    "suppress gen_id 1, sig_id 4, track by_src, ip 10.0.0.1\n");
    struct rule_thresholds *th = rule_thresholds_new(0);
    struct rule_match_stats ms = {0};
    struct rule_facts f = smtp_session("10.0.0.1", "192.0.2.25", 25);
    ASSERT_STREQ(match_sids(e, th, &f, 0, &ms), "");
    ASSERT_EQ(ms.suppressed, 4);
    f = smtp_session("10.0.1.1", "192.0.2.25", 25);
    /* a suppressed alert did not use up sid 4's one alert per minute */
    ASSERT_STREQ(match_sids(e, th, &f, 1, &ms), "2,4");
    f = smtp_session("10.0.1.1", "192.0.2.26", 25);
    ASSERT_STREQ(match_sids(e, th, &f, 2, &ms), "2,3");
    facts_ends(&f, "2001:db8::1", 1, "2001:db8::25", 25);
    facts_mail(&f, RULE_PROTO_SMTP);
    ASSERT_STREQ(match_sids(e, th, &f, 3, &ms), "2");
    rule_thresholds_free(th);
    rule_engine_free(e);
}

TEST(alerts_come_most_urgent_first_and_are_capped)
{
    char text[RULES_MAX_ALERTS_PER_SESSION * 2 * 128];
    size_t at = 0;
    unsigned n = RULES_MAX_ALERTS_PER_SESSION + 6;
    for (unsigned i = 0; i < n; i++)
        at +=
            (size_t)snprintf(text + at, sizeof text - at,
                             "alert smtp any any -> any any (msg:\"m\"; classtype:cleartext-mail; "
                             "priority:%u; sid:%u;)\n",
                             i == n - 1 ? 1 : 3, 100 + i);
    struct rule_engine *e = engine_from(text);
    struct rule_facts f = smtp_session("10.0.0.1", "192.0.2.25", 25);
    struct rule_match_stats ms = {0};
    const struct rule *out[RULES_MAX_ALERTS_PER_SESSION];
    size_t k = rule_engine_match(e, NULL, &f, 0, out, RULES_MAX_ALERTS_PER_SESSION, &ms);
    ASSERT_EQ(k, RULES_MAX_ALERTS_PER_SESSION);
    ASSERT_EQ(ms.over_cap, 6);
    ASSERT_EQ(out[0]->sid, 100 + n - 1); /* priority 1 first */
    ASSERT_EQ(out[1]->sid, 100);
    ASSERT_EQ(out[2]->sid, 101);
    rule_engine_free(e);
}

TEST(a_threshold_on_a_pass_rule_does_nothing)
{
    struct rule_engine *e = engine_from(
        "pass smtp any any -> any any (msg:\"p\"; classtype:cleartext-mail; "
        "threshold: type limit, track by_rule, count 1, seconds 60; sid:1;)\n"
        "alert smtp any any -> any any (msg:\"a\"; classtype:cleartext-mail; sid:2;)\n");
    struct rule_thresholds *th = rule_thresholds_new(0);
    struct rule_facts f = smtp_session("10.0.0.1", "192.0.2.25", 25);
    for (int i = 0; i < 3; i++)
        ASSERT_STREQ(match_sids(e, th, &f, i, NULL), "");
    rule_thresholds_free(th);
    rule_engine_free(e);
}

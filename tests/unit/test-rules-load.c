/*
 * test-rules-load.c — the rule language beyond single rules: variables and
 * the config file, include, continuation lines, comments, sids, threshold
 * and suppress, durations and versions, suggestions.
 */
#include "rules-harness.h"

/* ---- variables ------------------------------------------------------------------ */

#define CL_TAIL "(msg:\"x\"; mail.login; classtype:cleartext-login; sid:1;)"
#define ALL_V6 "::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"

TEST(variables_come_from_a_config_file)
{
    char dir[64], path[128];
    make_tmp(dir, sizeof dir);
    write_file(dir, "vars.conf",
               "# rule variables\n"
               "HOME_NET = [10.0.0.0/8, 192.168.0.0/16]\n"
               "EXTERNAL_NET = !$HOME_NET   # everything else\n"
               "\n"
               "   MAIL_PORTS=[25,465,587,110,995,143,993]\r\n"
               "SUBMISSION = \"587\"\n");
    snprintf(path, sizeof path, "%s/vars.conf", dir);
    struct rule_vars *v = rule_vars_new();
    ASSERT_STREQ(rule_vars_get(v, "HOME_NET"), "any");
    ASSERT_STREQ(rule_vars_get(v, "EXTERNAL_NET"), "any");
    ASSERT_STREQ(rule_vars_get(v, "MAIL_SERVERS"), "any");
    ASSERT(rule_vars_get(v, "MAIL_PORTS") == NULL);
    struct rule_diag d;
    rule_diag_init(&d);
    ASSERT_EQ(rule_vars_load(v, path, &d), 0);
    ASSERT_STREQ(rule_diag_text(&d), "");
    ASSERT_STREQ(rule_vars_get(v, "HOME_NET"), "[10.0.0.0/8, 192.168.0.0/16]");
    ASSERT_STREQ(rule_vars_get(v, "EXTERNAL_NET"), "!$HOME_NET");
    ASSERT_STREQ(rule_vars_get(v, "MAIL_PORTS"), "[25,465,587,110,995,143,993]");
    ASSERT_STREQ(rule_vars_get(v, "SUBMISSION"), "587");

    struct parsed p;
    parse_as(&p,
             "alert smtp $EXTERNAL_NET any -> $HOME_NET $MAIL_PORTS " CL_TAIL "\n"
             "alert smtp [$HOME_NET,!10.1.0.0/16] !$MAIL_PORTS -> any [$SUBMISSION,2525] "
             "(msg:\"x\"; mail.login; classtype:cleartext-login; sid:2;)\n",
             "t.rules", v);
    ASSERT_STREQ(rule_diag_text(&p.d), "");
    ASSERT_EQ(ruleset_len(p.rs), 2);
    struct sb b = {.n = 0};
    const struct rule *r = ruleset_rule(p.rs, 0);
    dump_addr(&b, &r->src);
    sb_add(&b, " ");
    dump_addr(&b, &r->dst);
    sb_add(&b, " ");
    dump_ports(&b, &r->dst_ports);
    ASSERT_STREQ(
        b.s, "0.0.0.0-9.255.255.255,11.0.0.0-192.167.255.255,192.169.0.0-255.255.255.255," ALL_V6
             " 10.0.0.0-10.255.255.255,192.168.0.0-192.168.255.255 "
             "25,110,143,465,587,993,995");
    ASSERT_STREQ(r->src.text, "$EXTERNAL_NET");
    ASSERT_STREQ(r->dst_ports.text, "$MAIL_PORTS");
    ASSERT(!r->src.is_any && !r->dst_ports.is_any && r->src_ports.is_any);
    b.n = 0;
    r = ruleset_rule(p.rs, 1);
    dump_addr(&b, &r->src);
    sb_add(&b, " ");
    dump_ports(&b, &r->src_ports);
    sb_add(&b, " ");
    dump_ports(&b, &r->dst_ports);
    ASSERT_STREQ(b.s, "10.0.0.0-10.0.255.255,10.2.0.0-10.255.255.255,192.168.0.0-192.168.255.255 "
                      "0-24,26-109,111-142,144-464,466-586,588-992,994,996-65535 587,2525");
    ASSERT_STREQ(r->src.text, "[$HOME_NET,!10.1.0.0/16]");
    parsed_free(&p);

    /* An address variable where a port goes, and the other way round. */
    parse_as(&p,
             "alert smtp any $HOME_NET -> any any " CL_TAIL "\n"
             "alert smtp $MAIL_PORTS any -> any any " CL_TAIL "\n",
             "t.rules", v);
    ASSERT_EQ(p.rc, -1);
    ASSERT_STREQ(rule_diag_text(&p.d),
                 "t.rules:1:16: variable $HOME_NET: '10.0.0.0/8' is not a port, a range a:b, "
                 "'any' or a $VARIABLE\n"
                 "t.rules:2:12: variable $MAIL_PORTS: '25' is not an IP address, a CIDR, 'any' "
                 "or a $VARIABLE\n");
    parsed_free(&p);
    rule_diag_free(&d);
    rule_vars_free(v);
    rm_tree(dir);
}

TEST(variable_file_problems_have_positions)
{
    char dir[64], path[128];
    make_tmp(dir, sizeof dir);
    write_file(dir, "vars.conf",
               "HOME_NET = [10.0.0.0/8, 10.0.0.300]\n"
               "= any\n"
               "MAIL_PORTS [25]\n"
               "EMPTY =\n"
               "PORTS = [25, 70000]\n"
               "LAB = 10.1.2.3/16\n"
               "A = 1\n"
               "A = 2\n");
    snprintf(path, sizeof path, "%s/vars.conf", dir);
    struct rule_vars *v = rule_vars_new();
    struct rule_diag d;
    rule_diag_init(&d);
    ASSERT_EQ(rule_vars_load(v, path, &d), -1);
    char want[2048];
    snprintf(want, sizeof want,
             "%s:2:1: expected a variable name, found '='\n"
             "%s:3:12: expected '=' after 'MAIL_PORTS', found '[25]'\n"
             "%s:4:8: variable EMPTY has no value\n"
             "%s:8:1: warning: A set again (line 7 set it first)\n"
             "%s:1:25: '10.0.0.300' is not an IP address, a CIDR, 'any' or a $VARIABLE\n"
             "%s:5:14: port 70000 is out of range (0 to 65535)\n"
             "%s:6:7: warning: '10.1.2.3/16' has host bits set: it stands for 10.1.0.0/16\n",
             path, path, path, path, path, path, path);
    ASSERT_STREQ(rule_diag_text(&d), want);
    ASSERT_EQ(d.errors, 5);
    ASSERT_EQ(d.warnings, 2);
    ASSERT_STREQ(rule_vars_get(v, "A"), "2");
    rule_diag_free(&d);

    rule_diag_init(&d);
    snprintf(path, sizeof path, "%s/none.conf", dir);
    ASSERT_EQ(rule_vars_load(v, path, &d), -1);
    snprintf(want, sizeof want, "%s: No such file or directory\n", path);
    ASSERT_STREQ(rule_diag_text(&d), want);
    rule_diag_free(&d);
    rule_vars_free(v);
    rm_tree(dir);
}

TEST(variables_referring_to_each_other_in_a_cycle)
{
    struct rule_vars *v = rule_vars_new();
    ASSERT_EQ(rule_vars_set(v, "CYCLE_A", "$CYCLE_B"), 0);
    ASSERT_EQ(rule_vars_set(v, "CYCLE_B", "[10.0.0.1, $CYCLE_A]"), 0);
    ASSERT_EQ(rule_vars_set(v, "SELF", "!$SELF"), 0);
    ASSERT_EQ(rule_vars_set(v, "BAD", "[10.0.0.1,, 10.0.0.2]"), 0);
    ASSERT_EQ(rule_vars_set(v, "USES_BAD", "[$BAD]"), 0);
    struct parsed p;
    parse_as(&p,
             "alert smtp $CYCLE_A any -> any any " CL_TAIL "\n"
             "alert smtp any any -> $SELF any " CL_TAIL "\n"
             "alert smtp any any -> [10.0.0.3,$USES_BAD] any " CL_TAIL "\n",
             "t.rules", v);
    ASSERT_STREQ(rule_diag_text(&p.d),
                 "t.rules:1:12: variables refer to each other: $CYCLE_A -> $CYCLE_B -> $CYCLE_A\n"
                 "t.rules:2:23: variables refer to each other: $SELF -> $SELF\n"
                 "t.rules:3:33: variable $BAD: expected an address, found ','\n");
    parsed_free(&p);
    rule_vars_free(v);
}

TEST(variable_names_are_checked)
{
    struct rule_vars *v = rule_vars_new();
    ASSERT_EQ(rule_vars_set(v, "GOOD_1", "any"), 0);
    ASSERT_EQ(rule_vars_set(v, "_x", "[1.2.3.4]"), 0);
    ASSERT_EQ(rule_vars_set(v, "1BAD", "any"), -1);
    ASSERT_EQ(rule_vars_set(v, "", "any"), -1);
    ASSERT_EQ(rule_vars_set(v, "A-B", "any"), -1);
    ASSERT_EQ(rule_vars_set(v, "$HOME_NET", "any"), -1);
    ASSERT_EQ(rule_vars_set(v, "NL", "any\nalert"), -1);
    char name[RULES_MAX_VAR_NAME + 2];
    memset(name, 'N', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    ASSERT_EQ(rule_vars_set(v, name, "any"), -1);
    name[RULES_MAX_VAR_NAME] = '\0';
    ASSERT_EQ(rule_vars_set(v, name, "any"), 0);
    ASSERT_EQ(rule_vars_set(v, "HOME_NET", "10.0.0.0/8"), 0);
    ASSERT_STREQ(rule_vars_get(v, "HOME_NET"), "10.0.0.0/8");
    ASSERT_STREQ(rule_vars_get(v, "_x"), "[1.2.3.4]");
    rule_vars_free(v);
}

/* ---- include ------------------------------------------------------------------- */

#define RULE_SID(n)                                                                                \
    "alert smtp any any -> any any (msg:\"x\"; mail.login; classtype:cleartext-login; sid:" #n     \
    ";)\n"

TEST(include_is_relative_to_the_including_file)
{
    char dir[64], sub[96], path[128], want[1024];
    make_tmp(dir, sizeof dir);
    snprintf(sub, sizeof sub, "%s/sub", dir);
    ASSERT_EQ(mkdir(sub, 0700), 0);
    write_file(dir, "main.rules", "include \"sub/a.rules\"  # the mail rules\n" RULE_SID(1));
    write_file(dir, "sub/a.rules", "# a\ninclude \"../b.rules\"\n" RULE_SID(2));
    write_file(dir, "b.rules", RULE_SID(3));
    snprintf(path, sizeof path, "%s/main.rules", dir);
    struct ruleset *rs = ruleset_new();
    struct rule_diag d;
    rule_diag_init(&d);
    ASSERT_EQ(rules_load_path(rs, path, NULL, &d), 0);
    ASSERT_STREQ(rule_diag_text(&d), "");
    ASSERT_EQ(ruleset_len(rs), 3);
    ASSERT_EQ(ruleset_rule(rs, 0)->sid, 3);
    ASSERT_EQ(ruleset_rule(rs, 1)->sid, 2);
    ASSERT_EQ(ruleset_rule(rs, 2)->sid, 1);
    snprintf(want, sizeof want, "%s/sub/../b.rules", dir);
    ASSERT_STREQ(ruleset_rule(rs, 0)->file, want);
    ASSERT_EQ(ruleset_rule(rs, 0)->line, 1);
    snprintf(want, sizeof want, "%s/sub/a.rules", dir);
    ASSERT_STREQ(ruleset_rule(rs, 1)->file, want);
    ASSERT_EQ(ruleset_rule(rs, 1)->line, 3);
    ASSERT_STREQ(ruleset_rule(rs, 2)->file, path);
    ASSERT_EQ(ruleset_rule(rs, 2)->line, 2);

    /* An include that names no file; parse_text resolves against its file name too. */
    snprintf(path, sizeof path, "%s/virtual.rules", dir);
    const char *text = "\n  include \"nope.rules\"\ninclude \"b.rules\"\n";
    ASSERT_EQ(rules_parse_text(rs, text, strlen(text), path, NULL, &d), -1);
    snprintf(want, sizeof want,
             "%s:2:11: cannot include '%s/nope.rules': No such file or directory\n"
             "%s/b.rules:1:84: sid 3 is already used by the rule at %s/sub/../b.rules:1:1\n",
             path, dir, dir, dir);
    ASSERT_STREQ(rule_diag_text(&d), want);
    rule_diag_free(&d);
    ruleset_free(rs);
    rm_tree(dir);
}

TEST(include_cycles_are_reported)
{
    char dir[64], path[128], want[1024];
    make_tmp(dir, sizeof dir);
    write_file(dir, "a.rules", "include \"b.rules\"\n");
    write_file(dir, "b.rules", RULE_SID(1) "include \"./a.rules\"\n");
    write_file(dir, "c.rules", "include \"c.rules\"\n");
    snprintf(path, sizeof path, "%s/a.rules", dir);
    struct ruleset *rs = ruleset_new();
    struct rule_diag d;
    rule_diag_init(&d);
    ASSERT_EQ(rules_load_path(rs, path, NULL, &d), -1);
    snprintf(want, sizeof want,
             "%s/b.rules:2:9: include cycle: %s/a.rules -> %s/b.rules -> %s/./a.rules\n", dir, dir,
             dir, dir);
    ASSERT_STREQ(rule_diag_text(&d), want);
    ASSERT_EQ(ruleset_len(rs), 1);
    rule_diag_free(&d);

    rule_diag_init(&d);
    snprintf(path, sizeof path, "%s/c.rules", dir);
    ASSERT_EQ(rules_load_path(rs, path, NULL, &d), -1);
    snprintf(want, sizeof want, "%s:1:9: include cycle: %s -> %s\n", path, path, path);
    ASSERT_STREQ(rule_diag_text(&d), want);
    rule_diag_free(&d);
    ruleset_free(rs);
    rm_tree(dir);
}

TEST(include_depth_is_bounded)
{
    char dir[64], path[128], want[512];
    make_tmp(dir, sizeof dir);
    for (int i = 0; i <= 9; i++) { /* f0 includes f1 ... f8 includes f9 */
        char name[32], text[128];
        snprintf(name, sizeof name, "f%d.rules", i);
        if (i < 9)
            snprintf(text, sizeof text, "include \"f%d.rules\"\n", i + 1);
        else
            snprintf(text, sizeof text, "%s", RULE_SID(9));
        write_file(dir, name, text);
    }
    struct ruleset *rs = ruleset_new();
    struct rule_diag d;
    rule_diag_init(&d);
    snprintf(path, sizeof path, "%s/f1.rules", dir); /* f9 is 8 levels down: allowed */
    ASSERT_EQ(rules_load_path(rs, path, NULL, &d), 0);
    ASSERT_EQ(ruleset_len(rs), 1);
    ruleset_free(rs);
    rs = ruleset_new();
    snprintf(path, sizeof path, "%s/f0.rules", dir); /* 9 levels down: refused */
    ASSERT_EQ(rules_load_path(rs, path, NULL, &d), -1);
    snprintf(want, sizeof want, "%s/f8.rules:1:9: includes nested deeper than 8\n", dir);
    ASSERT_STREQ(rule_diag_text(&d), want);
    ASSERT_EQ(ruleset_len(rs), 0);
    rule_diag_free(&d);
    ruleset_free(rs);
    rm_tree(dir);
}

TEST(a_directory_loads_its_rules_files_in_name_order)
{
    char dir[64], sub[96], want[512];
    make_tmp(dir, sizeof dir);
    write_file(dir, "b.rules", RULE_SID(2));
    write_file(dir, "a.rules", RULE_SID(1));
    write_file(dir, "c.txt", "not rules\n");
    write_file(dir, ".hidden.rules", "not rules either\n");
    write_file(dir, "rules", "nor this\n");
    struct ruleset *rs = ruleset_new();
    struct rule_diag d;
    rule_diag_init(&d);
    ASSERT_EQ(rules_load_path(rs, dir, NULL, &d), 0);
    ASSERT_STREQ(rule_diag_text(&d), "");
    ASSERT_EQ(ruleset_len(rs), 2);
    ASSERT_EQ(ruleset_rule(rs, 0)->sid, 1);
    ASSERT_EQ(ruleset_rule(rs, 1)->sid, 2);
    snprintf(want, sizeof want, "%s/a.rules", dir);
    ASSERT_STREQ(ruleset_rule(rs, 0)->file, want);

    snprintf(sub, sizeof sub, "%s/empty/", dir);
    ASSERT_EQ(mkdir(sub, 0700), 0);
    ASSERT_EQ(rules_load_path(rs, sub, NULL, &d), 0);
    snprintf(want, sizeof want, "%s: warning: no *.rules file in this directory\n", sub);
    ASSERT_STREQ(rule_diag_text(&d), want);

    rule_diag_free(&d);
    rule_diag_init(&d);
    ASSERT_EQ(rules_load_path(rs, "/nonexistent/x.rules", NULL, &d), -1);
    ASSERT_STREQ(rule_diag_text(&d), "/nonexistent/x.rules: No such file or directory\n");
    rule_diag_free(&d);
    ruleset_free(rs);
    rm_tree(dir);
}

/* ---- lines, comments, sids --------------------------------------------------------- */

TEST(continuation_lines_join_and_keep_positions)
{
    struct parsed p;
    parse(&p, "alert smtp any any -> any any ( \\\n"
              "    msg:\"split\"; \\\n"
              "    mail.login.mechanism:PLAIN; \\\n"
              "    classtype:cleartext-login; sid:1;)\n"
              "alert smtp any any -> any any (msg:\"x\"; \\\r\n"
              "    mail.starttls:upgrade; \\\n"
              "    classtype:cleartext-login; sid:2;)\n"
              "# a commented-out rule goes on \\\n"
              "alert smtp any any -> any any (nonsense \\\n"
              "  still the comment)\n"
              "alert smtp any any -> any any (msg:\"x\"; mail.login; cla\\\n"
              "sstype:cleartext-login; sid:3;)\n");
    ASSERT_EQ(p.rc, -1);
    ASSERT_STREQ(
        rule_diag_text(&p.d),
        "t.rules:6:19: unknown mail.starttls value 'upgrade'; allowed: implicit, upgraded, "
        "failed, refused, stripped, offered-unused, not-offered, unknown\n");
    ASSERT_EQ(ruleset_len(p.rs), 2);
    const struct rule *r = ruleset_rule(p.rs, 0);
    ASSERT_EQ(r->sid, 1);
    ASSERT_EQ(r->line, 1);
    ASSERT_STREQ(r->msg, "split");
    ASSERT_EQ(r->preds[0].line, 3);
    ASSERT_EQ(r->preds[0].col, 5);
    r = ruleset_rule(p.rs, 1);
    ASSERT_EQ(r->sid, 3);
    ASSERT_EQ(r->line, 11);
    ASSERT_EQ(r->classtype, RULE_CLASS_CLEARTEXT_LOGIN);
    parsed_free(&p);
}

TEST(comments_are_ignored_everywhere)
{
    struct parsed p;
    parse(&p, "# whole line\r\n"
              "   # indented\n"
              "\n"
              "\t \r\n"
              "#alert smtp this is not a rule\n"
              "alert smtp any any -> any any (msg:\"x\"; mail.login; reference:url,example.org/#x; "
              "classtype:cleartext-login; sid:1;) # trailing; (with) \"quotes\r\n"
              "# the end, no newline");
    ASSERT_STREQ(rule_diag_text(&p.d), "");
    ASSERT_EQ(p.rc, 0);
    ASSERT_EQ(ruleset_len(p.rs), 1);
    ASSERT_EQ(ruleset_rule(p.rs, 0)->line, 6);
    ASSERT_STREQ(ruleset_rule(p.rs, 0)->refs[0].value, "example.org/#x");
    parsed_free(&p);
}

TEST(duplicate_sids_name_the_first_rule)
{
    struct ruleset *rs = ruleset_new();
    struct rule_diag d;
    rule_diag_init(&d);
    const char *a = RULE_SID(5);
    const char *b =
        "\n\nalert tls any any -> any any (msg:\"y\"; tls.version:sslv3; classtype:sslv3; "
        "sid:5;)\n";
    ASSERT_EQ(rules_parse_text(rs, a, strlen(a), "a.rules", NULL, &d), 0);
    ASSERT_EQ(rules_parse_text(rs, b, strlen(b), "b.rules", NULL, &d), -1);
    ASSERT_STREQ(rule_diag_text(&d),
                 "b.rules:3:80: sid 5 is already used by the rule at a.rules:1:1\n");
    ASSERT_EQ(ruleset_len(rs), 1);
    ASSERT_EQ(ruleset_find_sid(rs, 5)->proto, RULE_PROTO_SMTP);
    ASSERT(ruleset_find_sid(rs, 6) == NULL);
    rule_diag_free(&d);
    ruleset_free(rs);
}

TEST(many_rules_are_found_by_sid)
{
    enum { N = 3000 };
    static char text[N * 110];
    size_t o = 0;
    for (int i = 0; i < N; i++)
        o += (size_t)snprintf(text + o, sizeof text - o,
                              "alert tls any any -> any any (msg:\"m\"; tls.sni; "
                              "classtype:cert-name-mismatch; sid:%d;)\n",
                              1000 + i * 7919);
    struct parsed p;
    parse(&p, text);
    ASSERT_STREQ(rule_diag_text(&p.d), "");
    ASSERT_EQ(ruleset_len(p.rs), N);
    for (int i = 0; i < N; i++) {
        const struct rule *r = ruleset_find_sid(p.rs, (uint32_t)(1000 + i * 7919));
        ASSERT(r != NULL);
        ASSERT(r == ruleset_rule(p.rs, (size_t)i));
        ASSERT_EQ(r->line, i + 1);
    }
    ASSERT(ruleset_find_sid(p.rs, 1001) == NULL);
    parsed_free(&p);
}

TEST(missing_sid_and_classtype_are_errors)
{
    struct parsed p;
    parse(&p, "alert smtp any any -> any any (msg:\"x\"; mail.login; classtype:cleartext-login;)\n"
              "  alert smtp any any -> any any (msg:\"x\"; mail.login; sid:1;)\n"
              "alert smtp any any -> any any (msg:\"x\"; mail.login; sdi:2;)\n");
    ASSERT_EQ(p.rc, -1);
    ASSERT_STREQ(rule_diag_text(&p.d), "t.rules:1:1: rule has no sid\n"
                                       "t.rules:2:3: rule has no classtype\n"
                                       "t.rules:3:53: unknown option 'sdi'; did you mean 'sid'?\n"
                                       "t.rules:3:1: rule has no classtype\n");
    ASSERT_EQ(ruleset_len(p.rs), 0);
    parsed_free(&p);
}

/* ---- threshold and suppress ---------------------------------------------------------- */

TEST(threshold_settings_are_parsed)
{
    static const char *const TYPES[] = {"limit", "threshold", "both"};
    static const char *const TRACKS[] = {"by_src", "by_dst", "by_rule", "by_server"};
    for (int t = 0; t < 3; t++) {
        for (int k = 0; k < 4; k++) {
            char text[512];
            snprintf(text, sizeof text,
                     "alert tls any any -> any any (msg:\"x\"; tls.cert.expired; threshold: "
                     "track %s , type %s,count %d,  seconds %d ; classtype:cert-expired; sid:1;)",
                     TRACKS[k], TYPES[t], t + 1, 60 * (k + 1));
            struct parsed p;
            const struct rule *r = parse_one(&p, text);
            ASSERT(r->threshold.is_set);
            ASSERT_EQ(r->threshold.type, t);
            ASSERT_EQ(r->threshold.track, k);
            ASSERT_EQ(r->threshold.count, t + 1);
            ASSERT_EQ(r->threshold.seconds, 60 * (k + 1));
            parsed_free(&p);
        }
    }
    struct parsed p;
    const struct rule *r = parse_one(&p, RULE_SID(1));
    ASSERT(!r->threshold.is_set);
    parsed_free(&p);
    r = parse_one(&p, "alert tls any any -> any any (msg:\"x\"; tls.cert.expired; threshold: type "
                      "limit, track by_server, count 1000000, seconds 31622400; "
                      "classtype:cert-expired; sid:1;)");
    ASSERT_EQ(r->threshold.count, RULES_MAX_THRESHOLD_COUNT);
    ASSERT_EQ(r->threshold.seconds, RULES_MAX_THRESHOLD_SECONDS);
    parsed_free(&p);
}

TEST(suppress_lines_are_parsed)
{
    struct parsed p;
    parse(&p,
          RULE_SID(
              10) "suppress gen_id 1, sig_id 10\n"
                  "suppress gen_id 1, sig_id 10, track by_src, ip 10.0.0.0/8\n"
                  "  suppress gen_id 1,sig_id 10,track by_dst,ip [192.168.1.1, 2001:db8::1] # why\n"
                  "suppress sig_id 10, gen_id 1, ip $HOME_NET, track by_src\n"
                  "suppress gen_id 1, sig_id 99\n");
    ASSERT_EQ(p.rc, 0);
    ASSERT_STREQ(rule_diag_text(&p.d), "t.rules:6:1: warning: suppress: no rule has sid 99\n");
    ASSERT_EQ(ruleset_suppress_len(p.rs), 5);
    const struct rule_suppress *s = ruleset_suppress(p.rs, 0);
    ASSERT_EQ(s->sid, 10);
    ASSERT(!s->has_track);
    ASSERT(s->ip.is_any);
    ASSERT_EQ(s->line, 2);
    s = ruleset_suppress(p.rs, 1);
    ASSERT(s->has_track);
    ASSERT_EQ(s->track, RULE_TRACK_BY_SRC);
    ASSERT_EQ(s->ip.n_v4, 1);
    ASSERT_EQ(s->ip.v4[0].lo, 0x0a000000u);
    ASSERT_EQ(s->ip.v4[0].hi, 0x0affffffu);
    ASSERT_EQ(s->ip.n_v6, 0);
    s = ruleset_suppress(p.rs, 2);
    ASSERT_EQ(s->track, RULE_TRACK_BY_DST);
    ASSERT_EQ(s->ip.n_v4, 1);
    ASSERT_EQ(s->ip.n_v6, 1);
    ASSERT_STREQ(s->ip.text, "[192.168.1.1, 2001:db8::1]");
    ASSERT_EQ(s->line, 4);
    ASSERT_EQ(s->col, 3);
    s = ruleset_suppress(p.rs, 3);
    ASSERT(s->has_track && s->ip.is_any);
    ASSERT_STREQ(s->file, "t.rules");
    parsed_free(&p);
}

/* ---- durations and versions ------------------------------------------------------------ */

struct value_case {
    const char *value; /* after tls.cert.days_left:< or tls.version: */
    long long want;    /* the value held, when ok */
    const char *error; /* else the message (after file:line:col: ) */
};

TEST(durations_are_held_in_the_field_unit)
{
    static const struct value_case CASES[] = {
        {"30d", 30, NULL},
        {"1d", 1, NULL},
        {"0", 0, NULL},
        {"48h", 2, NULL},
        {"2880m", 2, NULL},
        {"172800s", 2, NULL},
        {"-3d", -3, NULL},
        {"7", 7, NULL},
        {"1000000d", 1000000, NULL},
        {"-24h", -1, NULL},
        {"\"30d\"", 30, NULL},
        {"1000001d", 0, "tls.cert.days_left must be from -1000000d to 1000000d, found '1000001d'"},
        {"12h", 0, "tls.cert.days_left counts whole days: '12h' is not a whole number of days"},
        {"90m", 0, "tls.cert.days_left counts whole days: '90m' is not a whole number of days"},
        {"45s", 0, "tls.cert.days_left counts whole days: '45s' is not a whole number of days"},
        {"9223372036854775807h", 0,
         "tls.cert.days_left must be from -1000000d to 1000000d, found '9223372036854775807h'"},
        {"30w", 0,
         "tls.cert.days_left needs a duration (a whole number with d, h, m or s), found '30w'"},
        {"d", 0,
         "tls.cert.days_left needs a duration (a whole number with d, h, m or s), found 'd'"},
        {"1.5d", 0,
         "tls.cert.days_left needs a duration (a whole number with d, h, m or s), found '1.5d'"},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        char text[256];
        snprintf(text, sizeof text,
                 "alert tls any any -> any any (msg:\"x\"; tls.cert.days_left:<%s; "
                 "classtype:cert-expiring; sid:1;)",
                 CASES[i].value);
        struct parsed p;
        parse(&p, text);
        if (CASES[i].error == NULL) {
            if (p.rc != 0)
                TEST_FAIL("%s: %s", CASES[i].value, rule_diag_text(&p.d));
            const struct rule_pred *pr = &ruleset_rule(p.rs, 0)->preds[0];
            ASSERT_EQ(pr->op, RULE_OP_LT);
            ASSERT_EQ(pr->values[0].num, CASES[i].want);
        } else {
            char want[512];
            snprintf(want, sizeof want, "t.rules:1:60: %s\n", CASES[i].error);
            ASSERT_STREQ(rule_diag_text(&p.d), want);
        }
        parsed_free(&p);
    }
    ASSERT_EQ(rule_field_info(RULE_F_TLS_CERT_DAYS_LEFT)->unit, RULE_UNIT_DAYS);
}

TEST(versions_are_ordered_and_read_in_eve_spelling_too)
{
    ASSERT(RULE_VER_SSLV2 < RULE_VER_SSLV3 && RULE_VER_SSLV3 < RULE_VER_TLS10);
    ASSERT(RULE_VER_TLS10 < RULE_VER_TLS11 && RULE_VER_TLS11 < RULE_VER_TLS12);
    ASSERT(RULE_VER_TLS12 < RULE_VER_TLS13);
    static const struct value_case CASES[] = {
        {"sslv2", RULE_VER_SSLV2, NULL},
        {"SSLv2", RULE_VER_SSLV2, NULL},
        {"sslv3", RULE_VER_SSLV3, NULL},
        {"SSLv3", RULE_VER_SSLV3, NULL},
        {"tls1.0", RULE_VER_TLS10, NULL},
        {"TLSv1.0", RULE_VER_TLS10, NULL},
        {"tls1.1", RULE_VER_TLS11, NULL},
        {"TLSv1.1", RULE_VER_TLS11, NULL},
        {"tls1.2", RULE_VER_TLS12, NULL},
        {"TLSv1.2", RULE_VER_TLS12, NULL},
        {"tls1.3", RULE_VER_TLS13, NULL},
        {"TLSv1.3", RULE_VER_TLS13, NULL},
        {"TLS1.3", RULE_VER_TLS13, NULL},
        {"<tls1.2", RULE_VER_TLS12, NULL},
        {"tls1.4", 0,
         "unknown tls.version value 'tls1.4'; allowed: sslv2, sslv3, tls1.0, tls1.1, tls1.2, "
         "tls1.3"},
        {"1.2", 0,
         "tls.version is a version, not a number: '1.2' (versions: sslv2, sslv3, tls1.0, tls1.1, "
         "tls1.2, tls1.3)"},
        {"TLSv1.3-draft28", 0,
         "unknown tls.version value 'TLSv1.3-draft28'; allowed: sslv2, sslv3, tls1.0, tls1.1, "
         "tls1.2, tls1.3"},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        char text[256];
        snprintf(
            text, sizeof text,
            "alert tls any any -> any any (msg:\"x\"; tls.version:%s; classtype:sslv3; sid:1;)",
            CASES[i].value);
        struct parsed p;
        parse(&p, text);
        if (CASES[i].error == NULL) {
            if (p.rc != 0)
                TEST_FAIL("%s: %s", CASES[i].value, rule_diag_text(&p.d));
            const struct rule_pred *pr = &ruleset_rule(p.rs, 0)->preds[0];
            ASSERT_EQ(pr->op, CASES[i].value[0] == '<' ? RULE_OP_LT : RULE_OP_EQ);
            ASSERT_EQ(pr->values[0].num, CASES[i].want);
        } else {
            char want[512];
            snprintf(want, sizeof want, "t.rules:1:52: %s\n", CASES[i].error);
            ASSERT_STREQ(rule_diag_text(&p.d), want);
        }
        parsed_free(&p);
    }
}

/* ---- suggestions --------------------------------------------------------------------- */

struct suggest_case {
    const char *rule; /* a rule with one misspelt word */
    const char *word; /* that word (its column is looked up in the rule) */
    const char *msg;  /* the message */
};

TEST(unknown_words_get_the_nearest_known_one)
{
    static const struct suggest_case CASES[] = {
        {"alert smtp any any -> any any (msg:\"x\"; mail.login; clastype:cleartext-login; sid:1;)",
         "clastype", "unknown option 'clastype'; did you mean 'classtype'?"},
        {"alert smtp any any -> any any (msg:\"x\"; mail.login; classtpye:cleartext-login; sid:1;)",
         "classtpye", "unknown option 'classtpye'; did you mean 'classtype'?"},
        {"alert smtp any any -> any any (mesg:\"x\"; mail.login; classtype:cleartext-login; "
         "sid:1;)",
         "mesg", "unknown option 'mesg'; did you mean 'msg'?"},
        {"alert smtp any any -> any any (msg:\"x\"; mail.login; threshhold: type limit; "
         "classtype:cleartext-login; sid:1;)",
         "threshhold", "unknown option 'threshhold'; did you mean 'threshold'?"},
        {"alert smtp any any -> any any (msg:\"x\"; mail.login; refrence:url,x; "
         "classtype:cleartext-login; sid:1;)",
         "refrence", "unknown option 'refrence'; did you mean 'reference'?"},
        {"alert smtp any any -> any any (msg:\"x\"; mail.login; metdata:a b; "
         "classtype:cleartext-login; sid:1;)",
         "metdata", "unknown option 'metdata'; did you mean 'metadata'?"},
        {"alert tls any any -> any any (msg:\"x\"; tls.cert.expird; classtype:cert-expired; "
         "sid:1;)",
         "tls.cert.expird", "unknown option 'tls.cert.expird'; did you mean 'tls.cert.expired'?"},
        {"alert tls any any -> any any (msg:\"x\"; tls.sin:x; classtype:cert-expired; sid:1;)",
         "tls.sin", "unknown option 'tls.sin'; did you mean 'tls.sni'?"},
        {"alert smtp any any -> any any (msg:\"x\"; mail.login.cleartxt; "
         "classtype:cleartext-login; sid:1;)",
         "mail.login.cleartxt",
         "unknown option 'mail.login.cleartxt'; did you mean 'mail.login.cleartext'?"},
        {"alert tls any any -> any any (msg:\"x\"; tls.cipher_weaknesses:rc4; "
         "classtype:weak-cipher; sid:1;)",
         "tls.cipher_weaknesses",
         "unknown option 'tls.cipher_weaknesses'; did you mean 'tls.cipher_weakness'?"},
        {"alert smtp any any -> any any (msg:\"x\"; flowbits:set,x; classtype:cleartext-login; "
         "sid:1;)",
         "flowbits", "unknown option 'flowbits'"},
        {"alert imapp any any -> any any (msg:\"x\"; mail.login; classtype:cleartext-login; "
         "sid:1;)",
         "imapp", "unknown protocol 'imapp'; did you mean 'imap'?"},
        {"alert smtp $HOMENET any -> any any (msg:\"x\"; mail.login; classtype:cleartext-login; "
         "sid:1;)",
         "$HOMENET", "unknown variable '$HOMENET'; did you mean '$HOME_NET'?"},
        {"alert tls any any -> any any (msg:\"x\"; tls.cert.expired; classtype:cert-expird; "
         "sid:1;)",
         "cert-expird", "unknown classtype 'cert-expird'; did you mean 'cert-expired'?"},
        {"alert tls any any -> any any (msg:\"x\"; tls.cert.expired; severity:critcal; "
         "classtype:cert-expired; sid:1;)",
         "critcal", "unknown severity 'critcal'; did you mean 'critical'?"},
        {"alert tls any any -> any any (msg:\"x\"; tls.cert.expired; threshold: type limit, track "
         "by_src, count 1, secnds 5; classtype:cert-expired; sid:1;)",
         "secnds", "unknown threshold setting 'secnds'; did you mean 'seconds'?"},
        {"psas tls any any -> any any (msg:\"x\"; tls.cert.expired; classtype:cert-expired; "
         "sid:1;)",
         "psas", "unknown keyword 'psas'; did you mean 'pass'?"},
        {"supress gen_id 1, sig_id 1", "supress",
         "unknown keyword 'supress'; did you mean 'suppress'?"},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        struct parsed p;
        parse(&p, CASES[i].rule);
        char want[512];
        snprintf(want, sizeof want, "t.rules:1:%d: %s\n",
                 (int)(strstr(CASES[i].rule, CASES[i].word) - CASES[i].rule) + 1, CASES[i].msg);
        if (strcmp(rule_diag_text(&p.d), want) != 0)
            TEST_FAIL("%s\n  got:  %s  want: %s", CASES[i].rule, rule_diag_text(&p.d), want);
        ASSERT_EQ(p.rc, -1);
        parsed_free(&p);
    }
}

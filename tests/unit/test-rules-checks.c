/*
 * test-rules-checks.c — the rule language's checks: warnings, limits, the
 * diagnostics cap, the field table against the facts, the summary, and the
 * default rule files (which must load with no error and no warning).
 */
#include "rules-harness.h"
#include "tls-ciphers.h"

#define CL_TAIL "(msg:\"x\"; mail.login; classtype:cleartext-login; sid:1;)"
#define RULE_SID(n)                                                                                \
    "alert smtp any any -> any any (msg:\"x\"; mail.login; classtype:cleartext-login; sid:" #n     \
    ";)\n"

/* ---- warnings ------------------------------------------------------------------------ */

TEST(warnings_do_not_stop_a_rule)
{
    struct parsed p;
    parse(&p, "alert smtp 10.1.2.3/8 any -> any any (msg:\"x\"; mail.login; "
              "classtype:cleartext-login; sid:1;)\n"
              "alert smtp any any -> any any (mail.login; classtype:cleartext-login; sid:2;)\n"
              "alert tls any any -> any any (msg:\"x\"; classtype:sslv2; sid:3;)\n"
              "pass smtp any any -> any any (msg:\"x\"; mail.login; classtype:cleartext-login; "
              "threshold: type limit, track by_src, count 1, seconds 60; sid:4;)\n"
              "alert smtp 2001:db8::1/32 any -> any any (msg:\"x\"; mail.login; "
              "classtype:cleartext-login; sid:5;)\n"
              "alert any any any -> any any (msg:\"x\"; classtype:sslv2; sid:6;)\n");
    ASSERT_EQ(p.rc, 0);
    ASSERT_STREQ(rule_diag_text(&p.d),
                 "t.rules:1:12: warning: '10.1.2.3/8' has host bits set: it stands for 10.0.0.0/8\n"
                 "t.rules:2:1: warning: rule has no msg\n"
                 "t.rules:3:1: warning: rule has no predicates: it matches every tls session\n"
                 "t.rules:4:1: warning: threshold does nothing on a pass rule\n"
                 "t.rules:5:12: warning: '2001:db8::1/32' has host bits set: it stands for "
                 "2001:db8::/32\n"
                 "t.rules:6:1: warning: rule has no predicates: it matches every session\n");
    ASSERT_EQ(p.d.warnings, 6);
    ASSERT_EQ(p.d.errors, 0);
    ASSERT_EQ(ruleset_len(p.rs), 6);
    ASSERT(ruleset_rule(p.rs, 1)->msg == NULL);
    ASSERT_EQ(ruleset_rule(p.rs, 0)->src.v4[0].lo, 0x0a000000u);
    parsed_free(&p);
}

/* ---- limits ----------------------------------------------------------------------------- */

static char *repeat(const char *head, const char *unit, int n, const char *tail)
{
    size_t len = strlen(head) + strlen(unit) * (size_t)n + strlen(tail) + 1;
    char *s = malloc(len);
    ASSERT(s != NULL);
    size_t o = (size_t)snprintf(s, len, "%s", head);
    for (int i = 0; i < n; i++)
        o += (size_t)snprintf(s + o, len - o, "%s", unit);
    snprintf(s + o, len - o, "%s", tail);
    return s;
}

TEST(limits_are_enforced_with_a_message)
{
    struct parsed p;
    char want[256];

    /* A rule longer than RULES_MAX_RULE_BYTES, across continuation lines; the next rule loads. */
    char *text = repeat("alert smtp any any -> any any (msg:\"x\"; \\\n", "mail.login; \\\n", 1500,
                        "classtype:cleartext-login; sid:1;)\n" RULE_SID(2));
    parse(&p, text);
    ASSERT_STREQ(rule_diag_text(&p.d),
                 "t.rules:1:1: rule longer than 16384 bytes (continuation lines included)\n");
    ASSERT_EQ(ruleset_len(p.rs), 1);
    ASSERT_EQ(ruleset_rule(p.rs, 0)->line, 1503);
    parsed_free(&p);
    free(text);

    /* The same on one physical line: nothing of it was kept before, and it was lost in silence. */
    text = repeat("alert smtp any any -> any any (msg:\"x\"; ", "mail.login; ", 1500,
                  "classtype:cleartext-login; sid:1;)\n" RULE_SID(2));
    parse(&p, text);
    ASSERT_STREQ(rule_diag_text(&p.d),
                 "t.rules:1:1: rule longer than 16384 bytes (continuation lines included)\n");
    ASSERT_EQ(ruleset_len(p.rs), 1);
    ASSERT_EQ(ruleset_rule(p.rs, 0)->line, 2);
    parsed_free(&p);
    free(text);

    /* A comment that long is still a comment. */
    text = repeat("  # ", "a long comment ", 1500, "\n" RULE_SID(2));
    parse(&p, text);
    ASSERT_STREQ(rule_diag_text(&p.d), "");
    ASSERT_EQ(ruleset_len(p.rs), 1);
    parsed_free(&p);
    free(text);

    /* RULES_MAX_PREDICATES */
    text = repeat("alert smtp any any -> any any (msg:\"x\"; ", "mail.login; ", 65,
                  "classtype:cleartext-login; sid:1;)");
    parse(&p, text);
    snprintf(want, sizeof want, "t.rules:1:%d: more than 64 predicates\n", 41 + 64 * 12);
    ASSERT_STREQ(rule_diag_text(&p.d), want);
    parsed_free(&p);
    free(text);
    text = repeat("alert smtp any any -> any any (msg:\"x\"; ", "mail.login; ", 64,
                  "classtype:cleartext-login; sid:1;)");
    parse(&p, text);
    ASSERT_EQ(p.rc, 0);
    ASSERT_EQ(ruleset_rule(p.rs, 0)->n_preds, 64);
    parsed_free(&p);
    free(text);

    /* RULES_MAX_OPTIONS: 3 + 64 predicates + 16 references + 17 metadata, then one more */
    char *head =
        repeat("alert smtp any any -> any any (msg:\"x\"; classtype:cleartext-login; sid:1; ",
               "mail.login; ", 64, "");
    char *refs = repeat(head, "reference:url,x; ", 16, "");
    text = repeat(refs, "metadata:a b; ", 17, "rev:1;)");
    parse(&p, text);
    snprintf(want, sizeof want, "t.rules:1:%d: more than 100 options\n",
             (int)strlen(refs) + 17 * 14 + 1);
    free(head);
    free(refs);
    ASSERT_STREQ(rule_diag_text(&p.d), want);
    parsed_free(&p);
    free(text);

    /* RULES_MAX_LIST_DEPTH: 8 levels of [ ] are fine, 9 are not. */
    parse(&p, "alert smtp [[[[[[[[10.0.0.1]]]]]]]] any -> any any " CL_TAIL "\n"
              "alert smtp [[[[[[[[[10.0.0.1]]]]]]]]] any -> any any " CL_TAIL "\n");
    ASSERT_STREQ(rule_diag_text(&p.d), "t.rules:2:20: lists nested deeper than 8\n");
    ASSERT_EQ(ruleset_len(p.rs), 1);
    parsed_free(&p);

    /* RULES_MAX_STRING_BYTES */
    text = repeat("alert smtp any any -> any any (msg:\"", "a", 1025,
                  "\"; mail.login; classtype:cleartext-login; sid:1;)");
    parse(&p, text);
    ASSERT_STREQ(rule_diag_text(&p.d), "t.rules:1:36: string longer than 1024 bytes\n");
    parsed_free(&p);
    free(text);

    /* RULES_MAX_VALUE_ITEMS */
    text = repeat("alert smtp any any -> any any (msg:\"x\"; mail.login.user:[", "u,", 64,
                  "u]; classtype:cleartext-login; sid:1;)");
    parse(&p, text);
    snprintf(want, sizeof want, "t.rules:1:%d: more than 64 values in a list\n", 58 + 64 * 2);
    ASSERT_STREQ(rule_diag_text(&p.d), want);
    parsed_free(&p);
    free(text);

    /* RULES_MAX_REFERENCES */
    text = repeat("alert smtp any any -> any any (msg:\"x\"; mail.login; ", "reference:url,x; ", 17,
                  "classtype:cleartext-login; sid:1;)");
    parse(&p, text);
    snprintf(want, sizeof want, "t.rules:1:%d: more than 16 references\n", 53 + 16 * 17 + 10);
    ASSERT_STREQ(rule_diag_text(&p.d), want);
    parsed_free(&p);
    free(text);

    /* A NUL byte: not a rule file. */
    static const char nul[] = RULE_SID(1) "alert\0smtp\n";
    struct ruleset *rs = ruleset_new();
    struct rule_diag d;
    rule_diag_init(&d);
    ASSERT_EQ(rules_parse_text(rs, nul, sizeof nul - 1, "t.rules", NULL, &d), -1);
    ASSERT_STREQ(rule_diag_text(&d), "t.rules:2:6: NUL byte: not a rule file\n");
    ASSERT_EQ(ruleset_len(rs), 0);
    rule_diag_free(&d);
    ruleset_free(rs);
}

/* Each line of a diagnostic text starts "file:line:col: " with line and col from 1. */
static void assert_positioned(const char *text, const char *file)
{
    ASSERT(text[0] != '\0');
    for (const char *l = text; *l != '\0';) {
        const char *nl = strchr(l, '\n');
        ASSERT(nl != NULL);
        size_t fn = strlen(file);
        ASSERT(strncmp(l, file, fn) == 0 && l[fn] == ':');
        char *end;
        long line = strtol(l + fn + 1, &end, 10), col = 0;
        ASSERT(line >= 1 && *end == ':');
        col = strtol(end + 1, &end, 10);
        ASSERT(col >= 1 && end[0] == ':' && end[1] == ' ');
        l = nl + 1;
    }
}

static char *read_diag_of_load(const char *path, const struct rule_vars *v, unsigned *errors)
{
    struct ruleset *rs = ruleset_new();
    struct rule_diag d;
    rule_diag_init(&d);
    ASSERT_EQ(rules_load_path(rs, path, v, &d), -1);
    *errors = d.errors;
    char *t = strdup(rule_diag_text(&d));
    rule_diag_free(&d);
    ruleset_free(rs);
    return t;
}

/* Every bound the loader puts on a file, a set or a variable file is an error said at
 * file:line:col, where the bound is crossed: none is dropped in silence or said of a
 * whole file without a place. */
TEST(every_loading_limit_is_an_error_at_file_line_col)
{
    char dir[64], path[160];
    make_tmp(dir, sizeof dir);
    unsigned errors = 0;

    /* RULES_MAX_FILE_BYTES: the place is the first byte past the bound (line 2 here). */
    snprintf(path, sizeof path, "%s/big.rules", dir);
    FILE *f = fopen(path, "w");
    ASSERT(f != NULL);
    ASSERT(fputs("# big\n", f) >= 0);
    for (size_t i = 0; i < RULES_MAX_FILE_BYTES / 64; i++)
        ASSERT(fputs("#234567890123456789012345678901234567890123456789012345678901234", f) >= 0);
    ASSERT_EQ(fclose(f), 0);
    char *t = read_diag_of_load(path, NULL, &errors);
    char want[512];
    snprintf(want, sizeof want, "%s:2:%u: larger than %u bytes\n", path, RULES_MAX_FILE_BYTES - 5,
             RULES_MAX_FILE_BYTES);
    ASSERT_STREQ(t, want);
    free(t);
    /* ... and the same when the big file is included: said in it, not at the include. */
    write_file(dir, "inc.rules", RULE_SID(1) "include \"big.rules\"\n");
    snprintf(path, sizeof path, "%s/inc.rules", dir);
    t = read_diag_of_load(path, NULL, &errors);
    snprintf(want, sizeof want, "%s/big.rules:2:%u: larger than %u bytes\n", dir,
             RULES_MAX_FILE_BYTES - 5, RULES_MAX_FILE_BYTES);
    ASSERT_STREQ(t, want);
    free(t);
    snprintf(path, sizeof path, "%s/big.rules", dir);
    ASSERT_EQ(unlink(path), 0);

    /* RULES_MAX_CONFIG_BYTES and RULES_MAX_VAR_NAME in the variable file. */
    snprintf(path, sizeof path, "%s/big.conf", dir);
    f = fopen(path, "w");
    ASSERT(f != NULL);
    for (size_t i = 0; i < RULES_MAX_CONFIG_BYTES / 16 + 1; i++)
        ASSERT(fputs("# 3456789012345\n", f) >= 0);
    ASSERT_EQ(fclose(f), 0);
    struct rule_vars *v = rule_vars_new();
    struct rule_diag d;
    rule_diag_init(&d);
    ASSERT_EQ(rule_vars_load(v, path, &d), -1);
    snprintf(want, sizeof want, "%s:%u:1: larger than %u bytes\n", path,
             RULES_MAX_CONFIG_BYTES / 16 + 1, RULES_MAX_CONFIG_BYTES);
    ASSERT_STREQ(rule_diag_text(&d), want);
    rule_diag_free(&d);
    char *name = repeat("A", "B", RULES_MAX_VAR_NAME, " = any\nOK = any\n");
    write_file(dir, "name.conf", name);
    free(name);
    snprintf(path, sizeof path, "%s/name.conf", dir);
    rule_diag_init(&d);
    ASSERT_EQ(rule_vars_load(v, path, &d), -1);
    snprintf(want, sizeof want, "%s:1:1: variable name longer than %d bytes\n", path,
             RULES_MAX_VAR_NAME);
    ASSERT_STREQ(rule_diag_text(&d), want);
    ASSERT_STREQ(rule_vars_get(v, "OK"), "any");
    rule_diag_free(&d);

    /* RULES_MAX_VARS (three are predefined), RULES_MAX_VAR_BYTES */
    size_t cap = 64 * (RULES_MAX_VARS + 2), o = 0;
    char *text = malloc(cap);
    ASSERT(text != NULL);
    for (int i = 0; i < RULES_MAX_VARS; i++)
        o += (size_t)snprintf(text + o, cap - o, "V%d = any\n", i);
    write_file(dir, "many.conf", text);
    free(text);
    snprintf(path, sizeof path, "%s/many.conf", dir);
    struct rule_vars *v2 = rule_vars_new();
    rule_diag_init(&d);
    ASSERT_EQ(rule_vars_load(v2, path, &d), -1);
    assert_positioned(rule_diag_text(&d), path);
    snprintf(want, sizeof want, "%s:%d:1: more than %d variables\n", path, RULES_MAX_VARS - 2,
             RULES_MAX_VARS);
    ASSERT(strncmp(rule_diag_text(&d), want, strlen(want)) == 0);
    ASSERT_EQ(d.errors, 3);
    rule_diag_free(&d);
    rule_vars_free(v2);
    text = repeat("LONG = [", "10.0.0.1,", RULES_MAX_VAR_BYTES / 9, "10.0.0.2]\n");
    write_file(dir, "long.conf", text);
    free(text);
    snprintf(path, sizeof path, "%s/long.conf", dir);
    rule_diag_init(&d);
    ASSERT_EQ(rule_vars_load(v, path, &d), -1);
    snprintf(want, sizeof want, "%s:1:8: value longer than %d bytes\n", path, RULES_MAX_VAR_BYTES);
    ASSERT_STREQ(rule_diag_text(&d), want);
    rule_diag_free(&d);
    rule_vars_free(v);

    /* RULES_MAX_FILES: the files of a directory past the bound are named, each at 1:1. */
    char sub[128];
    snprintf(sub, sizeof sub, "%s/many", dir);
    ASSERT_EQ(mkdir(sub, 0700), 0);
    for (int i = 0; i < RULES_MAX_FILES + 2; i++) {
        char fn[32], rule[160];
        snprintf(fn, sizeof fn, "many/r%05d.rules", i);
        snprintf(rule, sizeof rule,
                 "alert smtp any any -> any any (msg:\"x\"; mail.login; "
                 "classtype:cleartext-login; sid:%d;)\n",
                 i + 1);
        write_file(dir, fn, rule);
    }
    t = read_diag_of_load(sub, NULL, &errors);
    snprintf(want, sizeof want,
             "%s/r%05d.rules:1:1: not read: more than %d files read by one load\n"
             "%s/r%05d.rules:1:1: not read: more than %d files read by one load\n",
             sub, RULES_MAX_FILES, RULES_MAX_FILES, sub, RULES_MAX_FILES + 1, RULES_MAX_FILES);
    ASSERT_STREQ(t, want);
    ASSERT_EQ(errors, 2);
    free(t);

    /* RULES_MAX_RULES and RULES_MAX_SUPPRESS: the lines past the bound. */
    cap = 128 * (size_t)(RULES_MAX_RULES + 2);
    text = malloc(cap);
    ASSERT(text != NULL);
    o = 0;
    for (int i = 0; i < RULES_MAX_RULES + 1; i++)
        o += (size_t)snprintf(text + o, cap - o,
                              "alert smtp any any -> any any (msg:\"x\"; mail.login; "
                              "classtype:cleartext-login; sid:%d;)\n",
                              i + 1);
    for (int i = 0; i < RULES_MAX_SUPPRESS + 1; i++)
        o += (size_t)snprintf(text + o, cap - o, "suppress gen_id 1, sig_id 1\n");
    struct parsed p;
    parse(&p, text);
    free(text);
    snprintf(want, sizeof want,
             "t.rules:%d:84: more than %d rules\n"
             "t.rules:%d:1: more than %d suppress lines\n",
             RULES_MAX_RULES + 1, RULES_MAX_RULES, RULES_MAX_RULES + 1 + RULES_MAX_SUPPRESS + 1,
             RULES_MAX_SUPPRESS);
    ASSERT_STREQ(rule_diag_text(&p.d), want);
    ASSERT_EQ(ruleset_len(p.rs), RULES_MAX_RULES);
    parsed_free(&p);

    /* RULES_MAX_LIST_ITEMS, RULES_MAX_METADATA */
    text = repeat("alert smtp [", "10.0.0.1,", RULES_MAX_LIST_ITEMS,
                  "10.0.0.2] any -> any any " CL_TAIL);
    parse(&p, text);
    free(text);
    snprintf(want, sizeof want, "t.rules:1:%d: more than %d items in a list\n",
             13 + 9 * RULES_MAX_LIST_ITEMS, RULES_MAX_LIST_ITEMS);
    ASSERT_STREQ(rule_diag_text(&p.d), want);
    parsed_free(&p);
    text = repeat("alert smtp any any -> any any (msg:\"x\"; mail.login; ", "metadata:a b; ",
                  RULES_MAX_METADATA + 1, "classtype:cleartext-login; sid:1;)");
    parse(&p, text);
    free(text);
    snprintf(want, sizeof want, "t.rules:1:%d: more than %d metadata pairs\n",
             53 + 14 * RULES_MAX_METADATA + 9, RULES_MAX_METADATA);
    ASSERT_STREQ(rule_diag_text(&p.d), want);
    parsed_free(&p);

    rm_tree(dir);
}

TEST(diagnostics_are_capped_and_counted)
{
    char *text = repeat("", "bogus\n", 150, "");
    struct parsed p;
    parse(&p, text);
    ASSERT_EQ(p.d.errors, 150);
    ASSERT_EQ(p.d.n_kept, RULES_MAX_DIAG_LINES);
    ASSERT_EQ(p.d.n_more, 50);
    const char *t = rule_diag_text(&p.d);
    ASSERT(strncmp(t, "t.rules:1:1: expected a rule, 'include' or 'suppress', found 'bogus'\n",
                   69) == 0);
    ASSERT(strstr(t, "t.rules:100:1: ") != NULL);
    ASSERT(strstr(t, "t.rules:101:1: ") == NULL);
    size_t n = strlen(t);
    ASSERT(n > 12 && strcmp(t + n - 12, "... 50 more\n") == 0);
    parsed_free(&p);
    free(text);
}

/* ---- the field table ------------------------------------------------------------------ */

TEST(field_table_matches_the_facts)
{
    static const struct {
        const char *name;    /* the field */
        enum rule_type type; /* its type */
        size_t n_values;     /* names of its values (enum, set, version) */
    } WANT[RULE_F_COUNT] = {
        {"mail.starttls", RULE_T_ENUM, 8},
        {"mail.port_class", RULE_T_ENUM, 5},
        {"mail.login", RULE_T_BOOL, 0},
        {"mail.login.mechanism", RULE_T_STRING, 0},
        {"mail.login.cleartext", RULE_T_BOOL, 0},
        {"mail.login.bearer_token", RULE_T_BOOL, 0},
        {"mail.login.result", RULE_T_ENUM, 3},
        {"mail.login.user", RULE_T_STRING, 0},
        {"mail.cleartext_messages", RULE_T_NUMBER, 0},
        {"mail.login_disabled_violated", RULE_T_BOOL, 0},
        {"tls.version", RULE_T_VERSION, 6},
        {"tls.client_max_version", RULE_T_VERSION, 6},
        {"tls.cipher", RULE_T_STRING, 0},
        {"tls.cipher_weakness", RULE_T_SET, 11},
        {"tls.sni", RULE_T_STRING, 0},
        {"tls.from_proto", RULE_T_ENUM, 3},
        {"tls.handshake_complete", RULE_T_BOOL, 0},
        {"tls.alert", RULE_T_BOOL, 0},
        {"tls.alert.description", RULE_T_NUMBER, 0},
        {"tls.cert.expired", RULE_T_BOOL, 0},
        {"tls.cert.not_yet_valid", RULE_T_BOOL, 0},
        {"tls.cert.self_signed", RULE_T_BOOL, 0},
        {"tls.cert.trusted", RULE_T_BOOL, 0},
        {"tls.cert.weak_key", RULE_T_BOOL, 0},
        {"tls.cert.weak_signature", RULE_T_BOOL, 0},
        {"tls.cert.name_mismatch", RULE_T_BOOL, 0},
        {"tls.cert.validity_too_long", RULE_T_BOOL, 0},
        {"tls.cert.days_left", RULE_T_DURATION, 0},
        {"tls.cert.key_bits", RULE_T_NUMBER, 0},
        {"tls.cert.subject", RULE_T_STRING, 0},
        {"tls.cert.issuer", RULE_T_STRING, 0},
    };
    for (int f = 0; f < RULE_F_COUNT; f++) {
        const struct rule_field_info *fi = rule_field_info((enum rule_field)f);
        ASSERT_STREQ(fi->name, WANT[f].name);
        ASSERT_EQ(fi->type, WANT[f].type);
        ASSERT_EQ(fi->n_values, WANT[f].n_values);
        ASSERT_EQ(rule_field_lookup(fi->name, strlen(fi->name)), f);
        ASSERT(fi->eve != NULL);
    }
    ASSERT_EQ(rule_field_lookup("tls.cert", 8), -1);
    ASSERT(rule_field_info(RULE_F_COUNT) == NULL);
    ASSERT(rule_field_info(RULE_F_MAIL_LOGIN_MECHANISM)->is_nocase);
    ASSERT(!rule_field_info(RULE_F_MAIL_LOGIN_USER)->is_nocase);
    ASSERT_STREQ(rule_field_info(RULE_F_MAIL_STARTTLS)->values[STARTTLS_OFFERED_UNUSED],
                 "offered-unused");
    ASSERT_STREQ(rule_field_info(RULE_F_TLS_CIPHER_WEAKNESS)->values[__builtin_ctz(TLS_WEAK_NO_FS)],
                 "no-forward-secrecy");
    ASSERT_STREQ(rule_field_info(RULE_F_MAIL_PORT_CLASS)->values[PORT_CLASS_IMPLICIT_TLS],
                 "implicit-tls");
    ASSERT_EQ(rule_field_info(RULE_F_TLS_ALERT_DESCRIPTION)->max, 255);
    for (int c = 0; c < RULE_CLASS_COUNT; c++)
        ASSERT(strcmp(rule_class_name((enum rule_class)c), "?") != 0);
    ASSERT_STREQ(rule_class_name(RULE_CLASS_CERT_VALIDITY_TOO_LONG), "cert-validity-too-long");
    ASSERT_EQ(rule_severity_priority(RULE_SEV_CRITICAL), 1);
    ASSERT_EQ(rule_severity_priority(RULE_SEV_INFO), 4);
}

/* ---- summary ----------------------------------------------------------------------------- */

TEST(summary_counts_rules_per_protocol_and_classtype)
{
    struct parsed p;
    parse(&p, RULE_SID(1) RULE_SID(2) "pass tls any any -> any any (msg:\"x\"; tls.version:sslv2; "
                                      "classtype:sslv2; sid:3;)\n"
                                      "suppress gen_id 1, sig_id 1\n");
    ASSERT_STREQ(rule_diag_text(&p.d), "");
    char *out = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&out, &n);
    ASSERT(f != NULL);
    ruleset_summary(p.rs, f);
    ASSERT_EQ(fclose(f), 0);
    ASSERT_STREQ(out, "rules: 3 loaded (2 alert, 1 pass), 1 suppress\n"
                      "by protocol:\n"
                      "  smtp                       2\n"
                      "  pop3                       0\n"
                      "  imap                       0\n"
                      "  tls                        1\n"
                      "  mail                       0\n"
                      "  any                        0\n"
                      "by severity:\n"
                      "  critical                   0\n"
                      "  high                       3\n"
                      "  medium                     0\n"
                      "  low                        0\n"
                      "  info                       0\n"
                      "by classtype:\n"
                      "  cleartext-login            2\n"
                      "  cleartext-mail             0\n"
                      "  starttls-not-offered       0\n"
                      "  starttls-offered-unused    0\n"
                      "  starttls-refused           0\n"
                      "  starttls-failed            0\n"
                      "  starttls-stripped          0\n"
                      "  login-disabled-violated    0\n"
                      "  sslv2                      1\n"
                      "  sslv3                      0\n"
                      "  tls-obsolete               0\n"
                      "  weak-cipher                0\n"
                      "  no-forward-secrecy         0\n"
                      "  cert-expired               0\n"
                      "  cert-not-yet-valid         0\n"
                      "  cert-expiring              0\n"
                      "  cert-self-signed           0\n"
                      "  cert-untrusted             0\n"
                      "  cert-weak-key              0\n"
                      "  cert-weak-signature        0\n"
                      "  cert-name-mismatch         0\n"
                      "  cert-validity-too-long     0\n");
    free(out);
    parsed_free(&p);
}

/* ---- the default rules -------------------------------------------------------------------- */

static const struct rule_pred *find_pred(const struct rule *r, enum rule_field f)
{
    for (size_t i = 0; i < r->n_preds; i++)
        if (r->preds[i].field == f)
            return &r->preds[i];
    return NULL;
}

static void load_clean(const char *path, size_t want_rules)
{
    ASSERT(access(path, R_OK) == 0); /* the tests run from the repository root */
    struct ruleset *rs = ruleset_new();
    struct rule_diag d;
    rule_diag_init(&d);
    int rc = rules_load_path(rs, path, NULL, &d);
    if (rc != 0 || d.errors || d.warnings)
        TEST_FAIL("%s: %u errors, %u warnings:\n%s", path, d.errors, d.warnings,
                  rule_diag_text(&d));
    ASSERT_EQ(ruleset_len(rs), want_rules);
    rule_diag_free(&d);
    ruleset_free(rs);
}

TEST(default_rules_load_clean)
{
    load_clean("rules/default/mail.rules", 22);
    load_clean("rules/default/tls.rules", 19);
    load_clean("rules/default", 41);
}

TEST(default_rules_follow_the_severity_policy)
{
    struct ruleset *rs = ruleset_new();
    struct rule_diag d;
    rule_diag_init(&d);
    ASSERT_EQ(rules_load_path(rs, "rules/default", NULL, &d), 0);
    bool covered[RULE_CLASS_COUNT] = {false};
    for (size_t i = 0; i < ruleset_len(rs); i++) {
        const struct rule *r = ruleset_rule(rs, i);
        enum rule_class c = r->classtype;
        covered[c] = true;
        ASSERT(r->sid >= 2100001 && r->sid <= 2100199);
        ASSERT_EQ(r->rev, 1);
        ASSERT(r->msg != NULL && strncmp(r->msg, "POSTCARD ", 9) == 0);
        ASSERT_EQ(r->action, RULE_ACTION_ALERT);
        ASSERT(r->has_severity);
        ASSERT(r->n_refs >= 1);
        bool on25 = r->dst_ports.n == 1 && r->dst_ports.r[0].lo == 25 && r->dst_ports.r[0].hi == 25;
        const struct rule_pred *pc = find_pred(r, RULE_F_MAIL_PORT_CLASS);
        bool relay = pc && pc->op == RULE_OP_EQ && pc->values[0].num == PORT_CLASS_RELAY;
        bool user_facing = pc && pc->op == RULE_OP_IN;
        switch (c) {
        case RULE_CLASS_CLEARTEXT_LOGIN:
        case RULE_CLASS_SSLV2:
        case RULE_CLASS_SSLV3:
        case RULE_CLASS_WEAK_CIPHER:
            ASSERT_EQ(r->severity, RULE_SEV_HIGH);
            break;
        case RULE_CLASS_CLEARTEXT_MAIL:
        case RULE_CLASS_TLS_OBSOLETE:
        case RULE_CLASS_CERT_EXPIRING:
            ASSERT_EQ(r->severity, RULE_SEV_MEDIUM);
            break;
        case RULE_CLASS_NO_FORWARD_SECRECY:
            ASSERT_EQ(r->severity, RULE_SEV_LOW);
            break;
        case RULE_CLASS_STARTTLS_NOT_OFFERED:
        case RULE_CLASS_STARTTLS_OFFERED_UNUSED:
        case RULE_CLASS_STARTTLS_REFUSED:
        case RULE_CLASS_STARTTLS_FAILED:
        case RULE_CLASS_STARTTLS_STRIPPED:
            ASSERT(pc != NULL);
            if (relay)
                ASSERT(r->severity == RULE_SEV_LOW || r->severity == RULE_SEV_INFO);
            if (user_facing)
                ASSERT_EQ(r->severity, RULE_SEV_HIGH);
            break;
        case RULE_CLASS_CERT_EXPIRED:
        case RULE_CLASS_CERT_NOT_YET_VALID:
        case RULE_CLASS_CERT_SELF_SIGNED:
        case RULE_CLASS_CERT_UNTRUSTED:
            ASSERT_EQ(r->severity, on25 ? RULE_SEV_INFO : RULE_SEV_HIGH);
            if (!on25) /* every other port: 465/587/993/995 and the rest */
                ASSERT(!r->dst_ports.is_any && r->dst_ports.n == 2 && r->dst_ports.r[0].hi == 24 &&
                       r->dst_ports.r[1].lo == 26);
            break;
        default:
            break;
        }
        if (c >= RULE_CLASS_CERT_EXPIRED) {
            ASSERT(r->threshold.is_set);
            ASSERT_EQ(r->threshold.type, RULE_THR_LIMIT);
            ASSERT_EQ(r->threshold.track, RULE_TRACK_BY_SERVER);
            ASSERT_EQ(r->threshold.count, 1);
            ASSERT_EQ(r->threshold.seconds, c == RULE_CLASS_CERT_EXPIRING ? 86400 : 3600);
        }
        if (c == RULE_CLASS_CERT_EXPIRING) {
            const struct rule_pred *dl = find_pred(r, RULE_F_TLS_CERT_DAYS_LEFT);
            ASSERT(dl != NULL && dl->op == RULE_OP_LT && dl->values[0].num == 30);
        }
    }
    for (int c = 0; c < RULE_CLASS_COUNT; c++)
        if (!covered[c])
            TEST_FAIL("no default rule has classtype %s", rule_class_name((enum rule_class)c));
    rule_diag_free(&d);
    ruleset_free(rs);
}

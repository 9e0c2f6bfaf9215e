/*
 * fuzz-rules.c — the rule language (rules/: lexer, parser, fields, address
 * and port sets, variables, includes, suppress lines) and the engine that
 * compiles and matches what it accepts.
 *
 * The input: a rule file. If it holds a NUL byte, the bytes before the first
 * one are a variables file (--config: NAME = value lines) loaded first, and
 * the rule file is what follows.
 *
 * The rule file is parsed as FUZZDIR/fuzz.rules (rules_parse_text), where
 * FUZZDIR is a directory made once per process with the files an include
 * may name: mail.rules and tls.rules (copies of rules/default), cycle.rules
 * (which includes itself) and sub/up.rules (which includes ../mail.rules).
 * The variables file is read from a memfd through its /proc name.
 *
 * Checked: loading never fails on its own (an error is a diagnostic line
 * "file:line:col: message"), the diagnostics count the errors they report,
 * and a set without errors compiles into an engine that then matches 16 sets
 * of facts drawn from the input's bytes (every field present or not, final,
 * growing or open; addresses, ports, protocols), as a session going on and
 * as one that ended, with thresholds; each alert is a rule of the set.
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"
#include "fuzz.h"
#include "rules-limits.h"
#include "rules.h"

#ifndef FUZZ_RULES_DIR
#define FUZZ_RULES_DIR "rules/default"
#endif

static char dir[64];        /* FUZZDIR */
static char rules_name[96]; /* FUZZDIR/fuzz.rules: the name the input is parsed under */
static int vars_fd = -1;    /* the variables file */
static char vars_path[64];  /* its /proc name */

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0)
        FUZZ_FAIL("cannot write %s", path);
}

static void copy_file(const char *from, const char *to)
{
    FILE *f = fopen(from, "rb");
    if (f == NULL)
        FUZZ_FAIL("cannot read %s", from);
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    write_file(to, buf, n);
}

static void remove_dir(void)
{
    static const char *const files[] = {"mail.rules", "tls.rules", "cycle.rules", "sub/up.rules",
                                        "sub"};
    char p[160];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        remove(p);
    }
    rmdir(dir);
}

static void setup(void)
{
    if (vars_fd >= 0)
        return;
    snprintf(dir, sizeof dir, "/tmp/postcard-fuzz-rules-XXXXXX");
    if (mkdtemp(dir) == NULL)
        FUZZ_FAIL("mkdtemp failed");
    atexit(remove_dir);
    char p[160];
    snprintf(p, sizeof p, "%s/mail.rules", dir);
    copy_file(FUZZ_RULES_DIR "/mail.rules", p);
    snprintf(p, sizeof p, "%s/tls.rules", dir);
    copy_file(FUZZ_RULES_DIR "/tls.rules", p);
    snprintf(p, sizeof p, "%s/cycle.rules", dir);
    write_file(p, "include \"cycle.rules\"\n", 22);
    snprintf(p, sizeof p, "%s/sub", dir);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/sub/up.rules", dir);
    write_file(p, "include \"../mail.rules\"\n", 24);
    snprintf(rules_name, sizeof rules_name, "%s/fuzz.rules", dir);
    vars_fd = memfd_create("fuzz-rules-vars", MFD_CLOEXEC);
    if (vars_fd < 0)
        FUZZ_FAIL("memfd_create failed");
    snprintf(vars_path, sizeof vars_path, "/proc/self/fd/%d", vars_fd);
}

/* Facts drawn from the input's bytes (a seeded splitmix64 over them). */
static void draw_facts(struct rule_facts *f, uint64_t *rng)
{
    static const char *const texts[] = {"",
                                        "PLAIN",
                                        "bob",
                                        "mail.postcard.test",
                                        "TLS_RSA_WITH_RC4_128_MD5",
                                        "CN=Postcard Test CA"};
    rule_facts_init(f);
    f->ipver = fuzz_rand(rng) % 2 ? 6 : 4;
    for (int i = 0; i < 16; i++) {
        f->cli[i] = (uint8_t)fuzz_rand(rng);
        f->srv[i] = (uint8_t)fuzz_rand(rng);
    }
    if (fuzz_rand(rng) % 2) { /* private addresses, as $HOME_NET names */
        f->cli[0] = 10;
        f->srv[0] = 192;
        f->srv[1] = 168;
    }
    static const uint16_t ports[] = {25, 587, 465, 110, 995, 143, 993, 2525, 40000};
    f->cport = (uint16_t)fuzz_rand(rng);
    f->sport = ports[fuzz_rand(rng) % 9];
    f->is_mail = fuzz_rand(rng) % 2;
    f->mail_proto = (enum rule_proto)(fuzz_rand(rng) % 3);
    f->is_tls = fuzz_rand(rng) % 2;
    f->is_final = fuzz_rand(rng) % 2;
    f->tls_state = (uint8_t)(fuzz_rand(rng) % 3);
    f->logins_state = (uint8_t)(fuzz_rand(rng) % 3);
    for (int k = 0; k < RULE_F_COUNT; k++) {
        const struct rule_field_info *fi = rule_field_info((enum rule_field)k);
        struct rule_fact *x = &f->f[k];
        x->is_set = fuzz_rand(rng) % 3 != 0;
        x->state = (uint8_t)(fuzz_rand(rng) % 3);
        uint32_t r = fuzz_rand(rng);
        switch (fi->type) {
        case RULE_T_BOOL:
            x->num = r % 2;
            break;
        case RULE_T_ENUM:
        case RULE_T_VERSION:
            x->num = fi->n_values ? r % fi->n_values : 0;
            break;
        case RULE_T_SET: {
            uint64_t bits = (uint64_t)r << 32 | fuzz_rand(rng);
            x->num = (int64_t)(fi->n_values < 63 ? bits & ((1ULL << fi->n_values) - 1) : bits);
            break;
        }
        case RULE_T_NUMBER:
        case RULE_T_DURATION: {
            uint64_t span = (uint64_t)fi->max - (uint64_t)fi->min + 1; /* 0: every value */
            x->num = (int64_t)((uint64_t)fi->min + (span ? r % span : r));
            break;
        }
        case RULE_T_STRING: {
            const char *t = texts[r % 6];
            x->str = t;
            x->len = strlen(t);
            break;
        }
        }
    }
    f->cert_id = fuzz_rand(rng) % 2 ? f->srv : NULL;
}

static void match(struct rule_engine *e, const struct ruleset *rs, uint64_t *rng)
{
    struct rule_thresholds *th = rule_thresholds_new(8);
    for (int k = 0; k < 16; k++) {
        struct rule_facts f;
        draw_facts(&f, rng);
        struct rule_login_facts logins[2];
        f.n_logins = fuzz_rand(rng) % 3;
        for (size_t i = 0; i < f.n_logins; i++) {
            struct rule_facts g;
            draw_facts(&g, rng);
            for (int m = 0; m < RULE_LOGIN_FIELDS; m++)
                logins[i].f[m] = g.f[RULE_LOGIN_FIRST + m];
        }
        f.logins = logins;
        const struct rule *out[RULES_MAX_ALERTS_PER_SESSION];
        struct rule_match_stats ms = {0};
        struct rule_session sess = {0};
        int64_t now = 1700000000 + k * 30;
        size_t n = rule_engine_match_session(e, th, &f, now, &sess, out,
                                             RULES_MAX_ALERTS_PER_SESSION, &ms);
        f.is_final = true;
        f.tls_state = f.logins_state = RULE_FACT_FINAL;
        for (int m = 0; m < RULE_F_COUNT; m++)
            f.f[m].state = RULE_FACT_FINAL;
        n += rule_engine_match_session(e, th, &f, now + 1, &sess, out + n,
                                       RULES_MAX_ALERTS_PER_SESSION - n, &ms);
        for (size_t i = 0; i < n; i++)
            if (ruleset_find_sid(rs, out[i]->sid) != out[i])
                FUZZ_FAIL("an alert of a rule not in the set (sid %u)", out[i]->sid);
        rule_session_release(&sess);
        n = rule_engine_match(e, th, &f, now + 2, out, RULES_MAX_ALERTS_PER_SESSION, &ms);
        for (size_t i = 0; i < n; i++)
            (void)rule_matches(out[i], &f);
    }
    rule_thresholds_free(th);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    struct rule_diag diag;
    rule_diag_init(&diag);
    struct rule_vars *vars = rule_vars_new();
    const uint8_t *nul = memchr(data, 0, size);
    const uint8_t *text = data;
    size_t n = size;
    if (nul != NULL) {
        size_t vn = (size_t)(nul - data);
        if (ftruncate(vars_fd, 0) != 0 || pwrite(vars_fd, data, vn, 0) != (ssize_t)vn)
            FUZZ_FAIL("cannot write the variables file");
        (void)rule_vars_load(vars, vars_path, &diag);
        text = nul + 1;
        n = size - vn - 1;
    }
    unsigned vars_errors = diag.errors;
    uint8_t *copy = fuzz_copy(text, n); /* exact size: rules_parse_text reads n bytes only */
    struct ruleset *rs = ruleset_new();
    int rc = rules_parse_text(rs, (const char *)copy, n, rules_name, vars, &diag);
    free(copy);
    const char *t = rule_diag_text(&diag);
    if (t == NULL || (diag.errors > 0 && t[0] == '\0') || (rc != 0) != (diag.errors > vars_errors))
        FUZZ_FAIL("%u errors, rc %d, diagnostics \"%s\"", diag.errors, rc, t ? t : "(null)");
    if (diag.len > 0 && t[diag.len - 1] != '\n')
        FUZZ_FAIL("the diagnostics do not end a line");
    if (rc == 0 && ruleset_len(rs) > 0) {
        uint64_t rng = size;
        for (size_t i = 0; i < size; i++)
            rng = rng * 31 + data[i];
        FILE *sink = fopen("/dev/null", "w");
        if (sink != NULL) {
            ruleset_summary(rs, sink);
            fclose(sink);
        }
        struct rule_engine *e = rule_engine_new(rs); /* takes rs */
        match(e, rule_engine_ruleset(e), &rng);
        rule_engine_free(e);
    } else {
        ruleset_free(rs);
    }
    rule_vars_free(vars);
    rule_diag_free(&diag);
    return 0;
}

/*
 * rules-harness.h — helpers shared by the rule-language tests: a dump of a
 * parsed rule, parsing into a fresh set, temporary rule trees. Test-only.
 */
#ifndef POSTCARD_RULES_HARNESS_H
#define POSTCARD_RULES_HARNESS_H

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "rules-limits.h"
#include "rules.h"
#include "test.h"

#pragma GCC diagnostic ignored "-Wunused-function"

/* ---- helpers --------------------------------------------------------------- */

struct sb {
    char s[16384]; /* text */
    size_t n;      /* bytes used */
};

static void sb_add(struct sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(struct sb *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(b->s + b->n, sizeof b->s - b->n, fmt, ap);
    va_end(ap);
    ASSERT(m >= 0 && (size_t)m < sizeof b->s - b->n);
    b->n += (size_t)m;
}

static void dump_v4(struct sb *b, uint32_t v)
{
    sb_add(b, "%u.%u.%u.%u", v >> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255);
}

static void dump_v6(struct sb *b, const uint8_t *a)
{
    char t[INET6_ADDRSTRLEN];
    ASSERT(inet_ntop(AF_INET6, a, t, sizeof t) != NULL);
    sb_add(b, "%s", t);
}

static void dump_addr(struct sb *b, const struct rule_addr_set *a)
{
    if (a->is_any) {
        sb_add(b, "any");
        return;
    }
    const char *sep = "";
    for (size_t i = 0; i < a->n_v4; i++, sep = ",") {
        sb_add(b, "%s", sep);
        dump_v4(b, a->v4[i].lo);
        if (a->v4[i].hi != a->v4[i].lo) {
            sb_add(b, "-");
            dump_v4(b, a->v4[i].hi);
        }
    }
    for (size_t i = 0; i < a->n_v6; i++, sep = ",") {
        sb_add(b, "%s", sep);
        dump_v6(b, a->v6[i].lo);
        if (memcmp(a->v6[i].lo, a->v6[i].hi, 16) != 0) {
            sb_add(b, "-");
            dump_v6(b, a->v6[i].hi);
        }
    }
}

static void dump_ports(struct sb *b, const struct rule_port_set *p)
{
    if (p->is_any) {
        sb_add(b, "any");
        return;
    }
    for (size_t i = 0; i < p->n; i++) {
        sb_add(b, "%s%u", i ? "," : "", p->r[i].lo);
        if (p->r[i].hi != p->r[i].lo)
            sb_add(b, "-%u", p->r[i].hi);
    }
}

static void dump_value(struct sb *b, const struct rule_field_info *fi, const struct rule_value *v)
{
    switch (fi->type) {
    case RULE_T_BOOL:
        sb_add(b, "%s", v->num ? "true" : "false");
        break;
    case RULE_T_ENUM:
    case RULE_T_SET:
    case RULE_T_VERSION:
        ASSERT(v->num >= 0 && (size_t)v->num < fi->n_values);
        sb_add(b, "%s", fi->values[v->num]);
        break;
    case RULE_T_NUMBER:
        sb_add(b, "%lld", (long long)v->num);
        break;
    case RULE_T_DURATION:
        sb_add(b, "%lld%s", (long long)v->num, fi->unit == RULE_UNIT_DAYS ? "d" : "s");
        break;
    case RULE_T_STRING:
        ASSERT(v->str != NULL);
        sb_add(b, "\"%s\"", v->str);
        break;
    }
}

/* Everything parsed from a rule, on one line. */
static void dump_rule(struct sb *b, const struct rule *r)
{
    sb_add(b, "%s %s ", rule_action_name(r->action), rule_proto_name(r->proto));
    dump_addr(b, &r->src);
    sb_add(b, " ");
    dump_ports(b, &r->src_ports);
    sb_add(b, " %s ", r->dir == RULE_DIR_TO_SERVER ? "->" : "<>");
    dump_addr(b, &r->dst);
    sb_add(b, " ");
    dump_ports(b, &r->dst_ports);
    sb_add(b, " sid:%u rev:%u class:%s sev:%s prio:%d", r->sid, r->rev,
           rule_class_name(r->classtype), rule_severity_name(r->severity), r->priority);
    if (r->msg)
        sb_add(b, " msg:\"%s\"", r->msg);
    if (r->threshold.is_set)
        sb_add(b, " thr:%s/%s/%u/%u", rule_threshold_type_name(r->threshold.type),
               rule_track_name(r->threshold.track), r->threshold.count, r->threshold.seconds);
    for (size_t i = 0; i < r->n_refs; i++)
        sb_add(b, " ref:%s=%s", r->refs[i].type, r->refs[i].value);
    for (size_t i = 0; i < r->n_meta; i++)
        sb_add(b, " meta:%s=%s", r->meta[i].key, r->meta[i].value);
    sb_add(b, " |");
    for (size_t i = 0; i < r->n_preds; i++) {
        const struct rule_pred *p = &r->preds[i];
        const struct rule_field_info *fi = rule_field_info(p->field);
        sb_add(b, " %s %s", fi->name, rule_op_name(p->op));
        for (size_t k = 0; k < p->n_values; k++) {
            sb_add(b, "%s", k ? "," : " ");
            dump_value(b, fi, &p->values[k]);
        }
        sb_add(b, ";");
    }
}

struct parsed {
    struct ruleset *rs; /* the set */
    struct rule_diag d; /* its diagnostics */
    int rc;             /* what rules_parse_text returned */
};

static void parse_as(struct parsed *p, const char *text, const char *file,
                     const struct rule_vars *v)
{
    p->rs = ruleset_new();
    rule_diag_init(&p->d);
    p->rc = rules_parse_text(p->rs, text, strlen(text), file, v, &p->d);
}

static void parse(struct parsed *p, const char *text)
{
    parse_as(p, text, "t.rules", NULL);
}

static void parsed_free(struct parsed *p)
{
    ruleset_free(p->rs);
    rule_diag_free(&p->d);
}

/* One rule that must load without a word of complaint. */
static const struct rule *parse_one(struct parsed *p, const char *text)
{
    parse(p, text);
    if (p->rc != 0 || p->d.errors || p->d.warnings)
        TEST_FAIL("%s\n  diagnostics:\n%s", text, rule_diag_text(&p->d));
    ASSERT_EQ(ruleset_len(p->rs), 1);
    return ruleset_rule(p->rs, 0);
}

/* A fresh directory under /tmp, removed by rm_tree. */
static void make_tmp(char *dir, size_t n)
{
    snprintf(dir, n, "/tmp/postcard-rules-XXXXXX");
    ASSERT(mkdtemp(dir) != NULL);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ASSERT(f != NULL);
    ASSERT_EQ(fwrite(text, 1, strlen(text), f), strlen(text));
    ASSERT_EQ(fclose(f), 0);
}

static void rm_tree(const char *dir)
{
    char cmd[600];
    ASSERT(strncmp(dir, "/tmp/postcard-rules-", 20) == 0);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ASSERT_EQ(system(cmd), 0);
}

#endif

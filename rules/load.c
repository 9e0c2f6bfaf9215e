/*
 * load.c — the rule set: reading files and directories, following
 * includes, keeping sids unique, checking suppressions, and the summary.
 *
 *   rules_load_path(dir)  ->  a.rules, b.rules, ... (name order)
 *        a.rules: include "sub/c.rules"   (relative to a.rules' directory)
 *                 sub/c.rules: include "../d.rules" ...
 *
 * Includes form a stack of the files being read; a file already on it is
 * a cycle (compared by realpath, so "./a.rules" and "a.rules" are the same
 * file). Files are read whole (bounded) and parsed line by line; nothing
 * is kept open.
 *
 * Hazards: [RULES-INCLUDE-CYCLE] a file including itself, directly or not.
 * [RULES-INCLUDE-DEEP] more than RULES_MAX_INCLUDE_DEPTH levels.
 * [RULES-FILES-MANY] a diamond of includes reads files again and again:
 * RULES_MAX_FILES per call. [RULES-FILE-BIG] RULES_MAX_FILE_BYTES per
 * file. [RULES-NUL] a NUL byte means a binary file: it is not parsed.
 * [RULES-SET-BIG] RULES_MAX_RULES rules, RULES_MAX_SUPPRESS suppressions.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rules-int.h"

struct ruleset {
    struct rule **rules;       /* rules in load order (each allocated alone: stable) */
    size_t n_rules, cap_rules; /* used, allocated */
    size_t *slots;             /* sid hash: index + 1 into rules, 0 = empty */
    size_t n_slots;            /* a power of two, at least twice n_rules */
    struct rule_suppress *sup; /* suppressions in load order */
    size_t n_sup, cap_sup;     /* used, allocated */
    char **files;              /* file names the rules point to */
    size_t n_files, cap_files; /* used, allocated */
};

struct load {
    struct ruleset *rs;                            /* where things go */
    const struct rule_vars *vars;                  /* variables */
    struct rule_diag *diag;                        /* problems */
    const char *name[RULES_MAX_INCLUDE_DEPTH + 1]; /* files being read, outermost first */
    const char *real[RULES_MAX_INCLUDE_DEPTH + 1]; /* their realpath, or NULL */
    unsigned depth;                                /* entries in name and real */
    size_t n_files;                                /* files read in this call */
    size_t sup_from;                               /* suppressions of this call start here */
};

/* ---- the set ------------------------------------------------------------------ */

struct ruleset *ruleset_new(void)
{
    return rl_xcalloc(1, sizeof(struct ruleset));
}

void rl_rule_free(struct rule *r)
{
    if (r == NULL)
        return;
    rl_addr_set_free(&r->src);
    rl_addr_set_free(&r->dst);
    rl_port_set_free(&r->src_ports);
    rl_port_set_free(&r->dst_ports);
    free(r->msg);
    for (size_t i = 0; i < r->n_refs; i++) {
        free(r->refs[i].type);
        free(r->refs[i].value);
    }
    free(r->refs);
    for (size_t i = 0; i < r->n_meta; i++) {
        free(r->meta[i].key);
        free(r->meta[i].value);
    }
    free(r->meta);
    for (size_t i = 0; i < r->n_preds; i++)
        rl_pred_free(&r->preds[i]);
    free(r->preds);
    free(r);
}

void ruleset_free(struct ruleset *rs)
{
    if (rs == NULL)
        return;
    for (size_t i = 0; i < rs->n_rules; i++)
        rl_rule_free(rs->rules[i]);
    free(rs->rules);
    free(rs->slots);
    for (size_t i = 0; i < rs->n_sup; i++)
        rl_addr_set_free(&rs->sup[i].ip);
    free(rs->sup);
    for (size_t i = 0; i < rs->n_files; i++)
        free(rs->files[i]);
    free(rs->files);
    free(rs);
}

size_t ruleset_len(const struct ruleset *rs)
{
    return rs->n_rules;
}

const struct rule *ruleset_rule(const struct ruleset *rs, size_t i)
{
    return i < rs->n_rules ? rs->rules[i] : NULL;
}

size_t ruleset_suppress_len(const struct ruleset *rs)
{
    return rs->n_sup;
}

const struct rule_suppress *ruleset_suppress(const struct ruleset *rs, size_t i)
{
    return i < rs->n_sup ? &rs->sup[i] : NULL;
}

static size_t slot_of(uint32_t sid, size_t n_slots)
{
    return (size_t)((sid * 2654435761u) & (n_slots - 1)); /* Knuth's multiplicative hash */
}

const struct rule *ruleset_find_sid(const struct ruleset *rs, uint32_t sid)
{
    if (rs->n_slots == 0)
        return NULL;
    for (size_t k = slot_of(sid, rs->n_slots);; k = (k + 1) & (rs->n_slots - 1)) {
        if (rs->slots[k] == 0)
            return NULL;
        if (rs->rules[rs->slots[k] - 1]->sid == sid)
            return rs->rules[rs->slots[k] - 1];
    }
}

static void slots_put(struct ruleset *rs, size_t idx)
{
    size_t k = slot_of(rs->rules[idx]->sid, rs->n_slots);
    while (rs->slots[k] != 0)
        k = (k + 1) & (rs->n_slots - 1);
    rs->slots[k] = idx + 1;
}

void rl_add_rule(const struct rl_ctx *c, struct rule *r, size_t sid_off)
{
    struct ruleset *rs = c->rs;
    const struct rule *dup = ruleset_find_sid(rs, r->sid);
    if (dup != NULL) {
        rl_report(c, true, sid_off, "sid %u is already used by the rule at %s:%u:%u", r->sid,
                  dup->file, dup->line, dup->col);
        rl_rule_free(r);
        return;
    }
    if (rs->n_rules >= RULES_MAX_RULES) { /* [RULES-SET-BIG] */
        rl_report(c, true, sid_off, "more than %d rules", RULES_MAX_RULES);
        rl_rule_free(r);
        return;
    }
    void *p = rs->rules;
    rl_grow(&p, &rs->cap_rules, rs->n_rules + 1, sizeof rs->rules[0]);
    rs->rules = p;
    rs->rules[rs->n_rules++] = r;
    if (rs->n_rules * 2 > rs->n_slots) {
        free(rs->slots);
        rs->n_slots = rs->n_slots ? rs->n_slots * 2 : 64;
        rs->slots = rl_xcalloc(rs->n_slots, sizeof rs->slots[0]);
        for (size_t i = 0; i < rs->n_rules; i++)
            slots_put(rs, i);
    } else {
        slots_put(rs, rs->n_rules - 1);
    }
}

void rl_add_suppress(const struct rl_ctx *c, struct rule_suppress *s)
{
    struct ruleset *rs = c->rs;
    if (rs->n_sup >= RULES_MAX_SUPPRESS) { /* [RULES-SET-BIG] */
        rl_diag_add(c->diag, true, s->file, s->line, s->col, "more than %d suppress lines",
                    RULES_MAX_SUPPRESS);
        rl_addr_set_free(&s->ip);
        return;
    }
    void *p = rs->sup;
    rl_grow(&p, &rs->cap_sup, rs->n_sup + 1, sizeof rs->sup[0]);
    rs->sup = p;
    rs->sup[rs->n_sup++] = *s;
}

static const char *intern(struct ruleset *rs, const char *name)
{
    for (size_t i = rs->n_files; i-- > 0;)
        if (strcmp(rs->files[i], name) == 0)
            return rs->files[i];
    void *p = rs->files;
    rl_grow(&p, &rs->cap_files, rs->n_files + 1, sizeof rs->files[0]);
    rs->files = p;
    rs->files[rs->n_files] = rl_xstrndup(name, strlen(name));
    return rs->files[rs->n_files++];
}

/* ---- files -------------------------------------------------------------------- */

char *rl_read_file(const char *path, size_t max, size_t *n, struct rl_perr *pe)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        rl_perr_set(pe, 0, "%s", strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        rl_perr_set(pe, 0, "is a directory");
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = rl_xmalloc(cap);
    for (;;) {
        if (len + 1 >= cap) {
            if (cap > max) /* [RULES-FILE-BIG] */
                break;
            cap *= 2;
            buf = rl_xrealloc(buf, cap);
        }
        size_t got = fread(buf + len, 1, cap - 1 - len, f);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(f) || len > max) {
        if (ferror(f)) {
            rl_perr_set(pe, 0, "%s", strerror(errno));
        } else { /* [RULES-FILE-BIG]: named where the first byte past the limit is */
            rl_perr_set(pe, max, "larger than %zu bytes", max);
            pe->line = 1;
            size_t bol = 0;
            for (size_t i = 0; i < max; i++)
                if (buf[i] == '\n') {
                    pe->line++;
                    bol = i + 1;
                }
            pe->col = (uint32_t)(max - bol + 1);
        }
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    buf[len] = '\0';
    *n = len;
    return buf;
}

static void parse_buffer(struct load *ld, const char *text, size_t n, const char *name,
                         const char *real);

/* "dir/of/including.rules" + "x.rules" -> "dir/of/x.rules" */
static char *join_relative(const char *including, const char *path)
{
    const char *slash = strrchr(including, '/');
    if (path[0] == '/' || slash == NULL)
        return rl_xstrndup(path, strlen(path));
    size_t dn = (size_t)(slash - including) + 1, pn = strlen(path);
    char *out = rl_xmalloc(dn + pn + 1);
    memcpy(out, including, dn);
    memcpy(out + dn, path, pn + 1);
    return out;
}

static void do_include(struct load *ld, const struct rl_ctx *c, const char *path, size_t off)
{
    if (ld->depth > RULES_MAX_INCLUDE_DEPTH) { /* [RULES-INCLUDE-DEEP] */
        rl_report(c, true, off, "includes nested deeper than %d", RULES_MAX_INCLUDE_DEPTH);
        return;
    }
    char *name = join_relative(ld->name[ld->depth - 1], path);
    char *real = realpath(name, NULL);
    if (real == NULL) {
        rl_report(c, true, off, "cannot include '%s': %s", name, strerror(errno));
        free(name);
        return;
    }
    for (unsigned k = 0; k < ld->depth; k++) {
        if (ld->real[k] != NULL && strcmp(ld->real[k], real) == 0) { /* [RULES-INCLUDE-CYCLE] */
            char chain[RULES_MSG_BYTES];
            size_t o = 0;
            for (unsigned m = k; m < ld->depth && o < sizeof chain; m++)
                o += (size_t)snprintf(chain + o, sizeof chain - o, "%s -> ", ld->name[m]);
            rl_report(c, true, off, "include cycle: %s%s", chain, name);
            goto out;
        }
    }
    if (++ld->n_files > RULES_MAX_FILES) { /* [RULES-FILES-MANY] */
        rl_report(c, true, off, "more than %d files read by one load", RULES_MAX_FILES);
        goto out;
    }
    struct rl_perr pe = {0};
    size_t n = 0;
    char *text = rl_read_file(name, RULES_MAX_FILE_BYTES, &n, &pe);
    if (text == NULL) {
        if (pe.line != 0) /* too large: said where, in the included file */
            rl_diag_add(ld->diag, true, intern(ld->rs, name), pe.line, pe.col, "%s", pe.msg);
        else
            rl_report(c, true, off, "cannot include '%s': %s", name, pe.msg);
        goto out;
    }
    parse_buffer(ld, text, n, name, real);
    free(text);
out:
    free(real);
    free(name);
}

static void parse_buffer(struct load *ld, const char *text, size_t n, const char *name,
                         const char *real)
{
    const char *file = intern(ld->rs, name);
    const char *nul = memchr(text, '\0', n);
    if (nul != NULL) { /* [RULES-NUL] */
        uint32_t line = 1;
        size_t bol = 0;
        for (size_t i = 0; i < (size_t)(nul - text); i++)
            if (text[i] == '\n') {
                line++;
                bol = i + 1;
            }
        rl_diag_add(ld->diag, true, file, line, (uint32_t)((size_t)(nul - text) - bol + 1),
                    "NUL byte: not a rule file");
        return;
    }
    ld->name[ld->depth] = file;
    ld->real[ld->depth] = real;
    ld->depth++;
    struct rl_line ln;
    rl_line_init(&ln);
    struct rl_ctx c = {ld->rs, ld->vars, ld->diag, file, &ln};
    size_t pos = 0;
    uint32_t lineno = 1;
    while (rl_line_next(&ln, text, n, &pos, &lineno)) {
        char *path = NULL;
        size_t off = 0;
        if (rl_parse_line(&c, &path, &off) == RL_KIND_INCLUDE) {
            do_include(ld, &c, path, off);
            free(path);
        }
    }
    rl_line_free(&ln);
    ld->depth--;
}

static void load_file(struct load *ld, const char *path)
{
    struct rl_perr pe = {0};
    size_t n = 0;
    if (++ld->n_files > RULES_MAX_FILES) { /* [RULES-FILES-MANY] */
        rl_diag_add(ld->diag, true, path, 1, 1, "not read: more than %d files read by one load",
                    RULES_MAX_FILES);
        return;
    }
    char *text = rl_read_file(path, RULES_MAX_FILE_BYTES, &n, &pe);
    if (text == NULL) {
        rl_diag_add(ld->diag, true, path, pe.line, pe.col, "%s", pe.msg);
        return;
    }
    char *real = realpath(path, NULL);
    parse_buffer(ld, text, n, path, real);
    free(real);
    free(text);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void load_dir(struct load *ld, const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        rl_diag_add(ld->diag, true, dir, 0, 0, "%s", strerror(errno));
        return;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (de->d_name[0] == '.' || len <= 6 || strcmp(de->d_name + len - 6, ".rules") != 0)
            continue;
        void *p = names;
        rl_grow(&p, &cap, n + 1, sizeof names[0]);
        names = p;
        names[n++] = rl_xstrndup(de->d_name, len);
    }
    closedir(d);
    if (n == 0)
        rl_diag_add(ld->diag, false, dir, 0, 0, "no *.rules file in this directory");
    if (n > 1)
        qsort(names, n, sizeof names[0], name_cmp);
    size_t dn = strlen(dir);
    bool has_slash = dn > 0 && dir[dn - 1] == '/';
    for (size_t i = 0; i < n; i++) {
        size_t nn = strlen(names[i]);
        char *path = rl_xmalloc(dn + 1 + nn + 1);
        memcpy(path, dir, dn);
        if (!has_slash)
            path[dn] = '/';
        memcpy(path + dn + !has_slash, names[i], nn + 1);
        load_file(ld, path);
        free(path);
        free(names[i]);
    }
    free(names);
}

/* The end of a load call: suppressions must name rules that exist. */
static int load_end(struct load *ld, unsigned errors_before)
{
    struct ruleset *rs = ld->rs;
    for (size_t i = ld->sup_from; i < rs->n_sup; i++)
        if (ruleset_find_sid(rs, rs->sup[i].sid) == NULL)
            rl_diag_add(ld->diag, false, rs->sup[i].file, rs->sup[i].line, rs->sup[i].col,
                        "suppress: no rule has sid %u", rs->sup[i].sid);
    return ld->diag->errors > errors_before ? -1 : 0;
}

static void load_begin(struct load *ld, struct ruleset *rs, const struct rule_vars *vars,
                       struct rule_diag *diag)
{
    memset(ld, 0, sizeof *ld);
    ld->rs = rs;
    ld->vars = vars;
    ld->diag = diag;
    ld->sup_from = rs->n_sup;
}

int rules_load_path(struct ruleset *rs, const char *path, const struct rule_vars *vars,
                    struct rule_diag *diag)
{
    struct rule_diag local;
    rule_diag_init(&local);
    struct rule_vars *own = vars ? NULL : rule_vars_new();
    struct load ld;
    load_begin(&ld, rs, vars ? vars : own, diag ? diag : &local);
    unsigned before = ld.diag->errors;
    struct stat st;
    if (stat(path, &st) < 0)
        rl_diag_add(ld.diag, true, path, 0, 0, "%s", strerror(errno));
    else if (S_ISDIR(st.st_mode))
        load_dir(&ld, path);
    else
        load_file(&ld, path);
    int rc = load_end(&ld, before);
    rule_vars_free(own);
    rule_diag_free(&local);
    return rc;
}

int rules_parse_text(struct ruleset *rs, const char *text, size_t n, const char *file_name,
                     const struct rule_vars *vars, struct rule_diag *diag)
{
    struct rule_diag local;
    rule_diag_init(&local);
    struct rule_vars *own = vars ? NULL : rule_vars_new();
    struct load ld;
    load_begin(&ld, rs, vars ? vars : own, diag ? diag : &local);
    unsigned before = ld.diag->errors;
    char *real = realpath(file_name, NULL); /* NULL when it names no file: no cycle is possible */
    parse_buffer(&ld, text, n, file_name, real);
    free(real);
    int rc = load_end(&ld, before);
    rule_vars_free(own);
    rule_diag_free(&local);
    return rc;
}

/* ---- summary ------------------------------------------------------------------ */

void ruleset_summary(const struct ruleset *rs, FILE *f)
{
    size_t per_proto[RULE_PROTO_COUNT] = {0}, per_class[RULE_CLASS_COUNT] = {0};
    size_t per_sev[RULE_SEV_COUNT] = {0}, n_pass = 0;
    for (size_t i = 0; i < rs->n_rules; i++) {
        const struct rule *r = rs->rules[i];
        per_proto[r->proto]++;
        per_class[r->classtype]++;
        per_sev[r->severity]++;
        n_pass += r->action == RULE_ACTION_PASS;
    }
    fprintf(f, "rules: %zu loaded (%zu alert, %zu pass), %zu suppress\n", rs->n_rules,
            rs->n_rules - n_pass, n_pass, rs->n_sup);
    fprintf(f, "by protocol:\n");
    for (int p = 0; p < RULE_PROTO_COUNT; p++)
        fprintf(f, "  %-26s %zu\n", rule_proto_name((enum rule_proto)p), per_proto[p]);
    fprintf(f, "by severity:\n");
    for (int s = RULE_SEV_COUNT - 1; s >= 0; s--)
        fprintf(f, "  %-26s %zu\n", rule_severity_name((enum rule_severity)s), per_sev[s]);
    fprintf(f, "by classtype:\n");
    for (int c = 0; c < RULE_CLASS_COUNT; c++)
        fprintf(f, "  %-26s %zu\n", rule_class_name((enum rule_class)c), per_class[c]);
}

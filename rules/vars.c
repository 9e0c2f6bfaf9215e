/*
 * vars.c — rule variables ($HOME_NET, $MAIL_PORTS, ...) and the file that
 * sets them:
 *
 *   # postcard rule variables
 *   HOME_NET     = [10.0.0.0/8, 192.168.0.0/16]
 *   EXTERNAL_NET = !$HOME_NET
 *   MAIL_PORTS   = [25,465,587,110,995,143,993]     # comment
 *
 * One `NAME = value` per line; the value runs to the end of the line or a
 * '#', may be wrapped in double quotes, and must parse as an address set
 * or a port set (variables may name variables, whatever their order in
 * the file). A table starts with HOME_NET, EXTERNAL_NET and MAIL_SERVERS
 * set to any.
 *
 * Hazards: [RULES-VARS-MANY] at most RULES_MAX_VARS names of
 * RULES_MAX_VAR_NAME bytes with values of RULES_MAX_VAR_BYTES.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules-int.h"

struct rule_var {
    char name[RULES_MAX_VAR_NAME + 1]; /* without the '$' */
    char *value;                       /* its text, NUL-terminated */
};

struct rule_vars {
    struct rule_var v[RULES_MAX_VARS]; /* [RULES-VARS-MANY] */
    size_t n;                          /* entries used */
};

struct rule_vars *rule_vars_new(void)
{
    struct rule_vars *v = rl_xcalloc(1, sizeof *v);
    rule_vars_set(v, "HOME_NET", "any");
    rule_vars_set(v, "EXTERNAL_NET", "any");
    rule_vars_set(v, "MAIL_SERVERS", "any");
    return v;
}

void rule_vars_free(struct rule_vars *v)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < v->n; i++)
        free(v->v[i].value);
    free(v);
}

static bool name_ok(const char *name, size_t n)
{
    if (n == 0 || n > RULES_MAX_VAR_NAME || (name[0] >= '0' && name[0] <= '9'))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!rl_is_name_char(name[i]))
            return false;
    return true;
}

static struct rule_var *find(const struct rule_vars *v, const char *name, size_t n)
{
    for (size_t i = 0; i < v->n; i++)
        if (strlen(v->v[i].name) == n && memcmp(v->v[i].name, name, n) == 0)
            return (struct rule_var *)&v->v[i];
    return NULL;
}

static int set_n(struct rule_vars *v, const char *name, size_t n, const char *value, size_t vn)
{
    if (!name_ok(name, n) || vn > RULES_MAX_VAR_BYTES || memchr(value, '\n', vn) != NULL)
        return -1;
    struct rule_var *e = find(v, name, n);
    if (e == NULL) {
        if (v->n >= RULES_MAX_VARS)
            return -1;
        e = &v->v[v->n++];
        memcpy(e->name, name, n);
        e->name[n] = '\0';
    }
    free(e->value);
    e->value = rl_xstrndup(value, vn);
    return 0;
}

int rule_vars_set(struct rule_vars *v, const char *name, const char *value)
{
    return set_n(v, name, strlen(name), value, strlen(value));
}

const char *rl_vars_getn(const struct rule_vars *v, const char *name, size_t n)
{
    const struct rule_var *e = find(v, name, n);
    return e ? e->value : NULL;
}

const char *rule_vars_get(const struct rule_vars *v, const char *name)
{
    return rl_vars_getn(v, name, strlen(name));
}

const char *rl_vars_suggest(const struct rule_vars *v, const char *name, size_t n)
{
    const char *cands[RULES_MAX_VARS];
    for (size_t i = 0; i < v->n; i++)
        cands[i] = v->v[i].name;
    return rl_suggest(name, n, cands, v->n);
}

/* ---- the config file ------------------------------------------------------ */

struct var_line {
    uint32_t line;      /* physical line that first set the variable (0: none) */
    size_t start;       /* offset of the line that set it last, in the file */
    size_t len;         /* that line's length (without CR LF) */
    size_t vs, ve;      /* the value, as offsets in that line */
    uint32_t last_line; /* that line's number */
};

/* Check one value: an address set or a port set, nothing after it. */
static void check_value(struct rl_ctx *c, const struct rule_vars *v, const struct var_line *vl)
{
    const char *s = c->ln->s;
    struct rl_perr pa = {0}, pp = {0};
    struct rule_addr_set as;
    struct rule_port_set ps;
    char show[48];
    size_t pos = vl->vs;
    if (rl_parse_addr(s, vl->ve, &pos, v, &as, &pa) == 0) {
        rl_skip_space(s, vl->ve, &pos);
        if (pos < vl->ve)
            rl_perr_set(&pa, pos, "unexpected %s after the address set",
                        rl_show(s, vl->ve, pos, show, sizeof show));
        rl_addr_set_free(&as);
        if (!pa.is_set) {
            rl_report_perr(c, &pa);
            return;
        }
    }
    pos = vl->vs;
    if (rl_parse_ports(s, vl->ve, &pos, v, &ps, &pp) == 0) {
        rl_skip_space(s, vl->ve, &pos);
        if (pos < vl->ve)
            rl_perr_set(&pp, pos, "unexpected %s after the port set",
                        rl_show(s, vl->ve, pos, show, sizeof show));
        rl_port_set_free(&ps);
        if (!pp.is_set) {
            rl_report_perr(c, &pp);
            return;
        }
    }
    /* Neither: the reading that went further is the one that was meant. */
    rl_report_perr(c, pp.off > pa.off ? &pp : &pa);
}

int rule_vars_load(struct rule_vars *v, const char *config_path, struct rule_diag *diag)
{
    struct rule_diag local;
    rule_diag_init(&local);
    struct rule_diag *d = diag ? diag : &local;
    unsigned errors = d->errors;
    struct rl_perr pe = {0};
    size_t n = 0;
    char *text = rl_read_file(config_path, RULES_MAX_CONFIG_BYTES, &n, &pe);
    if (text == NULL) {
        rl_diag_add(d, true, config_path, pe.line, pe.col, "%s", pe.msg);
        rule_diag_free(&local);
        return -1;
    }
    struct rl_line ln;
    rl_line_init(&ln);
    struct rl_ctx c = {.rs = NULL, .vars = v, .diag = d, .file = config_path, .ln = &ln};
    /* Per variable: the line of this file that set it (line 0: none), checked at the end. */
    struct var_line *set = rl_xcalloc(RULES_MAX_VARS, sizeof *set);
    char show[48];
    uint32_t lineno = 0;
    for (size_t pos = 0; pos < n;) {
        const char *lf = memchr(text + pos, '\n', n - pos);
        size_t end = lf ? (size_t)(lf - text) : n;
        lineno++;
        struct var_line vl = {lineno, pos, end - pos, 0, 0, lineno};
        pos = lf ? end + 1 : n;
        if (vl.len > 0 && text[vl.start + vl.len - 1] == '\r')
            vl.len--;
        rl_line_set(&ln, text + vl.start, vl.len, vl.line);
        const char *s = ln.s;
        size_t e = ln.n, i = 0;
        if (memchr(s, '\0', e) != NULL) {
            rl_report(&c, true, (size_t)((const char *)memchr(s, '\0', e) - s),
                      "NUL byte: not a text file");
            break;
        }
        rl_skip_space(s, e, &i);
        if (i >= e || s[i] == '#')
            continue;
        size_t name = i;
        while (i < e && rl_is_name_char(s[i]))
            i++;
        if (i - name > RULES_MAX_VAR_NAME) { /* [RULES-VARS-MANY] */
            rl_report(&c, true, name, "variable name longer than %d bytes", RULES_MAX_VAR_NAME);
            continue;
        }
        if (i == name || !name_ok(s + name, i - name)) {
            rl_report(&c, true, name, "expected a variable name, found %s",
                      rl_show(s, e, name, show, sizeof show));
            continue;
        }
        size_t name_n = i - name;
        rl_skip_space(s, e, &i);
        if (i >= e || s[i] != '=') {
            rl_report(&c, true, i, "expected '=' after '%.*s', found %s", (int)name_n, s + name,
                      rl_show(s, e, i, show, sizeof show));
            continue;
        }
        i++;
        rl_skip_space(s, e, &i);
        const char *hash = memchr(s + i, '#', e - i);
        size_t ve = hash ? (size_t)(hash - s) : e;
        while (ve > i && rl_is_space(s[ve - 1]))
            ve--;
        if (ve - i >= 2 && s[i] == '"' && s[ve - 1] == '"') {
            i++;
            ve--;
        }
        if (ve == i) {
            rl_report(&c, true, i, "variable %.*s has no value", (int)name_n, s + name);
            continue;
        }
        if (ve - i > RULES_MAX_VAR_BYTES) {
            rl_report(&c, true, i, "value longer than %d bytes", RULES_MAX_VAR_BYTES);
            continue;
        }
        struct rule_var *was = find(v, s + name, name_n);
        size_t idx = was ? (size_t)(was - v->v) : v->n;
        if (idx >= RULES_MAX_VARS) { /* [RULES-VARS-MANY] */
            rl_report(&c, true, name, "more than %d variables", RULES_MAX_VARS);
            continue;
        }
        if (was && set[idx].line != 0)
            rl_report(&c, false, name, "%.*s set again (line %u set it first)", (int)name_n,
                      s + name, set[idx].line);
        set_n(v, s + name, name_n, s + i, ve - i); /* name, length and count checked above */
        vl.vs = i;
        vl.ve = ve;
        if (set[idx].line != 0)
            vl.line = set[idx].line; /* keep the first line; the last value is checked */
        set[idx] = vl;
    }
    /* Values may name variables set further down: check them once all are known. */
    for (size_t k = 0; k < RULES_MAX_VARS; k++) {
        if (set[k].line == 0)
            continue;
        rl_line_set(&ln, text + set[k].start, set[k].len, set[k].last_line);
        check_value(&c, v, &set[k]);
    }
    free(set);
    rl_line_free(&ln);
    free(text);
    int rc = d->errors > errors ? -1 : 0;
    rule_diag_free(&local);
    return rc;
}

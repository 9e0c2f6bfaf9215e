/*
 * parse.c — one logical line of a rule file: a rule, an include, a
 * suppress, a comment or nothing.
 *
 *   alert|pass  PROTO  ADDR PORT  ->|<>  ADDR PORT  ( OPTION; OPTION; ... )  [# comment]
 *   OPTION   := keyword | keyword ':' value          (value ends at an unquoted ';')
 *   include "file.rules"
 *   suppress gen_id 1, sig_id N [, track by_src|by_dst, ip ADDR]
 *
 * A keyword is an option (msg sid rev classtype priority severity
 * reference metadata threshold) or a field (fields.c), which makes the
 * option a predicate. Errors in the header or in the shape of the options
 * end the rule (there is nothing reliable to go on with); an error inside
 * one option's value is reported and the next option is read, so one pass
 * reports every bad option. A rule with any error is not added.
 *
 * Hazards: [RULES-OPT-MANY] RULES_MAX_OPTIONS options and
 * RULES_MAX_PREDICATES predicates per rule. [RULES-REF-MANY]
 * RULES_MAX_REFERENCES and RULES_MAX_METADATA per rule.
 * [RULES-LINE-RUNAWAY] a logical line that was cut is reported, not parsed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules-int.h"

enum opt {
    OPT_MSG,
    OPT_SID,
    OPT_REV,
    OPT_CLASSTYPE,
    OPT_PRIORITY,
    OPT_SEVERITY,
    OPT_REFERENCE,
    OPT_METADATA,
    OPT_THRESHOLD,
    OPT_COUNT
};

#define OPT_STOP (-2) /* an option error that ends the rule */

static const char *const OPT_NAMES[OPT_COUNT] = {
    "msg", "sid", "rev", "classtype", "priority", "severity", "reference", "metadata", "threshold"};

/* Options that may be given once. */
static const bool OPT_ONCE[OPT_COUNT] = {true, true, true, true, true, true, false, false, true};

/* ---- reporting ------------------------------------------------------------- */

void rl_report(const struct rl_ctx *c, bool is_error, size_t off, const char *fmt, ...)
{
    uint32_t line, col;
    rl_line_where(c->ln, off, &line, &col);
    va_list ap;
    va_start(ap, fmt);
    rl_diag_vadd(c->diag, is_error, c->file, line, col, fmt, ap);
    va_end(ap);
}

int rl_report_perr(const struct rl_ctx *c, const struct rl_perr *pe)
{
    for (unsigned k = 0; k < pe->n_warn; k++)
        rl_report(c, false, pe->warn_off[k], "%s", pe->warn[k]);
    if (!pe->is_set)
        return 0;
    rl_report(c, true, pe->off, "%s", pe->msg);
    return -1;
}

/* "unknown <what> 'w'; did you mean 'x'?" or "...; allowed: a, b, c". */
static void report_unknown(const struct rl_ctx *c, size_t off, const char *what, const char *w,
                           size_t n, const char *const *names, size_t n_names)
{
    const char *near = rl_suggest(w, n, names, n_names);
    if (near != NULL) {
        rl_report(c, true, off, "unknown %s '%.*s'; did you mean '%s'?", what, (int)n, w, near);
        return;
    }
    char allowed[RULES_MSG_BYTES - 64];
    size_t o = 0;
    allowed[0] = '\0';
    for (size_t i = 0; i < n_names && o < sizeof allowed; i++)
        o += (size_t)snprintf(allowed + o, sizeof allowed - o, "%s%s", i ? ", " : "", names[i]);
    rl_report(c, true, off, "unknown %s '%.*s'; allowed: %s", what, (int)n, w, allowed);
}

static int lookup(const char *const *names, size_t n_names, const char *w, size_t n)
{
    for (size_t i = 0; i < n_names; i++)
        if (rl_word_eq(w, n, names[i]))
            return (int)i;
    return -1;
}

static void trim(const char *s, size_t *vs, size_t *ve)
{
    rl_skip_space(s, *ve, vs);
    while (*ve > *vs && rl_is_space(s[*ve - 1]))
        (*ve)--;
}

/* ---- options ---------------------------------------------------------------- */

static int opt_msg(const struct rl_ctx *c, size_t vs, size_t ve, struct rule *r)
{
    const char *s = c->ln->s;
    struct rl_perr pe = {0};
    size_t i = vs;
    char show[48];
    if (s[i] != '"') {
        rl_report(c, true, vs, "msg needs a quoted string, found %s",
                  rl_show(s, ve, vs, show, sizeof show));
        return -1;
    }
    if (rl_string(s, ve, &i, &r->msg, &pe) < 0)
        return rl_report_perr(c, &pe);
    rl_skip_space(s, ve, &i);
    if (i < ve) {
        rl_report(c, true, i, "unexpected %s after the msg string",
                  rl_show(s, ve, i, show, sizeof show));
        return -1;
    }
    return 0;
}

static int opt_u32(const struct rl_ctx *c, const char *name, size_t vs, size_t ve, uint32_t *out)
{
    const char *s = c->ln->s;
    uint64_t v;
    if (rl_parse_u64(s + vs, ve - vs, UINT32_MAX, &v) < 0 || v == 0) {
        rl_report(c, true, vs, "%s must be a whole number from 1 to 4294967295, found '%.*s'", name,
                  (int)(ve - vs), s + vs);
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

static int opt_reference(const struct rl_ctx *c, size_t vs, size_t ve, struct rule *r)
{
    const char *s = c->ln->s;
    if (r->n_refs >= RULES_MAX_REFERENCES) { /* [RULES-REF-MANY] */
        rl_report(c, true, vs, "more than %d references", RULES_MAX_REFERENCES);
        return OPT_STOP;
    }
    const char *comma = memchr(s + vs, ',', ve - vs);
    size_t ts = vs, te = comma ? (size_t)(comma - s) : ve;
    trim(s, &ts, &te);
    size_t us = comma ? (size_t)(comma - s) + 1 : ve, ue = ve;
    trim(s, &us, &ue);
    if (comma == NULL || te == ts || rl_word_len(s, te, ts, true) != te - ts || ue == us) {
        rl_report(c, true, vs, "reference needs 'type,value', found '%.*s'", (int)(ve - vs),
                  s + vs);
        return -1;
    }
    char *value = NULL;
    if (s[us] == '"') {
        struct rl_perr pe = {0};
        size_t i = us;
        if (rl_string(s, ue, &i, &value, &pe) < 0)
            return rl_report_perr(c, &pe);
        rl_skip_space(s, ue, &i);
        if (i < ue) {
            free(value);
            rl_report(c, true, i, "unexpected text after the reference string");
            return -1;
        }
    } else {
        value = rl_xstrndup(s + us, ue - us);
    }
    r->refs = rl_xrealloc(r->refs, (r->n_refs + 1) * sizeof r->refs[0]);
    r->refs[r->n_refs].type = rl_xstrndup(s + ts, te - ts);
    r->refs[r->n_refs].value = value;
    r->n_refs++;
    return 0;
}

static int opt_metadata(const struct rl_ctx *c, size_t vs, size_t ve, struct rule *r)
{
    const char *s = c->ln->s;
    for (size_t i = vs; i <= ve;) {
        const char *comma = memchr(s + i, ',', ve - i);
        size_t is = i, ie = comma ? (size_t)(comma - s) : ve;
        i = ie + 1;
        trim(s, &is, &ie);
        size_t kn = rl_word_len(s, ie, is, true);
        size_t ks = is + kn;
        rl_skip_space(s, ie, &ks);
        if (kn == 0 || ks == is + kn || ks >= ie) {
            rl_report(c, true, is, "metadata needs 'key value' pairs, found '%.*s'", (int)(ie - is),
                      s + is);
            return -1;
        }
        if (r->n_meta >= RULES_MAX_METADATA) { /* [RULES-REF-MANY] */
            rl_report(c, true, is, "more than %d metadata pairs", RULES_MAX_METADATA);
            return OPT_STOP;
        }
        r->meta = rl_xrealloc(r->meta, (r->n_meta + 1) * sizeof r->meta[0]);
        r->meta[r->n_meta].key = rl_xstrndup(s + is, kn);
        r->meta[r->n_meta].value = rl_xstrndup(s + ks, ie - ks);
        r->n_meta++;
        if (comma == NULL)
            break;
    }
    return 0;
}

static int opt_threshold(const struct rl_ctx *c, size_t kw, size_t vs, size_t ve, struct rule *r)
{
    static const char *const KEYS[] = {"type", "track", "count", "seconds"};
    const char *s = c->ln->s;
    bool seen[4] = {false, false, false, false};
    char show[48];
    struct rule_threshold t = {.is_set = true};
    size_t i = vs;
    for (;;) {
        rl_skip_space(s, ve, &i);
        size_t ks = i, kn = rl_word_len(s, ve, i, false);
        int k = lookup(KEYS, 4, s + ks, kn);
        if (kn == 0) {
            rl_report(c, true, ks, "expected a threshold setting, found %s",
                      rl_show(s, ve, ks, show, sizeof show));
            return -1;
        }
        if (k < 0) {
            report_unknown(c, ks, "threshold setting", s + ks, kn, KEYS, 4);
            return -1;
        }
        if (seen[k]) {
            rl_report(c, true, ks, "threshold setting '%s' given twice", KEYS[k]);
            return -1;
        }
        seen[k] = true;
        i += kn;
        rl_skip_space(s, ve, &i);
        size_t ws = i;
        while (i < ve && !rl_is_space(s[i]) && s[i] != ',')
            i++;
        const char *w = s + ws;
        size_t wn = i - ws;
        uint64_t v = 0;
        int x;
        switch (k) {
        case 0:
            if ((x = lookup(rl_threshold_type_names, 3, w, wn)) < 0) {
                rl_report(c, true, ws,
                          "threshold type must be limit, threshold or both, found '%.*s'", (int)wn,
                          w);
                return -1;
            }
            t.type = (enum rule_threshold_type)x;
            break;
        case 1:
            if ((x = lookup(rl_track_names, 4, w, wn)) < 0) {
                rl_report(c, true, ws,
                          "threshold track must be by_src, by_dst, by_rule or by_server, found "
                          "'%.*s'",
                          (int)wn, w);
                return -1;
            }
            t.track = (enum rule_track)x;
            break;
        case 2:
            if (rl_parse_u64(w, wn, RULES_MAX_THRESHOLD_COUNT, &v) < 0 || v == 0) {
                rl_report(c, true, ws,
                          "threshold count must be a whole number from 1 to %d, found '%.*s'",
                          RULES_MAX_THRESHOLD_COUNT, (int)wn, w);
                return -1;
            }
            t.count = (uint32_t)v;
            break;
        default:
            if (rl_parse_u64(w, wn, RULES_MAX_THRESHOLD_SECONDS, &v) < 0 || v == 0) {
                rl_report(c, true, ws,
                          "threshold seconds must be a whole number from 1 to %d, found '%.*s'",
                          RULES_MAX_THRESHOLD_SECONDS, (int)wn, w);
                return -1;
            }
            t.seconds = (uint32_t)v;
            break;
        }
        rl_skip_space(s, ve, &i);
        if (i >= ve)
            break;
        if (s[i] != ',') {
            rl_report(c, true, i, "expected ',' between threshold settings, found %s",
                      rl_show(s, ve, i, show, sizeof show));
            return -1;
        }
        i++;
    }
    for (int k = 0; k < 4; k++) {
        if (!seen[k]) {
            rl_report(c, true, kw, "threshold needs type, track, count and seconds; %s is missing",
                      KEYS[k]);
            return -1;
        }
    }
    r->threshold = t;
    return 0;
}

static int opt_word(const struct rl_ctx *c, const char *what, size_t vs, size_t ve,
                    const char *const *names, size_t n_names)
{
    const char *s = c->ln->s;
    int x = lookup(names, n_names, s + vs, ve - vs);
    if (x < 0)
        report_unknown(c, vs, what, s + vs, ve - vs, names, n_names);
    return x;
}

struct opts {
    bool seen[OPT_COUNT];   /* options given (valid or not) */
    bool hinted[OPT_COUNT]; /* an unknown option was said to be this one ("did you mean") */
    size_t sid_off;         /* where the sid's value is */
};

/* One option or predicate; -1 after reporting an error in it, OPT_STOP when past a limit
 * (the rest of the rule is not read: one message, not one per option). */
static int option(const struct rl_ctx *c, struct rule *r, struct opts *st, size_t kw, size_t kn,
                  bool has_value, size_t vs, size_t ve)
{
    bool *seen = st->seen;
    const char *s = c->ln->s;
    int o = lookup(OPT_NAMES, OPT_COUNT, s + kw, kn);
    if (o < 0) {
        int f = rule_field_lookup(s + kw, kn);
        if (f < 0) {
            const char *cands[OPT_COUNT + RULE_F_COUNT];
            memcpy(cands, OPT_NAMES, sizeof OPT_NAMES);
            for (int k = 0; k < RULE_F_COUNT; k++)
                cands[OPT_COUNT + k] = rule_field_info((enum rule_field)k)->name;
            const char *near = rl_suggest(s + kw, kn, cands, OPT_COUNT + RULE_F_COUNT);
            int hint = near ? lookup(OPT_NAMES, OPT_COUNT, near, strlen(near)) : -1;
            if (hint >= 0) /* the missing option is then not reported again */
                st->hinted[hint] = true;
            if (near)
                rl_report(c, true, kw, "unknown option '%.*s'; did you mean '%s'?", (int)kn, s + kw,
                          near);
            else
                rl_report(c, true, kw, "unknown option '%.*s'", (int)kn, s + kw);
            return -1;
        }
        if (r->n_preds >= RULES_MAX_PREDICATES) { /* [RULES-OPT-MANY] */
            rl_report(c, true, kw, "more than %d predicates", RULES_MAX_PREDICATES);
            return OPT_STOP;
        }
        struct rule_pred p;
        if (rl_parse_pred(c, (enum rule_field)f, kw, has_value, vs, ve, &p) < 0)
            return -1;
        r->preds = rl_xrealloc(r->preds, (r->n_preds + 1) * sizeof r->preds[0]);
        r->preds[r->n_preds++] = p;
        return 0;
    }
    if (OPT_ONCE[o] && seen[o]) {
        rl_report(c, true, kw, "duplicate option '%s'", OPT_NAMES[o]);
        return -1;
    }
    seen[o] = true;
    if (!has_value || vs == ve) {
        rl_report(c, true, kw, "option '%s' needs a value", OPT_NAMES[o]);
        return -1;
    }
    int x;
    switch ((enum opt)o) {
    case OPT_MSG:
        return opt_msg(c, vs, ve, r);
    case OPT_SID:
        st->sid_off = vs;
        return opt_u32(c, "sid", vs, ve, &r->sid);
    case OPT_REV:
        return opt_u32(c, "rev", vs, ve, &r->rev);
    case OPT_CLASSTYPE:
        if ((x = opt_word(c, "classtype", vs, ve, rl_class_names, RULE_CLASS_COUNT)) < 0)
            return -1;
        r->classtype = (enum rule_class)x;
        return 0;
    case OPT_PRIORITY: {
        uint64_t v;
        if (rl_parse_u64(s + vs, ve - vs, 4, &v) < 0 || v == 0) {
            rl_report(c, true, vs, "priority must be 1, 2, 3 or 4, found '%.*s'", (int)(ve - vs),
                      s + vs);
            return -1;
        }
        r->priority = (int)v;
        r->has_priority = true;
        return 0;
    }
    case OPT_SEVERITY:
        if ((x = opt_word(c, "severity", vs, ve, rl_severity_names, RULE_SEV_COUNT)) < 0)
            return -1;
        r->severity = (enum rule_severity)x;
        r->has_severity = true;
        return 0;
    case OPT_REFERENCE:
        return opt_reference(c, vs, ve, r);
    case OPT_METADATA:
        return opt_metadata(c, vs, ve, r);
    case OPT_THRESHOLD:
        return opt_threshold(c, kw, vs, ve, r);
    case OPT_COUNT:
        break;
    }
    return -1;
}

/* The ';' ending a value that starts at from; -1 (reported) when there is none. */
static int value_end(const struct rl_ctx *c, size_t from, size_t kw, size_t kn, size_t *semi)
{
    const char *s = c->ln->s;
    size_t e = c->ln->n, quote = 0;
    bool in_quote = false;
    for (size_t j = from; j < e; j++) {
        if (s[j] == '\\' && j + 1 < e) {
            j++;
        } else if (s[j] == '"') {
            in_quote = !in_quote;
            quote = j;
        } else if (s[j] == ';' && !in_quote) {
            *semi = j;
            return 0;
        }
    }
    if (in_quote) {
        rl_report(c, true, quote, "unterminated string");
        return -1;
    }
    size_t last = e;
    while (last > from && rl_is_space(s[last - 1]))
        last--;
    if (last > from && s[last - 1] == ')')
        rl_report(c, true, last - 1, "missing ';' after option '%.*s'", (int)kn, s + kw);
    else
        rl_report(c, true, e, "missing ')' at the end of the rule");
    return -1;
}

/* ---- a rule ----------------------------------------------------------------- */

static int header_word(const struct rl_ctx *c, size_t *i, const char *what, size_t *at, size_t *n)
{
    const char *s = c->ln->s;
    size_t e = c->ln->n;
    char show[48];
    rl_skip_space(s, e, i);
    *at = *i;
    *n = rl_word_len(s, e, *i, false);
    if (*n == 0) {
        rl_report(c, true, *i, "expected %s, found %s", what, rl_show(s, e, *i, show, sizeof show));
        return -1;
    }
    *i += *n;
    return 0;
}

/* A header set, which must be followed by whitespace. */
static int header_set(const struct rl_ctx *c, size_t *i, bool is_port, void *out)
{
    const char *s = c->ln->s;
    size_t e = c->ln->n;
    char show[48];
    struct rl_perr pe = {0};
    rl_skip_space(s, e, i);
    int rc = is_port ? rl_parse_ports(s, e, i, c->vars, out, &pe)
                     : rl_parse_addr(s, e, i, c->vars, out, &pe);
    if (rl_report_perr(c, &pe) < 0 || rc < 0)
        return -1;
    if (*i < e && !rl_is_space(s[*i]) && !(is_port && s[*i] == '(')) {
        rl_report(c, true, *i, "unexpected %s after the %s", rl_show(s, e, *i, show, sizeof show),
                  is_port ? "port set" : "address set");
        if (is_port)
            rl_port_set_free(out);
        else
            rl_addr_set_free(out);
        return -1;
    }
    return 0;
}

static void parse_rule(const struct rl_ctx *c, size_t start, enum rule_action action)
{
    const char *s = c->ln->s;
    size_t e = c->ln->n, i = start, at, n;
    char show[48];
    struct rule *r = rl_xcalloc(1, sizeof *r);
    r->action = action;
    r->file = c->file;
    rl_line_where(c->ln, start, &r->line, &r->col);
    i += rl_word_len(s, e, i, false);

    if (header_word(c, &i, "a protocol", &at, &n) < 0)
        goto fail;
    int p = lookup(rl_proto_names, RULE_PROTO_COUNT, s + at, n);
    if (p < 0) {
        report_unknown(c, at, "protocol", s + at, n, rl_proto_names, RULE_PROTO_COUNT);
        goto fail;
    }
    r->proto = (enum rule_proto)p;
    if (header_set(c, &i, false, &r->src) < 0 || header_set(c, &i, true, &r->src_ports) < 0)
        goto fail;
    rl_skip_space(s, e, &i);
    at = i;
    while (i < e && !rl_is_space(s[i]))
        i++;
    if (rl_word_eq(s + at, i - at, "->")) {
        r->dir = RULE_DIR_TO_SERVER;
    } else if (rl_word_eq(s + at, i - at, "<>")) {
        r->dir = RULE_DIR_EITHER;
    } else if (rl_word_eq(s + at, i - at, "<-")) {
        rl_report(c, true, at, "direction '<-' is not supported: swap the sides and write '->'");
        goto fail;
    } else {
        rl_report(c, true, at, "expected '->' or '<>', found %s",
                  rl_show(s, e, at, show, sizeof show));
        goto fail;
    }
    if (header_set(c, &i, false, &r->dst) < 0 || header_set(c, &i, true, &r->dst_ports) < 0)
        goto fail;
    rl_skip_space(s, e, &i);
    if (i >= e || s[i] != '(') {
        rl_report(c, true, i, "expected '(' and the rule options, found %s",
                  rl_show(s, e, i, show, sizeof show));
        goto fail;
    }
    i++;

    struct opts st = {.sid_off = start};
    size_t n_opts = 0;
    int errors = 0;
    for (;;) {
        rl_skip_space(s, e, &i);
        if (i >= e) {
            rl_report(c, true, e, "missing ')' at the end of the rule");
            goto fail;
        }
        if (s[i] == ')') {
            i++;
            break;
        }
        size_t kw = i, kn = rl_word_len(s, e, i, true);
        if (kn == 0) {
            rl_report(c, true, i, "expected an option, found %s",
                      rl_show(s, e, i, show, sizeof show));
            goto fail;
        }
        i += kn;
        rl_skip_space(s, e, &i);
        bool has_value = false;
        size_t vs = 0, ve = 0;
        if (i < e && s[i] == ':') {
            has_value = true;
            size_t semi;
            if (value_end(c, i + 1, kw, kn, &semi) < 0)
                goto fail;
            vs = i + 1;
            ve = semi;
            trim(s, &vs, &ve);
            i = semi + 1;
        } else if (i < e && s[i] == ';') {
            i++;
        } else if (i >= e || s[i] == ')') {
            rl_report(c, true, i, "missing ';' after option '%.*s'", (int)kn, s + kw);
            goto fail;
        } else {
            rl_report(c, true, i, "expected ':' or ';' after '%.*s', found %s", (int)kn, s + kw,
                      rl_show(s, e, i, show, sizeof show));
            goto fail;
        }
        if (++n_opts > RULES_MAX_OPTIONS) { /* [RULES-OPT-MANY] */
            rl_report(c, true, kw, "more than %d options", RULES_MAX_OPTIONS);
            goto fail;
        }
        int rc = option(c, r, &st, kw, kn, has_value, vs, ve);
        if (rc == OPT_STOP)
            goto fail;
        if (rc < 0)
            errors++;
    }
    rl_skip_space(s, e, &i);
    if (i < e && s[i] != '#') {
        rl_report(c, true, i, "unexpected %s after ')' (one rule per line; '#' starts a comment)",
                  rl_show(s, e, i, show, sizeof show));
        errors++;
    }
    if (!st.seen[OPT_SID] && !st.hinted[OPT_SID]) {
        rl_report(c, true, start, "rule has no sid");
        errors++;
    }
    if (!st.seen[OPT_CLASSTYPE] && !st.hinted[OPT_CLASSTYPE]) {
        rl_report(c, true, start, "rule has no classtype");
        errors++;
    }
    if (errors || !st.seen[OPT_SID] || !st.seen[OPT_CLASSTYPE])
        goto fail;
    if (!st.seen[OPT_MSG] && !st.hinted[OPT_MSG])
        rl_report(c, false, start, "rule has no msg");
    if (r->n_preds == 0)
        rl_report(c, false, start, "rule has no predicates: it matches every %s%ssession",
                  r->proto == RULE_PROTO_ANY ? "" : rl_proto_names[r->proto],
                  r->proto == RULE_PROTO_ANY ? "" : " ");
    if (r->action == RULE_ACTION_PASS && r->threshold.is_set)
        rl_report(c, false, start, "threshold does nothing on a pass rule");
    if (!st.seen[OPT_REV])
        r->rev = 1;
    if (!r->has_severity)
        r->severity = r->has_priority ? (enum rule_severity)(4 - r->priority)
                                      : rule_class_default_severity(r->classtype);
    if (!r->has_priority)
        r->priority = rule_severity_priority(r->severity);
    rl_add_rule(c, r, st.sid_off);
    return;
fail:
    rl_rule_free(r);
}

/* ---- include and suppress ---------------------------------------------------- */

static enum rl_kind parse_include(const struct rl_ctx *c, size_t i, char **path, size_t *off)
{
    const char *s = c->ln->s;
    size_t e = c->ln->n;
    char show[48];
    struct rl_perr pe = {0};
    rl_skip_space(s, e, &i);
    if (i >= e || s[i] != '"') {
        rl_report(c, true, i, "include needs a quoted file name, found %s",
                  rl_show(s, e, i, show, sizeof show));
        return RL_KIND_NONE;
    }
    *off = i;
    if (rl_string(s, e, &i, path, &pe) < 0) {
        rl_report_perr(c, &pe);
        return RL_KIND_NONE;
    }
    if ((*path)[0] == '\0') {
        rl_report(c, true, *off, "include needs a file name");
        free(*path);
        return RL_KIND_NONE;
    }
    rl_skip_space(s, e, &i);
    if (i < e && s[i] != '#') {
        rl_report(c, true, i, "unexpected %s after the include",
                  rl_show(s, e, i, show, sizeof show));
        free(*path);
        return RL_KIND_NONE;
    }
    return RL_KIND_INCLUDE;
}

static void parse_suppress(const struct rl_ctx *c, size_t start, size_t i)
{
    static const char *const KEYS[] = {"gen_id", "sig_id", "track", "ip"};
    const char *s = c->ln->s;
    size_t e = c->ln->n;
    char show[48];
    bool seen[4] = {false, false, false, false};
    struct rule_suppress sup = {0};
    rl_line_where(c->ln, start, &sup.line, &sup.col);
    sup.file = c->file;
    for (;;) {
        rl_skip_space(s, e, &i);
        size_t ks = i, kn = rl_word_len(s, e, i, false);
        if (kn == 0) {
            rl_report(c, true, ks, "expected a suppress setting, found %s",
                      rl_show(s, e, ks, show, sizeof show));
            goto fail;
        }
        int k = lookup(KEYS, 4, s + ks, kn);
        if (k < 0) {
            report_unknown(c, ks, "suppress setting", s + ks, kn, KEYS, 4);
            goto fail;
        }
        if (seen[k]) {
            rl_report(c, true, ks, "suppress setting '%s' given twice", KEYS[k]);
            goto fail;
        }
        seen[k] = true;
        i += kn;
        rl_skip_space(s, e, &i);
        size_t ws = i;
        if (k == 3) {
            struct rl_perr pe = {0};
            int rc = rl_parse_addr(s, e, &i, c->vars, &sup.ip, &pe);
            if (rl_report_perr(c, &pe) < 0 || rc < 0)
                goto fail;
        } else {
            while (i < e && !rl_is_space(s[i]) && s[i] != ',')
                i++;
            const char *w = s + ws;
            size_t wn = i - ws;
            uint64_t v = 0;
            int x;
            if (k == 0 && (rl_parse_u64(w, wn, UINT32_MAX, &v) < 0 || v != 1)) {
                rl_report(c, true, ws, "gen_id must be 1 (the rules' generator), found '%.*s'",
                          (int)wn, w);
                goto fail;
            }
            if (k == 1) {
                if (rl_parse_u64(w, wn, UINT32_MAX, &v) < 0 || v == 0) {
                    rl_report(c, true, ws,
                              "sig_id must be a whole number from 1 to 4294967295, found '%.*s'",
                              (int)wn, w);
                    goto fail;
                }
                sup.sid = (uint32_t)v;
            }
            if (k == 2) {
                if ((x = lookup(rl_track_names, 2, w, wn)) < 0) {
                    rl_report(c, true, ws, "suppress track must be by_src or by_dst, found '%.*s'",
                              (int)wn, w);
                    goto fail;
                }
                sup.track = (enum rule_track)x;
            }
        }
        rl_skip_space(s, e, &i);
        if (i >= e || s[i] == '#')
            break;
        if (s[i] != ',') {
            rl_report(c, true, i, "expected ',' between suppress settings, found %s",
                      rl_show(s, e, i, show, sizeof show));
            goto fail;
        }
        i++;
    }
    if (!seen[0] || !seen[1]) {
        rl_report(c, true, start, "suppress needs gen_id and sig_id");
        goto fail;
    }
    if (seen[2] != seen[3]) {
        rl_report(c, true, start, "suppress with %s needs %s", seen[2] ? "track" : "ip",
                  seen[2] ? "ip" : "track");
        goto fail;
    }
    sup.has_track = seen[2];
    if (!sup.has_track) {
        size_t p = 0;
        struct rl_perr pe = {0};
        rl_parse_addr("any", 3, &p, NULL, &sup.ip, &pe);
    }
    rl_add_suppress(c, &sup);
    return;
fail:
    rl_addr_set_free(&sup.ip);
}

enum rl_kind rl_parse_line(const struct rl_ctx *c, char **include_path, size_t *include_off)
{
    static const char *const STARTS[] = {"alert", "pass", "include", "suppress"};
    const char *s = c->ln->s;
    size_t e = c->ln->n, i = 0;
    char show[48];
    rl_skip_space(s, e, &i);
    if (c->ln->is_too_long) { /* [RULES-LINE-RUNAWAY]: before the empty check, as what was
                               * kept of a line too long from its start is nothing */
        if (i < e && s[i] == '#')
            return RL_KIND_NONE; /* a long comment is still a comment */
        rl_report(c, true, i, "rule longer than %d bytes (continuation lines included)",
                  RULES_MAX_RULE_BYTES);
        return RL_KIND_NONE;
    }
    if (i >= e || s[i] == '#')
        return RL_KIND_NONE;
    size_t n = rl_word_len(s, e, i, false);
    if (n == 0) {
        rl_report(c, true, i, "expected a rule, 'include' or 'suppress', found %s",
                  rl_show(s, e, i, show, sizeof show));
        return RL_KIND_NONE;
    }
    switch (lookup(STARTS, 4, s + i, n)) {
    case 0:
        parse_rule(c, i, RULE_ACTION_ALERT);
        return RL_KIND_NONE;
    case 1:
        parse_rule(c, i, RULE_ACTION_PASS);
        return RL_KIND_NONE;
    case 2:
        return parse_include(c, i + n, include_path, include_off);
    case 3:
        parse_suppress(c, i, i + n);
        return RL_KIND_NONE;
    default:
        break;
    }
    static const char *const SURICATA[] = {"drop", "reject", "rejectsrc", "rejectdst",
                                           "rejectboth"};
    if (lookup(SURICATA, 5, s + i, n) >= 0) {
        rl_report(c, true, i,
                  "action '%.*s' is not supported: postcard only watches (use alert or pass)",
                  (int)n, s + i);
        return RL_KIND_NONE;
    }
    const char *near = rl_suggest(s + i, n, STARTS, 4);
    if (near)
        rl_report(c, true, i, "unknown keyword '%.*s'; did you mean '%s'?", (int)n, s + i, near);
    else
        rl_report(c, true, i, "expected a rule, 'include' or 'suppress', found %s",
                  rl_show(s, e, i, show, sizeof show));
    return RL_KIND_NONE;
}

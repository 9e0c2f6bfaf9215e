/*
 * rules-int.h — what the files of rules/ share and nobody else sees.
 *
 *   load.c    files, directories, include, the set, the summary
 *   lexer.c   logical lines (continuations, positions), strings, words
 *   parse.c   one logical line: a rule, include or suppress
 *   fields.c  the field table and predicates
 *   addr.c    address and port sets, variables expanded
 *   vars.c    the variable table and its config file
 *   diag.c    diagnostics, edit distance, allocation
 *
 * Positions: a logical line is the text of one or more physical lines
 * joined at trailing backslashes; an offset in it maps back to the
 * physical line and column (bytes, from 1) through its segments.
 */
#ifndef POSTCARD_RULES_INT_H
#define POSTCARD_RULES_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules-limits.h"
#include "rules.h"

#define RL_PERR_WARNINGS 4 /* warnings kept by one parse step (host bits set); more dropped */

/* ---- allocation (abort when memory runs out: rule loading is setup) ---- */
void *rl_xmalloc(size_t n);
void *rl_xcalloc(size_t n, size_t size);
void *rl_xrealloc(void *p, size_t n);
char *rl_xstrndup(const char *s, size_t n);
/* Grow *p (of *cap elements of size sz) to hold at least need elements. */
void rl_grow(void **p, size_t *cap, size_t need, size_t sz);

/* ---- one parse step's outcome ------------------------------------------ */
struct rl_perr {
    bool is_set;                                  /* an error was found */
    bool is_nested;                               /* inside a variable's value */
    size_t off;                                   /* where (offset in the text parsed) */
    uint32_t line, col;                           /* where, for a whole file (0: not known) */
    char msg[RULES_MSG_BYTES];                    /* what */
    unsigned n_warn;                              /* entries in warn */
    size_t warn_off[RL_PERR_WARNINGS];            /* where each warning is */
    char warn[RL_PERR_WARNINGS][RULES_MSG_BYTES]; /* warnings */
};

/* Record the first error; returns -1. */
int rl_perr_set(struct rl_perr *pe, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void rl_perr_warn(struct rl_perr *pe, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- diagnostics ---------------------------------------------------------- */
/* line 0: a problem with the whole file ("file: message"). */
void rl_diag_add(struct rule_diag *d, bool is_error, const char *file, uint32_t line, uint32_t col,
                 const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void rl_diag_vadd(struct rule_diag *d, bool is_error, const char *file, uint32_t line, uint32_t col,
                  const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));
/* Optimal string alignment distance (typos: insert, delete, replace, swap). */
size_t rl_edit_distance(const char *a, size_t na, const char *b, size_t nb);
/* The nearest of cands (n_cands, NULL entries skipped) within RULES_SUGGEST_DISTANCE, or NULL. */
const char *rl_suggest(const char *w, size_t n, const char *const *cands, size_t n_cands);

/* ---- logical lines -------------------------------------------------------- */
struct rl_seg {
    size_t off;    /* offset in the logical line where this physical line's text starts */
    uint32_t line; /* physical line number (from 1); its text starts at column 1 */
};

struct rl_line {
    char *s;            /* the logical line, NUL-terminated, backslash-newlines removed */
    size_t n;           /* its length */
    size_t cap;         /* bytes allocated for s */
    struct rl_seg *seg; /* where its pieces come from */
    size_t n_seg;       /* entries in seg */
    size_t cap_seg;     /* entries allocated */
    bool is_too_long;   /* longer than RULES_MAX_RULE_BYTES: text cut, to be skipped */
};

void rl_line_init(struct rl_line *ln);
void rl_line_free(struct rl_line *ln);
/* The next logical line of text[0..n) from *pos (physical line *lineno next); false at end. */
bool rl_line_next(struct rl_line *ln, const char *text, size_t n, size_t *pos, uint32_t *lineno);
void rl_line_where(const struct rl_line *ln, size_t off, uint32_t *line, uint32_t *col);
/* A one-line logical line over s (for a config line): segment at physical line `line`. */
void rl_line_set(struct rl_line *ln, const char *s, size_t n, uint32_t line);

/* ---- lexical helpers (s[..end), *pos moves) ------------------------------ */
bool rl_is_space(char c);
bool rl_is_word_char(char c); /* [A-Za-z0-9_-] */
bool rl_is_name_char(char c); /* [A-Za-z0-9_] (variable names) */
void rl_skip_space(const char *s, size_t end, size_t *pos);
/* Length of the word at s[pos..end) made of rl_is_word_char (plus '.' if dots). */
size_t rl_word_len(const char *s, size_t end, size_t pos, bool dots);
/* What is at s[pos..end), for "found '...'": up to whitespace, cut at 24 bytes. */
const char *rl_show(const char *s, size_t end, size_t pos, char *buf, size_t size);
/* A quoted string at s[*pos] == '"': unescape (\" \\ \;) into a new string. */
int rl_string(const char *s, size_t end, size_t *pos, char **out, struct rl_perr *pe);
/* A decimal whole number s[0..n) within [0, max]; -1 when not one. */
int rl_parse_u64(const char *s, size_t n, uint64_t max, uint64_t *out);
bool rl_word_eq(const char *s, size_t n, const char *w);

/* ---- addresses and ports (addr.c) ---------------------------------------- */
/* Parse a set at s[*pos..end): stops before whitespace or ',' outside brackets, and before
 * end. vars may be NULL (then no variable is known). */
int rl_parse_addr(const char *s, size_t end, size_t *pos, const struct rule_vars *vars,
                  struct rule_addr_set *out, struct rl_perr *pe);
int rl_parse_ports(const char *s, size_t end, size_t *pos, const struct rule_vars *vars,
                   struct rule_port_set *out, struct rl_perr *pe);
void rl_addr_set_free(struct rule_addr_set *a);
void rl_port_set_free(struct rule_port_set *p);

/* ---- variables (vars.c) --------------------------------------------------- */
/* The nearest variable name to name[0..n) (for "did you mean"), or NULL. */
const char *rl_vars_suggest(const struct rule_vars *v, const char *name, size_t n);
const char *rl_vars_getn(const struct rule_vars *v, const char *name, size_t n);

/* ---- the parse of one logical line (parse.c, fields.c) ------------------- */
struct rl_ctx {
    struct ruleset *rs;           /* where rules and suppressions go */
    const struct rule_vars *vars; /* variables ($NAME) */
    struct rule_diag *diag;       /* where problems go */
    const char *file;             /* name of the file (owned by rs) */
    const struct rl_line *ln;     /* the logical line */
};

void rl_report(const struct rl_ctx *c, bool is_error, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Report pe's warnings, then its error if any; returns -1 if it had an error. */
int rl_report_perr(const struct rl_ctx *c, const struct rl_perr *pe);

enum rl_kind {
    RL_KIND_NONE,    /* blank, comment, or a rule/suppress already handled */
    RL_KIND_INCLUDE, /* an include line: *include_path, *include_off set */
};
enum rl_kind rl_parse_line(const struct rl_ctx *c, char **include_path, size_t *include_off);

/* Predicate: keyword at kw..kw_end, value s[vs..ve) if has_value. */
int rl_parse_pred(const struct rl_ctx *c, enum rule_field f, size_t kw, bool has_value, size_t vs,
                  size_t ve, struct rule_pred *out);
void rl_pred_free(struct rule_pred *p);
extern const char *const rl_proto_names[RULE_PROTO_COUNT];
extern const char *const rl_class_names[RULE_CLASS_COUNT];
extern const char *const rl_severity_names[RULE_SEV_COUNT];
extern const char *const rl_threshold_type_names[3];
extern const char *const rl_track_names[4];

/* ---- the set (load.c) ----------------------------------------------------- */
/* The whole of path (NUL-terminated), at most max bytes; NULL with pe->msg set on failure. */
char *rl_read_file(const char *path, size_t max, size_t *n, struct rl_perr *pe);
/* Add r (takes ownership; freed on refusal). sid_off: where its sid is, for messages. */
void rl_add_rule(const struct rl_ctx *c, struct rule *r, size_t sid_off);
void rl_add_suppress(const struct rl_ctx *c, struct rule_suppress *s);
void rl_rule_free(struct rule *r);

/* ---- matching (match.c) --------------------------------------------------- */
struct rule_fact;
struct rule_facts;
bool rl_addr_in(const struct rule_addr_set *s, const uint8_t *a, uint8_t ipver);
/* Does p hold for the fact v (docs/rules.md's table of forms)? */
bool rl_pred_holds(const struct rule_pred *p, const struct rule_fact *v);
/* One of mail.login.mechanism .. mail.login.user: a fact of each attempt. */
bool rl_is_login_field(enum rule_field f);
/* Do rules of protocol p apply to this session? */
bool rl_proto_applies(enum rule_proto p, const struct rule_facts *f);

/* ---- thresholds (threshold.c) -------------------------------------------- */
struct rule_thresholds;
struct rule_match_stats;
/* r has a threshold and held for f at now_s: count it; may it raise its alert? */
bool rl_threshold_allows(struct rule_thresholds *t, const struct rule *r,
                         const struct rule_facts *f, int64_t now_s, struct rule_match_stats *ms);

#endif

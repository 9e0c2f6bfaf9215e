/*
 * rules.h — postcard's rule language, front end: load rule files, check
 * them, and hand the engine a parsed, type-checked rule set.
 *
 * The language is Suricata's rule shape over postcard's session facts
 * (docs/eve.md); docs/rules.md is the reference. One rule:
 *
 *   alert smtp any any -> $MAIL_SERVERS any (msg:"AUTH in clear"; \
 *       mail.login.cleartext; classtype:cleartext-login; severity:high; \
 *       sid:2100001; rev:1;)
 *
 *   action proto  src-addr src-port  dir  dst-addr dst-port  (options)
 *
 * A file also holds comments (#), `include "file"` and `suppress` lines.
 * Every problem goes into a struct rule_diag as one line
 * "file:line:col: message" (warnings: "file:line:col: warning: message");
 * a rule with an error is not added, and loading goes on to find the rest.
 *
 * This header is the parsed representation only: matching facts against
 * it, thresholds, suppression and alerts are the engine's.
 *
 * Hazards: rule files are configuration, but every size is bounded
 * (rules-limits.h) so a corrupt or huge file yields diagnostics, never
 * unbounded memory or recursion; the [RULES-*] tags of each file mark where.
 */
#ifndef POSTCARD_RULES_H
#define POSTCARD_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "proto.h"

/* ---- vocabulary ---------------------------------------------------------- */

enum rule_action {
    RULE_ACTION_ALERT, /* "alert": a match raises an alert */
    RULE_ACTION_PASS,  /* "pass": a match keeps the session from raising any alert */
};

/* A rule's protocol: one of proto.h's (the same numbers), or a group of them. */
enum rule_proto {
    RULE_PROTO_SMTP = PROTO_SMTP,    /* "smtp": SMTP sessions */
    RULE_PROTO_POP3 = PROTO_POP3,    /* "pop3": POP3 sessions */
    RULE_PROTO_IMAP = PROTO_IMAP,    /* "imap": IMAP sessions */
    RULE_PROTO_TLS = PROTO_TLS,      /* "tls": TLS sessions (implicit, or after STARTTLS) */
    RULE_PROTO_MAIL = PROTO_TLS + 1, /* "mail": SMTP, POP3 or IMAP sessions */
    RULE_PROTO_ANY,                  /* "any": every session */
    RULE_PROTO_COUNT
};

enum rule_dir {
    RULE_DIR_TO_SERVER, /* "->": src is the client, dst the server */
    RULE_DIR_EITHER,    /* "<>": either way round */
};

enum rule_severity {
    RULE_SEV_INFO,     /* "info" (priority 4) */
    RULE_SEV_LOW,      /* "low" (priority 3) */
    RULE_SEV_MEDIUM,   /* "medium" (priority 2) */
    RULE_SEV_HIGH,     /* "high" (priority 1) */
    RULE_SEV_CRITICAL, /* "critical" (priority 1) */
    RULE_SEV_COUNT
};

/* classtype: the finding names of DESIGN.md (alert.category), in that order. */
enum rule_class {
    RULE_CLASS_CLEARTEXT_LOGIN,
    RULE_CLASS_CLEARTEXT_MAIL,
    RULE_CLASS_STARTTLS_NOT_OFFERED,
    RULE_CLASS_STARTTLS_OFFERED_UNUSED,
    RULE_CLASS_STARTTLS_REFUSED,
    RULE_CLASS_STARTTLS_FAILED,
    RULE_CLASS_STARTTLS_STRIPPED,
    RULE_CLASS_LOGIN_DISABLED_VIOLATED,
    RULE_CLASS_SSLV2,
    RULE_CLASS_SSLV3,
    RULE_CLASS_TLS_OBSOLETE,
    RULE_CLASS_WEAK_CIPHER,
    RULE_CLASS_NO_FORWARD_SECRECY,
    RULE_CLASS_CERT_EXPIRED,
    RULE_CLASS_CERT_NOT_YET_VALID,
    RULE_CLASS_CERT_EXPIRING,
    RULE_CLASS_CERT_SELF_SIGNED,
    RULE_CLASS_CERT_UNTRUSTED,
    RULE_CLASS_CERT_WEAK_KEY,
    RULE_CLASS_CERT_WEAK_SIGNATURE,
    RULE_CLASS_CERT_NAME_MISMATCH,
    RULE_CLASS_CERT_VALIDITY_TOO_LONG,
    RULE_CLASS_COUNT
};

/* ---- fields: the facts a predicate tests --------------------------------- */

enum rule_type {
    RULE_T_BOOL,     /* true / false */
    RULE_T_ENUM,     /* one of the field's values */
    RULE_T_NUMBER,   /* a whole number within the field's min..max */
    RULE_T_DURATION, /* a time span, held in the field's unit */
    RULE_T_VERSION,  /* a protocol version, ordered (enum rule_version) */
    RULE_T_STRING,   /* text */
    RULE_T_SET,      /* a set of the field's values */
};

enum rule_unit {
    RULE_UNIT_NONE,    /* not a duration */
    RULE_UNIT_SECONDS, /* durations held in seconds */
    RULE_UNIT_DAYS,    /* durations held in whole days */
};

enum rule_field {
    RULE_F_MAIL_STARTTLS,                /* enum rule_starttls */
    RULE_F_MAIL_PORT_CLASS,              /* enum rule_port_class */
    RULE_F_MAIL_LOGIN,                   /* bool: a login attempt was seen */
    RULE_F_MAIL_LOGIN_MECHANISM,         /* string, ASCII case-insensitive */
    RULE_F_MAIL_LOGIN_CLEARTEXT,         /* bool */
    RULE_F_MAIL_LOGIN_BEARER_TOKEN,      /* bool */
    RULE_F_MAIL_LOGIN_RESULT,            /* enum rule_login_result */
    RULE_F_MAIL_LOGIN_USER,              /* string */
    RULE_F_MAIL_CLEARTEXT_MESSAGES,      /* number */
    RULE_F_MAIL_LOGIN_DISABLED_VIOLATED, /* bool */
    RULE_F_TLS_VERSION,                  /* version */
    RULE_F_TLS_CLIENT_MAX_VERSION,       /* version */
    RULE_F_TLS_CIPHER,                   /* string */
    RULE_F_TLS_CIPHER_WEAKNESS,          /* set of enum rule_weakness */
    RULE_F_TLS_SNI,                      /* string, ASCII case-insensitive */
    RULE_F_TLS_FROM_PROTO,               /* enum rule_from_proto */
    RULE_F_TLS_HANDSHAKE_COMPLETE,       /* bool */
    RULE_F_TLS_ALERT,                    /* bool: an alert was seen */
    RULE_F_TLS_ALERT_DESCRIPTION,        /* number 0..255 */
    RULE_F_TLS_CERT_EXPIRED,             /* bool */
    RULE_F_TLS_CERT_NOT_YET_VALID,       /* bool */
    RULE_F_TLS_CERT_SELF_SIGNED,         /* bool */
    RULE_F_TLS_CERT_TRUSTED,             /* bool */
    RULE_F_TLS_CERT_WEAK_KEY,            /* bool */
    RULE_F_TLS_CERT_WEAK_SIGNATURE,      /* bool */
    RULE_F_TLS_CERT_NAME_MISMATCH,       /* bool */
    RULE_F_TLS_CERT_VALIDITY_TOO_LONG,   /* bool */
    RULE_F_TLS_CERT_DAYS_LEFT,           /* duration in days (negative once expired) */
    RULE_F_TLS_CERT_KEY_BITS,            /* number */
    RULE_F_TLS_CERT_SUBJECT,             /* string */
    RULE_F_TLS_CERT_ISSUER,              /* string */
    RULE_F_COUNT
};

/* Values of the enum, set and version fields: the index in the field's list. mail.starttls,
 * mail.port_class and tls.from_proto take proto.h's enums (starttls_outcome, port_class,
 * proto); tls.cipher_weakness is a set of tls-ciphers.h's bits (value i: bit 1 << i). */
enum rule_login_result { RULE_LOGIN_SUCCESS, RULE_LOGIN_FAILURE, RULE_LOGIN_UNKNOWN };
/* Ordered: a smaller value is an older version. TLSv1.3-draftNN is tls1.3. */
enum rule_version {
    RULE_VER_SSLV2,
    RULE_VER_SSLV3,
    RULE_VER_TLS10,
    RULE_VER_TLS11,
    RULE_VER_TLS12,
    RULE_VER_TLS13,
};

struct rule_field_info {
    const char *name;          /* as written in a rule: "mail.starttls" */
    enum rule_type type;       /* what its values are */
    const char *const *values; /* ENUM, SET, VERSION: names, index = value; else NULL */
    size_t n_values;           /* entries in values */
    int64_t min, max;          /* NUMBER, DURATION: accepted values (in unit) */
    enum rule_unit unit;       /* DURATION: unit values are held in */
    bool is_nocase;            /* STRING: compared ignoring ASCII case */
    const char *eve;           /* the record field it stands for (docs/eve.md) */
};

/* ---- the parsed rule ----------------------------------------------------- */

enum rule_op {
    RULE_OP_TRUE,    /* `f` on a bool: present and true */
    RULE_OP_PRESENT, /* `f` on other types, or `f:present`: has a value (a set: non-empty) */
    RULE_OP_ABSENT,  /* `f:absent`: has no value (a set: empty or missing) */
    RULE_OP_EQ,      /* `f:v`: equal (a set: contains v) */
    RULE_OP_NE,      /* `f:!v`: present and not equal (a set: present, lacks v) */
    RULE_OP_LT,      /* `f:<v` (number, duration, version) */
    RULE_OP_LE,      /* `f:<=v` */
    RULE_OP_GT,      /* `f:>v` */
    RULE_OP_GE,      /* `f:>=v` */
    RULE_OP_IN,      /* `f:[a,b]`: equal to one (a set: contains one) */
    RULE_OP_NOT_IN,  /* `f:![a,b]`: present and equal to none (a set: contains none) */
};

struct rule_value {
    int64_t num; /* BOOL 0/1; ENUM, SET, VERSION: index; NUMBER: it; DURATION: in the unit */
    char *str;   /* STRING: the text, NUL-terminated; NULL for every other type */
};

struct rule_pred {
    enum rule_field field;     /* what fact it tests */
    enum rule_op op;           /* how */
    size_t n_values;           /* 0: TRUE, PRESENT, ABSENT; 1: EQ..GE; 1 or more: IN, NOT_IN */
    struct rule_value *values; /* n_values values, typed by the field; NULL when none */
    uint32_t line, col;        /* where its keyword is written */
};

struct rule_v4_range {
    uint32_t lo, hi; /* inclusive, host byte order */
};
struct rule_v6_range {
    uint8_t lo[16], hi[16]; /* inclusive, network byte order (compare with memcmp) */
};

/* An address set, normalised: sorted, disjoint, non-adjacent ranges. */
struct rule_addr_set {
    bool is_any;              /* every IPv4 and IPv6 address */
    size_t n_v4;              /* entries in v4 */
    struct rule_v4_range *v4; /* IPv4 ranges (NULL when none) */
    size_t n_v6;              /* entries in v6 */
    struct rule_v6_range *v6; /* IPv6 ranges (NULL when none) */
    char *text;               /* as written, variables unexpanded: "[$HOME_NET,!10.0.0.1]" */
};

struct rule_port_range {
    uint16_t lo, hi; /* inclusive */
};

/* A port set, normalised like an address set. */
struct rule_port_set {
    bool is_any;               /* every port 0..65535 */
    size_t n;                  /* entries in r */
    struct rule_port_range *r; /* the ranges */
    char *text;                /* as written */
};

enum rule_threshold_type {
    RULE_THR_LIMIT,     /* "limit": at most count alerts per seconds */
    RULE_THR_THRESHOLD, /* "threshold": an alert every count-th match within seconds */
    RULE_THR_BOTH,      /* "both": one alert once count matches happened within seconds */
};

enum rule_track {
    RULE_TRACK_BY_SRC,    /* "by_src": per client address */
    RULE_TRACK_BY_DST,    /* "by_dst": per server address */
    RULE_TRACK_BY_RULE,   /* "by_rule": per rule */
    RULE_TRACK_BY_SERVER, /* "by_server": per server address and port */
};

struct rule_threshold {
    bool is_set;                   /* the rule has a threshold option */
    enum rule_threshold_type type; /* limit, threshold or both */
    enum rule_track track;         /* what the counts are kept per */
    uint32_t count;                /* matches (1..RULES_MAX_THRESHOLD_COUNT) */
    uint32_t seconds;              /* window (1..RULES_MAX_THRESHOLD_SECONDS) */
};

struct rule_ref {
    char *type;  /* "url", "cve", "rfc", ... */
    char *value; /* what follows the comma, trimmed */
};

struct rule_meta {
    char *key;   /* first word */
    char *value; /* the rest, trimmed */
};

struct rule {
    enum rule_action action;         /* alert or pass */
    enum rule_proto proto;           /* sessions it applies to */
    struct rule_addr_set src;        /* client addresses (with dir "<>": either side) */
    struct rule_port_set src_ports;  /* client ports */
    enum rule_dir dir;               /* "->" or "<>" */
    struct rule_addr_set dst;        /* server addresses */
    struct rule_port_set dst_ports;  /* server ports */
    char *msg;                       /* the alert's text; NULL when the rule has none */
    uint32_t sid;                    /* signature id, unique in the set (1..2^32-1) */
    uint32_t rev;                    /* revision (1 when not given) */
    enum rule_class classtype;       /* the finding it reports */
    enum rule_severity severity;     /* given, or from priority, or the classtype's default */
    int priority;                    /* 1 (most urgent)..4: given, or from severity */
    bool has_severity;               /* severity was written in the rule */
    bool has_priority;               /* priority was written in the rule */
    size_t n_refs;                   /* entries in refs */
    struct rule_ref *refs;           /* reference options, in order */
    size_t n_meta;                   /* entries in meta */
    struct rule_meta *meta;          /* metadata pairs, in order */
    struct rule_threshold threshold; /* rate limiting of its alerts */
    size_t n_preds;                  /* entries in preds */
    struct rule_pred *preds;         /* all must hold (see docs/rules.md for mail.login.*) */
    const char *file;                /* file it came from (owned by the set) */
    uint32_t line, col;              /* where its action word is */
};

/* `suppress gen_id 1, sig_id N[, track by_src|by_dst, ip ADDR]` */
struct rule_suppress {
    uint32_t sid;            /* the rule whose alerts it drops */
    bool has_track;          /* only for some addresses (track and ip given) */
    enum rule_track track;   /* by_src or by_dst: which side ip is tested against */
    struct rule_addr_set ip; /* those addresses (is_any when has_track is false) */
    const char *file;        /* file it came from (owned by the set) */
    uint32_t line, col;      /* where "suppress" is */
};

/* ---- diagnostics --------------------------------------------------------- */

struct rule_diag {
    unsigned errors;   /* errors seen (kept or not) */
    unsigned warnings; /* warnings seen (kept or not) */
    unsigned n_kept;   /* lines in text */
    unsigned n_more;   /* lines not kept: past RULES_MAX_DIAG_LINES */
    char *text;        /* kept lines, each ending in '\n', then "... N more\n" if any; or NULL */
    size_t len;        /* bytes in text */
    size_t cap;        /* bytes allocated for text */
    size_t kept_len;   /* bytes of text before the "... N more" line */
};

void rule_diag_init(struct rule_diag *d);
void rule_diag_free(struct rule_diag *d);
/* "" when there is nothing to say. */
const char *rule_diag_text(const struct rule_diag *d);

/* ---- variables ----------------------------------------------------------- */

struct rule_vars;

/* A variable table holding the defaults HOME_NET, EXTERNAL_NET and MAIL_SERVERS = any. */
struct rule_vars *rule_vars_new(void);
void rule_vars_free(struct rule_vars *v);
/* Set (or replace) $name. name: [A-Za-z_][A-Za-z0-9_]*, without the '$'. The value is
 * checked where a rule uses it. -1 when the name or value is not acceptable. */
int rule_vars_set(struct rule_vars *v, const char *name, const char *value);
/* The value of $name, or NULL. */
const char *rule_vars_get(const struct rule_vars *v, const char *name);
/* Read `NAME = value` lines (and # comments, blank lines) from config_path; each value must
 * be an address or a port list. Returns 0 when there was no error; problems go to diag. */
int rule_vars_load(struct rule_vars *v, const char *config_path, struct rule_diag *diag);

/* ---- the rule set -------------------------------------------------------- */

struct ruleset;

struct ruleset *ruleset_new(void);
void ruleset_free(struct ruleset *rs);

/* Load a rule file, or every *.rules file of a directory in name order. vars NULL means the
 * defaults; diag NULL means problems are only counted in the return value. Rules without
 * errors are added even when others have some. Returns 0 if there was no error. */
int rules_load_path(struct ruleset *rs, const char *path, const struct rule_vars *vars,
                    struct rule_diag *diag);
/* The same for n bytes of text said to come from file_name (includes are relative to it). */
int rules_parse_text(struct ruleset *rs, const char *text, size_t n, const char *file_name,
                     const struct rule_vars *vars, struct rule_diag *diag);

/* Rules and suppressions in load order. A rule pointer stays valid until the set is freed;
 * a suppress pointer until the next load into the set. */
size_t ruleset_len(const struct ruleset *rs);
const struct rule *ruleset_rule(const struct ruleset *rs, size_t i);
const struct rule *ruleset_find_sid(const struct ruleset *rs, uint32_t sid);
size_t ruleset_suppress_len(const struct ruleset *rs);
const struct rule_suppress *ruleset_suppress(const struct ruleset *rs, size_t i);

/* Rules loaded per action, protocol, severity and classtype (for --check-rules). */
void ruleset_summary(const struct ruleset *rs, FILE *f);

/* ---- names --------------------------------------------------------------- */

const struct rule_field_info *rule_field_info(enum rule_field f);
/* The field called name (n bytes); -1 when there is none. */
int rule_field_lookup(const char *name, size_t n);
const char *rule_action_name(enum rule_action a);
const char *rule_proto_name(enum rule_proto p);
const char *rule_class_name(enum rule_class c);
const char *rule_severity_name(enum rule_severity s);
const char *rule_op_name(enum rule_op op);
const char *rule_threshold_type_name(enum rule_threshold_type t);
const char *rule_track_name(enum rule_track t);
/* Severity of a classtype's rules that give neither severity nor priority. */
enum rule_severity rule_class_default_severity(enum rule_class c);
/* 1..4 */
int rule_severity_priority(enum rule_severity s);

#endif

/*
 * fields.c — the vocabulary of the rule language: the fields a predicate
 * may test (each with its type), the names of protocols, classtypes,
 * severities, thresholds; and the parse and type check of one predicate.
 *
 *   field                 bool: true; other types: present
 *   field:value           equal                 (a set: contains)
 *   field:!value          present and not equal (a set: lacks)
 *   field:<v  <=v  >v  >=v   number, duration, version only
 *   field:[a,b]           equal to one          (a set: contains one)
 *   field:![a,b]          present, equal to none
 *   field:absent  field:present
 *
 * Durations: a whole number and a unit, d h m s (30d, 12h, 90m, 45s), or a
 * bare number in the field's own unit; they are held in that unit
 * (tls.cert.days_left: days, and a value that is not whole days is an
 * error). Versions are ordered sslv2 < sslv3 < tls1.0 < ... < tls1.3 and
 * are also accepted as EVE writes them (SSLv3, TLSv1.2). Words (bool,
 * enum, version values) are matched ignoring ASCII case.
 *
 * Hazards: [RULES-PRED-LIST] RULES_MAX_VALUE_ITEMS values per list.
 * [RULES-NUM-OVERFLOW] numbers and durations are checked for overflow
 * before they are scaled.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules-int.h"
#include "tls-ciphers.h"

/* ---- vocabulary ------------------------------------------------------------ */

static const char *const V_RESULT[] = {"success", "failure", "unknown"};
static const char *const V_VERSION[] = {"sslv2", "sslv3", "tls1.0", "tls1.1", "tls1.2", "tls1.3"};

#define VALUES(v) v, sizeof v / sizeof v[0]
#define NOVALUES NULL, 0
#define DAYS_MAX 1000000 /* about 2700 years either way: more is not a certificate date */

static const struct rule_field_info FIELDS[RULE_F_COUNT] = {
    [RULE_F_MAIL_STARTTLS] = {"mail.starttls", RULE_T_ENUM, starttls_outcome_names,
                              STARTTLS_OUTCOME_COUNT, 0, 0, RULE_UNIT_NONE, false, "mail.starttls"},
    [RULE_F_MAIL_PORT_CLASS] = {"mail.port_class", RULE_T_ENUM, port_class_names, PORT_CLASS_COUNT,
                                0, 0, RULE_UNIT_NONE, false, "mail.port_class"},
    [RULE_F_MAIL_LOGIN] = {"mail.login", RULE_T_BOOL, NOVALUES, 0, 0, RULE_UNIT_NONE, false,
                           "mail.logins (not empty)"},
    [RULE_F_MAIL_LOGIN_MECHANISM] = {"mail.login.mechanism", RULE_T_STRING, NOVALUES, 0, 0,
                                     RULE_UNIT_NONE, true, "mail.logins[].mechanism"},
    [RULE_F_MAIL_LOGIN_CLEARTEXT] = {"mail.login.cleartext", RULE_T_BOOL, NOVALUES, 0, 0,
                                     RULE_UNIT_NONE, false, "mail.logins[].cleartext"},
    [RULE_F_MAIL_LOGIN_BEARER_TOKEN] = {"mail.login.bearer_token", RULE_T_BOOL, NOVALUES, 0, 0,
                                        RULE_UNIT_NONE, false, "mail.logins[].bearer_token"},
    [RULE_F_MAIL_LOGIN_RESULT] = {"mail.login.result", RULE_T_ENUM, VALUES(V_RESULT), 0, 0,
                                  RULE_UNIT_NONE, false, "mail.logins[].result"},
    [RULE_F_MAIL_LOGIN_USER] = {"mail.login.user", RULE_T_STRING, NOVALUES, 0, 0, RULE_UNIT_NONE,
                                false, "mail.logins[].user"},
    [RULE_F_MAIL_CLEARTEXT_MESSAGES] = {"mail.cleartext_messages", RULE_T_NUMBER, NOVALUES, 0,
                                        UINT32_MAX, RULE_UNIT_NONE, false,
                                        "mail.cleartext_messages"},
    [RULE_F_MAIL_LOGIN_DISABLED_VIOLATED] = {"mail.login_disabled_violated", RULE_T_BOOL, NOVALUES,
                                             0, 0, RULE_UNIT_NONE, false,
                                             "mail.login_disabled_violated"},
    [RULE_F_TLS_VERSION] = {"tls.version", RULE_T_VERSION, VALUES(V_VERSION), 0, 0, RULE_UNIT_NONE,
                            false, "tls.version"},
    [RULE_F_TLS_CLIENT_MAX_VERSION] = {"tls.client_max_version", RULE_T_VERSION, VALUES(V_VERSION),
                                       0, 0, RULE_UNIT_NONE, false, "tls.client_max_version"},
    [RULE_F_TLS_CIPHER] = {"tls.cipher", RULE_T_STRING, NOVALUES, 0, 0, RULE_UNIT_NONE, false,
                           "tls.cipher"},
    [RULE_F_TLS_CIPHER_WEAKNESS] = {"tls.cipher_weakness", RULE_T_SET, tls_weakness_names,
                                    TLS_WEAK_COUNT, 0, 0, RULE_UNIT_NONE, false,
                                    "tls.cipher_weaknesses"},
    [RULE_F_TLS_SNI] = {"tls.sni", RULE_T_STRING, NOVALUES, 0, 0, RULE_UNIT_NONE, true, "tls.sni"},
    [RULE_F_TLS_FROM_PROTO] = {"tls.from_proto", RULE_T_ENUM, proto_names, PROTO_MAIL_COUNT, 0, 0,
                               RULE_UNIT_NONE, false, "tls.from_proto"},
    [RULE_F_TLS_HANDSHAKE_COMPLETE] = {"tls.handshake_complete", RULE_T_BOOL, NOVALUES, 0, 0,
                                       RULE_UNIT_NONE, false, "tls.handshake_complete"},
    [RULE_F_TLS_ALERT] = {"tls.alert", RULE_T_BOOL, NOVALUES, 0, 0, RULE_UNIT_NONE, false,
                          "tls.alert (not null)"},
    [RULE_F_TLS_ALERT_DESCRIPTION] = {"tls.alert.description", RULE_T_NUMBER, NOVALUES, 0, 255,
                                      RULE_UNIT_NONE, false, "tls.alert.description"},
    [RULE_F_TLS_CERT_EXPIRED] = {"tls.cert.expired", RULE_T_BOOL, NOVALUES, 0, 0, RULE_UNIT_NONE,
                                 false, "tls.certs[0].expired"},
    [RULE_F_TLS_CERT_NOT_YET_VALID] = {"tls.cert.not_yet_valid", RULE_T_BOOL, NOVALUES, 0, 0,
                                       RULE_UNIT_NONE, false, "tls.certs[0].not_yet_valid"},
    [RULE_F_TLS_CERT_SELF_SIGNED] = {"tls.cert.self_signed", RULE_T_BOOL, NOVALUES, 0, 0,
                                     RULE_UNIT_NONE, false, "tls.certs[0].self_signed"},
    [RULE_F_TLS_CERT_TRUSTED] = {"tls.cert.trusted", RULE_T_BOOL, NOVALUES, 0, 0, RULE_UNIT_NONE,
                                 false, "tls.certs[0].trusted"},
    [RULE_F_TLS_CERT_WEAK_KEY] = {"tls.cert.weak_key", RULE_T_BOOL, NOVALUES, 0, 0, RULE_UNIT_NONE,
                                  false, "tls.certs[0].weak_key"},
    [RULE_F_TLS_CERT_WEAK_SIGNATURE] = {"tls.cert.weak_signature", RULE_T_BOOL, NOVALUES, 0, 0,
                                        RULE_UNIT_NONE, false, "tls.certs[0].weak_signature"},
    [RULE_F_TLS_CERT_NAME_MISMATCH] = {"tls.cert.name_mismatch", RULE_T_BOOL, NOVALUES, 0, 0,
                                       RULE_UNIT_NONE, false, "tls.certs[0].name_mismatch"},
    [RULE_F_TLS_CERT_VALIDITY_TOO_LONG] = {"tls.cert.validity_too_long", RULE_T_BOOL, NOVALUES, 0,
                                           0, RULE_UNIT_NONE, false,
                                           "tls.certs[0].validity_too_long"},
    [RULE_F_TLS_CERT_DAYS_LEFT] = {"tls.cert.days_left", RULE_T_DURATION, NOVALUES, -DAYS_MAX,
                                   DAYS_MAX, RULE_UNIT_DAYS, false, "tls.certs[0].days_left"},
    [RULE_F_TLS_CERT_KEY_BITS] = {"tls.cert.key_bits", RULE_T_NUMBER, NOVALUES, 0, INT32_MAX,
                                  RULE_UNIT_NONE, false, "tls.certs[0].key_bits"},
    [RULE_F_TLS_CERT_SUBJECT] = {"tls.cert.subject", RULE_T_STRING, NOVALUES, 0, 0, RULE_UNIT_NONE,
                                 false, "tls.certs[0].subject"},
    [RULE_F_TLS_CERT_ISSUER] = {"tls.cert.issuer", RULE_T_STRING, NOVALUES, 0, 0, RULE_UNIT_NONE,
                                false, "tls.certs[0].issuer"},
};

const char *const rl_proto_names[RULE_PROTO_COUNT] = {
    [RULE_PROTO_SMTP] = "smtp", [RULE_PROTO_POP3] = "pop3", [RULE_PROTO_IMAP] = "imap",
    [RULE_PROTO_TLS] = "tls",   [RULE_PROTO_MAIL] = "mail", [RULE_PROTO_ANY] = "any",
};
const char *const rl_class_names[RULE_CLASS_COUNT] = {
    "cleartext-login",
    "cleartext-mail",
    "starttls-not-offered",
    "starttls-offered-unused",
    "starttls-refused",
    "starttls-failed",
    "starttls-stripped",
    "login-disabled-violated",
    "sslv2",
    "sslv3",
    "tls-obsolete",
    "weak-cipher",
    "no-forward-secrecy",
    "cert-expired",
    "cert-not-yet-valid",
    "cert-expiring",
    "cert-self-signed",
    "cert-untrusted",
    "cert-weak-key",
    "cert-weak-signature",
    "cert-name-mismatch",
    "cert-validity-too-long",
};
const char *const rl_severity_names[RULE_SEV_COUNT] = {"info", "low", "medium", "high", "critical"};
const char *const rl_threshold_type_names[3] = {"limit", "threshold", "both"};
const char *const rl_track_names[4] = {"by_src", "by_dst", "by_rule", "by_server"};

/* What a classtype's rules weigh when they say neither severity nor priority. */
static const enum rule_severity CLASS_SEVERITY[RULE_CLASS_COUNT] = {
    [RULE_CLASS_CLEARTEXT_LOGIN] = RULE_SEV_HIGH,
    [RULE_CLASS_CLEARTEXT_MAIL] = RULE_SEV_MEDIUM,
    [RULE_CLASS_STARTTLS_NOT_OFFERED] = RULE_SEV_MEDIUM,
    [RULE_CLASS_STARTTLS_OFFERED_UNUSED] = RULE_SEV_LOW,
    [RULE_CLASS_STARTTLS_REFUSED] = RULE_SEV_MEDIUM,
    [RULE_CLASS_STARTTLS_FAILED] = RULE_SEV_MEDIUM,
    [RULE_CLASS_STARTTLS_STRIPPED] = RULE_SEV_HIGH,
    [RULE_CLASS_LOGIN_DISABLED_VIOLATED] = RULE_SEV_MEDIUM,
    [RULE_CLASS_SSLV2] = RULE_SEV_HIGH,
    [RULE_CLASS_SSLV3] = RULE_SEV_HIGH,
    [RULE_CLASS_TLS_OBSOLETE] = RULE_SEV_MEDIUM,
    [RULE_CLASS_WEAK_CIPHER] = RULE_SEV_HIGH,
    [RULE_CLASS_NO_FORWARD_SECRECY] = RULE_SEV_LOW,
    [RULE_CLASS_CERT_EXPIRED] = RULE_SEV_HIGH,
    [RULE_CLASS_CERT_NOT_YET_VALID] = RULE_SEV_HIGH,
    [RULE_CLASS_CERT_EXPIRING] = RULE_SEV_MEDIUM,
    [RULE_CLASS_CERT_SELF_SIGNED] = RULE_SEV_MEDIUM,
    [RULE_CLASS_CERT_UNTRUSTED] = RULE_SEV_MEDIUM,
    [RULE_CLASS_CERT_WEAK_KEY] = RULE_SEV_MEDIUM,
    [RULE_CLASS_CERT_WEAK_SIGNATURE] = RULE_SEV_MEDIUM,
    [RULE_CLASS_CERT_NAME_MISMATCH] = RULE_SEV_MEDIUM,
    [RULE_CLASS_CERT_VALIDITY_TOO_LONG] = RULE_SEV_LOW,
};

const struct rule_field_info *rule_field_info(enum rule_field f)
{
    return (unsigned)f < RULE_F_COUNT ? &FIELDS[f] : NULL;
}

int rule_field_lookup(const char *name, size_t n)
{
    for (int f = 0; f < RULE_F_COUNT; f++)
        if (rl_word_eq(name, n, FIELDS[f].name))
            return f;
    return -1;
}

static const char *name_of(const char *const *names, size_t n, unsigned i)
{
    return i < n ? names[i] : "?";
}

const char *rule_action_name(enum rule_action a)
{
    return a == RULE_ACTION_ALERT ? "alert" : a == RULE_ACTION_PASS ? "pass" : "?";
}

const char *rule_proto_name(enum rule_proto p)
{
    return name_of(rl_proto_names, RULE_PROTO_COUNT, p);
}

const char *rule_class_name(enum rule_class c)
{
    return name_of(rl_class_names, RULE_CLASS_COUNT, c);
}

const char *rule_severity_name(enum rule_severity s)
{
    return name_of(rl_severity_names, RULE_SEV_COUNT, s);
}

const char *rule_op_name(enum rule_op op)
{
    static const char *const names[] = {"true", "present", "absent", "=",  "!=",    "<",
                                        "<=",   ">",       ">=",     "in", "not in"};
    return name_of(names, sizeof names / sizeof names[0], op);
}

const char *rule_threshold_type_name(enum rule_threshold_type t)
{
    return name_of(rl_threshold_type_names, 3, t);
}

const char *rule_track_name(enum rule_track t)
{
    return name_of(rl_track_names, 4, t);
}

enum rule_severity rule_class_default_severity(enum rule_class c)
{
    return (unsigned)c < RULE_CLASS_COUNT ? CLASS_SEVERITY[c] : RULE_SEV_MEDIUM;
}

int rule_severity_priority(enum rule_severity s)
{
    static const int prio[RULE_SEV_COUNT] = {4, 3, 2, 1, 1};
    return (unsigned)s < RULE_SEV_COUNT ? prio[s] : 2;
}

/* ---- predicates ------------------------------------------------------------ */

static const char *type_name(enum rule_type t)
{
    static const char *const names[] = {"a bool",    "an enum",  "a number", "a duration",
                                        "a version", "a string", "a set"};
    return names[t];
}

static void list_values(const struct rule_field_info *fi, char *buf, size_t size)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < fi->n_values && o < size; i++)
        o += (size_t)snprintf(buf + o, size - o, "%s%s", i ? ", " : "", fi->values[i]);
}

static int lookup_ci(const char *const *names, size_t n, const char *w, size_t wn)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(names[i]) == wn && strncasecmp(names[i], w, wn) == 0)
            return (int)i;
    return -1;
}

/* A version as rules write it (tls1.2) or as EVE does (TLSv1.2); -1 if not one. */
static int version_of(const char *w, size_t n)
{
    char buf[16];
    if (n >= sizeof buf)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 3 && (w[i] == 'v' || w[i] == 'V') && strncasecmp(w, "tls", 3) == 0)
            continue; /* TLSv1.2 -> tls1.2 */
        buf[o++] = w[i];
    }
    return lookup_ci(V_VERSION, sizeof V_VERSION / sizeof V_VERSION[0], buf, o);
}

static bool all_digits(const char *w, size_t n, bool dots)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(w[i] >= '0' && w[i] <= '9') && !(dots && w[i] == '.'))
            return false;
    return true;
}

/* A whole number, maybe negative, in w[0..n); -1 if not one or out of int64. */
static int parse_i64(const char *w, size_t n, int64_t *out)
{
    bool is_neg = n > 0 && w[0] == '-';
    uint64_t u;
    if (rl_parse_u64(w + is_neg, n - is_neg, (uint64_t)INT64_MAX, &u) < 0)
        return -1;
    *out = is_neg ? -(int64_t)u : (int64_t)u;
    return 0;
}

/* A duration: -?N[dhms]; *seconds_per_unit_out 0 when there is no unit. */
static int parse_duration(const char *w, size_t n, int64_t *num, int64_t *unit_s)
{
    *unit_s = 0;
    if (n >= 2) {
        switch (w[n - 1]) {
        case 'd':
            *unit_s = 86400;
            break;
        case 'h':
            *unit_s = 3600;
            break;
        case 'm':
            *unit_s = 60;
            break;
        case 's':
            *unit_s = 1;
            break;
        default:
            break;
        }
    }
    return parse_i64(w, *unit_s ? n - 1 : n, num);
}

static int convert(const struct rule_field_info *fi, const char *w, size_t n, size_t at,
                   struct rule_value *v, struct rl_perr *pe)
{
    char allowed[RULES_MSG_BYTES / 2];
    int64_t num, unit_s;
    switch (fi->type) {
    case RULE_T_BOOL:
        if (n == 4 && strncasecmp(w, "true", 4) == 0)
            v->num = 1;
        else if (n == 5 && strncasecmp(w, "false", 5) == 0)
            v->num = 0;
        else
            return rl_perr_set(pe, at, "%s is a bool: expected true or false, found '%.*s'",
                               fi->name, (int)n, w);
        return 0;
    case RULE_T_ENUM:
    case RULE_T_SET: {
        int i = lookup_ci(fi->values, fi->n_values, w, n);
        if (i < 0) {
            list_values(fi, allowed, sizeof allowed);
            return rl_perr_set(pe, at, "unknown %s value '%.*s'; allowed: %s", fi->name, (int)n, w,
                               allowed);
        }
        v->num = i;
        return 0;
    }
    case RULE_T_VERSION: {
        int i = version_of(w, n);
        if (i >= 0) {
            v->num = i;
            return 0;
        }
        list_values(fi, allowed, sizeof allowed);
        if (all_digits(w, n, true))
            return rl_perr_set(pe, at, "%s is a version, not a number: '%.*s' (versions: %s)",
                               fi->name, (int)n, w, allowed);
        return rl_perr_set(pe, at, "unknown %s value '%.*s'; allowed: %s", fi->name, (int)n, w,
                           allowed);
    }
    case RULE_T_NUMBER:
        if (parse_i64(w, n, &num) == 0) {
            if (num < fi->min || num > fi->max)
                return rl_perr_set(pe, at, "%s must be from %lld to %lld, found '%.*s'", fi->name,
                                   (long long)fi->min, (long long)fi->max, (int)n, w);
            v->num = num;
            return 0;
        }
        if (parse_duration(w, n, &num, &unit_s) == 0)
            return rl_perr_set(pe, at, "%s is a number, not a duration: '%.*s'", fi->name, (int)n,
                               w);
        if (version_of(w, n) >= 0)
            return rl_perr_set(pe, at, "%s is a number, not a version: '%.*s'", fi->name, (int)n,
                               w);
        return rl_perr_set(pe, at, "%s needs a whole number, found '%.*s'", fi->name, (int)n, w);
    case RULE_T_DURATION: {
        int64_t field_s = fi->unit == RULE_UNIT_DAYS ? 86400 : 1;
        const char *u = fi->unit == RULE_UNIT_DAYS ? "d" : "s";
        if (parse_duration(w, n, &num, &unit_s) < 0) {
            if (version_of(w, n) >= 0)
                return rl_perr_set(pe, at, "%s is a duration, not a version: '%.*s'", fi->name,
                                   (int)n, w);
            return rl_perr_set(pe, at,
                               "%s needs a duration (a whole number with d, h, m or s), found "
                               "'%.*s'",
                               fi->name, (int)n, w);
        }
        if (unit_s != 0 && unit_s != field_s) {
            if ((num > 0 && num > INT64_MAX / unit_s) || (num < 0 && num < INT64_MIN / unit_s))
                return rl_perr_set(pe, at, "%s must be from %lld%s to %lld%s, found '%.*s'",
                                   fi->name, (long long)fi->min, u, (long long)fi->max, u, (int)n,
                                   w); /* [RULES-NUM-OVERFLOW] */
            int64_t secs = num * unit_s;
            if (secs % field_s != 0)
                return rl_perr_set(pe, at,
                                   "%s counts whole days: '%.*s' is not a whole number of days",
                                   fi->name, (int)n, w);
            num = secs / field_s;
        }
        if (num < fi->min || num > fi->max)
            return rl_perr_set(pe, at, "%s must be from %lld%s to %lld%s, found '%.*s'", fi->name,
                               (long long)fi->min, u, (long long)fi->max, u, (int)n, w);
        v->num = num;
        return 0;
    }
    case RULE_T_STRING:
        if (n > RULES_MAX_STRING_BYTES)
            return rl_perr_set(pe, at, "string longer than %d bytes", RULES_MAX_STRING_BYTES);
        v->str = rl_xstrndup(w, n);
        return 0;
    }
    return rl_perr_set(pe, at, "internal: field type %d", (int)fi->type);
}

static bool is_value_end(char c)
{
    return rl_is_space(c) || c == ',' || c == '[' || c == ']' || c == '"';
}

/* One value at s[*i..ve): quoted or bare, converted to the field's type. */
static int scalar(const struct rule_field_info *fi, const char *s, size_t ve, size_t *i,
                  struct rule_value *v, struct rl_perr *pe)
{
    size_t at = *i;
    char show[48];
    if (at < ve && s[at] == '"') {
        char *text = NULL;
        if (rl_string(s, ve, i, &text, pe) < 0)
            return -1;
        int rc = convert(fi, text, strlen(text), at, v, pe);
        free(text);
        return rc;
    }
    while (*i < ve && !is_value_end(s[*i]))
        (*i)++;
    if (*i == at)
        return rl_perr_set(pe, at, "expected a value for %s, found %s", fi->name,
                           rl_show(s, ve, at, show, sizeof show));
    return convert(fi, s + at, *i - at, at, v, pe);
}

static int value_list(const struct rule_field_info *fi, const char *s, size_t ve, size_t *i,
                      struct rule_pred *out, struct rl_perr *pe)
{
    size_t open = *i;
    char show[48];
    struct rule_value vals[RULES_MAX_VALUE_ITEMS];
    size_t n = 0;
    int rc = 0;
    (*i)++;
    rl_skip_space(s, ve, i);
    if (*i < ve && s[*i] == ']') {
        rc = rl_perr_set(pe, open, "empty list");
        goto fail;
    }
    for (;;) {
        if (n >= RULES_MAX_VALUE_ITEMS) { /* [RULES-PRED-LIST] */
            rc = rl_perr_set(pe, *i, "more than %d values in a list", RULES_MAX_VALUE_ITEMS);
            goto fail;
        }
        if (*i < ve && s[*i] == '[') {
            rc = rl_perr_set(pe, *i, "lists of values do not nest");
            goto fail;
        }
        memset(&vals[n], 0, sizeof vals[n]);
        if (scalar(fi, s, ve, i, &vals[n], pe) < 0) {
            rc = -1;
            goto fail;
        }
        n++;
        rl_skip_space(s, ve, i);
        if (*i >= ve) {
            rc = rl_perr_set(pe, open, "unclosed '['");
            goto fail;
        }
        if (s[*i] == ']') {
            (*i)++;
            break;
        }
        if (s[*i] != ',') {
            rc = rl_perr_set(pe, *i, "expected ',' or ']' in a list, found %s",
                             rl_show(s, ve, *i, show, sizeof show));
            goto fail;
        }
        (*i)++;
        rl_skip_space(s, ve, i);
    }
    out->n_values = n;
    out->values = rl_xcalloc(n, sizeof out->values[0]);
    memcpy(out->values, vals, n * sizeof vals[0]);
    return 0;
fail:
    for (size_t k = 0; k < n; k++)
        free(vals[k].str);
    return rc;
}

static bool word_at(const char *s, size_t i, size_t ve, const char *w)
{
    size_t n = strlen(w);
    if (ve - i < n || memcmp(s + i, w, n) != 0)
        return false;
    size_t j = i + n;
    rl_skip_space(s, ve, &j);
    return j == ve;
}

static int parse_value(const struct rule_field_info *fi, const char *s, size_t vs, size_t ve,
                       struct rule_pred *out, struct rl_perr *pe)
{
    size_t i = vs;
    char show[48];
    if (i >= ve)
        return rl_perr_set(pe, i, "%s: needs a value after ':' (or no ':' at all)", fi->name);
    if (word_at(s, i, ve, "absent")) {
        out->op = RULE_OP_ABSENT;
        return 0;
    }
    if (word_at(s, i, ve, "present")) {
        out->op = RULE_OP_PRESENT;
        return 0;
    }
    bool is_neg = false;
    if (s[i] == '!') {
        is_neg = true;
        i++;
        rl_skip_space(s, ve, &i);
        if (word_at(s, i, ve, "absent") || word_at(s, i, ve, "present"))
            return rl_perr_set(pe, vs, "'!%s' is not allowed: write '%s'",
                               s[i] == 'a' ? "absent" : "present",
                               s[i] == 'a' ? "present" : "absent");
    }
    if (i < ve && (s[i] == '<' || s[i] == '>')) {
        bool is_eq = i + 1 < ve && s[i + 1] == '=';
        enum rule_op op =
            s[i] == '<' ? (is_eq ? RULE_OP_LE : RULE_OP_LT) : (is_eq ? RULE_OP_GE : RULE_OP_GT);
        if (is_neg)
            return rl_perr_set(pe, vs, "'!' cannot be combined with '%s'", rule_op_name(op));
        if (fi->type != RULE_T_NUMBER && fi->type != RULE_T_DURATION && fi->type != RULE_T_VERSION)
            return rl_perr_set(pe, i, "'%s' needs a number, a duration or a version; %s is %s",
                               rule_op_name(op), fi->name, type_name(fi->type));
        i += is_eq ? 2 : 1;
        rl_skip_space(s, ve, &i);
        out->op = op;
    } else if (i < ve && s[i] == '[') {
        if (fi->type == RULE_T_BOOL)
            return rl_perr_set(pe, i, "%s is a bool: write %s:true or %s:false, not a list",
                               fi->name, fi->name, fi->name);
        out->op = is_neg ? RULE_OP_NOT_IN : RULE_OP_IN;
        if (value_list(fi, s, ve, &i, out, pe) < 0)
            return -1;
        goto tail;
    } else {
        out->op = is_neg ? RULE_OP_NE : RULE_OP_EQ;
    }
    out->values = rl_xcalloc(1, sizeof out->values[0]);
    out->n_values = 1;
    if (scalar(fi, s, ve, &i, &out->values[0], pe) < 0)
        return -1;
tail:
    rl_skip_space(s, ve, &i);
    if (i < ve)
        return rl_perr_set(pe, i, "unexpected %s after the value of %s",
                           rl_show(s, ve, i, show, sizeof show), fi->name);
    return 0;
}

int rl_parse_pred(const struct rl_ctx *c, enum rule_field f, size_t kw, bool has_value, size_t vs,
                  size_t ve, struct rule_pred *out)
{
    const struct rule_field_info *fi = &FIELDS[f];
    memset(out, 0, sizeof *out);
    out->field = f;
    rl_line_where(c->ln, kw, &out->line, &out->col);
    if (!has_value) {
        out->op = fi->type == RULE_T_BOOL ? RULE_OP_TRUE : RULE_OP_PRESENT;
        return 0;
    }
    struct rl_perr pe = {0};
    if (parse_value(fi, c->ln->s, vs, ve, out, &pe) < 0) {
        rl_pred_free(out);
        return rl_report_perr(c, &pe);
    }
    return 0;
}

void rl_pred_free(struct rule_pred *p)
{
    for (size_t i = 0; i < p->n_values; i++)
        free(p->values[i].str);
    free(p->values);
    p->values = NULL;
    p->n_values = 0;
}

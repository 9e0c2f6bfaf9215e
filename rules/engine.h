/*
 * engine.h — postcard's rule engine at run time: a loaded rule set
 * compiled into an index, matched against one session's facts, with
 * pass rules, suppression and thresholds applied.
 *
 *   a session's facts changed ─▶ struct rule_facts (the mail and tls facts
 *        so far, by field, each with how settled it is)
 *     ─▶ candidate rules: per protocol bucket, by the value of one key
 *        fact of each rule (or its server address), never every rule
 *     ─▶ every predicate, addresses, ports, direction
 *     ─▶ only what is certain: a rule raises its alert once the facts it
 *        tests can no longer make it false; a pass rule that holds, or may
 *        still hold, keeps every alert of the session back
 *     ─▶ suppress lines, then thresholds (packet time)
 *     ─▶ the alerts, most urgent first (priority, then sid); each rule at
 *        most once per session (struct rule_session)
 *
 * Certainty is three-valued: a predicate on a settled fact is true or false;
 * on a fact that can only grow (a count, a flag that can only become true)
 * it is true once it holds for good (`>0`, `true`) or false once it fails
 * for good (`<3`); on an open fact it is unknown. A rule is certain when
 * all its parts are true (Kleene's logic); at the session's end every fact
 * is settled and matching is the plain two-valued one.
 *
 * The engine only reads the rule set; the threshold state lives apart
 * (struct rule_thresholds) so that it survives a reload of the rules.
 * Neither is thread-safe: one sensor thread uses them.
 *
 * Hazards: [ENGINE-ALERT-CAP] at most RULES_MAX_ALERTS_PER_SESSION alerts
 * per session (the rest counted); [ENGINE-THR-CAP] at most
 * RULES_MAX_THRESHOLD_ENTRIES threshold counters (least recently used
 * evicted, counted).
 */
#ifndef POSTCARD_ENGINE_H
#define POSTCARD_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules.h"

/* How settled a fact is while its session goes on (at the end every fact is). */
enum rule_fact_state {
    RULE_FACT_FINAL,   /* it will not change */
    RULE_FACT_GROWING, /* a number that can only grow, a bool that can only become true */
    RULE_FACT_OPEN,    /* it may still change, or appear */
};

/* One fact: is_set false means absent (docs/rules.md: every predicate but `absent` fails). */
struct rule_fact {
    bool is_set; /* the session has this fact */
    int64_t num; /* BOOL 0/1; ENUM, VERSION: index; SET: bit mask of indexes; NUMBER, DURATION */
    const char *str; /* STRING: the text (not NUL-terminated); NULL otherwise */
    size_t len;      /* STRING: its bytes */
    uint8_t state;   /* enum rule_fact_state (0: final) */
};

/* The mail.login.* fields, RULE_F_MAIL_LOGIN_MECHANISM .. RULE_F_MAIL_LOGIN_USER, of one attempt.
 */
#define RULE_LOGIN_FIRST RULE_F_MAIL_LOGIN_MECHANISM
#define RULE_LOGIN_LAST RULE_F_MAIL_LOGIN_USER
#define RULE_LOGIN_FIELDS (RULE_LOGIN_LAST - RULE_LOGIN_FIRST + 1)

struct rule_login_facts {
    struct rule_fact f[RULE_LOGIN_FIELDS]; /* index: field - RULE_LOGIN_FIRST */
};

struct rule_facts {
    uint8_t cli[16], srv[16];              /* client and server address (IPv4: first 4 bytes) */
    uint8_t ipver;                         /* 4 or 6 */
    uint16_t cport, sport;                 /* client and server port */
    bool is_mail;                          /* a mail session (SMTP, POP3 or IMAP) */
    enum rule_proto mail_proto;            /* RULE_PROTO_SMTP, _POP3 or _IMAP when is_mail */
    bool is_tls;                           /* a TLS session (implicit, or after STARTTLS) */
    bool is_final;                         /* the session ended: every fact is settled */
    uint8_t tls_state;                     /* FINAL, or OPEN: is_tls may still become true */
    uint8_t logins_state;                  /* FINAL, or GROWING: more attempts may come */
    struct rule_fact f[RULE_F_COUNT];      /* session facts; the login fields are unused */
    size_t n_logins;                       /* entries in logins */
    const struct rule_login_facts *logins; /* login attempts */
    const uint8_t *cert_id;                /* SHA-256 of the server's certificate, or NULL */
};

/* Set every fact absent and settled, the rest to zero; is_final true (a session that ended). */
void rule_facts_init(struct rule_facts *f);

struct rule_engine;

/* Compile rs into an index. The engine keeps and owns rs (freed with the engine). */
struct rule_engine *rule_engine_new(struct ruleset *rs);
void rule_engine_free(struct rule_engine *e);
const struct ruleset *rule_engine_ruleset(const struct rule_engine *e);

/* Does rule r hold for facts f (protocol, addresses, ports, every predicate), as they are? */
bool rule_matches(const struct rule *r, const struct rule_facts *f);

enum rule_certainty { RULE_NO, RULE_YES, RULE_MAYBE };

/* Does rule r hold for f for certain (RULE_YES), certainly not (RULE_NO), or is it open? */
enum rule_certainty rule_holds_certainly(const struct rule *r, const struct rule_facts *f);

struct rule_thresholds;

/* max_entries 0: RULES_MAX_THRESHOLD_ENTRIES. */
struct rule_thresholds *rule_thresholds_new(size_t max_entries);
void rule_thresholds_free(struct rule_thresholds *t);

struct rule_match_stats {
    uint64_t sessions;    /* sessions matched */
    uint64_t evaluated;   /* rules evaluated in full (candidates from the index) */
    uint64_t matched;     /* alert rules that held */
    uint64_t passed;      /* sessions a pass rule held for: no alert */
    uint64_t suppressed;  /* alerts dropped by suppress lines */
    uint64_t thresholded; /* alerts held back by thresholds */
    uint64_t over_cap;    /* alerts past RULES_MAX_ALERTS_PER_SESSION */
    uint64_t thr_evicted; /* threshold counters evicted (table full) */
};

/* What the rules decided for one session so far: kept by the caller from the session's
 * first match to its last, zeroed at the start, released with rule_session_release. */
struct rule_session {
    bool passed;       /* a pass rule held: the session raises no alert */
    uint32_t n_alerts; /* alerts raised */
    size_t n, cap;     /* entries used and allocated in sids */
    uint32_t *sids;    /* rules decided: raised, suppressed, held back or past the cap */
};
void rule_session_release(struct rule_session *rs);

/*
 * Match one session at packet time now_s (seconds), given what was decided
 * for it before (rs). Writes the rules that raise an alert now to out (at
 * most max, most urgent first) and returns how many: those certain now and
 * not decided before. th may be NULL (thresholds then never hold an alert
 * back). Sessions are counted in ms when f->is_final.
 */
size_t rule_engine_match_session(struct rule_engine *e, struct rule_thresholds *th,
                                 const struct rule_facts *f, int64_t now_s, struct rule_session *rs,
                                 const struct rule **out, size_t max, struct rule_match_stats *ms);

/* One ended session matched once (nothing decided before). */
size_t rule_engine_match(struct rule_engine *e, struct rule_thresholds *th,
                         const struct rule_facts *f, int64_t now_s, const struct rule **out,
                         size_t max, struct rule_match_stats *ms);

#endif

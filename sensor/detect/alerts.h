/*
 * alerts.h — the rules applied to each session when its flow ends, and the
 * "alert" records that follow (docs/eve.md, docs/rules.md).
 */
#ifndef POSTCARD_ALERTS_H
#define POSTCARD_ALERTS_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "rules-limits.h"
#include "packet/flow.h"
#include "eve/json.h"
#include "output/output.h"
#include "app/session.h"
#include "app/tlssess.h"

struct alerting {
    struct rule_engine *engine;  /* the rules in use; NULL: none (no alerts) */
    struct rule_thresholds *thr; /* threshold counters (kept across reloads) */
    struct rule_match_stats ms;  /* what matching did */
    uint64_t written;            /* alert records written */
};

/*
 * Match the session that ended on flow f (ss: its mail session, ts: its
 * TLS session, either NULL; both closed) and write its alerts to out,
 * built in j. Returns the alerts written. hits (NULL: not wanted) gets the
 * rules that raised them, at most max_hits (RULES_MAX_ALERTS_PER_SESSION
 * is always enough): the summary counts findings by category and server.
 */
struct eve_ctx;
size_t alerts_session(struct alerting *al, struct output *out, const struct eve_ctx *ec,
                      struct jbuf *j, const struct flow *f, const struct session *ss,
                      const struct tls_session *ts, const struct rule **hits, size_t max_hits);

#endif

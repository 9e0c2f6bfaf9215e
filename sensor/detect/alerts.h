/*
 * alerts.h — the rules applied to each session whenever its facts change, and
 * the "alert" records that follow (docs/eve.md, docs/rules.md, and when each
 * finding is raised: docs/detections.md).
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

/* What the rules decided for one flow's session so far (allocated at its first decision). */
struct alert_state {
    struct rule_session rs;                        /* the engine's: rules decided, passed */
    uint8_t n_classes;                             /* entries in classes */
    uint8_t classes[RULES_MAX_ALERTS_PER_SESSION]; /* classtype of each alert raised */
};

/*
 * Judge the session on flow f (ss: its mail session, ts: its TLS session, either NULL;
 * each only once it has facts: a mail session the bytes showed to be one, a TLS session
 * with a hello) at time now, and write the alerts that are certain now and were not raised
 * before to out, stamped now, built in j. fin: the flow ended, ss and ts are closed and
 * every fact is final (now is then the flow's last packet); a session cut by eviction
 * (is_cut) is judged with its facts as they stood instead. What was decided is kept in
 * f->alerts. Returns the alerts written.
 */
struct eve_ctx;
size_t alerts_judge(struct alerting *al, struct output *out, const struct eve_ctx *ec,
                    struct jbuf *j, struct flow *f, const struct session *ss,
                    const struct tls_session *ts, pc_time now, bool fin);

/* The flow's session is over and counted: forget what was decided for it. */
void alerts_release(struct flow *f);

#endif

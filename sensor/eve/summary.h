/*
 * summary.h — the run's numbers for a diary-style report ("of the mail we
 * saw, how much crossed the wire as a postcard?"): per port and protocol,
 * TLS versions and suites, certificates, findings, servers, countries, AS
 * and hours, counted once per session when its flow ends, and written as
 * the "summary" document (docs/summary.md: schema 1, which `postcard report`
 * reads and merges).
 *
 * Memory is fixed when the summary is made (the caps in limits.h, SUM_*);
 * nothing is allocated per session or per packet.
 */
#ifndef POSTCARD_SUMMARY_H
#define POSTCARD_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common.h"
#include "packet/flow.h"
#include "eve/json.h"
#include "app/session.h"
#include "app/tlssess.h"

struct eve_ctx;
struct rule;
struct summary;

struct summary *summary_new(uint64_t hash_seed);
void summary_free(struct summary *sm);

/*
 * Count the session that ended on flow f: ss its mail session, ts its TLS
 * session (either NULL, both closed: what alerts_session judged), hits the
 * rules whose alerts were written for it. ec gives the GeoIP databases, the
 * address anonymiser and the sensor's id.
 */
void summary_session(struct summary *sm, const struct eve_ctx *ec, const struct flow *f,
                     const struct session *ss, const struct tls_session *ts, const uint8_t *classes,
                     size_t n_hits);

/* The document to out, keys sorted: pretty (2-space indents) or one line. 0, or -1 on a
 * write error (errno says which). */
int summary_write(struct summary *sm, const struct eve_ctx *ec, FILE *out, bool pretty);

/* Can path be written during the run? (Creates and removes path.tmp.) 0, or -1 with e. */
int summary_check_path(const char *path, struct err *e);
/* The document to path, atomically: written to path.tmp (the same directory), fsync'd, then
 * renamed over path; path.tmp never stays behind. 0, or -1 with e. */
int summary_write_file(struct summary *sm, const struct eve_ctx *ec, const char *path,
                       struct err *e);

/*
 * The "summary" record at packet time ts, built in j: timestamp, host,
 * pcap_filename/in_iface, event_type, "summary":{the document, one line}.
 * [SUM-RECORD-CAP] a document longer than a record can hold loses its
 * servers map first, then hours, as, countries, ports, and says
 * "truncated":true.
 */
void summary_record(struct summary *sm, const struct eve_ctx *ec, pc_time ts, struct jbuf *j);

#endif

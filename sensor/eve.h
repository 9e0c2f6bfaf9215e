/*
 * eve.h — records in the shape of Suricata's EVE JSON where the concept is
 * the same (timestamp, flow_id, event_type, src_ip, src_port, dest_ip,
 * dest_port, proto, app_proto, flow{...}).
 */
#ifndef POSTCARD_EVE_H
#define POSTCARD_EVE_H

#include "classify.h"
#include "flow.h"
#include "json.h"

/* Start a record: timestamp, flow_id, event_type, addresses, ports, proto. */
void eve_begin(struct jbuf *j, pc_time ts, const struct flow *f, const char *event_type);

/* A complete "flow" record for a flow that ended. */
void eve_flow(struct jbuf *j, const struct classifier *cl, const struct flow *f,
              enum flow_end why);

/* Address as text (inet_ntop). */
void eve_addr(const uint8_t *a, int ipver, char *buf, size_t n);

#endif

/*
 * eve.h — records in the shape of Suricata's EVE JSON where the concept is
 * the same (timestamp, flow_id, event_type, src_ip, src_port, dest_ip,
 * dest_port, proto, app_proto, flow{...}).
 */
#ifndef POSTCARD_EVE_H
#define POSTCARD_EVE_H

#include "packet/classify.h"
#include "packet/flow.h"
#include "eve/json.h"

struct anon;
struct geoip;

/* What every record says about where it comes from. */
struct eve_ctx {
    const char *host;        /* the sensor's id ("host"); NULL: not written */
    const char *src_key;     /* "in_iface" (live) or "pcap_filename" (files); NULL: none */
    const char *src_val;     /* the interface or the file being read */
    const struct geoip *geo; /* GeoIP databases, NULL: none */
    const struct anon *anon; /* --anonymize: pseudonyms and dropped names; NULL: none */
};

/* Start a record: timestamp, flow_id, the sensor and its input, event_type, addresses, ports,
 * proto; for records other than "flow", src_geo and dest_geo of public addresses. With
 * ec->anon: "anonymized":true, the addresses and flow_id as pseudonyms, and the GeoIP of
 * the real addresses (docs/anonymize.md). */
void eve_begin(struct jbuf *j, const struct eve_ctx *ec, pc_time ts, const struct flow *f,
               const char *event_type);
/* Start a record that belongs to no flow (stats): timestamp, the sensor, event_type (and
 * "anonymized":true with ec->anon). */
void eve_begin_plain(struct jbuf *j, const struct eve_ctx *ec, pc_time ts, const char *event_type);

/* A complete "flow" record for a flow that ended. */
void eve_flow(struct jbuf *j, const struct eve_ctx *ec, const struct classifier *cl,
              const struct flow *f, enum flow_end why);

/* Address as text (inet_ntop). */
void eve_addr(const uint8_t *a, int ipver, char *buf, size_t n);

#endif

/*
 * eve.c — EVE-shaped records. Field order is fixed so that a capture always
 * gives byte-identical output.
 *
 * With --anonymize (ec->anon) the addresses and the flow_id are written as
 * their pseudonyms, while GeoIP looks up the real addresses: the country and
 * AS are kept on purpose (docs/anonymize.md) [EVE-ANON-GEO-REAL].
 *
 * Hazards: [EVE-ANON-GEO-REAL] the real address must never reach j_str when
 *          ec->anon is set; only geoip_write sees it.
 */
#include "eve/eve.h"

#include "eve/anon.h"
#include "eve/geoip.h"

#include <arpa/inet.h>
#include <stdio.h>

void eve_addr(const uint8_t *a, int ipver, char *buf, size_t n)
{
    if (ipver == 4 && n >= 16) { /* by hand: inet_ntop goes through sprintf */
        char *p = buf;
        for (int i = 0; i < 4; i++) {
            unsigned v = a[i];
            if (v >= 100)
                *p++ = (char)('0' + v / 100);
            if (v >= 10)
                *p++ = (char)('0' + v / 10 % 10);
            *p++ = (char)('0' + v % 10);
            *p++ = i < 3 ? '.' : '\0';
        }
        return;
    }
    if (inet_ntop(ipver == 4 ? AF_INET : AF_INET6, a, buf, (socklen_t)n) == NULL)
        snprintf(buf, n, "?");
}

static void begin(struct jbuf *j, const struct eve_ctx *ec, pc_time ts)
{
    char t[40];
    j_begin(j);
    time_iso8601(ts, t, sizeof t);
    j_str(j, "timestamp", t);
    if (ec != NULL && ec->host != NULL)
        j_str(j, "host", ec->host);
}

static void source(struct jbuf *j, const struct eve_ctx *ec)
{
    if (ec != NULL && ec->src_key != NULL && ec->src_val != NULL)
        j_str(j, ec->src_key, ec->src_val);
}

/* Says that the addresses are pseudonyms: nobody should look them up. */
static void anonymized(struct jbuf *j, const struct eve_ctx *ec)
{
    if (ec != NULL && ec->anon != NULL)
        j_bool(j, "anonymized", true);
}

/* An address as text, or its pseudonym's with an (NULL: none) [EVE-ANON-GEO-REAL]. */
static void addr_field(struct jbuf *j, const char *key, const uint8_t *a, int ipver,
                       const struct anon *an)
{
    char t[INET6_ADDRSTRLEN];
    uint8_t p[16];
    if (an != NULL) {
        anon_addr(an, a, ipver, p);
        a = p;
    }
    eve_addr(a, ipver, t, sizeof t);
    j_str(j, key, t);
}

void eve_begin_plain(struct jbuf *j, const struct eve_ctx *ec, pc_time ts, const char *event_type)
{
    begin(j, ec, ts);
    source(j, ec);
    j_str(j, "event_type", event_type);
    anonymized(j, ec);
}

void eve_begin(struct jbuf *j, const struct eve_ctx *ec, pc_time ts, const struct flow *f,
               const char *event_type)
{
    const struct anon *an = ec != NULL ? ec->anon : NULL;
    begin(j, ec, ts);
    j_u64(j, "flow_id", an != NULL ? anon_flow_id(an, f->flow_id) : f->flow_id);
    source(j, ec);
    j_str(j, "event_type", event_type);
    anonymized(j, ec);
    addr_field(j, "src_ip", f->cli, f->ipver, an);
    j_u64(j, "src_port", f->cport);
    addr_field(j, "dest_ip", f->srv, f->ipver, an);
    j_u64(j, "dest_port", f->sport);
    j_str(j, "proto", f->proto == 6 ? "TCP" : "UDP");
    /* the real addresses: the country and AS are kept [EVE-ANON-GEO-REAL] */
    if (ec != NULL && ec->geo != NULL && event_type[0] != 'f') { /* not for "flow" records */
        geoip_write(ec->geo, j, "src_geo", f->cli, f->ipver);
        geoip_write(ec->geo, j, "dest_geo", f->srv, f->ipver);
    }
}

static const char *end_reason(enum flow_end why)
{
    switch (why) {
    case FLOW_END_TIMEOUT:
        return "timeout";
    case FLOW_END_EVICTED:
        return "forced";
    case FLOW_END_REUSED:
        return "reused";
    case FLOW_END_SHUTDOWN:
    default:
        return "shutdown";
    }
}

static const char *flow_state(const struct flow *f)
{
    if (f->proto != 6)
        return f->pkts[1] ? "established" : "new";
    if (f->tc == FLOW_TC_TCP_CLOSED)
        return "closed";
    if (f->tc == FLOW_TC_TCP_OPEN)
        return "established";
    return "new";
}

static void tcp_flags_hex(uint8_t fl, char *buf, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    if (n < 3)
        return;
    buf[0] = hex[fl >> 4];
    buf[1] = hex[fl & 15];
    buf[2] = '\0';
}

void eve_flow(struct jbuf *j, const struct eve_ctx *ec, const struct classifier *cl,
              const struct flow *f, enum flow_end why)
{
    char name[64], nd[64], t[40];
    static const char *const by[] = {"none", "port", "content", "ndpi"};
    eve_begin(j, ec, f->last, f, "flow");
    j_str(j, "app_proto", classify_app_name(cl, &f->cls, name, sizeof name));
    j_obj(j, "flow");
    j_u64(j, "pkts_toserver", f->pkts[0]);
    j_u64(j, "pkts_toclient", f->pkts[1]);
    j_u64(j, "bytes_toserver", f->bytes[0]);
    j_u64(j, "bytes_toclient", f->bytes[1]);
    time_iso8601(f->first, t, sizeof t);
    j_str(j, "start", t);
    time_iso8601(f->last, t, sizeof t);
    j_str(j, "end", t);
    j_i64(j, "age", (f->last - f->first) / 1000000);
    j_str(j, "state", flow_state(f));
    j_str(j, "reason", end_reason(why));
    j_bool(j, "bypassed", f->is_bypassed);
    j_obj_end(j);
    if (f->proto == 6) {
        char h[8];
        j_obj(j, "tcp");
        tcp_flags_hex((uint8_t)(f->tcp_flags[0] | f->tcp_flags[1]), h, sizeof h);
        j_str(j, "tcp_flags", h);
        tcp_flags_hex(f->tcp_flags[0], h, sizeof h);
        j_str(j, "tcp_flags_ts", h);
        tcp_flags_hex(f->tcp_flags[1], h, sizeof h);
        j_str(j, "tcp_flags_tc", h);
        j_bool(j, "syn", ((f->tcp_flags[0] | f->tcp_flags[1]) & 0x02) != 0);
        j_bool(j, "fin", ((f->tcp_flags[0] | f->tcp_flags[1]) & 0x01) != 0);
        j_bool(j, "rst", f->has_rst);
        j_obj_end(j);
        j_obj(j, "stream");
        j_u64(j, "bytes_toserver", f->rd[0].delivered - f->rd[0].gap_bytes);
        j_u64(j, "bytes_toclient", f->rd[1].delivered - f->rd[1].gap_bytes);
        j_u64(j, "gap_bytes_toserver", f->rd[0].gap_bytes);
        j_u64(j, "gap_bytes_toclient", f->rd[1].gap_bytes);
        j_obj_end(j);
    }
    j_obj(j, "classify");
    j_str(j, "by", by[f->cls.by < 4 ? f->cls.by : 0]);
    j_str(j, "ndpi", classify_ndpi_name(cl, &f->cls, nd, sizeof nd));
    j_obj_end(j);
    j_end(j);
}

/*
 * stats.c — the periodic "stats" record: the run's counters, in EVE's
 * stats shape where the concept is the same (decoder, capture, flow,
 * tcp), postcard's own otherwise (mail, tls, detect, anomalies, outputs).
 * Written every --stats-interval seconds of packet time and at the end.
 */
#include <string.h>

#include "sensor.h"

void sensor_stats_record(struct sensor *s, pc_time ts)
{
    const struct stats *st = &s->st;
    struct jbuf *j = &s->j;
    eve_begin_plain(j, &s->eve, ts, "stats");
    j_obj(j, "stats");
    j_u64(j, "uptime",
          s->first_ts && ts > s->first_ts ? (uint64_t)((ts - s->first_ts) / 1000000) : 0);
    j_obj(j, "decoder");
    j_u64(j, "pkts", st->packets);
    j_u64(j, "bytes", st->bytes);
    j_u64(j, "ip", st->ip_packets);
    j_u64(j, "tcp", st->tcp_packets);
    j_u64(j, "udp", st->udp_packets);
    j_u64(j, "other_ip", st->other_l4);
    j_u64(j, "not_ip", st->non_ip);
    j_u64(j, "fragments", st->frags);
    j_u64(j, "fragments_rebuilt", st->frag_reassembled);
    j_obj_end(j);
    if (s->is_live) {
        j_obj(j, "capture");
        j_u64(j, "kernel_packets", st->kernel_recv);
        j_u64(j, "kernel_drops", st->kernel_drop);
        j_u64(j, "kernel_ifdrops", st->iface_drop);
        j_obj_end(j);
    }
    j_obj(j, "flow");
    j_u64(j, "created", st->flows_created);
    j_u64(j, "ended", st->flows_ended);
    j_u64(j, "active", st->flows_created - st->flows_ended);
    j_u64(j, "evicted", st->flows_evicted);
    j_u64(j, "bypassed", st->flows_bypassed);
    j_u64(j, "tcp", s->flows_tcp);
    j_u64(j, "udp", s->flows_udp);
    j_obj_end(j);
    j_obj(j, "tcp");
    j_u64(j, "reassembled_bytes", st->reasm_bytes);
    j_obj_end(j);
    j_obj(j, "mail");
    j_u64(j, "sessions", st->mail_sessions);
    j_obj_end(j);
    j_obj(j, "tls");
    j_u64(j, "sessions", st->tls_sessions);
    j_u64(j, "certs_parsed", certcache_parsed(s->tls.certs));
    j_u64(j, "certs_from_cache", certcache_hits(s->tls.certs));
    j_obj_end(j);
    const struct rule_match_stats *ms = &s->al.ms;
    j_obj(j, "detect");
    j_u64(j, "rules", s->al.engine ? ruleset_len(rule_engine_ruleset(s->al.engine)) : 0);
    j_u64(j, "sessions", ms->sessions);
    j_u64(j, "alerts", s->al.written);
    j_u64(j, "passed", ms->passed);
    j_u64(j, "suppressed", ms->suppressed);
    j_u64(j, "thresholded", ms->thresholded);
    j_u64(j, "over_cap", ms->over_cap);
    j_u64(j, "threshold_evicted", ms->thr_evicted);
    j_u64(j, "reloads", s->rule_reloads);
    j_u64(j, "reloads_rejected", s->rule_reloads_rejected);
    j_obj_end(j);
    j_obj(j, "anomalies");
    for (int a = 0; a < AN_COUNT; a++)
        if (st->anomalies[a])
            j_u64(j, anomaly_name((enum anomaly)a), st->anomalies[a]);
    char name[48];
    for (int a = 0; a < EVA_COUNT; a++) {
        if (!st->mail_anomalies[a])
            continue;
        snprintf(name, sizeof name, "mail-%s", ev_anomaly_name((enum ev_anomaly)a));
        j_u64(j, name, st->mail_anomalies[a]);
    }
    j_obj_end(j);
    j_obj(j, "outputs");
    j_u64(j, "records", s->out->written);
    j_u64(j, "failed", s->out->failed);
    if (s->out->stats != NULL)
        s->out->stats(s->out, j);
    j_obj_end(j);
    j_obj_end(j);
    j_end(j);
    s->out->write(s->out, REC_STATS, j->buf, j->len);
}

/*
 * stats.c — the periodic "stats" record: the run's counters, in EVE's
 * stats shape where the concept is the same (decoder, capture, flow,
 * tcp), postcard's own otherwise (mail, tls, detect, anomalies, outputs).
 * Written every --stats-interval seconds (of packet time reading files, of
 * the wall clock live) and at the end.
 *
 * Live, the kernel's counters come from pcap_stats, read by the capture loop
 * at least every second (main.c). libpcap keeps them in 32 bits: each reading
 * adds its difference to the previous one, taken modulo 2^32, to 64-bit totals
 * [STATS-KERNEL-WRAP]. A record carries the totals (EVE's kernel_packets,
 * kernel_drops, kernel_ifdrops) and what changed since the previous record
 * (the same names with _delta, as Suricata writes them with "deltas: yes").
 *
 * Hazards: [STATS-KERNEL-WRAP] a 32-bit counter read twice more than 2^32
 *          packets apart loses 2^32 of them: read at least every second
 */
#include <string.h>

#include "sensor.h"

_Static_assert(sizeof((struct stats *)0)->flows_evicted_by == FLOW_EVC_COUNT * sizeof(uint64_t),
               "one eviction counter per enum flow_evc");

uint64_t counter_delta32(uint64_t prev, uint64_t cur)
{
    return (uint64_t)(uint32_t)((uint32_t)cur - (uint32_t)prev); /* [STATS-KERNEL-WRAP] */
}

void stats_kernel_sample(struct stats *st, const struct kcounts *raw)
{
    st->kernel.recv += counter_delta32(st->kernel_raw.recv, raw->recv);
    st->kernel.drop += counter_delta32(st->kernel_raw.drop, raw->drop);
    st->kernel.ifdrop += counter_delta32(st->kernel_raw.ifdrop, raw->ifdrop);
    st->kernel_raw = *raw;
}

struct kcounts kcounts_sub(const struct kcounts *a, const struct kcounts *b)
{
    return (struct kcounts){a->recv - b->recv, a->drop - b->drop, a->ifdrop - b->ifdrop};
}

double share_of(uint64_t part, uint64_t whole)
{
    return whole != 0 ? (double)part / (double)whole : 0.0;
}

bool kcounts_drops_over(const struct kcounts *d, double percent)
{
    return percent > 0 && d->drop > 0 && 100.0 * share_of(d->drop, d->recv) > percent;
}

/* Live: the kernel's counters, since the start and since the previous record; then the
 * next interval starts. */
static void capture_counters(struct sensor *s, struct jbuf *j, pc_time ts)
{
    const struct kcounts *k = &s->st.kernel;
    struct kcounts d = kcounts_sub(k, &s->kern_at_record);
    j_obj(j, "capture");
    j_u64(j, "kernel_packets", k->recv);
    j_u64(j, "kernel_drops", k->drop);
    j_u64(j, "kernel_ifdrops", k->ifdrop);
    j_u64(j, "kernel_packets_delta", d.recv);
    j_u64(j, "kernel_drops_delta", d.drop);
    j_u64(j, "kernel_ifdrops_delta", d.ifdrop);
    j_fixed(j, "kernel_drop_share", share_of(k->drop, k->recv), 6);
    j_fixed(j, "kernel_drop_share_interval", share_of(d.drop, d.recv), 6);
    j_obj_end(j);
    s->kern_at_record = *k;
    s->kern_interval = d;
    s->kern_interval_us = ts - (s->last_stats_ts != 0 ? s->last_stats_ts : s->first_ts);
    s->last_stats_ts = ts;
}

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
    if (s->is_live)
        capture_counters(s, j, ts);
    j_obj(j, "flow");
    j_u64(j, "created", st->flows_created);
    j_u64(j, "ended", st->flows_ended);
    j_u64(j, "active", st->flows_created - st->flows_ended);
    j_u64(j, "evicted", st->flows_evicted);
    j_u64(j, "evicted_embryonic", st->flows_evicted_by[FLOW_EVC_EMBRYONIC]);
    j_u64(j, "evicted_other", st->flows_evicted_by[FLOW_EVC_OTHER]);
    j_u64(j, "evicted_session", st->flows_evicted_by[FLOW_EVC_SESSION]);
    j_u64(j, "bypassed", st->flows_bypassed);
    j_u64(j, "tcp", s->flows_tcp);
    j_u64(j, "udp", s->flows_udp);
    j_obj_end(j);
    j_obj(j, "tcp");
    j_u64(j, "reassembled_bytes", st->reasm_bytes);
    j_obj_end(j);
    j_obj(j, "mail");
    j_u64(j, "sessions", st->mail_sessions);
    j_u64(j, "cut", st->mail_sessions_cut);
    j_obj_end(j);
    j_obj(j, "tls");
    j_u64(j, "sessions", st->tls_sessions);
    j_u64(j, "cut", st->tls_sessions_cut);
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
    j_obj(j, "outputs"); /* stdout or -w FILE (the tee's counts), then each output's own */
    j_u64(j, "records", s->out->written + s->out->buffered);
    j_u64(j, "failed", s->out->failed);
    if (s->out->stats != NULL)
        s->out->stats(s->out, j);
    j_obj_end(j);
    j_obj_end(j);
    j_end(j);
    s->out->write(s->out, REC_STATS, j->buf, j->len);
}

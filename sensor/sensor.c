/*
 * sensor.c — the packet path.
 *
 *   frame ─▶ decode ─▶ flow lookup ─▶ counters, timeout class
 *         ─▶ nDPI (until it decides) ─▶ TCP reassembly ─▶ stream consumer
 *         ─▶ bypass once the flow is settled and neither mail nor TLS
 *   flow end ─▶ flush reassembly ─▶ flow record
 *
 * No allocation per packet: flows come from the table's slots, held bytes
 * from the reassembly pool, nDPI state once per flow until it decides.
 *
 * Time: reading files, each packet's time runs the timers (sensor_tick), so
 * a capture always gives the same records. Live, the capture loop ticks with
 * the wall clock (main.c): stats and summary records, flow timeouts and output
 * pushes come on time on a quiet link too. A flow's times are always its
 * packets' times; only the moment it is judged idle follows the wall clock.
 */
#include "sensor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eve/eve.h"
#include "sensor-limits.h"

enum proxy_state {
    PROXY_NONE,    /* not a proxy request (or not yet looked at) */
    PROXY_HEADERS, /* CONNECT sent: skipping request and response headers */
    PROXY_TUNNEL,  /* headers done: what follows is the tunnelled protocol */
};

/* The mail port of either end (the server's first), or NULL. */
static const struct mail_port *flow_mail_port(const struct flow *f)
{
    const struct mail_port *mp = mail_port_find(f->sport);
    return mp != NULL ? mp : mail_port_find(f->cport);
}

/*
 * Decide, at a flow's first stream bytes, whether it is a mail session:
 * a greeting says so; TLS from the first byte on a mail port is implicit
 * TLS; other bytes on a mail port (a capture that missed the greeting, a
 * one-sided capture, a flow picked up mid-way) are given to the port's
 * dissector, which resynchronises and whose record is kept only if it
 * found the protocol there.
 */
static void decide_session(struct sensor *s, struct flow *f)
{
    const struct classify *c = &f->cls;
    const struct mail_port *mp = flow_mail_port(f);
    enum proto proto = PROTO_UNKNOWN;
    bool tls = false;
    if (c->by == BY_CONTENT && proto_is_mail(c->app))
        proto = (enum proto)c->app;
    else if (mp != NULL && c->by == BY_CONTENT && c->app == PROTO_TLS) {
        proto = mp->proto;
        tls = true;
    } else if (mp != NULL && !mp->is_implicit_tls)
        proto = mp->proto;
    f->is_app_decided = true;
    if (proto_is_mail(proto)) {
        f->app = session_new(proto, tls);
        f->app->is_midstream = f->is_midstream;
        f->app->is_tls_port = mp != NULL && mp->is_implicit_tls;
    } else if (c->by == BY_CONTENT && c->app == PROTO_TLS && s->opts.tls_all_ports) {
        f->tls = tls_session_new(-1, NULL);
        f->tls->is_midstream = f->is_midstream;
    }
}

/*
 * HTTP CONNECT (RFC 9110 §9.3.6): a client asks a proxy for a tunnel to a
 * mail server. The request and the proxy's answer are skipped (each ends
 * with an empty line) and the tunnel's bytes are classified afresh.
 * Returns bytes of p that belong to the headers.
 */
static size_t proxy_headers(struct flow *f, int dir, const uint8_t *p, size_t n)
{
    static const uint8_t eoh[4] = {'\r', '\n', '\r', '\n'};
    if (f->proxy == PROXY_NONE && dir == 0 && !f->cls.is_sniffed[0] && n >= 8 &&
        memcmp(p, "CONNECT ", 8) == 0)
        f->proxy = PROXY_HEADERS;
    if (f->proxy != PROXY_HEADERS || f->proxy_eoh[dir] == 4)
        return 0;
    size_t i = 0;
    while (i < n && f->proxy_eoh[dir] < 4) {
        uint8_t c = p[i++];
        f->proxy_eoh[dir] =
            c == eoh[f->proxy_eoh[dir]] ? (uint8_t)(f->proxy_eoh[dir] + 1) : (c == '\r' ? 1 : 0);
    }
    if (f->proxy_eoh[dir] == 4) {
        f->cls.is_sniffed[dir] = false; /* the tunnel's first bytes come next */
        f->cls.client_first = false;
        if (f->proxy_eoh[!dir] == 4) {
            f->proxy = PROXY_TUNNEL;
            f->is_app_decided = false;
            if (f->cls.by == BY_CONTENT) {
                f->cls.by = BY_NONE;
                f->cls.app = PROTO_UNKNOWN;
            }
        }
    }
    return i;
}

static void stream_data(void *ctx, int dir, const uint8_t *p, size_t n)
{
    struct sensor *s = ctx;
    struct flow *f = s->cur;
    s->st.reasm_bytes += n;
    if (f->proxy != PROXY_TUNNEL) {
        size_t k = proxy_headers(f, dir, p, n);
        p += k;
        n -= k;
        if (n == 0 || f->proxy == PROXY_HEADERS)
            return;
    }
    if (!f->cls.is_sniffed[dir])
        classify_stream_start(&f->cls, dir, p, n);
    if (!f->is_app_decided)
        decide_session(s, f);
    struct session *ss = f->app;
    if (ss != NULL) {
        bool was_tls = ss->is_implicit || ss->is_upgraded;
        session_data(ss, s->starttls, f, dir, p, n, &s->st);
        if (!ss->is_implicit && !ss->is_upgraded)
            return;
        if (f->tls == NULL) {
            char host[256];
            f->tls = tls_session_new(ss->is_implicit ? -1 : (int)ss->proto,
                                     session_server_name(ss, host, sizeof host));
            f->tls->is_midstream = f->is_midstream;
        }
        if (!was_tls && ss->is_upgraded)
            return; /* these bytes ended with the STARTTLS answer: TLS comes next */
    }
    if (f->tls != NULL)
        tls_session_data(f->tls, &s->tls, dir, p, n, s->pkt_ts);
}

static void stream_gap(void *ctx, int dir, uint64_t n)
{
    struct sensor *s = ctx;
    struct flow *f = s->cur;
    /* A stream that starts with a gap has no first bytes to sniff. */
    if (!f->cls.is_sniffed[dir] && f->rd[dir].delivered == n) {
        f->cls.is_sniffed[dir] = true;
        if (dir == 0 && !f->cls.is_sniffed[1])
            f->cls.client_first = true;
    }
    if (f->app != NULL)
        session_gap(f->app, s->starttls, f, dir, n, &s->st);
    if (f->tls != NULL)
        tls_session_gap(f->tls, &s->tls, dir, n);
}

/* Is a mail session on f surely mail, or could it still turn out to be something else (a "220"
 * greeting on another port can be FTP: flow_ended asks nDPI, which may not have answered)? */
static bool mail_is_certain(const struct flow *f)
{
    return flow_mail_port(f) != NULL || f->proxy == PROXY_TUNNEL ||
           (f->cls.is_ndpi_done && f->cls.ndpi_app != PROTO_OTHER);
}

/*
 * The packet just handled changed what is known of f's session: the rules that are certain
 * now raise their alerts, stamped with its time (docs/detections.md: the moment of each
 * finding). A session not yet known to be mail, and a TLS session before its first hello,
 * have no facts to judge.
 */
static void judge_now(struct sensor *s, struct flow *f)
{
    struct session *ss = f->app;
    struct tls_session *ts = f->tls;
    if (!(ss != NULL && ss->facts_changed) && !(ts != NULL && ts->facts_changed))
        return;
    if (ss != NULL)
        ss->facts_changed = false;
    if (ts != NULL)
        ts->facts_changed = false;
    if (s->al.engine == NULL)
        return;
    if (ss != NULL && (!(ss->is_valid || ss->is_implicit) || !mail_is_certain(f)))
        return; /* judged when it ends, if it was mail after all */
    const struct tls_session *seen = ts != NULL && (ts->seen_ch || ts->seen_sh) ? ts : NULL;
    if (ss == NULL && seen == NULL)
        return;
    alerts_judge(&s->al, s->out, &s->eve, &s->j, f, ss, seen, s->pkt_ts, false);
}

static void count_app(struct sensor *s, const char *name)
{
    for (size_t i = 0; i < s->n_apps; i++) {
        if (strcmp(s->apps[i].name, name) == 0) {
            s->apps[i].flows++;
            return;
        }
    }
    /* the last entry collects whatever does not fit */
    size_t i = s->n_apps < SENSOR_MAX_APP_NAMES ? s->n_apps++ : SENSOR_MAX_APP_NAMES - 1;
    if (s->n_apps == SENSOR_MAX_APP_NAMES && i == SENSOR_MAX_APP_NAMES - 1)
        name = "(other names)";
    snprintf(s->apps[i].name, sizeof s->apps[i].name, "%s", name);
    s->apps[i].flows++;
}

static void flow_ended(void *ctx, struct flow *f, enum flow_end why)
{
    struct sensor *s = ctx;
    s->cur = f;
    if (f->proto == 6 && !f->is_bypassed) {
        reasm_flush(&s->pool, &f->rd[0], 0, &s->cons);
        reasm_flush(&s->pool, &f->rd[1], 1, &s->cons);
    }
    classify_end(s->cl, &f->cls, NULL);
    const struct session *ss = NULL;
    const struct tls_session *ts = NULL;
    if (why == FLOW_END_EVICTED) { /* cut: the records say so, and decide nothing more */
        if (f->app != NULL)
            f->app->is_cut = true;
        if (f->tls != NULL)
            f->tls->is_cut = true;
    }
    if (f->app != NULL) {
        /* A "220" greeting on another port can be FTP (RFC 959): if nDPI named
         * something else and no mail port is involved, it was not mail. */
        bool not_mail =
            f->cls.ndpi_app == PROTO_OTHER && f->proxy != PROXY_TUNNEL && flow_mail_port(f) == NULL;
        if (session_close(f->app, s->starttls, f, &s->st) && !not_mail)
            ss = f->app;
    }
    if (f->tls != NULL && tls_session_close(f->tls, &s->tls))
        ts = f->tls;
    /* Counted here, where the records are decided (whether or not they are written): a
     * session that began and turned out not to be mail or TLS is no session. */
    if (ss != NULL) {
        s->st.mail_sessions++;
        s->st.mail_sessions_cut += ss->is_cut;
    }
    if (ts != NULL) {
        s->st.tls_sessions++;
        s->st.tls_sessions_cut += ts->is_cut;
    }
    if (ss != NULL && !s->opts.no_mail_records) {
        session_record(ss, f, ts, &s->eve, &s->j);
        s->out->write(s->out, REC_MAIL, s->j.buf, s->j.len);
    }
    if (ts != NULL && !s->opts.no_tls_records) {
        tls_session_record(ts, f, &s->eve, &s->j);
        s->out->write(s->out, REC_TLS, s->j.buf, s->j.len);
    }
    alerts_judge(&s->al, s->out, &s->eve, &s->j, f, ss, ts, f->last, true);
    if (s->sum != NULL) {
        const struct alert_state *as = f->alerts;
        summary_session(s->sum, &s->eve, f, ss, ts, as != NULL ? as->classes : NULL,
                        as != NULL ? as->n_classes : 0);
    }
    alerts_release(f);
    tls_session_free(f->tls);
    f->tls = NULL;
    session_free(f->app);
    f->app = NULL;
    reasm_stop(&s->pool, &f->rd[0]);
    reasm_stop(&s->pool, &f->rd[1]);
    s->st.flows_ended++;
    if (why == FLOW_END_EVICTED) {
        s->st.flows_evicted++;
        s->st.flows_evicted_by[f->evc]++;
    }
    if (f->proto == 6)
        s->flows_tcp++;
    else
        s->flows_udp++;
    char name[64];
    count_app(s, classify_app_name(s->cl, &f->cls, name, sizeof name));
    if (!s->opts.no_flow_records) {
        eve_flow(&s->j, &s->eve, s->cl, f, why);
        s->out->write(s->out, REC_FLOW, s->j.buf, s->j.len);
    }
    s->cur = NULL;
}

struct sensor *sensor_new(const struct sensor_opts *o, struct output *out, struct err *e)
{
    struct sensor *s = xcalloc(1, sizeof *s);
    s->opts = *o;
    if (s->opts.max_flows == 0)
        s->opts.max_flows = FLOW_MAX_DEFAULT;
    if (s->opts.reasm_max_bytes == 0)
        s->opts.reasm_max_bytes = REASM_GLOBAL_MAX_BYTES_DEFAULT;
    s->out = out;
    if (decoder_init(&s->dec, &s->st, e) != 0) {
        free(s);
        return NULL;
    }
    s->cl = classifier_new(&s->st, e);
    if (s->cl == NULL) {
        decoder_free(&s->dec);
        free(s);
        return NULL;
    }
    s->ft = flow_table_new(s->opts.max_flows, s->opts.hash_seed, flow_ended, s);
    for (int tc = 0; tc < FLOW_TC_COUNT; tc++)
        if (s->opts.flow_timeout[tc] > 0)
            flow_table_set_timeout(s->ft, (enum flow_tc)tc, s->opts.flow_timeout[tc]);
    reasm_pool_init(&s->pool, s->opts.reasm_max_bytes, &s->st);
    s->starttls = starttls_memory_new();
    s->tls.st = &s->st;
    s->tls.certs = certcache_new();
    char msg[256];
    const char *ca = s->opts.ca_file ? s->opts.ca_file : "/etc/ssl/certs/ca-certificates.crt";
    s->tls.store = x509_store_load(ca, msg, sizeof msg);
    if (s->tls.store == NULL && s->opts.ca_file != NULL) {
        err_set(e, "--ca-file %s", msg);
        sensor_free(s);
        return NULL;
    }
    s->no_trust_store = s->tls.store == NULL;
    s->al.thr = rule_thresholds_new(0);
    if (s->opts.summary_path != NULL || s->opts.summary_interval != 0)
        s->sum = summary_new(s->opts.hash_seed);
    s->cons.data = stream_data;
    s->cons.gap = stream_gap;
    s->cons.ctx = s;
    return s;
}

void sensor_free(struct sensor *s)
{
    if (s == NULL)
        return;
    flow_table_free(s->ft);
    summary_free(s->sum);
    rule_engine_free(s->al.engine);
    rule_thresholds_free(s->al.thr);
    starttls_memory_free(s->starttls);
    certcache_free(s->tls.certs);
    x509_store_free(s->tls.store);
    reasm_pool_free(&s->pool);
    classifier_free(s->cl);
    decoder_free(&s->dec);
    free(s);
}

/*
 * --summary FILE replaced by the document as it is now (written beside it, fsync'd, renamed
 * over it). A failure is kept in summary_err for main.c to tell: the first of a run of
 * failures, not every one (the next interval tries again).
 */
static void summary_file(struct sensor *s)
{
    struct err e = {""};
    if (summary_write_file(s->sum, &s->eve, s->opts.summary_path, &e) == 0) {
        s->summary_err.msg[0] = '\0';
        return;
    }
    if (s->summary_err.msg[0] == '\0')
        s->is_summary_err_untold = true;
    s->summary_err = e;
}

/*
 * The run's numbers so far, at time ts: a "summary" record (--summary-interval) and
 * --summary FILE, at each interval and once more at the end. The one place that writes a
 * periodic summary, record and file both, so the file is always the document of the
 * latest record.
 */
static void summary_out(struct sensor *s, pc_time ts)
{
    if (s->opts.summary_interval != 0) {
        summary_record(s->sum, &s->eve, ts, &s->j);
        s->out->write(s->out, REC_SUMMARY, s->j.buf, s->j.len);
    }
    if (s->opts.summary_path != NULL)
        summary_file(s);
}

/* Is this flow worth reassembling further? */
static bool of_interest(const struct sensor *s, const struct flow *f)
{
    const struct classify *c = &f->cls;
    if (f->tls != NULL && tls_session_is_over(f->tls))
        return false; /* the handshake is over: the rest is encrypted */
    if (f->app != NULL || f->tls != NULL || !classify_is_settled(c))
        return true;
    if (f->proxy != PROXY_NONE && !f->is_app_decided)
        return true; /* an HTTP CONNECT tunnel: what it carries is not known yet */
    switch (c->app) {
    case PROTO_SMTP:
    case PROTO_POP3:
    case PROTO_IMAP:
        return true;
    case PROTO_TLS:
        return s->opts.tls_all_ports || classify_port_implicit_tls(f->sport) ||
               classify_port_implicit_tls(f->cport);
    default:
        return false;
    }
}

/*
 * Has a TCP handshake just completed: the client acknowledging the server's SYN+ACK (RFC 9293
 * §3.5)? The acknowledgement must name the server's sequence number, which a blind spoofer
 * never saw [FLOW-EVICT-BY-VALUE].
 */
static bool handshake_done(const struct flow *f, const struct pkt *pk, int dir)
{
    return dir == 0 && (pk->tcp_flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_ACK &&
           f->rd[1].has_syn && pk->ack == f->rd[1].next_seq;
}

static enum flow_tc tcp_class(const struct flow *f)
{
    if (f->has_rst || ((f->tcp_flags[0] & TCP_FIN) && (f->tcp_flags[1] & TCP_FIN)))
        return FLOW_TC_TCP_CLOSED;
    if ((f->tcp_flags[1] & TCP_ACK) || f->pkts[1] > 0 || f->bytes[0] > 0)
        return FLOW_TC_TCP_OPEN;
    return FLOW_TC_TCP_NEW;
}

bool sensor_stats_due(const struct sensor *s, pc_time now)
{
    return s->opts.stats_interval != 0 && s->next_stats != 0 &&
           (now > s->now ? now : s->now) >= s->next_stats;
}

/* Flows past their timeout. Live, a tick ends more than a packet does: an idle link has only
 * the ticks to end a burst of flows within their timeouts. */
static void expire_flows(struct sensor *s)
{
    int rounds = s->is_live ? FLOW_EXPIRE_TICK_BATCHES : 1;
    while (rounds-- > 0 && flow_expire(s->ft, s->now) == FLOW_EXPIRE_BATCH)
        ;
}

bool sensor_tick(struct sensor *s, pc_time now)
{
    bool has_stats = false;
    if (now > s->now)
        s->now = now;
    if (s->first_ts == 0) /* live: the run's time starts with the capture, packets or not */
        s->first_ts = s->now;
    if (s->opts.stats_interval != 0) {
        pc_time every = (pc_time)s->opts.stats_interval * 1000000;
        if (s->next_stats == 0)
            s->next_stats = s->now + every;
        else if (s->now >= s->next_stats) {
            sensor_stats_record(s, s->now);
            s->next_stats = s->now + every;
            has_stats = true;
        }
    }
    expire_flows(s);
    if (s->opts.summary_interval != 0) { /* after the expiry: sessions over by now count */
        pc_time every = (pc_time)s->opts.summary_interval * 1000000;
        if (s->next_summary == 0)
            s->next_summary = s->now + every;
        else if (s->now >= s->next_summary) {
            summary_out(s, s->now);
            s->next_summary = s->now + every;
        }
    }
    if (s->is_live && s->now >= s->next_push) { /* a reader of the output sees records on time */
        if (s->out->push != NULL)
            s->out->push(s->out);
        s->next_push = s->now + OUTPUT_PUSH_US;
    }
    return has_stats;
}

void sensor_packet(struct sensor *s, int link, const uint8_t *p, size_t caplen, size_t wirelen,
                   pc_time ts)
{
    struct pkt pk;
    s->st.packets++;
    s->st.bytes += wirelen;
    if (decode_packet(&s->dec, link, p, caplen, wirelen, ts, &pk) != DEC_OK)
        return;
    s->pkt_ts = ts;
    if (ts > s->last_pkt)
        s->last_pkt = ts;
    if (s->first_ts == 0)
        s->first_ts = ts;
    if (s->is_live) /* the timers follow the wall clock (sensor_tick from the capture loop) */
        flow_expire(s->ft, s->now);
    else
        sensor_tick(s, ts);

    int dir;
    bool is_new;
    struct flow *f = flow_lookup(s->ft, &pk, &dir, &is_new);
    if (is_new) {
        s->st.flows_created++;
        classify_init(&f->cls, f->cport, f->sport);
    }
    f->pkts[dir]++;
    f->bytes[dir] += pk.wire_len;
    enum flow_tc tc = FLOW_TC_UDP;
    if (pk.l4 == 6) {
        f->tcp_flags[dir] |= pk.tcp_flags;
        if (pk.tcp_flags & TCP_RST)
            f->has_rst = true;
        tc = tcp_class(f);
    }
    flow_touch(s->ft, f, tc, s->last_pkt);
    if (f->evc == FLOW_EVC_EMBRYONIC &&
        (pk.payload_wire_len > 0 || (pk.l4 == 6 && handshake_done(f, &pk, dir))))
        flow_raise(s->ft, f, FLOW_EVC_OTHER);
    if (f->is_bypassed)
        return;

    s->cur = f;
    if (pk.l4 == 6) {
        reasm_segment(&s->pool, &f->rd[dir], dir, pk.tcp_flags, pk.seq, pk.payload, pk.payload_len,
                      pk.payload_wire_len, &s->cons);
        if (pk.tcp_flags & TCP_ACK)
            reasm_ack(&s->pool, &f->rd[!dir], !dir, pk.ack, &s->cons);
        if (pk.tcp_flags & TCP_RST) {
            reasm_flush(&s->pool, &f->rd[0], 0, &s->cons);
            reasm_flush(&s->pool, &f->rd[1], 1, &s->cons);
        }
    } else if (pk.payload_len > 0 && !f->cls.is_sniffed[dir]) {
        classify_stream_start(&f->cls, dir, pk.payload, pk.payload_len);
    }
    s->cur = NULL;
    /* nDPI is asked only what the bytes did not already tell: TLS, or mail on
     * its own port, needs no second opinion (mail on another port does: FTP
     * greets with "220" too) */
    const struct classify *c = &f->cls;
    if (!(c->by == BY_CONTENT &&
          (c->app == PROTO_TLS || (c->app != PROTO_OTHER && flow_mail_port(f) != NULL))))
        classify_packet(s->cl, &f->cls, &pk);
    judge_now(s, f);
    /* a mail or TLS session that both sides have spoken in: what a full table keeps longest */
    if (f->evc != FLOW_EVC_SESSION && (f->app != NULL || f->tls != NULL) &&
        f->rd[0].delivered > 0 && f->rd[1].delivered > 0)
        flow_raise(s->ft, f, FLOW_EVC_SESSION);
    if (!of_interest(s, f)) {
        f->is_bypassed = true;
        s->st.flows_bypassed++;
        reasm_stop(&s->pool, &f->rd[0]);
        reasm_stop(&s->pool, &f->rd[1]);
        classify_end(s->cl, &f->cls, &pk);
    }
}

struct rule_engine *sensor_set_rules(struct sensor *s, struct rule_engine *e)
{
    struct rule_engine *old = s->al.engine;
    s->al.engine = e;
    return old;
}

int sensor_finish(struct sensor *s)
{
    flow_end_all(s->ft);
    if (s->sum != NULL)
        summary_out(s, s->now); /* the last record, and the file: the same document */
    sensor_stats_record(s, s->now);
    return s->out->flush(s->out); /* the output counted what it lost */
}

void sensor_print_summary(const struct sensor *s, FILE *f, bool live)
{
    const struct stats *st = &s->st;
    fprintf(f, "postcard summary:\n");
    fprintf(f, "  packets:        %llu (%llu bytes)\n", (unsigned long long)st->packets,
            (unsigned long long)st->bytes);
    fprintf(f, "  decoded:        %llu TCP, %llu UDP, %llu other IP, %llu not IP\n",
            (unsigned long long)st->tcp_packets, (unsigned long long)st->udp_packets,
            (unsigned long long)st->other_l4, (unsigned long long)st->non_ip);
    fprintf(f, "  fragments:      %llu (%llu datagrams rebuilt)\n", (unsigned long long)st->frags,
            (unsigned long long)st->frag_reassembled);
    fprintf(f, "  flows:          %llu (%llu TCP, %llu UDP), %llu bypassed, %llu evicted%s\n",
            (unsigned long long)st->flows_ended, (unsigned long long)s->flows_tcp,
            (unsigned long long)s->flows_udp, (unsigned long long)st->flows_bypassed,
            (unsigned long long)st->flows_evicted,
            s->opts.no_flow_records ? "; no flow records (--no-flow-records)" : "");
    if (st->flows_evicted > 0) /* the table was full: what it gave up, least worth first */
        fprintf(f,
                "  evicted:        %llu embryonic, %llu other, %llu sessions; sessions cut: "
                "%llu mail, %llu TLS\n",
                (unsigned long long)st->flows_evicted_by[FLOW_EVC_EMBRYONIC],
                (unsigned long long)st->flows_evicted_by[FLOW_EVC_OTHER],
                (unsigned long long)st->flows_evicted_by[FLOW_EVC_SESSION],
                (unsigned long long)st->mail_sessions_cut,
                (unsigned long long)st->tls_sessions_cut);
    fprintf(f, "  flows by protocol:");
    if (s->n_apps == 0)
        fprintf(f, " none");
    for (size_t i = 0; i < s->n_apps; i++)
        fprintf(f, " %s=%llu", s->apps[i].name, (unsigned long long)s->apps[i].flows);
    fprintf(f, "\n");
    fprintf(f, "  stream bytes:   %llu reassembled\n", (unsigned long long)st->reasm_bytes);
    fprintf(f,
            "  mail sessions:  %llu, TLS sessions: %llu (%llu certificates parsed, %llu "
            "from the cache)%s\n",
            (unsigned long long)st->mail_sessions, (unsigned long long)st->tls_sessions,
            (unsigned long long)certcache_parsed(s->tls.certs),
            (unsigned long long)certcache_hits(s->tls.certs),
            s->opts.no_mail_records ? "; no mail or tls records (--no-session-records)" : "");
    if (s->no_trust_store)
        fprintf(f, "  trust store:    none could be loaded: certificate trust not judged\n");
    int n = 0;
    for (int a = 0; a < AN_COUNT; a++) {
        if (st->anomalies[a] == 0)
            continue;
        fprintf(f, "%s%s=%llu", n++ ? " " : "  anomalies:      ", anomaly_name((enum anomaly)a),
                (unsigned long long)st->anomalies[a]);
    }
    for (int a = 0; a < EVA_COUNT; a++) {
        if (st->mail_anomalies[a] == 0)
            continue;
        fprintf(f, "%smail-%s=%llu",
                n++ ? " " : "  anomalies:      ", ev_anomaly_name((enum ev_anomaly)a),
                (unsigned long long)st->mail_anomalies[a]);
    }
    fprintf(f, n ? "\n" : "  anomalies:      none\n");
    if (live)
        fprintf(f, "  kernel:         %llu received, %llu dropped, %llu dropped by interface\n",
                (unsigned long long)st->kernel.recv, (unsigned long long)st->kernel.drop,
                (unsigned long long)st->kernel.ifdrop);
    const struct rule_match_stats *ms = &s->al.ms;
    if (s->al.engine != NULL)
        fprintf(f,
                "  alerts:         %llu written (%zu rules; %llu sessions judged, %llu passed, "
                "%llu alerts suppressed, %llu held back by thresholds)\n",
                (unsigned long long)s->al.written, ruleset_len(rule_engine_ruleset(s->al.engine)),
                (unsigned long long)ms->sessions, (unsigned long long)ms->passed,
                (unsigned long long)ms->suppressed, (unsigned long long)ms->thresholded);
    else
        fprintf(f, "  alerts:         none: --no-rules\n");
    if (ms->over_cap || ms->thr_evicted)
        fprintf(f,
                "  rule limits:    %llu alerts past %d per session, %llu threshold counters "
                "evicted\n",
                (unsigned long long)ms->over_cap, RULES_MAX_ALERTS_PER_SESSION,
                (unsigned long long)ms->thr_evicted);
    fprintf(f, "  records:        %llu written", s->out->written);
    if (s->out->failed)
        fprintf(f, ", %llu failed", s->out->failed);
    if (s->out->cut)
        fprintf(f, " (%llu after the reader closed %s)", s->out->cut, s->out->name);
    fprintf(f, "\n");
}

const char *anomaly_name(enum anomaly a)
{
    static const char *const names[] = {
#define X(id, name) name,
        ANOMALY_LIST(X)
#undef X
    };
    return (unsigned)a < AN_COUNT ? names[a] : "?";
}

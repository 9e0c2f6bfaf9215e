/*
 * sensor.h — one packet in, records out: decode → flow → classify →
 * reassembly → (dissectors) → records. Capture and the CLI sit outside.
 */
#ifndef POSTCARD_SENSOR_H
#define POSTCARD_SENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "detect/alerts.h"
#include "packet/classify.h"
#include "common.h"
#include "packet/decode.h"
#include "eve/eve.h"
#include "packet/flow.h"
#include "eve/json.h"
#include "output/output.h"
#include "packet/reasm.h"
#include "app/session.h"
#include "stats.h"
#include "eve/summary.h"
#include "app/tlssess.h"

struct sensor_opts {
    size_t max_flows;                    /* flow table cap */
    uint64_t reasm_max_bytes;            /* global cap on held out-of-order bytes */
    uint64_t hash_seed;                  /* per-run seed of the flow hash */
    bool tls_all_ports;                  /* analyse TLS on any port, not only mail ports */
    const char *ca_file;                 /* trust anchors (NULL: the system store) */
    bool no_flow_records;                /* do not write event_type "flow" */
    bool no_mail_records;                /* do not write event_type "mail" */
    bool no_tls_records;                 /* do not write event_type "tls" */
    unsigned stats_interval;             /* seconds between stats records (0: only at the end) */
    const char *summary_path;            /* --summary FILE: rewritten each interval, at the end */
    unsigned summary_interval;           /* seconds between summary records (0: none) */
    pc_time flow_timeout[FLOW_TC_COUNT]; /* --flow-timeout per class, µs (0: the default) */
};

#define SENSOR_MAX_APP_NAMES 64

struct app_count {
    char name[32];  /* app_proto */
    uint64_t flows; /* flows that ended with it */
};

struct sensor {
    struct sensor_opts opts;          /* as given */
    struct stats st;                  /* counters */
    struct decoder dec;               /* packet decoder (owns the defragmenter) */
    struct flow_table *ft;            /* flows */
    struct classifier *cl;            /* classification (nDPI inside) */
    struct reasm_pool pool;           /* out-of-order storage */
    struct output *out;               /* where records go (borrowed) */
    struct jbuf j;                    /* the record being built */
    pc_time now;                      /* the timers' clock (sensor_tick): never goes back */
    struct flow *cur;                 /* flow whose bytes are being delivered */
    struct reasm_consumer cons;       /* delivery callbacks */
    struct starttls_memory *starttls; /* servers seen offering STARTTLS */
    struct tls_ctx tls;               /* certificate cache and trust store */
    bool no_trust_store;              /* the system store could not be loaded: trust unknown */
    pc_time pkt_ts;                   /* time of the packet being handled */
    size_t n_apps;                    /* entries used in apps */
    struct app_count apps[SENSOR_MAX_APP_NAMES]; /* flows by app_proto */
    uint64_t flows_tcp, flows_udp;               /* flows by transport */
    struct alerting al;                          /* the rules and their alerts */
    struct eve_ctx eve;                          /* host, input, GeoIP: set by the caller */
    bool is_live;           /* reading an interface: timers on the wall clock, kernel counters */
    pc_time last_pkt;       /* latest packet time seen: a flow's last activity */
    pc_time first_ts;       /* time of the first packet; live: of the first tick (the start) */
    pc_time next_stats;     /* time of the next stats record (0: none yet) */
    struct summary *sum;    /* the run's numbers; NULL: not asked for */
    pc_time next_summary;   /* time of the next summary record (0: none yet) */
    struct err summary_err; /* why the last --summary FILE write failed ("": none) */
    bool is_summary_err_untold;     /* summary_err: a new run of failures, not told yet */
    pc_time next_push;              /* live: time of the next out->push */
    pc_time last_stats_ts;          /* time of the last stats record (0: none yet) */
    struct kcounts kern_at_record;  /* live: st.kernel when the last stats record was written */
    struct kcounts kern_interval;   /* live: what the last stats record counted (its _delta) */
    pc_time kern_interval_us;       /* live: the time that interval lasted */
    uint64_t rule_reloads;          /* rule sets taken on SIGHUP */
    uint64_t rule_reloads_rejected; /* rule sets refused on SIGHUP */
};

/* out is borrowed and must outlive the sensor. */
struct sensor *sensor_new(const struct sensor_opts *o, struct output *out, struct err *e);
void sensor_free(struct sensor *s);

/* One captured frame. Reading files, its time runs the timers (sensor_tick); live, only flows
 * past their timeout are ended, bounded per packet, as for files. */
void sensor_packet(struct sensor *s, int link, const uint8_t *p, size_t caplen, size_t wirelen,
                   pc_time ts);

/*
 * The clock: every timer at time now (never earlier than the last: s->now does not go back).
 * A stats record when --stats-interval is due, flows past their timeout ended, a summary record
 * when --summary-interval is due; live, the outputs pushed every OUTPUT_PUSH_US. Reading files
 * sensor_packet calls it with each packet's time; live the capture loop calls it with the wall
 * clock at least every CAPTURE_WAKE_MS, packets or not. Returns true when it wrote a stats
 * record (live: kern_interval is what that record counted).
 */
bool sensor_tick(struct sensor *s, pc_time now);

/* Will sensor_tick(s, now) write a stats record? (Live: read the kernel's counters first.) */
bool sensor_stats_due(const struct sensor *s, pc_time now);

/* Use rule set e from now on (NULL: no rules); returns the one used before, for the
 * caller to free. Flows in progress are kept; threshold counters too. */
struct rule_engine *sensor_set_rules(struct sensor *s, struct rule_engine *e);

/* A "stats" record (the counters) at time ts; live, the kernel's counters start a new interval. */
void sensor_stats_record(struct sensor *s, pc_time ts);

/* End of input: end every flow, the last summary record and --summary FILE, the last stats
 * record, and flush records. summary_err then says whether the file was written. 0, or -1
 * when the flush lost records (counted in out->failed). */
int sensor_finish(struct sensor *s);

/* Human-readable run summary (stderr at exit). */
void sensor_print_summary(const struct sensor *s, FILE *f, bool live);

#endif

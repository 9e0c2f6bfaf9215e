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
    size_t max_flows;         /* flow table cap */
    uint64_t reasm_max_bytes; /* global cap on held out-of-order bytes */
    uint64_t hash_seed;       /* per-run seed of the flow hash */
    bool tls_all_ports;       /* analyse TLS on any port, not only mail ports */
    const char *ca_file;      /* trust anchors (NULL: the system store) */
    bool no_flow_records;     /* do not write event_type "flow" */
    bool no_mail_records;     /* do not write event_type "mail" */
    bool no_tls_records;      /* do not write event_type "tls" */
    unsigned stats_interval; /* seconds of packet time between stats records (0: only at the end) */
    const char *summary_path;  /* --summary FILE, rewritten each interval and at the end */
    unsigned summary_interval; /* seconds of packet time between summary records (0: none) */
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
    pc_time now;                      /* latest packet time seen */
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
    bool is_live;                                /* reading an interface (stats: kernel counters) */
    pc_time first_ts;                            /* time of the first packet */
    pc_time next_stats;         /* packet time of the next stats record (0: none yet) */
    struct summary *sum;        /* the run's numbers; NULL: not asked for */
    pc_time next_summary;       /* packet time of the next summary record (0: none yet) */
    struct err summary_err;     /* why the last rewrite of --summary FILE failed; "": it did not */
    bool is_summary_err_untold; /* summary_err begins a run of failures main.c has not told */
    uint64_t rule_reloads;      /* rule sets taken on SIGHUP */
    uint64_t rule_reloads_rejected; /* rule sets refused on SIGHUP */
};

/* out is borrowed and must outlive the sensor. */
struct sensor *sensor_new(const struct sensor_opts *o, struct output *out, struct err *e);
void sensor_free(struct sensor *s);

/* One captured frame. */
void sensor_packet(struct sensor *s, int link, const uint8_t *p, size_t caplen, size_t wirelen,
                   pc_time ts);

/* Use rule set e from now on (NULL: no rules); returns the one used before, for the
 * caller to free. Flows in progress are kept; threshold counters too. */
struct rule_engine *sensor_set_rules(struct sensor *s, struct rule_engine *e);

/* A "stats" record (the counters) at packet time ts. */
void sensor_stats_record(struct sensor *s, pc_time ts);

/* End of input: end every flow, the last summary record and --summary FILE, the last stats
 * record, and flush records. summary_err then says whether the file was written. */
void sensor_finish(struct sensor *s);

/* Human-readable run summary (stderr at exit). */
void sensor_print_summary(const struct sensor *s, FILE *f, bool live);

#endif

/*
 * main.c — the command line, in tcpdump's habits:
 *
 *   postcard [options] -r FILE [-r FILE ...] [filter expression]
 *   postcard [options] -i IFACE [filter expression]
 *
 * Only this file prints errors and decides the exit status:
 *   0 all input read, 1 an input or output could not be used or ended
 *   badly (what was read is still reported), 2 usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "eve/anon.h"
#include "packet/capture.h"
#include "common.h"
#include "packet/decode.h"
#include "sensor-limits.h"
#include "output/output.h"
#include "engine.h"
#include "eve/geoip.h"
#include "output/out-redis.h"
#include "report/report.h"
#include "rules.h"
#include "sensor.h"

#define MAX_FILES 1024

/* Signal state: the one place that must be process-wide. */
static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t reload_requested;
static struct capture *volatile active_capture;

#ifndef POSTCARD_RULES_DIR
#define POSTCARD_RULES_DIR "/usr/local/share/postcard/rules"
#endif

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
    if (active_capture != NULL)
        capture_break(active_capture);
}

static void on_hup(int sig)
{
    (void)sig;
    reload_requested = 1;
}

struct progress;

struct run {
    struct sensor *s;       /* the sensor */
    struct progress *pg;    /* the progress line, cleared before a message */
    int link;               /* link type of the current capture */
    const char *rules_path; /* -R, or the default rules directory */
    const char *config;     /* --config, or NULL */
};

/*
 * Load the rules at path with the variables of config (NULL: none) into an
 * engine. Every problem goes to diag. NULL when there was any error.
 */
static struct rule_engine *load_rules(const char *path, const char *config, struct rule_diag *diag)
{
    struct rule_vars *vars = rule_vars_new();
    int rc = 0;
    if (config != NULL && rule_vars_load(vars, config, diag) != 0)
        rc = -1;
    struct ruleset *rs = ruleset_new();
    if (rc == 0 && rules_load_path(rs, path, vars, diag) != 0)
        rc = -1;
    rule_vars_free(vars);
    if (rc != 0) {
        ruleset_free(rs);
        return NULL;
    }
    return rule_engine_new(rs);
}

/* SIGHUP: load the rules again; a set with any error is refused and the old one stays. */
static void reload_rules(struct run *r)
{
    struct rule_diag diag;
    rule_diag_init(&diag);
    struct rule_engine *e = load_rules(r->rules_path, r->config, &diag);
    const struct rule_engine *cur = r->s->al.engine;
    size_t n_cur = cur != NULL ? ruleset_len(rule_engine_ruleset(cur)) : 0;
    if (e == NULL) {
        fprintf(stderr,
                "postcard: rules reload from %s rejected (%u error(s)), keeping the %zu rules in "
                "use:\n%s",
                r->rules_path, diag.errors, n_cur, rule_diag_text(&diag));
        r->s->rule_reloads_rejected++;
    } else {
        const struct ruleset *rs = rule_engine_ruleset(e);
        fprintf(
            stderr,
            "postcard: rules reloaded from %s: %zu rules, %zu suppress lines (were %zu rules)\n%s",
            r->rules_path, ruleset_len(rs), ruleset_suppress_len(rs), n_cur, rule_diag_text(&diag));
        rule_engine_free(sensor_set_rules(r->s, e));
        r->s->rule_reloads++;
    }
    rule_diag_free(&diag);
}

/* SIGHUP: the rules, and the output files (logrotate moved them away). */
static void on_sighup(struct run *r)
{
    reload_requested = 0;
    reload_rules(r);
    struct err e = {""};
    struct output *out = r->s->out;
    if (out->reopen != NULL && out->reopen(out, &e) != 0)
        fprintf(stderr, "postcard: %s\n", e.msg);
}

static void progress_clear(struct progress *pg);

static void on_packet(void *ctx, const uint8_t *p, size_t caplen, size_t wirelen, pc_time ts)
{
    struct run *r = ctx;
    if (reload_requested) { /* before this packet: a reload never waits for a batch's end */
        progress_clear(r->pg);
        on_sighup(r);
    }
    sensor_packet(r->s, r->link, p, caplen, wirelen, ts);
}

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: postcard [options] -r FILE [-r FILE ...] [filter expression]\n"
        "       postcard [options] -i IFACE [filter expression]\n"
        "       postcard report [-o DIR] SUMMARY.json...   (docs/report.md)\n"
        "\n"
        "Finds mail sent as a postcard: cleartext mail logins and messages, failed or\n"
        "stripped STARTTLS, weak TLS on SMTP, POP3 and IMAP. Writes JSON lines.\n"
        "\n"
        "input:\n"
        "  -r FILE              read a pcap or pcapng file (repeatable; - for stdin)\n"
        "  -i IFACE             capture live from an interface\n"
        "  -s SNAPLEN           live: bytes kept per packet (default %d)\n"
        "  -B KIB               live: kernel buffer size in KiB (default %d)\n"
        "  -p                   live: do not put the interface in promiscuous mode\n"
        "  --immediate-mode     live: deliver packets as they arrive\n"
        "  filter expression    a BPF filter, as for tcpdump (e.g. 'tcp port 25')\n"
        "\n"
        "output:\n"
        "  -w FILE              append JSON lines to FILE (default: stdout; reopened on SIGHUP)\n"
        "  --sensor-id NAME     the \"host\" of every record (default: the host name)\n"
        "  --stats-interval S   a \"stats\" record every S s of packet time (default: 60 live,\n"
        "                       files: one at the end)\n"
        "  --geoip FILE         MaxMind Country or City database: src_geo/dest_geo\n"
        "  --asn FILE           MaxMind ASN database: the AS of those addresses\n"
        "  --redis URL          also to Redis: redis://[user:password@]host[:port][/db] or\n"
        "                       unix:///path (docs/redis.md); --redis-mode stream|list|channel,\n"
        "                       --redis-key, --redis-events (alert,stats,summary), --redis-push,\n"
        "                       --redis-maxlen, --redis-queue, --redis-spool DIR,\n"
        "                       --redis-spool-max MIB, --redis-timeout MS"
        "  --no-flow-records    do not write event_type \"flow\" records\n"
        "  --no-session-records do not write event_type \"mail\" and \"tls\" records\n"
        "                       (alerts carry the session's facts all the same)\n"
        "  --summary FILE       write the run's numbers (docs/summary.md) to FILE at the end\n"
        "  --summary-interval S also a \"summary\" record every S seconds of packet time\n"
        "\n"
        "analysis:\n"
        "  --max-flows N        flows tracked at once (default %d)\n"
        "  --reasm-memory MIB   bytes held for TCP reassembly, all flows (default %lld)\n"
        "  --tls-all-ports      analyse TLS on any port, not only mail ports\n"
        "  --ca-file FILE       trust anchors for certificate checks (PEM; default: the\n"
        "                       system store /etc/ssl/certs/ca-certificates.crt)\n"
        "\n"
        "sharing (docs/anonymize.md):\n"
        "  --anonymize KEYFILE  addresses as prefix-preserving pseudonyms (Crypto-PAn), the\n"
        "                       names of people and hosts left out; KEYFILE: 32 bytes\n"
        "  --anonymize-users drop|hash  user names and mail addresses: left out (default)\n"
        "                       or replaced by a keyed hash\n"
        "  --anonymize-keygen FILE  write a new key file (mode 0600) and exit\n"
        "\n"
        "rules:\n"
        "  --check-rules        check the rules of -R and exit (file:line:col: message)\n"
        "  -R PATH              a rule file, or a directory of *.rules (default:\n"
        "                       %s)\n"
        "  --config FILE        variables for the rules (NAME = value lines)\n"
        "  SIGHUP               reload -R and --config; a set with errors is refused\n"
        "\n"
        "other:\n"
        "  -q                   quiet: no progress, no summary\n"
        "  -h, --help           this help\n"
        "  --version            version and library versions\n",
        SNAPLEN_DEFAULT, PCAP_BUFSIZE_DEFAULT / 1024, FLOW_MAX_DEFAULT,
        REASM_GLOBAL_MAX_BYTES_DEFAULT / (1024 * 1024), POSTCARD_RULES_DIR);
}

static int parse_num(const char *opt, const char *s, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
        fprintf(stderr, "postcard: %s: expected a number from %lld to %lld, got \"%s\"\n", opt, lo,
                hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

/* The trailing arguments form one BPF expression, as with tcpdump. */
static char *join_filter(int argc, char **argv)
{
    size_t n = 1;
    for (int i = 0; i < argc; i++)
        n += strlen(argv[i]) + 1;
    char *f = xmalloc(n);
    size_t at = 0;
    for (int i = 0; i < argc; i++) {
        size_t k = strlen(argv[i]);
        if (i)
            f[at++] = ' ';
        memcpy(f + at, argv[i], k);
        at += k;
    }
    f[at] = '\0';
    return f;
}

static double mono_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

struct progress {
    bool on;      /* stderr is a terminal and not -q */
    double start; /* wall clock at start of this file */
    double last;  /* last update */
    bool shown;   /* a line is on screen */
};

static void progress_show(struct progress *pg, struct capture *c, uint64_t pkts, bool force)
{
    if (!pg->on)
        return;
    double now = mono_now();
    if (!force && now - pg->last < 0.5)
        return;
    pg->last = now;
    double el = now - pg->start;
    double rate = el > 0 ? (double)pkts / el : 0;
    int64_t pos = capture_file_pos(c), size = capture_file_size(c);
    if (pos >= 0 && size > 0)
        fprintf(stderr, "\r%s: %.1f of %.1f MiB (%d%%), %.0f packets/s   ", capture_name(c),
                (double)pos / 1048576.0, (double)size / 1048576.0,
                (int)(100.0 * (double)pos / (double)size), rate);
    else
        fprintf(stderr, "\r%s: %" PRIu64 " packets, %.0f packets/s   ", capture_name(c), pkts,
                rate);
    pg->shown = true;
}

static void progress_clear(struct progress *pg)
{
    if (pg->on && pg->shown)
        fprintf(stderr, "\r\033[K");
    pg->shown = false;
}

/* Read one capture to its end. Returns 0, or -1 after printing why. */
static int run_capture(struct run *r, struct capture *c, struct progress *pg)
{
    struct err e = {""};
    int link = capture_link(c);
    if (!decode_link_supported(link)) {
        fprintf(stderr, "postcard: %s: unsupported link type %d (%s)\n", capture_name(c), link,
                capture_link_name(link));
        return -1;
    }
    r->link = link;
    active_capture = c;
    pg->start = mono_now();
    pg->last = 0;
    uint64_t pkts0 = r->s->st.packets;
    int rc = 0;
    while (!stop_requested) {
        int n = capture_next_batch(c, on_packet, r, &e);
        if (n == -1 && stop_requested) /* a signal interrupted a blocking read */
            break;
        if (n == -1) {
            progress_clear(pg);
            if (strstr(e.msg, "truncated") != NULL)
                stats_anomaly(&r->s->st, AN_CAPTURE_TRUNCATED);
            fprintf(stderr, "postcard: %s\n", e.msg);
            rc = -1;
            break;
        }
        if (n == -2)
            break;
        if (n == 0 && !capture_is_live(c))
            break;
        if (reload_requested) {
            progress_clear(pg);
            on_sighup(r);
        }
        progress_show(pg, c, r->s->st.packets - pkts0, false);
    }
    progress_clear(pg);
    if (capture_is_live(c)) {
        if (stop_requested) /* what was captured before the stop is analysed too */
            capture_drain(c, on_packet, r, CAPTURE_DRAIN_MAX);
        uint64_t rv, dr, ifd;
        if (capture_stats(c, &rv, &dr, &ifd) == 0) {
            r->s->st.kernel_recv += rv;
            r->s->st.kernel_drop += dr;
            r->s->st.iface_drop += ifd;
        }
    }
    active_capture = NULL;
    return rc;
}

enum {
    OPT_VERSION = 1000,
    OPT_IMMEDIATE,
    OPT_MAX_FLOWS,
    OPT_REASM_MEM,
    OPT_TLS_ALL,
    OPT_NO_FLOWS,
    OPT_NO_SESSIONS,
    OPT_CA_FILE,
    OPT_CHECK_RULES,
    OPT_CONFIG,
    OPT_SENSOR_ID,
    OPT_STATS_INTERVAL,
    OPT_GEOIP,
    OPT_ASN,
    OPT_ANONYMIZE,
    OPT_ANONYMIZE_USERS,
    OPT_ANONYMIZE_KEYGEN,
    OPT_REDIS,
    OPT_REDIS_MODE,
    OPT_REDIS_KEY,
    OPT_REDIS_PUSH,
    OPT_REDIS_MAXLEN,
    OPT_REDIS_EVENTS,
    OPT_REDIS_SPOOL,
    OPT_REDIS_SPOOL_MAX,
    OPT_REDIS_QUEUE,
    OPT_REDIS_TIMEOUT,
    OPT_SUMMARY,
    OPT_SUMMARY_INTERVAL,
};

/* What the command line asked for beyond the sensor's own options. */
struct cli {
    const char *wfile;       /* -w, NULL: stdout */
    const char *sensor_id;   /* --sensor-id, NULL: the host name */
    const char *geoip;       /* --geoip */
    const char *asn;         /* --asn */
    const char *anon_key;    /* --anonymize KEYFILE, NULL: none */
    const char *anon_users;  /* --anonymize-users, NULL: drop */
    const char *anon_keygen; /* --anonymize-keygen FILE */
    const char *redis_url;   /* --redis, NULL: no Redis */
    const char *redis_key;   /* --redis-key, NULL: the default for the mode */
    struct redis_opts ro;    /* the other --redis-* settings */
    long stats_interval;     /* --stats-interval, -1: the default */
    const char *summary;     /* --summary FILE, NULL: none */
};

/* The Redis options (returns 1 when ch was one, -1 on a bad value, 0 when not one). */
static int redis_option(struct cli *c, int ch, const char *arg)
{
    long long v;
    switch (ch) {
    case OPT_REDIS:
        c->redis_url = arg;
        return 1;
    case OPT_REDIS_MODE:
        if (strcmp(arg, "stream") == 0)
            c->ro.mode = REDIS_STREAM;
        else if (strcmp(arg, "list") == 0)
            c->ro.mode = REDIS_LIST;
        else if (strcmp(arg, "channel") == 0)
            c->ro.mode = REDIS_CHANNEL;
        else {
            fprintf(stderr, "postcard: --redis-mode: stream, list or channel, not \"%s\"\n", arg);
            return -1;
        }
        return 1;
    case OPT_REDIS_KEY:
        c->redis_key = arg;
        return 1;
    case OPT_REDIS_PUSH:
        if (strcmp(arg, "lpush") != 0 && strcmp(arg, "rpush") != 0) {
            fprintf(stderr, "postcard: --redis-push: lpush or rpush, not \"%s\"\n", arg);
            return -1;
        }
        c->ro.rpush = strcmp(arg, "rpush") == 0;
        return 1;
    case OPT_REDIS_MAXLEN:
        if (parse_num("--redis-maxlen", arg, 0, INT64_MAX, &v) != 0)
            return -1;
        c->ro.maxlen = (uint64_t)v;
        return 1;
    case OPT_REDIS_EVENTS:
        c->ro.types = rec_types_parse(arg);
        if (c->ro.types == 0) {
            fprintf(stderr,
                    "postcard: --redis-events: a list of alert, mail, tls, flow, stats, "
                    "summary or all, not \"%s\"\n",
                    arg);
            return -1;
        }
        return 1;
    case OPT_REDIS_SPOOL:
        c->ro.spool_dir = arg;
        return 1;
    case OPT_REDIS_SPOOL_MAX:
        if (parse_num("--redis-spool-max", arg, 1, 1 << 20, &v) != 0)
            return -1;
        c->ro.spool_max_bytes = (uint64_t)v * 1024 * 1024;
        return 1;
    case OPT_REDIS_QUEUE:
        if (parse_num("--redis-queue", arg, 1, 100000000, &v) != 0)
            return -1;
        c->ro.queue_records = (size_t)v;
        return 1;
    case OPT_REDIS_TIMEOUT:
        if (parse_num("--redis-timeout", arg, 10, 600000, &v) != 0)
            return -1;
        c->ro.timeout_ms = (int)v;
        return 1;
    default:
        return 0;
    }
}

/* stdout or -w FILE, and Redis when asked, behind one tee. NULL after printing why. */
static struct output *open_outputs(struct cli *c, const char *sensor_id)
{
    static char key[300];
    struct err e = {""};
    struct output *outs[2];
    size_t n = 0;
    outs[n] = out_file_open(c->wfile, &e);
    if (outs[n] == NULL) {
        fprintf(stderr, "postcard: %s\n", e.msg);
        return NULL;
    }
    n++;
    if (c->redis_url != NULL) {
        c->ro.url = c->redis_url;
        if (c->redis_key != NULL) {
            c->ro.key = c->redis_key;
        } else if (c->ro.mode == REDIS_STREAM) { /* one stream per sensor: docs/redis.md */
            snprintf(key, sizeof key, "postcard:events:%s", sensor_id);
            c->ro.key = key;
        } else {
            c->ro.key = "postcard:events";
        }
        outs[n] = out_redis_open(&c->ro, &e);
        if (outs[n] == NULL) {
            fprintf(stderr, "postcard: %s\n", e.msg);
            struct err ce = {""};
            outs[0]->close(outs[0], &ce);
            return NULL;
        }
        n++;
    }
    return out_tee_new(outs, n);
}

/*
 * postcard --check-rules -R PATH [--config FILE]: load the rules, print every
 * problem as file:line:col: message, then a summary if there was no error.
 * Exit 0 when the rules load without error, 1 otherwise.
 */
static int check_rules(const char *path, const char *config)
{
    struct rule_vars *vars = rule_vars_new();
    struct rule_diag diag;
    rule_diag_init(&diag);
    int rc = 0;
    if (config != NULL && rule_vars_load(vars, config, &diag) != 0)
        rc = 1;
    struct ruleset *rs = ruleset_new();
    if (rules_load_path(rs, path, vars, &diag) != 0)
        rc = 1;
    if (rule_diag_text(&diag) != NULL)
        fputs(rule_diag_text(&diag), stderr);
    if (rc == 0)
        ruleset_summary(rs, stdout);
    else
        fprintf(stderr, "postcard: %s: %u error(s), %u warning(s)\n", path, diag.errors,
                diag.warnings);
    ruleset_free(rs);
    rule_diag_free(&diag);
    rule_vars_free(vars);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "report") == 0) /* postcard report ...: report.c */
        return report_main(argc - 1, argv + 1);
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, OPT_VERSION},
        {"immediate-mode", no_argument, NULL, OPT_IMMEDIATE},
        {"max-flows", required_argument, NULL, OPT_MAX_FLOWS},
        {"reasm-memory", required_argument, NULL, OPT_REASM_MEM},
        {"tls-all-ports", no_argument, NULL, OPT_TLS_ALL},
        {"no-flow-records", no_argument, NULL, OPT_NO_FLOWS},
        {"no-session-records", no_argument, NULL, OPT_NO_SESSIONS},
        {"ca-file", required_argument, NULL, OPT_CA_FILE},
        {"check-rules", no_argument, NULL, OPT_CHECK_RULES},
        {"config", required_argument, NULL, OPT_CONFIG},
        {"sensor-id", required_argument, NULL, OPT_SENSOR_ID},
        {"stats-interval", required_argument, NULL, OPT_STATS_INTERVAL},
        {"geoip", required_argument, NULL, OPT_GEOIP},
        {"asn", required_argument, NULL, OPT_ASN},
        {"anonymize", required_argument, NULL, OPT_ANONYMIZE},
        {"anonymize-users", required_argument, NULL, OPT_ANONYMIZE_USERS},
        {"anonymize-keygen", required_argument, NULL, OPT_ANONYMIZE_KEYGEN},
        {"redis", required_argument, NULL, OPT_REDIS},
        {"redis-mode", required_argument, NULL, OPT_REDIS_MODE},
        {"redis-key", required_argument, NULL, OPT_REDIS_KEY},
        {"redis-push", required_argument, NULL, OPT_REDIS_PUSH},
        {"redis-maxlen", required_argument, NULL, OPT_REDIS_MAXLEN},
        {"redis-events", required_argument, NULL, OPT_REDIS_EVENTS},
        {"redis-spool", required_argument, NULL, OPT_REDIS_SPOOL},
        {"redis-spool-max", required_argument, NULL, OPT_REDIS_SPOOL_MAX},
        {"redis-queue", required_argument, NULL, OPT_REDIS_QUEUE},
        {"redis-timeout", required_argument, NULL, OPT_REDIS_TIMEOUT},
        {"summary", required_argument, NULL, OPT_SUMMARY},
        {"summary-interval", required_argument, NULL, OPT_SUMMARY_INTERVAL},
        {NULL, 0, NULL, 0},
    };
    const char *files[MAX_FILES];
    int n_files = 0;
    const char *iface = NULL, *rules_path = NULL, *config = NULL;
    struct cli cli = {0};
    cli.stats_interval = -1;
    redis_opts_default(&cli.ro);
    bool do_check_rules = false;
    bool quiet = false;
    struct live_opts lo = {SNAPLEN_DEFAULT, PCAP_BUFSIZE_DEFAULT, true, false};
    struct sensor_opts so = {0};
    long long v;
    int ch;
    while ((ch = getopt_long(argc, argv, "+r:i:w:s:B:R:pqh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'r':
            if (n_files == MAX_FILES) {
                fprintf(stderr, "postcard: at most %d -r files\n", MAX_FILES);
                return 2;
            }
            files[n_files++] = optarg;
            break;
        case 'i':
            iface = optarg;
            break;
        case 'w':
            cli.wfile = optarg;
            break;
        case 's':
            if (parse_num("-s", optarg, 64, 262144, &v) != 0)
                return 2;
            lo.snaplen = (int)v;
            break;
        case 'B':
            if (parse_num("-B", optarg, 64, 4 * 1024 * 1024, &v) != 0)
                return 2;
            lo.buffer_bytes = (int)(v * 1024);
            break;
        case 'p':
            lo.promisc = false;
            break;
        case 'q':
            quiet = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case OPT_VERSION:
            printf("postcard %s\n", POSTCARD_VERSION);
            return 0;
        case OPT_IMMEDIATE:
            lo.immediate = true;
            break;
        case OPT_MAX_FLOWS:
            if (parse_num("--max-flows", optarg, 1, FLOW_MAX_LIMIT, &v) != 0)
                return 2;
            so.max_flows = (size_t)v;
            break;
        case OPT_REASM_MEM:
            if (parse_num("--reasm-memory", optarg, 1, 65536, &v) != 0)
                return 2;
            so.reasm_max_bytes = (uint64_t)v * 1024 * 1024;
            break;
        case OPT_TLS_ALL:
            so.tls_all_ports = true;
            break;
        case OPT_NO_FLOWS:
            so.no_flow_records = true;
            break;
        case OPT_NO_SESSIONS:
            so.no_mail_records = true;
            so.no_tls_records = true;
            break;
        case OPT_CA_FILE:
            so.ca_file = optarg;
            break;
        case 'R':
            rules_path = optarg;
            break;
        case OPT_CHECK_RULES:
            do_check_rules = true;
            break;
        case OPT_CONFIG:
            config = optarg;
            break;
        case OPT_SENSOR_ID:
            if (optarg[0] == '\0' || strlen(optarg) > 255) {
                fprintf(stderr, "postcard: --sensor-id: 1 to 255 bytes\n");
                return 2;
            }
            cli.sensor_id = optarg;
            break;
        case OPT_STATS_INTERVAL:
            if (parse_num("--stats-interval", optarg, 0, 86400, &v) != 0)
                return 2;
            cli.stats_interval = (long)v;
            break;
        case OPT_GEOIP:
            cli.geoip = optarg;
            break;
        case OPT_ASN:
            cli.asn = optarg;
            break;
        case OPT_ANONYMIZE:
            cli.anon_key = optarg;
            break;
        case OPT_ANONYMIZE_USERS:
            if (strcmp(optarg, "drop") != 0 && strcmp(optarg, "hash") != 0) {
                fprintf(stderr, "postcard: --anonymize-users: drop or hash, not \"%s\"\n", optarg);
                return 2;
            }
            cli.anon_users = optarg;
            break;
        case OPT_ANONYMIZE_KEYGEN:
            cli.anon_keygen = optarg;
            break;
        case OPT_SUMMARY:
            cli.summary = optarg;
            so.summary = true;
            break;
        case OPT_SUMMARY_INTERVAL:
            if (parse_num("--summary-interval", optarg, 1, 86400 * 366, &v) != 0)
                return 2;
            so.summary_interval = (unsigned)v;
            break;
        default: {
            int r = redis_option(&cli, ch, optarg);
            if (r == 1)
                break;
            if (r == 0)
                usage(stderr);
            return 2;
        }
        }
    }
    if (do_check_rules) {
        if (rules_path == NULL) {
            fprintf(stderr, "postcard: --check-rules needs -R PATH (a file or a directory)\n");
            return 2;
        }
        return check_rules(rules_path, config);
    }
    if (cli.anon_keygen != NULL) { /* postcard --anonymize-keygen FILE */
        struct err ke = {""};
        if (anon_keygen(cli.anon_keygen, &ke) != 0) {
            fprintf(stderr, "postcard: %s\n", ke.msg);
            return 1;
        }
        if (!quiet)
            fprintf(stderr,
                    "postcard: new key in %s: keep it secret, give it only to the sensors "
                    "whose reports are to merge\n",
                    cli.anon_keygen);
        return 0;
    }
    if (cli.anon_users != NULL && cli.anon_key == NULL) {
        fprintf(stderr, "postcard: --anonymize-users needs --anonymize KEYFILE\n");
        return 2;
    }
    if ((n_files == 0) == (iface == NULL)) {
        fprintf(stderr, "postcard: give either -r FILE or -i IFACE (see --help)\n");
        return 2;
    }
    if (cli.summary != NULL) { /* found out now, not after hours of capture */
        struct err se = {""};
        if (summary_check_path(cli.summary, &se) != 0) {
            fprintf(stderr, "postcard: %s\n", se.msg);
            return 1;
        }
    }
    /* Signals before anything slow: a SIGHUP or SIGTERM sent early is not fatal. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_hup;
    sa.sa_flags = SA_RESTART; /* a blocking read goes on; the reload comes before the next packet */
    sigaction(SIGHUP, &sa, NULL);

    /* The rules first: a sensor with a broken rule set would watch for nothing. */
    struct rule_engine *engine = NULL;
    const char *rpath = rules_path != NULL ? rules_path : POSTCARD_RULES_DIR;
    if (rules_path == NULL && access(rpath, F_OK) != 0) {
        fprintf(stderr, "postcard: warning: no rules at %s: no alerts (give -R PATH)\n", rpath);
    } else {
        struct rule_diag diag;
        rule_diag_init(&diag);
        engine = load_rules(rpath, config, &diag);
        fputs(rule_diag_text(&diag), stderr);
        if (engine == NULL) {
            fprintf(stderr,
                    "postcard: %s: %u error(s) in the rules: not started (check them "
                    "with --check-rules)\n",
                    rpath, diag.errors);
            rule_diag_free(&diag);
            return 1;
        }
        rule_diag_free(&diag);
    }
    char *filter = join_filter(argc - optind, argv + optind);

    struct err e = {""};
    struct geoip *geo = NULL;
    if (cli.geoip != NULL || cli.asn != NULL) {
        geo = geoip_open(cli.geoip, cli.asn, &e);
        if (geo == NULL) {
            fprintf(stderr, "postcard: %s\n", e.msg);
            rule_engine_free(engine);
            free(filter);
            return 1;
        }
    }
    struct anon *an = NULL; /* GeoIP still reads the real addresses (docs/anonymize.md) */
    if (cli.anon_key != NULL) {
        enum anon_users how = cli.anon_users != NULL && strcmp(cli.anon_users, "hash") == 0
                                  ? ANON_USERS_HASH
                                  : ANON_USERS_DROP;
        if ((an = anon_open(cli.anon_key, how, &e)) == NULL) {
            fprintf(stderr, "postcard: %s\n", e.msg);
            geoip_free(geo);
            rule_engine_free(engine);
            free(filter);
            return 1;
        }
    }
    char host[256] = "";
    if (cli.sensor_id == NULL && gethostname(host, sizeof host - 1) != 0)
        snprintf(host, sizeof host, "postcard");
    const char *sensor_id = cli.sensor_id != NULL ? cli.sensor_id : host;
    if (getrandom(&so.hash_seed, sizeof so.hash_seed, 0) != (ssize_t)sizeof so.hash_seed)
        so.hash_seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    so.stats_interval = cli.stats_interval >= 0 ? (unsigned)cli.stats_interval
                                                : (iface != NULL ? STATS_INTERVAL_LIVE : 0);
    struct output *out = open_outputs(&cli, sensor_id);
    if (out == NULL) {
        anon_free(an);
        geoip_free(geo);
        rule_engine_free(engine);
        free(filter);
        return 1;
    }
    struct sensor *s = sensor_new(&so, out, &e);
    if (s == NULL) {
        fprintf(stderr, "postcard: %s\n", e.msg);
        struct err ce = {""};
        out->close(out, &ce);
        anon_free(an);
        geoip_free(geo);
        rule_engine_free(engine);
        free(filter);
        return 1;
    }
    sensor_set_rules(s, engine);
    s->eve.host = sensor_id;
    s->eve.geo = geo;
    s->eve.anon = an;
    s->eve.src_key = iface != NULL ? "in_iface" : "pcap_filename";
    s->eve.src_val = iface;
    s->is_live = iface != NULL;

    struct progress pg = {!quiet && isatty(2) && iface == NULL, 0, 0, false};
    struct run r = {s, &pg, 0, rpath, config};
    int status = 0;
    if (iface != NULL) {
        struct capture *c = capture_open_live(iface, &lo, filter, &e);
        if (c == NULL) {
            fprintf(stderr, "postcard: %s\n", e.msg);
            status = 1;
        } else {
            if (capture_warning(c) != NULL)
                fprintf(stderr, "postcard: warning: %s\n", capture_warning(c));
            if (!quiet)
                fprintf(stderr, "postcard: listening on %s, link type %s\n", iface,
                        capture_link_name(capture_link(c)));
            if (run_capture(&r, c, &pg) != 0)
                status = 1;
            capture_close(c);
        }
    } else {
        for (int i = 0; i < n_files && !stop_requested; i++) {
            struct capture *c = capture_open_file(files[i], filter, &e);
            if (c == NULL) {
                fprintf(stderr, "postcard: %s\n", e.msg);
                status = 1;
                continue;
            }
            s->eve.src_val = strcmp(files[i], "-") == 0 ? "stdin" : files[i];
            if (run_capture(&r, c, &pg) != 0)
                status = 1;
            capture_close(c);
        }
    }
    if (reload_requested)
        on_sighup(&r);
    sensor_finish(s);
    if (cli.summary != NULL && summary_write_file(s->sum, &s->eve, cli.summary, &e) != 0) {
        fprintf(stderr, "postcard: %s\n", e.msg);
        status = 1;
    }
    if (!quiet) {
        sensor_print_summary(s, stderr, iface != NULL);
        if (out->summary != NULL) /* the Redis writer's figures, after it drained what it could */
            out->summary(out, stderr);
    }
    if (out->failed) {
        fprintf(stderr, "postcard: %s: %llu records could not be written\n", out->name,
                out->failed);
        status = 1;
    }
    sensor_free(s);
    struct err ce = {""};
    if (out->close(out, &ce) != 0)
        status = 1;
    if (ce.msg[0] != '\0')
        fprintf(stderr, "postcard: %s\n", ce.msg);
    anon_free(an);
    geoip_free(geo);
    free(filter);
    return status;
}

/*
 * main.c — runs what the command line (cli.c) asks for:
 *
 *   postcard [options] -r FILE [-r FILE ...] [filter expression]
 *   postcard [options] -i IFACE [filter expression]
 *   postcard --check-rules -R PATH | --anonymize-keygen FILE | report ...
 *
 * A run: rules, GeoIP, pseudonyms, outputs, the sensor, then every input in
 * turn; whatever was opened is released in one place, at the end of main.
 *
 * The clock: reading files, the packets' own times run the sensor's timers.
 * Live, the capture loop wakes at least every CAPTURE_WAKE_MS, packets or not,
 * reads the kernel's counters (pcap_stats) at least every second, and ticks
 * the sensor with the wall clock: stats records, flow timeouts, summary
 * records and output pushes happen on time on a quiet link too.
 *
 * Only this file prints errors (cli.c: usage errors) and decides the exit
 * status: 0 all input read, 1 an input or output could not be used or ended
 * badly (what was read is still reported), 2 usage error (a bad filter too),
 * 3 stdout was closed by its reader (`postcard ... | head`): the input was read
 * no further, the run ended cleanly (docs/cli.md says why not 141). A run that
 * opened no input at all writes no record and prints no summary.
 *
 * Output problems are said when they happen, not at exit: after every packet
 * (and every live tick) the outputs' news is printed, and a closed stdout
 * stops the capture after that packet. SIGPIPE is ignored from the start, so a
 * closed stdout is an EPIPE the file output sees, never a death.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
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

/* Signal state: the one place that must be process-wide. */
static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t reload_requested;
static struct capture *volatile active_capture;

/* Exit status: stdout was closed by its reader; the run ended cleanly (docs/cli.md). */
#define EXIT_CUT 3

/* The worse of two exit statuses: a failure (1) before a cut stdout (EXIT_CUT) before 0. */
static int worse(int a, int b)
{
    if (a == 1 || b == 1)
        return 1;
    return a != 0 ? a : b;
}

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
    struct sensor *s;         /* the sensor */
    struct progress *pg;      /* the progress line, cleared before a message */
    int link;                 /* link type of the current capture */
    const char *rules_path;   /* -R, or the default rules directory; NULL: --no-rules */
    const char *config;       /* --config, or NULL */
    bool has_input;           /* an input was opened: there is a run to report */
    double drop_warn;         /* --drop-warn: % of an interval's packets dropped that is said */
    pc_time next_kernel_read; /* live: wall clock of the next pcap_stats reading */
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
    if (r->rules_path == NULL) /* --no-rules */
        return;
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

/* A rewrite of --summary FILE failed: said at once, the first of a run of failures only. */
static void tell_summary_failure(struct run *r)
{
    if (!r->s->is_summary_err_untold)
        return;
    progress_clear(r->pg);
    fprintf(stderr, "postcard: %s (tried again at each --summary-interval)\n",
            r->s->summary_err.msg);
    r->s->is_summary_err_untold = false;
}

/*
 * The outputs' news, said at once: writing started to fail, works again (one line each, not
 * one per record), stdout closed by its reader, which also stops the capture after the
 * packet being handled: nothing more can be written there.
 */
static void tell_output_news(struct run *r)
{
    struct output *out = r->s->out;
    struct err e = {""};
    while (out->has_news && out->news != NULL && out->news(out, &e)) {
        progress_clear(r->pg);
        fprintf(stderr, "postcard: %s\n", e.msg);
    }
    if (out->is_gone && active_capture != NULL)
        capture_break(active_capture);
}

/* Is the reading to stop: SIGINT or SIGTERM, or stdout closed by its reader? */
static bool is_stopping(const struct run *r)
{
    return stop_requested || r->s->out->is_gone;
}

static void on_packet(void *ctx, const uint8_t *p, size_t caplen, size_t wirelen, pc_time ts)
{
    struct run *r = ctx;
    if (reload_requested) { /* before this packet: a reload never waits for a batch's end */
        progress_clear(r->pg);
        on_sighup(r);
    }
    sensor_packet(r->s, r->link, p, caplen, wirelen, ts);
    tell_summary_failure(r); /* before the next read, which may wait for long */
    if (r->s->out->has_news | r->s->out->is_gone) /* one test per packet */
        tell_output_news(r);
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

/* Live: the kernel's counters as they are now, into the run's totals. */
static void read_kernel_counters(struct run *r, struct capture *c)
{
    struct kcounts raw;
    if (capture_stats(c, &raw.recv, &raw.drop, &raw.ifdrop) == 0)
        stats_kernel_sample(&r->s->st, &raw);
}

/* After a stats record: a warning when the kernel dropped more than --drop-warn of the
 * packets of the interval it counted. */
static void drop_warning(struct run *r)
{
    const struct sensor *s = r->s;
    const struct kcounts *d = &s->kern_interval;
    if (!kcounts_drops_over(d, r->drop_warn))
        return;
    progress_clear(r->pg);
    fprintf(stderr,
            "postcard: warning: %s: the kernel dropped %llu of %llu packets (%.2f%%) in the "
            "last %.1f s (over --drop-warn %g%%)\n",
            s->eve.src_val, (unsigned long long)d->drop, (unsigned long long)d->recv,
            100.0 * share_of(d->drop, d->recv), (double)s->kern_interval_us / 1e6, r->drop_warn);
}

/* Live: the clock ticks, with the kernel's counters read first when they are due. */
static void live_tick(struct run *r, struct capture *c)
{
    pc_time now = time_now();
    if (now >= r->next_kernel_read || sensor_stats_due(r->s, now)) {
        read_kernel_counters(r, c);
        r->next_kernel_read = now + KERNEL_STATS_READ_US;
    }
    if (sensor_tick(r->s, now))
        drop_warning(r);
    tell_summary_failure(r); /* the tick writes --summary FILE live */
    tell_output_news(r);     /* and pushes the outputs */
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
    r->has_input = true;
    active_capture = c;
    pg->start = mono_now();
    pg->last = 0;
    uint64_t pkts0 = r->s->st.packets;
    int rc = 0;
    bool is_live = capture_is_live(c);
    if (is_live) /* the run's time starts now; the timers count from here */
        live_tick(r, c);
    while (!is_stopping(r)) {
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
        if (n == 0 && !is_live)
            break;
        if (reload_requested) {
            progress_clear(pg);
            on_sighup(r);
            tell_output_news(r); /* the old file's buffer */
        }
        if (is_live) /* after every batch, and at least every CAPTURE_WAKE_MS */
            live_tick(r, c);
        progress_show(pg, c, r->s->st.packets - pkts0, false);
    }
    progress_clear(pg);
    if (is_live) {
        if (stop_requested) /* what was captured before the stop is analysed too */
            capture_drain(c, on_packet, r, CAPTURE_DRAIN_MAX);
        /* the last reading: the record at the end and the summary show the same totals */
        read_kernel_counters(r, c);
        if (sensor_tick(r->s, time_now()))
            drop_warning(r);
        tell_summary_failure(r);
    }
    active_capture = NULL;
    tell_output_news(r);
    return rc;
}

/* stdout or -w FILE, and Redis when asked, behind one tee. is_live: -i (the file output hands
 * records on as they come). NULL after printing why. */
static struct output *open_outputs(const char *wfile, bool is_live, struct redis_opts *ro,
                                   const char *sensor_id)
{
    static char key[300];
    struct err e = {""};
    struct output *outs[2];
    size_t n = 0;
    outs[n] = out_file_open(wfile, is_live, &e);
    if (outs[n] == NULL) {
        fprintf(stderr, "postcard: %s\n", e.msg);
        return NULL;
    }
    n++;
    if (ro->url != NULL) {
        /* the default key: one stream per sensor (docs/redis.md), one list or channel */
        if (ro->key == NULL && ro->mode == REDIS_STREAM) {
            snprintf(key, sizeof key, "postcard:events:%s", sensor_id);
            ro->key = key;
        } else if (ro->key == NULL) {
            ro->key = "postcard:events";
        }
        outs[n] = out_redis_open(ro, &e);
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

/* postcard --anonymize-keygen FILE: 0, or 1 after printing why not. */
static int keygen(const char *path, bool is_quiet)
{
    struct err e = {""};
    if (anon_keygen(path, &e) != 0) {
        fprintf(stderr, "postcard: %s\n", e.msg);
        return 1;
    }
    if (!is_quiet)
        fprintf(stderr,
                "postcard: new key in %s: keep it secret, give it only to the sensors "
                "whose reports are to merge\n",
                path);
    return 0;
}

/*
 * What went to stdout through stdio (--help, --version, --check-rules, report's line) is
 * written now: a failure is said and is the exit status (EXIT_CUT for a reader that left).
 */
static int stdout_status(int status)
{
    errno = 0;
    if (fflush(stdout) == 0 && !ferror(stdout))
        return status;
    int err = errno;
    fprintf(stderr, "postcard: stdout: %s\n", err != 0 ? strerror(err) : "write error");
    return worse(status, err == EPIPE ? EXIT_CUT : 1);
}

/* Before anything slow: a SIGHUP or SIGTERM sent early is not fatal. */
static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_hup;
    sa.sa_flags = SA_RESTART; /* a blocking read goes on; the reload comes before the next packet */
    sigaction(SIGHUP, &sa, NULL);
}

/*
 * The rules first: a sensor with a broken rule set, or with none, would watch
 * for nothing. A missing path or one without a rule is one line (running
 * without rules is asked for with --no-rules). -1 after printing every problem.
 */
static int start_rules(const char *path, const char *config, struct rule_engine **engine)
{
    if (access(path, F_OK) != 0) {
        fprintf(stderr,
                "postcard: rules %s: %s: not started (give -R PATH, or --no-rules to run "
                "without alerts)\n",
                path, strerror(errno));
        return -1;
    }
    struct rule_diag diag;
    rule_diag_init(&diag);
    *engine = load_rules(path, config, &diag);
    int rc = 0;
    if (*engine != NULL && ruleset_len(rule_engine_ruleset(*engine)) == 0) {
        fprintf(stderr,
                "postcard: rules %s: no rule there: not started (give -R PATH, or --no-rules "
                "to run without alerts)\n",
                path);
        rule_engine_free(*engine);
        *engine = NULL;
        rule_diag_free(&diag);
        return -1;
    }
    fputs(rule_diag_text(&diag), stderr);
    if (*engine == NULL) {
        fprintf(stderr,
                "postcard: %s: %u error(s) in the rules: not started (check them "
                "with --check-rules)\n",
                path, diag.errors);
        rc = -1;
    }
    rule_diag_free(&diag);
    return rc;
}

/* --sensor-id, else the host name written into host[0..n) (zeroed), else "postcard". */
static const char *sensor_name(const char *sensor_id, char *host, size_t n)
{
    if (sensor_id != NULL)
        return sensor_id;
    if (gethostname(host, n - 1) != 0)
        snprintf(host, n, "postcard");
    return host;
}

/* A new seed for the flow hash each run. */
static uint64_t new_hash_seed(void)
{
    uint64_t seed;
    if (getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed)
        seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    return seed;
}

/* -i IFACE until SIGINT or SIGTERM. 0, or 1 after printing why. */
static int run_live(struct run *r, const struct cli_opts *o, const char *filter)
{
    struct err e = {""};
    struct capture *c = capture_open_live(o->iface, &o->lo, filter, &e);
    if (c == NULL) {
        fprintf(stderr, "postcard: %s\n", e.msg);
        return 1;
    }
    if (capture_warning(c) != NULL)
        fprintf(stderr, "postcard: warning: %s\n", capture_warning(c));
    if (!o->is_quiet)
        fprintf(stderr, "postcard: listening on %s, link type %s\n", o->iface,
                capture_link_name(capture_link(c)));
    int status = run_capture(r, c, r->pg) != 0 ? 1 : 0;
    capture_close(c);
    return status;
}

/* Each -r FILE in turn; one that cannot be used is reported and the next is read. 0 or 1. */
static int run_files(struct run *r, const struct cli_opts *o, const char *filter)
{
    int status = 0;
    for (int i = 0; i < o->n_files && !is_stopping(r); i++) {
        struct err e = {""};
        struct capture *c = capture_open_file(o->files[i], filter, &e);
        if (c == NULL) {
            fprintf(stderr, "postcard: %s\n", e.msg);
            status = 1;
            continue;
        }
        r->s->eve.src_val = strcmp(o->files[i], "-") == 0 ? "stdin" : o->files[i];
        if (run_capture(r, c, r->pg) != 0)
            status = 1;
        capture_close(c);
    }
    return status;
}

/*
 * The end of the input: a late SIGHUP, the flows in progress, --summary, the summary. 0, 1,
 * or EXIT_CUT when stdout's reader closed it (and nothing else failed).
 */
static int finish_run(struct run *r, const struct cli_opts *o)
{
    struct sensor *s = r->s;
    struct output *out = s->out;
    int status = 0;
    if (reload_requested)
        on_sighup(r);
    sensor_finish(s); /* a loss in its flush is counted in out->failed, tested below */
    tell_output_news(r);
    if (s->is_live) /* the last stats record's interval: since the one before */
        drop_warning(r);
    if (s->summary_err.msg[0] != '\0') { /* the last --summary FILE could not be written */
        fprintf(stderr, "postcard: %s\n", s->summary_err.msg);
        status = 1;
    }
    if (!o->is_quiet) {
        sensor_print_summary(s, stderr, o->iface != NULL);
        if (out->summary != NULL) /* the Redis writer's figures, after it drained what it could */
            out->summary(out, stderr);
    }
    if (out->failed > out->cut) { /* those after stdout's reader left are said by the cut */
        fprintf(stderr, "postcard: %s: %llu records could not be written\n", out->name,
                out->failed - out->cut);
        status = 1;
    }
    return worse(status, out->is_gone ? EXIT_CUT : 0);
}

/*
 * Read every input into s, then end the run. 0, 1 when an input or output
 * failed, EXIT_CUT when stdout's reader closed it. When no input could be
 * opened there was no run: no record, no summary.
 */
static int run_sensor(struct sensor *s, const struct cli_opts *o, const char *rules_path,
                      const char *filter)
{
    struct progress pg = {!o->is_quiet && isatty(2) && o->iface == NULL, 0, 0, false};
    struct run r = {s, &pg, 0, rules_path, o->config, false, o->drop_warn, 0};
    int status = o->iface != NULL ? run_live(&r, o, filter) : run_files(&r, o, filter);
    if (r.has_input)
        status = worse(status, finish_run(&r, o));
    return status;
}

/* Close the outputs: 0, or 1 when records were left undelivered. Why is said after a run. */
static int close_outputs(struct output *out, bool is_said)
{
    struct err e = {""};
    int status = out->close(out, &e) != 0 ? 1 : 0;
    if (is_said && e.msg[0] != '\0')
        fprintf(stderr, "postcard: %s\n", e.msg);
    return status;
}

int main(int argc, char **argv)
{
    /* getopt names the program by argv[0]: postcard, whatever path started it */
    static char prog[] = "postcard", report_prog[] = "postcard report";
    struct cli_opts o;
    argv[0] = prog;
    /* [OUT-FILE-EPIPE] a reader that closes stdout makes write(2) fail with EPIPE, which the
     * outputs handle, rather than kill postcard with no summary and records left unsent.
     * Ignored from the start, as systemd does for its services. */
    struct sigaction ign;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, NULL);
    switch (cli_parse(argc, argv, POSTCARD_RULES_DIR, &o)) {
    case CLI_EXIT: /* --help, --version, a usage error: said by cli.c */
        return stdout_status(o.status);
    case CLI_REPORT: /* postcard report ...: report.c */
        argv[1] = report_prog;
        return stdout_status(report_main(argc - 1, argv + 1));
    case CLI_CHECK_RULES:
        return stdout_status(check_rules(o.rules_path, o.config));
    case CLI_KEYGEN:
        return keygen(o.anon_keygen, o.is_quiet);
    case CLI_RUN:
        break;
    }
    const char *rules_path = o.rules_path != NULL ? o.rules_path : POSTCARD_RULES_DIR;
    if (o.is_no_rules)
        rules_path = NULL;
    struct rule_engine *engine = NULL; /* until the sensor takes it */
    char *filter = NULL;
    struct geoip *geo = NULL;
    struct anon *an = NULL; /* GeoIP still reads the real addresses (docs/anonymize.md) */
    struct output *out = NULL;
    struct sensor *s = NULL;
    bool has_run = false; /* only then does closing the outputs say what it left behind */
    char host[256] = "";
    const char *sensor_id = NULL;
    struct err e = {""};
    int status = 1;
    filter = cli_filter(&o);
    if (capture_filter_check(filter, &e) != 0) { /* a wrong command line: before anything opens */
        fprintf(stderr, "postcard: %s\n", e.msg);
        status = 2;
        goto out;
    }
    if (o.summary != NULL && summary_check_path(o.summary, &e) != 0)
        goto fail; /* found out now, not after hours of capture */
    catch_signals();
    if (rules_path != NULL && start_rules(rules_path, o.config, &engine) != 0)
        goto out;
    if ((o.geoip != NULL || o.asn != NULL) && (geo = geoip_open(o.geoip, o.asn, &e)) == NULL)
        goto fail;
    if (o.anon_key != NULL && (an = anon_open(o.anon_key, o.anon_users, &e)) == NULL)
        goto fail;
    sensor_id = sensor_name(o.sensor_id, host, sizeof host);
    o.so.hash_seed = new_hash_seed();
    if ((out = open_outputs(o.wfile, o.iface != NULL, &o.ro, sensor_id)) == NULL)
        goto out;
    if ((s = sensor_new(&o.so, out, &e)) == NULL)
        goto fail;
    sensor_set_rules(s, engine);
    engine = NULL; /* the sensor's now */
    s->eve.host = sensor_id;
    s->eve.geo = geo;
    s->eve.anon = an;
    s->eve.src_key = o.iface != NULL ? "in_iface" : "pcap_filename";
    s->eve.src_val = o.iface;
    s->is_live = o.iface != NULL;
    status = run_sensor(s, &o, rules_path, filter);
    has_run = true;
    goto out;
fail:
    fprintf(stderr, "postcard: %s\n", e.msg);
out:
    sensor_free(s);
    if (out != NULL && close_outputs(out, has_run) != 0)
        status = 1;
    anon_free(an);
    geoip_free(geo);
    rule_engine_free(engine);
    free(filter);
    return status;
}

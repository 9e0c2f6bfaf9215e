/*
 * cli.c — the command line, in tcpdump's habits: options first ("+" to
 * getopt_long), then whatever is left is one BPF filter expression.
 *
 *   argv ─▶ getopt_long ─▶ input / output / analysis / sharing / rules / redis
 *                          options, each value checked against its range
 *        ─▶ the options taken together (-r or -i, --check-rules needs -R, ...)
 *        ─▶ CLI_RUN, CLI_CHECK_RULES, CLI_KEYGEN, CLI_REPORT or CLI_EXIT
 *
 * --help and --version are answered here, on stdout, exit 0. A usage error
 * is one line on stderr (an unknown option: getopt's line, then the help),
 * exit 2 (docs/cli.md). Nothing is opened: main.c does that.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common.h"
#include "sensor-limits.h"

#define CLI_USAGE_ERROR 2 /* exit status of a wrong command line (docs/cli.md) */

/* The long options that have no short form. */
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
    OPT_NO_RULES,
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
    OPT_FLOW_TIMEOUT,
    OPT_DROP_WARN,
    OPT_ALLOW_CORE,
    OPT_REDIS_PASSWORD_FILE,
};

/* In this order: getopt_long names the candidates for an ambiguous abbreviation in it. */
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
    {"no-rules", no_argument, NULL, OPT_NO_RULES},
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
    {"flow-timeout", required_argument, NULL, OPT_FLOW_TIMEOUT},
    {"drop-warn", required_argument, NULL, OPT_DROP_WARN},
    {"allow-core-dumps", no_argument, NULL, OPT_ALLOW_CORE},
    {"redis-password-file", required_argument, NULL, OPT_REDIS_PASSWORD_FILE},
    {NULL, 0, NULL, 0},
};

static void usage(FILE *f, const char *rules_dir)
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
        "  --drop-warn PERCENT  live: a warning on stderr when the kernel drops more than\n"
        "                       PERCENT %% of a stats interval's packets (default %g; 0: never)\n"
        "  filter expression    a BPF filter, as for tcpdump (e.g. 'tcp port 25')\n"
        "\n"
        "output:\n"
        "  -w FILE              append JSON lines to FILE (default: stdout; reopened on SIGHUP)\n"
        "  --sensor-id NAME     the \"host\" of every record (default: the host name)\n"
        "  --stats-interval S   a \"stats\" record every S s (default: 60 live, files: one at\n"
        "                       the end); files: of packet time, live: of the wall clock,\n"
        "                       with or without packets\n"
        "  --geoip FILE         MaxMind Country or City database: src_geo/dest_geo\n"
        "  --asn FILE           MaxMind ASN database: the AS of those addresses\n"
        "  --redis URL          also to Redis: redis://[user:password@]host[:port][/db] or\n"
        "                       unix:///path (docs/redis.md); --redis-mode stream|list|channel,\n"
        "                       --redis-key, --redis-events (alert,stats,summary), --redis-push,\n"
        "                       --redis-maxlen, --redis-queue, --redis-spool DIR,\n"
        "                       --redis-spool-max MIB, --redis-timeout MS\n"
        "  --redis-password-file FILE  the Redis password: the first line of FILE (not\n"
        "                       readable by others), not in the URL; or the environment\n"
        "                       variable POSTCARD_REDIS_PASSWORD (docs/security.md)\n"
        "  --no-flow-records    do not write event_type \"flow\" records\n"
        "  --no-session-records do not write event_type \"mail\" and \"tls\" records\n"
        "                       (alerts carry the session's facts all the same)\n"
        "  --summary FILE       write the run's numbers (docs/summary.md) to FILE at the end,\n"
        "                       and at each --summary-interval (replaced whole, atomically)\n"
        "  --summary-interval S a \"summary\" record every S s (the clock as above)\n"
        "\n"
        "analysis:\n"
        "  --max-flows N        flows tracked at once (default %d)\n"
        "  --reasm-memory MIB   bytes held for TCP reassembly, all flows (default %lld)\n"
        "  --flow-timeout LIST  seconds without a packet before a flow ends, by class:\n"
        "                       new=%lld,open=%lld,closed=%lld,udp=%lld (the defaults; any\n"
        "                       of them, e.g. closed=2)\n"
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
        "  --no-rules           run without rules: no alerts (not with -R); without it a\n"
        "                       missing rules path, or one without a rule, is an error\n"
        "  --config FILE        variables for the rules (NAME = value lines)\n"
        "  SIGHUP               reload -R and --config; a set with errors is refused\n"
        "\n"
        "privileges (docs/security.md): every capability is given up once the capture is open\n"
        "  -u USER              once the capture, the files and Redis are open, run as USER\n"
        "                       (with its groups)\n"
        "  -g GROUP             with -u: GROUP instead of USER's primary group\n"
        "  --allow-core-dumps   allow core dumps (off by default: they would hold the\n"
        "                       Redis password and packets with credentials)\n"
        "\n"
        "other:\n"
        "  -q                   quiet: no progress, no summary\n"
        "  -h, --help           this help\n"
        "  --version            version and library versions\n",
        SNAPLEN_DEFAULT, PCAP_BUFSIZE_DEFAULT / 1024, DROP_WARN_PERCENT_DEFAULT, FLOW_MAX_DEFAULT,
        REASM_GLOBAL_MAX_BYTES_DEFAULT / (1024 * 1024), FLOW_TIMEOUT_TCP_NEW_US / 1000000,
        FLOW_TIMEOUT_TCP_OPEN_US / 1000000, FLOW_TIMEOUT_TCP_CLOSED_US / 1000000,
        FLOW_TIMEOUT_UDP_US / 1000000, rules_dir);
}

/* s as a number from lo to hi into *out; -1 after saying what is wrong with it. */
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

/* --drop-warn: a percentage from 0 to 100 ("1", "0.5", "2%") into *out; -1 after saying why. */
static int parse_percent(const char *opt, const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end != s && *end == '%')
        end++;
    if (errno != 0 || end == s || *end != '\0' || !(v >= 0 && v <= 100)) {
        fprintf(stderr, "postcard: %s: expected a percentage from 0 to 100, got \"%s\"\n", opt, s);
        return -1;
    }
    *out = v;
    return 0;
}

/*
 * --flow-timeout CLASS=SECONDS[,CLASS=SECONDS...], CLASS one of new, open, closed, udp (any of
 * them, in any order; a class given twice takes the last value) into so->flow_timeout.
 * -1 after saying what is wrong with the first item that is.
 */
static int parse_flow_timeouts(struct sensor_opts *so, const char *arg)
{
    static const struct {
        const char *name; /* as on the command line */
        enum flow_tc tc;  /* the class */
    } classes[] = {
        {"new", FLOW_TC_TCP_NEW},
        {"open", FLOW_TC_TCP_OPEN},
        {"closed", FLOW_TC_TCP_CLOSED},
        {"udp", FLOW_TC_UDP},
    };
    const char *p = arg;
    for (;;) {
        size_t n = strcspn(p, ",");
        const char *eq = memchr(p, '=', n);
        size_t k = eq != NULL ? (size_t)(eq - p) : n;
        int c = -1;
        for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
            if (eq != NULL && strlen(classes[i].name) == k && strncmp(p, classes[i].name, k) == 0)
                c = (int)i;
        if (c < 0) {
            fprintf(stderr,
                    "postcard: --flow-timeout: expected CLASS=SECONDS[,CLASS=SECONDS...] with "
                    "CLASS new, open, closed or udp, got \"%.*s\"\n",
                    (int)n, p);
            return -1;
        }
        char num[24];
        size_t vn = n - k - 1;
        char *end = num;
        long long v = -1;
        if (vn < sizeof num) {
            memcpy(num, eq + 1, vn);
            num[vn] = '\0';
            errno = 0;
            v = strtoll(num, &end, 10);
        }
        if (vn == 0 || vn >= sizeof num || errno != 0 || *end != '\0' || v < 1 ||
            v > FLOW_TIMEOUT_MAX_S) {
            fprintf(stderr,
                    "postcard: --flow-timeout: %s: expected seconds from 1 to %d, got \"%.*s\"\n",
                    classes[c].name, FLOW_TIMEOUT_MAX_S, (int)vn, eq + 1);
            return -1;
        }
        so->flow_timeout[classes[c].tc] = (pc_time)v * 1000000;
        p += n;
        if (*p == '\0')
            return 0;
        p++; /* the comma */
    }
}

/*
 * The options, by the section of --help they belong to (-q with the output;
 * -h and --version end the parse in cli_parse). Each returns 1 when ch was one
 * of its options, -1 after printing what is wrong with arg, 0 when ch is not
 * one of its options.
 */
static int input_option(struct cli_opts *o, int ch, const char *arg)
{
    long long v;
    switch (ch) {
    case 'r':
        if (o->n_files == CLI_MAX_FILES) {
            fprintf(stderr, "postcard: at most %d -r files\n", CLI_MAX_FILES);
            return -1;
        }
        o->files[o->n_files++] = arg;
        return 1;
    case 'i':
        o->iface = arg;
        return 1;
    case 's':
        if (parse_num("-s", arg, 64, 262144, &v) != 0)
            return -1;
        o->lo.snaplen = (int)v;
        return 1;
    case 'B':
        if (parse_num("-B", arg, 64, 4 * 1024 * 1024, &v) != 0)
            return -1;
        o->lo.buffer_bytes = (int)(v * 1024);
        return 1;
    case 'p':
        o->lo.promisc = false;
        return 1;
    case OPT_IMMEDIATE:
        o->lo.immediate = true;
        return 1;
    case OPT_DROP_WARN:
        return parse_percent("--drop-warn", arg, &o->drop_warn) == 0 ? 1 : -1;
    default:
        return 0;
    }
}

static int output_option(struct cli_opts *o, int ch, const char *arg)
{
    long long v;
    switch (ch) {
    case 'w':
        o->wfile = arg;
        return 1;
    case 'q':
        o->is_quiet = true;
        return 1;
    case OPT_SENSOR_ID:
        if (arg[0] == '\0' || strlen(arg) > 255) {
            fprintf(stderr, "postcard: --sensor-id: 1 to 255 bytes\n");
            return -1;
        }
        o->sensor_id = arg;
        return 1;
    case OPT_STATS_INTERVAL:
        if (parse_num("--stats-interval", arg, 0, 86400, &v) != 0)
            return -1;
        o->so.stats_interval = (unsigned)v;
        o->has_stats_interval = true;
        return 1;
    case OPT_GEOIP:
        o->geoip = arg;
        return 1;
    case OPT_ASN:
        o->asn = arg;
        return 1;
    case OPT_NO_FLOWS:
        o->so.no_flow_records = true;
        return 1;
    case OPT_NO_SESSIONS:
        o->so.no_mail_records = true;
        o->so.no_tls_records = true;
        return 1;
    case OPT_SUMMARY:
        o->summary = arg;
        o->so.summary_path = arg;
        return 1;
    case OPT_SUMMARY_INTERVAL:
        if (parse_num("--summary-interval", arg, 1, 86400 * 366, &v) != 0)
            return -1;
        o->so.summary_interval = (unsigned)v;
        return 1;
    default:
        return 0;
    }
}

static int analysis_option(struct cli_opts *o, int ch, const char *arg)
{
    long long v;
    switch (ch) {
    case OPT_MAX_FLOWS:
        if (parse_num("--max-flows", arg, 1, FLOW_MAX_LIMIT, &v) != 0)
            return -1;
        o->so.max_flows = (size_t)v;
        return 1;
    case OPT_REASM_MEM:
        if (parse_num("--reasm-memory", arg, 1, 65536, &v) != 0)
            return -1;
        o->so.reasm_max_bytes = (uint64_t)v * 1024 * 1024;
        return 1;
    case OPT_TLS_ALL:
        o->so.tls_all_ports = true;
        return 1;
    case OPT_FLOW_TIMEOUT:
        return parse_flow_timeouts(&o->so, arg) == 0 ? 1 : -1;
    case OPT_CA_FILE:
        o->so.ca_file = arg;
        return 1;
    default:
        return 0;
    }
}

static int sharing_option(struct cli_opts *o, int ch, const char *arg)
{
    switch (ch) {
    case OPT_ANONYMIZE:
        o->anon_key = arg;
        return 1;
    case OPT_ANONYMIZE_USERS:
        if (strcmp(arg, "drop") != 0 && strcmp(arg, "hash") != 0) {
            fprintf(stderr, "postcard: --anonymize-users: drop or hash, not \"%s\"\n", arg);
            return -1;
        }
        o->anon_users = strcmp(arg, "hash") == 0 ? ANON_USERS_HASH : ANON_USERS_DROP;
        o->has_anon_users = true;
        return 1;
    case OPT_ANONYMIZE_KEYGEN:
        o->anon_keygen = arg;
        return 1;
    default:
        return 0;
    }
}

static int rules_option(struct cli_opts *o, int ch, const char *arg)
{
    switch (ch) {
    case 'R':
        o->rules_path = arg;
        return 1;
    case OPT_CHECK_RULES:
        o->is_check_rules = true;
        return 1;
    case OPT_NO_RULES:
        o->is_no_rules = true;
        return 1;
    case OPT_CONFIG:
        o->config = arg;
        return 1;
    default:
        return 0;
    }
}

/* --redis URL: kept in o->redis_url; a password in it overwritten in argv, where arg points
 * (C11 5.1.2.2.1: the strings of argv are the program's to modify), so that ps and
 * /proc/PID/cmdline show 'x's instead. */
static int redis_url_option(struct cli_opts *o, const char *arg)
{
    size_t n = strlen(arg), off, len;
    bool has_pw = redis_url_password_span(arg, &off, &len);
    if (n < sizeof o->redis_url)
        memcpy(o->redis_url, arg, n + 1);
    if (has_pw)
        memset((char *)arg + off, 'x', len);
    if (n >= sizeof o->redis_url) {
        fprintf(stderr, "postcard: --redis: the URL is longer than %zu bytes\n",
                sizeof o->redis_url - 1);
        return -1;
    }
    o->ro.url = o->redis_url;
    return 1;
}

/* --redis and the --redis-* settings (the URL's own form is checked when it is opened). */
static int redis_option(struct cli_opts *o, int ch, const char *arg)
{
    long long v;
    switch (ch) {
    case OPT_REDIS:
        return redis_url_option(o, arg);
    case OPT_REDIS_PASSWORD_FILE:
        o->redis_password_file = arg;
        return 1;
    case OPT_REDIS_MODE:
        if (strcmp(arg, "stream") == 0)
            o->ro.mode = REDIS_STREAM;
        else if (strcmp(arg, "list") == 0)
            o->ro.mode = REDIS_LIST;
        else if (strcmp(arg, "channel") == 0)
            o->ro.mode = REDIS_CHANNEL;
        else {
            fprintf(stderr, "postcard: --redis-mode: stream, list or channel, not \"%s\"\n", arg);
            return -1;
        }
        return 1;
    case OPT_REDIS_KEY:
        o->ro.key = arg;
        return 1;
    case OPT_REDIS_PUSH:
        if (strcmp(arg, "lpush") != 0 && strcmp(arg, "rpush") != 0) {
            fprintf(stderr, "postcard: --redis-push: lpush or rpush, not \"%s\"\n", arg);
            return -1;
        }
        o->ro.rpush = strcmp(arg, "rpush") == 0;
        return 1;
    case OPT_REDIS_MAXLEN:
        if (parse_num("--redis-maxlen", arg, 0, INT64_MAX, &v) != 0)
            return -1;
        o->ro.maxlen = (uint64_t)v;
        return 1;
    case OPT_REDIS_EVENTS:
        o->ro.types = rec_types_parse(arg);
        if (o->ro.types == 0) {
            fprintf(stderr,
                    "postcard: --redis-events: a list of alert, mail, tls, flow, stats, "
                    "summary or all, not \"%s\"\n",
                    arg);
            return -1;
        }
        return 1;
    case OPT_REDIS_SPOOL:
        o->ro.spool_dir = arg;
        return 1;
    case OPT_REDIS_SPOOL_MAX:
        if (parse_num("--redis-spool-max", arg, 1, 1 << 20, &v) != 0)
            return -1;
        o->ro.spool_max_bytes = (uint64_t)v * 1024 * 1024;
        return 1;
    case OPT_REDIS_QUEUE:
        if (parse_num("--redis-queue", arg, 1, 100000000, &v) != 0)
            return -1;
        o->ro.queue_records = (size_t)v;
        return 1;
    case OPT_REDIS_TIMEOUT:
        if (parse_num("--redis-timeout", arg, 10, 600000, &v) != 0)
            return -1;
        o->ro.timeout_ms = (int)v;
        return 1;
    default:
        return 0;
    }
}

/* -u, -g, --allow-core-dumps (the names are looked up when the run starts: main.c). */
static int privilege_option(struct cli_opts *o, int ch, const char *arg)
{
    switch (ch) {
    case 'u':
    case 'g':
        if (arg[0] == '\0') {
            fprintf(stderr, "postcard: -%c: empty name\n", ch);
            return -1;
        }
        if (ch == 'u')
            o->user = arg;
        else
            o->group = arg;
        return 1;
    case OPT_ALLOW_CORE:
        o->allow_core_dumps = true;
        return 1;
    default:
        return 0;
    }
}

/* Asked in turn until one knows the option. */
static int (*const option_sections[])(struct cli_opts *o, int ch, const char *arg) = {
    input_option, output_option, analysis_option,  sharing_option,
    rules_option, redis_option,  privilege_option,
};

/* CLI_EXIT with status: what cli_parse returns once it has said why. */
static enum cli_action exit_with(struct cli_opts *o, int status)
{
    o->status = status;
    return CLI_EXIT;
}

/* What the options ask for once all of them are read. */
static enum cli_action action_of(struct cli_opts *o)
{
    if (o->is_no_rules && o->rules_path != NULL) {
        fprintf(stderr, "postcard: -R and --no-rules: give one or the other (see --help)\n");
        return exit_with(o, CLI_USAGE_ERROR);
    }
    if (o->is_check_rules) {
        if (o->rules_path == NULL) {
            fprintf(stderr, "postcard: --check-rules needs -R PATH (a file or a directory; see "
                            "--help)\n");
            return exit_with(o, CLI_USAGE_ERROR);
        }
        return CLI_CHECK_RULES;
    }
    if (o->anon_keygen != NULL) /* postcard --anonymize-keygen FILE: no input to read */
        return CLI_KEYGEN;
    if (o->has_anon_users && o->anon_key == NULL) {
        fprintf(stderr, "postcard: --anonymize-users needs --anonymize KEYFILE\n");
        return exit_with(o, CLI_USAGE_ERROR);
    }
    if (o->group != NULL && o->user == NULL) {
        fprintf(stderr, "postcard: -g GROUP needs -u USER (see --help)\n");
        return exit_with(o, CLI_USAGE_ERROR);
    }
    if (o->redis_password_file != NULL && o->ro.url == NULL) {
        fprintf(stderr, "postcard: --redis-password-file needs --redis URL\n");
        return exit_with(o, CLI_USAGE_ERROR);
    }
    if ((o->n_files == 0) == (o->iface == NULL)) {
        fprintf(stderr, "postcard: give either -r FILE or -i IFACE (see --help)\n");
        return exit_with(o, CLI_USAGE_ERROR);
    }
    if (!o->has_stats_interval)
        o->so.stats_interval = o->iface != NULL ? STATS_INTERVAL_LIVE : 0;
    return CLI_RUN;
}

enum cli_action cli_parse(int argc, char **argv, const char *rules_dir, struct cli_opts *o)
{
    *o = (struct cli_opts){0};
    o->lo = (struct live_opts){SNAPLEN_DEFAULT, PCAP_BUFSIZE_DEFAULT, true, false};
    o->drop_warn = DROP_WARN_PERCENT_DEFAULT;
    redis_opts_default(&o->ro);
    if (argc > 1 && strcmp(argv[1], "report") == 0) /* postcard report ...: report.c */
        return CLI_REPORT;
    optind = 0; /* glibc: start afresh, so that a second command line is read as the first */
    int ch;
    while ((ch = getopt_long(argc, argv, "+r:i:w:s:B:R:u:g:pqh", longopts, NULL)) != -1) {
        if (ch == 'h') {
            usage(stdout, rules_dir);
            return exit_with(o, 0);
        }
        if (ch == OPT_VERSION) {
            printf("postcard %s\n", POSTCARD_VERSION);
            return exit_with(o, 0);
        }
        int r = 0;
        for (size_t i = 0; r == 0 && i < sizeof option_sections / sizeof option_sections[0]; i++)
            r = option_sections[i](o, ch, optarg);
        if (r == 1)
            continue;
        if (r == 0) /* '?': getopt_long has said which option, and how it is wrong */
            usage(stderr, rules_dir);
        return exit_with(o, CLI_USAGE_ERROR);
    }
    o->filter = argv + optind;
    o->n_filter = argc - optind;
    return action_of(o);
}

void cli_wipe(struct cli_opts *o)
{
    explicit_bzero(o->redis_url, sizeof o->redis_url);
}

/* The trailing arguments form one BPF expression, as with tcpdump. */
char *cli_filter(const struct cli_opts *o)
{
    size_t n = 1;
    for (int i = 0; i < o->n_filter; i++)
        n += strlen(o->filter[i]) + 1;
    char *f = xmalloc(n);
    size_t at = 0;
    for (int i = 0; i < o->n_filter; i++) {
        size_t k = strlen(o->filter[i]);
        if (i)
            f[at++] = ' ';
        memcpy(f + at, o->filter[i], k);
        at += k;
    }
    f[at] = '\0';
    return f;
}

/*
 * test-cli.c — the command line (sensor/cli.c) read into struct cli_opts:
 * the defaults, every option's value and range, what the options ask for
 * taken together (run, --check-rules, --anonymize-keygen, report, exit), the
 * filter expression after the options, and the exact lines printed for
 * --help, --version and usage errors, with exit status 2.
 */
#include "test.h"

#include <fcntl.h>

#include "cli.h"
#include "sensor-limits.h"

#define RULES_DIR "/usr/share/postcard/rules"

/* What cli_parse printed. */
struct printed {
    char out[8192]; /* stdout */
    char err[8192]; /* stderr */
};

static void read_back(int fd, char *buf, size_t n)
{
    lseek(fd, 0, SEEK_SET);
    ssize_t k = read(fd, buf, n - 1);
    buf[k > 0 ? k : 0] = '\0';
    close(fd);
}

/* Parse the NULL-ended args after "postcard", stdout and stderr caught in p. */
static enum cli_action parse_args(struct cli_opts *o, const char **args, struct printed *p)
{
    int argc = 0;
    while (args[argc] != NULL)
        argc++;
    char tmpl_out[] = "/tmp/test-cli-out-XXXXXX", tmpl_err[] = "/tmp/test-cli-err-XXXXXX";
    int fo = mkstemp(tmpl_out), fe = mkstemp(tmpl_err);
    ASSERT(fo >= 0 && fe >= 0);
    unlink(tmpl_out);
    unlink(tmpl_err);
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(1), saved_err = dup(2);
    dup2(fo, 1);
    dup2(fe, 2);
    enum cli_action a = cli_parse(argc, (char **)args, RULES_DIR, o);
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_out);
    close(saved_err);
    read_back(fo, p->out, sizeof p->out);
    read_back(fe, p->err, sizeof p->err);
    return a;
}

/* o.filter points into the argument array, which lives only until the statement ends. */
#define PARSE(o, p, ...) parse_args(o, (const char *[]){"postcard", __VA_ARGS__, NULL}, p)

/* A usage error: CLI_EXIT with status 2, and this line on stderr, nothing on stdout. */
#define ASSERT_USAGE_ERROR(line, ...)                                                              \
    do {                                                                                           \
        struct cli_opts o_;                                                                        \
        struct printed p_;                                                                         \
        ASSERT_EQ(PARSE(&o_, &p_, __VA_ARGS__), CLI_EXIT);                                         \
        ASSERT_EQ(o_.status, 2);                                                                   \
        ASSERT_STREQ(p_.err, line);                                                                \
        ASSERT_STREQ(p_.out, "");                                                                  \
    } while (0)

TEST(one_file_runs_with_the_defaults)
{
    struct cli_opts o;
    struct printed p;
    ASSERT_EQ(PARSE(&o, &p, "-r", "a.pcap"), CLI_RUN);
    ASSERT_STREQ(p.out, "");
    ASSERT_STREQ(p.err, "");
    ASSERT_EQ(o.n_files, 1);
    ASSERT_STREQ(o.files[0], "a.pcap");
    ASSERT(o.iface == NULL && o.wfile == NULL && o.rules_path == NULL && o.config == NULL);
    ASSERT(o.sensor_id == NULL && o.summary == NULL && o.geoip == NULL && o.asn == NULL);
    ASSERT(o.anon_key == NULL && o.anon_keygen == NULL && o.ro.url == NULL && o.ro.key == NULL);
    ASSERT(!o.is_quiet);
    ASSERT_EQ(o.lo.snaplen, SNAPLEN_DEFAULT);
    ASSERT_EQ(o.lo.buffer_bytes, PCAP_BUFSIZE_DEFAULT);
    ASSERT(o.lo.promisc && !o.lo.immediate);
    ASSERT_EQ(o.so.max_flows, 0); /* 0: the sensor's default */
    ASSERT_EQ(o.so.stats_interval, 0);
    ASSERT_EQ(o.anon_users, ANON_USERS_DROP);
    ASSERT_EQ(o.ro.mode, REDIS_STREAM);
    ASSERT_EQ(o.ro.timeout_ms, 2000);
    ASSERT_EQ(o.n_filter, 0);
}

TEST(files_are_kept_in_order_and_an_interface_has_stats_every_60_s)
{
    struct cli_opts o;
    struct printed p;
    ASSERT_EQ(PARSE(&o, &p, "-r", "a", "-r", "-", "-r", "c"), CLI_RUN);
    ASSERT_EQ(o.n_files, 3);
    ASSERT_STREQ(o.files[1], "-");
    ASSERT_STREQ(o.files[2], "c");
    ASSERT_EQ(PARSE(&o, &p, "-i", "eth0"), CLI_RUN);
    ASSERT_STREQ(o.iface, "eth0");
    ASSERT_EQ(o.so.stats_interval, STATS_INTERVAL_LIVE);
    ASSERT_EQ(PARSE(&o, &p, "-i", "eth0", "--stats-interval", "0"), CLI_RUN);
    ASSERT_EQ(o.so.stats_interval, 0);
}

TEST(what_follows_the_options_is_one_filter_expression)
{
    struct cli_opts o;
    struct printed p;
    const char *with[] = {"postcard", "-r", "a", "tcp", "port 25", "-q", NULL};
    ASSERT_EQ(parse_args(&o, with, &p), CLI_RUN);
    ASSERT(!o.is_quiet); /* "+": an option after the filter is part of it */
    char *f = cli_filter(&o);
    ASSERT_STREQ(f, "tcp port 25 -q");
    free(f);
    const char *without[] = {"postcard", "-r", "a", NULL};
    ASSERT_EQ(parse_args(&o, without, &p), CLI_RUN);
    f = cli_filter(&o);
    ASSERT_STREQ(f, "");
    free(f);
}

TEST(every_option_sets_its_field)
{
    struct cli_opts o;
    struct printed p;
    ASSERT_EQ(PARSE(&o, &p, "-i", "eth1", "-s", "64", "-B", "128", "-p", "--immediate-mode", "-w",
                    "out.json", "-q", "--sensor-id", "s1", "--stats-interval", "30", "--geoip",
                    "g.mmdb", "--asn", "a.mmdb", "--no-flow-records", "--no-session-records",
                    "--summary", "s.json", "--summary-interval", "600", "--max-flows", "1000",
                    "--reasm-memory", "16", "--tls-all-ports", "--ca-file", "ca.pem", "-R",
                    "r.rules", "--config", "vars.conf", "--anonymize", "k", "--anonymize-users",
                    "hash"),
              CLI_RUN);
    ASSERT_STREQ(p.err, "");
    ASSERT_EQ(o.lo.snaplen, 64);
    ASSERT_EQ(o.lo.buffer_bytes, 128 * 1024);
    ASSERT(!o.lo.promisc && o.lo.immediate);
    ASSERT_STREQ(o.wfile, "out.json");
    ASSERT(o.is_quiet);
    ASSERT_STREQ(o.sensor_id, "s1");
    ASSERT_EQ(o.so.stats_interval, 30);
    ASSERT_STREQ(o.geoip, "g.mmdb");
    ASSERT_STREQ(o.asn, "a.mmdb");
    ASSERT(o.so.no_flow_records && o.so.no_mail_records && o.so.no_tls_records);
    ASSERT_STREQ(o.summary, "s.json");
    ASSERT_STREQ(o.so.summary_path, "s.json");
    ASSERT_EQ(o.so.summary_interval, 600);
    ASSERT_EQ(o.so.max_flows, 1000);
    ASSERT_EQ(o.so.reasm_max_bytes, 16 * 1024 * 1024);
    ASSERT(o.so.tls_all_ports);
    ASSERT_STREQ(o.so.ca_file, "ca.pem");
    ASSERT_STREQ(o.rules_path, "r.rules");
    ASSERT_STREQ(o.config, "vars.conf");
    ASSERT_STREQ(o.anon_key, "k");
    ASSERT_EQ(o.anon_users, ANON_USERS_HASH);
}

TEST(redis_options_set_the_writer_settings)
{
    struct cli_opts o;
    struct printed p;
    ASSERT_EQ(PARSE(&o, &p, "-r", "a", "--redis", "redis://h", "--redis-mode", "list",
                    "--redis-key", "k", "--redis-push", "rpush", "--redis-maxlen", "0",
                    "--redis-events", "alert,flow", "--redis-spool", "sp", "--redis-spool-max", "2",
                    "--redis-queue", "10", "--redis-timeout", "10"),
              CLI_RUN);
    ASSERT_STREQ(o.ro.url, "redis://h");
    ASSERT_EQ(o.ro.mode, REDIS_LIST);
    ASSERT_STREQ(o.ro.key, "k");
    ASSERT(o.ro.rpush);
    ASSERT_EQ(o.ro.maxlen, 0);
    ASSERT_EQ(o.ro.types, (1u << REC_ALERT) | (1u << REC_FLOW));
    ASSERT_STREQ(o.ro.spool_dir, "sp");
    ASSERT_EQ(o.ro.spool_max_bytes, 2 * 1024 * 1024);
    ASSERT_EQ(o.ro.queue_records, 10);
    ASSERT_EQ(o.ro.timeout_ms, 10);
    ASSERT_EQ(PARSE(&o, &p, "-r", "a", "--redis-mode", "channel"), CLI_RUN);
    ASSERT_EQ(o.ro.mode, REDIS_CHANNEL);
}

TEST(help_and_version_go_to_stdout_and_exit_0)
{
    struct cli_opts o;
    struct printed p;
    ASSERT_EQ(PARSE(&o, &p, "--version"), CLI_EXIT);
    ASSERT_EQ(o.status, 0);
    ASSERT_STREQ(p.out, "postcard " POSTCARD_VERSION "\n");
    ASSERT_STREQ(p.err, "");
    ASSERT_EQ(PARSE(&o, &p, "-r", "a", "--help", "--bogus"), CLI_EXIT);
    ASSERT_EQ(o.status, 0);
    ASSERT_STREQ(p.err, "");
    ASSERT(strncmp(p.out, "usage: postcard [options] -r FILE", 33) == 0);
    ASSERT(strstr(p.out, "(default:\n                       " RULES_DIR ")\n") != NULL);
    ASSERT(strstr(p.out, "(default 262144)") != NULL);
    ASSERT(strstr(p.out, "  --version            version and library versions\n") != NULL);
    struct printed p2;
    ASSERT_EQ(PARSE(&o, &p2, "-h"), CLI_EXIT);
    ASSERT_STREQ(p2.out, p.out);
}

TEST(an_unknown_option_prints_getopts_line_then_the_help_and_exits_2)
{
    struct cli_opts o;
    struct printed p, h;
    ASSERT_EQ(PARSE(&o, &h, "--help"), CLI_EXIT);
    ASSERT_EQ(PARSE(&o, &p, "--bogus"), CLI_EXIT);
    ASSERT_EQ(o.status, 2);
    ASSERT_STREQ(p.out, "");
    const char *line = "postcard: unrecognized option '--bogus'\n";
    ASSERT(strncmp(p.err, line, strlen(line)) == 0);
    ASSERT_STREQ(p.err + strlen(line), h.out);
    ASSERT_EQ(PARSE(&o, &p, "-r"), CLI_EXIT); /* a missing argument, likewise */
    ASSERT_EQ(o.status, 2);
    ASSERT(strstr(p.err, "requires an argument") != NULL);
}

TEST(a_value_out_of_range_is_one_line_and_exit_2)
{
    ASSERT_USAGE_ERROR("postcard: -s: expected a number from 64 to 262144, got \"63\"\n", "-s",
                       "63");
    ASSERT_USAGE_ERROR("postcard: -B: expected a number from 64 to 4194304, got \"1x\"\n", "-B",
                       "1x");
    ASSERT_USAGE_ERROR("postcard: --max-flows: expected a number from 1 to 20000000, got \"0\"\n",
                       "--max-flows", "0");
    ASSERT_USAGE_ERROR("postcard: --reasm-memory: expected a number from 1 to 65536, got \"\"\n",
                       "--reasm-memory", "");
    ASSERT_USAGE_ERROR("postcard: --stats-interval: expected a number from 0 to 86400, got "
                       "\"86401\"\n",
                       "--stats-interval", "86401");
    ASSERT_USAGE_ERROR("postcard: --summary-interval: expected a number from 1 to 31622400, got "
                       "\"0\"\n",
                       "--summary-interval", "0");
    ASSERT_USAGE_ERROR("postcard: --redis-timeout: expected a number from 10 to 600000, got "
                       "\"9\"\n",
                       "--redis-timeout", "9");
    ASSERT_USAGE_ERROR("postcard: --sensor-id: 1 to 255 bytes\n", "--sensor-id", "");
    ASSERT_USAGE_ERROR("postcard: --anonymize-users: drop or hash, not \"keep\"\n",
                       "--anonymize-users", "keep");
    ASSERT_USAGE_ERROR("postcard: --redis-mode: stream, list or channel, not \"pubsub\"\n",
                       "--redis-mode", "pubsub");
    ASSERT_USAGE_ERROR("postcard: --redis-push: lpush or rpush, not \"push\"\n", "--redis-push",
                       "push");
    ASSERT_USAGE_ERROR("postcard: --redis-events: a list of alert, mail, tls, flow, stats, "
                       "summary or all, not \"alerts\"\n",
                       "--redis-events", "alerts");
}

TEST(flow_timeouts_are_set_by_class_in_seconds)
{
    struct cli_opts o;
    struct printed p;
    ASSERT_EQ(PARSE(&o, &p, "-r", "a"), CLI_RUN);
    for (int tc = 0; tc < FLOW_TC_COUNT; tc++)
        ASSERT_EQ(o.so.flow_timeout[tc], 0); /* 0: the flow table's default */
    ASSERT_EQ(PARSE(&o, &p, "-i", "lo", "--flow-timeout", "closed=2,open=600,new=30,udp=60"),
              CLI_RUN);
    ASSERT_STREQ(p.err, "");
    ASSERT_EQ(o.so.flow_timeout[FLOW_TC_TCP_CLOSED], 2 * 1000000LL);
    ASSERT_EQ(o.so.flow_timeout[FLOW_TC_TCP_OPEN], 600 * 1000000LL);
    ASSERT_EQ(o.so.flow_timeout[FLOW_TC_TCP_NEW], 30 * 1000000LL);
    ASSERT_EQ(o.so.flow_timeout[FLOW_TC_UDP], 60 * 1000000LL);
    ASSERT_EQ(PARSE(&o, &p, "-i", "lo", "--flow-timeout", "udp=1,udp=86400", "--flow-timeout",
                    "closed=1"),
              CLI_RUN);
    ASSERT_EQ(o.so.flow_timeout[FLOW_TC_UDP], 86400 * 1000000LL); /* the last value wins */
    ASSERT_EQ(o.so.flow_timeout[FLOW_TC_TCP_CLOSED], 1000000);
    ASSERT_EQ(o.so.flow_timeout[FLOW_TC_TCP_OPEN], 0); /* not given: the default */
}

TEST(a_bad_flow_timeout_is_one_line_and_exit_2)
{
#define BAD_CLASS                                                                                  \
    "postcard: --flow-timeout: expected CLASS=SECONDS[,CLASS=SECONDS...] with CLASS new, open, "   \
    "closed or udp, got \"%s\"\n"
    char line[256];
    static const char *const classes[] = {"", "closed", "fin=2", "closed:2", "Closed=2", ","};
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++) {
        snprintf(line, sizeof line, BAD_CLASS, strcmp(classes[i], ",") == 0 ? "" : classes[i]);
        ASSERT_USAGE_ERROR(line, "-i", "lo", "--flow-timeout", classes[i]);
    }
    snprintf(line, sizeof line, BAD_CLASS, "");
    ASSERT_USAGE_ERROR(line, "-i", "lo", "--flow-timeout", "closed=2,"); /* an empty item */
    ASSERT_USAGE_ERROR("postcard: --flow-timeout: closed: expected seconds from 1 to 86400, got "
                       "\"0\"\n",
                       "-i", "lo", "--flow-timeout", "closed=0");
    ASSERT_USAGE_ERROR("postcard: --flow-timeout: open: expected seconds from 1 to 86400, got "
                       "\"86401\"\n",
                       "-i", "lo", "--flow-timeout", "new=3,open=86401");
    ASSERT_USAGE_ERROR("postcard: --flow-timeout: udp: expected seconds from 1 to 86400, got "
                       "\"\"\n",
                       "-i", "lo", "--flow-timeout", "udp=");
    ASSERT_USAGE_ERROR("postcard: --flow-timeout: new: expected seconds from 1 to 86400, got "
                       "\"1.5\"\n",
                       "-i", "lo", "--flow-timeout", "new=1.5");
    ASSERT_USAGE_ERROR("postcard: --flow-timeout: new: expected seconds from 1 to 86400, got "
                       "\"-1\"\n",
                       "-i", "lo", "--flow-timeout", "new=-1");
    ASSERT_USAGE_ERROR("postcard: --flow-timeout: new: expected seconds from 1 to 86400, got "
                       "\"123456789012345678901234567890\"\n",
                       "-i", "lo", "--flow-timeout", "new=123456789012345678901234567890");
}

TEST(drop_warn_is_a_percentage_1_by_default_0_for_never)
{
    struct cli_opts o;
    struct printed p;
    ASSERT_EQ(PARSE(&o, &p, "-i", "lo"), CLI_RUN);
    ASSERT(o.drop_warn == DROP_WARN_PERCENT_DEFAULT && o.drop_warn == 1.0);
    ASSERT_EQ(PARSE(&o, &p, "-i", "lo", "--drop-warn", "0"), CLI_RUN);
    ASSERT(o.drop_warn == 0.0);
    ASSERT_EQ(PARSE(&o, &p, "-i", "lo", "--drop-warn", "0.5"), CLI_RUN);
    ASSERT(o.drop_warn == 0.5);
    ASSERT_EQ(PARSE(&o, &p, "-i", "lo", "--drop-warn", "2%"), CLI_RUN);
    ASSERT(o.drop_warn == 2.0);
    ASSERT_EQ(PARSE(&o, &p, "-i", "lo", "--drop-warn", "100"), CLI_RUN);
    ASSERT(o.drop_warn == 100.0);
    static const char *const bad[] = {"", "-1", "100.5", "x", "1%%", "nan", "inf", "5 %"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char line[160];
        snprintf(line, sizeof line,
                 "postcard: --drop-warn: expected a percentage from 0 to 100, got \"%s\"\n",
                 bad[i]);
        ASSERT_USAGE_ERROR(line, "-i", "lo", "--drop-warn", bad[i]);
    }
}

TEST(the_first_bad_option_wins_over_a_later_help)
{
    ASSERT_USAGE_ERROR("postcard: -s: expected a number from 64 to 262144, got \"1\"\n", "-s", "1",
                       "-h");
}

TEST(the_options_together_need_one_input)
{
    struct cli_opts o;
    struct printed p;
    ASSERT_EQ(parse_args(&o, (const char *[]){"postcard", NULL}, &p), CLI_EXIT);
    ASSERT_EQ(o.status, 2);
    ASSERT_STREQ(p.err, "postcard: give either -r FILE or -i IFACE (see --help)\n");
    ASSERT_USAGE_ERROR("postcard: give either -r FILE or -i IFACE (see --help)\n", "-r", "a", "-i",
                       "eth0");
    ASSERT_USAGE_ERROR("postcard: --anonymize-users needs --anonymize KEYFILE\n", "-r", "a",
                       "--anonymize-users", "drop");
}

TEST(check_rules_needs_R_and_needs_no_input)
{
    ASSERT_USAGE_ERROR("postcard: --check-rules needs -R PATH (a file or a directory; see "
                       "--help)\n",
                       "--check-rules", "-r", "a");
    struct cli_opts o;
    struct printed p;
    ASSERT_EQ(PARSE(&o, &p, "--check-rules", "-R", "x.rules", "--config", "c"), CLI_CHECK_RULES);
    ASSERT_STREQ(o.rules_path, "x.rules");
    ASSERT_STREQ(o.config, "c");
    ASSERT_STREQ(p.err, "");
}

TEST(no_rules_runs_without_rules_and_never_with_R)
{
    struct cli_opts o;
    struct printed p;
    ASSERT_EQ(PARSE(&o, &p, "--no-rules", "-r", "a"), CLI_RUN);
    ASSERT(o.is_no_rules);
    ASSERT(o.rules_path == NULL);
    ASSERT_STREQ(p.err, "");
    ASSERT_USAGE_ERROR("postcard: -R and --no-rules: give one or the other (see --help)\n", "-R",
                       "x.rules", "--no-rules", "-r", "a");
    ASSERT_USAGE_ERROR("postcard: -R and --no-rules: give one or the other (see --help)\n",
                       "--no-rules", "--check-rules", "-R", "x.rules");
}

TEST(keygen_needs_no_input_and_comes_after_check_rules)
{
    struct cli_opts o;
    struct printed p;
    ASSERT_EQ(PARSE(&o, &p, "--anonymize-keygen", "k", "--anonymize-users", "hash", "-q"),
              CLI_KEYGEN);
    ASSERT_STREQ(o.anon_keygen, "k");
    ASSERT(o.is_quiet);
    ASSERT_EQ(PARSE(&o, &p, "--anonymize-keygen", "k", "--check-rules", "-R", "r"),
              CLI_CHECK_RULES);
}

TEST(report_is_handed_on_as_it_is)
{
    struct cli_opts o;
    struct printed p;
    ASSERT_EQ(PARSE(&o, &p, "report", "--bogus", "-o", "d"), CLI_REPORT);
    ASSERT_STREQ(p.err, "");
    ASSERT_EQ(PARSE(&o, &p, "-q", "report"), CLI_EXIT); /* only as the first argument */
}

TEST(at_most_CLI_MAX_FILES_files)
{
    static const char *args[2 + 2 * (CLI_MAX_FILES + 1)];
    size_t n = 0;
    args[n++] = "postcard";
    for (int i = 0; i <= CLI_MAX_FILES; i++) {
        args[n++] = "-r";
        args[n++] = "a.pcap";
    }
    args[n] = NULL;
    struct cli_opts o;
    struct printed p;
    ASSERT_EQ(parse_args(&o, args, &p), CLI_EXIT);
    ASSERT_EQ(o.status, 2);
    ASSERT_STREQ(p.err, "postcard: at most 1024 -r files\n");
    args[n - 2] = NULL;
    ASSERT_EQ(parse_args(&o, args, &p), CLI_RUN);
    ASSERT_EQ(o.n_files, CLI_MAX_FILES);
}

TEST(a_second_command_line_is_read_afresh)
{
    struct cli_opts o;
    struct printed p;
    ASSERT_EQ(PARSE(&o, &p, "-q", "-r", "a", "tcp"), CLI_RUN);
    ASSERT_EQ(PARSE(&o, &p, "-r", "b"), CLI_RUN);
    ASSERT(!o.is_quiet);
    ASSERT_EQ(o.n_files, 1);
    ASSERT_STREQ(o.files[0], "b");
    ASSERT_EQ(o.n_filter, 0);
}

TEST(privilege_options_are_read_and_g_needs_u)
{
    struct cli_opts o;
    struct printed p;
    ASSERT_EQ(PARSE(&o, &p, "-i", "eth0"), CLI_RUN);
    ASSERT(o.user == NULL && o.group == NULL && !o.allow_core_dumps);
    ASSERT_EQ(PARSE(&o, &p, "-i", "eth0", "-u", "nobody", "-g", "nogroup", "--allow-core-dumps"),
              CLI_RUN);
    ASSERT_STREQ(o.user, "nobody");
    ASSERT_STREQ(o.group, "nogroup");
    ASSERT(o.allow_core_dumps);
    ASSERT_USAGE_ERROR("postcard: -g GROUP needs -u USER (see --help)\n", "-i", "eth0", "-g",
                       "nogroup");
    ASSERT_USAGE_ERROR("postcard: -u: empty name\n", "-i", "eth0", "-u", "");
}

TEST(redis_password_file_needs_redis)
{
    struct cli_opts o;
    struct printed p;
    ASSERT_EQ(PARSE(&o, &p, "-r", "a", "--redis", "redis://h", "--redis-password-file", "/pw"),
              CLI_RUN);
    ASSERT_STREQ(o.redis_password_file, "/pw");
    ASSERT_USAGE_ERROR("postcard: --redis-password-file needs --redis URL\n", "-r", "a",
                       "--redis-password-file", "/pw");
}

/* Parse a command line held in writable strings, as the kernel gives them to main. */
static enum cli_action parse_writable(struct cli_opts *o, char **argv, int argc)
{
    struct printed p;
    argv[argc] = NULL;
    return parse_args(o, (const char **)argv, &p);
}

TEST(a_password_in_the_redis_url_is_scrubbed_from_argv)
{
    char a0[] = "postcard", a1[] = "-r", a2[] = "a", a3[] = "--redis",
         a4[] = "redis://sensor:hunter%402@h:6379/2", a5[] = "--redis=unix://:s3cret@/run/r.sock";
    char *argv[] = {a0, a1, a2, a3, a4, a5, NULL};
    struct cli_opts o;
    ASSERT_EQ(parse_writable(&o, argv, 6), CLI_RUN);
    ASSERT_STREQ(a4, "redis://sensor:xxxxxxxxxx@h:6379/2");
    ASSERT_STREQ(a5, "--redis=unix://:xxxxxx@/run/r.sock");
    ASSERT_STREQ(o.ro.url, "unix://:s3cret@/run/r.sock"); /* the last --redis, kept apart */
    cli_wipe(&o);
    ASSERT_STREQ(o.redis_url, "");
}

TEST(a_redis_url_without_password_is_left_as_it_is)
{
    char a0[] = "postcard", a1[] = "-r", a2[] = "a", a3[] = "--redis", a4[] = "redis://sensor@h";
    char *argv[] = {a0, a1, a2, a3, a4, NULL};
    struct cli_opts o;
    ASSERT_EQ(parse_writable(&o, argv, 5), CLI_RUN);
    ASSERT_STREQ(a4, "redis://sensor@h");
    ASSERT_STREQ(o.ro.url, "redis://sensor@h");
}

TEST(a_redis_url_too_long_is_a_usage_error_and_still_scrubbed)
{
    static char url[CLI_REDIS_URL_MAX + 64];
    snprintf(url, sizeof url, "redis://:hunter2@");
    size_t n = strlen(url);
    memset(url + n, 'h', sizeof url - n - 1);
    char a0[] = "postcard", a1[] = "-r", a2[] = "a", a3[] = "--redis";
    char *argv[] = {a0, a1, a2, a3, url, NULL};
    struct cli_opts o;
    struct printed p;
    argv[5] = NULL;
    ASSERT_EQ(parse_args(&o, (const char **)argv, &p), CLI_EXIT);
    ASSERT_EQ(o.status, 2);
    ASSERT_STREQ(p.err, "postcard: --redis: the URL is longer than 2047 bytes\n");
    ASSERT(strncmp(url, "redis://:xxxxxxx@", 17) == 0);
}

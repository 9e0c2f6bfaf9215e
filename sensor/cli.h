/*
 * cli.h — the command line (docs/cli.md) read into one struct cli_opts:
 *
 *   postcard [options] -r FILE [-r FILE ...] [filter expression]
 *   postcard [options] -i IFACE [filter expression]
 *   postcard report ...                  (handed to report_main as it is)
 *
 * Reading it opens nothing and runs nothing: cli_parse says what to do next.
 * It prints --help, --version and every usage error itself (exit status 2).
 */
#ifndef POSTCARD_CLI_H
#define POSTCARD_CLI_H

#include <stdbool.h>

#include "eve/anon.h"
#include "output/out-redis.h"
#include "packet/capture.h"
#include "sensor.h"

#define CLI_MAX_FILES 1024     /* -r options in one run: the size of files[] */
#define CLI_REDIS_URL_MAX 2048 /* --redis URL: every part at its longest, %-encoded */

/* What the command line asks for. */
enum cli_action {
    CLI_RUN,         /* read the -r files, or listen on -i */
    CLI_EXIT,        /* exit at once with status: --help, --version, a usage error */
    CLI_CHECK_RULES, /* --check-rules: check the rules of rules_path (and config), exit */
    CLI_KEYGEN,      /* --anonymize-keygen: write the key file anon_keygen, exit */
    CLI_REPORT,      /* postcard report ...: argv[1..] goes to report_main */
};

struct cli_opts {
    int status;                       /* CLI_EXIT: the exit status (0, or 2: usage error) */
    const char *files[CLI_MAX_FILES]; /* -r FILE, in order ("-": stdin) */
    int n_files;                      /* entries used in files */
    const char *iface;                /* -i IFACE, NULL: read files */
    char **filter;                    /* the arguments after the options (borrowed from argv) */
    int n_filter;                     /* entries in filter: together one BPF expression */
    struct live_opts lo;              /* -s, -B, -p, --immediate-mode */
    double drop_warn;                 /* --drop-warn: % of an interval's packets dropped (0: off) */
    struct sensor_opts so;            /* analysis, records, --flow-timeout (hash_seed: caller) */
    bool is_quiet;                    /* -q: no progress, no summary */
    const char *rules_path;           /* -R, NULL: the default rules directory */
    const char *config;               /* --config, NULL: no variables */
    bool is_check_rules;              /* --check-rules */
    bool is_no_rules;                 /* --no-rules: no rules, no alerts (not with -R) */
    const char *wfile;                /* -w, NULL: stdout */
    const char *sensor_id;            /* --sensor-id, NULL: the host name */
    bool has_stats_interval;          /* --stats-interval given (else the default is in so) */
    const char *summary;              /* --summary FILE, NULL: none */
    const char *geoip;                /* --geoip, NULL: none */
    const char *asn;                  /* --asn, NULL: none */
    const char *anon_key;             /* --anonymize KEYFILE, NULL: none */
    bool has_anon_users;              /* --anonymize-users given */
    enum anon_users anon_users;       /* --anonymize-users (default: drop) */
    const char *anon_keygen;          /* --anonymize-keygen FILE, NULL: none */
    struct redis_opts ro;             /* --redis (ro.url, NULL: none), --redis-key, --redis-* */
    const char *redis_password_file;  /* --redis-password-file FILE, NULL: none */
    char redis_url[CLI_REDIS_URL_MAX]; /* ro.url: the --redis URL copied, argv scrubbed of its
                                        * password; wiped with cli_wipe */
    const char *user;                  /* -u USER, NULL: stay who started postcard */
    const char *group;                 /* -g GROUP (with -u), NULL: the user's group */
    bool allow_core_dumps;             /* --allow-core-dumps */
};

/*
 * Read the command line into o. --help, --version and usage errors are printed here
 * (CLI_EXIT with o->status); rules_dir is the default of -R, as --help shows it.
 * A password in the --redis URL is overwritten in argv with 'x's (what ps and
 * /proc/PID/cmdline show): o->ro.url is a copy, in o->redis_url.
 */
enum cli_action cli_parse(int argc, char **argv, const char *rules_dir, struct cli_opts *o);

/* Wipe the copy of the --redis URL (and its password) once the outputs are open. */
void cli_wipe(struct cli_opts *o);

/* The filter arguments joined by spaces ("" when none): a new string, the caller frees it. */
char *cli_filter(const struct cli_opts *o);

#endif

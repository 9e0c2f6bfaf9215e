/*
 * fuzz-config.c — postcard's configuration. Today that is the command line
 * (sensor/cli.c: getopt_long, each option's value and range, the options
 * taken together, the filter words); a configuration file's parser joins
 * this target when postcard has one. The rule variables of --config are
 * fuzzed with the rules (fuzz-rules.c).
 *
 * The input: the arguments after "postcard", separated by NUL bytes (at
 * most 256 of them). cli_parse never exits the process: it answers with an
 * action (and an exit status for CLI_EXIT), so every input comes back here.
 * Its messages (--help, usage errors) go to /dev/null while it runs.
 *
 * Checked: the action is one of cli.h's; CLI_EXIT has status 0 or 2; a run
 * reads files or an interface, not both, and its filter words are the last
 * arguments; every string the options keep points into the arguments
 * (ASan: they are copies of exactly their length) and every value is within
 * its documented range; the filter joins the words; a second parse of the
 * same arguments gives the same result (getopt's state is reset).
 */
#include <fcntl.h>
#include <unistd.h>

#include "cli.h"
#include "fuzz.h"
#include "sensor-limits.h"

#define ARGS_MAX 256

static int devnull = -1;

/* Is s one of the n arguments (the very pointer, not a copy)? */
static bool is_arg(const char *s, char **argv, int n)
{
    if (s == NULL)
        return true;
    for (int i = 0; i < n; i++)
        if (s == argv[i] || (s > argv[i] && s <= argv[i] + strlen(argv[i])))
            return true;
    return false;
}

static enum cli_action parse_quietly(int argc, char **argv, struct cli_opts *o)
{
    fflush(stdout);
    fflush(stderr);
    int out = dup(1), err = dup(2);
    dup2(devnull, 1);
    dup2(devnull, 2);
    enum cli_action a = cli_parse(argc, argv, "/usr/share/postcard/rules", o);
    fflush(stdout);
    fflush(stderr);
    dup2(out, 1);
    dup2(err, 2);
    close(out);
    close(err);
    return a;
}

static void check(enum cli_action a, const struct cli_opts *o, int argc, char **argv)
{
    switch (a) {
    case CLI_EXIT:
        if (o->status != 0 && o->status != 2)
            FUZZ_FAIL("exit status %d", o->status);
        return;
    case CLI_REPORT:
        if (argc < 2 || strcmp(argv[1], "report") != 0)
            FUZZ_FAIL("CLI_REPORT without \"report\"");
        return;
    case CLI_CHECK_RULES:
        if (o->rules_path == NULL)
            FUZZ_FAIL("--check-rules without -R");
        break;
    case CLI_KEYGEN:
        if (o->anon_keygen == NULL)
            FUZZ_FAIL("CLI_KEYGEN without a file");
        break;
    case CLI_RUN:
        if ((o->n_files > 0) == (o->iface != NULL))
            FUZZ_FAIL("a run with %d files and %s interface", o->n_files, o->iface ? "an" : "no");
        break;
    default:
        FUZZ_FAIL("action %d", (int)a);
    }
    if (o->n_files < 0 || o->n_files > CLI_MAX_FILES)
        FUZZ_FAIL("%d files", o->n_files);
    for (int i = 0; i < o->n_files; i++)
        if (!is_arg(o->files[i], argv, argc))
            FUZZ_FAIL("-r %d is not an argument", i);
    const char *kept[] = {o->iface,      o->rules_path, o->config,      o->wfile,    o->sensor_id,
                          o->summary,    o->geoip,      o->asn,         o->anon_key, o->anon_keygen,
                          o->so.ca_file, o->ro.key,     o->ro.spool_dir};
    struct redis_opts def; /* its strings are the defaults' or arguments */
    redis_opts_default(&def);
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++)
        if (!is_arg(kept[i], argv, argc) && kept[i] != def.key && kept[i] != def.spool_dir)
            FUZZ_FAIL("option string %zu is not an argument", i);
    /* the --redis URL is a copy (its password is scrubbed from argv): held in the options */
    if (o->ro.url != NULL &&
        (o->ro.url != o->redis_url || strlen(o->redis_url) >= sizeof o->redis_url))
        FUZZ_FAIL("the --redis URL is not the options' copy");
    if (o->n_filter < 0 || o->n_filter > argc ||
        (o->n_filter > 0 && o->filter + o->n_filter != argv + argc))
        FUZZ_FAIL("the filter words are not the last arguments");
    if (o->so.max_flows > FLOW_MAX_LIMIT || o->lo.snaplen < 64 || o->lo.snaplen > 262144 ||
        !(o->drop_warn >= 0 && o->drop_warn <= 100) || o->so.stats_interval > 86400)
        FUZZ_FAIL("a value out of its range");
    for (int c = 0; c < FLOW_TC_COUNT; c++)
        if (o->so.flow_timeout[c] < 0 || o->so.flow_timeout[c] > FLOW_TIMEOUT_MAX_S * 1000000LL)
            FUZZ_FAIL("flow timeout %d: %lld", c, (long long)o->so.flow_timeout[c]);
    char *f = cli_filter(o);
    size_t want = 0;
    for (int i = 0; i < o->n_filter; i++)
        want += strlen(o->filter[i]) + (i > 0);
    if (strlen(f) != want)
        FUZZ_FAIL("the filter is %zu bytes, its words %zu", strlen(f), want);
    free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (devnull < 0) {
        devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (devnull < 0)
            FUZZ_FAIL("cannot open /dev/null");
    }
    char *argv[ARGS_MAX + 2];
    int argc = 0;
    argv[argc++] = fuzz_strndup((const uint8_t *)"postcard", 8);
    for (size_t i = 0; i <= size && argc <= ARGS_MAX;) {
        const uint8_t *nul = memchr(data + i, 0, size - i);
        size_t end = nul ? (size_t)(nul - data) : size;
        argv[argc++] = fuzz_strndup(data + i, end - i); /* exactly its length + NUL */
        i = end + 1;
    }
    argv[argc] = NULL;
    char *saved[ARGS_MAX + 2]; /* getopt_long may permute; "+" says it must not */
    memcpy(saved, argv, sizeof saved);
    struct cli_opts o, again;
    enum cli_action a = parse_quietly(argc, argv, &o);
    for (int i = 0; i < argc; i++)
        if (argv[i] != saved[i])
            FUZZ_FAIL("argument %d moved", i);
    check(a, &o, argc, argv);
    enum cli_action b = parse_quietly(argc, argv, &again);
    if (a != b || o.status != again.status || o.n_files != again.n_files ||
        o.n_filter != again.n_filter || o.so.max_flows != again.so.max_flows)
        FUZZ_FAIL("a second parse of the same arguments differs");
    for (int i = 0; i < argc; i++)
        free(argv[i]);
    return 0;
}

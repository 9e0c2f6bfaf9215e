/*
 * report.c — `postcard report [-o DIR] SUMMARY.json...`, the command line
 * of the report: read each summary (bounded), check it, merge them in the
 * order given, write report.json, report.md and report.html into DIR (the
 * current directory by default).
 *
 *   exit 0  the three files are written
 *   exit 1  an input could not be read, parsed, checked or merged, or an
 *           output could not be written (message: file:line:col: what)
 *   exit 2  usage
 *
 * Like main.c for the sensor, this is the only file of the report that
 * prints. Each output is written to a temporary name in DIR and renamed
 * into place, so a reader never sees half a report.
 *
 * Hazards:
 *   [REPORT-INPUT-SIZE]  a file is read up to REPORT_JSON_MAX_BYTES and refused past
 *                        it, whatever it is (a FIFO, /dev/zero, a huge file)
 */
#include "report/report.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sensor-limits.h"

static void usage(FILE *f)
{
    fputs("usage: postcard report [-o DIR] SUMMARY.json...\n"
          "\n"
          "Merges summaries written by `postcard --summary FILE` (from several runs or\n"
          "sensors: counts add up exactly) and writes report.md, report.html and\n"
          "report.json into the current directory.\n"
          "\n"
          "  -o DIR      write the three files into DIR (made if missing)\n"
          "  -h, --help  this help\n"
          "\n"
          "A summary may be - for stdin. The merged report.json is itself a summary,\n"
          "so reports can be merged again.\n",
          f);
}

/* The whole of a file, NUL-terminated, in a new buffer; NULL with e set. */
static char *slurp(const char *path, size_t *n, struct err *e)
{
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (f == NULL) {
        err_set(e, "%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 64 * 1024, len = 0;
    char *buf = xmalloc(cap + 1);
    for (;;) {
        if (len == cap) {
            if (cap == (size_t)REPORT_JSON_MAX_BYTES + 1) { /* [REPORT-INPUT-SIZE] */
                err_set(e, "%s: larger than %d MiB", path, REPORT_JSON_MAX_BYTES / (1024 * 1024));
                goto bad;
            }
            cap = cap * 2 > (size_t)REPORT_JSON_MAX_BYTES + 1 ? (size_t)REPORT_JSON_MAX_BYTES + 1
                                                              : cap * 2;
            char *nb = realloc(buf, cap + 1);
            if (nb == NULL) {
                err_set(e, "%s: out of memory", path);
                goto bad;
            }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f)) {
                err_set(e, "%s: %s", path, strerror(errno));
                goto bad;
            }
            break;
        }
    }
    if (!is_stdin)
        fclose(f);
    buf[len] = '\0';
    *n = len;
    return buf;
bad:
    if (!is_stdin)
        fclose(f);
    free(buf);
    return NULL;
}

struct warn_ctx {
    const char *path; /* the file being checked */
};

static void print_warning(void *ctx, uint32_t line, uint32_t col, const char *msg)
{
    const struct warn_ctx *w = ctx;
    fprintf(stderr, "postcard: %s:%u:%u: warning: %s\n", w->path, line, col, msg);
}

/* Read and check one summary. NULL with e set ("file:line:col: message"). */
static struct jval *load(const char *path, struct err *e)
{
    size_t n;
    char *text = slurp(path, &n, e);
    if (text == NULL)
        return NULL;
    struct jread_err je;
    struct jval *doc = jsonread_parse(text, n, &je);
    free(text);
    if (doc == NULL) {
        err_set(e, "%s:%u:%u: %s", path, je.line, je.col, je.msg);
        return NULL;
    }
    struct warn_ctx w = {path};
    struct report_diag d = {print_warning, &w, {0, 0, ""}};
    if (report_check(doc, &d) != 0) {
        err_set(e, "%s:%u:%u: %s", path, d.err.line, d.err.col, d.err.msg);
        jval_free(doc);
        return NULL;
    }
    return doc;
}

typedef int (*writer_fn)(FILE *f, const struct jval *doc);

/* Write dir/name through a temporary file renamed into place. */
static int write_one(const char *dir, const char *name, writer_fn fn, const struct jval *doc,
                     struct err *e)
{
    char path[PATH_BYTES], tmp[PATH_BYTES];
    int n1 = snprintf(path, sizeof path, "%s/%s", dir, name);
    int n2 = snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
    if (n1 < 0 || n2 < 0 || (size_t)n2 >= sizeof tmp)
        return err_set(e, "%s: directory name too long", dir);
    FILE *f = fopen(tmp, "w");
    if (f == NULL)
        return err_set(e, "%s: %s", tmp, strerror(errno));
    errno = 0; /* what a failed write leaves here is the reason */
    int rc = fn(f, doc);
    if (fflush(f) != 0)
        rc = -1;
    int saved = errno;
    if (fclose(f) != 0 && rc == 0) {
        rc = -1;
        saved = errno;
    }
    if (rc != 0) {
        remove(tmp);
        return err_set(e, "%s: %s", tmp, strerror(saved ? saved : EIO));
    }
    if (rename(tmp, path) != 0) {
        saved = errno;
        remove(tmp);
        return err_set(e, "%s: %s", path, strerror(saved));
    }
    return 0;
}

int report_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {"output", required_argument, NULL, 'o'},
        {NULL, 0, NULL, 0},
    };
    const char *dir = ".";
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "+o:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'o':
            dir = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "postcard report: no summary given\n");
        usage(stderr);
        return 2;
    }
    if (*dir == '\0') {
        fprintf(stderr, "postcard report: -o: empty directory name\n");
        return 2;
    }

    struct err e = {""};
    struct jval *acc = NULL;
    const char *acc_name = NULL; /* the first input: merged ones agree with it on "anonymized" */
    for (int i = optind; i < argc; i++) {
        struct jval *doc = load(argv[i], &e);
        if (doc == NULL)
            goto fail;
        if (acc == NULL) {
            acc = doc;
            acc_name = argv[i];
            continue;
        }
        struct jval *m = report_merge(acc, acc_name, doc, argv[i], &e);
        jval_free(doc);
        if (m == NULL)
            goto fail;
        jval_free(acc);
        acc = m;
    }

    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        err_set(&e, "%s: %s", dir, strerror(errno));
        goto fail;
    }
    if (write_one(dir, "report.json", jval_write, acc, &e) != 0 ||
        write_one(dir, "report.md", report_write_md, acc, &e) != 0 ||
        write_one(dir, "report.html", report_write_html, acc, &e) != 0)
        goto fail;
    char sessions[40];
    rv_count(sessions, sizeof sessions, rv_u64(rv_obj(acc, "totals"), "sessions"));
    printf("postcard report: %d summar%s, %s mail sessions: %s/report.md, %s/report.html, "
           "%s/report.json\n",
           argc - optind, argc - optind == 1 ? "y" : "ies", sessions, dir, dir, dir);
    jval_free(acc);
    return 0;
fail:
    fprintf(stderr, "postcard: %s\n", e.msg);
    jval_free(acc);
    return 1;
}

/*
 * out-file.c — JSON lines to stdout or to a file opened for appending,
 * through a large stdio buffer (no syscall per record). SIGHUP reopens the
 * file by its name, so logrotate can move it away (the "create" or
 * "copytruncate" styles both work).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sensor-limits.h"
#include "output/output.h"

struct out_file {
    struct output o; /* the interface (first member) */
    FILE *f;         /* stdout or the file */
    char *buf;       /* stdio buffer */
    char *path;      /* file path, NULL for stdout */
};

static int of_write(struct output *o, enum rec_type t, const char *line, size_t n)
{
    (void)t;
    struct out_file *of = (struct out_file *)o;
    if (fwrite(line, 1, n, of->f) != n) {
        o->failed++;
        return -1;
    }
    o->written++;
    return 0;
}

static int of_flush(struct output *o)
{
    struct out_file *of = (struct out_file *)o;
    return fflush(of->f) == 0 ? 0 : -1;
}

static int of_reopen(struct output *o, struct err *e)
{
    struct out_file *of = (struct out_file *)o;
    if (of->path == NULL)
        return 0;
    FILE *nf = fopen(of->path, "a");
    if (nf == NULL) { /* keep writing to the old file rather than lose records */
        err_set(e, "%s: cannot reopen: %s (still writing to the file opened before)", of->path,
                strerror(errno));
        return -1;
    }
    int rc = fclose(of->f) == 0 ? 0 : -1; /* flushes into the old file */
    of->f = nf;
    setvbuf(of->f, of->buf, _IOFBF, OUT_BUF_BYTES);
    if (rc != 0)
        err_set(e, "%s: records buffered for the old file could not be written", of->path);
    return rc;
}

static int of_close(struct output *o, struct err *e)
{
    struct out_file *of = (struct out_file *)o;
    int rc = fflush(of->f) == 0 ? 0 : -1;
    if (of->path != NULL) {
        if (fclose(of->f) != 0)
            rc = -1;
    } else {
        setvbuf(stdout, NULL, _IOLBF, 0);
    }
    if (rc != 0)
        err_set(e, "%s: the last records could not be written: %s", o->name, strerror(errno));
    free(of->buf);
    free(of->path);
    free(of);
    return rc;
}

struct output *out_file_open(const char *path, struct err *e)
{
    struct out_file *of = xcalloc(1, sizeof *of);
    if (path == NULL || strcmp(path, "-") == 0) {
        of->f = stdout;
        of->o.name = "stdout";
    } else {
        of->f = fopen(path, "a");
        if (of->f == NULL) {
            err_set(e, "%s: %s", path, strerror(errno));
            free(of);
            return NULL;
        }
        of->path = strdup(path);
        of->o.name = of->path;
    }
    of->buf = xmalloc(OUT_BUF_BYTES);
    setvbuf(of->f, of->buf, _IOFBF, OUT_BUF_BYTES);
    of->o.types = REC_ALL;
    of->o.write = of_write;
    of->o.reopen = of_reopen;
    of->o.flush = of_flush;
    of->o.close = of_close;
    return &of->o;
}

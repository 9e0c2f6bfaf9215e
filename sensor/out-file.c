/*
 * out-file.c — JSON lines to stdout or to a file opened for appending,
 * through a large stdio buffer (no syscall per record).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "limits.h"
#include "output.h"

struct out_file {
    struct output o; /* the interface (first member) */
    FILE *f;         /* stdout or the file */
    char *buf;       /* stdio buffer */
    char *path;      /* file path, NULL for stdout */
};

static int of_write(struct output *o, const char *line, size_t n)
{
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

static void of_close(struct output *o)
{
    struct out_file *of = (struct out_file *)o;
    fflush(of->f);
    if (of->path != NULL)
        fclose(of->f);
    else
        setvbuf(stdout, NULL, _IOLBF, 0);
    free(of->buf);
    free(of->path);
    free(of);
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
    of->o.write = of_write;
    of->o.flush = of_flush;
    of->o.close = of_close;
    return &of->o;
}

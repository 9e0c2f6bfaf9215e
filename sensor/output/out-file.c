/*
 * out-file.c — JSON lines to stdout or to a file opened for appending.
 *
 * Records are gathered in a buffer that only ever holds whole records, and
 * the buffer is handed to the kernel with write(2): the file grows by whole
 * lines only, so a reader (tail -F, a log shipper) never meets half a record
 * and a crash leaves none behind.
 *
 *   write ──▶ buffer of whole records ──(no room)──▶ write(2) loop ──▶ fd
 *             a record larger than the buffer: the buffer first, then the record alone
 *   push, flush, reopen, close, and live an alert record ──▶ write(2) loop ──▶ fd
 *
 * Reading capture files, the buffer goes out when it is full (one system
 * call per OUT_BUF_BYTES). Live (-i), it also goes out on every push (the
 * clock tick, at least every second) and at once after an alert record, so
 * a reader sees an alert as soon as it is decided. SIGHUP reopens the file
 * by its name, so logrotate can move it away (the "create" or "copytruncate"
 * styles both work): what was buffered for the old file goes to the old file.
 *
 * Hazards:
 *   [OUT-FILE-SHORT]  write(2) may take part of what it is given (a signal, a pipe): the
 *                     rest is written in a loop; EINTR is tried again, EAGAIN (a
 *                     non-blocking stdout) waits until the descriptor can take more
 *   [OUT-FILE-ERROR]  a write that fails (disk full, the reader of a pipe gone): the records
 *                     that did not get out are counted failed and dropped, never a crash; a
 *                     record cut short at the end of a regular file is truncated away, so
 *                     the next record starts a line of its own
 *   [OUT-FILE-KILL]   SIGKILL while the kernel copies one write(2) into the page cache may
 *                     stop the copy at a page boundary (Linux checks for a fatal signal
 *                     between pages): the one way half a record can stay at the end of the
 *                     file. Opening the file cuts off such an unfinished record, so the
 *                     next run appends whole lines after whole lines
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sensor-limits.h"
#include "output/output.h"

struct out_file {
    struct output o; /* the interface (first member) */
    int fd;          /* STDOUT_FILENO or the file */
    char *path;      /* file path, NULL for stdout */
    bool is_live;    /* a live capture: push on the clock tick and after an alert */
    char *buf;       /* whole records waiting for write(2) */
    size_t len;      /* bytes in buf */
    size_t n_recs;   /* records in buf */
};

/*
 * [OUT-FILE-SHORT] Write p[0..n): the bytes written, n unless an error stopped it (its errno
 * in *err).
 */
static size_t write_all(int fd, const char *p, size_t n, int *err)
{
    size_t done = 0;
    while (done < n) {
        ssize_t k = write(fd, p + done, n - done);
        if (k > 0) {
            done += (size_t)k;
        } else if (k < 0 && errno == EINTR) {
            continue;
        } else if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};
            (void)poll(&pfd, 1, -1); /* what a blocking descriptor would do */
        } else {
            *err = k < 0 ? errno : EIO; /* 0 bytes taken: would loop for ever */
            break;
        }
    }
    return done;
}

/*
 * [OUT-FILE-ERROR] p[0..n) held n_recs records and only p[0..done) was written: the records
 * not wholly written are lost (counted failed, no longer written), and a record cut short at
 * the end of a regular file is truncated away.
 */
static void count_lost(struct out_file *of, int fd, const char *p, size_t done, size_t n_recs)
{
    size_t whole = 0; /* records wholly written */
    const char *nl;
    for (const char *q = p; (nl = memchr(q, '\n', (size_t)(p + done - q))) != NULL; q = nl + 1)
        whole++;
    nl = done > 0 ? memrchr(p, '\n', done) : NULL;
    size_t end = nl != NULL ? (size_t)(nl + 1 - p) : 0; /* where the last whole one ends */
    struct stat sb;
    if (done > end && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
        sb.st_size >= (off_t)(done - end))
        (void)ftruncate(fd, sb.st_size - (off_t)(done - end)); /* nothing better to do if not */
    size_t lost = n_recs > whole ? n_recs - whole : 0;
    of->o.failed += lost;
    of->o.written -= lost < of->o.written ? lost : of->o.written;
}

/* Hand the buffer to fd. 0, or -1 when records were lost (counted). */
static int drain(struct out_file *of, int fd)
{
    if (of->len == 0)
        return 0;
    int err = 0;
    size_t done = write_all(fd, of->buf, of->len, &err);
    int rc = 0;
    if (done < of->len) {
        count_lost(of, fd, of->buf, done, of->n_recs);
        errno = err;
        rc = -1;
    }
    of->len = 0;
    of->n_recs = 0;
    return rc;
}

static int of_write(struct output *o, enum rec_type t, const char *line, size_t n)
{
    struct out_file *of = (struct out_file *)o;
    if (n > OUT_BUF_BYTES - of->len)
        drain(of, of->fd);   /* a failure is counted against the records it lost */
    if (n > OUT_BUF_BYTES) { /* on its own: the buffer is empty now */
        int err = 0;
        size_t done = write_all(of->fd, line, n, &err);
        if (done < n) {
            o->written++; /* count_lost takes it back */
            count_lost(of, of->fd, line, done, 1);
            return -1;
        }
        o->written++;
        return 0;
    }
    memcpy(of->buf + of->len, line, n);
    of->len += n;
    of->n_recs++;
    o->written++;
    if (of->is_live && t == REC_ALERT) /* a reader sees the alert now, not at the next tick */
        drain(of, of->fd);
    return 0;
}

static int of_push(struct output *o)
{
    struct out_file *of = (struct out_file *)o;
    return drain(of, of->fd);
}

/*
 * [OUT-FILE-KILL] A file whose end is a record cut short (a postcard killed while the kernel
 * copied its write) is cut back to its last whole line, so the records written now start a
 * line of their own. Only a tail that is the start of a record is cut: the file is left alone
 * when it ends otherwise.
 */
static void cut_partial_record(const char *path, int fd)
{
    static const char start[] = "{\"timestamp\":"; /* how every record begins (eve.c) */
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size == 0)
        return;
    int rfd = open(path, O_RDONLY | O_CLOEXEC); /* fd may be write-only */
    char *tail = rfd >= 0 ? malloc(JSON_LINE_MAX + 1) : NULL;
    off_t from = sb.st_size > JSON_LINE_MAX + 1 ? sb.st_size - (JSON_LINE_MAX + 1) : 0;
    ssize_t k = tail != NULL ? pread(rfd, tail, (size_t)(sb.st_size - from), from) : -1;
    if (k == (ssize_t)(sb.st_size - from) && tail[k - 1] != '\n') {
        const char *nl = memrchr(tail, '\n', (size_t)k);
        size_t keep = nl != NULL ? (size_t)(nl + 1 - tail) : 0;
        size_t cut = (size_t)k - keep, cmp = cut < sizeof start - 1 ? cut : sizeof start - 1;
        if ((nl != NULL || from == 0) && memcmp(tail + keep, start, cmp) == 0)
            (void)ftruncate(fd, from + (off_t)keep); /* nothing better to do if not */
    }
    free(tail);
    if (rfd >= 0)
        close(rfd);
}

static int open_append(const char *path, struct err *e)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0)
        return err_set(e, "%s: %s", path, strerror(errno));
    cut_partial_record(path, fd);
    return fd;
}

static int of_reopen(struct output *o, struct err *e)
{
    struct out_file *of = (struct out_file *)o;
    if (of->path == NULL)
        return 0;
    struct err oe = {""};
    int nfd = open_append(of->path, &oe);
    if (nfd < 0) /* keep writing to the old file rather than lose records */
        return err_set(e, "%s (cannot reopen: still writing to the file opened before)", oe.msg);
    int rc = drain(of, of->fd); /* what was buffered for the old file goes to it */
    int saved = errno;
    close(of->fd);
    of->fd = nfd;
    if (rc != 0)
        err_set(e, "%s: records buffered for the old file could not be written: %s", of->path,
                strerror(saved));
    return rc;
}

static int of_close(struct output *o, struct err *e)
{
    struct out_file *of = (struct out_file *)o;
    unsigned long long failed = o->failed;
    int rc = drain(of, of->fd);
    int saved = errno;
    if (rc != 0)
        err_set(e, "%s: the last %llu records could not be written: %s", o->name,
                o->failed - failed, strerror(saved));
    if (of->path != NULL && close(of->fd) != 0 && rc == 0)
        rc = err_set(e, "%s: %s", o->name, strerror(errno)); /* NFS: the write fails here */
    free(of->buf);
    free(of->path);
    free(of);
    return rc;
}

static int of_flush(struct output *o)
{
    struct out_file *of = (struct out_file *)o;
    return drain(of, of->fd);
}

struct output *out_file_open(const char *path, bool is_live, struct err *e)
{
    struct out_file *of = xcalloc(1, sizeof *of);
    if (path == NULL || strcmp(path, "-") == 0) {
        of->fd = STDOUT_FILENO;
        of->o.name = "stdout";
    } else {
        of->fd = open_append(path, e);
        if (of->fd < 0) {
            free(of);
            return NULL;
        }
        of->path = strdup(path);
        of->o.name = of->path;
    }
    of->is_live = is_live;
    of->buf = xmalloc(OUT_BUF_BYTES);
    of->o.types = REC_ALL;
    of->o.write = of_write;
    of->o.flush = of_flush;
    of->o.push = of_push;
    of->o.reopen = of_reopen;
    of->o.close = of_close;
    return &of->o;
}

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
 * Counting: a record is written once its whole line is in the file (or the
 * pipe); until then it is buffered. A buffer that cannot be written whole is
 * split: the records wholly written are written, the others failed and
 * dropped (memory stays bounded; the next buffer is tried afresh).
 *
 *   writing ok ──(a write fails)──▶ failing: said once (news) ──(a buffer goes out whole)──▶ ok,
 *                                   each failed buffer counted       said once, with the loss
 *   stdout: EPIPE ──▶ gone: said once; nothing more is written (is_gone: the run ends)
 *
 * Hazards:
 *   [OUT-FILE-SHORT]  write(2) may take part of what it is given (a signal, a pipe): the
 *                     rest is written in a loop; EINTR is tried again, EAGAIN (a
 *                     non-blocking stdout) waits until the descriptor can take more
 *   [OUT-FILE-ERROR]  a write that fails (disk full, the reader of a pipe gone): the records
 *                     that did not get out are counted failed and dropped, never a crash
 *   [OUT-FILE-HALF]   a write that stops inside a record (ENOSPC after part of a buffer):
 *                     a regular file is truncated back to its last whole line; what cannot
 *                     be truncated (a pipe, a device) gets a newline before the next record,
 *                     so that record starts a line of its own
 *   [OUT-FILE-EPIPE]  stdout closed by its reader: SIGPIPE is ignored (main.c), write(2)
 *                     says EPIPE; nothing can ever be written again, so no more is tried
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
    struct output o;       /* the interface (first member) */
    int fd;                /* STDOUT_FILENO or the file */
    char *path;            /* file path, NULL for stdout */
    bool is_live;          /* a live capture: push on the clock tick and after an alert */
    char *buf;             /* whole records waiting for write(2) */
    size_t len;            /* bytes in buf */
    bool is_mid_line;      /* the output ends inside a record it could not cut away */
    bool is_failing;       /* the last write failed (until one goes out whole) */
    bool is_told_failing;  /* is_failing as last told by news() */
    bool is_told_gone;     /* is_gone told */
    int last_errno;        /* why the last write failed (0: none ever did) */
    uint64_t bytes;        /* bytes of the records written */
    uint64_t bytes_lost;   /* bytes of the records failed */
    uint64_t errors;       /* writes that failed (each lost one buffer or one record) */
    uint64_t told_errors;  /* errors when news() last told about failing */
    uint64_t fail_records; /* o.failed when the current run of failures began */
    uint64_t fail_bytes;   /* bytes_lost then */
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
 * [OUT-FILE-HALF] The output ends with `part` bytes of a record cut short: a regular file is
 * truncated back to the line before it; anything else is marked to start the next record on
 * a new line (as is a file that could not be truncated).
 */
static void cut_half_record(struct out_file *of, size_t part)
{
    struct stat sb;
    if (fstat(of->fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size >= (off_t)part &&
        ftruncate(of->fd, sb.st_size - (off_t)part) == 0)
        return;
    of->is_mid_line = true;
}

/*
 * [OUT-FILE-ERROR] p[0..n) held n_recs whole records and only p[0..done) was written (err
 * why): the records wholly written are written, the rest failed; a record cut short is cut
 * away or ended by the next write's newline. The first failure of a run of them is news.
 */
static void count_loss(struct out_file *of, const char *p, size_t n, size_t done, size_t n_recs,
                       int err)
{
    size_t whole = 0; /* records wholly written */
    const char *nl;
    for (const char *q = p; (nl = memchr(q, '\n', (size_t)(p + done - q))) != NULL; q = nl + 1)
        whole++;
    nl = done > 0 ? memrchr(p, '\n', done) : NULL;
    size_t end = nl != NULL ? (size_t)(nl + 1 - p) : 0; /* where the last whole one ends */
    if (done > end)
        cut_half_record(of, done - end);
    if (!of->is_failing) {
        of->is_failing = true;
        of->fail_records = of->o.failed;
        of->fail_bytes = of->bytes_lost;
    }
    size_t lost = n_recs > whole ? n_recs - whole : 0;
    of->o.written += whole;
    of->o.failed += lost;
    of->bytes += end;
    of->bytes_lost += n - end;
    of->errors++;
    of->last_errno = err;
    if (err == EPIPE && of->path == NULL) { /* [OUT-FILE-EPIPE] */
        of->o.is_gone = true;
        of->o.cut += lost;
    }
    of->o.has_news = true;
}

/* p[0..n), n_recs whole records, to the file. 0, or -1 when records were lost (counted). */
static int put(struct out_file *of, const char *p, size_t n, size_t n_recs)
{
    int err = 0;
    if (of->is_mid_line && write_all(of->fd, "\n", 1, &err) == 1) /* [OUT-FILE-HALF] */
        of->is_mid_line = false;
    size_t done = err == 0 ? write_all(of->fd, p, n, &err) : 0;
    if (done < n) {
        count_loss(of, p, n, done, n_recs, err);
        return -1;
    }
    of->o.written += n_recs;
    of->bytes += n;
    if (of->is_failing) { /* works again: news */
        of->is_failing = false;
        of->o.has_news = true;
    }
    return 0;
}

/* Hand the buffer to the file. 0, or -1 when records were lost (counted). */
static int drain(struct out_file *of)
{
    if (of->len == 0)
        return 0;
    size_t n_recs = of->o.buffered;
    of->o.buffered = 0;
    int rc = put(of, of->buf, of->len, n_recs);
    of->len = 0;
    return rc;
}

/* [OUT-FILE-EPIPE] No reader any more: a record is failed without trying. */
static int gone(struct out_file *of, size_t n)
{
    of->o.failed++;
    of->o.cut++;
    of->bytes_lost += n;
    return -1;
}

static int of_write(struct output *o, enum rec_type t, const char *line, size_t n)
{
    struct out_file *of = (struct out_file *)o;
    if (o->is_gone)
        return gone(of, n);
    if (n > OUT_BUF_BYTES - of->len) {
        drain(of); /* a failure is counted against the records it lost */
        if (o->is_gone)
            return gone(of, n);
    }
    if (n > OUT_BUF_BYTES) /* on its own: the buffer is empty now */
        return put(of, line, n, 1);
    memcpy(of->buf + of->len, line, n);
    of->len += n;
    o->buffered++;
    if (of->is_live && t == REC_ALERT) /* a reader sees the alert now, not at the next tick */
        return drain(of);              /* the alert is the last record: lost if any is */
    return 0;
}

static int of_push(struct output *o)
{
    return drain((struct out_file *)o);
}

/*
 * [OUT-FILE-KILL] A file whose end is a record cut short (a postcard killed while the kernel
 * copied its write) is cut back to its last whole line, so the records written now start a
 * line of their own. Only a tail that is the start of a record is cut: the file is left alone
 * when it ends otherwise. Returns true when the file still ends inside a line (left alone, or
 * the cut failed): the first record written then starts with a newline [OUT-FILE-HALF].
 */
static bool cut_partial_record(const char *path, int fd)
{
    static const char start[] = "{\"timestamp\":"; /* how every record begins (eve.c) */
    struct stat sb;
    bool is_mid_line = false;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size == 0)
        return false;
    int rfd = open(path, O_RDONLY | O_CLOEXEC); /* fd may be write-only */
    char *tail = rfd >= 0 ? malloc(JSON_LINE_MAX + 1) : NULL;
    off_t from = sb.st_size > JSON_LINE_MAX + 1 ? sb.st_size - (JSON_LINE_MAX + 1) : 0;
    ssize_t k = tail != NULL ? pread(rfd, tail, (size_t)(sb.st_size - from), from) : -1;
    if (k == (ssize_t)(sb.st_size - from) && tail[k - 1] != '\n') {
        const char *nl = memrchr(tail, '\n', (size_t)k);
        size_t keep = nl != NULL ? (size_t)(nl + 1 - tail) : 0;
        size_t cut = (size_t)k - keep, cmp = cut < sizeof start - 1 ? cut : sizeof start - 1;
        is_mid_line = !((nl != NULL || from == 0) && memcmp(tail + keep, start, cmp) == 0 &&
                        ftruncate(fd, from + (off_t)keep) == 0);
    }
    free(tail);
    if (rfd >= 0)
        close(rfd);
    return is_mid_line;
}

/* path opened for appending, its unfinished last record cut off; *is_mid_line: it still ends
 * inside a line. The descriptor, or -1 with e set. */
static int open_append(const char *path, bool *is_mid_line, struct err *e)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0)
        return err_set(e, "%s: %s", path, strerror(errno));
    *is_mid_line = cut_partial_record(path, fd);
    return fd;
}

/* SIGHUP: what was buffered goes to the file open until now (a loss there is news), then the
 * file is opened again by its name. */
static int of_reopen(struct output *o, struct err *e)
{
    struct out_file *of = (struct out_file *)o;
    if (of->path == NULL)
        return 0;
    struct err oe = {""};
    bool is_mid_line;
    int nfd = open_append(of->path, &is_mid_line, &oe);
    if (nfd < 0) /* keep writing to the old file rather than lose records */
        return err_set(e, "%s (cannot reopen: still writing to the file opened before)", oe.msg);
    drain(of); /* what was buffered for the old file goes to it */
    int rc = 0;
    if (close(of->fd) != 0) /* NFS may say only here that a write to the old file failed */
        rc = err_set(e, "%s: closing it to open it again: %s", of->path, strerror(errno));
    of->fd = nfd;
    of->is_mid_line = is_mid_line; /* of the file now open */
    return rc;
}

static int of_close(struct output *o, struct err *e)
{
    struct out_file *of = (struct out_file *)o;
    unsigned long long failed = o->failed;
    int rc = drain(of);
    if (rc != 0)
        err_set(e, "%s: the last %llu records could not be written: %s", o->name,
                o->failed - failed, strerror(of->last_errno));
    if (of->path != NULL && close(of->fd) != 0 && rc == 0)
        rc = err_set(e, "%s: %s", o->name, strerror(errno)); /* NFS: the write fails here */
    free(of->buf);
    free(of->path);
    free(of);
    return rc;
}

static int of_flush(struct output *o)
{
    return drain((struct out_file *)o);
}

/*
 * Writing started to fail, works again, the reader went away: each said once, when it happens
 * (checked after every packet), not once per record.
 */
static bool of_news(struct output *o, struct err *e)
{
    struct out_file *of = (struct out_file *)o;
    const char *why = strerror(of->last_errno);
    unsigned long long lost = o->failed - of->fail_records;
    unsigned long long bytes = of->bytes_lost - of->fail_bytes;
    if (o->is_gone) {
        if (!of->is_told_gone) {
            of->is_told_gone = of->is_told_failing = true;
            err_set(e, "%s: closed by its reader (%s): the input is read no further", o->name, why);
            return true;
        }
    } else if (of->is_failing && !of->is_told_failing) {
        of->is_told_failing = true;
        of->told_errors = of->errors;
        err_set(e, "%s: cannot write: %s: records are lost until writing works again", o->name,
                why);
        return true;
    } else if (!of->is_failing && of->is_told_failing) {
        of->is_told_failing = false;
        of->told_errors = of->errors;
        err_set(e, "%s: writing works again; %llu records (%llu bytes) were lost (%s)", o->name,
                lost, bytes, why);
        return true;
    } else if (!of->is_failing && of->errors != of->told_errors) { /* both since the last look */
        of->told_errors = of->errors;
        err_set(e, "%s: a write failed (%s): %llu records (%llu bytes) lost; writing works again",
                o->name, why, lost, bytes);
        return true;
    }
    o->has_news = false;
    return false;
}

/* The stats record's outputs.file. */
static void of_stats(struct output *o, struct jbuf *j)
{
    struct out_file *of = (struct out_file *)o;
    j_obj(j, "file");
    j_u64(j, "written", o->written);
    j_u64(j, "buffered", o->buffered);
    j_u64(j, "failed", o->failed);
    j_u64(j, "bytes", of->bytes);
    j_u64(j, "bytes_lost", of->bytes_lost);
    j_u64(j, "errors", of->errors);
    j_bool(j, "failing", of->is_failing);
    j_bool(j, "closed_by_reader", o->is_gone);
    j_str(j, "last_error", of->last_errno != 0 ? strerror(of->last_errno) : "");
    j_obj_end(j);
}

/* At exit, when a write failed: how often, what was lost, the last reason. */
static void of_summary(struct output *o, FILE *f)
{
    struct out_file *of = (struct out_file *)o;
    if (of->errors == 0)
        return;
    fprintf(f,
            "  output errors:  %s: %llu writes failed, %llu records (%llu bytes) lost; last "
            "error: %s%s\n",
            o->name, (unsigned long long)of->errors, o->failed, (unsigned long long)of->bytes_lost,
            strerror(of->last_errno), o->is_gone ? " (closed by its reader)" : "");
}

struct output *out_file_open(const char *path, bool is_live, struct err *e)
{
    struct out_file *of = xcalloc(1, sizeof *of);
    if (path == NULL || strcmp(path, "-") == 0) {
        of->fd = STDOUT_FILENO;
        of->o.name = "stdout";
    } else {
        of->fd = open_append(path, &of->is_mid_line, e);
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
    of->o.stats = of_stats;
    of->o.summary = of_summary;
    of->o.news = of_news;
    of->o.close = of_close;
    return &of->o;
}

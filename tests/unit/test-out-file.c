/*
 * test-out-file.c — the file output (out-file.c): the file grows by whole
 * records only; reading files it keeps records until its buffer is full or
 * it is flushed, live it hands them on at each push and at once after an
 * alert; a record larger than the buffer goes out alone, in order; what was
 * buffered before SIGHUP's reopen goes to the old file; write errors are
 * counted, never fatal, and the tee in front of it counts them too; a record
 * counts as written only once its whole line is in the file; a write cut
 * short by a full file is cut back to the last whole record, told once, and
 * told again when writing works again; a pipe that cannot be cut back gets a
 * newline before the next record; stdout closed by its reader is gone; a
 * record cut short at the end of the file (a postcard killed while writing)
 * is cut off when the file is opened again.
 *
 * The full file is a real one: RLIMIT_FSIZE makes the kernel take a write
 * only up to the limit (then EFBIG), as a full disk takes it up to the last
 * free block (then ENOSPC). Each test runs in a process of its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sensor-limits.h"
#include "output/output.h"
#include "test.h"

/* A file path in a new directory of its own. */
static char *tmp_file(const char *name)
{
    static char dir[64];
    snprintf(dir, sizeof dir, "/tmp/test-out-file.XXXXXX");
    ASSERT(mkdtemp(dir) != NULL);
    size_t n = strlen(dir) + strlen(name) + 2;
    char *path = malloc(n);
    snprintf(path, n, "%s/%s", dir, name);
    return path;
}

/* The whole file in a malloc'ed, NUL-terminated string; *n its length. */
static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ASSERT(f != NULL);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)len + 1);
    ASSERT(fread(buf, 1, (size_t)len, f) == (size_t)len);
    buf[len] = '\0';
    fclose(f);
    *n = (size_t)len;
    return buf;
}

static size_t file_size(const char *path)
{
    struct stat sb;
    ASSERT(stat(path, &sb) == 0);
    return (size_t)sb.st_size;
}

/* Record i: {"timestamp":"…","i":i,"pad":"xxx…"}\n, of about len bytes. */
static size_t make_record(char *buf, size_t cap, unsigned i, size_t len)
{
    int k = snprintf(buf, cap,
                     "{\"timestamp\":\"2026-01-01T00:00:00.000000+0000\",\"i\":%u,\"pad\":\"", i);
    size_t n = (size_t)k;
    while (n + 3 < len && n + 3 < cap)
        buf[n++] = 'x';
    memcpy(buf + n, "\"}\n", 3);
    return n + 3;
}

/* Every line of text is a whole record, numbered from first on. Returns the records. */
static unsigned check_lines(const char *text, size_t n, unsigned first)
{
    unsigned i = first;
    const char *p = text;
    while (p < text + n) {
        const char *nl = memchr(p, '\n', (size_t)(text + n - p));
        ASSERT(nl != NULL); /* the file ends with a whole line */
        char want[64];
        int k = snprintf(want, sizeof want,
                         "{\"timestamp\":\"2026-01-01T00:00:00.000000+0000\",\"i\":%u,", i);
        ASSERT(strncmp(p, want, (size_t)k) == 0);
        ASSERT(nl[-1] == '}');
        p = nl + 1;
        i++;
    }
    return i - first;
}

TEST(reading_files_the_buffer_goes_out_whole_when_full_and_on_flush)
{
    char *path = tmp_file("eve.json");
    struct err e = {""};
    struct output *o = out_file_open(path, false, &e);
    ASSERT(o != NULL);
    static char rec[4096];
    unsigned i = 0;
    size_t sent = 0;
    while (sent < 3 * OUT_BUF_BYTES) { /* sizes that never divide the buffer evenly */
        size_t n = make_record(rec, sizeof rec, i, 200 + (i * 37) % 3000);
        ASSERT_EQ(o->write(o, REC_FLOW, rec, n), 0);
        sent += n;
        if (i++ % 16 != 0)
            continue;
        size_t len;
        char *text = slurp(path, &len);
        /* only ever whole records, and written counts those in the file, no more */
        ASSERT_EQ(check_lines(text, len, 0), o->written);
        ASSERT_EQ(o->written + o->buffered, i);
        ASSERT(len <= sent && sent - len <= OUT_BUF_BYTES);
        free(text);
    }
    ASSERT(file_size(path) > 0 && file_size(path) < sent); /* some are still held */
    ASSERT_EQ(o->push(o), 0); /* the same as flush: hand on what is held */
    ASSERT_EQ(file_size(path), sent);
    ASSERT_EQ(o->write(o, REC_ALERT, rec, make_record(rec, sizeof rec, i++, 300)), 0);
    ASSERT_EQ(file_size(path), sent); /* not live: an alert waits like any record */
    ASSERT_EQ(o->flush(o), 0);
    size_t len;
    char *text = slurp(path, &len);
    ASSERT_EQ(check_lines(text, len, 0), i);
    ASSERT_EQ(o->written, i);
    ASSERT_EQ(o->failed, 0);
    ASSERT_EQ(o->close(o, &e), 0);
    free(text);
    free(path);
}

TEST(live_an_alert_goes_out_at_once_and_a_push_hands_on_the_rest)
{
    char *path = tmp_file("eve.json");
    struct err e = {""};
    struct output *o = out_file_open(path, true, &e);
    ASSERT(o != NULL);
    char rec[512];
    size_t n0 = make_record(rec, sizeof rec, 0, 400);
    ASSERT_EQ(o->write(o, REC_MAIL, rec, n0), 0);
    ASSERT_EQ(file_size(path), 0); /* held until the tick */
    size_t n1 = make_record(rec, sizeof rec, 1, 300);
    ASSERT_EQ(o->write(o, REC_ALERT, rec, n1), 0);
    ASSERT_EQ(file_size(path), n0 + n1); /* the alert and what came before it */
    size_t n2 = make_record(rec, sizeof rec, 2, 500);
    ASSERT_EQ(o->write(o, REC_FLOW, rec, n2), 0);
    ASSERT_EQ(file_size(path), n0 + n1);
    ASSERT_EQ(o->push(o), 0);
    ASSERT_EQ(file_size(path), n0 + n1 + n2);
    ASSERT_EQ(o->push(o), 0); /* nothing held: nothing to do */
    ASSERT_EQ(o->close(o, &e), 0);
    size_t len;
    char *text = slurp(path, &len);
    ASSERT_EQ(check_lines(text, len, 0), 3);
    free(text);
    free(path);
}

TEST(a_record_larger_than_the_buffer_goes_out_alone_after_those_before_it)
{
    char *path = tmp_file("eve.json");
    struct err e = {""};
    struct output *o = out_file_open(path, false, &e);
    ASSERT(o != NULL);
    size_t big_len = OUT_BUF_BYTES + 1000;
    char *big = malloc(big_len + 64);
    char rec[512];
    size_t n0 = make_record(rec, sizeof rec, 0, 300);
    ASSERT_EQ(o->write(o, REC_MAIL, rec, n0), 0);
    size_t n1 = make_record(big, big_len + 64, 1, big_len);
    ASSERT_EQ(o->write(o, REC_TLS, big, n1), 0);
    ASSERT_EQ(file_size(path), n0 + n1); /* the buffer, then the big one: nothing held */
    size_t n2 = make_record(rec, sizeof rec, 2, 300);
    ASSERT_EQ(o->write(o, REC_FLOW, rec, n2), 0);
    ASSERT_EQ(o->close(o, &e), 0);
    size_t len;
    char *text = slurp(path, &len);
    ASSERT_EQ(len, n0 + n1 + n2);
    ASSERT_EQ(check_lines(text, len, 0), 3);
    free(text);
    free(big);
    free(path);
}

TEST(reopen_sends_what_was_buffered_to_the_old_file)
{
    char *path = tmp_file("eve.json");
    size_t n_old = strlen(path) + 3;
    char *old = malloc(n_old);
    snprintf(old, n_old, "%s.1", path);
    struct err e = {""};
    struct output *o = out_file_open(path, false, &e);
    ASSERT(o != NULL);
    char rec[512];
    for (unsigned i = 0; i < 3; i++)
        ASSERT_EQ(o->write(o, REC_FLOW, rec, make_record(rec, sizeof rec, i, 300)), 0);
    ASSERT(rename(path, old) == 0); /* logrotate's "create" style */
    ASSERT_EQ(o->reopen(o, &e), 0);
    for (unsigned i = 3; i < 5; i++)
        ASSERT_EQ(o->write(o, REC_FLOW, rec, make_record(rec, sizeof rec, i, 300)), 0);
    ASSERT_EQ(o->close(o, &e), 0);
    size_t len;
    char *text = slurp(old, &len);
    ASSERT_EQ(check_lines(text, len, 0), 3);
    free(text);
    text = slurp(path, &len);
    ASSERT_EQ(check_lines(text, len, 3), 2);
    free(text);
    free(old);
    free(path);
}

TEST(reopen_that_fails_keeps_writing_to_the_file_opened_before)
{
    char *path = tmp_file("eve.json");
    struct err e = {""};
    struct output *o = out_file_open(path, false, &e);
    ASSERT(o != NULL);
    char rec[512];
    ASSERT_EQ(o->write(o, REC_FLOW, rec, make_record(rec, sizeof rec, 0, 300)), 0);
    char *dir = strdup(path);
    *strrchr(dir, '/') = '\0';
    ASSERT(unlink(path) == 0 && rmdir(dir) == 0); /* nowhere to create it again */
    ASSERT_EQ(o->reopen(o, &e), -1);
    ASSERT(strstr(e.msg, "still writing to the file opened before") != NULL);
    ASSERT_EQ(o->write(o, REC_FLOW, rec, make_record(rec, sizeof rec, 1, 300)), 0);
    ASSERT_EQ(o->close(o, &e), 0);
    free(dir);
    free(path);
}

TEST(write_errors_are_counted_never_fatal)
{
    if (access("/dev/full", W_OK) != 0)
        return; /* nothing to test it with here */
    struct err e = {""};
    struct output *f = out_file_open("/dev/full", false, &e);
    ASSERT(f != NULL);
    struct output *outs[1] = {f};
    struct output *tee = out_tee_new(outs, 1);
    char rec[512];
    unsigned n = 0;
    size_t sent = 0;
    while (sent <= OUT_BUF_BYTES) { /* the last one finds the buffer full: it goes out, fails */
        size_t k = make_record(rec, sizeof rec, n++, 400);
        ASSERT_EQ(tee->write(tee, REC_FLOW, rec, k), 0);
        sent += k;
    }
    ASSERT_EQ(f->failed, n - 1); /* all but the one now held */
    ASSERT_EQ(f->written, 0);    /* nothing is in the file */
    ASSERT_EQ(f->buffered, 1);
    ASSERT_EQ(tee->failed, n - 1); /* the tee says so too */
    ASSERT_EQ(tee->written, 0);
    ASSERT_EQ(tee->buffered, 1);
    ASSERT(tee->has_news); /* said once: */
    ASSERT(tee->news(tee, &e));
    ASSERT_STREQ(e.msg, "/dev/full: cannot write: No space left on device: records are lost "
                        "until writing works again");
    ASSERT(!tee->news(tee, &e) && !tee->has_news);
    static char big[OUT_BUF_BYTES + 100];
    ASSERT_EQ(tee->write(tee, REC_TLS, big, make_record(big, sizeof big, n++, sizeof big - 1)),
              -1); /* alone: it fails at once, after the one held */
    ASSERT_EQ(tee->failed, n);
    ASSERT_EQ(tee->written, 0);
    ASSERT_EQ(tee->write(tee, REC_FLOW, rec, make_record(rec, sizeof rec, n++, 400)), 0);
    ASSERT_EQ(tee->flush(tee), -1);
    ASSERT_EQ(tee->failed, n);
    ASSERT_EQ(tee->written, 0);
    ASSERT(!tee->news(tee, &e)); /* still failing: nothing new to say */
    ASSERT(!tee->is_gone && tee->cut == 0);
    ASSERT_EQ(tee->write(tee, REC_FLOW, rec, make_record(rec, sizeof rec, n++, 400)), 0);
    e.msg[0] = '\0';
    ASSERT_EQ(tee->close(tee, &e), -1); /* the last one: said at close */
    ASSERT(strstr(e.msg, "/dev/full: the last 1 records could not be written") != NULL);
}

/* The output's stats object (outputs.file), as text. */
static void stats_text(struct output *o, char *buf, size_t n)
{
    static struct jbuf j;
    j_begin(&j);
    o->stats(o, &j);
    j_end(&j);
    snprintf(buf, n, "%.*s", (int)j.len, j.buf);
}

TEST(a_write_cut_short_by_a_full_file_leaves_whole_lines_and_is_told_once)
{
    signal(SIGXFSZ, SIG_IGN); /* past the limit: EFBIG, not a signal */
    struct rlimit was, small;
    ASSERT(getrlimit(RLIMIT_FSIZE, &was) == 0);
    small = (struct rlimit){100000, was.rlim_max};
    char *path = tmp_file("eve.json");
    struct err e = {""};
    char want[512], st[2048];
    struct output *o = out_file_open(path, false, &e);
    ASSERT(o != NULL);
    ASSERT(setrlimit(RLIMIT_FSIZE, &small) == 0);
    const size_t len = 999;                       /* 100 records and 100 bytes fit */
    const unsigned per_buf = OUT_BUF_BYTES / len; /* records a buffer holds: 262 */
    char rec[1024];
    unsigned i = 0;
    for (; i <= per_buf; i++) /* the last one finds the buffer full: it goes out */
        ASSERT_EQ(o->write(o, REC_FLOW, rec, make_record(rec, sizeof rec, i, len)), 0);
    /* 100000 bytes taken, then EFBIG: the 101st record, cut short, was cut back off */
    ASSERT_EQ(file_size(path), 100 * len);
    ASSERT_EQ(o->written, 100);
    ASSERT_EQ(o->failed, per_buf - 100);
    ASSERT_EQ(o->buffered, 1);
    ASSERT(o->has_news && o->news(o, &e));
    snprintf(want, sizeof want,
             "%s: cannot write: File too large: records are lost until writing works again", path);
    ASSERT_STREQ(e.msg, want);
    ASSERT(!o->news(o, &e) && !o->has_news); /* once */
    /* the next buffer: 100 bytes fit, the rest does not; cut back again, nothing new to say */
    for (; i <= 2 * per_buf; i++)
        ASSERT_EQ(o->write(o, REC_FLOW, rec, make_record(rec, sizeof rec, i, len)), 0);
    ASSERT_EQ(file_size(path), 100 * len);
    ASSERT_EQ(o->written, 100);
    ASSERT_EQ(o->failed, 2 * per_buf - 100);
    ASSERT(!o->news(o, &e));
    stats_text(o, st, sizeof st);
    snprintf(want, sizeof want,
             "{\"file\":{\"written\":100,\"buffered\":1,\"failed\":%u,\"bytes\":%zu,"
             "\"bytes_lost\":%zu,\"errors\":2,\"failing\":true,\"closed_by_reader\":false,"
             "\"last_error\":\"File too large\"}}\n",
             2 * per_buf - 100, 100 * len, (2 * per_buf - 100) * len);
    ASSERT_STREQ(st, want);
    /* room again: the next records are written, whole, and that is said once */
    ASSERT(setrlimit(RLIMIT_FSIZE, &was) == 0);
    ASSERT_EQ(o->write(o, REC_FLOW, rec, make_record(rec, sizeof rec, i++, len)), 0);
    ASSERT_EQ(o->flush(o), 0);
    ASSERT_EQ(o->written, 102);
    ASSERT(o->news(o, &e));
    snprintf(want, sizeof want,
             "%s: writing works again; %u records (%zu bytes) were lost (File too large)", path,
             2 * per_buf - 100, (2 * per_buf - 100) * len);
    ASSERT_STREQ(e.msg, want);
    ASSERT(!o->news(o, &e));
    ASSERT_EQ(o->close(o, &e), 0);
    size_t n;
    char *text = slurp(path, &n);
    ASSERT_EQ(n, 102 * len);
    ASSERT_EQ(check_lines(text, 100 * len, 0), 100); /* the first 100, then the last two */
    ASSERT_EQ(check_lines(text + 100 * len, len, 2 * per_buf), 1);
    ASSERT_EQ(check_lines(text + 101 * len, len, 2 * per_buf + 1), 1);
    free(text);
    free(path);
}

/* Bytes waiting in a pipe. */
static int pipe_bytes(int fd)
{
    int n = 0;
    ASSERT(ioctl(fd, FIONREAD, &n) == 0);
    return n;
}

TEST(a_pipe_that_cannot_be_cut_back_gets_a_newline_before_the_next_record)
{
    signal(SIGPIPE, SIG_IGN);
    char *path = tmp_file("eve.fifo");
    ASSERT(mkfifo(path, 0600) == 0);
    int rfd = open(path, O_RDONLY | O_NONBLOCK);
    ASSERT(rfd >= 0);
    int cap = fcntl(rfd, F_GETPIPE_SZ);
    ASSERT(cap > 0);
    struct err e = {""};
    struct output *o = out_file_open(path, false, &e); /* -w FIFO: a reader is there */
    ASSERT(o != NULL);
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) { /* the reader: gone once the writer has filled the pipe (it blocks) */
        while (pipe_bytes(rfd) < cap) {
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL); /* a bounded wait for a condition: the test's alarm */
        }
        _exit(0);
    }
    close(rfd); /* the child's copy is the only reader */
    const size_t len = 999;
    const unsigned per_buf = OUT_BUF_BYTES / len;
    char rec[1024];
    unsigned i = 0;
    for (; i <= per_buf; i++) /* the drain blocks on the full pipe until the reader leaves */
        ASSERT_EQ(o->write(o, REC_FLOW, rec, make_record(rec, sizeof rec, i, len)), 0);
    int status;
    ASSERT(waitpid(pid, &status, 0) == pid && WIFEXITED(status));
    const unsigned whole = (unsigned)cap / len; /* whole records in the pipe, then a part */
    ASSERT_EQ(o->written, whole);
    ASSERT_EQ(o->failed, per_buf - whole);
    ASSERT(!o->is_gone); /* a FIFO by its name, not stdout: a new reader may come */
    rfd = open(path, O_RDONLY | O_NONBLOCK); /* and one does: it gets what the pipe held, */
    ASSERT(rfd >= 0);
    static char got[1 << 17];
    ASSERT_EQ(read(rfd, got, sizeof got), cap); /* the whole records, then part of the next */
    ASSERT_EQ(check_lines(got, whole * len, 0), whole);
    ASSERT(memchr(got + whole * len, '\n', cap - whole * len) == NULL);
    ASSERT_EQ(o->flush(o), 0);
    ASSERT_EQ(o->written, whole + 1);
    ASSERT(o->news(o, &e)); /* failed and works again before anyone looked: one line */
    ASSERT(strstr(e.msg, "a write failed (Broken pipe)") != NULL);
    ASSERT(strstr(e.msg, "writing works again") != NULL);
    ASSERT(!o->news(o, &e));
    /* then a newline that ends the part, and the next record on a line of its own */
    ASSERT_EQ(read(rfd, got, sizeof got), 1 + (ssize_t)len);
    ASSERT(got[0] == '\n');
    ASSERT_EQ(check_lines(got + 1, len, per_buf), 1);
    ASSERT_EQ(o->close(o, &e), 0);
    close(rfd);
    free(path);
}

TEST(stdout_closed_by_its_reader_is_gone_and_no_more_is_tried)
{
    signal(SIGPIPE, SIG_IGN);
    int p[2];
    ASSERT(pipe(p) == 0);
    ASSERT(dup2(p[1], STDOUT_FILENO) == STDOUT_FILENO);
    close(p[1]);
    close(p[0]); /* the reader has gone */
    struct err e = {""};
    struct output *f = out_file_open(NULL, false, &e);
    ASSERT(f != NULL);
    struct output *outs[1] = {f};
    struct output *tee = out_tee_new(outs, 1);
    char rec[512];
    unsigned n = 0;
    size_t sent = 0;
    while (sent <= OUT_BUF_BYTES) {
        size_t k = make_record(rec, sizeof rec, n++, 400);
        ASSERT_EQ(tee->write(tee, REC_FLOW, rec, k), sent + k > OUT_BUF_BYTES ? -1 : 0);
        sent += k;
    }
    ASSERT(tee->is_gone); /* the record that found the buffer full is lost with it */
    ASSERT_EQ(tee->failed, n);
    ASSERT_EQ(tee->cut, n);
    ASSERT_EQ(tee->written + tee->buffered, 0);
    ASSERT_EQ(tee->write(tee, REC_ALERT, rec, make_record(rec, sizeof rec, n++, 400)), -1);
    ASSERT_EQ(tee->cut, n);
    ASSERT(tee->has_news && tee->news(tee, &e));
    ASSERT_STREQ(e.msg, "stdout: closed by its reader (Broken pipe): the input is read no "
                        "further");
    ASSERT(!tee->news(tee, &e));
    char st[2048];
    stats_text(f, st, sizeof st);
    ASSERT(strstr(st, "\"errors\":1,\"failing\":true,\"closed_by_reader\":true,"
                      "\"last_error\":\"Broken pipe\"") != NULL);
    ASSERT_EQ(tee->flush(tee), 0); /* nothing held */
    ASSERT_EQ(tee->close(tee, &e), 0);
}

TEST(a_record_cut_short_at_the_end_is_cut_off_when_the_file_is_opened_other_ends_get_a_newline)
{
    char *path = tmp_file("eve.json");
    char rec[512];
    size_t n0 = make_record(rec, sizeof rec, 0, 300);
    FILE *f = fopen(path, "w");
    fwrite(rec, 1, n0, f);
    fwrite(rec, 1, 120, f); /* the next record, killed at a page boundary */
    fclose(f);
    struct err e = {""};
    struct output *o = out_file_open(path, false, &e);
    ASSERT(o != NULL);
    ASSERT_EQ(file_size(path), n0);
    size_t n1 = make_record(rec, sizeof rec, 1, 300);
    ASSERT_EQ(o->write(o, REC_FLOW, rec, n1), 0);
    ASSERT_EQ(o->close(o, &e), 0);
    size_t len;
    char *text = slurp(path, &len);
    ASSERT_EQ(check_lines(text, len, 0), 2);
    free(text);
    /* only the start of a record is cut: a file that ends otherwise is left alone */
    f = fopen(path, "a");
    fputs("not a record", f);
    fclose(f);
    o = out_file_open(path, false, &e);
    ASSERT(o != NULL);
    ASSERT_EQ(o->close(o, &e), 0);
    ASSERT_EQ(file_size(path), n0 + n1 + strlen("not a record"));
    /* but a record written after it starts a line of its own */
    o = out_file_open(path, false, &e);
    ASSERT(o != NULL);
    size_t n2 = make_record(rec, sizeof rec, 2, 300);
    ASSERT_EQ(o->write(o, REC_FLOW, rec, n2), 0);
    ASSERT_EQ(o->close(o, &e), 0);
    text = slurp(path, &len);
    ASSERT_EQ(len, n0 + n1 + strlen("not a record") + 1 + n2);
    ASSERT(memcmp(text + n0 + n1, "not a record\n", 13) == 0);
    ASSERT_EQ(check_lines(text + len - n2, n2, 2), 1);
    free(text);
    /* a file that is nothing but the start of a record */
    f = fopen(path, "w");
    fputs("{\"timestamp\":\"2026-01", f);
    fclose(f);
    o = out_file_open(path, false, &e);
    ASSERT(o != NULL);
    ASSERT_EQ(o->close(o, &e), 0);
    ASSERT_EQ(file_size(path), 0);
    free(path);
}

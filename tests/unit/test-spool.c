/*
 * test-spool.c — the Redis output's disk spool, and the output itself without a server,
 * which ends in the spool: the record format read back as written, in FIFO order, across
 * files; records read back leave the files at exit, memory or not; records put in front at
 * exit, within the cap, the oldest left out; past the cap during the run; truncated, corrupt
 * and hostile files (counted and skipped, never a crash); write failures and empty files
 * (none left behind); a directory name too long. The output with Redis unreachable: every
 * record reaches the spool, none dropped in the hand-off, and the last message is whole.
 * Delivery to a real Redis is tested in tests/integration/test_redis*.py.
 */
#include <dirent.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sensor-limits.h"
#include "output/out-redis.h"
#include "output/spool.h"
#include "test.h"

/* ---- spool ------------------------------------------------------------------------- */

static char tmpdir[256];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void rm_tmpdir(void)
{
    if (tmpdir[0] != '\0')
        nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh directory (removed when the test's process exits); the spool's path inside it. */
static const char *mkspooldir(void)
{
    rm_tmpdir();
    snprintf(tmpdir, sizeof tmpdir, "/tmp/postcard-test-spool-XXXXXX");
    if (mkdtemp(tmpdir) == NULL)
        TEST_FAIL("mkdtemp");
    static bool has_atexit;
    if (!has_atexit)
        atexit(rm_tmpdir);
    has_atexit = true;
    static char dir[300];
    snprintf(dir, sizeof dir, "%s/spool", tmpdir);
    return dir;
}

static void rec_text(char *buf, size_t n, int i)
{
    snprintf(buf, n, "{\"event_type\":\"alert\",\"n\":%d,\"pad\":\"%0*d\"}", i, i % 200, 0);
}

static void append_n(struct spool *sp, int from, int to)
{
    char buf[512];
    for (int i = from; i < to; i++) {
        rec_text(buf, sizeof buf, i);
        struct spool_item it = {(uint64_t)i, 7, strlen(buf), buf, false};
        struct err e = {""};
        if (spool_append(sp, &it, &e) != 0)
            TEST_FAIL("append %d: %s", i, e.msg);
    }
    struct err e = {""};
    if (spool_flush(sp, &e) != 0)
        TEST_FAIL("flush: %s", e.msg);
}

/* Read everything; check records from..to-1 in order; return how many were read. */
static int expect_seq(struct spool *sp, int from, int to)
{
    char *buf = malloc(JSON_LINE_MAX + 1), want[512];
    struct spool_item it;
    int i = from;
    while (spool_next(sp, &it, buf, JSON_LINE_MAX + 1) == 1) {
        rec_text(want, sizeof want, i);
        if (i >= to || it.len != strlen(want) || memcmp(it.data, want, it.len) != 0 ||
            it.ms != (uint64_t)i || it.seq != 7)
            TEST_FAIL("record %d: got \"%.*s\" id %llu-%llu", i, (int)it.len, it.data,
                      (unsigned long long)it.ms, (unsigned long long)it.seq);
        i++;
    }
    free(buf);
    return i - from;
}

static struct spool *open_spool(const char *dir, uint64_t cap)
{
    struct spool *sp = spool_new(dir, cap);
    struct err e = {""};
    if (spool_open(sp, &e) != 0)
        TEST_FAIL("open %s: %s", dir, e.msg);
    if (spool_scan(sp, &e) != 0)
        TEST_FAIL("scan %s: %s", dir, e.msg);
    return sp;
}

static int count_files(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name), sl = strlen(suffix);
        if (l >= sl && strcmp(de->d_name + l - sl, suffix) == 0)
            n++;
    }
    closedir(d);
    return n;
}

/* The only segment file of dir (there must be one). */
static void only_segment(const char *dir, char *path, size_t n)
{
    DIR *d = opendir(dir);
    ASSERT(d != NULL);
    struct dirent *de;
    int found = 0;
    while ((de = readdir(d)) != NULL)
        if (strstr(de->d_name, ".spool") != NULL) {
            snprintf(path, n, "%s/%s", dir, de->d_name);
            found++;
        }
    closedir(d);
    ASSERT_EQ(found, 1);
}

TEST(spool_round_trip_in_order_and_next_run_reads_it)
{
    const char *dir = mkspooldir();
    struct spool *sp = open_spool(dir, 1 << 30);
    append_n(sp, 0, 1000);
    struct spool_counts c;
    spool_get_counts(sp, &c);
    ASSERT_EQ(c.records, 1000);
    spool_free(sp); /* the files stay for the next run */
    sp = open_spool(dir, 1 << 30);
    spool_get_counts(sp, &c);
    ASSERT_EQ(c.records, 1000);
    ASSERT_EQ(expect_seq(sp, 0, 1000), 1000);
    spool_get_counts(sp, &c);
    ASSERT_EQ(c.records, 0);
    ASSERT_EQ(c.corrupt, 0);
    spool_free(sp);
    ASSERT_EQ(count_files(dir, ".spool"), 0);
}

TEST(spool_reading_while_appending_keeps_fifo)
{
    const char *dir = mkspooldir();
    struct spool *sp = open_spool(dir, 1 << 30);
    char *buf = malloc(JSON_LINE_MAX + 1);
    struct spool_item it;
    int next_in = 0, next_out = 0;
    for (int round = 0; round < 50; round++) {
        append_n(sp, next_in, next_in + 37);
        next_in += 37;
        for (int k = 0; k < 29 && spool_next(sp, &it, buf, JSON_LINE_MAX + 1) == 1; k++) {
            ASSERT_EQ(it.ms, next_out);
            next_out++;
        }
    }
    ASSERT_EQ(expect_seq(sp, next_out, next_in), next_in - next_out);
    free(buf);
    spool_free(sp);
}

TEST(spool_many_segments_and_cap_drops_the_oldest)
{
    const char *dir = mkspooldir();
    /* cap 4 MiB: 64 KiB segments; ~20 MiB written: the oldest go, counted */
    struct spool *sp = open_spool(dir, 4u << 20);
    append_n(sp, 0, 80000);
    struct spool_counts c;
    spool_get_counts(sp, &c);
    ASSERT(c.bytes <= (4u << 20) + SPOOL_SEGMENT_MIN_BYTES + 1024);
    ASSERT(c.dropped > 0);
    ASSERT_EQ(c.dropped + c.records, 80000);
    int first = (int)c.dropped;
    ASSERT_EQ(expect_seq(sp, first, 80000), 80000 - first);
    spool_free(sp);
}

TEST(spool_says_which_records_an_earlier_run_left)
{
    /* the counters "replayed" and "spooled" rest on this: what spool_scan found is an
     * earlier run's; what this run appends behind it is its own, however they interleave */
    const char *dir = mkspooldir();
    struct spool *sp = open_spool(dir, 1 << 30);
    append_n(sp, 0, 300);
    spool_free(sp);
    sp = open_spool(dir, 1 << 30);
    struct spool_counts c;
    spool_get_counts(sp, &c);
    ASSERT_EQ(c.earlier, 300);
    char *buf = malloc(JSON_LINE_MAX + 1);
    struct spool_item it;
    int earlier = 0, own = 0, next = 0;
    for (int round = 0; round < 20; round++) {
        append_n(sp, 300 + round * 10, 300 + round * 10 + 10); /* this run's, behind */
        for (int k = 0; k < 25 && spool_next(sp, &it, buf, JSON_LINE_MAX + 1) == 1; k++) {
            ASSERT_EQ(it.ms, next);
            ASSERT_EQ(it.is_earlier, next < 300);
            earlier += it.is_earlier;
            own += !it.is_earlier;
            next++;
        }
    }
    while (spool_next(sp, &it, buf, JSON_LINE_MAX + 1) == 1) {
        ASSERT_EQ(it.is_earlier, it.ms < 300);
        earlier += it.is_earlier;
        own += !it.is_earlier;
    }
    ASSERT_EQ(earlier, 300);
    ASSERT_EQ(own, 200);
    spool_get_counts(sp, &c);
    ASSERT_EQ(c.earlier, 0);
    free(buf);
    spool_free(sp);
}

TEST(spool_earlier_records_dropped_over_the_cap_are_no_longer_earlier)
{
    const char *dir = mkspooldir();
    struct spool *sp = open_spool(dir, 1u << 30);
    append_n(sp, 0, 20000);
    spool_free(sp);
    sp = open_spool(dir, 4u << 20); /* a smaller cap now: the oldest go as this run appends */
    append_n(sp, 20000, 80000);
    struct spool_counts c;
    spool_get_counts(sp, &c);
    ASSERT(c.dropped >= 20000);
    ASSERT_EQ(c.earlier, 0);
    char *buf = malloc(JSON_LINE_MAX + 1);
    struct spool_item it;
    while (spool_next(sp, &it, buf, JSON_LINE_MAX + 1) == 1)
        ASSERT(!it.is_earlier);
    free(buf);
    spool_free(sp);
}

TEST(spool_read_to_its_end_leaves_no_file)
{
    /* the last segment read to its end while it is still the one appended to: at the end
     * of the run no file and no directory is left */
    const char *dir = mkspooldir();
    struct spool *sp = spool_new(dir, 1 << 30);
    struct err e = {""};
    ASSERT_EQ(spool_open(sp, &e), 0);
    ASSERT_EQ(spool_scan(sp, &e), 0);
    append_n(sp, 0, 10);
    char *buf = malloc(JSON_LINE_MAX + 1);
    struct spool_item it;
    for (int i = 0; i < 10; i++) /* exactly the ten: no call that finds the spool empty */
        ASSERT_EQ(spool_next(sp, &it, buf, JSON_LINE_MAX + 1), 1);
    free(buf);
    ASSERT_EQ(count_files(dir, ".spool"), 1); /* still appended to */
    spool_free(sp);
    ASSERT_EQ(count_files(dir, ".spool"), -1); /* the directory this run made is gone */
}

static int mem_i, mem_to;
static char mem_buf[512];

static int mem_next(void *ctx, struct spool_item *it)
{
    (void)ctx;
    if (mem_i >= mem_to)
        return 0;
    rec_text(mem_buf, sizeof mem_buf, mem_i);
    *it = (struct spool_item){(uint64_t)mem_i, 7, strlen(mem_buf), mem_buf, false};
    mem_i++;
    return 1;
}

/* "Memory" holds records from..to-1: spool_put_front with them, told their exact size. */
static int put_front(struct spool *sp, int from, int to, struct err *e)
{
    uint64_t bytes = 0;
    char buf[512];
    for (int i = from; i < to; i++) {
        rec_text(buf, sizeof buf, i);
        struct spool_item it = {(uint64_t)i, 7, strlen(buf), buf, false};
        bytes += spool_item_bytes(&it);
    }
    mem_i = from;
    mem_to = to;
    return spool_put_front(sp, mem_next, NULL, bytes, e);
}

TEST(spool_put_front_goes_first_also_with_a_segment_half_read)
{
    const char *dir = mkspooldir();
    struct spool *sp = open_spool(dir, 1 << 30);
    /* on disk: 100..299; read back 100..149 (they went to "memory", with 0..99 older) */
    append_n(sp, 100, 300);
    char *buf = malloc(JSON_LINE_MAX + 1);
    struct spool_item it;
    for (int i = 100; i < 150; i++) {
        ASSERT_EQ(spool_next(sp, &it, buf, JSON_LINE_MAX + 1), 1);
        ASSERT_EQ(it.ms, i);
    }
    free(buf);
    /* at exit memory holds 0..149 (older than the disk): they go in front */
    struct err e = {""};
    ASSERT_EQ(put_front(sp, 0, 150, &e), 0);
    struct spool_counts c;
    spool_get_counts(sp, &c);
    ASSERT_EQ(c.records, 300);
    spool_free(sp);
    sp = open_spool(dir, 1 << 30);
    ASSERT_EQ(expect_seq(sp, 0, 300), 300);
    spool_free(sp);
}

TEST(spool_put_front_into_an_empty_or_missing_directory)
{
    const char *dir = mkspooldir();
    struct spool *sp = open_spool(dir, 1 << 30); /* dir does not exist yet */
    struct err e = {""};
    ASSERT_EQ(put_front(sp, 0, 10, &e), 0);
    spool_free(sp);
    sp = open_spool(dir, 1 << 30);
    append_n(sp, 10, 20);
    ASSERT_EQ(expect_seq(sp, 0, 20), 20);
    spool_free(sp);
}

TEST(spool_records_read_back_leave_the_files_at_exit_with_nothing_in_memory)
{
    /* 100..299 on disk; 100..149 read back and delivered (memory is empty at exit): the next
     * run must find 150..299 only, not the fifty already in Redis */
    const char *dir = mkspooldir();
    struct spool *sp = open_spool(dir, 1 << 30);
    append_n(sp, 100, 300);
    spool_free(sp);
    sp = open_spool(dir, 1 << 30);
    char *buf = malloc(JSON_LINE_MAX + 1);
    struct spool_item it;
    for (int i = 100; i < 150; i++)
        ASSERT_EQ(spool_next(sp, &it, buf, JSON_LINE_MAX + 1), 1);
    free(buf);
    struct err e = {""};
    ASSERT_EQ(put_front(sp, 0, 0, &e), 0); /* nothing in memory */
    struct spool_counts c;
    spool_get_counts(sp, &c);
    ASSERT_EQ(c.records, 150);
    spool_free(sp);
    sp = open_spool(dir, 1 << 30);
    spool_get_counts(sp, &c);
    ASSERT_EQ(c.records, 150);
    ASSERT_EQ(expect_seq(sp, 150, 300), 150);
    spool_free(sp);
}

TEST(spool_records_read_back_while_appended_to_leave_the_files)
{
    /* the one segment, read back to its end while it is still appended to, then appended
     * to again: at exit only what came after is left */
    const char *dir = mkspooldir();
    struct spool *sp = open_spool(dir, 1 << 30);
    append_n(sp, 0, 40);
    char *buf = malloc(JSON_LINE_MAX + 1);
    struct spool_item it;
    for (int i = 0; i < 40; i++)
        ASSERT_EQ(spool_next(sp, &it, buf, JSON_LINE_MAX + 1), 1);
    append_n(sp, 40, 60);
    for (int i = 40; i < 45; i++)
        ASSERT_EQ(spool_next(sp, &it, buf, JSON_LINE_MAX + 1), 1);
    free(buf);
    struct err e = {""};
    ASSERT_EQ(put_front(sp, 0, 0, &e), 0);
    append_n(sp, 60, 70); /* what the hand-off held at exit, behind */
    spool_free(sp);
    sp = open_spool(dir, 1 << 30);
    ASSERT_EQ(expect_seq(sp, 45, 70), 25);
    spool_free(sp);
}

TEST(spool_put_front_keeps_the_cap_leaving_out_the_oldest)
{
    /* cap 1 MiB, about 0.5 MiB on disk; memory at exit holds about 3 MiB, older than the
     * disk: the oldest of memory are left out (dropped, counted) so that the cap holds, and
     * what goes in front is cut into segments of the usual size */
    const char *dir = mkspooldir();
    struct spool *sp = open_spool(dir, 1 << 20);
    append_n(sp, 20000, 22000);
    struct spool_counts c0, c;
    spool_get_counts(sp, &c0);
    ASSERT_EQ(c0.dropped, 0);
    struct err e = {""};
    ASSERT_EQ(put_front(sp, 0, 12000, &e), 0);
    spool_get_counts(sp, &c);
    ASSERT(c.bytes <= 1 << 20);
    ASSERT(c.dropped > 0);
    ASSERT_EQ(c.records + c.dropped, 14000);
    ASSERT(c.segments >= 16); /* 64 KiB segments, not one large file */
    int first = (int)c.dropped;
    spool_free(sp);
    ASSERT(count_files(dir, ".spool") >= 16);
    sp = open_spool(dir, 1 << 20);
    spool_get_counts(sp, &c);
    ASSERT_EQ(c.records, 14000 - first);
    /* the newest of memory, then the disk */
    char *buf = malloc(JSON_LINE_MAX + 1), want[512];
    struct spool_item it;
    int n = 0;
    while (spool_next(sp, &it, buf, JSON_LINE_MAX + 1) == 1) {
        int i = n < 12000 - first ? first + n : 20000 + (n - (12000 - first));
        rec_text(want, sizeof want, i);
        ASSERT_EQ(it.ms, i);
        ASSERT_MEMEQ(it.data, want, it.len);
        n++;
    }
    ASSERT_EQ(n, 14000 - first);
    free(buf);
    spool_free(sp);
}

TEST(spool_put_front_with_nothing_to_do_makes_no_directory)
{
    const char *dir = mkspooldir();
    struct spool *sp = open_spool(dir, 1 << 30);
    struct err e = {""};
    ASSERT_EQ(put_front(sp, 0, 0, &e), 0);
    spool_free(sp);
    ASSERT_EQ(count_files(dir, ".spool"), -1);
}

/* Writes past size bytes fail (EFBIG), as on a full disk, for this test's process only. */
static void file_size_limit(rlim_t size)
{
    signal(SIGXFSZ, SIG_IGN); /* the write fails instead of the process */
    struct rlimit rl = {size, size};
    ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &rl), 0);
}

TEST(spool_write_failures_leave_no_empty_file)
{
    /* every record fails to be written (the file may not grow past its first line): each
     * segment started is left without a record, and removed at once */
    const char *dir = mkspooldir();
    struct spool *sp = open_spool(dir, 1 << 30);
    file_size_limit(20); /* "postcard-spool 1\n" and no more */
    char buf[512];
    int failed = 0;
    for (int i = 0; i < 20; i++) {
        rec_text(buf, sizeof buf, i);
        struct spool_item it = {0, 0, strlen(buf), buf, false};
        struct err e = {""};
        if (spool_append(sp, &it, &e) != 0 || spool_flush(sp, &e) != 0) {
            failed++;
            ASSERT(strstr(e.msg, "records lost") != NULL || strstr(e.msg, "cannot") != NULL);
        }
    }
    ASSERT_EQ(failed, 20);
    struct spool_counts c;
    spool_get_counts(sp, &c);
    ASSERT_EQ(c.lost, 20);
    ASSERT_EQ(c.records, 0);
    ASSERT_EQ(c.segments, 0);
    ASSERT_EQ(count_files(dir, ".spool"), 0);
    spool_free(sp);
    ASSERT_EQ(count_files(dir, ".spool"), -1);
}

TEST(spool_a_file_with_no_record_is_removed_when_found)
{
    const char *dir = mkspooldir();
    ASSERT_EQ(mkdir(dir, 0700), 0);
    char path[600];
    snprintf(path, sizeof path, "%s/postcard-00000001000000000000.spool", dir);
    FILE *f = fopen(path, "wb");
    fputs("postcard-spool 1\n", f);
    fclose(f);
    struct spool *sp = open_spool(dir, 1 << 30);
    struct spool_counts c;
    spool_get_counts(sp, &c);
    ASSERT_EQ(c.segments, 0);
    ASSERT_EQ(c.corrupt, 0);
    ASSERT_EQ(count_files(dir, ".spool"), 0);
    spool_free(sp);
}

TEST(spool_directory_name_too_long_is_refused_not_cut)
{
    char dir[PATH_BYTES + 10];
    memset(dir, 'd', sizeof dir - 1);
    dir[0] = '/';
    dir[sizeof dir - 1] = '\0';
    struct spool *sp = spool_new(dir, 1 << 30);
    struct err e = {""};
    ASSERT_EQ(spool_open(sp, &e), -1);
    ASSERT(strstr(e.msg, "too long") != NULL);
    spool_free(sp);
}

/* Write 100 records, damage the file with f, reopen: what is read (-1: some, not all),
 * and what is counted. */
static void damaged(void (*f)(const char *path, long size), int want_read, int want_corrupt)
{
    const char *dir = mkspooldir();
    struct spool *sp = open_spool(dir, 1 << 30);
    append_n(sp, 0, 100);
    spool_free(sp);
    char path[600];
    only_segment(dir, path, sizeof path);
    struct stat st;
    ASSERT_EQ(stat(path, &st), 0);
    f(path, (long)st.st_size);
    sp = open_spool(dir, 1 << 30);
    int got = expect_seq(sp, 0, 100);
    struct spool_counts c;
    spool_get_counts(sp, &c);
    if ((want_read >= 0 ? got != want_read : (got < 1 || got > 99)) ||
        (int)c.corrupt != want_corrupt)
        TEST_FAIL("read %d (want %d), corrupt %llu (want %d): %s", got, want_read,
                  (unsigned long long)c.corrupt, want_corrupt, spool_problem(sp));
    if (want_corrupt > 0)
        ASSERT(strstr(spool_problem(sp), "skipped") != NULL);
    spool_free(sp);
    ASSERT_EQ(count_files(dir, ".spool"), 0); /* read and damaged files are gone */
}

static void cut_mid_record(const char *path, long size)
{
    ASSERT_EQ(truncate(path, size - 10), 0);
}

static void cut_mid_header(const char *path, long size)
{
    /* the last record is "R 99-7 <len> <sum>\n<json>\n": cut inside its header */
    FILE *f = fopen(path, "rb");
    char *b = malloc((size_t)size + 1);
    ASSERT_EQ(fread(b, 1, (size_t)size, f), size);
    b[size] = '\0';
    fclose(f);
    char *last = NULL;
    for (char *p = b; (p = strstr(p, "\nR 99-7 ")) != NULL; p++)
        last = p;
    ASSERT(last != NULL);
    ASSERT_EQ(truncate(path, (long)(last - b) + 5), 0);
    free(b);
}

static void flip_byte(const char *path, long size)
{
    FILE *f = fopen(path, "r+b");
    ASSERT(f != NULL);
    fseek(f, size / 2, SEEK_SET);
    int ch = getc(f);
    fseek(f, size / 2, SEEK_SET);
    putc(ch == 'x' ? 'y' : 'x', f);
    fclose(f);
}

static void bad_magic(const char *path, long size)
{
    (void)size;
    FILE *f = fopen(path, "r+b");
    ASSERT(f != NULL);
    fputs("garbage!", f);
    fclose(f);
}

TEST(spool_truncated_last_record_is_skipped)
{
    damaged(cut_mid_record, 99, 1);
}

TEST(spool_truncated_header_is_skipped)
{
    damaged(cut_mid_header, 99, 1);
}

TEST(spool_flipped_byte_ends_the_trusted_part)
{
    damaged(flip_byte, -1, 1); /* the records before it, then the rest skipped */
}

TEST(spool_not_a_spool_file)
{
    damaged(bad_magic, 0, 1);
}

/* A file written by hand: each hostile header in turn after two good records. */
TEST(spool_hostile_headers_never_crash)
{
    static const char *const bad[] = {
        "R 1-1 99999999999999999999 00000000\n",        /* length overflows */
        "R 1-1 70000 00000000\n",                       /* length over JSON_LINE_MAX */
        "R 1-1 0 00000000\n",                           /* empty record */
        "R 1-1 5 0000000\n",                            /* short checksum */
        "R 1-1 5 0000000g\nhello\n",                    /* bad hex */
        "R -1-1 5 00000000\nhello\n",                   /* sign */
        "R 1-1 5 00000000\nhello\n",                    /* wrong checksum */
        "X 1-1 5 00000000\nhello\n",                    /* not a record */
        "R 1-1 5 4f9f2cab\nhelloX",                     /* no terminator */
        "R 1-1 5 4f9f2cab",                             /* no header end */
        "R 18446744073709551616-1 5 4f9f2cab\nhello\n", /* ms overflows */
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        const char *dir = mkspooldir();
        struct spool *sp = open_spool(dir, 1 << 30);
        append_n(sp, 0, 2);
        spool_free(sp);
        char path[600];
        only_segment(dir, path, sizeof path);
        FILE *f = fopen(path, "ab");
        fputs(bad[k], f);
        fputs("R 5-7 2 00000000\n{}\n", f); /* never reached: the rest is skipped */
        fclose(f);
        sp = open_spool(dir, 1 << 30);
        int got = expect_seq(sp, 0, 2);
        struct spool_counts c;
        spool_get_counts(sp, &c);
        if (got != 2 || c.corrupt != 1)
            TEST_FAIL("case %zu: read %d, corrupt %llu", k, got, (unsigned long long)c.corrupt);
        spool_free(sp);
    }
}

TEST(spool_good_hand_written_record_is_read)
{
    /* FNV-1a of "hello" is 4f9f2cab: the documented format, read back */
    const char *dir = mkspooldir();
    ASSERT_EQ(mkdir(dir, 0700), 0);
    char path[600];
    snprintf(path, sizeof path, "%s/postcard-00000001000000000000.spool", dir);
    FILE *f = fopen(path, "wb");
    fputs("postcard-spool 1\nR 1700000000000-3 5 4f9f2cab\nhello\n", f);
    fclose(f);
    struct spool *sp = open_spool(dir, 1 << 30);
    char *buf = malloc(JSON_LINE_MAX + 1);
    struct spool_item it;
    ASSERT_EQ(spool_next(sp, &it, buf, JSON_LINE_MAX + 1), 1);
    ASSERT_EQ(it.len, 5);
    ASSERT_MEMEQ(it.data, "hello", 5);
    ASSERT_EQ(it.ms, 1700000000000ll);
    ASSERT_EQ(it.seq, 3);
    ASSERT_EQ(spool_next(sp, &it, buf, JSON_LINE_MAX + 1), 0);
    free(buf);
    spool_free(sp);
}

TEST(spool_directory_used_by_another_is_refused)
{
    const char *dir = mkspooldir();
    struct spool *a = open_spool(dir, 1 << 30);
    append_n(a, 0, 1); /* makes and locks the directory */
    struct spool *b = spool_new(dir, 1 << 30);
    struct err e = {""};
    ASSERT_EQ(spool_open(b, &e), -1);
    ASSERT(strstr(e.msg, "in use by another postcard") != NULL);
    spool_free(b);
    spool_free(a);
}

TEST(spool_path_that_is_a_file_is_refused)
{
    const char *dir = mkspooldir();
    FILE *f = fopen(dir, "w");
    fclose(f);
    struct spool *sp = spool_new(dir, 1 << 30);
    struct err e = {""};
    ASSERT_EQ(spool_open(sp, &e), -1);
    ASSERT(strstr(e.msg, "not a directory") != NULL);
    spool_free(sp);
}

/* ---- the output without a server --------------------------------------------------- */

TEST(output_with_redis_unreachable_spools_everything_at_close)
{
    const char *dir = mkspooldir();
    struct redis_opts o;
    redis_opts_default(&o);
    o.url = "redis://127.0.0.1:1"; /* nothing listens on port 1 */
    o.key = "k";
    o.spool_dir = dir;
    o.queue_records = 100; /* most go to the spool during the run, the rest at close */
    o.flush_timeout_ms = 200;
    o.timeout_ms = 200;
    struct err e = {""};
    struct output *out = out_redis_open(&o, &e);
    if (out == NULL)
        TEST_FAIL("open: %s", e.msg);
    char line[600];
    for (int i = 0; i < 5000; i++) {
        rec_text(line, sizeof line - 1, i);
        size_t n = strlen(line);
        line[n++] = '\n'; /* a record as the sensor hands it */
        ASSERT_EQ(out->write(out, REC_ALERT, line, n), 0);
    }
    e.msg[0] = '\0';
    ASSERT_EQ(out->close(out, &e), -1);
    ASSERT(strstr(e.msg, "5000 records not delivered: kept in spool") != NULL);
    /* the spool holds them in order, without IDs (never sent) */
    struct spool *sp = open_spool(dir, 1 << 30);
    char *buf = malloc(JSON_LINE_MAX + 1), want[600];
    struct spool_item it;
    int i = 0;
    while (spool_next(sp, &it, buf, JSON_LINE_MAX + 1) == 1) {
        rec_text(want, sizeof want, i++);
        ASSERT_EQ(it.len, strlen(want));
        ASSERT_MEMEQ(it.data, want, it.len);
        ASSERT_EQ(it.ms, 0);
    }
    ASSERT_EQ(i, 5000);
    free(buf);
    spool_free(sp);
}

TEST(output_bad_url_is_a_startup_error_without_the_password)
{
    struct redis_opts o;
    redis_opts_default(&o);
    o.url = "redis://u:topsecret@h:0";
    o.key = "k";
    struct err e = {""};
    ASSERT(out_redis_open(&o, &e) == NULL);
    ASSERT(strstr(e.msg, "port") != NULL);
    ASSERT(strstr(e.msg, "topsecret") == NULL);
}

TEST(output_never_drops_a_record_in_the_hand_off)
{
    /* 60,000 records of ~700 bytes (40 MiB: more than both hand-off buffers) written as fast
     * as the loop goes, Redis unreachable: write() waits for the ingest thread when it falls
     * behind, and every record is in the spool at close */
    const char *dir = mkspooldir();
    struct redis_opts o;
    redis_opts_default(&o);
    o.url = "redis://127.0.0.1:1";
    o.key = "k";
    o.spool_dir = dir;
    o.queue_records = 100;
    o.flush_timeout_ms = 100;
    o.timeout_ms = 100;
    struct err e = {""};
    struct output *out = out_redis_open(&o, &e);
    if (out == NULL)
        TEST_FAIL("open: %s", e.msg);
    char line[800];
    for (int i = 0; i < 60000; i++) {
        int n = snprintf(line, sizeof line, "{\"n\":%d,\"pad\":\"%0680d\"}\n", i, 0);
        ASSERT_EQ(out->write(out, REC_ALERT, line, (size_t)n), 0);
    }
    ASSERT_EQ(out->close(out, &e), -1);
    ASSERT(strstr(e.msg, "redis: 60000 records not delivered: kept in spool") != NULL);
    ASSERT(strstr(e.msg, "dropped") == NULL);
    struct spool *sp = open_spool(dir, 1 << 30);
    struct spool_counts c;
    spool_get_counts(sp, &c);
    ASSERT_EQ(c.records, 60000);
    spool_free(sp);
}

TEST(output_last_message_is_whole_with_a_long_spool_path)
{
    /* a spool under a 300-byte path, capped at 1 MiB, 4 MiB written: the last message names
     * what was kept and what was dropped, why, and fits its buffer, the path shortened */
    mkspooldir();
    char dir[600];
    int n0 = snprintf(dir, sizeof dir, "%s", tmpdir);
    for (int i = 0; i < 3; i++) { /* three components of 100 bytes (NAME_MAX is 255) */
        n0 += snprintf(dir + n0, sizeof dir - (size_t)n0, "/%0100d", i);
        ASSERT_EQ(mkdir(dir, 0700), 0);
    }
    snprintf(dir + n0, sizeof dir - (size_t)n0, "/spool");
    struct redis_opts o;
    redis_opts_default(&o);
    o.url = "redis://127.0.0.1:1";
    o.key = "k";
    o.spool_dir = dir;
    o.spool_max_bytes = 1 << 20;
    o.queue_records = 1000;
    o.flush_timeout_ms = 100;
    o.timeout_ms = 100;
    struct err e = {""};
    struct output *out = out_redis_open(&o, &e);
    if (out == NULL)
        TEST_FAIL("open: %s", e.msg);
    char line[800];
    for (int i = 0; i < 6000; i++) {
        int n = snprintf(line, sizeof line, "{\"n\":%d,\"pad\":\"%0680d\"}\n", i, 0);
        ASSERT_EQ(out->write(out, REC_ALERT, line, (size_t)n), 0);
    }
    ASSERT_EQ(out->close(out, &e), -1);
    size_t len = strlen(e.msg);
    ASSERT(len < sizeof e.msg - 1);
    ASSERT(strstr(e.msg, "records not delivered: kept in spool ...") != NULL);
    ASSERT(strstr(e.msg, "oldest, over the spool cap)") != NULL);
    ASSERT_EQ(e.msg[len - 1], ')');
    unsigned long long kept = 0, dropped = 0, why = 0;
    const char *k = strstr(e.msg, "redis: "), *d = strstr(e.msg, "; ");
    ASSERT(k != NULL && d != NULL);
    ASSERT_EQ(sscanf(k, "redis: %llu records", &kept), 1);
    ASSERT_EQ(sscanf(d, "; %llu dropped (%llu oldest", &dropped, &why), 2);
    ASSERT_EQ(kept + dropped, 6000);
    ASSERT_EQ(why, dropped);
    struct spool *sp = open_spool(dir, 1 << 20);
    struct spool_counts c;
    spool_get_counts(sp, &c);
    ASSERT_EQ(c.records, kept);
    ASSERT(c.bytes <= 1 << 20);
    spool_free(sp);
}

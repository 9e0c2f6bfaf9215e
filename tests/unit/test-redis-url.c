/*
 * test-redis-url.c — the Redis output's URL parser and its disk spool, which
 * need no server: every URL form (TCP, IPv6, unix socket, user and password,
 * %-encoding, db) and the errors, none of which may repeat the password; the
 * spool's record format read back as written, in FIFO order, across files,
 * with records put in front at exit, past its cap, and from truncated,
 * corrupt and hostile files (counted and skipped, never a crash). The output
 * itself with Redis unreachable: the run ends, every record is in the spool.
 * Delivery to a real Redis is tested in tests/integration/test_redis.py.
 */
#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sensor-limits.h"
#include "output/out-redis.h"
#include "output/spool.h"
#include "test.h"

/* ---- URL ------------------------------------------------------------------------- */

static struct redis_url parse_ok(const char *s)
{
    struct redis_url u;
    struct err e = {""};
    if (redis_url_parse(s, &u, &e) != 0)
        TEST_FAIL("%s: %s", s, e.msg);
    return u;
}

static void parse_bad(const char *s, const char *needle, const char *secret)
{
    struct redis_url u;
    struct err e = {""};
    if (redis_url_parse(s, &u, &e) == 0)
        TEST_FAIL("%s: accepted", s);
    if (strstr(e.msg, needle) == NULL)
        TEST_FAIL("%s: message \"%s\" lacks \"%s\"", s, e.msg, needle);
    if (secret != NULL && strstr(e.msg, secret) != NULL)
        TEST_FAIL("%s: message \"%s\" repeats the password", s, e.msg);
}

TEST(url_host_alone_takes_the_defaults)
{
    struct redis_url u = parse_ok("redis://127.0.0.1");
    ASSERT(!u.is_unix);
    ASSERT_STREQ(u.host, "127.0.0.1");
    ASSERT_EQ(u.port, 6379);
    ASSERT_EQ(u.db, 0);
    ASSERT_STREQ(u.user, "");
    ASSERT_STREQ(u.password, "");
}

TEST(url_port_db_and_host_name)
{
    struct redis_url u = parse_ok("redis://redis.example.org:6380/3");
    ASSERT_STREQ(u.host, "redis.example.org");
    ASSERT_EQ(u.port, 6380);
    ASSERT_EQ(u.db, 3);
    u = parse_ok("redis://h:1/");
    ASSERT_EQ(u.port, 1);
    ASSERT_EQ(u.db, 0);
}

TEST(url_ipv6_in_brackets)
{
    struct redis_url u = parse_ok("redis://[::1]:7000/2");
    ASSERT_STREQ(u.host, "::1");
    ASSERT_EQ(u.port, 7000);
    ASSERT_EQ(u.db, 2);
    u = parse_ok("redis://[fe80::1%25eth0]");
    ASSERT_STREQ(u.host, "fe80::1%25eth0");
}

TEST(url_password_alone_is_auth_password)
{
    struct redis_url u = parse_ok("redis://:s3cret@localhost:6379/1");
    ASSERT_STREQ(u.user, "");
    ASSERT_STREQ(u.password, "s3cret");
    ASSERT_STREQ(u.host, "localhost");
    ASSERT_EQ(u.db, 1);
}

TEST(url_acl_user_and_password)
{
    struct redis_url u = parse_ok("redis://sensor:pw@10.0.0.5");
    ASSERT_STREQ(u.user, "sensor");
    ASSERT_STREQ(u.password, "pw");
    ASSERT_STREQ(u.host, "10.0.0.5");
}

TEST(url_credentials_percent_encoded_and_at_signs)
{
    /* '@' may appear raw in the password: the last '@' before the path ends it */
    struct redis_url u = parse_ok("redis://us%40er:p%3Aw%2Fx@y@host:1/0");
    ASSERT_STREQ(u.user, "us@er");
    ASSERT_STREQ(u.password, "p:w/x@y");
    ASSERT_STREQ(u.host, "host");
}

TEST(url_unix_socket)
{
    struct redis_url u = parse_ok("unix:///run/redis/redis.sock");
    ASSERT(u.is_unix);
    ASSERT_STREQ(u.path, "/run/redis/redis.sock");
    ASSERT_EQ(u.db, 0);
    u = parse_ok("unix://alice:pw@/tmp/r.sock?db=4");
    ASSERT_STREQ(u.path, "/tmp/r.sock");
    ASSERT_STREQ(u.user, "alice");
    ASSERT_STREQ(u.password, "pw");
    ASSERT_EQ(u.db, 4);
}

TEST(url_errors_are_named)
{
    parse_bad("", "expected redis://", NULL);
    parse_bad("http://h", "expected redis://", NULL);
    parse_bad("rediss://h", "TLS", NULL);
    parse_bad("redis://", "no host", NULL);
    parse_bad("redis://:6379", "no host", NULL);
    parse_bad("redis://h:0", "port", NULL);
    parse_bad("redis://h:65536", "port", NULL);
    parse_bad("redis://h:12a", "port", NULL);
    parse_bad("redis://h:", "port", NULL);
    parse_bad("redis://h/x", "database number", NULL);
    parse_bad("redis://h/-1", "database number", NULL);
    parse_bad("redis://h?db=1", "query", NULL);
    parse_bad("redis://[::1", "']'", NULL);
    parse_bad("redis://h st", "bad character", NULL);
    parse_bad("unix://", "absolute", NULL);
    parse_bad("unix://relative.sock", "absolute", NULL);
    parse_bad("unix:///s?x=1", "?db=N", NULL);
    parse_bad("unix:///s?db=x", "database number", NULL);
}

TEST(url_errors_never_repeat_the_password)
{
    parse_bad("redis://hunter2@h", "user:password@", "hunter2");
    parse_bad("redis://u:@h", "empty password", NULL);
    parse_bad("redis://u:hunter2%zz@h", "password", "hunter2");
    parse_bad("redis://u:hunter2%00@h", "password", "hunter2");
    parse_bad("redis://u:hunter2@h:99999", "port", "hunter2");
    parse_bad("redis://u:hunter2@", "no host", "hunter2");
}

TEST(url_overlong_parts_are_refused)
{
    char url[1200];
    char host[300];
    memset(host, 'a', sizeof host - 1);
    host[sizeof host - 1] = '\0';
    snprintf(url, sizeof url, "redis://%s", host);
    parse_bad(url, "too long", NULL);
    snprintf(url, sizeof url, "redis://:%s@h", host);
    parse_bad(url, "password", host);
    snprintf(url, sizeof url, "unix:///%s", host);
    parse_bad(url, "too long", NULL);
}

/* A URL that fails leaves no password in the struct [REDIS-PASSWORD]. */
TEST(url_error_leaves_no_password_behind)
{
    struct redis_url u;
    struct err e = {""};
    ASSERT_EQ(redis_url_parse("redis://u:hunter2@h:99999", &u, &e), -1);
    ASSERT_STREQ(u.password, "");
    ASSERT_EQ(redis_url_parse_with("redis://h:99999", "hunter2", &u, &e), -1);
    ASSERT_STREQ(u.password, "");
}

/* --redis-password-file or POSTCARD_REDIS_PASSWORD: the URL names at most the user. */
TEST(url_with_a_password_given_apart)
{
    struct redis_url u;
    struct err e = {""};
    ASSERT_EQ(redis_url_parse_with("redis://h:6380/1", "hunter2", &u, &e), 0);
    ASSERT_STREQ(u.user, "");
    ASSERT_STREQ(u.password, "hunter2");
    ASSERT_EQ(u.port, 6380);
    ASSERT_EQ(redis_url_parse_with("redis://sensor@h", "hunter2", &u, &e), 0);
    ASSERT_STREQ(u.user, "sensor");
    ASSERT_STREQ(u.password, "hunter2");
    ASSERT_EQ(redis_url_parse_with("unix://sensor:@/run/r.sock?db=2", "pw:x@y", &u, &e), 0);
    ASSERT_STREQ(u.user, "sensor");
    ASSERT_STREQ(u.password, "pw:x@y"); /* given apart: taken as it is, not %-decoded */
    ASSERT_STREQ(u.path, "/run/r.sock");
    ASSERT_EQ(redis_url_parse_with("redis://sensor:other@h", "hunter2", &u, &e), -1);
    ASSERT(strstr(e.msg, "given twice") != NULL);
    ASSERT(strstr(e.msg, "other") == NULL && strstr(e.msg, "hunter2") == NULL);
    ASSERT_STREQ(u.password, "");
    char longpw[300];
    memset(longpw, 'p', sizeof longpw - 1);
    longpw[sizeof longpw - 1] = '\0';
    ASSERT_EQ(redis_url_parse_with("redis://h", longpw, &u, &e), -1);
    ASSERT_STREQ(e.msg, "redis: the password must hold 1 to 255 bytes");
    ASSERT_EQ(redis_url_parse_with("redis://h", "", &u, &e), -1);
}

static void span_is(const char *url, const char *want)
{
    size_t off = 0, len = 0;
    bool has = redis_url_password_span(url, &off, &len);
    if (want == NULL && has)
        TEST_FAIL("%s: a password span at %zu+%zu", url, off, len);
    if (want != NULL && (!has || len != strlen(want) || memcmp(url + off, want, len) != 0))
        TEST_FAIL("%s: span %d %zu+%zu, want \"%s\"", url, has, off, len, want);
}

/* The bytes the command line is scrubbed of: as written, %-encoded, up to the last '@'. */
TEST(url_password_span_is_the_password_as_written)
{
    span_is("redis://:pw@h", "pw");
    span_is("redis://u:p%40w@x@h:1/2", "p%40w@x");
    span_is("unix://u:s3cret@/run/r.sock?db=1", "s3cret");
    span_is("rediss://u:tls-pw@h", "tls-pw");
    span_is("redis://u@h", NULL);
    span_is("redis://u:@h", NULL);
    span_is("redis://h/0?x=a:b@c", NULL);
    span_is("h:pw@x", NULL);
}

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
    if (spool_scan(sp) != 0)
        TEST_FAIL("scan %s: %s", dir, spool_problem(sp));
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
    ASSERT_EQ(spool_scan(sp), 0);
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

TEST(spool_prepend_goes_first_also_with_a_segment_half_read)
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
    mem_i = 0;
    mem_to = 150;
    struct err e = {""};
    ASSERT_EQ(spool_prepend(sp, mem_next, NULL, &e), 0);
    struct spool_counts c;
    spool_get_counts(sp, &c);
    ASSERT_EQ(c.records, 300);
    spool_free(sp);
    sp = open_spool(dir, 1 << 30);
    ASSERT_EQ(expect_seq(sp, 0, 300), 300);
    spool_free(sp);
}

TEST(spool_prepend_into_an_empty_or_missing_directory)
{
    const char *dir = mkspooldir();
    struct spool *sp = open_spool(dir, 1 << 30); /* dir does not exist yet */
    mem_i = 0;
    mem_to = 10;
    struct err e = {""};
    ASSERT_EQ(spool_prepend(sp, mem_next, NULL, &e), 0);
    spool_free(sp);
    sp = open_spool(dir, 1 << 30);
    append_n(sp, 10, 20);
    ASSERT_EQ(expect_seq(sp, 0, 20), 20);
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

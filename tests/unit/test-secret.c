/*
 * test-secret.c — the Redis password read from a file or taken from the environment
 * (sensor/secret.c): the first line only, its end and the rest of the file wiped from the
 * buffer; a file other users could read, a directory, an empty or over-long line refused
 * without quoting it; the environment variable copied, wiped where /proc/PID/environ shows it,
 * and unset, also when it is refused.
 */
#include "test.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "secret.h"

/* A file holding text with mode, in a fresh directory; its path in path. */
static void make_file(char *path, size_t n, const char *text, size_t len, mode_t mode)
{
    char dir[] = "/tmp/test-secret-XXXXXX";
    ASSERT(mkdtemp(dir) != NULL);
    snprintf(path, n, "%s/pw", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    ASSERT(fd >= 0);
    ASSERT_EQ(write(fd, text, len), (long long)len);
    close(fd);
    ASSERT_EQ(chmod(path, mode), 0);
}

static void remove_file(const char *path)
{
    char dir[256];
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = '\0';
    unlink(path);
    rmdir(dir);
}

TEST(the_first_line_is_the_secret_and_the_rest_is_wiped)
{
    static const char text[] = "hunter2\r\nsecond line\n";
    char path[256], buf[64];
    memset(buf, 'z', sizeof buf);
    make_file(path, sizeof path, text, sizeof text - 1, 0600);
    struct err e = {""};
    ASSERT_EQ(secret_read_file(path, buf, sizeof buf, &e), 0);
    ASSERT_STREQ(buf, "hunter2");
    for (size_t i = strlen("hunter2"); i < sizeof buf; i++)
        ASSERT_EQ(buf[i], 0);
    remove_file(path);
    make_file(path, sizeof path, "no newline", 10, 0640); /* the group may read it */
    ASSERT_EQ(secret_read_file(path, buf, sizeof buf, &e), 0);
    ASSERT_STREQ(buf, "no newline");
    remove_file(path);
}

static void refused(const char *text, size_t len, mode_t mode, size_t cap, const char *why)
{
    char path[256], buf[300], want[400];
    make_file(path, sizeof path, text, len, mode);
    struct err e = {""};
    ASSERT_EQ(secret_read_file(path, buf, cap, &e), -1);
    snprintf(want, sizeof want, "%s: %s", path, why);
    ASSERT_STREQ(e.msg, want);
    for (size_t i = 0; i < cap; i++)
        ASSERT_EQ(buf[i], 0);
    remove_file(path);
}

TEST(a_file_that_will_not_do_is_refused_without_quoting_it)
{
    refused("hunter2\n", 8, 0644, 64, "other users can read or write it (mode 644): chmod 600 it");
    refused("hunter2\n", 8, 0602, 64, "other users can read or write it (mode 602): chmod 600 it");
    refused("\nhunter2\n", 9, 0600, 64, "the first line is empty");
    refused("", 0, 0600, 64, "the first line is empty");
    refused("hunter2hunter2\n", 15, 0600, 8, "the first line is longer than 7 bytes");
    refused("hunter2hunter2", 14, 0600, 8, "the first line is longer than 7 bytes");
    refused("hun\0ter2\n", 9, 0600, 64, "the first line holds a NUL byte");
    struct err e = {""};
    char buf[16];
    ASSERT_EQ(secret_read_file("/nonexistent/pw", buf, sizeof buf, &e), -1);
    ASSERT_STREQ(e.msg, "/nonexistent/pw: No such file or directory");
    ASSERT_EQ(secret_read_file("/tmp", buf, sizeof buf, &e), -1);
    ASSERT_STREQ(e.msg, "/tmp: not a regular file");
}

TEST(the_environment_variable_is_taken_wiped_and_unset)
{
    ASSERT_EQ(setenv("TEST_SECRET_PW", "hunter2", 1), 0);
    char *where = getenv("TEST_SECRET_PW");
    char buf[32];
    bool found = false;
    struct err e = {""};
    ASSERT_EQ(secret_take_env("TEST_SECRET_PW", buf, sizeof buf, &found, &e), 0);
    ASSERT(found);
    ASSERT_STREQ(buf, "hunter2");
    ASSERT_EQ(getenv("TEST_SECRET_PW"), NULL);
    for (size_t i = 0; i < strlen("hunter2"); i++) /* where the value was */
        ASSERT_EQ(where[i], 0);
    ASSERT_EQ(secret_take_env("TEST_SECRET_PW", buf, sizeof buf, &found, &e), 0);
    ASSERT(!found);
    ASSERT_STREQ(buf, "");
}

TEST(an_empty_or_overlong_variable_is_refused_and_unset_all_the_same)
{
    char buf[8];
    bool found = false;
    struct err e = {""};
    ASSERT_EQ(setenv("TEST_SECRET_PW", "", 1), 0);
    ASSERT_EQ(secret_take_env("TEST_SECRET_PW", buf, sizeof buf, &found, &e), -1);
    ASSERT_STREQ(e.msg, "TEST_SECRET_PW is set but empty");
    ASSERT_EQ(setenv("TEST_SECRET_PW", "hunter2hunter2", 1), 0);
    char *where = getenv("TEST_SECRET_PW");
    ASSERT_EQ(secret_take_env("TEST_SECRET_PW", buf, sizeof buf, &found, &e), -1);
    ASSERT_STREQ(e.msg, "TEST_SECRET_PW is longer than 7 bytes");
    ASSERT(found);
    ASSERT_EQ(getenv("TEST_SECRET_PW"), NULL);
    ASSERT_EQ(where[0], 0);
    ASSERT_STREQ(buf, "");
}

/*
 * test.h — a small unit test harness.
 *
 * TEST(name) { ... } registers a test. Each test runs in its own process
 * under a timeout (a crash or a hang fails that test only). ASSERT_* print
 * both values and the line, then fail the test.
 *
 * Output: "ok - name" or "not ok - name", then "<suite>: N passed, N failed".
 * The exit status is 0 only if every test passed.
 */
#ifndef POSTCARD_TEST_H
#define POSTCARD_TEST_H

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define TEST_MAX 256
#define TEST_TIMEOUT_S 20

struct test_case {
    const char *name; /* function name */
    void (*fn)(void); /* the test */
};

static struct test_case test_cases[TEST_MAX];
static int test_count;
static int test_overflow; /* tests past TEST_MAX: never silently dropped, a failure */

#define TEST(name)                                                                                 \
    static void test_##name(void);                                                                 \
    __attribute__((constructor)) static void test_register_##name(void)                            \
    {                                                                                              \
        if (test_count < TEST_MAX)                                                                 \
            test_cases[test_count++] = (struct test_case){#name, test_##name};                     \
        else                                                                                       \
            test_overflow++;                                                                       \
    }                                                                                              \
    static void test_##name(void)

#define TEST_FAIL(...)                                                                             \
    do {                                                                                           \
        fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__);                                          \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fprintf(stderr, "\n");                                                                     \
        exit(1);                                                                                   \
    } while (0)

#define ASSERT(c)                                                                                  \
    do {                                                                                           \
        if (!(c))                                                                                  \
            TEST_FAIL("assertion failed: %s", #c);                                                 \
    } while (0)

#define ASSERT_EQ(a, b)                                                                            \
    do {                                                                                           \
        long long a_ = (long long)(a), b_ = (long long)(b);                                        \
        if (a_ != b_)                                                                              \
            TEST_FAIL("%s == %s: %lld != %lld", #a, #b, a_, b_);                                   \
    } while (0)

#define ASSERT_STREQ(a, b)                                                                         \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        if (strcmp(a_, b_) != 0)                                                                   \
            TEST_FAIL("%s == %s:\n    \"%s\"\n != \"%s\"", #a, #b, a_, b_);                        \
    } while (0)

#define ASSERT_MEMEQ(a, b, n)                                                                      \
    do {                                                                                           \
        if (memcmp((a), (b), (n)) != 0)                                                            \
            TEST_FAIL("%s and %s differ in their first %zu bytes", #a, #b, (size_t)(n));           \
    } while (0)

static int test_run_one(const struct test_case *t)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        alarm(TEST_TIMEOUT_S);
        t->fn();
        exit(0);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) < 0)
        return 0;
    if (WIFSIGNALED(status)) {
        fprintf(stderr, "  killed by signal %d%s\n", WTERMSIG(status),
                WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
        return 0;
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int main(int argc, char **argv)
{
    const char *suite = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    int passed = 0, failed = 0;
    for (int i = 0; i < test_count; i++) {
        if (argc > 1 && strstr(test_cases[i].name, argv[1]) == NULL)
            continue;
        int ok = test_run_one(&test_cases[i]);
        printf("%s - %s\n", ok ? "ok" : "not ok", test_cases[i].name);
        ok ? passed++ : failed++;
    }
    if (test_overflow > 0) { /* raise TEST_MAX, or split the file */
        printf("not ok - %d test(s) past TEST_MAX (%d) were not run\n", test_overflow, TEST_MAX);
        failed++;
    }
    printf("%s: %d passed, %d failed\n", suite, passed, failed);
    return failed ? 1 : 0;
}

#endif

/*
 * test-redis-url.c — the Redis output's URL parser, which needs no server: every URL form
 * (TCP, IPv6, unix socket, user and password, %-encoding, db) and the errors, none of which
 * may repeat the password. The spool and the output without a server are in test-spool.c;
 * delivery to a real Redis is tested in tests/integration/test_redis*.py.
 */
#include <stdio.h>
#include <string.h>

#include "output/out-redis.h"
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

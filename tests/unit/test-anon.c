/*
 * test-anon.c — Crypto-PAn pseudonyms (sensor/anon.c): the reference
 * implementation's sample trace, published IPv6 vectors, prefix
 * preservation on random pairs, the same key giving the same mapping and
 * another key another, the user-name hash, flow ids, and the key file.
 */
#include "test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "eve/anon.h"

/* The sample key of the Crypto-PAn reference distribution (Fan, Xu et al.). */
static const uint8_t ref_key[ANON_KEY_BYTES] = {
    21,  34,  23,  141, 51,  164, 207, 128, 19, 10, 91, 22, 73, 144, 125, 16,
    216, 152, 143, 131, 121, 121, 101, 39,  98, 87, 76, 45, 42, 132, 34,  2,
};

/* Its sample trace: sample_trace_raw.dat against sample_trace_sanitized.dat
 * (the pairs as other implementations' tests carry them, e.g. Yawning/cryptopan). */
static const char *const v4_pairs[][2] = {
    {"128.11.68.132", "135.242.180.132"},   {"129.118.74.4", "134.136.186.123"},
    {"130.132.252.244", "133.68.164.234"},  {"141.223.7.43", "141.167.8.160"},
    {"141.233.145.108", "141.129.237.235"}, {"152.163.225.39", "151.140.114.167"},
    {"156.29.3.236", "147.225.12.42"},      {"165.247.96.84", "162.9.99.234"},
    {"166.107.77.190", "160.132.178.185"},  {"192.102.249.13", "252.138.62.131"},
    {"192.215.32.125", "252.43.47.189"},    {"192.233.80.103", "252.25.108.8"},
    {"192.41.57.43", "252.222.221.184"},    {"193.150.244.223", "253.169.52.216"},
    {"195.205.63.100", "255.186.223.5"},    {"198.200.171.101", "249.199.68.213"},
    {"198.26.132.101", "249.36.123.202"},   {"198.36.213.5", "249.7.21.132"},
    {"198.51.77.238", "249.18.186.254"},    {"199.217.79.101", "248.38.184.213"},
    {"202.49.198.20", "245.206.7.234"},     {"203.12.160.252", "244.248.163.4"},
    {"204.184.162.189", "243.192.77.90"},   {"204.202.136.230", "243.178.4.198"},
    {"204.29.20.4", "243.33.20.123"},       {"205.178.38.67", "242.108.198.51"},
    {"205.188.147.153", "242.96.16.101"},   {"205.188.248.25", "242.96.88.27"},
    {"205.245.121.43", "242.21.121.163"},   {"207.105.49.5", "241.118.205.138"},
    {"207.135.65.238", "241.202.129.222"},  {"207.155.9.214", "241.220.250.22"},
    {"207.188.7.45", "241.255.249.220"},    {"207.25.71.27", "241.33.119.156"},
    {"207.33.151.131", "241.1.233.131"},    {"208.147.89.59", "227.237.98.191"},
    {"208.234.120.210", "227.154.67.17"},   {"208.28.185.184", "227.39.94.90"},
    {"208.52.56.122", "227.8.63.165"},      {"209.12.231.7", "226.243.167.8"},
    {"209.238.72.3", "226.6.119.243"},      {"209.246.74.109", "226.22.124.76"},
    {"209.68.60.238", "226.184.220.233"},   {"209.85.249.6", "226.170.70.6"},
    {"212.120.124.31", "228.135.163.231"},  {"212.146.8.236", "228.19.4.234"},
    {"212.186.227.154", "228.59.98.98"},    {"212.204.172.118", "228.71.195.169"},
    {"212.206.130.201", "228.69.242.193"},  {"216.148.237.145", "235.84.194.111"},
    {"216.157.30.252", "235.89.31.26"},     {"216.184.159.48", "235.96.225.78"},
    {"216.227.10.221", "235.28.253.36"},    {"216.254.18.172", "235.7.16.162"},
    {"216.32.132.250", "235.192.139.38"},   {"216.35.217.178", "235.195.157.81"},
    {"24.0.250.221", "100.15.198.226"},     {"24.13.62.231", "100.2.192.247"},
    {"24.14.213.138", "100.1.42.141"},      {"24.5.0.80", "100.9.15.210"},
    {"24.7.198.88", "100.10.6.25"},         {"24.94.26.44", "100.88.228.35"},
    {"38.15.67.68", "64.3.66.187"},         {"4.3.88.225", "124.60.155.63"},
    {"63.14.55.111", "95.9.215.7"},         {"63.195.241.44", "95.179.238.44"},
    {"63.97.7.140", "95.97.9.123"},         {"64.14.118.196", "0.255.183.58"},
    {"64.34.154.117", "0.221.154.117"},     {"64.39.15.238", "0.219.7.41"},
    {"10.185.25.118", "117.161.29.118"},
};

/* IPv6 with the same key, from Yawning/cryptopan's tests (Go): the 128-bit construction. */
static const char *const v6_pairs[][2] = {
    {"::1", "78ff:f001:9fc0:20df:8380:b1f1:704:ed"},
    {"::2", "78ff:f001:9fc0:20df:8380:b1f1:704:ef"},
    {"::ffff", "78ff:f001:9fc0:20df:8380:b1f1:704:f838"},
    {"2001:db8::1", "4401:2bc:603f:d91d:27f:ff8e:e6f1:dc1e"},
    {"2001:db8::2", "4401:2bc:603f:d91d:27f:ff8e:e6f1:dc1c"},
};

static struct anon *open_key(const uint8_t key[ANON_KEY_BYTES], enum anon_users how)
{
    struct err e = {""};
    struct anon *a = anon_new(key, how, &e);
    if (a == NULL)
        TEST_FAIL("anon_new: %s", e.msg);
    return a;
}

static void parse(const char *s, int ipver, uint8_t out[16])
{
    memset(out, 0, 16);
    if (inet_pton(ipver == 4 ? AF_INET : AF_INET6, s, out) != 1)
        TEST_FAIL("bad address in the test: %s", s);
}

static void text(const uint8_t a[16], int ipver, char *buf, size_t n)
{
    if (inet_ntop(ipver == 4 ? AF_INET : AF_INET6, a, buf, (socklen_t)n) == NULL)
        TEST_FAIL("inet_ntop");
}

/* xorshift64*: the same random addresses on every run */
static uint64_t rnd_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
    rnd_state ^= rnd_state >> 12;
    rnd_state ^= rnd_state << 25;
    rnd_state ^= rnd_state >> 27;
    return rnd_state * 0x2545f4914f6cdd1dULL;
}

static void random_addr(uint8_t a[16], int ipver)
{
    memset(a, 0, 16);
    for (int i = 0; i < (ipver == 4 ? 4 : 16); i++)
        a[i] = (uint8_t)rnd();
}

static unsigned common_prefix(const uint8_t *a, const uint8_t *b, unsigned bits)
{
    for (unsigned i = 0; i < bits; i++)
        if (((a[i / 8] ^ b[i / 8]) >> (7 - i % 8)) & 1)
            return i;
    return bits;
}

static void flip_bit(uint8_t *a, unsigned i)
{
    a[i / 8] ^= (uint8_t)(0x80 >> (i % 8));
}

TEST(ipv4_matches_the_reference_sample_trace)
{
    struct anon *a = open_key(ref_key, ANON_USERS_DROP);
    size_t n = sizeof v4_pairs / sizeof v4_pairs[0];
    ASSERT(n >= 70);
    for (int round = 0; round < 2; round++) /* computed, then from the cache */
        for (size_t i = 0; i < n; i++) {
            uint8_t in[16], out[16];
            char got[INET6_ADDRSTRLEN];
            parse(v4_pairs[i][0], 4, in);
            anon_addr(a, in, 4, out);
            text(out, 4, got, sizeof got);
            ASSERT_STREQ(got, v4_pairs[i][1]);
        }
    anon_free(a);
}

TEST(ipv6_matches_published_vectors)
{
    struct anon *a = open_key(ref_key, ANON_USERS_DROP);
    for (size_t i = 0; i < sizeof v6_pairs / sizeof v6_pairs[0]; i++) {
        uint8_t in[16], out[16];
        char got[INET6_ADDRSTRLEN];
        parse(v6_pairs[i][0], 6, in);
        anon_addr(a, in, 6, out);
        text(out, 6, got, sizeof got);
        ASSERT_STREQ(got, v6_pairs[i][1]);
    }
    anon_free(a);
}

/* The IPv6 construction is the IPv4 one over 128 bits: an IPv4 address in the
 * first 32 bits of an IPv6 one has the IPv4 pseudonym there (yacryptopan's check). */
TEST(ipv6_agrees_with_ipv4_on_the_first_32_bits)
{
    struct anon *a = open_key(ref_key, ANON_USERS_DROP);
    for (size_t i = 0; i < sizeof v4_pairs / sizeof v4_pairs[0]; i++) {
        uint8_t in[16], want[16], out[16];
        parse(v4_pairs[i][0], 4, in);
        parse(v4_pairs[i][1], 4, want);
        for (int k = 4; k < 16; k++)
            in[k] = (uint8_t)rnd();
        anon_addr(a, in, 6, out);
        ASSERT_MEMEQ(out, want, 4);
    }
    anon_free(a);
}

static void check_prefixes(int ipver)
{
    uint8_t key[ANON_KEY_BYTES];
    for (int i = 0; i < ANON_KEY_BYTES; i++)
        key[i] = (uint8_t)rnd();
    struct anon *a = open_key(key, ANON_USERS_DROP);
    unsigned bits = ipver == 4 ? 32 : 128;
    for (unsigned k = 0; k <= bits; k++)
        for (int round = 0; round < 20; round++) {
            uint8_t x[16], y[16], px[16], py[16];
            random_addr(x, ipver);
            memcpy(y, x, 16);
            if (k < bits) { /* y shares exactly k bits with x; the rest at random */
                flip_bit(y, k);
                for (unsigned i = k + 1; i < bits; i++)
                    if (rnd() & 1)
                        flip_bit(y, i);
            }
            ASSERT_EQ(common_prefix(x, y, bits), k);
            anon_addr(a, x, ipver, px);
            anon_addr(a, y, ipver, py);
            ASSERT_EQ(common_prefix(px, py, bits), k);
            for (unsigned i = bits / 8; i < 16; i++)
                ASSERT_EQ(px[i], 0);
        }
    anon_free(a);
}

TEST(ipv4_pseudonyms_share_exactly_the_prefix_of_their_addresses)
{
    check_prefixes(4);
}

TEST(ipv6_pseudonyms_share_exactly_the_prefix_of_their_addresses)
{
    check_prefixes(6);
}

/* Between every pair of a set: the reference trace's addresses. */
TEST(reference_trace_prefixes_are_preserved_pairwise)
{
    struct anon *a = open_key(ref_key, ANON_USERS_DROP);
    size_t n = sizeof v4_pairs / sizeof v4_pairs[0];
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            uint8_t x[16], y[16], px[16], py[16];
            parse(v4_pairs[i][0], 4, x);
            parse(v4_pairs[j][0], 4, y);
            anon_addr(a, x, 4, px);
            anon_addr(a, y, 4, py);
            ASSERT_EQ(common_prefix(px, py, 32), common_prefix(x, y, 32));
        }
    anon_free(a);
}

TEST(the_same_key_gives_the_same_mapping_in_every_instance)
{
    struct anon *a = open_key(ref_key, ANON_USERS_DROP);
    struct anon *b = open_key(ref_key, ANON_USERS_HASH);
    for (int i = 0; i < 20000; i++) { /* past the cache: slots are reused */
        int ipver = i & 1 ? 6 : 4;
        uint8_t x[16], pa[16], pb[16];
        random_addr(x, ipver);
        anon_addr(a, x, ipver, pa);
        anon_addr(b, x, ipver, pb);
        ASSERT_MEMEQ(pa, pb, 16);
        if (i % 7 == 0) { /* again, from the cache this time */
            anon_addr(b, x, ipver, pb);
            ASSERT_MEMEQ(pa, pb, 16);
        }
    }
    uint64_t hits, misses;
    anon_cache_counts(b, &hits, &misses);
    ASSERT(hits >= 20000 / 7);
    ASSERT_EQ(hits + misses, 20000 + (20000 + 6) / 7);
    anon_free(a);
    anon_free(b);
}

TEST(another_key_gives_another_mapping)
{
    for (int half = 0; half < 2; half++) { /* the AES key, then the pad's half */
        uint8_t key[ANON_KEY_BYTES];
        memcpy(key, ref_key, sizeof key);
        key[half * 16 + 5] ^= 0x01;
        struct anon *a = open_key(ref_key, ANON_USERS_DROP);
        struct anon *b = open_key(key, ANON_USERS_DROP);
        int same = 0;
        for (int i = 0; i < 1000; i++) {
            uint8_t x[16], pa[16], pb[16];
            random_addr(x, 4);
            anon_addr(a, x, 4, pa);
            anon_addr(b, x, 4, pb);
            same += memcmp(pa, pb, 4) == 0;
        }
        ASSERT(same < 5); /* 2^-32 each by chance */
        anon_free(a);
        anon_free(b);
    }
}

TEST(ipv4_reads_four_bytes_and_zeroes_the_rest)
{
    struct anon *a = open_key(ref_key, ANON_USERS_DROP);
    uint8_t in[16], out[16], again[16];
    parse("128.11.68.132", 4, in);
    anon_addr(a, in, 4, out);
    memset(in + 4, 0xab, 12);
    memset(again, 0xcd, 16);
    anon_addr(a, in, 4, again);
    ASSERT_MEMEQ(out, again, 16);
    for (int i = 4; i < 16; i++)
        ASSERT_EQ(again[i], 0);
    memcpy(again, in, 16); /* in place */
    anon_addr(a, again, 4, again);
    ASSERT_MEMEQ(out, again, 16);
    anon_free(a);
}

TEST(no_address_is_its_own_pseudonym_by_design)
{
    /* Not a property of Crypto-PAn (an address may map to itself with
     * probability 2^-32), but the reference trace has none, and a mapping
     * that left addresses alone would pass the prefix tests. */
    struct anon *a = open_key(ref_key, ANON_USERS_DROP);
    int same = 0;
    for (int i = 0; i < 5000; i++) {
        uint8_t x[16], p[16];
        random_addr(x, i & 1 ? 6 : 4);
        anon_addr(a, x, i & 1 ? 6 : 4, p);
        same += memcmp(x, p, 16) == 0;
    }
    ASSERT_EQ(same, 0);
    anon_free(a);
}

/* Pinned values: HMAC-SHA256(HMAC-SHA256(key, "postcard anonymize users v1"), user),
 * computed with Python's hmac module. A change here breaks the merging of reports
 * made before it with the same key. */
TEST(user_hash_is_the_keyed_hmac_in_hex)
{
    struct anon *a = open_key(ref_key, ANON_USERS_HASH);
    char out[ANON_USER_BYTES];
    ASSERT_EQ(anon_user(a, "alice", 5, out, sizeof out), 21);
    ASSERT_STREQ(out, "anon-d664a9c02694be0f");
    ASSERT_EQ(anon_user(a, "bob", 3, out, sizeof out), 21);
    ASSERT_STREQ(out, "anon-ec3d1d8b395de395");
    ASSERT_EQ(anon_user(a, "bobby", 3, out, sizeof out), 21); /* n bytes only */
    ASSERT_STREQ(out, "anon-ec3d1d8b395de395");
    ASSERT_EQ(anon_user(a, "", 0, out, sizeof out), 21);
    ASSERT_STREQ(out, "anon-ccf85884a6b875c8");
    ASSERT_EQ(anon_user(a, "alice", 5, out, ANON_USER_BYTES - 1), 0); /* too small */
    ASSERT_EQ(anon_users_mode(a), ANON_USERS_HASH);
    anon_free(a);
}

TEST(user_hash_depends_on_the_key)
{
    uint8_t key[ANON_KEY_BYTES];
    memcpy(key, ref_key, sizeof key);
    key[31] ^= 0x80;
    struct anon *a = open_key(ref_key, ANON_USERS_HASH);
    struct anon *b = open_key(key, ANON_USERS_HASH);
    char x[ANON_USER_BYTES], y[ANON_USER_BYTES];
    anon_user(a, "alice", 5, x, sizeof x);
    anon_user(b, "alice", 5, y, sizeof y);
    ASSERT(strcmp(x, y) != 0);
    anon_free(a);
    anon_free(b);
    a = open_key(key, ANON_USERS_DROP);
    ASSERT_EQ(anon_users_mode(a), ANON_USERS_DROP);
    anon_free(a);
}

/* Pinned: AES-128 under HMAC-SHA256(key, "postcard anonymize flow-ids v1")[0..16) of
 * the id (8 bytes, big-endian, then 8 zero bytes), first 8 bytes, low 51 bits. */
TEST(flow_ids_are_rekeyed)
{
    struct anon *a = open_key(ref_key, ANON_USERS_DROP);
    ASSERT_EQ(anon_flow_id(a, 0), 1908916799946599LL);
    ASSERT_EQ(anon_flow_id(a, 1), 100984202689371LL);
    ASSERT_EQ(anon_flow_id(a, 1786635401514856ULL), 74427294551915LL);
    for (int i = 0; i < 1000; i++) {
        uint64_t id = rnd() & ((1ULL << 51) - 1);
        uint64_t p = anon_flow_id(a, id);
        ASSERT(p < (1ULL << 51));
        ASSERT(p != id);
        ASSERT_EQ(anon_flow_id(a, id), p);
        ASSERT(anon_flow_id(a, id ^ 1) != p);
    }
    anon_free(a);
}

/* --- the key file ---------------------------------------------------------------------- */

static char key_dir[64];

static const char *key_path(const char *name)
{
    static char path[160];
    if (key_dir[0] == '\0') {
        snprintf(key_dir, sizeof key_dir, "/tmp/test-anon-XXXXXX");
        if (mkdtemp(key_dir) == NULL)
            TEST_FAIL("mkdtemp: %s", strerror(errno));
    }
    snprintf(path, sizeof path, "%s/%s", key_dir, name);
    return path;
}

/* Remove the test's key directory and what it holds. */
static void remove_keys(void)
{
    DIR *d = opendir(key_dir);
    if (d == NULL)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.')
            unlink(key_path(de->d_name));
    closedir(d);
    rmdir(key_dir);
}

static void write_file(const char *path, const uint8_t *p, size_t n, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0 || write(fd, p, n) != (ssize_t)n || fchmod(fd, mode) != 0 || close(fd) != 0)
        TEST_FAIL("%s: %s", path, strerror(errno));
}

static void expect_refused(const char *path, const char *needle)
{
    struct err e = {""};
    struct anon *a = anon_open(path, ANON_USERS_DROP, &e);
    if (a != NULL)
        TEST_FAIL("%s was accepted", path);
    if (strstr(e.msg, path) == NULL || strstr(e.msg, needle) == NULL)
        TEST_FAIL("message \"%s\" lacks \"%s\"", e.msg, needle);
}

TEST(key_file_of_32_private_bytes_loads_and_maps_as_the_key)
{
    const char *p = key_path("good.key");
    write_file(p, ref_key, sizeof ref_key, 0600);
    struct err e = {""};
    struct anon *a = anon_open(p, ANON_USERS_DROP, &e);
    if (a == NULL)
        TEST_FAIL("%s", e.msg);
    uint8_t in[16], out[16];
    char got[INET6_ADDRSTRLEN];
    parse("128.11.68.132", 4, in);
    anon_addr(a, in, 4, out);
    text(out, 4, got, sizeof got);
    ASSERT_STREQ(got, "135.242.180.132");
    anon_free(a);
    write_file(p, ref_key, sizeof ref_key, 0640); /* a group may share it */
    a = anon_open(p, ANON_USERS_DROP, &e);
    ASSERT(a != NULL);
    anon_free(a);
    remove_keys();
}

TEST(key_file_problems_are_clear_errors)
{
    uint8_t big[64] = {0}, zeros[ANON_KEY_BYTES] = {0};
    memcpy(big, ref_key, sizeof ref_key);
    expect_refused(key_path("missing.key"), "No such file");
    write_file(key_path("short.key"), ref_key, 31, 0600);
    expect_refused(key_path("short.key"), "31 bytes");
    write_file(key_path("long.key"), big, 33, 0600);
    expect_refused(key_path("long.key"), "33 bytes");
    write_file(key_path("empty.key"), big, 0, 0600);
    expect_refused(key_path("empty.key"), "0 bytes");
    write_file(key_path("open.key"), ref_key, sizeof ref_key, 0604);
    expect_refused(key_path("open.key"), "chmod 600");
    write_file(key_path("zero.key"), zeros, sizeof zeros, 0600);
    expect_refused(key_path("zero.key"), "not a key");
    expect_refused(key_dir, "not a regular file");
    if (geteuid() != 0) { /* root reads anything */
        write_file(key_path("locked.key"), ref_key, sizeof ref_key, 0000);
        expect_refused(key_path("locked.key"), "Permission denied");
    }
    remove_keys();
}

TEST(keygen_writes_a_private_key_once)
{
    const char *p = key_path("new.key");
    struct err e = {""};
    if (anon_keygen(p, &e) != 0)
        TEST_FAIL("%s", e.msg);
    struct stat sb;
    ASSERT(stat(p, &sb) == 0);
    ASSERT_EQ(sb.st_size, ANON_KEY_BYTES);
    ASSERT_EQ(sb.st_mode & 0777, 0600);
    struct anon *a = anon_open(p, ANON_USERS_DROP, &e);
    if (a == NULL)
        TEST_FAIL("%s", e.msg);
    anon_free(a);
    e.msg[0] = '\0';
    ASSERT_EQ(anon_keygen(p, &e), -1); /* never over a key in use */
    ASSERT(strstr(e.msg, "never overwritten") != NULL);
    ASSERT_EQ(anon_keygen(key_path("no/such/dir.key"), &e), -1);
    remove_keys();
}

/*
 * test-tls-ciphers.c — tls-ciphers.c, the table generated from the IANA
 * "TLS Cipher Suites" registry: exact names and weakness bits of known
 * suites, unassigned and GREASE (RFC 8701) code points, the table's order,
 * the weakness names and the SSLv2 cipher kinds.
 */
#include <stdint.h>
#include <string.h>

#include "test.h"
#include "tls-ciphers.h"

/* The entry for id must exist, be named name and carry exactly weak. */
static void expect_suite(uint16_t id, const char *name, unsigned weak)
{
    const struct tls_cipher *c = tls_cipher_lookup(id);
    if (c == NULL)
        TEST_FAIL("0x%04X (%s) not found", id, name);
    ASSERT_EQ(c->id, id);
    ASSERT_STREQ(c->name, name);
    if (c->weak != weak)
        TEST_FAIL("0x%04X %s: weak 0x%03X, expected 0x%03X", id, name, (unsigned)c->weak, weak);
}

TEST(static_rsa_legacy_suites)
{
    expect_suite(0x0005, "TLS_RSA_WITH_RC4_128_SHA", TLS_WEAK_RC4 | TLS_WEAK_NO_FS);
    expect_suite(0x000A, "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
                 TLS_WEAK_3DES | TLS_WEAK_CBC | TLS_WEAK_NO_FS);
    expect_suite(0x0003, "TLS_RSA_EXPORT_WITH_RC4_40_MD5",
                 TLS_WEAK_EXPORT | TLS_WEAK_RC4 | TLS_WEAK_MD5 | TLS_WEAK_NO_FS);
    expect_suite(0x0004, "TLS_RSA_WITH_RC4_128_MD5", TLS_WEAK_RC4 | TLS_WEAK_MD5 | TLS_WEAK_NO_FS);
    expect_suite(0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA", TLS_WEAK_CBC | TLS_WEAK_NO_FS);
    expect_suite(0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256", TLS_WEAK_NO_FS);
    expect_suite(0x0009, "TLS_RSA_WITH_DES_CBC_SHA", TLS_WEAK_DES | TLS_WEAK_CBC | TLS_WEAK_NO_FS);
    expect_suite(0x0008, "TLS_RSA_EXPORT_WITH_DES40_CBC_SHA",
                 TLS_WEAK_EXPORT | TLS_WEAK_DES | TLS_WEAK_CBC | TLS_WEAK_NO_FS);
    expect_suite(0x0006, "TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5",
                 TLS_WEAK_EXPORT | TLS_WEAK_RC2 | TLS_WEAK_CBC | TLS_WEAK_MD5 | TLS_WEAK_NO_FS);
    expect_suite(0x0007, "TLS_RSA_WITH_IDEA_CBC_SHA",
                 TLS_WEAK_IDEA | TLS_WEAK_CBC | TLS_WEAK_NO_FS);
    expect_suite(0x0092, "TLS_RSA_PSK_WITH_RC4_128_SHA", TLS_WEAK_RC4 | TLS_WEAK_NO_FS);
}

TEST(null_suites)
{
    expect_suite(0x0000, "TLS_NULL_WITH_NULL_NULL", TLS_WEAK_NULL);
    expect_suite(0x0001, "TLS_RSA_WITH_NULL_MD5", TLS_WEAK_NULL | TLS_WEAK_MD5 | TLS_WEAK_NO_FS);
    expect_suite(0x002C, "TLS_PSK_WITH_NULL_SHA", TLS_WEAK_NULL | TLS_WEAK_NO_FS);
    expect_suite(0x002D, "TLS_DHE_PSK_WITH_NULL_SHA", TLS_WEAK_NULL);
    expect_suite(0xC015, "TLS_ECDH_anon_WITH_NULL_SHA", TLS_WEAK_NULL | TLS_WEAK_ANON);
    expect_suite(0xC0B4, "TLS_SHA256_SHA256", TLS_WEAK_NULL); /* RFC 9150 */
    expect_suite(0xC0B5, "TLS_SHA384_SHA384", TLS_WEAK_NULL);
}

TEST(anonymous_is_not_static)
{
    expect_suite(0x0018, "TLS_DH_anon_WITH_RC4_128_MD5",
                 TLS_WEAK_ANON | TLS_WEAK_RC4 | TLS_WEAK_MD5);
    expect_suite(0x00A6, "TLS_DH_anon_WITH_AES_128_GCM_SHA256", TLS_WEAK_ANON);
    expect_suite(0xC018, "TLS_ECDH_anon_WITH_AES_128_CBC_SHA", TLS_WEAK_ANON | TLS_WEAK_CBC);
}

TEST(static_and_ephemeral_dh)
{
    expect_suite(0xC00E, "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA", TLS_WEAK_CBC | TLS_WEAK_NO_FS);
    expect_suite(0xC02D, "TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256", TLS_WEAK_NO_FS);
    expect_suite(0x00A0, "TLS_DH_RSA_WITH_AES_128_GCM_SHA256", TLS_WEAK_NO_FS);
    expect_suite(0xC013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", TLS_WEAK_CBC);
    expect_suite(0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", TLS_WEAK_CBC);
    expect_suite(0x0016, "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA", TLS_WEAK_3DES | TLS_WEAK_CBC);
    expect_suite(0xC011, "TLS_ECDHE_RSA_WITH_RC4_128_SHA", TLS_WEAK_RC4);
}

TEST(modern_suites_have_no_weakness)
{
    expect_suite(0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", 0);
    expect_suite(0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", 0);
    expect_suite(0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", 0);
    expect_suite(0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", 0);
    expect_suite(0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", 0);
    expect_suite(0x009E, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", 0);
    expect_suite(0xC0B0, "TLS_ECCPWD_WITH_AES_128_GCM_SHA256", 0);
    expect_suite(0xC0AA, "TLS_PSK_DHE_WITH_AES_128_CCM_8", 0); /* DHE-PSK, RFC 6655 */
}

TEST(tls13_suites)
{
    expect_suite(0x1301, "TLS_AES_128_GCM_SHA256", 0);
    expect_suite(0x1302, "TLS_AES_256_GCM_SHA384", 0);
    expect_suite(0x1303, "TLS_CHACHA20_POLY1305_SHA256", 0);
    expect_suite(0x1304, "TLS_AES_128_CCM_SHA256", 0);
    expect_suite(0x1305, "TLS_AES_128_CCM_8_SHA256", 0);
    ASSERT(tls_cipher_lookup(0x1300) == NULL);
    for (unsigned id = 0x1300; id <= 0x13FF; id++) {
        const struct tls_cipher *c = tls_cipher_lookup((uint16_t)id);
        if (c != NULL)
            ASSERT_EQ(c->weak, 0);
    }
}

TEST(other_registries_suites)
{
    expect_suite(0xC100, "TLS_GOSTR341112_256_WITH_KUZNYECHIK_CTR_OMAC", TLS_WEAK_NO_FS);
    expect_suite(0xC103, "TLS_GOSTR341112_256_WITH_KUZNYECHIK_MGM_L", 0);
    expect_suite(0x00C6, "TLS_SM4_GCM_SM3", 0);
    expect_suite(0x001E, "TLS_KRB5_WITH_DES_CBC_SHA", TLS_WEAK_DES | TLS_WEAK_CBC | TLS_WEAK_NO_FS);
    expect_suite(0x008A, "TLS_PSK_WITH_RC4_128_SHA", TLS_WEAK_RC4 | TLS_WEAK_NO_FS);
    expect_suite(0xC01D, "TLS_SRP_SHA_WITH_AES_128_CBC_SHA", TLS_WEAK_CBC);
}

TEST(signalling_values)
{
    expect_suite(0x00FF, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV", 0);
    expect_suite(0x5600, "TLS_FALLBACK_SCSV", 0);
}

TEST(unassigned_reserved_and_grease)
{
    /* RFC 8701 GREASE: 0x?A?A */
    for (unsigned hi = 0x0A; hi <= 0xFA; hi += 0x10)
        ASSERT(tls_cipher_lookup((uint16_t)(hi << 8 | hi)) == NULL);
    ASSERT(tls_cipher_lookup(0x001C) == NULL); /* reserved, SSLv3 conflicts */
    ASSERT(tls_cipher_lookup(0x001D) == NULL);
    ASSERT(tls_cipher_lookup(0x0047) == NULL); /* reserved, deployed implementations */
    ASSERT(tls_cipher_lookup(0x0060) == NULL);
    ASSERT(tls_cipher_lookup(0x00C8) == NULL); /* unassigned */
    ASSERT(tls_cipher_lookup(0x0100) == NULL);
    ASSERT(tls_cipher_lookup(0x5601) == NULL);
    ASSERT(tls_cipher_lookup(0xC000) == NULL);
    ASSERT(tls_cipher_lookup(0xD004) == NULL);
    ASSERT(tls_cipher_lookup(0xFEFE) == NULL);
    ASSERT(tls_cipher_lookup(0xFF00) == NULL); /* private use */
    ASSERT(tls_cipher_lookup(0xFFFF) == NULL);
}

TEST(table_sorted_unique_complete)
{
    unsigned hits = 0;
    int prev = -1;
    for (unsigned id = 0; id <= 0xFFFF; id++) {
        const struct tls_cipher *c = tls_cipher_lookup((uint16_t)id);
        if (c == NULL)
            continue;
        ASSERT_EQ(c->id, id);
        ASSERT((int)id > prev);
        prev = (int)id;
        /* one entry per id: the next element must not repeat it */
        const struct tls_cipher *next = c + 1;
        if (hits + 1 < tls_cipher_count())
            ASSERT(next->id > c->id);
        ASSERT(c->name != NULL);
        ASSERT(strncmp(c->name, "TLS_", 4) == 0);
        ASSERT((c->weak & ~((1u << TLS_WEAK_COUNT) - 1)) == 0);
        hits++;
    }
    ASSERT_EQ(hits, tls_cipher_count());
    ASSERT(tls_cipher_count() > 300 && tls_cipher_count() < 400);
}

TEST(weakness_names)
{
    static const char *const names[TLS_WEAK_COUNT] = {
        "null", "export", "anon", "des", "3des", "rc4", "md5", "no-forward-secrecy",
        "cbc",  "rc2",    "idea",
    };
    for (unsigned i = 0; i < TLS_WEAK_COUNT; i++) {
        const char *n = tls_weakness_name(1u << i);
        ASSERT(n != NULL);
        ASSERT_STREQ(n, names[i]);
    }
    ASSERT_STREQ(tls_weakness_name(TLS_WEAK_NO_FS), "no-forward-secrecy");
    ASSERT(tls_weakness_name(0) == NULL);
    ASSERT(tls_weakness_name(1u << TLS_WEAK_COUNT) == NULL);
    ASSERT(tls_weakness_name(TLS_WEAK_RC4 | TLS_WEAK_MD5) == NULL);
}

static void expect_sslv2(uint32_t kind, const char *name, unsigned weak)
{
    uint16_t w = 0xFFFF;
    const char *n = sslv2_cipher_name(kind, &w);
    if (n == NULL)
        TEST_FAIL("SSLv2 kind 0x%06X (%s) not found", (unsigned)kind, name);
    ASSERT_STREQ(n, name);
    if (w != weak)
        TEST_FAIL("SSLv2 %s: weak 0x%03X, expected 0x%03X", name, (unsigned)w, weak);
}

TEST(sslv2_kinds)
{
    const unsigned base = TLS_WEAK_MD5 | TLS_WEAK_NO_FS;
    expect_sslv2(0x010080, "SSL_CK_RC4_128_WITH_MD5", base | TLS_WEAK_RC4);
    expect_sslv2(0x020080, "SSL_CK_RC4_128_EXPORT40_WITH_MD5",
                 base | TLS_WEAK_RC4 | TLS_WEAK_EXPORT);
    expect_sslv2(0x030080, "SSL_CK_RC2_128_CBC_WITH_MD5", base | TLS_WEAK_RC2 | TLS_WEAK_CBC);
    expect_sslv2(0x040080, "SSL_CK_RC2_128_CBC_EXPORT40_WITH_MD5",
                 base | TLS_WEAK_RC2 | TLS_WEAK_CBC | TLS_WEAK_EXPORT);
    expect_sslv2(0x050080, "SSL_CK_IDEA_128_CBC_WITH_MD5", base | TLS_WEAK_IDEA | TLS_WEAK_CBC);
    expect_sslv2(0x060040, "SSL_CK_DES_64_CBC_WITH_MD5", base | TLS_WEAK_DES | TLS_WEAK_CBC);
    expect_sslv2(0x0700C0, "SSL_CK_DES_192_EDE3_CBC_WITH_MD5", base | TLS_WEAK_3DES | TLS_WEAK_CBC);

    uint16_t w = 0xFFFF;
    ASSERT(sslv2_cipher_name(0x000000, &w) == NULL);
    ASSERT_EQ(w, 0);
    w = 0xFFFF;
    ASSERT(sslv2_cipher_name(0x080080, &w) == NULL);
    ASSERT_EQ(w, 0);
    ASSERT(sslv2_cipher_name(0x00002F, NULL) == NULL); /* a TLS suite in SSLv2 form */
    ASSERT_STREQ(sslv2_cipher_name(0x010080, NULL), "SSL_CK_RC4_128_WITH_MD5");
}

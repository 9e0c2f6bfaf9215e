/*
 * test-tls.c — tls.c (record layer) and tls-hs.c (hellos, JA3/JA3S,
 * Certificate, ServerKeyExchange, SSLv2 hellos) against handcrafted
 * conversations: TLS 1.2 (RFC 5246), TLS 1.3 with HelloRetryRequest and
 * drafts (RFC 8446), SSLv3 (RFC 6101), SSLv2 and SSLv2-format hellos
 * (draft-hickman-netscape-ssl-00, RFC 5246 §E.2), alerts, lying lengths,
 * stream gaps and random bytes.
 *
 * Every message body is written out below field by field, one comment per
 * field. Small helpers only wrap a body in its 4-byte handshake header and
 * its 5-byte record header (or the 2-byte SSLv2 header), computing those
 * length fields. The byte vectors sit between clang-format off/on markers:
 * clang-format would pack their fields into columns, one comment per line lost.
 *
 * Each conversation is played with dissect-harness.h's pieces (exact-size
 * malloc'ed copy per feed, per-direction leftovers, gaps) whole, one byte
 * per feed and in 50 seeded random splits, through a TLS-aware logger; all
 * runs must log the same text, which is compared with the exact log expected.
 *
 * Log lines (one per event; spans escaped as in dissect-harness.h):
 *   CLIENT_HELLO legacy=XXXX max=XXXX sslv2=B heartbeat=B reneg=B etm=B ems=B
 *       ciphers=XXXX,... comp=XX,... groups=XXXX,... sigalgs=XXXX,... sni=S alpn=S ja3=J
 *       (and " n_ciphers=N" if n_ciphers does not match the span)
 *   SERVER_HELLO version=XXXX cipher=XXXX comp=N sslv2=B hrr=B ja3s=J
 *   CERT index=N len=N der=HEX
 *   KEX dh_bits=N group=N
 *   ALERT level=N desc=N encrypted=B from=client|server
 *   DONE complete=B
 *   ANOMALY <name> from=client|server
 */
#include "test.h"
#include "tls-vectors.h"

/* ---- 1. TLS 1.2 ---------------------------------------------------------- */

TEST(tls12_full_handshake_reports_hellos_ja3_certificates_kex_and_completes)
{
    struct tls12_conv v;
    tls12_conv_build(&v);
    struct chunk s[] = {CLIW(v.c1), SRVW(v.s1), CLIW(v.c2), SRVW(v.s2)};
    ASSERT_TLS_LOG(s, TLS12_LOG);
}

TEST(tls12_application_data_after_the_handshake_is_only_counted)
{
    struct tls12_conv v;
    tls12_conv_build(&v);
    struct wire c3 = {.n = 0}, s3 = {.n = 0};
    w_record(&c3, TLS_CT_APPDATA, 0x0303, ciphertext16, sizeof ciphertext16);
    w_record(&s3, TLS_CT_APPDATA, 0x0303, ciphertext16, sizeof ciphertext16);
    w_record(&s3, TLS_CT_APPDATA, 0x0303, ciphertext16, sizeof ciphertext16);
    struct chunk s[] = {CLIW(v.c1), SRVW(v.s1), CLIW(v.c2), SRVW(v.s2), CLIW(c3), SRVW(s3)};
    ASSERT_TLS_LOG(s, TLS12_LOG);
}

/* The sensor stops feeding at EV_TLS_DONE; bytes after the handshake's end in the same segment
 * must tell nothing either (they gave a not-TLS anomaly only when they came in that segment). */
TEST(tls12_bytes_after_the_handshake_end_in_its_segment_are_not_read)
{
    struct tls12_conv v;
    tls12_conv_build(&v);
    static const char junk[] = "GET / HTTP/1.0\r\n\r\n";
    w_bytes(&v.s2, (const uint8_t *)junk, sizeof junk - 1);
    struct chunk s[] = {CLIW(v.c1), SRVW(v.s1), CLIW(v.c2), SRVW(v.s2)};
    ASSERT_TLS_LOG(s, TLS12_LOG);
}

/* RFC 5246 §7.3: an abbreviated (resumed) handshake, the server's CCS first. */
TEST(tls12_abbreviated_handshake_completes)
{
    struct wire c1 = {.n = 0}, s1 = {.n = 0}, c2 = {.n = 0};
    w_hs_record(&c1, 0x0301, HS_CLIENT_HELLO, ch12_body, sizeof ch12_body);
    w_hs_record(&s1, 0x0303, HS_SERVER_HELLO, sh12_body, sizeof sh12_body);
    w_ccs_finished(&s1, 0x0303);
    w_ccs_finished(&c2, 0x0303);
    struct chunk s[] = {CLIW(c1), SRVW(s1), CLIW(c2)};
    ASSERT_TLS_LOG(s, CH12_LOG SH12_LOG "DONE complete=1\n");
}

/* ---- 2. fragmentation ---------------------------------------------------- */

TEST(tls12_client_hello_spread_over_three_records)
{
    struct wire m = {.n = 0}, c1 = {.n = 0};
    w_handshake(&m, HS_CLIENT_HELLO, ch12_body, sizeof ch12_body);
    /* record 1: 3 bytes (even the handshake header is cut), record 2: 60, record 3: the rest */
    w_record(&c1, TLS_CT_HANDSHAKE, 0x0301, m.p, 3);
    w_record(&c1, TLS_CT_HANDSHAKE, 0x0301, m.p + 3, 60);
    w_record(&c1, TLS_CT_HANDSHAKE, 0x0301, m.p + 63, m.n - 63);
    struct chunk s[] = {CLIW(c1)};
    ASSERT_TLS_LOG(s, CH12_LOG "DONE complete=0\n");
}

TEST(tls12_client_hello_record_split_across_two_feeds_at_every_byte)
{
    struct wire c1 = {.n = 0};
    w_hs_record(&c1, 0x0301, HS_CLIENT_HELLO, ch12_body, sizeof ch12_body);
    for (size_t k = 1; k < c1.n; k++) {
        struct chunk s[] = {{DIR_TO_SERVER, (const char *)c1.p, k},
                            {DIR_TO_SERVER, (const char *)c1.p + k, c1.n - k}};
        ASSERT_TLS_LOG(s, CH12_LOG "DONE complete=0\n");
    }
}

/* ---- 3. several messages in one record ----------------------------------- */

TEST(tls12_server_hello_certificate_and_done_in_one_record)
{
    /* ServerHello: TLS_RSA_WITH_AES_128_GCM_SHA256, only renegotiation_info */
    /* clang-format off */
    static const uint8_t sh_body[] = {
        0x03, 0x03, /* server_version TLS 1.2 */
        SERVER_RANDOM,
        0x00,       /* session_id length 0 */
        0x00, 0x9c, /* cipher_suite TLS_RSA_WITH_AES_128_GCM_SHA256 (156) */
        0x00,       /* compression_method null */
        0x00, 0x05, /* extensions length 5 */
        0xff, 0x01, /* extension type renegotiation_info */
        0x00, 0x01, /*   extension_data length 1 */
        0x00,       /*   renegotiated_connection length 0 */
    };
    /* clang-format on */
    struct wire c1 = {.n = 0}, m = {.n = 0}, s1 = {.n = 0}, c2 = {.n = 0}, s2 = {.n = 0};
    w_hs_record(&c1, 0x0301, HS_CLIENT_HELLO, ch12_body, sizeof ch12_body);
    w_handshake(&m, HS_SERVER_HELLO, sh_body, sizeof sh_body);
    w_handshake(&m, HS_CERTIFICATE, cert2_body, sizeof cert2_body);
    w_handshake(&m, HS_SERVER_HELLO_DONE, NULL, 0);
    w_record(&s1, TLS_CT_HANDSHAKE, 0x0303, m.p, m.n);
    w_hs_record(&c2, 0x0303, HS_CLIENT_KEY_EXCHANGE, cke_rsa_body, sizeof cke_rsa_body);
    w_ccs_finished(&c2, 0x0303);
    w_ccs_finished(&s2, 0x0303);
    struct chunk s[] = {CLIW(c1), SRVW(s1), CLIW(c2), SRVW(s2)};
    ASSERT_TLS_LOG(
        s, CH12_LOG
        "SERVER_HELLO version=0303 cipher=009c comp=0 sslv2=0 hrr=0 ja3s=771,156,65281\n" CERT0_LOG
            CERT1_LOG "DONE complete=1\n");
    /* the chain is complete after its last certificate, before the handshake goes on */
    ASSERT_TLS_MOMENTS(
        s, CH12_LOG
        "SERVER_HELLO version=0303 cipher=009c comp=0 sslv2=0 hrr=0 ja3s=771,156,65281\n" CERT0_LOG
            CERT1_LOG "CERTS_END\nDONE complete=1\n");
}

/* ---- 4. TLS 1.3 ---------------------------------------------------------- */

TEST(tls13_handshake_completes_without_certificates)
{
    struct wire c1 = {.n = 0}, s1 = {.n = 0}, c2 = {.n = 0}, s2 = {.n = 0};
    w_hs_record(&c1, 0x0301, HS_CLIENT_HELLO, ch13_body, sizeof ch13_body);
    w_hs_record(&s1, 0x0303, HS_SERVER_HELLO, sh13_body, sizeof sh13_body);
    /* RFC 8446 §D.4: a dummy CCS; then EncryptedExtensions .. Finished as application_data */
    w_record(&s1, TLS_CT_CCS, 0x0303, ccs_body, sizeof ccs_body);
    w_record(&s1, TLS_CT_APPDATA, 0x0303, ciphertext16, sizeof ciphertext16);
    w_record(&s1, TLS_CT_APPDATA, 0x0303, ciphertext16, sizeof ciphertext16);
    w_record(&c2, TLS_CT_CCS, 0x0303, ccs_body, sizeof ccs_body);
    w_record(&c2, TLS_CT_APPDATA, 0x0303, ciphertext16, sizeof ciphertext16); /* Finished */
    w_record(&s2, TLS_CT_APPDATA, 0x0303, ciphertext16, sizeof ciphertext16); /* data */
    struct chunk s[] = {CLIW(c1), SRVW(s1), CLIW(c2), SRVW(s2)};
    ASSERT_TLS_LOG(s, CH13_LOG SH13_LOG "DONE complete=1\n");
}

TEST(tls13_server_data_alone_does_not_complete)
{
    struct wire c1 = {.n = 0}, s1 = {.n = 0};
    w_hs_record(&c1, 0x0301, HS_CLIENT_HELLO, ch13_body, sizeof ch13_body);
    w_hs_record(&s1, 0x0303, HS_SERVER_HELLO, sh13_body, sizeof sh13_body);
    w_record(&s1, TLS_CT_APPDATA, 0x0303, ciphertext16, sizeof ciphertext16);
    struct chunk s[] = {CLIW(c1), SRVW(s1)};
    ASSERT_TLS_LOG(s, CH13_LOG SH13_LOG "DONE complete=0\n");
}

/* ---- 5. HelloRetryRequest ------------------------------------------------ */

TEST(tls13_hello_retry_request_then_second_client_hello)
{
    struct wire c1 = {.n = 0}, s1 = {.n = 0}, c2 = {.n = 0}, s2 = {.n = 0}, c3 = {.n = 0};
    w_hs_record(&c1, 0x0301, HS_CLIENT_HELLO, ch13_body, sizeof ch13_body);
    w_hs_record(&s1, 0x0303, HS_SERVER_HELLO, hrr_body, sizeof hrr_body);
    w_hs_record(&c2, 0x0303, HS_CLIENT_HELLO, ch13_retry_body, sizeof ch13_retry_body);
    w_hs_record(&s2, 0x0303, HS_SERVER_HELLO, sh13_after_hrr_body, sizeof sh13_after_hrr_body);
    w_record(&s2, TLS_CT_APPDATA, 0x0303, ciphertext16, sizeof ciphertext16);
    w_record(&c3, TLS_CT_APPDATA, 0x0303, ciphertext16, sizeof ciphertext16);
    struct chunk s[] = {CLIW(c1), SRVW(s1), CLIW(c2), SRVW(s2), CLIW(c3)};
    ASSERT_TLS_LOG(s, CH13_LOG HRR_LOG CH13_LOG SH13_LOG "DONE complete=1\n");
}

/* RFC 8446 §D.4: in middlebox compatibility mode the server sends its dummy
 * CCS right after the HelloRetryRequest, and the client may send its own
 * before the second ClientHello. Both hellos that follow are in clear. */
TEST(tls13_hello_retry_request_with_middlebox_compat_ccs)
{
    struct wire c1 = {.n = 0}, s1 = {.n = 0}, c2 = {.n = 0}, s2 = {.n = 0}, c3 = {.n = 0};
    w_hs_record(&c1, 0x0301, HS_CLIENT_HELLO, ch13_body, sizeof ch13_body);
    w_hs_record(&s1, 0x0303, HS_SERVER_HELLO, hrr_body, sizeof hrr_body);
    w_record(&s1, TLS_CT_CCS, 0x0303, ccs_body, sizeof ccs_body);
    w_record(&c2, TLS_CT_CCS, 0x0303, ccs_body, sizeof ccs_body);
    w_hs_record(&c2, 0x0303, HS_CLIENT_HELLO, ch13_retry_body, sizeof ch13_retry_body);
    w_hs_record(&s2, 0x0303, HS_SERVER_HELLO, sh13_after_hrr_body, sizeof sh13_after_hrr_body);
    w_record(&s2, TLS_CT_APPDATA, 0x0303, ciphertext16, sizeof ciphertext16);
    w_record(&c3, TLS_CT_APPDATA, 0x0303, ciphertext16, sizeof ciphertext16);
    struct chunk s[] = {CLIW(c1), SRVW(s1), CLIW(c2), SRVW(s2), CLIW(c3)};
    ASSERT_TLS_LOG(s, CH13_LOG HRR_LOG CH13_LOG SH13_LOG "DONE complete=1\n");
}

/* The same with only the server's dummy CCS (what a server in compatibility
 * mode always sends after a HelloRetryRequest). */
TEST(tls13_hello_retry_request_then_server_ccs)
{
    struct wire c1 = {.n = 0}, s1 = {.n = 0}, c2 = {.n = 0}, s2 = {.n = 0}, c3 = {.n = 0};
    w_hs_record(&c1, 0x0301, HS_CLIENT_HELLO, ch13_body, sizeof ch13_body);
    w_hs_record(&s1, 0x0303, HS_SERVER_HELLO, hrr_body, sizeof hrr_body);
    w_record(&s1, TLS_CT_CCS, 0x0303, ccs_body, sizeof ccs_body);
    w_hs_record(&c2, 0x0303, HS_CLIENT_HELLO, ch13_retry_body, sizeof ch13_retry_body);
    w_hs_record(&s2, 0x0303, HS_SERVER_HELLO, sh13_after_hrr_body, sizeof sh13_after_hrr_body);
    w_record(&s2, TLS_CT_APPDATA, 0x0303, ciphertext16, sizeof ciphertext16);
    w_record(&c3, TLS_CT_APPDATA, 0x0303, ciphertext16, sizeof ciphertext16);
    struct chunk s[] = {CLIW(c1), SRVW(s1), CLIW(c2), SRVW(s2), CLIW(c3)};
    ASSERT_TLS_LOG(s, CH13_LOG HRR_LOG CH13_LOG SH13_LOG "DONE complete=1\n");
}

/* RFC 8446 §D.4: a client offering early data sends its CCS right after the
 * first ClientHello, then 0-RTT data, before any ServerHello. */
TEST(tls13_client_ccs_and_early_data_before_the_server_hello)
{
    struct wire c1 = {.n = 0}, s1 = {.n = 0}, c2 = {.n = 0};
    w_hs_record(&c1, 0x0301, HS_CLIENT_HELLO, ch13_body, sizeof ch13_body);
    w_record(&c1, TLS_CT_CCS, 0x0303, ccs_body, sizeof ccs_body);
    w_record(&c1, TLS_CT_APPDATA, 0x0303, ciphertext16, sizeof ciphertext16); /* early data */
    w_hs_record(&s1, 0x0303, HS_SERVER_HELLO, sh13_body, sizeof sh13_body);
    w_record(&s1, TLS_CT_CCS, 0x0303, ccs_body, sizeof ccs_body);
    w_record(&s1, TLS_CT_APPDATA, 0x0303, ciphertext16, sizeof ciphertext16);
    w_record(&c2, TLS_CT_APPDATA, 0x0303, ciphertext16, sizeof ciphertext16); /* Finished */
    struct chunk s[] = {CLIW(c1), SRVW(s1), CLIW(c2)};
    ASSERT_TLS_LOG(s, CH13_LOG SH13_LOG "DONE complete=1\n");
}

/* ---- 6. TLS 1.3 drafts --------------------------------------------------- */

TEST(tls13_draft28_offered_and_chosen)
{
    /* clang-format off */
    static const uint8_t ch_body[] = {
        0x03, 0x03, /* legacy_version TLS 1.2 */
        CLIENT_RANDOM,
        0x00,       /* legacy_session_id length 0 */
        0x00, 0x02, /* cipher_suites length 2 */
        0x13, 0x01, /*   TLS_AES_128_GCM_SHA256 */
        0x01,       /* legacy_compression_methods length 1 */
        0x00,       /*   null */
        0x00, 0x1f, /* extensions length 31 */
        0x00, 0x2b, /* extension type supported_versions (43) */
        0x00, 0x05, /*   extension_data length 5 */
        0x04,       /*   versions length 4 */
        0x7f, 0x1c, /*   TLS 1.3 draft 28 */
        0x03, 0x03, /*   TLS 1.2 */
        0x00, 0x0a, /* extension type supported_groups (10) */
        0x00, 0x04, /*   extension_data length 4 */
        0x00, 0x02, /*   named_group_list length 2 */
        0x00, 0x1d, /*   x25519 */
        0x00, 0x33, /* extension type key_share (51) */
        0x00, 0x0a, /*   extension_data length 10 */
        0x00, 0x08, /*   client_shares length 8 */
        0x00, 0x1d, /*   group x25519 */
        0x00, 0x04, /*   key_exchange length 4 */
        0xa1, 0xb2, 0xc3, 0xd4, /* key_exchange (fake) */
    };
    /* clang-format on */
    /* clang-format off */
    static const uint8_t sh_body[] = {
        0x03, 0x03, /* legacy_version TLS 1.2 */
        SERVER_RANDOM,
        0x00,       /* legacy_session_id_echo length 0 */
        0x13, 0x01, /* cipher_suite TLS_AES_128_GCM_SHA256 */
        0x00,       /* legacy_compression_method null */
        0x00, 0x12, /* extensions length 18 */
        0x00, 0x2b, /* extension type supported_versions (43) */
        0x00, 0x02, /*   extension_data length 2 */
        0x7f, 0x1c, /*   selected_version TLS 1.3 draft 28 */
        0x00, 0x33, /* extension type key_share (51) */
        0x00, 0x08, /*   extension_data length 8 */
        0x00, 0x1d, /*   group x25519 */
        0x00, 0x04, /*   key_exchange length 4 */
        0x3c, 0x4d, 0x5e, 0x6f, /* key_exchange (fake) */
    };
    /* clang-format on */
    struct wire c1 = {.n = 0}, s1 = {.n = 0}, c2 = {.n = 0};
    w_hs_record(&c1, 0x0301, HS_CLIENT_HELLO, ch_body, sizeof ch_body);
    w_hs_record(&s1, 0x0303, HS_SERVER_HELLO, sh_body, sizeof sh_body);
    w_record(&s1, TLS_CT_APPDATA, 0x0303, ciphertext16, sizeof ciphertext16);
    w_record(&c2, TLS_CT_APPDATA, 0x0303, ciphertext16, sizeof ciphertext16);
    struct chunk s[] = {CLIW(c1), SRVW(s1), CLIW(c2)};
    ASSERT_TLS_LOG(
        s, "CLIENT_HELLO legacy=0303 max=7f1c sslv2=0 heartbeat=0 reneg=0 etm=0 ems=0 "
           "ciphers=1301 comp=00 groups=001d sigalgs= sni= alpn= ja3=771,4865,43-10-51,29,\n"
           "SERVER_HELLO version=7f1c cipher=1301 comp=0 sslv2=0 hrr=0 ja3s=771,4865,43-51\n"
           "DONE complete=1\n");
}

TEST(tls13_drafts_rank_between_tls12_and_tls13)
{
    /* clang-format off */
    static const uint8_t ch_body[] = {
        0x03, 0x03, /* legacy_version TLS 1.2 */
        CLIENT_RANDOM,
        0x00,       /* legacy_session_id length 0 */
        0x00, 0x02, /* cipher_suites length 2 */
        0x13, 0x01, /*   TLS_AES_128_GCM_SHA256 */
        0x01,       /* legacy_compression_methods length 1 */
        0x00,       /*   null */
        0x00, 0x0d, /* extensions length 13 */
        0x00, 0x2b, /* extension type supported_versions (43) */
        0x00, 0x09, /*   extension_data length 9 */
        0x08,       /*   versions length 8 */
        0x7f, 0x1c, /*   TLS 1.3 draft 28 */
        0x03, 0x04, /*   TLS 1.3 */
        0x7f, 0x17, /*   TLS 1.3 draft 23 */
        0x03, 0x02, /*   TLS 1.1 */
    };
    /* clang-format on */
    struct wire c1 = {.n = 0};
    w_hs_record(&c1, 0x0301, HS_CLIENT_HELLO, ch_body, sizeof ch_body);
    struct chunk s[] = {CLIW(c1)};
    ASSERT_TLS_LOG(s, "CLIENT_HELLO legacy=0303 max=0304 sslv2=0 heartbeat=0 reneg=0 etm=0 ems=0 "
                      "ciphers=1301 comp=00 groups= sigalgs= sni= alpn= ja3=771,4865,43,,\n"
                      "DONE complete=0\n");
}

/* ---- 7. SSLv3 ------------------------------------------------------------ */

TEST(sslv3_hellos_without_extensions)
{
    /* clang-format off */
    static const uint8_t ch_body[] = {
        0x03, 0x00, /* client_version SSL 3.0 */
        CLIENT_RANDOM,
        0x00,       /* session_id length 0 */
        0x00, 0x06, /* cipher_suites length 6 */
        0x00, 0x0a, /*   SSL_RSA_WITH_3DES_EDE_CBC_SHA (10) */
        0x00, 0x05, /*   SSL_RSA_WITH_RC4_128_SHA (5) */
        0x00, 0x04, /*   SSL_RSA_WITH_RC4_128_MD5 (4) */
        0x01,       /* compression_methods length 1 */
        0x00,       /*   null */
        /* no extensions (RFC 6101 has none) */
    };
    /* clang-format on */
    /* clang-format off */
    static const uint8_t sh_body[] = {
        0x03, 0x00, /* server_version SSL 3.0 */
        SERVER_RANDOM,
        0x00,       /* session_id length 0 */
        0x00, 0x0a, /* cipher_suite TLS_RSA_WITH_3DES_EDE_CBC_SHA */
        0x00,       /* compression_method null */
    };
    /* clang-format on */
    /* SSLv3 ClientKeyExchange: the encrypted secret without a length prefix (RFC 6101 §5.6.7) */
    /* clang-format off */
    static const uint8_t cke_body[] = {
        0x3a, 0x9c, 0x51, 0xe7, 0x08, 0xbd, 0x26, 0xf4, /* EncryptedPreMasterSecret (fake) */
    };
    /* clang-format on */
    struct wire c1 = {.n = 0}, s1 = {.n = 0}, c2 = {.n = 0}, s2 = {.n = 0};
    w_hs_record(&c1, 0x0300, HS_CLIENT_HELLO, ch_body, sizeof ch_body);
    w_hs_record(&s1, 0x0300, HS_SERVER_HELLO, sh_body, sizeof sh_body);
    w_hs_record(&s1, 0x0300, HS_CERTIFICATE, cert1_body, sizeof cert1_body);
    w_hs_record(&s1, 0x0300, HS_SERVER_HELLO_DONE, NULL, 0);
    w_hs_record(&c2, 0x0300, HS_CLIENT_KEY_EXCHANGE, cke_body, sizeof cke_body);
    w_ccs_finished(&c2, 0x0300);
    w_ccs_finished(&s2, 0x0300);
    struct chunk s[] = {CLIW(c1), SRVW(s1), CLIW(c2), SRVW(s2)};
    ASSERT_TLS_LOG(
        s, "CLIENT_HELLO legacy=0300 max=0300 sslv2=0 heartbeat=0 reneg=0 etm=0 ems=0 "
           "ciphers=000a,0005,0004 comp=00 groups= sigalgs= sni= alpn= ja3=768,10-5-4,,,\n"
           "SERVER_HELLO version=0300 cipher=000a comp=0 sslv2=0 hrr=0 ja3s=768,10,\n" CERT0_LOG
           "DONE complete=1\n");
}

/* ---- 8. SSLv2 ------------------------------------------------------------ */

TEST(sslv2_client_and_server_hello)
{
    /* CLIENT-MASTER-KEY (draft-hickman §B), after which the rest is encrypted */
    /* clang-format off */
    static const uint8_t v2_master_key[] = {
        0x02,             /* msg_type CLIENT-MASTER-KEY */
        0x07, 0x00, 0xc0, /* cipher_kind */
        0x00, 0x00,       /* clear_key length 0 */
        0x00, 0x08,       /* encrypted_key length 8 */
        0x00, 0x00,       /* key_arg length 0 */
        0x6e, 0x13, 0xd8, 0x42, 0xa9, 0x05, 0xfc, 0x37, /* encrypted_key (fake) */
    };
    /* clang-format on */
    struct wire c1 = {.n = 0}, s1 = {.n = 0}, c2 = {.n = 0};
    w_v2_record(&c1, v2_client_hello, sizeof v2_client_hello);
    w_v2_record(&s1, v2_server_hello, sizeof v2_server_hello);
    w_v2_record(&c2, v2_master_key, sizeof v2_master_key);
    struct chunk s[] = {CLIW(c1), SRVW(s1), CLIW(c2)};
    ASSERT_TLS_LOG(
        s, "CLIENT_HELLO legacy=0002 max=0002 sslv2=1 heartbeat=0 reneg=0 etm=0 ems=0 "
           "ciphers=ff07,ff01 comp= groups= sigalgs= sni= alpn= ja3=2,,,,\n"
           "SERVER_HELLO version=0002 cipher=0700c0 comp=0 sslv2=1 hrr=0 ja3s=2,458944,\n" CERT0_LOG
           "DONE complete=0\n");
}

TEST(sslv2_format_hello_offering_tls10_then_tls_records)
{
    /* clang-format off */
    static const uint8_t sh_body[] = {
        0x03, 0x01, /* server_version TLS 1.0 */
        SERVER_RANDOM,
        0x00,       /* session_id length 0 */
        0x00, 0x2f, /* cipher_suite TLS_RSA_WITH_AES_128_CBC_SHA */
        0x00,       /* compression_method null */
    };
    /* clang-format on */
    struct wire c1 = {.n = 0}, s1 = {.n = 0}, c2 = {.n = 0}, s2 = {.n = 0};
    w_v2_record(&c1, v2_hello_tls10, sizeof v2_hello_tls10);
    w_hs_record(&s1, 0x0301, HS_SERVER_HELLO, sh_body, sizeof sh_body);
    w_hs_record(&s1, 0x0301, HS_CERTIFICATE, cert1_body, sizeof cert1_body);
    w_hs_record(&s1, 0x0301, HS_SERVER_HELLO_DONE, NULL, 0);
    /* the client goes on in TLS records (5-byte headers) */
    w_hs_record(&c2, 0x0301, HS_CLIENT_KEY_EXCHANGE, cke_rsa_body, sizeof cke_rsa_body);
    w_ccs_finished(&c2, 0x0301);
    w_ccs_finished(&s2, 0x0301);
    struct chunk s[] = {CLIW(c1), SRVW(s1), CLIW(c2), SRVW(s2)};
    ASSERT_TLS_LOG(
        s, "CLIENT_HELLO legacy=0301 max=0301 sslv2=1 heartbeat=0 reneg=0 etm=0 ems=0 "
           "ciphers=ff01,002f,0005 comp= groups= sigalgs= sni= alpn= ja3=769,47-5,,,\n"
           "SERVER_HELLO version=0301 cipher=002f comp=0 sslv2=0 hrr=0 ja3s=769,47,\n" CERT0_LOG
           "DONE complete=1\n");
}

/* RFC 5746 §3.3 signals secure renegotiation with the SCSV {0x00,0xFF}; in an
 * SSLv2-format hello it is the cipher spec {0x00,0x00,0xFF} (RFC 5246 §E.2). */
TEST(sslv2_format_hello_with_renegotiation_scsv)
{
    /* clang-format off */
    static const uint8_t hello[] = {
        0x01,             /* msg_type CLIENT-HELLO */
        0x03, 0x01,       /* version TLS 1.0 */
        0x00, 0x06,       /* cipher_specs length 6 */
        0x00, 0x00,       /* session_id length 0 */
        0x00, 0x10,       /* challenge length 16 */
        0x00, 0x00, 0x2f, /* TLS_RSA_WITH_AES_128_CBC_SHA */
        0x00, 0x00, 0xff, /* TLS_EMPTY_RENEGOTIATION_INFO_SCSV */
        0x2f, 0x8a, 0x11, 0xd6, 0x53, 0xe0, 0x7c, 0x94, /* challenge[0..7] */
        0x0b, 0xb5, 0x68, 0x3d, 0xf2, 0x41, 0x9e, 0x27, /* challenge[8..15] */
    };
    /* clang-format on */
    struct wire c1 = {.n = 0};
    w_v2_record(&c1, hello, sizeof hello);
    struct chunk s[] = {CLIW(c1)};
    ASSERT_TLS_LOG(s, "CLIENT_HELLO legacy=0301 max=0301 sslv2=1 heartbeat=0 reneg=1 etm=0 ems=0 "
                      "ciphers=002f,00ff comp= groups= sigalgs= sni= alpn= ja3=769,47-255,,,\n"
                      "DONE complete=0\n");
}

/* event.h: tls-not-tls means "the direction is given up". */
TEST(sslv2_record_of_unknown_message_gives_up_the_direction)
{
    /* clang-format off */
    static const uint8_t v2_finished[] = {
        0x03,                   /* msg_type CLIENT-FINISHED: not a hello */
        0x11, 0x22, 0x33, 0x44, /* connection_id (fake) */
    };
    /* clang-format on */
    struct wire c1 = {.n = 0};
    w_v2_record(&c1, v2_finished, sizeof v2_finished);
    w_hs_record(&c1, 0x0301, HS_CLIENT_HELLO, ch12_body, sizeof ch12_body);
    struct chunk s[] = {CLIW(c1)};
    ASSERT_TLS_LOG(s, "ANOMALY tls-not-tls from=client\nDONE complete=0\n");
}

/* ---- 9. alerts ----------------------------------------------------------- */

TEST(alert_fatal_handshake_failure_in_clear)
{
    /* clang-format off */
    static const uint8_t alert[] = {
        0x02, /* AlertLevel fatal */
        0x28, /* AlertDescription handshake_failure (40) */
    };
    /* clang-format on */
    struct wire c1 = {.n = 0}, s1 = {.n = 0};
    w_hs_record(&c1, 0x0301, HS_CLIENT_HELLO, ch12_body, sizeof ch12_body);
    w_record(&s1, TLS_CT_ALERT, 0x0303, alert, sizeof alert);
    struct chunk s[] = {CLIW(c1), SRVW(s1)};
    ASSERT_TLS_LOG(s, CH12_LOG "ALERT level=2 desc=40 encrypted=0 from=server\nDONE complete=0\n");
}

TEST(alert_split_across_two_records_and_two_alerts_in_one)
{
    /* clang-format off */
    static const uint8_t level[] = {
        0x02, /* AlertLevel fatal */
    };
    /* clang-format on */
    /* clang-format off */
    static const uint8_t desc[] = {
        0x46, /* AlertDescription protocol_version (70) */
    };
    /* clang-format on */
    /* clang-format off */
    static const uint8_t two[] = {
        0x01, /* AlertLevel warning */
        0x5a, /* AlertDescription user_canceled (90) */
        0x01, /* AlertLevel warning */
        0x00, /* AlertDescription close_notify (0) */
    };
    /* clang-format on */
    struct wire c1 = {.n = 0}, s1 = {.n = 0}, c2 = {.n = 0};
    w_hs_record(&c1, 0x0301, HS_CLIENT_HELLO, ch12_body, sizeof ch12_body);
    w_record(&s1, TLS_CT_ALERT, 0x0303, level, sizeof level);
    w_record(&s1, TLS_CT_ALERT, 0x0303, desc, sizeof desc);
    w_record(&c2, TLS_CT_ALERT, 0x0301, two, sizeof two);
    struct chunk s[] = {CLIW(c1), SRVW(s1), CLIW(c2)};
    ASSERT_TLS_LOG(s, CH12_LOG "ALERT level=2 desc=70 encrypted=0 from=server\n"
                               "ALERT level=1 desc=90 encrypted=0 from=client\n"
                               "ALERT level=1 desc=0 encrypted=0 from=client\n"
                               "DONE complete=0\n");
}

TEST(alert_after_ccs_is_encrypted)
{
    struct tls12_conv v;
    tls12_conv_build(&v);
    struct wire c3 = {.n = 0};
    w_record(&c3, TLS_CT_ALERT, 0x0303, ciphertext16, sizeof ciphertext16); /* close_notify */
    /* after the client's CCS and before the server's: an alert after the handshake's end is
     * not read (tls12_bytes_after_the_handshake_end_in_its_segment_are_not_read) */
    struct chunk s[] = {CLIW(v.c1), SRVW(v.s1), CLIW(v.c2), CLIW(c3), SRVW(v.s2)};
    ASSERT_TLS_LOG(s, CH12_LOG SH12_LOG CERT0_LOG CERT1_LOG KEX23_LOG
                   "ALERT level=0 desc=0 encrypted=1 from=client\n"
                   "DONE complete=1\n");
}

/* ---- memory -------------------------------------------------------------- */

static void no_event(void *ctx, const struct event *ev)
{
    (void)ctx;
    (void)ev;
}

/* [TLS-HS-MEM] A state holds handshake buffers only as bytes come: a ClientHello alone
 * takes one small buffer on the client's side, none on the server's; the server's
 * certificate chain grows its own, never past TLS_HS_MAX; release() frees both. */
TEST(handshake_buffers_grow_as_bytes_come_and_are_released)
{
    struct emitter em = {no_event, NULL};
    struct tls *t = calloc(1, tls_dissector.state_size);
    ASSERT(t != NULL);
    tls_dissector.init(t);
    ASSERT(t->dir[0].hs == NULL && t->dir[1].hs == NULL);
    struct wire c1 = {.n = 0}, s1 = {.n = 0};
    w_hs_record(&c1, 0x0301, HS_CLIENT_HELLO, ch12_body, sizeof ch12_body);
    /* fed in two pieces, so the message waits in the buffer between them */
    size_t half = c1.n / 2;
    ASSERT_EQ(tls_dissector.feed(t, DIR_TO_SERVER, c1.p, half, &em), half);
    ASSERT_EQ(tls_dissector.feed(t, DIR_TO_SERVER, c1.p + half, c1.n - half, &em), c1.n - half);
    ASSERT(t->seen_client_hello);
    ASSERT(t->dir[0].hs_cap > 0 && t->dir[0].hs_cap <= 1024);
    ASSERT(t->dir[1].hs == NULL && t->dir[1].hs_cap == 0);
    w_hs_record(&s1, 0x0303, HS_SERVER_HELLO, sh12_body, sizeof sh12_body);
    w_hs_record(&s1, 0x0303, HS_CERTIFICATE, cert2_body, sizeof cert2_body);
    for (size_t i = 0; i < s1.n; i++) /* byte by byte: every message waits whole */
        ASSERT_EQ(tls_dissector.feed(t, DIR_TO_CLIENT, s1.p + i, 1, &em), 1);
    ASSERT(t->seen_server_hello);
    ASSERT(t->dir[1].hs_cap >= sizeof cert2_body && t->dir[1].hs_cap <= TLS_HS_MAX);
    tls_dissector.release(t);
    ASSERT(t->dir[0].hs == NULL && t->dir[1].hs == NULL && t->dir[0].hs_cap == 0);
    free(t);
}

/*
 * test-tls-hostile.c — tls.c and tls-hs.c against hostile input: lying
 * lengths, oversized records and messages, truncation at every length,
 * random and mutated bytes, stream gaps, and ServerKeyExchange variants.
 * The conversations and the driver are in tls-vectors.h (see test-tls.c
 * for the log format): every case is fed whole, one byte per feed and in
 * random splits, each piece in a buffer of exactly its size.
 */
#include "test.h"
#include "tls-vectors.h"

/* ---- 10. hostile input --------------------------------------------------- */

TEST(record_longer_than_2_14_plus_2048_is_an_anomaly)
{
    /* clang-format off */
    static const uint8_t bad[] = {
        0x16,       /* ContentType handshake */
        0x03, 0x01, /* legacy_record_version TLS 1.0 */
        0x48, 0x01, /* length 18433 = 2^14 + 2048 + 1 (RFC 5246 §6.2.3) */
        0x01, 0x00, 0x00, 0x10, /* a handshake header that must not be read */
    };
    /* clang-format on */
    struct wire c1 = {.n = 0};
    w_bytes(&c1, bad, sizeof bad);
    w_hs_record(&c1, 0x0301, HS_CLIENT_HELLO, ch12_body, sizeof ch12_body); /* given up: unread */
    struct chunk s[] = {CLIW(c1)};
    ASSERT_TLS_LOG(s, "ANOMALY tls-bad-length from=client\nDONE complete=0\n");
}

TEST(record_of_exactly_2_14_plus_2048_is_accepted)
{
    /* clang-format off */
    static const uint8_t alert[] = {
        0x02, /* AlertLevel fatal */
        0x50, /* AlertDescription internal_error (80) */
    };
    /* clang-format on */
    struct wire s1 = {.n = 0};
    w_hs_record(&s1, 0x0303, HS_SERVER_HELLO, sh12_body, sizeof sh12_body);
    /* clang-format off */
    const uint8_t hdr[] = {
        0x17,       /* ContentType application_data (in clear: ignored) */
        0x03, 0x03, /* legacy_record_version TLS 1.2 */
        0x48, 0x00, /* length 18432 = 2^14 + 2048: the limit, allowed */
    };
    /* clang-format on */
    w_bytes(&s1, hdr, sizeof hdr);
    w_fill(&s1, 0xa5, TLS_REC_MAX);
    w_record(&s1, TLS_CT_ALERT, 0x0303, alert, sizeof alert); /* still framed */
    struct chunk s[] = {SRVW(s1)};
    ASSERT_TLS_LOG(s, SH12_LOG "ALERT level=2 desc=80 encrypted=0 from=server\nDONE complete=0\n");
}

TEST(record_content_type_99_is_not_tls)
{
    /* clang-format off */
    static const uint8_t bad[] = {
        0x63,       /* ContentType 99: not assigned */
        0x03, 0x03, /* legacy_record_version TLS 1.2 */
        0x00, 0x02, /* length 2 */
        0x02, 0x28, /* payload */
    };
    /* clang-format on */
    struct wire c1 = {.n = 0};
    w_bytes(&c1, bad, sizeof bad);
    w_hs_record(&c1, 0x0301, HS_CLIENT_HELLO, ch12_body, sizeof ch12_body); /* given up: unread */
    struct chunk s[] = {CLIW(c1)};
    ASSERT_TLS_LOG(s, "ANOMALY tls-not-tls from=client\nDONE complete=0\n");
}

TEST(record_major_version_2_in_a_5_byte_header_is_not_tls)
{
    /* clang-format off */
    static const uint8_t bad[] = {
        0x16,       /* ContentType handshake */
        0x02, 0x00, /* version 2.0 in a TLS header */
        0x00, 0x05, /* length 5 */
        0x01, 0x00, 0x00, 0x01, 0x00, /* payload */
    };
    /* clang-format on */
    struct wire c1 = {.n = 0};
    w_bytes(&c1, bad, sizeof bad);
    struct chunk s[] = {CLIW(c1)};
    ASSERT_TLS_LOG(s, "ANOMALY tls-not-tls from=client\nDONE complete=0\n");
}

/* A Certificate one byte too big for TLS_HS_MAX, over three records, then
 * ServerKeyExchange in a later record: skipped, counted, and the next parsed. */
TEST(handshake_message_over_the_limit_is_skipped_and_the_next_parsed)
{
    uint32_t len = TLS_HS_MAX - 4 + 1; /* 4 + len > TLS_HS_MAX */
    /* clang-format off */
    const uint8_t hdr[] = {
        HS_CERTIFICATE,       /* HandshakeType certificate */
        (uint8_t)(len >> 16), /* length, 24 bits */
        (uint8_t)(len >> 8),  /*   */
        (uint8_t)len,         /*   (low byte) */
        (uint8_t)((len - 3) >> 16), /* certificate_list length len - 3 */
        (uint8_t)((len - 3) >> 8),  /*   */
        (uint8_t)(len - 3),         /*   (low byte) */
        (uint8_t)((len - 6) >> 16), /* certificate[0] length len - 6 */
        (uint8_t)((len - 6) >> 8),  /*   */
        (uint8_t)(len - 6),         /*   (low byte) */
    };
    /* clang-format on */
    struct wire m = {.n = 0}, s1 = {.n = 0};
    w_bytes(&m, hdr, sizeof hdr);
    w_fill(&m, 0x5a, len - 6); /* the certificate's bytes, never read */
    w_hs_record(&s1, 0x0303, HS_SERVER_HELLO, sh12_body, sizeof sh12_body);
    w_record(&s1, TLS_CT_HANDSHAKE, 0x0303, m.p, 16384);
    w_record(&s1, TLS_CT_HANDSHAKE, 0x0303, m.p + 16384, 16384);
    w_record(&s1, TLS_CT_HANDSHAKE, 0x0303, m.p + 32768, m.n - 32768);
    w_hs_record(&s1, 0x0303, HS_SERVER_KEY_EXCHANGE, ske_ecdhe_body, sizeof ske_ecdhe_body);
    w_hs_record(&s1, 0x0303, HS_SERVER_HELLO_DONE, NULL, 0);
    struct chunk s[] = {SRVW(s1)};
    ASSERT_TLS_LOG(s, SH12_LOG "ANOMALY tls-handshake-too-big from=server\n" KEX23_LOG
                               "DONE complete=0\n");
}

/* Handshake length 0xFFFFFF: 16 MB that must all be skipped, then the
 * ServerKeyExchange that shares the last record with its tail. Too long to
 * feed a byte at a time: fed whole and in pieces of several sizes. */
TEST(handshake_length_ffffff_is_skipped_and_the_next_parsed)
{
    size_t msg_len = 4 + 0xffffff, ske_len = 4 + sizeof ske_ecdhe_body;
    size_t total = msg_len + ske_len;
    uint8_t *m = malloc(total);
    size_t n_rec = (total + 16383) / 16384;
    size_t wire_len = 5 + 4 + sizeof sh12_body + total + 5 * n_rec;
    uint8_t *w = malloc(wire_len);
    if (m == NULL || w == NULL)
        TEST_FAIL("out of memory");
    /* clang-format off */
    const uint8_t hdr[] = {
        HS_CERTIFICATE,   /* HandshakeType certificate */
        0xff, 0xff, 0xff, /* length 16777215: over TLS_HS_MAX */
        0xff, 0xff, 0xfc, /* certificate_list length 16777212 */
        0xff, 0xff, 0xf9, /* certificate[0] length 16777209 */
    };
    /* clang-format on */
    memcpy(m, hdr, sizeof hdr);
    memset(m + sizeof hdr, 0x5a, msg_len - sizeof hdr); /* the certificate, never read */
    m[msg_len] = HS_SERVER_KEY_EXCHANGE;                /* HandshakeType server_key_exchange */
    m[msg_len + 1] = 0x00;                              /* length, 24 bits */
    m[msg_len + 2] = 0x00;
    m[msg_len + 3] = (uint8_t)sizeof ske_ecdhe_body;
    memcpy(m + msg_len + 4, ske_ecdhe_body, sizeof ske_ecdhe_body);
    /* ServerHello record, then the stream cut in records of 16384 bytes */
    struct wire sh = {.n = 0};
    w_hs_record(&sh, 0x0303, HS_SERVER_HELLO, sh12_body, sizeof sh12_body);
    memcpy(w, sh.p, sh.n);
    size_t o = sh.n;
    for (size_t at = 0; at < total; at += 16384) {
        size_t k = total - at < 16384 ? total - at : 16384;
        w[o++] = TLS_CT_HANDSHAKE; /* ContentType handshake */
        w[o++] = 0x03;             /* legacy_record_version TLS 1.2 */
        w[o++] = 0x03;
        w[o++] = (uint8_t)(k >> 8); /* length */
        w[o++] = (uint8_t)k;
        memcpy(w + o, m + at, k);
        o += k;
    }
    ASSERT_EQ(o, wire_len);
    ASSERT_EQ(total - (n_rec - 1) * 16384, 3 + ske_len); /* the tail shares the SKE's record */
    struct chunk s[] = {{DIR_TO_CLIENT, (const char *)w, o}};
    static const size_t pieces[] = {0, 4093, 16389, 65537, 1000003};
    for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++) {
        char *got = tls_run_once(s, 1, SPLIT_WHOLE, 0, pieces[i]);
        ASSERT_STREQ(got, SH12_LOG "ANOMALY tls-handshake-too-big from=server\n" KEX23_LOG
                                   "DONE complete=0\n");
        free(got);
    }
    free(m);
    free(w);
}

TEST(client_hello_cipher_suites_length_past_the_message_still_reports_the_version)
{
    /* clang-format off */
    static const uint8_t ch_body[] = {
        0x03, 0x03, /* client_version TLS 1.2 */
        CLIENT_RANDOM,
        0x00,       /* session_id length 0 */
        0x01, 0x00, /* cipher_suites length 256: only 4 bytes follow */
        0xc0, 0x2f, /*   TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 */
        0x01,       /* compression_methods length 1 */
        0x00,       /*   null */
    };
    /* clang-format on */
    struct wire c1 = {.n = 0};
    w_hs_record(&c1, 0x0301, HS_CLIENT_HELLO, ch_body, sizeof ch_body);
    struct chunk s[] = {CLIW(c1)};
    ASSERT_TLS_LOG(s, "ANOMALY tls-bad-length from=client\n"
                      "CLIENT_HELLO legacy=0303 max=0303 sslv2=0 heartbeat=0 reneg=0 etm=0 ems=0 "
                      "ciphers= comp= groups= sigalgs= sni= alpn= ja3=771,,,,\n"
                      "DONE complete=0\n");
}

/* RFC 5246 §7.4.1.2: CipherSuite cipher_suites<2..2^16-2>, 2 bytes each. */
TEST(client_hello_odd_cipher_suites_length_is_an_anomaly)
{
    /* clang-format off */
    static const uint8_t ch_body[] = {
        0x03, 0x03, /* client_version TLS 1.2 */
        CLIENT_RANDOM,
        0x00,             /* session_id length 0 */
        0x00, 0x03,       /* cipher_suites length 3: not a whole number of suites */
        0xc0, 0x2f, 0x00, /*   TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, and a stray byte */
        0x01,             /* compression_methods length 1 */
        0x00,             /*   null */
    };
    /* clang-format on */
    struct wire c1 = {.n = 0};
    w_hs_record(&c1, 0x0301, HS_CLIENT_HELLO, ch_body, sizeof ch_body);
    struct chunk s[] = {CLIW(c1)};
    ASSERT_TLS_LOG(s, "ANOMALY tls-bad-length from=client\n"
                      "CLIENT_HELLO legacy=0303 max=0303 sslv2=0 heartbeat=0 reneg=0 etm=0 ems=0 "
                      "ciphers=c02f comp=00 groups= sigalgs= sni= alpn= ja3=771,49199,,,\n"
                      "DONE complete=0\n");
}

TEST(client_hello_extensions_length_lying_drops_the_extensions)
{
    /* clang-format off */
    static const uint8_t ch_body[] = {
        0x03, 0x03, /* client_version TLS 1.2 */
        CLIENT_RANDOM,
        0x00,       /* session_id length 0 */
        0x00, 0x02, /* cipher_suites length 2 */
        0xc0, 0x2f, /*   TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 */
        0x01,       /* compression_methods length 1 */
        0x00,       /*   null */
        0x00, 0x40, /* extensions length 64: only 4 bytes follow */
        0x00, 0x17, /* extension type extended_master_secret */
        0x00, 0x00, /*   extension_data length 0 */
    };
    /* clang-format on */
    struct wire c1 = {.n = 0};
    w_hs_record(&c1, 0x0301, HS_CLIENT_HELLO, ch_body, sizeof ch_body);
    struct chunk s[] = {CLIW(c1)};
    ASSERT_TLS_LOG(s, "ANOMALY tls-bad-length from=client\n"
                      "CLIENT_HELLO legacy=0303 max=0303 sslv2=0 heartbeat=0 reneg=0 etm=0 ems=0 "
                      "ciphers=c02f comp=00 groups= sigalgs= sni= alpn= ja3=771,49199,,,\n"
                      "DONE complete=0\n");
}

TEST(client_hello_extension_data_length_lying_keeps_the_earlier_extensions)
{
    /* clang-format off */
    static const uint8_t ch_body[] = {
        0x03, 0x03, /* client_version TLS 1.2 */
        CLIENT_RANDOM,
        0x00,       /* session_id length 0 */
        0x00, 0x02, /* cipher_suites length 2 */
        0xc0, 0x2f, /*   TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 */
        0x01,       /* compression_methods length 1 */
        0x00,       /*   null */
        0x00, 0x0a, /* extensions length 10 */
        0x00, 0x17, /* extension type extended_master_secret */
        0x00, 0x00, /*   extension_data length 0 */
        0x00, 0x00, /* extension type server_name */
        0x00, 0x20, /*   extension_data length 32: only 2 bytes follow */
        0x00, 0x13, /*   server_name_list length 19 */
    };
    /* clang-format on */
    struct wire c1 = {.n = 0};
    w_hs_record(&c1, 0x0301, HS_CLIENT_HELLO, ch_body, sizeof ch_body);
    struct chunk s[] = {CLIW(c1)};
    ASSERT_TLS_LOG(s, "ANOMALY tls-bad-length from=client\n"
                      "CLIENT_HELLO legacy=0303 max=0303 sslv2=0 heartbeat=0 reneg=0 etm=0 ems=1 "
                      "ciphers=c02f comp=00 groups= sigalgs= sni= alpn= ja3=771,49199,23,,\n"
                      "DONE complete=0\n");
}

/* tls-hs.c's header: "a length that runs past its message is an anomaly". */
TEST(client_hello_sni_list_length_lying_is_an_anomaly)
{
    /* clang-format off */
    static const uint8_t ch_body[] = {
        0x03, 0x03, /* client_version TLS 1.2 */
        CLIENT_RANDOM,
        0x00,       /* session_id length 0 */
        0x00, 0x02, /* cipher_suites length 2 */
        0xc0, 0x2f, /*   TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 */
        0x01,       /* compression_methods length 1 */
        0x00,       /*   null */
        0x00, 0x1d, /* extensions length 29 */
        0x00, 0x00, /* extension type server_name */
        0x00, 0x15, /*   extension_data length 21 */
        0x00, 0x40, /*   server_name_list length 64: only 19 bytes follow */
        0x00,       /*   name_type host_name */
        0x00, 0x10, /*   HostName length 16 */
        'm', 'a', 'i', 'l', '.', 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'c', 'o', 'm',
        0x00, 0x17, /* extension type extended_master_secret */
        0x00, 0x00, /*   extension_data length 0 */
    };
    /* clang-format on */
    struct wire c1 = {.n = 0};
    w_hs_record(&c1, 0x0301, HS_CLIENT_HELLO, ch_body, sizeof ch_body);
    struct chunk s[] = {CLIW(c1)};
    ASSERT_TLS_LOG(s, "ANOMALY tls-bad-length from=client\n"
                      "CLIENT_HELLO legacy=0303 max=0303 sslv2=0 heartbeat=0 reneg=0 etm=0 ems=1 "
                      "ciphers=c02f comp=00 groups= sigalgs= sni= alpn= ja3=771,49199,0-23,,\n"
                      "DONE complete=0\n");
}

TEST(client_hello_sni_host_name_length_lying_is_an_anomaly)
{
    /* clang-format off */
    static const uint8_t ch_body[] = {
        0x03, 0x03, /* client_version TLS 1.2 */
        CLIENT_RANDOM,
        0x00,       /* session_id length 0 */
        0x00, 0x02, /* cipher_suites length 2 */
        0xc0, 0x2f, /*   TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 */
        0x01,       /* compression_methods length 1 */
        0x00,       /*   null */
        0x00, 0x19, /* extensions length 25 */
        0x00, 0x00, /* extension type server_name */
        0x00, 0x15, /*   extension_data length 21 */
        0x00, 0x13, /*   server_name_list length 19 */
        0x00,       /*   name_type host_name */
        0x00, 0x30, /*   HostName length 48: only 16 bytes follow */
        'm', 'a', 'i', 'l', '.', 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'c', 'o', 'm',
    };
    /* clang-format on */
    struct wire c1 = {.n = 0};
    w_hs_record(&c1, 0x0301, HS_CLIENT_HELLO, ch_body, sizeof ch_body);
    struct chunk s[] = {CLIW(c1)};
    ASSERT_TLS_LOG(s, "ANOMALY tls-bad-length from=client\n"
                      "CLIENT_HELLO legacy=0303 max=0303 sslv2=0 heartbeat=0 reneg=0 etm=0 ems=0 "
                      "ciphers=c02f comp=00 groups= sigalgs= sni= alpn= ja3=771,49199,0,,\n"
                      "DONE complete=0\n");
}

/* As for the ClientHello: an anomaly, and the readable version and suite still reported. */
TEST(server_hello_extensions_length_lying_is_an_anomaly)
{
    /* clang-format off */
    static const uint8_t sh_body[] = {
        0x03, 0x03, /* server_version TLS 1.2 */
        SERVER_RANDOM,
        0x00,       /* session_id length 0 */
        0xc0, 0x2f, /* cipher_suite TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 */
        0x00,       /* compression_method null */
        0x00, 0x40, /* extensions length 64: only 5 bytes follow */
        0xff, 0x01, /* extension type renegotiation_info */
        0x00, 0x01, /*   extension_data length 1 */
        0x00,       /*   renegotiated_connection length 0 */
    };
    /* clang-format on */
    struct wire s1 = {.n = 0};
    w_hs_record(&s1, 0x0303, HS_SERVER_HELLO, sh_body, sizeof sh_body);
    struct chunk s[] = {SRVW(s1)};
    ASSERT_TLS_LOG(s, "ANOMALY tls-bad-length from=server\n"
                      "SERVER_HELLO version=0303 cipher=c02f comp=0 sslv2=0 hrr=0 ja3s=771,49199,\n"
                      "DONE complete=0\n");
}

TEST(certificate_list_length_lying_is_an_anomaly)
{
    /* clang-format off */
    static const uint8_t cert_body[] = {
        0x00, 0x00, 0x40,                  /* certificate_list length 64: only 15 bytes follow */
        0x00, 0x00, 0x0c,                  /* certificate[0] length 12 */
        0x30, 0x0a,                        /*   SEQUENCE, length 10 */
        0x02, 0x01, 0x01,                  /*     INTEGER 1 */
        0x04, 0x05, 'l', 'e', 'a', 'f', '0', /*     OCTET STRING "leaf0" */
    };
    /* clang-format on */
    struct wire s1 = {.n = 0};
    w_hs_record(&s1, 0x0303, HS_SERVER_HELLO, sh12_body, sizeof sh12_body);
    w_hs_record(&s1, 0x0303, HS_CERTIFICATE, cert_body, sizeof cert_body);
    w_hs_record(&s1, 0x0303, HS_SERVER_KEY_EXCHANGE, ske_ecdhe_body, sizeof ske_ecdhe_body);
    struct chunk s[] = {SRVW(s1)};
    ASSERT_TLS_LOG(s,
                   SH12_LOG "ANOMALY tls-bad-length from=server\n" KEX23_LOG "DONE complete=0\n");
}

TEST(certificate_length_lying_is_an_anomaly_after_the_good_ones)
{
    /* clang-format off */
    static const uint8_t cert_body[] = {
        0x00, 0x00, 0x1a,                  /* certificate_list length 26 */
        0x00, 0x00, 0x0c,                  /* certificate[0] length 12 */
        0x30, 0x0a,                        /*   SEQUENCE, length 10 */
        0x02, 0x01, 0x01,                  /*     INTEGER 1 */
        0x04, 0x05, 'l', 'e', 'a', 'f', '0', /*     OCTET STRING "leaf0" */
        0x00, 0x00, 0x20,                  /* certificate[1] length 32: only 8 bytes follow */
        0x30, 0x06,                        /*   SEQUENCE, length 6 */
        0x04, 0x04, 'r', 'o', 'o', 't',    /*     OCTET STRING "root" */
    };
    /* clang-format on */
    struct wire s1 = {.n = 0};
    w_hs_record(&s1, 0x0303, HS_SERVER_HELLO, sh12_body, sizeof sh12_body);
    w_hs_record(&s1, 0x0303, HS_CERTIFICATE, cert_body, sizeof cert_body);
    struct chunk s[] = {SRVW(s1)};
    ASSERT_TLS_LOG(s, SH12_LOG CERT0_LOG "ANOMALY tls-bad-length from=server\nDONE complete=0\n");
}

TEST(sslv2_record_length_8001_is_too_short)
{
    /* clang-format off */
    static const uint8_t bad[] = {
        0x80, 0x01, /* SSLv2 header: length 1, shorter than any message */
        0x01,       /* msg_type CLIENT-HELLO */
        0x00, 0x02, 0x00, 0x03, /* bytes after it: given up, unread */
    };
    /* clang-format on */
    struct wire c1 = {.n = 0};
    w_bytes(&c1, bad, sizeof bad);
    struct chunk s[] = {CLIW(c1)};
    ASSERT_TLS_LOG(s, "ANOMALY tls-bad-length from=client\nDONE complete=0\n");
}

/* 0xFFFF: the longest 2-byte-header record (32767 bytes) is legal framing
 * (draft-hickman §1.2); here its CLIENT-HELLO's lengths lie. */
TEST(sslv2_record_length_ffff_with_lying_hello_is_an_anomaly)
{
    /* clang-format off */
    static const uint8_t hello[] = {
        0x01,       /* msg_type CLIENT-HELLO */
        0x03, 0x01, /* version TLS 1.0 */
        0xff, 0xf0, /* cipher_specs length 65520: past the record */
        0x00, 0x00, /* session_id length 0 */
        0x00, 0x10, /* challenge length 16 */
        0x00, 0x00, 0x2f, /* TLS_RSA_WITH_AES_128_CBC_SHA */
    };
    /* clang-format on */
    struct wire c1 = {.n = 0};
    /* clang-format off */
    const uint8_t hdr[] = {
        0xff, 0xff, /* SSLv2 header: length 32767 */
    };
    /* clang-format on */
    w_bytes(&c1, hdr, sizeof hdr);
    w_bytes(&c1, hello, sizeof hello);
    w_fill(&c1, 0x00, 0x7fff - sizeof hello); /* the rest of the record */
    struct chunk s[] = {CLIW(c1)};
    ASSERT_TLS_LOG(s, "ANOMALY tls-bad-length from=client\nDONE complete=0\n");
    /* cut short: nothing to say but that the handshake never ended */
    struct chunk t[] = {{DIR_TO_SERVER, (const char *)c1.p, 1000}};
    ASSERT_TLS_LOG(t, "DONE complete=0\n");
}

TEST(client_hello_record_truncated_at_every_length)
{
    struct wire c1 = {.n = 0};
    w_hs_record(&c1, 0x0301, HS_CLIENT_HELLO, ch12_body, sizeof ch12_body);
    for (size_t k = 0; k < c1.n; k++) {
        struct chunk s[] = {{DIR_TO_SERVER, (const char *)c1.p, k}};
        ASSERT_TLS_LOG(s, "DONE complete=0\n");
    }
}

/* Random bytes, sometimes behind a valid record, handshake or SSLv2 header
 * so that they reach the message parsers. Returns the length written. */
static size_t fuzz_stream(uint8_t *p, size_t max_body, uint64_t *rng)
{
    static const uint8_t hs_types[] = {HS_CLIENT_HELLO, HS_SERVER_HELLO, HS_CERTIFICATE,
                                       HS_SERVER_KEY_EXCHANGE};
    size_t n = 1 + harness_rand(rng) % max_body, o = 0;
    switch (harness_rand(rng) % 4) {
    case 0: /* bare random bytes */
        break;
    case 1: /* a record header of a known type, then random bytes */
        p[o++] = (uint8_t)(TLS_CT_CCS + harness_rand(rng) % 5);
        p[o++] = 0x03;
        p[o++] = (uint8_t)(harness_rand(rng) % 5);
        p[o++] = (uint8_t)(n >> 8);
        p[o++] = (uint8_t)n;
        break;
    case 2: /* a handshake record holding one message of random bytes */
        p[o++] = TLS_CT_HANDSHAKE;
        p[o++] = 0x03;
        p[o++] = 0x03;
        p[o++] = (uint8_t)((n + 4) >> 8);
        p[o++] = (uint8_t)(n + 4);
        p[o++] = hs_types[harness_rand(rng) % sizeof hs_types];
        p[o++] = 0x00;
        p[o++] = (uint8_t)(n >> 8);
        p[o++] = (uint8_t)n;
        break;
    default: /* an SSLv2 record holding a hello of random bytes */
        p[o++] = (uint8_t)(0x80 | ((n + 1) >> 8));
        p[o++] = (uint8_t)(n + 1);
        p[o++] = harness_rand(rng) % 2 ? 0x01 : 0x04;
        break;
    }
    for (size_t i = 0; i < n; i++)
        p[o++] = (uint8_t)harness_rand(rng);
    return o;
}

TEST(random_bytes_never_overread_and_log_only_known_events)
{
    uint64_t rng = 0x5eed7e57ULL;
    for (int it = 0; it < 2000; it++) {
        uint8_t a[300 + 9], b[300 + 9];
        size_t na = fuzz_stream(a, 300, &rng), nb = fuzz_stream(b, 300, &rng);
        struct chunk s[] = {{DIR_TO_SERVER, (const char *)a, na},
                            {DIR_TO_CLIENT, (const char *)b, nb}};
        char *whole = tls_run_once(s, N_CHUNKS(s), SPLIT_WHOLE, 0, 0); /* checks the lines */
        char *cut = tls_run_once(s, N_CHUNKS(s), SPLIT_RANDOM, (uint64_t)it + 1, 0);
        if (strcmp(whole, cut) != 0)
            TEST_FAIL(
                "iteration %d: a random split logs differently:\n--- whole:\n%s--- split:\n%s", it,
                whole, cut);
        free(whole);
        free(cut);
    }
}

/* Valid conversations with 1 to 3 bytes changed: deeper than random bytes. */
TEST(mutated_conversations_never_overread_and_split_the_same)
{
    static struct tls12_conv v; /* static: large */
    static struct wire v2c, v2s, h[5];
    tls12_conv_build(&v);
    v2c.n = v2s.n = 0;
    w_v2_record(&v2c, v2_client_hello, sizeof v2_client_hello);
    w_v2_record(&v2s, v2_server_hello, sizeof v2_server_hello);
    for (int i = 0; i < 5; i++)
        h[i].n = 0;
    w_hs_record(&h[0], 0x0301, HS_CLIENT_HELLO, ch13_body, sizeof ch13_body);
    w_hs_record(&h[1], 0x0303, HS_SERVER_HELLO, hrr_body, sizeof hrr_body);
    w_record(&h[1], TLS_CT_CCS, 0x0303, ccs_body, sizeof ccs_body);
    w_hs_record(&h[2], 0x0303, HS_CLIENT_HELLO, ch13_retry_body, sizeof ch13_retry_body);
    w_hs_record(&h[3], 0x0303, HS_SERVER_HELLO, sh13_after_hrr_body, sizeof sh13_after_hrr_body);
    w_record(&h[3], TLS_CT_APPDATA, 0x0303, ciphertext16, sizeof ciphertext16);
    w_record(&h[4], TLS_CT_APPDATA, 0x0303, ciphertext16, sizeof ciphertext16);
    const struct chunk convs[3][5] = {
        {CLIW(v.c1), SRVW(v.s1), CLIW(v.c2), SRVW(v.s2)},
        {CLIW(h[0]), SRVW(h[1]), CLIW(h[2]), SRVW(h[3]), CLIW(h[4])},
        {CLIW(v2c), SRVW(v2s)},
    };
    static const size_t n_chunks[3] = {4, 5, 2};
    uint64_t rng = 0x0bad5eedULL;
    for (int it = 0; it < 1000; it++) {
        int k = it % 3;
        struct chunk s[5];
        uint8_t *copy[5];
        for (size_t i = 0; i < n_chunks[k]; i++) {
            s[i] = convs[k][i];
            copy[i] = malloc(s[i].n);
            if (copy[i] == NULL)
                TEST_FAIL("out of memory");
            memcpy(copy[i], s[i].p, s[i].n);
            s[i].p = (const char *)copy[i];
        }
        for (uint32_t m = 1 + harness_rand(&rng) % 3; m > 0; m--) {
            size_t i = harness_rand(&rng) % n_chunks[k];
            copy[i][harness_rand(&rng) % s[i].n] = (uint8_t)harness_rand(&rng);
        }
        char *whole = tls_run_once(s, n_chunks[k], SPLIT_WHOLE, 0, 0);
        for (int how = 0; how < 2; how++) {
            char *cut =
                tls_run_once(s, n_chunks[k], how ? SPLIT_RANDOM : SPLIT_BYTES, (uint64_t)it + 1, 0);
            if (strcmp(whole, cut) != 0)
                TEST_FAIL("iteration %d: a split logs differently:\n--- whole:\n%s--- split:\n%s",
                          it, whole, cut);
            free(cut);
        }
        free(whole);
        for (size_t i = 0; i < n_chunks[k]; i++)
            free(copy[i]);
    }
}

/* RFC 8446 §5.1: bytes after a TLS 1.3 ServerHello in its own record are past the key change:
 * opaque, whether they come in the same feed as the ServerHello or later (they were read as
 * a cleartext handshake message, here one too big, only when they came in the same feed). */
TEST(tls13_bytes_after_the_server_hello_in_its_record_are_encrypted)
{
    struct wire c1 = {.n = 0}, m = {.n = 0}, s1 = {.n = 0}, c2 = {.n = 0};
    /* clang-format off */
    const uint8_t after[] = {
        0x16, 0x03, 0x03, 0x00, /* a handshake header of 197,376 bytes, if it were read */
        0x90, 0x01, 0x00, 0x00,
    };
    /* clang-format on */
    w_hs_record(&c1, 0x0301, HS_CLIENT_HELLO, ch13_body, sizeof ch13_body);
    w_handshake(&m, HS_SERVER_HELLO, sh13_body, sizeof sh13_body);
    w_bytes(&m, after, sizeof after);
    w_record(&s1, TLS_CT_HANDSHAKE, 0x0303, m.p, m.n);
    w_record(&c2, TLS_CT_APPDATA, 0x0303, ciphertext16, sizeof ciphertext16); /* Finished */
    struct chunk s[] = {CLIW(c1), SRVW(s1), CLIW(c2)};
    ASSERT_TLS_LOG(s, CH13_LOG SH13_LOG "DONE complete=1\n");
}

/* ---- 11. gaps ------------------------------------------------------------ */

TEST(gap_inside_an_encrypted_record_is_absorbed)
{
    struct tls12_conv v;
    tls12_conv_build(&v);
    /* clang-format off */
    const uint8_t data_hdr[] = {
        0x17,       /* ContentType application_data */
        0x03, 0x03, /* legacy_record_version TLS 1.2 */
        0x00, 0x40, /* length 64 */
    };
    /* clang-format on */
    struct wire a = {.n = 0}, b = {.n = 0}, c = {.n = 0}, d = {.n = 0};
    w_bytes(&a, data_hdr, sizeof data_hdr);
    w_bytes(&a, ciphertext16, sizeof ciphertext16); /* 16 of the 64 bytes, then a gap of 32 */
    w_bytes(&b, ciphertext16, sizeof ciphertext16); /* the last 16 */
    w_record(&b, TLS_CT_APPDATA, 0x0303, ciphertext16, sizeof ciphertext16);
    w_bytes(&c, data_hdr, sizeof data_hdr);
    w_bytes(&c, ciphertext16, sizeof ciphertext16); /* 16 of 64, then a gap to the record's end */
    w_record(&d, TLS_CT_ALERT, 0x0303, ciphertext16, sizeof ciphertext16); /* still framed */
    /* the client's encrypted records before the server's Finished: after the handshake's
     * end nothing is read (tls12_bytes_after_the_handshake_end_in_its_segment_are_not_read) */
    struct chunk s[] = {CLIW(v.c1), SRVW(v.s1), CLIW(v.c2),  CLIW(a), GAP_CLI(32),
                        CLIW(b),    CLIW(c),    GAP_CLI(48), CLIW(d), SRVW(v.s2)};
    ASSERT_TLS_LOG(s, CH12_LOG SH12_LOG CERT0_LOG CERT1_LOG KEX23_LOG
                   "ALERT level=0 desc=0 encrypted=1 from=client\n"
                   "DONE complete=1\n");
}

TEST(gap_inside_a_tls13_encrypted_record_is_absorbed)
{
    struct wire c1 = {.n = 0}, s1 = {.n = 0}, s2 = {.n = 0}, c2 = {.n = 0};
    /* clang-format off */
    const uint8_t data_hdr[] = {
        0x17,       /* ContentType application_data */
        0x03, 0x03, /* legacy_record_version TLS 1.2 */
        0x00, 0x30, /* length 48 */
    };
    /* clang-format on */
    w_hs_record(&c1, 0x0301, HS_CLIENT_HELLO, ch13_body, sizeof ch13_body);
    w_hs_record(&s1, 0x0303, HS_SERVER_HELLO, sh13_body, sizeof sh13_body);
    w_bytes(&s1, data_hdr, sizeof data_hdr);
    w_bytes(&s1, ciphertext16, sizeof ciphertext16); /* 16 of 48, a gap of 16, the last 16 */
    w_bytes(&s2, ciphertext16, sizeof ciphertext16);
    w_record(&c2, TLS_CT_APPDATA, 0x0303, ciphertext16, sizeof ciphertext16);
    struct chunk s[] = {CLIW(c1), SRVW(s1), GAP_SRV(16), SRVW(s2), CLIW(c2)};
    ASSERT_TLS_LOG(s, CH13_LOG SH13_LOG "DONE complete=1\n");
}

TEST(gap_past_the_end_of_an_encrypted_record_gives_up_the_direction)
{
    struct tls12_conv v;
    tls12_conv_build(&v);
    /* clang-format off */
    const uint8_t data_hdr[] = {
        0x17,       /* ContentType application_data */
        0x03, 0x03, /* legacy_record_version TLS 1.2 */
        0x00, 0x20, /* length 32 */
    };
    /* clang-format on */
    struct wire a = {.n = 0}, b = {.n = 0};
    w_bytes(&a, data_hdr, sizeof data_hdr);
    w_bytes(&a, ciphertext16, sizeof ciphertext16); /* 16 of 32, then a gap of 100 */
    w_record(&b, TLS_CT_ALERT, 0x0303, ciphertext16, sizeof ciphertext16); /* unread */
    struct chunk s[] = {CLIW(v.c1),   SRVW(v.s1), CLIW(v.c2), CLIW(a),
                        GAP_CLI(100), CLIW(b),    SRVW(v.s2)}; /* before the server's Finished */
    ASSERT_TLS_LOG(s, CH12_LOG SH12_LOG CERT0_LOG CERT1_LOG KEX23_LOG
                   "ANOMALY stream-gap from=client\n"
                   "DONE complete=1\n");
}

TEST(gap_before_the_server_hello_gives_up_the_server_direction)
{
    struct tls12_conv v;
    tls12_conv_build(&v);
    struct chunk s[] = {CLIW(v.c1), GAP_SRV(90), SRVW(v.s1), CLIW(v.c2), SRVW(v.s2)};
    ASSERT_TLS_LOG(s, CH12_LOG "ANOMALY stream-gap from=server\nDONE complete=0\n");
}

TEST(gap_inside_a_clear_handshake_record_gives_up_the_direction)
{
    struct tls12_conv v;
    tls12_conv_build(&v);
    struct chunk s[] = {{DIR_TO_SERVER, (const char *)v.c1.p, 20},
                        GAP_CLI(10),
                        {DIR_TO_SERVER, (const char *)v.c1.p + 30, v.c1.n - 30},
                        SRVW(v.s1)};
    ASSERT_TLS_LOG(s, "ANOMALY stream-gap from=client\n" SH12_LOG CERT0_LOG CERT1_LOG KEX23_LOG
                      "DONE complete=0\n");
}

/* ---- ServerKeyExchange variants ----------------------------------------- */

/* ServerHello choosing `suite`, no extensions. */
static void w_server_hello_suite(struct wire *w, uint8_t hi, uint8_t lo)
{
    /* clang-format off */
    const uint8_t sh_body[] = {
        0x03, 0x03, /* server_version TLS 1.2 */
        SERVER_RANDOM,
        0x00,   /* session_id length 0 */
        hi, lo, /* cipher_suite */
        0x00,   /* compression_method null */
    };
    /* clang-format on */
    w_hs_record(w, 0x0303, HS_SERVER_HELLO, sh_body, sizeof sh_body);
}

TEST(kex_dhe_reports_the_prime_size_in_bits)
{
    /* clang-format off */
    static const uint8_t ske_body[] = {
        0x00, 0x09,                                     /* dh_p length 9 */
        0x00,                                           /*   a leading zero byte */
        0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x61, /*   p: 63 bits (fake) */
        0x00, 0x01,                                     /* dh_g length 1 */
        0x02,                                           /*   g = 2 */
        0x00, 0x02,                                     /* dh_Ys length 2 */
        0x12, 0x34,                                     /*   Ys (fake) */
        0x04, 0x01,                                     /* rsa_pkcs1_sha256 */
        0x00, 0x02,                                     /* signature length 2 */
        0xab, 0xcd,                                     /*   signature (fake) */
    };
    /* clang-format on */
    struct wire s1 = {.n = 0};
    w_server_hello_suite(&s1, 0x00, 0x9e); /* TLS_DHE_RSA_WITH_AES_128_GCM_SHA256 */
    w_hs_record(&s1, 0x0303, HS_SERVER_KEY_EXCHANGE, ske_body, sizeof ske_body);
    struct chunk s[] = {SRVW(s1)};
    ASSERT_TLS_LOG(s, "SERVER_HELLO version=0303 cipher=009e comp=0 sslv2=0 hrr=0 ja3s=771,158,\n"
                      "KEX dh_bits=63 group=0\nDONE complete=0\n");
}

/* A prime whose bytes are all zero has 0 significant bits, not 65535. */
TEST(kex_dhe_zero_prime_has_no_bits)
{
    /* clang-format off */
    static const uint8_t ske_body[] = {
        0x00, 0x02, /* dh_p length 2 */
        0x00, 0x00, /*   p = 0 */
        0x00, 0x01, /* dh_g length 1 */
        0x02,       /*   g = 2 */
        0x00, 0x01, /* dh_Ys length 1 */
        0x05,       /*   Ys (fake) */
        0x04, 0x01, /* rsa_pkcs1_sha256 */
        0x00, 0x02, /* signature length 2 */
        0xab, 0xcd, /*   signature (fake) */
    };
    /* clang-format on */
    struct wire s1 = {.n = 0};
    w_server_hello_suite(&s1, 0x00, 0x9e); /* TLS_DHE_RSA_WITH_AES_128_GCM_SHA256 */
    w_hs_record(&s1, 0x0303, HS_SERVER_KEY_EXCHANGE, ske_body, sizeof ske_body);
    struct chunk s[] = {SRVW(s1)};
    ASSERT_TLS_LOG(s, "SERVER_HELLO version=0303 cipher=009e comp=0 sslv2=0 hrr=0 ja3s=771,158,\n"
                      "KEX dh_bits=0 group=0\nDONE complete=0\n");
}

/* RFC 5489 §2: an ECDHE_PSK ServerKeyExchange starts with the PSK identity
 * hint, then the ServerECDHParams. */
TEST(kex_ecdhe_psk_reads_the_group_after_the_identity_hint)
{
    /* clang-format off */
    static const uint8_t ske_body[] = {
        0x00, 0x00,                   /* psk_identity_hint length 0 */
        0x03,                         /* ECCurveType named_curve */
        0x00, 0x17,                   /* NamedCurve secp256r1 (23) */
        0x05,                         /* ECPoint length 5 */
        0x04, 0x11, 0x22, 0x33, 0x44, /*   point (fake) */
    };
    /* clang-format on */
    struct wire s1 = {.n = 0};
    w_server_hello_suite(&s1, 0xc0, 0x35); /* TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA */
    w_hs_record(&s1, 0x0303, HS_SERVER_KEY_EXCHANGE, ske_body, sizeof ske_body);
    struct chunk s[] = {SRVW(s1)};
    ASSERT_TLS_LOG(
        s, "SERVER_HELLO version=0303 cipher=c035 comp=0 sslv2=0 hrr=0 ja3s=771,49205,\n" KEX23_LOG
           "DONE complete=0\n");
}

/*
 * tls-vectors.h — the TLS test conversations and their driver, shared by
 * test-tls.c (handshakes) and test-tls-hostile.c (hostile input, gaps, key
 * exchange). Test-only: each test file uses part of it.
 */
#ifndef POSTCARD_TLS_VECTORS_H
#define POSTCARD_TLS_VECTORS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dissect-harness.h"
#include "dissector.h"
#include "event.h"
#include "test.h"
#include "tls-int.h" /* TLS_HS_MAX, TLS_REC_MAX, TLS_CT_*: the limits under test */

#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-const-variable"
/* ---- the TLS-aware logger ------------------------------------------------ */

/* Bytes as hex; reading every byte lets ASan catch a span past its buffer. */
static void log_hex(struct evlog *l, const char *what, struct span s, size_t group)
{
    if (s.n > 0 && s.p == NULL)
        TEST_FAIL("%s: span of %zu bytes at NULL", what, s.n);
    for (size_t i = 0; i < s.n; i++) {
        if (group > 0 && i > 0 && i % group == 0)
            log_put(l, ",", 1);
        log_printf(l, "%02x", s.p[i]);
    }
}

/* A JA3 / JA3S string holds only decimal numbers, ',' and '-'. */
static void log_fingerprint(struct evlog *l, const char *what, struct span s)
{
    if (s.n > 0 && s.p == NULL)
        TEST_FAIL("%s: span of %zu bytes at NULL", what, s.n);
    for (size_t i = 0; i < s.n; i++) {
        uint8_t c = s.p[i];
        if (!((c >= '0' && c <= '9') || c == ',' || c == '-'))
            TEST_FAIL("%s: byte 0x%02x at %zu", what, c, i);
    }
    log_span(l, what, s);
}

/* struct emitter callback for tls_dissector: ctx is a struct evlog. */
static void tls_log_emit(void *ctx, const struct event *ev)
{
    struct evlog *l = ctx;
    if (ev->type == EV_TLS_CERTS_END) {
        harness_want_dir(ev, DIR_TO_CLIENT, "CERTS_END");
        if (harness_log_moments) {
            l->n_events++;
            log_put(l, "CERTS_END\n", 10);
        }
        return;
    }
    l->n_events++;
    switch (ev->type) {
    case EV_TLS_CLIENT_HELLO: {
        const struct ev_tls_ch *ch = &ev->u.tls_ch;
        harness_want_dir(ev, DIR_TO_SERVER, "CLIENT_HELLO");
        log_printf(l,
                   "CLIENT_HELLO legacy=%04x max=%04x sslv2=%d heartbeat=%d reneg=%d etm=%d ems=%d",
                   ch->legacy_version, ch->max_version, ch->is_sslv2, ch->has_heartbeat,
                   ch->has_reneg_info, ch->has_etm, ch->has_ems);
        log_put(l, " ciphers=", 9);
        log_hex(l, "ciphers", ch->ciphers, 2);
        if (ch->ciphers.n != 2u * ch->n_ciphers)
            log_printf(l, " n_ciphers=%u", (unsigned)ch->n_ciphers);
        log_put(l, " comp=", 6);
        log_hex(l, "compression", ch->compression, 1);
        log_put(l, " groups=", 8);
        log_hex(l, "groups", ch->groups, 2);
        log_put(l, " sigalgs=", 9);
        log_hex(l, "sig_algs", ch->sig_algs, 2);
        log_put(l, " sni=", 5);
        log_span(l, "sni", ch->sni);
        log_put(l, " alpn=", 6);
        log_span(l, "alpn", ch->alpn);
        log_put(l, " ja3=", 5);
        log_fingerprint(l, "ja3", ch->ja3);
        break;
    }
    case EV_TLS_SERVER_HELLO: {
        const struct ev_tls_sh *sh = &ev->u.tls_sh;
        harness_want_dir(ev, DIR_TO_CLIENT, "SERVER_HELLO");
        log_printf(l, "SERVER_HELLO version=%04x cipher=", sh->version);
        /* a TLS suite has 2 bytes, an SSLv2 cipher kind 3 */
        log_printf(l, sh->cipher > 0xffff ? "%06" PRIx32 : "%04" PRIx32, sh->cipher);
        log_printf(l, " comp=%u sslv2=%d hrr=%d ja3s=", sh->compression, sh->is_sslv2, sh->is_hrr);
        log_fingerprint(l, "ja3s", sh->ja3s);
        break;
    }
    case EV_TLS_CERT:
        harness_want_dir(ev, DIR_TO_CLIENT, "CERT");
        log_printf(l, "CERT index=%u len=%zu der=", ev->u.cert.index, ev->u.cert.der.n);
        log_hex(l, "der", ev->u.cert.der, 0);
        break;
    case EV_TLS_KEX:
        harness_want_dir(ev, DIR_TO_CLIENT, "KEX");
        log_printf(l, "KEX dh_bits=%u group=%u", ev->u.kex.dh_bits, ev->u.kex.group);
        break;
    case EV_TLS_ALERT:
        if (ev->u.alert.is_encrypted && (ev->u.alert.level != 0 || ev->u.alert.desc != 0))
            TEST_FAIL("encrypted ALERT with level %u desc %u", ev->u.alert.level, ev->u.alert.desc);
        log_printf(l, "ALERT level=%u desc=%u encrypted=%d from=%s", ev->u.alert.level,
                   ev->u.alert.desc, ev->u.alert.is_encrypted, harness_from(ev->dir));
        break;
    case EV_TLS_DONE:
        log_printf(l, "DONE complete=%d", ev->u.done.complete);
        break;
    case EV_ANOMALY:
        if ((unsigned)ev->u.anomaly >= EVA_COUNT)
            TEST_FAIL("ANOMALY with reason %d", (int)ev->u.anomaly);
        log_printf(l, "ANOMALY %s from=%s", ev_anomaly_name(ev->u.anomaly), harness_from(ev->dir));
        break;
    default:
        TEST_FAIL("event type %d is not one the TLS dissector emits", (int)ev->type);
    }
    log_put(l, "\n", 1);
}

/* Every line is one the TLS dissector may log, and DONE comes exactly once. */
static void assert_known_lines(const char *log)
{
    static const char *const known[] = {
        "CLIENT_HELLO legacy=",
        "SERVER_HELLO version=",
        "CERT index=",
        "KEX dh_bits=",
        "ALERT level=",
        "DONE complete=",
        "CERTS_END",
        "ANOMALY tls-not-tls from=",
        "ANOMALY tls-bad-length from=",
        "ANOMALY tls-handshake-too-big from=",
        "ANOMALY stream-gap from=",
    };
    int n_done = 0;
    for (const char *p = log; *p != '\0';) {
        const char *eol = strchr(p, '\n');
        if (eol == NULL)
            TEST_FAIL("log ends without a newline: \"%s\"", p);
        bool ok = false;
        for (size_t k = 0; k < sizeof known / sizeof known[0] && !ok; k++)
            ok = strncmp(p, known[k], strlen(known[k])) == 0;
        if (!ok)
            TEST_FAIL("unknown log line: \"%.*s\"", (int)(eol - p), p);
        n_done += strncmp(p, "DONE ", 5) == 0;
        p = eol + 1;
    }
    if (n_done != 1)
        TEST_FAIL("%d DONE lines in:\n%s", n_done, log);
}

/* ---- the driver: dissect-harness.h's run, with the TLS logger ------------ */

/* One run of the script, as harness_run_once but logged by tls_log_emit.
 * piece > 0 cuts every chunk into pieces of that size instead of `how`
 * (for the 16 MB conversation, too long to feed one byte at a time). */
static char *tls_run_once(const struct chunk *c, size_t nc, enum harness_split how, uint64_t seed,
                          size_t piece)
{
    struct harness_run r;
    memset(&r, 0, sizeof r);
    r.d = &tls_dissector;
    r.st = calloc(1, r.d->state_size);
    if (r.st == NULL)
        TEST_FAIL("out of memory");
    r.em.emit = tls_log_emit;
    r.em.ctx = &r.log;
    log_put(&r.log, "", 0);
    r.d->init(r.st);
    uint64_t rng = seed * 0x2545f4914f6cdd1dULL + 1;
    size_t i = 0;
    while (i < nc) {
        if (c[i].p == NULL) {
            harness_gap(&r, c[i].dir, c[i].n);
            i++;
            continue;
        }
        size_t j = i + 1, n = c[i].n;
        while (how == SPLIT_RANDOM && piece == 0 && j < nc && c[j].p != NULL &&
               c[j].dir == c[i].dir && harness_rand(&rng) % 2 == 0)
            n += c[j++].n;
        uint8_t *b = malloc(n ? n : 1);
        if (b == NULL)
            TEST_FAIL("out of memory");
        size_t o = 0;
        for (size_t k = i; k < j; k++) {
            memcpy(b + o, c[k].p, c[k].n);
            o += c[k].n;
        }
        if (piece > 0)
            for (size_t at = 0; at < n; at += piece)
                harness_offer(&r, c[i].dir, b + at, n - at < piece ? n - at : piece);
        else
            harness_cut(&r, c[i].dir, b, n, how, &rng);
        free(b);
        i = j;
    }
    r.d->finish(r.st, &r.em);
    free(r.side[0].buf);
    free(r.side[1].buf);
    if (r.d->release != NULL)
        r.d->release(r.st);
    free(r.st);
    assert_known_lines(r.log.buf);
    return r.log.buf;
}

/* Whole, one byte per feed and 50 random splits: one log (caller frees). */
static char *tls_feed_all(const struct chunk *c, size_t nc)
{
    char *whole = tls_run_once(c, nc, SPLIT_WHOLE, 0, 0);
    for (int k = -1; k < HARNESS_RANDOM_RUNS; k++) {
        enum harness_split how = k < 0 ? SPLIT_BYTES : SPLIT_RANDOM;
        char *got = tls_run_once(c, nc, how, (uint64_t)(k + 1), 0);
        if (strcmp(got, whole) != 0)
            TEST_FAIL("%s split (seed %d) logs differently from whole chunks:\n"
                      "--- whole:\n%s--- split:\n%s",
                      k < 0 ? "byte-by-byte" : "random", k + 1, whole, got);
        free(got);
    }
    return whole;
}

#define ASSERT_TLS_LOG(script, want)                                                               \
    do {                                                                                           \
        harness_log_moments = false;                                                               \
        char *got_ = tls_feed_all((script), N_CHUNKS(script));                                     \
        ASSERT_STREQ(got_, want);                                                                  \
        free(got_);                                                                                \
    } while (0)

/* The same, with CERTS_END (the moment the chain is complete) logged too. */
#define ASSERT_TLS_MOMENTS(script, want)                                                           \
    do {                                                                                           \
        harness_log_moments = true;                                                                \
        char *got_ = tls_feed_all((script), N_CHUNKS(script));                                     \
        harness_log_moments = false;                                                               \
        ASSERT_STREQ(got_, want);                                                                  \
        free(got_);                                                                                \
    } while (0)

/* ---- building the wire bytes --------------------------------------------- */

#define WIRE_MAX 40960 /* a few records; the largest test sends one 32 KB message */

struct wire {
    uint8_t p[WIRE_MAX]; /* bytes in wire order */
    size_t n;            /* bytes used */
};

#define CLIW(w)                                                                                    \
    {                                                                                              \
        DIR_TO_SERVER, (const char *)(w).p, (w).n                                                  \
    }
#define SRVW(w)                                                                                    \
    {                                                                                              \
        DIR_TO_CLIENT, (const char *)(w).p, (w).n                                                  \
    }

static void w_bytes(struct wire *w, const uint8_t *p, size_t n)
{
    if (n > WIRE_MAX - w->n)
        TEST_FAIL("wire: %zu more bytes do not fit after %zu", n, w->n);
    if (n > 0)
        memcpy(w->p + w->n, p, n);
    w->n += n;
}

/* Opaque filler (ciphertext, or bytes the dissector must skip unread). */
static void w_fill(struct wire *w, uint8_t byte, size_t n)
{
    if (n > WIRE_MAX - w->n)
        TEST_FAIL("wire: %zu more bytes do not fit after %zu", n, w->n);
    memset(w->p + w->n, byte, n);
    w->n += n;
}

/* A TLSPlaintext record (RFC 5246 §6.2.1, RFC 8446 §5.1) around a fragment. */
static void w_record(struct wire *w, uint8_t type, uint16_t version, const uint8_t *frag, size_t n)
{
    if (n > 0xffff)
        TEST_FAIL("record of %zu bytes", n);
    /* clang-format off */
    const uint8_t hdr[5] = {
        type,                    /* ContentType */
        (uint8_t)(version >> 8), /* ProtocolVersion: major */
        (uint8_t)version,        /* ProtocolVersion: minor */
        (uint8_t)(n >> 8),       /* length, 16 bits */
        (uint8_t)n,              /*   (low byte) */
    };
    /* clang-format on */
    w_bytes(w, hdr, sizeof hdr);
    w_bytes(w, frag, n);
}

/* A handshake message (RFC 5246 §7.4, RFC 8446 §4): header and body, no record. */
static void w_handshake(struct wire *w, uint8_t type, const uint8_t *body, size_t n)
{
    /* clang-format off */
    const uint8_t hdr[4] = {
        type,              /* HandshakeType */
        (uint8_t)(n >> 16), /* length, 24 bits */
        (uint8_t)(n >> 8), /*   */
        (uint8_t)n,        /*   (low byte) */
    };
    /* clang-format on */
    w_bytes(w, hdr, sizeof hdr);
    w_bytes(w, body, n);
}

/* One handshake message alone in one record. */
static void w_hs_record(struct wire *w, uint16_t version, uint8_t type, const uint8_t *body,
                        size_t n)
{
    struct wire m;
    m.n = 0;
    w_handshake(&m, type, body, n);
    w_record(w, TLS_CT_HANDSHAKE, version, m.p, m.n);
}

/* An SSLv2 record with the 2-byte header (draft-hickman §1.2: high bit set, 15-bit length). */
static void w_v2_record(struct wire *w, const uint8_t *body, size_t n)
{
    if (n > 0x7fff)
        TEST_FAIL("SSLv2 record of %zu bytes", n);
    /* clang-format off */
    const uint8_t hdr[2] = {
        (uint8_t)(0x80 | (n >> 8)), /* no padding: high bit, then length bits 14..8 */
        (uint8_t)n,                 /* length bits 7..0 */
    };
    /* clang-format on */
    w_bytes(w, hdr, sizeof hdr);
    w_bytes(w, body, n);
}

/* ---- the messages -------------------------------------------------------- */

enum {
    HS_CLIENT_HELLO = 1,
    HS_SERVER_HELLO = 2,
    HS_CERTIFICATE = 11,
    HS_SERVER_KEY_EXCHANGE = 12,
    HS_SERVER_HELLO_DONE = 14,
    HS_CLIENT_KEY_EXCHANGE = 16,
};

/* Random (RFC 5246 §7.4.1.2) of every client hello here: 32 bytes. */
/* clang-format off */
#define CLIENT_RANDOM                                                                              \
    0x5a, 0x1c, 0x2e, 0x9d, 0x41, 0x07, 0xb3, 0x66, /* random[0..7] */                             \
        0x18, 0xf2, 0x6b, 0x03, 0xce, 0x75, 0x90, 0x2a, /* random[8..15] */                        \
        0xd4, 0x3f, 0x81, 0x5e, 0x27, 0xa9, 0x6c, 0x11, /* random[16..23] */                       \
        0xe8, 0x4b, 0x32, 0x9f, 0x70, 0x0d, 0xb6, 0xc5  /* random[24..31] */
/* clang-format on */

/* Random of every server hello here (not the HelloRetryRequest value). */
/* clang-format off */
#define SERVER_RANDOM                                                                              \
    0x9b, 0x60, 0x3d, 0xe2, 0x14, 0x8f, 0x57, 0xa0, /* random[0..7] */                             \
        0x2c, 0xd9, 0x71, 0x46, 0xbb, 0x08, 0xf5, 0x3a, /* random[8..15] */                        \
        0x62, 0x1e, 0xc7, 0x95, 0x0b, 0x4d, 0xe6, 0x38, /* random[16..23] */                       \
        0xa3, 0x7c, 0x10, 0xf8, 0x59, 0x24, 0x8e, 0xd1  /* random[24..31] */
/* clang-format on */

/* RFC 8446 §4.1.3: a ServerHello with this random is a HelloRetryRequest
 * (SHA-256 of "HelloRetryRequest"). */
/* clang-format off */
#define HRR_RANDOM                                                                                 \
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, /* random[0..7] */                             \
        0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91, /* random[8..15] */                        \
        0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, /* random[16..23] */                       \
        0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c  /* random[24..31] */
/* clang-format on */

/* legacy_session_id of the TLS 1.3 hellos (RFC 8446 §D.4 middlebox mode): 32 bytes. */
/* clang-format off */
#define SESSION_ID_32                                                                              \
    0x71, 0x0e, 0x83, 0x5c, 0x29, 0xf4, 0xa6, 0x1b, /* session_id[0..7] */                         \
        0xd0, 0x3e, 0x95, 0x62, 0x07, 0xcb, 0x48, 0xe1, /* session_id[8..15] */                    \
        0x5f, 0x96, 0x2d, 0xb8, 0x43, 0x7a, 0x0c, 0xe9, /* session_id[16..23] */                   \
        0x34, 0xa1, 0x6f, 0x12, 0xdd, 0x85, 0x50, 0xbe  /* session_id[24..31] */
/* clang-format on */

/* server_name extension (RFC 6066 §3) naming "mail.example.com": 25 bytes. */
/* clang-format off */
#define EXT_SNI_MAIL                                                                               \
    0x00, 0x00,     /* extension type server_name (0) */                                           \
        0x00, 0x15, /*   extension_data length 21 */                                               \
        0x00, 0x13, /*   server_name_list length 19 */                                             \
        0x00,       /*   name_type host_name */                                                    \
        0x00, 0x10, /*   HostName length 16 */                                                     \
        'm', 'a', 'i', 'l', '.', 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'c', 'o', 'm'
/* clang-format on */

/* TLS 1.2 ClientHello (RFC 5246 §7.4.1.2): a GREASE suite and extension
 * (RFC 8701), SNI, groups, point formats, signature algorithms, ALPN
 * "imap", extended_master_secret, renegotiation_info, heartbeat. */
/* clang-format off */
static const uint8_t ch12_body[] = {
    0x03, 0x03, /* client_version TLS 1.2 */
    CLIENT_RANDOM,
    0x00,       /* session_id length 0 */
    0x00, 0x0c, /* cipher_suites length 12 (6 suites) */
    0x0a, 0x0a, /*   GREASE */
    0xc0, 0x2b, /*   TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 (49195) */
    0xc0, 0x2f, /*   TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 (49199) */
    0xc0, 0x30, /*   TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 (49200) */
    0x00, 0x9e, /*   TLS_DHE_RSA_WITH_AES_128_GCM_SHA256 (158) */
    0x00, 0x2f, /*   TLS_RSA_WITH_AES_128_CBC_SHA (47) */
    0x01,       /* compression_methods length 1 */
    0x00,       /*   null */
    0x00, 0x56, /* extensions length 86 */
    0x1a, 0x1a, /* extension type GREASE */
    0x00, 0x00, /*   extension_data length 0 */
    EXT_SNI_MAIL,
    0x00, 0x17, /* extension type extended_master_secret (23) */
    0x00, 0x00, /*   extension_data length 0 */
    0xff, 0x01, /* extension type renegotiation_info (65281) */
    0x00, 0x01, /*   extension_data length 1 */
    0x00,       /*   renegotiated_connection length 0 */
    0x00, 0x0a, /* extension type supported_groups (10) */
    0x00, 0x0a, /*   extension_data length 10 */
    0x00, 0x08, /*   named_group_list length 8 */
    0x2a, 0x2a, /*   GREASE */
    0x00, 0x1d, /*   x25519 (29) */
    0x00, 0x17, /*   secp256r1 (23) */
    0x00, 0x18, /*   secp384r1 (24) */
    0x00, 0x0b, /* extension type ec_point_formats (11) */
    0x00, 0x02, /*   extension_data length 2 */
    0x01,       /*   ec_point_format_list length 1 */
    0x00,       /*   uncompressed (0) */
    0x00, 0x0d, /* extension type signature_algorithms (13) */
    0x00, 0x08, /*   extension_data length 8 */
    0x00, 0x06, /*   supported_signature_algorithms length 6 */
    0x04, 0x03, /*   ecdsa_secp256r1_sha256 */
    0x08, 0x04, /*   rsa_pss_rsae_sha256 */
    0x04, 0x01, /*   rsa_pkcs1_sha256 */
    0x00, 0x10, /* extension type application_layer_protocol_negotiation (16) */
    0x00, 0x07, /*   extension_data length 7 */
    0x00, 0x05, /*   protocol_name_list length 5 */
    0x04,       /*   ProtocolName length 4 */
    'i', 'm', 'a', 'p',
    0x00, 0x0f, /* extension type heartbeat (15) */
    0x00, 0x01, /*   extension_data length 1 */
    0x01,       /*   mode peer_allowed_to_send */
};
/* clang-format on */

#define CH12_LOG                                                                                   \
    "CLIENT_HELLO legacy=0303 max=0303 sslv2=0 heartbeat=1 reneg=1 etm=0 ems=1 "                   \
    "ciphers=0a0a,c02b,c02f,c030,009e,002f comp=00 groups=2a2a,001d,0017,0018 "                    \
    "sigalgs=0403,0804,0401 sni=mail.example.com alpn=imap "                                       \
    "ja3=771,49195-49199-49200-158-47,0-23-65281-10-11-13-16-15,29-23-24,0\n"

/* TLS 1.2 ServerHello: ECDHE-RSA AES-128-GCM, with extensions. */
/* clang-format off */
static const uint8_t sh12_body[] = {
    0x03, 0x03, /* server_version TLS 1.2 */
    SERVER_RANDOM,
    0x08,                                           /* session_id length 8 */
    0x3e, 0x91, 0x0c, 0x57, 0xa2, 0x64, 0xd8, 0x1b, /* session_id */
    0xc0, 0x2f, /* cipher_suite TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 */
    0x00,       /* compression_method null */
    0x00, 0x1e, /* extensions length 30 */
    0xff, 0x01, /* extension type renegotiation_info (65281) */
    0x00, 0x01, /*   extension_data length 1 */
    0x00,       /*   renegotiated_connection length 0 */
    0x00, 0x00, /* extension type server_name (0): acknowledged, empty */
    0x00, 0x00, /*   extension_data length 0 */
    0x00, 0x0b, /* extension type ec_point_formats (11) */
    0x00, 0x02, /*   extension_data length 2 */
    0x01,       /*   ec_point_format_list length 1 */
    0x00,       /*   uncompressed */
    0x00, 0x17, /* extension type extended_master_secret (23) */
    0x00, 0x00, /*   extension_data length 0 */
    0x00, 0x10, /* extension type ALPN (16) */
    0x00, 0x07, /*   extension_data length 7 */
    0x00, 0x05, /*   protocol_name_list length 5 */
    0x04,       /*   ProtocolName length 4 */
    'i', 'm', 'a', 'p',
};
/* clang-format on */

#define SH12_LOG                                                                                   \
    "SERVER_HELLO version=0303 cipher=c02f comp=0 sslv2=0 hrr=0 ja3s=771,49199,65281-0-11-23-16\n"

/* Certificate (RFC 5246 §7.4.2): two small fake DER blobs (not parsed here). */
/* clang-format off */
static const uint8_t cert2_body[] = {
    0x00, 0x00, 0x1a,                  /* certificate_list length 26 */
    0x00, 0x00, 0x0c,                  /* certificate[0] length 12 */
    0x30, 0x0a,                        /*   SEQUENCE, length 10 */
    0x02, 0x01, 0x01,                  /*     INTEGER 1 */
    0x04, 0x05, 'l', 'e', 'a', 'f', '0', /*     OCTET STRING "leaf0" */
    0x00, 0x00, 0x08,                  /* certificate[1] length 8 */
    0x30, 0x06,                        /*   SEQUENCE, length 6 */
    0x04, 0x04, 'r', 'o', 'o', 't',    /*     OCTET STRING "root" */
};
/* clang-format on */

#define CERT0_LOG "CERT index=0 len=12 der=300a02010104056c65616630\n"
#define CERT1_LOG "CERT index=1 len=8 der=30060404726f6f74\n"

/* Certificate with the one blob "leaf0". */
/* clang-format off */
static const uint8_t cert1_body[] = {
    0x00, 0x00, 0x0f,                  /* certificate_list length 15 */
    0x00, 0x00, 0x0c,                  /* certificate[0] length 12 */
    0x30, 0x0a,                        /*   SEQUENCE, length 10 */
    0x02, 0x01, 0x01,                  /*     INTEGER 1 */
    0x04, 0x05, 'l', 'e', 'a', 'f', '0', /*     OCTET STRING "leaf0" */
};
/* clang-format on */

/* ServerKeyExchange, ECDHE (RFC 8422 §5.4): named curve secp256r1. */
/* clang-format off */
static const uint8_t ske_ecdhe_body[] = {
    0x03,                         /* ECCurveType named_curve (3) */
    0x00, 0x17,                   /* NamedCurve secp256r1 (23) */
    0x05,                         /* ECPoint length 5 (fake, short: only the group is read) */
    0x04, 0x11, 0x22, 0x33, 0x44, /*   point */
    0x04, 0x01,                   /* SignatureAndHashAlgorithm rsa_pkcs1_sha256 */
    0x00, 0x04,                   /* signature length 4 */
    0xde, 0xad, 0xbe, 0xef,       /*   signature (fake) */
};
/* clang-format on */

#define KEX23_LOG "KEX dh_bits=0 group=23\n"

/* ClientKeyExchange, ECDHE (RFC 8422 §5.7). */
/* clang-format off */
static const uint8_t cke_ecdhe_body[] = {
    0x05,                         /* ECPoint length 5 */
    0x04, 0x55, 0x66, 0x77, 0x88, /*   point (fake) */
};
/* clang-format on */

/* ClientKeyExchange, RSA, TLS 1.0+ (RFC 5246 §7.4.7.1). */
/* clang-format off */
static const uint8_t cke_rsa_body[] = {
    0x00, 0x08,                                     /* EncryptedPreMasterSecret length 8 */
    0x91, 0x2f, 0x6c, 0x03, 0xb8, 0x47, 0xe5, 0x1a, /*   (fake) */
};
/* clang-format on */

/* ChangeCipherSpec (RFC 5246 §7.1): one byte. */
/* clang-format off */
static const uint8_t ccs_body[] = {
    0x01, /* change_cipher_spec */
};
/* clang-format on */

/* An encrypted record body: opaque to the dissector (Finished, data, alert). */
/* clang-format off */
static const uint8_t ciphertext16[] = {
    0x8d, 0x3b, 0xf0, 0x26, 0x59, 0xc4, 0x1e, 0xa7, /* ciphertext[0..7] */
    0x62, 0x0f, 0xd8, 0x95, 0x3c, 0xe1, 0x74, 0x4b, /* ciphertext[8..15] */
};
/* clang-format on */

/* CCS, then the Finished message encrypted under the new keys. */
static void w_ccs_finished(struct wire *w, uint16_t version)
{
    w_record(w, TLS_CT_CCS, version, ccs_body, sizeof ccs_body);
    w_record(w, TLS_CT_HANDSHAKE, version, ciphertext16, sizeof ciphertext16);
}

/* The TLS 1.2 server's first flight: ServerHello, Certificate, ServerKeyExchange, Done. */
static void w_tls12_server_flight(struct wire *w)
{
    w_hs_record(w, 0x0303, HS_SERVER_HELLO, sh12_body, sizeof sh12_body);
    w_hs_record(w, 0x0303, HS_CERTIFICATE, cert2_body, sizeof cert2_body);
    w_hs_record(w, 0x0303, HS_SERVER_KEY_EXCHANGE, ske_ecdhe_body, sizeof ske_ecdhe_body);
    w_hs_record(w, 0x0303, HS_SERVER_HELLO_DONE, NULL, 0);
}

/* The TLS 1.2 client's second flight: ClientKeyExchange, CCS, Finished. */
static void w_tls12_client_finish(struct wire *w)
{
    w_hs_record(w, 0x0303, HS_CLIENT_KEY_EXCHANGE, cke_ecdhe_body, sizeof cke_ecdhe_body);
    w_ccs_finished(w, 0x0303);
}

/* A whole TLS 1.2 handshake, four flights. */
struct tls12_conv {
    struct wire c1; /* ClientHello */
    struct wire s1; /* ServerHello .. ServerHelloDone */
    struct wire c2; /* ClientKeyExchange, CCS, Finished */
    struct wire s2; /* CCS, Finished */
};

static void tls12_conv_build(struct tls12_conv *v)
{
    v->c1.n = v->s1.n = v->c2.n = v->s2.n = 0;
    w_hs_record(&v->c1, 0x0301, HS_CLIENT_HELLO, ch12_body, sizeof ch12_body);
    w_tls12_server_flight(&v->s1);
    w_tls12_client_finish(&v->c2);
    w_ccs_finished(&v->s2, 0x0303);
}

#define TLS12_LOG CH12_LOG SH12_LOG CERT0_LOG CERT1_LOG KEX23_LOG "DONE complete=1\n"

/* TLS 1.3 ClientHello (RFC 8446 §4.1.2): supported_versions {GREASE, 1.3, 1.2}. */
/* clang-format off */
static const uint8_t ch13_body[] = {
    0x03, 0x03, /* legacy_version TLS 1.2 */
    CLIENT_RANDOM,
    0x20, /* legacy_session_id length 32 */
    SESSION_ID_32,
    0x00, 0x08, /* cipher_suites length 8 */
    0x3a, 0x3a, /*   GREASE */
    0x13, 0x01, /*   TLS_AES_128_GCM_SHA256 (4865) */
    0x13, 0x02, /*   TLS_AES_256_GCM_SHA384 (4866) */
    0x13, 0x03, /*   TLS_CHACHA20_POLY1305_SHA256 (4867) */
    0x01,       /* legacy_compression_methods length 1 */
    0x00,       /*   null */
    0x00, 0x4a, /* extensions length 74 */
    EXT_SNI_MAIL,
    0x00, 0x0a,             /* extension type supported_groups (10) */
    0x00, 0x06,             /*   extension_data length 6 */
    0x00, 0x04,             /*   named_group_list length 4 */
    0x00, 0x1d,             /*   x25519 */
    0x00, 0x17,             /*   secp256r1 */
    0x00, 0x0d,             /* extension type signature_algorithms (13) */
    0x00, 0x04,             /*   extension_data length 4 */
    0x00, 0x02,             /*   supported_signature_algorithms length 2 */
    0x08, 0x04,             /*   rsa_pss_rsae_sha256 */
    0x00, 0x33,             /* extension type key_share (51) */
    0x00, 0x0a,             /*   extension_data length 10 */
    0x00, 0x08,             /*   client_shares length 8 */
    0x00, 0x1d,             /*   group x25519 */
    0x00, 0x04,             /*   key_exchange length 4 */
    0xa1, 0xb2, 0xc3, 0xd4, /*   key_exchange (fake) */
    0x00, 0x2d,             /* extension type psk_key_exchange_modes (45) */
    0x00, 0x02,             /*   extension_data length 2 */
    0x01,                   /*   ke_modes length 1 */
    0x01,                   /*   psk_dhe_ke */
    0x00, 0x2b,             /* extension type supported_versions (43) */
    0x00, 0x07,             /*   extension_data length 7 */
    0x06,                   /*   versions length 6 */
    0x4a, 0x4a,             /*   GREASE */
    0x03, 0x04,             /*   TLS 1.3 */
    0x03, 0x03,             /*   TLS 1.2 */
};
/* clang-format on */

#define CH13_LOG                                                                                   \
    "CLIENT_HELLO legacy=0303 max=0304 sslv2=0 heartbeat=0 reneg=0 etm=0 ems=0 "                   \
    "ciphers=3a3a,1301,1302,1303 comp=00 groups=001d,0017 sigalgs=0804 sni=mail.example.com "      \
    "alpn= ja3=771,4865-4866-4867,0-10-13-51-45-43,29-23,\n"

/* The second ClientHello after a HelloRetryRequest: a secp256r1 key share. */
/* clang-format off */
static const uint8_t ch13_retry_body[] = {
    0x03, 0x03, /* legacy_version TLS 1.2 */
    CLIENT_RANDOM,
    0x20, /* legacy_session_id length 32 */
    SESSION_ID_32,
    0x00, 0x08, /* cipher_suites length 8 */
    0x3a, 0x3a, /*   GREASE */
    0x13, 0x01, /*   TLS_AES_128_GCM_SHA256 */
    0x13, 0x02, /*   TLS_AES_256_GCM_SHA384 */
    0x13, 0x03, /*   TLS_CHACHA20_POLY1305_SHA256 */
    0x01,       /* legacy_compression_methods length 1 */
    0x00,       /*   null */
    0x00, 0x4a, /* extensions length 74 */
    EXT_SNI_MAIL,
    0x00, 0x0a,             /* extension type supported_groups (10) */
    0x00, 0x06,             /*   extension_data length 6 */
    0x00, 0x04,             /*   named_group_list length 4 */
    0x00, 0x1d,             /*   x25519 */
    0x00, 0x17,             /*   secp256r1 */
    0x00, 0x0d,             /* extension type signature_algorithms (13) */
    0x00, 0x04,             /*   extension_data length 4 */
    0x00, 0x02,             /*   supported_signature_algorithms length 2 */
    0x08, 0x04,             /*   rsa_pss_rsae_sha256 */
    0x00, 0x33,             /* extension type key_share (51) */
    0x00, 0x0a,             /*   extension_data length 10 */
    0x00, 0x08,             /*   client_shares length 8 */
    0x00, 0x17,             /*   group secp256r1, as the server asked */
    0x00, 0x04,             /*   key_exchange length 4 */
    0xe5, 0xf6, 0x07, 0x18, /*   key_exchange (fake) */
    0x00, 0x2d,             /* extension type psk_key_exchange_modes (45) */
    0x00, 0x02,             /*   extension_data length 2 */
    0x01,                   /*   ke_modes length 1 */
    0x01,                   /*   psk_dhe_ke */
    0x00, 0x2b,             /* extension type supported_versions (43) */
    0x00, 0x07,             /*   extension_data length 7 */
    0x06,                   /*   versions length 6 */
    0x4a, 0x4a,             /*   GREASE */
    0x03, 0x04,             /*   TLS 1.3 */
    0x03, 0x03,             /*   TLS 1.2 */
};
/* clang-format on */

/* TLS 1.3 ServerHello (RFC 8446 §4.1.3): legacy 1.2, supported_versions 1.3. */
/* clang-format off */
static const uint8_t sh13_body[] = {
    0x03, 0x03, /* legacy_version TLS 1.2 */
    SERVER_RANDOM,
    0x20, /* legacy_session_id_echo length 32 */
    SESSION_ID_32,
    0x13, 0x01,             /* cipher_suite TLS_AES_128_GCM_SHA256 */
    0x00,                   /* legacy_compression_method null */
    0x00, 0x12,             /* extensions length 18 */
    0x00, 0x2b,             /* extension type supported_versions (43) */
    0x00, 0x02,             /*   extension_data length 2 */
    0x03, 0x04,             /*   selected_version TLS 1.3 */
    0x00, 0x33,             /* extension type key_share (51) */
    0x00, 0x08,             /*   extension_data length 8 */
    0x00, 0x1d,             /*   group x25519 */
    0x00, 0x04,             /*   key_exchange length 4 */
    0x3c, 0x4d, 0x5e, 0x6f, /*   key_exchange (fake) */
};
/* clang-format on */

#define SH13_LOG "SERVER_HELLO version=0304 cipher=1301 comp=0 sslv2=0 hrr=0 ja3s=771,4865,43-51\n"

/* The ServerHello that follows a HelloRetryRequest: secp256r1. */
/* clang-format off */
static const uint8_t sh13_after_hrr_body[] = {
    0x03, 0x03, /* legacy_version TLS 1.2 */
    SERVER_RANDOM,
    0x20, /* legacy_session_id_echo length 32 */
    SESSION_ID_32,
    0x13, 0x01,             /* cipher_suite TLS_AES_128_GCM_SHA256 */
    0x00,                   /* legacy_compression_method null */
    0x00, 0x12,             /* extensions length 18 */
    0x00, 0x2b,             /* extension type supported_versions (43) */
    0x00, 0x02,             /*   extension_data length 2 */
    0x03, 0x04,             /*   selected_version TLS 1.3 */
    0x00, 0x33,             /* extension type key_share (51) */
    0x00, 0x08,             /*   extension_data length 8 */
    0x00, 0x17,             /*   group secp256r1 */
    0x00, 0x04,             /*   key_exchange length 4 */
    0x7a, 0x8b, 0x9c, 0xad, /*   key_exchange (fake) */
};
/* clang-format on */

/* HelloRetryRequest (RFC 8446 §4.1.4): asks for a secp256r1 share. */
/* clang-format off */
static const uint8_t hrr_body[] = {
    0x03, 0x03, /* legacy_version TLS 1.2 */
    HRR_RANDOM,
    0x20, /* legacy_session_id_echo length 32 */
    SESSION_ID_32,
    0x13, 0x01, /* cipher_suite TLS_AES_128_GCM_SHA256 */
    0x00,       /* legacy_compression_method null */
    0x00, 0x0c, /* extensions length 12 */
    0x00, 0x2b, /* extension type supported_versions (43) */
    0x00, 0x02, /*   extension_data length 2 */
    0x03, 0x04, /*   selected_version TLS 1.3 */
    0x00, 0x33, /* extension type key_share (51) */
    0x00, 0x02, /*   extension_data length 2 */
    0x00, 0x17, /*   selected_group secp256r1 */
};
/* clang-format on */

#define HRR_LOG "SERVER_HELLO version=0304 cipher=1301 comp=0 sslv2=0 hrr=1 ja3s=771,4865,43-51\n"

/* ---- SSLv2 hellos (shared) ---- */
/* SSLv2 CLIENT-HELLO (draft-hickman §B): SSL 2.0, two SSLv2 cipher kinds. */
/* clang-format off */
static const uint8_t v2_client_hello[] = {
    0x01,             /* msg_type CLIENT-HELLO */
    0x00, 0x02,       /* version SSL 2.0 */
    0x00, 0x06,       /* cipher_specs length 6 */
    0x00, 0x00,       /* session_id length 0 */
    0x00, 0x10,       /* challenge length 16 */
    0x07, 0x00, 0xc0, /* SSL_CK_DES_192_EDE3_CBC_WITH_MD5 */
    0x01, 0x00, 0x80, /* SSL_CK_RC4_128_WITH_MD5 */
    0x2f, 0x8a, 0x11, 0xd6, 0x53, 0xe0, 0x7c, 0x94, /* challenge[0..7] */
    0x0b, 0xb5, 0x68, 0x3d, 0xf2, 0x41, 0x9e, 0x27, /* challenge[8..15] */
};
/* clang-format on */

/* SSLv2 SERVER-HELLO: X.509 certificate "leaf0", the cipher kind chosen. */
/* clang-format off */
static const uint8_t v2_server_hello[] = {
    0x04,                              /* msg_type SERVER-HELLO */
    0x00,                              /* session_id_hit 0 */
    0x01,                              /* certificate_type SSL_X509_CERTIFICATE */
    0x00, 0x02,                        /* server_version SSL 2.0 */
    0x00, 0x0c,                        /* certificate length 12 */
    0x00, 0x03,                        /* cipher_specs length 3 */
    0x00, 0x10,                        /* connection_id length 16 */
    0x30, 0x0a,                        /* certificate: SEQUENCE, length 10 */
    0x02, 0x01, 0x01,                  /*   INTEGER 1 */
    0x04, 0x05, 'l', 'e', 'a', 'f', '0', /*   OCTET STRING "leaf0" */
    0x07, 0x00, 0xc0,                  /* SSL_CK_DES_192_EDE3_CBC_WITH_MD5 */
    0xc4, 0x19, 0x7e, 0x30, 0xa5, 0x6b, 0xd2, 0x08, /* connection_id[0..7] */
    0x93, 0x4f, 0xe1, 0x2c, 0x76, 0xba, 0x05, 0x5d, /* connection_id[8..15] */
};
/* clang-format on */

/* An SSLv2-format CLIENT-HELLO offering TLS 1.0 (RFC 5246 §E.2): suites with
 * a zero first byte are TLS suites. */
/* clang-format off */
static const uint8_t v2_hello_tls10[] = {
    0x01,             /* msg_type CLIENT-HELLO */
    0x03, 0x01,       /* version TLS 1.0 */
    0x00, 0x09,       /* cipher_specs length 9 */
    0x00, 0x00,       /* session_id length 0 */
    0x00, 0x10,       /* challenge length 16 */
    0x01, 0x00, 0x80, /* SSL_CK_RC4_128_WITH_MD5 (SSLv2 kind) */
    0x00, 0x00, 0x2f, /* TLS_RSA_WITH_AES_128_CBC_SHA (47) */
    0x00, 0x00, 0x05, /* TLS_RSA_WITH_RC4_128_SHA (5) */
    0x2f, 0x8a, 0x11, 0xd6, 0x53, 0xe0, 0x7c, 0x94, /* challenge[0..7] */
    0x0b, 0xb5, 0x68, 0x3d, 0xf2, 0x41, 0x9e, 0x27, /* challenge[8..15] */
};
/* clang-format on */

#endif

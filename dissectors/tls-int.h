/*
 * tls-int.h — state shared by the TLS record layer (tls.c) and the
 * handshake parsers (tls-hs.c). Not for use outside dissectors/.
 */
#ifndef POSTCARD_TLS_INT_H
#define POSTCARD_TLS_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "dissector.h"

#define TLS_HS_MAX 32768  /* one handshake message kept whole; certificate chains fit */
#define TLS_HS_FIRST 1024 /* first size of a direction's handshake buffer (doubled on need) */
#define TLS_REC_MAX (16384 + 2048) /* RFC 5246 §6.2.3: TLSCiphertext.length limit */
#define TLS_JA3_MAX 4096           /* JA3 string; a ClientHello with ~500 suites still fits */

enum tls_rec {
    TLS_CT_CCS = 20,       /* change_cipher_spec */
    TLS_CT_ALERT = 21,     /* alert */
    TLS_CT_HANDSHAKE = 22, /* handshake */
    TLS_CT_APPDATA = 23,   /* application_data */
    TLS_CT_HEARTBEAT = 24, /* heartbeat (RFC 6520) */
};

struct tls_dir {
    uint8_t hdr[5];     /* record header being read */
    uint8_t hdr_len;    /* bytes of it read */
    uint8_t rec_type;   /* content type of the record being read */
    bool is_v2;         /* the record is an SSLv2 record (2-byte header) */
    bool is_started;    /* a first byte was seen in this direction */
    bool is_dead;       /* not TLS (any more): bytes are skipped */
    bool is_encrypted;  /* keys changed: records are opaque */
    bool seen_ccs;      /* ChangeCipherSpec sent */
    bool seen_finished; /* a handshake record after CCS (Finished), or TLS 1.3 encrypted data */
    bool hs_skipping;   /* an oversized handshake message is being skipped */
    uint8_t alert[2];   /* an alert split across records */
    uint8_t alert_len;  /* bytes of it */
    uint32_t rec_left;  /* payload bytes left in the record */
    uint32_t hs_skip;   /* bytes of the oversized message left to skip */
    uint32_t hs_len;    /* bytes in hs */
    uint32_t hs_cap;    /* bytes allocated for hs: grown on need, up to TLS_HS_MAX */
    uint8_t *hs;        /* handshake bytes not yet parsed (whole messages); NULL: none */
};

struct tls {
    struct tls_dir dir[2];  /* per direction (0 = client to server) */
    uint16_t version;       /* negotiated version, 0 until the ServerHello */
    uint16_t cipher;        /* negotiated suite */
    bool seen_client_hello; /* a ClientHello was parsed */
    bool seen_server_hello; /* a ServerHello (not HRR) was parsed */
    bool is_tls13;          /* TLS 1.3 was negotiated */
    bool seen_hrr;          /* a HelloRetryRequest was seen (TLS 1.3 follows) */
    bool done_sent;         /* EV_TLS_DONE was emitted */
    bool failed;            /* a fatal alert ended it */
    uint8_t n_certs;        /* certificates emitted */
    char ja3[TLS_JA3_MAX];  /* JA3 / JA3S string being built */
    uint8_t ciphers[1024];  /* SSLv2 hello's suites converted to 2-byte form */
};

void tls_hs_message(struct tls *t, enum dir d, uint8_t type, const uint8_t *body, uint32_t len,
                    const struct emitter *em);
void tls_v2_record(struct tls *t, enum dir d, const uint8_t *rec, uint32_t len,
                   const struct emitter *em);

#endif

/*
 * tlssess.h — one TLS session's facts (versions, suites, fingerprints,
 * alerts, certificates and their verdicts) folded from the TLS dissector's
 * events, and its "tls" record.
 */
#ifndef POSTCARD_TLSSESS_H
#define POSTCARD_TLSSESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/certcache.h"
#include "common.h"
#include "packet/flow.h"
#include "eve/json.h"
#include "sensor-limits.h"
#include "stats.h"
#include "app/x509.h"

struct tls_ctx {
    struct certcache *certs;  /* parsed certificates */
    struct x509_store *store; /* trust anchors, NULL if none could be loaded */
    struct stats *st;         /* run counters */
};

struct tls_cert_fact {
    bool parsed;           /* OpenSSL could parse it */
    uint32_t der_len;      /* its size */
    struct x509_info info; /* its facts */
};

struct tls_cert_verdict {
    bool expired, not_yet_valid; /* packet time outside notBefore..notAfter */
    bool weak_key;               /* RSA/DSA < 2048 bits, EC < 224 */
    bool validity_too_long;      /* leaf valid for more than 398 days */
    int8_t name_mismatch;        /* leaf: 1 or 0; -1 when there was no name to check */
    int8_t trusted;              /* 1 or 0; -1 when no trust store was loaded */
    int64_t days_left;           /* whole days from packet time to notAfter */
};

struct tls_session {
    void *dstate;          /* TLS dissector state; freed once the handshake is over */
    int from_proto;        /* enum proto it was upgraded from, -1 for none */
    bool seen_ch, seen_sh; /* hellos seen */
    bool is_sslv2_hello;   /* the client used an SSLv2-format hello */
    bool is_sslv2;         /* the server answered in SSLv2 */
    bool is_done;          /* the dissector said the handshake is over */
    bool complete;         /* ... and it completed */
    bool hrr;              /* a HelloRetryRequest was seen */
    bool has_heartbeat, has_reneg, has_etm, has_ems; /* client extensions */
    uint16_t client_version;                         /* ClientHello.legacy_version */
    uint16_t client_max;                             /* highest version offered */
    uint16_t version;                                /* negotiated */
    uint32_t cipher;                                 /* negotiated suite (SSLv2: cipher kind) */
    uint8_t compression;                             /* compression method */
    uint16_t dh_bits, group;                         /* ephemeral key exchange */
    bool alert_seen;                                 /* an alert was seen */
    bool alert_encrypted;                            /* ... after the keys changed */
    uint8_t alert_level, alert_desc;                 /* the first alert */
    uint8_t alert_dir;                               /* who sent it (0 client, 1 server) */
    bool fatal_alert;                                /* a fatal alert in clear */
    bool not_tls;                                    /* bytes that were not TLS were seen */
    bool certs_judged;                               /* verdicts are set (the chain ended) */
    bool facts_changed;                   /* a fact the rules read changed (cleared by them) */
    uint32_t anomalies;                   /* dissector anomalies */
    uint8_t n_groups, n_sig_algs, n_comp; /* entries in the lists below */
    uint16_t groups[32];                  /* supported_groups offered (first 32, GREASE included) */
    uint16_t sig_algs[32];                /* signature_algorithms offered (first 32) */
    uint8_t comp[8];                      /* compression methods offered */
    char sni[256];                        /* server_name */
    char alpn[64];                        /* first ALPN protocol */
    char ja3_hash[33];                    /* MD5 of ja3 */
    char ja3s_hash[33];                   /* MD5 of ja3s */
    char *ja3;                            /* JA3 string (allocated) */
    char *ja3s;                           /* JA3S string (allocated) */
    pc_time cert_time;                    /* packet time of the certificate message */
    uint8_t n_certs;                      /* certificates kept */
    uint8_t n_certs_seen;                 /* certificates sent */
    struct tls_cert_fact certs[TLS_CERTS_MAX]; /* the chain as sent */
    struct x509_cert *refs[TLS_CERTS_MAX];     /* for the trust check */
    char expect_host[256]; /* the name the server gave in its mail greeting, or "" */
    bool is_closed;        /* the flow ended: facts are final (but for what a cut left open) */
    bool is_midstream;     /* its flow was picked up mid-way: its start was not seen */
    bool is_cut;           /* its flow was evicted before it ended: set before close */
    bool is_chain_cut;     /* the certificate chain was judged at the cut, not at its end */
    /* set at the ServerHello (or HelloRetryRequest), and again by tls_session_close */
    bool has_sh;             /* a version and suite were chosen (ServerHello or HRR) */
    bool certs_encrypted;    /* TLS 1.3: certificates not visible */
    uint16_t weak;           /* the suite's enum tls_weakness bits */
    const char *cipher_name; /* the suite's name (static, or cipher_hex) */
    char cipher_hex[8];      /* "0x1234" for a suite without a name */
    struct tls_cert_verdict verdicts[TLS_CERTS_MAX]; /* per certificate */
};

/* expect_host: the name the server gave in its mail greeting (for the certificate's name
 * check when the client sent no SNI), or NULL. */
struct tls_session *tls_session_new(int from_proto, const char *expect_host);
void tls_session_free(struct tls_session *ts);

void tls_session_data(struct tls_session *ts, struct tls_ctx *ctx, int dir, const uint8_t *p,
                      size_t n, pc_time now);
void tls_session_gap(struct tls_session *ts, struct tls_ctx *ctx, int dir, uint64_t n);

/* Is the handshake over (so the flow's bytes need no more work)? */
bool tls_session_is_over(const struct tls_session *ts);

/* Did the handshake succeed (for the STARTTLS verdict)? */
bool tls_session_succeeded(const struct tls_session *ts);

/* Is it certain already that the handshake cannot succeed (a fatal alert in clear, bytes that
 * are not TLS, a handshake that ended unfinished)? */
bool tls_session_failed(const struct tls_session *ts);

/* The flow ended: finish the dissector and judge the certificates (at the time they were
 * seen) if their chain never ended. False when no TLS was seen after all (then there is no
 * record and no facts). A session whose flow was evicted has is_cut set first: a handshake
 * in progress is then not taken to have ended unfinished. */
bool tls_session_close(struct tls_session *ts, struct tls_ctx *ctx);
/* The "tls" object, as a member of the record being built in j. an: --anonymize, or NULL:
 * the names of the server's certificate and the SNI are dropped (docs/anonymize.md). */
struct anon;
void tls_session_write(const struct tls_session *ts, const struct anon *an, struct jbuf *j);
/* The whole "tls" record. */
struct eve_ctx;
void tls_session_record(const struct tls_session *ts, const struct flow *f,
                        const struct eve_ctx *ec, struct jbuf *j);

const char *tls_version_name(uint16_t v, char *buf, size_t n);

#endif

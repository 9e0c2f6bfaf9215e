/*
 * event.h — what the dissectors tell the sensor. Spans point into the bytes
 * being fed (or the dissector's state) and are valid only during emit().
 * Secrets never appear in an event: a login carries its mechanism, the user
 * name and whether a secret was sent readable, never the secret.
 */
#ifndef POSTCARD_EVENT_H
#define POSTCARD_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum dir {
    DIR_TO_SERVER = 0, /* client → server */
    DIR_TO_CLIENT = 1, /* server → client */
};

struct span {
    const uint8_t *p; /* first byte (not NUL-terminated) */
    size_t n;         /* length */
};

enum login_result {
    LOGIN_UNKNOWN, /* no answer seen */
    LOGIN_SUCCESS, /* 235 / +OK / tagged OK */
    LOGIN_FAILURE, /* 535 / -ERR / NO / BAD, or cancelled */
};

enum ev_anomaly {
    EVA_LINE_TOO_LONG,    /* a line over DISSECT_LINE_MAX: discarded to the next LF */
    EVA_GAP,              /* bytes missing from the stream: resynchronising */
    EVA_BAD_REPLY,        /* a server line that is not a reply of this protocol */
    EVA_BAD_BASE64,       /* a SASL response that is not base64 */
    EVA_TOO_MANY_PENDING, /* more pipelined commands than tracked */
    EVA_BAD_LITERAL,      /* an IMAP literal length that is not a number */
    EVA_TLS_NOT_TLS,      /* bytes that are not a TLS record: the direction is given up */
    EVA_TLS_BAD_LENGTH,   /* a length field that lies (past its record or message) */
    EVA_TLS_HS_TOO_BIG,   /* a handshake message larger than TLS_HS_MAX: skipped */
    EVA_COUNT
};

enum ev_type {
    EV_GREETING,         /* server's first line: text */
    EV_CAPA,             /* one capability the server advertised: name, args */
    EV_CAPA_END,         /* a capability listing is complete */
    EV_HELO,             /* SMTP EHLO/HELO: text = the client's name */
    EV_STARTTLS,         /* the client asked for TLS (STARTTLS / STLS) */
    EV_STARTTLS_REPLY,   /* the server answered: ok, text = the reply line */
    EV_UPGRADE,          /* TLS starts here: later bytes are not this protocol */
    EV_LOGIN,            /* a login attempt ended: login.* */
    EV_MAIL_FROM,        /* SMTP MAIL FROM: text = the path */
    EV_RCPT_TO,          /* SMTP RCPT TO: text = the path */
    EV_MESSAGE,          /* a message crossed the wire: bytes */
    EV_ANOMALY,          /* anomaly */
    EV_TLS_CLIENT_HELLO, /* tls_ch */
    EV_TLS_SERVER_HELLO, /* tls_sh */
    EV_TLS_CERT,         /* cert: one certificate of the server's chain (TLS <= 1.2, SSLv2) */
    EV_TLS_KEX,          /* kex: the server's ephemeral key exchange parameters */
    EV_TLS_ALERT,        /* alert */
    EV_TLS_DONE,         /* the handshake is over: done.complete says whether it succeeded */
    EV_COMMAND,          /* a client command that carries the session on in clear (not a
                          * capability request, STARTTLS, EHLO/HELO or a no-op): text = verb */
    EV_LOGIN_SENT,       /* the client's credentials crossed the wire: login.* with result
                          * LOGIN_UNKNOWN; the EV_LOGIN of the same attempt follows */
    EV_TLS_CERTS_END,    /* the server's Certificate message ended: its chain is complete */
};

struct ev_tls_ch {
    uint16_t legacy_version; /* ClientHello.legacy_version (or the SSLv2 hello's version) */
    uint16_t max_version;    /* highest version offered (supported_versions, RFC 8446 §4.2.1) */
    bool is_sslv2;           /* an SSLv2-format CLIENT-HELLO */
    bool has_heartbeat;      /* RFC 6520 extension */
    bool has_reneg_info;     /* RFC 5746 extension or SCSV */
    bool has_etm;            /* RFC 7366 encrypt_then_mac */
    bool has_ems;            /* RFC 7627 extended_master_secret */
    uint16_t n_ciphers;      /* suites offered */
    struct span ciphers;     /* the suites, 2 bytes each, big-endian (SSLv2: converted) */
    struct span sni;         /* server_name (host_name), may be empty */
    struct span alpn;        /* first ALPN protocol, may be empty */
    struct span ja3;         /* JA3 string (fingerprint input), without GREASE */
    struct span compression; /* compression methods offered, 1 byte each */
    struct span groups;      /* supported_groups (RFC 8422 §5.1.1), 2 bytes each */
    struct span sig_algs;    /* signature_algorithms (RFC 8446 §4.2.3), 2 bytes each */
};

struct ev_tls_sh {
    uint16_t version;    /* negotiated (supported_versions for TLS 1.3; 0x0002 for SSLv2) */
    uint32_t cipher;     /* suite (SSLv2: 3-byte cipher kind) */
    uint8_t compression; /* compression method (0 = none) */
    bool is_sslv2;       /* an SSLv2 SERVER-HELLO */
    bool is_hrr;         /* a HelloRetryRequest (RFC 8446 §4.1.3) */
    struct span ja3s;    /* JA3S string */
};

struct ev_login {
    struct span mech;         /* "PLAIN", "LOGIN", "USER", "APOP", ... */
    struct span user;         /* user name (authcid), may be empty */
    bool has_secret;          /* a password or token was sent */
    bool secret_readable;     /* it was readable on the wire (PLAIN, LOGIN, USER/PASS, tokens) */
    bool is_token;            /* the secret is a bearer token (XOAUTH2, OAUTHBEARER) */
    bool is_command;          /* a protocol command (POP3 USER/PASS, IMAP LOGIN), not SASL */
    enum login_result result; /* the server's answer */
    struct span reply;        /* the server's answer line, if any */
};

struct event {
    enum ev_type type; /* which member is valid */
    enum dir dir;      /* direction of the bytes that produced it */
    union {
        struct span text; /* GREETING, HELO, MAIL_FROM, RCPT_TO, COMMAND */
        struct {
            struct span name; /* capability keyword, as sent */
            struct span args; /* the rest of its line */
        } capa;               /* CAPA */
        struct {
            bool ok;             /* accepted */
            struct span line;    /* the reply line */
        } reply;                 /* STARTTLS_REPLY */
        struct ev_login login;   /* LOGIN, LOGIN_SENT */
        uint64_t bytes;          /* MESSAGE: bytes of the message */
        enum ev_anomaly anomaly; /* ANOMALY */
        struct ev_tls_ch tls_ch; /* TLS_CLIENT_HELLO */
        struct ev_tls_sh tls_sh; /* TLS_SERVER_HELLO */
        struct {
            struct span der; /* the certificate, DER */
            uint8_t index;   /* position in the chain (0 = leaf) */
        } cert;              /* TLS_CERT */
        struct {
            uint16_t dh_bits; /* finite-field DH prime size in bits, 0 if not DH */
            uint16_t group;   /* named group (RFC 8422 §5.4), 0 if not ECDH */
        } kex;                /* TLS_KEX */
        struct {
            uint8_t level;     /* 1 warning, 2 fatal (0 if encrypted) */
            uint8_t desc;      /* RFC 8446 §6 AlertDescription (0 if encrypted) */
            bool is_encrypted; /* sent after the keys changed: content unknown */
        } alert;               /* TLS_ALERT */
        struct {
            bool complete; /* both sides finished the handshake */
        } done;            /* TLS_DONE */
    } u;
};

const char *ev_anomaly_name(enum ev_anomaly a);

#endif

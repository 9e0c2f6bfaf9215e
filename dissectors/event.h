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
    EVA_LINE_TOO_LONG,   /* a line over DISSECT_LINE_MAX: discarded to the next LF */
    EVA_GAP,             /* bytes missing from the stream: resynchronising */
    EVA_BAD_REPLY,       /* a server line that is not a reply of this protocol */
    EVA_BAD_BASE64,      /* a SASL response that is not base64 */
    EVA_TOO_MANY_PENDING,/* more pipelined commands than tracked */
    EVA_BAD_LITERAL,     /* an IMAP literal length that is not a number */
    EVA_COUNT
};

enum ev_type {
    EV_GREETING,       /* server's first line: text */
    EV_CAPA,           /* one capability the server advertised: name, args */
    EV_CAPA_END,       /* a capability listing is complete */
    EV_HELO,           /* SMTP EHLO/HELO: text = the client's name */
    EV_STARTTLS,       /* the client asked for TLS (STARTTLS / STLS) */
    EV_STARTTLS_REPLY, /* the server answered: ok, text = the reply line */
    EV_UPGRADE,        /* TLS starts here: later bytes are not this protocol */
    EV_LOGIN,          /* a login attempt ended: login.* */
    EV_MAIL_FROM,      /* SMTP MAIL FROM: text = the path */
    EV_RCPT_TO,        /* SMTP RCPT TO: text = the path */
    EV_MESSAGE,        /* a message crossed the wire: bytes */
    EV_ANOMALY,        /* anomaly */
};

struct ev_login {
    struct span mech;        /* "PLAIN", "LOGIN", "USER", "APOP", ... */
    struct span user;        /* user name (authcid), may be empty */
    bool has_secret;         /* a password or token was sent */
    bool secret_readable;    /* it was readable on the wire (PLAIN, LOGIN, USER/PASS, tokens) */
    bool is_token;           /* the secret is a bearer token (XOAUTH2, OAUTHBEARER) */
    bool is_command;         /* a protocol command (POP3 USER/PASS, IMAP LOGIN), not SASL */
    enum login_result result; /* the server's answer */
    struct span reply;       /* the server's answer line, if any */
};

struct event {
    enum ev_type type; /* which member is valid */
    enum dir dir;      /* direction of the bytes that produced it */
    union {
        struct span text;          /* GREETING, HELO, MAIL_FROM, RCPT_TO */
        struct {
            struct span name;      /* capability keyword, as sent */
            struct span args;      /* the rest of its line */
        } capa;                    /* CAPA */
        struct {
            bool ok;               /* accepted */
            struct span line;      /* the reply line */
        } reply;                   /* STARTTLS_REPLY */
        struct ev_login login;     /* LOGIN */
        uint64_t bytes;            /* MESSAGE: bytes of the message */
        enum ev_anomaly anomaly;   /* ANOMALY */
    } u;
};

const char *ev_anomaly_name(enum ev_anomaly a);

#endif

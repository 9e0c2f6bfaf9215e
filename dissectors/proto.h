/*
 * proto.h — postcard's vocabulary, each word defined once: the protocols a flow may carry,
 * the mail ports and their class (RFC 8314 §3), the outcomes of STARTTLS. The dissectors,
 * the sensor, the summary, the report and the rule engine all use these enums; the names
 * written in records and accepted in rules are the tables of proto.c. Libc only.
 */
#ifndef POSTCARD_PROTO_H
#define POSTCARD_PROTO_H

#include <stdbool.h>
#include <stdint.h>

/* What a flow carries. The mail protocols come first, so that they index tables of their own
 * ([PROTO_MAIL_COUNT]) and the rule language's protocols (rules.h) are the same numbers. */
enum proto {
    PROTO_SMTP,    /* RFC 5321 */
    PROTO_POP3,    /* RFC 1939 */
    PROTO_IMAP,    /* RFC 9051 */
    PROTO_TLS,     /* TLS or SSL from the first byte */
    PROTO_OTHER,   /* something nDPI named that is neither mail nor TLS */
    PROTO_UNKNOWN, /* not decided yet, or never */
    PROTO_COUNT
};
#define PROTO_MAIL_COUNT 3 /* SMTP, POP3, IMAP */

/* "smtp", "pop3", "imap", "tls", "other", "unknown" */
extern const char *const proto_names[PROTO_COUNT];

static inline bool proto_is_mail(unsigned p)
{
    return p < PROTO_MAIL_COUNT;
}

/* "smtp" ...; "unknown" for a value out of range */
const char *proto_name(unsigned p);

/* What a port is for (RFC 8314 §3: relay, submission with STARTTLS, mail access with STARTTLS,
 * implicit TLS). */
enum port_class {
    PORT_CLASS_RELAY,        /* 25 */
    PORT_CLASS_SUBMISSION,   /* 587 */
    PORT_CLASS_ACCESS,       /* 110, 143 */
    PORT_CLASS_IMPLICIT_TLS, /* 465, 993, 995 */
    PORT_CLASS_OTHER,        /* any other port */
    PORT_CLASS_COUNT
};

/* "relay", "submission", "access", "implicit-tls", "other" */
extern const char *const port_class_names[PORT_CLASS_COUNT];

/* One well-known mail port. */
struct mail_port {
    uint16_t port;        /* the TCP port */
    enum proto proto;     /* the mail protocol spoken there */
    enum port_class cls;  /* what it is for */
    bool is_implicit_tls; /* TLS from the first byte (RFC 8314) */
};

/* The mail port, or NULL when port is none. */
const struct mail_port *mail_port_find(uint16_t port);

/* The class of a port (PORT_CLASS_OTHER for one that is not a mail port). */
enum port_class port_class_of(uint16_t port);

/* What became of STARTTLS in a mail session (the record's mail.starttls). */
enum starttls_outcome {
    STARTTLS_IMPLICIT,       /* TLS from the first byte: nothing to upgrade */
    STARTTLS_UPGRADED,       /* asked, accepted, handshake completed */
    STARTTLS_FAILED,         /* asked, and no completed handshake followed */
    STARTTLS_REFUSED,        /* asked, and the server said no */
    STARTTLS_STRIPPED,       /* the offer was removed or mangled on the way */
    STARTTLS_OFFERED_UNUSED, /* offered, never asked for */
    STARTTLS_NOT_OFFERED,    /* never offered */
    STARTTLS_UNKNOWN,        /* the part of the session seen does not show it (cut, mid-way) */
    STARTTLS_OUTCOME_COUNT
};

/* "implicit", "upgraded", "failed", "refused", "stripped", "offered-unused", "not-offered",
 * "unknown" */
extern const char *const starttls_outcome_names[STARTTLS_OUTCOME_COUNT];

#endif

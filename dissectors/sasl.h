/*
 * sasl.h — what a SASL exchange (RFC 4422) reveals: the mechanism, the user
 * name and whether a secret crossed the wire readable. The secret itself is
 * looked at only to know that it is there, and is never kept.
 */
#ifndef POSTCARD_SASL_H
#define POSTCARD_SASL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dissector.h"
#include "event.h"

#define SASL_USER_MAX 256 /* longest user name kept; longer ones are cut */
#define SASL_MECH_MAX 32  /* longest mechanism name kept (RFC 4422 §3.1 allows 20) */

enum sasl_mech {
    SASL_OTHER,       /* unknown mechanism: no user, no readable secret */
    SASL_PLAIN,       /* RFC 4616: authzid NUL authcid NUL passwd */
    SASL_LOGIN,       /* draft-murchison-sasl-login: user, then password */
    SASL_CRAM_MD5,    /* RFC 2195: "user hexdigest" */
    SASL_DIGEST_MD5,  /* RFC 2831: username="..." */
    SASL_SCRAM,       /* RFC 5802: "n,,n=user,r=..." */
    SASL_XOAUTH2,     /* Google/Microsoft: user=..^Aauth=Bearer ..^A^A */
    SASL_OAUTHBEARER, /* RFC 7628: n,a=user,^Aauth=Bearer ..^A^A */
    SASL_ANONYMOUS,   /* RFC 4505: trace information only */
};

struct sasl {
    uint8_t mech;                     /* enum sasl_mech */
    uint8_t steps;                    /* client responses seen */
    bool is_active;                   /* an exchange is in progress */
    bool is_cancelled;                /* the client answered "*" */
    bool has_secret;                  /* a password or token was sent */
    bool secret_readable;             /* and it was readable */
    bool is_token;                    /* it was a bearer token */
    bool is_sent;                     /* EV_LOGIN_SENT was emitted for this exchange */
    uint8_t mech_len;                 /* bytes in mech_name */
    uint16_t user_len;                /* bytes in user */
    uint8_t mech_name[SASL_MECH_MAX]; /* mechanism as sent, upper-cased */
    uint8_t user[SASL_USER_MAX];      /* user name */
};

/* AUTH/AUTHENTICATE mech: start an exchange. */
void sasl_begin(struct sasl *s, struct span mech);

/* One client response (base64, or "=" for empty, or "*" to cancel).
 * Returns false if it is not base64 (the caller reports an anomaly). */
bool sasl_response(struct sasl *s, struct span b64);

/* Fill a login event from the exchange (spans point into s). */
void sasl_login(const struct sasl *s, struct ev_login *l);

/*
 * The login ended with result r (the server's answer `reply`): emit EV_LOGIN
 * and close the exchange. `command` names a protocol command (POP3 "USER",
 * "APOP", IMAP "LOGIN") that replaces the SASL mechanism, or is NULL.
 */
void sasl_emit_login(struct sasl *s, const char *command, enum login_result r, struct span reply,
                     const struct emitter *em);

/*
 * The credentials of the exchange crossed the wire: emit EV_LOGIN_SENT (result
 * LOGIN_UNKNOWN), once per exchange, as soon as a secret was sent. `command` as for
 * sasl_emit_login. Nothing when no secret was sent (yet): that login is known at its answer.
 */
void sasl_emit_sent(struct sasl *s, const char *command, const struct emitter *em);

/* Set a plain user name (POP3 USER, IMAP LOGIN), cut to SASL_USER_MAX. */
void sasl_set_user(struct sasl *s, struct span user);

/* Decode base64 (RFC 4648 §4) into out; returns bytes written, or -1 if invalid.
 * Decodes at most `max` bytes and ignores the rest (still checked). */
long b64_decode(struct span in, uint8_t *out, size_t max);

#endif

/*
 * session.h — one mail session's facts, folded from dissector events, and
 * its verdict record ("event_type":"mail") when the flow ends.
 */
#ifndef POSTCARD_SESSION_H
#define POSTCARD_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dissector.h"
#include "proto.h"
#include "packet/flow.h"
#include "eve/json.h"
#include "sensor-limits.h"
#include "stats.h"
#include "app/tlssess.h"

struct fact_text {
    uint16_t n;                 /* bytes used */
    char s[SESSION_TEXT_BYTES]; /* text (not NUL-terminated) */
};

struct cap_text {
    uint8_t n;                 /* bytes used */
    char s[SESSION_CAP_BYTES]; /* capability line (not NUL-terminated) */
};

struct login_fact {
    char mech[24];         /* mechanism, NUL-terminated */
    struct fact_text user; /* user name */
    bool cleartext;        /* a secret was readable on the wire */
    bool is_token;         /* the secret was a bearer token */
    bool is_command;       /* POP3 USER/PASS or IMAP LOGIN */
    bool is_pending;       /* the credentials were sent, the answer is still to come */
    uint8_t result;        /* enum login_result */
};

/* Servers that offered STARTTLS earlier in the run (to see it disappear). */
struct starttls_memory;
struct starttls_memory *starttls_memory_new(void);
void starttls_memory_free(struct starttls_memory *m);

struct session {
    const struct dissector *d;        /* SMTP, POP3 or IMAP; NULL for implicit TLS */
    void *dstate;                     /* the dissector's state (allocated with the session) */
    uint8_t proto;                    /* enum proto: PROTO_SMTP, _POP3 or _IMAP */
    bool is_implicit;                 /* TLS from the first byte */
    bool is_upgraded;                 /* STARTTLS accepted: bytes are TLS from here */
    bool starttls_requested;          /* STARTTLS / STLS sent */
    bool starttls_reply_seen;         /* the server answered it */
    bool starttls_ok;                 /* the answer was positive */
    bool caps_seen;                   /* a capability listing was seen in clear */
    bool is_valid;                    /* the protocol was recognised in the bytes */
    bool offers_starttls;             /* it listed STARTTLS / STLS */
    bool starttls_mangled;            /* it listed an X-ed out STARTTLS */
    bool stripped_by_history;         /* this server offered it before, not now */
    bool login_disabled;              /* IMAP LOGINDISABLED advertised */
    bool login_disabled_violated;     /* and the client sent LOGIN in clear */
    bool client_started;              /* the client's first bytes were looked at */
    bool is_closed;                   /* the flow ended: the dissector was finished */
    bool went_on;                     /* the client carried the session on in clear */
    bool has_pending;                 /* logins[n_logins - 1] waits for its answer */
    bool pending_dropped;             /* an attempt past SESSION_MAX_LOGINS waits for it */
    bool facts_changed;               /* a fact the rules read changed (cleared by them) */
    bool is_midstream;                /* its flow was picked up mid-way: its start not seen */
    bool is_tls_port;                 /* on an implicit-TLS port: TLS from the first byte */
    bool is_cut;                      /* its flow was evicted before it ended: set before close */
    uint8_t n_caps;                   /* entries in caps */
    uint8_t n_logins;                 /* entries in logins */
    uint8_t n_rcpt;                   /* entries in rcpt */
    uint32_t logins_dropped;          /* attempts past SESSION_MAX_LOGINS */
    uint32_t cleartext_messages;      /* messages moved with no TLS in effect */
    uint64_t cleartext_message_bytes; /* their bytes */
    uint32_t anomalies;               /* dissector anomalies */
    size_t buf_len[2];                /* unconsumed bytes per direction */
    struct fact_text greeting;        /* the server's first line */
    struct fact_text starttls_reply;  /* its answer to STARTTLS */
    struct fact_text helo;            /* SMTP EHLO/HELO name */
    struct fact_text mail_from;       /* SMTP MAIL FROM (the first) */
    struct fact_text rcpt[SESSION_MAX_RCPT];      /* SMTP RCPT TO */
    struct cap_text caps[SESSION_MAX_CAPS];       /* capabilities before TLS */
    struct login_fact logins[SESSION_MAX_LOGINS]; /* login attempts */
    uint8_t *buf[2]; /* unconsumed bytes per direction, allocated when first needed */
};

/* A mail session on flow f, for proto (or implicit TLS). */
struct session *session_new(enum proto proto, bool is_implicit);
void session_free(struct session *ss);

/* Reassembled bytes of direction dir (0 = to server). */
void session_data(struct session *ss, struct starttls_memory *mem, const struct flow *f, int dir,
                  const uint8_t *p, size_t n, struct stats *st);
void session_gap(struct session *ss, struct starttls_memory *mem, const struct flow *f, int dir,
                 uint64_t n, struct stats *st);

/* The flow ended: finish the dissector. False when the bytes were not this
 * protocol after all (then there is no record and no facts). A session whose flow was
 * evicted has is_cut set first: what only its missing end would have settled stays unknown. */
bool session_close(struct session *ss, struct starttls_memory *mem, const struct flow *f,
                   struct stats *st);
/* The "mail" object (and EVE's "smtp" one) as members of the record being built in j.
 * ts: the TLS session on the same flow (closed), or NULL. an: --anonymize, or NULL: user
 * names and mail addresses dropped or hashed, host names dropped, the STARTTLS reply cut to
 * its status (docs/anonymize.md). */
struct anon;
void session_write(const struct session *ss, const struct flow *f, const struct tls_session *ts,
                   const struct anon *an, struct jbuf *j);
/* The whole "mail" record. */
struct eve_ctx;
void session_record(const struct session *ss, const struct flow *f, const struct tls_session *ts,
                    const struct eve_ctx *ec, struct jbuf *j);
const char *session_proto_name(const struct session *ss);

/* What became of STARTTLS; ts: the TLS session that followed an accepted STARTTLS, or NULL.
 * STARTTLS_UNKNOWN when the part of the session seen does not show it: cut before it was
 * settled, or picked up mid-way with no capability listing (or with TLS already running). */
enum starttls_outcome session_starttls(const struct session *ss, const struct tls_session *ts);

/* Is session_starttls() settled before the session ends (docs/detections.md says at which
 * packet each outcome is)? True once the session is closed, unless it was cut. */
bool session_starttls_settled(const struct session *ss, const struct tls_session *ts);

/* The host name the server gave in its greeting, if it looks like one (else NULL). */
const char *session_server_name(const struct session *ss, char *buf, size_t n);

#endif

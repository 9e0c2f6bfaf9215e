/*
 * classify.h — what application a flow carries: a port hint, the first
 * bytes each side sends, and nDPI (the only file that includes nDPI's
 * headers is classify.c).
 */
#ifndef POSTCARD_CLASSIFY_H
#define POSTCARD_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "packet/decode.h"
#include "proto.h"
#include "stats.h"

enum class_by {
    BY_NONE,    /* nothing decided */
    BY_PORT,    /* the port alone */
    BY_CONTENT, /* the first bytes of the stream */
    BY_NDPI,    /* nDPI's verdict */
};

/* Per-flow classification state. */
struct classify {
    uint8_t app;          /* enum proto: postcard's verdict */
    uint8_t by;           /* enum class_by: what decided it */
    uint8_t port_hint;    /* enum proto suggested by a well-known mail port */
    uint8_t ndpi_app;     /* enum proto that nDPI's answer maps to */
    bool is_ndpi_done;    /* nDPI answered or gave up; its state is freed */
    bool is_sniffed[2];   /* first bytes of each direction examined */
    bool client_first;    /* the client sent payload before the server did */
    uint8_t ndpi_pkts;    /* packets given to nDPI */
    uint16_t ndpi_master; /* nDPI master protocol id */
    uint16_t ndpi_proto;  /* nDPI application protocol id */
    void *ndpi_flow;      /* nDPI flow state while it is being fed */
};

struct classifier;

struct classifier *classifier_new(struct stats *st, struct err *e);
void classifier_free(struct classifier *cl);

/* A new flow: set the port hint. */
void classify_init(struct classify *c, uint16_t client_port, uint16_t server_port);

/* Feed one packet of the flow to nDPI until it decides (then frees its state). */
void classify_packet(struct classifier *cl, struct classify *c, const struct pkt *pk);

/* The first reassembled bytes of a direction (0 = client→server). */
void classify_stream_start(struct classify *c, int dir, const uint8_t *p, size_t n);

/* The flow ends: let nDPI guess if it has not decided, and free its state. */
void classify_end(struct classifier *cl, struct classify *c, const struct pkt *last);

/* Is this a flow postcard analyses further (mail, or TLS on a mail port)? */
bool classify_is_mail_or_tls(const struct classify *c);

/* Has the verdict settled enough to stop looking at this flow's bytes? */
bool classify_is_settled(const struct classify *c);

/* The app_proto string for output: postcard's own for mail/TLS, else nDPI's name. */
const char *classify_app_name(const struct classifier *cl, const struct classify *c, char *buf,
                              size_t n);

/* nDPI's own name for the flow ("TLS.Google", "Unknown"). */
const char *classify_ndpi_name(const struct classifier *cl, const struct classify *c, char *buf,
                               size_t n);

/* Do these first bytes of a stream start TLS (a record header or an SSLv2 hello)? */
bool classify_bytes_are_tls(const uint8_t *p, size_t n);

/* Well-known mail port → the app it suggests (PROTO_UNKNOWN if none). */
enum proto classify_port_app(uint16_t port);
bool classify_port_implicit_tls(uint16_t port);

#endif

/*
 * flow.h — the flow table: bidirectional 5-tuple → flow, with idle timeouts
 * per class (measured from a flow's last packet time), a hard cap and, when
 * it is full, eviction by value: the least recently seen flow of the lowest
 * eviction class goes first.
 */
#ifndef POSTCARD_FLOW_H
#define POSTCARD_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "packet/classify.h"
#include "common.h"
#include "lru.h"
#include "packet/decode.h"
#include "packet/reasm.h"

enum flow_tc {                     /* timeout class: one LRU list each */
               FLOW_TC_TCP_NEW,    /* no data exchange established yet */
               FLOW_TC_TCP_OPEN,   /* established or picked up mid-stream */
               FLOW_TC_TCP_CLOSED, /* FIN both ways, or RST */
               FLOW_TC_UDP,        /* UDP */
               FLOW_TC_COUNT
};

/*
 * Eviction class: what a flow is worth keeping when the table is full. A class only rises
 * (the caller raises it with flow_raise); a full table evicts from the lowest class that has
 * a flow, the least recently seen first [FLOW-EVICT-BY-VALUE].
 */
enum flow_evc {
    FLOW_EVC_EMBRYONIC, /* no payload, no completed handshake: all a spoofed packet can make */
    FLOW_EVC_OTHER,     /* payload or a completed handshake, but no two-sided mail/TLS session */
    FLOW_EVC_SESSION,   /* a mail or TLS session with bytes from both sides */
    FLOW_EVC_COUNT
};

enum flow_end {
    FLOW_END_TIMEOUT,  /* idle past its class's timeout */
    FLOW_END_EVICTED,  /* pushed out because the table was full */
    FLOW_END_SHUTDOWN, /* end of capture or signal */
    FLOW_END_REUSED,   /* a new SYN reused the tuple of a closed flow */
};

struct session;     /* app/session.h */
struct tls_session; /* app/tlssess.h */
struct alert_state; /* detect/alerts.h */

struct flow {
    uint8_t cli[16];            /* client address (IPv4 in the first 4 bytes) */
    uint8_t srv[16];            /* server address */
    uint16_t cport, sport;      /* client and server ports */
    uint8_t ipver;              /* 4 or 6 */
    uint8_t proto;              /* 6 TCP, 17 UDP */
    uint8_t tc;                 /* enum flow_tc: its timeout class */
    uint8_t evc;                /* enum flow_evc: its eviction class (tc and evc: its list) */
    bool is_midstream;          /* TCP whose first packet had no SYN: its start was not seen */
    uint8_t tcp_flags[2];       /* TCP flags seen, per direction (0 = to server) */
    bool has_rst;               /* an RST was seen */
    bool is_bypassed;           /* of no interest: no more reassembly */
    bool is_app_decided;        /* whether it is a mail session has been decided */
    uint8_t proxy;              /* HTTP CONNECT tunnel state (sensor.c) */
    uint8_t proxy_eoh[2];       /* bytes of CRLFCRLF matched per direction */
    bool is_used;               /* slot holds a live flow */
    bool has_client_isn;        /* client_isn is known */
    uint32_t client_isn;        /* sequence number of the client's SYN */
    uint32_t hash;              /* bucket hash (seeded) */
    uint64_t flow_id;           /* stable id for output (not seeded) */
    struct flow *hnext;         /* next in hash bucket */
    struct lru_node lru;        /* place in the LRU list of its (evc, tc) */
    pc_time first, last;        /* packet times of the first and last packet */
    uint64_t pkts[2];           /* packets per direction */
    uint64_t bytes[2];          /* wire bytes per direction */
    struct classify cls;        /* application classification */
    struct reasm_dir rd[2];     /* TCP reassembly per direction */
    struct session *app;        /* mail session, or NULL */
    struct tls_session *tls;    /* TLS session, or NULL */
    struct alert_state *alerts; /* what the rules decided for its session so far, or NULL */
};

typedef void (*flow_end_fn)(void *ctx, struct flow *f, enum flow_end why);

struct flow_table;

/* max_flows: hard cap; seed: per-run hash seed; on_end: called before a slot is reused. */
struct flow_table *flow_table_new(size_t max_flows, uint64_t seed, flow_end_fn on_end, void *ctx);
/* The longest bucket chain (flows that share a bucket): what a hash flood would lengthen. */
size_t flow_table_longest_chain(const struct flow_table *ft);
void flow_table_free(struct flow_table *ft);

/*
 * The flow of packet pk, created if new (when the table is full, evicting the least recently
 * seen flow of the lowest eviction class first). *dir is 0 if pk goes client→server, 1
 * otherwise. A new flow is FLOW_EVC_EMBRYONIC; a TCP one whose first packet has no SYN is
 * is_midstream.
 */
struct flow *flow_lookup(struct flow_table *ft, const struct pkt *pk, int *dir, bool *is_new);

/* Mark the flow active at packet time now, in timeout class tc. */
void flow_touch(struct flow_table *ft, struct flow *f, enum flow_tc tc, pc_time now);

/* The flow is worth more from now on: eviction class evc, above its present one. It keeps
 * its place in time (call it at the packet that raised it, after flow_touch). */
void flow_raise(struct flow_table *ft, struct flow *f, enum flow_evc evc);

/* Flows of class tc end after us microseconds without a packet (default: sensor-limits.h). */
void flow_table_set_timeout(struct flow_table *ft, enum flow_tc tc, pc_time us);

/*
 * End the flows idle for longer than their class's timeout at time now: packet time reading
 * a file, the wall clock live (a flow whose last packet is later than now is not idle). At
 * most FLOW_EXPIRE_BATCH flows per call, oldest first; returns how many ended.
 */
size_t flow_expire(struct flow_table *ft, pc_time now);

/* End every flow (end of capture). Oldest first (equal times: by timeout class, then by
 * eviction class), so output is deterministic. */
void flow_end_all(struct flow_table *ft);

size_t flow_table_count(const struct flow_table *ft);

#endif

/*
 * decode.h — a view of one packet: link layer → IPv4/IPv6 → TCP/UDP.
 *
 * The view points into the packet's bytes (no copy) or, for a datagram
 * rebuilt from fragments, into the defragmenter's buffer; either way it
 * is valid until the next call.
 */
#ifndef POSTCARD_DECODE_H
#define POSTCARD_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "stats.h"

/* Link types postcard reads (values are libpcap's DLT_/LINKTYPE_ numbers). */
enum link_type {
    LINK_NULL = 0,   /* BSD loopback, family in host order of the writer */
    LINK_EN10MB = 1, /* Ethernet II, with 802.1Q/802.1ad tags */
    LINK_RAW = 101,  /* raw IP, version from the first nibble (LINKTYPE_RAW) */
    LINK_LOOP = 108, /* OpenBSD loopback, family in network order */
    LINK_SLL = 113,  /* Linux cooked v1 */
    LINK_IPV4 = 228, /* raw IPv4 */
    LINK_IPV6 = 229, /* raw IPv6 */
    LINK_SLL2 = 276, /* Linux cooked v2 (tcpdump -i any) */
};

/* DLT_RAW is 12 or 14 on some systems; libpcap maps file LINKTYPE_RAW to it. */
#define LINK_DLT_RAW_ALT1 12
#define LINK_DLT_RAW_ALT2 14

bool decode_link_supported(int link);

enum decode_status {
    DEC_OK,        /* pkt describes a TCP or UDP packet */
    DEC_NOT_IP,    /* ARP and the like: counted, ignored */
    DEC_OTHER_L4,  /* IP but not TCP/UDP (ICMP, ...): counted, ignored */
    DEC_FRAG_HELD, /* a fragment kept for reassembly: nothing to do yet */
    DEC_ANOMALY,   /* damaged: the anomaly was counted */
};

struct pkt {
    pc_time ts;              /* packet time */
    uint8_t ipver;           /* 4 or 6 */
    uint8_t l4;              /* IPPROTO_TCP or IPPROTO_UDP */
    uint8_t src[16];         /* source address (IPv4 in the first 4 bytes) */
    uint8_t dst[16];         /* destination address */
    uint16_t sport, dport;   /* ports */
    uint32_t seq, ack;       /* TCP sequence and acknowledgement numbers */
    uint8_t tcp_flags;       /* TCP flags byte (FIN 0x01 SYN 0x02 RST 0x04 ACK 0x10) */
    const uint8_t *l3;       /* IP header, for nDPI */
    size_t l3_len;           /* bytes available from l3 to the end of the datagram */
    const uint8_t *payload;  /* L4 payload as captured */
    size_t payload_len;      /* captured payload bytes */
    size_t payload_wire_len; /* payload bytes on the wire (> payload_len if cut by snaplen) */
    size_t wire_len;         /* whole frame on the wire */
    bool from_fragments;     /* rebuilt by the defragmenter */
};

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10

struct defrag;

struct decoder {
    struct defrag *defrag; /* IP fragment reassembly state */
    struct stats *st;      /* where anomalies are counted */
    int tunnel_depth;      /* tunnels opened for the current packet */
};

int decoder_init(struct decoder *d, struct stats *st, struct err *e);
void decoder_free(struct decoder *d);

/* Decode one captured frame of link type `link`. */
enum decode_status decode_packet(struct decoder *d, int link, const uint8_t *p, size_t caplen,
                                 size_t wirelen, pc_time ts, struct pkt *out);

/* Decode from the IP header on (used by the defragmenter and by tests). */
enum decode_status decode_ip(struct decoder *d, const uint8_t *p, size_t caplen, pc_time ts,
                             struct pkt *out);

#endif

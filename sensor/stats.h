/*
 * stats.h — run-wide counters: packets, bytes, anomalies by kind, flow
 * table events, and live the kernel's capture counters (read from
 * pcap_stats, their 32-bit wraps unrolled). One instance per run, passed by
 * pointer (no globals).
 */
#ifndef POSTCARD_STATS_H
#define POSTCARD_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Anomalies: hostile or damaged input, counted, never fatal. */
#define ANOMALY_LIST(X)                                                                            \
    X(AN_L2_TRUNCATED, "l2-truncated")               /* link header cut short */                   \
    X(AN_VLAN_TOO_DEEP, "vlan-too-deep")             /* more tags than VLAN_MAX_DEPTH */           \
    X(AN_IP_TRUNCATED, "ip-truncated")               /* IP header cut short */                     \
    X(AN_IP_BAD_VERSION, "ip-bad-version")           /* version nibble not 4/6 */                  \
    X(AN_IP_BAD_HLEN, "ip-bad-header-length")        /* IHL < 5 or past the packet */              \
    X(AN_IP_BAD_LEN, "ip-bad-total-length")          /* total length < header */                   \
    X(AN_IP_SNAPLEN_CUT, "ip-cut-by-snaplen")        /* datagram longer than captured */           \
    X(AN_IP6_EXT_TOO_MANY, "ipv6-too-many-ext")      /* > IPV6_MAX_EXT_HDRS */                     \
    X(AN_IP6_EXT_TRUNCATED, "ipv6-ext-truncated")    /* extension header past the end */           \
    X(AN_FRAG_OVERLAP, "frag-overlap")               /* fragments disagree (RFC 5722) */           \
    X(AN_FRAG_TOO_BIG, "frag-too-big")               /* reassembly > 65535 bytes */                \
    X(AN_FRAG_TOO_MANY, "frag-too-many")             /* > DEFRAG_MAX_FRAGS pieces */               \
    X(AN_FRAG_TABLE_FULL, "frag-table-full")         /* oldest datagram dropped */                 \
    X(AN_FRAG_TIMEOUT, "frag-timeout")               /* datagram never completed */                \
    X(AN_TCP_TRUNCATED, "tcp-truncated")             /* TCP header cut short */                    \
    X(AN_TCP_BAD_OFFSET, "tcp-bad-data-offset")      /* data offset < 5 or past the end */         \
    X(AN_UDP_TRUNCATED, "udp-truncated")             /* UDP header cut short */                    \
    X(AN_UDP_BAD_LEN, "udp-bad-length")              /* UDP length disagrees with IP */            \
    X(AN_REASM_DIR_CAP, "reasm-direction-cap")       /* out-of-order bytes past the cap */         \
    X(AN_REASM_GLOBAL_CAP, "reasm-global-cap")       /* the reassembly pool ran dry */             \
    X(AN_REASM_GAP, "reasm-gap")                     /* bytes never seen, handed as gap */         \
    X(AN_REASM_OVERLAP_DIFF, "reasm-overlap-diff")   /* a retransmission changed bytes */          \
    X(AN_REASM_OUT_OF_WINDOW, "reasm-out-of-window") /* segment far from the stream */             \
    X(AN_CAPTURE_TRUNCATED, "capture-truncated")     /* the file ended mid-packet */

enum anomaly {
#define X(id, name) id,
    ANOMALY_LIST(X)
#undef X
        AN_COUNT
};

const char *anomaly_name(enum anomaly a);

/*
 * The kernel's capture counters (pcap_stats). On Linux, recv counts every packet the filter
 * took, those dropped for want of room in the capture buffer included, so drop <= recv.
 */
struct kcounts {
    uint64_t recv;   /* packets received: ps_recv */
    uint64_t drop;   /* dropped, the buffer was full: ps_drop */
    uint64_t ifdrop; /* dropped by the interface: ps_ifdrop */
};

struct stats {
    uint64_t packets;             /* packets read from all sources */
    uint64_t bytes;               /* wire bytes of those packets */
    uint64_t ip_packets;          /* packets with an IPv4/IPv6 header */
    uint64_t non_ip;              /* ARP, LLDP, ... : not our business */
    uint64_t tcp_packets;         /* TCP segments decoded */
    uint64_t udp_packets;         /* UDP datagrams decoded */
    uint64_t other_l4;            /* ICMP and the rest: counted, skipped */
    uint64_t frags;               /* IP fragments seen */
    uint64_t frag_reassembled;    /* datagrams rebuilt from fragments */
    uint64_t flows_created;       /* flows opened */
    uint64_t flows_ended;         /* flows closed, timed out or flushed */
    uint64_t flows_evicted;       /* flows pushed out by the table cap */
    uint64_t flows_evicted_by[3]; /* of which, by enum flow_evc (embryonic, other, session) */
    uint64_t flows_bypassed;      /* flows classified as of no interest */
    uint64_t reasm_bytes;         /* bytes delivered in order to consumers */
    uint64_t ndpi_flows;          /* flows given to nDPI */
    uint64_t ndpi_skipped;        /* flows not given to nDPI: its cap was reached */
    struct kcounts kernel;        /* live: the kernel's counters since the capture started */
    struct kcounts kernel_raw;    /* live: pcap_stats as last read (32 bits, wrapping) */
    uint64_t anomalies[AN_COUNT]; /* counted hostile/damaged input */
    uint64_t mail_anomalies[16];  /* dissector anomalies, by enum ev_anomaly */
    uint64_t mail_sessions;       /* mail sessions ended: one per mail record, written or not */
    uint64_t tls_sessions;        /* TLS sessions ended: one per tls record, written or not */
    uint64_t mail_sessions_cut;   /* of the mail sessions, those whose flow was evicted */
    uint64_t tls_sessions_cut;    /* of the TLS sessions, those whose flow was evicted */
};

/*
 * cur - prev of a counter kept modulo 2^32, as libpcap keeps pcap_stats' (struct pcap_stat
 * has u_int members, 32 bits wide on every platform it runs on). Exact as long as the counter
 * advanced by less than 2^32 between the two readings [STATS-KERNEL-WRAP].
 */
uint64_t counter_delta32(uint64_t prev, uint64_t cur);

/* A reading of pcap_stats (raw, as read): the totals in st->kernel advance by what it adds to
 * the previous reading (st->kernel_raw, zero before the first: libpcap starts from zero). */
void stats_kernel_sample(struct stats *st, const struct kcounts *raw);

/* a - b, member by member (a taken later than b). */
struct kcounts kcounts_sub(const struct kcounts *a, const struct kcounts *b);

/* part / whole, 0 when whole is 0. */
double share_of(uint64_t part, uint64_t whole);

/* Did the kernel drop more than percent % of the packets in d (percent 0: never said)? */
bool kcounts_drops_over(const struct kcounts *d, double percent);

static inline void stats_anomaly(struct stats *st, enum anomaly a)
{
    st->anomalies[a]++;
}

#endif

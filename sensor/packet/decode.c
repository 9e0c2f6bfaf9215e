/*
 * decode.c — link layer, IPv4/IPv6 and TCP/UDP headers of one packet.
 *
 *   frame ─▶ link (Ethernet+VLANs | SLL | SLL2 | NULL/LOOP | RAW)
 *         ─▶ IPv4 (RFC 791, options skipped) | IPv6 (RFC 8200, extension headers)
 *         ─▶ fragment? ─▶ defrag.c ─▶ rebuilt datagram decoded again
 *         ─▶ TCP (RFC 9293) | UDP (RFC 768) | other (counted, skipped)
 *
 * All reads go through cursor.h; nothing is cast to a struct. A frame cut by
 * the snaplen is decoded as far as its bytes go: the payload is shortened
 * and payload_wire_len says how long it really was, so reassembly can hand
 * the missing part on as a gap.
 *
 * Hazards: [DEC-L2-SHORT] [DEC-VLAN-LOOP] [DEC-IHL] [DEC-TOTLEN] [DEC-SNAPLEN]
 *          [DEC-IP6-EXT] [DEC-TCP-OFF] [DEC-UDP-LEN] [DEC-FRAG-CUT] [DEC-TUNNEL-DEPTH]
 */
#include "packet/decode.h"

#include <string.h>

#include "cursor.h"
#include "packet/defrag.h"
#include "sensor-limits.h"

#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86dd
#define ETH_VLAN 0x8100
#define ETH_QINQ 0x88a8
#define ETH_QINQ_OLD 0x9100

bool decode_link_supported(int link)
{
    switch (link) {
    case LINK_NULL:
    case LINK_EN10MB:
    case LINK_RAW:
    case LINK_DLT_RAW_ALT1:
    case LINK_DLT_RAW_ALT2:
    case LINK_LOOP:
    case LINK_SLL:
    case LINK_IPV4:
    case LINK_IPV6:
    case LINK_SLL2:
        return true;
    default:
        return false;
    }
}

int decoder_init(struct decoder *d, struct stats *st, struct err *e)
{
    (void)e;
    d->st = st;
    d->defrag = defrag_new(st);
    return 0;
}

void decoder_free(struct decoder *d)
{
    defrag_free(d->defrag);
    d->defrag = NULL;
}

static enum decode_status anomaly(struct decoder *d, enum anomaly a)
{
    stats_anomaly(d->st, a);
    return DEC_ANOMALY;
}

/* L4 on top of an IP payload. `c` covers the captured payload; `wire` is its
 * length on the wire. */
static enum decode_status decode_ip_wire(struct decoder *d, const uint8_t *p, size_t caplen,
                                         size_t wire_avail, struct pkt *out);
static enum decode_status decode_ethertype(struct decoder *d, uint16_t type, struct cursor c,
                                           size_t wire_avail, struct pkt *out);

/*
 * Tunnels, so that mail inside them is seen as tshark and Suricata see it:
 * IP-in-IP (RFC 2003, 4213), GRE (RFC 2784/2890), VXLAN (RFC 7348) and
 * GTPv1-U (3GPP TS 29.281). A header that does not parse leaves the outer
 * packet as it is. [DEC-TUNNEL-DEPTH]
 */
static bool tunnel_enter(struct decoder *d)
{
    if (d->tunnel_depth >= TUNNEL_MAX_DEPTH)
        return false;
    d->tunnel_depth++;
    return true;
}

static enum decode_status decode_gre(struct decoder *d, struct cursor c, size_t wire,
                                     struct pkt *out)
{
    uint16_t fl = cur_be16(&c);
    uint16_t type = cur_be16(&c);
    if ((fl & 0x0007) != 0) /* version 0 only (1 is PPTP's enhanced GRE) */
        return DEC_OTHER_L4;
    size_t opt = ((fl & 0x8000) ? 4 : 0) + ((fl & 0x2000) ? 4 : 0) + ((fl & 0x1000) ? 4 : 0);
    cur_skip(&c, opt);
    if (c.bad || wire < 4 + opt)
        return DEC_OTHER_L4;
    wire -= 4 + opt;
    if (type == 0x6558) { /* transparent Ethernet bridging */
        cur_skip(&c, 12);
        type = cur_be16(&c);
        if (c.bad || wire < 14)
            return DEC_OTHER_L4;
        wire -= 14;
    }
    if (type != ETH_IPV4 && type != ETH_IPV6 && type != ETH_VLAN && type != ETH_QINQ)
        return DEC_OTHER_L4;
    if (!tunnel_enter(d))
        return DEC_OTHER_L4;
    return decode_ethertype(d, type, c, wire, out);
}

/* UDP tunnels; DEC_NOT_IP means "not a tunnel after all". */
static enum decode_status decode_udp_tunnel(struct decoder *d, struct cursor c, size_t wire,
                                            struct pkt *out)
{
    if (out->sport == 2152 || out->dport == 2152) { /* GTPv1-U */
        uint8_t fl = cur_u8(&c);
        uint8_t type = cur_u8(&c);
        cur_skip(&c, 6);                                  /* length, TEID */
        if (c.bad || (fl & 0xf0) != 0x30 || type != 0xff) /* version 1, GTP, G-PDU */
            return DEC_NOT_IP;
        size_t hl = 8;
        if (fl & 0x07) { /* sequence number, N-PDU and next extension type */
            cur_skip(&c, 3);
            uint8_t next = cur_u8(&c);
            hl += 4;
            for (int n = 0; next != 0 && n < 8; n++) { /* extension headers, 4-byte units */
                uint8_t units = cur_u8(&c);
                if (c.bad || units == 0)
                    return DEC_NOT_IP;
                cur_skip(&c, (size_t)units * 4 - 2);
                next = cur_u8(&c);
                hl += (size_t)units * 4;
            }
            if (next != 0)
                return DEC_NOT_IP;
        }
        uint8_t v = cur_peek(&c, 0) >> 4;
        if (c.bad || wire < hl || (v != 4 && v != 6) || !tunnel_enter(d))
            return DEC_NOT_IP;
        return decode_ip_wire(d, c.p, c.left, wire - hl, out);
    }
    if (out->dport == 4789) { /* VXLAN: flags (I set), reserved, VNI, reserved */
        uint8_t fl = cur_u8(&c);
        cur_skip(&c, 7 + 12);
        uint16_t type = cur_be16(&c);
        if (c.bad || (fl & 0x08) == 0 || wire < 22 || !tunnel_enter(d))
            return DEC_NOT_IP;
        if (type != ETH_IPV4 && type != ETH_IPV6 && type != ETH_VLAN && type != ETH_QINQ)
            return DEC_NOT_IP;
        return decode_ethertype(d, type, c, wire - 22, out);
    }
    return DEC_NOT_IP;
}

static enum decode_status decode_l4(struct decoder *d, uint8_t proto, struct cursor c, size_t wire,
                                    struct pkt *out)
{
    out->l4 = proto;
    if ((proto == 4 || proto == 41) && tunnel_enter(d)) /* IP in IP */
        return decode_ip_wire(d, c.p, c.left, wire, out);
    if (proto == 47)
        return decode_gre(d, c, wire, out);
    if (proto == IPPROTO_TCP_) {
        struct cursor h = c;
        out->sport = cur_be16(&h);
        out->dport = cur_be16(&h);
        out->seq = cur_be32(&h);
        out->ack = cur_be32(&h);
        uint8_t off = cur_u8(&h) >> 4;
        out->tcp_flags = cur_u8(&h);
        if (h.bad)
            return anomaly(d, AN_TCP_TRUNCATED);
        size_t hlen = (size_t)off * 4;
        if (off < 5 || hlen > wire) /* [DEC-TCP-OFF] RFC 9293 §3.1 */
            return anomaly(d, AN_TCP_BAD_OFFSET);
        if (hlen > c.left)
            return anomaly(d, AN_TCP_TRUNCATED);
        d->st->tcp_packets++;
        out->payload = c.p + hlen;
        out->payload_len = c.left - hlen;
        out->payload_wire_len = wire - hlen;
        return DEC_OK;
    }
    if (proto == IPPROTO_UDP_) {
        struct cursor h = c;
        out->sport = cur_be16(&h);
        out->dport = cur_be16(&h);
        uint16_t ulen = cur_be16(&h);
        cur_skip(&h, 2); /* checksum: the header is 8 bytes */
        if (h.bad)
            return anomaly(d, AN_UDP_TRUNCATED);
        if (ulen < 8 || ulen > wire) /* [DEC-UDP-LEN] RFC 768 */
            return anomaly(d, AN_UDP_BAD_LEN);
        struct cursor inner = cur_make(c.p + 8, c.left > 8 ? c.left - 8 : 0);
        enum decode_status t = decode_udp_tunnel(d, inner, (size_t)ulen - 8, out);
        if (t != DEC_NOT_IP)
            return t;
        out->l4 = proto;
        d->st->udp_packets++;
        out->payload = c.p + 8;
        out->payload_len = (c.left < ulen ? c.left : ulen) - 8;
        out->payload_wire_len = (size_t)ulen - 8;
        return DEC_OK;
    }
    d->st->other_l4++;
    return DEC_OTHER_L4;
}

static enum decode_status decode_ipv4(struct decoder *d, struct cursor c, size_t wire_avail,
                                      struct pkt *out)
{
    const uint8_t *l3 = c.p;
    uint8_t vihl = cur_u8(&c);
    cur_skip(&c, 1);
    uint16_t totlen = cur_be16(&c);
    uint16_t id = cur_be16(&c);
    uint16_t frag = cur_be16(&c);
    cur_skip(&c, 1);
    uint8_t proto = cur_u8(&c);
    cur_skip(&c, 2);
    cur_copy(&c, out->src, 4);
    cur_copy(&c, out->dst, 4);
    if (c.bad)
        return anomaly(d, AN_IP_TRUNCATED);
    size_t hlen = (size_t)(vihl & 0x0f) * 4;
    size_t caplen = c.left + 20;
    if (hlen < 20 || hlen > caplen) /* [DEC-IHL] RFC 791 §3.1 */
        return anomaly(d, AN_IP_BAD_HLEN);
    if (totlen < hlen || totlen > wire_avail) /* [DEC-TOTLEN] */
        return anomaly(d, AN_IP_BAD_LEN);
    cur_skip(&c, hlen - 20); /* options */
    out->ipver = 4;
    out->l3 = l3;
    bool cut = totlen > caplen;
    if (cut) /* [DEC-SNAPLEN] */
        stats_anomaly(d->st, AN_IP_SNAPLEN_CUT);
    out->l3_len = cut ? caplen : totlen;
    struct cursor pl = cur_make(c.p, out->l3_len - hlen);
    size_t pl_wire = totlen - hlen;

    bool more = (frag & 0x2000) != 0;
    size_t off = (size_t)(frag & 0x1fff) * 8;
    if (more || off != 0) {
        d->st->frags++;
        if (cut) /* [DEC-FRAG-CUT] a cut fragment cannot be rebuilt */
            return DEC_ANOMALY;
        struct defrag_key k = {.ipver = 4, .proto = proto, .id = id};
        memcpy(k.src, out->src, 16);
        memcpy(k.dst, out->dst, 16);
        defrag_expire(d->defrag, out->ts);
        const uint8_t *dg;
        size_t dg_len;
        if (!defrag_add(d->defrag, &k, out->ts, l3, hlen, pl.p, pl.left, off, more, &dg, &dg_len))
            return DEC_FRAG_HELD;
        d->st->frag_reassembled++;
        enum decode_status r = decode_ip(d, dg, dg_len, out->ts, out);
        out->from_fragments = true;
        return r;
    }
    return decode_l4(d, proto, pl, pl_wire, out);
}

static bool ip6_is_ext(uint8_t nh)
{
    return nh == 0 || nh == 43 || nh == 44 || nh == 60 || nh == 51 || nh == 135 || nh == 139 ||
           nh == 140;
}

static enum decode_status decode_ipv6(struct decoder *d, struct cursor c, size_t wire_avail,
                                      struct pkt *out)
{
    const uint8_t *l3 = c.p;
    cur_skip(&c, 4);
    uint16_t plen = cur_be16(&c);
    uint8_t nh = cur_u8(&c);
    cur_skip(&c, 1);
    cur_copy(&c, out->src, 16);
    cur_copy(&c, out->dst, 16);
    if (c.bad)
        return anomaly(d, AN_IP_TRUNCATED);
    if ((size_t)plen + 40 > wire_avail) /* [DEC-TOTLEN] (jumbograms are not for mail) */
        return anomaly(d, AN_IP_BAD_LEN);
    out->ipver = 6;
    out->l3 = l3;
    bool cut = plen > c.left;
    if (cut) /* [DEC-SNAPLEN] */
        stats_anomaly(d->st, AN_IP_SNAPLEN_CUT);
    size_t have = cut ? c.left : plen;
    out->l3_len = 40 + have;
    struct cursor pl = cur_make(c.p, have);
    size_t wire = plen;

    for (int n = 0; ip6_is_ext(nh); n++) { /* [DEC-IP6-EXT] RFC 8200 §4 */
        if (n >= IPV6_MAX_EXT_HDRS)
            return anomaly(d, AN_IP6_EXT_TOO_MANY);
        struct cursor h = pl;
        uint8_t next = cur_u8(&h);
        uint8_t hlen8 = cur_u8(&h);
        if (h.bad)
            return anomaly(d, AN_IP6_EXT_TRUNCATED);
        size_t len = nh == 51 ? ((size_t)hlen8 + 2) * 4 : ((size_t)hlen8 + 1) * 8;
        if (nh == 44) {
            len = 8;
            uint16_t offm = cur_be16(&h);
            uint32_t id = cur_be32(&h);
            if (h.bad || len > wire)
                return anomaly(d, AN_IP6_EXT_TRUNCATED);
            size_t off = (size_t)(offm >> 3) * 8;
            bool more = (offm & 1) != 0;
            if (off == 0 && !more) { /* RFC 6946 atomic fragment: not really one */
                cur_skip(&pl, len);
                wire -= len;
                nh = next;
                continue;
            }
            d->st->frags++;
            if (cut) /* [DEC-FRAG-CUT] */
                return DEC_ANOMALY;
            cur_skip(&pl, len);
            wire -= len;
            struct defrag_key k = {.ipver = 6, .proto = next, .id = id};
            memcpy(k.src, out->src, 16);
            memcpy(k.dst, out->dst, 16);
            defrag_expire(d->defrag, out->ts);
            const uint8_t *dg;
            size_t dg_len;
            if (!defrag_add(d->defrag, &k, out->ts, l3, 40, pl.p, pl.left, off, more, &dg, &dg_len))
                return DEC_FRAG_HELD;
            d->st->frag_reassembled++;
            enum decode_status r = decode_ip(d, dg, dg_len, out->ts, out);
            out->from_fragments = true;
            return r;
        }
        if (len > wire)
            return anomaly(d, AN_IP6_EXT_TRUNCATED);
        if (len > pl.left) /* header itself cut by the snaplen */
            return anomaly(d, AN_IP6_EXT_TRUNCATED);
        cur_skip(&pl, len);
        wire -= len;
        nh = next;
    }
    return decode_l4(d, nh, pl, wire, out);
}

static enum decode_status decode_ip_wire(struct decoder *d, const uint8_t *p, size_t caplen,
                                         size_t wire_avail, struct pkt *out)
{
    struct cursor c = cur_make(p, caplen);
    uint8_t v = cur_peek(&c, 0) >> 4;
    if (caplen == 0)
        return anomaly(d, AN_IP_TRUNCATED);
    d->st->ip_packets++;
    if (v == 4)
        return decode_ipv4(d, c, wire_avail, out);
    if (v == 6)
        return decode_ipv6(d, c, wire_avail, out);
    return anomaly(d, AN_IP_BAD_VERSION);
}

enum decode_status decode_ip(struct decoder *d, const uint8_t *p, size_t caplen, pc_time ts,
                             struct pkt *out)
{
    out->ts = ts;
    return decode_ip_wire(d, p, caplen, caplen, out);
}

/* Ethertype dispatch shared by Ethernet, SLL and SLL2, with VLAN tags. */
static enum decode_status decode_ethertype(struct decoder *d, uint16_t type, struct cursor c,
                                           size_t wire_avail, struct pkt *out)
{
    for (int depth = 0; type == ETH_VLAN || type == ETH_QINQ || type == ETH_QINQ_OLD; depth++) {
        if (depth >= VLAN_MAX_DEPTH) /* [DEC-VLAN-LOOP] */
            return anomaly(d, AN_VLAN_TOO_DEEP);
        cur_skip(&c, 2); /* PCP, DEI, VID */
        type = cur_be16(&c);
        if (c.bad)
            return anomaly(d, AN_L2_TRUNCATED);
        wire_avail -= 4;
    }
    if (type == ETH_IPV4 || type == ETH_IPV6)
        return decode_ip_wire(d, c.p, c.left, wire_avail, out);
    d->st->non_ip++;
    return DEC_NOT_IP;
}

static uint32_t bsd_family(struct cursor *c, int link)
{
    uint32_t be = cur_be32(c);
    if (link == LINK_LOOP)
        return be;
    /* DLT_NULL: host order of the writer; a family is small, so the order
     * whose value fits in 16 bits is the right one. */
    uint32_t le = (be >> 24) | ((be >> 8) & 0xff00) | ((be << 8) & 0xff0000) | (be << 24);
    return be <= 0xffff ? be : le;
}

enum decode_status decode_packet(struct decoder *d, int link, const uint8_t *p, size_t caplen,
                                 size_t wirelen, pc_time ts, struct pkt *out)
{
    memset(out, 0, sizeof *out);
    out->ts = ts;
    out->wire_len = wirelen;
    d->tunnel_depth = 0;
    if (wirelen < caplen)
        wirelen = caplen;
    struct cursor c = cur_make(p, caplen);
    size_t hdr;
    switch (link) {
    case LINK_EN10MB: {
        cur_skip(&c, 12);
        uint16_t type = cur_be16(&c);
        if (c.bad) /* [DEC-L2-SHORT] */
            return anomaly(d, AN_L2_TRUNCATED);
        if (type < 0x0600) { /* IEEE 802.3 length: LLC frames, not IP */
            d->st->non_ip++;
            return DEC_NOT_IP;
        }
        return decode_ethertype(d, type, c, wirelen - 14, out);
    }
    case LINK_SLL: {
        cur_skip(&c, 14);
        uint16_t type = cur_be16(&c);
        if (c.bad)
            return anomaly(d, AN_L2_TRUNCATED);
        return decode_ethertype(d, type, c, wirelen - 16, out);
    }
    case LINK_SLL2: {
        uint16_t type = cur_be16(&c);
        cur_skip(&c, 18);
        if (c.bad)
            return anomaly(d, AN_L2_TRUNCATED);
        return decode_ethertype(d, type, c, wirelen - 20, out);
    }
    case LINK_NULL:
    case LINK_LOOP: {
        uint32_t fam = bsd_family(&c, link);
        if (c.bad)
            return anomaly(d, AN_L2_TRUNCATED);
        hdr = 4;
        if (fam == 2)
            return decode_ip_wire(d, c.p, c.left, wirelen - hdr, out);
        if (fam == 10 || fam == 24 || fam == 28 || fam == 30)
            return decode_ip_wire(d, c.p, c.left, wirelen - hdr, out);
        d->st->non_ip++;
        return DEC_NOT_IP;
    }
    case LINK_RAW:
    case LINK_DLT_RAW_ALT1:
    case LINK_DLT_RAW_ALT2:
    case LINK_IPV4:
    case LINK_IPV6:
        return decode_ip_wire(d, p, caplen, wirelen, out);
    default:
        d->st->non_ip++;
        return DEC_NOT_IP;
    }
}

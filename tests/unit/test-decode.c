/*
 * test-decode.c — decode_packet() on frames built
 * here, header field by header field (no struct casts over packet bytes).
 *
 * Every frame is copied into a buffer of exactly its captured length before
 * it is decoded, so ASan catches any read past the capture. For DEC_OK the
 * view must lie inside the captured bytes (or, for a rebuilt datagram,
 * inside the rebuilt datagram) and agree with what was built.
 */
#include "decode-frames.h"

/* ---- well-formed frames ------------------------------------------------- */

TEST(ethernet_ipv4_tcp_with_payload)
{
    struct dec x;
    dec_init(&x);
    struct frame f = {.n = 0};
    eth(&f, ETH_IPV4);
    ip4_tcp(&f, 5);
    ASSERT_EQ(dec_whole(&x, LINK_EN10MB, &f), DEC_OK);
    assert_ip4_tcp(&x);
    ASSERT(x.pk.l3 == x.cap + 14);
    ASSERT_EQ(x.pk.l3_len, 20 + 20 + strlen(smtp_line));
    ASSERT(x.pk.payload == x.cap + 54);
    ASSERT_EQ(x.pk.wire_len, f.n);
    ASSERT_EQ(x.pk.ts, 1700000000123456LL);
    ASSERT_EQ(x.st.ip_packets, 1);
    ASSERT_EQ(x.st.tcp_packets, 1);
    dec_free(&x);
}

TEST(ethernet_padding_is_not_payload)
{
    struct dec x;
    dec_init(&x);
    struct frame f = {.n = 0};
    eth(&f, ETH_IPV4);
    size_t ip = ip4_begin(&f, 6, 5, 1, 0);
    tcp_hdr(&f, 25, 25000, 7, 8, TCP_ACK, TCP_HDR_WORDS);
    ip4_end(&f, ip);
    while (f.n < 60)
        put8(&f, 0); /* Ethernet minimum frame */
    ASSERT_EQ(dec_whole(&x, LINK_EN10MB, &f), DEC_OK);
    ASSERT_EQ(x.pk.payload_len, 0);
    ASSERT_EQ(x.pk.payload_wire_len, 0);
    ASSERT_EQ(x.pk.l3_len, 40);
    ASSERT_EQ(anomalies(&x.st), 0);
    dec_free(&x);
}

TEST(ipv4_options_are_skipped)
{
    static const unsigned ihls[] = {6, 8, 15};
    for (size_t i = 0; i < sizeof ihls / sizeof ihls[0]; i++) {
        struct dec x;
        dec_init(&x);
        struct frame f = {.n = 0};
        eth(&f, ETH_IPV4);
        ip4_tcp(&f, ihls[i]);
        ASSERT_EQ(dec_whole(&x, LINK_EN10MB, &f), DEC_OK);
        assert_ip4_tcp(&x);
        ASSERT(x.pk.payload == x.cap + 14 + ihls[i] * 4 + 20);
        dec_free(&x);
    }
}

TEST(tcp_options_are_skipped)
{
    struct dec x;
    dec_init(&x);
    struct frame f = {.n = 0};
    size_t ip = ip4_begin(&f, 6, 5, 1, 0);
    tcp_hdr(&f, 25000, 25, 1000, 2000, TCP_ACK | TCP_PSH, 15); /* 40 bytes of options */
    put_str(&f, smtp_line);
    ip4_end(&f, ip);
    ASSERT_EQ(dec_whole(&x, LINK_RAW, &f), DEC_OK);
    assert_ip4_tcp(&x);
    ASSERT(x.pk.payload == x.cap + 20 + 60);
    dec_free(&x);
}

TEST(vlan_8021q_tag)
{
    struct dec x;
    dec_init(&x);
    struct frame f = {.n = 0};
    eth(&f, ETH_8021Q);
    vlan_tag(&f, 100, ETH_IPV4);
    ip4_tcp(&f, 5);
    ASSERT_EQ(dec_whole(&x, LINK_EN10MB, &f), DEC_OK);
    assert_ip4_tcp(&x);
    ASSERT(x.pk.l3 == x.cap + 18);
    dec_free(&x);
}

TEST(vlan_qinq_8021ad_then_8021q)
{
    static const unsigned outer[] = {ETH_8021AD, 0x9100};
    for (size_t i = 0; i < 2; i++) {
        struct dec x;
        dec_init(&x);
        struct frame f = {.n = 0};
        eth(&f, outer[i]);
        vlan_tag(&f, 10, ETH_8021Q);
        vlan_tag(&f, 200, ETH_IPV6);
        ip6_ext_tcp(&f);
        ASSERT_EQ(dec_whole(&x, LINK_EN10MB, &f), DEC_OK);
        assert_ip6_ext_tcp(&x);
        ASSERT(x.pk.l3 == x.cap + 22);
        dec_free(&x);
    }
}

TEST(vlan_tags_up_to_the_limit_and_one_too_many)
{
    for (int tags = 1; tags <= VLAN_MAX_DEPTH + 2; tags++) {
        struct dec x;
        dec_init(&x);
        struct frame f = {.n = 0};
        eth(&f, ETH_8021AD);
        for (int t = 1; t < tags; t++)
            vlan_tag(&f, (unsigned)t, ETH_8021Q);
        vlan_tag(&f, 99, ETH_IPV4);
        ip4_tcp(&f, 5);
        enum decode_status r = dec_whole(&x, LINK_EN10MB, &f);
        if (tags <= VLAN_MAX_DEPTH) {
            ASSERT_EQ(r, DEC_OK);
            assert_ip4_tcp(&x);
        } else {
            ASSERT_EQ(r, DEC_ANOMALY);
            ASSERT_EQ(x.st.anomalies[AN_VLAN_TOO_DEEP], 1);
            ASSERT_EQ(anomalies(&x.st), 1);
        }
        dec_free(&x);
    }
}

TEST(linux_sll_cooked_v1)
{
    struct dec x;
    dec_init(&x);
    struct frame f = {.n = 0};
    put16(&f, 0);          /* packet type: to us */
    put16(&f, 1);          /* ARPHRD_ETHER */
    put16(&f, 6);          /* address length */
    put32(&f, 0x02005e00); /* address, padded to 8 bytes */
    put32(&f, 0x00020000);
    put16(&f, ETH_IPV4); /* protocol */
    ip4_tcp(&f, 5);
    ASSERT_EQ(dec_whole(&x, LINK_SLL, &f), DEC_OK);
    assert_ip4_tcp(&x);
    ASSERT(x.pk.l3 == x.cap + 16);
    dec_free(&x);
}

TEST(linux_sll2_cooked_v2)
{
    struct dec x;
    dec_init(&x);
    struct frame f = {.n = 0};
    put16(&f, ETH_IPV6); /* protocol */
    put16(&f, 0);        /* reserved */
    put32(&f, 3);        /* interface index */
    put16(&f, 1);        /* ARPHRD_ETHER */
    put8(&f, 4);         /* packet type: outgoing */
    put8(&f, 6);         /* address length */
    put32(&f, 0x02005e00);
    put32(&f, 0x00020000);
    ip6_ext_tcp(&f);
    ASSERT_EQ(dec_whole(&x, LINK_SLL2, &f), DEC_OK);
    assert_ip6_ext_tcp(&x);
    ASSERT(x.pk.l3 == x.cap + 20);
    dec_free(&x);
}

TEST(dlt_null_family_in_either_byte_order)
{
    for (int le = 0; le < 2; le++) {
        struct dec x;
        dec_init(&x);
        struct frame f = {.n = 0};
        if (le)
            put_le32(&f, 2); /* AF_INET */
        else
            put32(&f, 2);
        ip4_tcp(&f, 5);
        ASSERT_EQ(dec_whole(&x, LINK_NULL, &f), DEC_OK);
        assert_ip4_tcp(&x);
        ASSERT(x.pk.l3 == x.cap + 4);
        dec_free(&x);
    }
    /* AF_INET6 of NetBSD/OpenBSD (24), FreeBSD (28), macOS (30), Linux (10) */
    static const uint32_t fam6[] = {24, 28, 30, 10};
    for (size_t i = 0; i < 4; i++) {
        for (int le = 0; le < 2; le++) {
            struct dec x;
            dec_init(&x);
            struct frame f = {.n = 0};
            if (le)
                put_le32(&f, fam6[i]);
            else
                put32(&f, fam6[i]);
            ip6_ext_tcp(&f);
            ASSERT_EQ(dec_whole(&x, LINK_NULL, &f), DEC_OK);
            assert_ip6_ext_tcp(&x);
            dec_free(&x);
        }
    }
    /* a family that is not IP */
    struct dec x;
    dec_init(&x);
    struct frame f = {.n = 0};
    put_le32(&f, 7);
    ip4_tcp(&f, 5);
    ASSERT_EQ(dec_whole(&x, LINK_NULL, &f), DEC_NOT_IP);
    ASSERT_EQ(x.st.non_ip, 1);
    dec_free(&x);
}

TEST(dlt_loop_family_in_network_order)
{
    struct dec x;
    dec_init(&x);
    struct frame f = {.n = 0};
    put32(&f, 2);
    ip4_tcp(&f, 5);
    ASSERT_EQ(dec_whole(&x, LINK_LOOP, &f), DEC_OK);
    assert_ip4_tcp(&x);
    dec_free(&x);

    dec_init(&x);
    f.n = 0;
    put32(&f, 24);
    ip6_udp(&f);
    ASSERT_EQ(dec_whole(&x, LINK_LOOP, &f), DEC_OK);
    assert_udp(&x, 6);
    dec_free(&x);
}

TEST(raw_ip_link_types)
{
    static const int links[] = {LINK_RAW, LINK_DLT_RAW_ALT1, LINK_DLT_RAW_ALT2, LINK_IPV4};
    for (size_t i = 0; i < 4; i++) {
        struct dec x;
        dec_init(&x);
        struct frame f = {.n = 0};
        ip4_tcp(&f, 5);
        ASSERT_EQ(dec_whole(&x, links[i], &f), DEC_OK);
        assert_ip4_tcp(&x);
        ASSERT(x.pk.l3 == x.cap);
        dec_free(&x);
    }
    static const int links6[] = {LINK_RAW, LINK_IPV6};
    for (size_t i = 0; i < 2; i++) {
        struct dec x;
        dec_init(&x);
        struct frame f = {.n = 0};
        ip6_ext_tcp(&f);
        ASSERT_EQ(dec_whole(&x, links6[i], &f), DEC_OK);
        assert_ip6_ext_tcp(&x);
        dec_free(&x);
    }
}

TEST(decode_ip_from_the_ip_header)
{
    struct dec x;
    dec_init(&x);
    struct frame f = {.n = 0};
    ip4_tcp(&f, 5);
    memset(&x.pk, 0, sizeof x.pk);
    ASSERT_EQ(decode_ip(&x.d, f.b, f.n, 42, &x.pk), DEC_OK);
    ASSERT_EQ(x.pk.ts, 42);
    ASSERT_EQ(x.pk.sport, 25000);
    ASSERT_MEMEQ(x.pk.payload, smtp_line, strlen(smtp_line));
    dec_free(&x);
}

TEST(ipv6_hop_by_hop_and_destination_options_before_tcp)
{
    struct dec x;
    dec_init(&x);
    struct frame f = {.n = 0};
    eth(&f, ETH_IPV6);
    ip6_ext_tcp(&f);
    ASSERT_EQ(dec_whole(&x, LINK_EN10MB, &f), DEC_OK);
    assert_ip6_ext_tcp(&x);
    ASSERT(x.pk.payload == x.cap + 14 + 40 + 16 + 20);
    ASSERT_EQ(x.pk.l3_len, 40 + 16 + 20 + strlen(smtp_line));
    dec_free(&x);
}

TEST(ipv6_extension_headers_up_to_the_limit_and_past_it)
{
    for (int n = IPV6_MAX_EXT_HDRS - 1; n <= IPV6_MAX_EXT_HDRS + 1; n++) {
        struct dec x;
        dec_init(&x);
        struct frame f = {.n = 0};
        size_t ip = ip6_begin(&f, 60);
        for (int i = 0; i < n; i++)
            ip6_opts(&f, i + 1 < n ? 60 : 6);
        tcp_hdr(&f, 40001, 587, 0xfffffff0u, 5, TCP_ACK, TCP_HDR_WORDS);
        put_str(&f, smtp_line);
        ip6_end(&f, ip);
        enum decode_status r = dec_whole(&x, LINK_RAW, &f);
        if (n <= IPV6_MAX_EXT_HDRS) {
            ASSERT_EQ(r, DEC_OK);
            assert_ip6_ext_tcp(&x);
        } else {
            ASSERT_EQ(r, DEC_ANOMALY);
            ASSERT_EQ(x.st.anomalies[AN_IP6_EXT_TOO_MANY], 1);
        }
        dec_free(&x);
    }
}

TEST(udp_over_ipv4_and_ipv6)
{
    struct dec x;
    dec_init(&x);
    struct frame f = {.n = 0};
    eth(&f, ETH_IPV4);
    ip4_udp(&f);
    ASSERT_EQ(dec_whole(&x, LINK_EN10MB, &f), DEC_OK);
    assert_udp(&x, 4);
    ASSERT_EQ(x.st.udp_packets, 1);
    dec_free(&x);

    dec_init(&x);
    f.n = 0;
    eth(&f, ETH_IPV6);
    ip6_udp(&f);
    ASSERT_EQ(dec_whole(&x, LINK_EN10MB, &f), DEC_OK);
    assert_udp(&x, 6);
    ASSERT_MEMEQ(x.pk.src, src6, 16);
    dec_free(&x);
}

TEST(icmp_is_other_l4)
{
    struct dec x;
    dec_init(&x);
    struct frame f = {.n = 0};
    eth(&f, ETH_IPV4);
    size_t ip = ip4_begin(&f, 1, 5, 9, 0);
    put8(&f, 8); /* echo request */
    put8(&f, 0);
    put16(&f, 0);
    put32(&f, 0x00010001);
    put_str(&f, "ping");
    ip4_end(&f, ip);
    ASSERT_EQ(dec_whole(&x, LINK_EN10MB, &f), DEC_OTHER_L4);
    ASSERT_EQ(x.st.other_l4, 1);
    ASSERT_EQ(x.st.ip_packets, 1);
    ASSERT_EQ(anomalies(&x.st), 0);
    dec_free(&x);

    dec_init(&x); /* ICMPv6 behind a hop-by-hop header */
    f.n = 0;
    size_t ip6 = ip6_begin(&f, 0);
    ip6_opts(&f, 58);
    put8(&f, 128);
    put8(&f, 0);
    put16(&f, 0);
    put32(&f, 0);
    ip6_end(&f, ip6);
    ASSERT_EQ(dec_whole(&x, LINK_RAW, &f), DEC_OTHER_L4);
    ASSERT_EQ(x.st.other_l4, 1);
    dec_free(&x);
}

TEST(arp_and_8023_frames_are_not_ip)
{
    struct dec x;
    dec_init(&x);
    struct frame f = {.n = 0};
    eth(&f, ETH_ARP);
    put16(&f, 1);      /* hardware: Ethernet */
    put16(&f, 0x0800); /* protocol: IPv4 */
    put8(&f, 6);
    put8(&f, 4);
    put16(&f, 1); /* request */
    put_mem(&f, "\x02\x00\x5e\x00\x00\x02", 6);
    put_mem(&f, src4, 4);
    put_mem(&f, "\0\0\0\0\0\0", 6);
    put_mem(&f, dst4, 4);
    ASSERT_EQ(dec_whole(&x, LINK_EN10MB, &f), DEC_NOT_IP);
    ASSERT_EQ(x.st.non_ip, 1);
    ASSERT_EQ(x.st.ip_packets, 0);
    ASSERT_EQ(anomalies(&x.st), 0);

    f.n = 0; /* IEEE 802.3 length field, LLC */
    eth(&f, 46);
    put_str(&f, "\xaa\xaa\x03 an LLC/SNAP frame of 46 bytes ....");
    ASSERT_EQ(dec_whole(&x, LINK_EN10MB, &f), DEC_NOT_IP);
    ASSERT_EQ(x.st.non_ip, 2);
    dec_free(&x);
}

/* ---- truncation at every length ---------------------------------------- */

/*
 * Decode every prefix of a valid frame, with the wire length both the
 * whole frame (cut by the snaplen) and the prefix (a frame that is
 * really that short). Nothing may crash or read past the capture; DEC_OK
 * needs a view inside the buffer, and a snaplen cut must show up as
 * payload_len < payload_wire_len by exactly the bytes cut.
 */
static void truncate_all(int link, const struct frame *f, size_t hdr_len)
{
    for (size_t k = 0; k <= f->n; k++) {
        for (int really_short = 0; really_short < 2; really_short++) {
            struct dec x;
            dec_init(&x);
            size_t wire = really_short ? k : f->n;
            enum decode_status r = dec_run(&x, link, f, k, wire, 1);
            if (k == f->n) {
                if (r != DEC_OK)
                    TEST_FAIL("whole frame: status %d", r);
                ASSERT_EQ(x.pk.payload_len, f->n - hdr_len);
                ASSERT_EQ(x.pk.payload_wire_len, f->n - hdr_len);
                ASSERT_MEMEQ(x.pk.payload, f->b + hdr_len, f->n - hdr_len);
                ASSERT_EQ(anomalies(&x.st), 0);
            } else if (r == DEC_OK) {
                if (really_short)
                    TEST_FAIL("caplen=wirelen=%zu of %zu: DEC_OK for a frame shorter than its "
                              "IP length",
                              k, f->n);
                ASSERT(k >= hdr_len);
                ASSERT_EQ(x.pk.payload_len, k - hdr_len);
                ASSERT_EQ(x.pk.payload_wire_len - x.pk.payload_len, f->n - k);
                ASSERT_EQ(x.st.anomalies[AN_IP_SNAPLEN_CUT], 1);
            } else {
                if (r != DEC_ANOMALY)
                    TEST_FAIL("caplen %zu of %zu: status %d", k, f->n, r);
                ASSERT(anomalies(&x.st) >= 1);
            }
            dec_free(&x);
        }
    }
}

TEST(every_truncation_of_ethernet_ipv4_tcp)
{
    struct frame f = {.n = 0};
    eth(&f, ETH_IPV4);
    ip4_tcp(&f, 7);
    truncate_all(LINK_EN10MB, &f, 14 + 28 + 20);
}

TEST(every_truncation_of_vlan_ipv6_extension_headers_tcp)
{
    struct frame f = {.n = 0};
    eth(&f, ETH_8021Q);
    vlan_tag(&f, 5, ETH_IPV6);
    ip6_ext_tcp(&f);
    truncate_all(LINK_EN10MB, &f, 18 + 40 + 16 + 20);
}

TEST(every_truncation_of_sll2_ipv4_tcp)
{
    struct frame f = {.n = 0};
    put16(&f, ETH_IPV4);
    put16(&f, 0);
    put32(&f, 1);
    put16(&f, 1);
    put8(&f, 0);
    put8(&f, 6);
    put32(&f, 0);
    put32(&f, 0);
    ip4_tcp(&f, 5);
    truncate_all(LINK_SLL2, &f, 20 + 20 + 20);
}

TEST(every_truncation_of_ethernet_ipv4_udp)
{
    struct frame f = {.n = 0};
    eth(&f, ETH_IPV4);
    ip4_udp(&f);
    truncate_all(LINK_EN10MB, &f, 14 + 20 + 8);
}

TEST(every_truncation_of_null_ipv6_udp)
{
    struct frame f = {.n = 0};
    put_le32(&f, 30);
    ip6_udp(&f);
    truncate_all(LINK_NULL, &f, 4 + 40 + 8);
}

/* The anomaly each prefix of an Ethernet/IPv4/TCP frame is named by. */
TEST(truncated_ethernet_ipv4_tcp_names_the_cut_layer)
{
    struct frame f = {.n = 0};
    eth(&f, ETH_IPV4);
    ip4_tcp(&f, 5);
    for (size_t k = 0; k < f.n; k++) {
        struct dec x;
        dec_init(&x);
        enum decode_status r = dec_run(&x, LINK_EN10MB, &f, k, f.n, 1);
        enum anomaly want = k < 14   ? AN_L2_TRUNCATED
                            : k < 34 ? AN_IP_TRUNCATED
                            : k < 54 ? AN_TCP_TRUNCATED
                                     : AN_IP_SNAPLEN_CUT;
        if (x.st.anomalies[want] != 1)
            TEST_FAIL("caplen %zu: anomaly %s not counted once", k, anomaly_name(want));
        ASSERT_EQ(r, k < 54 ? DEC_ANOMALY : DEC_OK);
        dec_free(&x);
    }
}

/* A UDP header cut inside its checksum (6 or 7 of its 8 bytes captured)
 * must not give a payload that starts past the capture with a length that
 * wrapped around. */
TEST(udp_header_cut_by_snaplen_gives_no_wrapped_payload)
{
    struct frame f = {.n = 0};
    eth(&f, ETH_IPV4);
    ip4_udp(&f);
    for (size_t k = 14 + 20 + 4; k < 14 + 20 + 8; k++) {
        struct dec x;
        dec_init(&x);
        enum decode_status r = dec_run(&x, LINK_EN10MB, &f, k, f.n, 1);
        ASSERT_EQ(r, DEC_ANOMALY);
        ASSERT_EQ(x.st.anomalies[AN_UDP_TRUNCATED], 1);
        dec_free(&x);
    }
}

/* ---- malformed headers -------------------------------------------------- */

static enum decode_status dec_raw_once(struct frame *f, enum anomaly want)
{
    struct dec x;
    dec_init(&x);
    enum decode_status r = dec_whole(&x, LINK_RAW, f);
    if (x.st.anomalies[want] != 1)
        TEST_FAIL("anomaly %s not counted once", anomaly_name(want));
    dec_free(&x);
    return r;
}

TEST(ipv4_header_length_below_five_words)
{
    for (unsigned ihl = 0; ihl < 5; ihl++) {
        struct frame f = {.n = 0};
        ip4_tcp(&f, 5);
        f.b[0] = (uint8_t)(0x40 | ihl);
        ASSERT_EQ(dec_raw_once(&f, AN_IP_BAD_HLEN), DEC_ANOMALY);
    }
}

TEST(ipv4_header_length_past_the_packet)
{
    struct frame f = {.n = 0};
    size_t ip = ip4_begin(&f, 6, 5, 1, 0);
    put_str(&f, "abcd"); /* 24 bytes; IHL says 60 */
    ip4_end(&f, ip);
    f.b[0] = 0x4f;
    ASSERT_EQ(dec_raw_once(&f, AN_IP_BAD_HLEN), DEC_ANOMALY);
}

TEST(ipv4_total_length_below_header_or_past_frame)
{
    struct frame f = {.n = 0};
    ip4_tcp(&f, 6);
    set16(&f, 2, 20); /* header is 24 */
    ASSERT_EQ(dec_raw_once(&f, AN_IP_BAD_LEN), DEC_ANOMALY);
    set16(&f, 2, 0);
    ASSERT_EQ(dec_raw_once(&f, AN_IP_BAD_LEN), DEC_ANOMALY);
    set16(&f, 2, (unsigned)f.n + 1); /* one byte more than the wire had */
    ASSERT_EQ(dec_raw_once(&f, AN_IP_BAD_LEN), DEC_ANOMALY);
}

TEST(ip_version_other_than_4_or_6)
{
    struct frame f = {.n = 0};
    ip4_tcp(&f, 5);
    f.b[0] = 0x55;
    ASSERT_EQ(dec_raw_once(&f, AN_IP_BAD_VERSION), DEC_ANOMALY);
}

TEST(ipv6_payload_length_past_frame)
{
    struct frame f = {.n = 0};
    ip6_udp(&f);
    set16(&f, 4, (unsigned)(f.n - 40 + 1));
    ASSERT_EQ(dec_raw_once(&f, AN_IP_BAD_LEN), DEC_ANOMALY);
}

TEST(ipv6_extension_header_past_the_end)
{
    struct frame f = {.n = 0};
    size_t ip = ip6_begin(&f, 60);
    put8(&f, 6);
    put8(&f, 10); /* 88 bytes, but the packet ends after 8 */
    put8(&f, 1);
    put8(&f, 4);
    put32(&f, 0);
    ip6_end(&f, ip);
    ASSERT_EQ(dec_raw_once(&f, AN_IP6_EXT_TRUNCATED), DEC_ANOMALY);
}

TEST(tcp_data_offset_below_five_or_past_the_end)
{
    for (unsigned off = 0; off < 5; off++) {
        struct frame f = {.n = 0};
        ip4_tcp(&f, 5);
        f.b[20 + 12] = (uint8_t)(off << 4);
        ASSERT_EQ(dec_raw_once(&f, AN_TCP_BAD_OFFSET), DEC_ANOMALY);
    }
    struct frame f = {.n = 0}; /* 60-byte header claimed, 20 bytes + "hi" sent */
    size_t ip = ip4_begin(&f, 6, 5, 1, 0);
    tcp_hdr(&f, 25000, 25, 1, 2, TCP_ACK, TCP_HDR_WORDS);
    put_str(&f, "hi");
    ip4_end(&f, ip);
    f.b[20 + 12] = 0xf0;
    ASSERT_EQ(dec_raw_once(&f, AN_TCP_BAD_OFFSET), DEC_ANOMALY);
}

TEST(udp_length_below_eight_or_past_ip)
{
    for (unsigned len = 0; len < 8; len++) {
        struct frame f = {.n = 0};
        ip4_udp(&f);
        set16(&f, 20 + 4, len);
        ASSERT_EQ(dec_raw_once(&f, AN_UDP_BAD_LEN), DEC_ANOMALY);
    }
    struct frame f = {.n = 0};
    ip4_udp(&f);
    set16(&f, 20 + 4, (unsigned)(f.n - 20 + 1));
    ASSERT_EQ(dec_raw_once(&f, AN_UDP_BAD_LEN), DEC_ANOMALY);
}

TEST(udp_length_shorter_than_ip_payload_bounds_the_payload)
{
    struct dec x;
    dec_init(&x);
    struct frame f = {.n = 0};
    ip4_udp(&f);
    set16(&f, 20 + 4, 8 + 5); /* UDP says 5 bytes of payload, IP carries more */
    ASSERT_EQ(dec_whole(&x, LINK_RAW, &f), DEC_OK);
    ASSERT_EQ(x.pk.payload_len, 5);
    ASSERT_EQ(x.pk.payload_wire_len, 5);
    ASSERT_MEMEQ(x.pk.payload, dns_text, 5);
    dec_free(&x);
}

TEST(snaplen_cut_packet_is_ok_with_shorter_payload)
{
    struct dec x;
    dec_init(&x);
    struct frame f = {.n = 0};
    eth(&f, ETH_IPV4);
    ip4_tcp(&f, 5);
    size_t cap = 54 + 10;
    ASSERT_EQ(dec_run(&x, LINK_EN10MB, &f, cap, f.n, 5), DEC_OK);
    ASSERT_EQ(x.pk.payload_len, 10);
    ASSERT_EQ(x.pk.payload_wire_len, strlen(smtp_line));
    ASSERT(x.pk.payload_len < x.pk.payload_wire_len);
    ASSERT_MEMEQ(x.pk.payload, smtp_line, 10);
    ASSERT_EQ(x.pk.wire_len, f.n);
    ASSERT_EQ(x.pk.l3_len, cap - 14);
    ASSERT_EQ(x.st.anomalies[AN_IP_SNAPLEN_CUT], 1);
    ASSERT_EQ(anomalies(&x.st), 1);
    dec_free(&x);
}

/*
 * test-clock.c — the sensor's clock (sensor_tick): live, the timers follow
 * the time the capture loop gives, packets or not (stats records with the
 * kernel's counters of the interval, flows ended by their class's timeout
 * after their last packet, output pushes); reading files, packet time.
 *
 * A whole sensor runs against an output that keeps its records in memory
 * and counts pushes. Times are made up: nothing here waits.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sensor.h"
#include "test.h"

#define SEC 1000000LL           /* pc_time is in microseconds */
#define T0 (1767225600LL * SEC) /* 2026-01-01T00:00:00Z: the capture starts */
#define LINKTYPE_ETHERNET 1

/* ---- an output that keeps what it is given ------------------------------- */

#define MEM_LINES 64

struct mem_out {
    struct output o;                /* the interface (first member) */
    char *lines[MEM_LINES];         /* records, in order */
    enum rec_type types[MEM_LINES]; /* their types */
    size_t n;                       /* records kept */
    int pushes;                     /* push() calls */
};

static int mem_write(struct output *o, enum rec_type t, const char *line, size_t n)
{
    struct mem_out *m = (struct mem_out *)o;
    ASSERT(m->n < MEM_LINES);
    m->lines[m->n] = strndup(line, n);
    m->types[m->n++] = t;
    o->written++;
    return 0;
}

static int mem_flush(struct output *o)
{
    (void)o;
    return 0;
}

static int mem_push(struct output *o)
{
    ((struct mem_out *)o)->pushes++;
    return 0;
}

static void mem_init(struct mem_out *m)
{
    memset(m, 0, sizeof *m);
    m->o.name = "memory";
    m->o.types = REC_ALL;
    m->o.write = mem_write;
    m->o.flush = mem_flush;
    m->o.push = mem_push;
}

static void mem_free(struct mem_out *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->lines[i]);
}

/* The records of type t, counted; the last one in *last (if any). */
static size_t records_of(const struct mem_out *m, enum rec_type t, const char **last)
{
    size_t k = 0;
    for (size_t i = 0; i < m->n; i++) {
        if (m->types[i] == t) {
            k++;
            if (last != NULL)
                *last = m->lines[i];
        }
    }
    return k;
}

static void assert_has(const char *line, const char *part)
{
    if (line == NULL || strstr(line, part) == NULL)
        TEST_FAIL("no %s in %s", part, line ? line : "(no record)");
}

/* ---- a sensor -------------------------------------------------------------- */

static struct sensor *live_sensor(struct mem_out *m, unsigned stats_interval)
{
    struct sensor_opts so;
    memset(&so, 0, sizeof so);
    so.hash_seed = 1;
    so.stats_interval = stats_interval;
    so.flow_timeout[FLOW_TC_TCP_CLOSED] = 1 * SEC;
    struct err e = {""};
    struct sensor *s = sensor_new(&so, &m->o, &e);
    if (s == NULL)
        TEST_FAIL("sensor_new: %s", e.msg);
    s->eve.host = "test";
    s->eve.src_key = "in_iface";
    s->eve.src_val = "veth0";
    s->is_live = true;
    return s;
}

/* ---- frames: Ethernet, IPv4, TCP without payload ------------------------- */

static const uint8_t CLI[4] = {192, 0, 2, 1};
static const uint8_t SRV[4] = {198, 51, 100, 25};
#define FL_FIN 0x01
#define FL_SYN 0x02
#define FL_ACK 0x10

static size_t tcp_frame(uint8_t *b, bool to_server, uint32_t seq, uint32_t ack, uint8_t flags)
{
    static const uint8_t mac[12] = {2, 0, 0x5e, 0, 0, 1, 2, 0, 0x5e, 0, 0, 2};
    const uint8_t *src = to_server ? CLI : SRV, *dst = to_server ? SRV : CLI;
    uint16_t sport = to_server ? 40000 : 25, dport = to_server ? 25 : 40000;
    size_t n = 0;
    memcpy(b, mac, 12);
    b[12] = 0x08, b[13] = 0x00;
    n = 14;
    const uint8_t ip[12] = {0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0};
    memcpy(b + n, ip, 12);
    memcpy(b + n + 12, src, 4);
    memcpy(b + n + 16, dst, 4);
    n += 20;
    uint8_t *t = b + n;
    memset(t, 0, 20);
    t[0] = (uint8_t)(sport >> 8), t[1] = (uint8_t)sport;
    t[2] = (uint8_t)(dport >> 8), t[3] = (uint8_t)dport;
    for (int i = 0; i < 4; i++) {
        t[4 + i] = (uint8_t)(seq >> (24 - 8 * i));
        t[8 + i] = (uint8_t)(ack >> (24 - 8 * i));
    }
    t[12] = 5 << 4;
    t[13] = flags;
    t[14] = 0xff, t[15] = 0xff;
    return n + 20;
}

static void send_tcp(struct sensor *s, pc_time ts, bool to_server, uint32_t seq, uint32_t ack,
                     uint8_t flags)
{
    uint8_t b[64];
    size_t n = tcp_frame(b, to_server, seq, ack, flags);
    sensor_packet(s, LINKTYPE_ETHERNET, b, n, n, ts);
}

/* A TCP session that opens and closes (FIN both ways), its last packet at `last`. */
static void closed_session(struct sensor *s, pc_time first, pc_time last)
{
    send_tcp(s, first, true, 100, 0, FL_SYN);
    send_tcp(s, first + 1000, false, 500, 101, FL_SYN | FL_ACK);
    send_tcp(s, first + 2000, true, 101, 501, FL_ACK);
    send_tcp(s, first + 3000, true, 101, 501, FL_FIN | FL_ACK);
    send_tcp(s, first + 4000, false, 501, 102, FL_FIN | FL_ACK);
    send_tcp(s, last, true, 102, 502, FL_ACK);
}

/* ---- tests ----------------------------------------------------------------- */

TEST(live_stats_records_come_on_the_clock_without_any_packet)
{
    struct mem_out m;
    mem_init(&m);
    struct sensor *s = live_sensor(&m, 1);
    ASSERT(!sensor_tick(s, T0)); /* the start: the first record is due a second later */
    ASSERT(!sensor_stats_due(s, T0 + SEC - 1));
    ASSERT(!sensor_tick(s, T0 + SEC - 1));
    ASSERT_EQ(records_of(&m, REC_STATS, NULL), 0);
    ASSERT(sensor_stats_due(s, T0 + SEC));
    ASSERT(sensor_tick(s, T0 + SEC));
    const char *rec = NULL;
    ASSERT_EQ(records_of(&m, REC_STATS, &rec), 1);
    assert_has(rec, "\"timestamp\":\"2026-01-01T00:00:01.000000+0000\"");
    assert_has(rec, "\"in_iface\":\"veth0\"");
    assert_has(rec, "\"uptime\":1,");
    assert_has(rec, "\"pkts\":0,");
    assert_has(rec, "\"capture\":{\"kernel_packets\":0,\"kernel_drops\":0,\"kernel_ifdrops\":0,"
                    "\"kernel_packets_delta\":0,\"kernel_drops_delta\":0,"
                    "\"kernel_ifdrops_delta\":0,\"kernel_drop_share\":0.000000,"
                    "\"kernel_drop_share_interval\":0.000000}");
    ASSERT(!sensor_tick(s, T0 + SEC + SEC / 2));
    ASSERT(sensor_tick(s, T0 + 2 * SEC + 1000)); /* a tick a little late */
    ASSERT(sensor_tick(s, T0 + 3 * SEC + 1000)); /* the next a second after it */
    ASSERT_EQ(records_of(&m, REC_STATS, &rec), 3);
    assert_has(rec, "\"timestamp\":\"2026-01-01T00:00:03.001000+0000\"");
    sensor_free(s);
    mem_free(&m);
}

TEST(a_stats_record_counts_the_kernels_packets_since_the_one_before)
{
    struct mem_out m;
    mem_init(&m);
    struct sensor *s = live_sensor(&m, 1);
    sensor_tick(s, T0);
    struct kcounts raw = {1000, 0, 0};
    stats_kernel_sample(&s->st, &raw);
    ASSERT(sensor_tick(s, T0 + SEC));
    ASSERT_EQ(s->kern_interval.recv, 1000);
    ASSERT_EQ(s->kern_interval_us, SEC);
    raw = (struct kcounts){1800, 40, 2}; /* 800 more, 40 of them dropped */
    stats_kernel_sample(&s->st, &raw);
    ASSERT(sensor_tick(s, T0 + 2 * SEC));
    const char *rec = NULL;
    ASSERT_EQ(records_of(&m, REC_STATS, &rec), 2);
    assert_has(rec, "\"capture\":{\"kernel_packets\":1800,\"kernel_drops\":40,"
                    "\"kernel_ifdrops\":2,\"kernel_packets_delta\":800,"
                    "\"kernel_drops_delta\":40,\"kernel_ifdrops_delta\":2,"
                    "\"kernel_drop_share\":0.022222,\"kernel_drop_share_interval\":0.050000}");
    ASSERT_EQ(s->kern_interval.drop, 40);
    ASSERT(kcounts_drops_over(&s->kern_interval, 1.0));
    sensor_finish(s); /* the record at the end: nothing new since the last one */
    ASSERT_EQ(records_of(&m, REC_STATS, &rec), 3);
    assert_has(rec, "\"kernel_packets\":1800,");
    assert_has(rec, "\"kernel_packets_delta\":0,");
    sensor_free(s);
    mem_free(&m);
}

TEST(a_closed_session_ends_by_the_clock_its_timeout_after_its_last_packet)
{
    struct mem_out m;
    mem_init(&m);
    struct sensor *s = live_sensor(&m, 0);
    sensor_tick(s, T0);
    const pc_time last = T0 + SEC / 10;
    closed_session(s, T0 + SEC / 20, last);
    ASSERT_EQ(s->st.flows_created, 1);
    sensor_tick(s, last + SEC); /* idle for as long as its timeout, not longer */
    ASSERT_EQ(records_of(&m, REC_FLOW, NULL), 0);
    sensor_tick(s, last + SEC + 1);
    const char *rec = NULL;
    ASSERT_EQ(records_of(&m, REC_FLOW, &rec), 1);
    assert_has(rec, "\"timestamp\":\"2026-01-01T00:00:00.100000+0000\""); /* its last packet */
    assert_has(rec, "\"end\":\"2026-01-01T00:00:00.100000+0000\"");
    assert_has(rec, "\"state\":\"closed\",\"reason\":\"timeout\"");
    ASSERT_EQ(s->st.flows_ended, 1);
    sensor_free(s);
    mem_free(&m);
}

TEST(live_packets_end_flows_by_the_clock_not_by_their_own_time)
{
    struct mem_out m;
    mem_init(&m);
    struct sensor *s = live_sensor(&m, 0);
    sensor_tick(s, T0);
    closed_session(s, T0 + 1000, T0 + 2000 + 5000);
    /* a packet of another flow stamped much later than the clock does not end the first one:
     * the timers are the tick's */
    uint8_t b[64];
    size_t n = tcp_frame(b, true, 7, 0, FL_SYN);
    b[14 + 12 + 3] = 7; /* another client */
    sensor_packet(s, LINKTYPE_ETHERNET, b, n, n, T0 + 10 * SEC);
    ASSERT_EQ(records_of(&m, REC_FLOW, NULL), 0);
    ASSERT(s->now == T0);
    ASSERT(s->last_pkt == T0 + 10 * SEC);
    sensor_tick(s, T0 + 2 * SEC);
    ASSERT_EQ(records_of(&m, REC_FLOW, NULL), 1);
    sensor_free(s);
    mem_free(&m);
}

TEST(the_clock_never_goes_back)
{
    struct mem_out m;
    mem_init(&m);
    struct sensor *s = live_sensor(&m, 1);
    sensor_tick(s, T0 + 5 * SEC);
    sensor_tick(s, T0); /* the wall clock was set back */
    ASSERT(s->now == T0 + 5 * SEC);
    ASSERT(!sensor_tick(s, T0 + 5 * SEC + SEC / 2));
    ASSERT(sensor_tick(s, T0 + 6 * SEC));
    sensor_free(s);
    mem_free(&m);
}

TEST(live_outputs_are_pushed_on_the_tick_twice_a_second)
{
    struct mem_out m;
    mem_init(&m);
    struct sensor *s = live_sensor(&m, 0);
    sensor_tick(s, T0);
    ASSERT_EQ(m.pushes, 1);
    sensor_tick(s, T0 + OUTPUT_PUSH_US - 1);
    ASSERT_EQ(m.pushes, 1);
    sensor_tick(s, T0 + OUTPUT_PUSH_US);
    ASSERT_EQ(m.pushes, 2);
    for (int i = 1; i <= 10; i++)
        sensor_tick(s, T0 + OUTPUT_PUSH_US + i * (SEC / 5));
    ASSERT(m.pushes >= 5); /* 2 s of ticks every 200 ms: at least one push a second */
    m.o.push = NULL;       /* an output with nothing to push */
    sensor_tick(s, T0 + 10 * SEC);
    sensor_free(s);
    mem_free(&m);
}

TEST(reading_files_the_packets_time_runs_the_timers_and_nothing_is_pushed)
{
    struct mem_out m;
    mem_init(&m);
    struct sensor *s = live_sensor(&m, 1);
    s->is_live = false;
    s->eve.src_key = "pcap_filename";
    s->eve.src_val = "t.pcap";
    closed_session(s, T0, T0 + 5000);
    ASSERT_EQ(records_of(&m, REC_STATS, NULL), 0);
    ASSERT_EQ(records_of(&m, REC_FLOW, NULL), 0);
    send_tcp(s, T0 + 3 * SEC, true, 1, 0, FL_SYN); /* a packet seconds later */
    const char *rec = NULL;
    ASSERT_EQ(records_of(&m, REC_STATS, &rec), 1);
    assert_has(rec, "\"timestamp\":\"2026-01-01T00:00:03.000000+0000\"");
    ASSERT(strstr(rec, "\"capture\"") == NULL);   /* no kernel counters for a file */
    ASSERT_EQ(records_of(&m, REC_FLOW, NULL), 1); /* the closed session, past its 1 s */
    ASSERT_EQ(m.pushes, 0);
    sensor_free(s);
    mem_free(&m);
}

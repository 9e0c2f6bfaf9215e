/*
 * capture.h — packets from a capture file (pcap or pcapng, "-" for stdin)
 * or a live interface, through libpcap. The only file that includes pcap.h
 * is capture.c.
 */
#ifndef POSTCARD_CAPTURE_H
#define POSTCARD_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"

struct capture;

struct live_opts {
    int snaplen;      /* bytes kept per packet */
    int buffer_bytes; /* kernel buffer size */
    bool promisc;     /* promiscuous mode (a SPAN port needs it) */
    bool immediate;   /* deliver packets at once instead of batching */
};

typedef void (*capture_fn)(void *ctx, const uint8_t *p, size_t caplen, size_t wirelen, pc_time ts);

/*
 * Is filter a BPF expression at all? Compiled for Ethernet before any input is opened, so that
 * a wrong filter is a wrong command line. -1 with libpcap's reason in e.
 */
int capture_filter_check(const char *filter, struct err *e);

struct capture *capture_open_file(const char *path, const char *filter, struct err *e);
struct capture *capture_open_live(const char *iface, const struct live_opts *o, const char *filter,
                                  struct err *e);
void capture_close(struct capture *c);

int capture_link(const struct capture *c);
const char *capture_link_name(int link); /* "EN10MB", "LINUX_SLL2", ... or "?" */
const char *capture_name(const struct capture *c);
const char *capture_warning(const struct capture *c); /* activation warning or NULL */

/*
 * Read a batch of packets into fn. Returns the number read (>0), 0 at the
 * end of a file, or live when no packet came within CAPTURE_WAKE_MS or a
 * signal arrived while waiting (so a live caller gets control back on an idle
 * link), -1 on error (e set; packets read before it were delivered) and -2
 * when capture_break() was called.
 */
int capture_next_batch(struct capture *c, capture_fn fn, void *ctx, struct err *e);

/* A live capture that was asked to stop: hand fn what the kernel has already delivered to
 * the capture buffer (without waiting for more), at most max packets. The packets seen on
 * the wire before the stop are analysed, not left in the ring. Returns how many. */
uint64_t capture_drain(struct capture *c, capture_fn fn, void *ctx, uint64_t max);

/* Ask a running capture_next_batch() to return (async-signal-safe). */
void capture_break(struct capture *c);

/* Live only: kernel counters. Returns -1 where there are none (files). */
int capture_stats(struct capture *c, uint64_t *recv, uint64_t *drop, uint64_t *ifdrop);

/* Files only: bytes consumed so far and the file's size (-1 if unknown, e.g. stdin). */
int64_t capture_file_pos(struct capture *c);
int64_t capture_file_size(const struct capture *c);

bool capture_is_live(const struct capture *c);

#endif

/*
 * capture.c — libpcap behind a small interface.
 *
 * Files are opened by postcard itself (fopen) and handed to libpcap with
 * pcap_fopen_offline, so that "no such file", "is a directory" and "empty
 * file" get plain messages and the file position can drive the progress
 * display. Timestamps are asked for in microseconds whatever the file
 * stores (pcapng and nanosecond pcap included).
 *
 * A live read must end on an idle link too, so that the sensor's clock ticks
 * (stats records, flow timeouts). libpcap's read timeout does not see to that
 * on Linux: TPACKET_V3 retires no empty block, so a blocking read on a quiet
 * interface waits for the next packet, and with --immediate-mode (TPACKET_V2)
 * it was measured to wait as well [CAPTURE-IDLE-BLOCK]. So the live handle is
 * non-blocking and the loop waits in poll() on its selectable descriptor, at
 * most CAPTURE_WAKE_MS. The read timeout still bounds how long TPACKET_V3
 * keeps packets in a block that is not full.
 *
 * Hazards: [CAPTURE-IDLE-BLOCK] a blocking pcap_dispatch on an idle link
 *          never returns: no tick, no stats, closed sessions never reported
 */
#include "packet/capture.h"

#include <errno.h>
#include <pcap.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sensor-limits.h"

#define CAPTURE_BATCH 4096 /* packets per pcap_dispatch: bounds time between checks */

struct capture {
    pcap_t *p;         /* libpcap handle */
    FILE *f;           /* the file (owned by libpcap once opened) */
    char *name;        /* path or interface */
    int64_t size;      /* file size, -1 if unknown */
    bool is_live;      /* live interface */
    char warning[256]; /* activation warning, "" if none */
    int fd;            /* live: descriptor to poll() for packets, -1: none (files) */
    capture_fn fn;     /* current callback */
    void *ctx;         /* its context */
};

static void handler(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    struct capture *c = (struct capture *)user;
    pc_time ts = (pc_time)h->ts.tv_sec * 1000000 + (pc_time)h->ts.tv_usec;
    c->fn(c->ctx, bytes, h->caplen, h->len, ts);
}

static int set_filter(struct capture *c, const char *filter, struct err *e)
{
    if (filter == NULL || *filter == '\0')
        return 0;
    struct bpf_program prog;
    if (pcap_compile(c->p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0)
        return err_set(e, "filter \"%s\": %s", filter, pcap_geterr(c->p));
    int rc = pcap_setfilter(c->p, &prog);
    pcap_freecode(&prog);
    if (rc != 0)
        return err_set(e, "filter \"%s\": %s", filter, pcap_geterr(c->p));
    return 0;
}

int capture_filter_check(const char *filter, struct err *e)
{
    if (filter == NULL || *filter == '\0')
        return 0;
    pcap_t *p = pcap_open_dead(DLT_EN10MB, SNAPLEN_DEFAULT); /* the type taking the most filters */
    if (p == NULL)
        return err_set(e, "filter \"%s\": pcap_open_dead failed", filter);
    struct bpf_program prog;
    int rc = 0;
    if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0)
        rc = err_set(e, "filter \"%s\": %s", filter, pcap_geterr(p));
    else
        pcap_freecode(&prog);
    pcap_close(p);
    return rc;
}

struct capture *capture_open_file(const char *path, const char *filter, struct err *e)
{
    struct capture *c = xcalloc(1, sizeof *c);
    c->size = -1;
    c->fd = -1;
    c->name = strdup(path);
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    if (strcmp(path, "-") == 0) {
        c->f = stdin;
    } else {
        struct stat sb;
        if (stat(path, &sb) != 0) {
            err_set(e, "%s: %s", path, strerror(errno));
            goto fail;
        }
        if (S_ISDIR(sb.st_mode)) {
            err_set(e, "%s: is a directory, not a capture file", path);
            goto fail;
        }
        if (S_ISREG(sb.st_mode)) {
            c->size = (int64_t)sb.st_size;
            if (sb.st_size == 0) {
                err_set(e, "%s: empty file, not a pcap or pcapng capture", path);
                goto fail;
            }
        }
        c->f = fopen(path, "rb");
        if (c->f == NULL) {
            err_set(e, "%s: %s", path, strerror(errno));
            goto fail;
        }
    }
    c->p = pcap_fopen_offline_with_tstamp_precision(c->f, PCAP_TSTAMP_PRECISION_MICRO, errbuf);
    if (c->p == NULL) {
        if (c->f != stdin)
            fclose(c->f);
        c->f = NULL;
        if (strstr(errbuf, "unknown file format") != NULL)
            err_set(e, "%s: not a pcap or pcapng capture (%s)", path, errbuf);
        else
            err_set(e, "%s: %s", path, errbuf);
        goto fail;
    }
    if (set_filter(c, filter, e) != 0)
        goto fail;
    return c;
fail:
    capture_close(c);
    return NULL;
}

struct capture *capture_open_live(const char *iface, const struct live_opts *o, const char *filter,
                                  struct err *e)
{
    struct capture *c = xcalloc(1, sizeof *c);
    c->size = -1;
    c->fd = -1;
    c->is_live = true;
    c->name = strdup(iface);
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    c->p = pcap_create(iface, errbuf);
    if (c->p == NULL) {
        err_set(e, "%s: %s", iface, errbuf);
        goto fail;
    }
    if (pcap_set_snaplen(c->p, o->snaplen) != 0 || pcap_set_promisc(c->p, o->promisc) != 0 ||
        pcap_set_timeout(c->p, CAPTURE_TIMEOUT_MS) != 0 ||
        pcap_set_buffer_size(c->p, o->buffer_bytes) != 0 ||
        pcap_set_immediate_mode(c->p, o->immediate) != 0) {
        err_set(e, "%s: cannot set capture options: %s", iface, pcap_geterr(c->p));
        goto fail;
    }
    int rc = pcap_activate(c->p);
    if (rc < 0) {
        switch (rc) {
        case PCAP_ERROR_NO_SUCH_DEVICE:
            err_set(e, "%s: no such interface", iface);
            break;
        case PCAP_ERROR_PERM_DENIED:
            err_set(e, "%s: permission denied: live capture needs root or CAP_NET_RAW", iface);
            break;
        case PCAP_ERROR_PROMISC_PERM_DENIED:
            err_set(e, "%s: permission denied for promiscuous mode (try -p)", iface);
            break;
        case PCAP_ERROR_IFACE_NOT_UP:
            err_set(e, "%s: interface is down", iface);
            break;
        default:
            err_set(e, "%s: %s", iface, pcap_geterr(c->p));
        }
        goto fail;
    }
    if (rc > 0)
        snprintf(c->warning, sizeof c->warning, "%s: %s", iface, pcap_geterr(c->p));
    if (set_filter(c, filter, e) != 0)
        goto fail;
    c->fd = pcap_get_selectable_fd(c->p); /* [CAPTURE-IDLE-BLOCK] */
    if (c->fd < 0 || pcap_setnonblock(c->p, 1, errbuf) != 0) {
        err_set(e, "%s: cannot wait for packets with a timeout: %s", iface,
                c->fd < 0 ? "no selectable descriptor" : errbuf);
        goto fail;
    }
    return c;
fail:
    capture_close(c);
    return NULL;
}

void capture_close(struct capture *c)
{
    if (c == NULL)
        return;
    if (c->p != NULL)
        pcap_close(c->p); /* closes c->f too (stdin included, as tcpdump does) */
    free(c->name);
    free(c);
}

int capture_link(const struct capture *c)
{
    return pcap_datalink(c->p);
}

const char *capture_link_name(int link)
{
    const char *n = pcap_datalink_val_to_name(link);
    return n ? n : "?";
}

const char *capture_name(const struct capture *c)
{
    return c->name;
}

const char *capture_warning(const struct capture *c)
{
    return c->warning[0] ? c->warning : NULL;
}

bool capture_is_live(const struct capture *c)
{
    return c->is_live;
}

int capture_next_batch(struct capture *c, capture_fn fn, void *ctx, struct err *e)
{
    c->fn = fn;
    c->ctx = ctx;
    int n = pcap_dispatch(c->p, CAPTURE_BATCH, handler, (u_char *)c);
    if (n == 0 && c->is_live) { /* nothing ready: wait for some, not for ever */
        struct pollfd pfd = {c->fd, POLLIN, 0};
        int rc = poll(&pfd, 1, CAPTURE_WAKE_MS);
        if (rc < 0 && errno != EINTR)
            return err_set(e, "%s: poll: %s", c->name, strerror(errno));
        if (rc > 0) /* packets, or an error that the read reports */
            n = pcap_dispatch(c->p, CAPTURE_BATCH, handler, (u_char *)c);
        /* rc 0 (the timeout) or EINTR (a signal: the caller looks at why): 0 */
    }
    if (n == PCAP_ERROR)
        return err_set(e, "%s: %s", c->name, pcap_geterr(c->p));
    if (n == PCAP_ERROR_BREAK)
        return -2;
    return n;
}

uint64_t capture_drain(struct capture *c, capture_fn fn, void *ctx, uint64_t max)
{
    if (!c->is_live) /* the live handle is non-blocking: nothing here waits */
        return 0;
    c->fn = fn;
    c->ctx = ctx;
    uint64_t total = 0;
    int breaks = 0;
    while (total < max) {
        int n = pcap_dispatch(c->p, CAPTURE_BATCH, handler, (u_char *)c);
        if (n == PCAP_ERROR_BREAK && ++breaks <= 2)
            continue; /* the stop's own pcap_breakloop, still pending */
        if (n <= 0)
            break; /* nothing more without waiting, or an error: done either way */
        total += (uint64_t)n;
    }
    return total;
}

void capture_break(struct capture *c)
{
    pcap_breakloop(c->p);
}

int capture_stats(struct capture *c, uint64_t *recv, uint64_t *drop, uint64_t *ifdrop)
{
    if (!c->is_live)
        return -1;
    struct pcap_stat ps;
    if (pcap_stats(c->p, &ps) != 0)
        return -1;
    *recv = ps.ps_recv;
    *drop = ps.ps_drop;
    *ifdrop = ps.ps_ifdrop;
    return 0;
}

int64_t capture_file_pos(struct capture *c)
{
    if (c->is_live || c->size < 0)
        return -1;
    FILE *f = pcap_file(c->p);
    long pos = f ? ftell(f) : -1;
    return pos;
}

int64_t capture_file_size(const struct capture *c)
{
    return c->size;
}

/*
 * classify.c — which application a flow carries.
 *
 * Three witnesses, strongest first:
 *   1. content: the first bytes of the reassembled streams. Mail servers
 *      speak first (RFC 5321 §4.2 "220", RFC 1939 §4 "+OK", RFC 9051 §7.1
 *      "* OK"/"* PREAUTH"), so a greeting only counts when the server
 *      spoke before the client (Redis answering "+OK" to a command is not
 *      POP3). A TLS record header (RFC 8446 §5.1) or an SSLv2 CLIENT-HELLO
 *      from either side means TLS.
 *   2. nDPI 4.2, fed packet by packet until it decides or CLASSIFY_MAX_PKTS
 *      have passed, then its state is freed.
 *   3. the port: 25/587 SMTP, 110 POP3, 143 IMAP, 465/993/995 implicit TLS.
 *      A hint only: it keeps a flow under watch until the content speaks.
 *
 * This is the one file that includes nDPI's headers: Debian 12 ships 4.2,
 * whose ndpi_detection_process_packet() takes 5 arguments (6 from 4.6 on)
 * and whose init/giveup changed in 4.10. Only this file needs editing when
 * the version changes.
 *
 * Hazards: [CLS-REDIS-OK] [CLS-NDPI-CAP] [CLS-NDPI-LEN] [CLS-NDPI-CREDS]
 */
#include "packet/classify.h"

#include <ctype.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <ndpi_api.h>

#include "sensor-limits.h"

struct classifier {
    struct ndpi_detection_module_struct *mod; /* one module per thread */
    struct stats *st;                         /* counters */
    size_t live;                              /* nDPI flow states allocated now */
};

struct classifier *classifier_new(struct stats *st, struct err *e)
{
    struct classifier *cl = xcalloc(1, sizeof *cl);
    cl->st = st;
    cl->mod = ndpi_init_detection_module(ndpi_no_prefs);
    if (cl->mod == NULL) {
        free(cl);
        err_set(e, "nDPI: cannot initialise the detection module");
        return NULL;
    }
    NDPI_PROTOCOL_BITMASK all;
    NDPI_BITMASK_SET_ALL(all);
    ndpi_set_protocol_detection_bitmask2(cl->mod, &all);
    ndpi_finalize_initialization(cl->mod);
    return cl;
}

void classifier_free(struct classifier *cl)
{
    if (cl == NULL)
        return;
    ndpi_exit_detection_module(cl->mod);
    free(cl);
}

enum proto classify_port_app(uint16_t port)
{
    const struct mail_port *mp = mail_port_find(port);
    if (mp == NULL)
        return PROTO_UNKNOWN;
    return mp->is_implicit_tls ? PROTO_TLS : mp->proto;
}

bool classify_port_implicit_tls(uint16_t port)
{
    const struct mail_port *mp = mail_port_find(port);
    return mp != NULL && mp->is_implicit_tls;
}

void classify_init(struct classify *c, uint16_t client_port, uint16_t server_port)
{
    memset(c, 0, sizeof *c);
    c->app = c->ndpi_app = PROTO_UNKNOWN;
    c->port_hint = (uint8_t)classify_port_app(server_port);
    if (c->port_hint == PROTO_UNKNOWN)
        c->port_hint = (uint8_t)classify_port_app(client_port);
}

static enum proto ndpi_to_app(uint16_t id)
{
    switch (id) {
    case NDPI_PROTOCOL_MAIL_SMTP:
        return PROTO_SMTP;
    case NDPI_PROTOCOL_MAIL_POP:
        return PROTO_POP3;
    case NDPI_PROTOCOL_MAIL_IMAP:
        return PROTO_IMAP;
    case NDPI_PROTOCOL_MAIL_SMTPS:
    case NDPI_PROTOCOL_MAIL_POPS:
    case NDPI_PROTOCOL_MAIL_IMAPS:
    case NDPI_PROTOCOL_TLS:
        return PROTO_TLS;
    case NDPI_PROTOCOL_UNKNOWN:
        return PROTO_UNKNOWN;
    default:
        return PROTO_OTHER;
    }
}

/*
 * nDPI 4.2 keeps copies of what it saw, and ndpi_free_flow frees them unwiped
 * [CLS-NDPI-CREDS]: the user name and password of a mail or FTP login
 * (l4.tcp.ftp_imap_pop_smtp), a Telnet login's (protos.telnet), and the stream its TLS
 * dissector buffers while it looks for a TLS record (l4.tcp.tls.message: on a port that is
 * not a mail port, the client's login line among the rest). The telnet fields share a union
 * with pointers nDPI frees: they are wiped only on a Telnet flow; the TCP fields only on a
 * TCP flow.
 */
static void wipe_credentials(struct ndpi_flow_struct *f, ndpi_protocol pr)
{
    if (f->l4_proto == IPPROTO_TCP) {
        explicit_bzero(&f->l4.tcp.ftp_imap_pop_smtp, sizeof f->l4.tcp.ftp_imap_pop_smtp);
        if (f->l4.tcp.tls.message.buffer != NULL)
            explicit_bzero(f->l4.tcp.tls.message.buffer, f->l4.tcp.tls.message.buffer_len);
    }
    if (pr.master_protocol == NDPI_PROTOCOL_TELNET || pr.app_protocol == NDPI_PROTOCOL_TELNET)
        explicit_bzero(&f->protos.telnet, sizeof f->protos.telnet);
}

static void ndpi_done(struct classifier *cl, struct classify *c, ndpi_protocol pr)
{
    c->ndpi_master = pr.master_protocol;
    c->ndpi_proto = pr.app_protocol;
    enum proto a = ndpi_to_app(pr.master_protocol);
    if (a == PROTO_UNKNOWN || a == PROTO_OTHER) {
        enum proto b = ndpi_to_app(pr.app_protocol);
        if (b != PROTO_UNKNOWN)
            a = b;
    }
    c->ndpi_app = (uint8_t)a;
    if (c->app == PROTO_UNKNOWN && a != PROTO_UNKNOWN) {
        c->app = (uint8_t)a;
        c->by = BY_NDPI;
    }
    if (c->ndpi_flow != NULL) {
        wipe_credentials(c->ndpi_flow, pr);
        ndpi_free_flow(c->ndpi_flow);
        c->ndpi_flow = NULL;
        cl->live--;
    }
    c->is_ndpi_done = true;
}

void classify_packet(struct classifier *cl, struct classify *c, const struct pkt *pk)
{
    if (c->is_ndpi_done)
        return;
    if (c->ndpi_flow == NULL) {
        /* Nothing to classify before the first payload byte: a scan's SYNs
         * never cost an nDPI flow state. nDPI 4.2 copes with flows whose
         * handshake it did not see. */
        if (pk->payload_len == 0)
            return;
        if (cl->live >= NDPI_MAX_LIVE_FLOWS) { /* [CLS-NDPI-CAP] */
            cl->st->ndpi_skipped++;
            c->is_ndpi_done = true;
            return;
        }
        c->ndpi_flow = ndpi_flow_malloc(SIZEOF_FLOW_STRUCT);
        if (c->ndpi_flow == NULL) {
            c->is_ndpi_done = true;
            return;
        }
        memset(c->ndpi_flow, 0, SIZEOF_FLOW_STRUCT);
        cl->live++;
        cl->st->ndpi_flows++;
    }
    if (pk->l3_len > 0xffff) /* [CLS-NDPI-LEN] its length is 16 bits */
        return;
    struct ndpi_flow_struct *f = c->ndpi_flow;
    ndpi_protocol pr = ndpi_detection_process_packet(cl->mod, f, pk->l3, (unsigned short)pk->l3_len,
                                                     (uint64_t)(pk->ts / 1000));
    c->ndpi_pkts++;
    bool known =
        pr.master_protocol != NDPI_PROTOCOL_UNKNOWN || pr.app_protocol != NDPI_PROTOCOL_UNKNOWN;
    /* Once nDPI names the protocol, postcard's own dissectors take over: its
     * extra dissection (certificates, sub-protocols from the SNI) would only
     * repeat that work, so it is not waited for. */
    if (known) {
        ndpi_done(cl, c, pr);
    } else if (c->ndpi_pkts >= CLASSIFY_MAX_PKTS) {
        uint8_t guessed = 0;
        if (!known)
            pr = ndpi_detection_giveup(cl->mod, f, 1, &guessed);
        ndpi_done(cl, c, pr);
    }
}

void classify_end(struct classifier *cl, struct classify *c, const struct pkt *last)
{
    (void)last;
    if (c->is_ndpi_done)
        return;
    if (c->ndpi_flow == NULL) {
        c->is_ndpi_done = true;
        return;
    }
    uint8_t guessed = 0;
    ndpi_protocol pr = ndpi_detection_giveup(cl->mod, c->ndpi_flow, 1, &guessed);
    ndpi_done(cl, c, pr);
}

static bool starts(const uint8_t *p, size_t n, const char *s)
{
    size_t k = strlen(s);
    return n >= k && memcmp(p, s, k) == 0;
}

bool classify_bytes_are_tls(const uint8_t *p, size_t n)
{
    if (n >= 3 && p[0] >= 0x14 && p[0] <= 0x17 && p[1] == 0x03 && p[2] <= 0x04)
        return true; /* RFC 8446 §5.1 record: type, legacy version 3.x */
    /* SSLv2 CLIENT-HELLO: 2-byte length with the high bit set, type 1, version 2 or 3.x */
    if (n >= 5 && (p[0] & 0x80) && p[2] == 0x01 && (p[3] == 0x00 || p[3] == 0x03) &&
        (p[3] != 0x00 || p[4] == 0x02))
        return true;
    return false;
}

void classify_stream_start(struct classify *c, int dir, const uint8_t *p, size_t n)
{
    if (dir < 0 || dir > 1 || c->is_sniffed[dir] || n == 0)
        return;
    c->is_sniffed[dir] = true;
    if (dir == 0 && !c->is_sniffed[1])
        c->client_first = true;
    enum proto a = PROTO_UNKNOWN;
    if (classify_bytes_are_tls(p, n)) {
        a = PROTO_TLS;
    } else if (dir == 1 && !c->client_first) { /* [CLS-REDIS-OK] servers speak first */
        if (starts(p, n, "220 ") || starts(p, n, "220-") || starts(p, n, "220\r"))
            a = PROTO_SMTP;
        else if (starts(p, n, "+OK"))
            a = PROTO_POP3;
        else if (starts(p, n, "* OK") || starts(p, n, "* PREAUTH"))
            a = PROTO_IMAP;
    }
    if (a != PROTO_UNKNOWN && (c->by != BY_CONTENT)) {
        c->app = (uint8_t)a;
        c->by = BY_CONTENT;
    }
}

bool classify_is_mail_or_tls(const struct classify *c)
{
    return proto_is_mail(c->app) || c->app == PROTO_TLS;
}

bool classify_is_settled(const struct classify *c)
{
    return c->by == BY_CONTENT || c->is_ndpi_done;
}

const char *classify_app_name(const struct classifier *cl, const struct classify *c, char *buf,
                              size_t n)
{
    if (c->app != PROTO_OTHER && c->app != PROTO_UNKNOWN)
        return proto_name(c->app);
    uint16_t id = c->ndpi_master != NDPI_PROTOCOL_UNKNOWN ? c->ndpi_master : c->ndpi_proto;
    if (id == NDPI_PROTOCOL_UNKNOWN)
        return "unknown";
    const char *name = ndpi_get_proto_name(cl->mod, id);
    if (name == NULL)
        return "unknown";
    size_t i = 0;
    for (; name[i] != '\0' && i + 1 < n; i++)
        buf[i] = (char)tolower((unsigned char)name[i]);
    buf[i] = '\0';
    return buf;
}

const char *classify_ndpi_name(const struct classifier *cl, const struct classify *c, char *buf,
                               size_t n)
{
    ndpi_protocol pr = {c->ndpi_master, c->ndpi_proto, NDPI_PROTOCOL_CATEGORY_UNSPECIFIED};
    return ndpi_protocol2name(cl->mod, pr, buf, (u_int)n);
}

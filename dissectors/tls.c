/*
 * tls.c — the TLS record layer as seen on the wire: RFC 8446 §5 (TLS 1.3),
 * RFC 5246 §6 (TLS 1.2), RFC 6101 (SSLv3), and the SSLv2 record framing
 * (draft-hickman-netscape-ssl-00) of SSLv2 and SSLv2-format hellos.
 *
 *   per direction: HEADER (5 bytes; 2 for SSLv2) ─▶ PAYLOAD (length bytes)
 *     handshake, in clear ─▶ reassembled into whole messages ─▶ tls-hs.c
 *     alert, in clear      ─▶ EV_TLS_ALERT
 *     change_cipher_spec   ─▶ this direction is encrypted from here (<= 1.2)
 *     after the keys change: records are only counted
 *   both directions finished (Finished after CCS; TLS 1.3: encrypted
 *   records after the ServerHello) ─▶ EV_TLS_DONE complete=true ─▶ nothing
 *   more is read, in either direction
 *
 * Handshake messages may span records and records may span segments; the
 * handshake bytes are kept in a bounded buffer per direction (TLS_HS_MAX),
 * and a larger message is skipped and counted. The buffers grow as bytes
 * come and are freed by release() (the dissectors' one allocation).
 *
 * Hazards: [TLS-REC-LEN] [TLS-NOT-TLS] [TLS-HS-OVERSIZE] [TLS-V2-LEN] [TLS-GAP]
 *          [TLS-AFTER-DONE] [TLS-HS-KEY-CHANGE] [TLS-HS-MEM]
 */
#include <stdlib.h>
#include <string.h>

#include "cursor.h"
#include "line.h"
#include "tls-int.h"

static void tls_init(void *st)
{
    memset(st, 0, sizeof(struct tls));
}

/* [TLS-HS-MEM] The handshake buffers are allocated as bytes come, not with the state: a
 * spoofed ClientHello holds a few KiB, not 2 x TLS_HS_MAX. */
static void tls_release(void *st)
{
    struct tls *t = st;
    for (int d = 0; d < 2; d++) {
        free(t->dir[d].hs);
        t->dir[d].hs = NULL;
        t->dir[d].hs_cap = 0;
        t->dir[d].hs_len = 0;
    }
}

/* Room for need bytes in s->hs (need <= TLS_HS_MAX); false if memory ran out. */
static bool hs_reserve(struct tls_dir *s, size_t need)
{
    if (need <= s->hs_cap)
        return true;
    size_t cap = s->hs_cap ? s->hs_cap : TLS_HS_FIRST;
    while (cap < need)
        cap *= 2;
    if (cap > TLS_HS_MAX)
        cap = TLS_HS_MAX;
    uint8_t *p = realloc(s->hs, cap);
    if (p == NULL)
        return false;
    s->hs = p;
    s->hs_cap = (uint32_t)cap;
    return true;
}

static void give_up(struct tls_dir *s, enum dir d, enum ev_anomaly a, const struct emitter *em)
{
    dissect_anomaly(em, d, a);
    s->is_dead = true;
    s->hs_len = 0;
}

static void check_done(struct tls *t, const struct emitter *em)
{
    if (t->done_sent || !t->seen_server_hello)
        return;
    if (t->dir[0].seen_finished && t->dir[1].seen_finished) {
        t->done_sent = true;
        struct event ev = {.type = EV_TLS_DONE, .dir = DIR_TO_CLIENT, .u.done.complete = true};
        emit(em, &ev);
    }
}

/* Append handshake bytes and hand on every whole message. */
static void handshake_bytes(struct tls *t, enum dir d, const uint8_t *p, size_t n,
                            const struct emitter *em)
{
    struct tls_dir *s = &t->dir[d];
    while (n > 0 && !s->is_dead) {
        if (s->hs_skipping) {
            size_t k = n < s->hs_skip ? n : s->hs_skip;
            s->hs_skip -= (uint32_t)k;
            p += k;
            n -= k;
            s->hs_skipping = s->hs_skip > 0;
            continue;
        }
        size_t room = TLS_HS_MAX - s->hs_len;
        size_t k = n < room ? n : room;
        if (!hs_reserve(s, s->hs_len + k)) {
            give_up(s, d, EVA_TLS_HS_TOO_BIG, em);
            return;
        }
        memcpy(s->hs + s->hs_len, p, k);
        s->hs_len += (uint32_t)k;
        p += k;
        n -= k;
        while (s->hs_len >= 4 && !s->is_dead) {
            struct cursor c = cur_make(s->hs, s->hs_len);
            uint8_t type = cur_u8(&c);
            uint32_t len = cur_be24(&c);
            if (4 + (size_t)len > TLS_HS_MAX) { /* [TLS-HS-OVERSIZE] */
                dissect_anomaly(em, d, EVA_TLS_HS_TOO_BIG);
                s->hs_skip = 4 + len - s->hs_len;
                s->hs_skipping = s->hs_skip > 0;
                s->hs_len = 0;
                break;
            }
            if (s->hs_len < 4 + len)
                break; /* the rest of the message comes in a later record */
            tls_hs_message(t, d, type, s->hs + 4, len, em);
            memmove(s->hs, s->hs + 4 + len, s->hs_len - 4 - len);
            s->hs_len -= 4 + len;
            if (s->is_encrypted) { /* [TLS-HS-KEY-CHANGE] */
                /* A TLS 1.3 ServerHello: what follows it in its record is encrypted (RFC
                 * 8446 §5.1: no message spans a key change), read as payload() reads the
                 * bytes of a record after the keys changed, however the record was cut */
                if (s->hs_len > 0 || n > 0)
                    s->seen_finished = true;
                s->hs_len = 0;
                return;
            }
        }
    }
}

static void alert_bytes(struct tls *t, enum dir d, const uint8_t *p, size_t n,
                        const struct emitter *em)
{
    struct tls_dir *s = &t->dir[d];
    for (size_t i = 0; i < n; i++) {
        s->alert[s->alert_len++] = p[i];
        if (s->alert_len == 2) { /* RFC 8446 §6: level, description */
            struct event ev = {.type = EV_TLS_ALERT, .dir = d};
            ev.u.alert.level = s->alert[0];
            ev.u.alert.desc = s->alert[1];
            emit(em, &ev);
            if (s->alert[0] == 2)
                t->failed = true;
            s->alert_len = 0;
        }
    }
}

/* The bytes of the record being read. */
static void payload(struct tls *t, enum dir d, const uint8_t *p, size_t n, const struct emitter *em)
{
    struct tls_dir *s = &t->dir[d];
    if (s->is_v2) { /* whole SSLv2 records are parsed at their end */
        size_t room = TLS_HS_MAX - s->hs_len;
        size_t k = n < room ? n : room;
        if (!hs_reserve(s, s->hs_len + k)) {
            give_up(s, d, EVA_TLS_HS_TOO_BIG, em);
            return;
        }
        memcpy(s->hs + s->hs_len, p, k);
        s->hs_len += (uint32_t)k;
        return;
    }
    switch (s->rec_type) {
    case TLS_CT_HANDSHAKE:
        if (s->is_encrypted)
            s->seen_finished = true; /* Finished (and later renegotiation) */
        else
            handshake_bytes(t, d, p, n, em);
        break;
    case TLS_CT_ALERT:
        if (!s->is_encrypted)
            alert_bytes(t, d, p, n, em);
        break;
    case TLS_CT_APPDATA:
        if (s->is_encrypted && t->is_tls13)
            s->seen_finished = true; /* TLS 1.3: encrypted handshake messages */
        break;
    default:
        break;
    }
}

/* A record ends. */
static void record_end(struct tls *t, enum dir d, const struct emitter *em)
{
    struct tls_dir *s = &t->dir[d];
    if (s->is_v2) {
        tls_v2_record(t, d, s->hs, s->hs_len, em);
        s->hs_len = 0;
        s->is_v2 = false;
    } else if (s->rec_type == TLS_CT_CCS) {
        s->seen_ccs = true;
        /* RFC 8446 §5 and §D.4: in TLS 1.3, and around a HelloRetryRequest
         * (after which a second ClientHello comes in clear), CCS is a
         * compatibility no-op */
        if (!t->is_tls13 && !t->seen_hrr)
            s->is_encrypted = true;
    } else if (s->rec_type == TLS_CT_ALERT && s->is_encrypted) {
        struct event ev = {.type = EV_TLS_ALERT, .dir = d, .u.alert.is_encrypted = true};
        emit(em, &ev);
    }
    s->hdr_len = 0;
    check_done(t, em);
}

/* Is this the start of an SSLv2 record (2-byte header, high bit set)? */
static bool looks_v2(const uint8_t *p, size_t n)
{
    return n >= 1 && (p[0] & 0x80) != 0;
}

static size_t tls_feed(void *st, enum dir d, const uint8_t *p, size_t n, const struct emitter *em)
{
    struct tls *t = st;
    struct tls_dir *s = &t->dir[d];
    size_t used = 0;
    while (used < n) {
        /* [TLS-AFTER-DONE] the sensor feeds nothing after EV_TLS_DONE: bytes that came in
         * the same segment as the handshake's end must not tell more than later ones */
        if (s->is_dead || t->done_sent)
            return n;
        const uint8_t *q = p + used;
        size_t left = n - used;
        size_t hdr_size = s->is_v2 ? 2 : 5;
        if (s->hdr_len < hdr_size) {
            if (s->hdr_len == 0 && !s->is_started) {
                s->is_started = true;
                s->is_v2 = looks_v2(q, left);
                hdr_size = s->is_v2 ? 2 : 5;
            }
            size_t k = hdr_size - s->hdr_len;
            if (k > left)
                k = left;
            memcpy(s->hdr + s->hdr_len, q, k);
            s->hdr_len += (uint8_t)k;
            used += k;
            if (s->hdr_len < hdr_size)
                break;
            struct cursor c = cur_make(s->hdr, hdr_size);
            if (s->is_v2) { /* [TLS-V2-LEN] 15-bit length, no padding form */
                uint32_t len = cur_be16(&c) & 0x7fff;
                if (len < 3 || len > TLS_HS_MAX) {
                    give_up(s, d, EVA_TLS_BAD_LENGTH, em);
                    continue;
                }
                s->rec_left = len;
                s->hs_len = 0;
                continue;
            }
            s->rec_type = cur_u8(&c);
            uint8_t major = cur_u8(&c);
            cur_skip(&c, 1);
            uint16_t len = cur_be16(&c);
            if (s->rec_type < TLS_CT_CCS || s->rec_type > TLS_CT_HEARTBEAT || major != 3) {
                give_up(s, d, EVA_TLS_NOT_TLS, em); /* [TLS-NOT-TLS] */
                continue;
            }
            if (len > TLS_REC_MAX) { /* [TLS-REC-LEN] RFC 8446 §5.2 */
                give_up(s, d, EVA_TLS_BAD_LENGTH, em);
                continue;
            }
            s->rec_left = len;
            if (len == 0)
                record_end(t, d, em);
            continue;
        }
        size_t k = s->rec_left < left ? s->rec_left : left;
        payload(t, d, q, k, em);
        s->rec_left -= (uint32_t)k;
        used += k;
        if (s->rec_left == 0)
            record_end(t, d, em);
    }
    return used;
}

static void tls_gap(void *st, enum dir d, uint64_t n, const struct emitter *em)
{
    struct tls *t = st;
    struct tls_dir *s = &t->dir[d];
    if (s->is_dead || t->done_sent) /* [TLS-AFTER-DONE] */
        return;
    /* [TLS-GAP] inside opaque records a gap costs nothing; elsewhere the
     * framing is lost and this direction is given up */
    size_t hdr_size = s->is_v2 ? 2 : 5;
    if (s->hdr_len == hdr_size && s->is_encrypted && n <= s->rec_left) {
        s->rec_left -= (uint32_t)n;
        if (s->rec_left == 0)
            record_end(t, d, em);
        return;
    }
    give_up(s, d, EVA_GAP, em);
}

static void tls_finish(void *st, const struct emitter *em)
{
    struct tls *t = st;
    if (!t->done_sent) {
        t->done_sent = true;
        struct event ev = {.type = EV_TLS_DONE, .dir = DIR_TO_CLIENT, .u.done.complete = false};
        emit(em, &ev);
    }
}

const struct dissector tls_dissector = {
    .name = "tls",
    .state_size = sizeof(struct tls),
    .init = tls_init,
    .feed = tls_feed,
    .gap = tls_gap,
    .finish = tls_finish,
    .release = tls_release,
};

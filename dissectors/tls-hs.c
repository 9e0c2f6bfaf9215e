/*
 * tls-hs.c — TLS handshake messages: ClientHello and ServerHello (RFC 8446
 * §4.1.2-4.1.4, RFC 5246 §7.4.1), Certificate (RFC 5246 §7.4.2),
 * ServerKeyExchange (RFC 5246 §7.4.3, RFC 8422 §5.4), and the SSLv2
 * CLIENT-HELLO / SERVER-HELLO (draft-hickman-netscape-ssl-00 §B).
 *
 * Also builds the JA3 and JA3S strings (Salesforce's JA3: version, suites,
 * extensions, groups, point formats as decimal lists; GREASE values of RFC
 * 8701 left out). The fingerprint hash is the sensor's (it has libcrypto).
 *
 * Every field is read through cursor.h; a length that runs past its message
 * is an anomaly and the message is dropped.
 *
 * Hazards: [TLS-HS-LEN] [TLS-EXT-LEN] [TLS-CERT-LEN] [TLS-JA3-ROOM] [TLS-V2-LEN]
 */
#include <string.h>

#include "cursor.h"
#include "tls-ciphers.h"
#include "line.h"
#include "tls-int.h"

enum {
    HS_CLIENT_HELLO = 1,
    HS_SERVER_HELLO = 2,
    HS_CERTIFICATE = 11,
    HS_SERVER_KEY_EXCHANGE = 12,
};

enum {
    EXT_SERVER_NAME = 0,
    EXT_SUPPORTED_GROUPS = 10,
    EXT_EC_POINT_FORMATS = 11,
    EXT_SIGNATURE_ALGORITHMS = 13,
    EXT_HEARTBEAT = 15,
    EXT_ALPN = 16,
    EXT_ENCRYPT_THEN_MAC = 22,
    EXT_EXTENDED_MASTER_SECRET = 23,
    EXT_SUPPORTED_VERSIONS = 43,
    EXT_RENEGOTIATION_INFO = 0xff01,
};

/* RFC 8446 §4.1.3: the ServerHello.random of a HelloRetryRequest */
static const uint8_t hrr_random[32] = {
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C};

/* Order of versions: SSL 3.0 < TLS 1.0 < 1.1 < 1.2 < 1.3 drafts (0x7fXX) < 1.3. */
static unsigned version_rank(uint16_t v)
{
    if ((v & 0xff00) == 0x7f00)
        return 0x0303 * 256 + (v & 0xff);
    if (v == 0x0304)
        return 0x0304 * 256;
    if (v >= 0x0300 && v < 0x0304)
        return (unsigned)v * 256;
    return 0;
}

static bool is_grease(uint16_t v)
{
    return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff); /* RFC 8701 §2 */
}

/* A string being built in a fixed buffer; writes past its end are dropped. */
struct sbuf {
    char *p;    /* buffer */
    size_t cap; /* its size */
    size_t len; /* bytes used */
    bool first; /* no number yet in the current list */
};

static void sb_char(struct sbuf *b, char c)
{
    if (b->len + 1 < b->cap) /* [TLS-JA3-ROOM] keep room for the NUL */
        b->p[b->len++] = c;
}

static void sb_num(struct sbuf *b, unsigned v)
{
    char tmp[8];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v && n < 8);
    if (!b->first)
        sb_char(b, '-');
    b->first = false;
    while (n > 0)
        sb_char(b, tmp[--n]);
}

static void sb_field(struct sbuf *b)
{
    sb_char(b, ',');
    b->first = true;
}

static struct span sb_span(struct sbuf *b)
{
    b->p[b->len < b->cap ? b->len : b->cap - 1] = '\0';
    struct span s = {(const uint8_t *)b->p, b->len};
    return s;
}

static void client_hello(struct tls *t, const uint8_t *body, uint32_t len, const struct emitter *em)
{
    struct cursor c = cur_make(body, len);
    struct event ev = {.type = EV_TLS_CLIENT_HELLO, .dir = DIR_TO_SERVER};
    struct ev_tls_ch *ch = &ev.u.tls_ch;
    ch->legacy_version = cur_be16(&c);
    ch->max_version = ch->legacy_version;
    cur_skip(&c, 32);         /* random */
    cur_skip(&c, cur_u8(&c)); /* legacy_session_id */
    struct cursor suites = cur_sub(&c, cur_be16(&c));
    struct cursor comp = cur_sub(&c, cur_u8(&c));
    if (!comp.bad) {
        ch->compression.p = comp.p;
        ch->compression.n = comp.left;
    }
    if (c.bad || suites.bad) { /* [TLS-HS-LEN] report the version, which was readable */
        dissect_anomaly(em, DIR_TO_SERVER, EVA_TLS_BAD_LENGTH);
        struct sbuf e = {t->ja3, sizeof t->ja3, 0, true};
        sb_num(&e, ch->legacy_version);
        sb_field(&e);
        sb_field(&e);
        sb_field(&e);
        sb_field(&e);
        ch->ja3 = sb_span(&e);
        t->seen_client_hello = true;
        emit(em, &ev);
        return;
    }
    if (suites.left % 2 != 0) { /* [TLS-HS-LEN] RFC 8446 §4.1.2: 2 bytes per suite */
        dissect_anomaly(em, DIR_TO_SERVER, EVA_TLS_BAD_LENGTH);
        suites.left -= 1;
    }
    ch->ciphers.p = suites.p;
    ch->ciphers.n = suites.left;
    ch->n_ciphers = (uint16_t)(suites.left / 2);
    struct sbuf b = {t->ja3, sizeof t->ja3, 0, true};
    sb_num(&b, ch->legacy_version);
    sb_field(&b);
    while (suites.left >= 2) {
        uint16_t s = cur_be16(&suites);
        if (s == 0x00ff)
            ch->has_reneg_info = true; /* RFC 5746 §3.3 SCSV */
        if (!is_grease(s))
            sb_num(&b, s);
    }
    sb_field(&b);
    struct cursor groups = cur_make(NULL, 0), formats = cur_make(NULL, 0);
    if (c.left >= 2) {
        struct cursor exts = cur_sub(&c, cur_be16(&c));
        if (exts.bad) { /* [TLS-EXT-LEN] the extensions are dropped, the rest is reported */
            dissect_anomaly(em, DIR_TO_SERVER, EVA_TLS_BAD_LENGTH);
            exts.left = 0;
        }
        while (exts.left >= 4) {
            uint16_t type = cur_be16(&exts);
            struct cursor e = cur_sub(&exts, cur_be16(&exts));
            if (exts.bad || e.bad) {
                dissect_anomaly(em, DIR_TO_SERVER, EVA_TLS_BAD_LENGTH);
                break;
            }
            if (!is_grease(type))
                sb_num(&b, type);
            bool inner_bad = false; /* [TLS-EXT-LEN] a length inside the extension lies */
            switch (type) {
            case EXT_SERVER_NAME: { /* RFC 6066 §3 */
                struct cursor list = cur_sub(&e, cur_be16(&e));
                inner_bad = list.bad;
                while (list.left >= 3) {
                    uint8_t nt = cur_u8(&list);
                    struct cursor name = cur_sub(&list, cur_be16(&list));
                    inner_bad |= name.bad;
                    if (nt == 0 && !name.bad && ch->sni.n == 0) {
                        ch->sni.p = name.p;
                        ch->sni.n = name.left;
                    }
                }
                break;
            }
            case EXT_SUPPORTED_GROUPS:
                groups = cur_sub(&e, cur_be16(&e));
                inner_bad = groups.bad;
                if (!groups.bad) {
                    ch->groups.p = groups.p;
                    ch->groups.n = groups.left & ~(size_t)1;
                }
                break;
            case EXT_SIGNATURE_ALGORITHMS: {
                struct cursor sa = cur_sub(&e, cur_be16(&e));
                inner_bad = sa.bad;
                if (!sa.bad) {
                    ch->sig_algs.p = sa.p;
                    ch->sig_algs.n = sa.left & ~(size_t)1;
                }
                break;
            }
            case EXT_EC_POINT_FORMATS:
                formats = cur_sub(&e, cur_u8(&e));
                inner_bad = formats.bad;
                break;
            case EXT_HEARTBEAT:
                ch->has_heartbeat = true;
                break;
            case EXT_ALPN: { /* RFC 7301 §3.1 */
                struct cursor list = cur_sub(&e, cur_be16(&e));
                struct cursor proto = cur_sub(&list, cur_u8(&list));
                inner_bad = list.bad || proto.bad;
                if (!proto.bad) {
                    ch->alpn.p = proto.p;
                    ch->alpn.n = proto.left;
                }
                break;
            }
            case EXT_ENCRYPT_THEN_MAC:
                ch->has_etm = true;
                break;
            case EXT_EXTENDED_MASTER_SECRET:
                ch->has_ems = true;
                break;
            case EXT_RENEGOTIATION_INFO:
                ch->has_reneg_info = true;
                break;
            case EXT_SUPPORTED_VERSIONS: { /* RFC 8446 §4.2.1 */
                struct cursor v = cur_sub(&e, cur_u8(&e));
                inner_bad = v.bad;
                uint16_t max = 0;
                while (v.left >= 2) {
                    uint16_t x = cur_be16(&v);
                    if (!is_grease(x) && version_rank(x) > version_rank(max))
                        max = x;
                }
                if (max)
                    ch->max_version = max;
                break;
            }
            default:
                break;
            }
            if (inner_bad)
                dissect_anomaly(em, DIR_TO_SERVER, EVA_TLS_BAD_LENGTH);
        }
    }
    sb_field(&b);
    if (groups.p != NULL && !groups.bad)
        while (groups.left >= 2) {
            uint16_t g = cur_be16(&groups);
            if (!is_grease(g))
                sb_num(&b, g);
        }
    sb_field(&b);
    if (formats.p != NULL && !formats.bad)
        while (formats.left >= 1)
            sb_num(&b, cur_u8(&formats));
    ch->ja3 = sb_span(&b);
    t->seen_client_hello = true;
    emit(em, &ev);
}

static void server_hello(struct tls *t, const uint8_t *body, uint32_t len, const struct emitter *em)
{
    struct cursor c = cur_make(body, len);
    struct event ev = {.type = EV_TLS_SERVER_HELLO, .dir = DIR_TO_CLIENT};
    struct ev_tls_sh *sh = &ev.u.tls_sh;
    uint16_t legacy = cur_be16(&c);
    uint8_t random[32];
    cur_copy(&c, random, 32);
    cur_skip(&c, cur_u8(&c)); /* legacy_session_id_echo */
    sh->cipher = cur_be16(&c);
    sh->compression = cur_u8(&c);
    if (c.bad) { /* [TLS-HS-LEN] */
        dissect_anomaly(em, DIR_TO_CLIENT, EVA_TLS_BAD_LENGTH);
        return;
    }
    sh->version = legacy;
    sh->is_hrr = memcmp(random, hrr_random, 32) == 0;
    struct sbuf b = {t->ja3, sizeof t->ja3, 0, true};
    sb_num(&b, legacy);
    sb_field(&b);
    sb_num(&b, sh->cipher);
    sb_field(&b);
    if (c.left >= 2) {
        struct cursor exts = cur_sub(&c, cur_be16(&c));
        if (exts.bad) { /* [TLS-EXT-LEN] extensions dropped, the hello still reported */
            dissect_anomaly(em, DIR_TO_CLIENT, EVA_TLS_BAD_LENGTH);
            exts.left = 0;
        }
        while (exts.left >= 4) {
            uint16_t type = cur_be16(&exts);
            struct cursor e = cur_sub(&exts, cur_be16(&exts));
            if (exts.bad || e.bad) { /* [TLS-EXT-LEN] */
                dissect_anomaly(em, DIR_TO_CLIENT, EVA_TLS_BAD_LENGTH);
                break;
            }
            sb_num(&b, type);
            if (type == EXT_SUPPORTED_VERSIONS && e.left >= 2)
                sh->version = cur_be16(&e); /* RFC 8446 §4.2.1: selected_version */
        }
    }
    sh->ja3s = sb_span(&b);
    if (sh->is_hrr)
        t->seen_hrr = true;
    if (!sh->is_hrr) {
        t->seen_server_hello = true;
        t->version = sh->version;
        t->cipher = (uint16_t)sh->cipher;
        /* TLS 1.3 (and its drafts, 0x7fXX): both directions are encrypted from here */
        if (sh->version == 0x0304 || (sh->version & 0xff00) == 0x7f00) {
            t->is_tls13 = true;
            t->dir[0].is_encrypted = true;
            t->dir[1].is_encrypted = true;
        }
    }
    emit(em, &ev);
}

static void certs_end(const struct emitter *em)
{
    struct event ev = {.type = EV_TLS_CERTS_END, .dir = DIR_TO_CLIENT};
    emit(em, &ev);
}

static void certificate_list(struct tls *t, const uint8_t *body, uint32_t len,
                             const struct emitter *em)
{
    struct cursor c = cur_make(body, len);
    struct cursor list = cur_sub(&c, cur_be24(&c));
    if (list.bad) { /* [TLS-CERT-LEN] */
        dissect_anomaly(em, DIR_TO_CLIENT, EVA_TLS_BAD_LENGTH);
        return;
    }
    while (list.left >= 3) {
        struct cursor der = cur_sub(&list, cur_be24(&list));
        if (der.bad) {
            dissect_anomaly(em, DIR_TO_CLIENT, EVA_TLS_BAD_LENGTH);
            return;
        }
        struct event ev = {.type = EV_TLS_CERT, .dir = DIR_TO_CLIENT};
        ev.u.cert.der.p = der.p;
        ev.u.cert.der.n = der.left;
        ev.u.cert.index = t->n_certs < 255 ? t->n_certs++ : 255;
        emit(em, &ev);
    }
}

/* The server's Certificate message: each certificate, then the end of the chain. */
static void certificate(struct tls *t, const uint8_t *body, uint32_t len, const struct emitter *em)
{
    certificate_list(t, body, len, em);
    certs_end(em);
}

static void server_key_exchange(struct tls *t, const uint8_t *body, uint32_t len,
                                const struct emitter *em)
{
    const struct tls_cipher *cs = tls_cipher_lookup(t->cipher);
    if (cs == NULL || t->is_tls13)
        return;
    struct cursor c = cur_make(body, len);
    struct event ev = {.type = EV_TLS_KEX, .dir = DIR_TO_CLIENT};
    if (strstr(cs->name, "_PSK_") != NULL)
        cur_skip(&c, cur_be16(&c)); /* RFC 5489 §2, RFC 4279 §3: psk_identity_hint first */
    if (strstr(cs->name, "_ECDHE_") != NULL || strstr(cs->name, "_ECDH_anon_") != NULL) {
        uint8_t curve_type = cur_u8(&c); /* RFC 8422 §5.4: 3 = named_curve */
        uint16_t group = cur_be16(&c);
        if (c.bad || curve_type != 3)
            return;
        ev.u.kex.group = group;
    } else if (strstr(cs->name, "_DHE_") != NULL || strstr(cs->name, "_DH_anon_") != NULL) {
        struct cursor p = cur_sub(&c, cur_be16(&c)); /* RFC 5246 §7.4.3: dh_p */
        if (p.bad)
            return;
        while (p.left > 0 && cur_peek(&p, 0) == 0) /* leading zero bytes */
            cur_skip(&p, 1);
        unsigned bits = 0; /* a zero or empty prime has no bits at all */
        if (p.left > 0) {
            uint8_t top = cur_peek(&p, 0);
            bits = (unsigned)p.left * 8;
            for (uint8_t m = 0x80; m && !(top & m); m >>= 1)
                bits--;
        }
        ev.u.kex.dh_bits = (uint16_t)(bits > 65535 ? 65535 : bits);
    } else {
        return;
    }
    emit(em, &ev);
}

void tls_hs_message(struct tls *t, enum dir d, uint8_t type, const uint8_t *body, uint32_t len,
                    const struct emitter *em)
{
    if (d == DIR_TO_SERVER && type == HS_CLIENT_HELLO)
        client_hello(t, body, len, em);
    else if (d == DIR_TO_CLIENT && type == HS_SERVER_HELLO)
        server_hello(t, body, len, em);
    else if (d == DIR_TO_CLIENT && type == HS_CERTIFICATE && !t->is_tls13)
        certificate(t, body, len, em);
    else if (d == DIR_TO_CLIENT && type == HS_SERVER_KEY_EXCHANGE)
        server_key_exchange(t, body, len, em);
}

/* SSLv2 CLIENT-HELLO (type 1) and SERVER-HELLO (type 4), whole records. */
void tls_v2_record(struct tls *t, enum dir d, const uint8_t *rec, uint32_t len,
                   const struct emitter *em)
{
    struct cursor c = cur_make(rec, len);
    uint8_t type = cur_u8(&c);
    if (d == DIR_TO_SERVER && type == 1) {
        struct event ev = {.type = EV_TLS_CLIENT_HELLO, .dir = d};
        struct ev_tls_ch *ch = &ev.u.tls_ch;
        ch->is_sslv2 = true;
        ch->legacy_version = cur_be16(&c);
        ch->max_version = ch->legacy_version;
        uint16_t specs_len = cur_be16(&c);
        uint16_t sid_len = cur_be16(&c);
        uint16_t chal_len = cur_be16(&c);
        struct cursor specs = cur_sub(&c, specs_len);
        cur_skip(&c, sid_len);
        cur_skip(&c, chal_len);
        if (c.bad || specs.bad || specs_len % 3 != 0) { /* [TLS-V2-LEN] */
            dissect_anomaly(em, d, EVA_TLS_BAD_LENGTH);
            return;
        }
        struct sbuf b = {t->ja3, sizeof t->ja3, 0, true};
        sb_num(&b, ch->legacy_version);
        sb_field(&b);
        size_t n = 0;
        while (specs.left >= 3) {
            uint32_t kind = cur_be24(&specs);
            /* a V3 suite in an SSLv2 hello has a zero first byte; a pure
             * SSLv2 kind is kept as its low 16 bits marked by 0xff00 */
            uint16_t id = (kind >> 16) == 0 ? (uint16_t)kind : (uint16_t)(0xff00 | (kind >> 16));
            if (n + 2 <= sizeof t->ciphers) {
                t->ciphers[n++] = (uint8_t)(id >> 8);
                t->ciphers[n++] = (uint8_t)id;
            }
            if (kind == 0x0000ff)
                ch->has_reneg_info = true; /* RFC 5746 §3.3 SCSV */
            if ((kind >> 16) == 0 && !is_grease((uint16_t)kind))
                sb_num(&b, (uint16_t)kind);
        }
        sb_field(&b);
        sb_field(&b);
        sb_field(&b);
        ch->ciphers.p = t->ciphers;
        ch->ciphers.n = n;
        ch->n_ciphers = (uint16_t)(n / 2);
        ch->ja3 = sb_span(&b);
        t->seen_client_hello = true;
        emit(em, &ev);
        return;
    }
    if (d == DIR_TO_CLIENT && type == 4) {
        struct event ev = {.type = EV_TLS_SERVER_HELLO, .dir = d};
        struct ev_tls_sh *sh = &ev.u.tls_sh;
        cur_skip(&c, 1);                /* session_id_hit */
        uint8_t cert_type = cur_u8(&c); /* 1 = X.509 */
        sh->version = cur_be16(&c);
        uint16_t cert_len = cur_be16(&c);
        uint16_t specs_len = cur_be16(&c);
        cur_skip(&c, 2); /* connection id length */
        struct cursor cert = cur_sub(&c, cert_len);
        struct cursor specs = cur_sub(&c, specs_len);
        if (c.bad || cert.bad || specs.bad) { /* [TLS-V2-LEN] */
            dissect_anomaly(em, d, EVA_TLS_BAD_LENGTH);
            return;
        }
        sh->is_sslv2 = true;
        sh->cipher = specs.left >= 3 ? cur_be24(&specs) : 0;
        struct sbuf b = {t->ja3, sizeof t->ja3, 0, true};
        sb_num(&b, sh->version);
        sb_field(&b);
        sb_num(&b, sh->cipher);
        sb_field(&b);
        sh->ja3s = sb_span(&b);
        t->seen_server_hello = true;
        t->version = sh->version;
        emit(em, &ev);
        if (cert_type == 1 && cert.left > 0) {
            struct event ce = {.type = EV_TLS_CERT, .dir = d};
            ce.u.cert.der.p = cert.p;
            ce.u.cert.der.n = cert.left;
            ce.u.cert.index = t->n_certs++;
            emit(em, &ce);
            certs_end(em);
        }
        /* the rest of SSLv2 (CLIENT-MASTER-KEY, FINISHED) is framed as SSLv2
         * and mostly encrypted: nothing more to learn, skip it quietly */
        t->dir[0].is_dead = t->dir[1].is_dead = true;
        return;
    }
    dissect_anomaly(em, d, EVA_TLS_NOT_TLS);
    t->dir[d].is_dead = true; /* not a hello we know: this direction is given up */
}

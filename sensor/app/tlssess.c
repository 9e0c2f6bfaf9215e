/*
 * tlssess.c — a TLS session: TLS dissector events folded into facts, then
 * certificate verdicts judged at the packet's time and the "tls" record.
 *
 * Verdicts (RFC 5280, CA/Browser Forum baseline requirements):
 *   expired / not_yet_valid   packet time outside notBefore..notAfter
 *   days_left                 whole days from packet time to notAfter
 *   self_signed               issuer = subject and its own key verifies it
 *   weak_key                  RSA/DSA < 2048 bits, EC < 224 bits
 *   weak_signature            MD5 or SHA-1 (or older) signature hash
 *   validity_too_long         more than 398 days between notBefore and notAfter
 *   name_mismatch (leaf)      the SNI, or else the name of the mail greeting,
 *                             is not a name of the certificate (RFC 6125)
 *   trusted                   the chain from this certificate verifies against
 *                             the trust store at packet time
 *
 * With --anonymize the record keeps every verdict but not the names that
 * point at the server: the SNI, and the subject, SANs, serial and SHA-256 of
 * the server's certificate (the last two find it in Certificate Transparency
 * logs, which give its names), and its issuer when it issued itself. CA
 * certificates after it keep theirs: they name CAs (docs/anonymize.md).
 *
 * Hazards: [TLS-SNI-CUT] [TLS-CHAIN-CAP]
 *          [TLS-ANON-NAMES] a name or an identifier of the server's own
 *          certificate must not be written when ec->anon is set.
 *          [TLS-CUT] a session whose flow was evicted did not end: its handshake is
 *          not finished as "ended unfinished", and handshake_complete is null.
 */
#include "app/tlssess.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dissector.h"
#include "eve/eve.h"
#include "proto.h"
#include "tls-ciphers.h"

struct tls_session *tls_session_new(int from_proto, const char *expect_host)
{
    struct tls_session *ts = xcalloc(1, sizeof *ts);
    ts->from_proto = from_proto;
    if (expect_host != NULL)
        snprintf(ts->expect_host, sizeof ts->expect_host, "%s", expect_host);
    ts->dstate = xmalloc(tls_dissector.state_size);
    tls_dissector.init(ts->dstate);
    return ts;
}

static void release_state(struct tls_session *ts)
{
    if (ts->dstate != NULL)
        tls_dissector.release(ts->dstate);
    free(ts->dstate);
    ts->dstate = NULL;
}

void tls_session_free(struct tls_session *ts)
{
    if (ts == NULL)
        return;
    release_state(ts);
    for (unsigned i = 0; i < ts->n_certs; i++)
        x509_cert_free(ts->refs[i]);
    free(ts->ja3);
    free(ts->ja3s);
    free(ts);
}

static void copy_text(char *dst, size_t cap, struct span s)
{
    size_t n = s.n < cap - 1 ? s.n : cap - 1; /* [TLS-SNI-CUT] */
    if (n > 0)
        memcpy(dst, s.p, n);
    dst[n] = '\0';
}

static char *dup_span(struct span s)
{
    char *p = xmalloc(s.n + 1);
    if (s.n > 0)
        memcpy(p, s.p, s.n);
    p[s.n] = '\0';
    return p;
}

static void settle_suite(struct tls_session *ts);
static void judge_chain(struct tls_session *ts, struct tls_ctx *ctx);

struct tls_evctx {
    struct tls_session *ts; /* the session */
    struct tls_ctx *ctx;    /* shared state */
    pc_time now;            /* packet time */
};

static void on_cert(struct tls_session *ts, struct tls_ctx *ctx, const struct event *ev,
                    pc_time now)
{
    ts->n_certs_seen++;
    if (ts->n_certs == TLS_CERTS_MAX) /* [TLS-CHAIN-CAP] */
        return;
    if (ts->n_certs == 0)
        ts->cert_time = now;
    const struct x509_info *info = NULL;
    struct tls_cert_fact *cf = &ts->certs[ts->n_certs];
    struct x509_cert *c = certcache_get(ctx->certs, ev->u.cert.der.p, ev->u.cert.der.n, &info);
    cf->der_len = (uint32_t)ev->u.cert.der.n;
    cf->parsed = info != NULL;
    if (info != NULL)
        cf->info = *info;
    ts->refs[ts->n_certs] = c;
    ts->n_certs++;
}

static void on_tls_event(void *arg, const struct event *ev)
{
    struct tls_evctx *c = arg;
    struct tls_session *ts = c->ts;
    switch (ev->type) {
    case EV_TLS_CLIENT_HELLO:
    case EV_TLS_SERVER_HELLO:
    case EV_TLS_CERTS_END:
    case EV_TLS_ALERT:
    case EV_TLS_DONE:
        ts->facts_changed = true;
        break;
    case EV_ANOMALY:
        if (ev->u.anomaly == EVA_TLS_NOT_TLS) {
            ts->not_tls = true; /* that direction is given up: no handshake can finish */
            ts->facts_changed = true;
        }
        break;
    default:
        break;
    }
    switch (ev->type) {
    case EV_TLS_CLIENT_HELLO: {
        const struct ev_tls_ch *ch = &ev->u.tls_ch;
        if (ts->seen_ch)
            break; /* the second hello after a HelloRetryRequest: the first one counts */
        ts->seen_ch = true;
        ts->is_sslv2_hello = ch->is_sslv2;
        ts->client_version = ch->legacy_version;
        ts->client_max = ch->max_version;
        ts->has_heartbeat = ch->has_heartbeat;
        ts->has_reneg = ch->has_reneg_info;
        ts->has_etm = ch->has_etm;
        ts->has_ems = ch->has_ems;
        for (size_t i = 0; i + 1 < ch->groups.n && ts->n_groups < 32; i += 2)
            ts->groups[ts->n_groups++] = (uint16_t)(ch->groups.p[i] << 8 | ch->groups.p[i + 1]);
        for (size_t i = 0; i + 1 < ch->sig_algs.n && ts->n_sig_algs < 32; i += 2)
            ts->sig_algs[ts->n_sig_algs++] =
                (uint16_t)(ch->sig_algs.p[i] << 8 | ch->sig_algs.p[i + 1]);
        for (size_t i = 0; i < ch->compression.n && ts->n_comp < 8; i++)
            ts->comp[ts->n_comp++] = ch->compression.p[i];
        copy_text(ts->sni, sizeof ts->sni, ch->sni);
        copy_text(ts->alpn, sizeof ts->alpn, ch->alpn);
        ts->ja3 = dup_span(ch->ja3);
        x509_md5_hex(ch->ja3.p, ch->ja3.n, ts->ja3_hash);
        break;
    }
    case EV_TLS_SERVER_HELLO: {
        const struct ev_tls_sh *sh = &ev->u.tls_sh;
        if (sh->is_hrr) { /* RFC 8446 §4.1.4: it already selects version and suite */
            ts->hrr = true;
            if (!ts->seen_sh) {
                ts->version = sh->version;
                ts->cipher = sh->cipher;
                settle_suite(ts);
            }
            break;
        }
        ts->seen_sh = true;
        ts->version = sh->version;
        ts->cipher = sh->cipher;
        ts->compression = sh->compression;
        ts->is_sslv2 = sh->is_sslv2;
        free(ts->ja3s);
        ts->ja3s = dup_span(sh->ja3s);
        x509_md5_hex(sh->ja3s.p, sh->ja3s.n, ts->ja3s_hash);
        settle_suite(ts);
        break;
    }
    case EV_TLS_CERT:
        on_cert(ts, c->ctx, ev, c->now);
        break;
    case EV_TLS_CERTS_END: /* the verdicts are known at the Certificate message */
        judge_chain(ts, c->ctx);
        break;
    case EV_TLS_KEX:
        ts->dh_bits = ev->u.kex.dh_bits;
        ts->group = ev->u.kex.group;
        break;
    case EV_TLS_ALERT:
        if (!ev->u.alert.is_encrypted && ev->u.alert.level == 2)
            ts->fatal_alert = true;
        if (ts->alert_seen)
            break;
        ts->alert_seen = true;
        ts->alert_encrypted = ev->u.alert.is_encrypted;
        ts->alert_level = ev->u.alert.level;
        ts->alert_desc = ev->u.alert.desc;
        ts->alert_dir = ev->dir == DIR_TO_SERVER ? 0 : 1;
        break;
    case EV_TLS_DONE:
        ts->is_done = true;
        ts->complete = ev->u.done.complete && !ts->fatal_alert;
        break;
    case EV_ANOMALY:
        ts->anomalies++;
        if ((unsigned)ev->u.anomaly < EVA_COUNT)
            c->ctx->st->mail_anomalies[ev->u.anomaly]++;
        break;
    default:
        break;
    }
}

void tls_session_data(struct tls_session *ts, struct tls_ctx *ctx, int dir, const uint8_t *p,
                      size_t n, pc_time now)
{
    if (ts->dstate == NULL)
        return;
    struct tls_evctx c = {ts, ctx, now};
    struct emitter em = {on_tls_event, &c};
    /* the TLS dissector keeps partial records itself: it always consumes everything */
    tls_dissector.feed(ts->dstate, dir == 0 ? DIR_TO_SERVER : DIR_TO_CLIENT, p, n, &em);
    if (ts->is_done)
        release_state(ts); /* nothing more to learn from encrypted bytes */
}

void tls_session_gap(struct tls_session *ts, struct tls_ctx *ctx, int dir, uint64_t n)
{
    if (ts->dstate == NULL)
        return;
    struct tls_evctx c = {ts, ctx, 0};
    struct emitter em = {on_tls_event, &c};
    tls_dissector.gap(ts->dstate, dir == 0 ? DIR_TO_SERVER : DIR_TO_CLIENT, n, &em);
}

bool tls_session_is_over(const struct tls_session *ts)
{
    return ts->is_done;
}

bool tls_session_succeeded(const struct tls_session *ts)
{
    return ts->complete && !ts->fatal_alert;
}

bool tls_session_failed(const struct tls_session *ts)
{
    return ts->fatal_alert || ts->not_tls || (ts->is_done && !ts->complete);
}

const char *tls_version_name(uint16_t v, char *buf, size_t n)
{
    switch (v) {
    case 0x0002:
        return "SSLv2";
    case 0x0300:
        return "SSLv3";
    case 0x0301:
        return "TLSv1.0";
    case 0x0302:
        return "TLSv1.1";
    case 0x0303:
        return "TLSv1.2";
    case 0x0304:
        return "TLSv1.3";
    default:
        if ((v & 0xff00) == 0x7f00)
            snprintf(buf, n, "TLSv1.3-draft%u", (unsigned)(v & 0xff));
        else
            snprintf(buf, n, "0x%04x", v);
        return buf;
    }
}

static const char *alert_name(uint8_t d)
{
    switch (d) { /* RFC 8446 §6, RFC 5246 §7.2 */
    case 0:
        return "close_notify";
    case 10:
        return "unexpected_message";
    case 20:
        return "bad_record_mac";
    case 21:
        return "decryption_failed";
    case 22:
        return "record_overflow";
    case 30:
        return "decompression_failure";
    case 40:
        return "handshake_failure";
    case 41:
        return "no_certificate";
    case 42:
        return "bad_certificate";
    case 43:
        return "unsupported_certificate";
    case 44:
        return "certificate_revoked";
    case 45:
        return "certificate_expired";
    case 46:
        return "certificate_unknown";
    case 47:
        return "illegal_parameter";
    case 48:
        return "unknown_ca";
    case 49:
        return "access_denied";
    case 50:
        return "decode_error";
    case 51:
        return "decrypt_error";
    case 60:
        return "export_restriction";
    case 70:
        return "protocol_version";
    case 71:
        return "insufficient_security";
    case 80:
        return "internal_error";
    case 86:
        return "inappropriate_fallback";
    case 90:
        return "user_canceled";
    case 100:
        return "no_renegotiation";
    case 109:
        return "missing_extension";
    case 110:
        return "unsupported_extension";
    case 112:
        return "unrecognized_name";
    case 113:
        return "bad_certificate_status_response";
    case 115:
        return "unknown_psk_identity";
    case 116:
        return "certificate_required";
    case 120:
        return "no_application_protocol";
    default:
        return "unknown";
    }
}

static void sha_hex(const uint8_t *sha, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[3 * i] = hex[sha[i] >> 4];
        out[3 * i + 1] = hex[sha[i] & 15];
        out[3 * i + 2] = i < 31 ? ':' : '\0';
    }
}

static bool weak_key(const struct x509_info *in)
{
    if (strcmp(in->key_type, "RSA") == 0 || strcmp(in->key_type, "DSA") == 0)
        return in->key_bits < 2048;
    if (strcmp(in->key_type, "EC") == 0)
        return in->key_bits < 224;
    return false;
}

/* Verdicts of certificate i at the time it was seen (the leaf: with the name check). */
static void judge_cert(struct tls_session *ts, struct tls_ctx *ctx, unsigned i, const char *host)
{
    const struct x509_info *in = &ts->certs[i].info;
    struct tls_cert_verdict *v = &ts->verdicts[i];
    int64_t now = ts->cert_time / 1000000;
    v->name_mismatch = -1;
    v->trusted = -1;
    if (!ts->certs[i].parsed)
        return;
    v->expired = now > in->not_after;
    v->not_yet_valid = now < in->not_before;
    int64_t left = in->not_after - now;
    v->days_left = left >= 0 ? left / 86400 : -((-left + 86399) / 86400);
    v->weak_key = weak_key(in);
    /* CA/Browser Forum BR 6.3.2: the 398-day limit is for the server's own certificate */
    v->validity_too_long = i == 0 && in->not_after - in->not_before > 398LL * 86400;
    if (i == 0 && host != NULL && host[0] != '\0' && ts->refs[0] != NULL)
        v->name_mismatch = !x509_cert_matches_host(ts->refs[0], host, strlen(host));
    if (ctx->store != NULL && ts->refs[i] != NULL)
        v->trusted = x509_chain_trusted(ctx->store, ts->refs + i, ts->n_certs - i, now);
}

/* Under --anonymize, are certificate i's names the server's [TLS-ANON-NAMES]? The leaf
 * always (a self-signed leaf often says CA:TRUE), and any certificate that is not a CA's. */
static bool names_server(const struct tls_session *ts, unsigned i, const struct anon *an)
{
    return an != NULL && (i == 0 || !ts->certs[i].info.is_ca);
}

static void cert_record(struct jbuf *j, const struct tls_session *ts, unsigned i,
                        const struct anon *an)
{
    const struct tls_cert_fact *cf = &ts->certs[i];
    const struct tls_cert_verdict *v = &ts->verdicts[i];
    const struct x509_info *in = &cf->info;
    char t[40], fp[100];
    j_obj(j, NULL);
    if (!cf->parsed) {
        j_bool(j, "parsed", false);
        j_u64(j, "der_bytes", cf->der_len);
        j_obj_end(j);
        return;
    }
    bool hide = names_server(ts, i, an);
    if (!hide)
        j_str(j, "subject", in->subject);
    if (!hide || !in->self_issued) /* self-issued: the issuer is the subject */
        j_str(j, "issuer", in->issuer);
    if (!hide) {
        j_arr(j, "sans");
        for (unsigned k = 0; k < in->n_sans; k++)
            j_str(j, NULL, in->sans[k]);
        j_arr_end(j);
        j_str(j, "serial", in->serial);
        sha_hex(in->sha256, fp);
        j_str(j, "sha256", fp);
    }
    time_iso8601(in->not_before * 1000000, t, sizeof t);
    j_str(j, "notbefore", t);
    time_iso8601(in->not_after * 1000000, t, sizeof t);
    j_str(j, "notafter", t);
    j_str(j, "key_type", in->key_type);
    j_u64(j, "key_bits", in->key_bits);
    j_str(j, "sig_alg", in->sig_alg);
    j_bool(j, "expired", v->expired);
    j_bool(j, "not_yet_valid", v->not_yet_valid);
    j_i64(j, "days_left", v->days_left);
    j_bool(j, "self_signed", in->self_signed);
    j_bool(j, "weak_key", v->weak_key);
    j_bool(j, "weak_signature", in->sig_weak);
    j_bool(j, "validity_too_long", v->validity_too_long);
    if (i == 0 && v->name_mismatch >= 0)
        j_bool(j, "name_mismatch", v->name_mismatch == 1);
    else if (i == 0)
        j_null(j, "name_mismatch");
    if (v->trusted >= 0)
        j_bool(j, "trusted", v->trusted == 1);
    else
        j_null(j, "trusted");
    j_obj_end(j);
}

/* The version and suite chosen (ServerHello, or a HelloRetryRequest alone), by name. */
static void settle_suite(struct tls_session *ts)
{
    ts->has_sh = ts->seen_sh || ts->hrr; /* a HelloRetryRequest names both too */
    if (ts->has_sh) {
        const char *name = NULL;
        ts->weak = 0;
        if (ts->is_sslv2) {
            name = sslv2_cipher_name(ts->cipher, &ts->weak);
        } else {
            const struct tls_cipher *cs = tls_cipher_lookup((uint16_t)ts->cipher);
            if (cs != NULL) {
                name = cs->name;
                ts->weak = cs->weak;
            }
        }
        if (name == NULL) {
            snprintf(ts->cipher_hex, sizeof ts->cipher_hex, "0x%04x",
                     (unsigned)ts->cipher & 0xffffu);
            name = ts->cipher_hex;
        }
        ts->cipher_name = name;
    }
    ts->certs_encrypted = ts->version == 0x0304 || (ts->version & 0xff00) == 0x7f00;
}

/* Every certificate of the chain judged at the time it was seen, once. */
static void judge_chain(struct tls_session *ts, struct tls_ctx *ctx)
{
    if (ts->certs_judged)
        return;
    ts->certs_judged = true;
    const char *host = ts->sni[0] ? ts->sni : ts->expect_host;
    if (!ts->certs_encrypted)
        for (unsigned i = 0; i < ts->n_certs; i++)
            judge_cert(ts, ctx, i, host);
}

bool tls_session_close(struct tls_session *ts, struct tls_ctx *ctx)
{
    if (ts->is_closed)
        return ts->seen_ch || ts->seen_sh;
    struct tls_evctx c = {ts, ctx, 0};
    struct emitter em = {on_tls_event, &c};
    if (ts->dstate != NULL && !ts->is_cut) /* [TLS-CUT] cut: the rest was not seen, not absent */
        tls_dissector.finish(ts->dstate, &em);
    release_state(ts);
    ts->is_closed = true;
    settle_suite(ts);
    ts->is_chain_cut = ts->is_cut && ts->n_certs > 0 && !ts->certs_judged;
    if (ts->n_certs > 0)
        judge_chain(ts, ctx);          /* a chain whose message never ended: what was seen of it */
    return ts->seen_ch || ts->seen_sh; /* else no TLS was seen after all */
}

void tls_session_write(const struct tls_session *ts, const struct anon *an, struct jbuf *j)
{
    char vb[24], t[40], fp[100];
    j_obj(j, "tls");
    /* EVE's fields first: the leaf certificate's, where there is one */
    const struct x509_info *leaf = ts->n_certs && ts->certs[0].parsed ? &ts->certs[0].info : NULL;
    if (leaf != NULL) {
        bool hide = names_server(ts, 0, an); /* [TLS-ANON-NAMES] */
        if (!hide)
            j_str(j, "subject", leaf->subject);
        if (!hide || !leaf->self_issued)
            j_str(j, "issuerdn", leaf->issuer);
        if (!hide) {
            j_str(j, "serial", leaf->serial);
            sha_hex(leaf->sha256, fp);
            j_str(j, "fingerprint", fp);
        }
        time_iso8601(leaf->not_before * 1000000, t, sizeof t);
        j_str(j, "notbefore", t);
        time_iso8601(leaf->not_after * 1000000, t, sizeof t);
        j_str(j, "notafter", t);
    }
    if (ts->sni[0] && an == NULL)
        j_str(j, "sni", ts->sni);
    else if (!ts->sni[0]) /* none sent is a fact; one sent is left out [TLS-ANON-NAMES] */
        j_null(j, "sni");
    if (ts->has_sh)
        j_str(j, "version", tls_version_name(ts->version, vb, sizeof vb));
    else
        j_null(j, "version");
    if (ts->ja3 != NULL) {
        j_obj(j, "ja3");
        j_str(j, "hash", ts->ja3_hash);
        j_str(j, "string", ts->ja3);
        j_obj_end(j);
    }
    if (ts->ja3s != NULL) {
        j_obj(j, "ja3s");
        j_str(j, "hash", ts->ja3s_hash);
        j_str(j, "string", ts->ja3s);
        j_obj_end(j);
    }
    /* postcard's own */
    if (ts->from_proto >= 0 && proto_is_mail((unsigned)ts->from_proto))
        j_str(j, "from_proto", proto_name((unsigned)ts->from_proto));
    else
        j_null(j, "from_proto");
    if (ts->seen_ch) {
        j_str(j, "client_version", tls_version_name(ts->client_version, vb, sizeof vb));
        j_str(j, "client_max_version", tls_version_name(ts->client_max, vb, sizeof vb));
        j_bool(j, "client_sslv2_hello", ts->is_sslv2_hello);
        j_obj(j, "client_hello"); /* what the client offered beyond the suites */
        if (ts->alpn[0])
            j_str(j, "alpn", ts->alpn);
        j_arr(j, "compression_methods");
        for (unsigned i = 0; i < ts->n_comp; i++)
            j_u64(j, NULL, ts->comp[i]);
        j_arr_end(j);
        j_arr(j, "supported_groups");
        for (unsigned i = 0; i < ts->n_groups; i++)
            j_u64(j, NULL, ts->groups[i]);
        j_arr_end(j);
        j_arr(j, "signature_algorithms");
        for (unsigned i = 0; i < ts->n_sig_algs; i++)
            j_u64(j, NULL, ts->sig_algs[i]);
        j_arr_end(j);
        j_bool(j, "heartbeat", ts->has_heartbeat);
        j_bool(j, "renegotiation_info", ts->has_reneg);
        j_bool(j, "encrypt_then_mac", ts->has_etm);
        j_bool(j, "extended_master_secret", ts->has_ems);
        j_obj_end(j);
    }
    if (ts->has_sh) {
        j_str(j, "cipher", ts->cipher_name);
        j_arr(j, "cipher_weaknesses");
        for (unsigned b = 0; b < TLS_WEAK_COUNT; b++)
            if (ts->weak & (1u << b))
                j_str(j, NULL, tls_weakness_name(1u << b));
        j_arr_end(j);
        j_u64(j, "compression", ts->compression);
    } else {
        j_null(j, "cipher");
    }
    if (ts->dh_bits || ts->group) {
        j_obj(j, "kex");
        if (ts->dh_bits)
            j_u64(j, "dh_bits", ts->dh_bits);
        if (ts->group)
            j_u64(j, "group", ts->group);
        j_obj_end(j);
    }
    if (ts->alert_seen) {
        j_obj(j, "alert");
        j_str(j, "from", ts->alert_dir == 0 ? "client" : "server");
        j_bool(j, "encrypted", ts->alert_encrypted);
        if (!ts->alert_encrypted) {
            j_u64(j, "level", ts->alert_level);
            j_u64(j, "description", ts->alert_desc);
            j_str(j, "name", alert_name(ts->alert_desc));
        }
        j_obj_end(j);
    } else {
        j_null(j, "alert");
    }
    j_bool(j, "hello_retry", ts->hrr);
    if (ts->is_cut && !ts->is_done)
        j_null(j, "handshake_complete"); /* [TLS-CUT] it went on past the cut */
    else
        j_bool(j, "handshake_complete", tls_session_succeeded(ts));
    j_bool(j, "certs_encrypted", ts->certs_encrypted);
    if (ts->certs_encrypted) {
        j_null(j, "certs"); /* RFC 8446 §4.4.2: sent encrypted, not seen */
    } else {
        j_arr(j, "certs");
        for (unsigned i = 0; i < ts->n_certs; i++)
            cert_record(j, ts, i, an);
        j_arr_end(j);
        if (ts->n_certs_seen > ts->n_certs)
            j_u64(j, "certs_not_analysed", ts->n_certs_seen - ts->n_certs);
    }
    j_u64(j, "anomalies", ts->anomalies);
    if (ts->is_midstream)
        j_bool(j, "midstream", true);
    if (ts->is_cut)
        j_str(j, "cut", "evicted");
    j_obj_end(j);
}

void tls_session_record(const struct tls_session *ts, const struct flow *f,
                        const struct eve_ctx *ec, struct jbuf *j)
{
    eve_begin(j, ec, f->last, f, "tls");
    j_str(j, "app_proto", "tls");
    tls_session_write(ts, ec != NULL ? ec->anon : NULL, j);
    j_end(j);
}

/*
 * fuzz-x509.c — certificates as the sensor judges them: OpenSSL's parse and
 * the facts read from it (sensor/app/x509.c), the cache (certcache.c), and
 * the verdicts of a TLS session (tlssess.c: expired, not yet valid, weak
 * key, too long, name mismatch, trust at the packet's time) with the "tls"
 * object written from them.
 *
 * The input:
 *   bytes 0-3  the packet time, seconds since 1970 (big-endian)
 *   byte 4     bit 0: the host goes in the ClientHello's SNI (else it is the
 *              name of the mail greeting, the name check's other source);
 *              bits 1-2: the session follows STARTTLS of none, SMTP, POP3, IMAP
 *   byte 5     the host's length H, then H bytes: the name to check
 *   then       certificates, the chain as the server sends it: a 2-byte
 *              big-endian length, then that many bytes of DER
 *
 * Each certificate alone: x509_cert_parse, x509_cert_info (every text field
 * NUL-terminated in its array, at most X509_SANS_MAX names, a self-signed
 * certificate is self-issued), the host check, the chain from it verified
 * against the system trust store at the packet time; the cache (one for the
 * process, as for a sensor's run) gives the same facts as the parse, twice.
 *
 * Then the session: a ClientHello (with the SNI), a TLS 1.2 ServerHello and
 * a Certificate message carrying the chain, in TLS records of at most 16 KiB,
 * fed to a TLS session (tls_session_data) at the packet time; the session is
 * closed and its "tls" object written (with and without --anonymize): each
 * must be one line that the report's JSON reader accepts, with one entry per
 * certificate kept.
 */
#include "app/certcache.h"
#include "app/tlssess.h"
#include "app/x509.h"
#include "eve/anon.h"
#include "eve/json.h"
#include "fuzz.h"
#include "report/jsonread.h"
#include "sensor-limits.h"

static struct x509_store *store; /* the system trust store, loaded once */
static bool is_store_tried;
static struct certcache *cc; /* one cache for the process, as in a sensor's run */

static void check_text(const char *s, size_t cap, const char *what)
{
    if (memchr(s, '\0', cap) == NULL)
        FUZZ_FAIL("%s is not NUL-terminated in its %zu bytes", what, cap);
}

static void check_info(const struct x509_info *in)
{
    check_text(in->subject, sizeof in->subject, "subject");
    check_text(in->issuer, sizeof in->issuer, "issuer");
    check_text(in->serial, sizeof in->serial, "serial");
    check_text(in->key_type, sizeof in->key_type, "key_type");
    check_text(in->sig_alg, sizeof in->sig_alg, "sig_alg");
    if (in->n_sans > X509_SANS_MAX)
        FUZZ_FAIL("%u SANs", in->n_sans);
    for (unsigned i = 0; i < in->n_sans; i++)
        check_text(in->sans[i], sizeof in->sans[i], "a SAN");
    if (in->self_signed && !in->self_issued)
        FUZZ_FAIL("self-signed but not self-issued");
}

/* ---- TLS bytes around the certificates ------------------------------------ */

static void put(struct fuzz_buf *b, const void *p, size_t n)
{
    fbuf_put(b, p, n);
}

static void put_u8(struct fuzz_buf *b, unsigned v)
{
    uint8_t x = (uint8_t)v;
    put(b, &x, 1);
}

static void put_be(struct fuzz_buf *b, uint32_t v, int bytes)
{
    while (bytes-- > 0)
        put_u8(b, (v >> (8 * bytes)) & 0xff);
}

/* A handshake message body into records of type 22, at most 16384 bytes each. */
static void records(struct fuzz_buf *out, const struct fuzz_buf *hs)
{
    for (size_t o = 0; o < hs->len; o += 16384) {
        size_t k = hs->len - o < 16384 ? hs->len - o : 16384;
        put_u8(out, 22);
        put_be(out, 0x0303, 2);
        put_be(out, (uint32_t)k, 2);
        put(out, hs->p + o, k);
    }
}

static void client_hello(struct fuzz_buf *out, const uint8_t *sni, size_t sn)
{
    struct fuzz_buf h = {0}, ext = {0};
    if (sn > 0) { /* RFC 6066 §3 */
        put_be(&ext, 0, 2);
        put_be(&ext, (uint32_t)sn + 5, 2);
        put_be(&ext, (uint32_t)sn + 3, 2);
        put_u8(&ext, 0);
        put_be(&ext, (uint32_t)sn, 2);
        put(&ext, sni, sn);
    }
    put_u8(&h, 1);
    put_be(&h, (uint32_t)(2 + 32 + 1 + 2 + 4 + 2 + 2 + ext.len), 3);
    put_be(&h, 0x0303, 2);
    for (int i = 0; i < 32; i++)
        put_u8(&h, i);
    put_u8(&h, 0);         /* session id */
    put_be(&h, 4, 2);      /* cipher suites */
    put_be(&h, 0xc02f, 2); /* TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 */
    put_be(&h, 0x002f, 2); /* TLS_RSA_WITH_AES_128_CBC_SHA */
    put_be(&h, 0x0100, 2); /* compression: null */
    put_be(&h, (uint32_t)ext.len, 2);
    put(&h, ext.p, ext.len);
    records(out, &h);
    fbuf_free(&h);
    fbuf_free(&ext);
}

static void server_flight(struct fuzz_buf *out, const uint8_t *const *der, const size_t *dn,
                          size_t n)
{
    struct fuzz_buf h = {0};
    put_u8(&h, 2); /* ServerHello, TLS 1.2, no extensions */
    put_be(&h, 2 + 32 + 1 + 2 + 1 + 2, 3);
    put_be(&h, 0x0303, 2);
    for (int i = 0; i < 32; i++)
        put_u8(&h, 0x40 + i);
    put_u8(&h, 0);
    put_be(&h, 0xc02f, 2);
    put_u8(&h, 0);
    put_be(&h, 0, 2);
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += 3 + dn[i];
    put_u8(&h, 11); /* Certificate (RFC 5246 §7.4.2) */
    put_be(&h, (uint32_t)(3 + total), 3);
    put_be(&h, (uint32_t)total, 3);
    for (size_t i = 0; i < n; i++) {
        put_be(&h, (uint32_t)dn[i], 3);
        put(&h, der[i], dn[i]);
    }
    put_u8(&h, 14); /* ServerHelloDone */
    put_be(&h, 0, 3);
    records(out, &h);
    fbuf_free(&h);
}

/* The session's "tls" object, written as a record of its own, must be JSON the reader takes. */
static void check_object(const struct tls_session *ts, const struct anon *an)
{
    static struct jbuf j; /* 64 KiB: not on the stack */
    j_begin(&j);
    tls_session_write(ts, an, &j);
    j_end(&j);
    if (j.len < 2 || j.buf[j.len - 1] != '\n' || memchr(j.buf, '\n', j.len - 1) != NULL)
        FUZZ_FAIL("the tls object is not one line");
    struct jread_err e;
    struct jval *v = jsonread_parse(j.buf, j.len - 1, &e);
    if (v == NULL)
        FUZZ_FAIL("the tls object is not JSON: %u:%u: %s\n%.*s", e.line, e.col, e.msg, (int)j.len,
                  j.buf);
    const struct jval *certs = jval_get(jval_get(v, "tls"), "certs");
    if (!j.is_full && ts->n_certs > 0 && !ts->certs_encrypted &&
        (certs == NULL || certs->type != JV_ARR || certs->arr.n != ts->n_certs))
        FUZZ_FAIL("%u certificates kept, the tls object lists %zu", ts->n_certs,
                  certs != NULL && certs->type == JV_ARR ? certs->arr.n : 0);
    jval_free(v);
}

static const uint8_t anon_key[ANON_KEY_BYTES] = "postcard fuzz: a fixed key ....";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 6)
        return 0;
    if (!is_store_tried) {
        char msg[256];
        store = x509_store_load("/etc/ssl/certs/ca-certificates.crt", msg, sizeof msg);
        is_store_tried = true;
    }
    struct fuzz_in in = {data, size};
    int64_t when = fin_be32(&in);
    uint8_t flags = fin_u8(&in);
    const uint8_t *host;
    size_t hn = fin_take(&in, fin_u8(&in), &host);
    char *hostz = fuzz_strndup(host, hn);

    if (cc == NULL)
        cc = certcache_new();
    const uint8_t *der[TLS_CERTS_MAX + 2];
    size_t dn[TLS_CERTS_MAX + 2];
    struct x509_cert *chain[TLS_CERTS_MAX + 2];
    size_t n = 0;
    while (in.n >= 2 && n < TLS_CERTS_MAX + 2) {
        dn[n] = fin_take(&in, fin_be16(&in), &der[n]);
        uint8_t *copy = fuzz_copy(der[n], dn[n]);
        chain[n] = x509_cert_parse(copy, dn[n]);
        free(copy);
        if (chain[n] != NULL) {
            struct x509_info info;
            x509_cert_info(chain[n], &info);
            check_info(&info);
            (void)x509_cert_matches_host(chain[n], hostz, hn);
            const struct x509_info *a = NULL, *b = NULL;
            struct x509_cert *c1 = certcache_get(cc, der[n], dn[n], &a);
            struct x509_info first = a != NULL ? *a : info;
            struct x509_cert *c2 = certcache_get(cc, der[n], dn[n], &b);
            if (a == NULL || b == NULL || c1 == NULL || c2 == NULL ||
                memcmp(&first, b, sizeof first) != 0 || memcmp(&info, b, sizeof info) != 0)
                FUZZ_FAIL("the cache gives other facts than a parse of the same DER");
            x509_cert_free(c1);
            x509_cert_free(c2);
        }
        n++;
    }
    for (size_t i = 0; i < n; i++)
        if (chain[i] != NULL)
            (void)x509_chain_trusted(store, chain + i, n - i, when);

    /* the session, as a server's handshake brings the chain */
    struct stats st = {0};
    struct tls_ctx ctx = {cc, store, &st};
    int from = (int)((flags >> 1) & 3) - 1; /* -1: implicit TLS; else PROTO_SMTP.. */
    bool in_sni = flags & 1;
    struct tls_session *ts = tls_session_new(from, in_sni ? NULL : hostz);
    struct fuzz_buf cli = {0}, srv = {0};
    client_hello(&cli, in_sni ? host : NULL, in_sni ? hn : 0);
    server_flight(&srv, der, dn, n);
    pc_time now = when * 1000000;
    uint8_t *c = fuzz_copy((const uint8_t *)cli.p, cli.len);
    tls_session_data(ts, &ctx, 0, c, cli.len, now);
    free(c);
    uint8_t *s = fuzz_copy((const uint8_t *)srv.p, srv.len);
    tls_session_data(ts, &ctx, 1, s, srv.len, now);
    free(s);
    tls_session_close(ts, &ctx);
    check_object(ts, NULL);
    struct err e = {""};
    struct anon *an = anon_new(anon_key, ANON_USERS_HASH, &e);
    if (an == NULL)
        FUZZ_FAIL("%s", e.msg);
    check_object(ts, an);
    anon_free(an);
    tls_session_free(ts);
    fbuf_free(&cli);
    fbuf_free(&srv);
    for (size_t i = 0; i < n; i++)
        x509_cert_free(chain[i]);
    free(hostz);
    return 0;
}

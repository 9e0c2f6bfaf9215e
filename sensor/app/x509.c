/*
 * x509.c — certificates with OpenSSL 3 libcrypto: RFC 5280 fields, RFC 6125
 * host name checks, chain verification against a trust store at a given
 * time (the packet's, never the wall clock).
 *
 * Parsing costs ~100 µs per certificate: callers cache by the SHA-256 of
 * the DER (sensor/certcache.c) so each distinct certificate is parsed once.
 *
 * Hazards: [X509-D2I-ADVANCES] d2i_X509 moves its pointer: a copy is passed.
 *          [X509-TEXT-CUT] names longer than X509_TEXT_MAX are cut.
 */
#include "app/x509.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

struct x509_cert {
    X509 *x;  /* the certificate */
    int refs; /* holders (single-threaded) */
};

struct x509_store {
    X509_STORE *st; /* trust anchors */
};

struct x509_cert *x509_cert_parse(const uint8_t *der, size_t n)
{
    const unsigned char *p = der; /* [X509-D2I-ADVANCES] */
    if (n > 0x7fffffff)
        return NULL;
    X509 *x = d2i_X509(NULL, &p, (long)n);
    if (x == NULL)
        return NULL;
    struct x509_cert *c = calloc(1, sizeof *c);
    if (c == NULL) {
        X509_free(x);
        return NULL;
    }
    c->x = x;
    c->refs = 1;
    return c;
}

struct x509_cert *x509_cert_ref(struct x509_cert *c)
{
    if (c != NULL)
        c->refs++;
    return c;
}

void x509_cert_free(struct x509_cert *c)
{
    if (c == NULL || --c->refs > 0)
        return;
    X509_free(c->x);
    free(c);
}

static void name_text(const X509_NAME *nm, char *out, size_t n)
{
    out[0] = '\0';
    BIO *b = BIO_new(BIO_s_mem());
    if (b == NULL)
        return;
    if (X509_NAME_print_ex(b, nm, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
        int k = BIO_read(b, out, (int)n - 1); /* [X509-TEXT-CUT] */
        out[k > 0 ? k : 0] = '\0';
    }
    BIO_free(b);
}

static int64_t asn1_epoch(const ASN1_TIME *t)
{
    struct tm tm;
    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
        return 0;
    /* timegm without relying on the TZ: days from civil (H. Hinnant's algorithm) */
    int64_t y = (int64_t)tm.tm_year + 1900, m = tm.tm_mon + 1, d = tm.tm_mday;
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = era * 146097 + doe - 719468;
    return days * 86400 + tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
}

void x509_sha256(const uint8_t *p, size_t n, uint8_t out[32])
{
    unsigned int len = 32;
    if (EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) != 1)
        memset(out, 0, 32);
}

void x509_md5_hex(const uint8_t *p, size_t n, char out[33])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[16];
    unsigned int len = 16;
    if (EVP_Digest(p, n, md, &len, EVP_md5(), NULL) != 1)
        memset(md, 0, 16);
    for (int i = 0; i < 16; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[32] = '\0';
}

void x509_cert_info(const struct x509_cert *c, struct x509_info *o)
{
    X509 *x = c->x;
    memset(o, 0, sizeof *o);
    name_text(X509_get_subject_name(x), o->subject, sizeof o->subject);
    name_text(X509_get_issuer_name(x), o->issuer, sizeof o->issuer);
    const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
    BIGNUM *bn = sn ? ASN1_INTEGER_to_BN(sn, NULL) : NULL;
    char *hx = bn ? BN_bn2hex(bn) : NULL;
    if (hx != NULL)
        snprintf(o->serial, sizeof o->serial, "%s", hx);
    OPENSSL_free(hx);
    BN_free(bn);
    unsigned int dl = 32;
    if (X509_digest(x, EVP_sha256(), o->sha256, &dl) != 1)
        memset(o->sha256, 0, 32);
    o->not_before = asn1_epoch(X509_get0_notBefore(x));
    o->not_after = asn1_epoch(X509_get0_notAfter(x));
    EVP_PKEY *pk = X509_get0_pubkey(x);
    if (pk != NULL) {
        o->key_bits = (unsigned)EVP_PKEY_get_bits(pk);
        const char *kt = "other";
        switch (EVP_PKEY_get_base_id(pk)) {
        case EVP_PKEY_RSA:
        case EVP_PKEY_RSA_PSS:
            kt = "RSA";
            break;
        case EVP_PKEY_EC:
            kt = "EC";
            break;
        case EVP_PKEY_DSA:
            kt = "DSA";
            break;
        case EVP_PKEY_ED25519:
            kt = "Ed25519";
            break;
        case EVP_PKEY_ED448:
            kt = "Ed448";
            break;
        default:
            break;
        }
        snprintf(o->key_type, sizeof o->key_type, "%s", kt);
    }
    int sig_nid = X509_get_signature_nid(x);
    const char *sn_txt = OBJ_nid2ln(sig_nid);
    snprintf(o->sig_alg, sizeof o->sig_alg, "%s", sn_txt ? sn_txt : "unknown");
    int md_nid = NID_undef, pk_nid = NID_undef;
    if (OBJ_find_sigid_algs(sig_nid, &md_nid, &pk_nid) == 1)
        o->sig_weak = md_nid == NID_md5 || md_nid == NID_sha1 || md_nid == NID_md4 ||
                      md_nid == NID_md2 || md_nid == NID_md5_sha1;
    /* issuer equals subject (X509_check_issued would also demand keyCertSign,
     * which a self-signed server certificate often lacks) */
    o->self_issued = X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)) == 0;
    o->self_signed = o->self_issued && pk != NULL && X509_verify(x, pk) == 1;
    o->is_ca = X509_check_ca(x) > 0;
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens) && o->n_sans < X509_SANS_MAX; i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        char *dst = o->sans[o->n_sans];
        if (g->type == GEN_DNS) {
            const unsigned char *d = ASN1_STRING_get0_data(g->d.dNSName);
            int len = ASN1_STRING_length(g->d.dNSName);
            if (len < 0)
                continue;
            size_t k = (size_t)len < X509_TEXT_MAX - 1 ? (size_t)len : X509_TEXT_MAX - 1;
            memcpy(dst, d, k);
            dst[k] = '\0';
            o->n_sans++;
        } else if (g->type == GEN_IPADD) {
            const unsigned char *d = ASN1_STRING_get0_data(g->d.iPAddress);
            int len = ASN1_STRING_length(g->d.iPAddress);
            if (len == 4) {
                snprintf(dst, X509_TEXT_MAX, "%u.%u.%u.%u", d[0], d[1], d[2], d[3]);
                o->n_sans++;
            }
        }
    }
    GENERAL_NAMES_free(gens);
}

bool x509_cert_matches_host(const struct x509_cert *c, const char *host, size_t n)
{
    return X509_check_host(c->x, host, n, 0, NULL) == 1;
}

struct x509_store *x509_store_load(const char *path, char *err, size_t errlen)
{
    X509_STORE *st = X509_STORE_new();
    if (st == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (X509_STORE_load_file(st, path) != 1) {
        snprintf(err, errlen, "%s: cannot load CA certificates", path);
        X509_STORE_free(st);
        return NULL;
    }
    struct x509_store *s = calloc(1, sizeof *s);
    if (s == NULL) {
        X509_STORE_free(st);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->st = st;
    return s;
}

void x509_store_free(struct x509_store *s)
{
    if (s == NULL)
        return;
    X509_STORE_free(s->st);
    free(s);
}

bool x509_chain_trusted(struct x509_store *s, struct x509_cert *const *chain, size_t n, int64_t t)
{
    if (s == NULL || n == 0 || chain[0] == NULL)
        return false;
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    bool ok = false;
    if (untrusted == NULL || ctx == NULL)
        goto out;
    for (size_t i = 1; i < n; i++)
        if (chain[i] != NULL)
            sk_X509_push(untrusted, chain[i]->x);
    if (X509_STORE_CTX_init(ctx, s->st, chain[0]->x, untrusted) != 1)
        goto out;
    X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_time(vp, (time_t)t); /* judged at the packet's time */
    ok = X509_verify_cert(ctx) == 1;
out:
    X509_STORE_CTX_free(ctx);
    sk_X509_free(untrusted);
    return ok;
}

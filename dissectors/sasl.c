/*
 * sasl.c — SASL exchanges (RFC 4422) as seen in SMTP AUTH (RFC 4954), POP3
 * AUTH (RFC 5034) and IMAP AUTHENTICATE (RFC 9051 §6.2.2).
 *
 * The decoded response is scanned for the user name and for the presence of
 * a secret, in a stack buffer that is wiped before returning (explicit_bzero:
 * a plain memset of a buffer about to die may be optimised away), also when
 * the response is not base64; only the user name is kept.
 *
 * Hazards: [SASL-B64] [SASL-USER-CUT] [SASL-WIPE]
 */
#include "sasl.h"

#include <string.h>

#include "line.h"

#define SASL_DECODE_MAX 2048 /* bytes of a response decoded; enough for any user name */

static int b64_val(uint8_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

long b64_decode(struct span in, uint8_t *out, size_t max)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0, pad = 0;
    for (size_t i = 0; i < in.n; i++) { /* [SASL-B64] */
        uint8_t c = in.p[i];
        if (c == '=') {
            pad++;
            continue;
        }
        int v = b64_val(c);
        if (v < 0 || pad > 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n < max)
                out[n] = (uint8_t)(acc >> bits);
            n++;
        }
    }
    if (pad > 2 || (in.n - pad) % 4 == 1)
        return -1;
    return (long)(n < max ? n : max);
}

static void set_user(struct sasl *s, const uint8_t *p, size_t n)
{
    if (n > SASL_USER_MAX) /* [SASL-USER-CUT] */
        n = SASL_USER_MAX;
    memcpy(s->user, p, n);
    s->user_len = (uint16_t)n;
}

void sasl_set_user(struct sasl *s, struct span user)
{
    set_user(s, user.p, user.n);
}

void sasl_begin(struct sasl *s, struct span mech)
{
    memset(s, 0, sizeof *s);
    s->is_active = true;
    size_t n = mech.n < SASL_MECH_MAX ? mech.n : SASL_MECH_MAX;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = mech.p[i];
        s->mech_name[i] = (c >= 'a' && c <= 'z') ? (uint8_t)(c - 32) : c;
    }
    s->mech_len = (uint8_t)n;
    struct span m = {s->mech_name, n};
    if (span_eq(m, "PLAIN"))
        s->mech = SASL_PLAIN;
    else if (span_eq(m, "LOGIN"))
        s->mech = SASL_LOGIN;
    else if (span_eq(m, "CRAM-MD5"))
        s->mech = SASL_CRAM_MD5;
    else if (span_eq(m, "DIGEST-MD5"))
        s->mech = SASL_DIGEST_MD5;
    else if (n > 6 && memcmp(s->mech_name, "SCRAM-", 6) == 0)
        s->mech = SASL_SCRAM;
    else if (span_eq(m, "XOAUTH2"))
        s->mech = SASL_XOAUTH2;
    else if (span_eq(m, "OAUTHBEARER"))
        s->mech = SASL_OAUTHBEARER;
    else if (span_eq(m, "ANONYMOUS"))
        s->mech = SASL_ANONYMOUS;
    else
        s->mech = SASL_OTHER;
}

/* Find "key" at the start of a field of d (fields split by sep); value up to the next sep. */
static bool field(const uint8_t *d, size_t n, uint8_t sep, const char *key, const uint8_t **v,
                  size_t *vn)
{
    size_t k = strlen(key);
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && d[j] != sep)
            j++;
        if (j - i >= k && memcmp(d + i, key, k) == 0) {
            *v = d + i + k;
            *vn = j - i - k;
            return true;
        }
        i = j + 1;
    }
    return false;
}

static void parse_response(struct sasl *s, const uint8_t *d, size_t n)
{
    const uint8_t *v;
    size_t vn;
    switch (s->mech) {
    case SASL_PLAIN: { /* RFC 4616 §2: [authzid] NUL authcid NUL passwd */
        const uint8_t *z1 = memchr(d, 0, n);
        const uint8_t *z2 = z1 ? memchr(z1 + 1, 0, n - (size_t)(z1 + 1 - d)) : NULL;
        if (z2 != NULL) {
            set_user(s, z1 + 1, (size_t)(z2 - z1 - 1));
            s->has_secret = (size_t)(z2 + 1 - d) < n;
            s->secret_readable = s->has_secret;
        }
        break;
    }
    case SASL_LOGIN:
        if (s->steps == 1) {
            set_user(s, d, n);
        } else if (s->steps == 2) {
            s->has_secret = n > 0;
            s->secret_readable = n > 0;
        }
        break;
    case SASL_CRAM_MD5: { /* RFC 2195: "user SP digest" */
        const uint8_t *sp = memchr(d, ' ', n);
        set_user(s, d, sp ? (size_t)(sp - d) : n);
        s->has_secret = sp != NULL;
        break;
    }
    case SASL_DIGEST_MD5: /* RFC 2831 §2.1.2: username="..." */
        if (field(d, n, ',', "username=\"", &v, &vn)) {
            if (vn > 0 && v[vn - 1] == '"')
                vn--;
            set_user(s, v, vn);
            s->has_secret = true;
        }
        break;
    case SASL_SCRAM: /* RFC 5802 §7: gs2-header "n=" saslname */
        if (s->steps == 1 && field(d, n, ',', "n=", &v, &vn) && vn > 0) {
            set_user(s, v, vn);
            s->has_secret = true;
        }
        break;
    case SASL_XOAUTH2: /* user=U ^A auth=Bearer T ^A ^A */
        if (field(d, n, 0x01, "user=", &v, &vn))
            set_user(s, v, vn);
        if (field(d, n, 0x01, "auth=", &v, &vn) && vn > 0) {
            s->has_secret = s->secret_readable = s->is_token = true;
        }
        break;
    case SASL_OAUTHBEARER: /* RFC 7628 §3.1: gs2 header "a=" user, then kvpairs */
        if (field(d, n, ',', "a=", &v, &vn)) {
            const uint8_t *e = memchr(v, 0x01, vn);
            set_user(s, v, e ? (size_t)(e - v) : vn);
        }
        if (field(d, n, 0x01, "auth=", &v, &vn) && vn > 0)
            s->has_secret = s->secret_readable = s->is_token = true;
        break;
    case SASL_ANONYMOUS: /* RFC 4505 §2: trace information, not a secret */
        break;
    default:
        if (n > 0)
            s->has_secret = true; /* something was proven, we cannot tell what */
        break;
    }
}

bool sasl_response(struct sasl *s, struct span b64)
{
    if (b64.n == 1 && b64.p[0] == '*') { /* RFC 4422 §3.5: the client aborts */
        s->is_cancelled = true;
        return true;
    }
    uint8_t d[SASL_DECODE_MAX];
    long n = 0;
    if (!(b64.n == 1 && b64.p[0] == '=')) {
        n = b64_decode(b64, d, sizeof d);
        if (n < 0) { /* [SASL-WIPE] what was decoded before the bad character, too */
            explicit_bzero(d, sizeof d);
            return false;
        }
    }
    s->steps++;
    parse_response(s, d, (size_t)n);
    explicit_bzero(d, (size_t)n); /* [SASL-WIPE] the secret does not outlive this call */
    return true;
}

void sasl_login(const struct sasl *s, struct ev_login *l)
{
    l->mech.p = s->mech_name;
    l->mech.n = s->mech_len;
    l->user.p = s->user;
    l->user.n = s->user_len;
    l->has_secret = s->has_secret;
    l->secret_readable = s->secret_readable;
    l->is_token = s->is_token;
}

static void fill_event(const struct sasl *s, const char *command, struct ev_login *l)
{
    sasl_login(s, l);
    if (command != NULL) {
        l->mech.p = (const uint8_t *)command;
        l->mech.n = strlen(command);
        l->is_command = true;
    }
}

void sasl_emit_sent(struct sasl *s, const char *command, const struct emitter *em)
{
    if (!s->is_active || !s->has_secret || s->is_sent || s->is_cancelled)
        return;
    struct event ev = {.type = EV_LOGIN_SENT, .dir = DIR_TO_SERVER};
    fill_event(s, command, &ev.u.login);
    ev.u.login.result = LOGIN_UNKNOWN;
    s->is_sent = true;
    emit(em, &ev);
}

void sasl_emit_login(struct sasl *s, const char *command, enum login_result r, struct span reply,
                     const struct emitter *em)
{
    struct event ev = {.type = EV_LOGIN, .dir = DIR_TO_CLIENT};
    fill_event(s, command, &ev.u.login);
    ev.u.login.result = s->is_cancelled ? LOGIN_FAILURE : r; /* RFC 4422 §3.5: "*" aborts */
    ev.u.login.reply = reply;
    emit(em, &ev);
    s->is_active = false;
}

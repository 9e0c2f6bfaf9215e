/*
 * fuzz-sasl.c — SASL exchanges (dissectors/sasl.c, RFC 4422) as the mail
 * dissectors drive them, and its base64 decoder (RFC 4648 §4).
 *
 * The input: a flags byte, then lines (split at LF, a CR before it dropped).
 *
 *   byte 0   bits 0-1: the command that replaces the mechanism in the login
 *            events: none (SASL), "USER", "APOP", "LOGIN"; bit 2: the server's
 *            answer is a failure (else a success)
 *   line 1   the mechanism (AUTH PLAIN / AUTHENTICATE XOAUTH2 ...)
 *   then     the client's responses (base64, "=" empty, "*" cancel); a line
 *            "!MECH" ends the exchange (its EV_LOGIN) and begins another
 *
 * After each response EV_LOGIN_SENT is asked for, as the dissectors do; the
 * exchange ends with EV_LOGIN. Checked:
 *   - events: the mechanism at most SASL_MECH_MAX bytes, the user at most
 *     SASL_USER_MAX, both inside the state (or the command's name); a result
 *     only on EV_LOGIN; at most one EV_LOGIN_SENT per exchange, and only
 *     with a secret; a cancelled exchange fails;
 *   - the secret never stays: after a response that carries a readable
 *     password or token (PLAIN's third field, LOGIN's second response,
 *     XOAUTH2's and OAUTHBEARER's auth=), the user name kept is the one the
 *     response names, and the secret is nowhere else in the state: a match
 *     is excused only byte by byte, where it lies in the user name or the
 *     mechanism kept, in the counters and flags, or in bytes the response did
 *     not change (zeros after a user name, a stale one);
 *   - b64_decode: every line's bytes, encoded, decode back to themselves,
 *     and decoding into a shorter buffer gives their prefix, never more.
 */
#include <stddef.h>

#include "fuzz.h"
#include "sasl.h"

struct fs_ctx {
    const struct sasl *s;  /* the exchange */
    const char *command;   /* the command name, or NULL */
    unsigned sent, logins; /* events of this exchange */
};

static bool inside(const void *p, size_t n, const void *base, size_t size)
{
    const uint8_t *a = p, *b = base;
    return n == 0 || (a >= b && a + n <= b + size);
}

static void fs_emit(void *arg, const struct event *ev)
{
    struct fs_ctx *c = arg;
    const struct ev_login *l = &ev->u.login;
    if (ev->type != EV_LOGIN && ev->type != EV_LOGIN_SENT)
        FUZZ_FAIL("sasl emitted event %d", (int)ev->type);
    if (l->mech.n > SASL_MECH_MAX && c->command == NULL)
        FUZZ_FAIL("a mechanism of %zu bytes", l->mech.n);
    if (l->user.n > SASL_USER_MAX)
        FUZZ_FAIL("a user name of %zu bytes", l->user.n);
    if (!inside(l->user.p, l->user.n, c->s, sizeof *c->s))
        FUZZ_FAIL("the user name is not in the state");
    if (c->command == NULL ? !inside(l->mech.p, l->mech.n, c->s, sizeof *c->s)
                           : l->mech.p != (const uint8_t *)c->command)
        FUZZ_FAIL("the mechanism is not where it should be");
    if (!l->has_secret && (l->secret_readable || l->is_token))
        FUZZ_FAIL("a readable secret or a token without a secret");
    if (ev->type == EV_LOGIN_SENT) {
        if (l->result != LOGIN_UNKNOWN || l->reply.n != 0 || !l->has_secret)
            FUZZ_FAIL("EV_LOGIN_SENT with a result, a reply or no secret");
        if (++c->sent > 1)
            FUZZ_FAIL("EV_LOGIN_SENT twice for one exchange");
    } else {
        c->logins++;
        if (c->s->is_cancelled && l->result != LOGIN_FAILURE)
            FUZZ_FAIL("a cancelled exchange did not fail");
    }
}

/* RFC 4648 §4, with padding. */
static size_t b64_encode(const uint8_t *p, size_t n, char *out)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        out[o++] = abc[v >> 18 & 63];
        out[o++] = abc[v >> 12 & 63];
        out[o++] = i + 1 < n ? abc[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? abc[v & 63] : '=';
    }
    return o;
}

static void check_b64(const uint8_t *p, size_t n)
{
    if (n > 3000)
        n = 3000;
    char *enc = malloc(4 * (n / 3 + 1));
    uint8_t *dec = malloc(n ? n : 1);
    if (enc == NULL || dec == NULL)
        FUZZ_FAIL("out of memory");
    size_t en = b64_encode(p, n, enc);
    struct span in = {(const uint8_t *)enc, en};
    long k = b64_decode(in, dec, n); /* exactly n: ASan catches a byte more */
    if (k != (long)n || (n > 0 && memcmp(dec, p, n) != 0))
        FUZZ_FAIL("base64 of %zu bytes decodes to %ld bytes, or others", n, k);
    size_t max = n / 2;
    k = b64_decode(in, dec, max);
    if (k != (long)max || (max > 0 && memcmp(dec, p, max) != 0))
        FUZZ_FAIL("base64 of %zu bytes into %zu: %ld bytes, or others", n, max, k);
    free(enc);
    free(dec);
}

/* A field of d (fields split by sep) that starts with key: its value, up to the next sep. */
static bool field_of(const uint8_t *d, size_t n, uint8_t sep, const char *key, struct span *v)
{
    size_t k = strlen(key);
    for (size_t i = 0; i < n;) {
        const uint8_t *e = memchr(d + i, sep, n - i);
        size_t j = e ? (size_t)(e - d) : n;
        if (j - i >= k && memcmp(d + i, key, k) == 0) {
            *v = (struct span){d + i + k, j - i - k};
            return true;
        }
        i = j + 1;
    }
    return false;
}

/*
 * The readable secret a decoded response d[0..n) carries (secret.n 0 when there is none), and
 * the user name it names, which the state keeps: true when it names one.
 */
static bool secret_of(const struct sasl *s, const uint8_t *d, size_t n, struct span *secret,
                      struct span *user)
{
    *secret = *user = (struct span){d, 0};
    bool has_user = false;
    switch (s->mech) {
    case SASL_PLAIN: { /* RFC 4616: [authzid] NUL authcid NUL passwd */
        const uint8_t *z1 = memchr(d, 0, n);
        const uint8_t *z2 = z1 ? memchr(z1 + 1, 0, n - (size_t)(z1 + 1 - d)) : NULL;
        if (z2 != NULL) {
            *user = (struct span){z1 + 1, (size_t)(z2 - z1 - 1)};
            *secret = (struct span){z2 + 1, n - (size_t)(z2 + 1 - d)};
            has_user = true;
        }
        break;
    }
    case SASL_LOGIN: /* the user came in the first response */
        if (s->steps == 2)
            *secret = (struct span){d, n};
        break;
    case SASL_XOAUTH2: /* user=U ^A auth=Bearer T ^A ^A */
        has_user = field_of(d, n, 0x01, "user=", user);
        field_of(d, n, 0x01, "auth=", secret);
        break;
    case SASL_OAUTHBEARER: /* n,a=U, ^A auth=Bearer T ^A ^A */
        if (field_of(d, n, ',', "a=", user)) {
            const uint8_t *e = memchr(user->p, 0x01, user->n);
            if (e != NULL)
                user->n = (size_t)(e - user->p);
            has_user = true;
        }
        field_of(d, n, 0x01, "auth=", secret);
        break;
    default:
        break;
    }
    return has_user;
}

/* Is byte o of the state one a match of the secret may use: kept on purpose (the user name,
 * the mechanism), a counter or flag, or unchanged by the response? */
static bool excused(const struct sasl *before, const struct sasl *s, size_t o)
{
    size_t user = offsetof(struct sasl, user), mech = offsetof(struct sasl, mech_name);
    return o < mech || (o >= user && o < user + s->user_len) ||
           (o >= mech && o < mech + s->mech_len) ||
           ((const uint8_t *)before)[o] == ((const uint8_t *)s)[o];
}

/*
 * After a response: the user name kept is the one it names, and a secret it carried is
 * nowhere in the state but in bytes a match may use (excused); a secret shorter than 4 bytes
 * cannot be told from other bytes.
 */
static void check_wiped(const struct sasl *before, const struct sasl *s, struct span secret,
                        bool has_user, struct span user)
{
    size_t kept = user.n < SASL_USER_MAX ? user.n : SASL_USER_MAX;
    if (has_user && (s->user_len != kept || (kept > 0 && memcmp(s->user, user.p, kept) != 0)))
        FUZZ_FAIL("the user name kept is not the %zu bytes the response names", user.n);
    if (secret.n < 4)
        return;
    const uint8_t *st = (const uint8_t *)s;
    size_t from = 0;
    const uint8_t *hit;
    while (from < sizeof *s && (hit = memmem(st + from, sizeof *s - from, secret.p, secret.n))) {
        size_t at = (size_t)(hit - st);
        for (size_t j = 0; j < secret.n; j++)
            if (!excused(before, s, at + j))
                FUZZ_FAIL("the state holds the %zu-byte secret of the response at byte %zu",
                          secret.n, at);
        from = at + 1;
    }
}

static void end_exchange(struct sasl *s, struct fs_ctx *c, enum login_result r,
                         const struct emitter *em)
{
    static const uint8_t reply[] = "235 2.7.0 Authentication successful";
    struct span rs = {reply, sizeof reply - 1};
    unsigned before = c->logins;
    sasl_emit_login(s, c->command, r, rs, em);
    if (c->logins != before + 1)
        FUZZ_FAIL("sasl_emit_login emitted %u EV_LOGIN", c->logins - before);
    if (s->is_active)
        FUZZ_FAIL("the exchange is still active after its EV_LOGIN");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const char *const commands[] = {NULL, "USER", "APOP", "LOGIN"};
    struct sasl *s = malloc(sizeof *s);
    if (s == NULL)
        FUZZ_FAIL("out of memory");
    memset(s, 0xa5, sizeof *s);
    struct fs_ctx c = {s, commands[data[0] & 3], 0, 0};
    struct emitter em = {fs_emit, &c};
    enum login_result r = (data[0] & 4) ? LOGIN_FAILURE : LOGIN_SUCCESS;
    bool begun = false;
    for (size_t i = 1; i < size;) {
        const uint8_t *lf = memchr(data + i, '\n', size - i);
        size_t end = lf ? (size_t)(lf - data) : size;
        size_t n = end - i;
        if (n > 0 && data[i + n - 1] == '\r')
            n--;
        uint8_t *line = fuzz_copy(data + i, n); /* exact size */
        i = lf ? end + 1 : size;
        check_b64(line, n);
        if (!begun || (n > 0 && line[0] == '!')) {
            if (begun)
                end_exchange(s, &c, r, &em);
            struct span mech = {line + (begun ? 1 : 0), n - (begun ? 1 : 0)};
            sasl_begin(s, mech);
            c.sent = 0;
            begun = true;
            free(line);
            continue;
        }
        uint8_t dec[2048];
        struct sasl before = *s;
        long dn = b64_decode((struct span){line, n}, dec, sizeof dec);
        bool ok = sasl_response(s, (struct span){line, n});
        if (ok != (dn >= 0 || (n == 1 && (line[0] == '*' || line[0] == '='))))
            FUZZ_FAIL("sasl_response said %d of a line b64_decode says %ld of", ok, dn);
        if (ok && dn > 0 && (size_t)dn < sizeof dec) { /* a longer one was cut: not all seen */
            struct span secret, user;
            bool has_user = secret_of(s, dec, (size_t)dn, &secret, &user);
            check_wiped(&before, s, secret, has_user, user);
        }
        sasl_emit_sent(s, c.command, &em);
        free(line);
    }
    if (begun)
        end_exchange(s, &c, r, &em);
    free(s);
    return 0;
}

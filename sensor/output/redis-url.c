/*
 * redis-url.c — the Redis output's URL (out-redis.h), after RFC 3986 and the
 * forms redis-cli and the client libraries accept:
 *
 *   redis://[[user]:password@]host[:port][/db]     host: name, IPv4, or [IPv6]
 *   unix://[[user]:password@]/path/to.sock[?db=N]
 *
 * user and password may be %-encoded (RFC 3986 §2.1: '@' as %40, ':' as %3A,
 * '/' as %2F). No I/O: the unit tests call it directly.
 *
 * The password may come from elsewhere (--redis-password-file, POSTCARD_REDIS_PASSWORD):
 * then the URL names at most the user ("redis://user@host") and gives no password of its
 * own. redis_url_password_span finds the password's bytes in a URL, so that the command
 * line can be scrubbed of them (docs/security.md).
 *
 * Hazards:
 *   [REDIS-PASSWORD]  no message repeats the credentials or any part of them; a URL that
 *                     failed to parse leaves no password behind in the struct
 *   [URL-OVERLONG]    every part is copied into a fixed field: longer is an error
 */
#include <stdbool.h>
#include <string.h>

#include "output/out-redis.h"

/* Copy s[0..n) into out (cap bytes), decoding %XX (RFC 3986 §2.1). -1 if bad or too long
 * [URL-OVERLONG]. */
static int pct_decode(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int ch = (unsigned char)s[i];
        if (ch == '%') {
            int v = 0;
            for (int k = 1; k <= 2; k++) {
                char h = i + (size_t)k < n ? s[i + (size_t)k] : '\0';
                int d = (h >= '0' && h <= '9')   ? h - '0'
                        : (h >= 'a' && h <= 'f') ? h - 'a' + 10
                        : (h >= 'A' && h <= 'F') ? h - 'A' + 10
                                                 : -1;
                if (d < 0)
                    return -1;
                v = v * 16 + d;
            }
            if (v == 0)
                return -1; /* a NUL cannot be sent in a C string */
            ch = v;
            i += 2;
        }
        if (o + 1 >= cap)
            return -1;
        out[o++] = (char)ch;
    }
    out[o] = '\0';
    return 0;
}

/* Decimal in [lo, hi] from s[0..n). */
static int parse_int(const char *s, size_t n, long lo, long hi, int *v)
{
    long x = 0;
    if (n == 0 || n > 10)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        x = x * 10 + (s[i] - '0');
    }
    if (x < lo || x > hi)
        return -1;
    *v = (int)x;
    return 0;
}

/* "user:password" or ":password" before the '@'; "user" or "user:" alone when the password
 * comes from elsewhere (has_other). [REDIS-PASSWORD] never quoted back. */
static int parse_userinfo(const char *s, size_t n, bool has_other, struct redis_url *u,
                          struct err *e)
{
    const char *colon = memchr(s, ':', n);
    if (colon == NULL && !has_other)
        return err_set(e, "redis URL: credentials are user:password@ or :password@");
    size_t ul = colon != NULL ? (size_t)(colon - s) : n;
    if (pct_decode(s, ul, u->user, sizeof u->user) != 0)
        return err_set(e, "redis URL: the user name is too long or badly %%-encoded");
    if (has_other && colon != NULL && ul + 1 < n)
        return err_set(e, "redis: the password is given twice, in the URL and by "
                          "--redis-password-file or POSTCARD_REDIS_PASSWORD: give it once");
    if (has_other)
        return 0;
    if (pct_decode(colon + 1, n - ul - 1, u->password, sizeof u->password) != 0)
        return err_set(e, "redis URL: the password is too long or badly %%-encoded");
    if (u->password[0] == '\0')
        return err_set(e, "redis URL: empty password");
    return 0;
}

/* Where the credentials of url begin (after "scheme://") and end (the last '@' before the
 * path); false when there are none. */
static bool userinfo_of(const char *url, const char **from, const char **at)
{
    const char *p = strstr(url, "://");
    if (p == NULL)
        return false;
    p += 3;
    bool is_unix = strncmp(url, "unix://", 7) == 0;
    const char *end_auth = is_unix ? p + strcspn(p, "/") : p + strcspn(p, "/?#");
    *at = NULL;
    for (const char *q = p; q < end_auth; q++)
        if (*q == '@')
            *at = q;
    *from = p;
    return *at != NULL;
}

bool redis_url_password_span(const char *url, size_t *off, size_t *len)
{
    const char *p, *at;
    if (!userinfo_of(url, &p, &at))
        return false;
    const char *colon = memchr(p, ':', (size_t)(at - p));
    if (colon == NULL || colon + 1 == at)
        return false;
    *off = (size_t)(colon + 1 - url);
    *len = (size_t)(at - colon - 1);
    return true;
}

static int parse(const char *url, bool has_other, struct redis_url *u, struct err *e);

int redis_url_parse(const char *url, struct redis_url *u, struct err *e)
{
    return redis_url_parse_with(url, NULL, u, e);
}

int redis_url_parse_with(const char *url, const char *password, struct redis_url *u, struct err *e)
{
    int rc = parse(url, password != NULL, u, e);
    size_t n = password != NULL ? strlen(password) : 0;
    if (rc == 0 && password != NULL && (n == 0 || n >= sizeof u->password))
        rc = err_set(e, "redis: the password must hold 1 to %zu bytes", sizeof u->password - 1);
    else if (rc == 0 && password != NULL)
        memcpy(u->password, password, n + 1);
    if (rc != 0)
        explicit_bzero(u, sizeof *u); /* [REDIS-PASSWORD] */
    return rc;
}

static int parse(const char *url, bool has_other, struct redis_url *u, struct err *e)
{
    memset(u, 0, sizeof *u);
    u->port = 6379;
    bool is_unix = strncmp(url, "unix://", 7) == 0;
    if (strncmp(url, "rediss://", 9) == 0)
        return err_set(e, "redis URL: rediss:// (TLS) is not supported (hiredis 0.14)");
    if (!is_unix && strncmp(url, "redis://", 8) != 0)
        return err_set(e, "redis URL: expected redis://[user:password@]host[:port][/db] or "
                          "unix:///path/to.sock");
    const char *p = url + (is_unix ? 7 : 8);
    /* the credentials end at the last '@' before the path */
    const char *from, *at;
    if (userinfo_of(url, &from, &at)) {
        if (parse_userinfo(p, (size_t)(at - p), has_other, u, e) != 0)
            return -1;
        p = at + 1;
    }
    if (is_unix) {
        u->is_unix = true;
        size_t n = strcspn(p, "?#");
        if (n == 0 || p[0] != '/')
            return err_set(e, "redis URL: unix:// needs an absolute socket path (unix:///path)");
        if (pct_decode(p, n, u->path, sizeof u->path) != 0)
            return err_set(e, "redis URL: socket path too long or badly %%-encoded");
        p += n;
        if (strncmp(p, "?db=", 4) == 0) {
            if (parse_int(p + 4, strlen(p + 4), 0, 1000000, &u->db) != 0)
                return err_set(e, "redis URL: ?db= takes a database number");
            return 0;
        }
        if (*p != '\0')
            return err_set(e, "redis URL: unexpected text after the socket path (?db=N only)");
        return 0;
    }
    const char *hs = p, *he;
    if (*p == '[') { /* [IPv6] (RFC 3986 §3.2.2) */
        he = strchr(p, ']');
        if (he == NULL)
            return err_set(e, "redis URL: '[' without ']'");
        hs = p + 1;
        p = he + 1;
    } else {
        p += strcspn(p, ":/?#");
        he = p;
    }
    size_t hl = (size_t)(he - hs);
    if (hl == 0)
        return err_set(e, "redis URL: no host");
    if (hl >= sizeof u->host)
        return err_set(e, "redis URL: host name too long");
    for (size_t i = 0; i < hl; i++) {
        char ch = hs[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '-' || ch == '_' || ch == ':' || ch == '%'))
            return err_set(e, "redis URL: bad character in the host name");
    }
    memcpy(u->host, hs, hl);
    u->host[hl] = '\0';
    if (*p == ':') {
        size_t n = strcspn(p + 1, "/?#");
        if (parse_int(p + 1, n, 1, 65535, &u->port) != 0)
            return err_set(e, "redis URL: the port is a number from 1 to 65535");
        p += 1 + n;
    }
    if (*p == '/') {
        size_t n = strlen(p + 1);
        if (n > 0 && parse_int(p + 1, n, 0, 1000000, &u->db) != 0)
            return err_set(e, "redis URL: the path is a database number (/0, /1, ...)");
        return 0;
    }
    if (*p != '\0')
        return err_set(e, "redis URL: unexpected text after the host (query strings are not "
                          "supported)");
    return 0;
}

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
 * Hazards:
 *   [REDIS-PASSWORD]  no message repeats the credentials or any part of them
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

/* "user:password" or ":password" before the '@'. [REDIS-PASSWORD] never quoted back. */
static int parse_userinfo(const char *s, size_t n, struct redis_url *u, struct err *e)
{
    const char *colon = memchr(s, ':', n);
    if (colon == NULL)
        return err_set(e, "redis URL: credentials are user:password@ or :password@");
    size_t ul = (size_t)(colon - s);
    if (pct_decode(s, ul, u->user, sizeof u->user) != 0)
        return err_set(e, "redis URL: the user name is too long or badly %%-encoded");
    if (pct_decode(colon + 1, n - ul - 1, u->password, sizeof u->password) != 0)
        return err_set(e, "redis URL: the password is too long or badly %%-encoded");
    if (u->password[0] == '\0')
        return err_set(e, "redis URL: empty password");
    return 0;
}

int redis_url_parse(const char *url, struct redis_url *u, struct err *e)
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
    const char *end_auth = is_unix ? p + strcspn(p, "/") : p + strcspn(p, "/?#");
    const char *at = NULL;
    for (const char *q = p; q < end_auth; q++)
        if (*q == '@')
            at = q;
    if (at != NULL) {
        if (parse_userinfo(p, (size_t)(at - p), u, e) != 0)
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

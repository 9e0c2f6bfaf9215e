/*
 * geoip.c — country, city and AS of a public address, from MaxMind
 * databases (libmaxminddb). The only file that includes maxminddb.h.
 *
 *   --geoip FILE   a Country or City database: geoip{country_iso, country, city}
 *   --asn FILE     an ASN database: as{number, org}
 *
 * Addresses that are not public (RFC 1918, CGNAT, loopback, link-local,
 * multicast, documentation, unique-local, ...) are never looked up: they
 * mean nothing to a database and a lookup would leak nothing useful.
 * Databases are opened once (memory-mapped) and only read afterwards.
 */
#include "eve/geoip.h"

#include <arpa/inet.h>
#include <errno.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct geoip {
    MMDB_s city;   /* country or city database */
    MMDB_s asn;    /* ASN database */
    bool has_city; /* city was opened */
    bool has_asn;  /* asn was opened */
};

static bool v4_public(const uint8_t *a)
{
    uint32_t x = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
    static const struct {
        uint32_t net;
        int bits;
    } NOT_PUBLIC[] = {
        {0x00000000, 8},  /* "this network" */
        {0x0a000000, 8},  /* RFC 1918 */
        {0x64400000, 10}, /* RFC 6598 shared (CGNAT) */
        {0x7f000000, 8},  /* loopback */
        {0xa9fe0000, 16}, /* link-local */
        {0xac100000, 12}, /* RFC 1918 */
        {0xc0000000, 24}, /* IETF protocol assignments */
        {0xc0000200, 24}, /* TEST-NET-1 */
        {0xc0a80000, 16}, /* RFC 1918 */
        {0xc6120000, 15}, /* benchmarking */
        {0xc6336400, 24}, /* TEST-NET-2 */
        {0xcb007100, 24}, /* TEST-NET-3 */
        {0xe0000000, 4},  /* multicast */
        {0xf0000000, 4},  /* reserved, broadcast */
    };
    for (size_t i = 0; i < sizeof NOT_PUBLIC / sizeof NOT_PUBLIC[0]; i++) {
        uint32_t mask = NOT_PUBLIC[i].bits ? ~0u << (32 - NOT_PUBLIC[i].bits) : 0;
        if ((x & mask) == NOT_PUBLIC[i].net)
            return false;
    }
    return true;
}

bool geoip_is_public(const uint8_t *a, int ipver)
{
    if (ipver == 4)
        return v4_public(a);
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(a, mapped, 12) == 0)
        return v4_public(a + 12);
    bool zero = true; /* :: and ::1 */
    for (int i = 0; i < 15; i++)
        zero = zero && a[i] == 0;
    if (zero)
        return false;
    if ((a[0] & 0xfe) == 0xfc) /* fc00::/7 unique local */
        return false;
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) /* fe80::/10 link-local */
        return false;
    if (a[0] == 0xff) /* multicast */
        return false;
    if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8) /* documentation */
        return false;
    return true;
}

static int open_db(MMDB_s *db, const char *path, const char *opt, const char *want1,
                   const char *want2, struct err *e)
{
    FILE *f = fopen(path, "rb"); /* libmaxminddb does not say why a file cannot be opened */
    if (f == NULL) {
        err_set(e, "%s %s: %s", opt, path, strerror(errno));
        return -1;
    }
    fclose(f);
    int rc = MMDB_open(path, MMDB_MODE_MMAP, db);
    if (rc != MMDB_SUCCESS) {
        err_set(e, "%s %s: not a MaxMind database (%s)", opt, path, MMDB_strerror(rc));
        return -1;
    }
    const char *type = db->metadata.database_type;
    if (type == NULL ||
        (strstr(type, want1) == NULL && (want2 == NULL || strstr(type, want2) == NULL))) {
        err_set(e, "%s %s: a %s database, not %s%s%s", opt, path, type ? type : "(untyped)", want1,
                want2 ? " or " : "", want2 ? want2 : "");
        MMDB_close(db);
        return -1;
    }
    return 0;
}

struct geoip *geoip_open(const char *city_path, const char *asn_path, struct err *e)
{
    if (city_path == NULL && asn_path == NULL)
        return NULL;
    struct geoip *g = xcalloc(1, sizeof *g);
    if (city_path != NULL) {
        if (open_db(&g->city, city_path, "--geoip", "Country", "City", e) != 0) {
            free(g);
            return NULL;
        }
        g->has_city = true;
    }
    if (asn_path != NULL) {
        if (open_db(&g->asn, asn_path, "--asn", "ASN", NULL, e) != 0) {
            geoip_free(g);
            return NULL;
        }
        g->has_asn = true;
    }
    return g;
}

void geoip_free(struct geoip *g)
{
    if (g == NULL)
        return;
    if (g->has_city)
        MMDB_close(&g->city);
    if (g->has_asn)
        MMDB_close(&g->asn);
    free(g);
}

static bool lookup(const MMDB_s *db, const uint8_t *a, int ipver, MMDB_lookup_result_s *res)
{
    struct sockaddr_in6 s6;
    struct sockaddr_in s4;
    const struct sockaddr *sa;
    if (ipver == 4) {
        memset(&s4, 0, sizeof s4);
        s4.sin_family = AF_INET;
        memcpy(&s4.sin_addr, a, 4);
        sa = (const struct sockaddr *)&s4;
    } else {
        memset(&s6, 0, sizeof s6);
        s6.sin6_family = AF_INET6;
        memcpy(&s6.sin6_addr, a, 16);
        sa = (const struct sockaddr *)&s6;
    }
    int mmdb_err = MMDB_SUCCESS;
    *res = MMDB_lookup_sockaddr((MMDB_s *)db, sa, &mmdb_err);
    return mmdb_err == MMDB_SUCCESS && res->found_entry;
}

/* A string value at the path (NULL-terminated list) into buf; false when absent. */
static bool get_str(MMDB_lookup_result_s *res, char *buf, size_t n, const char *const *path)
{
    MMDB_entry_data_s d;
    if (MMDB_aget_value(&res->entry, &d, path) != MMDB_SUCCESS || !d.has_data ||
        d.type != MMDB_DATA_TYPE_UTF8_STRING || n == 0)
        return false;
    size_t k = d.data_size < n - 1 ? d.data_size : n - 1;
    memcpy(buf, d.utf8_string, k);
    buf[k] = '\0';
    return k > 0;
}

bool geoip_write(const struct geoip *g, struct jbuf *j, const char *key, const uint8_t *a,
                 int ipver)
{
    if (g == NULL || !geoip_is_public(a, ipver))
        return false;
    static const char *const ISO[] = {"country", "iso_code", NULL};
    static const char *const COUNTRY[] = {"country", "names", "en", NULL};
    static const char *const CITY[] = {"city", "names", "en", NULL};
    static const char *const ORG[] = {"autonomous_system_organization", NULL};
    static const char *const NUM[] = {"autonomous_system_number", NULL};
    char iso[8], country[128], city[128], org[256];
    bool has_iso = false, has_country = false, has_city = false, has_org = false, has_num = false;
    uint32_t num = 0;
    MMDB_lookup_result_s res;
    if (g->has_city && lookup(&g->city, a, ipver, &res)) {
        has_iso = get_str(&res, iso, sizeof iso, ISO);
        has_country = get_str(&res, country, sizeof country, COUNTRY);
        has_city = get_str(&res, city, sizeof city, CITY);
    }
    if (g->has_asn && lookup(&g->asn, a, ipver, &res)) {
        MMDB_entry_data_s d;
        if (MMDB_aget_value(&res.entry, &d, NUM) == MMDB_SUCCESS && d.has_data &&
            d.type == MMDB_DATA_TYPE_UINT32) {
            num = d.uint32;
            has_num = true;
        }
        has_org = get_str(&res, org, sizeof org, ORG);
    }
    bool geo = has_iso || has_country || has_city, as = has_num || has_org;
    if (!geo && !as)
        return false;
    j_obj(j, key);
    if (geo) {
        j_obj(j, "geoip");
        if (has_iso)
            j_str(j, "country_iso", iso);
        if (has_country)
            j_str(j, "country", country);
        if (has_city)
            j_str(j, "city", city);
        j_obj_end(j);
    }
    if (as) {
        j_obj(j, "as");
        if (has_num)
            j_u64(j, "number", num);
        if (has_org)
            j_str(j, "org", org);
        j_obj_end(j);
    }
    j_obj_end(j);
    return true;
}

bool geoip_has_country(const struct geoip *g)
{
    return g != NULL && g->has_city;
}

bool geoip_has_asn(const struct geoip *g)
{
    return g != NULL && g->has_asn;
}

void geoip_where(const struct geoip *g, const uint8_t *a, int ipver, struct geoip_where *w)
{
    static const char *const ISO[] = {"country", "iso_code", NULL};
    static const char *const ORG[] = {"autonomous_system_organization", NULL};
    static const char *const NUM[] = {"autonomous_system_number", NULL};
    memset(w, 0, sizeof *w);
    if (g == NULL || !geoip_is_public(a, ipver))
        return;
    MMDB_lookup_result_s res;
    if (g->has_city && lookup(&g->city, a, ipver, &res))
        w->has_iso = get_str(&res, w->iso, sizeof w->iso, ISO);
    if (g->has_asn && lookup(&g->asn, a, ipver, &res)) {
        MMDB_entry_data_s d;
        if (MMDB_aget_value(&res.entry, &d, NUM) == MMDB_SUCCESS && d.has_data &&
            d.type == MMDB_DATA_TYPE_UINT32) {
            w->as_num = d.uint32;
            w->has_as = true;
        }
        if (!get_str(&res, w->as_org, sizeof w->as_org, ORG))
            w->as_org[0] = '\0';
    }
}

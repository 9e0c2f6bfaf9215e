/*
 * geoip.h — where a public address is: country and city (a MaxMind Country
 * or City database) and its autonomous system (an ASN database).
 */
#ifndef POSTCARD_GEOIP_H
#define POSTCARD_GEOIP_H

#include <stdbool.h>
#include <stdint.h>

#include "common.h"
#include "eve/json.h"

struct geoip;

/* Open either or both databases (paths may be NULL; both NULL gives NULL and no error).
 * NULL with e set when a file is missing, corrupt, or not the kind of database asked for. */
struct geoip *geoip_open(const char *city_path, const char *asn_path, struct err *e);
void geoip_free(struct geoip *g);

/* Is the address worth looking up (not private, loopback, link-local, multicast, ...)? */
bool geoip_is_public(const uint8_t *a, int ipver);

/* Write key:{"geoip":{country_iso,country,city},"as":{number,org}} for address a, with the
 * parts the databases know; nothing (false) for an address not public or not found. */
bool geoip_write(const struct geoip *g, struct jbuf *j, const char *key, const uint8_t *a,
                 int ipver);

/* Which databases are open (the summary counts by country only with one, by AS with the other). */
bool geoip_has_country(const struct geoip *g);
bool geoip_has_asn(const struct geoip *g);

/* The country and AS of an address, for counting (docs/summary.md). */
struct geoip_where {
    bool has_iso;     /* the country database knows it */
    char iso[8];      /* ISO 3166-1 alpha-2 code, NUL-terminated */
    bool has_as;      /* the ASN database knows its number */
    uint32_t as_num;  /* autonomous system number */
    char as_org[256]; /* its organisation ("" when the database has none) */
};

/* Fill w for address a; an address that is not public, or not found, has nothing set. */
void geoip_where(const struct geoip *g, const uint8_t *a, int ipver, struct geoip_where *w);

#endif

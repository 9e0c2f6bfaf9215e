/*
 * anon.h — pseudonyms for sharing reports (--anonymize KEYFILE): addresses
 * by Crypto-PAn (prefix-preserving, AES-128), user names and mail
 * addresses dropped or replaced by a keyed hash, flow ids re-keyed.
 *
 * The same key file gives the same pseudonyms on every run and every
 * sensor, so reports made with one key merge (docs/anonymize.md).
 */
#ifndef POSTCARD_ANON_H
#define POSTCARD_ANON_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

#define ANON_KEY_BYTES 32  /* key file: 16 bytes AES-128 key, then 16 bytes that make the pad */
#define ANON_USER_BYTES 22 /* "anon-" + 16 hex digits + NUL */

/* What becomes of user names and mail addresses. */
enum anon_users {
    ANON_USERS_DROP, /* left out of the records (the default) */
    ANON_USERS_HASH, /* replaced by "anon-" and 16 hex digits of a keyed HMAC-SHA256 */
};

struct anon;

/*
 * Read a key file of exactly ANON_KEY_BYTES bytes: a regular file that
 * others cannot read or write. NULL with a message in e when it cannot
 * be used.
 */
struct anon *anon_open(const char *keyfile, enum anon_users how, struct err *e);
/* The same from the key's bytes (tests, and anon_open itself). */
struct anon *anon_new(const uint8_t key[ANON_KEY_BYTES], enum anon_users how, struct err *e);
void anon_free(struct anon *a);

/*
 * The pseudonym of an address (ipver 4: the first 4 bytes of in[], the
 * rest of out[] is zeroed; 6: all 16). Two addresses that share their
 * first k bits have pseudonyms that share exactly their first k bits.
 * This signature is a contract (sensor/summary.c keys servers with it).
 * Not thread-safe: one struct anon per thread [ANON-ONE-THREAD].
 */
void anon_addr(const struct anon *a, const uint8_t in[16], int ipver, uint8_t out[16]);

/* The flow_id to write: a keyed hash of the real one (AES-128), below 2^51 [ANON-FLOW-ID]. */
uint64_t anon_flow_id(const struct anon *a, uint64_t flow_id);

/* What to do with user names and mail addresses. */
enum anon_users anon_users_mode(const struct anon *a);

/*
 * The keyed hash of user[0..n) as "anon-" and 16 hex digits into out
 * (cap >= ANON_USER_BYTES), whatever the mode. Returns its length, or 0
 * when cap is too small.
 */
size_t anon_user(const struct anon *a, const char *user, size_t n, char *out, size_t cap);

/* Lookups answered from the address cache, and computed. */
void anon_cache_counts(const struct anon *a, uint64_t *hits, uint64_t *misses);

/*
 * Write a new key file at path: ANON_KEY_BYTES from getrandom(), mode
 * 0600, never over an existing file. 0, or -1 with a message in e.
 */
int anon_keygen(const char *path, struct err *e);

#endif

/*
 * defrag.h — IPv4 (RFC 791) and IPv6 (RFC 8200 §4.5) fragment reassembly,
 * bounded in datagrams, fragments per datagram and bytes.
 */
#ifndef POSTCARD_DEFRAG_H
#define POSTCARD_DEFRAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "stats.h"

struct defrag;

struct defrag_key {
    uint8_t ipver;   /* 4 or 6 */
    uint8_t proto;   /* IPv4 protocol / IPv6 next header after the fragment header */
    uint8_t src[16]; /* source address */
    uint8_t dst[16]; /* destination address */
    uint32_t id;     /* IPv4 identification (16 bits) or IPv6 fragment identification */
};

struct defrag *defrag_new(struct stats *st);
void defrag_free(struct defrag *df);

/*
 * Add one fragment. `hdr`/`hdr_len` is the header to put in front of the
 * rebuilt datagram (the IPv4 header, or a 40-byte IPv6 header); `data` is
 * the fragment's payload at byte offset `off`; `more` is the MF flag.
 * Returns true when the datagram is complete: *out and *out_len then hold the
 * rebuilt datagram (header + payload), valid until the next call.
 */
bool defrag_add(struct defrag *df, const struct defrag_key *k, pc_time ts, const uint8_t *hdr,
                size_t hdr_len, const uint8_t *data, size_t len, size_t off, bool more,
                const uint8_t **out, size_t *out_len);

/* Drop datagrams older than the timeout (counted). */
void defrag_expire(struct defrag *df, pc_time now);

#endif

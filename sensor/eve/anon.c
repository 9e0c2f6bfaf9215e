/*
 * anon.c — Crypto-PAn address pseudonyms, keyed hashes of user names, and
 * re-keyed flow ids, with OpenSSL 3 libcrypto.
 *
 * Crypto-PAn: J. Xu, J. Fan, M. Ammar, S. Moon, "Prefix-Preserving IP
 * Address Anonymization", ICNP 2002, as in its reference implementation
 * (and the usual IPv6 extension: the same construction over 128 bits).
 *
 *   key file (32 bytes) = K (16: the AES-128 key) ‖ P (16)
 *   pad = AES_K(P)
 *   bit i of the pseudonym = bit i of the address
 *                            XOR first bit of AES_K( address[0..i) ‖ pad[i..128) )
 *
 *        address  a0 a1 a2 ... a(i-1) | ai ...
 *        block    a0 a1 a2 ... a(i-1) | pad(i) pad(i+1) ... pad(127)  ─AES_K─▶ msb ─▶ flip i
 *
 * Flip i depends on the first i bits only, so two addresses that share k
 * bits get the same first k flips (a shared prefix of k bits) and differ
 * at bit k (different bits, same flip): the pseudonyms share exactly k.
 * An IPv4 address is the first 32 positions of the same construction,
 * which is what the reference implementation computes.
 *
 * Cost: one AES block per bit. The blocks of one address do not depend on
 * each other, so they go to libcrypto in one ECB call (ECB encrypts each
 * block alone: the same result as one call per block, pipelined). The
 * flips of the first 8 bits are a table of 256 made at start, and a
 * direct-mapped cache remembers recent addresses: a busy mail server
 * appears in every record.
 *
 * Derived keys, each HMAC-SHA256(key file, label), so that no two uses
 * share a key:
 *   "postcard anonymize users v1"     HMAC key for user names and mail addresses
 *   "postcard anonymize flow-ids v1"  AES-128 key for flow ids (16 bytes), cache seed (8)
 *
 * Hazards: [ANON-ONE-THREAD] the cache and the cipher contexts change on
 *          every lookup: one struct anon per thread.
 *          [ANON-FAIL-CLOSED] libcrypto failing mid-run writes :: / 0.0.0.0,
 *          never the real address.
 *          [ANON-KEY-PERMS] a key readable by others is refused: the key
 *          turns every pseudonym back into its address.
 *          [ANON-KEY-WIPE] key material is cleansed from memory when done.
 *          [ANON-FLOW-ID] the plain flow_id is a public hash of the real
 *          tuple: with the ports and start time it gives the addresses
 *          back by search, so it is replaced.
 *          [ANON-CACHE-THRASH] colliding addresses only cost the uncached
 *          price; the slot hash is seeded from the key all the same.
 */
#include "eve/anon.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sensor-limits.h"

#define AES_BLOCK 16

_Static_assert((ANON_CACHE_SLOTS & (ANON_CACHE_SLOTS - 1)) == 0, "a power of two: slots by mask");

struct anon_slot {
    uint8_t in[16];  /* the address (IPv4: first 4 bytes, the rest zero) */
    uint8_t out[16]; /* its pseudonym */
    uint8_t ipver;   /* 4 or 6; 0: empty */
};

/* What lookups change, behind a pointer: anon_addr takes a const struct anon
 * because the mapping never changes, only the memory of it [ANON-ONE-THREAD]. */
struct anon_state {
    EVP_CIPHER_CTX *prf;                      /* AES-128-ECB under K, no padding */
    EVP_CIPHER_CTX *ids;                      /* AES-128-ECB under the flow-id key */
    uint64_t hits;                            /* lookups answered by the cache */
    uint64_t misses;                          /* lookups computed */
    uint64_t failures;                        /* libcrypto failures [ANON-FAIL-CLOSED] */
    struct anon_slot cache[ANON_CACHE_SLOTS]; /* direct-mapped */
};

struct anon {
    enum anon_users users; /* drop or hash user names */
    uint8_t pad[16];       /* AES_K(P) */
    uint8_t top8[256];     /* flips of bits 0-7, by the first byte */
    uint8_t user_key[32];  /* HMAC-SHA256 key for user names */
    uint64_t cache_seed;   /* seeds the cache slot hash [ANON-CACHE-THRASH] */
    struct anon_state *st; /* cipher contexts and cache */
};

/* The block whose first encrypted bit is flip pos: addr[0..pos) ‖ pad[pos..128). */
static void prf_input(const uint8_t pad[16], const uint8_t addr[16], unsigned pos, uint8_t blk[16])
{
    unsigned k = pos / 8, r = pos % 8;
    memcpy(blk, addr, k);
    memcpy(blk + k, pad + k, 16 - k);
    if (r != 0) {
        uint8_t m = (uint8_t)(0xff << (8 - r));
        blk[k] = (uint8_t)((addr[k] & m) | (pad[k] & (uint8_t)~m));
    }
}

/* Set flips [from, to) of addr in flips (bit 0 = the high bit of flips[0]).
 * -1 when libcrypto fails. */
static int flip_bits(const struct anon *a, const uint8_t addr[16], unsigned from, unsigned to,
                     uint8_t flips[16])
{
    uint8_t in[ANON_PRF_BATCH * AES_BLOCK];
    uint8_t out[(ANON_PRF_BATCH + 1) * AES_BLOCK]; /* EVP's rule: room for one block more */
    assert(to <= 128);
    for (unsigned p0 = from; p0 < to; p0 += ANON_PRF_BATCH) {
        unsigned n = to - p0 < ANON_PRF_BATCH ? to - p0 : ANON_PRF_BATCH;
        for (unsigned i = 0; i < n; i++)
            prf_input(a->pad, addr, p0 + i, in + i * AES_BLOCK);
        int len = 0;
        if (EVP_EncryptUpdate(a->st->prf, out, &len, in, (int)(n * AES_BLOCK)) != 1 ||
            len != (int)(n * AES_BLOCK))
            return -1;
        for (unsigned i = 0; i < n; i++)
            if (out[i * AES_BLOCK] & 0x80)
                flips[(p0 + i) / 8] |= (uint8_t)(0x80 >> ((p0 + i) % 8));
    }
    return 0;
}

static size_t cache_slot(const struct anon *a, const uint8_t addr[16], int ipver)
{
    uint64_t h = a->cache_seed ^ (uint64_t)ipver;
    for (int i = 0; i < 16; i++)
        h = (h ^ addr[i]) * 0x100000001b3ULL; /* FNV-1a step */
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 32;
    return (size_t)(h & (ANON_CACHE_SLOTS - 1));
}

void anon_addr(const struct anon *a, const uint8_t in[16], int ipver, uint8_t out[16])
{
    assert(ipver == 4 || ipver == 6);
    unsigned nbytes = ipver == 4 ? 4 : 16;
    uint8_t addr[16] = {0}, flips[16] = {0};
    memcpy(addr, in, nbytes); /* IPv4: whatever follows the 4 bytes is not the address */
    struct anon_state *st = a->st;
    struct anon_slot *c = &st->cache[cache_slot(a, addr, ipver)];
    if (c->ipver == ipver && memcmp(c->in, addr, 16) == 0) {
        st->hits++;
        memcpy(out, c->out, 16);
        return;
    }
    st->misses++;
    flips[0] = a->top8[addr[0]];
    if (flip_bits(a, addr, 8, nbytes * 8, flips) != 0) { /* [ANON-FAIL-CLOSED] */
        st->failures++;
        memset(out, 0, 16);
        return;
    }
    memset(out, 0, 16);
    for (unsigned i = 0; i < nbytes; i++)
        out[i] = addr[i] ^ flips[i];
    memcpy(c->in, addr, 16);
    memcpy(c->out, out, 16);
    c->ipver = (uint8_t)ipver;
}

uint64_t anon_flow_id(const struct anon *a, uint64_t flow_id)
{
    uint8_t blk[AES_BLOCK] = {0}, out[2 * AES_BLOCK];
    for (int i = 0; i < 8; i++)
        blk[i] = (uint8_t)(flow_id >> (56 - 8 * i));
    int len = 0;
    if (EVP_EncryptUpdate(a->st->ids, out, &len, blk, AES_BLOCK) != 1 || len != AES_BLOCK) {
        a->st->failures++;
        return 0; /* [ANON-FAIL-CLOSED] */
    }
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | out[i];
    return v & ((1ULL << 51) - 1); /* exact in a JSON number, as the plain one */
}

enum anon_users anon_users_mode(const struct anon *a)
{
    return a->users;
}

size_t anon_user(const struct anon *a, const char *user, size_t n, char *out, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    static const char prefix[] = "anon-";
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (cap < ANON_USER_BYTES)
        return 0;
    if (HMAC(EVP_sha256(), a->user_key, (int)sizeof a->user_key, (const unsigned char *)user, n, md,
             &md_len) == NULL ||
        md_len < 8) {
        a->st->failures++;
        return 0; /* [ANON-FAIL-CLOSED]: the caller writes nothing */
    }
    memcpy(out, prefix, sizeof prefix - 1);
    size_t at = sizeof prefix - 1;
    for (int i = 0; i < 8; i++) {
        out[at++] = hex[md[i] >> 4];
        out[at++] = hex[md[i] & 15];
    }
    out[at] = '\0';
    return at;
}

void anon_cache_counts(const struct anon *a, uint64_t *hits, uint64_t *misses)
{
    *hits = a->st->hits;
    *misses = a->st->misses;
}

static EVP_CIPHER_CTX *aes_ecb(const uint8_t key[16])
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    if (c == NULL)
        return NULL;
    if (EVP_EncryptInit_ex(c, EVP_aes_128_ecb(), NULL, key, NULL) != 1 ||
        EVP_CIPHER_CTX_set_padding(c, 0) != 1) {
        EVP_CIPHER_CTX_free(c);
        return NULL;
    }
    return c;
}

/* HMAC-SHA256(key, label) into out[32]. */
static int derive(const uint8_t key[ANON_KEY_BYTES], const char *label, uint8_t out[32])
{
    unsigned int n = 0;
    const unsigned char *msg = (const unsigned char *)label;
    if (HMAC(EVP_sha256(), key, ANON_KEY_BYTES, msg, strlen(label), out, &n) == NULL)
        return -1;
    return n == 32 ? 0 : -1;
}

void anon_free(struct anon *a)
{
    if (a == NULL)
        return;
    if (a->st != NULL) {
        EVP_CIPHER_CTX_free(a->st->prf); /* cleanses its key schedule */
        EVP_CIPHER_CTX_free(a->st->ids);
        OPENSSL_cleanse(a->st, sizeof *a->st); /* [ANON-KEY-WIPE]: the cache maps too */
        free(a->st);
    }
    OPENSSL_cleanse(a, sizeof *a);
    free(a);
}

struct anon *anon_new(const uint8_t key[ANON_KEY_BYTES], enum anon_users how, struct err *e)
{
    uint8_t flow_key[32], pad[2 * AES_BLOCK];
    struct anon *a = xcalloc(1, sizeof *a);
    a->users = how;
    a->st = xcalloc(1, sizeof *a->st);
    int len = 0;
    if ((a->st->prf = aes_ecb(key)) == NULL ||
        EVP_EncryptUpdate(a->st->prf, pad, &len, key + 16, 16) != 1 || len != 16 ||
        derive(key, "postcard anonymize users v1", a->user_key) != 0 ||
        derive(key, "postcard anonymize flow-ids v1", flow_key) != 0 ||
        (a->st->ids = aes_ecb(flow_key)) == NULL) {
        OPENSSL_cleanse(flow_key, sizeof flow_key);
        OPENSSL_cleanse(pad, sizeof pad);
        anon_free(a);
        err_set(e, "OpenSSL: AES-128-ECB or HMAC-SHA256 is not available");
        return NULL;
    }
    memcpy(a->pad, pad, sizeof a->pad);
    for (int i = 0; i < 8; i++)
        a->cache_seed = a->cache_seed << 8 | flow_key[16 + i];
    OPENSSL_cleanse(flow_key, sizeof flow_key); /* [ANON-KEY-WIPE] */
    OPENSSL_cleanse(pad, sizeof pad);
    for (unsigned b = 0; b < 256; b++) {
        uint8_t addr[16] = {(uint8_t)b}, flips[16] = {0};
        if (flip_bits(a, addr, 0, 8, flips) != 0) {
            anon_free(a);
            err_set(e, "OpenSSL: AES-128-ECB failed");
            return NULL;
        }
        a->top8[b] = flips[0];
    }
    return a;
}

/* Read exactly ANON_KEY_BYTES from fd; -1 with errno, or -2 when the size is wrong. */
static int read_key(int fd, uint8_t key[ANON_KEY_BYTES + 1])
{
    size_t got = 0;
    while (got < ANON_KEY_BYTES + 1) { /* one byte more: the file must end at 32 */
        ssize_t r = read(fd, key + got, ANON_KEY_BYTES + 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return got == ANON_KEY_BYTES ? 0 : -2;
}

struct anon *anon_open(const char *keyfile, enum anon_users how, struct err *e)
{
    uint8_t key[ANON_KEY_BYTES + 1];
    struct stat sb;
    struct anon *a = NULL;
    int fd = open(keyfile, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        err_set(e, "%s: %s (the --anonymize key file)", keyfile, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &sb) != 0) {
        err_set(e, "%s: %s", keyfile, strerror(errno));
        goto out;
    }
    if (!S_ISREG(sb.st_mode)) {
        err_set(e, "%s: not a regular file: a key file holds exactly %d bytes", keyfile,
                ANON_KEY_BYTES);
        goto out;
    }
    if (sb.st_mode & (S_IROTH | S_IWOTH)) { /* [ANON-KEY-PERMS] */
        err_set(e,
                "%s: other users can read or write it (mode %03o): chmod 600 it; the key "
                "turns pseudonyms back into addresses",
                keyfile, (unsigned)(sb.st_mode & 0777));
        goto out;
    }
    if (sb.st_size != ANON_KEY_BYTES) {
        err_set(e,
                "%s: %lld bytes: a key file holds exactly %d (make one with postcard "
                "--anonymize-keygen FILE)",
                keyfile, (long long)sb.st_size, ANON_KEY_BYTES);
        goto out;
    }
    int rc = read_key(fd, key);
    if (rc == -1) {
        err_set(e, "%s: %s", keyfile, strerror(errno));
        goto out;
    }
    if (rc == -2) {
        err_set(e, "%s: not %d bytes when read: a key file holds exactly %d", keyfile,
                ANON_KEY_BYTES, ANON_KEY_BYTES);
        goto out;
    }
    size_t same = 1;
    for (size_t i = 1; i < ANON_KEY_BYTES; i++)
        same += key[i] == key[0];
    if (same == ANON_KEY_BYTES) { /* zeros from truncate or /dev/zero: not a key */
        err_set(e,
                "%s: all %d bytes are equal: not a key (make one with postcard "
                "--anonymize-keygen FILE)",
                keyfile, ANON_KEY_BYTES);
        goto out;
    }
    a = anon_new(key, how, e);
out:
    OPENSSL_cleanse(key, sizeof key); /* [ANON-KEY-WIPE] */
    close(fd);
    return a;
}

int anon_keygen(const char *path, struct err *e)
{
    uint8_t key[ANON_KEY_BYTES];
    size_t got = 0;
    int rc = -1;
    while (got < sizeof key) {
        ssize_t r = getrandom(key + got, sizeof key - got, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            err_set(e, "getrandom: %s", strerror(errno));
            goto out;
        }
        got += (size_t)r;
    }
    /* O_EXCL: a key in use is never replaced; its pseudonyms would stop matching */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        err_set(e, "%s: %s%s", path, strerror(errno),
                errno == EEXIST ? " (a key file is never overwritten)" : "");
        goto out;
    }
    size_t put = 0;
    errno = 0;
    while (put < sizeof key) {
        ssize_t w = write(fd, key + put, sizeof key - put);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        put += (size_t)w;
    }
    if (put != sizeof key || fsync(fd) != 0) {
        err_set(e, "%s: %s", path, strerror(errno != 0 ? errno : EIO));
        close(fd);
        unlink(path);
        goto out;
    }
    if (close(fd) != 0) {
        err_set(e, "%s: %s", path, strerror(errno));
        unlink(path);
        goto out;
    }
    rc = 0;
out:
    OPENSSL_cleanse(key, sizeof key); /* [ANON-KEY-WIPE] */
    return rc;
}

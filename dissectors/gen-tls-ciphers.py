#!/usr/bin/env python3
"""gen-tls-ciphers.py — write dissectors/tls-ciphers.c from the IANA registry.

    python3 dissectors/gen-tls-ciphers.py dissectors/tls-cipher-suites.csv \
        dissectors/tls-ciphers.c

(`make tls-ciphers` runs exactly that.)

Input: dissectors/tls-cipher-suites.csv is the IANA "TLS Cipher Suites"
registry, byte for byte as IANA publishes it (registry "Transport Layer
Security (TLS) Parameters", https://www.iana.org/assignments/tls-parameters/,
file tls-parameters-4.csv; columns Value,Description,DTLS-OK,Recommended,
Reference). The file itself carries no date. The copy in this tree was taken
from the public repository AnoyingShulkerMC/BootlegTLS (commit 921d7444...);
its newest entries are TLS_AEGIS_256_SHA384 / TLS_AEGIS_128L_SHA256
(0x13,0x06-07, draft-irtf-cfrg-aegis-aead-00) and the RFC 9189 / TLS 1.3 GOST
suites (0xC1,0x00-06), so it reflects the registry as of about 2023-2024.
To update: replace the CSV with a fresh tls-parameters-4.csv from IANA and
run `make tls-ciphers`.

Which rows become table entries: those whose Value is one code point
("0xHH,0xHH") and whose Description is a TLS_ name. Range rows ("0x00,0x1C-1D",
"0x01-09,*"), "Unassigned", "Reserved" (which includes the RFC 8701 GREASE
values 0x0A0A ... 0xFAFA) and "Reserved for Private Use" are skipped, so
tls_cipher_lookup() returns NULL for them. The two signalling values
TLS_EMPTY_RENEGOTIATION_INFO_SCSV (RFC 5746) and TLS_FALLBACK_SCSV (RFC 7507)
are kept with no weakness: they are not ciphers, and offering them is good.

Weaknesses are read from the name alone; each rule is in RULES below with the
RFC or attack behind it. The SSLv2 cipher kinds (3-byte CIPHER-KINDs of the
SSL 2.0 CLIENT-HELLO, draft-hickman-netscape-ssl-00) are in SSLV2_KINDS.

Python 3 standard library only. Prints a summary (entries, counts per weakness).
"""

import csv
import re
import sys

# Bit order and names as in tls-ciphers.h (enum tls_weakness, tls_weakness_name()).
WEAKNESSES = [
    # (enum constant, short macro used in the table, name returned by tls_weakness_name)
    ("TLS_WEAK_NULL", "W_NULL", "null"),
    ("TLS_WEAK_EXPORT", "W_EXPORT", "export"),
    ("TLS_WEAK_ANON", "W_ANON", "anon"),
    ("TLS_WEAK_DES", "W_DES", "des"),
    ("TLS_WEAK_3DES", "W_3DES", "3des"),
    ("TLS_WEAK_RC4", "W_RC4", "rc4"),
    ("TLS_WEAK_MD5", "W_MD5", "md5"),
    ("TLS_WEAK_NO_FS", "W_NO_FS", "no-forward-secrecy"),
    ("TLS_WEAK_CBC", "W_CBC", "cbc"),
    ("TLS_WEAK_RC2", "W_RC2", "rc2"),
    ("TLS_WEAK_IDEA", "W_IDEA", "idea"),
]
BIT = {const: 1 << i for i, (const, _, _) in enumerate(WEAKNESSES)}

# SRP (RFC 5054) key exchange uses fresh ephemeral values a and b in every
# handshake: the session key is g^(b(a+ux)) and knowing the password or the
# server's verifier does not give past session keys without one of a or b
# (T. Wu, "The Secure Remote Password Protocol", NDSS 1998, which lists
# forward secrecy among its properties). So TLS_SRP_ suites are NOT marked
# no-forward-secrecy. Set this to True to mark them anyway.
SRP_IS_NO_FS = False


def _no_fs(n):
    """Key exchanges whose session keys fall with one long-term secret.

    RFC 9325 (BCP 195) §4.1: implementations SHOULD NOT negotiate static RSA
    key transport, and MUST prefer cipher suites offering forward secrecy; a
    recorded session is readable by whoever later obtains the server's key
    (and RSA key transport is what Bleichenbacher/ROBOT attack).
      TLS_RSA_         RSA key transport (RFC 5246 §7.4.7.1), incl. TLS_RSA_EXPORT_
                       and TLS_RSA_PSK_ (RFC 4279 §4: PMS encrypted to the server's
                       RSA key)
      TLS_DH_ / TLS_ECDH_  static DH / ECDH from the server certificate (RFC 5246
                       §7.4.7.2, RFC 8422 §2.1) — but not TLS_DH_anon_ / TLS_ECDH_anon_,
                       whose keys are ephemeral (they are "anon" instead), and
                       not TLS_DHE_ / TLS_ECDHE_ (TLS_ECDHE_ does not start with
                       "TLS_ECDH_")
      TLS_PSK_WITH_    plain PSK (RFC 4279 §2): all keys derive from the PSK.
                       TLS_PSK_DHE_WITH_ (RFC 6655, 0xC0AA-AB) is DHE-PSK: not marked
      TLS_KRB5_        Kerberos (RFC 2712): PMS encrypted under the ticket's
                       long-term service key
      TLS_GOSTR341112_256_WITH_ (TLS 1.2 ones, not the TLS 1.3 _MGM_ ones):
                       RFC 9189 key exchange sends the PMS wrapped (KExp15) under
                       a key agreed from a client ephemeral key and the server's
                       certificate key; there is no ServerKeyExchange, so the
                       server's long-term key opens every recorded session
      TLS_SRP_         see SRP_IS_NO_FS
    TLS_ECCPWD_ (RFC 8492) uses ephemeral scalars: not marked.
    """
    if n.startswith(("TLS_DH_anon_", "TLS_ECDH_anon_")):
        return False
    if n.startswith(("TLS_RSA_", "TLS_DH_", "TLS_ECDH_", "TLS_PSK_WITH_", "TLS_KRB5_")):
        return True
    if n.startswith("TLS_GOSTR341112_256_WITH_") and "_MGM_" not in n:
        return True
    if n.startswith("TLS_SRP_"):
        return SRP_IS_NO_FS
    return False


# (weakness, predicate on the IANA name, why). Applied to every TLS_ name.
RULES = [
    (
        "TLS_WEAK_NULL",
        lambda n: "_WITH_NULL_" in n or n.endswith("_NULL") or "NULL_WITH_NULL" in n,
        "no encryption: the *_WITH_NULL_* suites (RFC 5246 App. C, RFC 4785 PSK, "
        "RFC 8422 ECC) and TLS_NULL_WITH_NULL_NULL, the unprotected initial state "
        "(RFC 5246 §6.1) that must never be negotiated",
    ),
    (
        "TLS_WEAK_NULL",
        lambda n: re.fullmatch(r"TLS_SHA(256|384)_SHA\1", n) is not None,
        "TLS_SHA256_SHA256 / TLS_SHA384_SHA384: TLS 1.3 integrity-only suites "
        "(RFC 9150), the records travel in clear with an HMAC",
    ),
    (
        "TLS_WEAK_EXPORT",
        lambda n: "EXPORT" in n,
        "export-grade (40-bit ciphers, 512-bit RSA/DH): RFC 4346 §A.5 forbids "
        "negotiating them; FREAK (CVE-2015-0204) and Logjam (CVE-2015-4000)",
    ),
    (
        "TLS_WEAK_ANON",
        lambda n: "_anon_" in n,
        "anonymous DH/ECDH: no server authentication, open to any man in the "
        "middle (RFC 5246 §A.5, RFC 8422 §2.4)",
    ),
    (
        "TLS_WEAK_DES",
        lambda n: "_DES_" in n or "DES40" in n or "DES_CBC_40" in n,
        "single DES (56-bit key, brute-forced since EFF Deep Crack 1998) and DES40: "
        "RFC 5469 deprecated them; '_DES_' does not match '_3DES_'",
    ),
    (
        "TLS_WEAK_3DES",
        lambda n: "3DES" in n,
        "triple DES: 64-bit block, Sweet32 birthday attack (CVE-2016-2183); "
        "NIST SP 800-131A Rev. 2 disallows it after 2023",
    ),
    (
        "TLS_WEAK_RC4",
        lambda n: "RC4" in n,
        "RC4 keystream biases (AlFardan et al. 2013): RFC 7465 prohibits RC4 suites",
    ),
    (
        "TLS_WEAK_MD5",
        lambda n: n.endswith("_MD5"),
        "HMAC-MD5 record MAC: MD5 is broken (RFC 6151); the name's last part "
        "is the MAC/PRF hash",
    ),
    (
        "TLS_WEAK_RC2",
        lambda n: "RC2" in n,
        "RC2: only ever in 40-bit export suites in TLS; 64-bit block, "
        "related-key attacks (Kelsey, Schneier, Wagner 1997)",
    ),
    (
        "TLS_WEAK_IDEA",
        lambda n: "IDEA" in n,
        "IDEA: 64-bit block; RFC 5469 deprecated the IDEA suites and "
        "[status-change-tls-des-idea-ciphers-to-historic] made them historic",
    ),
    (
        "TLS_WEAK_CBC",
        lambda n: "_CBC" in n,
        "MAC-then-encrypt CBC (3DES, DES, AES, CAMELLIA, ARIA, SEED, IDEA, RC2): "
        "padding oracles — Vaudenay 2002, BEAST (CVE-2011-3389), Lucky Thirteen "
        "(CVE-2013-0169), POODLE (CVE-2014-3566); RFC 9325 §4.2 prefers AEAD. "
        "(The registry has no GOST CBC suite: 28147_CNT is counter mode.)",
    ),
    (
        "TLS_WEAK_NO_FS",
        _no_fs,
        "no forward secrecy: see _no_fs()",
    ),
]

# SSL 2.0 CIPHER-KINDs (draft-hickman-netscape-ssl-00 App. C). SSLv2 itself is
# prohibited by RFC 6176. Every kind uses MD5 (MAC and key derivation) and RSA
# key transport (CLIENT-MASTER-KEY encrypted to the server's key), so every one
# is MD5 | NO_FS, plus what its name says.
SSLV2_KINDS = [
    (0x010080, "SSL_CK_RC4_128_WITH_MD5"),
    (0x020080, "SSL_CK_RC4_128_EXPORT40_WITH_MD5"),
    (0x030080, "SSL_CK_RC2_128_CBC_WITH_MD5"),
    (0x040080, "SSL_CK_RC2_128_CBC_EXPORT40_WITH_MD5"),
    (0x050080, "SSL_CK_IDEA_128_CBC_WITH_MD5"),
    (0x060040, "SSL_CK_DES_64_CBC_WITH_MD5"),
    (0x0700C0, "SSL_CK_DES_192_EDE3_CBC_WITH_MD5"),
]


def sslv2_weakness(name):
    w = BIT["TLS_WEAK_MD5"] | BIT["TLS_WEAK_NO_FS"]
    if "RC4" in name:
        w |= BIT["TLS_WEAK_RC4"]
    if "EXPORT" in name:
        w |= BIT["TLS_WEAK_EXPORT"]
    if "RC2" in name:
        w |= BIT["TLS_WEAK_RC2"]
    if "IDEA" in name:
        w |= BIT["TLS_WEAK_IDEA"]
    if "_EDE3_" in name:
        w |= BIT["TLS_WEAK_3DES"]
    elif "_DES_" in name:
        w |= BIT["TLS_WEAK_DES"]
    if "_CBC_" in name:
        w |= BIT["TLS_WEAK_CBC"]
    return w


SIGNALLING = {"TLS_EMPTY_RENEGOTIATION_INFO_SCSV", "TLS_FALLBACK_SCSV"}


def weakness(name):
    if name in SIGNALLING:
        return 0
    w = 0
    for const, pred, _why in RULES:
        if pred(name):
            w |= BIT[const]
    return w


def read_registry(path):
    suites = []
    seen = {}
    with open(path, newline="", encoding="utf-8") as f:
        rows = csv.reader(f)
        header = next(rows)
        if header[:2] != ["Value", "Description"]:
            sys.exit(f"{path}: unexpected header {header!r}")
        for row in rows:
            if len(row) < 2:
                continue
            m = re.fullmatch(r"0x([0-9A-Fa-f]{2}),0x([0-9A-Fa-f]{2})", row[0].strip())
            name = row[1].strip()
            if not m or not name.startswith("TLS_"):
                continue  # ranges, Unassigned, Reserved (incl. GREASE), private use
            if not re.fullmatch(r"TLS_[A-Za-z0-9_]+", name):
                sys.exit(f"{path}: odd suite name {name!r}")
            cid = int(m.group(1) + m.group(2), 16)
            if cid in seen:
                sys.exit(f"{path}: 0x{cid:04X} assigned twice ({seen[cid]}, {name})")
            seen[cid] = name
            suites.append((cid, weakness(name), name))
    suites.sort()
    return suites


def flags_expr(w):
    if w == 0:
        return "0"
    return " | ".join(short for i, (_, short, _) in enumerate(WEAKNESSES) if w & (1 << i))


def self_check(suites):
    """A few entries whose bits are known by heart; stop rather than emit a wrong table."""
    by_id = {cid: w for cid, w, _ in suites}
    b = BIT
    expect = {
        0x0000: b["TLS_WEAK_NULL"],
        0x0003: b["TLS_WEAK_EXPORT"] | b["TLS_WEAK_RC4"] | b["TLS_WEAK_MD5"] | b["TLS_WEAK_NO_FS"],
        0x0005: b["TLS_WEAK_RC4"] | b["TLS_WEAK_NO_FS"],
        0x000A: b["TLS_WEAK_3DES"] | b["TLS_WEAK_CBC"] | b["TLS_WEAK_NO_FS"],
        0x0018: b["TLS_WEAK_ANON"] | b["TLS_WEAK_RC4"] | b["TLS_WEAK_MD5"],
        0x002F: b["TLS_WEAK_CBC"] | b["TLS_WEAK_NO_FS"],
        0x00FF: 0,
        0x5600: 0,
        0xC00E: b["TLS_WEAK_CBC"] | b["TLS_WEAK_NO_FS"],
        0xC013: b["TLS_WEAK_CBC"],
        0xC02F: 0,
        0xC0B5: b["TLS_WEAK_NULL"],
        0xCCA8: 0,
    }
    for cid, w in expect.items():
        if by_id.get(cid) != w:
            sys.exit(f"self-check: 0x{cid:04X} has {by_id.get(cid)!r}, expected {w}")
    for cid, w, name in suites:
        # TLS 1.3 AEAD suites carry no weakness bit.
        if cid >> 8 == 0x13 and w != 0:
            sys.exit(f"self-check: TLS 1.3 suite {name} marked {w}")
    for kind, name in SSLV2_KINDS:
        if not name.endswith("_WITH_MD5"):
            sys.exit(f"self-check: SSLv2 kind {name}")


def emit(suites):
    out = []
    w = out.append
    w("/*")
    w(" * tls-ciphers.c — GENERATED by dissectors/gen-tls-ciphers.py from")
    w(" * dissectors/tls-cipher-suites.csv (the IANA \"TLS Cipher Suites\" registry).")
    w(" * Do not edit: change the generator or the CSV and run `make tls-ciphers`.")
    w(" */")
    w("#include <stddef.h>")
    w("#include <stdint.h>")
    w("")
    w('#include "tls-ciphers.h"')
    w("")
    for const, short, _ in WEAKNESSES:
        w(f"#define {short} {const}")
    w("")
    w(f"/* {len(suites)} suites, sorted by code point (binary search). */")
    w("static const struct tls_cipher tls_ciphers[] = {")
    for cid, wk, name in suites:
        w(f'    {{0x{cid:04X}, {flags_expr(wk)}, "{name}"}},')
    w("};")
    w("")
    w("const struct tls_cipher *tls_cipher_lookup(uint16_t id)")
    w("{")
    w("    size_t lo = 0, hi = sizeof(tls_ciphers) / sizeof(tls_ciphers[0]);")
    w("    while (lo < hi) {")
    w("        size_t mid = lo + (hi - lo) / 2;")
    w("        if (tls_ciphers[mid].id == id)")
    w("            return &tls_ciphers[mid];")
    w("        if (tls_ciphers[mid].id < id)")
    w("            lo = mid + 1;")
    w("        else")
    w("            hi = mid;")
    w("    }")
    w("    return NULL;")
    w("}")
    w("")
    w("unsigned tls_cipher_count(void)")
    w("{")
    w("    return (unsigned)(sizeof(tls_ciphers) / sizeof(tls_ciphers[0]));")
    w("}")
    w("")
    w("const char *const tls_weakness_names[TLS_WEAK_COUNT] = {")
    for i, (const, _, label) in enumerate(WEAKNESSES):
        w(f'    [{i}] = "{label}",')
    w("};")
    w("")
    w("const char *tls_weakness_name(unsigned bit)")
    w("{")
    w("    for (unsigned i = 0; i < TLS_WEAK_COUNT; i++)")
    w("        if (bit == 1u << i)")
    w("            return tls_weakness_names[i];")
    w("    return NULL;")
    w("}")
    w("")
    w("const char *sslv2_cipher_name(uint32_t kind, uint16_t *weak)")
    w("{")
    w("    const char *name = NULL;")
    w("    uint16_t w = 0;")
    w("    switch (kind) {")
    for kind, name in SSLV2_KINDS:
        w(f"    case 0x{kind:06X}:")
        w(f'        name = "{name}";')
        w(f"        w = {flags_expr(sslv2_weakness(name))};")
        w("        break;")
    w("    default:")
    w("        break;")
    w("    }")
    w("    if (weak != NULL)")
    w("        *weak = w;")
    w("    return name;")
    w("}")
    for line in out:
        if len(line) > 100:
            sys.exit(f"generated line longer than 100 columns: {line}")
    return "\n".join(out) + "\n"


def main(argv):
    if len(argv) != 3:
        sys.exit(f"usage: {argv[0]} tls-cipher-suites.csv tls-ciphers.c")
    suites = read_registry(argv[1])
    self_check(suites)
    text = emit(suites)
    with open(argv[2], "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    print(f"{argv[2]}: {len(suites)} cipher suites from {argv[1]}")
    for i, (const, _, label) in enumerate(WEAKNESSES):
        n = sum(1 for _, wk, _ in suites if wk & (1 << i))
        print(f"  {label:<20} {n:4d}")
    clean = sum(1 for _, wk, _ in suites if wk == 0)
    print(f"  {'(no weakness)':<20} {clean:4d}")


if __name__ == "__main__":
    main(sys.argv)

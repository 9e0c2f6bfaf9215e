/*
 * fuzz-imap.c — the imap dissector: IMAP (RFC 9051, 3501, 2595), fed the way the
 * sensor feeds it, whole, byte by byte and cut by the input's first byte;
 * the three event logs must be the same (fuzz-dissect.h says how).
 */
#include "fuzz-dissect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_dissector(&imap_dissector, data, size);
}

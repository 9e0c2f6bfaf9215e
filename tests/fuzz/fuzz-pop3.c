/*
 * fuzz-pop3.c — the pop3 dissector: POP3 (RFC 1939, 2449, 2595, 5034), fed the way the
 * sensor feeds it, whole, byte by byte and cut by the input's first byte;
 * the three event logs must be the same (fuzz-dissect.h says how).
 */
#include "fuzz-dissect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_dissector(&pop3_dissector, data, size);
}

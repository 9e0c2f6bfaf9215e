/*
 * fuzz-tls.c — the tls dissector: TLS records and handshakes (SSLv2 to TLS 1.3), fed the way the
 * sensor feeds it, whole, byte by byte and cut by the input's first byte;
 * the three event logs must be the same (fuzz-dissect.h says how).
 */
#include "fuzz-dissect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_dissector(&tls_dissector, data, size);
}

/*
 * fuzz-smtp.c — the smtp dissector: SMTP (RFC 5321, 3207, 4954, 2920, 3030), fed the way the
 * sensor feeds it, whole, byte by byte and cut by the input's first byte;
 * the three event logs must be the same (fuzz-dissect.h says how).
 */
#include "fuzz-dissect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_dissector(&smtp_dissector, data, size);
}

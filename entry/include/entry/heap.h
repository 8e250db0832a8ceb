// mbedTLS's heap in the firmware: one static buffer in pvmfw's RAM
// (MBEDTLS_MEMORY_BUFFER_ALLOC_C), installed once before any crypto runs.
// Before init() every mbedTLS allocation fails (pvmfw_mbedtls_no_calloc), and
// nothing else in the firmware allocates. The buffer is part of .bss, which
// the jump wipes with the rest of pvmfw's RAM.
//
// Its size: the peak of one boot is far below it (RSA-8192 verification
// about 15 KiB, RSA-4096 about 8 KiB, a DICE layer under 2 KiB, measured on
// the host by the verify/ and dice/ allocation tests); the rest is margin for
// fragmentation. Running out is a named refusal, never a crash.
#pragma once

#include <cstddef>

namespace heap {

inline constexpr size_t kSize = 32 * 1024;

void init();
// Zeroes the whole buffer and installs it again (nothing may be allocated):
// the hypervisor's wipe after its DICE stage.
void wipe();

}  // namespace heap

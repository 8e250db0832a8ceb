// mbedTLS's heap in the firmware: one static buffer in pvmfw's RAM
// (MBEDTLS_MEMORY_BUFFER_ALLOC_C), installed once before any crypto runs.
// Before init() every mbedTLS allocation fails (pvmfw_mbedtls_no_calloc), and
// nothing else in the firmware allocates. The buffer is part of .bss, which
// the jump wipes with the rest of pvmfw's RAM.
#pragma once

#include <cstddef>

namespace heap {

inline constexpr size_t kSize = 64 * 1024;

void init();
// The high-water mark: bytes from the buffer's start to the last byte the
// allocator or mbedTLS ever wrote (the buffer starts zeroed and blocks are
// handed out from its start). An upper bound of the peak use.
size_t high_water();

}  // namespace heap

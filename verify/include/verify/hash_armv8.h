// Firmware only: the Armv8 SHA-instruction digest backend (hash_armv8.cc).
#pragma once

#include <cstdint>

#include "verify/verify.h"

namespace verify {

// The best backend the CPU supports according to ID_AA64ISAR0_EL1, or nullptr
// when it has no SHA-256 instructions (then mbedTLS stays in use).
const HashBackend* armv8_hash_backend(uint64_t id_aa64isar0);

}  // namespace verify

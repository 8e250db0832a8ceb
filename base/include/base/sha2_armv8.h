// The Armv8 Cryptographic Extension engine for base/sha2.h (FEAT_SHA256,
// FEAT_SHA512; Arm ARM C7.2 SHA256H/H2/SU0/SU1, SHA512H/H2/SU0/SU1).
// Firmware only (aarch64).
#pragma once

#include <cstdint>

#include "base/sha2.h"

namespace base::sha2 {

// The engine for a CPU whose ID_AA64ISAR0_EL1 is `id_aa64isar0`: SHA2 field
// (bits [15:12]) 2 gives both instruction sets, 1 SHA-256 instructions with
// the portable SHA-512, 0 nothing (nullptr).
const Engine* armv8_engine(uint64_t id_aa64isar0);

}  // namespace base::sha2

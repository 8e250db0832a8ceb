// Where pvmfw's randomness comes from, best first: the hypervisor's SMCCC TRNG,
// then FEAT_RNG (RNDR). With neither, there is none: callers say so and do
// without; pvmfw never invents entropy from timers or constants.
#pragma once

#include <cstddef>
#include <cstdint>

#include "hvc/smccc.h"

namespace entropy {

enum class Source : uint8_t { kNone, kTrng, kRndr };
const char* to_string(Source s);

// Picks the source once (TRNG needs the conduit from the DT).
Source init(hvc::Conduit conduit);
Source source();

// Fills `out` with `n` bytes from the chosen source; false when there is none
// or it failed (then `out` is zeroed).
[[nodiscard]] bool fill(uint8_t* out, size_t n);

}  // namespace entropy

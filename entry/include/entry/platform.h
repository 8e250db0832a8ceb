// The firmware's boot::Platform (entry/boot/): identity-mapped memory,
// mmu::map and clean_to_poc, the PL011 console, the entropy source the entry
// chose, the virtual counter, the failure funnel's secrets flag, and the
// test hooks of this image (entry/hooks.h: none in the shipped one).
#pragma once

#include <cstdint>

#include "boot/boot.h"

namespace entry {

extern const boot::Platform kFirmwarePlatform;

// The virtual counter since reset: with QEMU -icount shift=0 one tick is 16
// guest instructions, which is how `./pvm bench` measures pvmfw's cost.
uint64_t counter();

}  // namespace entry

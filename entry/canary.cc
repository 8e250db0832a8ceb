// The stack protector's canary, seeded by start.S before any stack-protected
// code runs (this file is built without the stack protector, with the MMU
// off: general registers only, aligned accesses).
#include <cstdint>

#include "base/sysreg.h"

extern "C" uintptr_t __stack_chk_guard;

// FEAT_RNG's RNDR when ID_AA64ISAR0_EL1 says the CPU has it, else 0:
// pvmfw_main says so and re-seeds from the hypervisor's TRNG when there is one.
extern "C" void pvmfw_seed_canary() {
  namespace sr = base::sysreg;
  uint64_t v = 0;
  if (!sr::read_id_aa64isar0().has_rndr() || !sr::rndr(v)) v = 0;
  __stack_chk_guard = v;
}

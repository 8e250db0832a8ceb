// The firmware's conduit: one HVC or SMC instruction (SMCCC §2.6: x0-x17 may be
// clobbered by the callee only as results; v1.1 preserves x4-x17, but this
// wrapper does not depend on it).
#include "hvc/smccc.h"

namespace hvc {

Result call(Conduit conduit, uint32_t function_id, const Args& a) {
  register uint64_t x0 asm("x0") = function_id;
  register uint64_t x1 asm("x1") = a.x1;
  register uint64_t x2 asm("x2") = a.x2;
  register uint64_t x3 asm("x3") = a.x3;
  register uint64_t x4 asm("x4") = a.x4;
  register uint64_t x5 asm("x5") = a.x5;
  register uint64_t x6 asm("x6") = a.x6;
  register uint64_t x7 asm("x7") = a.x7;
  if (conduit == Conduit::kHvc) {
    asm volatile("hvc #0"
                 : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3), "+r"(x4), "+r"(x5), "+r"(x6), "+r"(x7)
                 :
                 : "x8", "x9", "x10", "x11", "x12", "x13", "x14", "x15", "x16", "x17", "memory");
  } else {
    asm volatile("smc #0"
                 : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3), "+r"(x4), "+r"(x5), "+r"(x6), "+r"(x7)
                 :
                 : "x8", "x9", "x10", "x11", "x12", "x13", "x14", "x15", "x16", "x17", "memory");
  }
  return Result{x0, x1, x2, x3};
}

}  // namespace hvc

// The exception frame pvmfw's and hyp.bin's vectors push (base/asm.h
// frame_push_x1_x30: x0..x30, then the interrupted sp), and what both
// fault reporters print of it. For code built -mgeneral-regs-only.
#pragma once

#include <cstdint>

#include "entry/console.h"

namespace exception {

struct Frame {
  uint64_t x[31];
  uint64_t sp;
};

// The vector table's 16 entries (Arm ARM D1.10.2), by index.
inline const char* kind_name(uint64_t kind) {
  static constexpr const char* kNames[16] = {
      "sync (SP_EL0)",   "irq (SP_EL0)",   "fiq (SP_EL0)",   "serror (SP_EL0)",
      "sync",            "irq",            "fiq",            "serror",
      "sync (lower EL)", "irq (lower EL)", "fiq (lower EL)", "serror (lower EL)",
      "sync (AArch32)",  "irq (AArch32)",  "fiq (AArch32)",  "serror (AArch32)"};
  return kind < 16 ? kNames[kind] : "?";
}

// x0..x30 and sp, two to a line. Callers decide whether they may (never
// while secrets are live: a register may hold one).
inline void print_registers(const Frame& f) {
  for (unsigned i = 0; i + 1 < 31; i += 2) {
    console::print("  x%-2u %016lx  x%-2u %016lx\n", i, f.x[i], i + 1, f.x[i + 1]);
  }
  console::print("  x30 %016lx  sp  %016lx\n", f.x[30], f.sp);
}

}  // namespace exception

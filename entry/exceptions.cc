// Reporting of unexpected exceptions (built with -mgeneral-regs-only: the
// faulting code may have left FP/SIMD state anything, and this must not use it).
#include <cstdint>

#include "entry/console.h"
#include "entry/fail.h"

namespace {

struct ExceptionFrame {
  uint64_t x[31];
  uint64_t sp;
};

const char* kind_name(uint64_t kind) {
  static constexpr const char* kNames[16] = {
      "sync (SP_EL0)",   "irq (SP_EL0)",   "fiq (SP_EL0)",   "serror (SP_EL0)",
      "sync",            "irq",            "fiq",            "serror",
      "sync (lower EL)", "irq (lower EL)", "fiq (lower EL)", "serror (lower EL)",
      "sync (AArch32)",  "irq (AArch32)",  "fiq (AArch32)",  "serror (AArch32)"};
  return kind < 16 ? kNames[kind] : "?";
}

// Syndrome registers (Arm ARM D17.2: ESR_EL1, ELR_EL1, FAR_EL1, SPSR_EL1).
#define DEFINE_SYSREG_READ(name)                     \
  uint64_t read_##name() {                           \
    uint64_t v;                                      \
    asm volatile("mrs %0, " #name : "=r"(v));        \
    return v;                                        \
  }
DEFINE_SYSREG_READ(esr_el1)
DEFINE_SYSREG_READ(elr_el1)
DEFINE_SYSREG_READ(far_el1)
DEFINE_SYSREG_READ(spsr_el1)

}  // namespace

extern "C" [[noreturn]] void pvmfw_exception(uint64_t kind, const ExceptionFrame* f) {
  // An exception while a report or a failure is being printed (a console
  // that faults, say): printing again could fault again, forever. The
  // failure funnel's end instead: wipe, reset.
  if (!fail::begin_exception_report()) fail::wipe_and_reset();
  const uint64_t esr = read_esr_el1();
  const uint64_t elr = read_elr_el1();
  const uint64_t far = read_far_el1();
  const uint64_t spsr = read_spsr_el1();
  console::print("\npvmfw: unexpected exception: %s\n", kind_name(kind));
  console::print("  ESR_EL1  %016lx (EC %#lx)\n", esr, (esr >> 26) & 0x3f);
  console::print("  ELR_EL1  %016lx\n  FAR_EL1  %016lx\n  SPSR_EL1 %016lx\n", elr, far, spsr);
  if (fail::secrets_live()) {
    console::print("  (general registers withheld: DICE secrets in use)\n");
    fail::boot_failed(fail::Reason::kUnexpectedException, "%s at %#lx, ESR %#lx, FAR %#lx",
                      kind_name(kind), elr, esr, far);
  }
  for (unsigned i = 0; i < 31; i += 2) {
    if (i + 1 < 31) {
      console::print("  x%-2u %016lx  x%-2u %016lx\n", i, f->x[i], i + 1, f->x[i + 1]);
    } else {
      console::print("  x%-2u %016lx  sp  %016lx\n", i, f->x[i], f->sp);
    }
  }
  fail::boot_failed(fail::Reason::kUnexpectedException, "%s at %#lx, ESR %#lx, FAR %#lx",
                    kind_name(kind), elr, esr, far);
}

// Reporting of unexpected exceptions (built with -mgeneral-regs-only: the
// faulting code may have left FP/SIMD state anything, and this must not use it).
#include <cstdint>

#include "base/sysreg.h"
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

}  // namespace

extern "C" [[noreturn]] void pvmfw_exception(uint64_t kind, const ExceptionFrame* f) {
  // An exception while a report or a failure is being printed (a console
  // that faults, say): printing again could fault again, forever. The
  // failure funnel's end instead: wipe, reset.
  if (!fail::begin_exception_report()) fail::wipe_and_reset();
  namespace sr = base::sysreg;
  const sr::Esr syndrome = sr::read_esr();
  const uint64_t esr = syndrome.raw;
  const uint64_t elr = sr::read_elr_el1();
  const uint64_t far = sr::read_far_el1();
  const uint64_t spsr = sr::read_spsr_el1();
  console::print("\npvmfw: unexpected exception: %s\n", kind_name(kind));
  console::print("  ESR_EL1  %016lx (EC %#x) %s\n", esr, syndrome.ec(), syndrome.ec_name());
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

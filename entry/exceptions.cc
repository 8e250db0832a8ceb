// Reporting of unexpected exceptions (built with -mgeneral-regs-only: the
// faulting code may have left FP/SIMD state anything, and this must not use it).
#include <cstdint>

#include "base/sysreg.h"
#include "entry/console.h"
#include "entry/exception_frame.h"
#include "entry/fail.h"

extern "C" [[noreturn]] void pvmfw_exception(uint64_t kind, const exception::Frame* f) {
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
  console::print("\npvmfw: unexpected exception: %s\n", exception::kind_name(kind));
  console::print("  ESR_EL1  %016lx (EC %#x) %s\n", esr, syndrome.ec(), syndrome.ec_name());
  console::print("  ELR_EL1  %016lx\n  FAR_EL1  %016lx\n  SPSR_EL1 %016lx\n", elr, far, spsr);
  if (fail::secrets_live()) {
    console::print("  (general registers withheld: DICE secrets in use)\n");
    fail::boot_failed(fail::Reason::kUnexpectedException, "%s at %#lx, ESR %#lx, FAR %#lx",
                      exception::kind_name(kind), elr, esr, far);
  }
  exception::print_registers(*f);
  fail::boot_failed(fail::Reason::kUnexpectedException, "%s at %#lx, ESR %#lx, FAR %#lx",
                    exception::kind_name(kind), elr, esr, far);
}

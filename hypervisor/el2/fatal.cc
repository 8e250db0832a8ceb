// An exception in the hypervisor itself (or an interrupt it never expects):
// print what happened -- never a general register while secrets are live --
// wipe the secrets and power off. Built -mgeneral-regs-only.
#include <cstdint>

#include "base/sysreg.h"
#include "el2/hyp.h"
#include "el2/sysregs.h"
#include "entry/console.h"
#include "entry/exception_frame.h"

namespace {
constinit bool g_reporting = false;
}  // namespace

extern "C" [[noreturn]] void hyp_fatal(uint64_t kind, const exception::Frame* f) {
  using namespace el2;
  if (g_reporting) power_off();  // a fault while reporting: just stop
  g_reporting = true;
  const bool secret = secrets_live();
  wipe_secrets();
  console::print("\nhyp: fatal exception in the hypervisor: %s\n", exception::kind_name(kind));
  const base::sysreg::Esr syndrome{read_esr()};
  console::print("  ESR_EL2  %016lx (EC %#x) %s\n  ELR_EL2  %016lx\n  FAR_EL2  %016lx\n"
                 "  SPSR_EL2 %016lx\n",
                 syndrome.raw, syndrome.ec(), syndrome.ec_name(), read_elr(), read_far(),
                 read_spsr());
  if (secret) {
    console::print("  (general registers withheld: DICE secrets were in use)\n");
  } else {
    exception::print_registers(*f);
  }
  console::print("hyp: powering off\n");
  power_off();
}

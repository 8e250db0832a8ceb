// An exception in the hypervisor itself (or an interrupt it never expects):
// print what happened -- never a general register while secrets are live --
// wipe the secrets and power off. Built -mgeneral-regs-only.
#include <cstdint>

#include "el2/hyp.h"
#include "el2/sysregs.h"
#include "entry/console.h"

namespace {
struct Frame {
  uint64_t x[31];
  uint64_t sp;
};
constinit bool g_reporting = false;

const char* kind_name(uint64_t kind) {
  static constexpr const char* kNames[16] = {
      "sync (SP_EL0)",   "irq (SP_EL0)",   "fiq (SP_EL0)",   "serror (SP_EL0)",
      "sync",            "irq",            "fiq",            "serror",
      "sync (lower EL)", "irq (lower EL)", "fiq (lower EL)", "serror (lower EL)",
      "sync (AArch32)",  "irq (AArch32)",  "fiq (AArch32)",  "serror (AArch32)"};
  return kind < 16 ? kNames[kind] : "?";
}
}  // namespace

extern "C" [[noreturn]] void hyp_fatal(uint64_t kind, const Frame* f) {
  using namespace el2;
  if (g_reporting) power_off();  // a fault while reporting: just stop
  g_reporting = true;
  const bool secret = secrets_live();
  wipe_secrets();
  console::print("\nhyp: fatal exception in the hypervisor: %s\n", kind_name(kind));
  console::print("  ESR_EL2  %016lx (EC %#lx)\n  ELR_EL2  %016lx\n  FAR_EL2  %016lx\n"
                 "  SPSR_EL2 %016lx\n",
                 read_esr(), read_esr() >> 26, read_elr(), read_far(), read_spsr());
  if (secret) {
    console::print("  (general registers withheld: DICE secrets were in use)\n");
  } else {
    for (unsigned i = 0; i + 1 < 31; i += 2) {
      console::print("  x%-2u %016lx  x%-2u %016lx\n", i, f->x[i], i + 1, f->x[i + 1]);
    }
    console::print("  x30 %016lx\n", f->x[30]);
  }
  console::print("hyp: powering off\n");
  power_off();
}

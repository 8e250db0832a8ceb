// Everything the VM does that reaches EL2: hypercalls (HVC), SMCs (trapped by
// HCR_EL2.TSC), stage-2 aborts and whatever else traps. The rules live in
// hypervisor/vm/ (host-tested); this file reads the syndrome, applies the
// library's answer to the CPU and the stage-2 tables, and injects aborts.
#include <atomic>

#include "base/sysreg.h"
#include "el2/hyp.h"
#include "el2/sysregs.h"
#include "entry/console.h"
#include "vm/abi.h"

extern "C" void hyp_secondary_entry();

namespace el2 {
namespace {

using base::sysreg::Esr;

// One lock around the VM's state: CPUs trap concurrently.
constinit std::atomic_flag g_lock = ATOMIC_FLAG_INIT;
struct Guard {
  Guard() {
    while (g_lock.test_and_set(std::memory_order_acquire)) {
    }
  }
  ~Guard() { g_lock.clear(std::memory_order_release); }
};

// Injects a synchronous exception into EL1 as the architecture would take it
// (Arm ARM D1.10: ESR/FAR/ELR/SPSR_EL1, PSTATE, the vector offset).
void inject(uint64_t esr_el1, bool with_far) {
  const uint64_t spsr = read_spsr();
  const uint64_t mode = spsr & 0x1f;
  uint64_t offset;
  if ((mode & 0x10) != 0) {
    offset = 0x600;  // from AArch32 EL0
  } else if ((mode & 0xc) == 0) {
    offset = 0x400;  // from AArch64 EL0
  } else {
    offset = (mode & 1) != 0 ? 0x200 : 0x000;  // EL1h or EL1t
  }
  write_esr_el1(esr_el1);
  if (with_far) write_far_el1(read_far());
  write_elr_el1(read_elr());
  write_spsr_el1(spsr);
  uint64_t pstate = kSpsrEl1h;
  // PSTATE.PAN is set on exception entry unless SCTLR_EL1.SPAN [23] is 1.
  if ((read_sctlr_el1() & (1ull << 23)) == 0) pstate |= 1ull << 22;
  write_spsr(pstate);
  write_elr(read_vbar_el1() + offset);
}

bool from_el0() { return (read_spsr() & 0xc) == 0; }

// A synchronous external abort (DFSC/IFSC 0b010000), as if the bus said no.
void inject_external_abort(bool instruction, uint64_t esr_el2) {
  const unsigned cls = instruction ? (from_el0() ? Esr::kEcInstructionAbortLowerEl : Esr::kEcInstructionAbort)
                                   : (from_el0() ? Esr::kEcDataAbortLowerEl : Esr::kEcDataAbort);
  const uint64_t wnr = instruction ? 0 : (esr_el2 & (1ull << 6));
  inject((uint64_t{cls} << 26) | (1ull << 25) | wnr | 0x10, true);
}

void inject_undefined() { inject((uint64_t{Esr::kEcUnknown} << 26) | (1ull << 25), false); }

void copy_results(hyp::GuestRegs& regs, const uint64_t (&x)[4]) {
  for (unsigned i = 0; i < 4; ++i) regs.x[i] = x[i];
}

void psci_forward(hyp::GuestRegs& regs) {
  uint64_t x[4] = {regs.x[0], regs.x[1], regs.x[2], regs.x[3]};
  smc(x);
  copy_results(regs, x);
}

// A vCPU's slot from its MPIDR (QEMU virt: Aff0 = CPU % 8, Aff1 = CPU / 8;
// the vCPU's MPIDR is the physical CPU's, main.cc).
uint64_t slot_of(uint64_t mpidr) { return (mpidr & 0xff) + 8 * ((mpidr >> 8) & 0xff); }

// CPU_ON: start the physical CPU at the hypervisor's secondary entry; it
// then enters the guest's entry point at EL1 (start.S, main.cc). PSCI
// return codes (Arm DEN0022 §5.2.2): INVALID_PARAMETERS -2, ALREADY_ON -4,
// ON_PENDING -5.
// `slot` and `mpidr` as hyp::Vm checked them (CallExit::kCpuOn).
int64_t cpu_on(uint32_t slot, uint64_t mpidr, uint64_t entry, uint64_t context) {
  if (slot == 0) return -4;  // the boot CPU runs
  CpuSlot& c = cpu(static_cast<unsigned>(slot));
  {
    Guard g;
    if (c.state != 0) return c.state == 1 ? -5 : -4;
    c.entry = entry;
    c.context = context;
    c.state = 1;
  }
  uint64_t x[4] = {0xc4000003, mpidr, reinterpret_cast<uintptr_t>(&hyp_secondary_entry), slot};
  smc(x);
  if (x[0] != 0) {
    Guard g;
    c.state = 0;
  }
  return static_cast<int64_t>(x[0]);
}

void call(hyp::GuestRegs& regs) {
  hyp::CallExit exit;
  {
    Guard g;
    exit = vm().handle_call(regs);
  }
  switch (exit.kind) {
    case hyp::CallExit::Kind::kResume:
      return;
    case hyp::CallExit::Kind::kPsciForward:
      if (static_cast<uint32_t>(regs.x[0]) == hyp::abi::kPsciCpuOff) {
        // The CPU stops in the machine's PSCI and comes back only through
        // CPU_ON, which must then find its slot free (the boot CPU's never is).
        if (const uint64_t self = slot_of(read_mpidr()); self != 0 && self < vcpus()) {
          Guard g;
          cpu(static_cast<unsigned>(self)).state = 0;
        }
      }
      psci_forward(regs);
      return;
    case hyp::CallExit::Kind::kCpuOn:
      regs.x[0] = static_cast<uint64_t>(
          cpu_on(exit.target_cpu, exit.target_mpidr, exit.entry, exit.context));
      return;
    case hyp::CallExit::Kind::kSystemOff:
    case hyp::CallExit::Kind::kSystemReset:
      console::print("hyp: the VM asked for %s (%lu pages shared with the host)\n",
                     exit.kind == hyp::CallExit::Kind::kSystemOff ? "SYSTEM_OFF" : "SYSTEM_RESET",
                     vm().shared_pages());
      psci_forward(regs);
      return;
  }
}

void data_abort(uint64_t esr) {
  // HPFAR_EL2.FIPA [43:4] holds IPA [51:12] of a stage-2 fault; the page
  // offset comes from FAR_EL2 (Arm ARM D19.2.50).
  const uint64_t ipa = ((read_hpfar() >> 4) << 12) | (read_far() & 0xfff);
  const uint64_t dfsc = esr & 0x3f;
  const bool translation = (dfsc & 0x3c) == 0x04;  // translation fault, any level
  if (translation) {
    hyp::AbortExit exit;
    {
      Guard g;
      exit = vm().handle_abort(ipa, (esr & (1ull << 6)) != 0);
    }
    if (exit == hyp::AbortExit::kRetry) return;  // now mapped: run the access again
  }
  inject_external_abort(false, esr);
}

}  // namespace
}  // namespace el2

extern "C" void hyp_handle_trap(hyp::GuestRegs* regs) {
  using namespace el2;
  const uint64_t esr = read_esr();
  switch (Esr{esr}.ec()) {
    case Esr::kEcHvc64:
      call(*regs);  // ELR_EL2 already points after the HVC
      return;
    case Esr::kEcSmc64:
      write_elr(read_elr() + 4);  // a trapped SMC returns to itself
      call(*regs);
      return;
    case Esr::kEcDataAbortLowerEl:
      data_abort(esr);
      return;
    case Esr::kEcInstructionAbortLowerEl:
      inject_external_abort(true, esr);
      return;
    default:
      inject_undefined();
      return;
  }
}

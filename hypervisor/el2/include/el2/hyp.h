// What the hypervisor's parts share: the one VM, its stage-2 tables, and the
// per-CPU state. Only hyp.bin includes this.
#pragma once

#include <cstdint>

#include "vm/vm.h"
#include "memory/page_tables.h"

namespace el2 {

// The VM and its stage 2 (built by main.cc before the VM first runs).
hyp::Vm& vm();
memory::PageTables& stage2();

// Per-CPU: the guest entry a CPU_ON asked for, and where the CPU stands.
struct CpuSlot {
  uint64_t entry = 0;
  uint64_t context = 0;
  uint32_t state = 0;  // 0 off, 1 starting, 2 running
};
CpuSlot& cpu(unsigned slot);
// vCPUs the VM has (the launch description's count).
unsigned vcpus();

// Programs this CPU's EL2 registers for running the VM (HCR, VTCR, VTTBR,
// traps, timers, ID registers) and the guest's reset state of SCTLR_EL1.
void configure_vm_cpu();

// Enters the VM at `entry` (an IPA, EL1h, MMU off) with x0 = `x0`; never returns.
[[noreturn]] void enter_guest(uint64_t entry, uint64_t x0, uint64_t stack_top);

// Secrets in hypervisor memory right now (the UDS, the CDIs being derived):
// a fatal report withholds the general registers and wipes them.
// wipe_secrets() also wipes what the derivation left on the boot CPU's stack,
// and pvmfw's CDIs from the VM's config window while they wait there for a
// VM that has not run yet: a refusal or a fault before the VM's entry leaves
// no secret in memory.
void set_secrets_live(bool live);
bool secrets_live();
void wipe_secrets();

// PSCI SYSTEM_OFF through QEMU's PSCI (SMC); never returns.
[[noreturn]] void power_off();

// One raw SMC to the firmware below (QEMU's PSCI): x0..x3 in, x0..x3 out.
void smc(uint64_t (&x)[4]);

}  // namespace el2

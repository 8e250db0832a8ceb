// EL2 system registers the hypervisor reads and writes, and the values it
// programs. Layouts: Arm ARM (DDI 0487) D19.2, the register descriptions
// named below. Only hyp.bin includes this (mrs/msr).
#pragma once

#include <cstdint>

namespace el2 {

#define EL2_SYSREG(name, reg)                                                  \
  inline uint64_t read_##name() {                                              \
    uint64_t v;                                                                \
    asm volatile("mrs %0, " #reg : "=r"(v));                                   \
    return v;                                                                  \
  }                                                                            \
  inline void write_##name(uint64_t v) { asm volatile("msr " #reg ", %0" : : "r"(v) : "memory"); }
EL2_SYSREG(esr, esr_el2)
EL2_SYSREG(elr, elr_el2)
EL2_SYSREG(far, far_el2)
EL2_SYSREG(hpfar, hpfar_el2)
EL2_SYSREG(spsr, spsr_el2)
EL2_SYSREG(hcr, hcr_el2)
EL2_SYSREG(vtcr, vtcr_el2)
EL2_SYSREG(vttbr, vttbr_el2)
EL2_SYSREG(cptr, cptr_el2)
EL2_SYSREG(mdcr, mdcr_el2)
EL2_SYSREG(cnthctl, cnthctl_el2)
EL2_SYSREG(cntvoff, cntvoff_el2)
EL2_SYSREG(vpidr, vpidr_el2)
EL2_SYSREG(vmpidr, vmpidr_el2)
EL2_SYSREG(hstr, hstr_el2)
EL2_SYSREG(tcr, tcr_el2)
EL2_SYSREG(mair, mair_el2)
EL2_SYSREG(ttbr0, ttbr0_el2)
EL2_SYSREG(sctlr, sctlr_el2)
EL2_SYSREG(midr, midr_el1)
EL2_SYSREG(mpidr, mpidr_el1)
EL2_SYSREG(pmcr, pmcr_el0)
EL2_SYSREG(sctlr_el1, sctlr_el1)
EL2_SYSREG(esr_el1, esr_el1)
EL2_SYSREG(far_el1, far_el1)
EL2_SYSREG(elr_el1, elr_el1)
EL2_SYSREG(spsr_el1, spsr_el1)
EL2_SYSREG(vbar_el1, vbar_el1)
EL2_SYSREG(tpidr_el0, tpidr_el0)
EL2_SYSREG(cntvct, cntvct_el0)
#undef EL2_SYSREG

// HCR_EL2 (D19.2.49) for the VM: stage 2 on (VM), EL1 is AArch64 (RW), SMC
// traps to EL2 (TSC), broadcast TLB/cache maintenance and inner-shareable
// barriers as a guest expects (FB, BSU=IS), a stage-1 walk into Device memory
// faults (PTW), set/way invalidation upgraded to clean+invalidate (SWIO),
// pointer authentication not trapped (API, APK). IMO/FMO/AMO clear: the VM
// owns the GIC, its interrupts go straight to EL1 (docs/hypervisor.md).
inline constexpr uint64_t kHcrVm = (1ull << 0) | (1ull << 1) | (1ull << 2) | (1ull << 9) |
                                   (1ull << 10) | (1ull << 19) | (1ull << 31) | (1ull << 40) |
                                   (1ull << 41);
// CPTR_EL2 (D19.2.31, E2H=0): no FP/SIMD (TFP [10]), SVE (TZ [8]) or SME
// (TSM [12]) traps; RES1 [13], [9], [7:0].
inline constexpr uint64_t kCptrNoTraps = 0x22ff;
// CNTHCTL_EL2 (D19.2.27, E2H=0): EL1PCTEN [0], EL1PCEN [1]: the VM reads the
// physical counter and uses the physical timer itself.
inline constexpr uint64_t kCnthctlPassThrough = 0x3;
// SCTLR_EL2 (D19.2.120, E2H=0): RES1 bits; then M, C, SA, I and WXN on.
inline constexpr uint64_t kSctlrEl2Res1 = 0x30c50830;
inline constexpr uint64_t kSctlrEl2On =
    kSctlrEl2Res1 | (1ull << 0) | (1ull << 2) | (1ull << 3) | (1ull << 12) | (1ull << 19);
// SCTLR_EL1 as at reset of an Armv8.0 CPU: RES1 bits only, MMU and caches off.
inline constexpr uint64_t kSctlrEl1Reset = 0x30d00800;
// SPSR_EL2 to enter EL1h with D, A, I, F masked (the arm64 boot protocol).
inline constexpr uint64_t kSpsrEl1h = 0x3c5;

}  // namespace el2

// MMIO accessors: the only way the firmware touches device registers.
//
// Each is exactly one single-register load or store instruction, so a
// hypervisor trapping the access sees a valid syndrome (ESR_ELx.ISV) and can
// emulate it (KVM requires this for MMIO). Never merged, split or reordered by
// the compiler.
#pragma once

#include <cstdint>

namespace base {

inline uint32_t mmio_read32(uint64_t addr) {
#if defined(__aarch64__)
  uint32_t v;
  asm volatile("ldr %w0, [%1]" : "=r"(v) : "r"(addr) : "memory");
  return v;
#else
  return *reinterpret_cast<volatile uint32_t*>(addr);
#endif
}

inline void mmio_write32(uint64_t addr, uint32_t v) {
#if defined(__aarch64__)
  asm volatile("str %w0, [%1]" : : "r"(v), "r"(addr) : "memory");
#else
  *reinterpret_cast<volatile uint32_t*>(addr) = v;
#endif
}

}  // namespace base

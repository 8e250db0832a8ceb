// Data-cache maintenance by address, to the point of coherency, for the
// firmware images (pvmfw's entry/mmu.cc, hyp.bin's el2/mmu.cc): the line
// size from CTR_EL0.DminLine, one DC per line, then DSB SY. Fine with the
// MMU off or on; no FP/SIMD, no library call.
#pragma once

#include <cstdint>

#if defined(__aarch64__)
namespace base::cache {

// The smallest data-cache line in bytes (CTR_EL0.DminLine: log2 of words).
inline uint64_t dcache_line() {
  uint64_t ctr;
  asm volatile("mrs %0, ctr_el0" : "=r"(ctr));
  return 4ull << ((ctr >> 16) & 0xf);
}

// DC CIVAC over [addr, addr + size): written data reaches memory (and the
// lines leave the cache), for whoever reads it without the cache.
inline void clean_invalidate(uint64_t addr, uint64_t size) {
  const uint64_t line = dcache_line();
  for (uint64_t a = addr & ~(line - 1); a < addr + size; a += line) {
    asm volatile("dc civac, %0" : : "r"(a) : "memory");
  }
  asm volatile("dsb sy" : : : "memory");
}

// DC IVAC over [addr, addr + size): stale lines go, so what a device wrote to
// memory is what is read.
inline void invalidate(uint64_t addr, uint64_t size) {
  const uint64_t line = dcache_line();
  for (uint64_t a = addr & ~(line - 1); a < addr + size; a += line) {
    asm volatile("dc ivac, %0" : : "r"(a) : "memory");
  }
  asm volatile("dsb sy" : : : "memory");
}

}  // namespace base::cache
#endif

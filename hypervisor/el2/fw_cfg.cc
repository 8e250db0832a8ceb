#include "el2/fw_cfg.h"

#include <el2/layout.h>

#include <array>

namespace el2::fwcfg {
namespace {

// Register offsets (fw_cfg.rst, "Memory-mapped (MMIO) interface" on Arm).
constexpr uint64_t kDmaAddress = 0x10;  // 64-bit, big-endian; a write starts the transfer
// FWCfgDmaAccess control bits.
constexpr uint32_t kCtlError = 0x01;
constexpr uint32_t kCtlRead = 0x02;
constexpr uint32_t kCtlSkip = 0x04;
constexpr uint32_t kCtlSelect = 0x08;
constexpr uint32_t kIdDma = 1u << 1;

// The DMA descriptor, big-endian fields: control, length, address.
// Each of these two owns whole cache lines (invalidated after the device writes).
struct alignas(64) DmaAccess {
  uint32_t control;
  uint32_t length;
  uint64_t address;
};
constinit DmaAccess g_access{};
alignas(64) constinit std::array<uint8_t, 64> g_small{};

void clean_line(const void* p) {
  asm volatile("dc cvac, %0\n\tdsb sy" : : "r"(p) : "memory");
}
void invalidate(uint64_t addr, uint64_t len) {
  uint64_t ctr;
  asm volatile("mrs %0, ctr_el0" : "=r"(ctr));
  const uint64_t line = 4ull << ((ctr >> 16) & 0xf);
  for (uint64_t a = addr & ~(line - 1); a < addr + len; a += line) {
    asm volatile("dc ivac, %0" : : "r"(a) : "memory");
  }
  asm volatile("dsb sy" ::: "memory");
}

bool transfer(uint32_t control, uint64_t dest, uint32_t length) {
  g_access.control = __builtin_bswap32(control);
  g_access.length = __builtin_bswap32(length);
  g_access.address = __builtin_bswap64(dest);
  clean_line(&g_access);
  const uint64_t desc = reinterpret_cast<uintptr_t>(&g_access);
  asm volatile("str %0, [%1]" : : "r"(__builtin_bswap64(desc)), "r"(HYP_FW_CFG + kDmaAddress)
               : "memory");
  // QEMU completes the transfer before the store returns; the control word
  // is cleared (or keeps the error bit). Bounded wait all the same.
  for (unsigned spin = 0; spin < 1'000'000; ++spin) {
    invalidate(reinterpret_cast<uintptr_t>(&g_access), sizeof(g_access));
    const uint32_t c = __builtin_bswap32(*static_cast<volatile uint32_t*>(&g_access.control));
    if ((c & kCtlError) != 0) return false;
    if (c == 0) return true;
  }
  return false;
}

}  // namespace

bool read(uint16_t select, uint64_t dest, uint32_t length, uint32_t skip) {
  const uint32_t sel = (uint32_t{select} << 16) | kCtlSelect;
  if (skip != 0) {
    if (!transfer(sel | kCtlSkip, 0, skip)) return false;
    if (!transfer(kCtlRead, dest, length)) return false;
  } else if (!transfer(sel | kCtlRead, dest, length)) {
    return false;
  }
  return true;
}

bool present() {
  // The signature and ID through the DMA path itself: if DMA is absent the
  // read fails (the register ignores the write) and so does this check.
  // Before that, the ID through the data register would need the port; the
  // DMA-capable QEMU 2.9+ is required anyway.
  g_small = {};
  if (!read(kSignature, reinterpret_cast<uintptr_t>(g_small.data()), 4)) return false;
  invalidate(reinterpret_cast<uintptr_t>(g_small.data()), g_small.size());
  if (g_small[0] != 'Q' || g_small[1] != 'E' || g_small[2] != 'M' || g_small[3] != 'U') return false;
  g_small = {};
  if (!read(kId, reinterpret_cast<uintptr_t>(g_small.data()), 4)) return false;
  invalidate(reinterpret_cast<uintptr_t>(g_small.data()), g_small.size());
  const uint32_t id = g_small[0] | (uint32_t{g_small[1]} << 8);
  return (id & kIdDma) != 0;
}

}  // namespace el2::fwcfg

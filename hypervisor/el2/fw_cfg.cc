#include "el2/fw_cfg.h"

#include <array>
#include <string_view>

#include "el2/mmu.h"
#include "launch/fw_cfg.h"

namespace el2::fwcfg {
namespace {

namespace lf = launch::fw_cfg;

// Each owns whole cache lines: they are invalidated after the device writes.
alignas(64) constinit lf::DmaAccess g_access{};
alignas(64) constinit std::array<uint8_t, 64> g_small{};

bool transfer(lf::DmaControl control, uint64_t dest, uint32_t length) {
  g_access = lf::DmaAccess::make(control, length, dest);
  clean_to_poc(reinterpret_cast<uintptr_t>(&g_access), sizeof(g_access));
  const uint64_t desc = reinterpret_cast<uintptr_t>(&g_access);
  asm volatile("str %0, [%1]"
               : : "r"(lf::DmaAccess::to_be64(desc)), "r"(lf::kBase + lf::kDmaAddressOffset)
               : "memory");
  // QEMU completes the transfer before the store returns, clearing the
  // control word (or leaving the error bit). Bounded wait all the same.
  for (unsigned spin = 0; spin < 1'000'000; ++spin) {
    invalidate(reinterpret_cast<uintptr_t>(&g_access), sizeof(g_access));
    const uint32_t c = lf::DmaAccess::to_be32(*static_cast<volatile uint32_t*>(&g_access.control_be));
    if ((c & lf::kDmaCtlError) != 0) return false;
    if (c == 0) return true;
  }
  return false;
}

bool read_small(uint16_t key, size_t n) {
  g_small = {};
  if (!read(key, reinterpret_cast<uintptr_t>(g_small.data()), static_cast<uint32_t>(n))) {
    return false;
  }
  invalidate(reinterpret_cast<uintptr_t>(g_small.data()), g_small.size());
  return true;
}

}  // namespace

bool read(uint16_t select, uint64_t dest, uint32_t length) {
  return transfer({.selector = select, .select = true, .read = true}, dest, length);
}

bool present() {
  // Both through the DMA path itself: without DMA the write to its register
  // is ignored, the transfer never completes, and this says no.
  if (!read_small(lf::kKeySignature, lf::kSignature.size()) ||
      std::string_view(reinterpret_cast<const char*>(g_small.data()), lf::kSignature.size()) !=
          lf::kSignature) {
    return false;
  }
  if (!read_small(lf::kKeyId, 4)) return false;
  const uint32_t id = g_small[0] | (uint32_t{g_small[1]} << 8);
  return (id & lf::kIdDma) != 0;
}

}  // namespace el2::fwcfg

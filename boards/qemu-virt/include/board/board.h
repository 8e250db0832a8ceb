// The qemu-virt board as typed values, for the C++ that reasons about it: the
// firmware, fdt/ (which takes a `const board::Board&` and knows no board of
// its own) and the host tools. The numbers are layout.h's, which the linker
// script and the assembly read: one source, two spellings.
//
// Callers may rely on: every range is page aligned and non-empty; the DT
// window starts RAM; pvmfw's RAM window (scratch) follows it and holds the
// config window and the DICE handover page; nothing here overlaps the device
// window (checked below, at compile time).
#pragma once

#include <board/layout.h>

#include <cstdint>
#include <string_view>

#include "base/range.h"

namespace board {

struct Board {
  std::string_view name;
  // Flash bank 0: pvmfw.bin runs in place here (read-only to pvmfw).
  base::Range image;
  // MMIO below RAM: every device a VM tree may name lies here (PCI windows
  // may also lie above the end of RAM).
  base::Range device_window;
  // The console used before the device tree names one.
  uint64_t early_uart = 0;
  // RAM starts here (a VM tree must say so); its size comes from the tree.
  uint64_t ram_base = 0;
  // Where the input device tree is, and the most it may take. The rebuilt
  // tree replaces it there.
  base::Range dt_window;
  // pvmfw's RAM window: its own RAM, then `config` and `handover` at its end.
  // Never the payload's (kernel, initrd, DMA pool).
  base::Range scratch;
  // The configuration blob from the VMM (the previous stage's DICE handover).
  base::Range config;
  // The page pvmfw writes the VM's DICE handover into; the rebuilt tree
  // reserves it (/reserved-memory/dice@..., google,open-dice).
  base::Range handover;
  // Shared with the host while pvmfw reads the instance disk: virtio rings
  // and one bounce buffer (memory::Kind::kScratch, never a secret).
  base::Range bounce;
  // Where `pvm run` places the kernel by default.
  uint64_t kernel_base = 0;
};

inline constexpr Board kQemuVirt{
    .name = "qemu-virt",
    .image = {BOARD_FLASH_BASE, BOARD_IMAGE_MAX_SIZE},
    .device_window = {BOARD_DEVICE_BASE, BOARD_DEVICE_END - BOARD_DEVICE_BASE},
    .early_uart = BOARD_EARLY_UART,
    .ram_base = BOARD_RAM_BASE,
    .dt_window = {BOARD_DT_BASE, BOARD_DT_MAX_SIZE},
    .scratch = {BOARD_SCRATCH_BASE, BOARD_SCRATCH_SIZE},
    .config = {BOARD_CONFIG_BASE, BOARD_CONFIG_MAX_SIZE},
    .handover = {BOARD_HANDOVER_BASE, BOARD_HANDOVER_SIZE},
    .bounce = {BOARD_BOUNCE_BASE, BOARD_BOUNCE_SIZE},
    .kernel_base = BOARD_KERNEL_BASE,
};

namespace detail {
constexpr bool page_aligned(const base::Range& r) {
  return !r.empty() && r.base % 4096 == 0 && r.size % 4096 == 0;
}
constexpr bool consistent(const Board& b) {
  return page_aligned(b.image) && page_aligned(b.device_window) && page_aligned(b.dt_window) &&
         page_aligned(b.scratch) && page_aligned(b.config) && page_aligned(b.handover) &&
         b.dt_window.base == b.ram_base && b.dt_window.end() <= b.scratch.base &&
         b.scratch.contains(b.config) && b.scratch.contains(b.handover) &&
         !b.config.overlaps(b.handover) && b.scratch.contains(b.bounce) &&
         !b.bounce.overlaps(b.config) && !b.bounce.overlaps(b.handover) &&
         b.scratch.end() <= b.kernel_base &&
         b.device_window.end() <= b.ram_base && !b.device_window.overlaps(b.image) &&
         b.device_window.contains({b.early_uart, 4096});
}
}  // namespace detail

static_assert(detail::consistent(kQemuVirt), "boards/qemu-virt: layout.h is inconsistent");

}  // namespace board

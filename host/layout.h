// Where `pvm run` places things in guest-physical memory (QEMU virt):
//
//   BOARD_DT_BASE      the VM device tree (QEMU copies -dtb here in -bios mode)
//   BOARD_SCRATCH_BASE pvmfw's writable RAM
//   BOARD_KERNEL_BASE  + text_offset: the kernel (or a raw payload)
//   next 2 MiB boundary after the kernel's memory size: the initrd
//
// Linux booting.rst: the Image goes text_offset bytes above a 2 MiB aligned
// base, and needs image_size bytes there (bss included); the initrd may go
// anywhere in RAM outside that (2 MiB alignment keeps it page-aligned too).
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string_view>

#include "arm64_image.h"

namespace pvm {

enum class LayoutError {
  kRamTooSmall,     // the kernel or initrd would end beyond RAM
  kRamTooLarge,     // RAM end overflows
  kKernelTooLarge,  // sizes overflow, or do not fit the 32-bit /config cells
};

std::string_view to_string(LayoutError error);

struct VmLayout {
  uint64_t ram_base = 0;
  uint64_t ram_size = 0;
  uint64_t kernel_address = 0;  // where the file's first byte goes
  uint64_t kernel_size = 0;     // bytes of the file (what pvmfw measures)
  uint64_t kernel_end = 0;      // end of the kernel's memory footprint (exclusive)
  struct Range {
    uint64_t start = 0;
    uint64_t end = 0;  // exclusive
  };
  std::optional<Range> initrd;
};

inline constexpr uint64_t kInitrdAlignment = 2 * 1024 * 1024;

[[nodiscard]] std::expected<VmLayout, LayoutError> plan_vm_layout(
    const KernelPayload& kernel, std::optional<uint64_t> initrd_size, uint64_t ram_size);

}  // namespace pvm

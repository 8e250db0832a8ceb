#include "layout.h"

#include <algorithm>

#include <board/layout.h>

namespace pvm {
namespace {

static_assert(BOARD_DT_BASE + BOARD_DT_MAX_SIZE <= BOARD_SCRATCH_BASE);
static_assert(BOARD_SCRATCH_BASE + BOARD_SCRATCH_SIZE <= BOARD_KERNEL_BASE);
static_assert(BOARD_KERNEL_BASE % kInitrdAlignment == 0);

// a + b, or nullopt on overflow.
std::optional<uint64_t> add(uint64_t a, uint64_t b) {
  if (a > UINT64_MAX - b) return std::nullopt;
  return a + b;
}

std::optional<uint64_t> align_up(uint64_t value, uint64_t alignment) {
  auto sum = add(value, alignment - 1);
  if (!sum) return std::nullopt;
  return *sum & ~(alignment - 1);
}

}  // namespace

std::string_view to_string(LayoutError error) {
  switch (error) {
    case LayoutError::kRamTooSmall: return "RAM too small for the kernel and initrd";
    case LayoutError::kRamTooLarge: return "RAM size overflows the address space";
    case LayoutError::kKernelTooLarge: return "kernel too large or placed above 4 GiB";
  }
  return "unknown layout error";
}

std::expected<VmLayout, LayoutError> plan_vm_layout(const KernelPayload& kernel,
                                                    std::optional<uint64_t> initrd_size,
                                                    uint64_t ram_size) {
  VmLayout layout;
  layout.ram_base = BOARD_RAM_BASE;
  layout.ram_size = ram_size;
  auto ram_end = add(BOARD_RAM_BASE, ram_size);
  if (!ram_end) return std::unexpected(LayoutError::kRamTooLarge);

  auto kernel_address = add(BOARD_KERNEL_BASE, kernel.text_offset);
  if (!kernel_address) return std::unexpected(LayoutError::kKernelTooLarge);
  auto kernel_end = add(*kernel_address, std::max(kernel.memory_size, kernel.file_size));
  if (!kernel_end) return std::unexpected(LayoutError::kKernelTooLarge);
  // /config/kernel-{address,size} are single cells (AOSP crosvm).
  if (*kernel_address > UINT32_MAX || kernel.file_size > UINT32_MAX) {
    return std::unexpected(LayoutError::kKernelTooLarge);
  }
  if (*kernel_end > *ram_end) return std::unexpected(LayoutError::kRamTooSmall);
  layout.kernel_address = *kernel_address;
  layout.kernel_size = kernel.file_size;
  layout.kernel_end = *kernel_end;

  if (initrd_size) {
    auto start = align_up(*kernel_end, kInitrdAlignment);
    if (!start) return std::unexpected(LayoutError::kRamTooSmall);
    auto end = add(*start, *initrd_size);
    if (!end || *end > *ram_end) return std::unexpected(LayoutError::kRamTooSmall);
    layout.initrd = VmLayout::Range{.start = *start, .end = *end};
  }
  return layout;
}

}  // namespace pvm

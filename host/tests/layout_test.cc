#include "layout.h"

#include <gtest/gtest.h>

#include <board/layout.h>

namespace pvm {
namespace {

constexpr uint64_t kMiB = 1024 * 1024;

// Debian's 6.1 cloud arm64 Image: 27,303,872 bytes on disk, image_size
// 0x1ab0000 in its header, text_offset 0.
constexpr KernelPayload kDebianKernel{
    .is_linux = true, .text_offset = 0, .file_size = 27303872, .memory_size = 0x1ab0000};

TEST(Layout, DebianKernelWithInitrd) {
  auto layout = plan_vm_layout(kDebianKernel, 2 * kMiB + 5, 1024 * kMiB);
  ASSERT_TRUE(layout.has_value());
  EXPECT_EQ(layout->ram_base, BOARD_RAM_BASE);
  EXPECT_EQ(layout->ram_size, 1024 * kMiB);
  EXPECT_EQ(layout->kernel_address, uint64_t{BOARD_KERNEL_BASE});
  EXPECT_EQ(layout->kernel_size, 27303872u);
  EXPECT_EQ(layout->kernel_end, 0x40400000u + 0x1ab0000u);
  ASSERT_TRUE(layout->initrd.has_value());
  // 0x41eb0000 rounded up to the next 2 MiB boundary.
  EXPECT_EQ(layout->initrd->start, 0x42000000u);
  EXPECT_EQ(layout->initrd->end, 0x42000000u + 2 * kMiB + 5);
}

TEST(Layout, NoInitrd) {
  auto layout = plan_vm_layout(kDebianKernel, std::nullopt, 1024 * kMiB);
  ASSERT_TRUE(layout.has_value());
  EXPECT_FALSE(layout->initrd.has_value());
}

TEST(Layout, TextOffsetMovesTheKernel) {
  KernelPayload old_kernel{.is_linux = true, .text_offset = 0x80000, .file_size = 100, .memory_size = 4096};
  auto layout = plan_vm_layout(old_kernel, 10, 64 * kMiB);
  ASSERT_TRUE(layout.has_value());
  EXPECT_EQ(layout->kernel_address, uint64_t{BOARD_KERNEL_BASE} + 0x80000);
  EXPECT_EQ(layout->initrd->start, uint64_t{BOARD_KERNEL_BASE} + 2 * kMiB);
}

TEST(Layout, RawPayloadAtKernelBase) {
  KernelPayload raw{.is_linux = false, .text_offset = 0, .file_size = 4000, .memory_size = 4000};
  auto layout = plan_vm_layout(raw, std::nullopt, 16 * kMiB);
  ASSERT_TRUE(layout.has_value());
  EXPECT_EQ(layout->kernel_address, uint64_t{BOARD_KERNEL_BASE});
  EXPECT_EQ(layout->kernel_end, uint64_t{BOARD_KERNEL_BASE} + 4000);
}

TEST(Layout, InitrdAlignedEvenWhenKernelEndsOnBoundary) {
  KernelPayload k{.is_linux = true, .text_offset = 0, .file_size = 2 * kMiB, .memory_size = 2 * kMiB};
  auto layout = plan_vm_layout(k, 1, 64 * kMiB);
  ASSERT_TRUE(layout.has_value());
  EXPECT_EQ(layout->initrd->start, uint64_t{BOARD_KERNEL_BASE} + 2 * kMiB);
  EXPECT_EQ(layout->initrd->start % kInitrdAlignment, 0u);
}

TEST(Layout, RamTooSmall) {
  EXPECT_EQ(plan_vm_layout(kDebianKernel, std::nullopt, 16 * kMiB).error(),
            LayoutError::kRamTooSmall);
  // The kernel fits in 36 MiB (ends at 0x41eb0000 < 0x42400000) but a 4 MiB initrd does not.
  EXPECT_TRUE(plan_vm_layout(kDebianKernel, std::nullopt, 36 * kMiB).has_value());
  EXPECT_EQ(plan_vm_layout(kDebianKernel, 4 * kMiB + 1, 36 * kMiB).error(),
            LayoutError::kRamTooSmall);
  EXPECT_TRUE(plan_vm_layout(kDebianKernel, 4 * kMiB, 36 * kMiB).has_value());
}

TEST(Layout, Overflows) {
  KernelPayload huge{.is_linux = true, .text_offset = UINT64_MAX, .file_size = 1, .memory_size = 1};
  EXPECT_EQ(plan_vm_layout(huge, std::nullopt, 1024 * kMiB).error(), LayoutError::kKernelTooLarge);
  EXPECT_EQ(plan_vm_layout(kDebianKernel, std::nullopt, UINT64_MAX).error(),
            LayoutError::kRamTooLarge);
  KernelPayload above_4g{.is_linux = true, .text_offset = 0x1'0000'0000, .file_size = 1, .memory_size = 1};
  EXPECT_EQ(plan_vm_layout(above_4g, std::nullopt, 8 * 1024 * kMiB).error(),
            LayoutError::kKernelTooLarge);
  EXPECT_EQ(plan_vm_layout(kDebianKernel, UINT64_MAX, 1024 * kMiB).error(), LayoutError::kRamTooSmall);
}

}  // namespace
}  // namespace pvm

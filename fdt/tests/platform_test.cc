#include "fdt/platform.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace fdt {
namespace {

std::expected<Platform, PlatformError> read(const std::string& name) {
  std::ifstream f(std::string(FDT_TEST_DATA) + "/" + name + ".dtb", std::ios::binary);
  static std::vector<std::byte> blob;  // outlives the Tree for the test's duration
  std::vector<char> raw((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  blob.resize(raw.size());
  std::memcpy(blob.data(), raw.data(), raw.size());
  auto tree = Tree::open(blob);
  EXPECT_TRUE(tree) << name;
  if (!tree) return std::unexpected(PlatformError::kNoMemory);
  return read_platform(*tree);
}

TEST(Platform, ReadsVmDt) {
  auto p = read("good_vm");
  ASSERT_TRUE(p) << to_string(p.error());
  EXPECT_EQ(p->memory.base, 0x40000000u);
  EXPECT_EQ(p->memory.size, 0x40000000u);
  EXPECT_EQ(p->psci, PsciMethod::kHvc);
  ASSERT_TRUE(p->console);
  EXPECT_EQ(p->console->base, 0x9000000u);
  ASSERT_TRUE(p->kernel);
  EXPECT_EQ(p->kernel->base, 0x40400000u);
  EXPECT_EQ(p->kernel->size, 0x1a00000u);
  ASSERT_TRUE(p->initrd);
  EXPECT_EQ(p->initrd->base, 0x48000000u);
  EXPECT_EQ(p->initrd->end(), 0x48100000u);
}

TEST(Platform, ReadsQemuShapedDt) {
  auto p = read("good_qemu_like");
  ASSERT_TRUE(p) << to_string(p.error());
  EXPECT_EQ(p->psci, PsciMethod::kSmc);
  ASSERT_TRUE(p->console);
  EXPECT_EQ(p->console->base, 0x9000000u);
  EXPECT_FALSE(p->kernel);
  EXPECT_FALSE(p->initrd);
}

TEST(Platform, NamedRefusals) {
  EXPECT_EQ(read("bad_no_memory").error(), PlatformError::kNoMemory);
  EXPECT_EQ(read("bad_psci_method").error(), PlatformError::kBadPsci);
  EXPECT_EQ(read("bad_kernel_size_shape").error(), PlatformError::kBadKernelRange);
  EXPECT_EQ(read("bad_initrd_reversed").error(), PlatformError::kBadInitrdRange);
  EXPECT_EQ(read("bad_console_not_pl011").error(), PlatformError::kBadConsole);
}

constexpr base::Range kFirmware[] = {{0x40000000, 0x200000}, {0x40200000, 0x200000}};

Platform vm() {
  Platform p;
  p.memory = {0x40000000, 0x40000000};
  p.kernel = base::Range{0x40400000, 0x1000000};
  p.initrd = base::Range{0x48000000, 0x100000};
  return p;
}

TEST(Layout, AcceptsVmLayout) { EXPECT_TRUE(validate_layout(vm(), 0x40000000, kFirmware)); }

TEST(Layout, PageSpan) {
  auto s = page_span({0x40400800, 0x1000});
  EXPECT_EQ(s.base, 0x40400000u);
  EXPECT_EQ(s.size, 0x2000u);
  s = page_span({0x40400000, 0x1000});
  EXPECT_EQ(s.size, 0x1000u);
}

TEST(Layout, NamedRefusals) {
  auto p = vm();
  p.memory.base = 0x40001000;
  EXPECT_EQ(validate_layout(p, 0x40000000, kFirmware).error(), LayoutError::kMemoryBase);
  p = vm();
  p.memory.size = 0x300000;
  EXPECT_EQ(validate_layout(p, 0x40000000, kFirmware).error(), LayoutError::kMemoryMissesFirmware);
  p = vm();
  p.kernel = base::Range{0x7ff00000, 0x200000};
  EXPECT_EQ(validate_layout(p, 0x40000000, kFirmware).error(), LayoutError::kKernelOutsideMemory);
  p = vm();
  p.kernel = base::Range{0x40400800, 0x1000};
  EXPECT_EQ(validate_layout(p, 0x40000000, kFirmware).error(), LayoutError::kKernelMisaligned);
  p = vm();
  p.kernel = base::Range{0x40100000, 0x200000};
  EXPECT_EQ(validate_layout(p, 0x40000000, kFirmware).error(), LayoutError::kKernelOverlapsFirmware);
  p = vm();
  p.initrd = base::Range{0x40500000, 0x1000};
  EXPECT_EQ(validate_layout(p, 0x40000000, kFirmware).error(), LayoutError::kInitrdOverlapsKernel);
  p = vm();
  p.initrd = base::Range{0x401ff000, 0x2000};
  EXPECT_EQ(validate_layout(p, 0x40000000, kFirmware).error(), LayoutError::kInitrdOverlapsFirmware);
  p = vm();
  p.initrd = base::Range{0x7ffff000, 0x2000};
  EXPECT_EQ(validate_layout(p, 0x40000000, kFirmware).error(), LayoutError::kInitrdOutsideMemory);
  // Sharing a page counts as overlapping: the firmware maps whole pages.
  p = vm();
  p.kernel = base::Range{0x40400000, 0x1000800};
  p.initrd = base::Range{0x41400800, 0x1000};
  EXPECT_EQ(validate_layout(p, 0x40000000, kFirmware).error(), LayoutError::kInitrdOverlapsKernel);
  p = vm();
  p.memory.size = 1ull << 40;
  EXPECT_EQ(validate_layout(p, 0x40000000, kFirmware).error(), LayoutError::kMemoryTooLarge);
}

}  // namespace
}  // namespace fdt

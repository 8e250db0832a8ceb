// The fw_cfg file directory lookups (fw_cfg.rst "File Directory"), and the
// DMA descriptor's encoding.
#include "launch/fw_cfg.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace launch::fw_cfg {
namespace {

struct Entry {
  std::string name;
  uint32_t size;
  uint16_t select;
};

void put_be(std::vector<std::byte>& out, uint64_t v, size_t n) {
  for (size_t i = n; i-- > 0;) out.push_back(static_cast<std::byte>(v >> (8 * i)));
}

// A directory as QEMU writes it (hw/nvram/fw_cfg.c FWCfgFiles), with `count`
// in its header (default: the number of entries).
std::vector<std::byte> directory(const std::vector<Entry>& entries,
                                 std::optional<uint32_t> count = std::nullopt) {
  std::vector<std::byte> out;
  put_be(out, count.value_or(static_cast<uint32_t>(entries.size())), 4);
  for (const Entry& e : entries) {
    put_be(out, e.size, 4);
    put_be(out, e.select, 2);
    put_be(out, 0, 2);
    std::string name = e.name;
    name.resize(kDirNameSize, '\0');
    for (char c : name) out.push_back(static_cast<std::byte>(c));
  }
  return out;
}

// find_file's answers, spelt as expected values (an expected compared with
// an optional is ambiguous).
using Lookup = std::expected<std::optional<File>, Error>;
Lookup found(File f) { return std::optional<File>(f); }
Lookup absent() { return std::optional<File>(); }

const std::vector<Entry> kLaunch = {
    {"bootorder", 0, 0x20},       {"etc/boot-fail-wait", 4, 0x21},
    {"opt/pvm/launch", 64, 0x22}, {"opt/pvm/pvmfw.img", 204800, 0x23},
    {"opt/pvm/dt", 4096, 0x24},   {"opt/pvm/payload", 8 << 20, 0x25},
    {"opt/pvm/uds", 32, 0x26},
};

TEST(FindFile, FindsByExactName) {
  const auto dir = directory(kLaunch);
  EXPECT_EQ(find_file(dir, "opt/pvm/dt"), found(File{0x24, 4096}));
  EXPECT_EQ(find_file(dir, "bootorder"), found(File{0x20, 0}));
  EXPECT_EQ(find_file(dir, "opt/pvm/initrd"), absent());
  // Prefixes and extensions of a name are other names.
  EXPECT_EQ(find_file(dir, "opt/pvm/d"), absent());
  EXPECT_EQ(find_file(dir, "opt/pvm/dtb"), absent());
  EXPECT_EQ(find_file(directory({}), "opt/pvm/dt"), absent());
}

TEST(FindFile, NamesUseTheWholeField) {
  const std::string longest(kDirNameSize - 1, 'x');
  auto dir = directory({{longest, 7, 0x30}});
  EXPECT_EQ(find_file(dir, longest), found(File{0x30, 7}));
  EXPECT_EQ(find_file(dir, longest + "x"), std::unexpected(Error::kBadFileName));
  EXPECT_EQ(find_file(dir, ""), std::unexpected(Error::kBadFileName));
  // An entry whose name fills the field without a NUL matches nothing.
  dir = directory({{std::string(kDirNameSize, 'x'), 7, 0x30}});
  EXPECT_EQ(find_file(dir, longest), absent());
}

TEST(FindFile, RefusesACountThatDoesNotFit) {
  EXPECT_EQ(find_file({}, "opt/pvm/dt"), std::unexpected(Error::kDirectoryTruncated));
  const auto dir = directory(kLaunch);
  EXPECT_EQ(find_file(std::span(dir).first(3), "opt/pvm/dt"),
            std::unexpected(Error::kDirectoryTruncated));
  // One byte short of the last entry, a count one too many, the largest count.
  EXPECT_EQ(find_file(std::span(dir).first(dir.size() - 1), "opt/pvm/dt"),
            std::unexpected(Error::kDirectoryCount));
  const uint32_t n = static_cast<uint32_t>(kLaunch.size());
  EXPECT_EQ(find_file(directory(kLaunch, n + 1), "opt/pvm/dt"),
            std::unexpected(Error::kDirectoryCount));
  EXPECT_EQ(find_file(directory(kLaunch, UINT32_MAX), "opt/pvm/dt"),
            std::unexpected(Error::kDirectoryCount));
  EXPECT_EQ(directory_size(n), dir.size());
  // Fewer entries than the bytes hold: the rest is not read.
  EXPECT_EQ(find_file(directory(kLaunch, 2), "opt/pvm/dt"), absent());
  EXPECT_EQ(find_file(directory(kLaunch, 2), "bootorder"), found(File{0x20, 0}));
}

TEST(FindFile, RefusesDuplicatesAndBadSelectors) {
  auto entries = kLaunch;
  entries.push_back({"opt/pvm/dt", 1, 0x27});
  EXPECT_EQ(find_file(directory(entries), "opt/pvm/dt"), std::unexpected(Error::kDuplicateFile));
  EXPECT_EQ(find_file(directory(entries), "opt/pvm/uds"), found(File{0x26, 32}));
  for (uint16_t select : {0x0000, 0x0019, 0x001f, 0x4000, 0x8020, 0xffff}) {
    EXPECT_EQ(find_file(directory({{"opt/pvm/uds", 32, select}}), "opt/pvm/uds"),
              std::unexpected(Error::kBadSelect))
        << select;
  }
  EXPECT_TRUE(find_file(directory({{"opt/pvm/uds", 32, 0x3fff}}), "opt/pvm/uds").has_value());
}

TEST(FindLaunchFiles, SizesForCheckLaunch) {
  auto files = find_launch_files(directory(kLaunch));
  ASSERT_TRUE(files.has_value());
  EXPECT_EQ(files->launch, std::optional<File>(File{0x22, 64}));
  EXPECT_EQ(files->uds, std::optional<File>(File{0x26, 32}));
  EXPECT_FALSE(files->initrd.has_value());
  const FileSizes sizes = files->sizes();
  EXPECT_EQ(sizes.launch, 64u);
  EXPECT_EQ(sizes.pvmfw_image, 204800u);
  EXPECT_EQ(sizes.dt, 4096u);
  EXPECT_EQ(sizes.payload, uint64_t{8} << 20);
  EXPECT_FALSE(sizes.initrd.has_value());
  EXPECT_EQ(sizes.uds, 32u);

  auto entries = kLaunch;
  entries.push_back({"opt/pvm/payload", 1, 0x27});
  EXPECT_EQ(find_launch_files(directory(entries)).error(),
            (Refusal{Error::kDuplicateFile, "opt/pvm/payload"}));
  entries = kLaunch;
  entries[5].select = 0x10;
  EXPECT_EQ(find_launch_files(directory(entries)).error(),
            (Refusal{Error::kBadSelect, "opt/pvm/payload"}));
  EXPECT_EQ(find_launch_files(directory(kLaunch, 99)).error(), Refusal{Error::kDirectoryCount});
}

TEST(Dma, DescriptorIsBigEndian) {
  const DmaControl control{.selector = 0x0123, .select = true, .read = true};
  EXPECT_EQ(control.value(), 0x0123'000au);
  EXPECT_EQ(DmaControl::from_value(0x0123'000a).value(), 0x0123'000au);
  EXPECT_TRUE(DmaControl::from_value(kDmaCtlError).error);
  EXPECT_EQ((DmaControl{.skip = true}).value(), kDmaCtlSkip);
  // Without select, the selector bits are not written.
  EXPECT_EQ((DmaControl{.selector = 0x55, .read = true}).value(), kDmaCtlRead);

  const DmaAccess access = DmaAccess::make(control, 0x40, 0x4020'1000);
  const auto* b = reinterpret_cast<const uint8_t*>(&access);
  const uint8_t want[16] = {0x01, 0x23, 0x00, 0x0a, 0,    0,    0,    0x40,
                            0,    0,    0,    0,    0x40, 0x20, 0x10, 0x00};
  EXPECT_EQ(std::vector<uint8_t>(b, b + 16), std::vector<uint8_t>(want, want + 16));
  EXPECT_EQ(access.control_value(), control.value());
  EXPECT_EQ(DmaAccess::to_be16(kKeyFileDir), 0x1900);
}

}  // namespace
}  // namespace launch::fw_cfg

// The launch header: its bytes (docs/hypervisor.md table), each field's rule
// and its named error, and check_launch's refusals in order.
#include "launch/header.h"

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <vector>

namespace launch {
namespace {

constexpr uint64_t kGiB = 1024 * kMiB;

Header typical() {
  return Header{.flags = 0,
                .ram_size = kGiB,
                .cpus = 1,
                .dt_ipa = kDtIpa,
                .payload_ipa = BOARD_KERNEL_BASE,
                .initrd_ipa = 0x40e0'0000};
}

FileSizes typical_sizes() {
  return FileSizes{.launch = 64,
                   .pvmfw_image = 200 * 1024,
                   .dt = 4096,
                   .payload = 8 * kMiB,
                   .initrd = 3 * kMiB,
                   .uds = 32};
}

constexpr uint64_t kMachine = kMachineRamSize;

std::vector<std::byte> bytes_of(const Header& h) {
  auto a = encode_header(h);
  return {a.begin(), a.end()};
}

template <typename T>
void poke_le(std::vector<std::byte>& b, size_t offset, T v) {
  for (size_t i = 0; i < sizeof(T); ++i) b[offset + i] = static_cast<std::byte>(v >> (8 * i));
}

Error parse_error(const std::vector<std::byte>& b) {
  auto h = parse_header(b);
  EXPECT_FALSE(h.has_value());
  return h ? Error::kBadMagic : h.error();
}

TEST(Header, EncodesTheDocumentedLayout) {
  Header h = typical();
  h.flags = kFlagMmioGuard;
  h.cpus = 3;
  const auto b = encode_header(h);
  // clang-format off
  const std::array<uint8_t, 64> want = {
      'P', 'V', 'M', 'L',                              // magic
      1, 0, 0, 0,                                      // version
      64, 0, 0, 0,                                     // header size
      1, 0, 0, 0,                                      // flags
      0, 0, 0, 0x40, 0, 0, 0, 0,                       // RAM 1 GiB
      3, 0, 0, 0,                                      // vCPUs
      0, 0, 0, 0,                                      // reserved
      0, 0, 0, 0x40, 0, 0, 0, 0,                       // DT IPA
      0, 0, 0x40, 0x40, 0, 0, 0, 0,                    // payload IPA
      0, 0, 0xe0, 0x40, 0, 0, 0, 0,                    // initrd IPA
      0, 0, 0, 0, 0, 0, 0, 0,                          // reserved
  };
  // clang-format on
  EXPECT_EQ(std::memcmp(b.data(), want.data(), want.size()), 0);
}

TEST(Header, RoundTrips) {
  for (Header h : {typical(), Header{.flags = kFlagMmioGuard,
                              .ram_size = kMinRamSize,
                              .cpus = 8,
                              .payload_ipa = kRamBase + kMinRamSize - kPageSize}}) {
    auto parsed = parse_header(bytes_of(h));
    ASSERT_TRUE(parsed.has_value()) << to_string(parsed.error());
    EXPECT_EQ(*parsed, h);
    EXPECT_EQ(parsed->mmio_guard(), h.flags == kFlagMmioGuard);
  }
}

TEST(Header, FixedFieldsInFieldOrder) {
  const auto good = bytes_of(typical());
  EXPECT_EQ(parse_error({}), Error::kBadSize);
  EXPECT_EQ(parse_error({good.begin(), good.begin() + 3}), Error::kBadSize);
  auto b = good;
  b[3] = std::byte{'l'};
  EXPECT_EQ(parse_error(b), Error::kBadMagic);
  // A short file with the right magic: the version is checked before the size,
  // so a later version with a longer header says so.
  EXPECT_EQ(parse_error({good.begin(), good.begin() + 6}), Error::kBadSize);
  b = good;
  poke_le<uint32_t>(b, 4, 2);
  EXPECT_EQ(parse_error(b), Error::kBadVersion);
  b.resize(80);
  EXPECT_EQ(parse_error(b), Error::kBadVersion);
  b = good;
  poke_le<uint32_t>(b, 8, 72);
  EXPECT_EQ(parse_error(b), Error::kBadSize);
  b = good;
  b.push_back(std::byte{0});
  EXPECT_EQ(parse_error(b), Error::kBadSize);
  EXPECT_EQ(parse_error({good.begin(), good.end() - 1}), Error::kBadSize);
  b = good;
  poke_le<uint32_t>(b, 8, 63);
  EXPECT_EQ(parse_error(b), Error::kBadSize);
}

TEST(Header, FieldRules) {
  struct Case {
    size_t offset;
    uint64_t value;
    size_t width;
    Error error;
  };
  const Case cases[] = {
      {12, 2, 4, Error::kBadFlags},
      {12, 0x8000'0000, 4, Error::kBadFlags},
      {16, 0, 8, Error::kBadMemorySize},
      {16, kMinRamSize - 2 * kMiB, 8, Error::kBadMemorySize},
      {16, kGiB + kPageSize, 8, Error::kBadMemorySize},
      {16, UINT64_MAX - (2 * kMiB - 1), 8, Error::kBadMemorySize},  // aligned, end overflows
      {24, 0, 4, Error::kBadCpuCount},
      {24, 9, 4, Error::kBadCpuCount},
      {28, 1, 4, Error::kReservedNotZero},
      {56, 1ull << 63, 8, Error::kReservedNotZero},
      {32, 0, 8, Error::kDtAddress},
      {32, kDtIpa + kPageSize, 8, Error::kDtAddress},
      {40, 0, 8, Error::kPayloadAddress},
      {40, BOARD_KERNEL_BASE + 1, 8, Error::kPayloadAddress},
      {40, kRamBase - kPageSize, 8, Error::kPayloadAddress},
      {40, kRamBase + kGiB, 8, Error::kPayloadAddress},
      {48, 0x40e0'0800, 8, Error::kInitrdAddress},
      {48, kRamBase + kGiB, 8, Error::kInitrdAddress},
      {48, 0x1000, 8, Error::kInitrdAddress},
  };
  for (const Case& c : cases) {
    auto b = bytes_of(typical());
    if (c.width == 4) {
      poke_le<uint32_t>(b, c.offset, static_cast<uint32_t>(c.value));
    } else {
      poke_le<uint64_t>(b, c.offset, c.value);
    }
    EXPECT_EQ(parse_error(b), c.error) << "offset " << c.offset << " value " << c.value;
  }
  // The edges that pass.
  Header h = typical();
  h.payload_ipa = kRamBase;  // overlaps the DT window, but the header alone cannot tell
  h.initrd_ipa = kRamBase + kGiB - kPageSize;
  EXPECT_TRUE(validate_header(h).has_value());
}

TEST(Header, ErrorNamesAreStable) {
  EXPECT_EQ(to_string(Error::kBadMagic), "BAD_MAGIC");
  EXPECT_EQ(to_string(Error::kBadVersion), "BAD_VERSION");
  EXPECT_EQ(to_string(Error::kBadSize), "BAD_SIZE");
  EXPECT_EQ(to_string(Error::kBadFlags), "BAD_FLAGS");
  EXPECT_EQ(to_string(Error::kBadMemorySize), "BAD_MEMORY_SIZE");
  EXPECT_EQ(to_string(Error::kBadCpuCount), "BAD_CPU_COUNT");
  EXPECT_EQ(to_string(Error::kReservedNotZero), "RESERVED_NOT_ZERO");
  EXPECT_EQ(to_string(Error::kDtAddress), "DT_ADDRESS");
  EXPECT_EQ(to_string(Error::kPayloadAddress), "PAYLOAD_ADDRESS");
  EXPECT_EQ(to_string(Error::kInitrdAddress), "INITRD_ADDRESS");
  EXPECT_EQ(to_string(Error::kMissingFile), "MISSING_FILE");
  EXPECT_EQ(to_string(Error::kMemoryExceedsMachine), "MEMORY_EXCEEDS_MACHINE");
  EXPECT_EQ(to_string(Error::kPvmfwImageSize), "PVMFW_IMAGE_SIZE");
  EXPECT_EQ(to_string(Error::kUdsSize), "UDS_SIZE");
  EXPECT_EQ(to_string(Error::kDtSize), "DT_SIZE");
  EXPECT_EQ(to_string(Error::kPayloadSize), "PAYLOAD_SIZE");
  EXPECT_EQ(to_string(Error::kInitrdSize), "INITRD_SIZE");
  EXPECT_EQ(to_string(Error::kInitrdMismatch), "INITRD_MISMATCH");
  EXPECT_EQ(to_string(Error::kPayloadOutsideRam), "PAYLOAD_OUTSIDE_RAM");
  EXPECT_EQ(to_string(Error::kInitrdOutsideRam), "INITRD_OUTSIDE_RAM");
  EXPECT_EQ(to_string(Error::kPayloadOverlap), "PAYLOAD_OVERLAP");
  EXPECT_EQ(to_string(Error::kInitrdOverlap), "INITRD_OVERLAP");
  EXPECT_EQ(to_string(Error::kDirectoryTruncated), "DIRECTORY_TRUNCATED");
  EXPECT_EQ(to_string(Error::kDirectoryCount), "DIRECTORY_COUNT");
  EXPECT_EQ(to_string(Error::kDuplicateFile), "DUPLICATE_FILE");
  EXPECT_EQ(to_string(Error::kBadSelect), "BAD_SELECT");
  EXPECT_EQ(to_string(Error::kBadFileName), "BAD_FILE_NAME");
}

TEST(CheckLaunch, TypicalPlan) {
  auto plan = check_launch(typical(), typical_sizes(), kMachine);
  ASSERT_TRUE(plan.has_value()) << to_string(plan.error().error);
  EXPECT_EQ(plan->ram.base, kRamBase);
  EXPECT_EQ(plan->ram.size, kGiB);
  EXPECT_EQ(plan->dt_window.base, 0x4000'0000u);
  EXPECT_EQ(plan->dt_window.size, 2 * kMiB);
  EXPECT_EQ(plan->dt_size, 4096u);
  EXPECT_EQ(plan->pvmfw_window.base, 0x4020'0000u);
  EXPECT_EQ(plan->pvmfw_window.end(), 0x4040'0000u);
  EXPECT_EQ(plan->payload.base, BOARD_KERNEL_BASE);
  EXPECT_EQ(plan->payload.size, 8 * kMiB);
  ASSERT_TRUE(plan->initrd.has_value());
  EXPECT_EQ(plan->initrd->base, 0x40e0'0000u);
  EXPECT_EQ(plan->pvmfw_image_size, 200u * 1024);

  // No initrd: IPA 0 and no file.
  Header h = typical();
  h.initrd_ipa = 0;
  FileSizes s = typical_sizes();
  s.initrd.reset();
  plan = check_launch(h, s, kMachine);
  ASSERT_TRUE(plan.has_value());
  EXPECT_FALSE(plan->initrd.has_value());
}

Refusal refusal(const Header& h, const FileSizes& s, uint64_t machine = kMachine) {
  auto plan = check_launch(h, s, machine);
  EXPECT_FALSE(plan.has_value());
  return plan ? Refusal{Error::kBadMagic, "accepted"} : plan.error();
}

TEST(CheckLaunch, HeaderRulesFirst) {
  Header h = typical();
  h.cpus = 0;
  EXPECT_EQ(refusal(h, FileSizes{}), Refusal{Error::kBadCpuCount});
}

TEST(CheckLaunch, MissingFilesNamedInOrder) {
  FileSizes s = typical_sizes();
  s.uds.reset();
  EXPECT_EQ(refusal(typical(), s), (Refusal{Error::kMissingFile, "opt/pvm/uds"}));
  s.payload.reset();
  EXPECT_EQ(refusal(typical(), s), (Refusal{Error::kMissingFile, "opt/pvm/payload"}));
  s.dt.reset();
  EXPECT_EQ(refusal(typical(), s), (Refusal{Error::kMissingFile, "opt/pvm/dt"}));
  s.pvmfw_image.reset();
  EXPECT_EQ(refusal(typical(), s), (Refusal{Error::kMissingFile, "opt/pvm/pvmfw.img"}));
  s.launch.reset();
  EXPECT_EQ(refusal(typical(), s), (Refusal{Error::kMissingFile, "opt/pvm/launch"}));
  // The initrd is optional: without one the header must not name one.
  s = typical_sizes();
  s.initrd.reset();
  EXPECT_EQ(refusal(typical(), s), (Refusal{Error::kInitrdMismatch, "opt/pvm/initrd"}));
  Header h = typical();
  h.initrd_ipa = 0;
  EXPECT_EQ(refusal(h, typical_sizes()), (Refusal{Error::kInitrdMismatch, "opt/pvm/initrd"}));
}

TEST(CheckLaunch, SizesAndTheMachine) {
  FileSizes s = typical_sizes();
  s.launch = 65;
  EXPECT_EQ(refusal(typical(), s), (Refusal{Error::kBadSize, "opt/pvm/launch"}));

  EXPECT_TRUE(check_launch(typical(), typical_sizes(), kMachine).has_value());
  EXPECT_TRUE(check_launch(typical(), typical_sizes(), kMachine + kMiB).has_value());
  EXPECT_EQ(refusal(typical(), typical_sizes(), kMachine - 1),
            Refusal{Error::kMemoryExceedsMachine});
  EXPECT_EQ(refusal(typical(), typical_sizes(), 0), Refusal{Error::kMemoryExceedsMachine});
  // The largest VM ends where the hypervisor's RAM starts; one block more is refused.
  Header huge = typical();
  huge.ram_size = kMaxVmRamSize;
  EXPECT_TRUE(check_launch(huge, typical_sizes(), kMachine).has_value());
  huge.ram_size += kRamAlignment;
  EXPECT_EQ(refusal(huge, typical_sizes(), UINT64_MAX), Refusal{Error::kMemoryExceedsMachine});

  for (uint64_t bad : {uint64_t{0}, 12 * kMiB + 1, uint64_t{1} << 40}) {
    s = typical_sizes();
    s.pvmfw_image = bad;
    EXPECT_EQ(refusal(typical(), s), (Refusal{Error::kPvmfwImageSize, "opt/pvm/pvmfw.img"}));
  }
  s = typical_sizes();
  s.pvmfw_image = 12 * kMiB;
  EXPECT_TRUE(check_launch(typical(), s, kMachine).has_value());
  for (uint64_t bad : {0, 31, 33, 64}) {
    s = typical_sizes();
    s.uds = bad;
    EXPECT_EQ(refusal(typical(), s), (Refusal{Error::kUdsSize, "opt/pvm/uds"}));
  }
  for (uint64_t bad : {uint64_t{0}, 2 * kMiB + 1}) {
    s = typical_sizes();
    s.dt = bad;
    EXPECT_EQ(refusal(typical(), s), (Refusal{Error::kDtSize, "opt/pvm/dt"}));
  }
  s = typical_sizes();
  s.dt = 2 * kMiB;
  EXPECT_TRUE(check_launch(typical(), s, kMachine).has_value());
}

TEST(CheckLaunch, PayloadRegion) {
  FileSizes s = typical_sizes();
  s.payload = 0;
  EXPECT_EQ(refusal(typical(), s), (Refusal{Error::kPayloadSize, "opt/pvm/payload"}));
  // Ends exactly at the end of RAM: fine; one byte more: outside.
  Header h = typical();
  h.initrd_ipa = 0;
  s = typical_sizes();
  s.initrd.reset();
  h.payload_ipa = kRamBase + kGiB - 8 * kMiB;
  EXPECT_TRUE(check_launch(h, s, kMachine).has_value());
  s.payload = 8 * kMiB + 1;
  EXPECT_EQ(refusal(h, s), (Refusal{Error::kPayloadOutsideRam, "opt/pvm/payload"}));
  s.payload = UINT64_MAX;  // the end overflows
  EXPECT_EQ(refusal(h, s), (Refusal{Error::kPayloadOutsideRam, "opt/pvm/payload"}));

  s = typical_sizes();
  s.initrd.reset();
  h.payload_ipa = kRamBase;
  EXPECT_EQ(refusal(h, s), (Refusal{Error::kPayloadOverlap, "dt window"}));
  h.payload_ipa = BOARD_CONFIG_BASE;
  EXPECT_EQ(refusal(h, s), (Refusal{Error::kPayloadOverlap, "pvmfw window"}));
  // The pvmfw window's last page, and the DT window's.
  h.payload_ipa = BOARD_HANDOVER_BASE;
  EXPECT_EQ(refusal(h, s), (Refusal{Error::kPayloadOverlap, "pvmfw window"}));
  h.payload_ipa = BOARD_SCRATCH_BASE - kPageSize;
  s.payload = kPageSize;
  EXPECT_EQ(refusal(h, s), (Refusal{Error::kPayloadOverlap, "dt window"}));
}

TEST(CheckLaunch, InitrdRegion) {
  FileSizes s = typical_sizes();
  s.initrd = 0;
  EXPECT_EQ(refusal(typical(), s), (Refusal{Error::kInitrdSize, "opt/pvm/initrd"}));
  s = typical_sizes();
  Header h = typical();
  h.initrd_ipa = kRamBase + kGiB - kPageSize;
  EXPECT_EQ(refusal(h, s), (Refusal{Error::kInitrdOutsideRam, "opt/pvm/initrd"}));
  s.initrd = kPageSize;
  EXPECT_TRUE(check_launch(h, s, kMachine).has_value());

  s = typical_sizes();
  h.initrd_ipa = kRamBase + kPageSize;
  EXPECT_EQ(refusal(h, s), (Refusal{Error::kInitrdOverlap, "dt window"}));
  h.initrd_ipa = BOARD_SCRATCH_BASE;
  EXPECT_EQ(refusal(h, s), (Refusal{Error::kInitrdOverlap, "pvmfw window"}));
  // The payload is 8 MiB at 0x4040_0000: its last page, then right after it.
  h.initrd_ipa = BOARD_KERNEL_BASE + 8 * kMiB - kPageSize;
  EXPECT_EQ(refusal(h, s), (Refusal{Error::kInitrdOverlap, "payload"}));
  h.initrd_ipa = BOARD_KERNEL_BASE + 8 * kMiB;
  EXPECT_TRUE(check_launch(h, s, kMachine).has_value());
  // Before the payload, ending where it starts.
  h.initrd_ipa = BOARD_KERNEL_BASE - 2 * kMiB;
  s.initrd = 2 * kMiB;
  h.payload_ipa = BOARD_KERNEL_BASE;
  EXPECT_EQ(refusal(h, s), (Refusal{Error::kInitrdOverlap, "pvmfw window"}));
  h.payload_ipa = 0x4100'0000;
  h.initrd_ipa = 0x40e0'0000;
  EXPECT_TRUE(check_launch(h, s, kMachine).has_value());
  s.initrd = 2 * kMiB + 1;
  EXPECT_EQ(refusal(h, s), (Refusal{Error::kInitrdOverlap, "payload"}));
}

}  // namespace
}  // namespace launch

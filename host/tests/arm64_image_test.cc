#include "arm64_image.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

namespace pvm {
namespace {

void put_le(std::vector<std::byte>& buf, size_t offset, uint64_t value, size_t size) {
  for (size_t i = 0; i < size; ++i) buf[offset + i] = std::byte(static_cast<uint8_t>(value >> (8 * i)));
}

// A header laid out as booting.rst describes, with an EFI "MZ" code0 like
// Debian's vmlinuz.
std::vector<std::byte> make_image(size_t file_size, uint64_t text_offset, uint64_t image_size,
                                  uint64_t flags) {
  std::vector<std::byte> buf(file_size);
  buf[0] = std::byte('M');
  buf[1] = std::byte('Z');
  put_le(buf, 8, text_offset, 8);
  put_le(buf, 16, image_size, 8);
  put_le(buf, 24, flags, 8);
  put_le(buf, 0x38, 0x644d5241, 4);
  return buf;
}

TEST(Arm64Image, ParsesDebianLikeHeader) {
  auto buf = make_image(4096, 0, 0x1ab0000, 0xa);
  // The magic reads "ARMd" in file order.
  EXPECT_EQ(0, std::memcmp(&buf[0x38], "ARMd", 4));
  auto image = parse_arm64_image(buf);
  ASSERT_TRUE(image.has_value());
  EXPECT_EQ(image->text_offset, 0u);
  EXPECT_EQ(image->image_size, 0x1ab0000u);
  EXPECT_EQ(image->flags, 0xau);
  EXPECT_FALSE(image->big_endian());
}

TEST(Arm64Image, ReadsTextOffset) {
  auto image = parse_arm64_image(make_image(64, 0x80000, 0x200000, 0));
  ASSERT_TRUE(image.has_value());
  EXPECT_EQ(image->text_offset, 0x80000u);
}

TEST(Arm64Image, TooShort) {
  auto buf = make_image(64, 0, 0x1000, 0);
  buf.resize(63);
  EXPECT_EQ(parse_arm64_image(buf).error(), ImageError::kTooShort);
  EXPECT_EQ(parse_arm64_image({}).error(), ImageError::kTooShort);
}

TEST(Arm64Image, BadMagic) {
  auto buf = make_image(128, 0, 0x1000, 0);
  buf[0x3b] = std::byte{0x65};
  EXPECT_EQ(parse_arm64_image(buf).error(), ImageError::kBadMagic);
}

TEST(Arm64Image, ZeroImageSizeMeansFileSizeRoundedToPage) {
  auto image = parse_arm64_image(make_image(5000, 0, 0, 0));
  ASSERT_TRUE(image.has_value());
  EXPECT_EQ(image->image_size, 8192u);
}

TEST(Arm64Image, ImageSizeNeverBelowFileSize) {
  auto image = parse_arm64_image(make_image(10000, 0, 4096, 0));
  ASSERT_TRUE(image.has_value());
  EXPECT_EQ(image->image_size, 10000u);
}

TEST(KernelPayload, LinuxImage) {
  auto payload = describe_kernel_payload(make_image(3000, 0, 0x100000, 0xa));
  ASSERT_TRUE(payload.has_value());
  EXPECT_TRUE(payload->is_linux);
  EXPECT_EQ(payload->file_size, 3000u);
  EXPECT_EQ(payload->memory_size, 0x100000u);
}

TEST(KernelPayload, RawPayloadIsItsFileSize) {
  std::vector<std::byte> raw(100, std::byte{0x14});  // no header at all
  auto payload = describe_kernel_payload(raw);
  ASSERT_TRUE(payload.has_value());
  EXPECT_FALSE(payload->is_linux);
  EXPECT_EQ(payload->text_offset, 0u);
  EXPECT_EQ(payload->file_size, 100u);
  EXPECT_EQ(payload->memory_size, 100u);
}

TEST(KernelPayload, EmptyIsRefused) {
  EXPECT_EQ(describe_kernel_payload({}).error(), ImageError::kEmpty);
}

// Debian's arm64 vmlinuz (an EFI-stub Image) from $PVM_GUEST_DIR, if present.
TEST(Arm64Image, DebianKernelWhenAvailable) {
  const char* guest = std::getenv("PVM_GUEST_DIR");
  if (guest == nullptr || *guest == '\0') GTEST_SKIP() << "PVM_GUEST_DIR not set";
  std::error_code ec;
  std::filesystem::path kernel;
  for (std::filesystem::directory_iterator it(std::filesystem::path(guest) / "boot", ec), end;
       !ec && it != end; it.increment(ec)) {
    if (it->path().filename().string().starts_with("vmlinuz-")) kernel = it->path();
  }
  if (kernel.empty()) GTEST_SKIP() << "no vmlinuz-* in " << guest << "/boot";
  std::ifstream in(kernel, std::ios::binary);
  std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto file = std::as_bytes(std::span(chars));
  ASSERT_GE(file.size(), 64u);
  EXPECT_EQ(chars[0], 'M');  // EFI stub
  EXPECT_EQ(chars[1], 'Z');
  auto image = parse_arm64_image(file);
  ASSERT_TRUE(image.has_value()) << to_string(image.error());
  EXPECT_EQ(image->text_offset, 0u);
  EXPECT_FALSE(image->big_endian());
  EXPECT_GE(image->image_size, file.size());
}

TEST(Arm64Image, ErrorsHaveNames) {
  for (auto e : {ImageError::kTooShort, ImageError::kBadMagic, ImageError::kEmpty,
                 ImageError::kTooLarge}) {
    EXPECT_FALSE(to_string(e).empty());
  }
}

}  // namespace
}  // namespace pvm

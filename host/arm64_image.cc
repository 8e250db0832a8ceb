#include "arm64_image.h"

#include <algorithm>

namespace pvm {
namespace {

constexpr uint64_t kPageSize = 4096;

// Bounds-checked little-endian read of an unsigned integer of N bytes at
// `offset`; kTooShort unless [offset, offset + N) lies inside `bytes`.
template <typename T>
std::expected<T, ImageError> read_le(std::span<const std::byte> bytes, size_t offset) {
  if (offset > bytes.size() || bytes.size() - offset < sizeof(T)) {
    return std::unexpected(ImageError::kTooShort);
  }
  T value = 0;
  for (size_t i = 0; i < sizeof(T); ++i) {
    value |= static_cast<T>(std::to_integer<uint8_t>(bytes[offset + i])) << (8 * i);
  }
  return value;
}

}  // namespace

std::string_view to_string(ImageError error) {
  switch (error) {
    case ImageError::kTooShort: return "image too short for an arm64 header";
    case ImageError::kBadMagic: return "no arm64 Image magic at 0x38";
    case ImageError::kEmpty: return "empty image";
    case ImageError::kTooLarge: return "image too large";
  }
  return "unknown image error";
}

std::expected<Arm64Image, ImageError> parse_arm64_image(std::span<const std::byte> file) {
  if (file.size() < kArm64HeaderSize) return std::unexpected(ImageError::kTooShort);
  auto magic = read_le<uint32_t>(file, kArm64MagicOffset);
  if (!magic) return std::unexpected(magic.error());
  if (*magic != kArm64Magic) return std::unexpected(ImageError::kBadMagic);

  auto text_offset = read_le<uint64_t>(file, 8);
  auto image_size = read_le<uint64_t>(file, 16);
  auto flags = read_le<uint64_t>(file, 24);
  if (!text_offset || !image_size || !flags) return std::unexpected(ImageError::kTooShort);

  Arm64Image image{.text_offset = *text_offset, .image_size = *image_size, .flags = *flags};
  const uint64_t file_size = file.size();
  if (image.image_size == 0) {
    // booting.rst: image_size is 0 before v3.17; the size is then unknown,
    // so the best bound is the file itself, page-rounded.
    if (file_size > UINT64_MAX - (kPageSize - 1)) return std::unexpected(ImageError::kTooLarge);
    image.image_size = (file_size + kPageSize - 1) & ~(kPageSize - 1);
  }
  // A header claiming less than the file holds would make the caller place
  // something on top of the file's tail.
  image.image_size = std::max(image.image_size, file_size);
  return image;
}

std::expected<KernelPayload, ImageError> describe_kernel_payload(std::span<const std::byte> file) {
  if (file.empty()) return std::unexpected(ImageError::kEmpty);
  auto image = parse_arm64_image(file);
  if (!image) {
    return KernelPayload{
        .is_linux = false, .text_offset = 0, .file_size = file.size(), .memory_size = file.size()};
  }
  return KernelPayload{.is_linux = true,
                       .text_offset = image->text_offset,
                       .file_size = file.size(),
                       .memory_size = image->image_size};
}

}  // namespace pvm

// The arm64 Linux Image header, and the layout facts `pvm run` needs from a
// kernel or bare-metal payload file.
//
// Spec: Linux Documentation/arch/arm64/booting.rst, "Call the kernel image":
//   u32 code0; u32 code1; u64 text_offset; u64 image_size; u64 flags;
//   u64 res2; u64 res3; u64 res4; u32 magic = 0x644d5241 ("ARM\x64"); u32 res5;
// all little-endian, 64 bytes. Images with an EFI stub start with "MZ" in
// code0; the header fields are unchanged (Debian's arm64 vmlinuz is such an
// uncompressed Image).
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <span>
#include <string_view>

namespace pvm {

enum class ImageError {
  kTooShort,   // fewer than 64 bytes: no room for the header
  kBadMagic,   // no "ARM\x64" at offset 0x38
  kEmpty,      // a payload file with no bytes
  kTooLarge,   // size arithmetic would overflow
};

std::string_view to_string(ImageError error);

inline constexpr size_t kArm64HeaderSize = 64;
inline constexpr size_t kArm64MagicOffset = 0x38;
inline constexpr uint32_t kArm64Magic = 0x644d5241;  // "ARM\x64" read as LE u32

struct Arm64Image {
  uint64_t text_offset = 0;  // load offset from a 2 MiB aligned base
  // Bytes the kernel occupies once running (text + data + bss), from the
  // header; when the header says 0 (kernels before 3.17), the file size
  // rounded up to 4 KiB. Always >= the file size.
  uint64_t image_size = 0;
  uint64_t flags = 0;  // bit 0: big-endian; bits 1-2: page size; bit 3: placement

  bool big_endian() const { return (flags & 1) != 0; }
};

// Parses the Image header at the start of `file` (the whole file, since
// image_size may depend on its length).
[[nodiscard]] std::expected<Arm64Image, ImageError> parse_arm64_image(
    std::span<const std::byte> file);

// What `pvm run --kernel` loads: either a Linux Image (header found) or a raw
// bare-metal payload (no header), which is loaded as is, at offset 0, and
// occupies exactly its file size.
struct KernelPayload {
  bool is_linux = false;
  uint64_t text_offset = 0;  // 0 for raw payloads
  uint64_t file_size = 0;    // bytes placed in guest memory
  uint64_t memory_size = 0;  // bytes reserved for it (>= file_size)
};

// Never fails on a missing header; fails only on an empty file.
[[nodiscard]] std::expected<KernelPayload, ImageError> describe_kernel_payload(
    std::span<const std::byte> file);

}  // namespace pvm

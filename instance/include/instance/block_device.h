// The disk as this library sees it: 512-byte sectors behind two callbacks.
// The firmware's virtio-blk driver supplies one over its bounce buffers; the
// host tools and tests use MemoryDisk over bytes in memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace instance {

inline constexpr uint64_t kSectorSize = 512;

// `sectors` is the device's size as the device reports it (virtio-blk's
// capacity: host-controlled, so never trusted beyond bounding reads). The
// callbacks move whole sectors (out.size() and in.size() are multiples of
// 512, never 0) and return false on any failure; this library never asks
// for a sector at or beyond `sectors`. A write must be durable when it
// returns true (the driver flushes if the device caches): the two-slot
// scheme relies on the order of writes reaching the disk.
struct BlockDevice {
  void* ctx = nullptr;
  uint64_t sectors = 0;
  bool (*read)(void* ctx, uint64_t lba, std::span<std::byte> out) = nullptr;
  bool (*write)(void* ctx, uint64_t lba, std::span<const std::byte> in) = nullptr;
};

// Reads or writes whole sectors starting at `lba`, checked first: a callback
// present, a non-empty buffer of whole sectors, lba + count inside the
// device (overflow checked). False when a check or the device fails; `out`
// is then unspecified.
[[nodiscard]] bool read_sectors(const BlockDevice& dev, uint64_t lba, std::span<std::byte> out);
[[nodiscard]] bool write_sectors(const BlockDevice& dev, uint64_t lba,
                                 std::span<const std::byte> in);

// A BlockDevice over `bytes` (host tools, tests, fuzzers; no heap). The
// device has size / 512 sectors (a partial last sector is not part of it).
// The MemoryDisk must outlive the BlockDevice device() returns.
class MemoryDisk {
 public:
  explicit MemoryDisk(std::span<std::byte> bytes) : bytes_(bytes) {}
  MemoryDisk(const MemoryDisk&) = delete;
  MemoryDisk& operator=(const MemoryDisk&) = delete;

  [[nodiscard]] BlockDevice device();

 private:
  static bool read(void* ctx, uint64_t lba, std::span<std::byte> out);
  static bool write(void* ctx, uint64_t lba, std::span<const std::byte> in);

  std::span<std::byte> bytes_;
};

}  // namespace instance

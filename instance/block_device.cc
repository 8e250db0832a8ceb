#include "instance/block_device.h"

#include <cstring>

#include "base/reader.h"

namespace instance {
namespace {

// The sector count of a buffer, or 0 when it is empty or not whole sectors.
uint64_t whole_sectors(size_t bytes) {
  if (bytes == 0 || bytes % kSectorSize != 0) return 0;
  return bytes / kSectorSize;
}

bool inside(const BlockDevice& dev, uint64_t lba, uint64_t count) {
  auto end = base::checked_add(lba, count);
  return count != 0 && end && *end <= dev.sectors;
}

}  // namespace

bool read_sectors(const BlockDevice& dev, uint64_t lba, std::span<std::byte> out) {
  if (dev.read == nullptr || !inside(dev, lba, whole_sectors(out.size()))) return false;
  return dev.read(dev.ctx, lba, out);
}

bool write_sectors(const BlockDevice& dev, uint64_t lba, std::span<const std::byte> in) {
  if (dev.write == nullptr || !inside(dev, lba, whole_sectors(in.size()))) return false;
  return dev.write(dev.ctx, lba, in);
}

BlockDevice MemoryDisk::device() {
  return BlockDevice{.ctx = this,
                     .sectors = bytes_.size() / kSectorSize,
                     .read = &MemoryDisk::read,
                     .write = &MemoryDisk::write};
}

bool MemoryDisk::read(void* ctx, uint64_t lba, std::span<std::byte> out) {
  const auto* disk = static_cast<const MemoryDisk*>(ctx);
  if (lba > UINT64_MAX / kSectorSize) return false;
  auto from = base::subspan(disk->bytes_, lba * kSectorSize, out.size());
  if (!from) return false;
  if (!out.empty()) std::memcpy(out.data(), from->data(), out.size());
  return true;
}

bool MemoryDisk::write(void* ctx, uint64_t lba, std::span<const std::byte> in) {
  auto* disk = static_cast<MemoryDisk*>(ctx);
  if (lba > UINT64_MAX / kSectorSize) return false;
  const uint64_t offset = lba * kSectorSize;
  if (!base::subspan(disk->bytes_, offset, in.size())) return false;
  if (!in.empty()) std::memcpy(disk->bytes_.data() + offset, in.data(), in.size());
  return true;
}

}  // namespace instance

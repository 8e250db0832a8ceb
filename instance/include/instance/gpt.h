// The GUID Partition Table of the instance disk (UEFI 2.10 §5.2.3 protective
// MBR, §5.3.2 header, §5.3.3 entries): finding the one "vm-instance"
// partition on an untrusted disk, and (host) formatting a fresh disk.
//
// Only the primary GPT is read. A disk whose primary GPT is damaged is
// refused rather than repaired from the backup: the host owns the disk, and
// a firmware that picks between two copies only widens what it must trust.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <span>
#include <string_view>

#include "instance/block_device.h"
#include "instance/error.h"

namespace instance {

// The partition's name, UTF-16LE in the entry's 36-unit name field,
// NUL-terminated.
inline constexpr std::u16string_view kInstancePartitionName = u"vm-instance";

// The rules the primary header must meet.
inline constexpr uint64_t kGptHeaderLba = 1;
inline constexpr uint32_t kGptRevision = 0x0001'0000;
inline constexpr uint32_t kGptHeaderSize = 92;
inline constexpr uint64_t kGptEntriesLba = 2;
inline constexpr uint32_t kGptEntrySize = 128;
inline constexpr uint32_t kGptMaxEntries = 128;

// The vm-instance partition: its first LBA and its size in sectors, both
// checked to lie inside the header's usable LBAs, which lie inside the
// device.
struct Partition {
  uint64_t first_lba = 0;
  uint64_t sectors = 0;

  friend constexpr bool operator==(const Partition&, const Partition&) = default;
};

// CRC-32 as GPT uses it (IEEE 802.3, reflected polynomial 0xEDB88320, initial
// and final XOR 0xFFFFFFFF; zlib's crc32). Streams: crc32(b, crc32(a)) ==
// crc32(a || b); crc32("123456789") == 0xCBF43926.
[[nodiscard]] uint32_t crc32(std::span<const std::byte> data, uint32_t crc = 0);

// Finds the vm-instance partition. Reads LBA 0 (protective MBR: 0x55AA and a
// record of type 0xEE), LBA 1 (the header: "EFI PART", revision 1.0, size
// 92, its CRC32 computed with the field zeroed, reserved bytes zero, my_lba
// 1, first_usable after the entry array, first_usable <= last_usable < the
// device's size, last_usable < alternate_lba < the device's size), then the
// entry array (LBA 2, 128-byte entries, 1 to 128 of them, its CRC32) and
// picks the one in-use entry (type GUID not zero) named "vm-instance".
// Refusals: INVALID_ARGUMENT (no read callback), READ_FAILED, NO_GPT,
// BAD_GPT_HEADER, BAD_GPT_CRC, BAD_PARTITION_ENTRIES, NO_INSTANCE_PARTITION,
// DUPLICATE_INSTANCE_PARTITION, PARTITION_OUT_OF_RANGE (first > last, outside
// the usable LBAs, or smaller than kMinPartitionSectors in image.h). Nothing
// is read outside the device or the bytes it returned.
[[nodiscard]] std::expected<Partition, Refusal> find_instance_partition(const BlockDevice& dev);

// ---- Host side: a fresh instance disk. ----------------------------------------------------------

// format_disk's layout: the protective MBR, the primary header at LBA 1 and
// a 128-entry array at LBAs 2-33; the partition at LBA 2048 (1 MiB aligned,
// as partitioning tools place it); the backup array and header in the last
// 33 sectors of the image.
inline constexpr uint64_t kFormatEntrySectors = kGptMaxEntries * kGptEntrySize / kSectorSize;
inline constexpr uint64_t kFormatPartitionLba = 2048;
inline constexpr uint64_t kDefaultPartitionSectors = 2048;  // 1 MiB, AOSP's instance.img size class

// The smallest image (in sectors) that holds a partition of that size.
[[nodiscard]] constexpr uint64_t disk_sectors_for(uint64_t partition_sectors) {
  return kFormatPartitionLba + partition_sectors + kFormatEntrySectors + 1;
}

// GUIDs in their on-disk byte order (UEFI 2.10 Appendix A: the first three
// fields little-endian).
using Guid = std::array<uint8_t, 16>;
struct DiskGuids {
  Guid disk;
  Guid partition;  // the vm-instance partition's unique GUID
};

// Writes a fresh instance disk over the whole of `image` (zeroed first): the
// protective MBR, primary and backup GPT (CRCs set) with one partition named
// "vm-instance" (type Linux filesystem data, 0FC63DAF-8483-4772-8E79-
// 3D69D8477DE4) of `partition_sectors` at kFormatPartitionLba, and in it the
// "Android-VM-instance" v1 header with both slots empty. The two-argument
// form uses fixed GUIDs (the disk is the VM's own, never beside another);
// pass DiskGuids for unique ones. INVALID_ARGUMENT when `image` is not whole
// sectors, smaller than disk_sectors_for(partition_sectors), or the
// partition is smaller than kMinPartitionSectors.
[[nodiscard]] std::expected<void, Refusal> format_disk(std::span<std::byte> image,
                                                       uint64_t partition_sectors);
[[nodiscard]] std::expected<void, Refusal> format_disk(std::span<std::byte> image,
                                                       uint64_t partition_sectors,
                                                       const DiskGuids& guids);

}  // namespace instance

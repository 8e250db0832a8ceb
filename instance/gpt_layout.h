// Internal: the GPT's byte layout and the writer behind format_disk, shared
// with the tests and the fuzzer's seed maker (which write compact disks with
// a small entry array).
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <span>
#include <string_view>

#include "instance/error.h"
#include "instance/gpt.h"

namespace instance::detail {

// Protective MBR (UEFI 2.10 §5.2.3, Tables 5-1 and 5-3).
inline constexpr size_t kMbrRecords = 446;
inline constexpr size_t kMbrRecordSize = 16;
inline constexpr size_t kMbrRecordCount = 4;
inline constexpr size_t kMbrRecordType = 4;      // OSType within a record
inline constexpr size_t kMbrRecordStartLba = 8;  // StartingLBA within a record
inline constexpr size_t kMbrRecordSizeLba = 12;  // SizeInLBA within a record
inline constexpr size_t kMbrSignature = 510;     // 0x55, 0xAA
inline constexpr uint8_t kMbrProtectiveType = 0xee;

// GPT header (UEFI 2.10 §5.3.2, Table 5-5).
inline constexpr size_t kHdrSignature = 0;
inline constexpr size_t kHdrRevision = 8;
inline constexpr size_t kHdrSize = 12;
inline constexpr size_t kHdrCrc = 16;
inline constexpr size_t kHdrReserved = 20;
inline constexpr size_t kHdrMyLba = 24;
inline constexpr size_t kHdrAlternateLba = 32;
inline constexpr size_t kHdrFirstUsable = 40;
inline constexpr size_t kHdrLastUsable = 48;
inline constexpr size_t kHdrDiskGuid = 56;
inline constexpr size_t kHdrEntriesLba = 72;
inline constexpr size_t kHdrEntryCount = 80;
inline constexpr size_t kHdrEntrySize = 84;
inline constexpr size_t kHdrEntriesCrc = 88;
inline constexpr std::string_view kGptSignature = "EFI PART";

// GPT partition entry (UEFI 2.10 §5.3.3, Table 5-6).
inline constexpr size_t kEntType = 0;
inline constexpr size_t kEntUnique = 16;
inline constexpr size_t kEntFirstLba = 32;
inline constexpr size_t kEntLastLba = 40;  // inclusive
inline constexpr size_t kEntAttributes = 48;
inline constexpr size_t kEntName = 56;
inline constexpr size_t kEntNameUnits = 36;  // UTF-16LE code units

// Linux filesystem data (0FC63DAF-8483-4772-8E79-3D69D8477DE4), on-disk order.
inline constexpr Guid kLinuxDataType = {0xaf, 0x3d, 0xc6, 0x0f, 0x83, 0x84, 0x72, 0x47,
                                        0x8e, 0x79, 0x3d, 0x69, 0xd8, 0x47, 0x7d, 0xe4};

// A disk write_gpt lays out: the entry array right after the primary header
// (first usable LBA just after it), the partition where asked, the backup
// array and header in the last sectors of the image.
struct GptLayout {
  uint32_t entry_count = kGptMaxEntries;
  uint64_t partition_lba = kFormatPartitionLba;
  uint64_t partition_sectors = kDefaultPartitionSectors;
  DiskGuids guids{};
  std::u16string_view name = kInstancePartitionName;
};

// Writes the protective MBR, primary and backup GPT with the one partition
// into `image` (whole sectors); other bytes are left as they are.
// INVALID_ARGUMENT when the layout does not fit the image or breaks the
// rules find_instance_partition checks (except the partition's size).
[[nodiscard]] std::expected<void, Refusal> write_gpt(std::span<std::byte> image,
                                                     const GptLayout& layout);

// Recomputes the primary header's entry-array CRC and then its own CRC from
// the fields found in it (tests and the fuzzer: edit, then re-seal). False,
// changing nothing, when the array it names is not inside `image`.
[[nodiscard]] bool fix_primary_crcs(std::span<std::byte> image);

}  // namespace instance::detail

// The GPT reader (untrusted disk) and writer (host formatting); see
// include/instance/gpt.h for what callers may rely on.
#include "instance/gpt.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>

#include "base/reader.h"
#include "gpt_layout.h"
#include "image_layout.h"
#include "instance/image.h"
#include "le.h"

namespace instance {
namespace {

using Sector = std::array<std::byte, kSectorSize>;

// Entries are read in chunks of this many sectors (4 KiB on the stack).
constexpr uint64_t kChunkSectors = 8;

// The primary header's fields this reader uses, after their checks.
struct Header {
  uint64_t first_usable = 0;
  uint64_t last_usable = 0;
  uint32_t entry_count = 0;
  uint32_t entries_crc = 0;
};

std::expected<void, Refusal> check_mbr(base::Bytes sector) {
  base::Reader r(sector);
  auto signature = r.sub(detail::kMbrSignature, 2);
  if (!signature || (*signature)[0] != std::byte{0x55} || (*signature)[1] != std::byte{0xaa}) {
    return refuse(Error::kNoGpt, "no MBR signature");
  }
  for (size_t i = 0; i < detail::kMbrRecordCount; ++i) {
    auto record =
        r.sub_reader(detail::kMbrRecords + i * detail::kMbrRecordSize, detail::kMbrRecordSize);
    if (!record || !record->skip(detail::kMbrRecordType)) continue;
    auto type = record->u8();
    if (!type || *type != detail::kMbrProtectiveType) continue;
    // UEFI 2.10 Table 5-3: the protective record starts at LBA 1.
    auto start = record->sub_reader(detail::kMbrRecordStartLba, 4);
    if (!start) continue;
    auto lba = start->le32();
    if (lba && *lba == kGptHeaderLba) return {};
  }
  return refuse(Error::kNoGpt, "no protective MBR record");
}

std::expected<Header, Refusal> parse_header(base::Bytes sector, uint64_t disk_sectors) {
  base::Reader r(sector);
  auto signature = r.bytes(detail::kGptSignature.size());
  if (!signature ||
      !std::equal(signature->begin(), signature->end(), detail::kGptSignature.begin(),
                  [](std::byte b, char c) { return b == static_cast<std::byte>(c); })) {
    return refuse(Error::kNoGpt, "no EFI PART signature");
  }
  auto revision = r.le32();
  auto header_size = r.le32();
  auto header_crc = r.le32();
  auto reserved = r.le32();
  auto my_lba = r.le64();
  auto alternate_lba = r.le64();
  auto first_usable = r.le64();
  auto last_usable = r.le64();
  auto disk_guid = r.bytes(16);
  auto entries_lba = r.le64();
  auto entry_count = r.le32();
  auto entry_size = r.le32();
  auto entries_crc = r.le32();
  if (!revision || !header_size || !header_crc || !reserved || !my_lba || !alternate_lba ||
      !first_usable || !last_usable || !disk_guid || !entries_lba || !entry_count || !entry_size ||
      !entries_crc) {
    return refuse(Error::kBadGptHeader, "truncated");  // a sector always holds 92 bytes
  }
  if (*revision != kGptRevision) return refuse(Error::kBadGptHeader, "revision");
  if (*header_size != kGptHeaderSize) return refuse(Error::kBadGptHeader, "header size");

  // §5.3.2: the CRC32 of the header's HeaderSize bytes with this field zero.
  const uint32_t before = crc32(sector.first(detail::kHdrCrc));
  const std::array<std::byte, 4> zero{};
  uint32_t computed = crc32(zero, before);
  computed =
      crc32(sector.subspan(detail::kHdrCrc + 4, kGptHeaderSize - detail::kHdrCrc - 4), computed);
  if (computed != *header_crc) return refuse(Error::kBadGptCrc, "header");

  if (*reserved != 0 || !base::all_zero(r.rest())) return refuse(Error::kBadGptHeader, "reserved");
  if (*my_lba != kGptHeaderLba) return refuse(Error::kBadGptHeader, "my LBA");
  if (*entries_lba != kGptEntriesLba) return refuse(Error::kBadPartitionEntries, "array LBA");
  if (*entry_size != kGptEntrySize) return refuse(Error::kBadPartitionEntries, "entry size");
  if (*entry_count == 0 || *entry_count > kGptMaxEntries) {
    return refuse(Error::kBadPartitionEntries, "entry count");
  }
  const uint64_t array_sectors =
      (uint64_t{*entry_count} * kGptEntrySize + kSectorSize - 1) / kSectorSize;
  // The array (LBA 2 on) ends before the first usable LBA; the usable LBAs
  // are a non-empty range inside the device, before the backup header.
  if (*first_usable < kGptEntriesLba + array_sectors || *first_usable > *last_usable) {
    return refuse(Error::kBadGptHeader, "usable LBAs");
  }
  if (*last_usable >= disk_sectors)
    return refuse(Error::kBadGptHeader, "usable LBAs past the disk");
  if (*alternate_lba <= *last_usable || *alternate_lba >= disk_sectors) {
    return refuse(Error::kBadGptHeader, "alternate LBA");
  }
  return Header{.first_usable = *first_usable,
                .last_usable = *last_usable,
                .entry_count = *entry_count,
                .entries_crc = *entries_crc};
}

// True when the entry's 36-unit name field holds "vm-instance" and a NUL.
bool named_instance(base::Bytes name_field) {
  base::Reader r(name_field);
  for (char16_t c : kInstancePartitionName) {
    auto unit = r.le16();
    if (!unit || *unit != c) return false;
  }
  auto nul = r.le16();
  return nul && *nul == 0;
}

// What the scan of the entry array found.
struct Scan {
  uint32_t crc = 0;
  uint32_t matches = 0;
  uint64_t first_lba = 0;  // of the first match
  uint64_t last_lba = 0;
};

// One 128-byte entry; false when it cannot be read (it always can: the
// caller hands whole entries).
bool scan_entry(base::Bytes entry, Scan& scan) {
  base::Reader r(entry);
  auto type = r.sub(detail::kEntType, 16);
  auto range = r.sub_reader(detail::kEntFirstLba, 16);
  auto name = r.sub(detail::kEntName, detail::kEntNameUnits * 2);
  if (!type || !range || !name) return false;
  if (base::all_zero(*type)) return true;  // §5.3.3: an unused entry
  if (!named_instance(*name)) return true;
  auto first = range->le64();
  auto last = range->le64();
  if (!first || !last) return false;
  if (scan.matches++ == 0) {
    scan.first_lba = *first;
    scan.last_lba = *last;
  }
  return true;
}

void put_sector(std::span<std::byte> image, uint64_t lba, const Sector& sector) {
  // Callers have checked that the image holds `lba`.
  std::memcpy(image.data() + lba * kSectorSize, sector.data(), sector.size());
}

Sector header_sector(const detail::GptLayout& l, uint64_t my_lba, uint64_t alternate_lba,
                     uint64_t first_usable, uint64_t last_usable, uint64_t entries_lba,
                     uint32_t entries_crc) {
  Sector s{};
  for (size_t i = 0; i < detail::kGptSignature.size(); ++i) {
    s[detail::kHdrSignature + i] = static_cast<std::byte>(detail::kGptSignature[i]);
  }
  le::put<detail::kHdrRevision>(s, kGptRevision);
  le::put<detail::kHdrSize>(s, kGptHeaderSize);
  le::put<detail::kHdrMyLba>(s, my_lba);
  le::put<detail::kHdrAlternateLba>(s, alternate_lba);
  le::put<detail::kHdrFirstUsable>(s, first_usable);
  le::put<detail::kHdrLastUsable>(s, last_usable);
  le::put_bytes<detail::kHdrDiskGuid>(s, l.guids.disk);
  le::put<detail::kHdrEntriesLba>(s, entries_lba);
  le::put<detail::kHdrEntryCount>(s, l.entry_count);
  le::put<detail::kHdrEntrySize>(s, kGptEntrySize);
  le::put<detail::kHdrEntriesCrc>(s, entries_crc);
  le::put<detail::kHdrCrc>(s, crc32(std::span(s).first(kGptHeaderSize)));
  return s;
}

// The fixed GUIDs of format_disk's two-argument form.
constexpr DiskGuids kDefaultGuids = {
    // 2d915f4a-58f7-4f77-99eb-c8724e32f9c9
    .disk = {0x4a, 0x5f, 0x91, 0x2d, 0xf7, 0x58, 0x77, 0x4f, 0x99, 0xeb, 0xc8, 0x72, 0x4e, 0x32,
             0xf9, 0xc9},
    // 01a2a41a-3f64-47c7-a130-72ebd90fe809
    .partition = {0x1a, 0xa4, 0xa2, 0x01, 0x64, 0x3f, 0xc7, 0x47, 0xa1, 0x30, 0x72, 0xeb, 0xd9,
                  0x0f, 0xe8, 0x09},
};

}  // namespace

// Table-less CRC-32. mbedTLS 3.6 (the firmware's vetted library) has no
// CRC-32 and the firmware has no zlib; CRC-32 is not a cryptographic
// primitive (GPT uses it against accidents only; the entry is protected by
// AES-GCM), so a small bitwise implementation is acceptable here. The unit
// test checks it against zlib's crc32 on the host.
uint32_t crc32(std::span<const std::byte> data, uint32_t crc) {
  crc = ~crc;
  for (std::byte b : data) {
    crc ^= std::to_integer<uint32_t>(b);
    for (int i = 0; i < 8; ++i) crc = (crc >> 1) ^ (0xedb8'8320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

std::expected<Partition, Refusal> find_instance_partition(const BlockDevice& dev) {
  if (dev.read == nullptr) return refuse(Error::kInvalidArgument, "device");
  // MBR, header and at least one sector of entries.
  if (dev.sectors < kGptEntriesLba + 1) return refuse(Error::kNoGpt, "disk too small");

  Sector sector{};
  if (!read_sectors(dev, 0, sector)) return refuse(Error::kReadFailed, "protective MBR");
  if (auto mbr = check_mbr(sector); !mbr) return std::unexpected(mbr.error());
  if (!read_sectors(dev, kGptHeaderLba, sector)) return refuse(Error::kReadFailed, "GPT header");
  auto header = parse_header(sector, dev.sectors);
  if (!header) return std::unexpected(header.error());

  // The array, in chunks: its CRC32 over entry_count * 128 bytes, and the
  // in-use entries named "vm-instance". Nothing is trusted before the CRC.
  const uint64_t array_bytes = uint64_t{header->entry_count} * kGptEntrySize;
  const uint64_t array_sectors = (array_bytes + kSectorSize - 1) / kSectorSize;
  std::array<std::byte, kChunkSectors * kSectorSize> chunk{};
  Scan scan;
  for (uint64_t done = 0; done < array_sectors;) {
    const uint64_t n = std::min(kChunkSectors, array_sectors - done);
    auto buf = std::span(chunk).first(n * kSectorSize);
    if (!read_sectors(dev, kGptEntriesLba + done, buf)) {
      return refuse(Error::kReadFailed, "partition entries");
    }
    // The part of the chunk inside the array: whole entries (512 = 4 * 128).
    const uint64_t offset = done * kSectorSize;
    auto entries = base::subspan(buf, 0, std::min<uint64_t>(buf.size(), array_bytes - offset));
    if (!entries) return refuse(Error::kBadPartitionEntries, "array");
    scan.crc = crc32(*entries, scan.crc);
    base::Reader r(*entries);
    while (!r.at_end()) {
      auto entry = r.bytes(kGptEntrySize);
      if (!entry || !scan_entry(*entry, scan)) return refuse(Error::kBadPartitionEntries, "entry");
    }
    done += n;
  }
  if (scan.crc != header->entries_crc) return refuse(Error::kBadGptCrc, "partition entries");
  if (scan.matches == 0) return refuse(Error::kNoInstancePartition, "vm-instance");
  if (scan.matches > 1) return refuse(Error::kDuplicateInstancePartition, "vm-instance");

  // The usable range lies inside the device (parse_header), so this does too.
  if (scan.first_lba > scan.last_lba) {
    return refuse(Error::kPartitionOutOfRange, "ends before it starts");
  }
  if (scan.first_lba < header->first_usable || scan.last_lba > header->last_usable) {
    return refuse(Error::kPartitionOutOfRange, "outside the usable LBAs");
  }
  const uint64_t sectors = scan.last_lba - scan.first_lba + 1;
  if (sectors < kMinPartitionSectors) return refuse(Error::kPartitionOutOfRange, "too small");
  return Partition{.first_lba = scan.first_lba, .sectors = sectors};
}

namespace detail {

std::expected<void, Refusal> write_gpt(std::span<std::byte> image, const GptLayout& l) {
  if (image.size() % kSectorSize != 0) return refuse(Error::kInvalidArgument, "image size");
  const uint64_t total = image.size() / kSectorSize;
  if (l.entry_count == 0 || l.entry_count > kGptMaxEntries) {
    return refuse(Error::kInvalidArgument, "entry count");
  }
  if (l.name.size() >= kEntNameUnits) return refuse(Error::kInvalidArgument, "name");
  const uint64_t array_bytes = uint64_t{l.entry_count} * kGptEntrySize;
  const uint64_t array_sectors = (array_bytes + kSectorSize - 1) / kSectorSize;
  const uint64_t first_usable = kGptEntriesLba + array_sectors;
  // MBR, primary header and array, at least one usable sector, backup array
  // and header.
  if (total < first_usable + 1 + array_sectors + 1) {
    return refuse(Error::kInvalidArgument, "image size");
  }
  const uint64_t backup_header = total - 1;
  const uint64_t backup_array = backup_header - array_sectors;
  const uint64_t last_usable = backup_array - 1;
  if (l.partition_sectors == 0 || l.partition_lba < first_usable || l.partition_lba > last_usable ||
      l.partition_sectors - 1 > last_usable - l.partition_lba) {
    return refuse(Error::kInvalidArgument, "partition range");
  }

  // Protective MBR: one record of type 0xEE from LBA 1 over the rest of the
  // disk (clamped to 32 bits), CHS start 0/0/2 and end 0xFFFFFF.
  Sector mbr{};
  constexpr size_t kRec = kMbrRecords;
  le::put<kRec + 1>(mbr, uint8_t{0x00});
  le::put<kRec + 2>(mbr, uint8_t{0x02});
  le::put<kRec + 3>(mbr, uint8_t{0x00});
  le::put<kRec + kMbrRecordType>(mbr, kMbrProtectiveType);
  le::put<kRec + 5>(mbr, uint8_t{0xff});
  le::put<kRec + 6>(mbr, uint8_t{0xff});
  le::put<kRec + 7>(mbr, uint8_t{0xff});
  le::put<kRec + kMbrRecordStartLba>(mbr, uint32_t{1});
  le::put<kRec + kMbrRecordSizeLba>(
      mbr, static_cast<uint32_t>(std::min<uint64_t>(total - 1, UINT32_MAX)));
  le::put<kMbrSignature>(mbr, uint16_t{0xaa55});
  put_sector(image, 0, mbr);

  // The array: entry 0 is the partition, the others unused (zero).
  std::array<std::byte, kGptEntrySize> entry{};
  le::put_bytes<kEntType>(entry, kLinuxDataType);
  le::put_bytes<kEntUnique>(entry, l.guids.partition);
  le::put<kEntFirstLba>(entry, l.partition_lba);
  le::put<kEntLastLba>(entry, l.partition_lba + l.partition_sectors - 1);
  for (size_t i = 0; i < l.name.size(); ++i) {
    const auto unit = static_cast<uint16_t>(l.name[i]);
    entry[kEntName + 2 * i] = static_cast<std::byte>(unit & 0xff);
    entry[kEntName + 2 * i + 1] = static_cast<std::byte>(unit >> 8);
  }
  uint32_t entries_crc = 0;
  for (uint64_t k = 0; k < array_sectors; ++k) {
    Sector s{};
    if (k == 0) std::copy(entry.begin(), entry.end(), s.begin());
    const uint64_t in_array = std::min<uint64_t>(kSectorSize, array_bytes - k * kSectorSize);
    entries_crc = crc32(std::span(s).first(in_array), entries_crc);
    put_sector(image, kGptEntriesLba + k, s);
    put_sector(image, backup_array + k, s);
  }

  put_sector(image, kGptHeaderLba,
             header_sector(l, kGptHeaderLba, backup_header, first_usable, last_usable,
                           kGptEntriesLba, entries_crc));
  put_sector(image, backup_header,
             header_sector(l, backup_header, kGptHeaderLba, first_usable, last_usable, backup_array,
                           entries_crc));
  return {};
}

bool fix_primary_crcs(std::span<std::byte> image) {
  auto at = base::subspan(image, kGptHeaderLba * kSectorSize, kSectorSize);
  if (!at) return false;
  Sector s{};
  std::copy(at->begin(), at->end(), s.begin());
  base::Reader r(s);
  auto header_size = r.sub_reader(kHdrSize, 4);
  auto fields = r.sub_reader(kHdrEntriesLba, 16);
  if (!header_size || !fields) return false;
  auto size = header_size->le32();
  auto entries_lba = fields->le64();
  auto count = fields->le32();
  auto entry_size = fields->le32();
  if (!size || !entries_lba || !count || !entry_size) return false;
  if (*size < kHdrEntriesCrc + 4 || *size > kSectorSize) return false;
  if (*entries_lba > UINT64_MAX / kSectorSize) return false;
  auto array = base::subspan(image, *entries_lba * kSectorSize, uint64_t{*count} * *entry_size);
  if (!array) return false;
  le::put<kHdrEntriesCrc>(s, crc32(*array));
  le::put<kHdrCrc>(s, uint32_t{0});
  le::put<kHdrCrc>(s, crc32(std::span(s).first(*size)));
  std::copy(s.begin(), s.end(),
            image.begin() + static_cast<ptrdiff_t>(kGptHeaderLba * kSectorSize));
  return true;
}

}  // namespace detail

std::expected<void, Refusal> format_disk(std::span<std::byte> image, uint64_t partition_sectors) {
  return format_disk(image, partition_sectors, kDefaultGuids);
}

std::expected<void, Refusal> format_disk(std::span<std::byte> image, uint64_t partition_sectors,
                                         const DiskGuids& guids) {
  if (image.size() % kSectorSize != 0) return refuse(Error::kInvalidArgument, "image size");
  if (partition_sectors < kMinPartitionSectors) {
    return refuse(Error::kInvalidArgument, "partition size");
  }
  const uint64_t total = image.size() / kSectorSize;
  if (partition_sectors > total || total < disk_sectors_for(partition_sectors)) {
    return refuse(Error::kInvalidArgument, "image size");
  }
  std::memset(image.data(), 0, image.size());
  auto gpt = detail::write_gpt(image, {.entry_count = kGptMaxEntries,
                                       .partition_lba = kFormatPartitionLba,
                                       .partition_sectors = partition_sectors,
                                       .guids = guids,
                                       .name = kInstancePartitionName});
  if (!gpt) return gpt;
  put_sector(image, kFormatPartitionLba, detail::instance_header_sector());
  return {};
}

}  // namespace instance

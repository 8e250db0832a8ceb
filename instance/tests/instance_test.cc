// The instance disk: the GPT reader's named refusals, format_disk's disk,
// the documented bytes of the partition and of pvmfw's entry, the slots
// (torn writes, copies, equal sequences, other keys and instances), the
// policy's rules, check_and_update end to end on an in-memory device, and
// device failures.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <string_view>
#include <vector>

#include "dice/crypto.h"
#include "gpt_layout.h"
#include "image_layout.h"
#include "instance/block_device.h"
#include "instance/error.h"
#include "instance/gpt.h"
#include "instance/image.h"
#include "instance/instance.h"
#include "instance/policy.h"
#include "le.h"

namespace instance {
namespace {

constexpr uint64_t kS = kSectorSize;

}  // namespace

// Readable failures (gtest finds these by argument-dependent lookup).
void PrintTo(const Refusal& r, std::ostream* os) { *os << to_string(r.error) << ": " << r.detail; }
void PrintTo(const SlotStatus& s, std::ostream* os) {
  *os << to_string(s.state) << " " << s.problem;
}

namespace {

// ---- An in-memory device that can fail. ---------------------------------------------------------

struct FakeDisk {
  std::vector<std::byte> bytes;
  std::optional<uint64_t> reported_sectors;  // what the device claims (default: its real size)
  std::optional<uint64_t> fail_read_lba;     // a read touching this LBA fails
  bool fail_writes = false;
  // The next write stores only its first `torn_bytes` bytes and fails (the
  // VM killed mid-write); a sector cut in the middle is left garbled, the
  // sectors after the cut keep their old bytes.
  std::optional<size_t> torn_bytes;
  int reads = 0;
  int writes = 0;

  explicit FakeDisk(uint64_t sectors) : bytes(sectors * kS) {}

  uint64_t real_sectors() const { return bytes.size() / kS; }

  BlockDevice device() {
    return BlockDevice{.ctx = this,
                       .sectors = reported_sectors.value_or(real_sectors()),
                       .read = &FakeDisk::read,
                       .write = &FakeDisk::write};
  }

  std::span<std::byte> sector(uint64_t lba) { return std::span(bytes).subspan(lba * kS, kS); }

  static bool read(void* ctx, uint64_t lba, std::span<std::byte> out) {
    auto* d = static_cast<FakeDisk*>(ctx);
    ++d->reads;
    const uint64_t n = out.size() / kS;
    EXPECT_EQ(out.size() % kS, 0u);
    if (lba + n > d->real_sectors()) return false;
    if (d->fail_read_lba && *d->fail_read_lba >= lba && *d->fail_read_lba < lba + n) return false;
    std::memcpy(out.data(), d->bytes.data() + lba * kS, out.size());
    return true;
  }

  static bool write(void* ctx, uint64_t lba, std::span<const std::byte> in) {
    auto* d = static_cast<FakeDisk*>(ctx);
    ++d->writes;
    const uint64_t n = in.size() / kS;
    EXPECT_EQ(in.size() % kS, 0u);
    if (d->fail_writes || lba + n > d->real_sectors()) return false;
    if (d->torn_bytes) {
      const size_t keep = std::min(*d->torn_bytes, in.size());
      std::memcpy(d->bytes.data() + lba * kS, in.data(), keep);
      for (size_t i = keep; i % kS != 0; ++i)
        d->bytes[lba * kS + i] = static_cast<std::byte>(0xa5 ^ i);
      d->torn_bytes.reset();
      return false;
    }
    std::memcpy(d->bytes.data() + lba * kS, in.data(), in.size());
    return true;
  }
};

// ---- Inputs. ------------------------------------------------------------------------------------

std::array<uint8_t, 32> cdi(uint8_t seed) {
  std::array<uint8_t, 32> c{};
  for (size_t i = 0; i < c.size(); ++i) c[i] = static_cast<uint8_t>(seed + 7 * i);
  return c;
}

Hash hash_of(uint8_t seed) {
  Hash h{};
  for (size_t i = 0; i < h.size(); ++i) h[i] = static_cast<uint8_t>(seed ^ (3 * i));
  return h;
}

const std::array<uint8_t, 32> kCdiSeal = cdi(1);
const Hash kInstanceHash = hash_of(0x11);

Measured measured(uint8_t code, uint8_t authority = 0xa0, Mode mode = Mode::kNormal,
                  uint64_t rollback = 3) {
  return Measured{.code_hash = hash_of(code),
                  .authority_hash = hash_of(authority),
                  .mode = mode,
                  .rollback_index = rollback};
}

uint8_t g_random_counter = 0;
bool counting_random(std::span<std::byte> out) {
  for (std::byte& b : out) b = static_cast<std::byte>(++g_random_counter);
  return true;
}
bool failing_random(std::span<std::byte>) { return false; }

// A compact disk (tests only): a 4-entry array (one sector), the partition
// right after it, the backup at the end.
constexpr uint64_t kCompactPartitionLba = 3;
constexpr uint64_t kCompactPartitionSectors = kMinPartitionSectors;

FakeDisk compact_disk(uint64_t partition_sectors = kCompactPartitionSectors) {
  FakeDisk d(kCompactPartitionLba + partition_sectors + 2);
  auto ok = detail::write_gpt(d.bytes, {.entry_count = 4,
                                        .partition_lba = kCompactPartitionLba,
                                        .partition_sectors = partition_sectors,
                                        .guids = {},
                                        .name = kInstancePartitionName});
  EXPECT_TRUE(ok.has_value());
  const auto header = detail::instance_header_sector();
  std::copy(header.begin(), header.end(), d.sector(kCompactPartitionLba).begin());
  return d;
}

FakeDisk formatted_disk(uint64_t partition_sectors = kDefaultPartitionSectors) {
  FakeDisk d(disk_sectors_for(partition_sectors));
  EXPECT_TRUE(format_disk(d.bytes, partition_sectors).has_value());
  return d;
}

template <typename T>
void poke_le(std::span<std::byte> b, size_t offset, T v) {
  for (size_t i = 0; i < sizeof(T); ++i)
    b[offset + i] = static_cast<std::byte>(uint64_t{v} >> (8 * i));
}

template <typename T>
T peek_le(std::span<const std::byte> b, size_t offset) {
  return base::load_le<T>(b.subspan(offset, sizeof(T)));
}

std::optional<Refusal> gpt_refusal(FakeDisk& d) {
  auto p = find_instance_partition(d.device());
  if (p) return std::nullopt;
  return p.error();
}

// Edits the primary header (and its array), then re-seals the CRCs.
void edit_header(FakeDisk& d, size_t offset, auto value) {
  poke_le(d.sector(kGptHeaderLba), offset, value);
  ASSERT_TRUE(detail::fix_primary_crcs(d.bytes));
}
void edit_entry(FakeDisk& d, size_t index, size_t offset, auto value) {
  poke_le(d.bytes, kGptEntriesLba * kS + index * kGptEntrySize + offset, value);
  ASSERT_TRUE(detail::fix_primary_crcs(d.bytes));
}

std::expected<Outcome, Refusal> boot(FakeDisk& d, const Measured& m, uint32_t create_flags = 0,
                                     const std::array<uint8_t, 32>& seal = kCdiSeal,
                                     const Hash& instance_hash = kInstanceHash) {
  return check_and_update(d.device(), seal, instance_hash, m, create_flags, counting_random);
}

Refusal refusal_of(const std::expected<Outcome, Refusal>& r) {
  EXPECT_FALSE(r.has_value());
  return r ? Refusal{Error::kInvalidArgument, "unexpectedly accepted"} : r.error();
}

std::span<std::byte> slot_bytes(FakeDisk& d, Slot slot, uint64_t partition_lba) {
  return std::span(d.bytes).subspan((partition_lba + kSlotBlock[static_cast<size_t>(slot)]) * kS,
                                    kSlotSectors * kS);
}

// ---- CRC-32. ------------------------------------------------------------------------------------

TEST(Crc32, KnownAnswerAndZlib) {
  const std::string_view check = "123456789";
  EXPECT_EQ(crc32(std::as_bytes(std::span(check.data(), check.size()))), 0xcbf43926u);
  EXPECT_EQ(crc32({}), 0u);
  std::vector<std::byte> data(3000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::byte>(i * 131 + 7);
  const auto want = static_cast<uint32_t>(
      ::crc32(0, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
  EXPECT_EQ(crc32(data), want);
  // Streaming.
  EXPECT_EQ(crc32(std::span(data).subspan(1000), crc32(std::span(data).first(1000))), want);
}

// ---- format_disk and the GPT it writes.
// -----------------------------------------------------------

TEST(Format, FreshDiskRoundTrip) {
  FakeDisk d = formatted_disk();
  const uint64_t total = d.real_sectors();
  EXPECT_EQ(total, 2048u + 2048u + 33u);
  auto p = find_instance_partition(d.device());
  ASSERT_TRUE(p.has_value()) << to_string(p.error().error);
  EXPECT_EQ(*p, (Partition{.first_lba = 2048, .sectors = 2048}));
  auto seen = inspect(d.device());
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->slots[0].state, SlotState::kEmpty);
  EXPECT_EQ(seen->slots[1].state, SlotState::kEmpty);

  // Protective MBR (UEFI 2.10 Table 5-3).
  auto mbr = d.sector(0);
  EXPECT_EQ(mbr[510], std::byte{0x55});
  EXPECT_EQ(mbr[511], std::byte{0xaa});
  EXPECT_EQ(mbr[446 + 4], std::byte{0xee});
  EXPECT_EQ(peek_le<uint32_t>(mbr, 446 + 8), 1u);
  EXPECT_EQ(peek_le<uint32_t>(mbr, 446 + 12), total - 1);

  // Both headers: each other's alternate, the same array CRC, own CRCs right.
  auto primary = d.sector(1);
  auto backup = d.sector(total - 1);
  for (auto [h, my, alt, array] : {std::tuple{primary, uint64_t{1}, total - 1, uint64_t{2}},
                                   std::tuple{backup, total - 1, uint64_t{1}, total - 33}}) {
    EXPECT_EQ(std::memcmp(h.data(), "EFI PART", 8), 0);
    EXPECT_EQ(peek_le<uint32_t>(h, 8), 0x00010000u);
    EXPECT_EQ(peek_le<uint32_t>(h, 12), 92u);
    EXPECT_EQ(peek_le<uint64_t>(h, 24), my);
    EXPECT_EQ(peek_le<uint64_t>(h, 32), alt);
    EXPECT_EQ(peek_le<uint64_t>(h, 40), 34u);
    EXPECT_EQ(peek_le<uint64_t>(h, 48), total - 34);
    EXPECT_EQ(peek_le<uint64_t>(h, 72), array);
    EXPECT_EQ(peek_le<uint32_t>(h, 80), 128u);
    EXPECT_EQ(peek_le<uint32_t>(h, 84), 128u);
    std::array<std::byte, 92> copy{};
    std::copy_n(h.begin(), 92, copy.begin());
    poke_le(copy, 16, uint32_t{0});
    EXPECT_EQ(crc32(copy), peek_le<uint32_t>(h, 16));
    EXPECT_EQ(crc32(std::span(d.bytes).subspan(array * kS, 128 * 128)), peek_le<uint32_t>(h, 88));
  }
  EXPECT_TRUE(std::equal(d.sector(2).begin(), d.sector(2).end(), d.sector(total - 33).begin()));

  // The entry: Linux data type, 2048..4095, named vm-instance.
  auto entry = d.sector(2).first(128);
  EXPECT_EQ(std::to_integer<uint8_t>(entry[0]), 0xaf);
  EXPECT_EQ(peek_le<uint64_t>(entry, 32), 2048u);
  EXPECT_EQ(peek_le<uint64_t>(entry, 40), 4095u);
  const std::u16string_view name = u"vm-instance";
  for (size_t i = 0; i < name.size(); ++i) EXPECT_EQ(peek_le<uint16_t>(entry, 56 + 2 * i), name[i]);
  EXPECT_EQ(peek_le<uint16_t>(entry, 56 + 22), 0);

  // The instance header block, the slots zero.
  auto header = d.sector(2048);
  EXPECT_EQ(std::memcmp(header.data(), "Android-VM-instance", 19), 0);
  EXPECT_EQ(peek_le<uint16_t>(header, 19), 1);
  EXPECT_TRUE(base::all_zero(header.subspan(21)));
  EXPECT_TRUE(base::all_zero(std::span(d.bytes).subspan(2049 * kS, 16 * kS)));
}

TEST(Format, GuidsAndSizes) {
  DiskGuids guids{};
  guids.disk.fill(0x42);
  guids.partition.fill(0x24);
  FakeDisk d(disk_sectors_for(kMinPartitionSectors) + 100);  // larger than needed: fine
  ASSERT_TRUE(format_disk(d.bytes, kMinPartitionSectors, guids).has_value());
  EXPECT_EQ(std::to_integer<uint8_t>(d.sector(1)[56]), 0x42);
  EXPECT_EQ(std::to_integer<uint8_t>(d.sector(2)[16]), 0x24);
  auto p = find_instance_partition(d.device());
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->sectors, kMinPartitionSectors);

  std::vector<std::byte> small(disk_sectors_for(kMinPartitionSectors) * kS - kS);
  EXPECT_EQ(format_disk(small, kMinPartitionSectors).error(),
            (Refusal{Error::kInvalidArgument, "image size"}));
  std::vector<std::byte> odd(disk_sectors_for(kMinPartitionSectors) * kS + 1);
  EXPECT_EQ(format_disk(odd, kMinPartitionSectors).error().error, Error::kInvalidArgument);
  std::vector<std::byte> ok(disk_sectors_for(kMinPartitionSectors) * kS);
  EXPECT_EQ(format_disk(ok, kMinPartitionSectors - 1).error(),
            (Refusal{Error::kInvalidArgument, "partition size"}));
  EXPECT_EQ(format_disk(ok, UINT64_MAX).error().error, Error::kInvalidArgument);
}

// ---- The GPT reader's refusals.
// -------------------------------------------------------------------

TEST(Gpt, CompactDiskReads) {
  FakeDisk d = compact_disk();
  auto p = find_instance_partition(d.device());
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(*p, (Partition{.first_lba = 3, .sectors = kMinPartitionSectors}));
}

TEST(Gpt, NoGpt) {
  FakeDisk tiny(2);
  EXPECT_EQ(gpt_refusal(tiny), (Refusal{Error::kNoGpt, "disk too small"}));

  FakeDisk d = compact_disk();
  d.sector(0)[511] = std::byte{0};
  EXPECT_EQ(gpt_refusal(d), (Refusal{Error::kNoGpt, "no MBR signature"}));

  d = compact_disk();
  d.sector(0)[446 + 4] = std::byte{0x83};
  EXPECT_EQ(gpt_refusal(d), (Refusal{Error::kNoGpt, "no protective MBR record"}));

  d = compact_disk();  // a protective record in slot 3 is still one
  std::copy_n(d.sector(0).begin() + 446, 16, d.sector(0).begin() + 446 + 48);
  std::fill_n(d.sector(0).begin() + 446, 16, std::byte{0});
  EXPECT_FALSE(gpt_refusal(d).has_value());

  d = compact_disk();
  poke_le(d.sector(0), 446 + 8, uint32_t{0});
  EXPECT_EQ(gpt_refusal(d), (Refusal{Error::kNoGpt, "no protective MBR record"}));

  d = compact_disk();
  d.sector(1)[0] = std::byte{'X'};
  EXPECT_EQ(gpt_refusal(d), (Refusal{Error::kNoGpt, "no EFI PART signature"}));

  FakeDisk zeros(64);
  EXPECT_EQ(gpt_refusal(zeros)->error, Error::kNoGpt);
}

TEST(Gpt, BadHeader) {
  struct Case {
    size_t offset;
    uint64_t value;
    size_t width;
    Refusal want;
  };
  const uint64_t total = compact_disk().real_sectors();
  const Case cases[] = {
      {detail::kHdrRevision, 0x00010001, 4, {Error::kBadGptHeader, "revision"}},
      {detail::kHdrSize, 96, 4, {Error::kBadGptHeader, "header size"}},
      {detail::kHdrReserved, 1, 4, {Error::kBadGptHeader, "reserved"}},
      {200, 1, 1, {Error::kBadGptHeader, "reserved"}},
      {detail::kHdrMyLba, 2, 8, {Error::kBadGptHeader, "my LBA"}},
      {detail::kHdrFirstUsable, 2, 8, {Error::kBadGptHeader, "usable LBAs"}},
      {detail::kHdrFirstUsable, total - 2, 8, {Error::kBadGptHeader, "usable LBAs"}},
      {detail::kHdrLastUsable, total, 8, {Error::kBadGptHeader, "usable LBAs past the disk"}},
      {detail::kHdrLastUsable, UINT64_MAX, 8, {Error::kBadGptHeader, "usable LBAs past the disk"}},
      {detail::kHdrAlternateLba, total, 8, {Error::kBadGptHeader, "alternate LBA"}},
      {detail::kHdrAlternateLba, total - 3, 8, {Error::kBadGptHeader, "alternate LBA"}},
      {detail::kHdrEntriesLba, 3, 8, {Error::kBadPartitionEntries, "array LBA"}},
      {detail::kHdrEntrySize, 256, 4, {Error::kBadPartitionEntries, "entry size"}},
      {detail::kHdrEntryCount, 0, 4, {Error::kBadPartitionEntries, "entry count"}},
      {detail::kHdrEntryCount, 129, 4, {Error::kBadPartitionEntries, "entry count"}},
      {detail::kHdrEntryCount, 0xffffffff, 4, {Error::kBadPartitionEntries, "entry count"}},
      // 5 entries need two sectors: the first usable LBA (3) is then inside the array.
      {detail::kHdrEntryCount, 5, 4, {Error::kBadGptHeader, "usable LBAs"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.offset);
    FakeDisk d = compact_disk();
    if (c.width == 1) {
      d.sector(1)[c.offset] = static_cast<std::byte>(c.value);
    } else if (c.width == 4) {
      poke_le(d.sector(1), c.offset, static_cast<uint32_t>(c.value));
    } else {
      poke_le(d.sector(1), c.offset, c.value);
    }
    // Re-seal with the header size the CRC covers (92, even when the field lies).
    std::array<std::byte, 92> copy{};
    std::copy_n(d.sector(1).begin(), 92, copy.begin());
    poke_le(copy, detail::kHdrCrc, uint32_t{0});
    poke_le(d.sector(1), detail::kHdrCrc, crc32(copy));
    EXPECT_EQ(gpt_refusal(d), c.want);
  }
}

TEST(Gpt, BadCrc) {
  FakeDisk d = compact_disk();
  d.sector(1)[detail::kHdrDiskGuid] ^= std::byte{1};
  EXPECT_EQ(gpt_refusal(d), (Refusal{Error::kBadGptCrc, "header"}));

  d = compact_disk();
  d.sector(2)[3 * 128 + 100] ^= std::byte{1};  // an unused entry: still covered
  EXPECT_EQ(gpt_refusal(d), (Refusal{Error::kBadGptCrc, "partition entries"}));

  d = compact_disk();  // the header's copy of the array CRC
  poke_le(d.sector(1), detail::kHdrEntriesCrc, uint32_t{0x12345678});
  std::array<std::byte, 92> copy{};
  std::copy_n(d.sector(1).begin(), 92, copy.begin());
  poke_le(copy, detail::kHdrCrc, uint32_t{0});
  poke_le(d.sector(1), detail::kHdrCrc, crc32(copy));
  EXPECT_EQ(gpt_refusal(d), (Refusal{Error::kBadGptCrc, "partition entries"}));
}

TEST(Gpt, FindsTheOneInstancePartition) {
  // Renamed: none.
  FakeDisk d = compact_disk();
  edit_entry(d, 0, detail::kEntName + 2 * 10, uint16_t{'f'});
  EXPECT_EQ(gpt_refusal(d), (Refusal{Error::kNoInstancePartition, "vm-instance"}));

  // A longer name that starts the same: not it.
  d = compact_disk();
  edit_entry(d, 0, detail::kEntName + 2 * 11, uint16_t{'2'});
  EXPECT_EQ(gpt_refusal(d)->error, Error::kNoInstancePartition);

  // Unused (type GUID zero) entries do not count, whatever their name.
  d = compact_disk();
  for (size_t i = 0; i < 16; ++i) edit_entry(d, 0, detail::kEntType + i, uint8_t{0});
  EXPECT_EQ(gpt_refusal(d)->error, Error::kNoInstancePartition);

  // A second entry of the same name.
  d = compact_disk();
  std::copy_n(d.sector(2).begin(), 128, d.sector(2).begin() + 2 * 128);
  ASSERT_TRUE(detail::fix_primary_crcs(d.bytes));
  EXPECT_EQ(gpt_refusal(d), (Refusal{Error::kDuplicateInstancePartition, "vm-instance"}));

  // ... but an unused copy is fine, and other partitions beside it too.
  d = compact_disk();
  std::copy_n(d.sector(2).begin(), 128, d.sector(2).begin() + 2 * 128);
  edit_entry(d, 2, detail::kEntName, uint16_t{'x'});
  EXPECT_FALSE(gpt_refusal(d).has_value());
}

TEST(Gpt, PartitionRange) {
  const uint64_t total = compact_disk().real_sectors();
  struct Case {
    uint64_t first, last;
    std::string_view want;
  };
  const Case cases[] = {
      {10, 9, "ends before it starts"},
      {2, 2 + kMinPartitionSectors, "outside the usable LBAs"},
      {3, total - 2, "outside the usable LBAs"},  // the backup array's LBA
      {3, UINT64_MAX, "outside the usable LBAs"},
      {UINT64_MAX - 5, UINT64_MAX, "outside the usable LBAs"},
      {4, 3 + kMinPartitionSectors - 1, "too small"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.want);
    FakeDisk d = compact_disk();
    edit_entry(d, 0, detail::kEntFirstLba, c.first);
    edit_entry(d, 0, detail::kEntLastLba, c.last);
    EXPECT_EQ(gpt_refusal(d), (Refusal{Error::kPartitionOutOfRange, c.want}));
  }
}

TEST(Gpt, TruncatedDisk) {
  // Cut after the partition: the backup header is gone.
  FakeDisk d = formatted_disk(64);
  d.bytes.resize((2048 + 64) * kS);
  EXPECT_EQ(gpt_refusal(d), (Refusal{Error::kBadGptHeader, "alternate LBA"}));
  // Cut inside the partition: the header's usable LBAs now pass the end.
  d.bytes.resize((2048 + 20) * kS);
  EXPECT_EQ(gpt_refusal(d), (Refusal{Error::kBadGptHeader, "usable LBAs past the disk"}));
  // Cut inside the entry array.
  d.bytes.resize(10 * kS);
  EXPECT_EQ(gpt_refusal(d), (Refusal{Error::kBadGptHeader, "usable LBAs past the disk"}));
  // A device that claims more than it returns.
  FakeDisk e = formatted_disk(64);
  e.reported_sectors = e.real_sectors();
  e.bytes.resize(2050 * kS);
  EXPECT_EQ(gpt_refusal(e), std::nullopt);  // the GPT is all there
  EXPECT_EQ(refusal_of(boot(e, measured(1))), (Refusal{Error::kReadFailed, "instance slot"}));
}

TEST(Gpt, ReadErrors) {
  for (uint64_t lba : {0, 1, 2}) {
    FakeDisk d = compact_disk();
    d.fail_read_lba = lba;
    auto r = gpt_refusal(d);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->error, Error::kReadFailed);
  }
  FakeDisk d = formatted_disk(64);
  d.fail_read_lba = 2 + 20;  // the third chunk of the 32-sector array
  EXPECT_EQ(gpt_refusal(d), (Refusal{Error::kReadFailed, "partition entries"}));
  BlockDevice none{};
  none.sectors = 100;
  EXPECT_EQ(find_instance_partition(none).error().error, Error::kInvalidArgument);
}

// ---- The instance partition.
// ----------------------------------------------------------------------

TEST(Image, Header) {
  struct Case {
    size_t offset;
    uint8_t value;
    std::string_view want;
  };
  for (const Case& c :
       {Case{0, 'a', "magic"}, Case{18, 'X', "magic"}, Case{19, 2, "version"},
        Case{20, 1, "version"}, Case{21, 1, "reserved"}, Case{511, 1, "reserved"}}) {
    FakeDisk d = compact_disk();
    d.sector(kCompactPartitionLba)[c.offset] = std::byte{c.value};
    EXPECT_EQ(refusal_of(boot(d, measured(1))), (Refusal{Error::kInstanceImageInvalid, c.want}));
    EXPECT_EQ(inspect(d.device()).error(), (Refusal{Error::kInstanceImageInvalid, c.want}));
  }
  FakeDisk d = compact_disk();
  std::fill_n(d.sector(kCompactPartitionLba).begin(), kS, std::byte{0});
  EXPECT_EQ(refusal_of(boot(d, measured(1))), (Refusal{Error::kInstanceImageInvalid, "magic"}));
}

TEST(Image, DocumentedEntryBytes) {
  FakeDisk d = formatted_disk(64);
  auto out = boot(d, measured(0x10, 0xa0, Mode::kDebug, 7), kFlagPinSoftware);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(d.writes, 1);
  auto slot = slot_bytes(d, Slot::kA, 2048);
  // EntryHeader: the UUID as written, the payload size.
  const uint8_t uuid[] = {0x90, 0xd2, 0x17, 0x4a, 0x03, 0x8a, 0x4b, 0xc6,
                          0xad, 0xf3, 0x82, 0x48, 0x48, 0xfc, 0x58, 0x25};
  EXPECT_EQ(std::memcmp(slot.data(), uuid, 16), 0);
  EXPECT_EQ(peek_le<uint64_t>(slot, 16), 188u);
  EXPECT_TRUE(base::all_zero(slot.subspan(24 + 188)));
  EXPECT_TRUE(base::all_zero(slot_bytes(d, Slot::kB, 2048)));

  // Open it as README.md describes, with nothing of the library's but the primitives.
  std::array<uint8_t, 32> key{};
  const std::string_view info = "vm-instance";
  ASSERT_TRUE(dice::hkdf_sha512(std::as_bytes(std::span(kCdiSeal)), {},
                                std::as_bytes(std::span(info.data(), info.size())), key));
  std::vector<std::byte> aad;
  for (char c : std::string_view("pvm-instance-entry")) aad.push_back(static_cast<std::byte>(c));
  aad.push_back(std::byte{0});
  for (uint8_t b : kInstanceHash) aad.push_back(static_cast<std::byte>(b));
  std::array<uint8_t, 12> nonce{};
  dice::aes256_gcm::Tag tag{};
  for (size_t i = 0; i < 12; ++i) nonce[i] = std::to_integer<uint8_t>(slot[24 + i]);
  for (size_t i = 0; i < 16; ++i) tag[i] = std::to_integer<uint8_t>(slot[24 + 12 + 160 + i]);
  std::array<std::byte, 160> body{};
  ASSERT_TRUE(dice::aes256_gcm::open(key, nonce, aad, slot.subspan(36, 160), tag, body));
  EXPECT_EQ(peek_le<uint32_t>(body, 0), 1u);                // version
  EXPECT_EQ(peek_le<uint32_t>(body, 4), kFlagPinSoftware);  // flags
  EXPECT_EQ(peek_le<uint64_t>(body, 8), 1u);                // sequence
  EXPECT_EQ(peek_le<uint64_t>(body, 16), 7u);               // rollback index
  EXPECT_EQ(std::to_integer<uint8_t>(body[24]), 2);         // mode: debug
  EXPECT_TRUE(base::all_zero(std::span(body).subspan(25, 7)));
  EXPECT_EQ(std::to_integer<uint8_t>(body[32]), hash_of(0x10)[0]);
  EXPECT_EQ(std::to_integer<uint8_t>(body[95]), hash_of(0x10)[63]);
  EXPECT_EQ(std::to_integer<uint8_t>(body[96]), hash_of(0xa0)[0]);
  EXPECT_EQ(std::to_integer<uint8_t>(body[159]), hash_of(0xa0)[63]);
  // The same key in slot B's AAD does not open it.
  aad[18] = std::byte{1};
  EXPECT_FALSE(dice::aes256_gcm::open(key, nonce, aad, slot.subspan(36, 160), tag, body));
}

TEST(Image, SlotStructure) {
  Key key;
  ASSERT_TRUE(derive_key(kCdiSeal, key).has_value());
  const Partition p{.first_lba = kCompactPartitionLba, .sectors = kCompactPartitionSectors};
  const Entry e{.flags = 0,
                .sequence = 4,
                .rollback_index = 1,
                .mode = Mode::kNormal,
                .code_hash = hash_of(1),
                .authority_hash = hash_of(2)};
  struct Case {
    size_t offset;
    uint8_t xor_with;
    std::string_view want;
  };
  for (const Case& c :
       {Case{0, 1, "entry UUID"}, Case{15, 0x80, "entry UUID"}, Case{16, 1, "payload size"},
        Case{23, 1, "payload size"}, Case{24, 1, "does not open"}, Case{100, 1, "does not open"},
        Case{211, 1, "does not open"}, Case{212, 1, "trailing bytes"},
        Case{4095, 1, "trailing bytes"}}) {
    SCOPED_TRACE(c.offset);
    FakeDisk d = compact_disk();
    ASSERT_TRUE(
        write_entry(d.device(), p, key.span(), kInstanceHash, Slot::kB, e, counting_random));
    auto ok = read_slot(d.device(), p, Slot::kB, key.span(), kInstanceHash);
    ASSERT_TRUE(ok.has_value());
    EXPECT_EQ(ok->status.state, SlotState::kValid);
    EXPECT_EQ(ok->entry, e);
    slot_bytes(d, Slot::kB, kCompactPartitionLba)[c.offset] ^= std::byte{c.xor_with};
    auto bad = read_slot(d.device(), p, Slot::kB, key.span(), kInstanceHash);
    ASSERT_TRUE(bad.has_value());
    EXPECT_EQ(bad->status, (SlotStatus{SlotState::kInvalid, c.want}));
    EXPECT_FALSE(bad->entry.has_value());
    // Without a key only the structure is judged.
    auto unkeyed = read_slot(d.device(), p, Slot::kB);
    ASSERT_TRUE(unkeyed.has_value());
    if (c.want == "does not open") {
      EXPECT_EQ(unkeyed->status.state, SlotState::kSealed);
    } else {
      EXPECT_EQ(unkeyed->status, (SlotStatus{SlotState::kInvalid, c.want}));
    }
  }
}

// A body sealed properly (so it opens) but breaking a rule of its own.
TEST(Image, BodyRules) {
  Key key;
  ASSERT_TRUE(derive_key(kCdiSeal, key).has_value());
  const Partition p{.first_lba = kCompactPartitionLba, .sectors = kCompactPartitionSectors};
  struct Case {
    size_t offset;
    uint8_t value;
    std::string_view want;
  };
  for (const Case& c :
       {Case{detail::kBodyVersion, 2, "entry version"}, Case{detail::kBodyFlags, 2, "entry flags"},
        Case{detail::kBodyFlags + 3, 0x80, "entry flags"},
        Case{detail::kBodySequence, 0, "sequence"}, Case{detail::kBodyMode, 0, "mode"},
        Case{detail::kBodyMode, 3, "mode"}, Case{detail::kBodyReserved, 1, "reserved"},
        Case{detail::kBodyReserved + 6, 1, "reserved"}}) {
    SCOPED_TRACE(c.want);
    FakeDisk d = compact_disk();
    detail::Body body = detail::encode_body(Entry{.flags = 0,
                                                  .sequence = 1,
                                                  .rollback_index = 0,
                                                  .mode = Mode::kNormal,
                                                  .code_hash = {},
                                                  .authority_hash = {}});
    body[c.offset] = std::byte{c.value};
    auto slot = slot_bytes(d, Slot::kA, kCompactPartitionLba);
    std::copy_n(kPvmfwEntryUuid.begin(), 16, reinterpret_cast<uint8_t*>(slot.data()));
    poke_le(slot, 16, uint64_t{188});
    const std::array<uint8_t, 12> nonce{9};
    std::copy_n(reinterpret_cast<const std::byte*>(nonce.data()), 12, slot.begin() + 24);
    dice::aes256_gcm::Tag tag{};
    ASSERT_TRUE(dice::aes256_gcm::seal(key.span(), nonce, detail::make_aad(Slot::kA, kInstanceHash),
                                       body, slot.subspan(36, 160), tag));
    std::copy_n(reinterpret_cast<const std::byte*>(tag.data()), 16, slot.begin() + 196);
    auto r = read_slot(d.device(), p, Slot::kA, key.span(), kInstanceHash);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, (SlotStatus{SlotState::kInvalid, c.want}));
    EXPECT_EQ(refusal_of(boot(d, measured(1))),
              (Refusal{Error::kInstanceImageCorrupt, "no valid entry"}));
  }
  EXPECT_EQ(detail::decode_body(std::span<const std::byte>()).error(), "size");
}

TEST(Image, WriteEntryArguments) {
  Key key;
  ASSERT_TRUE(derive_key(kCdiSeal, key).has_value());
  FakeDisk d = compact_disk();
  const Partition p{.first_lba = kCompactPartitionLba, .sectors = kCompactPartitionSectors};
  const Entry good{.flags = 0,
                   .sequence = 1,
                   .rollback_index = 0,
                   .mode = Mode::kNormal,
                   .code_hash = {},
                   .authority_hash = {}};
  Entry bad = good;
  bad.sequence = 0;
  EXPECT_EQ(write_entry(d.device(), p, key.span(), kInstanceHash, Slot::kA, bad, counting_random)
                .error()
                .error,
            Error::kInvalidArgument);
  bad = good;
  bad.flags = 2;
  EXPECT_EQ(write_entry(d.device(), p, key.span(), kInstanceHash, Slot::kA, bad, counting_random)
                .error()
                .error,
            Error::kInvalidArgument);
  bad = good;
  bad.mode = static_cast<Mode>(3);
  EXPECT_EQ(write_entry(d.device(), p, key.span(), kInstanceHash, Slot::kA, bad, counting_random)
                .error()
                .error,
            Error::kInvalidArgument);
  EXPECT_EQ(
      write_entry(d.device(), p, key.span(), kInstanceHash, Slot::kA, good, nullptr).error().error,
      Error::kInvalidArgument);
  EXPECT_EQ(
      write_entry(d.device(), p, key.span(), kInstanceHash, Slot::kA, good, failing_random).error(),
      (Refusal{Error::kRandomFailed, "nonce"}));
  // A partition that is not inside the device, or too small.
  const Partition outside{.first_lba = d.real_sectors() - 5, .sectors = kMinPartitionSectors};
  EXPECT_EQ(
      write_entry(d.device(), outside, key.span(), kInstanceHash, Slot::kA, good, counting_random)
          .error()
          .error,
      Error::kInvalidArgument);
  const Partition small{.first_lba = 3, .sectors = kMinPartitionSectors - 1};
  EXPECT_EQ(read_slot(d.device(), small, Slot::kA).error().error, Error::kInvalidArgument);
  EXPECT_EQ(d.writes, 0);
  // Nonces are fresh: the same entry sealed twice differs.
  ASSERT_TRUE(
      write_entry(d.device(), p, key.span(), kInstanceHash, Slot::kA, good, counting_random));
  std::vector<std::byte> first(slot_bytes(d, Slot::kA, 3).begin(),
                               slot_bytes(d, Slot::kA, 3).end());
  ASSERT_TRUE(
      write_entry(d.device(), p, key.span(), kInstanceHash, Slot::kA, good, counting_random));
  EXPECT_FALSE(std::equal(first.begin(), first.end(), slot_bytes(d, Slot::kA, 3).begin()));
}

TEST(Image, SelectCurrent) {
  const auto valid = [](uint64_t seq) {
    return SlotReading{.status = {SlotState::kValid, {}},
                       .entry = Entry{.flags = 0,
                                      .sequence = seq,
                                      .rollback_index = 0,
                                      .mode = Mode::kNormal,
                                      .code_hash = {},
                                      .authority_hash = {}}};
  };
  const SlotReading empty{.status = {SlotState::kEmpty, {}}, .entry = {}};
  const SlotReading invalid{.status = {SlotState::kInvalid, "does not open"}, .entry = {}};

  auto s = select_current(empty, empty);
  ASSERT_TRUE(s.has_value());
  EXPECT_FALSE(s->current.has_value());
  s = select_current(valid(5), valid(6));
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->slot, Slot::kB);
  EXPECT_EQ(s->current->sequence, 6u);
  s = select_current(valid(9), valid(2));
  EXPECT_EQ(s->slot, Slot::kA);
  s = select_current(invalid, valid(2));
  EXPECT_EQ(s->slot, Slot::kB);
  EXPECT_EQ(s->slots[0], invalid.status);
  s = select_current(valid(2), empty);
  EXPECT_EQ(s->slot, Slot::kA);
  EXPECT_EQ(select_current(valid(3), valid(3)).error(),
            (Refusal{Error::kInstanceImageCorrupt, "equal sequences"}));
  EXPECT_EQ(select_current(invalid, empty).error(),
            (Refusal{Error::kInstanceImageCorrupt, "no valid entry"}));
  EXPECT_EQ(select_current(empty, invalid).error(),
            (Refusal{Error::kInstanceImageCorrupt, "no valid entry"}));
  EXPECT_EQ(select_current(invalid, invalid).error(),
            (Refusal{Error::kInstanceImageCorrupt, "no valid entry"}));
}

// ---- The policy.
// ----------------------------------------------------------------------------------

TEST(Policy, Rules) {
  const Entry stored{.flags = 0,
                     .sequence = 4,
                     .rollback_index = 5,
                     .mode = Mode::kNormal,
                     .code_hash = hash_of(1),
                     .authority_hash = hash_of(0xa0)};
  Entry pinned = stored;
  pinned.flags = kFlagPinSoftware;

  auto d = decide(std::nullopt, measured(1, 0xa0, Mode::kDebug, 9), kFlagPinSoftware);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->verdict, Verdict::kNew);
  EXPECT_EQ(d->next, (Entry{.flags = kFlagPinSoftware,
                            .sequence = 1,
                            .rollback_index = 9,
                            .mode = Mode::kDebug,
                            .code_hash = hash_of(1),
                            .authority_hash = hash_of(0xa0)}));

  d = decide(stored, measured(1, 0xa0, Mode::kNormal, 5), kFlagPinSoftware);  // flags ignored
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->verdict, Verdict::kSame);
  EXPECT_EQ(d->next, stored);

  d = decide(stored, measured(2, 0xa0, Mode::kNormal, 5), 0);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->verdict, Verdict::kUpdate);
  EXPECT_TRUE(d->code_changed);
  EXPECT_FALSE(d->rollback_raised);
  EXPECT_EQ(d->next.sequence, 5u);
  EXPECT_EQ(d->next.code_hash, hash_of(2));

  d = decide(stored, measured(1, 0xa0, Mode::kNormal, 6), 0);
  EXPECT_EQ(d->verdict, Verdict::kUpdate);
  EXPECT_FALSE(d->code_changed);
  EXPECT_TRUE(d->rollback_raised);
  EXPECT_EQ(d->next.rollback_index, 6u);

  // Pinned: a raised rollback index with the same code is no software change.
  d = decide(pinned, measured(1, 0xa0, Mode::kNormal, 6), 0);
  EXPECT_EQ(d->verdict, Verdict::kUpdate);
  EXPECT_EQ(d->next.flags, kFlagPinSoftware);
  EXPECT_EQ(decide(pinned, measured(2, 0xa0, Mode::kNormal, 6), 0).error(),
            (Refusal{Error::kInstanceImageMismatch, "pinned software changed"}));

  // The order of the rules.
  EXPECT_EQ(decide(stored, measured(2, 0xb0, Mode::kDebug, 0), 0).error(),
            (Refusal{Error::kInstanceImageMismatch, "authority"}));
  EXPECT_EQ(decide(stored, measured(2, 0xa0, Mode::kDebug, 0), 0).error(),
            (Refusal{Error::kInstanceImageMismatch, "mode"}));
  EXPECT_EQ(decide(pinned, measured(2, 0xa0, Mode::kNormal, 4), 0).error(),
            (Refusal{Error::kRollback, "below stored"}));

  Entry last = stored;
  last.sequence = UINT64_MAX;
  EXPECT_EQ(decide(last, measured(2, 0xa0, Mode::kNormal, 5), 0).error(),
            (Refusal{Error::kInstanceImageCorrupt, "sequence exhausted"}));
  EXPECT_EQ(decide(last, measured(1, 0xa0, Mode::kNormal, 5), 0)->verdict, Verdict::kSame);
  EXPECT_EQ(decide(std::nullopt, measured(1), 2).error(),
            (Refusal{Error::kInvalidArgument, "create flags"}));
  EXPECT_EQ(decide(std::nullopt, measured(1, 0xa0, static_cast<Mode>(0)), 0).error(),
            (Refusal{Error::kInvalidArgument, "mode"}));
}

// ---- check_and_update end to end.
// -----------------------------------------------------------------

TEST(Lifecycle, NewSameUpdateAndRefusals) {
  FakeDisk d = formatted_disk(64);
  auto out = boot(d, measured(1, 0xa0, Mode::kNormal, 3));
  ASSERT_TRUE(out.has_value()) << to_string(out.error().error);
  EXPECT_EQ(out->verdict, Verdict::kNew);
  EXPECT_EQ(out->slot, Slot::kA);
  EXPECT_EQ(out->entry.sequence, 1u);
  EXPECT_FALSE(out->previous.has_value());
  EXPECT_EQ(out->partition, (Partition{.first_lba = 2048, .sectors = 64}));

  out = boot(d, measured(1, 0xa0, Mode::kNormal, 3));
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->verdict, Verdict::kSame);
  EXPECT_EQ(out->slot, Slot::kA);
  EXPECT_EQ(d.writes, 1);

  // Update forward: new code, same authority, same rollback index -> slot B.
  out = boot(d, measured(2, 0xa0, Mode::kNormal, 3));
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->verdict, Verdict::kUpdate);
  EXPECT_TRUE(out->code_changed);
  EXPECT_EQ(out->slot, Slot::kB);
  EXPECT_EQ(out->previous->code_hash, hash_of(1));
  EXPECT_EQ(out->entry.code_hash, hash_of(2));
  EXPECT_EQ(out->entry.sequence, 2u);

  // A higher rollback index with the same code -> slot A again.
  out = boot(d, measured(2, 0xa0, Mode::kNormal, 4));
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->verdict, Verdict::kUpdate);
  EXPECT_FALSE(out->code_changed);
  EXPECT_TRUE(out->rollback_raised);
  EXPECT_EQ(out->slot, Slot::kA);
  EXPECT_EQ(out->entry.sequence, 3u);
  EXPECT_EQ(out->slots[0].state, SlotState::kValid);
  EXPECT_EQ(out->slots[1].state, SlotState::kValid);

  const int writes = d.writes;
  EXPECT_EQ(refusal_of(boot(d, measured(2, 0xb0, Mode::kNormal, 4))),
            (Refusal{Error::kInstanceImageMismatch, "authority"}));
  EXPECT_EQ(refusal_of(boot(d, measured(2, 0xa0, Mode::kDebug, 4))),
            (Refusal{Error::kInstanceImageMismatch, "mode"}));
  EXPECT_EQ(refusal_of(boot(d, measured(2, 0xa0, Mode::kNormal, 3))),
            (Refusal{Error::kRollback, "below stored"}));
  // The old software, now below the stored rollback index.
  EXPECT_EQ(refusal_of(boot(d, measured(1, 0xa0, Mode::kNormal, 3))).error, Error::kRollback);
  EXPECT_EQ(d.writes, writes);  // refusals write nothing
  out = boot(d, measured(2, 0xa0, Mode::kNormal, 4));
  EXPECT_EQ(out->verdict, Verdict::kSame);
  EXPECT_EQ(out->entry.sequence, 3u);
}

TEST(Lifecycle, PinnedSoftware) {
  FakeDisk d = formatted_disk(64);
  ASSERT_EQ(boot(d, measured(1), kFlagPinSoftware)->verdict, Verdict::kNew);
  EXPECT_EQ(refusal_of(boot(d, measured(2))),
            (Refusal{Error::kInstanceImageMismatch, "pinned software changed"}));
  // The host cannot relax it later: create flags matter at creation only.
  EXPECT_EQ(refusal_of(boot(d, measured(2), 0)).detail, "pinned software changed");
  auto same = boot(d, measured(1));
  ASSERT_TRUE(same.has_value());
  EXPECT_EQ(same->verdict, Verdict::kSame);
  EXPECT_TRUE(same->entry.pinned());
  // And an unpinned instance is not pinned by a later flag.
  FakeDisk e = formatted_disk(64);
  ASSERT_EQ(boot(e, measured(1), 0)->verdict, Verdict::kNew);
  EXPECT_EQ(boot(e, measured(2), kFlagPinSoftware)->verdict, Verdict::kUpdate);
}

TEST(Lifecycle, TornWriteIsBeforeOrAfter) {
  for (size_t torn :
       {size_t{0}, size_t{30}, size_t{100}, size_t{211}, size_t{300}, size_t{512}, size_t{2048}}) {
    SCOPED_TRACE(torn);
    FakeDisk d = formatted_disk(64);
    ASSERT_EQ(boot(d, measured(1))->verdict, Verdict::kNew);     // sequence 1 in A
    ASSERT_EQ(boot(d, measured(2))->verdict, Verdict::kUpdate);  // sequence 2 in B
    // The third write (sequence 3, code 3, to A) is cut short.
    d.torn_bytes = torn;
    EXPECT_EQ(refusal_of(boot(d, measured(3))).error, Error::kWriteFailed);
    Key key;
    ASSERT_TRUE(derive_key(kCdiSeal, key).has_value());
    auto stored =
        read_entries(d.device(), {.first_lba = 2048, .sectors = 64}, key.span(), kInstanceHash);
    ASSERT_TRUE(stored.has_value());
    if (torn == 0) {
      // Nothing landed: as before, A still holding sequence 1.
      EXPECT_EQ(stored->slots[0].state, SlotState::kValid);
      EXPECT_EQ(stored->slot, Slot::kB);
      EXPECT_EQ(stored->current->sequence, 2u);
    } else if (torn < 512) {
      // The sector holding the entry garbled: as before, B current.
      EXPECT_EQ(stored->slots[0].state, SlotState::kInvalid);
      EXPECT_EQ(stored->slot, Slot::kB);
      EXPECT_EQ(stored->current->sequence, 2u);
      EXPECT_EQ(stored->current->code_hash, hash_of(2));
    } else {
      // The entry's sector landed whole: as after.
      EXPECT_EQ(stored->slot, Slot::kA);
      EXPECT_EQ(stored->current->sequence, 3u);
    }
    // The old software still boots when the write did not happen; the new
    // one boots either way and ends at sequence 3.
    if (stored->current->sequence == 2) EXPECT_EQ(boot(d, measured(2))->verdict, Verdict::kSame);
    auto out = boot(d, measured(3));
    ASSERT_TRUE(out.has_value());
    EXPECT_EQ(out->entry.sequence, 3u);
    EXPECT_EQ(out->entry.code_hash, hash_of(3));
    EXPECT_EQ(out->slot, Slot::kA);
  }
}

TEST(Lifecycle, TornFirstWrite) {
  // A torn first write leaves one slot invalid and the other empty: refused,
  // never taken for a new instance again.
  FakeDisk d = formatted_disk(64);
  d.torn_bytes = 100;
  EXPECT_EQ(refusal_of(boot(d, measured(1))).error, Error::kWriteFailed);
  EXPECT_EQ(refusal_of(boot(d, measured(1))),
            (Refusal{Error::kInstanceImageCorrupt, "no valid entry"}));
  // A cut before any byte landed is the disk as before: a new instance.
  FakeDisk e = formatted_disk(64);
  e.fail_writes = true;
  EXPECT_EQ(refusal_of(boot(e, measured(1))), (Refusal{Error::kWriteFailed, "instance slot"}));
  e.fail_writes = false;
  EXPECT_EQ(boot(e, measured(1))->verdict, Verdict::kNew);
}

TEST(Lifecycle, CorruptedSlots) {
  FakeDisk d = formatted_disk(64);
  ASSERT_EQ(boot(d, measured(1))->verdict, Verdict::kNew);
  ASSERT_EQ(boot(d, measured(2))->verdict, Verdict::kUpdate);
  // B (current) damaged: A, the older entry, is current again.
  FakeDisk one = d;
  slot_bytes(one, Slot::kB, 2048)[50] ^= std::byte{1};
  auto out = boot(one, measured(1));
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->verdict, Verdict::kSame);
  EXPECT_EQ(out->slot, Slot::kA);
  EXPECT_EQ(out->slots[1], (SlotStatus{SlotState::kInvalid, "does not open"}));
  // Both damaged.
  FakeDisk both = d;
  slot_bytes(both, Slot::kA, 2048)[50] ^= std::byte{1};
  slot_bytes(both, Slot::kB, 2048)[0] ^= std::byte{1};
  EXPECT_EQ(refusal_of(boot(both, measured(2))),
            (Refusal{Error::kInstanceImageCorrupt, "no valid entry"}));
  auto seen = inspect(both.device());
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->slots[0].state, SlotState::kSealed);
  EXPECT_EQ(seen->slots[1], (SlotStatus{SlotState::kInvalid, "entry UUID"}));
}

TEST(Lifecycle, EqualSequences) {
  FakeDisk d = formatted_disk(64);
  Key key;
  ASSERT_TRUE(derive_key(kCdiSeal, key).has_value());
  const Partition p{.first_lba = 2048, .sectors = 64};
  const Entry e{.flags = 0,
                .sequence = 1,
                .rollback_index = 3,
                .mode = Mode::kNormal,
                .code_hash = hash_of(1),
                .authority_hash = hash_of(0xa0)};
  ASSERT_TRUE(write_entry(d.device(), p, key.span(), kInstanceHash, Slot::kA, e, counting_random));
  ASSERT_TRUE(write_entry(d.device(), p, key.span(), kInstanceHash, Slot::kB, e, counting_random));
  EXPECT_EQ(refusal_of(boot(d, measured(1))),
            (Refusal{Error::kInstanceImageCorrupt, "equal sequences"}));
}

TEST(Lifecycle, SlotCopiedOverTheOther) {
  FakeDisk d = formatted_disk(64);
  ASSERT_EQ(boot(d, measured(1))->verdict, Verdict::kNew);
  // A (the only entry) copied over B: the copy does not open in B, ignored.
  FakeDisk a_to_b = d;
  std::ranges::copy(slot_bytes(a_to_b, Slot::kA, 2048), slot_bytes(a_to_b, Slot::kB, 2048).begin());
  auto out = boot(a_to_b, measured(1));
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->verdict, Verdict::kSame);
  EXPECT_EQ(out->slot, Slot::kA);
  EXPECT_EQ(out->slots[1], (SlotStatus{SlotState::kInvalid, "does not open"}));

  // After an update (B current), B copied over A: A does not open, B stays current.
  ASSERT_EQ(boot(d, measured(2))->verdict, Verdict::kUpdate);
  FakeDisk b_to_a = d;
  std::ranges::copy(slot_bytes(b_to_a, Slot::kB, 2048), slot_bytes(b_to_a, Slot::kA, 2048).begin());
  out = boot(b_to_a, measured(2));
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->slot, Slot::kB);
  EXPECT_EQ(out->entry.sequence, 2u);
  // Both slots holding one entry's bytes is never "equal sequences": one never opens.
  EXPECT_EQ(out->slots[0].state, SlotState::kInvalid);
}

TEST(Lifecycle, AnotherInstanceOrAnotherKey) {
  FakeDisk d = formatted_disk(64);
  ASSERT_EQ(boot(d, measured(1))->verdict, Verdict::kNew);
  EXPECT_EQ(refusal_of(boot(d, measured(1), 0, kCdiSeal, hash_of(0x12))),
            (Refusal{Error::kInstanceImageCorrupt, "no valid entry"}));
  EXPECT_EQ(refusal_of(boot(d, measured(1), 0, cdi(2), kInstanceHash)),
            (Refusal{Error::kInstanceImageCorrupt, "no valid entry"}));
  EXPECT_EQ(boot(d, measured(1))->verdict, Verdict::kSame);
}

TEST(Lifecycle, DeviceFailures) {
  FakeDisk d = formatted_disk(64);
  ASSERT_EQ(boot(d, measured(1))->verdict, Verdict::kNew);
  for (uint64_t lba :
       {uint64_t{2048}, uint64_t{2049}, uint64_t{2056}, uint64_t{2057}, uint64_t{2064}}) {
    SCOPED_TRACE(lba);
    FakeDisk f = d;
    f.fail_read_lba = lba;
    auto r = refusal_of(boot(f, measured(1)));
    EXPECT_EQ(r.error, Error::kReadFailed);
  }
  FakeDisk f = d;
  f.fail_writes = true;
  EXPECT_EQ(refusal_of(boot(f, measured(2))), (Refusal{Error::kWriteFailed, "instance slot"}));
  EXPECT_EQ(boot(f, measured(1))->verdict, Verdict::kSame);  // nothing lost

  // A write the device accepts but does not keep; a device that cannot write.
  FakeDisk g = d;
  BlockDevice dev = g.device();
  dev.write = [](void*, uint64_t, std::span<const std::byte>) { return true; };
  EXPECT_EQ(check_and_update(dev, kCdiSeal, kInstanceHash, measured(2), 0, counting_random).error(),
            (Refusal{Error::kWriteFailed, "read back"}));
  dev.write = nullptr;
  EXPECT_EQ(check_and_update(dev, kCdiSeal, kInstanceHash, measured(2), 0, counting_random).error(),
            (Refusal{Error::kWriteFailed, "instance slot"}));
  EXPECT_EQ(
      check_and_update(dev, kCdiSeal, kInstanceHash, measured(1), 0, counting_random)->verdict,
      Verdict::kSame);  // a read-only device serves boots that write nothing
  EXPECT_EQ(
      check_and_update(d.device(), kCdiSeal, kInstanceHash, measured(2), 0, failing_random).error(),
      (Refusal{Error::kRandomFailed, "nonce"}));
  EXPECT_EQ(check_and_update(d.device(), kCdiSeal, kInstanceHash, measured(2), 0, nullptr).error(),
            (Refusal{Error::kInvalidArgument, "fill_random"}));
  EXPECT_EQ(boot(d, measured(1))->verdict, Verdict::kSame);
}

TEST(Errors, StableNames) {
  EXPECT_EQ(to_string(Error::kNoGpt), "NO_GPT");
  EXPECT_EQ(to_string(Error::kBadGptHeader), "BAD_GPT_HEADER");
  EXPECT_EQ(to_string(Error::kBadGptCrc), "BAD_GPT_CRC");
  EXPECT_EQ(to_string(Error::kBadPartitionEntries), "BAD_PARTITION_ENTRIES");
  EXPECT_EQ(to_string(Error::kNoInstancePartition), "NO_INSTANCE_PARTITION");
  EXPECT_EQ(to_string(Error::kDuplicateInstancePartition), "DUPLICATE_INSTANCE_PARTITION");
  EXPECT_EQ(to_string(Error::kPartitionOutOfRange), "PARTITION_OUT_OF_RANGE");
  EXPECT_EQ(to_string(Error::kInstanceImageInvalid), "INSTANCE_IMAGE_INVALID");
  EXPECT_EQ(to_string(Error::kInstanceImageCorrupt), "INSTANCE_IMAGE_CORRUPT");
  EXPECT_EQ(to_string(Error::kInstanceImageMismatch), "INSTANCE_IMAGE_MISMATCH");
  EXPECT_EQ(to_string(Error::kRollback), "ROLLBACK");
  EXPECT_EQ(to_string(Error::kReadFailed), "READ_FAILED");
  EXPECT_EQ(to_string(Error::kWriteFailed), "WRITE_FAILED");
  EXPECT_EQ(to_string(Error::kInvalidArgument), "INVALID_ARGUMENT");
  EXPECT_EQ(to_string(Error::kCryptoFailure), "CRYPTO_FAILURE");
  EXPECT_EQ(to_string(Error::kRandomFailed), "RANDOM_FAILED");
  EXPECT_EQ(to_string(Verdict::kUpdate), "update");
  EXPECT_EQ(to_string(Slot::kB), "B");
  EXPECT_EQ(to_string(SlotState::kSealed), "sealed");
  EXPECT_EQ(to_string(Mode::kDebug), "debug");
}

}  // namespace
}  // namespace instance

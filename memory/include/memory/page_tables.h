// Stage-1 translation tables for the firmware's identity map (EL1&0 regime).
//
// 4 KiB granule, 39-bit VA (TCR_EL1.T0SZ = 25), so the walk starts at level 1:
// level-1 entries cover 1 GiB, level-2 entries 2 MiB, level-3 pages 4 KiB.
// Descriptor formats: Arm ARM (DDI 0487) D8.3 "Translation table descriptor
// formats"; memory attributes index MAIR_EL1 (see kMair below).
//
// The builder is plain C++ over a caller-provided pool of tables, so it runs on
// the host under unit tests exactly as in the firmware. In the firmware it runs
// with the MMU off: it only does aligned 64-bit stores and never calls memset.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <span>

namespace memory {

inline constexpr uint64_t kPageSize = 4096;
inline constexpr unsigned kVaBits = 39;
inline constexpr size_t kEntriesPerTable = 512;

// What a mapping may be used for. Every kind is either writable or executable,
// never both (W^X); everything but code is execute-never at EL1 and EL0.
enum class Attr : uint8_t {
  kCode,      // normal WB memory, read-only, executable at EL1
  kReadOnly,  // normal WB memory, read-only, execute-never
  kData,      // normal WB memory, read-write, execute-never
  kDevice,    // Device-nGnRE, read-write, execute-never
};

enum class Error : uint8_t {
  kMisaligned,    // address or size not a multiple of 4 KiB, or size 0
  kOutOfRange,    // outside the 39-bit input address space, or wraps
  kOverlap,       // part of the range is already mapped
  kOutOfTables,   // the pool has no free table left
};
const char* to_string(Error e);

// MAIR_EL1 value the descriptors assume: index 0 Device-nGnRE (0x04),
// index 1 Normal inner/outer write-back read/write-allocate (0xff).
inline constexpr uint64_t kMair = 0xff04;
inline constexpr unsigned kMairDevice = 0;
inline constexpr unsigned kMairNormal = 1;

// Descriptor bits (Arm ARM D8.3.1, D8.3.2).
namespace desc {
inline constexpr uint64_t kValid = 1ull << 0;
inline constexpr uint64_t kTable = 1ull << 1;  // table (levels 1-2) or page (level 3)
inline constexpr uint64_t kAttrIndxShift = 2;
inline constexpr uint64_t kApReadOnly = 1ull << 7;  // AP[2]
inline constexpr uint64_t kShInner = 3ull << 8;
inline constexpr uint64_t kAf = 1ull << 10;
inline constexpr uint64_t kPxn = 1ull << 53;
inline constexpr uint64_t kUxn = 1ull << 54;
inline constexpr uint64_t kAddrMask = 0x0000'ffff'ffff'f000ull;
}  // namespace desc

// The leaf descriptor attributes (everything but the output address) for `attr`.
uint64_t leaf_attributes(Attr attr);

struct alignas(kPageSize) Table {
  std::array<uint64_t, kEntriesPerTable> entry;
};

class PageTables {
 public:
  // `pool[0]` becomes the level-1 root. Tables are zeroed as they are taken.
  explicit PageTables(std::span<Table> pool);

  // Identity-maps [addr, addr + size) with `attr`, using 1 GiB and 2 MiB
  // blocks where the range allows. Fails without side effects on bad input;
  // on kOverlap / kOutOfTables earlier parts of the range may stay mapped.
  [[nodiscard]] std::expected<void, Error> map(uint64_t addr, uint64_t size, Attr attr);

  // The value for TTBR0_EL1 (the root table's address; identity mapped).
  uint64_t root() const;
  size_t tables_used() const { return used_; }

  // Software walk, as the MMU would do it: the leaf descriptor for `va`, or 0.
  uint64_t lookup(uint64_t va) const;

 private:
  Table* take_table();
  std::expected<void, Error> map_level(Table& t, unsigned level, uint64_t addr, uint64_t size,
                                       uint64_t attrs);

  std::span<Table> pool_;
  size_t used_ = 0;
};

}  // namespace memory

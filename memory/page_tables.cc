#include "memory/page_tables.h"

namespace memory {
namespace {

// Bytes covered by one entry at `level` (level 1: 1 GiB, 2: 2 MiB, 3: 4 KiB).
constexpr uint64_t entry_span(unsigned level) { return 1ull << (12 + 9 * (3 - level)); }

constexpr size_t entry_index(uint64_t va, unsigned level) {
  return static_cast<size_t>((va >> (12 + 9 * (3 - level))) & (kEntriesPerTable - 1));
}

// Tables are identity mapped: a table's address is its output address.
uint64_t table_address(const Table* t) { return reinterpret_cast<uintptr_t>(t); }
Table* table_at(uint64_t desc) {
  return reinterpret_cast<Table*>(static_cast<uintptr_t>(desc & desc::kAddrMask));
}

}  // namespace

const char* to_string(Error e) {
  switch (e) {
    case Error::kMisaligned:
      return "misaligned range";
    case Error::kOutOfRange:
      return "range outside the address space";
    case Error::kOverlap:
      return "range already mapped";
    case Error::kOutOfTables:
      return "out of page tables";
  }
  return "unknown";
}

uint64_t leaf_attributes(Attr attr) {
  const uint64_t normal = (uint64_t{kMairNormal} << desc::kAttrIndxShift) | desc::kShInner | desc::kAf;
  const uint64_t xn = desc::kPxn | desc::kUxn;
  switch (attr) {
    case Attr::kCode:
      return normal | desc::kApReadOnly | desc::kUxn;
    case Attr::kReadOnly:
      return normal | desc::kApReadOnly | xn;
    case Attr::kData:
      return normal | xn;
    case Attr::kDevice:
      return (uint64_t{kMairDevice} << desc::kAttrIndxShift) | desc::kAf | xn;
  }
  return 0;
}

PageTables::PageTables(std::span<Table> pool) : pool_(pool) { (void)take_table(); }

Table* PageTables::take_table() {
  if (used_ >= pool_.size()) return nullptr;
  Table* t = &pool_[used_++];
  // A plain loop, not fill()/memset: this runs with the MMU off in the firmware.
  for (size_t i = 0; i < kEntriesPerTable; ++i) t->entry[i] = 0;
  return t;
}

uint64_t PageTables::root() const { return pool_.empty() ? 0 : table_address(&pool_[0]); }

std::expected<void, Error> PageTables::map(uint64_t addr, uint64_t size, Attr attr) {
  if (size == 0 || addr % kPageSize != 0 || size % kPageSize != 0) {
    return std::unexpected(Error::kMisaligned);
  }
  const uint64_t limit = 1ull << kVaBits;
  if (addr >= limit || size > limit - addr) return std::unexpected(Error::kOutOfRange);
  if (used_ == 0) return std::unexpected(Error::kOutOfTables);
  return map_level(pool_[0], 1, addr, size, leaf_attributes(attr));
}

std::expected<void, Error> PageTables::map_level(Table& t, unsigned level, uint64_t addr,
                                                 uint64_t size, uint64_t attrs) {
  const uint64_t span = entry_span(level);
  while (size != 0) {
    const uint64_t entry_base = addr & ~(span - 1);
    const uint64_t chunk = entry_base + span - addr < size ? entry_base + span - addr : size;
    uint64_t& e = t.entry[entry_index(addr, level)];
    const bool whole = addr == entry_base && chunk == span;
    if (level == 3) {
      if (e & desc::kValid) return std::unexpected(Error::kOverlap);
      e = addr | attrs | desc::kValid | desc::kTable;
    } else if (whole && !(e & desc::kValid)) {
      e = addr | attrs | desc::kValid;  // block
    } else {
      if ((e & desc::kValid) && !(e & desc::kTable)) return std::unexpected(Error::kOverlap);
      if (!(e & desc::kValid)) {
        Table* next = take_table();
        if (next == nullptr) return std::unexpected(Error::kOutOfTables);
        e = table_address(next) | desc::kValid | desc::kTable;
      }
      auto r = map_level(*table_at(e), level + 1, addr, chunk, attrs);
      if (!r) return r;
    }
    addr += chunk;
    size -= chunk;
  }
  return {};
}

uint64_t PageTables::lookup(uint64_t va) const {
  if (used_ == 0 || va >= (1ull << kVaBits)) return 0;
  const Table* t = &pool_[0];
  for (unsigned level = 1; level <= 3; ++level) {
    uint64_t e = t->entry[entry_index(va, level)];
    if (!(e & desc::kValid)) return 0;
    if (level == 3 || !(e & desc::kTable)) return e;
    t = table_at(e);
  }
  return 0;
}

}  // namespace memory

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

// What an Attr allows, before it is encoded for a regime.
struct Access {
  bool device, write, exec;
};
constexpr Access access_of(Attr attr) {
  switch (attr) {
    case Attr::kCode:
      return {false, false, true};
    case Attr::kReadOnly:
      return {false, false, false};
    case Attr::kData:
      return {false, true, false};
    case Attr::kDevice:
      return {true, true, false};
    case Attr::kGuestRam:
      return {false, true, true};
  }
  return {true, false, false};
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
    case Error::kBadAttr:
      return "attribute not allowed in this translation regime";
    case Error::kNotMapped:
      return "page not mapped";
    case Error::kMappedByBlock:
      return "page mapped by a block";
  }
  return "unknown";
}

std::expected<uint64_t, Error> leaf_attributes(Regime regime, Attr attr) {
  const Access a = access_of(attr);
  if (regime == Regime::kStage2) {
    const uint64_t mem = a.device
                             ? desc::kMemAttrDeviceNgnre << desc::kMemAttrShift
                             : (desc::kMemAttrNormalWb << desc::kMemAttrShift) | desc::kShInner;
    return mem | desc::kAf | desc::kS2apRead | (a.write ? desc::kS2apWrite : 0) |
           (a.exec ? 0 : desc::kS2XnNever);
  }
  // Stage 1: W^X for every mapping.
  if (a.write && a.exec) return std::unexpected(Error::kBadAttr);
  const uint64_t mem = a.device ? uint64_t{kMairDevice} << desc::kAttrIndxShift
                                : (uint64_t{kMairNormal} << desc::kAttrIndxShift) | desc::kShInner;
  const uint64_t ap = a.write ? 0 : desc::kApReadOnly;
  if (regime == Regime::kEl2Stage1) {
    return mem | desc::kAf | ap | desc::kApRes1 | (a.exec ? 0 : desc::kXn);
  }
  // EL1&0: executable code is still execute-never at EL0.
  return mem | desc::kAf | ap | desc::kUxn | (a.exec ? 0 : desc::kPxn);
}

PageTables::PageTables(std::span<Table> pool, Regime regime) : pool_(pool), regime_(regime) {
  (void)take_table();
}

Table* PageTables::take_table() {
  if (used_ >= pool_.size()) return nullptr;
  Table* t = &pool_[used_++];
  // A plain loop, not fill()/memset: this runs with the MMU off in the firmware.
  for (size_t i = 0; i < kEntriesPerTable; ++i) t->entry[i] = 0;
  return t;
}

uint64_t PageTables::root() const { return pool_.empty() ? 0 : table_address(&pool_[0]); }

std::expected<void, Error> PageTables::map(uint64_t addr, uint64_t size, Attr attr) {
  return map_to(addr, addr, size, attr);
}

std::expected<void, Error> PageTables::map_to(uint64_t input_addr, uint64_t output_addr,
                                              uint64_t size, Attr attr) {
  if (size == 0 || input_addr % kPageSize != 0 || output_addr % kPageSize != 0 ||
      size % kPageSize != 0) {
    return std::unexpected(Error::kMisaligned);
  }
  const uint64_t in_limit = 1ull << kVaBits, out_limit = 1ull << kOutputAddressBits;
  if (input_addr >= in_limit || size > in_limit - input_addr || output_addr >= out_limit ||
      size > out_limit - output_addr) {
    return std::unexpected(Error::kOutOfRange);
  }
  auto attrs = leaf_attributes(regime_, attr);
  if (!attrs) return std::unexpected(attrs.error());
  if (used_ == 0) return std::unexpected(Error::kOutOfTables);
  return map_level(pool_[0], 1, input_addr, output_addr, size, *attrs);
}

std::expected<void, Error> PageTables::map_level(Table& t, unsigned level, uint64_t in,
                                                 uint64_t out, uint64_t size, uint64_t attrs) {
  const uint64_t span = entry_span(level);
  while (size != 0) {
    const uint64_t entry_base = in & ~(span - 1);
    const uint64_t chunk = entry_base + span - in < size ? entry_base + span - in : size;
    uint64_t& e = t.entry[entry_index(in, level)];
    // A block needs its input and its output address aligned to its size.
    const bool whole = in == entry_base && chunk == span && (out & (span - 1)) == 0;
    if (level == 3) {
      if (e & desc::kValid) return std::unexpected(Error::kOverlap);
      e = out | attrs | desc::kValid | desc::kTable;
    } else if (whole && !(e & desc::kValid)) {
      e = out | attrs | desc::kValid;  // block
    } else {
      if ((e & desc::kValid) && !(e & desc::kTable)) return std::unexpected(Error::kOverlap);
      if (!(e & desc::kValid)) {
        Table* next = take_table();
        if (next == nullptr) return std::unexpected(Error::kOutOfTables);
        e = table_address(next) | desc::kValid | desc::kTable;
      }
      auto r = map_level(*table_at(e), level + 1, in, out, chunk, attrs);
      if (!r) return r;
    }
    in += chunk;
    out += chunk;
    size -= chunk;
  }
  return {};
}

PageTables::Walk PageTables::walk(uint64_t input_addr) const {
  if (used_ == 0 || input_addr >= (1ull << kVaBits)) return {nullptr, 0};
  Table* t = &pool_[0];
  for (unsigned level = 1;; ++level) {
    uint64_t* e = &t->entry[entry_index(input_addr, level)];
    if (level == 3 || !(*e & desc::kValid) || !(*e & desc::kTable)) return {e, level};
    t = table_at(*e);
  }
}

uint64_t PageTables::lookup(uint64_t input_addr) const {
  const Walk w = walk(input_addr);
  return w.entry != nullptr && (*w.entry & desc::kValid) ? *w.entry : 0;
}

std::optional<uint64_t> PageTables::translate(uint64_t input_addr) const {
  const Walk w = walk(input_addr);
  if (w.entry == nullptr || !(*w.entry & desc::kValid)) return std::nullopt;
  const uint64_t offset_mask = entry_span(w.level) - 1;
  return (*w.entry & desc::kAddrMask & ~offset_mask) | (input_addr & offset_mask);
}

std::expected<void, Error> PageTables::unmap_page(uint64_t addr) {
  if (addr % kPageSize != 0) return std::unexpected(Error::kMisaligned);
  if (addr >= (1ull << kVaBits)) return std::unexpected(Error::kOutOfRange);
  const Walk w = walk(addr);
  if (w.entry == nullptr || !(*w.entry & desc::kValid)) {
    return std::unexpected(Error::kNotMapped);
  }
  if (w.level != 3) return std::unexpected(Error::kMappedByBlock);
  *w.entry = 0;  // one aligned 64-bit store: the walker never sees half an entry
  return {};
}

}  // namespace memory

// Address ranges with overflow-checked ends. Used for every region the firmware
// reasons about (RAM, DT, kernel, initrd, its own image).
#pragma once

#include <cstdint>
#include <optional>

namespace base {

struct Range {
  uint64_t base = 0;
  uint64_t size = 0;

  // [base, base + size) as a Range, or nothing when the end would wrap.
  static constexpr std::optional<Range> make(uint64_t base, uint64_t size) {
    if (size > UINT64_MAX - base) return std::nullopt;
    return Range{base, size};
  }
  // [start, end) as a Range, or nothing when end < start.
  static constexpr std::optional<Range> from_bounds(uint64_t start, uint64_t end) {
    if (end < start) return std::nullopt;
    return Range{start, end - start};
  }
  constexpr uint64_t end() const { return base + size; }  // valid by construction
  constexpr bool empty() const { return size == 0; }
  constexpr bool contains(const Range& o) const {
    return o.base >= base && o.end() <= end();
  }
  constexpr bool overlaps(const Range& o) const {
    return !empty() && !o.empty() && o.base < end() && base < o.end();
  }
};

// [base, end) widened to whole 4 KiB pages: what mapping or reserving the
// range really covers. A range ending in the last page of the address space
// is clamped there (nothing this project maps lies that high).
constexpr Range page_span(const Range& r) {
  constexpr uint64_t kPage = 4096;
  const uint64_t start = r.base & ~(kPage - 1);
  const uint64_t end = r.end() > UINT64_MAX - (kPage - 1) ? UINT64_MAX & ~(kPage - 1)
                                                          : (r.end() + kPage - 1) & ~(kPage - 1);
  return Range{start, end - start};
}

}  // namespace base

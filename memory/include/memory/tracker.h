// The firmware's least-privilege bookkeeping: what each part of guest RAM is
// for, which MMIO granules the hypervisor was asked to guard-map, and which
// RAM is shared with the host.
//
// The tracker only records; it never calls the hypervisor. The caller makes
// the call (hvc::mmio_guard_map, hvc::mem_share, ...) and, when it succeeded,
// records it here; before undoing a call it checks the record, and afterwards
// forgets it. Hypercalls: docs/abi.md (the pKVM memory
// protection calls).
//
// Callers may rely on:
//   - every region lies inside RAM and no two regions share a byte (ranges that
//     only touch are fine);
//   - no shared range ever overlaps a region whose kind is never_shared(), in
//     whichever order the two were recorded;
//   - every guard-mapped granule is 4 KiB aligned and outside RAM; no granule
//     or shared range is recorded twice;
//   - a refused call changes nothing.
// Fixed capacity, no heap, no exceptions: usable in the firmware (MMU on) and
// unit-tested on the host. Not thread-safe (the firmware runs on one CPU).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>

#include "base/range.h"
#include "memory/page_tables.h"

namespace memory {

// What a claimed region of guest RAM is for. to_string gives lower-case words
// ("device tree"), stable, for the detail part of a boot failure line.
enum class Kind : uint8_t {
  kFirmware,    // "firmware": pvmfw's own image, stack, heap, page tables (the parts in RAM)
  kDeviceTree,  // "device tree": the tree handed to the kernel
  kKernel,      // "kernel": the verified kernel image
  kInitrd,      // "initrd": the verified initrd
  kConfig,      // "config": the config blob window (previous stage's secrets)
  kHandover,    // "handover": the page holding the VM's DICE handover
  kScratch,     // "scratch": anything else pvmfw uses; may be shared with the host
};
const char* to_string(Kind k);

// Secrets and verified payload: a region of such a kind and a range shared
// with the host never overlap. Every kind but kScratch.
constexpr bool never_shared(Kind k) { return k != Kind::kScratch; }

// Why the tracker refused. to_string gives the UPPER_SNAKE name in the
// comment, stable, for the reason part of a boot failure line.
enum class TrackerError : uint8_t {
  kBadGranule,     // BAD_GRANULE: the sharing granule is not a power of two >= 4 KiB
  kBadRam,         // BAD_RAM: RAM is empty, wraps, or is not granule-aligned
  kEmpty,          // EMPTY_RANGE: size 0
  kWraps,          // RANGE_WRAPS: the range (or MMIO granule) ends beyond 2^64
  kMisaligned,     // MISALIGNED: base or size not a multiple of the granule
  kOutsideRam,     // OUTSIDE_RAM: not entirely inside RAM
  kInRam,          // MMIO_IN_RAM: an MMIO granule inside RAM
  kOverlap,        // OVERLAP: overlaps a claimed region (Refusal::other says which)
  kNeverShared,    // NEVER_SHARED: sharing would expose a region of a never_shared() kind
  kShared,         // SHARED: overlaps a range already shared with the host
  kAlreadyMapped,  // ALREADY_MAPPED: the MMIO granule is already recorded
  kNotFound,       // NOT_FOUND: unmap/unshare of something not recorded
  kFull,           // FULL: no free slot left
};
const char* to_string(TrackerError e);

struct Refusal {
  TrackerError error;
  // The kind of the region in the way: set for kOverlap (the first region
  // claimed that overlaps) and kNeverShared (the first such region), else empty.
  std::optional<Kind> other;
};

struct Region {
  Kind kind;
  base::Range range;
};

class Tracker {
 public:
  static constexpr size_t kMaxRegions = 16;
  static constexpr size_t kMaxMmio = 16;
  static constexpr size_t kMaxShared = 16;
  // MMIO guard granules are 4 KiB (MMIO_GUARD_INFO); fixed, unlike the sharing
  // granule.
  static constexpr uint64_t kMmioGranule = kPageSize;

  // A tracker for guest RAM `ram` whose shares use `granule` bytes (the
  // HYP_MEMINFO answer; 4 KiB on pKVM). Refuses kBadGranule, then kBadRam.
  [[nodiscard]] static std::expected<Tracker, Refusal> create(base::Range ram,
                                                              uint64_t granule = kPageSize);

  base::Range ram() const { return ram_; }
  uint64_t granule() const { return granule_; }

  // --- Regions of RAM ---
  // Claims `r` for `kind`. Any kind may be claimed more than once (e.g. the
  // firmware's image and its stack). No alignment is required. Refuses, in
  // this order: kEmpty, kWraps, kOutsideRam, kOverlap (+ other), kShared (only
  // for a never_shared() kind), kFull.
  [[nodiscard]] std::expected<void, Refusal> add(Kind kind, base::Range r);
  // The first region claimed for `kind`, or nothing.
  std::optional<base::Range> find(Kind kind) const;
  // Every region, in the order claimed.
  std::span<const Region> regions() const { return {regions_.data(), n_regions_}; }

  // --- MMIO guard (record after hvc::mmio_guard_map succeeded) ---
  // Records the 4 KiB granule at `ipa`. Refuses, in this order: kMisaligned,
  // kWraps (the last page of the 64-bit space), kInRam, kAlreadyMapped, kFull.
  [[nodiscard]] std::expected<void, Refusal> map_mmio(uint64_t ipa);
  // Forgets the granule at `ipa` (after hvc::mmio_guard_unmap). kNotFound if
  // it is not recorded.
  [[nodiscard]] std::expected<void, Refusal> unmap_mmio(uint64_t ipa);
  // Every recorded granule, in the order mapped.
  std::span<const uint64_t> mmio() const { return {mmio_.data(), n_mmio_}; }
  // Calls `unmap(ipa)` (returning true on success) for every recorded granule,
  // newest first, and forgets each one that succeeded. Tries them all even
  // after a failure; the failed ones stay recorded, in order. Returns the first
  // IPA whose unmap failed. `unmap` must not modify the tracker.
  template <class F>
  [[nodiscard]] std::expected<void, uint64_t> release_all_mmio(F&& unmap);

  // --- Memory shared with the host (record after hvc::mem_share of every granule) ---
  // Records `r` as shared. Refuses, in this order: kEmpty, kWraps, kMisaligned
  // (base or size not a multiple of granule()), kOutsideRam, kNeverShared
  // (+ other), kShared (overlaps a recorded share), kFull.
  [[nodiscard]] std::expected<void, Refusal> share(base::Range r);
  // Forgets the share `r` (after hvc::mem_unshare of every granule). `r` must
  // equal a recorded share exactly (no partial unshare); else kNotFound.
  [[nodiscard]] std::expected<void, Refusal> unshare(base::Range r);
  // Every recorded share, in the order shared.
  std::span<const base::Range> shared() const { return {shared_.data(), n_shared_}; }
  // As release_all_mmio: `unshare(range)` is called once per recorded range
  // (the caller unshares each granule of it), newest first. Returns the first
  // range whose unshare failed.
  template <class F>
  [[nodiscard]] std::expected<void, base::Range> release_all_shared(F&& unshare);

  // Nothing guard-mapped and nothing shared: what the hand-off asserts.
  bool clean() const { return n_mmio_ == 0 && n_shared_ == 0; }

 private:
  Tracker(base::Range ram, uint64_t granule) : ram_(ram), granule_(granule) {}

  void forget_mmio_at(size_t i);
  void forget_shared_at(size_t i);

  base::Range ram_;
  uint64_t granule_;
  std::array<Region, kMaxRegions> regions_{};
  std::array<uint64_t, kMaxMmio> mmio_{};
  std::array<base::Range, kMaxShared> shared_{};
  size_t n_regions_ = 0;
  size_t n_mmio_ = 0;
  size_t n_shared_ = 0;
};

template <class F>
std::expected<void, uint64_t> Tracker::release_all_mmio(F&& unmap) {
  std::optional<uint64_t> first_failure;
  for (size_t i = n_mmio_; i-- > 0;) {
    const uint64_t ipa = mmio_[i];
    if (unmap(ipa)) {
      forget_mmio_at(i);
    } else if (!first_failure) {
      first_failure = ipa;
    }
  }
  if (first_failure) return std::unexpected(*first_failure);
  return {};
}

template <class F>
std::expected<void, base::Range> Tracker::release_all_shared(F&& unshare) {
  std::optional<base::Range> first_failure;
  for (size_t i = n_shared_; i-- > 0;) {
    const base::Range r = shared_[i];
    if (unshare(r)) {
      forget_shared_at(i);
    } else if (!first_failure) {
      first_failure = r;
    }
  }
  if (first_failure) return std::unexpected(*first_failure);
  return {};
}

}  // namespace memory

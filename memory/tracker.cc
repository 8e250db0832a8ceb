#include "memory/tracker.h"

namespace memory {
namespace {

std::unexpected<Refusal> refuse(TrackerError e, std::optional<Kind> other = std::nullopt) {
  return std::unexpected(Refusal{e, other});
}

// base::Range can be built by aggregate initialisation, so a range handed in
// may wrap; everything below relies on end() being valid once this is false.
constexpr bool wraps(const base::Range& r) { return r.size > UINT64_MAX - r.base; }

constexpr bool aligned(uint64_t v, uint64_t granule) { return (v & (granule - 1)) == 0; }

}  // namespace

const char* to_string(Kind k) {
  switch (k) {
    case Kind::kFirmware:
      return "firmware";
    case Kind::kDeviceTree:
      return "device tree";
    case Kind::kKernel:
      return "kernel";
    case Kind::kInitrd:
      return "initrd";
    case Kind::kConfig:
      return "config";
    case Kind::kHandover:
      return "handover";
    case Kind::kScratch:
      return "scratch";
  }
  return "unknown";
}

const char* to_string(TrackerError e) {
  switch (e) {
    case TrackerError::kBadGranule:
      return "BAD_GRANULE";
    case TrackerError::kBadRam:
      return "BAD_RAM";
    case TrackerError::kEmpty:
      return "EMPTY_RANGE";
    case TrackerError::kWraps:
      return "RANGE_WRAPS";
    case TrackerError::kMisaligned:
      return "MISALIGNED";
    case TrackerError::kOutsideRam:
      return "OUTSIDE_RAM";
    case TrackerError::kInRam:
      return "MMIO_IN_RAM";
    case TrackerError::kOverlap:
      return "OVERLAP";
    case TrackerError::kNeverShared:
      return "NEVER_SHARED";
    case TrackerError::kShared:
      return "SHARED";
    case TrackerError::kAlreadyMapped:
      return "ALREADY_MAPPED";
    case TrackerError::kNotFound:
      return "NOT_FOUND";
    case TrackerError::kFull:
      return "FULL";
  }
  return "UNKNOWN";
}

std::expected<Tracker, Refusal> Tracker::create(base::Range ram, uint64_t granule) {
  if (granule < kPageSize || (granule & (granule - 1)) != 0) {
    return refuse(TrackerError::kBadGranule);
  }
  if (ram.empty() || wraps(ram) || !aligned(ram.base, granule) || !aligned(ram.size, granule)) {
    return refuse(TrackerError::kBadRam);
  }
  return Tracker(ram, granule);
}

std::expected<void, Refusal> Tracker::add(Kind kind, base::Range r) {
  if (r.empty()) return refuse(TrackerError::kEmpty);
  if (wraps(r)) return refuse(TrackerError::kWraps);
  if (!ram_.contains(r)) return refuse(TrackerError::kOutsideRam);
  for (const Region& region : regions()) {
    if (region.range.overlaps(r)) return refuse(TrackerError::kOverlap, region.kind);
  }
  if (never_shared(kind)) {
    for (const base::Range& s : shared()) {
      if (s.overlaps(r)) return refuse(TrackerError::kShared);
    }
  }
  if (n_regions_ == kMaxRegions) return refuse(TrackerError::kFull);
  regions_[n_regions_++] = Region{kind, r};
  return {};
}

std::optional<base::Range> Tracker::find(Kind kind) const {
  for (const Region& region : regions()) {
    if (region.kind == kind) return region.range;
  }
  return std::nullopt;
}

std::expected<void, Refusal> Tracker::map_mmio(uint64_t ipa) {
  if (!aligned(ipa, kMmioGranule)) return refuse(TrackerError::kMisaligned);
  const base::Range granule{ipa, kMmioGranule};
  if (wraps(granule)) return refuse(TrackerError::kWraps);
  if (ram_.overlaps(granule)) return refuse(TrackerError::kInRam);
  for (uint64_t mapped : mmio()) {
    if (mapped == ipa) return refuse(TrackerError::kAlreadyMapped);
  }
  if (n_mmio_ == kMaxMmio) return refuse(TrackerError::kFull);
  mmio_[n_mmio_++] = ipa;
  return {};
}

std::expected<void, Refusal> Tracker::unmap_mmio(uint64_t ipa) {
  for (size_t i = 0; i < n_mmio_; ++i) {
    if (mmio_[i] == ipa) {
      forget_mmio_at(i);
      return {};
    }
  }
  return refuse(TrackerError::kNotFound);
}

std::expected<void, Refusal> Tracker::share(base::Range r) {
  if (r.empty()) return refuse(TrackerError::kEmpty);
  if (wraps(r)) return refuse(TrackerError::kWraps);
  if (!aligned(r.base, granule_) || !aligned(r.size, granule_)) {
    return refuse(TrackerError::kMisaligned);
  }
  if (!ram_.contains(r)) return refuse(TrackerError::kOutsideRam);
  for (const Region& region : regions()) {
    if (never_shared(region.kind) && region.range.overlaps(r)) {
      return refuse(TrackerError::kNeverShared, region.kind);
    }
  }
  for (const base::Range& s : shared()) {
    if (s.overlaps(r)) return refuse(TrackerError::kShared);
  }
  if (n_shared_ == kMaxShared) return refuse(TrackerError::kFull);
  shared_[n_shared_++] = r;
  return {};
}

std::expected<void, Refusal> Tracker::unshare(base::Range r) {
  for (size_t i = 0; i < n_shared_; ++i) {
    if (shared_[i].base == r.base && shared_[i].size == r.size) {
      forget_shared_at(i);
      return {};
    }
  }
  return refuse(TrackerError::kNotFound);
}

// Removal keeps the remaining entries in their recorded order.
void Tracker::forget_mmio_at(size_t i) {
  for (; i + 1 < n_mmio_; ++i) mmio_[i] = mmio_[i + 1];
  mmio_[--n_mmio_] = 0;
}

void Tracker::forget_shared_at(size_t i) {
  for (; i + 1 < n_shared_; ++i) shared_[i] = shared_[i + 1];
  shared_[--n_shared_] = base::Range{};
}

}  // namespace memory

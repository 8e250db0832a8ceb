#include "memory/tracker.h"

#include <gtest/gtest.h>

#include <vector>

namespace memory {
namespace {

constexpr uint64_t kKiB = 1024, kMiB = 1024 * kKiB;
constexpr uint64_t kRamBase = 0x4000'0000, kRamSize = 256 * kMiB;
constexpr base::Range kRam{kRamBase, kRamSize};
constexpr uint64_t kUart = 0x0900'0000;  // an MMIO granule below RAM

constexpr Kind kAllKinds[] = {Kind::kFirmware, Kind::kDeviceTree, Kind::kKernel, Kind::kInitrd,
                              Kind::kConfig,   Kind::kHandover,   Kind::kScratch};

Tracker make(base::Range ram = kRam, uint64_t granule = kPageSize) {
  auto t = Tracker::create(ram, granule);
  EXPECT_TRUE(t.has_value());
  return *t;
}

// The error of a refused call (and that it was refused at all).
template <class T>
TrackerError error_of(const std::expected<T, Refusal>& r) {
  EXPECT_FALSE(r.has_value());
  return r.has_value() ? TrackerError::kFull : r.error().error;
}

// --- create ---

TEST(TrackerCreate, AcceptsAlignedRam) {
  auto t = Tracker::create(kRam);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->ram().base, kRamBase);
  EXPECT_EQ(t->ram().size, kRamSize);
  EXPECT_EQ(t->granule(), kPageSize);
  EXPECT_TRUE(t->regions().empty());
  EXPECT_TRUE(t->clean());
}

TEST(TrackerCreate, RefusesBadRam) {
  EXPECT_EQ(error_of(Tracker::create({kRamBase, 0})), TrackerError::kBadRam);
  EXPECT_EQ(error_of(Tracker::create({kRamBase + 0x800, kRamSize})), TrackerError::kBadRam);
  EXPECT_EQ(error_of(Tracker::create({kRamBase, kRamSize + 0x10})), TrackerError::kBadRam);
  // Wraps: aligned base and size, but the end is beyond 2^64.
  EXPECT_EQ(error_of(Tracker::create({UINT64_MAX - 0xfff - 0x1000, 0x3000})),
            TrackerError::kBadRam);
  // Aligned to 4 KiB but not to a 64 KiB sharing granule.
  EXPECT_EQ(error_of(Tracker::create({kRamBase + 0x1000, kRamSize}, 64 * kKiB)),
            TrackerError::kBadRam);
  EXPECT_TRUE(Tracker::create({kRamBase, kRamSize}, 64 * kKiB));
}

TEST(TrackerCreate, RefusesBadGranule) {
  EXPECT_EQ(error_of(Tracker::create(kRam, 0)), TrackerError::kBadGranule);
  EXPECT_EQ(error_of(Tracker::create(kRam, 2048)), TrackerError::kBadGranule);
  EXPECT_EQ(error_of(Tracker::create(kRam, 3 * kPageSize)), TrackerError::kBadGranule);
  // The granule is checked before RAM.
  EXPECT_EQ(error_of(Tracker::create({0, 0}, 3)), TrackerError::kBadGranule);
}

TEST(TrackerCreate, RamAtTheTopOfTheAddressSpace) {
  // [2^64 - 8 KiB, 2^64 - 4 KiB): the highest aligned RAM whose end is representable.
  const base::Range top{UINT64_MAX - 0x1fff, 0x1000};
  auto t = Tracker::create(top);
  ASSERT_TRUE(t);
  EXPECT_TRUE(t->add(Kind::kScratch, top));
  // The last page: representable (ends at UINT64_MAX), but past RAM.
  EXPECT_EQ(error_of(t->add(Kind::kKernel, {UINT64_MAX - 0xfff, 0xfff})),
            TrackerError::kOutsideRam);
  // The last byte plus one: the end would be 2^64.
  EXPECT_EQ(error_of(t->add(Kind::kKernel, {UINT64_MAX, 1})), TrackerError::kWraps);
  EXPECT_EQ(error_of(t->add(Kind::kKernel, {top.end() - 1, 0x1001})), TrackerError::kWraps);
}

// --- regions ---

TEST(TrackerRegions, AddFindAndIterate) {
  Tracker t = make();
  ASSERT_TRUE(t.add(Kind::kDeviceTree, {kRamBase, 2 * kMiB}));
  ASSERT_TRUE(t.add(Kind::kKernel, {kRamBase + 0x20'0000, 0x123'4567}));  // no alignment needed
  ASSERT_TRUE(t.add(Kind::kFirmware, {kRamBase + kRamSize - kMiB, kMiB}));
  EXPECT_FALSE(t.find(Kind::kInitrd));
  auto k = t.find(Kind::kKernel);
  ASSERT_TRUE(k);
  EXPECT_EQ(k->base, kRamBase + 0x20'0000);
  EXPECT_EQ(k->size, 0x123'4567u);

  ASSERT_EQ(t.regions().size(), 3u);
  EXPECT_EQ(t.regions()[0].kind, Kind::kDeviceTree);
  EXPECT_EQ(t.regions()[1].kind, Kind::kKernel);
  EXPECT_EQ(t.regions()[2].kind, Kind::kFirmware);
  // Claiming regions does not make the tracker unclean.
  EXPECT_TRUE(t.clean());
}

TEST(TrackerRegions, SameKindTwiceFindGivesTheFirst) {
  Tracker t = make();
  ASSERT_TRUE(t.add(Kind::kFirmware, {kRamBase + 0x10'0000, 0x1000}));
  ASSERT_TRUE(t.add(Kind::kFirmware, {kRamBase, 0x1000}));
  EXPECT_EQ(t.find(Kind::kFirmware)->base, kRamBase + 0x10'0000);
}

TEST(TrackerRegions, RefusesEmptyWrappingAndOutsideRam) {
  Tracker t = make();
  EXPECT_EQ(error_of(t.add(Kind::kKernel, {kRamBase, 0})), TrackerError::kEmpty);
  EXPECT_EQ(error_of(t.add(Kind::kKernel, {UINT64_MAX - 0xfff, 0x2000})), TrackerError::kWraps);
  EXPECT_EQ(error_of(t.add(Kind::kKernel, {UINT64_MAX, UINT64_MAX})), TrackerError::kWraps);
  EXPECT_EQ(error_of(t.add(Kind::kKernel, {kRamBase - 1, 2})), TrackerError::kOutsideRam);
  EXPECT_EQ(error_of(t.add(Kind::kKernel, {kRamBase + kRamSize - 1, 2})),
            TrackerError::kOutsideRam);
  EXPECT_EQ(error_of(t.add(Kind::kKernel, {kRamBase + kRamSize, 1})), TrackerError::kOutsideRam);
  EXPECT_EQ(error_of(t.add(Kind::kKernel, {0, 0x1000})), TrackerError::kOutsideRam);
  EXPECT_EQ(error_of(t.add(Kind::kKernel, {kRamBase - 0x1000, kRamSize + 0x2000})),
            TrackerError::kOutsideRam);
  EXPECT_TRUE(t.add(Kind::kKernel, kRam));  // all of RAM is fine
  EXPECT_EQ(t.regions().size(), 1u);
}

TEST(TrackerRegions, TouchingRangesAreAllowed) {
  Tracker t = make();
  const uint64_t mid = kRamBase + 0x10'0000;
  ASSERT_TRUE(t.add(Kind::kKernel, {mid, 0x1000}));
  EXPECT_TRUE(t.add(Kind::kDeviceTree, {mid - 0x800, 0x800}));  // ends where the kernel starts
  EXPECT_TRUE(t.add(Kind::kInitrd, {mid + 0x1000, 1}));         // starts where it ends
  EXPECT_EQ(t.regions().size(), 3u);
}

TEST(TrackerRegions, OverlapNamesTheOtherKind) {
  Tracker t = make();
  const uint64_t a = kRamBase + 0x10'0000;
  ASSERT_TRUE(t.add(Kind::kKernel, {a, 0x1000}));
  ASSERT_TRUE(t.add(Kind::kHandover, {a + 0x2000, 0x1000}));

  struct Case {
    const char* what;
    base::Range r;
    Kind other;
  };
  const Case cases[] = {
      {"over the start", {a - 0x10, 0x11}, Kind::kKernel},
      {"over the end", {a + 0xfff, 0x10}, Kind::kKernel},
      {"contained", {a + 0x10, 0x10}, Kind::kKernel},
      {"containing", {a - 0x10, 0x2000}, Kind::kKernel},
      {"equal", {a, 0x1000}, Kind::kKernel},
      {"one byte", {a + 0x2fff, 1}, Kind::kHandover},
      {"both, first claimed reported", {a, 0x3000}, Kind::kKernel},
  };
  for (const Case& c : cases) {
    auto r = t.add(Kind::kInitrd, c.r);
    ASSERT_FALSE(r) << c.what;
    EXPECT_EQ(r.error().error, TrackerError::kOverlap) << c.what;
    EXPECT_EQ(r.error().other, c.other) << c.what;
  }
  EXPECT_EQ(t.regions().size(), 2u);  // refusals change nothing
}

TEST(TrackerRegions, RefusesWhenFull) {
  Tracker t = make();
  for (size_t i = 0; i < Tracker::kMaxRegions; ++i) {
    ASSERT_TRUE(t.add(Kind::kScratch, {kRamBase + i * 0x1000, 0x1000})) << i;
  }
  auto r = t.add(Kind::kScratch, {kRamBase + kMiB, 0x1000});
  EXPECT_EQ(error_of(r), TrackerError::kFull);
  EXPECT_FALSE(r.error().other);
  // An overlapping claim still reports the overlap, not the lack of space.
  EXPECT_EQ(error_of(t.add(Kind::kScratch, {kRamBase, 1})), TrackerError::kOverlap);
  EXPECT_EQ(t.regions().size(), Tracker::kMaxRegions);
}

TEST(TrackerRegions, NeverSharedKindRefusedOverSharedRam) {
  Tracker t = make();
  const base::Range buf{kRamBase + kMiB, 0x2000};
  ASSERT_TRUE(t.share(buf));
  for (Kind k : kAllKinds) {
    if (!never_shared(k)) continue;
    auto r = t.add(k, {buf.base + 0x1fff, 0x10});
    EXPECT_EQ(error_of(r), TrackerError::kShared) << to_string(k);
    EXPECT_FALSE(r.error().other);
  }
  // Scratch may lie over a share (a bounce buffer), and secrets may touch it.
  EXPECT_TRUE(t.add(Kind::kScratch, buf));
  EXPECT_TRUE(t.add(Kind::kHandover, {buf.end(), 0x1000}));
  EXPECT_TRUE(t.add(Kind::kConfig, {buf.base - 0x1000, 0x1000}));
}

// --- MMIO guard ---

TEST(TrackerMmio, RecordsAndForgets) {
  Tracker t = make();
  ASSERT_TRUE(t.map_mmio(kUart));
  ASSERT_TRUE(t.map_mmio(kUart + 0x1000));
  ASSERT_TRUE(t.map_mmio(kRamBase + kRamSize));  // just past RAM
  ASSERT_TRUE(t.map_mmio(kRamBase - 0x1000));    // just before RAM
  EXPECT_FALSE(t.clean());
  ASSERT_EQ(t.mmio().size(), 4u);
  EXPECT_EQ(t.mmio()[0], kUart);

  ASSERT_TRUE(t.unmap_mmio(kUart + 0x1000));
  ASSERT_EQ(t.mmio().size(), 3u);
  EXPECT_EQ(t.mmio()[0], kUart);
  EXPECT_EQ(t.mmio()[1], kRamBase + kRamSize);  // order kept
  EXPECT_EQ(t.mmio()[2], kRamBase - 0x1000);
  EXPECT_EQ(error_of(t.unmap_mmio(kUart + 0x1000)), TrackerError::kNotFound);
  ASSERT_TRUE(t.unmap_mmio(kUart));
  ASSERT_TRUE(t.unmap_mmio(kRamBase + kRamSize));
  ASSERT_TRUE(t.unmap_mmio(kRamBase - 0x1000));
  EXPECT_TRUE(t.clean());
}

TEST(TrackerMmio, Refusals) {
  Tracker t = make();
  EXPECT_EQ(error_of(t.map_mmio(kUart + 0x18)), TrackerError::kMisaligned);
  EXPECT_EQ(error_of(t.map_mmio(kUart + 0x800)), TrackerError::kMisaligned);
  EXPECT_EQ(error_of(t.map_mmio(UINT64_MAX)), TrackerError::kMisaligned);
  EXPECT_EQ(error_of(t.map_mmio(UINT64_MAX - 0xfff)), TrackerError::kWraps);
  EXPECT_EQ(error_of(t.map_mmio(kRamBase)), TrackerError::kInRam);
  EXPECT_EQ(error_of(t.map_mmio(kRamBase + kRamSize - 0x1000)), TrackerError::kInRam);
  ASSERT_TRUE(t.map_mmio(kUart));
  EXPECT_EQ(error_of(t.map_mmio(kUart)), TrackerError::kAlreadyMapped);
  EXPECT_TRUE(t.map_mmio(UINT64_MAX - 0x1fff));  // the highest granule that fits
  EXPECT_EQ(t.mmio().size(), 2u);
}

TEST(TrackerMmio, RefusesWhenFull) {
  Tracker t = make();
  for (size_t i = 0; i < Tracker::kMaxMmio; ++i) ASSERT_TRUE(t.map_mmio(kUart + i * 0x1000)) << i;
  EXPECT_EQ(error_of(t.map_mmio(kUart + Tracker::kMaxMmio * 0x1000)), TrackerError::kFull);
  EXPECT_EQ(error_of(t.map_mmio(kUart)), TrackerError::kAlreadyMapped);
  ASSERT_TRUE(t.unmap_mmio(kUart));
  EXPECT_TRUE(t.map_mmio(kUart + Tracker::kMaxMmio * 0x1000));  // a slot is free again
}

TEST(TrackerMmio, ReleaseAllNewestFirst) {
  Tracker t = make();
  for (uint64_t i = 0; i < 4; ++i) ASSERT_TRUE(t.map_mmio(kUart + i * 0x1000));
  std::vector<uint64_t> calls;
  auto r = t.release_all_mmio([&](uint64_t ipa) {
    calls.push_back(ipa);
    return true;
  });
  EXPECT_TRUE(r);
  EXPECT_EQ(calls, (std::vector<uint64_t>{kUart + 0x3000, kUart + 0x2000, kUart + 0x1000, kUart}));
  EXPECT_TRUE(t.mmio().empty());
  EXPECT_TRUE(t.clean());
}

TEST(TrackerMmio, ReleaseAllKeepsFailuresAndReportsTheFirst) {
  Tracker t = make();
  for (uint64_t i = 0; i < 5; ++i) ASSERT_TRUE(t.map_mmio(kUart + i * 0x1000));
  std::vector<uint64_t> calls;
  auto r = t.release_all_mmio([&](uint64_t ipa) {
    calls.push_back(ipa);
    return ipa != kUart + 0x3000 && ipa != kUart + 0x1000;
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), kUart + 0x3000);  // the first failure met (newest first)
  EXPECT_EQ(calls.size(), 5u);           // every granule was tried
  ASSERT_EQ(t.mmio().size(), 2u);
  EXPECT_EQ(t.mmio()[0], kUart + 0x1000);
  EXPECT_EQ(t.mmio()[1], kUart + 0x3000);
  EXPECT_FALSE(t.clean());

  // A retry that succeeds leaves nothing behind.
  EXPECT_TRUE(t.release_all_mmio([](uint64_t) { return true; }));
  EXPECT_TRUE(t.clean());
}

TEST(TrackerMmio, ReleaseAllOnEmptyCallsNothing) {
  Tracker t = make();
  int calls = 0;
  EXPECT_TRUE(t.release_all_mmio([&](uint64_t) { return ++calls, true; }));
  EXPECT_EQ(calls, 0);
}

// --- sharing ---

TEST(TrackerShare, RecordsAndForgets) {
  Tracker t = make();
  const base::Range a{kRamBase + kMiB, 0x1000}, b{kRamBase + kMiB + 0x1000, 0x3000};
  ASSERT_TRUE(t.share(a));
  ASSERT_TRUE(t.share(b));  // touching a
  EXPECT_FALSE(t.clean());
  ASSERT_EQ(t.shared().size(), 2u);
  EXPECT_EQ(t.shared()[1].base, b.base);

  EXPECT_EQ(error_of(t.unshare({b.base, 0x1000})), TrackerError::kNotFound);  // no partial unshare
  EXPECT_EQ(error_of(t.unshare({b.base - 0x1000, b.size})), TrackerError::kNotFound);
  ASSERT_TRUE(t.unshare(a));
  EXPECT_EQ(error_of(t.unshare(a)), TrackerError::kNotFound);
  ASSERT_TRUE(t.unshare(b));
  EXPECT_TRUE(t.clean());
}

TEST(TrackerShare, Refusals) {
  Tracker t = make();
  EXPECT_EQ(error_of(t.share({kRamBase, 0})), TrackerError::kEmpty);
  EXPECT_EQ(error_of(t.share({UINT64_MAX - 0xfff, 0x2000})), TrackerError::kWraps);
  EXPECT_EQ(error_of(t.share({kRamBase + 0x800, 0x1000})), TrackerError::kMisaligned);
  EXPECT_EQ(error_of(t.share({kRamBase, 0x800})), TrackerError::kMisaligned);
  EXPECT_EQ(error_of(t.share({kRamBase - 0x1000, 0x2000})), TrackerError::kOutsideRam);
  EXPECT_EQ(error_of(t.share({kRamBase + kRamSize, 0x1000})), TrackerError::kOutsideRam);
  EXPECT_EQ(error_of(t.share({kUart, 0x1000})), TrackerError::kOutsideRam);

  const base::Range s{kRamBase + kMiB, 0x4000};
  ASSERT_TRUE(t.share(s));
  EXPECT_EQ(error_of(t.share(s)), TrackerError::kShared);
  EXPECT_EQ(error_of(t.share({s.base - 0x1000, 0x2000})), TrackerError::kShared);
  EXPECT_EQ(error_of(t.share({s.base + 0x1000, 0x1000})), TrackerError::kShared);
  EXPECT_EQ(error_of(t.share({s.base - 0x1000, 0x6000})), TrackerError::kShared);
  EXPECT_EQ(t.shared().size(), 1u);
}

TEST(TrackerShare, GranuleIsTheConfiguredOne) {
  Tracker t = make(kRam, 64 * kKiB);
  EXPECT_EQ(error_of(t.share({kRamBase + 0x1000, 64 * kKiB})), TrackerError::kMisaligned);
  EXPECT_EQ(error_of(t.share({kRamBase, 0x1000})), TrackerError::kMisaligned);
  EXPECT_TRUE(t.share({kRamBase, 128 * kKiB}));
}

TEST(TrackerShare, NeverOverSecretsOrPayload) {
  for (Kind k : kAllKinds) {
    Tracker t = make();
    // The region ends one byte into a page: that page cannot be shared.
    const base::Range region{kRamBase + kMiB + 0x100, 0x1000};
    ASSERT_TRUE(t.add(k, region));
    const base::Range over_end{kRamBase + kMiB + 0x1000, 0x1000};
    const base::Range over_start{kRamBase + kMiB, 0x1000};
    const base::Range around{kRamBase, 2 * kMiB};
    for (const base::Range& r : {over_end, over_start, around}) {
      auto s = t.share(r);
      if (never_shared(k)) {
        EXPECT_EQ(error_of(s), TrackerError::kNeverShared) << to_string(k);
        EXPECT_EQ(s.error().other, k);
      } else {
        EXPECT_TRUE(s) << to_string(k);
        ASSERT_TRUE(t.unshare(r));
      }
    }
    // The pages either side are fine.
    EXPECT_TRUE(t.share({kRamBase + kMiB - 0x1000, 0x1000})) << to_string(k);
    EXPECT_TRUE(t.share({kRamBase + kMiB + 0x2000, 0x1000})) << to_string(k);
  }
}

TEST(TrackerShare, NeverSharedIsEverythingButScratch) {
  for (Kind k : kAllKinds) EXPECT_EQ(never_shared(k), k != Kind::kScratch) << to_string(k);
}

TEST(TrackerShare, RefusesWhenFull) {
  Tracker t = make();
  for (size_t i = 0; i < Tracker::kMaxShared; ++i) {
    ASSERT_TRUE(t.share({kRamBase + i * 0x1000, 0x1000})) << i;
  }
  EXPECT_EQ(error_of(t.share({kRamBase + kMiB, 0x1000})), TrackerError::kFull);
  EXPECT_EQ(error_of(t.share({kRamBase, 0x1000})), TrackerError::kShared);
}

TEST(TrackerShare, ReleaseAllNewestFirstKeepsFailures) {
  Tracker t = make();
  for (uint64_t i = 0; i < 3; ++i) ASSERT_TRUE(t.share({kRamBase + i * 0x2000, 0x2000}));
  std::vector<uint64_t> calls;
  auto r = t.release_all_shared([&](base::Range s) {
    calls.push_back(s.base);
    return s.base != kRamBase + 0x2000;
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().base, kRamBase + 0x2000);
  EXPECT_EQ(r.error().size, 0x2000u);
  EXPECT_EQ(calls, (std::vector<uint64_t>{kRamBase + 0x4000, kRamBase + 0x2000, kRamBase}));
  ASSERT_EQ(t.shared().size(), 1u);
  EXPECT_FALSE(t.clean());
  EXPECT_TRUE(t.release_all_shared([](base::Range) { return true; }));
  EXPECT_TRUE(t.clean());
}

// --- hand-off ---

TEST(TrackerClean, OnlyMmioAndSharesCount) {
  Tracker t = make();
  ASSERT_TRUE(t.add(Kind::kKernel, {kRamBase, kMiB}));
  EXPECT_TRUE(t.clean());
  ASSERT_TRUE(t.map_mmio(kUart));
  EXPECT_FALSE(t.clean());
  ASSERT_TRUE(t.share({kRamBase + kMiB, 0x1000}));
  ASSERT_TRUE(t.unmap_mmio(kUart));
  EXPECT_FALSE(t.clean());
  ASSERT_TRUE(t.unshare({kRamBase + kMiB, 0x1000}));
  EXPECT_TRUE(t.clean());
}

// --- names ---

TEST(TrackerNames, StableStrings) {
  EXPECT_STREQ(to_string(Kind::kDeviceTree), "device tree");
  EXPECT_STREQ(to_string(Kind::kHandover), "handover");
  EXPECT_STREQ(to_string(TrackerError::kOverlap), "OVERLAP");
  EXPECT_STREQ(to_string(TrackerError::kNeverShared), "NEVER_SHARED");
  EXPECT_STREQ(to_string(TrackerError::kInRam), "MMIO_IN_RAM");
  for (Kind k : kAllKinds) EXPECT_STRNE(to_string(k), "unknown");
  for (int e = 0; e <= static_cast<int>(TrackerError::kFull); ++e) {
    const char* name = to_string(static_cast<TrackerError>(e));
    EXPECT_STRNE(name, "UNKNOWN") << e;
    for (const char* p = name; *p; ++p) {
      EXPECT_TRUE((*p >= 'A' && *p <= 'Z') || *p == '_') << name;
    }
  }
}

}  // namespace
}  // namespace memory

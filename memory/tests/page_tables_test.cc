#include "memory/page_tables.h"

#include <gtest/gtest.h>

#include <vector>

namespace memory {
namespace {

constexpr uint64_t kKiB = 1024, kMiB = 1024 * kKiB, kGiB = 1024 * kMiB;

struct Perms {
  bool mapped, writable, exec, device;
};

Perms perms_of(const PageTables& pt, uint64_t va) {
  uint64_t e = pt.lookup(va);
  if (e == 0) return {false, false, false, false};
  unsigned idx = static_cast<unsigned>((e >> desc::kAttrIndxShift) & 7);
  return {true, !(e & desc::kApReadOnly), !(e & desc::kPxn), idx == kMairDevice};
}

class PageTablesTest : public ::testing::Test {
 protected:
  std::vector<Table> pool = std::vector<Table>(16);
  PageTables pt{pool};
};

TEST_F(PageTablesTest, MapsPagesWithExactPermissions) {
  ASSERT_TRUE(pt.map(0x0, 0x3000, Attr::kCode));
  ASSERT_TRUE(pt.map(0x3000, 0x1000, Attr::kReadOnly));
  ASSERT_TRUE(pt.map(0x4020'0000, 0x8000, Attr::kData));
  ASSERT_TRUE(pt.map(0x0900'0000, 0x1000, Attr::kDevice));

  auto code = perms_of(pt, 0x2ff8);
  EXPECT_TRUE(code.mapped && code.exec && !code.writable && !code.device);
  auto ro = perms_of(pt, 0x3000);
  EXPECT_TRUE(ro.mapped && !ro.exec && !ro.writable);
  auto data = perms_of(pt, 0x4020'7fff);
  EXPECT_TRUE(data.mapped && data.writable && !data.exec);
  auto dev = perms_of(pt, 0x0900'0018);
  EXPECT_TRUE(dev.mapped && dev.device && !dev.exec);
  EXPECT_FALSE(perms_of(pt, 0x4000).mapped);
  EXPECT_FALSE(perms_of(pt, 0x4020'8000).mapped);
  EXPECT_FALSE(perms_of(pt, 0x0900'1000).mapped);
}

TEST_F(PageTablesTest, NothingIsWritableAndExecutable) {
  ASSERT_TRUE(pt.map(0x0, 2 * kMiB, Attr::kCode));
  ASSERT_TRUE(pt.map(0x4000'0000, kGiB, Attr::kData));
  ASSERT_TRUE(pt.map(0x0800'0000, 2 * kMiB, Attr::kDevice));
  for (uint64_t va = 0; va < 0x8000'0000; va += 64 * kKiB) {
    auto p = perms_of(pt, va);
    EXPECT_FALSE(p.writable && p.exec) << std::hex << va;
  }
}

TEST_F(PageTablesTest, UsesBlocksWhenAligned) {
  ASSERT_TRUE(pt.map(0x4000'0000, kGiB, Attr::kData));
  EXPECT_EQ(pt.tables_used(), 1u);  // one level-1 block in the root
  ASSERT_TRUE(pt.map(0x8000'0000 + 2 * kMiB, 4 * kMiB, Attr::kData));
  EXPECT_EQ(pt.tables_used(), 2u);  // a level-2 table with two 2 MiB blocks
  uint64_t e = pt.lookup(0x8000'0000 + 3 * kMiB);
  EXPECT_EQ(e & desc::kTable, 0u);
  EXPECT_EQ(e & desc::kAddrMask, 0x8000'0000 + 2 * kMiB);
}

TEST_F(PageTablesTest, OutputAddressIsIdentity) {
  ASSERT_TRUE(pt.map(0x4012'3000, 0x5000, Attr::kData));
  for (uint64_t va = 0x4012'3000; va < 0x4012'8000; va += 0x1000) {
    EXPECT_EQ(pt.lookup(va) & desc::kAddrMask, va);
  }
}

TEST_F(PageTablesTest, RefusesBadRanges) {
  EXPECT_EQ(pt.map(0x1000, 0, Attr::kData).error(), Error::kMisaligned);
  EXPECT_EQ(pt.map(0x1001, 0x1000, Attr::kData).error(), Error::kMisaligned);
  EXPECT_EQ(pt.map(0x1000, 0x1001, Attr::kData).error(), Error::kMisaligned);
  EXPECT_EQ(pt.map(1ull << 39, 0x1000, Attr::kData).error(), Error::kOutOfRange);
  EXPECT_EQ(pt.map((1ull << 39) - 0x1000, 0x2000, Attr::kData).error(), Error::kOutOfRange);
  EXPECT_EQ(pt.map(0xffff'ffff'ffff'f000ull, 0x2000, Attr::kData).error(), Error::kOutOfRange);
}

TEST_F(PageTablesTest, RefusesOverlaps) {
  ASSERT_TRUE(pt.map(0x4000'0000, 0x2000, Attr::kData));
  EXPECT_EQ(pt.map(0x4000'1000, 0x1000, Attr::kCode).error(), Error::kOverlap);
  ASSERT_TRUE(pt.map(0x8000'0000, 2 * kMiB, Attr::kData));
  EXPECT_EQ(pt.map(0x8000'1000, 0x1000, Attr::kData).error(), Error::kOverlap);
  // The refused maps changed nothing that was there.
  EXPECT_TRUE(perms_of(pt, 0x4000'1000).writable);
}

TEST(PageTablesPool, ReportsExhaustion) {
  std::vector<Table> small(2);
  PageTables pt(small);
  ASSERT_TRUE(pt.map(0x0, 0x1000, Attr::kData).error() == Error::kOutOfTables);
}

// --- regimes: exact descriptors ---

constexpr Attr kAllAttrs[] = {Attr::kCode, Attr::kReadOnly, Attr::kData, Attr::kDevice,
                              Attr::kGuestRam};
constexpr Regime kStage1Regimes[] = {Regime::kEl1Stage1, Regime::kEl2Stage1};

// The page descriptor `regime` writes for `attr` at output address `pa`.
uint64_t page_descriptor(Regime regime, Attr attr, uint64_t pa) {
  std::vector<Table> pool(4);
  PageTables pt(pool, regime);
  EXPECT_TRUE(pt.map_to(0x4000'0000, pa, kPageSize, attr));
  return pt.lookup(0x4000'0000);
}

TEST(PageTablesRegime, DefaultIsEl1) {
  std::vector<Table> pool(1);
  EXPECT_EQ(PageTables(pool).regime(), Regime::kEl1Stage1);
}

// pvmfw's descriptors, bit for bit as before the regimes existed.
TEST(PageTablesRegime, El1DescriptorsAreUnchanged) {
  struct Case {
    Attr attr;
    uint64_t page, block;
  };
  const Case cases[] = {
      // AttrIndx 1, SH inner, AF, AP[2] read-only, UXN.
      {Attr::kCode, 0x0040'0000'0000'0787, 0x0040'0000'0000'0785},
      {Attr::kReadOnly, 0x0060'0000'0000'0787, 0x0060'0000'0000'0785},  // + PXN
      {Attr::kData, 0x0060'0000'0000'0707, 0x0060'0000'0000'0705},
      {Attr::kDevice, 0x0060'0000'0000'0403, 0x0060'0000'0000'0401},  // AttrIndx 0, no SH
  };
  for (const Case& c : cases) {
    std::vector<Table> pool(4);
    PageTables pt(pool);
    ASSERT_TRUE(pt.map(0x4000'1000, kPageSize, c.attr));
    ASSERT_TRUE(pt.map(0x8000'0000, 2 * kMiB, c.attr));
    EXPECT_EQ(pt.lookup(0x4000'1000), 0x4000'1000 | c.page) << static_cast<int>(c.attr);
    EXPECT_EQ(pt.lookup(0x8000'0000), 0x8000'0000 | c.block) << static_cast<int>(c.attr);
    EXPECT_EQ(*leaf_attributes(Regime::kEl1Stage1, c.attr) | desc::kValid, c.block);
    // Table descriptors carry no attributes.
    EXPECT_EQ(pool[0].entry[1], reinterpret_cast<uintptr_t>(&pool[1]) | 3);
  }
}

TEST(PageTablesRegime, El2Descriptors) {
  // AP[1] (bit 6) always set, AP[2] for read-only, XN is bit 54, bit 53 never.
  EXPECT_EQ(page_descriptor(Regime::kEl2Stage1, Attr::kCode, 0x1000), 0x1000 | 0x7c7u);
  EXPECT_EQ(page_descriptor(Regime::kEl2Stage1, Attr::kReadOnly, 0x1000), 0x0040'0000'0000'17c7u);
  EXPECT_EQ(page_descriptor(Regime::kEl2Stage1, Attr::kData, 0x1000), 0x0040'0000'0000'1747u);
  EXPECT_EQ(page_descriptor(Regime::kEl2Stage1, Attr::kDevice, 0x0900'0000),
            0x0040'0000'0900'0443u);
  for (Attr a : kAllAttrs) {
    auto attrs = leaf_attributes(Regime::kEl2Stage1, a);
    if (!attrs) continue;
    EXPECT_TRUE(*attrs & desc::kApRes1);
    EXPECT_FALSE(*attrs & (1ull << 53));  // RES0 with one privilege level
    EXPECT_FALSE(*attrs & (1ull << 11));  // nG: RES0 in the EL2 regime
  }
}

TEST(PageTablesRegime, Stage2Descriptors) {
  struct Case {
    Attr attr;
    uint64_t memattr, s2ap, xn;
    bool shareable;
  };
  const Case cases[] = {
      {Attr::kCode, 0b1111, 0b01, 0b00, true},      // read-only, executable
      {Attr::kReadOnly, 0b1111, 0b01, 0b10, true},  // read-only, execute-never
      {Attr::kData, 0b1111, 0b11, 0b10, true},      // read-write, execute-never
      {Attr::kDevice, 0b0001, 0b11, 0b10, false},   // Device-nGnRE, read-write, XN
      {Attr::kGuestRam, 0b1111, 0b11, 0b00, true},  // read-write, executable
  };
  for (const Case& c : cases) {
    const uint64_t e = page_descriptor(Regime::kStage2, c.attr, 0x4100'0000);
    const auto what = static_cast<int>(c.attr);
    EXPECT_EQ(e & 3, 3u) << what;
    EXPECT_EQ((e >> 2) & 0xf, c.memattr) << what;
    EXPECT_EQ((e >> 6) & 3, c.s2ap) << what;
    EXPECT_EQ((e >> 8) & 3, c.shareable ? 3u : 0u) << what;
    EXPECT_TRUE(e & desc::kAf) << what;
    EXPECT_EQ((e >> 53) & 3, c.xn) << what;
    EXPECT_EQ(e & desc::kAddrMask, 0x4100'0000u) << what;
    // Nothing else: bits [63:55], [52:48] and [11] are 0.
    EXPECT_EQ(e & ~(desc::kAddrMask | desc::kS2XnMask | 0x7ffu), 0u) << what;
  }
  // Two exact values, as a guard on the field table above.
  EXPECT_EQ(page_descriptor(Regime::kStage2, Attr::kGuestRam, 0x4100'0000), 0x4100'07ffu);
  EXPECT_EQ(page_descriptor(Regime::kStage2, Attr::kDevice, 0x0900'0000), 0x0040'0000'0900'04c7u);
}

// --- W^X ---

TEST(PageTablesRegime, StageOneRefusesGuestRam) {
  for (Regime r : kStage1Regimes) {
    std::vector<Table> pool(4);
    PageTables pt(pool, r);
    EXPECT_EQ(leaf_attributes(r, Attr::kGuestRam).error(), Error::kBadAttr);
    EXPECT_EQ(pt.map(0x4000'0000, 2 * kMiB, Attr::kGuestRam).error(), Error::kBadAttr);
    EXPECT_EQ(pt.map_to(0x1000, 0x2000, 0x1000, Attr::kGuestRam).error(), Error::kBadAttr);
    EXPECT_EQ(pt.tables_used(), 1u);  // refused before any table was taken
    EXPECT_EQ(pt.lookup(0x4000'0000), 0u);
  }
  EXPECT_STREQ(to_string(Error::kBadAttr), "attribute not allowed in this translation regime");
}

TEST(PageTablesRegime, StageOneNothingIsWritableAndExecutable) {
  for (Attr a : kAllAttrs) {
    auto el1 = leaf_attributes(Regime::kEl1Stage1, a);
    if (el1) {
      const bool writable = !(*el1 & desc::kApReadOnly);
      EXPECT_FALSE(writable && !(*el1 & desc::kPxn)) << static_cast<int>(a);
      EXPECT_TRUE(*el1 & desc::kUxn) << static_cast<int>(a);  // nothing runs at EL0
    }
    auto el2 = leaf_attributes(Regime::kEl2Stage1, a);
    if (el2) {
      const bool writable = !(*el2 & desc::kApReadOnly);
      EXPECT_FALSE(writable && !(*el2 & desc::kXn)) << static_cast<int>(a);
    }
    EXPECT_EQ(el1.has_value(), a != Attr::kGuestRam);
    EXPECT_EQ(el2.has_value(), a != Attr::kGuestRam);
  }
}

TEST(PageTablesRegime, Stage2AcceptsEveryAttr) {
  for (Attr a : kAllAttrs) EXPECT_TRUE(leaf_attributes(Regime::kStage2, a)) << static_cast<int>(a);
}

// --- map_to ---

class MapToTest : public ::testing::Test {
 protected:
  std::vector<Table> pool = std::vector<Table>(16);
  PageTables pt{pool, Regime::kStage2};
};

TEST_F(MapToTest, BlocksWhenBothAddressesAreAligned) {
  // The VM's RAM: IPA 0x4000_0000 + n is PA 0x4100_0000 + n.
  ASSERT_TRUE(pt.map_to(0x4000'0000, 0x4100'0000, 4 * kMiB, Attr::kGuestRam));
  EXPECT_EQ(pt.tables_used(), 2u);  // root + one level-2 table of 2 MiB blocks
  for (uint64_t off : {uint64_t{0}, uint64_t{0x12'3458}, 2 * kMiB, 4 * kMiB - 8}) {
    EXPECT_EQ(pt.translate(0x4000'0000 + off), 0x4100'0000 + off) << std::hex << off;
    EXPECT_EQ(pt.lookup(0x4000'0000 + off) & desc::kTable, 0u);  // a block
  }
  EXPECT_EQ(pt.lookup(0x4020'0000) & desc::kAddrMask, 0x4120'0000u);
  EXPECT_FALSE(pt.translate(0x4000'0000 + 4 * kMiB));
  EXPECT_FALSE(pt.translate(0x3fff'f000));
}

TEST_F(MapToTest, OneGibBlockOnlyWhenTheOutputIsGibAligned) {
  ASSERT_TRUE(pt.map_to(0x4000'0000, 0x1'0000'0000, kGiB, Attr::kGuestRam));
  EXPECT_EQ(pt.tables_used(), 1u);  // a level-1 block in the root
  EXPECT_EQ(pt.translate(0x7fff'fff8), 0x1'3fff'fff8u);
  // Input GiB-aligned, output only 2 MiB aligned: 512 level-2 blocks instead.
  ASSERT_TRUE(pt.map_to(0x8000'0000, 0x4120'0000, kGiB, Attr::kGuestRam));
  EXPECT_EQ(pt.tables_used(), 2u);
  EXPECT_EQ(pt.translate(0x8000'0000), 0x4120'0000u);
  EXPECT_EQ(pt.translate(0xbfff'ffff), 0x4120'0000 + kGiB - 1);
  EXPECT_EQ(pt.lookup(0x9000'0000) & desc::kTable, 0u);
}

TEST_F(MapToTest, PagesWhenOnlyOneSideIsAligned) {
  // Input 2 MiB aligned, output only 4 KiB aligned.
  ASSERT_TRUE(pt.map_to(0x4000'0000, 0x4100'1000, 2 * kMiB, Attr::kGuestRam));
  EXPECT_EQ(pt.tables_used(), 3u);  // root, level 2, one level-3 table
  // Output 2 MiB aligned, input only 4 KiB aligned (crosses a 2 MiB boundary).
  ASSERT_TRUE(pt.map_to(0x6000'1000, 0x4140'0000, 2 * kMiB, Attr::kData));
  EXPECT_EQ(pt.tables_used(), 5u);  // two more level-3 tables (the level-2 one is shared)
  for (uint64_t off = 0; off < 2 * kMiB; off += 0x1'0000) {
    EXPECT_EQ(pt.lookup(0x4000'0000 + off) & 3, 3u);  // a page
    EXPECT_EQ(pt.translate(0x4000'0000 + off + 0x10), 0x4100'1000 + off + 0x10);
    EXPECT_EQ(pt.lookup(0x6000'1000 + off) & 3, 3u);
    EXPECT_EQ(pt.translate(0x6000'1000 + off), 0x4140'0000 + off);
  }
  EXPECT_FALSE(pt.translate(0x6000'0000));
  EXPECT_FALSE(pt.translate(0x6020'1000));
}

TEST_F(MapToTest, IdentityMapIsMapToItself) {
  std::vector<Table> other_pool(16);
  PageTables other(other_pool, Regime::kStage2);
  ASSERT_TRUE(pt.map(0x0800'0000, 0x2'0000, Attr::kDevice));
  ASSERT_TRUE(other.map_to(0x0800'0000, 0x0800'0000, 0x2'0000, Attr::kDevice));
  for (uint64_t a = 0x0800'0000; a < 0x0802'0000; a += kPageSize) {
    EXPECT_EQ(pt.lookup(a), other.lookup(a));
    EXPECT_EQ(pt.translate(a), a);
  }
}

TEST_F(MapToTest, RefusesBadRanges) {
  EXPECT_EQ(pt.map_to(0x1000, 0x2001, 0x1000, Attr::kData).error(), Error::kMisaligned);
  EXPECT_EQ(pt.map_to(0x1000, 0x2800, 0x1000, Attr::kData).error(), Error::kMisaligned);
  EXPECT_EQ(pt.map_to(0x1800, 0x2000, 0x1000, Attr::kData).error(), Error::kMisaligned);
  EXPECT_EQ(pt.map_to(0x1000, 0x2000, 0, Attr::kData).error(), Error::kMisaligned);
  // Input beyond 39 bits; output beyond 48 bits; output wraps.
  EXPECT_EQ(pt.map_to(1ull << 39, 0x2000, 0x1000, Attr::kData).error(), Error::kOutOfRange);
  EXPECT_EQ(pt.map_to(0x1000, 1ull << 48, 0x1000, Attr::kData).error(), Error::kOutOfRange);
  EXPECT_EQ(pt.map_to(0x1000, (1ull << 48) - 0x1000, 0x2000, Attr::kData).error(),
            Error::kOutOfRange);
  EXPECT_EQ(pt.map_to(0x1000, 0xffff'ffff'ffff'f000ull, 0x2000, Attr::kData).error(),
            Error::kOutOfRange);
  EXPECT_EQ(pt.tables_used(), 1u);
  // The highest output page fits.
  EXPECT_TRUE(pt.map_to(0x1000, (1ull << 48) - 0x1000, 0x1000, Attr::kData));
  EXPECT_EQ(pt.translate(0x1fff), (1ull << 48) - 1);
}

TEST_F(MapToTest, RefusesOverlapsOnTheInputSide) {
  ASSERT_TRUE(pt.map_to(0x4000'0000, 0x4100'0000, 2 * kMiB, Attr::kGuestRam));
  EXPECT_EQ(pt.map_to(0x401f'f000, 0x5000'0000, 0x1000, Attr::kData).error(), Error::kOverlap);
  // The same output twice is the caller's business (aliases are allowed).
  EXPECT_TRUE(pt.map_to(0x8000'0000, 0x4100'0000, 0x1000, Attr::kReadOnly));
}

// --- unmap_page ---

TEST_F(MapToTest, UnmapPage) {
  ASSERT_TRUE(pt.map_to(0x0900'0000, 0x0900'0000, 0x3000, Attr::kDevice));
  const size_t tables = pt.tables_used();
  ASSERT_TRUE(pt.unmap_page(0x0900'1000));
  EXPECT_EQ(pt.lookup(0x0900'1000), 0u);
  EXPECT_FALSE(pt.translate(0x0900'1000));
  EXPECT_EQ(pt.translate(0x0900'0000), 0x0900'0000u);  // neighbours stay
  EXPECT_EQ(pt.translate(0x0900'2000), 0x0900'2000u);
  EXPECT_EQ(pt.unmap_page(0x0900'1000).error(), Error::kNotMapped);
  // The page can be mapped again, into the table that is still there.
  ASSERT_TRUE(pt.map_to(0x0900'1000, 0x0900'1000, 0x1000, Attr::kDevice));
  EXPECT_EQ(pt.tables_used(), tables);
  EXPECT_EQ(pt.translate(0x0900'1ff8), 0x0900'1ff8u);
}

TEST_F(MapToTest, UnmapPageRefusals) {
  ASSERT_TRUE(pt.map_to(0x4000'0000, 0x4100'0000, 2 * kMiB, Attr::kGuestRam));
  ASSERT_TRUE(pt.map_to(0x8000'0000, 0x8000'0000, kGiB, Attr::kGuestRam));
  ASSERT_TRUE(pt.map_to(0x0900'0000, 0x0900'0000, 0x1000, Attr::kDevice));
  // Covered by a 2 MiB or a 1 GiB block: refused, the block stays whole.
  EXPECT_EQ(pt.unmap_page(0x4010'0000).error(), Error::kMappedByBlock);
  EXPECT_EQ(pt.unmap_page(0x8000'0000).error(), Error::kMappedByBlock);
  EXPECT_EQ(pt.translate(0x4010'0000), 0x4110'0000u);
  EXPECT_EQ(pt.translate(0x8000'0000), 0x8000'0000u);
  // Not mapped: no level-1 entry, no level-2 entry, no level-3 entry.
  EXPECT_EQ(pt.unmap_page(0x1'0000'0000).error(), Error::kNotMapped);
  EXPECT_EQ(pt.unmap_page(0x0a00'0000).error(), Error::kNotMapped);
  EXPECT_EQ(pt.unmap_page(0x0900'1000).error(), Error::kNotMapped);
  EXPECT_EQ(pt.unmap_page(0x0900'0800).error(), Error::kMisaligned);
  EXPECT_EQ(pt.unmap_page(1ull << 39).error(), Error::kOutOfRange);
  EXPECT_EQ(pt.translate(0x0900'0000), 0x0900'0000u);
  EXPECT_STREQ(to_string(Error::kNotMapped), "page not mapped");
  EXPECT_STREQ(to_string(Error::kMappedByBlock), "page mapped by a block");
}

TEST(PageTablesRegime, UnmapPageInEveryRegime) {
  for (Regime r : {Regime::kEl1Stage1, Regime::kEl2Stage1, Regime::kStage2}) {
    std::vector<Table> pool(4);
    PageTables pt(pool, r);
    ASSERT_TRUE(pt.map(0x4020'0000, 0x2000, Attr::kData));
    ASSERT_TRUE(pt.unmap_page(0x4020'0000));
    EXPECT_EQ(pt.lookup(0x4020'0000), 0u);
    EXPECT_NE(pt.lookup(0x4020'1000), 0u);
  }
  std::vector<Table> empty;
  PageTables none(empty);
  EXPECT_EQ(none.unmap_page(0x1000).error(), Error::kNotMapped);
  EXPECT_FALSE(none.translate(0x1000));
}

// --- control registers ---

TEST(PageTablesRegisters, El2Values) {
  // PS = 0b101 (48 bits): T0SZ 25, SL0 1, IRGN0/ORGN0 1, SH0 3, TG0 0, PS, RES1 31.
  EXPECT_EQ(vtcr_el2(0b101), 0x8005'3559u);
  EXPECT_EQ(vtcr_el2(0b010), 0x8002'3559u);
  // T0SZ 25, IRGN0/ORGN0 1, SH0 3, TG0 0, PS, RES1 31 and 23.
  EXPECT_EQ(tcr_el2(0b101), 0x8085'3519u);
  EXPECT_EQ(tcr_el2(0b000), 0x8080'3519u);
  EXPECT_EQ(kMairEl2, kMair);
  static_assert(vtcr_el2(0b101) == 0x8005'3559u);
  static_assert(tcr_el2(0b101) == 0x8085'3519u);
}

}  // namespace
}  // namespace memory

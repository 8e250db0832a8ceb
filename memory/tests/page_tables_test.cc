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

}  // namespace
}  // namespace memory

#include "base/range.h"

#include <gtest/gtest.h>

namespace base {
namespace {

TEST(Range, MakeRefusesWrap) {
  EXPECT_FALSE(Range::make(UINT64_MAX - 1, 3));
  EXPECT_TRUE(Range::make(UINT64_MAX - 2, 2));
  EXPECT_FALSE(Range::from_bounds(10, 9));
}

TEST(Range, OverlapsAndContains) {
  const Range a{0x1000, 0x1000};
  EXPECT_TRUE(a.overlaps({0x1fff, 1}));
  EXPECT_FALSE(a.overlaps({0x2000, 1}));
  EXPECT_FALSE(a.overlaps({0x1800, 0}));
  EXPECT_TRUE(a.contains({0x1800, 0x800}));
  EXPECT_FALSE(a.contains({0x1800, 0x801}));
}

TEST(Range, PageSpan) {
  auto s = page_span({0x40400800, 0x1000});
  EXPECT_EQ(s.base, 0x40400000u);
  EXPECT_EQ(s.size, 0x2000u);
  s = page_span({0x40400000, 0x1000});
  EXPECT_EQ(s.size, 0x1000u);
  // Byte-disjoint ranges that share a page overlap page-wise.
  EXPECT_TRUE(page_span({0x40400000, 0x800}).overlaps(page_span({0x40400800, 0x10})));
  // Clamped, not wrapped, at the top of the address space.
  s = page_span({UINT64_MAX - 10, 5});
  EXPECT_EQ(s.base, UINT64_MAX & ~uint64_t{4095});
}

}  // namespace
}  // namespace base

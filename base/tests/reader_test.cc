#include "base/reader.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>

namespace base {
namespace {

constexpr std::array<std::byte, 13> kData = {
    std::byte{0x01}, std::byte{0x02}, std::byte{0x03}, std::byte{0x04},  // be32
    std::byte{0x10}, std::byte{0x20}, std::byte{0x30}, std::byte{0x40},  // be64 ...
    std::byte{0x50}, std::byte{0x60}, std::byte{0x70}, std::byte{0x80},
    std::byte{0xff}};

TEST(Reader, BigEndianReads) {
  Reader r{Bytes(kData)};
  EXPECT_EQ(r.be32(), 0x01020304u);
  EXPECT_EQ(r.offset(), 4u);
  EXPECT_EQ(r.be64(), 0x1020304050607080ull);
  EXPECT_EQ(r.remaining(), 1u);
  EXPECT_EQ(r.u8(), 0xffu);
  EXPECT_TRUE(r.at_end());
  EXPECT_FALSE(r.u8());
}

TEST(Reader, ShortReadsFailAndDoNotMove) {
  Reader r{Bytes(kData).first(7)};
  EXPECT_FALSE(r.be64());
  EXPECT_EQ(r.offset(), 0u);
  EXPECT_TRUE(r.be32());
  EXPECT_FALSE(r.be32());
  EXPECT_EQ(r.offset(), 4u);
  EXPECT_FALSE(r.bytes(4));
  EXPECT_FALSE(r.skip(4));
  EXPECT_EQ(r.offset(), 4u);
  auto b = r.bytes(3);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->size(), 3u);
  EXPECT_EQ((*b)[0], std::byte{0x10});
  EXPECT_TRUE(r.at_end());
  EXPECT_TRUE(r.bytes(0));  // an empty read at the end is fine
}

TEST(Reader, SkipAndRest) {
  Reader r{Bytes(kData)};
  EXPECT_TRUE(r.skip(12));
  EXPECT_EQ(r.rest().size(), 1u);
  EXPECT_EQ(r.all().size(), kData.size());
  EXPECT_FALSE(r.skip(2));
  EXPECT_TRUE(r.skip(1));
  EXPECT_TRUE(r.at_end());
}

TEST(Reader, HugeSizesNeverWrap) {
  Reader r{Bytes(kData)};
  EXPECT_TRUE(r.skip(4));
  EXPECT_FALSE(r.bytes(UINT64_MAX));
  EXPECT_FALSE(r.skip(UINT64_MAX - 3));  // 4 + (2^64 - 4) wraps to 0
  EXPECT_EQ(r.offset(), 4u);
  EXPECT_FALSE(r.sub(UINT64_MAX, 2));
  EXPECT_FALSE(r.sub(2, UINT64_MAX));
  EXPECT_FALSE(r.sub(UINT64_MAX - 1, 2));  // offset + size == 2^64 + 1 wraps
  EXPECT_FALSE(subspan(Bytes(kData), 1, UINT64_MAX));
}

TEST(Reader, SubIsFromTheStartAndChecksBounds) {
  Reader r{Bytes(kData)};
  EXPECT_TRUE(r.skip(8));
  auto s = r.sub(4, 4);
  ASSERT_TRUE(s);
  EXPECT_EQ((*s)[0], std::byte{0x10});
  EXPECT_EQ(r.offset(), 8u);  // the cursor does not move
  EXPECT_TRUE(r.sub(13, 0));  // empty at the end
  EXPECT_FALSE(r.sub(14, 0));
  EXPECT_FALSE(r.sub(10, 4));
  EXPECT_TRUE(r.sub(9, 4));
  auto sr = r.sub_reader(4, 8);
  ASSERT_TRUE(sr);
  EXPECT_EQ(sr->be64(), 0x1020304050607080ull);
  EXPECT_TRUE(sr->at_end());
  EXPECT_FALSE(r.sub_reader(12, 2));
}

TEST(Reader, CheckedAdd) {
  EXPECT_EQ(checked_add(1, 2), 3u);
  EXPECT_EQ(checked_add(UINT64_MAX, 0), UINT64_MAX);
  EXPECT_FALSE(checked_add(UINT64_MAX, 1));
  EXPECT_FALSE(checked_add(1ull << 63, 1ull << 63));
}

TEST(Reader, EmptySpan) {
  Reader r;
  EXPECT_TRUE(r.at_end());
  EXPECT_FALSE(r.u8());
  EXPECT_TRUE(r.sub(0, 0));
  EXPECT_FALSE(r.sub(0, 1));
}

TEST(Reader, LittleEndian) {
  const std::byte b[] = {std::byte{0x01}, std::byte{0x02}, std::byte{0x03}, std::byte{0x04},
                         std::byte{0x05}, std::byte{0x06}, std::byte{0x07}, std::byte{0x08},
                         std::byte{0x09}};
  Reader r{Bytes(b)};
  EXPECT_EQ(r.le16(), 0x0201u);
  EXPECT_EQ(r.le32(), 0x06050403u);
  EXPECT_FALSE(r.le64());  // three bytes left: nothing, cursor kept
  EXPECT_EQ(r.offset(), 6u);
  EXPECT_EQ(load_le<uint64_t>(Bytes(b).first(8)), 0x0807060504030201ull);
}

TEST(Bytes, ZeroAndText) {
  const std::byte zeros[4] = {};
  const std::byte text[] = {std::byte{'A'}, std::byte{'V'}, std::byte{'B'}, std::byte{'0'}};
  EXPECT_TRUE(all_zero(Bytes(zeros)));
  EXPECT_TRUE(all_zero(Bytes()));
  EXPECT_FALSE(all_zero(Bytes(text)));
  EXPECT_TRUE(equals(Bytes(text), "AVB0"));
  EXPECT_FALSE(equals(Bytes(text), "AVB"));
  EXPECT_FALSE(equals(Bytes(text), "AVBf"));
}

// Usable in constant expressions (the firmware has no static constructors).
static_assert([] {
  Reader r{Bytes(kData)};
  return *r.be32() == 0x01020304u && r.offset() == 4;
}());

}  // namespace
}  // namespace base

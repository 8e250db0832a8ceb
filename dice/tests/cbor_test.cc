// The strict CBOR reader and the deterministic writer: shortest forms, round
// trips, and hostile encodings (RFC 8949 §3, §4.2.1).
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <vector>

#include "dice/cbor.h"
#include "test_util.h"

namespace dice::cbor {
namespace {

using test::bytes;
using test::unhex;

std::string encode(void (*write)(Writer&)) {
  std::vector<std::byte> buf(64);
  Writer w(buf);
  write(w);
  EXPECT_TRUE(w.ok());
  return test::hex(Bytes(w.written()));
}

std::string encode_int(int64_t v) {
  std::vector<std::byte> buf(16);
  Writer w(buf);
  w.integer(v);
  return test::hex(Bytes(w.written()));
}

TEST(CborWriter, ShortestIntegers) {
  EXPECT_EQ(encode_int(0), "00");
  EXPECT_EQ(encode_int(23), "17");
  EXPECT_EQ(encode_int(24), "1818");
  EXPECT_EQ(encode_int(255), "18ff");
  EXPECT_EQ(encode_int(256), "190100");
  EXPECT_EQ(encode_int(65535), "19ffff");
  EXPECT_EQ(encode_int(65536), "1a00010000");
  EXPECT_EQ(encode_int(0xffffffff), "1affffffff");
  EXPECT_EQ(encode_int(0x100000000), "1b0000000100000000");
  EXPECT_EQ(encode_int(-1), "20");
  EXPECT_EQ(encode_int(-24), "37");
  EXPECT_EQ(encode_int(-25), "3818");
  EXPECT_EQ(encode_int(-7), "26");
  EXPECT_EQ(encode_int(-70002), "3a00011171");
  EXPECT_EQ(encode_int(-4670545), "3a00474450");
  EXPECT_EQ(encode_int(std::numeric_limits<int64_t>::min()), "3b7fffffffffffffff");
  std::vector<std::byte> buf(16);
  Writer w(buf);
  w.uint(std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(test::hex(Bytes(w.written())), "1bffffffffffffffff");
}

TEST(CborWriter, StringsContainersSimple) {
  EXPECT_EQ(encode([](Writer& w) { w.bstr({}); }), "40");
  EXPECT_EQ(encode([](Writer& w) { w.tstr("Signature1"); }), "6a5369676e617475726531");
  EXPECT_EQ(encode([](Writer& w) {
              w.array(2);
              w.map(0);
              w.null();
            }),
            "82a0f6");
  EXPECT_EQ(encode([](Writer& w) {
              w.boolean(false);
              w.boolean(true);
            }),
            "f4f5");
  EXPECT_EQ(encode([](Writer& w) { w.bstr_head(300); }), "59012c");
}

TEST(CborWriter, MeasuresAndRefusesOverflow) {
  Writer measure{std::span<std::byte>()};
  measure.map(1);
  measure.integer(-4670552);
  measure.bstr(bytes(std::string(100, 'x')));
  EXPECT_FALSE(measure.ok());
  EXPECT_EQ(measure.size(), 1u + 5u + 2u + 100u);

  std::vector<std::byte> exact(measure.size());
  Writer w(exact);
  w.map(1);
  w.integer(-4670552);
  w.bstr(bytes(std::string(100, 'x')));
  EXPECT_TRUE(w.ok());
  EXPECT_EQ(w.size(), exact.size());

  std::vector<std::byte> small(exact.size() - 1);
  Writer s(small);
  s.map(1);
  s.integer(-4670552);
  s.bstr(bytes(std::string(100, 'x')));
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(s.written().empty());
}

TEST(CborReader, IntegerRoundTrips) {
  const int64_t values[] = {0,
                            1,
                            23,
                            24,
                            255,
                            256,
                            65535,
                            65536,
                            0xffffffff,
                            0x100000000,
                            -1,
                            -24,
                            -25,
                            -256,
                            -257,
                            -65536,
                            -65537,
                            -4670554,
                            std::numeric_limits<int64_t>::max(),
                            std::numeric_limits<int64_t>::min()};
  for (int64_t v : values) {
    std::vector<std::byte> buf(16);
    Writer w(buf);
    w.integer(v);
    ASSERT_TRUE(w.ok());
    Reader r(w.written());
    auto got = r.read_int();
    ASSERT_TRUE(got.has_value()) << v;
    EXPECT_EQ(*got, v);
    EXPECT_TRUE(r.expect_end().has_value());
  }
}

TEST(CborReader, StructureRoundTrip) {
  std::vector<std::byte> buf(128);
  Writer w(buf);
  w.map(3);
  w.integer(1);
  w.bstr(bytes(std::string(32, '\x11')));
  w.integer(-70002);
  w.tstr("vm_entry");
  w.integer(3);
  w.array(2);
  w.null();
  w.boolean(true);
  ASSERT_TRUE(w.ok());

  Reader r(w.written());
  EXPECT_EQ(r.read_map().value(), 3u);
  EXPECT_EQ(r.read_int().value(), 1);
  EXPECT_EQ(r.read_bstr().value().size(), 32u);
  EXPECT_EQ(r.read_int().value(), -70002);
  EXPECT_EQ(r.read_tstr().value(), "vm_entry");
  EXPECT_EQ(r.read_int().value(), 3);
  EXPECT_EQ(r.read_array().value(), 2u);
  EXPECT_TRUE(r.read_null().has_value());
  EXPECT_EQ(r.read_bool().value(), true);
  EXPECT_TRUE(r.at_end());

  Reader whole(w.written());
  auto item = whole.read_item();
  ASSERT_TRUE(item.has_value());
  EXPECT_EQ(item->size(), w.size());
  EXPECT_TRUE(check_item(w.written()).has_value());
}

struct Hostile {
  const char* hex;
  Error error;
};

// Each is refused by read_item (and so by check_item) with the named error.
TEST(CborReader, HostileItems) {
  const Hostile cases[] = {
      {"", Error::kTruncated},
      {"18", Error::kTruncated},
      {"1901", Error::kTruncated},
      {"1805", Error::kNonShortest},
      {"190017", Error::kNonShortest},
      {"1900ff", Error::kNonShortest},
      {"1a0000ffff", Error::kNonShortest},
      {"1b00000000ffffffff", Error::kNonShortest},
      {"3817", Error::kNonShortest},
      {"5803616263", Error::kNonShortest},
      {"9801 00", Error::kNonShortest},
      {"5f", Error::kIndefiniteLength},
      {"7f", Error::kIndefiniteLength},
      {"9f", Error::kIndefiniteLength},
      {"bf", Error::kIndefiniteLength},
      {"1f", Error::kReservedInfo},
      {"1c", Error::kReservedInfo},
      {"5d", Error::kReservedInfo},
      {"ff", Error::kReservedInfo},
      {"c0", Error::kUnsupportedType},
      {"d818 40", Error::kUnsupportedType},
      {"f90000", Error::kUnsupportedType},
      {"fa00000000", Error::kUnsupportedType},
      {"fb0000000000000000", Error::kUnsupportedType},
      {"f0", Error::kUnsupportedType},
      {"f810", Error::kNonShortest},
      {"f820", Error::kUnsupportedType},
      {"43 0102", Error::kTruncated},
      {"82 01", Error::kTruncated},
      {"a1 01", Error::kTruncated},
      {"9bffffffffffffffff", Error::kTruncated},
      {"bbffffffffffffffff", Error::kTruncated},
      {"5bffffffffffffffff", Error::kTruncated},
      {"62c328", Error::kInvalidUtf8},
      {"62c080", Error::kInvalidUtf8},
      {"63eda080", Error::kInvalidUtf8},
      {"64f4908080", Error::kInvalidUtf8},
      {"61ff", Error::kInvalidUtf8},
      {"8161 ff", Error::kInvalidUtf8},
  };
  for (const Hostile& c : cases) {
    std::string h;
    for (const char* p = c.hex; *p; ++p) {
      if (*p != ' ') h += *p;
    }
    const std::vector<uint8_t> input = unhex(h);
    Reader r(bytes(input));
    auto item = r.read_item();
    ASSERT_FALSE(item.has_value()) << c.hex;
    EXPECT_EQ(item.error(), c.error) << c.hex << ": got " << to_string(item.error());
    EXPECT_EQ(r.offset(), 0u) << c.hex << ": a failed read must not move the cursor";
  }
}

TEST(CborReader, ValidUtf8AndSimpleValues) {
  // "é", "€", "😀" and false/true/null/undefined.
  const std::vector<uint8_t> input = unhex("8762c3a963e282ac64f09f9880f4f5f6f7");
  EXPECT_TRUE(check_item(bytes(input)).has_value());
}

TEST(CborReader, DepthBound) {
  auto nested = [](size_t depth) {
    std::vector<uint8_t> v(depth, 0x81);
    v.push_back(0x00);
    return v;
  };
  // The top-level array is level 1.
  EXPECT_TRUE(check_item(bytes(nested(kMaxDepth))).has_value());
  auto deep = check_item(bytes(nested(kMaxDepth + 1)));
  ASSERT_FALSE(deep.has_value());
  EXPECT_EQ(deep.error(), Error::kTooDeep);
  // Maps count too; empty containers do not open a level.
  std::vector<uint8_t> maps;  // {0: {0: ... {0: 0}}}, one level too deep
  for (size_t i = 0; i <= kMaxDepth; ++i) {
    maps.push_back(0xa1);
    maps.push_back(0x00);
  }
  maps.push_back(0x00);
  EXPECT_EQ(check_item(bytes(maps)).error(), Error::kTooDeep);
  EXPECT_TRUE(check_item(bytes(unhex("81818181818181818181818181818180"))).has_value());
}

TEST(CborReader, TypedReadsRefuseAndKeepCursor) {
  const std::vector<uint8_t> input = unhex("4101");
  Reader r(bytes(input));
  EXPECT_EQ(r.read_int().error(), Error::kWrongType);
  EXPECT_EQ(r.read_tstr().error(), Error::kWrongType);
  EXPECT_EQ(r.read_array().error(), Error::kWrongType);
  EXPECT_EQ(r.read_null().error(), Error::kWrongType);
  EXPECT_EQ(r.offset(), 0u);
  EXPECT_EQ(r.read_bstr().value().size(), 1u);
}

TEST(CborReader, IntegerRange) {
  const std::vector<uint8_t> big_bytes = unhex("1b8000000000000000");
  Reader big(bytes(big_bytes));
  EXPECT_EQ(big.read_int().error(), Error::kOutOfRange);
  EXPECT_EQ(big.read_uint().value(), 0x8000000000000000u);
  const std::vector<uint8_t> neg_bytes = unhex("3b8000000000000000");
  Reader neg(bytes(neg_bytes));
  EXPECT_EQ(neg.read_int().error(), Error::kOutOfRange);
}

TEST(CborReader, TrailingBytes) {
  EXPECT_EQ(check_item(bytes(unhex("0000"))).error(), Error::kTrailingBytes);
  const std::vector<uint8_t> input = unhex("a0ff");
  Reader r(bytes(input));
  ASSERT_TRUE(r.read_item().has_value());
  EXPECT_EQ(r.expect_end().error(), Error::kTrailingBytes);
}

}  // namespace
}  // namespace dice::cbor

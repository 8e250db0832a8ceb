#include "base/format.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace base {
namespace {

#pragma clang diagnostic ignored "-Wformat-security"  // fmt() forwards literals
#pragma clang diagnostic ignored "-Wformat-nonliteral"

std::string fmt(const char* f, auto... args) {
  char buf[256];
  size_t n = format_to(buf, sizeof(buf), f, args...);
  EXPECT_EQ(n, std::string(buf).size());
  return buf;
}

TEST(Format, Integers) {
  EXPECT_EQ(fmt("%d %i %u", -5, 7, 4000000000u), "-5 7 4000000000");
  EXPECT_EQ(fmt("%ld %lld", -9000000000L, INT64_MIN), "-9000000000 -9223372036854775808");
  EXPECT_EQ(fmt("%lu %zu", UINT64_MAX, size_t{42}), "18446744073709551615 42");
  EXPECT_EQ(fmt("%x %X %lx", 0xbeefu, 0xbeefu, 0x4000'0000'1234ul), "beef BEEF 400000001234");
}

TEST(Format, FlagsAndWidth) {
  EXPECT_EQ(fmt("[%5d][%-5d][%05d]", 42, 42, -42), "[   42][42   ][-0042]");
  EXPECT_EQ(fmt("%016lx", 0x1234ul), "0000000000001234");
  EXPECT_EQ(fmt("%#lx %#x", 0x4000'0000ul, 0u), "0x40000000 0");
  EXPECT_EQ(fmt("%#010x", 0x12u), "0x00000012");
  EXPECT_EQ(fmt("%p", reinterpret_cast<void*>(0x1000)), "0x1000");
}

TEST(Format, Strings) {
  EXPECT_EQ(fmt("%s|%-4s|%4s", "ab", "c", "d"), "ab|c   |   d");
  EXPECT_EQ(fmt("%.*s", 3, "abcdef"), "abc");
  EXPECT_EQ(fmt("%.2s", "abcdef"), "ab");
  EXPECT_EQ(fmt("%s", static_cast<const char*>(nullptr)), "(null)");
  EXPECT_EQ(fmt("%c%c", 'o', 'k'), "ok");
  EXPECT_EQ(fmt("100%%"), "100%");
}

TEST(Format, UnknownConversionIsVisible) {
  EXPECT_EQ(fmt("a %q b"), "a %q b");
  EXPECT_EQ(fmt("trailing %"), "trailing %");
}

TEST(Format, TruncatesButReportsFullLength) {
  char buf[4];
  EXPECT_EQ(format_to(buf, sizeof(buf), "%s", "abcdef"), 6u);
  EXPECT_STREQ(buf, "abc");
  EXPECT_EQ(format_to(nullptr, 0, "%d", 12345), 5u);
}

}  // namespace
}  // namespace base

// The firmware's string functions (entry/rt/string.cc), compiled for the host
// under other names (fw_memcmp, ...: see tests/meson.build) and checked
// against the C library at every alignment, length and match position.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

extern "C" {
void* fw_memcpy(void* dst, const void* src, size_t n);
void* fw_memmove(void* dst, const void* src, size_t n);
void* fw_memset(void* dst, int c, size_t n);
int fw_memcmp(const void* a, const void* b, size_t n);
void* fw_memchr(const void* s, int c, size_t n);
size_t fw_strlen(const char* s);
size_t fw_strnlen(const char* s, size_t max);
}

namespace {

int sign(int v) { return (v > 0) - (v < 0); }

TEST(FirmwareString, Memcmp) {
  std::vector<unsigned char> a(96), b(96);
  for (size_t off = 0; off < 8; ++off) {
    for (size_t n = 0; n < 40; ++n) {
      for (size_t diff = 0; diff <= n; ++diff) {
        for (size_t i = 0; i < a.size(); ++i) a[i] = b[i] = static_cast<unsigned char>(i * 7);
        if (diff < n) b[off + diff] = static_cast<unsigned char>(b[off + diff] ^ 0x80);
        EXPECT_EQ(sign(fw_memcmp(&a[off], &b[off], n)), sign(std::memcmp(&a[off], &b[off], n)))
            << off << " " << n << " " << diff;
        EXPECT_EQ(sign(fw_memcmp(&b[off], &a[off], n)), sign(std::memcmp(&b[off], &a[off], n)));
      }
    }
  }
}

TEST(FirmwareString, StrlenStrnlen) {
  std::vector<char> buf(64);
  for (size_t off = 0; off < 8; ++off) {
    for (size_t len = 0; len < 40; ++len) {
      std::fill(buf.begin(), buf.end(), 'x');
      buf[off + len] = '\0';
      const char* s = &buf[off];
      EXPECT_EQ(fw_strlen(s), len) << off << " " << len;
      for (size_t max = 0; max < 45; ++max) EXPECT_EQ(fw_strnlen(s, max), strnlen(s, max));
    }
  }
  // No NUL within max: max, whatever follows.
  std::vector<char> none(24, 'y');
  EXPECT_EQ(fw_strnlen(none.data() + 3, 16), 16u);
}

TEST(FirmwareString, Memchr) {
  std::vector<unsigned char> buf(80);
  for (size_t off = 0; off < 8; ++off) {
    for (size_t n = 0; n < 40; ++n) {
      for (size_t at = 0; at < 48; ++at) {
        for (size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<unsigned char>(1 + i % 200);
        buf[off + at] = 0xfe;
        if (at + 1 < 48) buf[off + at + 1] = 0xfe;  // a second match must not win
        const void* want = std::memchr(&buf[off], 0xfe, n);
        EXPECT_EQ(fw_memchr(&buf[off], 0xfe, n), want) << off << " " << n << " " << at;
        EXPECT_EQ(fw_memchr(&buf[off], 0x1fe, n), want);  // c is converted to unsigned char
      }
    }
  }
  EXPECT_EQ(fw_memchr(buf.data(), 0, 0), nullptr);
}

TEST(FirmwareString, CopySetMove) {
  std::vector<unsigned char> src(200), dst(200), want(200);
  for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<unsigned char>(i * 13 + 1);
  for (size_t n = 0; n < 90; ++n) {
    for (size_t off = 0; off < 8; ++off) {
      std::fill(dst.begin(), dst.end(), 0);
      fw_memcpy(&dst[off], &src[3], n);
      EXPECT_EQ(std::memcmp(&dst[off], &src[3], n), 0);
      fw_memset(&dst[off], 0x5a, n);
      for (size_t i = 0; i < n; ++i) ASSERT_EQ(dst[off + i], 0x5a);
      for (int shift : {-9, -1, 1, 9}) {
        dst = src;
        want = src;
        std::memmove(&want[50 + shift], &want[50], n);
        fw_memmove(&dst[50 + shift], &dst[50], n);
        EXPECT_EQ(dst, want) << n << " " << shift;
      }
    }
  }
}

}  // namespace

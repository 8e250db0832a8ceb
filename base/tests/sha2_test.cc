// SHA-256/512: FIPS 180-2 / NIST example vectors, and agreement with mbedTLS
// (the independent oracle) at every length around the block and padding
// boundaries, whole and split into parts, through the one-shot and the
// streaming interfaces.
#include "base/sha2.h"

#include <gtest/gtest.h>
#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>

#include <string>
#include <vector>

namespace base::sha2 {
namespace {

std::string hex(std::span<const uint8_t> b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (uint8_t x : b) {
    s += kDigits[x >> 4];
    s += kDigits[x & 0xf];
  }
  return s;
}

std::span<const std::byte> bytes(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

std::string sha256_hex(const std::string& s) {
  uint8_t out[32];
  const std::span<const std::byte> parts[] = {bytes(s)};
  sha256(parts, out);
  return hex(out);
}

std::string sha512_hex(const std::string& s) {
  uint8_t out[64];
  const std::span<const std::byte> parts[] = {bytes(s)};
  sha512(parts, out);
  return hex(out);
}

TEST(Sha2, NistVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha512_hex(""),
            "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
            "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e");
  EXPECT_EQ(sha512_hex("abc"),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
            "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
  EXPECT_EQ(sha512_hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
                       "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"),
            "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018"
            "501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha2, MatchesMbedtlsAtEveryBoundary) {
  std::vector<uint8_t> data(1200);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 131 + 7);
  for (size_t len = 0; len <= 300; ++len) {
    const auto msg = std::as_bytes(std::span(data).first(len));
    uint8_t want256[32], want512[64], got256[32], got512[64];
    ASSERT_EQ(mbedtls_sha256_ret(data.data(), len, want256, 0), 0);
    ASSERT_EQ(mbedtls_sha512_ret(data.data(), len, want512, 0), 0);
    for (size_t split : {size_t{0}, len / 3, len / 2, len}) {
      SCOPED_TRACE(testing::Message() << "len " << len << " split " << split);
      const std::span<const std::byte> parts[] = {msg.first(split), msg.subspan(split)};
      sha256(parts, got256);
      sha512(parts, got512);
      EXPECT_EQ(hex(got256), hex(want256));
      EXPECT_EQ(hex(got512), hex(want512));
    }
    // Byte by byte through the streaming interface.
    Sha512 h;
    for (std::byte b : msg) h.update(std::span(&b, 1));
    h.finish(got512);
    EXPECT_EQ(hex(got512), hex(want512)) << len;
  }
}

TEST(Sha2, EngineIsPortableOnTheHost) {
  EXPECT_STREQ(engine().name, "portable");
  EXPECT_EQ(&engine(), &portable_engine());
}

}  // namespace
}  // namespace base::sha2

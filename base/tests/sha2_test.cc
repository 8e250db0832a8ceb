// SHA-256/512: FIPS 180-2 / NIST example vectors, and the wrapper's one-shot
// and streaming interfaces agreeing at every length around the block and
// padding boundaries.
#include "base/sha2.h"

#include <gtest/gtest.h>

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
  EXPECT_EQ(sha512_hex(std::string(1000000, 'a')),
            "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973eb"
            "de0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b");
}

// The wrapper's streaming: one-shot, split in two and byte by byte agree at
// every length around the block and padding boundaries (the digests
// themselves are pinned by the FIPS vectors above).
TEST(Sha2, StreamingAgreesAtEveryBoundary) {
  std::vector<uint8_t> data(1200);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 131 + 7);
  for (size_t len = 0; len <= 300; ++len) {
    const auto msg = std::as_bytes(std::span(data).first(len));
    uint8_t want256[32], want512[64], got256[32], got512[64];
    const std::span<const std::byte> whole[] = {msg};
    sha256(whole, want256);
    sha512(whole, want512);
    for (size_t split : {size_t{0}, len / 3, len / 2, len}) {
      SCOPED_TRACE(testing::Message() << "len " << len << " split " << split);
      const std::span<const std::byte> parts[] = {msg.first(split), msg.subspan(split)};
      sha256(parts, got256);
      sha512(parts, got512);
      EXPECT_EQ(hex(got256), hex(want256));
      EXPECT_EQ(hex(got512), hex(want512));
    }
    Sha512 h;
    for (std::byte b : msg) h.update(std::span(&b, 1));
    h.finish(got512);
    EXPECT_EQ(hex(got512), hex(want512)) << len;
    Sha256 g;
    for (std::byte b : msg) g.update(std::span(&b, 1));
    g.finish(got256);
    EXPECT_EQ(hex(got256), hex(want256)) << len;
  }
}

TEST(Sha2, HostRunsTheCCode) { EXPECT_STREQ(implementation(), "c"); }

}  // namespace
}  // namespace base::sha2

#include "avb_crypto.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "avb_args.h"
#include "avb_test_util.h"

namespace pvm::avb {
namespace {

using pvm::testing::vector_file;

std::span<const uint8_t> bytes_of(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

TEST(AvbCrypto, Digests) {
  const std::span<const uint8_t> abc[] = {bytes_of("a"), bytes_of(""), bytes_of("bc")};
  EXPECT_EQ(to_hex(compute_digest(HashAlgorithm::kSha256, abc)),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(to_hex(compute_digest(HashAlgorithm::kSha512, abc)),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
            "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
  EXPECT_EQ(to_string(HashAlgorithm::kSha512), "sha512");
  EXPECT_EQ(digest_size(HashAlgorithm::kSha256), 32u);
}

TEST(AvbCrypto, RandomBytes) {
  auto a = random_bytes(32);
  auto b = random_bytes(32);
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_EQ(a->size(), 32u);
  EXPECT_NE(*a, *b);
  EXPECT_TRUE(random_bytes(0)->empty());
}

// THE public key test: avbtool extract_public_key's bytes, for every test key.
TEST(AvbCrypto, PublicKeyBlobMatchesAvbtool) {
  SKIP_WITHOUT_AVB_VECTORS();
  for (std::string name : {"testkey_rsa2048", "testkey_rsa4096", "testkey_rsa8192",
                           "testkey_cert_psk"}) {
    SCOPED_TRACE(name);
    auto key = RsaKey::from_pem(vector_file("keys/" + name + ".pem"));
    ASSERT_TRUE(key.has_value()) << to_string(key.error());
    auto blob = key->avb_public_key();
    ASSERT_TRUE(blob.has_value()) << to_string(blob.error());
    EXPECT_EQ(*blob, vector_file("keys/" + name + ".avbpubkey"));
    EXPECT_EQ(blob->size(), 8 + 2 * key->bits() / 8);
  }
}

TEST(AvbCrypto, GeneratedKeyRoundTrips) {
  auto key = RsaKey::generate(2048);
  ASSERT_TRUE(key.has_value()) << to_string(key.error());
  EXPECT_EQ(key->bits(), 2048u);
  auto pem = key->to_pem();
  ASSERT_TRUE(pem.has_value());
  std::string text(pem->bytes().begin(), pem->bytes().end());
  EXPECT_TRUE(text.starts_with("-----BEGIN RSA PRIVATE KEY-----\n")) << text.substr(0, 40);
  EXPECT_TRUE(text.ends_with("-----END RSA PRIVATE KEY-----\n"));
  auto reloaded = RsaKey::from_pem(pem->bytes());
  ASSERT_TRUE(reloaded.has_value()) << to_string(reloaded.error());
  EXPECT_EQ(reloaded->avb_public_key().value(), key->avb_public_key().value());
  // Signatures are deterministic (PKCS#1 v1.5) and the same from both copies.
  const std::span<const uint8_t> parts[] = {bytes_of("payload")};
  std::vector<uint8_t> digest = compute_digest(HashAlgorithm::kSha256, parts);
  auto first = key->sign(HashAlgorithm::kSha256, digest);
  auto second = reloaded->sign(HashAlgorithm::kSha256, digest);
  ASSERT_TRUE(first.has_value() && second.has_value());
  EXPECT_EQ(first->size(), 256u);
  EXPECT_EQ(*first, *second);
  // A digest of the wrong length is refused, not truncated.
  EXPECT_EQ(key->sign(HashAlgorithm::kSha512, digest).error().code, KeyErrc::kSignFailed);
}

TEST(AvbCrypto, Refusals) {
  EXPECT_EQ(RsaKey::generate(1024).error().code, KeyErrc::kUnsupportedSize);
  EXPECT_EQ(RsaKey::from_pem(bytes_of("not a key")).error().code, KeyErrc::kParseFailed);
  EXPECT_EQ(RsaKey::from_pem({}).error().code, KeyErrc::kParseFailed);
  // A P-256 key (openssl ecparam -name prime256v1 -genkey -noout).
  constexpr std::string_view kEcKey =
      "-----BEGIN EC PRIVATE KEY-----\n"
      "MHcCAQEEIOtl0aErhkVL4R7ZmUwNF1wksDK6oecQlwoTMemi2kbqoAoGCCqGSM49\n"
      "AwEHoUQDQgAE8dnLXZyhaDJ+AhBoKdluULc/BUf+7c4jzZkPN4YWn//jM+lk58cy\n"
      "wHnz/Hw393FUwoj15hPnXfZcfeb4jtb/mQ==\n"
      "-----END EC PRIVATE KEY-----\n";
  auto ec = RsaKey::from_pem(bytes_of(kEcKey));
  ASSERT_FALSE(ec.has_value());
  EXPECT_EQ(ec.error().code, KeyErrc::kNotRsa) << to_string(ec.error());
  EXPECT_NE(to_string(RsaKey::from_pem(bytes_of("x")).error()).find("mbedTLS -0x"),
            std::string::npos);
}

TEST(AvbCrypto, SecretBytesTruncate) {
  SecretBytes secret(8);
  for (uint8_t& byte : secret.bytes()) byte = 0xaa;
  secret.truncate(3);
  EXPECT_EQ(secret.bytes().size(), 3u);
  secret.truncate(10);  // growing is not truncating
  EXPECT_EQ(secret.bytes().size(), 3u);
  SecretBytes moved = std::move(secret);
  EXPECT_EQ(moved.bytes().size(), 3u);
}

}  // namespace
}  // namespace pvm::avb

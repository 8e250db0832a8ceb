// The format layer on its own (verify/avb.h): key blobs, RSA, footer and
// header parsing on the shared vectors' keys, and the builder itself checked
// against them (so the per-check tests' images are avbtool-shaped).
#include "avb.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "vbmeta_builder.h"

namespace verify::testing {
namespace {

const std::string kDir = VERIFY_VECTORS_DIR;

TEST(AvbKeys, SharedKeysParseAndBuilderMatchesThem) {
  REQUIRE_VECTORS();
  for (const char* key : {"testkey_rsa2048", "testkey_rsa4096", "testkey_rsa8192",
                          "testkey_cert_psk"}) {
    SCOPED_TRACE(key);
    auto blob = read_file(kDir + "/keys/" + key + ".avbpubkey");
    ASSERT_TRUE(blob);
    auto parsed = avb::parse_public_key(bytes(*blob));
    ASSERT_TRUE(parsed) << parsed.error().detail;
    EXPECT_EQ(parsed->key_num_bits * 2 / 8 + 8, blob->size());
    auto pem = RsaKey::load_pem(kDir + "/keys/" + key + ".pem");
    ASSERT_TRUE(pem);
    EXPECT_EQ(pem->avb_public_key(), *blob);
  }
}

TEST(AvbRsa, VerifiesEachKeySizeAndHash) {
  REQUIRE_VECTORS();
  for (const char* key : {"testkey_rsa2048", "testkey_rsa4096", "testkey_rsa8192"}) {
    SCOPED_TRACE(key);
    auto pem = RsaKey::load_pem(kDir + "/keys/" + key + ".pem");
    ASSERT_TRUE(pem);
    Buf blob = pem->avb_public_key();
    auto parsed = avb::parse_public_key(bytes(blob));
    ASSERT_TRUE(parsed);
    for (auto alg : {HashAlgorithm::kSha256, HashAlgorithm::kSha512}) {
      Buf digest = sha(alg, {from_string("message")});
      Buf sig = pem->sign(alg, digest);
      EXPECT_TRUE(avb::rsa_verify(*parsed, alg, bytes(digest), bytes(sig)));
      Buf other = digest;
      other[0] ^= 1;
      EXPECT_FALSE(avb::rsa_verify(*parsed, alg, bytes(other), bytes(sig)));
      // The other hash's DigestInfo never matches.
      const auto wrong = alg == HashAlgorithm::kSha256 ? HashAlgorithm::kSha512
                                                       : HashAlgorithm::kSha256;
      Buf resized = digest;
      resized.resize(avb::digest_size(wrong));
      EXPECT_FALSE(avb::rsa_verify(*parsed, wrong, bytes(resized), bytes(sig)));
      // Wrong sizes fail closed.
      Buf short_sig(sig.begin(), sig.end() - 1);
      EXPECT_FALSE(avb::rsa_verify(*parsed, alg, bytes(digest), bytes(short_sig)));
      EXPECT_FALSE(avb::rsa_verify(*parsed, alg, bytes(Buf(5)), bytes(sig)));
    }
  }
}

TEST(AvbRsa, GeneratedKey) {
  auto k = RsaKey::generate(2048, 7);
  Buf blob = k->avb_public_key();
  auto parsed = avb::parse_public_key(bytes(blob));
  ASSERT_TRUE(parsed);
  Buf digest = sha(HashAlgorithm::kSha256, {from_string("x")});
  EXPECT_TRUE(avb::rsa_verify(*parsed, HashAlgorithm::kSha256, bytes(digest),
                              bytes(k->sign(HashAlgorithm::kSha256, digest))));
}

TEST(AvbFooter, ParsesTheVectorsFooter) {
  REQUIRE_VECTORS();
  auto img = read_file(kDir + "/boot_sha256_rsa4096.img");
  ASSERT_TRUE(img);
  auto f = avb::parse_footer(bytes(*img));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->version_major, 1u);
  EXPECT_EQ(f->original_image_size, 65536u);
  EXPECT_EQ(f->vbmeta_offset, 65536u);
  auto copy = read_file(kDir + "/boot_sha256_rsa4096.vbmeta");
  ASSERT_TRUE(copy);
  EXPECT_EQ(f->vbmeta_size, copy->size());
  auto v = avb::parse_vbmeta(bytes(*copy));
  ASSERT_TRUE(v) << v.error().detail;
  EXPECT_EQ(v->algorithm, Algorithm::kSha256Rsa4096);
  EXPECT_EQ(v->hash.size(), 32u);
  EXPECT_EQ(v->signature.size(), 512u);
  EXPECT_EQ(v->public_key.size(), 1032u);
  int n = 0;
  auto walked = avb::for_each_descriptor(v->descriptors, [&](const avb::Descriptor& d) {
    ++n;
    EXPECT_EQ(d.tag, 2u);
    auto h = avb::parse_hash_descriptor(d.body);
    EXPECT_TRUE(h);
    return avb::Result<>{};
  });
  EXPECT_TRUE(walked);
  EXPECT_EQ(n, 1);
}

TEST(AvbBuilder, MatchesAvbtoolByteForByte) {
  // The vector's vbmeta rebuilt from its parts with the same key: identical
  // bytes (PKCS#1 v1.5 signatures are deterministic).
  REQUIRE_VECTORS();
  auto copy = read_file(kDir + "/boot_sha256_rsa4096.vbmeta");
  auto kernel = read_file(kDir + "/kernel.bin");
  auto salt_hex = read_file(kDir + "/salt_boot.hex");
  auto pem = RsaKey::load_pem(kDir + "/keys/testkey_rsa4096.pem");
  ASSERT_TRUE(copy && kernel && salt_hex && pem);
  std::string hex(salt_hex->begin(), salt_hex->end());
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == ' ')) hex.pop_back();
  VbmetaSpec s;
  s.algorithm = Algorithm::kSha256Rsa4096;
  s.descriptors = encode(hash_desc_for("boot", *kernel, from_hex(hex)));
  // The release string is whatever the generator wrote; take it over.
  s.release_string = std::string(reinterpret_cast<const char*>(copy->data() + 128));
  s.version_minor = get_be32(*copy, off::kVersionMinor);
  Buf built = build_vbmeta(s, pem.get());
  EXPECT_EQ(to_hex(built), to_hex(*copy));
}

TEST(AvbCompare, ConstantTimeEquality) {
  Buf a = from_string("abcdef"), b = from_string("abcdef"), c = from_string("abcdeg");
  EXPECT_TRUE(avb::ct_equal(bytes(a), bytes(b)));
  EXPECT_FALSE(avb::ct_equal(bytes(a), bytes(c)));
  EXPECT_FALSE(avb::ct_equal(bytes(a), bytes(Buf(a.begin(), a.end() - 1))));
  EXPECT_TRUE(avb::ct_equal({}, {}));
}

TEST(AvbAlgorithms, Table) {
  EXPECT_FALSE(avb::algorithm_info(Algorithm::kNone));
  auto a = avb::algorithm_info(Algorithm::kSha512Rsa8192);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->hash, HashAlgorithm::kSha512);
  EXPECT_EQ(a->hash_size, 64u);
  EXPECT_EQ(a->key_bits, 8192u);
}

}  // namespace
}  // namespace verify::testing

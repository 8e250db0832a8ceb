#include "avb_sign.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "avb_test_util.h"

namespace pvm::avb {
namespace {

using pvm::testing::vector_file;
using pvm::testing::vector_salt;

constexpr uint64_t kPartitionSize = 196608;  // manifest.json conventions.partition_size

const RsaKey& test_key(const std::string& name) {
  static std::map<std::string, RsaKey> keys;
  auto found = keys.find(name);
  if (found == keys.end()) {
    auto key = RsaKey::from_pem(vector_file("keys/" + name + ".pem"));
    EXPECT_TRUE(key.has_value()) << name;
    found = keys.emplace(name, std::move(key.value())).first;
  }
  return found->second;
}

// One add_hash_footer vector of the AVB test vectors' manifest.json.
struct FooterVector {
  std::string file;
  Algorithm algorithm;
  std::string key;  // empty for NONE
  HashAlgorithm hash = HashAlgorithm::kSha256;
  std::string salt_file = "salt_boot.hex";
  bool with_initrd = false;  // RI 5, prop com.android.virt.cap, initrd_normal descriptor
  std::string vbmeta_copy;   // the vbmeta blob alone, when the vectors have it
};

constexpr HashAlgorithm kSha256 = HashAlgorithm::kSha256;

const FooterVector kFooterVectors[] = {
    {"boot_sha256_rsa4096.img", Algorithm::kSha256Rsa4096, "testkey_rsa4096", kSha256,
     "salt_boot.hex", false, "boot_sha256_rsa4096.vbmeta"},
    {"boot_sha256_rsa2048.img", Algorithm::kSha256Rsa2048, "testkey_rsa2048", kSha256,
     "salt_boot.hex", false, "boot_sha256_rsa2048.vbmeta"},
    {"boot_sha512_rsa4096.img", Algorithm::kSha512Rsa4096, "testkey_rsa4096", kSha256,
     "salt_boot.hex", false, "boot_sha512_rsa4096.vbmeta"},
    {"boot_sha256_rsa8192.img", Algorithm::kSha256Rsa8192, "testkey_rsa8192", kSha256,
     "salt_boot.hex", false, "boot_sha256_rsa8192.vbmeta"},
    {"boot_sha256_rsa4096_desc_sha512.img", Algorithm::kSha256Rsa4096, "testkey_rsa4096",
     HashAlgorithm::kSha512, "salt_boot_sha512.hex", false, ""},
    {"boot_none.img", Algorithm::kNone, "", HashAlgorithm::kSha256, "salt_boot.hex", false, ""},
    {"boot_with_initrd_sha256_rsa4096.img", Algorithm::kSha256Rsa4096, "testkey_rsa4096",
     HashAlgorithm::kSha256, "salt_boot.hex", true, ""},
    // Negative for the verifier (wrong key), but made by add_hash_footer all the same.
    {"boot_signed_by_other_key.img", Algorithm::kSha256Rsa4096, "testkey_cert_psk",
     HashAlgorithm::kSha256, "salt_boot.hex", false, ""},
    {"boot_signed_by_rsa2048_expect4096.img", Algorithm::kSha256Rsa2048, "testkey_rsa2048",
     HashAlgorithm::kSha256, "salt_boot.hex", false, ""},
};

const Property kRemoteAttest = {"com.android.virt.cap", "remote_attest"};

HashDescriptor initrd_descriptor() {
  return make_hash_descriptor("initrd_normal", HashAlgorithm::kSha256,
                              vector_salt("salt_initrd.hex"), vector_file("initrd.bin"));
}

// Byte-for-byte against the files avbtool wrote.
TEST(AvbSign, FooterVectorsReproduceByteForByte) {
  SKIP_WITHOUT_AVB_VECTORS();
  const std::vector<uint8_t> kernel = vector_file("kernel.bin");
  for (const FooterVector& vector : kFooterVectors) {
    SCOPED_TRACE(vector.file);
    FooterSpec spec{
        .partition_name = "boot",
        .hash_algorithm = vector.hash,
        .salt = vector_salt(vector.salt_file),
        .partition_size = kPartitionSize,
        .vbmeta = {},
    };
    spec.vbmeta.algorithm = vector.algorithm;
    spec.vbmeta.key = vector.key.empty() ? nullptr : &test_key(vector.key);
    if (vector.with_initrd) {
      spec.vbmeta.rollback_index = 5;
      spec.vbmeta.properties = {kRemoteAttest};
      spec.vbmeta.included = {initrd_descriptor()};
    }
    auto signed_image = add_hash_footer(kernel, spec);
    ASSERT_TRUE(signed_image.has_value()) << to_string(signed_image.error());
    const std::vector<uint8_t> expected = vector_file(vector.file);
    ASSERT_EQ(signed_image->size(), expected.size());
    EXPECT_TRUE(*signed_image == expected) << "differs from " << vector.file;
    if (!vector.vbmeta_copy.empty()) {
      const std::vector<uint8_t> blob = vector_file(vector.vbmeta_copy);
      ASSERT_GE(signed_image->size(), 65536 + blob.size());
      EXPECT_TRUE(std::equal(blob.begin(), blob.end(), signed_image->begin() + 65536))
          << "vbmeta differs from " << vector.vbmeta_copy;
    }
    // Re-signing the signed image drops the old footer first (avbtool does too).
    auto resigned = add_hash_footer(*signed_image, spec);
    ASSERT_TRUE(resigned.has_value());
    EXPECT_TRUE(*resigned == expected) << "re-signing " << vector.file;
  }
}

TEST(AvbSign, StandaloneVbmetaVectorsReproduceByteForByte) {
  SKIP_WITHOUT_AVB_VECTORS();
  for (auto [file, key] : {std::pair{"vbmeta_standalone_sha256_rsa4096.img", "testkey_rsa4096"},
                           std::pair{"negative/neg_vbmeta_standalone_other_key.img",
                                     "testkey_cert_psk"}}) {
    SCOPED_TRACE(file);
    VbmetaSpec spec{
        .algorithm = Algorithm::kSha256Rsa4096,
        .key = &test_key(key),
        .rollback_index = 5,
        .descriptors = {},
        .properties = {kRemoteAttest},
        // Given out of order: included descriptors are sorted by name, as avbtool does.
        .included = {initrd_descriptor(),
                     make_hash_descriptor("boot", HashAlgorithm::kSha256,
                                          vector_salt("salt_boot.hex"), vector_file("kernel.bin"))},
    };
    auto image = make_vbmeta_image(spec);
    ASSERT_TRUE(image.has_value()) << to_string(image.error());
    EXPECT_TRUE(*image == vector_file(file)) << "differs from " << file;
  }
}

// ---- Layout and refusals without the vectors ----------------------------------------

std::vector<uint8_t> pattern(size_t size) {
  std::vector<uint8_t> bytes(size);
  for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<uint8_t>(i * 7 + 1);
  return bytes;
}

uint64_t be64(std::span<const uint8_t> bytes) {
  uint64_t value = 0;
  for (uint8_t byte : bytes.first(8)) value = value << 8 | byte;
  return value;
}

FooterSpec unsigned_spec() {
  return FooterSpec{.partition_name = "boot",
                    .hash_algorithm = HashAlgorithm::kSha256,
                    .salt = {1, 2, 3},
                    .partition_size = std::nullopt,
                    .vbmeta = {}};
}

// avbtool add_hash_footer --dynamic_partition_size:
//   partition_size = round_to_multiple(image_size + MAX_VBMETA_SIZE + MAX_FOOTER_SIZE, 4096)
// with MAX_VBMETA_SIZE = 64 KiB and MAX_FOOTER_SIZE = 4 KiB, whatever the
// vbmeta's own size.
uint64_t avbtool_dynamic_partition_size(uint64_t image_size) {
  return (image_size + 64 * 1024 + 4 * 1024 + 4095) / 4096 * 4096;
}

TEST(AvbSign, DynamicPartitionSizeIsAvbtools) {
  for (uint64_t size : {uint64_t{0}, uint64_t{1}, uint64_t{4095}, uint64_t{4096}, uint64_t{4097},
                        uint64_t{5000}, uint64_t{65536}, uint64_t{27250688}}) {
    EXPECT_EQ(dynamic_partition_size(size), avbtool_dynamic_partition_size(size)) << size;
  }
  EXPECT_EQ(dynamic_partition_size(5000), 77824u);
}

TEST(AvbSign, DefaultPartitionSizeIsAvbtools) {
  const std::vector<uint8_t> image = pattern(5000);
  auto out = add_hash_footer(image, unsigned_spec());
  ASSERT_TRUE(out.has_value()) << to_string(out.error());
  EXPECT_EQ(out->size(), avbtool_dynamic_partition_size(5000));
  // The smallest that would fit is less: 5000 -> 8192 of image; vbmeta = 256
  // header + 192 aux (a 176-byte hash descriptor, padded to 64) -> 4096; one
  // block for the footer.
  EXPECT_EQ(min_partition_size(5000, 448), 8192u + 4096u + 4096u);
  std::span<const uint8_t> footer = std::span(*out).last(64);
  EXPECT_EQ(std::string(footer.begin(), footer.begin() + 4), "AVBf");
  EXPECT_EQ(be64(footer.subspan(12)), 5000u);  // original_image_size
  EXPECT_EQ(be64(footer.subspan(20)), 8192u);  // vbmeta_offset
  EXPECT_EQ(be64(footer.subspan(28)), 448u);   // vbmeta_size
  EXPECT_TRUE(std::equal(image.begin(), image.end(), out->begin()));
  EXPECT_EQ(std::string(out->begin() + 8192, out->begin() + 8196), "AVB0");
  EXPECT_TRUE(strip_hash_footer(*out).size() == image.size());
  // Re-signing the result drops the old footer first: the same size again.
  auto again = add_hash_footer(*out, unsigned_spec());
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, *out);
}

TEST(AvbSign, DefaultPartitionSizeWithASignedVbmeta) {
  auto key = RsaKey::generate(2048);
  ASSERT_TRUE(key.has_value());
  FooterSpec spec = unsigned_spec();
  spec.vbmeta.algorithm = Algorithm::kSha256Rsa2048;
  spec.vbmeta.key = &*key;
  spec.vbmeta.included.push_back(
      make_hash_descriptor("initrd_normal", HashAlgorithm::kSha256, {4, 5}, pattern(100)));
  auto out = add_hash_footer(pattern(12288), spec);
  ASSERT_TRUE(out.has_value()) << to_string(out.error());
  EXPECT_EQ(out->size(), avbtool_dynamic_partition_size(12288));
}

TEST(AvbSign, PartitionSizeRefusals) {
  const std::vector<uint8_t> image = pattern(8192);
  FooterSpec spec = unsigned_spec();
  spec.partition_size = 12288;  // 8192 + 4096 of vbmeta, no room for the footer block
  EXPECT_EQ(add_hash_footer(image, spec).error().code, SignErrc::kDoesNotFit);
  spec.partition_size = 16384;
  EXPECT_EQ(add_hash_footer(image, spec)->size(), 16384u);
  spec.partition_size = 16385;
  EXPECT_EQ(add_hash_footer(image, spec).error().code, SignErrc::kPartitionSizeUnaligned);
}

TEST(AvbSign, SpecRefusals) {
  auto key = RsaKey::generate(2048);
  ASSERT_TRUE(key.has_value());
  // `edit` fills in a default spec.
  auto code = [](auto edit) {
    VbmetaSpec spec;
    edit(spec);
    return make_vbmeta_image(spec).error().code;
  };
  EXPECT_EQ(code([](VbmetaSpec& s) { s.algorithm = Algorithm::kSha256Rsa4096; }),
            SignErrc::kKeyRequired);
  EXPECT_EQ(code([&](VbmetaSpec& s) { s.key = &*key; }), SignErrc::kKeyNotUsed);
  EXPECT_EQ(code([&](VbmetaSpec& s) {
              s.algorithm = Algorithm::kSha512Rsa4096;
              s.key = &*key;
            }),
            SignErrc::kKeyDoesNotMatch);
  HashDescriptor boot = make_hash_descriptor("boot", HashAlgorithm::kSha256, {}, pattern(10));
  EXPECT_EQ(code([&](VbmetaSpec& s) {
              s.descriptors = {boot};
              s.included = {boot};
            }),
            SignErrc::kDuplicatePartition);
  HashDescriptor unnamed = boot;
  unnamed.partition_name.clear();
  EXPECT_EQ(code([&](VbmetaSpec& s) { s.included = {unnamed}; }), SignErrc::kBadPartitionName);
  EXPECT_EQ(code([](VbmetaSpec& s) { s.properties = {{"k", "1"}, {"k", "2"}}; }),
            SignErrc::kDuplicateProperty);
  EXPECT_EQ(code([](VbmetaSpec& s) { s.properties = {{"", "1"}}; }), SignErrc::kBadProperty);
  // 64 KiB of vbmeta is libavb's limit.
  EXPECT_EQ(code([](VbmetaSpec& s) { s.properties = {{"big", std::string(70000, 'x')}}; }),
            SignErrc::kVbmetaTooLarge);
  // A signed image is accepted with a matching key.
  VbmetaSpec good;
  good.algorithm = Algorithm::kSha512Rsa2048;
  good.key = &*key;
  good.descriptors = {boot};
  auto image = make_vbmeta_image(good);
  ASSERT_TRUE(image.has_value()) << to_string(image.error());
  // Header; auth 64 + 256 -> 320; aux 168-byte descriptor + 520-byte key -> 704.
  EXPECT_EQ(image->size(), 256u + 320u + 704u);
}

TEST(AvbSign, StripKeepsImagesWithoutAFooter) {
  std::vector<uint8_t> image = pattern(100);
  EXPECT_EQ(strip_hash_footer(image).size(), 100u);
  // A footer whose original size is past its own start is not trusted.
  std::vector<uint8_t> odd(128, 0);
  std::copy_n("AVBf", 4, odd.end() - 64);
  odd[odd.size() - 64 + 19] = 200;  // original_image_size = 200 > 64
  EXPECT_EQ(strip_hash_footer(odd).size(), 128u);
}

TEST(AvbSign, Names) {
  for (std::string_view name : {"NONE", "SHA256_RSA2048", "SHA256_RSA4096", "SHA256_RSA8192",
                                "SHA512_RSA2048", "SHA512_RSA4096", "SHA512_RSA8192"}) {
    auto algorithm = parse_algorithm(name);
    ASSERT_TRUE(algorithm.has_value()) << name;
    EXPECT_EQ(to_string(*algorithm), name);
  }
  EXPECT_FALSE(parse_algorithm("sha256_rsa4096").has_value());
  EXPECT_EQ(key_bits(Algorithm::kSha512Rsa8192), 8192u);
  EXPECT_EQ(parse_hash_algorithm("sha512"), HashAlgorithm::kSha512);
  EXPECT_FALSE(parse_hash_algorithm("sha1").has_value());
}

}  // namespace
}  // namespace pvm::avb

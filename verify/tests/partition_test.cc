// verify_partition (a bootloader's check of one partition, e.g. the
// hypervisor's of pvmfw.img): one check per test, each image built here and
// signed with a key generated in-process so that its only defect is the one
// under test; then every public AVB vector through both entry points.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "vbmeta_builder.h"
#include "verify/verify.h"

namespace verify::testing {
namespace {

using Outcome = std::expected<VerifiedPartition, Failure>;

class Partition : public ::testing::Test {
 protected:
  Buf image = payload(9000, 7);
  Buf salt = from_hex("0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0");
  Buf trusted = key().avb_public_key();

  Buf desc(const std::string& partition = "pvmfw", const std::string& alg = "sha256") {
    return encode(hash_desc_for(partition, image, salt, alg));
  }
  VbmetaSpec spec(Buf descriptors) {
    VbmetaSpec s;
    s.descriptors = std::move(descriptors);
    return s;
  }
  // image, vbmeta (signed by `signer`, or unsigned), zeros, footer.
  Buf partition(const VbmetaSpec& s, const RsaKey* signer = &key()) {
    return footer_image(image, build_vbmeta(s, signer));
  }
  Buf partition(Buf descriptors) { return partition(spec(std::move(descriptors))); }
  Outcome check(const Buf& p, std::string_view partition_name = "pvmfw") {
    PartitionInputs in;
    in.partition = bytes(p);
    in.partition_name = partition_name;
    in.trusted_public_key = bytes(trusted);
    return verify_partition(in);
  }
};

// ---- Accepted ----

TEST_F(Partition, AcceptsAndReportsWhatItChecked) {
  VbmetaSpec s = spec(desc());
  s.rollback_index = 9;
  const Buf p = partition(s);
  auto r = check(p);
  ASSERT_EQ(result(r), "OK");
  EXPECT_EQ(r->algorithm, Algorithm::kSha256Rsa2048);
  EXPECT_EQ(r->rollback_index, 9u);
  EXPECT_EQ(r->digest.algorithm, HashAlgorithm::kSha256);
  EXPECT_EQ(r->digest.size, 32);
  EXPECT_EQ(r->digest.image_size, image.size());
  EXPECT_EQ(to_hex(std::span(r->digest.bytes).first(32)),
            to_hex(sha(HashAlgorithm::kSha256, {salt, image})));
  // The image is a view of the partition's first image_size bytes.
  EXPECT_EQ(r->image.data(), bytes(p).data());
  EXPECT_EQ(r->image.size(), image.size());
}

TEST_F(Partition, Sha512AndRsa4096) {
  static const auto k4096 = RsaKey::generate(4096, 13);
  trusted = k4096->avb_public_key();
  VbmetaSpec s = spec(desc("pvmfw", "sha512"));
  s.algorithm = Algorithm::kSha512Rsa4096;
  auto r = check(partition(s, k4096.get()));
  ASSERT_EQ(result(r), "OK");
  EXPECT_EQ(r->algorithm, Algorithm::kSha512Rsa4096);
  EXPECT_EQ(r->digest.algorithm, HashAlgorithm::kSha512);
  EXPECT_EQ(to_hex(r->digest.bytes), to_hex(sha(HashAlgorithm::kSha512, {salt, image})));
}

TEST_F(Partition, AnyPartitionNameTheCallerExpects) {
  EXPECT_EQ(result(check(partition(desc("boot")), "boot")), "OK");
  EXPECT_EQ(result(check(partition(desc("x")), "x")), "OK");
}

// ---- The partition's name ----

TEST_F(Partition, WrongPartitionName) {
  const Buf p = partition(desc("boot"));
  EXPECT_EQ(result(check(p)), "UNEXPECTED_DESCRIPTOR (hash descriptor for an unknown partition)");
  const Buf pvmfw = partition(desc());
  for (std::string_view other : {"pvmf", "pvmfw2", "PVMFW", "pvmfw_a", ""}) {
    EXPECT_EQ(name(check(pvmfw, other)), "UNEXPECTED_DESCRIPTOR") << other;
  }
  // A NUL inside the expected name is part of it.
  EXPECT_EQ(name(check(pvmfw, std::string_view("pvmfw\0", 6))), "UNEXPECTED_DESCRIPTOR");
}

// ---- Exactly one descriptor ----

TEST_F(Partition, NoDescriptor) {
  EXPECT_EQ(result(check(partition(Buf{}))),
            "MISSING_BOOT_DESCRIPTOR (no hash descriptor for the partition)");
}

TEST_F(Partition, ExtraDescriptors) {
  EXPECT_EQ(name(check(partition(cat({desc(), desc("boot")})))), "UNEXPECTED_DESCRIPTOR");
  EXPECT_EQ(name(check(partition(cat({desc("boot"), desc()})))), "UNEXPECTED_DESCRIPTOR");
  EXPECT_EQ(result(check(partition(cat({desc(), desc()})))), "DUPLICATE_DESCRIPTOR (partition)");
  // No properties, not even the one payloads may carry.
  EXPECT_EQ(result(check(
                partition(cat({desc(), property_desc("com.android.virt.cap", "remote_attest")})))),
            "UNEXPECTED_DESCRIPTOR (property descriptor)");
  EXPECT_EQ(name(check(partition(cat({property_desc("k", "v"), desc()})))),
            "UNEXPECTED_DESCRIPTOR");
  Buf cmdline(8, 0);
  put_be32(cmdline, 4, 3);
  cmdline.insert(cmdline.end(), {'a', '=', 'b'});
  Buf chain(76, 0);
  put_be32(chain, 0, 1);
  EXPECT_EQ(name(check(partition(cat({desc(), raw_desc(1, Buf(164, 0))})))),
            "UNEXPECTED_DESCRIPTOR");
  EXPECT_EQ(name(check(partition(cat({desc(), raw_desc(3, cmdline)})))), "UNEXPECTED_DESCRIPTOR");
  EXPECT_EQ(name(check(partition(cat({desc(), raw_desc(4, chain)})))), "UNEXPECTED_DESCRIPTOR");
  EXPECT_EQ(name(check(partition(cat({desc(), raw_desc(99, Buf(8, 0))})))),
            "UNEXPECTED_DESCRIPTOR");
  // Shapes first: a malformed descriptor after an unexpected one.
  EXPECT_EQ(name(check(partition(cat({raw_desc(99, {}), desc(), raw_desc(2, Buf(8, 0))})))),
            "INVALID_DESCRIPTOR");
}

// ---- Flags, algorithms ----

TEST_F(Partition, FlagsMustBeZero) {
  HashDesc d = hash_desc_for("pvmfw", image, salt);
  d.flags = 1;  // DO_NOT_USE_AB: harmless for payloads, refused here
  EXPECT_EQ(result(check(partition(encode(d)))), "INVALID_FLAGS (hash descriptor flags not zero)");
  d.flags = 2;
  EXPECT_EQ(name(check(partition(encode(d)))), "INVALID_FLAGS");
  for (uint32_t flags : {1u, 2u}) {
    VbmetaSpec s = spec(desc());
    s.flags = flags;
    EXPECT_EQ(name(check(partition(s))), "INVALID_FLAGS") << flags;
  }
}

TEST_F(Partition, HashAlgorithmMustBeSha256OrSha512) {
  for (const char* alg : {"sha1", "sha384", "SHA256", ""}) {
    HashDesc d = hash_desc_for("pvmfw", image, salt);
    d.hash_algorithm = alg;
    EXPECT_EQ(name(check(partition(encode(d)))), "UNSUPPORTED_HASH_ALGORITHM") << alg;
  }
}

// ---- Signature and trust ----

TEST_F(Partition, Unsigned) {
  VbmetaSpec s = spec(desc());
  s.algorithm = Algorithm::kNone;
  EXPECT_EQ(result(check(partition(s, nullptr))), "OK_NOT_SIGNED (vbmeta algorithm NONE)");
}

TEST_F(Partition, OtherKey) {
  EXPECT_EQ(name(check(partition(spec(desc()), &other_key()))), "PUBLIC_KEY_REJECTED");
  // The trusted key embedded, the signature by another.
  VbmetaSpec s = spec(desc());
  s.public_key = trusted;
  EXPECT_EQ(name(check(partition(s, &other_key()))), "SIGNATURE_MISMATCH");
  // Trusting the other key instead.
  const Buf p = partition(desc());
  trusted = other_key().avb_public_key();
  EXPECT_EQ(name(check(p)), "PUBLIC_KEY_REJECTED");
  trusted = Buf(16, 0);
  EXPECT_EQ(name(check(p)), "INVALID_PUBLIC_KEY");
}

TEST_F(Partition, Rollback) {
  VbmetaSpec s = spec(desc());
  s.rollback_index = 4;
  const Buf p = partition(s);
  PartitionInputs in;
  in.partition = bytes(p);
  in.partition_name = "pvmfw";
  in.trusted_public_key = bytes(trusted);
  in.stored_rollback_index = 4;
  EXPECT_EQ(result(verify_partition(in)), "OK");
  in.stored_rollback_index = 5;
  EXPECT_EQ(result(verify_partition(in)), "ROLLBACK_INDEX (rollback index below the stored one)");
  s.rollback_index_location = 1;
  EXPECT_EQ(name(check(partition(s))), "ROLLBACK_INDEX");
}

// ---- Tampering ----

TEST_F(Partition, TamperedImageByte) {
  const Buf good = partition(desc());
  for (size_t at : {size_t{0}, image.size() / 2, image.size() - 1}) {
    Buf p = good;
    p[at] ^= 0x01;
    EXPECT_EQ(result(check(p)), "IMAGE_DIGEST_MISMATCH (partition)") << at;
  }
  // The zeros between the image and the vbmeta are not part of the image.
  Buf pad = good;
  pad[image.size()] ^= 1;
  EXPECT_EQ(result(check(pad)), "OK");
}

TEST_F(Partition, TamperedVbmetaOrFooter) {
  const Buf good = partition(desc());
  const size_t vbmeta = 12288;  // the image's size rounded up to 4 KiB
  ASSERT_EQ(get_be64(good, good.size() - 64 + 20), vbmeta);
  Buf header = good;
  header[vbmeta + 112 + 7] ^= 1;  // rollback_index
  EXPECT_EQ(name(check(header)), "HASH_MISMATCH");
  Buf sig = good;
  sig[vbmeta + 256 + 32 + 10] ^= 1;  // the signature follows the 32-byte hash
  EXPECT_EQ(name(check(sig)), "SIGNATURE_MISMATCH");
  Buf magic = good;
  magic[good.size() - 64] = 'X';
  EXPECT_EQ(name(check(magic)), "INVALID_FOOTER");
  EXPECT_EQ(name(check(Buf(good.begin(), good.end() - 1))), "INVALID_FOOTER");
  EXPECT_EQ(name(check(Buf{})), "INVALID_FOOTER");
  // No footer: never a vbmeta at offset 0 instead.
  Buf at0 = build_vbmeta(spec(desc()), &key());
  at0.resize(good.size(), 0);
  EXPECT_EQ(name(check(at0)), "INVALID_FOOTER");
}

TEST_F(Partition, DescriptorMustCoverExactlyTheImage) {
  const Buf good = partition(desc());
  const size_t f = good.size() - 64;
  Buf shorter = good;
  put_be64(shorter, f + 12, image.size() - 1);  // footer original_image_size
  EXPECT_EQ(result(check(shorter)), "IMAGE_SIZE_MISMATCH (partition (footer original_image_size))");
  // Descriptor and footer agreeing on a size that runs into the vbmeta.
  Buf big = payload(12288 + 64, 3);
  Buf p =
      footer_image(image, build_vbmeta(spec(encode(hash_desc_for("pvmfw", big, salt))), &key()));
  put_be64(p, p.size() - 64 + 12, big.size());
  EXPECT_EQ(name(check(p)), "IMAGE_SIZE_MISMATCH");
}

// ---- Both entry points over the public AVB vectors ----

// Whatever verify_partition accepts as "boot", verify_payload accepts too,
// with the same digest (the partition policy is the stricter one); the
// vectors with properties, initrds or a stored rollback index are refused.
TEST(PartitionVectors, AgreeWithVerifyPayload) {
  REQUIRE_VECTORS();
  const std::string dir = VERIFY_VECTORS_DIR;
  const auto trusted = read_file(dir + "/keys/testkey_rsa4096.avbpubkey");
  ASSERT_TRUE(trusted);
  size_t accepted = 0, images = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".img") continue;
    auto image = read_file(entry.path().string());
    ASSERT_TRUE(image);
    ++images;
    SCOPED_TRACE(entry.path().string());
    PartitionInputs part;
    part.partition = bytes(*image);
    part.partition_name = "boot";
    part.trusted_public_key = bytes(*trusted);
    auto r = verify_partition(part);
    if (!r) continue;
    ++accepted;
    PayloadInputs in;
    in.kernel = bytes(*image);
    in.trusted_public_key = bytes(*trusted);
    auto p = verify_payload(in);
    ASSERT_TRUE(p) << to_string(p.error().error);
    EXPECT_EQ(p->algorithm, r->algorithm);
    EXPECT_EQ(p->rollback_index, r->rollback_index);
    EXPECT_EQ(p->kernel.bytes, r->digest.bytes);
    EXPECT_EQ(p->kernel.image_size, r->digest.image_size);
  }
  EXPECT_GT(images, 10u);
  EXPECT_GT(accepted, 0u);
}

}  // namespace
}  // namespace verify::testing

#include "verify_report.h"

#include <gtest/gtest.h>

namespace pvm {
namespace {

verify::VerifiedPayload sample_payload() {
  verify::VerifiedPayload payload;
  payload.algorithm = verify::Algorithm::kSha256Rsa4096;
  payload.rollback_index = 5;
  payload.capabilities = verify::kCapRemoteAttest | verify::kCapTrustySecurityVm;
  payload.kernel.algorithm = verify::HashAlgorithm::kSha256;
  payload.kernel.size = 32;
  payload.kernel.bytes.fill(0xab);
  payload.kernel.image_size = 65536;
  verify::PartitionDigest initrd;
  initrd.algorithm = verify::HashAlgorithm::kSha512;
  initrd.size = 64;
  initrd.bytes.fill(0x01);
  initrd.image_size = 20479;
  payload.initrd = initrd;
  return payload;
}

TEST(VerifyReport, JsonShape) {
  verify::VerifiedPayload payload = sample_payload();
  std::string json = verified_json(payload);
  std::string ab;
  for (int i = 0; i < 32; ++i) ab += "ab";
  std::string ones;
  for (int i = 0; i < 64; ++i) ones += "01";
  EXPECT_EQ(json, R"({"result":"ok","algorithm":"SHA256_RSA4096","rollback_index":5,)"
                  R"("capabilities":["remote_attest","trusty_security_vm"],"partitions":{)"
                  R"("boot":{"hash_algorithm":"sha256","image_size":65536,"digest":")" +
                      ab + R"("},"initrd_normal":{"hash_algorithm":"sha512",)"
                           R"("image_size":20479,"digest":")" +
                      ones + R"("}}})");
  payload.debug_initrd = true;
  EXPECT_NE(verified_json(payload).find(R"("initrd_debug":)"), std::string::npos);
  payload.initrd.reset();
  payload.capabilities = 0;
  json = verified_json(payload);
  EXPECT_NE(json.find(R"("capabilities":[])"), std::string::npos);
  EXPECT_EQ(json.find("initrd"), std::string::npos);
}

TEST(VerifyReport, Summary) {
  verify::VerifiedPayload payload = sample_payload();
  std::string text = describe_verified(payload);
  EXPECT_NE(text.find("algorithm SHA256_RSA4096, rollback index 5\n"), std::string::npos) << text;
  EXPECT_NE(text.find("capabilities: remote_attest trusty_security_vm\n"), std::string::npos);
  EXPECT_NE(text.find("boot: sha256, 65536 bytes, digest abab"), std::string::npos);
  EXPECT_NE(text.find("initrd_normal: sha512, 20479 bytes, digest 0101"), std::string::npos);
  EXPECT_NE(text.find("initrd: normal\n"), std::string::npos);
  payload.debug_initrd = true;
  EXPECT_NE(describe_verified(payload).find("initrd: debug"), std::string::npos);
  payload.initrd.reset();
  payload.capabilities = 0;
  text = describe_verified(payload);
  EXPECT_NE(text.find("capabilities: none\n"), std::string::npos);
  EXPECT_NE(text.find("initrd: none\n"), std::string::npos);
}

TEST(VerifyReport, Partition) {
  verify::VerifiedPartition verified;
  verified.algorithm = verify::Algorithm::kSha256Rsa4096;
  verified.rollback_index = 3;
  verified.digest.algorithm = verify::HashAlgorithm::kSha256;
  verified.digest.size = 32;
  verified.digest.bytes.fill(0xcd);
  verified.digest.image_size = 162848;
  std::string cd;
  for (int i = 0; i < 32; ++i) cd += "cd";
  EXPECT_EQ(describe_verified_partition("pvmfw", verified),
            "verified: partition pvmfw, algorithm SHA256_RSA4096, rollback index 3\n"
            "pvmfw: sha256, 162848 bytes, digest " + cd + "\n");
  EXPECT_EQ(verified_partition_json("pvmfw", verified),
            R"({"result":"ok","algorithm":"SHA256_RSA4096","rollback_index":3,"partitions":{)"
            R"("pvmfw":{"hash_algorithm":"sha256","image_size":162848,"digest":")" + cd +
                R"("}}})");
}

TEST(VerifyReport, Failure) {
  verify::Failure failure{verify::Error::kRollbackIndex, "image 5 < stored 6"};
  EXPECT_EQ(failure_line(failure), "error: ROLLBACK_INDEX: image 5 < stored 6");
  EXPECT_EQ(failure_json(failure),
            R"({"result":"error","error":"ROLLBACK_INDEX","detail":"image 5 < stored 6"})");
  failure.detail = nullptr;
  EXPECT_EQ(failure_line(failure), "error: ROLLBACK_INDEX: ");
}

TEST(VerifyReport, Capabilities) {
  EXPECT_EQ(capability_names(0), std::vector<std::string>{});
  EXPECT_EQ(capability_names(verify::kCapSecretkeeperProtection | verify::kCapSupportsUefiBoot |
                             (1u << 31)),
            (std::vector<std::string>{"secretkeeper_protection", "supports_uefi_boot", "bit31"}));
}

TEST(VerifyReport, JsonStrings) {
  EXPECT_EQ(json_string("a\"b\\c\n\x01"), R"("a\"b\\c\n\u0001")");
}

}  // namespace
}  // namespace pvm

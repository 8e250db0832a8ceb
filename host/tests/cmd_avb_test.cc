// `pvm keygen`, `pvm key export`, `pvm sign` and `pvm verify`, run in-process.
#include "cmd_avb.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "avb_args.h"
#include "avb_sign.h"
#include "cli_test_util.h"

namespace pvm {
namespace {

using testing::file_bytes;
using testing::file_mode;
using testing::run_command;
using testing::ScratchDir;
using testing::test_key_avbpubkey;
using testing::test_key_pem;
using testing::usage_text;

constexpr std::string_view kSalt =
    "5a6b7c8d5a6b7c8d5a6b7c8d5a6b7c8d5a6b7c8d5a6b7c8d5a6b7c8d5a6b7c8d";

std::vector<uint8_t> pattern(size_t size) {
  std::vector<uint8_t> bytes(size);
  for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<uint8_t>(i * 7 + 3);
  return bytes;
}

// ---- keygen --------------------------------------------------------------------

TEST(CmdKeygen, WritesAPrivateKeyOnce) {
  ScratchDir dir;
  const std::string out = dir / "k.pem";
  auto made = run_command(cmd_keygen, {"--out", out, "--bits", "2048"});
  ASSERT_EQ(made.status, kExitOk) << made.err;
  EXPECT_EQ(made.out, "pvm: wrote a 2048-bit RSA key to " + out + "\n");
  EXPECT_EQ(file_mode(out), 0600u);
  const std::vector<uint8_t> pem = file_bytes(out);
  EXPECT_EQ(std::string(pem.begin(), pem.begin() + 31), "-----BEGIN RSA PRIVATE KEY-----");

  auto again = run_command(cmd_keygen, {"--out", out, "--bits", "2048"});
  EXPECT_EQ(again.status, kExitUsage);
  EXPECT_EQ(again.err, usage_text("keygen", out + " exists; not overwriting a key"));
  EXPECT_EQ(file_bytes(out), pem);
}

TEST(CmdKeygen, UsageAndHelp) {
  EXPECT_EQ(run_command(cmd_keygen, {}).err, usage_text("keygen", "--out: is required"));
  EXPECT_EQ(run_command(cmd_keygen, {"--out", "x", "--bits", "3072"}).status, kExitUsage);
  auto help = run_command(cmd_keygen, {"--help"});
  EXPECT_EQ(help.status, kExitOk);
  EXPECT_EQ(help.out, keygen_usage());
}

// ---- key export ----------------------------------------------------------------

TEST(CmdKey, ExportsTheAvbPublicKey) {
  ScratchDir dir;
  const std::string out = dir / "k.avbpubkey";
  auto exported = run_command(cmd_key, {"export", test_key_pem(), "--out", out});
  ASSERT_EQ(exported.status, kExitOk) << exported.err;
  EXPECT_EQ(exported.out, "");
  EXPECT_EQ(file_bytes(out), file_bytes(test_key_avbpubkey()));
}

TEST(CmdKey, Refusals) {
  ScratchDir dir;
  const std::string junk = dir.write("junk.pem", "not a key");
  auto bad = run_command(cmd_key, {"export", junk, "--out", dir / "o"});
  EXPECT_EQ(bad.status, kExitUsage);
  EXPECT_TRUE(bad.err.starts_with("pvm: " + junk + ": ")) << bad.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "o"));
  EXPECT_EQ(run_command(cmd_key, {}).err, usage_text("key", "export: is required"));
  EXPECT_EQ(run_command(cmd_key, {"import"}).err, usage_text("key", "import: unexpected argument"));
  EXPECT_EQ(run_command(cmd_key, {"export", "--help"}).out, key_usage());
  EXPECT_EQ(run_command(cmd_key, {"-h"}).out, key_usage());
}

// ---- sign ----------------------------------------------------------------------

TEST(CmdSign, DefaultPartitionSizeIsAvbtools) {
  ScratchDir dir;
  for (size_t size : {size_t{1}, size_t{4096}, size_t{5000}, size_t{70000}}) {
    const std::string image = dir.write("img", pattern(size));
    auto signed_image =
        run_command(cmd_sign, {"--key", test_key_pem(), "--algorithm", "SHA256_RSA4096",
                               "--partition", "boot", "--image", image, "--salt", kSalt});
    ASSERT_EQ(signed_image.status, kExitOk) << signed_image.err;
    // avbtool add_hash_footer --dynamic_partition_size: the image, MAX_VBMETA_SIZE
    // (64 KiB) and MAX_FOOTER_SIZE (4 KiB), rounded up to a 4096-byte block.
    const uint64_t expected = (size + 64 * 1024 + 4 * 1024 + 4095) / 4096 * 4096;
    EXPECT_EQ(file_bytes(image).size(), expected) << size;
    EXPECT_EQ(signed_image.out, "pvm: wrote partition boot to " + image + " (" +
                                    std::to_string(expected) + " bytes, SHA256_RSA4096)\n");
  }
}

TEST(CmdSign, ReSigningKeepsTheSizeAndAnExplicitSizeIsExact) {
  ScratchDir dir;
  const std::string image = dir.write("img", pattern(5000));
  const std::string out = dir / "signed";
  const std::string key = test_key_pem();
  std::initializer_list<std::string_view> words = {
      "--key",       key,    "--algorithm", "SHA256_RSA4096",
      "--partition", "boot", "--image",     image,
      "--salt",      kSalt,  "--output",    out};
  ASSERT_EQ(run_command(cmd_sign, words).status, kExitOk);
  const std::vector<uint8_t> first = file_bytes(out);
  EXPECT_EQ(file_bytes(image), pattern(5000));  // --output leaves the image alone
  // Signing the signed partition drops its footer first: the same bytes.
  ASSERT_EQ(run_command(cmd_sign, {"--key", test_key_pem(), "--algorithm", "SHA256_RSA4096",
                                   "--partition", "boot", "--image", out, "--salt", kSalt})
                .status,
            kExitOk);
  EXPECT_EQ(file_bytes(out), first);

  ASSERT_EQ(run_command(cmd_sign, {"--algorithm", "NONE", "--partition", "boot", "--image", image,
                                   "--salt", kSalt, "--partition-size", "16384"})
                .status,
            kExitOk);
  EXPECT_EQ(file_bytes(image).size(), 16384u);
  auto too_small = run_command(cmd_sign, {"--algorithm", "NONE", "--partition", "boot", "--image",
                                          image, "--salt", kSalt, "--partition-size", "8192"});
  EXPECT_EQ(too_small.status, kExitFailed);
  EXPECT_TRUE(too_small.err.starts_with("pvm: ")) << too_small.err;
}

TEST(CmdSign, VbmetaImage) {
  ScratchDir dir;
  const std::string initrd = dir.write("initrd", pattern(300));
  const std::string out = dir / "vbmeta.img";
  auto made =
      run_command(cmd_sign, {"vbmeta", "--key", test_key_pem(), "--algorithm", "SHA256_RSA4096",
                             "--output", out, "--hash-image", "initrd_normal=" + initrd,
                             "--hash-salt", std::string("initrd_normal=") + std::string(kSalt)});
  ASSERT_EQ(made.status, kExitOk) << made.err;
  const std::vector<uint8_t> vbmeta = file_bytes(out);
  EXPECT_EQ(std::string(vbmeta.begin(), vbmeta.begin() + 4), "AVB0");
  EXPECT_EQ(made.out, "pvm: wrote vbmeta image to " + out + " (" + std::to_string(vbmeta.size()) +
                          " bytes, SHA256_RSA4096)\n");
}

TEST(CmdSign, Refusals) {
  ScratchDir dir;
  const std::string image = dir.write("img", pattern(100));
  auto missing = run_command(cmd_sign, {"--key", test_key_pem(), "--algorithm", "SHA256_RSA4096",
                                        "--partition", "boot", "--image", dir / "none"});
  EXPECT_EQ(missing.status, kExitUsage);
  EXPECT_TRUE(missing.err.starts_with("pvm: " + dir / "none" + ": ")) << missing.err;
  auto wrong_size = run_command(cmd_sign, {"--key", test_key_pem(), "--algorithm", "SHA256_RSA2048",
                                           "--partition", "boot", "--image", image});
  EXPECT_EQ(wrong_size.status, kExitFailed);
  EXPECT_EQ(file_bytes(image), pattern(100));  // untouched
  EXPECT_EQ(run_command(cmd_sign, {"--partition", "boot", "--image", image}).err,
            usage_text("sign", "--algorithm: is required"));
  EXPECT_EQ(run_command(cmd_sign, {"vbmeta", "--help"}).out, sign_usage());
}

// ---- verify --------------------------------------------------------------------

class CmdVerify : public ::testing::Test {
 protected:
  void SetUp() override {
    kernel_ = dir_.write("kernel", pattern(6000));
    ASSERT_EQ(run_command(cmd_sign,
                          {"--key", test_key_pem(), "--algorithm", "SHA256_RSA4096", "--partition",
                           "boot", "--image", kernel_, "--salt", kSalt, "--rollback-index", "3"})
                  .status,
              kExitOk);
  }
  ScratchDir dir_;
  std::string kernel_;
};

TEST_F(CmdVerify, AcceptsWhatSignSigned) {
  auto text = run_command(cmd_verify, {"--key", test_key_avbpubkey(), "--kernel", kernel_});
  ASSERT_EQ(text.status, kExitOk) << text.err;
  EXPECT_TRUE(text.out.starts_with("verified: algorithm SHA256_RSA4096, rollback index 3\n"))
      << text.out;
  EXPECT_NE(text.out.find("boot: sha256, 6000 bytes, digest "), std::string::npos) << text.out;
  EXPECT_EQ(text.err, "");

  auto json =
      run_command(cmd_verify, {"--key", test_key_avbpubkey(), "--kernel", kernel_, "--json"});
  ASSERT_EQ(json.status, kExitOk);
  EXPECT_TRUE(json.out.starts_with("{\"result\":\"ok\",\"algorithm\":\"SHA256_RSA4096\""))
      << json.out;
  EXPECT_EQ(json.out.back(), '\n');
}

TEST_F(CmdVerify, RefusesAnotherKeyAndRollback) {
  ScratchDir keys;
  const std::string other = keys / "other.avbpubkey";
  ASSERT_EQ(run_command(cmd_key, {"export", testing::other_key_pem(), "--out", other}).status,
            kExitOk);
  auto refused = run_command(cmd_verify, {"--key", other, "--kernel", kernel_, "--json"});
  EXPECT_EQ(refused.status, kExitFailed);
  EXPECT_TRUE(refused.err.starts_with("error: ")) << refused.err;
  EXPECT_EQ(refused.err.find('\n'), refused.err.size() - 1);  // one line
  EXPECT_TRUE(refused.out.starts_with("{\"result\":\"error\",\"error\":")) << refused.out;

  auto rolled_back = run_command(cmd_verify, {"--key", test_key_avbpubkey(), "--kernel", kernel_,
                                              "--stored-rollback-index", "4"});
  EXPECT_EQ(rolled_back.status, kExitFailed);
  EXPECT_EQ(rolled_back.out, "");
}

TEST_F(CmdVerify, UnreadableInputsAreUsageErrors) {
  auto missing = run_command(cmd_verify, {"--key", dir_ / "none", "--kernel", kernel_});
  EXPECT_EQ(missing.status, kExitUsage);
  EXPECT_TRUE(missing.err.starts_with("pvm: " + dir_ / "none" + ": ")) << missing.err;
  EXPECT_TRUE(missing.err.ends_with("pvm: see `pvm verify --help`\n")) << missing.err;
  EXPECT_EQ(run_command(cmd_verify, {"--kernel", kernel_}).err,
            usage_text("verify", "--key: is required"));
  EXPECT_EQ(run_command(cmd_verify, {"-h"}).out, verify_usage());
}

// ---- verify --partition ------------------------------------------------------------

class CmdVerifyPartition : public ::testing::Test {
 protected:
  void SetUp() override {
    image_ = dir_.write("pvmfw.img", pattern(7000));
    ASSERT_EQ(run_command(cmd_sign,
                          {"--key", test_key_pem(), "--algorithm", "SHA256_RSA4096", "--partition",
                           "pvmfw", "--image", image_, "--salt", kSalt, "--rollback-index", "2"})
                  .status,
              kExitOk);
  }
  ScratchDir dir_;
  std::string image_;
};

TEST_F(CmdVerifyPartition, AcceptsWhatSignSigned) {
  // The digest is H(salt || image), the image the 7000 bytes signed.
  const std::vector<uint8_t> salt = *parse_hex(kSalt), image = pattern(7000);
  const std::span<const uint8_t> parts[] = {salt, image};
  const std::string digest = to_hex(avb::compute_digest(avb::HashAlgorithm::kSha256, parts));
  auto text =
      run_command(cmd_verify, {"--partition", "pvmfw", "--key", test_key_avbpubkey(), image_});
  ASSERT_EQ(text.status, kExitOk) << text.err;
  EXPECT_EQ(text.out,
            "verified: partition pvmfw, algorithm SHA256_RSA4096, rollback index 2\n"
            "pvmfw: sha256, 7000 bytes, digest " + digest + "\n");
  EXPECT_EQ(text.err, "");
  auto json = run_command(cmd_verify, {"--json", "--partition=pvmfw", image_, "--key",
                                       test_key_avbpubkey()});
  ASSERT_EQ(json.status, kExitOk) << json.err;
  EXPECT_TRUE(json.out.starts_with(R"({"result":"ok","algorithm":"SHA256_RSA4096",)"
                                   R"("rollback_index":2,"partitions":{"pvmfw":)"))
      << json.out;
}

TEST_F(CmdVerifyPartition, Refusals) {
  auto wrong_name =
      run_command(cmd_verify, {"--partition", "boot", "--key", test_key_avbpubkey(), image_});
  EXPECT_EQ(wrong_name.status, kExitFailed);
  EXPECT_EQ(wrong_name.err,
            "error: UNEXPECTED_DESCRIPTOR: hash descriptor for an unknown partition\n");
  EXPECT_EQ(wrong_name.out, "");

  ScratchDir keys;
  const std::string other = keys / "other.avbpubkey";
  ASSERT_EQ(run_command(cmd_key, {"export", testing::other_key_pem(), "--out", other}).status,
            kExitOk);
  auto other_key = run_command(cmd_verify, {"--partition", "pvmfw", "--key", other, image_,
                                            "--json"});
  EXPECT_EQ(other_key.status, kExitFailed);
  EXPECT_EQ(other_key.err, "error: PUBLIC_KEY_REJECTED: vbmeta key is not the trusted key\n");
  EXPECT_TRUE(other_key.out.starts_with(R"({"result":"error","error":"PUBLIC_KEY_REJECTED")"))
      << other_key.out;

  auto rolled_back = run_command(cmd_verify, {"--partition", "pvmfw", "--key",
                                              test_key_avbpubkey(), image_,
                                              "--stored-rollback-index", "3"});
  EXPECT_EQ(rolled_back.status, kExitFailed);
  EXPECT_TRUE(rolled_back.err.starts_with("error: ROLLBACK_INDEX: ")) << rolled_back.err;

  // One flipped byte of the image.
  std::vector<uint8_t> bytes = file_bytes(image_);
  bytes[100] ^= 1;
  const std::string tampered = dir_.write("tampered.img", bytes);
  auto flipped =
      run_command(cmd_verify, {"--partition", "pvmfw", "--key", test_key_avbpubkey(), tampered});
  EXPECT_EQ(flipped.status, kExitFailed);
  EXPECT_EQ(flipped.err, "error: IMAGE_DIGEST_MISMATCH: partition\n");

  // Unsigned.
  const std::string unsigned_image = dir_.write("unsigned.img", pattern(7000));
  ASSERT_EQ(run_command(cmd_sign, {"--algorithm", "NONE", "--partition", "pvmfw", "--image",
                                   unsigned_image, "--salt", kSalt})
                .status,
            kExitOk);
  auto none = run_command(cmd_verify,
                          {"--partition", "pvmfw", "--key", test_key_avbpubkey(), unsigned_image});
  EXPECT_EQ(none.status, kExitFailed);
  EXPECT_TRUE(none.err.starts_with("error: OK_NOT_SIGNED: ")) << none.err;

  auto missing = run_command(cmd_verify, {"--partition", "pvmfw", "--key", test_key_avbpubkey(),
                                          dir_ / "none"});
  EXPECT_EQ(missing.status, kExitUsage);
  EXPECT_TRUE(missing.err.starts_with("pvm: " + dir_ / "none" + ": ")) << missing.err;
  EXPECT_EQ(run_command(cmd_verify, {"--partition", "pvmfw", "--key", test_key_avbpubkey()}).err,
            usage_text("verify", "IMAGE: is required"));
  EXPECT_EQ(run_command(cmd_verify, {"--partition", "pvmfw", "--key", test_key_avbpubkey(),
                                     "--kernel", image_, image_})
                .err,
            usage_text("verify", "--kernel: conflicts with another option"));
}

TEST(LoadPrivateKey, NamesThePath) {
  EXPECT_EQ(load_private_key(test_key_pem())->bits(), 4096u);
  auto missing = load_private_key("/nonexistent/k.pem");
  ASSERT_FALSE(missing.has_value());
  EXPECT_TRUE(missing.error().starts_with("/nonexistent/k.pem: ")) << missing.error();
}

}  // namespace
}  // namespace pvm

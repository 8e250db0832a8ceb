#include "avb_args.h"

#include <gtest/gtest.h>

#include <vector>

namespace pvm {
namespace {

using W = std::vector<std::string_view>;

TEST(AvbArgs, Keygen) {
  auto args = parse_keygen_args(W{"--out", "k.pem"});
  ASSERT_TRUE(args.has_value());
  EXPECT_EQ(args->out, "k.pem");
  EXPECT_EQ(args->bits, 4096u);
  EXPECT_EQ(parse_keygen_args(W{"--out=k", "--bits=8192"})->bits, 8192u);
  EXPECT_EQ(parse_keygen_args(W{"--out", "k", "--bits", "3072"}).error().code,
            ArgErrc::kOutOfRange);
  EXPECT_EQ(to_string(parse_keygen_args(W{}).error()), "--out: is required");
  EXPECT_TRUE(parse_keygen_args(W{"--help"})->help);
}

TEST(AvbArgs, KeyExport) {
  auto args = parse_key_args(W{"export", "k.pem", "--out", "k.avbpubkey"});
  ASSERT_TRUE(args.has_value()) << to_string(args.error());
  EXPECT_EQ(args->key, "k.pem");
  EXPECT_EQ(args->out, "k.avbpubkey");
  EXPECT_EQ(parse_key_args(W{"import", "k"}).error().code, ArgErrc::kUnexpectedArgument);
  EXPECT_EQ(parse_key_args(W{"export", "a", "b", "--out", "o"}).error().option, "b");
  EXPECT_EQ(parse_key_args(W{"export", "--out", "o"}).error().code, ArgErrc::kRequired);
  EXPECT_EQ(parse_key_args(W{"export", "k"}).error().option, "--out");
  EXPECT_EQ(parse_key_args(W{}).error().code, ArgErrc::kRequired);
  EXPECT_TRUE(parse_key_args(W{"--help"})->help);
  EXPECT_TRUE(parse_key_args(W{"export", "--help"})->help);
}

TEST(AvbArgs, SignFooter) {
  auto args = parse_sign_args(W{"--key", "k.pem", "--algorithm", "SHA256_RSA4096", "--partition",
                                "boot", "--image", "kernel", "--partition-size", "196608",
                                "--salt", "00FFab", "--rollback-index", "5", "--prop",
                                "com.android.virt.cap:remote_attest", "--prop", "a:b:c",
                                "--hash-image", "initrd_normal=initrd.img", "--hash-salt",
                                "initrd_normal=01", "--hash-algorithm", "sha512", "--output",
                                "out.img"});
  ASSERT_TRUE(args.has_value()) << to_string(args.error());
  EXPECT_FALSE(args->vbmeta_image);
  EXPECT_EQ(args->key, "k.pem");
  EXPECT_EQ(args->algorithm, avb::Algorithm::kSha256Rsa4096);
  EXPECT_EQ(args->partition, "boot");
  EXPECT_EQ(args->image, "kernel");
  EXPECT_EQ(args->partition_size, 196608u);
  EXPECT_EQ(args->salt, (std::vector<uint8_t>{0x00, 0xff, 0xab}));
  EXPECT_EQ(args->rollback_index, 5u);
  ASSERT_EQ(args->properties.size(), 2u);
  EXPECT_EQ(args->properties[0].key, "com.android.virt.cap");
  EXPECT_EQ(args->properties[0].value, "remote_attest");
  EXPECT_EQ(args->properties[1].key, "a");
  EXPECT_EQ(args->properties[1].value, "b:c");
  ASSERT_EQ(args->hash_images.size(), 1u);
  EXPECT_EQ(args->hash_images[0].partition, "initrd_normal");
  EXPECT_EQ(args->hash_images[0].file, "initrd.img");
  ASSERT_EQ(args->hash_salts.size(), 1u);
  EXPECT_EQ(args->hash_salts[0].salt, (std::vector<uint8_t>{0x01}));
  EXPECT_EQ(args->hash_algorithm, avb::HashAlgorithm::kSha512);
  EXPECT_EQ(args->output, "out.img");
}

TEST(AvbArgs, SignDefaults) {
  auto args = parse_sign_args(W{"--algorithm=NONE", "--partition=boot", "--image=k"});
  ASSERT_TRUE(args.has_value()) << to_string(args.error());
  EXPECT_FALSE(args->key.has_value());
  EXPECT_FALSE(args->salt.has_value());
  EXPECT_FALSE(args->partition_size.has_value());
  EXPECT_FALSE(args->output.has_value());
  EXPECT_EQ(args->rollback_index, 0u);
  EXPECT_EQ(args->hash_algorithm, avb::HashAlgorithm::kSha256);
  // An empty salt is a salt of no bytes, as in avbtool.
  EXPECT_EQ(parse_sign_args(W{"--algorithm=NONE", "--partition=boot", "--image=k", "--salt="})
                ->salt,
            std::vector<uint8_t>{});
}

TEST(AvbArgs, SignVbmeta) {
  auto args = parse_sign_args(W{"vbmeta", "--key", "k", "--algorithm", "SHA512_RSA8192", "--output",
                                "vbmeta.img", "--hash-image", "boot=kernel", "--hash-image",
                                "initrd_normal=initrd"});
  ASSERT_TRUE(args.has_value()) << to_string(args.error());
  EXPECT_TRUE(args->vbmeta_image);
  EXPECT_EQ(args->hash_images.size(), 2u);
  // Footer-only options are unknown in this form.
  EXPECT_EQ(parse_sign_args(W{"vbmeta", "--algorithm=NONE", "--output=o", "--image", "x"})
                .error()
                .code,
            ArgErrc::kUnknownOption);
  EXPECT_EQ(parse_sign_args(W{"vbmeta", "--algorithm=NONE"}).error().option, "--output");
}

TEST(AvbArgs, SignErrors) {
  auto error = [](W words) { return parse_sign_args(words).error(); };
  const W base = {"--partition", "boot", "--image", "k"};
  auto with = [&](W extra) {
    W words = base;
    words.insert(words.end(), extra.begin(), extra.end());
    return error(words);
  };
  EXPECT_EQ(with({}).option, "--algorithm");
  EXPECT_EQ(with({"--algorithm", "SHA256_RSA4096"}).option, "--key");
  EXPECT_EQ(with({"--algorithm", "NONE", "--key", "k"}).code, ArgErrc::kConflict);
  EXPECT_EQ(with({"--algorithm", "RSA"}).code, ArgErrc::kBadValue);
  EXPECT_EQ(error(W{"--algorithm=NONE", "--image=k"}).option, "--partition");
  EXPECT_EQ(error(W{"--algorithm=NONE", "--partition=boot"}).option, "--image");
  EXPECT_EQ(with({"--algorithm=NONE", "--salt", "abc"}).code, ArgErrc::kBadValue);
  EXPECT_EQ(with({"--algorithm=NONE", "--salt", "zz"}).code, ArgErrc::kBadValue);
  EXPECT_EQ(with({"--algorithm=NONE", "--partition-size", "4097"}).code, ArgErrc::kBadValue);
  EXPECT_EQ(with({"--algorithm=NONE", "--partition-size", "0"}).code, ArgErrc::kOutOfRange);
  EXPECT_EQ(with({"--algorithm=NONE", "--prop", "novalue"}).code, ArgErrc::kBadValue);
  EXPECT_EQ(with({"--algorithm=NONE", "--prop", ":v"}).code, ArgErrc::kBadValue);
  EXPECT_EQ(with({"--algorithm=NONE", "--hash-image", "initrd"}).code, ArgErrc::kBadValue);
  EXPECT_EQ(with({"--algorithm=NONE", "--hash-image", "boot=x"}).code, ArgErrc::kConflict);
  EXPECT_EQ(with({"--algorithm=NONE", "--hash-image", "a=x", "--hash-image", "a=y"}).code,
            ArgErrc::kConflict);
  EXPECT_EQ(with({"--algorithm=NONE", "--hash-salt", "a=00"}).code, ArgErrc::kBadValue);
  EXPECT_EQ(with({"--algorithm=NONE", "--hash-image", "a=x", "--hash-salt", "a=00",
                  "--hash-salt", "a=01"})
                .code,
            ArgErrc::kConflict);
  EXPECT_EQ(with({"--algorithm=NONE", "--hash-algorithm", "md5"}).code, ArgErrc::kBadValue);
  EXPECT_EQ(with({"--algorithm=NONE", "--rollback-index", "-1"}).code, ArgErrc::kBadNumber);
  EXPECT_EQ(with({"--algorithm=NONE", "stray"}).code, ArgErrc::kUnexpectedArgument);
  EXPECT_TRUE(parse_sign_args(W{"--help"})->help);
}

TEST(AvbArgs, Verify) {
  auto args = parse_verify_args(W{"--key", "k.avbpubkey", "--kernel", "boot.img", "--initrd", "i",
                                  "--vbmeta", "v", "--stored-rollback-index", "6", "--json"});
  ASSERT_TRUE(args.has_value()) << to_string(args.error());
  EXPECT_EQ(args->key, "k.avbpubkey");
  EXPECT_EQ(args->kernel, "boot.img");
  EXPECT_EQ(args->initrd, "i");
  EXPECT_EQ(args->vbmeta, "v");
  EXPECT_EQ(args->stored_rollback_index, 6u);
  EXPECT_TRUE(args->json);
  EXPECT_EQ(parse_verify_args(W{"--kernel", "k"}).error().option, "--key");
  EXPECT_EQ(parse_verify_args(W{"--key", "k"}).error().option, "--kernel");
  EXPECT_EQ(parse_verify_args(W{"--key", "k", "--kernel", "b", "--json=1"}).error().code,
            ArgErrc::kUnexpectedArgument);
  EXPECT_TRUE(parse_verify_args(W{"-h"})->help);
}

TEST(AvbArgs, VerifyPartition) {
  auto args = parse_verify_args(W{"--partition", "pvmfw", "--key", "p.avbpubkey", "pvmfw.img",
                                  "--stored-rollback-index", "2", "--json"});
  ASSERT_TRUE(args.has_value()) << to_string(args.error());
  EXPECT_EQ(args->partition, "pvmfw");
  EXPECT_EQ(args->key, "p.avbpubkey");
  EXPECT_EQ(args->image, "pvmfw.img");
  EXPECT_EQ(args->stored_rollback_index, 2u);
  EXPECT_TRUE(args->json);
  EXPECT_TRUE(args->kernel.empty());
  auto error = [](std::initializer_list<std::string_view> words) {
    auto parsed = parse_verify_args(std::span<const std::string_view>(words.begin(), words.size()));
    EXPECT_FALSE(parsed.has_value());
    return parsed ? std::string("accepted") : to_string(parsed.error());
  };
  EXPECT_EQ(error({"--partition", "pvmfw", "--key", "k"}), "IMAGE: is required");
  EXPECT_EQ(error({"--partition", "pvmfw", "img"}), "--key: is required");
  EXPECT_EQ(error({"--partition", "pvmfw", "--key", "k", "a", "b"}), "b: unexpected argument");
  EXPECT_EQ(error({"--partition", "pvmfw", "--key", "k", "--kernel", "b", "a"}),
            "--kernel: conflicts with another option");
  EXPECT_EQ(error({"--partition", "pvmfw", "--key", "k", "--initrd", "i", "a"}),
            "--initrd: conflicts with another option");
  EXPECT_EQ(error({"--partition", "pvmfw", "--key", "k", "--vbmeta", "v", "a"}),
            "--vbmeta: conflicts with another option");
  EXPECT_EQ(error({"--partition=", "--key", "k", "a"}), "--partition: bad value");
  // Without --partition there is no IMAGE.
  EXPECT_EQ(error({"--key", "k", "--kernel", "b", "img"}), "img: unexpected argument");
  EXPECT_NE(verify_usage().find("--partition NAME"), std::string_view::npos);
}

TEST(AvbArgs, HelpSkipsTheRequiredOptions) {
  EXPECT_TRUE(parse_keygen_args(W{"-h"})->help);
  EXPECT_TRUE(parse_sign_args(W{"vbmeta", "--help"})->help);
  EXPECT_TRUE(parse_verify_args(W{"--json", "--help"})->help);
  // A bad option is reported even next to --help.
  EXPECT_EQ(parse_verify_args(W{"--help", "--bogus"}).error().code, ArgErrc::kUnknownOption);
  EXPECT_EQ(parse_key_args(W{"export", "--help", "--bogus"}).error().code,
            ArgErrc::kUnknownOption);
}

TEST(AvbArgs, UsageMentionsEveryOption) {
  for (std::string_view option : {"--partition-size", "--hash-image", "--hash-salt", "--prop",
                                  "--rollback-index", "--dynamic_partition_size"}) {
    EXPECT_NE(sign_usage().find(option), std::string_view::npos) << option;
  }
  EXPECT_NE(verify_usage().find("--stored-rollback-index"), std::string_view::npos);
  EXPECT_NE(keygen_usage().find("--bits"), std::string_view::npos);
  EXPECT_NE(key_usage().find("export"), std::string_view::npos);
}

}  // namespace
}  // namespace pvm

// `pvm dice`, `pvm device` and `pvm config`, run in-process. The chain and
// the derivation are checked independently by dice/tests/dice_cli_test.py;
// here: the commands' plumbing, output forms and exit statuses.
#include "cmd_dice.h"

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include <dice/crypto.h>
#include <dice/dice.h>
#include <dice/pvmfw.h>

#include "cli_test_util.h"
#include "cmd_avb.h"

namespace pvm {
namespace {

namespace fs = std::filesystem;
using testing::file_bytes;
using testing::file_mode;
using testing::run_command;
using testing::ScopedEnv;
using testing::ScratchDir;
using testing::usage_text;

std::string repeat(std::string_view two_digits, size_t bytes) {
  std::string s;
  for (size_t i = 0; i < bytes; ++i) s += two_digits;
  return s;
}

// ---- dice derive ---------------------------------------------------------------

TEST(CmdDice, DeriveMatchesTheLibrary) {
  const std::string attest = repeat("11", 32), seal = repeat("22", 32), code = repeat("33", 64),
                    config = repeat("44", 64), authority = repeat("55", 64),
                    hidden = repeat("66", 64);
  auto text =
      run_command(cmd_dice, {"derive", "--cdi-attest", attest, "--cdi-seal", seal, "--code-hash",
                             code, "--config-inline", config, "--authority-hash", authority,
                             "--mode", "1", "--hidden", hidden});
  ASSERT_EQ(text.status, kExitOk) << text.err;

  dice::InputValues in;
  in.code_hash.fill(0x33);
  in.config_value.fill(0x44);
  in.authority_hash.fill(0x55);
  in.hidden.fill(0x66);
  in.mode = dice::Mode::kNormal;
  std::array<uint8_t, dice::kCdiSize> cdi_attest, cdi_seal, next_attest, next_seal;
  cdi_attest.fill(0x11);
  cdi_seal.fill(0x22);
  ASSERT_TRUE(dice::derive_next_cdis(cdi_attest, cdi_seal, in, next_attest, next_seal));
  EXPECT_EQ(text.out,
            "cdi_attest " + to_hex(next_attest) + "\ncdi_seal " + to_hex(next_seal) + "\n");

  auto json =
      run_command(cmd_dice, {"derive", "--cdi-attest", attest, "--cdi-seal", seal, "--code-hash",
                             code, "--config-inline", config, "--authority-hash", authority,
                             "--mode", "1", "--hidden", hidden, "--json"});
  EXPECT_EQ(json.out, "{\"cdi_attest\":\"" + to_hex(next_attest) + "\",\"cdi_seal\":\"" +
                          to_hex(next_seal) + "\"}\n");
}

TEST(CmdDice, UsageErrorsAndHelp) {
  auto bare = run_command(cmd_dice, {});
  EXPECT_EQ(bare.status, kExitUsage);
  EXPECT_EQ(bare.out, dice_usage());
  EXPECT_EQ(run_command(cmd_dice, {"--help"}).out, dice_usage());
  EXPECT_EQ(run_command(cmd_dice, {"inspect", "-h"}).out, dice_usage());
  EXPECT_EQ(run_command(cmd_dice, {"derive", "--help"}).status, kExitOk);
  EXPECT_EQ(run_command(cmd_dice, {"frob"}).err, usage_text("dice", "unknown verb 'frob'"));
  EXPECT_EQ(run_command(cmd_dice, {"derive", "--cdi-attest", "00"}).err,
            usage_text("dice", "--cdi-attest: bad value"));
  EXPECT_EQ(run_command(cmd_dice, {"expect", "--kernel", "k"}).err,
            usage_text("dice", "--key: required"));
  EXPECT_EQ(run_command(cmd_dice, {"inspect"}).err,
            usage_text("dice", "inspect takes one HANDOVER file"));
}

// ---- device, then dice inspect and config on what it makes ------------------------

TEST(CmdDevice, InitHandoverInspect) {
  ScratchDir dir;
  ScopedEnv state("PVM_STATE", dir / "state");
  const std::string secret = dir / "state/device-secret";
  auto init = run_command(cmd_device, {"init"});
  ASSERT_EQ(init.status, kExitOk) << init.err;
  EXPECT_EQ(init.out, "pvm: wrote a new 32-byte device secret to " + secret + " (mode 0600)\n");
  EXPECT_EQ(file_mode(secret), 0600u);
  EXPECT_EQ(file_bytes(secret).size(), 32u);
  auto again = run_command(cmd_device, {"init"});
  EXPECT_EQ(again.status, kExitFailed);
  EXPECT_EQ(again.err,
            "pvm: " + secret + " exists; a device keeps its secret (remove it to start over)\n");

  const std::string handover = dir / "handover.cbor";
  auto made = run_command(cmd_device, {"handover", "--out", handover});
  ASSERT_EQ(made.status, kExitOk) << made.err;
  const std::vector<uint8_t> bytes = file_bytes(handover);
  EXPECT_EQ(made.out, "pvm: wrote the previous-stage DICE handover (" +
                          std::to_string(bytes.size()) + " bytes) to " + handover + "\n");
  EXPECT_EQ(file_mode(handover), 0600u);
  auto previous = device_previous_stage_handover(secret);
  ASSERT_TRUE(previous.has_value()) << previous.error();
  EXPECT_EQ(*previous, bytes);

  auto inspected = run_command(cmd_dice, {"inspect", handover});
  ASSERT_EQ(inspected.status, kExitOk) << inspected.err;
  EXPECT_TRUE(
      inspected.out.starts_with("DICE handover, " + std::to_string(bytes.size()) + " bytes\n"))
      << inspected.out;
  EXPECT_NE(inspected.out.find("chain verified: 1 certificate, the last one certifying "
                               "CDI_Attest's key\n"),
            std::string::npos)
      << inspected.out;
  auto json = run_command(cmd_dice, {"inspect", handover, "--json"});
  EXPECT_TRUE(json.out.starts_with("{\"result\":\"ok\",\"size\":")) << json.out;

  // A config blob holding it, and a firmware image with the blob appended.
  const std::string blob = dir / "config.bin";
  auto packed = run_command(cmd_config, {"pack", "--dice-handover", handover, "--out", blob});
  ASSERT_EQ(packed.status, kExitOk) << packed.err;
  EXPECT_TRUE(packed.out.starts_with("pvm: wrote config v1.")) << packed.out;
  auto unpacked = run_command(cmd_config, {"unpack", blob});
  ASSERT_EQ(unpacked.status, kExitOk) << unpacked.err;
  EXPECT_TRUE(unpacked.out.starts_with("pvmfw config v1.")) << unpacked.out;
  const std::string firmware = dir.write("fw.bin", std::string(5000, 'f'));
  auto appended = run_command(
      cmd_config, {"append", "--firmware", firmware, "--config", blob, "--out", dir / "image.bin"});
  ASSERT_EQ(appended.status, kExitOk) << appended.err;
  const std::vector<uint8_t> image = file_bytes(dir / "image.bin");
  ASSERT_EQ(image.size(), 8192 + file_bytes(blob).size());
  EXPECT_TRUE(std::equal(image.begin() + 8192, image.end(), file_bytes(blob).begin()));
}

TEST(CmdDevice, Refusals) {
  ScratchDir dir;
  auto bare = run_command(cmd_device, {});
  EXPECT_EQ(bare.status, kExitUsage);
  EXPECT_EQ(bare.out, device_usage());
  EXPECT_EQ(run_command(cmd_device, {"init", "--help"}).out, device_usage());
  EXPECT_EQ(run_command(cmd_device, {"handover"}).err,
            usage_text("device", "--out: required for handover"));
  EXPECT_EQ(run_command(cmd_device, {"init", "--secret", "x"}).err,
            usage_text("device", "--secret: not for init (use --out)"));
  const std::string open_secret = dir.write("open", std::string(32, 's'));
  auto readable =
      run_command(cmd_device, {"handover", "--secret", open_secret, "--out", dir / "h"});
  EXPECT_EQ(readable.status, kExitFailed);
  EXPECT_EQ(readable.err,
            "pvm: " + open_secret + ": readable by others (chmod 600 it, or make a new one)\n");
}

TEST(CmdDice, InspectRefusesJunk) {
  ScratchDir dir;
  const std::string junk = dir.write("junk", "junk");
  auto refused = run_command(cmd_dice, {"inspect", junk, "--json"});
  EXPECT_EQ(refused.status, kExitFailed);
  EXPECT_TRUE(refused.err.starts_with("error: ")) << refused.err;
  EXPECT_TRUE(refused.err.ends_with(": " + junk + ": not a valid DICE handover\n")) << refused.err;
  EXPECT_TRUE(refused.out.starts_with("{\"result\":\"error\",\"error\":")) << refused.out;
}

// ---- dice expect -----------------------------------------------------------------

TEST(CmdDice, ExpectOnASignedPayload) {
  ScratchDir dir;
  const std::string kernel = dir.write("kernel", std::string(3000, 'k'));
  ASSERT_EQ(run_command(cmd_sign, {"--key", testing::test_key_pem(), "--algorithm",
                                   "SHA256_RSA4096", "--partition", "boot", "--image", kernel})
                .status,
            kExitOk);
  auto without_instance =
      run_command(cmd_dice, {"expect", "--kernel", kernel, "--key", testing::test_key_avbpubkey()});
  ASSERT_EQ(without_instance.status, kExitOk) << without_instance.err;
  EXPECT_TRUE(without_instance.out.starts_with("code_hash ")) << without_instance.out;
  EXPECT_NE(without_instance.out.find("\nmode 1 (normal)\nsecurity_version 0\n"), std::string::npos)
      << without_instance.out;
  EXPECT_EQ(without_instance.out.find("hidden"), std::string::npos);

  auto with_instance =
      run_command(cmd_dice, {"expect", "--kernel", kernel, "--key", testing::test_key_avbpubkey(),
                             "--instance-id", repeat("ab", 64), "--json"});
  ASSERT_EQ(with_instance.status, kExitOk) << with_instance.err;
  EXPECT_TRUE(with_instance.out.starts_with("{\"result\":\"ok\",\"code_hash\":\""))
      << with_instance.out;
  EXPECT_NE(with_instance.out.find("\"hidden\":\""), std::string::npos) << with_instance.out;

  auto wrong_key = run_command(cmd_dice, {"expect", "--kernel", kernel, "--key", kernel});
  EXPECT_EQ(wrong_key.status, kExitFailed);
  EXPECT_TRUE(wrong_key.err.starts_with("error: ")) << wrong_key.err;
}

// ---- dice expect: the whole chain, from pvmfw.img and the device secret ------------------

// "name value" lines into a map (the value is the rest of the line).
std::map<std::string, std::string> lines_of(const std::string& text) {
  std::map<std::string, std::string> out;
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(at, end - at);
    const size_t space = line.find(' ');
    if (space != std::string::npos) out[line.substr(0, space)] = line.substr(space + 1);
    at = end + 1;
  }
  return out;
}

std::string sha512_hex(const std::vector<uint8_t>& bytes) {
  dice::Hash h{};
  EXPECT_TRUE(dice::sha512(std::as_bytes(std::span(bytes)), h));
  return to_hex(h);
}

std::string id_of(const dice::PublicKey& key) {
  const dice::IdHex hex = dice::id_hex(dice::derive_cert_id(key).value());
  return std::string(hex.data(), hex.size());
}

class CmdDiceWholeChain : public ::testing::Test {
 protected:
  void SetUp() override {
    for (size_t i = 0; i < firmware_.size(); ++i) firmware_[i] = static_cast<uint8_t>(i * 5 + 1);
    for (size_t i = 0; i < uds_.size(); ++i) uds_[i] = static_cast<uint8_t>(0x40 + i);
    pvmfw_img_ = dir_.write("pvmfw.img", firmware_);
    ASSERT_EQ(run_command(cmd_sign, {"--key", testing::platform_key_pem(), "--algorithm",
                                     "SHA256_RSA4096", "--partition", "pvmfw", "--image",
                                     pvmfw_img_, "--rollback-index", "2"})
                  .status,
              kExitOk);
    kernel_ = dir_.write("kernel", std::string(3000, 'k'));
    ASSERT_EQ(run_command(cmd_sign, {"--key", testing::test_key_pem(), "--algorithm",
                                     "SHA256_RSA4096", "--partition", "boot", "--image", kernel_})
                  .status,
              kExitOk);
    secret_ = dir_.write("device-secret", uds_, /*private_mode=*/true);
  }

  testing::Outcome expect(std::initializer_list<std::string_view> more) {
    std::vector<std::string_view> words = {"expect",         "--kernel",
                                           kernel_,          "--key",
                                           key_,             "--pvmfw-img",
                                           pvmfw_img_,       "--platform-key",
                                           platform_key_,    "--device-secret",
                                           secret_};
    words.insert(words.end(), more.begin(), more.end());
    return run(words);
  }
  static testing::Outcome run(const std::vector<std::string_view>& words) {
    return testing::run_words(cmd_dice, words);
  }

  // The stage below pvmfw, made here with the library.
  std::vector<uint8_t> pvmfw_handover() const {
    const std::vector<uint8_t> key = file_bytes(platform_key_);
    std::vector<std::byte> out(dice::kHandoverRegionSize);
    const dice::pvmfw::PvmfwStageInputs stage{std::as_bytes(std::span(firmware_)),
                                              std::as_bytes(std::span(key)), 2};
    auto n = dice::pvmfw::pvmfw_stage_handover(uds_, stage, out);
    EXPECT_TRUE(n.has_value());
    std::vector<uint8_t> bytes(n.value_or(0));
    std::memcpy(bytes.data(), out.data(), bytes.size());
    return bytes;
  }

  ScratchDir dir_;
  std::vector<uint8_t> firmware_ = std::vector<uint8_t>(6000);
  std::array<uint8_t, dice::kCdiSize> uds_{};
  std::string pvmfw_img_, kernel_, secret_;
  const std::string key_ = testing::test_key_avbpubkey();
  const std::string platform_key_ = testing::platform_key_avbpubkey();
};

TEST_F(CmdDiceWholeChain, PredictsEveryLayer) {
  const std::string instance = repeat("ab", 64);
  auto out = expect({"--instance-id", instance});
  ASSERT_EQ(out.status, kExitOk) << out.err;
  EXPECT_EQ(out.err, "");
  auto got = lines_of(out.out);

  // pvmfw's layer: its inputs ...
  EXPECT_EQ(got["pvmfw_code_hash"], sha512_hex(firmware_));
  EXPECT_EQ(got["pvmfw_authority_hash"], sha512_hex(file_bytes(platform_key_)));
  EXPECT_EQ(got["pvmfw_config_descriptor"], "a23a000111716570766d66773a0001117402");
  EXPECT_EQ(got["pvmfw_mode"], "1 (normal)");
  EXPECT_EQ(got["pvmfw_security_version"], "2");
  // ... the root (the UDS's key) and pvmfw's key (its CDI_Attest's).
  dice::Secret<dice::kPrivateKeySize> priv;
  dice::PublicKey root{}, pvmfw_key{};
  ASSERT_TRUE(dice::derive_key_pair(uds_, priv.span(), root).has_value());
  const std::vector<uint8_t> handover = pvmfw_handover();
  auto parsed = dice::parse_handover(std::as_bytes(std::span(handover)));
  ASSERT_TRUE(parsed.has_value());
  ASSERT_TRUE(dice::derive_key_pair(parsed->cdi_attest, priv.span(), pvmfw_key).has_value());
  EXPECT_EQ(got["root_public_key"], to_hex(root));
  EXPECT_EQ(got["root_cert_id"], id_of(root));
  EXPECT_EQ(got["pvmfw_public_key"], to_hex(pvmfw_key));
  EXPECT_EQ(got["pvmfw_cert_id"], id_of(pvmfw_key));
  // Never a CDI.
  for (dice::CdiView cdi : {parsed->cdi_attest, parsed->cdi_seal}) {
    EXPECT_EQ(out.out.find(to_hex(cdi)), std::string::npos);
  }

  // The VM layer: the lines `dice expect` printed before, unchanged ...
  auto payload_only =
      run({"expect", "--kernel", kernel_, "--key", key_, "--instance-id", instance});
  ASSERT_EQ(payload_only.status, kExitOk) << payload_only.err;
  EXPECT_NE(out.out.find(payload_only.out), std::string::npos) << out.out;
  // ... and the key pvmfw will certify: the main flow over pvmfw's CDIs with
  // the printed inputs.
  dice::InputValues in;
  auto hash = [&](const std::string& name) {
    dice::Hash h{};
    EXPECT_TRUE(hex_to_bytes(got[name], h)) << name;
    return h;
  };
  in.code_hash = hash("code_hash");
  in.authority_hash = hash("authority_hash");
  in.hidden = hash("hidden");
  in.mode = dice::Mode::kNormal;
  EXPECT_EQ(got["mode"], "1 (normal)");
  const std::vector<uint8_t> descriptor = *parse_hex(got["config_descriptor"]);
  in.config_type = dice::ConfigType::kDescriptor;
  in.config_descriptor = std::as_bytes(std::span(descriptor));
  dice::Secret<dice::kCdiSize> vm_attest, vm_seal;
  ASSERT_TRUE(dice::derive_next_cdis(parsed->cdi_attest, parsed->cdi_seal, in, vm_attest.span(),
                                     vm_seal.span())
                  .has_value());
  dice::PublicKey vm_key{};
  ASSERT_TRUE(dice::derive_key_pair(vm_attest.span(), priv.span(), vm_key).has_value());
  EXPECT_EQ(got["vm_public_key"], to_hex(vm_key));
  EXPECT_EQ(got["vm_cert_id"], id_of(vm_key));

  // The JSON form says the same.
  auto json = expect({"--instance-id", instance, "--json"});
  ASSERT_EQ(json.status, kExitOk) << json.err;
  EXPECT_TRUE(json.out.starts_with("{\"result\":\"ok\",\"code_hash\":\"" + got["code_hash"]))
      << json.out;
  for (const std::string& part :
       {"\"root_public_key\":\"" + to_hex(root) + "\"",
        "\"pvmfw\":{\"code_hash\":\"" + sha512_hex(firmware_) + "\"",
        "\"config_descriptor\":\"a23a000111716570766d66773a0001117402\",\"mode\":1,"
        "\"mode_name\":\"normal\",\"security_version\":2,\"public_key\":\"" +
            to_hex(pvmfw_key) + "\",\"cert_id\":\"" + id_of(pvmfw_key) + "\"}",
        "\"vm_public_key\":\"" + to_hex(vm_key) + "\",\"vm_cert_id\":\"" + id_of(vm_key) +
            "\"}\n"}) {
    EXPECT_NE(json.out.find(part), std::string::npos) << part << "\n" << json.out;
  }
}

// SHA-256 of a file, hex (dice/'s SHA-256: the project's own, not the code under test's path).
std::string file_sha256_hex(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const dice::Bytes parts[] = {std::as_bytes(std::span(bytes))};
  std::array<uint8_t, 32> digest{};
  EXPECT_TRUE(dice::sha256(parts, digest));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (uint8_t b : digest) {
    hex += kHex[b >> 4];
    hex += kHex[b & 15];
  }
  return hex;
}

TEST_F(CmdDiceWholeChain, WithoutAnInstanceNoVmKey) {
  auto out = expect({});
  ASSERT_EQ(out.status, kExitOk) << out.err;
  // First the measured image itself, then the chain.
  EXPECT_TRUE(out.out.starts_with("pvmfw_img_sha256 " + file_sha256_hex(pvmfw_img_) +
                                  "\nroot_public_key "))
      << out.out;
  EXPECT_NE(out.out.find("\npvmfw_security_version 2\n"), std::string::npos) << out.out;
  EXPECT_EQ(out.out.find("vm_public_key"), std::string::npos) << out.out;
  EXPECT_EQ(out.out.find("hidden"), std::string::npos) << out.out;
}

TEST_F(CmdDiceWholeChain, OtherSecretOtherChainSameInputs) {
  auto a = lines_of(expect({"--instance-id", repeat("01", 64)}).out);
  uds_[0] ^= 1;
  secret_ = dir_.write("other-secret", uds_, /*private_mode=*/true);
  auto b = lines_of(expect({"--instance-id", repeat("01", 64)}).out);
  for (const char* same : {"pvmfw_code_hash", "pvmfw_authority_hash", "code_hash", "hidden"}) {
    EXPECT_EQ(a[same], b[same]) << same;
  }
  for (const char* other : {"root_public_key", "pvmfw_public_key", "vm_public_key"}) {
    EXPECT_NE(a[other], b[other]) << other;
    EXPECT_FALSE(a[other].empty()) << other;
  }
}

TEST_F(CmdDiceWholeChain, DefaultDeviceSecretIsTheMachines) {
  ScopedEnv state("PVM_STATE", dir_ / "state");
  fs::create_directories(dir_ / "state");
  dir_.write("state/device-secret", uds_, /*private_mode=*/true);
  auto explicit_secret = expect({});
  auto implicit = run({"expect", "--kernel", kernel_, "--key", key_, "--pvmfw-img", pvmfw_img_,
                       "--platform-key", platform_key_});
  ASSERT_EQ(implicit.status, kExitOk) << implicit.err;
  EXPECT_EQ(implicit.out, explicit_secret.out);
}

TEST_F(CmdDiceWholeChain, Refusals) {
  // pvmfw.img signed with a payload key, or for another partition.
  const std::string wrong_key = dir_.write("wrong-key.img", firmware_);
  ASSERT_EQ(run_command(cmd_sign, {"--key", testing::test_key_pem(), "--algorithm",
                                   "SHA256_RSA4096", "--partition", "pvmfw", "--image", wrong_key})
                .status,
            kExitOk);
  pvmfw_img_ = wrong_key;
  auto rejected = expect({"--json"});
  EXPECT_EQ(rejected.status, kExitFailed);
  EXPECT_EQ(rejected.err, "error: PUBLIC_KEY_REJECTED: vbmeta key is not the trusted key\n");
  EXPECT_EQ(rejected.out,
            "{\"result\":\"error\",\"error\":\"PUBLIC_KEY_REJECTED\",\"detail\":\"vbmeta key is "
            "not the trusted key\"}\n");

  const std::string boot = dir_.write("boot.img", firmware_);
  ASSERT_EQ(run_command(cmd_sign, {"--key", testing::platform_key_pem(), "--algorithm",
                                   "SHA256_RSA4096", "--partition", "boot", "--image", boot})
                .status,
            kExitOk);
  pvmfw_img_ = boot;
  auto other_partition = expect({});
  EXPECT_EQ(other_partition.status, kExitFailed);
  EXPECT_EQ(other_partition.err,
            "error: UNEXPECTED_DESCRIPTOR: hash descriptor for an unknown partition\n");
  EXPECT_EQ(other_partition.out, "");

  // The device secret: absent, or readable by others.
  pvmfw_img_ = dir_ / "pvmfw.img";
  secret_ = dir_ / "none";
  auto absent = expect({});
  EXPECT_EQ(absent.status, kExitFailed);
  EXPECT_EQ(absent.err,
            "pvm: " + secret_ + ": no device secret (make one with `pvm device init`)\n");
  secret_ = dir_.write("open-secret", uds_);
  auto open = expect({});
  EXPECT_EQ(open.status, kExitFailed);
  EXPECT_EQ(open.err,
            "pvm: " + secret_ + ": readable by others (chmod 600 it, or make a new one)\n");

  // The options go together.
  EXPECT_EQ(run({"expect", "--kernel", kernel_, "--key", key_, "--pvmfw-img", pvmfw_img_}).err,
            usage_text("dice", "--platform-key: required with --pvmfw-img"));
  EXPECT_EQ(
      run({"expect", "--kernel", kernel_, "--key", key_, "--platform-key", platform_key_}).err,
      usage_text("dice", "--pvmfw-img: required with --platform-key"));
  EXPECT_EQ(
      run({"expect", "--kernel", kernel_, "--key", key_, "--device-secret", dir_ / "s"}).err,
      usage_text("dice", "--device-secret: only with --pvmfw-img"));
}

// ---- config ----------------------------------------------------------------------

TEST(CmdConfig, Refusals) {
  ScratchDir dir;
  const std::string junk = dir.write("junk", "junk");
  auto unpack = run_command(cmd_config, {"unpack", junk, "--json"});
  EXPECT_EQ(unpack.status, kExitFailed);
  EXPECT_TRUE(unpack.out.starts_with("{\"result\":\"error\",\"error\":")) << unpack.out;
  EXPECT_TRUE(unpack.err.ends_with(": " + junk + " is not a valid pvmfw config\n")) << unpack.err;
  const std::string firmware = dir.write("fw", "fw");
  auto append = run_command(
      cmd_config, {"append", "--firmware", firmware, "--config", junk, "--out", dir / "out"});
  EXPECT_EQ(append.status, kExitFailed);
  EXPECT_EQ(append.out, "");
  EXPECT_FALSE(fs::exists(dir / "out"));
  EXPECT_EQ(run_command(cmd_config, {"pack"}).err,
            usage_text("config", "--dice-handover: is required"));
  EXPECT_EQ(run_command(cmd_config, {"frob"}).err, usage_text("config", "frob: bad value"));
  EXPECT_EQ(run_command(cmd_config, {"--help"}).out, config_usage());
  const std::string empty = dir.write("empty", "");
  EXPECT_EQ(run_command(cmd_config, {"pack", "--dice-handover", empty, "--out", dir / "b"}).err,
            usage_text("config", empty + ": empty (an empty entry is absent)"));
}

}  // namespace
}  // namespace pvm

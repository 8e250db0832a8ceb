// `pvm dice`, `pvm device` and `pvm config`, run in-process. The chain and
// the derivation are checked independently by dice/tests/dice_cli_test.py;
// here: the commands' plumbing, output forms and exit statuses.
#include "cmd_dice.h"

#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <string>
#include <vector>

#include <dice/dice.h>

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

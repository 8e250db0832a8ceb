// `pvm run` in-process, with a shell script standing in for QEMU: what it is
// handed (files, placement, command line) and how its outcome is judged.
#include "cmd_run.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include <board/layout.h>

#include "cli_test_util.h"
#include "cmd_avb.h"
#include "run_args.h"

namespace pvm {
namespace {

namespace fs = std::filesystem;
using testing::file_bytes;
using testing::file_mode;
using testing::Outcome;
using testing::run_command;
using testing::ScopedEnv;
using testing::ScratchDir;
using testing::usage_text;

constexpr std::string_view kInstanceId =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f";

// A folder with a firmware file, a raw payload, and scripts standing in for
// QEMU; PVM_STATE points into it.
class CmdRun : public ::testing::Test {
 protected:
  void SetUp() override {
    firmware_ = dir_.write("fw.bin", std::string(100, 'f'));
    kernel_ = dir_.write("payload.bin", std::string(100, 'k'));
    // Each prints its arguments on stderr, then a console.
    qemu_ok_ = script("qemu-ok", "echo 'pvm-guest: reached /init'");
    qemu_refused_ = script("qemu-refused", "echo 'pvmfw: boot failed: INVALID_PAYLOAD: bad'");
  }

  std::string script(std::string_view name, std::string_view console) {
    const std::string path =
        dir_.write(name, "#!/bin/sh\necho \"qemu: $*\" >&2\n" + std::string(console) + "\n");
    fs::permissions(path, fs::perms::owner_all);
    return path;
  }

  // `pvm run --firmware F --kernel K --keep-dir D/work` + `words`.
  Outcome run(std::initializer_list<std::string_view> words) {
    std::vector<std::string> all = {"--firmware", firmware_,    "--kernel",
                                    kernel_,      "--keep-dir", work()};
    all.insert(all.end(), words.begin(), words.end());
    std::vector<std::string_view> views(all.begin(), all.end());
    return run_words(views);
  }
  static Outcome run_words(const std::vector<std::string_view>& words) {
    return run_command(
        [&words](const Io& io, std::span<const std::string_view>) { return cmd_run(io, words); },
        {});
  }
  std::string work() const { return dir_ / "work"; }

  ScratchDir dir_;
  ScopedEnv state_{"PVM_STATE", dir_ / "state"};
  ScopedEnv firmware_env_{"PVM_FIRMWARE", std::nullopt};
  std::string firmware_, kernel_, qemu_ok_, qemu_refused_;
};

TEST_F(CmdRun, HandsQemuTheFilesAndPassesOnItsGoal) {
  auto outcome = run({"--no-initrd", "--no-config", "--no-instance", "--qemu", qemu_ok_,
                      "--print-cmd", "--", "-d", "int"});
  ASSERT_EQ(outcome.status, kExitOk) << outcome.err;
  const std::string dtb = work() + "/vm.dtb";
  const std::string command = qemu_ok_ +
                              " -M virt,gic-version=2 -cpu max,pauth-impdef=on -m 1024 -nographic"
                              " -nic none -no-reboot -bios " +
                              firmware_ + " -dtb " + dtb + " -device loader,file=" + kernel_ +
                              ",addr=" + hex(BOARD_KERNEL_BASE) + ",force-raw=on -d int";
  EXPECT_EQ(outcome.out, "pvm: kernel " + hex(BOARD_KERNEL_BASE) +
                             " (100 bytes, raw), initrd none, no instance id, dt via -dtb, "
                             "firmware " +
                             firmware_ + "\n" + command + "\npvm-guest: reached /init\n");
  EXPECT_EQ(outcome.err, "qemu: " + command.substr(qemu_ok_.size() + 1) + "\n");
  EXPECT_TRUE(fs::exists(dtb));
}

TEST_F(CmdRun, GuestRefusalIsAFailureUnlessExpected) {
  auto refused = run({"--no-initrd", "--no-config", "--qemu", qemu_refused_});
  EXPECT_EQ(refused.status, kExitFailed);
  EXPECT_TRUE(
      refused.err.ends_with("pvm: guest failed: pvmfw: boot failed: INVALID_PAYLOAD: bad\n"))
      << refused.err;
  EXPECT_TRUE(refused.out.ends_with("pvmfw: boot failed: INVALID_PAYLOAD: bad\n")) << refused.out;

  auto expected = run(
      {"--no-initrd", "--no-config", "--qemu", qemu_refused_, "--expect-fail", "INVALID_PAYLOAD"});
  EXPECT_EQ(expected.status, kExitOk) << expected.err;

  auto goal_missed = run({"--no-initrd", "--no-config", "--qemu", qemu_ok_, "--expect", "never"});
  EXPECT_EQ(goal_missed.status, kExitFailed);
  EXPECT_TRUE(goal_missed.err.ends_with("pvm: guest failed: goal not reached ('never')\n"))
      << goal_missed.err;
}

// --sign-key: the signed partition is what is loaded, avbtool-sized, and the
// initrd goes on the next 2 MiB boundary after it; pvm verify accepts it.
TEST_F(CmdRun, SignedKernelIsPlacedWholeBeforeTheInitrd) {
  kernel_ = dir_.write("payload.bin", std::string(5000, 'k'));
  const std::string initrd = dir_.write("initrd.img", std::string(1000, 'i'));
  auto outcome = run({"--initrd", initrd, "--instance-id", kInstanceId, "--no-config", "--sign-key",
                      testing::test_key_pem(), "--qemu", qemu_ok_});
  ASSERT_EQ(outcome.status, kExitOk) << outcome.err;

  const std::string signed_kernel = work() + "/kernel.signed";
  const uint64_t partition = (5000 + 64 * 1024 + 4 * 1024 + 4095) / 4096 * 4096;  // avbtool's
  EXPECT_EQ(file_bytes(signed_kernel).size(), partition);
  const uint64_t initrd_start =
      (BOARD_KERNEL_BASE + partition + (2 << 20) - 1) / (2 << 20) * (2 << 20);
  EXPECT_TRUE(outcome.out.starts_with(
      "pvm: kernel " + hex(BOARD_KERNEL_BASE) + " (" + std::to_string(partition) +
      " bytes, raw), initrd " + hex(initrd_start) + "-" + hex(initrd_start + 1000) +
      ", given instance id, dt via -dtb, firmware " + firmware_ + "\n"))
      << outcome.out;
  EXPECT_NE(outcome.err.find("loader,file=" + signed_kernel + ",addr=" + hex(BOARD_KERNEL_BASE)),
            std::string::npos)
      << outcome.err;
  EXPECT_NE(outcome.err.find("loader,file=" + initrd + ",addr=" + hex(initrd_start)),
            std::string::npos)
      << outcome.err;

  auto verified = run_command(cmd_verify, {"--key", testing::test_key_avbpubkey(), "--kernel",
                                           signed_kernel, "--initrd", initrd});
  EXPECT_EQ(verified.status, kExitOk) << verified.err;
  EXPECT_NE(verified.out.find("initrd_normal: sha256, 1000 bytes"), std::string::npos)
      << verified.out;
}

TEST_F(CmdRun, ConfigBlobAndInstanceFromTheStateFolder) {
  const std::string secret = dir_ / "state/device-secret";
  auto first = run({"--no-initrd", "--qemu", qemu_ok_});
  ASSERT_EQ(first.status, kExitOk) << first.err;
  EXPECT_TRUE(first.out.starts_with("pvm: wrote a new 32-byte device secret to " + secret +
                                    " (mode 0600)\n"))
      << first.out;
  EXPECT_NE(first.out.find(", instance default (new), "), std::string::npos) << first.out;
  const std::string config = work() + "/config.bin";
  EXPECT_NE(first.err.find("-device loader,file=" + config + ",addr=" + hex(BOARD_CONFIG_BASE) +
                           ",force-raw=on"),
            std::string::npos)
      << first.err;
  EXPECT_EQ(file_mode(config), 0600u);
  EXPECT_EQ(file_mode(secret), 0600u);

  // The second run keeps both.
  const std::vector<uint8_t> blob = file_bytes(config);
  auto second = run({"--no-initrd", "--qemu", qemu_ok_});
  ASSERT_EQ(second.status, kExitOk) << second.err;
  EXPECT_TRUE(second.out.starts_with("pvm: kernel ")) << second.out;
  EXPECT_NE(second.out.find(", instance default, "), std::string::npos) << second.out;
  EXPECT_EQ(file_bytes(config), blob);
}

TEST_F(CmdRun, NewestCloudKernelFromTheGuestFolder) {
  fs::create_directories(dir_.path() / "guest/boot");
  dir_.write("guest/boot/vmlinuz-6.1.0-9-cloud-arm64", std::string(9, 'k'));
  dir_.write("guest/boot/vmlinuz-6.1.0-10-cloud-arm64", std::string(10, 'k'));
  ScopedEnv guest("PVM_GUEST_DIR", dir_ / "guest");
  ScopedEnv firmware("PVM_FIRMWARE", firmware_);
  const std::string work_dir = work();
  auto outcome =
      run_words({"--no-initrd", "--no-config", "--qemu", qemu_ok_, "--keep-dir", work_dir});
  ASSERT_EQ(outcome.status, kExitOk) << outcome.err;
  EXPECT_TRUE(outcome.out.starts_with("pvm: kernel " + hex(BOARD_KERNEL_BASE) + " (10 bytes, raw)"))
      << outcome.out;
}

TEST_F(CmdRun, TheTemporaryWorkFolderIsRemoved) {
  ScratchDir tmp;
  ScopedEnv tmpdir("TMPDIR", tmp.path().string());
  auto outcome = run_words({"--firmware", firmware_, "--kernel", kernel_, "--no-initrd",
                            "--no-config", "--qemu", qemu_ok_});
  ASSERT_EQ(outcome.status, kExitOk) << outcome.err;
  EXPECT_TRUE(fs::is_empty(tmp.path()));
}

TEST_F(CmdRun, UsageErrors) {
  ScopedEnv guest("PVM_GUEST_DIR", std::nullopt);
  EXPECT_EQ(run_words({}).err,
            usage_text("run", "no firmware: pass --firmware or set PVM_FIRMWARE"));
  EXPECT_EQ(run_words({"--firmware", firmware_}).err,
            usage_text("run", "no kernel: pass --kernel or set PVM_GUEST_DIR"));
  EXPECT_EQ(run_words({"--firmware", firmware_, "--kernel", kernel_}).err,
            usage_text("run",
                       "no initrd: pass --initrd, --busybox, --no-initrd or set "
                       "PVM_GUEST_DIR"));
  kernel_ = dir_.write("big.bin", std::string(2 << 20, 'k'));
  EXPECT_EQ(run({"--no-initrd", "--mem", "1"}).err,
            usage_text("run", "RAM too small for the kernel and initrd (--mem 1)"));
  EXPECT_EQ(run_words({"--mem", "x"}).err, usage_text("run", "--mem: not a decimal number"));
  auto help = run_words({"--help"});
  EXPECT_EQ(help.status, kExitOk);
  EXPECT_EQ(help.out, run_usage());
}

TEST_F(CmdRun, QemuThatCannotStartIsAFailure) {
  auto outcome = run({"--no-initrd", "--no-config", "--qemu", "/nonexistent/qemu"});
  EXPECT_EQ(outcome.status, kExitFailed);
  EXPECT_TRUE(outcome.err.starts_with("pvm: ")) << outcome.err;
  EXPECT_TRUE(outcome.err.ends_with(" (/nonexistent/qemu)\n")) << outcome.err;
}

TEST(SignPayload, AddsAnInitrdDescriptorAndNamesFailures) {
  ScratchDir dir;
  const std::string kernel = dir.write("k", std::string(300, 'k'));
  const std::string initrd = dir.write("i", std::string(200, 'i'));
  ASSERT_TRUE(sign_payload(kernel, initrd, testing::test_key_pem(), dir / "out").has_value());
  auto verified = run_command(cmd_verify, {"--key", testing::test_key_avbpubkey(), "--kernel",
                                           dir / "out", "--initrd", initrd});
  EXPECT_EQ(verified.status, kExitOk) << verified.err;

  auto no_key = sign_payload(kernel, std::nullopt, dir / "none.pem", dir / "out");
  ASSERT_FALSE(no_key.has_value());
  EXPECT_TRUE(no_key.error().starts_with("key " + dir / "none.pem" + ": ")) << no_key.error();
  auto no_kernel = sign_payload(dir / "none", std::nullopt, testing::test_key_pem(), dir / "out");
  ASSERT_FALSE(no_kernel.has_value());
  EXPECT_TRUE(no_kernel.error().starts_with("kernel " + dir / "none" + ": ")) << no_kernel.error();
}

}  // namespace
}  // namespace pvm

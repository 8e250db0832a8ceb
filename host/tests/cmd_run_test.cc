// `pvm run` in-process, with a shell script standing in for QEMU: what it is
// handed (files, placement, command line) and how its outcome is judged.
#include "cmd_run.h"

#include <gtest/gtest.h>
#include <libfdt.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <board/layout.h>
#include <launch/header.h>

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

// A folder with a firmware file, a hypervisor and a pvmfw.img, a raw
// payload, and scripts standing in for QEMU; PVM_STATE points into it.
class CmdRun : public ::testing::Test {
 protected:
  void SetUp() override {
    firmware_ = dir_.write("fw.bin", std::string(100, 'f'));
    hypervisor_ = dir_.write("hyp.bin", std::string(100, 'h'));
    pvmfw_img_ = dir_.write("pvmfw.img", std::string(300, 'p'));
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

  // `pvm run --no-hypervisor --firmware F --kernel K --keep-dir D/work` + `words`.
  Outcome run(std::initializer_list<std::string_view> words) {
    std::vector<std::string> all = {"--no-hypervisor", "--firmware", firmware_, "--kernel",
                                    kernel_,           "--keep-dir", work()};
    all.insert(all.end(), words.begin(), words.end());
    std::vector<std::string_view> views(all.begin(), all.end());
    return run_words(views);
  }
  // `pvm run --hypervisor H --pvmfw-img P --kernel K --keep-dir D/work` + `words`.
  Outcome run_protected(std::initializer_list<std::string_view> words) {
    std::vector<std::string> all = {"--hypervisor", hypervisor_, "--pvmfw-img", pvmfw_img_,
                                    "--kernel",     kernel_,     "--keep-dir",  work()};
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
  std::string secret() const { return dir_ / "state/device-secret"; }

  ScratchDir dir_;
  ScopedEnv state_{"PVM_STATE", dir_ / "state"};
  ScopedEnv firmware_env_{"PVM_FIRMWARE", std::nullopt};
  ScopedEnv hypervisor_env_{"PVM_HYPERVISOR", std::nullopt};
  ScopedEnv pvmfw_img_env_{"PVM_PVMFW_IMG", std::nullopt};
  std::string firmware_, hypervisor_, pvmfw_img_, kernel_, qemu_ok_, qemu_refused_;
};

std::string unprotected_line(const std::string& firmware) {
  return "pvm: UNPROTECTED (pvmfw " + firmware + " under -bios, no hypervisor)\n";
}

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
  EXPECT_EQ(outcome.out, unprotected_line(firmware_) + "pvm: kernel " + hex(BOARD_KERNEL_BASE) +
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
      unprotected_line(firmware_) + "pvm: kernel " + hex(BOARD_KERNEL_BASE) + " (" +
      std::to_string(partition) + " bytes, raw), initrd " + hex(initrd_start) + "-" +
      hex(initrd_start + 1000) + ", given instance id, dt via -dtb, firmware " + firmware_ + "\n"))
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
  const std::string secret = this->secret();
  auto first = run({"--no-initrd", "--qemu", qemu_ok_});
  ASSERT_EQ(first.status, kExitOk) << first.err;
  EXPECT_TRUE(first.out.starts_with(unprotected_line(firmware_) +
                                    "pvm: wrote a new 32-byte device secret to " + secret +
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
  EXPECT_TRUE(second.out.starts_with(unprotected_line(firmware_) + "pvm: kernel ")) << second.out;
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
  auto outcome = run_words({"--no-hypervisor", "--no-initrd", "--no-config", "--qemu", qemu_ok_,
                            "--keep-dir", work_dir});
  ASSERT_EQ(outcome.status, kExitOk) << outcome.err;
  EXPECT_TRUE(outcome.out.starts_with(unprotected_line(firmware_) + "pvm: kernel " +
                                      hex(BOARD_KERNEL_BASE) + " (10 bytes, raw)"))
      << outcome.out;
}

TEST_F(CmdRun, TheTemporaryWorkFolderIsRemoved) {
  ScratchDir tmp;
  ScopedEnv tmpdir("TMPDIR", tmp.path().string());
  auto outcome = run_words({"--no-hypervisor", "--firmware", firmware_, "--kernel", kernel_,
                            "--no-initrd", "--no-config", "--qemu", qemu_ok_});
  ASSERT_EQ(outcome.status, kExitOk) << outcome.err;
  EXPECT_TRUE(fs::is_empty(tmp.path()));
}

TEST_F(CmdRun, UsageErrors) {
  ScopedEnv guest("PVM_GUEST_DIR", std::nullopt);
  EXPECT_EQ(run_words({"--no-hypervisor"}).err,
            usage_text("run", "no firmware: pass --firmware or set PVM_FIRMWARE"));
  EXPECT_EQ(run_words({"--no-hypervisor", "--firmware", firmware_}).err,
            usage_text("run", "no kernel: pass --kernel or set PVM_GUEST_DIR"));
  EXPECT_EQ(run_words({"--no-hypervisor", "--firmware", firmware_, "--kernel", kernel_}).err,
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

// ---- A protected VM: through the hypervisor -----------------------------------------

std::string protected_line(const std::string& hypervisor, const std::string& image,
                           bool mmio_guard = false) {
  return "pvm: PROTECTED VM (hypervisor " + hypervisor + ", pvmfw.img " + image +
         (mmio_guard ? ", MMIO guard offered)\n" : ", no MMIO guard)\n");
}

launch::Header launch_header(const std::string& path) {
  const std::vector<uint8_t> bytes = file_bytes(path);
  auto header = launch::parse_header(std::as_bytes(std::span(bytes)));
  EXPECT_TRUE(header.has_value()) << (header ? "" : launch::to_string(header.error()));
  return header.value_or(launch::Header{});
}

// hyp.bin under -bios at EL2, the machine's fixed RAM (the VM's and the
// hypervisor's 16 MiB above it), the files
// as fw_cfg files (the device secret's own file, no copy); no -dtb, no
// loader, no config blob.
TEST_F(CmdRun, ProtectedVmGoesThroughTheHypervisor) {
  auto outcome = run_protected(
      {"--no-initrd", "--no-instance", "--qemu", qemu_ok_, "--print-cmd", "--", "-d", "int"});
  ASSERT_EQ(outcome.status, kExitOk) << outcome.err;
  const std::string header = work() + "/launch.bin";
  const std::string dtb = work() + "/vm.dtb";
  const std::string command =
      qemu_ok_ +
      " -M virt,gic-version=2,virtualization=on -cpu max,pauth-impdef=on -m 2064 -nographic"
      " -nic none -no-reboot -bios " +
      hypervisor_ + " -fw_cfg name=opt/pvm/launch,file=" + header +
      " -fw_cfg name=opt/pvm/pvmfw.img,file=" + pvmfw_img_ +
      " -fw_cfg name=opt/pvm/dt,file=" + dtb + " -fw_cfg name=opt/pvm/payload,file=" + kernel_ +
      " -fw_cfg name=opt/pvm/uds,file=" + secret() + " -d int";
  EXPECT_EQ(outcome.out, protected_line(hypervisor_, pvmfw_img_) +
                             "pvm: wrote a new 32-byte device secret to " + secret() +
                             " (mode 0600)\n"
                             "pvm: kernel " +
                             hex(BOARD_KERNEL_BASE) +
                             " (100 bytes, raw), initrd none, no instance id, dt via fw_cfg, VM "
                             "RAM 1024 MiB\n" +
                             command + "\npvm-guest: reached /init\n");
  EXPECT_EQ(outcome.err, "qemu: " + command.substr(qemu_ok_.size() + 1) + "\n");
  EXPECT_FALSE(fs::exists(work() + "/config.bin"));

  // The header, byte for byte.
  const launch::Header want{.flags = 0,
                            .ram_size = uint64_t{1024} << 20,
                            .cpus = 1,
                            .dt_ipa = 0x4000'0000,
                            .payload_ipa = BOARD_KERNEL_BASE,
                            .initrd_ipa = 0};
  const auto bytes = launch::encode_header(want);
  const std::vector<uint8_t> file = file_bytes(header);
  ASSERT_EQ(file.size(), 64u);
  EXPECT_EQ(std::memcmp(file.data(), bytes.data(), 64), 0);
  EXPECT_EQ(std::memcmp(file.data(), "PVML\x01\0\0\0\x40\0\0\0", 12), 0);
  EXPECT_EQ(launch_header(header), want);

  // The tree is handed over as written: /memory is the VM's RAM (not -m),
  // PSCI by HVC to the hypervisor.
  const std::vector<uint8_t> tree = file_bytes(dtb);
  ASSERT_EQ(fdt_check_full(tree.data(), tree.size()), 0);
  int len = 0;
  const int psci = fdt_path_offset(tree.data(), "/psci");
  const auto* method = static_cast<const char*>(fdt_getprop(tree.data(), psci, "method", &len));
  ASSERT_NE(method, nullptr);
  EXPECT_STREQ(method, "hvc");
  const int memory = fdt_path_offset(tree.data(), "/memory@40000000");
  const auto* reg = static_cast<const fdt32_t*>(fdt_getprop(tree.data(), memory, "reg", &len));
  ASSERT_EQ(len, 16);
  EXPECT_EQ((uint64_t{fdt32_to_cpu(reg[2])} << 32) | fdt32_to_cpu(reg[3]), uint64_t{1} << 30);
}

TEST_F(CmdRun, ProtectedVmWithInitrdCpusAndTheMmioGuard) {
  const std::string initrd = dir_.write("initrd.img", std::string(1000, 'i'));
  auto outcome = run_protected({"--initrd", initrd, "--mmio-guard", "--cpus", "2", "--mem", "64",
                                "--instance-id", kInstanceId, "--qemu", qemu_ok_});
  ASSERT_EQ(outcome.status, kExitOk) << outcome.err;
  const uint64_t initrd_start = BOARD_KERNEL_BASE + (2 << 20);  // the next 2 MiB boundary
  EXPECT_TRUE(outcome.out.starts_with(protected_line(hypervisor_, pvmfw_img_, true)))
      << outcome.out;
  EXPECT_NE(outcome.out.find("initrd " + hex(initrd_start) + "-" + hex(initrd_start + 1000) +
                             ", given instance id, dt via fw_cfg, VM RAM 64 MiB\n"),
            std::string::npos)
      << outcome.out;
  EXPECT_NE(outcome.err.find(" -m 2064 -smp 2 "), std::string::npos) << outcome.err;
  EXPECT_NE(outcome.err.find(" -fw_cfg name=opt/pvm/payload,file=" + kernel_ +
                             " -fw_cfg name=opt/pvm/initrd,file=" + initrd +
                             " -fw_cfg name=opt/pvm/uds,file=" + secret() + "\n"),
            std::string::npos)
      << outcome.err;
  EXPECT_EQ(outcome.err.find("-device loader"), std::string::npos) << outcome.err;
  EXPECT_EQ(outcome.err.find("-dtb"), std::string::npos) << outcome.err;
  EXPECT_EQ(launch_header(work() + "/launch.bin"), (launch::Header{.flags = launch::kFlagMmioGuard,
                                                                   .ram_size = uint64_t{64} << 20,
                                                                   .cpus = 2,
                                                                   .dt_ipa = 0x4000'0000,
                                                                   .payload_ipa = BOARD_KERNEL_BASE,
                                                                   .initrd_ipa = initrd_start}));
}

TEST_F(CmdRun, ProtectedVmFilesFromTheEnvironment) {
  ScopedEnv hypervisor("PVM_HYPERVISOR", hypervisor_);
  ScopedEnv image("PVM_PVMFW_IMG", pvmfw_img_);
  ScopedEnv firmware("PVM_FIRMWARE", firmware_);  // not used without --no-hypervisor
  const std::string work_dir = work();
  auto outcome =
      run_words({"--kernel", kernel_, "--no-initrd", "--qemu", qemu_ok_, "--keep-dir", work_dir});
  ASSERT_EQ(outcome.status, kExitOk) << outcome.err;
  EXPECT_TRUE(outcome.out.starts_with(protected_line(hypervisor_, pvmfw_img_))) << outcome.out;
  EXPECT_NE(outcome.err.find("-bios " + hypervisor_ + " "), std::string::npos) << outcome.err;
  // --no-hypervisor takes PVM_FIRMWARE and ignores the hypervisor's.
  outcome = run_words({"--no-hypervisor", "--kernel", kernel_, "--no-initrd", "--qemu", qemu_ok_,
                       "--keep-dir", work_dir});
  ASSERT_EQ(outcome.status, kExitOk) << outcome.err;
  EXPECT_TRUE(outcome.out.starts_with(unprotected_line(firmware_))) << outcome.out;
  EXPECT_NE(outcome.err.find("-bios " + firmware_ + " -dtb "), std::string::npos) << outcome.err;
  EXPECT_EQ(outcome.err.find("fw_cfg"), std::string::npos) << outcome.err;
}

TEST_F(CmdRun, ProtectedVmUsageErrors) {
  EXPECT_EQ(run_words({"--kernel", kernel_}).err,
            usage_text("run",
                       "no hypervisor: pass --hypervisor or set PVM_HYPERVISOR (or "
                       "--no-hypervisor to boot pvmfw.bin unprotected)"));
  EXPECT_EQ(run_words({"--hypervisor", hypervisor_, "--kernel", kernel_}).err,
            usage_text("run", "no pvmfw.img: pass --pvmfw-img or set PVM_PVMFW_IMG"));
  auto missing = run_words({"--hypervisor", dir_ / "none", "--pvmfw-img", pvmfw_img_});
  EXPECT_EQ(missing.status, kExitUsage);
  EXPECT_TRUE(missing.err.starts_with("pvm: hypervisor " + dir_ / "none" + ": ")) << missing.err;
  missing = run_words({"--hypervisor", hypervisor_, "--pvmfw-img", dir_ / "none"});
  EXPECT_TRUE(missing.err.starts_with("pvm: pvmfw.img " + dir_ / "none" + ": ")) << missing.err;
  // Each mode's options.
  EXPECT_EQ(run_words({"--firmware", firmware_}).err,
            usage_text("run", "--no-hypervisor (with --firmware): is required"));
  EXPECT_EQ(run_words({"--no-hypervisor", "--mmio-guard"}).err,
            usage_text("run", "--mmio-guard: conflicts with another option"));
  EXPECT_EQ(run_protected({"--no-initrd", "--no-config"}).err,
            usage_text("run", "--no-hypervisor (with --no-config): is required"));
}

// What the hypervisor would refuse is refused here first, under its name;
// QEMU never starts.
TEST_F(CmdRun, LaunchRefusedBeforeQemu) {
  auto outcome = run_protected({"--no-initrd", "--mem", "17", "--qemu", qemu_ok_});
  EXPECT_EQ(outcome.status, kExitUsage);
  EXPECT_TRUE(outcome.err.starts_with(
      "pvm: launch refused: BAD_MEMORY_SIZE (--mem 17: a multiple of 2, at least 16)\n"))
      << outcome.err;
  fs::resize_file(pvmfw_img_, 12 * 1024 * 1024 + 1);
  outcome = run_protected({"--no-initrd", "--qemu", qemu_ok_});
  EXPECT_EQ(outcome.err, usage_text("run", "launch refused: PVMFW_IMAGE_SIZE: opt/pvm/pvmfw.img"));
  fs::resize_file(pvmfw_img_, 0);
  outcome = run_protected({"--no-initrd", "--qemu", qemu_ok_});
  EXPECT_EQ(outcome.err, usage_text("run", "launch refused: PVMFW_IMAGE_SIZE: opt/pvm/pvmfw.img"));
  EXPECT_FALSE(fs::exists(work() + "/launch.bin"));
}

TEST_F(CmdRun, DeviceSecretMustBeThisMachinesPrivateSecret) {
  fs::create_directories(dir_.path() / "state");
  dir_.write("state/device-secret", std::string(32, 's'));  // mode 0644
  auto outcome = run_protected({"--no-initrd", "--qemu", qemu_ok_});
  EXPECT_EQ(outcome.err,
            usage_text("run", secret() + ": readable by others (chmod 600 it, or make a new one)"));
  fs::permissions(secret(), fs::perms::owner_read | fs::perms::owner_write);
  fs::resize_file(secret(), 31);
  outcome = run_protected({"--no-initrd", "--qemu", qemu_ok_});
  EXPECT_EQ(outcome.err, usage_text("run", secret() + ": not a 32-byte device secret"));
  fs::resize_file(secret(), 32);
  outcome = run_protected({"--no-initrd", "--qemu", qemu_ok_});
  EXPECT_EQ(outcome.status, kExitOk) << outcome.err;
}

// "hyp: launch refused: R" and "hyp: pvmfw.img refused: R" end a run as
// pvmfw's "pvmfw: boot failed: R" does, and --expect-fail R expects them.
TEST_F(CmdRun, HypervisorRefusalsCanBeExpected) {
  const std::string launch_refused =
      script("qemu-launch-refused", "echo 'hyp: launch refused: MISSING_FILE: opt/pvm/uds'");
  const std::string image_refused =
      script("qemu-image-refused", "echo 'hyp: pvmfw.img refused: SIGNATURE_MISMATCH'");
  auto refused = run_protected({"--no-initrd", "--qemu", launch_refused});
  EXPECT_EQ(refused.status, kExitFailed);
  EXPECT_TRUE(
      refused.err.ends_with("pvm: guest failed: hyp: launch refused: MISSING_FILE: opt/pvm/uds\n"))
      << refused.err;
  auto expected =
      run_protected({"--no-initrd", "--qemu", launch_refused, "--expect-fail", "MISSING_FILE"});
  EXPECT_EQ(expected.status, kExitOk) << expected.err;
  expected = run_protected(
      {"--no-initrd", "--qemu", image_refused, "--expect-fail", "SIGNATURE_MISMATCH"});
  EXPECT_EQ(expected.status, kExitOk) << expected.err;
  auto other =
      run_protected({"--no-initrd", "--qemu", image_refused, "--expect-fail", "BAD_MAGIC"});
  EXPECT_EQ(other.status, kExitFailed);
  EXPECT_TRUE(other.err.ends_with(
      "pvm: guest failed: hyp: pvmfw.img refused: SIGNATURE_MISMATCH (expected 'BAD_MAGIC')\n"))
      << other.err;
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

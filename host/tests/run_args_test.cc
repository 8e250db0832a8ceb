#include "run_args.h"

#include <gtest/gtest.h>

#include <vector>

namespace pvm {
namespace {

std::expected<RunArgs, ArgError> parse(std::vector<std::string_view> words) {
  return parse_run_args(words);
}

TEST(RunArgs, Defaults) {
  auto args = parse({});
  ASSERT_TRUE(args.has_value());
  EXPECT_FALSE(args->firmware.has_value());
  EXPECT_FALSE(args->kernel.has_value());
  EXPECT_FALSE(args->no_initrd);
  EXPECT_EQ(args->cmdline, "console=ttyAMA0 panic=-1");
  EXPECT_EQ(args->mem_mib, 1024u);
  EXPECT_EQ(args->cpus, 1u);
  EXPECT_TRUE(args->expect.empty());
  EXPECT_EQ(args->timeout_s, 120u);
  EXPECT_FALSE(args->icount);
  EXPECT_FALSE(args->print_cmd);
  // A protected VM by default, its files from the environment, no MMIO guard.
  EXPECT_FALSE(args->no_hypervisor);
  EXPECT_FALSE(args->hypervisor.has_value());
  EXPECT_FALSE(args->pvmfw_img.has_value());
  EXPECT_FALSE(args->mmio_guard);
  EXPECT_FALSE(args->no_config);
}

TEST(RunArgs, AllOptions) {
  auto args = parse({"--no-hypervisor", "--firmware", "fw.bin", "--kernel=k", "--initrd", "i",
                     "--busybox", "bb", "--cmdline", "a=b c", "--mem", "512", "--cpus=4",
                     "--expect", "one", "--expect", "two", "--timeout", "30", "--icount",
                     "--virtualization", "--qemu", "/opt/qemu", "--dt-out", "x.dtb", "--keep-dir",
                     "d", "--print-cmd", "--", "-d", "int", "--mem"});
  ASSERT_TRUE(args.has_value()) << to_string(args.error());
  EXPECT_EQ(args->firmware, "fw.bin");
  EXPECT_EQ(args->kernel, "k");
  EXPECT_EQ(args->initrd, "i");
  EXPECT_EQ(args->busybox, "bb");
  EXPECT_EQ(args->cmdline, "a=b c");
  EXPECT_EQ(args->mem_mib, 512u);
  EXPECT_EQ(args->cpus, 4u);
  EXPECT_EQ(args->expect, (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ(args->timeout_s, 30u);
  EXPECT_TRUE(args->icount);
  EXPECT_TRUE(args->virtualization);
  EXPECT_EQ(args->qemu, "/opt/qemu");
  EXPECT_EQ(args->dt_out, "x.dtb");
  EXPECT_EQ(args->keep_dir, "d");
  EXPECT_TRUE(args->print_cmd);
  EXPECT_EQ(args->qemu_args, (std::vector<std::string>{"-d", "int", "--mem"}));
}

TEST(RunArgs, HypervisorOptions) {
  auto args = parse({"--hypervisor", "hyp.bin", "--pvmfw-img=pvmfw.img", "--mmio-guard"});
  ASSERT_TRUE(args.has_value()) << to_string(args.error());
  EXPECT_FALSE(args->no_hypervisor);
  EXPECT_EQ(args->hypervisor, "hyp.bin");
  EXPECT_EQ(args->pvmfw_img, "pvmfw.img");
  EXPECT_TRUE(args->mmio_guard);
  args = parse({"--no-hypervisor", "--no-config", "--virtualization"});
  ASSERT_TRUE(args.has_value()) << to_string(args.error());
  EXPECT_TRUE(args->no_hypervisor);
  EXPECT_TRUE(args->no_config);
  EXPECT_TRUE(args->virtualization);
}

TEST(RunArgs, EachModeRefusesTheOthersOptions) {
  auto error = [](std::vector<std::string_view> words) { return to_string(parse(words).error()); };
  // The hypervisor's options make no sense without one.
  const std::string guard = "--mmio-guard: conflicts with another option";
  EXPECT_EQ(error({"--no-hypervisor", "--mmio-guard"}), guard);
  EXPECT_EQ(error({"--mmio-guard", "--no-hypervisor"}), guard);
  EXPECT_EQ(error({"--no-hypervisor", "--hypervisor", "h"}),
            "--hypervisor: conflicts with another option");
  EXPECT_EQ(error({"--pvmfw-img", "p", "--no-hypervisor"}),
            "--pvmfw-img: conflicts with another option");
  // The -bios path's options need --no-hypervisor.
  EXPECT_EQ(error({"--firmware", "fw.bin"}), "--no-hypervisor (with --firmware): is required");
  EXPECT_EQ(error({"--virtualization"}), "--no-hypervisor (with --virtualization): is required");
  EXPECT_EQ(error({"--no-config"}), "--no-hypervisor (with --no-config): is required");
  EXPECT_EQ(parse({"--no-hypervisor=yes"}).error().code, ArgErrc::kUnexpectedArgument);
  EXPECT_EQ(parse({"--mmio-guard=1"}).error().code, ArgErrc::kUnexpectedArgument);
  EXPECT_EQ(parse({"--hypervisor"}).error().code, ArgErrc::kMissingValue);
}

TEST(RunArgs, ValueWithEqualsSign) {
  auto args = parse({"--cmdline=console=ttyAMA0 quiet"});
  ASSERT_TRUE(args.has_value());
  EXPECT_EQ(args->cmdline, "console=ttyAMA0 quiet");
}

TEST(RunArgs, ExpectFail) {
  auto args = parse({"--expect-fail", "invalid-payload", "--no-initrd"});
  ASSERT_TRUE(args.has_value());
  EXPECT_EQ(args->expect_fail, "invalid-payload");
  EXPECT_TRUE(args->no_initrd);
}

TEST(RunArgs, Errors) {
  auto code = [](std::vector<std::string_view> words) { return parse(words).error().code; };
  EXPECT_EQ(code({"--bogus"}), ArgErrc::kUnknownOption);
  EXPECT_EQ(code({"stray"}), ArgErrc::kUnexpectedArgument);
  EXPECT_EQ(code({"--kernel"}), ArgErrc::kMissingValue);
  EXPECT_EQ(code({"--mem", "lots"}), ArgErrc::kBadNumber);
  EXPECT_EQ(code({"--mem", "12M"}), ArgErrc::kBadNumber);
  EXPECT_EQ(code({"--mem", "-5"}), ArgErrc::kBadNumber);
  EXPECT_EQ(code({"--mem", "0"}), ArgErrc::kOutOfRange);
  EXPECT_EQ(code({"--mem", "99999999999999999999999"}), ArgErrc::kOutOfRange);
  EXPECT_EQ(code({"--cpus", "9"}), ArgErrc::kOutOfRange);
  EXPECT_EQ(code({"--timeout", "0"}), ArgErrc::kOutOfRange);
  EXPECT_EQ(code({"--icount=yes"}), ArgErrc::kUnexpectedArgument);
  EXPECT_EQ(code({"--initrd", "x", "--no-initrd"}), ArgErrc::kConflict);
  EXPECT_EQ(code({"--expect-fail", "a", "--expect-fail", "b"}), ArgErrc::kConflict);
  EXPECT_EQ(code({"--expect", ""}), ArgErrc::kMissingValue);
  EXPECT_EQ(to_string(parse({"--mem", "x"}).error()), "--mem: not a decimal number");
}

TEST(RunArgs, Instance) {
  auto args = parse({});
  ASSERT_TRUE(args.has_value());
  EXPECT_EQ(args->instance, "default");
  EXPECT_FALSE(args->instance_id);
  EXPECT_FALSE(args->no_instance);
  args = parse({"--instance", "web-1.test_a"});
  ASSERT_TRUE(args.has_value());
  EXPECT_EQ(args->instance, "web-1.test_a");
  const std::string id(128, 'A');
  args = parse({"--instance-id", id});
  ASSERT_TRUE(args.has_value());
  EXPECT_EQ(args->instance_id, std::vector<uint8_t>(64, 0xaa));
  EXPECT_TRUE(parse({"--no-instance"})->no_instance);

  auto code = [](std::vector<std::string_view> words) { return parse(words).error().code; };
  EXPECT_EQ(code({"--instance", "../x"}), ArgErrc::kBadValue);
  EXPECT_EQ(code({"--instance", ".hidden"}), ArgErrc::kBadValue);
  EXPECT_EQ(code({"--instance", ""}), ArgErrc::kBadValue);
  EXPECT_EQ(code({"--instance-id", "00"}), ArgErrc::kBadValue);
  EXPECT_EQ(code({"--instance-id", std::string(127, '0') + "g"}), ArgErrc::kBadValue);
  EXPECT_EQ(code({"--instance-id", id, "--no-instance"}), ArgErrc::kConflict);
}

TEST(RunArgs, Help) {
  EXPECT_TRUE(parse({"--help"})->help);
  EXPECT_NE(run_usage().find("--expect-fail"), std::string_view::npos);
  for (std::string_view option : {"--hypervisor", "--pvmfw-img", "--no-hypervisor", "--mmio-guard",
                                  "$PVM_HYPERVISOR", "$PVM_PVMFW_IMG", "hyp: launch refused: R"}) {
    EXPECT_NE(run_usage().find(option), std::string_view::npos) << option;
  }
}

}  // namespace
}  // namespace pvm

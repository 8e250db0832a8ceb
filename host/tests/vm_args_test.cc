#include "vm_args.h"

#include <gtest/gtest.h>

#include <vector>

namespace pvm {
namespace {

template <typename Parse>
auto parse(Parse p, std::vector<std::string_view> words) {
  return p(words);
}

TEST(CreateArgs, DefaultsNeedANameAndAKey) {
  auto args = parse(parse_create_args, {"web", "--sign-key", "k.pem"});
  ASSERT_TRUE(args.has_value()) << to_string(args.error());
  EXPECT_EQ(args->name, "web");
  EXPECT_FALSE(args->kernel.has_value());
  EXPECT_FALSE(args->initrd.has_value());
  EXPECT_FALSE(args->no_initrd);
  EXPECT_EQ(args->cmdline, "console=ttyAMA0 panic=-1");
  EXPECT_EQ(args->mem_mib, 1024u);
  EXPECT_EQ(args->cpus, 1u);
  EXPECT_FALSE(args->debug);
  EXPECT_FALSE(args->pin_software);
  EXPECT_EQ(args->sign_key, "k.pem");
  EXPECT_FALSE(args->key.has_value());

  EXPECT_EQ(parse(parse_create_args, {"--sign-key", "k.pem"}).error().option, "NAME");
  auto no_key = parse(parse_create_args, {"web"});
  EXPECT_EQ(no_key.error().code, ArgErrc::kRequired);
  EXPECT_EQ(to_string(no_key.error()), "--sign-key KEY.pem or --key KEY.avbpubkey: is required");
  // --help needs neither.
  auto help = parse(parse_create_args, {"--help"});
  ASSERT_TRUE(help.has_value());
  EXPECT_TRUE(help->help);
}

TEST(CreateArgs, AllOptions) {
  auto args = parse(parse_create_args,
                    {"--kernel", "Image", "--initrd=i.cpio", "--cmdline", "console=ttyAMA0 quiet",
                     "--mem", "512", "--cpus", "2", "--debug", "--pin-software", "--key",
                     "k.avbpubkey", "db-1", "--busybox", "bb"});
  ASSERT_TRUE(args.has_value()) << to_string(args.error());
  EXPECT_EQ(args->name, "db-1");
  EXPECT_EQ(args->kernel, "Image");
  EXPECT_EQ(args->initrd, "i.cpio");
  EXPECT_EQ(args->busybox, "bb");
  EXPECT_EQ(args->cmdline, "console=ttyAMA0 quiet");
  EXPECT_EQ(args->mem_mib, 512u);
  EXPECT_EQ(args->cpus, 2u);
  EXPECT_TRUE(args->debug);
  EXPECT_TRUE(args->pin_software);
  EXPECT_EQ(args->key, "k.avbpubkey");
}

TEST(CreateArgs, Refusals) {
  auto code = [](std::vector<std::string_view> words) {
    auto args = parse_create_args(words);
    EXPECT_FALSE(args.has_value());
    return args ? std::string() : to_string(args.error());
  };
  EXPECT_EQ(code({"a", "b", "--key", "k"}), "b: unexpected argument");
  EXPECT_EQ(code({"Web", "--key", "k"}), "NAME 'Web': bad value");
  EXPECT_EQ(code({"-web", "--key", "k"}), "-web: unknown option");
  EXPECT_EQ(code({"a", "--key", "k", "--sign-key", "p"}),
            "--key (with --sign-key): conflicts with another option");
  EXPECT_EQ(code({"a", "--key", "k", "--initrd", "i", "--no-initrd"}),
            "--no-initrd: conflicts with another option");
  EXPECT_EQ(code({"a", "--key", "k", "--debug", "--no-initrd"}),
            "--debug (needs an initrd): conflicts with another option");
  EXPECT_EQ(code({"a", "--key", "k", "--mem", "15"}), "--mem: value out of range");
  EXPECT_EQ(code({"a", "--key", "k", "--mem", "17"}), "--mem (a multiple of 2): bad value");
  // More than the hypervisor can give a VM: refused at create, not at every start.
  EXPECT_EQ(code({"a", "--key", "k", "--mem", "2050"}), "--mem: value out of range");
  EXPECT_EQ(code({"a", "--key", "k", "--cpus", "9"}), "--cpus: value out of range");
  EXPECT_EQ(code({"a", "--key", "k", "--cmdline", "a\nb"}), "--cmdline: bad value");
}

TEST(UpdateArgs, EachOptionLeftOutKeepsWhatTheVmHas) {
  auto args = parse(parse_update_args, {"web", "--kernel", "Image"});
  ASSERT_TRUE(args.has_value()) << to_string(args.error());
  EXPECT_EQ(args->name, "web");
  EXPECT_EQ(args->kernel, "Image");
  EXPECT_FALSE(args->initrd.has_value());
  EXPECT_FALSE(args->no_initrd);
  EXPECT_FALSE(args->sign_key.has_value());
  EXPECT_FALSE(args->key.has_value());
  EXPECT_FALSE(args->cmdline.has_value());
  EXPECT_TRUE(args->restages_payload());

  args = parse(parse_update_args, {"--initrd=i.cpio", "--key", "k.avbpubkey", "db-1", "--cmdline",
                                   "console=ttyAMA0 quiet"});
  ASSERT_TRUE(args.has_value()) << to_string(args.error());
  EXPECT_EQ(args->name, "db-1");
  EXPECT_EQ(args->initrd, "i.cpio");
  EXPECT_EQ(args->key, "k.avbpubkey");
  EXPECT_EQ(args->cmdline, "console=ttyAMA0 quiet");

  args = parse(parse_update_args, {"web", "--cmdline", ""});
  ASSERT_TRUE(args.has_value()) << to_string(args.error());
  EXPECT_EQ(args->cmdline, "");
  EXPECT_FALSE(args->restages_payload());  // the command line alone
  for (std::vector<std::string_view> words : {std::vector<std::string_view>{"web", "--no-initrd"},
                                              {"web", "--sign-key", "k.pem"},
                                              {"web", "--initrd", "i"}}) {
    args = parse(parse_update_args, words);
    ASSERT_TRUE(args.has_value()) << to_string(args.error());
    EXPECT_TRUE(args->restages_payload()) << words[1];
  }
  EXPECT_TRUE(parse(parse_update_args, {"--help"})->help);
}

TEST(UpdateArgs, Refusals) {
  auto code = [](std::vector<std::string_view> words) {
    auto args = parse_update_args(words);
    EXPECT_FALSE(args.has_value());
    return args ? std::string() : to_string(args.error());
  };
  EXPECT_EQ(code({"web"}),
            "one of --kernel, --initrd, --no-initrd, --sign-key, --key, --cmdline: is required");
  EXPECT_EQ(code({"--kernel", "k"}), "NAME: is required");
  EXPECT_EQ(code({"Web", "--kernel", "k"}), "NAME 'Web': bad value");
  EXPECT_EQ(code({"a", "b", "--kernel", "k"}), "b: unexpected argument");
  EXPECT_EQ(code({"a", "--key", "k", "--sign-key", "p"}),
            "--key (with --sign-key): conflicts with another option");
  EXPECT_EQ(code({"a", "--initrd", "i", "--no-initrd"}),
            "--no-initrd: conflicts with another option");
  EXPECT_EQ(code({"a", "--cmdline", "a\nb"}), "--cmdline: bad value");
  // Not create's: what the VM is made of stays.
  EXPECT_EQ(code({"a", "--kernel", "k", "--mem", "64"}), "--mem: unknown option");
  EXPECT_EQ(code({"a", "--kernel", "k", "--debug"}), "--debug: unknown option");
  EXPECT_EQ(code({"a", "--kernel", "k", "--pin-software"}), "--pin-software: unknown option");
}

TEST(StartArgs, Options) {
  auto args = parse(parse_start_args, {"web"});
  ASSERT_TRUE(args.has_value());
  EXPECT_EQ(args->timeout_s, 120u);
  EXPECT_TRUE(args->expect.empty());
  EXPECT_FALSE(args->icount);

  args = parse(parse_start_args, {"--timeout", "30", "web", "--expect", "a", "--expect", "b",
                                  "--icount", "--hypervisor", "h", "--pvmfw-img", "p", "--qemu",
                                  "q", "--print-cmd", "--", "-S", "web"});
  ASSERT_TRUE(args.has_value()) << to_string(args.error());
  EXPECT_EQ(args->name, "web");
  EXPECT_EQ(args->timeout_s, 30u);
  EXPECT_EQ(args->expect, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(args->icount);
  EXPECT_EQ(args->hypervisor, "h");
  EXPECT_EQ(args->pvmfw_img, "p");
  EXPECT_EQ(args->qemu, "q");
  EXPECT_TRUE(args->print_cmd);
  EXPECT_EQ(args->qemu_args, (std::vector<std::string>{"-S", "web"}));

  args = parse(parse_start_args, {"web", "--expect-fail", "PAYLOAD_VERIFICATION_FAILED"});
  ASSERT_TRUE(args.has_value());
  EXPECT_EQ(args->expect_fail, "PAYLOAD_VERIFICATION_FAILED");

  EXPECT_EQ(parse(parse_start_args, {}).error().code, ArgErrc::kRequired);
  EXPECT_EQ(parse(parse_start_args, {"web", "--timeout", "0"}).error().code, ArgErrc::kOutOfRange);
  EXPECT_EQ(parse(parse_start_args, {"web", "--mem", "1"}).error().code, ArgErrc::kUnknownOption);
}

TEST(NameAndListArgs, Options) {
  auto name = parse(parse_name_args, {"web"});
  ASSERT_TRUE(name.has_value());
  EXPECT_EQ(name->name, "web");
  EXPECT_EQ(parse(parse_name_args, {}).error().code, ArgErrc::kRequired);
  EXPECT_EQ(parse(parse_name_args, {"a", "b"}).error().code, ArgErrc::kUnexpectedArgument);
  EXPECT_EQ(parse(parse_name_args, {"a", "--force"}).error().code, ArgErrc::kUnknownOption);
  EXPECT_TRUE(parse(parse_name_args, {"-h"})->help);

  EXPECT_FALSE(parse(parse_list_args, {})->json);
  EXPECT_TRUE(parse(parse_list_args, {"--json"})->json);
  EXPECT_EQ(parse(parse_list_args, {"web"}).error().code, ArgErrc::kUnexpectedArgument);
}

TEST(VmUsage, EveryCommandHasOne) {
  for (std::string_view usage : {create_usage(), update_usage(), start_usage(), stop_usage(),
                                 list_usage(), delete_usage()}) {
    EXPECT_TRUE(usage.starts_with("usage: pvm ")) << usage;
    EXPECT_NE(usage.find("Exit status:"), std::string_view::npos) << usage;
  }
}

}  // namespace
}  // namespace pvm

// The CLI toolkit: how commands report (cli.h), hex text, and --help in the
// option parser (cli_options.h).
#include "cli.h"

#include <gtest/gtest.h>

#include <vector>

#include "cli_options.h"
#include "cli_test_util.h"

namespace pvm {
namespace {

using testing::run_command;
using W = std::vector<std::string_view>;

TEST(CliIo, UsageErrorNamesTheCommandsHelp) {
  auto outcome = run_command(
      [](const Io& io, std::span<const std::string_view>) {
        io.say("before");
        return io.usage_error("sign", "--key: is required");
      },
      {});
  EXPECT_EQ(outcome.status, kExitUsage);
  EXPECT_EQ(outcome.out, "before\n");
  EXPECT_EQ(outcome.err, "pvm: --key: is required\npvm: see `pvm sign --help`\n");
}

TEST(CliIo, FailAndHelp) {
  auto failed = run_command(
      [](const Io& io, std::span<const std::string_view>) { return io.fail("out: write failed"); },
      {});
  EXPECT_EQ(failed.status, kExitFailed);
  EXPECT_EQ(failed.err, "pvm: out: write failed\n");
  EXPECT_EQ(failed.out, "");

  auto help = run_command(
      [](const Io& io, std::span<const std::string_view>) { return io.help("usage: x\n"); }, {});
  EXPECT_EQ(help.status, kExitOk);
  EXPECT_EQ(help.out, "usage: x\n");
  EXPECT_EQ(help.err, "");
}

TEST(CliIo, RefuseWithAndWithoutJson) {
  auto plain = run_command(
      [](const Io& io, std::span<const std::string_view>) {
        return io.refuse(false, "BAD_SIGNATURE", "certificate 2");
      },
      {});
  EXPECT_EQ(plain.status, kExitFailed);
  EXPECT_EQ(plain.out, "");
  EXPECT_EQ(plain.err, "error: BAD_SIGNATURE: certificate 2\n");

  auto json = run_command(
      [](const Io& io, std::span<const std::string_view>) {
        return io.refuse(true, "BAD_SIGNATURE", "a \"quoted\" detail", ",\"index\":2");
      },
      {});
  EXPECT_EQ(json.status, kExitFailed);
  EXPECT_EQ(json.out,
            "{\"result\":\"error\",\"error\":\"BAD_SIGNATURE\",\"detail\":\"a \\\"quoted\\\" "
            "detail\",\"index\":2}\n");
  EXPECT_EQ(json.err, "error: BAD_SIGNATURE: a \"quoted\" detail\n");
}

TEST(CliIo, ReportChoosesByStatus) {
  auto usage = run_command(
      [](const Io& io, std::span<const std::string_view>) {
        return io.report("run", CliError{kExitUsage, "no kernel"});
      },
      {});
  EXPECT_EQ(usage.status, kExitUsage);
  EXPECT_EQ(usage.err, testing::usage_text("run", "no kernel"));

  auto failed = run_command(
      [](const Io& io, std::span<const std::string_view>) {
        return io.report("run", CliError{kExitFailed, "vm.dtb: write failed"});
      },
      {});
  EXPECT_EQ(failed.status, kExitFailed);
  EXPECT_EQ(failed.err, "pvm: vm.dtb: write failed\n");

  // An empty message: the reason was printed already.
  auto silent = run_command(
      [](const Io& io, std::span<const std::string_view>) {
        return io.report("run", CliError{kExitFailed, ""});
      },
      {});
  EXPECT_EQ(silent.status, kExitFailed);
  EXPECT_EQ(silent.err, "");
}

TEST(CliHex, Numbers) {
  EXPECT_EQ(hex(0), "0x0");
  EXPECT_EQ(hex(0x40300000), "0x40300000");
  EXPECT_EQ(hex(UINT64_MAX), "0xffffffffffffffff");
}

TEST(CliHex, BytesRoundTrip) {
  EXPECT_EQ(to_hex(std::vector<uint8_t>{0x0a, 0xff, 0x00}), "0aff00");
  const std::byte bytes[] = {std::byte{0xde}, std::byte{0xad}};
  EXPECT_EQ(to_hex(std::span<const std::byte>(bytes)), "dead");
  EXPECT_EQ(parse_hex("0aFf"), (std::vector<uint8_t>{0x0a, 0xff}));
  EXPECT_EQ(parse_hex(""), std::vector<uint8_t>{});
  EXPECT_FALSE(parse_hex("0").has_value());
  EXPECT_FALSE(parse_hex("0g").has_value());
  EXPECT_FALSE(parse_hex("0x00").has_value());
}

TEST(CliHex, FixedSize) {
  std::vector<uint8_t> out(2);
  EXPECT_TRUE(hex_to_bytes("BEef", out));
  EXPECT_EQ(out, (std::vector<uint8_t>{0xbe, 0xef}));
  EXPECT_FALSE(hex_to_bytes("bee", out));
  EXPECT_FALSE(hex_to_bytes("beefbe", out));
  EXPECT_FALSE(hex_to_bytes("be g", out));
}

struct Opts {
  bool flag = false;
  std::string value;
  std::vector<std::string> words;
  bool help = false;
};

const std::vector<OptionSpec<Opts>>& table() {
  static const std::vector<OptionSpec<Opts>> options = {
      {"--flag", false, set_flag(&Opts::flag)},
      {"--value", true, store(&Opts::value)},
  };
  return options;
}

ApplyFn<Opts> collect() {
  return [](Opts& o, std::string_view v) -> std::expected<void, ArgError> {
    o.words.emplace_back(v);
    return {};
  };
}

TEST(CliOptions, HelpIsTheParsers) {
  Opts o;
  EXPECT_EQ(parse_options<Opts>(W{"--help"}, table(), o), Parsed::kHelp);
  EXPECT_EQ(parse_options<Opts>(W{"--flag", "-h"}, table(), o), Parsed::kHelp);
  EXPECT_EQ(parse_options<Opts>(W{"--flag"}, table(), o), Parsed::kOptions);
  // parse_args records it in `help`.
  Opts with_help;
  ASSERT_TRUE(parse_args<Opts>(W{"--value", "x", "--help"}, table(), with_help).has_value());
  EXPECT_TRUE(with_help.help);
  EXPECT_EQ(with_help.value, "x");
}

TEST(CliOptions, ErrorsWinOverHelp) {
  Opts o;
  EXPECT_EQ(parse_options<Opts>(W{"--help", "--bogus"}, table(), o).error().code,
            ArgErrc::kUnknownOption);
  EXPECT_EQ(parse_options<Opts>(W{"--bogus", "-h"}, table(), o).error().code,
            ArgErrc::kUnknownOption);
  EXPECT_EQ(parse_options<Opts>(W{"--help=yes"}, table(), o).error().code,
            ArgErrc::kUnexpectedArgument);
}

TEST(CliOptions, HelpAsAValueOrAfterDashDashIsNotHelp) {
  Opts o;
  EXPECT_EQ(parse_options<Opts>(W{"--value", "--help"}, table(), o), Parsed::kOptions);
  EXPECT_EQ(o.value, "--help");
  Opts rest_opts;
  std::vector<std::string> rest;
  EXPECT_EQ(parse_options<Opts>(W{"--", "--help"}, table(), rest_opts, {}, &rest),
            Parsed::kOptions);
  EXPECT_EQ(rest, std::vector<std::string>{"--help"});
}

TEST(CliOptions, PositionalsAndValues) {
  Opts o;
  ASSERT_TRUE(parse_options<Opts>(W{"a", "--value=v=w", "b", "--flag"}, table(), o, collect()));
  EXPECT_EQ(o.words, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(o.value, "v=w");
  EXPECT_TRUE(o.flag);
  Opts none;
  EXPECT_EQ(parse_options<Opts>(W{"a"}, table(), none).error().code, ArgErrc::kUnexpectedArgument);
  EXPECT_EQ(parse_options<Opts>(W{"--value"}, table(), none).error().code, ArgErrc::kMissingValue);
  EXPECT_EQ(to_string(parse_options<Opts>(W{"--flag=1"}, table(), none).error()),
            "--flag=1: unexpected argument");
}

TEST(CliOptions, ATableEntryNamedHelpIsUsedAsIs) {
  // cmd_fdt.cc still lists --help itself; its entry applies.
  static const std::vector<OptionSpec<Opts>> own = {{"--help", false, set_flag(&Opts::flag)}};
  Opts o;
  EXPECT_EQ(parse_options<Opts>(W{"--help"}, own, o), Parsed::kOptions);
  EXPECT_TRUE(o.flag);
}

}  // namespace
}  // namespace pvm

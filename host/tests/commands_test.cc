// The command table and `pvm help`: every command is reachable, and its
// usage is what both `pvm help NAME` and `pvm NAME --help` print.
#include "commands.h"

#include <gtest/gtest.h>

#include <string>

#include "cli_test_util.h"

namespace pvm {
namespace {

using testing::run_command;

TEST(Commands, NoWordsListsTheCommandsAndIsAUsageError) {
  auto bare = run_command(pvm_main, {});
  EXPECT_EQ(bare.status, kExitUsage);
  EXPECT_TRUE(bare.out.starts_with("usage: pvm COMMAND [options]\n\ncommands:\n")) << bare.out;
  for (const Command& command : commands()) {
    EXPECT_NE(bare.out.find("\n  " + std::string(command.name) + " "), std::string::npos)
        << command.name;
  }
  for (std::string_view help : {"help", "--help", "-h"}) {
    auto listed = run_command(pvm_main, {help});
    EXPECT_EQ(listed.status, kExitOk) << help;
    EXPECT_EQ(listed.out, bare.out) << help;
  }
}

TEST(Commands, HelpNameAndNameHelpAgree) {
  for (const Command& command : commands()) {
    if (command.usage().empty()) continue;
    auto help = run_command(pvm_main, {"help", command.name});
    EXPECT_EQ(help.status, kExitOk) << command.name;
    EXPECT_EQ(help.out, command.usage()) << command.name;
    EXPECT_TRUE(help.out.starts_with("usage: pvm " + std::string(command.name))) << command.name;
    if (command.name == "fdt") continue;  // cmd_fdt.h writes to stdout itself
    for (std::string_view flag : {"--help", "-h"}) {
      auto own = run_command(pvm_main, {command.name, flag});
      EXPECT_EQ(own.status, kExitOk) << command.name << " " << flag;
      EXPECT_EQ(own.out, command.usage()) << command.name << " " << flag;
    }
  }
}

TEST(Commands, UnknownNames) {
  auto unknown = run_command(pvm_main, {"frob"});
  EXPECT_EQ(unknown.status, kExitUsage);
  EXPECT_EQ(unknown.err, "pvm: unknown command 'frob' (see `pvm help`)\n");
  auto no_help = run_command(pvm_main, {"help", "frob"});
  EXPECT_EQ(no_help.status, kExitUsage);
  EXPECT_EQ(no_help.err, "pvm: no help for 'frob' (see `pvm help`)\n");
}

TEST(Commands, NoUsageMentionsTheWorkshopFolder) {
  for (const Command& command : commands()) {
    EXPECT_EQ(command.usage().find("../"), std::string_view::npos) << command.name;
  }
}

}  // namespace
}  // namespace pvm

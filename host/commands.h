// The `pvm` command table: every subcommand, its one-line summary and its
// usage, and the dispatch from the words after "pvm".
//
// Callers may rely on: exit statuses as cli.h; `pvm` with no words prints
// the command list and exits 2; `pvm help COMMAND` and `pvm COMMAND --help`
// print the same text.
#pragma once

#include <span>
#include <string_view>

#include "cli.h"

namespace pvm {

struct Command {
  std::string_view name;
  int (*handler)(const Io& io, std::span<const std::string_view> words);  // the words after NAME
  std::string_view summary;
  std::string_view (*usage)();  // what `pvm help NAME` and `pvm NAME --help` print
};

// In the order `pvm help` lists them.
std::span<const Command> commands();

// `pvm help [COMMAND]`.
int cmd_help(const Io& io, std::span<const std::string_view> words);

// The whole CLI: `words` are the arguments after the program name.
int pvm_main(const Io& io, std::span<const std::string_view> words);

}  // namespace pvm

// pvm: the host launcher for pvmfw. See README.md and `pvm help`; the
// commands are the host library's (commands.h), so that tests run them too.
#include <string_view>
#include <vector>

#include "commands.h"

int main(int argc, char** argv) {
  const std::vector<std::string_view> words(argv + 1, argv + argc);
  return pvm::pvm_main(pvm::Io{}, words);
}

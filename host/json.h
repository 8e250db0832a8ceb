// JSON text for the `pvm` commands' --json output (part of the CLI toolkit,
// cli.cc).
#pragma once

#include <string>
#include <string_view>

namespace pvm {

// `text` as a JSON string literal: quotes, backslashes and control
// characters escaped; other bytes as they are.
std::string json_string(std::string_view text);

}  // namespace pvm

#include "cli_options.h"

namespace pvm {

std::string_view to_string(ArgErrc code) {
  switch (code) {
    case ArgErrc::kUnknownOption: return "unknown option";
    case ArgErrc::kMissingValue: return "needs a value";
    case ArgErrc::kBadNumber: return "not a decimal number";
    case ArgErrc::kOutOfRange: return "value out of range";
    case ArgErrc::kConflict: return "conflicts with another option";
    case ArgErrc::kUnexpectedArgument: return "unexpected argument";
    case ArgErrc::kBadValue: return "bad value";
    case ArgErrc::kRequired: return "is required";
  }
  return "bad argument";
}

std::string to_string(const ArgError& error) {
  return error.option + ": " + std::string(to_string(error.code));
}

bool hex_to_bytes(std::string_view text, std::span<uint8_t> out) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (text.size() != 2 * out.size()) return false;
  for (size_t i = 0; i < out.size(); ++i) {
    const int hi = nibble(text[2 * i]), lo = nibble(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

}  // namespace pvm

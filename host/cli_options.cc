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

}  // namespace pvm

// The option-table parser every `pvm` subcommand uses.
//
// Callers may rely on: parsing is pure (no file system, no environment);
// "--opt VALUE" and "--opt=VALUE" are the same; a flag given a value
// ("--flag=x") is an error; numbers are decimal only, without sign or suffix;
// "--help" and "-h" are understood by the parser itself (tables need not
// list them) and reported as Parsed::kHelp once every word has parsed, so
// a bad option is reported even next to --help.
#pragma once

#include <charconv>
#include <cstddef>
#include <expected>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace pvm {

enum class ArgErrc {
  kUnknownOption,
  kMissingValue,
  kBadNumber,
  kOutOfRange,
  kConflict,
  kUnexpectedArgument,
  kBadValue,
  kRequired,  // a required option (or argument) is absent
};

struct ArgError {
  ArgErrc code;
  std::string option;  // the option (or argument) at fault
};

std::string_view to_string(ArgErrc code);
// e.g. "--mem: not a decimal number"
std::string to_string(const ArgError& error);

inline std::unexpected<ArgError> arg_error(ArgErrc code, std::string_view option) {
  return std::unexpected(ArgError{code, std::string(option)});
}

// What a parse found besides the options it applied.
enum class Parsed {
  kOptions,  // options only: go on
  kHelp,     // --help or -h was among them: print the usage, exit 0
};

// "--help" or "-h": for commands whose first word picks a verb.
constexpr bool is_help_option(std::string_view word) { return word == "--help" || word == "-h"; }

// `text` as a decimal number in [min, max].
template <typename T>
[[nodiscard]] std::expected<T, ArgError> parse_number(std::string_view option,
                                                      std::string_view text, T min, T max) {
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 10);
  if (ec == std::errc::result_out_of_range) return arg_error(ArgErrc::kOutOfRange, option);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return arg_error(ArgErrc::kBadNumber, option);
  }
  if (value < min || value > max) return arg_error(ArgErrc::kOutOfRange, option);
  return value;
}

template <typename Args>
using ApplyFn = std::function<std::expected<void, ArgError>(Args&, std::string_view)>;

template <typename Args>
struct OptionSpec {
  std::string_view name;
  bool takes_value;
  ApplyFn<Args> apply;  // stores the value (empty for flags); may refuse it
};

// The common appliers: store the value in a string (or optional string)
// member, or set a flag member.
template <typename Args, typename Field>
ApplyFn<Args> store(Field Args::*field) {
  return [field](Args& a, std::string_view v) -> std::expected<void, ArgError> {
    a.*field = std::string(v);
    return {};
  };
}
template <typename Args>
ApplyFn<Args> set_flag(bool Args::*field) {
  return [field](Args& a, std::string_view) -> std::expected<void, ArgError> {
    a.*field = true;
    return {};
  };
}
// A decimal number in [min, max] (parse_number), named `option` in errors.
template <typename Args, typename T>
ApplyFn<Args> store_number(T Args::*field, std::string_view option, T min, T max) {
  return [field, option, min, max](Args& a, std::string_view v) -> std::expected<void, ArgError> {
    auto n = parse_number<T>(option, v, min, max);
    if (!n) return std::unexpected(n.error());
    a.*field = *n;
    return {};
  };
}
// A repeatable non-empty value, appended (e.g. --expect).
template <typename Args>
ApplyFn<Args> append_nonempty(std::vector<std::string> Args::*field, std::string_view option) {
  return [field, option](Args& a, std::string_view v) -> std::expected<void, ArgError> {
    if (v.empty()) return arg_error(ArgErrc::kMissingValue, option);
    (a.*field).emplace_back(v);
    return {};
  };
}
// A non-empty value given at most once (e.g. --expect-fail).
template <typename Args>
ApplyFn<Args> store_once(std::optional<std::string> Args::*field, std::string_view option) {
  return [field, option](Args& a, std::string_view v) -> std::expected<void, ArgError> {
    if (v.empty()) return arg_error(ArgErrc::kMissingValue, option);
    if (a.*field) return arg_error(ArgErrc::kConflict, option);
    a.*field = std::string(v);
    return {};
  };
}

// Parses `words` against `table` into `out`. Words not starting with '-' go to
// `positional` (kUnexpectedArgument when there is none). With `rest`, the
// words after "--" are appended to it; without, "--" is an unknown option.
// "--help" and "-h" give kHelp unless `table` has an option of that name.
template <typename Args>
[[nodiscard]] std::expected<Parsed, ArgError> parse_options(
    std::span<const std::string_view> words, std::span<const OptionSpec<Args>> table, Args& out,
    const ApplyFn<Args>& positional = {}, std::vector<std::string>* rest = nullptr) {
  bool help = false;
  for (size_t i = 0; i < words.size(); ++i) {
    std::string_view word = words[i];
    if (word == "--" && rest != nullptr) {
      for (size_t j = i + 1; j < words.size(); ++j) rest->emplace_back(words[j]);
      break;
    }
    if (!word.starts_with('-') || word == "-") {
      if (!positional) return arg_error(ArgErrc::kUnexpectedArgument, word);
      if (auto applied = positional(out, word); !applied) {
        return std::unexpected(applied.error());
      }
      continue;
    }
    std::string_view name = word;
    std::optional<std::string_view> inline_value;
    if (size_t eq = word.find('='); eq != std::string_view::npos) {
      name = word.substr(0, eq);
      inline_value = word.substr(eq + 1);
    }
    const OptionSpec<Args>* option = nullptr;
    for (const OptionSpec<Args>& candidate : table) {
      if (candidate.name == name) option = &candidate;
    }
    if (option == nullptr && is_help_option(name)) {
      if (inline_value) return arg_error(ArgErrc::kUnexpectedArgument, word);
      help = true;
      continue;
    }
    if (option == nullptr) return arg_error(ArgErrc::kUnknownOption, name);
    std::string_view value;
    if (option->takes_value) {
      if (inline_value) {
        value = *inline_value;
      } else if (i + 1 < words.size()) {
        value = words[++i];
      } else {
        return arg_error(ArgErrc::kMissingValue, name);
      }
    } else if (inline_value) {
      return arg_error(ArgErrc::kUnexpectedArgument, word);
    }
    if (auto applied = option->apply(out, value); !applied) {
      return std::unexpected(applied.error());
    }
  }
  return help ? Parsed::kHelp : Parsed::kOptions;
}

// parse_options for an Args with a `bool help` member, set when --help or -h
// was given (the caller then skips its checks for required options).
template <typename Args>
[[nodiscard]] std::expected<void, ArgError> parse_args(std::span<const std::string_view> words,
                                                       std::span<const OptionSpec<Args>> table,
                                                       Args& out,
                                                       const ApplyFn<Args>& positional = {},
                                                       std::vector<std::string>* rest = nullptr) {
  auto parsed = parse_options<Args>(words, table, out, positional, rest);
  if (!parsed) return std::unexpected(parsed.error());
  out.help = *parsed == Parsed::kHelp;
  return {};
}

}  // namespace pvm

// The `pvm` command-line toolkit: exit statuses, how a command reports, and
// hex text. Option parsing (with --help) is cli_options.h.
//
// Callers may rely on: every command writes through an Io, so tests can hand
// it memory streams; stdout is flushed before anything goes to stderr, so a
// terminal or a `2>&1` capture shows lines in the order they were made; no
// function here prints secrets it was not given to print.
#pragma once

#include <cstdint>
#include <cstdio>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "json.h"  // json_string, for --json output

namespace pvm {

// The exit statuses every `pvm` command uses.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;  // refused or failed (the input, the guest, a write)
inline constexpr int kExitUsage = 2;   // bad options, or an input that cannot be read

// Why a command stops early: its exit status and the line to print after
// "pvm: " (with kExitUsage, followed by "pvm: see `pvm COMMAND --help`").
// An empty message means the reason was already printed.
struct CliError {
  int status = kExitFailed;
  std::string message;
};

// What a command's steps return: a value, or why the command stops.
template <typename T>
using CliResult = std::expected<T, CliError>;

[[nodiscard]] inline std::unexpected<CliError> usage_failure(std::string message) {
  return std::unexpected(CliError{kExitUsage, std::move(message)});
}
[[nodiscard]] inline std::unexpected<CliError> failure(std::string message) {
  return std::unexpected(CliError{kExitFailed, std::move(message)});
}

// Where a command writes: stdout and stderr in `pvm`, memory in tests.
struct Io {
  std::FILE* out = stdout;
  std::FILE* err = stderr;

  // `text` on out, as is, flushed.
  void print(std::string_view text) const;
  // `line` and '\n' on out, flushed.
  void say(std::string_view line) const;
  // `line` and '\n' on err (after flushing out): QEMU's stderr, refusals.
  void error_line(std::string_view line) const;
  // "pvm: MESSAGE" on err.
  void complain(std::string_view message) const;

  // The command's usage on out; kExitOk (`pvm COMMAND --help`).
  int help(std::string_view usage) const;
  // "pvm: MESSAGE" and "pvm: see `pvm COMMAND --help`" on err; kExitUsage.
  int usage_error(std::string_view command, std::string_view message) const;
  // "pvm: MESSAGE" on err; kExitFailed.
  int fail(std::string_view message) const;
  // An input refused as pvmfw (or dice/, verify/) refuses it: "error: NAME:
  // DETAIL" on err and, with `json`, {"result":"error","error":NAME,
  // "detail":DETAIL EXTRA_JSON} on out; kExitFailed. `extra_json` is either
  // empty or starts with ','.
  int refuse(bool json, std::string_view name, std::string_view detail,
             std::string_view extra_json = {}) const;
  // `error` as usage_error (kExitUsage) or fail; its status.
  int report(std::string_view command, const CliError& error) const;
};

// ---- Hex text ----------------------------------------------------------------

// "0x" and lowercase hex digits, no padding: addresses in messages.
std::string hex(uint64_t value);

// Lowercase hex digits, two per byte.
std::string to_hex(std::span<const uint8_t> bytes);
std::string to_hex(std::span<const std::byte> bytes);

// Hex text (either case) of exactly out.size() bytes into `out`; false (with
// `out` partly written) on anything else. Decodes into the caller's buffer,
// so secrets can be parsed straight into memory that is wiped.
[[nodiscard]] bool hex_to_bytes(std::string_view text, std::span<uint8_t> out);

// Hex text (either case) of any even length ("" is no bytes).
[[nodiscard]] std::optional<std::vector<uint8_t>> parse_hex(std::string_view text);

}  // namespace pvm

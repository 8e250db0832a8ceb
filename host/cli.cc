#include "cli.h"

#include "json.h"

namespace pvm {
namespace {

void write(std::FILE* stream, std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), stream);
}

int nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

void Io::print(std::string_view text) const {
  write(out, text);
  std::fflush(out);
}

void Io::say(std::string_view line) const {
  write(out, line);
  std::fputc('\n', out);
  std::fflush(out);
}

void Io::error_line(std::string_view line) const {
  std::fflush(out);
  write(err, line);
  std::fputc('\n', err);
  std::fflush(err);
}

void Io::complain(std::string_view message) const { error_line("pvm: " + std::string(message)); }

int Io::help(std::string_view usage) const {
  print(usage);
  return kExitOk;
}

int Io::usage_error(std::string_view command, std::string_view message) const {
  complain(message);
  complain("see `pvm " + std::string(command) + " --help`");
  return kExitUsage;
}

int Io::fail(std::string_view message) const {
  complain(message);
  return kExitFailed;
}

int Io::refuse(bool json, std::string_view name, std::string_view detail,
               std::string_view extra_json) const {
  if (json) {
    say("{\"result\":\"error\",\"error\":" + json_string(name) +
        ",\"detail\":" + json_string(detail) + std::string(extra_json) + "}");
  }
  error_line("error: " + std::string(name) + ": " + std::string(detail));
  return kExitFailed;
}

int Io::report(std::string_view command, const CliError& error) const {
  if (error.status == kExitUsage) return usage_error(command, error.message);
  if (!error.message.empty()) complain(error.message);
  return error.status;
}

std::string hex(uint64_t value) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(value));
  return buf;
}

std::string to_hex(std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * bytes.size());
  for (uint8_t byte : bytes) {
    out += kDigits[byte >> 4];
    out += kDigits[byte & 0xf];
  }
  return out;
}

std::string to_hex(std::span<const std::byte> bytes) {
  return to_hex(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

bool hex_to_bytes(std::string_view text, std::span<uint8_t> out) {
  if (text.size() != 2 * out.size()) return false;
  for (size_t i = 0; i < out.size(); ++i) {
    const int high = nibble(text[2 * i]), low = nibble(text[2 * i + 1]);
    if (high < 0 || low < 0) return false;
    out[i] = static_cast<uint8_t>(high << 4 | low);
  }
  return true;
}

std::optional<std::vector<uint8_t>> parse_hex(std::string_view text) {
  if (text.size() % 2 != 0) return std::nullopt;
  std::vector<uint8_t> out(text.size() / 2);
  if (!hex_to_bytes(text, out)) return std::nullopt;
  return out;
}

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escape[8];
          std::snprintf(escape, sizeof(escape), "\\u%04x", static_cast<unsigned>(c));
          out += escape;
        } else {
          out += c;
        }
    }
  }
  out += "\"";
  return out;
}

}  // namespace pvm

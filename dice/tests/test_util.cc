#include "test_util.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace dice::test {

std::vector<uint8_t> unhex(std::string_view h) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw std::invalid_argument("not hex");
  };
  if (h.size() % 2 != 0) throw std::invalid_argument("odd hex");
  std::vector<uint8_t> out(h.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<uint8_t>(nibble(h[2 * i]) << 4 | nibble(h[2 * i + 1]));
  }
  return out;
}

std::string hex(std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (uint8_t b : bytes) {
    s += kDigits[b >> 4];
    s += kDigits[b & 0xf];
  }
  return s;
}

std::string hex(Bytes bytes) {
  return hex(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

const std::string& Kat::at(const std::string& key) const {
  auto it = values.find(key);
  if (it == values.end()) throw std::out_of_range(name + ": no " + key);
  return it->second;
}

std::string kats_source() { return DICE_KATS_JSON; }

std::vector<Kat> load_kats(std::string_view kind) {
  std::vector<Kat> out;
  const std::string path = DICE_KATS_FILE;
  if (path.empty()) return out;
  std::ifstream in(path);
  std::string line;
  Kat current;
  bool open = false;
  while (std::getline(in, line)) {
    if (line == "end") {
      if (open && current.kind == kind) out.push_back(current);
      open = false;
      continue;
    }
    const size_t space = line.find(' ');
    const std::string key = line.substr(0, space);
    const std::string value = space == std::string::npos ? "" : line.substr(space + 1);
    if (!open) {
      current = Kat{key, value, {}};
      open = true;
    } else {
      current.values[key] = value;
    }
  }
  return out;
}

}  // namespace dice::test

#include "dice/crypto.h"

namespace dice::test {

std::vector<uint8_t> fake_input(std::string_view seed, size_t n) {
  Hash ctx{};
  if (!sha512(bytes(seed), ctx)) throw std::runtime_error("sha512");
  std::vector<uint8_t> out;
  while (out.size() < n) {
    Hash block{};
    if (!sha512(std::as_bytes(std::span(ctx)), block)) throw std::runtime_error("sha512");
    out.insert(out.end(), block.begin(), block.end());
    uint64_t counter = 0;
    for (size_t i = 0; i < 8; ++i) counter |= uint64_t{ctx[i]} << (8 * i);
    ++counter;
    for (size_t i = 0; i < 8; ++i) ctx[i] = static_cast<uint8_t>(counter >> (8 * i));
  }
  out.resize(n);
  return out;
}

}  // namespace dice::test

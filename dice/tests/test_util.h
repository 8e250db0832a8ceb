// Helpers for the dice/ unit tests: hex, byte views, the open-dice KAT lines.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dice/types.h"

namespace dice::test {

std::vector<uint8_t> unhex(std::string_view hex);
std::string hex(std::span<const uint8_t> bytes);
std::string hex(Bytes bytes);

template <size_t N>
std::array<uint8_t, N> array_from_hex(std::string_view h) {
  std::vector<uint8_t> v = unhex(h);
  std::array<uint8_t, N> a{};
  for (size_t i = 0; i < N && i < v.size(); ++i) a[i] = v[i];
  return a;
}

inline Bytes bytes(const std::vector<uint8_t>& v) { return std::as_bytes(std::span(v)); }
inline Bytes bytes(std::string_view s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}
inline std::vector<uint8_t> to_vector(Bytes b) {
  std::vector<uint8_t> v(b.size());
  for (size_t i = 0; i < b.size(); ++i) v[i] = std::to_integer<uint8_t>(b[i]);
  return v;
}

// One block of the KAT lines (tests/kats_to_lines.py).
struct Kat {
  std::string kind;
  std::string name;
  std::map<std::string, std::string> values;
  bool has(const std::string& key) const {
    auto it = values.find(key);
    return it != values.end() && it->second != "-";
  }
  const std::string& at(const std::string& key) const;
};

// Where the KATs come from (for skip messages) and the blocks of `kind`
// (empty when the vectors are absent).
std::string kats_source();
std::vector<Kat> load_kats(std::string_view kind);

}  // namespace dice::test

namespace dice::test {
// open-dice src/test_utils.cc DeriveFakeInputValue: ctx = SHA-512(seed);
// repeat { out += SHA-512(ctx); ctx[0:8] = LE64(ctx[0:8]) + 1 }.
std::vector<uint8_t> fake_input(std::string_view seed, size_t n);
}  // namespace dice::test

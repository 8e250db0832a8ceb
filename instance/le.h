// Little-endian fields (GPT, the instance partition and its entry are all
// little-endian). Reading goes through base::Reader, the project's one
// bounds-checked reader (which reads big-endian only): the bytes come from
// it and are assembled here. Writing is into fixed-size buffers this library
// owns, at offsets checked at compile time.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "base/reader.h"

namespace instance::le {

template <typename T>
[[nodiscard]] constexpr T load(std::span<const std::byte> b) {
  T v = 0;
  for (size_t i = b.size(); i-- > 0;) v = static_cast<T>((v << 8) | std::to_integer<T>(b[i]));
  return v;
}

// The next sizeof(T) bytes of `r` as a little-endian T, or nothing (cursor
// unchanged) when fewer remain.
template <typename T>
[[nodiscard]] constexpr std::optional<T> read(base::Reader& r) {
  auto b = r.bytes(sizeof(T));
  if (!b) return std::nullopt;
  return load<T>(*b);
}

// Stores `value` little-endian at out[Offset, Offset + sizeof(T)); the
// bounds are checked at compile time (layouts are constants).
template <size_t Offset, typename T, size_t N>
constexpr void put(std::array<std::byte, N>& out, T value) {
  static_assert(Offset + sizeof(T) <= N, "field outside its buffer");
  for (size_t i = 0; i < sizeof(T); ++i) {
    out[Offset + i] = static_cast<std::byte>(static_cast<uint64_t>(value) >> (8 * i));
  }
}

// Copies `bytes` to out[Offset, Offset + M), checked at compile time.
template <size_t Offset, size_t M, size_t N, typename B>
constexpr void put_bytes(std::array<std::byte, N>& out, const std::array<B, M>& bytes) {
  static_assert(Offset + M <= N, "field outside its buffer");
  static_assert(sizeof(B) == 1);
  for (size_t i = 0; i < M; ++i) out[Offset + i] = static_cast<std::byte>(bytes[i]);
}

// True when every byte is zero.
[[nodiscard]] constexpr bool all_zero(std::span<const std::byte> b) {
  for (std::byte x : b) {
    if (x != std::byte{0}) return false;
  }
  return true;
}

}  // namespace instance::le

// Writing little-endian fields (GPT, the instance partition and its entry
// are all little-endian) into fixed-size buffers this library owns, at
// offsets checked at compile time. Reading goes through base::Reader
// (le16/le32/le64), the project's one bounds-checked reader.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace instance::le {

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

}  // namespace instance::le

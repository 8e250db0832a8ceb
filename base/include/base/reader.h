// The project's one bounds-checked reader over untrusted bytes (STYLE.md rule 4).
//
// A Reader is a cursor over a std::span<const std::byte>. Every read returns a
// value or nothing; a failed read leaves the cursor where it was. Sizes and
// offsets are taken as uint64_t (the width of the on-disk fields) and every
// `offset + size` is checked for overflow before it is compared with the span,
// so no field value can make a read leave the span or wrap. Multi-byte integers
// are big-endian (AVB, FDT: be32/be64) or little-endian (GPT, the instance
// disk: le16/le32/le64). Never asserts, never allocates; header-only so the
// firmware and host share it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace base {

using Bytes = std::span<const std::byte>;

// [offset, offset + size) of `bytes`, or nothing when it would leave `bytes`
// (or `offset + size` would overflow).
[[nodiscard]] constexpr std::optional<Bytes> subspan(Bytes bytes, uint64_t offset,
                                                     uint64_t size) {
  const uint64_t total = bytes.size();
  if (offset > total || size > total - offset) return std::nullopt;
  return bytes.subspan(static_cast<size_t>(offset), static_cast<size_t>(size));
}

// `a + b`, or nothing on overflow.
[[nodiscard]] constexpr std::optional<uint64_t> checked_add(uint64_t a, uint64_t b) {
  if (b > UINT64_MAX - a) return std::nullopt;
  return a + b;
}

namespace detail {
// The big-endian value of exactly sizeof(T) bytes.
template <typename T>
constexpr T load_be(Bytes b) {
  T v = 0;
  for (std::byte x : b) v = static_cast<T>((v << 8) | std::to_integer<T>(x));
  return v;
}
}  // namespace detail

// The little-endian value of the bytes of `b` (at most sizeof(T) of them).
template <typename T>
[[nodiscard]] constexpr T load_le(Bytes b) {
  T v = 0;
  for (size_t i = b.size(); i-- > 0;) v = static_cast<T>((v << 8) | std::to_integer<T>(b[i]));
  return v;
}

// True when every byte of `b` is zero (reserved fields, padding).
[[nodiscard]] constexpr bool all_zero(Bytes b) {
  for (std::byte x : b) {
    if (x != std::byte{0}) return false;
  }
  return true;
}

// True when `b` holds exactly the characters of `s` (magics, signatures).
[[nodiscard]] constexpr bool equals(Bytes b, std::string_view s) {
  if (b.size() != s.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (std::to_integer<char>(b[i]) != s[i]) return false;
  }
  return true;
}

class Reader {
 public:
  constexpr Reader() = default;
  constexpr explicit Reader(Bytes bytes) : bytes_(bytes) {}

  // Position of the cursor from the start of the span.
  constexpr uint64_t offset() const { return pos_; }
  constexpr uint64_t remaining() const { return bytes_.size() - pos_; }
  constexpr bool at_end() const { return pos_ == bytes_.size(); }
  // The whole span (independent of the cursor) and what is left after it.
  constexpr Bytes all() const { return bytes_; }
  constexpr Bytes rest() const { return bytes_.subspan(pos_); }

  [[nodiscard]] constexpr std::optional<uint8_t> u8() {
    auto b = bytes(1);
    if (!b) return std::nullopt;
    return std::to_integer<uint8_t>((*b)[0]);
  }
  // The next `n` bytes, consumed.
  [[nodiscard]] constexpr std::optional<Bytes> bytes(uint64_t n) {
    auto b = subspan(bytes_, pos_, n);
    if (b) pos_ += b->size();
    return b;
  }
  [[nodiscard]] constexpr std::optional<uint32_t> be32() {
    auto b = bytes(4);
    if (!b) return std::nullopt;
    return detail::load_be<uint32_t>(*b);
  }
  [[nodiscard]] constexpr std::optional<uint64_t> be64() {
    auto b = bytes(8);
    if (!b) return std::nullopt;
    return detail::load_be<uint64_t>(*b);
  }
  [[nodiscard]] constexpr std::optional<uint16_t> le16() { return le<uint16_t>(); }
  [[nodiscard]] constexpr std::optional<uint32_t> le32() { return le<uint32_t>(); }
  [[nodiscard]] constexpr std::optional<uint64_t> le64() { return le<uint64_t>(); }
  // Consumes `n` bytes; false (cursor unchanged) when fewer remain.
  [[nodiscard]] constexpr bool skip(uint64_t n) { return bytes(n).has_value(); }

  // [offset, offset + size) counted from the start of the span (not the
  // cursor), or nothing when outside it. The cursor does not move.
  [[nodiscard]] constexpr std::optional<Bytes> sub(uint64_t offset, uint64_t size) const {
    return subspan(bytes_, offset, size);
  }
  // The same range as a new Reader positioned at its start.
  [[nodiscard]] constexpr std::optional<Reader> sub_reader(uint64_t offset, uint64_t size) const {
    auto b = sub(offset, size);
    if (!b) return std::nullopt;
    return Reader(*b);
  }

 private:
  template <typename T>
  constexpr std::optional<T> le() {
    auto b = bytes(sizeof(T));
    if (!b) return std::nullopt;
    return load_le<T>(*b);
  }

  Bytes bytes_;
  size_t pos_ = 0;
};

}  // namespace base

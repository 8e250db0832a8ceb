// A strict, bounded CBOR (RFC 8949) reader and a deterministic writer: the
// profile DICE handovers, COSE_Key, COSE_Sign1 and CWT claims need, nothing more.
//
// Reader profile (what callers may rely on): definite lengths only
// (indefinite-length strings, arrays and maps are refused); every head in its
// shortest form (RFC 8949 §4.2.1 "preferred serialization": a value < 24 in
// the initial byte, else the smallest of 1/2/4/8 argument bytes); no tags, no
// floating-point values, and of the simple values only false, true, null and
// undefined; text strings valid UTF-8; nesting at most kMaxDepth deep; every
// length and count checked against the bytes that remain before anything is
// read (a count can never exceed the remaining bytes, so no count or length
// can make the reader loop, allocate or leave the span). Parsing goes through
// base::Reader. A failed read leaves the cursor where it was. Never asserts,
// never allocates.
//
// Writer: always the shortest head (so deterministic for a given call
// sequence). It does NOT sort map keys: the caller writes keys in the order
// the format needs. DICE structures follow open-dice's order, which RFC 8949
// §4.2.1 bytewise ordering matches everywhere except the CWT claims, where
// open-dice (and so every Android verifier) puts configurationDescriptor
// (-4670548) before configurationHash (-4670547); see dice.h. A Writer over an
// empty span measures: it counts the bytes a real write would produce.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <span>
#include <string_view>

#include <base/reader.h>

namespace dice::cbor {

using Bytes = base::Bytes;

inline constexpr size_t kMaxDepth = 16;

enum class Error : uint8_t {
  kTruncated,         // TRUNCATED: the item needs more bytes than remain
  kIndefiniteLength,  // INDEFINITE_LENGTH: additional info 31
  kNonShortest,       // NON_SHORTEST: an argument not in its shortest form
  kReservedInfo,      // RESERVED_INFO: additional info 28..30, or a stray "break"
  kUnsupportedType,   // UNSUPPORTED_TYPE: tag, float, or another simple value
  kTooDeep,           // TOO_DEEP: nesting beyond kMaxDepth
  kWrongType,         // WRONG_TYPE: the item is not what the caller asked for
  kOutOfRange,        // OUT_OF_RANGE: an integer that does not fit int64_t
  kInvalidUtf8,       // INVALID_UTF8: a text string that is not UTF-8
  kTrailingBytes,     // TRAILING_BYTES: bytes after the expected end
};
const char* to_string(Error e);

enum class Major : uint8_t {
  kUint = 0,
  kNint = 1,
  kBstr = 2,
  kTstr = 3,
  kArray = 4,
  kMap = 5,
  kTag = 6,
  kSimple = 7,
};

struct Head {
  Major major;
  uint64_t arg;  // value, length, count (pairs for maps) or simple value
};

inline constexpr uint8_t kSimpleFalse = 20;
inline constexpr uint8_t kSimpleTrue = 21;
inline constexpr uint8_t kSimpleNull = 22;
inline constexpr uint8_t kSimpleUndefined = 23;

class Reader {
 public:
  constexpr explicit Reader(Bytes bytes) : in_(bytes) {}

  // The next item's head, not consumed (profile checks applied).
  [[nodiscard]] std::expected<Head, Error> peek() const;

  [[nodiscard]] std::expected<uint64_t, Error> read_uint();
  // Major 0 or 1, within int64_t.
  [[nodiscard]] std::expected<int64_t, Error> read_int();
  [[nodiscard]] std::expected<Bytes, Error> read_bstr();
  [[nodiscard]] std::expected<std::string_view, Error> read_tstr();
  // Array / map heads: the element (pair) count. The elements follow.
  [[nodiscard]] std::expected<uint64_t, Error> read_array();
  [[nodiscard]] std::expected<uint64_t, Error> read_map();
  [[nodiscard]] std::expected<void, Error> read_null();
  [[nodiscard]] std::expected<bool, Error> read_bool();
  // One complete, well-formed item of any type (nested items checked to the
  // last byte): its encoding.
  [[nodiscard]] std::expected<Bytes, Error> read_item();
  // kTrailingBytes unless the cursor is at the end.
  [[nodiscard]] std::expected<void, Error> expect_end() const;

  uint64_t offset() const { return in_.offset(); }
  bool at_end() const { return in_.at_end(); }
  Bytes rest() const { return in_.rest(); }

 private:
  // Reads one head (and, for strings, nothing more) from `in`.
  [[nodiscard]] static std::expected<Head, Error> read_head(base::Reader& in);
  [[nodiscard]] std::expected<Head, Error> read_head_of(Major major);

  base::Reader in_;
};

// `bytes` is exactly one well-formed item of the profile, nothing after it.
[[nodiscard]] std::expected<void, Error> check_item(Bytes bytes);

// Bytes of a head whose argument is `arg` (1, 2, 3, 5 or 9).
constexpr size_t head_size(uint64_t arg) {
  return arg < 24 ? 1 : arg <= 0xff ? 2 : arg <= 0xffff ? 3 : arg <= 0xffffffff ? 5 : 9;
}

class Writer {
 public:
  // Writes into `out`; an empty span only measures.
  constexpr explicit Writer(std::span<std::byte> out) : out_(out) {}

  void uint(uint64_t v) { head(Major::kUint, v); }
  void integer(int64_t v);
  void bstr(Bytes b);
  // A byte string of `n` bytes whose content the caller fills in through the
  // returned span (empty when the output is too small: check ok()).
  [[nodiscard]] std::span<std::byte> bstr_space(size_t n);
  // Only the head of a byte string of `n` bytes; the caller writes exactly
  // `n` bytes next (raw) or hashes them from elsewhere (COSE Sig_structure).
  void bstr_head(uint64_t n) { head(Major::kBstr, n); }
  void tstr(std::string_view s);
  void array(uint64_t n) { head(Major::kArray, n); }
  void map(uint64_t pairs) { head(Major::kMap, pairs); }
  void null() { head(Major::kSimple, kSimpleNull); }
  void boolean(bool b) { head(Major::kSimple, b ? kSimpleTrue : kSimpleFalse); }
  // Already-encoded items, copied as they are.
  void raw(Bytes encoded);

  // False once a write did not fit (size() still counts it).
  bool ok() const { return ok_; }
  size_t size() const { return size_; }
  // What was written (valid only when ok()).
  std::span<std::byte> written() const { return out_.first(ok_ ? size_ : 0); }

 private:
  void head(Major major, uint64_t arg);
  // `n` bytes at the end of the output, or an empty span (and !ok()) when
  // they do not fit. Always advances size().
  std::span<std::byte> reserve(size_t n);

  std::span<std::byte> out_;
  size_t size_ = 0;
  bool ok_ = true;
};

}  // namespace dice::cbor

// Strict CBOR reader and deterministic writer (see include/dice/cbor.h).
#include "dice/cbor.h"

#include <cstring>

namespace dice::cbor {
namespace {

// Well-formed UTF-8 (RFC 3629 §4): no overlong forms, no surrogates, nothing
// above U+10FFFF.
bool valid_utf8(Bytes s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    const uint8_t c = std::to_integer<uint8_t>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint8_t lo = 0x80, hi = 0xbf;  // allowed range of the second byte
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      if (c == 0xe0) lo = 0xa0;
      if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      if (c == 0xf0) lo = 0x90;
      if (c == 0xf4) hi = 0x8f;
    } else {
      return false;
    }
    if (len > n - i) return false;
    const uint8_t c1 = std::to_integer<uint8_t>(s[i + 1]);
    if (c1 < lo || c1 > hi) return false;
    for (size_t k = 2; k < len; ++k) {
      const uint8_t ck = std::to_integer<uint8_t>(s[i + k]);
      if (ck < 0x80 || ck > 0xbf) return false;
    }
    i += len;
  }
  return true;
}

}  // namespace

const char* to_string(Error e) {
  switch (e) {
    case Error::kTruncated:
      return "TRUNCATED";
    case Error::kIndefiniteLength:
      return "INDEFINITE_LENGTH";
    case Error::kNonShortest:
      return "NON_SHORTEST";
    case Error::kReservedInfo:
      return "RESERVED_INFO";
    case Error::kUnsupportedType:
      return "UNSUPPORTED_TYPE";
    case Error::kTooDeep:
      return "TOO_DEEP";
    case Error::kWrongType:
      return "WRONG_TYPE";
    case Error::kOutOfRange:
      return "OUT_OF_RANGE";
    case Error::kInvalidUtf8:
      return "INVALID_UTF8";
    case Error::kTrailingBytes:
      return "TRAILING_BYTES";
  }
  return "UNKNOWN";
}

// ---- Reader ---------------------------------------------------------------------

std::expected<Head, Error> Reader::read_head(base::Reader& in) {
  base::Reader r = in;
  auto initial = r.u8();
  if (!initial) return std::unexpected(Error::kTruncated);
  const auto major = static_cast<Major>(*initial >> 5);
  const uint8_t info = *initial & 0x1f;
  uint64_t arg = 0;
  if (info < 24) {
    arg = info;
  } else if (info <= 27) {
    if (major == Major::kSimple && info != 24) return std::unexpected(Error::kUnsupportedType);
    const uint64_t n = uint64_t{1} << (info - 24);  // 1, 2, 4, 8 argument bytes
    auto b = r.bytes(n);
    if (!b) return std::unexpected(Error::kTruncated);
    arg = base::detail::load_be<uint64_t>(*b);
    // Shortest form: a smaller encoding must not have been possible.
    const uint64_t min = n == 1 ? 24 : n == 2 ? 0x100 : n == 4 ? 0x10000 : 0x100000000;
    if (arg < min) return std::unexpected(Error::kNonShortest);
    // Simple values 24..31 in the two-byte form are not well-formed (§3.3).
    if (major == Major::kSimple && arg < 32) return std::unexpected(Error::kReservedInfo);
  } else if (info == 31 && major >= Major::kBstr && major <= Major::kMap) {
    return std::unexpected(Error::kIndefiniteLength);
  } else {
    return std::unexpected(Error::kReservedInfo);
  }
  switch (major) {
    case Major::kTag:
      return std::unexpected(Error::kUnsupportedType);
    case Major::kSimple:
      if (arg < kSimpleFalse || arg > kSimpleUndefined) {
        return std::unexpected(Error::kUnsupportedType);
      }
      break;
    case Major::kBstr:
    case Major::kTstr:
      if (arg > r.remaining()) return std::unexpected(Error::kTruncated);
      break;
    case Major::kArray:
      // Every element takes at least one byte.
      if (arg > r.remaining()) return std::unexpected(Error::kTruncated);
      break;
    case Major::kMap:
      if (arg > r.remaining() / 2) return std::unexpected(Error::kTruncated);
      break;
    default:
      break;
  }
  in = r;
  return Head{major, arg};
}

std::expected<Head, Error> Reader::peek() const {
  base::Reader r = in_;
  return read_head(r);
}

std::expected<Head, Error> Reader::read_head_of(Major major) {
  base::Reader r = in_;
  auto h = read_head(r);
  if (!h) return h;
  if (h->major != major) return std::unexpected(Error::kWrongType);
  in_ = r;
  return h;
}

std::expected<uint64_t, Error> Reader::read_uint() {
  auto h = read_head_of(Major::kUint);
  if (!h) return std::unexpected(h.error());
  return h->arg;
}

std::expected<int64_t, Error> Reader::read_int() {
  base::Reader r = in_;
  auto h = read_head(r);
  if (!h) return std::unexpected(h.error());
  if (h->major != Major::kUint && h->major != Major::kNint)
    return std::unexpected(Error::kWrongType);
  if (h->arg > static_cast<uint64_t>(INT64_MAX)) return std::unexpected(Error::kOutOfRange);
  in_ = r;
  const auto v = static_cast<int64_t>(h->arg);
  return h->major == Major::kUint ? v : -1 - v;
}

std::expected<Bytes, Error> Reader::read_bstr() {
  base::Reader r = in_;
  auto h = read_head(r);
  if (!h) return std::unexpected(h.error());
  if (h->major != Major::kBstr) return std::unexpected(Error::kWrongType);
  auto b = r.bytes(h->arg);
  if (!b) return std::unexpected(Error::kTruncated);
  in_ = r;
  return *b;
}

std::expected<std::string_view, Error> Reader::read_tstr() {
  base::Reader r = in_;
  auto h = read_head(r);
  if (!h) return std::unexpected(h.error());
  if (h->major != Major::kTstr) return std::unexpected(Error::kWrongType);
  auto b = r.bytes(h->arg);
  if (!b) return std::unexpected(Error::kTruncated);
  if (!valid_utf8(*b)) return std::unexpected(Error::kInvalidUtf8);
  in_ = r;
  return std::string_view(reinterpret_cast<const char*>(b->data()), b->size());
}

std::expected<uint64_t, Error> Reader::read_array() {
  auto h = read_head_of(Major::kArray);
  if (!h) return std::unexpected(h.error());
  return h->arg;
}

std::expected<uint64_t, Error> Reader::read_map() {
  auto h = read_head_of(Major::kMap);
  if (!h) return std::unexpected(h.error());
  return h->arg;
}

std::expected<void, Error> Reader::read_null() {
  base::Reader r = in_;
  auto h = read_head(r);
  if (!h) return std::unexpected(h.error());
  if (h->major != Major::kSimple || h->arg != kSimpleNull)
    return std::unexpected(Error::kWrongType);
  in_ = r;
  return {};
}

std::expected<bool, Error> Reader::read_bool() {
  base::Reader r = in_;
  auto h = read_head(r);
  if (!h) return std::unexpected(h.error());
  if (h->major != Major::kSimple || (h->arg != kSimpleFalse && h->arg != kSimpleTrue)) {
    return std::unexpected(Error::kWrongType);
  }
  in_ = r;
  return h->arg == kSimpleTrue;
}

std::expected<Bytes, Error> Reader::read_item() {
  base::Reader r = in_;
  const uint64_t start = r.offset();
  // Items still to read at each open level; level 0 is the item itself.
  // Iterative, so hostile nesting costs no stack beyond this array.
  uint64_t pending[kMaxDepth + 1];
  size_t depth = 1;
  pending[0] = 1;
  while (depth > 0) {
    if (pending[depth - 1] == 0) {
      --depth;
      continue;
    }
    --pending[depth - 1];
    auto h = read_head(r);
    if (!h) return std::unexpected(h.error());
    switch (h->major) {
      case Major::kBstr:
      case Major::kTstr: {
        auto b = r.bytes(h->arg);
        if (!b) return std::unexpected(Error::kTruncated);
        if (h->major == Major::kTstr && !valid_utf8(*b))
          return std::unexpected(Error::kInvalidUtf8);
        break;
      }
      case Major::kArray:
      case Major::kMap: {
        // read_head bounded the count by the remaining bytes, so 2 * pairs
        // cannot overflow.
        const uint64_t n = h->major == Major::kMap ? 2 * h->arg : h->arg;
        if (n == 0) break;
        if (depth > kMaxDepth) return std::unexpected(Error::kTooDeep);
        pending[depth++] = n;
        break;
      }
      default:
        break;  // integers and simple values: the head is the whole item
    }
  }
  auto encoded = in_.sub(start, r.offset() - start);
  if (!encoded) return std::unexpected(Error::kTruncated);  // cannot happen: r walked inside in_
  in_ = r;
  return *encoded;
}

std::expected<void, Error> Reader::expect_end() const {
  if (!in_.at_end()) return std::unexpected(Error::kTrailingBytes);
  return {};
}

std::expected<void, Error> check_item(Bytes bytes) {
  Reader r(bytes);
  if (auto item = r.read_item(); !item) return std::unexpected(item.error());
  return r.expect_end();
}

// ---- Writer ---------------------------------------------------------------------

std::span<std::byte> Writer::reserve(size_t n) {
  const size_t start = size_;
  if (n > SIZE_MAX - size_) {
    size_ = SIZE_MAX;
    ok_ = false;
    return {};
  }
  size_ += n;
  if (!ok_ || size_ > out_.size()) {
    ok_ = false;
    return {};
  }
  return out_.subspan(start, n);
}

void Writer::head(Major major, uint64_t arg) {
  const size_t n = head_size(arg);
  std::span<std::byte> b = reserve(n);
  if (b.empty()) return;
  const auto m = static_cast<uint8_t>(static_cast<uint8_t>(major) << 5);
  if (n == 1) {
    b[0] = std::byte{static_cast<uint8_t>(m | arg)};
    return;
  }
  const uint8_t info = n == 2 ? 24 : n == 3 ? 25 : n == 5 ? 26 : 27;
  b[0] = std::byte{static_cast<uint8_t>(m | info)};
  for (size_t i = 1; i < n; ++i) {
    b[i] = std::byte{static_cast<uint8_t>(arg >> (8 * (n - 1 - i)))};
  }
}

void Writer::integer(int64_t v) {
  if (v >= 0) {
    head(Major::kUint, static_cast<uint64_t>(v));
  } else {
    // -1 - v without overflow for INT64_MIN.
    head(Major::kNint, static_cast<uint64_t>(-(v + 1)));
  }
}

void Writer::bstr(Bytes b) {
  std::span<std::byte> space = bstr_space(b.size());
  if (!space.empty()) std::memcpy(space.data(), b.data(), b.size());
}

std::span<std::byte> Writer::bstr_space(size_t n) {
  head(Major::kBstr, n);
  return reserve(n);
}

void Writer::tstr(std::string_view s) {
  head(Major::kTstr, s.size());
  std::span<std::byte> space = reserve(s.size());
  if (!space.empty()) std::memcpy(space.data(), s.data(), s.size());
}

void Writer::raw(Bytes encoded) {
  std::span<std::byte> space = reserve(encoded.size());
  if (!space.empty()) std::memcpy(space.data(), encoded.data(), encoded.size());
}

}  // namespace dice::cbor

// Private to fdt/: the structure and strings blocks of a flattened device tree
// (DTSpec v0.4 5.4, 5.5) read through offsets that are checked on every
// access. Tree (an input tree, after Tree::open has checked its structure) and
// the rebuild (the firmware's own template) walk tokens with it.
//
// Every accessor stays inside its block whatever the offset: an offset that
// does not point at a token of the expected kind gives kEnd, an empty name or
// nothing. That is what makes a bad offset harmless; it is Tree::open's walk
// (tree.cc) that makes the answers meaningful for untrusted input.
//
// Not base::Reader: these lookups run for every property of every node the
// firmware reads, so they are plain offset arithmetic on 32-bit words, each
// access compared with the block's size (offsets and lengths are 32-bit
// fields, so `offset + 12 + length` cannot wrap in 64 bits).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace fdt::internal {

inline constexpr uint32_t kBeginNode = 1, kEndNode = 2, kProp = 3, kNop = 4, kEnd = 9;

// The small accessors are in every loop of the walk: always inlined, as the
// firmware is built for size (-Oz) and would otherwise keep them as calls.

// DTSpec 5.1: every field is big-endian.
[[gnu::always_inline]] inline uint32_t load_be32(const std::byte* p) {
  uint32_t v;
  __builtin_memcpy(&v, p, 4);
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap32(v);
  return v;
}

// Whether a big-endian word holds a zero byte (the NUL ending a node name).
[[gnu::always_inline]] inline bool has_zero_byte(uint32_t w) {
  return ((w - 0x01010101u) & ~w & 0x80808080u) != 0;
}

class Structure {
 public:
  // A property token: its name's offset in the strings block and its value.
  struct Prop {
    uint32_t nameoff;
    std::span<const std::byte> value;
  };

  Structure() = default;
  Structure(std::span<const std::byte> structs, std::span<const std::byte> strings)
      : structs_(structs.data()),
        strings_(strings.data()),
        struct_size_(static_cast<uint32_t>(structs.size())),
        strings_size_(static_cast<uint32_t>(strings.size())) {}

  std::span<const std::byte> structs() const { return {structs_, struct_size_}; }
  std::span<const std::byte> strings() const { return {strings_, strings_size_}; }

  // The 32-bit word at `off`; 0 when it is misaligned or leaves the block.
  [[gnu::always_inline]] uint32_t word(uint64_t off) const {
    if (off % 4 != 0 || off + 4 > struct_size_) return 0;
    return load_be32(structs_ + off);
  }
  // The token at `off`; kEnd when there is none.
  [[gnu::always_inline]] uint32_t tag(uint64_t off) const {
    const uint32_t t = word(off);
    return t == 0 ? kEnd : t;
  }

  // The name of the node whose BEGIN_NODE is at `off` and the offset of the
  // token after it.
  struct Head {
    std::string_view name;
    uint32_t body;
  };
  std::optional<Head> head(uint32_t off) const {
    if (tag(off) != kBeginNode) return std::nullopt;
    // The name ends at its NUL and is zero-padded to a word boundary: the
    // next token follows the first word that holds a zero byte.
    for (uint64_t w = uint64_t{off} + 4; w + 4 <= struct_size_; w += 4) {
      const uint32_t v = load_be32(structs_ + w);
      if (!has_zero_byte(v)) continue;
      const size_t nul = (v >> 24) == 0            ? 0
                         : ((v >> 16) & 0xff) == 0 ? 1
                         : ((v >> 8) & 0xff) == 0  ? 2
                                                   : 3;
      return Head{{reinterpret_cast<const char*>(structs_ + off + 4),
                   static_cast<size_t>(w - off - 4) + nul},
                  static_cast<uint32_t>(w + 4)};
    }
    return std::nullopt;
  }
  std::string_view node_name(uint32_t off) const {
    auto h = head(off);
    return h ? h->name : std::string_view();
  }

  // The offset of the token after the one at `off`, or nothing after kEnd or
  // when the token runs off the block.
  std::optional<uint32_t> next(uint32_t off) const {
    switch (tag(off)) {
      case kBeginNode: {
        auto h = head(off);
        if (!h) return std::nullopt;
        return h->body;
      }
      case kProp: {
        const uint64_t len = word(uint64_t{off} + 4);
        const uint64_t end = uint64_t{off} + 12 + ((len + 3) & ~uint64_t{3});
        if (off + uint64_t{12} > struct_size_ || end > struct_size_) return std::nullopt;
        return static_cast<uint32_t>(end);
      }
      case kEndNode:
      case kNop:
        return off + 4;
      default:
        return std::nullopt;
    }
  }

  // The first token at or after `off` that is neither a property nor a NOP
  // (a node's subnodes or END_NODE follow its properties); nothing when a
  // property runs off the block.
  std::optional<uint32_t> skip_props(uint32_t off) const {
    uint64_t o = off;
    for (;;) {
      const uint32_t t = tag(o);
      if (t == kNop) {
        o += 4;
      } else if (t == kProp) {
        if (o + 12 > struct_size_) return std::nullopt;
        const uint64_t end = o + 12 + ((uint64_t{word(o + 4)} + 3) & ~uint64_t{3});
        if (end > struct_size_) return std::nullopt;
        o = end;
      } else {
        return static_cast<uint32_t>(o);
      }
    }
  }

  // The offset after the END_NODE of the node whose BEGIN_NODE is at `off`.
  std::optional<uint32_t> skip_node(uint32_t off) const {
    size_t depth = 0;
    for (std::optional<uint32_t> o = off; o;) {
      const uint32_t t = tag(*o);
      if (t == kBeginNode) {
        auto h = head(*o);
        if (!h) return std::nullopt;
        ++depth;
        o = skip_props(h->body);
      } else if (t == kEndNode) {
        // An END_NODE before any BEGIN_NODE: `off` was not a node.
        if (depth == 0) return std::nullopt;
        if (--depth == 0) return *o + 4;
        o = skip_props(*o + 4);
      } else {
        return std::nullopt;
      }
    }
    return std::nullopt;
  }

  // The property whose PROP token is at `off`.
  std::optional<Prop> prop(uint32_t off) const {
    if (tag(off) != kProp || !next(off)) return std::nullopt;
    const uint32_t len = word(uint64_t{off} + 4);
    return Prop{word(uint64_t{off} + 8), {structs_ + off + 12, len}};
  }

  // The NUL-terminated string at `nameoff` in the strings block (empty when
  // it does not end inside the block).
  std::string_view string(uint32_t nameoff) const {
    for (uint64_t i = nameoff; i < strings_size_; ++i) {
      if (strings_[i] == std::byte{0}) {
        return {reinterpret_cast<const char*>(strings_ + nameoff),
                static_cast<size_t>(i - nameoff)};
      }
    }
    return {};
  }
  // Whether the string at `nameoff` is exactly `name` (compared without
  // measuring the stored string first: most names differ in their first byte).
  bool string_is(uint32_t nameoff, std::string_view name) const {
    if (nameoff >= strings_size_ || name.size() >= strings_size_ - nameoff) return false;
    const std::byte* s = strings_ + nameoff;
    for (size_t i = 0; i < name.size(); ++i) {
      if (std::to_integer<char>(s[i]) != name[i]) return false;
    }
    return s[name.size()] == std::byte{0};
  }

 private:
  const std::byte* structs_ = nullptr;
  const std::byte* strings_ = nullptr;
  uint32_t struct_size_ = 0;
  uint32_t strings_size_ = 0;
};

}  // namespace fdt::internal

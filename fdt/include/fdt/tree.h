// A read-only view of an untrusted flattened device tree (DTSpec v0.4 ch. 5),
// read through libfdt (1.7.2, third_party/libfdt): libfdt decodes the format,
// this class adds the rules pvmfw needs on top and the lookups it uses.
//
// Tree::open checks the header and walks the whole structure block before any
// lookup: first with the project's own, stricter rules (one pass over the
// tokens as libfdt's fdt_next_tag reads them, names through fdt_get_string),
// then with libfdt's fdt_check_full. What open() guarantees once it succeeds:
//   - the blob is 8-byte aligned, at most kMaxTreeSize bytes, version 17,
//     blocks in bounds, aligned and not overlapping, the reservation map
//     terminated by an all-zero entry;
//   - the token stream is well formed: one root at offset 0, balanced
//     nodes, properties before subnodes, every property inside the block,
//     the END token last, nesting <= kMaxDepth, at most kMaxNodes nodes and
//     kMaxProps properties;
//   - node names are printable, without '/', at most kMaxNodeName characters
//     (the root's is empty, no other is); property names are NUL-terminated
//     printable strings inside the strings block, 1..kMaxPropName characters;
//   - no two siblings share a name, nor are "name" and "name@unit" (so a
//     path names at most one node: libfdt matches "name" to "name@unit");
//   - "phandle"/"linux,phandle" are 4 bytes, neither 0 nor 0xffffffff, equal
//     when a node has both, unique in the tree (at most kMaxPhandles);
//   - fdt_check_full accepts it.
// The lookups are libfdt's (fdt_path_offset_namelen, fdt_getprop_namelen,
// fdt_first_subnode/fdt_next_subnode, fdt_parent_offset,
// fdt_node_offset_by_phandle, fdt_first_property_offset ...): offsets are
// libfdt's, and any offset, even one that names no node, gives nothing rather
// than a read outside the blob. Paths given to libfdt are always absolute:
// aliases are resolved once, here, by this project's rules (libfdt 1.6
// followed an alias naming an alias by recursion, without bound; 1.7 refuses
// one, but which aliases count stays our decision, not a library's).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string_view>

#include "base/range.h"

namespace fdt {

enum class Error : uint8_t {
  kTruncated,  // blob shorter than its header says, or than a header
  kBadMagic,
  kBadVersion,
  kBadLayout,      // blob or blocks misaligned, blocks out of bounds or overlapping
  kBadStructure,   // malformed token stream
  kTooDeep,        // nesting deeper than kMaxDepth
  kTooBig,         // larger than kMaxTreeSize, or too many nodes/properties/phandles
  kBadName,        // node or property name malformed or too long
  kDuplicateNode,  // two siblings with the same name, or "name" beside "name@unit"
  kBadPhandle,     // phandle malformed, reserved (0, ~0) or not unique
  kNotFound,       // node or property absent
  kBadProperty,    // property of the wrong size or shape
};
// The stable name ("FDT_TRUNCATED", ...) and a one-line description.
const char* to_string(Error e);
const char* describe(Error e);

// The largest tree read at all (libfdt's offsets are int); a board's DT window
// may be smaller, and accept() (sanitize.h) holds the tree to it.
inline constexpr size_t kMaxTreeSize = 0x200000;
inline constexpr size_t kMaxDepth = 16;
inline constexpr size_t kMaxNodes = 1024;
inline constexpr size_t kMaxProps = 16384;
inline constexpr size_t kMaxPhandles = 256;
inline constexpr size_t kMaxNodeName = 255;  // DTSpec 2.2.1 allows 31 + unit address
inline constexpr size_t kMaxPropName = 31;   // DTSpec 2.2.4.1

class Tree {
 public:
  // `blob` may be larger than the tree (e.g. a whole DT window); the tree's own
  // totalsize must fit inside it.
  [[nodiscard]] static std::expected<Tree, Error> open(std::span<const std::byte> blob);

  // The tree as libfdt takes it (`fdt`), and its bytes (totalsize of them).
  const void* raw() const { return fdt_; }
  size_t size() const { return size_; }
  std::span<const std::byte> bytes() const { return {static_cast<const std::byte*>(fdt_), size_}; }

  // Node offset for an absolute path ("/chosen"), looked up by libfdt
  // (fdt_path_offset_namelen): empty components are skipped, and a component
  // without a unit address matches the first child whose name is that
  // component followed by '@...'.
  [[nodiscard]] std::expected<int, Error> node(std::string_view path) const;
  // The node a path or alias in a property like stdout-path names (text before
  // ':'). An alias must name an absolute path; aliases are resolved once.
  [[nodiscard]] std::expected<int, Error> node_by_path(std::string_view path) const;

  // Structure navigation (offsets as libfdt; nothing when there is none).
  [[nodiscard]] std::optional<int> first_child(int node) const;
  [[nodiscard]] std::optional<int> next_sibling(int node) const;
  [[nodiscard]] std::optional<int> parent(int node) const;
  [[nodiscard]] std::string_view name(int node) const;
  [[nodiscard]] std::optional<int> node_by_phandle(uint32_t phandle) const;
  // The node's phandle, or 0 when it has none.
  [[nodiscard]] uint32_t phandle(int node) const;

  // The value of the node's first property of that name (libfdt's
  // fdt_getprop_namelen answers, or its enumeration of the node's
  // properties, remembered for a few nodes).
  [[nodiscard]] std::optional<std::span<const std::byte>> prop(int node,
                                                               std::string_view name) const;
  // A NUL-terminated string property (first string of a string list).
  [[nodiscard]] std::expected<std::string_view, Error> prop_string(int node,
                                                                   std::string_view name) const;
  // A 32-bit or 64-bit big-endian integer property (4 or 8 bytes).
  [[nodiscard]] std::expected<uint64_t, Error> prop_uint(int node, std::string_view name) const;
  // Exactly one 32-bit cell.
  [[nodiscard]] std::expected<uint32_t, Error> prop_u32(int node, std::string_view name) const;
  // Whether a string-list property contains `value`.
  [[nodiscard]] bool prop_has_string(int node, std::string_view name, std::string_view value) const;
  // Entry `index` of `reg`, decoded with the parent's #address-cells/#size-cells.
  [[nodiscard]] std::expected<base::Range, Error> reg(int node, size_t index = 0) const;

  // Properties of a node, in order: call with nullopt to start.
  struct Property {
    int offset;
    std::string_view name;
    std::span<const std::byte> value;
  };
  [[nodiscard]] std::optional<Property> next_property(int node, std::optional<int> after) const;

 private:
  // The properties of the nodes asked about, as libfdt enumerates them
  // (fdt_first_property_offset, fdt_next_property_offset,
  // fdt_getprop_by_offset). validate_platform asks each node for several
  // properties, first while it sorts the root's subnodes, then step by step;
  // libfdt's fdt_getprop starts every lookup by re-reading the node's name
  // byte by byte, then every property before the one it finds. Remembering
  // the lists costs less. The first nodes asked about keep their slots (the
  // root, then its subnodes in order); once those are taken, later nodes
  // share the last kSharedSlots, the least recently used giving way. A node
  // with more than kCachedProps properties is answered by libfdt's
  // fdt_getprop_namelen for the rest. Never more than a cache: the tree does
  // not change, and every entry is what libfdt said. (The const lookups fill
  // it: one Tree is not for two threads at once.)
  struct CachedProp {
    uint32_t name;  // offsets from the blob's start (< kMaxTreeSize)
    uint32_t value;
    uint32_t size;
    uint8_t name_size;  // <= kMaxPropName, as open() checked
  };
  static constexpr size_t kCachedNodes = 16;
  static constexpr size_t kSharedSlots = 3;
  static constexpr size_t kCachedProps = 10;
  struct CachedNode {
    int node = -1;  // -1: an empty slot
    uint32_t last_use = 0;
    uint8_t count = 0;
    bool complete = false;  // all of the node's properties are in `props`
    std::array<CachedProp, kCachedProps> props;
  };

  Tree(const void* fdt, size_t size) : fdt_(fdt), size_(size) {}
  std::optional<int> subnode(int parent, std::string_view name) const;
  // An absolute path, as libfdt looks it up (never an alias).
  std::optional<int> path(std::string_view absolute) const;
  const CachedNode& cached(int node) const;

  const void* fdt_;  // 8-byte aligned, checked by open()
  size_t size_;      // the header's totalsize
  // 2.8 KiB of the Tree's 2.8: a Tree is not a small value.
  mutable std::array<CachedNode, kCachedNodes> cache_{};
  mutable uint32_t uses_ = 0;
};

}  // namespace fdt

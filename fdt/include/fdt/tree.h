// A read-only view of an untrusted flattened device tree (DTSpec v0.4 ch. 5).
//
// Tree::open checks the header, the block layout and walks the whole structure
// block with the project's own bounds checks before any lookup (libfdt's own
// checks are not enough for hostile input, see ../shared/reference/
// toolchain.md). What open() guarantees once it succeeds:
//   - the blob is at most kMaxTreeSize bytes, version 17, blocks in bounds,
//     aligned and not overlapping, the reservation map terminated;
//   - the token stream is well formed: one root, balanced nodes, properties
//     before subnodes, every property inside the block, nesting <= kMaxDepth,
//     at most kMaxNodes nodes and kMaxProps properties;
//   - node names are NUL-terminated, printable, without '/', at most
//     kMaxNodeName characters (the root's is empty, no other is); property
//     names are offsets to NUL-terminated printable strings inside the strings
//     block, 1..kMaxPropName characters;
//   - no two siblings share a name;
//   - "phandle"/"linux,phandle" are 4 bytes, neither 0 nor 0xffffffff, equal
//     when a node has both, unique in the tree (at most kMaxPhandles).
// The lookups below walk the token stream themselves (fdt/structure.h; the
// firmware has no libfdt): on a tree open() accepted they answer as libfdt's
// fdt_path_offset, fdt_getprop, fdt_first_subnode ... would (the tests and the
// fuzzer check it), for any offset they stay inside the blob, and they cost a
// few instructions per token. Aliases are resolved once, here (libfdt 1.6.1
// recurses without bound on an alias naming an alias).
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string_view>

#include "base/range.h"

namespace fdt {

namespace internal {
class Structure;  // structure.h
}

enum class Error : uint8_t {
  kTruncated,  // blob shorter than its header says, or than a header
  kBadMagic,
  kBadVersion,
  kBadLayout,      // blocks out of bounds, misaligned or overlapping
  kBadStructure,   // malformed token stream
  kTooDeep,        // nesting deeper than kMaxDepth
  kTooBig,         // larger than kMaxTreeSize, or too many nodes/properties/phandles
  kBadName,        // node or property name malformed or too long
  kDuplicateNode,  // two siblings with the same name
  kBadPhandle,     // phandle malformed, reserved (0, ~0) or not unique
  kNotFound,       // node or property absent
  kBadProperty,    // property of the wrong size or shape
};
// The stable name ("FDT_TRUNCATED", ...) and a one-line description.
const char* to_string(Error e);
const char* describe(Error e);

inline constexpr size_t kMaxTreeSize = 0x200000;  // = BOARD_DT_MAX_SIZE (checked in validate.cc)
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

  const void* raw() const { return data_; }
  size_t size() const { return size_; }
  std::span<const std::byte> bytes() const { return {static_cast<const std::byte*>(data_), size_}; }

  // Node offset for an absolute path ("/chosen"), libfdt semantics: empty
  // components are skipped, and a component without a unit address matches
  // the first child whose name is that component followed by '@...'.
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
  Tree(const void* data, size_t size, std::span<const std::byte> structs,
       std::span<const std::byte> strings)
      : data_(data),
        size_(size),
        structs_(structs.data()),
        strings_(strings.data()),
        struct_size_(static_cast<uint32_t>(structs.size())),
        strings_size_(static_cast<uint32_t>(strings.size())) {}
  internal::Structure blocks() const;
  // The offset of the first token after the node's name (its first property,
  // subnode or END_NODE); nothing when `node` is not a BEGIN_NODE.
  std::optional<uint32_t> body(int node) const;
  std::optional<int> subnode(int parent, std::string_view name) const;
  std::optional<int> path(std::string_view absolute) const;

  const void* data_;
  size_t size_;
  const std::byte* structs_;
  const std::byte* strings_;
  uint32_t struct_size_;
  uint32_t strings_size_;
};

}  // namespace fdt

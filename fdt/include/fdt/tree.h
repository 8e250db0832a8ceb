// A read-only view of an untrusted flattened device tree (DTSpec v0.4 ch. 5).
//
// Tree::open checks the header, the block layout and walks the whole structure
// block with the project's own bounds checks (token stream, names, property
// lengths and name offsets, nesting depth, counts) before libfdt is allowed to
// look at the blob: libfdt's own checks are not enough for hostile input (see
// ../shared/reference/toolchain.md). After open() succeeds, libfdt lookups on
// the blob stay inside it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string_view>

#include "base/range.h"

namespace fdt {

enum class Error : uint8_t {
  kTruncated,      // blob shorter than its header says, or than a header
  kBadMagic,
  kBadVersion,
  kBadLayout,      // blocks out of bounds, misaligned or overlapping
  kBadStructure,   // malformed token stream
  kTooDeep,        // nesting deeper than kMaxDepth
  kTooBig,         // more nodes/properties than allowed
  kNotFound,       // node or property absent
  kBadProperty,    // property of the wrong size or shape
};
const char* to_string(Error e);

inline constexpr size_t kMaxDepth = 16;
inline constexpr size_t kMaxNodes = 2048;
inline constexpr size_t kMaxProps = 16384;

class Tree {
 public:
  // `blob` may be larger than the tree (e.g. a whole DT window); the tree's own
  // totalsize must fit inside it.
  [[nodiscard]] static std::expected<Tree, Error> open(std::span<const std::byte> blob);

  const void* raw() const { return data_; }
  size_t size() const { return size_; }

  // Node offset for an absolute path ("/chosen"), libfdt semantics.
  [[nodiscard]] std::expected<int, Error> node(const char* path) const;
  // The node a path or alias in a property like stdout-path names (text before ':').
  [[nodiscard]] std::expected<int, Error> node_by_path(std::string_view path) const;

  [[nodiscard]] std::optional<std::span<const std::byte>> prop(int node, const char* name) const;
  // A NUL-terminated string property (first string of a string list).
  [[nodiscard]] std::expected<std::string_view, Error> prop_string(int node, const char* name) const;
  // A 32-bit or 64-bit big-endian integer property (4 or 8 bytes).
  [[nodiscard]] std::expected<uint64_t, Error> prop_uint(int node, const char* name) const;
  // Whether a string-list property contains `value`.
  [[nodiscard]] bool prop_has_string(int node, const char* name, std::string_view value) const;
  // Entry `index` of `reg`, decoded with the parent's #address-cells/#size-cells.
  [[nodiscard]] std::expected<base::Range, Error> reg(int node, size_t index = 0) const;

 private:
  Tree(const void* data, size_t size) : data_(data), size_(size) {}
  const void* data_;
  size_t size_;
};

}  // namespace fdt

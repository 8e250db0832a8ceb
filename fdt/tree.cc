#include "fdt/tree.h"

#include <libfdt.h>

#include <array>

#include "base/reader.h"

namespace fdt {
namespace {

constexpr uint32_t kMagic = 0xd00dfeed;
constexpr uint32_t kHeaderSize = 40;  // v17 header (DTSpec 5.2)
constexpr uint32_t kBeginNode = 1, kEndNode = 2, kProp = 3, kNop = 4, kEnd = 9;

// Pads the cursor to the next 4-byte boundary of the block (DTSpec 5.4.1:
// every token is 32-bit aligned); false when that leaves the block.
bool align4(base::Reader& r) {
  const uint64_t pad = (4 - r.offset() % 4) % 4;
  return r.skip(pad);
}

// Length of the NUL-terminated string at the start of `b`, excluding the NUL.
std::optional<size_t> cstring_len(std::span<const std::byte> b) {
  for (size_t i = 0; i < b.size(); ++i) {
    if (b[i] == std::byte{0}) return i;
  }
  return std::nullopt;
}

// DTSpec 2.2.1/2.2.4.1 name characters are all printable ASCII; '/' would
// make a node unreachable by path.
bool name_chars_ok(std::span<const std::byte> name, bool allow_slash) {
  for (std::byte b : name) {
    const auto c = std::to_integer<uint8_t>(b);
    if (c < 0x21 || c > 0x7e) return false;
    if (c == '/' && !allow_slash) return false;
  }
  return true;
}

uint32_t be32_at(std::span<const std::byte> b, size_t off) {
  return base::detail::load_be<uint32_t>(b.subspan(off, 4));
}

// [off, off + size) inside [0, total), without overflow.
bool block_ok(uint32_t off, uint32_t size, uint32_t total) {
  return off <= total && size <= total - off;
}

bool is_phandle_name(std::span<const std::byte> name) {
  auto eq = [&](std::string_view s) {
    if (name.size() != s.size()) return false;
    for (size_t i = 0; i < s.size(); ++i) {
      if (std::to_integer<char>(name[i]) != s[i]) return false;
    }
    return true;
  };
  return eq("phandle") || eq("linux,phandle");
}

// The phandles seen so far; a fixed table so open() never allocates.
class PhandleSet {
 public:
  // False when `v` was seen before or the table is full (`full` says which).
  bool insert(uint32_t v, bool& full) {
    for (size_t i = 0; i < count_; ++i) {
      if (seen_[i] == v) return false;
    }
    if (count_ == seen_.size()) {
      full = true;
      return false;
    }
    seen_[count_++] = v;
    return true;
  }

 private:
  std::array<uint32_t, kMaxPhandles> seen_{};
  size_t count_ = 0;
};

std::expected<void, Error> check_structure(std::span<const std::byte> structs,
                                           std::span<const std::byte> strings) {
  base::Reader r(structs);
  size_t depth = 0, nodes = 0, props = 0;
  bool seen_root = false;
  bool after_child = false;   // the current node has had a subnode already
  uint32_t node_phandle = 0;  // the current node's phandle so far (0: none)
  PhandleSet phandles;
  for (;;) {
    auto token = r.be32();
    if (!token) return std::unexpected(Error::kBadStructure);
    // libfdt finds the root at offset 0: nothing (not even a NOP) before it.
    if (!seen_root && *token != kBeginNode) return std::unexpected(Error::kBadStructure);
    switch (*token) {
      case kBeginNode: {
        if (depth == 0 && seen_root) return std::unexpected(Error::kBadStructure);
        auto len = cstring_len(r.rest());
        if (!len) return std::unexpected(Error::kBadStructure);
        auto name = r.rest().first(*len);
        if (!r.skip(*len + 1) || !align4(r)) return std::unexpected(Error::kBadStructure);
        // The root's name is empty (DTSpec 5.4.1), every other is not.
        if ((depth == 0) != (*len == 0) || *len > kMaxNodeName || !name_chars_ok(name, false)) {
          return std::unexpected(Error::kBadName);
        }
        seen_root = true;
        if (++depth > kMaxDepth) return std::unexpected(Error::kTooDeep);
        if (++nodes > kMaxNodes) return std::unexpected(Error::kTooBig);
        after_child = false;
        node_phandle = 0;
        break;
      }
      case kEndNode:
        if (depth == 0) return std::unexpected(Error::kBadStructure);
        --depth;
        after_child = true;
        break;
      case kProp: {
        // DTSpec 5.4.1: a node's properties precede its subnodes.
        if (depth == 0 || after_child) return std::unexpected(Error::kBadStructure);
        auto len = r.be32();
        auto nameoff = r.be32();
        if (!len || !nameoff) return std::unexpected(Error::kBadStructure);
        auto value = r.bytes(*len);
        if (!value || !align4(r)) return std::unexpected(Error::kBadStructure);
        if (*nameoff >= strings.size()) return std::unexpected(Error::kBadStructure);
        auto name_len = cstring_len(strings.subspan(*nameoff));
        if (!name_len) return std::unexpected(Error::kBadStructure);
        auto name = strings.subspan(*nameoff, *name_len);
        if (name.empty() || name.size() > kMaxPropName || !name_chars_ok(name, true)) {
          return std::unexpected(Error::kBadName);
        }
        if (++props > kMaxProps) return std::unexpected(Error::kTooBig);
        if (is_phandle_name(name)) {
          if (value->size() != 4) return std::unexpected(Error::kBadPhandle);
          const uint32_t v = base::detail::load_be<uint32_t>(*value);
          if (v == 0 || v == 0xffffffff) return std::unexpected(Error::kBadPhandle);
          if (node_phandle != 0) {
            // "phandle" and "linux,phandle" on one node must agree.
            if (v != node_phandle) return std::unexpected(Error::kBadPhandle);
            break;
          }
          bool full = false;
          if (!phandles.insert(v, full)) {
            return std::unexpected(full ? Error::kTooBig : Error::kBadPhandle);
          }
          node_phandle = v;
        }
        break;
      }
      case kNop:
        break;
      case kEnd:
        if (depth != 0 || !seen_root || !r.at_end()) return std::unexpected(Error::kBadStructure);
        return {};
      default:
        return std::unexpected(Error::kBadStructure);
    }
  }
}

// No two children of one node share a name (libfdt's path lookups would see
// only the first; a second /chosen or /memory@... must not hide there).
// Runs after check_structure(), so the libfdt walk stays in bounds.
// Quadratic in the number of siblings, bounded by kMaxNodes.
std::expected<void, Error> check_sibling_names(const Tree& t) {
  for (int node = 0; node >= 0; node = fdt_next_node(t.raw(), node, nullptr)) {
    for (auto a = t.first_child(node); a; a = t.next_sibling(*a)) {
      const std::string_view name = t.name(*a);
      for (auto b = t.next_sibling(*a); b; b = t.next_sibling(*b)) {
        if (t.name(*b) == name) return std::unexpected(Error::kDuplicateNode);
      }
    }
  }
  return {};
}

}  // namespace

const char* to_string(Error e) {
  switch (e) {
    case Error::kTruncated:
      return "FDT_TRUNCATED";
    case Error::kBadMagic:
      return "FDT_BAD_MAGIC";
    case Error::kBadVersion:
      return "FDT_BAD_VERSION";
    case Error::kBadLayout:
      return "FDT_BAD_LAYOUT";
    case Error::kBadStructure:
      return "FDT_BAD_STRUCTURE";
    case Error::kTooDeep:
      return "FDT_TOO_DEEP";
    case Error::kTooBig:
      return "FDT_TOO_BIG";
    case Error::kBadName:
      return "FDT_BAD_NAME";
    case Error::kDuplicateNode:
      return "FDT_DUPLICATE_NODE";
    case Error::kBadPhandle:
      return "FDT_BAD_PHANDLE";
    case Error::kNotFound:
      return "FDT_NOT_FOUND";
    case Error::kBadProperty:
      return "FDT_BAD_PROPERTY";
  }
  return "FDT_UNKNOWN";
}

const char* describe(Error e) {
  switch (e) {
    case Error::kTruncated:
      return "blob shorter than its header says";
    case Error::kBadMagic:
      return "not a flattened device tree";
    case Error::kBadVersion:
      return "unsupported version (need 17)";
    case Error::kBadLayout:
      return "header blocks out of bounds, misaligned or overlapping";
    case Error::kBadStructure:
      return "malformed structure block";
    case Error::kTooDeep:
      return "nodes nested too deep";
    case Error::kTooBig:
      return "tree too large, or too many nodes, properties or phandles";
    case Error::kBadName:
      return "malformed or overlong node or property name";
    case Error::kDuplicateNode:
      return "two sibling nodes with the same name";
    case Error::kBadPhandle:
      return "malformed, reserved or duplicate phandle";
    case Error::kNotFound:
      return "not found";
    case Error::kBadProperty:
      return "malformed property";
  }
  return "unknown";
}

std::expected<Tree, Error> Tree::open(std::span<const std::byte> blob) {
  if (blob.size() < kHeaderSize) return std::unexpected(Error::kTruncated);
  if (be32_at(blob, 0) != kMagic) return std::unexpected(Error::kBadMagic);
  const uint32_t total = be32_at(blob, 4);
  const uint32_t off_struct = be32_at(blob, 8);
  const uint32_t off_strings = be32_at(blob, 12);
  const uint32_t off_rsvmap = be32_at(blob, 16);
  const uint32_t version = be32_at(blob, 20);
  const uint32_t last_comp = be32_at(blob, 24);
  const uint32_t size_strings = be32_at(blob, 32);
  const uint32_t size_struct = be32_at(blob, 36);
  if (total < kHeaderSize || total > blob.size()) return std::unexpected(Error::kTruncated);
  if (total > kMaxTreeSize) return std::unexpected(Error::kTooBig);
  // Version 17 with a v16-compatible layout is what dtc and QEMU write.
  if (version < 17 || last_comp > 17) return std::unexpected(Error::kBadVersion);
  if (!block_ok(off_struct, size_struct, total) || !block_ok(off_strings, size_strings, total) ||
      off_struct < kHeaderSize || off_strings < kHeaderSize || off_rsvmap < kHeaderSize ||
      off_struct % 4 != 0 || off_rsvmap % 8 != 0 || off_rsvmap >= total) {
    return std::unexpected(Error::kBadLayout);
  }
  // The struct and strings blocks must not overlap each other.
  if (off_struct < off_strings + size_strings && off_strings < off_struct + size_struct &&
      size_struct != 0 && size_strings != 0) {
    return std::unexpected(Error::kBadLayout);
  }
  // Memory reservation block: 16-byte entries up to a zero entry, in bounds.
  for (uint32_t off = off_rsvmap;; off += 16) {
    if (total - off < 16) return std::unexpected(Error::kBadLayout);
    bool zero = true;
    for (uint32_t i = 0; i < 16; ++i) zero = zero && blob[off + i] == std::byte{0};
    if (zero) break;
  }
  auto structs = blob.subspan(off_struct, size_struct);
  auto strings = blob.subspan(off_strings, size_strings);
  if (auto r = check_structure(structs, strings); !r) return std::unexpected(r.error());
  if (fdt_check_header(blob.data()) != 0) return std::unexpected(Error::kBadLayout);
  Tree tree(blob.data(), total);
  if (auto r = check_sibling_names(tree); !r) return std::unexpected(r.error());
  return tree;
}

std::expected<int, Error> Tree::node(const char* path) const {
  if (path == nullptr || path[0] != '/') return std::unexpected(Error::kNotFound);
  int off = fdt_path_offset(data_, path);
  if (off < 0) return std::unexpected(Error::kNotFound);
  return off;
}

std::expected<int, Error> Tree::node_by_path(std::string_view path) const {
  size_t colon = path.find(':');
  if (colon != std::string_view::npos) path = path.substr(0, colon);
  if (path.empty() || path.size() > 256) return std::unexpected(Error::kNotFound);
  if (path[0] != '/') {
    // DTSpec 3.3: an alias value is the full path of a node. Resolved here,
    // once, so an alias naming another alias cannot loop inside libfdt.
    const size_t slash = path.find('/');
    const std::string_view alias = path.substr(0, slash);
    auto aliases = node("/aliases");
    if (!aliases) return std::unexpected(Error::kNotFound);
    int len = 0;
    const void* v =
        fdt_getprop_namelen(data_, *aliases, alias.data(), static_cast<int>(alias.size()), &len);
    if (v == nullptr || len < 2) return std::unexpected(Error::kNotFound);
    std::string_view target(static_cast<const char*>(v), static_cast<size_t>(len));
    if (target[0] != '/' || target.back() != '\0') return std::unexpected(Error::kNotFound);
    target.remove_suffix(1);
    if (target.find('\0') != std::string_view::npos) return std::unexpected(Error::kNotFound);
    int off = fdt_path_offset_namelen(data_, target.data(), static_cast<int>(target.size()));
    if (off < 0) return std::unexpected(Error::kNotFound);
    if (slash == std::string_view::npos) return off;
    // The rest ("alias/child") relative to the alias's node.
    std::string_view rest = path.substr(slash + 1);
    while (!rest.empty() && off >= 0) {
      const size_t next = rest.find('/');
      const std::string_view part = rest.substr(0, next);
      if (!part.empty()) {
        off = fdt_subnode_offset_namelen(data_, off, part.data(), static_cast<int>(part.size()));
      }
      rest = next == std::string_view::npos ? std::string_view() : rest.substr(next + 1);
    }
    if (off < 0) return std::unexpected(Error::kNotFound);
    return off;
  }
  int off = fdt_path_offset_namelen(data_, path.data(), static_cast<int>(path.size()));
  if (off < 0) return std::unexpected(Error::kNotFound);
  return off;
}

std::optional<int> Tree::first_child(int node) const {
  int off = fdt_first_subnode(data_, node);
  if (off < 0) return std::nullopt;
  return off;
}

std::optional<int> Tree::next_sibling(int node) const {
  int off = fdt_next_subnode(data_, node);
  if (off < 0) return std::nullopt;
  return off;
}

std::optional<int> Tree::parent(int node) const {
  int off = fdt_parent_offset(data_, node);
  if (off < 0) return std::nullopt;
  return off;
}

std::string_view Tree::name(int node) const {
  int len = 0;
  const char* n = fdt_get_name(data_, node, &len);
  if (n == nullptr || len < 0) return {};
  return {n, static_cast<size_t>(len)};
}

std::optional<int> Tree::node_by_phandle(uint32_t phandle) const {
  if (phandle == 0 || phandle == 0xffffffff) return std::nullopt;
  int off = fdt_node_offset_by_phandle(data_, phandle);
  if (off < 0) return std::nullopt;
  return off;
}

uint32_t Tree::phandle(int node) const { return fdt_get_phandle(data_, node); }

std::optional<std::span<const std::byte>> Tree::prop(int node, const char* name) const {
  int len = 0;
  const void* p = fdt_getprop(data_, node, name, &len);
  if (p == nullptr || len < 0) return std::nullopt;
  return std::span<const std::byte>(static_cast<const std::byte*>(p), static_cast<size_t>(len));
}

std::expected<std::string_view, Error> Tree::prop_string(int node, const char* name) const {
  auto p = prop(node, name);
  if (!p) return std::unexpected(Error::kNotFound);
  auto len = cstring_len(*p);
  if (!len) return std::unexpected(Error::kBadProperty);
  return std::string_view(reinterpret_cast<const char*>(p->data()), *len);
}

std::expected<uint64_t, Error> Tree::prop_uint(int node, const char* name) const {
  auto p = prop(node, name);
  if (!p) return std::unexpected(Error::kNotFound);
  if (p->size() != 4 && p->size() != 8) return std::unexpected(Error::kBadProperty);
  return p->size() == 4 ? base::detail::load_be<uint32_t>(*p) : base::detail::load_be<uint64_t>(*p);
}

std::expected<uint32_t, Error> Tree::prop_u32(int node, const char* name) const {
  auto p = prop(node, name);
  if (!p) return std::unexpected(Error::kNotFound);
  if (p->size() != 4) return std::unexpected(Error::kBadProperty);
  return base::detail::load_be<uint32_t>(*p);
}

bool Tree::prop_has_string(int node, const char* name, std::string_view value) const {
  auto p = prop(node, name);
  if (!p) return false;
  std::string_view all(reinterpret_cast<const char*>(p->data()), p->size());
  while (!all.empty()) {
    size_t nul = all.find('\0');
    if (nul == std::string_view::npos) return false;  // unterminated list
    if (all.substr(0, nul) == value) return true;
    all.remove_prefix(nul + 1);
  }
  return false;
}

std::expected<base::Range, Error> Tree::reg(int node, size_t index) const {
  int parent = fdt_parent_offset(data_, node);
  if (parent < 0) return std::unexpected(Error::kBadStructure);
  int ac = fdt_address_cells(data_, parent);
  int sc = fdt_size_cells(data_, parent);
  // DTSpec 2.3.5: this project's boards use 1 or 2 cells for both.
  if (ac < 1 || ac > 2 || sc < 1 || sc > 2) return std::unexpected(Error::kBadProperty);
  auto p = prop(node, "reg");
  if (!p) return std::unexpected(Error::kNotFound);
  const size_t entry = 4 * static_cast<size_t>(ac + sc);
  if (p->size() % entry != 0) return std::unexpected(Error::kBadProperty);
  if (index >= p->size() / entry) return std::unexpected(Error::kNotFound);
  auto cells = [&](size_t off, int n) {
    uint64_t v = 0;
    for (size_t i = 0; i < 4 * static_cast<size_t>(n); ++i) {
      v = (v << 8) | std::to_integer<uint64_t>((*p)[off + i]);
    }
    return v;
  };
  size_t off = index * entry;
  auto r = base::Range::make(cells(off, ac), cells(off + 4 * static_cast<size_t>(ac), sc));
  if (!r) return std::unexpected(Error::kBadProperty);
  return *r;
}

std::optional<Tree::Property> Tree::next_property(int node, std::optional<int> after) const {
  int off =
      after ? fdt_next_property_offset(data_, *after) : fdt_first_property_offset(data_, node);
  if (off < 0) return std::nullopt;
  const char* name = nullptr;
  int len = 0;
  const void* v = fdt_getprop_by_offset(data_, off, &name, &len);
  if (v == nullptr || name == nullptr || len < 0) return std::nullopt;
  return Property{
      off, std::string_view(name),
      std::span<const std::byte>(static_cast<const std::byte*>(v), static_cast<size_t>(len))};
}

}  // namespace fdt

#include "fdt/tree.h"

#include <libfdt.h>

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

// Length of the NUL-terminated string at the cursor, excluding the NUL.
std::optional<size_t> cstring_len(const base::Reader& r) {
  const auto rest = r.rest();
  for (size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == std::byte{0}) return i;
  }
  return std::nullopt;
}

uint32_t be32_at(std::span<const std::byte> b, size_t off) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | std::to_integer<uint32_t>(b[off + i]);
  return v;
}

// [off, off + size) inside [0, total), without overflow.
bool block_ok(uint32_t off, uint32_t size, uint32_t total) {
  return off <= total && size <= total - off;
}

std::expected<void, Error> check_structure(std::span<const std::byte> structs,
                                           std::span<const std::byte> strings) {
  base::Reader r(structs);
  size_t depth = 0, nodes = 0, props = 0;
  bool seen_root = false;
  for (;;) {
    auto token = r.be32();
    if (!token) return std::unexpected(Error::kBadStructure);
    switch (*token) {
      case kBeginNode: {
        if (depth == 0 && seen_root) return std::unexpected(Error::kBadStructure);
        seen_root = true;
        auto len = cstring_len(r);
        if (!len || !r.skip(*len + 1) || !align4(r)) return std::unexpected(Error::kBadStructure);
        if (++depth > kMaxDepth) return std::unexpected(Error::kTooDeep);
        if (++nodes > kMaxNodes) return std::unexpected(Error::kTooBig);
        break;
      }
      case kEndNode:
        if (depth == 0) return std::unexpected(Error::kBadStructure);
        --depth;
        break;
      case kProp: {
        if (depth == 0) return std::unexpected(Error::kBadStructure);
        auto len = r.be32();
        auto nameoff = r.be32();
        if (!len || !nameoff || !r.skip(*len) || !align4(r)) {
          return std::unexpected(Error::kBadStructure);
        }
        if (*nameoff >= strings.size()) return std::unexpected(Error::kBadStructure);
        bool terminated = false;
        for (size_t i = *nameoff; i < strings.size(); ++i) {
          if (strings[i] == std::byte{0}) {
            terminated = true;
            break;
          }
        }
        if (!terminated) return std::unexpected(Error::kBadStructure);
        if (++props > kMaxProps) return std::unexpected(Error::kTooBig);
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

}  // namespace

const char* to_string(Error e) {
  switch (e) {
    case Error::kTruncated:
      return "truncated";
    case Error::kBadMagic:
      return "bad magic";
    case Error::kBadVersion:
      return "unsupported version";
    case Error::kBadLayout:
      return "bad block layout";
    case Error::kBadStructure:
      return "malformed structure block";
    case Error::kTooDeep:
      return "nodes nested too deep";
    case Error::kTooBig:
      return "too many nodes or properties";
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
  return Tree(blob.data(), total);
}

std::expected<int, Error> Tree::node(const char* path) const {
  int off = fdt_path_offset(data_, path);
  if (off < 0) return std::unexpected(Error::kNotFound);
  return off;
}

std::expected<int, Error> Tree::node_by_path(std::string_view path) const {
  size_t colon = path.find(':');
  if (colon != std::string_view::npos) path = path.substr(0, colon);
  if (path.empty() || path.size() > 256) return std::unexpected(Error::kNotFound);
  int off = fdt_path_offset_namelen(data_, path.data(), static_cast<int>(path.size()));
  if (off < 0) return std::unexpected(Error::kNotFound);
  return off;
}

std::optional<std::span<const std::byte>> Tree::prop(int node, const char* name) const {
  int len = 0;
  const void* p = fdt_getprop(data_, node, name, &len);
  if (p == nullptr || len < 0) return std::nullopt;
  return std::span<const std::byte>(static_cast<const std::byte*>(p), static_cast<size_t>(len));
}

std::expected<std::string_view, Error> Tree::prop_string(int node, const char* name) const {
  auto p = prop(node, name);
  if (!p) return std::unexpected(Error::kNotFound);
  for (size_t i = 0; i < p->size(); ++i) {
    if ((*p)[i] == std::byte{0}) {
      return std::string_view(reinterpret_cast<const char*>(p->data()), i);
    }
  }
  return std::unexpected(Error::kBadProperty);
}

std::expected<uint64_t, Error> Tree::prop_uint(int node, const char* name) const {
  auto p = prop(node, name);
  if (!p) return std::unexpected(Error::kNotFound);
  if (p->size() != 4 && p->size() != 8) return std::unexpected(Error::kBadProperty);
  uint64_t v = 0;
  for (std::byte b : *p) v = (v << 8) | std::to_integer<uint64_t>(b);
  return v;
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

}  // namespace fdt

#include "fdt/tree.h"

#include <algorithm>
#include <array>

#include "base/reader.h"
#include "structure.h"

namespace fdt {

using namespace std::literals;

namespace {

using internal::kBeginNode;
using internal::kEnd;
using internal::kEndNode;
using internal::kNop;
using internal::kProp;

constexpr uint32_t kMagic = 0xd00dfeed;
constexpr uint32_t kHeaderSize = 40;  // v17 header (DTSpec 5.2)

// Length of the NUL-terminated string at the start of `b`, excluding the NUL.
std::optional<size_t> cstring_len(std::span<const std::byte> b) {
  for (size_t i = 0; i < b.size(); ++i) {
    if (b[i] == std::byte{0}) return i;
  }
  return std::nullopt;
}

// A name at the start of `b`, up to its NUL (none: no NUL in `b`): whether
// its characters are allowed (DTSpec 2.2.1/2.2.4.1: printable ASCII; '/'
// would make a node unreachable by path) and a digest for SiblingNames.
struct Name {
  std::optional<size_t> len;
  bool chars_ok = true;
  uint32_t hash = 2166136261u;  // FNV-1a
};
Name scan_name(std::span<const std::byte> b, bool allow_slash) {
  Name n;
  for (size_t i = 0; i < b.size(); ++i) {
    const auto c = std::to_integer<uint8_t>(b[i]);
    if (c == 0) {
      n.len = i;
      break;
    }
    if (c < 0x21 || c > 0x7e || (c == '/' && !allow_slash)) n.chars_ok = false;
    n.hash = (n.hash ^ c) * 16777619u;
  }
  return n;
}

uint32_t be32_at(std::span<const std::byte> b, size_t off) {
  return internal::load_be32(b.data() + off);
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
  return eq("phandle"sv) || eq("linux,phandle"sv);
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

// The names of one node's subnodes seen so far, to refuse two siblings with
// the same name (libfdt's path lookups would see only the first; a second
// /chosen or /memory@... must not hide there). A stack over the whole walk:
// the subnodes of every node on the current path, at most kMaxNodes in all.
class SiblingNames {
 public:
  // A node named by the `len` bytes at `off` in the structure block, under
  // the current node; it becomes the current node, at `depth`.
  void begin(size_t off, size_t len, uint32_t hash, size_t depth) {
    names_[count_++] = Entry{static_cast<uint32_t>(off << 8 | len), hash};
    first_[depth] = count_;  // its own subnodes follow
  }
  // The node at `depth` ends: whether two of its subnodes share a name.
  // Quadratic in the number of siblings, compared by hash and length first.
  bool end_has_duplicate(std::span<const std::byte> structs, size_t depth) {
    const size_t first = first_[depth];
    bool dup = false;
    for (size_t a = first; a < count_ && !dup; ++a) {
      for (size_t b = a + 1; b < count_ && !dup; ++b) {
        if (names_[a].hash != names_[b].hash || names_[a].len() != names_[b].len()) continue;
        const auto x = structs.subspan(names_[a].off(), names_[a].len());
        dup = std::equal(x.begin(), x.end(), structs.begin() + names_[b].off());
      }
    }
    count_ = first;
    return dup;
  }

 private:
  // Names are at most kMaxNodeName (255) bytes, structure blocks at most
  // kMaxTreeSize (2 MiB): offset and length fit one word.
  static_assert(kMaxNodeName <= 0xff && kMaxTreeSize <= (size_t{1} << 24));
  struct Entry {
    uint32_t off_len;
    uint32_t hash;
    size_t off() const { return off_len >> 8; }
    size_t len() const { return off_len & 0xff; }
  };
  std::array<Entry, kMaxNodes> names_;  // 8 KiB of stack while open() runs
  std::array<size_t, kMaxDepth + 1> first_{};
  size_t count_ = 0;
};

// Property names already found well formed, by their offset in the strings
// block (direct-mapped: a miss only costs checking the name again).
class PropNames {
 public:
  struct Entry {
    uint64_t nameoff_plus_1 = 0;  // 0: an empty slot
    bool phandle = false;         // "phandle" or "linux,phandle"
  };
  Entry& at(uint32_t nameoff) { return entries_[nameoff % entries_.size()]; }

 private:
  std::array<Entry, 64> entries_{};
};

// The token stream, checked in one pass. The order of the checks fixes which
// error a tree with several faults gets; a duplicate sibling name is reported
// only once the rest of the stream is known to be sound.
std::expected<void, Error> check_structure(std::span<const std::byte> structs,
                                           std::span<const std::byte> strings) {
  const size_t size = structs.size();
  const std::byte* const s = structs.data();
  size_t pos = 0;
  size_t depth = 0, nodes = 0, props = 0;
  bool seen_root = false;
  bool after_child = false;   // the current node has had a subnode already
  bool duplicate = false;     // two siblings share a name
  uint32_t node_phandle = 0;  // the current node's phandle so far (0: none)
  PhandleSet phandles;
  SiblingNames siblings;
  PropNames prop_names;
  // The cursor moves in whole words; `pos` <= `size` throughout.
  auto word = [&](uint32_t& v) {
    if (size - pos < 4) return false;
    v = internal::load_be32(s + pos);
    pos += 4;
    return true;
  };
  // Past `n` bytes and the padding to the next word, inside the block.
  auto skip_padded = [&](size_t n) {
    if (n > size - pos) return false;
    pos += n;
    const size_t pad = (4 - pos % 4) % 4;
    if (pad > size - pos) return false;
    pos += pad;
    return true;
  };
  for (;;) {
    uint32_t token = 0;
    if (!word(token)) return std::unexpected(Error::kBadStructure);
    // libfdt finds the root at offset 0: nothing (not even a NOP) before it.
    if (!seen_root && token != kBeginNode) return std::unexpected(Error::kBadStructure);
    switch (token) {
      case kBeginNode: {
        if (depth == 0 && seen_root) return std::unexpected(Error::kBadStructure);
        const size_t name_off = pos;
        const Name name = scan_name(structs.subspan(pos), false);
        const auto len = name.len;
        if (!len) return std::unexpected(Error::kBadStructure);
        if (!skip_padded(*len + 1)) return std::unexpected(Error::kBadStructure);
        // The root's name is empty (DTSpec 5.4.1), every other is not.
        if ((depth == 0) != (*len == 0) || *len > kMaxNodeName || !name.chars_ok) {
          return std::unexpected(Error::kBadName);
        }
        seen_root = true;
        if (++depth > kMaxDepth) return std::unexpected(Error::kTooDeep);
        if (++nodes > kMaxNodes) return std::unexpected(Error::kTooBig);
        siblings.begin(name_off, *len, name.hash, depth);
        after_child = false;
        node_phandle = 0;
        break;
      }
      case kEndNode:
        if (depth == 0) return std::unexpected(Error::kBadStructure);
        duplicate = siblings.end_has_duplicate(structs, depth) || duplicate;
        --depth;
        after_child = true;
        break;
      case kProp: {
        // DTSpec 5.4.1: a node's properties precede its subnodes.
        if (depth == 0 || after_child) return std::unexpected(Error::kBadStructure);
        uint32_t len = 0, nameoff = 0;
        if (!word(len) || !word(nameoff)) return std::unexpected(Error::kBadStructure);
        const size_t value_off = pos;
        if (!skip_padded(len)) return std::unexpected(Error::kBadStructure);
        if (nameoff >= strings.size()) return std::unexpected(Error::kBadStructure);
        // Most names serve many properties: one checked before is fine.
        PropNames::Entry& known = prop_names.at(nameoff);
        if (known.nameoff_plus_1 != uint64_t{nameoff} + 1) {
          const Name name = scan_name(strings.subspan(nameoff), true);
          if (!name.len) return std::unexpected(Error::kBadStructure);
          if (*name.len == 0 || *name.len > kMaxPropName || !name.chars_ok) {
            return std::unexpected(Error::kBadName);
          }
          known = {uint64_t{nameoff} + 1, is_phandle_name(strings.subspan(nameoff, *name.len))};
        }
        if (++props > kMaxProps) return std::unexpected(Error::kTooBig);
        if (known.phandle) {
          if (len != 4) return std::unexpected(Error::kBadPhandle);
          const uint32_t v = internal::load_be32(s + value_off);
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
        if (depth != 0 || !seen_root || pos != size) return std::unexpected(Error::kBadStructure);
        if (duplicate) return std::unexpected(Error::kDuplicateNode);
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
  return Tree(blob.data(), total, structs, strings);
}

internal::Structure Tree::blocks() const {
  return internal::Structure({structs_, struct_size_}, {strings_, strings_size_});
}

std::optional<uint32_t> Tree::body(int node) const {
  if (node < 0) return std::nullopt;
  const internal::Structure s = blocks();
  if (s.tag(static_cast<uint32_t>(node)) != kBeginNode) return std::nullopt;
  return s.next(static_cast<uint32_t>(node));
}

std::optional<int> Tree::first_child(int node) const {
  auto off = body(node);
  if (off) off = blocks().skip_props(*off);
  if (!off || blocks().tag(*off) != kBeginNode) return std::nullopt;
  return static_cast<int>(*off);
}

std::optional<int> Tree::next_sibling(int node) const {
  if (node < 0) return std::nullopt;
  const internal::Structure s = blocks();
  // Past the node's END_NODE (and any NOPs) to the next BEGIN_NODE, if any.
  auto off = s.skip_node(static_cast<uint32_t>(node));
  if (off) off = s.skip_props(*off);
  if (!off || s.tag(*off) != kBeginNode) return std::nullopt;
  return static_cast<int>(*off);
}

std::optional<int> Tree::parent(int node) const {
  if (node <= 0) return std::nullopt;
  const internal::Structure s = blocks();
  std::array<uint32_t, kMaxDepth + 1> path{};  // the open nodes
  size_t depth = 0;
  for (std::optional<uint32_t> off = 0; off; off = s.next(*off)) {
    const uint32_t t = s.tag(*off);
    if (t == kBeginNode) {
      if (*off == static_cast<uint32_t>(node)) {
        if (depth == 0) return std::nullopt;
        return static_cast<int>(path[depth - 1]);
      }
      if (depth == path.size()) return std::nullopt;
      path[depth++] = *off;
    } else if (t == kEndNode) {
      if (depth == 0) return std::nullopt;
      --depth;
    } else if (t != kProp && t != kNop) {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

std::string_view Tree::name(int node) const {
  if (node < 0) return {};
  return blocks().node_name(static_cast<uint32_t>(node));
}

std::optional<int> Tree::subnode(int parent, std::string_view name) const {
  // libfdt's fdt_nodename_eq_: "uart" also names "uart@9000000".
  const bool has_unit = name.find('@') != std::string_view::npos;
  for (auto n = first_child(parent); n; n = next_sibling(*n)) {
    const std::string_view child = this->name(*n);
    if (child.size() < name.size() || child.substr(0, name.size()) != name) continue;
    if (child.size() == name.size() || (!has_unit && child[name.size()] == '@')) return n;
  }
  return std::nullopt;
}

std::optional<int> Tree::path(std::string_view p) const {
  // As libfdt's fdt_path_offset_namelen for a path starting with '/'.
  int off = 0;
  size_t i = 0;
  while (i < p.size()) {
    while (p[i] == '/') {
      if (++i == p.size()) return off;
    }
    const size_t end = std::min(p.find('/', i), p.size());
    auto n = subnode(off, p.substr(i, end - i));
    if (!n) return std::nullopt;
    off = *n;
    i = end;
  }
  return off;
}

std::expected<int, Error> Tree::node(std::string_view p) const {
  if (p.empty() || p[0] != '/') return std::unexpected(Error::kNotFound);
  auto off = path(p);
  if (!off) return std::unexpected(Error::kNotFound);
  return *off;
}

std::expected<int, Error> Tree::node_by_path(std::string_view p) const {
  size_t colon = p.find(':');
  if (colon != std::string_view::npos) p = p.substr(0, colon);
  if (p.empty() || p.size() > 256) return std::unexpected(Error::kNotFound);
  if (p[0] == '/') return node(p);
  // DTSpec 3.3: an alias value is the full path of a node. Resolved here,
  // once, so an alias naming another alias cannot loop.
  const size_t slash = p.find('/');
  const std::string_view alias = p.substr(0, slash);
  auto aliases = node("/aliases"sv);
  if (!aliases) return std::unexpected(Error::kNotFound);
  auto v = prop(*aliases, alias);
  if (!v || v->size() < 2) return std::unexpected(Error::kNotFound);
  std::string_view target(reinterpret_cast<const char*>(v->data()), v->size());
  if (target[0] != '/' || target.back() != '\0') return std::unexpected(Error::kNotFound);
  target.remove_suffix(1);
  if (target.find('\0') != std::string_view::npos) return std::unexpected(Error::kNotFound);
  auto off = path(target);
  if (!off) return std::unexpected(Error::kNotFound);
  if (slash == std::string_view::npos) return *off;
  // The rest ("alias/child") relative to the alias's node.
  std::string_view rest = p.substr(slash + 1);
  while (!rest.empty() && off) {
    const size_t next = rest.find('/');
    const std::string_view part = rest.substr(0, next);
    if (!part.empty()) off = subnode(*off, part);
    rest = next == std::string_view::npos ? std::string_view() : rest.substr(next + 1);
  }
  if (!off) return std::unexpected(Error::kNotFound);
  return *off;
}

std::optional<int> Tree::node_by_phandle(uint32_t phandle) const {
  if (phandle == 0 || phandle == 0xffffffff) return std::nullopt;
  const internal::Structure s = blocks();
  for (std::optional<uint32_t> off = 0; off; off = s.next(*off)) {
    const uint32_t t = s.tag(*off);
    if (t == kBeginNode && this->phandle(static_cast<int>(*off)) == phandle) {
      return static_cast<int>(*off);
    }
    if (t == kEnd) break;
  }
  return std::nullopt;
}

uint32_t Tree::phandle(int node) const {
  // As libfdt's fdt_get_phandle.
  for (std::string_view name : {"phandle"sv, "linux,phandle"sv}) {
    auto p = prop(node, name);
    if (p && p->size() == 4) return internal::load_be32(p->data());
  }
  return 0;
}

std::optional<std::span<const std::byte>> Tree::prop(int node, std::string_view name) const {
  // The firmware's most frequent lookup: the node's properties walked here
  // directly, each word read checked against the block.
  auto body_off = body(node);
  if (!body_off) return std::nullopt;
  const internal::Structure s = blocks();
  for (uint64_t off = *body_off;;) {
    const uint32_t t = s.tag(off);
    if (t == kNop) {
      off += 4;
      continue;
    }
    if (t != kProp || off + 12 > struct_size_) return std::nullopt;
    const uint64_t len = s.word(off + 4);
    const uint64_t end = off + 12 + len;
    if (end > struct_size_) return std::nullopt;
    if (s.string_is(s.word(off + 8), name)) {
      return std::span<const std::byte>(structs_ + off + 12, static_cast<size_t>(len));
    }
    off = (end + 3) & ~uint64_t{3};
  }
}

std::expected<std::string_view, Error> Tree::prop_string(int node, std::string_view name) const {
  auto p = prop(node, name);
  if (!p) return std::unexpected(Error::kNotFound);
  auto len = cstring_len(*p);
  if (!len) return std::unexpected(Error::kBadProperty);
  return std::string_view(reinterpret_cast<const char*>(p->data()), *len);
}

std::expected<uint64_t, Error> Tree::prop_uint(int node, std::string_view name) const {
  auto p = prop(node, name);
  if (!p) return std::unexpected(Error::kNotFound);
  if (p->size() != 4 && p->size() != 8) return std::unexpected(Error::kBadProperty);
  return p->size() == 4 ? base::detail::load_be<uint32_t>(*p) : base::detail::load_be<uint64_t>(*p);
}

std::expected<uint32_t, Error> Tree::prop_u32(int node, std::string_view name) const {
  auto p = prop(node, name);
  if (!p) return std::unexpected(Error::kNotFound);
  if (p->size() != 4) return std::unexpected(Error::kBadProperty);
  return internal::load_be32(p->data());
}

bool Tree::prop_has_string(int node, std::string_view name, std::string_view value) const {
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
  auto up = parent(node);
  if (!up) return std::unexpected(Error::kBadStructure);
  // libfdt's fdt_address_cells/fdt_size_cells defaults (2 and 1); this
  // project's boards use 1 or 2 cells for both (DTSpec 2.3.5).
  auto cells = [&](std::string_view name, uint32_t dflt) -> std::optional<uint32_t> {
    auto p = prop(*up, name);
    if (!p) return dflt;
    if (p->size() != 4) return std::nullopt;
    return internal::load_be32(p->data());
  };
  auto ac = cells("#address-cells"sv, 2);
  auto sc = cells("#size-cells"sv, 1);
  if (!ac || !sc || *ac < 1 || *ac > 2 || *sc < 1 || *sc > 2) {
    return std::unexpected(Error::kBadProperty);
  }
  auto p = prop(node, "reg"sv);
  if (!p) return std::unexpected(Error::kNotFound);
  const size_t entry = 4 * static_cast<size_t>(*ac + *sc);
  if (p->size() % entry != 0) return std::unexpected(Error::kBadProperty);
  if (index >= p->size() / entry) return std::unexpected(Error::kNotFound);
  auto read = [&](size_t off, uint32_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < 4 * size_t{n}; ++i)
      v = (v << 8) | std::to_integer<uint64_t>((*p)[off + i]);
    return v;
  };
  const size_t off = index * entry;
  auto r = base::Range::make(read(off, *ac), read(off + 4 * size_t{*ac}, *sc));
  if (!r) return std::unexpected(Error::kBadProperty);
  return *r;
}

std::optional<Tree::Property> Tree::next_property(int node, std::optional<int> after) const {
  const internal::Structure s = blocks();
  std::optional<uint32_t> off;
  if (after) {
    if (*after < 0 || s.tag(static_cast<uint32_t>(*after)) != kProp) return std::nullopt;
    off = s.next(static_cast<uint32_t>(*after));
  } else {
    off = body(node);
  }
  while (off && s.tag(*off) == kNop) off = s.next(*off);
  if (!off || s.tag(*off) != kProp) return std::nullopt;
  auto p = s.prop(*off);
  if (!p) return std::nullopt;
  return Property{static_cast<int>(*off), s.string(p->nameoff), p->value};
}

}  // namespace fdt

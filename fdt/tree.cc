#include "fdt/tree.h"

#include <libfdt.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <utility>

#include "base/reader.h"

namespace fdt {

using namespace std::literals;

namespace {

constexpr size_t kHeaderSize = sizeof(struct fdt_header);  // v17 (DTSpec 5.2)
static_assert(kHeaderSize == 40);

// libfdt takes int offsets and lengths; trees are at most kMaxTreeSize.
static_assert(kMaxTreeSize <= INT32_MAX);

// The blob's header, read through libfdt's accessors once `blob` is known to
// hold one.
const void* header(std::span<const std::byte> blob) { return blob.data(); }

// [off, off + size) inside [0, total), without overflow.
bool block_ok(uint32_t off, uint32_t size, uint32_t total) {
  return off <= total && size <= total - off;
}

// What libfdt says about a tree our own checks passed: its codes mapped onto
// ours (libfdt.h, "Error codes").
Error from_libfdt(int err) {
  switch (-err) {
    case FDT_ERR_TRUNCATED:
      return Error::kTruncated;
    case FDT_ERR_BADMAGIC:
      return Error::kBadMagic;
    case FDT_ERR_BADVERSION:
      return Error::kBadVersion;
    case FDT_ERR_ALIGNMENT:
    case FDT_ERR_BADLAYOUT:
      return Error::kBadLayout;
    default:
      return Error::kBadStructure;
  }
}

// A name (no NUL inside): whether its characters are allowed (DTSpec
// 2.2.1/2.2.4.1: printable ASCII; '/' would make a node unreachable by path)
// and, for SiblingNames, a digest of its node-name part (before any '@').
struct Name {
  bool chars_ok = true;
  uint32_t hash = 2166136261u;  // FNV-1a
};
Name scan_name(std::string_view s, bool allow_slash) {
  Name n;
  bool in_base = true;
  for (char ch : s) {
    const auto c = static_cast<uint8_t>(ch);
    if (c < 0x21 || c > 0x7e || (c == '/' && !allow_slash)) n.chars_ok = false;
    if (c == '@') in_base = false;
    if (in_base) n.hash = (n.hash ^ c) * 16777619u;
  }
  return n;
}

// Whether a path component naming one of these siblings could name the
// other: the same name, or one without a unit address and the other that
// name followed by '@...' (libfdt's fdt_subnode_offset, DTSpec 2.2.1: a path
// component without a unit address matches the first child of that node
// name, so "/chosen" would find "chosen@1" before "chosen").
bool names_collide(std::string_view a, std::string_view b) {
  if (a == b) return true;
  if (a.size() > b.size()) std::swap(a, b);
  return a.find('@') == std::string_view::npos && b.size() > a.size() && b[a.size()] == '@' &&
         b.starts_with(a);
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
  // A node named `name` (inside `blob`, as libfdt found it) under the current
  // node; it becomes the current node, at `depth`.
  void begin(const char* blob, std::string_view name, uint32_t hash, size_t depth) {
    names_[count_++] = Entry{static_cast<uint32_t>((name.data() - blob) << 8 | name.size()), hash};
    first_[depth] = count_;  // its own subnodes follow
  }
  // The node at `depth` ends: whether two of its subnodes' names collide
  // (names_collide). Quadratic in the number of siblings, compared by the
  // digest of their node-name part first.
  bool end_has_duplicate(const char* blob, size_t depth) {
    const size_t first = first_[depth];
    bool dup = false;
    for (size_t a = first; a < count_ && !dup; ++a) {
      for (size_t b = a + 1; b < count_ && !dup; ++b) {
        if (names_[a].hash != names_[b].hash) continue;
        dup = names_collide(names_[a].name(blob), names_[b].name(blob));
      }
    }
    count_ = first;
    return dup;
  }

 private:
  // Names are at most kMaxNodeName (255) bytes inside a blob of at most
  // kMaxTreeSize (2 MiB): offset and length fit one word.
  static_assert(kMaxNodeName <= 0xff && kMaxTreeSize <= (size_t{1} << 24));
  struct Entry {
    uint32_t off_len;
    uint32_t hash;
    size_t len() const { return off_len & 0xff; }
    std::string_view name(const char* blob) const { return {blob + (off_len >> 8), len()}; }
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

// The header and the block layout, stricter than libfdt's fdt_check_header
// (which follows). `blob` holds at least a header.
std::expected<void, Error> check_header(std::span<const std::byte> blob) {
  const void* h = header(blob);
  if (fdt_magic(h) != FDT_MAGIC) return std::unexpected(Error::kBadMagic);
  const uint32_t total = fdt_totalsize(h);
  if (total < kHeaderSize || total > blob.size()) return std::unexpected(Error::kTruncated);
  if (total > kMaxTreeSize) return std::unexpected(Error::kTooBig);
  // Version 17 with a v16-compatible layout is what dtc and QEMU write.
  if (fdt_version(h) < 17 || fdt_last_comp_version(h) > 17) {
    return std::unexpected(Error::kBadVersion);
  }
  const uint32_t off_struct = fdt_off_dt_struct(h), size_struct = fdt_size_dt_struct(h);
  const uint32_t off_strings = fdt_off_dt_strings(h), size_strings = fdt_size_dt_strings(h);
  const uint32_t off_rsvmap = fdt_off_mem_rsvmap(h);
  // DTSpec 5.1: the tree itself is 8-byte aligned (libfdt needs it too).
  if (reinterpret_cast<uintptr_t>(h) % 8 != 0 || !block_ok(off_struct, size_struct, total) ||
      !block_ok(off_strings, size_strings, total) || off_struct < kHeaderSize ||
      off_strings < kHeaderSize || off_rsvmap < kHeaderSize || off_struct % 4 != 0 ||
      off_rsvmap % 8 != 0 || off_rsvmap >= total) {
    return std::unexpected(Error::kBadLayout);
  }
  // The struct and strings blocks must not overlap each other.
  if (off_struct < off_strings + size_strings && off_strings < off_struct + size_struct &&
      size_struct != 0 && size_strings != 0) {
    return std::unexpected(Error::kBadLayout);
  }
  if (int err = fdt_check_header(h); err != 0) return std::unexpected(from_libfdt(err));
  // Memory reservation block: entries up to an all-zero one, in bounds
  // (libfdt's fdt_num_mem_rsv stops at the first size 0).
  for (int i = 0;; ++i) {
    uint64_t address = 0, size = 0;
    if (fdt_get_mem_rsv(h, i, &address, &size) != 0) return std::unexpected(Error::kBadLayout);
    if (address == 0 && size == 0) break;
  }
  return {};
}

// The structure block walked once, token by token as libfdt's fdt_next_tag
// reads them (node names and properties in place, as fdt_get_name and
// fdt_get_property_by_offset find them; property names through
// fdt_get_string): the rules libfdt does not enforce (tree.h). Some of them
// are about the tokens' order (the root first, properties before subnodes,
// END last), which libfdt's node and property iterators do not show. The
// order of the checks fixes which error a tree with several faults gets; a
// duplicate sibling name is reported only once the rest of the stream is
// known to be sound.
std::expected<void, Error> check_structure(const void* fdt) {
  const char* const base = static_cast<const char*>(fdt);
  const int struct_size = static_cast<int>(fdt_size_dt_struct(fdt));
  size_t depth = 0, nodes = 0, props = 0;
  bool seen_root = false;
  bool after_child = false;   // the current node has had a subnode already
  bool duplicate = false;     // two siblings share a name
  uint32_t node_phandle = 0;  // the current node's phandle so far (0: none)
  PhandleSet phandles;
  SiblingNames siblings;
  PropNames prop_names;
  for (int off = 0;;) {
    int next = 0;
    const uint32_t token = fdt_next_tag(fdt, off, &next);
    // An unknown token, or one that runs off the block.
    if (next < 0) return std::unexpected(Error::kBadStructure);
    // libfdt finds the root at offset 0: nothing (not even a NOP) before it.
    if (!seen_root && token != FDT_BEGIN_NODE) return std::unexpected(Error::kBadStructure);
    switch (token) {
      case FDT_BEGIN_NODE: {
        if (depth == 0 && seen_root) return std::unexpected(Error::kBadStructure);
        // The name as fdt_get_name gives it (struct fdt_node_header's, up to
        // the NUL fdt_next_tag just found before `next`), without that
        // function's second byte-by-byte pass over it.
        const int at = off + static_cast<int>(offsetof(struct fdt_node_header, name));
        const auto* p = static_cast<const char*>(fdt_offset_ptr(fdt, at, next - at));
        if (p == nullptr) return std::unexpected(Error::kBadStructure);
        std::string_view name(p, static_cast<size_t>(next - at));
        const size_t nul = name.find('\0');
        if (nul == std::string_view::npos) return std::unexpected(Error::kBadStructure);
        name = name.substr(0, nul);
        const Name n = scan_name(name, false);
        // The root's name is empty (DTSpec 5.4.1), every other is not.
        if ((depth == 0) != name.empty() || name.size() > kMaxNodeName || !n.chars_ok) {
          return std::unexpected(Error::kBadName);
        }
        seen_root = true;
        if (++depth > kMaxDepth) return std::unexpected(Error::kTooDeep);
        if (++nodes > kMaxNodes) return std::unexpected(Error::kTooBig);
        siblings.begin(base, name, n.hash, depth);
        after_child = false;
        node_phandle = 0;
        break;
      }
      case FDT_END_NODE:
        if (depth == 0) return std::unexpected(Error::kBadStructure);
        duplicate = siblings.end_has_duplicate(base, depth) || duplicate;
        --depth;
        after_child = true;
        break;
      case FDT_PROP: {
        // DTSpec 5.4.1: a node's properties precede its subnodes.
        if (depth == 0 || after_child) return std::unexpected(Error::kBadStructure);
        // The property as fdt_get_property_by_offset gives it (the token
        // fdt_next_tag just found whole before `next`), without that
        // function's second pass over the token.
        const auto span = static_cast<size_t>(next - off);
        const auto* prop = static_cast<const struct fdt_property*>(
            fdt_offset_ptr(fdt, off, static_cast<unsigned>(span)));
        if (prop == nullptr || span < sizeof(struct fdt_property)) {
          return std::unexpected(Error::kBadStructure);
        }
        const uint32_t len = fdt32_ld(&prop->len);
        if (len > span - sizeof(struct fdt_property)) return std::unexpected(Error::kBadStructure);
        // Most names serve many properties: one checked before is fine.
        const uint32_t nameoff = fdt32_ld(&prop->nameoff);
        PropNames::Entry& known = prop_names.at(nameoff);
        if (known.nameoff_plus_1 != uint64_t{nameoff} + 1) {
          int name_len = 0;
          const char* pname = fdt_get_string(fdt, static_cast<int>(nameoff), &name_len);
          // The name's offset outside the strings block, or no NUL there.
          if (pname == nullptr) return std::unexpected(Error::kBadStructure);
          const std::string_view name(pname, static_cast<size_t>(name_len));
          if (name.empty() || name.size() > kMaxPropName || !scan_name(name, true).chars_ok) {
            return std::unexpected(Error::kBadName);
          }
          known = {uint64_t{nameoff} + 1, name == "phandle"sv || name == "linux,phandle"sv};
        }
        if (++props > kMaxProps) return std::unexpected(Error::kTooBig);
        if (known.phandle) {
          if (len != 4) return std::unexpected(Error::kBadPhandle);
          const uint32_t v = fdt32_ld(reinterpret_cast<const fdt32_t*>(prop->data));
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
      case FDT_NOP:
        break;
      case FDT_END:
        // The END token is the block's last word.
        if (depth != 0 || next != struct_size) return std::unexpected(Error::kBadStructure);
        if (duplicate) return std::unexpected(Error::kDuplicateNode);
        return {};
      default:
        return std::unexpected(Error::kBadStructure);
    }
    off = next;
  }
}

std::optional<int> found(int libfdt_offset) {
  if (libfdt_offset < 0) return std::nullopt;
  return libfdt_offset;
}

// libfdt takes name and path lengths as int.
bool fits_int(std::string_view s) { return s.size() <= kMaxTreeSize; }

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
      return "two sibling nodes a path could not tell apart (same name, or name and name@unit)";
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
  if (auto r = check_header(blob); !r) return std::unexpected(r.error());
  const void* fdt = blob.data();
  if (auto r = check_structure(fdt); !r) return std::unexpected(r.error());
  // libfdt's own check of the whole tree, after ours (which name the fault
  // more precisely and refuse more): nothing it refuses may get through.
  const size_t total = fdt_totalsize(fdt);
  if (int err = fdt_check_full(fdt, total); err != 0) return std::unexpected(from_libfdt(err));
  return Tree(fdt, total);
}

std::optional<int> Tree::first_child(int node) const {
  if (node < 0) return std::nullopt;
  return found(fdt_first_subnode(fdt_, node));
}

std::optional<int> Tree::next_sibling(int node) const {
  if (node < 0) return std::nullopt;
  return found(fdt_next_subnode(fdt_, node));
}

std::optional<int> Tree::parent(int node) const {
  if (node <= 0) return std::nullopt;
  return found(fdt_parent_offset(fdt_, node));
}

std::string_view Tree::name(int node) const {
  if (node < 0) return {};
  int len = 0;
  const char* p = fdt_get_name(fdt_, node, &len);
  if (p == nullptr) return {};
  return {p, static_cast<size_t>(len)};
}

std::optional<int> Tree::subnode(int parent, std::string_view name) const {
  // libfdt's fdt_nodename_eq_: "uart" also names "uart@9000000".
  if (!fits_int(name)) return std::nullopt;
  return found(
      fdt_subnode_offset_namelen(fdt_, parent, name.data(), static_cast<int>(name.size())));
}

std::optional<int> Tree::path(std::string_view p) const {
  // Absolute paths only: libfdt would take anything else for an alias.
  if (p.empty() || p[0] != '/' || !fits_int(p)) return std::nullopt;
  return found(fdt_path_offset_namelen(fdt_, p.data(), static_cast<int>(p.size())));
}

std::expected<int, Error> Tree::node(std::string_view p) const {
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
  // once, so an alias naming another alias cannot loop; libfdt only ever
  // sees the absolute path.
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
  return found(fdt_node_offset_by_phandle(fdt_, phandle));
}

uint32_t Tree::phandle(int node) const {
  if (node < 0) return 0;
  return fdt_get_phandle(fdt_, node);
}

const Tree::CachedNode& Tree::cached(int node) const {
  ++uses_;
  CachedNode* slot = nullptr;
  for (size_t i = 0; i < cache_.size(); ++i) {
    CachedNode& c = cache_[i];
    if (c.node == node) {
      c.last_use = uses_;
      return c;
    }
    // The first free slot, else the least recently used shared one.
    if (slot != nullptr && slot->node == -1) continue;
    if (c.node == -1 ||
        (i >= cache_.size() - kSharedSlots && (slot == nullptr || c.last_use < slot->last_use))) {
      slot = &c;
    }
  }
  // That slot gets the node's properties, in order.
  CachedNode& c = *slot;
  c.last_use = uses_;
  const auto* base = static_cast<const char*>(fdt_);
  c.node = node;
  c.count = 0;
  c.complete = false;
  int off;
  fdt_for_each_property_offset(off, fdt_, node) {
    if (c.count == c.props.size()) return c;
    const char* name = nullptr;
    int len = 0;
    const void* value = fdt_getprop_by_offset(fdt_, off, &name, &len);
    if (value == nullptr || name == nullptr) return c;
    const size_t name_size = std::string_view(name).size();
    if (name_size > kMaxPropName) return c;
    c.props[c.count++] = CachedProp{static_cast<uint32_t>(name - base),
                                    static_cast<uint32_t>(static_cast<const char*>(value) - base),
                                    static_cast<uint32_t>(len), static_cast<uint8_t>(name_size)};
  }
  // The end of the list, or no node there (libfdt's fdt_getprop finds
  // nothing either).
  c.complete = off == -FDT_ERR_NOTFOUND || off == -FDT_ERR_BADOFFSET;
  return c;
}

std::optional<std::span<const std::byte>> Tree::prop(int node, std::string_view name) const {
  if (node < 0 || !fits_int(name)) return std::nullopt;
  const CachedNode& c = cached(node);
  const auto* base = static_cast<const char*>(fdt_);
  for (size_t i = 0; i < c.count; ++i) {
    const CachedProp& p = c.props[i];
    if (p.name_size == name.size() && std::string_view(base + p.name, p.name_size) == name) {
      return std::span<const std::byte>(reinterpret_cast<const std::byte*>(base + p.value), p.size);
    }
  }
  if (c.complete) return std::nullopt;
  int len = 0;
  const void* p = fdt_getprop_namelen(fdt_, node, name.data(), static_cast<int>(name.size()), &len);
  if (p == nullptr) return std::nullopt;
  return std::span<const std::byte>(static_cast<const std::byte*>(p), static_cast<size_t>(len));
}

std::expected<std::string_view, Error> Tree::prop_string(int node, std::string_view name) const {
  auto p = prop(node, name);
  if (!p) return std::unexpected(Error::kNotFound);
  const std::string_view all(reinterpret_cast<const char*>(p->data()), p->size());
  const size_t nul = all.find('\0');
  if (nul == std::string_view::npos) return std::unexpected(Error::kBadProperty);
  return all.substr(0, nul);
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
  return base::detail::load_be<uint32_t>(*p);
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
    return base::detail::load_be<uint32_t>(*p);
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
    return base::detail::load_be<uint64_t>(p->subspan(off, 4 * size_t{n}));
  };
  const size_t off = index * entry;
  auto r = base::Range::make(read(off, *ac), read(off + 4 * size_t{*ac}, *sc));
  if (!r) return std::unexpected(Error::kBadProperty);
  return *r;
}

std::optional<Tree::Property> Tree::next_property(int node, std::optional<int> after) const {
  int off;
  if (after) {
    if (*after < 0) return std::nullopt;
    off = fdt_next_property_offset(fdt_, *after);
  } else {
    if (node < 0) return std::nullopt;
    off = fdt_first_property_offset(fdt_, node);
  }
  if (off < 0) return std::nullopt;
  const char* name = nullptr;
  int len = 0;
  const void* value = fdt_getprop_by_offset(fdt_, off, &name, &len);
  if (value == nullptr || name == nullptr) return std::nullopt;
  return Property{off, name, {static_cast<const std::byte*>(value), static_cast<size_t>(len)}};
}

}  // namespace fdt

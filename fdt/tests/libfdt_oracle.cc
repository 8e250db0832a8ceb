#include "libfdt_oracle.h"

#include <libfdt.h>

#include <array>
#include <optional>
#include <string_view>

namespace fdt::testing {
namespace {

std::optional<int> found(int libfdt_offset) {
  if (libfdt_offset < 0) return std::nullopt;
  return libfdt_offset;
}

std::string at(int node, const std::string& what) {
  return "node at " + std::to_string(node) + ": " + what;
}

// The path of `node` built from its ancestors' names, and the same path with
// the last component's unit address left out ("/pl011" for "/pl011@9000000").
struct Paths {
  std::string full;
  std::string without_unit;
};

Paths paths(const void* fdt, int node) {
  std::array<char, 4096> buf{};
  if (fdt_get_path(fdt, node, buf.data(), static_cast<int>(buf.size())) != 0) return {};
  Paths p{buf.data(), buf.data()};
  const size_t slash = p.full.rfind('/');
  const size_t unit = p.full.find('@', slash);
  if (unit != std::string::npos) p.without_unit = p.full.substr(0, unit);
  return p;
}

}  // namespace

std::string libfdt_disagreement(const Tree& tree, std::span<const std::byte> blob,
                                size_t max_nodes) {
  const void* fdt = blob.data();
  if (fdt_check_header(fdt) != 0) return "libfdt refuses the header";
  size_t nodes = 0;
  for (int n = 0; n >= 0 && nodes < max_nodes; n = fdt_next_node(fdt, n, nullptr), ++nodes) {
    int len = 0;
    const char* name = fdt_get_name(fdt, n, &len);
    if (name == nullptr || tree.name(n) != std::string_view(name, static_cast<size_t>(len))) {
      return at(n, "name");
    }
    if (tree.first_child(n) != found(fdt_first_subnode(fdt, n))) return at(n, "first child");
    if (tree.next_sibling(n) != found(fdt_next_subnode(fdt, n))) return at(n, "next sibling");
    if (tree.parent(n) != found(fdt_parent_offset(fdt, n))) return at(n, "parent");
    const uint32_t phandle = fdt_get_phandle(fdt, n);
    if (tree.phandle(n) != phandle) return at(n, "phandle");
    if (phandle != 0 &&
        tree.node_by_phandle(phandle) != found(fdt_node_offset_by_phandle(fdt, phandle))) {
      return at(n, "node by phandle");
    }
    // Path lookups, with and without the unit address (libfdt's
    // fdt_nodename_eq_: "/pl011" names the first "pl011@...").
    const Paths p = paths(fdt, n);
    for (const std::string& path : {p.full, p.without_unit}) {
      if (path.empty()) continue;
      auto mine = tree.node(path);
      auto theirs = found(fdt_path_offset(fdt, path.c_str()));
      if ((mine ? std::optional<int>(*mine) : std::nullopt) != theirs) return at(n, "path " + path);
    }
    // Properties in order, and each found by name as fdt_getprop finds it
    // (the first of that name).
    int off = fdt_first_property_offset(fdt, n);
    auto prop = tree.next_property(n, std::nullopt);
    for (; off >= 0;
         off = fdt_next_property_offset(fdt, off), prop = tree.next_property(n, prop->offset)) {
      const char* pname = nullptr;
      int plen = 0;
      const void* value = fdt_getprop_by_offset(fdt, off, &pname, &plen);
      if (!prop || prop->offset != off || value == nullptr || prop->name != pname ||
          prop->value.data() != value || prop->value.size() != static_cast<size_t>(plen)) {
        return at(n, "property at " + std::to_string(off));
      }
      int flen = 0;
      const void* first = fdt_getprop(fdt, n, pname, &flen);
      auto mine = tree.prop(n, pname);
      if (!mine || mine->data() != first || mine->size() != static_cast<size_t>(flen)) {
        return at(n, std::string("lookup of ") + pname);
      }
    }
    if (prop) return at(n, "a property libfdt does not see");
  }
  return {};
}

}  // namespace fdt::testing

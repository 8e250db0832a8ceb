// libfdt as a second opinion (host only): the firmware's Tree walks the token
// stream itself, and must answer every lookup as libfdt does on a tree
// Tree::open accepted. Used by the unit tests (the corpus) and the fuzzer.
#pragma once

#include <cstddef>
#include <span>
#include <string>

#include "fdt/tree.h"

namespace fdt::testing {

// Empty when `tree` (opened from `blob`) and libfdt agree on the nodes'
// names, subnodes, parents, phandles, properties and on path and phandle
// lookups (for the first `max_nodes` nodes); else the first difference.
std::string libfdt_disagreement(const Tree& tree, std::span<const std::byte> blob,
                                size_t max_nodes = 4096);

}  // namespace fdt::testing

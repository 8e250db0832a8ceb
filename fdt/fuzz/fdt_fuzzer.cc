// libFuzzer harness: an untrusted device tree through everything pvmfw does
// with it before the payload runs, libfdt included (its sources are compiled
// into the harness with coverage, see ../meson.build):
//   - libfdt's fdt_check_full on the raw input, and libfdt's read functions
//     over every tree it accepts, whether or not Tree::open does (Tree::open
//     trusts what fdt_check_full accepts not to lead those functions astray;
//     ASan watches);
//   - Tree::open (our rules, then fdt_check_full) and the properties it
//     promises, checked through the lookups: every node found again by its
//     path and by its phandle;
//   - fdt::sanitize, the path every caller takes (read, validate, rebuild
//     from the template through libfdt's sequential writer), under both
//     conduits: a tree Tree::open refuses is refused at the read step with
//     the same error; an output must pass fdt_check_full and Tree::open,
//     validate to the same shape, and sanitize to the same bytes.
// Seeds: fdt/tests/data and the hostile corpus.
#include <libfdt.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

#include "fdt/sanitize.h"

namespace {

constexpr const board::Board& kBoard = board::kQemuVirt;

// Per-node checks on the first nodes of each tree only: the lookups walk the
// tree from its root, so checking every node of a large tree is quadratic
// and would slow the harness down to a crawl.
constexpr size_t kCheckedNodes = 8;

// A failure of the firmware's own invariants (not of the input): crash so
// libFuzzer keeps the reproducer, saying which.
#define check(ok)                                                                  \
  do {                                                                             \
    if (!(ok)) {                                                                   \
      std::fprintf(stderr, "fdt_fuzzer.cc:%d: check failed: %s\n", __LINE__, #ok); \
      std::abort();                                                                \
    }                                                                              \
  } while (0)

// libfdt's read functions over a tree fdt_check_full accepted (nothing is
// asserted about their answers: our own rules may refuse the tree).
void exercise_libfdt(const void* fdt) {
  std::array<char, 512> path{};
  size_t nodes = 0;
  int depth = 0;
  for (int n = fdt_next_node(fdt, -1, &depth); n >= 0 && depth >= 0 && nodes < 64;
       n = fdt_next_node(fdt, n, &depth), ++nodes) {
    int len = 0;
    (void)fdt_get_name(fdt, n, &len);
    (void)fdt_get_phandle(fdt, n);
    (void)fdt_parent_offset(fdt, n);
    (void)fdt_first_subnode(fdt, n);
    (void)fdt_next_subnode(fdt, n);
    if (fdt_get_path(fdt, n, path.data(), static_cast<int>(path.size())) == 0) {
      (void)fdt_path_offset(fdt, path.data());
    }
    int p;
    fdt_for_each_property_offset(p, fdt, n) {
      const char* name = nullptr;
      if (fdt_getprop_by_offset(fdt, p, &name, &len) != nullptr && name != nullptr) {
        (void)fdt_getprop(fdt, n, name, &len);
      }
    }
  }
  (void)fdt_node_offset_by_phandle(fdt, 1);
}

// What Tree::open promises, checked through the lookups on the first nodes.
void check_tree(const fdt::Tree& tree) {
  const void* fdt = tree.raw();
  check(fdt_check_full(fdt, tree.size()) == 0);
  // Up to kMaxDepth names of up to kMaxNodeName characters, with their '/'.
  std::array<char, fdt::kMaxDepth * (fdt::kMaxNodeName + 1) + 1> path{};
  size_t nodes = 0;
  int depth = 0;
  // fdt_next_node's depth is relative to the root, and goes negative past
  // the root's end.
  for (int n = 0; n >= 0 && depth >= 0 && nodes < kCheckedNodes;
       n = fdt_next_node(fdt, n, &depth), ++nodes) {
    check(static_cast<size_t>(depth) < fdt::kMaxDepth);
    // Unique sibling names: the path of a node names it and no other.
    check(fdt_get_path(fdt, n, path.data(), static_cast<int>(path.size())) == 0);
    auto again = tree.node(path.data());
    check(again && *again == n);
    // Unique phandles.
    if (const uint32_t phandle = tree.phandle(n); phandle != 0) {
      check(phandle != 0xffffffff && tree.node_by_phandle(phandle) == n);
    }
    for (auto c = tree.first_child(n); c; c = tree.next_sibling(*c)) check(tree.parent(*c) == n);
    // Every property readable, its name within the rules, found by name
    // (the first of that name).
    for (auto p = tree.next_property(n, std::nullopt); p; p = tree.next_property(n, p->offset)) {
      check(!p->name.empty() && p->name.size() <= fdt::kMaxPropName);
      auto first = tree.prop(n, p->name);
      check(first && first->data() <= p->value.data());
    }
  }
}

void sanitize_and_check(std::span<const std::byte> input, fdt::PsciMethod conduit,
                        bool debuggable) {
  static std::vector<std::byte> out(fdt::kMaxTreeSize), again(fdt::kMaxTreeSize);
  fdt::Options options;
  options.conduit = conduit;
  options.debuggable = debuggable;
  options.kaslr_seed = 0x1234;
  auto done = fdt::sanitize(input, kBoard, options, out);
  if (!done) {
    // Of the rebuild's refusals, only a handover that collides with this
    // input's payload may happen.
    check(done.error().step() != fdt::Step::kRebuild ||
          done.error().build_error() == fdt::BuildError::kBadHandover);
    return;
  }
  const fdt::VmPlatform& platform = done->platform;
  // The output is a tree pvmfw accepts and validates to the same shape.
  const auto blob = std::span(out).first(done->size);
  check(fdt_check_full(blob.data(), blob.size()) == 0);
  auto tree = fdt::Tree::open(blob);
  check(tree.has_value());
  check_tree(*tree);
  auto valid = fdt::accept(blob, kBoard, options);
  check(valid.has_value());
  check(valid->platform.cpus.size() == platform.cpus.size());
  check(valid->platform.memory.size() == platform.memory.size());
  check(valid->platform.uarts.size() == platform.uarts.size());
  check(valid->platform.virtio.size() == platform.virtio.size());
  check(valid->platform.pci.has_value() == platform.pci.has_value());
  // ... and sanitizing it gives the same bytes.
  auto twice = fdt::rebuild(*valid, kBoard, options, again);
  check(twice && *twice == done->size && std::equal(blob.begin(), blob.end(), again.begin()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto bytes = std::as_bytes(std::span(data, size));
  // libFuzzer's copy of the input is heap memory, 8-byte aligned as libfdt
  // and Tree::open want it.
  if (size >= sizeof(struct fdt_header) && fdt_check_full(data, size) == 0) exercise_libfdt(data);
  auto tree = fdt::Tree::open(bytes);
  if (!tree) {
    auto accepted = fdt::accept(bytes, kBoard, fdt::Options{});
    check(!accepted && accepted.error() == fdt::SanitizeError(tree.error()));
    return 0;
  }
  check_tree(*tree);
  if (auto chosen = tree->node("/chosen")) {
    (void)tree->prop_string(*chosen, "bootargs");
    (void)tree->prop_has_string(*chosen, "compatible", "x");
    if (auto stdout_path = tree->prop_string(*chosen, "stdout-path")) {
      (void)tree->node_by_path(*stdout_path);
    }
  }
  // Both bootargs policies, one per input.
  for (auto conduit : {fdt::PsciMethod::kHvc, fdt::PsciMethod::kSmc}) {
    sanitize_and_check(bytes, conduit, size % 2 == 0);
  }
  return 0;
}

// libFuzzer harness: an untrusted device tree through everything pvmfw does
// with it before the payload runs: Tree::open's structural checks, lookups
// (each answered as libfdt answers it: libfdt is the oracle here, the
// firmware does not use it), validate_platform under both conduits, and the
// rebuild from the template (whose output must be accepted, read alike by
// libfdt, and validate again). Seeds: fdt/tests/data and the hostile corpus.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "../tests/libfdt_oracle.h"
#include "fdt/output.h"
#include "fdt/tree.h"
#include "fdt/validate.h"

namespace {

// libfdt is asked about the first nodes of each tree only: comparing every
// node took 95% of the time (1.8 K executions a second instead of 14 K). The
// unit tests compare every node of the corpus, the template and each output.
constexpr size_t kOracleNodes = 8;

// A failure of the firmware's own invariants (not of the input): crash so
// libFuzzer keeps the reproducer.
void check(bool ok) {
  if (!ok) std::abort();
}

void rebuild(const fdt::VmPlatform& platform, fdt::PsciMethod conduit) {
  static std::vector<std::byte> out(fdt::kMaxTreeSize);
  fdt::OutputOptions options;
  options.dice_handover = base::Range{0x403ff000, 0x1000};
  options.debuggable = platform.cpus.size() % 2 == 0;  // exercise both bootargs policies
  options.kaslr_seed = 0x1234;
  auto size = fdt::build_output(fdt::platform_template(), platform, options, out);
  if (!size) {
    // Only a handover that collides with this input's payload may refuse.
    check(size.error() == fdt::BuildError::kBadHandover);
    return;
  }
  // The output is a tree pvmfw accepts and validates to the same shape.
  const auto blob = std::span(out).first(*size);
  auto tree = fdt::Tree::open(blob);
  check(tree.has_value());
  check(fdt::testing::libfdt_disagreement(*tree, blob, kOracleNodes).empty());
  auto again = fdt::validate_platform(*tree, fdt::board_limits(conduit));
  check(again.has_value());
  check(again->cpus.size() == platform.cpus.size());
  check(again->memory.size() == platform.memory.size());
  check(again->uarts.size() == platform.uarts.size());
  check(again->virtio.size() == platform.virtio.size());
  check(again->pci.has_value() == platform.pci.has_value());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto bytes = std::as_bytes(std::span(data, size));
  auto tree = fdt::Tree::open(bytes);
  if (!tree) return 0;
  check(fdt::testing::libfdt_disagreement(*tree, bytes, kOracleNodes).empty());
  if (auto chosen = tree->node("/chosen")) {
    (void)tree->prop_string(*chosen, "bootargs");
    (void)tree->prop_has_string(*chosen, "compatible", "x");
  }
  for (auto conduit : {fdt::PsciMethod::kHvc, fdt::PsciMethod::kSmc}) {
    auto platform = fdt::validate_platform(*tree, fdt::board_limits(conduit));
    if (platform) rebuild(*platform, conduit);
  }
  return 0;
}

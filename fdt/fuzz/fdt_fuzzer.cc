// libFuzzer harness: an untrusted device tree through everything pvmfw does
// with it before the payload runs (structural checks, libfdt lookups, platform
// reading and layout validation). Seeds: the test DTs in fdt/tests/data.
#include <cstddef>
#include <cstdint>
#include <span>

#include "fdt/platform.h"
#include "fdt/tree.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto bytes = std::as_bytes(std::span(data, size));
  auto tree = fdt::Tree::open(bytes);
  if (!tree) return 0;
  auto platform = fdt::read_platform(*tree);
  if (!platform) return 0;
  const base::Range firmware[] = {{0x40000000, 0x200000}, {0x40200000, 0x200000}};
  (void)fdt::validate_layout(*platform, 0x40000000, firmware);
  if (auto chosen = tree->node("/chosen")) {
    (void)tree->prop_string(*chosen, "bootargs");
    (void)tree->prop_has_string(*chosen, "compatible", "x");
  }
  return 0;
}

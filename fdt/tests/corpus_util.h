// The hostile corpus as the tests see it: every case, its expected outcome,
// and the firmware's verdict on it (fdt::sanitize, as `pvm fdt sanitize`).
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "fdt/sanitize.h"

namespace fdt::testing {

struct Case {
  std::string name;
  std::string expect;         // "ok" or a refusal name
  bool smc = false;           // "psci: smc": the firmware's conduit is SMC
  bool debuggable = false;    // "debuggable": keep bootargs
  std::filesystem::path dtb;  // compiled or generated blob in the build folder
};

// tests/corpus/*.dts (first line "/* expect: NAME[; psci: smc][; debuggable] */")
// and the generated cases listed in hostile.expect.
std::vector<Case> load_cases();

std::vector<std::byte> read_bytes(const std::filesystem::path& path);

// The options `pvm fdt sanitize` is given for the case (--psci, --debuggable).
Options options_for(const Case& c);

// fdt::sanitize on qemu-virt, as `pvm fdt sanitize` runs it: "ok" and the
// packed output, or the refusal's name.
std::string verdict(const std::vector<std::byte>& blob, const Case& c,
                    std::vector<std::byte>* output = nullptr);

}  // namespace fdt::testing

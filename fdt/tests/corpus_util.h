// The hostile corpus as the tests see it: every case, its expected outcome,
// and the firmware's verdict on it (the same steps as `pvm fdt sanitize`).
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "fdt/output.h"
#include "fdt/validate.h"

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

// The DICE handover range the tests (and `pvm fdt sanitize`) use: the last
// page of pvmfw's scratch, clear of where `pvm run` puts the kernel.
inline constexpr base::Range kTestHandover{0x403ff000, 0x1000};

// "ok" and the packed output, or the refusal's name.
std::string verdict(const std::vector<std::byte>& blob, const Case& c,
                    std::vector<std::byte>* output = nullptr);

}  // namespace fdt::testing

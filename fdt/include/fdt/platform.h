// What pvmfw reads from the input device tree to boot (the `read_*` step of
// read -> validate -> rebuild; see ../shared/reference/pvmfw-aosp.md).
//
// For now this covers the walking skeleton: RAM, the console, the PSCI conduit
// and the payload location. Every value is checked for shape here and for
// placement by validate_layout().
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <span>

#include "base/range.h"
#include "fdt/tree.h"

namespace fdt {

enum class PsciMethod : uint8_t { kHvc, kSmc };

struct Platform {
  base::Range memory;                  // the first /memory node's first reg entry
  std::optional<base::Range> console;  // /chosen/stdout-path when it is a PL011
  PsciMethod psci = PsciMethod::kHvc;
  std::optional<base::Range> kernel;   // /config/kernel-address, kernel-size
  std::optional<base::Range> initrd;   // /chosen/linux,initrd-start, -end
};

// Named refusals; pvmfw maps them to boot-failure reasons.
enum class PlatformError : uint8_t {
  kNoMemory,          // no usable /memory node
  kBadPsci,           // /psci missing, or method neither "hvc" nor "smc"
  kBadConsole,        // stdout-path names a node that is not a usable PL011
  kBadKernelRange,    // /config kernel-address / kernel-size malformed
  kNoKernel,          // no /config kernel range at all
  kBadInitrdRange,    // /chosen initrd properties malformed or end < start
};
const char* to_string(PlatformError e);

[[nodiscard]] std::expected<Platform, PlatformError> read_platform(const Tree& tree);

// Placement refusals: where the host put things relative to RAM and the firmware.
enum class LayoutError : uint8_t {
  kMemoryBase,             // RAM does not start at the board's RAM base
  kMemoryTooLarge,         // RAM ends beyond what the firmware can map (2^39)
  kMemoryMissesFirmware,   // RAM does not cover the DT window and pvmfw's scratch
  kKernelOutsideMemory,
  kKernelMisaligned,       // not 4 KiB aligned
  kKernelOverlapsFirmware, // overlaps the DT window or pvmfw's scratch
  kInitrdOutsideMemory,
  kInitrdOverlapsKernel,
  kInitrdOverlapsFirmware,
};
const char* to_string(LayoutError e);

// `firmware` lists the ranges the payload must not overlap (the DT window,
// pvmfw's scratch). Overlaps are judged at 4 KiB page granularity, so the
// firmware can map the kernel and initrd pages without conflicts. A missing
// kernel is not a layout error (the caller decides).
// [base, end) widened to whole 4 KiB pages (valid for ranges inside RAM, whose
// end validate_layout bounds).
base::Range page_span(const base::Range& r);

[[nodiscard]] std::expected<void, LayoutError> validate_layout(
    const Platform& p, uint64_t ram_base, std::span<const base::Range> firmware);

}  // namespace fdt

#include "fdt/platform.h"

namespace fdt {

const char* to_string(PlatformError e) {
  switch (e) {
    case PlatformError::kNoMemory:
      return "NO_MEMORY";
    case PlatformError::kBadPsci:
      return "BAD_PSCI";
    case PlatformError::kBadConsole:
      return "BAD_CONSOLE";
    case PlatformError::kBadKernelRange:
      return "BAD_KERNEL_RANGE";
    case PlatformError::kNoKernel:
      return "NO_KERNEL";
    case PlatformError::kBadInitrdRange:
      return "BAD_INITRD_RANGE";
  }
  return "UNKNOWN";
}

namespace {

std::expected<base::Range, PlatformError> read_memory(const Tree& t) {
  auto node = t.node("/memory");
  if (!node) return std::unexpected(PlatformError::kNoMemory);
  auto type = t.prop_string(*node, "device_type");
  if (!type || *type != "memory") return std::unexpected(PlatformError::kNoMemory);
  auto reg = t.reg(*node, 0);
  if (!reg || reg->empty()) return std::unexpected(PlatformError::kNoMemory);
  return *reg;
}

std::expected<PsciMethod, PlatformError> read_psci(const Tree& t) {
  auto node = t.node("/psci");
  if (!node) return std::unexpected(PlatformError::kBadPsci);
  auto method = t.prop_string(*node, "method");
  if (!method) return std::unexpected(PlatformError::kBadPsci);
  if (*method == "hvc") return PsciMethod::kHvc;
  if (*method == "smc") return PsciMethod::kSmc;
  return std::unexpected(PlatformError::kBadPsci);
}

std::expected<std::optional<base::Range>, PlatformError> read_console(const Tree& t) {
  auto chosen = t.node("/chosen");
  if (!chosen) return std::nullopt;
  auto path = t.prop_string(*chosen, "stdout-path");
  if (!path) return std::nullopt;
  auto node = t.node_by_path(*path);
  if (!node || !t.prop_has_string(*node, "compatible", "arm,pl011")) {
    return std::unexpected(PlatformError::kBadConsole);
  }
  auto reg = t.reg(*node, 0);
  if (!reg || reg->size < 0x1000 || reg->base % 0x1000 != 0) {
    return std::unexpected(PlatformError::kBadConsole);
  }
  return base::Range{reg->base, 0x1000};
}

std::expected<std::optional<base::Range>, PlatformError> read_kernel(const Tree& t) {
  auto config = t.node("/config");
  if (!config) return std::nullopt;
  auto addr = t.prop_uint(*config, "kernel-address");
  auto size = t.prop_uint(*config, "kernel-size");
  if (!addr && !size && addr.error() == Error::kNotFound && size.error() == Error::kNotFound) {
    return std::nullopt;
  }
  if (!addr || !size) return std::unexpected(PlatformError::kBadKernelRange);
  auto r = base::Range::make(*addr, *size);
  if (!r || r->empty()) return std::unexpected(PlatformError::kBadKernelRange);
  return *r;
}

std::expected<std::optional<base::Range>, PlatformError> read_initrd(const Tree& t) {
  auto chosen = t.node("/chosen");
  if (!chosen) return std::nullopt;
  auto start = t.prop_uint(*chosen, "linux,initrd-start");
  auto end = t.prop_uint(*chosen, "linux,initrd-end");
  if (!start && !end && start.error() == Error::kNotFound && end.error() == Error::kNotFound) {
    return std::nullopt;
  }
  if (!start || !end) return std::unexpected(PlatformError::kBadInitrdRange);
  auto r = base::Range::from_bounds(*start, *end);
  if (!r || r->empty()) return std::unexpected(PlatformError::kBadInitrdRange);
  return *r;
}

}  // namespace

std::expected<Platform, PlatformError> read_platform(const Tree& tree) {
  Platform p;
  auto memory = read_memory(tree);
  if (!memory) return std::unexpected(memory.error());
  p.memory = *memory;
  auto psci = read_psci(tree);
  if (!psci) return std::unexpected(psci.error());
  p.psci = *psci;
  auto console = read_console(tree);
  if (!console) return std::unexpected(console.error());
  p.console = *console;
  auto kernel = read_kernel(tree);
  if (!kernel) return std::unexpected(kernel.error());
  p.kernel = *kernel;
  auto initrd = read_initrd(tree);
  if (!initrd) return std::unexpected(initrd.error());
  p.initrd = *initrd;
  return p;
}

const char* to_string(LayoutError e) {
  switch (e) {
    case LayoutError::kMemoryBase:
      return "MEMORY_BASE";
    case LayoutError::kMemoryTooLarge:
      return "MEMORY_TOO_LARGE";
    case LayoutError::kMemoryMissesFirmware:
      return "MEMORY_MISSES_FIRMWARE";
    case LayoutError::kKernelOutsideMemory:
      return "KERNEL_OUTSIDE_MEMORY";
    case LayoutError::kKernelMisaligned:
      return "KERNEL_MISALIGNED";
    case LayoutError::kKernelOverlapsFirmware:
      return "KERNEL_OVERLAPS_FIRMWARE";
    case LayoutError::kInitrdOutsideMemory:
      return "INITRD_OUTSIDE_MEMORY";
    case LayoutError::kInitrdOverlapsKernel:
      return "INITRD_OVERLAPS_KERNEL";
    case LayoutError::kInitrdOverlapsFirmware:
      return "INITRD_OVERLAPS_FIRMWARE";
  }
  return "UNKNOWN";
}

base::Range page_span(const base::Range& r) {
  constexpr uint64_t kPage = 4096;
  const uint64_t start = r.base & ~(kPage - 1);
  const uint64_t end = (r.end() + kPage - 1) & ~(kPage - 1);
  return base::Range{start, end - start};
}

std::expected<void, LayoutError> validate_layout(const Platform& p, uint64_t ram_base,
                                                 std::span<const base::Range> firmware) {
  constexpr uint64_t kMappable = 1ull << 39;  // the firmware's 39-bit identity map
  if (p.memory.base != ram_base) return std::unexpected(LayoutError::kMemoryBase);
  if (p.memory.end() > kMappable) return std::unexpected(LayoutError::kMemoryTooLarge);
  for (const auto& f : firmware) {
    if (!p.memory.contains(f)) return std::unexpected(LayoutError::kMemoryMissesFirmware);
  }
  if (p.kernel) {
    if (!p.memory.contains(*p.kernel)) return std::unexpected(LayoutError::kKernelOutsideMemory);
    if (p.kernel->base % 4096 != 0) return std::unexpected(LayoutError::kKernelMisaligned);
    for (const auto& f : firmware) {
      if (page_span(*p.kernel).overlaps(f)) {
        return std::unexpected(LayoutError::kKernelOverlapsFirmware);
      }
    }
  }
  if (p.initrd) {
    if (!p.memory.contains(*p.initrd)) return std::unexpected(LayoutError::kInitrdOutsideMemory);
    if (p.kernel && page_span(*p.initrd).overlaps(page_span(*p.kernel))) {
      return std::unexpected(LayoutError::kInitrdOverlapsKernel);
    }
    for (const auto& f : firmware) {
      if (page_span(*p.initrd).overlaps(f)) {
        return std::unexpected(LayoutError::kInitrdOverlapsFirmware);
      }
    }
  }
  return {};
}

}  // namespace fdt

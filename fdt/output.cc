#include "fdt/output.h"

#include <libfdt.h>

#include <array>
#include <cstring>

namespace fdt {
namespace {

using Unexpected = std::unexpected<BuildError>;
using Result = std::expected<void, BuildError>;

// Template paths and compatibles (fdt/template/platform.dts).
constexpr const char* kMemory = "/memory@40000000";
constexpr const char* kDice = "/reserved-memory/dice@40000000";
constexpr const char* kSwiotlb = "/reserved-memory/restricted_dma_reserved";
// The pool after patch_memory(): "restricted-dma-pool" is unique in the template.
constexpr const char* kSwiotlbCompatible = "restricted-dma-pool";
constexpr const char* kCpus = "/cpus";
constexpr const char* kPsci = "/psci";
constexpr const char* kTimer = "/timer";
constexpr const char* kGic = "/intc@8000000";
constexpr const char* kClock = "/apb-pclk";
constexpr const char* kPcie = "/pcie@10000000";
constexpr const char* kChosen = "/chosen";
constexpr const char* kAvf = "/avf";
constexpr const char* kAvfUntrusted = "/avf/untrusted";
constexpr const char* kUartCompatible = "arm,pl011";
constexpr const char* kVirtioCompatible = "virtio,mmio";

constexpr uint32_t kGicSpi = 0, kGicPpi = 1;

Unexpected libfdt_error(int rc) {
  return Unexpected(rc == -FDT_ERR_NOSPACE ? BuildError::kNoSpace : BuildError::kLibfdt);
}

// Big-endian cells written straight into a property's space in the output.
class CellWriter {
 public:
  explicit CellWriter(void* p) : p_(static_cast<uint8_t*>(p)) {}
  void u32(uint32_t v) {
    for (int i = 3; i >= 0; --i) *p_++ = static_cast<uint8_t>(v >> (8 * i));
  }
  void u64(uint64_t v) {
    u32(static_cast<uint32_t>(v >> 32));
    u32(static_cast<uint32_t>(v));
  }

 private:
  uint8_t* p_;
};

// "<prefix>@<addr in lowercase hex>" (DTSpec 2.2.1.1: the unit address is
// reg's first address) into `buf`, NUL-terminated; returns its length.
// `prefix` is one of this file's constants (at most 31 characters).
size_t unit_name(std::span<char, 48> buf, std::string_view prefix, uint64_t addr) {
  size_t n = 0;
  for (char ch : prefix.substr(0, 31)) buf[n++] = ch;
  buf[n++] = '@';
  std::array<char, 16> digits{};
  size_t d = 0;
  do {
    digits[d++] = "0123456789abcdef"[addr & 0xf];
    addr >>= 4;
  } while (addr != 0);
  while (d > 0) buf[n++] = digits[--d];
  buf[n] = '\0';
  return n;
}

class Patcher {
 public:
  explicit Patcher(std::span<std::byte> out) : fdt_(out.data()) {}

  std::expected<int, BuildError> node(const char* path) const {
    int off = fdt_path_offset(fdt_, path);
    if (off < 0) return libfdt_error(off);
    return off;
  }

  // Sets `name` to `cells` 32-bit cells filled by `fill(CellWriter&)`.
  template <typename Fill>
  Result cells(int node, const char* name, size_t cells, Fill fill) {
    void* p = nullptr;
    int rc = fdt_setprop_placeholder(fdt_, node, name, static_cast<int>(4 * cells), &p);
    if (rc < 0) return libfdt_error(rc);
    CellWriter w(p);
    fill(w);
    return {};
  }
  Result u32(int node, const char* name, uint32_t v) {
    return cells(node, name, 1, [&](CellWriter& w) { w.u32(v); });
  }
  Result u64(int node, const char* name, uint64_t v) {
    return cells(node, name, 2, [&](CellWriter& w) { w.u64(v); });
  }
  // reg/size-like values in the root's 2+2 cells.
  Result reg(int node, std::span<const base::Range> ranges) {
    return cells(node, "reg", 4 * ranges.size(), [&](CellWriter& w) {
      for (const auto& r : ranges) {
        w.u64(r.base);
        w.u64(r.size);
      }
    });
  }
  Result bytes(int node, const char* name, std::span<const std::byte> v) {
    int rc = fdt_setprop(fdt_, node, name, v.data(), static_cast<int>(v.size()));
    if (rc < 0) return libfdt_error(rc);
    return {};
  }
  Result string(int node, const char* name, std::string_view s) {
    void* p = nullptr;
    int rc = fdt_setprop_placeholder(fdt_, node, name, static_cast<int>(s.size() + 1), &p);
    if (rc < 0) return libfdt_error(rc);
    std::memcpy(p, s.data(), s.size());
    static_cast<char*>(p)[s.size()] = '\0';
    return {};
  }
  Result empty(int node, const char* name) {
    int rc = fdt_setprop_empty(fdt_, node, name);
    if (rc < 0) return libfdt_error(rc);
    return {};
  }
  Result del_prop(int node, const char* name) {
    int rc = fdt_delprop(fdt_, node, name);
    if (rc < 0 && rc != -FDT_ERR_NOTFOUND) return libfdt_error(rc);
    return {};
  }
  Result del_node(const char* path) {
    auto n = node(path);
    if (!n) return Unexpected(n.error());
    int rc = fdt_del_node(fdt_, *n);
    if (rc < 0) return libfdt_error(rc);
    return {};
  }
  Result rename(int node, const char* prefix, uint64_t addr) {
    std::array<char, 48> name{};
    unit_name(name, prefix, addr);
    int rc = fdt_set_name(fdt_, node, name.data());
    if (rc < 0) return libfdt_error(rc);
    return {};
  }
  // The `index`-th node with `compatible`, in tree order.
  std::optional<int> nth_compatible(const char* compatible, size_t index) const {
    int off = -1;
    for (size_t i = 0; i <= index; ++i) {
      off = fdt_node_offset_by_compatible(fdt_, off, compatible);
      if (off < 0) return std::nullopt;
    }
    return off;
  }
  std::optional<int> nth_child(int parent, size_t index) const {
    int off = fdt_first_subnode(fdt_, parent);
    for (size_t i = 0; i < index && off >= 0; ++i) off = fdt_next_subnode(fdt_, off);
    if (off < 0) return std::nullopt;
    return off;
  }
  // Deletes every node with `compatible` from the `keep`-th on.
  Result trim_compatible(const char* compatible, size_t keep) {
    while (auto n = nth_compatible(compatible, keep)) {
      int rc = fdt_del_node(fdt_, *n);
      if (rc < 0) return libfdt_error(rc);
    }
    return {};
  }
  uint32_t phandle(int node) const { return fdt_get_phandle(fdt_, node); }
  void* fdt() const { return fdt_; }

 private:
  void* fdt_;
};

// Returns the error of a failed std::expected from the enclosing function
// (the patch steps below are long lists of fallible libfdt calls).
#define TRY(expr)                                                              \
  do {                                                                         \
    if (auto tried_ = (expr); !tried_) return std::unexpected(tried_.error()); \
  } while (0)

Result patch_memory(Patcher& p, const VmPlatform& v, const OutputOptions& o) {
  auto mem = p.node(kMemory);
  TRY(mem);
  TRY(p.reg(*mem, v.memory.span()));
  TRY(p.rename(*mem, "memory", v.memory[0].base));

  auto dice = p.node(kDice);
  TRY(dice);
  TRY(p.reg(*dice, std::span(&o.dice_handover, 1)));
  TRY(p.rename(*dice, "dice", o.dice_handover.base));

  if (!v.swiotlb) return p.del_node(kSwiotlb);
  auto pool = p.node(kSwiotlb);
  TRY(pool);
  if (v.swiotlb->reg) {
    TRY(p.del_prop(*pool, "size"));
    TRY(p.del_prop(*pool, "alignment"));
    TRY(p.reg(*pool, std::span(&*v.swiotlb->reg, 1)));
    return p.rename(*pool, "restricted_dma_reserved", v.swiotlb->reg->base);
  }
  TRY(p.u64(*pool, "size", v.swiotlb->size));
  if (v.swiotlb->alignment == 0) return p.del_prop(*pool, "alignment");
  return p.u64(*pool, "alignment", v.swiotlb->alignment);
}

Result patch_cpus(Patcher& p, const VmPlatform& v) {
  auto cpus = p.node(kCpus);
  TRY(cpus);
  for (size_t i = 0; i < v.cpus.count; ++i) {
    auto cpu = p.nth_child(*cpus, i);
    if (!cpu) return Unexpected(BuildError::kLibfdt);
    TRY(p.u32(*cpu, "reg", v.cpus[i].mpidr));
    TRY(p.string(*cpu, "compatible", v.cpus[i].compatible));
    TRY(p.rename(*cpu, "cpu", v.cpus[i].mpidr));
  }
  while (auto extra = p.nth_child(*cpus, v.cpus.count)) {
    int rc = fdt_del_node(p.fdt(), *extra);
    if (rc < 0) return libfdt_error(rc);
  }
  return {};
}

Result patch_gic_timer_psci(Patcher& p, const VmPlatform& v) {
  auto psci = p.node(kPsci);
  TRY(psci);
  TRY(p.string(*psci, "method", v.psci == PsciMethod::kHvc ? "hvc" : "smc"));

  auto gic = p.node(kGic);
  TRY(gic);
  const Gic& g = v.gic;
  if (g.version == GicVersion::kV2) {
    const base::Range regs[] = {g.distributor, g.cpu_interface};
    TRY(p.reg(*gic, regs));
  } else {
    TRY(p.string(*gic, "compatible", "arm,gic-v3"));
    std::array<base::Range, 1 + kMaxGicRedistRegions> regs{};
    regs[0] = g.distributor;
    for (size_t i = 0; i < g.redistributors.count; ++i) regs[1 + i] = g.redistributors[i];
    TRY(p.reg(*gic, std::span(regs).first(1 + g.redistributors.count)));
    if (g.redistributors.count > 1) {
      TRY(p.u32(*gic, "#redistributor-regions", static_cast<uint32_t>(g.redistributors.count)));
    }
  }
  TRY(p.rename(*gic, "intc", g.distributor.base));

  // GICv2 PPIs name the CPUs they reach (bits 8-15); GICv3 has no such mask.
  const uint32_t mask = g.version == GicVersion::kV2
                            ? ((1u << v.cpus.count) - 1) << 8  // count <= 8 for v2
                            : 0;
  auto timer = p.node(kTimer);
  TRY(timer);
  return p.cells(*timer, "interrupts", 12, [&](CellWriter& w) {
    for (const Interrupt& ppi : v.timer.ppis) {
      w.u32(kGicPpi);
      w.u32(ppi.number);
      w.u32(ppi.trigger | mask);
    }
  });
}

// The first `devices.size()` template nodes with `compatible` get the devices;
// the rest are deleted. With a `dma_pool`, each device does its DMA through it
// (memory-region, Linux bindings/reserved-memory/shared-dma-pool.yaml).
Result patch_devices(Patcher& p, const char* compatible, const char* prefix,
                     std::span<const Device> devices, uint32_t dma_pool = 0) {
  for (size_t i = 0; i < devices.size(); ++i) {
    auto n = p.nth_compatible(compatible, i);
    if (!n) return Unexpected(BuildError::kLibfdt);
    TRY(p.reg(*n, std::span(&devices[i].reg, 1)));
    TRY(p.cells(*n, "interrupts", 3, [&](CellWriter& w) {
      w.u32(kGicSpi);
      w.u32(devices[i].irq.number);
      w.u32(devices[i].irq.trigger);
    }));
    if (dma_pool != 0) TRY(p.u32(*n, "memory-region", dma_pool));
    TRY(p.rename(*n, prefix, devices[i].reg.base));
  }
  return p.trim_compatible(compatible, devices.size());
}

// `gic_phandle`: the template GIC's (read before patch_gic_timer_psci renames it).
Result patch_pci(Patcher& p, const VmPlatform& v, uint32_t gic_phandle) {
  if (!v.pci) return p.del_node(kPcie);
  const Pci& pci = *v.pci;
  auto n = p.node(kPcie);
  TRY(n);
  TRY(p.reg(*n, std::span(&pci.ecam, 1)));
  TRY(p.cells(*n, "bus-range", 2, [&](CellWriter& w) {
    w.u32(pci.bus_first);
    w.u32(pci.bus_last);
  }));
  // IEEE 1275 PCI binding: phys.hi (space, prefetchable), bus address, CPU
  // address (root: 2 cells), size (2 cells).
  TRY(p.cells(*n, "ranges", 7 * pci.ranges.count, [&](CellWriter& w) {
    for (const PciRange& r : pci.ranges) {
      w.u32(static_cast<uint32_t>(r.space) << 24 | (r.prefetchable ? 1u << 30 : 0));
      w.u64(r.bus_address);
      w.u64(r.cpu.base);
      w.u64(r.cpu.size);
    }
  }));
  TRY(p.cells(*n, "interrupt-map-mask", 4, [&](CellWriter& w) {
    for (uint32_t m : pci.irq_mask) w.u32(m);
  }));
  // Entry: child unit address (3), pin, GIC phandle, (the template GIC has
  // #address-cells = 0), SPI specifier (3).
  TRY(p.cells(*n, "interrupt-map", 8 * pci.irqs.count, [&](CellWriter& w) {
    for (const PciIrq& irq : pci.irqs) {
      w.u32(irq.device);
      w.u32(0);
      w.u32(0);
      w.u32(irq.pin);
      w.u32(gic_phandle);
      w.u32(kGicSpi);
      w.u32(irq.irq.number);
      w.u32(irq.irq.trigger);
    }
  }));
  if (!v.swiotlb) TRY(p.del_prop(*n, "memory-region"));
  return p.rename(*n, "pcie", pci.ecam.base);
}

// libfdt inserts a new property before the node's existing ones: properties
// are added last-first so the output reads in the order written here.
Result patch_chosen(Patcher& p, const VmPlatform& v, const OutputOptions& o) {
  auto chosen = p.node(kChosen);
  TRY(chosen);
  if (o.new_instance) TRY(p.empty(*chosen, "avf,new-instance"));
  if (o.strict_boot) TRY(p.empty(*chosen, "avf,strict-boot"));
  if (!o.rng_seed.empty()) TRY(p.bytes(*chosen, "rng-seed", o.rng_seed));
  if (o.kaslr_seed) TRY(p.u64(*chosen, "kaslr-seed", *o.kaslr_seed));
  if (v.initrd) {
    TRY(p.u64(*chosen, "linux,initrd-end", v.initrd->end()));
    TRY(p.u64(*chosen, "linux,initrd-start", v.initrd->base));
  }
  if (v.stdout_uart) {
    // As patch_devices names the node.
    std::array<char, 48> path{};
    const size_t len = unit_name(path, "/pl011", v.uarts[*v.stdout_uart].reg.base);
    TRY(p.string(*chosen, "stdout-path", std::string_view(path.data(), len)));
  }
  if (v.bootargs) {
    if (o.debuggable) {
      if (!v.bootargs->empty()) TRY(p.string(*chosen, "bootargs", *v.bootargs));
    } else {
      std::array<char, kMaxBootargs> buf;
      auto len = filter_bootargs(*v.bootargs, buf);
      if (!len) return Unexpected(BuildError::kLibfdt);  // cannot grow: validated <= kMaxBootargs
      if (*len > 0) TRY(p.string(*chosen, "bootargs", std::string_view(buf.data(), *len)));
    }
  }
  return {};
}

Result patch_avf(Patcher& p, const VmPlatform& v) {
  if (v.avf_untrusted.empty() && !v.secretkeeper_public_key) return p.del_node(kAvf);
  if (v.secretkeeper_public_key) {
    auto avf = p.node(kAvf);
    TRY(avf);
    TRY(p.bytes(*avf, "secretkeeper_public_key", *v.secretkeeper_public_key));
  }
  if (v.avf_untrusted.empty()) return p.del_node(kAvfUntrusted);
  auto untrusted = p.node(kAvfUntrusted);
  TRY(untrusted);
  // Last-first, so the output keeps the input's order (see patch_chosen).
  for (size_t i = v.avf_untrusted.count; i-- > 0;) {
    const AvfProperty& prop = v.avf_untrusted[i];
    std::array<char, kMaxPropName + 1> name{};
    if (prop.name.empty() || prop.name.size() > kMaxPropName)
      return Unexpected(BuildError::kLibfdt);
    std::memcpy(name.data(), prop.name.data(), prop.name.size());
    TRY(p.bytes(*untrusted, name.data(), prop.value));
  }
  return {};
}

bool handover_ok(const VmPlatform& v, const base::Range& h) {
  if (h.empty() || h.base % kPage != 0 || h.size % kPage != 0) return false;
  if (!v.memory_containing(h)) return false;
  if (v.kernel && h.overlaps(base::page_span(*v.kernel))) return false;
  if (v.initrd && h.overlaps(base::page_span(*v.initrd))) return false;
  if (v.swiotlb && v.swiotlb->reg && h.overlaps(*v.swiotlb->reg)) return false;
  return true;
}

}  // namespace

const char* to_string(BuildError e) {
  switch (e) {
    case BuildError::kBadTemplate:
      return "OUTPUT_BAD_TEMPLATE";
    case BuildError::kNoSpace:
      return "OUTPUT_NO_SPACE";
    case BuildError::kBadRngSeed:
      return "OUTPUT_BAD_RNG_SEED";
    case BuildError::kBadHandover:
      return "OUTPUT_BAD_HANDOVER";
    case BuildError::kLibfdt:
      return "OUTPUT_LIBFDT";
  }
  return "OUTPUT_UNKNOWN";
}

std::expected<size_t, BuildError> build_output(std::span<const std::byte> template_dtb,
                                               const VmPlatform& platform,
                                               const OutputOptions& options,
                                               std::span<std::byte> out) {
  if (!options.rng_seed.empty() &&
      (options.rng_seed.size() < kMinRngSeed || options.rng_seed.size() > kMaxRngSeed)) {
    return Unexpected(BuildError::kBadRngSeed);
  }
  if (!handover_ok(platform, options.dice_handover)) return Unexpected(BuildError::kBadHandover);
  // The template is the firmware's own; still, never trust a header blindly.
  if (template_dtb.size() < 40 || fdt_check_header(template_dtb.data()) != 0 ||
      fdt_totalsize(template_dtb.data()) > template_dtb.size()) {
    return Unexpected(BuildError::kBadTemplate);
  }
  if (out.size() > INT32_MAX) out = out.first(INT32_MAX);
  int rc = fdt_open_into(template_dtb.data(), out.data(), static_cast<int>(out.size()));
  if (rc < 0) return libfdt_error(rc);

  Patcher p(out);
  auto gic = p.node(kGic);
  TRY(gic);
  const uint32_t gic_phandle = p.phandle(*gic);
  if (gic_phandle == 0) return Unexpected(BuildError::kBadTemplate);
  TRY(patch_memory(p, platform, options));
  TRY(patch_cpus(p, platform));
  TRY(patch_gic_timer_psci(p, platform));
  TRY(patch_devices(p, kUartCompatible, "pl011", platform.uarts.span()));
  if (platform.uarts.empty()) TRY(p.del_node(kClock));
  uint32_t pool = 0;
  if (platform.swiotlb) {
    auto node = p.nth_compatible(kSwiotlbCompatible, 0);
    if (!node) return Unexpected(BuildError::kLibfdt);
    pool = p.phandle(*node);
  }
  TRY(patch_devices(p, kVirtioCompatible, "virtio_mmio", platform.virtio.span(), pool));
  TRY(patch_pci(p, platform, gic_phandle));
  TRY(patch_chosen(p, platform, options));
  TRY(patch_avf(p, platform));

  rc = fdt_pack(out.data());
  if (rc < 0) return libfdt_error(rc);
  return fdt_totalsize(out.data());
}

#undef TRY

}  // namespace fdt

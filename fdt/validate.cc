#include "fdt/validate.h"

#include <iterator>
#include <utility>

#include "base/reader.h"

namespace fdt {

using namespace std::literals;

// validate_platform() returns it by value on the firmware's 48 KiB stack.
static_assert(sizeof(VmPlatform) <= 4096, "VmPlatform must stay small");

namespace {

using Unexpected = std::unexpected<ValidateError>;

constexpr uint64_t kMappableEnd = 1ull << 39;  // the firmware's 39-bit identity map
constexpr uint64_t kHighLimit = 1ull << 48;    // Armv8.0 52-bit PA aside: 48-bit PAs
constexpr uint32_t kMaxSpi = 987;              // INTID 32..1019 (Arm IHI 0069 2.2.1)
constexpr uint32_t kMaxPpi = 15;
constexpr uint32_t kGicSpi = 0, kGicPpi = 1;
constexpr uint32_t kEdgeRising = 1, kLevelHigh = 4, kLevelLow = 8;

// Compatible strings of the CPUs pvmfw passes on (Linux bindings/arm/cpus.yaml);
// "arm,arm-v8" is what VMMs write for a host CPU.
constexpr std::string_view kKnownCpus[] = {
    "arm,arm-v8",     "arm,cortex-a35",  "arm,cortex-a53",  "arm,cortex-a55",  "arm,cortex-a57",
    "arm,cortex-a65", "arm,cortex-a72",  "arm,cortex-a73",  "arm,cortex-a75",  "arm,cortex-a76",
    "arm,cortex-a77", "arm,cortex-a78",  "arm,cortex-a510", "arm,cortex-a710", "arm,cortex-x1",
    "arm,cortex-x2",  "arm,neoverse-n1", "arm,neoverse-n2", "arm,neoverse-v1",
};

// A property as big-endian 32-bit cells.
class Cells {
 public:
  Cells() = default;
  explicit Cells(std::span<const std::byte> b) : b_(b) {}
  size_t count() const { return b_.size() / 4; }
  uint32_t at(size_t i) const { return base::detail::load_be<uint32_t>(b_.subspan(4 * i, 4)); }
  // `n` (1 or 2) cells from index `i` as one number.
  uint64_t read(size_t i, size_t n) const {
    return n == 1 ? at(i) : (uint64_t{at(i)} << 32) | at(i + 1);
  }

 private:
  std::span<const std::byte> b_;
};

std::optional<Cells> cells_prop(const Tree& t, int node, std::string_view name) {
  auto p = t.prop(node, name);
  if (!p || p->size() % 4 != 0) return std::nullopt;
  return Cells(*p);
}

// The entries of a reg-like property with the given cell counts (1 or 2 each).
class Regs {
 public:
  Regs(Cells cells, uint32_t ac, uint32_t sc) : cells_(cells), ac_(ac), sc_(sc) {}
  size_t count() const { return cells_.count() / (ac_ + sc_); }
  // Nothing when base + size wraps.
  std::optional<base::Range> at(size_t i) const {
    const size_t off = i * (ac_ + sc_);
    return base::Range::make(cells_.read(off, ac_), cells_.read(off + ac_, sc_));
  }

 private:
  Cells cells_;
  uint32_t ac_, sc_;
};

std::optional<Regs> regs_prop(const Tree& t, int node, std::string_view name, uint32_t ac,
                              uint32_t sc) {
  auto c = cells_prop(t, node, name);
  if (!c || c->count() == 0 || c->count() % (ac + sc) != 0) return std::nullopt;
  return Regs(*c, ac, sc);
}

bool aligned(uint64_t v, uint64_t a) { return v % a == 0; }
bool page_aligned(const base::Range& r) { return aligned(r.base, kPage) && aligned(r.size, kPage); }

bool is_string(const Tree& t, int node, std::string_view name, std::string_view value) {
  auto s = t.prop_string(node, name);
  return s && *s == value;
}

// The cells counts a node gives its children, with DTSpec 2.3.5's defaults.
std::optional<uint32_t> cells_count(const Tree& t, int node, std::string_view name, uint32_t dflt) {
  if (!t.prop(node, name)) return dflt;
  auto v = t.prop_u32(node, name);
  if (!v) return std::nullopt;
  return *v;
}

// [r.base, r.end) widened to whole pages (r inside RAM, so no wrap).
base::Range pages(const base::Range& r) { return base::page_span(r); }

// Whether the first string of a property value is `value` (as is_string()).
bool first_string_is(std::span<const std::byte> v, std::string_view value) {
  if (v.size() <= value.size() || v[value.size()] != std::byte{0}) return false;
  for (size_t i = 0; i < value.size(); ++i) {
    if (std::to_integer<char>(v[i]) != value[i]) return false;
  }
  return true;
}

// Which of the compatible strings the steps look for a string list
// (DTSpec 2.2.4.2) holds, in one pass over the list (as Tree::prop_has_string
// for each: an unterminated tail holds nothing).
struct Compatibles {
  bool gic_v3, gic_a15, gic_400, armv8_timer, psci, psci_0_2, psci_1_0, pci_ecam, pl011,
      virtio_mmio;
};

Compatibles known_compatibles(std::span<const std::byte> list) {
  Compatibles c{};
  const struct {
    std::string_view value;
    bool Compatibles::*flag;
  } kKnown[] = {
      {"arm,gic-v3"sv, &Compatibles::gic_v3},
      {"arm,cortex-a15-gic"sv, &Compatibles::gic_a15},
      {"arm,gic-400"sv, &Compatibles::gic_400},
      {"arm,armv8-timer"sv, &Compatibles::armv8_timer},
      {"arm,psci"sv, &Compatibles::psci},
      {"arm,psci-0.2"sv, &Compatibles::psci_0_2},
      {"arm,psci-1.0"sv, &Compatibles::psci_1_0},
      {"pci-host-ecam-generic"sv, &Compatibles::pci_ecam},
      {"arm,pl011"sv, &Compatibles::pl011},
      {"virtio,mmio"sv, &Compatibles::virtio_mmio},
  };
  const std::string_view all(reinterpret_cast<const char*>(list.data()), list.size());
  for (size_t i = 0; i < all.size();) {
    size_t end = i;
    while (end < all.size() && all[end] != '\0') ++end;
    if (end == all.size()) break;  // an unterminated tail holds nothing
    const std::string_view one = all.substr(i, end - i);
    for (const auto& k : kKnown) {
      if (one.size() == k.value.size() && one == k.value) c.*k.flag = true;
    }
    i = end + 1;
  }
  return c;
}

// The root's subnodes the steps look at, found in one pass over the root in
// document order (a step then reads only its own nodes). Each list keeps one
// node more than its step accepts, so the step still meets the node it
// refuses; later ones it would never reach.
struct RootNodes {
  List<int, kMaxMemoryRanges + 1> memory;  // device_type "memory" (each adds >= 1 range)
  List<int, 2> gic, timer, psci, pci;      // singletons: a second is refused
  // PL011 UARTs and virtio-mmio devices, in document order.
  struct Device {
    int node;
    bool uart;  // else virtio
  };
  List<Device, kMaxUarts + kMaxVirtio + 1> devices;
  size_t uarts = 0, virtio = 0;
  std::optional<int> cpus, reserved, config, chosen, avf;
};

RootNodes scan_root(const Tree& t) {
  RootNodes r;
  for (auto n = t.first_child(0); n; n = t.next_sibling(*n)) {
    const std::string_view name = t.name(*n);
    auto named = [&](std::optional<int>& slot, std::string_view want) {
      if (!slot && name == want) slot = *n;
    };
    named(r.cpus, "cpus"sv);
    named(r.reserved, "reserved-memory"sv);
    named(r.config, "config"sv);
    named(r.chosen, "chosen"sv);
    named(r.avf, "avf"sv);
    const auto compatible = t.prop(*n, "compatible"sv);
    auto type = t.prop(*n, "device_type"sv);
    if (type && first_string_is(*type, "memory"sv) && !r.memory.full()) r.memory.push(*n);
    if (!compatible) continue;
    const Compatibles has = known_compatibles(*compatible);
    auto add = [&](List<int, 2>& l) {
      if (!l.full()) l.push(*n);
    };
    if (has.gic_v3 || has.gic_a15 || has.gic_400) add(r.gic);
    if (has.armv8_timer) add(r.timer);
    if (has.psci || has.psci_0_2 || has.psci_1_0) add(r.psci);
    if (has.pci_ecam) add(r.pci);
    // Until the first UART or virtio device too many.
    if (r.uarts > kMaxUarts || r.virtio > kMaxVirtio) continue;
    if (has.pl011) {
      ++r.uarts;
      r.devices.push({*n, true});
    } else if (has.virtio_mmio) {
      ++r.virtio;
      r.devices.push({*n, false});
    }
  }
  return r;
}

struct Context {
  const Tree& t;
  const Limits& limits;
  VmPlatform& p;
  RootNodes root;
  uint32_t root_ac = 2, root_sc = 2;
  int gic_node = -1;
  uint32_t gic_phandle = 0;
  uint32_t gic_address_cells = 0;
  std::array<int, kMaxUarts> uart_nodes{};
};

bool overlaps_firmware(const Context& c, const base::Range& r) {
  for (const auto& f : c.limits.firmware) {
    if (r.overlaps(f)) return true;
  }
  return false;
}

// ---- root cells, memory -------------------------------------------------------------

std::expected<void, ValidateError> read_root_cells(Context& c) {
  auto ac = cells_count(c.t, 0, "#address-cells"sv, 2);
  auto sc = cells_count(c.t, 0, "#size-cells"sv, 1);
  if (!ac || !sc || *ac < 1 || *ac > 2 || *sc < 1 || *sc > 2) {
    return Unexpected(ValidateError::kBadAddressCells);
  }
  c.root_ac = *ac;
  c.root_sc = *sc;
  return {};
}

std::expected<void, ValidateError> read_memory(Context& c) {
  auto& mem = c.p.memory;
  for (int n : c.root.memory) {
    auto regs = regs_prop(c.t, n, "reg"sv, c.root_ac, c.root_sc);
    if (!regs) return Unexpected(ValidateError::kMemoryBadReg);
    for (size_t i = 0; i < regs->count(); ++i) {
      auto r = regs->at(i);
      if (!r) return Unexpected(ValidateError::kMemoryBadReg);
      if (r->empty()) return Unexpected(ValidateError::kMemoryEmpty);
      if (!page_aligned(*r)) return Unexpected(ValidateError::kMemoryMisaligned);
      if (r->base < c.limits.ram_base || r->end() > c.limits.ram_limit) {
        return Unexpected(ValidateError::kMemoryOutOfRange);
      }
      if (!mem.push(*r)) return Unexpected(ValidateError::kMemoryTooManyRanges);
    }
  }
  if (mem.empty()) return Unexpected(ValidateError::kNoMemory);
  // Insertion sort by base (at most kMaxMemoryRanges entries).
  for (size_t i = 1; i < mem.count; ++i) {
    for (size_t j = i; j > 0 && mem.items[j].base < mem.items[j - 1].base; --j) {
      std::swap(mem.items[j], mem.items[j - 1]);
    }
  }
  uint64_t total = 0;
  for (size_t i = 0; i < mem.count; ++i) {
    if (i > 0 && mem.items[i].base < mem.items[i - 1].end()) {
      return Unexpected(ValidateError::kMemoryOverlap);
    }
    total += mem.items[i].size;  // each < 2^39, at most 8: no wrap
  }
  if (total > c.limits.max_ram_size) return Unexpected(ValidateError::kMemoryTooLarge);
  if (mem.items[0].base != c.limits.ram_base) return Unexpected(ValidateError::kMemoryBase);
  for (const auto& f : c.limits.firmware) {
    if (!c.p.memory_containing(f)) return Unexpected(ValidateError::kMemoryMissesFirmware);
  }
  return {};
}

// ---- cpus ---------------------------------------------------------------------------

std::optional<std::string_view> known_cpu(const Tree& t, int node) {
  auto p = t.prop(node, "compatible"sv);
  if (!p) return std::nullopt;
  std::string_view all(reinterpret_cast<const char*>(p->data()), p->size());
  while (!all.empty()) {
    const size_t nul = all.find('\0');
    if (nul == std::string_view::npos) return std::nullopt;
    for (std::string_view known : kKnownCpus) {
      if (all.substr(0, nul) == known) return known;
    }
    all.remove_prefix(nul + 1);
  }
  return std::nullopt;
}

std::expected<void, ValidateError> read_cpus(Context& c) {
  auto cpus = c.root.cpus;
  if (!cpus) return Unexpected(ValidateError::kNoCpus);
  auto ac = cells_count(c.t, *cpus, "#address-cells"sv, 2);
  auto sc = cells_count(c.t, *cpus, "#size-cells"sv, 1);
  if (!ac || !sc || *ac < 1 || *ac > 2 || *sc != 0) return Unexpected(ValidateError::kCpuBadReg);
  const size_t max = c.limits.max_cpus < kMaxCpus ? c.limits.max_cpus : kMaxCpus;
  std::array<bool, kMaxCpus> psci{};
  size_t seen = 0;
  for (auto n = c.t.first_child(*cpus); n; n = c.t.next_sibling(*n)) {
    if (!is_string(c.t, *n, "device_type"sv, "cpu"sv)) continue;
    if (++seen > max) return Unexpected(ValidateError::kTooManyCpus);
    auto reg = cells_prop(c.t, *n, "reg"sv);
    if (!reg || reg->count() != *ac) return Unexpected(ValidateError::kCpuBadReg);
    const uint64_t mpidr = reg->read(0, *ac);
    // Aff2..Aff0 only (Arm ARM D19.2.101 MPIDR_EL1); Aff3 guests are not built.
    if (mpidr > 0xffffff) return Unexpected(ValidateError::kCpuBadReg);
    for (const Cpu& other : c.p.cpus) {
      if (other.mpidr == mpidr) return Unexpected(ValidateError::kCpuDuplicateReg);
    }
    auto compatible = known_cpu(c.t, *n);
    if (!compatible) return Unexpected(ValidateError::kCpuCompatible);
    psci[c.p.cpus.count] = is_string(c.t, *n, "enable-method"sv, "psci"sv);
    c.p.cpus.push(Cpu{static_cast<uint32_t>(mpidr), *compatible});
  }
  if (c.p.cpus.empty()) return Unexpected(ValidateError::kNoCpus);
  if (c.p.cpus.count > 1) {
    for (size_t i = 0; i < c.p.cpus.count; ++i) {
      if (!psci[i]) return Unexpected(ValidateError::kCpuEnableMethod);
    }
  }
  return {};
}

// ---- interrupt controller, timer, PSCI ----------------------------------------------

bool in_device_window(const Context& c, const base::Range& r) {
  return c.limits.device_window.contains(r);
}

std::expected<void, ValidateError> read_gic(Context& c) {
  if (c.root.gic.empty()) return Unexpected(ValidateError::kNoGic);
  if (c.root.gic.size() > 1) return Unexpected(ValidateError::kGicDuplicate);
  c.gic_node = c.root.gic[0];
  c.p.gic.version = c.t.prop_has_string(c.gic_node, "compatible"sv, "arm,gic-v3"sv)
                        ? GicVersion::kV3
                        : GicVersion::kV2;
  const int n = c.gic_node;
  auto icells = c.t.prop_u32(n, "#interrupt-cells"sv);
  if (!c.t.prop(n, "interrupt-controller"sv) || !icells || *icells != 3) {
    return Unexpected(ValidateError::kGicBadReg);
  }
  auto ac = cells_count(c.t, n, "#address-cells"sv, 0);
  if (!ac || *ac > 3) return Unexpected(ValidateError::kGicBadReg);
  c.gic_address_cells = *ac;
  c.gic_phandle = c.t.phandle(n);
  auto regs = regs_prop(c.t, n, "reg"sv, c.root_ac, c.root_sc);
  if (!regs) return Unexpected(ValidateError::kGicBadReg);
  const size_t cpus = c.p.cpus.count;
  auto region = [&](size_t i, uint64_t min) -> std::optional<base::Range> {
    if (i >= regs->count()) return std::nullopt;
    auto r = regs->at(i);
    if (!r || r->size < min || !page_aligned(*r)) return std::nullopt;
    return r;
  };
  Gic& gic = c.p.gic;
  if (gic.version == GicVersion::kV2) {
    // Arm IHI 0048B 4.1: distributor 4 KiB, CPU interface 8 KiB.
    auto dist = region(0, 0x1000);
    auto cpu = region(1, 0x2000);
    if (!dist || !cpu) return Unexpected(ValidateError::kGicBadReg);
    gic.distributor = *dist;
    gic.cpu_interface = *cpu;
    if (cpus > kMaxGicV2Cpus) return Unexpected(ValidateError::kGicTooManyCpus);
  } else {
    // Arm IHI 0069 12.1: distributor 64 KiB; two 64 KiB frames per redistributor.
    auto count = cells_count(c.t, n, "#redistributor-regions"sv, 1);
    if (!count || *count < 1 || *count > kMaxGicRedistRegions) {
      return Unexpected(ValidateError::kGicBadReg);
    }
    auto dist = region(0, 0x10000);
    if (!dist) return Unexpected(ValidateError::kGicBadReg);
    gic.distributor = *dist;
    uint64_t redist = 0;
    for (size_t i = 0; i < *count; ++i) {
      auto r = region(1 + i, kGicV3RedistPerCpu);
      if (!r || !aligned(r->size, kGicV3RedistPerCpu)) return Unexpected(ValidateError::kGicBadReg);
      gic.redistributors.push(*r);
      redist += r->size;  // each < 2^64 / 2 after make(): two cannot wrap past checks below
      if (redist < r->size) return Unexpected(ValidateError::kGicBadReg);
    }
    if (redist / kGicV3RedistPerCpu < cpus) return Unexpected(ValidateError::kGicRedistTooSmall);
  }
  auto in_window = [&](const base::Range& r) { return in_device_window(c, r); };
  if (!in_window(gic.distributor)) return Unexpected(ValidateError::kDeviceOutsideWindow);
  if (gic.version == GicVersion::kV2 && !in_window(gic.cpu_interface)) {
    return Unexpected(ValidateError::kDeviceOutsideWindow);
  }
  for (const auto& r : gic.redistributors) {
    if (!in_window(r)) return Unexpected(ValidateError::kDeviceOutsideWindow);
  }
  return {};
}

// The effective interrupt parent (DTSpec 2.4.1) of `node`, a child of the
// root, is the GIC: its own interrupt-parent, else the root's.
bool parent_is_gic(const Context& c, int node) {
  if (c.gic_phandle == 0) return false;
  for (int n : {node, 0}) {
    if (c.t.prop(n, "interrupt-parent"sv)) {
      auto v = c.t.prop_u32(n, "interrupt-parent"sv);
      return v && *v == c.gic_phandle;
    }
  }
  return false;
}

std::expected<Interrupt, ValidateError> read_spi(const Context& c, int node) {
  if (c.t.prop(node, "interrupts-extended"sv)) return Unexpected(ValidateError::kBadInterrupt);
  if (!parent_is_gic(c, node)) return Unexpected(ValidateError::kBadInterruptParent);
  auto irq = cells_prop(c.t, node, "interrupts"sv);
  if (!irq || irq->count() != 3) return Unexpected(ValidateError::kBadInterrupt);
  const uint32_t type = irq->at(0), number = irq->at(1), flags = irq->at(2);
  // SPIs trigger on a rising edge or a high level only (Arm IHI 0069 4.3).
  if (type != kGicSpi || number > kMaxSpi || (flags != kEdgeRising && flags != kLevelHigh)) {
    return Unexpected(ValidateError::kBadInterrupt);
  }
  return Interrupt{number, flags};
}

std::expected<void, ValidateError> read_timer(Context& c) {
  if (c.root.timer.empty()) return Unexpected(ValidateError::kNoTimer);
  if (c.root.timer.size() > 1) return Unexpected(ValidateError::kTimerDuplicate);
  const int timer = c.root.timer[0];
  if (!parent_is_gic(c, timer)) return Unexpected(ValidateError::kBadInterruptParent);
  // Linux bindings/timer/arm,arch_timer.yaml: secure, non-secure, virtual,
  // hypervisor PPIs (and optionally the hypervisor virtual one, not kept).
  auto irq = cells_prop(c.t, timer, "interrupts"sv);
  if (!irq || (irq->count() != 12 && irq->count() != 15)) {
    return Unexpected(ValidateError::kTimerBadInterrupts);
  }
  for (size_t i = 0; i < 4; ++i) {
    const uint32_t type = irq->at(3 * i), number = irq->at(3 * i + 1), flags = irq->at(3 * i + 2);
    const uint32_t trigger = flags & 0xf;
    // Bits 8-15: the GICv2 CPU mask, recomputed by the rebuild.
    if (type != kGicPpi || number > kMaxPpi || (flags & ~0xff0fu) != 0 ||
        (trigger != kLevelHigh && trigger != kLevelLow)) {
      return Unexpected(ValidateError::kTimerBadInterrupts);
    }
    for (size_t j = 0; j < i; ++j) {
      if (c.p.timer.ppis[j].number == number) {
        return Unexpected(ValidateError::kTimerBadInterrupts);
      }
    }
    c.p.timer.ppis[i] = Interrupt{number, trigger};
  }
  return {};
}

std::expected<void, ValidateError> read_psci(Context& c) {
  if (c.root.psci.empty()) return Unexpected(ValidateError::kNoPsci);
  if (c.root.psci.size() > 1) return Unexpected(ValidateError::kPsciDuplicate);
  const int psci = c.root.psci[0];
  // PSCI 0.2+ (function IDs from the spec, not from the tree).
  if (!c.t.prop_has_string(psci, "compatible"sv, "arm,psci-0.2"sv) &&
      !c.t.prop_has_string(psci, "compatible"sv, "arm,psci-1.0"sv)) {
    return Unexpected(ValidateError::kPsciCompatible);
  }
  auto method = c.t.prop_string(psci, "method"sv);
  if (!method || (*method != "hvc"sv && *method != "smc"sv)) {
    return Unexpected(ValidateError::kPsciBadMethod);
  }
  c.p.psci = *method == "hvc"sv ? PsciMethod::kHvc : PsciMethod::kSmc;
  if (c.p.psci != c.limits.psci) return Unexpected(ValidateError::kPsciConduitMismatch);
  return {};
}

// ---- UARTs, virtio-mmio --------------------------------------------------------------

std::expected<Device, ValidateError> read_device(const Context& c, int node, uint64_t size,
                                                 uint64_t align, ValidateError bad_reg) {
  auto regs = regs_prop(c.t, node, "reg"sv, c.root_ac, c.root_sc);
  if (!regs || regs->count() != 1) return Unexpected(bad_reg);
  auto r = regs->at(0);
  if (!r || r->size != size || !aligned(r->base, align)) return Unexpected(bad_reg);
  if (!in_device_window(c, *r)) return Unexpected(ValidateError::kDeviceOutsideWindow);
  auto irq = read_spi(c, node);
  if (!irq) return Unexpected(irq.error());
  return Device{*r, *irq};
}

std::expected<void, ValidateError> read_uarts_and_virtio(Context& c) {
  for (const RootNodes::Device& dev : c.root.devices) {
    const int n = dev.node;
    if (dev.uart) {
      if (c.p.uarts.count == kMaxUarts) return Unexpected(ValidateError::kTooManyUarts);
      auto d = read_device(c, n, kPage, kPage, ValidateError::kUartBadReg);
      if (!d) return Unexpected(d.error());
      c.uart_nodes[c.p.uarts.count] = n;
      c.p.uarts.push(*d);
    } else {
      if (c.p.virtio.count == kMaxVirtio) return Unexpected(ValidateError::kTooManyVirtio);
      auto d = read_device(c, n, kVirtioMmioSize, kVirtioMmioSize, ValidateError::kVirtioBadReg);
      if (!d) return Unexpected(d.error());
      c.p.virtio.push(*d);
    }
  }
  return {};
}

// ---- PCI host bridge (Linux bindings/pci/host-generic-pci.yaml) ----------------------

std::expected<void, ValidateError> read_pci_ranges(Context& c, int node, Pci& pci) {
  // Child address 3 cells (phys.hi, mid, lo), parent address root cells, size 2.
  const size_t entry = 3 + c.root_ac + 2;
  auto cells = cells_prop(c.t, node, "ranges"sv);
  if (!cells || cells->count() == 0 || cells->count() % entry != 0 ||
      cells->count() / entry > kMaxPciRanges) {
    return Unexpected(ValidateError::kPciBadRanges);
  }
  for (size_t i = 0; i < cells->count() / entry; ++i) {
    const size_t o = i * entry;
    const uint32_t hi = cells->at(o);
    // phys.hi = npt000ss bbbbbbbb dddddfff rrrrrrrr (IEEE 1275 PCI binding 2.2.1.1).
    const uint32_t space = (hi >> 24) & 3;
    const bool relocatable = (hi >> 31) & 1, aliased = (hi >> 29) & 1;
    const bool prefetchable = (hi >> 30) & 1;
    if (space == 0 || relocatable || aliased || (hi & 0x1cffffff) != 0 ||
        (prefetchable && space == 1)) {
      return Unexpected(ValidateError::kPciBadRanges);
    }
    const uint64_t bus = cells->read(o + 1, 2);
    auto cpu = base::Range::make(cells->read(o + 3, c.root_ac), cells->read(o + 3 + c.root_ac, 2));
    if (!cpu || cpu->empty() || !page_aligned(*cpu))
      return Unexpected(ValidateError::kPciBadRanges);
    auto bus_end = base::checked_add(bus, cpu->size);
    if (!bus_end) return Unexpected(ValidateError::kPciBadRanges);
    const auto s = static_cast<PciSpace>(space);
    if (s == PciSpace::kIo && *bus_end > 0x10000) return Unexpected(ValidateError::kPciBadRanges);
    if (s == PciSpace::kMem32 && *bus_end > (1ull << 32)) {
      return Unexpected(ValidateError::kPciBadRanges);
    }
    // Memory windows are identity mapped (as crosvm and QEMU build them).
    if (s != PciSpace::kIo && bus != cpu->base) return Unexpected(ValidateError::kPciBadRanges);
    pci.ranges.push(PciRange{s, prefetchable, bus, *cpu});
  }
  return {};
}

std::expected<void, ValidateError> read_pci_irqs(Context& c, int node, Pci& pci) {
  auto mask = cells_prop(c.t, node, "interrupt-map-mask"sv);
  if (!mask || mask->count() != 4) return Unexpected(ValidateError::kPciBadInterruptMap);
  for (size_t i = 0; i < 4; ++i) pci.irq_mask[i] = mask->at(i);
  // Device number only (bits 11-15, or QEMU's swizzle 11-12), any pin.
  if ((pci.irq_mask[0] != 0xf800 && pci.irq_mask[0] != 0x1800) || pci.irq_mask[1] != 0 ||
      pci.irq_mask[2] != 0 || pci.irq_mask[3] != 7) {
    return Unexpected(ValidateError::kPciBadInterruptMap);
  }
  // Entry: child unit address (3), pin (1), parent phandle (1), parent unit
  // address (the GIC's #address-cells), parent specifier (3).
  const size_t entry = 3 + 1 + 1 + c.gic_address_cells + 3;
  auto map = cells_prop(c.t, node, "interrupt-map"sv);
  if (!map || map->count() == 0 || map->count() % entry != 0) {
    return Unexpected(ValidateError::kPciBadInterruptMap);
  }
  if (map->count() / entry > kMaxPciIrqs) return Unexpected(ValidateError::kPciTooManyDevices);
  std::array<uint32_t, kMaxPciDevices> devices{};
  size_t device_count = 0;
  for (size_t i = 0; i < map->count() / entry; ++i) {
    const size_t o = i * entry;
    const uint32_t hi = map->at(o), pin = map->at(o + 3), phandle = map->at(o + 4);
    if ((hi & ~pci.irq_mask[0]) != 0 || map->at(o + 1) != 0 || map->at(o + 2) != 0 || pin < 1 ||
        pin > 4 || phandle != c.gic_phandle || c.gic_phandle == 0) {
      return Unexpected(ValidateError::kPciBadInterruptMap);
    }
    for (size_t a = 0; a < c.gic_address_cells; ++a) {
      if (map->at(o + 5 + a) != 0) return Unexpected(ValidateError::kPciBadInterruptMap);
    }
    const size_t s = o + 5 + c.gic_address_cells;
    const uint32_t type = map->at(s), number = map->at(s + 1), flags = map->at(s + 2);
    if (type != kGicSpi || number > kMaxSpi || (flags != kLevelHigh && flags != kEdgeRising)) {
      return Unexpected(ValidateError::kPciBadInterruptMap);
    }
    for (const PciIrq& other : pci.irqs) {
      if (other.device == hi && other.pin == pin) {
        return Unexpected(ValidateError::kPciBadInterruptMap);
      }
    }
    bool known = false;
    for (size_t d = 0; d < device_count; ++d) known = known || devices[d] == hi;
    if (!known) {
      if (device_count == kMaxPciDevices) return Unexpected(ValidateError::kPciTooManyDevices);
      devices[device_count++] = hi;
    }
    pci.irqs.push(PciIrq{hi, pin, Interrupt{number, flags}});
  }
  return {};
}

std::expected<void, ValidateError> read_pci(Context& c) {
  if (c.root.pci.empty()) return {};
  if (c.root.pci.size() > 1) return Unexpected(ValidateError::kPciDuplicate);
  const int node = c.root.pci[0];
  Pci& pci = c.p.pci.emplace();
  auto ac = c.t.prop_u32(node, "#address-cells"sv);
  auto sc = c.t.prop_u32(node, "#size-cells"sv);
  auto ic = c.t.prop_u32(node, "#interrupt-cells"sv);
  if (!is_string(c.t, node, "device_type"sv, "pci"sv) || !ac || *ac != 3 || !sc || *sc != 2 ||
      !ic || *ic != 1) {
    return Unexpected(ValidateError::kPciBadNode);
  }
  if (c.t.prop(node, "bus-range"sv)) {
    auto bus = cells_prop(c.t, node, "bus-range"sv);
    if (!bus || bus->count() != 2 || bus->at(0) > bus->at(1) || bus->at(1) > 255) {
      return Unexpected(ValidateError::kPciBadNode);
    }
    pci.bus_first = bus->at(0);
    pci.bus_last = bus->at(1);
  }
  // ECAM: 1 MiB of configuration space per bus (PCIe base spec 7.2.2).
  auto regs = regs_prop(c.t, node, "reg"sv, c.root_ac, c.root_sc);
  if (!regs || regs->count() != 1) return Unexpected(ValidateError::kPciBadReg);
  auto ecam = regs->at(0);
  const uint64_t buses = pci.bus_last - pci.bus_first + 1;
  if (!ecam || !aligned(ecam->base, 1 << 20) || !aligned(ecam->size, 1 << 20) ||
      ecam->size < (buses << 20)) {
    return Unexpected(ValidateError::kPciBadReg);
  }
  pci.ecam = *ecam;
  if (auto r = read_pci_ranges(c, node, pci); !r) return r;
  if (auto r = read_pci_irqs(c, node, pci); !r) return r;
  // Windows: below RAM in the device window, or above the end of RAM.
  const uint64_t ram_end = c.p.memory[c.p.memory.count - 1].end();
  auto check = [&](const base::Range& w) -> std::expected<void, ValidateError> {
    for (const auto& m : c.p.memory) {
      if (w.overlaps(m)) return Unexpected(ValidateError::kPciOverlapsMemory);
    }
    if (overlaps_firmware(c, w)) return Unexpected(ValidateError::kPciOverlapsMemory);
    const bool high = w.base >= ram_end && w.end() <= c.limits.high_limit;
    if (!in_device_window(c, w) && !high) return Unexpected(ValidateError::kDeviceOutsideWindow);
    return {};
  };
  if (auto r = check(pci.ecam); !r) return r;
  for (const PciRange& range : pci.ranges) {
    if (auto r = check(range.cpu); !r) return r;
  }
  return {};
}

// Every MMIO region distinct, and SPIs not shared between devices.
std::expected<void, ValidateError> check_devices(const Context& c) {
  std::array<base::Range, 3 + kMaxGicRedistRegions + kMaxUarts + kMaxVirtio + 1 + kMaxPciRanges>
      regions{};
  size_t n = 0;
  const VmPlatform& p = c.p;
  regions[n++] = p.gic.distributor;
  if (p.gic.version == GicVersion::kV2) regions[n++] = p.gic.cpu_interface;
  for (const auto& r : p.gic.redistributors) regions[n++] = r;
  for (const auto& d : p.uarts) regions[n++] = d.reg;
  for (const auto& d : p.virtio) regions[n++] = d.reg;
  if (p.pci) {
    regions[n++] = p.pci->ecam;
    for (const auto& r : p.pci->ranges) regions[n++] = r.cpu;
  }
  for (size_t i = 0; i < n; ++i) {
    if (overlaps_firmware(c, regions[i])) return Unexpected(ValidateError::kDeviceOverlap);
    for (size_t j = 0; j < i; ++j) {
      if (regions[i].overlaps(regions[j])) return Unexpected(ValidateError::kDeviceOverlap);
    }
  }
  std::array<uint32_t, kMaxUarts + kMaxVirtio> spis{};
  size_t s = 0;
  for (const auto& d : p.uarts) spis[s++] = d.irq.number;
  for (const auto& d : p.virtio) spis[s++] = d.irq.number;
  for (size_t i = 0; i < s; ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (spis[i] == spis[j]) return Unexpected(ValidateError::kInterruptConflict);
    }
    if (p.pci) {
      for (const auto& irq : p.pci->irqs) {
        if (irq.irq.number == spis[i]) return Unexpected(ValidateError::kInterruptConflict);
      }
    }
  }
  return {};
}

// ---- payload: /config, /chosen --------------------------------------------------------

std::expected<void, ValidateError> read_kernel(Context& c) {
  auto config = c.root.config;
  if (!config) return {};
  const bool has_addr = c.t.prop(*config, "kernel-address"sv).has_value();
  const bool has_size = c.t.prop(*config, "kernel-size"sv).has_value();
  if (!has_addr && !has_size) return {};
  // u32 each, as crosvm writes them (AOSP pvmfw reads them so).
  auto addr = c.t.prop_u32(*config, "kernel-address"sv);
  auto size = c.t.prop_u32(*config, "kernel-size"sv);
  if (!addr || !size || *size == 0) return Unexpected(ValidateError::kKernelBadRange);
  const base::Range k{*addr, *size};
  if (!c.p.memory_containing(k)) return Unexpected(ValidateError::kKernelOutsideMemory);
  if (!aligned(k.base, kPage)) return Unexpected(ValidateError::kKernelMisaligned);
  if (overlaps_firmware(c, pages(k))) return Unexpected(ValidateError::kKernelOverlapsFirmware);
  c.p.kernel = k;
  return {};
}

std::expected<void, ValidateError> read_chosen(Context& c) {
  auto chosen = c.root.chosen;
  if (!chosen) return {};
  if (auto raw = c.t.prop(*chosen, "bootargs"sv)) {
    if (raw->size() > kMaxBootargs) return Unexpected(ValidateError::kBootargsTooLong);
    std::string_view s(reinterpret_cast<const char*>(raw->data()), raw->size());
    if (s.empty() || s.back() != '\0') return Unexpected(ValidateError::kBootargsBad);
    s.remove_suffix(1);
    if (s.find('\0') != std::string_view::npos || !bootargs_wellformed(s)) {
      return Unexpected(ValidateError::kBootargsBad);
    }
    c.p.bootargs = s;
  }
  if (c.t.prop(*chosen, "stdout-path"sv)) {
    auto path = c.t.prop_string(*chosen, "stdout-path"sv);
    if (!path) return Unexpected(ValidateError::kBadStdoutPath);
    auto node = c.t.node_by_path(*path);
    if (!node) return Unexpected(ValidateError::kBadStdoutPath);
    for (size_t i = 0; i < c.p.uarts.count; ++i) {
      if (c.uart_nodes[i] == *node) c.p.stdout_uart = i;
    }
    if (!c.p.stdout_uart) return Unexpected(ValidateError::kBadStdoutPath);
  }
  const bool has_start = c.t.prop(*chosen, "linux,initrd-start"sv).has_value();
  const bool has_end = c.t.prop(*chosen, "linux,initrd-end"sv).has_value();
  if (has_start || has_end) {
    auto start = c.t.prop_uint(*chosen, "linux,initrd-start"sv);
    auto end = c.t.prop_uint(*chosen, "linux,initrd-end"sv);
    if (!start || !end) return Unexpected(ValidateError::kInitrdBadRange);
    auto r = base::Range::from_bounds(*start, *end);
    if (!r || r->empty()) return Unexpected(ValidateError::kInitrdBadRange);
    if (!c.p.memory_containing(*r)) return Unexpected(ValidateError::kInitrdOutsideMemory);
    if (c.p.kernel && pages(*r).overlaps(pages(*c.p.kernel))) {
      return Unexpected(ValidateError::kInitrdOverlapsKernel);
    }
    if (overlaps_firmware(c, pages(*r))) return Unexpected(ValidateError::kInitrdOverlapsFirmware);
    c.p.initrd = *r;
  }
  return {};
}

// ---- the DMA pool: /reserved-memory restricted-dma-pool ---------------------------------

bool power_of_two(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

std::expected<void, ValidateError> read_dma_pool(Context& c) {
  auto reserved = c.root.reserved;
  if (!reserved) return {};
  int pool = -1;
  for (auto n = c.t.first_child(*reserved); n; n = c.t.next_sibling(*n)) {
    if (!c.t.prop_has_string(*n, "compatible"sv, "restricted-dma-pool"sv)) continue;
    if (pool >= 0) return Unexpected(ValidateError::kDmaPoolDuplicate);
    pool = *n;
  }
  if (pool < 0) return {};
  auto ac = cells_count(c.t, *reserved, "#address-cells"sv, 2);
  auto sc = cells_count(c.t, *reserved, "#size-cells"sv, 1);
  if (!ac || !sc || *ac < 1 || *ac > 2 || *sc < 1 || *sc > 2) {
    return Unexpected(ValidateError::kDmaPoolBad);
  }
  DmaPool& out = c.p.dma_pool.emplace();
  const bool has_reg = c.t.prop(pool, "reg"sv).has_value();
  const bool has_size = c.t.prop(pool, "size"sv).has_value();
  if (has_reg == has_size) return Unexpected(ValidateError::kDmaPoolBad);
  if (has_reg) {
    auto regs = regs_prop(c.t, pool, "reg"sv, *ac, *sc);
    if (!regs || regs->count() != 1) return Unexpected(ValidateError::kDmaPoolBad);
    auto r = regs->at(0);
    if (!r || r->empty() || !page_aligned(*r) || !c.p.memory_containing(*r)) {
      return Unexpected(ValidateError::kDmaPoolBad);
    }
    if (overlaps_firmware(c, *r) || (c.p.kernel && r->overlaps(pages(*c.p.kernel))) ||
        (c.p.initrd && r->overlaps(pages(*c.p.initrd)))) {
      return Unexpected(ValidateError::kDmaPoolOverlap);
    }
    out.reg = *r;
    return {};
  }
  auto size = cells_prop(c.t, pool, "size"sv);
  if (!size || size->count() != *sc) return Unexpected(ValidateError::kDmaPoolBad);
  out.size = size->read(0, *sc);
  if (out.size == 0 || !aligned(out.size, kPage) || out.size > c.p.memory_size()) {
    return Unexpected(ValidateError::kDmaPoolBad);
  }
  if (c.t.prop(pool, "alignment"sv)) {
    auto align = cells_prop(c.t, pool, "alignment"sv);
    if (!align || align->count() != *sc) return Unexpected(ValidateError::kDmaPoolBad);
    out.alignment = align->read(0, *sc);
    if (!power_of_two(out.alignment) || out.alignment < kPage) {
      return Unexpected(ValidateError::kDmaPoolBad);
    }
  }
  return {};
}

// ---- /avf -----------------------------------------------------------------------------

bool is_phandle_prop(std::string_view name) {
  return name == "phandle"sv || name == "linux,phandle"sv || name == "name"sv;
}

std::expected<void, ValidateError> read_avf(Context& c) {
  auto avf = c.root.avf;
  if (!avf) return {};
  if (auto key = c.t.prop(*avf, "secretkeeper_public_key"sv)) {
    if (key->size() > kMaxAvfValue) return Unexpected(ValidateError::kAvfPropertyTooLarge);
    c.p.secretkeeper_public_key = *key;
  }
  std::optional<int> untrusted;
  for (auto n = c.t.first_child(*avf); n; n = c.t.next_sibling(*n)) {
    if (c.t.name(*n) == "untrusted"sv) untrusted = n;
  }
  if (!untrusted) return {};
  for (auto prop = c.t.next_property(*untrusted, std::nullopt); prop;
       prop = c.t.next_property(*untrusted, prop->offset)) {
    if (is_phandle_prop(prop->name)) continue;  // the output's phandles are its own
    if (prop->value.size() > kMaxAvfValue) return Unexpected(ValidateError::kAvfPropertyTooLarge);
    if (!c.p.avf_untrusted.push(AvfProperty{prop->name, prop->value})) {
      return Unexpected(ValidateError::kAvfTooManyProperties);
    }
    if (prop->name == "instance-id"sv) {
      if (prop->value.size() != kInstanceIdSize) return Unexpected(ValidateError::kInstanceIdSize);
      c.p.instance_id = prop->value.first<kInstanceIdSize>();
    }
  }
  return {};
}

}  // namespace

Limits board_limits(const board::Board& board, PsciMethod conduit) {
  Limits l;
  l.ram_base = board.ram_base;
  l.ram_limit = kMappableEnd;
  l.max_ram_size = board.ram_base < kMappableEnd ? kMappableEnd - board.ram_base : 0;
  l.max_cpus = kMaxCpus;
  l.device_window = board.device_window;
  l.high_limit = kHighLimit;
  // The DT window and pvmfw's RAM window (its config and handover inside).
  l.firmware.push(board.dt_window);
  l.firmware.push(board.scratch);
  l.psci = conduit;
  return l;
}

uint64_t VmPlatform::memory_size() const {
  uint64_t total = 0;
  for (const auto& m : memory) total += m.size;
  return total;
}

std::optional<base::Range> VmPlatform::memory_containing(const base::Range& r) const {
  for (const auto& m : memory) {
    if (m.contains(r)) return m;
  }
  return std::nullopt;
}

std::expected<VmPlatform, ValidateError> validate_platform(const Tree& tree, const Limits& limits) {
  std::expected<VmPlatform, ValidateError> result{std::in_place};
  Context c{tree, limits, *result, scan_root(tree)};
  using Step = std::expected<void, ValidateError> (*)(Context&);
  // The order fixes which refusal a tree with several faults gets.
  static constexpr Step kSteps[] = {
      read_root_cells,
      read_memory,
      read_cpus,
      read_gic,
      read_timer,
      read_psci,
      read_uarts_and_virtio,
      read_pci,
      [](Context& cx) { return check_devices(cx); },
      read_kernel,
      read_chosen,
      read_dma_pool,
      read_avf,
  };
  for (Step step : kSteps) {
    if (auto r = step(c); !r) return std::unexpected(r.error());
  }
  return result;
}

namespace {

struct ErrorText {
  ValidateError error;
  const char* name;  // stable: tests, `pvm fdt sanitize` and the boot log use it
  const char* detail;
};

// In enum order (checked below), so lookups are an index.
constexpr ErrorText kErrorText[] = {
    {ValidateError::kBadAddressCells, "BAD_ADDRESS_CELLS",
     "root #address-cells or #size-cells is not 1 or 2"},
    {ValidateError::kNoMemory, "NO_MEMORY", "no /memory node"},
    {ValidateError::kMemoryBadReg, "MEMORY_BAD_REG", "a /memory reg is malformed or wraps"},
    {ValidateError::kMemoryEmpty, "MEMORY_EMPTY", "a memory range has size 0"},
    {ValidateError::kMemoryMisaligned, "MEMORY_MISALIGNED", "a memory range is not 4 KiB aligned"},
    {ValidateError::kMemoryOutOfRange, "MEMORY_OUT_OF_RANGE",
     "a memory range leaves the board's RAM window"},
    {ValidateError::kMemoryOverlap, "MEMORY_OVERLAP", "two memory ranges overlap"},
    {ValidateError::kMemoryTooManyRanges, "MEMORY_TOO_MANY_RANGES",
     "more memory ranges than pvmfw keeps"},
    {ValidateError::kMemoryTooLarge, "MEMORY_TOO_LARGE", "more RAM than allowed"},
    {ValidateError::kMemoryBase, "MEMORY_BASE", "RAM does not start at the board's RAM base"},
    {ValidateError::kMemoryMissesFirmware, "MEMORY_MISSES_FIRMWARE",
     "RAM does not cover the DT window and pvmfw's scratch"},
    {ValidateError::kNoCpus, "NO_CPUS", "no /cpus node or no cpu in it"},
    {ValidateError::kTooManyCpus, "TOO_MANY_CPUS", "more CPUs than allowed"},
    {ValidateError::kCpuCompatible, "CPU_COMPATIBLE", "a cpu is not a known Arm core"},
    {ValidateError::kCpuBadReg, "CPU_BAD_REG", "a cpu reg (MPIDR) or /cpus cells malformed"},
    {ValidateError::kCpuDuplicateReg, "CPU_DUPLICATE_REG", "two cpus with the same reg"},
    {ValidateError::kCpuEnableMethod, "CPU_ENABLE_METHOD",
     "several cpus without enable-method \"psci\""},
    {ValidateError::kNoGic, "NO_GIC", "no GICv2 or GICv3 node"},
    {ValidateError::kGicDuplicate, "GIC_DUPLICATE", "more than one GIC node"},
    {ValidateError::kGicBadReg, "GIC_BAD_REG",
     "GIC regions, #interrupt-cells or interrupt-controller malformed"},
    {ValidateError::kGicRedistTooSmall, "GIC_REDIST_TOO_SMALL",
     "GICv3 redistributors too small for the cpus"},
    {ValidateError::kGicTooManyCpus, "GIC_TOO_MANY_CPUS", "GICv2 serves at most 8 cpus"},
    {ValidateError::kNoTimer, "NO_TIMER", "no arm,armv8-timer node"},
    {ValidateError::kTimerDuplicate, "TIMER_DUPLICATE", "more than one timer node"},
    {ValidateError::kTimerBadInterrupts, "TIMER_BAD_INTERRUPTS",
     "timer interrupts are not 4 distinct PPIs"},
    {ValidateError::kNoPsci, "NO_PSCI", "no PSCI node"},
    {ValidateError::kPsciDuplicate, "PSCI_DUPLICATE", "more than one PSCI node"},
    {ValidateError::kPsciCompatible, "PSCI_COMPATIBLE", "PSCI older than 0.2"},
    {ValidateError::kPsciBadMethod, "PSCI_BAD_METHOD", "PSCI method is neither hvc nor smc"},
    {ValidateError::kPsciConduitMismatch, "PSCI_CONDUIT_MISMATCH",
     "PSCI method differs from the firmware's conduit"},
    {ValidateError::kTooManyUarts, "TOO_MANY_UARTS", "more than 4 PL011 UARTs"},
    {ValidateError::kUartBadReg, "UART_BAD_REG", "a UART reg is not one 4 KiB page"},
    {ValidateError::kTooManyVirtio, "TOO_MANY_VIRTIO", "more than 32 virtio-mmio devices"},
    {ValidateError::kVirtioBadReg, "VIRTIO_BAD_REG",
     "a virtio-mmio reg is not one aligned 0x200 region"},
    {ValidateError::kBadInterrupt, "BAD_INTERRUPT", "a device's interrupts are not one SPI"},
    {ValidateError::kBadInterruptParent, "BAD_INTERRUPT_PARENT",
     "a device's interrupt parent is not the GIC"},
    {ValidateError::kInterruptConflict, "INTERRUPT_CONFLICT", "two devices share an SPI"},
    {ValidateError::kDeviceOutsideWindow, "DEVICE_OUTSIDE_WINDOW",
     "an MMIO region lies outside the device window"},
    {ValidateError::kDeviceOverlap, "DEVICE_OVERLAP",
     "two MMIO regions overlap, or one overlaps the firmware"},
    {ValidateError::kPciDuplicate, "PCI_DUPLICATE", "more than one PCI host bridge"},
    {ValidateError::kPciBadNode, "PCI_BAD_NODE",
     "PCI node cells, device_type or bus-range malformed"},
    {ValidateError::kPciBadReg, "PCI_BAD_REG", "PCI ECAM region malformed or too small"},
    {ValidateError::kPciBadRanges, "PCI_BAD_RANGES", "PCI ranges malformed"},
    {ValidateError::kPciOverlapsMemory, "PCI_OVERLAPS_MEMORY",
     "a PCI window overlaps RAM or the firmware"},
    {ValidateError::kPciBadInterruptMap, "PCI_BAD_INTERRUPT_MAP",
     "PCI interrupt-map or its mask malformed"},
    {ValidateError::kPciTooManyDevices, "PCI_TOO_MANY_DEVICES", "more than 16 PCI devices"},
    {ValidateError::kDmaPoolDuplicate, "SWIOTLB_DUPLICATE", "more than one restricted-dma-pool"},
    {ValidateError::kDmaPoolBad, "SWIOTLB_BAD",
     "restricted-dma-pool neither a RAM range nor size+alignment"},
    {ValidateError::kDmaPoolOverlap, "SWIOTLB_OVERLAP",
     "restricted-dma-pool overlaps the firmware or the payload"},
    {ValidateError::kKernelBadRange, "KERNEL_BAD_RANGE",
     "/config kernel-address or kernel-size malformed"},
    {ValidateError::kKernelOutsideMemory, "KERNEL_OUTSIDE_MEMORY", "kernel outside RAM"},
    {ValidateError::kKernelMisaligned, "KERNEL_MISALIGNED", "kernel not 4 KiB aligned"},
    {ValidateError::kKernelOverlapsFirmware, "KERNEL_OVERLAPS_FIRMWARE",
     "kernel overlaps the DT window or pvmfw's scratch"},
    {ValidateError::kBootargsBad, "BOOTARGS_BAD",
     "bootargs not one printable NUL-terminated string"},
    {ValidateError::kBootargsTooLong, "BOOTARGS_TOO_LONG", "bootargs longer than 2 KiB"},
    {ValidateError::kBadStdoutPath, "BAD_STDOUT_PATH",
     "stdout-path does not name a validated UART"},
    {ValidateError::kInitrdBadRange, "INITRD_BAD_RANGE", "initrd start/end malformed or empty"},
    {ValidateError::kInitrdOutsideMemory, "INITRD_OUTSIDE_MEMORY", "initrd outside RAM"},
    {ValidateError::kInitrdOverlapsKernel, "INITRD_OVERLAPS_KERNEL", "initrd overlaps the kernel"},
    {ValidateError::kInitrdOverlapsFirmware, "INITRD_OVERLAPS_FIRMWARE",
     "initrd overlaps the DT window or pvmfw's scratch"},
    {ValidateError::kAvfTooManyProperties, "AVF_TOO_MANY_PROPERTIES",
     "more than 16 /avf/untrusted properties"},
    {ValidateError::kAvfPropertyTooLarge, "AVF_PROPERTY_TOO_LARGE",
     "an /avf property larger than 1 KiB"},
    {ValidateError::kInstanceIdSize, "INSTANCE_ID_SIZE",
     "/avf/untrusted/instance-id is not 64 bytes"},
};

constexpr bool error_table_complete() {
  for (size_t i = 0; i < std::size(kErrorText); ++i) {
    if (static_cast<size_t>(kErrorText[i].error) != i) return false;
  }
  return std::size(kErrorText) == static_cast<size_t>(ValidateError::kInstanceIdSize) + 1;
}
static_assert(error_table_complete(), "one kErrorText row per ValidateError, in order");

}  // namespace

const char* to_string(ValidateError e) {
  const auto i = static_cast<size_t>(e);
  return i < std::size(kErrorText) ? kErrorText[i].name : "UNKNOWN";
}

const char* describe(ValidateError e) {
  const auto i = static_cast<size_t>(e);
  return i < std::size(kErrorText) ? kErrorText[i].detail : "unknown";
}

// ---- bootargs -----------------------------------------------------------------------

bool bootargs_wellformed(std::string_view s) {
  bool quoted = false;
  for (char ch : s) {
    const auto u = static_cast<unsigned char>(ch);
    if ((u < 0x20 && ch != '\t' && ch != '\n') || u > 0x7e) return false;
    if (ch == '"') quoted = !quoted;
  }
  return !quoted;
}

namespace {

bool is_space(char ch) { return ch == ' ' || ch == '\t' || ch == '\n'; }

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char ch : s) {
    if (ch < '0' || ch > '9') return false;
  }
  return true;
}

// The allow-list for non-debuggable payloads (README.md says why each).
bool allowed(std::string_view arg) {
  const size_t eq = arg.find('=');
  const std::string_view name = arg.substr(0, eq);
  const bool has_value = eq != std::string_view::npos;
  const std::string_view value = has_value ? arg.substr(eq + 1) : std::string_view();
  if (name == "console") return has_value && value.starts_with("ttyAMA");
  if (name == "earlycon") return !has_value;
  if (name == "panic") {
    return has_value && value.size() <= 8 &&
           all_digits(value.starts_with('-') ? value.substr(1) : value);
  }
  if (name == "loglevel") return has_value && value.size() == 1 && all_digits(value);
  if (name == "quiet") return !has_value;
  return false;
}

}  // namespace

std::optional<size_t> filter_bootargs(std::string_view s, std::span<char> out) {
  size_t len = 0;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_space(s[i])) ++i;
    if (i == s.size()) break;
    // One argument as Linux's next_arg() splits them: spaces inside double
    // quotes do not end it.
    const size_t start = i;
    bool quoted = false;
    while (i < s.size() && (quoted || !is_space(s[i]))) {
      if (s[i] == '"') quoted = !quoted;
      ++i;
    }
    const std::string_view arg = s.substr(start, i - start);
    if (!allowed(arg)) continue;
    const size_t need = arg.size() + (len > 0 ? 1 : 0);
    if (need > out.size() - len) return std::nullopt;
    if (len > 0) out[len++] = ' ';
    for (char ch : arg) out[len++] = ch;
  }
  return len;
}

}  // namespace fdt

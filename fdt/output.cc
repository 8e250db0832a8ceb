#include "fdt/output.h"

#include <libfdt.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace fdt {

using namespace std::literals;

namespace {

using Unexpected = std::unexpected<BuildError>;
using Result = std::expected<void, BuildError>;

constexpr uint32_t kGicSpi = 0, kGicPpi = 1;
// The template nests 3 deep (/avf/untrusted); the walk recurses per level.
constexpr size_t kMaxTemplateDepth = 4;
// The most properties a template node has (/pcie@10000000 has 14).
constexpr size_t kMaxTemplateProps = 24;
// libfdt's sequential writer zeroes its whole buffer first (fdt_create), and
// the firmware gives it the rest of the 2 MiB DT window: the first attempt
// gets only this much of `out`, twice what the trees VMMs write need (QEMU's
// own, 32 virtio-mmio devices and all, rebuilds to under 8 KiB). An output
// that does not fit (a tree with many large /avf values) is written again
// into the whole of `out`.
constexpr size_t kFirstAttempt = 16 * 1024;

// Each property's name goes into the strings block anew. Finding it among
// the names written so far (libfdt's default) compares it at every byte of
// the block (fdt_find_string_), which nearly doubled the rebuild's cost
// (measured on the host: 199 k -> 370 k instructions for the `pvm run` tree,
// 0.4 M -> 1.1 M for QEMU's). The strings block is larger (by about 100 bytes
// for the `pvm run` tree); the tree is as valid.
constexpr uint32_t kCreateFlags = FDT_CREATE_FLAG_NO_NAME_DEDUP;

// A libfdt sequential-write failure: no room, or a misuse of the writer (a
// bug of this file's).
BuildError from_libfdt_sw(int err) {
  return err == -FDT_ERR_NOSPACE ? BuildError::kNoSpace : BuildError::kInconsistent;
}

// ---- property values ----------------------------------------------------------------

// Big-endian cells and bytes into one property value (the space libfdt's
// fdt_property_placeholder reserved); a write past its end is dropped, and
// full() says whether the value was written exactly.
class Out {
 public:
  explicit Out(std::span<std::byte> b) : p_(b.data()), end_(b.data() + b.size()) {}
  // All of the value written, and nothing more.
  bool full() const { return ok_ && p_ == end_; }

  void u32(uint32_t v) {
    if (std::byte* p = take(4)) {
      const fdt32_t be = cpu_to_fdt32(v);
      std::memcpy(p, &be, 4);
    }
  }
  void u64(uint64_t v) {
    u32(static_cast<uint32_t>(v >> 32));
    u32(static_cast<uint32_t>(v));
  }
  void bytes(std::span<const std::byte> v) {
    if (v.empty()) return;
    if (std::byte* p = take(v.size())) std::memcpy(p, v.data(), v.size());
  }
  void zeros(size_t n) {
    if (std::byte* p = take(n)) std::memset(p, 0, n);
  }

 private:
  std::byte* take(size_t n) {
    if (!ok_ || n > static_cast<size_t>(end_ - p_)) {
      ok_ = false;
      return nullptr;
    }
    std::byte* p = p_;
    p_ += n;
    return p;
  }

  std::byte* p_;
  std::byte* end_;
  bool ok_ = true;
};

std::span<const std::byte> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

// "<prefix>@<addr in lowercase hex>" (DTSpec 2.2.1.1: the unit address is
// reg's first address) into `buf`, NUL-terminated; returns its length.
// `prefix` is a template node's name or one of this file's constants; a
// longer one is cut so that prefix, '@', 16 digits and the NUL fit.
size_t unit_name(std::span<char, 48> buf, std::string_view prefix, uint64_t addr) {
  size_t n = 0;
  for (char ch : prefix.substr(0, buf.size() - 1 - 16 - 1)) buf[n++] = ch;
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

// ---- what the rebuild writes --------------------------------------------------------

// The validated values and what they are written with.
struct Inputs {
  Inputs(const VmPlatform& platform, const OutputOptions& options) : v(platform), o(options) {}
  const VmPlatform& v;
  const OutputOptions& o;
  uint32_t gic_phandle = 0;                 // the template GIC's
  uint32_t dma_pool_phandle = 0;            // the template DMA pool's
  std::string_view bootargs;                // as written (filtered unless debuggable); empty: none
  std::array<char, kMaxBootargs> filtered;  // only the first bootargs.size() are written
  std::array<char, 48> stdout_path{};
  size_t stdout_len = 0;
};

// Writes a property value of exactly the size its Set says.
using WriteFn = void (*)(const Inputs&, Out&, size_t arg);

// One property the rebuild writes into a template node: in place of the
// template's property of that name, or, when the node has none, added before
// the node's other properties. Either `write` or `bytes` (then zero-filled
// to `size`: a string's NUL). Plain members: an Edit's unused slots stay
// unwritten.
struct Set {
  const char* name;
  uint32_t name_size;
  uint32_t size;
  WriteFn write;
  size_t arg;
  const std::byte* bytes;
  size_t bytes_size;

  std::string_view key() const { return {name, name_size}; }
};

inline constexpr size_t kMaxSets = kMaxAvfProps;

// What the rebuild does with one template node.
struct Edit {
  bool keep = true;
  // Set: the node is renamed "<its template name>@<unit>".
  std::optional<uint64_t> unit;
  // Added ones appear in this order, before the template's properties.
  std::array<Set, kMaxSets> sets;
  size_t set_count = 0;
  std::array<std::string_view, 2> drops;  // template properties left out
  size_t drop_count = 0;

  // More than fits is a bug of this file's: it marks the edit, and the
  // rebuild refuses (kInconsistent) instead of writing past the arrays.
  bool overflow = false;
  void add(const Set& s) {
    if (set_count == sets.size()) {
      overflow = true;
      return;
    }
    sets[set_count++] = s;
  }
  void drop(std::string_view name) {
    if (drop_count == drops.size()) {
      overflow = true;
      return;
    }
    drops[drop_count++] = name;
  }
};

void write_ranges(Out& out, std::span<const base::Range> ranges) {
  // reg-like values in the template root's 2 + 2 cells.
  for (const auto& r : ranges) {
    out.u64(r.base);
    out.u64(r.size);
  }
}

void write_spi(Out& out, const Device& d) {
  out.u32(kGicSpi);
  out.u32(d.irq.number);
  out.u32(d.irq.trigger);
}

Set cells(std::string_view name, size_t cells, WriteFn write, size_t arg = 0) {
  return Set{name.data(),
             static_cast<uint32_t>(name.size()),
             static_cast<uint32_t>(4 * cells),
             write,
             arg,
             nullptr,
             0};
}
Set bytes(std::string_view name, std::span<const std::byte> b) {
  return Set{name.data(),
             static_cast<uint32_t>(name.size()),
             static_cast<uint32_t>(b.size()),
             nullptr,
             0,
             b.data(),
             b.size()};
}
Set string(std::string_view name, std::string_view s) {
  Set set = bytes(name, as_bytes(s));
  set.size = static_cast<uint32_t>(s.size() + 1);
  return set;
}

// The template nodes the rebuild edits (fdt/template/platform.dts), by name.
enum class Kind : uint8_t {
  kCopy,  // copied as it is, with its subnodes
  kRoot,
  kChosen,
  kMemory,
  kReserved,
  kDice,
  kDmaPool,
  kCpus,
  kCpu,
  kPsci,
  kTimer,
  kGic,
  kClock,
  kUart,
  kVirtio,
  kPcie,
  kAvf,
  kUntrusted,
};

// Whether `name` is `want`.
bool name_is(std::string_view name, std::string_view want) {
  if (name.size() != want.size()) return false;
  for (size_t i = 0; i < want.size(); ++i) {
    if (name[i] != want[i]) return false;
  }
  return true;
}

// A node's name without its unit address (DTSpec 2.2.1: node-name@unit-address).
std::string_view node_name(std::string_view full) {
  const size_t at = full.find('@');
  return at == std::string_view::npos ? full : full.substr(0, at);
}

// The template's UART pattern, and /chosen/stdout-path's path to one of them.
constexpr std::string_view kUartNode = "pl011"sv;
constexpr std::string_view kStdoutPrefix = "/pl011"sv;
static_assert(kStdoutPrefix.substr(1) == kUartNode);

// The kind of a template subnode named `full` of a `parent` node: by its
// name alone, never by its unit address (a placeholder the rebuild rewrites).
Kind classify(Kind parent, std::string_view full) {
  struct Named {
    std::string_view name;
    Kind kind;
  };
  static constexpr Named kRootNodes[] = {
      {"virtio_mmio"sv, Kind::kVirtio},  // most of the template
      {kUartNode, Kind::kUart},
      {"chosen"sv, Kind::kChosen},
      {"memory"sv, Kind::kMemory},
      {"reserved-memory"sv, Kind::kReserved},
      {"cpus"sv, Kind::kCpus},
      {"psci"sv, Kind::kPsci},
      {"timer"sv, Kind::kTimer},
      {"intc"sv, Kind::kGic},
      {"apb-pclk"sv, Kind::kClock},
      {"pcie"sv, Kind::kPcie},
      {"avf"sv, Kind::kAvf},
  };
  const std::string_view name = node_name(full);
  switch (parent) {
    case Kind::kRoot:
      for (const Named& n : kRootNodes) {
        if (name_is(name, n.name)) return n.kind;
      }
      return Kind::kCopy;
    case Kind::kReserved:
      if (name_is(name, "dice"sv)) return Kind::kDice;
      if (name_is(name, "restricted_dma_reserved"sv)) return Kind::kDmaPool;
      return Kind::kCopy;
    case Kind::kCpus:
      return Kind::kCpu;  // the pattern of every cpu
    case Kind::kAvf:
      return name_is(name, "untrusted"sv) ? Kind::kUntrusted : Kind::kCopy;
    default:
      return Kind::kCopy;  // and so are a copied node's subnodes
  }
}

// ---- the edit of each template node -----------------------------------------------------
//
// One function per kind of template node the rebuild changes, saying what it
// writes there from the validated values. A set the template node has keeps
// that property's place; the others are added before the node's properties
// in the order the function adds them. The functions of the pattern nodes
// (cpu, pl011, virtio_mmio) take the index of the device they write.

// /memory@<lowest base>: every validated range.
void edit_memory(const VmPlatform& v, Edit& e) {
  e.unit = v.memory[0].base;
  e.add(cells("reg"sv, 4 * v.memory.size(),
              [](const Inputs& i, Out& out, size_t) { write_ranges(out, i.v.memory.span()); }));
}

// /reserved-memory/dice@<handover>: where the firmware put the DICE handover.
void edit_dice(const OutputOptions& o, Edit& e) {
  e.unit = o.dice_handover.base;
  e.add(cells("reg"sv, 4, [](const Inputs& i, Out& out, size_t) {
    write_ranges(out, std::span(&i.o.dice_handover, 1));
  }));
}

// /reserved-memory/restricted_dma_reserved: the DMA pool, a fixed range or a
// size (and an alignment, when the input gave one) for the guest to place;
// left out without one.
void edit_dma_pool(const VmPlatform& v, Edit& e) {
  if (!v.dma_pool) {
    e.keep = false;
    return;
  }
  if (v.dma_pool->reg) {
    e.unit = v.dma_pool->reg->base;
    e.add(cells("reg"sv, 4, [](const Inputs& i, Out& out, size_t) {
      write_ranges(out, std::span(&*i.v.dma_pool->reg, 1));
    }));
    e.drop("size"sv);
    e.drop("alignment"sv);
    return;
  }
  if (v.dma_pool->alignment != 0) {
    e.add(cells("alignment"sv, 2,
                [](const Inputs& i, Out& out, size_t) { out.u64(i.v.dma_pool->alignment); }));
  } else {
    e.drop("alignment"sv);
  }
  e.add(cells("size"sv, 2, [](const Inputs& i, Out& out, size_t) { out.u64(i.v.dma_pool->size); }));
}

// /cpus/cpu@<mpidr>, the `index`-th cpu.
void edit_cpu(const VmPlatform& v, size_t index, Edit& e) {
  if (index >= v.cpus.size()) {
    e.keep = false;
    return;
  }
  e.unit = v.cpus[index].mpidr;
  e.add(string("compatible"sv, v.cpus[index].compatible));
  e.add(cells(
      "reg"sv, 1, [](const Inputs& i, Out& out, size_t n) { out.u32(i.v.cpus[n].mpidr); }, index));
}

// /psci: the firmware's own conduit (validation refused any other).
void edit_psci(const VmPlatform& v, Edit& e) {
  e.add(string("method"sv, v.psci == PsciMethod::kHvc ? "hvc"sv : "smc"sv));
}

// /timer's interrupts: the four validated PPIs.
void write_timer_ppis(const Inputs& i, Out& out, size_t) {
  // GICv2 PPIs name the CPUs they reach (bits 8-15); GICv3 has no such mask.
  const uint32_t mask = i.v.gic.version == GicVersion::kV2
                            ? ((1u << i.v.cpus.size()) - 1) << 8  // count <= 8 for v2
                            : 0;
  for (const Interrupt& ppi : i.v.timer.ppis) {
    out.u32(kGicPpi);
    out.u32(ppi.number);
    out.u32(ppi.trigger | mask);
  }
}

void edit_timer(Edit& e) { e.add(cells("interrupts"sv, 12, write_timer_ppis)); }

// /intc@<distributor>: the template's GICv2, or made a GICv3 (its
// compatible, the redistributor regions).
void edit_gic(const Gic& g, Edit& e) {
  e.unit = g.distributor.base;
  if (g.version == GicVersion::kV2) {
    e.add(cells("reg"sv, 8, [](const Inputs& i, Out& out, size_t) {
      const base::Range regs[] = {i.v.gic.distributor, i.v.gic.cpu_interface};
      write_ranges(out, regs);
    }));
    return;
  }
  if (g.redistributors.size() > 1) {
    e.add(cells("#redistributor-regions"sv, 1, [](const Inputs& i, Out& out, size_t) {
      out.u32(static_cast<uint32_t>(i.v.gic.redistributors.size()));
    }));
  }
  e.add(cells("reg"sv, 4 * (1 + g.redistributors.size()), [](const Inputs& i, Out& out, size_t) {
    write_ranges(out, std::span(&i.v.gic.distributor, 1));
    write_ranges(out, i.v.gic.redistributors.span());
  }));
  e.add(string("compatible"sv, "arm,gic-v3"sv));
}

// The interrupts and reg of the `index`-th device of the platform's
// `Devices` list (uarts or virtio).
template <auto Devices>
void add_device(Edit& e, size_t index) {
  e.add(cells(
      "interrupts"sv, 3,
      [](const Inputs& i, Out& out, size_t n) { write_spi(out, (i.v.*Devices)[n]); }, index));
  e.add(cells(
      "reg"sv, 4,
      [](const Inputs& i, Out& out, size_t n) {
        write_ranges(out, std::span(&(i.v.*Devices)[n].reg, 1));
      },
      index));
}

// /pl011@<base>, the `index`-th UART.
void edit_uart(const VmPlatform& v, size_t index, Edit& e) {
  if (index >= v.uarts.size()) {
    e.keep = false;
    return;
  }
  e.unit = v.uarts[index].reg.base;
  add_device<&VmPlatform::uarts>(e, index);
}

// /virtio_mmio@<base>, the `index`-th virtio-mmio device.
void edit_virtio(const VmPlatform& v, size_t index, Edit& e) {
  if (index >= v.virtio.size()) {
    e.keep = false;
    return;
  }
  e.unit = v.virtio[index].reg.base;
  // With a DMA pool, every device does its DMA through it (memory-region,
  // Linux bindings/reserved-memory/shared-dma-pool.yaml).
  if (v.dma_pool) {
    e.add(cells("memory-region"sv, 1,
                [](const Inputs& i, Out& out, size_t) { out.u32(i.dma_pool_phandle); }));
  }
  add_device<&VmPlatform::virtio>(e, index);
}

// /pcie's interrupt-map: one entry per INTx route, child unit address (3),
// pin, GIC phandle, (the template GIC has #address-cells = 0), SPI
// specifier (3).
void write_pci_interrupt_map(const Inputs& i, Out& out, size_t) {
  for (const PciIrq& irq : i.v.pci->irqs) {
    out.u32(irq.device);
    out.u32(0);
    out.u32(0);
    out.u32(irq.pin);
    out.u32(i.gic_phandle);
    out.u32(kGicSpi);
    out.u32(irq.irq.number);
    out.u32(irq.irq.trigger);
  }
}

// /pcie's ranges (IEEE 1275 PCI binding): phys.hi (space, prefetchable),
// bus address, CPU address (root: 2 cells), size (2 cells).
void write_pci_ranges(const Inputs& i, Out& out, size_t) {
  for (const PciRange& r : i.v.pci->ranges) {
    out.u32(static_cast<uint32_t>(r.space) << 24 | (r.prefetchable ? 1u << 30 : 0));
    out.u64(r.bus_address);
    out.u64(r.cpu.base);
    out.u64(r.cpu.size);
  }
}

// /pcie@<ECAM base>: the validated host bridge (INTx only); left out without
// one.
void edit_pcie(const VmPlatform& v, Edit& e) {
  if (!v.pci) {
    e.keep = false;
    return;
  }
  const Pci& pci = *v.pci;
  e.unit = pci.ecam.base;
  e.add(cells("interrupt-map"sv, 8 * pci.irqs.size(), write_pci_interrupt_map));
  e.add(cells("interrupt-map-mask"sv, 4, [](const Inputs& i, Out& out, size_t) {
    for (uint32_t m : i.v.pci->irq_mask) out.u32(m);
  }));
  e.add(cells("ranges"sv, 7 * pci.ranges.size(), write_pci_ranges));
  e.add(cells("bus-range"sv, 2, [](const Inputs& i, Out& out, size_t) {
    out.u32(i.v.pci->bus_first);
    out.u32(i.v.pci->bus_last);
  }));
  e.add(cells("reg"sv, 4, [](const Inputs& i, Out& out, size_t) {
    write_ranges(out, std::span(&i.v.pci->ecam, 1));
  }));
  // The template's memory-region points at the DMA pool.
  if (!v.dma_pool) e.drop("memory-region"sv);
}

// /chosen: the validated bootargs (filtered unless debuggable), stdout-path
// and initrd, and what the firmware decides (seeds, avf flags).
void edit_chosen(const Inputs& in, Edit& e) {
  const VmPlatform& v = in.v;
  const OutputOptions& o = in.o;
  if (!in.bootargs.empty()) e.add(string("bootargs"sv, in.bootargs));
  if (v.stdout_uart) {
    e.add(string("stdout-path"sv, std::string_view(in.stdout_path.data(), in.stdout_len)));
  }
  if (v.initrd) {
    e.add(cells("linux,initrd-start"sv, 2,
                [](const Inputs& i, Out& out, size_t) { out.u64(i.v.initrd->base); }));
    e.add(cells("linux,initrd-end"sv, 2,
                [](const Inputs& i, Out& out, size_t) { out.u64(i.v.initrd->end()); }));
  }
  if (o.kaslr_seed) {
    e.add(cells("kaslr-seed"sv, 2,
                [](const Inputs& i, Out& out, size_t) { out.u64(*i.o.kaslr_seed); }));
  }
  if (!o.rng_seed.empty()) e.add(bytes("rng-seed"sv, o.rng_seed));
  if (o.strict_boot) e.add(bytes("avf,strict-boot"sv, {}));
  if (o.new_instance) e.add(bytes("avf,new-instance"sv, {}));
}

// /avf: kept when it has something to carry.
void edit_avf(const VmPlatform& v, Edit& e) {
  e.keep = !v.avf_untrusted.empty() || v.secretkeeper_public_key;
  if (v.secretkeeper_public_key) {
    e.add(bytes("secretkeeper_public_key"sv, *v.secretkeeper_public_key));
  }
}

// /avf/untrusted: the validated properties as opaque values, in the input's
// order; a name given twice appears once, where its last occurrence is,
// with its first value.
Result edit_untrusted(const VmPlatform& v, Edit& e) {
  e.keep = !v.avf_untrusted.empty();
  for (size_t i = v.avf_untrusted.size(); i-- > 0;) {
    const AvfProperty& prop = v.avf_untrusted[i];
    if (prop.name.empty() || prop.name.size() > kMaxPropName ||
        prop.name.find('\0') != std::string_view::npos) {
      return Unexpected(BuildError::kInconsistent);
    }
    bool seen = false;
    for (size_t j = 0; j < e.set_count; ++j) {
      if (e.sets[j].key() != prop.name) continue;
      e.sets[j] = bytes(prop.name, prop.value);
      seen = true;
    }
    if (seen) continue;
    if (e.set_count == e.sets.size()) return Unexpected(BuildError::kInconsistent);
    // Each new name goes first.
    for (size_t j = e.set_count; j > 0; --j) e.sets[j] = e.sets[j - 1];
    e.sets[0] = bytes(prop.name, prop.value);
    ++e.set_count;
  }
  return {};
}

// The edit of the `index`-th template node of `kind`.
Result edit(const Inputs& in, Kind kind, size_t index, Edit& e) {
  const VmPlatform& v = in.v;
  switch (kind) {
    case Kind::kCopy:
    case Kind::kRoot:
    case Kind::kReserved:
    case Kind::kCpus:
      return {};  // as the template has them
    case Kind::kMemory:
      edit_memory(v, e);
      return {};
    case Kind::kDice:
      edit_dice(in.o, e);
      return {};
    case Kind::kDmaPool:
      edit_dma_pool(v, e);
      return {};
    case Kind::kCpu:
      edit_cpu(v, index, e);
      return {};
    case Kind::kPsci:
      edit_psci(v, e);
      return {};
    case Kind::kTimer:
      edit_timer(e);
      return {};
    case Kind::kGic:
      edit_gic(v.gic, e);
      return {};
    case Kind::kClock:
      e.keep = !v.uarts.empty();  // the UARTs' clock
      return {};
    case Kind::kUart:
      edit_uart(v, index, e);
      return {};
    case Kind::kVirtio:
      edit_virtio(v, index, e);
      return {};
    case Kind::kPcie:
      edit_pcie(v, e);
      return {};
    case Kind::kChosen:
      edit_chosen(in, e);
      return {};
    case Kind::kAvf:
      edit_avf(v, e);
      return {};
    case Kind::kUntrusted:
      return edit_untrusted(v, e);
  }
  return {};
}

// ---- the pass over the template ---------------------------------------------------------

// The template read through libfdt, node by node, and the output written
// through its sequential-write API (fdt_begin_node, fdt_property,
// fdt_end_node) in the same pass.
class Rebuild {
 public:
  Rebuild(const void* tmpl, Inputs& in, void* out) : t_(tmpl), in_(in), out_(out) {}

  Result run() {
    TemplateNode root;
    root.name = fdt_get_name(t_, 0, nullptr);
    if (root.name == nullptr) return Unexpected(BuildError::kBadTemplate);
    int none = 0;
    if (auto r = step(root, none); !r) return r;
    if (auto r = node(root, Kind::kRoot, 0, 0); !r) return r;
    // Every validated value found its node.
    const VmPlatform& v = in_.v;
    if (!seen(Kind::kChosen) || !seen(Kind::kMemory) || !seen(Kind::kDice) || !seen(Kind::kPsci) ||
        !seen(Kind::kTimer) || !seen(Kind::kGic) || count(Kind::kCpu) != v.cpus.size() ||
        count(Kind::kUart) != v.uarts.size() || count(Kind::kVirtio) != v.virtio.size() ||
        (v.dma_pool && !seen(Kind::kDmaPool)) || (v.pci && !seen(Kind::kPcie)) ||
        (!v.avf_untrusted.empty() && !seen(Kind::kUntrusted)) ||
        (v.secretkeeper_public_key && !seen(Kind::kAvf))) {
      return Unexpected(BuildError::kInconsistent);
    }
    return {};
  }

 private:
  // A template property as libfdt gives it (its name NUL-terminated in the
  // template's strings block).
  struct Prop {
    const char* name;
    std::string_view key;  // the name, measured once
    const void* value;
    int len;
  };
  // A template node as libfdt reads it, read once however many output nodes
  // it makes (a cpu, pl011 or virtio_mmio pattern makes one per device).
  struct TemplateNode {
    int offset = 0;
    const char* name = nullptr;  // NUL-terminated
    int first_child = -FDT_ERR_NOTFOUND;
    bool read = false;  // the properties below
    std::array<Prop, kMaxTemplateProps> props;
    size_t count = 0;
  };

  bool seen(Kind k) const { return count(k) != 0; }
  static std::optional<size_t> pattern_of(Kind k) {
    switch (k) {
      case Kind::kCpu:
        return 0;
      case Kind::kUart:
        return 1;
      case Kind::kVirtio:
        return 2;
      default:
        return std::nullopt;
    }
  }
  size_t device_count(Kind k) const {
    return k == Kind::kCpu    ? in_.v.cpus.size()
           : k == Kind::kUart ? in_.v.uarts.size()
                              : in_.v.virtio.size();
  }
  size_t count(Kind k) const { return counts_[static_cast<size_t>(k)]; }

  static Result ok(int err) {
    if (err != 0) return Unexpected(from_libfdt_sw(err));
    return {};
  }

  // Where a walk goes after template node `tn`: into its first subnode,
  // else on to its next sibling (both nothing when there is none). One
  // fdt_next_node call: a leaf costs no fdt_first_subnode walk on top of
  // the fdt_next_subnode one.
  Result step(TemplateNode& tn, int& sibling) {
    // The depth as fdt_next_subnode counts it: 1 at `tn`'s level, 2 inside
    // it, below 1 once its parent ends.
    int depth = 1;
    const int next = fdt_next_node(t_, tn.offset, &depth);
    if (next < 0 && next != -FDT_ERR_NOTFOUND) return Unexpected(BuildError::kBadTemplate);
    tn.first_child = next >= 0 && depth == 2 ? next : -FDT_ERR_NOTFOUND;
    sibling = next >= 0 && depth == 1 ? next : -FDT_ERR_NOTFOUND;
    return {};
  }

  // The properties of the template node at `tn.offset` (read once, when the
  // node is written at all).
  Result read_props(TemplateNode& tn) {
    if (tn.read) return {};
    tn.read = true;
    int p;
    fdt_for_each_property_offset(p, t_, tn.offset) {
      if (tn.count == tn.props.size()) return Unexpected(BuildError::kBadTemplate);
      Prop& prop = tn.props[tn.count++];
      prop.value = fdt_getprop_by_offset(t_, p, &prop.name, &prop.len);
      if (prop.value == nullptr || prop.name == nullptr) {
        return Unexpected(BuildError::kBadTemplate);
      }
      prop.key = prop.name;
    }
    if (p != -FDT_ERR_NOTFOUND) return Unexpected(BuildError::kBadTemplate);
    return {};
  }

  // The node's phandle, as fdt_get_phandle finds it (without walking the
  // properties read already twice more), or 0.
  static uint32_t phandle(const TemplateNode& tn) {
    for (std::string_view name : {"phandle"sv, "linux,phandle"sv}) {
      for (size_t j = 0; j < tn.count; ++j) {
        const Prop& p = tn.props[j];
        if (p.key != name) continue;
        if (p.len != 4) break;
        return fdt32_ld(static_cast<const fdt32_t*>(p.value));
      }
    }
    return 0;
  }

  // A set's value under `name` (NUL-terminated), exactly s.size bytes.
  Result write(const char* name, const Set& s) {
    void* value = nullptr;
    if (auto r = ok(fdt_property_placeholder(out_, name, static_cast<int>(s.size), &value)); !r) {
      return r;
    }
    Out w({static_cast<std::byte*>(value), s.size});
    if (s.write != nullptr) {
      s.write(in_, w, s.arg);
    } else {
      w.bytes({s.bytes, s.bytes_size});
      w.zeros(s.size - s.bytes_size);
    }
    if (!w.full()) return Unexpected(BuildError::kInconsistent);
    return {};
  }

  // A set the template node lacks, under its own name.
  Result write_added(const Set& s) {
    // Names are constants of this file's or validated /avf names, none longer
    // than kMaxPropName; libfdt wants them NUL-terminated.
    std::array<char, kMaxPropName + 1> name{};
    if (s.name_size == 0 || s.name_size > kMaxPropName) {
      return Unexpected(BuildError::kInconsistent);
    }
    std::memcpy(name.data(), s.name, s.name_size);
    return write(name.data(), s);
  }

  // The properties of template node `tn`, edited.
  Result props(const TemplateNode& tn, const Edit& e) {
    // Which sets replace a template property (the first of that name) and
    // which properties are dropped.
    constexpr size_t kNone = SIZE_MAX;
    std::array<size_t, kMaxSets> in_place;  // the index in tn.props, or kNone
    std::array<const Set*, kMaxTemplateProps> replaced{};
    std::array<bool, kMaxTemplateProps> dropped{};
    for (size_t i = 0; i < e.set_count; ++i) {
      in_place[i] = kNone;
      for (size_t j = 0; j < tn.count && in_place[i] == kNone; ++j) {
        if (e.sets[i].key() == tn.props[j].key) in_place[i] = j;
      }
      if (in_place[i] != kNone) replaced[in_place[i]] = &e.sets[i];
    }
    for (size_t i = 0; i < e.drop_count; ++i) {
      for (size_t j = 0; j < tn.count; ++j) {
        if (e.drops[i] == tn.props[j].key) {
          dropped[j] = true;
          break;
        }
      }
    }

    for (size_t i = 0; i < e.set_count; ++i) {
      if (in_place[i] != kNone) continue;
      if (auto r = write_added(e.sets[i]); !r) return r;
    }
    for (size_t j = 0; j < tn.count; ++j) {
      if (dropped[j] && replaced[j] == nullptr) continue;
      const Prop& prop = tn.props[j];
      const auto r = replaced[j] != nullptr
                         ? write(prop.name, *replaced[j])
                         : ok(fdt_property(out_, prop.name, prop.value, prop.len));
      if (!r) return r;
    }
    return {};
  }

  // The subnodes of template node `parent` (of `kind`), each edited.
  Result children(const TemplateNode& parent, Kind kind, size_t depth) {
    std::array<bool, 3> patterns_used{};  // cpu, pl011, virtio_mmio
    int child = parent.first_child;
    while (child >= 0) {
      TemplateNode tn;
      tn.offset = child;
      int len = 0;
      tn.name = fdt_get_name(t_, child, &len);
      if (tn.name == nullptr) return Unexpected(BuildError::kBadTemplate);
      int sibling = 0;
      if (auto r = step(tn, sibling); !r) return r;
      const Kind k = classify(kind, {tn.name, static_cast<size_t>(len)});
      // A pattern node: once per validated device, in their order (a second
      // template node of the kind is left out).
      size_t instances = 1;
      if (const auto pattern = pattern_of(k)) {
        instances = patterns_used[*pattern] ? 0 : device_count(k);
        patterns_used[*pattern] = true;
      }
      for (size_t i = 0; i < instances; ++i) {
        if (auto r = node(tn, k, i, depth + 1); !r) return r;
      }
      child = tn.first_child >= 0 ? fdt_next_subnode(t_, child) : sibling;
    }
    if (child != -FDT_ERR_NOTFOUND) return Unexpected(BuildError::kBadTemplate);
    return {};
  }

  // Template node `tn`, of `kind`, edited: the `index`-th of its kind.
  Result node(TemplateNode& tn, Kind kind, size_t index, size_t depth) {
    if (depth > kMaxTemplateDepth) return Unexpected(BuildError::kBadTemplate);
    ++counts_[static_cast<size_t>(kind)];
    // The phandles the DMA users and PCI's interrupt-map point at are the
    // template's: those nodes come first.
    if ((kind == Kind::kVirtio && in_.v.dma_pool && in_.dma_pool_phandle == 0) ||
        (kind == Kind::kPcie && in_.v.pci && in_.gic_phandle == 0)) {
      return Unexpected(BuildError::kInconsistent);
    }
    Edit e;
    if (auto r = edit(in_, kind, index, e); !r) return r;
    if (e.overflow) return Unexpected(BuildError::kInconsistent);
    if (!e.keep) return {};
    if (auto r = read_props(tn); !r) return r;
    if (kind == Kind::kGic) in_.gic_phandle = phandle(tn);
    if (kind == Kind::kDmaPool) in_.dma_pool_phandle = phandle(tn);

    const char* name = tn.name;
    std::array<char, 48> renamed;
    if (e.unit) {
      unit_name(renamed, node_name(tn.name), *e.unit);
      name = renamed.data();
    }
    if (auto r = ok(fdt_begin_node(out_, name)); !r) return r;
    if (auto r = props(tn, e); !r) return r;
    if (auto r = children(tn, kind, depth); !r) return r;
    return ok(fdt_end_node(out_));
  }

  const void* const t_;
  Inputs& in_;
  void* const out_;
  std::array<size_t, static_cast<size_t>(Kind::kUntrusted) + 1> counts_{};
};

// The whole output into `buf` through libfdt's sequential writer: the
// template's reservation map, the edited nodes; packed by fdt_finish. The
// bytes of `buf` after the tree are left zero.
std::expected<size_t, BuildError> write_tree(const void* tmpl, Inputs& in,
                                             std::span<std::byte> buf) {
  void* out = buf.data();
  if (auto err = fdt_create_with_flags(out, static_cast<int>(buf.size()), kCreateFlags); err != 0) {
    return Unexpected(from_libfdt_sw(err));
  }
  const int reserved = fdt_num_mem_rsv(tmpl);
  if (reserved < 0) return Unexpected(BuildError::kBadTemplate);
  for (int i = 0; i < reserved; ++i) {
    uint64_t address = 0, size = 0;
    if (fdt_get_mem_rsv(tmpl, i, &address, &size) != 0) {
      return Unexpected(BuildError::kBadTemplate);
    }
    if (auto err = fdt_add_reservemap_entry(out, address, size); err != 0) {
      return Unexpected(from_libfdt_sw(err));
    }
  }
  if (auto err = fdt_finish_reservemap(out); err != 0) return Unexpected(from_libfdt_sw(err));
  Rebuild rebuild(tmpl, in, out);
  if (auto r = rebuild.run(); !r) return Unexpected(r.error());
  if (auto err = fdt_finish(out); err != 0) return Unexpected(from_libfdt_sw(err));
  // fdt_finish writes version 17, compatible with 16, as dtc does; the boot
  // CPU is the template's.
  fdt_set_boot_cpuid_phys(out, fdt_boot_cpuid_phys(tmpl));
  const size_t size = fdt_totalsize(out);
  // The writer kept the strings at the end of `buf` until fdt_finish moved them.
  std::memset(buf.data() + size, 0, buf.size() - size);
  return size;
}

bool handover_ok(const VmPlatform& v, const base::Range& h) {
  if (h.empty() || h.base % kPage != 0 || h.size % kPage != 0) return false;
  if (!v.memory_containing(h)) return false;
  if (v.kernel && h.overlaps(base::page_span(*v.kernel))) return false;
  if (v.initrd && h.overlaps(base::page_span(*v.initrd))) return false;
  if (v.dma_pool && v.dma_pool->reg && h.overlaps(*v.dma_pool->reg)) return false;
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
    case BuildError::kInconsistent:
      return "OUTPUT_INCONSISTENT";
  }
  return "OUTPUT_UNKNOWN";
}

const char* describe(BuildError e) {
  switch (e) {
    case BuildError::kBadTemplate:
      return "the firmware's template is not a device tree libfdt can read";
    case BuildError::kNoSpace:
      return "the rebuilt tree does not fit the room left for it";
    case BuildError::kBadRngSeed:
      return "the rng-seed is not 32 to 64 bytes";
    case BuildError::kBadHandover:
      return "the DICE handover page is outside RAM or overlaps the payload";
    case BuildError::kInconsistent:
      return "the template or the platform is not what the rebuild expects (a firmware bug)";
  }
  return "unknown rebuild error";
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
  // The template is the firmware's own; libfdt reads it (and refuses what it
  // cannot read as the walk goes).
  const void* tmpl = template_dtb.data();
  if (template_dtb.size() < sizeof(struct fdt_header) || fdt_check_header(tmpl) != 0 ||
      fdt_totalsize(tmpl) > template_dtb.size()) {
    return Unexpected(BuildError::kBadTemplate);
  }
  if (platform.memory.empty() ||
      (platform.stdout_uart && *platform.stdout_uart >= platform.uarts.size())) {
    return Unexpected(BuildError::kInconsistent);
  }
  // libfdt sizes are int; no output comes near.
  if (out.size() > kMaxTreeSize) out = out.first(kMaxTreeSize);

  Inputs in(platform, options);
  if (platform.bootargs) {
    if (options.debuggable) {
      in.bootargs = *platform.bootargs;
    } else {
      // Never longer than its input, which validate_platform() bounds.
      auto len = filter_bootargs(*platform.bootargs, in.filtered);
      if (!len) return Unexpected(BuildError::kInconsistent);
      in.bootargs = std::string_view(in.filtered.data(), *len);
    }
  }
  if (platform.stdout_uart) {
    // As the UART's node is named.
    in.stdout_len =
        unit_name(in.stdout_path, kStdoutPrefix, platform.uarts[*platform.stdout_uart].reg.base);
  }

  const size_t first = std::min(out.size(), kFirstAttempt);
  auto size = write_tree(tmpl, in, out.first(first));
  if (!size && size.error() == BuildError::kNoSpace && first < out.size()) {
    size = write_tree(tmpl, in, out);
  }
  return size;
}

}  // namespace fdt

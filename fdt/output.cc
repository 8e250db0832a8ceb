#include "fdt/output.h"

#include <array>
#include <bit>
#include <cstring>

#include "structure.h"

namespace fdt {

using namespace std::literals;

namespace {

using internal::kBeginNode;
using internal::kEnd;
using internal::kEndNode;
using internal::kNop;
using internal::kProp;
using internal::load_be32;
using internal::Structure;

using Unexpected = std::unexpected<BuildError>;
using Result = std::expected<void, BuildError>;

constexpr uint32_t kMagic = 0xd00dfeed;
constexpr uint32_t kHeaderSize = 40;  // v17 header (DTSpec 5.2)
constexpr uint32_t kGicSpi = 0, kGicPpi = 1;
// The template nests 3 deep (/avf/untrusted); the walk recurses per level.
constexpr size_t kMaxTemplateDepth = 4;

// ---- the template -----------------------------------------------------------------

// The parts of the template the output is made of. The template is the
// firmware's own; it is still checked as far as the rebuild reads it.
struct Template {
  Structure blocks;
  std::span<const std::byte> rsvmap;  // the entries and the terminating one
  uint32_t last_comp_version;
  uint32_t boot_cpuid_phys;
};

std::optional<Template> read_template(std::span<const std::byte> t) {
  if (t.size() < kHeaderSize) return std::nullopt;
  auto field = [&](size_t i) { return load_be32(t.data() + 4 * i); };
  const uint32_t total = field(1), off_struct = field(2), off_strings = field(3);
  const uint32_t off_rsvmap = field(4), version = field(5), last_comp = field(6);
  const uint32_t size_strings = field(8), size_struct = field(9);
  auto block_ok = [&](uint32_t off, uint32_t size) {
    return off >= kHeaderSize && off <= total && size <= total - off;
  };
  if (field(0) != kMagic || total > t.size() || version < 17 || last_comp > 17 ||
      !block_ok(off_struct, size_struct) || !block_ok(off_strings, size_strings) ||
      !block_ok(off_rsvmap, 0) || off_rsvmap % 8 != 0 || off_struct % 4 != 0) {
    return std::nullopt;
  }
  // Strings::find relies on the block ending with a NUL.
  auto strings = t.subspan(off_strings, size_strings);
  if (!strings.empty() && strings.back() != std::byte{0}) return std::nullopt;
  // Reservation entries up to the one whose size is 0 (as libfdt counts them).
  size_t rsv = 0;
  for (;;) {
    if (total - off_rsvmap - rsv < 16) return std::nullopt;
    const std::byte* e = t.data() + off_rsvmap + rsv;
    rsv += 16;
    if ((load_be32(e + 8) | load_be32(e + 12)) == 0) break;
  }
  return Template{Structure(t.subspan(off_struct, size_struct), strings),
                  t.subspan(off_rsvmap, rsv), last_comp, field(7)};
}

// ---- writing ------------------------------------------------------------------------

// Sequential writes into the output buffer; the first that does not fit
// stops all further writing (ok() says so).
class Out {
 public:
  explicit Out(std::span<std::byte> b)
      : start_(b.data()), p_(b.data()), end_(b.data() + b.size()) {}
  bool ok() const { return ok_; }
  size_t pos() const { return static_cast<size_t>(p_ - start_); }

  std::byte* take(size_t n) {
    if (n > static_cast<size_t>(end_ - p_)) {
      ok_ = false;
      end_ = p_;
      return nullptr;
    }
    std::byte* p = p_;
    p_ += n;
    return p;
  }
  void u32(uint32_t v) {
    if (std::byte* p = take(4)) store_be32(p, v);
  }
  void u64(uint64_t v) {
    if (std::byte* p = take(8)) {
      store_be32(p, static_cast<uint32_t>(v >> 32));
      store_be32(p + 4, static_cast<uint32_t>(v));
    }
  }
  void bytes(std::span<const std::byte> v) {
    if (v.empty()) return;
    if (std::byte* p = take(v.size())) std::memcpy(p, v.data(), v.size());
  }
  void zeros(size_t n) {
    if (std::byte* p = take(n)) {
      for (size_t i = 0; i < n; ++i) p[i] = std::byte{0};
    }
  }
  // Zeros up to the next 32-bit boundary (DTSpec 5.4.1: tokens are aligned;
  // the structure block starts aligned).
  void pad() { zeros((4 - pos() % 4) % 4); }

  [[gnu::always_inline]] static void store_be32(std::byte* p, uint32_t v) {
    if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap32(v);
    __builtin_memcpy(p, &v, 4);
  }

 private:
  std::byte* start_;
  std::byte* p_;
  std::byte* end_;
  bool ok_ = true;
};

std::span<const std::byte> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

// The output's strings block: the template's, then the names of the
// properties the rebuild adds that the template's block lacks, in the order
// they are interned. A name is found as libfdt (fdt_find_string_) and dtc
// find it: at the first place the name and a NUL occur, which may be the
// tail of a longer name.
class Strings {
 public:
  // False when the template's block has more strings than indexed here.
  bool init(std::span<const std::byte> base) {
    base_ = base;
    for (size_t i = 0; i < base.size(); ++i) {
      if (base[i] != std::byte{0}) continue;
      if (ends_count_ == ends_.size()) return false;
      ends_[ends_count_++] = static_cast<uint32_t>(i);
    }
    return true;
  }

  // The offset of `name` (non-empty, no NUL), appended when absent; nothing
  // when there is no room for it.
  std::optional<uint32_t> offset(std::string_view name) {
    // Most lookups repeat one of a few names.
    for (const Memo& m : memo_) {
      if (m.name.size() == name.size() && (m.name.data() == name.data() || m.name == name)) {
        return m.offset;
      }
    }
    auto off = find(name);
    if (!off) {
      if (name.size() + 1 > added_.size() - added_size_) return std::nullopt;
      std::memcpy(added_.data() + added_size_, name.data(), name.size());
      added_[added_size_ + name.size()] = std::byte{0};
      off = static_cast<uint32_t>(base_.size() + added_size_);
      added_size_ += name.size() + 1;
    }
    memo_[memo_next_++ % memo_.size()] = Memo{name, *off};
    return off;
  }

  void write(Out& out) const {
    out.bytes(base_);
    out.bytes(std::span(added_).first(added_size_));
  }
  size_t size() const { return base_.size() + added_size_; }

 private:
  static bool tail_is(std::span<const std::byte> s, size_t end, std::string_view name) {
    // `name` ends just before s[end], inside the string that ends there.
    const std::byte* p = s.data() + end - name.size();
    for (size_t i = name.size(); i-- > 0;) {
      if (std::to_integer<char>(p[i]) != name[i]) return false;
    }
    return true;
  }

  std::optional<uint32_t> find(std::string_view name) const {
    // A match ends at a NUL and lies inside one string (the name has no NUL),
    // so only the NULs' positions need trying, in order.
    size_t start = 0;
    for (size_t i = 0; i < ends_count_; ++i) {
      const size_t end = ends_[i];
      if (end - start >= name.size() && tail_is(base_, end, name)) {
        return static_cast<uint32_t>(end - name.size());
      }
      start = end + 1;
    }
    // The block ends with a NUL (read_template), so no match spans into the
    // added names.
    start = 0;
    for (size_t end = 0; end < added_size_; ++end) {
      if (added_[end] != std::byte{0}) continue;
      if (end - start >= name.size() && tail_is(added_, end, name)) {
        return static_cast<uint32_t>(base_.size() + end - name.size());
      }
      start = end + 1;
    }
    return std::nullopt;
  }

  struct Memo {
    std::string_view name;
    uint32_t offset = 0;
  };

  std::span<const std::byte> base_;
  std::array<uint32_t, 128> ends_{};  // the NULs of the template's block
  size_t ends_count_ = 0;
  // Room for every name the rebuild may add, with their NULs: /chosen's
  // eight (110 bytes), "#redistributor-regions", "secretkeeper_public_key"
  // and kMaxAvfProps /avf/untrusted names.
  static constexpr size_t kAddedMax = 110 + 23 + 24 + kMaxAvfProps * (kMaxPropName + 1);
  std::array<std::byte, kAddedMax> added_{};
  size_t added_size_ = 0;
  std::array<Memo, 16> memo_{};
  size_t memo_next_ = 0;
};

// "<prefix>@<addr in lowercase hex>" (DTSpec 2.2.1.1: the unit address is
// reg's first address) into `buf`, NUL-terminated; returns its length.
// `prefix` is one of this file's constants; a longer one is cut so that
// prefix, '@', 16 digits and the NUL fit.
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
  uint32_t pool_phandle = 0;                // the template DMA pool's
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
  std::string_view prefix;  // non-empty: renamed "<prefix>@<unit>"
  uint64_t unit = 0;
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
  kPool,
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

// Whether `name` is `want` (or, with `prefix`, starts with it).
bool name_is(std::string_view name, std::string_view want, bool prefix = false) {
  if (name.size() < want.size() || (!prefix && name.size() != want.size())) return false;
  for (size_t i = 0; i < want.size(); ++i) {
    if (name[i] != want[i]) return false;
  }
  return true;
}

// The kind of a template subnode named `name` of a `parent` node.
Kind classify(Kind parent, std::string_view name) {
  struct Named {
    std::string_view name;
    Kind kind;
    bool prefix;
  };
  static constexpr Named kRootNodes[] = {
      {"virtio_mmio@"sv, Kind::kVirtio, true},  // most of the template
      {"pl011@"sv, Kind::kUart, true},
      {"chosen"sv, Kind::kChosen, false},
      {"memory@40000000"sv, Kind::kMemory, false},
      {"reserved-memory"sv, Kind::kReserved, false},
      {"cpus"sv, Kind::kCpus, false},
      {"psci"sv, Kind::kPsci, false},
      {"timer"sv, Kind::kTimer, false},
      {"intc@8000000"sv, Kind::kGic, false},
      {"apb-pclk"sv, Kind::kClock, false},
      {"pcie@10000000"sv, Kind::kPcie, false},
      {"avf"sv, Kind::kAvf, false},
  };
  switch (parent) {
    case Kind::kRoot:
      for (const Named& n : kRootNodes) {
        if (name_is(name, n.name, n.prefix)) return n.kind;
      }
      return Kind::kCopy;
    case Kind::kReserved:
      if (name_is(name, "dice@40000000"sv)) return Kind::kDice;
      if (name_is(name, "restricted_dma_reserved"sv)) return Kind::kPool;
      return Kind::kCopy;
    case Kind::kCpus:
      return Kind::kCpu;  // the pattern of every cpu
    case Kind::kAvf:
      return name_is(name, "untrusted"sv) ? Kind::kUntrusted : Kind::kCopy;
    default:
      return Kind::kCopy;  // and so are a copied node's subnodes
  }
}

// The edit of the `index`-th template node of `kind`. A set the template
// node has keeps that property's place; the others are added before the
// node's properties in the order listed (which makes the strings block get
// their names last listed first, see intern_added).
Result edit(const Inputs& in, Kind kind, size_t index, Edit& e) {
  const VmPlatform& v = in.v;
  const OutputOptions& o = in.o;
  auto add = [&](const Set& s) { e.add(s); };
  switch (kind) {
    case Kind::kCopy:
    case Kind::kRoot:
    case Kind::kReserved:
    case Kind::kCpus:
      break;
    case Kind::kMemory:
      e.prefix = "memory"sv;
      e.unit = v.memory[0].base;
      add(cells("reg"sv, 4 * v.memory.size(),
                [](const Inputs& i, Out& out, size_t) { write_ranges(out, i.v.memory.span()); }));
      break;
    case Kind::kDice:
      e.prefix = "dice"sv;
      e.unit = o.dice_handover.base;
      add(cells("reg"sv, 4, [](const Inputs& i, Out& out, size_t) {
        write_ranges(out, std::span(&i.o.dice_handover, 1));
      }));
      break;
    case Kind::kPool:
      if (!v.swiotlb) {
        e.keep = false;
      } else if (v.swiotlb->reg) {
        e.prefix = "restricted_dma_reserved"sv;
        e.unit = v.swiotlb->reg->base;
        add(cells("reg"sv, 4, [](const Inputs& i, Out& out, size_t) {
          write_ranges(out, std::span(&*i.v.swiotlb->reg, 1));
        }));
        e.drop("size"sv);
        e.drop("alignment"sv);
      } else {
        if (v.swiotlb->alignment != 0) {
          add(cells("alignment"sv, 2,
                    [](const Inputs& i, Out& out, size_t) { out.u64(i.v.swiotlb->alignment); }));
        } else {
          e.drop("alignment"sv);
        }
        add(cells("size"sv, 2,
                  [](const Inputs& i, Out& out, size_t) { out.u64(i.v.swiotlb->size); }));
      }
      break;
    case Kind::kCpu:
      if (index >= v.cpus.size()) {
        e.keep = false;
        break;
      }
      e.prefix = "cpu"sv;
      e.unit = v.cpus[index].mpidr;
      add(string("compatible"sv, v.cpus[index].compatible));
      add(cells(
          "reg"sv, 1, [](const Inputs& i, Out& out, size_t n) { out.u32(i.v.cpus[n].mpidr); },
          index));
      break;
    case Kind::kPsci:
      add(string("method"sv, v.psci == PsciMethod::kHvc ? "hvc"sv : "smc"sv));
      break;
    case Kind::kTimer:
      add(cells("interrupts"sv, 12, [](const Inputs& i, Out& out, size_t) {
        // GICv2 PPIs name the CPUs they reach (bits 8-15); GICv3 has no such mask.
        const uint32_t mask = i.v.gic.version == GicVersion::kV2
                                  ? ((1u << i.v.cpus.size()) - 1) << 8  // count <= 8 for v2
                                  : 0;
        for (const Interrupt& ppi : i.v.timer.ppis) {
          out.u32(kGicPpi);
          out.u32(ppi.number);
          out.u32(ppi.trigger | mask);
        }
      }));
      break;
    case Kind::kGic: {
      const Gic& g = v.gic;
      e.prefix = "intc"sv;
      e.unit = g.distributor.base;
      if (g.version == GicVersion::kV2) {
        add(cells("reg"sv, 8, [](const Inputs& i, Out& out, size_t) {
          const base::Range regs[] = {i.v.gic.distributor, i.v.gic.cpu_interface};
          write_ranges(out, regs);
        }));
        break;
      }
      if (g.redistributors.size() > 1) {
        add(cells("#redistributor-regions"sv, 1, [](const Inputs& i, Out& out, size_t) {
          out.u32(static_cast<uint32_t>(i.v.gic.redistributors.size()));
        }));
      }
      add(cells("reg"sv, 4 * (1 + g.redistributors.size()), [](const Inputs& i, Out& out, size_t) {
        write_ranges(out, std::span(&i.v.gic.distributor, 1));
        write_ranges(out, i.v.gic.redistributors.span());
      }));
      add(string("compatible"sv, "arm,gic-v3"sv));
      break;
    }
    case Kind::kClock:
      e.keep = !v.uarts.empty();
      break;
    case Kind::kUart:
      if (index >= v.uarts.size()) {
        e.keep = false;
        break;
      }
      e.prefix = "pl011"sv;
      e.unit = v.uarts[index].reg.base;
      add(cells(
          "interrupts"sv, 3,
          [](const Inputs& i, Out& out, size_t n) { write_spi(out, i.v.uarts[n]); }, index));
      add(cells(
          "reg"sv, 4,
          [](const Inputs& i, Out& out, size_t n) {
            write_ranges(out, std::span(&i.v.uarts[n].reg, 1));
          },
          index));
      break;
    case Kind::kVirtio:
      if (index >= v.virtio.size()) {
        e.keep = false;
        break;
      }
      e.prefix = "virtio_mmio"sv;
      e.unit = v.virtio[index].reg.base;
      // With a DMA pool, every device does its DMA through it (memory-region,
      // Linux bindings/reserved-memory/shared-dma-pool.yaml).
      if (v.swiotlb) {
        add(cells("memory-region"sv, 1,
                  [](const Inputs& i, Out& out, size_t) { out.u32(i.pool_phandle); }));
      }
      add(cells(
          "interrupts"sv, 3,
          [](const Inputs& i, Out& out, size_t n) { write_spi(out, i.v.virtio[n]); }, index));
      add(cells(
          "reg"sv, 4,
          [](const Inputs& i, Out& out, size_t n) {
            write_ranges(out, std::span(&i.v.virtio[n].reg, 1));
          },
          index));
      break;
    case Kind::kPcie: {
      if (!v.pci) {
        e.keep = false;
        break;
      }
      const Pci& pci = *v.pci;
      e.prefix = "pcie"sv;
      e.unit = pci.ecam.base;
      // Entry: child unit address (3), pin, GIC phandle, (the template GIC
      // has #address-cells = 0), SPI specifier (3).
      add(cells("interrupt-map"sv, 8 * pci.irqs.size(), [](const Inputs& i, Out& out, size_t) {
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
      }));
      add(cells("interrupt-map-mask"sv, 4, [](const Inputs& i, Out& out, size_t) {
        for (uint32_t m : i.v.pci->irq_mask) out.u32(m);
      }));
      // IEEE 1275 PCI binding: phys.hi (space, prefetchable), bus address,
      // CPU address (root: 2 cells), size (2 cells).
      add(cells("ranges"sv, 7 * pci.ranges.size(), [](const Inputs& i, Out& out, size_t) {
        for (const PciRange& r : i.v.pci->ranges) {
          out.u32(static_cast<uint32_t>(r.space) << 24 | (r.prefetchable ? 1u << 30 : 0));
          out.u64(r.bus_address);
          out.u64(r.cpu.base);
          out.u64(r.cpu.size);
        }
      }));
      add(cells("bus-range"sv, 2, [](const Inputs& i, Out& out, size_t) {
        out.u32(i.v.pci->bus_first);
        out.u32(i.v.pci->bus_last);
      }));
      add(cells("reg"sv, 4, [](const Inputs& i, Out& out, size_t) {
        write_ranges(out, std::span(&i.v.pci->ecam, 1));
      }));
      if (!v.swiotlb) e.drop("memory-region"sv);
      break;
    }
    case Kind::kChosen:
      if (!in.bootargs.empty()) add(string("bootargs"sv, in.bootargs));
      if (v.stdout_uart) {
        add(string("stdout-path"sv, std::string_view(in.stdout_path.data(), in.stdout_len)));
      }
      if (v.initrd) {
        add(cells("linux,initrd-start"sv, 2,
                  [](const Inputs& i, Out& out, size_t) { out.u64(i.v.initrd->base); }));
        add(cells("linux,initrd-end"sv, 2,
                  [](const Inputs& i, Out& out, size_t) { out.u64(i.v.initrd->end()); }));
      }
      if (o.kaslr_seed) {
        add(cells("kaslr-seed"sv, 2,
                  [](const Inputs& i, Out& out, size_t) { out.u64(*i.o.kaslr_seed); }));
      }
      if (!o.rng_seed.empty()) add(bytes("rng-seed"sv, o.rng_seed));
      if (o.strict_boot) add(bytes("avf,strict-boot"sv, {}));
      if (o.new_instance) add(bytes("avf,new-instance"sv, {}));
      break;
    case Kind::kAvf:
      e.keep = !v.avf_untrusted.empty() || v.secretkeeper_public_key;
      if (v.secretkeeper_public_key)
        add(bytes("secretkeeper_public_key"sv, *v.secretkeeper_public_key));
      break;
    case Kind::kUntrusted: {
      e.keep = !v.avf_untrusted.empty();
      // The input's order; a name given twice appears once, where its last
      // occurrence is, with its first value.
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
      break;
    }
  }
  return {};
}

// ---- the pass over the template ---------------------------------------------------------

class Rebuild {
 public:
  Rebuild(const Template& t, Inputs& in, Strings& strings, Out& out)
      : t_(t.blocks), in_(in), strings_(strings), out_(out) {}

  // The names the rebuild adds, interned before the walk: the strings block
  // lists those the template's lacks by node in this order (and within a
  // node, last set first), whatever order the nodes have in the template.
  // It is the order in which a rebuild patching the template in place with
  // libfdt appended them, which keeps the output's bytes as they were.
  Result intern_added() {
    constexpr Kind kOrder[] = {Kind::kPool,   Kind::kGic, Kind::kVirtio,
                               Kind::kChosen, Kind::kAvf, Kind::kUntrusted};
    for (Kind k : kOrder) {
      Edit e;
      if (auto r = edit(in_, k, 0, e); !r) return r;
      if (e.overflow) return Unexpected(BuildError::kInconsistent);
      if (!e.keep) continue;
      for (size_t i = e.set_count; i-- > 0;) {
        if (!strings_.offset(e.sets[i].key())) return Unexpected(BuildError::kNoSpace);
      }
    }
    return {};
  }

  Result run() {
    uint32_t off = 0;
    const auto root = t_.head(0);
    if (!root) return Unexpected(BuildError::kBadTemplate);
    if (auto r = node(off, root->name, root->body, Kind::kRoot, 0, 0); !r) return r;
    while (t_.tag(off) == kNop) off += 4;
    if (t_.tag(off) != kEnd || uint64_t{off} + 4 != t_.structs().size()) {
      return Unexpected(BuildError::kBadTemplate);
    }
    out_.u32(kEnd);
    // Every validated value found its node.
    const VmPlatform& v = in_.v;
    if (!seen(Kind::kChosen) || !seen(Kind::kMemory) || !seen(Kind::kDice) || !seen(Kind::kPsci) ||
        !seen(Kind::kTimer) || !seen(Kind::kGic) || count(Kind::kCpu) != v.cpus.size() ||
        count(Kind::kUart) != v.uarts.size() || count(Kind::kVirtio) != v.virtio.size() ||
        (v.swiotlb && !seen(Kind::kPool)) || (v.pci && !seen(Kind::kPcie)) ||
        (!v.avf_untrusted.empty() && !seen(Kind::kUntrusted)) ||
        (v.secretkeeper_public_key && !seen(Kind::kAvf))) {
      return Unexpected(BuildError::kInconsistent);
    }
    return {};
  }

 private:
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

  void prop(uint32_t nameoff, const Set& s) {
    out_.u32(kProp);
    out_.u32(s.size);
    out_.u32(nameoff);
    const size_t start = out_.pos();
    if (s.write != nullptr) {
      s.write(in_, out_, s.arg);
    } else {
      out_.bytes({s.bytes, s.bytes_size});
      out_.zeros(s.size - s.bytes_size);
    }
    if (out_.ok() && out_.pos() - start != s.size) wrong_size_ = true;
    out_.pad();
  }

  // The properties of an edited node: its body is [body, end).
  Result edit_props(const Edit& e, Kind kind, uint32_t body, uint32_t end) {
    // Which sets replace a template property (the first of that name), which
    // properties are dropped, and the node's phandle (as fdt_get_phandle).
    std::array<uint32_t, kMaxSets> in_place;  // PROP offsets; 0 (the root's) = none
    std::array<uint32_t, 2> dropped{};
    for (size_t i = 0; i < e.set_count; ++i) in_place[i] = 0;
    const bool wants_phandle = kind == Kind::kGic || kind == Kind::kPool;
    uint32_t phandle_at = 0, linux_phandle_at = 0;
    for (uint32_t o = body; o != end; o = *t_.next(o)) {
      if (t_.tag(o) != kProp) continue;
      const uint32_t nameoff = t_.word(uint64_t{o} + 8);
      for (size_t i = 0; i < e.set_count; ++i) {
        if (in_place[i] == 0 && t_.string_is(nameoff, e.sets[i].key())) in_place[i] = o;
      }
      for (size_t i = 0; i < e.drop_count; ++i) {
        if (dropped[i] == 0 && t_.string_is(nameoff, e.drops[i])) dropped[i] = o;
      }
      if (wants_phandle && phandle_at == 0 && t_.string_is(nameoff, "phandle"sv)) phandle_at = o;
      if (wants_phandle && linux_phandle_at == 0 && t_.string_is(nameoff, "linux,phandle"sv)) {
        linux_phandle_at = o;
      }
    }
    if (wants_phandle) {
      uint32_t ph = 0;
      for (uint32_t at : {phandle_at, linux_phandle_at}) {
        if (at != 0 && t_.word(uint64_t{at} + 4) == 4) {
          ph = t_.word(uint64_t{at} + 12);
          break;
        }
      }
      (kind == Kind::kGic ? in_.gic_phandle : in_.pool_phandle) = ph;
    }

    for (size_t i = 0; i < e.set_count; ++i) {
      if (in_place[i] != 0) continue;
      auto nameoff = strings_.offset(e.sets[i].key());
      if (!nameoff) return Unexpected(BuildError::kNoSpace);
      prop(*nameoff, e.sets[i]);
    }
    // The template's properties: runs of unedited ones copied as they are.
    uint32_t run = body;
    for (uint32_t o = body; o != end;) {
      const uint32_t next = *t_.next(o);
      const Set* set = nullptr;
      bool drop = false;
      if (t_.tag(o) == kProp) {
        for (size_t i = 0; i < e.set_count && set == nullptr; ++i) {
          if (in_place[i] == o) set = &e.sets[i];
        }
        for (size_t i = 0; i < e.drop_count; ++i) drop = drop || dropped[i] == o;
      }
      if (set != nullptr || drop) {
        out_.bytes(t_.structs().subspan(run, o - run));
        if (set != nullptr) prop(t_.word(uint64_t{o} + 8), *set);
        run = next;
      }
      o = next;
    }
    out_.bytes(t_.structs().subspan(run, end - run));
    return {};
  }

  // The node whose BEGIN_NODE is at `off`, edited; `off` moves past it.
  Result node(uint32_t& off, std::string_view name, uint32_t body, Kind kind, size_t index,
              size_t depth) {
    if (depth > kMaxTemplateDepth) return Unexpected(BuildError::kBadTemplate);
    ++counts_[static_cast<size_t>(kind)];
    // The phandles the DMA users and PCI's interrupt-map point at are the
    // template's: those nodes come first.
    if ((kind == Kind::kVirtio && in_.v.swiotlb && in_.pool_phandle == 0) ||
        (kind == Kind::kPcie && in_.v.pci && in_.gic_phandle == 0)) {
      return Unexpected(BuildError::kInconsistent);
    }
    Edit e;
    if (auto r = edit(in_, kind, index, e); !r) return r;
    if (e.overflow) return Unexpected(BuildError::kInconsistent);
    if (!e.keep) {
      auto end = t_.skip_node(off);
      if (!end) return Unexpected(BuildError::kBadTemplate);
      off = *end;
      return {};
    }

    out_.u32(kBeginNode);
    if (e.prefix.empty()) {
      out_.bytes(as_bytes(name));
    } else {
      std::array<char, 48> buf;
      out_.bytes(as_bytes({buf.data(), unit_name(buf, e.prefix, e.unit)}));
    }
    out_.zeros(1);
    out_.pad();

    const bool wants_phandle = kind == Kind::kGic || kind == Kind::kPool;
    const auto children = t_.skip_props(body);
    if (!children) return Unexpected(BuildError::kBadTemplate);
    if (e.set_count == 0 && e.drop_count == 0 && !wants_phandle) {
      // Copied as they are (dtc pads with zeros).
      out_.bytes(t_.structs().subspan(body, *children - body));
    } else if (auto r = edit_props(e, kind, body, *children); !r) {
      return r;
    }

    uint32_t o = *children;
    std::array<bool, 3> patterns_used{};  // cpu, pl011, virtio_mmio
    for (;;) {
      const uint32_t tag = t_.tag(o);
      if (tag == kNop) {
        out_.u32(kNop);
        o += 4;
        continue;
      }
      if (tag != kBeginNode) break;
      const auto head = t_.head(o);
      if (!head) return Unexpected(BuildError::kBadTemplate);
      const Kind k = classify(kind, head->name);
      const auto pattern = pattern_of(k);
      if (!pattern) {
        if (auto r = node(o, head->name, head->body, k, 0, depth + 1); !r) return r;
        continue;
      }
      // A pattern node: once per validated device, in their order (a second
      // template node of the kind is left out).
      const size_t n = patterns_used[*pattern] ? 0 : device_count(k);
      patterns_used[*pattern] = true;
      for (size_t i = 0; i < n; ++i) {
        uint32_t at = o;
        if (auto r = node(at, head->name, head->body, k, i, depth + 1); !r) return r;
      }
      auto end = t_.skip_node(o);
      if (!end) return Unexpected(BuildError::kBadTemplate);
      o = *end;
    }
    if (t_.tag(o) != kEndNode) return Unexpected(BuildError::kBadTemplate);
    out_.u32(kEndNode);
    off = o + 4;
    if (wrong_size_) return Unexpected(BuildError::kInconsistent);
    return {};
  }

  const Structure t_;
  Inputs& in_;
  Strings& strings_;
  Out& out_;
  std::array<size_t, static_cast<size_t>(Kind::kUntrusted) + 1> counts_{};
  bool wrong_size_ = false;
};

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
    case BuildError::kInconsistent:
      return "OUTPUT_INCONSISTENT";
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
  auto t = read_template(template_dtb);
  if (!t) return Unexpected(BuildError::kBadTemplate);
  if (platform.memory.empty() ||
      (platform.stdout_uart && *platform.stdout_uart >= platform.uarts.size())) {
    return Unexpected(BuildError::kInconsistent);
  }
  if (out.size() > UINT32_MAX) out = out.first(UINT32_MAX);

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
        unit_name(in.stdout_path, "/pl011", platform.uarts[*platform.stdout_uart].reg.base);
  }

  Strings strings;
  if (!strings.init(t->blocks.strings())) return Unexpected(BuildError::kBadTemplate);
  Out o(out);
  std::byte* header = o.take(kHeaderSize);
  o.bytes(t->rsvmap);
  const size_t struct_off = o.pos();
  Rebuild rebuild(*t, in, strings, o);
  if (auto r = rebuild.intern_added(); !r) return Unexpected(r.error());
  if (auto r = rebuild.run(); !r) return Unexpected(r.error());
  const size_t strings_off = o.pos();
  strings.write(o);
  if (!o.ok()) return Unexpected(BuildError::kNoSpace);

  // DTSpec 5.2: header, memory reservation block, structure block, strings
  // block, packed in that order.
  const uint32_t fields[] = {kMagic,
                             static_cast<uint32_t>(o.pos()),
                             static_cast<uint32_t>(struct_off),
                             static_cast<uint32_t>(strings_off),
                             kHeaderSize,
                             17,
                             t->last_comp_version,
                             t->boot_cpuid_phys,
                             static_cast<uint32_t>(strings.size()),
                             static_cast<uint32_t>(strings_off - struct_off)};
  for (size_t i = 0; i < std::size(fields); ++i) Out::store_be32(header + 4 * i, fields[i]);
  return o.pos();
}

}  // namespace fdt

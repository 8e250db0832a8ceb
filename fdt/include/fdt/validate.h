// The `validate_*` step of read -> validate -> rebuild (STYLE.md rule 5): the
// typed platform a VM device tree describes, checked against the board and the
// firmware, or one named refusal.
//
// What the model holds is all that can reach the guest's device tree: the
// rebuild (fdt/output.h) writes only these values into the firmware's own
// template. Input nodes the validator does not know are ignored, never copied.
// Only direct children of the root are considered for devices (no bus address
// translation); see README.md for the policy.
//
// Views (bootargs, /avf values) point into the input blob: keep it intact and
// unmoved until build_output() has run.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string_view>

#include "base/range.h"
#include "board/board.h"
#include "fdt/tree.h"

namespace fdt {

// The PSCI conduit a tree names (/psci/method).
enum class PsciMethod : uint8_t { kHvc, kSmc };

inline constexpr size_t kMaxMemoryRanges = 8;
inline constexpr size_t kMaxCpus = 16;      // AOSP pvmfw's limit
inline constexpr size_t kMaxGicV2Cpus = 8;  // GICv2 CPU interfaces (Arm IHI 0048B 1.3)
inline constexpr size_t kMaxUarts = 4;
inline constexpr size_t kMaxVirtio = 32;
inline constexpr size_t kMaxPciDevices = 16;               // AOSP pvmfw's limit
inline constexpr size_t kMaxPciIrqs = 4 * kMaxPciDevices;  // one per INTx pin
inline constexpr size_t kMaxPciRanges = 8;
inline constexpr size_t kMaxGicRedistRegions = 2;
inline constexpr size_t kMaxBootargs = 2048;  // arm64 COMMAND_LINE_SIZE, with the NUL
inline constexpr size_t kMaxAvfProps = 16;
inline constexpr size_t kMaxAvfValue = 1024;
// /avf/untrusted/instance-id: the VM instance's identifier (AVF: 64 bytes).
inline constexpr size_t kInstanceIdSize = 64;
inline constexpr uint64_t kPage = 4096;
inline constexpr uint64_t kGicV3RedistPerCpu = 0x20000;  // RD_base + SGI_base frames
inline constexpr uint64_t kVirtioMmioSize = 0x200;

// A fixed-capacity list (no heap in the firmware).
template <typename T, size_t N>
struct List {
  std::array<T, N> items{};
  size_t count = 0;

  bool push(const T& v) {
    if (count == N) return false;
    items[count++] = v;
    return true;
  }
  std::span<const T> span() const { return {items.data(), count}; }
  const T* begin() const { return items.data(); }
  const T* end() const { return items.data() + count; }
  bool empty() const { return count == 0; }
  bool full() const { return count == N; }
  size_t size() const { return count; }
  const T& operator[](size_t i) const { return items[i]; }
};

inline constexpr size_t kMaxFirmwareRanges = 4;

// What the board and the firmware allow; board_limits() fills it from a board.
struct Limits {
  uint64_t ram_base = 0;      // RAM must start exactly here (AOSP fixes the base)
  uint64_t ram_limit = 0;     // and end at or below this (the firmware maps 39 bits)
  uint64_t max_ram_size = 0;  // sum of all memory ranges
  size_t max_cpus = kMaxCpus;
  base::Range device_window;  // MMIO below RAM: GIC, UARTs, virtio, low PCI windows
  uint64_t high_limit = 0;    // PCI windows may also lie in [end of RAM, high_limit)
  // Ranges the payload (kernel, initrd, DMA pool) must not touch and RAM must
  // cover: the input DT window and the firmware's scratch.
  List<base::Range, kMaxFirmwareRanges> firmware;
  PsciMethod psci = PsciMethod::kHvc;  // the conduit the firmware itself uses
};

// `board`'s RAM base, device window, DT window and pvmfw's scratch, the
// firmware's own limits (the 39-bit map it runs with, 48-bit PAs), and the
// given conduit.
Limits board_limits(const board::Board& board, PsciMethod conduit);

// GIC interrupt specifier (Linux bindings/interrupt-controller/arm,gic.yaml):
// number within its type (SPI 0..987, PPI 0..15), trigger flags (bits 0-3).
struct Interrupt {
  uint32_t number = 0;
  uint32_t trigger = 0;
};

struct Device {
  base::Range reg;
  Interrupt irq;  // an SPI
};

struct Cpu {
  uint32_t mpidr = 0;           // reg: affinity fields Aff2..Aff0
  std::string_view compatible;  // from the firmware's own list (kKnownCpus), not the input
};

enum class GicVersion : uint8_t { kV2, kV3 };

struct Gic {
  GicVersion version = GicVersion::kV2;
  base::Range distributor;
  base::Range cpu_interface;                               // v2 only
  List<base::Range, kMaxGicRedistRegions> redistributors;  // v3 only
};

struct Timer {
  std::array<Interrupt, 4> ppis;  // secure, non-secure, virtual, hypervisor (PPIs)
};

// PCI address space of a `ranges` entry (IEEE 1275 PCI binding, phys.hi ss).
enum class PciSpace : uint8_t { kIo = 1, kMem32 = 2, kMem64 = 3 };

struct PciRange {
  PciSpace space = PciSpace::kMem32;
  bool prefetchable = false;
  uint64_t bus_address = 0;
  base::Range cpu;
};

struct PciIrq {
  uint32_t device = 0;  // phys.hi of the child unit address (device << 11)
  uint32_t pin = 0;     // INTA..INTD = 1..4
  Interrupt irq;        // an SPI
};

struct Pci {
  base::Range ecam;
  uint32_t bus_first = 0, bus_last = 255;
  List<PciRange, kMaxPciRanges> ranges;
  std::array<uint32_t, 4> irq_mask{};
  List<PciIrq, kMaxPciIrqs> irqs;
};

// The DMA pool: the /reserved-memory restricted-dma-pool (Linux
// bindings/reserved-memory/shared-dma-pool.yaml) the guest's devices do their
// DMA through (Linux bounces it there: its restricted swiotlb). A fixed
// range, or a size and alignment for the guest to place.
struct DmaPool {
  std::optional<base::Range> reg;
  uint64_t size = 0;
  uint64_t alignment = 0;
};

struct AvfProperty {
  std::string_view name;
  std::span<const std::byte> value;
};

struct VmPlatform {
  List<base::Range, kMaxMemoryRanges> memory;  // sorted by base, first at Limits::ram_base
  List<Cpu, kMaxCpus> cpus;
  Gic gic;
  Timer timer;
  PsciMethod psci = PsciMethod::kHvc;
  List<Device, kMaxUarts> uarts;
  std::optional<size_t> stdout_uart;  // index into uarts
  List<Device, kMaxVirtio> virtio;
  std::optional<Pci> pci;
  std::optional<DmaPool> dma_pool;
  std::optional<std::string_view> bootargs;  // without the NUL
  std::optional<base::Range> kernel;         // /config kernel-address, kernel-size
  std::optional<base::Range> initrd;         // /chosen linux,initrd-start, -end
  List<AvfProperty, kMaxAvfProps> avf_untrusted;
  std::optional<std::span<const std::byte>> secretkeeper_public_key;  // /avf property
  // /avf/untrusted/instance-id (also kept in avf_untrusted, passed on as is).
  std::optional<std::span<const std::byte, kInstanceIdSize>> instance_id;

  uint64_t memory_size() const;
  // The memory range containing `r` entirely, if any.
  std::optional<base::Range> memory_containing(const base::Range& r) const;
};

// One value per refusal; to_string() gives its stable NAME.
enum class ValidateError : uint8_t {
  kBadAddressCells,  // root #address-cells / #size-cells not 1 or 2
  kNoMemory,
  kMemoryBadReg,
  kMemoryEmpty,
  kMemoryMisaligned,
  kMemoryOutOfRange,
  kMemoryOverlap,
  kMemoryTooManyRanges,
  kMemoryTooLarge,
  kMemoryBase,
  kMemoryMissesFirmware,
  kNoCpus,
  kTooManyCpus,
  kCpuCompatible,
  kCpuBadReg,
  kCpuDuplicateReg,
  kCpuEnableMethod,
  kNoGic,
  kGicDuplicate,
  kGicBadReg,
  kGicRedistTooSmall,
  kGicTooManyCpus,
  kNoTimer,
  kTimerDuplicate,
  kTimerBadInterrupts,
  kNoPsci,
  kPsciDuplicate,
  kPsciCompatible,
  kPsciBadMethod,
  kPsciConduitMismatch,
  kTooManyUarts,
  kUartBadReg,
  kTooManyVirtio,
  kVirtioBadReg,
  kBadInterrupt,        // a device's interrupts property is not one SPI
  kBadInterruptParent,  // a device's interrupt parent is not the GIC
  kInterruptConflict,   // two devices share an SPI
  kDeviceOutsideWindow,
  kDeviceOverlap,
  kPciDuplicate,
  kPciBadNode,  // cells, device_type or bus-range
  kPciBadReg,
  kPciBadRanges,
  kPciOverlapsMemory,
  kPciBadInterruptMap,
  kPciTooManyDevices,
  // The DMA pool's. Their stable names keep the older word, SWIOTLB_*
  // (pvmfw's reboot reasons and `pvm fdt sanitize`'s errors; not renamed).
  kDmaPoolDuplicate,
  kDmaPoolBad,
  kDmaPoolOverlap,
  kKernelBadRange,
  kKernelOutsideMemory,
  kKernelMisaligned,
  kKernelOverlapsFirmware,
  kBootargsBad,
  kBootargsTooLong,
  kBadStdoutPath,
  kInitrdBadRange,
  kInitrdOutsideMemory,
  kInitrdOverlapsKernel,
  kInitrdOverlapsFirmware,
  kAvfTooManyProperties,
  kAvfPropertyTooLarge,
  kInstanceIdSize,
};
// "MEMORY_OVERLAP", ...
const char* to_string(ValidateError e);
// One line for humans.
const char* describe(ValidateError e);

// Reads and checks everything pvmfw keeps from `tree`. Never asserts on the
// tree's contents; the only state is the returned value.
[[nodiscard]] std::expected<VmPlatform, ValidateError> validate_platform(const Tree& tree,
                                                                         const Limits& limits);

// The well-formedness rule for bootargs (printable ASCII, spaces, balanced
// double quotes), shared by the validator and the filter.
bool bootargs_wellformed(std::string_view bootargs);

// Writes the allow-listed arguments of `bootargs` (see README.md) into `out`,
// space-separated, without a NUL; returns the length, or nothing when `out`
// is too small. `bootargs` must be well formed.
std::optional<size_t> filter_bootargs(std::string_view bootargs, std::span<char> out);

}  // namespace fdt

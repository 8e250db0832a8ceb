#include "vm_dt.h"

#include <libfdt.h>

#include <cstdio>
#include <span>

#include <board/layout.h>

namespace pvm {
namespace {

// Interrupt specifier values for "arm,cortex-a15-gic" (Linux
// Documentation/devicetree/bindings/interrupt-controller/arm,gic.yaml):
// <type number flags>, type 0 = SPI, 1 = PPI; flags bits 0-3 the trigger
// (4 = level high), bits 8-15 the PPI CPU mask.
constexpr uint32_t kGicSpi = 0;
constexpr uint32_t kGicPpi = 1;
constexpr uint32_t kIrqLevelHigh = 4;
constexpr uint32_t kIrqEdgeRising = 1;

// Arm Generic Timer PPIs (Arm BSA; QEMU hw/arm/virt.h ARCH_TIMER_*_IRQ).
constexpr uint32_t kTimerSecurePpi = 13;
constexpr uint32_t kTimerNonSecurePpi = 14;
constexpr uint32_t kTimerVirtPpi = 11;
constexpr uint32_t kTimerHypPpi = 10;

// QEMU virt memory map (hw/arm/virt.c base_memmap).
constexpr uint64_t kGicDistBase = 0x08000000;
constexpr uint64_t kGicCpuBase = 0x08010000;
constexpr uint64_t kGicRegionSize = 0x10000;
constexpr uint64_t kUartBase = BOARD_EARLY_UART;
constexpr uint64_t kUartSize = 0x1000;
constexpr uint32_t kUartSpi = 1;
constexpr uint32_t kApbClockHz = 24000000;

// PSCI 0.2+ function IDs (Arm DEN0022 §5.1), for the legacy "arm,psci" binding.
constexpr uint32_t kPsciCpuSuspend64 = 0xc4000001;
constexpr uint32_t kPsciCpuOff = 0x84000002;
constexpr uint32_t kPsciCpuOn64 = 0xc4000003;
constexpr uint32_t kPsciMigrate64 = 0xc4000005;

constexpr size_t kInitialBufferSize = 16 * 1024;

// Emits the tree through libfdt's sequential-write API. The first failing
// call is remembered and every later call becomes a no-op, so the builder
// reads as a plain list of nodes and properties.
class Writer {
 public:
  Writer(void* buf, int size) : fdt_(buf) { err_ = fdt_create(buf, size); }

  int error() const { return err_; }

  void finish_reservemap() { step(fdt_finish_reservemap(fdt_)); }
  void begin(const char* name) {
    if (err_ == 0) step(fdt_begin_node(fdt_, name));
  }
  void end() {
    if (err_ == 0) step(fdt_end_node(fdt_));
  }
  void finish() {
    if (err_ == 0) step(fdt_finish(fdt_));
  }

  // fdt_property memcpy()s the value even when it is empty: never a null
  // pointer (UB, which UBSan reports now that libfdt is built with the tools).
  void prop_empty(const char* name) { prop_raw(name, "", 0); }
  void prop_bytes(const char* name, std::span<const uint8_t> bytes) {
    prop_raw(name, bytes.data(), static_cast<int>(bytes.size()));
  }
  void prop_u32(const char* name, uint32_t value) { cells(name, {value}); }
  void prop_u64(const char* name, uint64_t value) {
    cells(name, {static_cast<uint32_t>(value >> 32), static_cast<uint32_t>(value)});
  }
  void prop_string(const char* name, std::string_view value) {
    std::string buf(value);
    prop_raw(name, buf.c_str(), static_cast<int>(buf.size() + 1));
  }
  // A stringlist: each string NUL-terminated, back to back.
  void prop_strings(const char* name, std::initializer_list<std::string_view> values) {
    std::string buf;
    for (std::string_view v : values) {
      buf += v;
      buf += '\0';
    }
    prop_raw(name, buf.data(), static_cast<int>(buf.size()));
  }
  // Big-endian 32-bit cells (DTSpec v0.4 §2.2.4).
  void cells(const char* name, std::initializer_list<uint32_t> values) {
    cells(name, std::vector<uint32_t>(values));
  }
  void cells(const char* name, const std::vector<uint32_t>& values) {
    std::vector<fdt32_t> be;
    be.reserve(values.size());
    for (uint32_t v : values) be.push_back(cpu_to_fdt32(v));
    prop_raw(name, be.data(), static_cast<int>(be.size() * sizeof(fdt32_t)));
  }

 private:
  void prop_raw(const char* name, const void* data, int len) {
    if (err_ == 0) step(fdt_property(fdt_, name, data, len));
  }
  void step(int rc) {
    if (err_ == 0 && rc < 0) err_ = rc;
  }

  void* fdt_;
  int err_ = 0;
};

uint32_t hi(uint64_t v) { return static_cast<uint32_t>(v >> 32); }
uint32_t lo(uint64_t v) { return static_cast<uint32_t>(v); }

void write_tree(Writer& w, const VmDtConfig& config) {
  w.finish_reservemap();
  w.begin("");
  // DTSpec §3.1: root node. 2 cells each, as QEMU virt (RAM may exceed 4 GiB).
  w.prop_u32("#address-cells", 2);
  w.prop_u32("#size-cells", 2);
  w.prop_string("compatible", "linux,dummy-virt");
  w.prop_string("model", "pvm protected VM (QEMU virt)");
  w.prop_u32("interrupt-parent", kGicPhandle);

  // DTSpec §3.4. QEMU rewrites this reg from -m when it loads -dtb.
  {
    char name[32];
    std::snprintf(name, sizeof(name), "memory@%llx",
                  static_cast<unsigned long long>(BOARD_RAM_BASE));
    w.begin(name);
    w.prop_string("device_type", "memory");
    w.cells("reg", {hi(BOARD_RAM_BASE), lo(BOARD_RAM_BASE), hi(config.ram_size),
                    lo(config.ram_size)});
    w.end();
  }

  // DTSpec §3.7; Linux bindings/arm/cpus.yaml. Secondary CPUs start via PSCI.
  w.begin("cpus");
  w.prop_u32("#address-cells", 1);
  w.prop_u32("#size-cells", 0);
  for (uint32_t cpu = 0; cpu < config.cpus; ++cpu) {
    char name[16];
    std::snprintf(name, sizeof(name), "cpu@%x", cpu);
    w.begin(name);
    w.prop_string("device_type", "cpu");
    w.prop_string("compatible", "arm,arm-v8");
    w.prop_u32("reg", cpu);  // MPIDR affinity; QEMU virt numbers CPUs 0..N-1 in Aff0
    w.prop_string("enable-method", "psci");
    w.end();
  }
  w.end();

  // Linux bindings/arm/psci.yaml; values as QEMU writes them for PSCI 1.0.
  w.begin("psci");
  w.prop_strings("compatible", {"arm,psci-1.0", "arm,psci-0.2", "arm,psci"});
  w.prop_string("method", config.psci_method);
  w.prop_u32("cpu_suspend", kPsciCpuSuspend64);
  w.prop_u32("cpu_off", kPsciCpuOff);
  w.prop_u32("cpu_on", kPsciCpuOn64);
  w.prop_u32("migrate", kPsciMigrate64);
  w.end();

  // Linux bindings/timer/arm,arch_timer.yaml. For GICv2 the PPI flags carry
  // a mask of the CPUs the interrupt goes to, as QEMU's fdt_add_timer_nodes.
  {
    const uint32_t ppi_flags = (((1u << config.cpus) - 1) << 8) | kIrqLevelHigh;
    w.begin("timer");
    w.prop_strings("compatible", {"arm,armv8-timer", "arm,armv7-timer"});
    w.cells("interrupts", {kGicPpi, kTimerSecurePpi, ppi_flags, kGicPpi, kTimerNonSecurePpi,
                           ppi_flags, kGicPpi, kTimerVirtPpi, ppi_flags, kGicPpi, kTimerHypPpi,
                           ppi_flags});
    w.prop_empty("always-on");
    w.end();
  }

  // Linux bindings/interrupt-controller/arm,gic.yaml: distributor, CPU interface.
  w.begin("intc@8000000");
  w.prop_string("compatible", "arm,cortex-a15-gic");
  w.prop_u32("#interrupt-cells", 3);
  // No child nodes (no GICv2m here); dtc wants interrupt providers to say
  // how interrupt-map entries address them (dtc checks.c interrupt_provider).
  w.prop_u32("#address-cells", 0);
  w.prop_empty("interrupt-controller");
  w.cells("reg", {hi(kGicDistBase), lo(kGicDistBase), hi(kGicRegionSize), lo(kGicRegionSize),
                  hi(kGicCpuBase), lo(kGicCpuBase), hi(kGicRegionSize), lo(kGicRegionSize)});
  w.prop_u32("phandle", kGicPhandle);
  w.end();

  // Linux bindings/clock/fixed-clock.yaml: the PL011's reference and APB clock.
  w.begin("apb-pclk");
  w.prop_string("compatible", "fixed-clock");
  w.prop_u32("#clock-cells", 0);
  w.prop_u32("clock-frequency", kApbClockHz);
  w.prop_string("clock-output-names", "clk24mhz");
  w.prop_u32("phandle", kClockPhandle);
  w.end();

  // Linux bindings/serial/pl011.yaml (Arm DDI 0183).
  w.begin("pl011@9000000");
  w.prop_strings("compatible", {"arm,pl011", "arm,primecell"});
  w.cells("reg", {hi(kUartBase), lo(kUartBase), hi(kUartSize), lo(kUartSize)});
  w.cells("interrupts", {kGicSpi, kUartSpi, kIrqLevelHigh});
  w.cells("clocks", {kClockPhandle, kClockPhandle});
  w.prop_strings("clock-names", {"uartclk", "apb_pclk"});
  w.end();

  // DTSpec §3.6; Linux bindings/chosen.txt.
  w.begin("chosen");
  w.prop_string("bootargs", config.bootargs);
  w.prop_string("stdout-path", "/pl011@9000000");
  if (config.initrd) {
    w.prop_u64("linux,initrd-start", config.initrd->start);
    w.prop_u64("linux,initrd-end", config.initrd->end);
  }
  if (config.test_hook) w.prop_string("pvmfw,test-hook", *config.test_hook);
  w.end();

  // Linux bindings/virtio/mmio.yaml, as QEMU writes these nodes (fdt_add_
  // virtio_nodes): coherent DMA, one rising-edge SPI.
  for (const VmDtConfig::VirtioMmio& virtio : config.virtio_mmio) {
    char name[32];
    std::snprintf(name, sizeof(name), "virtio_mmio@%llx",
                  static_cast<unsigned long long>(virtio.base));
    w.begin(name);
    w.prop_string("compatible", "virtio,mmio");
    w.cells("reg", {hi(virtio.base), lo(virtio.base), hi(kVirtioMmioSize), lo(kVirtioMmioSize)});
    w.cells("interrupts", {kGicSpi, virtio.spi, kIrqEdgeRising});
    w.prop_empty("dma-coherent");
    w.end();
  }

  // AOSP crosvm (src/aarch64/fdt.rs): where the VMM loaded the payload.
  if (config.kernel) {
    w.begin("config");
    w.prop_u32("kernel-address", static_cast<uint32_t>(config.kernel->address));
    w.prop_u32("kernel-size", static_cast<uint32_t>(config.kernel->size));
    w.end();
  }

  // AVF: the instance the VM is (pvmfw derives the instance's salt from it),
  // and its policy.
  if (!config.instance_id.empty() || config.pin_software) {
    w.begin("avf");
    w.begin("untrusted");
    if (!config.instance_id.empty()) w.prop_bytes("instance-id", config.instance_id);
    if (config.pin_software) w.prop_empty("pvm,pin-software");
    w.end();
    w.end();
  }

  w.end();  // root
  w.finish();
}

bool known_virtio_slot(const VmDtConfig::VirtioMmio& virtio) {
  for (uint32_t n = 0; n < kVirtioMmioCount; ++n) {
    if (virtio.base == kVirtioMmioBase + n * kVirtioMmioSize) {
      return virtio.spi == kVirtioMmioFirstSpi + n;
    }
  }
  return false;
}

}  // namespace

std::optional<VmDtConfig::VirtioMmio> virtio_mmio_slot(uint32_t index) {
  if (index >= kVirtioMmioCount) return std::nullopt;
  const uint32_t n = kVirtioMmioCount - 1 - index;
  return VmDtConfig::VirtioMmio{kVirtioMmioBase + n * kVirtioMmioSize, kVirtioMmioFirstSpi + n};
}

std::string_view to_string(VmDtError error) {
  switch (error) {
    case VmDtError::kZeroRam: return "RAM size is 0";
    case VmDtError::kRamOverflow: return "RAM end overflows";
    case VmDtError::kBadCpuCount: return "CPU count outside 1..8";
    case VmDtError::kBadInitrd: return "initrd ends before it starts";
    case VmDtError::kKernelNotU32: return "kernel address or size does not fit 32 bits";
    case VmDtError::kBadPsciMethod: return "PSCI method is not hvc or smc";
    case VmDtError::kBadVirtio: return "virtio-mmio transport not one of QEMU virt's, or twice";
    case VmDtError::kTooLarge: return "device tree too large";
    case VmDtError::kLibfdt: return "libfdt error";
  }
  return "unknown device tree error";
}

std::expected<std::vector<uint8_t>, VmDtError> make_vm_dt(const VmDtConfig& config) {
  if (config.ram_size == 0) return std::unexpected(VmDtError::kZeroRam);
  if (config.ram_size > UINT64_MAX - BOARD_RAM_BASE) {
    return std::unexpected(VmDtError::kRamOverflow);
  }
  if (config.cpus == 0 || config.cpus > kMaxCpus) return std::unexpected(VmDtError::kBadCpuCount);
  if (config.initrd && config.initrd->end < config.initrd->start) {
    return std::unexpected(VmDtError::kBadInitrd);
  }
  if (config.kernel && (config.kernel->address > UINT32_MAX || config.kernel->size > UINT32_MAX)) {
    return std::unexpected(VmDtError::kKernelNotU32);
  }
  if (config.psci_method != "hvc" && config.psci_method != "smc") {
    return std::unexpected(VmDtError::kBadPsciMethod);
  }
  for (size_t i = 0; i < config.virtio_mmio.size(); ++i) {
    if (!known_virtio_slot(config.virtio_mmio[i])) return std::unexpected(VmDtError::kBadVirtio);
    for (size_t j = 0; j < i; ++j) {
      if (config.virtio_mmio[j].base == config.virtio_mmio[i].base) {
        return std::unexpected(VmDtError::kBadVirtio);
      }
    }
  }

  // The tree's size is not known up front (bootargs): start small and grow.
  for (size_t size = kInitialBufferSize; size <= kMaxVmDtSize; size *= 2) {
    std::vector<uint8_t> buf(size);
    Writer w(buf.data(), static_cast<int>(buf.size()));
    write_tree(w, config);
    if (w.error() == -FDT_ERR_NOSPACE) continue;
    if (w.error() != 0) return std::unexpected(VmDtError::kLibfdt);
    // fdt_finish() leaves the blob packed: totalsize covers exactly the
    // header, reservation map, structure and strings blocks.
    buf.resize(fdt_totalsize(buf.data()));
    return buf;
  }
  return std::unexpected(VmDtError::kTooLarge);
}

}  // namespace pvm

// Writes the device tree that `pvm run` hands to QEMU with -dtb: the VM
// description a VMM (crosvm in AOSP) gives pvmfw, which pvmfw reads,
// validates and rebuilds for the guest kernel.
//
// The tree describes QEMU 7.2's `virt` machine with GICv2 (its default) as
// Linux 6.1 needs it, using the same node names, phandle layout and values
// QEMU's own tree uses (hw/arm/virt.c), minus everything pvmfw does not pass
// on (no GPIO, fw-cfg or PCIe nodes, and only the virtio-mmio transports a
// device is plugged into), plus the /config node AOSP's crosvm uses to tell
// pvmfw where the kernel is.
//
// Callers may rely on: output determined by the config alone; a blob that
// passes fdt_check_full() and decompiles with dtc without warnings; only
// structural checks here (layout sanity, such as a kernel inside RAM, is the
// caller's, so deliberately wrong trees can be built for refusal tests).
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pvm {

enum class VmDtError {
  kZeroRam,         // ram_size is 0
  kRamOverflow,     // RAM base + ram_size overflows 64 bits
  kBadCpuCount,     // cpus outside 1..kMaxCpus
  kBadInitrd,       // initrd end before start
  kKernelNotU32,    // /config cells are 32 bits: address or size does not fit
  kBadPsciMethod,   // not "hvc" or "smc"
  kBadVirtio,       // a virtio-mmio window not one of QEMU virt's, or listed twice
  kTooLarge,        // the tree would exceed kMaxVmDtSize
  kLibfdt,          // libfdt refused a call (a bug here, not bad input)
};

std::string_view to_string(VmDtError error);

// GICv2 addresses at most 8 CPUs (Arm IHI 0048B, GICD_ITARGETSR).
inline constexpr uint32_t kMaxCpus = 8;
// Largest tree written; pvmfw accepts up to BOARD_DT_MAX_SIZE.
inline constexpr size_t kMaxVmDtSize = 2 * 1024 * 1024;

// The GIC and the APB clock have fixed phandles.
inline constexpr uint32_t kGicPhandle = 1;
inline constexpr uint32_t kClockPhandle = 2;

struct VmDtConfig {
  uint64_t ram_size = 0;  // bytes of RAM from BOARD_RAM_BASE
  uint32_t cpus = 1;
  std::string bootargs;   // /chosen/bootargs (written even when empty)
  struct Range {
    uint64_t start = 0;
    uint64_t end = 0;  // exclusive, as Linux reads linux,initrd-end
  };
  std::optional<Range> initrd;  // /chosen/linux,initrd-{start,end}, 64-bit each
  struct Kernel {
    uint64_t address = 0;
    uint64_t size = 0;
  };
  std::optional<Kernel> kernel;  // /config/kernel-{address,size}, 32-bit each
  std::string psci_method = "hvc";
  // /chosen/pvmfw,test-hook: asks pvmfw-testhooks.bin for a test behaviour
  // (e.g. "fault-unmapped"); the shipped pvmfw.bin ignores it.
  std::optional<std::string> test_hook;
  // /avf/untrusted/instance-id (host/instance.h); omitted when empty.
  std::vector<uint8_t> instance_id;
  // /avf/untrusted/pvm,pin-software (empty property): the VM was created
  // with `pvm create --pin-software`; pvmfw seals it into the instance entry
  // at first boot and then refuses any code change. /avf/untrusted, not
  // /chosen: pvmfw's validation keeps /avf/untrusted properties as opaque
  // values it can read (fdt/validate.cc read_avf) and drops /chosen
  // properties it does not know (read_chosen).
  bool pin_software = false;
  // virtio-mmio transports with a device behind them, as QEMU virt places
  // them (virtio_mmio_slot()): "virtio,mmio" nodes, one 0x200 register
  // window and one rising-edge SPI each, in the order given.
  struct VirtioMmio {
    uint64_t base = 0;
    uint32_t spi = 0;
  };
  std::vector<VirtioMmio> virtio_mmio;
};

// QEMU virt's virtio-mmio transports (hw/arm/virt.c base_memmap VIRT_MMIO,
// a15irqmap): 32 windows of 0x200 bytes from 0x0a000000, transport n on SPI
// 16 + n. QEMU plugs the first `-device virtio-*-device` into the transport
// with the HIGHEST base (n = 31, 0x0a003e00, SPI 47), the next one into n =
// 30, and so on (qbus_realize prepends each new bus; seen with `info
// qtree`). `index` counts the virtio devices on the command line from 0.
inline constexpr uint64_t kVirtioMmioBase = 0x0a000000;
inline constexpr uint64_t kVirtioMmioSize = 0x200;
inline constexpr uint32_t kVirtioMmioCount = 32;
inline constexpr uint32_t kVirtioMmioFirstSpi = 16;
[[nodiscard]] std::optional<VmDtConfig::VirtioMmio> virtio_mmio_slot(uint32_t index);

// The flattened tree, packed (totalsize == size()).
[[nodiscard]] std::expected<std::vector<uint8_t>, VmDtError> make_vm_dt(const VmDtConfig& config);

}  // namespace pvm

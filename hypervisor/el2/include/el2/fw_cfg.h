// QEMU's fw_cfg device through its DMA interface (QEMU docs/specs/fw_cfg.rst):
// how the launcher hands the hypervisor the launch description and files.
// The device is identity mapped at EL2 and never mapped into a VM.
#pragma once

#include <cstddef>
#include <cstdint>

namespace el2::fwcfg {

// The signature reads "QEMU" and the DMA interface is advertised.
[[nodiscard]] bool present();

// Reads `length` bytes of item `select` to physical address `dest` (DMA, no
// CPU copy); with `skip`, from that offset. False when the device reports an
// error.
[[nodiscard]] bool read(uint16_t select, uint64_t dest, uint32_t length, uint32_t skip = 0);

// Well-known items (fw_cfg.rst "Selector Register").
inline constexpr uint16_t kSignature = 0x0000;
inline constexpr uint16_t kId = 0x0001;
inline constexpr uint16_t kRamSize = 0x0003;  // u64, little-endian
inline constexpr uint16_t kFileDir = 0x0019;

}  // namespace el2::fwcfg

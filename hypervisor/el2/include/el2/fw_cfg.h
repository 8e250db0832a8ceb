// QEMU's fw_cfg device through its DMA interface (QEMU docs/specs/fw_cfg.rst):
// how the launcher hands the hypervisor the launch description and files.
// Registers, keys and the descriptor format: launch/fw_cfg.h (host-tested);
// this is only the access. The device is identity mapped at EL2 and never
// mapped into a VM.
#pragma once

#include <cstdint>

namespace el2::fwcfg {

// The signature reads "QEMU" and the DMA interface is advertised.
[[nodiscard]] bool present();

// Reads `length` bytes of item `select` to physical address `dest` (DMA, no
// CPU copy). False when the device reports an error or never completes.
[[nodiscard]] bool read(uint16_t select, uint64_t dest, uint32_t length);

}  // namespace el2::fwcfg

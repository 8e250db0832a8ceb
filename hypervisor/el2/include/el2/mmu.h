// The hypervisor's own address space: an EL2 stage-1 identity map with W^X
// (text RX, rodata R, everything writable execute-never), shared by every CPU.
#pragma once

#include <cstdint>

namespace el2 {

// Cleans [addr, addr + size) to the point of coherency (DC CIVAC).
void clean_to_poc(uint64_t addr, uint64_t size);
// Discards the lines of [addr, addr + size) (DC IVAC), after a device wrote
// the memory behind them; the caller owns those lines whole.
void invalidate(uint64_t addr, uint64_t size);

// The PARange encoding both TCR_EL2.PS and VTCR_EL2.PS use: the CPU's, at
// most 48 bits (4 KiB granule without FEAT_LPA2).
uint8_t physical_address_size();

}  // namespace el2

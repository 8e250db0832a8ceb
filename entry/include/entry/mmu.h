// The firmware's identity map. Built before the MMU is on (pvmfw_build_page_tables,
// called from start.S) with only what pvmfw itself needs: its text (RX), rodata
// (R), scratch RAM without the stack guard pages (RW, XN), the input DT window
// (R, XN) and the early console page (Device, XN). Later additions go through
// mmu::map while the MMU is on (adding entries only: no break-before-make).
#pragma once

#include <cstdint>
#include <expected>

#include "memory/page_tables.h"

namespace mmu {

[[nodiscard]] std::expected<void, memory::Error> map(uint64_t addr, uint64_t size,
                                                     memory::Attr attr);

}  // namespace mmu

// The firmware's identity map. Built before the MMU is on (pvmfw_build_page_tables,
// called from start.S) with only what pvmfw itself needs: its text (RX), rodata
// (R), scratch RAM without the stack guard pages (RW, XN), the input DT window
// (RW, XN: read, then rewritten with the rebuilt tree), the config window
// and the handover page (RW, XN) and the early console page (Device, XN).
// Later additions go through mmu::map while the MMU is on (adding entries
// only: no break-before-make).
#pragma once

#include <cstdint>
#include <expected>

#include "memory/page_tables.h"

namespace mmu {

[[nodiscard]] std::expected<void, memory::Error> map(uint64_t addr, uint64_t size,
                                                     memory::Attr attr);

// DC CIVAC over [addr, addr + size), then DSB: what pvmfw wrote there reaches
// RAM (the point of coherency) and no line of it stays cached, so the payload,
// which starts with caches off, reads it. Every writer of memory the payload
// sees calls this for what it wrote; jump.S does the same for pvmfw's scratch.
void clean_to_poc(uint64_t addr, uint64_t size);

}  // namespace mmu

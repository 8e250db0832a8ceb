// Runs with the MMU off (built -mgeneral-regs-only -mstrict-align): aligned
// general-register stores only, no library calls.
#include "entry/mmu.h"

#include <board/layout.h>

#include <array>
#include <new>
#include <span>

extern "C" {
extern char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern char __scratch_start[], __stack_guard[], __stack_bottom[], __exc_stack_guard[];
extern char __exc_stack_bottom[], __exc_stack_top[];
}

namespace mmu {
namespace {

constexpr size_t kTables = 16;
// In .bss: zeroed by start.S before the builder runs.
alignas(memory::kPageSize) constinit std::array<memory::Table, kTables> g_pool{};
constinit memory::PageTables* g_tables = nullptr;
alignas(memory::PageTables) constinit unsigned char g_tables_storage[sizeof(memory::PageTables)]{};

uint64_t addr(const char* sym) { return reinterpret_cast<uintptr_t>(sym); }

}  // namespace

std::expected<void, memory::Error> map(uint64_t base, uint64_t size, memory::Attr attr) {
  if (g_tables == nullptr) return std::unexpected(memory::Error::kOutOfTables);
  auto r = g_tables->map(base, size, attr);
  // New entries only ever replace invalid ones, which the TLB never caches
  // (Arm ARM D8.13): a barrier makes them visible to the walker.
  asm volatile("dsb ishst\n\tisb" ::: "memory");
  return r;
}

void clean_to_poc(uint64_t addr, uint64_t size) {
  uint64_t ctr;
  asm volatile("mrs %0, ctr_el0" : "=r"(ctr));
  const uint64_t line = 4ull << ((ctr >> 16) & 0xf);  // CTR_EL0.DminLine, in words
  for (uint64_t a = addr & ~(line - 1); a < addr + size; a += line) {
    asm volatile("dc civac, %0" : : "r"(a) : "memory");
  }
  asm volatile("dsb sy" : : : "memory");
}

}  // namespace mmu

// Returns the root table for TTBR0_EL1, or 0 if the map could not be built.
extern "C" uint64_t pvmfw_build_page_tables() {
  using memory::Attr;
  auto* pt = new (mmu::g_tables_storage) memory::PageTables(std::span(mmu::g_pool));
  mmu::g_tables = pt;
  const uint64_t text = mmu::addr(__text_start), text_end = mmu::addr(__text_end);
  const uint64_t ro = mmu::addr(__rodata_start), ro_end = mmu::addr(__rodata_end);
  const uint64_t scratch = mmu::addr(__scratch_start);
  const uint64_t guard = mmu::addr(__stack_guard), stack = mmu::addr(__stack_bottom);
  const uint64_t exc_guard = mmu::addr(__exc_stack_guard);
  const uint64_t exc_stack = mmu::addr(__exc_stack_bottom), exc_top = mmu::addr(__exc_stack_top);
  bool ok = pt->map(text, text_end - text, Attr::kCode).has_value() &&
            pt->map(ro, ro_end - ro, Attr::kReadOnly).has_value() &&
            (guard == scratch || pt->map(scratch, guard - scratch, Attr::kData).has_value()) &&
            pt->map(stack, exc_guard - stack, Attr::kData).has_value() &&
            pt->map(exc_stack, exc_top - exc_stack, Attr::kData).has_value() &&
            // Read, then rewritten with the rebuilt tree (issue 4).
            pt->map(BOARD_DT_BASE, BOARD_DT_MAX_SIZE, Attr::kData).has_value() &&
            pt->map(BOARD_HANDOVER_BASE, BOARD_HANDOVER_SIZE, Attr::kData).has_value() &&
            // The VMM's config blob: read, then wiped.
            pt->map(BOARD_CONFIG_BASE, BOARD_CONFIG_MAX_SIZE, Attr::kData).has_value() &&
            pt->map(BOARD_EARLY_UART, memory::kPageSize, Attr::kDevice).has_value();
  return ok ? pt->root() : 0;
}

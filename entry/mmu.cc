// Runs with the MMU off (built -mgeneral-regs-only -mstrict-align): aligned
// general-register stores only, no library calls.
#include "entry/mmu.h"

#include <board/layout.h>

#include <array>
#include <new>
#include <span>

#include "base/cache.h"
#include "base/sysreg.h"

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

void clean_to_poc(uint64_t addr, uint64_t size) { base::cache::clean_invalidate(addr, size); }

}  // namespace mmu

namespace mmu {
namespace {

using base::sysreg::Mair;
using base::sysreg::Sctlr;
using base::sysreg::Tcr;

// The translation regime (docs/memory-map.md): EL1&0 stage 1, TTBR0 only,
// 4 KiB granule, 39-bit VA (a level-1 root), walks cacheable and inner
// shareable like the memory they read.
constexpr Tcr tcr(uint8_t parange) {
  Tcr t;
  t.t0sz = 64 - 39;
  t.irgn0 = Tcr::Cacheability::kWriteBackWriteAllocate;
  t.orgn0 = Tcr::Cacheability::kWriteBackWriteAllocate;
  t.sh0 = Tcr::Shareability::kInner;
  t.tg0 = Tcr::Granule::k4KiB;
  t.epd1 = true;
  t.ips = parange;
  return t;
}

constexpr Mair mair() {
  Mair m;
  m.attr[memory::kMairDevice] = Mair::kDeviceNgnre;
  m.attr[memory::kMairNormal] = Mair::kNormalWriteBack;
  return m;
}
static_assert(mair().value() == memory::kMair, "the descriptors' AttrIndx and MAIR_EL1 agree");

// MMU and caches on, alignment checks on, writable implies execute-never.
constexpr Sctlr sctlr_mmu_on() {
  Sctlr s;
  s.m = s.c = s.i = true;
  s.sa = s.sa0 = true;
  s.ntwi = s.ntwe = true;
  s.wxn = true;
  return s;
}

}  // namespace
}  // namespace mmu

// SCTLR_EL1 with the MMU and caches off (start.S at reset, jump.S at the hand-off).
extern "C" constinit const uint64_t pvmfw_sctlr_mmu_off = base::sysreg::Sctlr{}.value();

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
            // Shared with the host to reach the instance disk (boot/instance).
            pt->map(BOARD_BOUNCE_BASE, BOARD_BOUNCE_SIZE, Attr::kData).has_value() &&
            pt->map(BOARD_EARLY_UART, memory::kPageSize, Attr::kDevice).has_value();
  return ok ? pt->root() : 0;
}

// Builds the identity map and turns on the MMU and caches (Arm ARM D8.2:
// registers, then TLB and instruction-cache invalidation, then SCTLR_EL1).
// Called by start.S with the MMU off; returns false when the map could not
// be built (the MMU then stays off). The stack and this code are identity
// mapped, so execution simply continues once translation is on.
extern "C" bool pvmfw_enable_mmu() {
  namespace sr = base::sysreg;
  const uint64_t root = pvmfw_build_page_tables();
  if (root == 0) return false;
  sr::write_ttbr0_el1(root);
  sr::write_mair_el1(mmu::mair().value());
  sr::write_tcr_el1(mmu::tcr(static_cast<uint8_t>(sr::read_id_aa64mmfr0().parange())).value());
  asm volatile("isb\n\ttlbi vmalle1\n\tic iallu\n\tdsb nsh\n\tisb" ::: "memory");
  sr::write_sctlr_el1(mmu::sctlr_mmu_on().value());
  asm volatile("isb" ::: "memory");
  return true;
}

// The EL2 stage-1 identity map. Runs with the MMU off on the boot CPU
// (-mgeneral-regs-only -mstrict-align: aligned stores only, no library calls).
#include "el2/mmu.h"

#include <board/layout.h>
#include <el2/layout.h>

#include <array>
#include <new>
#include <span>

#include "base/cache.h"
#include "base/sysreg.h"
#include "el2/sysregs.h"
#include "memory/page_tables.h"

extern "C" {
extern char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern char __scratch_start[], __stack_guard[], __stack_bottom[], __stack_top[];
extern char __secondary_stacks[], __secondary_stacks_end[];
extern char __exc_stack_guard[], __exc_stack_bottom[], __exc_stack_top[];
}

namespace el2 {
namespace {

constexpr size_t kTables = 8;
alignas(memory::kPageSize) constinit std::array<memory::Table, kTables> g_pool{};
alignas(memory::PageTables) constinit unsigned char g_storage[sizeof(memory::PageTables)]{};
constinit uint64_t g_root = 0;

uint64_t addr(const char* sym) { return reinterpret_cast<uintptr_t>(sym); }

void turn_on(uint64_t root) {
  write_mair(memory::kMair);
  write_tcr(memory::tcr_el2(physical_address_size()));
  write_ttbr0(root);
  asm volatile("isb\n\ttlbi alle2\n\tic iallu\n\tdsb nsh\n\tisb" ::: "memory");
  write_sctlr(kSctlrEl2On);
  asm volatile("isb" ::: "memory");
}

}  // namespace

uint8_t physical_address_size() {
  const auto parange = static_cast<uint8_t>(base::sysreg::read_id_aa64mmfr0().parange());
  return parange > 5 ? 5 : parange;
}

void clean_to_poc(uint64_t a, uint64_t size) { base::cache::clean_invalidate(a, size); }

void invalidate(uint64_t a, uint64_t size) { base::cache::invalidate(a, size); }

}  // namespace el2

// Builds the map and turns the MMU on (boot CPU). False: the map could not be
// built, the MMU stays off.
extern "C" bool hyp_enable_mmu() {
  using memory::Attr;
  using el2::addr;
  auto* pt = new (el2::g_storage) memory::PageTables(std::span(el2::g_pool),
                                                     memory::Regime::kEl2Stage1);
  const uint64_t scratch = addr(__scratch_start), guard = addr(__stack_guard);
  bool ok = pt->map(addr(__text_start), addr(__text_end) - addr(__text_start), Attr::kCode) &&
            pt->map(addr(__rodata_start), addr(__rodata_end) - addr(__rodata_start),
                    Attr::kReadOnly) &&
            (guard == scratch || pt->map(scratch, guard - scratch, Attr::kData)) &&
            pt->map(addr(__stack_bottom), addr(__stack_top) - addr(__stack_bottom), Attr::kData) &&
            pt->map(addr(__exc_stack_bottom), addr(__exc_stack_top) - addr(__exc_stack_bottom),
                    Attr::kData) &&
            // QEMU's tree (the machine's RAM size): read, then wiped before
            // the VM's tree is loaded over it.
            pt->map(QEMU_DTB_BASE, QEMU_DTB_MAX_SIZE, Attr::kData) &&
            // pvmfw.img as read, verified and then run by the VM from here.
            pt->map(HYP_STAGING_BASE, HYP_STAGING_SIZE, Attr::kData) &&
            // pvmfw's config window in the VM's RAM: the hypervisor writes the
            // DICE handover there (BOARD_CONFIG_BASE's page range).
            pt->map(VM_RAM_PA + (BOARD_CONFIG_BASE - BOARD_RAM_BASE), BOARD_CONFIG_MAX_SIZE, Attr::kData) &&
            pt->map(HYP_UART, memory::kPageSize, Attr::kDevice) &&
            pt->map(HYP_FW_CFG, memory::kPageSize, Attr::kDevice);
  // Secondary stacks: each below its own unmapped guard page.
  const uint64_t slot = memory::kPageSize + HYP_SECONDARY_STACK_SIZE;
  for (uint64_t s = addr(__secondary_stacks); ok && s < addr(__secondary_stacks_end); s += slot) {
    ok = pt->map(s + memory::kPageSize, HYP_SECONDARY_STACK_SIZE, Attr::kData).has_value();
  }
  if (!ok) return false;
  el2::g_root = pt->root();
  el2::turn_on(el2::g_root);
  return true;
}

// A secondary CPU: the same tables (built by the boot CPU).
extern "C" void hyp_secondary_mmu() { el2::turn_on(el2::g_root); }

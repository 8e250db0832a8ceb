/*
 * hyp.bin entry: the first code of the machine, at EL2, from flash, MMU off.
 *
 * Boot CPU (reset at 0):
 *   1. refuse anything but EL2 (QEMU needs -M virt,virtualization=on)
 *   2. vectors, SCTLR_EL2 known (MMU off), stack
 *   3. copy .data from flash, zero .tbss/.bss, TLS pointer (picolibc's errno)
 *   4. EL2 stage-1 identity map with W^X, MMU and caches on (hyp_enable_mmu)
 *   5. hyp_main() -- never returns (it enters the VM)
 * Secondary CPUs arrive at hyp_secondary_entry from PSCI CPU_ON (the
 * hypervisor starts them for the guest's CPU_ON) with x0 = their slot.
 */
#include <base/asm.h>
#include <el2/layout.h>

#define PAGE 4096
/* SCTLR_EL2 (non-VHE) RES1 bits [29:28] [23:22] [18] [16] [11] [5:4]: MMU,
 * caches and alignment checks off. */
#define SCTLR_EL2_MMU_OFF 0x30c50830

.section .text.head, "ax"
.global _start
_start:
  arm64_image_header real_start  /* as pvmfw has */

.section .text.entry, "ax"
real_start:
  mrs x20, CurrentEL
  ubfx x20, x20, #2, #2
  cmp x20, #2
  b.ne wrong_el

  adr_l x1, hyp_vectors
  msr vbar_el2, x1
  ldr x1, =SCTLR_EL2_MMU_OFF
  msr sctlr_el2, x1
  isb
  adr_l x1, __scratch_start
  adr_l x2, __scratch_end
  bl dcache_invalidate_range

  adr_l x1, __stack_top
  mov sp, x1

  init_sections                /* TPIDR_EL0 is cleared before the VM first runs */

  bl hyp_enable_mmu            /* false: the map could not be built */
  cbz w0, mmu_failed
  bl hyp_main
  b hyp_halt

mmu_failed:
  adr_l x0, msg_mmu
  bl early_puts
  b psci_off

wrong_el:
  adr_l x0, msg_el
  bl early_puts
  cmp x20, #1
  b.ne hyp_halt
  ldr x0, =0x84000008          /* at EL1 QEMU answers PSCI over HVC */
  hvc #0
  b hyp_halt

/* hyp_secondary_entry(x0 = slot 1..HYP_MAX_CPUS-1): PSCI CPU_ON lands here. */
.global hyp_secondary_entry
hyp_secondary_entry:
  mov x19, x0
  adr_l x1, hyp_vectors
  msr vbar_el2, x1
  ldr x1, =SCTLR_EL2_MMU_OFF
  msr sctlr_el2, x1
  isb
  /* stack top = __secondary_stacks + slot * (PAGE + size), past a guard page */
  sub x2, x19, #1
  ldr x3, =(PAGE + HYP_SECONDARY_STACK_SIZE)
  adr_l x1, __secondary_stacks
  madd x1, x2, x3, x1
  add x1, x1, x3
  mov sp, x1
  bl hyp_secondary_mmu
  mov x0, x19
  bl hyp_secondary_main
  b hyp_halt

psci_off:
  ldr x0, =0x84000008          /* PSCI SYSTEM_OFF, to QEMU's PSCI (EL3 conduit) */
  smc #0
.global hyp_halt
hyp_halt:
  wfi
  b hyp_halt

/* dcache_invalidate_range(x1 = start, x2 = end): DC IVAC by line. Uses x3, x4. */
dcache_invalidate_range:
  dcache_by_line ivac, x1, x2, x3, x4
  ret

/* early_puts(x0 = NUL-terminated string) on the PL011, MMU off. x0-x3, x9. */
early_puts:
  mov x3, x30
  mov x2, x0
  ldr x1, =HYP_UART
1:ldrb w0, [x2], #1
  cbz w0, 3f
2:ldr w9, [x1, #0x18]
  tbnz w9, #5, 2b
  str w0, [x1]
  b 1b
3:ret x3

.section .rodata
msg_el:
  .asciz "hyp: not started at EL2 (QEMU needs -M virt,virtualization=on)\r\n"
msg_mmu:
  .asciz "hyp: could not build its page tables\r\n"

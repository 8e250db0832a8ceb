/*
 * pvmfw entry: the first code of the VM. Runs from flash with the MMU off.
 *
 * In: x0 = device tree address from a hypervisor (AOSP protocol), or 0 under
 * plain `-bios` (QEMU leaves its DT at the board's DT base). Must be EL1.
 *
 * Order (nothing written in C/C++ runs before its prerequisite):
 *   1. refuse any exception level but EL1 (a message on the early UART, then
 *      PSCI SYSTEM_RESET through SMC where that exists)
 *   2. vectors, FP/SIMD access (CPACR_EL1.FPEN), stack
 *   3. copy .data (+ TLS init image) from flash, zero .tbss and .bss (aligned
 *      16-byte stores only), TPIDR_EL0 for the TLS block
 *   4. stack-protector canary from FEAT_RNG (RNDR) when present
 *   5. build the identity map, turn on MMU + caches (pvmfw_enable_mmu)
 *   6. pvmfw_main(dt, el) -- never returns
 */
#include <base/asm.h>
#include <board/layout.h>

/* System register values are built from typed fields in C++
 * (base/sysreg.h): entry/mmu.cc turns the MMU on, entry/canary.cc seeds the
 * stack protector. */

.section .text.head, "ax"
.global _start
_start:
  arm64_image_header real_start

.section .text.entry, "ax"
real_start:
  mov x19, x0                  /* DT address from the caller */
  mrs x20, CurrentEL
  ubfx x20, x20, #2, #2
  cmp x20, #1
  b.ne wrong_el

  adr_l x1, pvmfw_vectors
  msr vbar_el1, x1
  mov x1, #(3 << 20)           /* CPACR_EL1.FPEN: no FP/SIMD traps at EL1/EL0 */
  msr cpacr_el1, x1
  adr_l x1, pvmfw_sctlr_mmu_off /* known state: MMU and caches off (entry/mmu.cc) */
  ldr x1, [x1]
  msr sctlr_el1, x1
  isb
  /* Make sure the (so far unused) scratch RAM holds no stale cache lines. */
  adr_l x1, __scratch_start
  adr_l x2, __scratch_end
  bl dcache_invalidate_range

  adr_l x1, __stack_top
  mov sp, x1

  /* .data from flash, .tbss and .bss zeroed, the TLS pointer. */
  init_sections

  /* Stack canary from FEAT_RNG (RNDR) when present, else 0 (pvmfw_main
   * reports it). Before any stack-protected code runs. */
  bl pvmfw_seed_canary

  /* Identity map with W^X, then MMU and caches on. */
  bl pvmfw_enable_mmu          /* false: the map could not be built */
  cbz w0, mmu_failed

  mov x0, x19
  mov x1, x20
  bl pvmfw_main
  b pvmfw_halt

mmu_failed:
  adr_l x0, msg_mmu
  b early_fail

/* Not at EL1: say so on the early UART with the MMU off, then ask for a reset
 * through SMC (EL2 under QEMU's virtualization=on has PSCI there). */
wrong_el:
  adr_l x0, msg_el_1
  bl early_puts
  add x0, x20, #'0'
  bl early_putc
  adr_l x0, msg_el_2
  cmp x20, #3
  b.eq early_fail_noreset
/* The failure funnel's end, as for every other refusal (entry/jump.S):
 * wipe what pvmfw maps writable (the config window may already hold the
 * previous stage's CDIs), then PSCI SYSTEM_RESET through HVC at EL1, SMC at
 * EL2. */
early_fail:
  bl early_puts
  mrs x0, CurrentEL
  ubfx x0, x0, #2, #2
  cmp x0, #1
  cset x0, ne                  /* x0 = 1: SMC */
  ldr x1, =BOARD_EARLY_UART
  b pvmfw_wipe_and_reset
/* EL3 has no PSCI implementation to call: say so and halt. */
early_fail_noreset:
  bl early_puts
  b pvmfw_halt

/* early_puts(x0 = NUL-terminated string), early_putc(w0): PL011 DR, polling
 * FR.TXFF. Uses x0-x3 only. */
early_puts:
  mov x3, x30
  mov x2, x0
1:ldrb w0, [x2], #1
  cbz w0, 2f
  bl early_putc
  b 1b
2:ret x3
early_putc:
  ldr x1, =BOARD_EARLY_UART
1:ldr w9, [x1, #0x18]
  tbnz w9, #5, 1b
  str w0, [x1]
  ret

.global pvmfw_halt
pvmfw_halt:
  wfi
  b pvmfw_halt

/* dcache_invalidate_range(x1 = start, x2 = end): DC IVAC by line (CTR_EL0). */
.global dcache_invalidate_range
dcache_invalidate_range:
  dcache_by_line ivac, x1, x2, x3, x4
  ret

.section .rodata.entry, "a"
msg_el_1: .asciz "pvmfw: boot failed: WRONG_EXCEPTION_LEVEL: started at EL"
msg_el_2: .asciz ", pvmfw runs at EL1\r\n"
msg_mmu: .asciz "pvmfw: boot failed: INTERNAL_ERROR: cannot build the page tables\r\n"

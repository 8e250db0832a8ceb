/*
 * pvmfw_jump(entry, dt): hand the VM to the payload per the arm64 boot
 * protocol (Linux Documentation/arch/arm64/booting.rst §4): MMU off, D-cache
 * off and everything pvmfw wrote cleaned to the point of coherency (its
 * scratch here, the rest by its writers),
 * x0 = DT, x1..x3 = 0, primary CPU, interrupts masked.
 *
 * pvmfw's scratch RAM (data, bss, stacks, page tables) is cleaned and
 * invalidated while the MMU is still on, then zeroed with the MMU and caches
 * off, so no copy of its state survives either in memory or in a cache line.
 * Runs from flash, which stays identity mapped until the MMU is off.
 */
#include <board/layout.h>

#define SCTLR_RES1 ((1 << 29) | (1 << 28) | (1 << 23) | (1 << 22) | (1 << 20) | (1 << 11))

.macro adr_l reg, sym
  adrp \reg, \sym
  add \reg, \reg, :lo12:\sym
.endm

.section .text.jump, "ax"
.global pvmfw_jump
pvmfw_jump:
  msr daifset, #0xf
  mov x19, x0
  mov x20, x1

  /* Clean+invalidate scratch to PoC (DC CIVAC by line). The DT, the
   * handover and the wiped config blob were cleaned by their writers
   * (mmu::clean_to_poc). */
  mrs x3, ctr_el0
  ubfx x3, x3, #16, #4
  mov x4, #4
  lsl x21, x4, x3              /* x21 = D-cache line size */
  sub x22, x21, #1
  adr_l x1, __scratch_start
  adr_l x2, __scratch_end
  bl civac_range
  dsb sy

  /* MMU, D-cache and I-cache off. */
  ldr x1, =SCTLR_RES1
  msr sctlr_el1, x1
  isb
  ic iallu
  tlbi vmalle1
  dsb nsh
  isb

  /* Wipe pvmfw's RAM (16-byte aligned bounds by the link map). */
  adr_l x1, __scratch_start
  adr_l x2, __scratch_end
1:cmp x1, x2
  b.hs 2f
  stp xzr, xzr, [x1], #16
  b 1b
2:dsb sy

  /* Leave nothing of pvmfw's in system registers the payload can read. */
  msr ttbr0_el1, xzr
  msr tpidr_el1, xzr
  msr tpidrro_el0, xzr
  msr tpidr_el0, xzr
  msr vbar_el1, xzr
  isb

  /* FP/SIMD registers may hold key material from hashing or signing. */
  .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
  movi v\n\().2d, #0
  .endr
  msr fpsr, xzr

  mov x0, x20
  mov x16, x19
  mov x1, xzr
  mov x2, xzr
  mov x3, xzr
  mov x4, xzr
  mov x5, xzr
  mov x6, xzr
  mov x7, xzr
  mov x8, xzr
  mov x9, xzr
  mov x10, xzr
  mov x11, xzr
  mov x12, xzr
  mov x13, xzr
  mov x14, xzr
  mov x15, xzr
  mov x17, xzr
  mov x18, xzr
  mov x19, xzr
  mov x20, xzr
  mov x21, xzr
  mov x22, xzr
  mov x23, xzr
  mov x24, xzr
  mov x25, xzr
  mov x26, xzr
  mov x27, xzr
  mov x28, xzr
  mov x29, xzr
  mov x30, xzr
  mov sp, x30
  br x16

/* civac_range(x1 = start, x2 = end) with x21 = line size, x22 = line mask. */
civac_range:
  bic x1, x1, x22
1:cmp x1, x2
  b.hs 2f
  dc civac, x1
  add x1, x1, x21
  b 1b
2:ret

/*
 * The hypervisor test payload's entry and vectors. pvmfw jumps here at EL1
 * with the MMU off; x0 = the device tree. A synchronous exception from the
 * payload itself is recorded (ESR_EL1, FAR_EL1 in hyptest_last_esr/_far) and
 * the faulting instruction skipped, so a test can touch what it must not and
 * check the abort it gets. Anything else powers off.
 */
#include <base/asm.h>

.section .text.entry, "ax"
.global _start
_start:
  mov x19, x0
  adr_l x1, vectors
  msr vbar_el1, x1
  mov x1, #(3 << 20)           /* CPACR_EL1.FPEN: the C++ may use FP/SIMD */
  msr cpacr_el1, x1
  isb
  adr_l x1, __bss_start
  adr_l x2, __bss_end
1:cmp x1, x2
  b.hs 2f
  str xzr, [x1], #8
  b 1b
2:adr_l x1, stack_top
  mov sp, x1
  mov x0, x19
  bl hyptest_main
  ldr x0, =0x84000008          /* PSCI SYSTEM_OFF */
  hvc #0
3:wfi
  b 3b

.macro other
  .balign 0x80
  ldr x0, =0x84000008
  hvc #0
  b .
.endm

.balign 0x800
vectors:
  other
  other
  other
  other
  .balign 0x80                 /* current EL, SP_ELx: sync */
  stp x0, x1, [sp, #-16]!
  mrs x0, esr_el1
  adr_l x1, hyptest_last_esr
  str x0, [x1]
  mrs x0, far_el1
  adr_l x1, hyptest_last_far
  str x0, [x1]
  mrs x0, elr_el1
  add x0, x0, #4
  msr elr_el1, x0
  ldp x0, x1, [sp], #16
  eret
  other
  other
  other
  other
  other
  other
  other
  other
  other
  other
  other

.section .bss
.balign 16
.global hyptest_last_esr, hyptest_last_far
hyptest_last_esr: .quad 0
hyptest_last_far: .quad 0
.balign 16
stack: .space 16384
stack_top:

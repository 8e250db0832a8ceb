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

/* hyptest_secondary: where CPU_ON starts the second vCPU (EL1, MMU off, as
 * the boot vCPU runs: the counter is plain memory to both): it counts its
 * start in hyptest_secondary_runs and turns itself off (PSCI CPU_OFF). */
.global hyptest_secondary
hyptest_secondary:
  adr_l x1, hyptest_secondary_runs
  ldr x2, [x1]
  add x2, x2, #1
  str x2, [x1]
  dsb sy
  ldr x0, =0x84000002
  hvc #0
  b .

/* hyptest_fp_survives(x0 = function id, x1 = its first argument, x2 = 0
 * for HVC, else SMC): fills
 * v0..v31 and FPSR with a pattern, makes the call, and returns 1 if every
 * register still holds it (the hypervisor's trap path must not leak into,
 * or lose, the guest's FP/SIMD state), else 0. */
.global hyptest_fp_survives
hyptest_fp_survives:
  mov x9, x0
  mov x10, x2
  mov x14, x1
  ldr x11, =0x5a5aa5a5c3c33c3c
  .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
  add x12, x11, #\n
  fmov d\n, x12
  mov v\n\().d[1], x11
  .endr
  mov x12, #(1 << 27)          /* FPSR.QC */
  msr fpsr, x12
  mov x0, x9
  mov x1, x14
  cbnz x10, 1f
  hvc #0
  b 2f
1:smc #0
2:mrs x12, fpsr
  mov x13, #(1 << 27)
  cmp x12, x13
  b.ne 4f
  .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
  fmov x12, d\n
  add x13, x11, #\n
  cmp x12, x13
  b.ne 4f
  mov x12, v\n\().d[1]
  cmp x12, x11
  b.ne 4f
  .endr
  mov x0, #1
  ret
4:mov x0, #0
  ret

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
.global hyptest_last_esr, hyptest_last_far, hyptest_secondary_runs
hyptest_last_esr: .quad 0
hyptest_last_far: .quad 0
hyptest_secondary_runs: .quad 0
.balign 16
stack: .space 16384
stack_top:

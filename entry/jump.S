/*
 * The two ways out of pvmfw. Both leave nothing of pvmfw's state behind,
 * in memory or in a cache line, and neither uses a stack: the RAM they zero
 * holds the stack the caller ran on.
 *
 * pvmfw_jump(entry, dt): hand the VM to the payload per the arm64 boot
 * protocol (Linux Documentation/arch/arm64/booting.rst §4): MMU off, D-cache
 * off and everything pvmfw wrote cleaned to the point of coherency,
 * x0 = DT, x1..x3 = 0, primary CPU, interrupts masked. pvmfw's scratch RAM
 * (data, bss with mbedTLS's heap, page tables, both stacks) is wiped; the DT
 * window, the handover page and the wiped config blob were cleaned to the
 * point of coherency by their writers (mmu::clean_to_poc) and are kept.
 *
 * pvmfw_wipe_and_reset(smc, uart): the end of the failure funnel
 * (entry/fail.cc). Wipes all RAM pvmfw maps writable, lowest address first:
 * the DT window (input tree, rebuilt tree with its seeds), scratch (as
 * above, the failing code's frames and the exception frame included), the
 * config window (the previous stage's CDIs) and the handover page (the
 * VM's CDIs); then PSCI SYSTEM_RESET (Arm DEN0022 §5.1.10, function ID
 * 0x84000009) through HVC (smc == 0) or SMC. If the reset returns, one line
 * on the PL011 at `uart` (0: none) and WFI forever. Any exception from here
 * on goes to wipe_vectors: a fault while wiping resets at once (what is left
 * is beyond the fault: the ranges go up in address and RAM is contiguous),
 * a fault in the reset halts. Nothing loops, nothing prints twice.
 *
 * The wipe (wipe_ram), the same for both:
 *   1. DC CIVAC over every range, MMU and caches on: dirty lines reach
 *      memory and leave the caches
 *   2. MMU, D-cache and I-cache off (SCTLR_EL1), IC IALLU, TLBI VMALLE1
 *   3. zero every range: with stage 1 off, data accesses are Device-nGnRnE
 *      (Arm ARM D8, "The effects of disabling a stage of address
 *      translation"): the zeros go to memory, not to a cache
 *   4. DC IVAC over every range
 * Step 4 is what makes the wipe complete. Until step 2 the ranges are Normal
 * Write-Back memory, and the CPU may allocate lines for them speculatively
 * at any time, so a line fetched between steps 1 and 2 holds the old bytes
 * and outlives step 3, which bypasses the caches; the next cacheable read
 * (the payload's, or the next boot's once its caches are on) would return
 * them. Step 4 discards such lines. They are all clean -- nothing stores to
 * the ranges between steps 1 and 4 but step 3, whose stores do not
 * allocate -- so discarding loses nothing, and with the MMU off no new line
 * can be allocated. This is the Arm ARM's procedure for memory written
 * through a Non-cacheable view of cacheable memory (B2.8, "Mismatched memory
 * attributes": invalidate after writing, before a cacheable read). Zeroing
 * first with the caches on would leave the page tables (in use while the MMU
 * is on) to a second pass; this order needs none.
 *
 * Cache maintenance by VA takes translation faults (Arm ARM D7, "Data cache
 * maintenance instructions"): the ranges are exactly what entry/mmu.cc
 * maps writable, leaving out the unmapped stack guard pages.
 */
#include <base/asm.h>
#include <board/layout.h>

#define PSCI_SYSTEM_RESET 0x84000009

/* Calls \fn(x1 = start, x2 = end) for every range pvmfw maps writable, in
 * ascending address order; \all = 0: pvmfw's scratch only (the jump keeps
 * the DT window, the config window and the handover page). Bounds are
 * 16-byte aligned (the link map, the board layout). */
.macro each_range fn, all
  .if \all
  ldr x1, =BOARD_DT_BASE
  ldr x2, =(BOARD_DT_BASE + BOARD_DT_MAX_SIZE)
  bl \fn
  .endif
  adr_l x1, __scratch_start
  adr_l x2, __stack_guard
  bl \fn
  adr_l x1, __stack_bottom
  adr_l x2, __exc_stack_guard
  bl \fn
  adr_l x1, __exc_stack_bottom
  adr_l x2, __exc_stack_top
  bl \fn
  .if \all
  ldr x1, =BOARD_CONFIG_BASE
  ldr x2, =(BOARD_HANDOVER_BASE + BOARD_HANDOVER_SIZE)
  bl \fn
  .endif
.endm

/* Steps 1-4 above. Uses x0-x4, x21, x22, x30; keeps x19, x20, x26-x28. */
.macro wipe_ram all
  mrs x3, ctr_el0
  ubfx x3, x3, #16, #4         /* CTR_EL0.DminLine: log2 of the line in words */
  mov x4, #4
  lsl x21, x4, x3              /* x21 = D-cache line size */
  sub x22, x21, #1             /* x22 = line mask */

  each_range civac_range, \all
  dsb sy

  adr_l x1, pvmfw_sctlr_mmu_off  /* entry/mmu.cc, from base/sysreg.h */
  ldr x1, [x1]
  msr sctlr_el1, x1
  isb
  ic iallu
  tlbi vmalle1
  dsb nsh
  isb

  each_range zero_range, \all
  dsb sy
  each_range ivac_range, \all
  dsb sy
.endm

.section .text.jump, "ax"
.global pvmfw_jump
pvmfw_jump:
  msr daifset, #0xf
  mov x19, x0
  mov x20, x1

  wipe_ram 0

  /* Leave nothing of pvmfw's in system registers the payload can read. */
  msr ttbr0_el1, xzr
  msr tpidr_el1, xzr
  msr tpidrro_el0, xzr
  msr tpidr_el0, xzr
  msr vbar_el1, xzr
  isb

  /* FP/SIMD registers may hold key material from hashing or signing. */
  fpsimd_zero

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

/* x26: 0 while wiping, 1 once the reset is asked for (wipe_vectors);
 * x27: the UART, x28: the conduit. */
.global pvmfw_wipe_and_reset
pvmfw_wipe_and_reset:
  msr daifset, #0xf
  mov x26, #0
  mov x27, x1
  mov x28, x0
  adr_l x1, wipe_vectors
  msr vbar_el1, x1
  isb

  wipe_ram 1

  /* The exception stash of vectors.S (an interrupted x0 and SP). */
  msr tpidr_el1, xzr
  msr tpidrro_el0, xzr
  /* FP/SIMD registers, if FP is enabled yet (CPACR_EL1.FPEN == 0b11, start.S);
   * otherwise they hold nothing of this boot. */
  mrs x1, cpacr_el1
  ubfx x1, x1, #20, #2
  cmp x1, #3
  b.ne 1f
  .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
  movi v\n\().2d, #0
  .endr
1:
  /* FALLTHROUGH */
reset:
  mov x26, #1
  ldr x0, =PSCI_SYSTEM_RESET
  mov x1, xzr
  mov x2, xzr
  mov x3, xzr
  cbnz x28, 1f
  hvc #0
  b reset_returned
1:smc #0
reset_returned:
  cbz x27, halt
  adr_l x2, msg_reset_returned
1:ldrb w0, [x2], #1
  cbz w0, halt
2:ldr w1, [x27, #0x18]         /* PL011 FR: TXFF (bit 5) set while the FIFO is full */
  tbnz w1, #5, 2b
  str w0, [x27]                /* PL011 DR */
  b 1b
halt:
  wfi
  b halt

/* Every exception while wiping or resetting (Arm ARM D1.10.2 layout: 16
 * entries of 0x80 bytes). A fault in the reset or the message halts. */
.balign 0x800
wipe_vectors:
  .rept 16
  .balign 0x80
  b wipe_fault
  .endr
wipe_fault:
  cbz x26, reset
  b halt

/* civac_range, ivac_range, zero_range (x1 = start, x2 = end) with
 * x21 = line size, x22 = line mask; they use x1 only besides. */
civac_range:
  bic x1, x1, x22
1:cmp x1, x2
  b.hs 2f
  dc civac, x1
  add x1, x1, x21
  b 1b
2:ret

ivac_range:
  bic x1, x1, x22
1:cmp x1, x2
  b.hs 2f
  dc ivac, x1
  add x1, x1, x21
  b 1b
2:ret

zero_range:
1:cmp x1, x2
  b.hs 2f
  stp xzr, xzr, [x1], #16
  b 1b
2:ret

.section .rodata.jump, "a"
msg_reset_returned: .asciz "pvmfw: PSCI SYSTEM_RESET returned; halting\r\n"

/*
 * EL2 exception vectors (Arm ARM D1.10.2: 16 entries of 0x80 bytes).
 *
 * Lower EL (the VM), synchronous: save the guest's x0..x30 in a frame at the
 * top of this CPU's stack (SP_EL2 is the stack top whenever the VM runs), and
 * its FP/SIMD registers below it, call hyp_handle_trap(frame), restore the
 * (possibly changed) registers and return to the VM. HVC, trapped SMC and stage-2 aborts all come this way.
 *
 * Everything else (an exception in the hypervisor itself, or an interrupt,
 * which the hypervisor never unmasks or routes to itself) is fatal: on the
 * exception stack, hyp_fatal(kind, frame) prints the registers (none while
 * secrets are live), wipes the secrets and powers the machine off.
 *
 * Frame layout (hyp::GuestRegs / the fatal frame): x0..x30, then one spare
 * slot (the interrupted sp for fatal frames: entry/exception_frame.h).
 */
#include <base/asm.h>

.macro fatal kind
  .balign 0x80
  msr tpidr_el2, x0            /* stash x0 and the interrupted sp (the */
  mov x0, sp                   /* guest's TPIDRRO_EL0 is lost: the machine */
  msr tpidrro_el0, x0          /* powers off after the report) */
  adr_l x0, __exc_stack_top
  mov sp, x0
  mov x0, #\kind
  b fatal_common
.endm

.macro guest_sync
  .balign 0x80
  sub sp, sp, #(32 * 8)
  stp x0, x1, [sp, #0]
  b guest_common
.endm

.section .text.vectors, "ax"
.balign 0x800
.global hyp_vectors
hyp_vectors:
  fatal 0   /* current EL, SP_EL0: sync */
  fatal 1
  fatal 2
  fatal 3
  fatal 4   /* current EL, SP_EL2: sync */
  fatal 5
  fatal 6
  fatal 7
  guest_sync /* lower EL, AArch64: sync */
  fatal 9
  fatal 10
  fatal 11
  guest_sync /* lower EL, AArch32 (EL0 of the VM): sync */
  fatal 13
  fatal 14
  fatal 15

guest_common:
  stp x2, x3, [sp, #16]
  stp x4, x5, [sp, #32]
  stp x6, x7, [sp, #48]
  stp x8, x9, [sp, #64]
  stp x10, x11, [sp, #80]
  stp x12, x13, [sp, #96]
  stp x14, x15, [sp, #112]
  stp x16, x17, [sp, #128]
  stp x18, x19, [sp, #144]
  stp x20, x21, [sp, #160]
  stp x22, x23, [sp, #176]
  stp x24, x25, [sp, #192]
  stp x26, x27, [sp, #208]
  stp x28, x29, [sp, #224]
  str x30, [sp, #240]
  /* The guest's FP/SIMD state too: the C++ below (and what it calls) may
   * use those registers, and a guest's user space keeps live values there
   * across the guest kernel's hypercalls. */
  fpsimd_push
  add x0, sp, #FPSIMD_FRAME_SIZE
  mov x29, #0
  bl hyp_handle_trap
  fpsimd_pop
  ldp x2, x3, [sp, #16]
  ldp x4, x5, [sp, #32]
  ldp x6, x7, [sp, #48]
  ldp x8, x9, [sp, #64]
  ldp x10, x11, [sp, #80]
  ldp x12, x13, [sp, #96]
  ldp x14, x15, [sp, #112]
  ldp x16, x17, [sp, #128]
  ldp x18, x19, [sp, #144]
  ldp x20, x21, [sp, #160]
  ldp x22, x23, [sp, #176]
  ldp x24, x25, [sp, #192]
  ldp x26, x27, [sp, #208]
  ldp x28, x29, [sp, #224]
  ldr x30, [sp, #240]
  ldp x0, x1, [sp, #0]
  add sp, sp, #(32 * 8)
  eret

fatal_common:
  frame_push_x1_x30
  mrs x1, tpidr_el2
  str x1, [sp, #0]
  mrs x1, tpidrro_el0
  str x1, [sp, #248]
  mov x1, sp
  mov x29, #0
  bl hyp_fatal
  b hyp_halt

/* hyp_enter_guest(x0 = the guest's x0, x1 = this CPU's stack top): enter the
 * VM at ELR_EL2 with SPSR_EL2 (set by the caller), every other general
 * register zero. Traps then find SP_EL2 at the stack top. */
.global hyp_enter_guest
hyp_enter_guest:
  mov sp, x1
  /* Nothing of the hypervisor's reaches the VM: the DICE stage hashed and
   * signed with FP/SIMD registers. */
  fpsimd_zero
  mov x1, #0
  mov x2, #0
  mov x3, #0
  mov x4, #0
  mov x5, #0
  mov x6, #0
  mov x7, #0
  mov x8, #0
  mov x9, #0
  mov x10, #0
  mov x11, #0
  mov x12, #0
  mov x13, #0
  mov x14, #0
  mov x15, #0
  mov x16, #0
  mov x17, #0
  mov x18, #0
  mov x19, #0
  mov x20, #0
  mov x21, #0
  mov x22, #0
  mov x23, #0
  mov x24, #0
  mov x25, #0
  mov x26, #0
  mov x27, #0
  mov x28, #0
  mov x29, #0
  mov x30, #0
  eret

/* hyp_wipe_stack_below_sp(x0 = stack bottom): zeroes [x0, sp) without using
 * the stack: what deeper calls left there (the DICE derivation's frames). */
.global hyp_wipe_stack_below_sp
hyp_wipe_stack_below_sp:
  mov x1, sp
1:cmp x0, x1
  b.hs 2f
  stp xzr, xzr, [x0], #16
  b 1b
2:ret

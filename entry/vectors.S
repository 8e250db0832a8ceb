/*
 * EL1 exception vectors (Arm ARM D1.10.2: 16 entries of 0x80 bytes, table
 * 2 KiB aligned). pvmfw expects no exception at all: every entry saves the
 * registers on a dedicated exception stack (so a stack overflow into the guard
 * page is still reported) and calls pvmfw_exception(kind, frame), which prints
 * the dump and the reason, then the failure funnel wipes pvmfw's RAM (this
 * frame included) and resets the VM. Nothing here returns.
 *
 * Frame layout (struct ExceptionFrame in exceptions.cc): x0..x30, sp.
 */
#include <base/asm.h>

.macro entry kind
  .balign 0x80
  msr tpidr_el1, x0            /* stash x0 and the interrupted sp */
  mov x0, sp
  msr tpidrro_el0, x0
  adr_l x0, __exc_stack_top
  mov sp, x0
  mov x0, #\kind
  b exception_common
.endm

.section .text.vectors, "ax"
.balign 0x800
.global pvmfw_vectors
pvmfw_vectors:
  entry 0   /* current EL, SP_EL0: sync */
  entry 1   /* irq */
  entry 2   /* fiq */
  entry 3   /* serror */
  entry 4   /* current EL, SP_ELx: sync */
  entry 5
  entry 6
  entry 7
  entry 8   /* lower EL, AArch64 */
  entry 9
  entry 10
  entry 11
  entry 12  /* lower EL, AArch32 */
  entry 13
  entry 14
  entry 15

exception_common:
  frame_push_x1_x30
  mrs x1, tpidr_el1
  str x1, [sp, #0]
  mrs x1, tpidrro_el0
  str x1, [sp, #248]
  msr tpidr_el1, xzr
  msr tpidrro_el0, xzr
  mov x1, sp
  mov x29, #0                  /* end the frame chain for the reporter */
  bl pvmfw_exception
  b pvmfw_halt

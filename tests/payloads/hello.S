/*
 * A bare-metal test payload for the QEMU tests: what the hand-off from pvmfw
 * looks like from the payload's side. Position independent; runs wherever
 * pvm run places it. Prints on the qemu-virt PL011 and powers off with PSCI.
 *
 *   payload: x0=... x1=... x2=... x3=...     registers at entry (x1..x3 must be 0)
 *   payload: sctlr_el1=...
 *   payload: mmu and d-cache off | MMU OR D-CACHE ON
 *   payload: x1-x3 zero | x1-x3 NOT zero
 *   payload: dt magic ok | dt magic BAD       x0 points at a flattened DT
 *   payload: scratch wiped | scratch NOT wiped  pvmfw's RAM holds no leftovers
 *   payload: dice handover present | ABSENT   the reserved DICE page holds a handover
 *   payload: handover <64 hex digits>          that page, 32 bytes a line, up to its
 *                                              last non-zero byte (tests/qemu/dice_boot.py)
 *   payload: done
 */
#include <board/layout.h>

#define UART BOARD_EARLY_UART

.section .text, "ax"
.global _start
_start:
  mov x19, x0
  mov x20, x1
  mov x21, x2
  mov x22, x3
  mrs x23, sctlr_el1
  mrs x24, vbar_el1

  adr x0, s_hello
  bl puts
  adr x0, s_x0
  bl puts
  mov x0, x19
  bl puthex
  adr x0, s_x1
  bl puts
  mov x0, x20
  bl puthex
  adr x0, s_x2
  bl puts
  mov x0, x21
  bl puthex
  adr x0, s_x3
  bl puts
  mov x0, x22
  bl puthex
  adr x0, s_sctlr
  bl puts
  mov x0, x23
  bl puthex
  adr x0, s_vbar
  bl puts
  mov x0, x24
  bl puthex
  adr x0, s_nl
  bl puts

  /* arm64 boot protocol: MMU (SCTLR.M, bit 0) and D-cache (SCTLR.C, bit 2) off. */
  adr x0, s_mmu_off
  mov x1, #5
  tst x23, x1
  b.eq 1f
  adr x0, s_mmu_on
1:bl puts
  /* x1..x3 are zero. */
  adr x0, s_regs_zero
  orr x1, x20, x21
  orr x1, x1, x22
  cbz x1, 1f
  adr x0, s_regs_dirty
1:bl puts

  /* DT magic 0xd00dfeed, big-endian in memory. */
  ldr w1, [x19]
  ldr w2, =0xedfe0dd0
  adr x0, s_dt_ok
  cmp w1, w2
  b.eq 1f
  adr x0, s_dt_bad
1:bl puts

  /* pvmfw's RAM and the config blob window must read as zeros (everything
   * of pvmfw's window but the DICE handover page). */
  ldr x1, =BOARD_SCRATCH_BASE
  ldr x2, =BOARD_HANDOVER_BASE
  adr x0, s_wiped
2:cmp x1, x2
  b.hs 3f
  ldr x3, [x1], #8
  cbz x3, 2b
  adr x0, s_not_wiped
3:bl puts

  /* The DICE handover: a CBOR map of 3 entries (0xa3) {1: CDI_Attest, ...}. */
  ldr x1, =BOARD_HANDOVER_BASE
  ldrb w1, [x1]
  adr x0, s_handover_ok
  cmp w1, #0xa3
  b.eq 5f
  adr x0, s_handover_bad
5:bl puts

  /* The handover page as hex, 32 bytes a line, up to its last non-zero byte,
   * for the host to compare with what `pvm dice derive` predicts. */
  ldr x25, =BOARD_HANDOVER_BASE
  add x26, x25, #BOARD_HANDOVER_SIZE
6:cmp x26, x25
  b.ls 8f
  ldrb w1, [x26, #-1]
  cbnz w1, 8f
  sub x26, x26, #1
  b 6b
8:cmp x25, x26
  b.hs 9f
  adr x0, s_handover_line
  bl puts
  mov x27, #32
7:ldrb w0, [x25], #1
  bl putbyte
  subs x27, x27, #1
  b.ne 7b
  adr x0, s_nl
  bl puts
  b 8b
9:
  adr x0, s_done
  bl puts
  ldr x0, =0x84000008        /* PSCI SYSTEM_OFF */
  hvc #0
4:wfi
  b 4b

/* puts(x0): x0-x2, x9 clobbered; preserves x30 via x10. */
puts:
  mov x10, x30
  mov x2, x0
1:ldrb w0, [x2], #1
  cbz w0, 2f
  bl putc
  b 1b
2:ret x10

/* puthex(x0): 16 hex digits. */
puthex:
  mov x11, x30
  mov x12, x0
  mov x13, #60
1:lsr x0, x12, x13
  and x0, x0, #0xf
  cmp x0, #10
  add x1, x0, #'0'
  add x0, x0, #('a' - 10)
  csel x0, x1, x0, lo
  bl putc
  subs x13, x13, #4
  b.pl 1b
  ret x11

/* putbyte(w0): 2 hex digits; x0, x1, x9, x14, x15 clobbered. */
putbyte:
  mov x14, x30
  and x15, x0, #0xff
  lsr x0, x15, #4
  bl nibble
  and x0, x15, #0xf
  bl nibble
  ret x14

/* nibble(x0 < 16): one hex digit; preserves x30 via x16. */
nibble:
  mov x16, x30
  cmp x0, #10
  add x1, x0, #'0'
  add x0, x0, #('a' - 10)
  csel x0, x1, x0, lo
  bl putc
  ret x16

putc:
  ldr x1, =UART
1:ldr w9, [x1, #0x18]
  tbnz w9, #5, 1b
  cmp w0, #'\n'
  b.ne 2f
  mov w9, #'\r'
  str w9, [x1]
2:str w0, [x1]
  ret

.section .rodata, "a"
s_hello: .asciz "payload: hello from the test payload\n"
s_x0: .asciz "payload: x0="
s_x1: .asciz " x1="
s_x2: .asciz " x2="
s_x3: .asciz " x3="
s_sctlr: .asciz "\npayload: sctlr_el1="
s_vbar: .asciz " vbar_el1="
s_nl: .asciz "\n"
s_mmu_off: .asciz "payload: mmu and d-cache off\n"
s_mmu_on: .asciz "payload: MMU OR D-CACHE ON\n"
s_regs_zero: .asciz "payload: x1-x3 zero\n"
s_regs_dirty: .asciz "payload: x1-x3 NOT zero\n"
s_dt_ok: .asciz "payload: dt magic ok\n"
s_dt_bad: .asciz "payload: dt magic BAD\n"
s_wiped: .asciz "payload: scratch wiped\n"
s_not_wiped: .asciz "payload: scratch NOT wiped\n"
s_handover_ok: .asciz "payload: dice handover present\n"
s_handover_bad: .asciz "payload: dice handover ABSENT\n"
s_handover_line: .asciz "payload: handover "
s_done: .asciz "payload: done\n"

/*
 * Assembler macros shared by the images' start-up code: pvmfw (entry/),
 * hyp.bin (hypervisor/el2/) and the bare-metal test payloads. Only for .S
 * files; each macro names the registers it clobbers.
 */
#pragma once

#ifndef __ASSEMBLER__
#error "base/asm.h is for assembly files"
#endif

/* adr_l reg, sym: sym's address, PC-relative (within 4 GiB). */
.macro adr_l reg, sym
  adrp \reg, \sym
  add \reg, \reg, :lo12:\sym
.endm

/*
 * arm64_image_header entry: Linux's arm64 Image header (booting.rst), so
 * loaders that expect one can place the image; code0 branches to `entry`.
 * The link map provides __image_size.
 */
.macro arm64_image_header entry
  b \entry                     /* code0 */
  .word 0                      /* code1 */
  .quad 0                      /* text_offset */
  .quad __image_size           /* image_size */
  .quad 0xa                    /* flags: LE, 4K pages, anywhere */
  .quad 0, 0, 0                /* res2..res4 */
  .ascii "ARM\x64"             /* magic */
  .word 0                      /* res5 */
.endm

/*
 * init_sections: the C/C++ run-time's sections, with the MMU off. Copies
 * .data (and the TLS init image) from __data_lma to [__data_start,
 * __data_end), zeroes [__bss_start, __bss_end) (.tbss included), and points
 * TPIDR_EL0 at the TLS block (__tls_start - 16, the AArch64 TLS variant-1
 * layout picolibc's errno uses). The link map aligns all four ends to 16
 * bytes: aligned 16-byte accesses only (no alignment fault with the MMU off).
 * Clobbers x1-x5.
 */
.macro init_sections
  adr_l x1, __data_lma
  adr_l x2, __data_start
  adr_l x3, __data_end
1:cmp x2, x3
  b.hs 2f
  ldp x4, x5, [x1], #16
  stp x4, x5, [x2], #16
  b 1b
2:adr_l x2, __bss_start
  adr_l x3, __bss_end
3:cmp x2, x3
  b.hs 4f
  stp xzr, xzr, [x2], #16
  b 3b
4:adr_l x1, __tls_start
  sub x1, x1, #16
  msr tpidr_el0, x1
.endm

/*
 * dcache_by_line op, start, end, line, mask: DC <op> on every data-cache
 * line of [start, end), then DSB SY. The line size is CTR_EL0.DminLine
 * (words, log2). start is consumed; line and mask are scratch registers.
 */
.macro dcache_by_line op, start, end, line, mask
  mrs \line, ctr_el0
  ubfx \line, \line, #16, #4
  mov \mask, #4
  lsl \line, \mask, \line      /* line size in bytes */
  sub \mask, \line, #1
  bic \start, \start, \mask
1:cmp \start, \end
  b.hs 2f
  dc \op, \start
  add \start, \start, \line
  b 1b
2:dsb sy
.endm

/*
 * frame_push_x1_x30: makes a 32-slot frame below sp (x0..x30 in slots 0..30,
 * slot 31 spare) and stores x1..x30 in it; slots 0 and 31 are the caller's
 * to fill. The layout of the exception frames pvmfw and hyp.bin report.
 */
.macro frame_push_x1_x30
  sub sp, sp, #(32 * 8)
  stp x1, x2, [sp, #8]
  stp x3, x4, [sp, #24]
  stp x5, x6, [sp, #40]
  stp x7, x8, [sp, #56]
  stp x9, x10, [sp, #72]
  stp x11, x12, [sp, #88]
  stp x13, x14, [sp, #104]
  stp x15, x16, [sp, #120]
  stp x17, x18, [sp, #136]
  stp x19, x20, [sp, #152]
  stp x21, x22, [sp, #168]
  stp x23, x24, [sp, #184]
  stp x25, x26, [sp, #200]
  stp x27, x28, [sp, #216]
  stp x29, x30, [sp, #232]
.endm

/*
 * fpsimd_zero: v0..v31 and FPSR zero. What a stage leaves behind before the
 * next runs: hashing and signing leave key material in these registers.
 */
.macro fpsimd_zero
  .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
  movi d\n, #0                 /* a D write zeroes the whole V register */
  .endr
  msr fpsr, xzr
.endm

/*
 * fpsimd_push / fpsimd_pop: FPSR and FPCR, then q0..q31, in a 528-byte frame
 * below sp, and back. Clobber x2 and x3.
 */
#define FPSIMD_FRAME_SIZE (32 * 16 + 16)
.macro fpsimd_push
  sub sp, sp, #FPSIMD_FRAME_SIZE
  mrs x2, fpsr
  mrs x3, fpcr
  stp x2, x3, [sp, #0]
  stp q0, q1, [sp, #16]
  stp q2, q3, [sp, #48]
  stp q4, q5, [sp, #80]
  stp q6, q7, [sp, #112]
  stp q8, q9, [sp, #144]
  stp q10, q11, [sp, #176]
  stp q12, q13, [sp, #208]
  stp q14, q15, [sp, #240]
  stp q16, q17, [sp, #272]
  stp q18, q19, [sp, #304]
  stp q20, q21, [sp, #336]
  stp q22, q23, [sp, #368]
  stp q24, q25, [sp, #400]
  stp q26, q27, [sp, #432]
  stp q28, q29, [sp, #464]
  stp q30, q31, [sp, #496]
.endm
.macro fpsimd_pop
  ldp q0, q1, [sp, #16]
  ldp q2, q3, [sp, #48]
  ldp q4, q5, [sp, #80]
  ldp q6, q7, [sp, #112]
  ldp q8, q9, [sp, #144]
  ldp q10, q11, [sp, #176]
  ldp q12, q13, [sp, #208]
  ldp q14, q15, [sp, #240]
  ldp q16, q17, [sp, #272]
  ldp q18, q19, [sp, #304]
  ldp q20, q21, [sp, #336]
  ldp q22, q23, [sp, #368]
  ldp q24, q25, [sp, #400]
  ldp q26, q27, [sp, #432]
  ldp q28, q29, [sp, #464]
  ldp q30, q31, [sp, #496]
  ldp x2, x3, [sp, #0]
  msr fpsr, x2
  msr fpcr, x3
  add sp, sp, #FPSIMD_FRAME_SIZE
.endm

/*
 * pvmfw's link map (preprocessed with board/layout.h). The image runs in place
 * from flash; everything writable lives in the board's scratch RAM window and
 * is wiped before the payload runs. docs/memory-map.md shows the result.
 */
#include <board/layout.h>

OUTPUT_FORMAT("elf64-littleaarch64")
OUTPUT_ARCH(aarch64)
ENTRY(_start)

#define STACK_SIZE (48 * 1024)
#define EXC_STACK_SIZE (8 * 1024)
#define PAGE 4096

MEMORY {
  image (rx) : ORIGIN = BOARD_FLASH_BASE, LENGTH = BOARD_IMAGE_MAX_SIZE
  scratch (rw) : ORIGIN = BOARD_SCRATCH_BASE, LENGTH = BOARD_CONFIG_BASE - BOARD_SCRATCH_BASE
}

SECTIONS {
  .text : ALIGN(PAGE) {
    __image_start = .;
    __text_start = .;
    KEEP(*(.text.head))
    *(.text.entry)
    *(.text .text.*)
    . = ALIGN(PAGE);
    __text_end = .;
  } >image

  .rodata : ALIGN(PAGE) {
    __rodata_start = .;
    *(.rodata .rodata.*)
    *(.got .got.plt)
  } >image

  /* No static constructors: the freestanding rules forbid them (docs). */
  .init_array : { *(.init_array .init_array.*) *(.ctors) } >image
  ASSERT(SIZEOF(.init_array) == 0, "static constructors are not allowed in the firmware")

  /* First in scratch, so at its page-aligned start; only 16-byte aligned
   * in the image (its load copy follows .rodata, no padding page). */
  .data : ALIGN(16) {
    __scratch_start = .;
    __data_start = .;
    *(.data .data.*)
    . = ALIGN(16);
  } >scratch AT>image
  /* The one thread's TLS block (picolibc's errno): initialised with .data,
   * its .tbss part zeroed with .bss. TPIDR_EL0 = __tls_start - 16 (AArch64
   * TLS variant 1: a 16-byte TCB precedes the block). */
  .tdata : ALIGN(16) {
    __tls_start = .;
    *(.tdata .tdata.*)
    . = ALIGN(16);
    __data_end = .;
  } >scratch AT>image
  __data_lma = LOADADDR(.data);
  ASSERT(__scratch_start == BOARD_SCRATCH_BASE, ".data must open the scratch window")
  ASSERT(LOADADDR(.tdata) - LOADADDR(.data) == ADDR(.tdata) - ADDR(.data),
         ".data and .tdata must be copied as one block")
  ASSERT(ALIGNOF(.tdata) <= 16 && ALIGNOF(.tbss) <= 16, "TLS alignment above 16 is not handled")

  /* The flash image ends here (the data image is its last part). */
  __rodata_end = ALIGN(LOADADDR(.tdata) + SIZEOF(.tdata), PAGE);
  __image_end = LOADADDR(.tdata) + SIZEOF(.tdata);
  __image_size = __image_end - __image_start;

  .tbss (NOLOAD) : ALIGN(16) {
    __bss_start = .;
    *(.tbss .tbss.*)
  } >scratch
  /* .tbss takes no address space of its own: reserve it. */
  .tbss_space (NOLOAD) : {
    . = __bss_start + SIZEOF(.tbss);
  } >scratch

  .bss (NOLOAD) : ALIGN(16) {
    *(.bss .bss.*)
    *(COMMON)
    . = ALIGN(16);
    __bss_end = .;
  } >scratch

  /* Stacks, each with an unmapped guard page below it. */
  .stacks (NOLOAD) : ALIGN(PAGE) {
    __stack_guard = .;
    . += PAGE;
    __stack_bottom = .;
    . += STACK_SIZE;
    __stack_top = .;
    __exc_stack_guard = .;
    . += PAGE;
    __exc_stack_bottom = .;
    . += EXC_STACK_SIZE;
    __exc_stack_top = .;
  } >scratch
  __scratch_end = .;

  /DISCARD/ : { *(.comment) *(.note*) *(.eh_frame*) *(.ARM.exidx*) *(.interp) *(.dynamic) }
}

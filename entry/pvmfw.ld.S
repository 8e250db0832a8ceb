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
#define HEAP_SIZE (64 * 1024)
#define PAGE 4096

MEMORY {
  image (rx) : ORIGIN = BOARD_FLASH_BASE, LENGTH = BOARD_IMAGE_MAX_SIZE
  scratch (rw) : ORIGIN = BOARD_SCRATCH_BASE, LENGTH = BOARD_SCRATCH_SIZE
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

  .data : ALIGN(PAGE) {
    __scratch_start = .;
    __data_start = .;
    *(.data .data.*)
    . = ALIGN(16);
    __data_end = .;
  } >scratch AT>image
  __data_lma = LOADADDR(.data);

  /* The flash image ends here (the data image is its last part). */
  __rodata_end = ALIGN(LOADADDR(.data) + SIZEOF(.data), PAGE);
  __image_end = LOADADDR(.data) + SIZEOF(.data);
  __image_size = __image_end - __image_start;

  .tdata : { *(.tdata .tdata.*) } >scratch AT>image
  .tbss (NOLOAD) : { *(.tbss .tbss.*) } >scratch
  ASSERT(SIZEOF(.tdata) == 0 && SIZEOF(.tbss) == 0, "thread-local data needs a TLS block (not set up)")

  .bss (NOLOAD) : ALIGN(16) {
    __bss_start = .;
    *(.bss .bss.*)
    *(COMMON)
    . = ALIGN(16);
    __bss_end = .;
  } >scratch

  /* The bounded heap behind picolibc's malloc (used by mbedTLS bignum only). */
  .heap (NOLOAD) : ALIGN(PAGE) {
    __heap_start = .;
    . += HEAP_SIZE;
    __heap_end = .;
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

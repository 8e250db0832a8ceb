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
#define IMAGE_SCRATCH_BASE BOARD_SCRATCH_BASE
#include <base/image_sections.ld.h>

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

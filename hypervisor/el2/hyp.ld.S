/*
 * hyp.bin's link map (preprocessed with el2/layout.h). Runs in place from
 * flash; everything writable is in the hypervisor's scratch RAM, which no VM
 * maps. docs/hypervisor.md has the whole physical map.
 */
#include <el2/layout.h>

OUTPUT_FORMAT("elf64-littleaarch64")
OUTPUT_ARCH(aarch64)
ENTRY(_start)

#define PAGE 4096

MEMORY {
  image (rx) : ORIGIN = HYP_FLASH_BASE, LENGTH = HYP_IMAGE_MAX_SIZE
  scratch (rw) : ORIGIN = HYP_SCRATCH_BASE, LENGTH = HYP_SCRATCH_SIZE
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

  .init_array : { *(.init_array .init_array.*) *(.ctors) } >image
  ASSERT(SIZEOF(.init_array) == 0, "static constructors are not allowed in the hypervisor")

  .data : ALIGN(16) {
    __scratch_start = .;
    __data_start = .;
    *(.data .data.*)
    . = ALIGN(16);
  } >scratch AT>image
  .tdata : ALIGN(16) {
    __tls_start = .;
    *(.tdata .tdata.*)
    . = ALIGN(16);
    __data_end = .;
  } >scratch AT>image
  __data_lma = LOADADDR(.data);
  ASSERT(__scratch_start == HYP_SCRATCH_BASE, ".data must open the scratch window")
  ASSERT(LOADADDR(.tdata) - LOADADDR(.data) == ADDR(.tdata) - ADDR(.data),
         ".data and .tdata must be copied as one block")

  __rodata_end = ALIGN(LOADADDR(.tdata) + SIZEOF(.tdata), PAGE);
  __image_end = LOADADDR(.tdata) + SIZEOF(.tdata);
  __image_size = __image_end - __image_start;

  .tbss (NOLOAD) : ALIGN(16) {
    __bss_start = .;
    *(.tbss .tbss.*)
  } >scratch
  .tbss_space (NOLOAD) : {
    . = __bss_start + SIZEOF(.tbss);
  } >scratch

  .bss (NOLOAD) : ALIGN(16) {
    *(.bss .bss.*)
    *(COMMON)
    . = ALIGN(16);
    __bss_end = .;
  } >scratch

  /* The boot CPU's stack, then one per secondary CPU; each with an unmapped
   * guard page below it. */
  .stacks (NOLOAD) : ALIGN(PAGE) {
    __stack_guard = .;
    . += PAGE;
    __stack_bottom = .;
    . += HYP_STACK_SIZE;
    __stack_top = .;
    __secondary_stacks = .;
    . += (HYP_MAX_CPUS - 1) * (PAGE + HYP_SECONDARY_STACK_SIZE);
    __secondary_stacks_end = .;
    /* Only the fatal-exception reporter runs here (a stack overflow into a
     * guard page is still reported). */
    __exc_stack_guard = .;
    . += PAGE;
    __exc_stack_bottom = .;
    . += 8192;
    __exc_stack_top = .;
  } >scratch
  __scratch_end = .;

  /DISCARD/ : { *(.comment) *(.note*) *(.eh_frame*) *(.ARM.exidx*) *(.interp) *(.dynamic) }
}

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
#define IMAGE_SCRATCH_BASE HYP_SCRATCH_BASE
#include <base/image_sections.ld.h>

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

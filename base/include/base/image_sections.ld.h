/*
 * The sections every image of the project links alike (pvmfw's
 * entry/pvmfw.ld.S, hyp.bin's hypervisor/el2/hyp.ld.S): code and read-only
 * data in the image, then .data (and the TLS init image) copied to the start
 * of the scratch RAM, .tbss and .bss zeroed after it (base/asm.h
 * init_sections does both). Included inside SECTIONS, with PAGE and
 * IMAGE_SCRATCH_BASE defined and MEMORY regions `image` and `scratch`.
 * Defines __image_start/_end/_size, __text_start/_end, __rodata_start/_end,
 * __scratch_start, __data_start/_end/_lma, __tls_start, __bss_start/_end.
 * The includer adds its stacks, __scratch_end and /DISCARD/.
 */
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

  /* No static constructors: the freestanding rules forbid them. */
  .init_array : { *(.init_array .init_array.*) *(.ctors) } >image
  ASSERT(SIZEOF(.init_array) == 0, "static constructors are not allowed in the images")

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
  ASSERT(__scratch_start == IMAGE_SCRATCH_BASE, ".data must open the scratch window")
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

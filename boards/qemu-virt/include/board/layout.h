/*
 * Memory layout of the qemu-virt board as pvmfw uses it. Plain #defines so the
 * linker script, assembly, firmware and host tools (pvm run) share one source.
 * Facts: ../shared/reference/qemu-virt.md; the map as built: docs/memory-map.md.
 */
#ifndef BOARD_LAYOUT_H_
#define BOARD_LAYOUT_H_

/* Flash bank 0: pvmfw.bin is loaded here by `-bios` and runs in place (read-only).
 * The image (and, later, its appended config blob) must fit in the first 2 MiB. */
#define BOARD_FLASH_BASE 0x00000000
#define BOARD_IMAGE_MAX_SIZE 0x00200000

/* Device window: everything between flash bank 1's end and RAM. */
#define BOARD_DEVICE_BASE 0x08000000
#define BOARD_DEVICE_END 0x40000000

/* Console used before the device tree names one. */
#define BOARD_EARLY_UART 0x09000000

/* RAM starts here; its size comes from the device tree. */
#define BOARD_RAM_BASE 0x40000000

/* The input device tree: QEMU puts its own (plain -bios) or the VMM's (pvm run,
 * through -dtb) at the start of RAM. pvmfw also accepts x0 != 0 at entry. */
#define BOARD_DT_BASE 0x40000000
#define BOARD_DT_MAX_SIZE 0x00200000

/* pvmfw's window in RAM, 2 MiB, never given to the payload as code or data:
 *   BOARD_SCRATCH_BASE  pvmfw's own RAM (data, bss, page tables, stacks;
 *                       the link map keeps it below BOARD_CONFIG_BASE), wiped
 *                       before the jump
 *   BOARD_CONFIG_BASE   the configuration blob from the VMM ("pvmf": the
 *                       previous stage's DICE handover, ...), placed in RAM
 *                       by `pvm run` because flash stays readable by the guest;
 *                       wiped before the jump
 *   BOARD_BOUNCE_BASE   the pages shared with the host for the instance disk
 *   BOARD_HANDOVER_BASE the 4 KiB DICE handover pvmfw writes for the payload,
 *                       described by /reserved-memory (google,open-dice) */
#define BOARD_SCRATCH_BASE 0x40200000
#define BOARD_SCRATCH_SIZE 0x00200000
#define BOARD_CONFIG_BASE 0x40300000
#define BOARD_CONFIG_MAX_SIZE 0x000fd000
/* Two pages pvmfw shares with the host to reach the instance disk (virtio
 * rings and one bounce buffer); nothing secret is ever in them. */
#define BOARD_BOUNCE_BASE 0x403fd000
#define BOARD_BOUNCE_SIZE 0x00002000
#define BOARD_HANDOVER_BASE 0x403ff000
#define BOARD_HANDOVER_SIZE 0x00001000

/* Where `pvm run` places the kernel by default (2 MiB aligned, after scratch). */
#define BOARD_KERNEL_BASE 0x40400000

#endif /* BOARD_LAYOUT_H_ */

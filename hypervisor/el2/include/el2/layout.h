/*
 * The hypervisor's physical memory map on qemu-virt (docs/hypervisor.md).
 * Plain #defines: shared by the link map, the assembly and the C++.
 */
#ifndef EL2_LAYOUT_H_
#define EL2_LAYOUT_H_

/* hyp.bin runs in place from flash bank 0 (-bios); at most 2 MiB. */
#define HYP_FLASH_BASE 0x00000000
#define HYP_IMAGE_MAX_SIZE 0x00200000

/* The hypervisor's 16 MiB, at a fixed physical address above the largest VM
 * (launch/constants.h kHypBase; QEMU's RAM is fixed at 2064 MiB) and in no
 * VM's stage 2:
 *   HYP_SCRATCH  data, bss (tables, VM state, mbedTLS heap), stacks
 *   HYP_STAGING  pvmfw.img as read and verified; its image pages are the
 *                VM's IPA 0 (read + execute in stage 2) */
#define HYP_RAM_BASE 0xC0000000
#define HYP_SCRATCH_BASE 0xC0000000
#define HYP_SCRATCH_SIZE 0x00400000
#define HYP_STAGING_BASE 0xC0400000
#define HYP_STAGING_SIZE 0x00c00000
#define HYP_RESERVED_SIZE 0x01000000

/* The VM's RAM is identity mapped (IPA = PA), so a device it drives (virtio)
 * sees its addresses. QEMU leaves its own tree at its start under -bios. */
#define VM_RAM_IPA 0x40000000
#define VM_RAM_PA VM_RAM_IPA
#define QEMU_DTB_BASE 0x40000000
#define QEMU_DTB_MAX_SIZE 0x00200000

/* Devices the hypervisor itself uses (identity mapped at EL2). */
#define HYP_UART 0x09000000
#define HYP_FW_CFG 0x09020000

/* CPUs the hypervisor can run (vCPUs of the one VM, one per physical CPU). */
#define HYP_MAX_CPUS 8
#define HYP_STACK_SIZE (64 * 1024)
#define HYP_SECONDARY_STACK_SIZE (16 * 1024)

#endif /* EL2_LAYOUT_H_ */

// The facts the launcher (`pvm run`) and the hypervisor share about a launch:
// the fw_cfg file names, the launch header's fixed values, the hypervisor's
// RAM reserve and the VM's memory windows (docs/hypervisor.md, "Launch
// description" and "Physical memory map"). One header, so host and hyp.bin
// cannot drift apart. The VM's windows are the board's (board/layout.h):
// pvmfw runs in the VM exactly as it runs under -bios.
#pragma once

#include <board/layout.h>

#include <array>
#include <cstdint>
#include <string_view>

namespace launch {

// ---- fw_cfg files (QEMU `-fw_cfg name=NAME,file=PATH`) -----------------------
inline constexpr std::string_view kFileLaunch = "opt/pvm/launch";         // the 64-byte header
inline constexpr std::string_view kFilePvmfwImage = "opt/pvm/pvmfw.img";  // pvmfw.bin + AVB footer
inline constexpr std::string_view kFileDt = "opt/pvm/dt";                 // the VM device tree
inline constexpr std::string_view kFilePayload = "opt/pvm/payload";  // the signed kernel partition
inline constexpr std::string_view kFileInitrd = "opt/pvm/initrd";    // optional
inline constexpr std::string_view kFileUds = "opt/pvm/uds";          // the 32-byte device secret

// ---- The launch header (opt/pvm/launch), little-endian -------------------------
inline constexpr uint64_t kHeaderSize = 64;
inline constexpr std::array<char, 4> kMagic = {'P', 'V', 'M', 'L'};
inline constexpr uint32_t kVersion = 1;
// Flags: bit 0 offers the MMIO guard to the VM; every other bit is reserved (0).
inline constexpr uint32_t kFlagMmioGuard = 1u << 0;
inline constexpr uint32_t kKnownFlags = kFlagMmioGuard;

// ---- Memory ----------------------------------------------------------------------
inline constexpr uint64_t kMiB = 1024 * 1024;
// RAM starts here in both address spaces: the machine's (PA) and the VM's (IPA).
inline constexpr uint64_t kRamBase = BOARD_RAM_BASE;
// The VM's RAM is identity mapped (IPA = PA): a device the VM drives (virtio)
// sees the VM's addresses. The hypervisor's 16 MiB sit at a fixed physical
// address above the largest VM (docs/hypervisor.md); the launcher asks QEMU
// for exactly kMachineRamSize (QEMU backs guest RAM lazily: untouched
// memory costs the host nothing).
inline constexpr uint64_t kHypBase = 0xC000'0000;
inline constexpr uint64_t kHypReservedSize = 16 * kMiB;
inline constexpr uint64_t kMachineRamSize = kHypBase + kHypReservedSize - kRamBase;
inline constexpr uint64_t kMaxVmRamSize = kHypBase - kRamBase;
inline constexpr uint64_t kVmRamPhysBase = kRamBase;
// Where the hypervisor reads pvmfw.img (PA), and the most it takes: the rest of
// its reserve after its own scratch (4 MiB).
inline constexpr uint64_t kPvmfwImagePhysBase = kHypBase + 4 * kMiB;
inline constexpr uint64_t kPvmfwImageMaxSize = kHypBase + kHypReservedSize - kPvmfwImagePhysBase;

// VM RAM: a whole number of 2 MiB stage-2 blocks, at least 16 MiB (the DT and
// pvmfw windows plus room for a payload).
inline constexpr uint64_t kRamAlignment = 2 * kMiB;
inline constexpr uint64_t kMinRamSize = 16 * kMiB;
// Payload and initrd IPAs are page aligned.
inline constexpr uint64_t kPageSize = 4096;
// vCPUs: GICv2 addresses at most 8 CPUs (Arm IHI 0048B, GICD_ITARGETSR).
inline constexpr uint32_t kMaxCpus = 8;
// The device secret (UDS): one CDI's size (open-dice).
inline constexpr uint64_t kUdsSize = 32;

// ---- The VM's fixed windows (IPA) -------------------------------------------------
// The device tree pvmfw reads, and rewrites in place for the payload.
inline constexpr uint64_t kDtIpa = BOARD_DT_BASE;
inline constexpr uint64_t kDtMaxSize = BOARD_DT_MAX_SIZE;
// pvmfw's window: its scratch RAM, the config blob the hypervisor writes
// (BOARD_CONFIG_BASE) and the DICE handover page pvmfw writes.
inline constexpr uint64_t kPvmfwWindowIpa = BOARD_SCRATCH_BASE;
inline constexpr uint64_t kPvmfwWindowSize =
    BOARD_HANDOVER_BASE + BOARD_HANDOVER_SIZE - BOARD_SCRATCH_BASE;
inline constexpr uint64_t kConfigIpa = BOARD_CONFIG_BASE;

static_assert(kDtIpa == kRamBase && kDtIpa + kDtMaxSize <= kPvmfwWindowIpa);
static_assert(kPvmfwWindowIpa + kPvmfwWindowSize <= kRamBase + kMinRamSize);
static_assert(BOARD_SCRATCH_BASE <= BOARD_CONFIG_BASE && BOARD_CONFIG_BASE < BOARD_HANDOVER_BASE);
static_assert(kPvmfwImageMaxSize == 12 * kMiB);

}  // namespace launch

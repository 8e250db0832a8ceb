// QEMU's fw_cfg device as the hypervisor reads the launch through it (QEMU
// docs/specs/fw_cfg.rst, formerly fw_cfg.txt; hw/nvram/fw_cfg.c): the
// registers on `virt`, the DMA descriptor, the well-known items, and the file
// directory (item 0x19), parsed here without touching the device.
//
// Callers may rely on: find_file and find_launch_files read only inside the
// span they are given and refuse a directory whose count does not fit it;
// nothing here allocates or accesses hardware (the EL2 driver does, with these
// constants).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string_view>

#include "launch/error.h"
#include "launch/header.h"

namespace launch::fw_cfg {

// ---- Registers (fw_cfg.rst "Memory-mapped (MMIO) interface"; QEMU virt
// base_memmap VIRT_FW_CFG) ---------------------------------------------------------
inline constexpr uint64_t kBase = 0x0902'0000;
inline constexpr uint64_t kRegionSize = 0x18;
inline constexpr uint64_t kDataOffset = 0x00;        // 8 bytes wide, the item's bytes in order
inline constexpr uint64_t kSelectorOffset = 0x08;    // 16-bit, big-endian
inline constexpr uint64_t kDmaAddressOffset = 0x10;  // 64-bit, big-endian; writing it starts DMA

// ---- Items (fw_cfg.rst "Selector Register"; include/standard-headers/...) -----------
inline constexpr uint16_t kKeySignature = 0x0000;  // 4 bytes, "QEMU"
inline constexpr uint16_t kKeyId = 0x0001;         // 32-bit little-endian feature bitmap
// 64-bit little-endian. NOT provided on Arm `virt` (reads as zeros there,
// QEMU 7.2 checked): the machine's RAM comes from QEMU's own tree instead.
inline constexpr uint16_t kKeyRamSize = 0x0003;
inline constexpr uint16_t kKeyNbCpus = 0x0005;   // 16-bit little-endian: -smp (virt provides it)
inline constexpr uint16_t kKeyFileDir = 0x0019;  // the file directory, below
// Files have selectors from here up (FW_CFG_FILE_FIRST) and below the
// write/arch-local bits (FW_CFG_ENTRY_MASK = 0x3fff).
inline constexpr uint16_t kFileFirst = 0x0020;
inline constexpr uint16_t kFileLast = 0x3fff;

inline constexpr std::string_view kSignature = "QEMU";
// FW_CFG_ID bits.
inline constexpr uint32_t kIdTraditional = 1u << 0;
inline constexpr uint32_t kIdDma = 1u << 1;

// ---- DMA (fw_cfg.rst "DMA interface") -------------------------------------------
// FWCfgDmaAccess.control bits; with kDmaCtlSelect the item's selector is in
// bits 31..16. The device clears the word when done, or leaves kDmaCtlError.
inline constexpr uint32_t kDmaCtlError = 0x01;
inline constexpr uint32_t kDmaCtlRead = 0x02;
inline constexpr uint32_t kDmaCtlSkip = 0x04;
inline constexpr uint32_t kDmaCtlSelect = 0x08;
inline constexpr uint32_t kDmaCtlWrite = 0x10;  // refused by QEMU >= 2.4 for most items; unused

// The control word's fields (the value, before the big-endian store).
struct DmaControl {
  uint16_t selector = 0;  // with select
  bool select = false;
  bool skip = false;
  bool read = false;
  bool error = false;  // set by the device on failure

  constexpr uint32_t value() const {
    return (select ? (uint32_t{selector} << 16) | kDmaCtlSelect : 0) | (skip ? kDmaCtlSkip : 0) |
           (read ? kDmaCtlRead : 0) | (error ? kDmaCtlError : 0);
  }
  static constexpr DmaControl from_value(uint32_t v) {
    return DmaControl{.selector = static_cast<uint16_t>(v >> 16),
                      .select = (v & kDmaCtlSelect) != 0,
                      .skip = (v & kDmaCtlSkip) != 0,
                      .read = (v & kDmaCtlRead) != 0,
                      .error = (v & kDmaCtlError) != 0};
  }
};

// The in-memory descriptor the DMA address register points at (FWCfgDmaAccess):
// every field big-endian. Build it with make(); read `control` back with
// control_value().
struct DmaAccess {
  uint32_t control_be = 0;
  uint32_t length_be = 0;
  uint64_t address_be = 0;

  static constexpr DmaAccess make(DmaControl control, uint32_t length, uint64_t address) {
    return DmaAccess{to_be32(control.value()), to_be32(length), to_be64(address)};
  }
  constexpr uint32_t control_value() const { return to_be32(control_be); }

  // Host order <-> big-endian (an involution, on any host).
  static constexpr uint16_t to_be16(uint16_t v) {
    if constexpr (std::endian::native == std::endian::big) return v;
    return std::byteswap(v);
  }
  static constexpr uint32_t to_be32(uint32_t v) {
    if constexpr (std::endian::native == std::endian::big) return v;
    return std::byteswap(v);
  }
  static constexpr uint64_t to_be64(uint64_t v) {
    if constexpr (std::endian::native == std::endian::big) return v;
    return std::byteswap(v);
  }
};
static_assert(sizeof(DmaAccess) == 16);

// ---- The file directory (item kKeyFileDir) ----------------------------------------
// BE32 count, then count entries of {BE32 size, BE16 select, BE16 reserved,
// char name[56]} (FWCfgFile), the name NUL-terminated.
inline constexpr uint64_t kDirCountSize = 4;
inline constexpr uint64_t kDirEntrySize = 64;
inline constexpr uint64_t kDirNameSize = 56;
// The bytes a directory of `count` entries takes.
constexpr uint64_t directory_size(uint32_t count) {
  return kDirCountSize + uint64_t{count} * kDirEntrySize;
}

struct File {
  uint16_t select = 0;
  uint32_t size = 0;
  friend constexpr bool operator==(const File&, const File&) = default;
};

// The entry named `name` in the directory `dir` (its bytes, from the count
// on), or nullopt when there is none. Refuses: fewer than 4 bytes
// (DIRECTORY_TRUNCATED), a count whose entries do not fit `dir`
// (DIRECTORY_COUNT; bytes after them are ignored), a `name` that is empty or
// has no room for its NUL in an entry (BAD_FILE_NAME), `name` listed twice
// (DUPLICATE_FILE), and its selector outside kFileFirst..kFileLast
// (BAD_SELECT). An entry name without a NUL matches nothing.
[[nodiscard]] std::expected<std::optional<File>, Error> find_file(std::span<const std::byte> dir,
                                                                  std::string_view name);

// The launch's six files (constants.h), each looked up with find_file.
struct LaunchFiles {
  std::optional<File> launch, pvmfw_image, dt, payload, initrd, uds;
  // Their sizes, for check_launch.
  FileSizes sizes() const;
};
// The refusal's detail is the file name for DUPLICATE_FILE and BAD_SELECT.
[[nodiscard]] std::expected<LaunchFiles, Refusal> find_launch_files(std::span<const std::byte> dir);

}  // namespace launch::fw_cfg

// The launch description: the 64-byte `opt/pvm/launch` header
// (docs/hypervisor.md, "Launch description") and the check of a whole launch
// against its fw_cfg files and the machine.
//
//   parse_header(bytes)                   -> Header | Error     (hyp.bin: the file as read)
//   check_launch(header, sizes, ram)      -> Plan   | Refusal   (hyp.bin and pvm run)
//   encode_header(header)                 -> the 64 bytes       (pvm run)
//
// Callers may rely on: no allocation, no exceptions, no reads outside the
// span given; every address sum overflow-checked; a Plan's regions are
// inside VM RAM, page aligned where the format says so, and pairwise
// disjoint. The hypervisor runs parse_header, then check_launch, and trusts
// nothing else about the files.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>

#include "base/range.h"
#include "launch/constants.h"
#include "launch/error.h"

namespace launch {

// The header's variable fields (magic, version and header size are fixed).
struct Header {
  uint32_t flags = 0;     // kFlagMmioGuard
  uint64_t ram_size = 0;  // VM RAM in bytes, from IPA kRamBase
  uint32_t cpus = 1;      // vCPUs, equal to QEMU's -smp
  uint64_t dt_ipa = kDtIpa;
  uint64_t payload_ipa = 0;
  uint64_t initrd_ipa = 0;  // 0: no initrd
  uint32_t reserved0 = 0;   // offset 28; parse keeps it so the check can refuse it
  uint64_t reserved1 = 0;   // offset 56

  constexpr bool mmio_guard() const { return (flags & kFlagMmioGuard) != 0; }
  friend constexpr bool operator==(const Header&, const Header&) = default;
};

// Decodes and validates `file` (the whole opt/pvm/launch file). Checks in
// field order: magic (BAD_MAGIC; BAD_SIZE when fewer than 4 bytes), version
// (BAD_VERSION), then size (BAD_SIZE: the file and the header-size field must
// both be 64), then validate_header's rules.
[[nodiscard]] std::expected<Header, Error> parse_header(std::span<const std::byte> file);

// The field rules (docs/hypervisor.md table): flags, RAM size (multiple of
// 2 MiB, >= 16 MiB, end not overflowing), vCPUs 1..8, reserved fields 0,
// DT IPA, payload IPA (page aligned, inside VM RAM), initrd IPA (0, or page
// aligned inside VM RAM).
[[nodiscard]] std::expected<void, Error> validate_header(const Header& header);

// The 64 bytes for `header`, magic, version and size filled in. Writes the
// fields as given, valid or not (tests write bad headers with it).
[[nodiscard]] std::array<std::byte, kHeaderSize> encode_header(const Header& header);

// The sizes of the launch's fw_cfg files, as the fw_cfg directory lists
// them; nullopt: the file is absent. 64-bit so the host can pass any file
// size (fw_cfg's own are 32-bit).
struct FileSizes {
  std::optional<uint64_t> launch;
  std::optional<uint64_t> pvmfw_image;
  std::optional<uint64_t> dt;
  std::optional<uint64_t> payload;
  std::optional<uint64_t> initrd;
  std::optional<uint64_t> uds;
};

// A checked launch: where everything goes in the VM (IPAs).
struct Plan {
  Header header;
  base::Range ram;                    // [kRamBase, + ram_size)
  base::Range dt_window;              // [kDtIpa, + kDtMaxSize): pvmfw reads and rewrites it
  uint64_t dt_size = 0;               // bytes of opt/pvm/dt, at kDtIpa
  base::Range pvmfw_window;           // pvmfw's scratch, config blob, handover
  base::Range payload;                // [payload_ipa, + payload size)
  std::optional<base::Range> initrd;  // [initrd_ipa, + initrd size)
  uint64_t pvmfw_image_size = 0;
};

// Checks a launch whose header passed parse_header (or that the host made)
// against its files and the machine, in this order:
//   validate_header (its Error, no detail);
//   MISSING_FILE (detail: the file name) for launch, pvmfw.img, dt, payload,
//     uds, in that order;
//   BAD_SIZE: opt/pvm/launch is not 64 bytes;
//   MEMORY_EXCEEDS_MACHINE: ram_size + kHypReservedSize > machine_ram_size;
//   PVMFW_IMAGE_SIZE (1..12 MiB), UDS_SIZE (32), DT_SIZE (1..2 MiB);
//   INITRD_MISMATCH: initrd IPA 0 if and only if there is no initrd file
//     (detail: the file name);
//   the payload: PAYLOAD_SIZE (empty), PAYLOAD_OUTSIDE_RAM, PAYLOAD_OVERLAP
//     (detail "dt window" or "pvmfw window");
//   the initrd: INITRD_SIZE, INITRD_OUTSIDE_RAM, INITRD_OVERLAP (detail
//     "dt window", "pvmfw window" or "payload").
// `machine_ram_size`: the machine's RAM in bytes, from kRamBase. On QEMU
// `virt` fw_cfg has no FW_CFG_RAM_SIZE item (hw/arm/virt.c adds only
// FW_CFG_NB_CPUS; key 0x03 reads as zeros): take it from the /memory node
// of the tree QEMU leaves at the start of RAM.
[[nodiscard]] std::expected<Plan, Refusal> check_launch(const Header& header,
                                                        const FileSizes& sizes,
                                                        uint64_t machine_ram_size);

}  // namespace launch

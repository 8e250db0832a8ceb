// The launch library's one error enum: why a launch description (the header,
// the fw_cfg files, the machine) or the fw_cfg file directory is refused.
// The hypervisor prints `hyp: launch refused: NAME` (and `: DETAIL` when the
// refusal has one); the names are stable, tests match them.
#pragma once

#include <cstdint>
#include <string_view>

namespace launch {

enum class Error : uint8_t {
  // The header (parse_header, validate_header).
  kBadMagic,         // not "PVML"
  kBadVersion,       // not 1
  kBadSize,          // the file or its header-size field is not 64 bytes
  kBadFlags,         // a reserved flag bit is set
  kBadMemorySize,    // VM RAM not a multiple of 2 MiB, below 16 MiB, or its end overflows
  kBadCpuCount,      // vCPUs outside 1..8
  kReservedNotZero,  // a reserved field is not 0
  kDtAddress,        // DT IPA is not 0x4000_0000
  kPayloadAddress,   // payload IPA not 4 KiB aligned or outside VM RAM
  kInitrdAddress,    // initrd IPA (not 0) not 4 KiB aligned or outside VM RAM
  // The launch against its files and the machine (check_launch).
  kMissingFile,           // a required fw_cfg file is absent (detail: its name)
  kMemoryExceedsMachine,  // VM RAM + the hypervisor's 16 MiB do not fit the machine's RAM
  kPvmfwImageSize,        // pvmfw.img empty or larger than 12 MiB
  kUdsSize,               // the UDS is not 32 bytes
  kDtSize,                // the DT empty or larger than 2 MiB
  kPayloadSize,           // the payload is empty
  kInitrdSize,            // the initrd file is empty
  kInitrdMismatch,        // initrd IPA 0 with an initrd file, or not 0 without one
  kPayloadOutsideRam,     // the payload does not end inside VM RAM
  kInitrdOutsideRam,      // the initrd does not end inside VM RAM
  kPayloadOverlap,        // the payload overlaps a fixed window (detail: which)
  kInitrdOverlap,         // the initrd overlaps a window or the payload (detail: which)
  // The fw_cfg file directory (fw_cfg.h).
  kDirectoryTruncated,  // shorter than its 4-byte count
  kDirectoryCount,      // the count's entries do not fit in the bytes given
  kDuplicateFile,       // a name appears twice (detail: the name)
  kBadSelect,           // a file's selector is outside the file range 0x20..0x3fff
  kBadFileName,         // the name looked up is empty or too long for an entry
};

// The stable UPPER_SNAKE name: "BAD_MAGIC", "MISSING_FILE", ...
[[nodiscard]] std::string_view to_string(Error error);

// A refusal: the error and, for some, what it concerns (a file name or a
// window name; a static string, never owned). Detail may be empty.
struct Refusal {
  Error error;
  std::string_view detail = {};

  friend constexpr bool operator==(const Refusal&, const Refusal&) = default;
};

}  // namespace launch

// The pvmfw configuration blob appended after the firmware image
// (AOSP guest/pvmfw/README.md "Configuration Data").
//
// Layout, all little-endian u32: 0 magic "pvmf", 4 version (major << 16 |
// minor), 8 total_size, 12 flags, then one {offset, size} pair per entry the
// version defines (1.0: 2, 1.1: 3, 1.2: 4, 1.3: 5), then the blobs. Offsets
// count from the start of the header.
//
// What parse_config accepts, and so what a caller may rely on for a returned
// Config: magic right; major 1 (a minor newer than 1.3 is read as 1.3, as
// AOSP does); flags 0 (AOSP only warns; no flag is defined, so this firmware
// refuses); total_size covers at least the header and entry table and fits in
// the given bytes (bytes after total_size are not part of the config); every
// present entry (size != 0) starts 8-byte aligned, after the entry table,
// ends within total_size without overflow, and starts at or after the end of
// the previous present entry (so in order and never overlapping); entry 0,
// the DICE handover, is present. Any fault is one named ConfigError (the
// firmware reports them all as PVM_FIRMWARE_INVALID_CONFIG_DATA).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>

#include <base/reader.h>

namespace dice {

enum class ConfigError : uint8_t {
  kTooSmall,            // TOO_SMALL: fewer bytes than the 16-byte header
  kBadMagic,            // BAD_MAGIC: not "pvmf"
  kUnsupportedVersion,  // UNSUPPORTED_VERSION: major version other than 1
  kBadTotalSize,        // BAD_TOTAL_SIZE: smaller than header + entries, or beyond the bytes given
  kUnknownFlags,        // UNKNOWN_FLAGS: flags != 0
  kEntryMisaligned,     // ENTRY_MISALIGNED: a present entry's offset is not 8-byte aligned
  kEntryOutOfBounds,    // ENTRY_OUT_OF_BOUNDS: inside the header/table, past total_size, or
                        // overflowing
  kEntryOutOfOrder,  // ENTRY_OUT_OF_ORDER: starts before the previous entry ends (order, overlap)
  kMissingDiceHandover,  // MISSING_DICE_HANDOVER: entry 0 absent
  kBufferTooSmall,       // BUFFER_TOO_SMALL: write_config's output cannot hold the blob
  kBadEntry,             // BAD_ENTRY: write_config given an entry the version cannot hold
};
const char* to_string(ConfigError e);

enum class ConfigEntry : uint8_t {
  kDiceHandover = 0,    // DICE handover from the previous stage (mandatory)
  kDebugPolicy = 1,     // debug policy DTBO
  kVmDtbo = 2,          // VM device-assignment DTBO (1.1)
  kVmReferenceDt = 3,   // VM reference DT (1.2)
  kReservedMemory = 4,  // reserved-memory blobs (1.3)
};
inline constexpr size_t kConfigEntries = 5;
// "dice_handover", "debug_policy", "vm_dtbo", "vm_reference_dt", "reserved_memory"
const char* to_string(ConfigEntry e);

inline constexpr uint32_t kConfigMagic = 0x666d7670;  // "pvmf" read as LE u32
inline constexpr size_t kConfigHeaderSize = 16;
inline constexpr size_t kConfigEntrySize = 8;
inline constexpr size_t kConfigBlobAlignment = 8;
inline constexpr uint16_t kConfigNewestMinor = 3;

struct ConfigVersion {
  uint16_t major = 1;
  uint16_t minor = 0;
};

// Entries version 1.`minor` defines (minors above the newest count as the newest).
constexpr size_t config_entry_count(uint16_t minor) {
  return minor >= kConfigNewestMinor ? kConfigEntries : size_t{2} + minor;
}

struct ConfigRange {
  uint32_t offset = 0;
  uint32_t size = 0;  // 0: absent
};

struct Config {
  ConfigVersion version;  // as the header says
  uint16_t parsed_minor;  // the minor the entries were read as (<= kConfigNewestMinor)
  uint32_t total_size;
  uint32_t flags;
  std::array<ConfigRange, kConfigEntries> ranges{};  // as in the table (0s past the version's)
  std::array<std::optional<base::Bytes>, kConfigEntries> entries;  // present entries

  base::Bytes dice_handover() const { return *entries[0]; }
  const std::optional<base::Bytes>& entry(ConfigEntry e) const {
    return entries[static_cast<size_t>(e)];
  }
};

// Parses the config blob at the start of `blob` (the bytes after the image,
// up to wherever the caller's region ends).
[[nodiscard]] std::expected<Config, ConfigError> parse_config(base::Bytes blob);

// What write_config lays out: entries in table order, each 8-byte aligned
// right after the previous one (zero padding), total_size the end of the last
// entry rounded up to 8.
struct ConfigSpec {
  ConfigVersion version{1, 0};
  std::array<std::optional<base::Bytes>, kConfigEntries> entries;
};

// The smallest version 1.x that can hold every entry of `entries` (at least 1.0).
ConfigVersion minimal_config_version(const ConfigSpec& spec);

// Writes the blob for `spec` into `out` (an empty span measures) and returns
// its size. kBadEntry when an entry is given that spec.version has no slot
// for, the DICE handover is missing or empty, or a size does not fit u32.
[[nodiscard]] std::expected<size_t, ConfigError> write_config(const ConfigSpec& spec,
                                                              std::span<std::byte> out);

}  // namespace dice

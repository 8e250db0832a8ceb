// The pvmfw configuration blob (see include/dice/config.h).
#include "dice/config.h"

#include <cstring>

namespace dice {
namespace {

using base::Bytes;

// Little-endian u32 through the shared reader (which reads big-endian values
// only): the four bytes, reassembled.
std::optional<uint32_t> le32(base::Reader& r) {
  auto b = r.bytes(4);
  if (!b) return std::nullopt;
  uint32_t v = 0;
  for (size_t i = 4; i > 0; --i) v = (v << 8) | std::to_integer<uint32_t>((*b)[i - 1]);
  return v;
}

void put_le32(std::span<std::byte> out, size_t at, uint32_t v) {
  for (size_t i = 0; i < 4; ++i) out[at + i] = std::byte{static_cast<uint8_t>(v >> (8 * i))};
}

constexpr uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

}  // namespace

const char* to_string(ConfigError e) {
  switch (e) {
    case ConfigError::kTooSmall:
      return "TOO_SMALL";
    case ConfigError::kBadMagic:
      return "BAD_MAGIC";
    case ConfigError::kUnsupportedVersion:
      return "UNSUPPORTED_VERSION";
    case ConfigError::kBadTotalSize:
      return "BAD_TOTAL_SIZE";
    case ConfigError::kUnknownFlags:
      return "UNKNOWN_FLAGS";
    case ConfigError::kEntryMisaligned:
      return "ENTRY_MISALIGNED";
    case ConfigError::kEntryOutOfBounds:
      return "ENTRY_OUT_OF_BOUNDS";
    case ConfigError::kEntryOutOfOrder:
      return "ENTRY_OUT_OF_ORDER";
    case ConfigError::kMissingDiceHandover:
      return "MISSING_DICE_HANDOVER";
    case ConfigError::kBufferTooSmall:
      return "BUFFER_TOO_SMALL";
    case ConfigError::kBadEntry:
      return "BAD_ENTRY";
  }
  return "UNKNOWN";
}

const char* to_string(ConfigEntry e) {
  switch (e) {
    case ConfigEntry::kDiceHandover:
      return "dice_handover";
    case ConfigEntry::kDebugPolicy:
      return "debug_policy";
    case ConfigEntry::kVmDtbo:
      return "vm_dtbo";
    case ConfigEntry::kVmReferenceDt:
      return "vm_reference_dt";
    case ConfigEntry::kReservedMemory:
      return "reserved_memory";
  }
  return "unknown";
}

std::expected<Config, ConfigError> parse_config(Bytes blob) {
  base::Reader r(blob);
  auto magic = le32(r);
  auto version = le32(r);
  auto total_size = le32(r);
  auto flags = le32(r);
  if (!magic || !version || !total_size || !flags) return std::unexpected(ConfigError::kTooSmall);
  if (*magic != kConfigMagic) return std::unexpected(ConfigError::kBadMagic);

  Config config{};
  config.version = {static_cast<uint16_t>(*version >> 16),
                    static_cast<uint16_t>(*version & 0xffff)};
  if (config.version.major != 1) return std::unexpected(ConfigError::kUnsupportedVersion);
  config.parsed_minor =
      config.version.minor > kConfigNewestMinor ? kConfigNewestMinor : config.version.minor;
  config.total_size = *total_size;
  config.flags = *flags;

  const size_t count = config_entry_count(config.parsed_minor);
  const uint64_t body_start = kConfigHeaderSize + count * kConfigEntrySize;
  if (*total_size < body_start || *total_size > blob.size()) {
    return std::unexpected(ConfigError::kBadTotalSize);
  }
  if (*flags != 0) return std::unexpected(ConfigError::kUnknownFlags);

  // Only the first total_size bytes belong to the config.
  auto body = r.sub_reader(0, *total_size);
  if (!body) return std::unexpected(ConfigError::kBadTotalSize);  // checked above
  uint64_t previous_end = body_start;
  for (size_t i = 0; i < count; ++i) {
    auto offset = le32(r);
    auto size = le32(r);
    if (!offset || !size) return std::unexpected(ConfigError::kBadTotalSize);  // checked above
    config.ranges[i] = {*offset, *size};
    if (*size == 0) continue;  // absent
    if (*offset % kConfigBlobAlignment != 0) return std::unexpected(ConfigError::kEntryMisaligned);
    if (*offset < body_start) return std::unexpected(ConfigError::kEntryOutOfBounds);
    auto bytes = body->sub(*offset, *size);  // offset + size checked against total_size
    if (!bytes) return std::unexpected(ConfigError::kEntryOutOfBounds);
    if (*offset < previous_end) return std::unexpected(ConfigError::kEntryOutOfOrder);
    previous_end = uint64_t{*offset} + *size;
    config.entries[i] = *bytes;
  }
  if (!config.entries[0]) return std::unexpected(ConfigError::kMissingDiceHandover);
  return config;
}

ConfigVersion minimal_config_version(const ConfigSpec& spec) {
  uint16_t minor = 0;
  for (size_t i = 0; i < kConfigEntries; ++i) {
    if (spec.entries[i] && i >= 2) minor = static_cast<uint16_t>(i - 1);
  }
  return {1, minor};
}

std::expected<size_t, ConfigError> write_config(const ConfigSpec& spec, std::span<std::byte> out) {
  if (spec.version.major != 1) return std::unexpected(ConfigError::kUnsupportedVersion);
  const size_t count = config_entry_count(spec.version.minor);
  if (!spec.entries[0] || spec.entries[0]->empty()) return std::unexpected(ConfigError::kBadEntry);
  std::array<ConfigRange, kConfigEntries> ranges{};
  uint64_t end = kConfigHeaderSize + count * kConfigEntrySize;
  for (size_t i = 0; i < kConfigEntries; ++i) {
    if (!spec.entries[i] || spec.entries[i]->empty()) continue;
    if (i >= count) return std::unexpected(ConfigError::kBadEntry);
    const uint64_t offset = align_up(end, kConfigBlobAlignment);
    end = offset + spec.entries[i]->size();
    if (end > UINT32_MAX) return std::unexpected(ConfigError::kBadEntry);
    ranges[i] = {static_cast<uint32_t>(offset), static_cast<uint32_t>(spec.entries[i]->size())};
  }
  const uint64_t total = align_up(end, kConfigBlobAlignment);
  if (total > UINT32_MAX) return std::unexpected(ConfigError::kBadEntry);
  if (out.empty()) return static_cast<size_t>(total);
  if (out.size() < total) return std::unexpected(ConfigError::kBufferTooSmall);

  std::memset(out.data(), 0, static_cast<size_t>(total));
  put_le32(out, 0, kConfigMagic);
  put_le32(out, 4, uint32_t{spec.version.major} << 16 | spec.version.minor);
  put_le32(out, 8, static_cast<uint32_t>(total));
  put_le32(out, 12, 0);
  for (size_t i = 0; i < count; ++i) {
    put_le32(out, kConfigHeaderSize + i * kConfigEntrySize, ranges[i].offset);
    put_le32(out, kConfigHeaderSize + i * kConfigEntrySize + 4, ranges[i].size);
    if (ranges[i].size != 0) {
      std::memcpy(out.data() + ranges[i].offset, spec.entries[i]->data(), ranges[i].size);
    }
  }
  return static_cast<size_t>(total);
}

}  // namespace dice

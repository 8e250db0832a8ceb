// The pvmfw config blob: layouts write_config makes, and every refusal of
// parse_config on hand-made hostile headers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "dice/config.h"
#include "test_util.h"

namespace dice {
namespace {

using test::bytes;

// A blob laid out by hand: header, table (offset, size pairs), `total` bytes.
std::vector<uint8_t> raw_blob(uint32_t version, uint32_t total_size, uint32_t flags,
                              std::vector<std::pair<uint32_t, uint32_t>> table, size_t total) {
  std::vector<uint8_t> b(std::max(total, 16 + 8 * table.size()), 0xee);
  auto put = [&](size_t at, uint32_t v) {
    for (size_t i = 0; i < 4; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
  };
  put(0, kConfigMagic);
  put(4, version);
  put(8, total_size);
  put(12, flags);
  for (size_t i = 0; i < table.size(); ++i) {
    put(16 + 8 * i, table[i].first);
    put(20 + 8 * i, table[i].second);
  }
  b.resize(total);
  return b;
}

constexpr uint32_t v(uint16_t major, uint16_t minor) { return uint32_t{major} << 16 | minor; }

ConfigError parse_error(const std::vector<uint8_t>& blob) {
  auto c = parse_config(bytes(blob));
  EXPECT_FALSE(c.has_value());
  return c ? ConfigError::kBadEntry : c.error();
}

TEST(Config, WriteThenParse) {
  const std::vector<uint8_t> handover(100, 0xa5), policy(13, 0x5a), reference(7, 0x77);
  ConfigSpec spec;
  spec.entries[0] = bytes(handover);
  spec.entries[1] = bytes(policy);
  spec.entries[3] = bytes(reference);
  EXPECT_EQ(minimal_config_version(spec).minor, 2);
  spec.version = minimal_config_version(spec);
  auto size = write_config(spec, {});
  ASSERT_TRUE(size.has_value());
  std::vector<std::byte> out(*size);
  ASSERT_EQ(write_config(spec, out).value(), *size);
  EXPECT_EQ(*size % 8, 0u);

  auto c = parse_config(Bytes(out));
  ASSERT_TRUE(c.has_value()) << to_string(c.error());
  EXPECT_EQ(c->version.major, 1);
  EXPECT_EQ(c->version.minor, 2);
  EXPECT_EQ(c->total_size, *size);
  EXPECT_EQ(test::to_vector(c->dice_handover()), handover);
  EXPECT_EQ(test::to_vector(*c->entry(ConfigEntry::kDebugPolicy)), policy);
  EXPECT_FALSE(c->entry(ConfigEntry::kVmDtbo).has_value());
  EXPECT_EQ(test::to_vector(*c->entry(ConfigEntry::kVmReferenceDt)), reference);
  EXPECT_FALSE(c->entry(ConfigEntry::kReservedMemory).has_value());
  // Header 16 + 4 entries * 8 = 48: the handover starts right after the table.
  EXPECT_EQ(c->ranges[0].offset, 48u);
  for (const ConfigRange& r : c->ranges) EXPECT_EQ(r.offset % 8, 0u);
}

TEST(Config, WriteRefusals) {
  const std::vector<uint8_t> handover(8, 1), dtbo(8, 2);
  ConfigSpec spec;
  EXPECT_EQ(write_config(spec, {}).error(), ConfigError::kBadEntry);  // no handover
  spec.entries[0] = bytes(handover);
  spec.entries[2] = bytes(dtbo);
  spec.version = {1, 0};  // 1.0 has no VM DTBO slot
  EXPECT_EQ(write_config(spec, {}).error(), ConfigError::kBadEntry);
  spec.version = {2, 0};
  EXPECT_EQ(write_config(spec, {}).error(), ConfigError::kUnsupportedVersion);
  spec.version = {1, 1};
  std::vector<std::byte> small(20);
  EXPECT_EQ(write_config(spec, small).error(), ConfigError::kBufferTooSmall);
}

TEST(Config, VersionsAndEntryCounts) {
  // 1.0: two entries, body from 32.
  auto b10 = raw_blob(v(1, 0), 40, 0, {{32, 8}, {0, 0}}, 40);
  auto c10 = parse_config(bytes(b10));
  ASSERT_TRUE(c10.has_value()) << to_string(c10.error());
  EXPECT_EQ(c10->dice_handover().size(), 8u);
  // A future 1.x minor is read as 1.3 (five entries, body from 56).
  auto b17 = raw_blob(v(1, 7), 64, 0, {{56, 8}, {0, 0}, {0, 0}, {0, 0}, {0, 0}}, 64);
  auto c17 = parse_config(bytes(b17));
  ASSERT_TRUE(c17.has_value()) << to_string(c17.error());
  EXPECT_EQ(c17->version.minor, 7);
  EXPECT_EQ(c17->parsed_minor, 3);
  // Major versions other than 1 are refused.
  EXPECT_EQ(parse_error(raw_blob(v(2, 0), 40, 0, {{32, 8}, {0, 0}}, 40)),
            ConfigError::kUnsupportedVersion);
  EXPECT_EQ(parse_error(raw_blob(v(0, 9), 40, 0, {{32, 8}, {0, 0}}, 40)),
            ConfigError::kUnsupportedVersion);
}

TEST(Config, BytesAfterTotalSizeAreNotConfig) {
  // The region after the image is bigger than the config: fine, and an entry
  // may not reach into it.
  auto b = raw_blob(v(1, 0), 40, 0, {{32, 8}, {0, 0}}, 4096);
  EXPECT_TRUE(parse_config(bytes(b)).has_value());
  auto past = raw_blob(v(1, 0), 40, 0, {{32, 16}, {0, 0}}, 4096);
  EXPECT_EQ(parse_error(past), ConfigError::kEntryOutOfBounds);
}

TEST(Config, AbsentEntriesMayHaveAnyOffset) {
  auto b = raw_blob(v(1, 1), 48, 0, {{40, 8}, {0xfffffff8, 0}, {3, 0}}, 48);
  auto c = parse_config(bytes(b));
  ASSERT_TRUE(c.has_value()) << to_string(c.error());
  EXPECT_FALSE(c->entry(ConfigEntry::kDebugPolicy).has_value());
}

TEST(Config, Refusals) {
  struct Case {
    const char* what;
    std::vector<uint8_t> blob;
    ConfigError error;
  };
  std::vector<uint8_t> bad_magic = raw_blob(v(1, 0), 40, 0, {{32, 8}, {0, 0}}, 40);
  bad_magic[0] = 'P';
  const Case cases[] = {
      {"empty", {}, ConfigError::kTooSmall},
      {"15 bytes", std::vector<uint8_t>(raw_blob(v(1, 0), 40, 0, {}, 15)), ConfigError::kTooSmall},
      {"magic", bad_magic, ConfigError::kBadMagic},
      {"total below table", raw_blob(v(1, 0), 31, 0, {{0, 0}, {0, 0}}, 40),
       ConfigError::kBadTotalSize},
      {"total beyond bytes", raw_blob(v(1, 0), 48, 0, {{32, 8}, {0, 0}}, 40),
       ConfigError::kBadTotalSize},
      {"table beyond bytes", raw_blob(v(1, 3), 40, 0, {{32, 8}}, 40), ConfigError::kBadTotalSize},
      {"flags", raw_blob(v(1, 0), 40, 1, {{32, 8}, {0, 0}}, 40), ConfigError::kUnknownFlags},
      {"misaligned", raw_blob(v(1, 0), 48, 0, {{36, 8}, {0, 0}}, 48),
       ConfigError::kEntryMisaligned},
      {"inside the table", raw_blob(v(1, 0), 48, 0, {{24, 8}, {0, 0}}, 48),
       ConfigError::kEntryOutOfBounds},
      {"inside the header", raw_blob(v(1, 0), 48, 0, {{0, 8}, {0, 0}}, 48),
       ConfigError::kEntryOutOfBounds},
      {"past total", raw_blob(v(1, 0), 40, 0, {{32, 9}, {0, 0}}, 48),
       ConfigError::kEntryOutOfBounds},
      {"offset + size wraps", raw_blob(v(1, 0), 40, 0, {{0xfffffff8, 0x10}, {0, 0}}, 40),
       ConfigError::kEntryOutOfBounds},
      {"huge size", raw_blob(v(1, 0), 40, 0, {{32, 0xffffffff}, {0, 0}}, 40),
       ConfigError::kEntryOutOfBounds},
      {"out of order", raw_blob(v(1, 0), 56, 0, {{48, 8}, {32, 8}}, 56),
       ConfigError::kEntryOutOfOrder},
      {"overlap", raw_blob(v(1, 0), 56, 0, {{32, 16}, {40, 8}}, 56), ConfigError::kEntryOutOfOrder},
      {"same offset", raw_blob(v(1, 0), 56, 0, {{32, 8}, {32, 8}}, 56),
       ConfigError::kEntryOutOfOrder},
      {"no handover", raw_blob(v(1, 0), 40, 0, {{32, 0}, {32, 8}}, 40),
       ConfigError::kMissingDiceHandover},
  };
  for (const Case& c : cases) {
    auto parsed = parse_config(bytes(c.blob));
    ASSERT_FALSE(parsed.has_value()) << c.what;
    EXPECT_EQ(parsed.error(), c.error) << c.what << ": got " << to_string(parsed.error());
  }
}

TEST(Config, ToStringIsStable) {
  EXPECT_STREQ(to_string(ConfigError::kEntryOutOfOrder), "ENTRY_OUT_OF_ORDER");
  EXPECT_STREQ(to_string(ConfigEntry::kVmReferenceDt), "vm_reference_dt");
}

}  // namespace
}  // namespace dice

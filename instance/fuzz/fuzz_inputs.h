// The instance fuzzer's input format and fixed inputs, shared with the seed
// maker (make_seeds.cc) so that seeds hold entries the harness can open.
//
// An input is: byte 0 flags, byte 1 the measured boot's selector, byte 2
// its rollback index, then the disk (whole 512-byte sectors; a partial last
// sector is dropped).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "instance/image.h"
#include "instance/policy.h"

namespace instance::fuzz {

inline constexpr size_t kPrefix = 3;
inline constexpr uint8_t kFixCrcs = 1u << 0;         // re-seal the primary header's CRCs first
inline constexpr uint8_t kCheckAndUpdate = 1u << 1;  // run the firmware's call (it writes)
inline constexpr uint8_t kOverclaim = 1u << 2;       // the device claims more sectors than it has
inline constexpr uint8_t kCreatePinned = 1u << 3;    // create flags: pin-software

inline constexpr std::array<uint8_t, 32> kCdiSeal = {
    0x5a, 0x01, 0x5a, 0x02, 0x5a, 0x03, 0x5a, 0x04, 0x5a, 0x05, 0x5a, 0x06, 0x5a, 0x07, 0x5a, 0x08,
    0x5a, 0x09, 0x5a, 0x0a, 0x5a, 0x0b, 0x5a, 0x0c, 0x5a, 0x0d, 0x5a, 0x0e, 0x5a, 0x0f, 0x5a, 0x10};

constexpr Hash fill_hash(uint8_t v) {
  Hash h{};
  for (auto& b : h) b = v;
  return h;
}

inline constexpr Hash kInstanceHash = fill_hash(0x1d);

// Selector bits 0-1: the code hash; bit 2: the authority; bit 3: debug mode.
constexpr Measured measured_from(uint8_t selector, uint8_t rollback_index) {
  return Measured{.code_hash = fill_hash(static_cast<uint8_t>(0xc0 + (selector & 3))),
                  .authority_hash = fill_hash(static_cast<uint8_t>(0xa0 + ((selector >> 2) & 1))),
                  .mode = (selector & 8) != 0 ? Mode::kDebug : Mode::kNormal,
                  .rollback_index = rollback_index};
}

// A deterministic "random" source (fuzzing wants reproducible runs).
inline bool counter_random(std::span<std::byte> out) {
  static uint8_t counter = 0;
  for (std::byte& b : out) b = static_cast<std::byte>(++counter);
  return true;
}

}  // namespace instance::fuzz

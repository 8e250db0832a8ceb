// The vm-instance partition: AOSP's legacy instance-image layout (header
// block "Android-VM-instance" v1, pvmfw's entry under UUID
// 90d2174a-038a-4bc6-adf3-824848fc5825) with the entry kept in two slots so
// that a write cut short never loses the current one (README.md, "Design").
//
// Partition-relative layout, in 512-byte blocks:
//   block 0      header: "Android-VM-instance" (19 bytes), u16 LE version 1,
//                then zero
//   blocks 1-8   slot A   } each: EntryHeader { 16-byte UUID (RFC 4122 order),
//   blocks 9-16  slot B   }   u64 LE payload_size = 188 }, then the payload
//                             nonce (12) || AES-256-GCM ciphertext (160) ||
//                             tag (16), then zero to the slot's end; an
//                             all-zero slot is empty
// The sealed body (little-endian, 160 bytes): u32 version 1, u32 flags
// (bit 0 pin-software), u64 sequence (>= 1), u64 rollback_index (the highest
// seen), u8 mode (1 normal, 2 debug), 7 zero bytes, the 64-byte code hash,
// the 64-byte authority hash.
// Key = HKDF-SHA512(ikm = CDI_Seal, salt = "", info = "vm-instance", 32
// bytes); AAD = "pvm-instance-entry" || u8 slot (0 A, 1 B) || the 64-byte
// instance hash, so an entry opens only in its own slot of its own instance.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string_view>

#include "dice/crypto.h"
#include "dice/types.h"
#include "instance/block_device.h"
#include "instance/error.h"
#include "instance/gpt.h"

namespace instance {

// ---- The layout. --------------------------------------------------------------------------------

inline constexpr std::string_view kHeaderMagic = "Android-VM-instance";
inline constexpr uint16_t kHeaderVersion = 1;
inline constexpr uint64_t kSlotSectors = 8;
inline constexpr std::array<uint64_t, 2> kSlotBlock = {1, 9};  // from the partition's start
inline constexpr uint64_t kMinPartitionSectors = 1 + 2 * kSlotSectors;

inline constexpr std::array<uint8_t, 16> kPvmfwEntryUuid = {
    0x90, 0xd2, 0x17, 0x4a, 0x03, 0x8a, 0x4b, 0xc6, 0xad, 0xf3, 0x82, 0x48, 0x48, 0xfc, 0x58, 0x25};
inline constexpr uint32_t kEntryVersion = 1;
inline constexpr uint32_t kFlagPinSoftware = 1u << 0;  // refuse any code change (AOSP's rule)
inline constexpr uint32_t kKnownFlags = kFlagPinSoftware;

inline constexpr size_t kEntryHeaderSize = 16 + 8;
inline constexpr size_t kBodySize = 4 + 4 + 8 + 8 + 1 + 7 + 64 + 64;
inline constexpr size_t kPayloadSize =
    dice::aes256_gcm::kNonceSize + kBodySize + dice::aes256_gcm::kTagSize;
static_assert(kEntryHeaderSize + kPayloadSize <= kSlotSectors * kSectorSize);

inline constexpr std::string_view kKeyInfo = "vm-instance";
inline constexpr std::string_view kAadLabel = "pvm-instance-entry";

// ---- Values. ------------------------------------------------------------------------------------

// The DICE mode as the entry stores it (open-dice's values).
enum class Mode : uint8_t { kNormal = 1, kDebug = 2 };
[[nodiscard]] std::string_view to_string(Mode mode);  // "normal", "debug", "invalid"

using Hash = std::array<uint8_t, 64>;

// pvmfw's record of an instance (the sealed body).
struct Entry {
  uint32_t flags = 0;  // kFlagPinSoftware; sealed at first boot
  uint64_t sequence = 0;
  uint64_t rollback_index = 0;
  Mode mode = Mode::kNormal;
  Hash code_hash{};
  Hash authority_hash{};

  [[nodiscard]] constexpr bool pinned() const { return (flags & kFlagPinSoftware) != 0; }
  friend constexpr bool operator==(const Entry&, const Entry&) = default;
};

enum class Slot : uint8_t { kA = 0, kB = 1 };
[[nodiscard]] constexpr Slot other(Slot s) { return s == Slot::kA ? Slot::kB : Slot::kA; }
[[nodiscard]] std::string_view to_string(Slot slot);  // "A", "B"

enum class SlotState : uint8_t {
  kEmpty,    // all zero
  kSealed,   // well-formed, not opened (read without a key)
  kValid,    // opened and its body checked
  kInvalid,  // anything else (problem says what)
};
[[nodiscard]] std::string_view to_string(SlotState state);  // "empty", "sealed", "valid", "invalid"

struct SlotStatus {
  SlotState state = SlotState::kEmpty;
  // For kInvalid: "entry UUID", "payload size", "trailing bytes", "does not open",
  // "entry version", "entry flags", "sequence", "mode", "reserved".
  std::string_view problem = {};

  friend constexpr bool operator==(const SlotStatus&, const SlotStatus&) = default;
};

struct SlotReading {
  SlotStatus status;
  std::optional<Entry> entry;  // when kValid
};

// What the two slots hold together.
struct Stored {
  std::optional<Entry> current;  // none: a new instance (both slots empty)
  Slot slot = Slot::kA;          // the slot holding `current`
  std::array<SlotStatus, 2> slots{};
};

using Key = dice::Secret<dice::aes256_gcm::kKeySize>;  // wiped when it dies
using KeyView = dice::aes256_gcm::KeyView;
using CdiSealView = std::span<const uint8_t, dice::kCdiSize>;
using InstanceHashView = std::span<const uint8_t, 64>;
// Fills `out` with random bytes (the firmware: SMCCC TRNG or RNDR); false
// when it cannot.
using FillRandom = bool (*)(std::span<std::byte> out);

// ---- Reading and writing. -----------------------------------------------------------------------
// `partition` is find_instance_partition's (a caller's own is checked to be
// at least kMinPartitionSectors and inside the device; INVALID_ARGUMENT
// otherwise). Only READ_FAILED/WRITE_FAILED and the named refusals below
// come back; a slot's own faults are its SlotStatus.

// The sealing key of pvmfw's entry. CRYPTO_FAILURE when HKDF cannot run
// (`key` is then wiped).
[[nodiscard]] std::expected<void, Refusal> derive_key(CdiSealView cdi_seal, Key& key);

// Block 0 of the partition: INSTANCE_IMAGE_INVALID ("magic", "version",
// "reserved") unless it is the v1 header.
[[nodiscard]] std::expected<void, Refusal> check_instance_header(const BlockDevice& dev,
                                                                 const Partition& partition);

// One slot: without a key kEmpty, kSealed or kInvalid (the structure only);
// with one kEmpty, kValid (with the entry) or kInvalid.
[[nodiscard]] std::expected<SlotReading, Refusal> read_slot(const BlockDevice& dev,
                                                            const Partition& partition, Slot slot);
[[nodiscard]] std::expected<SlotReading, Refusal> read_slot(const BlockDevice& dev,
                                                            const Partition& partition, Slot slot,
                                                            KeyView key,
                                                            InstanceHashView instance_hash);

// The current entry from two keyed readings: both empty -> none; one valid
// -> it; both valid -> the higher sequence. INSTANCE_IMAGE_CORRUPT "equal
// sequences" (both valid, same sequence) or "no valid entry" (neither
// valid, not both empty).
[[nodiscard]] std::expected<Stored, Refusal> select_current(const SlotReading& a,
                                                            const SlotReading& b);

// Both slots, keyed, then select_current.
[[nodiscard]] std::expected<Stored, Refusal> read_entries(const BlockDevice& dev,
                                                          const Partition& partition, KeyView key,
                                                          InstanceHashView instance_hash);

// Seals `entry` into `slot` under a fresh random nonce, writes the whole
// slot (8 blocks, one request) and reads it back: it must open to `entry`
// (WRITE_FAILED "read back" otherwise). INVALID_ARGUMENT for an entry
// read_slot would call invalid (unknown flags, mode, sequence 0) or a null
// fill_random; RANDOM_FAILED; CRYPTO_FAILURE; WRITE_FAILED.
[[nodiscard]] std::expected<void, Refusal> write_entry(const BlockDevice& dev,
                                                       const Partition& partition, KeyView key,
                                                       InstanceHashView instance_hash, Slot slot,
                                                       const Entry& entry, FillRandom fill_random);

// What a disk holds, without a key (`pvm` tools): the partition, and each
// slot kEmpty, kSealed or kInvalid. The refusals of find_instance_partition
// and check_instance_header.
struct Inspection {
  Partition partition;
  std::array<SlotStatus, 2> slots{};
};
[[nodiscard]] std::expected<Inspection, Refusal> inspect(const BlockDevice& dev);

}  // namespace instance

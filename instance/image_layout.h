// Internal: the byte layout of the vm-instance partition's header block and
// of pvmfw's entry (include/instance/image.h has the picture), shared with
// the tests and the fuzzer.
#pragma once

#include <array>
#include <cstddef>
#include <expected>
#include <string_view>

#include "base/reader.h"
#include "instance/image.h"

namespace instance::detail {

// Block 0 of the partition.
inline constexpr size_t kHeaderVersionOffset = kHeaderMagic.size();
[[nodiscard]] std::array<std::byte, kSectorSize> instance_header_sector();

// A slot.
inline constexpr size_t kSlotUuid = 0;
inline constexpr size_t kSlotPayloadSize = 16;
inline constexpr size_t kSlotNonce = kEntryHeaderSize;
inline constexpr size_t kSlotCiphertext = kSlotNonce + dice::aes256_gcm::kNonceSize;
inline constexpr size_t kSlotTag = kSlotCiphertext + kBodySize;
inline constexpr size_t kSlotBytes = kSlotSectors * kSectorSize;
using SlotBytes = std::array<std::byte, kSlotBytes>;

// The body.
inline constexpr size_t kBodyVersion = 0;
inline constexpr size_t kBodyFlags = 4;
inline constexpr size_t kBodySequence = 8;
inline constexpr size_t kBodyRollback = 16;
inline constexpr size_t kBodyMode = 24;
inline constexpr size_t kBodyReserved = 25;
inline constexpr size_t kBodyCodeHash = 32;
inline constexpr size_t kBodyAuthorityHash = 96;
static_assert(kBodyAuthorityHash + 64 == kBodySize);
using Body = std::array<std::byte, kBodySize>;

[[nodiscard]] Body encode_body(const Entry& entry);
// The entry, or the problem SlotStatus names ("entry version", "entry
// flags", "sequence", "mode", "reserved"; "size" when not kBodySize bytes).
[[nodiscard]] std::expected<Entry, std::string_view> decode_body(base::Bytes body);

// The AAD of an entry in `slot` of the instance `instance_hash`.
using Aad = std::array<std::byte, kAadLabel.size() + 1 + 64>;
[[nodiscard]] Aad make_aad(Slot slot, InstanceHashView instance_hash);

}  // namespace instance::detail

// The vm-instance partition: header, slots, sealing (include/instance/image.h).
#include "instance/image.h"

#include <algorithm>
#include <cstring>

#include "base/wipe.h"
#include "image_layout.h"
#include "le.h"

namespace instance {
namespace {

template <size_t N>
bool equal_bytes(base::Bytes b, const std::array<uint8_t, N>& want) {
  return b.size() == N && std::equal(b.begin(), b.end(), want.begin(), [](std::byte x, uint8_t y) {
           return std::to_integer<uint8_t>(x) == y;
         });
}

template <size_t N>
void copy_to(base::Bytes from, std::array<uint8_t, N>& to) {
  for (size_t i = 0; i < N && i < from.size(); ++i) to[i] = std::to_integer<uint8_t>(from[i]);
}

// The first LBA of `slot`, or nothing when the partition cannot be ours.
std::optional<uint64_t> slot_lba(const BlockDevice& dev, const Partition& p, Slot slot) {
  auto end = base::checked_add(p.first_lba, p.sectors);
  if (p.sectors < kMinPartitionSectors || !end || *end > dev.sectors) return std::nullopt;
  return p.first_lba + kSlotBlock[static_cast<size_t>(slot)];
}

bool valid_for_disk(const Entry& e) {
  return (e.flags & ~kKnownFlags) == 0 && e.sequence != 0 &&
         (e.mode == Mode::kNormal || e.mode == Mode::kDebug);
}

// The structure of a slot, without a key. `payload` is set for kSealed.
SlotStatus parse_slot(base::Bytes slot, base::Bytes& payload) {
  if (base::all_zero(slot)) return {SlotState::kEmpty, {}};
  base::Reader r(slot);
  auto uuid = r.bytes(16);
  if (!uuid || !equal_bytes(*uuid, kPvmfwEntryUuid)) return {SlotState::kInvalid, "entry UUID"};
  auto size = r.le64();
  if (!size || *size != kPayloadSize) return {SlotState::kInvalid, "payload size"};
  auto body = r.bytes(*size);
  if (!body) return {SlotState::kInvalid, "payload size"};
  if (!base::all_zero(r.rest())) return {SlotState::kInvalid, "trailing bytes"};
  payload = *body;
  return {SlotState::kSealed, {}};
}

std::expected<void, Refusal> read_slot_bytes(const BlockDevice& dev, const Partition& partition,
                                             Slot slot, detail::SlotBytes& buf) {
  auto lba = slot_lba(dev, partition, slot);
  if (!lba) return refuse(Error::kInvalidArgument, "partition");
  if (!read_sectors(dev, *lba, buf)) return refuse(Error::kReadFailed, "instance slot");
  return {};
}

}  // namespace

std::string_view to_string(Mode mode) {
  switch (mode) {
    case Mode::kNormal:
      return "normal";
    case Mode::kDebug:
      return "debug";
  }
  return "invalid";
}

std::string_view to_string(Slot slot) { return slot == Slot::kA ? "A" : "B"; }

std::string_view to_string(SlotState state) {
  switch (state) {
    case SlotState::kEmpty:
      return "empty";
    case SlotState::kSealed:
      return "sealed";
    case SlotState::kValid:
      return "valid";
    case SlotState::kInvalid:
      return "invalid";
  }
  return "unknown";
}

namespace detail {

std::array<std::byte, kSectorSize> instance_header_sector() {
  std::array<std::byte, kSectorSize> s{};
  for (size_t i = 0; i < kHeaderMagic.size(); ++i) s[i] = static_cast<std::byte>(kHeaderMagic[i]);
  le::put<kHeaderVersionOffset>(s, kHeaderVersion);
  return s;
}

Body encode_body(const Entry& e) {
  Body b{};
  le::put<kBodyVersion>(b, kEntryVersion);
  le::put<kBodyFlags>(b, e.flags);
  le::put<kBodySequence>(b, e.sequence);
  le::put<kBodyRollback>(b, e.rollback_index);
  le::put<kBodyMode>(b, static_cast<uint8_t>(e.mode));
  le::put_bytes<kBodyCodeHash>(b, e.code_hash);
  le::put_bytes<kBodyAuthorityHash>(b, e.authority_hash);
  return b;
}

std::expected<Entry, std::string_view> decode_body(base::Bytes body) {
  if (body.size() != kBodySize) return std::unexpected("size");
  base::Reader r(body);
  // The size is fixed: every read below succeeds.
  auto version = r.le32();
  auto flags = r.le32();
  auto sequence = r.le64();
  auto rollback = r.le64();
  auto mode = r.u8();
  auto reserved = r.bytes(kBodyCodeHash - kBodyReserved);
  auto code = r.bytes(64);
  auto authority = r.bytes(64);
  if (!version || !flags || !sequence || !rollback || !mode || !reserved || !code || !authority) {
    return std::unexpected("size");
  }
  if (*version != kEntryVersion) return std::unexpected("entry version");
  if ((*flags & ~kKnownFlags) != 0) return std::unexpected("entry flags");
  if (*sequence == 0) return std::unexpected("sequence");
  if (*mode != static_cast<uint8_t>(Mode::kNormal) && *mode != static_cast<uint8_t>(Mode::kDebug)) {
    return std::unexpected("mode");
  }
  if (!base::all_zero(*reserved)) return std::unexpected("reserved");
  Entry e;
  e.flags = *flags;
  e.sequence = *sequence;
  e.rollback_index = *rollback;
  e.mode = static_cast<Mode>(*mode);
  copy_to(*code, e.code_hash);
  copy_to(*authority, e.authority_hash);
  return e;
}

Aad make_aad(Slot slot, InstanceHashView instance_hash) {
  Aad aad{};
  for (size_t i = 0; i < kAadLabel.size(); ++i) aad[i] = static_cast<std::byte>(kAadLabel[i]);
  aad[kAadLabel.size()] = static_cast<std::byte>(slot);
  for (size_t i = 0; i < instance_hash.size(); ++i) {
    aad[kAadLabel.size() + 1 + i] = static_cast<std::byte>(instance_hash[i]);
  }
  return aad;
}

}  // namespace detail

std::expected<void, Refusal> derive_key(CdiSealView cdi_seal, Key& key) {
  const auto info = std::as_bytes(std::span(kKeyInfo.data(), kKeyInfo.size()));
  if (!dice::hkdf_sha512(std::as_bytes(cdi_seal), {}, info, key.span())) {
    key.wipe();
    return refuse(Error::kCryptoFailure, "key derivation");
  }
  return {};
}

std::expected<void, Refusal> check_instance_header(const BlockDevice& dev,
                                                   const Partition& partition) {
  auto lba = slot_lba(dev, partition, Slot::kA);  // checks the partition
  if (!lba) return refuse(Error::kInvalidArgument, "partition");
  std::array<std::byte, kSectorSize> s{};
  if (!read_sectors(dev, partition.first_lba, s))
    return refuse(Error::kReadFailed, "instance header");
  base::Reader r(s);
  auto magic = r.bytes(kHeaderMagic.size());
  if (!magic || !std::equal(magic->begin(), magic->end(), kHeaderMagic.begin(),
                            [](std::byte b, char c) { return b == static_cast<std::byte>(c); })) {
    return refuse(Error::kInstanceImageInvalid, "magic");
  }
  auto version = r.le16();
  if (!version || *version != kHeaderVersion)
    return refuse(Error::kInstanceImageInvalid, "version");
  if (!base::all_zero(r.rest())) return refuse(Error::kInstanceImageInvalid, "reserved");
  return {};
}

std::expected<SlotReading, Refusal> read_slot(const BlockDevice& dev, const Partition& partition,
                                              Slot slot) {
  detail::SlotBytes buf{};
  if (auto ok = read_slot_bytes(dev, partition, slot, buf); !ok) return std::unexpected(ok.error());
  base::Bytes payload;
  return SlotReading{.status = parse_slot(buf, payload), .entry = std::nullopt};
}

std::expected<SlotReading, Refusal> read_slot(const BlockDevice& dev, const Partition& partition,
                                              Slot slot, KeyView key,
                                              InstanceHashView instance_hash) {
  detail::SlotBytes buf{};
  if (auto ok = read_slot_bytes(dev, partition, slot, buf); !ok) return std::unexpected(ok.error());
  base::Bytes payload;
  const SlotStatus status = parse_slot(buf, payload);
  if (status.state != SlotState::kSealed) return SlotReading{.status = status, .entry = {}};

  // parse_slot checked the payload's size: nonce || ciphertext || tag.
  base::Reader r(payload);
  auto nonce_bytes = r.bytes(dice::aes256_gcm::kNonceSize);
  auto ciphertext = r.bytes(kBodySize);
  auto tag_bytes = r.bytes(dice::aes256_gcm::kTagSize);
  if (!nonce_bytes || !ciphertext || !tag_bytes) {
    return SlotReading{.status = {SlotState::kInvalid, "payload size"}, .entry = {}};
  }
  std::array<uint8_t, dice::aes256_gcm::kNonceSize> nonce{};
  dice::aes256_gcm::Tag tag{};
  copy_to(*nonce_bytes, nonce);
  copy_to(*tag_bytes, tag);
  const auto aad = detail::make_aad(slot, instance_hash);
  detail::Body body{};
  auto opened = dice::aes256_gcm::open(key, nonce, aad, *ciphertext, tag, body);
  if (!opened) return SlotReading{.status = {SlotState::kInvalid, "does not open"}, .entry = {}};
  // The entry's fields (hashes of public images, a mode, an index, flags)
  // are no secret; what is wiped is the decrypted buffer, as every buffer an
  // AEAD opened into, so no plaintext outlives the reading by habit.
  auto entry = detail::decode_body(body);
  base::secure_wipe(body.data(), body.size());
  if (!entry) return SlotReading{.status = {SlotState::kInvalid, entry.error()}, .entry = {}};
  return SlotReading{.status = {SlotState::kValid, {}}, .entry = *entry};
}

std::expected<Stored, Refusal> select_current(const SlotReading& a, const SlotReading& b) {
  Stored s;
  s.slots = {a.status, b.status};
  const bool a_valid = a.status.state == SlotState::kValid && a.entry.has_value();
  const bool b_valid = b.status.state == SlotState::kValid && b.entry.has_value();
  if (a_valid && b_valid) {
    if (a.entry->sequence == b.entry->sequence) {
      return refuse(Error::kInstanceImageCorrupt, "equal sequences");
    }
    const bool a_newer = a.entry->sequence > b.entry->sequence;
    s.current = a_newer ? a.entry : b.entry;
    s.slot = a_newer ? Slot::kA : Slot::kB;
  } else if (a_valid || b_valid) {
    // The other slot is empty, or a torn or damaged write: ignored.
    s.current = a_valid ? a.entry : b.entry;
    s.slot = a_valid ? Slot::kA : Slot::kB;
  } else if (a.status.state != SlotState::kEmpty || b.status.state != SlotState::kEmpty) {
    return refuse(Error::kInstanceImageCorrupt, "no valid entry");
  }
  return s;
}

std::expected<Stored, Refusal> read_entries(const BlockDevice& dev, const Partition& partition,
                                            KeyView key, InstanceHashView instance_hash) {
  auto a = read_slot(dev, partition, Slot::kA, key, instance_hash);
  if (!a) return std::unexpected(a.error());
  auto b = read_slot(dev, partition, Slot::kB, key, instance_hash);
  if (!b) return std::unexpected(b.error());
  return select_current(*a, *b);
}

std::expected<void, Refusal> write_entry(const BlockDevice& dev, const Partition& partition,
                                         KeyView key, InstanceHashView instance_hash, Slot slot,
                                         const Entry& entry, FillRandom fill_random) {
  if (fill_random == nullptr || !valid_for_disk(entry)) {
    return refuse(Error::kInvalidArgument, "entry");
  }
  auto lba = slot_lba(dev, partition, slot);
  if (!lba) return refuse(Error::kInvalidArgument, "partition");

  detail::SlotBytes buf{};
  le::put_bytes<detail::kSlotUuid>(buf, kPvmfwEntryUuid);
  le::put<detail::kSlotPayloadSize>(buf, uint64_t{kPayloadSize});
  std::array<uint8_t, dice::aes256_gcm::kNonceSize> nonce{};
  if (!fill_random(std::as_writable_bytes(std::span(nonce)))) {
    return refuse(Error::kRandomFailed, "nonce");
  }
  le::put_bytes<detail::kSlotNonce>(buf, nonce);
  detail::Body body = detail::encode_body(entry);
  dice::aes256_gcm::Tag tag{};
  const auto aad = detail::make_aad(slot, instance_hash);
  auto sealed = dice::aes256_gcm::seal(
      key, nonce, aad, body, std::span(buf).subspan<detail::kSlotCiphertext, kBodySize>(), tag);
  base::secure_wipe(body.data(), body.size());
  if (!sealed) return refuse(Error::kCryptoFailure, "seal");
  le::put_bytes<detail::kSlotTag>(buf, tag);

  if (!write_sectors(dev, *lba, buf)) return refuse(Error::kWriteFailed, "instance slot");
  auto back = read_slot(dev, partition, slot, key, instance_hash);
  if (!back) return std::unexpected(back.error());
  if (back->status.state != SlotState::kValid || back->entry != entry) {
    return refuse(Error::kWriteFailed, "read back");
  }
  return {};
}

std::expected<Inspection, Refusal> inspect(const BlockDevice& dev) {
  auto partition = find_instance_partition(dev);
  if (!partition) return std::unexpected(partition.error());
  if (auto header = check_instance_header(dev, *partition); !header) {
    return std::unexpected(header.error());
  }
  Inspection out{.partition = *partition, .slots = {}};
  for (Slot slot : {Slot::kA, Slot::kB}) {
    auto reading = read_slot(dev, *partition, slot);
    if (!reading) return std::unexpected(reading.error());
    out.slots[static_cast<size_t>(slot)] = reading->status;
  }
  return out;
}

}  // namespace instance

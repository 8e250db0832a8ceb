// The instance library's one error enum: why the VM instance disk (its GPT,
// the vm-instance partition, pvmfw's sealed entry) or the boot measured
// against it is refused. pvmfw prints `pvmfw: boot failed: NAME: DETAIL`;
// the names are stable and tests match them. Details are static strings
// naming a field or a rule, never data read from the disk and never a secret.
#pragma once

#include <cstdint>
#include <expected>
#include <string_view>

namespace instance {

enum class Error : uint8_t {
  // The caller's side.
  kInvalidArgument,  // INVALID_ARGUMENT: a device without callbacks, unknown create flags, a mode
                     // other than normal/debug, an image size format_disk cannot use
  kReadFailed,       // READ_FAILED: the device refused a read (or it would leave the device)
  kWriteFailed,      // WRITE_FAILED: the device refused a write, or the entry did not read back
  kCryptoFailure,    // CRYPTO_FAILURE: HKDF or AES-GCM sealing could not run (mbedTLS's heap)
  kRandomFailed,     // RANDOM_FAILED: fill_random gave no nonce
  // The GPT (UEFI 2.10 §5.2.3, §5.3).
  kNoGpt,                       // NO_GPT: disk too small, no protective MBR, no "EFI PART"
  kBadGptHeader,                // BAD_GPT_HEADER: a header field breaks its rule (detail: which)
  kBadGptCrc,                   // BAD_GPT_CRC: the header's or the entry array's CRC32
  kBadPartitionEntries,         // BAD_PARTITION_ENTRIES: entry array LBA, entry size or count
  kNoInstancePartition,         // NO_INSTANCE_PARTITION: no entry named "vm-instance"
  kDuplicateInstancePartition,  // DUPLICATE_INSTANCE_PARTITION: more than one
  kPartitionOutOfRange,         // PARTITION_OUT_OF_RANGE: outside the usable LBAs, or too small
  // The vm-instance partition.
  kInstanceImageInvalid,  // INSTANCE_IMAGE_INVALID: the "Android-VM-instance" v1 header
  kInstanceImageCorrupt,  // INSTANCE_IMAGE_CORRUPT: no slot valid (and not both empty), or two
                          // valid slots with the same sequence number
  // The policy.
  kInstanceImageMismatch,  // INSTANCE_IMAGE_MISMATCH: "authority", "mode", "pinned software
                           // changed"
  kRollback,               // ROLLBACK: a rollback index below the stored one
};

// The stable UPPER_SNAKE name: "NO_GPT", "ROLLBACK", ...
[[nodiscard]] std::string_view to_string(Error error);

// A refusal: the error and what it concerns (a static string, never owned,
// never secret). Detail may be empty.
struct Refusal {
  Error error;
  std::string_view detail = {};

  friend constexpr bool operator==(const Refusal&, const Refusal&) = default;
};

// A refusal, as a std::expected of any value type returns it.
[[nodiscard]] inline std::unexpected<Refusal> refuse(Error error, std::string_view detail = {}) {
  return std::unexpected(Refusal{error, detail});
}

}  // namespace instance

// Payload verification: Android Verified Boot (vbmeta + hash footer) under
// pvmfw's policy (verify_payload: the entry point the firmware and
// `pvm verify` share), and a bootloader's check of one whole partition
// (verify_partition: the hypervisor's check of pvmfw.img, and
// `pvm verify --partition`). Both run the same stages over the same parsers.
//
// Format: libavb 1.3.0. Policy: AOSP pvmfw's payload verification
// (guest/pvmfw/avb/). Every check libavb
// makes, plus the ones it misses (descriptors inside the signed aux data, every
// required partition actually hashed and covering exactly what will run, no
// duplicates, reserved fields and flags as the policy says).
//
// Callers may rely on: a result is returned only when the kernel (and initrd,
// when given), or the partition's image, are exactly what the trusted key
// signed; any other input gives a Failure with a stable error name; no input
// makes this assert, crash or read outside the given spans. Usable in the
// firmware (no exceptions, no heap of its own; mbedTLS's RSA allocates
// through its calloc/free, and running out is a SIGNATURE_MISMATCH Failure).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string_view>

namespace verify {

// Stable names (to_string) follow the categories of the public AVB test
// vectors (libavb's result names) where one exists.
enum class Error : uint8_t {
  kInvalidFooter,            // INVALID_FOOTER: footer magic/version/offsets
  kInvalidVbmetaHeader,      // INVALID_VBMETA_HEADER: magic, sizes, offsets, overflow
  kUnsupportedVersion,       // UNSUPPORTED_VERSION: libavb version fields
  kOkNotSigned,              // OK_NOT_SIGNED: algorithm NONE (never trusted)
  kHashMismatch,             // HASH_MISMATCH: embedded vbmeta hash != computed
  kSignatureMismatch,        // SIGNATURE_MISMATCH: RSA PKCS#1 v1.5 check failed
  kPublicKeyRejected,        // PUBLIC_KEY_REJECTED: embedded key != trusted key
  kRollbackIndex,            // ROLLBACK_INDEX: rollback index < stored index
  kImageDigestMismatch,      // IMAGE_DIGEST_MISMATCH: partition digest differs
  kInvalidPublicKey,         // INVALID_PUBLIC_KEY: key blob malformed
  kInvalidDescriptor,        // INVALID_DESCRIPTOR: malformed or outside aux data
  kUnexpectedDescriptor,     // UNEXPECTED_DESCRIPTOR: a tag or partition pvmfw does not allow
  kDuplicateDescriptor,      // DUPLICATE_DESCRIPTOR: same partition or property twice
  kMissingBootDescriptor,    // MISSING_BOOT_DESCRIPTOR: no hash descriptor for "boot" (or,
                             // verify_partition, for the partition named)
  kMissingInitrdDescriptor,  // MISSING_INITRD_DESCRIPTOR: initrd given, no initrd_* descriptor
  kUnexpectedInitrdDescriptor,  // UNEXPECTED_INITRD_DESCRIPTOR: initrd descriptor, no initrd given
  kUnsupportedHashAlgorithm,    // UNSUPPORTED_HASH_ALGORITHM: not sha256/sha512
  kImageSizeMismatch,        // IMAGE_SIZE_MISMATCH: descriptor image_size != what will run
  kInvalidProperty,          // INVALID_PROPERTY: unknown key, malformed value
  kUnknownCapability,        // UNKNOWN_CAPABILITY: com.android.virt.cap value not known
  kInvalidFlags,             // INVALID_FLAGS: vbmeta flags or descriptor flags not allowed
};
const char* to_string(Error e);

struct Failure {
  Error error;
  const char* detail;  // static text, e.g. the partition name; never secret
};

enum class Algorithm : uint8_t {
  kNone,
  kSha256Rsa2048,
  kSha256Rsa4096,
  kSha256Rsa8192,
  kSha512Rsa2048,
  kSha512Rsa4096,
  kSha512Rsa8192,
};
const char* to_string(Algorithm a);  // "SHA256_RSA4096", as avbtool spells it

enum class HashAlgorithm : uint8_t { kSha256, kSha512 };
const char* to_string(HashAlgorithm a);  // "sha256", "sha512"

// com.android.virt.cap values (pvmfw-aosp.md), as a bit set.
enum Capability : uint32_t {
  kCapRemoteAttest = 1u << 0,           // "remote_attest"
  kCapSecretkeeperProtection = 1u << 1, // "secretkeeper_protection"
  kCapSupportsUefiBoot = 1u << 2,       // "supports_uefi_boot"
  kCapTrustySecurityVm = 1u << 3,       // "trusty_security_vm"
};

struct PartitionDigest {
  HashAlgorithm algorithm = HashAlgorithm::kSha256;
  uint8_t size = 0;                 // 32 or 64
  std::array<uint8_t, 64> bytes{};  // H(salt || image[0:image_size])
  uint64_t image_size = 0;
};

struct VerifiedPayload {
  Algorithm algorithm = Algorithm::kNone;
  PartitionDigest kernel;                 // the "boot" descriptor, checked
  std::optional<PartitionDigest> initrd;  // "initrd_normal" or "initrd_debug", checked
  bool debug_initrd = false;              // the initrd matched initrd_debug
  uint64_t rollback_index = 0;            // vbmeta rollback_index (DICE security version)
  uint32_t capabilities = 0;              // Capability bits
};

struct PayloadInputs {
  // Footer mode: the whole "boot" partition as loaded (image, vbmeta, footer).
  // With `vbmeta`: the raw kernel image only.
  std::span<const std::byte> kernel;
  std::optional<std::span<const std::byte>> initrd;
  std::optional<std::span<const std::byte>> vbmeta;  // standalone vbmeta image
  std::span<const std::byte> trusted_public_key;     // AVB public key blob
  uint64_t stored_rollback_index = 0;
};

[[nodiscard]] std::expected<VerifiedPayload, Failure> verify_payload(const PayloadInputs& in);

// ---- A whole partition, as a bootloader checks it ------------------------------------
//
// The hypervisor's check of pvmfw.img (docs/hypervisor.md "Boot, in order"
// step 3), and `pvm verify --partition`: one partition with an AvbFooter,
// signed by the platform's key. The same stages as verify_payload, in the
// same order (key blob, footer, vbmeta header, vbmeta hash, trusted key,
// signature, descriptor shapes), then this policy:
//   - algorithm not NONE (OK_NOT_SIGNED), vbmeta flags 0 (INVALID_FLAGS),
//     rollback_index_location 0 and rollback_index not below the stored one
//     (ROLLBACK_INDEX);
//   - exactly one descriptor: a hash descriptor naming `partition_name`
//     (another partition: UNEXPECTED_DESCRIPTOR; twice: DUPLICATE_DESCRIPTOR;
//     none: MISSING_BOOT_DESCRIPTOR, the partition being booted), with flags 0
//     (INVALID_FLAGS) and hash sha256 or sha512 (UNSUPPORTED_HASH_ALGORITHM);
//     properties and every other tag are UNEXPECTED_DESCRIPTOR;
//   - its image_size equal to the footer's original_image_size and ending at
//     or before the vbmeta (IMAGE_SIZE_MISMATCH);
//   - H(salt || partition[0:image_size]) equal to its digest
//     (IMAGE_DIGEST_MISMATCH).
// A rollback index below `stored_rollback_index` is ROLLBACK_INDEX (the
// hypervisor stores none yet and passes 0; the index is returned for use as
// pvmfw's DICE security version).
struct PartitionInputs {
  std::span<const std::byte> partition;           // image, vbmeta, zeros, AvbFooter
  std::string_view partition_name;                // e.g. "pvmfw"; compared byte for byte
  std::span<const std::byte> trusted_public_key;  // AVB public key blob
  uint64_t stored_rollback_index = 0;
};

struct VerifiedPartition {
  Algorithm algorithm = Algorithm::kNone;
  PartitionDigest digest;            // the hash descriptor, checked (digest.image_size: its size)
  uint64_t rollback_index = 0;       // vbmeta rollback_index
  std::span<const std::byte> image;  // partition[0:digest.image_size]: what the digest covers
};

[[nodiscard]] std::expected<VerifiedPartition, Failure> verify_partition(const PartitionInputs& in);

}  // namespace verify

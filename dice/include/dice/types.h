// Sizes, value types and the error enum shared by every part of dice/.
//
// Sizes are open-dice's (include/dice/dice.h, config/boringssl_ecdsa_p256). Fixed-size values are
// std::array<uint8_t, N>; variable-length inputs are base::Bytes
// (std::span<const std::byte>) as everywhere in this project.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include <base/reader.h>
#include <base/wipe.h>

namespace dice {

using Bytes = base::Bytes;

inline constexpr size_t kCdiSize = 32;
inline constexpr size_t kHashSize = 64;
inline constexpr size_t kHiddenSize = 64;
inline constexpr size_t kInlineConfigSize = 64;
inline constexpr size_t kPrivateKeySeedSize = 32;
inline constexpr size_t kIdSize = 20;
inline constexpr size_t kPrivateKeySize = 32;  // P-256 scalar, big-endian
inline constexpr size_t kPublicKeySize = 64;   // P-256 x || y, big-endian
inline constexpr size_t kSignatureSize = 64;   // ECDSA r || s, big-endian (COSE, RFC 9053 §2.1)

using Hash = std::array<uint8_t, kHashSize>;
using Id = std::array<uint8_t, kIdSize>;
using PublicKey = std::array<uint8_t, kPublicKeySize>;
using Signature = std::array<uint8_t, kSignatureSize>;

// Read-only and writable views of secret-sized buffers. Secrets themselves
// live in Secret<N> (below) or in the caller's output region.
using CdiView = std::span<const uint8_t, kCdiSize>;
using CdiOut = std::span<uint8_t, kCdiSize>;

// A buffer for secret bytes (CDIs, seeds, private keys): wiped when it dies,
// with a wipe the compiler cannot drop (base::secure_wipe); never copied.
template <size_t N>
class Secret {
 public:
  Secret() = default;
  ~Secret() { wipe(); }
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;

  std::span<uint8_t, N> span() { return bytes_; }
  std::span<const uint8_t, N> span() const { return bytes_; }
  uint8_t* data() { return bytes_.data(); }
  const uint8_t* data() const { return bytes_.data(); }
  static constexpr size_t size() { return N; }
  void wipe() { base::secure_wipe(bytes_.data(), N); }

 private:
  std::array<uint8_t, N> bytes_{};
};

// DiceMode (open-dice include/dice/dice.h).
enum class Mode : uint8_t {
  kNotInitialized = 0,
  kNormal = 1,
  kDebug = 2,
  kMaintenance = 3,
};
const char* to_string(Mode m);  // "not_initialized", "normal", "debug", "maintenance"

// One error enum for derivation, certificates, handovers and chains (the
// config blob has ConfigError, the CBOR layer cbor::Error). to_string gives a
// stable upper-case name. The firmware funnels them by class():
// kInvalidHandover -> PVM_FIRMWARE_INVALID_BCC, kDerivation ->
// PVM_FIRMWARE_SECRET_DERIVATION_FAILED.
enum class Error : uint8_t {
  // Derivation and encoding (class kDerivation).
  kInvalidInput,          // INVALID_INPUT: a caller's value out of range (mode, sizes, overlap)
  kBufferTooSmall,        // BUFFER_TOO_SMALL: the output region cannot hold the result
  kCryptoFailure,         // CRYPTO_FAILURE: a key was unusable, an HKDF length out of range, or
                          // mbedTLS failed (its heap exhausted)
  kAuthenticationFailed,  // AUTHENTICATION_FAILED: an AES-GCM tag did not match (sealed data
                          // altered, or another key)
  // The handover received from the previous stage (class kInvalidHandover).
  kHandoverMalformed,     // HANDOVER_MALFORMED: not well-formed (profile) CBOR
  kHandoverNotMap,        // HANDOVER_NOT_MAP: not a map of 2 or 3 pairs
  kHandoverBadCdi,        // HANDOVER_BAD_CDI: key 1/2 missing, out of order, or not bstr .size 32
  kHandoverBadChain,      // HANDOVER_BAD_CHAIN: key 3 not a DiceCertChain array of >= 2 items
  kHandoverUnknownEntry,  // HANDOVER_UNKNOWN_ENTRY: a third key other than 3
  kTrailingBytes,         // TRAILING_BYTES: bytes after the item (strict parsing only)
  // Chain and certificate checks (host tools; class kInvalidHandover).
  kChainMalformed,        // CHAIN_MALFORMED: the chain or a COSE structure has the wrong shape
  kUnsupportedAlgorithm,  // UNSUPPORTED_ALGORITHM: not an EC2/P-256/ES256 key or ES256 signature
  kBadSignature,          // BAD_SIGNATURE: a certificate's ECDSA signature does not verify
  kIssuerMismatch,        // ISSUER_MISMATCH: issuer is not the ID of the signing key
  kSubjectMismatch,       // SUBJECT_MISMATCH: subject is not the ID of the subject key
  kCertificateMalformed,  // CERTIFICATE_MALFORMED: CWT claims missing or of the wrong type
  kCdiKeyMismatch,        // CDI_KEY_MISMATCH: CDI_Attest does not derive the chain's last key
};
const char* to_string(Error e);

enum class ErrorClass : uint8_t { kDerivation, kInvalidHandover };
ErrorClass error_class(Error e);

}  // namespace dice

// DICE for the pVM: the open-dice main flow (CDIs, keys, IDs), the Android
// profile CBOR certificate, and the DiceAndroidHandover.
//
// Bit-compatible with google/open-dice (src/dice.c, src/android.c,
// src/cbor_cert_op.c with the P-256 ops of src/cbor_p256_cert_op.c and
// src/boringssl_ecdsa_utils.c); Checked
// against open-dice's known answers (its main-flow test vectors and the P-256
// certificate KATs of include/dice/known_test_values.h): CDIs, key seeds,
// P-256 keys, certificate IDs and every certificate byte but the signature
// (open-dice's BoringSSL P-256 signatures are randomized; ours are RFC 6979
// deterministic, so a given input always gives the same handover).
//
// Memory: outputs go into caller-supplied spans; only the crypto underneath
// (mbedTLS, crypto.h) allocates, from its bounded heap in the firmware, and a
// failed allocation is Error::kCryptoFailure. Secrets live in the caller's
// Secret<N> or output region, and every intermediate secret is wiped before
// return, on success and on failure. Nothing here logs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string_view>

#include "dice/cbor.h"
#include "dice/types.h"

namespace dice {

// ---- Inputs (open-dice DiceInputValues) ---------------------------------------------

enum class ConfigType : uint8_t { kInline, kDescriptor };

struct InputValues {
  Hash code_hash{};
  Bytes code_descriptor;  // certificate only; empty: omitted
  ConfigType config_type = ConfigType::kInline;
  Hash config_value{};      // kInline: used as is
  Bytes config_descriptor;  // kDescriptor: SHA-512 of it is the config input
  Hash authority_hash{};
  Bytes authority_descriptor;  // certificate only; empty: omitted
  Mode mode = Mode::kNotInitialized;
  Hash hidden{};
};

// What open-dice fixes at build time. The profile name goes in the
// certificate's -4670554 claim; empty: no claim (open-dice's cbor_cert_op
// without DICE_PROFILE_NAME).
struct CertOptions {
  std::string_view profile_name;
};

// Upper bound for a config descriptor (more is kInvalidInput): keeps the
// certificate well inside a 4 KiB handover region.
inline constexpr size_t kMaxDescriptorSize = 1024;

// ---- Derivation (open-dice src/dice.c) -----------------------------------------------

// CDI_Attest' and CDI_Seal' (dice.md "Main flow"):
//   input  = code_hash || config || authority_hash || mode || hidden (257 bytes)
//   CDI_Attest' = HKDF-SHA512(CDI_Attest, SHA-512(input), "CDI_Attest", 32)
//   CDI_Seal'   = HKDF-SHA512(CDI_Seal, SHA-512(authority_hash || mode || hidden), "CDI_Seal", 32)
// The outputs may not alias the current CDIs.
[[nodiscard]] std::expected<void, Error> derive_next_cdis(CdiView cdi_attest, CdiView cdi_seal,
                                                          const InputValues& in, CdiOut next_attest,
                                                          CdiOut next_seal);

// HKDF-SHA512(CDI_Attest, ASYM_SALT, "Key Pair", 32).
[[nodiscard]] std::expected<void, Error> derive_private_key_seed(
    CdiView cdi_attest, std::span<uint8_t, kPrivateKeySeedSize> seed);

// The layer's P-256 key pair from its CDI_Attest (seed, then crypto.h
// p256::key_pair_from_seed). On failure `priv` is wiped.
[[nodiscard]] std::expected<void, Error> derive_key_pair(CdiView cdi_attest,
                                                         std::span<uint8_t, kPrivateKeySize> priv,
                                                         PublicKey& pub);

// HKDF-SHA512(x || y, ID_SALT, "ID", 20) with the top bit cleared.
[[nodiscard]] std::expected<Id, Error> derive_cert_id(const PublicKey& pub);

// Lower-case hex of an ID (the issuer / subject claims), 40 characters.
using IdHex = std::array<char, 2 * kIdSize>;
IdHex id_hex(const Id& id);

// ---- Encodings ---------------------------------------------------------------------

// COSE_Key (RFC 9052 §7, RFC 9053 §7.1.1) as open-dice writes it:
// {1: 2 (EC2), 3: -7 (ES256), 4: [2] (verify), -1: 1 (P-256), -2: x, -3: y}.
void write_cose_key(const PublicKey& pub, cbor::Writer& out);

// The Android-profile config descriptor (open-dice
// DiceAndroidFormatConfigDescriptor, plus pvmfw's instance hash): a map with,
// in this order and only when set, -70002 component name (tstr), -70003
// component version (uint), -70004 resettable (null), -70005 security version
// (uint), -70006 RKP VM marker (null), -71003 instance hash (bstr).
struct AndroidConfig {
  std::optional<std::string_view> component_name;
  std::optional<uint64_t> component_version;
  bool resettable = false;
  std::optional<uint64_t> security_version;
  bool rkp_vm_marker = false;
  std::optional<Hash> instance_hash;
};
void write_android_config(const AndroidConfig& config, cbor::Writer& out);

// The certificate for the next layer, an untagged COSE_Sign1 (RFC 9052 §4.2):
//   [bstr {1: -7}, {}, bstr CWT, bstr signature]
// with the CWT claims in open-dice's order (cbor_cert_op.c EncodeCwt):
//   1 issuer (hex ID of authority_pub), 2 subject (hex ID of subject_pub),
//   -4670545 codeHash, [-4670546 codeDescriptor], then for a descriptor
//   -4670548 configurationDescriptor, -4670547 configurationHash (SHA-512 of
//   it), or for an inline config -4670548 = the 64 inline bytes;
//   -4670549 authorityHash, [-4670550 authorityDescriptor],
//   -4670551 mode (1-byte bstr), -4670552 subjectPublicKey (bstr COSE_Key),
//   -4670553 keyUsage (bstr 0x20, keyCertSign), [-4670554 profileName].
// Signed with ES256 over Sig_structure ["Signature1", protected, h'', payload]
// by authority_priv. Writes into `out`; returns the size.
[[nodiscard]] std::expected<size_t, Error> write_certificate(
    const PublicKey& subject_pub, std::span<const uint8_t, kPrivateKeySize> authority_priv,
    const PublicKey& authority_pub, const InputValues& in, const CertOptions& options,
    std::span<std::byte> out);

// ---- Handover (open-dice src/android.c) ------------------------------------------------

// DiceAndroidHandover = {1: bstr .size 32 CDI_Attest, 2: bstr .size 32 CDI_Seal,
// ? 3: DiceCertChain}, keys in that order. As DiceAndroidHandoverParse, bytes
// after the map are ignored (open-dice's ParseHandover known answer has 8);
// `size` says where the map ended. Unlike it, the whole handover must be
// well-formed profile CBOR, the map must have exactly 2 or 3 pairs, and a
// chain must be an array of at least 2 items (root COSE_Key, certificates):
// what DiceAndroidMainFlow will need.
struct Handover {
  CdiView cdi_attest;  // views into the parsed bytes
  CdiView cdi_seal;
  std::optional<Bytes> chain;  // the encoded DiceCertChain
  size_t size;                 // bytes of the handover map
};
[[nodiscard]] std::expected<Handover, Error> parse_handover(Bytes bytes);

// The region a handover is written to in a guest (one 4 KiB page, described
// by /reserved-memory "google,open-dice").
inline constexpr size_t kHandoverRegionSize = 4096;

// One DICE layer, as DiceAndroidMainFlow / DiceAndroidHandoverMainFlow:
// derives CDI_Attest', CDI_Seal' and the certificate for `in`, and writes the
// new handover {1: CDI_Attest', 2: CDI_Seal', 3: chain'} into `out`, where
// chain' is `chain` with the certificate appended, or, without a chain,
// [COSE_Key of the current layer's key, certificate]. The certificate is
// signed by the key of `cdi_attest`; its issuer is named after the key the
// chain's last certificate certifies when that is a P-256 COSE_Key (the
// same key in any consistent handover; it saves a multiplication), else
// after the key of `cdi_attest`. Returns the size written. `out` must not
// overlap the inputs. On failure `out` is wiped.
[[nodiscard]] std::expected<size_t, Error> main_flow(CdiView cdi_attest, CdiView cdi_seal,
                                                     std::optional<Bytes> chain,
                                                     const InputValues& in,
                                                     const CertOptions& options,
                                                     std::span<std::byte> out);

// parse_handover, then main_flow.
[[nodiscard]] std::expected<size_t, Error> handover_main_flow(Bytes current, const InputValues& in,
                                                              const CertOptions& options,
                                                              std::span<std::byte> out);

// ---- Reading chains back (host tools and tests) -----------------------------------------

// An EC2 P-256 COSE_Key: kty 2, crv 1, 32-byte x and y; alg, when present,
// -7; key_ops, when present, an array; other labels refused.
[[nodiscard]] std::expected<PublicKey, Error> parse_cose_key(Bytes encoded);

// A DICE certificate's parts and claims (views into the encoding). Decoding
// checks the shape only; verify_chain checks signatures and IDs.
struct Certificate {
  Bytes protected_header;  // the bstr's content
  Bytes payload;           // the CWT, encoded
  Signature signature{};
  int64_t algorithm = 0;  // protected header label 1
  std::string_view issuer;
  std::string_view subject;
  std::optional<Bytes> code_hash, code_descriptor, config_hash, config_descriptor, authority_hash,
      authority_descriptor, key_usage;
  std::optional<uint8_t> mode;
  Bytes subject_public_key;  // encoded COSE_Key
  std::optional<std::string_view> profile_name;
};
[[nodiscard]] std::expected<Certificate, Error> parse_certificate(Bytes encoded);

struct ChainFault {
  Error error;
  size_t index;  // 0: the root key; i >= 1: the i-th certificate
};

struct ChainSummary {
  PublicKey root{};
  size_t certificates = 0;
  PublicKey leaf{};  // the last certificate's subject key (the root without certificates)
};

// Verifies an encoded DiceCertChain: the root COSE_Key, then each
// certificate signed (ES256) by the previous key, its issuer the hex ID of
// that key and its subject the hex ID of its own subject key. `views`, when
// large enough, receives each certificate.
[[nodiscard]] std::expected<ChainSummary, ChainFault> verify_chain(
    Bytes chain, std::span<Certificate> views = {});

}  // namespace dice

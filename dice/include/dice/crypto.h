// The primitives DICE needs, as thin typed wrappers over mbedTLS 3.6 LTS
// (third_party/mbedtls, one configuration for both machines:
// pvmfw_mbedtls_config.h):
//   SHA-256/512, HMAC, HKDF   mbedtls_md, mbedtls_md_hmac, mbedtls_hkdf;
//   P-256 keys and ECDSA      mbedtls_ecp / mbedtls_ecdsa (RFC 6979 nonces:
//                             mbedtls_ecdsa_sign_det_ext), open-dice's key
//                             from a seed via mbedtls_hmac_drbg and
//                             mbedtls_ecp_gen_privkey;
//   AES-256-GCM               mbedtls_gcm (for the instance image).
// The firmware, the host tools and verify/ share that one build: no
// hand-written big-number or curve code.
//
// Speed: the secp256r1 group is loaded on first use and kept for the life of
// the program (it points at mbedTLS's constant curve data and the comb
// table for G that MBEDTLS_ECP_FIXED_POINT_OPTIM precomputes, so it owns no
// heap); a key pair is derived with one multiplication by G; signing needs
// only the private key.
//
// Memory: mbedTLS allocates (big numbers, digest and AES contexts): in the
// firmware from entry/'s bounded static heap (MBEDTLS_MEMORY_BUFFER_ALLOC_C),
// on the host from libc. A failed allocation is a failure of the call here
// (false or Error::kCryptoFailure), never a crash.
//
// Secrets: mbedTLS's *_free zeroize what they held (big numbers, HMAC pads,
// DRBG state, AES round keys); this library wipes its own buffers (digests
// of secrets, nonces) with base::secure_wipe. What mbedTLS leaves in dead
// stack frames is for the firmware's final stack wipe.
//
// Side channels: multiplications by a secret scalar are mbedTLS's comb with
// constant-time table lookups and randomized projective coordinates. The
// firmware has no entropy for that randomization here, so it comes from an
// HMAC_DRBG seeded with the secret and the message (crypto.cc): unpredictable
// without the key, the same for the same operation.
//
// Not thread-safe (the group is set up on first use); neither the firmware
// nor the host tools run crypto on two threads.
//
// Failures: digests, HMAC and HKDF return false (an HKDF length above
// 255 * HashLen, or an allocation); the rest return an Error. Outputs are
// then unspecified (secret outputs are wiped); callers discard them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <span>

#include "dice/types.h"

namespace dice {

// Digests of the concatenation of `parts`.
[[nodiscard]] bool sha256(std::span<const Bytes> parts, std::span<uint8_t, 32> out);
[[nodiscard]] bool sha512(std::span<const Bytes> parts, std::span<uint8_t, 64> out);
[[nodiscard]] inline bool sha512(Bytes data, std::span<uint8_t, 64> out) {
  const Bytes parts[] = {data};
  return sha512(parts, out);
}

// HMAC (RFC 2104) of the concatenation of `parts`. The key is consumed
// before `out` is written (they may overlap).
[[nodiscard]] bool hmac_sha256(Bytes key, std::span<const Bytes> parts, std::span<uint8_t, 32> out);
[[nodiscard]] bool hmac_sha512(Bytes key, std::span<const Bytes> parts, std::span<uint8_t, 64> out);

// HKDF (RFC 5869) extract-and-expand; out.size() <= 255 * hash size (false
// otherwise). An empty salt is HashLen zero bytes, as the RFC says. `out`
// must not overlap `info`.
[[nodiscard]] bool hkdf_sha256(Bytes ikm, Bytes salt, Bytes info, std::span<uint8_t> out);
[[nodiscard]] bool hkdf_sha512(Bytes ikm, Bytes salt, Bytes info, std::span<uint8_t> out);

namespace p256 {

using PrivateKeyView = std::span<const uint8_t, kPrivateKeySize>;
using PrivateKeyOut = std::span<uint8_t, kPrivateKeySize>;
using SeedView = std::span<const uint8_t, kPrivateKeySeedSize>;

// open-dice's P-256 key from a 32-byte seed (src/mbedtls_ops.c and
// src/boringssl_ecdsa_utils.c, which agree): HMAC_DRBG with SHA-512
// instantiated with the seed as entropy input (no nonce, no
// personalization), then 32-byte outputs, read big-endian, until one is in
// [1, n-1] (mbedtls_ecp_gen_privkey). Checked against open-dice's P-256
// certificate known answers. key_pair_from_seed also gives Q = d·G (x || y),
// from the same pass; on failure `priv` is wiped.
[[nodiscard]] std::expected<void, Error> private_key_from_seed(SeedView seed, PrivateKeyOut priv);
[[nodiscard]] std::expected<void, Error> key_pair_from_seed(SeedView seed, PrivateKeyOut priv,
                                                            PublicKey& pub);

// Q = d·G, as x || y; kCryptoFailure unless d is in [1, n-1] (`pub` is then
// untouched).
[[nodiscard]] std::expected<void, Error> public_key(PrivateKeyView priv, PublicKey& pub);

// ECDSA over SHA-256(concatenation of `message`) with the RFC 6979 §3.2
// nonce (HMAC-SHA-256): deterministic, r || s. kCryptoFailure unless d is in
// [1, n-1].
[[nodiscard]] std::expected<void, Error> sign(PrivateKeyView priv, std::span<const Bytes> message,
                                              Signature& sig);

// Checks that `sig` is a valid ECDSA P-256/SHA-256 signature of `message` by
// `pub`: kBadSignature unless `pub` is a point on the curve with coordinates
// below p (SEC 1 §3.2.2.1), r and s are in [1, n-1] and the signature
// verifies (FIPS 186-5 §6.4.2); kCryptoFailure when mbedTLS cannot run
// (allocation). Variable time (all inputs are public).
[[nodiscard]] std::expected<void, Error> verify(const PublicKey& pub,
                                                std::span<const Bytes> message,
                                                const Signature& sig);

}  // namespace p256

// AES-256-GCM (NIST SP 800-38D) with a 96-bit nonce and a 128-bit tag. A
// (key, nonce) pair must never seal two messages.
namespace aes256_gcm {

inline constexpr size_t kKeySize = 32;
inline constexpr size_t kNonceSize = 12;
inline constexpr size_t kTagSize = 16;
using KeyView = std::span<const uint8_t, kKeySize>;
using NonceView = std::span<const uint8_t, kNonceSize>;
using Tag = std::array<uint8_t, kTagSize>;

// Encrypts `plaintext` into `ciphertext` and authenticates it with `aad`.
// kInvalidInput when the sizes differ or the two overlap without being the
// same buffer (in place is fine); kCryptoFailure otherwise (allocation),
// with `ciphertext` wiped.
[[nodiscard]] std::expected<void, Error> seal(KeyView key, NonceView nonce, Bytes aad,
                                              Bytes plaintext, std::span<std::byte> ciphertext,
                                              Tag& tag);

// Checks `tag` over `aad` and `ciphertext` and decrypts into `plaintext`
// (the same size; in place is fine). kAuthenticationFailed when the tag
// does not match; on any failure `plaintext` is wiped.
[[nodiscard]] std::expected<void, Error> open(KeyView key, NonceView nonce, Bytes aad,
                                              Bytes ciphertext, const Tag& tag,
                                              std::span<std::byte> plaintext);

}  // namespace aes256_gcm

}  // namespace dice

// The primitives DICE needs: SHA-256/SHA-512 from base/sha2.h, everything
// else written here; no mbedTLS (on the host it is only the tests' oracle).
//
// Why not mbedTLS: in the firmware, its md.o (which mbedtls_hkdf,
// mbedtls_md_hmac and mbedtls_ecdsa_sign_det_ext need) drags every digest and
// file I/O in (../shared/reference/toolchain.md), and its ecp/bignum P-256
// costs about 30 KiB and 8 million instructions per scalar multiplication.
// So HMAC (RFC 2104), HKDF (RFC 5869), HMAC_DRBG
// (NIST SP 800-90A §10.1.2, no reseed) and ECDSA with RFC 6979 deterministic
// nonces are written in crypto.cc, over the project's own P-256 arithmetic
// (p256.cc: 4x64-bit limbs, Montgomery multiplication, complete projective
// formulas, a 2 KiB precomputed comb for multiples of G; constant time in
// private keys and nonces).
//
// Secrets: every intermediate buffer (HMAC pads, DRBG state, scalars, nonces,
// the point arithmetic's accumulators and temporaries) is wiped with
// base::secure_wipe; the SHA contexts wipe themselves.
//
// Failures: digests cannot fail; an HKDF length out of range or a key out of
// range is `false` or Error::kCryptoFailure.
// Outputs are then unspecified; callers discard them.
#pragma once

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

// HMAC (RFC 2104) of the concatenation of `parts`.
[[nodiscard]] bool hmac_sha256(Bytes key, std::span<const Bytes> parts, std::span<uint8_t, 32> out);
[[nodiscard]] bool hmac_sha512(Bytes key, std::span<const Bytes> parts, std::span<uint8_t, 64> out);

// HKDF (RFC 5869) extract-and-expand; out.size() <= 255 * hash size (false
// otherwise). An empty salt is HashLen zero bytes, as the RFC says.
[[nodiscard]] bool hkdf_sha256(Bytes ikm, Bytes salt, Bytes info, std::span<uint8_t> out);
[[nodiscard]] bool hkdf_sha512(Bytes ikm, Bytes salt, Bytes info, std::span<uint8_t> out);

namespace p256 {

using PrivateKeyView = std::span<const uint8_t, kPrivateKeySize>;

// open-dice's P-256 key from a 32-byte seed (src/boringssl_ecdsa_utils.c
// derivePrivateKey, and mbedtls_ops.c SetupKeyPair, which agree): HMAC_DRBG
// with SHA-512 instantiated with the seed as entropy input (no nonce, no
// personalization), then 32-byte outputs, read big-endian, until one is in
// [1, n-1]. Checked against open-dice's P-256 certificate known answers.
[[nodiscard]] std::expected<void, Error> private_key_from_seed(
    std::span<const uint8_t, kPrivateKeySeedSize> seed, std::span<uint8_t, kPrivateKeySize> priv);

// Q = d·G, as x || y; kCryptoFailure unless d is in [1, n-1].
[[nodiscard]] std::expected<void, Error> public_key(PrivateKeyView priv, PublicKey& pub);

// ECDSA over SHA-256(concatenation of `message`) with the RFC 6979 §3.2
// nonce (HMAC-SHA-256): deterministic, r || s. Constant time in the private
// key and the nonce.
[[nodiscard]] std::expected<void, Error> sign(PrivateKeyView priv, std::span<const Bytes> message,
                                              Signature& sig);

// True when `sig` is a valid ECDSA P-256/SHA-256 signature of `message` by
// `pub` (which must be a point on the curve, coordinates below p); r and s
// must be in [1, n-1]. Variable time (all inputs are public).
[[nodiscard]] bool verify(const PublicKey& pub, std::span<const Bytes> message,
                          const Signature& sig);

}  // namespace p256

}  // namespace dice

// The primitives DICE needs, over mbedTLS 2.28's SHA-256/SHA-512 and its
// P-256 group arithmetic (ecp.o, bignum.o) only.
//
// Why not mbedTLS's own HMAC/HKDF/ECDSA: in the firmware, md.o (which
// mbedtls_hkdf, mbedtls_md_hmac and mbedtls_ecdsa_sign_det_ext need) drags
// every digest and file I/O in; see entry/rt/mbedtls_ct.cc and
// ../shared/reference/toolchain.md. So HMAC (RFC 2104), HKDF (RFC 5869),
// HMAC_DRBG (NIST SP 800-90A §10.1.2, no reseed) and ECDSA with RFC 6979
// deterministic nonces are written here, and only mbedtls_sha256_*,
// mbedtls_sha512_*, mbedtls_ecp_* and mbedtls_mpi_* are called. Every ecp_mul
// gets an explicit blinding RNG (an HMAC_DRBG seeded from the scalar, as
// mbedTLS's own internal RNG is), so mbedTLS's internal-RNG path (which would
// need hmac_drbg.o and md.o) is never taken; the firmware satisfies those
// references with failing stubs (fw/mbedtls_ecp_stubs.cc).
//
// Secrets: every intermediate buffer (HMAC pads, DRBG state, scalars, nonces)
// is wiped with base::secure_wipe; mbedTLS contexts are freed with their
// _free functions, which zeroize (sha*_free, mpi_free, ecp_point_free).
//
// Failures are mbedTLS failing (allocation in bignum): `false` or
// Error::kCryptoFailure. Outputs are then unspecified; callers discard them.
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

// Q = d·G, as x || y.
[[nodiscard]] std::expected<void, Error> public_key(PrivateKeyView priv, PublicKey& pub);

// ECDSA over SHA-256(concatenation of `message`) with the RFC 6979 §3.2
// nonce (HMAC-SHA-256): deterministic, r || s.
[[nodiscard]] std::expected<void, Error> sign(PrivateKeyView priv, std::span<const Bytes> message,
                                              Signature& sig);

// True when `sig` is a valid ECDSA P-256/SHA-256 signature of `message` by
// `pub` (which must be a point on the curve).
[[nodiscard]] bool verify(const PublicKey& pub, std::span<const Bytes> message,
                          const Signature& sig);

}  // namespace p256

}  // namespace dice

// P-256 group arithmetic for crypto.cc (dice/ internal, not part of the
// library's interface): the project's own field and scalar arithmetic and
// point operations, so that the firmware needs no mbedTLS ecp/bignum.
// p256.cc says how it works.
//
// Scalars and coordinates are 32 big-endian bytes; points are x || y
// (SEC 1 §2.3.3 without the 0x04 prefix). Functions taking a secret (`k`,
// `d`) run in time independent of its value and wipe every buffer they
// derive from it; ecdsa_verify works on public data and is variable time.
#pragma once

#include <cstdint>
#include <span>

namespace dice::internal::p256 {

using In32 = std::span<const uint8_t, 32>;
using Out32 = std::span<uint8_t, 32>;

// 1 <= v <= n - 1 (n the group order, SEC 2 §2.4.2); time independent of v.
[[nodiscard]] bool scalar_in_range(In32 v);

// out = v mod n (for a 256-bit v that is one conditional subtraction: this is
// bits2int(h) mod n of a SHA-256 digest, FIPS 186-5 §6.4.1, RFC 6979 §2.3.4).
// Time independent of v; out may alias v.
void scalar_reduce(In32 v, Out32 out);

// out = k·G for 1 <= k <= n - 1. False, with `out` untouched, when k >= n or
// k = 0 (k·G is then the point at infinity). Constant time in k.
[[nodiscard]] bool base_mul(In32 k, std::span<uint8_t, 64> out);

// The ECDSA signature (FIPS 186-5 §6.4.1 steps 4-11) of the digest `h` by the
// private key d with the per-message secret k: r = x(k·G) mod n,
// s = k^-1 (h mod n + r·d) mod n, written as r || s. False when d or k is
// outside [1, n-1] or r or s is 0 (the caller draws another k). Constant time
// in d and k.
[[nodiscard]] bool ecdsa_sign(In32 d, In32 k, In32 h, std::span<uint8_t, 64> sig);

// ECDSA verification (FIPS 186-5 §6.4.2) of r || s over the digest `h` by the
// public key x || y: false unless x, y < p and (x, y) is on the curve,
// 1 <= r, s <= n - 1 and x(u1·G + u2·Q) mod n = r. Variable time.
[[nodiscard]] bool ecdsa_verify(std::span<const uint8_t, 64> pub, In32 h,
                                std::span<const uint8_t, 64> sig);

// For tests: entry i (0..7) of the generator comb's table w (0..3) as x || y
// (p256_table.py defines it).
void base_table_entry(unsigned w, unsigned i, std::span<uint8_t, 64> out);

// For tests: the field's and the scalars' arithmetic on values below the
// modulus, through the Montgomery code the point operations and signatures
// use: out = a·b, a^2, a^-1 (0 for a = 0) mod p; a·b mod n. Out of range
// inputs give meaningless results.
void field_mul(In32 a, In32 b, Out32 out);
void field_sqr(In32 a, Out32 out);
void field_inv(In32 a, Out32 out);
void scalar_mul(In32 a, In32 b, Out32 out);

}  // namespace dice::internal::p256

// Private to verify/: the modular arithmetic an RSA signature check needs,
// and nothing else. Unsigned numbers of up to 8192 bits held in a fixed array
// of 64-bit limbs (no heap), Montgomery multiplication and squaring
// (Montgomery 1985; as the SOS method of Koç, Acar, Kaliski, "Analyzing and
// Comparing Montgomery Multiplication Algorithms", IEEE Micro 1996: the full
// product, then a word-by-word reduction) and x^65537 mod n.
//
// Only public values (moduli, signatures) go through here: running time
// depends on the values. Every index stays inside the fixed arrays whatever
// the inputs; results are only meaningful under each function's stated
// preconditions (odd n, operands below n), which the callers check first.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "base/reader.h"

namespace verify::bignum {

using Limb = uint64_t;
inline constexpr size_t kLimbBytes = sizeof(Limb);
inline constexpr size_t kMaxBits = 8192;
inline constexpr size_t kMaxLimbs = kMaxBits / 64;

// An unsigned number of size() limbs, least significant limb first. R for a
// modulus of size() limbs is 2^(64 * size()).
class Number {
 public:
  // Zero, `limbs` limbs long (clamped to kMaxLimbs).
  constexpr explicit Number(size_t limbs = 0) : size_(limbs < kMaxLimbs ? limbs : kMaxLimbs) {}

  // The big-endian `be` as a number of be.size() / 8 limbs; nothing unless
  // be.size() is a non-zero multiple of 8 and at most kMaxBits / 8.
  [[nodiscard]] static std::optional<Number> from_be(base::Bytes be);

  // This number as exactly 8 * size() big-endian bytes; false (out untouched)
  // when out has another size.
  [[nodiscard]] bool to_be(std::span<uint8_t> out) const;

  constexpr size_t size() const { return size_; }
  constexpr Limb& operator[](size_t i) { return limbs_[i]; }
  constexpr Limb operator[](size_t i) const { return limbs_[i]; }
  // All kMaxLimbs limbs (size() of them meaningful), for the arithmetic's
  // inner loops.
  constexpr Limb* data() { return limbs_.data(); }
  constexpr const Limb* data() const { return limbs_.data(); }

 private:
  std::array<Limb, kMaxLimbs> limbs_{};
  size_t size_ = 0;
};

// Compares a and b as numbers (any sizes): negative, zero or positive.
int compare(const Number& a, const Number& b);

// -n0^-1 mod 2^64 for odd n0 (Newton's iteration); meaningless for even n0.
constexpr Limb neg_inverse(Limb n0) {
  // n0 * n0 == 1 (mod 8) for any odd n0: n0 is its own inverse to 3 bits,
  // and each step x <- x * (2 - n0 * x) doubles the bits that are right
  // (3, 6, 12, 24, 48, 96).
  Limb x = n0;
  for (int i = 0; i < 5; ++i) x *= 2 - n0 * x;
  return 0 - x;
}

// Arithmetic modulo an odd n of n.size() limbs, with R = 2^(64 * n.size()).
// Keeps a reference to n: n must outlive it. Operands are read as n.size()
// limbs whatever their own size().
class Montgomery {
 public:
  explicit Montgomery(const Number& n) : n_(n), n_prime_(neg_inverse(n[0])) {}

  // out = a * b / R mod n, fully reduced, for a < n and any b of n.size()
  // limbs (b < n in practice). out may be a or b.
  void mul(Number& out, const Number& a, const Number& b) const;

  // out = a * a / R mod n, fully reduced, for a < n: mul(out, a, a) with
  // about 3/4 of its limb products. out may be a.
  void sqr(Number& out, const Number& a) const;

  // out = x^65537 mod n for x < n, given rr = R^2 mod n (a key's precomputed
  // value; any other rr < n gives a wrong result, never an out-of-bounds
  // access): x enters Montgomery form as x * rr / R, then 16 squarings, and
  // the multiplication by the plain x leaves the form. out may be x or rr.
  void pow65537(Number& out, const Number& x, const Number& rr) const;

 private:
  // A double-length product, least significant limb first.
  using Product = std::array<Limb, 2 * kMaxLimbs>;

  // out = t / R mod n, fully reduced, for t < n * R in the low 2 * n.size()
  // limbs of t (Montgomery's REDC); t is overwritten.
  void reduce(Number& out, Product& t) const;

  const Number& n_;
  Limb n_prime_;  // -n^-1 mod 2^64
};

// R^2 mod n for n > 0 (n need not be odd), of n.size() limbs, by
// 2 * 64 * n.size() modular doublings of 1 mod n: quadratic in the size, a
// check for host tools and tests, not for the boot path.
Number r_squared(const Number& n);

}  // namespace verify::bignum

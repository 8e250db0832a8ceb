// Fixed-size multi-precision arithmetic for RSA signature checks (bignum.h).
#include "bignum.h"

namespace verify::bignum {
namespace {

// 64 x 64 -> 128-bit products and sums; a * b + c + d never overflows it
// ((2^64 - 1)^2 + 2 (2^64 - 1) = 2^128 - 1).
using Wide = unsigned __int128;

constexpr Limb low(Wide v) { return static_cast<Limb>(v); }
constexpr Limb high(Wide v) { return static_cast<Limb>(v >> 64); }

// a -= b over the low `size` limbs of both; returns the borrow out of the top.
Limb subtract(Number& a, const Number& b, size_t size) {
  Limb borrow = 0;
  for (size_t i = 0; i < size; ++i) {
    const Limb x = a[i];
    const Limb y = b[i];
    const Limb d = x - y;
    a[i] = d - borrow;
    borrow = static_cast<Limb>(x < y) | static_cast<Limb>(d < borrow);
  }
  return borrow;
}

}  // namespace

std::optional<Number> Number::from_be(base::Bytes be) {
  if (be.empty() || be.size() % kLimbBytes != 0 || be.size() > kMaxLimbs * kLimbBytes) {
    return std::nullopt;
  }
  Number x(be.size() / kLimbBytes);
  base::Reader r(be);
  // The sizes were checked: every be64() succeeds.
  for (size_t i = x.size(); i-- > 0;) x[i] = r.be64().value_or(0);
  return x;
}

bool Number::to_be(std::span<uint8_t> out) const {
  if (out.size() != size_ * kLimbBytes) return false;
  for (size_t i = 0; i < size_; ++i) {
    const Limb v = limbs_[size_ - 1 - i];
    for (size_t b = 0; b < kLimbBytes; ++b) {
      out[i * kLimbBytes + b] = static_cast<uint8_t>(v >> (8 * (kLimbBytes - 1 - b)));
    }
  }
  return true;
}

int compare(const Number& a, const Number& b) {
  for (size_t i = a.size() > b.size() ? a.size() : b.size(); i-- > 0;) {
    const Limb x = i < a.size() ? a[i] : 0;
    const Limb y = i < b.size() ? b[i] : 0;
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

void Montgomery::mul(Number& out, const Number& a, const Number& b) const {
  // Number keeps size() <= kMaxLimbs; saying so again lets the compiler drop
  // the per-access bounds checks from the loops below.
  const size_t s = n_.size() < kMaxLimbs ? n_.size() : kMaxLimbs;
  // One outer step per limb of b: t = (t + a * b[i] + m * n) / 2^64, with m
  // chosen so that the division is exact. m depends only on the low limb, so
  // the multiplication and the reduction share one inner pass (CIOS with its
  // two inner loops fused; a carry limb for each). With a < n the sum is at
  // most (2n - 1) * 2^64, so t <= 2n - 1 after every step: s + 1 limbs.
  std::array<Limb, kMaxLimbs + 1> t{};
  for (size_t i = 0; i < s; ++i) {
    const Limb bi = b[i];
    Wide v = Wide{a[0]} * bi + t[0];
    Limb carry_ab = high(v);
    const Limb m = low(v) * n_prime_;
    Wide w = Wide{m} * n_[0] + low(v);  // low limb 0 by the choice of m
    Limb carry_mn = high(w);
    for (size_t j = 1; j < s; ++j) {
      v = Wide{a[j]} * bi + t[j] + carry_ab;
      carry_ab = high(v);
      w = Wide{m} * n_[j] + low(v) + carry_mn;
      carry_mn = high(w);
      t[j - 1] = low(w);
    }
    v = Wide{t[s]} + carry_ab;
    w = Wide{low(v)} + carry_mn;
    t[s - 1] = low(w);
    t[s] = high(v) + high(w);
  }
  // t = a * b / R mod n, or that plus n: one conditional subtraction (its
  // borrow cancels t[s]).
  out = Number(s);
  for (size_t i = 0; i < s; ++i) out[i] = t[i];
  if (t[s] != 0 || compare(out, n_) >= 0) (void)subtract(out, n_, s);
}

void Montgomery::pow65537(Number& out, const Number& x, const Number& rr) const {
  Number xr(n_.size());
  mul(xr, x, rr);  // x * R mod n
  Number acc = xr;
  for (int i = 0; i < 16; ++i) mul(acc, acc, acc);  // x^(2^16) * R mod n
  mul(acc, acc, xr);                                // x^65537 * R mod n
  Number one(n_.size());
  one[0] = 1;
  mul(out, acc, one);  // x^65537 mod n
}

Number r_squared(const Number& n) {
  const size_t s = n.size();
  Number x(s);
  if (s == 0) return x;
  x[0] = 1;
  if (compare(x, n) >= 0) (void)subtract(x, n, s);  // n == 1
  // Invariant x < n; after the loop x = 2^(2 * 64 * s) mod n.
  for (size_t i = 0; i < 2 * 64 * s; ++i) {
    Limb carry = 0;
    for (size_t j = 0; j < s; ++j) {
      const Limb top = x[j] >> 63;
      x[j] = (x[j] << 1) | carry;
      carry = top;
    }
    if (carry != 0 || compare(x, n) >= 0) (void)subtract(x, n, s);
  }
  return x;
}

}  // namespace verify::bignum

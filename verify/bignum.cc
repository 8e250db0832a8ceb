// Fixed-size multi-precision arithmetic for RSA signature checks (bignum.h).
#include "bignum.h"

namespace verify::bignum {
namespace {

// 64 x 64 -> 128-bit products and sums; a * b + c + d never overflows it
// ((2^64 - 1)^2 + 2 (2^64 - 1) = 2^128 - 1).
using Wide = unsigned __int128;

constexpr Limb low(Wide v) { return static_cast<Limb>(v); }
constexpr Limb high(Wide v) { return static_cast<Limb>(v >> 64); }

// a + b + carry for a carry of 0 or 1, the carry out left in carry. A chain
// of these (each taking the previous one's carry) is one adds/adcs chain on
// aarch64.
Limb add_carry(Limb a, Limb b, Limb& carry) {
  unsigned long long out = 0;
  const Limb sum = __builtin_addcll(a, b, carry, &out);
  carry = out;
  return sum;
}

// t[0, 4) += a[0, 4) * b + carry; returns the new carry limb. The four
// products' low halves are added in one carry chain and their high halves
// (one limb up) in a second, so that each chain is a run of adcs instead of
// a carry materialised per limb.
[[gnu::always_inline]] inline Limb mul_add_4(Limb* t, const Limb* a, Limb b, Limb carry) {
  Limb lo[4], hi[4];
#pragma clang loop unroll(full)  // keeps lo and hi in registers even at -Oz
  for (size_t k = 0; k < 4; ++k) {
    const Wide p = Wide{a[k]} * b;
    lo[k] = low(p);
    hi[k] = high(p);
  }
  Limb c_lo = 0;
  const Limb s0 = add_carry(t[0], lo[0], c_lo);
  const Limb s1 = add_carry(t[1], lo[1], c_lo);
  const Limb s2 = add_carry(t[2], lo[2], c_lo);
  const Limb s3 = add_carry(t[3], lo[3], c_lo);
  Limb c_hi = 0;
  t[0] = add_carry(s0, carry, c_hi);
  t[1] = add_carry(s1, hi[0], c_hi);
  t[2] = add_carry(s2, hi[1], c_hi);
  t[3] = add_carry(s3, hi[2], c_hi);
  return hi[3] + c_lo + c_hi;  // hi[3] <= 2^64 - 2: no overflow
}

// t[0, len) += a[0, len) * b; returns the limb carried out of t[len - 1]
// (t + a * b < 2^(64 (len + 1)), so one limb holds it). The inner loop of
// every product and reduction, hence raw pointers: the callers pass ranges
// inside their fixed arrays, and hardened indexing would cost a check per
// limb. Eight limbs per iteration (three loop instructions to 48 of
// arithmetic), then four, then one at a time.
Limb mul_add(Limb* t, const Limb* a, size_t len, Limb b) {
  Limb carry = 0;
  for (size_t n = len / 8; n != 0; --n, t += 8, a += 8) {
    carry = mul_add_4(t, a, b, carry);
    carry = mul_add_4(t + 4, a + 4, b, carry);
  }
  if ((len & 4) != 0) {
    carry = mul_add_4(t, a, b, carry);
    t += 4;
    a += 4;
  }
  for (size_t k = 0; k < len % 4; ++k) {
    const Wide v = Wide{a[k]} * b + t[k] + carry;
    t[k] = low(v);
    carry = high(v);
  }
  return carry;
}

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

void Montgomery::reduce(Number& out, Product& t) const {
  // Number keeps size() <= kMaxLimbs; saying so again lets the compiler drop
  // the per-access bounds checks below. Every row stays inside t: i + s < 2s.
  const size_t s = n_.size() < kMaxLimbs ? n_.size() : kMaxLimbs;
  // One step per limb: t += m * n * 2^(64 i), with m making limb i zero. The
  // row's carry limb goes into limb i + s, and what that carries out (`top`,
  // 0 or 1) into limb i + s + 1 at the next step. For t < n * R the sum stays
  // below 2 n R, so t / R < 2n is t[s, 2s) plus top * R.
  Limb top = 0;
  for (size_t i = 0; i < s; ++i) {
    const Limb m = t[i] * n_prime_;
    const Limb c = mul_add(t.data() + i, n_.data(), s, m);
    t[i + s] = add_carry(t[i + s], c, top);
  }
  // One conditional subtraction (its borrow cancels top).
  out = Number(s);
  for (size_t i = 0; i < s; ++i) out[i] = t[s + i];
  if (top != 0 || compare(out, n_) >= 0) (void)subtract(out, n_, s);
}

void Montgomery::mul(Number& out, const Number& a, const Number& b) const {
  const size_t s = n_.size() < kMaxLimbs ? n_.size() : kMaxLimbs;
  // t = a * b, one row per limb of b: row i adds into limbs [i, i + s) and
  // writes limb i + s, which no earlier row reached.
  Product t;
  for (size_t i = 0; i < s; ++i) t[i] = 0;
  for (size_t i = 0; i < s; ++i) t[i + s] = mul_add(t.data() + i, a.data(), s, b[i]);
  reduce(out, t);
}

void Montgomery::sqr(Number& out, const Number& a) const {
  const size_t s = n_.size() < kMaxLimbs ? n_.size() : kMaxLimbs;
  // The products a[i] * a[j] for i < j once (row i: a[i+1, s) * a[i] into
  // limbs [2i + 1, i + s), limb i + s written; the last row is empty and
  // writes 0 to limb 2s - 1), then all doubled and the squares a[i]^2 added.
  Product t;
  for (size_t i = 0; i < s; ++i) t[i] = 0;
  for (size_t i = 0; i < s; ++i) {
    t[i + s] = mul_add(t.data() + 2 * i + 1, a.data() + i + 1, s - i - 1, a[i]);
  }
  // a^2 < R^2: neither the shifted-out bit nor the carry leave limb 2s - 1.
  Limb shifted = 0;
  Limb carry = 0;
  for (size_t i = 0; i < s; ++i) {
    const Wide square = Wide{a[i]} * a[i];
    const Limb lo = t[2 * i];
    const Limb hi = t[2 * i + 1];
    t[2 * i] = add_carry((lo << 1) | shifted, low(square), carry);
    t[2 * i + 1] = add_carry((hi << 1) | (lo >> 63), high(square), carry);
    shifted = hi >> 63;
  }
  reduce(out, t);
}

void Montgomery::pow65537(Number& out, const Number& x, const Number& rr) const {
  Number acc(n_.size());
  mul(acc, x, rr);                             // x * R mod n
  for (int i = 0; i < 16; ++i) sqr(acc, acc);  // x^(2^16) * R mod n
  mul(out, acc, x);                            // x^65537 mod n
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

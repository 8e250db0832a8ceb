// P-256 (SEC 2 v2 §2.4.2, FIPS 186-5 / SP 800-186 §3.2.1.3): field and
// scalar arithmetic, point operations, fixed-base multiplication and the
// ECDSA core (see p256.h for what callers may rely on).
//
// Numbers are four 64-bit limbs, least significant first. Both moduli (the
// field prime p and the group order n) use Montgomery multiplication with
// R = 2^256 in the interleaved form (CIOS), products in unsigned __int128
// added in split carry chains, and one final conditional subtraction; for p
// the reduction uses p's shape (shifts instead of multiplications by p), and
// squarings have their own code (10 limb products instead of 16). Field
// elements are kept in Montgomery form (a·R mod p); scalars are in plain form
// except inside sign/verify, where mont_mul(a, b·R) gives a·b directly.
// Inversion is Fermat's (a^(m-2)): for p by a fixed addition chain, for n
// with the public exponent scanned 4 bits at a time.
//
// Points are projective (X:Y:Z), Z = 0 the point at infinity, and are added
// and doubled with the complete formulas for a = -3 of Renes, Costello and
// Batina, "Complete addition formulas for prime order elliptic curves"
// (EUROCRYPT 2016), Algorithms 4 (addition), 5 (mixed addition: the second
// point affine and not at infinity) and 6 (doubling): no input, including
// the point at infinity, equal or opposite points, takes another path.
//
// Fixed-base multiplication is a signed comb (4 tables x 4 teeth x 16 rounds)
// over a 2 KiB precomputed table (p256_table.inc, written by p256_table.py):
// 15 doublings and 64 mixed additions. An odd k is recoded into 256 digits
// ±1 (k' = (k - 1)/2 + 2^255, digit i = 2·bit_i(k') - 1, so that
// k = sum (2 k'_i - 1) 2^i); an even k is replaced by the odd n - k and the
// result negated. Every digit pattern is one of 8 table entries or its
// negation, so every round adds a point (no zero digit, no skipped addition).
//
// Constant time: no branch and no memory index depends on a secret. Choices
// are all-ones/all-zeros masks; table entries are read by scanning all 8 and
// keeping one by mask; the only secret-dependent outcomes that branch are
// the range checks the caller reports as failures. ecdsa_verify (public
// inputs) uses plain branches and a 4-bit window for u2·Q.
//
// Secrets: scalars, recoded scalars, accumulators, looked-up entries and the
// point formulas' temporaries are wiped (base::secure_wipe) before return.
// What the compiler spills of the field operations' registers stays in dead
// stack frames, which the firmware wipes before the hand-off.
#include "p256.h"

#include <array>
#include <cstddef>
#include <type_traits>

#include <base/wipe.h>

namespace dice::internal::p256 {
namespace {

__extension__ using u128 = unsigned __int128;
using Limbs = std::array<uint64_t, 4>;

// ---- Limb arithmetic ------------------------------------------------------------

// The hot helpers are inlined and their 4-limb loops unrolled even at -Oz,
// so that field elements stay in registers (no stack copies, no stack
// protector frames): the arithmetic is most of the firmware's DICE time.
#define P256_UNROLL _Pragma("clang loop unroll(full)")
#define P256_INLINE [[gnu::always_inline]] constexpr

// Hides a mask's value from the optimizer, so that `(a & m) | (b & ~m)` is
// not turned back into a branch or a choice between two addresses (which
// -Oz does otherwise). An empty asm statement, like base::secure_wipe's
// barrier; no instruction is emitted.
P256_INLINE uint64_t value_barrier(uint64_t v) {
  if (!std::is_constant_evaluated()) asm("" : "+r"(v));
  return v;
}

// a + b + carry and a - b - borrow, carry and borrow 0 or 1. Clang's
// carry builtins become one adds/adcs (subs/sbcs) chain on aarch64.
P256_INLINE uint64_t addc(uint64_t a, uint64_t b, uint64_t& carry) {
  if (std::is_constant_evaluated()) {
    const u128 s = static_cast<u128>(a) + b + carry;
    carry = static_cast<uint64_t>(s >> 64);
    return static_cast<uint64_t>(s);
  } else {
    unsigned long long out;
    const unsigned long long r = __builtin_addcll(a, b, carry, &out);
    carry = out;
    return r;
  }
}

P256_INLINE uint64_t subb(uint64_t a, uint64_t b, uint64_t& borrow) {
  if (std::is_constant_evaluated()) {
    const u128 d = static_cast<u128>(a) - b - borrow;
    borrow = static_cast<uint64_t>(d >> 64) & 1;
    return static_cast<uint64_t>(d);
  } else {
    unsigned long long out;
    const unsigned long long r = __builtin_subcll(a, b, borrow, &out);
    borrow = out;
    return r;
  }
}

// All ones when a == b, else zero.
P256_INLINE uint64_t eq_mask(uint64_t a, uint64_t b) {
  const uint64_t d = a ^ b;
  return value_barrier(((d | (0 - d)) >> 63) - 1);
}

// All ones when v is zero, else zero.
P256_INLINE uint64_t zero_mask(const Limbs& v) { return eq_mask(v[0] | v[1] | v[2] | v[3], 0); }

// 1 when a < b, else 0.
P256_INLINE uint64_t less_than(const Limbs& a, const Limbs& b) {
  uint64_t borrow = 0;
  P256_UNROLL for (size_t i = 0; i < 4; ++i) subb(a[i], b[i], borrow);
  return borrow;
}

// r = mask ? a : r, for a mask of all ones or all zeros.
P256_INLINE void select(Limbs& r, const Limbs& a, uint64_t mask) {
  mask = value_barrier(mask);
  P256_UNROLL for (size_t i = 0; i < 4; ++i) r[i] = (a[i] & mask) | (r[i] & ~mask);
}

// r = t + hi·2^256 reduced once: for t + hi·2^256 < 2m, the value mod m.
// r may alias t. Subtracts m, then adds back m & mask (mask all ones when
// that borrowed): one carry chain instead of a select per limb.
P256_INLINE void reduce_once(Limbs& r, const Limbs& t, uint64_t hi, const Limbs& m) {
  Limbs d{};
  uint64_t borrow = 0;
  P256_UNROLL for (size_t i = 0; i < 4; ++i) d[i] = subb(t[i], m[i], borrow);
  subb(hi, 0, borrow);  // borrow now says t + hi·2^256 < m
  const uint64_t mask = value_barrier(0 - borrow);
  uint64_t carry = 0;
  P256_UNROLL for (size_t i = 0; i < 4; ++i) r[i] = addc(d[i], m[i] & mask, carry);
}

Limbs from_be(In32 b) {
  Limbs l{};
  for (size_t i = 0; i < 32; ++i) l[3 - i / 8] = (l[3 - i / 8] << 8) | b[i];
  return l;
}

void to_be(const Limbs& l, Out32 b) {
  for (size_t i = 0; i < 32; ++i) b[i] = static_cast<uint8_t>(l[3 - i / 8] >> (56 - 8 * (i % 8)));
}

// ---- Montgomery arithmetic mod m ------------------------------------------------

struct Modulus {
  Limbs m;
  uint64_t m0;  // -m^-1 mod 2^64
  Limbs one;    // R mod m
  Limbs rr;     // R^2 mod m
};

// t[0, 5) += a·b, returning what is carried out of t[4]. The four products'
// low halves go into t[0, 4) in one carry chain and their high halves into
// t[1, 5) in a second, so that each chain is one adds/adcs run (a carry per
// limb through 128-bit sums costs about twice the instructions).
P256_INLINE uint64_t mul_add_row(uint64_t* t, const Limbs& a, uint64_t b) {
  uint64_t lo[4], hi[4];
  P256_UNROLL for (size_t j = 0; j < 4; ++j) {
    const u128 p = static_cast<u128>(a[j]) * b;
    lo[j] = static_cast<uint64_t>(p);
    hi[j] = static_cast<uint64_t>(p >> 64);
  }
  uint64_t c = 0;
  P256_UNROLL for (size_t j = 0; j < 4; ++j) t[j] = addc(t[j], lo[j], c);
  t[4] = addc(t[4], hi[3], c);
  uint64_t d = 0;
  P256_UNROLL for (size_t j = 0; j < 3; ++j) t[j + 1] = addc(t[j + 1], hi[j], d);
  t[4] = addc(t[4], 0, d);
  return c + d;
}

// r = a·b·R^-1 mod m, for a, b < m; r may alias a or b. Operand scanning with
// the reduction interleaved (CIOS): after step i, t[i + 1, i + 6) holds
// (a·(b mod 2^(64(i + 1))) + q·m)/2^(64(i + 1)) < 2m, so adding a·b[i + 1]
// < m·2^64 to it stays below 2^320 (p and n are below 2^256 - 2^192).
P256_INLINE void mont_mul(Limbs& r, const Limbs& a, const Limbs& b, const Modulus& mod) {
  uint64_t t[9] = {};
  P256_UNROLL for (size_t i = 0; i < 4; ++i) {
    (void)mul_add_row(t + i, a, b[i]);  // below 2^320: no carry out
    const uint64_t q = t[i] * mod.m0;   // makes t[i] zero
    t[i + 5] = mul_add_row(t + i, mod.m, q);
  }
  reduce_once(r, Limbs{t[4], t[5], t[6], t[7]}, t[8], mod.m);  // t < 2m
}

P256_INLINE void mod_add(Limbs& r, const Limbs& a, const Limbs& b, const Modulus& mod) {
  Limbs t{};
  uint64_t carry = 0;
  P256_UNROLL for (size_t i = 0; i < 4; ++i) t[i] = addc(a[i], b[i], carry);
  reduce_once(r, t, carry, mod.m);
}

P256_INLINE void mod_sub(Limbs& r, const Limbs& a, const Limbs& b, const Modulus& mod) {
  Limbs t{};
  uint64_t borrow = 0;
  P256_UNROLL for (size_t i = 0; i < 4; ++i) t[i] = subb(a[i], b[i], borrow);
  const uint64_t mask = value_barrier(0 - borrow);  // add m back when a < b
  uint64_t carry = 0;
  P256_UNROLL for (size_t i = 0; i < 4; ++i) r[i] = addc(t[i], mod.m[i] & mask, carry);
}

constexpr Modulus make_modulus(const Limbs& m) {
  Modulus mod{m, 0, {}, {}};
  uint64_t inv = 1;  // m^-1 mod 2^64 by Newton's iteration: 1, 2, 4, ... 64 bits
  for (int i = 0; i < 6; ++i) inv *= 2 - m[0] * inv;
  mod.m0 = 0 - inv;
  uint64_t borrow = 0;  // m > 2^255, so R mod m = 2^256 - m
  for (size_t i = 0; i < 4; ++i) mod.one[i] = subb(0, m[i], borrow);
  Limbs x = mod.one;
  for (int i = 0; i < 256; ++i) {  // R·2^256 mod m by doubling
    Limbs t{};
    uint64_t carry = 0;
    for (size_t j = 0; j < 4; ++j) t[j] = addc(x[j], x[j], carry);
    reduce_once(x, t, carry, m);
  }
  mod.rr = x;
  return mod;
}

// r = a^e for a in Montgomery form and a public exponent e (Fermat inversion
// with e = m - 2). The exponent's bits choose the steps; a's value does not.
void mont_pow(Limbs& r, const Limbs& a, const Limbs& e, const Modulus& mod,
              void (*mul)(Limbs&, const Limbs&, const Limbs&)) {
  Limbs powers[16];
  powers[0] = mod.one;
  powers[1] = a;
  for (size_t i = 2; i < 16; ++i) mul(powers[i], powers[i - 1], a);
  Limbs acc = mod.one;
  bool started = false;
  for (size_t i = 64; i-- > 0;) {
    if (started) {
      for (int s = 0; s < 4; ++s) mul(acc, acc, acc);
    }
    const size_t nibble = (e[i / 16] >> (4 * (i % 16))) & 15;
    if (nibble != 0) {
      mul(acc, acc, powers[nibble]);
      started = true;
    }
  }
  r = acc;
  base::secure_wipe(powers, sizeof(powers));
  base::secure_wipe(&acc, sizeof(acc));
}

// ---- The field and the scalars ---------------------------------------------------

// SEC 2 v2 §2.4.2.
constexpr Modulus kP =
    make_modulus({0xffffffffffffffff, 0x00000000ffffffff, 0x0000000000000000, 0xffffffff00000001});
constexpr Modulus kN =
    make_modulus({0xf3b9cac2fc632551, 0xbce6faada7179e84, 0xffffffffffffffff, 0xffffffff00000000});
constexpr Limbs kB = {0x3bce3c3e27d2604b, 0x651d06b0cc53b0f6, 0xb3ebbd55769886bc,
                      0x5ac635d8aa3a93e7};

constexpr Limbs minus_two(const Limbs& m) {
  Limbs e{};
  uint64_t borrow = 0;
  for (size_t i = 0; i < 4; ++i) e[i] = subb(m[i], i == 0 ? 2 : 0, borrow);
  return e;
}
constexpr Limbs kNMinus2 = minus_two(kN.m);

constexpr Limbs to_mont(const Limbs& a, const Modulus& mod) {
  Limbs r{};
  mont_mul(r, a, mod.rr, mod);
  return r;
}
constexpr Limbs kBMont = to_mont(kB, kP);

static_assert(kP.m0 == 1 && kP.m0 * kP.m[0] == ~uint64_t{0});
static_assert(kN.m0 * kN.m[0] == ~uint64_t{0});
static_assert(to_mont({1, 0, 0, 0}, kP) == kP.one && to_mont({1, 0, 0, 0}, kN) == kN.one);

// A field element in Montgomery form, fully reduced.
struct Fe {
  Limbs v;
};

// The field operations are out of line (one copy each; a multiplication by
// G calls them about a thousand times), the limb helpers inside them inline.

// Montgomery multiplication and squaring for p, with the reduction written
// for p's shape: m0 = 1, so the quotient digit q is the low limb itself, and
// q·p = q·2^256 - q·2^224 + q·2^192 + q·2^96 - q cancels that limb and adds
// q·2^96 and q·(2^64 - 2^32 + 1)·2^192 above it: shifts and one 64x64
// product in one carry chain. t[0, 5) += t[0]·p (limb 0 becomes zero) with
// `in` (<= 1) added to limb 4; returns the carry out of limb 4.
P256_INLINE uint64_t p_reduce_step(uint64_t* t, uint64_t in) {
  const uint64_t q = t[0];
  const u128 high = static_cast<u128>(q) * kP.m[3];
  const uint64_t top = static_cast<uint64_t>(high >> 64) + in;  // < 2^64 - 2^32 + 2
  uint64_t carry = 0;
  t[1] = addc(t[1], q << 32, carry);
  t[2] = addc(t[2], q >> 32, carry);
  t[3] = addc(t[3], static_cast<uint64_t>(high), carry);
  t[4] = addc(t[4], top, carry);
  return carry;
}

// r = a·b·R^-1 mod p (mont_mul for p, the reduction steps interleaved).
[[gnu::noinline]] void fe_mul_limbs(Limbs& r, const Limbs& a, const Limbs& b) {
  uint64_t t[9] = {};
  P256_UNROLL for (size_t i = 0; i < 4; ++i) {
    (void)mul_add_row(t + i, a, b[i]);  // below 2^320 (see mont_mul)
    t[i + 5] = p_reduce_step(t + i, 0);
  }
  reduce_once(r, Limbs{t[4], t[5], t[6], t[7]}, t[8], kP.m);  // < 2p
}

P256_INLINE void mul_wide(uint64_t a, uint64_t b, uint64_t& lo, uint64_t& hi) {
  const u128 p = static_cast<u128>(a) * b;
  lo = static_cast<uint64_t>(p);
  hi = static_cast<uint64_t>(p >> 64);
}

// r = a·a·R^-1 mod p: the six products a_i·a_j (i < j) once, doubled, plus
// the four squares (10 products instead of 16), then the four reduction steps.
[[gnu::noinline]] void fe_sqr_limbs(Limbs& r, const Limbs& a) {
  uint64_t t[8];
  uint64_t lo, hi, lo2, hi2, lo3, hi3;
  uint64_t c = 0;
  mul_wide(a[0], a[1], t[1], hi);  // a0·(a1, a2, a3) into t[1, 5)
  mul_wide(a[0], a[2], lo2, hi2);
  mul_wide(a[0], a[3], lo3, hi3);
  t[2] = addc(hi, lo2, c);
  t[3] = addc(hi2, lo3, c);
  t[4] = hi3 + c;
  mul_wide(a[1], a[2], lo2, hi2);  // a1·(a2, a3) into t[3, 6)
  mul_wide(a[1], a[3], lo3, hi3);
  c = 0;
  t[3] = addc(t[3], lo2, c);
  t[4] = addc(t[4], lo3, c);
  t[5] = hi3 + c;
  c = 0;
  t[4] = addc(t[4], hi2, c);
  t[5] += c;
  mul_wide(a[2], a[3], lo, hi);  // a2·a3 into t[5, 7)
  c = 0;
  t[5] = addc(t[5], lo, c);
  t[6] = hi + c;
  t[7] = t[6] >> 63;  // doubled
  P256_UNROLL for (size_t i = 6; i > 1; --i) t[i] = (t[i] << 1) | (t[i - 1] >> 63);
  t[1] <<= 1;
  c = 0;  // plus the squares
  mul_wide(a[0], a[0], t[0], hi);
  t[1] = addc(t[1], hi, c);
  P256_UNROLL for (size_t i = 1; i < 4; ++i) {
    mul_wide(a[i], a[i], lo, hi);
    t[2 * i] = addc(t[2 * i], lo, c);
    t[2 * i + 1] = addc(t[2 * i + 1], hi, c);
  }
  uint64_t top = 0;  // carried out of limb i + 4 by step i, into limb i + 5
  P256_UNROLL for (size_t i = 0; i < 4; ++i) top = p_reduce_step(t + i, top);
  reduce_once(r, Limbs{t[4], t[5], t[6], t[7]}, top, kP.m);  // < 2p
}
[[gnu::noinline]] void sc_mul(Limbs& r, const Limbs& a, const Limbs& b) { mont_mul(r, a, b, kN); }

void fe_mul(Fe& r, const Fe& a, const Fe& b) { fe_mul_limbs(r.v, a.v, b.v); }
void fe_sqr(Fe& r, const Fe& a) { fe_sqr_limbs(r.v, a.v); }
[[gnu::noinline]] void fe_add(Fe& r, const Fe& a, const Fe& b) { mod_add(r.v, a.v, b.v, kP); }
[[gnu::noinline]] void fe_sub(Fe& r, const Fe& a, const Fe& b) { mod_sub(r.v, a.v, b.v, kP); }
void fe_mul_b(Fe& r, const Fe& a) { fe_mul_limbs(r.v, a.v, kBMont); }
void fe_neg(Fe& r, const Fe& a) { fe_sub(r, Fe{}, a); }

// r = a^(p-2) = a^-1 (0 for a = 0) by the addition chain for p - 2 of
// github.com/mmcloughlin/addchain that Go's crypto/internal/nistec/fiat
// p256Invert uses: 255 squarings and 13 multiplications (one by 1), against
// 47 multiplications for 4-bit windows. The steps are fixed; a's value
// chooses none. Written as a table to keep the code small.
void fe_inv(Fe& r, const Fe& a) {
  // Step: x[to] = x[from]^(2^squarings)·x[times], on slots holding a, 1
  // and the chain's named terms (exponents: xK = 2^K - 1).
  enum : uint8_t { kA, kOne, kX2, kX3, kX6, kX12, kX15, kX16, kX32, kI53, kX47, kT, kTmp, kSlots };
  struct Step {
    uint8_t to, from, squarings, times;
  };
  static constexpr Step kChain[] = {
      {kX2, kA, 1, kA},        // 2^2 - 1
      {kX3, kX2, 1, kA},       // 2^3 - 1
      {kX6, kX3, 3, kX3},      // 2^6 - 1
      {kX12, kX6, 6, kX6},     // 2^12 - 1
      {kX15, kX12, 3, kX3},    // 2^15 - 1
      {kX16, kX15, 1, kA},     // 2^16 - 1
      {kX32, kX16, 16, kX16},  // 2^32 - 1
      {kI53, kX32, 15, kOne},  // (2^32 - 1)·2^15
      {kX47, kI53, 0, kX15},   // 2^47 - 1
      {kT, kI53, 17, kA},      // (2^32 - 1)·2^32 + 1
      {kT, kT, 143, kX47},     // ·2^143 + 2^47 - 1
      {kT, kT, 47, kX47},      // ·2^47 + 2^47 - 1
      {kT, kT, 2, kA},         // ·2^2 + 1 = p - 2
  };
  struct State {
    Fe x[kSlots];
    ~State() { base::secure_wipe(this, sizeof(*this)); }
  } s;
  s.x[kA] = a;
  s.x[kOne] = Fe{kP.one};
  for (const Step& step : kChain) {
    s.x[kTmp] = s.x[step.from];
    for (unsigned i = 0; i < step.squarings; ++i) fe_sqr(s.x[kTmp], s.x[kTmp]);
    fe_mul(s.x[step.to], s.x[kTmp], s.x[step.times]);
  }
  r = s.x[kT];
}

Fe fe_from_plain(const Limbs& a) {
  Fe r;
  fe_mul_limbs(r.v, a, kP.rr);
  return r;
}

Limbs fe_to_plain(const Fe& a) {
  Limbs r;
  fe_mul_limbs(r, a.v, Limbs{1, 0, 0, 0});
  return r;
}

// ---- Points ----------------------------------------------------------------------

struct Affine {  // never the point at infinity
  Fe x, y;
};

struct Projective {  // (X:Y:Z) is (X/Z, Y/Z); Z = 0 is the point at infinity
  Fe x, y, z;
};

constexpr Projective kInfinity = {Fe{}, Fe{kP.one}, Fe{}};

// The formulas' temporaries, wiped after each operation (they are as secret
// as the scalar being multiplied).
struct Temps {
  Fe t0, t1, t2, t3, t4, x3, y3, z3;
  ~Temps() { base::secure_wipe(this, sizeof(*this)); }
};

// r = p + q: RCB16 Algorithm 4 (a = -3), 12M + 2m_b + 29a. r may alias p or q.
void point_add(Projective& r, const Projective& p, const Projective& q) {
  Temps t;
  fe_mul(t.t0, p.x, q.x);
  fe_mul(t.t1, p.y, q.y);
  fe_mul(t.t2, p.z, q.z);
  fe_add(t.t3, p.x, p.y);
  fe_add(t.t4, q.x, q.y);
  fe_mul(t.t3, t.t3, t.t4);
  fe_add(t.t4, t.t0, t.t1);
  fe_sub(t.t3, t.t3, t.t4);
  fe_add(t.t4, p.y, p.z);
  fe_add(t.x3, q.y, q.z);
  fe_mul(t.t4, t.t4, t.x3);
  fe_add(t.x3, t.t1, t.t2);
  fe_sub(t.t4, t.t4, t.x3);
  fe_add(t.x3, p.x, p.z);
  fe_add(t.y3, q.x, q.z);
  fe_mul(t.x3, t.x3, t.y3);
  fe_add(t.y3, t.t0, t.t2);
  fe_sub(t.y3, t.x3, t.y3);
  fe_mul_b(t.z3, t.t2);
  fe_sub(t.x3, t.y3, t.z3);
  fe_add(t.z3, t.x3, t.x3);
  fe_add(t.x3, t.x3, t.z3);
  fe_sub(t.z3, t.t1, t.x3);
  fe_add(t.x3, t.t1, t.x3);
  fe_mul_b(t.y3, t.y3);
  fe_add(t.t1, t.t2, t.t2);
  fe_add(t.t2, t.t1, t.t2);
  fe_sub(t.y3, t.y3, t.t2);
  fe_sub(t.y3, t.y3, t.t0);
  fe_add(t.t1, t.y3, t.y3);
  fe_add(t.y3, t.t1, t.y3);
  fe_add(t.t1, t.t0, t.t0);
  fe_add(t.t0, t.t1, t.t0);
  fe_sub(t.t0, t.t0, t.t2);
  fe_mul(t.t1, t.t4, t.y3);
  fe_mul(t.t2, t.t0, t.y3);
  fe_mul(t.y3, t.x3, t.z3);
  fe_add(t.y3, t.y3, t.t2);
  fe_mul(t.x3, t.t3, t.x3);
  fe_sub(t.x3, t.x3, t.t1);
  fe_mul(t.z3, t.t4, t.z3);
  fe_mul(t.t1, t.t3, t.t0);
  fe_add(t.z3, t.z3, t.t1);
  r = Projective{t.x3, t.y3, t.z3};
}

// r = p + q for an affine q: RCB16 Algorithm 5 (a = -3), 11M + 2m_b + 23a.
// Complete for every p, including the point at infinity. r may alias p.
void point_add_affine(Projective& r, const Projective& p, const Affine& q) {
  Temps t;
  fe_mul(t.t0, p.x, q.x);
  fe_mul(t.t1, p.y, q.y);
  fe_add(t.t3, q.x, q.y);
  fe_add(t.t4, p.x, p.y);
  fe_mul(t.t3, t.t3, t.t4);
  fe_add(t.t4, t.t0, t.t1);
  fe_sub(t.t3, t.t3, t.t4);
  fe_mul(t.t4, q.y, p.z);
  fe_add(t.t4, t.t4, p.y);
  fe_mul(t.y3, q.x, p.z);
  fe_add(t.y3, t.y3, p.x);
  fe_mul_b(t.z3, p.z);
  fe_sub(t.x3, t.y3, t.z3);
  fe_add(t.z3, t.x3, t.x3);
  fe_add(t.x3, t.x3, t.z3);
  fe_sub(t.z3, t.t1, t.x3);
  fe_add(t.x3, t.t1, t.x3);
  fe_mul_b(t.y3, t.y3);
  fe_add(t.t1, p.z, p.z);
  fe_add(t.t2, t.t1, p.z);
  fe_sub(t.y3, t.y3, t.t2);
  fe_sub(t.y3, t.y3, t.t0);
  fe_add(t.t1, t.y3, t.y3);
  fe_add(t.y3, t.t1, t.y3);
  fe_add(t.t1, t.t0, t.t0);
  fe_add(t.t0, t.t1, t.t0);
  fe_sub(t.t0, t.t0, t.t2);
  fe_mul(t.t1, t.t4, t.y3);
  fe_mul(t.t2, t.t0, t.y3);
  fe_mul(t.y3, t.x3, t.z3);
  fe_add(t.y3, t.y3, t.t2);
  fe_mul(t.x3, t.t3, t.x3);
  fe_sub(t.x3, t.x3, t.t1);
  fe_mul(t.z3, t.t4, t.z3);
  fe_mul(t.t1, t.t3, t.t0);
  fe_add(t.z3, t.z3, t.t1);
  r = Projective{t.x3, t.y3, t.z3};
}

// r = 2p: RCB16 Algorithm 6 (a = -3), 8M + 3S + 2m_b + 21a. r may alias p.
void point_double(Projective& r, const Projective& p) {
  Temps t;
  fe_sqr(t.t0, p.x);
  fe_sqr(t.t1, p.y);
  fe_sqr(t.t2, p.z);
  fe_mul(t.t3, p.x, p.y);
  fe_add(t.t3, t.t3, t.t3);
  fe_mul(t.z3, p.x, p.z);
  fe_add(t.z3, t.z3, t.z3);
  fe_mul_b(t.y3, t.t2);
  fe_sub(t.y3, t.y3, t.z3);
  fe_add(t.x3, t.y3, t.y3);
  fe_add(t.y3, t.x3, t.y3);
  fe_sub(t.x3, t.t1, t.y3);
  fe_add(t.y3, t.t1, t.y3);
  fe_mul(t.y3, t.x3, t.y3);
  fe_mul(t.x3, t.x3, t.t3);
  fe_add(t.t3, t.t2, t.t2);
  fe_add(t.t2, t.t2, t.t3);
  fe_mul_b(t.z3, t.z3);
  fe_sub(t.z3, t.z3, t.t2);
  fe_sub(t.z3, t.z3, t.t0);
  fe_add(t.t3, t.z3, t.z3);
  fe_add(t.z3, t.z3, t.t3);
  fe_add(t.t3, t.t0, t.t0);
  fe_add(t.t0, t.t3, t.t0);
  fe_sub(t.t0, t.t0, t.t2);
  fe_mul(t.t0, t.t0, t.z3);
  fe_add(t.y3, t.y3, t.t0);
  fe_mul(t.t0, p.y, p.z);
  fe_add(t.t0, t.t0, t.t0);
  fe_mul(t.z3, t.t0, t.z3);
  fe_sub(t.x3, t.x3, t.z3);
  fe_mul(t.z3, t.t0, t.t1);
  fe_add(t.z3, t.z3, t.z3);
  fe_add(t.z3, t.z3, t.z3);
  r = Projective{t.x3, t.y3, t.z3};
}

// Plain affine coordinates of p (zero for the point at infinity).
void to_affine(const Projective& p, Limbs& x, Limbs& y) {
  Fe z_inv, ax, ay;
  fe_inv(z_inv, p.z);
  fe_mul(ax, p.x, z_inv);
  fe_mul(ay, p.y, z_inv);
  x = fe_to_plain(ax);
  y = fe_to_plain(ay);
  base::secure_wipe(&z_inv, sizeof(z_inv));
  base::secure_wipe(&ax, sizeof(ax));
  base::secure_wipe(&ay, sizeof(ay));
}

// ---- Fixed-base multiplication ------------------------------------------------------

constexpr size_t kCombTables = 4;   // one per 64-bit limb of the recoded scalar
constexpr size_t kCombTeeth = 4;    // bits r, r + 16, r + 32, r + 48 of a limb
constexpr size_t kCombRounds = 16;  // r = 15 .. 0
constexpr size_t kCombEntries = 8;  // 2^(teeth - 1): the top tooth's sign is +

// [table][entry][x, y][limb], Montgomery form.
constexpr uint64_t kBaseComb[kCombTables][kCombEntries][2][4] = {
#include "p256_table.inc"
};

// out = kBaseComb[w][index], reading every entry of the table (the sums
// stay in registers; only the chosen entry is stored).
void comb_lookup(Affine& out, size_t w, uint64_t index) {
  uint64_t x[4] = {}, y[4] = {};
  for (size_t i = 0; i < kCombEntries; ++i) {
    const uint64_t mask = eq_mask(i, index);
    P256_UNROLL for (size_t j = 0; j < 4; ++j) {
      x[j] |= kBaseComb[w][i][0][j] & mask;
      y[j] |= kBaseComb[w][i][1][j] & mask;
    }
  }
  P256_UNROLL for (size_t j = 0; j < 4; ++j) {
    out.x.v[j] = x[j];
    out.y.v[j] = y[j];
  }
}

// out = k·G for k < n (the point at infinity for k = 0), in constant time.
void comb_mul(Projective& out, const Limbs& k) {
  struct State {
    Limbs odd, recoded;
    Affine entry;
    Fe neg_y;
    Projective acc;
    ~State() { base::secure_wipe(this, sizeof(*this)); }
  } s;
  // An odd multiplier: k, or n - k (odd, as n is) for an even k.
  const uint64_t even = (k[0] & 1) - 1;
  uint64_t borrow = 0;
  for (size_t i = 0; i < 4; ++i) s.odd[i] = subb(kN.m[i], k[i], borrow);
  select(s.odd, k, ~even);
  // k' = (odd - 1) / 2 + 2^255 = odd >> 1 with the top bit set.
  for (size_t i = 0; i < 4; ++i) {
    s.recoded[i] = (s.odd[i] >> 1) | (i < 3 ? s.odd[i + 1] << 63 : uint64_t{1} << 63);
  }
  for (size_t round = kCombRounds; round-- > 0;) {
    if (round != kCombRounds - 1) point_double(s.acc, s.acc);
    for (size_t w = 0; w < kCombTables; ++w) {
      uint64_t bits = 0;
      for (size_t u = 0; u < kCombTeeth; ++u) {
        bits |= ((s.recoded[w] >> (round + kCombRounds * u)) & 1) << u;
      }
      // Top digit -1: the negation of the complementary pattern.
      const uint64_t negative = ((bits >> 3) & 1) - 1;
      comb_lookup(s.entry, w, (bits ^ negative) & 7);
      fe_neg(s.neg_y, s.entry.y);
      select(s.entry.y.v, s.neg_y.v, negative);
      if (round == kCombRounds - 1 && w == 0) {
        s.acc = Projective{s.entry.x, s.entry.y, Fe{kP.one}};  // infinity + entry
      } else {
        point_add_affine(s.acc, s.acc, s.entry);
      }
    }
  }
  fe_neg(s.neg_y, s.acc.y);
  select(s.acc.y.v, s.neg_y.v, even);
  out = s.acc;
}

// ---- Variable-time multiplication (public data only) ---------------------------

// out = k·p, 4 bits at a time.
void point_mul_vartime(Projective& out, const Limbs& k, const Projective& p) {
  Projective multiples[16];
  multiples[0] = kInfinity;
  multiples[1] = p;
  for (size_t i = 2; i < 16; ++i) point_add(multiples[i], multiples[i - 1], p);
  Projective acc = kInfinity;
  for (size_t i = 64; i-- > 0;) {
    for (int d = 0; d < 4; ++d) point_double(acc, acc);
    const size_t nibble = (k[i / 16] >> (4 * (i % 16))) & 15;
    if (nibble != 0) point_add(acc, acc, multiples[nibble]);
  }
  out = acc;
}

bool on_curve(const Fe& x, const Fe& y) {
  Fe lhs, rhs, t;
  fe_sqr(lhs, y);
  fe_sqr(rhs, x);
  fe_mul(rhs, rhs, x);
  fe_add(t, x, x);
  fe_add(t, t, x);
  fe_sub(rhs, rhs, t);
  fe_add(rhs, rhs, Fe{kBMont});
  return lhs.v == rhs.v;
}

// 1 <= v <= n - 1, computed without branches (the caller branches on the
// answer, which is all it reveals).
bool valid_scalar(const Limbs& v) { return (less_than(v, kN.m) & ~zero_mask(v) & 1) != 0; }

}  // namespace

bool scalar_in_range(In32 v) {
  Limbs l = from_be(v);
  const bool ok = valid_scalar(l);
  base::secure_wipe(&l, sizeof(l));
  return ok;
}

void scalar_reduce(In32 v, Out32 out) {
  Limbs l = from_be(v);
  reduce_once(l, l, 0, kN.m);
  to_be(l, out);
  base::secure_wipe(&l, sizeof(l));
}

bool base_mul(In32 k, std::span<uint8_t, 64> out) {
  struct State {
    Limbs k, x, y;
    Projective p;
    ~State() { base::secure_wipe(this, sizeof(*this)); }
  } s;
  s.k = from_be(k);
  if (!valid_scalar(s.k)) return false;
  comb_mul(s.p, s.k);
  to_affine(s.p, s.x, s.y);
  to_be(s.x, out.first<32>());
  to_be(s.y, out.last<32>());
  return true;
}

bool ecdsa_sign(In32 d_bytes, In32 k_bytes, In32 h, std::span<uint8_t, 64> sig) {
  struct State {
    Limbs d, k, x, y, d_mont, k_mont, k_inv_mont, t;
    Projective big_r;
    ~State() { base::secure_wipe(this, sizeof(*this)); }
  } s;
  s.d = from_be(d_bytes);
  s.k = from_be(k_bytes);
  if (!valid_scalar(s.d) || !valid_scalar(s.k)) return false;
  comb_mul(s.big_r, s.k);
  to_affine(s.big_r, s.x, s.y);
  Limbs r;
  reduce_once(r, s.x, 0, kN.m);  // x < p < 2n
  // s = k^-1 (e + r·d): mont_mul(a, b·R) = a·b keeps the operands plain.
  Limbs e = from_be(h);
  reduce_once(e, e, 0, kN.m);
  sc_mul(s.d_mont, s.d, kN.rr);
  sc_mul(s.t, r, s.d_mont);
  mod_add(s.t, s.t, e, kN);
  sc_mul(s.k_mont, s.k, kN.rr);
  mont_pow(s.k_inv_mont, s.k_mont, kNMinus2, kN, sc_mul);
  Limbs sv;
  sc_mul(sv, s.t, s.k_inv_mont);
  // r and s are the public signature; only their being zero is looked at.
  if (zero_mask(r) != 0 || zero_mask(sv) != 0) return false;
  to_be(r, sig.first<32>());
  to_be(sv, sig.last<32>());
  return true;
}

bool ecdsa_verify(std::span<const uint8_t, 64> pub, In32 h, std::span<const uint8_t, 64> sig) {
  const Limbs r = from_be(sig.first<32>());
  const Limbs s = from_be(sig.last<32>());
  if (zero_mask(r) != 0 || zero_mask(s) != 0 || !less_than(r, kN.m) || !less_than(s, kN.m)) {
    return false;
  }
  const Limbs qx = from_be(pub.first<32>());
  const Limbs qy = from_be(pub.last<32>());
  if (!less_than(qx, kP.m) || !less_than(qy, kP.m)) return false;
  const Projective q{fe_from_plain(qx), fe_from_plain(qy), Fe{kP.one}};
  if (!on_curve(q.x, q.y)) return false;

  Limbs e = from_be(h);
  reduce_once(e, e, 0, kN.m);
  Limbs s_mont, w_mont, u1, u2;
  sc_mul(s_mont, s, kN.rr);
  mont_pow(w_mont, s_mont, kNMinus2, kN, sc_mul);  // s^-1·R
  sc_mul(u1, e, w_mont);
  sc_mul(u2, r, w_mont);
  Projective a, b;
  if (zero_mask(u1) != 0) {
    a = kInfinity;  // e = 0 mod n
  } else {
    comb_mul(a, u1);
  }
  point_mul_vartime(b, u2, q);
  point_add(a, a, b);
  if (zero_mask(a.z.v) != 0) return false;
  Limbs x, y;
  to_affine(a, x, y);
  reduce_once(x, x, 0, kN.m);
  return x == r;
}

void base_table_entry(unsigned w, unsigned i, std::span<uint8_t, 64> out) {
  Fe x, y;
  for (size_t j = 0; j < 4; ++j) {
    x.v[j] = kBaseComb[w % kCombTables][i % kCombEntries][0][j];
    y.v[j] = kBaseComb[w % kCombTables][i % kCombEntries][1][j];
  }
  to_be(fe_to_plain(x), out.first<32>());
  to_be(fe_to_plain(y), out.last<32>());
}

void field_mul(In32 a, In32 b, Out32 out) {
  Fe r;
  fe_mul(r, fe_from_plain(from_be(a)), fe_from_plain(from_be(b)));
  to_be(fe_to_plain(r), out);
}

void field_sqr(In32 a, Out32 out) {
  Fe r;
  fe_sqr(r, fe_from_plain(from_be(a)));
  to_be(fe_to_plain(r), out);
}

void field_inv(In32 a, Out32 out) {
  // x/Z of (1 : 1 : a), through to_affine as the point operations use it.
  Limbs x, y;
  to_affine(Projective{Fe{kP.one}, Fe{kP.one}, fe_from_plain(from_be(a))}, x, y);
  to_be(x, out);
}

void scalar_mul(In32 a, In32 b, Out32 out) {
  Limbs b_mont, r;
  sc_mul(b_mont, from_be(b), kN.rr);
  sc_mul(r, from_be(a), b_mont);
  to_be(r, out);
}

}  // namespace dice::internal::p256

#undef P256_INLINE
#undef P256_UNROLL

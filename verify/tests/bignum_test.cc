// verify/'s own RSA arithmetic (bignum.h) against mbedTLS bignum, an
// independent implementation used here as the oracle only: random and
// extreme-shaped moduli of every AVB key size and of odd sizes, random and
// edge bases, the squaring against the multiplication, and the rsa_verify /
// rr_is_canonical rules built on top of it.
#include "bignum.h"

#include <gtest/gtest.h>
#include <mbedtls/bignum.h>

#include <cstdint>
#include <random>
#include <string>

#include "avb.h"
#include "vbmeta_builder.h"

namespace verify::testing {
namespace {

using bignum::Number;

// An mbedtls_mpi freed on every path.
class Mpi {
 public:
  Mpi() { mbedtls_mpi_init(&m_); }
  ~Mpi() { mbedtls_mpi_free(&m_); }
  Mpi(const Mpi&) = delete;
  Mpi& operator=(const Mpi&) = delete;
  mbedtls_mpi* get() { return &m_; }

 private:
  mbedtls_mpi m_;
};

void read(Mpi& m, const Buf& be) {
  ASSERT_EQ(mbedtls_mpi_read_binary(m.get(), be.data(), be.size()), 0);
}
Buf write(Mpi& m, size_t size) {
  Buf out(size);
  EXPECT_EQ(mbedtls_mpi_write_binary(m.get(), out.data(), out.size()), 0);
  return out;
}

// What mbedTLS makes of n: R^2 mod n (R = 2^(8 * size)) and x^65537 mod n.
Buf oracle_rr(const Buf& n) {
  Mpi mn, rr;
  read(mn, n);
  EXPECT_EQ(mbedtls_mpi_lset(rr.get(), 1), 0);
  EXPECT_EQ(mbedtls_mpi_shift_l(rr.get(), 2 * 8 * n.size()), 0);
  EXPECT_EQ(mbedtls_mpi_mod_mpi(rr.get(), rr.get(), mn.get()), 0);
  return write(rr, n.size());
}
Buf oracle_pow(const Buf& x, const Buf& n) {
  Mpi mx, mn, e, out;
  read(mx, x);
  read(mn, n);
  EXPECT_EQ(mbedtls_mpi_lset(e.get(), 65537), 0);
  EXPECT_EQ(mbedtls_mpi_exp_mod(out.get(), mx.get(), e.get(), mn.get(), nullptr), 0);
  return write(out, n.size());
}
// x mod n, as n.size() bytes.
Buf oracle_mod(const Buf& x, const Buf& n) {
  Mpi mx, mn;
  read(mx, x);
  read(mn, n);
  EXPECT_EQ(mbedtls_mpi_mod_mpi(mx.get(), mx.get(), mn.get()), 0);
  return write(mx, n.size());
}
// a * b mod n.
Buf oracle_mulmod(const Buf& a, const Buf& b, const Buf& n) {
  Mpi ma, mb, mn;
  read(ma, a);
  read(mb, b);
  read(mn, n);
  EXPECT_EQ(mbedtls_mpi_mul_mpi(ma.get(), ma.get(), mb.get()), 0);
  EXPECT_EQ(mbedtls_mpi_mod_mpi(ma.get(), ma.get(), mn.get()), 0);
  return write(ma, n.size());
}

Number num(const Buf& be) {
  auto x = Number::from_be(bytes(be));
  EXPECT_TRUE(x);
  return x.value_or(Number());
}
Buf be(const Number& x) {
  Buf out(x.size() * 8);
  EXPECT_TRUE(x.to_be(out));
  return out;
}

Buf random_bytes(std::mt19937_64& rng, size_t size) {
  Buf b(size);
  for (auto& v : b) v = static_cast<uint8_t>(rng());
  return b;
}
// An RSA-shaped modulus: odd, top bit set (not necessarily a product of primes:
// the arithmetic does not care).
Buf random_modulus(std::mt19937_64& rng, size_t size) {
  Buf n = random_bytes(rng, size);
  n.front() |= 0x80;
  n.back() |= 1;
  return n;
}
// Moduli whose limbs make carries run the whole length.
std::vector<Buf> extreme_moduli(size_t size) {
  Buf all_ones(size, 0xff);  // 2^bits - 1
  Buf low_heavy(size, 0);    // 2^(bits-1) + 1
  low_heavy.front() = 0x80;
  low_heavy.back() = 0x01;
  Buf top_limb(size, 0);  // 2^bits - 2^(bits-64) + 1: one full top limb
  std::fill_n(top_limb.begin(), 8, 0xff);
  top_limb.back() = 0x01;
  Buf high_low(size, 0xff);  // 2^bits - 2^64 + 1: low limb 1, rest ones
  std::fill_n(high_low.end() - 8, 8, 0x00);
  high_low.back() = 0x01;
  return {all_ones, low_heavy, top_limb, high_low};
}

Buf minus(Buf x, uint8_t v) {  // x - v for x >= v
  for (size_t i = x.size(); i-- > 0 && v != 0;) {
    const bool borrow = x[i] < v;
    x[i] = static_cast<uint8_t>(x[i] - v);
    v = borrow ? 1 : 0;
  }
  return x;
}
Buf plus(Buf x, uint8_t v) {  // x + v, wrapping at the size
  for (size_t i = x.size(); i-- > 0 && v != 0;) {
    const unsigned sum = x[i] + unsigned{v};
    x[i] = static_cast<uint8_t>(sum);
    v = sum > 0xff ? 1 : 0;
  }
  return x;
}

// The AVB key blob for modulus n with the given rr (n0inv from n).
Buf key_blob(const Buf& n, const Buf& rr) {
  Buf blob(8);
  put_be32(blob, 0, static_cast<uint32_t>(n.size() * 8));
  uint64_t n0 = 0;
  for (size_t i = n.size() - 8; i < n.size(); ++i) n0 = (n0 << 8) | n[i];
  put_be32(blob, 4, static_cast<uint32_t>(bignum::neg_inverse(n0)));
  blob.insert(blob.end(), n.begin(), n.end());
  blob.insert(blob.end(), rr.begin(), rr.end());
  return blob;
}

std::string verify_detail(const avb::RsaPublicKey& key, const Buf& sig) {
  const Buf digest(32, 0x5a);
  auto r = avb::rsa_verify(key, HashAlgorithm::kSha256, bytes(digest), bytes(sig));
  if (r) return "OK";
  return std::string(to_string(r.error().error)) + " (" + r.error().detail + ")";
}

constexpr size_t kKeySizes[] = {2048 / 8, 4096 / 8, 8192 / 8};

TEST(Bignum, NegInverse) {
  static_assert(bignum::neg_inverse(1) == UINT64_MAX);
  std::mt19937_64 rng(1);
  std::vector<uint64_t> values = {1, 3, 5, 0x8000000000000001, UINT64_MAX, UINT64_MAX - 2};
  for (int i = 0; i < 1000; ++i) values.push_back(rng() | 1);
  for (uint64_t v : values) {
    SCOPED_TRACE(v);
    EXPECT_EQ(v * bignum::neg_inverse(v), UINT64_MAX);  // n * n' == -1 (mod 2^64)
  }
}

TEST(Bignum, BytesRoundTripAndSizes) {
  EXPECT_FALSE(Number::from_be(bytes(Buf())));
  EXPECT_FALSE(Number::from_be(bytes(Buf(7))));
  EXPECT_FALSE(Number::from_be(bytes(Buf(9))));
  EXPECT_FALSE(Number::from_be(bytes(Buf(1024 + 8))));
  std::mt19937_64 rng(2);
  for (size_t size : {size_t{8}, size_t{256}, size_t{1024}}) {
    const Buf b = random_bytes(rng, size);
    auto x = Number::from_be(bytes(b));
    ASSERT_TRUE(x);
    EXPECT_EQ(x->size(), size / 8);
    EXPECT_EQ(be(*x), b);
    Buf wrong(size + 8);
    EXPECT_FALSE(x->to_be(wrong));
    EXPECT_EQ(wrong, Buf(size + 8));  // untouched
  }
  // Limb order: the last 8 bytes are limb 0.
  const Buf b = from_hex(
      "0102030405060708"
      "1112131415161718");
  EXPECT_EQ(num(b)[0], 0x1112131415161718u);
  EXPECT_EQ(num(b)[1], 0x0102030405060708u);
}

TEST(Bignum, Compare) {
  const Buf a = from_hex("00000000000000010000000000000000");
  const Buf b = from_hex("0000000000000000ffffffffffffffff");
  EXPECT_GT(bignum::compare(num(a), num(b)), 0);
  EXPECT_LT(bignum::compare(num(b), num(a)), 0);
  EXPECT_EQ(bignum::compare(num(a), num(a)), 0);
  // Different sizes compare as numbers.
  EXPECT_EQ(bignum::compare(num(from_hex("0000000000000000"
                                         "0000000000000005")),
                            num(from_hex("0000000000000005"))),
            0);
  EXPECT_GT(bignum::compare(num(from_hex("0000000000000001"
                                         "0000000000000000")),
                            num(from_hex("ffffffffffffffff"))),
            0);
}

// x^65537 mod n and R^2 mod n agree with mbedTLS for random moduli of each
// AVB key size, the extreme shapes, and random plus edge bases.
TEST(Bignum, Pow65537MatchesMbedtls) {
  std::mt19937_64 rng(3);
  for (size_t size : kKeySizes) {
    std::vector<Buf> moduli = extreme_moduli(size);
    const int random_count = size == 1024 ? 3 : 6;
    for (int i = 0; i < random_count; ++i) moduli.push_back(random_modulus(rng, size));
    for (const Buf& n : moduli) {
      SCOPED_TRACE("bits " + std::to_string(size * 8) + " n " + to_hex(n).substr(0, 32));
      const Buf rr = oracle_rr(n);
      const Number mn = num(n);
      ASSERT_EQ(be(bignum::r_squared(mn)), rr);
      const bignum::Montgomery mont(mn);
      std::vector<Buf> bases = {Buf(size, 0), plus(Buf(size, 0), 1), plus(Buf(size, 0), 2),
                                minus(n, 1),  minus(n, 2),           rr};
      for (int j = 0; j < 4; ++j) bases.push_back(oracle_mod(random_bytes(rng, size), n));
      for (const Buf& x : bases) {
        SCOPED_TRACE("x " + to_hex(x).substr(0, 32));
        const Buf expected = oracle_pow(x, n);
        Number out;
        mont.pow65537(out, num(x), num(rr));
        EXPECT_EQ(be(out), expected);
        Number in_place = num(x);  // as rsa_verify calls it
        mont.pow65537(in_place, in_place, num(rr));
        EXPECT_EQ(be(in_place), expected);
      }
      // One Montgomery product: mul(mul(a, b), rr) == a * b mod n.
      const Buf a = oracle_mod(random_bytes(rng, size), n);
      const Buf b = minus(n, 1);
      Number ab;
      mont.mul(ab, num(a), num(b));
      mont.mul(ab, ab, num(rr));
      EXPECT_EQ(be(ab), oracle_mulmod(a, b, n));
    }
  }
}

// a^2 mod n.
Buf oracle_sqrmod(const Buf& a, const Buf& n) { return oracle_mulmod(a, a, n); }

// Moduli of every size from 1 to 9 limbs and a few odd larger ones, so that
// the inner loops' 8-, 4- and 1-limb steps all run and meet: random, the
// extreme shapes and one whose top limb is small.
std::vector<Buf> odd_size_moduli(std::mt19937_64& rng) {
  std::vector<Buf> moduli;
  for (size_t limbs : {1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 15, 17, 31, 33}) {
    const size_t size = limbs * 8;
    for (const Buf& n : extreme_moduli(size)) moduli.push_back(n);
    moduli.push_back(random_modulus(rng, size));
    Buf small_top = random_modulus(rng, size);
    small_top[0] = 0;
    small_top[1] = 0x01;
    if (size > 2) moduli.push_back(small_top);
  }
  return moduli;
}

// The dedicated squaring against the multiplication and mbedTLS, for every
// AVB key size: sqr(a) == mul(a, a), and sqr(a) * R^2 / R == a^2 mod n.
TEST(Bignum, SqrMatchesMulAndMbedtls) {
  std::mt19937_64 rng(8);
  for (size_t size : kKeySizes) {
    std::vector<Buf> moduli = extreme_moduli(size);
    moduli.push_back(random_modulus(rng, size));
    for (const Buf& n : moduli) {
      SCOPED_TRACE("bits " + std::to_string(size * 8) + " n " + to_hex(n).substr(0, 32));
      const Number mn = num(n);
      const Number rr = bignum::r_squared(mn);
      const bignum::Montgomery mont(mn);
      std::vector<Buf> values = {Buf(size, 0), plus(Buf(size, 0), 1), minus(n, 1), minus(n, 2),
                                 be(rr)};
      for (int j = 0; j < 4; ++j) values.push_back(oracle_mod(random_bytes(rng, size), n));
      for (const Buf& a : values) {
        SCOPED_TRACE("a " + to_hex(a).substr(0, 32));
        Number sq, prod;
        mont.sqr(sq, num(a));
        mont.mul(prod, num(a), num(a));
        EXPECT_EQ(be(sq), be(prod));
        Number in_place = num(a);
        mont.sqr(in_place, in_place);
        EXPECT_EQ(be(in_place), be(sq));
        mont.mul(sq, sq, rr);
        EXPECT_EQ(be(sq), oracle_sqrmod(a, n));
      }
    }
  }
}

// mul, sqr and pow65537 on moduli that are no key size (see odd_size_moduli).
TEST(Bignum, OddSizesMatchMbedtls) {
  std::mt19937_64 rng(9);
  for (const Buf& n : odd_size_moduli(rng)) {
    const size_t size = n.size();
    SCOPED_TRACE("limbs " + std::to_string(size / 8) + " n " + to_hex(n).substr(0, 32));
    const Buf rr = oracle_rr(n);
    const Number mn = num(n);
    ASSERT_EQ(be(bignum::r_squared(mn)), rr);
    const bignum::Montgomery mont(mn);
    std::vector<Buf> values = {Buf(size, 0), plus(Buf(size, 0), 1), minus(n, 1), rr};
    for (int j = 0; j < 3; ++j) values.push_back(oracle_mod(random_bytes(rng, size), n));
    for (const Buf& a : values) {
      SCOPED_TRACE("a " + to_hex(a).substr(0, 32));
      const Buf b = values[(&a - values.data() + 1) % values.size()];
      Number ab, sq, out;
      mont.mul(ab, num(a), num(b));
      mont.mul(ab, ab, num(rr));
      EXPECT_EQ(be(ab), oracle_mulmod(a, b, n));
      mont.sqr(sq, num(a));
      mont.mul(sq, sq, num(rr));
      EXPECT_EQ(be(sq), oracle_sqrmod(a, n));
      mont.pow65537(out, num(a), num(rr));
      EXPECT_EQ(be(out), oracle_pow(a, n));
    }
  }
}

TEST(Bignum, EdgeBases) {
  // 0 and 1 are fixed points, n - 1 = -1 goes to -1 (odd exponent).
  std::mt19937_64 rng(4);
  for (size_t size : kKeySizes) {
    const Buf n = random_modulus(rng, size);
    const Number mn = num(n);
    const Number rr = bignum::r_squared(mn);
    const bignum::Montgomery mont(mn);
    for (const Buf& x : {Buf(size, 0), plus(Buf(size, 0), 1), minus(n, 1)}) {
      Number out;
      mont.pow65537(out, num(x), rr);
      EXPECT_EQ(be(out), x);
    }
  }
}

// rsa_verify on every key size: s = 0, 1, n - 1 are below n and so computed
// (and do not match); s >= n is refused before any arithmetic.
TEST(Bignum, RsaVerifySignatureRange) {
  std::mt19937_64 rng(5);
  for (size_t size : kKeySizes) {
    SCOPED_TRACE(size * 8);
    const Buf n = random_modulus(rng, size);
    const Buf blob = key_blob(n, oracle_rr(n));
    auto key = avb::parse_public_key(bytes(blob));
    ASSERT_TRUE(key) << key.error().detail;
    const std::string mismatch = "SIGNATURE_MISMATCH (signature does not match)";
    const std::string not_below = "SIGNATURE_MISMATCH (signature not below the modulus)";
    EXPECT_EQ(verify_detail(*key, Buf(size, 0)), mismatch);
    EXPECT_EQ(verify_detail(*key, plus(Buf(size, 0), 1)), mismatch);
    EXPECT_EQ(verify_detail(*key, minus(n, 1)), mismatch);
    EXPECT_EQ(verify_detail(*key, n), not_below);
    EXPECT_EQ(verify_detail(*key, plus(n, 1)), not_below);  // n + 1 < 2^bits: n is random
    EXPECT_EQ(verify_detail(*key, Buf(size, 0xff)), not_below);
    EXPECT_EQ(verify_detail(*key, Buf(size - 1, 0)),
              "SIGNATURE_MISMATCH (signature size does not fit the key)");
  }
}

TEST(Bignum, RrIsCanonical) {
  std::mt19937_64 rng(6);
  for (size_t size : kKeySizes) {
    std::vector<Buf> moduli = extreme_moduli(size);
    moduli.push_back(random_modulus(rng, size));
    for (const Buf& n : moduli) {
      SCOPED_TRACE("bits " + std::to_string(size * 8) + " n " + to_hex(n).substr(0, 32));
      const Buf rr = oracle_rr(n);
      const auto canonical = [&](const Buf& r) {
        const Buf blob = key_blob(n, r);
        auto key = avb::parse_public_key(bytes(blob));
        EXPECT_TRUE(key) << key.error().detail;
        return key && avb::rr_is_canonical(*key);
      };
      EXPECT_TRUE(canonical(rr));
      Buf flipped = rr;
      flipped[size / 2] ^= 0x10;
      if (flipped < n) EXPECT_FALSE(canonical(flipped));
      EXPECT_FALSE(canonical(Buf(size, 0)));
      EXPECT_FALSE(canonical(minus(n, 1)));
      // R mod n = R - n (n > R / 2): a plausible mistake for R^2 mod n.
      Buf r_mod_n = n;
      for (auto& v : r_mod_n) v = static_cast<uint8_t>(~v);
      r_mod_n = plus(r_mod_n, 1);
      Buf r(size + 1, 0);
      r[0] = 1;
      ASSERT_EQ(r_mod_n, oracle_mod(r, n));
      if (r_mod_n != rr) EXPECT_FALSE(canonical(r_mod_n));  // equal for n = R - 1
    }
  }
}

// A real signature verifies only with the key's true rr: any other rr < n
// passes parse_public_key (as at boot) but makes the result wrong.
TEST(Bignum, WrongRrFailsTheSignature) {
  auto k = RsaKey::generate(2048, 7);
  Buf blob = k->avb_public_key();
  const Buf digest = sha(HashAlgorithm::kSha256, {from_string("x")});
  const Buf sig = k->sign(HashAlgorithm::kSha256, digest);
  auto check = [&](const Buf& b) -> std::string {
    auto key = avb::parse_public_key(bytes(b));
    if (!key) return std::string("parse: ") + key.error().detail;
    auto r = avb::rsa_verify(*key, HashAlgorithm::kSha256, bytes(digest), bytes(sig));
    return r ? "OK" : r.error().detail;
  };
  EXPECT_EQ(check(blob), "OK");
  Buf bad = blob;
  bad.back() ^= 1;
  EXPECT_EQ(check(bad), "signature does not match");
  std::fill(bad.end() - 256, bad.end(), 0);
  EXPECT_EQ(check(bad), "signature does not match");
}

}  // namespace
}  // namespace verify::testing

// p256.cc against mbedTLS (host only: its ecp, ecdsa and bignum are the
// oracle): the field and scalar arithmetic (multiplication, squaring,
// inversion) on edge and random values, d·G for thousands of random scalars
// and for edge scalars, RFC 6979 signatures byte for byte
// (mbedtls_ecdsa_sign_det_ext, SHA-256), the comb table against its
// definition, and verification's refusals.
#include <gtest/gtest.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>

#include <array>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "dice/crypto.h"
#include "p256.h"
#include "test_util.h"

namespace dice {
namespace {

using test::hex;
using Scalar = std::array<uint8_t, 32>;

namespace impl = internal::p256;

constexpr char kOrderHex[] = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";
constexpr char kPrimeHex[] = "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff";

// A deterministic byte source, also an mbedTLS f_rng.
struct Rng {
  std::mt19937_64 gen{0x9256};
  void fill(uint8_t* out, size_t n) {
    for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(gen());
  }
  template <size_t N>
  std::array<uint8_t, N> bytes() {
    std::array<uint8_t, N> a{};
    fill(a.data(), N);
    return a;
  }
  static int f_rng(void* self, unsigned char* out, size_t n) {
    static_cast<Rng*>(self)->fill(out, n);
    return 0;
  }
};

struct Mpi {
  Mpi() { mbedtls_mpi_init(&v); }
  explicit Mpi(std::span<const uint8_t> be) : Mpi() {
    EXPECT_EQ(mbedtls_mpi_read_binary(&v, be.data(), be.size()), 0);
  }
  ~Mpi() { mbedtls_mpi_free(&v); }
  Mpi(const Mpi&) = delete;
  Mpi& operator=(const Mpi&) = delete;
  Scalar bytes() const {
    Scalar out{};
    EXPECT_EQ(mbedtls_mpi_write_binary(&v, out.data(), out.size()), 0);
    return out;
  }
  mbedtls_mpi v;
};

// mbedTLS's P-256: the oracle.
class Oracle {
 public:
  Oracle() {
    mbedtls_ecp_group_init(&grp_);
    EXPECT_EQ(mbedtls_ecp_group_load(&grp_, MBEDTLS_ECP_DP_SECP256R1), 0);
  }
  ~Oracle() { mbedtls_ecp_group_free(&grp_); }
  Oracle(const Oracle&) = delete;
  Oracle& operator=(const Oracle&) = delete;

  PublicKey mul_base(const Scalar& k) {
    Mpi m(k);
    mbedtls_ecp_point q;
    mbedtls_ecp_point_init(&q);
    EXPECT_EQ(mbedtls_ecp_mul(&grp_, &q, &m.v, &grp_.G, Rng::f_rng, &rng_), 0);
    PublicKey pub = point_bytes(q);
    mbedtls_ecp_point_free(&q);
    return pub;
  }

  // RFC 6979 with SHA-256 over the digest `h`.
  Signature sign_det(const Scalar& d, const std::array<uint8_t, 32>& h) {
    Mpi md(d), r, s;
    EXPECT_EQ(mbedtls_ecdsa_sign_det_ext(&grp_, &r.v, &s.v, &md.v, h.data(), h.size(),
                                         MBEDTLS_MD_SHA256, Rng::f_rng, &rng_),
              0);
    return join(r.bytes(), s.bytes());
  }

  // A randomized signature (not RFC 6979).
  Signature sign_random(const Scalar& d, const std::array<uint8_t, 32>& h) {
    Mpi md(d), r, s;
    EXPECT_EQ(mbedtls_ecdsa_sign(&grp_, &r.v, &s.v, &md.v, h.data(), h.size(), Rng::f_rng, &rng_),
              0);
    return join(r.bytes(), s.bytes());
  }

  bool verify(const PublicKey& pub, const std::array<uint8_t, 32>& h, const Signature& sig) {
    mbedtls_ecp_point q;
    mbedtls_ecp_point_init(&q);
    Mpi r(std::span(sig).first<32>()), s(std::span(sig).last<32>());
    bool ok = mbedtls_mpi_read_binary(&q.X, pub.data(), 32) == 0 &&
              mbedtls_mpi_read_binary(&q.Y, pub.data() + 32, 32) == 0 &&
              mbedtls_mpi_lset(&q.Z, 1) == 0 && mbedtls_ecp_check_pubkey(&grp_, &q) == 0 &&
              mbedtls_ecdsa_verify(&grp_, h.data(), h.size(), &q, &r.v, &s.v) == 0;
    mbedtls_ecp_point_free(&q);
    return ok;
  }

  Rng& rng() { return rng_; }

 private:
  static PublicKey point_bytes(const mbedtls_ecp_point& q) {
    PublicKey pub{};
    EXPECT_EQ(mbedtls_mpi_write_binary(&q.X, pub.data(), 32), 0);
    EXPECT_EQ(mbedtls_mpi_write_binary(&q.Y, pub.data() + 32, 32), 0);
    return pub;
  }
  static Signature join(const Scalar& r, const Scalar& s) {
    Signature sig{};
    std::memcpy(sig.data(), r.data(), 32);
    std::memcpy(sig.data() + 32, s.data(), 32);
    return sig;
  }

  mbedtls_ecp_group grp_;
  Rng rng_;
};

// a + b (mod 2^256), a - b (mod 2^256), big-endian.
Scalar add(const Scalar& a, const Scalar& b) {
  Scalar r{};
  unsigned carry = 0;
  for (size_t i = 32; i-- > 0;) {
    const unsigned v = a[i] + b[i] + carry;
    r[i] = static_cast<uint8_t>(v);
    carry = v >> 8;
  }
  return r;
}
Scalar sub(const Scalar& a, const Scalar& b) {
  Scalar r{};
  int borrow = 0;
  for (size_t i = 32; i-- > 0;) {
    const int v = a[i] - b[i] - borrow;
    r[i] = static_cast<uint8_t>(v);
    borrow = v < 0 ? 1 : 0;
  }
  return r;
}
Scalar small(uint8_t v) {
  Scalar s{};
  s[31] = v;
  return s;
}
bool less(const Scalar& a, const Scalar& b) { return a < b; }  // big-endian: lexicographic

const Scalar kN = test::array_from_hex<32>(kOrderHex);
const Scalar kP = test::array_from_hex<32>(kPrimeHex);

std::array<uint8_t, 32> digest(std::string_view message) {
  std::array<uint8_t, 32> h{};
  const Bytes parts[] = {test::bytes(message)};
  EXPECT_TRUE(sha256(parts, h));
  return h;
}

// Scalars with long runs of zeros and ones, single bits, limb patterns and
// the ends of the range, all in [1, n-1].
std::vector<Scalar> edge_scalars() {
  std::vector<Scalar> out;
  for (uint8_t v : {1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 255}) out.push_back(small(v));
  for (uint8_t v : {1, 2, 3, 4, 5, 7, 8, 16}) out.push_back(sub(kN, small(v)));
  for (int bit = 0; bit < 256; ++bit) {
    Scalar s{};
    s[31 - bit / 8] = static_cast<uint8_t>(1u << (bit % 8));
    out.push_back(s);                 // 2^bit
    out.push_back(sub(s, small(1)));  // 2^bit - 1: a run of ones
    out.push_back(sub(kN, s));        // n - 2^bit
    Scalar ones{};
    ones.fill(0xff);
    out.push_back(sub(ones, sub(s, small(1))));  // 2^256 - 2^bit: ones then zeros
  }
  for (uint8_t fill : {0x55, 0xaa, 0x0f, 0xf0, 0x80, 0x01, 0x7f}) {
    Scalar s{};
    s.fill(fill);
    out.push_back(s);
  }
  // One 64-bit limb set, the others zero (and the reverse); 16-bit lanes
  // (the comb's tooth spacing) set and clear.
  for (int limb = 0; limb < 4; ++limb) {
    Scalar one_limb{}, three_limbs{};
    three_limbs.fill(0x7f);
    for (int i = 0; i < 8; ++i) {
      one_limb[limb * 8 + i] = 0xff;
      three_limbs[limb * 8 + i] = 0;
    }
    out.push_back(one_limb);
    out.push_back(three_limbs);
  }
  for (int lane = 0; lane < 16; ++lane) {
    Scalar s{};
    for (int limb = 0; limb < 4; ++limb) {
      s[limb * 8 + (lane % 4) * 2] = 0xff;
      s[limb * 8 + (lane % 4) * 2 + 1] = static_cast<uint8_t>(lane < 4 ? 0xff : 1u << (lane % 8));
    }
    out.push_back(s);
  }
  // (n - 1)/2 and (n + 1)/2: k and n - k of the same size.
  Scalar half{};
  unsigned rem = 0;
  for (size_t i = 0; i < 32; ++i) {
    const unsigned v = (rem << 8) | kN[i];
    half[i] = static_cast<uint8_t>(v >> 1);
    rem = v & 1;
  }
  out.push_back(half);
  out.push_back(add(half, small(1)));
  std::vector<Scalar> valid;
  for (const Scalar& s : out) {
    if (s != Scalar{} && less(s, kN)) valid.push_back(s);
  }
  return valid;
}

// a·b mod m and a^-1 mod m (0 for a = 0) by mbedTLS bignum.
Scalar oracle_mul_mod(const Scalar& a, const Scalar& b, const Scalar& m) {
  Mpi ma(a), mb(b), mm(m), r;
  EXPECT_EQ(mbedtls_mpi_mul_mpi(&r.v, &ma.v, &mb.v), 0);
  EXPECT_EQ(mbedtls_mpi_mod_mpi(&r.v, &r.v, &mm.v), 0);
  return r.bytes();
}
Scalar oracle_inv_mod(const Scalar& a, const Scalar& m) {
  if (a == Scalar{}) return a;
  Mpi ma(a), mm(m), r;
  EXPECT_EQ(mbedtls_mpi_inv_mod(&r.v, &ma.v, &mm.v), 0);
  return r.bytes();
}

// Values below m whose limbs make carries run: the ends of the range, single
// bits, runs of ones, limbs all ones or all zeros, R mod m = 2^256 - m.
std::vector<Scalar> edge_elements(const Scalar& m) {
  Scalar ones{};
  ones.fill(0xff);
  std::vector<Scalar> out = {
      small(0),         small(1),         small(2),         small(3),
      sub(m, small(1)), sub(m, small(2)), sub(m, small(3)), add(sub(ones, m), small(1))};
  for (int bit : {31, 32, 63, 64, 95, 96, 127, 128, 191, 192, 223, 224, 255}) {
    Scalar s{};
    s[31 - bit / 8] = static_cast<uint8_t>(1u << (bit % 8));
    out.push_back(s);
    out.push_back(sub(s, small(1)));
    out.push_back(sub(m, s));
  }
  for (int limb = 0; limb < 4; ++limb) {
    Scalar one_limb{}, three_limbs = ones;
    for (int i = 0; i < 8; ++i) {
      one_limb[limb * 8 + i] = 0xff;
      three_limbs[limb * 8 + i] = 0;
    }
    out.push_back(one_limb);
    out.push_back(three_limbs);
  }
  std::vector<Scalar> valid;
  for (const Scalar& v : out) {
    if (less(v, m)) valid.push_back(v);
  }
  return valid;
}

// The Montgomery multiplication, the dedicated squaring and the inversion's
// addition chain mod p, and the multiplication mod n, against mbedTLS: every
// pair of edge values and random ones.
TEST(P256, FieldAndScalarArithmeticMatchMbedtls) {
  Rng rng;
  for (const Scalar* m : {&kP, &kN}) {
    const bool field = m == &kP;
    SCOPED_TRACE(field ? "mod p" : "mod n");
    std::vector<Scalar> values = edge_elements(*m);
    EXPECT_GT(values.size(), 40u);
    const size_t edges = values.size();
    while (values.size() < edges + 300) {
      Scalar v = rng.bytes<32>();
      if (less(v, *m)) values.push_back(v);
    }
    const auto mul = [&](const Scalar& a, const Scalar& b) {
      Scalar out{};
      if (field) {
        impl::field_mul(a, b, out);
      } else {
        impl::scalar_mul(a, b, out);
      }
      return out;
    };
    for (size_t i = 0; i < values.size(); ++i) {
      const Scalar& a = values[i];
      // Each value against every edge value, and the random ones in pairs.
      for (size_t j = 0; j < values.size(); ++j) {
        if (j >= edges && j != i + 1) continue;
        const Scalar& b = values[j];
        ASSERT_EQ(hex(mul(a, b)), hex(oracle_mul_mod(a, b, *m))) << hex(a) << " " << hex(b);
      }
      if (!field) continue;
      Scalar sq{}, inv{};
      impl::field_sqr(a, sq);
      ASSERT_EQ(hex(sq), hex(oracle_mul_mod(a, a, *m))) << hex(a);
      ASSERT_EQ(hex(sq), hex(mul(a, a))) << hex(a);
      impl::field_inv(a, inv);
      ASSERT_EQ(hex(inv), hex(oracle_inv_mod(a, *m))) << hex(a);
    }
  }
}

TEST(P256, PublicKeyMatchesMbedtlsForRandomScalars) {
  Oracle oracle;
  Rng rng;
  int compared = 0;
  for (int i = 0; i < 3000; ++i) {
    Scalar d = rng.bytes<32>();
    if (i % 4 == 1) d[0] &= 0x0f;  // shorter scalars too
    if (i % 4 == 2) d[0] = 0;
    if (d == Scalar{} || !less(d, kN)) continue;
    PublicKey pub{};
    ASSERT_TRUE(p256::public_key(d, pub).has_value()) << hex(d);
    ASSERT_EQ(hex(pub), hex(oracle.mul_base(d))) << hex(d);
    ++compared;
  }
  EXPECT_GT(compared, 2900);
}

TEST(P256, PublicKeyMatchesMbedtlsForEdgeScalars) {
  Oracle oracle;
  const std::vector<Scalar> scalars = edge_scalars();
  EXPECT_GT(scalars.size(), 800u);
  for (const Scalar& d : scalars) {
    PublicKey pub{};
    ASSERT_TRUE(p256::public_key(d, pub).has_value()) << hex(d);
    ASSERT_EQ(hex(pub), hex(oracle.mul_base(d))) << hex(d);
  }
}

TEST(P256, GeneratorMultiples) {
  // 1·G is SEC 2's G; (n - 1)·G is -G.
  PublicKey g{}, minus_g{};
  ASSERT_TRUE(p256::public_key(small(1), g).has_value());
  EXPECT_EQ(hex(g),
            "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
            "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5");
  ASSERT_TRUE(p256::public_key(sub(kN, small(1)), minus_g).has_value());
  EXPECT_EQ(std::memcmp(g.data(), minus_g.data(), 32), 0);
  Scalar y{}, minus_y{};
  std::memcpy(y.data(), g.data() + 32, 32);
  std::memcpy(minus_y.data(), minus_g.data() + 32, 32);
  EXPECT_EQ(add(y, minus_y), kP);  // y + (p - y)
}

TEST(P256, OutOfRangeScalarsRefused) {
  Rng rng;
  std::vector<Scalar> bad = {Scalar{}, kN, add(kN, small(1)), add(kN, small(2))};
  Scalar ones{};
  ones.fill(0xff);
  bad.push_back(ones);
  bad.push_back(kP);
  for (int i = 0; i < 16; ++i) {
    Scalar s = rng.bytes<32>();
    for (size_t j = 0; j < 5; ++j) s[j] = 0xff;  // above n's ffffffff00 start
    bad.push_back(s);
  }
  const Bytes message[] = {test::bytes(std::string_view("m"))};
  for (const Scalar& s : bad) {
    PublicKey pub{};
    pub.fill(0x5a);
    EXPECT_FALSE(p256::public_key(s, pub).has_value()) << hex(s);
    for (uint8_t b : pub) ASSERT_EQ(b, 0x5a) << "output written for a refused scalar";
    Signature sig{};
    EXPECT_FALSE(p256::sign(s, message, sig).has_value()) << hex(s);
    EXPECT_FALSE(impl::scalar_in_range(s));
  }
  EXPECT_TRUE(impl::scalar_in_range(small(1)));
  EXPECT_TRUE(impl::scalar_in_range(sub(kN, small(1))));
}

TEST(P256, ScalarReduce) {
  struct Case {
    Scalar in, out;
  };
  Scalar ones{};
  ones.fill(0xff);
  const Case cases[] = {
      {Scalar{}, Scalar{}}, {small(1), small(1)},          {sub(kN, small(1)), sub(kN, small(1))},
      {kN, Scalar{}},       {add(kN, small(5)), small(5)}, {ones, sub(ones, kN)},
  };
  for (const Case& c : cases) {
    Scalar out{};
    impl::scalar_reduce(c.in, out);
    EXPECT_EQ(hex(out), hex(c.out)) << hex(c.in);
  }
}

TEST(P256, CombTableMatchesDefinition) {
  // Entry i of table w: sum_{u<3} (2 b_u - 1) 2^(64w + 16u) G + 2^(64w + 48) G.
  Oracle oracle;
  Mpi n(kN);
  for (unsigned w = 0; w < 4; ++w) {
    for (unsigned i = 0; i < 8; ++i) {
      Mpi k, term;
      ASSERT_EQ(mbedtls_mpi_lset(&k.v, 0), 0);
      for (unsigned u = 0; u < 4; ++u) {
        ASSERT_EQ(mbedtls_mpi_lset(&term.v, 1), 0);
        ASSERT_EQ(mbedtls_mpi_shift_l(&term.v, 64 * w + 16 * u), 0);
        const bool plus = u == 3 || ((i >> u) & 1) != 0;
        ASSERT_EQ(plus ? mbedtls_mpi_add_mpi(&k.v, &k.v, &term.v)
                       : mbedtls_mpi_sub_mpi(&k.v, &k.v, &term.v),
                  0);
      }
      ASSERT_EQ(mbedtls_mpi_mod_mpi(&k.v, &k.v, &n.v), 0);
      PublicKey entry{};
      impl::base_table_entry(w, i, entry);
      EXPECT_EQ(hex(entry), hex(oracle.mul_base(k.bytes()))) << w << " " << i;
    }
  }
}

TEST(P256, SignaturesMatchMbedtlsRfc6979) {
  Oracle oracle;
  Rng rng;
  std::vector<Scalar> keys = {small(1), small(2), sub(kN, small(1)), sub(kN, small(2))};
  for (int i = 0; i < 400; ++i) keys.push_back(rng.bytes<32>());
  int compared = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    const Scalar& d = keys[i];
    if (d == Scalar{} || !less(d, kN)) continue;
    const std::string message = "message " + std::to_string(i);
    const Bytes parts[] = {test::bytes(message)};
    const auto h = digest(message);
    Signature sig{};
    ASSERT_TRUE(p256::sign(d, parts, sig).has_value());
    ASSERT_EQ(hex(sig), hex(oracle.sign_det(d, h))) << hex(d) << " " << message;
    PublicKey pub{};
    ASSERT_TRUE(p256::public_key(d, pub).has_value());
    EXPECT_TRUE(p256::verify(pub, parts, sig));
    EXPECT_TRUE(oracle.verify(pub, h, sig));
    ++compared;
  }
  EXPECT_GT(compared, 400);
}

TEST(P256, DigestsAtOrAboveTheOrder) {
  // bits2int(h) >= n is reduced before signing (e) and seeding (RFC 6979
  // bits2octets). p256.h's core takes the digest directly: check both
  // reductions with digests that no message is known to hash to.
  Oracle oracle;
  Rng rng;
  Scalar ones{};
  ones.fill(0xff);
  const Scalar digests[] = {kN, add(kN, small(1)), ones, sub(kN, small(1)), Scalar{}};
  const Scalar d = rng.bytes<32>();
  ASSERT_TRUE(less(d, kN));
  PublicKey pub{};
  ASSERT_TRUE(p256::public_key(d, pub).has_value());
  for (const Scalar& h : digests) {
    Scalar k = rng.bytes<32>();
    k[0] &= 0x7f;
    Signature sig{};
    ASSERT_TRUE(impl::ecdsa_sign(d, k, h, sig)) << hex(h);
    EXPECT_TRUE(oracle.verify(pub, h, sig)) << hex(h);
    EXPECT_TRUE(impl::ecdsa_verify(pub, h, sig)) << hex(h);
  }
}

TEST(P256, VerifiesMbedtlsSignatures) {
  Oracle oracle;
  Rng rng;
  for (int i = 0; i < 200; ++i) {
    const Scalar d = rng.bytes<32>();
    if (!less(d, kN) || d == Scalar{}) continue;
    PublicKey pub{};
    ASSERT_TRUE(p256::public_key(d, pub).has_value());
    const std::string message = "randomized " + std::to_string(i);
    const Bytes parts[] = {test::bytes(message)};
    const Signature sig = oracle.sign_random(d, digest(message));
    EXPECT_TRUE(p256::verify(pub, parts, sig)) << i;
    // (r, n - s) is the same signature's other valid form.
    Signature other = sig;
    Scalar s{};
    std::memcpy(s.data(), sig.data() + 32, 32);
    const Scalar ns = sub(kN, s);
    std::memcpy(other.data() + 32, ns.data(), 32);
    EXPECT_TRUE(p256::verify(pub, parts, other)) << i;
  }
}

TEST(P256, VerifyRefusesAlteredSignaturesAndKeys) {
  Rng rng;
  Oracle oracle;
  const Scalar d = rng.bytes<32>();
  ASSERT_TRUE(less(d, kN));
  PublicKey pub{};
  ASSERT_TRUE(p256::public_key(d, pub).has_value());
  const std::string message = "refusals";
  const Bytes parts[] = {test::bytes(message)};
  Signature sig{};
  ASSERT_TRUE(p256::sign(d, parts, sig).has_value());
  ASSERT_TRUE(p256::verify(pub, parts, sig));

  // Every single-bit change of r || s.
  for (size_t bit = 0; bit < 512; ++bit) {
    Signature bad = sig;
    bad[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_FALSE(p256::verify(pub, parts, bad)) << bit;
  }
  // r or s zero, n, n + small, all ones.
  Scalar ones{};
  ones.fill(0xff);
  for (const Scalar& v : {Scalar{}, kN, add(kN, small(1)), ones}) {
    for (size_t half : {0u, 32u}) {
      Signature bad = sig;
      std::memcpy(bad.data() + half, v.data(), 32);
      EXPECT_FALSE(p256::verify(pub, parts, bad)) << half << " " << hex(v);
    }
  }
  // r + n (when it fits in 32 bytes) names the same x mod n but is not < n.
  Scalar r{};
  std::memcpy(r.data(), sig.data(), 32);
  if (less(r, sub(ones, kN))) {
    Signature bad = sig;
    const Scalar rn = add(r, kN);
    std::memcpy(bad.data(), rn.data(), 32);
    EXPECT_FALSE(p256::verify(pub, parts, bad));
  }
  // Another message, another key.
  const Bytes other[] = {test::bytes(std::string_view("refusalt"))};
  EXPECT_FALSE(p256::verify(pub, other, sig));
  PublicKey other_pub{};
  ASSERT_TRUE(p256::public_key(sub(kN, d), other_pub).has_value());  // -Q: same x
  EXPECT_FALSE(p256::verify(other_pub, parts, sig));
  // Points off the curve: every bit of y, a few of x.
  for (size_t bit = 0; bit < 256; ++bit) {
    PublicKey bad = pub;
    bad[32 + bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_FALSE(p256::verify(bad, parts, sig)) << bit;
  }
  for (size_t bit : {0u, 1u, 100u, 255u}) {
    PublicKey bad = pub;
    bad[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_FALSE(p256::verify(bad, parts, sig)) << bit;
  }
  // Coordinates >= p naming the same residue, and the all-zero encoding.
  Scalar x{}, y{};
  std::memcpy(x.data(), pub.data(), 32);
  std::memcpy(y.data(), pub.data() + 32, 32);
  const Scalar p_minus = sub(ones, kP);  // 2^256 - 1 - p
  if (less(x, p_minus)) {
    PublicKey bad = pub;
    const Scalar xp = add(x, kP);
    std::memcpy(bad.data(), xp.data(), 32);
    EXPECT_FALSE(p256::verify(bad, parts, sig));
  }
  if (less(y, p_minus)) {
    PublicKey bad = pub;
    const Scalar yp = add(y, kP);
    std::memcpy(bad.data() + 32, yp.data(), 32);
    EXPECT_FALSE(p256::verify(bad, parts, sig));
  }
  EXPECT_FALSE(p256::verify(PublicKey{}, parts, sig));
}

TEST(P256, VerifySumOfEqualAndOppositePoints) {
  // With Q = G (d = 1) and h = r, u1 = e/s and u2 = r/s are equal: the final
  // addition u1·G + u2·Q adds a point to itself. With h = n - r they are
  // opposite: the sum is the point at infinity, which must be refused.
  Oracle oracle;
  Rng rng;
  PublicKey g{};
  ASSERT_TRUE(p256::public_key(small(1), g).has_value());
  for (int i = 0; i < 8; ++i) {
    Scalar k = rng.bytes<32>();
    k[0] &= 0x7f;
    PublicKey big_r{};
    ASSERT_TRUE(impl::base_mul(k, big_r));
    Scalar r{};
    impl::scalar_reduce(std::span(big_r).first<32>(), r);
    Signature sig{};
    ASSERT_TRUE(impl::ecdsa_sign(small(1), k, r, sig));
    EXPECT_TRUE(oracle.verify(g, r, sig));
    EXPECT_TRUE(impl::ecdsa_verify(g, r, sig));
    const Scalar minus_r = sub(kN, r);
    EXPECT_FALSE(oracle.verify(g, minus_r, sig));
    EXPECT_FALSE(impl::ecdsa_verify(g, minus_r, sig));
  }
}

TEST(P256, VerifyRefusesCoordinateAboveP) {
  // (0, y) is on the curve (x^3 - 3x + b is a square for x = 0), so (p, y)
  // names the same point with an x >= p, which must be refused. A valid
  // signature for (0, y) without its private key: R = u1·G + u2·Q,
  // r = x(R) mod n, s = r/u2, h = u1·s (the digest given to the core).
  const PublicKey pub = test::array_from_hex<64>(
      "0000000000000000000000000000000000000000000000000000000000000000"
      "66485c780e2f83d72433bd5d84a06bb6541c2af31dae871728bf856a174f93f4");
  Oracle oracle;
  mbedtls_ecp_group grp;
  mbedtls_ecp_group_init(&grp);
  ASSERT_EQ(mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1), 0);
  mbedtls_ecp_point q, big_r;
  mbedtls_ecp_point_init(&q);
  mbedtls_ecp_point_init(&big_r);
  ASSERT_EQ(mbedtls_mpi_lset(&q.X, 0), 0);
  ASSERT_EQ(mbedtls_mpi_read_binary(&q.Y, pub.data() + 32, 32), 0);
  ASSERT_EQ(mbedtls_mpi_lset(&q.Z, 1), 0);
  ASSERT_EQ(mbedtls_ecp_check_pubkey(&grp, &q), 0);
  Mpi u1(test::array_from_hex<32>("1234")), u2(test::array_from_hex<32>("5678")), r, s, h, t;
  ASSERT_EQ(mbedtls_ecp_muladd(&grp, &big_r, &u1.v, &grp.G, &u2.v, &q), 0);
  ASSERT_EQ(mbedtls_mpi_mod_mpi(&r.v, &big_r.X, &grp.N), 0);
  ASSERT_EQ(mbedtls_mpi_inv_mod(&t.v, &u2.v, &grp.N), 0);
  ASSERT_EQ(mbedtls_mpi_mul_mpi(&s.v, &r.v, &t.v), 0);
  ASSERT_EQ(mbedtls_mpi_mod_mpi(&s.v, &s.v, &grp.N), 0);
  ASSERT_EQ(mbedtls_mpi_mul_mpi(&h.v, &u1.v, &s.v), 0);
  ASSERT_EQ(mbedtls_mpi_mod_mpi(&h.v, &h.v, &grp.N), 0);
  mbedtls_ecp_point_free(&q);
  mbedtls_ecp_point_free(&big_r);
  mbedtls_ecp_group_free(&grp);

  Signature sig{};
  const Scalar rb = r.bytes(), sb = s.bytes(), hb = h.bytes();
  std::memcpy(sig.data(), rb.data(), 32);
  std::memcpy(sig.data() + 32, sb.data(), 32);
  ASSERT_TRUE(oracle.verify(pub, hb, sig));
  EXPECT_TRUE(impl::ecdsa_verify(pub, hb, sig));
  PublicKey above = pub;
  std::memcpy(above.data(), kP.data(), 32);
  EXPECT_FALSE(oracle.verify(above, hb, sig));
  EXPECT_FALSE(impl::ecdsa_verify(above, hb, sig));
  Signature bad = sig;
  bad[63] ^= 1;
  EXPECT_FALSE(impl::ecdsa_verify(pub, hb, bad));
}

}  // namespace
}  // namespace dice

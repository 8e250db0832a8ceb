// P-256 through crypto.h (mbedTLS underneath), against published known
// answers: RFC 6979 A.2.5 deterministic signatures, RFC 4754 §8.1 (a
// signature with a given nonce, verified), RFC 5114 §A.6 key pairs, SEC 2's
// generator, open-dice's keys from CDIs; and the refusals the wrappers
// promise (out-of-range scalars; signatures, keys and coordinates that must
// not verify). Digest-level cases whose data has no known message were
// computed with affine arithmetic on Python integers (noted at each).
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "dice/crypto.h"
#include "dice/dice.h"
#include "internal.h"
#include "test_util.h"

namespace dice {
namespace {

using test::bytes;
using test::hex;
using Scalar = std::array<uint8_t, 32>;

std::optional<Error> failure(const std::expected<void, Error>& r) {
  if (r) return std::nullopt;
  return r.error();
}

constexpr char kOrderHex[] = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";
constexpr char kPrimeHex[] = "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff";
const Scalar kN = test::array_from_hex<32>(kOrderHex);
const Scalar kP = test::array_from_hex<32>(kPrimeHex);

// a + b and a - b mod 2^256, big-endian.
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

Signature join(std::string_view r, std::string_view s) {
  return test::array_from_hex<64>(std::string(r) + std::string(s));
}

// RFC 6979 A.2.5: P-256, SHA-256.
constexpr char kRfc6979Private[] =
    "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721";
constexpr char kRfc6979Public[] =
    "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6"
    "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299";

TEST(P256, Rfc6979) {
  const auto priv = test::array_from_hex<32>(kRfc6979Private);
  PublicKey pub{};
  ASSERT_TRUE(p256::public_key(priv, pub).has_value());
  EXPECT_EQ(hex(pub), kRfc6979Public);
  struct Case {
    std::string message;
    const char* signature;
  };
  const Case cases[] = {
      {"sample",
       "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716"
       "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8"},
      {"test",
       "f1abb023518351cd71d881567b1ea663ed3efcf6c5132b354f28d3b0b7d38367"
       "019f4113742a2b14bd25926b49c649155f267e60d3814b4c0cc84250e46f0083"},
  };
  for (const Case& c : cases) {
    // The message in two parts hashes as one.
    const Bytes message[] = {bytes(c.message).first(2), bytes(c.message).subspan(2)};
    Signature sig{};
    ASSERT_TRUE(p256::sign(priv, message, sig).has_value());
    EXPECT_EQ(hex(sig), c.signature) << c.message;
    EXPECT_TRUE(p256::verify(pub, message, sig).has_value());
  }
}

// RFC 4754 §8.1 (ECDSA-256): w, g^w and a signature of "abc" made with the
// ephemeral k = 9e56f509...: another signer's nonce, so verification is
// checked on a signature this library did not make.
TEST(P256, Rfc4754) {
  const auto w =
      test::array_from_hex<32>("dc51d3866a15bacde33d96f992fca99da7e6ef0934e7097559c27f1614c88a7f");
  const PublicKey gw = test::array_from_hex<64>(
      "2442a5cc0ecd015fa3ca31dc8e2bbc70bf42d60cbca20085e0822cb04235e970"
      "6fc98bd7e50211a4a27102fa3549df79ebcb4bf246b80945cddfe7d509bbfd7d");
  const Signature sig = join("cb28e0999b9c7715fd0a80d8e47a77079716cbbf917dd72e97566ea1c066957c",
                             "86fa3bb4e26cad5bf90b7f81899256ce7594bb1ea0c89212748bff3b3d5b0315");
  PublicKey pub{};
  ASSERT_TRUE(p256::public_key(w, pub).has_value());
  EXPECT_EQ(hex(pub), hex(gw));
  const Bytes abc[] = {bytes(std::string_view("abc"))};
  EXPECT_TRUE(p256::verify(gw, abc, sig).has_value());
  // (r, n - s) is the same signature's other valid form.
  Scalar s{};
  std::memcpy(s.data(), sig.data() + 32, 32);
  Signature other = sig;
  const Scalar ns = sub(kN, s);
  std::memcpy(other.data() + 32, ns.data(), 32);
  EXPECT_TRUE(p256::verify(gw, abc, other).has_value());
  const Bytes abd[] = {bytes(std::string_view("abd"))};
  EXPECT_EQ(failure(p256::verify(gw, abd, sig)), Error::kBadSignature);
}

TEST(P256, PublicKeyKnownAnswers) {
  struct Case {
    const char* what;
    Scalar d;
    const char* pub;
  };
  const Case cases[] = {
      // SEC 2 §2.4.2: G; 2G; (n - 1)·G = -G = (Gx, p - Gy).
      {"1", small(1),
       "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
       "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5"},
      {"2", small(2),
       "7cf27b188d034f7e8a52380304b51ac3c08969e277f21b35a60b48fc47669978"
       "07775510db8ed040293d9ac69f7430dbba7dade63ce982299e04b79d227873d1"},
      {"n - 1", sub(kN, small(1)),
       "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
       "b01cbd1c01e58065711814b583f061e9d431cca994cea1313449bf97c840ae0a"},
      // RFC 5114 §A.6 (256-bit Random ECP Group): dA and dB.
      {"RFC 5114 dA",
       test::array_from_hex<32>("814264145f2f56f2e96a8e337a1284993faf432a5abce59e867b7291d507a3af"),
       "2af502f3be8952f2c9b5a8d4160d09e97165be50bc42ae4a5e8d3b4ba83aeb15"
       "eb0faf4ca986c4d38681a0f9872d79d56795bd4bff6e6de3c0f5015ece5efd85"},
      {"RFC 5114 dB",
       test::array_from_hex<32>("2ce1788ec197e096db95a200cc0ab26a19ce6bccad562b8eee1b593761cf7f41"),
       "b120de4aa36492795346e8de6c2c8646ae06aaea279fa775b3ab0715f6ce51b0"
       "9f1b7eece20d7b5ed8ec685fa3f071d83727027092a8411385c34dde5708b2b6"},
  };
  for (const Case& c : cases) {
    PublicKey pub{};
    ASSERT_TRUE(p256::public_key(c.d, pub).has_value()) << c.what;
    EXPECT_EQ(hex(pub), c.pub) << c.what;
  }
}

TEST(P256, OutOfRangeScalarsRefused) {
  Scalar ones{};
  ones.fill(0xff);
  Scalar high = small(0x5a);
  for (size_t j = 0; j < 5; ++j) high[j] = 0xff;  // above n's ffffffff00 start
  const Scalar bad[] = {Scalar{}, kN, add(kN, small(1)), add(kN, small(2)), ones, kP, high};
  const Bytes message[] = {bytes(std::string_view("m"))};
  for (const Scalar& s : bad) {
    PublicKey pub{};
    pub.fill(0x5a);
    EXPECT_EQ(failure(p256::public_key(s, pub)), Error::kCryptoFailure) << hex(s);
    for (uint8_t b : pub) ASSERT_EQ(b, 0x5a) << "output written for a refused scalar";
    Signature sig{};
    EXPECT_EQ(failure(p256::sign(s, message, sig)), Error::kCryptoFailure) << hex(s);
  }
  // The ends of the range are fine.
  for (const Scalar& s : {small(1), sub(kN, small(1))}) {
    Signature sig{};
    EXPECT_TRUE(p256::sign(s, message, sig).has_value()) << hex(s);
  }
}

TEST(P256, VerifyRefuses) {
  const auto priv = test::array_from_hex<32>(kRfc6979Private);
  const auto pub = test::array_from_hex<64>(kRfc6979Public);
  const Bytes message[] = {bytes(std::string_view("sample"))};
  Signature sig{};
  ASSERT_TRUE(p256::sign(priv, message, sig).has_value());
  ASSERT_TRUE(p256::verify(pub, message, sig).has_value());
  const auto refused = [&](const PublicKey& key, std::span<const Bytes> m, const Signature& s) {
    return failure(p256::verify(key, m, s)) == Error::kBadSignature;
  };

  const Bytes other[] = {bytes(std::string_view("samplf"))};
  EXPECT_TRUE(refused(pub, other, sig));
  // Every single-bit change of r || s.
  for (size_t bit = 0; bit < 512; ++bit) {
    Signature bad = sig;
    bad[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_TRUE(refused(pub, message, bad)) << bit;
  }
  // r or s zero, n, n + 1, all ones.
  Scalar ones{};
  ones.fill(0xff);
  for (const Scalar& v : {Scalar{}, kN, add(kN, small(1)), ones}) {
    for (size_t half : {0u, 32u}) {
      Signature bad = sig;
      std::memcpy(bad.data() + half, v.data(), 32);
      EXPECT_TRUE(refused(pub, message, bad)) << half << " " << hex(v);
    }
  }
  // r + n names the same x mod n but is not below n.
  Scalar r{};
  std::memcpy(r.data(), sig.data(), 32);
  if (r < sub(ones, kN)) {
    Signature bad = sig;
    const Scalar rn = add(r, kN);
    std::memcpy(bad.data(), rn.data(), 32);
    EXPECT_TRUE(refused(pub, message, bad));
  }
  // -Q has the same x.
  PublicKey minus_q{};
  ASSERT_TRUE(p256::public_key(sub(kN, priv), minus_q).has_value());
  EXPECT_TRUE(refused(minus_q, message, sig));
  // Points off the curve: every bit of y, a few of x; the all-zero encoding.
  for (size_t bit = 0; bit < 256; ++bit) {
    PublicKey bad = pub;
    bad[32 + bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_TRUE(refused(bad, message, sig)) << bit;
  }
  for (size_t bit : {0u, 1u, 100u, 255u}) {
    PublicKey bad = pub;
    bad[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_TRUE(refused(bad, message, sig)) << bit;
  }
  EXPECT_TRUE(refused(PublicKey{}, message, sig));
  // y + p names the same residue (when it fits in 32 bytes).
  Scalar y{};
  std::memcpy(y.data(), pub.data() + 32, 32);
  if (y < sub(ones, kP)) {
    PublicKey bad = pub;
    const Scalar yp = add(y, kP);
    std::memcpy(bad.data() + 32, yp.data(), 32);
    EXPECT_TRUE(refused(bad, message, sig));
  }
}

TEST(P256, VerifyRefusesCoordinateAboveP) {
  // (0, y) is on the curve (b is a square), so (p, y) names the same point
  // with x >= p, which must be refused. A signature for (0, y) without its
  // private key: u1 = 0x1234, u2 = 0x5678, R = u1·G + u2·Q, r = x(R) mod n,
  // s = r/u2, digest = u1·s (Python integers).
  const PublicKey pub = test::array_from_hex<64>(
      "0000000000000000000000000000000000000000000000000000000000000000"
      "66485c780e2f83d72433bd5d84a06bb6541c2af31dae871728bf856a174f93f4");
  const Scalar digest =
      test::array_from_hex<32>("7b26d956eb2f9bce4a6449b0ead2ff577f51884f6485254e3c55a5cce05604c6");
  const Signature sig = join("91f3a6d9b54cf22afc4b941ae88a416f4c3d0a5dd129f2a6794fa330cafa6f9e",
                             "c8fb1e7a582ace199aef36128d20048f07bb3596d56c8dbf3c094a8b1859b63c");
  EXPECT_TRUE(internal::p256_verify_digest(pub, digest, sig).has_value());
  PublicKey above = pub;
  std::memcpy(above.data(), kP.data(), 32);
  EXPECT_EQ(failure(internal::p256_verify_digest(above, digest, sig)), Error::kBadSignature);
  Signature bad = sig;
  bad[63] ^= 1;
  EXPECT_EQ(failure(internal::p256_verify_digest(pub, digest, bad)), Error::kBadSignature);
}

TEST(P256, VerifySumOfEqualAndOppositePoints) {
  // With Q = G and digest = r, u1 = e/s and u2 = r/s are equal: the final
  // addition u1·G + u2·Q adds a point to itself. With digest = n - r they
  // are opposite and the sum is the point at infinity, which must be
  // refused. u = 0x1234567, r = x(2u·G) mod n, s = r/u (Python integers).
  PublicKey g{};
  ASSERT_TRUE(p256::public_key(small(1), g).has_value());
  const Scalar r =
      test::array_from_hex<32>("b0cdeeae5933a06851b5212af4b54cae6e3b786e9848c7ffa5e8775e139b10c6");
  const Signature sig = join("b0cdeeae5933a06851b5212af4b54cae6e3b786e9848c7ffa5e8775e139b10c6",
                             "95c104c29779035594539303ebb2a39b538792bf28774934ff0e25881c9220d1");
  EXPECT_TRUE(internal::p256_verify_digest(g, r, sig).has_value());
  const Scalar minus_r = sub(kN, r);
  EXPECT_EQ(hex(minus_r), "4f321150a6cc5f98ae4aded50b4ab3514eab823f0eced6854dd15364e8c8148b");
  EXPECT_EQ(failure(internal::p256_verify_digest(g, minus_r, sig)), Error::kBadSignature);
}

TEST(P256, DigestAboveTheOrder) {
  // bits2int(h) >= n is reduced mod n (FIPS 186-5 §6.4.2 step 3). A
  // signature by RFC 6979's key of the digest 2^256 - 1 with
  // k = 0123456789abcdef x4: s = k^-1 (h - n + r·d) (Python integers).
  const auto pub = test::array_from_hex<64>(kRfc6979Public);
  Scalar digest{};
  digest.fill(0xff);
  const Signature sig = join("d8cd12ea5c67f2f8a00c1124893edcfa6754c4d6cede6be13bdf2295c810a97f",
                             "4e15af04199c7f038f901004c140e8266ba9963c07e92dd5eb0fc9d2e06d3de8");
  EXPECT_TRUE(internal::p256_verify_digest(pub, digest, sig).has_value());
  digest[31] ^= 1;
  EXPECT_EQ(failure(internal::p256_verify_digest(pub, digest, sig)), Error::kBadSignature);
}

// open-dice's P-256 keys: the issuer and subject keys of its CBOR P-256
// certificate known answer for the all-zero input (include/dice/
// known_test_values.h kExpectedCborP256Cert_ZeroInput), i.e. the keys of
// CDI_Attest = 0 and of the next CDI_Attest fbfc67...0c19. The subject key
// also appears in its X.509 P-256 known answer (mbedTLS ops), so both of
// open-dice's implementations agree with this one.
TEST(P256, OpenDiceKeyFromCdi) {
  struct Case {
    const char* cdi;
    const char* pub;
    const char* id;
  };
  const Case cases[] = {
      {"0000000000000000000000000000000000000000000000000000000000000000",
       "1f4aaefc29ca4104447448d13a553513c23abca2b6ac3ff063f6888a696de539"
       "06f5d8bd698d1688a3250c4683c3ed4e28e2d602412b353beb04543fefbb3df1",
       "672d0053ae4513fbb3bac8209daeb3e8897681cd"},
      {"fbfc679771342eeacb908659ce49d6b63b4535da2c51433d7f04efa6319e0c19",
       "4f3b4e82c45ada084589c2197baf1f376eac40e1fd49b0240602aec269541c6b"
       "e7eb4019ab55c66bc88bb8b469ad7ee8589e07d2f8bc888eb311c2df973b1b4a",
       "2e75b6e7230c20f2960bde4acf1288d4ab665b9b"},
  };
  for (const Case& c : cases) {
    const auto cdi = test::array_from_hex<32>(c.cdi);
    Secret<32> priv;
    PublicKey pub{};
    ASSERT_TRUE(derive_key_pair(cdi, priv.span(), pub).has_value());
    EXPECT_EQ(hex(pub), c.pub);
    auto id = derive_cert_id(pub);
    ASSERT_TRUE(id.has_value());
    EXPECT_EQ(hex(*id), c.id);
    const IdHex text = id_hex(*id);
    EXPECT_EQ(std::string(text.data(), text.size()), c.id);

    // The private key alone, and its public key computed apart (another
    // blinding stream), are the same key.
    Secret<32> seed, priv_only;
    ASSERT_TRUE(derive_private_key_seed(cdi, seed.span()).has_value());
    ASSERT_TRUE(p256::private_key_from_seed(seed.span(), priv_only.span()).has_value());
    EXPECT_EQ(hex(priv_only.span()), hex(priv.span()));
    PublicKey again{};
    ASSERT_TRUE(p256::public_key(priv.span(), again).has_value());
    EXPECT_EQ(hex(again), c.pub);
  }
}

}  // namespace
}  // namespace dice

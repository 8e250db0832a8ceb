// Known answers for the primitives: SHA-512 (FIPS 180-4), HMAC (RFC 4231),
// HKDF (RFC 5869), P-256 ECDSA with RFC 6979 nonces (RFC 6979 A.2.5), and
// open-dice's seed-to-key derivation.
#include <gtest/gtest.h>

#include <string>

#include "dice/crypto.h"
#include "dice/dice.h"
#include "test_util.h"

namespace dice {
namespace {

using test::bytes;
using test::hex;
using test::unhex;

TEST(Crypto, Sha512) {
  Hash h{};
  ASSERT_TRUE(sha512(bytes(std::string_view("abc")), h));
  EXPECT_EQ(hex(h),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
            "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
  // Parts hash as their concatenation.
  const Bytes parts[] = {bytes(std::string_view("a")), bytes(std::string_view("")),
                         bytes(std::string_view("bc"))};
  Hash h2{};
  ASSERT_TRUE(sha512(parts, h2));
  EXPECT_EQ(h, h2);
}

TEST(Crypto, HmacRfc4231) {
  struct Case {
    std::vector<uint8_t> key;
    std::string data;
    const char* sha256;
    const char* sha512;
  };
  const Case cases[] = {
      {std::vector<uint8_t>(20, 0x0b), "Hi There",
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
       "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
       "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854"},
      {{'J', 'e', 'f', 'e'},
       "what do ya want for nothing?",
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
       "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
       "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"},
      {std::vector<uint8_t>(131, 0xaa), "Test Using Larger Than Block-Size Key - Hash Key First",
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
       "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
       "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598"},
  };
  for (const Case& c : cases) {
    const Bytes parts[] = {bytes(c.data)};
    std::array<uint8_t, 32> h256{};
    std::array<uint8_t, 64> h512{};
    ASSERT_TRUE(hmac_sha256(bytes(c.key), parts, h256));
    ASSERT_TRUE(hmac_sha512(bytes(c.key), parts, h512));
    EXPECT_EQ(hex(h256), c.sha256);
    EXPECT_EQ(hex(h512), c.sha512);
  }
}

TEST(Crypto, HkdfRfc5869) {
  std::vector<uint8_t> okm(42);
  const std::vector<uint8_t> ikm(22, 0x0b), salt = unhex("000102030405060708090a0b0c"),
                                            info = unhex("f0f1f2f3f4f5f6f7f8f9");
  ASSERT_TRUE(hkdf_sha256(bytes(ikm), bytes(salt), bytes(info), okm));
  EXPECT_EQ(hex(okm),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
  // Test case 3: empty salt and info.
  ASSERT_TRUE(hkdf_sha256(bytes(ikm), {}, {}, okm));
  EXPECT_EQ(hex(okm),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
  // SHA-512, several blocks (python3-cryptography's HKDF gives the same).
  std::vector<uint8_t> long_okm(100);
  ASSERT_TRUE(hkdf_sha512(bytes(std::string_view("input key material")),
                          bytes(std::string_view("salt")), bytes(std::string_view("info")),
                          long_okm));
  EXPECT_EQ(hex(long_okm),
            "57026b6a13014b870f39e8b46105c12f296eb0515a81afd6fb419b0e63c5b5777501cb46175423ba1b9f"
            "f4c7fbea2e47ab9c84a306b35cd71156af466f323976f97de335286e7e24b90560302fa9504c30674b9d"
            "9ae6841177732471ee4bc8d1f166d911");
  std::vector<uint8_t> too_long(255 * 64 + 1);
  EXPECT_FALSE(hkdf_sha512(bytes(ikm), {}, {}, too_long));
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
    const Bytes message[] = {bytes(c.message)};
    Signature sig{};
    ASSERT_TRUE(p256::sign(priv, message, sig).has_value());
    EXPECT_EQ(hex(sig), c.signature) << c.message;
    EXPECT_TRUE(p256::verify(pub, message, sig));
  }
}

TEST(P256, VerifyRefuses) {
  const auto priv = test::array_from_hex<32>(kRfc6979Private);
  const auto pub = test::array_from_hex<64>(kRfc6979Public);
  const Bytes message[] = {bytes(std::string_view("sample"))};
  Signature sig{};
  ASSERT_TRUE(p256::sign(priv, message, sig).has_value());
  ASSERT_TRUE(p256::verify(pub, message, sig));

  const Bytes other[] = {bytes(std::string_view("samplf"))};
  EXPECT_FALSE(p256::verify(pub, other, sig));
  for (size_t bit : {0u, 255u, 256u, 511u}) {
    Signature bad = sig;
    bad[bit / 8] ^= static_cast<uint8_t>(0x80 >> (bit % 8));
    EXPECT_FALSE(p256::verify(pub, message, bad)) << bit;
  }
  Signature zero_r = sig;
  std::fill(zero_r.begin(), zero_r.begin() + 32, 0);
  EXPECT_FALSE(p256::verify(pub, message, zero_r));
  Signature big_s = sig;
  std::fill(big_s.begin() + 32, big_s.end(), 0xff);
  EXPECT_FALSE(p256::verify(pub, message, big_s));
  PublicKey off_curve = pub;
  off_curve[63] ^= 1;
  EXPECT_FALSE(p256::verify(off_curve, message, sig));
}

TEST(P256, PrivateKeyRange) {
  std::array<uint8_t, 32> zero{};
  PublicKey pub{};
  EXPECT_FALSE(p256::public_key(zero, pub).has_value());
  std::array<uint8_t, 32> order =
      test::array_from_hex<32>("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
  EXPECT_FALSE(p256::public_key(order, pub).has_value());
  order[31] -= 1;  // n - 1 is a valid scalar
  EXPECT_TRUE(p256::public_key(order, pub).has_value());
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
  }
}

}  // namespace
}  // namespace dice

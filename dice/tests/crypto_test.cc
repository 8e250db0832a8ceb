// Known answers for the symmetric primitives (all mbedTLS underneath):
// SHA-256/512 (FIPS 180-4 examples), HMAC (RFC 4231), HKDF (RFC 5869) and
// AES-256-GCM (the GCM specification's AES-256 test cases, NIST CAVP), and
// what the wrappers promise around them (parts, sizes, in place, refusals).
// P-256 is p256_test.cc's.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "dice/crypto.h"
#include "dice/dice.h"
#include "test_util.h"

namespace dice {
namespace {

using test::bytes;
using test::hex;
using test::unhex;

std::optional<Error> failure(const std::expected<void, Error>& r) {
  if (r) return std::nullopt;
  return r.error();
}

TEST(Crypto, Sha256) {
  std::array<uint8_t, 32> h{};
  ASSERT_TRUE(sha256(std::span<const Bytes>(), h));
  EXPECT_EQ(hex(h), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  const Bytes abc[] = {bytes(std::string_view("ab")), bytes(std::string_view("c"))};
  ASSERT_TRUE(sha256(abc, h));
  EXPECT_EQ(hex(h), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const Bytes two_blocks[] = {
      bytes(std::string_view("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))};
  ASSERT_TRUE(sha256(two_blocks, h));
  EXPECT_EQ(hex(h), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

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

// AES-256-GCM, 96-bit nonces: test cases 13-16 of the GCM specification
// (McGrew and Viega, "The Galois/Counter Mode of Operation", appendix B),
// and one of NIST CAVP gcmEncryptExtIV256.rsp ([Keylen = 256] [IVlen = 96]
// [PTlen = 128] [AADlen = 128] [Taglen = 128] Count = 0).
struct GcmCase {
  const char* name;
  const char* key;
  const char* nonce;
  const char* aad;
  const char* plaintext;
  const char* ciphertext;
  const char* tag;
};

constexpr char kGcmKey15[] = "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308";
constexpr char kGcmPlaintext15[] =
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255";
constexpr char kGcmCiphertext15[] =
    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
    "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad";

const GcmCase kGcmCases[] = {
    {"GCM test case 13", "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"},
    {"GCM test case 14", "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "", "00000000000000000000000000000000",
     "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"},
    {"GCM test case 15", kGcmKey15, "cafebabefacedbaddecaf888", "", kGcmPlaintext15,
     kGcmCiphertext15, "b094dac5d93471bdec1a502270e3cc6c"},
    {"GCM test case 16", kGcmKey15, "cafebabefacedbaddecaf888",
     "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     // The first 60 bytes of test case 15's.
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
    {"CAVP gcmEncryptExtIV256 96/128/128 #0",
     "92e11dcdaa866f5ce790fd24501f92509aacf4cb8b1339d50c9c1240935dd08b", "ac93a1a6145299bde902f21a",
     "1e0889016f67601c8ebea4943bc23ad6", "2d71bcfa914e4ac045b2aa60955fad24",
     "8995ae2e6df3dbf96fac7b7137bae67f", "eca5aa77d51d4a0a14d9c51e1da474ab"},
};

TEST(AesGcm, KnownAnswers) {
  for (const GcmCase& c : kGcmCases) {
    SCOPED_TRACE(c.name);
    const auto key = test::array_from_hex<aes256_gcm::kKeySize>(c.key);
    const auto nonce = test::array_from_hex<aes256_gcm::kNonceSize>(c.nonce);
    const std::vector<uint8_t> aad = unhex(c.aad), plaintext = unhex(c.plaintext);
    std::vector<std::byte> ciphertext(plaintext.size());
    aes256_gcm::Tag tag{};
    auto sealed = aes256_gcm::seal(key, nonce, bytes(aad), bytes(plaintext), ciphertext, tag);
    ASSERT_TRUE(sealed.has_value()) << to_string(sealed.error());
    EXPECT_EQ(hex(Bytes(ciphertext)), c.ciphertext);
    EXPECT_EQ(hex(tag), c.tag);

    std::vector<std::byte> opened(ciphertext.size(), std::byte{0xee});
    auto ok = aes256_gcm::open(key, nonce, bytes(aad), ciphertext, tag, opened);
    ASSERT_TRUE(ok.has_value()) << to_string(ok.error());
    EXPECT_EQ(hex(Bytes(opened)), c.plaintext);
  }
}

TEST(AesGcm, InPlace) {
  const GcmCase& c = kGcmCases[3];
  const auto key = test::array_from_hex<aes256_gcm::kKeySize>(c.key);
  const auto nonce = test::array_from_hex<aes256_gcm::kNonceSize>(c.nonce);
  const std::vector<uint8_t> aad = unhex(c.aad), plaintext = unhex(c.plaintext);
  std::vector<std::byte> buf(std::as_bytes(std::span(plaintext)).begin(),
                             std::as_bytes(std::span(plaintext)).end());
  aes256_gcm::Tag tag{};
  ASSERT_TRUE(aes256_gcm::seal(key, nonce, bytes(aad), buf, buf, tag).has_value());
  EXPECT_EQ(hex(Bytes(buf)), c.ciphertext);
  EXPECT_EQ(hex(tag), c.tag);
  ASSERT_TRUE(aes256_gcm::open(key, nonce, bytes(aad), buf, tag, buf).has_value());
  EXPECT_EQ(hex(Bytes(buf)), c.plaintext);
}

// Any change to the key, nonce, AAD, ciphertext or tag: AUTHENTICATION_FAILED
// and nothing of the plaintext left in the output.
TEST(AesGcm, TamperingRefused) {
  const GcmCase& c = kGcmCases[3];
  const auto key = test::array_from_hex<aes256_gcm::kKeySize>(c.key);
  const auto nonce = test::array_from_hex<aes256_gcm::kNonceSize>(c.nonce);
  const std::vector<uint8_t> aad = unhex(c.aad), ciphertext = unhex(c.ciphertext);
  const auto tag = test::array_from_hex<aes256_gcm::kTagSize>(c.tag);
  const auto refused = [&](auto k, auto iv, const std::vector<uint8_t>& a,
                           const std::vector<uint8_t>& ct, const aes256_gcm::Tag& t) {
    std::vector<std::byte> out(ct.size(), std::byte{0xee});
    auto r = aes256_gcm::open(k, iv, bytes(a), bytes(ct), t, out);
    EXPECT_FALSE(r.has_value());
    if (!r) EXPECT_EQ(r.error(), Error::kAuthenticationFailed);
    for (std::byte b : out) EXPECT_EQ(b, std::byte{0});
  };
  for (size_t bit : {0u, 7u, 100u, 255u}) {
    auto k = key;
    k[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    refused(k, nonce, aad, ciphertext, tag);
  }
  for (size_t bit : {0u, 95u}) {
    auto iv = nonce;
    iv[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    refused(key, iv, aad, ciphertext, tag);
  }
  for (size_t i : {size_t{0}, aad.size() - 1}) {
    auto a = aad;
    a[i] ^= 0x01;
    refused(key, nonce, a, ciphertext, tag);
  }
  refused(key, nonce, {}, ciphertext, tag);  // AAD dropped
  for (size_t i : {size_t{0}, size_t{31}, ciphertext.size() - 1}) {
    auto ct = ciphertext;
    ct[i] ^= 0x80;
    refused(key, nonce, aad, ct, tag);
  }
  auto shorter = ciphertext;
  shorter.pop_back();
  refused(key, nonce, aad, shorter, tag);
  for (size_t i = 0; i < tag.size(); ++i) {
    auto t = tag;
    t[i] ^= 0x01;
    refused(key, nonce, aad, ciphertext, t);
  }
}

TEST(AesGcm, SizesAndOverlapRefused) {
  const auto key = test::array_from_hex<aes256_gcm::kKeySize>(kGcmKey15);
  const std::array<uint8_t, aes256_gcm::kNonceSize> nonce{};
  std::vector<std::byte> buf(64, std::byte{0x11});
  aes256_gcm::Tag tag{};
  const Bytes in = Bytes(buf).first(32);
  // Output of another size.
  std::vector<std::byte> other(31);
  EXPECT_EQ(failure(aes256_gcm::seal(key, nonce, {}, in, other, tag)), Error::kInvalidInput);
  EXPECT_EQ(failure(aes256_gcm::open(key, nonce, {}, in, tag, other)), Error::kInvalidInput);
  // Output overlapping the input without being it.
  const std::span<std::byte> shifted = std::span(buf).subspan(8, 32);
  EXPECT_EQ(failure(aes256_gcm::seal(key, nonce, {}, in, shifted, tag)), Error::kInvalidInput);
  EXPECT_EQ(failure(aes256_gcm::open(key, nonce, {}, in, tag, shifted)), Error::kInvalidInput);
  // Empty messages are fine (a MAC over the AAD).
  const std::vector<uint8_t> aad = unhex("00112233");
  ASSERT_TRUE(aes256_gcm::seal(key, nonce, bytes(aad), {}, {}, tag).has_value());
  EXPECT_TRUE(aes256_gcm::open(key, nonce, bytes(aad), {}, tag, {}).has_value());
  EXPECT_EQ(failure(aes256_gcm::open(key, nonce, {}, {}, tag, {})), Error::kAuthenticationFailed);
  EXPECT_STREQ(to_string(Error::kAuthenticationFailed), "AUTHENTICATION_FAILED");
  EXPECT_EQ(error_class(Error::kAuthenticationFailed), ErrorClass::kDerivation);
}

}  // namespace
}  // namespace dice

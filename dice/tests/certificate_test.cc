// The DICE certificate: every byte but the signature against open-dice's
// P-256 CBOR certificate known answers (include/dice/known_test_values.h
// kExpectedCborP256Cert_{ZeroInput,HashOnlyInput,DescriptorInput}, made with
// DICE_PROFILE_NAME "opendice.example.p256"); signatures verified; and the
// chain checker's refusals.
#include <gtest/gtest.h>

#include <string>

#include "dice/crypto.h"
#include "dice/dice.h"
#include "test_util.h"

namespace dice {
namespace {

using test::bytes;
using test::hex;

// The hex of a text's bytes (what a tstr's content looks like in hex).
std::string ascii(std::string_view s) { return hex(bytes(s)); }

struct Made {
  std::vector<uint8_t> cert;
  PublicKey authority{};
};

// One open-dice DiceMainFlow certificate: authority = key(CDI_Attest),
// subject = key(CDI_Attest').
Made make_certificate(const std::array<uint8_t, 32>& cdi_attest,
                      const std::array<uint8_t, 32>& cdi_seal, const InputValues& in,
                      const CertOptions& options) {
  Made made;
  Secret<32> next_attest, next_seal, authority_priv, subject_priv;
  PublicKey subject{};
  EXPECT_TRUE(derive_next_cdis(cdi_attest, cdi_seal, in, next_attest.span(), next_seal.span()));
  EXPECT_TRUE(derive_key_pair(cdi_attest, authority_priv.span(), made.authority));
  EXPECT_TRUE(derive_key_pair(next_attest.span(), subject_priv.span(), subject));
  std::vector<std::byte> out(2048);
  auto size = write_certificate(subject, authority_priv.span(), made.authority, in, options, out);
  EXPECT_TRUE(size.has_value()) << to_string(size.error());
  made.cert = test::to_vector(Bytes(out).first(size.value_or(0)));
  return made;
}

// [COSE_Key(root), certs...]
std::vector<uint8_t> make_chain(const PublicKey& root,
                                const std::vector<std::vector<uint8_t>>& certs) {
  std::vector<std::byte> out(8192);
  cbor::Writer w(out);
  w.array(1 + certs.size());
  write_cose_key(root, w);
  for (const auto& c : certs) w.raw(bytes(c));
  EXPECT_TRUE(w.ok());
  return test::to_vector(w.written());
}

void expect_open_dice_layout(const std::vector<uint8_t>& cert, const std::string& expected_prefix) {
  const std::string got = hex(cert);
  ASSERT_EQ(got.size(), expected_prefix.size() + 2 * kSignatureSize);
  EXPECT_EQ(got.substr(0, expected_prefix.size()), expected_prefix);
}

std::string zeros(size_t n) { return std::string(2 * n, '0'); }

constexpr CertOptions kOpenDiceExample{"opendice.example.p256"};

TEST(Certificate, OpenDiceZeroInput) {
  const Made m = make_certificate({}, {}, InputValues{}, kOpenDiceExample);
  // clang-format off
  const std::string expected =
      "8443a10126a0" "5901ac" "a9"
      "01" "7828" + ascii("672d0053ae4513fbb3bac8209daeb3e8897681cd") +
      "02" "7828" + ascii("2e75b6e7230c20f2960bde4acf1288d4ab665b9b") +
      "3a00474450" "5840" + zeros(64) +
      "3a00474453" "5840" + zeros(64) +
      "3a00474454" "5840" + zeros(64) +
      "3a00474456" "4100"
      "3a00474457" "5850" "a6" "0102" "0326" "048102" "2001"
      "215820" "4f3b4e82c45ada084589c2197baf1f376eac40e1fd49b0240602aec269541c6b"
      "225820" "e7eb4019ab55c66bc88bb8b469ad7ee8589e07d2f8bc888eb311c2df973b1b4a"
      "3a00474458" "4120"
      "3a00474459" "75" + ascii("opendice.example.p256") +
      "5840";
  // clang-format on
  expect_open_dice_layout(m.cert, expected);
  EXPECT_EQ(m.cert.size(), 503u);
  const auto chain = make_chain(m.authority, {m.cert});
  auto verified = verify_chain(bytes(chain));
  ASSERT_TRUE(verified.has_value()) << to_string(verified.error().error);
}

struct FakeInputs {
  std::array<uint8_t, 32> cdi_attest =
      test::array_from_hex<32>(hex(test::fake_input("cdi_attest", 32)));
  std::array<uint8_t, 32> cdi_seal =
      test::array_from_hex<32>(hex(test::fake_input("cdi_seal", 32)));
  std::vector<uint8_t> code_hash = test::fake_input("code_hash", 64);
  std::vector<uint8_t> authority_hash = test::fake_input("authority_hash", 64);
  std::vector<uint8_t> inline_config = test::fake_input("inline_config", 64);
  std::vector<uint8_t> code_descriptor = test::fake_input("code_desc", 100);
  std::vector<uint8_t> config_descriptor = test::fake_input("config_desc", 40);
  std::vector<uint8_t> authority_descriptor = test::fake_input("authority_desc", 65);
};

TEST(Certificate, OpenDiceHashOnlyInput) {
  const FakeInputs f;
  EXPECT_EQ(hex(f.cdi_attest), "326b7af456fd2c702a76392e8dee3c355bd48d35438c0ffbca2d9484c9f695d4");
  InputValues in;
  std::copy(f.code_hash.begin(), f.code_hash.end(), in.code_hash.begin());
  std::copy(f.authority_hash.begin(), f.authority_hash.end(), in.authority_hash.begin());
  std::copy(f.inline_config.begin(), f.inline_config.end(), in.config_value.begin());
  const Made m = make_certificate(f.cdi_attest, f.cdi_seal, in, kOpenDiceExample);
  // clang-format off
  const std::string expected =
      "8443a10126a0" "5901ac" "a9"
      "01" "7828" + ascii("48603c0052c1cac73cae36c3bdec7c6139885c9d") +
      "02" "7828" + ascii("7c200a55efe7112eca4e026d702c64e9e29cd3e9") +
      "3a00474450" "5840" + hex(f.code_hash) +
      "3a00474453" "5840" + hex(f.inline_config) +
      "3a00474454" "5840" + hex(f.authority_hash) +
      "3a00474456" "4100"
      "3a00474457" "5850" "a6" "0102" "0326" "048102" "2001"
      "215820" "fe9db2f92809c3041285dcd3706f221c72b6c44fde93eefdfb6d5718fc8f6f0b"
      "225820" "091a19ea107ea938f44533c1665bbcfc0a6e98997288c1ad0e15c2857775000b"
      "3a00474458" "4120"
      "3a00474459" "75" + ascii("opendice.example.p256") +
      "5840";
  // clang-format on
  expect_open_dice_layout(m.cert, expected);
  EXPECT_TRUE(verify_chain(bytes(make_chain(m.authority, {m.cert}))).has_value());
}

TEST(Certificate, OpenDiceDescriptorInput) {
  const FakeInputs f;
  InputValues in;
  std::copy(f.code_hash.begin(), f.code_hash.end(), in.code_hash.begin());
  std::copy(f.authority_hash.begin(), f.authority_hash.end(), in.authority_hash.begin());
  in.code_descriptor = bytes(f.code_descriptor);
  in.config_type = ConfigType::kDescriptor;
  in.config_descriptor = bytes(f.config_descriptor);
  in.authority_descriptor = bytes(f.authority_descriptor);
  const Made m = make_certificate(f.cdi_attest, f.cdi_seal, in, kOpenDiceExample);
  Hash config_hash{};
  ASSERT_TRUE(sha512(bytes(f.config_descriptor), config_hash));
  EXPECT_EQ(hex(config_hash).substr(0, 16), "4500e95cbd005704");
  // configurationDescriptor (-4670548) before configurationHash (-4670547).
  // clang-format off
  const std::string expected =
      "8443a10126a0" "59028e" "ac"
      "01" "7828" + ascii("48603c0052c1cac73cae36c3bdec7c6139885c9d") +
      "02" "7828" + ascii("5a04e9ecf19ad3d52668b82a6081f03fdb29f864") +
      "3a00474450" "5840" + hex(f.code_hash) +
      "3a00474451" "5864" + hex(f.code_descriptor) +
      "3a00474453" "5828" + hex(f.config_descriptor) +
      "3a00474452" "5840" + hex(config_hash) +
      "3a00474454" "5840" + hex(f.authority_hash) +
      "3a00474455" "5841" + hex(f.authority_descriptor) +
      "3a00474456" "4100"
      "3a00474457" "5850" "a6" "0102" "0326" "048102" "2001"
      "215820" "6d1edd353870c28a01df80b1a5ae854b7a12dd11f69727449b27f38797b3e736"
      "225820" "e642878c72def7af2dc62300b12b4e1cf3af67f09b8840793b09783051653861"
      "3a00474458" "4120"
      "3a00474459" "75" + ascii("opendice.example.p256") +
      "5840";
  // clang-format on
  expect_open_dice_layout(m.cert, expected);
  EXPECT_EQ(m.cert.size(), 729u);

  const auto chain = make_chain(m.authority, {m.cert});
  std::vector<Certificate> views(1);
  auto verified = verify_chain(bytes(chain), views);
  ASSERT_TRUE(verified.has_value()) << to_string(verified.error().error);
  EXPECT_EQ(verified->certificates, 1u);
  const Certificate& c = views[0];
  EXPECT_EQ(c.algorithm, -7);
  EXPECT_EQ(c.issuer, "48603c0052c1cac73cae36c3bdec7c6139885c9d");
  EXPECT_EQ(c.mode, 0);
  EXPECT_EQ(test::to_vector(*c.config_descriptor), f.config_descriptor);
  EXPECT_EQ(test::to_vector(*c.code_descriptor), f.code_descriptor);
  EXPECT_EQ(test::to_vector(*c.authority_descriptor), f.authority_descriptor);
  EXPECT_EQ(c.profile_name, "opendice.example.p256");
  EXPECT_EQ(hex(*c.key_usage), "20");
}

TEST(Certificate, DeterministicAndWithoutProfile) {
  InputValues in;
  in.mode = Mode::kDebug;
  const Made a = make_certificate({}, {}, in, CertOptions{});
  const Made b = make_certificate({}, {}, in, CertOptions{});
  EXPECT_EQ(a.cert, b.cert);  // RFC 6979: same input, same signature
  auto cert = parse_certificate(bytes(a.cert));
  ASSERT_TRUE(cert.has_value());
  EXPECT_FALSE(cert->profile_name.has_value());
  EXPECT_EQ(cert->mode, 2);
  // The ZeroInput certificate less the -4670554 claim (label 5, tstr head 1, 21 bytes).
  EXPECT_EQ(a.cert.size(), 503u - 27u);
}

TEST(Certificate, BufferTooSmall) {
  const Made m = make_certificate({}, {}, InputValues{}, CertOptions{});
  Secret<32> priv;
  PublicKey pub{};
  ASSERT_TRUE(derive_key_pair(std::array<uint8_t, 32>{}, priv.span(), pub));
  for (size_t size : {size_t{0}, size_t{10}, m.cert.size() - 64, m.cert.size() - 1}) {
    std::vector<std::byte> out(size);
    auto r = write_certificate(pub, priv.span(), pub, InputValues{}, CertOptions{}, out);
    ASSERT_FALSE(r.has_value()) << size;
    EXPECT_EQ(r.error(), Error::kBufferTooSmall);
  }
}

TEST(Chain, Refusals) {
  const Made m = make_certificate({}, {}, InputValues{}, CertOptions{});
  const auto good = make_chain(m.authority, {m.cert});
  ASSERT_TRUE(verify_chain(bytes(good)).has_value());

  // A payload byte changed: the signature no longer verifies.
  std::vector<uint8_t> tampered = m.cert;
  tampered[110] ^= 1;  // inside the code hash
  auto bad_sig = verify_chain(bytes(make_chain(m.authority, {tampered})));
  ASSERT_FALSE(bad_sig.has_value());
  EXPECT_EQ(bad_sig.error().index, 1u);

  // The wrong root key.
  PublicKey other_root{};
  Secret<32> other_priv;
  std::array<uint8_t, 32> other_cdi{};
  other_cdi.fill(7);
  ASSERT_TRUE(derive_key_pair(other_cdi, other_priv.span(), other_root));
  auto wrong_root = verify_chain(bytes(make_chain(other_root, {m.cert})));
  ASSERT_FALSE(wrong_root.has_value());
  EXPECT_EQ(wrong_root.error().error, Error::kBadSignature);

  // Signed by one key, naming another as issuer.
  Secret<32> signer_priv, subject_priv;
  PublicKey signer{}, subject{};
  ASSERT_TRUE(derive_key_pair(std::array<uint8_t, 32>{}, signer_priv.span(), signer));
  std::array<uint8_t, 32> cdi1{};
  cdi1.fill(1);
  ASSERT_TRUE(derive_key_pair(cdi1, subject_priv.span(), subject));
  std::vector<std::byte> out(1024);
  auto size =
      write_certificate(subject, signer_priv.span(), other_root, InputValues{}, CertOptions{}, out);
  ASSERT_TRUE(size.has_value());
  const auto lying = test::to_vector(Bytes(out).first(*size));
  auto mismatch = verify_chain(bytes(make_chain(signer, {lying})));
  ASSERT_FALSE(mismatch.has_value());
  EXPECT_EQ(mismatch.error().error, Error::kIssuerMismatch);

  // Structure.
  EXPECT_EQ(verify_chain(bytes(test::unhex("80"))).error().error, Error::kChainMalformed);
  EXPECT_EQ(verify_chain(bytes(test::unhex("81a0"))).error().error, Error::kChainMalformed);
  auto trailing = good;
  trailing.push_back(0);
  EXPECT_EQ(verify_chain(bytes(trailing)).error().error, Error::kChainMalformed);
}

TEST(CoseKey, ParseAndRefuse) {
  PublicKey pub{};
  for (size_t i = 0; i < pub.size(); ++i) pub[i] = static_cast<uint8_t>(i);
  std::vector<std::byte> out(128);
  cbor::Writer w(out);
  write_cose_key(pub, w);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(hex(w.written()).substr(0, 24), "a60102032604810220012158");
  auto parsed = parse_cose_key(w.written());
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(*parsed, pub);

  const std::string x = "5820" + std::string(64, '1');
  struct Case {
    std::string hex;
    Error error;
  };
  const Case cases[] = {
      // Ed25519 (kty OKP): not supported here.
      {"a40101032720062158200000000000000000000000000000000000000000000000000000000000000000",
       Error::kUnsupportedAlgorithm},
      {"a401022002"
       "21" +
           x + "22" + x,
       Error::kUnsupportedAlgorithm},                // crv 2 (P-384)
      {"a30102200121" + x, Error::kChainMalformed},  // no y
      {"a5010201022001"
       "21" +
           x + "22" + x,
       Error::kChainMalformed},                                          // kty twice
      {"a50102200121" + x + "22" + x + "0500", Error::kChainMalformed},  // unknown label 5
      {"a40102200121"
       "4100"
       "22" +
           x,
       Error::kChainMalformed},                                             // 1-byte x
      {"a50102033822200121" + x + "22" + x, Error::kUnsupportedAlgorithm},  // alg ES384
  };
  for (const Case& c : cases) {
    auto r = parse_cose_key(bytes(test::unhex(c.hex)));
    ASSERT_FALSE(r.has_value()) << c.hex;
    EXPECT_EQ(r.error(), c.error) << c.hex << " " << to_string(r.error());
  }
}

}  // namespace
}  // namespace dice

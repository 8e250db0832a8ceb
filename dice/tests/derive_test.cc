// The open-dice main flow: every CDI known answer of
// ../shared/vectors/dice/open_dice_kats.json, and properties: each input
// changes exactly the CDIs open-dice says it does (src/dice.c: CDI_Attest
// from every input, CDI_Seal from authority, mode and hidden only;
// descriptors other than the config's only reach the certificate).
#include <gtest/gtest.h>

#include <string>

#include "dice/crypto.h"
#include "dice/dice.h"
#include "test_util.h"

namespace dice {
namespace {

using test::hex;
using test::unhex;

struct Next {
  std::string attest;
  std::string seal;
  bool operator==(const Next&) const = default;
};

struct Current {
  std::array<uint8_t, 32> attest{};
  std::array<uint8_t, 32> seal{};
};

Next derive(const Current& cur, const InputValues& in) {
  Secret<32> attest, seal;
  auto r = derive_next_cdis(cur.attest, cur.seal, in, attest.span(), seal.span());
  EXPECT_TRUE(r.has_value()) << to_string(r.error());
  return {hex(attest.span()), hex(seal.span())};
}

TEST(Derive, OpenDiceKnownAnswers) {
  auto kats = test::load_kats("cdi");
  if (kats.empty()) GTEST_SKIP() << "open-dice KATs not found at " << test::kats_source();
  EXPECT_EQ(kats.size(), 3u);
  for (const test::Kat& kat : kats) {
    SCOPED_TRACE(kat.name);
    Current cur{test::array_from_hex<32>(kat.at("current_cdi_attest")),
                test::array_from_hex<32>(kat.at("current_cdi_seal"))};
    InputValues in;
    in.code_hash = test::array_from_hex<64>(kat.at("code_hash"));
    in.authority_hash = test::array_from_hex<64>(kat.at("authority_hash"));
    in.hidden = test::array_from_hex<64>(kat.at("hidden"));
    in.mode = static_cast<Mode>(std::stoi(kat.at("mode")));
    std::vector<uint8_t> descriptor, code_descriptor, authority_descriptor;
    if (kat.at("config_type") == "inline") {
      in.config_type = ConfigType::kInline;
      in.config_value = test::array_from_hex<64>(kat.at("config_value"));
    } else {
      in.config_type = ConfigType::kDescriptor;
      descriptor = unhex(kat.at("config_descriptor"));
      in.config_descriptor = test::bytes(descriptor);
    }
    if (kat.has("code_descriptor")) {
      code_descriptor = unhex(kat.at("code_descriptor"));
      in.code_descriptor = test::bytes(code_descriptor);
    }
    if (kat.has("authority_descriptor")) {
      authority_descriptor = unhex(kat.at("authority_descriptor"));
      in.authority_descriptor = test::bytes(authority_descriptor);
    }
    const Next next = derive(cur, in);
    EXPECT_EQ(next.attest, kat.at("next_cdi_attest"));
    EXPECT_EQ(next.seal, kat.at("next_cdi_seal"));
  }
}

InputValues base_inputs() {
  InputValues in;
  for (size_t i = 0; i < 64; ++i) {
    in.code_hash[i] = static_cast<uint8_t>(i);
    in.config_value[i] = static_cast<uint8_t>(0x40 + i);
    in.authority_hash[i] = static_cast<uint8_t>(0x80 + i);
    in.hidden[i] = static_cast<uint8_t>(0xc0 + i);
  }
  in.mode = Mode::kNormal;
  return in;
}

Current base_current() {
  Current c;
  c.attest.fill(0x11);
  c.seal.fill(0x22);
  return c;
}

enum class Changes { kAttestOnly, kSealOnly, kBoth, kNeither };

void expect_changes(const char* what, const Next& before, const Next& after, Changes changes) {
  SCOPED_TRACE(what);
  const bool attest = before.attest != after.attest;
  const bool seal = before.seal != after.seal;
  switch (changes) {
    case Changes::kAttestOnly:
      EXPECT_TRUE(attest);
      EXPECT_FALSE(seal);
      break;
    case Changes::kSealOnly:
      EXPECT_FALSE(attest);
      EXPECT_TRUE(seal);
      break;
    case Changes::kBoth:
      EXPECT_TRUE(attest);
      EXPECT_TRUE(seal);
      break;
    case Changes::kNeither:
      EXPECT_FALSE(attest);
      EXPECT_FALSE(seal);
      break;
  }
}

TEST(Derive, EachInputChangesTheRightCdis) {
  const Current cur = base_current();
  const InputValues in = base_inputs();
  const Next base = derive(cur, in);
  // Deterministic.
  EXPECT_EQ(derive(cur, in), base);

  for (size_t byte : {0u, 31u, 63u}) {
    InputValues x = in;
    x.code_hash[byte] ^= 1;
    expect_changes("code hash", base, derive(cur, x), Changes::kAttestOnly);
    x = in;
    x.config_value[byte] ^= 1;
    expect_changes("inline config", base, derive(cur, x), Changes::kAttestOnly);
    x = in;
    x.authority_hash[byte] ^= 1;
    expect_changes("authority hash", base, derive(cur, x), Changes::kBoth);
    x = in;
    x.hidden[byte] ^= 1;
    expect_changes("hidden", base, derive(cur, x), Changes::kBoth);
  }
  for (Mode m : {Mode::kNotInitialized, Mode::kDebug, Mode::kMaintenance}) {
    InputValues x = in;
    x.mode = m;
    expect_changes("mode", base, derive(cur, x), Changes::kBoth);
  }
  Current c = cur;
  c.attest[5] ^= 0x80;
  expect_changes("current CDI_Attest", base, derive(c, in), Changes::kAttestOnly);
  c = cur;
  c.seal[31] ^= 0x01;
  expect_changes("current CDI_Seal", base, derive(c, in), Changes::kSealOnly);

  const std::vector<uint8_t> descriptor(40, 0x5a);
  InputValues x = in;
  x.code_descriptor = test::bytes(descriptor);
  x.authority_descriptor = test::bytes(descriptor);
  expect_changes("code/authority descriptors", base, derive(cur, x), Changes::kNeither);
}

TEST(Derive, ConfigDescriptorIsHashed) {
  const Current cur = base_current();
  InputValues in = base_inputs();
  const std::vector<uint8_t> descriptor = unhex("a13a0001117168766d5f656e747279");
  in.config_type = ConfigType::kDescriptor;
  in.config_descriptor = test::bytes(descriptor);
  const Next with_descriptor = derive(cur, in);
  // The same as an inline config holding SHA-512(descriptor).
  InputValues inline_in = base_inputs();
  ASSERT_TRUE(sha512(in.config_descriptor, inline_in.config_value));
  EXPECT_EQ(derive(cur, inline_in), with_descriptor);
  // Any change to the descriptor changes CDI_Attest only.
  std::vector<uint8_t> other = descriptor;
  other.back() ^= 1;
  in.config_descriptor = test::bytes(other);
  expect_changes("descriptor", with_descriptor, derive(cur, in), Changes::kAttestOnly);
}

TEST(Derive, RefusesInvalidInputs) {
  const Current cur = base_current();
  Secret<32> a, s;
  InputValues in = base_inputs();
  in.mode = static_cast<Mode>(4);
  EXPECT_EQ(derive_next_cdis(cur.attest, cur.seal, in, a.span(), s.span()).error(),
            Error::kInvalidInput);
  in = base_inputs();
  in.config_type = ConfigType::kDescriptor;  // but no descriptor
  EXPECT_EQ(derive_next_cdis(cur.attest, cur.seal, in, a.span(), s.span()).error(),
            Error::kInvalidInput);
  in.config_type = static_cast<ConfigType>(7);
  EXPECT_EQ(derive_next_cdis(cur.attest, cur.seal, in, a.span(), s.span()).error(),
            Error::kInvalidInput);
  const std::vector<uint8_t> huge(kMaxDescriptorSize + 1);
  in = base_inputs();
  in.code_descriptor = test::bytes(huge);
  EXPECT_EQ(derive_next_cdis(cur.attest, cur.seal, in, a.span(), s.span()).error(),
            Error::kInvalidInput);
}

TEST(Derive, KeySeedAndIdFollowCdiAttestOnly) {
  std::array<uint8_t, 32> cdi{};
  cdi.fill(0x33);
  Secret<32> seed1, seed2;
  ASSERT_TRUE(derive_private_key_seed(cdi, seed1.span()).has_value());
  ASSERT_TRUE(derive_private_key_seed(cdi, seed2.span()).has_value());
  EXPECT_EQ(hex(seed1.span()), hex(seed2.span()));
  cdi[0] ^= 1;
  ASSERT_TRUE(derive_private_key_seed(cdi, seed2.span()).has_value());
  EXPECT_NE(hex(seed1.span()), hex(seed2.span()));
  // IDs always have the top bit clear.
  for (uint8_t b = 0; b < 8; ++b) {
    cdi.fill(b);
    Secret<32> priv;
    PublicKey pub{};
    ASSERT_TRUE(derive_key_pair(cdi, priv.span(), pub).has_value());
    auto id = derive_cert_id(pub);
    ASSERT_TRUE(id.has_value());
    EXPECT_EQ((*id)[0] & 0x80, 0);
  }
}

}  // namespace
}  // namespace dice

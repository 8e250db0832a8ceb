// DiceAndroidHandover: open-dice's parse known answers, hostile handovers,
// and whole layers through main_flow checked end to end (the new CDIs are
// the main flow's, the chain verifies, its last key is CDI_Attest's).
#include <gtest/gtest.h>

#include <string>

#include "dice/dice.h"
#include "dice/pvmfw.h"
#include "test_util.h"

namespace dice {
namespace {

using test::bytes;
using test::hex;
using test::unhex;

size_t offset_in(Bytes whole, Bytes part) {
  return static_cast<size_t>(part.data() - whole.data());
}

TEST(Handover, OpenDiceParseKnownAnswers) {
  auto kats = test::load_kats("handover");
  if (kats.empty()) GTEST_SKIP() << "open-dice KATs not found at " << test::kats_source();
  EXPECT_EQ(kats.size(), 2u);
  for (const test::Kat& kat : kats) {
    SCOPED_TRACE(kat.name);
    const std::vector<uint8_t> input = unhex(kat.at("bytes"));
    auto h = parse_handover(bytes(input));
    if (kat.at("result") != "ok") {
      EXPECT_FALSE(h.has_value());
      continue;
    }
    ASSERT_TRUE(h.has_value()) << to_string(h.error());
    const Bytes whole = bytes(input);
    EXPECT_EQ(offset_in(whole, std::as_bytes(h->cdi_attest)),
              std::stoul(kat.at("cdi_attest_offset")));
    EXPECT_EQ(offset_in(whole, std::as_bytes(h->cdi_seal)), std::stoul(kat.at("cdi_seal_offset")));
    ASSERT_TRUE(h->chain.has_value());
    EXPECT_EQ(offset_in(whole, *h->chain), std::stoul(kat.at("chain_offset")));
    EXPECT_EQ(h->chain->size(), std::stoul(kat.at("chain_size")));
    EXPECT_LT(h->size, input.size());  // the trailing bytes are not part of it
  }
}

const std::string kCdi32 = std::string(64, '1');
const std::string kCdiA = "015820" + kCdi32;
const std::string kCdiS = "025820" + std::string(64, '2');
const std::string kChain =
    "82a0"
    "84"
    "40a04040";  // [{}, [h'', {}, h'', h'']]

TEST(Handover, ParsesWithAndWithoutChain) {
  auto two = unhex("a2" + kCdiA + kCdiS);
  auto h = parse_handover(bytes(two));
  ASSERT_TRUE(h.has_value());
  EXPECT_FALSE(h->chain.has_value());
  EXPECT_EQ(hex(h->cdi_attest), kCdi32);
  EXPECT_EQ(h->size, two.size());

  auto three = unhex("a3" + kCdiA + kCdiS + "03" + kChain + "000000");
  h = parse_handover(bytes(three));
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(hex(*h->chain), kChain);
  EXPECT_EQ(h->size, three.size() - 3);
}

TEST(Handover, Refusals) {
  struct Case {
    const char* what;
    std::string hex;
    Error error;
  };
  const Case cases[] = {
      {"empty", "", Error::kHandoverMalformed},
      {"array", "82" + kCdiA.substr(2) + kCdiS.substr(2), Error::kHandoverNotMap},
      {"one pair", "a1" + kCdiA, Error::kHandoverNotMap},
      {"four pairs", "a4" + kCdiA + kCdiS + "03" + kChain + "0400", Error::kHandoverNotMap},
      {"seal first", "a2" + kCdiS + kCdiA, Error::kHandoverBadCdi},
      {"short CDI",
       "a2"
       "01581f" +
           std::string(62, '1') + kCdiS,
       Error::kHandoverBadCdi},
      {"CDI as text",
       "a2"
       "017820" +
           std::string(64, '3') + kCdiS,
       Error::kHandoverBadCdi},
      {"label 3 missing", "a3" + kCdiA + kCdiS + "04" + kChain, Error::kHandoverUnknownEntry},
      {"chain not array",
       "a3" + kCdiA + kCdiS +
           "03"
           "a0",
       Error::kHandoverBadChain},
      {"chain of one",
       "a3" + kCdiA + kCdiS +
           "03"
           "81a0",
       Error::kHandoverBadChain},
      {"root not a map",
       "a3" + kCdiA + kCdiS +
           "03"
           "824084"
           "40a04040",
       Error::kHandoverBadChain},
      {"cert not COSE_Sign1",
       "a3" + kCdiA + kCdiS +
           "03"
           "82a083"
           "40a040",
       Error::kHandoverBadChain},
      {"indefinite map", "bf" + kCdiA + kCdiS + "ff", Error::kHandoverMalformed},
      {"non-shortest inside the chain",
       "a3" + kCdiA + kCdiS +
           "03"
           "82a08418"
           "00a04040",
       Error::kHandoverMalformed},
      {"truncated",
       "a3" + kCdiA + kCdiS +
           "03"
           "82a084",
       Error::kHandoverMalformed},
  };
  for (const Case& c : cases) {
    auto input = unhex(c.hex);
    auto h = parse_handover(bytes(input));
    ASSERT_FALSE(h.has_value()) << c.what;
    EXPECT_EQ(h.error(), c.error) << c.what << ": got " << to_string(h.error());
  }
}

std::array<uint8_t, 32> uds_for_test(uint8_t fill) {
  std::array<uint8_t, 32> uds{};
  for (size_t i = 0; i < uds.size(); ++i) uds[i] = static_cast<uint8_t>(fill + i);
  return uds;
}

InputValues vm_inputs() {
  InputValues in;
  in.code_hash.fill(0xc0);
  in.config_value.fill(0xc1);
  in.authority_hash.fill(0xa0);
  in.hidden.fill(0x4d);
  in.mode = Mode::kNormal;
  return in;
}

// Checks a handover made by main_flow from (current attest, seal) and `in`.
void expect_layer(Bytes handover, CdiView cur_attest, CdiView cur_seal, const InputValues& in,
                  size_t expected_certificates) {
  auto h = parse_handover(handover);
  ASSERT_TRUE(h.has_value()) << to_string(h.error());
  EXPECT_EQ(h->size, handover.size());
  Secret<32> attest, seal;
  ASSERT_TRUE(derive_next_cdis(cur_attest, cur_seal, in, attest.span(), seal.span()));
  EXPECT_EQ(hex(h->cdi_attest), hex(attest.span()));
  EXPECT_EQ(hex(h->cdi_seal), hex(seal.span()));
  ASSERT_TRUE(h->chain.has_value());
  auto chain = verify_chain(*h->chain);
  ASSERT_TRUE(chain.has_value()) << to_string(chain.error().error) << " at " << chain.error().index;
  EXPECT_EQ(chain->certificates, expected_certificates);
  Secret<32> priv;
  PublicKey leaf{};
  ASSERT_TRUE(derive_key_pair(h->cdi_attest, priv.span(), leaf));
  EXPECT_EQ(chain->leaf, leaf);
}

TEST(Handover, LayersAppendToTheChain) {
  const auto uds = uds_for_test(1);
  std::vector<std::byte> stage1(kHandoverRegionSize);
  auto n1 = pvmfw::previous_stage_handover(uds, stage1);
  ASSERT_TRUE(n1.has_value()) << to_string(n1.error());
  const Bytes h1 = Bytes(stage1).first(*n1);

  const InputValues in = vm_inputs();
  std::vector<std::byte> stage2(kHandoverRegionSize);
  auto n2 = handover_main_flow(h1, in, CertOptions{}, stage2);
  ASSERT_TRUE(n2.has_value()) << to_string(n2.error());
  auto parsed1 = parse_handover(h1);
  ASSERT_TRUE(parsed1.has_value());
  expect_layer(Bytes(stage2).first(*n2), parsed1->cdi_attest, parsed1->cdi_seal, in, 2);

  // A third layer on top, and the same again gives the same bytes.
  auto parsed2 = parse_handover(Bytes(stage2).first(*n2));
  ASSERT_TRUE(parsed2.has_value());
  std::vector<std::byte> stage3(kHandoverRegionSize), again(kHandoverRegionSize);
  auto n3 = handover_main_flow(Bytes(stage2).first(*n2), in, CertOptions{"android.16"}, stage3);
  auto n3b = handover_main_flow(Bytes(stage2).first(*n2), in, CertOptions{"android.16"}, again);
  ASSERT_TRUE(n3.has_value() && n3b.has_value());
  EXPECT_EQ(hex(Bytes(stage3).first(*n3)), hex(Bytes(again).first(*n3b)));
  expect_layer(Bytes(stage3).first(*n3), parsed2->cdi_attest, parsed2->cdi_seal, in, 3);
}

TEST(Handover, WithoutChainStartsOne) {
  // {1: CDI_Attest, 2: CDI_Seal} only: the chain becomes [key(CDI_Attest), cert].
  auto input = unhex("a2" + kCdiA + kCdiS);
  std::vector<std::byte> out(kHandoverRegionSize);
  const InputValues in = vm_inputs();
  auto n = handover_main_flow(bytes(input), in, CertOptions{}, out);
  ASSERT_TRUE(n.has_value()) << to_string(n.error());
  auto current = parse_handover(bytes(input));
  ASSERT_TRUE(current.has_value());
  expect_layer(Bytes(out).first(*n), current->cdi_attest, current->cdi_seal, in, 1);
  auto h = parse_handover(Bytes(out).first(*n));
  auto chain = verify_chain(*h->chain);
  Secret<32> priv;
  PublicKey root{};
  ASSERT_TRUE(derive_key_pair(current->cdi_attest, priv.span(), root));
  EXPECT_EQ(chain->root, root);
}

// The issuer of the new certificate: the key the chain's last certificate
// certifies when it is a P-256 COSE_Key (no d·G for the current layer),
// else the key of CDI_Attest. The signature is by the key of CDI_Attest
// either way.
TEST(Handover, IssuerKeyFromTheChainOrDerived) {
  const auto uds = uds_for_test(5);
  std::vector<std::byte> stage1(kHandoverRegionSize);
  auto n1 = pvmfw::previous_stage_handover(uds, stage1);
  ASSERT_TRUE(n1.has_value());
  auto h1 = parse_handover(Bytes(stage1).first(*n1));
  ASSERT_TRUE(h1 && h1->chain);
  Secret<32> priv;
  PublicKey key{};
  ASSERT_TRUE(derive_key_pair(h1->cdi_attest, priv.span(), key));
  auto key_id = derive_cert_id(key);
  ASSERT_TRUE(key_id.has_value());
  const IdHex expected_issuer = id_hex(*key_id);

  // The new certificate (the chain's last item) and its issuer claim.
  const auto last_issuer = [](Bytes handover) -> std::string {
    auto h = parse_handover(handover);
    if (!h || !h->chain) return "no chain";
    cbor::Reader r(*h->chain);
    auto count = r.read_array();
    std::optional<Bytes> item;
    for (uint64_t i = 0; count && i < *count; ++i) {
      auto next = r.read_item();
      if (!next) return "no item";
      item = *next;
    }
    if (!item) return "no item";
    auto cert = parse_certificate(*item);
    if (!cert) return "not a certificate";
    auto sig = verify_chain(*h->chain);
    return std::string(cert->issuer) + (sig ? "" : " (chain does not verify)");
  };

  // A consistent chain: its key is the derived one, and the chain verifies.
  std::vector<std::byte> out(kHandoverRegionSize);
  const InputValues in = vm_inputs();
  auto n = handover_main_flow(Bytes(stage1).first(*n1), in, CertOptions{}, out);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(last_issuer(Bytes(out).first(*n)),
            std::string(expected_issuer.data(), expected_issuer.size()));

  // A chain whose last item only has a certificate's shape: derived.
  const std::string attest_hex = "015820" + hex(h1->cdi_attest);
  const std::string seal_hex = "025820" + hex(h1->cdi_seal);
  std::vector<std::byte> cose_key(128);
  cbor::Writer kw(cose_key);
  write_cose_key(key, kw);
  ASSERT_TRUE(kw.ok());
  const auto shaped =
      unhex("a3" + attest_hex + seal_hex + "0382" + hex(kw.written()) + "8440a04040");
  n = handover_main_flow(bytes(shaped), in, CertOptions{}, out);
  ASSERT_TRUE(n.has_value()) << to_string(n.error());
  EXPECT_EQ(
      last_issuer(Bytes(out).first(*n)),
      std::string(expected_issuer.data(), expected_issuer.size()) + " (chain does not verify)");
}

TEST(Handover, SmallOutputFailsAndIsWiped) {
  const auto uds = uds_for_test(9);
  std::vector<std::byte> full(kHandoverRegionSize);
  auto n = pvmfw::previous_stage_handover(uds, full);
  ASSERT_TRUE(n.has_value());
  for (size_t size : {size_t{0}, size_t{40}, size_t{80}, *n - 65, *n - 1}) {
    std::vector<std::byte> out(size, std::byte{0xee});
    auto r = pvmfw::previous_stage_handover(uds, out);
    ASSERT_FALSE(r.has_value()) << size;
    EXPECT_EQ(r.error(), Error::kBufferTooSmall);
    for (std::byte b : out) ASSERT_EQ(b, std::byte{0}) << "partial output left at size " << size;
  }
}

TEST(Handover, OverlapRefused) {
  std::vector<std::byte> buf(2 * kHandoverRegionSize);
  auto n = pvmfw::previous_stage_handover(uds_for_test(3), buf);
  ASSERT_TRUE(n.has_value());
  auto r = handover_main_flow(Bytes(buf).first(*n), vm_inputs(), CertOptions{},
                              std::span(buf).subspan(*n / 2, kHandoverRegionSize));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), Error::kInvalidInput);
}

TEST(Handover, ErrorClasses) {
  EXPECT_EQ(error_class(Error::kHandoverBadCdi), ErrorClass::kInvalidHandover);
  EXPECT_EQ(error_class(Error::kHandoverMalformed), ErrorClass::kInvalidHandover);
  EXPECT_EQ(error_class(Error::kCryptoFailure), ErrorClass::kDerivation);
  EXPECT_EQ(error_class(Error::kBufferTooSmall), ErrorClass::kDerivation);
  EXPECT_STREQ(to_string(Error::kHandoverBadChain), "HANDOVER_BAD_CHAIN");
}

}  // namespace
}  // namespace dice

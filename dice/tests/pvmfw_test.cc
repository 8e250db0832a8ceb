// pvmfw's inputs: code/authority hashes, config descriptor (and open-dice's
// Android config known answers), hidden; and the first layers from the UDS:
// the stand-in previous stage and the hypervisor's pvmfw stage.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "dice/crypto.h"
#include "dice/pvmfw.h"
#include "test_util.h"

namespace dice {
namespace {

using test::bytes;
using test::hex;
using test::unhex;

std::string sha512_hex(const std::vector<uint8_t>& data) {
  Hash h{};
  EXPECT_TRUE(sha512(bytes(data), h));
  return hex(h);
}

TEST(Pvmfw, CodeHash) {
  const std::vector<uint8_t> kernel(32, 0x11), initrd(32, 0x22);
  std::vector<uint8_t> both = kernel;
  both.insert(both.end(), initrd.begin(), initrd.end());
  EXPECT_EQ(hex(pvmfw::code_hash(bytes(kernel), bytes(initrd)).value()), sha512_hex(both));
  std::vector<uint8_t> no_initrd = kernel;
  no_initrd.resize(64, 0);
  EXPECT_EQ(hex(pvmfw::code_hash(bytes(kernel), std::nullopt).value()), sha512_hex(no_initrd));
  const std::vector<uint8_t> kernel512(64, 0x33);
  std::vector<uint8_t> z512 = kernel512;
  z512.resize(128, 0);
  EXPECT_EQ(hex(pvmfw::code_hash(bytes(kernel512), std::nullopt).value()), sha512_hex(z512));
  EXPECT_EQ(pvmfw::code_hash(bytes(kernel512), bytes(initrd)).error(), Error::kInvalidInput);
  EXPECT_EQ(pvmfw::code_hash(bytes(std::vector<uint8_t>(20)), std::nullopt).error(),
            Error::kInvalidInput);
}

TEST(Pvmfw, AuthorityHashAndMode) {
  const std::vector<uint8_t> key(1032, 0x5a);
  EXPECT_EQ(hex(pvmfw::authority_hash(bytes(key)).value()), sha512_hex(key));
  EXPECT_EQ(pvmfw::mode(false), Mode::kNormal);
  EXPECT_EQ(pvmfw::mode(true), Mode::kDebug);
}

TEST(Pvmfw, ConfigDescriptor) {
  std::vector<std::byte> out(pvmfw::kMaxConfigDescriptorSize);
  auto n = pvmfw::config_descriptor(5, std::nullopt, out);
  ASSERT_TRUE(n.has_value());
  // {-70002: "vm_entry", -70005: 5}
  EXPECT_EQ(hex(Bytes(out).first(*n)), "a23a0001117168766d5f656e7472793a0001117405");
  Hash instance{};
  instance.fill(0xab);
  n = pvmfw::config_descriptor(0x100000000, instance, out);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(hex(Bytes(out).first(*n)),
            "a33a0001117168766d5f656e7472793a000111741b0000000100000000"
            "3a0001155a5840" +
                hex(instance));
  EXPECT_LE(*n, pvmfw::kMaxConfigDescriptorSize);
  std::vector<std::byte> small(10);
  EXPECT_EQ(pvmfw::config_descriptor(5, instance, small).error(), Error::kBufferTooSmall);
}

TEST(Pvmfw, AndroidConfigKnownAnswers) {
  auto kats = test::load_kats("android_config");
  if (kats.empty()) GTEST_SKIP() << "open-dice KATs not found at " << test::kats_source();
  for (const test::Kat& kat : kats) {
    SCOPED_TRACE(kat.name);
    AndroidConfig c;
    std::string name;
    if (kat.has("component_name")) {
      name = kat.at("component_name");
      c.component_name = name;
    }
    if (kat.has("component_version"))
      c.component_version = std::stoull(kat.at("component_version"));
    if (kat.has("security_version")) c.security_version = std::stoull(kat.at("security_version"));
    c.resettable = kat.has("resettable") && kat.at("resettable") == "true";
    c.rkp_vm_marker = kat.has("rkp_vm_marker") && kat.at("rkp_vm_marker") == "true";
    std::vector<std::byte> out(256);
    cbor::Writer w(out);
    write_android_config(c, w);
    ASSERT_TRUE(w.ok());
    EXPECT_EQ(hex(w.written()), kat.at("expected"));
  }
}

TEST(Pvmfw, Hidden) {
  std::array<uint8_t, 64> salt{};
  salt.fill(0x42);
  std::vector<uint8_t> layout(salt.begin(), salt.end());
  layout.push_back(pvmfw::kHiddenRkpVm);
  EXPECT_EQ(hex(pvmfw::hidden(salt, pvmfw::kHiddenRkpVm).value()), sha512_hex(layout));
  EXPECT_NE(pvmfw::hidden(salt, 0).value(), pvmfw::hidden(salt, pvmfw::kHiddenRkpVm).value());
  auto other = salt;
  other[63] ^= 1;
  EXPECT_NE(pvmfw::hidden(salt, 0).value(), pvmfw::hidden(other, 0).value());
}

TEST(Pvmfw, MakeInputs) {
  const std::vector<uint8_t> kernel(32, 1), initrd(32, 2), key(520, 3);
  pvmfw::Measurements m;
  m.kernel_digest = bytes(kernel);
  m.initrd_digest = bytes(initrd);
  m.avb_public_key = bytes(key);
  m.debug = true;
  m.security_version = 7;
  m.salt.fill(9);
  std::vector<std::byte> descriptor(pvmfw::kMaxConfigDescriptorSize);
  InputValues in;
  ASSERT_TRUE(pvmfw::make_inputs(m, descriptor, in).has_value());
  EXPECT_EQ(in.code_hash, pvmfw::code_hash(bytes(kernel), bytes(initrd)).value());
  EXPECT_EQ(in.authority_hash, pvmfw::authority_hash(bytes(key)).value());
  EXPECT_EQ(in.mode, Mode::kDebug);
  EXPECT_EQ(in.config_type, ConfigType::kDescriptor);
  EXPECT_EQ(hex(in.config_descriptor), "a23a0001117168766d5f656e7472793a0001117407");
  EXPECT_EQ(in.hidden, pvmfw::hidden(m.salt, 0).value());
}

TEST(Pvmfw, InstanceHashAndSalt) {
  std::vector<uint8_t> id(pvmfw::kInstanceIdSize);
  for (size_t i = 0; i < id.size(); ++i) id[i] = static_cast<uint8_t>(i);
  // SHA-512("InstanceId:" || 00 01 .. 3f), computed independently.
  const std::string expected =
      "bf209053b2300025138f4af791e5ec41604b479b1a45beadd592d2bbd716d117"
      "01deaf3ef0bec9f07c03dda439ca8fa258446d9eb26154d5349e06ca10432e73";
  EXPECT_EQ(hex(pvmfw::instance_hash(bytes(id)).value()), expected);
  EXPECT_EQ(pvmfw::instance_hash(bytes(std::vector<uint8_t>(63))).error(), Error::kInvalidInput);

  pvmfw::Measurements m;
  ASSERT_TRUE(pvmfw::set_instance(m, bytes(id)).has_value());
  ASSERT_TRUE(m.instance_hash);
  EXPECT_EQ(hex(*m.instance_hash), expected);
  EXPECT_EQ(hex(m.salt), expected);
  EXPECT_EQ(m.hidden_flags, pvmfw::kHiddenDeferredRollbackProtection);

  // Another instance: another salt and instance hash, hence other inputs.
  const std::vector<uint8_t> kernel(32, 1), key(520, 3);
  auto inputs_for = [&](const std::vector<uint8_t>& instance_id) {
    pvmfw::Measurements mm;
    mm.kernel_digest = bytes(kernel);
    mm.avb_public_key = bytes(key);
    EXPECT_TRUE(pvmfw::set_instance(mm, bytes(instance_id)).has_value());
    std::vector<std::byte> buf(pvmfw::kMaxConfigDescriptorSize);
    InputValues in;
    EXPECT_TRUE(pvmfw::make_inputs(mm, buf, in).has_value());
    return std::make_pair(in.hidden, hex(in.config_descriptor));
  };
  auto other = id;
  other[0] ^= 0x80;
  const auto a = inputs_for(id), b = inputs_for(other);
  EXPECT_NE(a.first, b.first);
  EXPECT_NE(a.second, b.second);
  EXPECT_EQ(a, inputs_for(id));
}

TEST(Pvmfw, PreviousStageIsStablePerDevice) {
  std::array<uint8_t, 32> uds{};
  uds.fill(0x5e);
  std::vector<std::byte> a(kHandoverRegionSize), b(kHandoverRegionSize), c(kHandoverRegionSize);
  auto na = pvmfw::previous_stage_handover(uds, a);
  auto nb = pvmfw::previous_stage_handover(uds, b);
  ASSERT_TRUE(na.has_value() && nb.has_value());
  EXPECT_EQ(hex(Bytes(a).first(*na)), hex(Bytes(b).first(*nb)));
  uds[0] ^= 1;
  auto nc = pvmfw::previous_stage_handover(uds, c);
  ASSERT_TRUE(nc.has_value());
  auto ha = parse_handover(Bytes(a).first(*na));
  auto hc = parse_handover(Bytes(c).first(*nc));
  ASSERT_TRUE(ha.has_value() && hc.has_value());
  EXPECT_NE(hex(ha->cdi_attest), hex(hc->cdi_attest));
  EXPECT_NE(hex(ha->cdi_seal), hex(hc->cdi_seal));
  std::vector<Certificate> views(1);
  auto chain = verify_chain(*ha->chain, views);
  ASSERT_TRUE(chain.has_value());
  EXPECT_EQ(chain->certificates, 1u);
  EXPECT_EQ(views[0].mode, 1);
  EXPECT_EQ(hex(*views[0].config_descriptor),
            "a13a00011171"
            "72" +
                hex(bytes(pvmfw::kPreviousStageName)));
}

// The refactoring onto first_layer_handover kept the bytes: the SHA-256 of
// the handover the code made before it, for UDS a0 a1 .. bf.
TEST(Pvmfw, PreviousStageBytesAreUnchanged) {
  std::array<uint8_t, 32> uds{};
  for (size_t i = 0; i < uds.size(); ++i) uds[i] = static_cast<uint8_t>(0xa0 + i);
  std::vector<std::byte> out(kHandoverRegionSize);
  auto n = pvmfw::previous_stage_handover(uds, out);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, 661u);
  std::array<uint8_t, 32> digest{};
  const Bytes parts[] = {Bytes(out).first(*n)};
  ASSERT_TRUE(sha256(parts, digest));
  EXPECT_EQ(hex(digest), "0b66d6d9a35aed6417ba68defd1619e3f869d77a34ac8a3c7bd688c07fb626f2");
}

// ---- The pvmfw stage (the hypervisor's first layer) ----------------------------

class PvmfwStage : public ::testing::Test {
 protected:
  PvmfwStage() {
    uds.fill(0x3c);
    image.resize(5000);
    for (size_t i = 0; i < image.size(); ++i) image[i] = static_cast<uint8_t>(i * 7 + 1);
    key.assign(1032, 0x4b);
  }
  pvmfw::PvmfwStageInputs stage() const { return {bytes(image), bytes(key), security_version}; }
  // The handover, or the test fails.
  std::vector<uint8_t> handover() {
    std::vector<std::byte> out(kHandoverRegionSize);
    auto n = pvmfw::pvmfw_stage_handover(uds, stage(), out);
    EXPECT_TRUE(n.has_value()) << (n ? "" : to_string(n.error()));
    return test::to_vector(Bytes(out).first(n.value_or(0)));
  }
  struct Cdis {
    std::string attest, seal;
  };
  Cdis cdis() {
    const std::vector<uint8_t> h = handover();
    auto parsed = parse_handover(bytes(h));
    EXPECT_TRUE(parsed.has_value());
    if (!parsed) return {};
    return {hex(parsed->cdi_attest), hex(parsed->cdi_seal)};
  }

  std::array<uint8_t, kCdiSize> uds{};
  std::vector<uint8_t> image, key;
  uint64_t security_version = 3;
};

TEST_F(PvmfwStage, ChainVerifiesAndNamesTheInputs) {
  const std::vector<uint8_t> h = handover();
  auto parsed = parse_handover(bytes(h));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->size, h.size());
  ASSERT_TRUE(parsed->chain.has_value());
  std::vector<Certificate> views(1);
  auto chain = verify_chain(*parsed->chain, views);
  ASSERT_TRUE(chain.has_value()) << to_string(chain.error().error);
  EXPECT_EQ(chain->certificates, 1u);

  // The root is the UDS's key, the certified key CDI_Attest's.
  Secret<kPrivateKeySize> priv;
  PublicKey root{}, leaf{};
  ASSERT_TRUE(derive_key_pair(uds, priv.span(), root).has_value());
  ASSERT_TRUE(derive_key_pair(parsed->cdi_attest, priv.span(), leaf).has_value());
  EXPECT_EQ(chain->root, root);
  EXPECT_EQ(chain->leaf, leaf);

  const Certificate& cert = views[0];
  EXPECT_EQ(hex(*cert.code_hash), sha512_hex(image));
  EXPECT_EQ(hex(*cert.authority_hash), sha512_hex(key));
  // {-70002: "pvmfw", -70005: 3}
  EXPECT_EQ(hex(*cert.config_descriptor), "a23a000111716570766d66773a0001117403");
  EXPECT_EQ(cert.mode, 1);

  // The CDIs are the main flow's from the UDS with those inputs.
  InputValues in;
  std::array<std::byte, pvmfw::kMaxFirstLayerDescriptorSize> descriptor{};
  ASSERT_TRUE(pvmfw::pvmfw_stage_inputs(stage(), descriptor, in).has_value());
  EXPECT_EQ(in.mode, Mode::kNormal);
  EXPECT_EQ(in.hidden, Hash{});
  EXPECT_EQ(hex(in.config_descriptor), hex(*cert.config_descriptor));
  Secret<kCdiSize> attest, seal;
  ASSERT_TRUE(derive_next_cdis(uds, uds, in, attest.span(), seal.span()).has_value());
  EXPECT_EQ(hex(parsed->cdi_attest), hex(attest.span()));
  EXPECT_EQ(hex(parsed->cdi_seal), hex(seal.span()));
}

TEST_F(PvmfwStage, SameInputsSameBytes) {
  const std::vector<uint8_t> a = handover(), b = handover();
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, b);
}

TEST_F(PvmfwStage, EachInputChangesTheCdis) {
  const Cdis base = cdis();
  ASSERT_FALSE(base.attest.empty());

  uds[31] ^= 1;  // another device: everything differs
  const Cdis other_uds = cdis();
  EXPECT_NE(other_uds.attest, base.attest);
  EXPECT_NE(other_uds.seal, base.seal);
  uds[31] ^= 1;

  image[image.size() - 1] ^= 1;  // another pvmfw: CDI_Attest only
  const Cdis other_image = cdis();
  EXPECT_NE(other_image.attest, base.attest);
  EXPECT_EQ(other_image.seal, base.seal);
  image.push_back(0);  // one byte longer
  EXPECT_NE(cdis().attest, other_image.attest);
  image.pop_back();
  image[image.size() - 1] ^= 1;

  key[500] ^= 1;  // another platform key: both
  const Cdis other_key = cdis();
  EXPECT_NE(other_key.attest, base.attest);
  EXPECT_NE(other_key.seal, base.seal);
  key[500] ^= 1;

  security_version = 4;  // the config: CDI_Attest only
  const Cdis other_version = cdis();
  EXPECT_NE(other_version.attest, base.attest);
  EXPECT_EQ(other_version.seal, base.seal);
  security_version = 3;

  const Cdis again = cdis();
  EXPECT_EQ(again.attest, base.attest);
  EXPECT_EQ(again.seal, base.seal);
}

TEST_F(PvmfwStage, SecurityVersionZeroIsStillInTheDescriptor) {
  security_version = 0;
  std::array<std::byte, pvmfw::kMaxFirstLayerDescriptorSize> descriptor{};
  InputValues in;
  ASSERT_TRUE(pvmfw::pvmfw_stage_inputs(stage(), descriptor, in).has_value());
  EXPECT_EQ(hex(in.config_descriptor), "a23a000111716570766d66773a0001117400");
  security_version = UINT64_MAX;
  ASSERT_TRUE(pvmfw::pvmfw_stage_inputs(stage(), descriptor, in).has_value());
  EXPECT_EQ(hex(in.config_descriptor), "a23a000111716570766d66773a000111741bffffffffffffffff");
}

TEST_F(PvmfwStage, Refusals) {
  std::vector<std::byte> out(kHandoverRegionSize, std::byte{0x77});
  auto no_image = pvmfw::pvmfw_stage_handover(uds, {Bytes{}, bytes(key), 0}, out);
  EXPECT_EQ(no_image.error(), Error::kInvalidInput);
  EXPECT_TRUE(std::all_of(out.begin(), out.end(), [](std::byte b) { return b == std::byte{0}; }));
  EXPECT_EQ(pvmfw::pvmfw_stage_handover(uds, {bytes(image), Bytes{}, 0}, out).error(),
            Error::kInvalidInput);
  // Too small for the handover: nothing left behind.
  std::vector<std::byte> small(200, std::byte{0x77});
  EXPECT_EQ(pvmfw::pvmfw_stage_handover(uds, stage(), small).error(), Error::kBufferTooSmall);
  EXPECT_TRUE(
      std::all_of(small.begin(), small.end(), [](std::byte b) { return b == std::byte{0}; }));
  // The output over the image, the key or the UDS.
  std::vector<uint8_t> shared(kHandoverRegionSize + 64, 1);
  auto region = std::as_writable_bytes(std::span(shared));
  const pvmfw::PvmfwStageInputs over_image{Bytes(region).first(64), bytes(key), 0};
  EXPECT_EQ(pvmfw::pvmfw_stage_handover(uds, over_image, region).error(), Error::kInvalidInput);
  const pvmfw::PvmfwStageInputs over_key{bytes(image), Bytes(region).last(32), 0};
  EXPECT_EQ(
      pvmfw::pvmfw_stage_handover(uds, over_key, region.first(kHandoverRegionSize + 40)).error(),
      Error::kInvalidInput);
  const std::span<const uint8_t, kCdiSize> uds_in_region(shared.data(), kCdiSize);
  EXPECT_EQ(pvmfw::pvmfw_stage_handover(uds_in_region, stage(), region).error(),
            Error::kInvalidInput);
}

}  // namespace
}  // namespace dice

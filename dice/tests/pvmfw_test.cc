// pvmfw's inputs: code/authority hashes, config descriptor (and open-dice's
// Android config known answers), hidden, and the stand-in previous stage.
#include <gtest/gtest.h>

#include <string>

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

}  // namespace
}  // namespace dice

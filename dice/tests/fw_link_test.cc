// The firmware's link of dice/, on the host: this test is linked with
// Debian's static libmbedcrypto.a and fw_link_guard.cc (linked whole), so
// the link fails if dice/ pulls anything but sha256.o, sha512.o and
// platform_util.o (ecp.o, bignum.o, md.o, hmac_drbg.o, constant_time.o ...
// each collide with a guard symbol). It then runs a whole DICE layer and
// verifies the chain it made: key derivation, signing and verification, all
// on p256.cc.
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "dice/crypto.h"
#include "dice/dice.h"
#include "dice/pvmfw.h"

namespace dice {
namespace {

TEST(FirmwareLink, WholeLayerWithShaOnlyFromMbedtls) {
  std::array<uint8_t, 32> uds{};
  uds.fill(0x42);
  std::vector<std::byte> previous(kHandoverRegionSize), next(kHandoverRegionSize);
  auto n1 = pvmfw::previous_stage_handover(uds, previous);
  ASSERT_TRUE(n1.has_value()) << to_string(n1.error());
  InputValues in;
  in.mode = Mode::kNormal;
  auto n2 = handover_main_flow(Bytes(previous).first(*n1), in, CertOptions{}, next);
  ASSERT_TRUE(n2.has_value()) << to_string(n2.error());
  auto h = parse_handover(Bytes(next).first(*n2));
  ASSERT_TRUE(h.has_value() && h->chain.has_value());
  auto chain = verify_chain(*h->chain);  // ECDSA verification, point addition
  ASSERT_TRUE(chain.has_value()) << to_string(chain.error().error);
  EXPECT_EQ(chain->certificates, 2u);
}

}  // namespace
}  // namespace dice

// The firmware's link, on the host: this test is linked like pvmfw is, with
// Debian's static libmbedcrypto.a, entry/rt/mbedtls_ct.cc and
// fw/mbedtls_ecp_stubs.cc linked whole, so hmac_drbg.o, md.o and
// constant_time.o are never pulled (a duplicate-symbol link error says one
// was). It then runs every P-256 operation and a whole DICE layer: were
// mbedTLS's internal RNG ever used, the failing stubs would make them fail.
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "dice/crypto.h"
#include "dice/dice.h"
#include "dice/pvmfw.h"

namespace dice {
namespace {

TEST(FirmwareLink, WholeLayerWithoutMbedtlsInternalRng) {
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

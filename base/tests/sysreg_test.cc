// The typed system registers encode and decode as the Arm ARM lays them out;
// the values are the ones pvmfw programs (docs/memory-map.md), written out.
#include "base/sysreg.h"

#include <gtest/gtest.h>

namespace base::sysreg {
namespace {

TEST(Sysreg, SctlrResetAndMmuOn) {
  // MMU off: only the RES1 bits (Armv8.0 behaviour of later features).
  EXPECT_EQ(Sctlr{}.value(), 0x30d00800u);
  Sctlr on;
  on.m = on.c = on.i = on.sa = on.sa0 = on.ntwi = on.ntwe = on.wxn = true;
  EXPECT_EQ(on.value(), 0x30dd181du);
  Sctlr wxn_only;
  wxn_only.wxn = true;
  EXPECT_EQ(wxn_only.value() & ~Sctlr::kRes1, 1u << 19);
}

TEST(Sysreg, Tcr39BitWalksCacheable) {
  Tcr t;
  t.t0sz = 25;
  t.irgn0 = t.orgn0 = Tcr::Cacheability::kWriteBackWriteAllocate;
  t.sh0 = Tcr::Shareability::kInner;
  t.tg0 = Tcr::Granule::k4KiB;
  t.epd1 = true;
  t.ips = 5;  // 48-bit PA
  EXPECT_EQ(t.value(), 0x500803519ull);
  t.ips = 9;  // only three bits exist
  EXPECT_EQ(t.value() >> 32, 1u);
}

TEST(Sysreg, MairBytes) {
  Mair m;
  m.attr[0] = Mair::kDeviceNgnre;
  m.attr[1] = Mair::kNormalWriteBack;
  EXPECT_EQ(m.value(), 0xff04u);
  m.attr[7] = 0x44;
  EXPECT_EQ(m.value() >> 56, 0x44u);
}

TEST(Sysreg, IdRegisterFields) {
  // QEMU -cpu max: SHA2 = 2, RNDR = 1; Cortex-A57: SHA2 = 1, no RNDR.
  const IdAa64Isar0 max{0x1221'1111'1011'2120ull};
  EXPECT_EQ(max.sha2(), 2u);
  EXPECT_TRUE(max.has_sha512());
  EXPECT_TRUE(max.has_rndr());
  const IdAa64Isar0 a57{0x0000'0000'0001'1120ull};
  EXPECT_TRUE(a57.has_sha256());
  EXPECT_FALSE(a57.has_sha512());
  EXPECT_FALSE(a57.has_rndr());
  const IdAa64Pfr0 pfr{0x0000'0000'0100'2222ull};
  EXPECT_EQ(pfr.el2(), 2u);
  EXPECT_EQ(pfr.gic(), 1u);
  EXPECT_EQ(IdAa64Mmfr0{0x5}.parange(), 5u);
}

TEST(Sysreg, EsrDecode) {
  // A store to a read-only page at EL1: data abort, same EL, WnR, level-3
  // permission fault (the W^X test's syndrome).
  const Esr store{0x9600004full};
  EXPECT_EQ(store.ec(), Esr::kEcDataAbort);
  EXPECT_TRUE(store.il());
  EXPECT_TRUE(store.wnr());
  EXPECT_EQ(store.fsc(), 0x0fu);
  EXPECT_STREQ(store.ec_name(), "data abort");
  const Esr fetch{0x8600000full};
  EXPECT_EQ(fetch.ec(), Esr::kEcInstructionAbort);
  EXPECT_STREQ(fetch.ec_name(), "instruction abort");
  EXPECT_STREQ(Esr{0}.ec_name(), "unknown/undefined instruction");
}

}  // namespace
}  // namespace base::sysreg

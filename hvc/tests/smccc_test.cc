#include <gtest/gtest.h>

#include "hvc/fake.h"
#include "hvc/psci.h"
#include "hvc/smccc.h"

namespace hvc {
namespace {

Result kvm_like(Conduit, uint32_t fid, const Args&) {
  switch (fid) {
    case fid::kSmcccVersion:
      return {0x10001, 0, 0, 0};
    case fid::kVendorHypCallUid:
      return {0xb66fb428, 0xe911c52e, 0x564bcaa9, 0x743a004d};
    case psci::kVersion:
      return {0x10000, 0, 0, 0};
    case psci::kSystemReset:
      return {0xffff'ffff, 0, 0, 0};  // SMC32 -1 in the low word
    default:
      return {static_cast<uint64_t>(-1), 0, 0, 0};
  }
}

class SmcccTest : public ::testing::Test {
 protected:
  void TearDown() override { fake::set_handler(nullptr); }
};

TEST_F(SmcccTest, PlainQemuHasNothing) {
  EXPECT_EQ(smccc_version(Conduit::kHvc).error(), Status::kNotSupported);
  EXPECT_FALSE(hypervisor_is_kvm(Conduit::kHvc));
  EXPECT_EQ(psci::system_off(Conduit::kHvc), Status::kNotSupported);
}

TEST_F(SmcccTest, DecodesVersionsAndUid) {
  fake::set_handler(kvm_like);
  auto v = smccc_version(Conduit::kHvc);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->major, 1);
  EXPECT_EQ(v->minor, 1);
  EXPECT_TRUE(hypervisor_is_kvm(Conduit::kHvc));
  auto p = psci::version(Conduit::kSmc);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->major, 1);
  EXPECT_EQ(p->minor, 0);
  EXPECT_EQ(psci::system_reset(Conduit::kHvc), Status::kNotSupported);
}

TEST_F(SmcccTest, WrongUidIsNotKvm) {
  fake::set_handler([](Conduit, uint32_t, const Args&) { return Result{1, 2, 3, 4}; });
  EXPECT_FALSE(hypervisor_is_kvm(Conduit::kHvc));
}

}  // namespace
}  // namespace hvc

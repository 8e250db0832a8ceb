#include "hvc/kvm.h"

#include <gtest/gtest.h>

#include "hvc/fake.h"

namespace hvc {
namespace {

// A pKVM-like hypervisor: every call of pkvm-abi.md answered.
int g_no_entropy_left = 0;
Result pkvm(Conduit, uint32_t f, const Args& a) {
  constexpr uint64_t kNotSupported = static_cast<uint64_t>(-1);
  switch (f) {
    case fid::kVendorHypCallUid:
      return {0xb66fb428, 0xe911c52e, 0x564bcaa9, 0x743a004d};
    case fid::kKvmFeatures:
      return {(1u << 2) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 7) | (1u << 8),
              0, 0, 0};
    case fid::kHypMeminfo:
    case fid::kMmioGuardInfo:
      return {4096, 0, 0, 0};
    case fid::kMemShare:
    case fid::kMmioGuardMap:
      return {a.x1 % 4096 == 0 ? 0 : static_cast<uint64_t>(-3), 0, 0, 0};
    case fid::kSmcccVersion:
      return {0x10001, 0, 0, 0};
    case fid::kTrngVersion:
      return {0x10000, 0, 0, 0};
    case fid::kTrngFeatures:
      return {a.x1 == fid::kTrngRnd64 ? 0 : kNotSupported, 0, 0, 0};
    case fid::kTrngRnd64:
      if (g_no_entropy_left > 0) {
        --g_no_entropy_left;
        return {static_cast<uint64_t>(-3), 0, 0, 0};
      }
      return {0, 0x1111, 0x2222, 0x3333};
    default:
      return {kNotSupported, 0, 0, 0};
  }
}

class KvmTest : public ::testing::Test {
 protected:
  void TearDown() override { fake::set_handler(nullptr); }
};

TEST_F(KvmTest, PlainQemuIsUnprotected) {
  Hypervisor h = discover(Conduit::kHvc);
  EXPECT_FALSE(h.kvm);
  EXPECT_FALSE(h.protected_vm);
  EXPECT_FALSE(trng_available(Conduit::kHvc));
  EXPECT_EQ(trng_rnd192(Conduit::kHvc).error(), Status::kNotSupported);
  EXPECT_EQ(mmio_guard_enroll(Conduit::kHvc), Status::kNotSupported);
}

TEST_F(KvmTest, DiscoversPkvm) {
  fake::set_handler(pkvm);
  Hypervisor h = discover(Conduit::kHvc);
  EXPECT_TRUE(h.kvm);
  EXPECT_TRUE(h.protected_vm);
  EXPECT_EQ(h.memory_granule, 4096u);
  EXPECT_EQ(h.mmio_granule, 4096u);
  EXPECT_TRUE(h.features.has(fid::kMemShare));
  EXPECT_FALSE(h.features.has(0xc6000009));
  EXPECT_EQ(mem_share(Conduit::kHvc, 0x40001000), Status::kSuccess);
  EXPECT_EQ(mem_share(Conduit::kHvc, 0x40001001), Status::kInvalidParameter);
  EXPECT_EQ(mmio_guard_map(Conduit::kHvc, 0x9000000), Status::kSuccess);
}

TEST_F(KvmTest, KvmWithoutMemoryCallsIsNotProtected) {
  fake::set_handler([](Conduit c, uint32_t f, const Args& a) {
    if (f == fid::kKvmFeatures) return Result{1u << 2, 0, 0, 0};  // MEMINFO only
    return pkvm(c, f, a);
  });
  Hypervisor h = discover(Conduit::kHvc);
  EXPECT_TRUE(h.kvm);
  EXPECT_FALSE(h.protected_vm);
}

TEST_F(KvmTest, BadGuardGranuleMeansNoGuard) {
  fake::set_handler([](Conduit c, uint32_t f, const Args& a) {
    if (f == fid::kMmioGuardInfo) return Result{3000, 0, 0, 0};  // not a power of two
    return pkvm(c, f, a);
  });
  const Hypervisor h = discover(Conduit::kHvc);
  EXPECT_TRUE(h.protected_vm);
  EXPECT_FALSE(h.mmio_guard());
}

TEST_F(KvmTest, BadMemoryGranuleIsNotProtected) {
  fake::set_handler([](Conduit c, uint32_t f, const Args& a) {
    if (f == fid::kHypMeminfo) return Result{static_cast<uint64_t>(-3), 0, 0, 0};
    return pkvm(c, f, a);
  });
  EXPECT_FALSE(discover(Conduit::kHvc).protected_vm);
}

// A VM created without the MMIO guard (docs/hypervisor.md): protected memory,
// no guard bits, and INFO is not even asked.
TEST_F(KvmTest, ProtectedWithoutGuard) {
  fake::set_handler([](Conduit c, uint32_t f, const Args& a) {
    if (f == fid::kKvmFeatures) return Result{(1u << 2) | (1u << 3) | (1u << 4), 0, 0, 0};
    if (f == fid::kMmioGuardInfo) ADD_FAILURE() << "INFO asked without the feature bit";
    return pkvm(c, f, a);
  });
  const Hypervisor h = discover(Conduit::kHvc);
  EXPECT_TRUE(h.protected_vm);
  EXPECT_FALSE(h.mmio_guard());
  EXPECT_EQ(h.memory_granule, 4096u);
}

TEST_F(KvmTest, TrngRetriesNoEntropy) {
  fake::set_handler(pkvm);
  ASSERT_TRUE(trng_available(Conduit::kHvc));
  g_no_entropy_left = 5;
  auto r = trng_rnd192(Conduit::kHvc);
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)[0], 0x1111u);
  EXPECT_EQ((*r)[2], 0x3333u);
  g_no_entropy_left = 1000;
  EXPECT_FALSE(trng_rnd192(Conduit::kHvc, 10));
  g_no_entropy_left = 0;
}

}  // namespace
}  // namespace hvc

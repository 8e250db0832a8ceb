#include "vm/vm.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <deque>
#include <set>
#include <vector>

#include "vm/abi.h"

namespace hyp {
namespace {

constexpr uint64_t kRam = 0x4000'0000;
constexpr uint64_t kRamSize = 64 * kGranule;
constexpr uint64_t kUart = 0x0900'0000;
constexpr uint64_t kRtc = 0x0901'0000;
constexpr uint64_t kFwCfg = 0x0902'0000;
constexpr uint64_t kVirtio = 0x0a00'0000;
constexpr std::array<Region, 3> kDevices = {Region{kUart, kGranule}, Region{kRtc, kGranule},
                                            Region{kVirtio, 0x4000}};

constexpr uint64_t u64(int64_t v) { return static_cast<uint64_t>(v); }

// The VM's stage 2 as the library sees it: the set of mapped device granules
// and every operation in order; entropy from a queue.
struct FakeStage2 {
  std::set<uint64_t> mapped;
  std::vector<uint64_t> maps, unmaps;
  bool map_ok = true;
  std::deque<uint64_t> entropy;

  static bool map(void* ctx, uint64_t ipa) {
    auto* s = static_cast<FakeStage2*>(ctx);
    s->maps.push_back(ipa);
    if (!s->map_ok) return false;
    s->mapped.insert(ipa);
    return true;
  }
  static void unmap(void* ctx, uint64_t ipa) {
    auto* s = static_cast<FakeStage2*>(ctx);
    s->unmaps.push_back(ipa);
    s->mapped.erase(ipa);
  }
  static bool random(void* ctx, uint64_t* out) {
    auto* s = static_cast<FakeStage2*>(ctx);
    if (s->entropy.empty()) return false;
    *out = s->entropy.front();
    s->entropy.pop_front();
    return true;
  }
  Stage2Ops ops(bool with_rng = true) {
    return Stage2Ops{this, &map, &unmap, with_rng ? &random : nullptr};
  }
};

VmConfig config(bool guard) {
  return VmConfig{
      .ram_ipa = kRam, .ram_size = kRamSize, .mmio_guard = guard, .devices = kDevices, .vcpus = 2};
}

// Storage for one Vm, as the hypervisor keeps it (a constinit byte array).
struct VmStorage {
  alignas(Vm) unsigned char bytes[sizeof(Vm)];
};

class VmTest : public ::testing::Test {
 protected:
  void create(bool guard, bool with_rng = true) {
    auto made = Vm::create(vm_storage_.bytes, config(guard), fake_.ops(with_rng), storage_);
    ASSERT_TRUE(made.has_value());
    vm_ = *made;
  }

  // One call; checks that registers beyond x3 are never touched.
  CallExit call(uint64_t x0, uint64_t x1 = 0, uint64_t x2 = 0, uint64_t x3 = 0) {
    for (size_t i = 0; i < 31; ++i) regs_.x[i] = 0x5a5a'0000 + i;
    regs_.x[0] = x0;
    regs_.x[1] = x1;
    regs_.x[2] = x2;
    regs_.x[3] = x3;
    const CallExit e = vm_->handle_call(regs_);
    for (size_t i = 4; i < 31; ++i) EXPECT_EQ(regs_.x[i], 0x5a5a'0000 + i) << "x" << i;
    return e;
  }
  // x0 of a call that must resume the guest.
  int64_t status(uint64_t x0, uint64_t x1 = 0, uint64_t x2 = 0, uint64_t x3 = 0) {
    const CallExit e = call(x0, x1, x2, x3);
    EXPECT_EQ(e.kind, CallExit::Kind::kResume);
    return static_cast<int64_t>(regs_.x[0]);
  }
  void expect_results(uint64_t x0, uint64_t x1, uint64_t x2, uint64_t x3) {
    EXPECT_EQ(regs_.x[0], x0);
    EXPECT_EQ(regs_.x[1], x1);
    EXPECT_EQ(regs_.x[2], x2);
    EXPECT_EQ(regs_.x[3], x3);
  }
  PageState state(uint64_t ipa) { return vm_->page_state(ipa).value(); }

  FakeStage2 fake_;
  std::array<uint64_t, Vm::state_words(kRamSize)> storage_{};
  VmStorage vm_storage_{};
  Vm* vm_ = nullptr;
  GuestRegs regs_{};
};

// --- Creation ---

TEST(PageStateWords, OneBitPerPage) {
  EXPECT_EQ(Vm::state_words(0), 0u);
  EXPECT_EQ(Vm::state_words(kGranule), 1u);
  EXPECT_EQ(Vm::state_words(64 * kGranule), 1u);
  EXPECT_EQ(Vm::state_words(65 * kGranule), 2u);
  EXPECT_EQ(Vm::state_words(kMaxRamSize), 16384u);
}

TEST(VmCreate, AcceptsTheQemuVirtVm) {
  FakeStage2 fake;
  std::vector<uint64_t> storage(Vm::state_words(kMaxRamSize), ~uint64_t{0});
  VmStorage vm_storage;
  VmConfig c = config(true);
  c.ram_size = kMaxRamSize;
  c.vcpus = kMaxVcpus;
  auto made = Vm::create(vm_storage.bytes, c, fake.ops(), storage);
  ASSERT_TRUE(made.has_value());
  ASSERT_EQ(static_cast<void*>(*made), static_cast<void*>(vm_storage.bytes));
  const Vm& vm = **made;
  EXPECT_TRUE(vm.guard_offered());
  EXPECT_FALSE(vm.enrolled());
  EXPECT_EQ(vm.shared_pages(), 0u);
  // The storage was zeroed: every page starts private.
  EXPECT_EQ(vm.page_state(kRam), PageState::kPrivate);
  EXPECT_EQ(vm.page_state(kRam + kMaxRamSize - 1), PageState::kPrivate);
  EXPECT_EQ(vm.page_state(kRam + kMaxRamSize), std::nullopt);
  EXPECT_EQ(vm.page_state(kRam - 1), std::nullopt);
  EXPECT_TRUE(vm.is_device(kUart + 0xfff));
  EXPECT_TRUE(vm.is_device(kVirtio + 0x3fff));
  EXPECT_FALSE(vm.is_device(kVirtio + 0x4000));
  EXPECT_FALSE(vm.is_device(kFwCfg));
  EXPECT_EQ(vm.mapped_device_granules(), 0u);
  EXPECT_TRUE(fake.maps.empty());
}

TEST(VmCreate, RefusesBadConfigsWithNamedErrors) {
  FakeStage2 fake;
  std::array<uint64_t, 64> storage{};
  const auto refuse = [&](const VmConfig& c, const Stage2Ops& ops,
                          std::span<uint64_t> pages) -> std::optional<VmError> {
    VmStorage vm_storage{};
    auto r = Vm::create(vm_storage.bytes, c, ops, pages);
    if (r) return std::nullopt;
    return r.error();
  };
  const Stage2Ops ops = fake.ops();

  Stage2Ops no_map = ops;
  no_map.map_device = nullptr;
  EXPECT_EQ(refuse(config(false), no_map, storage), VmError::kMissingOps);
  Stage2Ops no_unmap = ops;
  no_unmap.unmap_device = nullptr;
  EXPECT_EQ(refuse(config(false), no_unmap, storage), VmError::kMissingOps);
  // Without random64 the VM is valid (TRNG not offered).
  Stage2Ops no_rng = ops;
  no_rng.random64 = nullptr;
  EXPECT_EQ(refuse(config(false), no_rng, storage), std::nullopt);

  VmConfig c = config(false);
  c.ram_size = 0;
  EXPECT_EQ(refuse(c, ops, storage), VmError::kBadRam);
  c = config(false);
  c.ram_ipa = kRam + 0x800;
  EXPECT_EQ(refuse(c, ops, storage), VmError::kBadRam);
  c = config(false);
  c.ram_size = kRamSize + 0x10;
  EXPECT_EQ(refuse(c, ops, storage), VmError::kBadRam);
  c = config(false);
  c.ram_ipa = 0xffff'ffff'ffff'0000;
  c.ram_size = 0x20000;  // wraps
  EXPECT_EQ(refuse(c, ops, storage), VmError::kBadRam);
  c = config(false);
  c.ram_ipa = 0xffff'ffff'ffff'0000;
  c.ram_size = 0x10000;  // ends at 2^64: its end is not a uint64_t
  EXPECT_EQ(refuse(c, ops, storage), VmError::kBadRam);
  c.ram_size = 0xf000;  // the last page of the address space is not RAM's
  EXPECT_EQ(refuse(c, ops, storage), std::nullopt);
  c = config(false);
  c.ram_size = kMaxRamSize + kGranule;
  EXPECT_EQ(refuse(c, ops, storage), VmError::kRamTooLarge);

  c = config(false);
  EXPECT_EQ(refuse(c, ops, std::span<uint64_t>{}), VmError::kStorageTooSmall);
  c.ram_size = 65 * kGranule;
  EXPECT_EQ(refuse(c, ops, std::span(storage).first(1)), VmError::kStorageTooSmall);
  EXPECT_EQ(refuse(c, ops, std::span(storage).first(2)), std::nullopt);

  c = config(false);
  c.vcpus = 0;
  EXPECT_EQ(refuse(c, ops, storage), VmError::kBadVcpus);
  c.vcpus = kMaxVcpus + 1;
  EXPECT_EQ(refuse(c, ops, storage), VmError::kBadVcpus);

  std::array<Region, kMaxDevices + 1> many{};
  for (size_t i = 0; i < many.size(); ++i) many[i] = Region{0x1000'0000 + i * kGranule, kGranule};
  c = config(false);
  c.devices = many;
  EXPECT_EQ(refuse(c, ops, storage), VmError::kTooManyDevices);
  c.devices = std::span(many).first(kMaxDevices);
  EXPECT_EQ(refuse(c, ops, storage), std::nullopt);
  const std::array<Region, 1> huge = {Region{0x1000'0000, (kMaxDeviceGranules + 1) * kGranule}};
  c.devices = huge;
  EXPECT_EQ(refuse(c, ops, storage), VmError::kTooManyDevices);
  const std::array<Region, 1> full = {Region{0x1000'0000, kMaxDeviceGranules * kGranule}};
  c.devices = full;
  EXPECT_EQ(refuse(c, ops, storage), std::nullopt);

  for (const Region bad : {Region{kUart, 0}, Region{kUart + 0x10, kGranule}, Region{kUart, 0x10},
                           Region{0xffff'ffff'ffff'f000, 0x2000}}) {
    const std::array<Region, 2> devices = {Region{kRtc, kGranule}, bad};
    c.devices = devices;
    EXPECT_EQ(refuse(c, ops, storage), VmError::kBadDevice) << std::hex << bad.base;
  }
  for (const Region in_ram : {Region{kRam, kGranule}, Region{kRam - kGranule, 2 * kGranule},
                              Region{kRam + kRamSize - kGranule, 0x10000}}) {
    const std::array<Region, 1> devices = {in_ram};
    c.devices = devices;
    EXPECT_EQ(refuse(c, ops, storage), VmError::kDeviceInRam) << std::hex << in_ram.base;
  }
  // Touching RAM is fine.
  const std::array<Region, 2> touching = {Region{kRam - kGranule, kGranule},
                                          Region{kRam + kRamSize, kGranule}};
  c.devices = touching;
  EXPECT_EQ(refuse(c, ops, storage), std::nullopt);
  const std::array<Region, 2> overlap = {Region{kVirtio, 0x4000}, Region{kVirtio + 0x3000, 0x2000}};
  c.devices = overlap;
  EXPECT_EQ(refuse(c, ops, storage), VmError::kDeviceOverlap);
  // Nothing was mapped or unmapped by any of it.
  EXPECT_TRUE(fake.maps.empty());
  EXPECT_TRUE(fake.unmaps.empty());
}

TEST(VmCreate, ARefusalWritesNothing) {
  FakeStage2 fake;
  std::array<uint64_t, 4> storage = {1, 2, 3, 4};
  VmStorage vm_storage;
  for (unsigned char& b : vm_storage.bytes) b = 0xa5;
  VmConfig c = config(false);
  c.vcpus = 0;
  ASSERT_FALSE(Vm::create(vm_storage.bytes, c, fake.ops(), storage).has_value());
  EXPECT_EQ(storage[0], 1u);
  for (unsigned char b : vm_storage.bytes) ASSERT_EQ(b, 0xa5);
  ASSERT_TRUE(Vm::create(vm_storage.bytes, config(false), fake.ops(), storage).has_value());
  EXPECT_EQ(storage[0], 0u);
  EXPECT_EQ(storage[1], 2u);  // only Vm::state_words(ram_size) words are the Vm's
}

TEST(VmCreate, RefusesStorageThatCannotHoldAVm) {
  FakeStage2 fake;
  std::array<uint64_t, 4> storage{};
  EXPECT_EQ(Vm::create(nullptr, config(false), fake.ops(), storage).error(), VmError::kBadStorage);
  alignas(Vm) unsigned char bytes[sizeof(Vm) + alignof(Vm)];
  EXPECT_EQ(Vm::create(bytes + 1, config(false), fake.ops(), storage).error(),
            VmError::kBadStorage);
}

TEST(VmCreate, ErrorNamesAreStable) {
  EXPECT_STREQ(to_string(VmError::kBadStorage), "BAD_STORAGE");
  EXPECT_STREQ(to_string(VmError::kMissingOps), "MISSING_OPS");
  EXPECT_STREQ(to_string(VmError::kBadRam), "BAD_RAM");
  EXPECT_STREQ(to_string(VmError::kRamTooLarge), "RAM_TOO_LARGE");
  EXPECT_STREQ(to_string(VmError::kStorageTooSmall), "STORAGE_TOO_SMALL");
  EXPECT_STREQ(to_string(VmError::kBadVcpus), "BAD_VCPUS");
  EXPECT_STREQ(to_string(VmError::kTooManyDevices), "TOO_MANY_DEVICES");
  EXPECT_STREQ(to_string(VmError::kBadDevice), "BAD_DEVICE");
  EXPECT_STREQ(to_string(VmError::kDeviceInRam), "DEVICE_IN_RAM");
  EXPECT_STREQ(to_string(VmError::kDeviceOverlap), "DEVICE_OVERLAP");
  EXPECT_STREQ(to_string(CallExit::Kind::kPsciForward), "psci-forward");
  EXPECT_STREQ(to_string(AbortExit::kInject), "inject");
}

// --- Discovery ---

TEST_F(VmTest, SmcccVersionAndArchFeatures) {
  create(false);
  EXPECT_EQ(status(abi::kSmcccVersion), 0x10001);
  expect_results(0x10001, 0, 0, 0);
  EXPECT_EQ(status(abi::kSmcccArchFeatures, abi::kSmcccVersion), 0);
  EXPECT_EQ(status(abi::kSmcccArchFeatures, abi::kSmcccArchFeatures), 0);
  for (uint32_t id : {abi::kSmcccArchWorkaround1, abi::kSmcccArchWorkaround2,
                      abi::kSmcccArchWorkaround3, abi::kSmcccArchSocId, abi::kMemShare}) {
    EXPECT_EQ(status(abi::kSmcccArchFeatures, id), -1) << std::hex << id;
    expect_results(u64(-1), 0, 0, 0);
  }
  // ARCH_FEATURES is SMC32: the queried ID is w1.
  EXPECT_EQ(status(abi::kSmcccArchFeatures, 0xffff'ffff'0000'0000 | abi::kSmcccVersion), 0);
}

TEST_F(VmTest, TheFunctionIdIsW0) {
  create(true);
  // SMCCC passes the function ID in W0: the upper half of x0 is not read, for
  // SMC32 and SMC64 IDs alike.
  EXPECT_EQ(status(0xdead'beef'0000'0000 | abi::kSmcccVersion), 0x10001);
  EXPECT_EQ(status(0xffff'ffff'0000'0000 | abi::kHypMeminfo), 4096);
  EXPECT_EQ(status(0x1'0000'0000 | abi::kMemShare, kRam), 0);
  EXPECT_EQ(state(kRam), PageState::kShared);
  // A forwarded call carries the clean ID.
  EXPECT_EQ(call(0xffff'ffff'0000'0000 | abi::kPsciVersion).kind, CallExit::Kind::kPsciForward);
  EXPECT_EQ(regs_.x[0], abi::kPsciVersion);
}

TEST_F(VmTest, VendorHypUidIsKvm) {
  create(false);
  EXPECT_EQ(status(abi::kVendorHypCallUid), 0xb66f'b428);
  expect_results(0xb66f'b428, 0xe911'c52e, 0x564b'caa9, 0x743a'004d);
}

TEST_F(VmTest, KvmFeaturesWithoutTheGuard) {
  create(false);
  EXPECT_EQ(status(abi::kKvmFeatures), 0b1'1101);
  expect_results(0b1'1101, 0, 0, 0);
}

TEST_F(VmTest, KvmFeaturesWithTheGuard) {
  create(true);
  EXPECT_EQ(status(abi::kKvmFeatures), 0b1'1111'1101);
  expect_results(0b1'1111'1101, 0, 0, 0);
}

TEST_F(VmTest, HypMeminfo) {
  create(false);
  EXPECT_EQ(status(abi::kHypMeminfo), 4096);
  expect_results(4096, 0, 0, 0);
  EXPECT_EQ(status(abi::kHypMeminfo, 1), -3);
  EXPECT_EQ(status(abi::kHypMeminfo, 0, 1), -3);
  EXPECT_EQ(status(abi::kHypMeminfo, 0, 0, 1), -3);
}

TEST_F(VmTest, UnknownCallsAreNotSupported) {
  create(true);
  for (uint64_t id : std::initializer_list<uint64_t>{
           abi::kMemRelinquish, 0xc600'0001 /* PTP */, 0xc600'0000 /* SMC64 FEATURES */,
           0x8600'0003 /* SMC32 MEM_SHARE */, 0x4600'0003 /* yielding MEM_SHARE */,
           0x8600'ff00 /* call count */, 0x8600'ff03 /* revision */, 0xc610'0003 /* bits 23:16 */,
           0x8400'0005 /* MIGRATE */, 0xc400'0007 /* MIGRATE_INFO_UP_CPU */,
           0x8400'0012 /* SYSTEM_RESET2 */, 0x8400'000e /* SYSTEM_SUSPEND */,
           0x8400'0054 /* after TRNG */, 0x8200'0000 /* SiP */, 0xb200'0000 /* TOS */,
           0xc600'0012 /* DEV_REQ_MMIO */, 0, 0xffff'ffff}) {
    EXPECT_EQ(status(id, 1, 2, 3), -1) << std::hex << id;
    expect_results(u64(-1), 0, 0, 0);
  }
  EXPECT_EQ(vm_->shared_pages(), 0u);
  EXPECT_FALSE(vm_->enrolled());
}

// --- Memory sharing ---

TEST_F(VmTest, ShareAndUnshareOnePage) {
  create(false);
  const uint64_t page = kRam + 5 * kGranule;
  EXPECT_EQ(status(abi::kMemShare, page), 0);
  expect_results(0, 0, 0, 0);
  EXPECT_EQ(state(page), PageState::kShared);
  EXPECT_EQ(state(page + kGranule - 1), PageState::kShared);
  EXPECT_EQ(state(page - 1), PageState::kPrivate);
  EXPECT_EQ(state(page + kGranule), PageState::kPrivate);
  EXPECT_EQ(vm_->shared_pages(), 1u);
  // No double share.
  EXPECT_EQ(status(abi::kMemShare, page), -3);
  EXPECT_EQ(vm_->shared_pages(), 1u);
  EXPECT_EQ(status(abi::kMemUnshare, page), 0);
  EXPECT_EQ(state(page), PageState::kPrivate);
  EXPECT_EQ(vm_->shared_pages(), 0u);
  // Unsharing a private page.
  EXPECT_EQ(status(abi::kMemUnshare, page), -3);
  EXPECT_EQ(vm_->shared_pages(), 0u);
  // x2 = 1 is one granule too.
  EXPECT_EQ(status(abi::kMemShare, page, 1), 0);
  EXPECT_EQ(state(page + kGranule), PageState::kPrivate);
  EXPECT_EQ(status(abi::kMemUnshare, page, 1), 0);
  EXPECT_TRUE(fake_.maps.empty());
}

TEST_F(VmTest, ShareRefusesWhatIsNotAGranuleOfRam) {
  create(false);
  for (uint64_t ipa : {kRam + 1, kRam + kGranule / 2, kRam - kGranule, kRam + kRamSize, uint64_t{0},
                       kUart, kFwCfg, ~uint64_t{0} & ~(kGranule - 1)}) {
    EXPECT_EQ(status(abi::kMemShare, ipa), -3) << std::hex << ipa;
    EXPECT_EQ(status(abi::kMemUnshare, ipa), -3) << std::hex << ipa;
  }
  // x3 must be 0.
  EXPECT_EQ(status(abi::kMemShare, kRam, 0, 1), -3);
  EXPECT_EQ(vm_->shared_pages(), 0u);
  // The first and last pages are RAM.
  EXPECT_EQ(status(abi::kMemShare, kRam), 0);
  EXPECT_EQ(status(abi::kMemShare, kRam + kRamSize - kGranule), 0);
  EXPECT_EQ(vm_->shared_pages(), 2u);
}

TEST_F(VmTest, ShareCountIsAllOrNothing) {
  create(false);
  const uint64_t base = kRam + 60 * kGranule;
  // Four granules up to the end of RAM; five would pass it.
  EXPECT_EQ(status(abi::kMemShare, kRam + 61 * kGranule, 4), -3);
  EXPECT_EQ(status(abi::kMemShare, base, 4), 0);
  EXPECT_EQ(vm_->shared_pages(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(state(base + i * kGranule), PageState::kShared);

  // A range with one page already shared is refused whole.
  EXPECT_EQ(status(abi::kMemShare, kRam + 58 * kGranule, 3), -3);
  EXPECT_EQ(state(kRam + 58 * kGranule), PageState::kPrivate);
  EXPECT_EQ(state(kRam + 59 * kGranule), PageState::kPrivate);
  EXPECT_EQ(vm_->shared_pages(), 4u);
  // Unsharing a range with a private page in it: the same.
  EXPECT_EQ(status(abi::kMemUnshare, kRam + 59 * kGranule, 2), -3);
  EXPECT_EQ(state(base), PageState::kShared);
  // Counts that would overflow the address computation.
  for (uint64_t n : {uint64_t{1} << 52, ~uint64_t{0}, ~uint64_t{0} / kGranule + 1}) {
    EXPECT_EQ(status(abi::kMemShare, kRam, n), -3);
    EXPECT_EQ(status(abi::kMemUnshare, base, n), -3);
  }
  EXPECT_EQ(vm_->shared_pages(), 4u);

  EXPECT_EQ(status(abi::kMemUnshare, base + kGranule, 2), 0);
  EXPECT_EQ(state(base), PageState::kShared);
  EXPECT_EQ(state(base + kGranule), PageState::kPrivate);
  EXPECT_EQ(state(base + 3 * kGranule), PageState::kShared);
  EXPECT_EQ(vm_->shared_pages(), 2u);
}

TEST_F(VmTest, ShareAllOfRamAcrossWords) {
  create(false);
  EXPECT_EQ(status(abi::kMemShare, kRam + 3 * kGranule, 61), 0);
  EXPECT_EQ(status(abi::kMemShare, kRam, 3), 0);
  EXPECT_EQ(vm_->shared_pages(), 64u);
  EXPECT_EQ(status(abi::kMemShare, kRam + 63 * kGranule), -3);
  EXPECT_EQ(status(abi::kMemUnshare, kRam, 64), 0);
  EXPECT_EQ(vm_->shared_pages(), 0u);
}

TEST(VmShare, LargeRamRangesCrossingManyWords) {
  FakeStage2 fake;
  constexpr uint64_t size = 1000 * kGranule;
  std::vector<uint64_t> storage(Vm::state_words(size));
  VmStorage vm_storage;
  VmConfig c = config(false);
  c.ram_size = size;
  auto made = Vm::create(vm_storage.bytes, c, fake.ops(), storage);
  ASSERT_TRUE(made.has_value());
  Vm& vm = **made;
  GuestRegs regs{};
  const auto call = [&](uint64_t id, uint64_t ipa, uint64_t n) {
    regs.x[0] = id;
    regs.x[1] = ipa;
    regs.x[2] = n;
    regs.x[3] = 0;
    (void)vm.handle_call(regs);
    return static_cast<int64_t>(regs.x[0]);
  };
  EXPECT_EQ(call(abi::kMemShare, kRam + 500 * kGranule, 1), 0);
  EXPECT_EQ(call(abi::kMemShare, kRam + 10 * kGranule, 990), -3);
  EXPECT_EQ(vm.shared_pages(), 1u);
  EXPECT_EQ(call(abi::kMemShare, kRam + 10 * kGranule, 490), 0);
  EXPECT_EQ(call(abi::kMemShare, kRam + 501 * kGranule, 499), 0);
  EXPECT_EQ(vm.shared_pages(), 990u);
  EXPECT_EQ(call(abi::kMemUnshare, kRam + 9 * kGranule, 991), -3);
  EXPECT_EQ(call(abi::kMemUnshare, kRam + 10 * kGranule, 990), 0);
  EXPECT_EQ(vm.shared_pages(), 0u);
}

// --- Devices without the guard ---

TEST_F(VmTest, WithoutTheGuardDevicesAreMappedOnFirstAccess) {
  create(false);
  EXPECT_EQ(vm_->handle_abort(kUart + 0x18, false), AbortExit::kRetry);
  EXPECT_EQ(fake_.mapped, (std::set<uint64_t>{kUart}));
  EXPECT_TRUE(vm_->device_mapped(kUart));
  EXPECT_EQ(vm_->handle_abort(kVirtio + 0x3e00, true), AbortExit::kRetry);
  EXPECT_EQ(fake_.mapped, (std::set<uint64_t>{kUart, kVirtio + 0x3000}));
  EXPECT_EQ(vm_->mapped_device_granules(), 2u);
  // The guard calls are not served.
  for (uint32_t id :
       {abi::kMmioGuardInfo, abi::kMmioGuardEnroll, abi::kMmioGuardMap, abi::kMmioGuardUnmap}) {
    EXPECT_EQ(status(id, kRtc), -1) << std::hex << id;
  }
  EXPECT_FALSE(vm_->enrolled());
  EXPECT_EQ(fake_.maps.size(), 2u);
  EXPECT_TRUE(fake_.unmaps.empty());
  EXPECT_EQ(vm_->handle_abort(kRtc, false), AbortExit::kRetry);
}

TEST_F(VmTest, AbortsOutsideDevicesAreInjected) {
  create(false);
  for (uint64_t ipa :
       {kFwCfg, kFwCfg + 8, kRam, kRam + kRamSize - 1, uint64_t{0},
        uint64_t{0x0800'0000} /* GIC: the caller's */, kVirtio + 0x4000, kUart - 1, ~uint64_t{0}}) {
    EXPECT_EQ(vm_->handle_abort(ipa, false), AbortExit::kInject) << std::hex << ipa;
    EXPECT_EQ(vm_->handle_abort(ipa, true), AbortExit::kInject) << std::hex << ipa;
  }
  EXPECT_TRUE(fake_.maps.empty());
}

TEST_F(VmTest, AFailedMapInjects) {
  create(false);
  fake_.map_ok = false;
  EXPECT_EQ(vm_->handle_abort(kUart, false), AbortExit::kInject);
  EXPECT_FALSE(vm_->device_mapped(kUart));
  fake_.map_ok = true;
  EXPECT_EQ(vm_->handle_abort(kUart, false), AbortExit::kRetry);
  EXPECT_TRUE(vm_->device_mapped(kUart));
}

// --- The MMIO guard ---

TEST_F(VmTest, GuardInfoAndEnroll) {
  create(true);
  EXPECT_EQ(status(abi::kMmioGuardInfo), 4096);
  EXPECT_FALSE(vm_->enrolled());
  EXPECT_EQ(status(abi::kMmioGuardEnroll), 0);
  EXPECT_TRUE(vm_->enrolled());
  EXPECT_EQ(status(abi::kMmioGuardEnroll), 0);
  EXPECT_TRUE(vm_->enrolled());
}

TEST_F(VmTest, EnrollUnmapsWhatWasMappedLazily) {
  create(true);
  ASSERT_EQ(vm_->handle_abort(kUart, false), AbortExit::kRetry);
  ASSERT_EQ(vm_->handle_abort(kVirtio + 0x1000, false), AbortExit::kRetry);
  EXPECT_EQ(status(abi::kMmioGuardEnroll), 0);
  EXPECT_TRUE(fake_.mapped.empty());
  EXPECT_EQ(fake_.unmaps.size(), 2u);
  EXPECT_EQ(vm_->mapped_device_granules(), 0u);
  // After enrolment only guard-mapped granules are reachable.
  EXPECT_EQ(vm_->handle_abort(kUart, false), AbortExit::kInject);
  EXPECT_EQ(fake_.maps.size(), 2u);
}

TEST_F(VmTest, GuardMapMapsAndUnmapUnmaps) {
  create(true);
  EXPECT_EQ(status(abi::kMmioGuardEnroll), 0);
  EXPECT_EQ(status(abi::kMmioGuardMap, kUart, 0x1234 /* attrs: ignored */), 0);
  expect_results(0, 0, 0, 0);
  EXPECT_TRUE(vm_->guard_mapped(kUart));
  EXPECT_TRUE(vm_->device_mapped(kUart));
  EXPECT_EQ(fake_.mapped, (std::set<uint64_t>{kUart}));
  // Mapping it again succeeds and changes nothing (Linux may ioremap a page
  // twice).
  EXPECT_EQ(status(abi::kMmioGuardMap, kUart), 0);
  EXPECT_EQ(fake_.maps.size(), 1u);
  // If the mapping is gone anyway (a fault), the guard lets it back.
  EXPECT_EQ(vm_->handle_abort(kUart + 4, true), AbortExit::kRetry);
  EXPECT_EQ(status(abi::kMmioGuardUnmap, kUart), 0);
  EXPECT_FALSE(vm_->guard_mapped(kUart));
  EXPECT_FALSE(vm_->device_mapped(kUart));
  EXPECT_TRUE(fake_.mapped.empty());
  EXPECT_EQ(vm_->handle_abort(kUart, false), AbortExit::kInject);
  // Unmapping a granule that is not guard-mapped.
  EXPECT_EQ(status(abi::kMmioGuardUnmap, kUart), -3);
  EXPECT_EQ(status(abi::kMmioGuardUnmap, kRtc), -3);
  EXPECT_EQ(status(abi::kMmioGuardUnmap, kRam), -3);
  EXPECT_EQ(fake_.unmaps.size(), 1u);
}

TEST_F(VmTest, GuardMapRefusesAnythingButADeviceGranule) {
  create(true);
  for (uint64_t ipa :
       {kFwCfg, kRam, kRam + kRamSize - kGranule, uint64_t{0}, uint64_t{0x0800'0000},
        kVirtio + 0x4000, kUart + 0x10, kUart + 0xfff, ~uint64_t{0} & ~(kGranule - 1)}) {
    EXPECT_EQ(status(abi::kMmioGuardMap, ipa), -3) << std::hex << ipa;
    EXPECT_EQ(status(abi::kMmioGuardUnmap, ipa), -3) << std::hex << ipa;
  }
  // A refused MAP does not enrol.
  EXPECT_FALSE(vm_->enrolled());
  EXPECT_TRUE(fake_.maps.empty());
  EXPECT_TRUE(fake_.unmaps.empty());
}

TEST_F(VmTest, MapBeforeEnrollEnrols) {
  create(true);
  ASSERT_EQ(vm_->handle_abort(kUart, false), AbortExit::kRetry);
  ASSERT_EQ(vm_->handle_abort(kRtc, false), AbortExit::kRetry);
  // Upstream Linux maps without enrolling: the first MAP enrols, which drops
  // the other lazy mapping but keeps the granule being mapped.
  EXPECT_EQ(status(abi::kMmioGuardMap, kUart), 0);
  EXPECT_TRUE(vm_->enrolled());
  EXPECT_EQ(fake_.mapped, (std::set<uint64_t>{kUart}));
  EXPECT_EQ(fake_.unmaps, (std::vector<uint64_t>{kRtc}));
  EXPECT_EQ(fake_.maps.size(), 2u);  // the two faults; no remap
  EXPECT_EQ(vm_->handle_abort(kRtc, false), AbortExit::kInject);
  EXPECT_EQ(status(abi::kMmioGuardMap, kVirtio + 0x2000), 0);
  EXPECT_EQ(fake_.mapped, (std::set<uint64_t>{kUart, kVirtio + 0x2000}));
  EXPECT_EQ(vm_->guard_mapped_granules(), 2u);
}

TEST_F(VmTest, GuardMapWhenStage2CannotMapDefersToTheFault) {
  create(true);
  fake_.map_ok = false;
  EXPECT_EQ(status(abi::kMmioGuardMap, kRtc), 0);
  EXPECT_TRUE(vm_->guard_mapped(kRtc));
  EXPECT_FALSE(vm_->device_mapped(kRtc));
  EXPECT_EQ(vm_->handle_abort(kRtc, false), AbortExit::kInject);
  fake_.map_ok = true;
  EXPECT_EQ(vm_->handle_abort(kRtc, false), AbortExit::kRetry);
  EXPECT_TRUE(vm_->device_mapped(kRtc));
}

// --- TRNG ---

TEST_F(VmTest, TrngDiscovery) {
  create(false);
  EXPECT_EQ(status(abi::kTrngVersion), 0x10000);
  for (uint32_t id : {abi::kTrngVersion, abi::kTrngFeatures, abi::kTrngGetUuid, abi::kTrngRnd32,
                      abi::kTrngRnd64}) {
    EXPECT_EQ(status(abi::kTrngFeatures, id), 0) << std::hex << id;
  }
  EXPECT_EQ(status(abi::kTrngFeatures, 0xc400'0052), -1);
  EXPECT_EQ(status(abi::kTrngFeatures, abi::kPsciVersion), -1);
  EXPECT_EQ(status(abi::kTrngGetUuid), 0x00e0'210d);
  expect_results(0x00e0'210d, 0xeb11'8443, 0x4452'7080, 0x4c5a'4e55);
}

TEST_F(VmTest, TrngRnd64) {
  create(false);
  fake_.entropy = {0x1111'2222'3333'4444, 0x5555'6666'7777'8888, 0x9999'aaaa'bbbb'cccc};
  EXPECT_EQ(status(abi::kTrngRnd64, 192), 0);
  expect_results(0, 0x9999'aaaa'bbbb'cccc, 0x5555'6666'7777'8888, 0x1111'2222'3333'4444);

  fake_.entropy = {~uint64_t{0}, ~uint64_t{0}};
  EXPECT_EQ(status(abi::kTrngRnd64, 65), 0);
  expect_results(0, 0, 1, ~uint64_t{0});
  EXPECT_TRUE(fake_.entropy.empty());

  fake_.entropy = {~uint64_t{0}};
  EXPECT_EQ(status(abi::kTrngRnd64, 1), 0);
  expect_results(0, 0, 0, 1);

  fake_.entropy = {~uint64_t{0}};
  EXPECT_EQ(status(abi::kTrngRnd64, 64), 0);
  expect_results(0, 0, 0, ~uint64_t{0});
}

TEST_F(VmTest, TrngRnd64Errors) {
  create(false);
  fake_.entropy = {1, 2, 3};
  for (uint64_t bits : {uint64_t{0}, uint64_t{193}, uint64_t{1} << 32, ~uint64_t{0}}) {
    EXPECT_EQ(status(abi::kTrngRnd64, bits), -2) << bits;
    expect_results(u64(-2), 0, 0, 0);
  }
  EXPECT_EQ(fake_.entropy.size(), 3u);
  // The source runs dry after two words.
  fake_.entropy = {1, 2};
  EXPECT_EQ(status(abi::kTrngRnd64, 129), -3);
  expect_results(u64(-3), 0, 0, 0);
}

TEST_F(VmTest, TrngRnd32) {
  create(false);
  fake_.entropy = {0x1111'2222'3333'4444, 0x5555'6666'7777'8888};
  EXPECT_EQ(status(abi::kTrngRnd32, 96), 0);
  expect_results(0, 0x7777'8888, 0x1111'2222, 0x3333'4444);

  fake_.entropy = {~uint64_t{0}};
  EXPECT_EQ(status(abi::kTrngRnd32, 40), 0);
  expect_results(0, 0, 0xff, 0xffff'ffff);

  EXPECT_EQ(status(abi::kTrngRnd32, 97), -2);
  EXPECT_EQ(status(abi::kTrngRnd32, 0), -2);
  // RND32 is SMC32: the bit count is w1.
  fake_.entropy = {~uint64_t{0}};
  EXPECT_EQ(status(abi::kTrngRnd32, 0x1'0000'0020), 0);
  expect_results(0, 0, 0, 0xffff'ffff);
  // RND64 is SMC64: the whole of x1.
  EXPECT_EQ(status(abi::kTrngRnd64, 0x1'0000'0020), -2);
}

TEST_F(VmTest, WithoutAnEntropySourceTheTrngIsNotOffered) {
  create(false, /*with_rng=*/false);
  for (uint32_t id : {abi::kTrngVersion, abi::kTrngFeatures, abi::kTrngGetUuid, abi::kTrngRnd32,
                      abi::kTrngRnd64}) {
    EXPECT_EQ(status(id, 64), -1) << std::hex << id;
    expect_results(u64(-1), 0, 0, 0);
  }
}

// --- PSCI ---

TEST_F(VmTest, PsciCallsForTheFirmwareAreForwarded) {
  create(false);
  for (uint32_t id : {abi::kPsciVersion, abi::kPsciCpuSuspend64, abi::kPsciAffinityInfo64,
                      abi::kPsciCpuOff, abi::kPsciMigrateInfoType}) {
    EXPECT_EQ(call(id, 0x1'0000'0001, 0x2'0000'0002, 0x3'0000'0003).kind,
              CallExit::Kind::kPsciForward)
        << std::hex << id;
    EXPECT_EQ(regs_.x[0], id);
    if (abi::is_smc64(id)) {
      EXPECT_EQ(regs_.x[1], 0x1'0000'0001u);
      EXPECT_EQ(regs_.x[3], 0x3'0000'0003u);
    } else {
      // SMC32: what reaches the firmware is w1..w3, zero-extended.
      EXPECT_EQ(regs_.x[1], 1u);
      EXPECT_EQ(regs_.x[2], 2u);
      EXPECT_EQ(regs_.x[3], 3u);
    }
  }
  EXPECT_EQ(call(abi::kPsciCpuSuspend32, 0xffff'ffff'0000'0001).kind, CallExit::Kind::kPsciForward);
  EXPECT_EQ(regs_.x[1], 1u);
  EXPECT_EQ(call(abi::kPsciAffinityInfo32, 1).kind, CallExit::Kind::kPsciForward);
}

TEST_F(VmTest, PsciFeatures) {
  create(false);
  // What the hypervisor serves itself it reports itself; SMCCC_VERSION too,
  // which Linux probes this way before it trusts SMCCC v1.1.
  for (uint32_t id : {abi::kPsciCpuOn32, abi::kPsciCpuOn64, abi::kPsciSystemOff,
                      abi::kPsciSystemReset, abi::kSmcccVersion}) {
    EXPECT_EQ(status(abi::kPsciFeatures, id), 0) << std::hex << id;
  }
  // The firmware's answer for what it serves (CPU_SUSPEND has flags).
  for (uint32_t id : {abi::kPsciVersion, abi::kPsciCpuSuspend32, abi::kPsciCpuSuspend64,
                      abi::kPsciCpuOff, abi::kPsciAffinityInfo32, abi::kPsciAffinityInfo64,
                      abi::kPsciMigrateInfoType, abi::kPsciFeatures}) {
    EXPECT_EQ(call(abi::kPsciFeatures, id).kind, CallExit::Kind::kPsciForward) << std::hex << id;
    EXPECT_EQ(regs_.x[1], id);
  }
  // Nothing else: SYSTEM_RESET2, SYSTEM_SUSPEND, MIGRATE, and non-PSCI IDs.
  for (uint64_t id :
       {0x8400'0012u, 0xc400'0012u, 0x8400'000eu, 0xc400'0005u, 0x8400'0050u, 0xc600'0003u}) {
    EXPECT_EQ(status(abi::kPsciFeatures, id), -1) << std::hex << id;
  }
  // PSCI_FEATURES is SMC32: the queried ID is w1.
  EXPECT_EQ(status(abi::kPsciFeatures, 0xffff'ffff'0000'0000 | abi::kPsciSystemOff), 0);
}

TEST_F(VmTest, CpuOn) {
  create(false);
  const CallExit e = call(abi::kPsciCpuOn64, 1, kRam + 0x8000, 0xc0ffee);
  ASSERT_EQ(e.kind, CallExit::Kind::kCpuOn);
  EXPECT_EQ(e.target_mpidr, 1u);
  EXPECT_EQ(e.target_cpu, 1u);
  EXPECT_EQ(e.entry, kRam + 0x8000);
  EXPECT_EQ(e.context, 0xc0ffeeu);
  expect_results(0, 0, 0, 0);
  // The first and last bytes of RAM are valid entries; CPU 0 is a valid target
  // (the caller answers ALREADY_ON).
  EXPECT_EQ(call(abi::kPsciCpuOn64, 0, kRam).kind, CallExit::Kind::kCpuOn);
  EXPECT_EQ(call(abi::kPsciCpuOn64, 1, kRam + kRamSize - 1).kind, CallExit::Kind::kCpuOn);
}

TEST_F(VmTest, CpuOnRefusals) {
  create(false);
  // Targets that are not one of the VM's two vCPUs: INVALID_PARAMETERS.
  for (uint64_t mpidr : {uint64_t{2}, uint64_t{0x100}, uint64_t{0x1'0000}, uint64_t{0x1'0000'0000},
                         uint64_t{0x8000'0000}, ~uint64_t{0}}) {
    EXPECT_EQ(status(abi::kPsciCpuOn64, mpidr, kRam), -2) << std::hex << mpidr;
    expect_results(u64(-2), 0, 0, 0);
  }
  // Entry points outside VM RAM: INVALID_ADDRESS.
  for (uint64_t entry : {uint64_t{0}, kRam - 4, kRam + kRamSize, kUart, ~uint64_t{0}}) {
    EXPECT_EQ(status(abi::kPsciCpuOn64, 1, entry), -9) << std::hex << entry;
    expect_results(u64(-9), 0, 0, 0);
  }
}

TEST_F(VmTest, CpuOn32ReadsW1ToW3) {
  create(false);
  const CallExit e =
      call(abi::kPsciCpuOn32, 0xffff'ffff'0000'0001, 0xffff'ffff'0000'0000 | kRam, 0x1'0000'0007);
  ASSERT_EQ(e.kind, CallExit::Kind::kCpuOn);
  EXPECT_EQ(e.target_cpu, 1u);
  EXPECT_EQ(e.entry, kRam);
  EXPECT_EQ(e.context, 7u);
}

TEST_F(VmTest, SystemOffAndReset) {
  create(false);
  EXPECT_EQ(call(abi::kPsciSystemOff, 1, 2, 3).kind, CallExit::Kind::kSystemOff);
  EXPECT_EQ(regs_.x[0], abi::kPsciSystemOff);
  EXPECT_EQ(regs_.x[1], 1u);
  // x0 is left as the clean ID, ready to be forwarded.
  EXPECT_EQ(call(0xffff'0000'0000'0000 | abi::kPsciSystemReset).kind, CallExit::Kind::kSystemReset);
  EXPECT_EQ(regs_.x[0], abi::kPsciSystemReset);
  // The 64-bit spellings do not exist.
  EXPECT_EQ(status(0xc400'0008), -1);
  EXPECT_EQ(status(0xc400'0009), -1);
}

// A guest that runs pvmfw's sequence (hvc/kvm.cc discover, then enrol, map
// the console, unmap it before the jump).
TEST_F(VmTest, PvmfwSequence) {
  create(true);
  ASSERT_EQ(vm_->handle_abort(kUart, true), AbortExit::kRetry);  // early console
  EXPECT_EQ(status(abi::kVendorHypCallUid), 0xb66f'b428);
  EXPECT_EQ(status(abi::kKvmFeatures) & 0x1c, 0x1c);
  EXPECT_EQ(status(abi::kHypMeminfo), 4096);
  EXPECT_EQ(status(abi::kMmioGuardInfo), 4096);
  EXPECT_EQ(status(abi::kMmioGuardEnroll), 0);
  EXPECT_TRUE(fake_.mapped.empty());
  EXPECT_EQ(status(abi::kMmioGuardMap, kUart), 0);
  EXPECT_EQ(vm_->handle_abort(kRtc, false), AbortExit::kInject);
  EXPECT_EQ(status(abi::kMmioGuardUnmap, kUart), 0);
  EXPECT_TRUE(fake_.mapped.empty());
  // The kernel (upstream Linux) maps its console again: still enrolled.
  EXPECT_EQ(status(abi::kMmioGuardMap, kUart), 0);
  EXPECT_EQ(fake_.mapped, (std::set<uint64_t>{kUart}));
}

}  // namespace
}  // namespace hyp

// The boot sequence on the host (boot/boot.h): a fake platform backs the
// board's windows with buffers; the VM tree comes from host/vm_dt.h, the
// payload is signed with host/avb_sign.h, the config blob carries a
// previous-stage handover (dice/pvmfw.h). Every refusal is checked by its
// reason and the console line's detail, and one boot by its hand-off.
#include "boot/boot.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "avb_crypto.h"
#include "avb_sign.h"
#include "dice/config.h"
#include "dice/pvmfw.h"
#include "fdt/sanitize.h"

#include <libfdt.h>
#include "file_io.h"
#include "hvc/fake.h"
#include "hvc/kvm.h"
#include "vm_dt.h"

namespace {

using boot::Failure;
using boot::Reason;
using boot::Stage;

constexpr const board::Board& kBoard = board::kQemuVirt;
constexpr uint64_t kKernelBase = BOARD_KERNEL_BASE;

struct Region {
  base::Range range;
  std::vector<std::byte> bytes;
};

// The machine the fake platform plays: RAM regions backed by buffers, the
// console's output, what the sequence asked of the platform.
struct FakeMachine {
  std::vector<Region> regions;
  std::string console;
  uint64_t uart = kBoard.early_uart;
  bool secrets_live = false;
  bool entropy = true;
  std::vector<Stage> stages;
  std::optional<Stage> fail_at;
  std::optional<uint64_t> map_fails_at;  // platform map() of a range starting here fails

  Region& add(base::Range r) {
    regions.push_back({r, std::vector<std::byte>(r.size)});
    return regions.back();
  }
  Region* find(uint64_t base) {
    for (auto& r : regions)
      if (r.range.base == base) return &r;
    return nullptr;
  }
};
FakeMachine* g_machine = nullptr;

std::span<std::byte> fake_memory(base::Range r) {
  for (auto& region : g_machine->regions) {
    if (region.range.contains(r)) {
      return std::span(region.bytes).subspan(r.base - region.range.base, r.size);
    }
  }
  return {};
}
std::expected<void, memory::Error> fake_map(base::Range r, memory::Attr) {
  if (g_machine->map_fails_at == r.base) return std::unexpected(memory::Error::kOutOfTables);
  return {};
}
void fake_clean(base::Range) {}
void fake_write(const char* s, size_t n) { g_machine->console.append(s, n); }
uint64_t fake_console() { return g_machine->uart; }
void fake_use_console(uint64_t base) { g_machine->uart = base; }
const char* fake_entropy_source() { return g_machine->entropy ? "fake" : nullptr; }
bool fake_fill(std::span<std::byte> out) {
  std::fill(out.begin(), out.end(), std::byte{0x5a});
  return g_machine->entropy;
}
uint64_t fake_ticks() { return 7; }
void fake_secrets_live() { g_machine->secrets_live = true; }
std::expected<void, Failure> fake_at_stage(Stage s, const boot::StageContext&) {
  g_machine->stages.push_back(s);
  if (g_machine->fail_at == s) {
    return std::unexpected(boot::failure(Reason::kTestHook, "at %s", boot::to_string(s)));
  }
  return {};
}

constexpr boot::Platform kFakePlatform = {
    .memory = fake_memory,
    .map = fake_map,
    .clean_to_poc = fake_clean,
    .write = fake_write,
    .console = fake_console,
    .use_console = fake_use_console,
    .entropy_source = fake_entropy_source,
    .fill_random = fake_fill,
    .ticks = fake_ticks,
    .secrets_live = fake_secrets_live,
    .at_stage = fake_at_stage,
};

std::vector<uint8_t> read(const char* path) {
  auto bytes = pvm::read_file(path);
  EXPECT_TRUE(bytes.has_value()) << path;
  return bytes ? *bytes : std::vector<uint8_t>{};
}

// A payload signed as `pvm sign` does (partition "boot", SHA256_RSA4096).
std::vector<uint8_t> signed_payload(const char* key_pem, std::vector<uint8_t> image) {
  auto key = pvm::avb::RsaKey::from_pem(read(key_pem));
  EXPECT_TRUE(key.has_value());
  pvm::avb::FooterSpec spec;
  spec.partition_name = "boot";
  spec.salt.assign(32, 0x5a);
  spec.vbmeta.algorithm = pvm::avb::Algorithm::kSha256Rsa4096;
  spec.vbmeta.key = &*key;
  auto signed_image = pvm::avb::add_hash_footer(image, spec);
  EXPECT_TRUE(signed_image.has_value());
  return *signed_image;
}

std::vector<std::byte> trusted_key() {
  auto key = pvm::avb::RsaKey::from_pem(read(BOOT_TEST_KEY));
  auto pub = key->avb_public_key();
  std::vector<std::byte> out(pub->size());
  memcpy(out.data(), pub->data(), pub->size());
  return out;
}

// A pKVM-like hypervisor for the protected path (the pKVM guest ABI as
// docs/abi.md lists it), with knobs for its answers and a record of the MMIO
// guard calls. A plain function (hvc::fake::Handler), so its state is global.
struct FakePkvm {
  uint64_t mmio_granule = 4096;
  hvc::Status enroll = hvc::Status::kSuccess;
  hvc::Status map = hvc::Status::kSuccess;
  hvc::Status unmap = hvc::Status::kSuccess;
  std::vector<std::pair<uint32_t, uint64_t>> calls;  // MMIO guard calls: (function, IPA)
};
FakePkvm* g_pkvm = nullptr;
bool g_pkvm_features_without_guard = false;  // KVM_FEATURES without bits 5-8

hvc::Result pkvm(hvc::Conduit, uint32_t f, const hvc::Args& a) {
  namespace fid = hvc::fid;
  constexpr uint64_t kNotSupported = static_cast<uint64_t>(-1);
  auto status = [](hvc::Status st) { return hvc::Result{static_cast<uint64_t>(st), 0, 0, 0}; };
  switch (f) {
    case fid::kVendorHypCallUid:  // KVM's UID
      return {0xb66fb428, 0xe911c52e, 0x564bcaa9, 0x743a004d};
    case fid::kKvmFeatures:  // MEMINFO .. MMIO_GUARD_UNMAP
      if (g_pkvm_features_without_guard) return {(1u << 2) | (1u << 3) | (1u << 4), 0, 0, 0};
      return {(1u << 2) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 7) | (1u << 8),
              0, 0, 0};
    case fid::kHypMeminfo:
      return {4096, 0, 0, 0};
    case fid::kMmioGuardInfo:
      return {g_pkvm->mmio_granule, 0, 0, 0};
    case fid::kMmioGuardEnroll:
      g_pkvm->calls.emplace_back(f, 0);
      return status(g_pkvm->enroll);
    case fid::kMmioGuardMap:
      g_pkvm->calls.emplace_back(f, a.x1);
      return status(g_pkvm->map);
    case fid::kMmioGuardUnmap:
      g_pkvm->calls.emplace_back(f, a.x1);
      return status(g_pkvm->unmap);
    default:
      return {kNotSupported, 0, 0, 0};
  }
}

class BootTest : public ::testing::Test {
 protected:
  void SetUp() override {
    g_machine = &machine_;
    hvc::fake::set_handler(nullptr);
    key_ = trusted_key();
    inputs_.trusted_key = key_;
    vm_.ram_size = 256 << 20;
    vm_.instance_id.assign(fdt::kInstanceIdSize, 0x11);
    payload_ = signed_payload(BOOT_TEST_KEY, std::vector<uint8_t>(8192, 0x42));
    vm_.kernel = pvm::VmDtConfig::Kernel{kKernelBase, payload_.size()};
  }
  void TearDown() override {
    g_machine = nullptr;
    g_pkvm = nullptr;
    hvc::fake::set_handler(nullptr);
  }

  // The protected path: the fake pKVM answers from here on.
  void protect() {
    g_pkvm = &pkvm_;
    hvc::fake::set_handler(pkvm);
  }

  // The machine as the VMM leaves it: the tree in the DT window, the config
  // blob in the config window, the payload at the kernel address.
  void place() {
    auto dt = pvm::make_vm_dt(vm_);
    ASSERT_TRUE(dt.has_value());
    memcpy(machine_.add(kBoard.dt_window).bytes.data(), dt->data(), dt->size());
    auto& config = machine_.add(kBoard.config);
    if (config_override_) {
      memcpy(config.bytes.data(), config_override_->data(), config_override_->size());
    } else {
      std::array<uint8_t, dice::kCdiSize> uds{};
      uds.fill(0x33);
      std::vector<std::byte> handover(4096);
      auto size = dice::pvmfw::previous_stage_handover(uds, handover);
      ASSERT_TRUE(size.has_value());
      dice::ConfigSpec spec;
      spec.entries[0] = base::Bytes(handover).first(*size);
      ASSERT_TRUE(dice::write_config(spec, config.bytes).has_value());
    }
    machine_.add(kBoard.handover);
    if (vm_.kernel) {
      auto& kernel = machine_.add({vm_.kernel->address, vm_.kernel->size});
      memcpy(kernel.bytes.data(), payload_.data(), std::min(payload_.size(), kernel.bytes.size()));
    }
  }

  std::expected<boot::Handoff, Failure> boot() {
    place();
    return boot::run(kFakePlatform, inputs_);
  }

  // The refusal's reason and detail (the console line after "REASON: ").
  void expect_refusal(Reason reason, const std::string& detail) {
    auto r = boot();
    ASSERT_FALSE(r.has_value()) << machine_.console;
    EXPECT_EQ(boot::to_string(r.error().reason), std::string(boot::to_string(reason)));
    EXPECT_EQ(r.error().view(), detail);
  }

  bool config_wiped() {
    auto& c = machine_.find(kBoard.config.base)->bytes;
    return std::all_of(c.begin(), c.end(), [](std::byte b) { return b == std::byte{0}; });
  }

  std::string fdt_refusal(fdt::ValidateError e) {
    const fdt::SanitizeError s(e);
    return std::string(fdt::to_string(s)) + ": " + fdt::describe(s);
  }

  FakeMachine machine_;
  boot::Inputs inputs_;
  std::vector<std::byte> key_;
  pvm::VmDtConfig vm_;
  std::vector<uint8_t> payload_;
  std::optional<std::vector<std::byte>> config_override_;
  FakePkvm pkvm_;
};

TEST_F(BootTest, BootsAndHandsOverKernelAndTree) {
  auto r = boot();
  ASSERT_TRUE(r.has_value()) << boot::to_string(r.error().reason) << ": " << r.error().c_str() << "\n"
                             << machine_.console;
  EXPECT_EQ(r->kernel_entry, kKernelBase);
  EXPECT_EQ(r->dt_address, kBoard.dt_window.base);
  EXPECT_GT(r->dt_size, 0u);
  EXPECT_GT(r->handover_size, 0u);
  EXPECT_FALSE(r->debuggable);
  EXPECT_TRUE(machine_.secrets_live);
  EXPECT_TRUE(config_wiped());
  // The rebuilt tree is at the window's start and passes the firmware's own read.
  auto& window = machine_.find(kBoard.dt_window.base)->bytes;
  auto tree = fdt::Tree::open(base::Bytes(window).first(r->dt_size));
  EXPECT_TRUE(tree.has_value());
  const std::vector<Stage> all = {Stage::kPlatformReady, Stage::kVerified, Stage::kDiceDerived,
                                  Stage::kDiceReported};
  EXPECT_EQ(machine_.stages, all);
  EXPECT_NE(machine_.console.find("pvmfw: no protected hypervisor: running UNPROTECTED\n"),
            std::string::npos);
  EXPECT_NE(machine_.console.find("pvmfw: payload verified: SHA256_RSA4096"), std::string::npos);
  EXPECT_NE(machine_.console.find("pvmfw: DICE: VM layer derived, handover "), std::string::npos);
  EXPECT_NE(machine_.console.find("pvmfw: device tree rebuilt from the template: "),
            std::string::npos);
}

TEST_F(BootTest, RefusesTreeOutsideTheWindow) {
  inputs_.dt_address = 0x4800'0000;
  expect_refusal(Reason::kInvalidFdt, "device tree at 0x48000000, outside the DT window 0x40000000");
}

TEST_F(BootTest, RefusesUnreadableTree) {
  place();
  auto& window = machine_.find(kBoard.dt_window.base)->bytes;
  std::fill(window.begin(), window.begin() + 64, std::byte{0xff});
  auto r = boot::run(kFakePlatform, inputs_);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().reason, Reason::kInvalidFdt);
  const auto e = fdt::accept(window, kBoard, fdt::Options{});
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(r.error().view(), fdt::to_string(e.error()));
}

TEST_F(BootTest, RefusesKernelOverFirmware) {
  vm_.kernel = pvm::VmDtConfig::Kernel{kBoard.scratch.base, payload_.size()};
  expect_refusal(Reason::kInvalidPayload,
                 fdt_refusal(fdt::ValidateError::kKernelOverlapsFirmware));
}

TEST_F(BootTest, RefusesInitrdOverKernel) {
  vm_.initrd = pvm::VmDtConfig::Range{kKernelBase, kKernelBase + 4096};
  expect_refusal(Reason::kInvalidRamdisk, fdt_refusal(fdt::ValidateError::kInitrdOverlapsKernel));
}

TEST_F(BootTest, RefusesNoKernel) {
  vm_.kernel.reset();
  expect_refusal(Reason::kInvalidPayload, "NO_KERNEL: /config/kernel-address is absent");
  EXPECT_EQ(boot::failure(boot::InputError::kNoKernel).view(),
            "NO_KERNEL: /config/kernel-address is absent");
}

TEST_F(BootTest, RefusesNoInstanceId) {
  vm_.instance_id.clear();
  expect_refusal(Reason::kInvalidFdt, "NO_INSTANCE_ID: /avf/untrusted/instance-id is absent");
}

TEST_F(BootTest, RefusesPayloadSignedByAnotherKey) {
  payload_ = signed_payload(BOOT_OTHER_KEY, std::vector<uint8_t>(8192, 0x42));
  auto r = boot();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().reason, Reason::kPayloadVerificationFailed);
  EXPECT_EQ(r.error().view().substr(0, 20), "PUBLIC_KEY_REJECTED:") << r.error().c_str();
  EXPECT_FALSE(machine_.secrets_live);
}

TEST_F(BootTest, RefusesTamperedKernel) {
  payload_[4096] ^= 1;
  auto r = boot();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().reason, Reason::kPayloadVerificationFailed);
  EXPECT_EQ(r.error().view().substr(0, 23), "IMAGE_DIGEST_MISMATCH: ") << r.error().c_str();
}

TEST_F(BootTest, RefusesUnbackedPayload) {
  vm_.kernel = pvm::VmDtConfig::Kernel{kKernelBase, payload_.size()};
  place();
  machine_.regions.pop_back();  // the kernel's
  auto r = boot::run(kFakePlatform, inputs_);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().reason, Reason::kInternalError);
  char expected[96];
  snprintf(expected, sizeof(expected), "memory %#lx-%#lx is not backed", kKernelBase,
           kKernelBase + payload_.size());
  EXPECT_EQ(r.error().view(), expected);
}

TEST_F(BootTest, RefusesGarbageConfigAndWipesIt) {
  config_override_ = std::vector<std::byte>(64, std::byte{0x77});
  auto r = boot();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().reason, Reason::kInvalidConfigData);
  EXPECT_EQ(r.error().view(), dice::to_string(dice::ConfigError::kBadMagic));
  EXPECT_TRUE(config_wiped());
}

TEST_F(BootTest, RefusesBadPreviousHandover) {
  std::vector<std::byte> junk(64, std::byte{0x01});
  dice::ConfigSpec spec;
  spec.entries[0] = base::Bytes(junk);
  std::vector<std::byte> blob(256);
  auto n = dice::write_config(spec, blob);
  ASSERT_TRUE(n.has_value());
  blob.resize(*n);
  config_override_ = blob;
  auto r = boot();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().reason, Reason::kInvalidBcc) << r.error().c_str();
  EXPECT_TRUE(config_wiped());
}

// A refusal at each named stage ends the boot there, with the stage's failure.
TEST_F(BootTest, StageFailuresEndTheBoot) {
  for (Stage s : {Stage::kPlatformReady, Stage::kVerified, Stage::kDiceDerived,
                  Stage::kDiceReported}) {
    SCOPED_TRACE(boot::to_string(s));
    machine_ = FakeMachine{};
    machine_.fail_at = s;
    auto r = boot();
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().reason, Reason::kTestHook);
    EXPECT_EQ(r.error().view(), std::string("at ") + boot::to_string(s));
    EXPECT_EQ(machine_.stages.back(), s);
    EXPECT_EQ(machine_.secrets_live, s == Stage::kDiceDerived || s == Stage::kDiceReported);
  }
}

TEST_F(BootTest, WarnsWithoutEntropyAndStillBoots) {
  machine_.entropy = false;
  auto r = boot();
  ASSERT_TRUE(r.has_value()) << r.error().c_str();
  EXPECT_NE(machine_.console.find("pvmfw: WARNING: no entropy source"), std::string::npos);
}

TEST(BootFailure, DetailIsBoundedAndTerminated) {
  std::string long_text(500, 'x');
  auto f = boot::failure(Reason::kInternalError, "%s", long_text.c_str());
  EXPECT_EQ(f.view().size(), Failure::kMaxDetail - 1);
  EXPECT_EQ(f.detail.back(), '\0');
}

}  // namespace

// ---- The protected path (a pKVM-like hypervisor) ---------------------------------

TEST_F(BootTest, UnderPkvmGuardsTheConsoleAndReleasesIt) {
  protect();
  auto r = boot();
  ASSERT_TRUE(r.has_value()) << r.error().c_str() << "\n" << machine_.console;
  EXPECT_NE(machine_.console.find("pvmfw: protected VM (pKVM): memory isolated, MMIO guard on, console mapped\n"),
            std::string::npos);
  const std::vector<std::pair<uint32_t, uint64_t>> want = {
      {hvc::fid::kMmioGuardEnroll, 0},
      {hvc::fid::kMmioGuardMap, machine_.uart},
      {hvc::fid::kMmioGuardUnmap, machine_.uart},  // not debuggable: the console goes
  };
  EXPECT_EQ(pkvm_.calls, want);
}

TEST_F(BootTest, UnderPkvmAnUnmapOldKernelsAnswerMinusOneIsFine) {
  // Android 13 kernels answer NOT_SUPPORTED to a successful MMIO_GUARD_UNMAP.
  protect();
  pkvm_.unmap = hvc::Status::kNotSupported;
  EXPECT_TRUE(boot().has_value()) << machine_.console;
}

TEST_F(BootTest, RefusesAnotherMmioGuardGranule) {
  protect();
  pkvm_.mmio_granule = 16384;
  expect_refusal(Reason::kInternalError, "MMIO guard granule 16384, expected 4096");
  EXPECT_TRUE(pkvm_.calls.empty());
}

TEST_F(BootTest, RefusesAFailedEnroll) {
  protect();
  pkvm_.enroll = hvc::Status::kInvalidParameter;
  expect_refusal(Reason::kInternalError,
                 std::string("MMIO_GUARD_ENROLL: ") +
                     hvc::to_string(hvc::Status::kInvalidParameter));
}

TEST_F(BootTest, RefusesAFailedConsoleMap) {
  protect();
  pkvm_.map = hvc::Status::kInvalidParameter;
  expect_refusal(Reason::kInternalError,
                 std::string("MMIO_GUARD_MAP console: ") +
                     hvc::to_string(hvc::Status::kInvalidParameter));
}

TEST_F(BootTest, RefusesAFailedUnmapBeforeTheJump) {
  protect();
  pkvm_.unmap = hvc::Status::kInvalidParameter;
  char want[64];
  snprintf(want, sizeof(want), "MMIO_GUARD_UNMAP %#lx failed", static_cast<unsigned long>(machine_.uart));
  expect_refusal(Reason::kInternalError, want);
  // The last step before the jump (after the last console line): the
  // failure funnel wipes what DICE left, like any refusal after DICE.
  EXPECT_TRUE(machine_.secrets_live);
}

// A VM created without the MMIO guard (docs/hypervisor.md): protected, no
// guard call at all.
TEST_F(BootTest, UnderPkvmWithoutTheGuardMakesNoGuardCall) {
  protect();
  g_pkvm_features_without_guard = true;
  auto r = boot();
  g_pkvm_features_without_guard = false;
  ASSERT_TRUE(r.has_value()) << r.error().c_str() << "\n" << machine_.console;
  EXPECT_NE(machine_.console.find("pvmfw: protected VM (pKVM): memory isolated, no MMIO guard "
                                  "offered\n"),
            std::string::npos);
  EXPECT_TRUE(pkvm_.calls.empty());
}

TEST_F(BootTest, RefusesWhenThePayloadCannotBeMapped) {
  machine_.map_fails_at = kKernelBase;
  expect_refusal(Reason::kInternalError,
                 std::string("map kernel: ") + memory::to_string(memory::Error::kOutOfTables));
  EXPECT_FALSE(machine_.secrets_live);
}

TEST_F(BootTest, RefusesARebuildWithoutRoomAfterDiceAndWipesTheConfig) {
  // A valid tree whose header claims almost the whole 2 MiB window (free
  // space at its end, as dtc -S writes): the rebuilt tree has no room behind
  // it. This fails after DICE; the previous stage's CDIs must already be gone.
  place();
  auto& window = machine_.find(kBoard.dt_window.base)->bytes;
  std::vector<std::byte> tree(window.begin(), window.end());
  ASSERT_EQ(fdt_open_into(tree.data(), window.data(), static_cast<int>(window.size() - 2048)), 0);
  auto r = boot::run(kFakePlatform, inputs_);
  ASSERT_FALSE(r.has_value()) << machine_.console;
  EXPECT_EQ(r.error().reason, Reason::kInvalidFdt);
  EXPECT_EQ(r.error().view(), "rebuild: OUTPUT_NO_SPACE");
  EXPECT_TRUE(machine_.secrets_live);
  EXPECT_TRUE(config_wiped());
}

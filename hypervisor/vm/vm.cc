#include "vm/vm.h"

#include <cstddef>
#include <new>

#include "vm/abi.h"

namespace hyp {
namespace {

constexpr bool aligned(uint64_t v) { return (v & (kGranule - 1)) == 0; }

// The registers of one call, read once: W0, and x1..x3 narrowed to 32 bits
// for an SMC32 ID (DEN0028 §2.6: the upper halves are not the caller's).
struct Call {
  uint32_t fid;
  bool smc64;
  uint64_t a1, a2, a3;
};

Call read_call(const GuestRegs& regs) {
  const auto fid = static_cast<uint32_t>(regs.x[0]);
  const bool smc64 = abi::is_smc64(fid);
  const uint64_t mask = smc64 ? ~uint64_t{0} : 0xffff'ffffu;
  return Call{fid, smc64, regs.x[1] & mask, regs.x[2] & mask, regs.x[3] & mask};
}

void set_result(GuestRegs& regs, int64_t x0, uint64_t x1 = 0, uint64_t x2 = 0, uint64_t x3 = 0) {
  regs.x[0] = static_cast<uint64_t>(x0);
  regs.x[1] = x1;
  regs.x[2] = x2;
  regs.x[3] = x3;
}

CallExit resume() { return CallExit{}; }

CallExit exit(CallExit::Kind kind) {
  CallExit e;
  e.kind = kind;
  return e;
}

CallExit forward(GuestRegs& regs, const Call& c) {
  regs.x[0] = c.fid;
  regs.x[1] = c.a1;
  regs.x[2] = c.a2;
  regs.x[3] = c.a3;
  return exit(CallExit::Kind::kPsciForward);
}

// Sets of function IDs the dispatcher asks about.
template <size_t N>
constexpr bool one_of(uint32_t fid, const uint32_t (&set)[N]) {
  for (uint32_t f : set) {
    if (f == fid) return true;
  }
  return false;
}

// PSCI calls the platform firmware answers for the guest.
constexpr uint32_t kPsciForwarded[] = {
    abi::kPsciVersion,         abi::kPsciCpuSuspend32,  abi::kPsciCpuSuspend64,
    abi::kPsciCpuOff,          abi::kPsciAffinityInfo32, abi::kPsciAffinityInfo64,
    abi::kPsciMigrateInfoType, abi::kPsciFeatures,
};
// Calls the hypervisor serves itself that PSCI_FEATURES reports (DEN0022
// §5.15; SMCCC_VERSION per DEN0028 §7.2.1, which guests probe this way).
constexpr uint32_t kPsciServedHere[] = {
    abi::kPsciCpuOn32, abi::kPsciCpuOn64, abi::kPsciSystemOff, abi::kPsciSystemReset,
    abi::kSmcccVersion,
};
constexpr uint32_t kTrng[] = {
    abi::kTrngVersion, abi::kTrngFeatures, abi::kTrngGetUuid, abi::kTrngRnd32, abi::kTrngRnd64,
};

bool test_bit(const std::array<uint64_t, kMaxDeviceGranules / 64>& bits, uint32_t i) {
  return ((bits[i / 64] >> (i % 64)) & 1) != 0;
}
void assign_bit(std::array<uint64_t, kMaxDeviceGranules / 64>& bits, uint32_t i, bool v) {
  const uint64_t m = uint64_t{1} << (i % 64);
  bits[i / 64] = v ? (bits[i / 64] | m) : (bits[i / 64] & ~m);
}
size_t count_bits(const std::array<uint64_t, kMaxDeviceGranules / 64>& bits) {
  size_t n = 0;
  for (uint64_t w : bits) n += static_cast<size_t>(__builtin_popcountll(w));
  return n;
}

// Whether [a, a + as) and [b, b + bs) overlap; neither wraps.
constexpr bool overlaps(uint64_t a, uint64_t as, uint64_t b, uint64_t bs) {
  return a < b + bs && b < a + as;
}

}  // namespace

const char* to_string(VmError e) {
  switch (e) {
    case VmError::kBadStorage:
      return "BAD_STORAGE";
    case VmError::kMissingOps:
      return "MISSING_OPS";
    case VmError::kBadRam:
      return "BAD_RAM";
    case VmError::kRamTooLarge:
      return "RAM_TOO_LARGE";
    case VmError::kStorageTooSmall:
      return "STORAGE_TOO_SMALL";
    case VmError::kBadVcpus:
      return "BAD_VCPUS";
    case VmError::kTooManyDevices:
      return "TOO_MANY_DEVICES";
    case VmError::kBadDevice:
      return "BAD_DEVICE";
    case VmError::kDeviceInRam:
      return "DEVICE_IN_RAM";
    case VmError::kDeviceOverlap:
      return "DEVICE_OVERLAP";
  }
  return "UNKNOWN";
}

const char* to_string(CallExit::Kind k) {
  switch (k) {
    case CallExit::Kind::kResume:
      return "resume";
    case CallExit::Kind::kPsciForward:
      return "psci-forward";
    case CallExit::Kind::kCpuOn:
      return "cpu-on";
    case CallExit::Kind::kSystemOff:
      return "system-off";
    case CallExit::Kind::kSystemReset:
      return "system-reset";
  }
  return "unknown";
}

const char* to_string(AbortExit a) {
  switch (a) {
    case AbortExit::kRetry:
      return "retry";
    case AbortExit::kInject:
      return "inject";
  }
  return "unknown";
}

std::expected<Vm*, VmError> Vm::create(void* storage, const VmConfig& config, const Stage2Ops& ops,
                                       std::span<uint64_t> page_states) {
  if (storage == nullptr || reinterpret_cast<uintptr_t>(storage) % alignof(Vm) != 0) {
    return std::unexpected(VmError::kBadStorage);
  }
  if (ops.map_device == nullptr || ops.unmap_device == nullptr) {
    return std::unexpected(VmError::kMissingOps);
  }
  if (config.ram_size == 0 || !aligned(config.ram_ipa) || !aligned(config.ram_size) ||
      config.ram_size > UINT64_MAX - config.ram_ipa) {
    return std::unexpected(VmError::kBadRam);
  }
  if (config.ram_size > kMaxRamSize) return std::unexpected(VmError::kRamTooLarge);
  if (page_states.size() < state_words(config.ram_size)) {
    return std::unexpected(VmError::kStorageTooSmall);
  }
  if (config.vcpus == 0 || config.vcpus > kMaxVcpus) return std::unexpected(VmError::kBadVcpus);
  if (config.devices.size() > kMaxDevices) return std::unexpected(VmError::kTooManyDevices);

  // Read and validate every region before anything is kept.
  for (const Region& d : config.devices) {
    if (d.size == 0 || !aligned(d.base) || !aligned(d.size) || d.size > UINT64_MAX - d.base) {
      return std::unexpected(VmError::kBadDevice);
    }
  }
  uint64_t granules = 0;
  for (size_t i = 0; i < config.devices.size(); ++i) {
    const Region& d = config.devices[i];
    if (overlaps(d.base, d.size, config.ram_ipa, config.ram_size)) {
      return std::unexpected(VmError::kDeviceInRam);
    }
    for (size_t j = 0; j < i; ++j) {
      const Region& o = config.devices[j];
      if (overlaps(d.base, d.size, o.base, o.size)) {
        return std::unexpected(VmError::kDeviceOverlap);
      }
    }
    const uint64_t n = d.size / kGranule;
    if (n > kMaxDeviceGranules - granules) return std::unexpected(VmError::kTooManyDevices);
    granules += n;
  }

  // Accepted: build the VM from the validated values only.
  Vm* vm = new (storage) Vm();
  uint32_t first = 0;
  for (size_t i = 0; i < config.devices.size(); ++i) {
    const uint64_t n = config.devices[i].size / kGranule;
    vm->devices_[i] = Device{config.devices[i].base, n, first};
    first += static_cast<uint32_t>(n);
  }
  vm->n_devices_ = config.devices.size();
  vm->ram_ipa_ = config.ram_ipa;
  vm->ram_size_ = config.ram_size;
  vm->ram_pages_ = config.ram_size / kGranule;
  vm->pages_ = page_states.first(state_words(config.ram_size));
  for (uint64_t& w : vm->pages_) w = 0;
  vm->guard_offered_ = config.mmio_guard;
  vm->vcpus_ = config.vcpus;
  vm->ops_ = ops;
  return vm;
}

std::optional<uint32_t> Vm::device_granule(uint64_t ipa) const {
  for (size_t i = 0; i < n_devices_; ++i) {
    const Device& d = devices_[i];
    if (ipa >= d.base && (ipa - d.base) / kGranule < d.granules) {
      return d.first + static_cast<uint32_t>((ipa - d.base) / kGranule);
    }
  }
  return std::nullopt;
}

std::optional<PageState> Vm::page_state(uint64_t ipa) const {
  if (ipa < ram_ipa_ || ipa - ram_ipa_ >= ram_size_) return std::nullopt;
  const uint64_t n = (ipa - ram_ipa_) / kGranule;
  return ((pages_[n / 64] >> (n % 64)) & 1) != 0 ? PageState::kShared : PageState::kPrivate;
}

bool Vm::device_mapped(uint64_t ipa) const {
  const auto i = device_granule(ipa);
  return i && test_bit(mapped_, *i);
}

bool Vm::guard_mapped(uint64_t ipa) const {
  const auto i = device_granule(ipa);
  return i && test_bit(guarded_, *i);
}

size_t Vm::mapped_device_granules() const { return count_bits(mapped_); }
size_t Vm::guard_mapped_granules() const { return count_bits(guarded_); }

// Pages [first, first + count) of RAM, a word at a time; the caller checked
// that the range lies inside RAM.
bool Vm::pages_all(uint64_t first, uint64_t count, bool shared) const {
  const uint64_t end = first + count;
  for (uint64_t i = first; i < end;) {
    const uint64_t bit = i % 64;
    const uint64_t n = (end - i < 64 - bit) ? end - i : 64 - bit;
    const uint64_t mask = (n == 64 ? ~uint64_t{0} : ((uint64_t{1} << n) - 1)) << bit;
    const uint64_t want = shared ? mask : 0;
    if ((pages_[i / 64] & mask) != want) return false;
    i += n;
  }
  return true;
}

void Vm::set_pages(uint64_t first, uint64_t count, bool shared) {
  const uint64_t end = first + count;
  for (uint64_t i = first; i < end;) {
    const uint64_t bit = i % 64;
    const uint64_t n = (end - i < 64 - bit) ? end - i : 64 - bit;
    const uint64_t mask = (n == 64 ? ~uint64_t{0} : ((uint64_t{1} << n) - 1)) << bit;
    pages_[i / 64] = shared ? (pages_[i / 64] | mask) : (pages_[i / 64] & ~mask);
    i += n;
  }
}

// MEM_SHARE / MEM_UNSHARE: every page of the range must be in the other
// state; all or nothing (pkvm-abi.md "Invariants").
int64_t Vm::mem_share(uint64_t ipa, uint64_t count, uint64_t x3, bool share) {
  if (x3 != 0 || !aligned(ipa)) return abi::kInvalidParameter;
  if (ipa < ram_ipa_ || ipa - ram_ipa_ >= ram_size_) return abi::kInvalidParameter;
  const uint64_t first = (ipa - ram_ipa_) / kGranule;
  const uint64_t n = count <= 1 ? 1 : count;
  if (n > ram_pages_ - first) return abi::kInvalidParameter;
  if (!pages_all(first, n, !share)) return abi::kInvalidParameter;
  set_pages(first, n, share);
  shared_pages_ = share ? shared_pages_ + n : shared_pages_ - n;
  return abi::kSuccess;
}

// From now on only guard-mapped granules reach devices: drop every mapping
// made on a fault before.
void Vm::enroll() {
  if (enrolled_) return;
  enrolled_ = true;
  for (size_t i = 0; i < n_devices_; ++i) {
    const Device& d = devices_[i];
    for (uint64_t g = 0; g < d.granules; ++g) {
      const auto bit = d.first + static_cast<uint32_t>(g);
      if (test_bit(mapped_, bit) && !test_bit(guarded_, bit)) {
        ops_.unmap_device(ops_.ctx, d.base + g * kGranule);
        assign_bit(mapped_, bit, false);
      }
    }
  }
}

int64_t Vm::guard_enroll() {
  if (!guard_offered_) return abi::kNotSupported;
  enroll();
  return abi::kSuccess;
}

int64_t Vm::guard_map(uint64_t ipa) {
  if (!guard_offered_) return abi::kNotSupported;
  if (!aligned(ipa)) return abi::kInvalidParameter;
  const auto i = device_granule(ipa);
  if (!i) return abi::kInvalidParameter;
  // Guarded before enrolling, so that a granule mapped on a fault stays.
  assign_bit(guarded_, *i, true);
  // Upstream Linux never calls ENROLL: its first MAP enrols (pkvm-abi.md).
  enroll();
  // Mapped now, saving the guest a fault; if that fails the first access
  // maps it (handle_abort).
  if (!test_bit(mapped_, *i) && ops_.map_device(ops_.ctx, ipa)) assign_bit(mapped_, *i, true);
  return abi::kSuccess;
}

int64_t Vm::guard_unmap(uint64_t ipa) {
  if (!guard_offered_) return abi::kNotSupported;
  if (!aligned(ipa)) return abi::kInvalidParameter;
  const auto i = device_granule(ipa);
  if (!i || !test_bit(guarded_, *i)) return abi::kInvalidParameter;
  assign_bit(guarded_, *i, false);
  if (test_bit(mapped_, *i)) {
    ops_.unmap_device(ops_.ctx, ipa);
    assign_bit(mapped_, *i, false);
  }
  return abi::kSuccess;
}

// TRNG_RND32 / RND64 (DEN0098 §2.5): the value is read as one number of up to
// 192 bits, v[0] least significant, and returned in x3 (least significant),
// x2, x1; RND32 uses the low 32 bits of each register.
void Vm::trng_rnd(GuestRegs& regs, uint64_t bits, bool smc64) {
  const uint64_t max = smc64 ? abi::kTrngMaxBits64 : abi::kTrngMaxBits32;
  if (bits == 0 || bits > max) {
    set_result(regs, abi::kTrngInvalidParameters);
    return;
  }
  std::array<uint64_t, 3> v{};
  const uint64_t words = (bits + 63) / 64;
  for (uint64_t k = 0; k < words; ++k) {
    if (!ops_.random64(ops_.ctx, &v[k])) {
      v = {};
      set_result(regs, abi::kTrngNoEntropy);
      return;
    }
  }
  for (uint64_t k = 0; k < 3; ++k) {
    const uint64_t low = 64 * k;
    if (bits <= low) {
      v[k] = 0;
    } else if (bits - low < 64) {
      v[k] &= (uint64_t{1} << (bits - low)) - 1;
    }
  }
  if (smc64) {
    set_result(regs, abi::kTrngSuccess, v[2], v[1], v[0]);
  } else {
    set_result(regs, abi::kTrngSuccess, v[1] & 0xffff'ffffu, v[0] >> 32, v[0] & 0xffff'ffffu);
  }
  // The entropy is the guest's now; leave no copy on the hypervisor's stack.
  v = {};
  asm volatile("" : : "r"(v.data()) : "memory");
}

// PSCI CPU_ON (DEN0022 §5.6): the target must be a vCPU's MPIDR (QEMU virt
// with GICv2: Aff0 = the CPU's index, the other affinity levels 0; bits
// outside the affinity fields must be 0), the entry point inside VM RAM.
CallExit Vm::cpu_on(GuestRegs& regs, uint64_t mpidr, uint64_t entry, uint64_t context) {
  if (mpidr >= vcpus_) {
    set_result(regs, abi::kPsciInvalidParameters);
    return resume();
  }
  if (entry < ram_ipa_ || entry - ram_ipa_ >= ram_size_) {
    set_result(regs, abi::kPsciInvalidAddress);
    return resume();
  }
  set_result(regs, abi::kPsciSuccess);
  CallExit e = exit(CallExit::Kind::kCpuOn);
  e.target_mpidr = mpidr;
  e.target_cpu = static_cast<uint32_t>(mpidr);
  e.entry = entry;
  e.context = context;
  return e;
}

CallExit Vm::handle_call(GuestRegs& regs) {
  const Call c = read_call(regs);
  if (one_of(c.fid, kTrng) && ops_.random64 == nullptr) {
    set_result(regs, abi::kTrngNotSupported);
    return resume();
  }

  switch (c.fid) {
    // --- Arm architecture calls ---
    case abi::kSmcccVersion:
      set_result(regs, static_cast<int64_t>(abi::kSmcccVersion1_1));
      return resume();
    case abi::kSmcccArchFeatures: {
      // Only the discovery calls themselves; the CPU-erratum workarounds are
      // not offered (the guest treats them as absent).
      const auto queried = static_cast<uint32_t>(c.a1);
      const bool ok = queried == abi::kSmcccVersion || queried == abi::kSmcccArchFeatures;
      set_result(regs, ok ? abi::kSuccess : abi::kNotSupported);
      return resume();
    }

    // --- KVM vendor-hyp service ---
    case abi::kVendorHypCallUid:
      set_result(regs, abi::kKvmUidWords[0], abi::kKvmUidWords[1], abi::kKvmUidWords[2],
                 abi::kKvmUidWords[3]);
      return resume();
    case abi::kKvmFeatures: {
      uint64_t bits =
          (uint64_t{1} << abi::kFeatureBitFeatures) | (uint64_t{1} << abi::kFeatureBitHypMeminfo) |
          (uint64_t{1} << abi::kFeatureBitMemShare) | (uint64_t{1} << abi::kFeatureBitMemUnshare);
      if (guard_offered_) {
        bits |= (uint64_t{1} << abi::kFeatureBitMmioGuardInfo) |
                (uint64_t{1} << abi::kFeatureBitMmioGuardEnroll) |
                (uint64_t{1} << abi::kFeatureBitMmioGuardMap) |
                (uint64_t{1} << abi::kFeatureBitMmioGuardUnmap);
      }
      set_result(regs, static_cast<int64_t>(bits));
      return resume();
    }
    case abi::kHypMeminfo:
      set_result(regs, (c.a1 | c.a2 | c.a3) != 0 ? abi::kInvalidParameter
                                                 : static_cast<int64_t>(kGranule));
      return resume();
    case abi::kMemShare:
      set_result(regs, mem_share(c.a1, c.a2, c.a3, true));
      return resume();
    case abi::kMemUnshare:
      set_result(regs, mem_share(c.a1, c.a2, c.a3, false));
      return resume();
    case abi::kMmioGuardInfo:
      set_result(regs, guard_offered_ ? static_cast<int64_t>(kGranule) : abi::kNotSupported);
      return resume();
    case abi::kMmioGuardEnroll:
      set_result(regs, guard_enroll());
      return resume();
    case abi::kMmioGuardMap:
      set_result(regs, guard_map(c.a1));
      return resume();
    case abi::kMmioGuardUnmap:
      set_result(regs, guard_unmap(c.a1));
      return resume();

    // --- SMCCC TRNG (random64 present, checked above) ---
    case abi::kTrngVersion:
      set_result(regs, static_cast<int64_t>(abi::kTrngVersion1_0));
      return resume();
    case abi::kTrngFeatures:
      set_result(regs,
                 one_of(static_cast<uint32_t>(c.a1), kTrng) ? abi::kTrngSuccess : abi::kTrngNotSupported);
      return resume();
    case abi::kTrngGetUuid:
      set_result(regs, abi::kKvmTrngUuidWords[0], abi::kKvmTrngUuidWords[1],
                 abi::kKvmTrngUuidWords[2], abi::kKvmTrngUuidWords[3]);
      return resume();
    case abi::kTrngRnd32:
    case abi::kTrngRnd64:
      trng_rnd(regs, c.a1, c.smc64);
      return resume();

    // --- PSCI ---
    case abi::kPsciVersion:
    case abi::kPsciCpuSuspend32:
    case abi::kPsciCpuSuspend64:
    case abi::kPsciCpuOff:
    case abi::kPsciAffinityInfo32:
    case abi::kPsciAffinityInfo64:
    case abi::kPsciMigrateInfoType:
      return forward(regs, c);
    case abi::kPsciFeatures: {
      const auto queried = static_cast<uint32_t>(c.a1);
      if (one_of(queried, kPsciForwarded)) return forward(regs, c);
      set_result(regs, one_of(queried, kPsciServedHere) ? abi::kPsciSuccess : abi::kPsciNotSupported);
      return resume();
    }
    case abi::kPsciCpuOn32:
    case abi::kPsciCpuOn64:
      return cpu_on(regs, c.a1, c.a2, c.a3);
    case abi::kPsciSystemOff:
    case abi::kPsciSystemReset:
      regs.x[0] = c.fid;
      return exit(c.fid == abi::kPsciSystemOff ? CallExit::Kind::kSystemOff
                                               : CallExit::Kind::kSystemReset);

    default:
      set_result(regs, abi::kNotSupported);
      return resume();
  }
}

AbortExit Vm::handle_abort(uint64_t ipa, [[maybe_unused]] bool write) {
  const uint64_t granule = ipa & ~(kGranule - 1);
  // Devices never overlap RAM (init), so RAM and everything else end here.
  const auto i = device_granule(granule);
  if (!i) return AbortExit::kInject;
  if (enrolled_ && !test_bit(guarded_, *i)) return AbortExit::kInject;
  if (!ops_.map_device(ops_.ctx, granule)) return AbortExit::kInject;
  assign_bit(mapped_, *i, true);
  return AbortExit::kRetry;
}

}  // namespace hyp

// The hypervisor's guest-ABI core for one VM (docs/hypervisor.md "Guest
// ABI"): the SMCCC dispatcher for calls the guest makes by HVC or by a trapped
// SMC, the page states of the VM's RAM (private or shared with the host), the
// MMIO guard, and the stage-2 faults on device IPAs. Numbers: vm/abi.h.
//
// The library decides; the caller (the EL2 code) acts. It never touches
// hardware: stage-2 changes and entropy go through a Stage2Ops of plain
// function pointers (no virtual dispatch, STYLE.md rule 8), everything the
// caller must do itself (forward PSCI to the firmware, start a CPU, power
// off) comes back as an exit. The same code runs in hyp.bin and on the host
// under unit tests and a fuzzer with a fake Stage2Ops.
//
// Callers may rely on, for a Vm that create() made:
//   - a page of RAM is private or shared, never both; it changes only by a
//     MEM_SHARE / MEM_UNSHARE that answered SUCCESS, which flips every page
//     of its range (all or nothing);
//   - map_device is only ever called for a 4 KiB granule inside one of
//     config.devices (never RAM, never anything else: fw_cfg carries the
//     device secret); once the VM is enrolled in the MMIO guard, only for a
//     granule the guest guard-mapped, and every granule mapped lazily before
//     enrolment has been unmapped through unmap_device;
//   - a call answered with an error changes nothing: no page state, no
//     mapping, no enrolment;
//   - x0 after a kResume is one of the codes documented below for that call.
// Fixed capacity, no heap, no exceptions, no globals (one Vm per VM). Not
// thread-safe: the caller serialises handle_call / handle_abort per VM (one
// lock, taken by whichever vCPU traps).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>

namespace hyp {

// The protection granule (HYP_MEMINFO) and MMIO guard granule
// (MMIO_GUARD_INFO): both 4 KiB.
inline constexpr uint64_t kGranule = 4096;
// Largest VM RAM the hypervisor supports.
inline constexpr uint64_t kMaxRamSize = uint64_t{4} << 30;
// Capacity of the device table: regions, and 4 KiB granules over all of them
// (QEMU virt's PL011 + PL031 + the 32 virtio-mmio transports are 6).
inline constexpr size_t kMaxDevices = 16;
inline constexpr size_t kMaxDeviceGranules = 256;
// vCPUs: QEMU virt with GICv2 numbers CPU n with MPIDR Aff0 = n up to 8.
inline constexpr uint32_t kMaxVcpus = 8;

// The guest's general registers x0..x30 as saved at a trap; x0 holds the
// SMCCC function ID on entry to handle_call and the result on exit.
struct GuestRegs {
  uint64_t x[31];
};

// [base, base + size) in the VM's intermediate physical address space.
struct Region {
  uint64_t base;
  uint64_t size;
};

struct VmConfig {
  // VM RAM in IPA space: 4 KiB aligned, non-empty, at most kMaxRamSize; its
  // end (ram_ipa + ram_size) must be a uint64_t, as for every region here.
  uint64_t ram_ipa = 0;
  uint64_t ram_size = 0;
  // Offer the MMIO guard (launch flag bit 0). Without it the guard calls are
  // neither advertised nor served (NOT_SUPPORTED) and devices are always
  // mapped on first access, as pKVM VMs were before the guard existed.
  bool mmio_guard = false;
  // The MMIO regions the VM may reach (PL011, PL031, virtio-mmio): each 4 KiB
  // aligned and non-empty, none overlapping RAM or another. Copied by create();
  // the span need not outlive it. The GIC is not here: the caller maps it
  // permanently and never asks the library about it.
  std::span<const Region> devices;
  // vCPUs, 1..kMaxVcpus: CPU_ON targets MPIDR Aff0 < vcpus (other affinity
  // levels 0).
  uint32_t vcpus = 1;
};

// What the library asks of the VM's stage-2 tables and of the CPU. ctx is
// passed back unchanged as the first argument.
struct Stage2Ops {
  void* ctx = nullptr;
  // Map / unmap the 4 KiB device granule at `ipa` (identity: PA = IPA,
  // device memory, read/write, never executable). The caller invalidates the
  // TLB. map_device false: it could not (no table memory); the library then
  // behaves as if the granule stayed unmapped. Mapping a granule that is
  // already mapped must succeed and change nothing.
  bool (*map_device)(void* ctx, uint64_t ipa) = nullptr;
  void (*unmap_device)(void* ctx, uint64_t ipa) = nullptr;
  // 64 bits of entropy (FEAT_RNG RNDR), false when there is none right now.
  // nullptr: no entropy source at all, the SMCCC TRNG is not offered.
  bool (*random64)(void* ctx, uint64_t* out) = nullptr;
};

// Why create() refused. to_string gives the UPPER_SNAKE name in the comment,
// stable, for the hypervisor's refusal line.
enum class VmError : uint8_t {
  kBadStorage,       // BAD_STORAGE: the Vm's storage is nullptr or not aligned for a Vm
  kMissingOps,       // MISSING_OPS: map_device or unmap_device is nullptr
  kBadRam,           // BAD_RAM: RAM empty, not 4 KiB aligned, or wrapping
  kRamTooLarge,      // RAM_TOO_LARGE: more than kMaxRamSize
  kStorageTooSmall,  // STORAGE_TOO_SMALL: fewer than Vm::state_words(ram_size) words
  kBadVcpus,         // BAD_VCPUS: 0 or more than kMaxVcpus
  kTooManyDevices,   // TOO_MANY_DEVICES: over kMaxDevices regions or kMaxDeviceGranules granules
  kBadDevice,        // BAD_DEVICE: a device region empty, not 4 KiB aligned, or wrapping
  kDeviceInRam,      // DEVICE_IN_RAM: a device region overlaps RAM
  kDeviceOverlap,    // DEVICE_OVERLAP: two device regions overlap
};
const char* to_string(VmError e);

enum class PageState : uint8_t { kPrivate, kShared };

// What the caller does after handle_call.
struct CallExit {
  enum class Kind : uint8_t {
    // Return to the guest: x0..x3 hold the results.
    kResume,
    // A PSCI call for the platform firmware: issue SMC with x0..x3 as they
    // are now (x0 = the 32-bit function ID; for an SMC32 call x1..x3
    // zero-extended from 32 bits), copy the firmware's x0..x3 back into the
    // guest's, resume. CPU_SUSPEND is forwarded as is: safe on QEMU, whose
    // PSCI treats every suspend as standby (on real firmware a power-down
    // state would resume at the guest's entry point, at EL2).
    kPsciForward,
    // PSCI CPU_ON for a vCPU's MPIDR and an entry point inside VM RAM
    // (target_mpidr, target_cpu, entry, context below). x0 is preset to
    // SUCCESS and x1..x3 to 0; when the CPU is on already, or being started,
    // or cannot be started, the caller overwrites x0 with ALREADY_ON (-4) /
    // ON_PENDING (-5) / INTERNAL_FAILURE (-6). Then resume.
    kCpuOn,
    // PSCI SYSTEM_OFF / SYSTEM_RESET: x0 = the 32-bit function ID, x1..x3
    // untouched (so kPsciForward's SMC does it); the caller wipes what must be
    // wiped first. The guest is not resumed.
    kSystemOff,
    kSystemReset,
  };
  Kind kind = Kind::kResume;
  // kCpuOn only.
  uint64_t target_mpidr = 0;  // as the guest gave it: affinity fields only, Aff0 < vcpus
  uint32_t target_cpu = 0;    // the vCPU index (Aff0)
  uint64_t entry = 0;         // IPA inside VM RAM, entered at EL1
  uint64_t context = 0;       // the entry's x0
};
const char* to_string(CallExit::Kind k);

// What the caller does after handle_abort.
enum class AbortExit : uint8_t {
  kRetry,   // the granule is mapped now: return to the faulting instruction
  kInject,  // inject a synchronous external abort into the guest
};
const char* to_string(AbortExit a);

class Vm {
 public:
  // Words of page-state storage (one bit per 4 KiB page) for `ram_size`
  // bytes of RAM: 16384 (128 KiB) for kMaxRamSize.
  static constexpr size_t state_words(uint64_t ram_size) {
    return static_cast<size_t>((ram_size / kGranule + 63) / 64);
  }

  // Creates the VM in `storage` (sizeof(Vm) bytes aligned for a Vm, e.g. a
  // constinit `alignas(Vm) unsigned char[sizeof(Vm)]`; no static
  // constructor needed) from `config`, and takes `page_states` (at least
  // state_words(config.ram_size) words, the Vm's from now on; zeroed here:
  // every page starts private). Refuses, in this order: kBadStorage,
  // kMissingOps, kBadRam, kRamTooLarge, kStorageTooSmall, kBadVcpus,
  // kTooManyDevices (region count), kBadDevice, kDeviceInRam,
  // kDeviceOverlap, kTooManyDevices (granule count). A refusal writes
  // nothing: neither storage nor page_states. Nothing is mapped here.
  [[nodiscard]] static std::expected<Vm*, VmError> create(void* storage, const VmConfig& config,
                                                          const Stage2Ops& ops,
                                                          std::span<uint64_t> page_states);
  Vm(const Vm&) = delete;
  Vm& operator=(const Vm&) = delete;

  // The SMCCC dispatcher (DEN0028). The function ID is W0: the upper 32 bits
  // of x0 are ignored for every call. For SMC32 IDs (bit 30 clear) only the
  // low 32 bits of x1..x3 are read. On kResume x0..x3 are written (unused
  // result registers zero, negative codes sign-extended to 64 bits), and
  // nothing else. Answers:
  //   SMCCC_VERSION           0x10001 (v1.1)
  //   SMCCC_ARCH_FEATURES     x1 = SMCCC_VERSION or ARCH_FEATURES: 0; anything
  //                           else (the WORKAROUND_n, SOC_ID): -1
  //   vendor-hyp UID          KVM's UUID words (abi::kKvmUidWords)
  //   KVM_FEATURES            x0 = bits 0, 2, 3, 4, plus 5..8 when the guard is
  //                           offered; x1..x3 = 0
  //   HYP_MEMINFO             4096; -3 if x1..x3 are not all 0
  //   MEM_SHARE / UNSHARE     x1 = IPA, x2 = granule count (0 or 1: one), x3 = 0:
  //                           0, or -3 (misaligned, not all inside RAM, a page
  //                           in the wrong state, x3 != 0)
  //   MMIO_GUARD_INFO         4096                      (guard offered, else -1)
  //   MMIO_GUARD_ENROLL       0, also when enrolled already (else -1)
  //   MMIO_GUARD_MAP          x1 = IPA (x2 ignored): 0 (also when mapped
  //                           already), -3 unless a 4 KiB aligned granule of a
  //                           device; enrols first if not enrolled (else -1)
  //   MMIO_GUARD_UNMAP        x1 = IPA: 0, -3 unless the granule is
  //                           guard-mapped (so -3 before enrolment) (else -1)
  //   TRNG_VERSION            0x10000 (v1.0)            (with random64, else -1)
  //   TRNG_FEATURES           x1 = a TRNG ID: 0, else -1  (with random64, else -1)
  //   TRNG_GET_UUID           abi::kKvmTrngUuidWords   (with random64, else -1)
  //   TRNG_RND32 / RND64      x1 = bits, 1..96 / 1..192: 0 and the entropy in
  //                           x1..x3 (x3 least significant; 32-bit words for
  //                           RND32), bits above the request zero; -2 bad bit
  //                           count; -3 NO_ENTROPY (x1..x3 = 0 on errors)
  //   PSCI VERSION, CPU_SUSPEND, CPU_OFF, AFFINITY_INFO, MIGRATE_INFO_TYPE
  //                           kPsciForward
  //   PSCI_FEATURES           x1 = CPU_ON, SYSTEM_OFF/RESET or SMCCC_VERSION: 0;
  //                           a forwarded PSCI call: kPsciForward; else -1
  //   PSCI CPU_ON (32/64)     kCpuOn; -2 INVALID_PARAMETERS for a target that is
  //                           not a vCPU's MPIDR, -9 INVALID_ADDRESS for an entry
  //                           outside VM RAM (DEN0022 §5.6.2)
  //   PSCI SYSTEM_OFF/RESET   kSystemOff / kSystemReset
  //   anything else           -1 (MEM_RELINQUISH included: not offered)
  [[nodiscard]] CallExit handle_call(GuestRegs& regs);

  // A stage-2 translation fault at `ipa` (any byte of the granule) that the
  // caller did not resolve itself. Permission faults are not for this
  // function. kRetry only when the granule belongs to a device and the VM is
  // not enrolled (or the guard is not offered), or it is guard-mapped; the
  // granule was then mapped through map_device. Everything else (RAM, which
  // is fully mapped, and any other IPA) and a failed map_device: kInject.
  // `write` does not change the answer today (devices are read/write).
  [[nodiscard]] AbortExit handle_abort(uint64_t ipa, bool write);

  // --- Queries (tests, the hypervisor's reports) ---
  // The state of the page holding `ipa`; nothing outside RAM.
  std::optional<PageState> page_state(uint64_t ipa) const;
  // Pages currently shared with the host.
  uint64_t shared_pages() const { return shared_pages_; }
  bool guard_offered() const { return guard_offered_; }
  bool enrolled() const { return enrolled_; }
  // Whether `ipa` lies in one of the config's device regions.
  bool is_device(uint64_t ipa) const { return device_granule(ipa).has_value(); }
  // Whether the device granule holding `ipa` is mapped in stage 2 (as far as
  // the library made it: mapped through map_device and not unmapped since).
  bool device_mapped(uint64_t ipa) const;
  // Whether the guest guard-mapped the device granule holding `ipa`.
  bool guard_mapped(uint64_t ipa) const;
  size_t mapped_device_granules() const;
  size_t guard_mapped_granules() const;

 private:
  Vm() = default;

  struct Device {
    uint64_t base = 0;
    uint64_t granules = 0;
    uint32_t first = 0;  // index of its first granule in the bitmaps
  };
  using GranuleBits = std::array<uint64_t, kMaxDeviceGranules / 64>;

  std::optional<uint32_t> device_granule(uint64_t ipa) const;
  void enroll();
  void set_pages(uint64_t first, uint64_t count, bool shared);
  bool pages_all(uint64_t first, uint64_t count, bool shared) const;

  int64_t mem_share(uint64_t ipa, uint64_t count, uint64_t x3, bool share);
  int64_t guard_enroll();
  int64_t guard_map(uint64_t ipa);
  int64_t guard_unmap(uint64_t ipa);
  void trng_rnd(GuestRegs& regs, uint64_t bits, bool smc64);
  CallExit cpu_on(GuestRegs& regs, uint64_t mpidr, uint64_t entry, uint64_t context);

  bool guard_offered_ = false;
  bool enrolled_ = false;
  uint32_t vcpus_ = 0;
  uint64_t ram_ipa_ = 0;
  uint64_t ram_size_ = 0;
  uint64_t ram_pages_ = 0;
  uint64_t shared_pages_ = 0;
  Stage2Ops ops_{};
  std::span<uint64_t> pages_{};  // bit n of word n/64 set: page n shared
  std::array<Device, kMaxDevices> devices_{};
  size_t n_devices_ = 0;
  GranuleBits mapped_{};
  GranuleBits guarded_{};
};

}  // namespace hyp

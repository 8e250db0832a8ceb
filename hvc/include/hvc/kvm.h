// The pKVM guest ABI (vendor-specific hypervisor service calls, SMCCC owner 6)
// and the Arm SMCCC TRNG: typed calls with typed results. IDs, arguments and
// rules: Android's KVM (arch/arm64/include/asm/kvm_pkvm.h and
// Documentation/virt/kvm/arm/hypercalls.rst) and docs/abi.md. On plain QEMU every call answers
// NOT_SUPPORTED (-1), which these functions report as "not available".
#pragma once

#include <array>
#include <cstdint>
#include <expected>

#include "hvc/smccc.h"

namespace hvc {

namespace fid {
inline constexpr uint32_t kHypMeminfo = 0xc600'0002;
inline constexpr uint32_t kMemShare = 0xc600'0003;
inline constexpr uint32_t kMemUnshare = 0xc600'0004;
inline constexpr uint32_t kMmioGuardInfo = 0xc600'0005;
inline constexpr uint32_t kMmioGuardEnroll = 0xc600'0006;
inline constexpr uint32_t kMmioGuardMap = 0xc600'0007;
inline constexpr uint32_t kMmioGuardUnmap = 0xc600'0008;
inline constexpr uint32_t kTrngVersion = 0x8400'0050;
inline constexpr uint32_t kTrngFeatures = 0x8400'0051;
inline constexpr uint32_t kTrngRnd64 = 0xc400'0053;
}  // namespace fid

// KVM_FEATURES: bit n set = vendor-hyp function number n is implemented.
struct KvmFeatures {
  std::array<uint32_t, 4> words{};
  constexpr bool has(uint32_t function_id) const {
    const uint32_t n = function_id & 0xffff;
    return n < 128 && ((words[n / 32] >> (n % 32)) & 1) != 0;
  }
};

// What discovery found: KVM by its UID, a protected VM by the memory
// protection calls in the feature bitmap (MEMINFO, MEM_SHARE, MEM_UNSHARE, as
// upstream Linux's pKVM guest driver decides) and HYP_MEMINFO answering; the
// MMIO guard, separately, by its four feature bits and MMIO_GUARD_INFO
// answering (a protected VM may be created without it: docs/hypervisor.md).
struct Hypervisor {
  bool kvm = false;
  KvmFeatures features;
  bool protected_vm = false;     // MEMINFO, MEM_SHARE and MEM_UNSHARE present
  uint64_t memory_granule = 0;   // HYP_MEMINFO
  uint64_t mmio_granule = 0;     // MMIO_GUARD_INFO; 0: no MMIO guard offered
  bool mmio_guard() const { return mmio_granule != 0; }
};
[[nodiscard]] Hypervisor discover(Conduit conduit);

// Memory sharing, one granule-aligned IPA per call.
[[nodiscard]] Status mem_share(Conduit conduit, uint64_t ipa);
[[nodiscard]] Status mem_unshare(Conduit conduit, uint64_t ipa);

// MMIO guard: after enroll, only MMIO_GUARD_MAPped granules reach the VMM.
[[nodiscard]] Status mmio_guard_enroll(Conduit conduit);
[[nodiscard]] Status mmio_guard_map(Conduit conduit, uint64_t ipa);
// Android 13 kernels answer -1 on success (pkvm-abi.md): callers that unmap
// everything before the jump treat NOT_SUPPORTED from UNMAP as done.
[[nodiscard]] Status mmio_guard_unmap(Conduit conduit, uint64_t ipa);

// SMCCC TRNG (Arm DEN0098). available(): version >= 1.0 and RND64 present.
[[nodiscard]] bool trng_available(Conduit conduit);
// 192 bits of entropy (x1:x2:x3 of TRNG_RND64), retrying NO_ENTROPY up to
// `retries` times; the error says why there is none.
[[nodiscard]] std::expected<std::array<uint64_t, 3>, Status> trng_rnd192(Conduit conduit,
                                                                          unsigned retries = 64);

}  // namespace hvc

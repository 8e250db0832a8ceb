// The guest ABI's numbers, as the hypervisor serves them: SMCCC function IDs
// and return codes. Sources: Arm DEN0028 (SMCCC), DEN0022 (PSCI), DEN0098
// (SMCCC TRNG) and the pKVM vendor-hyp calls as Android's KVM implements
// them (docs/hypervisor.md). The guest side of the same table is hvc/ (hvc/kvm.h, hvc/psci.h).
#pragma once

#include <array>
#include <cstdint>

namespace hyp::abi {

// --- Function IDs (the full 32-bit W0 value) ---

// Arm architecture calls (owner 0), DEN0028 §7.
inline constexpr uint32_t kSmcccVersion = 0x8000'0000;
inline constexpr uint32_t kSmcccArchFeatures = 0x8000'0001;
inline constexpr uint32_t kSmcccArchSocId = 0x8000'0002;
inline constexpr uint32_t kSmcccArchWorkaround1 = 0x8000'8000;
inline constexpr uint32_t kSmcccArchWorkaround2 = 0x8000'7fff;
inline constexpr uint32_t kSmcccArchWorkaround3 = 0x8000'3fff;

// PSCI (owner 4), DEN0022 §5. Where a call has both, the 64-bit ID is
// 0xC400'00nn and the 32-bit one 0x8400'00nn.
inline constexpr uint32_t kPsciVersion = 0x8400'0000;
inline constexpr uint32_t kPsciCpuSuspend32 = 0x8400'0001;
inline constexpr uint32_t kPsciCpuSuspend64 = 0xc400'0001;
inline constexpr uint32_t kPsciCpuOff = 0x8400'0002;
inline constexpr uint32_t kPsciCpuOn32 = 0x8400'0003;
inline constexpr uint32_t kPsciCpuOn64 = 0xc400'0003;
inline constexpr uint32_t kPsciAffinityInfo32 = 0x8400'0004;
inline constexpr uint32_t kPsciAffinityInfo64 = 0xc400'0004;
inline constexpr uint32_t kPsciMigrateInfoType = 0x8400'0006;
inline constexpr uint32_t kPsciSystemOff = 0x8400'0008;
inline constexpr uint32_t kPsciSystemReset = 0x8400'0009;
inline constexpr uint32_t kPsciFeatures = 0x8400'000a;

// SMCCC TRNG (owner 4), DEN0098 §2.
inline constexpr uint32_t kTrngVersion = 0x8400'0050;
inline constexpr uint32_t kTrngFeatures = 0x8400'0051;
inline constexpr uint32_t kTrngGetUuid = 0x8400'0052;
inline constexpr uint32_t kTrngRnd32 = 0x8400'0053;
inline constexpr uint32_t kTrngRnd64 = 0xc400'0053;

// KVM's vendor-specific hypervisor service (owner 6), pkvm-abi.md.
inline constexpr uint32_t kKvmFeatures = 0x8600'0000;
inline constexpr uint32_t kVendorHypCallUid = 0x8600'ff01;
inline constexpr uint32_t kHypMeminfo = 0xc600'0002;
inline constexpr uint32_t kMemShare = 0xc600'0003;
inline constexpr uint32_t kMemUnshare = 0xc600'0004;
inline constexpr uint32_t kMmioGuardInfo = 0xc600'0005;
inline constexpr uint32_t kMmioGuardEnroll = 0xc600'0006;
inline constexpr uint32_t kMmioGuardMap = 0xc600'0007;
inline constexpr uint32_t kMmioGuardUnmap = 0xc600'0008;
inline constexpr uint32_t kMemRelinquish = 0xc600'0009;  // not offered: NOT_SUPPORTED

// --- Return codes, as signed values in x0 (sign-extended to 64 bits) ---

// SMCCC (DEN0028 §7.1) and the vendor-hyp calls.
inline constexpr int64_t kSuccess = 0;
inline constexpr int64_t kNotSupported = -1;
inline constexpr int64_t kNotRequired = -2;
inline constexpr int64_t kInvalidParameter = -3;

// PSCI (DEN0022 §5.2.2).
inline constexpr int64_t kPsciSuccess = 0;
inline constexpr int64_t kPsciNotSupported = -1;
inline constexpr int64_t kPsciInvalidParameters = -2;
inline constexpr int64_t kPsciDenied = -3;
inline constexpr int64_t kPsciAlreadyOn = -4;
inline constexpr int64_t kPsciOnPending = -5;
inline constexpr int64_t kPsciInternalFailure = -6;
inline constexpr int64_t kPsciInvalidAddress = -9;

// TRNG (DEN0098 §2.1).
inline constexpr int64_t kTrngSuccess = 0;
inline constexpr int64_t kTrngNotSupported = -1;
inline constexpr int64_t kTrngInvalidParameters = -2;
inline constexpr int64_t kTrngNoEntropy = -3;

// --- Values the discovery calls return ---

inline constexpr uint64_t kSmcccVersion1_1 = 0x1'0001;
inline constexpr uint64_t kTrngVersion1_0 = 0x1'0000;
// Largest request: TRNG_RND32 returns up to 96 bits, TRNG_RND64 up to 192.
inline constexpr uint64_t kTrngMaxBits32 = 96;
inline constexpr uint64_t kTrngMaxBits64 = 192;

// KVM's vendor-hyp UUID 28b46fb6-2ec5-11e9-a9ca-4b564d003a74, as the four
// 32-bit words x0..x3 of the UID call (the UUID's bytes read as
// little-endian words, as KVM returns them; pkvm-abi.md "Discovery").
inline constexpr std::array<uint32_t, 4> kKvmUidWords = {0xb66f'b428, 0xe911'c52e, 0x564b'caa9,
                                                         0x743a'004d};
// KVM's TRNG back-end UUID 0d21e000-4384-11eb-8070-5244554e5a4c, in the same
// word order (Linux arch/arm64/kvm/trng.c returns the UUID's bytes as
// little-endian words in w0..w3).
inline constexpr std::array<uint32_t, 4> kKvmTrngUuidWords = {0x00e0'210d, 0xeb11'8443, 0x4452'7080,
                                                              0x4c5a'4e55};

// KVM_FEATURES bit numbers (the function number, bits 15:0 of the ID).
inline constexpr uint32_t kFeatureBitFeatures = 0;
inline constexpr uint32_t kFeatureBitHypMeminfo = 2;
inline constexpr uint32_t kFeatureBitMemShare = 3;
inline constexpr uint32_t kFeatureBitMemUnshare = 4;
inline constexpr uint32_t kFeatureBitMmioGuardInfo = 5;
inline constexpr uint32_t kFeatureBitMmioGuardEnroll = 6;
inline constexpr uint32_t kFeatureBitMmioGuardMap = 7;
inline constexpr uint32_t kFeatureBitMmioGuardUnmap = 8;

// SMCCC function-ID fields (DEN0028 §2.5).
constexpr bool is_smc64(uint32_t fid) { return (fid & (1u << 30)) != 0; }

}  // namespace hyp::abi

// Arm SMC Calling Convention (Arm DEN0028, SMCCC v1.1+): typed calls into the
// hypervisor (HVC) or firmware (SMC). Function IDs and rules: Arm DEN0028 (SMCCC)
// and docs/abi.md.
//
// On the host the raw call goes to a fake that tests install (hvc/fake.h); in
// the firmware it is one `hvc #0` / `smc #0` instruction.
#pragma once

#include <cstdint>
#include <expected>

namespace hvc {

enum class Conduit : uint8_t { kHvc, kSmc };
const char* to_string(Conduit c);

// Arguments x1..x7 and results x0..x3 of one call (SMCCC §2.7: results in x0-x3
// for SMC64/HVC64 fast calls that this project uses).
struct Args {
  uint64_t x1 = 0, x2 = 0, x3 = 0, x4 = 0, x5 = 0, x6 = 0, x7 = 0;
};
struct Result {
  uint64_t x0 = 0, x1 = 0, x2 = 0, x3 = 0;
};

// Standard SMCCC return codes (DEN0028 §7.1), as found in x0.
enum class Status : int64_t {
  kSuccess = 0,
  kNotSupported = -1,
  kNotRequired = -2,
  kInvalidParameter = -3,
};
const char* to_string(Status s);

// Function IDs (DEN0028; pkvm-abi.md).
namespace fid {
inline constexpr uint32_t kSmcccVersion = 0x8000'0000;
inline constexpr uint32_t kVendorHypCallUid = 0x8600'ff01;
inline constexpr uint32_t kKvmFeatures = 0x8600'0000;
}  // namespace fid

// One raw call. Never fails by itself; interpretation is the caller's.
Result call(Conduit conduit, uint32_t function_id, const Args& args = {});

// SMCCC_VERSION: {major, minor}, or kNotSupported on an SMCCC 1.0 system.
struct Version {
  uint16_t major;
  uint16_t minor;
};
[[nodiscard]] std::expected<Version, Status> smccc_version(Conduit conduit);

// Vendor-specific hypervisor service UID (DEN0028 §6.2): true when it is KVM's
// (28b46fb6-2ec5-11e9-a9ca-4b564d003a74), the pKVM guest ABI's owner.
[[nodiscard]] bool hypervisor_is_kvm(Conduit conduit);

}  // namespace hvc

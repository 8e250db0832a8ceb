#include "hvc/smccc.h"

#include "hvc/psci.h"

namespace hvc {

const char* to_string(Conduit c) { return c == Conduit::kHvc ? "hvc" : "smc"; }

const char* to_string(Status s) {
  switch (s) {
    case Status::kSuccess:
      return "SUCCESS";
    case Status::kNotSupported:
      return "NOT_SUPPORTED";
    case Status::kNotRequired:
      return "NOT_REQUIRED";
    case Status::kInvalidParameter:
      return "INVALID_PARAMETER";
  }
  return "UNKNOWN";
}

namespace {
// x0 as a signed SMCCC status. Results are 64-bit, but SMC32 functions return
// a 32-bit value: treat the low word as signed when the high word is zero.
int64_t status_of(uint64_t x0) {
  if ((x0 >> 32) == 0) return static_cast<int32_t>(static_cast<uint32_t>(x0));
  return static_cast<int64_t>(x0);
}

std::expected<Version, Status> version_from(uint64_t x0) {
  int64_t v = status_of(x0);
  if (v < 0) return std::unexpected(static_cast<Status>(v));
  return Version{static_cast<uint16_t>(v >> 16), static_cast<uint16_t>(v & 0xffff)};
}
}  // namespace

std::expected<Version, Status> smccc_version(Conduit conduit) {
  return version_from(call(conduit, fid::kSmcccVersion).x0);
}

bool hypervisor_is_kvm(Conduit conduit) {
  // DEN0028 §6.2: UID words in w0..w3. KVM's UUID per pkvm-abi.md.
  Result r = call(conduit, fid::kVendorHypCallUid);
  return (r.x0 & 0xffff'ffff) == 0xb66f'b428 && (r.x1 & 0xffff'ffff) == 0xe911'c52e &&
         (r.x2 & 0xffff'ffff) == 0x564b'caa9 && (r.x3 & 0xffff'ffff) == 0x743a'004d;
}

namespace psci {

std::expected<Version, Status> version(Conduit conduit) {
  return version_from(call(conduit, kVersion).x0);
}

Status system_off(Conduit conduit) {
  return static_cast<Status>(status_of(call(conduit, kSystemOff).x0));
}

Status system_reset(Conduit conduit) {
  return static_cast<Status>(status_of(call(conduit, kSystemReset).x0));
}

}  // namespace psci
}  // namespace hvc

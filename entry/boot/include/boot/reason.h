// Why a boot ends (boot/boot.h Failure; entry/fail.h's funnel prints it).
// Header-only and dependency-free: the exception path includes it.
#pragma once

#include <cstdint>

namespace boot {

// Why a boot ends: AOSP pvmfw's reboot reasons without their prefix. The
// console line is "pvmfw: boot failed: <to_string(reason)>: <detail>".
enum class Reason : uint8_t {
  kInternalError,
  kInvalidFdt,
  kInvalidPayload,
  kInvalidRamdisk,
  kPayloadVerificationFailed,
  kSecretDerivationFailed,
  kInvalidConfigData,
  kInvalidBcc,
  kUnexpectedException,
  kStackSmashed,
  kInvalidInstanceImage,
  kInstanceImageMismatch,
  kRollback,
  kTestHook,
};

// Stable names. Inline and branch-only: the exception path (built
// -mgeneral-regs-only) uses it too.
constexpr const char* to_string(Reason r) {
  switch (r) {
    case Reason::kInternalError: return "INTERNAL_ERROR";
    case Reason::kInvalidFdt: return "INVALID_FDT";
    case Reason::kInvalidPayload: return "INVALID_PAYLOAD";
    case Reason::kInvalidRamdisk: return "INVALID_RAMDISK";
    case Reason::kPayloadVerificationFailed: return "PAYLOAD_VERIFICATION_FAILED";
    case Reason::kSecretDerivationFailed: return "SECRET_DERIVATION_FAILED";
    case Reason::kInvalidConfigData: return "INVALID_CONFIG_DATA";
    case Reason::kInvalidBcc: return "INVALID_BCC";
    case Reason::kUnexpectedException: return "UNEXPECTED_EXCEPTION";
    case Reason::kInvalidInstanceImage: return "INVALID_INSTANCE_IMAGE";
    case Reason::kInstanceImageMismatch: return "INSTANCE_IMAGE_MISMATCH";
    case Reason::kRollback: return "ROLLBACK";
    case Reason::kStackSmashed: return "STACK_SMASHED";
    case Reason::kTestHook: return "TEST_HOOK";
  }
  return "INTERNAL_ERROR";
}

}  // namespace boot

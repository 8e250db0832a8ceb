// The one failure funnel. Every reason pvmfw refuses to boot ends here: one
// stable line on the console, `pvmfw: boot failed: <REASON>: <detail>`, then
// PSCI SYSTEM_RESET (tests run QEMU with -no-reboot, so the reset ends QEMU).
// Reason names follow AOSP's pvmfw reboot reasons without their prefix.
#pragma once

#include "hvc/smccc.h"

namespace fail {

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
  kTestHook,
};
const char* to_string(Reason r);

// The conduit the reset goes through (from the DT's /psci/method once read).
void set_conduit(hvc::Conduit c);

// From the first DICE secret on, general registers may hold key material: the
// exception report then prints the syndrome registers only. There is no way
// back: secrets stay in registers and RAM until the jump wipes them.
void mark_secrets_live();
bool secrets_live();

[[noreturn]] void boot_failed(Reason reason, const char* fmt, ...)
    __attribute__((format(printf, 2, 3)));

}  // namespace fail

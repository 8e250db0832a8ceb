#include "entry/fail.h"

#include <cstdarg>

#include "base/format.h"
#include "entry/console.h"
#include "hvc/psci.h"

extern "C" [[noreturn]] void pvmfw_halt();

namespace fail {
namespace {
constinit hvc::Conduit g_conduit = hvc::Conduit::kHvc;
constinit bool g_failing = false;
constinit bool g_secrets_live = false;
void sink(void*, const char* data, size_t len) { console::write(data, len); }
}  // namespace

const char* to_string(Reason r) {
  switch (r) {
    case Reason::kInternalError:
      return "INTERNAL_ERROR";
    case Reason::kInvalidFdt:
      return "INVALID_FDT";
    case Reason::kInvalidPayload:
      return "INVALID_PAYLOAD";
    case Reason::kInvalidRamdisk:
      return "INVALID_RAMDISK";
    case Reason::kPayloadVerificationFailed:
      return "PAYLOAD_VERIFICATION_FAILED";
    case Reason::kSecretDerivationFailed:
      return "SECRET_DERIVATION_FAILED";
    case Reason::kInvalidConfigData:
      return "INVALID_CONFIG_DATA";
    case Reason::kInvalidBcc:
      return "INVALID_BCC";
    case Reason::kUnexpectedException:
      return "UNEXPECTED_EXCEPTION";
    case Reason::kStackSmashed:
      return "STACK_SMASHED";
    case Reason::kTestHook:
      return "TEST_HOOK";
  }
  return "INTERNAL_ERROR";
}

void set_conduit(hvc::Conduit c) { g_conduit = c; }

void mark_secrets_live() { g_secrets_live = true; }
bool secrets_live() { return g_secrets_live; }

void boot_failed(Reason reason, const char* fmt, ...) {
  // A failure while reporting a failure: no second message, just reset.
  if (!g_failing) {
    g_failing = true;
    console::print("pvmfw: boot failed: %s: ", to_string(reason));
    va_list ap;
    va_start(ap, fmt);
    base::vformat(sink, nullptr, fmt, ap);
    va_end(ap);
    console::write("\n", 1);
  }
  hvc::Status s = hvc::psci::system_reset(g_conduit);
  console::print("pvmfw: PSCI SYSTEM_RESET failed (%s); halting\n", hvc::to_string(s));
  pvmfw_halt();
}

}  // namespace fail

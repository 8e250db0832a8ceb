#include "entry/fail.h"

#include <cstdarg>

#include "base/format.h"
#include "entry/console.h"

// entry/jump.S: wipes every RAM range pvmfw maps writable (and the caches'
// copies), then PSCI SYSTEM_RESET through SMC (smc != 0) or HVC; halts if
// the reset returns, after a line on the PL011 at `uart` (0: none).
extern "C" [[noreturn]] void pvmfw_wipe_and_reset(uint64_t smc, uint64_t uart);

namespace fail {
namespace {
// How far the funnel got: an exception or a failure while reporting one must
// neither print again nor re-enter the reporter (a console that faults would
// otherwise loop).
enum class State : uint8_t { kBooting, kReportingException, kFailing };
constinit State g_state = State::kBooting;
constinit hvc::Conduit g_conduit = hvc::Conduit::kHvc;
constinit bool g_secrets_live = false;
void sink(void*, const char* data, size_t len) { console::write(data, len); }
}  // namespace

void set_conduit(hvc::Conduit c) { g_conduit = c; }

void mark_secrets_live() { g_secrets_live = true; }
bool secrets_live() { return g_secrets_live; }

bool begin_exception_report() {
  if (g_state != State::kBooting) return false;
  g_state = State::kReportingException;
  return true;
}

void wipe_and_reset() {
  pvmfw_wipe_and_reset(g_conduit == hvc::Conduit::kSmc ? 1 : 0, console::current());
}

void boot_failed(Reason reason, const char* fmt, ...) {
  // A failure while reporting a failure: no second message, just the wipe
  // and the reset.
  if (g_state != State::kFailing) {
    g_state = State::kFailing;
    console::print("pvmfw: boot failed: %s: ", to_string(reason));
    va_list ap;
    va_start(ap, fmt);
    base::vformat(sink, nullptr, fmt, ap);
    va_end(ap);
    console::write("\n", 1);
  }
  // Always, whether or not DICE ran: the config window holds the previous
  // stage's CDIs from the first instruction on.
  wipe_and_reset();
}

}  // namespace fail

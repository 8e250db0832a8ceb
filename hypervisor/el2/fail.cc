// The runtime's failure hooks (stack protector, fortify, abort) end up in
// fail::boot_failed (entry/fail.h, the interface entry/rt/runtime.cc calls).
// In the hypervisor that is fatal: one line, the secrets wiped, power off.
#include "entry/fail.h"

#include <cstdarg>

#include "base/format.h"
#include "el2/hyp.h"
#include "entry/console.h"

namespace fail {
namespace {
void sink(void*, const char* data, size_t len) { console::write(data, len); }
}  // namespace

void boot_failed(Reason reason, const char* fmt, ...) {
  el2::wipe_secrets();
  console::print("hyp: fatal: %s: ", to_string(reason));
  va_list ap;
  va_start(ap, fmt);
  base::vformat(sink, nullptr, fmt, ap);
  va_end(ap);
  console::print("\nhyp: powering off\n");
  el2::power_off();
}

}  // namespace fail

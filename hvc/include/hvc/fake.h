// Host only: the test double behind hvc::call. Tests install a handler that
// plays the hypervisor; without one every call answers NOT_SUPPORTED (-1), as
// plain QEMU does for everything but PSCI.
#pragma once

#include "hvc/smccc.h"

namespace hvc::fake {

using Handler = Result (*)(Conduit conduit, uint32_t function_id, const Args& args);
void set_handler(Handler h);  // nullptr restores the default

}  // namespace hvc::fake

#include "hvc/fake.h"

namespace hvc {
namespace {
Result not_supported(Conduit, uint32_t, const Args&) {
  return Result{static_cast<uint64_t>(-1), 0, 0, 0};
}
fake::Handler g_handler = not_supported;
}  // namespace

void fake::set_handler(Handler h) { g_handler = h != nullptr ? h : not_supported; }

Result call(Conduit conduit, uint32_t function_id, const Args& args) {
  return g_handler(conduit, function_id, args);
}

}  // namespace hvc

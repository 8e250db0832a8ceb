#include "entry/console.h"

#include <board/layout.h>

#include <cstdarg>

#include "base/format.h"
#include "base/mmio.h"

namespace console {
namespace {

// PL011 registers (DDI 0183 Table 3-1) and the flag bit used.
constexpr uint64_t kDr = 0x000;   // data register
constexpr uint64_t kFr = 0x018;   // flag register
constexpr uint32_t kFrTxff = 1u << 5;  // transmit FIFO full

constinit uint64_t g_base = BOARD_EARLY_UART;

void put(char c) {
  // Bounded wait: a wedged UART must not hang the failure path forever.
  for (unsigned spin = 0; spin < 1'000'000; ++spin) {
    if ((base::mmio_read32(g_base + kFr) & kFrTxff) == 0) break;
  }
  base::mmio_write32(g_base + kDr, static_cast<uint8_t>(c));
}

void sink(void*, const char* data, size_t len) { write(data, len); }

}  // namespace

void use(uint64_t base) { g_base = base; }
uint64_t current() { return g_base; }

void write(const char* s, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (s[i] == '\n') put('\r');
    put(s[i]);
  }
}

void print(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  base::vformat(sink, nullptr, fmt, ap);
  va_end(ap);
}

}  // namespace console

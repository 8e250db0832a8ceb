// The firmware console: a PL011 UART (Arm DDI 0183, PrimeCell UART TRM §3.3).
// Safe to use from the exception path (no FP/SIMD, no allocation). Before the
// device tree names a console, the board's early UART is used.
#pragma once

#include <cstddef>
#include <cstdint>

namespace console {

// Switches output to the PL011 at `base` (identity mapped, Device memory).
void use(uint64_t base);
uint64_t current();

void write(const char* s, size_t n);
void print(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

}  // namespace console

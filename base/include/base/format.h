// A small printf-style formatter shared by the firmware console, the exception
// reporter and the host tools.
//
// It never touches floating-point or SIMD registers (the firmware builds it with
// -mgeneral-regs-only, so the exception path may use it) and never allocates.
// Supported: %% %c %s %d %i %u %x %X %p, flags '-', '0' and '#' (0x prefix for
// a non-zero %x, as C's printf), a decimal width, a precision for %s (%.*s),
// and the length modifiers l, ll, z. Anything else is printed verbatim.
#pragma once

#include <cstdarg>
#include <cstddef>

namespace base {

// Receives formatted bytes in order; `ctx` is the caller's.
using FormatSink = void (*)(void* ctx, const char* data, size_t len);

// Formats `fmt` with `ap` into `sink`; returns the number of bytes produced.
size_t vformat(FormatSink sink, void* ctx, const char* fmt, va_list ap);

// snprintf-like: writes at most `cap - 1` bytes and a NUL (when cap > 0);
// returns the length the full output would have had.
size_t format_to(char* buf, size_t cap, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));

}  // namespace base

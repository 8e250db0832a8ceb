// The freestanding runtime: what the compiler, libc++ headers and Debian's
// arm64 objects (built for Linux: stack protector, _FORTIFY_SOURCE) expect
// from an operating system (third_party/README.md).
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "entry/fail.h"

extern "C" {

// Set by start.S from RNDR before any C++ runs; 0 when there is no entropy.
uintptr_t __stack_chk_guard = 0;

[[noreturn]] void __stack_chk_fail() {
  fail::boot_failed(fail::Reason::kStackSmashed, "stack protector tripped");
}

// _FORTIFY_SOURCE entry points used by Debian-built objects: check, then do.
[[noreturn]] void __chk_fail() {
  fail::boot_failed(fail::Reason::kInternalError, "buffer overflow detected (fortify)");
}
void* __memcpy_chk(void* dst, const void* src, size_t n, size_t dst_len) {
  if (n > dst_len) __chk_fail();
  return memcpy(dst, src, n);
}
void* __memmove_chk(void* dst, const void* src, size_t n, size_t dst_len) {
  if (n > dst_len) __chk_fail();
  return memmove(dst, src, n);
}
void* __memset_chk(void* dst, int c, size_t n, size_t dst_len) {
  if (n > dst_len) __chk_fail();
  return memset(dst, c, n);
}

// C++ runtime hooks a freestanding image still needs.
[[noreturn]] void abort() {
  fail::boot_failed(fail::Reason::kInternalError, "abort() called");
}
// mbedTLS's buffer allocator calls exit(1) when it finds a corrupted block
// header (memory_buffer_alloc.c): a firmware bug or memory corruption, which
// ends the boot like any other.
[[noreturn]] void exit(int status) {
  fail::boot_failed(fail::Reason::kInternalError, "exit(%d) called (mbedTLS heap corrupted?)",
                    status);
}
[[noreturn]] void __cxa_pure_virtual() {
  fail::boot_failed(fail::Reason::kInternalError, "pure virtual call");
}

}  // extern "C"

// libc++ hardening assertions end here.
namespace std {
inline namespace __1 {
[[noreturn]] void __libcpp_verbose_abort(const char* format, ...) {
  fail::boot_failed(fail::Reason::kInternalError, "libc++ assertion: %s", format);
}
}  // namespace __1
}  // namespace std

// Placement new is header-only; plain new/delete and malloc do not exist in
// the firmware (there is no heap: every buffer is static or on the stack):
// using them is a link error, not a runtime surprise.

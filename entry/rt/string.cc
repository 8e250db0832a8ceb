// memcpy, memmove and memset for the firmware. Debian's picolibc has byte-at-a-
// time versions (about 5 instructions per byte), and libfdt, mbedTLS and the DT
// rebuild move a lot of bytes: these move 32 bytes per loop iteration.
//
// Only for Normal memory with the MMU on (unaligned accesses are fine there);
// never for device memory, and never called by the MMU-off code (entry/mmu.cc
// is built so that it makes no library calls). Built freestanding, so the
// compiler does not turn these loops back into calls to themselves.
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace {

inline uint64_t load64(const unsigned char* p) {
  uint64_t v;
  __builtin_memcpy_inline(&v, p, 8);
  return v;
}
inline void store64(unsigned char* p, uint64_t v) { __builtin_memcpy_inline(p, &v, 8); }

void copy_forward(unsigned char* d, const unsigned char* s, size_t n) {
  while (n >= 32) {
    const uint64_t a = load64(s), b = load64(s + 8), c = load64(s + 16), e = load64(s + 24);
    store64(d, a);
    store64(d + 8, b);
    store64(d + 16, c);
    store64(d + 24, e);
    d += 32;
    s += 32;
    n -= 32;
  }
  while (n >= 8) {
    store64(d, load64(s));
    d += 8;
    s += 8;
    n -= 8;
  }
  while (n-- != 0) *d++ = *s++;
}

void copy_backward(unsigned char* d, const unsigned char* s, size_t n) {
  d += n;
  s += n;
  while (n >= 32) {
    d -= 32;
    s -= 32;
    n -= 32;
    const uint64_t a = load64(s), b = load64(s + 8), c = load64(s + 16), e = load64(s + 24);
    store64(d, a);
    store64(d + 8, b);
    store64(d + 16, c);
    store64(d + 24, e);
  }
  while (n >= 8) {
    d -= 8;
    s -= 8;
    n -= 8;
    store64(d, load64(s));
  }
  while (n-- != 0) *--d = *--s;
}

}  // namespace

extern "C" {

void* memcpy(void* __restrict dst, const void* __restrict src, size_t n) {
  copy_forward(static_cast<unsigned char*>(dst), static_cast<const unsigned char*>(src), n);
  return dst;
}

void* memmove(void* dst, const void* src, size_t n) {
  auto* d = static_cast<unsigned char*>(dst);
  const auto* s = static_cast<const unsigned char*>(src);
  // Forward is safe unless the destination starts inside the source.
  if (d <= s || d >= s + n) {
    copy_forward(d, s, n);
  } else {
    copy_backward(d, s, n);
  }
  return dst;
}

void* memset(void* dst, int c, size_t n) {
  auto* d = static_cast<unsigned char*>(dst);
  const uint64_t v = 0x0101010101010101ull * static_cast<unsigned char>(c);
  while (n >= 32) {
    store64(d, v);
    store64(d + 8, v);
    store64(d + 16, v);
    store64(d + 24, v);
    d += 32;
    n -= 32;
  }
  while (n >= 8) {
    store64(d, v);
    d += 8;
    n -= 8;
  }
  while (n-- != 0) *d++ = static_cast<unsigned char>(c);
  return dst;
}

}  // extern "C"

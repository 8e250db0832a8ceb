// memcpy, memmove, memset, memcmp, memchr, strlen and strnlen for the
// firmware. Debian's picolibc has byte-at-a-time versions (about 5
// instructions per byte), and the DT, AVB and DICE code move, compare and scan
// a lot of bytes: these work 8 (or 32) bytes per loop iteration.
//
// The scanning functions (memchr, strlen, strnlen) read whole aligned 8-byte
// words, which may include bytes past the end of the string but never cross
// into another page, so they touch no page the caller did not.
//
// Only for Normal memory with the MMU on (unaligned accesses are fine there);
// never for device memory, and never called by the MMU-off code (entry/mmu.cc
// is built so that it makes no library calls). Built freestanding, so the
// compiler does not turn these loops back into calls to themselves.
#include <cstddef>
#include <cstdint>


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

// Bytes of `v` that are zero have their top bit set in the result (and only
// those up to the first zero byte are exact, which is all the callers use).
inline uint64_t zero_bytes(uint64_t v) {
  return (v - 0x0101010101010101ull) & ~v & 0x8080808080808080ull;
}

// Index of the first byte flagged by zero_bytes (little-endian).
inline size_t first_flagged(uint64_t flags) { return static_cast<size_t>(__builtin_ctzll(flags)) / 8; }

// The aligned word holding p, with the bytes before p forced non-zero.
inline uint64_t aligned_word(const unsigned char* p, uint64_t pattern) {
  const auto* w = reinterpret_cast<const unsigned char*>(reinterpret_cast<uintptr_t>(p) & ~uintptr_t{7});
  const unsigned skip = static_cast<unsigned>(p - w);
  uint64_t v = load64(w) ^ pattern;
  if (skip != 0) v |= (~uint64_t{0}) >> (64 - 8 * skip);  // bytes before p: never "zero"
  return v;
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

int memcmp(const void* a, const void* b, size_t n) {
  const auto* x = static_cast<const unsigned char*>(a);
  const auto* y = static_cast<const unsigned char*>(b);
  while (n >= 8 && load64(x) == load64(y)) {
    x += 8;
    y += 8;
    n -= 8;
  }
  for (; n != 0; --n, ++x, ++y) {
    if (*x != *y) return *x < *y ? -1 : 1;
  }
  return 0;
}

// strnlen: the index of the first NUL in [s, s + max), or max.
size_t strnlen(const char* s, size_t max) {
  const auto* p = reinterpret_cast<const unsigned char*>(s);
  const auto* base = reinterpret_cast<const unsigned char*>(reinterpret_cast<uintptr_t>(p) & ~uintptr_t{7});
  uint64_t flags = zero_bytes(aligned_word(p, 0));
  size_t at = 0;  // offset of `base` from p, as a byte count (may start "negative")
  const size_t lead = static_cast<size_t>(p - base);
  for (;;) {
    if (flags != 0) {
      const size_t len = at + first_flagged(flags) - lead;
      return len < max ? len : max;
    }
    at += 8;
    if (at - lead >= max) return max;
    flags = zero_bytes(load64(base + at));
  }
}

size_t strlen(const char* s) { return strnlen(s, ~size_t{0}); }

void* memchr(const void* s, int c, size_t n) {
  if (n == 0) return nullptr;
  const auto* p = static_cast<const unsigned char*>(s);
  const uint64_t pattern = 0x0101010101010101ull * static_cast<unsigned char>(c);
  const auto* base = reinterpret_cast<const unsigned char*>(reinterpret_cast<uintptr_t>(p) & ~uintptr_t{7});
  const size_t lead = static_cast<size_t>(p - base);
  uint64_t flags = zero_bytes(aligned_word(p, pattern));
  size_t at = 0;
  for (;;) {
    if (flags != 0) {
      const size_t i = at + first_flagged(flags) - lead;
      return i < n ? const_cast<unsigned char*>(p + i) : nullptr;
    }
    at += 8;
    if (at - lead >= n) return nullptr;
    flags = zero_bytes(load64(base + at) ^ pattern);
  }
}

}  // extern "C"

#include "base/format.h"

#include <cstdint>

namespace base {
namespace {

struct Spec {
  bool left = false;
  bool zero = false;
  bool alt = false;  // '#': 0x prefix for %x
  unsigned width = 0;
  int precision = -1;  // %.Ns / %.*s: at most N bytes of the string
};

class Out {
 public:
  Out(FormatSink sink, void* ctx) : sink_(sink), ctx_(ctx) {}
  void put(const char* s, size_t n) {
    if (n != 0) sink_(ctx_, s, n);
    count_ += n;
  }
  void pad(char c, size_t n) {
    for (size_t i = 0; i < n; ++i) put(&c, 1);
  }
  // Emits `s` (length n) padded to spec.width. `sign_len` leading bytes of s
  // (a '-' or "0x") stay in front of zero padding.
  void field(const Spec& spec, const char* s, size_t n, size_t sign_len = 0) {
    size_t fill = spec.width > n ? spec.width - n : 0;
    if (spec.left) {
      put(s, n);
      pad(' ', fill);
    } else if (spec.zero) {
      put(s, sign_len);
      pad('0', fill);
      put(s + sign_len, n - sign_len);
    } else {
      pad(' ', fill);
      put(s, n);
    }
  }
  size_t count() const { return count_; }

 private:
  FormatSink sink_;
  void* ctx_;
  size_t count_ = 0;
};

// Writes the digits of v in `base` right-aligned into buf[0..len); returns start.
char* digits(char* end, uint64_t v, unsigned base, bool upper) {
  const char* set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  char* p = end;
  do {
    *--p = set[v % base];
    v /= base;
  } while (v != 0);
  return p;
}

}  // namespace

size_t vformat(FormatSink sink, void* ctx, const char* fmt, va_list ap) {
  Out out(sink, ctx);
  while (*fmt != '\0') {
    if (*fmt != '%') {
      const char* run = fmt;
      while (*fmt != '\0' && *fmt != '%') ++fmt;
      out.put(run, static_cast<size_t>(fmt - run));
      continue;
    }
    const char* start = fmt++;
    Spec spec;
    for (;; ++fmt) {
      if (*fmt == '-') {
        spec.left = true;
      } else if (*fmt == '#') {
        spec.alt = true;
      } else if (*fmt == '0') {
        spec.zero = true;
      } else {
        break;
      }
    }
    while (*fmt >= '0' && *fmt <= '9') {
      if (spec.width < 1000) spec.width = spec.width * 10 + static_cast<unsigned>(*fmt - '0');
      ++fmt;
    }
    if (*fmt == '.') {
      ++fmt;
      spec.precision = 0;
      if (*fmt == '*') {
        int p = va_arg(ap, int);
        spec.precision = p < 0 ? -1 : p;
        ++fmt;
      } else {
        while (*fmt >= '0' && *fmt <= '9') {
          if (spec.precision < 100000) spec.precision = spec.precision * 10 + (*fmt - '0');
          ++fmt;
        }
      }
    }
    int longs = 0;
    bool size_t_len = false;
    while (*fmt == 'l') {
      ++longs;
      ++fmt;
    }
    if (*fmt == 'z') {
      size_t_len = true;
      ++fmt;
    }
    char buf[24];
    char* end = buf + sizeof(buf);
    switch (*fmt) {
      case '%':
        out.put("%", 1);
        break;
      case 'c': {
        char c = static_cast<char>(va_arg(ap, int));
        out.field(spec, &c, 1);
        break;
      }
      case 's': {
        const char* s = va_arg(ap, const char*);
        if (s == nullptr) s = "(null)";
        size_t n = 0;
        const size_t max = spec.precision < 0 ? SIZE_MAX : static_cast<size_t>(spec.precision);
        while (n < max && s[n] != '\0') ++n;
        out.field(spec, s, n);
        break;
      }
      case 'd':
      case 'i': {
        int64_t v = size_t_len ? static_cast<int64_t>(va_arg(ap, ptrdiff_t))
                    : longs >= 2 ? va_arg(ap, long long)
                    : longs == 1 ? va_arg(ap, long)
                                 : va_arg(ap, int);
        uint64_t mag = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
        char* p = digits(end, mag, 10, false);
        if (v < 0) *--p = '-';
        out.field(spec, p, static_cast<size_t>(end - p), v < 0 ? 1 : 0);
        break;
      }
      case 'u':
      case 'x':
      case 'X':
      case 'p': {
        uint64_t v;
        if (*fmt == 'p') {
          v = reinterpret_cast<uintptr_t>(va_arg(ap, void*));
        } else if (size_t_len) {
          v = va_arg(ap, size_t);
        } else if (longs >= 2) {
          v = va_arg(ap, unsigned long long);
        } else if (longs == 1) {
          v = va_arg(ap, unsigned long);
        } else {
          v = va_arg(ap, unsigned int);
        }
        unsigned radix = *fmt == 'u' ? 10 : 16;
        char* p = digits(end, v, radix, *fmt == 'X');
        size_t prefix = 0;
        if (*fmt == 'p' || (spec.alt && radix == 16 && v != 0)) {
          *--p = *fmt == 'X' ? 'X' : 'x';
          *--p = '0';
          prefix = 2;
        }
        out.field(spec, p, static_cast<size_t>(end - p), prefix);
        break;
      }
      default:
        // Unknown conversion: print it as written so the mistake is visible.
        if (*fmt == '\0') {
          out.put(start, static_cast<size_t>(fmt - start));
          return out.count();
        }
        out.put(start, static_cast<size_t>(fmt - start) + 1);
        break;
    }
    ++fmt;
  }
  return out.count();
}

namespace {
struct Buffer {
  char* buf;
  size_t cap;
  size_t used;
};
void buffer_sink(void* ctx, const char* data, size_t len) {
  auto* b = static_cast<Buffer*>(ctx);
  for (size_t i = 0; i < len; ++i) {
    if (b->cap != 0 && b->used + 1 < b->cap) b->buf[b->used++] = data[i];
  }
}
}  // namespace

size_t format_to(char* buf, size_t cap, const char* fmt, ...) {
  Buffer b{buf, cap, 0};
  va_list ap;
  va_start(ap, fmt);
  size_t n = vformat(buffer_sink, &b, fmt, ap);
  va_end(ap);
  if (cap != 0) buf[b.used] = '\0';
  return n;
}

}  // namespace base

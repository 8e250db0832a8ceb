// Wiping secrets so the compiler cannot drop the stores (STYLE.md rule 9):
// the memset is followed by a compiler barrier that claims to read the buffer.
#pragma once

#include <cstddef>
#include <cstring>

namespace base {

inline void secure_wipe(void* p, size_t n) {
  if (n == 0) return;
  memset(p, 0, n);
  asm volatile("" : : "r"(p) : "memory");
}

}  // namespace base

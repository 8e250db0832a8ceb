// entry/heap.h: mbedTLS's bounded static heap.
#include "entry/heap.h"

#include <mbedtls/memory_buffer_alloc.h>

#include "base/wipe.h"

namespace heap {
namespace {
alignas(16) constinit unsigned char g_heap[kSize] = {};
}  // namespace

void init() { mbedtls_memory_buffer_alloc_init(g_heap, sizeof(g_heap)); }

void wipe() {
  mbedtls_memory_buffer_alloc_free();
  base::secure_wipe(g_heap, sizeof(g_heap));
  init();
}

}  // namespace heap

// The allocator mbedTLS starts with (pvmfw_mbedtls_config.h): nothing until
// init() installs the buffer. The firmware has no libc heap.
extern "C" void* pvmfw_mbedtls_no_calloc(size_t, size_t) { return nullptr; }
extern "C" void pvmfw_mbedtls_no_free(void*) {}

#include "entry/platform.h"

#include "entry/console.h"
#include "entry/entropy.h"
#include "entry/fail.h"
#include "entry/heap.h"
#include "entry/hooks.h"
#include "entry/mmu.h"

#include "base/mmio.h"

namespace entry {
namespace {

// pvmfw runs on the identity map: a physical range is its own address. Only
// ranges the boot maps are passed here (the DT, config and handover windows
// from start.S's map, the payload after map()).
std::span<std::byte> memory(base::Range r) {
  return {reinterpret_cast<std::byte*>(static_cast<uintptr_t>(r.base)),
          static_cast<size_t>(r.size)};
}

std::expected<void, memory::Error> map(base::Range pages, memory::Attr attr) {
  return mmu::map(pages.base, pages.size, attr);
}

void clean_to_poc(base::Range r) { mmu::clean_to_poc(r.base, r.size); }

const char* entropy_source() {
  const entropy::Source s = entropy::source();
  return s == entropy::Source::kNone ? nullptr : entropy::to_string(s);
}

bool fill_random(std::span<std::byte> out) {
  return entropy::fill(reinterpret_cast<uint8_t*>(out.data()), out.size());
}


void last_words() {
  const uint64_t cntvct = counter();
  uint64_t cntfrq;
  asm volatile("mrs %0, cntfrq_el0" : "=r"(cntfrq));
  console::print("pvmfw: mbedTLS heap: %zu bytes, static, wiped with pvmfw's RAM at the jump\n",
                 heap::kSize);
  console::print("pvmfw: hand-off at counter tick %lu (%lu Hz)\n", cntvct, cntfrq);
  console::print("pvmfw: Starting payload...\n");
}

}  // namespace

uint64_t counter() {
  uint64_t v;
  asm volatile("isb\n\tmrs %0, cntvct_el0" : "=r"(v));
  return v;
}

constinit const boot::Platform kFirmwarePlatform = {
    .memory = memory,
    .map = map,
    .clean_to_poc = clean_to_poc,
    .write = console::write,
    .console = console::current,
    .use_console = console::use,
    .entropy_source = entropy_source,
    .fill_random = fill_random,
    .ticks = counter,
    .secrets_live = fail::mark_secrets_live,
    .at_stage = kStageFunction,
    .mmio_read32 = base::mmio_read32,
    .mmio_write32 = base::mmio_write32,
    .last_words = last_words,
};

}  // namespace entry

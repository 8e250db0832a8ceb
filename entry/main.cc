// pvmfw's entry after the MMU is on: the banner, mbedTLS's heap, the entropy
// source and the stack canary, then the boot sequence (entry/boot/, a
// library that also runs on the host), then the one place a boot refusal
// ends in the failure funnel, or the hand-off.
#include <board/board.h>

#include <cstddef>
#include <cstdint>

#include "boot/boot.h"
#include "entry/console.h"
#include "entry/entropy.h"
#include "entry/fail.h"
#include "entry/heap.h"
#include "entry/platform.h"
#include "hvc/smccc.h"

extern "C" {
extern uintptr_t __stack_chk_guard;
[[noreturn]] void pvmfw_jump(uint64_t entry, uint64_t dt);
}

// The trusted AVB public key, built into the image (Meson option trusted-key).
namespace pvmfw {
extern const std::byte trusted_key[];
extern const size_t trusted_key_size;
}

extern "C" [[noreturn]] void pvmfw_main(uint64_t dt_arg, uint64_t el) {
  const uint64_t t_start = entry::counter();
  console::print("\npvmfw " PVMFW_VERSION " (qemu-virt): protected VM firmware, EL%lu\n", el);
  // mbedTLS's heap, before any crypto runs.
  heap::init();
  // pvmfw at EL1 on this board calls the hypervisor (HVC); the tree must say so.
  const auto conduit = hvc::Conduit::kHvc;
  fail::set_conduit(conduit);
  // The entropy source (the sequence reports it). start.S seeded the canary
  // from RNDR when it could; the TRNG is preferred. Here, in the entry's
  // never-returning frame before any other is live, changing it is safe; in
  // the sequence it would not be (its frames return).
  const entropy::Source rng = entropy::init(conduit);
  if (rng == entropy::Source::kTrng || __stack_chk_guard == 0) {
    uint64_t canary;
    if (entropy::fill(reinterpret_cast<uint8_t*>(&canary), sizeof(canary))) {
      __stack_chk_guard = canary;
    }
  }

  boot::Inputs inputs;
  inputs.dt_address = dt_arg;
  inputs.trusted_key = {pvmfw::trusted_key, pvmfw::trusted_key_size};
  inputs.board = &board::kQemuVirt;
  inputs.conduit = conduit;
  inputs.start_tick = t_start;
  const auto handoff = boot::run(entry::kFirmwarePlatform, inputs);
  // The one place the boot sequence's refusals end (the exception path and
  // the runtime shims have their own calls into the funnel).
  if (!handoff) fail::boot_failed(handoff.error().reason, "%s", handoff.error().c_str());

  pvmfw_jump(handoff->kernel_entry, handoff->dt_address);
}

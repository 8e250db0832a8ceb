// pvmfw's boot path after the MMU is on: read the input device tree, find the
// console, the PSCI conduit and the payload, then hand the VM over.
// Data flows one way: entry -> (memory, hvc) -> verify -> fdt -> dice -> jump;
// verification, the DT rebuild and DICE arrive with their own issues.
#include <board/layout.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "entry/console.h"
#include "entry/fail.h"
#include "entry/mmu.h"
#include "fdt/platform.h"
#include "fdt/tree.h"
#include "hvc/smccc.h"

extern "C" {
extern uintptr_t __stack_chk_guard;
extern char __scratch_start[], __scratch_end[], __stack_guard[];
[[noreturn]] void pvmfw_jump(uint64_t entry, uint64_t dt);
}

namespace {

using fail::Reason;

constexpr uint64_t kPage = 4096;

base::Range scratch_range() {
  const auto start = reinterpret_cast<uintptr_t>(__scratch_start);
  const auto end = reinterpret_cast<uintptr_t>(__scratch_end);
  return base::Range{start & ~(kPage - 1), ((end + kPage - 1) & ~(kPage - 1)) - (start & ~(kPage - 1))};
}

Reason reason_for(fdt::PlatformError e) {
  switch (e) {
    case fdt::PlatformError::kNoKernel:
    case fdt::PlatformError::kBadKernelRange:
      return Reason::kInvalidPayload;
    case fdt::PlatformError::kBadInitrdRange:
      return Reason::kInvalidRamdisk;
    default:
      return Reason::kInvalidFdt;
  }
}

Reason reason_for(fdt::LayoutError e) {
  switch (e) {
    case fdt::LayoutError::kKernelOutsideMemory:
    case fdt::LayoutError::kKernelMisaligned:
    case fdt::LayoutError::kKernelOverlapsFirmware:
      return Reason::kInvalidPayload;
    case fdt::LayoutError::kInitrdOutsideMemory:
    case fdt::LayoutError::kInitrdOverlapsKernel:
    case fdt::LayoutError::kInitrdOverlapsFirmware:
      return Reason::kInvalidRamdisk;
    default:
      return Reason::kInvalidFdt;
  }
}

#if PVMFW_TEST_HOOKS
// Test-only behaviour selected by /chosen/pvmfw,test-hook. Compiled only into
// pvmfw-testhooks.bin; the shipped image has none of it.
[[gnu::noinline]] uint64_t recurse(volatile uint64_t* p) {
  volatile uint64_t pad[64];
  pad[0] = *p;
  if (pad[0] == 0) return 0;  // never true: *p starts at 1 and is copied down
  return recurse(pad) + pad[1];
}

void run_test_hook(const fdt::Tree& tree) {
  auto chosen = tree.node("/chosen");
  if (!chosen) return;
  auto hook = tree.prop_string(*chosen, "pvmfw,test-hook");
  if (!hook) return;
  console::print("pvmfw: TEST HOOK '%.*s'\n", static_cast<int>(hook->size()), hook->data());
  if (*hook == "fault-unmapped") {
    // The stack guard page is never mapped.
    auto* p = reinterpret_cast<volatile uint64_t*>(__stack_guard);
    (void)*p;
  } else if (*hook == "stack-overflow") {
    volatile uint64_t seed = 1;
    (void)recurse(&seed);
  } else if (*hook == "fail") {
    fail::boot_failed(Reason::kTestHook, "requested by the device tree");
  }
}
#endif

}  // namespace

extern "C" [[noreturn]] void pvmfw_main(uint64_t dt_arg, uint64_t el) {
  console::print("\npvmfw " PVMFW_VERSION " (qemu-virt): protected VM firmware, EL%lu\n", el);
  if (__stack_chk_guard == 0) {
    console::print("pvmfw: WARNING: no FEAT_RNG: the stack canary is not random\n");
  }

  // The input DT: the hypervisor's x0, else where QEMU/-dtb put it. Only the
  // DT window is mapped; a DT anywhere else is refused.
  const uint64_t dt_addr = dt_arg != 0 ? dt_arg : BOARD_DT_BASE;
  if (dt_addr != BOARD_DT_BASE) {
    fail::boot_failed(Reason::kInvalidFdt, "device tree at %#lx, outside the DT window %#x",
                      dt_addr, BOARD_DT_BASE);
  }
  std::span<const std::byte> window(reinterpret_cast<const std::byte*>(dt_addr), BOARD_DT_MAX_SIZE);
  auto tree = fdt::Tree::open(window);
  if (!tree) fail::boot_failed(Reason::kInvalidFdt, "%s", fdt::to_string(tree.error()));
  auto platform = fdt::read_platform(*tree);
  if (!platform) {
    fail::boot_failed(reason_for(platform.error()), "%s", fdt::to_string(platform.error()));
  }
  const auto conduit =
      platform->psci == fdt::PsciMethod::kHvc ? hvc::Conduit::kHvc : hvc::Conduit::kSmc;
  fail::set_conduit(conduit);

  if (platform->console && platform->console->base != console::current()) {
    const auto& c = *platform->console;
    if (c.base < BOARD_DEVICE_BASE || c.end() > BOARD_DEVICE_END) {
      fail::boot_failed(Reason::kInvalidFdt, "BAD_CONSOLE: %#lx is outside the device window",
                        c.base);
    }
    if (auto m = mmu::map(c.base, kPage, memory::Attr::kDevice); !m) {
      fail::boot_failed(Reason::kInternalError, "console map: %s", memory::to_string(m.error()));
    }
    console::use(c.base);
  }
  console::print("pvmfw: device tree at %#lx (%zu bytes), RAM %#lx-%#lx, PSCI via %s\n", dt_addr,
                 tree->size(), platform->memory.base, platform->memory.end(),
                 hvc::to_string(conduit));

  if (hvc::hypervisor_is_kvm(conduit)) {
    console::print("pvmfw: hypervisor: KVM\n");
  } else {
    console::print("pvmfw: no protected hypervisor: running UNPROTECTED\n");
  }

#if PVMFW_TEST_HOOKS
  run_test_hook(*tree);
#endif

  const base::Range firmware[] = {{BOARD_DT_BASE, BOARD_DT_MAX_SIZE}, scratch_range()};
  if (!platform->kernel) {
    fail::boot_failed(Reason::kInvalidPayload, "NO_KERNEL: /config/kernel-address is absent");
  }
  if (auto v = fdt::validate_layout(*platform, BOARD_RAM_BASE, firmware); !v) {
    fail::boot_failed(reason_for(v.error()), "%s", fdt::to_string(v.error()));
  }
  const auto& kernel = *platform->kernel;
  console::print("pvmfw: kernel %#lx-%#lx", kernel.base, kernel.end());
  if (platform->initrd) {
    console::print(", initrd %#lx-%#lx\n", platform->initrd->base, platform->initrd->end());
  } else {
    console::print(", no initrd\n");
  }

  console::print(
      "pvmfw: ****************************************************\n"
      "pvmfw: *  UNVERIFIED PAYLOAD: nothing checked its signature *\n"
      "pvmfw: ****************************************************\n");
  console::print("pvmfw: Starting payload...\n");
  pvmfw_jump(kernel.base, dt_addr);
}

// The hypervisor suite's test payload (tests/qemu/hypervisor.py checks its
// console). pvmfw verifies it and starts it in the protected VM; it then
// exercises every guest call and every isolation rule of docs/hypervisor.md
// and prints one line per check:
//   hyptest: MMIO guard offered | no MMIO guard offered
//   hyptest: NAME: ok
//   hyptest: NAME: FAIL (got ..., want ...)
//   hyptest: done, N failures
// It runs with the MMU off (every data access is Device memory): no unaligned
// accesses (-mstrict-align), no atomics, no pointer tables in data.
#include <cstdint>

extern "C" volatile uint64_t hyptest_last_esr, hyptest_last_far;
extern "C" char hyptest_secondary[];
extern "C" volatile uint64_t hyptest_secondary_runs;
extern "C" uint64_t hyptest_fp_survives(uint64_t function_id, uint64_t arg1, uint64_t smc);

namespace {

constexpr uint64_t kUart = 0x09000000;
constexpr uint64_t kRtc = 0x09010000;
constexpr uint64_t kFwCfg = 0x09020000;
constexpr uint64_t kFlash1 = 0x04000000;
constexpr uint64_t kRamBase = 0x40000000;

unsigned g_failures = 0;

struct R {
  uint64_t x0, x1, x2, x3;
};

R hvc(uint64_t f, uint64_t a1 = 0, uint64_t a2 = 0, uint64_t a3 = 0) {
  register uint64_t x0 asm("x0") = f;
  register uint64_t x1 asm("x1") = a1;
  register uint64_t x2 asm("x2") = a2;
  register uint64_t x3 asm("x3") = a3;
  asm volatile("hvc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3) : : "memory");
  return {x0, x1, x2, x3};
}
R smc(uint64_t f, uint64_t a1 = 0, uint64_t a2 = 0, uint64_t a3 = 0) {
  register uint64_t x0 asm("x0") = f;
  register uint64_t x1 asm("x1") = a1;
  register uint64_t x2 asm("x2") = a2;
  register uint64_t x3 asm("x3") = a3;
  asm volatile("smc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3) : : "memory");
  return {x0, x1, x2, x3};
}

void putc(char c) {
  auto* fr = reinterpret_cast<volatile uint32_t*>(kUart + 0x18);
  auto* dr = reinterpret_cast<volatile uint32_t*>(kUart);
  for (unsigned i = 0; i < 100000 && (*fr & (1u << 5)) != 0; ++i) {
  }
  *dr = static_cast<uint8_t>(c);
}
void puts(const char* s) {
  for (; *s != '\0'; ++s) {
    if (*s == '\n') putc('\r');
    putc(*s);
  }
}
void puthex(uint64_t v) {
  puts("0x");
  bool started = false;
  for (int shift = 60; shift >= 0; shift -= 4) {
    const unsigned d = (v >> shift) & 0xf;
    if (d == 0 && !started && shift != 0) continue;
    started = true;
    putc(static_cast<char>(d < 10 ? '0' + d : 'a' + d - 10));
  }
}

void check(const char* name, uint64_t got, uint64_t want) {
  puts("hyptest: ");
  puts(name);
  if (got == want) {
    puts(": ok\n");
    return;
  }
  ++g_failures;
  puts(": FAIL (got ");
  puthex(got);
  puts(", want ");
  puthex(want);
  puts(")\n");
}

// A 32-bit load or store at `addr`; returns the ESR of the abort it took, 0 if none.
uint64_t touch(uint64_t addr, bool write) {
  hyptest_last_esr = 0;
  if (write) {
    asm volatile("str wzr, [%0]" : : "r"(addr) : "memory");
  } else {
    uint32_t v;
    asm volatile("ldr %w0, [%1]" : "=r"(v) : "r"(addr) : "memory");
    (void)v;
  }
  return hyptest_last_esr;
}
// An abort injected by the hypervisor: a data abort from EL1 (EC 0x25) that is
// a synchronous external abort (DFSC 0x10).
uint64_t abort_kind(uint64_t esr) {
  if (esr == 0) return 0;
  return ((esr >> 26) == 0x25 && (esr & 0x3f) == 0x10) ? 1 : esr;
}

constexpr uint64_t kNotSupported = static_cast<uint64_t>(-1);
constexpr uint64_t kInvalid = static_cast<uint64_t>(-3);
constexpr uint64_t kTrngInvalid = static_cast<uint64_t>(-2);

// The device tree's /memory size (the first memory node, 2 cells each):
// enough for this test's own VM DT, which pvm run makes.
uint64_t ram_size_from(uint64_t) {
  // The test passes the size on its command line instead of parsing the DT:
  // pvm run gives the VM 256 MiB for this suite (tests/meson.build).
  return 256ull << 20;
}

}  // namespace

extern "C" void hyptest_main(uint64_t dt) {
  // pvmfw left the MMIO guard enrolled and unmapped the console: map it back
  // before the first line (if the guard is offered at all).
  const R features = hvc(0x86000000);
  const bool guard = ((features.x0 >> 5) & 0xf) == 0xf;
  if (guard) (void)hvc(0xc6000007, kUart);
  puts("hyptest: hello from the protected VM\n");
  puts(guard ? "hyptest: MMIO guard offered\n" : "hyptest: no MMIO guard offered\n");

  // Discovery.
  check("smccc version", hvc(0x80000000).x0, 0x10001);
  const R uid = hvc(0x8600ff01);
  check("vendor uid is kvm", uid.x0 == 0xb66fb428 && uid.x1 == 0xe911c52e &&
                                 uid.x2 == 0x564bcaa9 && uid.x3 == 0x743a004d, 1);
  check("features: meminfo share unshare", (features.x0 >> 2) & 7, 7);
  check("meminfo granule", hvc(0xc6000002).x0, 4096);
  check("unknown call", hvc(0xc6000030).x0, kNotSupported);
  check("unknown call over smc", smc(0xc6000030).x0, kNotSupported);
  check("smccc version over smc", smc(0x80000000).x0, 0x10001);
  // The guest's FP/SIMD registers come back as they went in, over either
  // conduit (user space keeps live values there across its kernel's calls).
  check("fp/simd kept over hvc", hyptest_fp_survives(0x80000000, 0, 0), 1);
  check("fp/simd kept over smc", hyptest_fp_survives(0x80000000, 0, 1), 1);
  check("fp/simd kept over trng rnd64", hyptest_fp_survives(0xc4000053, 64, 0), 1);

  // Memory sharing: a page of this payload's own RAM.
  const uint64_t ram = ram_size_from(dt);
  const uint64_t page = kRamBase + (ram / 2);
  check("share", hvc(0xc6000003, page).x0, 0);
  check("share twice", hvc(0xc6000003, page).x0, kInvalid);
  check("unshare", hvc(0xc6000004, page).x0, 0);
  check("unshare a private page", hvc(0xc6000004, page).x0, kInvalid);
  check("share unaligned", hvc(0xc6000003, page + 8).x0, kInvalid);
  check("share outside ram", hvc(0xc6000003, kRamBase + ram).x0, kInvalid);
  check("share below ram", hvc(0xc6000003, kRtc).x0, kInvalid);
  check("share over smc", smc(0xc6000003, page).x0, 0);
  check("unshare over smc", smc(0xc6000004, page).x0, 0);

  // Isolation: nothing outside the VM's RAM and devices answers.
  check("read past ram aborts", abort_kind(touch(kRamBase + ram, false)), 1);
  check("read at the top of the ipa space aborts", abort_kind(touch((1ull << 39) - 4096, false)),
        1);
  check("read fw_cfg aborts", abort_kind(touch(kFwCfg, false)), 1);
  check("read flash1 aborts", abort_kind(touch(kFlash1, false)), 1);
  check("write to pvmfw's image aborts", abort_kind(touch(0x1000, true)), 1);
  // Where the hypervisor lives has no IPA in this VM: hyp.bin's flash (IPA 0
  // is pvmfw's image, a copy, and nothing follows it) and the hypervisor's
  // RAM; nothing is mapped below or above the VM's RAM.
  check("read flash past pvmfw's image aborts", abort_kind(touch(0x00300000, false)), 1);
  check("read below ram aborts", abort_kind(touch(kRamBase - 4096, false)), 1);
  check("read 16 MiB past ram aborts", abort_kind(touch(kRamBase + ram + (16 << 20) - 4096, false)),
        1);
  // The hypervisor's RAM at its physical address (docs/hypervisor.md): no IPA.
  check("read the hypervisor's ram aborts", abort_kind(touch(0xc0000000, false)), 1);
  check("read the hypervisor's staging aborts", abort_kind(touch(0xc0400000, false)), 1);
  check("read own ram", abort_kind(touch(page, false)), 0);

  // The MMIO guard.
  if (guard) {
    check("guard info", hvc(0xc6000005).x0, 4096);
    check("enroll", hvc(0xc6000006).x0, 0);
    check("unmapped device aborts after enrol", abort_kind(touch(kRtc, false)), 1);
    check("guard map rtc", hvc(0xc6000007, kRtc).x0, 0);
    check("mapped device reachable", abort_kind(touch(kRtc, false)), 0);
    check("guard unmap rtc", hvc(0xc6000008, kRtc).x0, 0);
    check("unmapped again aborts", abort_kind(touch(kRtc, false)), 1);
    check("guard map over ram", hvc(0xc6000007, page).x0, kInvalid);
    check("guard map fw_cfg", hvc(0xc6000007, kFwCfg).x0, kInvalid);
    check("guard map unaligned", hvc(0xc6000007, kRtc + 4).x0, kInvalid);
  } else {
    check("guard info without the guard", hvc(0xc6000005).x0, kNotSupported);
    check("device reachable without the guard", abort_kind(touch(kRtc, false)), 0);
  }

  // TRNG.
  check("trng version", hvc(0x84000050).x0, 0x10000);
  check("trng features rnd64", hvc(0x84000051, 0xc4000053).x0, 0);
  const R rnd = hvc(0xc4000053, 192);
  check("trng rnd64 192 bits", rnd.x0, 0);
  check("trng rnd64 not all zero", (rnd.x1 | rnd.x2 | rnd.x3) != 0, 1);
  const R rnd64 = hvc(0xc4000053, 64);
  check("trng rnd64 64 bits: high words zero", rnd64.x0 == 0 && rnd64.x1 == 0 && rnd64.x2 == 0, 1);
  check("trng rnd64 0 bits", hvc(0xc4000053, 0).x0, kTrngInvalid);
  check("trng rnd64 193 bits", hvc(0xc4000053, 193).x0, kTrngInvalid);

  // PSCI, forwarded to the machine's.
  const uint64_t psci = hvc(0x84000000).x0;
  check("psci version forwarded", psci >= 0x10000 && psci < 0x20000, 1);

  // With a second vCPU (AFFINITY_INFO says OFF, not INVALID_PARAMETERS): it
  // can be started, turn itself off, and be started again (CPU hotplug).
  constexpr uint64_t kCpu1 = 1, kOff = 1;
  if (hvc(0xc4000004, kCpu1).x0 == kOff) {
    const auto entry = reinterpret_cast<uintptr_t>(hyptest_secondary);
    // Until it has run `runs` times and is off again, for at most 20 s of
    // the counter (the host may be slow to schedule the second vCPU).
    auto counter = [] {
      uint64_t v;
      asm volatile("isb\n\tmrs %0, cntvct_el0" : "=r"(v));
      return v;
    };
    auto wait_off = [&](uint64_t runs) {
      uint64_t frequency;
      asm volatile("mrs %0, cntfrq_el0" : "=r"(frequency));
      for (const uint64_t start = counter(); counter() - start < 20 * frequency;) {
        if (hyptest_secondary_runs == runs && hvc(0xc4000004, kCpu1).x0 == kOff) return true;
      }
      return false;
    };
    check("cpu_on", hvc(0xc4000003, kCpu1, entry).x0, 0);
    check("cpu_off by the cpu itself", wait_off(1), 1);
    check("cpu_on after cpu_off", hvc(0xc4000003, kCpu1, entry).x0, 0);
    check("cpu_off again", wait_off(2), 1);
  }

  puts("hyptest: done, ");
  puthex(g_failures);
  puts(" failures\n");
}

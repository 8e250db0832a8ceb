// counter-probe: the demo initramfs's first command (host/initramfs.cc).
//
// Prints "pvm-guest: reached /init at counter tick N (F Hz)" with N read from
// CNTVCT_EL0 and F from CNTFRQ_EL0, then exits 0. Linux lets EL0 read both
// (CNTKCTL_EL1.EL0VCTEN, set for the vDSO). The virtual counter runs from
// reset, so N dates /init from reset, whatever ran before the kernel; under
// QEMU -icount shift=0,sleep=off one tick at 62.5 MHz is exactly 16 guest
// instructions, and the figure repeats bit for bit (docs/performance.md).
//
// A static arm64 Linux program with no libc: two system calls, write (64)
// and exit (93), through SVC #0 with the number in x8 (the arm64 Linux
// syscall convention). Built by host/meson.build, embedded in `pvm`.
#include <stddef.h>
#include <stdint.h>

static long sys_call3(long nr, long a0, long a1, long a2) {
  register long x0 __asm__("x0") = a0;
  register long x1 __asm__("x1") = a1;
  register long x2 __asm__("x2") = a2;
  register long x8 __asm__("x8") = nr;
  __asm__ volatile("svc #0" : "+r"(x0) : "r"(x1), "r"(x2), "r"(x8) : "memory");
  return x0;
}

enum { kSysWrite = 64, kSysExit = 93 };

// Appends `value` in decimal at `out`; returns the end.
static char* put_decimal(char* out, uint64_t value) {
  char digits[20];
  size_t n = 0;
  do {
    digits[n++] = (char)('0' + value % 10);
    value /= 10;
  } while (value != 0);
  while (n != 0) *out++ = digits[--n];
  return out;
}

static char* put_text(char* out, const char* text) {
  while (*text != '\0') *out++ = *text++;
  return out;
}

__attribute__((noreturn)) void _start(void) {
  uint64_t ticks;
  uint64_t frequency;
  // The ISB keeps the read from being taken early (Arm ARM, "Reading the
  // generic timer counters").
  __asm__ volatile("isb\n\tmrs %0, cntvct_el0" : "=r"(ticks)::"memory");
  __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(frequency));
  char line[96];
  char* end = put_text(line, "pvm-guest: reached /init at counter tick ");
  end = put_decimal(end, ticks);
  end = put_text(end, " (");
  end = put_decimal(end, frequency);
  end = put_text(end, " Hz)\n");
  sys_call3(kSysWrite, 1, (long)line, end - line);
  for (;;) sys_call3(kSysExit, 0, 0, 0);
}

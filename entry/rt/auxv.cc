// getauxval for mbedTLS's Armv8 SHA-256/512 probe (pvmfw_mbedtls_config.h).
// mbedTLS asks Linux for AT_HWCAP; the firmware answers from the CPU's own ID
// register, with Linux's bit positions (arch/arm64/include/uapi/asm/hwcap.h):
// HWCAP_SHA2 bit 6, HWCAP_SHA512 bit 21. ID_AA64ISAR0_EL1.SHA2, bits [15:12]
// (Arm ARM D19.2.61): 0b0001 SHA-256 instructions, 0b0010 SHA-256 and SHA-512.
// picolibc's header has no C++ linkage guard.
extern "C" {
#include <sys/auxv.h>
}

#include "base/sysreg.h"

extern "C" unsigned long getauxval(unsigned long type) {
  if (type != AT_HWCAP) return 0;
  const auto isar0 = base::sysreg::read_id_aa64isar0();
  unsigned long hwcap = 0;
  if (isar0.has_sha256()) hwcap |= 1ul << 6;   // HWCAP_SHA2
  if (isar0.has_sha512()) hwcap |= 1ul << 21;  // HWCAP_SHA512
  return hwcap;
}

// Typed AArch64 system registers: one struct per register, named fields,
// the layout cited from the Arm Architecture Reference Manual for A-profile
// (DDI 0487, "Arm ARM"; section numbers of issue J.a). The layouts are plain
// constexpr bit packing and build (and are tested) on the host; the
// mrs/msr accessors exist only in the firmware, and are with entry/'s
// assembly the only place registers are read or written.
#pragma once

#include <cstdint>

namespace base::sysreg {

// Bits [lsb, lsb + width) of `v`.
constexpr uint64_t field(uint64_t v, unsigned lsb, unsigned width) {
  return (v >> lsb) & ((width >= 64 ? 0 : (uint64_t{1} << width)) - 1);
}
constexpr uint64_t bit(bool b, unsigned pos) { return uint64_t{b} << pos; }

// SCTLR_EL1, System Control Register (EL1), D17.2.118. Fields pvmfw sets;
// every other bit is 0 but the RES1 ones below.
struct Sctlr {
  bool m = false;      // [0] stage 1 translation (MMU) for EL1&0
  bool c = false;      // [2] data and unified caches (Normal memory cacheable)
  bool sa = false;     // [3] SP alignment check at EL1
  bool sa0 = false;    // [4] SP alignment check at EL0
  bool i = false;      // [12] instruction cache
  bool ntwi = false;   // [16] EL0 WFI not trapped
  bool ntwe = false;   // [18] EL0 WFE not trapped
  bool wxn = false;    // [19] a writable page is execute-never
  // RES1 in Armv8.0 and, where later features own them, set to keep the
  // Armv8.0 behaviour: EOS [11] (exception exit is context synchronizing),
  // TSCXT [20], EIS [22] (exception entry is context synchronizing), SPAN
  // [23] (PSTATE.PAN unchanged on exception), nTLSMD [28], LSMAOE [29].
  static constexpr uint64_t kRes1 =
      (1ull << 11) | (1ull << 20) | (1ull << 22) | (1ull << 23) | (1ull << 28) | (1ull << 29);

  constexpr uint64_t value() const {
    return kRes1 | bit(m, 0) | bit(c, 2) | bit(sa, 3) | bit(sa0, 4) | bit(i, 12) | bit(ntwi, 16) |
           bit(ntwe, 18) | bit(wxn, 19);
  }
};

// TCR_EL1, Translation Control Register (EL1), D17.2.131. TTBR0 only.
struct Tcr {
  enum class Cacheability : uint8_t { kNone = 0, kWriteBackWriteAllocate = 1, kWriteThrough = 2,
                                      kWriteBack = 3 };
  enum class Shareability : uint8_t { kNone = 0, kOuter = 2, kInner = 3 };
  enum class Granule : uint8_t { k4KiB = 0, k64KiB = 1, k16KiB = 2 };  // TG0 encoding

  uint8_t t0sz = 0;  // [5:0] the TTBR0 region is 2^(64 - T0SZ) bytes
  Cacheability irgn0 = Cacheability::kNone;  // [9:8] inner cacheability of table walks
  Cacheability orgn0 = Cacheability::kNone;  // [11:10] outer cacheability of table walks
  Shareability sh0 = Shareability::kNone;    // [13:12]
  Granule tg0 = Granule::k4KiB;              // [15:14]
  bool epd1 = false;                         // [23] no TTBR1 walks (a fault instead)
  uint8_t ips = 0;  // [34:32] intermediate physical address size, ID_AA64MMFR0_EL1.PARange's encoding

  constexpr uint64_t value() const {
    return field(t0sz, 0, 6) | uint64_t{static_cast<uint8_t>(irgn0)} << 8 |
           uint64_t{static_cast<uint8_t>(orgn0)} << 10 |
           uint64_t{static_cast<uint8_t>(sh0)} << 12 |
           uint64_t{static_cast<uint8_t>(tg0)} << 14 | bit(epd1, 23) | field(ips, 0, 3) << 32;
  }
};

// MAIR_EL1, Memory Attribute Indirection Register (EL1), D17.2.97: eight
// attribute bytes, indexed by a descriptor's AttrIndx.
struct Mair {
  static constexpr uint8_t kDeviceNgnre = 0x04;  // Device-nGnRE
  // Normal, inner and outer write-back non-transient, read- and write-allocate.
  static constexpr uint8_t kNormalWriteBack = 0xff;
  uint8_t attr[8] = {};
  constexpr uint64_t value() const {
    uint64_t v = 0;
    for (unsigned i = 0; i < 8; ++i) v |= uint64_t{attr[i]} << (8 * i);
    return v;
  }
};

// ID_AA64ISAR0_EL1, Instruction Set Attribute Register 0, D17.2.61.
struct IdAa64Isar0 {
  uint64_t raw = 0;
  constexpr unsigned aes() const { return field(raw, 4, 4); }    // 1 AES, 2 + PMULL
  constexpr unsigned sha1() const { return field(raw, 8, 4); }   // 1 SHA1 instructions
  constexpr unsigned sha2() const { return field(raw, 12, 4); }  // 1 SHA-256, 2 + SHA-512
  constexpr unsigned rndr() const { return field(raw, 60, 4); }  // 1 FEAT_RNG: RNDR, RNDRRS
  constexpr bool has_sha256() const { return sha2() >= 1; }
  constexpr bool has_sha512() const { return sha2() >= 2; }
  constexpr bool has_rndr() const { return rndr() >= 1; }
};

// ID_AA64PFR0_EL1, Processor Feature Register 0, D17.2.67.
struct IdAa64Pfr0 {
  uint64_t raw = 0;
  constexpr unsigned el2() const { return field(raw, 8, 4); }       // 0: EL2 not implemented
  constexpr unsigned el3() const { return field(raw, 12, 4); }      // 0: EL3 not implemented
  constexpr unsigned fp() const { return field(raw, 16, 4); }       // 0xf: no floating point
  constexpr unsigned advsimd() const { return field(raw, 20, 4); }  // 0xf: no Advanced SIMD
  constexpr unsigned gic() const { return field(raw, 24, 4); }      // 1: GICv3/4 system registers
};

// ID_AA64MMFR0_EL1, Memory Model Feature Register 0, D17.2.64.
struct IdAa64Mmfr0 {
  uint64_t raw = 0;
  constexpr unsigned parange() const { return field(raw, 0, 4); }  // TCR_EL1.IPS's encoding
};

// ESR_EL1, Exception Syndrome Register (EL1), D17.2.40.
struct Esr {
  uint64_t raw = 0;
  constexpr unsigned ec() const { return field(raw, 26, 6); }  // exception class
  constexpr bool il() const { return field(raw, 25, 1) != 0; }  // 32-bit instruction
  constexpr uint32_t iss() const { return static_cast<uint32_t>(field(raw, 0, 25)); }
  // Data and instruction aborts (ISS encodings D17.2.40): write not read,
  // and the fault status code.
  constexpr bool wnr() const { return field(raw, 6, 1) != 0; }
  constexpr unsigned fsc() const { return field(raw, 0, 6); }

  static constexpr unsigned kEcUnknown = 0x00;
  static constexpr unsigned kEcSvc64 = 0x15;
  static constexpr unsigned kEcHvc64 = 0x16;
  static constexpr unsigned kEcSmc64 = 0x17;
  static constexpr unsigned kEcSysreg = 0x18;
  static constexpr unsigned kEcInstructionAbortLowerEl = 0x20;
  static constexpr unsigned kEcInstructionAbort = 0x21;
  static constexpr unsigned kEcPcAlignment = 0x22;
  static constexpr unsigned kEcDataAbortLowerEl = 0x24;
  static constexpr unsigned kEcDataAbort = 0x25;
  static constexpr unsigned kEcSpAlignment = 0x26;
  static constexpr unsigned kEcSError = 0x2f;
  static constexpr unsigned kEcBrk = 0x3c;
  // A short name of the exception class, for reports.
  constexpr const char* ec_name() const {
    switch (ec()) {
      case kEcUnknown: return "unknown/undefined instruction";
      case kEcSvc64: return "SVC";
      case kEcHvc64: return "HVC";
      case kEcSmc64: return "SMC";
      case kEcSysreg: return "system register access";
      case kEcInstructionAbortLowerEl:
      case kEcInstructionAbort: return "instruction abort";
      case kEcPcAlignment: return "PC alignment";
      case kEcDataAbortLowerEl:
      case kEcDataAbort: return "data abort";
      case kEcSpAlignment: return "SP alignment";
      case kEcSError: return "SError";
      case kEcBrk: return "BRK";
      default: return "other";
    }
  }
};

#if defined(__aarch64__) && defined(__PVMFW_FIRMWARE__)
// The accessors (firmware only).
#define BASE_SYSREG_READ(fn, reg)              \
  inline uint64_t fn() {                       \
    uint64_t v;                                \
    asm volatile("mrs %0, " #reg : "=r"(v));   \
    return v;                                  \
  }
#define BASE_SYSREG_WRITE(fn, reg) \
  inline void fn(uint64_t v) { asm volatile("msr " #reg ", %0" : : "r"(v) : "memory"); }
BASE_SYSREG_READ(read_id_aa64isar0_raw, id_aa64isar0_el1)
BASE_SYSREG_READ(read_id_aa64pfr0_raw, id_aa64pfr0_el1)
BASE_SYSREG_READ(read_id_aa64mmfr0_raw, id_aa64mmfr0_el1)
BASE_SYSREG_READ(read_esr_el1, esr_el1)
BASE_SYSREG_READ(read_elr_el1, elr_el1)    // D17.2.43, the return address
BASE_SYSREG_READ(read_far_el1, far_el1)    // D17.2.46, the faulting address
BASE_SYSREG_READ(read_spsr_el1, spsr_el1)  // D17.2.151, the interrupted PSTATE
BASE_SYSREG_WRITE(write_sctlr_el1, sctlr_el1)
BASE_SYSREG_WRITE(write_tcr_el1, tcr_el1)
BASE_SYSREG_WRITE(write_mair_el1, mair_el1)
BASE_SYSREG_WRITE(write_ttbr0_el1, ttbr0_el1)
#undef BASE_SYSREG_READ
#undef BASE_SYSREG_WRITE

inline IdAa64Isar0 read_id_aa64isar0() { return {read_id_aa64isar0_raw()}; }
inline IdAa64Pfr0 read_id_aa64pfr0() { return {read_id_aa64pfr0_raw()}; }
inline IdAa64Mmfr0 read_id_aa64mmfr0() { return {read_id_aa64mmfr0_raw()}; }
inline Esr read_esr() { return {read_esr_el1()}; }

// RNDR (Arm ARM C6.2.224, FEAT_RNG): NZCV = 0b0100 when no random number is
// available right now. Bounded retries; false when none came.
inline bool rndr(uint64_t& out) {
  for (unsigned attempt = 0; attempt < 16; ++attempt) {
    uint64_t v, ok;
    asm volatile("mrs %0, s3_3_c2_c4_0\n\tcset %1, ne" : "=r"(v), "=r"(ok) : : "cc");
    if (ok != 0) {
      out = v;
      return true;
    }
  }
  return false;
}
#endif

}  // namespace base::sysreg

// Translation tables for three regimes: the firmware's EL1&0 stage 1 identity
// map (pvmfw), the hypervisor's own EL2 stage 1 identity map, and a VM's
// stage 2 (IPA -> PA) tables.
//
// 4 KiB granule, 39-bit input addresses (TCR_EL1.T0SZ = TCR_EL2.T0SZ =
// VTCR_EL2.T0SZ = 25), so every walk starts at level 1 (for stage 2:
// VTCR_EL2.SL0 = 1): level-1 entries cover 1 GiB, level-2 entries 2 MiB,
// level-3 pages 4 KiB. Descriptor formats: Arm ARM (DDI 0487) D8.3
// "Translation table descriptor formats"; access permissions D8.4.
//
// The builder is plain C++ over a caller-provided pool of tables, so it runs on
// the host under unit tests exactly as in the firmware and the hypervisor. There
// it runs with the MMU off: it only does aligned 64-bit loads and stores, never
// calls memset and never allocates. The tables themselves must be identity
// mapped (a table's address is what its parent descriptor holds), which holds
// for pvmfw and for the hypervisor.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>

namespace memory {

inline constexpr uint64_t kPageSize = 4096;
inline constexpr unsigned kVaBits = 39;  // input address bits, every regime
inline constexpr size_t kEntriesPerTable = 512;
// Output addresses a descriptor can hold (OA[47:12]; no FEAT_LPA/LPA2).
inline constexpr unsigned kOutputAddressBits = 48;

// Which translation the tables are for, chosen at construction.
enum class Regime : uint8_t {
  kEl1Stage1,  // EL1&0 stage 1: AP[2:1], PXN [53], UXN [54] (pvmfw)
  kEl2Stage1,  // EL2 stage 1 with HCR_EL2.E2H = 0: one privilege level
  kStage2,     // EL1&0 stage 2: a VM's IPA -> PA (VTTBR_EL2)
};

// What a mapping may be used for. In the stage 1 regimes every kind is either
// writable or executable, never both (W^X): kGuestRam is refused there.
enum class Attr : uint8_t {
  kCode,      // normal WB memory, read-only, executable (EL1: at EL1 only)
  kReadOnly,  // normal WB memory, read-only, execute-never
  kData,      // normal WB memory, read-write, execute-never
  kDevice,    // Device-nGnRE, read-write, execute-never
  kGuestRam,  // stage 2 only: normal WB, read-write and executable at EL1
              // and EL0 (the guest applies its own W^X in its stage 1)
};

enum class Error : uint8_t {
  kMisaligned,     // address or size not a multiple of 4 KiB, or size 0
  kOutOfRange,     // outside the 39-bit input or 48-bit output space, or wraps
  kOverlap,        // part of the range is already mapped
  kOutOfTables,    // the pool has no free table left
  kBadAttr,        // the attribute is not allowed in this regime (W^X)
  kNotMapped,      // unmap_page: nothing maps the page
  kMappedByBlock,  // unmap_page: a 1 GiB or 2 MiB block maps the page
};
const char* to_string(Error e);

// MAIR_EL1 value the EL1&0 descriptors assume: index 0 Device-nGnRE (0x04),
// index 1 Normal inner/outer write-back read/write-allocate (0xff).
inline constexpr uint64_t kMair = 0xff04;
inline constexpr unsigned kMairDevice = 0;
inline constexpr unsigned kMairNormal = 1;
// MAIR_EL2 value the EL2 stage 1 descriptors assume: MAIR_EL2 has MAIR_EL1's
// layout (Arm ARM register description "MAIR_EL2, Memory Attribute
// Indirection Register (EL2)"), and the same indexes are used.
inline constexpr uint64_t kMairEl2 = kMair;
// Stage 2 does not use a MAIR: the descriptor's MemAttr holds the attributes
// itself (HCR_EL2.FWB = 0 assumed; see desc::kMemAttr* below).

// Descriptor bits (Arm ARM D8.3.1, D8.3.2).
namespace desc {
inline constexpr uint64_t kValid = 1ull << 0;
inline constexpr uint64_t kTable = 1ull << 1;    // table (levels 1-2) or page (level 3)
inline constexpr uint64_t kShInner = 3ull << 8;  // SH[1:0], stage 1 and stage 2
inline constexpr uint64_t kAf = 1ull << 10;      // stage 1 and stage 2
inline constexpr uint64_t kAddrMask = 0x0000'ffff'ffff'f000ull;

// Stage 1, both regimes.
inline constexpr uint64_t kAttrIndxShift = 2;       // AttrIndx[2:0], bits [4:2]
inline constexpr uint64_t kApReadOnly = 1ull << 7;  // AP[2]
// EL1&0 (two privilege levels).
inline constexpr uint64_t kPxn = 1ull << 53;
inline constexpr uint64_t kUxn = 1ull << 54;
// EL2 with E2H = 0 (one privilege level): bit 54 is XN and bit 53 is RES0.
// "For a stage 1 translation that supports one Exception level, AP[1] is
// RES1" (Arm ARM DDI 0487 K.a, D8.4.1.2.1 "Stage 1 data accesses using
// Direct permissions", rule R_MGGZM; AP[2] alone gives read-only, table
// D8-62), so every EL2 block and page descriptor has bit 6 set.
inline constexpr uint64_t kXn = 1ull << 54;
inline constexpr uint64_t kApRes1 = 1ull << 6;  // AP[1]

// Stage 2 (Arm ARM D8.3.2, D8.4.2 stage 2 permissions).
inline constexpr uint64_t kMemAttrShift = 2;  // MemAttr[3:0], bits [5:2]
inline constexpr uint64_t kMemAttrMask = 0xfull << 2;
inline constexpr uint64_t kMemAttrNormalWb = 0b1111;     // Normal, outer and inner WB
inline constexpr uint64_t kMemAttrDeviceNgnre = 0b0001;  // Device-nGnRE
inline constexpr uint64_t kS2apRead = 1ull << 6;         // S2AP[0]: 01 read-only
inline constexpr uint64_t kS2apWrite = 1ull << 7;        // S2AP[1]: 11 read-write
inline constexpr uint64_t kS2XnShift = 53;               // XN[1:0], bits [54:53]
inline constexpr uint64_t kS2XnMask = 3ull << 53;
inline constexpr uint64_t kS2XnNever = 2ull << 53;  // 10: execute-never at EL1 and EL0
                                                    // (00: executable at both)
}  // namespace desc

// The block/page descriptor attributes (everything but the output address
// and bits [1:0]) for `attr` in `regime`; kBadAttr for kGuestRam in a stage 1
// regime. The EL1&0 values are those pvmfw has always used.
[[nodiscard]] std::expected<uint64_t, Error> leaf_attributes(Regime regime, Attr attr);

// The translation control values for the hypervisor, given the PS encoding
// (ID_AA64MMFR0_EL1.PARange's encoding: 0b000 32 bits ... 0b101 48 bits; the
// low three bits are used). A 39-bit IPA space needs at least 0b010 (40 bits)
// for stage 2; the caller checks PARange.
//
// VTCR_EL2 (Arm ARM register description "VTCR_EL2, Virtualization
// Translation Control Register"): T0SZ [5:0] = 25, SL0 [7:6] = 1 (start at
// level 1 with TG0 = 4 KiB), IRGN0 [9:8] = ORGN0 [11:10] = 1 (write-back
// read/write-allocate walks), SH0 [13:12] = 3 (inner shareable), TG0 [15:14]
// = 0 (4 KiB), PS [18:16], bit 31 RES1; VS, HA, HD and the rest 0.
namespace vtcr {
inline constexpr uint64_t kT0sz = 64 - kVaBits;
inline constexpr uint64_t kSl0Level1 = 1ull << 6;
inline constexpr uint64_t kIrgn0WbWa = 1ull << 8;
inline constexpr uint64_t kOrgn0WbWa = 1ull << 10;
inline constexpr uint64_t kSh0Inner = 3ull << 12;
inline constexpr uint64_t kTg0_4K = 0ull << 14;
inline constexpr unsigned kPsShift = 16;
inline constexpr uint64_t kRes1 = 1ull << 31;
}  // namespace vtcr
constexpr uint64_t vtcr_el2(uint8_t ps) {
  return vtcr::kRes1 | (uint64_t{ps & 7u} << vtcr::kPsShift) | vtcr::kTg0_4K | vtcr::kSh0Inner |
         vtcr::kOrgn0WbWa | vtcr::kIrgn0WbWa | vtcr::kSl0Level1 | vtcr::kT0sz;
}

// TCR_EL2 with HCR_EL2.E2H = 0 (Arm ARM register description "TCR_EL2,
// Translation Control Register (EL2)", layout when !ELIsInHost(EL2)): T0SZ
// [5:0] = 25, IRGN0 [9:8] = ORGN0 [11:10] = 1, SH0 [13:12] = 3, TG0 [15:14]
// = 0 (4 KiB), PS [18:16], bits 23 and 31 RES1; TBI, HA, HD, HPD 0.
namespace tcr_el2_bits {
inline constexpr uint64_t kT0sz = 64 - kVaBits;
inline constexpr uint64_t kIrgn0WbWa = 1ull << 8;
inline constexpr uint64_t kOrgn0WbWa = 1ull << 10;
inline constexpr uint64_t kSh0Inner = 3ull << 12;
inline constexpr uint64_t kTg0_4K = 0ull << 14;
inline constexpr unsigned kPsShift = 16;
inline constexpr uint64_t kRes1 = (1ull << 31) | (1ull << 23);
}  // namespace tcr_el2_bits
constexpr uint64_t tcr_el2(uint8_t ps) {
  namespace t = tcr_el2_bits;
  return t::kRes1 | (uint64_t{ps & 7u} << t::kPsShift) | t::kTg0_4K | t::kSh0Inner | t::kOrgn0WbWa |
         t::kIrgn0WbWa | t::kT0sz;
}

struct alignas(kPageSize) Table {
  std::array<uint64_t, kEntriesPerTable> entry;
};

class PageTables {
 public:
  // `pool[0]` becomes the level-1 root. Tables are zeroed as they are taken.
  explicit PageTables(std::span<Table> pool, Regime regime = Regime::kEl1Stage1);

  // Identity-maps [addr, addr + size) with `attr`: map_to(addr, addr, size, attr).
  [[nodiscard]] std::expected<void, Error> map(uint64_t addr, uint64_t size, Attr attr);

  // Maps [input_addr, input_addr + size) to [output_addr, output_addr + size)
  // with `attr`, using 1 GiB and 2 MiB blocks where both the input and the
  // output address of a block are aligned to its size, 4 KiB pages elsewhere.
  // Fails without side effects on bad input (kMisaligned, kOutOfRange,
  // kBadAttr); on kOverlap / kOutOfTables earlier parts of the range may stay
  // mapped. Never replaces a valid entry, so no TLB maintenance is needed
  // beyond a DSB before the tables are used.
  [[nodiscard]] std::expected<void, Error> map_to(uint64_t input_addr, uint64_t output_addr,
                                                  uint64_t size, Attr attr);

  // Removes the 4 KiB level-3 mapping of the page at `addr` (4 KiB aligned).
  // kNotMapped if no descriptor maps it, kMappedByBlock if a block does (the
  // block is left whole: blocks are never split). Leaves the (now unused)
  // level-3 table in place, and leaves TLB maintenance to the caller: after
  // this returns, the old translation may still be cached until the caller
  // does DSB, TLBI (IPAS2E1IS + VMALLE1IS for stage 2, VAE2IS for EL2,
  // VAAE1IS for EL1) and DSB, ISB.
  [[nodiscard]] std::expected<void, Error> unmap_page(uint64_t addr);

  // The root table's address: TTBR0_EL1 or TTBR0_EL2, or VTTBR_EL2.BADDR (the
  // caller adds the VMID). The tables are identity mapped.
  uint64_t root() const;
  Regime regime() const { return regime_; }
  size_t tables_used() const { return used_; }

  // Software walk, as the MMU would do it: the leaf (block or page)
  // descriptor for `input_addr`, or 0.
  uint64_t lookup(uint64_t input_addr) const;
  // The output address `input_addr` translates to (block or page base plus
  // the offset), or nullopt if nothing maps it.
  std::optional<uint64_t> translate(uint64_t input_addr) const;

 private:
  // The entry a walk for `input_addr` ends at (an invalid one, a block or a
  // page) and its level; entry is null outside the input space or without a root.
  struct Walk {
    uint64_t* entry;
    unsigned level;
  };
  Walk walk(uint64_t input_addr) const;
  Table* take_table();
  std::expected<void, Error> map_level(Table& t, unsigned level, uint64_t in, uint64_t out,
                                       uint64_t size, uint64_t attrs);

  std::span<Table> pool_;
  size_t used_ = 0;
  Regime regime_;
};

}  // namespace memory

// pvmfw's boot sequence as a library (entry/boot/README.md): everything from a
// running MMU and console to the hand-off, on the firmware and on the host.
// It reads the input device tree, meets the hypervisor, verifies the payload,
// derives the VM's DICE layer and rebuilds the guest's device tree, and
// returns either where to jump or why not -- it never fails by itself, so
// the firmware's entry has the one place where a boot ends in the failure
// funnel (entry/fail.h). Data flows one way: entry -> memory -> hvc ->
// verify -> fdt -> dice -> jump.
//
// Everything that touches the machine goes through a Platform: a struct of
// plain function pointers (no virtual dispatch in early boot, STYLE.md rule
// 8), filled by the firmware (entry/platform.cc) or by a host fake
// (entry/boot/tests/). Hypervisor calls go through hvc/, whose host build
// has its own fake conduit (hvc/fake.h).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <span>
#include <string_view>

#include "base/range.h"
#include "boot/reason.h"
#include "board/board.h"
#include "fdt/tree.h"
#include "hvc/smccc.h"
#include "memory/page_tables.h"

namespace boot {

// What the validated tree lacks for a boot that fdt/ accepts on its own
// (a tree without a payload is a valid VM description; pvmfw cannot boot it).
enum class InputError : uint8_t {
  kNoKernel,      // INVALID_PAYLOAD
  kNoInstanceId,  // INVALID_FDT
};
// "NO_KERNEL", "NO_INSTANCE_ID".
const char* to_string(InputError e);
// "/config/kernel-address is absent", ...
const char* describe(InputError e);
Reason reason_for(InputError e);

// A refusal: the reason and the line's detail, exactly as the console shows
// it (the QEMU tests match these lines). The detail is bounded (no heap) and
// truncated, never overrun, when longer.
struct Failure {
  static constexpr size_t kMaxDetail = 192;
  Reason reason = Reason::kInternalError;
  std::array<char, kMaxDetail> detail{};  // NUL-terminated

  const char* c_str() const { return detail.data(); }
  std::string_view view() const;
};
// printf-style (base/format.h) construction.
Failure failure(Reason reason, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
Failure failure(InputError e);

// Named points of the sequence where a test-hook build may act (entry/hooks.cc,
// selected by /chosen/pvmfw,test-hook) and a host test may intervene. A
// Failure returned from a stage ends the boot with it.
enum class Stage : uint8_t {
  kPlatformReady,  // tree accepted, hypervisor met, entropy chosen; nothing verified
  kVerified,       // the payload verified; no grant released, no secret derived
  kDiceDerived,    // the VM's DICE layer written; secrets live; nothing printed
  kDiceReported,   // ... and the DICE line printed; the tree not rebuilt
  kInstanceWrite,  // an instance-disk write half done: its first sector written, the
                   // rest not (a machine that stops here left a torn entry)
};
const char* to_string(Stage s);

struct StageContext {
  const fdt::Tree& tree;  // the accepted input tree (a view into the DT window)
  hvc::Conduit conduit;
};

struct Platform {
  // The bytes at physical range `r`, readable and writable, or an empty span
  // when `r` is not backed (INTERNAL_ERROR). The firmware's is the identity
  // map; only ranges it maps (after `map` for the payload) are touched.
  std::span<std::byte> (*memory)(base::Range r);
  // Adds `pages` (page aligned) to the address space with `attr`.
  std::expected<void, memory::Error> (*map)(base::Range pages, memory::Attr attr);
  // What was written to `r` reaches the point of coherency (mmu::clean_to_poc).
  void (*clean_to_poc)(base::Range r);
  // The console: raw bytes; the UART in use; switch to another (mapped) one.
  void (*write)(const char* s, size_t n);
  uint64_t (*console)();
  void (*use_console)(uint64_t base);
  // The entropy source the entry chose ("SMCCC TRNG", ...), nullptr for none;
  // fill() false (and `out` zeroed) when there is none or it failed.
  const char* (*entropy_source)();
  bool (*fill_random)(std::span<std::byte> out);
  // The virtual counter (phase marks only).
  uint64_t (*ticks)();
  // From the first DICE secret on (fail::mark_secrets_live).
  void (*secrets_live)();
  // The named-stage hook; nullptr: none.
  std::expected<void, Failure> (*at_stage)(Stage stage, const StageContext& context);
  // One 32-bit device register access (base/mmio.h), for the instance disk's
  // virtio transport; nullptr: no device access (the instance step is skipped).
  uint32_t (*mmio_read32)(uint64_t addr) = nullptr;
  void (*mmio_write32)(uint64_t addr, uint32_t value) = nullptr;
  // The image's last console lines, printed before the MMIO guard unmaps the
  // console (a non-debuggable payload gets no console mapping); nullptr: none.
  void (*last_words)() = nullptr;
};

struct Inputs {
  // x0 from the hypervisor; 0: the board's DT window (QEMU -dtb).
  uint64_t dt_address = 0;
  // The AVB public key pvmfw trusts (built into the image).
  std::span<const std::byte> trusted_key;
  const board::Board* board = &board::kQemuVirt;
  // pvmfw at EL1 on qemu-virt calls the hypervisor with HVC.
  hvc::Conduit conduit = hvc::Conduit::kHvc;
  // The counter when the entry started (the first phase mark).
  uint64_t start_tick = 0;
};

// Where to go: the arm64 boot protocol's x0 and PC. The guest's tree and the
// DICE handover are written and cleaned to the point of coherency.
struct Handoff {
  uint64_t kernel_entry = 0;
  uint64_t dt_address = 0;
  size_t dt_size = 0;
  size_t handover_size = 0;
  bool debuggable = false;  // the payload keeps the console (initrd_debug)
};

// The sequence. On failure, whatever secret it had read or derived is wiped
// from the config window; the caller still wipes the rest (the funnel).
[[nodiscard]] std::expected<Handoff, Failure> run(const Platform& platform, const Inputs& inputs);

}  // namespace boot

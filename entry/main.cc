// pvmfw's boot path after the MMU is on: read the input device tree, find the
// console, the PSCI conduit and the payload, verify the payload, then hand the
// VM over. Data flows one way: entry -> (memory, hvc) -> verify -> fdt -> dice
// -> jump; the DT rebuild and DICE arrive with their own issues.
#include <board/board.h>
#include <board/layout.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "entry/console.h"
#include "entry/entropy.h"
#include "entry/fail.h"
#include "entry/heap.h"
#include "entry/mmu.h"
#include "base/sha2.h"
#include "base/wipe.h"
#include "dice/config.h"
#include "dice/dice.h"
#include "dice/pvmfw.h"
#include "fdt/sanitize.h"
#include "hvc/kvm.h"
#include "hvc/psci.h"
#include "hvc/smccc.h"
#include "memory/tracker.h"
#include "verify/verify.h"

extern "C" {
extern uintptr_t __stack_chk_guard;
extern char __stack_guard[];
[[noreturn]] void pvmfw_jump(uint64_t entry, uint64_t dt);
}

// The trusted AVB public key, built into the image (Meson option trusted-key).
namespace pvmfw {
extern const std::byte trusted_key[];
extern const size_t trusted_key_size;
}

namespace {

using fail::Reason;

constexpr uint64_t kPage = 4096;

// The virtual counter since reset: with QEMU -icount shift=0 one tick is 16
// guest instructions, which is how `./pvm bench` measures pvmfw's cost and
// where it goes (the phase marks printed at the hand-off).
uint64_t counter() {
  uint64_t v;
  asm volatile("isb\n\tmrs %0, cntvct_el0" : "=r"(v));
  return v;
}

// Maps [r] (widened to pages) read-only, execute-never: pvmfw only reads the
// payload; it never runs or writes it.
void map_payload_readonly(const base::Range& r, const char* what) {
  const base::Range pages = base::page_span(r);
  if (auto m = mmu::map(pages.base, pages.size, memory::Attr::kReadOnly); !m) {
    fail::boot_failed(Reason::kInternalError, "map %s: %s", what, memory::to_string(m.error()));
  }
}

std::span<const std::byte> bytes_of(const base::Range& r) {
  return {reinterpret_cast<const std::byte*>(static_cast<uintptr_t>(r.base)),
          static_cast<size_t>(r.size)};
}

void print_digest(const char* name, const verify::PartitionDigest& d) {
  console::print("pvmfw:   %-13s %s %lu bytes ", name, verify::to_string(d.algorithm), d.image_size);
  for (size_t i = 0; i < 8 && i < d.size; ++i) console::print("%02x", d.bytes[i]);
  console::print("...\n");
}

// Verifies the payload in place (AVB, pvmfw's policy) or ends the boot.
verify::VerifiedPayload verify_payload(const fdt::VmPlatform& platform) {
  const auto& kernel = *platform.kernel;
  map_payload_readonly(kernel, "kernel");
  if (platform.initrd) map_payload_readonly(*platform.initrd, "initrd");
  verify::PayloadInputs in;
  in.kernel = bytes_of(kernel);
  if (platform.initrd) in.initrd = bytes_of(*platform.initrd);
  in.trusted_public_key = {pvmfw::trusted_key, pvmfw::trusted_key_size};
  // No instance storage: the stored rollback index is 0; rollback protection
  // is the payload's (dice/pvmfw.h set_instance).
  auto verified = verify::verify_payload(in);
  if (!verified) {
    fail::boot_failed(Reason::kPayloadVerificationFailed, "%s: %s",
                      verify::to_string(verified.error().error), verified.error().detail);
  }
  console::print("pvmfw: payload verified: %s, rollback index %lu, hashing: %s\n",
                 verify::to_string(verified->algorithm), verified->rollback_index,
                 base::sha2::implementation());
  print_digest("boot", verified->kernel);
  if (verified->initrd) {
    print_digest(verified->debug_initrd ? "initrd_debug" : "initrd_normal", *verified->initrd);
  }
  return *verified;
}


// The board the device-tree path is given (fdt/ knows none of its own).
constexpr const board::Board& kBoard = board::kQemuVirt;

// Kernel-range refusals are INVALID_PAYLOAD and initrd ones INVALID_RAMDISK
// (AOSP's reasons); everything else about the tree is INVALID_FDT.
Reason reason_for(fdt::ValidateError e) {
  switch (e) {
    case fdt::ValidateError::kKernelBadRange:
    case fdt::ValidateError::kKernelOutsideMemory:
    case fdt::ValidateError::kKernelMisaligned:
    case fdt::ValidateError::kKernelOverlapsFirmware:
      return Reason::kInvalidPayload;
    case fdt::ValidateError::kInitrdBadRange:
    case fdt::ValidateError::kInitrdOutsideMemory:
    case fdt::ValidateError::kInitrdOverlapsKernel:
    case fdt::ValidateError::kInitrdOverlapsFirmware:
      return Reason::kInvalidRamdisk;
    default:
      return Reason::kInvalidFdt;
  }
}

// A refusal of the device-tree path (fdt/sanitize.h), by its step: "NAME" for
// the read, "NAME: description" for the validation, "rebuild: NAME".
[[noreturn]] void device_tree_failed(fdt::SanitizeError e) {
  if (auto v = e.validate_error()) {
    fail::boot_failed(reason_for(*v), "%s: %s", fdt::to_string(e), fdt::describe(e));
  }
  if (e.step() == fdt::Step::kRebuild) {
    fail::boot_failed(Reason::kInvalidFdt, "rebuild: %s", fdt::to_string(e));
  }
  fail::boot_failed(Reason::kInvalidFdt, "%s", fdt::to_string(e));
}

// The ledger of this boot's memory (memory/tracker.h): who owns which part of
// RAM, which MMIO granules the guard maps, what is shared with the host.
// validate_platform already refused overlapping layouts with named reasons;
// the tracker is the record the hand-off is checked against, and refuses any
// claim that would still collide (INTERNAL_ERROR: a firmware bug).
void claim(memory::Tracker& t, memory::Kind kind, base::Range r) {
  if (auto c = t.add(kind, r); !c) {
    fail::boot_failed(Reason::kInternalError, "memory: %s %#lx-%#lx: %s%s%s",
                      memory::to_string(kind), r.base, r.end(), memory::to_string(c.error().error),
                      c.error().other ? " with " : "",
                      c.error().other ? memory::to_string(*c.error().other) : "");
  }
}

memory::Tracker track_memory(const fdt::VmPlatform& platform, uint64_t granule) {
  // The first RAM range holds everything pvmfw places (board_limits).
  auto t = memory::Tracker::create(platform.memory[0], granule);
  if (!t) {
    fail::boot_failed(Reason::kInternalError, "memory tracker: %s",
                      memory::to_string(t.error().error));
  }
  claim(*t, memory::Kind::kDeviceTree, {BOARD_DT_BASE, BOARD_DT_MAX_SIZE});
  claim(*t, memory::Kind::kFirmware, {BOARD_SCRATCH_BASE, BOARD_CONFIG_BASE - BOARD_SCRATCH_BASE});
  claim(*t, memory::Kind::kConfig, {BOARD_CONFIG_BASE, BOARD_CONFIG_MAX_SIZE});
  claim(*t, memory::Kind::kHandover, {BOARD_HANDOVER_BASE, BOARD_HANDOVER_SIZE});
  if (platform.kernel) claim(*t, memory::Kind::kKernel, *platform.kernel);
  if (platform.initrd) claim(*t, memory::Kind::kInitrd, *platform.initrd);
  return *t;
}

// Before the jump: unmap every MMIO granule pvmfw guard-mapped (but the
// console of a debuggable payload, which keeps it) and unshare everything.
void release_hypervisor_grants(memory::Tracker& t, hvc::Conduit conduit, bool debuggable) {
  // Handed to the payload: forgotten, not unmapped (absent when unprotected).
  if (debuggable) (void)t.unmap_mmio(console::current());
  auto mmio = t.release_all_mmio([conduit](uint64_t ipa) {
    const hvc::Status s = hvc::mmio_guard_unmap(conduit, ipa);
    // Android 13 kernels answer -1 for a successful unmap (pkvm-abi.md).
    return s == hvc::Status::kSuccess || s == hvc::Status::kNotSupported;
  });
  if (!mmio)
    fail::boot_failed(Reason::kInternalError, "MMIO_GUARD_UNMAP %#lx failed", mmio.error());
  auto shared = t.release_all_shared([conduit, &t](base::Range r) {
    for (uint64_t ipa = r.base; ipa < r.end(); ipa += t.granule()) {
      if (hvc::mem_unshare(conduit, ipa) != hvc::Status::kSuccess) return false;
    }
    return true;
  });
  if (!shared) {
    fail::boot_failed(Reason::kInternalError, "MEM_UNSHARE %#lx-%#lx failed", shared.error().base,
                      shared.error().end());
  }
  if (!t.clean()) fail::boot_failed(Reason::kInternalError, "memory: grants left after release");
}

// The VM's DICE layer (dice/): the previous stage's handover from the config
// blob the VMM placed at BOARD_CONFIG_BASE, the measurements of the verified
// payload, and the new handover written into the page the rebuilt tree
// reserves. The config blob (CDIs of the previous stage) is wiped here; every
// other intermediate secret lives in pvmfw's RAM, which the jump wipes.
static_assert(fdt::kInstanceIdSize == dice::pvmfw::kInstanceIdSize);
size_t derive_vm_layer(const verify::VerifiedPayload& verified,
                       std::span<const std::byte, fdt::kInstanceIdSize> instance_id) {
  fail::mark_secrets_live();
  auto* config_area = reinterpret_cast<std::byte*>(BOARD_CONFIG_BASE);
  auto config = dice::parse_config({config_area, BOARD_CONFIG_MAX_SIZE});
  // What holds the previous stage's secrets: the blob (its entries lie
  // within total_size), or the whole window when it is not one.
  const size_t secret_extent = config ? config->total_size : BOARD_CONFIG_MAX_SIZE;
  if (!config) {
    base::secure_wipe(config_area, BOARD_CONFIG_MAX_SIZE);
    fail::boot_failed(Reason::kInvalidConfigData, "%s", dice::to_string(config.error()));
  }
  dice::pvmfw::Measurements m;
  m.kernel_digest = std::as_bytes(std::span(verified.kernel.bytes).first(verified.kernel.size));
  if (verified.initrd) {
    m.initrd_digest = std::as_bytes(std::span(verified.initrd->bytes).first(verified.initrd->size));
  }
  m.avb_public_key = {pvmfw::trusted_key, pvmfw::trusted_key_size};
  m.debug = verified.debug_initrd;
  m.security_version = verified.rollback_index;
  if (auto r = dice::pvmfw::set_instance(m, instance_id); !r) {
    base::secure_wipe(config_area, secret_extent);
    fail::boot_failed(Reason::kSecretDerivationFailed, "%s", dice::to_string(r.error()));
  }
  std::array<std::byte, dice::pvmfw::kMaxConfigDescriptorSize> descriptor{};
  dice::InputValues in;
  if (auto r = dice::pvmfw::make_inputs(m, descriptor, in); !r) {
    base::secure_wipe(config_area, secret_extent);
    fail::boot_failed(Reason::kSecretDerivationFailed, "%s", dice::to_string(r.error()));
  }
  std::span<std::byte> out(reinterpret_cast<std::byte*>(BOARD_HANDOVER_BASE), BOARD_HANDOVER_SIZE);
  auto written = dice::handover_main_flow(config->dice_handover(), in, dice::CertOptions{}, out);
  // The previous stage's secrets are not needed any more, whatever happened;
  // the zeros and the new handover must reach RAM for the payload.
  base::secure_wipe(config_area, secret_extent);
  mmu::clean_to_poc(BOARD_CONFIG_BASE, secret_extent);
  mmu::clean_to_poc(BOARD_HANDOVER_BASE, BOARD_HANDOVER_SIZE);
  if (!written) {
    const Reason r = dice::error_class(written.error()) == dice::ErrorClass::kInvalidHandover
                         ? Reason::kInvalidBcc
                         : Reason::kSecretDerivationFailed;
    fail::boot_failed(r, "%s", dice::to_string(written.error()));
  }
  return *written;
}

// The guest's device tree: fdt::rebuild (the firmware's template with the
// validated values, the handover page reserved, strict boot) with this
// boot's options, the payload's debuggability and seeds from the entropy
// source; built behind the input in the DT window, then moved to the
// window's start over the input, whose bytes are zeroed. Returns its size.
size_t rebuild_device_tree(const fdt::Accepted& input, fdt::Options options, bool debuggable) {
  options.debuggable = debuggable;
  uint64_t kaslr = 0;
  std::array<std::byte, 32> rng_seed{};
  if (entropy::fill(reinterpret_cast<uint8_t*>(&kaslr), sizeof(kaslr)) &&
      entropy::fill(reinterpret_cast<uint8_t*>(rng_seed.data()), rng_seed.size())) {
    options.kaslr_seed = kaslr;
    options.rng_seed = rng_seed;
  }
  const uint64_t dt_base = kBoard.dt_window.base;
  const uint64_t in_end = (dt_base + input.tree.size() + kPage - 1) & ~(kPage - 1);
  std::span<std::byte> out(reinterpret_cast<std::byte*>(in_end), kBoard.dt_window.end() - in_end);
  auto built = fdt::rebuild(input, kBoard, options, out);
  base::secure_wipe(&kaslr, sizeof(kaslr));
  base::secure_wipe(rng_seed.data(), rng_seed.size());
  if (!built) device_tree_failed(built.error());
  auto* window = reinterpret_cast<std::byte*>(dt_base);
  memmove(window, out.data(), *built);
  memset(window + *built, 0, in_end + *built - (dt_base + *built));
  mmu::clean_to_poc(dt_base, in_end + *built - dt_base);
  return *built;
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

extern "C" char __text_start[], __text_end[];

// SHA-256/512 in the guest, on whatever path mbedTLS chose for this CPU,
// against FIPS 180-4 example digests (one-block, two-block and the
// million-'a' messages), whole and split across updates.
void hash_self_test() {
  static constexpr char kAbc[] = "abc";
  static constexpr char kTwo256[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  static constexpr char kTwo512[] =
      "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
      "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
  struct Case {
    const char* msg;  // nullptr: one million 'a'
    uint8_t sha256[32];
    uint8_t sha512_head[8];
  };
  static constexpr Case kCases[] = {
      {kAbc,
       {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
        0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad},
       {0xdd, 0xaf, 0x35, 0xa1, 0x93, 0x61, 0x7a, 0xba}},
      {kTwo256,
       {0x24, 0x8d, 0x6a, 0x61, 0xd2, 0x06, 0x38, 0xb8, 0xe5, 0xc0, 0x26, 0x93, 0x0c, 0x3e, 0x60, 0x39,
        0xa3, 0x3c, 0xe4, 0x59, 0x64, 0xff, 0x21, 0x67, 0xf6, 0xec, 0xed, 0xd4, 0x19, 0xdb, 0x06, 0xc1},
       {0x20, 0x4a, 0x8f, 0xc6, 0xdd, 0xa8, 0x2f, 0x0a}},
      {nullptr,
       {0xcd, 0xc7, 0x6e, 0x5c, 0x99, 0x14, 0xfb, 0x92, 0x81, 0xa1, 0xc7, 0xe2, 0x84, 0xd7, 0x3e, 0x67,
        0xf1, 0x80, 0x9a, 0x48, 0xa4, 0x97, 0x20, 0x0e, 0x04, 0x6d, 0x39, 0xcc, 0xc7, 0x11, 0x2c, 0xd0},
       {0xe7, 0x18, 0x48, 0x3d, 0x0c, 0xe7, 0x69, 0x64}},
  };
  static constexpr uint8_t kTwo512Head[8] = {0x8e, 0x95, 0x9b, 0x75, 0xda, 0xe3, 0x13, 0xda};
  unsigned cases = 0;
  static std::byte million[1000];
  memset(million, 'a', sizeof(million));
  for (const Case& c : kCases) {
    for (size_t split = 0; split < 2; ++split) {
      base::sha2::Sha256 h256;
      base::sha2::Sha512 h512;
      if (c.msg != nullptr) {
        const auto msg = std::as_bytes(std::span(c.msg, strlen(c.msg)));
        const size_t cut = split != 0 ? msg.size() / 3 : 0;
        h256.update(msg.first(cut));
        h256.update(msg.subspan(cut));
        h512.update(msg.first(cut));
        h512.update(msg.subspan(cut));
      } else {
        for (size_t i = 0; i < 1000; ++i) {
          h256.update(std::span(million).first(split != 0 ? 999 : 1000));
          h512.update(std::span(million).first(split != 0 ? 999 : 1000));
        }
        if (split != 0) {
          h256.update(std::span(million).first(1000));
          h512.update(std::span(million).first(1000));
        }
      }
      uint8_t d256[32], d512[64];
      h256.finish(d256);
      h512.finish(d512);
      if (memcmp(d256, c.sha256, 32) != 0) {
        fail::boot_failed(Reason::kTestHook, "SHA-256 known answer %u differs", cases);
      }
      if (memcmp(d512, c.sha512_head, 8) != 0) {
        fail::boot_failed(Reason::kTestHook, "SHA-512 known answer %u differs", cases);
      }
      cases += 2;
    }
  }
  uint8_t d512[64];
  const std::span<const std::byte> parts[] = {std::as_bytes(std::span(kTwo512, strlen(kTwo512)))};
  base::sha2::sha512(parts, d512);
  if (memcmp(d512, kTwo512Head, 8) != 0) {
    fail::boot_failed(Reason::kTestHook, "SHA-512 two-block known answer differs");
  }
  console::print("pvmfw: hash self-test: %u known answers on %s\n", cases + 1,
                 base::sha2::implementation());
}

constinit std::string_view g_test_hook;

void run_test_hook(const fdt::Tree& tree) {
  auto chosen = tree.node("/chosen");
  if (!chosen) return;
  auto hook = tree.prop_string(*chosen, "pvmfw,test-hook");
  if (!hook) return;
  g_test_hook = *hook;
  console::print("pvmfw: TEST HOOK '%.*s'\n", static_cast<int>(hook->size()), hook->data());
  if (*hook == "hash-selftest") {
    hash_self_test();
  } else if (*hook == "fault-unmapped") {
    // The stack guard page is never mapped.
    auto* p = reinterpret_cast<volatile uint64_t*>(__stack_guard);
    (void)*p;
  } else if (*hook == "stack-overflow") {
    volatile uint64_t seed = 1;
    (void)recurse(&seed);
  } else if (*hook == "write-text") {
    // W^X: code is read-only.
    *reinterpret_cast<volatile uint32_t*>(__text_start) = 0xd503201f;  // NOP
  } else if (*hook == "exec-stack") {
    // W^X: writable memory is execute-never. A RET at the top of a stack word.
    volatile uint32_t code[2] = {0xd65f03c0, 0};
    reinterpret_cast<void (*)()>(reinterpret_cast<uintptr_t>(code))();
  } else if (*hook == "fail") {
    fail::boot_failed(Reason::kTestHook, "requested by the device tree");
  }
}
#endif

}  // namespace

extern "C" [[noreturn]] void pvmfw_main(uint64_t dt_arg, uint64_t el) {
  const uint64_t t_start = counter();
  console::print("\npvmfw " PVMFW_VERSION " (qemu-virt): protected VM firmware, EL%lu\n", el);
  // mbedTLS's heap, before any crypto runs.
  heap::init();

  // The input DT: the hypervisor's x0, else where QEMU/-dtb put it. Only the
  // DT window is mapped; a DT anywhere else is refused.
  const uint64_t dt_addr = dt_arg != 0 ? dt_arg : BOARD_DT_BASE;
  if (dt_addr != BOARD_DT_BASE) {
    fail::boot_failed(Reason::kInvalidFdt, "device tree at %#lx, outside the DT window %#x",
                      dt_addr, BOARD_DT_BASE);
  }
  std::span<const std::byte> window(reinterpret_cast<const std::byte*>(dt_addr),
                                    kBoard.dt_window.size);
  // pvmfw at EL1 on this board calls the hypervisor (HVC); the tree must say so.
  const auto conduit = hvc::Conduit::kHvc;
  // This boot's device-tree options: pvmfw's defaults (fdt::Options{}, which
  // `pvm fdt sanitize` starts from too) and the conduit; the rebuild adds the
  // payload's debuggability and the seeds.
  fdt::Options dt_options;
  dt_options.conduit = fdt::PsciMethod::kHvc;
  // Read and validate (fdt/sanitize.h); the rebuild comes after DICE.
  const auto accepted = fdt::accept(window, kBoard, dt_options);
  if (!accepted) device_tree_failed(accepted.error());
  // Views into the DT window, which stays as it is until the rebuild.
  const fdt::Tree* const tree = &accepted->tree;
  const fdt::VmPlatform* const platform = &accepted->platform;
  fail::set_conduit(conduit);

  if (platform->stdout_uart) {
    const base::Range c = platform->uarts[*platform->stdout_uart].reg;
    if (c.base != console::current()) {
      if (auto m = mmu::map(c.base, kPage, memory::Attr::kDevice); !m) {
        fail::boot_failed(Reason::kInternalError, "console map: %s", memory::to_string(m.error()));
      }
      console::use(c.base);
    }
  }
  console::print("pvmfw: device tree at %#lx (%zu bytes) validated: RAM %#lx-%#lx, %zu cpu(s), "
                 "GICv%d, PSCI via %s\n",
                 dt_addr, tree->size(), platform->memory[0].base,
                 platform->memory[platform->memory.size() - 1].end(), platform->cpus.size(),
                 platform->gic.version == fdt::GicVersion::kV2 ? 2 : 3, hvc::to_string(conduit));

  // Least privilege (pkvm-abi.md): under a protected hypervisor, enroll in the
  // MMIO guard and map only the console; pvmfw drives no other device and
  // shares no memory (it has no bounce buffers).
  const hvc::Hypervisor hyp = hvc::discover(conduit);
  if (hyp.protected_vm) {
    if (hyp.mmio_granule != kPage) {
      fail::boot_failed(Reason::kInternalError, "MMIO guard granule %lu, expected 4096",
                        hyp.mmio_granule);
    }
    if (auto s = hvc::mmio_guard_enroll(conduit); s != hvc::Status::kSuccess) {
      fail::boot_failed(Reason::kInternalError, "MMIO_GUARD_ENROLL: %s", hvc::to_string(s));
    }
  }
  memory::Tracker ledger = track_memory(*platform, hyp.protected_vm ? hyp.memory_granule : kPage);
  if (hyp.protected_vm) {
    if (auto s = hvc::mmio_guard_map(conduit, console::current()); s != hvc::Status::kSuccess) {
      fail::boot_failed(Reason::kInternalError, "MMIO_GUARD_MAP console: %s", hvc::to_string(s));
    }
    if (auto r = ledger.map_mmio(console::current()); !r) {
      fail::boot_failed(Reason::kInternalError, "memory: console: %s",
                        memory::to_string(r.error().error));
    }
    console::print("pvmfw: protected VM (pKVM): MMIO guard on, console mapped\n");
  } else if (hyp.kvm) {
    console::print("pvmfw: KVM without the protected-VM calls: running UNPROTECTED\n");
  } else {
    console::print("pvmfw: no protected hypervisor: running UNPROTECTED\n");
  }
  const entropy::Source rng = entropy::init(conduit);
  if (rng == entropy::Source::kNone) {
    console::print("pvmfw: WARNING: no entropy source (no SMCCC TRNG, no FEAT_RNG): "
                   "no random seeds, the stack canary is not random\n");
  } else {
    console::print("pvmfw: entropy from %s\n", entropy::to_string(rng));
  }
  // start.S seeded the canary from RNDR when it could; the TRNG is preferred.
  // Only this never-returning frame is live here, so changing it is safe.
  if (rng == entropy::Source::kTrng || __stack_chk_guard == 0) {
    uint64_t canary;
    if (entropy::fill(reinterpret_cast<uint8_t*>(&canary), sizeof(canary))) {
      __stack_chk_guard = canary;
    }
  }

#if PVMFW_TEST_HOOKS
  run_test_hook(*tree);
#endif

  // Placement (kernel and initrd inside RAM, clear of the DT window and of
  // pvmfw's RAM window) was checked by validate_platform (board_limits).
  if (!platform->kernel) {
    fail::boot_failed(Reason::kInvalidPayload, "NO_KERNEL: /config/kernel-address is absent");
  }
  const auto& kernel = *platform->kernel;
  console::print("pvmfw: kernel %#lx-%#lx", kernel.base, kernel.end());
  if (platform->initrd) {
    console::print(", initrd %#lx-%#lx\n", platform->initrd->base, platform->initrd->end());
  } else {
    console::print(", no initrd\n");
  }

  // The instance (dice/pvmfw.h set_instance). pvmfw keeps no instance image,
  // so the VMM must name the instance: without it every instance of a payload
  // would get the same secrets.
  if (!platform->instance_id) {
    fail::boot_failed(Reason::kInvalidFdt, "NO_INSTANCE_ID: /avf/untrusted/instance-id is absent");
  }

  const uint64_t t_verify = counter();
  const verify::VerifiedPayload verified = verify_payload(*platform);
  const uint64_t t_verified = counter();
#if PVMFW_TEST_HOOKS
  if (g_test_hook == "verify-only") {
    console::print("pvmfw: TEST HOOK verify-only: not starting the payload\n");
    const hvc::Status s = hvc::psci::system_off(conduit);
    fail::boot_failed(Reason::kTestHook, "SYSTEM_OFF returned %s", hvc::to_string(s));
  }
#endif

  // Leave no MMIO mapping or share behind that the payload did not ask for:
  // a debuggable payload (initrd_debug) keeps the console.
  release_hypervisor_grants(ledger, conduit, verified.debug_initrd);

  // The VM's DICE layer into the handover page, then the guest's device tree,
  // rebuilt from validated values only, which reserves that page.
  const uint64_t t_dice = counter();
  const size_t handover_size = derive_vm_layer(verified, *platform->instance_id);
  const uint64_t t_rebuild = counter();
#if PVMFW_TEST_HOOKS
  if (g_test_hook == "fault-after-dice") (void)*reinterpret_cast<volatile uint64_t*>(__stack_guard);
#endif
  console::print("pvmfw: DICE: VM layer derived, handover %zu bytes at %#x\n", handover_size,
                 BOARD_HANDOVER_BASE);
#if PVMFW_TEST_HOOKS
  // A refusal with every DICE secret of the boot live (tests/qemu/dice_boot.py).
  if (g_test_hook == "fail-after-dice") fail::boot_failed(Reason::kTestHook, "after DICE");
#endif
  const size_t dt_size = rebuild_device_tree(*accepted, dt_options, verified.debug_initrd);
  console::print("pvmfw: device tree rebuilt from the template: %zu bytes at %#x\n", dt_size,
                 BOARD_DT_BASE);

  const uint64_t t_rebuilt = counter();
  console::print("pvmfw: phase ticks: start %lu, verify %lu, verified %lu, dice %lu, rebuild %lu, "
                 "rebuilt %lu\n",
                 t_start, t_verify, t_verified, t_dice, t_rebuild, t_rebuilt);
  const uint64_t cntvct = counter();
  uint64_t cntfrq;
  asm volatile("mrs %0, cntfrq_el0" : "=r"(cntfrq));
  console::print("pvmfw: mbedTLS heap: %zu bytes, static, wiped with pvmfw's RAM at the jump\n",
                 heap::kSize);
  console::print("pvmfw: hand-off at counter tick %lu (%lu Hz)\n", cntvct, cntfrq);
  console::print("pvmfw: Starting payload...\n");
  pvmfw_jump(kernel.base, dt_addr);
}

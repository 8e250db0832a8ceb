// The boot sequence (boot/boot.h). Every refusal is a returned Failure whose
// detail is the text the console showed before this was a library.
#include "boot/boot.h"

#include <cstdarg>
#include <cstring>

#include "base/format.h"
#include "base/sha2.h"
#include "base/wipe.h"
#include "dice/config.h"
#include "dice/dice.h"
#include "dice/pvmfw.h"
#include "fdt/sanitize.h"
#include "hvc/kvm.h"
#include "instance/image.h"
#include "instance_step.h"
#include "memory/tracker.h"
#include "verify/verify.h"

namespace boot {

const char* to_string(InputError e) {
  switch (e) {
    case InputError::kNoKernel:
      return "NO_KERNEL";
    case InputError::kNoInstanceId:
      return "NO_INSTANCE_ID";
  }
  return "?";
}

const char* describe(InputError e) {
  switch (e) {
    case InputError::kNoKernel:
      return "/config/kernel-address is absent";
    case InputError::kNoInstanceId:
      return "/avf/untrusted/instance-id is absent";
  }
  return "?";
}

Reason reason_for(InputError e) {
  return e == InputError::kNoKernel ? Reason::kInvalidPayload : Reason::kInvalidFdt;
}

const char* to_string(Stage s) {
  switch (s) {
    case Stage::kPlatformReady:
      return "platform-ready";
    case Stage::kVerified:
      return "verified";
    case Stage::kDiceDerived:
      return "dice-derived";
    case Stage::kDiceReported:
      return "dice-reported";
    case Stage::kInstanceWrite:
      return "instance-write";
  }
  return "?";
}

std::string_view Failure::view() const {
  const void* nul = memchr(detail.data(), 0, kMaxDetail);
  return {detail.data(),
          nul != nullptr ? static_cast<size_t>(static_cast<const char*>(nul) - detail.data())
                         : kMaxDetail};
}

namespace {

struct DetailSink {
  Failure* f;
  size_t used;
};

void detail_sink(void* ctx, const char* data, size_t len) {
  auto* s = static_cast<DetailSink*>(ctx);
  const size_t room = Failure::kMaxDetail - 1 - s->used;
  const size_t take = len < room ? len : room;
  memcpy(s->f->detail.data() + s->used, data, take);
  s->used += take;
}

Failure vfailure(Reason reason, const char* fmt, va_list ap) {
  Failure f;
  f.reason = reason;
  DetailSink s{&f, 0};
  base::vformat(detail_sink, &s, fmt, ap);
  f.detail[s.used] = '\0';
  return f;
}

}  // namespace

Failure failure(Reason reason, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  Failure f = vfailure(reason, fmt, ap);
  va_end(ap);
  return f;
}

Failure failure(InputError e) { return failure(reason_for(e), "%s: %s", to_string(e), describe(e)); }

namespace {

constexpr uint64_t kPage = 4096;

// One boot: the platform, the inputs and what the steps leave for the next.
class Sequence {
 public:
  Sequence(const Platform& p, const Inputs& in) : p_(p), in_(in), board_(*in.board) {}
  std::expected<Handoff, Failure> run();

 private:
  void print(const char* fmt, ...) __attribute__((format(printf, 2, 3)));
  std::expected<std::span<std::byte>, Failure> memory(base::Range r);
  std::expected<void, Failure> stage(Stage s, const fdt::Tree& tree);
  std::expected<void, Failure> map_payload_readonly(const base::Range& r, const char* what);
  void print_digest(const char* name, const verify::PartitionDigest& d);
  std::expected<verify::VerifiedPayload, Failure> verify_payload(const fdt::VmPlatform& vm);
  std::expected<memory::Tracker, Failure> track_memory(const fdt::VmPlatform& vm, uint64_t granule);
  std::expected<void, Failure> release_hypervisor_grants(memory::Tracker& t, bool debuggable);
  std::expected<size_t, Failure> derive_vm_layer(
      const verify::VerifiedPayload& verified,
      std::span<const std::byte, fdt::kInstanceIdSize> instance_id, const InstanceContext& ictx,
      bool& new_instance);
  std::expected<size_t, Failure> rebuild_device_tree(std::span<std::byte> window,
                                                     const fdt::Accepted& input,
                                                     fdt::Options options, bool debuggable);

  const Platform& p_;
  const Inputs& in_;
  const board::Board& board_;
};

void print_sink(void* ctx, const char* data, size_t len) {
  static_cast<const Platform*>(ctx)->write(data, len);
}

void Sequence::print(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  base::vformat(print_sink, const_cast<Platform*>(&p_), fmt, ap);
  va_end(ap);
}

std::expected<std::span<std::byte>, Failure> Sequence::memory(base::Range r) {
  auto bytes = p_.memory(r);
  if (bytes.size() != r.size) {
    return std::unexpected(failure(Reason::kInternalError, "memory %#lx-%#lx is not backed",
                                   r.base, r.end()));
  }
  return bytes;
}

std::expected<void, Failure> Sequence::stage(Stage s, const fdt::Tree& tree) {
  if (p_.at_stage == nullptr) return {};
  return p_.at_stage(s, StageContext{tree, in_.conduit});
}

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
Failure device_tree_failed(fdt::SanitizeError e) {
  if (auto v = e.validate_error()) {
    return failure(reason_for(*v), "%s: %s", fdt::to_string(e), fdt::describe(e));
  }
  if (e.step() == fdt::Step::kRebuild) {
    return failure(Reason::kInvalidFdt, "rebuild: %s", fdt::to_string(e));
  }
  return failure(Reason::kInvalidFdt, "%s", fdt::to_string(e));
}

// Maps [r] (widened to pages) read-only, execute-never: pvmfw only reads the
// payload; it never runs or writes it.
std::expected<void, Failure> Sequence::map_payload_readonly(const base::Range& r,
                                                            const char* what) {
  if (auto m = p_.map(base::page_span(r), memory::Attr::kReadOnly); !m) {
    return std::unexpected(
        failure(Reason::kInternalError, "map %s: %s", what, memory::to_string(m.error())));
  }
  return {};
}

void Sequence::print_digest(const char* name, const verify::PartitionDigest& d) {
  print("pvmfw:   %-13s %s %lu bytes ", name, verify::to_string(d.algorithm), d.image_size);
  for (size_t i = 0; i < 8 && i < d.size; ++i) print("%02x", d.bytes[i]);
  print("...\n");
}

// Verifies the payload in place (AVB, pvmfw's policy).
std::expected<verify::VerifiedPayload, Failure> Sequence::verify_payload(
    const fdt::VmPlatform& vm) {
  const auto& kernel = *vm.kernel;
  if (auto m = map_payload_readonly(kernel, "kernel"); !m) return std::unexpected(m.error());
  if (vm.initrd) {
    if (auto m = map_payload_readonly(*vm.initrd, "initrd"); !m) return std::unexpected(m.error());
  }
  verify::PayloadInputs in;
  auto kernel_bytes = memory(kernel);
  if (!kernel_bytes) return std::unexpected(kernel_bytes.error());
  in.kernel = *kernel_bytes;
  if (vm.initrd) {
    auto initrd_bytes = memory(*vm.initrd);
    if (!initrd_bytes) return std::unexpected(initrd_bytes.error());
    in.initrd = *initrd_bytes;
  }
  in.trusted_public_key = in_.trusted_key;
  // No instance storage: the stored rollback index is 0; rollback protection
  // is the payload's (dice/pvmfw.h set_instance).
  auto verified = verify::verify_payload(in);
  if (!verified) {
    return std::unexpected(failure(Reason::kPayloadVerificationFailed, "%s: %s",
                                   verify::to_string(verified.error().error),
                                   verified.error().detail));
  }
  print("pvmfw: payload verified: %s, rollback index %lu, hashing: %s\n",
        verify::to_string(verified->algorithm), verified->rollback_index,
        base::sha2::implementation());
  print_digest("boot", verified->kernel);
  if (verified->initrd) {
    print_digest(verified->debug_initrd ? "initrd_debug" : "initrd_normal", *verified->initrd);
  }
  return *verified;
}

// The ledger of this boot's memory (memory/tracker.h): who owns which part of
// RAM, which MMIO granules the guard maps, what is shared with the host.
// validate_platform already refused overlapping layouts with named reasons;
// the tracker is the record the hand-off is checked against, and refuses any
// claim that would still collide (INTERNAL_ERROR: a firmware bug).
std::expected<void, Failure> claim(memory::Tracker& t, memory::Kind kind, base::Range r) {
  if (auto c = t.add(kind, r); !c) {
    return std::unexpected(failure(
        Reason::kInternalError, "memory: %s %#lx-%#lx: %s%s%s", memory::to_string(kind), r.base,
        r.end(), memory::to_string(c.error().error), c.error().other ? " with " : "",
        c.error().other ? memory::to_string(*c.error().other) : ""));
  }
  return {};
}

std::expected<memory::Tracker, Failure> Sequence::track_memory(const fdt::VmPlatform& vm,
                                                               uint64_t granule) {
  // The first RAM range holds everything pvmfw places (board_limits).
  auto t = memory::Tracker::create(vm.memory[0], granule);
  if (!t) {
    return std::unexpected(failure(Reason::kInternalError, "memory tracker: %s",
                                   memory::to_string(t.error().error)));
  }
  const struct {
    memory::Kind kind;
    base::Range range;
  } claims[] = {
      {memory::Kind::kDeviceTree, board_.dt_window},
      {memory::Kind::kFirmware, {board_.scratch.base, board_.config.base - board_.scratch.base}},
      {memory::Kind::kConfig, board_.config},
      {memory::Kind::kHandover, board_.handover},
      {memory::Kind::kScratch, board_.bounce},
  };
  for (const auto& c : claims) {
    if (auto r = claim(*t, c.kind, c.range); !r) return std::unexpected(r.error());
  }
  if (vm.kernel) {
    if (auto r = claim(*t, memory::Kind::kKernel, *vm.kernel); !r) return std::unexpected(r.error());
  }
  if (vm.initrd) {
    if (auto r = claim(*t, memory::Kind::kInitrd, *vm.initrd); !r) return std::unexpected(r.error());
  }
  return std::move(*t);
}

// Before the jump: unmap every MMIO granule pvmfw guard-mapped (but the
// console of a debuggable payload, which keeps it) and unshare everything.
std::expected<void, Failure> Sequence::release_hypervisor_grants(memory::Tracker& t,
                                                                 bool debuggable) {
  const hvc::Conduit conduit = in_.conduit;
  // Handed to the payload: forgotten, not unmapped (absent when unprotected).
  if (debuggable) (void)t.unmap_mmio(p_.console());
  auto mmio = t.release_all_mmio([conduit](uint64_t ipa) {
    const hvc::Status s = hvc::mmio_guard_unmap(conduit, ipa);
    // Android 13 kernels answer -1 for a successful unmap (pkvm-abi.md).
    return s == hvc::Status::kSuccess || s == hvc::Status::kNotSupported;
  });
  if (!mmio) {
    return std::unexpected(
        failure(Reason::kInternalError, "MMIO_GUARD_UNMAP %#lx failed", mmio.error()));
  }
  auto shared = t.release_all_shared([conduit, &t](base::Range r) {
    for (uint64_t ipa = r.base; ipa < r.end(); ipa += t.granule()) {
      if (hvc::mem_unshare(conduit, ipa) != hvc::Status::kSuccess) return false;
    }
    return true;
  });
  if (!shared) {
    return std::unexpected(failure(Reason::kInternalError, "MEM_UNSHARE %#lx-%#lx failed",
                                   shared.error().base, shared.error().end()));
  }
  if (!t.clean()) {
    return std::unexpected(failure(Reason::kInternalError, "memory: grants left after release"));
  }
  return {};
}

// The VM's DICE layer (dice/): the previous stage's handover from the config
// blob the VMM placed in the board's config window, the measurements of the
// verified payload, and the new handover written into the page the rebuilt
// tree reserves. The config blob (CDIs of the previous stage) is wiped here,
// on every path; every other intermediate secret lives in pvmfw's RAM, which
// the jump or the failure funnel wipes.
static_assert(fdt::kInstanceIdSize == dice::pvmfw::kInstanceIdSize);
std::expected<size_t, Failure> Sequence::derive_vm_layer(
    const verify::VerifiedPayload& verified,
    std::span<const std::byte, fdt::kInstanceIdSize> instance_id, const InstanceContext& ictx,
    bool& new_instance) {
  p_.secrets_live();
  auto config_area = memory(board_.config);
  if (!config_area) return std::unexpected(config_area.error());
  auto handover = memory(board_.handover);
  if (!handover) return std::unexpected(handover.error());
  auto config = dice::parse_config(*config_area);
  // What holds the previous stage's secrets: the blob (its entries lie
  // within total_size), or the whole window when it is not one.
  const size_t secret_extent = config ? config->total_size : config_area->size();
  auto refuse = [&](Reason r, const char* text) {
    base::secure_wipe(config_area->data(), secret_extent);
    return std::unexpected(failure(r, "%s", text));
  };
  if (!config) return refuse(Reason::kInvalidConfigData, dice::to_string(config.error()));
  dice::pvmfw::Measurements m;
  m.kernel_digest = std::as_bytes(std::span(verified.kernel.bytes).first(verified.kernel.size));
  if (verified.initrd) {
    m.initrd_digest = std::as_bytes(std::span(verified.initrd->bytes).first(verified.initrd->size));
  }
  m.avb_public_key = in_.trusted_key;
  m.debug = verified.debug_initrd;
  m.security_version = verified.rollback_index;
  if (auto r = dice::pvmfw::set_instance(m, instance_id); !r) {
    return refuse(Reason::kSecretDerivationFailed, dice::to_string(r.error()));
  }
  std::array<std::byte, dice::pvmfw::kMaxConfigDescriptorSize> descriptor{};
  dice::InputValues in;
  if (auto r = dice::pvmfw::make_inputs(m, descriptor, in); !r) {
    return refuse(Reason::kSecretDerivationFailed, dice::to_string(r.error()));
  }

  // The instance disk (docs/instance.md), sealed under the previous stage's
  // CDI_Seal: what this instance ran before decides whether it may run now.
  auto previous = dice::parse_handover(config->dice_handover());
  if (!previous) return refuse(Reason::kInvalidBcc, dice::to_string(previous.error()));
  const instance::Measured measured{
      .code_hash = in.code_hash,
      .authority_hash = in.authority_hash,
      .mode = verified.debug_initrd ? instance::Mode::kDebug : instance::Mode::kNormal,
      .rollback_index = verified.rollback_index,
  };
  // Read at the first boot only: the flag is then sealed into the entry.
  uint32_t create_flags = 0;
  for (const fdt::AvfProperty& prop : ictx.vm.avf_untrusted) {
    if (prop.name == "pvm,pin-software") create_flags |= instance::kFlagPinSoftware;
  }
  auto checked = check_instance(ictx, previous->cdi_seal, *m.instance_hash, measured, create_flags);
  if (!checked) {
    base::secure_wipe(config_area->data(), secret_extent);
    return std::unexpected(checked.error());
  }
  new_instance = checked->new_instance;
  auto written = dice::main_flow(previous->cdi_attest, previous->cdi_seal, previous->chain, in,
                                 dice::CertOptions{}, *handover);
  // The previous stage's secrets are not needed any more, whatever happened;
  // the zeros and the new handover must reach RAM for the payload.
  base::secure_wipe(config_area->data(), secret_extent);
  p_.clean_to_poc({board_.config.base, secret_extent});
  p_.clean_to_poc(board_.handover);
  if (!written) {
    const Reason r = dice::error_class(written.error()) == dice::ErrorClass::kInvalidHandover
                         ? Reason::kInvalidBcc
                         : Reason::kSecretDerivationFailed;
    return std::unexpected(failure(r, "%s", dice::to_string(written.error())));
  }
  return *written;
}

// The guest's device tree: fdt::rebuild (the firmware's template with the
// validated values, the handover page reserved, strict boot) with this
// boot's options, the payload's debuggability and seeds from the entropy
// source; built behind the input in the DT window, then moved to the
// window's start over the input, whose bytes are zeroed. Returns its size.
std::expected<size_t, Failure> Sequence::rebuild_device_tree(std::span<std::byte> window,
                                                             const fdt::Accepted& input,
                                                             fdt::Options options,
                                                             bool debuggable) {
  options.debuggable = debuggable;
  uint64_t kaslr = 0;
  std::array<std::byte, 32> rng_seed{};
  if (p_.fill_random(std::as_writable_bytes(std::span(&kaslr, 1))) &&
      p_.fill_random(rng_seed)) {
    options.kaslr_seed = kaslr;
    options.rng_seed = rng_seed;
  }
  const size_t in_end = (input.tree.size() + kPage - 1) & ~(kPage - 1);
  std::span<std::byte> out = window.subspan(in_end);
  auto built = fdt::rebuild(input, board_, options, out);
  base::secure_wipe(&kaslr, sizeof(kaslr));
  base::secure_wipe(rng_seed.data(), rng_seed.size());
  if (!built) return std::unexpected(device_tree_failed(built.error()));
  memmove(window.data(), out.data(), *built);
  memset(window.data() + *built, 0, in_end);
  p_.clean_to_poc({board_.dt_window.base, in_end + *built});
  return *built;
}

std::expected<Handoff, Failure> Sequence::run() {
  // The input DT: the hypervisor's x0, else where QEMU/-dtb put it. Only the
  // DT window is mapped; a DT anywhere else is refused.
  const uint64_t dt_addr = in_.dt_address != 0 ? in_.dt_address : board_.dt_window.base;
  if (dt_addr != board_.dt_window.base) {
    return std::unexpected(failure(Reason::kInvalidFdt,
                                   "device tree at %#lx, outside the DT window %#lx", dt_addr,
                                   board_.dt_window.base));
  }
  auto window = memory(board_.dt_window);
  if (!window) return std::unexpected(window.error());
  const hvc::Conduit conduit = in_.conduit;
  // This boot's device-tree options: pvmfw's defaults (fdt::Options{}, which
  // `pvm fdt sanitize` starts from too) and the conduit; the rebuild adds the
  // payload's debuggability and the seeds.
  fdt::Options dt_options;
  dt_options.conduit =
      conduit == hvc::Conduit::kHvc ? fdt::PsciMethod::kHvc : fdt::PsciMethod::kSmc;
  // Read and validate (fdt/sanitize.h); the rebuild comes after DICE.
  const auto accepted = fdt::accept(*window, board_, dt_options);
  if (!accepted) return std::unexpected(device_tree_failed(accepted.error()));
  // Views into the DT window, which stays as it is until the rebuild.
  const fdt::Tree& tree = accepted->tree;
  const fdt::VmPlatform& vm = accepted->platform;

  if (vm.stdout_uart) {
    const base::Range c = vm.uarts[*vm.stdout_uart].reg;
    if (c.base != p_.console()) {
      if (auto m = p_.map({c.base, kPage}, memory::Attr::kDevice); !m) {
        return std::unexpected(failure(Reason::kInternalError, "console map: %s",
                                       memory::to_string(m.error())));
      }
      p_.use_console(c.base);
    }
  }
  print("pvmfw: device tree at %#lx (%zu bytes) validated: RAM %#lx-%#lx, %zu cpu(s), "
        "GICv%d, PSCI via %s\n",
        dt_addr, tree.size(), vm.memory[0].base, vm.memory[vm.memory.size() - 1].end(),
        vm.cpus.size(), vm.gic.version == fdt::GicVersion::kV2 ? 2 : 3, hvc::to_string(conduit));

  // Least privilege (pkvm-abi.md): under a protected hypervisor, enroll in the
  // MMIO guard and map only the console; pvmfw drives no other device and
  // shares no memory (it has no bounce buffers).
  const hvc::Hypervisor hyp = hvc::discover(conduit);
  if (hyp.mmio_guard()) {
    if (hyp.mmio_granule != kPage) {
      return std::unexpected(failure(Reason::kInternalError,
                                     "MMIO guard granule %lu, expected 4096", hyp.mmio_granule));
    }
    if (auto s = hvc::mmio_guard_enroll(conduit); s != hvc::Status::kSuccess) {
      return std::unexpected(
          failure(Reason::kInternalError, "MMIO_GUARD_ENROLL: %s", hvc::to_string(s)));
    }
  }
  auto ledger = track_memory(vm, hyp.protected_vm ? hyp.memory_granule : kPage);
  if (!ledger) return std::unexpected(ledger.error());
  if (hyp.mmio_guard()) {
    if (auto s = hvc::mmio_guard_map(conduit, p_.console()); s != hvc::Status::kSuccess) {
      return std::unexpected(
          failure(Reason::kInternalError, "MMIO_GUARD_MAP console: %s", hvc::to_string(s)));
    }
    if (auto r = ledger->map_mmio(p_.console()); !r) {
      return std::unexpected(failure(Reason::kInternalError, "memory: console: %s",
                                     memory::to_string(r.error().error)));
    }
    print("pvmfw: protected VM (pKVM): memory isolated, MMIO guard on, console mapped\n");
  } else if (hyp.protected_vm) {
    print("pvmfw: protected VM (pKVM): memory isolated, no MMIO guard offered\n");
  } else if (hyp.kvm) {
    print("pvmfw: KVM without the protected-VM calls: running UNPROTECTED\n");
  } else {
    print("pvmfw: no protected hypervisor: running UNPROTECTED\n");
  }
  if (const char* source = p_.entropy_source(); source == nullptr) {
    print("pvmfw: WARNING: no entropy source (no SMCCC TRNG, no FEAT_RNG): "
          "no random seeds, the stack canary is not random\n");
  } else {
    print("pvmfw: entropy from %s\n", source);
  }
  if (auto s = stage(Stage::kPlatformReady, tree); !s) return std::unexpected(s.error());

  // Placement (kernel and initrd inside RAM, clear of the DT window and of
  // pvmfw's RAM window) was checked by validate_platform (board_limits).
  if (!vm.kernel) return std::unexpected(failure(InputError::kNoKernel));
  const auto& kernel = *vm.kernel;
  print("pvmfw: kernel %#lx-%#lx", kernel.base, kernel.end());
  if (vm.initrd) {
    print(", initrd %#lx-%#lx\n", vm.initrd->base, vm.initrd->end());
  } else {
    print(", no initrd\n");
  }

  // The instance (dice/pvmfw.h set_instance). pvmfw keeps no instance image,
  // so the VMM must name the instance: without it every instance of a payload
  // would get the same secrets.
  if (!vm.instance_id) return std::unexpected(failure(InputError::kNoInstanceId));

  const uint64_t t_verify = p_.ticks();
  const auto verified = verify_payload(vm);
  if (!verified) return std::unexpected(verified.error());
  const uint64_t t_verified = p_.ticks();
  if (auto s = stage(Stage::kVerified, tree); !s) return std::unexpected(s.error());

  // The VM's DICE layer into the handover page, then the guest's device tree,
  // rebuilt from validated values only, which reserves that page.
  const uint64_t t_dice = p_.ticks();
  const InstanceContext ictx{p_, board_, vm, conduit, hyp, *ledger, &tree};
  bool new_instance = false;
  const auto handover_size = derive_vm_layer(*verified, *vm.instance_id, ictx, new_instance);
  if (!handover_size) return std::unexpected(handover_size.error());
  const uint64_t t_rebuild = p_.ticks();
  if (auto s = stage(Stage::kDiceDerived, tree); !s) return std::unexpected(s.error());
  print("pvmfw: DICE: VM layer derived, handover %zu bytes at %#lx\n", *handover_size,
        board_.handover.base);
  if (auto s = stage(Stage::kDiceReported, tree); !s) return std::unexpected(s.error());
  dt_options.new_instance = new_instance;
  const auto dt_size = rebuild_device_tree(*window, *accepted, dt_options, verified->debug_initrd);
  if (!dt_size) return std::unexpected(dt_size.error());
  print("pvmfw: device tree rebuilt from the template: %zu bytes at %#lx\n", *dt_size,
        board_.dt_window.base);

  const uint64_t t_rebuilt = p_.ticks();
  print("pvmfw: phase ticks: start %lu, verify %lu, verified %lu, dice %lu, rebuild %lu, "
        "rebuilt %lu\n",
        in_.start_tick, t_verify, t_verified, t_dice, t_rebuild, t_rebuilt);
  // The last lines while the console is still mapped, then leave no MMIO
  // mapping or share behind that the payload did not ask for: a debuggable
  // payload (initrd_debug) keeps the console.
  if (p_.last_words != nullptr) p_.last_words();
  if (auto r = release_hypervisor_grants(*ledger, verified->debug_initrd); !r) {
    return std::unexpected(r.error());
  }
  Handoff h;
  h.kernel_entry = kernel.base;
  h.dt_address = dt_addr;
  h.dt_size = *dt_size;
  h.handover_size = *handover_size;
  h.debuggable = verified->debug_initrd;
  return h;
}

}  // namespace

std::expected<Handoff, Failure> run(const Platform& platform, const Inputs& inputs) {
  return Sequence(platform, inputs).run();
}

}  // namespace boot

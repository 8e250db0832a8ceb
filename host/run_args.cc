#include "run_args.h"

#include "cli.h"  // hex_to_bytes
#include "instance.h"
#include "vm_dt.h"

namespace pvm {
namespace {

using Option = OptionSpec<RunArgs>;

std::expected<void, ArgError> ok() { return {}; }

const std::vector<Option>& options() {
  static const std::vector<Option> table = {
      {"--hypervisor", true, [](RunArgs& a, std::string_view v) { a.hypervisor = v; return ok(); }},
      {"--pvmfw-img", true, [](RunArgs& a, std::string_view v) { a.pvmfw_img = v; return ok(); }},
      {"--no-hypervisor", false,
       [](RunArgs& a, std::string_view) { a.no_hypervisor = true; return ok(); }},
      {"--mmio-guard", false,
       [](RunArgs& a, std::string_view) { a.mmio_guard = true; return ok(); }},
      {"--firmware", true, [](RunArgs& a, std::string_view v) { a.firmware = v; return ok(); }},
      {"--kernel", true, [](RunArgs& a, std::string_view v) { a.kernel = v; return ok(); }},
      {"--initrd", true, [](RunArgs& a, std::string_view v) { a.initrd = v; return ok(); }},
      {"--no-initrd", false, [](RunArgs& a, std::string_view) { a.no_initrd = true; return ok(); }},
      {"--busybox", true, [](RunArgs& a, std::string_view v) { a.busybox = v; return ok(); }},
      {"--cmdline", true, [](RunArgs& a, std::string_view v) { a.cmdline = v; return ok(); }},
      {"--mem", true, store_number(&RunArgs::mem_mib, "--mem", uint64_t{1}, kMaxMemMib)},
      {"--cpus", true, store_number(&RunArgs::cpus, "--cpus", uint32_t{1}, kMaxCpus)},
      {"--expect", true, append_nonempty(&RunArgs::expect, "--expect")},
      {"--expect-fail", true, store_once(&RunArgs::expect_fail, "--expect-fail")},
      {"--timeout", true,
       store_number(&RunArgs::timeout_s, "--timeout", uint32_t{1}, kMaxTimeoutS)},
      {"--icount", false, [](RunArgs& a, std::string_view) { a.icount = true; return ok(); }},
      {"--virtualization", false,
       [](RunArgs& a, std::string_view) { a.virtualization = true; return ok(); }},
      {"--qemu", true, [](RunArgs& a, std::string_view v) { a.qemu = v; return ok(); }},
      {"--dt-out", true, [](RunArgs& a, std::string_view v) { a.dt_out = v; return ok(); }},
      {"--keep-dir", true, [](RunArgs& a, std::string_view v) { a.keep_dir = v; return ok(); }},
      {"--dtb", true, [](RunArgs& a, std::string_view v) { a.dtb = v; return ok(); }},
      {"--no-config", false, [](RunArgs& a, std::string_view) { a.no_config = true; return ok(); }},
      {"--instance", true,
       [](RunArgs& a, std::string_view v) -> std::expected<void, ArgError> {
         if (!valid_instance_name(v)) return arg_error(ArgErrc::kBadValue, "--instance");
         a.instance = v;
         return {};
       }},
      {"--instance-id", true,
       [](RunArgs& a, std::string_view v) -> std::expected<void, ArgError> {
         std::vector<uint8_t> id(kInstanceIdBytes);
         if (!hex_to_bytes(v, id)) return arg_error(ArgErrc::kBadValue, "--instance-id");
         a.instance_id = std::move(id);
         return {};
       }},
      {"--no-instance", false,
       [](RunArgs& a, std::string_view) { a.no_instance = true; return ok(); }},
      {"--sign-key", true, [](RunArgs& a, std::string_view v) { a.sign_key = v; return ok(); }},
      {"--test-hook", true, [](RunArgs& a, std::string_view v) { a.test_hook = v; return ok(); }},
      {"--print-cmd", false, [](RunArgs& a, std::string_view) { a.print_cmd = true; return ok(); }},
  };
  return table;
}

}  // namespace

std::expected<RunArgs, ArgError> parse_run_args(std::span<const std::string_view> args) {
  RunArgs out;
  if (auto parsed = parse_args<RunArgs>(args, options(), out, {}, &out.qemu_args); !parsed) {
    return std::unexpected(parsed.error());
  }
  if (out.no_initrd && out.initrd) return arg_error(ArgErrc::kConflict, "--no-initrd");
  if (out.dtb && out.test_hook) return arg_error(ArgErrc::kConflict, "--test-hook");
  if (out.no_instance && out.instance_id) return arg_error(ArgErrc::kConflict, "--no-instance");
  if (out.no_hypervisor) {
    if (out.hypervisor) return arg_error(ArgErrc::kConflict, "--hypervisor");
    if (out.pvmfw_img) return arg_error(ArgErrc::kConflict, "--pvmfw-img");
    if (out.mmio_guard) return arg_error(ArgErrc::kConflict, "--mmio-guard");
  } else {
    // The -bios path's own options. No config blob is the hypervisor's
    // decision (it makes the previous DICE stage), not the launcher's.
    if (out.firmware) return arg_error(ArgErrc::kRequired, "--no-hypervisor (with --firmware)");
    if (out.virtualization) {
      return arg_error(ArgErrc::kRequired, "--no-hypervisor (with --virtualization)");
    }
    if (out.no_config) return arg_error(ArgErrc::kRequired, "--no-hypervisor (with --no-config)");
  }
  return out;
}

std::string_view run_usage() {
  return R"(usage: pvm run [options] [-- extra qemu arguments]

Boots pvmfw under QEMU virt with a kernel (and initrd) behind it, streams the
console, and reports whether the guest reached its goal.

By default the VM is protected: the hypervisor (hyp.bin, under -bios, at EL2)
verifies pvmfw.img, derives pvmfw's DICE inputs from this machine's device
secret and runs pvmfw at EL1 in a VM of --mem MiB, at most 2048 (QEMU's RAM is
fixed at 2064 MiB: the hypervisor's 16 MiB sit above the largest VM). pvm hands it everything as fw_cfg files (opt/pvm/launch, a
64-byte launch header; pvmfw.img; dt; payload; initrd; uds). With
--no-hypervisor, pvmfw.bin runs under -bios itself, unprotected, and pvm
places the tree (-dtb), kernel, initrd and config blob in RAM.

  --hypervisor F    hyp.bin for -bios (default: $PVM_HYPERVISOR)
  --pvmfw-img F     the signed pvmfw partition the hypervisor verifies
                    (default: $PVM_PVMFW_IMG)
  --mmio-guard      offer the VM the MMIO guard (launch flag bit 0); off by
                    default: stock kernels without CONFIG_ARM_PKVM_GUEST
                    never map their devices through it
  --no-hypervisor   boot pvmfw.bin under -bios, unprotected (the options
                    below marked -bios need it)
  --firmware F      -bios: pvmfw image (default: $PVM_FIRMWARE)
  --kernel K        Linux Image or raw payload (default: newest
                    $PVM_GUEST_DIR/boot/vmlinuz-*-cloud-arm64)
  --initrd I        initrd to load (default: a demo busybox initramfs)
  --no-initrd       boot without an initrd
  --busybox PATH    static busybox for the demo initramfs
                    (default: $PVM_GUEST_DIR/bin/busybox)
  --cmdline S       kernel command line (default: "console=ttyAMA0 panic=-1")
  --mem MiB         guest RAM (default: 1024)
  --cpus N          vCPUs, 1..8 (default: 1)
  --expect STR      console text that must appear; repeatable, all must appear
                    (default: "pvm-guest: reached /init")
  --expect-fail R   succeed only if the boot is refused with reason R: pvmfw's
                    "pvmfw: boot failed: R", or the hypervisor's
                    "hyp: launch refused: R" or "hyp: pvmfw.img refused: R"
  --timeout S       wall-clock limit in seconds (default: 120)
  --icount          deterministic time (-icount shift=0,sleep=off -seed 1)
  --virtualization  -bios: start pvmfw at EL2 (-M virt,virtualization=on)
  --qemu PATH       QEMU binary (default: qemu-system-aarch64)
  --dt-out FILE     also write the VM device tree to FILE
  --keep-dir DIR    write generated files to DIR and keep them
  --print-cmd       print the QEMU command line before running it
  --dtb FILE        hand FILE to pvmfw instead of the tree pvm writes (for
                    checking how pvmfw treats a given tree; kernel and initrd
                    are still placed as usual)
  --no-config       -bios: place no config blob; by default pvm run places
                    one at the board's config address holding the previous
                    DICE stage's handover, made from this machine's device
                    secret (`pvm device init`; created on first use). With
                    the hypervisor, it makes that stage from the same secret
  --instance NAME   boot as VM instance NAME (default: "default"): its
                    64-byte id, made on first use and kept in
                    $PVM_STATE/instances/NAME (or ~/.local/share/pvm/...), goes
                    into the tree as /avf/untrusted/instance-id; pvmfw derives
                    the instance's DICE secrets from it
  --instance-id HEX use this 64-byte instance id instead
  --no-instance     write no instance id (pvmfw then refuses: NO_INSTANCE_ID)
  --sign-key KEY.pem sign the kernel first, as a build would: an AVB hash
                    footer over "boot" (SHA256 with the key's RSA size) and,
                    with an initrd, an initrd_normal descriptor; random salts
  --test-hook NAME  add /chosen/pvmfw,test-hook = NAME to the written tree
                    (acted on only by pvmfw-testhooks.bin: fault-unmapped,
                    stack-overflow, write-text, exec-stack, fail,
                    hash-selftest, verify-only, fault-after-dice,
                    fail-after-dice)

Exit status: 0 goal reached and QEMU exited by itself; 1 guest failed or
timed out; 2 usage error.
)";
}

}  // namespace pvm

#include "vm_args.h"

#include "run_args.h"  // kMaxTimeoutS
#include "vm_store.h"

namespace pvm {
namespace {

// The one positional word: the VM's name.
template <typename Args>
ApplyFn<Args> name_word() {
  return [](Args& a, std::string_view word) -> std::expected<void, ArgError> {
    if (!a.name.empty()) return arg_error(ArgErrc::kUnexpectedArgument, word);
    if (!valid_vm_name(word))
      return arg_error(ArgErrc::kBadValue, "NAME '" + std::string(word) + "'");
    a.name = word;
    return {};
  };
}

template <typename Args>
std::expected<void, ArgError> need_name(const Args& a) {
  if (!a.help && a.name.empty()) return arg_error(ArgErrc::kRequired, "NAME");
  return {};
}

const std::vector<OptionSpec<CreateArgs>>& create_options() {
  using A = CreateArgs;
  static const std::vector<OptionSpec<A>> table = {
      {"--kernel", true, store<A>(&A::kernel)},
      {"--initrd", true, store<A>(&A::initrd)},
      {"--no-initrd", false, set_flag<A>(&A::no_initrd)},
      {"--busybox", true, store<A>(&A::busybox)},
      {"--cmdline", true,
       [](A& a, std::string_view v) -> std::expected<void, ArgError> {
         if (!valid_record_value(v)) return arg_error(ArgErrc::kBadValue, "--cmdline");
         a.cmdline = v;
         return {};
       }},
      {"--mem", true,
       [](A& a, std::string_view v) -> std::expected<void, ArgError> {
         // The hypervisor's rule (vm_store.h): whole 2 MiB blocks, 16 to 2048 MiB.
         auto n = parse_number<uint64_t>("--mem", v, kVmMinMemMib, kVmMaxMemMib);
         if (!n) return std::unexpected(n.error());
         if (*n % kVmMemStepMib != 0) return arg_error(ArgErrc::kBadValue, "--mem (a multiple of 2)");
         a.mem_mib = *n;
         return {};
       }},
      {"--cpus", true, store_number(&A::cpus, "--cpus", uint32_t{1}, kVmMaxCpus)},
      {"--debug", false, set_flag<A>(&A::debug)},
      {"--pin-software", false, set_flag<A>(&A::pin_software)},
      {"--sign-key", true, store<A>(&A::sign_key)},
      {"--key", true, store<A>(&A::key)},
  };
  return table;
}

const std::vector<OptionSpec<UpdateArgs>>& update_options() {
  using A = UpdateArgs;
  static const std::vector<OptionSpec<A>> table = {
      {"--kernel", true, store<A>(&A::kernel)},
      {"--initrd", true, store<A>(&A::initrd)},
      {"--no-initrd", false, set_flag<A>(&A::no_initrd)},
      {"--cmdline", true,
       [](A& a, std::string_view v) -> std::expected<void, ArgError> {
         if (!valid_record_value(v)) return arg_error(ArgErrc::kBadValue, "--cmdline");
         a.cmdline = v;
         return {};
       }},
      {"--sign-key", true, store<A>(&A::sign_key)},
      {"--key", true, store<A>(&A::key)},
  };
  return table;
}

const std::vector<OptionSpec<StartArgs>>& start_options() {
  using A = StartArgs;
  static const std::vector<OptionSpec<A>> table = {
      {"--timeout", true, store_number(&A::timeout_s, "--timeout", uint32_t{1}, kMaxTimeoutS)},
      {"--expect", true, append_nonempty(&A::expect, "--expect")},
      {"--expect-fail", true, store_once(&A::expect_fail, "--expect-fail")},
      {"--icount", false, set_flag<A>(&A::icount)},
      {"--hypervisor", true, store<A>(&A::hypervisor)},
      {"--pvmfw-img", true, store<A>(&A::pvmfw_img)},
      {"--qemu", true, store<A>(&A::qemu)},
      {"--test-hook", true, store<A>(&A::test_hook)},
      {"--print-cmd", false, set_flag<A>(&A::print_cmd)},
  };
  return table;
}

const std::vector<OptionSpec<ListArgs>>& list_options() {
  static const std::vector<OptionSpec<ListArgs>> table = {
      {"--json", false, set_flag<ListArgs>(&ListArgs::json)},
  };
  return table;
}

}  // namespace

std::expected<CreateArgs, ArgError> parse_create_args(std::span<const std::string_view> words) {
  CreateArgs out;
  if (auto parsed = parse_args<CreateArgs>(words, create_options(), out, name_word<CreateArgs>());
      !parsed) {
    return std::unexpected(parsed.error());
  }
  if (auto named = need_name(out); !named) return std::unexpected(named.error());
  if (out.no_initrd && out.initrd) return arg_error(ArgErrc::kConflict, "--no-initrd");
  if (out.sign_key && out.key) return arg_error(ArgErrc::kConflict, "--key (with --sign-key)");
  if (!out.help && !out.sign_key && !out.key) {
    return arg_error(ArgErrc::kRequired, "--sign-key KEY.pem or --key KEY.avbpubkey");
  }
  // pvmfw knows a debuggable payload by its initrd_debug descriptor.
  if (out.debug && out.no_initrd) return arg_error(ArgErrc::kConflict, "--debug (needs an initrd)");
  return out;
}

std::expected<UpdateArgs, ArgError> parse_update_args(std::span<const std::string_view> words) {
  UpdateArgs out;
  if (auto parsed = parse_args<UpdateArgs>(words, update_options(), out, name_word<UpdateArgs>());
      !parsed) {
    return std::unexpected(parsed.error());
  }
  if (auto named = need_name(out); !named) return std::unexpected(named.error());
  if (out.no_initrd && out.initrd) return arg_error(ArgErrc::kConflict, "--no-initrd");
  if (out.sign_key && out.key) return arg_error(ArgErrc::kConflict, "--key (with --sign-key)");
  if (!out.help && !out.restages_payload() && !out.cmdline) {
    return arg_error(ArgErrc::kRequired,
                     "one of --kernel, --initrd, --no-initrd, --sign-key, --key, --cmdline");
  }
  return out;
}

std::expected<StartArgs, ArgError> parse_start_args(std::span<const std::string_view> words) {
  StartArgs out;
  if (auto parsed = parse_args<StartArgs>(words, start_options(), out, name_word<StartArgs>(),
                                          &out.qemu_args);
      !parsed) {
    return std::unexpected(parsed.error());
  }
  if (auto named = need_name(out); !named) return std::unexpected(named.error());
  return out;
}

std::expected<NameArgs, ArgError> parse_name_args(std::span<const std::string_view> words) {
  NameArgs out;
  const std::vector<OptionSpec<NameArgs>> none;
  if (auto parsed = parse_args<NameArgs>(words, none, out, name_word<NameArgs>()); !parsed) {
    return std::unexpected(parsed.error());
  }
  if (auto named = need_name(out); !named) return std::unexpected(named.error());
  return out;
}

std::expected<ListArgs, ArgError> parse_list_args(std::span<const std::string_view> words) {
  ListArgs out;
  if (auto parsed = parse_args<ListArgs>(words, list_options(), out); !parsed) {
    return std::unexpected(parsed.error());
  }
  return out;
}

std::string_view create_usage() {
  return R"(usage: pvm create NAME [--kernel IMG] [--initrd F | --no-initrd] [--cmdline S]
                   [--mem MiB] [--cpus N] [--debug] [--pin-software]
                   (--sign-key KEY.pem | --key KEY.avbpubkey)

Makes the protected VM NAME ([a-z0-9][a-z0-9-]{0,31}, not taken yet) in
$PVM_STATE/vms/NAME (or ~/.local/share/pvm/vms/NAME): the payload it boots,
signed or checked now, its record (vm.conf: every option), a fresh 64-byte
instance id and its instance disk (disk.img, 2 MiB GPT with an empty
vm-instance partition). `pvm start NAME` boots it.

  --kernel IMG      Linux Image or raw payload (default, as `pvm run`: newest
                    $PVM_GUEST_DIR/boot/vmlinuz-*-cloud-arm64)
  --initrd F        initrd (default: the demo busybox initramfs, as `pvm run`)
  --no-initrd       boot without an initrd
  --busybox PATH    static busybox for the demo initramfs
                    (default: $PVM_GUEST_DIR/bin/busybox)
  --cmdline S       kernel command line (default: "console=ttyAMA0 panic=-1")
  --mem MiB         VM RAM: even, 16 to 2048 (default: 1024)
  --cpus N          vCPUs, 1..8 (default: 1)
  --debug           a debuggable payload: pvm signs the initrd as
                    initrd_debug (pvmfw keeps the whole command line, and
                    the VM gets debug-mode DICE secrets); needs an initrd
  --pin-software    refuse any change of the payload's code after the first
                    boot: every start hands pvmfw /avf/untrusted/pvm,pin-software,
                    which it seals into the instance at first boot
  --sign-key KEY.pem sign a copy of the kernel (and initrd) as `pvm run
                    --sign-key` does: an AVB hash footer over "boot", the
                    initrd as initrd_normal (initrd_debug with --debug)
  --key KEY.avbpubkey the kernel is a signed "boot" partition already: check
                    it (and the initrd) now with pvmfw's own verify code;
                    a refusal names the reason (e.g. PUBLIC_KEY_REJECTED)

Exit status: 0 created; 1 refused (payload, existing VM, a write); 2 usage.
)";
}

std::string_view update_usage() {
  return R"(usage: pvm update NAME [--kernel IMG] [--initrd F | --no-initrd]
                   [--sign-key KEY.pem | --key KEY.avbpubkey] [--cmdline S]

Replaces the payload of the VM NAME (not running) in its folder
(kernel.img, initrd.img, key.avbpubkey) and its record (vm.conf) as `pvm
create` would have made them with these options: with --sign-key a copy
signed now (the initrd as initrd_debug for a VM created with --debug), with
--key the given partition checked now with pvmfw's own verify code; a
refusal is named (e.g. error: PUBLIC_KEY_REJECTED) and nothing changes.
An option left out keeps what the VM has: the kernel recorded (read again
from its path, and signed again as recorded), the VM's initrd, its key and
way of signing, its command line. With --cmdline alone, only the command
line changes. Prints the old and new payload and rollback index.

The instance id and the instance disk are never touched: the update takes
effect at the next `pvm start NAME`, where pvmfw decides whether it is
allowed. It boots (and pvmfw writes it forward) with the same key and mode
and a rollback index not lower than the highest seen; it is refused with
INSTANCE_IMAGE_MISMATCH for another key or mode or, on a VM created with
--pin-software, any code change, and with ROLLBACK for a lower index.

  --kernel IMG      the new kernel: raw with --sign-key (or a VM pvm signs),
                    a signed "boot" partition with --key (or a VM created
                    with --key)
  --initrd F        the new initrd
  --no-initrd       boot without an initrd from now on
  --sign-key KEY.pem sign a copy with this key, as `pvm create --sign-key`
  --key KEY.avbpubkey check the signed kernel (and initrd) against this key,
                    as `pvm create --key`; without --key or --sign-key the
                    payload must verify with the VM's recorded key
                    (key.avbpubkey), so a payload signed by another key is
                    refused unless that key is given explicitly. Given a
                    key other than the recorded one (with either option),
                    the VM is re-keyed: the new key is recorded, and pvmfw
                    refuses the VM at the next start with
                    INSTANCE_IMAGE_MISMATCH (its instance belongs to the old
                    key; re-create the VM for a new instance)
  --cmdline S       the kernel command line

Exit status: 0 updated; 1 refused (payload, running VM, a write); 2 usage,
no such VM.
)";
}

std::string_view start_usage() {
  return R"(usage: pvm start NAME [--timeout S] [--expect STR]... [--expect-fail R]
                  [--icount] [-- extra qemu arguments]

Boots the VM NAME as a protected VM, the way `pvm run` boots one (hyp.bin
verifies pvmfw.img and runs it; pvmfw verifies the payload), with its
instance disk as a virtio-blk device on the virtio-mmio transport at
0x0a003e00 (SPI 47), which the VM tree describes. Streams the console, and
after each stage the console shows prints "pvm: [  T.Ts] STAGE" (T: seconds
since QEMU started), then one verdict: "pvm: NAME: reached its goal",
"pvm: NAME: refused by pvmfw: REASON" (with a fix when one is known),
"pvm: NAME: stopped", "pvm: NAME: timed out ...". While it runs, `pvm stop
NAME` stops it from another terminal and `pvm list` shows it running; a
running VM is not started twice.

  --timeout S       wall-clock limit in seconds (default: 120)
  --expect STR      console text that must appear; repeatable, all must appear
                    (default: "pvm-guest: reached /init", the demo's)
  --expect-fail R   succeed only if the boot is refused with reason R (as
                    `pvm run --expect-fail`)
  --icount          deterministic time (-icount shift=0,sleep=off -seed 1)
  --hypervisor F    hyp.bin (default: $PVM_HYPERVISOR)
  --pvmfw-img F     the signed pvmfw partition (default: $PVM_PVMFW_IMG)
  --qemu PATH       QEMU binary (default: qemu-system-aarch64)
  --test-hook NAME  add /chosen/pvmfw,test-hook = NAME (for pvmfw-testhooks.img,
                    e.g. power-off-mid-instance-write)
  --print-cmd       print the QEMU command line before running it

Exit status: 0 goal reached and QEMU exited by itself (as `pvm run`); 1 the
guest failed, was refused, stopped before its goal or timed out, or the VM is
running already; 2 usage error, no such VM.
)";
}

std::string_view stop_usage() {
  return R"(usage: pvm stop NAME

Stops the running VM NAME (started by `pvm start` in another terminal):
QEMU is told to quit over its QMP socket (vms/NAME/qmp.sock); without an
answer there, the `pvm start` running it is sent SIGTERM. Waits until the VM
is down. Says so when it was not running.

Exit status: 0 stopped, or was not running; 1 it would not stop; 2 usage
error, no such VM.
)";
}

std::string_view list_usage() {
  return R"(usage: pvm list [--json]

Lists the VMs in $PVM_STATE/vms (or ~/.local/share/pvm/vms), by name: state
(running or stopped), RAM, vCPUs, payload, when created.

  --json   one JSON object: {"vms":[{"name", "state" ("running" |
           "stopped"), "pid" (of the `pvm start` running it, or null),
           "mem_mib", "cpus", "kernel" (the kernel given or picked at
           create), "initrd" (its path, "demo", or null), "debug",
           "pin_software", "signing" ("sign-key" | "key"), "key",
           "algorithm", "rollback_index", "cmdline", "instance_id"
           (hex, for `pvm dice expect --instance-id`), "created" (UTC,
           ISO 8601), "dir"}]}; a VM whose record cannot be read:
           {"name", "state": "broken", "error"}

Exit status: 0; 2 usage error.
)";
}

std::string_view delete_usage() {
  return R"(usage: pvm delete NAME

Removes the VM NAME and its folder (payload, record, instance id and disk:
the instance's DICE secrets cannot be had again). Refuses a running VM
(`pvm stop NAME` first).

Exit status: 0 deleted; 1 running, or the folder could not be removed; 2
usage error, no such VM.
)";
}

}  // namespace pvm

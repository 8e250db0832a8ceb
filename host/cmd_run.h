// `pvm run`: boots pvmfw and a payload under QEMU and judges the console.
// Options: run_args.h; placement: layout.h; the tree: vm_dt.h; QEMU: qemu.h.
//
// Callers may rely on: exit statuses as run_usage() states (0 the goal was
// reached and QEMU exited by itself; 1 the guest failed, timed out, or QEMU
// could not start; 2 usage errors and unreadable inputs); QEMU never
// outlives the call; the work folder is removed unless --keep-dir named it.
// Reads $PVM_HYPERVISOR and $PVM_PVMFW_IMG (a protected VM, the default),
// $PVM_FIRMWARE (--no-hypervisor) and $PVM_GUEST_DIR for defaults, and the
// state folder (instance.h, `pvm device`) for the instance id and the device
// secret.
#pragma once

#include <cstdint>
#include <expected>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cli.h"
#include "file_io.h"
#include "qemu.h"
#include "run_args.h"

namespace pvm {

int cmd_run(const Io& io, std::span<const std::string_view> words);

// The payload `pvm run --sign-key` boots: `kernel_path` with a hash footer
// over "boot" (SHA256 with the key's RSA size, random salt, the default
// partition size) and, with an initrd, an initrd_normal hash descriptor
// (initrd_debug with `debug_initrd`: pvmfw then treats the payload as
// debuggable), as a build system signs it; written to `out_path`. The error
// is a message for "pvm: ...".
[[nodiscard]] std::expected<void, std::string> sign_payload(
    const std::string& kernel_path, const std::optional<std::string>& initrd_path,
    const std::string& key_path, const std::string& out_path, bool debug_initrd = false);

// ---- The steps of `pvm run`, shared with `pvm create` and `pvm start` --------------
// (cmd_vm.h): one way to pick a payload, prepare a VM and boot it.

// The payload as `pvm run` picks it before any signing: --kernel, or the
// newest $PVM_GUEST_DIR/boot/vmlinuz-*-cloud-arm64; --initrd, none with
// --no-initrd, or the demo busybox initramfs (--busybox, or
// $PVM_GUEST_DIR/bin/busybox) built into `work`.
struct PayloadChoice {
  std::string kernel;
  std::optional<std::string> initrd;
  bool demo_initrd = false;  // `initrd` is the demo initramfs, in `work`
};
// What the console must show: --expect / --expect-fail, or by default the
// demo's goal (qemu.h kDefaultGoal).
[[nodiscard]] Expectations expectations_for(const RunArgs& args);

[[nodiscard]] CliResult<PayloadChoice> choose_payload(const RunArgs& args,
                                                      const std::filesystem::path& work);

// What a created VM has beyond `pvm run`'s options.
struct VmExtras {
  // A raw disk image: a virtio-blk device on the first virtio-mmio transport
  // QEMU fills (vm_dt.h virtio_mmio_slot(0)), described in the VM tree.
  std::optional<std::string> instance_disk;
  bool pin_software = false;  // /avf/untrusted/pvm,pin-software (vm_dt.h)
  std::string qmp_socket;     // QEMU's QMP server (none when empty)
};

// A VM ready to boot.
struct PreparedVm {
  WorkDir work;                   // removed when this dies, unless --keep-dir
  std::vector<std::string> argv;  // QEMU's
  std::string summary;            // the "pvm: kernel ..." line
};

// Everything `pvm run` does before QEMU starts: inputs found (and checked),
// the mode line printed, initrd, signing, layout, instance id, device tree,
// the launch header (protected) or config blob (--no-hypervisor), QEMU's
// command line.
[[nodiscard]] CliResult<PreparedVm> prepare_vm(const Io& io, const RunArgs& args,
                                               const VmExtras& extras);

struct BootOutcome {
  RunResult result;
  Judgement judgement;  // judge(result, args' expectations)
};

// Runs QEMU with `argv` until it exits, times out (args.timeout_s) or is
// interrupted (SIGINT, SIGTERM, SIGHUP): console lines go to out as they
// arrive, and then to `on_line`; QEMU's stderr goes to err. The error is
// QEMU not starting.
[[nodiscard]] CliResult<BootOutcome> boot_vm(const Io& io, const RunArgs& args,
                                             const std::vector<std::string>& argv,
                                             const std::function<void(std::string_view)>& on_line);

}  // namespace pvm

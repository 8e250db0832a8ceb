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
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "cli.h"

namespace pvm {

int cmd_run(const Io& io, std::span<const std::string_view> words);

// The payload `pvm run --sign-key` boots: `kernel_path` with a hash footer
// over "boot" (SHA256 with the key's RSA size, random salt, the default
// partition size) and, with an initrd, an initrd_normal hash descriptor,
// as a build system signs it; written to `out_path`. The error is a
// message for "pvm: ...".
[[nodiscard]] std::expected<void, std::string> sign_payload(
    const std::string& kernel_path, const std::optional<std::string>& initrd_path,
    const std::string& key_path, const std::string& out_path);

}  // namespace pvm

// The VM lifecycle: `pvm create`, `pvm update`, `pvm start`, `pvm stop`,
// `pvm list`, `pvm delete`. Options: vm_args.h; what a VM is on disk:
// vm_store.h; the boot itself is `pvm run`'s (cmd_run.h prepare_vm,
// boot_vm), through the hypervisor, with the instance disk on virtio-mmio;
// the stage lines and the verdict: boot_stages.h.
//
// Callers may rely on: exit statuses as cli.h (`pvm start`: 0 exactly when
// `pvm run` would pass the same boot); a VM folder appears whole or not at
// all (create builds it in a staging folder, then renames it); a running VM
// is never started twice, updated nor deleted; `pvm update` stages and
// checks the payload as create does, then renames the payload files and the
// record (the record last) into place and never touches the instance id or
// disk: pvmfw judges the update at the next start; QEMU never outlives `pvm
// start`, and the pid file and QMP socket go with it.
#pragma once

#include <span>
#include <string_view>

#include "cli.h"

namespace pvm {

int cmd_create(const Io& io, std::span<const std::string_view> words);
int cmd_update(const Io& io, std::span<const std::string_view> words);
int cmd_start(const Io& io, std::span<const std::string_view> words);
int cmd_stop(const Io& io, std::span<const std::string_view> words);
int cmd_list(const Io& io, std::span<const std::string_view> words);
int cmd_delete(const Io& io, std::span<const std::string_view> words);

}  // namespace pvm

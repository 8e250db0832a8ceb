// `pvm fdt sanitize`: the firmware's device-tree path (fdt::sanitize, with
// pvmfw's options as the defaults) on a host file.
//
// Callers may rely on: exit 0 and OUT written when pvmfw would accept IN,
// OUT being the tree pvmfw would hand the guest (byte for byte when given
// the seeds pvmfw used; without them, that tree without /chosen/kaslr-seed
// and rng-seed); exit 1 with one stderr line "error: NAME: detail" (NAME as
// pvmfw names the refusal) when it would refuse; exit 2 for usage errors and
// unreadable input.
#pragma once

#include <span>
#include <string_view>

#include "cli.h"

namespace pvm {

int cmd_fdt(const Io& io, std::span<const std::string_view> words);
std::string_view fdt_usage();

}  // namespace pvm

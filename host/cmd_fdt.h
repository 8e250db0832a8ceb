// `pvm fdt sanitize`: the firmware's device-tree path (fdt/: Tree::open,
// validate_platform, build_output) on a host file.
//
// Callers may rely on: exit 0 and OUT written when pvmfw would accept IN;
// exit 1 with one stderr line "error: NAME: detail" (NAME as pvmfw names the
// refusal) when it would refuse; exit 2 for usage errors and unreadable input.
#pragma once

#include <span>
#include <string_view>

namespace pvm {

int cmd_fdt(std::span<const std::string_view> words);
std::string_view fdt_usage();

}  // namespace pvm

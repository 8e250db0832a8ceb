// `pvm dice`, `pvm config` and `pvm device`: the firmware's dice/ library on
// the host (cmd_dice.cc, cmd_config.cc).
//
// Callers may rely on: exit statuses as cli.h: 0 on success; 1 when the
// input is refused (with one stderr line "error: NAME: detail", NAME as dice/
// names the fault); 2 for usage errors and unreadable files. Secrets read or made here (CDIs, the
// device secret) are wiped from memory when done; the device secret is only
// ever written to a new 0600 file.
#pragma once

#include <cstdint>
#include <expected>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cli.h"

namespace pvm {

int cmd_dice(const Io& io, std::span<const std::string_view> words);
std::string_view dice_usage();

int cmd_config(const Io& io, std::span<const std::string_view> words);
std::string_view config_usage();

int cmd_device(const Io& io, std::span<const std::string_view> words);
std::string_view device_usage();

// The per-machine device secret (issue 5 item 7): $PVM_STATE/device-secret,
// or ~/.local/share/pvm/device-secret.
std::string default_device_secret_path();

// The previous-stage DICE handover `pvm run` hands pvmfw for -bios runs:
// dice::pvmfw::previous_stage_handover of the 32-byte secret in `secret_path`
// (which must be a regular file, not readable by group or others). The same
// bytes for every call on one machine.
[[nodiscard]] std::expected<std::vector<uint8_t>, std::string> device_previous_stage_handover(
    const std::string& secret_path);

}  // namespace pvm

#include "commands.h"

#include <cstdio>
#include <string>

#include "avb_args.h"
#include "cli_options.h"
#include "cmd_avb.h"
#include "cmd_dice.h"
#include "cmd_fdt.h"
#include "cmd_run.h"
#include "cmd_vm.h"
#include "run_args.h"
#include "vm_args.h"

namespace pvm {
namespace {

std::string_view no_usage() { return {}; }

constexpr Command kCommands[] = {
    {"run", cmd_run, "boot pvmfw + a kernel under QEMU and check the console", run_usage},
    {"create", cmd_create, "make a protected VM: signed payload, instance id and disk",
     create_usage},
    {"update", cmd_update, "replace a stopped VM's payload (pvmfw judges it at the next start)",
     update_usage},
    {"start", cmd_start, "boot a VM made by `pvm create`, stage by stage", start_usage},
    {"stop", cmd_stop, "stop a running VM (from another terminal)", stop_usage},
    {"list", cmd_list, "the VMs and their state (--json)", list_usage},
    {"delete", cmd_delete, "remove a VM that is not running", delete_usage},
    {"keygen", cmd_keygen, "make an RSA key for signing payloads (PEM, mode 0600)", keygen_usage},
    {"key", cmd_key, "key export: write a key's AVB public key blob", key_usage},
    {"sign", cmd_sign, "add an AVB hash footer (or make a vbmeta image), as avbtool", sign_usage},
    {"verify", cmd_verify, "check a payload's AVB signature as pvmfw does", verify_usage},
    {"fdt", cmd_fdt, "fdt sanitize: rebuild a device tree as pvmfw does", fdt_usage},
    {"dice", cmd_dice, "derive, predict and inspect DICE handovers as pvmfw makes them",
     dice_usage},
    {"config", cmd_config, "pack, unpack or append pvmfw's configuration blob", config_usage},
    {"device", cmd_device, "init: this machine's device secret, for -bios runs' DICE",
     device_usage},
    {"help", cmd_help, "show this help, or `pvm help COMMAND` for a command's options", no_usage},
};

void list_commands(const Io& io) {
  std::string text = "usage: pvm COMMAND [options]\n\ncommands:\n";
  for (const Command& command : kCommands) {
    char line[160];
    std::snprintf(line, sizeof(line), "  %-7.*s %.*s\n", static_cast<int>(command.name.size()),
                  command.name.data(), static_cast<int>(command.summary.size()),
                  command.summary.data());
    text += line;
  }
  text += "\n`pvm help COMMAND` or `pvm COMMAND --help` for one command's options.\n";
  io.print(text);
}

}  // namespace

std::span<const Command> commands() { return kCommands; }

int cmd_help(const Io& io, std::span<const std::string_view> words) {
  if (words.empty()) {
    list_commands(io);
    return kExitOk;
  }
  for (const Command& command : kCommands) {
    if (command.name == words[0] && !command.usage().empty()) return io.help(command.usage());
  }
  io.complain("no help for '" + std::string(words[0]) + "' (see `pvm help`)");
  return kExitUsage;
}

int pvm_main(const Io& io, std::span<const std::string_view> words) {
  if (words.empty()) {
    list_commands(io);
    return kExitUsage;
  }
  if (is_help_option(words[0])) return cmd_help(io, {});
  for (const Command& command : kCommands) {
    if (command.name == words[0]) return command.handler(io, words.subspan(1));
  }
  io.complain("unknown command '" + std::string(words[0]) + "' (see `pvm help`)");
  return kExitUsage;
}

}  // namespace pvm

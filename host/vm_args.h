// Command-line options of the VM lifecycle commands: `pvm create`, `pvm
// update`, `pvm start`, `pvm stop`, `pvm list`, `pvm delete` (cmd_vm.h says
// what they do).
//
// Callers may rely on: parsing is pure (no file system, no environment);
// "--opt VALUE" and "--opt=VALUE" are the same; the VM's name is the one word
// that is not an option, checked with valid_vm_name (vm_store.h) and
// reported as "NAME: bad value"; --help skips the checks for required
// arguments, as cli_options.h does.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cli_options.h"

namespace pvm {

struct CreateArgs {
  std::string name;
  std::optional<std::string> kernel;  // default: as `pvm run` picks it
  std::optional<std::string> initrd;  // default: the demo initramfs
  bool no_initrd = false;
  std::optional<std::string> busybox;  // for the demo initramfs
  std::string cmdline = "console=ttyAMA0 panic=-1";
  uint64_t mem_mib = 1024;
  uint32_t cpus = 1;
  bool debug = false;                   // sign the initrd as initrd_debug (needs an initrd)
  bool pin_software = false;            // /avf/untrusted/pvm,pin-software at every start
  std::optional<std::string> sign_key;  // sign a copy with this private key (PEM)
  std::optional<std::string> key;       // the payload is signed: check it with this AVB key blob
  bool help = false;
};

// `pvm update NAME`: each option absent keeps what the VM has (vm.conf).
struct UpdateArgs {
  std::string name;
  std::optional<std::string> kernel;  // default: the recorded kernel, read again
  std::optional<std::string> initrd;  // default: the VM's initrd.img, kept (if any)
  bool no_initrd = false;
  std::optional<std::string> sign_key;  // as create's; default: the VM's recorded key
  std::optional<std::string> key;       // as create's; default: the VM's recorded key
  std::optional<std::string> cmdline;   // default: as recorded
  bool help = false;

  // Whether the payload is staged again (any option but --cmdline).
  bool restages_payload() const { return kernel || initrd || no_initrd || sign_key || key; }
};

struct StartArgs {
  std::string name;
  uint32_t timeout_s = 120;
  std::vector<std::string> expect;  // empty: `pvm run`'s default goal, unless expect_fail
  std::optional<std::string> expect_fail;
  bool icount = false;
  std::optional<std::string> hypervisor;  // default: $PVM_HYPERVISOR
  std::optional<std::string> pvmfw_img;   // default: $PVM_PVMFW_IMG
  std::optional<std::string> qemu;        // default: qemu-system-aarch64
  std::optional<std::string> test_hook;   // /chosen/pvmfw,test-hook (pvmfw-testhooks.img)
  bool print_cmd = false;
  bool help = false;
  std::vector<std::string> qemu_args;  // everything after "--"
};

// `pvm stop NAME`, `pvm delete NAME`.
struct NameArgs {
  std::string name;
  bool help = false;
};

struct ListArgs {
  bool json = false;
  bool help = false;
};

// Each takes the words after the command's name.
[[nodiscard]] std::expected<CreateArgs, ArgError> parse_create_args(
    std::span<const std::string_view> words);
// At least one option besides NAME (else kRequired), none conflicting.
[[nodiscard]] std::expected<UpdateArgs, ArgError> parse_update_args(
    std::span<const std::string_view> words);
[[nodiscard]] std::expected<StartArgs, ArgError> parse_start_args(
    std::span<const std::string_view> words);
[[nodiscard]] std::expected<NameArgs, ArgError> parse_name_args(
    std::span<const std::string_view> words);
[[nodiscard]] std::expected<ListArgs, ArgError> parse_list_args(
    std::span<const std::string_view> words);

// What `pvm help COMMAND` prints.
std::string_view create_usage();
std::string_view update_usage();
std::string_view start_usage();
std::string_view stop_usage();
std::string_view list_usage();
std::string_view delete_usage();

}  // namespace pvm

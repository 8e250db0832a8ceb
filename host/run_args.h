// Command-line options of `pvm run` (see cmd_run.h for what they do).
//
// Callers may rely on: parsing is pure (no file system, no environment);
// defaults that come from the environment (PVM_HYPERVISOR, PVM_PVMFW_IMG,
// PVM_FIRMWARE, PVM_GUEST_DIR) are resolved by the caller when the matching
// field is empty. Options of one mode are refused in the other: with
// --no-hypervisor, --hypervisor, --pvmfw-img and --mmio-guard (kConflict);
// without it, --firmware, --virtualization and --no-config (kRequired, the
// option at fault naming --no-hypervisor).
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

struct RunArgs {
  // The mode. By default a protected VM: hyp.bin under -bios loads and
  // verifies pvmfw.img and runs it at EL1 (docs/hypervisor.md). With
  // no_hypervisor, pvmfw.bin itself under -bios, unprotected.
  bool no_hypervisor = false;
  std::optional<std::string> hypervisor;  // hyp.bin
  std::optional<std::string> pvmfw_img;   // the signed pvmfw partition
  bool mmio_guard = false;                // launch flag: offer the VM the MMIO guard
  std::optional<std::string> firmware;    // pvmfw.bin (--no-hypervisor)
  std::optional<std::string> kernel;
  std::optional<std::string> initrd;
  bool no_initrd = false;
  std::optional<std::string> busybox;
  std::string cmdline = "console=ttyAMA0 panic=-1";
  uint64_t mem_mib = 1024;
  uint32_t cpus = 1;
  std::vector<std::string> expect;  // empty: the default goal, unless expect_fail
  std::optional<std::string> expect_fail;
  uint32_t timeout_s = 120;
  bool icount = false;
  bool virtualization = false;
  std::optional<std::string> qemu;
  std::optional<std::string> dt_out;
  std::optional<std::string> dtb;        // use this device tree instead of writing one
  std::optional<std::string> test_hook;
  std::optional<std::string> sign_key;
  bool no_config = false;                // place no config blob (previous DICE stage)
  std::string instance = "default";      // host/instance.h
  std::optional<std::vector<uint8_t>> instance_id;  // given as hex: used instead of `instance`
  bool no_instance = false;              // write no /avf/untrusted/instance-id
  std::optional<std::string> keep_dir;
  bool print_cmd = false;
  bool help = false;
  std::vector<std::string> qemu_args;  // everything after "--"
};

// `args` are the words after "run". Accepts "--opt VALUE" and "--opt=VALUE".
[[nodiscard]] std::expected<RunArgs, ArgError> parse_run_args(std::span<const std::string_view> args);

// The option list printed by `pvm run --help`.
std::string_view run_usage();

// Limits enforced by parse_run_args.
inline constexpr uint64_t kMaxMemMib = 255 * 1024;  // QEMU virt: RAM below 256 GiB
inline constexpr uint32_t kMaxTimeoutS = 24 * 3600;

}  // namespace pvm

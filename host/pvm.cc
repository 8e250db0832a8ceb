// pvm: the host launcher for pvmfw. See README.md and `pvm help`.
//
// Subcommands are rows of kCommands; each handler gets the words after its
// name and returns the process exit status (0 ok, 1 failure, 2 usage).
#include <signal.h>
#include <string.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <board/layout.h>

#include "arm64_image.h"
#include "file_io.h"
#include "initramfs.h"
#include "layout.h"
#include "qemu.h"
#include "run_args.h"
#include "vm_dt.h"

namespace pvm {
namespace {

namespace fs = std::filesystem;

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

void say(std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

void complain(std::string_view text) {
  std::fflush(stdout);
  std::fprintf(stderr, "pvm: %.*s\n", static_cast<int>(text.size()), text.data());
}

std::string hex(uint64_t value) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(value));
  return buf;
}

std::optional<std::string> env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

// The newest "vmlinuz-<version>-cloud-arm64" in `boot_dir`, by version sort
// (strverscmp: 6.1.0-10 sorts after 6.1.0-9).
std::optional<fs::path> newest_cloud_kernel(const fs::path& boot_dir) {
  std::error_code ec;
  std::vector<std::string> names;
  for (fs::directory_iterator it(boot_dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.starts_with("vmlinuz-") && name.ends_with("-cloud-arm64")) names.push_back(name);
  }
  if (names.empty()) return std::nullopt;
  std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
    return ::strverscmp(a.c_str(), b.c_str()) < 0;
  });
  return boot_dir / names.back();
}

void on_signal(int) {
  // QEMU shares our process group and gets terminal signals itself; this
  // makes run_qemu() reap it and return so the work folder is cleaned up.
  request_stop();
}

void install_signal_handlers() {
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: poll() returns EINTR
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGHUP, &action, nullptr);
  // A closed stdout (`pvm run | head`) must not kill us before QEMU is
  // reaped and the work folder removed; the verdict is in the exit status.
  std::signal(SIGPIPE, SIG_IGN);
}

int usage_error(std::string_view message) {
  complain(message);
  std::fprintf(stderr, "pvm: see `pvm run --help`\n");
  return kExitUsage;
}

int cmd_run(std::span<const std::string_view> words) {
  auto parsed = parse_run_args(words);
  if (!parsed) return usage_error(to_string(parsed.error()));
  const RunArgs& args = *parsed;
  if (args.help) {
    std::fputs(run_usage().data(), stdout);
    return kExitOk;
  }

  // ---- Inputs: explicit options first, then the ./pvm wrapper's environment.
  std::optional<std::string> guest_dir = env("PVM_GUEST_DIR");
  std::optional<std::string> firmware = args.firmware ? args.firmware : env("PVM_FIRMWARE");
  if (!firmware) return usage_error("no firmware: pass --firmware or set PVM_FIRMWARE");
  if (auto size = regular_file_size(*firmware); !size) {
    return usage_error("firmware " + *firmware + ": " + to_string(size.error()));
  }

  std::string kernel_path;
  if (args.kernel) {
    kernel_path = *args.kernel;
  } else if (!guest_dir) {
    return usage_error("no kernel: pass --kernel or set PVM_GUEST_DIR");
  } else if (auto found = newest_cloud_kernel(fs::path(*guest_dir) / "boot")) {
    kernel_path = found->string();
  } else {
    return usage_error("no vmlinuz-*-cloud-arm64 in " + *guest_dir + "/boot");
  }
  auto kernel_bytes = read_file(kernel_path);
  if (!kernel_bytes) return usage_error("kernel " + kernel_path + ": " + to_string(kernel_bytes.error()));
  auto kernel = describe_kernel_payload(std::as_bytes(std::span(*kernel_bytes)));
  if (!kernel) return usage_error("kernel " + kernel_path + ": " + std::string(to_string(kernel.error())));
  kernel_bytes->clear();
  kernel_bytes->shrink_to_fit();

  // ---- Generated files live in the work folder.
  auto work = args.keep_dir ? WorkDir::use_existing(*args.keep_dir) : WorkDir::create_temporary();
  if (!work) return usage_error("work folder: " + to_string(work.error()));

  std::optional<std::string> initrd_path;
  std::optional<uint64_t> initrd_size;
  if (args.initrd) {
    auto size = regular_file_size(*args.initrd);
    if (!size) return usage_error("initrd " + *args.initrd + ": " + to_string(size.error()));
    initrd_path = *args.initrd;
    initrd_size = *size;
  } else if (!args.no_initrd) {
    std::string busybox;
    if (args.busybox) {
      busybox = *args.busybox;
    } else if (guest_dir) {
      busybox = *guest_dir + "/bin/busybox";
    } else {
      return usage_error("no initrd: pass --initrd, --busybox, --no-initrd or set PVM_GUEST_DIR");
    }
    auto busybox_bytes = read_file(busybox);
    if (!busybox_bytes) return usage_error("busybox " + busybox + ": " + to_string(busybox_bytes.error()));
    auto archive = build_demo_initramfs(*busybox_bytes);
    if (!archive) return usage_error("initramfs: " + std::string(to_string(archive.error())));
    fs::path out = work->path() / "initramfs.cpio";
    if (auto written = write_file(out, *archive); !written) {
      complain(out.string() + ": " + to_string(written.error()));
      return kExitFailed;
    }
    initrd_path = out.string();
    initrd_size = archive->size();
  }

  // ---- Layout and device tree.
  auto layout = plan_vm_layout(*kernel, initrd_size, args.mem_mib << 20);
  if (!layout) return usage_error(std::string(to_string(layout.error())) + " (--mem " +
                                  std::to_string(args.mem_mib) + ")");
  VmDtConfig dt_config;
  dt_config.ram_size = layout->ram_size;
  dt_config.cpus = args.cpus;
  dt_config.bootargs = args.cmdline;
  dt_config.kernel = VmDtConfig::Kernel{layout->kernel_address, layout->kernel_size};
  if (layout->initrd) dt_config.initrd = VmDtConfig::Range{layout->initrd->start, layout->initrd->end};
  dt_config.test_hook = args.test_hook;
  auto dtb = make_vm_dt(dt_config);
  if (!dtb) return usage_error("device tree: " + std::string(to_string(dtb.error())));
  if (dtb->size() > BOARD_DT_MAX_SIZE) return usage_error("device tree larger than BOARD_DT_MAX_SIZE");
  fs::path dtb_path = work->path() / "vm.dtb";
  for (const fs::path& out : {dtb_path, args.dt_out ? fs::path(*args.dt_out) : fs::path()}) {
    if (out.empty()) continue;
    if (auto written = write_file(out, *dtb); !written) {
      complain(out.string() + ": " + to_string(written.error()));
      return kExitFailed;
    }
  }

  // ---- QEMU.
  QemuConfig qemu;
  qemu.mem_mib = args.mem_mib;
  qemu.cpus = args.cpus;
  qemu.firmware = *firmware;
  qemu.dtb = args.dtb ? *args.dtb : dtb_path.string();
  qemu.icount = args.icount;
  qemu.virtualization = args.virtualization;
  qemu.extra_args = args.qemu_args;
  if (args.qemu) qemu.qemu = *args.qemu;
  qemu.loads.push_back({kernel_path, layout->kernel_address});
  if (initrd_path) qemu.loads.push_back({*initrd_path, layout->initrd->start});
  std::vector<std::string> argv = build_qemu_argv(qemu);

  Expectations expectations{.goals = args.expect, .expected_failure = args.expect_fail};
  if (expectations.goals.empty() && !expectations.expected_failure) {
    expectations.goals.emplace_back(kDefaultGoal);
  }

  std::string summary = "pvm: kernel " + hex(layout->kernel_address) + " (" +
                        std::to_string(layout->kernel_size) + " bytes" +
                        (kernel->is_linux ? "" : ", raw") + "), initrd ";
  summary += layout->initrd ? hex(layout->initrd->start) + "-" + hex(layout->initrd->end) : "none";
  summary += ", dt via -dtb, firmware " + *firmware;
  say(summary);
  if (args.print_cmd) say(shell_command(argv));

  install_signal_handlers();
  RunOptions options{
      .timeout = std::chrono::seconds(args.timeout_s),
      .on_console = [](std::string_view line) { say(line); },
      .on_stderr =
          [](std::string_view line) {
            std::fflush(stdout);
            std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
          },
  };
  auto result = run_qemu(argv, expectations, options);
  if (!result) {
    complain(to_string(result.error()) + " (" + argv[0] + ")");
    return kExitFailed;
  }
  Judgement judgement = judge(*result, expectations);
  if (judgement.verdict != Verdict::kPass) {
    complain(judgement.message);
    return kExitFailed;
  }
  return kExitOk;
}

int cmd_help(std::span<const std::string_view> words);

struct Command {
  std::string_view name;
  int (*handler)(std::span<const std::string_view>);
  std::string_view summary;
};

constexpr Command kCommands[] = {
    {"run", cmd_run, "boot pvmfw + a kernel under QEMU and check the console"},
    {"help", cmd_help, "show this help (pvm run --help for run's options)"},
};

int cmd_help(std::span<const std::string_view>) {
  std::printf("usage: pvm COMMAND [options]\n\ncommands:\n");
  for (const Command& command : kCommands) {
    std::printf("  %-6.*s %.*s\n", static_cast<int>(command.name.size()), command.name.data(),
                static_cast<int>(command.summary.size()), command.summary.data());
  }
  std::printf(
      "\nLater: verify (check a payload's AVB signature), fdt (show what pvmfw makes\n"
      "of a device tree), dice (derive and show DICE chains).\n");
  return kExitOk;
}

int pvm_main(std::span<const std::string_view> words) {
  if (words.empty() || words[0] == "--help" || words[0] == "-h") {
    cmd_help({});
    return words.empty() ? kExitUsage : kExitOk;
  }
  for (const Command& command : kCommands) {
    if (command.name == words[0]) return command.handler(words.subspan(1));
  }
  complain("unknown command '" + std::string(words[0]) + "' (see `pvm help`)");
  return kExitUsage;
}

}  // namespace
}  // namespace pvm

int main(int argc, char** argv) {
  std::vector<std::string_view> words(argv + 1, argv + argc);
  return pvm::pvm_main(words);
}

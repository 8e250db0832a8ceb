// `pvm run` (see cmd_run.h). The run in order: find the inputs, prepare the
// work folder (initrd, signed kernel, device tree; then for a protected VM
// the launch header and the device secret's path, for --no-hypervisor the
// config blob), build the QEMU command line, then boot and judge.
#include "cmd_run.h"

#include <signal.h>
#include <string.h>
#include <sys/stat.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <utility>
#include <vector>

#include <base/wipe.h>
#include <board/layout.h>
#include <dice/config.h>
#include <launch/constants.h>
#include <launch/header.h>

#include "arm64_image.h"
#include "avb_sign.h"
#include "cmd_avb.h"
#include "cmd_dice.h"
#include "file_io.h"
#include "initramfs.h"
#include "instance.h"
#include "layout.h"
#include "qemu.h"
#include "run_args.h"
#include "vm_dt.h"

namespace pvm {
namespace {

namespace fs = std::filesystem;

std::optional<std::string> env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

// ---- Inputs: explicit options first, then the ./pvm wrapper's environment --------

struct Inputs {
  std::optional<std::string> guest_dir;  // $PVM_GUEST_DIR
  bool protected_vm = true;              // not --no-hypervisor
  std::string firmware;                  // for -bios: hyp.bin, or pvmfw.bin (--no-hypervisor)
  std::string pvmfw_img;                 // protected VM: what the hypervisor verifies and runs
  uint64_t pvmfw_img_size = 0;
  std::string kernel_path;
  KernelPayload kernel;
};

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

CliResult<std::string> find_kernel(const RunArgs& args,
                                   const std::optional<std::string>& guest_dir) {
  if (args.kernel) return *args.kernel;
  if (!guest_dir) return usage_failure("no kernel: pass --kernel or set PVM_GUEST_DIR");
  if (auto found = newest_cloud_kernel(fs::path(*guest_dir) / "boot")) return found->string();
  return usage_failure("no vmlinuz-*-cloud-arm64 in " + *guest_dir + "/boot");
}

// Layout facts of the kernel file at `path`; `label` starts the messages.
CliResult<KernelPayload> describe_kernel_file(const std::string& path, const std::string& label) {
  auto bytes = read_file(path);
  if (!bytes) return usage_failure(label + path + ": " + to_string(bytes.error()));
  auto kernel = describe_kernel_payload(std::as_bytes(std::span(*bytes)));
  if (!kernel) return usage_failure(label + path + ": " + std::string(to_string(kernel.error())));
  return *kernel;
}

// What -bios boots: hyp.bin and the pvmfw.img it runs, or pvmfw.bin itself.
CliResult<void> find_firmware(const RunArgs& args, Inputs& in) {
  if (!in.protected_vm) {
    std::optional<std::string> firmware = args.firmware ? args.firmware : env("PVM_FIRMWARE");
    if (!firmware) return usage_failure("no firmware: pass --firmware or set PVM_FIRMWARE");
    if (auto size = regular_file_size(*firmware); !size) {
      return usage_failure("firmware " + *firmware + ": " + to_string(size.error()));
    }
    in.firmware = *firmware;
    return {};
  }
  std::optional<std::string> hypervisor = args.hypervisor ? args.hypervisor : env("PVM_HYPERVISOR");
  if (!hypervisor) {
    return usage_failure(
        "no hypervisor: pass --hypervisor or set PVM_HYPERVISOR (or --no-hypervisor to boot "
        "pvmfw.bin unprotected)");
  }
  if (auto size = regular_file_size(*hypervisor); !size) {
    return usage_failure("hypervisor " + *hypervisor + ": " + to_string(size.error()));
  }
  in.firmware = *hypervisor;
  std::optional<std::string> image = args.pvmfw_img ? args.pvmfw_img : env("PVM_PVMFW_IMG");
  if (!image) return usage_failure("no pvmfw.img: pass --pvmfw-img or set PVM_PVMFW_IMG");
  auto size = regular_file_size(*image);
  if (!size) return usage_failure("pvmfw.img " + *image + ": " + to_string(size.error()));
  in.pvmfw_img = *image;
  in.pvmfw_img_size = *size;
  return {};
}

CliResult<Inputs> find_inputs(const RunArgs& args) {
  Inputs in{.guest_dir = env("PVM_GUEST_DIR"),
            .protected_vm = !args.no_hypervisor,
            .firmware = {},
            .pvmfw_img = {},
            .kernel_path = {},
            .kernel = {}};
  if (auto found = find_firmware(args, in); !found) return std::unexpected(found.error());
  auto kernel_path = find_kernel(args, in.guest_dir);
  if (!kernel_path) return std::unexpected(kernel_path.error());
  in.kernel_path = *kernel_path;
  auto kernel = describe_kernel_file(in.kernel_path, "kernel ");
  if (!kernel) return std::unexpected(kernel.error());
  in.kernel = *kernel;
  return in;
}

// ---- The work folder's files ------------------------------------------------------

struct Initrd {
  std::string path;
  uint64_t size = 0;
};

// The demo busybox initramfs (initramfs.h), gzip-compressed, in `work`.
CliResult<Initrd> make_demo_initrd(const std::string& busybox, const fs::path& work) {
  auto busybox_bytes = read_file(busybox);
  if (!busybox_bytes)
    return usage_failure("busybox " + busybox + ": " + to_string(busybox_bytes.error()));
  auto cpio = build_demo_initramfs(*busybox_bytes);
  if (!cpio) return usage_failure("initramfs: " + std::string(to_string(cpio.error())));
  auto archive = gzip(*cpio);
  if (!archive) return usage_failure("initramfs: " + std::string(to_string(archive.error())));
  const fs::path out = work / "initramfs.cpio.gz";
  if (auto written = write_file(out, *archive); !written) {
    return failure(out.string() + ": " + to_string(written.error()));
  }
  return Initrd{out.string(), archive->size()};
}

// --initrd, none (--no-initrd), or the demo initramfs.
CliResult<std::optional<Initrd>> find_initrd(const RunArgs& args,
                                             const std::optional<std::string>& guest_dir,
                                             const fs::path& work) {
  if (args.initrd) {
    auto size = regular_file_size(*args.initrd);
    if (!size) return usage_failure("initrd " + *args.initrd + ": " + to_string(size.error()));
    return Initrd{*args.initrd, *size};
  }
  if (args.no_initrd) return std::nullopt;
  std::string busybox;
  if (args.busybox) {
    busybox = *args.busybox;
  } else if (guest_dir) {
    busybox = *guest_dir + "/bin/busybox";
  } else {
    return usage_failure("no initrd: pass --initrd, --busybox, --no-initrd or set PVM_GUEST_DIR");
  }
  return make_demo_initrd(busybox, work);
}

// --sign-key: the payload pvmfw verifies becomes the signed partition.
CliResult<void> sign_kernel(const std::string& key_path, const std::optional<Initrd>& initrd,
                            const fs::path& work, Inputs& in) {
  const std::string out = (work / "kernel.signed").string();
  auto signed_kernel = sign_payload(
      in.kernel_path, initrd ? std::optional(initrd->path) : std::nullopt, key_path, out,
      /*debug_initrd=*/false);
  if (!signed_kernel) return usage_failure(signed_kernel.error());
  in.kernel_path = out;
  auto kernel = describe_kernel_file(out, "");
  if (!kernel) return std::unexpected(kernel.error());
  in.kernel = *kernel;
  return {};
}

struct InstanceId {
  std::vector<uint8_t> id;  // empty: none written
  std::string note;         // for the summary line
};

// --instance-id, --no-instance, or the --instance's id (made on first use).
CliResult<InstanceId> find_instance_id(const RunArgs& args) {
  if (args.instance_id) return InstanceId{*args.instance_id, "given instance id"};
  if (args.no_instance) return InstanceId{{}, "no instance id"};
  auto instance = load_instance(args.instance, /*create=*/true);
  if (!instance) return usage_failure("instance: " + instance.error());
  return InstanceId{std::move(instance->id),
                    "instance " + args.instance + (instance->created ? " (new)" : "")};
}

// The VM device tree (vm_dt.h) in `work`, and in --dt-out when given.
// /memory is the VM's RAM (QEMU rewrites it from -m under -bios, and leaves
// a tree passed through fw_cfg alone: -m is then the hypervisor's fixed
// size); PSCI calls go by HVC, to the hypervisor or (plain -bios at EL1) to
// QEMU.
CliResult<fs::path> write_device_tree(const RunArgs& args, const VmExtras& extras,
                                      const VmLayout& layout, std::vector<uint8_t> instance_id,
                                      const fs::path& work) {
  VmDtConfig config;
  config.ram_size = layout.ram_size;
  config.cpus = args.cpus;
  config.bootargs = args.cmdline;
  config.kernel = VmDtConfig::Kernel{layout.kernel_address, layout.kernel_size};
  if (layout.initrd) config.initrd = VmDtConfig::Range{layout.initrd->start, layout.initrd->end};
  config.psci_method = "hvc";
  config.test_hook = args.test_hook;
  config.instance_id = std::move(instance_id);
  config.pin_software = extras.pin_software;
  if (extras.instance_disk) config.virtio_mmio.push_back(*virtio_mmio_slot(0));
  auto dtb = make_vm_dt(config);
  if (!dtb) return usage_failure("device tree: " + std::string(to_string(dtb.error())));
  if (dtb->size() > BOARD_DT_MAX_SIZE)
    return usage_failure("device tree larger than BOARD_DT_MAX_SIZE");
  const fs::path dtb_path = work / "vm.dtb";
  for (const fs::path& out : {dtb_path, args.dt_out ? fs::path(*args.dt_out) : fs::path()}) {
    if (out.empty()) continue;
    if (auto written = write_file(out, *dtb); !written) {
      return failure(out.string() + ": " + to_string(written.error()));
    }
  }
  return dtb_path;
}

// This machine's device secret (`pvm device`), made on first use.
CliResult<std::string> device_secret(const Io& io) {
  const std::string secret = default_device_secret_path();
  if (!fs::exists(secret)) {
    const std::string_view init[] = {"init", "--out", secret};
    if (cmd_device(io, init) != kExitOk) return failure("");  // cmd_device said why
  }
  return secret;
}

// The configuration blob (--no-hypervisor): the previous DICE stage's
// handover, made from this machine's device secret, in `work`. Returns the
// QEMU arguments that place it in RAM where pvmfw reads and then wipes it
// (board layout: BOARD_CONFIG_BASE).
CliResult<std::vector<std::string>> place_config_blob(const Io& io, const fs::path& work) {
  auto found = device_secret(io);
  if (!found) return std::unexpected(found.error());
  const std::string& secret = *found;
  auto handover = device_previous_stage_handover(secret);
  if (!handover) return usage_failure("previous DICE stage: " + handover.error());
  dice::ConfigSpec spec;
  spec.entries[0] = std::as_bytes(std::span(*handover));
  std::vector<std::byte> blob(BOARD_CONFIG_MAX_SIZE);
  auto size = dice::write_config(spec, blob);
  // Both hold the previous stage's CDIs: wiped once the file is written.
  base::secure_wipe(handover->data(), handover->size());
  if (!size) {
    base::secure_wipe(blob.data(), blob.size());
    return usage_failure(std::string("config blob: ") + dice::to_string(size.error()));
  }
  const fs::path config_path = work / "config.bin";
  auto written = write_private_file(
      config_path, std::span(reinterpret_cast<const uint8_t*>(blob.data()), *size));
  base::secure_wipe(blob.data(), blob.size());
  if (!written) return usage_failure(config_path.string() + ": " + to_string(written.error()));
  return std::vector<std::string>{"-device", "loader,file=" + config_path.string() + ",addr=" +
                                                 hex(BOARD_CONFIG_BASE) + ",force-raw=on"};
}

// The device secret as the hypervisor gets it: the file itself, handed to
// QEMU as opt/pvm/uds (never copied). It must be this machine's private
// 32-byte secret, as `pvm device` keeps it.
CliResult<std::string> uds_file(const Io& io) {
  auto secret = device_secret(io);
  if (!secret) return std::unexpected(secret.error());
  struct stat st {};
  if (::stat(secret->c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return usage_failure(*secret + ": not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    return usage_failure(*secret + ": readable by others (chmod 600 it, or make a new one)");
  }
  if (static_cast<uint64_t>(st.st_size) != launch::kUdsSize) {
    return usage_failure(*secret + ": not a 32-byte device secret");
  }
  return *secret;
}

// The files a protected VM's launch hands the hypervisor (fw_cfg), paths on
// this machine.
struct HypervisorFiles {
  std::string header;  // opt/pvm/launch, written to the work folder
  std::string pvmfw_img;
  std::string dt;
  std::string payload;
  std::optional<std::string> initrd;
  std::string uds;
};

// The launch header for this VM, checked with the hypervisor's own rules
// (launch/header.h) against the files' sizes and the machine `pvm run` asks
// QEMU for, then written to `work`. A refusal here is the one the
// hypervisor would print.
CliResult<std::string> write_launch_header(const RunArgs& args, const Inputs& in,
                                           const VmLayout& layout, const fs::path& dtb,
                                           const std::optional<Initrd>& initrd,
                                           const fs::path& work) {
  const launch::Header header{
      .flags = args.mmio_guard ? launch::kFlagMmioGuard : 0,
      .ram_size = layout.ram_size,
      .cpus = args.cpus,
      .dt_ipa = launch::kDtIpa,
      .payload_ipa = layout.kernel_address,
      .initrd_ipa = layout.initrd ? layout.initrd->start : 0,
  };
  auto dt_size = regular_file_size(dtb);
  if (!dt_size) {
    return usage_failure("device tree " + dtb.string() + ": " + to_string(dt_size.error()));
  }
  const launch::FileSizes sizes{
      .launch = launch::kHeaderSize,
      .pvmfw_image = in.pvmfw_img_size,
      .dt = *dt_size,
      .payload = in.kernel.file_size,
      .initrd = initrd ? std::optional(initrd->size) : std::nullopt,
      .uds = launch::kUdsSize,  // uds_file() checked it
  };
  const uint64_t machine_ram = launch::kMachineRamSize;
  if (auto plan = launch::check_launch(header, sizes, machine_ram); !plan) {
    std::string why = "launch refused: " + std::string(launch::to_string(plan.error().error));
    if (!plan.error().detail.empty()) why += ": " + std::string(plan.error().detail);
    if (plan.error().error == launch::Error::kBadMemorySize) {
      why += " (--mem " + std::to_string(args.mem_mib) + ": a multiple of 2, at least 16)";
    }
    return usage_failure(why);
  }
  const auto bytes = launch::encode_header(header);
  const fs::path path = work / "launch.bin";
  if (auto written =
          write_file(path, std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
      !written) {
    return failure(path.string() + ": " + to_string(written.error()));
  }
  return path.string();
}

// ---- The VM, ready to boot ----------------------------------------------------------

// The first line `pvm run` prints: which mode, with what.
std::string mode_line(const RunArgs& args, const Inputs& in) {
  if (!in.protected_vm) {
    return "pvm: UNPROTECTED (pvmfw " + in.firmware + " under -bios, no hypervisor)";
  }
  return "pvm: PROTECTED VM (hypervisor " + in.firmware + ", pvmfw.img " + in.pvmfw_img +
         (args.mmio_guard ? ", MMIO guard offered" : ", no MMIO guard") + ")";
}

std::string summary_line(const Inputs& in, const VmLayout& layout, const std::string& instance) {
  std::string summary = "pvm: kernel " + hex(layout.kernel_address) + " (" +
                        std::to_string(layout.kernel_size) + " bytes" +
                        (in.kernel.is_linux ? "" : ", raw") + "), initrd ";
  summary += layout.initrd ? hex(layout.initrd->start) + "-" + hex(layout.initrd->end) : "none";
  if (in.protected_vm) {
    summary += ", " + instance + ", dt via fw_cfg, VM RAM " +
               std::to_string(layout.ram_size >> 20) + " MiB";
  } else {
    summary += ", " + instance + ", dt via -dtb, firmware " + in.firmware;
  }
  return summary;
}

QemuConfig qemu_config(const RunArgs& args, const VmExtras& extras, const Inputs& in) {
  QemuConfig qemu;
  if (extras.instance_disk) qemu.virtio_blocks.push_back({"instance", *extras.instance_disk});
  qemu.qmp_socket = extras.qmp_socket;
  if (args.qemu) qemu.qemu = *args.qemu;
  qemu.mem_mib = args.mem_mib;
  qemu.cpus = args.cpus;
  qemu.firmware = in.firmware;
  qemu.icount = args.icount;
  qemu.virtualization = args.virtualization;
  return qemu;
}

// --no-hypervisor: pvmfw.bin under -bios; QEMU puts the tree at the start of
// RAM, the loader the kernel and initrd where the layout says.
QemuConfig bios_qemu_config(const RunArgs& args, const VmExtras& extras, const Inputs& in,
                            const VmLayout& layout, const fs::path& dtb,
                            const std::optional<Initrd>& initrd,
                            std::vector<std::string> config_args) {
  QemuConfig qemu = qemu_config(args, extras, in);
  qemu.dtb = dtb.string();
  qemu.extra_args = std::move(config_args);
  qemu.extra_args.insert(qemu.extra_args.end(), args.qemu_args.begin(), args.qemu_args.end());
  qemu.loads.push_back({in.kernel_path, layout.kernel_address});
  if (initrd) qemu.loads.push_back({initrd->path, layout.initrd->start});
  return qemu;
}

// A protected VM: hyp.bin under -bios at EL2, the machine's RAM fixed (VM RAM
// is identity mapped below the hypervisor's, docs/hypervisor.md), everything
// else as fw_cfg files (no -dtb, no loader: the hypervisor places what it
// checked).
QemuConfig hypervisor_qemu_config(const RunArgs& args, const VmExtras& extras, const Inputs& in,
                                  const HypervisorFiles& f) {
  QemuConfig qemu = qemu_config(args, extras, in);
  qemu.mem_mib = launch::kMachineRamSize >> 20;
  qemu.virtualization = true;
  qemu.fw_cfg_files = {{std::string(launch::kFileLaunch), f.header},
                       {std::string(launch::kFilePvmfwImage), f.pvmfw_img},
                       {std::string(launch::kFileDt), f.dt},
                       {std::string(launch::kFilePayload), f.payload}};
  if (f.initrd) qemu.fw_cfg_files.push_back({std::string(launch::kFileInitrd), *f.initrd});
  qemu.fw_cfg_files.push_back({std::string(launch::kFileUds), f.uds});
  qemu.extra_args = args.qemu_args;
  return qemu;
}

// ---- Boot and judge ----------------------------------------------------------------

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

}  // namespace

Expectations expectations_for(const RunArgs& args) {
  Expectations expectations{.goals = args.expect, .expected_failure = args.expect_fail};
  if (expectations.goals.empty() && !expectations.expected_failure) {
    expectations.goals.emplace_back(kDefaultGoal);
  }
  return expectations;
}

CliResult<PayloadChoice> choose_payload(const RunArgs& args, const fs::path& work) {
  const std::optional<std::string> guest_dir = env("PVM_GUEST_DIR");
  auto kernel = find_kernel(args, guest_dir);
  if (!kernel) return std::unexpected(kernel.error());
  auto initrd = find_initrd(args, guest_dir, work);
  if (!initrd) return std::unexpected(initrd.error());
  PayloadChoice out{.kernel = *kernel, .initrd = std::nullopt,
                    .demo_initrd = !args.initrd && !args.no_initrd};
  if (*initrd) out.initrd = (*initrd)->path;
  return out;
}

CliResult<PreparedVm> prepare_vm(const Io& io, const RunArgs& args, const VmExtras& extras) {
  auto in = find_inputs(args);
  if (!in) return std::unexpected(in.error());
  io.say(mode_line(args, *in));
  auto work = args.keep_dir ? WorkDir::use_existing(*args.keep_dir) : WorkDir::create_temporary();
  if (!work) return usage_failure("work folder: " + to_string(work.error()));
  auto initrd = find_initrd(args, in->guest_dir, work->path());
  if (!initrd) return std::unexpected(initrd.error());
  if (args.sign_key) {
    if (auto signed_kernel = sign_kernel(*args.sign_key, *initrd, work->path(), *in);
        !signed_kernel) {
      return std::unexpected(signed_kernel.error());
    }
  }
  auto layout = plan_vm_layout(in->kernel, *initrd ? std::optional((*initrd)->size) : std::nullopt,
                               args.mem_mib << 20);
  if (!layout) {
    return usage_failure(std::string(to_string(layout.error())) + " (--mem " +
                         std::to_string(args.mem_mib) + ")");
  }
  auto instance = find_instance_id(args);
  if (!instance) return std::unexpected(instance.error());
  auto written_dtb = write_device_tree(args, extras, *layout, std::move(instance->id), work->path());
  if (!written_dtb) return std::unexpected(written_dtb.error());
  const fs::path dtb = args.dtb ? fs::path(*args.dtb) : *written_dtb;
  std::vector<std::string> argv;
  if (in->protected_vm) {
    // The hypervisor makes the previous DICE stage from the UDS itself.
    auto uds = uds_file(io);
    if (!uds) return std::unexpected(uds.error());
    auto header = write_launch_header(args, *in, *layout, dtb, *initrd, work->path());
    if (!header) return std::unexpected(header.error());
    const HypervisorFiles files{.header = *header,
                            .pvmfw_img = in->pvmfw_img,
                            .dt = dtb.string(),
                            .payload = in->kernel_path,
                            .initrd = *initrd ? std::optional((*initrd)->path) : std::nullopt,
                            .uds = *uds};
    argv = build_qemu_argv(hypervisor_qemu_config(args, extras, *in, files));
  } else {
    std::vector<std::string> config_args;
    if (!args.no_config) {
      auto placed = place_config_blob(io, work->path());
      if (!placed) return std::unexpected(placed.error());
      config_args = std::move(*placed);
    }
    argv =
        build_qemu_argv(
        bios_qemu_config(args, extras, *in, *layout, dtb, *initrd, std::move(config_args)));
  }
  return PreparedVm{std::move(*work), std::move(argv), summary_line(*in, *layout, instance->note)};
}

CliResult<BootOutcome> boot_vm(const Io& io, const RunArgs& args,
                               const std::vector<std::string>& argv,
                               const std::function<void(std::string_view)>& on_line) {
  const Expectations expectations = expectations_for(args);
  install_signal_handlers();
  RunOptions options{
      .timeout = std::chrono::seconds(args.timeout_s),
      .on_console =
          [&io, &on_line](std::string_view line) {
            io.say(line);
            if (on_line) on_line(line);
          },
      .on_stderr = [&io](std::string_view line) { io.error_line(line); },
  };
  auto result = run_qemu(argv, expectations, options);
  if (!result) return failure(to_string(result.error()) + " (" + argv[0] + ")");
  Judgement judgement = judge(*result, expectations);
  return BootOutcome{std::move(*result), std::move(judgement)};
}

std::expected<void, std::string> sign_payload(const std::string& kernel_path,
                                              const std::optional<std::string>& initrd_path,
                                              const std::string& key_path,
                                              const std::string& out_path, bool debug_initrd) {
  auto key = load_private_key(key_path);  // the PEM bytes are wiped there
  if (!key) return std::unexpected("key " + key.error());
  auto kernel = read_file(kernel_path);
  if (!kernel) return std::unexpected("kernel " + kernel_path + ": " + to_string(kernel.error()));
  auto salt = avb::random_bytes(32);
  if (!salt) return std::unexpected("salt: " + std::string(to_string(salt.error())));
  avb::FooterSpec spec;
  spec.partition_name = "boot";
  spec.salt = std::move(*salt);
  spec.vbmeta.algorithm = key->bits() == 2048   ? avb::Algorithm::kSha256Rsa2048
                          : key->bits() == 8192 ? avb::Algorithm::kSha256Rsa8192
                                                : avb::Algorithm::kSha256Rsa4096;
  spec.vbmeta.key = &*key;
  if (initrd_path) {
    auto initrd = read_file(*initrd_path);
    if (!initrd)
      return std::unexpected("initrd " + *initrd_path + ": " + to_string(initrd.error()));
    auto initrd_salt = avb::random_bytes(32);
    if (!initrd_salt)
      return std::unexpected("salt: " + std::string(to_string(initrd_salt.error())));
    spec.vbmeta.included.push_back(avb::make_hash_descriptor(
        debug_initrd ? "initrd_debug" : "initrd_normal", avb::HashAlgorithm::kSha256, std::move(*initrd_salt), *initrd));
  }
  auto signed_kernel = avb::add_hash_footer(*kernel, std::move(spec));
  if (!signed_kernel) return std::unexpected("signing: " + avb::to_string(signed_kernel.error()));
  if (auto written = write_file(out_path, *signed_kernel); !written) {
    return std::unexpected(out_path + ": " + to_string(written.error()));
  }
  return {};
}

int cmd_run(const Io& io, std::span<const std::string_view> words) {
  auto args = parse_run_args(words);
  if (!args) return io.usage_error("run", to_string(args.error()));
  if (args->help) return io.help(run_usage());
  auto vm = prepare_vm(io, *args, {});
  if (!vm) return io.report("run", vm.error());
  io.say(vm->summary);
  if (args->print_cmd) io.say(shell_command(vm->argv));
  auto booted = boot_vm(io, *args, vm->argv, {});
  if (!booted) return io.report("run", booted.error());
  if (booted->judgement.verdict != Verdict::kPass) return io.fail(booted->judgement.message);
  return kExitOk;
}

}  // namespace pvm

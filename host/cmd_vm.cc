// `pvm create`, `update`, `start`, `stop`, `list`, `delete` (see cmd_vm.h).
#include "cmd_vm.h"

#include <fcntl.h>  // AT_FDCWD
#include <signal.h>
#include <stdio.h>  // renameat2
#include <stdlib.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "arm64_image.h"
#include "avb_args.h"  // kMaxPartitionSize
#include "boot_stages.h"
#include "cmd_avb.h"
#include "cmd_run.h"
#include "file_io.h"
#include "instance.h"
#include "instance_disk.h"
#include "layout.h"
#include "qmp.h"
#include "run_args.h"
#include "verify_report.h"
#include "vm_args.h"
#include "vm_dt.h"
#include "vm_store.h"

namespace pvm {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// A VM folder that must exist: "no VM named NAME" (a usage error) otherwise.
CliResult<fs::path> existing_vm(std::string_view name) {
  fs::path dir = vm_dir(name);
  std::error_code ec;
  if (!fs::exists(dir / kVmRecordFile, ec)) {
    return usage_failure("no VM named '" + std::string(name) + "' in " + vms_dir().string() +
                         " (pvm list)");
  }
  return dir;
}

std::string pid_note(const VmRunState& state) {
  return state.pid ? " (pid " + std::to_string(*state.pid) + ")" : "";
}

// ---- create --------------------------------------------------------------------------

// The folder a VM is built in, removed unless released (renamed into place).
class Staging {
 public:
  static CliResult<Staging> make(std::string_view name) {
    std::error_code ec;
    fs::create_directories(vms_dir(), ec);
    if (ec) return failure(vms_dir().string() + ": " + ec.message());
    std::string pattern = (vms_dir() / ("." + std::string(name) + ".XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      return failure(pattern + ": " + std::strerror(errno));
    }
    return Staging(pattern);
  }
  Staging(Staging&& other) noexcept : path_(std::exchange(other.path_, {})) {}
  Staging& operator=(Staging&&) = delete;
  Staging(const Staging&) = delete;
  Staging& operator=(const Staging&) = delete;
  ~Staging() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  void release() { path_.clear(); }

 private:
  explicit Staging(fs::path path) : path_(std::move(path)) {}
  fs::path path_;
};

CliResult<void> copy_into(const std::string& from, const fs::path& to) {
  std::error_code ec;
  fs::copy_file(from, to, fs::copy_options::none, ec);
  if (ec) return usage_failure(from + ": " + ec.message());
  return {};
}

CliResult<std::string> absolute(const std::string& path) {
  std::error_code ec;
  std::string out = fs::absolute(path, ec).lexically_normal().string();
  if (ec) return usage_failure(path + ": " + ec.message());
  if (!valid_record_value(out)) return usage_failure(path + ": a path with a newline");
  return out;
}

// The payload in the staging folder: kernel.img (signed), initrd.img,
// key.avbpubkey. Fills the record's payload fields.
CliResult<void> stage_payload(const CreateArgs& args, const fs::path& staging, VmRecord& record) {
  RunArgs picking;
  picking.kernel = args.kernel;
  picking.initrd = args.initrd;
  picking.no_initrd = args.no_initrd;
  picking.busybox = args.busybox;
  auto payload = choose_payload(picking, staging);
  if (!payload) return std::unexpected(payload.error());
  auto kernel_source = absolute(payload->kernel);
  if (!kernel_source) return std::unexpected(kernel_source.error());
  record.kernel_source = *kernel_source;
  record.has_initrd = payload->initrd.has_value();
  if (payload->demo_initrd) {
    record.initrd_source = "demo";
  } else if (payload->initrd) {
    auto initrd_source = absolute(*payload->initrd);
    if (!initrd_source) return std::unexpected(initrd_source.error());
    record.initrd_source = *initrd_source;
  }
  const fs::path kernel = staging / kVmKernelFile;
  const fs::path initrd = staging / kVmInitrdFile;
  const fs::path key = staging / kVmKeyFile;
  if (payload->initrd) {
    if (payload->demo_initrd) {
      std::error_code ec;
      fs::rename(*payload->initrd, initrd, ec);
      if (ec) return failure(initrd.string() + ": " + ec.message());
    } else if (auto copied = copy_into(*payload->initrd, initrd); !copied) {
      return copied;
    }
  }
  const std::string key_given = args.sign_key ? *args.sign_key : *args.key;
  auto key_source = absolute(key_given);
  if (!key_source) return std::unexpected(key_source.error());
  record.key_source = *key_source;
  if (args.sign_key) {
    record.signing = "sign-key";
    auto signed_kernel = sign_payload(
        payload->kernel, payload->initrd ? std::optional(initrd.string()) : std::nullopt,
        *args.sign_key, kernel.string(), args.debug);
    if (!signed_kernel) return usage_failure(signed_kernel.error());
    auto private_key = load_private_key(*args.sign_key);  // the PEM bytes are wiped there
    if (!private_key) return usage_failure("key " + private_key.error());
    auto blob = private_key->avb_public_key();
    if (!blob) return failure("key " + *args.sign_key + ": " + to_string(blob.error()));
    if (auto written = write_file(key, *blob); !written) {
      return failure(key.string() + ": " + to_string(written.error()));
    }
  } else {
    record.signing = "key";
    if (auto copied = copy_into(payload->kernel, kernel); !copied) return copied;
    if (auto copied = copy_into(*args.key, key); !copied) return copied;
  }
  return {};
}

// How check_payload judges a staged payload: for `pvm create`, or for
// `pvm update` (whose refusals say "not updated").
struct PayloadCheck {
  std::string_view done = "created";
  // The mode is the signed payload's (--key): record it rather than refuse a
  // payload whose initrd descriptor disagrees with args.debug. pvmfw, not
  // pvm, refuses a mode change of an instance (INSTANCE_IMAGE_MISMATCH).
  bool mode_from_payload = false;
};

// pvmfw's own verification of the staged payload against the staged key,
// and the layout `pvm start` will ask for; fills the record's algorithm,
// rollback index (and, with check.mode_from_payload, debug flag).
CliResult<void> check_payload(const Io& io, const CreateArgs& args, const fs::path& staging,
                              VmRecord& record, const PayloadCheck& check = {}) {
  PayloadFiles files{.key = (staging / kVmKeyFile).string(),
                     .kernel = (staging / kVmKernelFile).string(),
                     .initrd = std::nullopt,
                     .vbmeta = std::nullopt};
  if (record.has_initrd) files.initrd = (staging / kVmInitrdFile).string();
  auto verified = verify_payload_files(io, files, kMaxPartitionSize, 0, /*json=*/false);
  if (!verified) {
    if (verified.error().message.empty()) {
      return failure(args.name + ": payload refused (as pvmfw would refuse it); not " +
                     std::string(check.done));
    }
    return std::unexpected(verified.error());
  }
  if (check.mode_from_payload) {
    record.debug = verified->payload.debug_initrd;
  } else if (verified->payload.debug_initrd != args.debug) {
    return failure(args.name +
                   (args.debug ? ": --debug, but the initrd is signed as initrd_normal"
                               : ": the initrd is signed as initrd_debug (a debuggable "
                                 "payload): pass --debug") +
                   "; not " + std::string(check.done));
  }
  record.algorithm = verify::to_string(verified->payload.algorithm);
  record.rollback_index = verified->payload.rollback_index;
  auto kernel = describe_kernel_payload(std::as_bytes(std::span(verified->kernel)));
  if (!kernel) return usage_failure("kernel: " + std::string(to_string(kernel.error())));
  const std::optional<uint64_t> initrd_size =
      verified->initrd ? std::optional<uint64_t>(verified->initrd->size()) : std::nullopt;
  if (auto layout = plan_vm_layout(*kernel, initrd_size, args.mem_mib << 20); !layout) {
    return usage_failure(std::string(to_string(layout.error())) + " (--mem " +
                         std::to_string(args.mem_mib) + ")");
  }
  return {};
}

CliResult<void> write_record(const VmRecord& record, const fs::path& staging) {
  const std::string text = format_record(record);
  const fs::path path = staging / kVmRecordFile;
  if (auto written =
          write_file(path, std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
      !written) {
    return failure(path.string() + ": " + to_string(written.error()));
  }
  return {};
}

std::string exists_message(std::string_view name) {
  return "VM '" + std::string(name) + "' exists already (" + vm_dir(name).string() +
         "): pvm delete " + std::string(name) + " first, or pick another name";
}

CliResult<VmRecord> create_vm(const Io& io, const CreateArgs& args) {
  std::error_code ec;
  if (fs::exists(vm_dir(args.name), ec)) return failure(exists_message(args.name));
  auto staging = Staging::make(args.name);
  if (!staging) return std::unexpected(staging.error());
  VmRecord record{.name = args.name,
                  .created = utc_timestamp(std::time(nullptr)),
                  .kernel_source = {},
                  .initrd_source = {},
                  .has_initrd = false,
                  .cmdline = args.cmdline,
                  .mem_mib = args.mem_mib,
                  .cpus = args.cpus,
                  .debug = args.debug,
                  .pin_software = args.pin_software,
                  .signing = {},
                  .key_source = {},
                  .algorithm = {},
                  .rollback_index = 0};
  if (auto staged = stage_payload(args, staging->path(), record); !staged) {
    return std::unexpected(staged.error());
  }
  if (auto checked = check_payload(io, args, staging->path(), record); !checked) {
    return std::unexpected(checked.error());
  }
  if (auto id = create_instance_id_file((staging->path() / kVmInstanceIdFile).string()); !id) {
    return failure(id.error());
  }
  if (auto disk = make_instance_disk((staging->path() / kVmDiskFile).string()); !disk) {
    return failure(disk.error());
  }
  if (auto written = write_record(record, staging->path()); !written) {
    return std::unexpected(written.error());
  }
  // Into place, never over another VM made meanwhile (renameat2(2)).
  if (::renameat2(AT_FDCWD, staging->path().c_str(), AT_FDCWD, vm_dir(args.name).c_str(),
                  RENAME_NOREPLACE) != 0) {
    if (errno == EEXIST) return failure(exists_message(args.name));
    return failure(vm_dir(args.name).string() + ": " + std::strerror(errno));
  }
  staging->release();
  return record;
}

std::string file_name(const std::string& path) { return fs::path(path).filename().string(); }

// "vmlinuz-6.1.0 + demo initrd (debug)"
std::string payload_summary(const VmRecord& r) {
  std::string out = file_name(r.kernel_source);
  if (r.has_initrd) {
    out += r.initrd_source == "demo" ? " + demo initrd" : " + " + file_name(r.initrd_source);
  }
  if (r.debug) out += " (debug)";
  return out;
}

// ---- update --------------------------------------------------------------------------

// Refusing to act on a running VM: "NAME: running (pid N); pvm stop NAME first".
std::string running_message(std::string_view name, const fs::path& dir,
                            std::string_view running = "running") {
  return std::string(name) + ": " + std::string(running) + pid_note(vm_run_state(dir)) +
         "; pvm stop " + std::string(name) + " first";
}

// What `pvm update` did, for its report.
struct Update {
  VmRecord before, after;
  bool restaged = false;  // the payload files were replaced
  bool rekeyed = false;   // key.avbpubkey holds another key than before
};

// The options `pvm create` would have been given for this update: the
// update's own, and for each one left out what the VM has.
CliResult<CreateArgs> create_args_for(const UpdateArgs& args, const VmRecord& r,
                                      const fs::path& dir) {
  CreateArgs c;
  c.name = r.name;
  c.kernel = args.kernel ? *args.kernel : r.kernel_source;
  if (args.initrd) {
    c.initrd = args.initrd;
  } else if (!args.no_initrd && r.has_initrd) {
    c.initrd = (dir / kVmInitrdFile).string();
  } else {
    c.no_initrd = true;
  }
  c.cmdline = args.cmdline ? *args.cmdline : r.cmdline;
  c.mem_mib = r.mem_mib;
  c.cpus = r.cpus;
  c.debug = r.debug;
  c.pin_software = r.pin_software;
  if (args.sign_key) {
    c.sign_key = args.sign_key;
  } else if (args.key) {
    c.key = args.key;
  } else if (r.signing == "sign-key") {
    c.sign_key = r.key_source;
  } else {
    c.key = (dir / kVmKeyFile).string();  // the key the VM was checked against
  }
  // As `pvm create --debug --no-initrd` is refused: pvmfw knows a debuggable
  // payload by its initrd_debug descriptor.
  if (c.sign_key && c.debug && c.no_initrd) {
    return usage_failure(r.name +
                         " was created with --debug: pvm signs its initrd as "
                         "initrd_debug, so it needs one (--initrd F)");
  }
  return c;
}

bool same_bytes(const fs::path& a, const fs::path& b) {
  auto x = read_file(a, kMaxPartitionSize);
  auto y = read_file(b, kMaxPartitionSize);
  return x && y && *x == *y;
}

// Into the VM's folder, one rename(2) a file, the record last: a crash
// before the record is in place leaves the new payload with the old record
// (`pvm update` again puts them back in step); the instance id and disk are
// never touched.
CliResult<void> move_into(const fs::path& staging, const fs::path& dir, bool has_initrd,
                          bool restaged) {
  std::vector<std::string_view> files;
  if (restaged) files = {kVmKernelFile, kVmKeyFile};
  if (restaged && has_initrd) files.push_back(kVmInitrdFile);
  for (std::string_view f : files) {
    if (::rename((staging / f).c_str(), (dir / f).c_str()) != 0) {
      return failure((dir / f).string() + ": " + std::strerror(errno));
    }
  }
  std::error_code ec;
  if (restaged && !has_initrd) fs::remove(dir / kVmInitrdFile, ec);
  if (ec) return failure((dir / kVmInitrdFile).string() + ": " + ec.message());
  if (::rename((staging / kVmRecordFile).c_str(), (dir / kVmRecordFile).c_str()) != 0) {
    return failure((dir / kVmRecordFile).string() + ": " + std::strerror(errno));
  }
  return {};
}

CliResult<Update> update_vm(const Io& io, const UpdateArgs& args, const fs::path& dir) {
  // Held to the end: no `pvm start` (nor delete) meanwhile.
  auto lock = VmLock::take(dir);
  if (!lock) {
    if (lock.error() == VmLock::Error::kHeld) return failure(running_message(args.name, dir));
    return failure((dir / kVmLockFile).string() + ": " + std::strerror(errno));
  }
  auto before = load_record(args.name);
  if (!before) return usage_failure(before.error());
  Update update{
      .before = *before, .after = *before, .restaged = args.restages_payload(), .rekeyed = false};
  VmRecord& after = update.after;
  if (args.cmdline) after.cmdline = *args.cmdline;
  auto staging = Staging::make(args.name);
  if (!staging) return std::unexpected(staging.error());
  if (update.restaged) {
    auto create = create_args_for(args, *before, dir);
    if (!create) return std::unexpected(create.error());
    // The payload's fields as create starts them: stage_payload and
    // check_payload fill them in.
    after.kernel_source.clear();
    after.initrd_source.clear();
    after.has_initrd = false;
    after.signing.clear();
    after.key_source.clear();
    after.algorithm.clear();
    after.rollback_index = 0;
    if (auto staged = stage_payload(*create, staging->path(), after); !staged) {
      return std::unexpected(staged.error());
    }
    // What was kept is described as before, not as the VM folder's copy.
    if (!args.initrd && after.has_initrd) after.initrd_source = before->initrd_source;
    if (!args.key && !args.sign_key) after.key_source = before->key_source;
    const PayloadCheck check{.done = "updated", .mode_from_payload = create->key.has_value()};
    if (auto checked = check_payload(io, *create, staging->path(), after, check); !checked) {
      if (!args.key && !args.sign_key && create->key && checked.error().status == kExitFailed) {
        checked.error().message +=
            " (" + args.name + "'s payload must verify with its recorded key, " +
            before->key_source + "; to re-key the VM, pass the new key explicitly: --key " +
            "NEW.avbpubkey)";
      }
      return std::unexpected(checked.error());
    }
    update.rekeyed = !same_bytes(staging->path() / kVmKeyFile, dir / kVmKeyFile);
  }
  if (auto written = write_record(after, staging->path()); !written) {
    return std::unexpected(written.error());
  }
  if (auto moved = move_into(staging->path(), dir, after.has_initrd, update.restaged); !moved) {
    return std::unexpected(moved.error());
  }
  return update;
}

std::string quoted(const std::string& text) { return "\"" + text + "\""; }

// What changed, as `pvm update` prints it.
std::vector<std::string> update_lines(const Update& u) {
  const VmRecord& a = u.before;
  const VmRecord& b = u.after;
  std::vector<std::string> out;
  out.push_back("pvm: updated " + b.name + " in " + vm_dir(b.name).string());
  if (u.restaged) {
    out.push_back("pvm:   payload " + payload_summary(a) + " -> " + payload_summary(b) + ", " +
                  (b.signing == "sign-key" ? "signed with " : "checked against ") + b.key_source +
                  " (" + b.algorithm + ")");
    std::string rollback = "pvm:   rollback index " + std::to_string(a.rollback_index) + " -> " +
                           std::to_string(b.rollback_index);
    if (b.rollback_index < a.rollback_index) {
      rollback += " (lower: pvmfw refuses it with ROLLBACK once the VM has booted " +
                  std::to_string(a.rollback_index) + ")";
    }
    out.push_back(rollback);
    if (u.rekeyed) {
      out.push_back("pvm:   re-keyed: " + a.key_source + " -> " + b.key_source +
                    "; pvmfw refuses this VM with INSTANCE_IMAGE_MISMATCH (its instance "
                    "belongs to the old key): pvm delete and create it for a new instance");
    }
    if (a.debug != b.debug) {
      out.push_back(std::string("pvm:   mode ") + (a.debug ? "debug" : "normal") + " -> " +
                    (b.debug ? "debug" : "normal") +
                    "; pvmfw refuses this VM with INSTANCE_IMAGE_MISMATCH: mode once it has "
                    "booted in the old mode");
    }
    if (b.pin_software) {
      out.push_back(
          "pvm:   software pinned (--pin-software): pvmfw refuses any code change with "
          "INSTANCE_IMAGE_MISMATCH: pinned software changed");
    }
  } else {
    out.push_back("pvm:   payload unchanged: " + payload_summary(b) + " (rollback index " +
                  std::to_string(b.rollback_index) + ")");
  }
  if (a.cmdline != b.cmdline) {
    out.push_back("pvm:   cmdline " + quoted(a.cmdline) + " -> " + quoted(b.cmdline));
  }
  out.push_back("pvm: takes effect at the next `pvm start " + b.name +
                "` (instance id and disk unchanged: pvmfw decides there whether the update "
                "is allowed)");
  return out;
}

// ---- start ---------------------------------------------------------------------------

// Removes the files that say "running" (pid, QMP socket, stop request) when
// the start ends; it dies before the lock is dropped.
class RunFiles {
 public:
  explicit RunFiles(fs::path dir) : dir_(std::move(dir)) { remove(); }
  RunFiles(const RunFiles&) = delete;
  RunFiles& operator=(const RunFiles&) = delete;
  ~RunFiles() { remove(); }

 private:
  void remove() const {
    std::error_code ec;
    for (std::string_view f : {kVmPidFile, kVmQmpFile, kVmStopFile}) fs::remove(dir_ / f, ec);
  }
  fs::path dir_;
};

bool fits_unix_socket(const std::string& path) {
  return path.size() < sizeof(sockaddr_un{}.sun_path);
}

RunArgs run_args_for(const VmRecord& record, const StartArgs& args, const fs::path& dir,
                     std::vector<uint8_t> instance_id) {
  RunArgs run;
  run.hypervisor = args.hypervisor;
  run.pvmfw_img = args.pvmfw_img;
  run.kernel = (dir / kVmKernelFile).string();
  if (record.has_initrd) {
    run.initrd = (dir / kVmInitrdFile).string();
  } else {
    run.no_initrd = true;
  }
  run.cmdline = record.cmdline;
  run.mem_mib = record.mem_mib;
  run.cpus = record.cpus;
  run.expect = args.expect;
  run.expect_fail = args.expect_fail;
  run.timeout_s = args.timeout_s;
  run.icount = args.icount;
  run.qemu = args.qemu;
  run.instance_id = std::move(instance_id);
  run.print_cmd = args.print_cmd;
  run.test_hook = args.test_hook;
  run.qemu_args = args.qemu_args;
  return run;
}

int start_vm(const Io& io, const StartArgs& args, const fs::path& dir) {
  auto lock = VmLock::take(dir);
  if (!lock) {
    if (lock.error() == VmLock::Error::kHeld) {
      return io.fail(running_message(args.name, dir, "running already"));
    }
    return io.fail((dir / kVmLockFile).string() + ": " + std::strerror(errno));
  }
  // Read under the lock: a `pvm delete` cannot remove the VM meanwhile.
  auto record = load_record(args.name);
  if (!record) return io.usage_error("start", record.error());
  auto instance_id = read_instance_id_file((dir / kVmInstanceIdFile).string());
  if (!instance_id) return io.usage_error("start", instance_id.error());

  const RunFiles run_files(dir);
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (auto written = write_file(
          dir / kVmPidFile, std::span(reinterpret_cast<const uint8_t*>(pid.data()), pid.size()));
      !written) {
    return io.fail((dir / kVmPidFile).string() + ": " + to_string(written.error()));
  }
  VmExtras extras{.instance_disk = (dir / kVmDiskFile).string(),
                  .pin_software = record->pin_software,
                  .qmp_socket = (dir / kVmQmpFile).string()};
  if (!fits_unix_socket(extras.qmp_socket)) {
    io.complain("no QMP socket: " + extras.qmp_socket +
                " is too long for one (`pvm stop` will signal `pvm start` instead)");
    extras.qmp_socket.clear();
  }
  const RunArgs run = run_args_for(*record, args, dir, std::move(*instance_id));
  auto vm = prepare_vm(io, run, extras);
  if (!vm) return io.report("start", vm.error());
  io.say(vm->summary);
  io.say("pvm: starting " + args.name + " (" + dir.string() + ", instance disk on virtio-mmio " +
         hex(virtio_mmio_slot(0)->base) + ", SPI " + std::to_string(virtio_mmio_slot(0)->spi) +
         ")");
  if (args.print_cmd) io.say(shell_command(vm->argv));

  const Expectations expectations = expectations_for(run);
  StageWatcher stages(expectations.goals);
  const auto t0 = Clock::now();
  auto booted = boot_vm(io, run, vm->argv, [&](std::string_view line) {
    if (auto stage = stages.on_line(line)) {
      const std::chrono::duration<double> elapsed = Clock::now() - t0;
      io.say("pvm: " + stage_line(elapsed.count(), *stage));
    }
  });
  if (!booted) return io.report("start", booted.error());
  std::error_code ec;
  const bool stop_requested = fs::exists(dir / kVmStopFile, ec);
  const VmHintContext hint{
      .name = args.name, .key = record->key_source, .signed_by_pvm = record->signing == "sign-key"};
  const StartVerdict verdict = start_verdict(booted->result, booted->judgement, expectations, hint,
                                             stop_requested, stages.last());
  for (const std::string& line : verdict.lines) {
    if (verdict.status == kExitOk) {
      io.say(line);
    } else {
      io.error_line(line);
    }
  }
  return verdict.status;
}

// ---- stop ----------------------------------------------------------------------------

constexpr auto kStopConnectWait = std::chrono::seconds(5);
constexpr auto kStopWait = std::chrono::seconds(15);

// Asks QEMU to quit over QMP; when there is no answer within
// kStopConnectWait (QEMU not started yet, or no socket), SIGTERM to the
// `pvm start` running the VM, which then ends QEMU itself.
void ask_to_stop(const Io& io, const fs::path& dir) {
  const std::string socket = (dir / kVmQmpFile).string();
  const auto give_up = Clock::now() + kStopConnectWait;
  std::string why = "no QMP socket";
  while (Clock::now() < give_up && vm_run_state(dir).running) {
    std::error_code ec;
    if (fs::exists(socket, ec)) {
      auto done = qmp_execute(socket, "quit", std::chrono::seconds(3));
      if (done) return;
      why = done.error();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const VmRunState state = vm_run_state(dir);
  if (!state.running) return;
  if (!state.pid) {
    io.complain("QMP: " + why + ", and no pid file to signal");
    return;
  }
  io.complain("QMP: " + why + "; sending SIGTERM to pid " + std::to_string(*state.pid));
  ::kill(static_cast<pid_t>(*state.pid), SIGTERM);
}

// ---- list ----------------------------------------------------------------------------

std::string json_or_null(const std::optional<std::string>& text) {
  return text ? json_string(*text) : "null";
}

std::string vm_json(const std::string& name, const std::expected<VmRecord, std::string>& record,
                    const VmRunState& state) {
  // Not a secret (the host writes it into the VM's tree); `pvm dice expect
  // --instance-id HEX` predicts the VM's DICE inputs with it.
  std::optional<std::string> instance_id;
  if (auto id = read_instance_id_file((vm_dir(name) / kVmInstanceIdFile).string())) {
    instance_id = to_hex(*id);
  }
  if (!record) {
    return "{\"name\":" + json_string(name) +
           ",\"state\":\"broken\",\"error\":" + json_string(record.error()) + "}";
  }
  const VmRecord& r = *record;
  std::optional<std::string> initrd;
  if (r.has_initrd) initrd = r.initrd_source;
  return "{\"name\":" + json_string(r.name) +
         ",\"state\":" + json_string(state.running ? "running" : "stopped") +
         ",\"pid\":" + (state.running && state.pid ? std::to_string(*state.pid) : "null") +
         ",\"mem_mib\":" + std::to_string(r.mem_mib) + ",\"cpus\":" + std::to_string(r.cpus) +
         ",\"kernel\":" + json_string(r.kernel_source) + ",\"initrd\":" + json_or_null(initrd) +
         ",\"debug\":" + (r.debug ? "true" : "false") +
         ",\"pin_software\":" + (r.pin_software ? "true" : "false") +
         ",\"signing\":" + json_string(r.signing) + ",\"key\":" + json_string(r.key_source) +
         ",\"algorithm\":" + json_string(r.algorithm) +
         ",\"rollback_index\":" + std::to_string(r.rollback_index) +
         ",\"cmdline\":" + json_string(r.cmdline) +
         ",\"instance_id\":" + json_or_null(instance_id) +
         ",\"created\":" + json_string(r.created) +
         ",\"dir\":" + json_string(vm_dir(r.name).string()) + "}";
}

std::string padded(std::string text, size_t width) {
  if (text.size() < width) text.append(width - text.size(), ' ');
  return text;
}

}  // namespace

// ---- The commands --------------------------------------------------------------------

int cmd_create(const Io& io, std::span<const std::string_view> words) {
  auto args = parse_create_args(words);
  if (!args) return io.usage_error("create", to_string(args.error()));
  if (args->help) return io.help(create_usage());
  auto record = create_vm(io, *args);
  if (!record) return io.report("create", record.error());
  const VmRecord& r = *record;
  io.say("pvm: created " + r.name + " in " + vm_dir(r.name).string());
  io.say("pvm:   payload " + payload_summary(r) + ", " +
         (r.signing == "sign-key" ? "signed with " : "checked against ") + r.key_source + " (" +
         r.algorithm + ", rollback index " + std::to_string(r.rollback_index) + ")");
  io.say("pvm:   " + std::to_string(r.mem_mib) + " MiB, " + std::to_string(r.cpus) + " vCPU" +
         (r.cpus == 1 ? "" : "s") + (r.pin_software ? ", software pinned" : "") +
         ", new instance id, instance disk " + std::to_string(kInstanceDiskBytes >> 20) + " MiB");
  io.say("pvm: boot it with `pvm start " + r.name + "`");
  return kExitOk;
}

int cmd_update(const Io& io, std::span<const std::string_view> words) {
  auto args = parse_update_args(words);
  if (!args) return io.usage_error("update", to_string(args.error()));
  if (args->help) return io.help(update_usage());
  auto dir = existing_vm(args->name);
  if (!dir) return io.report("update", dir.error());
  auto update = update_vm(io, *args, *dir);
  if (!update) return io.report("update", update.error());
  for (const std::string& line : update_lines(*update)) io.say(line);
  return kExitOk;
}

int cmd_start(const Io& io, std::span<const std::string_view> words) {
  auto args = parse_start_args(words);
  if (!args) return io.usage_error("start", to_string(args.error()));
  if (args->help) return io.help(start_usage());
  auto dir = existing_vm(args->name);
  if (!dir) return io.report("start", dir.error());
  return start_vm(io, *args, *dir);
}

int cmd_stop(const Io& io, std::span<const std::string_view> words) {
  auto args = parse_name_args(words);
  if (!args) return io.usage_error("stop", to_string(args.error()));
  if (args->help) return io.help(stop_usage());
  auto dir = existing_vm(args->name);
  if (!dir) return io.report("stop", dir.error());
  if (!vm_run_state(*dir).running) {
    io.say("pvm: " + args->name + ": not running");
    return kExitOk;
  }
  // `pvm start` reads this once QEMU is gone: a stop, not a failure.
  if (auto marked = write_file(*dir / kVmStopFile, {}); !marked) {
    return io.fail((*dir / kVmStopFile).string() + ": " + to_string(marked.error()));
  }
  ask_to_stop(io, *dir);
  const auto give_up = Clock::now() + kStopWait;
  while (Clock::now() < give_up) {
    if (!vm_run_state(*dir).running) {
      io.say("pvm: " + args->name + ": stopped");
      return kExitOk;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return io.fail(args->name + ": still running after " +
                 std::to_string(std::chrono::seconds(kStopWait).count()) + " s" +
                 pid_note(vm_run_state(*dir)));
}

int cmd_list(const Io& io, std::span<const std::string_view> words) {
  auto args = parse_list_args(words);
  if (!args) return io.usage_error("list", to_string(args.error()));
  if (args->help) return io.help(list_usage());
  const std::vector<std::string> names = list_vm_names();
  if (args->json) {
    std::string out = "{\"vms\":[";
    for (size_t i = 0; i < names.size(); ++i) {
      if (i != 0) out += ',';
      out += vm_json(names[i], load_record(names[i]), vm_run_state(vm_dir(names[i])));
    }
    io.say(out + "]}");
    return kExitOk;
  }
  if (names.empty()) {
    io.say("pvm: no VMs in " + vms_dir().string() + " (pvm create NAME ...)");
    return kExitOk;
  }
  io.say(padded("NAME", 20) + padded("STATE", 9) + padded("MEM", 10) + padded("CPUS", 5) +
         padded("CREATED", 22) + "PAYLOAD");
  for (const std::string& name : names) {
    auto record = load_record(name);
    if (!record) {
      io.say(padded(name, 20) + padded("broken", 9) + record.error());
      continue;
    }
    const VmRunState state = vm_run_state(vm_dir(name));
    io.say(padded(name, 20) + padded(state.running ? "running" : "stopped", 9) +
           padded(std::to_string(record->mem_mib) + " MiB", 10) +
           padded(std::to_string(record->cpus), 5) + padded(record->created, 22) +
           payload_summary(*record));
  }
  return kExitOk;
}

int cmd_delete(const Io& io, std::span<const std::string_view> words) {
  auto args = parse_name_args(words);
  if (!args) return io.usage_error("delete", to_string(args.error()));
  if (args->help) return io.help(delete_usage());
  auto dir = existing_vm(args->name);
  if (!dir) return io.report("delete", dir.error());
  auto lock = VmLock::take(*dir);
  if (!lock) {
    if (lock.error() == VmLock::Error::kHeld) {
      return io.fail(running_message(args->name, *dir));
    }
    return io.fail((*dir / kVmLockFile).string() + ": " + std::strerror(errno));
  }
  // Out of sight first (a staging name list_vm_names skips), then removed:
  // a half-removed folder never looks like a VM.
  std::string doomed = (vms_dir() / ("." + args->name + ".deleting.XXXXXX")).string();
  if (::mkdtemp(doomed.data()) == nullptr) return io.fail(doomed + ": " + std::strerror(errno));
  if (::rename(dir->c_str(), (fs::path(doomed) / args->name).c_str()) != 0) {
    return io.fail(dir->string() + ": " + std::strerror(errno));
  }
  std::error_code ec;
  fs::remove_all(doomed, ec);
  if (ec) return io.fail(doomed + ": " + ec.message());
  io.say("pvm: deleted " + args->name);
  return kExitOk;
}

}  // namespace pvm

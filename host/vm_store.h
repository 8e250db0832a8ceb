// The VMs `pvm create` makes, as they are kept in the state folder
// ($PVM_STATE, or ~/.local/share/pvm; instance.h state_dir()):
//
//   vms/NAME/vm.conf        the record: one key=value a line (format_record)
//   vms/NAME/kernel.img     the signed "boot" partition the VM boots
//   vms/NAME/initrd.img     its initrd (absent without one)
//   vms/NAME/key.avbpubkey  the AVB public key the payload verifies with
//   vms/NAME/instance-id    the 64-byte instance id (mode 0600, instance.h)
//   vms/NAME/disk.img       the instance disk (instance_disk.h)
//   vms/NAME/lock           locked by `pvm start` while the VM runs
//   vms/NAME/pid            while it runs: the pid of the `pvm start` running it
//   vms/NAME/qmp.sock       while it runs: QEMU's QMP socket (`pvm stop`)
//   vms/NAME/stop-requested while `pvm stop` stops it
//
// Callers may rely on: a record parses back to the value it was written
// from (every field, any printable text without a newline); a VM runs exactly
// while some process holds an open-file-description lock on its `lock` file
// (fcntl F_OFD_SETLK), which the kernel drops when that process dies, so a
// crashed `pvm start` never leaves a VM "running"; pid and qmp.sock are
// advisory (written after the lock is taken, removed before it is dropped).
#pragma once

#include <cstdint>
#include <expected>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "launch/constants.h"

namespace pvm {

// [a-z0-9][a-z0-9-]{0,31}
bool valid_vm_name(std::string_view name);

inline constexpr std::string_view kVmRecordFile = "vm.conf";
inline constexpr std::string_view kVmKernelFile = "kernel.img";
inline constexpr std::string_view kVmInitrdFile = "initrd.img";
inline constexpr std::string_view kVmKeyFile = "key.avbpubkey";
inline constexpr std::string_view kVmInstanceIdFile = "instance-id";
inline constexpr std::string_view kVmDiskFile = "disk.img";
inline constexpr std::string_view kVmLockFile = "lock";
inline constexpr std::string_view kVmPidFile = "pid";
inline constexpr std::string_view kVmQmpFile = "qmp.sock";
inline constexpr std::string_view kVmStopFile = "stop-requested";

// STATE/vms and STATE/vms/NAME.
std::filesystem::path vms_dir();
std::filesystem::path vm_dir(std::string_view name);

// Everything `pvm create` was told and decided (the payload fields and
// cmdline as the last `pvm update` left them), kept in vm.conf.
struct VmRecord {
  std::string name;
  std::string created;        // UTC, "2025-01-31T12:00:00Z"
  std::string kernel_source;  // the kernel given or picked (absolute path)
  std::string initrd_source;  // the initrd given (absolute path), "demo", or "" (none)
  bool has_initrd = false;    // initrd.img is there
  std::string cmdline;
  uint64_t mem_mib = 0;
  uint32_t cpus = 0;
  bool debug = false;  // the initrd is signed as initrd_debug
  bool pin_software = false;
  std::string signing;     // "sign-key" (pvm signed a copy) or "key" (signed already)
  std::string key_source;  // the --sign-key or --key given (absolute path)
  std::string algorithm;   // e.g. "SHA256_RSA4096", as verified at create
  uint64_t rollback_index = 0;
};

// What a VM may be given: the hypervisor's rules (launch/constants.h), RAM
// in whole 2 MiB blocks from 16 MiB up to what lies below the hypervisor,
// 1 to 8 vCPUs. `pvm create` takes only these, and vm.conf must hold them.
inline constexpr uint64_t kVmMinMemMib = launch::kMinRamSize >> 20;
inline constexpr uint64_t kVmMaxMemMib = launch::kMaxVmRamSize >> 20;
inline constexpr uint64_t kVmMemStepMib = launch::kRamAlignment >> 20;
inline constexpr uint32_t kVmMaxCpus = launch::kMaxCpus;

inline constexpr uint32_t kVmRecordFormat = 1;

// The record as vm.conf holds it: "format=1" first, then every field, one
// key=value a line, in a fixed order.
std::string format_record(const VmRecord& record);
// The error names the line or the key at fault. Unknown keys are refused
// (a newer pvm's record is not half-read); every key must be there.
[[nodiscard]] std::expected<VmRecord, std::string> parse_record(std::string_view text);
// True when `text` can be a record value: no newline, no NUL.
bool valid_record_value(std::string_view text);

// vms/NAME/vm.conf read and parsed; the error is "PATH: reason".
[[nodiscard]] std::expected<VmRecord, std::string> load_record(std::string_view name);

// The names of the folders in vms/ that hold a vm.conf, sorted (staging
// folders, whose names start with '.', are skipped).
std::vector<std::string> list_vm_names();

// Whether the VM is running (its lock is held), and the pid file's pid.
struct VmRunState {
  bool running = false;
  std::optional<long> pid;  // from the pid file, when running
};
VmRunState vm_run_state(const std::filesystem::path& dir);

// The lock a running VM holds: taken without waiting, dropped when this
// dies (or the process does).
class VmLock {
 public:
  enum class Error { kHeld, kFailed };
  [[nodiscard]] static std::expected<VmLock, Error> take(const std::filesystem::path& dir);
  VmLock(VmLock&& other) noexcept;
  VmLock& operator=(VmLock&&) = delete;
  VmLock(const VmLock&) = delete;
  VmLock& operator=(const VmLock&) = delete;
  ~VmLock();

 private:
  explicit VmLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// "2025-01-31T12:00:00Z" for a time in seconds since the epoch.
std::string utc_timestamp(int64_t unix_seconds);

}  // namespace pvm

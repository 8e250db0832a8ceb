// Builds the QEMU command line for a pvm VM, runs QEMU, and watches its
// console for the outcome.
//
// Callers may rely on: QEMU's stdin is /dev/null (the terminal is never put
// in raw mode); its stdout (the guest console, -nographic) and stderr are read
// line by line and handed to the caller as they arrive; QEMU never outlives
// run_qemu(): on timeout or request_stop() it gets SIGTERM, then SIGKILL.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pvm {

// ---- Command line -----------------------------------------------------------

// A file QEMU's generic loader places in guest memory before reset.
struct QemuLoad {
  std::string path;
  uint64_t address = 0;
};

// A file QEMU offers the guest firmware through fw_cfg (`-fw_cfg
// name=NAME,file=PATH`; QEMU reads it at start-up).
struct QemuFwCfgFile {
  std::string name;  // "opt/..." (QEMU's namespace for users' files)
  std::string path;
};

// A raw disk image QEMU offers the guest as a virtio-blk device on a
// virtio-mmio transport (`-drive if=none,id=ID,file=PATH,format=raw -device
// virtio-blk-device,drive=ID`). QEMU virt plugs the first virtio device into
// the transport with the highest base address (vm_dt.h virtio_mmio_slot).
struct QemuVirtioBlock {
  std::string id;  // the drive's id: letters, digits, '-', '_'
  std::string path;
};

// The transports are virtio 1.x ("modern", VIRTIO 1.2 §4.2.2: MMIO Version
// 2): QEMU's virt machine defaults to the legacy (Version 1) register layout
// unless told otherwise.
inline constexpr std::string_view kVirtioMmioModern = "virtio-mmio.force-legacy=false";

struct QemuConfig {
  std::string qemu = "qemu-system-aarch64";  // looked up in PATH when it has no '/'
  uint64_t mem_mib = 1024;
  uint32_t cpus = 1;
  std::string firmware;  // -bios: loaded into flash at 0 and started there
  // -dtb (none when empty): in -bios mode QEMU copies it to the start of RAM
  // (BOARD_DT_BASE), replacing the tree it would generate, after rewriting
  // /memory's reg.
  std::string dtb;
  std::vector<QemuLoad> loads;
  std::vector<QemuFwCfgFile> fw_cfg_files;
  // Deterministic time: 1 instruction = 1 ns, fixed RNG seed and RTC
  // (the settings pvmfw is measured with: docs/performance.md).
  bool icount = false;
  bool virtualization = false;  // start at EL2 (PSCI conduit becomes SMC)
  // In this order, from the first transport QEMU fills (the highest).
  std::vector<QemuVirtioBlock> virtio_blocks;
  // A QMP server on this Unix socket (`-qmp unix:PATH,server=on,wait=off`),
  // for `pvm stop`; none when empty.
  std::string qmp_socket;
  std::vector<std::string> extra_args;  // appended last, verbatim
};

// The argv, argv[0] being config.qemu. The GIC version is pinned to 2, the
// one the VM device tree describes.
std::vector<std::string> build_qemu_argv(const QemuConfig& config);

// The argv as one POSIX shell command line (for --print-cmd).
std::string shell_command(const std::vector<std::string>& argv);

// ---- Watching the console ---------------------------------------------------

// pvmfw's single failure funnel prints this, then the reason, then resets.
inline constexpr std::string_view kBootFailedPrefix = "pvmfw: boot failed:";
// The hypervisor's refusals (docs/hypervisor.md), before any VM runs: of the
// launch description, and of pvmfw.img's verification.
inline constexpr std::string_view kHypLaunchRefusedPrefix = "hyp: launch refused:";
inline constexpr std::string_view kHypImageRefusedPrefix = "hyp: pvmfw.img refused:";
// A console line starting with one of these reports a refused boot.
inline constexpr std::array<std::string_view, 3> kFailurePrefixes = {
    kBootFailedPrefix, kHypLaunchRefusedPrefix, kHypImageRefusedPrefix};
// The demo initramfs prints this first (see initramfs.h).
inline constexpr std::string_view kDefaultGoal = "pvm-guest: reached /init";

struct Expectations {
  // Each must occur inside some console line, in any order.
  std::vector<std::string> goals;
  // When set, the run succeeds only if the boot is refused for exactly this
  // reason: a line starting with one of kFailurePrefixes, then REASON,
  // optionally followed by " ", ":" or "(" and details.
  std::optional<std::string> expected_failure;
};

// Splits a byte stream into lines: '\n' ends a line, '\r' is dropped, and
// over-long lines are cut at kMaxLine bytes so memory stays bounded.
class LineSplitter {
 public:
  static constexpr size_t kMaxLine = 64 * 1024;
  using Sink = std::function<void(std::string_view)>;

  void feed(std::string_view bytes, const Sink& sink);
  // Emits a final unterminated line, if any.
  void flush(const Sink& sink);

 private:
  std::string pending_;
};

// Matches console lines against the expectations.
class ConsoleWatcher {
 public:
  explicit ConsoleWatcher(const Expectations& expectations);
  void on_line(std::string_view line);

  const std::vector<bool>& goals_seen() const { return goals_seen_; }
  bool all_goals_seen() const;
  // The first line starting with one of kFailurePrefixes.
  const std::optional<std::string>& failure_line() const { return failure_line_; }

 private:
  Expectations expectations_;
  std::vector<bool> goals_seen_;
  std::optional<std::string> failure_line_;
};

// True when `line` is a refusal (kFailurePrefixes) for REASON as Expectations
// describes.
bool failure_matches(std::string_view line, std::string_view reason);

// ---- Running ----------------------------------------------------------------

enum class QemuErrc {
  kEmptyCommand,
  kPipeFailed,
  kSpawnFailed,  // QEMU binary missing or not executable
  kPollFailed,
  kReadFailed,
  kWaitFailed,
};

struct QemuError {
  QemuErrc code;
  int sys_errno = 0;
};

std::string_view to_string(QemuErrc code);
std::string to_string(const QemuError& error);

struct RunOptions {
  std::chrono::seconds timeout{120};  // wall clock, from spawn to exit
  LineSplitter::Sink on_console;      // each stdout line as it arrives (may be empty)
  LineSplitter::Sink on_stderr;       // each stderr line as it arrives (may be empty)
};

struct RunResult {
  bool exited = false;    // QEMU ended by itself (not killed by us)
  int exit_status = -1;   // its exit status, when it exited normally
  int term_signal = 0;    // the signal that ended it, if one did
  bool timed_out = false;
  bool interrupted = false;  // request_stop() was called
  std::chrono::seconds timeout{0};
  std::vector<bool> goals_seen;
  std::optional<std::string> failure_line;
  std::vector<std::string> transcript;  // console lines (capped at kMaxTranscriptLines)
};

inline constexpr size_t kMaxTranscriptLines = 200000;

[[nodiscard]] std::expected<RunResult, QemuError> run_qemu(const std::vector<std::string>& argv,
                                                           const Expectations& expectations,
                                                           const RunOptions& options);

// Async-signal-safe: makes a running (or the next) run_qemu() stop QEMU and
// return with interrupted = true. For SIGINT/SIGTERM handlers.
void request_stop();

// ---- Verdict ----------------------------------------------------------------

enum class Verdict { kPass, kGuestFailed, kTimedOut, kInterrupted };

struct Judgement {
  Verdict verdict;
  // Empty on kPass; otherwise the line pvm prints after "pvm: ", e.g.
  // "guest failed: goal not reached" or "timeout after 120 s".
  std::string message;
};

// kPass needs: QEMU exited by itself with status 0, every goal seen, and
// either no failure line (normal run) or the expected one (expected_failure).
// Reasons are checked in this order: interrupt, timeout, failure line, QEMU's
// own exit status, goals.
Judgement judge(const RunResult& result, const Expectations& expectations);

}  // namespace pvm

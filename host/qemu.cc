#include "qemu.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <thread>
#include <utility>

#include "cli.h"  // hex

extern char** environ;

namespace pvm {
namespace {

volatile std::sig_atomic_t g_stop_requested = 0;

using Clock = std::chrono::steady_clock;

// QEMU option values are comma-separated: a literal ',' is written ",,".
std::string escape_option_value(std::string_view value) {
  std::string out;
  for (char c : value) {
    out += c;
    if (c == ',') out += ',';
  }
  return out;
}

std::unexpected<QemuError> fail(QemuErrc code) { return std::unexpected(QemuError{code, errno}); }

// A pipe end closed when leaving scope.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&&) = delete;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  }

 private:
  int fd_ = -1;
};

struct Pipe {
  Fd read;
  Fd write;
};

std::expected<Pipe, QemuError> make_pipe() {
  std::array<int, 2> fds{};
  if (::pipe2(fds.data(), O_CLOEXEC) != 0) return fail(QemuErrc::kPipeFailed);
  return Pipe{Fd(fds[0]), Fd(fds[1])};
}

// Ends the child: SIGTERM (QEMU shuts down cleanly), SIGKILL after a grace
// period. Returns the wait status.
int terminate_child(pid_t pid) {
  constexpr auto kGrace = std::chrono::seconds(2);
  int status = 0;
  ::kill(pid, SIGTERM);
  const auto give_up = Clock::now() + kGrace;
  while (Clock::now() < give_up) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0 && errno != EINTR) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid, SIGKILL);
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

}  // namespace

// ---- Command line -----------------------------------------------------------

std::vector<std::string> build_qemu_argv(const QemuConfig& config) {
  std::vector<std::string> argv = {
      config.qemu,
      "-M",
      config.virtualization ? "virt,gic-version=2,virtualization=on" : "virt,gic-version=2",
      // pauth-impdef: QEMU's cheap PAC algorithm instead of QARMA5 (~3x faster boots).
      "-cpu",
      "max,pauth-impdef=on",
      "-m",
      std::to_string(config.mem_mib),
  };
  if (config.cpus != 1) {
    argv.insert(argv.end(), {"-smp", std::to_string(config.cpus)});
  }
  argv.insert(argv.end(), {"-nographic", "-nic", "none", "-no-reboot", "-bios", config.firmware});
  if (!config.dtb.empty()) argv.insert(argv.end(), {"-dtb", config.dtb});
  for (const QemuLoad& load : config.loads) {
    argv.insert(argv.end(), {"-device", "loader,file=" + escape_option_value(load.path) +
                                            ",addr=" + hex(load.address) + ",force-raw=on"});
  }
  for (const QemuFwCfgFile& file : config.fw_cfg_files) {
    argv.insert(argv.end(), {"-fw_cfg", "name=" + escape_option_value(file.name) +
                                            ",file=" + escape_option_value(file.path)});
  }
  if (!config.virtio_blocks.empty()) {
    argv.insert(argv.end(), {"-global", std::string(kVirtioMmioModern)});
  }
  for (const QemuVirtioBlock& block : config.virtio_blocks) {
    argv.insert(argv.end(), {"-drive", "if=none,id=" + escape_option_value(block.id) + ",file=" +
                                           escape_option_value(block.path) + ",format=raw",
                             "-device", "virtio-blk-device,drive=" + escape_option_value(block.id)});
  }
  if (!config.qmp_socket.empty()) {
    argv.insert(argv.end(),
                {"-qmp", "unix:" + escape_option_value(config.qmp_socket) + ",server=on,wait=off"});
  }
  if (config.icount) {
    argv.insert(argv.end(), {"-icount", "shift=0,sleep=off", "-seed", "1", "-rtc",
                             "base=2025-01-01T00:00:00,clock=vm"});
  }
  argv.insert(argv.end(), config.extra_args.begin(), config.extra_args.end());
  return argv;
}

std::string shell_command(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& arg : argv) {
    if (!out.empty()) out += ' ';
    bool plain = !arg.empty() && arg.find_first_not_of(
                                     "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                     "0123456789-_./=,:+@%") == std::string::npos;
    if (plain) {
      out += arg;
      continue;
    }
    out += '\'';
    for (char c : arg) {
      if (c == '\'') {
        out += "'\\''";
      } else {
        out += c;
      }
    }
    out += '\'';
  }
  return out;
}

// ---- Watching the console ---------------------------------------------------

void LineSplitter::feed(std::string_view bytes, const Sink& sink) {
  for (char c : bytes) {
    if (c == '\n') {
      if (sink) sink(pending_);
      pending_.clear();
    } else if (c != '\r') {
      pending_ += c;
      if (pending_.size() >= kMaxLine) {
        if (sink) sink(pending_);
        pending_.clear();
      }
    }
  }
}

void LineSplitter::flush(const Sink& sink) {
  if (pending_.empty()) return;
  if (sink) sink(pending_);
  pending_.clear();
}

namespace {

// The prefix `line` starts with, if it is a refusal line.
std::optional<std::string_view> failure_prefix(std::string_view line) {
  for (std::string_view prefix : kFailurePrefixes) {
    if (line.starts_with(prefix)) return prefix;
  }
  return std::nullopt;
}

}  // namespace

bool failure_matches(std::string_view line, std::string_view reason) {
  const auto prefix = failure_prefix(line);
  if (!prefix) return false;
  std::string_view rest = line.substr(prefix->size());
  while (rest.starts_with(' ')) rest.remove_prefix(1);
  if (reason.empty() || !rest.starts_with(reason)) return false;
  rest.remove_prefix(reason.size());
  return rest.empty() || rest.front() == ' ' || rest.front() == ':' || rest.front() == '(';
}

ConsoleWatcher::ConsoleWatcher(const Expectations& expectations)
    : expectations_(expectations), goals_seen_(expectations.goals.size(), false) {}

void ConsoleWatcher::on_line(std::string_view line) {
  for (size_t i = 0; i < expectations_.goals.size(); ++i) {
    if (!goals_seen_[i] && line.find(expectations_.goals[i]) != std::string_view::npos) {
      goals_seen_[i] = true;
    }
  }
  if (!failure_line_ && failure_prefix(line)) failure_line_ = std::string(line);
}

bool ConsoleWatcher::all_goals_seen() const {
  for (bool seen : goals_seen_) {
    if (!seen) return false;
  }
  return true;
}

// ---- Running ----------------------------------------------------------------

std::string_view to_string(QemuErrc code) {
  switch (code) {
    case QemuErrc::kEmptyCommand: return "empty command";
    case QemuErrc::kPipeFailed: return "cannot create pipe";
    case QemuErrc::kSpawnFailed: return "cannot start qemu";
    case QemuErrc::kPollFailed: return "poll failed";
    case QemuErrc::kReadFailed: return "read from qemu failed";
    case QemuErrc::kWaitFailed: return "waitpid failed";
  }
  return "unknown qemu error";
}

std::string to_string(const QemuError& error) {
  std::string text(to_string(error.code));
  if (error.sys_errno != 0) {
    text += ": ";
    text += std::strerror(error.sys_errno);
  }
  return text;
}

void request_stop() { g_stop_requested = 1; }

std::expected<RunResult, QemuError> run_qemu(const std::vector<std::string>& argv,
                                             const Expectations& expectations,
                                             const RunOptions& options) {
  if (argv.empty()) return std::unexpected(QemuError{QemuErrc::kEmptyCommand});
  auto out = make_pipe();
  if (!out) return std::unexpected(out.error());
  auto err = make_pipe();
  if (!err) return std::unexpected(err.error());

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out->write.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err->write.get(), STDERR_FILENO);
  // The pipes are O_CLOEXEC: only the dup2'd copies reach QEMU.

  std::vector<char*> c_argv;
  c_argv.reserve(argv.size() + 1);
  for (const std::string& arg : argv) c_argv.push_back(const_cast<char*>(arg.c_str()));
  c_argv.push_back(nullptr);

  // The caller may ignore or catch these; QEMU gets the default behaviour.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP}) sigaddset(&defaults, sig);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);

  pid_t pid = -1;
  int rc = ::posix_spawnp(&pid, c_argv[0], &actions, &attr, c_argv.data(), environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return std::unexpected(QemuError{QemuErrc::kSpawnFailed, rc});
  out->write.reset();
  err->write.reset();

  RunResult result;
  result.timeout = options.timeout;
  ConsoleWatcher watcher(expectations);
  LineSplitter out_lines;
  LineSplitter err_lines;
  const LineSplitter::Sink console_sink = [&](std::string_view line) {
    watcher.on_line(line);
    if (result.transcript.size() < kMaxTranscriptLines) result.transcript.emplace_back(line);
    if (options.on_console) options.on_console(line);
  };
  const LineSplitter::Sink stderr_sink = [&](std::string_view line) {
    if (options.on_stderr) options.on_stderr(line);
  };

  const auto deadline = Clock::now() + options.timeout;
  auto stop_now = [&] {
    if (g_stop_requested) {
      result.interrupted = true;
      return true;
    }
    if (Clock::now() >= deadline) {
      result.timed_out = true;
      return true;
    }
    return false;
  };

  std::optional<QemuError> io_error;
  std::array<pollfd, 2> fds = {pollfd{out->read.get(), POLLIN, 0},
                               pollfd{err->read.get(), POLLIN, 0}};
  std::array<LineSplitter*, 2> splitters = {&out_lines, &err_lines};
  std::array<const LineSplitter::Sink*, 2> sinks = {&console_sink, &stderr_sink};
  std::array<char, 16384> buf{};
  while ((fds[0].fd >= 0 || fds[1].fd >= 0) && !stop_now()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    int wait_ms = static_cast<int>(std::clamp<int64_t>(left.count(), 0, 500));
    int n = ::poll(fds.data(), fds.size(), wait_ms);  // poll ignores fd < 0 entries
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      io_error = QemuError{QemuErrc::kPollFailed, errno};
      break;
    }
    for (size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t got = ::read(fds[i].fd, buf.data(), buf.size());
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) {
        io_error = QemuError{QemuErrc::kReadFailed, errno};
        break;
      }
      if (got == 0) {
        fds[i].fd = -1;  // EOF; the Fd owner closes it
        continue;
      }
      splitters[i]->feed(std::string_view(buf.data(), static_cast<size_t>(got)), *sinks[i]);
    }
    if (io_error) break;
  }
  out_lines.flush(console_sink);
  err_lines.flush(stderr_sink);

  // Both streams closed (or we gave up): collect the exit status.
  int status = 0;
  bool reaped = false;
  while (!io_error && !result.timed_out && !result.interrupted) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      reaped = true;
      break;
    }
    if (r < 0 && errno != EINTR) {
      io_error = QemuError{QemuErrc::kWaitFailed, errno};
      break;
    }
    if (stop_now()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (!reaped) status = terminate_child(pid);
  if (io_error) return std::unexpected(*io_error);

  result.exited = reaped;
  if (WIFEXITED(status)) result.exit_status = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.term_signal = WTERMSIG(status);
  result.goals_seen = watcher.goals_seen();
  result.failure_line = watcher.failure_line();
  return result;
}

// ---- Verdict ----------------------------------------------------------------

Judgement judge(const RunResult& result, const Expectations& expectations) {
  if (result.interrupted) return {Verdict::kInterrupted, "interrupted"};
  if (result.timed_out) {
    return {Verdict::kTimedOut, "timeout after " + std::to_string(result.timeout.count()) + " s"};
  }
  auto guest_failed = [](std::string why) {
    return Judgement{Verdict::kGuestFailed, "guest failed: " + std::move(why)};
  };
  if (expectations.expected_failure) {
    const std::string& reason = *expectations.expected_failure;
    if (!result.failure_line) return guest_failed("expected failure '" + reason + "' not reported");
    if (!failure_matches(*result.failure_line, reason)) {
      return guest_failed(*result.failure_line + " (expected '" + reason + "')");
    }
  } else if (result.failure_line) {
    return guest_failed(*result.failure_line);
  }
  // QEMU itself failing (bad option, missing file) explains missing goals.
  if (!result.exited || result.exit_status != 0) {
    std::string how = result.term_signal != 0
                          ? "qemu killed by signal " + std::to_string(result.term_signal)
                          : "qemu exited with status " + std::to_string(result.exit_status);
    return guest_failed(how);
  }
  for (size_t i = 0; i < expectations.goals.size(); ++i) {
    if (i >= result.goals_seen.size() || !result.goals_seen[i]) {
      return guest_failed("goal not reached ('" + expectations.goals[i] + "')");
    }
  }
  return {Verdict::kPass, ""};
}

}  // namespace pvm

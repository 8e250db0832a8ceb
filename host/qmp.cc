#include "qmp.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string_view>
#include <utility>

namespace pvm {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxAnswer = 64 * 1024;

class Connection {
 public:
  explicit Connection(int fd) : fd_(fd) {}
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() {
    if (fd_ >= 0) ::close(fd_);
  }

  bool send(std::string_view text) {
    while (!text.empty()) {
      const ssize_t n = ::send(fd_, text.data(), text.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      text.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // The next line QEMU sends (without "\r\n"); nullopt on EOF, an error or
  // the deadline. `eof` tells EOF apart.
  std::optional<std::string> line(Clock::time_point deadline, bool& eof) {
    eof = false;
    for (;;) {
      if (size_t nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string out = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        if (!out.empty() && out.back() == '\r') out.pop_back();
        return out;
      }
      if (buffer_.size() > kMaxAnswer) return std::nullopt;
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      const int ready = ::poll(&p, 1, static_cast<int>(left));
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) return std::nullopt;
      char chunk[4096];
      const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) eof = true;
      if (n <= 0) return std::nullopt;
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

 private:
  int fd_;
  std::string buffer_;
};

// Reads lines until the answer to the last command: {"return": ...} or
// {"error": ...}; events ({"event": ...}) are skipped.
std::expected<void, std::string> await_answer(Connection& c, Clock::time_point deadline,
                                              std::string_view step, bool eof_is_success) {
  for (;;) {
    bool eof = false;
    auto line = c.line(deadline, eof);
    if (!line) {
      if (eof && eof_is_success) return {};
      return std::unexpected(std::string(step) +
                             (eof ? ": QEMU closed the connection" : ": no answer from QEMU"));
    }
    if (line->starts_with("{\"return\"")) return {};
    if (line->starts_with("{\"error\"")) return std::unexpected(std::string(step) + ": " + *line);
  }
}

}  // namespace

std::expected<void, std::string> qmp_execute(const std::string& socket_path,
                                             const std::string& command,
                                             std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof(addr.sun_path)) {
    return std::unexpected(socket_path + ": path too long for a Unix socket");
  }
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::unexpected(std::string("socket: ") + std::strerror(errno));
  Connection c(fd);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    return std::unexpected(socket_path + ": " + std::strerror(errno));
  }
  // The greeting: {"QMP": {"version": ..., "capabilities": [...]}}.
  bool eof = false;
  auto greeting = c.line(deadline, eof);
  if (!greeting || !greeting->starts_with("{\"QMP\"")) {
    return std::unexpected("greeting: no QMP greeting from QEMU");
  }
  if (!c.send("{\"execute\": \"qmp_capabilities\"}\n")) {
    return std::unexpected(std::string("qmp_capabilities: ") + std::strerror(errno));
  }
  if (auto ok = await_answer(c, deadline, "qmp_capabilities", false); !ok) return ok;
  if (!c.send("{\"execute\": \"" + command + "\"}\n")) {
    return std::unexpected(command + ": " + std::strerror(errno));
  }
  return await_answer(c, deadline, command, /*eof_is_success=*/command == "quit");
}

}  // namespace pvm

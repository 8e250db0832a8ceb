#include "file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <system_error>
#include <utility>

namespace pvm {
namespace {

// Closes a file descriptor when leaving scope.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // Closes now so that a failing close (delayed write error) is reported.
  bool close() {
    int fd = std::exchange(fd_, -1);
    return ::close(fd) == 0;
  }

 private:
  int fd_;
};

std::unexpected<FileError> fail(FileErrc code) { return std::unexpected(FileError{code, errno}); }

std::expected<void, FileError> write_all(Fd& fd, std::span<const uint8_t> data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd.get(), data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail(FileErrc::kWriteFailed);
    done += static_cast<size_t>(n);
  }
  if (!fd.close()) return fail(FileErrc::kWriteFailed);
  return {};
}

}  // namespace

std::string_view to_string(FileErrc code) {
  switch (code) {
    case FileErrc::kOpenFailed: return "open failed";
    case FileErrc::kReadFailed: return "read failed";
    case FileErrc::kWriteFailed: return "write failed";
    case FileErrc::kNotRegularFile: return "not a regular file";
    case FileErrc::kTooLarge: return "file too large";
    case FileErrc::kMkdirFailed: return "cannot create folder";
  }
  return "unknown file error";
}

std::string to_string(const FileError& error) {
  std::string text(to_string(error.code));
  if (error.sys_errno != 0) {
    text += ": ";
    text += std::strerror(error.sys_errno);
  }
  return text;
}

std::expected<uint64_t, FileError> regular_file_size(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return fail(FileErrc::kOpenFailed);
  if (!S_ISREG(st.st_mode)) return std::unexpected(FileError{FileErrc::kNotRegularFile});
  return static_cast<uint64_t>(st.st_size);
}

std::expected<std::vector<uint8_t>, FileError> read_file(const std::filesystem::path& path,
                                                         uint64_t max_size) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return fail(FileErrc::kOpenFailed);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return fail(FileErrc::kReadFailed);
  if (!S_ISREG(st.st_mode)) return std::unexpected(FileError{FileErrc::kNotRegularFile});
  if (static_cast<uint64_t>(st.st_size) > max_size) {
    return std::unexpected(FileError{FileErrc::kTooLarge});
  }
  std::vector<uint8_t> data(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::read(fd.get(), data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(FileErrc::kReadFailed);
    if (n == 0) break;  // The file shrank while we read it: keep what is there.
    done += static_cast<size_t>(n);
  }
  data.resize(done);
  return data;
}

std::expected<void, FileError> write_file(const std::filesystem::path& path,
                                          std::span<const uint8_t> data) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (fd.get() < 0) return fail(FileErrc::kOpenFailed);
  return write_all(fd, data);
}

std::expected<void, FileError> write_new_private_file(const std::filesystem::path& path,
                                                      std::span<const uint8_t> data) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (fd.get() < 0) return fail(FileErrc::kOpenFailed);
  // The mode is 0600 whatever the umask; a umask can only have narrowed it.
  return write_all(fd, data);
}

std::expected<void, FileError> write_private_file(const std::filesystem::path& path,
                                                  std::span<const uint8_t> data) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (fd.get() < 0) return fail(FileErrc::kOpenFailed);
  // An existing file keeps its mode on open: narrow it before writing.
  if (::fchmod(fd.get(), 0600) != 0) return fail(FileErrc::kOpenFailed);
  return write_all(fd, data);
}

std::expected<WorkDir, FileError> WorkDir::create_temporary() {
  const char* tmp = std::getenv("TMPDIR");
  std::string templ = (tmp != nullptr && *tmp != '\0') ? tmp : "/tmp";
  templ += "/pvm-XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) return fail(FileErrc::kMkdirFailed);
  return WorkDir(std::filesystem::path(templ), /*remove=*/true);
}

std::expected<WorkDir, FileError> WorkDir::use_existing(const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return std::unexpected(FileError{FileErrc::kMkdirFailed, ec.value()});
  if (!std::filesystem::is_directory(path, ec)) {
    return std::unexpected(FileError{FileErrc::kMkdirFailed, ENOTDIR});
  }
  return WorkDir(path, /*remove=*/false);
}

WorkDir::WorkDir(WorkDir&& other) noexcept
    : path_(std::move(other.path_)), remove_(std::exchange(other.remove_, false)) {}

WorkDir::~WorkDir() {
  if (remove_) {
    std::error_code ec;  // Best effort: a leftover temp folder is not an error.
    std::filesystem::remove_all(path_, ec);
  }
}

}  // namespace pvm

// Whole-file reads and writes and a scoped work folder for the host tools.
//
// Callers may rely on: no exceptions for I/O failures (std::bad_alloc aside);
// every failure names the operation and keeps errno for the message.
#pragma once

#include <cstdint>
#include <expected>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pvm {

enum class FileErrc {
  kOpenFailed,
  kReadFailed,
  kWriteFailed,
  kNotRegularFile,
  kTooLarge,
  kMkdirFailed,
};

struct FileError {
  FileErrc code;
  int sys_errno = 0;  // errno at the failure, 0 when not from a system call
};

std::string_view to_string(FileErrc code);
// "read failed: No such file or directory"
std::string to_string(const FileError& error);

// Reads a regular file completely. Files above `max_size` bytes are refused
// (kTooLarge) instead of exhausting memory.
[[nodiscard]] std::expected<std::vector<uint8_t>, FileError> read_file(
    const std::filesystem::path& path, uint64_t max_size = uint64_t{1} << 32);

// Size of a regular file without reading it.
[[nodiscard]] std::expected<uint64_t, FileError> regular_file_size(
    const std::filesystem::path& path);

// Creates or truncates `path` and writes `data` to it (mode 0644 before umask).
[[nodiscard]] std::expected<void, FileError> write_file(const std::filesystem::path& path,
                                                        std::span<const uint8_t> data);

// Creates `path`, which must not exist yet, with mode 0600 and writes `data`
// to it: for private keys (an existing file is kOpenFailed with EEXIST).
[[nodiscard]] std::expected<void, FileError> write_new_private_file(
    const std::filesystem::path& path, std::span<const uint8_t> data);

// Creates or truncates `path` (not through a symlink) with mode 0600, also
// when it existed, and writes `data`: for files holding DICE secrets (CDIs).
[[nodiscard]] std::expected<void, FileError> write_private_file(
    const std::filesystem::path& path, std::span<const uint8_t> data);

// A folder for one `pvm` run's generated files. A created folder is removed
// with its contents when the object dies unless it was made with keep = true.
class WorkDir {
 public:
  // A fresh private folder under $TMPDIR (or /tmp), removed on destruction.
  [[nodiscard]] static std::expected<WorkDir, FileError> create_temporary();
  // `path` (created if missing, parents too), never removed.
  [[nodiscard]] static std::expected<WorkDir, FileError> use_existing(
      const std::filesystem::path& path);

  WorkDir(WorkDir&& other) noexcept;
  WorkDir& operator=(WorkDir&&) = delete;
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;
  ~WorkDir();

  const std::filesystem::path& path() const { return path_; }

 private:
  WorkDir(std::filesystem::path path, bool remove) : path_(std::move(path)), remove_(remove) {}
  std::filesystem::path path_;
  bool remove_;
};

}  // namespace pvm

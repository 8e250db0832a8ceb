// Writes Linux initramfs archives in the cpio "newc" format, and the demo
// initramfs `pvm run` boots by default.
//
// Format (Linux Documentation/driver-api/early-userspace/buffer-format.rst):
// each entry is a 110-byte ASCII header, "070701" then 13 fields of 8 hex
// digits (ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor,
// rdevmajor, rdevminor, namesize, check), then the NUL-terminated name padded
// so header + name is a multiple of 4, then the data padded to a multiple of
// 4. The archive ends with an entry named "TRAILER!!!".
//
// Callers may rely on: output that depends only on the calls made (uid, gid
// and mtime are 0, inodes numbered from 1 in call order); the kernel's
// unpacker (init/initramfs.c) creates entries in archive order without making
// parents, so every entry's parent folder must have been added first, and
// the writer refuses anything else.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pvm {

namespace guest {
// guest/counter_probe.c as built (scripts/embed.py).
extern const std::byte counter_probe[];
extern const size_t counter_probe_size;
}  // namespace guest

enum class InitramfsError {
  kBadPath,          // empty, ".", "..", empty component, or trailing '/'
  kPathTooLong,      // the kernel refuses names of PATH_MAX (4096) bytes or more
  kDuplicate,        // the path was added before
  kMissingParent,    // the parent folder was not added before
  kBadMode,          // permission bits outside 07777
  kFileTooLarge,     // data does not fit the 32-bit filesize field
  kEmptyLinkTarget,  // a symlink must point somewhere
  kFinished,         // the trailer was already written
  kCompression,      // zlib failed (or the input exceeds its 4 GiB limit)
};

std::string_view to_string(InitramfsError error);

class InitramfsWriter {
 public:
  // Paths are absolute or relative to the archive root ("/bin" == "bin");
  // they are stored without the leading '/'. `mode` is the permission bits
  // only; the file type comes from the call.
  [[nodiscard]] std::expected<void, InitramfsError> add_directory(std::string_view path,
                                                                  uint32_t mode = 0755);
  [[nodiscard]] std::expected<void, InitramfsError> add_file(std::string_view path,
                                                             std::span<const uint8_t> data,
                                                             uint32_t mode = 0644);
  [[nodiscard]] std::expected<void, InitramfsError> add_char_device(std::string_view path,
                                                                    uint32_t major,
                                                                    uint32_t minor,
                                                                    uint32_t mode = 0600);
  [[nodiscard]] std::expected<void, InitramfsError> add_symlink(std::string_view path,
                                                                std::string_view target);

  // Appends the trailer and returns the archive; the writer is then spent
  // (further calls fail with kFinished).
  [[nodiscard]] std::expected<std::vector<uint8_t>, InitramfsError> finish();

 private:
  struct Header {
    uint32_t mode = 0;  // type and permission bits, as in st_mode
    uint32_t nlink = 1;
    uint32_t rdev_major = 0;
    uint32_t rdev_minor = 0;
  };
  std::expected<std::string, InitramfsError> check_new_path(std::string_view path) const;
  std::expected<void, InitramfsError> add(std::string_view path, Header header,
                                          std::span<const uint8_t> data, bool is_directory);
  void append_entry(uint32_t ino, const Header& header, std::string_view name,
                    std::span<const uint8_t> data);

  std::vector<uint8_t> out_;
  std::map<std::string, bool, std::less<>> entries_;  // path -> is a directory
  uint32_t next_ino_ = 1;
  bool finished_ = false;
};

// counter-probe (guest/counter_probe.c): a static arm64 Linux program that
// prints "pvm-guest: reached /init at counter tick N (F Hz)", the virtual
// counter since reset, and exits. Built with the CLI and embedded in it.
std::span<const uint8_t> counter_probe_program();

// The /init script of the demo initramfs: a busybox shell script whose every
// line of output starts with "pvm-guest: ". It runs /bin/counter-probe first,
// so the first line starts "pvm-guest: reached /init at counter tick "; the
// last is "pvm-guest: powering off" before it powers the VM off.
std::string_view demo_init_script();

// The demo initramfs: /bin, /dev, /proc, /sys, /dev/console (char 5:1, 0600),
// /bin/busybox (0755, the given static busybox), /bin/counter-probe (0755,
// counter_probe_program()) and /init (0755, demo_init_script()).
[[nodiscard]] std::expected<std::vector<uint8_t>, InitramfsError> build_demo_initramfs(
    std::span<const uint8_t> busybox);

// `data` as a gzip member (RFC 1952), deflate level 9: the compressed
// initramfs format Linux accepts (CONFIG_RD_GZIP).
[[nodiscard]] std::expected<std::vector<uint8_t>, InitramfsError> gzip(std::span<const uint8_t> data);

}  // namespace pvm

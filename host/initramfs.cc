#include "initramfs.h"

#include <zlib.h>

#include <array>

namespace pvm {
namespace {

// st_mode file types (POSIX <sys/stat.h>; the same values cpio stores).
constexpr uint32_t kTypeDirectory = 0040000;
constexpr uint32_t kTypeCharDevice = 0020000;
constexpr uint32_t kTypeRegular = 0100000;
constexpr uint32_t kTypeSymlink = 0120000;
constexpr uint32_t kPermissionMask = 07777;

constexpr size_t kPathMax = 4096;  // Linux PATH_MAX, counting the NUL
constexpr std::string_view kMagic = "070701";
constexpr std::string_view kTrailer = "TRAILER!!!";

void append_hex8(std::vector<uint8_t>& out, uint32_t value) {
  constexpr std::string_view kDigits = "0123456789ABCDEF";
  for (int shift = 28; shift >= 0; shift -= 4) {
    out.push_back(static_cast<uint8_t>(kDigits[(value >> shift) & 0xf]));
  }
}

void pad_to_4(std::vector<uint8_t>& out) {
  while (out.size() % 4 != 0) out.push_back(0);
}

}  // namespace

std::string_view to_string(InitramfsError error) {
  switch (error) {
    case InitramfsError::kBadPath: return "bad path";
    case InitramfsError::kPathTooLong: return "path too long";
    case InitramfsError::kDuplicate: return "path added twice";
    case InitramfsError::kMissingParent: return "parent folder not added first";
    case InitramfsError::kBadMode: return "mode has bits outside 07777";
    case InitramfsError::kFileTooLarge: return "file larger than 4 GiB";
    case InitramfsError::kEmptyLinkTarget: return "empty symlink target";
    case InitramfsError::kFinished: return "archive already finished";
    case InitramfsError::kCompression: return "gzip compression failed";
  }
  return "unknown initramfs error";
}

std::expected<std::string, InitramfsError> InitramfsWriter::check_new_path(
    std::string_view path) const {
  if (finished_) return std::unexpected(InitramfsError::kFinished);
  if (path.starts_with('/')) path.remove_prefix(1);
  if (path.empty() || path.ends_with('/')) return std::unexpected(InitramfsError::kBadPath);
  if (path.size() >= kPathMax) return std::unexpected(InitramfsError::kPathTooLong);
  // Every component must be a plain name.
  for (size_t start = 0; start <= path.size();) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == ".." || part.find('\0') != part.npos) {
      return std::unexpected(InitramfsError::kBadPath);
    }
    start = end + 1;
  }
  if (entries_.contains(path)) return std::unexpected(InitramfsError::kDuplicate);
  size_t slash = path.rfind('/');
  if (slash != std::string_view::npos) {
    auto parent = entries_.find(path.substr(0, slash));
    if (parent == entries_.end() || !parent->second) {
      return std::unexpected(InitramfsError::kMissingParent);
    }
  }
  return std::string(path);
}

std::expected<void, InitramfsError> InitramfsWriter::add(std::string_view path, Header header,
                                                         std::span<const uint8_t> data,
                                                         bool is_directory) {
  auto name = check_new_path(path);
  if (!name) return std::unexpected(name.error());
  if (data.size() > UINT32_MAX) return std::unexpected(InitramfsError::kFileTooLarge);
  append_entry(next_ino_++, header, *name, data);
  entries_.emplace(std::move(*name), is_directory);
  return {};
}

void InitramfsWriter::append_entry(uint32_t ino, const Header& header, std::string_view name,
                                   std::span<const uint8_t> data) {
  out_.insert(out_.end(), kMagic.begin(), kMagic.end());
  const std::array<uint32_t, 13> fields = {
      ino,
      header.mode,
      0,  // uid
      0,  // gid
      header.nlink,
      0,  // mtime: fixed, so archives are reproducible
      static_cast<uint32_t>(data.size()),
      0,  // devmajor
      0,  // devminor
      header.rdev_major,
      header.rdev_minor,
      static_cast<uint32_t>(name.size() + 1),  // namesize counts the NUL
      0,  // check: only used by the "070702" format
  };
  for (uint32_t field : fields) append_hex8(out_, field);
  out_.insert(out_.end(), name.begin(), name.end());
  out_.push_back(0);
  pad_to_4(out_);
  out_.insert(out_.end(), data.begin(), data.end());
  pad_to_4(out_);
}

std::expected<void, InitramfsError> InitramfsWriter::add_directory(std::string_view path,
                                                                   uint32_t mode) {
  if ((mode & ~kPermissionMask) != 0) return std::unexpected(InitramfsError::kBadMode);
  return add(path, Header{.mode = kTypeDirectory | mode, .nlink = 2}, {}, true);
}

std::expected<void, InitramfsError> InitramfsWriter::add_file(std::string_view path,
                                                              std::span<const uint8_t> data,
                                                              uint32_t mode) {
  if ((mode & ~kPermissionMask) != 0) return std::unexpected(InitramfsError::kBadMode);
  return add(path, Header{.mode = kTypeRegular | mode}, data, false);
}

std::expected<void, InitramfsError> InitramfsWriter::add_char_device(std::string_view path,
                                                                     uint32_t major,
                                                                     uint32_t minor,
                                                                     uint32_t mode) {
  if ((mode & ~kPermissionMask) != 0) return std::unexpected(InitramfsError::kBadMode);
  return add(path,
             Header{.mode = kTypeCharDevice | mode, .rdev_major = major, .rdev_minor = minor},
             {}, false);
}

std::expected<void, InitramfsError> InitramfsWriter::add_symlink(std::string_view path,
                                                                 std::string_view target) {
  if (target.empty()) return std::unexpected(InitramfsError::kEmptyLinkTarget);
  // init/initramfs.c refuses link bodies longer than PATH_MAX.
  if (target.size() >= kPathMax) return std::unexpected(InitramfsError::kPathTooLong);
  // The link target is the entry's data, without a NUL.
  std::span<const uint8_t> body(reinterpret_cast<const uint8_t*>(target.data()), target.size());
  return add(path, Header{.mode = kTypeSymlink | 0777}, body, false);
}

std::expected<std::vector<uint8_t>, InitramfsError> InitramfsWriter::finish() {
  if (finished_) return std::unexpected(InitramfsError::kFinished);
  finished_ = true;
  // The trailer as GNU cpio and the kernel's gen_init_cpio write it.
  append_entry(0, Header{.mode = 0, .nlink = 1}, kTrailer, {});
  return std::move(out_);
}

std::span<const uint8_t> counter_probe_program() {
  return {reinterpret_cast<const uint8_t*>(guest::counter_probe), guest::counter_probe_size};
}

std::string_view demo_init_script() {
  // Runs as PID 1 with the console on stdin/stdout (needs /dev/console).
  // Words are left unquoted where the shell should join lines with spaces.
  return R"script(#!/bin/busybox sh
/bin/counter-probe
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
echo "pvm-guest: kernel $(uname -r)"
echo "pvm-guest: cmdline $(cat /proc/cmdline)"
echo "pvm-guest:" $(grep MemTotal /proc/meminfo)
echo "pvm-guest: device-tree:" $(ls /proc/device-tree)
if [ -d /proc/device-tree/chosen ]; then
  echo "pvm-guest: chosen:" $(ls /proc/device-tree/chosen)
fi
if [ -d /proc/device-tree/reserved-memory ]; then
  echo "pvm-guest: reserved-memory: present"
else
  echo "pvm-guest: reserved-memory: absent"
fi
echo "pvm-guest: powering off"
poweroff -f
)script";
}

std::expected<std::vector<uint8_t>, InitramfsError> gzip(std::span<const uint8_t> data) {
  if (data.size() > UINT32_MAX) return std::unexpected(InitramfsError::kCompression);
  z_stream z{};
  // windowBits 15 + 16: a gzip header and trailer (zlib.h, deflateInit2).
  if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) {
    return std::unexpected(InitramfsError::kCompression);
  }
  std::vector<uint8_t> out(deflateBound(&z, data.size()));
  z.next_in = const_cast<Bytef*>(data.data());
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  const size_t produced = out.size() - z.avail_out;
  deflateEnd(&z);
  if (rc != Z_STREAM_END) return std::unexpected(InitramfsError::kCompression);
  out.resize(produced);
  return out;
}

std::expected<std::vector<uint8_t>, InitramfsError> build_demo_initramfs(
    std::span<const uint8_t> busybox) {
  InitramfsWriter writer;
  std::string_view script = demo_init_script();
  std::span<const uint8_t> script_bytes(reinterpret_cast<const uint8_t*>(script.data()),
                                        script.size());
  for (auto step : {
           writer.add_directory("/bin"),
           writer.add_directory("/dev"),
           writer.add_directory("/proc", 0555),
           writer.add_directory("/sys", 0555),
           // Linux devices.txt: 5:1 is /dev/console.
           writer.add_char_device("/dev/console", 5, 1, 0600),
           writer.add_file("/bin/busybox", busybox, 0755),
           writer.add_file("/bin/counter-probe", counter_probe_program(), 0755),
           writer.add_file("/init", script_bytes, 0755),
       }) {
    if (!step) return std::unexpected(step.error());
  }
  return writer.finish();
}

}  // namespace pvm

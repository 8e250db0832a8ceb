#include "vm_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <ctime>
#include <utility>

#include "file_io.h"
#include "instance.h"  // state_dir

namespace pvm {

namespace fs = std::filesystem;

bool valid_vm_name(std::string_view name) {
  if (name.empty() || name.size() > 32) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && i > 0);
    if (!ok) return false;
  }
  return true;
}

fs::path vms_dir() { return fs::path(state_dir()) / "vms"; }
fs::path vm_dir(std::string_view name) { return vms_dir() / std::string(name); }

bool valid_record_value(std::string_view text) {
  return text.find('\n') == std::string_view::npos && text.find('\0') == std::string_view::npos;
}

namespace {

// The record's fields, in the order they are written.
enum class Kind { kText, kBool, kU64, kU32 };
struct Field {
  std::string_view key;
  Kind kind;
  std::string VmRecord::*text;
  bool VmRecord::*flag;
  uint64_t VmRecord::*u64;
  uint32_t VmRecord::*u32;
};

constexpr Field text_field(std::string_view key, std::string VmRecord::*member) {
  return {key, Kind::kText, member, nullptr, nullptr, nullptr};
}
constexpr Field flag_field(std::string_view key, bool VmRecord::*member) {
  return {key, Kind::kBool, nullptr, member, nullptr, nullptr};
}
constexpr Field u64_field(std::string_view key, uint64_t VmRecord::*member) {
  return {key, Kind::kU64, nullptr, nullptr, member, nullptr};
}
constexpr Field u32_field(std::string_view key, uint32_t VmRecord::*member) {
  return {key, Kind::kU32, nullptr, nullptr, nullptr, member};
}

const Field kFields[] = {
    text_field("name", &VmRecord::name),
    text_field("created", &VmRecord::created),
    text_field("kernel_source", &VmRecord::kernel_source),
    text_field("initrd_source", &VmRecord::initrd_source),
    flag_field("has_initrd", &VmRecord::has_initrd),
    text_field("cmdline", &VmRecord::cmdline),
    u64_field("mem_mib", &VmRecord::mem_mib),
    u32_field("cpus", &VmRecord::cpus),
    flag_field("debug", &VmRecord::debug),
    flag_field("pin_software", &VmRecord::pin_software),
    text_field("signing", &VmRecord::signing),
    text_field("key_source", &VmRecord::key_source),
    text_field("algorithm", &VmRecord::algorithm),
    u64_field("rollback_index", &VmRecord::rollback_index),
};

template <typename T>
std::optional<T> decimal(std::string_view text) {
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 10);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

}  // namespace

std::string format_record(const VmRecord& record) {
  std::string out = "format=" + std::to_string(kVmRecordFormat) + "\n";
  for (const Field& f : kFields) {
    out += f.key;
    out += '=';
    switch (f.kind) {
      case Kind::kText:
        out += record.*f.text;
        break;
      case Kind::kBool:
        out += record.*f.flag ? "1" : "0";
        break;
      case Kind::kU64:
        out += std::to_string(record.*f.u64);
        break;
      case Kind::kU32:
        out += std::to_string(record.*f.u32);
        break;
    }
    out += '\n';
  }
  return out;
}

std::expected<VmRecord, std::string> parse_record(std::string_view text) {
  VmRecord record;
  bool format_seen = false;
  std::vector<bool> seen(std::size(kFields), false);
  size_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const size_t nl = text.find('\n');
    if (nl == std::string_view::npos) {
      return std::unexpected("line " + std::to_string(line_number) + ": no newline at its end");
    }
    const std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    if (line.empty() || line.front() == '#') continue;
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      return std::unexpected("line " + std::to_string(line_number) + ": not key=value");
    }
    const std::string_view key = line.substr(0, eq), value = line.substr(eq + 1);
    if (key == "format") {
      if (value != std::to_string(kVmRecordFormat)) {
        return std::unexpected("format " + std::string(value) + " (this pvm reads format " +
                               std::to_string(kVmRecordFormat) + ")");
      }
      format_seen = true;
      continue;
    }
    const auto* field = std::find_if(std::begin(kFields), std::end(kFields),
                                     [&](const Field& f) { return f.key == key; });
    if (field == std::end(kFields))
      return std::unexpected("unknown key '" + std::string(key) + "'");
    const size_t index = static_cast<size_t>(field - std::begin(kFields));
    if (seen[index]) return std::unexpected("key '" + std::string(key) + "' twice");
    seen[index] = true;
    const std::string bad = "key '" + std::string(key) + "': bad value";
    switch (field->kind) {
      case Kind::kText:
        if (value.find('\0') != std::string_view::npos) return std::unexpected(bad);
        record.*field->text = std::string(value);
        break;
      case Kind::kBool:
        if (value != "0" && value != "1") return std::unexpected(bad);
        record.*field->flag = value == "1";
        break;
      case Kind::kU64: {
        auto n = decimal<uint64_t>(value);
        if (!n) return std::unexpected(bad);
        record.*field->u64 = *n;
        break;
      }
      case Kind::kU32: {
        auto n = decimal<uint32_t>(value);
        if (!n) return std::unexpected(bad);
        record.*field->u32 = *n;
        break;
      }
    }
  }
  if (!format_seen) return std::unexpected("no format line");
  for (size_t i = 0; i < seen.size(); ++i) {
    if (!seen[i]) return std::unexpected("key '" + std::string(kFields[i].key) + "' missing");
  }
  if (!valid_vm_name(record.name)) return std::unexpected("key 'name': bad value");
  if (record.mem_mib < kVmMinMemMib || record.mem_mib > kVmMaxMemMib ||
      record.mem_mib % kVmMemStepMib != 0) {
    return std::unexpected("key 'mem_mib': bad value");
  }
  if (record.cpus == 0 || record.cpus > kVmMaxCpus) return std::unexpected("key 'cpus': bad value");
  if (record.has_initrd != !record.initrd_source.empty()) {
    return std::unexpected("keys 'has_initrd' and 'initrd_source' disagree");
  }
  return record;
}

std::expected<VmRecord, std::string> load_record(std::string_view name) {
  const fs::path path = vm_dir(name) / kVmRecordFile;
  auto bytes = read_file(path, 64 * 1024);
  if (!bytes) return std::unexpected(path.string() + ": " + to_string(bytes.error()));
  auto record =
      parse_record(std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()));
  if (!record) return std::unexpected(path.string() + ": " + record.error());
  if (record->name != name) {
    return std::unexpected(path.string() + ": names VM '" + record->name + "'");
  }
  return record;
}

std::vector<std::string> list_vm_names() {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(vms_dir(), ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!valid_vm_name(name)) continue;  // staging folders (".NAME.XXXXXX") and strays
    std::error_code exists_ec;
    if (fs::exists(it->path() / kVmRecordFile, exists_ec)) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

namespace {

// An OFD write lock over the whole file (Linux fcntl(2) "Open file
// description locks"): owned by the open file, not the process, so it
// conflicts within one process too and never goes away by closing another
// descriptor of the same file.
struct flock whole_file_lock(short type) {
  struct flock lock {};
  lock.l_type = type;
  lock.l_whence = SEEK_SET;
  lock.l_start = 0;
  lock.l_len = 0;
  lock.l_pid = 0;  // must be 0 for OFD locks
  return lock;
}

}  // namespace

VmRunState vm_run_state(const fs::path& dir) {
  VmRunState state;
  const int fd = ::open((dir / kVmLockFile).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return state;  // never started
  struct flock lock = whole_file_lock(F_WRLCK);
  const bool asked = ::fcntl(fd, F_OFD_GETLK, &lock) == 0;
  ::close(fd);
  if (!asked || lock.l_type == F_UNLCK) return state;
  state.running = true;
  if (auto bytes = read_file(dir / kVmPidFile, 64)) {
    std::string_view text(reinterpret_cast<const char*>(bytes->data()), bytes->size());
    while (text.ends_with('\n')) text.remove_suffix(1);
    // Only a real process: kill(0) or kill(-1) would signal a whole group.
    if (auto pid = decimal<pid_t>(text); pid && *pid > 0) state.pid = *pid;
  }
  return state;
}

std::expected<VmLock, VmLock::Error> VmLock::take(const fs::path& dir) {
  const int fd = ::open((dir / kVmLockFile).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return std::unexpected(Error::kFailed);
  struct flock lock = whole_file_lock(F_WRLCK);
  if (::fcntl(fd, F_OFD_SETLK, &lock) != 0) {
    const bool held = errno == EAGAIN || errno == EACCES;
    ::close(fd);
    return std::unexpected(held ? Error::kHeld : Error::kFailed);
  }
  return VmLock(fd);
}

VmLock::VmLock(VmLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

VmLock::~VmLock() {
  if (fd_ >= 0) ::close(fd_);  // drops the lock
}

std::string utc_timestamp(int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace pvm

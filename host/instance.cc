#include "instance.h"

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>

#include "avb_crypto.h"  // random_bytes
#include "file_io.h"

namespace pvm {

namespace fs = std::filesystem;

std::string state_dir() {
  if (const char* state = std::getenv("PVM_STATE"); state != nullptr && *state != '\0') {
    return state;
  }
  const char* home = std::getenv("HOME");
  return (fs::path(home != nullptr && *home != '\0' ? home : ".") / ".local/share/pvm").string();
}

bool valid_instance_name(std::string_view name) {
  if (name.empty() || name.size() > 64 || name.front() == '.') return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::expected<std::vector<uint8_t>, std::string> create_instance_id_file(const std::string& path) {
  auto random = avb::random_bytes(kInstanceIdBytes);
  if (!random) return std::unexpected(std::string("random: ") + to_string(random.error()));
  if (auto w = write_new_private_file(path, *random); !w) {
    return std::unexpected(path + ": " + to_string(w.error()));
  }
  return std::move(*random);
}

std::expected<std::vector<uint8_t>, std::string> read_instance_id_file(const std::string& path) {
  auto bytes = read_file(path, 4096);
  if (!bytes) return std::unexpected(path + ": " + to_string(bytes.error()));
  if (bytes->size() != kInstanceIdBytes) {
    return std::unexpected(path + ": not a 64-byte instance id");
  }
  return std::move(*bytes);
}

std::expected<Instance, std::string> load_instance(std::string_view name, bool create) {
  if (!valid_instance_name(name)) {
    return std::unexpected("instance name '" + std::string(name) +
                           "': use letters, digits, '.', '_' and '-' (at most 64)");
  }
  const fs::path path = fs::path(state_dir()) / "instances" / std::string(name);
  Instance out;
  if (!fs::exists(path)) {
    if (!create) return std::unexpected(path.string() + ": no such instance");
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    if (ec) return std::unexpected(path.parent_path().string() + ": " + ec.message());
    if (auto made = create_instance_id_file(path.string()); !made) {
      return std::unexpected(made.error());
    }
    out.created = true;
  }
  auto id = read_instance_id_file(path.string());
  if (!id) return std::unexpected(id.error());
  out.id = std::move(*id);
  return out;
}

}  // namespace pvm

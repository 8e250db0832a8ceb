#include "instance_disk.h"

#include <span>
#include <vector>

#include "file_io.h"
#include "instance/gpt.h"

namespace pvm {

std::expected<void, std::string> make_instance_disk(const std::string& path) {
  std::vector<std::byte> image(kInstanceDiskBytes);
  // The largest vm-instance partition a disk of this size holds, at
  // instance/'s fixed place (format_disk: LBA 2048, the backup GPT after it).
  constexpr uint64_t kSectors = kInstanceDiskBytes / instance::kSectorSize;
  constexpr uint64_t kPartitionSectors = kSectors - instance::disk_sectors_for(0);
  static_assert(instance::disk_sectors_for(kPartitionSectors) == kSectors);
  if (auto formatted = instance::format_disk(image, kPartitionSectors); !formatted) {
    return std::unexpected(path + ": " + std::string(instance::to_string(formatted.error().error)) +
                           (formatted.error().detail.empty()
                                ? std::string()
                                : ": " + std::string(formatted.error().detail)));
  }
  auto written = write_new_private_file(
      path, std::span(reinterpret_cast<const uint8_t*>(image.data()), image.size()));
  if (!written) return std::unexpected(path + ": " + to_string(written.error()));
  return {};
}

}  // namespace pvm

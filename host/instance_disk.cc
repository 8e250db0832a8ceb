#include "instance_disk.h"

#include <span>
#include <vector>

#include "file_io.h"

// instance/'s headers are on the include path exactly when host/meson.build
// links instance_dep.
#if __has_include(<instance/gpt.h>)
#define PVM_HAVE_INSTANCE_LIB 1
#include <instance/gpt.h>
#else
#define PVM_HAVE_INSTANCE_LIB 0
#endif

namespace pvm {

std::expected<void, std::string> make_instance_disk(const std::string& path) {
  std::vector<std::byte> image(kInstanceDiskBytes);
#if PVM_HAVE_INSTANCE_LIB
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
#else
  // FALLBACK, until instance/ (the instance disk library) is in the build
  // (host/meson.build then links instance_dep): a zero-filled
  // disk, which pvmfw will refuse (NO_GPT) once it reads one.
#endif
  auto written = write_new_private_file(
      path, std::span(reinterpret_cast<const uint8_t*>(image.data()), image.size()));
  if (!written) return std::unexpected(path + ": " + to_string(written.error()));
  return {};
}

}  // namespace pvm

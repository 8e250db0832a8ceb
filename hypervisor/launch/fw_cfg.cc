#include "launch/fw_cfg.h"

#include "base/reader.h"

namespace launch::fw_cfg {
namespace {

// True when the entry's name field is exactly `name` followed by a NUL
// (`name` is shorter than the field: the caller checked).
bool name_matches(std::span<const std::byte> field, std::string_view name) {
  for (size_t i = 0; i < name.size(); ++i) {
    if (field[i] != static_cast<std::byte>(name[i])) return false;
  }
  return field[name.size()] == std::byte{0};
}

}  // namespace

std::expected<std::optional<File>, Error> find_file(std::span<const std::byte> dir,
                                                    std::string_view name) {
  if (name.empty() || name.size() >= kDirNameSize) return std::unexpected(Error::kBadFileName);
  base::Reader r(dir);
  auto count = r.be32();
  if (!count) return std::unexpected(Error::kDirectoryTruncated);
  // Every entry must be inside `dir` before any is looked at.
  if (uint64_t{*count} * kDirEntrySize > r.remaining()) {
    return std::unexpected(Error::kDirectoryCount);
  }
  std::optional<File> found;
  for (uint32_t i = 0; i < *count; ++i) {
    auto size = r.be32();
    auto select = r.bytes(2);
    auto reserved = r.bytes(2);
    auto field = r.bytes(kDirNameSize);
    // Not reached (the count fits), but no read is assumed to succeed.
    if (!size || !select || !reserved || !field) return std::unexpected(Error::kDirectoryCount);
    if (!name_matches(*field, name)) continue;
    if (found) return std::unexpected(Error::kDuplicateFile);
    const auto selector = static_cast<uint16_t>((std::to_integer<uint16_t>((*select)[0]) << 8) |
                                                std::to_integer<uint16_t>((*select)[1]));
    if (selector < kFileFirst || selector > kFileLast) return std::unexpected(Error::kBadSelect);
    found = File{.select = selector, .size = *size};
  }
  return found;
}

FileSizes LaunchFiles::sizes() const {
  const auto size = [](const std::optional<File>& f) -> std::optional<uint64_t> {
    if (!f) return std::nullopt;
    return f->size;
  };
  return FileSizes{.launch = size(launch),
                   .pvmfw_image = size(pvmfw_image),
                   .dt = size(dt),
                   .payload = size(payload),
                   .initrd = size(initrd),
                   .uds = size(uds)};
}

std::expected<LaunchFiles, Refusal> find_launch_files(std::span<const std::byte> dir) {
  LaunchFiles files;
  struct Wanted {
    std::string_view name;
    std::optional<File>& slot;
  };
  for (const Wanted& w :
       {Wanted{kFileLaunch, files.launch}, Wanted{kFilePvmfwImage, files.pvmfw_image},
        Wanted{kFileDt, files.dt}, Wanted{kFilePayload, files.payload},
        Wanted{kFileInitrd, files.initrd}, Wanted{kFileUds, files.uds}}) {
    auto found = find_file(dir, w.name);
    if (!found) {
      const bool about_the_file =
          found.error() == Error::kDuplicateFile || found.error() == Error::kBadSelect;
      return std::unexpected(Refusal{found.error(), about_the_file ? w.name : std::string_view{}});
    }
    w.slot = *found;
  }
  return files;
}

}  // namespace launch::fw_cfg

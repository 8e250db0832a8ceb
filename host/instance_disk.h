// A VM's instance disk (`pvm create`): the raw image QEMU hands the VM as a
// virtio-blk device, in which pvmfw keeps the instance's sealed entry
// (instance/: a GPT disk with one "vm-instance" partition).
//
// Callers may rely on: the file is new (an existing one is refused, never
// overwritten), kInstanceDiskBytes long, mode 0600.
#pragma once

#include <cstdint>
#include <expected>
#include <string>

namespace pvm {

inline constexpr uint64_t kInstanceDiskBytes = 2 * 1024 * 1024;

// Writes a fresh instance disk to `path`. The error is "PATH: reason".
[[nodiscard]] std::expected<void, std::string> make_instance_disk(const std::string& path);

}  // namespace pvm

// The VM instances `pvm run` boots. Each instance has a 64-byte instance id,
// which pvm run writes to the VM device tree as /avf/untrusted/instance-id
// (as AVF's VMM does) and from which pvmfw derives the instance's salt
// (dice/pvmfw.h set_instance): the same instance gets the same DICE secrets
// on every boot, another instance of the same payload other ones.
//
// Instances live in the state folder ($PVM_STATE, or ~/.local/share/pvm):
// instances/NAME holds the raw 64 bytes, made from the system's random
// source on first use (mode 0600, never overwritten).
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

namespace pvm {

inline constexpr size_t kInstanceIdBytes = 64;
inline constexpr std::string_view kDefaultInstance = "default";

// $PVM_STATE, or ~/.local/share/pvm.
std::string state_dir();

// Letters, digits, '.', '_' and '-', 1..64 characters, not starting with '.'.
bool valid_instance_name(std::string_view name);

// A fresh instance id (kInstanceIdBytes from the system's random source)
// written to `path`, which must not exist (mode 0600). The error is
// "PATH: reason".
[[nodiscard]] std::expected<std::vector<uint8_t>, std::string> create_instance_id_file(
    const std::string& path);
// The instance id kept in `path`: exactly kInstanceIdBytes bytes.
[[nodiscard]] std::expected<std::vector<uint8_t>, std::string> read_instance_id_file(
    const std::string& path);

struct Instance {
  std::vector<uint8_t> id;  // kInstanceIdBytes
  bool created = false;     // made by this call
};
// The instance NAME's id; with `create`, made when absent.
[[nodiscard]] std::expected<Instance, std::string> load_instance(std::string_view name,
                                                                 bool create);

}  // namespace pvm

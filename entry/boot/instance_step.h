// The instance disk step of the boot sequence (docs/instance.md): find the
// virtio-blk device among the validated virtio-mmio transports, share only
// the two bounce pages with the host, read and update pvmfw's sealed entry
// (instance/), reset the device and take the pages back. Internal to
// entry/boot/.
#pragma once

#include <cstdint>
#include <expected>
#include <span>

#include "board/board.h"
#include "boot/boot.h"
#include "dice/types.h"
#include "fdt/tree.h"
#include "fdt/validate.h"
#include "hvc/kvm.h"
#include "memory/tracker.h"

namespace boot {

struct InstanceContext {
  const Platform& platform;
  const board::Board& board;
  const fdt::VmPlatform& vm;
  hvc::Conduit conduit;
  const hvc::Hypervisor& hypervisor;
  memory::Tracker& ledger;
  const fdt::Tree* tree = nullptr;  // for the kInstanceWrite test-hook stage
};

struct InstanceMeasurements {
  dice::Hash code_hash{};
  dice::Hash authority_hash{};
  bool debug = false;
  uint64_t rollback_index = 0;
  uint32_t create_flags = 0;  // from the tree (/avf/untrusted/pvm,pin-software)
};

struct InstanceResult {
  bool disk = false;          // an instance disk was found and checked
  bool new_instance = false;  // first boot: /chosen/avf,new-instance
};

// Prints one line about what it found or did. Refusals: INVALID_INSTANCE_IMAGE
// (no usable disk contents), INSTANCE_IMAGE_MISMATCH, ROLLBACK.
[[nodiscard]] std::expected<InstanceResult, Failure> check_instance(
    const InstanceContext& c, std::span<const uint8_t, 32> cdi_seal,
    std::span<const uint8_t, 64> instance_hash, const InstanceMeasurements& m);

}  // namespace boot

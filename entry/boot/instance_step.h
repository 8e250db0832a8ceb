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
#include "fdt/tree.h"
#include "fdt/validate.h"
#include "hvc/kvm.h"
#include "instance/policy.h"
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

struct InstanceResult {
  bool disk = false;          // an instance disk was found and checked
  bool new_instance = false;  // first boot: /chosen/avf,new-instance
};

// Checks `measured` against the instance disk's entry, and records it (with
// `create_flags`, from /avf/untrusted/pvm,pin-software, at the first boot).
// Prints one line about what it found or did. Refusals: INVALID_INSTANCE_IMAGE
// (no usable disk contents), INSTANCE_IMAGE_MISMATCH, ROLLBACK.
[[nodiscard]] std::expected<InstanceResult, Failure> check_instance(
    const InstanceContext& c, std::span<const uint8_t, 32> cdi_seal,
    std::span<const uint8_t, 64> instance_hash, const instance::Measured& measured,
    uint32_t create_flags);

}  // namespace boot

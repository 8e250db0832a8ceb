// The one call pvmfw makes: read the instance disk, apply the policy, write
// the entry forward when the policy says so, and say what happened.
#pragma once

#include <array>
#include <cstdint>
#include <expected>
#include <optional>

#include "instance/block_device.h"
#include "instance/error.h"
#include "instance/gpt.h"
#include "instance/image.h"
#include "instance/policy.h"

namespace instance {

struct Outcome {
  Verdict verdict = Verdict::kSame;   // kNew / kUpdate: `entry` was written (and read back)
  Entry entry;                        // the current entry after the call
  std::optional<Entry> previous;      // the entry read from the disk (none for kNew)
  Slot slot = Slot::kA;               // the slot holding `entry`
  std::array<SlotStatus, 2> slots{};  // both slots as read, before any write
  bool code_changed = false;          // kUpdate: previous->code_hash -> entry.code_hash
  bool rollback_raised = false;       // kUpdate: previous->rollback_index -> entry.rollback_index
  Partition partition;
};

// find_instance_partition, check_instance_header, derive_key(cdi_seal),
// read_entries(instance_hash), decide(measured, create_flags), then for
// kNew (slot A) and kUpdate (the slot not holding the current entry)
// write_entry with a nonce from fill_random. A write cut short leaves the
// current entry intact in its slot. The key is wiped before returning, on
// every path. Refusals: those of each step (error.h); INVALID_ARGUMENT for
// a null fill_random.
[[nodiscard]] std::expected<Outcome, Refusal> check_and_update(
    const BlockDevice& dev, CdiSealView cdi_seal, InstanceHashView instance_hash,
    const Measured& measured, uint32_t create_flags, FillRandom fill_random);

}  // namespace instance

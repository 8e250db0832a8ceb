// pvmfw's instance policy, a pure function of the stored entry and the boot
// it measured (README.md, "Policy"). No I/O, no keys.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string_view>

#include "instance/error.h"
#include "instance/image.h"

namespace instance {

// What pvmfw measured on this boot (the verified payload's hashes, its DICE
// mode and the AVB rollback index).
struct Measured {
  Hash code_hash{};
  Hash authority_hash{};
  Mode mode = Mode::kNormal;
  uint64_t rollback_index = 0;
};

enum class Verdict : uint8_t {
  kNew,     // no stored entry: record `next` (sequence 1, the create-time flags); the caller
            // sets /chosen/avf,new-instance
  kSame,    // the stored entry stands: nothing to write
  kUpdate,  // write `next` forward (sequence + 1): a new code hash, a higher rollback index,
            // or both
};
[[nodiscard]] std::string_view to_string(Verdict verdict);  // "new", "same", "update"

struct Decision {
  Verdict verdict = Verdict::kSame;
  Entry next;  // the entry to write (kNew, kUpdate), or the stored one (kSame)
  bool code_changed = false;
  bool rollback_raised = false;
};

// The rules, in order, when an entry is stored:
//   1. another authority hash          -> INSTANCE_IMAGE_MISMATCH "authority"
//   2. another mode                    -> INSTANCE_IMAGE_MISMATCH "mode"
//   3. a rollback index below stored   -> ROLLBACK
//   4. another code hash, pinned entry -> INSTANCE_IMAGE_MISMATCH "pinned software changed"
//   5. the same code and rollback index -> kSame; otherwise kUpdate with the
//      new code hash and the measured (so never lower) rollback index; flags
//      stay as stored (create_flags are used for kNew only: sealed at first
//      boot, never relaxed).
// INVALID_ARGUMENT for unknown create_flags bits ("create flags") or a
// measured mode other than normal/debug ("mode"); INSTANCE_IMAGE_CORRUPT
// "sequence exhausted" when the stored sequence cannot grow.
[[nodiscard]] std::expected<Decision, Refusal> decide(const std::optional<Entry>& stored,
                                                      const Measured& measured,
                                                      uint32_t create_flags);

}  // namespace instance

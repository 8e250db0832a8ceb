#include "instance/instance.h"

namespace instance {

std::expected<Outcome, Refusal> check_and_update(const BlockDevice& dev, CdiSealView cdi_seal,
                                                 InstanceHashView instance_hash,
                                                 const Measured& measured, uint32_t create_flags,
                                                 FillRandom fill_random) {
  if (fill_random == nullptr)
    return std::unexpected(Refusal{Error::kInvalidArgument, "fill_random"});
  auto partition = find_instance_partition(dev);
  if (!partition) return std::unexpected(partition.error());
  if (auto header = check_instance_header(dev, *partition); !header) {
    return std::unexpected(header.error());
  }

  Key key;  // wiped by its destructor on every return below
  if (auto derived = derive_key(cdi_seal, key); !derived) return std::unexpected(derived.error());
  auto stored = read_entries(dev, *partition, key.span(), instance_hash);
  if (!stored) return std::unexpected(stored.error());
  auto decision = decide(stored->current, measured, create_flags);
  if (!decision) return std::unexpected(decision.error());

  Outcome out;
  out.verdict = decision->verdict;
  out.entry = decision->next;
  out.previous = stored->current;
  out.slot = stored->slot;
  out.slots = stored->slots;
  out.code_changed = decision->code_changed;
  out.rollback_raised = decision->rollback_raised;
  out.partition = *partition;
  if (decision->verdict == Verdict::kSame) return out;

  out.slot = stored->current ? other(stored->slot) : Slot::kA;
  auto written =
      write_entry(dev, *partition, key.span(), instance_hash, out.slot, out.entry, fill_random);
  if (!written) return std::unexpected(written.error());
  return out;
}

}  // namespace instance

#include "instance/policy.h"

namespace instance {
namespace {

}  // namespace

std::string_view to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::kNew:
      return "new";
    case Verdict::kSame:
      return "same";
    case Verdict::kUpdate:
      return "update";
  }
  return "unknown";
}

std::expected<Decision, Refusal> decide(const std::optional<Entry>& stored,
                                        const Measured& measured, uint32_t create_flags) {
  if ((create_flags & ~kKnownFlags) != 0) return refuse(Error::kInvalidArgument, "create flags");
  if (measured.mode != Mode::kNormal && measured.mode != Mode::kDebug) {
    return refuse(Error::kInvalidArgument, "mode");
  }
  if (!stored) {
    return Decision{.verdict = Verdict::kNew,
                    .next = Entry{.flags = create_flags,
                                  .sequence = 1,
                                  .rollback_index = measured.rollback_index,
                                  .mode = measured.mode,
                                  .code_hash = measured.code_hash,
                                  .authority_hash = measured.authority_hash},
                    .code_changed = false,
                    .rollback_raised = false};
  }
  const Entry& s = *stored;
  if (s.authority_hash != measured.authority_hash) {
    return refuse(Error::kInstanceImageMismatch, "authority");
  }
  if (s.mode != measured.mode) return refuse(Error::kInstanceImageMismatch, "mode");
  if (measured.rollback_index < s.rollback_index) return refuse(Error::kRollback, "below stored");
  const bool code_changed = s.code_hash != measured.code_hash;
  if (code_changed && s.pinned()) {
    return refuse(Error::kInstanceImageMismatch, "pinned software changed");
  }
  const bool rollback_raised = measured.rollback_index > s.rollback_index;
  if (!code_changed && !rollback_raised) {
    return Decision{
        .verdict = Verdict::kSame, .next = s, .code_changed = false, .rollback_raised = false};
  }
  if (s.sequence == UINT64_MAX) return refuse(Error::kInstanceImageCorrupt, "sequence exhausted");
  Entry next = s;
  next.sequence = s.sequence + 1;
  next.code_hash = measured.code_hash;
  next.rollback_index = measured.rollback_index;
  return Decision{.verdict = Verdict::kUpdate,
                  .next = next,
                  .code_changed = code_changed,
                  .rollback_raised = rollback_raised};
}

}  // namespace instance

#include "boot_stages.h"

#include <algorithm>
#include <cstdio>

#include "cli.h"  // kExitOk, kExitFailed

namespace pvm {
namespace {

struct StagePattern {
  std::string_view prefix;  // the console line starts with this
  std::string_view stage;
};

// In boot order. hyp.bin: hypervisor/el2/main.cc; pvmfw: entry/boot/boot.cc,
// entry/platform.cc.
constexpr StagePattern kStages[] = {
    {"hyp: up at EL2", "hypervisor up"},
    {"hyp: pvmfw.img verified", "pvmfw.img verified"},
    {"hyp: DICE: pvmfw's layer derived", "pvmfw's DICE inputs derived"},
    {"hyp: entering pvmfw", "pvmfw entered at EL1"},
    {"pvmfw: device tree at ", "VM device tree validated"},
    {"pvmfw: protected VM (pKVM)", "pvmfw running protected"},
    {"pvmfw: KVM without the protected-VM calls: running UNPROTECTED", "pvmfw running UNPROTECTED"},
    {"pvmfw: no protected hypervisor: running UNPROTECTED", "pvmfw running UNPROTECTED"},
    {"pvmfw: payload verified", "payload verified"},
    {"pvmfw: DICE: VM layer derived", "DICE derived"},
    {"pvmfw: device tree rebuilt", "device tree rebuilt"},
    {"pvmfw: Starting payload", "kernel entered"},
};

constexpr std::string_view kGoalReached = "goal reached";

}  // namespace

std::optional<std::string_view> stage_of(std::string_view line) {
  for (const StagePattern& p : kStages) {
    if (line.starts_with(p.prefix)) return p.stage;
  }
  return std::nullopt;
}

StageWatcher::StageWatcher(std::vector<std::string> goals)
    : goals_(std::move(goals)), goals_seen_(goals_.size(), false) {}

std::optional<std::string> StageWatcher::on_line(std::string_view line) {
  // pvmfw's instance step (entry/boot/boot.cc): "pvmfw: instance disk at
  // ADDR: OUTCOME" ("new instance, entry recorded", "same software as
  // recorded", "updated forward ...") is reported with its outcome.
  constexpr std::string_view kInstance = "pvmfw: instance disk at ";
  if (line.starts_with(kInstance) && !instance_seen_) {
    const size_t colon = line.find(": ", kInstance.size());
    if (colon != std::string_view::npos) {
      instance_seen_ = true;
      last_ = "instance disk: " + std::string(line.substr(colon + 2));
      return last_;
    }
  }
  if (auto stage = stage_of(line)) {
    if (std::find(seen_.begin(), seen_.end(), *stage) == seen_.end()) {
      seen_.push_back(*stage);
      last_ = std::string(*stage);
      return last_;
    }
    return std::nullopt;
  }
  if (goals_.empty()) return std::nullopt;
  const bool before = std::all_of(goals_seen_.begin(), goals_seen_.end(), [](bool b) { return b; });
  for (size_t i = 0; i < goals_.size(); ++i) {
    if (line.find(goals_[i]) != std::string_view::npos) goals_seen_[i] = true;
  }
  const bool after = std::all_of(goals_seen_.begin(), goals_seen_.end(), [](bool b) { return b; });
  if (before || !after) return std::nullopt;
  last_ = std::string(kGoalReached);
  return last_;
}

std::string stage_line(double seconds, std::string_view stage) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "[%5.1fs] ", seconds);
  return buf + std::string(stage);
}

std::optional<BootRefusal> parse_refusal(std::string_view line) {
  struct Who {
    std::string_view prefix;
    std::string_view by;
  };
  constexpr Who kWho[] = {{kBootFailedPrefix, "pvmfw"},
                          {kHypLaunchRefusedPrefix, "the hypervisor (launch)"},
                          {kHypImageRefusedPrefix, "the hypervisor (pvmfw.img)"}};
  for (const Who& who : kWho) {
    if (!line.starts_with(who.prefix)) continue;
    std::string_view rest = line.substr(who.prefix.size());
    while (rest.starts_with(' ')) rest.remove_prefix(1);
    return BootRefusal{std::string(who.by), std::string(rest)};
  }
  return std::nullopt;
}

namespace {

// Whether `reason` names `name` as one of its colon-separated words
// ("PAYLOAD_VERIFICATION_FAILED: PUBLIC_KEY_REJECTED: boot").
bool names(std::string_view reason, std::string_view name) {
  while (!reason.empty()) {
    while (reason.starts_with(' ')) reason.remove_prefix(1);
    const size_t colon = reason.find(':');
    std::string_view word = reason.substr(0, colon);
    while (word.ends_with(' ')) word.remove_suffix(1);
    if (word == name) return true;
    if (colon == std::string_view::npos) break;
    reason.remove_prefix(colon + 1);
  }
  return false;
}

}  // namespace

std::string refusal_hint(const BootRefusal& refusal, const VmHintContext& vm) {
  const std::string recreate =
      "re-create the VM (pvm delete " + vm.name + "; pvm create " + vm.name + " ...)";
  if (refusal.by == "pvmfw") {
    if (names(refusal.reason, "PUBLIC_KEY_REJECTED")) {
      return "payload signed by another key than pvmfw trusts (at create: " + vm.key + "); " +
             recreate + " with --sign-key set to the key pvmfw trusts, or build pvmfw " +
             "trusting this one (meson configure -Dtrusted-key=KEY.avbpubkey)";
    }
    if (names(refusal.reason, "INSTANCE_IMAGE_MISMATCH")) {
      return "the payload is not the one this instance first booted (another key, mode or, "
             "pinned, code); " +
             recreate + " for a new instance, or sign with " + vm.key + " again (pvm update " +
             vm.name + " ...)";
    }
    if (names(refusal.reason, "ROLLBACK") || names(refusal.reason, "ROLLBACK_INDEX")) {
      return "the payload's rollback index is below the one this instance has seen; sign it "
             "with a rollback index at least that high (pvm sign --rollback-index N), then "
             "pvm update " +
             vm.name + " --kernel IMG";
    }
    if (names(refusal.reason, "IMAGE_DIGEST_MISMATCH") || names(refusal.reason, "HASH_MISMATCH") ||
        names(refusal.reason, "SIGNATURE_MISMATCH") || names(refusal.reason, "INVALID_FOOTER")) {
      return "the VM's payload (vms/" + vm.name + "/kernel.img, initrd.img) changed since " +
             "create or update; pvm update " + vm.name + " ..., or " + recreate;
    }
    if (names(refusal.reason, "NO_GPT") || names(refusal.reason, "INSTANCE_IMAGE_CORRUPT") ||
        names(refusal.reason, "INSTANCE_IMAGE_INVALID") ||
        names(refusal.reason, "NO_INSTANCE_PARTITION")) {
      return "the instance disk (vms/" + vm.name + "/disk.img) is damaged or not one pvm made; " +
             recreate + " (a new instance)";
    }
    return {};
  }
  if (refusal.by == "the hypervisor (pvmfw.img)") {
    return "pvmfw.img is not what hyp.bin accepts (signed with its platform key): rebuild it, "
           "or point $PVM_PVMFW_IMG / --pvmfw-img at the build's pvmfw.img";
  }
  if (refusal.by == "the hypervisor (launch)" && names(refusal.reason, "BAD_MEMORY_SIZE")) {
    return "re-create the VM with --mem a multiple of 2, at least 16";
  }
  return {};
}

StartVerdict start_verdict(const RunResult& result, const Judgement& judgement,
                           const Expectations& expectations, const VmHintContext& vm,
                           bool stop_requested, const std::optional<std::string>& last_stage) {
  StartVerdict out;
  const std::string head = "pvm: " + vm.name + ": ";
  out.status = judgement.verdict == Verdict::kPass ? kExitOk : kExitFailed;
  const std::optional<BootRefusal> refusal =
      result.failure_line ? parse_refusal(*result.failure_line) : std::nullopt;
  if (judgement.verdict == Verdict::kPass) {
    if (expectations.expected_failure && refusal) {
      out.lines.push_back(head + "refused as expected by " + refusal->by + ": " + refusal->reason);
    } else {
      out.lines.push_back(head + "reached its goal" +
                          (stop_requested ? std::string(", then stopped by `pvm stop`") : ""));
    }
    return out;
  }
  // `pvm stop` quits QEMU over QMP, or (no answer there) signals us: either
  // way a stop, not a failure of the guest's.
  if (stop_requested && !refusal && judgement.verdict != Verdict::kTimedOut) {
    out.lines.push_back(head + "stopped by `pvm stop` before reaching its goal" +
                        (last_stage ? " (last stage: " + *last_stage + ")" : ""));
    return out;
  }
  switch (judgement.verdict) {
    case Verdict::kInterrupted:
      out.lines.push_back(head + "interrupted");
      return out;
    case Verdict::kTimedOut:
      out.lines.push_back(head + judgement.message +
                          (last_stage ? " (last stage: " + *last_stage + ")" : ""));
      return out;
    default:
      break;
  }
  if (refusal) {
    out.lines.push_back(head + "refused by " + refusal->by + ": " + refusal->reason);
    if (expectations.expected_failure) {
      out.lines.push_back(head + "expected the refusal " + *expectations.expected_failure);
    }
    if (std::string hint = refusal_hint(*refusal, vm); !hint.empty()) {
      out.lines.push_back("pvm: fix: " + hint);
    }
    return out;
  }
  out.lines.push_back(head + judgement.message);
  return out;
}

}  // namespace pvm

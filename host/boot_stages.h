// What `pvm start` tells the user while a VM boots and when it ends: the
// stages recognised on the console (the lines hyp.bin and pvmfw print,
// docs/hypervisor.md "Boot, in order", entry/boot/boot.cc), and one verdict
// with a fix when one is known.
//
// Callers may rely on: pure functions of the console lines and the run's
// judgement (qemu.h); each stage is reported once, at the first line that
// shows it; a refusal's reason is the text after the refusal prefix
// (qemu.h kFailurePrefixes), e.g. "PAYLOAD_VERIFICATION_FAILED:
// PUBLIC_KEY_REJECTED: boot".
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "qemu.h"

namespace pvm {

// The stage a console line shows, if any ("hypervisor up", "pvmfw.img
// verified", "pvmfw running protected", "payload verified", "DICE derived",
// "kernel entered", ...). StageWatcher adds pvmfw's instance step with its
// outcome ("instance disk: new instance, entry recorded").
std::optional<std::string_view> stage_of(std::string_view console_line);

// Remembers which stages were seen. on_line returns the stage to report
// for this line: a stage seen for the first time, or "goal reached" when
// the last of `goals` appears (never twice).
class StageWatcher {
 public:
  explicit StageWatcher(std::vector<std::string> goals);
  std::optional<std::string> on_line(std::string_view line);
  // The last stage reported (for "timed out after STAGE").
  const std::optional<std::string>& last() const { return last_; }

 private:
  std::vector<std::string> goals_;
  std::vector<bool> goals_seen_;
  std::vector<std::string_view> seen_;
  bool instance_seen_ = false;
  std::optional<std::string> last_;
};

// "[  0.4s] hypervisor up" (seconds with one decimal, right-aligned in 5).
std::string stage_line(double seconds, std::string_view stage);

// A refusal line split: who refused ("pvmfw", "the hypervisor (launch)",
// "the hypervisor (pvmfw.img)") and why (the rest of the line).
struct BootRefusal {
  std::string by;
  std::string reason;
};
std::optional<BootRefusal> parse_refusal(std::string_view failure_line);

// What the VM was made with, for the fixes.
struct VmHintContext {
  std::string name;
  std::string key;             // the key the payload was signed with (or checked against) at create
  bool signed_by_pvm = false;  // --sign-key (else --key)
};

// The fix for a refusal, when one is known (empty otherwise).
std::string refusal_hint(const BootRefusal& refusal, const VmHintContext& vm);

// The verdict `pvm start` prints (one or two lines, each "pvm: ...") and its
// exit status: kExitOk exactly when the judgement passed.
struct StartVerdict {
  std::vector<std::string> lines;
  int status = 1;
};
StartVerdict start_verdict(const RunResult& result, const Judgement& judgement,
                           const Expectations& expectations, const VmHintContext& vm,
                           bool stop_requested, const std::optional<std::string>& last_stage);

}  // namespace pvm

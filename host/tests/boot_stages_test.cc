#include "boot_stages.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pvm {
namespace {

// The stage lines of a protected boot, as hyp.bin and pvmfw print them.
const std::vector<std::string> kBoot = {
    "hyp: up at EL2 (hyp.bin 0.1.0), W^X",
    "hyp: pvmfw.img verified (SHA256_RSA4096, 237568-byte image, rollback index 0)",
    "hyp: DICE: pvmfw's layer derived from the device secret",
    "hyp: entering pvmfw at EL1 (VM RAM 1024 MiB, 1 vCPU, MMIO guard off)",
    "",
    "pvmfw 0.1.0 (qemu-virt): protected VM firmware, EL1",
    "pvmfw: device tree at 0x40000000 (3000 bytes) validated: RAM ...",
    "pvmfw: protected VM (pKVM): memory isolated, no MMIO guard offered",
    "pvmfw: payload verified: SHA256_RSA4096, rollback index 0, hashing: armv8",
    "pvmfw: instance disk at 0xa003e00: new instance, entry recorded",
    "pvmfw: instance disk at 0xa003e00: twice",
    "pvmfw: DICE: VM layer derived, handover 700 bytes at 0x403ff000",
    "pvmfw: device tree rebuilt from the template: 2000 bytes at 0x40000000",
    "pvmfw: Starting payload...",
    "payload: hello",
    "payload: done",
};

TEST(StageWatcher, EachStageOnceThenTheGoal) {
  StageWatcher watcher({"payload: done"});
  std::vector<std::string> stages;
  for (const std::string& line : kBoot) {
    if (auto stage = watcher.on_line(line)) stages.push_back(*stage);
  }
  EXPECT_EQ(stages,
            (std::vector<std::string>{
                "hypervisor up", "pvmfw.img verified", "pvmfw's DICE inputs derived",
                "pvmfw entered at EL1", "VM device tree validated", "pvmfw running protected",
                "payload verified", "instance disk: new instance, entry recorded", "DICE derived",
                "device tree rebuilt", "kernel entered", "goal reached"}));
  EXPECT_EQ(watcher.last(), "goal reached");
  // Nothing twice.
  EXPECT_FALSE(watcher.on_line("hyp: up at EL2 again").has_value());
  EXPECT_FALSE(watcher.on_line("payload: done").has_value());
}

TEST(StageWatcher, AllGoalsBeforeGoalReached) {
  StageWatcher watcher({"a", "b"});
  EXPECT_FALSE(watcher.on_line("b").has_value());
  EXPECT_EQ(watcher.on_line("xa"), "goal reached");
  StageWatcher none({});
  EXPECT_FALSE(none.on_line("anything").has_value());
  EXPECT_FALSE(none.last().has_value());
  EXPECT_EQ(stage_of("pvmfw: no protected hypervisor: running UNPROTECTED"),
            "pvmfw running UNPROTECTED");
  EXPECT_FALSE(stage_of(" hyp: up at EL2").has_value());
}

TEST(StageLine, Format) {
  EXPECT_EQ(stage_line(0.44, "hypervisor up"), "[  0.4s] hypervisor up");
  EXPECT_EQ(stage_line(123.46, "x"), "[123.5s] x");
}

TEST(Refusal, Parse) {
  auto r =
      parse_refusal("pvmfw: boot failed: PAYLOAD_VERIFICATION_FAILED: PUBLIC_KEY_REJECTED: boot");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->by, "pvmfw");
  EXPECT_EQ(r->reason, "PAYLOAD_VERIFICATION_FAILED: PUBLIC_KEY_REJECTED: boot");
  r = parse_refusal("hyp: pvmfw.img refused: IMAGE_DIGEST_MISMATCH");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->by, "the hypervisor (pvmfw.img)");
  EXPECT_EQ(r->reason, "IMAGE_DIGEST_MISMATCH");
  EXPECT_EQ(parse_refusal("hyp: launch refused: BAD_MEMORY_SIZE")->by, "the hypervisor (launch)");
  EXPECT_FALSE(parse_refusal("pvmfw: fine").has_value());
}

TEST(Refusal, Hints) {
  const VmHintContext vm{.name = "web", .key = "/keys/a.pem", .signed_by_pvm = true};
  auto hint = [&](std::string_view line) { return refusal_hint(*parse_refusal(line), vm); };
  const std::string key_hint =
      hint("pvmfw: boot failed: PAYLOAD_VERIFICATION_FAILED: PUBLIC_KEY_REJECTED: boot");
  EXPECT_TRUE(
      key_hint.starts_with("payload signed by another key than pvmfw trusts (at create: "
                           "/keys/a.pem); re-create the VM (pvm delete web; pvm create "
                           "web ...)"))
      << key_hint;
  EXPECT_NE(hint("pvmfw: boot failed: INSTANCE_IMAGE_MISMATCH: authority")
                .find("or sign with /keys/a.pem"),
            std::string::npos);
  EXPECT_NE(hint("pvmfw: boot failed: ROLLBACK: 1 < 2").find("--rollback-index"),
            std::string::npos);
  EXPECT_NE(hint("pvmfw: boot failed: PAYLOAD_VERIFICATION_FAILED: IMAGE_DIGEST_MISMATCH: boot")
                .find("vms/web/kernel.img"),
            std::string::npos);
  EXPECT_NE(hint("pvmfw: boot failed: NO_GPT: disk").find("vms/web/disk.img"), std::string::npos);
  EXPECT_NE(hint("hyp: pvmfw.img refused: PUBLIC_KEY_REJECTED").find("$PVM_PVMFW_IMG"),
            std::string::npos);
  // A word inside another is not the reason; unknown reasons have no hint.
  EXPECT_EQ(hint("pvmfw: boot failed: INVALID_FDT: NOT_PUBLIC_KEY_REJECTED"), "");
  EXPECT_EQ(hint("pvmfw: boot failed: INTERNAL_ERROR: x"), "");
}

RunResult ran(std::optional<std::string> failure, bool goal) {
  RunResult r;
  r.exited = true;
  r.exit_status = 0;
  r.goals_seen = {goal};
  r.failure_line = std::move(failure);
  r.timeout = std::chrono::seconds(60);
  return r;
}

TEST(StartVerdict, EachOutcome) {
  const VmHintContext vm{.name = "web", .key = "/k.pem", .signed_by_pvm = true};
  Expectations goal{.goals = {"payload: done"}, .expected_failure = std::nullopt};
  auto verdict = [&](const RunResult& r, const Expectations& e, bool stopped = false) {
    return start_verdict(r, judge(r, e), e, vm, stopped, std::string("kernel entered"));
  };
  auto pass = verdict(ran(std::nullopt, true), goal);
  EXPECT_EQ(pass.status, 0);
  EXPECT_EQ(pass.lines, std::vector<std::string>{"pvm: web: reached its goal"});
  EXPECT_EQ(verdict(ran(std::nullopt, true), goal, true).lines,
            std::vector<std::string>{"pvm: web: reached its goal, then stopped by `pvm stop`"});

  auto refused = verdict(
      ran("pvmfw: boot failed: PAYLOAD_VERIFICATION_FAILED: PUBLIC_KEY_REJECTED: boot", false),
      goal);
  EXPECT_EQ(refused.status, 1);
  ASSERT_EQ(refused.lines.size(), 2u);
  EXPECT_EQ(refused.lines[0],
            "pvm: web: refused by pvmfw: PAYLOAD_VERIFICATION_FAILED: PUBLIC_KEY_REJECTED: boot");
  EXPECT_TRUE(refused.lines[1].starts_with("pvm: fix: payload signed by another key"));

  Expectations fail{.goals = {}, .expected_failure = "PAYLOAD_VERIFICATION_FAILED"};
  auto expected = verdict(
      ran("pvmfw: boot failed: PAYLOAD_VERIFICATION_FAILED: PUBLIC_KEY_REJECTED: boot", false),
      fail);
  EXPECT_EQ(expected.status, 0);
  EXPECT_EQ(expected.lines,
            std::vector<std::string>{"pvm: web: refused as expected by pvmfw: "
                                     "PAYLOAD_VERIFICATION_FAILED: PUBLIC_KEY_REJECTED: boot"});

  auto stopped = verdict(ran(std::nullopt, false), goal, true);
  EXPECT_EQ(stopped.status, 1);
  EXPECT_EQ(stopped.lines, std::vector<std::string>{
                               "pvm: web: stopped by `pvm stop` before reaching its goal (last "
                               "stage: kernel entered)"});

  RunResult signalled = ran(std::nullopt, false);  // `pvm stop` fell back to SIGTERM
  signalled.interrupted = true;
  EXPECT_EQ(verdict(signalled, goal, true).lines, stopped.lines);
  EXPECT_EQ(verdict(signalled, goal).lines, std::vector<std::string>{"pvm: web: interrupted"});

  RunResult timed_out = ran(std::nullopt, false);
  timed_out.timed_out = true;
  timed_out.exited = false;
  EXPECT_EQ(verdict(timed_out, goal).lines,
            std::vector<std::string>{"pvm: web: timeout after 60 s (last stage: kernel entered)"});

  auto missed = verdict(ran(std::nullopt, false), goal);
  EXPECT_EQ(missed.lines,
            std::vector<std::string>{"pvm: web: guest failed: goal not reached ('payload: done')"});
}

}  // namespace
}  // namespace pvm

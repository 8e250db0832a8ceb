#include "qemu.h"

#include <gtest/gtest.h>

#include <chrono>

namespace pvm {
namespace {

using Argv = std::vector<std::string>;

Expectations want(std::vector<std::string> goals) {
  Expectations e;
  e.goals = std::move(goals);
  return e;
}

Expectations want_failure(std::string reason) {
  Expectations e;
  e.expected_failure = std::move(reason);
  return e;
}

RunOptions with_timeout(int seconds) {
  RunOptions options;
  options.timeout = std::chrono::seconds(seconds);
  return options;
}

QemuConfig typical() {
  QemuConfig c;
  c.firmware = "/fw/pvmfw.bin";
  c.dtb = "/tmp/w/vm.dtb";
  c.loads = {{"/k/vmlinuz", 0x40400000}, {"/tmp/w/initramfs.cpio", 0x42000000}};
  return c;
}

TEST(QemuArgv, Default) {
  EXPECT_EQ(build_qemu_argv(typical()),
            (Argv{"qemu-system-aarch64", "-M", "virt,gic-version=2", "-cpu",
                  "max,pauth-impdef=on", "-m", "1024", "-nographic", "-nic", "none",
                  "-no-reboot", "-bios", "/fw/pvmfw.bin", "-dtb", "/tmp/w/vm.dtb", "-device",
                  "loader,file=/k/vmlinuz,addr=0x40400000,force-raw=on", "-device",
                  "loader,file=/tmp/w/initramfs.cpio,addr=0x42000000,force-raw=on"}));
}

TEST(QemuArgv, Options) {
  QemuConfig c = typical();
  c.qemu = "/opt/qemu/bin/qemu-system-aarch64";
  c.mem_mib = 2048;
  c.cpus = 2;
  c.icount = true;
  c.virtualization = true;
  c.loads.resize(1);
  c.extra_args = {"-d", "guest_errors"};
  EXPECT_EQ(build_qemu_argv(c),
            (Argv{"/opt/qemu/bin/qemu-system-aarch64", "-M", "virt,gic-version=2,virtualization=on",
                  "-cpu", "max,pauth-impdef=on", "-m", "2048", "-smp", "2", "-nographic", "-nic",
                  "none", "-no-reboot", "-bios", "/fw/pvmfw.bin", "-dtb", "/tmp/w/vm.dtb",
                  "-device", "loader,file=/k/vmlinuz,addr=0x40400000,force-raw=on", "-icount",
                  "shift=0,sleep=off", "-seed", "1", "-rtc", "base=2025-01-01T00:00:00,clock=vm",
                  "-d", "guest_errors"}));
}

TEST(QemuArgv, CommasInLoaderPathsAreEscaped) {
  QemuConfig c = typical();
  c.loads = {{"/a,b/k", 0x1000}};
  Argv argv = build_qemu_argv(c);
  EXPECT_EQ(argv[argv.size() - 1], "loader,file=/a,,b/k,addr=0x1000,force-raw=on");
}

// A protected VM's command line as cmd_run builds it: hyp.bin at EL2, the
// files through fw_cfg, no -dtb and no loader.
TEST(QemuArgv, FwCfgFilesWithoutDtb) {
  QemuConfig c;
  c.firmware = "/fw/hyp.bin";
  c.mem_mib = 1040;
  c.virtualization = true;
  c.fw_cfg_files = {{"opt/pvm/launch", "/tmp/w/launch.bin"}, {"opt/pvm/uds", "/s,x/uds"}};
  EXPECT_EQ(build_qemu_argv(c),
            (Argv{"qemu-system-aarch64", "-M", "virt,gic-version=2,virtualization=on", "-cpu",
                  "max,pauth-impdef=on", "-m", "1040", "-nographic", "-nic", "none", "-no-reboot",
                  "-bios", "/fw/hyp.bin", "-fw_cfg", "name=opt/pvm/launch,file=/tmp/w/launch.bin",
                  "-fw_cfg", "name=opt/pvm/uds,file=/s,,x/uds"}));
}

// `pvm start`: the instance disk on virtio-mmio (modern transports), QMP.
TEST(QemuArgv, VirtioBlockAndQmp) {
  QemuConfig c;
  c.firmware = "/fw/hyp.bin";
  c.virtio_blocks = {{"instance", "/s,x/disk.img"}};
  c.qmp_socket = "/s/vms/a/qmp.sock";
  c.extra_args = {"-S"};
  EXPECT_EQ(build_qemu_argv(c),
            (Argv{"qemu-system-aarch64", "-M", "virt,gic-version=2", "-cpu", "max,pauth-impdef=on",
                  "-m", "1024", "-nographic", "-nic", "none", "-no-reboot", "-bios", "/fw/hyp.bin",
                  "-global", "virtio-mmio.force-legacy=false", "-drive",
                  "if=none,id=instance,file=/s,,x/disk.img,format=raw", "-device",
                  "virtio-blk-device,drive=instance", "-qmp",
                  "unix:/s/vms/a/qmp.sock,server=on,wait=off", "-S"}));
}

TEST(ShellCommand, Quotes) {
  EXPECT_EQ(shell_command({"qemu", "-m", "1024", "a b", "it's", ""}),
            "qemu -m 1024 'a b' 'it'\\''s' ''");
  EXPECT_EQ(shell_command({"loader,file=/x,addr=0x1"}), "loader,file=/x,addr=0x1");
}

TEST(LineSplitter, SplitsAcrossChunksAndDropsCarriageReturns) {
  std::vector<std::string> lines;
  LineSplitter::Sink sink = [&](std::string_view l) { lines.emplace_back(l); };
  LineSplitter s;
  s.feed("one\r\ntw", sink);
  s.feed("o\r", sink);
  s.feed("\n\nthree", sink);
  EXPECT_EQ(lines, (std::vector<std::string>{"one", "two", ""}));
  s.flush(sink);
  EXPECT_EQ(lines.back(), "three");
  s.flush(sink);
  EXPECT_EQ(lines.size(), 4u);
}

TEST(LineSplitter, CutsOverlongLines) {
  std::vector<std::string> lines;
  LineSplitter::Sink sink = [&](std::string_view l) { lines.emplace_back(l); };
  LineSplitter s;
  s.feed(std::string(LineSplitter::kMaxLine + 10, 'x') + "\n", sink);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].size(), LineSplitter::kMaxLine);
  EXPECT_EQ(lines[1].size(), 10u);
}

TEST(ConsoleWatcher, GoalsAndFailure) {
  Expectations e = want({"reached /init", "powering off"});
  ConsoleWatcher w(e);
  w.on_line("pvm-guest: reached /init");
  EXPECT_EQ(w.goals_seen(), (std::vector<bool>{true, false}));
  EXPECT_FALSE(w.all_goals_seen());
  w.on_line("pvmfw: boot failed: invalid-payload");
  w.on_line("pvmfw: boot failed: second");
  w.on_line("pvm-guest: powering off");
  EXPECT_TRUE(w.all_goals_seen());
  EXPECT_EQ(w.failure_line(), "pvmfw: boot failed: invalid-payload");
}

TEST(ConsoleWatcher, FailurePrefixMustStartTheLine) {
  ConsoleWatcher w(Expectations{});
  w.on_line("echo pvmfw: boot failed: nope");
  EXPECT_FALSE(w.failure_line().has_value());
}

TEST(ConsoleWatcher, HypervisorRefusalsAreFailures) {
  for (std::string_view line : {"hyp: launch refused: BAD_MAGIC",
                                "hyp: pvmfw.img refused: SIGNATURE_MISMATCH"}) {
    ConsoleWatcher w(Expectations{});
    w.on_line("hyp: up (EL2)");
    w.on_line(line);
    w.on_line("pvmfw: boot failed: later");
    EXPECT_EQ(w.failure_line(), line);
  }
  ConsoleWatcher w(Expectations{});
  w.on_line("hyp: launch refusedBAD");
  w.on_line(" hyp: launch refused: BAD_MAGIC");
  EXPECT_FALSE(w.failure_line().has_value());
}

TEST(FailureMatches, HypervisorPrefixes) {
  EXPECT_TRUE(failure_matches("hyp: launch refused: BAD_MAGIC", "BAD_MAGIC"));
  EXPECT_TRUE(failure_matches("hyp: launch refused: MISSING_FILE: opt/pvm/uds", "MISSING_FILE"));
  EXPECT_TRUE(failure_matches("hyp: pvmfw.img refused: SIGNATURE_MISMATCH", "SIGNATURE_MISMATCH"));
  EXPECT_FALSE(failure_matches("hyp: launch refused: BAD_MAGICAL", "BAD_MAGIC"));
  EXPECT_FALSE(failure_matches("hyp: up", "up"));
}

TEST(FailureMatches, ReasonBoundaries) {
  EXPECT_TRUE(failure_matches("pvmfw: boot failed: bad-dt", "bad-dt"));
  EXPECT_TRUE(failure_matches("pvmfw: boot failed: bad-dt: /memory missing", "bad-dt"));
  EXPECT_TRUE(failure_matches("pvmfw: boot failed: bad-dt (reg)", "bad-dt"));
  EXPECT_TRUE(failure_matches("pvmfw: boot failed: bad-dt /memory", "bad-dt"));
  EXPECT_FALSE(failure_matches("pvmfw: boot failed: bad-dtb", "bad-dt"));
  EXPECT_FALSE(failure_matches("pvmfw: boot failed: bad", "bad-dt"));
  EXPECT_FALSE(failure_matches("pvmfw: boot failed: bad-dt", ""));
  EXPECT_FALSE(failure_matches("pvmfw: booted", "bad-dt"));
}

RunResult clean_exit(std::vector<bool> goals) {
  RunResult r;
  r.exited = true;
  r.exit_status = 0;
  r.goals_seen = std::move(goals);
  return r;
}

TEST(Judge, Pass) {
  Expectations e = want({std::string(kDefaultGoal)});
  EXPECT_EQ(judge(clean_exit({true}), e).verdict, Verdict::kPass);
}

TEST(Judge, GoalNotReached) {
  Expectations e = want({"a", "b"});
  Judgement j = judge(clean_exit({true, false}), e);
  EXPECT_EQ(j.verdict, Verdict::kGuestFailed);
  EXPECT_EQ(j.message, "guest failed: goal not reached ('b')");
}

TEST(Judge, BootFailedLineWins) {
  Expectations e = want({"a"});
  RunResult r = clean_exit({true});
  r.failure_line = "pvmfw: boot failed: invalid-fdt";
  Judgement j = judge(r, e);
  EXPECT_EQ(j.verdict, Verdict::kGuestFailed);
  EXPECT_EQ(j.message, "guest failed: pvmfw: boot failed: invalid-fdt");
}

TEST(Judge, TimeoutAndInterrupt) {
  Expectations e = want({"a"});
  RunResult r;
  r.timed_out = true;
  r.timeout = std::chrono::seconds(7);
  r.goals_seen = {true};
  EXPECT_EQ(judge(r, e).verdict, Verdict::kTimedOut);
  EXPECT_EQ(judge(r, e).message, "timeout after 7 s");
  r.interrupted = true;
  EXPECT_EQ(judge(r, e).verdict, Verdict::kInterrupted);
}

TEST(Judge, QemuMustExitCleanly) {
  Expectations e = want({"a"});
  RunResult r = clean_exit({true});
  r.exit_status = 1;
  EXPECT_EQ(judge(r, e).message, "guest failed: qemu exited with status 1");
  r.exited = false;
  r.exit_status = -1;
  r.term_signal = 9;
  EXPECT_EQ(judge(r, e).message, "guest failed: qemu killed by signal 9");
}

TEST(Judge, ExpectedFailure) {
  Expectations e = want_failure("invalid-payload");
  RunResult r = clean_exit({});
  EXPECT_EQ(judge(r, e).message, "guest failed: expected failure 'invalid-payload' not reported");
  r.failure_line = "pvmfw: boot failed: invalid-fdt";
  EXPECT_EQ(judge(r, e).verdict, Verdict::kGuestFailed);
  r.failure_line = "pvmfw: boot failed: invalid-payload";
  EXPECT_EQ(judge(r, e).verdict, Verdict::kPass);
  r.exited = false;  // killed: the reset never happened
  EXPECT_EQ(judge(r, e).verdict, Verdict::kGuestFailed);
}

// run_qemu() with /bin/sh standing in for QEMU: streaming, goals, exit
// status and the timeout kill, without an emulator.
TEST(RunQemu, StreamsAndWatches) {
  std::vector<std::string> console, errors;
  RunOptions options{
      .timeout = std::chrono::seconds(20),
      .on_console = [&](std::string_view l) { console.emplace_back(l); },
      .on_stderr = [&](std::string_view l) { errors.emplace_back(l); },
  };
  Expectations e = want({"reached"});
  auto r = run_qemu({"/bin/sh", "-c",
                     "printf 'boot\\r\\npvm-guest: reached /init\\r\\n'; echo oops >&2; "
                     "printf 'pvmfw: boot failed: x\\ntail'"},
                    e, options);
  ASSERT_TRUE(r.has_value()) << to_string(r.error());
  EXPECT_TRUE(r->exited);
  EXPECT_EQ(r->exit_status, 0);
  EXPECT_FALSE(r->timed_out);
  EXPECT_EQ(r->goals_seen, std::vector<bool>{true});
  EXPECT_EQ(r->failure_line, "pvmfw: boot failed: x");
  EXPECT_EQ(console, (std::vector<std::string>{"boot", "pvm-guest: reached /init",
                                               "pvmfw: boot failed: x", "tail"}));
  EXPECT_EQ(r->transcript, console);
  EXPECT_EQ(errors, std::vector<std::string>{"oops"});
}

TEST(RunQemu, ExitStatus) {
  auto r = run_qemu({"/bin/sh", "-c", "exit 3"}, Expectations{}, RunOptions{});
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->exited);
  EXPECT_EQ(r->exit_status, 3);
}

TEST(RunQemu, TimeoutKills) {
  // The child ignores SIGTERM, so the kill must escalate to SIGKILL.
  auto r = run_qemu({"/bin/sh", "-c", "trap '' TERM; echo started; while :; do sleep 1; done"},
                    want({"never"}),
                    with_timeout(1));
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->timed_out);
  EXPECT_FALSE(r->exited);
  EXPECT_EQ(r->transcript, std::vector<std::string>{"started"});
  EXPECT_EQ(r->timeout, std::chrono::seconds(1));
  EXPECT_EQ(judge(*r, want({"never"})).verdict, Verdict::kTimedOut);
}

TEST(RunQemu, MissingBinary) {
  auto r = run_qemu({"/nonexistent/qemu-system-aarch64"}, Expectations{}, RunOptions{});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, QemuErrc::kSpawnFailed);
  EXPECT_EQ(run_qemu({}, Expectations{}, RunOptions{}).error().code, QemuErrc::kEmptyCommand);
}

}  // namespace
}  // namespace pvm

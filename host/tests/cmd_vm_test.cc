// `pvm create/start/stop/list/delete` in-process, with a shell script
// standing in for QEMU and a thread standing in for QEMU's QMP server.
#include "cmd_vm.h"

#include <gtest/gtest.h>
#include <libfdt.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cli_test_util.h"
#include "cmd_avb.h"
#include "cmd_run.h"
#include "instance_disk.h"
#include "vm_store.h"

namespace pvm {
namespace {

namespace fs = std::filesystem;
using testing::file_bytes;
using testing::file_mode;
using testing::Outcome;
using testing::ScopedEnv;
using testing::ScratchDir;

using Handler = int (*)(const Io&, std::span<const std::string_view>);

Outcome call(Handler handler, const std::vector<std::string>& words) {
  std::vector<std::string_view> views(words.begin(), words.end());
  return testing::run_words(handler, std::span<const std::string_view>(views));
}

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

// A boot as hyp.bin and pvmfw print it, ending with the test payload's goal.
constexpr std::string_view kBootConsole =
    "echo 'hyp: up at EL2 (hyp.bin 0.1.0)'\n"
    "echo 'hyp: pvmfw.img verified (SHA256_RSA4096, 1-byte image, rollback index 0)'\n"
    "echo \"hyp: DICE: pvmfw's layer derived from the device secret\"\n"
    "echo 'hyp: entering pvmfw at EL1'\n"
    "echo 'pvmfw: protected VM (pKVM): memory isolated, no MMIO guard offered'\n"
    "echo 'pvmfw: payload verified: SHA256_RSA4096, rollback index 0, hashing: c'\n"
    "echo 'pvmfw: DICE: VM layer derived, handover 1 bytes at 0x403ff000'\n"
    "echo 'pvmfw: Starting payload...'\n"
    "echo 'payload: done'\n";

class CmdVm : public ::testing::Test {
 protected:
  void SetUp() override {
    hypervisor_ = dir_.write("hyp.bin", std::string(100, 'h'));
    pvmfw_img_ = dir_.write("pvmfw.img", std::string(300, 'p'));
    kernel_ = dir_.write("payload.bin", std::string(100, 'k'));
    initrd_ = dir_.write("initrd.img", std::string(1000, 'i'));
    // Prints its arguments on stderr, keeps the VM tree it was handed
    // (fw_cfg opt/pvm/dt), then prints a console.
    qemu_boot_ = script("qemu-boot", kBootConsole);
    qemu_refused_ = script(
        "qemu-refused",
        "echo 'hyp: up at EL2'\n"
        "echo 'pvmfw: boot failed: PAYLOAD_VERIFICATION_FAILED: PUBLIC_KEY_REJECTED: boot'\n");
  }

  std::string script(std::string_view name, std::string_view console) {
    const std::string path =
        dir_.write(name,
                   "#!/bin/sh\necho \"qemu: $*\" >&2\nfor a in \"$@\"; do case \"$a\" in "
                   "name=opt/pvm/dt,file=*) cp \"${a#name=opt/pvm/dt,file=}\" '" +
                       (dir_ / "seen.dtb") + "';; esac; done\n" + std::string(console));
    fs::permissions(path, fs::perms::owner_all);
    return path;
  }

  Outcome create(const std::string& name, std::vector<std::string> more = {}) {
    std::vector<std::string> words = {name, "--kernel", kernel_};
    words.insert(words.end(), more.begin(), more.end());
    return call(cmd_create, words);
  }
  Outcome create_signed(const std::string& name, std::vector<std::string> more = {}) {
    more.insert(more.end(), {"--sign-key", testing::test_key_pem()});
    return create(name, more);
  }
  Outcome start(const std::string& name, const std::string& qemu,
                std::vector<std::string> more = {}) {
    std::vector<std::string> words = {name, "--qemu", qemu};
    words.insert(words.end(), more.begin(), more.end());
    return call(cmd_start, words);
  }

  fs::path vm(std::string_view name) const { return dir_.path() / "state/vms" / name; }

  ScratchDir dir_;
  ScopedEnv state_{"PVM_STATE", dir_ / "state"};
  ScopedEnv guest_env_{"PVM_GUEST_DIR", std::nullopt};
  std::string hypervisor_, pvmfw_img_, kernel_, initrd_, qemu_boot_, qemu_refused_;
  ScopedEnv hypervisor_env_{"PVM_HYPERVISOR", dir_ / "hyp.bin"};
  ScopedEnv pvmfw_img_env_{"PVM_PVMFW_IMG", dir_ / "pvmfw.img"};
};

TEST_F(CmdVm, CreateKeepsEverythingAndRefusesAnExistingName) {
  auto made = create_signed("web", {"--no-initrd", "--mem", "64", "--cpus", "2", "--pin-software",
                                    "--cmdline", "console=ttyAMA0"});
  ASSERT_EQ(made.status, kExitOk) << made.err;
  EXPECT_TRUE(made.out.starts_with("pvm: created web in " + vm("web").string() + "\n")) << made.out;
  EXPECT_TRUE(contains(made.out, "payload payload.bin, signed with " + testing::test_key_pem() +
                                     " (SHA256_RSA4096, rollback index 0)"))
      << made.out;
  EXPECT_TRUE(made.out.ends_with("pvm: boot it with `pvm start web`\n")) << made.out;

  const fs::path dir = vm("web");
  for (std::string_view f :
       {kVmRecordFile, kVmKernelFile, kVmKeyFile, kVmInstanceIdFile, kVmDiskFile}) {
    EXPECT_TRUE(fs::exists(dir / f)) << f;
  }
  EXPECT_FALSE(fs::exists(dir / kVmInitrdFile));
  EXPECT_EQ(file_bytes(dir / kVmInstanceIdFile).size(), 64u);
  EXPECT_EQ(file_mode(dir / kVmInstanceIdFile), 0600u);
  EXPECT_EQ(file_bytes(dir / kVmDiskFile).size(), kInstanceDiskBytes);
  auto record = load_record("web");
  ASSERT_TRUE(record.has_value()) << record.error();
  EXPECT_EQ(record->kernel_source, kernel_);
  EXPECT_EQ(record->initrd_source, "");
  EXPECT_FALSE(record->has_initrd);
  EXPECT_EQ(record->cmdline, "console=ttyAMA0");
  EXPECT_EQ(record->mem_mib, 64u);
  EXPECT_EQ(record->cpus, 2u);
  EXPECT_TRUE(record->pin_software);
  EXPECT_FALSE(record->debug);
  EXPECT_EQ(record->signing, "sign-key");
  EXPECT_EQ(record->key_source, testing::test_key_pem());
  EXPECT_EQ(record->algorithm, "SHA256_RSA4096");
  // The key blob is the signing key's, and pvm verify accepts the payload.
  EXPECT_EQ(file_bytes(dir / kVmKeyFile), file_bytes(testing::test_key_avbpubkey()));
  auto verified = call(cmd_verify, {"--key", testing::test_key_avbpubkey(), "--kernel",
                                    (dir / kVmKernelFile).string()});
  EXPECT_EQ(verified.status, kExitOk) << verified.err;

  auto again = create_signed("web", {"--no-initrd"});
  EXPECT_EQ(again.status, kExitFailed);
  EXPECT_TRUE(contains(again.err, "pvm: VM 'web' exists already")) << again.err;
  // Nothing left behind but the two VMs' folders.
  auto other = create_signed("db", {"--no-initrd"});
  ASSERT_EQ(other.status, kExitOk) << other.err;
  std::vector<std::string> entries;
  for (const auto& e : fs::directory_iterator(dir_.path() / "state/vms")) {
    entries.push_back(e.path().filename().string());
  }
  std::sort(entries.begin(), entries.end());
  EXPECT_EQ(entries, (std::vector<std::string>{"db", "web"}));
  // Two VMs, two instances.
  EXPECT_NE(file_bytes(vm("db") / kVmInstanceIdFile), file_bytes(dir / kVmInstanceIdFile));
}

TEST_F(CmdVm, DebugSignsTheInitrdAsInitrdDebug) {
  auto made = create_signed("dbg", {"--initrd", initrd_, "--debug"});
  ASSERT_EQ(made.status, kExitOk) << made.err;
  EXPECT_TRUE(contains(made.out, "payload payload.bin + initrd.img (debug)")) << made.out;
  EXPECT_EQ(file_bytes(vm("dbg") / kVmInitrdFile), file_bytes(initrd_));
  auto verified = call(cmd_verify, {"--key", testing::test_key_avbpubkey(), "--kernel",
                                    (vm("dbg") / kVmKernelFile).string(), "--initrd",
                                    (vm("dbg") / kVmInitrdFile).string()});
  ASSERT_EQ(verified.status, kExitOk) << verified.err;
  EXPECT_TRUE(contains(verified.out, "initrd_debug")) << verified.out;
  EXPECT_TRUE(load_record("dbg")->debug);
  EXPECT_EQ(load_record("dbg")->initrd_source, initrd_);
}

TEST_F(CmdVm, KeyChecksAPresignedPayloadAndRefusesEarly) {
  const std::string other = dir_ / "other.signed";
  ASSERT_TRUE(sign_payload(kernel_, std::nullopt, testing::other_key_pem(), other).has_value());
  auto refused = call(cmd_create, {"web", "--kernel", other, "--no-initrd", "--key",
                                   testing::test_key_avbpubkey()});
  EXPECT_EQ(refused.status, kExitFailed);
  EXPECT_TRUE(contains(refused.err, "error: PUBLIC_KEY_REJECTED")) << refused.err;
  EXPECT_TRUE(contains(refused.err, "pvm: web: payload refused")) << refused.err;
  EXPECT_FALSE(fs::exists(vm("web")));
  EXPECT_TRUE(fs::is_empty(dir_.path() / "state/vms"));  // no staging folder left

  const std::string good = dir_ / "good.signed";
  ASSERT_TRUE(sign_payload(kernel_, initrd_, testing::test_key_pem(), good).has_value());
  auto debug_mismatch = call(cmd_create, {"web", "--kernel", good, "--initrd", initrd_, "--debug",
                                          "--key", testing::test_key_avbpubkey()});
  EXPECT_EQ(debug_mismatch.status, kExitFailed);
  EXPECT_TRUE(contains(debug_mismatch.err, "--debug, but the initrd is signed as initrd_normal"))
      << debug_mismatch.err;

  auto made = call(cmd_create, {"web", "--kernel", good, "--initrd", initrd_, "--key",
                                testing::test_key_avbpubkey()});
  ASSERT_EQ(made.status, kExitOk) << made.err;
  EXPECT_TRUE(contains(made.out, "checked against " + testing::test_key_avbpubkey())) << made.out;
  EXPECT_EQ(file_bytes(vm("web") / kVmKernelFile), file_bytes(good));
  EXPECT_EQ(load_record("web")->signing, "key");
}

TEST_F(CmdVm, CreateRefusals) {
  auto smallest = create_signed("web", {"--no-initrd", "--mem", "16"});
  ASSERT_EQ(smallest.status, kExitOk) << smallest.err;  // a 100-byte payload fits
  auto no_kernel = call(cmd_create, {"a", "--kernel", dir_ / "none", "--no-initrd", "--sign-key",
                                     testing::test_key_pem()});
  EXPECT_EQ(no_kernel.status, kExitUsage);
  auto no_demo =
      call(cmd_create, {"b", "--kernel", kernel_, "--sign-key", testing::test_key_pem()});
  EXPECT_EQ(no_demo.status, kExitUsage);
  EXPECT_TRUE(contains(no_demo.err,
                       "no initrd: pass --initrd, --busybox, --no-initrd or set "
                       "PVM_GUEST_DIR"))
      << no_demo.err;
  auto bad_name = call(cmd_create, {"B", "--key", "k"});
  EXPECT_EQ(bad_name.status, kExitUsage);
  EXPECT_EQ(bad_name.err, testing::usage_text("create", "NAME 'B': bad value"));
  EXPECT_FALSE(fs::exists(vm("a")));
  EXPECT_FALSE(fs::exists(vm("b")));
}

TEST_F(CmdVm, StartBootsThroughTheHypervisorWithTheDisk) {
  ASSERT_EQ(create_signed("web", {"--no-initrd", "--pin-software"}).status, kExitOk);
  auto started = start("web", qemu_boot_, {"--expect", "payload: done"});
  ASSERT_EQ(started.status, kExitOk) << started.err << started.out;
  EXPECT_TRUE(started.out.starts_with("pvm: PROTECTED VM (hypervisor " + hypervisor_))
      << started.out;
  EXPECT_TRUE(contains(started.out, "pvm: starting web (" + vm("web").string() +
                                        ", instance disk on virtio-mmio 0xa003e00, SPI 47)"))
      << started.out;
  for (std::string_view stage :
       {"] hypervisor up\n", "] pvmfw.img verified\n", "] pvmfw running protected\n",
        "] payload verified\n", "] DICE derived\n", "] kernel entered\n", "] goal reached\n"}) {
    EXPECT_TRUE(contains(started.out, stage)) << stage << "\n" << started.out;
  }
  EXPECT_TRUE(started.out.ends_with("] goal reached\npvm: web: reached its goal\n")) << started.out;
  // QEMU got the disk on virtio-mmio and a QMP socket.
  const std::string disk = (vm("web") / kVmDiskFile).string();
  EXPECT_TRUE(contains(started.err,
                       "-global virtio-mmio.force-legacy=false -drive if=none,"
                       "id=instance,file=" +
                           disk + ",format=raw -device virtio-blk-device,drive=instance"))
      << started.err;
  EXPECT_TRUE(contains(started.err,
                       "-qmp unix:" + (vm("web") / kVmQmpFile).string() + ",server=on,wait=off"))
      << started.err;
  // The tree: the instance id, the transport, the pin.
  const std::vector<uint8_t> dtb = file_bytes(dir_ / "seen.dtb");
  ASSERT_FALSE(dtb.empty());
  const void* fdt = dtb.data();
  int len = 0;
  const void* id = fdt_getprop(fdt, fdt_path_offset(fdt, "/avf/untrusted"), "instance-id", &len);
  ASSERT_NE(id, nullptr);
  EXPECT_EQ(
      std::vector<uint8_t>(static_cast<const uint8_t*>(id), static_cast<const uint8_t*>(id) + len),
      file_bytes(vm("web") / kVmInstanceIdFile));
  EXPECT_GE(fdt_path_offset(fdt, "/virtio_mmio@a003e00"), 0);
  EXPECT_NE(fdt_getprop(fdt, fdt_path_offset(fdt, "/avf/untrusted"), "pvm,pin-software", &len), nullptr);
  // Gone with QEMU: the pid file, the socket, the lock.
  EXPECT_FALSE(fs::exists(vm("web") / kVmPidFile));
  EXPECT_FALSE(fs::exists(vm("web") / kVmQmpFile));
  EXPECT_FALSE(vm_run_state(vm("web")).running);
  // Again: the same instance.
  auto again = start("web", qemu_boot_, {"--expect", "payload: done"});
  EXPECT_EQ(again.status, kExitOk) << again.err;
}

TEST_F(CmdVm, StartRefusedSaysWhyAndHowToFix) {
  ASSERT_EQ(create_signed("web", {"--no-initrd"}).status, kExitOk);
  auto refused = start("web", qemu_refused_, {"--expect", "payload: done"});
  EXPECT_EQ(refused.status, kExitFailed);
  EXPECT_TRUE(contains(refused.err,
                       "pvm: web: refused by pvmfw: PAYLOAD_VERIFICATION_FAILED: "
                       "PUBLIC_KEY_REJECTED: boot\npvm: fix: payload signed by "
                       "another key than pvmfw trusts (at create: " +
                           testing::test_key_pem()))
      << refused.err;
  auto expected = start("web", qemu_refused_, {"--expect-fail", "PAYLOAD_VERIFICATION_FAILED"});
  EXPECT_EQ(expected.status, kExitOk) << expected.err;
  EXPECT_TRUE(contains(expected.out, "pvm: web: refused as expected by pvmfw")) << expected.out;
}

TEST_F(CmdVm, RunningVmsAreNotStartedTwiceNorDeleted) {
  ASSERT_EQ(create_signed("web", {"--no-initrd"}).status, kExitOk);
  {
    auto lock = VmLock::take(vm("web"));  // as a running `pvm start` holds it
    ASSERT_TRUE(lock.has_value());
    dir_.write("state/vms/web/pid", "4242\n");
    auto twice = start("web", qemu_boot_);
    EXPECT_EQ(twice.status, kExitFailed);
    EXPECT_EQ(twice.err, "pvm: web: running already (pid 4242); pvm stop web first\n");
    auto deleted = call(cmd_delete, {"web"});
    EXPECT_EQ(deleted.status, kExitFailed);
    EXPECT_EQ(deleted.err, "pvm: web: running (pid 4242); pvm stop web first\n");
    auto listed = call(cmd_list, {"--json"});
    EXPECT_TRUE(contains(listed.out, "\"state\":\"running\",\"pid\":4242")) << listed.out;
  }
  auto deleted = call(cmd_delete, {"web"});
  EXPECT_EQ(deleted.status, kExitOk) << deleted.err;
  EXPECT_EQ(deleted.out, "pvm: deleted web\n");
  EXPECT_FALSE(fs::exists(vm("web")));
  EXPECT_TRUE(fs::is_empty(dir_.path() / "state/vms"));
}

TEST_F(CmdVm, UnknownVms) {
  for (Handler handler : {cmd_start, cmd_stop, cmd_delete}) {
    auto outcome = call(handler, {"nothere"});
    EXPECT_EQ(outcome.status, kExitUsage);
    EXPECT_TRUE(contains(outcome.err, "pvm: no VM named 'nothere' in ")) << outcome.err;
  }
}

TEST_F(CmdVm, List) {
  auto empty = call(cmd_list, {});
  EXPECT_EQ(empty.status, kExitOk);
  EXPECT_TRUE(empty.out.starts_with("pvm: no VMs in ")) << empty.out;
  EXPECT_EQ(call(cmd_list, {"--json"}).out, "{\"vms\":[]}\n");

  ASSERT_EQ(create_signed("web", {"--no-initrd", "--mem", "64"}).status, kExitOk);
  ASSERT_EQ(create_signed("db", {"--initrd", initrd_, "--cpus", "2"}).status, kExitOk);
  const std::string created = load_record("db")->created;
  auto text = call(cmd_list, {});
  ASSERT_EQ(text.status, kExitOk);
  EXPECT_EQ(text.out,
            "NAME                STATE    MEM       CPUS CREATED               PAYLOAD\n"
            "db                  stopped  1024 MiB  2    " +
                created +
                "  payload.bin + initrd.img\n"
                "web                 stopped  64 MiB    1    " +
                load_record("web")->created + "  payload.bin\n");
  auto json = call(cmd_list, {"--json"});
  const std::string db_dir = vm("db").string();
  EXPECT_TRUE(json.out.starts_with(
      "{\"vms\":[{\"name\":\"db\",\"state\":\"stopped\",\"pid\":null,\"mem_mib\":1024,"
      "\"cpus\":2,\"kernel\":\"" +
      kernel_ + "\",\"initrd\":\"" + initrd_ +
      "\",\"debug\":false,\"pin_software\":false,\"signing\":\"sign-key\",\"key\":\"" +
      testing::test_key_pem() +
      "\",\"algorithm\":\"SHA256_RSA4096\",\"rollback_index\":0,\"cmdline\":\"console=ttyAMA0 "
      "panic=-1\",\"instance_id\":\"" +
      to_hex(file_bytes(vm("db") / kVmInstanceIdFile)) + "\",\"created\":\"" + created +
      "\",\"dir\":\"" + db_dir + "\"},{\"name\":\"web\""))
      << json.out;
  EXPECT_TRUE(contains(json.out, "\"initrd\":null")) << json.out;

  // A damaged record shows up as such.
  dir_.write("state/vms/web/vm.conf", "format=1\n");
  EXPECT_TRUE(contains(call(cmd_list, {}).out, "web                 broken   ")) << "";
  EXPECT_TRUE(contains(call(cmd_list, {"--json"}).out,
                       "{\"name\":\"web\",\"state\":\"broken\",\"error\":"));
}

// A stand-in for QEMU's QMP server: greets, acknowledges qmp_capabilities,
// and on "quit" answers, closes and lets the VM's lock go.
class FakeQmp {
 public:
  FakeQmp(const fs::path& socket, std::optional<VmLock> lock) : lock_(std::move(lock)) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, socket.c_str(), sizeof(addr.sun_path) - 1);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(::listen(fd_, 1), 0);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeQmp() {
    thread_.join();
    ::close(fd_);
  }
  FakeQmp(const FakeQmp&) = delete;
  FakeQmp& operator=(const FakeQmp&) = delete;
  const std::string& heard() const { return heard_; }

 private:
  void serve() {
    const int c = ::accept(fd_, nullptr, nullptr);
    if (c < 0) return;
    auto say = [c](std::string_view text) { (void)!::write(c, text.data(), text.size()); };
    say("{\"QMP\": {\"version\": {}, \"capabilities\": []}}\r\n");
    std::string buffer;
    char chunk[256];
    for (;;) {
      const ssize_t n = ::read(c, chunk, sizeof(chunk));
      if (n <= 0) break;
      buffer.append(chunk, static_cast<size_t>(n));
      size_t nl;
      bool quit = false;
      while ((nl = buffer.find('\n')) != std::string::npos) {
        const std::string line = buffer.substr(0, nl);
        buffer.erase(0, nl + 1);
        heard_ += line + "\n";
        say("{\"return\": {}}\r\n");
        if (contains(line, "\"quit\"")) quit = true;
      }
      if (quit) break;
    }
    ::close(c);
    lock_.reset();  // QEMU is gone: `pvm start` returns and drops the lock
  }

  int fd_ = -1;
  std::optional<VmLock> lock_;
  std::string heard_;
  std::thread thread_;
};

TEST_F(CmdVm, StopQuitsQemuOverQmp) {
  ASSERT_EQ(create_signed("web", {"--no-initrd"}).status, kExitOk);
  auto not_running = call(cmd_stop, {"web"});
  EXPECT_EQ(not_running.status, kExitOk);
  EXPECT_EQ(not_running.out, "pvm: web: not running\n");

  auto lock = VmLock::take(vm("web"));
  ASSERT_TRUE(lock.has_value());
  {
    FakeQmp qmp(vm("web") / kVmQmpFile, std::move(*lock));
    auto stopped = call(cmd_stop, {"web"});
    EXPECT_EQ(stopped.status, kExitOk) << stopped.err;
    EXPECT_EQ(stopped.out, "pvm: web: stopped\n");
    EXPECT_TRUE(fs::exists(vm("web") / kVmStopFile));  // `pvm start` reads, then removes it
  }
}

// ---- pvm update ----------------------------------------------------------------------

class CmdVmUpdate : public CmdVm {
 protected:
  // `raw` signed as a "boot" partition by `pem`, with `rollback` and, when
  // given, an initrd descriptor "PARTITION=FILE"; as a build system signs it.
  std::string presigned(const std::string& name, const std::string& raw, const std::string& pem,
                        int rollback = 0, std::optional<std::string> initrd = std::nullopt) {
    const std::string out = dir_ / name;
    std::vector<std::string> words = {
        "--key",       pem,    "--algorithm",      "SHA256_RSA4096",
        "--partition", "boot", "--image",          raw,
        "--output",    out,    "--rollback-index", std::to_string(rollback)};
    if (initrd) words.insert(words.end(), {"--hash-image", *initrd});
    auto signed_ = call(cmd_sign, words);
    EXPECT_EQ(signed_.status, kExitOk) << signed_.err;
    return out;
  }
  Outcome update(const std::string& name, std::vector<std::string> more) {
    more.insert(more.begin(), name);
    return call(cmd_update, more);
  }
  // Every file of the VM's folder, by name.
  std::vector<std::pair<std::string, std::vector<uint8_t>>> snapshot(const std::string& name) {
    std::vector<std::pair<std::string, std::vector<uint8_t>>> out;
    for (const auto& e : fs::directory_iterator(vm(name))) {
      const std::string f = e.path().filename().string();
      if (f == kVmLockFile) continue;  // made by the first lock taken (an update's too)
      out.emplace_back(f, file_bytes(e.path()));
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  // Only the VMs' own folders in vms/: no staging folder left behind.
  std::vector<std::string> vm_folders() {
    std::vector<std::string> entries;
    for (const auto& e : fs::directory_iterator(dir_.path() / "state/vms")) {
      entries.push_back(e.path().filename().string());
    }
    std::sort(entries.begin(), entries.end());
    return entries;
  }
  static std::string other_key_avbpubkey() {
    return PVM_TEST_KEY_DIR "/other-test-rsa4096.avbpubkey";
  }
};

TEST_F(CmdVmUpdate, SignKeyReplacesThePayloadKeepsTheInstanceAndTheDebugFlag) {
  ASSERT_EQ(create_signed("web", {"--initrd", initrd_, "--debug", "--mem", "64"}).status, kExitOk);
  const auto id = file_bytes(vm("web") / kVmInstanceIdFile);
  const auto disk = file_bytes(vm("web") / kVmDiskFile);
  const auto before = *load_record("web");
  const std::string kernel2 = dir_.write("payload2.bin", std::string(200, 'K'));

  auto updated = update("web", {"--kernel", kernel2, "--cmdline", "console=ttyAMA0 quiet"});
  ASSERT_EQ(updated.status, kExitOk) << updated.err;
  EXPECT_EQ(updated.out,
            "pvm: updated web in " + vm("web").string() +
                "\n"
                "pvm:   payload payload.bin + initrd.img (debug) -> payload2.bin + initrd.img "
                "(debug), signed with " +
                testing::test_key_pem() +
                " (SHA256_RSA4096)\n"
                "pvm:   rollback index 0 -> 0\n"
                "pvm:   cmdline \"console=ttyAMA0 panic=-1\" -> \"console=ttyAMA0 quiet\"\n"
                "pvm: takes effect at the next `pvm start web` (instance id and disk unchanged: "
                "pvmfw decides there whether the update is allowed)\n");
  // The record as create would have made it with these options.
  auto after = load_record("web");
  ASSERT_TRUE(after.has_value()) << after.error();
  EXPECT_EQ(after->kernel_source, kernel2);
  EXPECT_EQ(after->initrd_source, initrd_);
  EXPECT_TRUE(after->has_initrd);
  EXPECT_TRUE(after->debug);
  EXPECT_EQ(after->cmdline, "console=ttyAMA0 quiet");
  EXPECT_EQ(after->signing, "sign-key");
  EXPECT_EQ(after->key_source, testing::test_key_pem());
  EXPECT_EQ(after->created, before.created);
  EXPECT_EQ(after->mem_mib, 64u);
  // The new kernel, signed again with the initrd as initrd_debug.
  auto verified = call(cmd_verify, {"--key", testing::test_key_avbpubkey(), "--kernel",
                                    (vm("web") / kVmKernelFile).string(), "--initrd",
                                    (vm("web") / kVmInitrdFile).string()});
  ASSERT_EQ(verified.status, kExitOk) << verified.err;
  EXPECT_TRUE(contains(verified.out, "initrd_debug")) << verified.out;
  const auto signed_kernel = file_bytes(vm("web") / kVmKernelFile);
  EXPECT_TRUE(
      std::equal(signed_kernel.begin(), signed_kernel.begin() + 200, file_bytes(kernel2).begin()));
  EXPECT_EQ(file_bytes(vm("web") / kVmInitrdFile), file_bytes(initrd_));
  // Never the instance.
  EXPECT_EQ(file_bytes(vm("web") / kVmInstanceIdFile), id);
  EXPECT_EQ(file_bytes(vm("web") / kVmDiskFile), disk);
  EXPECT_EQ(vm_folders(), std::vector<std::string>{"web"});

  // A new initrd, the kernel recorded signed again.
  const std::string initrd2 = dir_.write("initrd2.cpio", std::string(500, 'j'));
  ASSERT_EQ(update("web", {"--initrd", initrd2}).status, kExitOk);
  EXPECT_EQ(file_bytes(vm("web") / kVmInitrdFile), file_bytes(initrd2));
  EXPECT_EQ(load_record("web")->initrd_source, initrd2);
  EXPECT_EQ(call(cmd_verify, {"--key", testing::test_key_avbpubkey(), "--kernel",
                              (vm("web") / kVmKernelFile).string(), "--initrd",
                              (vm("web") / kVmInitrdFile).string()})
                .status,
            kExitOk);

  // A debuggable VM that pvm signs keeps needing an initrd.
  auto no_initrd = update("web", {"--no-initrd"});
  EXPECT_EQ(no_initrd.status, kExitUsage);
  EXPECT_TRUE(contains(no_initrd.err, "web was created with --debug")) << no_initrd.err;
  EXPECT_TRUE(fs::exists(vm("web") / kVmInitrdFile));
}

TEST_F(CmdVmUpdate, NoInitrdRemovesItAndCmdlineAloneKeepsThePayload) {
  ASSERT_EQ(create_signed("web", {"--initrd", initrd_}).status, kExitOk);
  ASSERT_EQ(update("web", {"--no-initrd"}).status, kExitOk);
  EXPECT_FALSE(fs::exists(vm("web") / kVmInitrdFile));
  EXPECT_FALSE(load_record("web")->has_initrd);
  EXPECT_EQ(load_record("web")->initrd_source, "");
  EXPECT_EQ(load_record("web")->kernel_source, kernel_);

  auto files = snapshot("web");
  auto cmdline = update("web", {"--cmdline", "console=ttyAMA0"});
  ASSERT_EQ(cmdline.status, kExitOk) << cmdline.err;
  EXPECT_TRUE(contains(cmdline.out, "pvm:   payload unchanged: payload.bin (rollback index 0)\n"))
      << cmdline.out;
  EXPECT_EQ(load_record("web")->cmdline, "console=ttyAMA0");
  auto now = snapshot("web");
  ASSERT_EQ(now.size(), files.size());
  for (size_t i = 0; i < now.size(); ++i) {
    if (now[i].first == kVmRecordFile) continue;
    EXPECT_EQ(now[i], files[i]) << now[i].first;
  }
}

TEST_F(CmdVmUpdate, KeyChecksTheNewPartitionAndReKeysOnlyWhenAsked) {
  const std::string v0 = presigned("v0.signed", kernel_, testing::test_key_pem());
  ASSERT_EQ(call(cmd_create,
                 {"web", "--kernel", v0, "--no-initrd", "--key", testing::test_key_avbpubkey()})
                .status,
            kExitOk);
  auto files = snapshot("web");
  const auto id = file_bytes(vm("web") / kVmInstanceIdFile);
  const auto disk = file_bytes(vm("web") / kVmDiskFile);

  // Signed by another key, no key given: refused early, nothing changed.
  const std::string other = presigned("other.signed", kernel_, testing::other_key_pem());
  auto refused = update("web", {"--kernel", other});
  EXPECT_EQ(refused.status, kExitFailed);
  EXPECT_TRUE(contains(refused.err, "error: PUBLIC_KEY_REJECTED")) << refused.err;
  EXPECT_TRUE(contains(refused.err,
                       "pvm: web: payload refused (as pvmfw would refuse it); not "
                       "updated (web's payload must verify with its recorded key, " +
                           testing::test_key_avbpubkey()))
      << refused.err;
  EXPECT_EQ(snapshot("web"), files);
  EXPECT_EQ(vm_folders(), std::vector<std::string>{"web"});
  // ... and with the VM's key given, the same.
  auto mismatched = update("web", {"--kernel", other, "--key", testing::test_key_avbpubkey()});
  EXPECT_EQ(mismatched.status, kExitFailed);
  EXPECT_TRUE(contains(mismatched.err, "error: PUBLIC_KEY_REJECTED")) << mismatched.err;
  EXPECT_EQ(snapshot("web"), files);

  // Forward: a higher rollback index, the recorded key.
  const std::string v2 = presigned("v2.signed", dir_.write("payload2.bin", std::string(300, 'k')),
                                   testing::test_key_pem(), 2);
  auto forward = update("web", {"--kernel", v2});
  ASSERT_EQ(forward.status, kExitOk) << forward.err;
  EXPECT_TRUE(contains(forward.out, "pvm:   payload v0.signed -> v2.signed, checked against " +
                                        testing::test_key_avbpubkey() + " (SHA256_RSA4096)\n"))
      << forward.out;
  EXPECT_TRUE(contains(forward.out, "pvm:   rollback index 0 -> 2\n")) << forward.out;
  EXPECT_FALSE(contains(forward.out, "re-keyed")) << forward.out;
  EXPECT_EQ(file_bytes(vm("web") / kVmKernelFile), file_bytes(v2));
  EXPECT_EQ(load_record("web")->rollback_index, 2u);
  EXPECT_EQ(load_record("web")->key_source, testing::test_key_avbpubkey());
  // Back: allowed here, pvmfw judges it.
  auto back = update("web", {"--kernel", v0});
  ASSERT_EQ(back.status, kExitOk) << back.err;
  EXPECT_TRUE(contains(back.out, "rollback index 2 -> 0 (lower: pvmfw refuses it with ROLLBACK"))
      << back.out;

  // Another key, given explicitly: recorded, and said to be refused at start.
  auto rekeyed = update("web", {"--kernel", other, "--key", other_key_avbpubkey()});
  ASSERT_EQ(rekeyed.status, kExitOk) << rekeyed.err;
  EXPECT_TRUE(contains(rekeyed.out, "pvm:   re-keyed: " + testing::test_key_avbpubkey() + " -> " +
                                        other_key_avbpubkey() +
                                        "; pvmfw refuses this VM with INSTANCE_IMAGE_MISMATCH"))
      << rekeyed.out;
  EXPECT_EQ(load_record("web")->key_source, other_key_avbpubkey());
  EXPECT_EQ(load_record("web")->signing, "key");
  EXPECT_EQ(file_bytes(vm("web") / kVmKeyFile), file_bytes(other_key_avbpubkey()));
  EXPECT_EQ(file_bytes(vm("web") / kVmInstanceIdFile), id);
  EXPECT_EQ(file_bytes(vm("web") / kVmDiskFile), disk);

  // --sign-key with another key: signs and re-keys, as create would.
  auto signed_ = update("web", {"--kernel", kernel_, "--sign-key", testing::test_key_pem()});
  ASSERT_EQ(signed_.status, kExitOk) << signed_.err;
  EXPECT_TRUE(contains(signed_.out, "re-keyed")) << signed_.out;
  EXPECT_EQ(load_record("web")->signing, "sign-key");
  EXPECT_EQ(file_bytes(vm("web") / kVmKeyFile), file_bytes(testing::test_key_avbpubkey()));
}

TEST_F(CmdVmUpdate, KeyTakesTheModeFromThePayloadAndSaysWhatPvmfwWillDo) {
  const std::string normal =
      presigned("normal.signed", kernel_, testing::test_key_pem(), 0, "initrd_normal=" + initrd_);
  ASSERT_EQ(call(cmd_create, {"web", "--kernel", normal, "--initrd", initrd_, "--key",
                              testing::test_key_avbpubkey(), "--pin-software"})
                .status,
            kExitOk);
  const std::string debug =
      presigned("debug.signed", kernel_, testing::test_key_pem(), 0, "initrd_debug=" + initrd_);
  auto updated = update(
      "web", {"--kernel", debug, "--initrd", initrd_, "--key", testing::test_key_avbpubkey()});
  ASSERT_EQ(updated.status, kExitOk) << updated.err;
  EXPECT_TRUE(contains(updated.out,
                       "pvm:   mode normal -> debug; pvmfw refuses this VM with "
                       "INSTANCE_IMAGE_MISMATCH: mode"))
      << updated.out;
  EXPECT_TRUE(contains(updated.out, "pvm:   software pinned (--pin-software)")) << updated.out;
  EXPECT_TRUE(load_record("web")->debug);
  EXPECT_TRUE(load_record("web")->pin_software);
  EXPECT_EQ(file_bytes(vm("web") / kVmKernelFile), file_bytes(debug));
}

TEST_F(CmdVmUpdate, Refusals) {
  auto unknown = update("nothere", {"--cmdline", "x"});
  EXPECT_EQ(unknown.status, kExitUsage);
  EXPECT_TRUE(contains(unknown.err, "pvm: no VM named 'nothere' in ")) << unknown.err;

  ASSERT_EQ(create_signed("web", {"--no-initrd"}).status, kExitOk);
  auto files = snapshot("web");
  auto nothing = update("web", {});
  EXPECT_EQ(nothing.status, kExitUsage);
  EXPECT_EQ(nothing.err,
            testing::usage_text("update",
                                "one of --kernel, --initrd, --no-initrd, --sign-key, --key, "
                                "--cmdline: is required"));
  auto missing = update("web", {"--kernel", dir_ / "none"});
  EXPECT_EQ(missing.status, kExitUsage);
  {
    auto lock = VmLock::take(vm("web"));  // as a running `pvm start` holds it
    ASSERT_TRUE(lock.has_value());
    dir_.write("state/vms/web/pid", "4242\n");
    auto running = update("web", {"--kernel", kernel_});
    EXPECT_EQ(running.status, kExitFailed);
    EXPECT_EQ(running.err, "pvm: web: running (pid 4242); pvm stop web first\n");
    fs::remove(vm("web") / kVmPidFile);
  }
  EXPECT_EQ(snapshot("web"), files);
  EXPECT_EQ(vm_folders(), std::vector<std::string>{"web"});
}

TEST(CmdVmHelp, EveryCommandHasHelp) {
  for (Handler handler : {cmd_create, cmd_update, cmd_start, cmd_stop, cmd_list, cmd_delete}) {
    auto outcome = call(handler, {"--help"});
    EXPECT_EQ(outcome.status, kExitOk);
    EXPECT_TRUE(outcome.out.starts_with("usage: pvm ")) << outcome.out;
  }
}

}  // namespace
}  // namespace pvm

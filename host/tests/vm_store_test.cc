#include "vm_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "cli_test_util.h"

namespace pvm {
namespace {

namespace fs = std::filesystem;
using testing::ScopedEnv;
using testing::ScratchDir;

VmRecord sample() {
  return VmRecord{.name = "web-1",
                  .created = "2025-01-31T12:00:00Z",
                  .kernel_source = "/k/vmlinuz-6.1.0-57-cloud-arm64",
                  .initrd_source = "demo",
                  .has_initrd = true,
                  .cmdline = "console=ttyAMA0 panic=-1 a=\"b c\" x==y",
                  .mem_mib = 512,
                  .cpus = 2,
                  .debug = true,
                  .pin_software = true,
                  .signing = "sign-key",
                  .key_source = "/keys/my key.pem",
                  .algorithm = "SHA256_RSA4096",
                  .rollback_index = 18446744073709551615u};
}

void expect_same(const VmRecord& a, const VmRecord& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.created, b.created);
  EXPECT_EQ(a.kernel_source, b.kernel_source);
  EXPECT_EQ(a.initrd_source, b.initrd_source);
  EXPECT_EQ(a.has_initrd, b.has_initrd);
  EXPECT_EQ(a.cmdline, b.cmdline);
  EXPECT_EQ(a.mem_mib, b.mem_mib);
  EXPECT_EQ(a.cpus, b.cpus);
  EXPECT_EQ(a.debug, b.debug);
  EXPECT_EQ(a.pin_software, b.pin_software);
  EXPECT_EQ(a.signing, b.signing);
  EXPECT_EQ(a.key_source, b.key_source);
  EXPECT_EQ(a.algorithm, b.algorithm);
  EXPECT_EQ(a.rollback_index, b.rollback_index);
}

TEST(VmName, Rules) {
  for (std::string_view good : {"a", "0", "web-1", "a-", "abcdefghijklmnopqrstuvwxyz012345"}) {
    EXPECT_TRUE(valid_vm_name(good)) << good;
  }
  for (std::string_view bad : {"", "-a", "A", "a_b", "a.b", ".a", "a/b", "a b", "é",
                               "abcdefghijklmnopqrstuvwxyz0123456"}) {
    EXPECT_FALSE(valid_vm_name(bad)) << bad;
  }
}

TEST(VmRecord, RoundTrip) {
  const VmRecord record = sample();
  const std::string text = format_record(record);
  EXPECT_TRUE(text.starts_with("format=1\nname=web-1\ncreated=2025-01-31T12:00:00Z\n")) << text;
  auto parsed = parse_record(text);
  ASSERT_TRUE(parsed.has_value()) << parsed.error();
  expect_same(*parsed, record);
  EXPECT_EQ(format_record(*parsed), text);

  VmRecord plain = sample();
  plain.initrd_source.clear();
  plain.has_initrd = plain.debug = plain.pin_software = false;
  plain.cmdline.clear();
  auto parsed_plain = parse_record(format_record(plain));
  ASSERT_TRUE(parsed_plain.has_value()) << parsed_plain.error();
  expect_same(*parsed_plain, plain);
}

TEST(VmRecord, Refusals) {
  const std::string good = format_record(sample());
  auto error = [](const std::string& text) {
    auto parsed = parse_record(text);
    EXPECT_FALSE(parsed.has_value()) << text;
    return parsed ? std::string() : parsed.error();
  };
  auto replace = [&](std::string_view from, std::string_view to) {
    std::string text = good;
    text.replace(text.find(from), from.size(), to);
    return text;
  };
  EXPECT_EQ(error(replace("format=1\n", "")), "no format line");
  EXPECT_EQ(error(replace("format=1", "format=2")), "format 2 (this pvm reads format 1)");
  EXPECT_EQ(error(replace("cpus=2\n", "")), "key 'cpus' missing");
  EXPECT_EQ(error(good + "cpus=3\n"), "key 'cpus' twice");
  EXPECT_EQ(error(good + "colour=blue\n"), "unknown key 'colour'");
  EXPECT_EQ(error(replace("debug=1", "debug=yes")), "key 'debug': bad value");
  EXPECT_EQ(error(replace("mem_mib=512", "mem_mib=-1")), "key 'mem_mib': bad value");
  EXPECT_EQ(error(replace("cpus=2", "cpus=99999999999")), "key 'cpus': bad value");
  EXPECT_EQ(error(replace("name=web-1", "name=Web")), "key 'name': bad value");
  // Sizes the hypervisor would refuse, or that would wrap once in bytes.
  EXPECT_EQ(error(replace("mem_mib=512", "mem_mib=4096")), "key 'mem_mib': bad value");
  EXPECT_EQ(error(replace("mem_mib=512", "mem_mib=17592186044480")), "key 'mem_mib': bad value");
  EXPECT_EQ(error(replace("mem_mib=512", "mem_mib=513")), "key 'mem_mib': bad value");
  EXPECT_EQ(error(replace("mem_mib=512", "mem_mib=8")), "key 'mem_mib': bad value");
  EXPECT_EQ(error(replace("cpus=2", "cpus=0")), "key 'cpus': bad value");
  EXPECT_EQ(error(replace("cpus=2", "cpus=9")), "key 'cpus': bad value");
  EXPECT_EQ(error(replace("has_initrd=1", "has_initrd=0")),
            "keys 'has_initrd' and 'initrd_source' disagree");
  EXPECT_EQ(error(good + "no equals sign\n"), "line 16: not key=value");
  EXPECT_EQ(error(good.substr(0, good.size() - 1)), "line 15: no newline at its end");
  // Comments and blank lines are skipped.
  EXPECT_TRUE(parse_record("# a comment\n\n" + good).has_value());
  EXPECT_TRUE(valid_record_value("a b=c"));
  EXPECT_FALSE(valid_record_value("a\nb"));
  EXPECT_FALSE(valid_record_value(std::string_view("a\0b", 3)));
}

TEST(VmStore, ListAndRunState) {
  ScratchDir dir;
  ScopedEnv state("PVM_STATE", dir.path().string());
  EXPECT_EQ(vm_dir("web"), dir.path() / "vms/web");
  EXPECT_TRUE(list_vm_names().empty());
  fs::create_directories(dir.path() / "vms/web");
  fs::create_directories(dir.path() / "vms/db");
  fs::create_directories(dir.path() / "vms/.web.abc123");  // a staging folder
  fs::create_directories(dir.path() / "vms/empty");        // no record
  VmRecord record = sample();
  for (const char* name : {"web", "db", ".web.abc123"}) {
    record.name = name[0] == '.' ? "web" : name;
    dir.write(std::string("vms/") + name + "/vm.conf", format_record(record));
  }
  EXPECT_EQ(list_vm_names(), (std::vector<std::string>{"db", "web"}));
  auto loaded = load_record("db");
  ASSERT_TRUE(loaded.has_value()) << loaded.error();
  EXPECT_EQ(loaded->name, "db");
  EXPECT_FALSE(load_record("none").has_value());
  // A record naming another VM is refused.
  dir.write("vms/web/vm.conf", format_record(*loaded));
  EXPECT_NE(load_record("web").error().find("names VM 'db'"), std::string::npos);

  const fs::path web = vm_dir("web");
  EXPECT_FALSE(vm_run_state(web).running);
  {
    auto lock = VmLock::take(web);
    ASSERT_TRUE(lock.has_value());
    dir.write("vms/web/pid", "4242\n");
    const VmRunState running = vm_run_state(web);
    EXPECT_TRUE(running.running);
    EXPECT_EQ(running.pid, 4242);
    // A pid file naming no single process gives no pid: `pvm stop` would
    // otherwise signal a whole process group (kill(0), kill(-1)).
    for (const char* bad : {"0\n", "-1\n", "99999999999999\n", "x\n"}) {
      dir.write("vms/web/pid", bad);
      EXPECT_FALSE(vm_run_state(web).pid.has_value()) << bad;
    }
    // Held: a second taker (even in this process) is refused.
    auto second = VmLock::take(web);
    ASSERT_FALSE(second.has_value());
    EXPECT_EQ(second.error(), VmLock::Error::kHeld);
  }
  EXPECT_FALSE(vm_run_state(web).running);
  EXPECT_TRUE(VmLock::take(web).has_value());
  EXPECT_EQ(VmLock::take(dir.path() / "vms/missing").error(), VmLock::Error::kFailed);
}

TEST(VmStore, UtcTimestamp) {
  EXPECT_EQ(utc_timestamp(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(utc_timestamp(1738324800), "2025-01-31T12:00:00Z");
}

}  // namespace
}  // namespace pvm

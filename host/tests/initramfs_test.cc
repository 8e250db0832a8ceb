#include "initramfs.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <charconv>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace pvm {
namespace {

// An independent newc reader (no cpio binary on the machine): checks the
// layout rules of buffer-format.rst while it parses.
struct Entry {
  uint32_t ino, mode, uid, gid, nlink, mtime, rdev_major, rdev_minor;
  std::string name;
  std::string data;
};

std::optional<std::vector<Entry>> parse_newc(const std::vector<uint8_t>& archive,
                                             std::string* problem) {
  std::string_view in(reinterpret_cast<const char*>(archive.data()), archive.size());
  std::vector<Entry> entries;
  size_t pos = 0;
  auto field = [&](size_t index) -> std::optional<uint32_t> {
    std::string_view digits = in.substr(pos + 6 + 8 * index, 8);
    for (char c : digits) {
      if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) return std::nullopt;  // upper hex
    }
    uint32_t value = 0;
    std::from_chars(digits.data(), digits.data() + 8, value, 16);
    return value;
  };
  while (true) {
    if (pos % 4 != 0) return *problem = "header not 4-aligned", std::nullopt;
    if (in.size() - pos < 110) return *problem = "truncated header", std::nullopt;
    if (in.substr(pos, 6) != "070701") return *problem = "bad magic", std::nullopt;
    uint32_t f[13];
    for (size_t i = 0; i < 13; ++i) {
      auto v = field(i);
      if (!v) return *problem = "bad hex field", std::nullopt;
      f[i] = *v;
    }
    const uint32_t filesize = f[6], namesize = f[11];
    if (f[7] != 0 || f[8] != 0 || f[12] != 0) return *problem = "dev/check not 0", std::nullopt;
    if (namesize == 0 || in.size() - pos - 110 < namesize) return *problem = "bad name", std::nullopt;
    std::string_view name = in.substr(pos + 110, namesize);
    if (name.back() != '\0') return *problem = "name without NUL", std::nullopt;
    name.remove_suffix(1);
    size_t data_pos = (pos + 110 + namesize + 3) & ~size_t{3};
    for (size_t i = pos + 110 + namesize; i < data_pos; ++i) {
      if (in[i] != '\0') return *problem = "name padding not NUL", std::nullopt;
    }
    if (data_pos > in.size() || in.size() - data_pos < filesize) {
      return *problem = "truncated data", std::nullopt;
    }
    Entry e{f[0], f[1], f[2], f[3], f[4], f[5], f[9], f[10], std::string(name),
            std::string(in.substr(data_pos, filesize))};
    pos = (data_pos + filesize + 3) & ~size_t{3};
    if (pos > in.size()) return *problem = "data padding missing", std::nullopt;
    if (e.name == "TRAILER!!!") {
      if (pos != in.size()) return *problem = "bytes after trailer", std::nullopt;
      return entries;
    }
    entries.push_back(std::move(e));
  }
}

std::vector<Entry> parse_or_fail(const std::vector<uint8_t>& archive) {
  std::string problem;
  auto entries = parse_newc(archive, &problem);
  EXPECT_TRUE(entries.has_value()) << problem;
  return entries.value_or(std::vector<Entry>{});
}

std::span<const uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(Initramfs, ExactBytesOfSmallArchive) {
  InitramfsWriter w;
  ASSERT_TRUE(w.add_directory("/d", 0755));
  ASSERT_TRUE(w.add_file("d/f", bytes("hi"), 0644));
  auto archive = w.finish();
  ASSERT_TRUE(archive.has_value());
  // fields: ino mode uid gid nlink mtime filesize devmaj devmin rdevmaj rdevmin namesize check
  const std::string expected =
      std::string("070701" "00000001" "000041ED" "00000000" "00000000" "00000002" "00000000"
                  "00000000" "00000000" "00000000" "00000000" "00000000" "00000002" "00000000"
                  "d\0", 112) +
      std::string("070701" "00000002" "000081A4" "00000000" "00000000" "00000001" "00000000"
                  "00000002" "00000000" "00000000" "00000000" "00000000" "00000004" "00000000"
                  "d/f\0" "\0\0" "hi\0\0", 120) +
      std::string("070701" "00000000" "00000000" "00000000" "00000000" "00000001" "00000000"
                  "00000000" "00000000" "00000000" "00000000" "00000000" "0000000B" "00000000"
                  "TRAILER!!!", 120) +
      std::string(4, '\0');  // the name's NUL, then padding from 121 to 124 bytes
  EXPECT_EQ(std::string(archive->begin(), archive->end()), expected);
  EXPECT_EQ(archive->size() % 4, 0u);
}

TEST(Initramfs, AllEntryKinds) {
  InitramfsWriter w;
  ASSERT_TRUE(w.add_directory("dev"));
  ASSERT_TRUE(w.add_directory("bin", 0700));
  ASSERT_TRUE(w.add_char_device("/dev/ttyX", 4, 64, 0620));
  ASSERT_TRUE(w.add_file("/bin/data", bytes("12345"), 0755));
  ASSERT_TRUE(w.add_symlink("/bin/sh", "busybox"));
  auto archive = w.finish();
  ASSERT_TRUE(archive.has_value());
  auto entries = parse_or_fail(*archive);
  ASSERT_EQ(entries.size(), 5u);
  EXPECT_EQ(entries[0].name, "dev");
  EXPECT_EQ(entries[0].mode, 040755u);
  EXPECT_EQ(entries[1].mode, 040700u);
  EXPECT_EQ(entries[2].name, "dev/ttyX");
  EXPECT_EQ(entries[2].mode, 020620u);
  EXPECT_EQ(entries[2].rdev_major, 4u);
  EXPECT_EQ(entries[2].rdev_minor, 64u);
  EXPECT_EQ(entries[3].mode, 0100755u);
  EXPECT_EQ(entries[3].data, "12345");
  EXPECT_EQ(entries[4].mode, 0120777u);
  EXPECT_EQ(entries[4].data, "busybox");  // the target, no NUL
  for (size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(entries[i].ino, i + 1);
    EXPECT_EQ(entries[i].uid, 0u);
    EXPECT_EQ(entries[i].mtime, 0u);
  }
}

TEST(Initramfs, DataPaddingForEveryLength) {
  for (size_t len = 0; len < 9; ++len) {
    for (size_t name_len = 1; name_len < 6; ++name_len) {
      InitramfsWriter w;
      std::string name(name_len, 'n');
      std::string data(len, 'x');
      ASSERT_TRUE(w.add_file(name, bytes(data)));
      auto archive = w.finish();
      ASSERT_TRUE(archive.has_value());
      auto entries = parse_or_fail(*archive);
      ASSERT_EQ(entries.size(), 1u);
      EXPECT_EQ(entries[0].name, name);
      EXPECT_EQ(entries[0].data, data);
    }
  }
}

TEST(Initramfs, RefusesBadInput) {
  InitramfsWriter w;
  std::span<const uint8_t> none;
  EXPECT_EQ(w.add_file("a/b", none).error(), InitramfsError::kMissingParent);
  ASSERT_TRUE(w.add_file("a", none));
  EXPECT_EQ(w.add_file("a/b", none).error(), InitramfsError::kMissingParent);  // a is a file
  EXPECT_EQ(w.add_file("/a", none).error(), InitramfsError::kDuplicate);
  EXPECT_EQ(w.add_directory("").error(), InitramfsError::kBadPath);
  EXPECT_EQ(w.add_directory("/").error(), InitramfsError::kBadPath);
  EXPECT_EQ(w.add_directory("x/").error(), InitramfsError::kBadPath);
  EXPECT_EQ(w.add_directory("..").error(), InitramfsError::kBadPath);
  EXPECT_EQ(w.add_directory("x//y").error(), InitramfsError::kBadPath);
  EXPECT_EQ(w.add_directory("./x").error(), InitramfsError::kBadPath);
  EXPECT_EQ(w.add_directory(std::string(4096, 'a')).error(), InitramfsError::kPathTooLong);
  EXPECT_EQ(w.add_file("m", none, 010000).error(), InitramfsError::kBadMode);
  EXPECT_EQ(w.add_symlink("l", "").error(), InitramfsError::kEmptyLinkTarget);
  ASSERT_TRUE(w.add_directory(std::string(4095, 'a')));
  ASSERT_TRUE(w.finish().has_value());
  EXPECT_EQ(w.finish().error(), InitramfsError::kFinished);
  EXPECT_EQ(w.add_directory("late").error(), InitramfsError::kFinished);
}

TEST(Initramfs, DemoArchive) {
  const std::string busybox = "\x7f" "ELF fake busybox";
  auto archive = build_demo_initramfs(bytes(busybox));
  ASSERT_TRUE(archive.has_value());
  auto entries = parse_or_fail(*archive);
  ASSERT_EQ(entries.size(), 8u);
  auto find = [&](std::string_view name) -> const Entry* {
    for (const Entry& e : entries) {
      if (e.name == name) return &e;
    }
    return nullptr;
  };
  for (auto dir : {"bin", "dev", "proc", "sys"}) {
    ASSERT_NE(find(dir), nullptr) << dir;
    EXPECT_EQ(find(dir)->mode & 0170000, 040000u) << dir;
  }
  const Entry* console = find("dev/console");
  ASSERT_NE(console, nullptr);
  EXPECT_EQ(console->mode, 020600u);
  EXPECT_EQ(console->rdev_major, 5u);
  EXPECT_EQ(console->rdev_minor, 1u);
  const Entry* bb = find("bin/busybox");
  ASSERT_NE(bb, nullptr);
  EXPECT_EQ(bb->mode, 0100755u);
  EXPECT_EQ(bb->data, busybox);
  const Entry* probe = find("bin/counter-probe");
  ASSERT_NE(probe, nullptr);
  EXPECT_EQ(probe->mode, 0100755u);
  std::span<const uint8_t> program = counter_probe_program();
  EXPECT_EQ(probe->data, std::string(program.begin(), program.end()));
  const Entry* init = find("init");
  ASSERT_NE(init, nullptr);
  EXPECT_EQ(init->mode, 0100755u);
  EXPECT_EQ(init->data, demo_init_script());
}

// The probe as Linux will exec it: a static little-endian ELF64 executable
// for AArch64 with no program interpreter, whose one line is the goal.
TEST(Initramfs, CounterProbeIsAStaticArm64Program) {
  std::span<const uint8_t> elf = counter_probe_program();
  ASSERT_GE(elf.size(), 64u);
  EXPECT_EQ(std::string(elf.begin(), elf.begin() + 4), "\x7f" "ELF");
  EXPECT_EQ(elf[4], 2);  // ELFCLASS64
  EXPECT_EQ(elf[5], 1);  // ELFDATA2LSB
  auto u16 = [&](size_t at) { return static_cast<unsigned>(elf[at] | elf[at + 1] << 8); };
  EXPECT_EQ(u16(16), 2u);    // e_type ET_EXEC
  EXPECT_EQ(u16(18), 183u);  // e_machine EM_AARCH64
  uint64_t phoff = 0;
  for (int i = 7; i >= 0; --i) phoff = phoff << 8 | elf[32 + i];
  const unsigned phentsize = u16(54), phnum = u16(56);
  ASSERT_LE(phoff + uint64_t{phentsize} * phnum, elf.size());
  for (unsigned i = 0; i < phnum; ++i) {
    EXPECT_NE(u16(phoff + i * phentsize), 3u) << "PT_INTERP: not static";
  }
  const std::string text(elf.begin(), elf.end());
  EXPECT_NE(text.find("pvm-guest: reached /init at counter tick "), std::string::npos);
  EXPECT_LT(elf.size(), 4096u);
}

TEST(Initramfs, DemoScriptPrintsTheAgreedLines) {
  std::string_view script = demo_init_script();
  EXPECT_TRUE(script.starts_with("#!/bin/busybox sh\n"));
  // The first thing run is the counter probe, whose line starts with the
  // default goal of `pvm run`.
  EXPECT_TRUE(script.substr(18).starts_with("/bin/counter-probe\n"));
  EXPECT_NE(script.find("/bin/busybox --install -s /bin"), std::string_view::npos);
  EXPECT_NE(script.find("mount -t proc"), std::string_view::npos);
  EXPECT_NE(script.find("mount -t sysfs"), std::string_view::npos);
  EXPECT_NE(script.find("uname -r"), std::string_view::npos);
  EXPECT_NE(script.find("/proc/cmdline"), std::string_view::npos);
  EXPECT_NE(script.find("MemTotal"), std::string_view::npos);
  EXPECT_NE(script.find("/proc/device-tree/chosen"), std::string_view::npos);
  EXPECT_NE(script.find("/proc/device-tree/reserved-memory"), std::string_view::npos);
  EXPECT_NE(script.find("echo \"pvm-guest: powering off\"\npoweroff -f\n"), std::string_view::npos);
  // Every echo prints a line starting with "pvm-guest: " (or "pvm-guest:" then words).
  for (size_t at = script.find("echo "); at != std::string_view::npos;
       at = script.find("echo ", at + 1)) {
    EXPECT_TRUE(script.substr(at).starts_with("echo \"pvm-guest:")) << script.substr(at, 40);
  }
}

}  // namespace
TEST(Gzip, RoundTripsThroughZlib) {
  std::vector<uint8_t> data(100000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>((i * 7) % 13);
  auto gz = gzip(data);
  ASSERT_TRUE(gz);
  ASSERT_GE(gz->size(), 18u);
  EXPECT_EQ((*gz)[0], 0x1f);  // RFC 1952 ID1, ID2, CM = deflate
  EXPECT_EQ((*gz)[1], 0x8b);
  EXPECT_EQ((*gz)[2], 8);
  EXPECT_LT(gz->size(), data.size() / 10);
  std::vector<uint8_t> back(data.size());
  z_stream z{};
  ASSERT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
  z.next_in = gz->data();
  z.avail_in = static_cast<uInt>(gz->size());
  z.next_out = back.data();
  z.avail_out = static_cast<uInt>(back.size());
  EXPECT_EQ(inflate(&z, Z_FINISH), Z_STREAM_END);
  inflateEnd(&z);
  EXPECT_EQ(back, data);
}

}  // namespace pvm

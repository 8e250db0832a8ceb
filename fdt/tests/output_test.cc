// The rebuild: golden outputs for the good inputs, dtc's opinion of every
// output, and the options (seeds, DICE handover, bootargs policy).
#include "fdt/output.h"

#include <gtest/gtest.h>
#include <libfdt.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "corpus_util.h"
#include "libfdt_oracle.h"

namespace fdt {
namespace {

using testing::Case;

struct Decompiled {
  std::string dts;
  std::string warnings;
  int status = -1;
};

// `dtc -I dtb -O dts` of `blob`, with what it wrote on stderr.
Decompiled decompile(const std::vector<std::byte>& blob, const std::string& tag) {
  const auto dir = std::filesystem::path(::testing::TempDir());
  const auto in = dir / ("fdt_output_" + tag + ".dtb");
  const auto err = dir / ("fdt_output_" + tag + ".err");
  {
    std::ofstream f(in, std::ios::binary);
    f.write(reinterpret_cast<const char*>(blob.data()), static_cast<std::streamsize>(blob.size()));
  }
  const std::string cmd =
      std::string(FDT_DTC) + " -I dtb -O dts -o - " + in.string() + " 2>" + err.string();
  Decompiled d;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return d;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) d.dts.append(buf, n);
  d.status = pclose(p);
  std::ifstream e(err);
  d.warnings.assign(std::istreambuf_iterator<char>(e), std::istreambuf_iterator<char>());
  return d;
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

TEST(Output, GoldenAndDtcClean) {
  size_t goldens = 0;
  for (const Case& c : testing::load_cases()) {
    if (c.expect != "ok") continue;
    SCOPED_TRACE(c.name);
    std::vector<std::byte> out;
    ASSERT_EQ(testing::verdict(testing::read_bytes(c.dtb), c, &out), "ok");
    const Decompiled d = decompile(out, c.name);
    EXPECT_EQ(d.status, 0);
    EXPECT_EQ(d.warnings, "") << "dtc warns about the output";
    const auto golden = std::filesystem::path(FDT_GOLDEN_SRC) / (c.name + ".dts");
    if (std::filesystem::exists(golden)) {
      ++goldens;
      EXPECT_EQ(d.dts, read_text(golden))
          << "regenerate: dtc -I dtb -O dts of `pvm fdt sanitize` output, see README.md";
    }
  }
  EXPECT_GE(goldens, 3u);
}

uint32_t be32(const std::vector<std::byte>& b, size_t off) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | std::to_integer<uint32_t>(b[off + i]);
  return v;
}

// Every output is a packed, fully valid tree (libfdt's fdt_check_full, and
// Tree agrees with libfdt on it), its blocks in DTSpec order, and every byte
// that pads a name or a value to a word is zero.
TEST(Output, WellFormedAndCanonical) {
  for (const Case& c : testing::load_cases()) {
    if (c.expect != "ok") continue;
    SCOPED_TRACE(c.name);
    std::vector<std::byte> out;
    ASSERT_EQ(testing::verdict(testing::read_bytes(c.dtb), c, &out), "ok");
    EXPECT_EQ(fdt_check_full(out.data(), out.size()), 0);
    auto tree = Tree::open(out);
    ASSERT_TRUE(tree);
    EXPECT_EQ(testing::libfdt_disagreement(*tree, out), "");
    const uint32_t off_struct = be32(out, 8), off_strings = be32(out, 12);
    const uint32_t size_strings = be32(out, 32), size_struct = be32(out, 36);
    EXPECT_EQ(be32(out, 4), out.size());
    EXPECT_EQ(be32(out, 16), 40u);  // the reservation map right after the header
    EXPECT_EQ(off_struct, 56u);     // ... holding only its terminator
    EXPECT_EQ(off_strings, off_struct + size_struct);
    EXPECT_EQ(off_strings + size_strings, out.size());
    for (uint32_t off = off_struct; off < off_struct + size_struct;) {
      const uint32_t tag = be32(out, off);
      off += 4;
      size_t end = off;
      if (tag == FDT_BEGIN_NODE) {
        while (out[end] != std::byte{0}) ++end;
        ++end;
      } else if (tag == FDT_PROP) {
        end = off + 8 + be32(out, off);
      }
      for (; end % 4 != 0; ++end) ASSERT_EQ(out[end], std::byte{0}) << "padding at " << end;
      off = static_cast<uint32_t>(end);
    }
  }
}

// The output is itself a tree pvmfw accepts, and rebuilding it changes
// nothing: the rebuild is a fixed point.
TEST(Output, IsAFixedPoint) {
  for (const Case& c : testing::load_cases()) {
    if (c.expect != "ok") continue;
    SCOPED_TRACE(c.name);
    std::vector<std::byte> once, twice;
    ASSERT_EQ(testing::verdict(testing::read_bytes(c.dtb), c, &once), "ok");
    ASSERT_EQ(testing::verdict(once, c, &twice), "ok");
    EXPECT_EQ(once, twice);
  }
}

struct Built {
  VmPlatform platform;
  std::vector<std::byte> input;
};

Built platform_of(const std::string& name) {
  Built b;
  b.input = testing::read_bytes(std::string(FDT_CORPUS_BUILD) + "/" + name + ".dtb");
  auto tree = Tree::open(b.input);
  EXPECT_TRUE(tree);
  auto p = validate_platform(*tree, board_limits(PsciMethod::kHvc));
  EXPECT_TRUE(p);
  if (p) b.platform = *p;
  return b;
}

TEST(Output, SeedsAndFlags) {
  Built b = platform_of("good_vm");
  std::array<std::byte, 32> rng;
  for (size_t i = 0; i < rng.size(); ++i) rng[i] = std::byte(i);
  OutputOptions o;
  o.dice_handover = testing::kTestHandover;
  o.kaslr_seed = 0x0123456789abcdefull;
  o.rng_seed = rng;
  o.strict_boot = true;
  o.new_instance = true;
  std::vector<std::byte> out(64 * 1024);
  auto n = build_output(platform_template(), b.platform, o, out);
  ASSERT_TRUE(n) << to_string(n.error());
  out.resize(*n);
  auto tree = Tree::open(out);
  ASSERT_TRUE(tree);
  auto chosen = tree->node("/chosen");
  ASSERT_TRUE(chosen);
  EXPECT_EQ(*tree->prop_uint(*chosen, "kaslr-seed"), 0x0123456789abcdefull);
  auto seed = tree->prop(*chosen, "rng-seed");
  ASSERT_TRUE(seed);
  EXPECT_TRUE(std::equal(seed->begin(), seed->end(), rng.begin(), rng.end()));
  EXPECT_TRUE(tree->prop(*chosen, "avf,strict-boot"));
  EXPECT_TRUE(tree->prop(*chosen, "avf,new-instance"));
  auto dice = tree->node("/reserved-memory/dice@403ff000");
  ASSERT_TRUE(dice);
  EXPECT_TRUE(tree->prop_has_string(*dice, "compatible", "google,open-dice"));
  EXPECT_TRUE(tree->prop(*dice, "no-map"));
  EXPECT_EQ(tree->reg(*dice)->base, 0x403ff000u);
}

TEST(Output, Refusals) {
  Built b = platform_of("good_vm");
  OutputOptions o;
  o.dice_handover = testing::kTestHandover;
  std::vector<std::byte> out(64 * 1024);
  std::array<std::byte, 31> short_seed{};
  o.rng_seed = short_seed;
  EXPECT_EQ(build_output(platform_template(), b.platform, o, out).error(), BuildError::kBadRngSeed);
  o.rng_seed = {};
  for (base::Range bad :
       {base::Range{0, 0}, base::Range{0x40400000, 0x1000}, base::Range{0x403ff800, 0x1000},
        base::Range{0x80000000, 0x1000}, base::Range{0x42000000, 0x1000}}) {
    o.dice_handover = bad;
    EXPECT_EQ(build_output(platform_template(), b.platform, o, out).error(),
              BuildError::kBadHandover)
        << bad.base;
  }
  o.dice_handover = testing::kTestHandover;
  std::vector<std::byte> tiny(512);
  EXPECT_EQ(build_output(platform_template(), b.platform, o, tiny).error(), BuildError::kNoSpace);
  std::vector<std::byte> garbage(512, std::byte{0x55});
  EXPECT_EQ(build_output(garbage, b.platform, o, out).error(), BuildError::kBadTemplate);
  // The output is written in place: a buffer of exactly its size is enough.
  auto n = build_output(platform_template(), b.platform, o, out);
  ASSERT_TRUE(n);
  std::vector<std::byte> exact(*n), short_by_one(*n - 1);
  EXPECT_EQ(build_output(platform_template(), b.platform, o, exact), n);
  EXPECT_TRUE(std::equal(exact.begin(), exact.end(), out.begin()));
  EXPECT_EQ(build_output(platform_template(), b.platform, o, short_by_one).error(),
            BuildError::kNoSpace);
}

TEST(Output, NothingUnvalidatedSurvives) {
  Built b = platform_of("good_unknown_nodes");
  OutputOptions o;
  o.dice_handover = testing::kTestHandover;
  std::vector<std::byte> out(64 * 1024);
  auto n = build_output(platform_template(), b.platform, o, out);
  ASSERT_TRUE(n);
  out.resize(*n);
  const std::string text(reinterpret_cast<const char*>(out.data()), out.size());
  for (const char* absent : {"evil", "secret-stuff", "fw-cfg", "soc", "config", "kernel-address"}) {
    EXPECT_EQ(text.find(absent), std::string::npos) << absent;
  }
}

}  // namespace
}  // namespace fdt

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

// Every output is a packed, fully valid tree (libfdt's fdt_check_full, and
// Tree::open), its blocks in DTSpec order, and every byte that pads a name or
// a value to a word is zero.
TEST(Output, WellFormedAndCanonical) {
  for (const Case& c : testing::load_cases()) {
    if (c.expect != "ok") continue;
    SCOPED_TRACE(c.name);
    std::vector<std::byte> out;
    ASSERT_EQ(testing::verdict(testing::read_bytes(c.dtb), c, &out), "ok");
    const void* fdt = out.data();
    EXPECT_EQ(fdt_check_full(fdt, out.size()), 0);
    EXPECT_TRUE(Tree::open(out));
    EXPECT_EQ(fdt_totalsize(fdt), out.size());
    EXPECT_EQ(fdt_version(fdt), 17u);
    EXPECT_EQ(fdt_last_comp_version(fdt), 16u);
    // The reservation map after the header, where libfdt's fdt_create puts it
    // (aligned to its 16-byte entries; the 8 bytes between are zero) ...
    EXPECT_EQ(fdt_off_mem_rsvmap(fdt), 48u);
    for (size_t i = 40; i < 48; ++i) EXPECT_EQ(out[i], std::byte{0});
    EXPECT_EQ(fdt_num_mem_rsv(fdt), 0);
    EXPECT_EQ(fdt_off_dt_struct(fdt), 64u);  // ... holding only its terminator
    EXPECT_EQ(fdt_off_dt_strings(fdt), fdt_off_dt_struct(fdt) + fdt_size_dt_struct(fdt));
    EXPECT_EQ(fdt_off_dt_strings(fdt) + fdt_size_dt_strings(fdt), out.size());
    // Each token's content as libfdt reads it, then zeros up to the next.
    const auto* base = static_cast<const std::byte*>(fdt_offset_ptr(fdt, 0, 0));
    int off = 0, next = 0;
    for (uint32_t tag; (tag = fdt_next_tag(fdt, off, &next)) != FDT_END; off = next) {
      ASSERT_GE(next, 0);
      const std::byte* end = base + next;
      if (tag == FDT_BEGIN_NODE) {
        int len = 0;
        const char* name = fdt_get_name(fdt, off, &len);
        ASSERT_NE(name, nullptr);
        end = reinterpret_cast<const std::byte*>(name) + len + 1;
      } else if (tag == FDT_PROP) {
        int len = 0;
        const auto* value =
            static_cast<const std::byte*>(fdt_getprop_by_offset(fdt, off, nullptr, &len));
        ASSERT_NE(value, nullptr);
        end = value + len;
      }
      for (; end < base + next; ++end) ASSERT_EQ(*end, std::byte{0}) << "padding before " << next;
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
  auto p = validate_platform(*tree, board_limits(board::kQemuVirt, PsciMethod::kHvc));
  EXPECT_TRUE(p);
  if (p) b.platform = *p;
  return b;
}

TEST(Output, SeedsAndFlags) {
  Built b = platform_of("good_vm");
  std::array<std::byte, 32> rng;
  for (size_t i = 0; i < rng.size(); ++i) rng[i] = std::byte(i);
  OutputOptions o;
  o.dice_handover = board::kQemuVirt.handover;
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
  o.dice_handover = board::kQemuVirt.handover;
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
  o.dice_handover = board::kQemuVirt.handover;
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
  o.dice_handover = board::kQemuVirt.handover;
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

// The hostile corpus, data-driven: every case through Tree::open,
// validate_platform and build_output must give the outcome written next to it.
#include "fdt/validate.h"

#include <gtest/gtest.h>

#include <set>

#include "corpus_util.h"

namespace fdt {
namespace {

using testing::Case;

TEST(Corpus, EveryCaseGivesItsExpectedOutcome) {
  const std::vector<Case> cases = testing::load_cases();
  ASSERT_GE(cases.size(), 40u);
  size_t good = 0;
  std::set<std::string> refusals;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ASSERT_FALSE(c.expect.empty()) << "no expectation line";
    auto blob = testing::read_bytes(c.dtb);
    ASSERT_FALSE(blob.empty()) << c.dtb << " missing: list the case in tests/corpus/meson.build";
    EXPECT_EQ(testing::verdict(blob, c), c.expect);
    if (c.expect == "ok") {
      ++good;
    } else {
      refusals.insert(c.expect);
    }
  }
  EXPECT_GE(good, 10u);
  EXPECT_GE(refusals.size(), 60u);
}

// What a refusal is must not depend on the bytes after the tree (a DT window
// is larger than the tree in it).
TEST(Corpus, TrailingBytesChangeNothing) {
  for (const Case& c : testing::load_cases()) {
    SCOPED_TRACE(c.name);
    if (c.expect == "FDT_TRUNCATED") continue;  // the padding would complete them
    auto blob = testing::read_bytes(c.dtb);
    const std::string expected = testing::verdict(blob, c);
    blob.resize(blob.size() + 4096, std::byte{0xff});
    EXPECT_EQ(testing::verdict(blob, c), expected);
  }
}

// Every prefix of a good tree is refused without reading past it.
TEST(Corpus, TruncationsAreRefused) {
  for (const char* name : {"good_vm", "good_qemu_bios"}) {
    auto blob = testing::read_bytes(std::string(FDT_CORPUS_BUILD) + "/" + name + ".dtb");
    ASSERT_FALSE(blob.empty());
    for (size_t n = 0; n < blob.size(); n += 7) {
      std::vector<std::byte> prefix(blob.begin(), blob.begin() + static_cast<long>(n));
      EXPECT_FALSE(Tree::open(prefix)) << name << " " << n;
    }
  }
}

TEST(Validate, ReadsTheVmTree) {
  auto blob = testing::read_bytes(std::string(FDT_CORPUS_BUILD) + "/good_vm.dtb");
  auto tree = Tree::open(blob);
  ASSERT_TRUE(tree);
  auto p = validate_platform(*tree, board_limits(board::kQemuVirt, PsciMethod::kHvc));
  ASSERT_TRUE(p) << to_string(p.error());
  ASSERT_EQ(p->memory.size(), 1u);
  EXPECT_EQ(p->memory[0].base, 0x40000000u);
  EXPECT_EQ(p->memory[0].size, 0x40000000u);
  ASSERT_EQ(p->cpus.size(), 1u);
  EXPECT_EQ(p->cpus[0].compatible, "arm,arm-v8");
  EXPECT_EQ(p->gic.version, GicVersion::kV2);
  EXPECT_EQ(p->gic.distributor.base, 0x8000000u);
  EXPECT_EQ(p->gic.cpu_interface.base, 0x8010000u);
  EXPECT_EQ(p->timer.ppis[0].number, 13u);
  EXPECT_EQ(p->timer.ppis[0].trigger, 4u);
  ASSERT_EQ(p->uarts.size(), 1u);
  EXPECT_EQ(p->uarts[0].reg.base, 0x9000000u);
  EXPECT_EQ(p->uarts[0].irq.number, 1u);
  EXPECT_EQ(p->stdout_uart, 0u);
  EXPECT_TRUE(p->virtio.empty());
  EXPECT_FALSE(p->pci);
  ASSERT_TRUE(p->kernel);
  EXPECT_EQ(p->kernel->base, 0x40400000u);
  ASSERT_TRUE(p->initrd);
  EXPECT_EQ(p->initrd->base, 0x42000000u);
  EXPECT_EQ(p->bootargs, "console=ttyAMA0 panic=-1");
  EXPECT_FALSE(p->instance_id);
}

TEST(Validate, ReadsTheInstanceId) {
  auto blob = testing::read_bytes(std::string(FDT_CORPUS_BUILD) + "/good_avf.dtb");
  auto tree = Tree::open(blob);
  ASSERT_TRUE(tree);
  auto p = validate_platform(*tree, board_limits(board::kQemuVirt, PsciMethod::kHvc));
  ASSERT_TRUE(p) << to_string(p.error());
  ASSERT_TRUE(p->instance_id);
  for (size_t i = 0; i < kInstanceIdSize; ++i) EXPECT_EQ(std::to_integer<size_t>((*p->instance_id)[i]), i);
}

TEST(Validate, ReadsQemusOwnTree) {
  auto blob = testing::read_bytes(std::string(FDT_CORPUS_BUILD) + "/good_qemu_bios.dtb");
  auto tree = Tree::open(blob);
  ASSERT_TRUE(tree);
  auto p = validate_platform(*tree, board_limits(board::kQemuVirt, PsciMethod::kHvc));
  ASSERT_TRUE(p) << to_string(p.error());
  EXPECT_EQ(p->cpus[0].compatible, "arm,cortex-a57");
  EXPECT_EQ(p->virtio.size(), 32u);
  ASSERT_TRUE(p->pci);
  EXPECT_EQ(p->pci->ecam.base, 0x4010000000u);
  EXPECT_EQ(p->pci->ranges.size(), 3u);
  EXPECT_EQ(p->pci->irqs.size(), 16u);
  EXPECT_EQ(p->pci->irq_mask[0], 0x1800u);
  EXPECT_FALSE(p->kernel);
  EXPECT_FALSE(p->initrd);
}

TEST(Validate, GicV3Redistributors) {
  auto blob = testing::read_bytes(std::string(FDT_CORPUS_BUILD) + "/good_qemu_gicv3_4cpus.dtb");
  auto tree = Tree::open(blob);
  ASSERT_TRUE(tree);
  auto p = validate_platform(*tree, board_limits(board::kQemuVirt, PsciMethod::kHvc));
  ASSERT_TRUE(p) << to_string(p.error());
  EXPECT_EQ(p->gic.version, GicVersion::kV3);
  EXPECT_EQ(p->cpus.size(), 4u);
  ASSERT_EQ(p->gic.redistributors.size(), 1u);
  EXPECT_EQ(p->gic.redistributors[0].base, 0x80a0000u);
}

TEST(Validate, LimitsAreHonoured) {
  auto blob = testing::read_bytes(std::string(FDT_CORPUS_BUILD) + "/good_qemu_gicv3_4cpus.dtb");
  auto tree = Tree::open(blob);
  ASSERT_TRUE(tree);
  Limits limits = board_limits(board::kQemuVirt, PsciMethod::kHvc);
  limits.max_cpus = 2;
  EXPECT_EQ(validate_platform(*tree, limits).error(), ValidateError::kTooManyCpus);
  limits = board_limits(board::kQemuVirt, PsciMethod::kHvc);
  limits.max_ram_size = 0x20000000;
  EXPECT_EQ(validate_platform(*tree, limits).error(), ValidateError::kMemoryTooLarge);
  EXPECT_EQ(validate_platform(*tree, board_limits(board::kQemuVirt, PsciMethod::kSmc)).error(),
            ValidateError::kPsciConduitMismatch);
}

TEST(Validate, EveryErrorHasADistinctName) {
  std::set<std::string> names;
  for (int i = 0; i <= static_cast<int>(ValidateError::kAvfPropertyTooLarge); ++i) {
    const auto e = static_cast<ValidateError>(i);
    EXPECT_TRUE(names.insert(to_string(e)).second) << to_string(e);
    EXPECT_NE(std::string(describe(e)), "unknown");
  }
}

struct BootargsCase {
  const char* in;
  const char* out;
};

TEST(Bootargs, AllowList) {
  const BootargsCase cases[] = {
      {"console=ttyAMA0 panic=-1", "console=ttyAMA0 panic=-1"},
      {"", ""},
      {"   quiet   ", "quiet"},
      {"init=/bin/sh", ""},
      {"nokaslr quiet rdinit=/x", "quiet"},
      {"console=hvc0 console=ttyAMA1,115200", "console=ttyAMA1,115200"},
      {"earlycon earlycon=pl011,0x40000000", "earlycon"},
      {"loglevel=7 loglevel=77 loglevel=", "loglevel=7"},
      {"panic=10 panic=x panic=-", "panic=10"},
      {"quiet=1 \"quiet\"", ""},
      {"\"dyndbg=file foo +p\" quiet", "quiet"},
      {"x=\"a b\" quiet\tloglevel=3\n", "quiet loglevel=3"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.in);
    ASSERT_TRUE(bootargs_wellformed(c.in));
    std::array<char, kMaxBootargs> buf;
    auto n = filter_bootargs(c.in, buf);
    ASSERT_TRUE(n);
    EXPECT_EQ(std::string_view(buf.data(), *n), c.out);
  }
  std::array<char, 4> tiny;
  EXPECT_FALSE(filter_bootargs("quiet", tiny));
}

TEST(Bootargs, WellFormed) {
  EXPECT_FALSE(bootargs_wellformed("a \"b"));
  EXPECT_FALSE(bootargs_wellformed("a\x01"));
  EXPECT_FALSE(bootargs_wellformed("caf\xc3\xa9"));
  EXPECT_TRUE(bootargs_wellformed("a=\"b c\"\td\n"));
}

}  // namespace
}  // namespace fdt

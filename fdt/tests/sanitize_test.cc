// One sanitize for every caller: the firmware's calls (accept, then rebuild
// behind the input in the DT window, as entry/main.cc places it) give the
// bytes `pvm fdt sanitize` writes (sanitize, on the file), on the whole
// corpus; the entropy seeds are the one difference, and only when the host
// is not told them; what pvmfw decides alone is not an option; refusals name
// their step; the board is a parameter.
#include "fdt/sanitize.h"

#include <gtest/gtest.h>
#include <libfdt.h>

#include <algorithm>
#include <array>
#include <ostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "corpus_util.h"

namespace fdt {

// gtest's name for a SanitizeError: "validate MEMORY_OVERLAP".
void PrintTo(const SanitizeError& e, std::ostream* os) {
  *os << to_string(e.step()) << " " << to_string(e);
}

namespace {

using testing::Case;

constexpr const board::Board& kBoard = board::kQemuVirt;
constexpr uint64_t kPage = 4096;

std::array<std::byte, 32> test_rng_seed() {
  std::array<std::byte, 32> seed;
  for (size_t i = 0; i < seed.size(); ++i) seed[i] = std::byte(0xa0 + i);
  return seed;
}

// What the firmware hands the guest: the input at the start of a DT window
// (the rest of it zero), accept() on the whole window, the output rebuilt
// behind the input's last page (entry/main.cc, rebuild_device_tree).
std::expected<std::vector<std::byte>, SanitizeError> as_firmware(
    const std::vector<std::byte>& input, const Options& options) {
  std::vector<std::byte> window(kBoard.dt_window.size);
  std::copy(input.begin(), input.end(), window.begin());
  auto accepted = accept(window, kBoard, options);
  if (!accepted) return std::unexpected(accepted.error());
  const size_t in_end = (accepted->tree.size() + kPage - 1) & ~(kPage - 1);
  auto size = rebuild(*accepted, kBoard, options, std::span(window).subspan(in_end));
  if (!size) return std::unexpected(size.error());
  return std::vector<std::byte>(window.begin() + static_cast<long>(in_end),
                                window.begin() + static_cast<long>(in_end + *size));
}

// What `pvm fdt sanitize` writes: sanitize() on the file's bytes.
std::expected<std::vector<std::byte>, SanitizeError> as_cli(const std::vector<std::byte>& input,
                                                            const Options& options) {
  std::vector<std::byte> out(kMaxTreeSize);
  auto done = sanitize(input, kBoard, options, out);
  if (!done) return std::unexpected(done.error());
  out.resize(done->size);
  return out;
}

TEST(Sanitize, PvmfwsOwnDecisionsAreNotOptions) {
  const Options defaults;
  EXPECT_EQ(defaults.conduit, PsciMethod::kHvc);  // pvmfw at EL1 on qemu-virt
  EXPECT_FALSE(defaults.debuggable);
  EXPECT_FALSE(defaults.kaslr_seed);
  EXPECT_TRUE(defaults.rng_seed.empty());
  const auto rng = test_rng_seed();
  for (bool debuggable : {false, true}) {
    Options o;
    o.debuggable = debuggable;
    o.kaslr_seed = 7;
    o.rng_seed = rng;
    const OutputOptions out = output_options(kBoard, o);
    EXPECT_EQ(out.dice_handover.base, kBoard.handover.base);
    EXPECT_EQ(out.dice_handover.size, kBoard.handover.size);
    EXPECT_TRUE(out.strict_boot);
    EXPECT_FALSE(out.new_instance);
    EXPECT_EQ(out.debuggable, debuggable);
    EXPECT_EQ(out.kaslr_seed, o.kaslr_seed);
    EXPECT_EQ(out.rng_seed.data(), rng.data());
  }
}

// The firmware's path and the CLI's give the same bytes for every case, with
// the seeds and without, and refuse the same cases with the same error.
TEST(Sanitize, FirmwareAndCliGiveTheSameBytes) {
  const auto rng = test_rng_seed();
  size_t good = 0;
  for (const Case& c : testing::load_cases()) {
    SCOPED_TRACE(c.name);
    // The firmware never sees a file larger than its window, nor one that
    // ends early: the window's bytes go on (they would complete it).
    if (c.expect == "FDT_TRUNCATED") continue;
    const auto input = testing::read_bytes(c.dtb);
    if (input.size() > kBoard.dt_window.size) continue;
    for (bool seeded : {false, true}) {
      Options o = testing::options_for(c);
      if (seeded) {
        o.kaslr_seed = 0x0123456789abcdefull;
        o.rng_seed = rng;
      }
      const auto fw = as_firmware(input, o);
      const auto cli = as_cli(input, o);
      ASSERT_EQ(fw.has_value(), cli.has_value());
      if (!fw) {
        EXPECT_EQ(fw.error(), cli.error());
        EXPECT_EQ(to_string(fw.error()), c.expect);
        continue;
      }
      EXPECT_EQ(c.expect, "ok");
      EXPECT_EQ(*fw, *cli);
      good += seeded ? 1 : 0;
    }
  }
  EXPECT_GE(good, 10u);
}

// A node's properties by name and value, in order.
using Props = std::vector<std::pair<std::string, std::vector<std::byte>>>;

// Every node of `blob` by its path, with its properties.
std::vector<std::pair<std::string, Props>> nodes_of(const std::vector<std::byte>& blob) {
  std::vector<std::pair<std::string, Props>> nodes;
  const void* fdt = blob.data();
  std::array<char, 512> path{};
  int depth = 0;
  for (int n = 0; n >= 0 && depth >= 0; n = fdt_next_node(fdt, n, &depth)) {
    EXPECT_EQ(fdt_get_path(fdt, n, path.data(), static_cast<int>(path.size())), 0);
    Props props;
    int p;
    fdt_for_each_property_offset(p, fdt, n) {
      const char* name = nullptr;
      int len = 0;
      const auto* value = static_cast<const std::byte*>(fdt_getprop_by_offset(fdt, p, &name, &len));
      props.emplace_back(name, std::vector<std::byte>(value, value + len));
    }
    nodes.emplace_back(path.data(), std::move(props));
  }
  return nodes;
}

// The seeds add /chosen/kaslr-seed and rng-seed (with those values) and change
// nothing else: an output without them is the firmware's but for the seeds.
TEST(Sanitize, SeedsAreTheOnlyDifference) {
  const auto rng = test_rng_seed();
  size_t good = 0;
  for (const Case& c : testing::load_cases()) {
    if (c.expect != "ok") continue;
    SCOPED_TRACE(c.name);
    const auto input = testing::read_bytes(c.dtb);
    Options o = testing::options_for(c);
    const auto plain = as_cli(input, o);
    o.kaslr_seed = 0x0123456789abcdefull;
    o.rng_seed = rng;
    const auto seeded = as_cli(input, o);
    ASSERT_TRUE(plain && seeded);
    auto without = nodes_of(*plain);
    auto with = nodes_of(*seeded);
    ASSERT_EQ(without.size(), with.size());
    for (size_t i = 0; i < with.size(); ++i) {
      EXPECT_EQ(without[i].first, with[i].first);
      if (with[i].first != "/chosen") {
        EXPECT_EQ(without[i].second, with[i].second) << with[i].first;
        continue;
      }
      Props& chosen = with[i].second;
      const std::vector<std::byte> kaslr = {std::byte{0x01}, std::byte{0x23}, std::byte{0x45},
                                            std::byte{0x67}, std::byte{0x89}, std::byte{0xab},
                                            std::byte{0xcd}, std::byte{0xef}};
      const std::vector<std::byte> seed(rng.begin(), rng.end());
      const auto seed_props = std::erase_if(chosen, [&](const auto& prop) {
        return (prop.first == "kaslr-seed" && prop.second == kaslr) ||
               (prop.first == "rng-seed" && prop.second == seed);
      });
      EXPECT_EQ(seed_props, 2u);
      EXPECT_EQ(without[i].second, chosen);
      EXPECT_TRUE(std::any_of(chosen.begin(), chosen.end(),
                              [](const auto& prop) { return prop.first == "avf,strict-boot"; }));
    }
    ++good;
  }
  EXPECT_GE(good, 10u);
}

// Each refusal says its step, and no two steps share a name.
TEST(Sanitize, RefusalsNameTheirStep) {
  std::set<std::string> names;
  size_t count = 0;
  for (uint8_t i = 0; i <= static_cast<uint8_t>(Error::kBadProperty); ++i, ++count) {
    const SanitizeError e(static_cast<Error>(i));
    EXPECT_EQ(e.step(), Step::kRead);
    EXPECT_EQ(e.read_error(), static_cast<Error>(i));
    EXPECT_FALSE(e.validate_error() || e.build_error());
    names.insert(to_string(e));
  }
  for (uint8_t i = 0; i <= static_cast<uint8_t>(ValidateError::kInstanceIdSize); ++i, ++count) {
    const SanitizeError e(static_cast<ValidateError>(i));
    EXPECT_EQ(e.step(), Step::kValidate);
    EXPECT_EQ(to_string(e), std::string(to_string(static_cast<ValidateError>(i))));
    EXPECT_EQ(describe(e), std::string(describe(static_cast<ValidateError>(i))));
    names.insert(to_string(e));
  }
  for (uint8_t i = 0; i <= static_cast<uint8_t>(BuildError::kInconsistent); ++i, ++count) {
    const SanitizeError e(static_cast<BuildError>(i));
    EXPECT_EQ(e.step(), Step::kRebuild);
    EXPECT_EQ(e.build_error(), static_cast<BuildError>(i));
    EXPECT_STRNE(describe(e), "unknown rebuild error");
    names.insert(to_string(e));
  }
  EXPECT_EQ(names.size(), count);

  std::vector<std::byte> out(64 * 1024);
  for (const Case& c : testing::load_cases()) {
    if (c.expect == "ok") continue;
    SCOPED_TRACE(c.name);
    auto r = sanitize(testing::read_bytes(c.dtb), kBoard, testing::options_for(c), out);
    ASSERT_FALSE(r);
    const Step want = c.expect.starts_with("FDT_")      ? Step::kRead
                      : c.expect.starts_with("OUTPUT_") ? Step::kRebuild
                                                        : Step::kValidate;
    EXPECT_EQ(r.error().step(), want) << to_string(r.error().step());
  }
}

std::vector<std::byte> good_vm() {
  return testing::read_bytes(std::string(FDT_CORPUS_BUILD) + "/good_vm.dtb");
}

// fdt/ knows no board: another board's handover page, RAM base and DT window
// are the ones it uses.
TEST(Sanitize, TheBoardIsAParameter) {
  const auto input = good_vm();
  std::vector<std::byte> out(64 * 1024);

  board::Board other = kBoard;
  other.handover = {kBoard.scratch.base, kPage};  // the first page of pvmfw's RAM
  auto done = sanitize(input, other, Options{}, out);
  ASSERT_TRUE(done) << to_string(done.error());
  auto tree = Tree::open(std::span(out).first(done->size));
  ASSERT_TRUE(tree);
  auto dice = tree->node("/reserved-memory/dice@40200000");
  ASSERT_TRUE(dice);
  EXPECT_EQ(tree->reg(*dice)->base, kBoard.scratch.base);
  EXPECT_FALSE(tree->node("/reserved-memory/dice@403ff000"));

  other = kBoard;
  other.ram_base = kBoard.ram_base - 0x200000;  // good_vm's RAM starts above it
  other.dt_window.base = other.ram_base;
  EXPECT_EQ(sanitize(input, other, Options{}, out).error(),
            SanitizeError(ValidateError::kMemoryBase));

  other = kBoard;
  other.dt_window.size = 1024;  // smaller than good_vm
  ASSERT_GT(input.size(), other.dt_window.size);
  auto small = sanitize(input, other, Options{}, out);
  EXPECT_EQ(small.error(), SanitizeError(Error::kTooBig));
  EXPECT_EQ(small.error().step(), Step::kRead);
}

TEST(Sanitize, RebuildIntoTheInputIsRefused) {
  auto input = good_vm();
  input.resize(input.size() + 64 * 1024);
  auto accepted = accept(input, kBoard, Options{});
  ASSERT_TRUE(accepted);
  EXPECT_EQ(rebuild(*accepted, kBoard, Options{}, std::span(input).subspan(16)).error(),
            SanitizeError(BuildError::kInconsistent));
  auto behind = std::span(input).subspan(accepted->tree.size());
  EXPECT_TRUE(rebuild(*accepted, kBoard, Options{}, behind));
}

TEST(Sanitize, RebuildRefusalsAreTheRebuildsOwn) {
  const auto input = good_vm();
  Options o;
  std::array<std::byte, 8> short_seed{};
  o.rng_seed = short_seed;
  std::vector<std::byte> out(64 * 1024);
  auto r = sanitize(input, kBoard, o, out);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().build_error(), BuildError::kBadRngSeed);
  EXPECT_STREQ(to_string(r.error()), "OUTPUT_BAD_RNG_SEED");
  std::vector<std::byte> tiny(256);
  EXPECT_EQ(sanitize(input, kBoard, Options{}, tiny).error(), SanitizeError(BuildError::kNoSpace));
}

}  // namespace
}  // namespace fdt

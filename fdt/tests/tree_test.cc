#include "fdt/tree.h"

#include <gtest/gtest.h>
#include <libfdt.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "corpus_util.h"
#include "fdt/output.h"

namespace fdt {
namespace {

std::vector<std::byte> load(const std::string& name) {
  std::ifstream f(std::string(FDT_TEST_DATA) + "/" + name, std::ios::binary);
  std::vector<char> raw((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::vector<std::byte> out(raw.size());
  std::memcpy(out.data(), raw.data(), raw.size());
  return out;
}

void put32(std::vector<std::byte>& b, size_t off, uint32_t v) {
  for (size_t i = 0; i < 4; ++i) b[off + i] = std::byte(v >> (24 - 8 * i));
}
uint32_t get32(const std::vector<std::byte>& b, size_t off) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | std::to_integer<uint32_t>(b[off + i]);
  return v;
}

TEST(Tree, OpensGoodBlob) {
  auto blob = load("good_vm.dtb");
  ASSERT_FALSE(blob.empty());
  auto t = Tree::open(blob);
  ASSERT_TRUE(t) << to_string(t.error());
  auto chosen = t->node("/chosen");
  ASSERT_TRUE(chosen);
  EXPECT_EQ(*t->prop_string(*chosen, "stdout-path"), "/pl011@9000000");
  EXPECT_EQ(*t->prop_uint(*chosen, "linux,initrd-start"), 0x48000000u);
  auto mem = t->node("/memory");
  ASSERT_TRUE(mem);
  auto reg = t->reg(*mem);
  ASSERT_TRUE(reg);
  EXPECT_EQ(reg->base, 0x40000000u);
  EXPECT_EQ(reg->size, 0x40000000u);
  EXPECT_FALSE(t->reg(*mem, 1));
}

TEST(Tree, AcceptsLargerWindow) {
  auto blob = load("good_vm.dtb");
  blob.resize(blob.size() + 4096);
  EXPECT_TRUE(Tree::open(blob));
}

TEST(Tree, RefusesTruncated) {
  auto blob = load("good_vm.dtb");
  for (size_t n : {size_t{0}, size_t{39}, size_t{40}, blob.size() - 1}) {
    auto t = Tree::open(std::span(blob).first(n));
    ASSERT_FALSE(t) << n;
    EXPECT_EQ(t.error(), Error::kTruncated);
  }
}

TEST(Tree, RefusesBadHeaders) {
  auto good = load("good_vm.dtb");
  auto b = good;
  put32(b, 0, 0xd00dfeee);
  EXPECT_EQ(Tree::open(b).error(), Error::kBadMagic);
  b = good;
  put32(b, 20, 16);
  EXPECT_EQ(Tree::open(b).error(), Error::kBadVersion);
  b = good;
  put32(b, 8, 0xfffffff0);  // struct block offset past the end
  EXPECT_EQ(Tree::open(b).error(), Error::kBadLayout);
  b = good;
  put32(b, 36, get32(b, 36) + 0x10000);  // struct size past the end
  EXPECT_EQ(Tree::open(b).error(), Error::kBadLayout);
  b = good;
  put32(b, 12, get32(b, 8));  // strings overlapping struct
  EXPECT_EQ(Tree::open(b).error(), Error::kBadLayout);
}

TEST(Tree, RefusesBadPropertyNameOffset) {
  auto b = load("good_vm.dtb");
  const uint32_t off_struct = get32(b, 8);
  // First token is BEGIN_NODE for the root (name "" padded to 4), then the
  // first property: token, len, nameoff.
  ASSERT_EQ(get32(b, off_struct), 1u);
  ASSERT_EQ(get32(b, off_struct + 8), 3u);
  put32(b, off_struct + 16, 0x7fffffff);
  EXPECT_EQ(Tree::open(b).error(), Error::kBadStructure);
}

TEST(Tree, RefusesPropertyLengthPastBlock) {
  auto b = load("good_vm.dtb");
  const uint32_t off_struct = get32(b, 8);
  put32(b, off_struct + 12, 0xfffffff0);
  EXPECT_EQ(Tree::open(b).error(), Error::kBadStructure);
}

TEST(Tree, RefusesUnbalancedNodes) {
  auto b = load("good_vm.dtb");
  const uint32_t off_struct = get32(b, 8);
  const uint32_t size_struct = get32(b, 36);
  // Replace the final END_NODE (just before END) with a NOP.
  ASSERT_EQ(get32(b, off_struct + size_struct - 4), 9u);
  ASSERT_EQ(get32(b, off_struct + size_struct - 8), 2u);
  put32(b, off_struct + size_struct - 8, 4);
  EXPECT_EQ(Tree::open(b).error(), Error::kBadStructure);
}

TEST(Tree, RefusesUnknownToken) {
  auto b = load("good_vm.dtb");
  const uint32_t off_struct = get32(b, 8);
  put32(b, off_struct + 8, 0x77);
  EXPECT_EQ(Tree::open(b).error(), Error::kBadStructure);
}

TEST(Tree, PropertyShapes) {
  auto blob = load("bad_kernel_size_shape.dtb");
  auto t = Tree::open(blob);
  ASSERT_TRUE(t);
  auto config = t->node("/config");
  ASSERT_TRUE(config);
  EXPECT_EQ(t->prop_uint(*config, "kernel-size").error(), Error::kBadProperty);
  EXPECT_EQ(t->prop_uint(*config, "absent").error(), Error::kNotFound);
  EXPECT_EQ(*t->prop_uint(*config, "kernel-address"), 0x40400000u);
}

std::vector<std::byte> load_corpus(const std::string& name) {
  std::ifstream f(std::string(FDT_CORPUS_BUILD) + "/" + name + ".dtb", std::ios::binary);
  std::vector<char> raw((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::vector<std::byte> out(raw.size());
  std::memcpy(out.data(), raw.data(), raw.size());
  return out;
}

// libfdt 1.6.1 recursed without end on an alias naming itself; Tree resolves
// aliases itself, once, and hands libfdt absolute paths only.
TEST(Tree, AliasesResolvedOnce) {
  auto loop = load_corpus("bad_stdout_alias_loop");
  auto t = Tree::open(loop);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->node_by_path("loop").error(), Error::kNotFound);
  EXPECT_EQ(t->node_by_path("loop/x").error(), Error::kNotFound);
  auto good = load_corpus("good_alias_stdout");
  auto g = Tree::open(good);
  ASSERT_TRUE(g);
  auto uart = g->node_by_path("serial0:115200n8");
  ASSERT_TRUE(uart);
  EXPECT_EQ(g->name(*uart), "pl011@9000000");
  EXPECT_EQ(g->node_by_path("serial1").error(), Error::kNotFound);
  EXPECT_EQ(g->node_by_path("").error(), Error::kNotFound);
  EXPECT_EQ(g->node("chosen").error(), Error::kNotFound);  // relative paths are not looked up
}

TEST(Tree, Navigation) {
  auto blob = load_corpus("good_avf");
  auto t = Tree::open(blob);
  ASSERT_TRUE(t);
  auto untrusted = t->node("/avf/untrusted");
  ASSERT_TRUE(untrusted);
  EXPECT_EQ(t->name(*t->parent(*untrusted)), "avf");
  std::vector<std::string> names;
  for (auto p = t->next_property(*untrusted, std::nullopt); p;
       p = t->next_property(*untrusted, p->offset)) {
    names.emplace_back(p->name);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"instance-id", "defer-rollback-protection", "phandle"}));
  EXPECT_EQ(t->phandle(*untrusted), 0x77u);
  EXPECT_EQ(t->node_by_phandle(0x77), *untrusted);
  EXPECT_FALSE(t->node_by_phandle(0));
  auto child = t->first_child(*untrusted);
  ASSERT_TRUE(child);
  EXPECT_EQ(t->name(*child), "subnode-dropped");
  EXPECT_FALSE(t->next_sibling(*child));
}

// Lookups by path as libfdt does them, on a tree whose answers are known
// (good_vm: /, memory@40000000, cpus/cpu@0, psci, intc@8000000, ...).
TEST(Tree, PathLookups) {
  auto blob = load_corpus("good_vm");
  auto t = Tree::open(blob);
  ASSERT_TRUE(t);
  EXPECT_EQ(*t->node("/"), 0);
  EXPECT_EQ(*t->node("//"), 0);
  auto uart = t->node("/pl011@9000000");
  ASSERT_TRUE(uart);
  EXPECT_EQ(t->name(*uart), "pl011@9000000");
  // Without the unit address: the first node of that name (fdt_nodename_eq_).
  EXPECT_EQ(*t->node("/pl011"), *uart);
  EXPECT_EQ(*t->node("//pl011@9000000/"), *uart);
  EXPECT_EQ(t->node("/pl011@9000001").error(), Error::kNotFound);
  EXPECT_EQ(t->node("/pl0").error(), Error::kNotFound);
  auto cpu = t->node("/cpus/cpu@0");
  ASSERT_TRUE(cpu);
  EXPECT_EQ(*t->node("/cpus/cpu"), *cpu);
  EXPECT_EQ(t->name(*cpu), "cpu@0");
  EXPECT_EQ(t->name(*t->parent(*cpu)), "cpus");
  EXPECT_EQ(*t->parent(*t->parent(*cpu)), 0);
  EXPECT_FALSE(t->parent(0));
  EXPECT_EQ(t->name(0), "");
  EXPECT_EQ(t->node("/cpus/cpu@0/x").error(), Error::kNotFound);
  // Every node found by walking is found again by its path (no duplicate
  // siblings: a path names one node).
  size_t nodes = 0;
  std::vector<std::pair<int, std::string>> stack{{0, ""}};
  while (!stack.empty()) {
    auto [n, path] = stack.back();
    stack.pop_back();
    ++nodes;
    EXPECT_EQ(*t->node(path.empty() ? "/" : path), n) << path;
    for (auto c = t->first_child(n); c; c = t->next_sibling(*c)) {
      EXPECT_EQ(*t->parent(*c), n);
      stack.emplace_back(*c, path + "/" + std::string(t->name(*c)));
    }
  }
  EXPECT_EQ(nodes, 11u);
}

// Properties by name and in order, with values as compiled from the .dts.
TEST(Tree, Properties) {
  auto blob = load_corpus("good_vm");
  auto t = Tree::open(blob);
  ASSERT_TRUE(t);
  std::vector<std::string> names;
  for (auto p = t->next_property(0, std::nullopt); p; p = t->next_property(0, p->offset)) {
    names.emplace_back(p->name);
    auto byname = t->prop(0, p->name);
    ASSERT_TRUE(byname);
    EXPECT_EQ(byname->data(), p->value.data());
    EXPECT_EQ(byname->size(), p->value.size());
  }
  EXPECT_EQ(names, (std::vector<std::string>{"#address-cells", "#size-cells", "compatible", "model",
                                             "interrupt-parent"}));
  EXPECT_EQ(*t->prop_u32(0, "#size-cells"), 2u);
  EXPECT_EQ(*t->prop_string(0, "compatible"), "linux,dummy-virt");
  EXPECT_FALSE(t->prop(0, "#size-cell"));
  EXPECT_FALSE(t->prop(0, "#size-cellss"));
  auto psci = t->node("/psci");
  ASSERT_TRUE(psci);
  EXPECT_TRUE(t->prop_has_string(*psci, "compatible", "arm,psci-0.2"));
  EXPECT_FALSE(t->prop_has_string(*psci, "compatible", "arm,psci-0"));
  // The GIC's phandle, and the node it names.
  auto gic = t->node("/intc@8000000");
  ASSERT_TRUE(gic);
  EXPECT_EQ(t->phandle(*gic), 1u);
  EXPECT_EQ(t->node_by_phandle(1), *gic);
  EXPECT_EQ(t->node_by_phandle(2), *t->node("/apb-pclk"));
  EXPECT_FALSE(t->node_by_phandle(3));
  EXPECT_FALSE(t->node_by_phandle(0xffffffff));
  EXPECT_EQ(t->phandle(0), 0u);
}

// Tree remembers the properties of the nodes it was asked about (tree.h):
// more nodes than it keeps, a node with more properties than it keeps, and
// lookups in every order still give libfdt's answers, built here with
// libfdt's own writer.
TEST(Tree, LookupsBeyondWhatIsRemembered) {
  constexpr int kNodes = 40, kProps = 24;
  std::vector<std::byte> blob(64 * 1024);
  void* fdt = blob.data();
  ASSERT_EQ(fdt_create(fdt, static_cast<int>(blob.size())), 0);
  ASSERT_EQ(fdt_finish_reservemap(fdt), 0);
  ASSERT_EQ(fdt_begin_node(fdt, ""), 0);
  for (int n = 0; n < kNodes; ++n) {
    ASSERT_EQ(fdt_begin_node(fdt, ("n" + std::to_string(n)).c_str()), 0);
    for (int p = 0; p < kProps; ++p) {
      ASSERT_EQ(fdt_property_u32(fdt, ("p" + std::to_string(p)).c_str(), n * 100 + p), 0);
    }
    ASSERT_EQ(fdt_end_node(fdt), 0);
  }
  ASSERT_EQ(fdt_end_node(fdt), 0);
  ASSERT_EQ(fdt_finish(fdt), 0);
  auto t = Tree::open(blob);
  ASSERT_TRUE(t) << to_string(t.error());
  std::vector<int> nodes;
  for (auto c = t->first_child(0); c; c = t->next_sibling(*c)) nodes.push_back(*c);
  ASSERT_EQ(nodes.size(), static_cast<size_t>(kNodes));
  for (int round = 0; round < 3; ++round) {
    for (int n = 0; n < kNodes; ++n) {
      // Forwards, backwards, and alternating with the root.
      for (int i = 0; i < kProps; ++i) {
        const int p = round == 1 ? kProps - 1 - i : i;
        const std::string name = "p" + std::to_string(p);
        EXPECT_EQ(*t->prop_u32(nodes[n], name), static_cast<uint32_t>(n * 100 + p)) << n << name;
        if (round == 2) EXPECT_FALSE(t->prop(0, name));
      }
      EXPECT_FALSE(t->prop(nodes[n], "p"));
      EXPECT_FALSE(t->prop(nodes[n], "p240"));
    }
  }
}

// The template, read as a Tree, is accepted by the same rules.
TEST(Tree, OpensTheTemplate) {
  auto t = Tree::open(platform_template());
  ASSERT_TRUE(t) << to_string(t.error());
  EXPECT_TRUE(t->node("/avf/untrusted"));
  EXPECT_EQ(t->size(), platform_template().size());
}

// libfdt needs the blob 8-byte aligned (DTSpec 5.1 asks it of the tree).
TEST(Tree, RefusesMisalignedBlob) {
  auto good = load("good_vm.dtb");
  std::vector<std::byte> shifted(good.size() + 4);
  std::copy(good.begin(), good.end(), shifted.begin() + 4);
  EXPECT_EQ(Tree::open(std::span(shifted).subspan(4)).error(), Error::kBadLayout);
}

// Offsets that are not nodes or properties give nothing, never a read
// outside the blob (ASan watches).
TEST(Tree, ForeignOffsets) {
  auto blob = load("good_vm.dtb");
  auto t = Tree::open(blob);
  ASSERT_TRUE(t);
  for (int off : {-4, -1, 1, 2, 4, 8, 12, 0x7ffffffc, static_cast<int>(blob.size())}) {
    SCOPED_TRACE(off);
    EXPECT_FALSE(t->prop(off, "reg"));
    EXPECT_FALSE(t->first_child(off));
    EXPECT_FALSE(t->next_sibling(off));
    EXPECT_FALSE(t->parent(off));
    EXPECT_EQ(t->name(off), "");
    EXPECT_EQ(t->phandle(off), 0u);
  }
  // A property's offset is not a node, nor a node's one a property.
  auto chosen = t->node("/chosen");
  ASSERT_TRUE(chosen);
  auto p = t->next_property(*chosen, std::nullopt);
  ASSERT_TRUE(p);
  EXPECT_FALSE(t->first_child(p->offset));
  EXPECT_FALSE(t->next_property(*chosen, *chosen));
}

TEST(Tree, ErrorNames) {
  EXPECT_STREQ(to_string(Error::kTruncated), "FDT_TRUNCATED");
  EXPECT_STREQ(to_string(Error::kDuplicateNode), "FDT_DUPLICATE_NODE");
  EXPECT_STREQ(describe(Error::kBadPhandle), "malformed, reserved or duplicate phandle");
}

}  // namespace
}  // namespace fdt

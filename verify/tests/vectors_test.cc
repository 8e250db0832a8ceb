// Every case of ../shared/vectors/avb/manifest.json through verify_payload:
// `expected` is what a strict verifier must conclude (ok with digests and
// rollback index, or an error category, which must equal our to_string).
// The vectors are read in place; without them these tests skip visibly.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "json.h"
#include "vbmeta_builder.h"
#include "verify/verify.h"

namespace verify::testing {
namespace {

const std::string kDir = VERIFY_VECTORS_DIR;

std::optional<Json> load_manifest() {
  auto text = read_file(kDir + "/manifest.json");
  if (!text) return std::nullopt;
  return JsonParser(std::string_view(reinterpret_cast<const char*>(text->data()), text->size()))
      .parse();
}

const Json* manifest() {
  static const std::optional<Json> m = load_manifest();
  return m ? &*m : nullptr;
}

std::vector<std::string> vector_ids() {
  std::vector<std::string> ids;
  if (const Json* m = manifest()) {
    for (const auto& v : (*m)["vectors"].array) ids.push_back(v["id"].string);
  }
  return ids;
}

const Json& find_vector(const std::string& id) {
  for (const auto& v : (*manifest())["vectors"].array) {
    if (v["id"].string == id) return v;
  }
  static const Json kNull;
  return kNull;
}

Buf must_read(const std::string& rel) {
  auto b = read_file(kDir + "/" + rel);
  EXPECT_TRUE(b) << "cannot read " << kDir << "/" << rel;
  return b.value_or(Buf{});
}

void expect_digest(const PartitionDigest& got, const Json& want, const char* what) {
  SCOPED_TRACE(what);
  EXPECT_EQ(to_hex(std::span(got.bytes).first(got.size)), want["digest"].string);
  EXPECT_EQ(got.image_size, static_cast<uint64_t>(want["image_size"].number));
  EXPECT_EQ(to_string(got.algorithm), want["hash_algorithm"].string);
}

TEST(Vectors, ManifestIsPresent) {
  if (!std::filesystem::exists(kDir + "/manifest.json")) {
    GTEST_SKIP() << "AVB test vectors not found at " << kDir << ": data-driven tests skipped";
  }
  ASSERT_NE(manifest(), nullptr) << "manifest.json did not parse";
  EXPECT_GT((*manifest())["vectors"].array.size(), 40u);
}

class Vector : public ::testing::TestWithParam<std::string> {};

TEST_P(Vector, MatchesExpected) {
  const Json& v = find_vector(GetParam());
  ASSERT_FALSE(v.is_null());
  const Json& setup = v["setup"];
  const Json& parts = setup["partitions"];
  const Json& expected = v["expected"];
  SCOPED_TRACE(v["description"].string);

  Buf kernel = must_read(parts["boot"].string);
  Buf trusted = must_read(setup["trusted_public_key"].string);
  std::optional<Buf> initrd, vbmeta;
  if (parts.has("initrd_normal")) initrd = must_read(parts["initrd_normal"].string);
  if (setup["mode"].string == "vbmeta_partition") {
    ASSERT_TRUE(parts.has("vbmeta"));
    vbmeta = must_read(parts["vbmeta"].string);
  } else {
    ASSERT_EQ(setup["mode"].string, "footer");
  }

  PayloadInputs in;
  in.kernel = bytes(kernel);
  if (initrd) in.initrd = bytes(*initrd);
  if (vbmeta) in.vbmeta = bytes(*vbmeta);
  in.trusted_public_key = bytes(trusted);
  in.stored_rollback_index = static_cast<uint64_t>(setup["stored_rollback_index"].number);

  auto r = verify_payload(in);
  if (expected["result"].string == "ok") {
    ASSERT_TRUE(r) << to_string(r.error().error) << ": " << r.error().detail;
    const Json& digests = expected["expected_digests"];
    expect_digest(r->kernel, digests["boot"], "boot");
    if (digests.has("initrd_normal")) {
      ASSERT_TRUE(r->initrd);
      expect_digest(*r->initrd, digests["initrd_normal"], "initrd_normal");
      EXPECT_FALSE(r->debug_initrd);
    } else {
      EXPECT_FALSE(r->initrd);
    }
    EXPECT_EQ(r->rollback_index, static_cast<uint64_t>(expected["rollback_index"].number));
    if (expected.has("algorithm")) EXPECT_EQ(to_string(r->algorithm), expected["algorithm"].string);
  } else {
    ASSERT_EQ(expected["result"].string, "error");
    ASSERT_FALSE(r) << "accepted; expected " << expected["error"].string;
    EXPECT_EQ(to_string(r.error().error), expected["error"].string)
        << "detail: " << r.error().detail << " (stage " << expected["stage"].string << ")";
  }
}

INSTANTIATE_TEST_SUITE_P(Avb, Vector, ::testing::ValuesIn(vector_ids()),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Vector);

}  // namespace
}  // namespace verify::testing

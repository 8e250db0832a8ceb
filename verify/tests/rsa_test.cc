// verify/'s RSA layer (rsa.cc: the AVB key blob's checks and mbedTLS's
// PKCS#1 v1.5 verification) against answers that do not come from the code
// under test: avbtool's key blobs and signatures (../shared/vectors/avb),
// moduli whose R^2 mod n is known in closed form, and the s < n boundary on
// every key size. An allocation failure at each of mbedTLS's allocations in
// turn gives an error value and leaks nothing.
#include <gtest/gtest.h>
#include <mbedtls/platform.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "avb.h"
#include "vbmeta_builder.h"

namespace verify::testing {
namespace {

const std::string kDir = VERIFY_VECTORS_DIR;

constexpr size_t kKeySizes[] = {2048 / 8, 4096 / 8, 8192 / 8};

std::string outcome(const avb::Result<>& r) {
  if (r) return "OK";
  return std::string(to_string(r.error().error)) + " (" + r.error().detail + ")";
}

// -1/x mod 2^32 for odd x (Newton's iteration: each step doubles the correct
// low bits, from 3 since x * x == 1 mod 8).
uint32_t neg_inverse32(uint32_t x) {
  uint32_t inv = x;
  for (int i = 0; i < 4; ++i) inv *= 2 - x * inv;
  return 0u - inv;
}

// The AVB key blob for modulus n (big-endian) and the given rr.
Buf key_blob(const Buf& n, const Buf& rr) {
  Buf blob(8);
  put_be32(blob, 0, static_cast<uint32_t>(n.size() * 8));
  put_be32(blob, 4, neg_inverse32(get_be32(n, n.size() - 4)));
  blob.insert(blob.end(), n.begin(), n.end());
  blob.insert(blob.end(), rr.begin(), rr.end());
  return blob;
}

// `size` big-endian bytes holding the small value v.
Buf small(size_t size, uint64_t v) {
  Buf b(size, 0);
  for (size_t i = 0; i < 8 && v != 0; ++i, v >>= 8) b[size - 1 - i] = static_cast<uint8_t>(v);
  return b;
}
Buf plus_one(Buf x) {  // wraps at the size
  for (size_t i = x.size(); i-- > 0;) {
    if (++x[i] != 0) break;
  }
  return x;
}
Buf minus_one(Buf x) {  // for x > 0
  for (size_t i = x.size(); i-- > 0;) {
    if (x[i]-- != 0) break;
  }
  return x;
}

// Moduli of `size` bytes with R = 2^(8 * size) and R^2 mod n in closed form.
struct ClosedForm {
  const char* name;
  Buf n;
  Buf rr;
};
std::vector<ClosedForm> closed_forms(size_t size) {
  std::vector<ClosedForm> out;
  // n = R - 1: R == 1, so R^2 mod n = 1.
  out.push_back({"R - 1", Buf(size, 0xff), small(size, 1)});
  // n = R/2 + 1: R = 2n - 2 == -2, so R^2 mod n = 4.
  Buf half(size, 0);
  half.front() = 0x80;
  half.back() = 0x01;
  out.push_back({"R/2 + 1", half, small(size, 4)});
  // n = R - 2^64 + 1: R == 2^64 - 1, so R^2 mod n = (2^64 - 1)^2
  // = 2^128 - 2^65 + 1, below n.
  Buf high_low(size, 0xff);
  std::fill(high_low.end() - 8, high_low.end(), 0x00);
  high_low.back() = 0x01;
  Buf rr(size, 0);
  std::fill(rr.end() - 16, rr.end() - 9, 0xff);
  rr[size - 9] = 0xfe;
  rr.back() = 0x01;
  out.push_back({"R - 2^64 + 1", high_low, rr});
  return out;
}

struct VectorCase {
  const char* vbmeta;
  const char* key;
  Algorithm algorithm;
};
constexpr VectorCase kVectorCases[] = {
    {"boot_sha256_rsa2048.vbmeta", "testkey_rsa2048", Algorithm::kSha256Rsa2048},
    {"boot_sha256_rsa4096.vbmeta", "testkey_rsa4096", Algorithm::kSha256Rsa4096},
    {"boot_sha256_rsa8192.vbmeta", "testkey_rsa8192", Algorithm::kSha256Rsa8192},
    {"boot_sha512_rsa4096.vbmeta", "testkey_rsa4096", Algorithm::kSha512Rsa4096},
};

// avbtool's signatures over its own vbmeta images: the known answers.
TEST(Rsa, AvbtoolSignaturesVerify) {
  REQUIRE_VECTORS();
  for (const VectorCase& c : kVectorCases) {
    SCOPED_TRACE(c.vbmeta);
    auto image = read_file(kDir + "/" + c.vbmeta);
    auto blob = read_file(kDir + "/keys/" + std::string(c.key) + ".avbpubkey");
    ASSERT_TRUE(image && blob);
    auto vb = avb::parse_vbmeta(bytes(*image));
    ASSERT_TRUE(vb) << vb.error().detail;
    EXPECT_EQ(vb->algorithm, c.algorithm);
    EXPECT_TRUE(avb::ct_equal(vb->public_key, bytes(*blob)));
    auto key = avb::parse_public_key(bytes(*blob));
    ASSERT_TRUE(key) << key.error().detail;

    const HashAlgorithm hash = vb->info.hash;
    std::array<uint8_t, 64> digest_storage{};
    const std::array<avb::Bytes, 2> parts = {vb->header, vb->auxiliary};
    avb::digest(hash, parts, digest_storage);
    const Buf digest(digest_storage.begin(), digest_storage.begin() + vb->info.hash_size);
    ASSERT_TRUE(avb::ct_equal(bytes(digest), vb->hash));
    const Buf sig(reinterpret_cast<const uint8_t*>(vb->signature.data()),
                  reinterpret_cast<const uint8_t*>(vb->signature.data()) + vb->signature.size());

    EXPECT_EQ(outcome(avb::rsa_verify(*key, hash, bytes(digest), bytes(sig))), "OK");
    const std::string mismatch = "SIGNATURE_MISMATCH (signature does not match)";
    Buf bad_sig = sig;
    bad_sig.back() ^= 1;
    EXPECT_EQ(outcome(avb::rsa_verify(*key, hash, bytes(digest), bytes(bad_sig))), mismatch);
    Buf bad_digest = digest;
    bad_digest[digest.size() / 2] ^= 0x80;
    EXPECT_EQ(outcome(avb::rsa_verify(*key, hash, bytes(bad_digest), bytes(sig))), mismatch);
    // The same digest bytes under the other hash's DigestInfo.
    const HashAlgorithm other =
        hash == HashAlgorithm::kSha256 ? HashAlgorithm::kSha512 : HashAlgorithm::kSha256;
    Buf resized = digest;
    resized.resize(avb::digest_size(other));
    EXPECT_EQ(outcome(avb::rsa_verify(*key, other, bytes(resized), bytes(sig))), mismatch);
    EXPECT_EQ(outcome(avb::rsa_verify(*key, hash, bytes(resized), bytes(sig))),
              "SIGNATURE_MISMATCH (signature size does not fit the key)");
  }
}

// avbtool's key blobs: every check passes, rr is canonical, and each field
// changed on its own is caught where the policy says.
TEST(Rsa, AvbtoolKeyBlobs) {
  REQUIRE_VECTORS();
  for (const char* name :
       {"testkey_rsa2048", "testkey_rsa4096", "testkey_rsa8192", "testkey_cert_psk"}) {
    SCOPED_TRACE(name);
    auto blob = read_file(kDir + "/keys/" + std::string(name) + ".avbpubkey");
    ASSERT_TRUE(blob);
    auto key = avb::parse_public_key(bytes(*blob));
    ASSERT_TRUE(key) << key.error().detail;
    EXPECT_TRUE(avb::rr_is_canonical(*key));

    Buf rr_changed = *blob;
    rr_changed.back() ^= 1;  // still below n
    auto changed = avb::parse_public_key(bytes(rr_changed));
    ASSERT_TRUE(changed);
    EXPECT_FALSE(avb::rr_is_canonical(*changed));

    Buf n0inv_changed = *blob;
    n0inv_changed[7] ^= 4;
    auto refused = avb::parse_public_key(bytes(n0inv_changed));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().error, Error::kInvalidPublicKey);
  }
}

TEST(Rsa, RrClosedForms) {
  for (size_t size : kKeySizes) {
    for (const ClosedForm& f : closed_forms(size)) {
      SCOPED_TRACE(std::string(f.name) + ", " + std::to_string(size * 8) + " bits");
      const auto canonical = [&](const Buf& rr) {
        const Buf blob = key_blob(f.n, rr);
        auto key = avb::parse_public_key(bytes(blob));
        EXPECT_TRUE(key) << key.error().detail;
        return key && avb::rr_is_canonical(*key);
      };
      EXPECT_TRUE(canonical(f.rr));
      EXPECT_FALSE(canonical(Buf(size, 0)));
      EXPECT_FALSE(canonical(minus_one(f.n)));
      EXPECT_FALSE(canonical(plus_one(f.rr)));
      // R mod n = R - n (n > R/2): a plausible mistake for R^2 mod n; equal
      // to it only for n = R - 1.
      Buf r_mod_n = f.n;
      for (auto& v : r_mod_n) v = static_cast<uint8_t>(~v);
      r_mod_n = plus_one(r_mod_n);
      EXPECT_EQ(canonical(r_mod_n), r_mod_n == f.rr);
      // rr >= n is refused by the parser itself.
      auto refused = avb::parse_public_key(bytes(key_blob(f.n, f.n)));
      ASSERT_FALSE(refused);
      EXPECT_STREQ(refused.error().detail, "rr is not below n");
    }
  }
}

// The s < n rule (RFC 8017 §5.2.2 step 1) on every key size: s = 0, 1 and
// n - 1 are exponentiated (their s^e is known: 0, 1, n - 1) and do not
// match; s >= n is refused before any arithmetic.
TEST(Rsa, SignatureRange) {
  const Buf digest(32, 0x5a);
  for (size_t size : kKeySizes) {
    for (const ClosedForm& f : closed_forms(size)) {
      SCOPED_TRACE(std::string(f.name) + ", " + std::to_string(size * 8) + " bits");
      const Buf blob = key_blob(f.n, f.rr);
      auto key = avb::parse_public_key(bytes(blob));
      ASSERT_TRUE(key) << key.error().detail;
      const auto check = [&](const Buf& sig) {
        return outcome(avb::rsa_verify(*key, HashAlgorithm::kSha256, bytes(digest), bytes(sig)));
      };
      const std::string mismatch = "SIGNATURE_MISMATCH (signature does not match)";
      const std::string not_below = "SIGNATURE_MISMATCH (signature not below the modulus)";
      EXPECT_EQ(check(Buf(size, 0)), mismatch);
      EXPECT_EQ(check(small(size, 1)), mismatch);
      EXPECT_EQ(check(minus_one(f.n)), mismatch);
      EXPECT_EQ(check(f.n), not_below);
      if (f.n != Buf(size, 0xff)) EXPECT_EQ(check(plus_one(f.n)), not_below);
      EXPECT_EQ(check(Buf(size, 0xff)), not_below);
      EXPECT_EQ(check(Buf(size - 1, 0)),
                "SIGNATURE_MISMATCH (signature size does not fit the key)");
      EXPECT_EQ(check(Buf(size + 1, 0)),
                "SIGNATURE_MISMATCH (signature size does not fit the key)");
    }
  }
}

// mbedTLS derives its own Montgomery constants: the blob's rr is checked
// (below n; canonical on the host) but never used, so a signature verifies
// whatever reduced rr the trusted blob carries. (libavb would compute with a
// wrong rr and reject every signature; either way the blob is the trusted
// one, and the embedded key must equal it byte for byte.)
TEST(Rsa, RrIsNotUsedBySignatureCheck) {
  auto k = RsaKey::generate(2048, 7);
  Buf blob = k->avb_public_key();
  const Buf digest = sha(HashAlgorithm::kSha256, {from_string("x")});
  const Buf sig = k->sign(HashAlgorithm::kSha256, digest);
  std::fill(blob.end() - 256, blob.end(), 0);
  blob.back() = 1;
  auto key = avb::parse_public_key(bytes(blob));
  ASSERT_TRUE(key) << key.error().detail;
  EXPECT_FALSE(avb::rr_is_canonical(*key));
  EXPECT_EQ(outcome(avb::rsa_verify(*key, HashAlgorithm::kSha256, bytes(digest), bytes(sig))),
            "OK");
}

// mbedTLS's allocator, failing after a set number of allocations and
// counting the blocks still live.
struct FailingHeap {
  static inline long allowed = -1;  // allocations left; negative: no limit
  static inline long live = 0;
  static inline long calls = 0;

  static void* calloc(size_t n, size_t size) {
    ++calls;
    if (allowed == 0) return nullptr;
    if (allowed > 0) --allowed;
    void* p = ::calloc(n, size);
    if (p != nullptr) ++live;
    return p;
  }
  static void free(void* p) {
    if (p != nullptr) --live;
    ::free(p);
  }
};

// Installs FailingHeap for its lifetime; the libc heap again after.
class ScopedFailingHeap {
 public:
  explicit ScopedFailingHeap(long allowed) {
    FailingHeap::allowed = allowed;
    FailingHeap::live = 0;
    FailingHeap::calls = 0;
    mbedtls_platform_set_calloc_free(FailingHeap::calloc, FailingHeap::free);
  }
  ~ScopedFailingHeap() { mbedtls_platform_set_calloc_free(::calloc, ::free); }
  ScopedFailingHeap(const ScopedFailingHeap&) = delete;
  ScopedFailingHeap& operator=(const ScopedFailingHeap&) = delete;
};

// As in the firmware when the static heap runs out: every allocation of a
// verification fails in turn, each giving the named error and leaving
// nothing allocated; with enough heap the same call succeeds.
TEST(Rsa, AllocationFailureIsAnErrorValue) {
  REQUIRE_VECTORS();
  auto image = read_file(kDir + "/boot_sha256_rsa4096.vbmeta");
  auto blob = read_file(kDir + "/keys/testkey_rsa4096.avbpubkey");
  ASSERT_TRUE(image && blob);
  auto vb = avb::parse_vbmeta(bytes(*image));
  auto key = avb::parse_public_key(bytes(*blob));
  ASSERT_TRUE(vb && key);
  const avb::Bytes digest = vb->hash;  // checked against the contents by AvbtoolSignaturesVerify

  long needed = 0;
  {
    ScopedFailingHeap heap(-1);
    ASSERT_EQ(outcome(avb::rsa_verify(*key, HashAlgorithm::kSha256, digest, vb->signature)), "OK");
    needed = FailingHeap::calls;
    EXPECT_EQ(FailingHeap::live, 0);
  }
  ASSERT_GT(needed, 0);
  RecordProperty("mbedtls_allocations", std::to_string(needed));
  for (long allowed = 0; allowed < needed; ++allowed) {
    SCOPED_TRACE("allocations allowed: " + std::to_string(allowed));
    ScopedFailingHeap heap(allowed);
    EXPECT_EQ(outcome(avb::rsa_verify(*key, HashAlgorithm::kSha256, digest, vb->signature)),
              "SIGNATURE_MISMATCH (out of memory (mbedTLS heap))");
    EXPECT_EQ(FailingHeap::live, 0);
  }
  {
    ScopedFailingHeap heap(needed);
    EXPECT_EQ(outcome(avb::rsa_verify(*key, HashAlgorithm::kSha256, digest, vb->signature)), "OK");
    EXPECT_EQ(FailingHeap::live, 0);
  }
  // The host-only canonical check fails closed, and frees, as well.
  for (long allowed = 0; allowed < 3; ++allowed) {
    ScopedFailingHeap heap(allowed);
    EXPECT_FALSE(avb::rr_is_canonical(*key));
    EXPECT_EQ(FailingHeap::live, 0);
  }
}

}  // namespace
}  // namespace verify::testing

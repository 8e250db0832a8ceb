// Test-only: builds AVB images (vbmeta, descriptors, hash footers) and signs
// them with mbedTLS's PK/RSA signing side, so each test can make an image
// whose only defect is the one under test. verify/ checks signatures with the
// same library: what is independent of it is avbtool's output
// (../shared/vectors/avb), which AvbBuilder.MatchesAvbtoolByteForByte and the
// known-answer tests (rsa_test.cc, vectors_test.cc) hold both sides to.
// Layout as avbtool writes it (../shared/reference/avb-format.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "verify/verify.h"

namespace verify::testing {

// Skips the test when the shared AVB vectors (VERIFY_VECTORS_DIR, read in
// place) are absent.
#define REQUIRE_VECTORS()                                                                   \
  do {                                                                                      \
    if (!std::filesystem::exists(std::string(VERIFY_VECTORS_DIR) + "/keys")) {              \
      GTEST_SKIP() << "AVB test vectors not found at " VERIFY_VECTORS_DIR ": test skipped"; \
    }                                                                                       \
  } while (0)

using Buf = std::vector<uint8_t>;

std::span<const std::byte> bytes(const Buf& b);
Buf from_string(const std::string& s);
Buf from_hex(const std::string& hex);
std::string to_hex(std::span<const uint8_t> b);
std::optional<Buf> read_file(const std::string& path);

void put_be32(Buf& b, size_t off, uint32_t v);
void put_be64(Buf& b, size_t off, uint64_t v);
uint32_t get_be32(const Buf& b, size_t off);
uint64_t get_be64(const Buf& b, size_t off);

// "OK", or the failure's stable name and detail: for EXPECT_EQ with a
// readable message. name(): the stable name only.
template <typename T>
std::string result(const std::expected<T, Failure>& r) {
  if (r) return "OK";
  return std::string(to_string(r.error().error)) + " (" + r.error().detail + ")";
}
template <typename T>
std::string name(const std::expected<T, Failure>& r) {
  return r ? "OK" : std::string(to_string(r.error().error));
}

// `size` bytes of a fixed pattern, different for each seed.
Buf payload(size_t size, uint8_t seed);
// The parts, one after the other.
Buf cat(std::initializer_list<Buf> parts);

// H(parts...) with mbedTLS directly (not through base/sha2.h).
Buf sha(HashAlgorithm a, std::initializer_list<std::span<const uint8_t>> parts);

// An RSA private key (e = 65537) for signing test images.
class RsaKey {
 public:
  ~RsaKey();
  // A PEM file (PKCS#1 or PKCS#8); nothing when missing or unreadable.
  static std::unique_ptr<RsaKey> load_pem(const std::string& path);
  // A fresh key from a deterministic generator (the same key for a seed).
  static std::unique_ptr<RsaKey> generate(unsigned bits, uint32_t seed);

  unsigned bits() const;
  // The AVB public key blob (avb_crypto.h AvbRSAPublicKeyHeader, n, rr).
  Buf avb_public_key() const;
  // RSA PKCS#1 v1.5 signature over `digest`.
  Buf sign(HashAlgorithm a, const Buf& digest) const;

 private:
  RsaKey();
  struct State;
  std::unique_ptr<State> s_;
};

// Two 2048-bit signing keys, each made once per test program: the one the
// tests trust, and another.
const RsaKey& key();
const RsaKey& other_key();

// Descriptors, encoded as avbtool does (header, fields, zero pad to 8).
struct HashDesc {
  std::string partition_name = "boot";
  std::string hash_algorithm = "sha256";
  uint64_t image_size = 0;
  Buf salt;
  Buf digest;
  uint32_t flags = 0;
};
// A descriptor for `image` with its digest H(salt || image).
HashDesc hash_desc_for(const std::string& name, const Buf& image, const Buf& salt,
                       const std::string& alg = "sha256");
Buf encode(const HashDesc& d);
Buf property_desc(const std::string& key, const std::string& value);
// Any tag with `body` as its payload (padded to 8 with zeros).
Buf raw_desc(uint64_t tag, const Buf& body);

struct VbmetaSpec {
  Algorithm algorithm = Algorithm::kSha256Rsa2048;
  uint32_t version_major = 1;
  uint32_t version_minor = 0;
  uint64_t rollback_index = 0;
  uint32_t flags = 0;
  uint32_t rollback_index_location = 0;
  std::string release_string = "avbtool 1.3.0";
  Buf descriptors;                // concatenated encoded descriptors
  std::optional<Buf> public_key;  // default: the signer's blob
  Buf public_key_metadata;
  std::optional<size_t> signature_size;  // default: the algorithm's key size / 8
};

// header || auth (hash, signature, pad) || aux (descriptors, key, metadata, pad).
// Without a signer the hash is still right but the signature is all zeros.
Buf build_vbmeta(const VbmetaSpec& spec, const RsaKey* signer);

// Recomputes the embedded hash from the header and aux block as they now are
// (after a test edited them) and, with a signer, the signature.
void rehash(Buf& vbmeta);
void resign(Buf& vbmeta, const RsaKey& signer);

// avbtool add_hash_footer: kernel, vbmeta at the next 4 KiB boundary, zeros,
// AvbFooter in the last 64 bytes of a `partition_size` partition.
Buf footer_image(const Buf& kernel, const Buf& vbmeta, uint64_t partition_size = 196608);

// Header field offsets (avb_vbmeta_image.h).
namespace off {
constexpr size_t kVersionMajor = 4, kVersionMinor = 8, kAuthSize = 12, kAuxSize = 20,
                 kAlgorithm = 28, kHashOffset = 32, kHashSize = 40, kSigOffset = 48,
                 kSigSize = 56, kKeyOffset = 64, kKeySize = 72, kMetaOffset = 80, kMetaSize = 88,
                 kDescOffset = 96, kDescSize = 104, kRollback = 112, kFlags = 120,
                 kRollbackLocation = 124, kReleaseString = 128, kReserved = 176;
}  // namespace off

}  // namespace verify::testing

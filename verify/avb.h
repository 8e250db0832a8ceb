// Private to verify/: the AVB on-disk structures as typed, validated values,
// and the RSA/hash primitives verify_payload is built from. Everything here
// reads untrusted bytes through base::Reader only; no function asserts on
// input. Layouts: libavb 1.3.0 (
// avb_footer.h, avb_vbmeta_image.h, avb_*_descriptor.h, avb_crypto.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>

#include "base/reader.h"
#include "verify/verify.h"

namespace verify::avb {

using base::Bytes;

template <typename T = void>
using Result = std::expected<T, Failure>;

constexpr std::unexpected<Failure> fail(Error e, const char* detail) {
  return std::unexpected(Failure{e, detail});
}

// ---- Algorithms (avb_crypto.h AvbAlgorithmType) ----

struct AlgorithmInfo {
  HashAlgorithm hash;
  uint32_t hash_size;  // bytes
  uint32_t key_bits;   // RSA modulus size
};
// Nothing for kNone (it has no hash and no key).
std::optional<AlgorithmInfo> algorithm_info(Algorithm a);
constexpr uint32_t digest_size(HashAlgorithm a) { return a == HashAlgorithm::kSha256 ? 32 : 64; }

// ---- AvbFooter (avb_footer.h): the last 64 bytes of a partition ----

constexpr uint64_t kFooterSize = 64;
constexpr uint64_t kMaxVbmetaSize = 64 * 1024;  // libavb avb_slot_verify.c VBMETA_MAX_SIZE

struct Footer {
  uint32_t version_major = 0;
  uint32_t version_minor = 0;
  uint64_t original_image_size = 0;
  uint64_t vbmeta_offset = 0;
  uint64_t vbmeta_size = 0;
};

// The footer of `partition`. Checks: magic "AVBf", version_major <= 1,
// vbmeta_size <= 64 KiB, [vbmeta_offset, +vbmeta_size) inside the partition
// and before the footer. original_image_size is returned unchecked (the
// caller ties it to the boot descriptor). Never falls back to offset 0.
// Errors: INVALID_FOOTER.
Result<Footer> parse_footer(Bytes partition);

// ---- AvbVBMetaImageHeader (avb_vbmeta_image.h): 256 bytes ----

constexpr uint64_t kVbmetaHeaderSize = 256;

struct VbmetaHeader {
  uint32_t required_libavb_version_major = 0;
  uint32_t required_libavb_version_minor = 0;
  uint64_t authentication_data_block_size = 0;
  uint64_t auxiliary_data_block_size = 0;
  uint32_t algorithm_type = 0;
  uint64_t hash_offset = 0;
  uint64_t hash_size = 0;
  uint64_t signature_offset = 0;
  uint64_t signature_size = 0;
  uint64_t public_key_offset = 0;
  uint64_t public_key_size = 0;
  uint64_t public_key_metadata_offset = 0;
  uint64_t public_key_metadata_size = 0;
  uint64_t descriptors_offset = 0;
  uint64_t descriptors_size = 0;
  uint64_t rollback_index = 0;
  uint32_t flags = 0;
  uint32_t rollback_index_location = 0;
};

// A vbmeta image whose layout has been checked: every span lies inside the
// image, the algorithm is known and signed, the sizes match it.
struct Vbmeta {
  VbmetaHeader h;
  Algorithm algorithm = Algorithm::kNone;
  AlgorithmInfo info{};
  Bytes header;      // the 256 header bytes (hashed)
  Bytes auxiliary;   // the whole auxiliary block (hashed)
  Bytes hash;        // in the authentication block
  Bytes signature;   // in the authentication block
  Bytes public_key;  // in the auxiliary block
  Bytes public_key_metadata;
  Bytes descriptors;
};

// Every libavb avb_vbmeta_image_verify() layout check, plus: version major == 1
// and minor <= 3 (UNSUPPORTED_VERSION), public key metadata and descriptors
// inside the auxiliary block, release_string NUL-terminated, reserved bytes
// zero (INVALID_VBMETA_HEADER), flags == 0 (INVALID_FLAGS), algorithm NONE
// (OK_NOT_SIGNED), hash/signature sizes fitting the algorithm.
// Trailing bytes after the auxiliary block are allowed (a vbmeta partition is
// larger than its image).
Result<Vbmeta> parse_vbmeta(Bytes image);

// ---- AVB RSA public key blob (avb_crypto.h AvbRSAPublicKeyHeader) ----

struct RsaPublicKey {
  uint32_t key_num_bits = 0;
  uint32_t n0inv = 0;
  Bytes n;   // big-endian modulus, key_num_bits / 8 bytes
  Bytes rr;  // (2^key_num_bits)^2 mod n: libavb's; mbedTLS computes its own
};

// Checks: key_num_bits 2048/4096/8192, exact length, n odd with its top bit
// set, n0inv * n == -1 (mod 2^32), rr < n. No allocation. Errors:
// INVALID_PUBLIC_KEY.
Result<RsaPublicKey> parse_public_key(Bytes blob);

// Whether rr == (2^key_num_bits)^2 mod n, the blob's one canonical form (a
// long division with mbedTLS bignum: for host tools and tests, not the boot
// path). False also when mbedTLS cannot allocate.
bool rr_is_canonical(const RsaPublicKey& key);

// RSA PKCS#1 v1.5 (e = 65537) check of `signature` over `digest`, by mbedTLS
// (mbedtls_rsa_pkcs1_verify) with the key built from n: the signature must be
// key-sized and < n, and s^e mod n must equal, byte for byte,
// 00 01 FF..FF 00 DigestInfo(hash) digest (compared in constant time). The
// key's n0inv and rr are not used. Allocates from mbedTLS's heap. Errors:
// SIGNATURE_MISMATCH (its detail says which: no match, s >= n, sizes, out of
// memory).
Result<> rsa_verify(const RsaPublicKey& key, HashAlgorithm hash, Bytes digest, Bytes signature);

// ---- Digests (base/sha2.h) ----

// H(parts[0] || parts[1] || ...) into out[0:digest_size(a)].
void digest(HashAlgorithm a, std::span<const Bytes> parts, std::span<uint8_t, 64> out);

// Equal sizes and contents; the time taken depends only on the sizes.
bool ct_equal(Bytes a, Bytes b);

// ---- Descriptors (avb_descriptor.h and the per-tag headers) ----

enum class Tag : uint64_t {
  kProperty = 0,
  kHashtree = 1,
  kHash = 2,
  kKernelCmdline = 3,
  kChainPartition = 4,
};

struct Descriptor {
  uint64_t tag = 0;
  Bytes body;  // the num_bytes_following bytes after {tag, num_bytes_following}
};

// Walks the descriptor area: each {u64 tag, u64 num_bytes_following} with
// num_bytes_following a multiple of 8 and wholly inside the area, the walk
// ending exactly at its end. Calls `fn(const Descriptor&)` (returning
// Result<>) for each and stops at the first failure. Errors: INVALID_DESCRIPTOR
// and whatever `fn` returns.
template <typename Fn>
Result<> for_each_descriptor(Bytes area, Fn&& fn) {
  base::Reader r(area);
  while (!r.at_end()) {
    auto tag = r.be64();
    auto following = r.be64();
    if (!tag || !following) return fail(Error::kInvalidDescriptor, "truncated descriptor header");
    if (*following % 8 != 0) {
      return fail(Error::kInvalidDescriptor, "descriptor size not a multiple of 8");
    }
    auto body = r.bytes(*following);
    if (!body) return fail(Error::kInvalidDescriptor, "descriptor outside the descriptor area");
    if (auto res = fn(Descriptor{*tag, *body}); !res) return res;
  }
  return {};
}

// Hash descriptor (tag 2; AvbHashDescriptor, 132 bytes with the tag header).
constexpr uint32_t kHashDescriptorFlagDoNotUseAb = 1u << 0;
struct HashDescriptor {
  uint64_t image_size = 0;
  HashAlgorithm algorithm = HashAlgorithm::kSha256;
  uint32_t flags = 0;
  Bytes partition_name;
  Bytes salt;
  Bytes digest;
};
// Checks: name/salt/digest inside the body, reserved and trailing padding zero
// (INVALID_DESCRIPTOR), hash_algorithm exactly "sha256" or "sha512" NUL-padded
// (UNSUPPORTED_HASH_ALGORITHM), a non-empty name, digest_len equal to the
// algorithm's size (0, a persistent digest, is refused: INVALID_DESCRIPTOR),
// no flag but DO_NOT_USE_AB (INVALID_FLAGS).
Result<HashDescriptor> parse_hash_descriptor(Bytes body);

// Property descriptor (tag 0): key NUL value NUL, then zero padding.
struct PropertyDescriptor {
  Bytes key;    // without its NUL
  Bytes value;  // without its NUL
};
Result<PropertyDescriptor> parse_property_descriptor(Bytes body);

// The shape of any descriptor: the known tags' fixed headers and variable
// parts lie inside the body (hash and property fully parsed as above).
// Unknown tags only need the generic header. Errors: INVALID_DESCRIPTOR,
// UNSUPPORTED_HASH_ALGORITHM, INVALID_FLAGS.
Result<> check_descriptor_shape(const Descriptor& d);

}  // namespace verify::avb

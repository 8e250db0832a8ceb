// Writes AVB vbmeta images and hash footers byte-for-byte as AOSP avbtool 1.3.0
// does (`make_vbmeta_image`, `add_hash_footer`).
//
// Format: libavb 1.3.0 avb_vbmeta_image.h, avb_footer.h, avb_hash_descriptor.h,
// avb_property_descriptor.h; sizes and defaults: avbtool 1.3.0.
// Callers may rely on: the same inputs (key, salts, images) always give the
// same bytes; nothing here reads files or draws random numbers (salts are
// the caller's); descriptor order is avbtool's: the image's own hash
// descriptor, then properties in the order given, then included hash
// descriptors sorted by partition name.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "avb_crypto.h"

namespace pvm::avb {

// AvbAlgorithmType; the values are the header's algorithm_type.
enum class Algorithm : uint32_t {
  kNone = 0,
  kSha256Rsa2048 = 1,
  kSha256Rsa4096 = 2,
  kSha256Rsa8192 = 3,
  kSha512Rsa2048 = 4,
  kSha512Rsa4096 = 5,
  kSha512Rsa8192 = 6,
};
// "SHA256_RSA4096", as avbtool spells it.
std::string_view to_string(Algorithm algorithm);
std::optional<Algorithm> parse_algorithm(std::string_view name);
std::optional<HashAlgorithm> parse_hash_algorithm(std::string_view name);
// 0 for kNone.
unsigned key_bits(Algorithm algorithm);

inline constexpr uint64_t kBlockSize = 4096;
inline constexpr uint64_t kFooterSize = 64;
inline constexpr uint64_t kMaxVbmetaSize = uint64_t{64} * 1024;  // libavb reads at most this from a footer
// The room avbtool keeps for the AvbFooter: one block (avbtool MAX_FOOTER_SIZE).
inline constexpr uint64_t kMaxFooterSize = 4096;
inline constexpr char kReleaseString[] = "avbtool 1.3.0";

enum class SignErrc {
  kKeyRequired,          // an RSA algorithm without a key
  kKeyNotUsed,           // a key with algorithm NONE
  kKeyDoesNotMatch,      // key size differs from the algorithm's
  kKeyFailed,            // signing itself failed (see key_error)
  kBadPartitionName,
  kDuplicatePartition,
  kBadProperty,
  kDuplicateProperty,
  kBadSalt,
  kVbmetaTooLarge,       // over kMaxVbmetaSize: libavb would not read it
  kPartitionSizeUnaligned,
  kDoesNotFit,
};

struct SignError {
  SignErrc code;
  std::string detail;  // a partition name, a property key, sizes; never secret
  KeyError key_error{KeyErrc::kCryptoFailed};  // meaningful for kKeyFailed only
};

std::string_view to_string(SignErrc code);
std::string to_string(const SignError& error);

// AvbHashDescriptor (tag 2) for one partition.
struct HashDescriptor {
  std::string partition_name;
  HashAlgorithm algorithm = HashAlgorithm::kSha256;
  uint64_t image_size = 0;
  std::vector<uint8_t> salt;
  std::vector<uint8_t> digest;  // H(salt || image)
};

// Hashes `image` as avbtool does for partition `name`.
[[nodiscard]] HashDescriptor make_hash_descriptor(std::string name, HashAlgorithm algorithm,
                                                  std::vector<uint8_t> salt,
                                                  std::span<const uint8_t> image);

// AvbPropertyDescriptor (tag 0).
struct Property {
  std::string key;
  std::string value;
};

struct VbmetaSpec {
  Algorithm algorithm = Algorithm::kNone;
  const RsaKey* key = nullptr;  // required unless kNone, of key_bits(algorithm)
  uint64_t rollback_index = 0;
  std::vector<HashDescriptor> descriptors;  // first, in this order
  std::vector<Property> properties;         // then these, in this order
  // Last, sorted by partition name: what avbtool --include_descriptors_from_image
  // adds from images whose only descriptor is this one.
  std::vector<HashDescriptor> included;
};

// header || authentication block || auxiliary block, unpadded
// (make_vbmeta_image without --padding_size).
[[nodiscard]] std::expected<std::vector<uint8_t>, SignError> make_vbmeta_image(
    const VbmetaSpec& spec);

// `partition` without its AvbFooter, vbmeta and padding when it has a footer
// (avbtool add_hash_footer does this first, so that re-signing works);
// otherwise all of it.
std::span<const uint8_t> strip_hash_footer(std::span<const uint8_t> partition);

struct FooterSpec {
  std::string partition_name;
  HashAlgorithm hash_algorithm = HashAlgorithm::kSha256;
  std::vector<uint8_t> salt;
  // The result's exact size (a multiple of kBlockSize). Without it,
  // dynamic_partition_size(image size), as avbtool --dynamic_partition_size.
  std::optional<uint64_t> partition_size;
  VbmetaSpec vbmeta;  // `descriptors` gets the image's own hash descriptor first
};

// The signed partition: image, zeros to a 4096 boundary, vbmeta, zeros, and an
// AvbFooter in the last 64 bytes. An existing footer on `image` is dropped.
[[nodiscard]] std::expected<std::vector<uint8_t>, SignError> add_hash_footer(
    std::span<const uint8_t> image, FooterSpec spec);

// The smallest partition that holds `image_size` bytes and `vbmeta_size`
// bytes of vbmeta under avbtool's layout (what an explicit size must reach).
uint64_t min_partition_size(uint64_t image_size, uint64_t vbmeta_size);

// The partition size avbtool add_hash_footer --dynamic_partition_size
// chooses: round_up(image_size + kMaxVbmetaSize + kMaxFooterSize, kBlockSize),
// room for the largest vbmeta libavb reads whatever this one's size.
// `image_size` is without any footer the image had.
uint64_t dynamic_partition_size(uint64_t image_size);

}  // namespace pvm::avb

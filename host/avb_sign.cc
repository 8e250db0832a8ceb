#include "avb_sign.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <set>
#include <utility>

namespace pvm::avb {
namespace {

// Header sizes from libavb (avb_vbmeta_image.h, avb_footer.h, avb_descriptor.h,
// avb_hash_descriptor.h, avb_property_descriptor.h).
constexpr size_t kVbmetaHeaderSize = 256;
constexpr size_t kReleaseStringSize = 48;
constexpr size_t kHashDescriptorHeaderSize = 132;
constexpr size_t kPropertyDescriptorHeaderSize = 32;
constexpr size_t kDescriptorHeaderSize = 16;  // tag, num_bytes_following
constexpr uint64_t kTagProperty = 0;
constexpr uint64_t kTagHash = 2;
constexpr std::array<uint8_t, 4> kVbmetaMagic = {'A', 'V', 'B', '0'};
constexpr std::array<uint8_t, 4> kFooterMagic = {'A', 'V', 'B', 'f'};
constexpr uint32_t kLibavbVersionMajor = 1;
constexpr uint32_t kFooterVersionMajor = 1;
constexpr uint32_t kFooterVersionMinor = 0;

struct AlgorithmInfo {
  Algorithm algorithm;
  std::string_view name;
  HashAlgorithm hash;
  unsigned key_bits;  // 0: unsigned
};

constexpr AlgorithmInfo kAlgorithms[] = {
    {Algorithm::kNone, "NONE", HashAlgorithm::kSha256, 0},
    {Algorithm::kSha256Rsa2048, "SHA256_RSA2048", HashAlgorithm::kSha256, 2048},
    {Algorithm::kSha256Rsa4096, "SHA256_RSA4096", HashAlgorithm::kSha256, 4096},
    {Algorithm::kSha256Rsa8192, "SHA256_RSA8192", HashAlgorithm::kSha256, 8192},
    {Algorithm::kSha512Rsa2048, "SHA512_RSA2048", HashAlgorithm::kSha512, 2048},
    {Algorithm::kSha512Rsa4096, "SHA512_RSA4096", HashAlgorithm::kSha512, 4096},
    {Algorithm::kSha512Rsa8192, "SHA512_RSA8192", HashAlgorithm::kSha512, 8192},
};

const AlgorithmInfo& info(Algorithm algorithm) {
  for (const AlgorithmInfo& candidate : kAlgorithms) {
    if (candidate.algorithm == algorithm) return candidate;
  }
  return kAlgorithms[0];
}

constexpr uint64_t round_up(uint64_t value, uint64_t multiple) {
  return (value + multiple - 1) / multiple * multiple;
}

std::unexpected<SignError> sign_error(SignErrc code, std::string detail = {}) {
  return std::unexpected(SignError{code, std::move(detail)});
}

// Appends big-endian fields; every AVB integer is big-endian.
class Writer {
 public:
  void u32(uint32_t value) {
    for (int shift = 24; shift >= 0; shift -= 8) push(value >> shift);
  }
  void u64(uint64_t value) {
    for (int shift = 56; shift >= 0; shift -= 8) push(value >> shift);
  }
  void raw(std::span<const uint8_t> data) { bytes_.insert(bytes_.end(), data.begin(), data.end()); }
  void text(std::string_view data) { bytes_.insert(bytes_.end(), data.begin(), data.end()); }
  // `data` NUL-padded (or cut) to exactly `size` bytes.
  void fixed_text(std::string_view data, size_t size) {
    size_t used = std::min(data.size(), size);
    bytes_.insert(bytes_.end(), data.begin(), data.begin() + static_cast<ptrdiff_t>(used));
    zeros(size - used);
  }
  void zeros(size_t count) { bytes_.insert(bytes_.end(), count, 0); }
  void pad_to(size_t multiple) { zeros(round_up(bytes_.size(), multiple) - bytes_.size()); }
  size_t size() const { return bytes_.size(); }
  std::vector<uint8_t>& bytes() { return bytes_; }

 private:
  void push(uint64_t byte) { bytes_.push_back(static_cast<uint8_t>(byte)); }
  std::vector<uint8_t> bytes_;
};

uint64_t read_u64_be(std::span<const uint8_t> bytes) {
  uint64_t value = 0;
  for (uint8_t byte : bytes.first(8)) value = (value << 8) | byte;
  return value;
}

// avbtool AvbHashDescriptor.encode(): num_bytes_following is rounded up to 8.
void encode_hash_descriptor(Writer& out, const HashDescriptor& descriptor) {
  const uint64_t following = kHashDescriptorHeaderSize - kDescriptorHeaderSize +
                             descriptor.partition_name.size() + descriptor.salt.size() +
                             descriptor.digest.size();
  const uint64_t padded = round_up(following, 8);
  out.u64(kTagHash);
  out.u64(padded);
  out.u64(descriptor.image_size);
  out.fixed_text(to_string(descriptor.algorithm), 32);
  out.u32(static_cast<uint32_t>(descriptor.partition_name.size()));
  out.u32(static_cast<uint32_t>(descriptor.salt.size()));
  out.u32(static_cast<uint32_t>(descriptor.digest.size()));
  out.u32(0);  // flags
  out.zeros(60);
  out.text(descriptor.partition_name);
  out.raw(descriptor.salt);
  out.raw(descriptor.digest);
  out.zeros(padded - following);
}

// avbtool AvbPropertyDescriptor.encode(): key NUL value NUL, rounded up to 8.
void encode_property(Writer& out, const Property& property) {
  const uint64_t following = kPropertyDescriptorHeaderSize - kDescriptorHeaderSize +
                             property.key.size() + 1 + property.value.size() + 1;
  const uint64_t padded = round_up(following, 8);
  out.u64(kTagProperty);
  out.u64(padded);
  out.u64(property.key.size());
  out.u64(property.value.size());
  out.text(property.key);
  out.zeros(1);
  out.text(property.value);
  out.zeros(1);
  out.zeros(padded - following);
}

bool valid_name(std::string_view name) {
  return !name.empty() && name.size() <= UINT32_MAX && name.find('\0') == std::string_view::npos;
}

std::expected<void, SignError> check_spec(const VbmetaSpec& spec) {
  const unsigned bits = key_bits(spec.algorithm);
  if (bits == 0 && spec.key != nullptr) return sign_error(SignErrc::kKeyNotUsed);
  if (bits != 0 && spec.key == nullptr) return sign_error(SignErrc::kKeyRequired);
  if (bits != 0 && spec.key->bits() != bits) {
    return sign_error(SignErrc::kKeyDoesNotMatch, std::to_string(spec.key->bits()) + "-bit key, " +
                                                      std::string(to_string(spec.algorithm)));
  }
  std::set<std::string_view> partitions;
  for (const auto* list : {&spec.descriptors, &spec.included}) {
    for (const HashDescriptor& descriptor : *list) {
      if (!valid_name(descriptor.partition_name)) {
        return sign_error(SignErrc::kBadPartitionName, descriptor.partition_name);
      }
      if (descriptor.salt.size() > UINT32_MAX) {
        return sign_error(SignErrc::kBadSalt, descriptor.partition_name);
      }
      if (!partitions.insert(descriptor.partition_name).second) {
        return sign_error(SignErrc::kDuplicatePartition, descriptor.partition_name);
      }
    }
  }
  std::set<std::string_view> keys;
  for (const Property& property : spec.properties) {
    if (!valid_name(property.key) || property.value.find('\0') != std::string::npos) {
      return sign_error(SignErrc::kBadProperty, property.key);
    }
    if (!keys.insert(property.key).second) {
      return sign_error(SignErrc::kDuplicateProperty, property.key);
    }
  }
  return {};
}

}  // namespace

std::string_view to_string(Algorithm algorithm) { return info(algorithm).name; }

std::optional<Algorithm> parse_algorithm(std::string_view name) {
  for (const AlgorithmInfo& candidate : kAlgorithms) {
    if (candidate.name == name) return candidate.algorithm;
  }
  return std::nullopt;
}

std::optional<HashAlgorithm> parse_hash_algorithm(std::string_view name) {
  if (name == "sha256") return HashAlgorithm::kSha256;
  if (name == "sha512") return HashAlgorithm::kSha512;
  return std::nullopt;
}

unsigned key_bits(Algorithm algorithm) { return info(algorithm).key_bits; }

std::string_view to_string(SignErrc code) {
  switch (code) {
    case SignErrc::kKeyRequired: return "the algorithm needs a key";
    case SignErrc::kKeyNotUsed: return "algorithm NONE takes no key";
    case SignErrc::kKeyDoesNotMatch: return "key size does not match the algorithm";
    case SignErrc::kKeyFailed: return "signing failed";
    case SignErrc::kBadPartitionName: return "bad partition name";
    case SignErrc::kDuplicatePartition: return "partition named twice";
    case SignErrc::kBadProperty: return "bad property";
    case SignErrc::kDuplicateProperty: return "property given twice";
    case SignErrc::kBadSalt: return "bad salt";
    case SignErrc::kVbmetaTooLarge: return "vbmeta image larger than 64 KiB";
    case SignErrc::kPartitionSizeUnaligned: return "partition size is not a multiple of 4096";
    case SignErrc::kDoesNotFit: return "image and vbmeta do not fit the partition";
  }
  return "signing error";
}

std::string to_string(const SignError& error) {
  std::string text(to_string(error.code));
  if (error.code == SignErrc::kKeyFailed) text += ": " + to_string(error.key_error);
  if (!error.detail.empty()) text += " (" + error.detail + ")";
  return text;
}

HashDescriptor make_hash_descriptor(std::string name, HashAlgorithm algorithm,
                                    std::vector<uint8_t> salt, std::span<const uint8_t> image) {
  HashDescriptor descriptor;
  descriptor.partition_name = std::move(name);
  descriptor.algorithm = algorithm;
  descriptor.image_size = image.size();
  const std::span<const uint8_t> parts[] = {salt, image};
  descriptor.digest = compute_digest(algorithm, parts);
  descriptor.salt = std::move(salt);
  return descriptor;
}

std::expected<std::vector<uint8_t>, SignError> make_vbmeta_image(const VbmetaSpec& spec) {
  if (auto checked = check_spec(spec); !checked) return std::unexpected(checked.error());
  const AlgorithmInfo& algorithm = info(spec.algorithm);
  const bool is_signed = algorithm.key_bits != 0;
  const uint64_t hash_size = is_signed ? digest_size(algorithm.hash) : 0;
  const uint64_t signature_size = algorithm.key_bits / 8;

  // Auxiliary block: descriptors, public key, (no public key metadata).
  Writer aux;
  for (const HashDescriptor& descriptor : spec.descriptors) encode_hash_descriptor(aux, descriptor);
  for (const Property& property : spec.properties) encode_property(aux, property);
  std::vector<const HashDescriptor*> included;
  for (const HashDescriptor& descriptor : spec.included) included.push_back(&descriptor);
  // Names are unique (check_spec), so the order is total. avbtool sorts the
  // keys "AvbHashDescriptor_" + name, which is the same order.
  std::sort(included.begin(), included.end(), [](const auto* a, const auto* b) {
    return a->partition_name < b->partition_name;
  });
  for (const HashDescriptor* descriptor : included) encode_hash_descriptor(aux, *descriptor);
  const uint64_t descriptors_size = aux.size();
  std::vector<uint8_t> public_key;
  if (is_signed) {
    auto blob = spec.key->avb_public_key();
    if (!blob) return std::unexpected(SignError{SignErrc::kKeyFailed, {}, blob.error()});
    public_key = std::move(*blob);
  }
  aux.raw(public_key);
  aux.pad_to(64);

  const uint64_t auth_size = round_up(hash_size + signature_size, 64);
  const uint64_t total = kVbmetaHeaderSize + auth_size + aux.size();
  if (total > kMaxVbmetaSize) return sign_error(SignErrc::kVbmetaTooLarge, std::to_string(total));

  // AvbVBMetaImageHeader.
  Writer header;
  header.raw(kVbmetaMagic);
  header.u32(kLibavbVersionMajor);
  header.u32(0);  // required_libavb_version_minor: nothing here needs more
  header.u64(auth_size);
  header.u64(aux.size());
  header.u32(static_cast<uint32_t>(spec.algorithm));
  header.u64(0);                 // hash_offset
  header.u64(hash_size);
  header.u64(hash_size);         // signature_offset
  header.u64(signature_size);
  header.u64(descriptors_size);  // public_key_offset
  header.u64(public_key.size());
  header.u64(descriptors_size + public_key.size());  // public_key_metadata_offset
  header.u64(0);                                     // public_key_metadata_size
  header.u64(0);                                     // descriptors_offset
  header.u64(descriptors_size);
  header.u64(spec.rollback_index);
  header.u32(0);  // flags
  header.u32(0);  // rollback_index_location
  header.fixed_text(kReleaseString, kReleaseStringSize);
  header.zeros(80);  // reserved

  // Authentication block: H(header || aux), then its signature.
  Writer auth;
  if (is_signed) {
    const std::span<const uint8_t> parts[] = {header.bytes(), aux.bytes()};
    std::vector<uint8_t> hash = compute_digest(algorithm.hash, parts);
    auto signature = spec.key->sign(algorithm.hash, hash);
    if (!signature) return std::unexpected(SignError{SignErrc::kKeyFailed, {}, signature.error()});
    auth.raw(hash);
    auth.raw(*signature);
    auth.pad_to(64);
  }

  std::vector<uint8_t> image = std::move(header.bytes());
  image.insert(image.end(), auth.bytes().begin(), auth.bytes().end());
  image.insert(image.end(), aux.bytes().begin(), aux.bytes().end());
  return image;
}

std::span<const uint8_t> strip_hash_footer(std::span<const uint8_t> partition) {
  if (partition.size() < kFooterSize) return partition;
  std::span<const uint8_t> footer = partition.last(kFooterSize);
  if (!std::equal(kFooterMagic.begin(), kFooterMagic.end(), footer.begin())) return partition;
  // AvbFooter: magic, u32 major, u32 minor, u64 original_image_size, ...
  const uint64_t original_size = read_u64_be(footer.subspan(12));
  if (original_size > partition.size() - kFooterSize) return partition;
  return partition.first(original_size);
}

uint64_t min_partition_size(uint64_t image_size, uint64_t vbmeta_size) {
  return round_up(image_size, kBlockSize) + round_up(vbmeta_size, kBlockSize) + kBlockSize;
}

uint64_t dynamic_partition_size(uint64_t image_size) {
  return round_up(image_size + kMaxVbmetaSize + kMaxFooterSize, kBlockSize);
}

std::expected<std::vector<uint8_t>, SignError> add_hash_footer(std::span<const uint8_t> image,
                                                               FooterSpec spec) {
  image = strip_hash_footer(image);
  if (spec.partition_size && *spec.partition_size % kBlockSize != 0) {
    return sign_error(SignErrc::kPartitionSizeUnaligned, std::to_string(*spec.partition_size));
  }
  spec.vbmeta.descriptors.insert(
      spec.vbmeta.descriptors.begin(),
      make_hash_descriptor(spec.partition_name, spec.hash_algorithm, spec.salt, image));
  auto vbmeta = make_vbmeta_image(spec.vbmeta);
  if (!vbmeta) return std::unexpected(vbmeta.error());

  // Without a size the vbmeta always fits: make_vbmeta_image refuses one
  // above kMaxVbmetaSize.
  const uint64_t needed = min_partition_size(image.size(), vbmeta->size());
  const uint64_t size = spec.partition_size.value_or(dynamic_partition_size(image.size()));
  if (needed > size) {
    return sign_error(SignErrc::kDoesNotFit, "needs " + std::to_string(needed) + " bytes, have " +
                                                 std::to_string(size));
  }
  const uint64_t vbmeta_offset = round_up(image.size(), kBlockSize);
  std::vector<uint8_t> out(size, 0);
  std::copy(image.begin(), image.end(), out.begin());
  std::copy(vbmeta->begin(), vbmeta->end(), out.begin() + static_cast<ptrdiff_t>(vbmeta_offset));

  // AvbFooter, last 64 bytes.
  Writer footer;
  footer.raw(kFooterMagic);
  footer.u32(kFooterVersionMajor);
  footer.u32(kFooterVersionMinor);
  footer.u64(image.size());  // original_image_size
  footer.u64(vbmeta_offset);
  footer.u64(vbmeta->size());
  footer.zeros(28);  // reserved
  std::copy(footer.bytes().begin(), footer.bytes().end(),
            out.end() - static_cast<ptrdiff_t>(kFooterSize));
  return out;
}

}  // namespace pvm::avb

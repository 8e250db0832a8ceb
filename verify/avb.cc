// AVB structure parsing: footer, vbmeta header, descriptors.
// Format and checks follow libavb 1.3.0
// (avb_footer.c, avb_vbmeta_image.c, avb_descriptor.c, avb_*_descriptor.c)
// plus pvmfw's stricter rules, each noted where it goes beyond libavb.
#include "avb.h"

#include <algorithm>
#include <string_view>

#include "base/sha2.h"

namespace verify::avb {
namespace {

using base::checked_add;
using base::Reader;

using base::all_zero;
using base::equals;

// Reads a run of fixed-size fields; a short read is remembered and checked
// once at the end, so a field list reads like the struct it mirrors.
class Fields {
 public:
  explicit Fields(Bytes b) : r_(b) {}
  uint32_t u32() { return take(r_.be32()); }
  uint64_t u64() { return take(r_.be64()); }
  Bytes bytes(uint64_t n) {
    auto b = r_.bytes(n);
    ok_ = ok_ && b.has_value();
    return b.value_or(Bytes{});
  }
  bool ok() const { return ok_; }
  Reader& reader() { return r_; }

 private:
  template <typename T>
  T take(std::optional<T> v) {
    ok_ = ok_ && v.has_value();
    return v.value_or(0);
  }
  Reader r_;
  bool ok_ = true;
};

// [offset, offset + size) inside a block of `block_size` bytes, overflow-checked.
bool inside(uint64_t offset, uint64_t size, uint64_t block_size) {
  auto end = checked_add(offset, size);
  return end && *end <= block_size;
}

}  // namespace

std::optional<AlgorithmInfo> algorithm_info(Algorithm a) {
  switch (a) {
    case Algorithm::kNone: return std::nullopt;
    case Algorithm::kSha256Rsa2048: return AlgorithmInfo{HashAlgorithm::kSha256, 32, 2048};
    case Algorithm::kSha256Rsa4096: return AlgorithmInfo{HashAlgorithm::kSha256, 32, 4096};
    case Algorithm::kSha256Rsa8192: return AlgorithmInfo{HashAlgorithm::kSha256, 32, 8192};
    case Algorithm::kSha512Rsa2048: return AlgorithmInfo{HashAlgorithm::kSha512, 64, 2048};
    case Algorithm::kSha512Rsa4096: return AlgorithmInfo{HashAlgorithm::kSha512, 64, 4096};
    case Algorithm::kSha512Rsa8192: return AlgorithmInfo{HashAlgorithm::kSha512, 64, 8192};
  }
  return std::nullopt;
}

bool ct_equal(Bytes a, Bytes b) {
  if (a.size() != b.size()) return false;
  // OR-accumulate over every byte: no early exit on the first difference.
  uint8_t acc = 0;
  for (size_t i = 0; i < a.size(); ++i) acc |= std::to_integer<uint8_t>(a[i] ^ b[i]);
  return acc == 0;
}

void digest(HashAlgorithm a, std::span<const Bytes> parts, std::span<uint8_t, 64> out) {
  if (a == HashAlgorithm::kSha256) {
    base::sha2::sha256(parts, out.first<32>());
  } else {
    base::sha2::sha512(parts, out);
  }
}

Result<Footer> parse_footer(Bytes partition) {
  if (partition.size() < kFooterSize) {
    return fail(Error::kInvalidFooter, "partition smaller than the footer");
  }
  auto raw = base::subspan(partition, partition.size() - kFooterSize, kFooterSize);
  if (!raw) return fail(Error::kInvalidFooter, "partition smaller than the footer");
  Fields f(*raw);
  Bytes magic = f.bytes(4);
  Footer footer;
  footer.version_major = f.u32();
  footer.version_minor = f.u32();
  footer.original_image_size = f.u64();
  footer.vbmeta_offset = f.u64();
  footer.vbmeta_size = f.u64();
  // reserved[28] is neither signed nor used (by libavb either): not checked.
  if (!f.ok()) return fail(Error::kInvalidFooter, "truncated footer");
  if (!equals(magic, "AVBf")) return fail(Error::kInvalidFooter, "bad footer magic");
  if (footer.version_major > 1) return fail(Error::kInvalidFooter, "footer version_major > 1");
  if (footer.vbmeta_size > kMaxVbmetaSize) {
    return fail(Error::kInvalidFooter, "footer vbmeta_size over 64 KiB");
  }
  // The vbmeta must lie before the footer (libavb reads it with no such check).
  if (!inside(footer.vbmeta_offset, footer.vbmeta_size, partition.size() - kFooterSize)) {
    return fail(Error::kInvalidFooter, "footer vbmeta range outside the partition");
  }
  return footer;
}

Result<Vbmeta> parse_vbmeta(Bytes image) {
  Fields f(image);
  Bytes magic = f.bytes(4);
  if (!f.ok() || !equals(magic, "AVB0")) {
    return fail(Error::kInvalidVbmetaHeader, "bad vbmeta magic");
  }
  if (image.size() < kVbmetaHeaderSize) {
    return fail(Error::kInvalidVbmetaHeader, "vbmeta shorter than its header");
  }
  Vbmeta v;
  VbmetaHeader& h = v.h;
  h.required_libavb_version_major = f.u32();
  h.required_libavb_version_minor = f.u32();
  h.authentication_data_block_size = f.u64();
  h.auxiliary_data_block_size = f.u64();
  h.algorithm_type = f.u32();
  h.hash_offset = f.u64();
  h.hash_size = f.u64();
  h.signature_offset = f.u64();
  h.signature_size = f.u64();
  h.public_key_offset = f.u64();
  h.public_key_size = f.u64();
  h.public_key_metadata_offset = f.u64();
  h.public_key_metadata_size = f.u64();
  h.descriptors_offset = f.u64();
  h.descriptors_size = f.u64();
  h.rollback_index = f.u64();
  h.flags = f.u32();
  h.rollback_index_location = f.u32();
  Bytes release_string = f.bytes(48);
  Bytes reserved = f.bytes(80);
  if (!f.ok() || f.reader().offset() != kVbmetaHeaderSize) {
    return fail(Error::kInvalidVbmetaHeader, "vbmeta shorter than its header");
  }

  // avb_slot_verify.c: the image must not need a newer libavb than 1.3.
  if (h.required_libavb_version_major != 1 || h.required_libavb_version_minor > 3) {
    return fail(Error::kUnsupportedVersion, "vbmeta needs libavb version other than 1.0-1.3");
  }
  if (h.authentication_data_block_size % 64 != 0 || h.auxiliary_data_block_size % 64 != 0) {
    return fail(Error::kInvalidVbmetaHeader, "block size not a multiple of 64");
  }
  auto auth_end = checked_add(kVbmetaHeaderSize, h.authentication_data_block_size);
  auto aux_end = auth_end ? checked_add(*auth_end, h.auxiliary_data_block_size) : std::nullopt;
  if (!aux_end || *aux_end > image.size()) {
    return fail(Error::kInvalidVbmetaHeader, "blocks larger than the vbmeta image");
  }
  if (!inside(h.hash_offset, h.hash_size, h.authentication_data_block_size)) {
    return fail(Error::kInvalidVbmetaHeader, "hash outside the authentication block");
  }
  if (!inside(h.signature_offset, h.signature_size, h.authentication_data_block_size)) {
    return fail(Error::kInvalidVbmetaHeader, "signature outside the authentication block");
  }
  if (!inside(h.public_key_offset, h.public_key_size, h.auxiliary_data_block_size)) {
    return fail(Error::kInvalidVbmetaHeader, "public key outside the auxiliary block");
  }
  // Beyond libavb: it only checks these when (and if) it reads them.
  if (!inside(h.public_key_metadata_offset, h.public_key_metadata_size,
              h.auxiliary_data_block_size)) {
    return fail(Error::kInvalidVbmetaHeader, "public key metadata outside the auxiliary block");
  }
  if (!inside(h.descriptors_offset, h.descriptors_size, h.auxiliary_data_block_size)) {
    return fail(Error::kInvalidVbmetaHeader, "descriptors outside the auxiliary block");
  }
  if (h.algorithm_type > static_cast<uint32_t>(Algorithm::kSha512Rsa8192)) {
    return fail(Error::kInvalidVbmetaHeader, "unknown algorithm");
  }
  v.algorithm = static_cast<Algorithm>(h.algorithm_type);
  // Beyond libavb: the header is otherwise fully defined.
  if (release_string.back() != std::byte{0}) {
    return fail(Error::kInvalidVbmetaHeader, "release_string not NUL-terminated");
  }
  if (!all_zero(reserved)) return fail(Error::kInvalidVbmetaHeader, "reserved bytes not zero");
  // pvmfw never runs with verification or the hashtree disabled.
  if (h.flags != 0) return fail(Error::kInvalidFlags, "vbmeta flags not zero");

  auto info = algorithm_info(v.algorithm);
  if (!info) return fail(Error::kOkNotSigned, "vbmeta algorithm NONE");
  v.info = *info;
  if (h.hash_size != info->hash_size) {
    return fail(Error::kInvalidVbmetaHeader, "hash size does not fit the algorithm");
  }
  if (h.signature_size != info->key_bits / 8) {
    return fail(Error::kInvalidVbmetaHeader, "signature size does not fit the algorithm");
  }

  // Every range below was checked above; a failure here would be our bug, and
  // still fails closed.
  Reader r(image);
  auto header = r.sub(0, kVbmetaHeaderSize);
  auto auth = r.sub(kVbmetaHeaderSize, h.authentication_data_block_size);
  auto aux = r.sub(*auth_end, h.auxiliary_data_block_size);
  if (!header || !auth || !aux) return fail(Error::kInvalidVbmetaHeader, "block layout");
  Reader ra(*auth), rx(*aux);
  auto hash = ra.sub(h.hash_offset, h.hash_size);
  auto sig = ra.sub(h.signature_offset, h.signature_size);
  auto key = rx.sub(h.public_key_offset, h.public_key_size);
  auto meta = rx.sub(h.public_key_metadata_offset, h.public_key_metadata_size);
  auto desc = rx.sub(h.descriptors_offset, h.descriptors_size);
  if (!hash || !sig || !key || !meta || !desc) {
    return fail(Error::kInvalidVbmetaHeader, "block layout");
  }
  v.header = *header;
  v.auxiliary = *aux;
  v.hash = *hash;
  v.signature = *sig;
  v.public_key = *key;
  v.public_key_metadata = *meta;
  v.descriptors = *desc;
  return v;
}

Result<HashDescriptor> parse_hash_descriptor(Bytes body) {
  Fields f(body);
  HashDescriptor d;
  d.image_size = f.u64();
  Bytes algorithm = f.bytes(32);
  uint32_t name_len = f.u32();
  uint32_t salt_len = f.u32();
  uint32_t digest_len = f.u32();
  d.flags = f.u32();
  Bytes reserved = f.bytes(60);
  if (!f.ok()) return fail(Error::kInvalidDescriptor, "hash descriptor truncated");
  d.partition_name = f.bytes(name_len);
  d.salt = f.bytes(salt_len);
  d.digest = f.bytes(digest_len);
  if (!f.ok()) return fail(Error::kInvalidDescriptor, "hash descriptor fields outside it");
  if (!all_zero(reserved) || !all_zero(f.reader().rest())) {
    return fail(Error::kInvalidDescriptor, "hash descriptor reserved bytes not zero");
  }
  // "sha256"/"sha512" then NUL padding to 32 bytes (avb_hash_descriptor.h).
  auto name_end = std::find(algorithm.begin(), algorithm.end(), std::byte{0});
  Bytes alg_name = algorithm.first(static_cast<size_t>(name_end - algorithm.begin()));
  if (!all_zero(algorithm.subspan(alg_name.size()))) {
    return fail(Error::kUnsupportedHashAlgorithm, "hash_algorithm not NUL-padded");
  }
  if (equals(alg_name, "sha256")) {
    d.algorithm = HashAlgorithm::kSha256;
  } else if (equals(alg_name, "sha512")) {
    d.algorithm = HashAlgorithm::kSha512;
  } else {
    return fail(Error::kUnsupportedHashAlgorithm, "hash_algorithm not sha256 or sha512");
  }
  if (name_len == 0) return fail(Error::kInvalidDescriptor, "hash descriptor without a name");
  if (digest_len == 0) {
    return fail(Error::kInvalidDescriptor, "persistent digest (digest_len 0) not allowed");
  }
  if (digest_len != digest_size(d.algorithm)) {
    return fail(Error::kInvalidDescriptor, "digest_len does not fit hash_algorithm");
  }
  if ((d.flags & ~kHashDescriptorFlagDoNotUseAb) != 0) {
    return fail(Error::kInvalidFlags, "hash descriptor flags other than DO_NOT_USE_AB");
  }
  return d;
}

Result<PropertyDescriptor> parse_property_descriptor(Bytes body) {
  Fields f(body);
  uint64_t key_len = f.u64();
  uint64_t value_len = f.u64();
  if (!f.ok()) return fail(Error::kInvalidDescriptor, "property descriptor truncated");
  PropertyDescriptor p;
  p.key = f.bytes(key_len);
  Bytes key_nul = f.bytes(1);
  p.value = f.bytes(value_len);
  Bytes value_nul = f.bytes(1);
  if (!f.ok()) return fail(Error::kInvalidDescriptor, "property outside its descriptor");
  if (!all_zero(key_nul) || !all_zero(value_nul)) {
    return fail(Error::kInvalidDescriptor, "property key or value not NUL-terminated");
  }
  if (!all_zero(f.reader().rest())) {
    return fail(Error::kInvalidDescriptor, "property descriptor padding not zero");
  }
  return p;
}

Result<> check_descriptor_shape(const Descriptor& d) {
  switch (static_cast<Tag>(d.tag)) {
    case Tag::kProperty: {
      auto p = parse_property_descriptor(d.body);
      if (!p) return std::unexpected(p.error());
      return {};
    }
    case Tag::kHash: {
      auto h = parse_hash_descriptor(d.body);
      if (!h) return std::unexpected(h.error());
      return {};
    }
    case Tag::kHashtree: {
      // AvbHashtreeDescriptor: 164 bytes after the tag header.
      Fields f(d.body);
      (void)f.bytes(4 + 8 + 8 + 8 + 4 + 4 + 4 + 8 + 8 + 32);
      uint32_t name_len = f.u32(), salt_len = f.u32(), root_digest_len = f.u32();
      (void)f.bytes(4 + 60);  // flags, reserved
      (void)f.bytes(name_len);
      (void)f.bytes(salt_len);
      (void)f.bytes(root_digest_len);
      if (!f.ok()) return fail(Error::kInvalidDescriptor, "hashtree descriptor malformed");
      return {};
    }
    case Tag::kKernelCmdline: {
      Fields f(d.body);
      (void)f.u32();  // flags
      (void)f.bytes(f.u32());
      if (!f.ok()) return fail(Error::kInvalidDescriptor, "kernel_cmdline descriptor malformed");
      return {};
    }
    case Tag::kChainPartition: {
      Fields f(d.body);
      (void)f.u32();  // rollback_index_location
      uint32_t name_len = f.u32(), key_len = f.u32();
      (void)f.bytes(4 + 60);  // flags, reserved
      (void)f.bytes(name_len);
      (void)f.bytes(key_len);
      if (!f.ok()) return fail(Error::kInvalidDescriptor, "chain descriptor malformed");
      return {};
    }
  }
  return {};  // unknown tag: only the generic header applies
}

}  // namespace verify::avb

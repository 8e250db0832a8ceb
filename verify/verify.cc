// verify_payload and verify_partition: libavb's checks in libavb's order,
// then a policy (AOSP pvmfw's payload verification: guest/pvmfw/avb/; or one
// partition's, see verify.h). Both run the same stages (locate, authenticate,
// collect with a policy, covered_image, check_digest); only the policy differs.
//
// Order (each stage only sees what the previous ones accepted):
//   trusted key blob (INVALID_PUBLIC_KEY) -> footer (INVALID_FOOTER) ->
//   vbmeta header (INVALID_VBMETA_HEADER, UNSUPPORTED_VERSION, INVALID_FLAGS,
//   OK_NOT_SIGNED) -> H(header || aux) == embedded hash (HASH_MISMATCH; the
//   public key and descriptors are inside aux, so any change to them stops
//   here) -> embedded key == trusted key (PUBLIC_KEY_REJECTED) -> RSA
//   signature (SIGNATURE_MISMATCH) -> rollback (ROLLBACK_INDEX) -> descriptor
//   shapes, then policy -> image sizes -> image digests.
#include <array>
#include <string_view>

#include "avb.h"
#include "verify/verify.h"

namespace verify {
namespace {

using avb::Bytes;
using avb::fail;
using avb::Result;

constexpr std::string_view kCapabilityKey = "com.android.virt.cap";

struct KnownCapability {
  std::string_view name;
  uint32_t bit;
};
constexpr std::array<KnownCapability, 4> kCapabilities = {{
    {"remote_attest", kCapRemoteAttest},
    {"secretkeeper_protection", kCapSecretkeeperProtection},
    {"supports_uefi_boot", kCapSupportsUefiBoot},
    {"trusty_security_vm", kCapTrustySecurityVm},
}};

std::string_view as_view(Bytes b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// '|'-separated capability names; every element must be a known name.
Result<uint32_t> parse_capabilities(Bytes value) {
  std::string_view rest = as_view(value);
  uint32_t bits = 0;
  for (;;) {
    const size_t bar = rest.find('|');
    const std::string_view item = rest.substr(0, bar);
    bool known = false;
    for (const auto& c : kCapabilities) {
      if (item == c.name) {
        bits |= c.bit;
        known = true;
      }
    }
    if (!known) return fail(Error::kUnknownCapability, "com.android.virt.cap value");
    if (bar == std::string_view::npos) return bits;
    rest = rest.substr(bar + 1);
  }
}

// A hash descriptor a policy takes, at most once.
struct HashSlot {
  std::string_view partition;
  const char* detail;  // static text naming it in failures
  std::optional<avb::HashDescriptor> found;
};

// What a policy accepts: its hash descriptors and, for payloads, one
// com.android.virt.cap property. Every other descriptor is refused.
struct Policy {
  std::span<HashSlot> hashes;
  bool capabilities = false;
};

struct Collected {
  bool have_capabilities = false;
  uint32_t capabilities = 0;
};

Result<> collect(const avb::Descriptor& d, const Policy& policy, Collected& c) {
  switch (static_cast<avb::Tag>(d.tag)) {
    case avb::Tag::kHash: {
      auto h = avb::parse_hash_descriptor(d.body);
      if (!h) return std::unexpected(h.error());
      const std::string_view name = as_view(h->partition_name);
      for (HashSlot& slot : policy.hashes) {
        if (name != slot.partition) continue;
        if (slot.found.has_value()) return fail(Error::kDuplicateDescriptor, slot.detail);
        slot.found = *h;
        return {};
      }
      return fail(Error::kUnexpectedDescriptor, "hash descriptor for an unknown partition");
    }
    case avb::Tag::kProperty: {
      if (!policy.capabilities) return fail(Error::kUnexpectedDescriptor, "property descriptor");
      auto p = avb::parse_property_descriptor(d.body);
      if (!p) return std::unexpected(p.error());
      if (as_view(p->key) != kCapabilityKey) {
        return fail(Error::kInvalidProperty, "property other than com.android.virt.cap");
      }
      if (c.have_capabilities) return fail(Error::kDuplicateDescriptor, "com.android.virt.cap");
      auto bits = parse_capabilities(p->value);
      if (!bits) return std::unexpected(bits.error());
      c.have_capabilities = true;
      c.capabilities = *bits;
      return {};
    }
    case avb::Tag::kHashtree:
      return fail(Error::kUnexpectedDescriptor, "hashtree descriptor");
    case avb::Tag::kKernelCmdline:
      return fail(Error::kUnexpectedDescriptor, "kernel_cmdline descriptor");
    case avb::Tag::kChainPartition:
      return fail(Error::kUnexpectedDescriptor, "chain_partition descriptor");
  }
  return fail(Error::kUnexpectedDescriptor, "unknown descriptor tag");
}

Result<Collected> collect_all(Bytes descriptors, const Policy& policy) {
  Collected c;
  auto collected = avb::for_each_descriptor(
      descriptors, [&](const avb::Descriptor& d) { return collect(d, policy, c); });
  if (!collected) return std::unexpected(collected.error());
  return c;
}

// H(salt || image) against the descriptor's digest. `image` is exactly the
// bytes that will run (its size already matched against image_size).
Result<PartitionDigest> check_digest(const avb::HashDescriptor& d, Bytes image,
                                     const char* name) {
  PartitionDigest out;
  out.algorithm = d.algorithm;
  out.size = static_cast<uint8_t>(avb::digest_size(d.algorithm));
  out.image_size = d.image_size;
  if (image.size() != d.image_size) return fail(Error::kImageSizeMismatch, name);
  const std::array<Bytes, 2> parts = {d.salt, image};
  avb::digest(d.algorithm, parts, out.bytes);
  if (!avb::ct_equal(std::as_bytes(std::span(out.bytes).first(out.size)), d.digest)) {
    return fail(Error::kImageDigestMismatch, name);
  }
  return out;
}

// A partition's footer and the vbmeta it points at.
struct Located {
  avb::Footer footer;
  Bytes vbmeta;
};

Result<Located> locate(Bytes partition) {
  auto footer = avb::parse_footer(partition);
  if (!footer) return std::unexpected(footer.error());
  auto vbmeta = base::subspan(partition, footer->vbmeta_offset, footer->vbmeta_size);
  if (!vbmeta) return fail(Error::kInvalidFooter, "footer vbmeta range outside the partition");
  return Located{*footer, *vbmeta};
}

// The part of `partition` its descriptor covers: image_size bytes from the
// start, agreeing with the footer's original_image_size and ending at or
// before the vbmeta (so no byte is both image and signature data).
Result<Bytes> covered_image(Bytes partition, const avb::Footer& footer,
                            const avb::HashDescriptor& d, const char* detail) {
  if (d.image_size != footer.original_image_size ||
      footer.original_image_size > footer.vbmeta_offset) {
    return fail(Error::kImageSizeMismatch, detail);
  }
  auto image = base::subspan(partition, 0, footer.original_image_size);
  if (!image) return fail(Error::kImageSizeMismatch, detail);
  return *image;
}

// The stages both entry points share, in libavb's order: the vbmeta header,
// H(header || aux) == embedded hash (the public key and descriptors are
// inside aux, so any change to them stops here), embedded key == trusted key,
// the RSA signature; then, over authentic data, the rollback rules and every
// descriptor's shape (before any policy looks at one).
Result<avb::Vbmeta> authenticate(Bytes vbmeta_bytes, Bytes trusted_blob,
                                 const avb::RsaPublicKey& trusted, uint64_t stored_rollback_index) {
  auto vb = avb::parse_vbmeta(vbmeta_bytes);
  if (!vb) return std::unexpected(vb.error());

  // libavb avb_vbmeta_image_verify: the hash covers header and aux, so the
  // embedded key and every descriptor are bound to it.
  std::array<uint8_t, 64> computed_storage{};
  const std::array<Bytes, 2> hashed = {vb->header, vb->auxiliary};
  avb::digest(vb->info.hash, hashed, computed_storage);
  const Bytes computed = std::as_bytes(std::span(computed_storage).first(vb->info.hash_size));
  if (!avb::ct_equal(computed, vb->hash)) {
    return fail(Error::kHashMismatch, "vbmeta hash does not match its contents");
  }
  // Trust: the embedded key blob must be the trusted one, byte for byte.
  if (!avb::ct_equal(vb->public_key, trusted_blob)) {
    return fail(Error::kPublicKeyRejected, "vbmeta key is not the trusted key");
  }
  // libavb avb_rsa_verify: the signature length ties the key to the algorithm.
  if (trusted.key_num_bits != vb->info.key_bits) {
    return fail(Error::kSignatureMismatch, "key size does not fit the algorithm");
  }
  if (auto ok = avb::rsa_verify(trusted, vb->info.hash, computed, vb->signature); !ok) {
    return std::unexpected(ok.error());
  }

  // Signed from here on; what follows is policy over authentic data.
  if (vb->h.rollback_index_location != 0) {
    return fail(Error::kRollbackIndex, "rollback_index_location not 0");
  }
  if (vb->h.rollback_index < stored_rollback_index) {
    return fail(Error::kRollbackIndex, "rollback index below the stored one");
  }
  if (auto ok = avb::for_each_descriptor(vb->descriptors, avb::check_descriptor_shape); !ok) {
    return std::unexpected(ok.error());
  }
  return vb;
}

}  // namespace

std::expected<VerifiedPayload, Failure> verify_payload(const PayloadInputs& in) {
  auto trusted = avb::parse_public_key(in.trusted_public_key);
  if (!trusted) return std::unexpected(trusted.error());

  // Where the vbmeta is, and which bytes of `kernel` will run.
  std::optional<avb::Footer> footer;
  Bytes vbmeta_bytes;
  if (in.vbmeta) {
    vbmeta_bytes = *in.vbmeta;
  } else {
    auto located = locate(in.kernel);
    if (!located) return std::unexpected(located.error());
    footer = located->footer;
    vbmeta_bytes = located->vbmeta;
  }

  auto vb = authenticate(vbmeta_bytes, in.trusted_public_key, *trusted, in.stored_rollback_index);
  if (!vb) return std::unexpected(vb.error());

  std::array<HashSlot, 3> slots = {{
      {"boot", "boot", std::nullopt},
      {"initrd_normal", "initrd_normal", std::nullopt},
      {"initrd_debug", "initrd_debug", std::nullopt},
  }};
  auto c = collect_all(vb->descriptors, Policy{slots, /*capabilities=*/true});
  if (!c) return std::unexpected(c.error());
  const std::optional<avb::HashDescriptor>& boot = slots[0].found;
  const std::optional<avb::HashDescriptor>& initrd_normal = slots[1].found;
  const std::optional<avb::HashDescriptor>& initrd_debug = slots[2].found;

  if (!boot) return fail(Error::kMissingBootDescriptor, "boot");
  const bool has_initrd_descriptor = initrd_normal || initrd_debug;
  if (in.initrd && !has_initrd_descriptor) {
    return fail(Error::kMissingInitrdDescriptor, "initrd_normal/initrd_debug");
  }
  if (!in.initrd && has_initrd_descriptor) {
    return fail(Error::kUnexpectedInitrdDescriptor, "initrd descriptor without an initrd");
  }

  // The boot descriptor must cover exactly the kernel that will run.
  Bytes kernel_image = in.kernel;
  if (footer) {
    auto image = covered_image(in.kernel, *footer, *boot, "boot (footer original_image_size)");
    if (!image) return std::unexpected(image.error());
    kernel_image = *image;
  } else if (boot->image_size != in.kernel.size()) {
    return fail(Error::kImageSizeMismatch, "boot");
  }

  VerifiedPayload out;
  out.algorithm = vb->algorithm;
  out.rollback_index = vb->h.rollback_index;
  out.capabilities = c->capabilities;
  auto kernel = check_digest(*boot, kernel_image, "boot");
  if (!kernel) return std::unexpected(kernel.error());
  out.kernel = *kernel;

  if (in.initrd) {
    // initrd_normal first; initrd_debug only when the normal one does not match.
    Failure last{Error::kImageSizeMismatch, "initrd"};
    for (const HashSlot* slot : {&slots[1], &slots[2]}) {
      if (!slot->found.has_value()) continue;
      auto r = check_digest(*slot->found, *in.initrd, slot->detail);
      if (r) {
        out.initrd = *r;
        out.debug_initrd = slot == &slots[2];
        break;
      }
      // A digest mismatch says more than a size mismatch: keep it.
      if (last.error != Error::kImageDigestMismatch) last = r.error();
    }
    if (!out.initrd) return std::unexpected(last);
  }
  return out;
}

std::expected<VerifiedPartition, Failure> verify_partition(const PartitionInputs& in) {
  auto trusted = avb::parse_public_key(in.trusted_public_key);
  if (!trusted) return std::unexpected(trusted.error());
  auto located = locate(in.partition);
  if (!located) return std::unexpected(located.error());
  auto vb =
      authenticate(located->vbmeta, in.trusted_public_key, *trusted, in.stored_rollback_index);
  if (!vb) return std::unexpected(vb.error());

  std::array<HashSlot, 1> slots = {{{in.partition_name, "partition", std::nullopt}}};
  auto c = collect_all(vb->descriptors, Policy{slots, /*capabilities=*/false});
  if (!c) return std::unexpected(c.error());
  const std::optional<avb::HashDescriptor>& d = slots[0].found;
  if (!d) return fail(Error::kMissingBootDescriptor, "no hash descriptor for the partition");
  // Beyond verify_payload: not even DO_NOT_USE_AB (there are no A/B slots).
  if (d->flags != 0) return fail(Error::kInvalidFlags, "hash descriptor flags not zero");

  auto image =
      covered_image(in.partition, located->footer, *d, "partition (footer original_image_size)");
  if (!image) return std::unexpected(image.error());
  auto digest = check_digest(*d, *image, "partition");
  if (!digest) return std::unexpected(digest.error());
  VerifiedPartition out;
  out.algorithm = vb->algorithm;
  out.digest = *digest;
  out.rollback_index = vb->h.rollback_index;
  out.image = *image;
  return out;
}

const char* to_string(Error e) {
  switch (e) {
    case Error::kInvalidFooter: return "INVALID_FOOTER";
    case Error::kInvalidVbmetaHeader: return "INVALID_VBMETA_HEADER";
    case Error::kUnsupportedVersion: return "UNSUPPORTED_VERSION";
    case Error::kOkNotSigned: return "OK_NOT_SIGNED";
    case Error::kHashMismatch: return "HASH_MISMATCH";
    case Error::kSignatureMismatch: return "SIGNATURE_MISMATCH";
    case Error::kPublicKeyRejected: return "PUBLIC_KEY_REJECTED";
    case Error::kRollbackIndex: return "ROLLBACK_INDEX";
    case Error::kImageDigestMismatch: return "IMAGE_DIGEST_MISMATCH";
    case Error::kInvalidPublicKey: return "INVALID_PUBLIC_KEY";
    case Error::kInvalidDescriptor: return "INVALID_DESCRIPTOR";
    case Error::kUnexpectedDescriptor: return "UNEXPECTED_DESCRIPTOR";
    case Error::kDuplicateDescriptor: return "DUPLICATE_DESCRIPTOR";
    case Error::kMissingBootDescriptor: return "MISSING_BOOT_DESCRIPTOR";
    case Error::kMissingInitrdDescriptor: return "MISSING_INITRD_DESCRIPTOR";
    case Error::kUnexpectedInitrdDescriptor: return "UNEXPECTED_INITRD_DESCRIPTOR";
    case Error::kUnsupportedHashAlgorithm: return "UNSUPPORTED_HASH_ALGORITHM";
    case Error::kImageSizeMismatch: return "IMAGE_SIZE_MISMATCH";
    case Error::kInvalidProperty: return "INVALID_PROPERTY";
    case Error::kUnknownCapability: return "UNKNOWN_CAPABILITY";
    case Error::kInvalidFlags: return "INVALID_FLAGS";
  }
  return "UNKNOWN_ERROR";
}

const char* to_string(Algorithm a) {
  switch (a) {
    case Algorithm::kNone: return "NONE";
    case Algorithm::kSha256Rsa2048: return "SHA256_RSA2048";
    case Algorithm::kSha256Rsa4096: return "SHA256_RSA4096";
    case Algorithm::kSha256Rsa8192: return "SHA256_RSA8192";
    case Algorithm::kSha512Rsa2048: return "SHA512_RSA2048";
    case Algorithm::kSha512Rsa4096: return "SHA512_RSA4096";
    case Algorithm::kSha512Rsa8192: return "SHA512_RSA8192";
  }
  return "UNKNOWN";
}

const char* to_string(HashAlgorithm a) {
  switch (a) {
    case HashAlgorithm::kSha256: return "sha256";
    case HashAlgorithm::kSha512: return "sha512";
  }
  return "unknown";
}

}  // namespace verify

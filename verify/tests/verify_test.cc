// verify_payload, one check per test: each image is built here (signed with
// a key generated in-process) so that its only defect is the one under test.
#include <gtest/gtest.h>
#include <mbedtls/bignum.h>

#include "base/sha2.h"

#include <algorithm>
#include <array>
#include <string>

#include "avb.h"
#include "vbmeta_builder.h"
#include "verify/verify.h"

namespace verify::testing {
namespace {

using Outcome = std::expected<VerifiedPayload, Failure>;

class Verify : public ::testing::Test {
 protected:
  Buf kernel = payload(10000, 1);
  Buf initrd = payload(3001, 2);
  Buf salt = from_hex("8c17a2b317ec29a78b20b8654a4a778205c27939bb8ae7a4225a274b6a9d7d6b");
  Buf trusted = key().avb_public_key();
  uint64_t stored_rollback = 0;

  Buf boot_desc() { return encode(hash_desc_for("boot", kernel, salt)); }
  Buf initrd_desc(const std::string& partition = "initrd_normal") {
    return encode(hash_desc_for(partition, initrd, salt));
  }
  VbmetaSpec spec(Buf descriptors) {
    VbmetaSpec s;
    s.descriptors = std::move(descriptors);
    return s;
  }
  VbmetaSpec spec() { return spec(boot_desc()); }
  Buf signed_vbmeta(const VbmetaSpec& s) { return build_vbmeta(s, &key()); }

  Outcome footer(const Buf& partition, const Buf* initrd_image = nullptr) {
    PayloadInputs in;
    in.kernel = bytes(partition);
    if (initrd_image) in.initrd = bytes(*initrd_image);
    in.trusted_public_key = bytes(trusted);
    in.stored_rollback_index = stored_rollback;
    return verify_payload(in);
  }
  Outcome standalone(const Buf& vbmeta, const Buf* initrd_image = nullptr) {
    PayloadInputs in;
    in.kernel = bytes(kernel);
    in.vbmeta = bytes(vbmeta);
    if (initrd_image) in.initrd = bytes(*initrd_image);
    in.trusted_public_key = bytes(trusted);
    in.stored_rollback_index = stored_rollback;
    return verify_payload(in);
  }
  // The standard signed image, edited by `edit` (header checks come before
  // the hash check, so header edits need no re-signing).
  template <typename Edit>
  Outcome edited(Edit edit) {
    Buf v = signed_vbmeta(spec());
    edit(v);
    return standalone(v);
  }
  Outcome with_descriptors(Buf descriptors, const Buf* initrd_image = nullptr) {
    return standalone(signed_vbmeta(spec(std::move(descriptors))), initrd_image);
  }
};

// ---- Accepted images ----

TEST_F(Verify, FooterModeAcceptsAndReportsTheDigest) {
  auto r = footer(footer_image(kernel, signed_vbmeta(spec())));
  ASSERT_EQ(result(r), "OK");
  EXPECT_EQ(r->algorithm, Algorithm::kSha256Rsa2048);
  EXPECT_EQ(r->kernel.algorithm, HashAlgorithm::kSha256);
  EXPECT_EQ(r->kernel.size, 32);
  EXPECT_EQ(r->kernel.image_size, kernel.size());
  EXPECT_EQ(to_hex(std::span(r->kernel.bytes).first(32)),
            to_hex(sha(HashAlgorithm::kSha256, {salt, kernel})));
  EXPECT_FALSE(r->initrd);
  EXPECT_FALSE(r->debug_initrd);
  EXPECT_EQ(r->rollback_index, 0u);
  EXPECT_EQ(r->capabilities, 0u);
}

TEST_F(Verify, StandaloneWithNormalInitrd) {
  auto r = standalone(signed_vbmeta(spec(cat({boot_desc(), initrd_desc()}))), &initrd);
  ASSERT_EQ(result(r), "OK");
  ASSERT_TRUE(r->initrd);
  EXPECT_FALSE(r->debug_initrd);
  EXPECT_EQ(r->initrd->image_size, initrd.size());
  EXPECT_EQ(to_hex(std::span(r->initrd->bytes).first(32)),
            to_hex(sha(HashAlgorithm::kSha256, {salt, initrd})));
}

TEST_F(Verify, DebugInitrdMatchesWhenNormalDoesNot) {
  Buf other = payload(initrd.size(), 9);
  Buf descs = cat({boot_desc(), encode(hash_desc_for("initrd_normal", other, salt)),
                   initrd_desc("initrd_debug")});
  auto r = with_descriptors(descs, &initrd);
  ASSERT_EQ(result(r), "OK");
  EXPECT_TRUE(r->debug_initrd);
  // And the normal initrd, given instead, is taken as normal.
  auto n = with_descriptors(descs, &other);
  ASSERT_EQ(result(n), "OK");
  EXPECT_FALSE(n->debug_initrd);
}

TEST_F(Verify, DebugInitrdAloneIsAccepted) {
  auto r = with_descriptors(cat({boot_desc(), initrd_desc("initrd_debug")}), &initrd);
  ASSERT_EQ(result(r), "OK");
  EXPECT_TRUE(r->debug_initrd);
}

TEST_F(Verify, Sha512VbmetaAndDescriptors) {
  VbmetaSpec s = spec(encode(hash_desc_for("boot", kernel, salt, "sha512")));
  s.algorithm = Algorithm::kSha512Rsa2048;
  auto r = standalone(signed_vbmeta(s));
  ASSERT_EQ(result(r), "OK");
  EXPECT_EQ(r->algorithm, Algorithm::kSha512Rsa2048);
  EXPECT_EQ(r->kernel.algorithm, HashAlgorithm::kSha512);
  EXPECT_EQ(r->kernel.size, 64);
  EXPECT_EQ(to_hex(std::span(r->kernel.bytes).first(64)),
            to_hex(sha(HashAlgorithm::kSha512, {salt, kernel})));
}

TEST_F(Verify, EmptySaltIsFine) {
  EXPECT_EQ(result(with_descriptors(encode(hash_desc_for("boot", kernel, {})))), "OK");
}

TEST_F(Verify, DoNotUseAbFlagIsHarmless) {
  HashDesc d = hash_desc_for("boot", kernel, salt);
  d.flags = 1;
  EXPECT_EQ(result(with_descriptors(encode(d))), "OK");
}

TEST_F(Verify, VersionMinorUpTo3) {
  VbmetaSpec s = spec();
  s.version_minor = 3;
  EXPECT_EQ(result(standalone(signed_vbmeta(s))), "OK");
}

TEST_F(Verify, PublicKeyMetadataIsAllowed) {
  VbmetaSpec s = spec();
  s.public_key_metadata = from_string("metadata");
  EXPECT_EQ(result(standalone(signed_vbmeta(s))), "OK");
}

TEST_F(Verify, StandaloneVbmetaMayHaveTrailingBytes) {
  Buf v = signed_vbmeta(spec());
  v.resize(v.size() + 4096, 0);
  EXPECT_EQ(result(standalone(v)), "OK");
}

TEST_F(Verify, Capabilities) {
  auto r = with_descriptors(
      cat({boot_desc(), property_desc("com.android.virt.cap", "remote_attest|trusty_security_vm")}));
  ASSERT_EQ(result(r), "OK");
  EXPECT_EQ(r->capabilities, kCapRemoteAttest | kCapTrustySecurityVm);
  auto all = with_descriptors(cat(
      {property_desc("com.android.virt.cap",
                     "secretkeeper_protection|supports_uefi_boot|remote_attest|trusty_security_vm"),
       boot_desc()}));
  ASSERT_EQ(result(all), "OK");
  EXPECT_EQ(all->capabilities, kCapRemoteAttest | kCapSecretkeeperProtection |
                                   kCapSupportsUefiBoot | kCapTrustySecurityVm);
}

TEST_F(Verify, RollbackIndexReported) {
  VbmetaSpec s = spec();
  s.rollback_index = 7;
  stored_rollback = 7;
  auto r = standalone(signed_vbmeta(s));
  ASSERT_EQ(result(r), "OK");
  EXPECT_EQ(r->rollback_index, 7u);
}

// ---- Footer ----

TEST_F(Verify, FooterErrors) {
  const Buf good = footer_image(kernel, signed_vbmeta(spec()));
  const size_t f = good.size() - 64;
  auto with = [&](auto edit) {
    Buf b = good;
    edit(b);
    return name(footer(b));
  };
  EXPECT_EQ(name(footer(Buf(63, 0))), "INVALID_FOOTER");
  EXPECT_EQ(name(footer(Buf{})), "INVALID_FOOTER");
  EXPECT_EQ(with([&](Buf& b) { b[f] = 'X'; }), "INVALID_FOOTER");
  EXPECT_EQ(with([&](Buf& b) { put_be32(b, f + 4, 2); }), "INVALID_FOOTER");
  EXPECT_EQ(with([&](Buf& b) { put_be32(b, f + 8, 99); }), "OK");  // minor: any
  EXPECT_EQ(with([&](Buf& b) { put_be64(b, f + 28, 64 * 1024 + 1); }), "INVALID_FOOTER");
  EXPECT_EQ(with([&](Buf& b) { put_be64(b, f + 20, b.size()); }), "INVALID_FOOTER");
  EXPECT_EQ(with([&](Buf& b) { put_be64(b, f + 20, UINT64_MAX - 8); }), "INVALID_FOOTER");
  // vbmeta overlapping the footer itself
  EXPECT_EQ(with([&](Buf& b) { put_be64(b, f + 20, f - get_be64(b, f + 28) + 1); }),
            "INVALID_FOOTER");
  // Never falls back to a vbmeta at offset 0 (libavb would).
  Buf at0 = signed_vbmeta(spec());
  at0.resize(good.size(), 0);
  EXPECT_EQ(name(footer(at0)), "INVALID_FOOTER");
}

TEST_F(Verify, FooterImageSizeMustCoverTheKernel) {
  const Buf good = footer_image(kernel, signed_vbmeta(spec()));
  const size_t f = good.size() - 64;
  Buf b = good;
  put_be64(b, f + 12, kernel.size() - 1);  // original_image_size != descriptor
  EXPECT_EQ(name(footer(b)), "IMAGE_SIZE_MISMATCH");
  // A descriptor and footer agreeing on a size that reaches into the vbmeta
  // (at 12288, the kernel's size rounded up to 4 KiB).
  Buf big = payload(12288 + 64, 3);
  Buf v = signed_vbmeta(spec(encode(hash_desc_for("boot", big, salt))));
  Buf img = footer_image(kernel, v);
  ASSERT_EQ(get_be64(img, img.size() - 64 + 20), 12288u);
  put_be64(img, img.size() - 64 + 12, big.size());
  EXPECT_EQ(name(footer(img)), "IMAGE_SIZE_MISMATCH");
}

TEST_F(Verify, FooterKernelTamperingIsCaught) {
  Buf b = footer_image(kernel, signed_vbmeta(spec()));
  b[kernel.size() - 1] ^= 1;
  EXPECT_EQ(name(footer(b)), "IMAGE_DIGEST_MISMATCH");
  // Bytes between the kernel and the vbmeta are not part of the kernel.
  Buf pad = footer_image(kernel, signed_vbmeta(spec()));
  pad[kernel.size()] ^= 1;
  EXPECT_EQ(result(footer(pad)), "OK");
}

// ---- vbmeta header ----

TEST_F(Verify, HeaderMagicAndLength) {
  EXPECT_EQ(name(edited([](Buf& v) { v[3] = '1'; })), "INVALID_VBMETA_HEADER");
  EXPECT_EQ(name(edited([](Buf& v) { v.resize(255); })), "INVALID_VBMETA_HEADER");
  EXPECT_EQ(name(edited([](Buf& v) { v.resize(3); })), "INVALID_VBMETA_HEADER");
  EXPECT_EQ(name(edited([](Buf& v) { v.clear(); })), "INVALID_VBMETA_HEADER");
  EXPECT_EQ(name(edited([](Buf& v) { v.resize(v.size() - 1); })), "INVALID_VBMETA_HEADER");
}

TEST_F(Verify, HeaderVersions) {
  EXPECT_EQ(name(edited([](Buf& v) { put_be32(v, off::kVersionMajor, 0); })),
            "UNSUPPORTED_VERSION");
  EXPECT_EQ(name(edited([](Buf& v) { put_be32(v, off::kVersionMajor, 2); })),
            "UNSUPPORTED_VERSION");
  EXPECT_EQ(name(edited([](Buf& v) { put_be32(v, off::kVersionMinor, 4); })),
            "UNSUPPORTED_VERSION");
}

TEST_F(Verify, HeaderBlockSizes) {
  EXPECT_EQ(name(edited([](Buf& v) { put_be64(v, off::kAuthSize, get_be64(v, off::kAuthSize) + 1); })),
            "INVALID_VBMETA_HEADER");
  EXPECT_EQ(name(edited([](Buf& v) { put_be64(v, off::kAuxSize, get_be64(v, off::kAuxSize) + 8); })),
            "INVALID_VBMETA_HEADER");
  EXPECT_EQ(name(edited([](Buf& v) { put_be64(v, off::kAuxSize, get_be64(v, off::kAuxSize) + 64); })),
            "INVALID_VBMETA_HEADER");
  // 256 + auth + aux wraps around 2^64.
  EXPECT_EQ(name(edited([](Buf& v) { put_be64(v, off::kAuxSize, UINT64_MAX - 63); })),
            "INVALID_VBMETA_HEADER");
  EXPECT_EQ(name(edited([](Buf& v) {
              put_be64(v, off::kAuthSize, 1ull << 63);
              put_be64(v, off::kAuxSize, 1ull << 63);
            })),
            "INVALID_VBMETA_HEADER");
}

TEST_F(Verify, HeaderRangesInsideTheirBlocks) {
  struct Case {
    size_t offset_field, size_field;
  };
  for (Case c : {Case{off::kHashOffset, off::kHashSize}, Case{off::kSigOffset, off::kSigSize},
                 Case{off::kKeyOffset, off::kKeySize}, Case{off::kMetaOffset, off::kMetaSize},
                 Case{off::kDescOffset, off::kDescSize}}) {
    SCOPED_TRACE(c.offset_field);
    EXPECT_EQ(name(edited([&](Buf& v) { put_be64(v, c.offset_field, UINT64_MAX); })),
              "INVALID_VBMETA_HEADER");
    EXPECT_EQ(name(edited([&](Buf& v) { put_be64(v, c.size_field, UINT64_MAX); })),
              "INVALID_VBMETA_HEADER");
    // offset + size wraps past 2^64 (a size of at least 2 so it can).
    EXPECT_EQ(name(edited([&](Buf& v) {
                const uint64_t size = std::max<uint64_t>(get_be64(v, c.size_field), 2);
                put_be64(v, c.size_field, size);
                put_be64(v, c.offset_field, UINT64_MAX - size + 2);
              })),
              "INVALID_VBMETA_HEADER");
    // One byte past the end of the block.
    const size_t block = c.offset_field <= off::kSigSize ? off::kAuthSize : off::kAuxSize;
    EXPECT_EQ(name(edited([&](Buf& v) {
                put_be64(v, c.offset_field, get_be64(v, block) - get_be64(v, c.size_field) + 1);
              })),
              "INVALID_VBMETA_HEADER");
  }
}

TEST_F(Verify, HeaderAlgorithm) {
  EXPECT_EQ(name(edited([](Buf& v) { put_be32(v, off::kAlgorithm, 7); })),
            "INVALID_VBMETA_HEADER");
  EXPECT_EQ(name(edited([](Buf& v) { put_be32(v, off::kAlgorithm, UINT32_MAX); })),
            "INVALID_VBMETA_HEADER");
  // SHA-512 needs a 64-byte hash; RSA-4096 a 512-byte signature.
  EXPECT_EQ(name(edited([](Buf& v) { put_be32(v, off::kAlgorithm, 4); })),
            "INVALID_VBMETA_HEADER");
  EXPECT_EQ(name(edited([](Buf& v) { put_be32(v, off::kAlgorithm, 2); })),
            "INVALID_VBMETA_HEADER");
}

TEST_F(Verify, HeaderReservedAndReleaseString) {
  EXPECT_EQ(name(edited([](Buf& v) { v[off::kReleaseString + 47] = 'x'; })),
            "INVALID_VBMETA_HEADER");
  EXPECT_EQ(name(edited([](Buf& v) { v[off::kReserved] = 1; })), "INVALID_VBMETA_HEADER");
  EXPECT_EQ(name(edited([](Buf& v) { v[255] = 1; })), "INVALID_VBMETA_HEADER");
  // A full 47-character release string is fine.
  VbmetaSpec s = spec();
  s.release_string = std::string(47, 'r');
  EXPECT_EQ(result(standalone(signed_vbmeta(s))), "OK");
}

TEST_F(Verify, FlagsMustBeZeroEvenWhenSigned) {
  for (uint32_t flags : {1u, 2u, 3u, 0x80000000u}) {
    VbmetaSpec s = spec();
    s.flags = flags;
    EXPECT_EQ(name(standalone(signed_vbmeta(s))), "INVALID_FLAGS") << flags;
  }
}

TEST_F(Verify, AlgorithmNoneIsNeverAccepted) {
  VbmetaSpec s = spec();
  s.algorithm = Algorithm::kNone;
  EXPECT_EQ(name(standalone(build_vbmeta(s, nullptr))), "OK_NOT_SIGNED");
  EXPECT_EQ(name(footer(footer_image(kernel, build_vbmeta(s, nullptr)))), "OK_NOT_SIGNED");
  // A signed image downgraded to NONE in place.
  EXPECT_EQ(name(edited([](Buf& v) { put_be32(v, off::kAlgorithm, 0); })), "OK_NOT_SIGNED");
}

// ---- Hash, key, signature ----

TEST_F(Verify, EmbeddedHashMustMatch) {
  EXPECT_EQ(name(edited([](Buf& v) { v[256] ^= 1; })), "HASH_MISMATCH");
  // Any change to the header or aux block (descriptors, key) is caught by it.
  EXPECT_EQ(name(edited([](Buf& v) { v[off::kRollback + 7] = 1; })), "HASH_MISMATCH");
  EXPECT_EQ(name(edited([](Buf& v) { v[v.size() - 1] ^= 1; })), "HASH_MISMATCH");
  EXPECT_EQ(name(edited([&](Buf& v) {
              const size_t aux = 256 + get_be64(v, off::kAuthSize);
              v[aux + get_be64(v, off::kKeyOffset) + 100] ^= 1;
            })),
            "HASH_MISMATCH");
}

TEST_F(Verify, ImageSignedByAnotherKeyIsRejected) {
  EXPECT_EQ(name(standalone(build_vbmeta(spec(), &other_key()))), "PUBLIC_KEY_REJECTED");
}

TEST_F(Verify, EmbeddedKeyMustEqualTheTrustedKeyExactly) {
  // The same key with a byte appended to the blob (so a different size).
  VbmetaSpec s = spec();
  Buf longer = trusted;
  longer.push_back(0);
  s.public_key = longer;
  EXPECT_EQ(name(standalone(signed_vbmeta(s))), "PUBLIC_KEY_REJECTED");
  s.public_key = Buf{};
  EXPECT_EQ(name(standalone(signed_vbmeta(s))), "PUBLIC_KEY_REJECTED");
}

TEST_F(Verify, TrustedKeyEmbeddedButSignedByAnother) {
  VbmetaSpec s = spec();
  s.public_key = trusted;
  EXPECT_EQ(name(standalone(build_vbmeta(s, &other_key()))), "SIGNATURE_MISMATCH");
}

TEST_F(Verify, SignatureChecks) {
  auto at_sig = [](Buf& v) { return 256 + get_be64(v, off::kSigOffset); };
  EXPECT_EQ(name(edited([&](Buf& v) { v[at_sig(v) + 100] ^= 1; })), "SIGNATURE_MISMATCH");
  EXPECT_EQ(name(edited([&](Buf& v) { v[at_sig(v) + 255] ^= 1; })), "SIGNATURE_MISMATCH");
  EXPECT_EQ(name(edited([&](Buf& v) { std::fill_n(v.begin() + at_sig(v), 256, 0); })),
            "SIGNATURE_MISMATCH");
  // s >= n: the modulus itself, and all ones.
  EXPECT_EQ(name(edited([&](Buf& v) {
              std::copy_n(trusted.begin() + 8, 256, v.begin() + at_sig(v));
            })),
            "SIGNATURE_MISMATCH");
  EXPECT_EQ(name(edited([&](Buf& v) { std::fill_n(v.begin() + at_sig(v), 256, 0xff); })),
            "SIGNATURE_MISMATCH");
}

TEST_F(Verify, SignaturePlusModulusIsRejected) {
  // s + n is congruent to a valid s, so s^e mod n is right: only the s < n
  // rule (RFC 8017 §5.2.2) rejects it. Find an image whose s + n still fits
  // in the signature field.
  mbedtls_mpi n, sig;
  mbedtls_mpi_init(&n);
  mbedtls_mpi_init(&sig);
  ASSERT_EQ(mbedtls_mpi_read_binary(&n, trusted.data() + 8, 256), 0);
  bool tried = false;
  for (uint64_t i = 0; i < 64 && !tried; ++i) {
    VbmetaSpec sp = spec();
    sp.rollback_index = i;
    Buf v = signed_vbmeta(sp);
    const size_t at = 256 + get_be64(v, off::kSigOffset);
    ASSERT_EQ(mbedtls_mpi_read_binary(&sig, v.data() + at, 256), 0);
    ASSERT_EQ(mbedtls_mpi_add_mpi(&sig, &sig, &n), 0);
    if (mbedtls_mpi_bitlen(&sig) > 2048) continue;
    ASSERT_EQ(mbedtls_mpi_write_binary(&sig, v.data() + at, 256), 0);
    EXPECT_EQ(result(standalone(v)), "SIGNATURE_MISMATCH (signature not below the modulus)");
    tried = true;
  }
  mbedtls_mpi_free(&n);
  mbedtls_mpi_free(&sig);
  EXPECT_TRUE(tried);
}

TEST_F(Verify, SignatureOverADifferentDigestInfo) {
  // A valid RSA signature, but made with SHA-512's DigestInfo over a SHA-256
  // hash: the encoded message differs, so it must not verify.
  Buf v = signed_vbmeta(spec());
  const uint64_t aux = get_be64(v, off::kAuxSize);
  Buf h = sha(HashAlgorithm::kSha256, {std::span(v).first(256), std::span(v).last(aux)});
  Buf h64 = h;
  h64.resize(64, 0);
  Buf sig = key().sign(HashAlgorithm::kSha512, h64);
  std::copy(sig.begin(), sig.end(), v.begin() + 256 + get_be64(v, off::kSigOffset));
  EXPECT_EQ(name(standalone(v)), "SIGNATURE_MISMATCH");
}

TEST_F(Verify, KeySizeMustFitTheAlgorithm) {
  // Algorithm RSA-4096 (512-byte signature) with the trusted 2048-bit key
  // embedded and a correct hash.
  VbmetaSpec s = spec();
  s.algorithm = Algorithm::kSha256Rsa4096;
  s.public_key = trusted;
  EXPECT_EQ(result(standalone(build_vbmeta(s, nullptr))),
            "SIGNATURE_MISMATCH (key size does not fit the algorithm)");
}

TEST_F(Verify, TrustedKeyBlobIsValidated) {
  const Buf image = signed_vbmeta(spec());
  auto with_trusted = [&](auto edit) {
    Buf t = key().avb_public_key();
    edit(t);
    trusted = t;
    return name(standalone(image));
  };
  EXPECT_EQ(with_trusted([](Buf& t) { put_be32(t, 0, 1024); }), "INVALID_PUBLIC_KEY");
  EXPECT_EQ(with_trusted([](Buf& t) { put_be32(t, 0, 4096); }), "INVALID_PUBLIC_KEY");
  EXPECT_EQ(with_trusted([](Buf& t) { t.push_back(0); }), "INVALID_PUBLIC_KEY");
  EXPECT_EQ(with_trusted([](Buf& t) { t.pop_back(); }), "INVALID_PUBLIC_KEY");
  EXPECT_EQ(with_trusted([](Buf& t) { t.resize(7); }), "INVALID_PUBLIC_KEY");
  EXPECT_EQ(with_trusted([](Buf& t) { t.clear(); }), "INVALID_PUBLIC_KEY");
  EXPECT_EQ(with_trusted([](Buf& t) { t[8 + 255] ^= 1; }), "INVALID_PUBLIC_KEY");  // n even
  EXPECT_EQ(with_trusted([](Buf& t) { t[8] &= 0x7f; }), "INVALID_PUBLIC_KEY");     // short n
  EXPECT_EQ(with_trusted([](Buf& t) { t[4] ^= 1; }), "INVALID_PUBLIC_KEY");        // n0inv
  // rr >= n is refused outright; any other wrong rr no longer matches the
  // embedded key (and, were both wrong, would only make the signature fail).
  EXPECT_EQ(with_trusted([](Buf& t) {
              for (size_t i = t.size() - 512; i < t.size(); ++i) t[i] = 0xff;
            }),
            "INVALID_PUBLIC_KEY");
  EXPECT_EQ(with_trusted([](Buf& t) { t[t.size() - 1] ^= 1; }), "PUBLIC_KEY_REJECTED");
  EXPECT_EQ(with_trusted([](Buf&) {}), "OK");
}

TEST_F(Verify, RrCanonicalForm) {
  Buf blob = trusted;
  auto key = avb::parse_public_key(std::as_bytes(std::span(blob)));
  ASSERT_TRUE(key);
  EXPECT_TRUE(avb::rr_is_canonical(*key));
  blob[blob.size() - 1] ^= 1;
  auto bad = avb::parse_public_key(std::as_bytes(std::span(blob)));
  ASSERT_TRUE(bad);
  EXPECT_FALSE(avb::rr_is_canonical(*bad));
}

// ---- Rollback ----

TEST_F(Verify, Rollback) {
  VbmetaSpec s = spec();
  s.rollback_index = 5;
  const Buf v = signed_vbmeta(s);
  stored_rollback = 6;
  EXPECT_EQ(name(standalone(v)), "ROLLBACK_INDEX");
  stored_rollback = 5;
  EXPECT_EQ(name(standalone(v)), "OK");
  stored_rollback = 0;
  EXPECT_EQ(name(standalone(v)), "OK");
  s.rollback_index_location = 1;
  EXPECT_EQ(name(standalone(signed_vbmeta(s))), "ROLLBACK_INDEX");
}

// ---- Descriptor shapes ----

TEST_F(Verify, DescriptorWalk) {
  Buf bad_size = boot_desc();
  put_be64(bad_size, 8, get_be64(bad_size, 8) - 4);  // not a multiple of 8
  EXPECT_EQ(name(with_descriptors(bad_size)), "INVALID_DESCRIPTOR");
  Buf past = boot_desc();
  put_be64(past, 8, get_be64(past, 8) + 8);  // runs past the area
  EXPECT_EQ(name(with_descriptors(past)), "INVALID_DESCRIPTOR");
  Buf huge = boot_desc();
  put_be64(huge, 8, UINT64_MAX - 7);
  EXPECT_EQ(name(with_descriptors(huge)), "INVALID_DESCRIPTOR");
  EXPECT_EQ(name(with_descriptors(cat({boot_desc(), Buf(8, 0)}))), "INVALID_DESCRIPTOR");
  EXPECT_EQ(name(with_descriptors(cat({boot_desc(), Buf(15, 0)}))), "INVALID_DESCRIPTOR");
  // num_bytes_following must be a multiple of 8 even when it fits the area.
  Buf odd(16 + 4, 0);
  put_be64(odd, 0, 99);
  put_be64(odd, 8, 4);
  EXPECT_EQ(result(with_descriptors(cat({boot_desc(), odd}))),
            "INVALID_DESCRIPTOR (descriptor size not a multiple of 8)");
}

TEST_F(Verify, HashDescriptorShape) {
  auto with = [&](auto edit) {
    HashDesc d = hash_desc_for("boot", kernel, salt);
    Buf b = encode(d);
    edit(b);
    return name(with_descriptors(b));
  };
  // Field offsets inside the encoded descriptor (16-byte tag header first).
  constexpr size_t kAlg = 24, kNameLen = 56, kSaltLen = 60, kDigestLen = 64, kFlags = 68,
                   kReserved = 72;
  EXPECT_EQ(with([](Buf& b) { put_be32(b, kNameLen, UINT32_MAX); }), "INVALID_DESCRIPTOR");
  EXPECT_EQ(with([](Buf& b) { put_be32(b, kSaltLen, UINT32_MAX); }), "INVALID_DESCRIPTOR");
  EXPECT_EQ(with([](Buf& b) { put_be32(b, kDigestLen, UINT32_MAX); }), "INVALID_DESCRIPTOR");
  EXPECT_EQ(with([](Buf& b) { put_be32(b, kDigestLen, 0); }), "INVALID_DESCRIPTOR");
  EXPECT_EQ(with([](Buf& b) { put_be32(b, kDigestLen, 20); }), "INVALID_DESCRIPTOR");
  EXPECT_EQ(with([](Buf& b) { put_be32(b, kNameLen, 0); }), "INVALID_DESCRIPTOR");
  EXPECT_EQ(with([](Buf& b) { b[kReserved + 59] = 1; }), "INVALID_DESCRIPTOR");
  EXPECT_EQ(with([](Buf& b) { put_be32(b, kFlags, 2); }), "INVALID_FLAGS");
  EXPECT_EQ(with([](Buf& b) { b[kAlg + 6] = 'x'; }), "UNSUPPORTED_HASH_ALGORITHM");
  EXPECT_EQ(with([](Buf& b) { b[kAlg + 31] = 'x'; }), "UNSUPPORTED_HASH_ALGORITHM");
  EXPECT_EQ(with([](Buf& b) { b[kAlg + 5] = '1'; }), "UNSUPPORTED_HASH_ALGORITHM");
  // Truncated fixed part: a 112-byte body.
  Buf body(112, 0);
  EXPECT_EQ(name(with_descriptors(raw_desc(2, body))), "INVALID_DESCRIPTOR");
  // A persistent digest (digest_len 0) and a digest of the wrong size.
  HashDesc persistent = hash_desc_for("boot", kernel, salt);
  persistent.digest.clear();
  EXPECT_EQ(result(with_descriptors(encode(persistent))),
            "INVALID_DESCRIPTOR (persistent digest (digest_len 0) not allowed)");
  HashDesc sha1_sized = hash_desc_for("boot", kernel, salt);
  sha1_sized.digest.resize(20);
  EXPECT_EQ(name(with_descriptors(encode(sha1_sized))), "INVALID_DESCRIPTOR");
  HashDesc unnamed = hash_desc_for("", kernel, salt);
  EXPECT_EQ(name(with_descriptors(encode(unnamed))), "INVALID_DESCRIPTOR");
  // Non-zero padding after the digest.
  Buf b = encode(hash_desc_for("boot", kernel, salt));
  Buf padded = raw_desc(2, cat({Buf(b.begin() + 16, b.end()), Buf{0, 0, 0, 0, 0, 0, 0, 7}}));
  EXPECT_EQ(name(with_descriptors(padded)), "INVALID_DESCRIPTOR");
  Buf zero_padded = raw_desc(2, cat({Buf(b.begin() + 16, b.end()), Buf(8, 0)}));
  EXPECT_EQ(name(with_descriptors(zero_padded)), "OK");
}

TEST_F(Verify, UnsupportedHashAlgorithms) {
  for (const char* alg : {"sha1", "md5", "sha384", "SHA256", "sha256 ", ""}) {
    HashDesc d = hash_desc_for("boot", kernel, salt);
    d.hash_algorithm = alg;
    EXPECT_EQ(name(with_descriptors(encode(d))), "UNSUPPORTED_HASH_ALGORITHM") << alg;
  }
}

TEST_F(Verify, PropertyDescriptorShape) {
  Buf p = property_desc("com.android.virt.cap", "remote_attest");
  Buf no_key_nul = p;
  no_key_nul[16 + 16 + 20] = 'x';
  EXPECT_EQ(name(with_descriptors(cat({boot_desc(), no_key_nul}))), "INVALID_DESCRIPTOR");
  Buf no_value_nul = p;
  no_value_nul[16 + 16 + 21 + 13] = 'x';
  EXPECT_EQ(name(with_descriptors(cat({boot_desc(), no_value_nul}))), "INVALID_DESCRIPTOR");
  Buf key_overflow = p;
  put_be64(key_overflow, 16, UINT64_MAX);
  EXPECT_EQ(name(with_descriptors(cat({boot_desc(), key_overflow}))), "INVALID_DESCRIPTOR");
  Buf value_overflow = p;
  put_be64(value_overflow, 24, UINT64_MAX - 20);
  EXPECT_EQ(name(with_descriptors(cat({boot_desc(), value_overflow}))), "INVALID_DESCRIPTOR");
  EXPECT_EQ(name(with_descriptors(cat({boot_desc(), raw_desc(0, Buf(8, 0))}))),
            "INVALID_DESCRIPTOR");
  // Non-zero bytes after the value's NUL.
  Buf body(p.begin() + 16, p.end());
  body.push_back(1);
  EXPECT_EQ(name(with_descriptors(cat({boot_desc(), raw_desc(0, body)}))), "INVALID_DESCRIPTOR");
}

TEST_F(Verify, OtherDescriptorTagsAreUnexpected) {
  Buf hashtree(164, 0);
  Buf cmdline(8, 0);
  put_be32(cmdline, 4, 3);
  cmdline.insert(cmdline.end(), {'a', '=', 'b'});
  Buf chain(76, 0);
  put_be32(chain, 0, 1);
  EXPECT_EQ(name(with_descriptors(cat({boot_desc(), raw_desc(1, hashtree)}))),
            "UNEXPECTED_DESCRIPTOR");
  EXPECT_EQ(name(with_descriptors(cat({boot_desc(), raw_desc(3, cmdline)}))),
            "UNEXPECTED_DESCRIPTOR");
  EXPECT_EQ(name(with_descriptors(cat({boot_desc(), raw_desc(4, chain)}))),
            "UNEXPECTED_DESCRIPTOR");
  EXPECT_EQ(name(with_descriptors(cat({boot_desc(), raw_desc(99, Buf(8, 0))}))),
            "UNEXPECTED_DESCRIPTOR");
  EXPECT_EQ(name(with_descriptors(cat({boot_desc(), raw_desc(5, {})}))), "UNEXPECTED_DESCRIPTOR");
  // Malformed shapes of those tags are reported as such.
  EXPECT_EQ(name(with_descriptors(cat({boot_desc(), raw_desc(1, Buf(160, 0))}))),
            "INVALID_DESCRIPTOR");
  put_be32(cmdline, 4, 100);
  EXPECT_EQ(name(with_descriptors(cat({boot_desc(), raw_desc(3, cmdline)}))),
            "INVALID_DESCRIPTOR");
  put_be32(chain, 4, 1000);
  EXPECT_EQ(name(with_descriptors(cat({boot_desc(), raw_desc(4, chain)}))), "INVALID_DESCRIPTOR");
  // Every shape is checked before any policy: a malformed descriptor after
  // an unexpected one is still INVALID_DESCRIPTOR.
  EXPECT_EQ(name(with_descriptors(cat({raw_desc(99, {}), boot_desc(), raw_desc(2, Buf(8, 0))}))),
            "INVALID_DESCRIPTOR");
}

// ---- Policy ----

TEST_F(Verify, OnlyKnownPartitions) {
  EXPECT_EQ(name(with_descriptors(cat({boot_desc(), encode(hash_desc_for("system", kernel, salt))}))),
            "UNEXPECTED_DESCRIPTOR");
  EXPECT_EQ(name(with_descriptors(cat({boot_desc(), encode(hash_desc_for("boot_a", kernel, salt))}))),
            "UNEXPECTED_DESCRIPTOR");
  EXPECT_EQ(name(with_descriptors(encode(hash_desc_for("Boot", kernel, salt)))),
            "UNEXPECTED_DESCRIPTOR");
}

TEST_F(Verify, Duplicates) {
  EXPECT_EQ(name(with_descriptors(cat({boot_desc(), boot_desc()}))), "DUPLICATE_DESCRIPTOR");
  EXPECT_EQ(name(with_descriptors(cat({boot_desc(), initrd_desc(), initrd_desc()}), &initrd)),
            "DUPLICATE_DESCRIPTOR");
  Buf cap = property_desc("com.android.virt.cap", "remote_attest");
  EXPECT_EQ(name(with_descriptors(cat({boot_desc(), cap, cap}))), "DUPLICATE_DESCRIPTOR");
}

TEST_F(Verify, BootRequired) {
  EXPECT_EQ(name(with_descriptors({})), "MISSING_BOOT_DESCRIPTOR");
  EXPECT_EQ(name(with_descriptors(initrd_desc(), &initrd)), "MISSING_BOOT_DESCRIPTOR");
  EXPECT_EQ(name(with_descriptors(property_desc("com.android.virt.cap", "remote_attest"))),
            "MISSING_BOOT_DESCRIPTOR");
}

TEST_F(Verify, InitrdPolicy) {
  EXPECT_EQ(name(with_descriptors(boot_desc(), &initrd)), "MISSING_INITRD_DESCRIPTOR");
  EXPECT_EQ(name(with_descriptors(cat({boot_desc(), initrd_desc()}))),
            "UNEXPECTED_INITRD_DESCRIPTOR");
  EXPECT_EQ(name(with_descriptors(cat({boot_desc(), initrd_desc("initrd_debug")}))),
            "UNEXPECTED_INITRD_DESCRIPTOR");
  Buf tampered = initrd;
  tampered[0] ^= 1;
  const Buf both = cat({boot_desc(), initrd_desc(), initrd_desc("initrd_debug")});
  EXPECT_EQ(name(with_descriptors(both, &tampered)), "IMAGE_DIGEST_MISMATCH");
  EXPECT_EQ(name(with_descriptors(cat({boot_desc(), initrd_desc()}), &tampered)),
            "IMAGE_DIGEST_MISMATCH");
  Buf longer = initrd;
  longer.push_back(0);
  EXPECT_EQ(name(with_descriptors(both, &longer)), "IMAGE_SIZE_MISMATCH");
  // A digest mismatch on one candidate outranks a size mismatch on the other.
  Buf other = payload(initrd.size() + 5, 4);
  const Buf debug_other_size = cat({boot_desc(), initrd_desc(),
                                    encode(hash_desc_for("initrd_debug", other, salt))});
  EXPECT_EQ(name(with_descriptors(debug_other_size, &tampered)), "IMAGE_DIGEST_MISMATCH");
  const Buf normal_other_size = cat({boot_desc(), encode(hash_desc_for("initrd_normal", other, salt)),
                                     initrd_desc("initrd_debug")});
  EXPECT_EQ(name(with_descriptors(normal_other_size, &tampered)), "IMAGE_DIGEST_MISMATCH");
  Buf empty;
  EXPECT_EQ(name(with_descriptors(both, &empty)), "IMAGE_SIZE_MISMATCH");
}

TEST_F(Verify, StandaloneKernelSizeAndDigest) {
  const Buf v = signed_vbmeta(spec());
  Buf k = kernel;
  kernel.push_back(0);
  EXPECT_EQ(name(standalone(v)), "IMAGE_SIZE_MISMATCH");
  kernel = k;
  kernel.pop_back();
  EXPECT_EQ(name(standalone(v)), "IMAGE_SIZE_MISMATCH");
  kernel = k;
  kernel[kernel.size() / 2] ^= 0x80;
  EXPECT_EQ(name(standalone(v)), "IMAGE_DIGEST_MISMATCH");
  kernel = k;
  EXPECT_EQ(name(standalone(v)), "OK");
}

TEST_F(Verify, DescriptorDigestMustMatchEvenWhenSigned) {
  HashDesc d = hash_desc_for("boot", kernel, salt);
  d.digest[31] ^= 1;
  EXPECT_EQ(name(with_descriptors(encode(d))), "IMAGE_DIGEST_MISMATCH");
  HashDesc s = hash_desc_for("boot", kernel, salt);
  s.salt[0] ^= 1;  // digest no longer H(salt || kernel)
  EXPECT_EQ(name(with_descriptors(encode(s))), "IMAGE_DIGEST_MISMATCH");
}

TEST_F(Verify, Properties) {
  auto with_prop = [&](const std::string& k, const std::string& v) {
    return name(with_descriptors(cat({boot_desc(), property_desc(k, v)})));
  };
  EXPECT_EQ(with_prop("com.android.virt.cap", "remote_attest"), "OK");
  EXPECT_EQ(with_prop("com.android.virt.capx", "remote_attest"), "INVALID_PROPERTY");
  EXPECT_EQ(with_prop("", "remote_attest"), "INVALID_PROPERTY");
  EXPECT_EQ(with_prop("other", "x"), "INVALID_PROPERTY");
  EXPECT_EQ(with_prop("com.android.virt.cap", "unknown"), "UNKNOWN_CAPABILITY");
  EXPECT_EQ(with_prop("com.android.virt.cap", ""), "UNKNOWN_CAPABILITY");
  EXPECT_EQ(with_prop("com.android.virt.cap", "remote_attest|"), "UNKNOWN_CAPABILITY");
  EXPECT_EQ(with_prop("com.android.virt.cap", "|remote_attest"), "UNKNOWN_CAPABILITY");
  EXPECT_EQ(with_prop("com.android.virt.cap", "remote_attest||trusty_security_vm"),
            "UNKNOWN_CAPABILITY");
  EXPECT_EQ(with_prop("com.android.virt.cap", "remote_attest "), "UNKNOWN_CAPABILITY");
  EXPECT_EQ(with_prop("com.android.virt.cap", std::string("remote_attest\0", 14)),
            "UNKNOWN_CAPABILITY");
}

// ---- Digests (base/sha2.h, over mbedTLS) ----

// avb::digest over split parts: FIPS 180-2's "abc" known answers, whatever
// the split (empty parts included).
TEST(VerifyDigest, KnownAnswersOverParts) {
  const Buf a = from_string("a"), bc = from_string("bc"), empty;
  const std::array<avb::Bytes, 3> parts = {bytes(a), bytes(empty), bytes(bc)};
  std::array<uint8_t, 64> out{};
  avb::digest(HashAlgorithm::kSha256, parts, out);
  EXPECT_EQ(to_hex(std::span(out).first(32)),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  avb::digest(HashAlgorithm::kSha512, parts, out);
  EXPECT_EQ(to_hex(out),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
            "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
  EXPECT_STRNE(base::sha2::implementation(), "");
}

TEST(VerifyNames, StableStrings) {
  EXPECT_STREQ(to_string(Error::kInvalidFooter), "INVALID_FOOTER");
  EXPECT_STREQ(to_string(Error::kInvalidFlags), "INVALID_FLAGS");
  EXPECT_STREQ(to_string(Error::kUnexpectedInitrdDescriptor), "UNEXPECTED_INITRD_DESCRIPTOR");
  EXPECT_STREQ(to_string(Algorithm::kSha512Rsa8192), "SHA512_RSA8192");
  EXPECT_STREQ(to_string(Algorithm::kNone), "NONE");
  EXPECT_STREQ(to_string(HashAlgorithm::kSha512), "sha512");
}

}  // namespace
}  // namespace verify::testing

// AVB RSA public keys (libavb avb_crypto.h AvbRSAPublicKeyHeader) and the
// RSA PKCS#1 v1.5 signature check, which is mbedTLS's (3.6 LTS, rsa.c):
// mbedtls_rsa_pkcs1_verify refuses s >= n (RFC 8017 §5.2.2 step 1), rebuilds
// the whole encoded message 00 01 FF..FF 00 DigestInfo digest and compares
// it with s^e mod n in constant time (§8.2.2 steps 3-4), not parsed.
//
// Heap: mbedTLS allocates the modulus, R^2 mod n, the signature as a number,
// the exponentiation's working limbs and the two encoded messages, all
// proportional to the key size (the firmware's bounded static heap, the
// host's libc). An allocation failure comes back as SIGNATURE_MISMATCH
// "out of memory (mbedTLS heap)", never a crash; every context is freed on
// every path.
#include <mbedtls/bignum.h>
#include <mbedtls/md.h>
#include <mbedtls/rsa.h>

#include <algorithm>  // lexicographical_compare: big-endian equal-length numbers
#include <array>

#include "avb.h"
#include "base/mbedtls_owned.h"

namespace verify::avb {
namespace {

// The public exponent AVB implies (libavb avb_rsa.c), big-endian.
constexpr std::array<unsigned char, 3> kExponent = {0x01, 0x00, 0x01};

const unsigned char* data_of(Bytes b) { return reinterpret_cast<const unsigned char*>(b.data()); }

// mbedTLS objects, freed (and zeroized) on every path (base/mbedtls_owned.h).
using RsaContext = base::MbedtlsOwned<mbedtls_rsa_context, mbedtls_rsa_init, mbedtls_rsa_free>;
using Mpi = base::MbedtlsOwned<mbedtls_mpi, mbedtls_mpi_init, mbedtls_mpi_free>;

// mbedtls/error.h: a failure is a high-level code (bits 7-14) plus the
// low-level code that caused it (bits 0-6), either of which may be zero.
constexpr int low_level(int ret) { return (-ret) & 0x7f; }

Failure rsa_failure(int ret) {
  if (low_level(ret) == -MBEDTLS_ERR_MPI_ALLOC_FAILED) {
    return {Error::kSignatureMismatch, "out of memory (mbedTLS heap)"};
  }
  if (ret == MBEDTLS_ERR_RSA_VERIFY_FAILED) {
    return {Error::kSignatureMismatch, "signature does not match"};
  }
  // mbedtls_rsa_public: the signature read as a number is not below n.
  if (ret == MBEDTLS_ERR_RSA_PUBLIC_FAILED + MBEDTLS_ERR_MPI_BAD_INPUT_DATA) {
    return {Error::kSignatureMismatch, "signature not below the modulus"};
  }
  return {Error::kSignatureMismatch, "mbedTLS RSA error"};
}

}  // namespace

Result<RsaPublicKey> parse_public_key(Bytes blob) {
  // Byte-level checks, no allocation: they run on the boot path before the
  // key is trusted for anything, and none needs more than a few words.
  base::Reader r(blob);
  auto bits = r.be32();
  auto n0inv = r.be32();
  if (!bits || !n0inv) return fail(Error::kInvalidPublicKey, "key blob truncated");
  if (*bits != 2048 && *bits != 4096 && *bits != 8192) {
    return fail(Error::kInvalidPublicKey, "key_num_bits not 2048, 4096 or 8192");
  }
  auto n = r.bytes(*bits / 8);
  auto rr = r.bytes(*bits / 8);
  if (!n || !rr || !r.at_end()) return fail(Error::kInvalidPublicKey, "key blob length");
  const uint8_t top = std::to_integer<uint8_t>(n->front());
  const uint8_t low = std::to_integer<uint8_t>(n->back());
  if ((top & 0x80) == 0 || (low & 1) == 0) {
    return fail(Error::kInvalidPublicKey, "modulus not odd and full-size");
  }
  // n0inv and rr are libavb's Montgomery constants; mbedTLS derives its own
  // and uses neither. They are still checked so that a blob libavb would
  // refuse or misuse is refused here too: n0inv from n's low word (32-bit
  // arithmetic), rr only for being reduced (an equal-length big-endian
  // compare). That rr == R^2 mod n costs a long division, so it is
  // rr_is_canonical()'s job, for host tools and tests.
  base::Reader tail(n->last(4));
  const uint32_t n_low = tail.be32().value_or(0);
  if (static_cast<uint32_t>(*n0inv * n_low) != UINT32_MAX) {
    return fail(Error::kInvalidPublicKey, "n0inv is not -1/n mod 2^32");
  }
  if (!std::lexicographical_compare(rr->begin(), rr->end(), n->begin(), n->end())) {
    return fail(Error::kInvalidPublicKey, "rr is not below n");
  }
  return RsaPublicKey{*bits, *n0inv, *n, *rr};
}

bool rr_is_canonical(const RsaPublicKey& key) {
  if (key.n.empty() || key.rr.size() != key.n.size() || key.key_num_bits != key.n.size() * 8) {
    return false;
  }
  Mpi n, rr, expected;
  int ret = mbedtls_mpi_read_binary(n.get(), data_of(key.n), key.n.size());
  if (ret == 0) ret = mbedtls_mpi_read_binary(rr.get(), data_of(key.rr), key.rr.size());
  // (2^key_num_bits)^2 mod n.
  if (ret == 0) ret = mbedtls_mpi_lset(expected.get(), 1);
  if (ret == 0) ret = mbedtls_mpi_shift_l(expected.get(), 2 * size_t{key.key_num_bits});
  if (ret == 0) ret = mbedtls_mpi_mod_mpi(expected.get(), expected.get(), n.get());
  return ret == 0 && mbedtls_mpi_cmp_mpi(expected.get(), rr.get()) == 0;
}

Result<> rsa_verify(const RsaPublicKey& key, HashAlgorithm hash, Bytes digest, Bytes signature) {
  const size_t k = key.key_num_bits / 8;
  if (k == 0 || key.n.size() != k || signature.size() != k || digest.size() != digest_size(hash)) {
    return fail(Error::kSignatureMismatch, "signature size does not fit the key");
  }
  // One context, n converted once; R^2 mod n is computed by mbedTLS inside
  // the one exponentiation (e = 65537: 16 squarings and a multiplication).
  RsaContext rsa;
  int ret = mbedtls_rsa_import_raw(rsa.get(), data_of(key.n), k, nullptr, 0, nullptr, 0, nullptr, 0,
                                   kExponent.data(), kExponent.size());
  if (ret == 0) ret = mbedtls_rsa_complete(rsa.get());  // a public key: sanity checks only
  if (ret == 0) {
    const mbedtls_md_type_t md =
        hash == HashAlgorithm::kSha256 ? MBEDTLS_MD_SHA256 : MBEDTLS_MD_SHA512;
    ret = mbedtls_rsa_pkcs1_verify(rsa.get(), md, static_cast<unsigned>(digest.size()),
                                   data_of(digest), data_of(signature));
  }
  if (ret != 0) return std::unexpected(rsa_failure(ret));
  return {};
}

}  // namespace verify::avb

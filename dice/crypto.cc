// Digests, HMAC, HKDF, P-256 and AES-256-GCM as thin wrappers over mbedTLS
// 3.6 (see include/dice/crypto.h for what callers may rely on).
#include "dice/crypto.h"

#include <mbedtls/bignum.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>
#include <mbedtls/gcm.h>
#include <mbedtls/hkdf.h>
#include <mbedtls/hmac_drbg.h>
#include <mbedtls/md.h>

#include <cstring>

#include "base/mbedtls_owned.h"
#include "base/wipe.h"
#include "internal.h"

// The group's comb table for G must be mbedTLS's constant one: otherwise the
// first multiplication by G would compute it into the heap and keep it in
// the cached group (pvmfw_mbedtls_config.h).
#if !defined(MBEDTLS_ECP_FIXED_POINT_OPTIM) || MBEDTLS_ECP_FIXED_POINT_OPTIM != 1
#error "dice/ needs MBEDTLS_ECP_FIXED_POINT_OPTIM 1 (the precomputed comb table for G)"
#endif
#if !defined(MBEDTLS_ECDSA_DETERMINISTIC)
#error "dice/ needs MBEDTLS_ECDSA_DETERMINISTIC (RFC 6979 signatures)"
#endif

namespace dice {
namespace {

// mbedTLS wants a pointer even for zero bytes in places (mbedtls_hkdf's
// output); an empty span's data() may be null.
const unsigned char* in_ptr(Bytes b) {
  static constexpr unsigned char kNothing = 0;
  return b.empty() ? &kNothing : reinterpret_cast<const unsigned char*>(b.data());
}
const unsigned char* in_ptr(std::span<const uint8_t> b) { return in_ptr(std::as_bytes(b)); }

// ---- Owners of mbedTLS objects (base/mbedtls_owned.h: freed, and so
// zeroized, on every path). ----------------------------------------------------------------

using MdContext = base::MbedtlsOwned<mbedtls_md_context_t, mbedtls_md_init, mbedtls_md_free>;
using Mpi = base::MbedtlsOwned<mbedtls_mpi, mbedtls_mpi_init, mbedtls_mpi_free>;
using Point = base::MbedtlsOwned<mbedtls_ecp_point, mbedtls_ecp_point_init, mbedtls_ecp_point_free>;
using GcmContext = base::MbedtlsOwned<mbedtls_gcm_context, mbedtls_gcm_init, mbedtls_gcm_free>;

// HMAC_DRBG (NIST SP 800-90A §10.1.2) without reseeding: instantiated with
// one buffer as the entropy input (mbedtls_hmac_drbg_seed_buf), then an
// mbedTLS f_rng (mbedtls_hmac_drbg_random with rng()).
class HmacDrbg {
 public:
  [[nodiscard]] bool seed(mbedtls_md_type_t md, std::span<const uint8_t> entropy) {
    return mbedtls_hmac_drbg_seed_buf(ctx_.get(), mbedtls_md_info_from_type(md), in_ptr(entropy),
                                      entropy.size()) == 0;
  }
  void* rng() { return ctx_.get(); }

 private:
  base::MbedtlsOwned<mbedtls_hmac_drbg_context, mbedtls_hmac_drbg_init, mbedtls_hmac_drbg_free>
      ctx_;
};

// ---- Digests, HMAC, HKDF ----------------------------------------------------------------

bool digest(mbedtls_md_type_t type, std::span<const Bytes> parts, uint8_t* out) {
  MdContext md;
  if (mbedtls_md_setup(md.get(), mbedtls_md_info_from_type(type), 0) != 0 ||
      mbedtls_md_starts(md.get()) != 0) {
    return false;
  }
  for (Bytes p : parts) {
    if (mbedtls_md_update(md.get(), in_ptr(p), p.size()) != 0) return false;
  }
  return mbedtls_md_finish(md.get(), out) == 0;
}

bool hmac(mbedtls_md_type_t type, Bytes key, std::span<const Bytes> parts, uint8_t* out) {
  MdContext md;
  if (mbedtls_md_setup(md.get(), mbedtls_md_info_from_type(type), 1) != 0 ||
      mbedtls_md_hmac_starts(md.get(), in_ptr(key), key.size()) != 0) {
    return false;
  }
  for (Bytes p : parts) {
    if (mbedtls_md_hmac_update(md.get(), in_ptr(p), p.size()) != 0) return false;
  }
  return mbedtls_md_hmac_finish(md.get(), out) == 0;
}

bool hkdf(mbedtls_md_type_t type, Bytes ikm, Bytes salt, Bytes info, std::span<uint8_t> out) {
  if (out.empty()) return true;
  // A null salt is mbedtls_hkdf_extract's HashLen zero bytes (RFC 5869 §2.2).
  return mbedtls_hkdf(mbedtls_md_info_from_type(type), salt.empty() ? nullptr : in_ptr(salt),
                      salt.size(), in_ptr(ikm), ikm.size(), in_ptr(info), info.size(), out.data(),
                      out.size()) == 0;
}

// ---- P-256 ------------------------------------------------------------------------------

// The secp256r1 group, loaded once (crypto.h "Speed"). mbedtls_ecp_group_load
// points it at mbedTLS's constant curve data and comb table (no heap, nothing
// to free), and mbedTLS only reads it from then on (ecp_mul_comb uses grp->T
// as it is when it is set).
constinit mbedtls_ecp_group g_secp256r1{};
constinit bool g_secp256r1_loaded = false;

mbedtls_ecp_group* secp256r1() {
  if (!g_secp256r1_loaded) {
    mbedtls_ecp_group_init(&g_secp256r1);
    if (mbedtls_ecp_group_load(&g_secp256r1, MBEDTLS_ECP_DP_SECP256R1) != 0) {
      mbedtls_ecp_group_free(&g_secp256r1);
      return nullptr;
    }
    g_secp256r1_loaded = true;
  }
  return &g_secp256r1;
}

constexpr size_t kScalarSize = 32;

// mbedTLS randomizes the projective coordinates of a multiplication by a
// secret with an f_rng. With no entropy source in the firmware, this one is
// HMAC_DRBG-SHA-256 over
// d || digest || "dice p256 blinding": unpredictable without d, and another
// stream than RFC 6979's nonces, which are seeded with d || digest mod n.
bool seed_blinding(HmacDrbg& drbg, std::span<const uint8_t, kScalarSize> d,
                   std::span<const uint8_t> digest) {
  static constexpr char kLabel[] = "dice p256 blinding";
  constexpr size_t kLabelSize = sizeof(kLabel) - 1;
  uint8_t seed[kScalarSize + 32 + kLabelSize];
  if (digest.size() > 32) return false;
  size_t n = 0;
  std::memcpy(seed, d.data(), d.size());
  n += d.size();
  if (!digest.empty()) std::memcpy(seed + n, digest.data(), digest.size());
  n += digest.size();
  std::memcpy(seed + n, kLabel, kLabelSize);
  n += kLabelSize;
  const bool ok = drbg.seed(MBEDTLS_MD_SHA256, std::span<const uint8_t>(seed, n));
  base::secure_wipe(seed, sizeof(seed));
  return ok;
}

// SEC 1 §2.3.3 uncompressed points: 0x04 || x || y.
constexpr size_t kPointSize = 1 + 2 * kScalarSize;

// x || y of a point mbedTLS computed (normalized, never infinity).
bool write_point(const mbedtls_ecp_group* grp, const mbedtls_ecp_point* q, PublicKey& pub) {
  uint8_t encoded[kPointSize];
  size_t size = 0;
  if (mbedtls_ecp_point_write_binary(grp, q, MBEDTLS_ECP_PF_UNCOMPRESSED, &size, encoded,
                                     sizeof(encoded)) != 0 ||
      size != kPointSize) {
    return false;
  }
  std::memcpy(pub.data(), encoded + 1, pub.size());
  return true;
}

// The point x || y (Z = 1), unchecked: mbedtls_ecp_check_pubkey does that.
bool read_point(const mbedtls_ecp_group* grp, const PublicKey& pub, mbedtls_ecp_point* q) {
  uint8_t encoded[kPointSize];
  encoded[0] = 0x04;
  std::memcpy(encoded + 1, pub.data(), pub.size());
  return mbedtls_ecp_point_read_binary(grp, q, encoded, sizeof(encoded)) == 0;
}

// d from the seed (open-dice's derivation) and, when `pub` is set, d·G with
// the same DRBG providing the blinding, as mbedtls_ecp_gen_keypair does.
std::expected<void, Error> derive_key(p256::SeedView seed, p256::PrivateKeyOut priv,
                                      PublicKey* pub) {
  mbedtls_ecp_group* grp = secp256r1();
  if (grp == nullptr) return std::unexpected(Error::kCryptoFailure);
  HmacDrbg drbg;
  Mpi d;
  bool ok = drbg.seed(MBEDTLS_MD_SHA512, seed) &&
            mbedtls_ecp_gen_privkey(grp, d.get(), mbedtls_hmac_drbg_random, drbg.rng()) == 0;
  if (ok && pub != nullptr) {
    Point q;
    ok = mbedtls_ecp_mul(grp, q.get(), d.get(), &grp->G, mbedtls_hmac_drbg_random, drbg.rng()) ==
             0 &&
         write_point(grp, q.get(), *pub);
  }
  ok = ok && mbedtls_mpi_write_binary(d.get(), priv.data(), priv.size()) == 0;
  if (!ok) {
    base::secure_wipe(priv.data(), priv.size());
    return std::unexpected(Error::kCryptoFailure);
  }
  return {};
}

// ---- AES-256-GCM ------------------------------------------------------------------------

// The output is the input's size and either the input itself or apart from it.
bool in_place_or_apart(Bytes in, std::span<std::byte> out) {
  if (in.size() != out.size()) return false;
  return in.data() == out.data() || !internal::overlaps(in, std::as_bytes(out));
}

Error gcm_error(int ret) {
  switch (ret) {
    case MBEDTLS_ERR_GCM_AUTH_FAILED:
      return Error::kAuthenticationFailed;
    case MBEDTLS_ERR_GCM_BAD_INPUT:  // over 2^36 - 32 bytes
      return Error::kInvalidInput;
    default:
      return Error::kCryptoFailure;
  }
}

}  // namespace

bool sha256(std::span<const Bytes> parts, std::span<uint8_t, 32> out) {
  return digest(MBEDTLS_MD_SHA256, parts, out.data());
}

bool sha512(std::span<const Bytes> parts, std::span<uint8_t, 64> out) {
  return digest(MBEDTLS_MD_SHA512, parts, out.data());
}

bool hmac_sha256(Bytes key, std::span<const Bytes> parts, std::span<uint8_t, 32> out) {
  return hmac(MBEDTLS_MD_SHA256, key, parts, out.data());
}

bool hmac_sha512(Bytes key, std::span<const Bytes> parts, std::span<uint8_t, 64> out) {
  return hmac(MBEDTLS_MD_SHA512, key, parts, out.data());
}

bool hkdf_sha256(Bytes ikm, Bytes salt, Bytes info, std::span<uint8_t> out) {
  return hkdf(MBEDTLS_MD_SHA256, ikm, salt, info, out);
}

bool hkdf_sha512(Bytes ikm, Bytes salt, Bytes info, std::span<uint8_t> out) {
  return hkdf(MBEDTLS_MD_SHA512, ikm, salt, info, out);
}

namespace p256 {

std::expected<void, Error> private_key_from_seed(SeedView seed, PrivateKeyOut priv) {
  return derive_key(seed, priv, nullptr);
}

std::expected<void, Error> key_pair_from_seed(SeedView seed, PrivateKeyOut priv, PublicKey& pub) {
  return derive_key(seed, priv, &pub);
}

std::expected<void, Error> public_key(PrivateKeyView priv, PublicKey& pub) {
  mbedtls_ecp_group* grp = secp256r1();
  if (grp == nullptr) return std::unexpected(Error::kCryptoFailure);
  Mpi d;
  Point q;
  HmacDrbg blinding;
  // mbedtls_ecp_mul refuses d outside [1, n-1] (mbedtls_ecp_check_privkey).
  if (mbedtls_mpi_read_binary(d.get(), priv.data(), priv.size()) != 0 ||
      !seed_blinding(blinding, priv, {}) ||
      mbedtls_ecp_mul(grp, q.get(), d.get(), &grp->G, mbedtls_hmac_drbg_random, blinding.rng()) !=
          0 ||
      !write_point(grp, q.get(), pub)) {
    return std::unexpected(Error::kCryptoFailure);
  }
  return {};
}

std::expected<void, Error> sign(PrivateKeyView priv, std::span<const Bytes> message,
                                Signature& sig) {
  mbedtls_ecp_group* grp = secp256r1();
  if (grp == nullptr) return std::unexpected(Error::kCryptoFailure);
  uint8_t h[32];
  Mpi d, r, s;
  HmacDrbg blinding;
  // mbedtls_ecdsa_sign_det_ext refuses d outside [1, n-1]; it draws RFC 6979
  // candidates (bits2int of 32 HMAC_DRBG bytes, the next one when out of
  // range or when r or s is 0) as RFC 6979 §3.2 h.3 says.
  const bool ok =
      sha256(message, h) && mbedtls_mpi_read_binary(d.get(), priv.data(), priv.size()) == 0 &&
      seed_blinding(blinding, priv, h) &&
      mbedtls_ecdsa_sign_det_ext(grp, r.get(), s.get(), d.get(), h, sizeof(h), MBEDTLS_MD_SHA256,
                                 mbedtls_hmac_drbg_random, blinding.rng()) == 0 &&
      mbedtls_mpi_write_binary(r.get(), sig.data(), kScalarSize) == 0 &&
      mbedtls_mpi_write_binary(s.get(), sig.data() + kScalarSize, kScalarSize) == 0;
  base::secure_wipe(h, sizeof(h));
  if (!ok) return std::unexpected(Error::kCryptoFailure);
  return {};
}

std::expected<void, Error> verify(const PublicKey& pub, std::span<const Bytes> message,
                                  const Signature& sig) {
  uint8_t h[32];
  if (!sha256(message, h)) return std::unexpected(Error::kCryptoFailure);
  return internal::p256_verify_digest(pub, h, sig);
}

}  // namespace p256

namespace internal {

std::expected<void, Error> p256_verify_digest(const PublicKey& pub,
                                              std::span<const uint8_t, 32> digest,
                                              const Signature& sig) {
  mbedtls_ecp_group* grp = secp256r1();
  if (grp == nullptr) return std::unexpected(Error::kCryptoFailure);
  Point q;
  Mpi r, s;
  if (!read_point(grp, pub, q.get()) ||
      mbedtls_mpi_read_binary(r.get(), sig.data(), kScalarSize) != 0 ||
      mbedtls_mpi_read_binary(s.get(), sig.data() + kScalarSize, kScalarSize) != 0) {
    return std::unexpected(Error::kCryptoFailure);
  }
  // mbedtls_ecdsa_verify checks r and s against [1, n-1] and refuses the
  // point at infinity, but not the key: check_pubkey does (x, y < p, on the
  // curve).
  int ret = mbedtls_ecp_check_pubkey(grp, q.get());
  if (ret == 0) {
    ret = mbedtls_ecdsa_verify(grp, digest.data(), digest.size(), q.get(), r.get(), s.get());
  }
  switch (ret) {
    case 0:
      return {};
    case MBEDTLS_ERR_ECP_INVALID_KEY:  // also u1 or u2 = 0 (a digest of 0 mod n)
    case MBEDTLS_ERR_ECP_VERIFY_FAILED:
      return std::unexpected(Error::kBadSignature);
    default:
      return std::unexpected(Error::kCryptoFailure);
  }
}

}  // namespace internal

namespace aes256_gcm {

std::expected<void, Error> seal(KeyView key, NonceView nonce, Bytes aad, Bytes plaintext,
                                std::span<std::byte> ciphertext, Tag& tag) {
  if (!in_place_or_apart(plaintext, ciphertext)) return std::unexpected(Error::kInvalidInput);
  GcmContext gcm;
  int ret = mbedtls_gcm_setkey(gcm.get(), MBEDTLS_CIPHER_ID_AES, key.data(), 8 * kKeySize);
  if (ret == 0) {
    ret = mbedtls_gcm_crypt_and_tag(gcm.get(), MBEDTLS_GCM_ENCRYPT, plaintext.size(), nonce.data(),
                                    nonce.size(), in_ptr(aad), aad.size(), in_ptr(plaintext),
                                    reinterpret_cast<unsigned char*>(ciphertext.data()), tag.size(),
                                    tag.data());
  }
  if (ret != 0) {
    base::secure_wipe(ciphertext.data(), ciphertext.size());
    base::secure_wipe(tag.data(), tag.size());
    return std::unexpected(gcm_error(ret));
  }
  return {};
}

std::expected<void, Error> open(KeyView key, NonceView nonce, Bytes aad, Bytes ciphertext,
                                const Tag& tag, std::span<std::byte> plaintext) {
  if (!in_place_or_apart(ciphertext, plaintext)) return std::unexpected(Error::kInvalidInput);
  GcmContext gcm;
  int ret = mbedtls_gcm_setkey(gcm.get(), MBEDTLS_CIPHER_ID_AES, key.data(), 8 * kKeySize);
  if (ret == 0) {
    // Decrypts, then compares the tag in constant time (and zeroizes the
    // output when it differs).
    ret = mbedtls_gcm_auth_decrypt(gcm.get(), ciphertext.size(), nonce.data(), nonce.size(),
                                   in_ptr(aad), aad.size(), tag.data(), tag.size(),
                                   in_ptr(ciphertext),
                                   reinterpret_cast<unsigned char*>(plaintext.data()));
  }
  if (ret != 0) {
    base::secure_wipe(plaintext.data(), plaintext.size());
    return std::unexpected(gcm_error(ret));
  }
  return {};
}

}  // namespace aes256_gcm
}  // namespace dice

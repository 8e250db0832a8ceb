// AVB RSA public keys and RSA PKCS#1 v1.5 signature checks with mbedTLS bignum.
//
// Only bignum is used: mbedtls_rsa_context embeds a pthread mutex and
// mbedtls_pk pulls in the ASN.1/OID/MD layers, neither of which the firmware
// links. The encoded message is rebuilt whole and compared in constant time
// (RFC 8017 §8.2.2 step 4, "compare EM and EM'"), not parsed.
#include <mbedtls/bignum.h>

#include <algorithm>  // lexicographical_compare: big-endian equal-length numbers
#include <array>

#include "avb.h"

namespace verify::avb {
namespace {

constexpr uint32_t kMaxKeyBytes = 8192 / 8;

// DigestInfo prefixes (RFC 8017 §9.2 note 1; avb_vbmeta_image.c paddings).
constexpr std::array<uint8_t, 19> kSha256DigestInfo = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60,
                                                       0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                                                       0x01, 0x05, 0x00, 0x04, 0x20};
constexpr std::array<uint8_t, 19> kSha512DigestInfo = {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60,
                                                       0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                                                       0x03, 0x05, 0x00, 0x04, 0x40};

const unsigned char* uchars(Bytes b) { return reinterpret_cast<const unsigned char*>(b.data()); }

// mbedtls_mpi values freed on every path.
class Mpis {
 public:
  static constexpr size_t kCount = 5;
  Mpis() {
    for (auto& m : mpis_) mbedtls_mpi_init(&m);
  }
  ~Mpis() {
    for (auto& m : mpis_) mbedtls_mpi_free(&m);
  }
  Mpis(const Mpis&) = delete;
  Mpis& operator=(const Mpis&) = delete;
  mbedtls_mpi* operator[](size_t i) { return &mpis_[i]; }

 private:
  std::array<mbedtls_mpi, kCount> mpis_;
};

}  // namespace

Result<RsaPublicKey> parse_public_key(Bytes blob) {
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
  base::Reader tail(n->last(4));
  const uint32_t n_low = tail.be32().value_or(0);
  if (static_cast<uint32_t>(*n0inv * n_low) != UINT32_MAX) {
    return fail(Error::kInvalidPublicKey, "n0inv is not -1/n mod 2^32");
  }
  // rr must be reduced; rsa_verify hands it to mbedTLS as the precomputed
  // R^2 mod n. Checking rr == R^2 mod n here would cost a long division at
  // every boot (about 1.2 M guest instructions for RSA-4096): a wrong rr only
  // makes every signature fail (the result is s^e times a key constant), and
  // rr_is_canonical() lets host tools and tests check it once.
  if (!std::lexicographical_compare(rr->begin(), rr->end(), n->begin(), n->end())) {
    return fail(Error::kInvalidPublicKey, "rr is not below n");
  }
  return RsaPublicKey{*bits, *n0inv, *n, *rr};
}

bool rr_is_canonical(const RsaPublicKey& key) {
  Mpis m;
  mbedtls_mpi* mn = m[0];
  mbedtls_mpi* expected = m[1];
  mbedtls_mpi* given = m[2];
  return mbedtls_mpi_read_binary(mn, uchars(key.n), key.n.size()) == 0 &&
         mbedtls_mpi_read_binary(given, uchars(key.rr), key.rr.size()) == 0 &&
         mbedtls_mpi_lset(expected, 1) == 0 &&
         mbedtls_mpi_shift_l(expected, 2 * size_t{key.key_num_bits}) == 0 &&
         mbedtls_mpi_mod_mpi(expected, expected, mn) == 0 &&
         mbedtls_mpi_cmp_mpi(expected, given) == 0;
}

Result<> rsa_verify(const RsaPublicKey& key, HashAlgorithm hash, Bytes digest, Bytes signature) {
  const size_t k = key.key_num_bits / 8;
  const auto& info = hash == HashAlgorithm::kSha256 ? kSha256DigestInfo : kSha512DigestInfo;
  if (k > kMaxKeyBytes || key.n.size() != k || signature.size() != k ||
      digest.size() != digest_size(hash) || k < 3 + 8 + info.size() + digest.size()) {
    return fail(Error::kSignatureMismatch, "signature size does not fit the key");
  }

  // EM' = 00 01 FF..FF 00 DigestInfo digest (RFC 8017 §9.2), k bytes.
  std::array<uint8_t, kMaxKeyBytes> expected{};
  const size_t t_len = info.size() + digest.size();
  expected[0] = 0x00;
  expected[1] = 0x01;
  std::fill(expected.begin() + 2, expected.begin() + static_cast<ptrdiff_t>(k - t_len - 1), 0xff);
  expected[k - t_len - 1] = 0x00;
  std::copy(info.begin(), info.end(), expected.begin() + static_cast<ptrdiff_t>(k - t_len));
  std::transform(digest.begin(), digest.end(),
                 expected.begin() + static_cast<ptrdiff_t>(k - digest.size()),
                 [](std::byte b) { return std::to_integer<uint8_t>(b); });

  // EM = s^65537 mod n, with s < n (RFC 8017 §5.2.2 step 1).
  std::array<uint8_t, kMaxKeyBytes> em{};
  {
    Mpis m;
    mbedtls_mpi* n = m[0];
    mbedtls_mpi* s = m[1];
    mbedtls_mpi* e = m[2];
    mbedtls_mpi* out = m[3];
    mbedtls_mpi* rr = m[4];
    if (mbedtls_mpi_read_binary(n, uchars(key.n), k) != 0 ||
        mbedtls_mpi_read_binary(rr, uchars(key.rr), k) != 0 ||
        mbedtls_mpi_read_binary(s, uchars(signature), k) != 0 || mbedtls_mpi_lset(e, 65537) != 0) {
      return fail(Error::kSignatureMismatch, "bignum error");
    }
    if (mbedtls_mpi_cmp_mpi(s, n) >= 0) {
      return fail(Error::kSignatureMismatch, "signature not below the modulus");
    }
    // The key's rr is mbedTLS's "_RR" (R = 2^(64 * limbs) = 2^key_num_bits):
    // passing it saves the division exp_mod would otherwise do.
    if (mbedtls_mpi_exp_mod(out, s, e, n, rr) != 0 ||
        mbedtls_mpi_write_binary(out, em.data(), k) != 0) {
      return fail(Error::kSignatureMismatch, "bignum error");
    }
  }
  if (!ct_equal(std::as_bytes(std::span(em).first(k)), std::as_bytes(std::span(expected).first(k)))) {
    return fail(Error::kSignatureMismatch, "signature does not match");
  }
  return {};
}

}  // namespace verify::avb

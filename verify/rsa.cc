// AVB RSA public keys and RSA PKCS#1 v1.5 signature checks, over the
// project's own fixed-size Montgomery arithmetic (bignum.h): a general
// bignum library would bring prime generation, division and self tests into
// the firmware for one modular exponentiation. The encoded message is
// rebuilt whole and compared in constant time (RFC 8017 §8.2.2 step 4,
// "compare EM and EM'"), not parsed.
#include <algorithm>  // lexicographical_compare: big-endian equal-length numbers
#include <array>

#include "avb.h"
#include "bignum.h"

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
  // rr must be reduced; rsa_verify takes it as the precomputed R^2 mod n
  // (R = 2^key_num_bits) that brings the signature into Montgomery form.
  // Checking rr == R^2 mod n here would cost 2 * key_num_bits modular
  // doublings at every boot: a wrong rr only makes every signature fail (the
  // result is s^e times a key constant), and rr_is_canonical() lets host
  // tools and tests check it once.
  if (!std::lexicographical_compare(rr->begin(), rr->end(), n->begin(), n->end())) {
    return fail(Error::kInvalidPublicKey, "rr is not below n");
  }
  return RsaPublicKey{*bits, *n0inv, *n, *rr};
}

bool rr_is_canonical(const RsaPublicKey& key) {
  auto n = bignum::Number::from_be(key.n);
  auto rr = bignum::Number::from_be(key.rr);
  // R = 2^key_num_bits is the Montgomery R of n's limbs only when
  // key_num_bits is exactly n's size (always so for a parsed key).
  if (!n || !rr || rr->size() != n->size() ||
      key.key_num_bits != n->size() * bignum::kLimbBytes * 8 ||
      bignum::compare(*n, bignum::Number(n->size())) == 0) {
    return false;
  }
  return bignum::compare(bignum::r_squared(*n), *rr) == 0;
}

Result<> rsa_verify(const RsaPublicKey& key, HashAlgorithm hash, Bytes digest, Bytes signature) {
  const size_t k = key.key_num_bits / 8;
  const auto& info = hash == HashAlgorithm::kSha256 ? kSha256DigestInfo : kSha512DigestInfo;
  if (k > kMaxKeyBytes || key.n.size() != k || key.rr.size() != k || signature.size() != k ||
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
    auto n = bignum::Number::from_be(key.n);
    auto rr = bignum::Number::from_be(key.rr);
    auto s = bignum::Number::from_be(signature);
    if (!n || !rr || !s) return fail(Error::kSignatureMismatch, "bignum error");
    if (bignum::compare(*s, *n) >= 0) {
      return fail(Error::kSignatureMismatch, "signature not below the modulus");
    }
    // Montgomery arithmetic needs an odd modulus (parse_public_key checks it).
    if (((*n)[0] & 1) == 0) return fail(Error::kSignatureMismatch, "bignum error");
    // The key's rr is R^2 mod n for R = 2^key_num_bits, which is the
    // Montgomery R of k / 8 64-bit limbs (key sizes are multiples of 64).
    bignum::Montgomery(*n).pow65537(*s, *s, *rr);  // in place: ~1 KiB less stack
    if (!s->to_be(std::span(em).first(k))) {
      return fail(Error::kSignatureMismatch, "bignum error");
    }
  }
  if (!ct_equal(std::as_bytes(std::span(em).first(k)), std::as_bytes(std::span(expected).first(k)))) {
    return fail(Error::kSignatureMismatch, "signature does not match");
  }
  return {};
}

}  // namespace verify::avb

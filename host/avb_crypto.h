// RSA keys, digests and randomness for the AVB signer (mbedTLS 3.6, the
// project's own build: third_party/mbedtls, host configuration).
//
// Callers may rely on: private key material only lives inside RsaKey (freed
// and wiped by mbedTLS) and SecretBytes (wiped on destruction); no function
// logs or returns it otherwise. RSA signatures are PKCS#1 v1.5 and
// deterministic, so the same key and data always give the same bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pvm::avb {

enum class KeyErrc {
  kParseFailed,       // not a PEM/DER private key mbedTLS understands
  kNotRsa,            // a private key, but not RSA
  kUnsupportedSize,   // modulus not 2048, 4096 or 8192 bits
  kBadExponent,       // public exponent other than 65537 (AVB implies 65537)
  kGenerateFailed,
  kEncodeFailed,
  kSignFailed,
  kRandomFailed,      // entropy source or /dev/urandom
  kCryptoFailed,      // other mbedTLS failure (bignum, digest)
};

struct KeyError {
  KeyErrc code;
  int mbedtls_error = 0;  // the mbedTLS return value, 0 when not from mbedTLS
  int sys_errno = 0;
};

std::string_view to_string(KeyErrc code);
// "cannot parse the private key (mbedTLS -0x3d00: PK - Invalid key tag or value)"
std::string to_string(const KeyError& error);

// Bytes wiped when they die: private keys on their way to or from a file.
class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(size_t size) : bytes_(size) {}
  explicit SecretBytes(std::vector<uint8_t>&& bytes) : bytes_(std::move(bytes)) {}
  SecretBytes(SecretBytes&&) noexcept = default;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  ~SecretBytes() { wipe(); }

  std::span<uint8_t> bytes() { return bytes_; }
  std::span<const uint8_t> bytes() const { return bytes_; }
  // Wipes and shrinks to `size` bytes (<= size()).
  void truncate(size_t size);

 private:
  void wipe();
  std::vector<uint8_t> bytes_;
};

enum class HashAlgorithm : uint8_t { kSha256, kSha512 };
std::string_view to_string(HashAlgorithm algorithm);  // "sha256", as in AVB hash descriptors
constexpr size_t digest_size(HashAlgorithm algorithm) {
  return algorithm == HashAlgorithm::kSha256 ? 32 : 64;
}

// H(parts[0] || parts[1] || ...).
[[nodiscard]] std::vector<uint8_t> compute_digest(HashAlgorithm algorithm,
                                                  std::span<const std::span<const uint8_t>> parts);

// `size` bytes from /dev/urandom.
[[nodiscard]] std::expected<std::vector<uint8_t>, KeyError> random_bytes(size_t size);

inline constexpr unsigned kRsaKeyBits[] = {2048, 4096, 8192};
inline constexpr bool is_supported_key_size(unsigned bits) {
  return bits == 2048 || bits == 4096 || bits == 8192;
}

// An RSA private key with e = 65537 and a 2048/4096/8192-bit modulus.
class RsaKey {
 public:
  // A fresh key from mbedTLS's CTR-DRBG seeded from its entropy sources.
  [[nodiscard]] static std::expected<RsaKey, KeyError> generate(unsigned bits);
  // PEM ("RSA PRIVATE KEY" or PKCS#8 "PRIVATE KEY", unencrypted) or DER.
  [[nodiscard]] static std::expected<RsaKey, KeyError> from_pem(std::span<const uint8_t> pem);

  RsaKey(RsaKey&& other) noexcept;
  RsaKey& operator=(RsaKey&& other) noexcept;
  RsaKey(const RsaKey&) = delete;
  RsaKey& operator=(const RsaKey&) = delete;
  ~RsaKey();

  unsigned bits() const { return bits_; }

  // "-----BEGIN RSA PRIVATE KEY-----" PEM text (no NUL).
  [[nodiscard]] std::expected<SecretBytes, KeyError> to_pem() const;

  // The AVB public key blob (libavb avb_crypto.h AvbRSAPublicKeyHeader, as
  // avbtool extract_public_key writes it): u32 BE key_num_bits, u32 BE
  // n0inv = -1/n mod 2^32, n and rr = (2^bits)^2 mod n, big-endian, bits/8
  // bytes each.
  [[nodiscard]] std::expected<std::vector<uint8_t>, KeyError> avb_public_key() const;

  // RSASSA-PKCS1-v1_5 (RFC 8017 §8.2) over a precomputed `digest` of
  // `algorithm`: bits/8 bytes.
  [[nodiscard]] std::expected<std::vector<uint8_t>, KeyError> sign(
      HashAlgorithm algorithm, std::span<const uint8_t> digest) const;

 private:
  struct Context;  // mbedtls_pk_context, kept out of this header
  RsaKey(std::unique_ptr<Context> context, unsigned bits);
  std::unique_ptr<Context> context_;
  unsigned bits_ = 0;
};

}  // namespace pvm::avb

#include "avb_crypto.h"

#include <fcntl.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/md.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/rsa.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "base/sha2.h"

namespace pvm::avb {

struct RsaKey::Context {
  Context() { mbedtls_pk_init(&pk); }
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;
  ~Context() { mbedtls_pk_free(&pk); }  // zeroizes the key material
  mbedtls_pk_context pk;
};

namespace {

constexpr uint32_t kExponent = 65537;

std::unexpected<KeyError> mbedtls_fail(KeyErrc code, int ret) {
  return std::unexpected(KeyError{code, ret});
}

// Scoped mbedtls_mpi values.
class Mpi {
 public:
  Mpi() { mbedtls_mpi_init(&value_); }
  Mpi(const Mpi&) = delete;
  Mpi& operator=(const Mpi&) = delete;
  ~Mpi() { mbedtls_mpi_free(&value_); }
  mbedtls_mpi* get() { return &value_; }
  const mbedtls_mpi* get() const { return &value_; }

 private:
  mbedtls_mpi value_;
};

// CTR-DRBG seeded from mbedTLS's entropy sources (getrandom / /dev/urandom).
// Key generation draws primes from it; signing uses it only for blinding,
// which does not change the (deterministic) PKCS#1 v1.5 signature.
class Drbg {
 public:
  Drbg() {
    mbedtls_entropy_init(&entropy_);
    mbedtls_ctr_drbg_init(&drbg_);
  }
  Drbg(const Drbg&) = delete;
  Drbg& operator=(const Drbg&) = delete;
  ~Drbg() {
    mbedtls_ctr_drbg_free(&drbg_);
    mbedtls_entropy_free(&entropy_);
  }
  [[nodiscard]] int seed() {
    static constexpr unsigned char kPersonalisation[] = "pvm avb";
    return mbedtls_ctr_drbg_seed(&drbg_, mbedtls_entropy_func, &entropy_, kPersonalisation,
                                 sizeof(kPersonalisation) - 1);
  }
  static int random(void* self, unsigned char* out, size_t size) {
    return mbedtls_ctr_drbg_random(&static_cast<Drbg*>(self)->drbg_, out, size);
  }

 private:
  mbedtls_entropy_context entropy_;
  mbedtls_ctr_drbg_context drbg_;
};

// Checks what AVB requires of a key: RSA, e = 65537, 2048/4096/8192 bits.
std::expected<unsigned, KeyError> check_rsa_key(mbedtls_pk_context& pk) {
  if (mbedtls_pk_get_type(&pk) != MBEDTLS_PK_RSA) {
    return std::unexpected(KeyError{KeyErrc::kNotRsa});
  }
  mbedtls_rsa_context* rsa = mbedtls_pk_rsa(pk);
  Mpi n, e;
  if (int ret = mbedtls_rsa_export(rsa, n.get(), nullptr, nullptr, nullptr, e.get()); ret != 0) {
    return mbedtls_fail(KeyErrc::kCryptoFailed, ret);
  }
  if (mbedtls_mpi_cmp_int(e.get(), kExponent) != 0) {
    return std::unexpected(KeyError{KeyErrc::kBadExponent});
  }
  size_t bits = mbedtls_mpi_bitlen(n.get());
  if (!is_supported_key_size(static_cast<unsigned>(bits)) || mbedtls_rsa_get_len(rsa) * 8 != bits) {
    return std::unexpected(KeyError{KeyErrc::kUnsupportedSize});
  }
  mbedtls_rsa_set_padding(rsa, MBEDTLS_RSA_PKCS_V15, MBEDTLS_MD_NONE);
  return static_cast<unsigned>(bits);
}

mbedtls_md_type_t md_type(HashAlgorithm algorithm) {
  return algorithm == HashAlgorithm::kSha256 ? MBEDTLS_MD_SHA256 : MBEDTLS_MD_SHA512;
}

}  // namespace

std::string_view to_string(KeyErrc code) {
  switch (code) {
    case KeyErrc::kParseFailed: return "cannot parse the private key";
    case KeyErrc::kNotRsa: return "not an RSA key";
    case KeyErrc::kUnsupportedSize: return "RSA key size is not 2048, 4096 or 8192 bits";
    case KeyErrc::kBadExponent: return "RSA public exponent is not 65537";
    case KeyErrc::kGenerateFailed: return "key generation failed";
    case KeyErrc::kEncodeFailed: return "cannot encode the key";
    case KeyErrc::kSignFailed: return "signing failed";
    case KeyErrc::kRandomFailed: return "no random bytes";
    case KeyErrc::kCryptoFailed: return "mbedTLS failure";
  }
  return "key error";
}

std::string to_string(const KeyError& error) {
  std::string text(to_string(error.code));
  if (error.mbedtls_error != 0) {
    char description[160];
    mbedtls_strerror(error.mbedtls_error, description, sizeof(description));
    char code[24];
    std::snprintf(code, sizeof(code), "-0x%04x", static_cast<unsigned>(-error.mbedtls_error));
    text += " (mbedTLS " + std::string(code) + ": " + description + ")";
  } else if (error.sys_errno != 0) {
    text += ": ";
    text += std::strerror(error.sys_errno);
  }
  return text;
}

// ---- SecretBytes --------------------------------------------------------------

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    wipe();
    bytes_ = std::exchange(other.bytes_, {});
  }
  return *this;
}

void SecretBytes::truncate(size_t size) {
  if (size >= bytes_.size()) return;
  mbedtls_platform_zeroize(bytes_.data() + size, bytes_.size() - size);
  bytes_.resize(size);  // shrinking never reallocates
}

void SecretBytes::wipe() {
  if (!bytes_.empty()) mbedtls_platform_zeroize(bytes_.data(), bytes_.size());
}

// ---- Digests and randomness ----------------------------------------------------

std::string_view to_string(HashAlgorithm algorithm) {
  return algorithm == HashAlgorithm::kSha256 ? "sha256" : "sha512";
}

std::vector<uint8_t> compute_digest(HashAlgorithm algorithm,
                                    std::span<const std::span<const uint8_t>> parts) {
  // base/sha2.h, as verify/ and the firmware hash: mbedTLS's SHA-2 contexts
  // on the stack, which neither allocate nor fail.
  std::vector<uint8_t> out(digest_size(algorithm));
  auto feed = [&](auto& hash) {
    for (std::span<const uint8_t> part : parts) hash.update(std::as_bytes(part));
  };
  if (algorithm == HashAlgorithm::kSha256) {
    base::sha2::Sha256 hash;
    feed(hash);
    hash.finish(std::span(out).first<base::sha2::kSha256Size>());
  } else {
    base::sha2::Sha512 hash;
    feed(hash);
    hash.finish(std::span(out).first<base::sha2::kSha512Size>());
  }
  return out;
}

std::expected<std::vector<uint8_t>, KeyError> random_bytes(size_t size) {
  std::vector<uint8_t> out(size);
  int fd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::unexpected(KeyError{KeyErrc::kRandomFailed, 0, errno});
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::read(fd, out.data() + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int saved = n < 0 ? errno : EIO;
      ::close(fd);
      return std::unexpected(KeyError{KeyErrc::kRandomFailed, 0, saved});
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  return out;
}

// ---- RsaKey ---------------------------------------------------------------------

RsaKey::RsaKey(std::unique_ptr<Context> context, unsigned bits)
    : context_(std::move(context)), bits_(bits) {}
RsaKey::RsaKey(RsaKey&& other) noexcept = default;
RsaKey& RsaKey::operator=(RsaKey&& other) noexcept = default;
RsaKey::~RsaKey() = default;

std::expected<RsaKey, KeyError> RsaKey::generate(unsigned bits) {
  if (!is_supported_key_size(bits)) return std::unexpected(KeyError{KeyErrc::kUnsupportedSize});
  Drbg drbg;
  if (int ret = drbg.seed(); ret != 0) return mbedtls_fail(KeyErrc::kRandomFailed, ret);
  auto context = std::make_unique<Context>();
  if (int ret = mbedtls_pk_setup(&context->pk, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA));
      ret != 0) {
    return mbedtls_fail(KeyErrc::kGenerateFailed, ret);
  }
  if (int ret = mbedtls_rsa_gen_key(mbedtls_pk_rsa(context->pk), Drbg::random, &drbg, bits,
                                    static_cast<int>(kExponent));
      ret != 0) {
    return mbedtls_fail(KeyErrc::kGenerateFailed, ret);
  }
  auto checked = check_rsa_key(context->pk);
  if (!checked) return std::unexpected(checked.error());
  return RsaKey(std::move(context), *checked);
}

std::expected<RsaKey, KeyError> RsaKey::from_pem(std::span<const uint8_t> pem) {
  // mbedTLS 3 wants a random generator here (pk.h: "must not be NULL"); it
  // draws from it only for EC keys, which are refused below anyway.
  Drbg drbg;
  if (int ret = drbg.seed(); ret != 0) return mbedtls_fail(KeyErrc::kRandomFailed, ret);
  // mbedtls_pk_parse_key wants PEM NUL-terminated, the NUL counted in the length.
  SecretBytes text(pem.size() + 1);
  std::copy(pem.begin(), pem.end(), text.bytes().begin());
  text.bytes().back() = 0;
  auto context = std::make_unique<Context>();
  if (int ret = mbedtls_pk_parse_key(&context->pk, text.bytes().data(), text.bytes().size(),
                                     nullptr, 0, Drbg::random, &drbg);
      ret != 0) {
    // DER has no NUL terminator: try the bytes as they are.
    mbedtls_pk_free(&context->pk);
    mbedtls_pk_init(&context->pk);
    if (mbedtls_pk_parse_key(&context->pk, pem.data(), pem.size(), nullptr, 0, Drbg::random,
                             &drbg) != 0) {
      return mbedtls_fail(KeyErrc::kParseFailed, ret);
    }
  }
  auto checked = check_rsa_key(context->pk);
  if (!checked) return std::unexpected(checked.error());
  return RsaKey(std::move(context), *checked);
}

std::expected<SecretBytes, KeyError> RsaKey::to_pem() const {
  // An 8192-bit key is about 6.3 KiB of PEM.
  SecretBytes pem(16 * 1024);
  if (int ret = mbedtls_pk_write_key_pem(&context_->pk, pem.bytes().data(), pem.bytes().size());
      ret != 0) {
    return mbedtls_fail(KeyErrc::kEncodeFailed, ret);
  }
  // The PEM is NUL-terminated inside the buffer.
  size_t length = 0;
  while (length < pem.bytes().size() && pem.bytes()[length] != 0) ++length;
  pem.truncate(length);
  return pem;
}

std::expected<std::vector<uint8_t>, KeyError> RsaKey::avb_public_key() const {
  const size_t n_bytes = bits_ / 8;
  Mpi n, word, low, inverse, n0inv, rr;
  const mbedtls_rsa_context* rsa = mbedtls_pk_rsa(context_->pk);
  int ret = mbedtls_rsa_export(rsa, n.get(), nullptr, nullptr, nullptr, nullptr);
  // n0inv = 2^32 - (n mod 2^32)^-1 mod 2^32 (n is odd, so the inverse exists).
  if (ret == 0) ret = mbedtls_mpi_lset(word.get(), 1);
  if (ret == 0) ret = mbedtls_mpi_shift_l(word.get(), 32);
  if (ret == 0) ret = mbedtls_mpi_mod_mpi(low.get(), n.get(), word.get());
  if (ret == 0) ret = mbedtls_mpi_inv_mod(inverse.get(), low.get(), word.get());
  if (ret == 0) ret = mbedtls_mpi_sub_mpi(n0inv.get(), word.get(), inverse.get());
  // rr = (2^bits)^2 mod n.
  if (ret == 0) ret = mbedtls_mpi_lset(rr.get(), 1);
  if (ret == 0) ret = mbedtls_mpi_shift_l(rr.get(), 2 * size_t{bits_});
  if (ret == 0) ret = mbedtls_mpi_mod_mpi(rr.get(), rr.get(), n.get());

  std::vector<uint8_t> blob(8 + 2 * n_bytes);
  blob[0] = static_cast<uint8_t>(bits_ >> 24);
  blob[1] = static_cast<uint8_t>(bits_ >> 16);
  blob[2] = static_cast<uint8_t>(bits_ >> 8);
  blob[3] = static_cast<uint8_t>(bits_);
  if (ret == 0) ret = mbedtls_mpi_write_binary(n0inv.get(), blob.data() + 4, 4);
  if (ret == 0) ret = mbedtls_mpi_write_binary(n.get(), blob.data() + 8, n_bytes);
  if (ret == 0) ret = mbedtls_mpi_write_binary(rr.get(), blob.data() + 8 + n_bytes, n_bytes);
  if (ret != 0) return mbedtls_fail(KeyErrc::kCryptoFailed, ret);
  return blob;
}

std::expected<std::vector<uint8_t>, KeyError> RsaKey::sign(HashAlgorithm algorithm,
                                                           std::span<const uint8_t> digest) const {
  if (digest.size() != digest_size(algorithm)) {
    return std::unexpected(KeyError{KeyErrc::kSignFailed});
  }
  Drbg drbg;
  if (int ret = drbg.seed(); ret != 0) return mbedtls_fail(KeyErrc::kRandomFailed, ret);
  std::vector<uint8_t> signature(bits_ / 8);
  if (int ret = mbedtls_rsa_pkcs1_sign(mbedtls_pk_rsa(context_->pk), Drbg::random, &drbg,
                                       md_type(algorithm),
                                       static_cast<unsigned>(digest.size()), digest.data(),
                                       signature.data());
      ret != 0) {
    return mbedtls_fail(KeyErrc::kSignFailed, ret);
  }
  return signature;
}

}  // namespace pvm::avb

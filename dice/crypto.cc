// HMAC, HKDF, HMAC_DRBG over mbedTLS SHA-256/SHA-512, and P-256 ECDSA with
// RFC 6979 nonces over p256.cc (see include/dice/crypto.h for why and what
// callers may rely on).
#include "dice/crypto.h"


#include <algorithm>
#include <cstring>

#include "base/sha2.h"
#include "p256.h"

namespace dice {
namespace {

namespace p256_impl = internal::p256;


template <size_t N>
Bytes bytes_of(const uint8_t (&a)[N]) {
  return std::as_bytes(std::span<const uint8_t, N>(a));
}

// ---- Digests ----------------------------------------------------------------------
// base/sha2.h's contexts (which wipe themselves), with the interface the
// templates below use; they cannot fail.

template <class Base>
struct Digest : Base {
  void update(Bytes b) { Base::update(b); }
  bool finish(uint8_t* out) {
    Base::finish(std::span<uint8_t, Base::kOut>(out, Base::kOut));
    return true;
  }
};
using Sha256 = Digest<base::sha2::Sha256>;
using Sha512 = Digest<base::sha2::Sha512>;

template <class H>
bool digest(std::span<const Bytes> parts, uint8_t* out) {
  H h;
  for (Bytes p : parts) h.update(p);
  return h.finish(out);
}

// ---- HMAC (RFC 2104) ------------------------------------------------------------------

template <class H>
class Hmac {
 public:
  // The key is consumed here (so it may alias a later output).
  explicit Hmac(Bytes key) {
    uint8_t k0[H::kBlock] = {};
    if (key.size() > H::kBlock) {
      H h;
      h.update(key);
      ok_ = h.finish(k0);
    } else if (!key.empty()) {
      std::memcpy(k0, key.data(), key.size());
    }
    uint8_t ipad[H::kBlock];
    for (size_t i = 0; i < H::kBlock; ++i) {
      ipad[i] = k0[i] ^ 0x36;
      opad_[i] = k0[i] ^ 0x5c;
    }
    inner_.update(bytes_of(ipad));
    base::secure_wipe(k0, sizeof(k0));
    base::secure_wipe(ipad, sizeof(ipad));
  }
  ~Hmac() { base::secure_wipe(opad_, sizeof(opad_)); }
  Hmac(const Hmac&) = delete;
  Hmac& operator=(const Hmac&) = delete;

  void update(Bytes b) { inner_.update(b); }
  bool finish(uint8_t* out) {
    uint8_t inner_hash[H::kOut];
    bool ok = inner_.finish(inner_hash) && ok_;
    H outer;
    outer.update(bytes_of(opad_));
    outer.update(bytes_of(inner_hash));
    ok = outer.finish(out) && ok;
    base::secure_wipe(inner_hash, sizeof(inner_hash));
    return ok;
  }

 private:
  H inner_;
  uint8_t opad_[H::kBlock];
  bool ok_ = true;
};

template <class H>
bool hmac(Bytes key, std::span<const Bytes> parts, uint8_t* out) {
  Hmac<H> m(key);
  for (Bytes p : parts) m.update(p);
  return m.finish(out);
}

// ---- HKDF (RFC 5869 §2.2, §2.3) ------------------------------------------------------

template <class H>
bool hkdf(Bytes ikm, Bytes salt, Bytes info, std::span<uint8_t> out) {
  if (out.size() > 255 * H::kOut) return false;
  const uint8_t zeros[H::kOut] = {};
  uint8_t prk[H::kOut];
  Hmac<H> extract(salt.empty() ? bytes_of(zeros) : salt);
  extract.update(ikm);
  bool ok = extract.finish(prk);
  uint8_t t[H::kOut];
  size_t t_len = 0;
  size_t done = 0;
  for (unsigned i = 1; done < out.size(); ++i) {
    const uint8_t counter = static_cast<uint8_t>(i);
    Hmac<H> expand(bytes_of(prk));
    expand.update(std::as_bytes(std::span<const uint8_t>(t, t_len)));
    expand.update(info);
    expand.update(std::as_bytes(std::span<const uint8_t, 1>(&counter, 1)));
    ok = expand.finish(t) && ok;
    t_len = H::kOut;
    const size_t n = std::min(H::kOut, out.size() - done);
    std::memcpy(out.data() + done, t, n);
    done += n;
  }
  base::secure_wipe(prk, sizeof(prk));
  base::secure_wipe(t, sizeof(t));
  return ok;
}

// ---- HMAC_DRBG (NIST SP 800-90A §10.1.2), without reseeding ------------------------
// Instantiate: K = 0x00.., V = 0x01.., Update(seed). Generate: V = HMAC(K, V)
// per output block, then Update(nothing). This is mbedTLS's
// mbedtls_hmac_drbg_seed_buf / _random, and RFC 6979 §3.2 steps b-h.

template <class H>
class HmacDrbg {
 public:
  explicit HmacDrbg(std::span<const Bytes> seed) {
    std::memset(k_, 0x00, sizeof(k_));
    std::memset(v_, 0x01, sizeof(v_));
    update(seed);
  }
  ~HmacDrbg() {
    base::secure_wipe(k_, sizeof(k_));
    base::secure_wipe(v_, sizeof(v_));
  }
  HmacDrbg(const HmacDrbg&) = delete;
  HmacDrbg& operator=(const HmacDrbg&) = delete;

  [[nodiscard]] bool generate(std::span<uint8_t> out) {
    size_t done = 0;
    while (done < out.size()) {
      Hmac<H> m(bytes_of(k_));
      m.update(bytes_of(v_));
      ok_ = m.finish(v_) && ok_;
      const size_t n = std::min(H::kOut, out.size() - done);
      std::memcpy(out.data() + done, v_, n);
      done += n;
    }
    update({});
    return ok_;
  }

 private:
  void update(std::span<const Bytes> data) {
    bool provided = false;
    for (Bytes d : data) provided = provided || !d.empty();
    for (uint8_t sep = 0; sep < (provided ? 2 : 1); ++sep) {
      {
        Hmac<H> m(bytes_of(k_));
        m.update(bytes_of(v_));
        m.update(std::as_bytes(std::span<const uint8_t, 1>(&sep, 1)));
        for (Bytes d : data) m.update(d);
        ok_ = m.finish(k_) && ok_;
      }
      Hmac<H> m(bytes_of(k_));
      m.update(bytes_of(v_));
      ok_ = m.finish(v_) && ok_;
    }
  }

  uint8_t k_[H::kOut];
  uint8_t v_[H::kOut];
  bool ok_ = true;
};

// ---- P-256 (p256.cc) ------------------------------------------------------------------

// e = bits2int(SHA-256(message)) mod n (FIPS 186-5 §6.4.1; for P-256 the
// digest and n have the same length, so no truncation). `h` keeps the digest.
bool message_scalar(std::span<const Bytes> message, uint8_t (&h)[32], uint8_t (&e)[32]) {
  if (!digest<Sha256>(message, h)) return false;
  p256_impl::scalar_reduce(h, e);
  return true;
}

}  // namespace

bool sha256(std::span<const Bytes> parts, std::span<uint8_t, 32> out) {
  return digest<Sha256>(parts, out.data());
}

bool sha512(std::span<const Bytes> parts, std::span<uint8_t, 64> out) {
  return digest<Sha512>(parts, out.data());
}

bool hmac_sha256(Bytes key, std::span<const Bytes> parts, std::span<uint8_t, 32> out) {
  return hmac<Sha256>(key, parts, out.data());
}

bool hmac_sha512(Bytes key, std::span<const Bytes> parts, std::span<uint8_t, 64> out) {
  return hmac<Sha512>(key, parts, out.data());
}

bool hkdf_sha256(Bytes ikm, Bytes salt, Bytes info, std::span<uint8_t> out) {
  return hkdf<Sha256>(ikm, salt, info, out);
}

bool hkdf_sha512(Bytes ikm, Bytes salt, Bytes info, std::span<uint8_t> out) {
  return hkdf<Sha512>(ikm, salt, info, out);
}

namespace p256 {

std::expected<void, Error> private_key_from_seed(std::span<const uint8_t, kPrivateKeySeedSize> seed,
                                                 std::span<uint8_t, kPrivateKeySize> priv) {
  const Bytes entropy[] = {std::as_bytes(seed)};
  HmacDrbg<Sha512> drbg(entropy);
  // Each candidate is out of range with probability < 2^-32; 64 tries.
  for (int attempt = 0; attempt < 64; ++attempt) {
    if (!drbg.generate(priv)) break;
    if (p256_impl::scalar_in_range(priv)) return {};
  }
  base::secure_wipe(priv.data(), priv.size());
  return std::unexpected(Error::kCryptoFailure);
}

std::expected<void, Error> public_key(PrivateKeyView priv, PublicKey& pub) {
  if (!p256_impl::base_mul(priv, pub)) return std::unexpected(Error::kCryptoFailure);
  return {};
}

std::expected<void, Error> sign(PrivateKeyView priv, std::span<const Bytes> message,
                                Signature& sig) {
  if (!p256_impl::scalar_in_range(priv)) return std::unexpected(Error::kCryptoFailure);
  uint8_t h[32];
  uint8_t e[32];
  uint8_t k[32];
  bool done = false;
  if (message_scalar(message, h, e)) {
    // RFC 6979 §3.2: HMAC_DRBG(SHA-256) seeded with int2octets(x) || bits2octets(h1).
    const Bytes nonce_seed[] = {std::as_bytes(priv), bytes_of(e)};
    HmacDrbg<Sha256> nonces(nonce_seed);
    for (int attempt = 0; !done && attempt < 64; ++attempt) {
      if (!nonces.generate(k)) break;
      // RFC 6979 §3.2 h.3: a candidate outside [1, n-1], or one giving r = 0
      // or s = 0, is followed by the next.
      done = p256_impl::scalar_in_range(k) && p256_impl::ecdsa_sign(priv, k, e, sig);
    }
  }
  base::secure_wipe(k, sizeof(k));
  base::secure_wipe(h, sizeof(h));
  base::secure_wipe(e, sizeof(e));
  if (!done) return std::unexpected(Error::kCryptoFailure);
  return {};
}

bool verify(const PublicKey& pub, std::span<const Bytes> message, const Signature& sig) {
  uint8_t h[32];
  uint8_t e[32];
  return message_scalar(message, h, e) && p256_impl::ecdsa_verify(pub, e, sig);
}

}  // namespace p256
}  // namespace dice

// HMAC, HKDF, HMAC_DRBG and P-256 ECDSA over mbedTLS SHA and ecp/bignum
// (see include/dice/crypto.h for why and what callers may rely on).
#include "dice/crypto.h"

#include <mbedtls/bignum.h>
#include <mbedtls/ecp.h>
#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>

#include <algorithm>
#include <cstring>

namespace dice {
namespace {

const unsigned char* uchars(Bytes b) { return reinterpret_cast<const unsigned char*>(b.data()); }

template <size_t N>
Bytes bytes_of(const uint8_t (&a)[N]) {
  return std::as_bytes(std::span<const uint8_t, N>(a));
}

// ---- Digests ----------------------------------------------------------------------
// A failing mbedTLS call (only possible for invalid arguments, which these
// never pass) sticks in `ok` and fails the digest.

struct Sha256 {
  static constexpr size_t kBlock = 64;
  static constexpr size_t kOut = 32;
  Sha256() {
    mbedtls_sha256_init(&ctx);
    ok = mbedtls_sha256_starts_ret(&ctx, /*is224=*/0) == 0;
  }
  ~Sha256() { mbedtls_sha256_free(&ctx); }  // zeroizes the context
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(Bytes b) {
    if (ok && !b.empty()) ok = mbedtls_sha256_update_ret(&ctx, uchars(b), b.size()) == 0;
  }
  bool finish(uint8_t* out) {
    if (ok) ok = mbedtls_sha256_finish_ret(&ctx, out) == 0;
    return ok;
  }
  mbedtls_sha256_context ctx;
  bool ok;
};

struct Sha512 {
  static constexpr size_t kBlock = 128;
  static constexpr size_t kOut = 64;
  Sha512() {
    mbedtls_sha512_init(&ctx);
    ok = mbedtls_sha512_starts_ret(&ctx, /*is384=*/0) == 0;
  }
  ~Sha512() { mbedtls_sha512_free(&ctx); }  // zeroizes the context
  Sha512(const Sha512&) = delete;
  Sha512& operator=(const Sha512&) = delete;
  void update(Bytes b) {
    if (ok && !b.empty()) ok = mbedtls_sha512_update_ret(&ctx, uchars(b), b.size()) == 0;
  }
  bool finish(uint8_t* out) {
    if (ok) ok = mbedtls_sha512_finish_ret(&ctx, out) == 0;
    return ok;
  }
  mbedtls_sha512_context ctx;
  bool ok;
};

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

  // An mbedTLS f_rng over this generator (for ecp_mul's blinding).
  static int random(void* self, unsigned char* out, size_t n) {
    return static_cast<HmacDrbg*>(self)->generate(std::span<uint8_t>(out, n)) ? 0 : -1;
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

// ---- P-256 over mbedTLS ecp / bignum -----------------------------------------------

// n, the order of the P-256 base point (SEC 2 §2.4.2), big-endian.
constexpr uint8_t kOrder[32] = {
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
};

// 1 <= v < n, for 32 big-endian bytes.
bool in_scalar_range(const uint8_t* v) {
  bool nonzero = false;
  for (size_t i = 0; i < 32; ++i) nonzero = nonzero || v[i] != 0;
  return nonzero && std::memcmp(v, kOrder, 32) < 0;
}

struct Mpi {
  Mpi() { mbedtls_mpi_init(&v); }
  ~Mpi() { mbedtls_mpi_free(&v); }  // zeroizes the limbs
  Mpi(const Mpi&) = delete;
  Mpi& operator=(const Mpi&) = delete;
  mbedtls_mpi v;
};

struct Point {
  Point() { mbedtls_ecp_point_init(&v); }
  ~Point() { mbedtls_ecp_point_free(&v); }
  Point(const Point&) = delete;
  Point& operator=(const Point&) = delete;
  mbedtls_ecp_point v;
};

struct Group {
  Group() {
    mbedtls_ecp_group_init(&v);
    ok = mbedtls_ecp_group_load(&v, MBEDTLS_ECP_DP_SECP256R1) == 0;
  }
  ~Group() { mbedtls_ecp_group_free(&v); }
  Group(const Group&) = delete;
  Group& operator=(const Group&) = delete;
  mbedtls_ecp_group v;
  bool ok;
};

// mbedTLS calls return 0 on success; this keeps the first failure.
struct Status {
  void operator+=(int rc) { ok = ok && rc == 0; }
  bool ok = true;
};

constexpr char kBlindingLabel[] = "dice p256 blinding";

Bytes label_bytes() {
  return std::as_bytes(std::span<const char>(kBlindingLabel, sizeof(kBlindingLabel) - 1));
}

// e = bits2int(SHA-256(message)) mod n (FIPS 186-5 §6.4.1; for P-256 the
// digest and n have the same length, so no truncation).
bool message_scalar(std::span<const Bytes> message, const Group& g, uint8_t (&h)[32], Mpi& e,
                    uint8_t (&e_bytes)[32]) {
  if (!digest<Sha256>(message, h)) return false;
  Status s;
  s += mbedtls_mpi_read_binary(&e.v, h, sizeof(h));
  if (s.ok && mbedtls_mpi_cmp_mpi(&e.v, &g.v.N) >= 0) s += mbedtls_mpi_sub_mpi(&e.v, &e.v, &g.v.N);
  s += mbedtls_mpi_write_binary(&e.v, e_bytes, sizeof(e_bytes));
  return s.ok;
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
    if (in_scalar_range(priv.data())) return {};
  }
  base::secure_wipe(priv.data(), priv.size());
  return std::unexpected(Error::kCryptoFailure);
}

std::expected<void, Error> public_key(PrivateKeyView priv, PublicKey& pub) {
  if (!in_scalar_range(priv.data())) return std::unexpected(Error::kCryptoFailure);
  Group g;
  Mpi d;
  Point q;
  Status s;
  s.ok = g.ok;
  s += mbedtls_mpi_read_binary(&d.v, priv.data(), priv.size());
  const Bytes seed[] = {std::as_bytes(priv), label_bytes()};
  HmacDrbg<Sha512> blinding(seed);
  if (s.ok) s += mbedtls_ecp_mul(&g.v, &q.v, &d.v, &g.v.G, HmacDrbg<Sha512>::random, &blinding);
  s += mbedtls_mpi_write_binary(&q.v.X, pub.data(), 32);
  s += mbedtls_mpi_write_binary(&q.v.Y, pub.data() + 32, 32);
  if (!s.ok) return std::unexpected(Error::kCryptoFailure);
  return {};
}

std::expected<void, Error> sign(PrivateKeyView priv, std::span<const Bytes> message,
                                Signature& sig) {
  if (!in_scalar_range(priv.data())) return std::unexpected(Error::kCryptoFailure);
  Group g;
  Mpi d, e, k, r, t, s_val;
  Point big_r;
  uint8_t h[32];
  uint8_t e_bytes[32];
  uint8_t k_bytes[32];
  Status s;
  s.ok = g.ok && message_scalar(message, g, h, e, e_bytes);
  s += mbedtls_mpi_read_binary(&d.v, priv.data(), priv.size());
  // RFC 6979 §3.2: HMAC_DRBG(SHA-256) seeded with int2octets(x) || bits2octets(h1).
  const Bytes nonce_seed[] = {std::as_bytes(priv), bytes_of(e_bytes)};
  HmacDrbg<Sha256> nonces(nonce_seed);
  const Bytes blinding_seed[] = {std::as_bytes(priv), bytes_of(h), label_bytes()};
  HmacDrbg<Sha512> blinding(blinding_seed);
  bool done = false;
  for (int attempt = 0; s.ok && !done && attempt < 64; ++attempt) {
    if (!nonces.generate(k_bytes)) {
      s.ok = false;
      break;
    }
    if (!in_scalar_range(k_bytes)) continue;  // RFC 6979 §3.2 h.3: next candidate
    s += mbedtls_mpi_read_binary(&k.v, k_bytes, sizeof(k_bytes));
    s += mbedtls_ecp_mul(&g.v, &big_r.v, &k.v, &g.v.G, HmacDrbg<Sha512>::random, &blinding);
    s += mbedtls_mpi_mod_mpi(&r.v, &big_r.v.X, &g.v.N);
    if (!s.ok || mbedtls_mpi_cmp_int(&r.v, 0) == 0) continue;
    // s = k^-1 (e + r d) mod n
    s += mbedtls_mpi_mul_mpi(&t.v, &r.v, &d.v);
    s += mbedtls_mpi_add_mpi(&t.v, &t.v, &e.v);
    s += mbedtls_mpi_mod_mpi(&t.v, &t.v, &g.v.N);
    s += mbedtls_mpi_inv_mod(&k.v, &k.v, &g.v.N);
    s += mbedtls_mpi_mul_mpi(&s_val.v, &t.v, &k.v);
    s += mbedtls_mpi_mod_mpi(&s_val.v, &s_val.v, &g.v.N);
    if (!s.ok || mbedtls_mpi_cmp_int(&s_val.v, 0) == 0) continue;
    s += mbedtls_mpi_write_binary(&r.v, sig.data(), 32);
    s += mbedtls_mpi_write_binary(&s_val.v, sig.data() + 32, 32);
    done = s.ok;
  }
  base::secure_wipe(k_bytes, sizeof(k_bytes));
  base::secure_wipe(h, sizeof(h));
  base::secure_wipe(e_bytes, sizeof(e_bytes));
  if (!done) return std::unexpected(Error::kCryptoFailure);
  return {};
}

bool verify(const PublicKey& pub, std::span<const Bytes> message, const Signature& sig) {
  if (!in_scalar_range(sig.data()) || !in_scalar_range(sig.data() + 32)) return false;
  Group g;
  Point q, a, b, sum;
  Mpi e, r, s_val, w, u1, u2, one, v;
  uint8_t h[32];
  uint8_t e_bytes[32];
  Status s;
  s.ok = g.ok && message_scalar(message, g, h, e, e_bytes);
  s += mbedtls_mpi_read_binary(&q.v.X, pub.data(), 32);
  s += mbedtls_mpi_read_binary(&q.v.Y, pub.data() + 32, 32);
  s += mbedtls_mpi_lset(&q.v.Z, 1);
  if (s.ok) s += mbedtls_ecp_check_pubkey(&g.v, &q.v);  // on the curve, coordinates < p
  s += mbedtls_mpi_read_binary(&r.v, sig.data(), 32);
  s += mbedtls_mpi_read_binary(&s_val.v, sig.data() + 32, 32);
  s += mbedtls_mpi_inv_mod(&w.v, &s_val.v, &g.v.N);
  s += mbedtls_mpi_mul_mpi(&u1.v, &e.v, &w.v);
  s += mbedtls_mpi_mod_mpi(&u1.v, &u1.v, &g.v.N);
  s += mbedtls_mpi_mul_mpi(&u2.v, &r.v, &w.v);
  s += mbedtls_mpi_mod_mpi(&u2.v, &u2.v, &g.v.N);
  // ecp_mul refuses a zero scalar; u1 = 0 means e = 0 mod n, which a
  // SHA-256 output hits with probability 2^-256: refused.
  if (!s.ok || mbedtls_mpi_cmp_int(&u1.v, 0) == 0) return false;
  // Nothing here is secret; the DRBG only feeds mbedTLS's point blinding.
  const Bytes seed[] = {bytes_of(h), std::as_bytes(std::span(sig)), label_bytes()};
  HmacDrbg<Sha512> blinding(seed);
  s += mbedtls_ecp_mul(&g.v, &a.v, &u1.v, &g.v.G, HmacDrbg<Sha512>::random, &blinding);
  if (s.ok) s += mbedtls_ecp_mul(&g.v, &b.v, &u2.v, &q.v, HmacDrbg<Sha512>::random, &blinding);
  // 1·A + 1·B: muladd's scalar-1 shortcut copies the points, so this is a
  // plain point addition (and needs no RNG).
  s += mbedtls_mpi_lset(&one.v, 1);
  if (s.ok) s += mbedtls_ecp_muladd(&g.v, &sum.v, &one.v, &a.v, &one.v, &b.v);
  if (!s.ok || mbedtls_ecp_is_zero(&sum.v)) return false;
  s += mbedtls_mpi_mod_mpi(&v.v, &sum.v.X, &g.v.N);
  return s.ok && mbedtls_mpi_cmp_mpi(&v.v, &r.v) == 0;
}

}  // namespace p256
}  // namespace dice

#include "vbmeta_builder.h"

#include <mbedtls/bignum.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>
#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace verify::testing {

std::span<const std::byte> bytes(const Buf& b) { return std::as_bytes(std::span(b)); }

Buf from_string(const std::string& s) { return Buf(s.begin(), s.end()); }

Buf payload(size_t size, uint8_t seed) {
  Buf b(size);
  for (size_t i = 0; i < size; ++i) b[i] = static_cast<uint8_t>(i * 31 + seed + (i >> 8));
  return b;
}

Buf cat(std::initializer_list<Buf> parts) {
  Buf out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

const RsaKey& key() {
  static const auto k = RsaKey::generate(2048, 1);
  return *k;
}
const RsaKey& other_key() {
  static const auto k = RsaKey::generate(2048, 2);
  return *k;
}

Buf from_hex(const std::string& hex) {
  Buf out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoul(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

std::string to_hex(std::span<const uint8_t> b) {
  static const char* kDigits = "0123456789abcdef";
  std::string s;
  for (uint8_t x : b) {
    s += kDigits[x >> 4];
    s += kDigits[x & 15];
  }
  return s;
}

std::optional<Buf> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return std::nullopt;
  return Buf((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

void put_be32(Buf& b, size_t off, uint32_t v) {
  for (size_t i = 0; i < 4; ++i) b.at(off + i) = static_cast<uint8_t>(v >> (24 - 8 * i));
}
void put_be64(Buf& b, size_t off, uint64_t v) {
  for (size_t i = 0; i < 8; ++i) b.at(off + i) = static_cast<uint8_t>(v >> (56 - 8 * i));
}
uint32_t get_be32(const Buf& b, size_t off) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | b.at(off + i);
  return v;
}
uint64_t get_be64(const Buf& b, size_t off) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | b.at(off + i);
  return v;
}

namespace {

void check(int rc, const char* what) {
  if (rc != 0) throw std::runtime_error(std::string("mbedtls: ") + what);
}

}  // namespace

Buf sha(HashAlgorithm a, std::initializer_list<std::span<const uint8_t>> parts) {
  if (a == HashAlgorithm::kSha256) {
    Buf out(32);
    mbedtls_sha256_context c;
    mbedtls_sha256_init(&c);
    check(mbedtls_sha256_starts(&c, 0), "sha256");
    for (auto p : parts) check(mbedtls_sha256_update(&c, p.data(), p.size()), "sha256");
    check(mbedtls_sha256_finish(&c, out.data()), "sha256");
    mbedtls_sha256_free(&c);
    return out;
  }
  Buf out(64);
  mbedtls_sha512_context c;
  mbedtls_sha512_init(&c);
  check(mbedtls_sha512_starts(&c, 0), "sha512");
  for (auto p : parts) check(mbedtls_sha512_update(&c, p.data(), p.size()), "sha512");
  check(mbedtls_sha512_finish(&c, out.data()), "sha512");
  mbedtls_sha512_free(&c);
  return out;
}

namespace {

// A counter stream: deterministic "entropy" so generated keys are reproducible.
int counter_entropy(void* ctx, unsigned char* out, size_t len) {
  auto* state = static_cast<uint32_t*>(ctx);
  for (size_t i = 0; i < len; ++i) out[i] = static_cast<uint8_t>((*state)++ * 2654435761u >> 24);
  return 0;
}

HashAlgorithm hash_of(uint32_t algorithm_type) {
  return algorithm_type >= 4 ? HashAlgorithm::kSha512 : HashAlgorithm::kSha256;
}

Buf pad_to(Buf b, size_t align) {
  b.resize((b.size() + align - 1) / align * align, 0);
  return b;
}

}  // namespace

struct RsaKey::State {
  mbedtls_pk_context pk;
  mbedtls_ctr_drbg_context drbg;
  uint32_t seed = 0;
  State() {
    mbedtls_pk_init(&pk);
    mbedtls_ctr_drbg_init(&drbg);
  }
  ~State() {
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_pk_free(&pk);
  }
  mbedtls_rsa_context* rsa() { return mbedtls_pk_rsa(pk); }
};

RsaKey::RsaKey() : s_(std::make_unique<State>()) {}
RsaKey::~RsaKey() = default;

std::unique_ptr<RsaKey> RsaKey::load_pem(const std::string& path) {
  std::unique_ptr<RsaKey> k(new RsaKey());
  check(mbedtls_ctr_drbg_seed(&k->s_->drbg, counter_entropy, &k->s_->seed, nullptr, 0), "seed");
  if (mbedtls_pk_parse_keyfile(&k->s_->pk, path.c_str(), nullptr, mbedtls_ctr_drbg_random,
                               &k->s_->drbg) != 0) {
    return nullptr;
  }
  if (mbedtls_pk_get_type(&k->s_->pk) != MBEDTLS_PK_RSA) return nullptr;
  return k;
}

std::unique_ptr<RsaKey> RsaKey::generate(unsigned bits, uint32_t seed) {
  std::unique_ptr<RsaKey> k(new RsaKey());
  k->s_->seed = seed;
  check(mbedtls_ctr_drbg_seed(&k->s_->drbg, counter_entropy, &k->s_->seed, nullptr, 0), "seed");
  check(mbedtls_pk_setup(&k->s_->pk, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA)), "pk_setup");
  check(mbedtls_rsa_gen_key(k->s_->rsa(), mbedtls_ctr_drbg_random, &k->s_->drbg, bits, 65537),
        "gen_key");
  return k;
}

unsigned RsaKey::bits() const { return static_cast<unsigned>(mbedtls_pk_get_bitlen(&s_->pk)); }

Buf RsaKey::avb_public_key() const {
  const size_t nbytes = bits() / 8;
  mbedtls_mpi n, rr;
  mbedtls_mpi_init(&n);
  mbedtls_mpi_init(&rr);
  check(mbedtls_rsa_export(s_->rsa(), &n, nullptr, nullptr, nullptr, nullptr), "export");
  Buf nb(nbytes), rrb(nbytes);
  check(mbedtls_mpi_write_binary(&n, nb.data(), nbytes), "write n");
  check(mbedtls_mpi_lset(&rr, 1), "lset");
  check(mbedtls_mpi_shift_l(&rr, 2 * bits()), "shift");
  check(mbedtls_mpi_mod_mpi(&rr, &rr, &n), "mod");
  check(mbedtls_mpi_write_binary(&rr, rrb.data(), nbytes), "write rr");
  mbedtls_mpi_free(&n);
  mbedtls_mpi_free(&rr);
  // n0inv = -1/n mod 2^32, by Newton's iteration on the low word.
  const uint32_t n0 = get_be32(nb, nbytes - 4);
  uint32_t x = n0;
  for (int i = 0; i < 5; ++i) x *= 2 - n0 * x;
  Buf out(8);
  put_be32(out, 0, bits());
  put_be32(out, 4, 0u - x);
  out.insert(out.end(), nb.begin(), nb.end());
  out.insert(out.end(), rrb.begin(), rrb.end());
  return out;
}

Buf RsaKey::sign(HashAlgorithm a, const Buf& digest) const {
  Buf sig(bits() / 8);
  check(mbedtls_rsa_pkcs1_sign(s_->rsa(), mbedtls_ctr_drbg_random, &s_->drbg,
                               a == HashAlgorithm::kSha256 ? MBEDTLS_MD_SHA256 : MBEDTLS_MD_SHA512,
                               static_cast<unsigned>(digest.size()), digest.data(), sig.data()),
        "sign");
  return sig;
}

HashDesc hash_desc_for(const std::string& name, const Buf& image, const Buf& salt,
                       const std::string& alg) {
  HashDesc d;
  d.partition_name = name;
  d.hash_algorithm = alg;
  d.image_size = image.size();
  d.salt = salt;
  d.digest = sha(alg == "sha512" ? HashAlgorithm::kSha512 : HashAlgorithm::kSha256, {salt, image});
  return d;
}

Buf encode(const HashDesc& d) {
  Buf body(116, 0);
  put_be64(body, 0, d.image_size);
  std::memcpy(body.data() + 8, d.hash_algorithm.data(), std::min<size_t>(32, d.hash_algorithm.size()));
  put_be32(body, 40, static_cast<uint32_t>(d.partition_name.size()));
  put_be32(body, 44, static_cast<uint32_t>(d.salt.size()));
  put_be32(body, 48, static_cast<uint32_t>(d.digest.size()));
  put_be32(body, 52, d.flags);
  body.insert(body.end(), d.partition_name.begin(), d.partition_name.end());
  body.insert(body.end(), d.salt.begin(), d.salt.end());
  body.insert(body.end(), d.digest.begin(), d.digest.end());
  return raw_desc(2, body);
}

Buf property_desc(const std::string& key, const std::string& value) {
  Buf body(16, 0);
  put_be64(body, 0, key.size());
  put_be64(body, 8, value.size());
  body.insert(body.end(), key.begin(), key.end());
  body.push_back(0);
  body.insert(body.end(), value.begin(), value.end());
  body.push_back(0);
  return raw_desc(0, body);
}

Buf raw_desc(uint64_t tag, const Buf& body) {
  Buf padded = pad_to(body, 8);
  Buf out(16, 0);
  put_be64(out, 0, tag);
  put_be64(out, 8, padded.size());
  out.insert(out.end(), padded.begin(), padded.end());
  return out;
}

Buf build_vbmeta(const VbmetaSpec& spec, const RsaKey* signer) {
  const auto type = static_cast<uint32_t>(spec.algorithm);
  const bool none = spec.algorithm == Algorithm::kNone;
  const size_t hash_size = none ? 0 : (type >= 4 ? 64 : 32);
  const size_t key_bits = (type % 3 == 1) ? 2048 : (type % 3 == 2) ? 4096 : 8192;
  const size_t sig_size = none ? 0 : spec.signature_size.value_or(key_bits / 8);
  Buf key = spec.public_key ? *spec.public_key : (signer ? signer->avb_public_key() : Buf{});

  Buf aux = spec.descriptors;
  const size_t key_offset = aux.size();
  aux.insert(aux.end(), key.begin(), key.end());
  const size_t meta_offset = aux.size();
  aux.insert(aux.end(), spec.public_key_metadata.begin(), spec.public_key_metadata.end());
  aux = pad_to(aux, 64);
  const size_t auth_size = none ? 0 : (hash_size + sig_size + 63) / 64 * 64;

  Buf v(256, 0);
  std::memcpy(v.data(), "AVB0", 4);
  put_be32(v, off::kVersionMajor, spec.version_major);
  put_be32(v, off::kVersionMinor, spec.version_minor);
  put_be64(v, off::kAuthSize, auth_size);
  put_be64(v, off::kAuxSize, aux.size());
  put_be32(v, off::kAlgorithm, type);
  put_be64(v, off::kHashOffset, 0);
  put_be64(v, off::kHashSize, hash_size);
  put_be64(v, off::kSigOffset, hash_size);
  put_be64(v, off::kSigSize, sig_size);
  put_be64(v, off::kKeyOffset, key_offset);
  put_be64(v, off::kKeySize, key.size());
  put_be64(v, off::kMetaOffset, meta_offset);
  put_be64(v, off::kMetaSize, spec.public_key_metadata.size());
  put_be64(v, off::kDescOffset, 0);
  put_be64(v, off::kDescSize, spec.descriptors.size());
  put_be64(v, off::kRollback, spec.rollback_index);
  put_be32(v, off::kFlags, spec.flags);
  put_be32(v, off::kRollbackLocation, spec.rollback_index_location);
  std::memcpy(v.data() + off::kReleaseString, spec.release_string.data(),
              std::min<size_t>(47, spec.release_string.size()));
  v.resize(256 + auth_size, 0);
  v.insert(v.end(), aux.begin(), aux.end());
  if (none) return v;
  if (signer) {
    resign(v, *signer);
  } else {
    rehash(v);
  }
  return v;
}

void rehash(Buf& v) {
  const uint64_t auth = get_be64(v, off::kAuthSize);
  const uint64_t aux = get_be64(v, off::kAuxSize);
  const HashAlgorithm a = hash_of(get_be32(v, off::kAlgorithm));
  Buf h = sha(a, {std::span(v).first(256), std::span(v).subspan(256 + auth, aux)});
  const uint64_t at = 256 + get_be64(v, off::kHashOffset);
  std::copy(h.begin(), h.begin() + static_cast<ptrdiff_t>(std::min<uint64_t>(h.size(), get_be64(v, off::kHashSize))),
            v.begin() + static_cast<ptrdiff_t>(at));
}

void resign(Buf& v, const RsaKey& signer) {
  rehash(v);
  const uint64_t auth = get_be64(v, off::kAuthSize);
  const uint64_t aux = get_be64(v, off::kAuxSize);
  const HashAlgorithm a = hash_of(get_be32(v, off::kAlgorithm));
  Buf h = sha(a, {std::span(v).first(256), std::span(v).subspan(256 + auth, aux)});
  Buf sig = signer.sign(a, h);
  const uint64_t at = 256 + get_be64(v, off::kSigOffset);
  if (at + sig.size() > v.size()) throw std::runtime_error("signature does not fit");
  std::copy(sig.begin(), sig.end(), v.begin() + static_cast<ptrdiff_t>(at));
}

Buf footer_image(const Buf& kernel, const Buf& vbmeta, uint64_t partition_size) {
  Buf img = pad_to(kernel, 4096);
  const uint64_t vbmeta_offset = img.size();
  img.insert(img.end(), vbmeta.begin(), vbmeta.end());
  if (img.size() + 64 > partition_size) throw std::runtime_error("partition too small");
  img.resize(partition_size, 0);
  Buf footer(64, 0);
  std::memcpy(footer.data(), "AVBf", 4);
  put_be32(footer, 4, 1);
  put_be32(footer, 8, 0);
  put_be64(footer, 12, kernel.size());
  put_be64(footer, 20, vbmeta_offset);
  put_be64(footer, 28, vbmeta.size());
  std::copy(footer.begin(), footer.end(), img.end() - 64);
  return img;
}

}  // namespace verify::testing

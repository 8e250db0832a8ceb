// SHA-256 and SHA-512 (FIPS 180-4): the portable engine and the contexts.
#include "base/sha2.h"

#include <cstring>

#include "base/wipe.h"

namespace base::sha2 {
namespace detail {

const uint32_t kK256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

const uint64_t kK512[80] = {
    0x428a2f98d728ae22, 0x7137449123ef65cd, 0xb5c0fbcfec4d3b2f, 0xe9b5dba58189dbbc,
    0x3956c25bf348b538, 0x59f111f1b605d019, 0x923f82a4af194f9b, 0xab1c5ed5da6d8118,
    0xd807aa98a3030242, 0x12835b0145706fbe, 0x243185be4ee4b28c, 0x550c7dc3d5ffb4e2,
    0x72be5d74f27b896f, 0x80deb1fe3b1696b1, 0x9bdc06a725c71235, 0xc19bf174cf692694,
    0xe49b69c19ef14ad2, 0xefbe4786384f25e3, 0x0fc19dc68b8cd5b5, 0x240ca1cc77ac9c65,
    0x2de92c6f592b0275, 0x4a7484aa6ea6e483, 0x5cb0a9dcbd41fbd4, 0x76f988da831153b5,
    0x983e5152ee66dfab, 0xa831c66d2db43210, 0xb00327c898fb213f, 0xbf597fc7beef0ee4,
    0xc6e00bf33da88fc2, 0xd5a79147930aa725, 0x06ca6351e003826f, 0x142929670a0e6e70,
    0x27b70a8546d22ffc, 0x2e1b21385c26c926, 0x4d2c6dfc5ac42aed, 0x53380d139d95b3df,
    0x650a73548baf63de, 0x766a0abb3c77b2a8, 0x81c2c92e47edaee6, 0x92722c851482353b,
    0xa2bfe8a14cf10364, 0xa81a664bbc423001, 0xc24b8b70d0f89791, 0xc76c51a30654be30,
    0xd192e819d6ef5218, 0xd69906245565a910, 0xf40e35855771202a, 0x106aa07032bbd1b8,
    0x19a4c116b8d2d0c8, 0x1e376c085141ab53, 0x2748774cdf8eeb99, 0x34b0bcb5e19b48a8,
    0x391c0cb3c5c95a63, 0x4ed8aa4ae3418acb, 0x5b9cca4f7763e373, 0x682e6ff3d6b2b8a3,
    0x748f82ee5defb2fc, 0x78a5636f43172f60, 0x84c87814a1f0ab72, 0x8cc702081a6439ec,
    0x90befffa23631e28, 0xa4506cebde82bde9, 0xbef9a3f7b2c67915, 0xc67178f2e372532b,
    0xca273eceea26619c, 0xd186b8c721c0c207, 0xeada7dd6cde0eb1e, 0xf57d4f7fee6ed178,
    0x06f067aa72176fba, 0x0a637dc5a2c898a6, 0x113f9804bef90dae, 0x1b710b35131c471b,
    0x28db77f523047d84, 0x32caab7b40c72493, 0x3c9ebe0a15c9bebc, 0x431d67c49c100d4c,
    0x4cc5d4becb3e42b6, 0x597f299cfc657e2a, 0x5fcb6fab3ad6faec, 0x6c44198c4a475817};

}  // namespace detail

namespace {

// FIPS 180-4 §5.3.3 and §5.3.5: initial hash values.
constexpr uint32_t kH256[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                               0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
constexpr uint64_t kH512[8] = {0x6a09e667f3bcc908, 0xbb67ae8584caa73b, 0x3c6ef372fe94f82b,
                               0xa54ff53a5f1d36f1, 0x510e527fade682d1, 0x9b05688c2b3e6c1f,
                               0x1f83d9abfb41bd6b, 0x5be0cd19137e2179};

template <typename Word>
constexpr Word rotr(Word x, unsigned n) {
  return static_cast<Word>((x >> n) | (x << (8 * sizeof(Word) - n)));
}

template <typename Word>
Word load_be(const uint8_t* p) {
  Word w = 0;
  for (size_t i = 0; i < sizeof(Word); ++i) w = static_cast<Word>(w << 8 | p[i]);
  return w;
}

// One compression per block (FIPS 180-4 §6.2.2, §6.4.2), the schedule kept
// as a 16-word ring. The rotation amounts are the only difference between
// the two sizes.
template <typename Word, size_t kRounds, const Word* kK, unsigned S0a, unsigned S0b, unsigned S0c,
          unsigned S1a, unsigned S1b, unsigned S1c, unsigned s0a, unsigned s0b, unsigned s0c,
          unsigned s1a, unsigned s1b, unsigned s1c>
void blocks(Word state[8], const uint8_t* p, size_t n) {
  Word w[16];
  while (n-- != 0) {
    Word a = state[0], b = state[1], c = state[2], d = state[3];
    Word e = state[4], f = state[5], g = state[6], h = state[7];
    for (size_t t = 0; t < kRounds; ++t) {
      Word wt;
      if (t < 16) {
        wt = load_be<Word>(p + t * sizeof(Word));
      } else {
        const Word w15 = w[(t - 15) % 16], w2 = w[(t - 2) % 16];
        const Word g0 = rotr(w15, s0a) ^ rotr(w15, s0b) ^ (w15 >> s0c);
        const Word g1 = rotr(w2, s1a) ^ rotr(w2, s1b) ^ (w2 >> s1c);
        wt = static_cast<Word>(g1 + w[(t - 7) % 16] + g0 + w[t % 16]);
      }
      w[t % 16] = wt;
      const Word t1 = static_cast<Word>(h + (rotr(e, S1a) ^ rotr(e, S1b) ^ rotr(e, S1c)) +
                                        ((e & f) ^ (~e & g)) + kK[t] + wt);
      const Word t2 = static_cast<Word>((rotr(a, S0a) ^ rotr(a, S0b) ^ rotr(a, S0c)) +
                                        ((a & b) ^ (a & c) ^ (b & c)));
      h = g;
      g = f;
      f = e;
      e = static_cast<Word>(d + t1);
      d = c;
      c = b;
      b = a;
      a = static_cast<Word>(t1 + t2);
    }
    state[0] = static_cast<Word>(state[0] + a);
    state[1] = static_cast<Word>(state[1] + b);
    state[2] = static_cast<Word>(state[2] + c);
    state[3] = static_cast<Word>(state[3] + d);
    state[4] = static_cast<Word>(state[4] + e);
    state[5] = static_cast<Word>(state[5] + f);
    state[6] = static_cast<Word>(state[6] + g);
    state[7] = static_cast<Word>(state[7] + h);
    p += 16 * sizeof(Word);
  }
  secure_wipe(w, sizeof(w));
}

void portable256(uint32_t state[8], const uint8_t* p, size_t n) {
  blocks<uint32_t, 64, detail::kK256, 2, 13, 22, 6, 11, 25, 7, 18, 3, 17, 19, 10>(state, p, n);
}

void portable512(uint64_t state[8], const uint8_t* p, size_t n) {
  blocks<uint64_t, 80, detail::kK512, 28, 34, 39, 14, 18, 41, 1, 8, 7, 19, 61, 6>(state, p, n);
}

constexpr Engine kPortable{"portable", portable256, portable512};
constinit const Engine* g_engine = &kPortable;

}  // namespace

const Engine& portable_engine() { return kPortable; }
void use_engine(const Engine& e) { g_engine = &e; }
const Engine& engine() { return *g_engine; }

namespace detail {

template <typename Word, size_t kBlock>
Context<Word, kBlock>::Context(const Word (&iv)[8]) {
  std::memcpy(state_, iv, sizeof(state_));
}

template <typename Word, size_t kBlock>
Context<Word, kBlock>::~Context() {
  secure_wipe(state_, sizeof(state_));
  secure_wipe(buf_, sizeof(buf_));
}

template <typename Word, size_t kBlock>
void Context<Word, kBlock>::compress(const uint8_t* p, size_t blocks_count) {
  if constexpr (sizeof(Word) == 4) {
    g_engine->blocks256(state_, p, blocks_count);
  } else {
    g_engine->blocks512(state_, p, blocks_count);
  }
}

// Whole blocks straight from the input, the rest through buf_.
template <typename Word, size_t kBlock>
void Context<Word, kBlock>::update(std::span<const std::byte> data) {
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  size_t n = data.size();
  total_ += n;
  if (fill_ != 0) {
    const size_t take = n < kBlock - fill_ ? n : kBlock - fill_;
    std::memcpy(buf_ + fill_, p, take);
    fill_ += take;
    p += take;
    n -= take;
    if (fill_ < kBlock) return;
    compress(buf_, 1);
    fill_ = 0;
  }
  if (n >= kBlock) {
    compress(p, n / kBlock);
    p += n / kBlock * kBlock;
    n %= kBlock;
  }
  if (n != 0) {
    std::memcpy(buf_, p, n);
    fill_ = n;
  }
}

// FIPS 180-4 §5.1.1/§5.1.2: 0x80, zeros, the length in bits (big-endian, in
// the last 8 bytes; the upper length bytes of SHA-512 are zero here).
template <typename Word, size_t kBlock>
void Context<Word, kBlock>::finish(uint8_t* out, size_t out_size) {
  constexpr size_t kLenBytes = 2 * sizeof(Word);
  buf_[fill_++] = 0x80;
  if (fill_ > kBlock - kLenBytes) {
    std::memset(buf_ + fill_, 0, kBlock - fill_);
    compress(buf_, 1);
    fill_ = 0;
  }
  std::memset(buf_ + fill_, 0, kBlock - fill_);
  const uint64_t bits = total_ * 8;
  for (size_t i = 0; i < 8; ++i) buf_[kBlock - 1 - i] = static_cast<uint8_t>(bits >> (8 * i));
  compress(buf_, 1);
  for (size_t i = 0; i < out_size; ++i) {
    out[i] = static_cast<uint8_t>(state_[i / sizeof(Word)] >>
                                  (8 * (sizeof(Word) - 1 - i % sizeof(Word))));
  }
}

template class Context<uint32_t, 64>;
template class Context<uint64_t, 128>;

}  // namespace detail

Sha256::Sha256() : Context(kH256) {}
Sha512::Sha512() : Context(kH512) {}

void sha256(std::span<const std::span<const std::byte>> parts,
            std::span<uint8_t, kSha256Size> out) {
  Sha256 h;
  for (auto part : parts) h.update(part);
  h.finish(out);
}

void sha512(std::span<const std::span<const std::byte>> parts,
            std::span<uint8_t, kSha512Size> out) {
  Sha512 h;
  for (auto part : parts) h.update(part);
  h.finish(out);
}

}  // namespace base::sha2

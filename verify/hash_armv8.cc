// SHA-256 and SHA-512 with the Armv8 Cryptographic Extension (FEAT_SHA256,
// FEAT_SHA512; Arm ARM C7.2 SHA256H/H2/SU0/SU1, SHA512H/H2/SU0/SU1).
// Firmware only: the caller installs these backends when ID_AA64ISAR0_EL1.SHA2
// says the instructions exist (1: SHA-256, 2: SHA-256 and SHA-512).
//
// Padding and block handling follow FIPS 180-4 §5.1; the round structure is
// derived from the instruction definitions (see the comments at each step).
#include "verify/hash_armv8.h"

#include <arm_neon.h>

#include <cstring>

namespace verify {
namespace {

constexpr uint32_t kK256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

constexpr uint64_t kK512[80] = {
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

// FIPS 180-4 §5.3.3: SHA-256 initial hash value.
constexpr uint32_t kH256[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                               0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
// FIPS 180-4 §5.3.5: SHA-512 initial hash value.
constexpr uint64_t kH512[8] = {0x6a09e667f3bcc908, 0xbb67ae8584caa73b, 0x3c6ef372fe94f82b,
                               0xa54ff53a5f1d36f1, 0x510e527fade682d1, 0x9b05688c2b3e6c1f,
                               0x1f83d9abfb41bd6b, 0x5be0cd19137e2179};

// Four rounds per step: SHA256H takes {a,b,c,d}, {e,f,g,h} and W+K for four
// rounds and returns the new {a,b,c,d}; SHA256H2 returns the new {e,f,g,h}
// from the old {a,b,c,d}. SU0/SU1 extend the schedule by four words:
// W[t..t+3] = SU1(SU0(W[t-16..], W[t-12..]), W[t-8..], W[t-4..]).
__attribute__((target("sha2"))) void sha256_blocks(uint32_t state[8], const uint8_t* p,
                                                    size_t blocks) {
  uint32x4_t abcd = vld1q_u32(&state[0]);
  uint32x4_t efgh = vld1q_u32(&state[4]);
  while (blocks-- != 0) {
    uint32x4_t m[4];
#pragma clang loop unroll(full)
    for (int i = 0; i < 4; ++i) m[i] = vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(p + 16 * i)));
    const uint32x4_t abcd0 = abcd, efgh0 = efgh;
    // Fully unrolled so the schedule stays in registers (about 1.6 instructions
    // per byte instead of 6 with the loop and the schedule on the stack).
#pragma clang loop unroll(full)
    for (int i = 0; i < 16; ++i) {
      const uint32x4_t wk = vaddq_u32(m[i % 4], vld1q_u32(&kK256[4 * i]));
      if (i < 12) {
        m[i % 4] = vsha256su1q_u32(vsha256su0q_u32(m[i % 4], m[(i + 1) % 4]), m[(i + 2) % 4],
                                   m[(i + 3) % 4]);
      }
      const uint32x4_t prev = abcd;
      abcd = vsha256hq_u32(abcd, efgh, wk);
      efgh = vsha256h2q_u32(efgh, prev, wk);
    }
    abcd = vaddq_u32(abcd, abcd0);
    efgh = vaddq_u32(efgh, efgh0);
    p += 64;
  }
  vst1q_u32(&state[0], abcd);
  vst1q_u32(&state[4], efgh);
}

// Two rounds per step. State lives in four vectors, lanes (lo, hi):
// ba = (a, b), dc = (c, d), fe = (e, f), hg = (g, h).
// SHA512H(W, X = (f, g), Y = (d, e)) with W = (g + KW[t+1], h + KW[t]) gives
// (T1[t+1], T1[t]); SHA512H2(that, X = (c, _), Y = (a, b)) gives the new
// (a'', a'). Then: ba' = that, dc' = ba, fe' = dc + (T1[t+1], T1[t]), hg' = fe.
// Schedule, two words per step: M[j+8] = SU1(SU0(M[j], M[j+1]), M[j+7],
// (W[2j+9], W[2j+10])) where M[j] = (W[2j], W[2j+1]).
__attribute__((target("sha3"))) void sha512_blocks(uint64_t state[8], const uint8_t* p,
                                                    size_t blocks) {
  uint64x2_t ba = vld1q_u64(&state[0]);
  uint64x2_t dc = vld1q_u64(&state[2]);
  uint64x2_t fe = vld1q_u64(&state[4]);
  uint64x2_t hg = vld1q_u64(&state[6]);
  while (blocks-- != 0) {
    uint64x2_t m[8];
#pragma clang loop unroll(full)
    for (int i = 0; i < 8; ++i) m[i] = vreinterpretq_u64_u8(vrev64q_u8(vld1q_u8(p + 16 * i)));
    const uint64x2_t ba0 = ba, dc0 = dc, fe0 = fe, hg0 = hg;
#pragma clang loop unroll(full)
    for (int j = 0; j < 40; ++j) {
      const uint64x2_t kw = vaddq_u64(m[j % 8], vld1q_u64(&kK512[2 * j]));
      if (j < 32) {
        const uint64x2_t w7 = vextq_u64(m[(j + 4) % 8], m[(j + 5) % 8], 1);
        m[j % 8] = vsha512su1q_u64(vsha512su0q_u64(m[j % 8], m[(j + 1) % 8]), m[(j + 7) % 8], w7);
      }
      const uint64x2_t w = vaddq_u64(hg, vextq_u64(kw, kw, 1));
      const uint64x2_t t1 = vsha512hq_u64(w, vextq_u64(fe, hg, 1), vextq_u64(dc, fe, 1));
      const uint64x2_t a2 = vsha512h2q_u64(t1, dc, ba);
      hg = fe;
      fe = vaddq_u64(dc, t1);
      dc = ba;
      ba = a2;
    }
    ba = vaddq_u64(ba, ba0);
    dc = vaddq_u64(dc, dc0);
    fe = vaddq_u64(fe, fe0);
    hg = vaddq_u64(hg, hg0);
    p += 128;
  }
  vst1q_u64(&state[0], ba);
  vst1q_u64(&state[2], dc);
  vst1q_u64(&state[4], fe);
  vst1q_u64(&state[6], hg);
}

// Merkle-Damgard over the concatenation of `parts` (FIPS 180-4 §5.1.1/5.1.2):
// full blocks straight from the input, the tail and padding through `buf`.
template <typename Word, size_t kBlock, size_t kLenBytes, size_t kOut>
void md_hash(std::span<const std::span<const std::byte>> parts, Word state[8],
             void (*blocks_fn)(Word*, const uint8_t*, size_t), uint8_t* out) {
  uint8_t buf[kBlock];
  size_t fill = 0;
  uint64_t total = 0;
  for (auto part : parts) {
    const auto* p = reinterpret_cast<const uint8_t*>(part.data());
    size_t n = part.size();
    total += n;
    if (fill != 0) {
      size_t take = n < kBlock - fill ? n : kBlock - fill;
      memcpy(buf + fill, p, take);
      fill += take;
      p += take;
      n -= take;
      if (fill == kBlock) {
        blocks_fn(state, buf, 1);
        fill = 0;
      }
    }
    if (n >= kBlock) {
      blocks_fn(state, p, n / kBlock);
      p += n / kBlock * kBlock;
      n %= kBlock;
    }
    if (n != 0) {
      memcpy(buf, p, n);
      fill = n;
    }
  }
  buf[fill++] = 0x80;
  if (fill > kBlock - kLenBytes) {
    memset(buf + fill, 0, kBlock - fill);
    blocks_fn(state, buf, 1);
    fill = 0;
  }
  memset(buf + fill, 0, kBlock - fill);
  const uint64_t bits = total * 8;  // messages here are far below 2^61 bytes
  for (size_t i = 0; i < 8; ++i) buf[kBlock - 1 - i] = static_cast<uint8_t>(bits >> (8 * i));
  blocks_fn(state, buf, 1);
  for (size_t i = 0; i < kOut; ++i) {
    out[i] = static_cast<uint8_t>(state[i / sizeof(Word)] >>
                                  (8 * (sizeof(Word) - 1 - i % sizeof(Word))));
  }
}

void armv8_sha256(std::span<const std::span<const std::byte>> parts, uint8_t* out) {
  uint32_t state[8];
  memcpy(state, kH256, sizeof(state));
  md_hash<uint32_t, 64, 8, 32>(parts, state, sha256_blocks, out);
}

void armv8_sha512(std::span<const std::span<const std::byte>> parts, uint8_t* out) {
  uint64_t state[8];
  memcpy(state, kH512, sizeof(state));
  md_hash<uint64_t, 128, 16, 64>(parts, state, sha512_blocks, out);
}

}  // namespace

const HashBackend* armv8_hash_backend(uint64_t id_aa64isar0) {
  // ID_AA64ISAR0_EL1.SHA2, bits [15:12] (Arm ARM D17.2.61).
  const unsigned sha2 = static_cast<unsigned>((id_aa64isar0 >> 12) & 0xf);
  static const HashBackend kBoth = {"armv8-sha256+sha512", armv8_sha256, armv8_sha512};
  static const HashBackend k256 = {"armv8-sha256", armv8_sha256,
                                   mbedtls_hash_backend().sha512};
  if (sha2 >= 2) return &kBoth;
  if (sha2 == 1) return &k256;
  return nullptr;
}

}  // namespace verify

// The Armv8 Cryptographic Extension engine for base/sha2.h. The round
// structure is derived from the instruction definitions (see the comments at
// each step); buffering and padding are sha2.cc's.
#include "base/sha2_armv8.h"

#include <arm_neon.h>

namespace base::sha2 {
namespace {

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
      const uint32x4_t wk = vaddq_u32(m[i % 4], vld1q_u32(&detail::kK256[4 * i]));
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
      const uint64x2_t kw = vaddq_u64(m[j % 8], vld1q_u64(&detail::kK512[2 * j]));
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

}  // namespace

const Engine* armv8_engine(uint64_t id_aa64isar0) {
  // ID_AA64ISAR0_EL1.SHA2, bits [15:12] (Arm ARM D17.2.61).
  const unsigned sha2 = static_cast<unsigned>((id_aa64isar0 >> 12) & 0xf);
  static constexpr Engine kBoth = {"armv8-sha256+sha512", sha256_blocks, sha512_blocks};
  static constinit Engine k256 = {"armv8-sha256", sha256_blocks, nullptr};
  if (sha2 >= 2) return &kBoth;
  if (sha2 == 1) {
    k256.blocks512 = portable_engine().blocks512;
    return &k256;
  }
  return nullptr;
}

}  // namespace base::sha2

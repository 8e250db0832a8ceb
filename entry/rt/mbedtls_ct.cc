// The four constant-time helpers Debian's mbedTLS 2.28 bignum.o imports from
// constant_time.o. That object also carries the CBC/HMAC helpers, which pull
// md.o, and md.o pulls every digest mbedTLS has plus file I/O (toolchain.md:
// "md.c drags md5/sha1/ripemd160 in"). Defining these here keeps the image to
// bignum + sha256 + sha512. Semantics as documented in mbedTLS 2.28
// (bignum.h, constant_time_internal.h); written with masks, branch-free on
// the data.
#include <mbedtls/bignum.h>

#include <cstddef>

namespace {
// All ones when `bit` is 1, all zeros when it is 0.
mbedtls_mpi_uint mask_of(unsigned char bit) {
  return static_cast<mbedtls_mpi_uint>(0) - static_cast<mbedtls_mpi_uint>(bit & 1);
}
}  // namespace

extern "C" {

// 1 if x == y, else 0.
unsigned mbedtls_ct_size_bool_eq(size_t x, size_t y) {
  const size_t diff = x ^ y;
  // diff | -diff has its top bit set iff diff != 0.
  return static_cast<unsigned>(1 ^ ((diff | (0 - diff)) >> (sizeof(size_t) * 8 - 1)));
}

// dest[0..n) = condition ? src[0..n) : dest[0..n); condition is 0 or 1.
void mbedtls_ct_mpi_uint_cond_assign(size_t n, mbedtls_mpi_uint* dest, const mbedtls_mpi_uint* src,
                                     unsigned char condition) {
  const mbedtls_mpi_uint m = mask_of(condition);
  for (size_t i = 0; i < n; ++i) dest[i] = (src[i] & m) | (dest[i] & ~m);
}

// X = assign ? Y : X, without revealing `assign` through timing.
int mbedtls_mpi_safe_cond_assign(mbedtls_mpi* X, const mbedtls_mpi* Y, unsigned char assign) {
  int ret = mbedtls_mpi_grow(X, Y->n);
  if (ret != 0) return ret;
  const mbedtls_mpi_uint m = mask_of(assign);
  const int sign_mask = -static_cast<int>(assign & 1);
  X->s = (Y->s & sign_mask) | (X->s & ~sign_mask);
  mbedtls_ct_mpi_uint_cond_assign(Y->n, X->p, Y->p, assign);
  for (size_t i = Y->n; i < X->n; ++i) X->p[i] &= ~m;
  return 0;
}

// *ret = (X < Y) for MPIs with the same number of limbs.
int mbedtls_mpi_lt_mpi_ct(const mbedtls_mpi* X, const mbedtls_mpi* Y, unsigned* ret) {
  if (X->n != Y->n) return MBEDTLS_ERR_MPI_BAD_INPUT_DATA;
  // Signs: s is 1 or -1. X < Y when X negative and Y positive.
  const unsigned x_neg = (static_cast<unsigned>(X->s) >> 31) & 1;
  const unsigned y_neg = (static_cast<unsigned>(Y->s) >> 31) & 1;
  const unsigned differ = x_neg ^ y_neg;
  unsigned result = differ & x_neg;
  unsigned done = differ;
  // Same sign: compare magnitudes from the top limb; for negatives, invert.
  for (size_t i = X->n; i > 0; --i) {
    const mbedtls_mpi_uint a = X->p[i - 1], b = Y->p[i - 1];
    const unsigned gt = a > b ? 1u : 0u;
    const unsigned lt = a < b ? 1u : 0u;
    const unsigned x_less = (lt & (1 ^ x_neg)) | (gt & x_neg);
    const unsigned x_more = (gt & (1 ^ x_neg)) | (lt & x_neg);
    result |= x_less & (1 ^ done);
    done |= x_less | x_more;
  }
  *ret = result;
  return 0;
}

}  // extern "C"

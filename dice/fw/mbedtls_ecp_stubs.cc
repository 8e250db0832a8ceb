// Firmware only: the symbols Debian's mbedTLS 2.28 ecp.o imports from
// hmac_drbg.o, md.o and constant_time.o, defined here so the linker never
// pulls those objects: md.o (which constant_time.o needs too) drags every
// digest mbedTLS has and file I/O in (../shared/reference/toolchain.md; the
// same approach as entry/rt/mbedtls_ct.cc, which covers bignum.o's four).
//
// mbedtls_mpi_safe_cond_swap is the one real function: ecp.o calls it in the
// Montgomery ladder (Curve25519/448; never for P-256), written here as
// mbedTLS 2.28 documents it (bignum.h), with masks.
//
// The internal-RNG symbols:
// ecp.c (2.28) uses them only when mbedtls_ecp_mul is called without an RNG
// (ecp_drbg_seed); dice/crypto.cc always passes one, so at run time only
// init and free are reached (ecp_mul_comb inits and frees a local context
// unconditionally, and never reads it when it was not seeded): they do
// nothing. Anything else fails closed: seeding and drawing return an error,
// so an unexpected internal-RNG use makes the multiplication fail (and the
// boot with it) instead of running with a bad RNG.
//
// mbedtls/hmac_drbg.h is not included: with Debian's MBEDTLS_THREADING_PTHREAD
// it needs <pthread.h>, which the firmware has not. The definitions use
// C linkage, so only the names must match; the parameter types below have
// the same representation as mbedTLS's (pointers, and an enum passed as int).
#include <mbedtls/bignum.h>

#include <cstddef>
#include <cstring>

namespace {
constexpr int kErrHmacDrbgEntropySourceFailed =
    -0x0009;                       // MBEDTLS_ERR_HMAC_DRBG_ENTROPY_SOURCE_FAILED
constexpr int kNoDigests[] = {0};  // {MBEDTLS_MD_NONE}: the list's end
}  // namespace

extern "C" {

void mbedtls_hmac_drbg_init(void* ctx);
void mbedtls_hmac_drbg_free(void* ctx);
int mbedtls_hmac_drbg_seed_buf(void* ctx, const void* md_info, const unsigned char* data,
                               size_t data_len);
int mbedtls_hmac_drbg_random(void* p_rng, unsigned char* output, size_t out_len);
const void* mbedtls_md_info_from_type(int md_type);
const int* mbedtls_md_list(void);

void mbedtls_hmac_drbg_init(void*) {}

void mbedtls_hmac_drbg_free(void*) {}

int mbedtls_hmac_drbg_seed_buf(void*, const void*, const unsigned char*, size_t) {
  return kErrHmacDrbgEntropySourceFailed;
}

int mbedtls_hmac_drbg_random(void*, unsigned char* output, size_t out_len) {
  if (output != nullptr) std::memset(output, 0, out_len);
  return kErrHmacDrbgEntropySourceFailed;
}

const void* mbedtls_md_info_from_type(int) { return nullptr; }

const int* mbedtls_md_list(void) { return kNoDigests; }

// Swaps X and Y when `swap` is 1, in time independent of `swap`.
int mbedtls_mpi_safe_cond_swap(mbedtls_mpi* X, mbedtls_mpi* Y, unsigned char swap) {
  if (X == Y) return 0;
  const mbedtls_mpi_uint mask =
      static_cast<mbedtls_mpi_uint>(0) - static_cast<mbedtls_mpi_uint>(swap & 1);
  int ret = mbedtls_mpi_grow(X, Y->n);
  if (ret == 0) ret = mbedtls_mpi_grow(Y, X->n);
  if (ret != 0) return ret;
  const int sign_mask = -static_cast<int>(swap & 1);
  const int xs = X->s;
  X->s = (Y->s & sign_mask) | (xs & ~sign_mask);
  Y->s = (xs & sign_mask) | (Y->s & ~sign_mask);
  for (size_t i = 0; i < X->n; ++i) {
    const mbedtls_mpi_uint t = X->p[i];
    X->p[i] = (X->p[i] & ~mask) | (Y->p[i] & mask);
    Y->p[i] = (Y->p[i] & ~mask) | (t & mask);
  }
  return 0;
}

}  // extern "C"

// Digest backends: mbedTLS by default; the firmware may install another
// (the ARMv8 SHA instructions) with set_hash_backend before verifying.
#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>

#include <cstring>

#include "verify/verify.h"

namespace verify {
namespace {

using Parts = std::span<const std::span<const std::byte>>;

const unsigned char* uchars(std::span<const std::byte> b) {
  return reinterpret_cast<const unsigned char*>(b.data());
}

// mbedTLS's software SHA only fails on invalid arguments, which these calls
// never pass. Should it fail anyway, the output is all 0xff: a value no
// comparison can have been signed against by chance, so it fails closed.
void mbedtls_sha256(Parts parts, uint8_t* out) {
  mbedtls_sha256_context ctx;
  mbedtls_sha256_init(&ctx);
  int rc = mbedtls_sha256_starts_ret(&ctx, /*is224=*/0);
  for (auto p : parts) {
    if (rc == 0) rc = mbedtls_sha256_update_ret(&ctx, uchars(p), p.size());
  }
  if (rc == 0) rc = mbedtls_sha256_finish_ret(&ctx, out);
  mbedtls_sha256_free(&ctx);
  if (rc != 0) std::memset(out, 0xff, 32);
}

void mbedtls_sha512(Parts parts, uint8_t* out) {
  mbedtls_sha512_context ctx;
  mbedtls_sha512_init(&ctx);
  int rc = mbedtls_sha512_starts_ret(&ctx, /*is384=*/0);
  for (auto p : parts) {
    if (rc == 0) rc = mbedtls_sha512_update_ret(&ctx, uchars(p), p.size());
  }
  if (rc == 0) rc = mbedtls_sha512_finish_ret(&ctx, out);
  mbedtls_sha512_free(&ctx);
  if (rc != 0) std::memset(out, 0xff, 64);
}

constexpr HashBackend kMbedtls{"mbedtls", &mbedtls_sha256, &mbedtls_sha512};

constinit const HashBackend* g_backend = &kMbedtls;

}  // namespace

const HashBackend& mbedtls_hash_backend() { return kMbedtls; }

void set_hash_backend(const HashBackend& backend) { g_backend = &backend; }

const HashBackend& hash_backend() { return *g_backend; }

}  // namespace verify

// base/sha2.h over mbedTLS's SHA-256/SHA-512.
#include "base/sha2.h"

#if defined(__PVMFW_FIRMWARE__)
// picolibc's header has no C++ linkage guard.
extern "C" {
#include <sys/auxv.h>
}
#endif

namespace base::sha2 {

// mbedTLS returns an error from these only for SHA-224/384 misuse or an
// alternative (hardware) implementation, neither of which is configured.
Sha256::Sha256() {
  mbedtls_sha256_init(&ctx_);
  (void)mbedtls_sha256_starts(&ctx_, /*is224=*/0);
}
Sha256::~Sha256() { mbedtls_sha256_free(&ctx_); }
void Sha256::update(std::span<const std::byte> data) {
  (void)mbedtls_sha256_update(&ctx_, reinterpret_cast<const unsigned char*>(data.data()),
                              data.size());
}
void Sha256::finish(std::span<uint8_t, kSha256Size> out) {
  (void)mbedtls_sha256_finish(&ctx_, out.data());
}

Sha512::Sha512() {
  mbedtls_sha512_init(&ctx_);
  (void)mbedtls_sha512_starts(&ctx_, /*is384=*/0);
}
Sha512::~Sha512() { mbedtls_sha512_free(&ctx_); }
void Sha512::update(std::span<const std::byte> data) {
  (void)mbedtls_sha512_update(&ctx_, reinterpret_cast<const unsigned char*>(data.data()),
                              data.size());
}
void Sha512::finish(std::span<uint8_t, kSha512Size> out) {
  (void)mbedtls_sha512_finish(&ctx_, out.data());
}

void sha256(std::span<const std::span<const std::byte>> parts, std::span<uint8_t, kSha256Size> out) {
  Sha256 h;
  for (auto p : parts) h.update(p);
  h.finish(out);
}

void sha512(std::span<const std::span<const std::byte>> parts, std::span<uint8_t, kSha512Size> out) {
  Sha512 h;
  for (auto p : parts) h.update(p);
  h.finish(out);
}

const char* implementation() {
#if defined(__PVMFW_FIRMWARE__)
  // The bits mbedTLS's sha256.c/sha512.c test (Linux's HWCAP_SHA2, HWCAP_SHA512).
  const unsigned long hwcap = getauxval(AT_HWCAP);
  if ((hwcap & (1ul << 6)) == 0) return "c";
  return (hwcap & (1ul << 21)) != 0 ? "armv8-sha256+sha512" : "armv8-sha256";
#else
  return "c";
#endif
}

}  // namespace base::sha2

// SHA-256 and SHA-512 (FIPS 180-4) for every library, on both machines: thin
// typed wrappers over mbedTLS 3.6 (third_party/), the same code in the
// firmware and the host tools.
//
// mbedTLS runs the Armv8 SHA-256/SHA-512 instructions when the CPU has them
// and its portable C otherwise (pvmfw_mbedtls_config.h says how the firmware
// answers mbedTLS's CPU probe); implementation() names the path taken.
//
// Contexts hold message material (secrets being hashed): they wipe
// themselves when they die (mbedtls_sha*_free zeroizes). In this
// configuration mbedTLS's SHA-2 cannot fail (no hardware driver, no
// allocation), so update() and finish() return nothing.
#pragma once

#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>

#include <cstddef>
#include <cstdint>
#include <span>

namespace base::sha2 {

inline constexpr size_t kSha256Size = 32;
inline constexpr size_t kSha512Size = 64;

class Sha256 {
 public:
  static constexpr size_t kBlock = 64;
  static constexpr size_t kOut = kSha256Size;
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::span<const std::byte> data);
  // Writes the digest; the context must not be used after.
  void finish(std::span<uint8_t, kSha256Size> out);

 private:
  mbedtls_sha256_context ctx_;
};

class Sha512 {
 public:
  static constexpr size_t kBlock = 128;
  static constexpr size_t kOut = kSha512Size;
  Sha512();
  ~Sha512();
  Sha512(const Sha512&) = delete;
  Sha512& operator=(const Sha512&) = delete;
  void update(std::span<const std::byte> data);
  void finish(std::span<uint8_t, kSha512Size> out);

 private:
  mbedtls_sha512_context ctx_;
};

// Digests of the concatenation of `parts`.
void sha256(std::span<const std::span<const std::byte>> parts, std::span<uint8_t, kSha256Size> out);
void sha512(std::span<const std::span<const std::byte>> parts, std::span<uint8_t, kSha512Size> out);

// Which code computes the digests here: "armv8-sha256+sha512",
// "armv8-sha256" (SHA-512 in C) or "c", as mbedTLS's own CPU check decides
// (the firmware: ID_AA64ISAR0_EL1 through getauxval; the host: C).
const char* implementation();

}  // namespace base::sha2

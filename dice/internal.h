// Helpers shared by the dice/ sources; not part of the library's interface.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <span>
#include <string_view>

#include "dice/cbor.h"
#include "dice/types.h"

namespace dice::internal {

// The bytes of a string literal, without its NUL.
template <size_t N>
Bytes text(const char (&s)[N]) {
  return std::as_bytes(std::span<const char>(s, N - 1));
}

// The encoded COSE protected header {1: -7}.
extern const uint8_t kProtectedEs256[3];

// COSE Sig_structure for COSE_Sign1 (RFC 9052 §4.4) with an empty
// external_aad, as four parts to hash in order, so the payload is hashed where
// it lies instead of being copied.
class SigStructure {
 public:
  SigStructure(Bytes protected_header, Bytes payload);
  // parts() points into the object itself.
  SigStructure(const SigStructure&) = delete;
  SigStructure& operator=(const SigStructure&) = delete;
  std::span<const Bytes, 4> parts() const { return parts_; }

 private:
  std::array<std::byte, 16> head_{};    // array(4), "Signature1", bstr head (protected)
  std::array<std::byte, 16> middle_{};  // h'', bstr head (payload)
  std::array<Bytes, 4> parts_{};
};

// True when the two byte ranges share a byte.
inline bool overlaps(Bytes a, Bytes b) {
  if (a.empty() || b.empty()) return false;
  const auto a0 = reinterpret_cast<uintptr_t>(a.data());
  const auto b0 = reinterpret_cast<uintptr_t>(b.data());
  return a0 < b0 + b.size() && b0 < a0 + a.size();
}

// The CDI bytes as the uint8_t view the API uses (the size is in the type).
inline CdiView cdi_view(std::span<const std::byte, kCdiSize> b) {
  return CdiView(reinterpret_cast<const uint8_t*>(b.data()), kCdiSize);
}

// The chain's item count after checking its shape: an array of >= 2 items,
// the first a map (the root COSE_Key), the others 4-element arrays
// (COSE_Sign1). `chain` must be exactly one well-formed item.
[[nodiscard]] std::expected<uint64_t, Error> check_chain_shape(Bytes chain);

// p256::verify over a SHA-256 digest given as is (crypto.cc; the tests use
// it for digests no known message has).
[[nodiscard]] std::expected<void, Error> p256_verify_digest(const PublicKey& pub,
                                                            std::span<const uint8_t, 32> digest,
                                                            const Signature& sig);

}  // namespace dice::internal

// SHA-256 and SHA-512 (FIPS 180-4) for every library, on both machines.
//
// The compression runs on an Engine: portable C++ by default, and in the
// firmware the Armv8 SHA instructions when the CPU has them (sha2_armv8.h;
// entry/ installs it once at boot with use_engine). Everything above the
// compression (buffering, padding, output) is this file's, shared by both.
//
// Contexts hold message material (key pads in HMAC, secrets being hashed):
// they wipe themselves when they die (secure_wipe).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace base::sha2 {

inline constexpr size_t kSha256Size = 32;
inline constexpr size_t kSha512Size = 64;

// Compression functions: `blocks` whole blocks (64 bytes for SHA-256, 128
// for SHA-512) from `p` into `state`.
struct Engine {
  const char* name;
  void (*blocks256)(uint32_t state[8], const uint8_t* p, size_t blocks);
  void (*blocks512)(uint64_t state[8], const uint8_t* p, size_t blocks);
};
const Engine& portable_engine();
// The engine every context uses from now on (not thread-safe: set it once,
// before hashing).
void use_engine(const Engine& engine);
const Engine& engine();

namespace detail {
// FIPS 180-4 §4.2.2 and §4.2.3: the round constants (shared by the engines).
extern const uint32_t kK256[64];
extern const uint64_t kK512[80];

template <typename Word, size_t kBlock>
class Context {
 public:
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;
  ~Context();
  void update(std::span<const std::byte> data);

 protected:
  explicit Context(const Word (&iv)[8]);
  void finish(uint8_t* out, size_t out_size);

 private:
  void compress(const uint8_t* p, size_t blocks);
  Word state_[8];
  uint8_t buf_[kBlock];
  size_t fill_ = 0;
  uint64_t total_ = 0;  // bytes; messages here are far below 2^61
};
extern template class Context<uint32_t, 64>;
extern template class Context<uint64_t, 128>;
}  // namespace detail

class Sha256 : public detail::Context<uint32_t, 64> {
 public:
  static constexpr size_t kBlock = 64;
  static constexpr size_t kOut = kSha256Size;
  Sha256();
  // Writes the digest; the context must not be used after.
  void finish(std::span<uint8_t, kSha256Size> out) { Context::finish(out.data(), out.size()); }
};

class Sha512 : public detail::Context<uint64_t, 128> {
 public:
  static constexpr size_t kBlock = 128;
  static constexpr size_t kOut = kSha512Size;
  Sha512();
  void finish(std::span<uint8_t, kSha512Size> out) { Context::finish(out.data(), out.size()); }
};

// Digests of the concatenation of `parts`.
void sha256(std::span<const std::span<const std::byte>> parts, std::span<uint8_t, kSha256Size> out);
void sha512(std::span<const std::span<const std::byte>> parts, std::span<uint8_t, kSha512Size> out);

}  // namespace base::sha2

// mbedTLS's heap as the firmware has it (bounded; entry/heap.h): every
// allocation failure anywhere in a DICE layer, a chain check or AES-GCM
// surfaces as CRYPTO_FAILURE (never a crash, a wrong answer or another
// error), the outputs are wiped, nothing leaks; and the peak heap use of one
// layer, which the firmware's heap must hold.
#include <gtest/gtest.h>
#include <mbedtls/platform.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <vector>

#include "dice/crypto.h"
#include "dice/dice.h"
#include "dice/pvmfw.h"
#include "test_util.h"

namespace dice {
namespace {

// Installs itself as mbedTLS's allocator while it lives: counts, measures,
// and fails the allocation numbered `fail_at` (from 0) and every later one.
class HeapProbe {
 public:
  explicit HeapProbe(size_t fail_at = SIZE_MAX) : fail_at_(fail_at) {
    active_ = this;
    mbedtls_platform_set_calloc_free(&HeapProbe::alloc, &HeapProbe::release);
  }
  ~HeapProbe() {
    mbedtls_platform_set_calloc_free(std::calloc, std::free);
    active_ = nullptr;
  }
  HeapProbe(const HeapProbe&) = delete;
  HeapProbe& operator=(const HeapProbe&) = delete;

  size_t allocations() const { return count_; }
  size_t live_bytes() const { return live_; }
  size_t peak_bytes() const { return peak_; }
  size_t peak_blocks() const { return peak_blocks_; }
  bool failed() const { return failed_; }

 private:
  static void* alloc(size_t n, size_t size) {
    HeapProbe& h = *active_;
    if (h.count_++ >= h.fail_at_) {
      h.failed_ = true;
      return nullptr;
    }
    void* p = std::calloc(n, size);
    if (p == nullptr) return nullptr;
    h.blocks_[p] = n * size;
    h.live_ += n * size;
    h.peak_ = std::max(h.peak_, h.live_);
    h.peak_blocks_ = std::max(h.peak_blocks_, h.blocks_.size());
    return p;
  }
  static void release(void* p) {
    if (p == nullptr) return;
    HeapProbe& h = *active_;
    auto it = h.blocks_.find(p);
    if (it != h.blocks_.end()) {
      h.live_ -= it->second;
      h.blocks_.erase(it);
    }
    std::free(p);
  }

  static inline HeapProbe* active_ = nullptr;
  size_t fail_at_;
  size_t count_ = 0;
  size_t live_ = 0;
  size_t peak_ = 0;
  size_t peak_blocks_ = 0;
  bool failed_ = false;
  std::map<void*, size_t> blocks_;
};

bool all_zero(std::span<const std::byte> b) {
  return std::all_of(b.begin(), b.end(), [](std::byte x) { return x == std::byte{0}; });
}

std::vector<std::byte> previous_stage() {
  std::array<uint8_t, kCdiSize> uds{};
  uds.fill(0x42);
  std::vector<std::byte> out(kHandoverRegionSize);
  auto n = pvmfw::previous_stage_handover(uds, out);
  EXPECT_TRUE(n.has_value());
  out.resize(n.value_or(0));
  return out;
}

InputValues layer_inputs() {
  InputValues in;
  in.code_hash.fill(0x01);
  in.authority_hash.fill(0x02);
  in.config_value.fill(0x03);
  in.mode = Mode::kNormal;
  return in;
}

// Fails the first, second, ... allocation of `run` until it succeeds;
// `check` sees each failure. Returns the allocations a successful run makes.
template <class Run, class Check>
size_t fail_each_allocation(Run run, Check check) {
  for (size_t fail_at = 0;; ++fail_at) {
    HeapProbe probe(fail_at);
    const bool ok = run();
    EXPECT_EQ(probe.live_bytes(), 0u) << "leak when allocation " << fail_at << " failed";
    if (!probe.failed()) {
      EXPECT_TRUE(ok);
      return probe.allocations();
    }
    check(fail_at);
    if (fail_at > 100000) {
      ADD_FAILURE() << "no end";
      return 0;
    }
  }
}

TEST(Heap, EveryAllocationFailureInALayerIsCryptoFailure) {
  const std::vector<std::byte> current = previous_stage();
  const InputValues in = layer_inputs();
  std::vector<std::byte> out(kHandoverRegionSize);
  std::optional<Error> error;
  const size_t allocations = fail_each_allocation(
      [&] {
        std::fill(out.begin(), out.end(), std::byte{0xee});
        auto r = handover_main_flow(current, in, CertOptions{}, out);
        error = r ? std::nullopt : std::optional<Error>(r.error());
        return r.has_value();
      },
      [&](size_t fail_at) {
        EXPECT_EQ(error, Error::kCryptoFailure) << "allocation " << fail_at;
        EXPECT_TRUE(all_zero(out)) << "output left after allocation " << fail_at << " failed";
      });
  EXPECT_GT(allocations, 0u);
  // After all that, the same layer again gives the same bytes as an
  // undisturbed one (the cached group survived the failures).
  std::vector<std::byte> a(kHandoverRegionSize), b(kHandoverRegionSize);
  auto na = handover_main_flow(current, in, CertOptions{}, a);
  auto nb = handover_main_flow(current, in, CertOptions{}, b);
  ASSERT_TRUE(na && nb);
  EXPECT_EQ(test::hex(Bytes(a).first(*na)), test::hex(Bytes(b).first(*nb)));
}

TEST(Heap, ChainVerificationSaysCryptoFailureNotBadSignature) {
  const std::vector<std::byte> current = previous_stage();
  auto h = parse_handover(current);
  ASSERT_TRUE(h && h->chain);
  const Bytes chain = *h->chain;
  std::optional<ChainFault> fault;
  fail_each_allocation(
      [&] {
        auto r = verify_chain(chain);
        fault = r ? std::nullopt : std::optional<ChainFault>(r.error());
        return r.has_value();
      },
      [&](size_t fail_at) {
        ASSERT_TRUE(fault.has_value());
        EXPECT_EQ(fault->error, Error::kCryptoFailure) << "allocation " << fail_at;
      });
}

TEST(Heap, AesGcmFailuresAreCryptoFailure) {
  std::array<uint8_t, aes256_gcm::kKeySize> key{};
  key.fill(0x77);
  const std::array<uint8_t, aes256_gcm::kNonceSize> nonce{};
  std::vector<std::byte> plain(100, std::byte{0x5a}), sealed(100), opened(100);
  aes256_gcm::Tag tag{};
  std::optional<Error> error;
  const size_t seal_allocations = fail_each_allocation(
      [&] {
        std::fill(sealed.begin(), sealed.end(), std::byte{0xee});
        auto r = aes256_gcm::seal(key, nonce, {}, plain, sealed, tag);
        error = r ? std::nullopt : std::optional<Error>(r.error());
        return r.has_value();
      },
      [&](size_t) {
        EXPECT_EQ(error, Error::kCryptoFailure);
        EXPECT_TRUE(all_zero(sealed));
      });
  EXPECT_GT(seal_allocations, 0u);  // the AES context
  fail_each_allocation(
      [&] {
        std::fill(opened.begin(), opened.end(), std::byte{0xee});
        auto r = aes256_gcm::open(key, nonce, {}, sealed, tag, opened);
        error = r ? std::nullopt : std::optional<Error>(r.error());
        return r.has_value();
      },
      [&](size_t) {
        EXPECT_EQ(error, Error::kCryptoFailure);
        EXPECT_TRUE(all_zero(opened));
      });
  EXPECT_EQ(test::hex(Bytes(opened)), test::hex(Bytes(plain)));
}

// What one layer (the firmware's flow: parse, two key pairs, one signature)
// needs from mbedTLS's heap. The firmware's allocator adds a header per
// block (memory_buffer_alloc.c) and fragments; entry/heap.h's buffer must
// hold that with room to spare.
TEST(Heap, PeakOfOneLayer) {
  const std::vector<std::byte> current = previous_stage();
  const InputValues in = layer_inputs();
  std::vector<std::byte> out(kHandoverRegionSize);
  HeapProbe probe;
  ASSERT_TRUE(handover_main_flow(current, in, CertOptions{}, out).has_value());
  EXPECT_EQ(probe.live_bytes(), 0u);
  RecordProperty("peak_bytes", static_cast<int>(probe.peak_bytes()));
  RecordProperty("peak_blocks", static_cast<int>(probe.peak_blocks()));
  RecordProperty("allocations", static_cast<int>(probe.allocations()));
  std::printf("one layer: %zu allocations, peak %zu bytes in %zu blocks\n", probe.allocations(),
              probe.peak_bytes(), probe.peak_blocks());
  EXPECT_LT(probe.peak_bytes(), 16u * 1024u);
}

}  // namespace
}  // namespace dice

#include "virtio/blk.h"

#include <cstring>

namespace virtio {
namespace {

// virtio-mmio registers (virtio 1.1 §4.2.2, Table 4.1).
constexpr uint32_t kMagicValue = 0x000;
constexpr uint32_t kVersion = 0x004;
constexpr uint32_t kDeviceId = 0x008;
constexpr uint32_t kDeviceFeatures = 0x010;
constexpr uint32_t kDeviceFeaturesSel = 0x014;
constexpr uint32_t kDriverFeatures = 0x020;
constexpr uint32_t kDriverFeaturesSel = 0x024;
constexpr uint32_t kQueueSel = 0x030;
constexpr uint32_t kQueueNumMax = 0x034;
constexpr uint32_t kQueueNum = 0x038;
constexpr uint32_t kQueueReady = 0x044;
constexpr uint32_t kQueueNotify = 0x050;
constexpr uint32_t kInterruptStatus = 0x060;
constexpr uint32_t kInterruptAck = 0x064;
constexpr uint32_t kStatus = 0x070;
constexpr uint32_t kQueueDescLow = 0x080;
constexpr uint32_t kQueueDescHigh = 0x084;
constexpr uint32_t kQueueDriverLow = 0x090;
constexpr uint32_t kQueueDriverHigh = 0x094;
constexpr uint32_t kQueueDeviceLow = 0x0a0;
constexpr uint32_t kQueueDeviceHigh = 0x0a4;
constexpr uint32_t kConfigGeneration = 0x0fc;
constexpr uint32_t kConfig = 0x100;  // virtio_blk_config: u64 capacity (512-byte sectors) first

constexpr uint32_t kMagic = 0x74726976;  // "virt"
constexpr uint32_t kBlockDevice = 2;
// Device status bits (§2.1).
constexpr uint32_t kAcknowledge = 1, kDriver = 2, kDriverOk = 4, kFeaturesOk = 8,
                   kNeedsReset = 64, kFailed = 128;
// VIRTIO_F_VERSION_1 is feature bit 32: bit 0 of feature word 1.
constexpr uint32_t kVersion1Word = 1, kVersion1Bit = 1u << 0;

// Split virtqueue (§2.6): descriptor flags, and where each part lives in the
// ring page (every part aligned as §2.6 requires, for up to kMaxQueue entries).
constexpr uint16_t kDescNext = 1, kDescWrite = 2;
constexpr uint16_t kMaxQueue = 8, kMinQueue = 3;
constexpr size_t kDescTable = 0, kAvail = 256, kUsed = 512, kHeader = 1024, kStatusByte = 1040;
// Block request types (§5.2.6).
constexpr uint32_t kIn = 0, kOut = 1;
// Polling bound: QEMU completes block requests in its main loop, so this is
// time, not work; generous, and still finite.
constexpr uint32_t kPollSpins = 200'000'000;

template <typename T>
void put(std::span<std::byte> page, size_t offset, T v) {
  std::memcpy(page.data() + offset, &v, sizeof(v));
}
template <typename T>
T get(std::span<std::byte> page, size_t offset) {
  // The device writes these: read them from memory each time.
  T v;
  const volatile std::byte* p = page.data() + offset;
  auto* out = reinterpret_cast<unsigned char*>(&v);
  for (size_t i = 0; i < sizeof(T); ++i) out[i] = static_cast<unsigned char>(p[i]);
  return v;
}

// Orders the driver's ring writes before what follows (the device reads them
// after the notify), and the device's used-ring writes before the reads after.
void barrier() {
#if defined(__aarch64__)
  asm volatile("dmb sy" ::: "memory");
#else
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

}  // namespace

const char* to_string(Error e) {
  switch (e) {
    case Error::kNotVirtio: return "NOT_VIRTIO";
    case Error::kLegacy: return "LEGACY_DEVICE";
    case Error::kNotBlock: return "NOT_BLOCK";
    case Error::kNoVersion1: return "NO_VERSION_1";
    case Error::kFeaturesRefused: return "FEATURES_REFUSED";
    case Error::kQueueUnavailable: return "QUEUE_UNAVAILABLE";
    case Error::kDeviceFailed: return "DEVICE_FAILED";
    case Error::kTimeout: return "TIMEOUT";
    case Error::kBadReply: return "BAD_REPLY";
    case Error::kOutOfRange: return "OUT_OF_RANGE";
  }
  return "?";
}

std::expected<Blk, Error> Blk::open(const Mmio& m, const Pages& pages) {
  auto rd = [&](uint32_t off) { return m.read32(m.ctx, off); };
  auto wr = [&](uint32_t off, uint32_t v) { m.write32(m.ctx, off, v); };
  if (rd(kMagicValue) != kMagic) return std::unexpected(Error::kNotVirtio);
  if (rd(kVersion) != 2) return std::unexpected(Error::kLegacy);
  if (rd(kDeviceId) != kBlockDevice) return std::unexpected(Error::kNotBlock);

  // §3.1.1: reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK, queues, DRIVER_OK.
  wr(kStatus, 0);
  wr(kStatus, kAcknowledge);
  wr(kStatus, kAcknowledge | kDriver);
  wr(kDeviceFeaturesSel, kVersion1Word);
  if ((rd(kDeviceFeatures) & kVersion1Bit) == 0) {
    wr(kStatus, kFailed);
    return std::unexpected(Error::kNoVersion1);
  }
  wr(kDriverFeaturesSel, 0);
  wr(kDriverFeatures, 0);
  wr(kDriverFeaturesSel, kVersion1Word);
  wr(kDriverFeatures, kVersion1Bit);
  wr(kStatus, kAcknowledge | kDriver | kFeaturesOk);
  if ((rd(kStatus) & kFeaturesOk) == 0) {
    wr(kStatus, kFailed);
    return std::unexpected(Error::kFeaturesRefused);
  }

  wr(kQueueSel, 0);
  const uint32_t max = rd(kQueueNumMax);
  if (max < kMinQueue || rd(kQueueReady) != 0) {
    wr(kStatus, kFailed);
    return std::unexpected(Error::kQueueUnavailable);
  }
  const uint16_t q = static_cast<uint16_t>(max < kMaxQueue ? max : kMaxQueue);
  std::memset(pages.ring.data(), 0, pages.ring.size());
  wr(kQueueNum, q);
  const uint64_t desc = pages.ring_address + kDescTable, avail = pages.ring_address + kAvail,
                 used = pages.ring_address + kUsed;
  wr(kQueueDescLow, static_cast<uint32_t>(desc));
  wr(kQueueDescHigh, static_cast<uint32_t>(desc >> 32));
  wr(kQueueDriverLow, static_cast<uint32_t>(avail));
  wr(kQueueDriverHigh, static_cast<uint32_t>(avail >> 32));
  wr(kQueueDeviceLow, static_cast<uint32_t>(used));
  wr(kQueueDeviceHigh, static_cast<uint32_t>(used >> 32));
  barrier();
  wr(kQueueReady, 1);

  // The capacity, read until the configuration generation is stable (§4.2.2.2).
  uint64_t sectors = 0;
  for (unsigned tries = 0;; ++tries) {
    const uint32_t gen = rd(kConfigGeneration);
    sectors = rd(kConfig) | (uint64_t{rd(kConfig + 4)} << 32);
    if (rd(kConfigGeneration) == gen) break;
    if (tries == 16) {
      wr(kStatus, 0);  // reset: the device forgets the queue's addresses
      return std::unexpected(Error::kDeviceFailed);
    }
  }
  wr(kStatus, kAcknowledge | kDriver | kFeaturesOk | kDriverOk);
  if ((rd(kStatus) & (kNeedsReset | kFailed)) != 0) {
    wr(kStatus, 0);
    return std::unexpected(Error::kDeviceFailed);
  }
  return Blk(m, pages, q, sectors);
}

std::expected<void, Error> Blk::request(uint32_t type, uint64_t lba, size_t bytes) {
  std::span<std::byte> ring = pages_.ring;
  put<uint32_t>(ring, kHeader, type);
  put<uint32_t>(ring, kHeader + 4, 0);
  put<uint64_t>(ring, kHeader + 8, lba);
  put<uint8_t>(ring, kStatusByte, 0xff);
  // Three descriptors: header (device reads), data, status (device writes).
  auto desc = [&](uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next) {
    const size_t at = kDescTable + 16u * i;
    put<uint64_t>(ring, at, addr);
    put<uint32_t>(ring, at + 8, len);
    put<uint16_t>(ring, at + 12, flags);
    put<uint16_t>(ring, at + 14, next);
  };
  desc(0, pages_.ring_address + kHeader, 16, kDescNext, 1);
  desc(1, pages_.data_address, static_cast<uint32_t>(bytes),
       static_cast<uint16_t>(kDescNext | (type == kIn ? kDescWrite : 0)), 2);
  desc(2, pages_.ring_address + kStatusByte, 1, kDescWrite, 0);
  put<uint16_t>(ring, kAvail + 4 + 2u * (next_avail_ % queue_size_), 0);
  barrier();
  ++next_avail_;
  put<uint16_t>(ring, kAvail + 2, next_avail_);
  barrier();
  mmio_.write32(mmio_.ctx, kQueueNotify, 0);

  uint32_t spins = 0;
  uint16_t used_idx;
  while ((used_idx = get<uint16_t>(ring, kUsed + 2)) == last_used_) {
    if (++spins == kPollSpins) return std::unexpected(Error::kTimeout);
  }
  barrier();
  // The used element: our one chain (id 0), and for a read at least the
  // data's length written (§2.6.8.1: len counts the bytes the device wrote),
  // or the page's old bytes would pass for the disk's.
  const size_t elem = kUsed + 4 + 8u * (last_used_ % queue_size_);
  const uint32_t id = get<uint32_t>(ring, elem);
  const uint32_t written = get<uint32_t>(ring, elem + 4);
  if (static_cast<uint16_t>(used_idx - last_used_) != 1 || id != 0 ||
      (type == kIn && written < bytes)) {
    return std::unexpected(Error::kBadReply);
  }
  ++last_used_;
  // The interrupt is not used: acknowledge it so the line drops.
  mmio_.write32(mmio_.ctx, kInterruptAck, mmio_.read32(mmio_.ctx, kInterruptStatus) & 3);
  if ((mmio_.read32(mmio_.ctx, kStatus) & kNeedsReset) != 0 ||
      get<uint8_t>(ring, kStatusByte) != 0) {
    return std::unexpected(Error::kDeviceFailed);
  }
  return {};
}

std::expected<void, Error> Blk::read(uint64_t lba, std::span<std::byte> out) {
  if (out.size() % kSectorSize != 0 || lba > sectors_ ||
      out.size() / kSectorSize > sectors_ - lba) {
    return std::unexpected(Error::kOutOfRange);
  }
  while (!out.empty()) {
    const size_t n = out.size() < kPageSize ? out.size() : kPageSize;
    if (auto r = request(kIn, lba, n); !r) return r;
    std::memcpy(out.data(), pages_.data.data(), n);
    out = out.subspan(n);
    lba += n / kSectorSize;
  }
  return {};
}

std::expected<void, Error> Blk::write(uint64_t lba, std::span<const std::byte> in) {
  if (in.size() % kSectorSize != 0 || lba > sectors_ || in.size() / kSectorSize > sectors_ - lba) {
    return std::unexpected(Error::kOutOfRange);
  }
  while (!in.empty()) {
    const size_t n = in.size() < kPageSize ? in.size() : kPageSize;
    std::memcpy(pages_.data.data(), in.data(), n);
    if (auto r = request(kOut, lba, n); !r) return r;
    in = in.subspan(n);
    lba += n / kSectorSize;
  }
  return {};
}

void Blk::reset() { mmio_.write32(mmio_.ctx, kStatus, 0); }

}  // namespace virtio

// The driver against a fake virtio-mmio block device (virtio 1.1 §4.2.2,
// §2.6, §5.2) that processes the queue when notified, and can misbehave.
#include "virtio/blk.h"

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <vector>

namespace virtio {
namespace {

constexpr uint64_t kRingAddress = 0x4800'0000, kDataAddress = 0x4800'1000;

struct FakeBlk {
  uint32_t magic = 0x74726976, version = 2, device_id = 2;
  bool offer_version1 = true, accept_features = true, answer = true;
  uint16_t queue_max = 16;
  uint8_t status_reply = 0;
  bool wrong_id = false;
  bool short_read = false;  // report a read as done with no data written
  std::vector<std::byte> disk = std::vector<std::byte>(64 * 512);
  alignas(4096) std::array<std::byte, 4096> ring{};
  alignas(4096) std::array<std::byte, 4096> data{};

  uint32_t status = 0, features_sel = 0, driver_sel = 0, queue_num = 0, ready = 0;
  uint64_t driver_features = 0, desc = 0, avail = 0, used = 0;
  uint16_t seen = 0;
  unsigned requests = 0;

  std::byte* at(uint64_t addr, size_t len) {
    if (addr >= kRingAddress && addr + len <= kRingAddress + 4096) return &ring[addr - kRingAddress];
    if (addr >= kDataAddress && addr + len <= kDataAddress + 4096) return &data[addr - kDataAddress];
    ADD_FAILURE() << "device access outside the shared pages: " << std::hex << addr;
    return nullptr;
  }
  template <typename T> T ld(uint64_t addr) {
    T v{};
    if (auto* p = at(addr, sizeof(T))) std::memcpy(&v, p, sizeof(T));
    return v;
  }
  template <typename T> void st(uint64_t addr, T v) {
    if (auto* p = at(addr, sizeof(T))) std::memcpy(p, &v, sizeof(T));
  }

  void process() {
    const uint16_t idx = ld<uint16_t>(avail + 2);
    while (seen != idx) {
      const uint16_t head = ld<uint16_t>(avail + 4 + 2 * (seen % queue_num));
      const uint64_t d0 = desc + 16 * head;
      const uint64_t hdr = ld<uint64_t>(d0);
      const uint16_t n1 = ld<uint16_t>(d0 + 14);
      const uint64_t d1 = desc + 16 * n1;
      const uint64_t buf = ld<uint64_t>(d1);
      const uint32_t len = ld<uint32_t>(d1 + 8);
      const uint16_t n2 = ld<uint16_t>(d1 + 14);
      const uint64_t st_addr = ld<uint64_t>(desc + 16 * n2);
      const uint32_t type = ld<uint32_t>(hdr);
      const uint64_t sector = ld<uint64_t>(hdr + 8);
      EXPECT_LE((sector * 512) + len, disk.size());
      if (type == 0) {
        std::memcpy(at(buf, len), disk.data() + sector * 512, len);
      } else {
        std::memcpy(disk.data() + sector * 512, at(buf, len), len);
      }
      st<uint8_t>(st_addr, status_reply);
      const uint16_t u = ld<uint16_t>(used + 2);
      st<uint32_t>(used + 4 + 8 * (u % queue_num), wrong_id ? 5 : head);
      // The bytes written into the request's buffers (virtio 1.1 §2.6.8.1),
      // as QEMU counts them: a read's data and status byte, a write's status.
      st<uint32_t>(used + 8 + 8 * (u % queue_num), short_read ? 1 : type == 0 ? len + 1 : 1);
      st<uint16_t>(used + 2, static_cast<uint16_t>(u + 1));
      ++seen;
      ++requests;
    }
  }

  uint32_t read(uint32_t off) {
    switch (off) {
      case 0x000: return magic;
      case 0x004: return version;
      case 0x008: return device_id;
      case 0x010: return features_sel == 1 && offer_version1 ? 1u : 0u;
      case 0x034: return queue_max;
      case 0x044: return ready;
      case 0x060: return 1;
      case 0x070: return status;
      case 0x0fc: return 0;
      case 0x100: return static_cast<uint32_t>(disk.size() / 512);
      case 0x104: return 0;
    }
    return 0;
  }
  void write(uint32_t off, uint32_t v) {
    switch (off) {
      case 0x014: features_sel = v; break;
      case 0x020: driver_features |= uint64_t{v} << (32 * driver_sel); break;
      case 0x024: driver_sel = v; break;
      case 0x038: queue_num = v; break;
      case 0x044: ready = v; break;
      case 0x050: if (answer) process(); break;
      case 0x070:
        status = (v & 8) != 0 && !accept_features ? (v & ~8u) : v;
        if (v == 0) { ready = 0; seen = 0; }
        break;
      case 0x080: desc = (desc & ~0xffffffffull) | v; break;
      case 0x084: desc = (desc & 0xffffffffull) | (uint64_t{v} << 32); break;
      case 0x090: avail = (avail & ~0xffffffffull) | v; break;
      case 0x094: avail = (avail & 0xffffffffull) | (uint64_t{v} << 32); break;
      case 0x0a0: used = (used & ~0xffffffffull) | v; break;
      case 0x0a4: used = (used & 0xffffffffull) | (uint64_t{v} << 32); break;
    }
  }
  Mmio mmio() {
    return {this, [](void* c, uint32_t o) { return static_cast<FakeBlk*>(c)->read(o); },
            [](void* c, uint32_t o, uint32_t v) { static_cast<FakeBlk*>(c)->write(o, v); }};
  }
  Pages pages() { return {ring, kRingAddress, data, kDataAddress}; }
};

TEST(VirtioBlk, ReadsAndWritesThroughTheBouncePages) {
  FakeBlk dev;
  for (size_t i = 0; i < dev.disk.size(); ++i) dev.disk[i] = std::byte(i * 7);
  auto blk = Blk::open(dev.mmio(), dev.pages());
  ASSERT_TRUE(blk.has_value()) << to_string(blk.error());
  EXPECT_EQ(blk->sectors(), 64u);
  EXPECT_EQ(dev.driver_features, uint64_t{1} << 32);  // VIRTIO_F_VERSION_1 only
  EXPECT_EQ(dev.status, 15u);                          // ACK | DRIVER | FEATURES_OK | DRIVER_OK

  std::vector<std::byte> buf(10 * 1024);  // 2.5 pages: three requests
  ASSERT_TRUE(blk->read(3, buf));
  EXPECT_EQ(0, std::memcmp(buf.data(), dev.disk.data() + 3 * 512, buf.size()));
  EXPECT_EQ(dev.requests, 3u);

  std::vector<std::byte> in(1024, std::byte{0x5a});
  ASSERT_TRUE(blk->write(60, in));
  EXPECT_EQ(dev.disk[60 * 512], std::byte{0x5a});
  EXPECT_EQ(dev.disk[62 * 512 - 1], std::byte{0x5a});
  EXPECT_NE(dev.disk[62 * 512], std::byte{0x5a});
  blk->reset();
  EXPECT_EQ(dev.status, 0u);
}

TEST(VirtioBlk, RefusesWhatIsNotAModernBlockDevice) {
  {
    FakeBlk dev;
    dev.magic = 0;
    EXPECT_EQ(Blk::open(dev.mmio(), dev.pages()).error(), Error::kNotVirtio);
  }
  {
    FakeBlk dev;
    dev.version = 1;
    EXPECT_EQ(Blk::open(dev.mmio(), dev.pages()).error(), Error::kLegacy);
  }
  {
    FakeBlk dev;
    dev.device_id = 0;  // an empty transport
    EXPECT_EQ(Blk::open(dev.mmio(), dev.pages()).error(), Error::kNotBlock);
  }
  {
    FakeBlk dev;
    dev.offer_version1 = false;
    EXPECT_EQ(Blk::open(dev.mmio(), dev.pages()).error(), Error::kNoVersion1);
  }
  {
    FakeBlk dev;
    dev.accept_features = false;
    EXPECT_EQ(Blk::open(dev.mmio(), dev.pages()).error(), Error::kFeaturesRefused);
  }
  {
    FakeBlk dev;
    dev.queue_max = 2;
    EXPECT_EQ(Blk::open(dev.mmio(), dev.pages()).error(), Error::kQueueUnavailable);
  }
}

TEST(VirtioBlk, NamesDeviceFailures) {
  std::vector<std::byte> buf(512);
  {
    FakeBlk dev;
    auto blk = Blk::open(dev.mmio(), dev.pages());
    ASSERT_TRUE(blk);
    EXPECT_EQ(blk->read(64, buf).error(), Error::kOutOfRange);  // past the end
    EXPECT_EQ(blk->read(63, std::span(buf).first(100)).error(), Error::kOutOfRange);
    EXPECT_EQ(dev.requests, 0u);
    dev.status_reply = 1;  // VIRTIO_BLK_S_IOERR
    EXPECT_EQ(blk->read(0, buf).error(), Error::kDeviceFailed);
  }
  {
    FakeBlk dev;
    auto blk = Blk::open(dev.mmio(), dev.pages());
    ASSERT_TRUE(blk);
    dev.wrong_id = true;
    EXPECT_EQ(blk->read(0, buf).error(), Error::kBadReply);
  }
  {
    // A read the device says is done but whose data it never wrote: the
    // shared page's old bytes must not pass for the disk's.
    FakeBlk dev;
    auto blk = Blk::open(dev.mmio(), dev.pages());
    ASSERT_TRUE(blk);
    dev.short_read = true;
    EXPECT_EQ(blk->read(0, buf).error(), Error::kBadReply);
  }
}

}  // namespace
}  // namespace virtio

// A virtio block device on the virtio-mmio transport (OASIS virtio 1.1:
// §4.2.2 the MMIO registers, §2.6 split virtqueues, §5.2 block device), as
// pvmfw drives it to reach the VM's instance disk.
//
// One request at a time, polled (no interrupts), through two pages the caller
// provides and shares with the host: the ring page (descriptor table, driver
// and device rings, the request header and status byte) and the data page
// (one 4 KiB bounce buffer; the caller's buffers are copied in and out, so
// nothing but these two pages is ever visible to the device).
//
// Callers may rely on: every register and ring value the device returns is
// checked before use (an index, a length, a status); a device that misbehaves
// or does not answer gives a named Error, never a hang (polling is bounded) or
// an access outside the two pages; no heap, no exceptions. Modern devices
// only (Version 2, VIRTIO_F_VERSION_1): QEMU needs
// -global virtio-mmio.force-legacy=false, which `pvm` passes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <span>

namespace virtio {

enum class Error : uint8_t {
  kNotVirtio,        // NOT_VIRTIO: MagicValue is not "virt"
  kLegacy,           // LEGACY_DEVICE: Version 1 (legacy) transport
  kNotBlock,         // NOT_BLOCK: DeviceID is not 2 (or 0: no device behind the transport)
  kNoVersion1,       // NO_VERSION_1: the device does not offer VIRTIO_F_VERSION_1
  kFeaturesRefused,  // FEATURES_REFUSED: FEATURES_OK did not stick
  kQueueUnavailable, // QUEUE_UNAVAILABLE: queue 0 absent, too small or already in use
  kDeviceFailed,     // DEVICE_FAILED: the device set DEVICE_NEEDS_RESET or answered an error
  kTimeout,          // TIMEOUT: no answer within the polling bound
  kBadReply,         // BAD_REPLY: a used-ring entry that is not our request
  kOutOfRange,       // OUT_OF_RANGE: a request past the disk's capacity, or a bad length
};
const char* to_string(Error e);

// Register access to the transport (the firmware: one ldr/str on Device
// memory, base/mmio.h; the tests: a fake device).
struct Mmio {
  void* ctx = nullptr;
  uint32_t (*read32)(void* ctx, uint32_t offset) = nullptr;
  void (*write32)(void* ctx, uint32_t offset, uint32_t value) = nullptr;
};

inline constexpr size_t kPageSize = 4096;
inline constexpr size_t kSectorSize = 512;

// The two shared pages: where the driver writes them, and the address the
// device is given for them (the same in pvmfw, whose VM RAM is identity
// mapped; different in the host tests).
struct Pages {
  std::span<std::byte, kPageSize> ring;
  uint64_t ring_address = 0;
  std::span<std::byte, kPageSize> data;
  uint64_t data_address = 0;
};

class Blk {
 public:
  // Resets the device, negotiates VIRTIO_F_VERSION_1 only, sets up queue 0 in
  // pages.ring and sets DRIVER_OK.
  [[nodiscard]] static std::expected<Blk, Error> open(const Mmio& mmio, const Pages& pages);

  uint64_t sectors() const { return sectors_; }

  // Whole sectors; any length (split into 4 KiB requests).
  [[nodiscard]] std::expected<void, Error> read(uint64_t lba, std::span<std::byte> out);
  [[nodiscard]] std::expected<void, Error> write(uint64_t lba, std::span<const std::byte> in);

  // Resets the device (status 0): it forgets the rings, so the pages can be
  // unshared. The Blk must not be used afterwards.
  void reset();

 private:
  Blk(const Mmio& mmio, const Pages& pages, uint16_t queue_size, uint64_t sectors)
      : mmio_(mmio), pages_(pages), queue_size_(queue_size), sectors_(sectors) {}
  std::expected<void, Error> request(uint32_t type, uint64_t lba, size_t bytes);

  Mmio mmio_;
  Pages pages_;
  uint16_t queue_size_;
  uint64_t sectors_;
  uint16_t next_avail_ = 0;
  uint16_t last_used_ = 0;
};

}  // namespace virtio

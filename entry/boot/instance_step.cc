#include "instance_step.h"

#include <cstdarg>
#include <cstring>

#include "base/format.h"
#include "instance/block_device.h"
#include "instance/instance.h"
#include "virtio/blk.h"

namespace boot {
namespace {

constexpr uint64_t kPage = 4096;
constexpr uint32_t kVirtioMagic = 0x74726976;  // "virt" (virtio 1.1 §4.2.2)
constexpr uint32_t kVirtioBlock = 2;

void sink(void* ctx, const char* data, size_t len) {
  static_cast<const Platform*>(ctx)->write(data, len);
}
void print(const Platform& p, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void print(const Platform& p, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  base::vformat(sink, const_cast<Platform*>(&p), fmt, ap);
  va_end(ap);
}

struct Transport {
  const Platform* p;
  uint64_t base;
};
uint32_t mmio_read(void* ctx, uint32_t off) {
  auto* t = static_cast<Transport*>(ctx);
  return t->p->mmio_read32(t->base + off);
}
void mmio_write(void* ctx, uint32_t off, uint32_t v) {
  auto* t = static_cast<Transport*>(ctx);
  t->p->mmio_write32(t->base + off, v);
}

// The block device the instance library sees: the driver, and the step's
// context for the kInstanceWrite test-hook stage.
struct Disk {
  virtio::Blk* blk;
  const InstanceContext* c;
};

bool blk_read(void* ctx, uint64_t lba, std::span<std::byte> out) {
  return static_cast<Disk*>(ctx)->blk->read(lba, out).has_value();
}

// Writes go sector by sector past the first one: the kInstanceWrite stage
// sits between, where a test-hook build stops the machine to leave a torn
// entry (tests/e2e/instance_rules.py).
bool blk_write(void* ctx, uint64_t lba, std::span<const std::byte> in) {
  const Disk& d = *static_cast<Disk*>(ctx);
  const InstanceContext& c = *d.c;
  if (c.platform.at_stage == nullptr || c.tree == nullptr || in.size() <= virtio::kSectorSize) {
    return d.blk->write(lba, in).has_value();
  }
  if (!d.blk->write(lba, in.first(virtio::kSectorSize))) return false;
  if (!c.platform.at_stage(Stage::kInstanceWrite, StageContext{*c.tree, c.conduit})) return false;
  return d.blk->write(lba + 1, in.subspan(virtio::kSectorSize)).has_value();
}

// Maps the transport's page (and guard-maps it under the MMIO guard); one page
// holds several transports, so "already" is fine.
std::expected<void, Failure> reach(const InstanceContext& c, uint64_t page) {
  if (auto m = c.platform.map({page, kPage}, memory::Attr::kDevice);
      !m && m.error() != memory::Error::kOverlap) {
    return std::unexpected(failure(Reason::kInternalError, "map virtio %#lx: %s", page,
                                   memory::to_string(m.error())));
  }
  if (!c.hypervisor.mmio_guard()) return {};
  for (uint64_t mapped : c.ledger.mmio()) {
    if (mapped == page) return {};
  }
  if (auto s = hvc::mmio_guard_map(c.conduit, page); s != hvc::Status::kSuccess) {
    return std::unexpected(
        failure(Reason::kInternalError, "MMIO_GUARD_MAP %#lx: %s", page, hvc::to_string(s)));
  }
  if (auto r = c.ledger.map_mmio(page); !r) {
    return std::unexpected(failure(Reason::kInternalError, "memory: virtio %#lx: %s", page,
                                   memory::to_string(r.error().error)));
  }
  return {};
}

// MEM_SHARE (or MEM_UNSHARE) of every granule of the bounce pages, recorded in
// the ledger; on the unprotected path only the ledger.
std::expected<void, Failure> share(const InstanceContext& c, bool on) {
  const base::Range r = c.board.bounce;
  if (c.hypervisor.protected_vm) {
    for (uint64_t ipa = r.base; ipa < r.end(); ipa += c.ledger.granule()) {
      const hvc::Status s = on ? hvc::mem_share(c.conduit, ipa) : hvc::mem_unshare(c.conduit, ipa);
      if (s != hvc::Status::kSuccess) {
        return std::unexpected(failure(Reason::kInternalError, "%s %#lx: %s",
                                       on ? "MEM_SHARE" : "MEM_UNSHARE", ipa, hvc::to_string(s)));
      }
    }
  }
  auto rec = on ? c.ledger.share(r) : c.ledger.unshare(r);
  if (!rec) {
    return std::unexpected(failure(Reason::kInternalError, "memory: bounce pages: %s",
                                   memory::to_string(rec.error().error)));
  }
  return {};
}

Reason reason_for(instance::Error e) {
  switch (e) {
    case instance::Error::kInstanceImageMismatch: return Reason::kInstanceImageMismatch;
    case instance::Error::kRollback: return Reason::kRollback;
    default: return Reason::kInvalidInstanceImage;
  }
}

}  // namespace

std::expected<InstanceResult, Failure> check_instance(const InstanceContext& c,
                                                      std::span<const uint8_t, 32> cdi_seal,
                                                      std::span<const uint8_t, 64> instance_hash,
                                                      const instance::Measured& measured,
                                                      uint32_t create_flags) {
  const Platform& p = c.platform;
  if (p.mmio_read32 == nullptr || p.mmio_write32 == nullptr) return InstanceResult{};
  // The first transport with a block device behind it.
  std::optional<uint64_t> found;
  for (const fdt::Device& d : c.vm.virtio) {
    const uint64_t page = d.reg.base & ~(kPage - 1);
    if (auto r = reach(c, page); !r) return std::unexpected(r.error());
    if (p.mmio_read32(d.reg.base) == kVirtioMagic && p.mmio_read32(d.reg.base + 8) == kVirtioBlock) {
      found = d.reg.base;
      break;
    }
  }
  if (!found) {
    print(p, "pvmfw: no instance disk: the instance is its id alone (no rollback record)\n");
    return InstanceResult{};
  }

  // Only the two bounce pages are shared, and zeroed before they go back.
  auto pages = p.memory(c.board.bounce);
  if (pages.size() != 2 * kPage) {
    return std::unexpected(failure(Reason::kInternalError, "bounce pages not backed"));
  }
  std::memset(pages.data(), 0, pages.size());
  if (auto r = share(c, true); !r) return std::unexpected(r.error());
  Transport transport{&p, *found};
  const virtio::Mmio mmio{&transport, mmio_read, mmio_write};
  const virtio::Pages bounce{pages.first<kPage>(), c.board.bounce.base,
                             pages.subspan(kPage).first<kPage>(), c.board.bounce.base + kPage};

  std::expected<instance::Outcome, instance::Refusal> outcome =
      std::unexpected(instance::Refusal{instance::Error::kReadFailed});
  auto blk = virtio::Blk::open(mmio, bounce);
  const char* device_error = blk ? nullptr : virtio::to_string(blk.error());
  if (blk) {
    Disk disk{&*blk, &c};
    const instance::BlockDevice dev{&disk, blk->sectors(), blk_read, blk_write};
    outcome = instance::check_and_update(dev, cdi_seal, instance_hash, measured, create_flags,
                                         p.fill_random);
    blk->reset();
  }
  std::memset(pages.data(), 0, pages.size());
  p.clean_to_poc(c.board.bounce);
  if (auto r = share(c, false); !r) return std::unexpected(r.error());
  print(p, "pvmfw: shared with the host while reading it: %#lx-%#lx (%lu pages), now unshared\n",
        c.board.bounce.base, c.board.bounce.end(), c.board.bounce.size / kPage);

  if (device_error != nullptr) {
    return std::unexpected(failure(Reason::kInvalidInstanceImage, "virtio-blk at %#lx: %s",
                                   *found, device_error));
  }
  if (!outcome) {
    // "INSTANCE_IMAGE_MISMATCH: authority", "ROLLBACK: ...", or
    // "INVALID_INSTANCE_IMAGE: INSTANCE_IMAGE_CORRUPT: ...".
    const auto& e = outcome.error();
    const Reason r = reason_for(e.error);
    const std::string_view name =
        r == Reason::kInvalidInstanceImage ? instance::to_string(e.error) : std::string_view();
    const std::string_view sep = !name.empty() && !e.detail.empty() ? ": " : "";
    return std::unexpected(failure(r, "%.*s%.*s%.*s", static_cast<int>(name.size()), name.data(),
                                   static_cast<int>(sep.size()), sep.data(),
                                   static_cast<int>(e.detail.size()), e.detail.data()));
  }
  InstanceResult result{.disk = true};
  switch (outcome->verdict) {
    case instance::Verdict::kNew:
      result.new_instance = true;
      print(p, "pvmfw: instance disk at %#lx: new instance, entry recorded%s\n", *found,
            outcome->entry.pinned() ? " (software pinned)" : "");
      break;
    case instance::Verdict::kSame:
      print(p, "pvmfw: instance disk at %#lx: same software as recorded\n", *found);
      break;
    case instance::Verdict::kUpdate:
      print(p, "pvmfw: instance disk at %#lx: updated forward (rollback index %lu)\n", *found,
            measured.rollback_index);
      break;
  }
  return result;
}

}  // namespace boot

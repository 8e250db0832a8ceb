// libFuzzer harness: an arbitrary instance disk through everything pvmfw
// and `pvm` do with it (fuzz_inputs.h has the input format; make_seeds.cc
// writes the seeds). Checked, beyond "no crash, nothing read or written out
// of bounds" (ASan, and the device below refusing anything outside its
// bytes):
//   - a partition found lies inside the device and holds both slots;
//   - inspect never reports a slot valid (it has no key); keyed reads agree
//     with it on what is empty;
//   - read_entries' current entry is in a slot read as valid;
//   - a body that decodes encodes back to the same bytes;
//   - check_and_update that succeeds, run again with the same inputs on the
//     disk it left, says kSame with the same entry in the same slot (the
//     write is durable and the policy idempotent).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

#include "fuzz/fuzz_inputs.h"
#include "gpt_layout.h"
#include "image_layout.h"
#include "instance/instance.h"

namespace {

using namespace instance;

#define check(ok)                                                                       \
  do {                                                                                  \
    if (!(ok)) {                                                                        \
      std::fprintf(stderr, "instance_fuzzer.cc:%d: check failed: %s\n", __LINE__, #ok); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)

// A device over the input's bytes that may claim more sectors than it has;
// reads and writes outside the bytes fail (as a real device's would).
struct Device {
  std::span<std::byte> bytes;

  static bool read(void* ctx, uint64_t lba, std::span<std::byte> out) {
    auto* d = static_cast<Device*>(ctx);
    check(!out.empty() && out.size() % kSectorSize == 0);
    if (lba > d->bytes.size() / kSectorSize) return false;
    auto from = base::subspan(d->bytes, lba * kSectorSize, out.size());
    if (!from) return false;
    std::copy(from->begin(), from->end(), out.begin());
    return true;
  }
  static bool write(void* ctx, uint64_t lba, std::span<const std::byte> in) {
    auto* d = static_cast<Device*>(ctx);
    check(!in.empty() && in.size() % kSectorSize == 0);
    if (lba > d->bytes.size() / kSectorSize) return false;
    if (!base::subspan(d->bytes, lba * kSectorSize, in.size())) return false;
    std::copy(in.begin(), in.end(), d->bytes.begin() + static_cast<ptrdiff_t>(lba * kSectorSize));
    return true;
  }
};

const Key& fixed_key() {
  static Key key;
  static bool derived = derive_key(fuzz::kCdiSeal, key).has_value();
  check(derived);
  return key;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < fuzz::kPrefix) return 0;
  const uint8_t flags = data[0];
  const Measured measured = fuzz::measured_from(data[1], data[2]);
  auto input = std::as_bytes(std::span(data + fuzz::kPrefix, size - fuzz::kPrefix));

  // The body decoder on the raw bytes: an accepted body encodes back.
  if (input.size() >= kBodySize) {
    auto entry = detail::decode_body(input.first(kBodySize));
    if (entry) {
      const auto again = detail::encode_body(*entry);
      check(std::equal(again.begin(), again.end(), input.begin()));
    }
  }

  std::vector<std::byte> disk(
      input.begin(),
      input.begin() + static_cast<ptrdiff_t>(input.size() / kSectorSize * kSectorSize));
  if ((flags & fuzz::kFixCrcs) != 0) (void)detail::fix_primary_crcs(disk);
  Device backing{disk};
  const uint64_t real = disk.size() / kSectorSize;
  const BlockDevice dev{.ctx = &backing,
                        .sectors = (flags & fuzz::kOverclaim) != 0 ? real * 2 + 1 : real,
                        .read = &Device::read,
                        .write = &Device::write};
  const Key& key = fixed_key();

  auto partition = find_instance_partition(dev);
  if (partition) {
    check(partition->sectors >= kMinPartitionSectors);
    check(partition->first_lba < dev.sectors &&
          partition->sectors <= dev.sectors - partition->first_lba);
    auto seen = inspect(dev);
    auto stored = read_entries(dev, *partition, key.span(), fuzz::kInstanceHash);
    if (seen) {
      check(seen->partition == *partition);
      for (const SlotStatus& s : seen->slots) check(s.state != SlotState::kValid);
    }
    if (seen && stored) {
      for (size_t i = 0; i < 2; ++i) {
        check((seen->slots[i].state == SlotState::kEmpty) ==
              (stored->slots[i].state == SlotState::kEmpty));
      }
    }
    if (stored && stored->current) {
      check(stored->slots[static_cast<size_t>(stored->slot)].state == SlotState::kValid);
      check(stored->current->sequence >= 1);
    }
  }

  if ((flags & fuzz::kCheckAndUpdate) != 0) {
    const uint32_t create = (flags & fuzz::kCreatePinned) != 0 ? kFlagPinSoftware : 0;
    auto out = check_and_update(dev, fuzz::kCdiSeal, fuzz::kInstanceHash, measured, create,
                                fuzz::counter_random);
    if (out) {
      check(partition.has_value());
      check(out->entry.authority_hash == measured.authority_hash &&
            out->entry.mode == measured.mode);
      check(out->entry.code_hash == measured.code_hash);
      check(out->entry.rollback_index == measured.rollback_index);
      if (out->previous) check(out->previous->rollback_index <= out->entry.rollback_index);
      auto again = check_and_update(dev, fuzz::kCdiSeal, fuzz::kInstanceHash, measured, create,
                                    fuzz::counter_random);
      check(again.has_value());
      check(again->verdict == Verdict::kSame);
      check(again->entry == out->entry && again->slot == out->slot);
    }
  }
  return 0;
}

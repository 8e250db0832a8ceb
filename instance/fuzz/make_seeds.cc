// Writes the instance fuzzer's seeds (fuzz_inputs.h's format): compact disks
// (a 4-entry GPT array, the 17-sector partition at LBA 3, the backup GPT)
// made and sealed by the library itself with the harness's fixed inputs.
//
// usage: instance_make_seeds OUT_FRESH OUT_ONE OUT_TWO OUT_TORN OUT_PINNED
#include <cstdio>
#include <vector>

#include "fuzz/fuzz_inputs.h"
#include "gpt_layout.h"
#include "image_layout.h"
#include "instance/instance.h"

namespace {

using namespace instance;

constexpr uint64_t kPartitionLba = 3;

std::vector<std::byte> compact_disk() {
  std::vector<std::byte> disk((kPartitionLba + kMinPartitionSectors + 2) * kSectorSize);
  auto ok = detail::write_gpt(disk, {.entry_count = 4,
                                     .partition_lba = kPartitionLba,
                                     .partition_sectors = kMinPartitionSectors,
                                     .guids = {},
                                     .name = kInstancePartitionName});
  if (!ok) return {};
  const auto header = detail::instance_header_sector();
  std::copy(header.begin(), header.end(), disk.begin() + kPartitionLba * kSectorSize);
  return disk;
}

bool boot(std::vector<std::byte>& disk, uint8_t selector, uint8_t rollback, uint32_t flags) {
  MemoryDisk mem(disk);
  auto out = check_and_update(mem.device(), fuzz::kCdiSeal, fuzz::kInstanceHash,
                              fuzz::measured_from(selector, rollback), flags, fuzz::counter_random);
  if (!out) std::fprintf(stderr, "make_seeds: %s\n", to_string(out.error().error).data());
  return out.has_value();
}

bool write_seed(const char* path, uint8_t flags, uint8_t selector, uint8_t rollback,
                const std::vector<std::byte>& disk) {
  std::FILE* f = std::fopen(path, "wb");
  if (f == nullptr) return false;
  const uint8_t prefix[fuzz::kPrefix] = {flags, selector, rollback};
  bool ok = std::fwrite(prefix, 1, sizeof(prefix), f) == sizeof(prefix) &&
            std::fwrite(disk.data(), 1, disk.size(), f) == disk.size();
  return std::fclose(f) == 0 && ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: instance_make_seeds FRESH ONE TWO TORN PINNED\n");
    return 2;
  }
  const uint8_t run = fuzz::kCheckAndUpdate;
  auto fresh = compact_disk();
  auto one = fresh;
  auto two = fresh;
  auto pinned = fresh;
  if (fresh.empty() || !boot(one, 0, 3, 0) || !boot(two, 0, 3, 0) || !boot(two, 1, 4, 0) ||
      !boot(pinned, 2, 3, kFlagPinSoftware)) {
    return 1;
  }
  // Slot A (sequence 1) of `two` garbled mid-entry: a torn write.
  auto torn = two;
  for (size_t i = 100; i < 140; ++i) {
    torn[(kPartitionLba + kSlotBlock[0]) * kSectorSize + i] = std::byte{0xa5};
  }
  // The pinned seed's header CRC zeroed: only kFixCrcs gets past it.
  for (size_t i = 0; i < 4; ++i) pinned[kSectorSize + detail::kHdrCrc + i] = std::byte{0};
  const bool ok = write_seed(argv[1], run, 0, 3, fresh) && write_seed(argv[2], run, 1, 3, one) &&
                  write_seed(argv[3], run, 1, 4, two) && write_seed(argv[4], run, 1, 5, torn) &&
                  write_seed(argv[5], run | fuzz::kFixCrcs | fuzz::kCreatePinned, 3, 3, pinned);
  return ok ? 0 : 1;
}

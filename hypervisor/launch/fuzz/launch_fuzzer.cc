// libFuzzer harness: what hyp.bin does with the launch before any VM exists.
// An input is one byte L, L bytes of opt/pvm/launch, 8 bytes of the machine's
// RAM size (little-endian; missing bytes are 0), then the fw_cfg file
// directory (fuzz/make_seeds.py writes the seeds). Checked:
//   - parse_header: an accepted header validates, and encodes back to the
//     exact bytes it came from;
//   - find_file / find_launch_files: never read outside the directory (ASan);
//     a file found has a selector in the file range;
//   - check_launch on the header (or a fixed valid one when it is refused)
//     and the directory's sizes: a Plan's regions are inside VM RAM, where
//     the header says, of the files' sizes, and pairwise disjoint; VM RAM
//     plus the hypervisor's reserve fits the machine.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

#include "launch/fw_cfg.h"
#include "launch/header.h"

namespace {

// A failure of the library's own promises (not of the input): crash so
// libFuzzer keeps the reproducer, saying which.
#define check(ok)                                                                     \
  do {                                                                                \
    if (!(ok)) {                                                                      \
      std::fprintf(stderr, "launch_fuzzer.cc:%d: check failed: %s\n", __LINE__, #ok); \
      std::abort();                                                                   \
    }                                                                                 \
  } while (0)

void check_plan(const launch::Plan& plan, const launch::FileSizes& sizes, uint64_t machine_ram) {
  const launch::Header& h = plan.header;
  check(launch::validate_header(h).has_value());
  check(plan.ram.base == launch::kRamBase && plan.ram.size == h.ram_size);
  check(h.ram_size <= launch::kMaxVmRamSize && machine_ram >= launch::kMachineRamSize);
  check(plan.ram.contains(plan.dt_window) && plan.ram.contains(plan.pvmfw_window));
  check(plan.ram.contains(plan.payload) && plan.payload.base == h.payload_ipa);
  check(sizes.payload && plan.payload.size == *sizes.payload && !plan.payload.empty());
  check(!plan.payload.overlaps(plan.dt_window) && !plan.payload.overlaps(plan.pvmfw_window));
  check(sizes.dt && plan.dt_size == *sizes.dt && plan.dt_size <= plan.dt_window.size);
  check(sizes.pvmfw_image && plan.pvmfw_image_size == *sizes.pvmfw_image);
  check(plan.pvmfw_image_size > 0 && plan.pvmfw_image_size <= launch::kPvmfwImageMaxSize);
  check(sizes.uds && *sizes.uds == launch::kUdsSize);
  check(plan.initrd.has_value() == (h.initrd_ipa != 0));
  check(plan.initrd.has_value() == sizes.initrd.has_value());
  if (plan.initrd) {
    check(plan.ram.contains(*plan.initrd) && plan.initrd->base == h.initrd_ipa);
    check(plan.initrd->size == *sizes.initrd && !plan.initrd->empty());
    check(!plan.initrd->overlaps(plan.dt_window) && !plan.initrd->overlaps(plan.pvmfw_window));
    check(!plan.initrd->overlaps(plan.payload));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto input = std::as_bytes(std::span(data, size));
  if (input.empty()) return 0;
  const size_t header_len = std::min<size_t>(std::to_integer<size_t>(input[0]), input.size() - 1);
  const auto header_bytes = input.subspan(1, header_len);
  auto rest = input.subspan(1 + header_len);
  uint64_t machine_ram = 0;
  for (size_t i = 0; i < 8 && i < rest.size(); ++i) {
    machine_ram |= std::to_integer<uint64_t>(rest[i]) << (8 * i);
  }
  const auto dir = rest.subspan(std::min<size_t>(8, rest.size()));

  auto header = launch::parse_header(header_bytes);
  if (header) {
    check(launch::validate_header(*header).has_value());
    const auto again = launch::encode_header(*header);
    check(header_bytes.size() == again.size() &&
          std::equal(again.begin(), again.end(), header_bytes.begin()));
  }

  auto files = launch::fw_cfg::find_launch_files(dir);
  if (!files) return 0;
  for (const auto* f : {&files->launch, &files->pvmfw_image, &files->dt, &files->payload,
                        &files->initrd, &files->uds}) {
    check(!*f || ((*f)->select >= launch::fw_cfg::kFileFirst &&
                  (*f)->select <= launch::fw_cfg::kFileLast));
  }
  const launch::FileSizes sizes = files->sizes();
  // A refused header still exercises the file checks through a valid one.
  const launch::Header fallback{.ram_size = 1ull << 30, .payload_ipa = 0x4040'0000};
  const launch::Header& h = header ? *header : fallback;
  auto plan = launch::check_launch(h, sizes, machine_ram);
  if (plan) check_plan(*plan, sizes, machine_ram);
  return 0;
}

#include "launch/header.h"

#include <algorithm>

#include "base/reader.h"

namespace launch {
namespace {

// The header is little-endian; base::Reader bounds every read (and reads
// big-endian only), so the bytes come from it and are assembled here.
class LeReader {
 public:
  explicit LeReader(std::span<const std::byte> bytes) : reader_(bytes) {}

  std::optional<std::span<const std::byte>> bytes(uint64_t n) { return reader_.bytes(n); }
  template <typename T>
  std::optional<T> le() {
    auto b = reader_.bytes(sizeof(T));
    if (!b) return std::nullopt;
    T v = 0;
    for (size_t i = sizeof(T); i-- > 0;) v = static_cast<T>((v << 8) | std::to_integer<T>((*b)[i]));
    return v;
  }

 private:
  base::Reader reader_;
};

template <typename T>
void put_le(std::span<std::byte> out, size_t offset, T value) {
  for (size_t i = 0; i < sizeof(T); ++i) {
    out[offset + i] = static_cast<std::byte>(value >> (8 * i));
  }
}

constexpr bool page_aligned(uint64_t v) { return v % kPageSize == 0; }

// Field offsets (docs/hypervisor.md, "Launch description").
constexpr size_t kOffMagic = 0;
constexpr size_t kOffVersion = 4;
constexpr size_t kOffHeaderSize = 8;
constexpr size_t kOffFlags = 12;
constexpr size_t kOffRamSize = 16;
constexpr size_t kOffCpus = 24;
constexpr size_t kOffReserved0 = 28;
constexpr size_t kOffDt = 32;
constexpr size_t kOffPayload = 40;
constexpr size_t kOffInitrd = 48;
constexpr size_t kOffReserved1 = 56;
static_assert(kOffReserved1 + 8 == kHeaderSize);

}  // namespace

std::expected<Header, Error> parse_header(std::span<const std::byte> file) {
  LeReader r(file);
  auto magic = r.bytes(kMagic.size());
  if (!magic) return std::unexpected(Error::kBadSize);
  if (!std::equal(magic->begin(), magic->end(), kMagic.begin(),
                  [](std::byte b, char c) { return b == static_cast<std::byte>(c); })) {
    return std::unexpected(Error::kBadMagic);
  }
  auto version = r.le<uint32_t>();
  if (!version) return std::unexpected(Error::kBadSize);
  if (*version != kVersion) return std::unexpected(Error::kBadVersion);
  auto header_size = r.le<uint32_t>();
  if (!header_size || *header_size != kHeaderSize || file.size() != kHeaderSize) {
    return std::unexpected(Error::kBadSize);
  }
  // The file is 64 bytes: the remaining fields are all there.
  auto flags = r.le<uint32_t>();
  auto ram_size = r.le<uint64_t>();
  auto cpus = r.le<uint32_t>();
  auto reserved0 = r.le<uint32_t>();
  auto dt = r.le<uint64_t>();
  auto payload = r.le<uint64_t>();
  auto initrd = r.le<uint64_t>();
  auto reserved1 = r.le<uint64_t>();
  if (!flags || !ram_size || !cpus || !reserved0 || !dt || !payload || !initrd || !reserved1) {
    return std::unexpected(Error::kBadSize);
  }
  const Header header{.flags = *flags,
                      .ram_size = *ram_size,
                      .cpus = *cpus,
                      .dt_ipa = *dt,
                      .payload_ipa = *payload,
                      .initrd_ipa = *initrd,
                      .reserved0 = *reserved0,
                      .reserved1 = *reserved1};
  if (auto valid = validate_header(header); !valid) return std::unexpected(valid.error());
  return header;
}

std::expected<void, Error> validate_header(const Header& h) {
  if ((h.flags & ~kKnownFlags) != 0) return std::unexpected(Error::kBadFlags);
  const auto ram = base::Range::make(kRamBase, h.ram_size);
  if (h.ram_size % kRamAlignment != 0 || h.ram_size < kMinRamSize || !ram) {
    return std::unexpected(Error::kBadMemorySize);
  }
  if (h.cpus < 1 || h.cpus > kMaxCpus) return std::unexpected(Error::kBadCpuCount);
  if (h.reserved0 != 0 || h.reserved1 != 0) return std::unexpected(Error::kReservedNotZero);
  if (h.dt_ipa != kDtIpa) return std::unexpected(Error::kDtAddress);
  const auto in_ram = [&](uint64_t ipa) { return ipa >= ram->base && ipa < ram->end(); };
  if (!page_aligned(h.payload_ipa) || !in_ram(h.payload_ipa)) {
    return std::unexpected(Error::kPayloadAddress);
  }
  if (h.initrd_ipa != 0 && (!page_aligned(h.initrd_ipa) || !in_ram(h.initrd_ipa))) {
    return std::unexpected(Error::kInitrdAddress);
  }
  return {};
}

std::array<std::byte, kHeaderSize> encode_header(const Header& h) {
  std::array<std::byte, kHeaderSize> out{};
  for (size_t i = 0; i < kMagic.size(); ++i) out[kOffMagic + i] = static_cast<std::byte>(kMagic[i]);
  put_le<uint32_t>(out, kOffVersion, kVersion);
  put_le<uint32_t>(out, kOffHeaderSize, static_cast<uint32_t>(kHeaderSize));
  put_le<uint32_t>(out, kOffFlags, h.flags);
  put_le<uint64_t>(out, kOffRamSize, h.ram_size);
  put_le<uint32_t>(out, kOffCpus, h.cpus);
  put_le<uint32_t>(out, kOffReserved0, h.reserved0);
  put_le<uint64_t>(out, kOffDt, h.dt_ipa);
  put_le<uint64_t>(out, kOffPayload, h.payload_ipa);
  put_le<uint64_t>(out, kOffInitrd, h.initrd_ipa);
  put_le<uint64_t>(out, kOffReserved1, h.reserved1);
  return out;
}

std::expected<Plan, Refusal> check_launch(const Header& h, const FileSizes& sizes,
                                          uint64_t machine_ram_size) {
  if (auto valid = validate_header(h); !valid) return std::unexpected(Refusal{valid.error()});

  struct Required {
    const std::optional<uint64_t>& size;
    std::string_view name;
  };
  for (const Required& f :
       {Required{sizes.launch, kFileLaunch}, Required{sizes.pvmfw_image, kFilePvmfwImage},
        Required{sizes.dt, kFileDt}, Required{sizes.payload, kFilePayload},
        Required{sizes.uds, kFileUds}}) {
    if (!f.size) return std::unexpected(Refusal{Error::kMissingFile, f.name});
  }
  if (*sizes.launch != kHeaderSize) return std::unexpected(Refusal{Error::kBadSize, kFileLaunch});

  // The VM's RAM ends below the hypervisor's, which the machine must hold.
  if (h.ram_size > kMaxVmRamSize || machine_ram_size < kMachineRamSize) {
    return std::unexpected(Refusal{Error::kMemoryExceedsMachine});
  }
  if (*sizes.pvmfw_image == 0 || *sizes.pvmfw_image > kPvmfwImageMaxSize) {
    return std::unexpected(Refusal{Error::kPvmfwImageSize, kFilePvmfwImage});
  }
  if (*sizes.uds != kUdsSize) return std::unexpected(Refusal{Error::kUdsSize, kFileUds});
  if (*sizes.dt == 0 || *sizes.dt > kDtMaxSize) {
    return std::unexpected(Refusal{Error::kDtSize, kFileDt});
  }
  if ((h.initrd_ipa != 0) != sizes.initrd.has_value()) {
    return std::unexpected(Refusal{Error::kInitrdMismatch, kFileInitrd});
  }

  Plan plan{.header = h,
            .ram = {kRamBase, h.ram_size},  // validate_header: the end does not overflow
            .dt_window = {kDtIpa, kDtMaxSize},
            .dt_size = *sizes.dt,
            .pvmfw_window = {kPvmfwWindowIpa, kPvmfwWindowSize},
            .payload = {},
            .initrd = std::nullopt,
            .pvmfw_image_size = *sizes.pvmfw_image};
  // Both fixed windows lie in the first kMinRamSize bytes of RAM (constants.h).

  if (*sizes.payload == 0) return std::unexpected(Refusal{Error::kPayloadSize, kFilePayload});
  const auto payload = base::Range::make(h.payload_ipa, *sizes.payload);
  if (!payload || !plan.ram.contains(*payload)) {
    return std::unexpected(Refusal{Error::kPayloadOutsideRam, kFilePayload});
  }
  if (payload->overlaps(plan.dt_window)) {
    return std::unexpected(Refusal{Error::kPayloadOverlap, "dt window"});
  }
  if (payload->overlaps(plan.pvmfw_window)) {
    return std::unexpected(Refusal{Error::kPayloadOverlap, "pvmfw window"});
  }
  plan.payload = *payload;

  if (sizes.initrd) {
    if (*sizes.initrd == 0) return std::unexpected(Refusal{Error::kInitrdSize, kFileInitrd});
    const auto initrd = base::Range::make(h.initrd_ipa, *sizes.initrd);
    if (!initrd || !plan.ram.contains(*initrd)) {
      return std::unexpected(Refusal{Error::kInitrdOutsideRam, kFileInitrd});
    }
    if (initrd->overlaps(plan.dt_window)) {
      return std::unexpected(Refusal{Error::kInitrdOverlap, "dt window"});
    }
    if (initrd->overlaps(plan.pvmfw_window)) {
      return std::unexpected(Refusal{Error::kInitrdOverlap, "pvmfw window"});
    }
    if (initrd->overlaps(plan.payload)) {
      return std::unexpected(Refusal{Error::kInitrdOverlap, "payload"});
    }
    plan.initrd = *initrd;
  }
  return plan;
}

}  // namespace launch

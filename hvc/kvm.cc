#include "hvc/kvm.h"

namespace hvc {
namespace {

Status status_of(uint64_t x0) {
  const int64_t v = (x0 >> 32) == 0 ? static_cast<int32_t>(static_cast<uint32_t>(x0))
                                    : static_cast<int64_t>(x0);
  switch (v) {
    case 0:
      return Status::kSuccess;
    case -2:
      return Status::kNotRequired;
    case -3:
      return Status::kInvalidParameter;
    default:
      return Status::kNotSupported;  // -1 and anything unknown: not available
  }
}

// A granule size answer: a non-zero power of two, or "not available".
std::expected<uint64_t, Status> granule_of(uint64_t x0) {
  const int64_t v = static_cast<int64_t>(x0);
  if (v <= 0 || (x0 & (x0 - 1)) != 0) return std::unexpected(status_of(x0));
  return x0;
}

Status call_ipa(Conduit c, uint32_t fid, uint64_t ipa) {
  return status_of(call(c, fid, Args{.x1 = ipa}).x0);
}

}  // namespace

Hypervisor discover(Conduit conduit) {
  Hypervisor h;
  h.kvm = hypervisor_is_kvm(conduit);
  if (!h.kvm) return h;
  const Result f = call(conduit, fid::kKvmFeatures);
  h.features.words = {static_cast<uint32_t>(f.x0), static_cast<uint32_t>(f.x1),
                      static_cast<uint32_t>(f.x2), static_cast<uint32_t>(f.x3)};
  if (!h.features.has(fid::kHypMeminfo) || !h.features.has(fid::kMemShare) ||
      !h.features.has(fid::kMemUnshare)) {
    return h;
  }
  auto meminfo = granule_of(call(conduit, fid::kHypMeminfo).x0);
  if (!meminfo) return h;
  h.memory_granule = *meminfo;
  h.protected_vm = true;
  // The MMIO guard is a service of its own (a VM may be created without it,
  // as pKVM VMs were before it existed): advertised, and INFO answering.
  if (h.features.has(fid::kMmioGuardInfo) && h.features.has(fid::kMmioGuardEnroll) &&
      h.features.has(fid::kMmioGuardMap) && h.features.has(fid::kMmioGuardUnmap)) {
    if (auto guard = granule_of(call(conduit, fid::kMmioGuardInfo).x0)) h.mmio_granule = *guard;
  }
  return h;
}

Status mem_share(Conduit c, uint64_t ipa) { return call_ipa(c, fid::kMemShare, ipa); }
Status mem_unshare(Conduit c, uint64_t ipa) { return call_ipa(c, fid::kMemUnshare, ipa); }
Status mmio_guard_enroll(Conduit c) { return status_of(call(c, fid::kMmioGuardEnroll).x0); }
Status mmio_guard_map(Conduit c, uint64_t ipa) { return call_ipa(c, fid::kMmioGuardMap, ipa); }
Status mmio_guard_unmap(Conduit c, uint64_t ipa) { return call_ipa(c, fid::kMmioGuardUnmap, ipa); }

bool trng_available(Conduit conduit) {
  // TRNG_VERSION needs SMCCC >= 1.1 to be callable at all (DEN0098 §2.1).
  auto smccc = smccc_version(conduit);
  if (!smccc || (smccc->major == 1 && smccc->minor < 1)) return false;
  const uint64_t v = call(conduit, fid::kTrngVersion).x0;
  if (static_cast<int64_t>(static_cast<int32_t>(static_cast<uint32_t>(v))) < 0 ||
      (v >> 16) < 1) {
    return false;
  }
  return status_of(call(conduit, fid::kTrngFeatures, Args{.x1 = fid::kTrngRnd64}).x0) ==
         Status::kSuccess;
}

std::expected<std::array<uint64_t, 3>, Status> trng_rnd192(Conduit conduit, unsigned retries) {
  for (unsigned attempt = 0; attempt <= retries; ++attempt) {
    const Result r = call(conduit, fid::kTrngRnd64, Args{.x1 = 192});
    const int64_t v = static_cast<int64_t>(r.x0);
    if (v == 0) return std::array<uint64_t, 3>{r.x1, r.x2, r.x3};
    if (v != -3) return std::unexpected(status_of(r.x0));  // -3: NO_ENTROPY, try again
  }
  return std::unexpected(Status::kNotSupported);
}

}  // namespace hvc

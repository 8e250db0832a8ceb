// libFuzzer harness: random VMs and random sequences of guest calls and
// stage-2 faults against hyp::Vm, with a fake Stage2Ops that records what is
// mapped. After every step it checks the library against an independent
// model of the ABI (vm.h's table, written the slow and obvious way: one page,
// one granule at a time over std::set / std::vector) and the invariants the
// header promises:
//   - a page's state (private or shared) changes only by a MEM_SHARE /
//     MEM_UNSHARE answering SUCCESS, for its whole range; an unshare only
//     succeeds on shared pages, a share only on private ones;
//   - the fake stage 2 never holds a mapping that is not a 4 KiB granule of
//     one of the config's devices (never RAM, never fw_cfg or anything else);
//   - once enrolled, every mapped granule is guard-mapped, and enrolment is
//     never undone;
//   - a call answered with an error changes nothing (page states, mappings,
//     guard state, enrolment);
//   - every result is the one documented for its call, x4..x30 are never
//     written, and a refused create() writes nothing.
// Any violation abort()s so libFuzzer keeps the reproducer.
//
// Input: byte 0 = VM shape (bit 0 guard, bit 1 entropy source, bits 2-4
// vCPUs - 1, bits 5-7 RAM size), byte 1 = which candidate devices (bit 7: also
// a bad one, so init must refuse first), then steps of an op byte followed by
// its operands (see step()). Bytes past the end read as 0.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <set>
#include <span>
#include <utility>
#include <vector>

#include "vm/abi.h"
#include "vm/vm.h"

namespace {

using hyp::kGranule;
namespace abi = hyp::abi;

#define check(ok)                                                                 \
  do {                                                                            \
    if (!(ok)) {                                                                  \
      std::fprintf(stderr, "vm_fuzzer.cc:%d: check failed: %s\n", __LINE__, #ok); \
      std::abort();                                                               \
    }                                                                             \
  } while (0)

constexpr uint64_t kRam = 0x4000'0000;
constexpr std::array<uint64_t, 8> kRamPages = {1, 2, 63, 64, 65, 128, 130, 200};
constexpr uint64_t kFwCfg = 0x0902'0000;
// Candidate devices (none overlaps RAM or another), chosen by byte 1.
constexpr std::array<hyp::Region, 6> kCandidates = {
    hyp::Region{0x0900'0000, kGranule},          // PL011
    hyp::Region{0x0901'0000, kGranule},          // PL031
    hyp::Region{0x0a00'0000, 0x4000},            // virtio-mmio
    hyp::Region{kRam - kGranule, kGranule},      // touching RAM's start
    hyp::Region{0x1000'0000, 0x10'000},          // 16 granules
    hyp::Region{0xffff'ffff'ffff'c000, 0x2000},  // near the top of the address space
};
constexpr size_t kMaxSteps = 256;

class Input {
 public:
  explicit Input(std::span<const uint8_t> data) : data_(data) {}
  bool done() const { return pos_ >= data_.size(); }
  uint8_t u8() { return pos_ < data_.size() ? data_[pos_++] : 0; }
  uint64_t u64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t{u8()} << (8 * i);
    return v;
  }

 private:
  std::span<const uint8_t> data_;
  size_t pos_ = 0;
};

// The stage 2 and the entropy source.
struct Fake {
  const hyp::VmConfig* config = nullptr;
  std::set<uint64_t> mapped;
  bool map_ok = true;
  int entropy_budget = -1;  // successful draws left; -1: unlimited
  uint64_t next_entropy = 0x9e37'79b9'7f4a'7c15;

  bool allowed(uint64_t ipa) const {
    for (const hyp::Region& d : config->devices) {
      if (ipa >= d.base && ipa - d.base < d.size) return true;
    }
    return false;
  }
  bool in_ram(uint64_t ipa) const {
    return ipa >= config->ram_ipa && ipa - config->ram_ipa < config->ram_size;
  }

  static bool map(void* ctx, uint64_t ipa) {
    auto* f = static_cast<Fake*>(ctx);
    check(ipa % kGranule == 0);
    check(f->allowed(ipa));
    check(!f->in_ram(ipa));
    if (!f->map_ok) return false;
    f->mapped.insert(ipa);
    return true;
  }
  static void unmap(void* ctx, uint64_t ipa) {
    auto* f = static_cast<Fake*>(ctx);
    check(ipa % kGranule == 0);
    // Only what is mapped is ever unmapped.
    check(f->mapped.erase(ipa) == 1);
  }
  static bool random(void* ctx, uint64_t* out) {
    auto* f = static_cast<Fake*>(ctx);
    if (f->entropy_budget == 0) return false;
    if (f->entropy_budget > 0) --f->entropy_budget;
    *out = f->next_entropy;
    f->next_entropy = f->next_entropy * 6364136223846793005u + 1442695040888963407u;
    return true;
  }
};

// The model: what the VM's state must be.
struct Model {
  bool guard = false;
  bool rng = false;
  uint32_t vcpus = 1;
  std::vector<bool> shared;
  bool enrolled = false;
  std::set<uint64_t> guarded;
  std::set<uint64_t> mapped;  // what the fake must hold

  bool operator==(const Model&) const = default;
};

struct Expect {
  hyp::CallExit::Kind kind = hyp::CallExit::Kind::kResume;
  std::array<uint64_t, 4> x{};
  bool regs_kept = false;  // SYSTEM_OFF / RESET: only x0 is written (the clean ID)
  uint64_t target_mpidr = 0, entry = 0, context = 0;  // CPU_ON
};

constexpr uint64_t code(int64_t v) { return static_cast<uint64_t>(v); }

class Harness {
 public:
  Harness(const hyp::VmConfig& config, Model model) : config_(config), model_(std::move(model)) {
    fake_.config = &config_;
  }

  hyp::Stage2Ops ops() {
    return hyp::Stage2Ops{&fake_, &Fake::map, &Fake::unmap, model_.rng ? &Fake::random : nullptr};
  }
  Fake& fake() { return fake_; }
  std::vector<uint64_t>& storage() { return storage_; }
  unsigned char* vm_storage() { return vm_storage_; }
  void set_vm(hyp::Vm* vm) { vm_ = vm; }

  uint64_t ram_pages() const { return config_.ram_size / kGranule; }
  bool in_ram(uint64_t ipa) const { return fake_.in_ram(ipa); }
  bool device(uint64_t ipa) const { return fake_.allowed(ipa); }

  // --- The model's answer to one call ---
  Expect predict(const hyp::GuestRegs& r) {
    const auto fid = static_cast<uint32_t>(r.x[0]);
    const bool smc64 = (fid >> 30) & 1;
    const uint64_t a1 = smc64 ? r.x[1] : (r.x[1] & 0xffff'ffff);
    const uint64_t a2 = smc64 ? r.x[2] : (r.x[2] & 0xffff'ffff);
    const uint64_t a3 = smc64 ? r.x[3] : (r.x[3] & 0xffff'ffff);
    Expect e;
    const auto status = [&](int64_t v) {
      e.x = {code(v), 0, 0, 0};
      return e;
    };
    const bool trng = fid == abi::kTrngVersion || fid == abi::kTrngFeatures ||
                      fid == abi::kTrngGetUuid || fid == abi::kTrngRnd32 || fid == abi::kTrngRnd64;
    if (trng && !model_.rng) return status(-1);
    switch (fid) {
      case 0x8000'0000:
        return status(0x10001);
      case 0x8000'0001: {
        const auto q = static_cast<uint32_t>(a1);
        return status(q == 0x8000'0000 || q == 0x8000'0001 ? 0 : -1);
      }
      case 0x8600'ff01:
        e.x = {0xb66f'b428, 0xe911'c52e, 0x564b'caa9, 0x743a'004d};
        return e;
      case 0x8600'0000:
        return status(model_.guard ? 0x1fd : 0x1d);
      case 0xc600'0002:
        return status(a1 == 0 && a2 == 0 && a3 == 0 ? 4096 : -3);
      case 0xc600'0003:
      case 0xc600'0004:
        return status(share(fid == 0xc600'0003, a1, a2, a3));
      case 0xc600'0005:
        return status(model_.guard ? 4096 : -1);
      case 0xc600'0006:
        if (!model_.guard) return status(-1);
        enroll();
        return status(0);
      case 0xc600'0007:
        return status(guard_map(a1));
      case 0xc600'0008:
        return status(guard_unmap(a1));
      case 0x8400'0050:
        return status(0x10000);
      case 0x8400'0051: {
        const auto q = static_cast<uint32_t>(a1);
        return status(q == 0x8400'0050 || q == 0x8400'0051 || q == 0x8400'0052 ||
                              q == 0x8400'0053 || q == 0xc400'0053
                          ? 0
                          : -1);
      }
      case 0x8400'0052:
        e.x = {0x00e0'210d, 0xeb11'8443, 0x4452'7080, 0x4c5a'4e55};
        return e;
      case 0x8400'0053:
      case 0xc400'0053:
        return rnd(e, a1, smc64);
      case 0x8400'0000:
      case 0x8400'0001:
      case 0xc400'0001:
      case 0x8400'0002:
      case 0x8400'0004:
      case 0xc400'0004:
      case 0x8400'0006:
        e.kind = hyp::CallExit::Kind::kPsciForward;
        e.x = {fid, a1, a2, a3};
        return e;
      case 0x8400'000a: {
        const auto q = static_cast<uint32_t>(a1);
        if (q == 0x8400'0000 || q == 0x8400'0001 || q == 0xc400'0001 || q == 0x8400'0002 ||
            q == 0x8400'0004 || q == 0xc400'0004 || q == 0x8400'0006 || q == 0x8400'000a) {
          e.kind = hyp::CallExit::Kind::kPsciForward;
          e.x = {fid, a1, a2, a3};
          return e;
        }
        return status(q == 0x8400'0003 || q == 0xc400'0003 || q == 0x8400'0008 ||
                              q == 0x8400'0009 || q == 0x8000'0000
                          ? 0
                          : -1);
      }
      case 0x8400'0003:
      case 0xc400'0003: {
        // Targets: MPIDR Aff0 < vcpus, everything else 0.
        if (a1 >= model_.vcpus) return status(-2);
        if (!in_ram(a2)) return status(-9);
        e.kind = hyp::CallExit::Kind::kCpuOn;
        e.target_mpidr = a1;
        e.entry = a2;
        e.context = a3;
        return status(0);
      }
      case 0x8400'0008:
        e.kind = hyp::CallExit::Kind::kSystemOff;
        e.regs_kept = true;
        e.x[0] = fid;
        return e;
      case 0x8400'0009:
        e.kind = hyp::CallExit::Kind::kSystemReset;
        e.regs_kept = true;
        e.x[0] = fid;
        return e;
      default:
        return status(-1);
    }
  }

  // One call through the library, checked against the model.
  void call(const hyp::GuestRegs& in) {
    const Model before = model_;
    const std::set<uint64_t> fake_before = fake_.mapped;
    Expect want = predict(in);
    hyp::GuestRegs regs = in;
    const hyp::CallExit got = vm_->handle_call(regs);

    check(got.kind == want.kind);
    if (want.regs_kept) {
      check(regs.x[0] == want.x[0]);
      for (size_t i = 1; i < 31; ++i) check(regs.x[i] == in.x[i]);
    } else {
      for (size_t i = 0; i < 4; ++i) check(regs.x[i] == want.x[i]);
      for (size_t i = 4; i < 31; ++i) check(regs.x[i] == in.x[i]);
    }
    if (want.kind == hyp::CallExit::Kind::kCpuOn) {
      check(got.target_mpidr == want.target_mpidr);
      check(got.target_cpu == got.target_mpidr && got.target_cpu < model_.vcpus);
      check(got.entry == want.entry && in_ram(got.entry));
      check(got.context == want.context);
    }
    // A refusal changes nothing, in the model (so in the library, below) and
    // in the fake stage 2.
    if (want.kind == hyp::CallExit::Kind::kResume && static_cast<int64_t>(want.x[0]) < 0) {
      check(model_ == before);
      check(fake_.mapped == fake_before);
    }
    // Page states change only through SHARE / UNSHARE answering SUCCESS.
    const auto fid = static_cast<uint32_t>(in.x[0]);
    const bool share_call = fid == abi::kMemShare || fid == abi::kMemUnshare;
    if (!share_call) {
      check(model_.shared == before.shared);
    } else if (model_.shared != before.shared) {
      check(regs.x[0] == 0);
    }
    verify();
    if (share_call) verify_pages();
  }

  void abort_at(uint64_t ipa, bool write) {
    const std::set<uint64_t> fake_before = fake_.mapped;
    const Model before = model_;
    const uint64_t g = ipa & ~(kGranule - 1);
    hyp::AbortExit want = hyp::AbortExit::kInject;
    if (device(g) && (!model_.enrolled || model_.guarded.count(g) != 0) && fake_.map_ok) {
      model_.mapped.insert(g);
      want = hyp::AbortExit::kRetry;
    }
    const hyp::AbortExit got = vm_->handle_abort(ipa, write);
    check(got == want);
    if (got == hyp::AbortExit::kInject) {
      check(model_ == before);
      check(fake_.mapped == fake_before);
    } else {
      check(fake_.mapped.count(g) == 1);
    }
    verify();
  }

  // The library's state, the fake's and the model's agree, and the
  // invariants hold.
  void verify() const {
    check(vm_->enrolled() == model_.enrolled);
    check(!vm_->enrolled() || model_.guard);
    check(fake_.mapped == model_.mapped);
    for (uint64_t g : fake_.mapped) {
      check(g % kGranule == 0 && device(g) && !in_ram(g) && g != kFwCfg);
      check(vm_->device_mapped(g));
      if (vm_->enrolled()) check(vm_->guard_mapped(g));
    }
    size_t granules = 0;
    for (const hyp::Region& d : config_.devices) {
      for (uint64_t off = 0; off < d.size; off += kGranule) {
        const uint64_t g = d.base + off;
        ++granules;
        check(vm_->is_device(g) && vm_->is_device(g + kGranule - 1));
        check(vm_->device_mapped(g) == (fake_.mapped.count(g) != 0));
        check(vm_->guard_mapped(g) == (model_.guarded.count(g) != 0));
      }
    }
    check(vm_->mapped_device_granules() == fake_.mapped.size());
    check(vm_->guard_mapped_granules() == model_.guarded.size());
    check(granules >= fake_.mapped.size());
    check(!vm_->is_device(kFwCfg));

    check(vm_->shared_pages() == model_shared_);
    check(!vm_->page_state(config_.ram_ipa - 1).has_value());
    check(!vm_->page_state(config_.ram_ipa + config_.ram_size).has_value());
  }

  // Every page's state against the model: after each MEM_SHARE / UNSHARE
  // (and at the end of the input), as sweeping all of RAM after every step
  // would cost most of the run time; between sweeps the shared-page count and
  // the last sweep pin down the rest: a page that another call changed fails
  // the next sweep.
  void verify_pages() const {
    uint64_t shared = 0;
    for (uint64_t p = 0; p < ram_pages(); ++p) {
      const auto s = vm_->page_state(config_.ram_ipa + p * kGranule + (p % kGranule));
      check(s.has_value());
      check((*s == hyp::PageState::kShared) == model_.shared[p]);
      shared += model_.shared[p] ? 1 : 0;
    }
    check(shared == model_shared_);
    check(vm_->shared_pages() == shared);
  }

  Model& model() { return model_; }

 private:
  int64_t share(bool to_shared, uint64_t ipa, uint64_t count, uint64_t x3) {
    if (x3 != 0 || ipa % kGranule != 0 || !in_ram(ipa)) return -3;
    const uint64_t n = count == 0 ? 1 : count;
    const uint64_t first = (ipa - config_.ram_ipa) / kGranule;
    if (n > ram_pages() || first + n > ram_pages()) return -3;
    for (uint64_t p = first; p < first + n; ++p) {
      if (model_.shared[p] == to_shared) return -3;
    }
    for (uint64_t p = first; p < first + n; ++p) model_.shared[p] = to_shared;
    model_shared_ = to_shared ? model_shared_ + n : model_shared_ - n;
    return 0;
  }
  void enroll() {
    model_.enrolled = true;
    std::set<uint64_t> kept;
    for (uint64_t g : model_.mapped) {
      if (model_.guarded.count(g) != 0) kept.insert(g);
    }
    model_.mapped = kept;
  }
  int64_t guard_map(uint64_t ipa) {
    if (!model_.guard) return -1;
    if (ipa % kGranule != 0 || !device(ipa)) return -3;
    model_.guarded.insert(ipa);
    enroll();
    if (model_.mapped.count(ipa) == 0 && fake_.map_ok) model_.mapped.insert(ipa);
    return 0;
  }
  int64_t guard_unmap(uint64_t ipa) {
    if (!model_.guard) return -1;
    if (ipa % kGranule != 0 || model_.guarded.erase(ipa) == 0) return -3;
    model_.mapped.erase(ipa);
    return 0;
  }
  Expect& rnd(Expect& e, uint64_t bits, bool smc64) {
    const uint64_t max = smc64 ? 192 : 96;
    if (bits == 0 || bits > max) {
      e.x = {code(-2), 0, 0, 0};
      return e;
    }
    // Replay the fake's source on a copy: the values the library must draw.
    Fake source = fake_;
    std::array<uint64_t, 3> v{};
    for (uint64_t k = 0; k * 64 < bits; ++k) {
      if (!Fake::random(&source, &v[k])) {
        e.x = {code(-3), 0, 0, 0};
        return e;
      }
    }
    // Keep only the low `bits` bits of the 192-bit number v[2]:v[1]:v[0].
    for (uint64_t bit = bits; bit < 192; ++bit) v[bit / 64] &= ~(uint64_t{1} << (bit % 64));
    if (smc64) {
      e.x = {0, v[2], v[1], v[0]};
    } else {
      e.x = {0, v[1] & 0xffff'ffff, v[0] >> 32, v[0] & 0xffff'ffff};
    }
    return e;
  }

  hyp::VmConfig config_;
  Model model_;
  uint64_t model_shared_ = 0;  // pages shared in model_
  Fake fake_;
  std::vector<uint64_t> storage_;
  alignas(hyp::Vm) unsigned char vm_storage_[sizeof(hyp::Vm)]{};
  hyp::Vm* vm_ = nullptr;
};

// An IPA the step works on, from a selector byte and operands.
uint64_t pick_ipa(Input& in, const hyp::VmConfig& config) {
  const uint8_t sel = in.u8();
  const uint64_t pages = config.ram_size / kGranule;
  switch (sel % 8) {
    case 0:
      return config.ram_ipa + (in.u8() % pages) * kGranule;
    case 1:
      return config.ram_ipa + (in.u8() % pages) * kGranule + (in.u8() % 16) * 0x101;
    case 2:
    case 3: {
      // A granule of a candidate device (allowed or not in this VM).
      const hyp::Region& d = kCandidates[in.u8() % kCandidates.size()];
      const uint64_t g = d.base + (in.u8() % (d.size / kGranule)) * kGranule;
      return sel % 8 == 2 ? g : g + in.u8() * 8;
    }
    case 4:
      return kFwCfg + (in.u8() % 2) * kGranule;
    case 5: {
      const uint8_t edge = in.u8() % 4;
      if (edge == 0) return config.ram_ipa - kGranule;
      if (edge == 1) return config.ram_ipa + config.ram_size;
      if (edge == 2) return config.ram_ipa + config.ram_size - kGranule;
      return 0;
    }
    case 6:
      return in.u64();
    default:
      return in.u64() & ~(kGranule - 1);
  }
}

uint64_t pick_count(Input& in) {
  const uint8_t sel = in.u8();
  if (sel < 128) return sel % 5;
  if (sel < 240) return sel - 120;
  return in.u64();
}

// Every ID the library knows and a few neighbours.
constexpr std::array<uint32_t, 40> kIds = {
    0x8000'0000, 0x8000'0001, 0x8000'0002, 0x8000'8000, 0x8600'0000, 0x8600'ff01, 0x8600'ff00,
    0xc600'0002, 0xc600'0003, 0xc600'0004, 0xc600'0005, 0xc600'0006, 0xc600'0007, 0xc600'0008,
    0xc600'0009, 0x8600'0003, 0x4600'0007, 0x8400'0050, 0x8400'0051, 0x8400'0052, 0x8400'0053,
    0xc400'0053, 0xc400'0052, 0x8400'0000, 0x8400'0001, 0xc400'0001, 0x8400'0002, 0x8400'0003,
    0xc400'0003, 0x8400'0004, 0xc400'0004, 0x8400'0005, 0x8400'0006, 0x8400'0007, 0x8400'0008,
    0x8400'0009, 0x8400'000a, 0x8400'0012, 0xc400'0008, 0x0000'0000,
};

// A function ID with junk in the upper half of x0 sometimes.
uint64_t with_junk(Input& in, uint32_t fid) {
  const uint8_t j = in.u8();
  return j < 200 ? fid : (uint64_t{j} << 40) | (uint64_t{j} << 32) | fid;
}

void step(Harness& h, Input& in, const hyp::VmConfig& config) {
  hyp::GuestRegs r{};
  for (size_t i = 0; i < 31; ++i) r.x[i] = 0xa5a5'0000'0000'0000 | i;
  const uint8_t op = in.u8();
  switch (op % 14) {
    case 0:
    case 1:
      r.x[0] = with_junk(in, op % 14 == 0 ? abi::kMemShare : abi::kMemUnshare);
      r.x[1] = pick_ipa(in, config);
      r.x[2] = pick_count(in);
      r.x[3] = in.u8() < 240 ? 0 : in.u64();
      h.call(r);
      return;
    case 2:
    case 3:
      r.x[0] = with_junk(in, op % 14 == 2 ? abi::kMmioGuardMap : abi::kMmioGuardUnmap);
      r.x[1] = pick_ipa(in, config);
      r.x[2] = in.u8();
      h.call(r);
      return;
    case 4:
      r.x[0] = with_junk(in, in.u8() % 2 ? abi::kMmioGuardEnroll : abi::kMmioGuardInfo);
      h.call(r);
      return;
    case 5:
    case 6: {
      const uint64_t ipa = pick_ipa(in, config);
      h.abort_at(ipa, (in.u8() & 1) != 0);
      return;
    }
    case 7: {
      const uint8_t b = in.u8();
      r.x[0] = with_junk(in, b & 1 ? abi::kTrngRnd64 : abi::kTrngRnd32);
      const uint8_t bits = in.u8();
      r.x[1] = bits < 250 ? bits % 200 : in.u64();
      h.call(r);
      return;
    }
    case 8:
      r.x[0] = with_junk(in, in.u8() % 2 ? abi::kPsciCpuOn64 : abi::kPsciCpuOn32);
      r.x[1] = in.u8() < 200 ? in.u8() % 10 : in.u64();
      r.x[2] = pick_ipa(in, config);
      r.x[3] = in.u64();
      h.call(r);
      return;
    case 9:
    case 10: {
      // A known ID (or neighbour) with random-ish arguments.
      r.x[0] = with_junk(in, kIds[in.u8() % kIds.size()]);
      const uint8_t a = in.u8();
      r.x[1] = a < 128 ? kIds[a % kIds.size()] : (a < 200 ? pick_ipa(in, config) : in.u64());
      r.x[2] = in.u8() < 200 ? 0 : in.u64();
      r.x[3] = in.u8() < 200 ? 0 : in.u64();
      h.call(r);
      return;
    }
    case 11:
      h.fake().map_ok = !h.fake().map_ok;
      return;
    case 12: {
      const uint8_t e = in.u8();
      h.fake().entropy_budget = e < 128 ? -1 : (e % 4);
      return;
    }
    default:
      // Raw registers.
      r.x[0] = in.u64();
      r.x[1] = in.u64();
      r.x[2] = in.u64();
      r.x[3] = in.u64();
      h.call(r);
      return;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(std::span<const uint8_t>(data, size));
  const uint8_t shape = in.u8();
  const uint8_t device_mask = in.u8();

  std::vector<hyp::Region> devices;
  for (size_t i = 0; i < kCandidates.size(); ++i) {
    if ((device_mask >> i) & 1) devices.push_back(kCandidates[i]);
  }
  const hyp::VmConfig config{
      .ram_ipa = kRam,
      .ram_size = kRamPages[(shape >> 5) & 7] * kGranule,
      .mmio_guard = (shape & 1) != 0,
      .devices = devices,
      .vcpus = static_cast<uint32_t>(((shape >> 2) & 7) + 1),
  };
  Model model;
  model.guard = config.mmio_guard;
  model.rng = (shape & 2) != 0;
  model.vcpus = config.vcpus;
  model.shared.assign(config.ram_size / kGranule, false);

  Harness run(config, model);
  run.storage().assign(hyp::Vm::state_words(config.ram_size) + (in.u8() % 2), 0xdead'beef);

  if ((device_mask & 0x80) != 0) {
    // A device over RAM: refused, and nothing written.
    std::vector<hyp::Region> bad = devices;
    bad.push_back(
        hyp::Region{kRam + kGranule * (in.u8() % (config.ram_size / kGranule)), kGranule});
    hyp::VmConfig c = config;
    c.devices = bad;
    const auto r = hyp::Vm::create(run.vm_storage(), c, run.ops(), run.storage());
    check(!r.has_value());
    check(r.error() == hyp::VmError::kDeviceInRam);
    for (uint64_t w : run.storage()) check(w == 0xdead'beef);
    for (size_t i = 0; i < sizeof(hyp::Vm); ++i) check(run.vm_storage()[i] == 0);
  }

  const auto r = hyp::Vm::create(run.vm_storage(), config, run.ops(), run.storage());
  check(r.has_value());
  run.set_vm(*r);
  run.verify();
  run.verify_pages();

  for (size_t n = 0; n < kMaxSteps && !in.done(); ++n) step(run, in, config);
  run.verify_pages();
  return 0;
}

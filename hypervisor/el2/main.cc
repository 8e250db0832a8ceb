// The hypervisor's boot flow (docs/hypervisor.md "Boot, in order"): read and
// check the launch description, verify pvmfw.img against the platform key,
// derive pvmfw's DICE layer from the device secret, load the VM, build its
// stage 2 and enter pvmfw at EL1. Any refusal prints one line and powers the
// machine off; no VM starts.
#include <board/layout.h>
#include <el2/layout.h>

#include <array>
#include <cstring>
#include <new>
#include <span>
#include <string_view>

#include "base/sysreg.h"
#include "base/wipe.h"
#include "libfdt.h"
#include "dice/config.h"
#include "dice/pvmfw.h"
#include "el2/fw_cfg.h"
#include "vm/vm.h"
#include "el2/hyp.h"
#include "el2/mmu.h"
#include "el2/sysregs.h"
#include "entry/console.h"
#include "entry/heap.h"
#include "launch/constants.h"
#include "launch/fw_cfg.h"
#include "launch/header.h"
#include "verify/verify.h"

extern "C" char __stack_bottom[], __stack_top[], __secondary_stacks[];
extern "C" [[noreturn]] void hyp_enter_guest(uint64_t x0, uint64_t stack_top);

extern "C" void hyp_wipe_stack_below_sp(uint64_t bottom);

namespace hyp_key {
// The platform's AVB public key blob, built in (Meson option platform-key).
extern const std::byte platform_key[];
extern const size_t platform_key_size;
}  // namespace hyp_key

namespace el2 {
namespace {

// ---- State ------------------------------------------------------------------------

// Stage-2 tables: RAM in 2 MiB blocks, pvmfw's pages, the GIC, and up to a
// few hundred lazily mapped device granules.
constexpr size_t kStage2Tables = 32;
alignas(memory::kPageSize) constinit std::array<memory::Table, kStage2Tables> g_s2_pool{};
alignas(memory::PageTables) constinit unsigned char g_s2_storage[sizeof(memory::PageTables)]{};
alignas(hyp::Vm) constinit unsigned char g_vm_storage[sizeof(hyp::Vm)]{};
constinit hyp::Vm* g_vm = nullptr;
// The VM's page states: one bit per 4 KiB of up to 4 GiB of RAM.
constinit std::array<uint64_t, hyp::Vm::state_words(hyp::kMaxRamSize)> g_page_state{};
constinit std::array<CpuSlot, HYP_MAX_CPUS> g_cpus{};
constinit unsigned g_vcpus = 1;
constinit bool g_secrets_live = false;

// Secrets: the device secret as read, and pvmfw's handover before it is
// copied into the VM's config window.
alignas(64) constinit std::array<uint8_t, 64> g_uds{};
alignas(64) constinit std::array<std::byte, 4096> g_handover{};
// Bytes of pvmfw's config blob (its CDIs) written into the VM's RAM for a VM
// that has not run yet.
constinit size_t g_config_pending = 0;

// fw_cfg's file directory (QEMU has a few dozen files; 64-byte entries).
alignas(64) constinit std::array<std::byte, 8192> g_dir{};

// Devices the VM may reach (docs/hypervisor.md): PL011, PL031, virtio-mmio.
constexpr std::array<hyp::Region, 3> kDevices = {{
    {0x09000000, 0x1000},
    {0x09010000, 0x1000},
    {0x0a000000, 0x4000},
}};
// Passed through for good: the GICv2 distributor and CPU interface.
constexpr std::array<hyp::Region, 2> kGic = {{{0x08000000, 0x10000}, {0x08010000, 0x10000}}};

uint64_t counter() {
  uint64_t v;
  asm volatile("isb\n\tmrs %0, cntvct_el0" : "=r"(v));
  return v;
}

// The link map's constants (el2/layout.h, for the assembly and the linker) and
// the launcher's (launch/constants.h) describe one layout.
static_assert(HYP_RAM_BASE == launch::kHypBase && HYP_RESERVED_SIZE == launch::kHypReservedSize);
static_assert(HYP_STAGING_BASE == launch::kPvmfwImagePhysBase &&
              HYP_STAGING_SIZE == launch::kPvmfwImageMaxSize);
static_assert(VM_RAM_PA == launch::kVmRamPhysBase && VM_RAM_IPA == launch::kRamBase);

[[noreturn]] void refuse(const char* what, std::string_view reason, std::string_view detail = {}) {
  wipe_secrets();
  console::print("hyp: %s refused: %.*s", what, static_cast<int>(reason.size()), reason.data());
  if (!detail.empty()) console::print(" (%.*s)", static_cast<int>(detail.size()), detail.data());
  console::print("\n");
  power_off();
}
[[noreturn]] void refuse(const char* what, const launch::Refusal& r) {
  refuse(what, launch::to_string(r.error), r.detail);
}

uint64_t pa_of(uint64_t ipa) { return ipa - VM_RAM_IPA + VM_RAM_PA; }

// ---- Stage 2 through the library --------------------------------------------------

void tlb_invalidate_ipa(uint64_t ipa) {
  asm volatile("dsb ishst\n\ttlbi ipas2e1is, %0\n\tdsb ish\n\ttlbi vmalle1is\n\tdsb ish\n\tisb"
               : : "r"(ipa >> 12) : "memory");
}

// Already mapped counts as mapped (vm.h): two vCPUs may fault on the same
// device granule, the second after the first mapped it.
bool s2_map_device(void*, uint64_t ipa) {
  auto r = stage2().map(ipa, memory::kPageSize, memory::Attr::kDevice);
  asm volatile("dsb ishst\n\tisb" ::: "memory");
  return r.has_value() || r.error() == memory::Error::kOverlap;
}
void s2_unmap_device(void*, uint64_t ipa) {
  if (stage2().unmap_page(ipa)) tlb_invalidate_ipa(ipa);
}
bool rndr(void*, uint64_t* out) { return base::sysreg::rndr(*out); }
bool have_feat_rng() { return base::sysreg::read_id_aa64isar0().has_rndr(); }

// ---- Loading ------------------------------------------------------------------------

void load(std::string_view name, const std::optional<launch::fw_cfg::File>& f, uint64_t dest) {
  if (!f || !fwcfg::read(f->select, dest, f->size)) refuse("launch", "FW_CFG_READ", name);
}

// The same into the hypervisor's own memory, which it then reads: the lines
// the device wrote behind are discarded from the caches.
void load_own(std::string_view name, const std::optional<launch::fw_cfg::File>& f, uint64_t dest) {
  load(name, f, dest);
  invalidate(dest, f->size);
}

// The machine's RAM, from the tree QEMU leaves at the start of RAM under -bios
// (the platform's own description, as a bootloader trusts its board's tree;
// virt has no fw_cfg RAM-size item). 0 when it is not there or says nothing.
constinit uint64_t g_qemu_dtb_size = 0;  // what machine_ram_size() found (wiped later)
uint64_t machine_ram_size() {
  const void* fdt = reinterpret_cast<const void*>(uintptr_t{QEMU_DTB_BASE});
  if (fdt_check_header(fdt) != 0 || fdt_totalsize(fdt) > QEMU_DTB_MAX_SIZE) return 0;
  g_qemu_dtb_size = fdt_totalsize(fdt);
  const int node = fdt_node_offset_by_prop_value(fdt, -1, "device_type", "memory", 7);
  if (node < 0) return 0;
  int len = 0;
  const auto* reg = static_cast<const fdt64_t*>(fdt_getprop(fdt, node, "reg", &len));
  if (reg == nullptr || len < 16 || fdt64_to_cpu(reg[0]) != VM_RAM_IPA) return 0;
  return fdt64_to_cpu(reg[1]);
}

#if HYP_TEST_HOOKS
// hyp-testhooks.bin only: fw_cfg file opt/pvm/test-hook names a fault to take
// (the hypervisor suite checks the fatal report and the power-off).
alignas(64) constinit std::array<char, 64> g_hook{};
void read_test_hook() {
  auto f = launch::fw_cfg::find_file(g_dir, "opt/pvm/test-hook");
  if (!f || !*f || (*f)->size >= g_hook.size()) return;
  if (fwcfg::read((*f)->select, reinterpret_cast<uintptr_t>(g_hook.data()), (*f)->size)) {
    invalidate(reinterpret_cast<uintptr_t>(g_hook.data()), g_hook.size());
  }
}
void test_hook(std::string_view at) {
  if (std::string_view(g_hook.data()) != at) return;
  console::print("hyp: test hook %.*s: a store to its own code (read-only)\n",
                 static_cast<int>(at.size()), at.data());
  *reinterpret_cast<volatile uint64_t*>(uintptr_t{0x1000}) = 0;
}
#else
void read_test_hook() {}
void test_hook(std::string_view) {}
#endif

}  // namespace

hyp::Vm& vm() { return *g_vm; }
memory::PageTables& stage2() {
  return *std::launder(reinterpret_cast<memory::PageTables*>(g_s2_storage));
}
CpuSlot& cpu(unsigned slot) { return g_cpus[slot]; }
unsigned vcpus() { return g_vcpus; }
void set_secrets_live(bool live) { g_secrets_live = live; }
bool secrets_live() { return g_secrets_live; }

// The derivation's own memory: the UDS, the handover it built, the heap.
void wipe_derivation() {
  base::secure_wipe(g_uds.data(), g_uds.size());
  base::secure_wipe(g_handover.data(), g_handover.size());
  heap::wipe();
  g_secrets_live = false;
}

void wipe_secrets() {
  wipe_derivation();
  // What the derivation left on the boot CPU's stack: below this frame when
  // running on it (a refusal), all of it otherwise (a fault report runs on
  // the exception stack, and never returns).
  uintptr_t sp;
  asm volatile("mov %0, sp" : "=r"(sp));
  const auto bottom = reinterpret_cast<uintptr_t>(__stack_bottom);
  const auto top = reinterpret_cast<uintptr_t>(__stack_top);
  if (sp > bottom && sp <= top) {
    hyp_wipe_stack_below_sp(bottom);
  } else {
    base::secure_wipe(__stack_bottom, top - bottom);
  }
  if (g_config_pending != 0) {
    auto* config = reinterpret_cast<std::byte*>(pa_of(BOARD_CONFIG_BASE));
    base::secure_wipe(config, g_config_pending);
    clean_to_poc(reinterpret_cast<uintptr_t>(config), g_config_pending);
    g_config_pending = 0;
  }
}

void smc(uint64_t (&x)[4]) {
  register uint64_t x0 asm("x0") = x[0];
  register uint64_t x1 asm("x1") = x[1];
  register uint64_t x2 asm("x2") = x[2];
  register uint64_t x3 asm("x3") = x[3];
  asm volatile("smc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)
               : : "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14", "x15",
                 "x16", "x17", "memory");
  x[0] = x0;
  x[1] = x1;
  x[2] = x2;
  x[3] = x3;
}

void power_off() {
  uint64_t x[4] = {0x84000008, 0, 0, 0};
  smc(x);
  for (;;) asm volatile("wfi");
}

void configure_vm_cpu() {
  write_vtcr(memory::vtcr_el2(physical_address_size()));
  write_vttbr((uint64_t{1} << 48) | stage2().root());  // VMID 1
  write_hcr(kHcrVm);
  write_cptr(kCptrNoTraps);
  write_hstr(0);
  // MDCR_EL2.HPMN [4:0]: every event counter stays the VM's (PMCR_EL0.N).
  write_mdcr((read_pmcr() >> 11) & 0x1f);
  write_cnthctl(kCnthctlPassThrough);
  write_cntvoff(0);
  write_vpidr(read_midr());
  write_vmpidr(read_mpidr());
  write_sctlr_el1(kSctlrEl1Reset);
  write_tpidr_el0(0);
  asm volatile("isb\n\ttlbi vmalls12e1\n\tic iallu\n\tdsb nsh\n\tisb" ::: "memory");
}

void enter_guest(uint64_t entry, uint64_t x0, uint64_t stack_top) {
  write_elr(entry);
  write_spsr(kSpsrEl1h);
  hyp_enter_guest(x0, stack_top);
}

}  // namespace el2

extern "C" [[noreturn]] void hyp_secondary_main(uint64_t slot) {
  using namespace el2;
  CpuSlot& c = cpu(static_cast<unsigned>(slot));
  configure_vm_cpu();
  c.state = 2;
  const uint64_t top = reinterpret_cast<uintptr_t>(__secondary_stacks) +
                       slot * (memory::kPageSize + HYP_SECONDARY_STACK_SIZE);
  enter_guest(c.entry, c.context, top);
}

extern "C" [[noreturn]] void hyp_main() {
  using namespace el2;
  const uint64_t t_start = counter();
  console::print("hyp: up at EL2 (hyp.bin %s), %s\n", HYP_VERSION,
                 have_feat_rng() ? "FEAT_RNG for TRNG" : "no FEAT_RNG: TRNG answers NO_ENTROPY");
  heap::init();

  // 1. The launch description.
  if (!fwcfg::present()) refuse("launch", "NO_FW_CFG", "QEMU's fw_cfg with DMA is required");
  if (!fwcfg::read(launch::fw_cfg::kKeyFileDir, reinterpret_cast<uintptr_t>(g_dir.data()),
                   g_dir.size())) {
    refuse("launch", "FW_CFG_READ", "directory");
  }
  invalidate(reinterpret_cast<uintptr_t>(g_dir.data()), g_dir.size());
  const uint64_t machine_ram = machine_ram_size();
  if (machine_ram == 0) refuse("launch", "NO_MACHINE_DT", "QEMU's device tree at the start of RAM");
  read_test_hook();
  test_hook("fault-early");
  auto files = launch::fw_cfg::find_launch_files(g_dir);
  if (!files) refuse("launch", files.error());
  alignas(64) static constinit std::array<std::byte, launch::kHeaderSize> header_bytes{};
  if (!files->launch) refuse("launch", "MISSING_FILE", launch::kFileLaunch);
  if (files->launch->size != header_bytes.size()) refuse("launch", "BAD_SIZE", launch::kFileLaunch);
  load_own(launch::kFileLaunch, files->launch, reinterpret_cast<uintptr_t>(header_bytes.data()));
  auto parsed = launch::parse_header(header_bytes);
  if (!parsed) refuse("launch", launch::to_string(parsed.error()));
  auto plan = launch::check_launch(*parsed, files->sizes(), machine_ram);
  if (!plan) refuse("launch", plan.error());
  const launch::Header* header = &plan->header;
  g_vcpus = header->cpus;

  // 2. pvmfw.img, verified like a bootloader verifies its next stage.
  const uint64_t t_verify = counter();
  load_own(launch::kFilePvmfwImage, files->pvmfw_image, HYP_STAGING_BASE);
  const uint64_t img_size = plan->pvmfw_image_size;
  const auto* img = reinterpret_cast<const std::byte*>(uintptr_t{HYP_STAGING_BASE});
  const std::span<const std::byte> platform_key(hyp_key::platform_key, hyp_key::platform_key_size);
  auto verified = verify::verify_partition({.partition = std::span(img, img_size),
                                            .partition_name = "pvmfw",
                                            .trusted_public_key = platform_key});
  if (!verified) {
    refuse("pvmfw.img", verify::to_string(verified.error().error), verified.error().detail);
  }
  const uint64_t pvmfw_size = verified->digest.image_size;
  console::print("hyp: pvmfw.img verified (%s, %lu-byte image, rollback index %lu)\n",
                 verify::to_string(verified->algorithm), pvmfw_size, verified->rollback_index);

  // 3. The DICE stage below pvmfw, written as pvmfw's config blob.
  const uint64_t t_dice = counter();
  set_secrets_live(true);
  load_own(launch::kFileUds, files->uds, reinterpret_cast<uintptr_t>(g_uds.data()));
  test_hook("fault-with-secrets");
  auto handover = dice::pvmfw::pvmfw_stage_handover(
      std::span<const uint8_t, 32>(g_uds.data(), 32),
      {.image = std::span(img, pvmfw_size),
       .platform_key = platform_key,
       .security_version = verified->rollback_index},
      g_handover);
  if (!handover) refuse("launch", "DICE", dice::to_string(handover.error()));
  dice::ConfigSpec spec;
  spec.entries[0] = base::Bytes(g_handover.data(), *handover);
  auto* config = reinterpret_cast<std::byte*>(pa_of(BOARD_CONFIG_BASE));
  auto written = dice::write_config(spec, std::span(config, BOARD_CONFIG_MAX_SIZE));
  if (!written) refuse("launch", "DICE", dice::to_string(written.error()));
  clean_to_poc(reinterpret_cast<uintptr_t>(config), *written);
  g_config_pending = *written;  // until the VM runs: wipe_secrets() takes it too
  wipe_derivation();
  test_hook("fault-after-dice");
  // The derivation's frames are below this one: zero the stack under us.
  hyp_wipe_stack_below_sp(reinterpret_cast<uintptr_t>(__stack_bottom));
  console::print("hyp: DICE: pvmfw's layer derived from the device secret\n");

  // 4. The VM: its RAM, the files pvmfw expects, its stage 2. QEMU's tree
  // goes first (the VM's is loaded where it was), out of the caches too: the
  // loads below are DMA.
  const uint64_t t_load = counter();
  const uint64_t ram = header->ram_size;
  std::memset(reinterpret_cast<void*>(uintptr_t{QEMU_DTB_BASE}), 0, g_qemu_dtb_size);
  clean_to_poc(QEMU_DTB_BASE, g_qemu_dtb_size);
  load(launch::kFileDt, files->dt, pa_of(header->dt_ipa));
  load(launch::kFilePayload, files->payload, pa_of(header->payload_ipa));
  if (files->initrd) load(launch::kFileInitrd, files->initrd, pa_of(header->initrd_ipa));
  // The image's tail (vbmeta, footer) is not the VM's: zero the last page's rest.
  const uint64_t pvmfw_pages = (pvmfw_size + memory::kPageSize - 1) & ~(memory::kPageSize - 1);
  std::memset(reinterpret_cast<void*>(HYP_STAGING_BASE + pvmfw_size), 0, pvmfw_pages - pvmfw_size);
  clean_to_poc(HYP_STAGING_BASE, pvmfw_pages);

  auto* s2 = new (g_s2_storage) memory::PageTables(std::span(g_s2_pool), memory::Regime::kStage2);
  bool ok = s2->map_to(VM_RAM_IPA, VM_RAM_PA, ram, memory::Attr::kGuestRam) &&
            s2->map_to(0, HYP_STAGING_BASE, pvmfw_pages, memory::Attr::kCode);
  for (const hyp::Region& r : kGic) ok = ok && s2->map(r.base, r.size, memory::Attr::kDevice);
  if (!ok) refuse("launch", "STAGE2", "the VM's tables do not fit");

  hyp::VmConfig vm_config{.ram_ipa = VM_RAM_IPA,
                          .ram_size = ram,
                          .mmio_guard = header->mmio_guard(),
                          .devices = kDevices,
                          .vcpus = header->cpus};
  const hyp::Stage2Ops ops{nullptr, s2_map_device, s2_unmap_device, rndr};
  auto made = hyp::Vm::create(g_vm_storage, vm_config, ops, g_page_state);
  if (!made) refuse("launch", hyp::to_string(made.error()));
  g_vm = *made;

  console::print("hyp: phase ticks: start %lu, verify %lu, dice %lu, load %lu\n", t_start, t_verify,
                 t_dice, t_load);
  console::print("hyp: entering pvmfw at EL1 (VM RAM %lu MiB, %u vCPU%s, MMIO guard %s) "
                 "at counter tick %lu\n",
                 ram >> 20, header->cpus, header->cpus == 1 ? "" : "s",
                 vm_config.mmio_guard ? "offered" : "not offered", counter());
  configure_vm_cpu();
  g_config_pending = 0;  // the VM's from here
  g_cpus[0].state = 2;
  enter_guest(0, header->dt_ipa, reinterpret_cast<uintptr_t>(__stack_top));
}

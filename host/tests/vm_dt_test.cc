#include "vm_dt.h"

#include <libfdt.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <board/layout.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace pvm {
namespace {

VmDtConfig typical_config() {
  VmDtConfig config;
  config.ram_size = 1024ull << 20;
  config.cpus = 1;
  config.bootargs = "console=ttyAMA0 panic=-1";
  config.initrd = VmDtConfig::Range{0x42000000, 0x42345678};
  config.kernel = VmDtConfig::Kernel{0x40400000, 27303872};
  return config;
}

class Tree {
 public:
  explicit Tree(std::vector<uint8_t> blob) : blob_(std::move(blob)) {}
  const void* fdt() const { return blob_.data(); }

  int node(const char* path) const { return fdt_path_offset(fdt(), path); }

  std::optional<std::string> raw(const char* path, const char* name) const {
    int offset = node(path);
    if (offset < 0) return std::nullopt;
    int len = 0;
    const void* value = fdt_getprop(fdt(), offset, name, &len);
    if (value == nullptr) return std::nullopt;
    return std::string(static_cast<const char*>(value), static_cast<size_t>(len));
  }
  std::vector<uint32_t> cells(const char* path, const char* name) const {
    std::vector<uint32_t> out;
    auto value = raw(path, name);
    if (!value) return out;
    EXPECT_EQ(value->size() % 4, 0u) << path << " " << name;
    for (size_t i = 0; i + 4 <= value->size(); i += 4) {
      fdt32_t be;
      std::memcpy(&be, value->data() + i, 4);
      out.push_back(fdt32_to_cpu(be));
    }
    return out;
  }
  // A string property as written (NULs kept between stringlist entries).
  std::string str(const char* path, const char* name) const {
    auto value = raw(path, name);
    EXPECT_TRUE(value.has_value()) << path << " " << name;
    if (!value || value->empty()) return "";
    EXPECT_EQ(value->back(), '\0');
    value->pop_back();
    return *value;
  }

 private:
  std::vector<uint8_t> blob_;
};

Tree make_tree(const VmDtConfig& config) {
  auto blob = make_vm_dt(config);
  EXPECT_TRUE(blob.has_value()) << (blob ? "" : to_string(blob.error()));
  if (!blob) return Tree({});
  EXPECT_EQ(fdt_check_full(blob->data(), blob->size()), 0);
  EXPECT_EQ(fdt_totalsize(blob->data()), blob->size());
  return Tree(std::move(*blob));
}

using S = std::string;

TEST(VmDt, RootAndMemory) {
  Tree t = make_tree(typical_config());
  EXPECT_EQ(t.cells("/", "#address-cells"), std::vector<uint32_t>{2});
  EXPECT_EQ(t.cells("/", "#size-cells"), std::vector<uint32_t>{2});
  EXPECT_EQ(t.str("/", "compatible"), "linux,dummy-virt");
  EXPECT_FALSE(t.str("/", "model").empty());
  EXPECT_EQ(t.cells("/", "interrupt-parent"), std::vector<uint32_t>{kGicPhandle});
  EXPECT_GE(t.node("/memory@40000000"), 0);
  EXPECT_EQ(t.str("/memory@40000000", "device_type"), "memory");
  EXPECT_EQ(t.cells("/memory@40000000", "reg"), (std::vector<uint32_t>{0, BOARD_RAM_BASE, 0, 0x40000000}));
}

TEST(VmDt, LargeRamUsesBothSizeCells) {
  VmDtConfig config = typical_config();
  config.ram_size = 6ull << 30;
  Tree t = make_tree(config);
  EXPECT_EQ(t.cells("/memory@40000000", "reg"), (std::vector<uint32_t>{0, 0x40000000, 1, 0x80000000}));
}

TEST(VmDt, Cpus) {
  VmDtConfig config = typical_config();
  config.cpus = 3;
  Tree t = make_tree(config);
  EXPECT_EQ(t.cells("/cpus", "#address-cells"), std::vector<uint32_t>{1});
  EXPECT_EQ(t.cells("/cpus", "#size-cells"), std::vector<uint32_t>{0});
  for (uint32_t cpu = 0; cpu < 3; ++cpu) {
    std::string path = "/cpus/cpu@" + std::to_string(cpu);
    EXPECT_EQ(t.str(path.c_str(), "device_type"), "cpu");
    EXPECT_EQ(t.str(path.c_str(), "compatible"), "arm,arm-v8");
    EXPECT_EQ(t.cells(path.c_str(), "reg"), std::vector<uint32_t>{cpu});
    EXPECT_EQ(t.str(path.c_str(), "enable-method"), "psci");
  }
  EXPECT_LT(t.node("/cpus/cpu@3"), 0);
  // The timer PPIs target all three CPUs (GICv2 CPU mask in bits 8-15).
  EXPECT_EQ(t.cells("/timer", "interrupts")[2], 0x704u);
}

TEST(VmDt, PsciTimerGicClockUart) {
  Tree t = make_tree(typical_config());
  EXPECT_EQ(t.str("/psci", "compatible"), S("arm,psci-1.0\0arm,psci-0.2\0arm,psci", 34));
  EXPECT_EQ(t.str("/psci", "method"), "hvc");
  EXPECT_EQ(t.cells("/psci", "cpu_on"), std::vector<uint32_t>{0xc4000003});
  EXPECT_EQ(t.cells("/psci", "cpu_off"), std::vector<uint32_t>{0x84000002});
  EXPECT_EQ(t.cells("/psci", "cpu_suspend"), std::vector<uint32_t>{0xc4000001});
  EXPECT_EQ(t.cells("/psci", "migrate"), std::vector<uint32_t>{0xc4000005});

  EXPECT_EQ(t.str("/timer", "compatible"), S("arm,armv8-timer\0arm,armv7-timer", 31));
  EXPECT_EQ(t.cells("/timer", "interrupts"),
            (std::vector<uint32_t>{1, 13, 0x104, 1, 14, 0x104, 1, 11, 0x104, 1, 10, 0x104}));
  EXPECT_EQ(t.raw("/timer", "always-on"), S());

  EXPECT_EQ(t.str("/intc@8000000", "compatible"), "arm,cortex-a15-gic");
  EXPECT_EQ(t.cells("/intc@8000000", "#interrupt-cells"), std::vector<uint32_t>{3});
  EXPECT_EQ(t.raw("/intc@8000000", "interrupt-controller"), S());
  EXPECT_EQ(t.cells("/intc@8000000", "reg"),
            (std::vector<uint32_t>{0, 0x8000000, 0, 0x10000, 0, 0x8010000, 0, 0x10000}));
  EXPECT_EQ(fdt_node_offset_by_phandle(t.fdt(), kGicPhandle), t.node("/intc@8000000"));

  EXPECT_EQ(t.str("/apb-pclk", "compatible"), "fixed-clock");
  EXPECT_EQ(t.cells("/apb-pclk", "#clock-cells"), std::vector<uint32_t>{0});
  EXPECT_EQ(t.cells("/apb-pclk", "clock-frequency"), std::vector<uint32_t>{24000000});
  EXPECT_EQ(t.str("/apb-pclk", "clock-output-names"), "clk24mhz");
  EXPECT_EQ(fdt_node_offset_by_phandle(t.fdt(), kClockPhandle), t.node("/apb-pclk"));

  EXPECT_EQ(t.str("/pl011@9000000", "compatible"), S("arm,pl011\0arm,primecell", 23));
  EXPECT_EQ(t.cells("/pl011@9000000", "reg"), (std::vector<uint32_t>{0, 0x9000000, 0, 0x1000}));
  EXPECT_EQ(t.cells("/pl011@9000000", "interrupts"), (std::vector<uint32_t>{0, 1, 4}));
  EXPECT_EQ(t.cells("/pl011@9000000", "clocks"),
            (std::vector<uint32_t>{kClockPhandle, kClockPhandle}));
  EXPECT_EQ(t.str("/pl011@9000000", "clock-names"), S("uartclk\0apb_pclk", 16));
}

TEST(VmDt, ChosenAndConfig) {
  Tree t = make_tree(typical_config());
  EXPECT_EQ(t.str("/chosen", "bootargs"), "console=ttyAMA0 panic=-1");
  EXPECT_EQ(t.str("/chosen", "stdout-path"), "/pl011@9000000");
  EXPECT_EQ(t.cells("/chosen", "linux,initrd-start"), (std::vector<uint32_t>{0, 0x42000000}));
  EXPECT_EQ(t.cells("/chosen", "linux,initrd-end"), (std::vector<uint32_t>{0, 0x42345678}));
  EXPECT_EQ(t.cells("/config", "kernel-address"), std::vector<uint32_t>{0x40400000});
  EXPECT_EQ(t.cells("/config", "kernel-size"), std::vector<uint32_t>{27303872});
}

TEST(VmDt, InstanceId) {
  VmDtConfig config = typical_config();
  EXPECT_LT(make_tree(config).node("/avf"), 0);
  config.instance_id.assign(64, 0x5c);
  Tree t = make_tree(config);
  auto id = t.raw("/avf/untrusted", "instance-id");
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(*id, std::string(64, '\x5c'));
}

// `pvm create --pin-software`: an empty /avf/untrusted property pvmfw reads,
// with or without an instance id beside it.
TEST(VmDt, PinSoftware) {
  VmDtConfig config = typical_config();
  EXPECT_LT(make_tree(config).node("/avf"), 0);
  config.pin_software = true;
  EXPECT_EQ(make_tree(config).raw("/avf/untrusted", "pvm,pin-software"), std::string());
  config.instance_id.assign(64, 1);
  Tree t = make_tree(config);
  EXPECT_EQ(t.raw("/avf/untrusted", "pvm,pin-software"), std::string());
  EXPECT_EQ(t.raw("/avf/untrusted", "instance-id"), std::string(64, '\x01'));
  EXPECT_FALSE(t.raw("/chosen", "pvm,pin-software").has_value());
}

// QEMU virt fills its virtio-mmio transports from the top: the first device
// is on transport 31 (seen with `info qtree`), the next on 30.
TEST(VmDt, VirtioMmioSlots) {
  auto first = virtio_mmio_slot(0);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->base, 0x0a003e00u);
  EXPECT_EQ(first->spi, 47u);
  auto second = virtio_mmio_slot(1);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->base, 0x0a003c00u);
  EXPECT_EQ(second->spi, 46u);
  EXPECT_EQ(virtio_mmio_slot(31)->base, 0x0a000000u);
  EXPECT_EQ(virtio_mmio_slot(31)->spi, 16u);
  EXPECT_FALSE(virtio_mmio_slot(32).has_value());
}

TEST(VmDt, VirtioMmioNodeAsQemuWritesIt) {
  VmDtConfig config = typical_config();
  config.virtio_mmio.push_back(*virtio_mmio_slot(0));
  Tree t = make_tree(config);
  EXPECT_EQ(t.str("/virtio_mmio@a003e00", "compatible"), "virtio,mmio");
  EXPECT_EQ(t.cells("/virtio_mmio@a003e00", "reg"),
            (std::vector<uint32_t>{0, 0x0a003e00, 0, 0x200}));
  EXPECT_EQ(t.cells("/virtio_mmio@a003e00", "interrupts"), (std::vector<uint32_t>{0, 47, 1}));
  EXPECT_EQ(t.raw("/virtio_mmio@a003e00", "dma-coherent"), std::string());
}

TEST(VmDt, VirtioMmioMustBeQemuVirtsAndOnce) {
  VmDtConfig config = typical_config();
  config.virtio_mmio = {{0x0a003e00, 46}};  // the wrong SPI for that window
  EXPECT_EQ(make_vm_dt(config).error(), VmDtError::kBadVirtio);
  config.virtio_mmio = {{0x0a003e08, 47}};
  EXPECT_EQ(make_vm_dt(config).error(), VmDtError::kBadVirtio);
  config.virtio_mmio = {*virtio_mmio_slot(0), *virtio_mmio_slot(0)};
  EXPECT_EQ(make_vm_dt(config).error(), VmDtError::kBadVirtio);
  config.virtio_mmio = {*virtio_mmio_slot(0), *virtio_mmio_slot(1)};
  EXPECT_TRUE(make_vm_dt(config).has_value());
}

TEST(VmDt, InitrdAbove4GiBKeeps64Bits) {
  VmDtConfig config = typical_config();
  config.initrd = VmDtConfig::Range{0x1'2000'0000, 0x1'2000'1000};
  Tree t = make_tree(config);
  EXPECT_EQ(t.cells("/chosen", "linux,initrd-start"), (std::vector<uint32_t>{1, 0x20000000}));
  EXPECT_EQ(t.cells("/chosen", "linux,initrd-end"), (std::vector<uint32_t>{1, 0x20001000}));
}

TEST(VmDt, OptionalPartsAbsent) {
  VmDtConfig config = typical_config();
  config.initrd.reset();
  config.kernel.reset();
  Tree t = make_tree(config);
  EXPECT_FALSE(t.raw("/chosen", "linux,initrd-start").has_value());
  EXPECT_FALSE(t.raw("/chosen", "linux,initrd-end").has_value());
  EXPECT_LT(t.node("/config"), 0);
}

TEST(VmDt, NoDevicesPvmfwDoesNotPassOn) {
  Tree t = make_tree(typical_config());
  for (int offset = fdt_first_subnode(t.fdt(), 0); offset >= 0;
       offset = fdt_next_subnode(t.fdt(), offset)) {
    std::string name = fdt_get_name(t.fdt(), offset, nullptr);
    for (const char* banned : {"gpio", "pl061", "fw-cfg", "pcie", "virtio", "flash"}) {
      EXPECT_EQ(name.find(banned), std::string::npos) << name;
    }
  }
}

TEST(VmDt, LongBootargsGrowTheBuffer) {
  VmDtConfig config = typical_config();
  config.bootargs = std::string(100 * 1024, 'a');
  Tree t = make_tree(config);
  EXPECT_EQ(t.str("/chosen", "bootargs"), config.bootargs);
}

TEST(VmDt, TooLargeIsRefused) {
  VmDtConfig config = typical_config();
  config.bootargs = std::string(kMaxVmDtSize, 'a');
  EXPECT_EQ(make_vm_dt(config).error(), VmDtError::kTooLarge);
}

TEST(VmDt, DeterministicOutput) {
  EXPECT_EQ(make_vm_dt(typical_config()).value(), make_vm_dt(typical_config()).value());
}

TEST(VmDt, RefusesBadConfigs) {
  auto with = [](auto change) {
    VmDtConfig config = typical_config();
    change(config);
    return make_vm_dt(config).error();
  };
  EXPECT_EQ(with([](VmDtConfig& c) { c.ram_size = 0; }), VmDtError::kZeroRam);
  EXPECT_EQ(with([](VmDtConfig& c) { c.ram_size = UINT64_MAX; }), VmDtError::kRamOverflow);
  EXPECT_EQ(with([](VmDtConfig& c) { c.cpus = 0; }), VmDtError::kBadCpuCount);
  EXPECT_EQ(with([](VmDtConfig& c) { c.cpus = 9; }), VmDtError::kBadCpuCount);
  EXPECT_EQ(with([](VmDtConfig& c) { c.initrd = VmDtConfig::Range{2, 1}; }), VmDtError::kBadInitrd);
  EXPECT_EQ(with([](VmDtConfig& c) { c.kernel->address = 0x1'0000'0000; }),
            VmDtError::kKernelNotU32);
  EXPECT_EQ(with([](VmDtConfig& c) { c.kernel->size = 0x1'0000'0000; }), VmDtError::kKernelNotU32);
  EXPECT_EQ(with([](VmDtConfig& c) { c.psci_method = "svc"; }), VmDtError::kBadPsciMethod);
  EXPECT_TRUE(make_vm_dt([] {
                VmDtConfig c = typical_config();
                c.psci_method = "smc";
                c.kernel->address = UINT32_MAX;
                c.cpus = kMaxCpus;
                return c;
              }())
                  .has_value());
}

// dtc, from $DTC (set by meson) or PATH.
std::optional<std::string> find_dtc() {
  if (const char* dtc = std::getenv("DTC"); dtc != nullptr && *dtc != '\0') return dtc;
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  for (size_t start = 0; start <= dirs.size();) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string candidate = dirs.substr(start, end - start) + "/dtc";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return std::nullopt;
}

TEST(VmDt, DtcDecompilesWithoutWarnings) {
  auto dtc = find_dtc();
  if (!dtc) GTEST_SKIP() << "dtc not installed";
  VmDtConfig config = typical_config();
  config.cpus = 2;
  auto blob = make_vm_dt(config);
  ASSERT_TRUE(blob.has_value());
  char dir_template[] = "/tmp/vm_dt_test-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  std::filesystem::path dir = dir_template;
  {
    std::ofstream(dir / "vm.dtb", std::ios::binary)
        .write(reinterpret_cast<const char*>(blob->data()), static_cast<std::streamsize>(blob->size()));
  }
  std::string command = *dtc + " -I dtb -O dts -o " + (dir / "vm.dts").string() + " " +
                        (dir / "vm.dtb").string() + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buf[512];
  while (size_t n = std::fread(buf, 1, sizeof(buf), pipe)) output.append(buf, n);
  int status = ::pclose(pipe);
  EXPECT_EQ(status, 0);
  EXPECT_EQ(output, "") << "dtc warnings:\n" << output;
  std::ifstream dts(dir / "vm.dts");
  std::string text((std::istreambuf_iterator<char>(dts)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("compatible = \"arm,cortex-a15-gic\";"), std::string::npos);
  // (dtc shows 0x40400000 as the string "@@" by its printable-bytes heuristic.)
  EXPECT_NE(text.find("kernel-size = <0x1a09fc0>;"), std::string::npos);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace pvm

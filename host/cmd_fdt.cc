#include "cmd_fdt.h"

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <board/layout.h>
#include <fdt/output.h>
#include <fdt/tree.h>
#include <fdt/validate.h>

#include "cli_options.h"
#include "file_io.h"
#include "verify_report.h"  // json_string

namespace pvm {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

// Where the report says the DICE handover goes (pvmfw decides at boot): the
// last page of its scratch window, clear of where `pvm run` puts the kernel.
constexpr base::Range kHandover{BOARD_SCRATCH_BASE + BOARD_SCRATCH_SIZE - 0x1000, 0x1000};

struct FdtArgs {
  std::vector<std::string> files;
  bool json = false;
  bool debuggable = false;
  fdt::PsciMethod psci = fdt::PsciMethod::kHvc;
  bool help = false;
};

std::span<const OptionSpec<FdtArgs>> fdt_options() {
  auto ok = [] { return std::expected<void, ArgError>(); };
  static const OptionSpec<FdtArgs> kOptions[] = {
      {"--json", false,
       [ok](FdtArgs& a, std::string_view) {
         a.json = true;
         return ok();
       }},
      {"--debuggable", false,
       [ok](FdtArgs& a, std::string_view) {
         a.debuggable = true;
         return ok();
       }},
      {"--psci", true,
       [ok](FdtArgs& a, std::string_view v) -> std::expected<void, ArgError> {
         if (v == "hvc") {
           a.psci = fdt::PsciMethod::kHvc;
         } else if (v == "smc") {
           a.psci = fdt::PsciMethod::kSmc;
         } else {
           return arg_error(ArgErrc::kBadValue, "--psci");
         }
         return ok();
       }},
      {"--help", false,
       [ok](FdtArgs& a, std::string_view) {
         a.help = true;
         return ok();
       }},
      {"-h", false,
       [ok](FdtArgs& a, std::string_view) {
         a.help = true;
         return ok();
       }},
  };
  return kOptions;
}

int usage_error(std::string_view message) {
  std::fflush(stdout);
  std::fprintf(stderr, "pvm: %.*s\npvm: see `pvm fdt --help`\n", static_cast<int>(message.size()),
               message.data());
  return kExitUsage;
}

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string span_text(const base::Range& r) { return hex(r.base) + "-" + hex(r.end()); }

std::string range_json(const base::Range& r) {
  return "{\"base\":" + std::to_string(r.base) + ",\"size\":" + std::to_string(r.size) + "}";
}

template <typename T, typename F>
std::string json_list(const T& items, F each) {
  std::string s = "[";
  bool first = true;
  for (const auto& item : items) {
    if (!first) s += ",";
    first = false;
    s += each(item);
  }
  return s + "]";
}

const char* space_name(fdt::PciSpace s) {
  switch (s) {
    case fdt::PciSpace::kIo:
      return "io";
    case fdt::PciSpace::kMem32:
      return "mem32";
    case fdt::PciSpace::kMem64:
      return "mem64";
  }
  return "?";
}

std::string kept_bootargs(const fdt::VmPlatform& p, bool debuggable) {
  if (!p.bootargs) return {};
  if (debuggable) return std::string(*p.bootargs);
  std::vector<char> buf(fdt::kMaxBootargs);
  auto n = fdt::filter_bootargs(*p.bootargs, buf);
  return n ? std::string(buf.data(), *n) : std::string();
}

std::string describe(const fdt::VmPlatform& p, bool debuggable, size_t out_size) {
  std::string s;
  auto line = [&](std::string_view key, const std::string& value) {
    s += std::string(key) + std::string(10 - key.size(), ' ') + value + "\n";
  };
  line("memory", json_list(p.memory, [](const base::Range& r) { return span_text(r); }) + " (" +
                     std::to_string(p.memory_size() >> 20) + " MiB)");
  line("cpus", std::to_string(p.cpus.size()) + " " + json_list(p.cpus, [](const fdt::Cpu& c) {
                 return hex(c.mpidr) + " " + std::string(c.compatible);
               }));
  if (p.gic.version == fdt::GicVersion::kV2) {
    line("gic", "v2, distributor " + span_text(p.gic.distributor) + ", cpu interface " +
                    span_text(p.gic.cpu_interface));
  } else {
    line("gic",
         "v3, distributor " + span_text(p.gic.distributor) + ", redistributors " +
             json_list(p.gic.redistributors, [](const base::Range& r) { return span_text(r); }));
  }
  line("timer", "PPIs " + std::to_string(p.timer.ppis[0].number) + " " +
                    std::to_string(p.timer.ppis[1].number) + " " +
                    std::to_string(p.timer.ppis[2].number) + " " +
                    std::to_string(p.timer.ppis[3].number));
  line("psci", p.psci == fdt::PsciMethod::kHvc ? "hvc" : "smc");
  std::string uarts = p.uarts.empty() ? "none" : "";
  for (size_t i = 0; i < p.uarts.size(); ++i) {
    uarts += (i ? ", " : "") + hex(p.uarts[i].reg.base) + " SPI " +
             std::to_string(p.uarts[i].irq.number) + (p.stdout_uart == i ? " (stdout)" : "");
  }
  line("uarts", uarts);
  line("virtio", p.virtio.empty()
                     ? "none"
                     : std::to_string(p.virtio.size()) + " from " + hex(p.virtio[0].reg.base));
  if (p.pci) {
    std::string ranges;
    for (const auto& r : p.pci->ranges) {
      ranges += std::string(", ") + space_name(r.space) + " " + span_text(r.cpu);
    }
    line("pci", "ecam " + span_text(p.pci->ecam) + ranges + ", " +
                    std::to_string(p.pci->irqs.size()) + " INTx routes");
  } else {
    line("pci", "none");
  }
  if (p.swiotlb) {
    line("swiotlb", p.swiotlb->reg ? span_text(*p.swiotlb->reg)
                                   : "size " + hex(p.swiotlb->size) + " alignment " +
                                         hex(p.swiotlb->alignment));
  }
  line("kernel", p.kernel ? span_text(*p.kernel) : "none");
  line("initrd", p.initrd ? span_text(*p.initrd) : "none");
  if (p.bootargs) {
    line("bootargs",
         "\"" + std::string(*p.bootargs) + "\" kept \"" + kept_bootargs(p, debuggable) + "\"");
  }
  if (!p.avf_untrusted.empty() || p.secretkeeper_public_key) {
    line("avf", std::to_string(p.avf_untrusted.size()) + " untrusted properties" +
                    (p.secretkeeper_public_key ? ", secretkeeper_public_key" : ""));
  }
  // Checked by pvmfw at boot, not by validation (dice/pvmfw.h set_instance).
  line("instance", p.instance_id ? "id present (/avf/untrusted/instance-id)"
                                 : "none: pvmfw refuses to boot (NO_INSTANCE_ID)");
  line("output", std::to_string(out_size) + " bytes, DICE handover at " + span_text(kHandover));
  return s;
}

std::string platform_json(const fdt::VmPlatform& p, bool debuggable, size_t out_size) {
  std::string s = "{\"result\":\"ok\",\"output_size\":" + std::to_string(out_size);
  s += ",\"memory\":" + json_list(p.memory, range_json);
  s += ",\"cpus\":" + json_list(p.cpus, [](const fdt::Cpu& c) {
         return "{\"mpidr\":" + std::to_string(c.mpidr) +
                ",\"compatible\":" + json_string(c.compatible) + "}";
       });
  s += ",\"gic\":{\"version\":";
  s += p.gic.version == fdt::GicVersion::kV2 ? "2" : "3";
  s += ",\"distributor\":" + range_json(p.gic.distributor);
  if (p.gic.version == fdt::GicVersion::kV2) {
    s += ",\"cpu_interface\":" + range_json(p.gic.cpu_interface);
  } else {
    s += ",\"redistributors\":" + json_list(p.gic.redistributors, range_json);
  }
  s += "},\"timer_ppis\":" +
       json_list(p.timer.ppis, [](const fdt::Interrupt& i) { return std::to_string(i.number); });
  s += ",\"psci\":\"";
  s += p.psci == fdt::PsciMethod::kHvc ? "hvc" : "smc";
  s += "\",\"uarts\":[";
  for (size_t i = 0; i < p.uarts.size(); ++i) {
    s += (i ? "," : "") + std::string("{\"reg\":") + range_json(p.uarts[i].reg) +
         ",\"spi\":" + std::to_string(p.uarts[i].irq.number) +
         ",\"stdout\":" + (p.stdout_uart == i ? "true" : "false") + "}";
  }
  s += "],\"virtio\":" + json_list(p.virtio, [](const fdt::Device& d) {
         return "{\"reg\":" + range_json(d.reg) + ",\"spi\":" + std::to_string(d.irq.number) + "}";
       });
  if (p.pci) {
    s += ",\"pci\":{\"ecam\":" + range_json(p.pci->ecam) + ",\"ranges\":" +
         json_list(p.pci->ranges,
                   [](const fdt::PciRange& r) {
                     return "{\"space\":\"" + std::string(space_name(r.space)) +
                            "\",\"bus_address\":" + std::to_string(r.bus_address) +
                            ",\"cpu\":" + range_json(r.cpu) + "}";
                   }) +
         ",\"intx_routes\":" + std::to_string(p.pci->irqs.size()) + "}";
  } else {
    s += ",\"pci\":null";
  }
  auto opt_range = [](const std::optional<base::Range>& r) {
    return r ? range_json(*r) : std::string("null");
  };
  if (p.swiotlb) {
    s += ",\"swiotlb\":{\"reg\":" + opt_range(p.swiotlb->reg) +
         ",\"size\":" + std::to_string(p.swiotlb->size) +
         ",\"alignment\":" + std::to_string(p.swiotlb->alignment) + "}";
  } else {
    s += ",\"swiotlb\":null";
  }
  s += ",\"kernel\":" + opt_range(p.kernel) + ",\"initrd\":" + opt_range(p.initrd);
  if (p.bootargs) {
    s += ",\"bootargs\":{\"input\":" + json_string(*p.bootargs) +
         ",\"kept\":" + json_string(kept_bootargs(p, debuggable)) + "}";
  } else {
    s += ",\"bootargs\":null";
  }
  s += ",\"avf_untrusted\":" +
       json_list(p.avf_untrusted, [](const fdt::AvfProperty& a) { return json_string(a.name); });
  s += std::string(",\"instance_id\":") + (p.instance_id ? "true" : "false");
  s += ",\"dice_handover\":" + range_json(kHandover) + "}";
  return s;
}

int refuse(bool json, std::string_view name, std::string_view detail) {
  if (json) {
    std::printf("{\"result\":\"error\",\"error\":%s,\"detail\":%s}\n", json_string(name).c_str(),
                json_string(detail).c_str());
  }
  std::fflush(stdout);
  std::fprintf(stderr, "error: %.*s: %.*s\n", static_cast<int>(name.size()), name.data(),
               static_cast<int>(detail.size()), detail.data());
  return kExitFailed;
}

}  // namespace

std::string_view fdt_usage() {
  return R"(usage: pvm fdt sanitize IN.dtb OUT.dtb [--json] [--debuggable] [--psci hvc|smc]

Runs pvmfw's device-tree path on IN.dtb (the VM device tree a VMM would hand
it): the structural checks, the validation into typed values, and the rebuild
from pvmfw's own template. Writes the tree the guest would get to OUT.dtb and
prints what was accepted: memory, cpus, GIC, timer, PSCI, UARTs, virtio-mmio,
PCI, DMA pool, kernel, initrd, bootargs (and the ones kept), /avf.
Input nodes pvmfw does not know are ignored, never copied.

  --json          print one JSON object on stdout
  --debuggable    keep all bootargs (a debuggable payload); otherwise only
                  the allow-list (console=ttyAMA*, earlycon, panic=N,
                  loglevel=N, quiet) is kept
  --psci M        the PSCI conduit pvmfw uses, hvc (EL1, default) or smc
                  (EL2, -M virt,virtualization=on); the tree must say the same

The DICE handover is reserved at the last page of pvmfw's scratch window
(pvmfw itself reserves where it placed it); no kaslr-seed or rng-seed is
written (pvmfw takes them from its entropy source).

Exit status: 0 accepted; 1 refused, with "error: NAME: detail" on stderr (and
{"result":"error",...} on stdout with --json); 2 usage error or an
unreadable file.
)";
}

int cmd_fdt(std::span<const std::string_view> words) {
  if (words.empty()) return usage_error("fdt: missing subcommand (sanitize)");
  if (words[0] == "--help" || words[0] == "-h" || words[0] == "help") {
    std::fputs(std::string(fdt_usage()).c_str(), stdout);
    return kExitOk;
  }
  if (words[0] != "sanitize")
    return usage_error("fdt: unknown subcommand '" + std::string(words[0]) + "'");
  FdtArgs args;
  auto parsed = parse_options<FdtArgs>(
      words.subspan(1), fdt_options(), args, [](FdtArgs& a, std::string_view v) {
        if (a.files.size() == 2)
          return std::expected<void, ArgError>(arg_error(ArgErrc::kUnexpectedArgument, v));
        a.files.emplace_back(v);
        return std::expected<void, ArgError>();
      });
  if (!parsed) return usage_error(to_string(parsed.error()));
  if (args.help) {
    std::fputs(std::string(fdt_usage()).c_str(), stdout);
    return kExitOk;
  }
  if (args.files.size() != 2) return usage_error("fdt sanitize: need IN.dtb and OUT.dtb");

  // Up to twice the DT window, so an oversized tree is refused by pvmfw's
  // own rule (FDT_TOO_BIG) rather than by the file reader.
  auto input = read_file(args.files[0], 2 * fdt::kMaxTreeSize);
  if (!input) return usage_error(args.files[0] + ": " + to_string(input.error()));
  auto bytes = std::as_bytes(std::span(*input));
  auto tree = fdt::Tree::open(bytes);
  if (!tree) return refuse(args.json, fdt::to_string(tree.error()), fdt::describe(tree.error()));
  auto platform = fdt::validate_platform(*tree, fdt::board_limits(args.psci));
  if (!platform) {
    return refuse(args.json, fdt::to_string(platform.error()), fdt::describe(platform.error()));
  }
  fdt::OutputOptions options;
  options.dice_handover = kHandover;
  options.debuggable = args.debuggable;
  std::vector<std::byte> out(fdt::kMaxTreeSize);
  auto size = fdt::build_output(fdt::platform_template(), *platform, options, out);
  if (!size) return refuse(args.json, fdt::to_string(size.error()), "rebuilding the tree failed");
  out.resize(*size);
  auto out_bytes = std::span(reinterpret_cast<const uint8_t*>(out.data()), out.size());
  if (auto written = write_file(args.files[1], out_bytes); !written) {
    std::fflush(stdout);
    std::fprintf(stderr, "pvm: %s: %s\n", args.files[1].c_str(),
                 to_string(written.error()).c_str());
    return kExitFailed;
  }
  if (args.json) {
    std::printf("%s\n", platform_json(*platform, args.debuggable, *size).c_str());
  } else {
    std::fputs(describe(*platform, args.debuggable, *size).c_str(), stdout);
  }
  return kExitOk;
}

}  // namespace pvm

#include "cmd_fdt.h"

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <board/board.h>
#include <fdt/sanitize.h>

#include "cli.h"  // parse_hex, json_string
#include "cli_options.h"
#include "file_io.h"

namespace pvm {
namespace {

// The board pvmfw is built for; the handover page is its (fdt::sanitize).
constexpr const board::Board& kBoard = board::kQemuVirt;

struct FdtArgs {
  std::vector<std::string> files;
  bool json = false;
  // pvmfw's own defaults (fdt::Options{}): what the flags change, and only that.
  fdt::Options options;
  std::vector<std::byte> rng_seed;  // options.rng_seed views it
  bool help = false;
};

std::expected<std::vector<std::byte>, ArgError> hex_option(std::string_view option,
                                                           std::string_view text, size_t min,
                                                           size_t max) {
  auto bytes = parse_hex(text);
  if (!bytes || bytes->size() < min || bytes->size() > max) {
    return arg_error(ArgErrc::kBadValue, option);
  }
  std::vector<std::byte> out(bytes->size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = std::byte((*bytes)[i]);
  return out;
}

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
         a.options.debuggable = true;
         return ok();
       }},
      {"--psci", true,
       [ok](FdtArgs& a, std::string_view v) -> std::expected<void, ArgError> {
         if (v == "hvc") {
           a.options.conduit = fdt::PsciMethod::kHvc;
         } else if (v == "smc") {
           a.options.conduit = fdt::PsciMethod::kSmc;
         } else {
           return arg_error(ArgErrc::kBadValue, "--psci");
         }
         return ok();
       }},
      // The seeds as /chosen holds them: kaslr-seed 8 bytes (big-endian),
      // rng-seed kMinRngSeed..kMaxRngSeed bytes.
      {"--kaslr-seed", true,
       [ok](FdtArgs& a, std::string_view v) -> std::expected<void, ArgError> {
         auto bytes = hex_option("--kaslr-seed", v, 8, 8);
         if (!bytes) return std::unexpected(bytes.error());
         uint64_t seed = 0;
         for (std::byte b : *bytes) seed = seed << 8 | std::to_integer<uint64_t>(b);
         a.options.kaslr_seed = seed;
         return ok();
       }},
      {"--rng-seed", true,
       [ok](FdtArgs& a, std::string_view v) -> std::expected<void, ArgError> {
         auto bytes = hex_option("--rng-seed", v, fdt::kMinRngSeed, fdt::kMaxRngSeed);
         if (!bytes) return std::unexpected(bytes.error());
         a.rng_seed = std::move(*bytes);
         return ok();
       }},
  };
  return kOptions;
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

std::string describe(const fdt::VmPlatform& p, const fdt::Options& o, size_t out_size) {
  const bool debuggable = o.debuggable;
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
  if (p.dma_pool) {
    line("dma pool", p.dma_pool->reg ? span_text(*p.dma_pool->reg)
                                     : "size " + hex(p.dma_pool->size) + " alignment " +
                                           hex(p.dma_pool->alignment));
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
  line("output", std::to_string(out_size) + " bytes, DICE handover at " +
                     span_text(kBoard.handover) + ", avf,strict-boot");
  // The firmware adds seeds from its entropy source; without them, the
  // output is the firmware's but for /chosen/kaslr-seed and rng-seed.
  std::string seeds;
  if (o.kaslr_seed) seeds += "kaslr-seed";
  if (!o.rng_seed.empty()) seeds += std::string(seeds.empty() ? "" : ", ") + "rng-seed";
  line("seeds", seeds.empty() ? "none (pvmfw adds kaslr-seed and rng-seed from its entropy source)"
                              : seeds + " as given");
  return s;
}

std::string platform_json(const fdt::VmPlatform& p, const fdt::Options& o, size_t out_size) {
  const bool debuggable = o.debuggable;
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
  // The DMA pool under its first key, "swiotlb": a stable name of the JSON
  // output, kept when the code took the name "DMA pool" (as the refusals'
  // SWIOTLB_* names are).
  if (p.dma_pool) {
    s += ",\"swiotlb\":{\"reg\":" + opt_range(p.dma_pool->reg) +
         ",\"size\":" + std::to_string(p.dma_pool->size) +
         ",\"alignment\":" + std::to_string(p.dma_pool->alignment) + "}";
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
  s += ",\"dice_handover\":" + range_json(kBoard.handover);
  s += ",\"strict_boot\":true";
  s += std::string(",\"seeds\":{\"kaslr\":") + (o.kaslr_seed ? "true" : "false") +
       ",\"rng\":" + (o.rng_seed.empty() ? "false" : "true") + "}}";
  return s;
}

// A refusal as pvmfw names it, with the step that refused.
int refuse(const Io& io, bool json, fdt::SanitizeError e) {
  return io.refuse(json, fdt::to_string(e), fdt::describe(e),
                   ",\"step\":" + json_string(fdt::to_string(e.step())));
}

}  // namespace

std::string_view fdt_usage() {
  return R"(usage: pvm fdt sanitize IN.dtb OUT.dtb [--json] [--debuggable] [--psci hvc|smc]
                        [--kaslr-seed HEX] [--rng-seed HEX]

Runs pvmfw's device-tree path (fdt::sanitize, the code pvmfw runs) on IN.dtb
(the VM device tree a VMM would hand it): the structural checks, the
validation into typed values, and the rebuild from pvmfw's own template.
Writes the tree the guest would get to OUT.dtb and prints what was accepted:
memory, cpus, GIC, timer, PSCI, UARTs, virtio-mmio, PCI, DMA pool, kernel,
initrd, bootargs (and the ones kept), /avf.
Input nodes pvmfw does not know are ignored, never copied.

  --json            print one JSON object on stdout
  --debuggable      keep all bootargs (a debuggable payload); otherwise only
                    the allow-list (console=ttyAMA*, earlycon, panic=N,
                    loglevel=N, quiet) is kept
  --psci M          the PSCI conduit pvmfw uses, hvc (EL1, pvmfw's, the
                    default) or smc (EL2, -M virt,virtualization=on); the tree
                    must say the same
  --kaslr-seed HEX  /chosen/kaslr-seed, 8 bytes (16 hex digits, big-endian)
  --rng-seed HEX    /chosen/rng-seed, 32 to 64 bytes

What pvmfw decides itself is not an option: the DICE handover is reserved
where pvmfw writes it (qemu-virt: the last page of its RAM window) and
/chosen/avf,strict-boot is set. The seeds are the one thing pvmfw adds that
this command cannot know (pvmfw takes them from its entropy source): without
--kaslr-seed and --rng-seed, OUT.dtb is pvmfw's tree for IN.dtb but for
those two properties; given the seeds pvmfw used, it is pvmfw's byte for byte.

Exit status: 0 accepted; 1 refused, with "error: NAME: detail" on stderr (and
{"result":"error","error":NAME,"step":"read"|"validate"|"rebuild",...} on
stdout with --json); 2 usage error or an unreadable file.
)";
}

int cmd_fdt(const Io& io, std::span<const std::string_view> words) {
  if (words.empty()) return io.usage_error("fdt", "fdt: missing subcommand (sanitize)");
  if (is_help_option(words[0]) || words[0] == "help") return io.help(fdt_usage());
  if (words[0] != "sanitize")
    return io.usage_error("fdt", "fdt: unknown subcommand '" + std::string(words[0]) + "'");
  FdtArgs args;
  auto parsed = parse_args<FdtArgs>(
      words.subspan(1), fdt_options(), args, [](FdtArgs& a, std::string_view v) {
        if (a.files.size() == 2)
          return std::expected<void, ArgError>(arg_error(ArgErrc::kUnexpectedArgument, v));
        a.files.emplace_back(v);
        return std::expected<void, ArgError>();
      });
  if (!parsed) return io.usage_error("fdt", to_string(parsed.error()));
  if (args.help) return io.help(fdt_usage());
  if (args.files.size() != 2) return io.usage_error("fdt", "fdt sanitize: need IN.dtb and OUT.dtb");

  // Up to twice the DT window, so an oversized tree is refused by pvmfw's
  // own rule (FDT_TOO_BIG) rather than by the file reader.
  auto input = read_file(args.files[0], 2 * kBoard.dt_window.size);
  if (!input) return io.usage_error("fdt", args.files[0] + ": " + to_string(input.error()));
  args.options.rng_seed = args.rng_seed;
  std::vector<std::byte> out(kBoard.dt_window.size);
  auto done = fdt::sanitize(std::as_bytes(std::span(*input)), kBoard, args.options, out);
  if (!done) return refuse(io, args.json, done.error());
  out.resize(done->size);
  auto out_bytes = std::span(reinterpret_cast<const uint8_t*>(out.data()), out.size());
  if (auto written = write_file(args.files[1], out_bytes); !written) {
    return io.fail(args.files[1] + ": " + to_string(written.error()));
  }
  if (args.json) {
    io.say(platform_json(done->platform, args.options, done->size));
  } else {
    io.print(describe(done->platform, args.options, done->size));
  }
  return kExitOk;
}

}  // namespace pvm

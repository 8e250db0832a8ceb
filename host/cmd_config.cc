// `pvm config pack|unpack|append`: the pvmfw configuration blob
// (dice/config.h) made, read and appended to a firmware image.
#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <board/layout.h>
#include <dice/config.h>

#include "cli.h"
#include "cli_options.h"
#include "cmd_dice.h"
#include "file_io.h"

namespace pvm {
namespace {

namespace fs = std::filesystem;

// The appended blob starts at the next 4 KiB boundary after the image
// (where AOSP pvmfw looks for its appended configuration data).
constexpr uint64_t kConfigAlignment = 4096;
// Nothing the blob holds comes near this; it bounds what is read.
constexpr uint64_t kMaxBlobInput = BOARD_IMAGE_MAX_SIZE;

using Result = std::expected<void, ArgError>;

struct ConfigArgs {
  std::string verb;  // pack, unpack, append
  std::array<std::optional<std::string>, dice::kConfigEntries> entries;
  std::optional<dice::ConfigVersion> version;
  std::optional<std::string> out;
  std::optional<std::string> out_dir;
  std::optional<std::string> firmware;
  std::optional<std::string> config;
  std::vector<std::string> files;
  bool json = false;
  bool help = false;
};

Result set_entry(ConfigArgs& a, dice::ConfigEntry e, std::string_view v) {
  a.entries[static_cast<size_t>(e)] = std::string(v);
  return {};
}

std::span<const OptionSpec<ConfigArgs>> config_options() {
  using E = dice::ConfigEntry;
  static const OptionSpec<ConfigArgs> kOptions[] = {
      {"--dice-handover", true,
       [](ConfigArgs& a, std::string_view v) { return set_entry(a, E::kDiceHandover, v); }},
      {"--debug-policy", true,
       [](ConfigArgs& a, std::string_view v) { return set_entry(a, E::kDebugPolicy, v); }},
      {"--vm-dtbo", true,
       [](ConfigArgs& a, std::string_view v) { return set_entry(a, E::kVmDtbo, v); }},
      {"--vm-reference-dt", true,
       [](ConfigArgs& a, std::string_view v) { return set_entry(a, E::kVmReferenceDt, v); }},
      {"--reserved-memory", true,
       [](ConfigArgs& a, std::string_view v) { return set_entry(a, E::kReservedMemory, v); }},
      {"--version", true,
       [](ConfigArgs& a, std::string_view v) -> Result {
         // "1.N"
         if (!v.starts_with("1.")) return arg_error(ArgErrc::kBadValue, "--version");
         auto minor = parse_number<uint16_t>("--version", v.substr(2), 0, dice::kConfigNewestMinor);
         if (!minor) return std::unexpected(minor.error());
         a.version = dice::ConfigVersion{1, *minor};
         return {};
       }},
      {"--out", true, store(&ConfigArgs::out)},
      {"--out-dir", true, store(&ConfigArgs::out_dir)},
      {"--firmware", true, store(&ConfigArgs::firmware)},
      {"--config", true, store(&ConfigArgs::config)},
      {"--json", false, set_flag(&ConfigArgs::json)},
  };
  return kOptions;
}

std::expected<ConfigArgs, ArgError> parse_config_args(std::span<const std::string_view> words) {
  ConfigArgs a;
  auto positional = [](ConfigArgs& args, std::string_view v) -> Result {
    if (args.verb.empty()) {
      if (v != "pack" && v != "unpack" && v != "append") return arg_error(ArgErrc::kBadValue, v);
      args.verb = std::string(v);
    } else {
      args.files.emplace_back(v);
    }
    return {};
  };
  if (auto parsed = parse_args<ConfigArgs>(words, config_options(), a, positional); !parsed) {
    return std::unexpected(parsed.error());
  }
  if (a.help) return a;
  if (a.verb.empty()) return arg_error(ArgErrc::kRequired, "pack|unpack|append");
  const bool any_entry =
      std::any_of(a.entries.begin(), a.entries.end(), [](const auto& e) { return e.has_value(); });
  if (a.verb == "pack") {
    if (!a.entries[0]) return arg_error(ArgErrc::kRequired, "--dice-handover");
    if (!a.out) return arg_error(ArgErrc::kRequired, "--out");
    if (!a.files.empty()) return arg_error(ArgErrc::kUnexpectedArgument, a.files[0]);
    if (a.out_dir || a.firmware || a.config || a.json) return arg_error(ArgErrc::kConflict, "pack");
  } else if (a.verb == "unpack") {
    if (a.files.size() != 1) return arg_error(ArgErrc::kRequired, "BLOB");
    if (any_entry || a.version || a.out || a.firmware || a.config) {
      return arg_error(ArgErrc::kConflict, "unpack");
    }
  } else {
    if (!a.firmware) return arg_error(ArgErrc::kRequired, "--firmware");
    if (!a.config) return arg_error(ArgErrc::kRequired, "--config");
    if (!a.out) return arg_error(ArgErrc::kRequired, "--out");
    if (!a.files.empty()) return arg_error(ArgErrc::kUnexpectedArgument, a.files[0]);
    if (any_entry || a.version || a.out_dir || a.json)
      return arg_error(ArgErrc::kConflict, "append");
  }
  return a;
}

// The file name `unpack --out-dir` gives an entry.
std::string entry_file_name(dice::ConfigEntry e) {
  switch (e) {
    case dice::ConfigEntry::kDiceHandover:
      return "dice_handover.cbor";
    case dice::ConfigEntry::kDebugPolicy:
      return "debug_policy.dtbo";
    case dice::ConfigEntry::kVmDtbo:
      return "vm_dtbo.dtbo";
    case dice::ConfigEntry::kVmReferenceDt:
      return "vm_reference_dt.dtb";
    case dice::ConfigEntry::kReservedMemory:
      return "reserved_memory.bin";
  }
  return "entry.bin";
}

// "error: NAME: PATH is not a valid pvmfw config", NAME as dice/config.h names it.
int refuse_blob(const Io& io, dice::ConfigError error, const std::string& path) {
  io.error_line(std::string("error: ") + dice::to_string(error) + ": " + path +
                " is not a valid pvmfw config");
  return kExitFailed;
}

int pack(const Io& io, const ConfigArgs& a) {
  std::array<std::vector<uint8_t>, dice::kConfigEntries> contents;
  dice::ConfigSpec spec;
  for (size_t i = 0; i < dice::kConfigEntries; ++i) {
    if (!a.entries[i]) continue;
    auto bytes = read_file(*a.entries[i], kMaxBlobInput);
    if (!bytes) return io.usage_error("config", *a.entries[i] + ": " + to_string(bytes.error()));
    if (bytes->empty())
      return io.usage_error("config", *a.entries[i] + ": empty (an empty entry is absent)");
    contents[i] = std::move(*bytes);
    spec.entries[i] = std::as_bytes(std::span(contents[i]));
  }
  spec.version = a.version.value_or(dice::minimal_config_version(spec));
  auto size = dice::write_config(spec, {});
  if (!size) {
    return io.usage_error("config", std::string("config: ") + dice::to_string(size.error()) +
                                        " (an entry the version 1." +
                                        std::to_string(spec.version.minor) + " has no slot for?)");
  }
  std::vector<uint8_t> blob(*size);
  if (auto written = dice::write_config(spec, std::as_writable_bytes(std::span(blob))); !written) {
    return io.fail(std::string("config: ") + dice::to_string(written.error()));
  }
  if (auto w = write_private_file(*a.out, blob); !w) {
    return io.fail(*a.out + ": " + to_string(w.error()));
  }
  std::fprintf(io.out, "pvm: wrote config v1.%u (%zu bytes) to %s\n", spec.version.minor,
               blob.size(), a.out->c_str());
  return kExitOk;
}

int unpack(const Io& io, const ConfigArgs& a) {
  const std::string& path = a.files[0];
  auto bytes = read_file(path, kMaxBlobInput);
  if (!bytes) return io.usage_error("config", path + ": " + to_string(bytes.error()));
  auto config = dice::parse_config(std::as_bytes(std::span(*bytes)));
  if (!config) {
    if (a.json) {
      io.say("{\"result\":\"error\",\"error\":" + json_string(dice::to_string(config.error())) +
             "}");
    }
    return refuse_blob(io, config.error(), path);
  }
  if (a.out_dir) {
    std::error_code ec;
    fs::create_directories(*a.out_dir, ec);
    for (size_t i = 0; i < dice::kConfigEntries; ++i) {
      if (!config->entries[i]) continue;
      const fs::path out =
          fs::path(*a.out_dir) / entry_file_name(static_cast<dice::ConfigEntry>(i));
      const auto* data = reinterpret_cast<const uint8_t*>(config->entries[i]->data());
      if (auto w = write_private_file(out, std::span(data, config->entries[i]->size())); !w) {
        return io.fail(out.string() + ": " + to_string(w.error()));
      }
    }
  }
  const size_t count = dice::config_entry_count(config->parsed_minor);
  if (a.json) {
    std::string json = "{\"result\":\"ok\",\"version\":\"1." +
                       std::to_string(config->version.minor) + "\",\"parsed_as\":\"1." +
                       std::to_string(config->parsed_minor) +
                       "\",\"total_size\":" + std::to_string(config->total_size) +
                       ",\"flags\":" + std::to_string(config->flags) + ",\"entries\":{";
    for (size_t i = 0; i < count; ++i) {
      if (i != 0) json += ",";
      json += json_string(dice::to_string(static_cast<dice::ConfigEntry>(i))) +
              ":{\"present\":" + (config->entries[i] ? "true" : "false") +
              ",\"offset\":" + std::to_string(config->ranges[i].offset) +
              ",\"size\":" + std::to_string(config->ranges[i].size) + "}";
    }
    json += "}}";
    std::fprintf(io.out, "%s\n", json.c_str());
    return kExitOk;
  }
  std::fprintf(io.out, "pvmfw config v1.%u%s, %u bytes\n", config->version.minor,
               config->version.minor != config->parsed_minor ? " (read as 1.3)" : "",
               config->total_size);
  for (size_t i = 0; i < count; ++i) {
    const char* name = dice::to_string(static_cast<dice::ConfigEntry>(i));
    if (config->entries[i]) {
      std::fprintf(io.out, "  %-16s offset %6u  size %6u\n", name, config->ranges[i].offset,
                   config->ranges[i].size);
    } else {
      std::fprintf(io.out, "  %-16s absent\n", name);
    }
  }
  return kExitOk;
}

int append(const Io& io, const ConfigArgs& a) {
  auto firmware = read_file(*a.firmware, BOARD_IMAGE_MAX_SIZE);
  if (!firmware) return io.usage_error("config", *a.firmware + ": " + to_string(firmware.error()));
  auto blob = read_file(*a.config, BOARD_IMAGE_MAX_SIZE);
  if (!blob) return io.usage_error("config", *a.config + ": " + to_string(blob.error()));
  auto config = dice::parse_config(std::as_bytes(std::span(*blob)));
  if (!config) return refuse_blob(io, config.error(), *a.config);
  const uint64_t offset =
      (firmware->size() + kConfigAlignment - 1) / kConfigAlignment * kConfigAlignment;
  if (offset + blob->size() > BOARD_IMAGE_MAX_SIZE) {
    return io.fail("firmware (" + std::to_string(firmware->size()) + " bytes, padded to " +
                   std::to_string(offset) + ") + config (" + std::to_string(blob->size()) +
                   " bytes) exceeds the " + std::to_string(BOARD_IMAGE_MAX_SIZE) +
                   "-byte image limit");
  }
  std::vector<uint8_t> image = std::move(*firmware);
  image.resize(offset, 0);
  image.insert(image.end(), blob->begin(), blob->end());
  if (auto w = write_private_file(*a.out, image); !w) {
    return io.fail(*a.out + ": " + to_string(w.error()));
  }
  std::fprintf(io.out,
               "pvm: wrote %s: firmware, config at offset 0x%llx (%zu bytes), %zu bytes in all\n",
               a.out->c_str(), static_cast<unsigned long long>(offset), blob->size(), image.size());
  return kExitOk;
}

}  // namespace

int cmd_config(const Io& io, std::span<const std::string_view> words) {
  auto args = parse_config_args(words);
  if (!args) return io.usage_error("config", to_string(args.error()));
  if (args->help) return io.help(config_usage());
  if (args->verb == "pack") return pack(io, *args);
  if (args->verb == "unpack") return unpack(io, *args);
  return append(io, *args);
}

std::string_view config_usage() {
  return R"(usage: pvm config pack --dice-handover F [--debug-policy F] [--vm-dtbo F]
                       [--vm-reference-dt F] [--reserved-memory F]
                       [--version 1.N] --out BLOB
       pvm config unpack BLOB [--json] [--out-dir D]
       pvm config append --firmware pvmfw.bin --config BLOB --out IMAGE

The configuration blob pvmfw finds after its image (AOSP's "pvmfw config"):
a "pvmf" header, an entry table, and the entries, each 8-byte aligned.

  pack     lays the given files out as entries (the DICE handover is required)
           in the lowest version that has a slot for each (or --version 1.0..1.3)
  unpack   checks BLOB exactly as pvmfw does and lists its entries; --out-dir
           writes each present entry to D (dice_handover.cbor, debug_policy.dtbo,
           vm_dtbo.dtbo, vm_reference_dt.dtb, reserved_memory.bin)
  append   pads the firmware image with zeros to a 4 KiB boundary and appends
           BLOB (which must be a valid config); the result must fit the
           board's 2 MiB image region

Exit status: 0 done; 1 BLOB refused ("error: NAME: ..." on stderr, NAME as
pvmfw's config parser names it) or the result does not fit; 2 usage error or
an unreadable file.
)";
}

}  // namespace pvm

// pvm: the host launcher for pvmfw. See README.md and `pvm help`.
//
// Subcommands are rows of kCommands; each handler gets the words after its
// name and returns the process exit status (0 ok, 1 failure, 2 usage).
#include <signal.h>
#include <string.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <board/layout.h>
#include <base/wipe.h>
#include <dice/config.h>
#include <verify/verify.h>

#include "arm64_image.h"
#include "avb_args.h"
#include "avb_crypto.h"
#include "avb_sign.h"
#include "cmd_dice.h"
#include "cmd_fdt.h"
#include "file_io.h"
#include "initramfs.h"
#include "instance.h"
#include "layout.h"
#include "qemu.h"
#include "run_args.h"
#include "verify_report.h"
#include "vm_dt.h"

namespace pvm {
namespace {

namespace fs = std::filesystem;

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

void say(std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

void complain(std::string_view text) {
  std::fflush(stdout);
  std::fprintf(stderr, "pvm: %.*s\n", static_cast<int>(text.size()), text.data());
}

std::string hex(uint64_t value) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(value));
  return buf;
}

std::optional<std::string> env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

// The newest "vmlinuz-<version>-cloud-arm64" in `boot_dir`, by version sort
// (strverscmp: 6.1.0-10 sorts after 6.1.0-9).
std::optional<fs::path> newest_cloud_kernel(const fs::path& boot_dir) {
  std::error_code ec;
  std::vector<std::string> names;
  for (fs::directory_iterator it(boot_dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.starts_with("vmlinuz-") && name.ends_with("-cloud-arm64")) names.push_back(name);
  }
  if (names.empty()) return std::nullopt;
  std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
    return ::strverscmp(a.c_str(), b.c_str()) < 0;
  });
  return boot_dir / names.back();
}

void on_signal(int) {
  // QEMU shares our process group and gets terminal signals itself; this
  // makes run_qemu() reap it and return so the work folder is cleaned up.
  request_stop();
}

void install_signal_handlers() {
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: poll() returns EINTR
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGHUP, &action, nullptr);
  // A closed stdout (`pvm run | head`) must not kill us before QEMU is
  // reaped and the work folder removed; the verdict is in the exit status.
  std::signal(SIGPIPE, SIG_IGN);
}

int usage_error(std::string_view message) {
  complain(message);
  std::fprintf(stderr, "pvm: see `pvm run --help`\n");
  return kExitUsage;
}

std::expected<avb::RsaKey, std::string> load_private_key(const std::string& path);

// Signs the kernel for pvmfw as a build system would (avbtool add_hash_footer
// over "boot", plus an initrd_normal hash descriptor when there is an initrd),
// writing the signed partition into the work folder. Random salts.
std::expected<std::string, std::string> sign_payload(const std::string& kernel_path,
                                                     const std::optional<std::string>& initrd_path,
                                                     const std::string& key_path,
                                                     const fs::path& work) {
  auto key = load_private_key(key_path);  // the PEM bytes are wiped there
  if (!key) return std::unexpected("key " + key.error());
  auto kernel = read_file(kernel_path);
  if (!kernel) return std::unexpected("kernel " + kernel_path + ": " + to_string(kernel.error()));
  avb::FooterSpec spec;
  spec.partition_name = "boot";
  auto salt = avb::random_bytes(32);
  if (!salt) return std::unexpected("salt: " + std::string(to_string(salt.error())));
  spec.salt = *salt;
  spec.vbmeta.algorithm = key->bits() == 2048   ? avb::Algorithm::kSha256Rsa2048
                          : key->bits() == 8192 ? avb::Algorithm::kSha256Rsa8192
                                                : avb::Algorithm::kSha256Rsa4096;
  spec.vbmeta.key = &*key;
  if (initrd_path) {
    auto initrd = read_file(*initrd_path);
    if (!initrd) return std::unexpected("initrd " + *initrd_path + ": " + to_string(initrd.error()));
    auto initrd_salt = avb::random_bytes(32);
    if (!initrd_salt) return std::unexpected("salt: " + std::string(to_string(initrd_salt.error())));
    spec.vbmeta.included.push_back(avb::make_hash_descriptor(
        "initrd_normal", avb::HashAlgorithm::kSha256, *initrd_salt, *initrd));
  }
  auto signed_kernel = avb::add_hash_footer(*kernel, std::move(spec));
  if (!signed_kernel) return std::unexpected("signing: " + avb::to_string(signed_kernel.error()));
  const fs::path out = work / "kernel.signed";
  if (auto written = write_file(out, *signed_kernel); !written) {
    return std::unexpected(out.string() + ": " + to_string(written.error()));
  }
  return out.string();
}

int cmd_run(std::span<const std::string_view> words) {
  auto parsed = parse_run_args(words);
  if (!parsed) return usage_error(to_string(parsed.error()));
  const RunArgs& args = *parsed;
  if (args.help) {
    std::fputs(run_usage().data(), stdout);
    return kExitOk;
  }

  // ---- Inputs: explicit options first, then the ./pvm wrapper's environment.
  std::optional<std::string> guest_dir = env("PVM_GUEST_DIR");
  std::optional<std::string> firmware = args.firmware ? args.firmware : env("PVM_FIRMWARE");
  if (!firmware) return usage_error("no firmware: pass --firmware or set PVM_FIRMWARE");
  if (auto size = regular_file_size(*firmware); !size) {
    return usage_error("firmware " + *firmware + ": " + to_string(size.error()));
  }

  std::string kernel_path;
  if (args.kernel) {
    kernel_path = *args.kernel;
  } else if (!guest_dir) {
    return usage_error("no kernel: pass --kernel or set PVM_GUEST_DIR");
  } else if (auto found = newest_cloud_kernel(fs::path(*guest_dir) / "boot")) {
    kernel_path = found->string();
  } else {
    return usage_error("no vmlinuz-*-cloud-arm64 in " + *guest_dir + "/boot");
  }
  auto kernel_bytes = read_file(kernel_path);
  if (!kernel_bytes) return usage_error("kernel " + kernel_path + ": " + to_string(kernel_bytes.error()));
  auto kernel = describe_kernel_payload(std::as_bytes(std::span(*kernel_bytes)));
  if (!kernel) return usage_error("kernel " + kernel_path + ": " + std::string(to_string(kernel.error())));
  kernel_bytes->clear();
  kernel_bytes->shrink_to_fit();

  // ---- Generated files live in the work folder.
  auto work = args.keep_dir ? WorkDir::use_existing(*args.keep_dir) : WorkDir::create_temporary();
  if (!work) return usage_error("work folder: " + to_string(work.error()));

  std::optional<std::string> initrd_path;
  std::optional<uint64_t> initrd_size;
  if (args.initrd) {
    auto size = regular_file_size(*args.initrd);
    if (!size) return usage_error("initrd " + *args.initrd + ": " + to_string(size.error()));
    initrd_path = *args.initrd;
    initrd_size = *size;
  } else if (!args.no_initrd) {
    std::string busybox;
    if (args.busybox) {
      busybox = *args.busybox;
    } else if (guest_dir) {
      busybox = *guest_dir + "/bin/busybox";
    } else {
      return usage_error("no initrd: pass --initrd, --busybox, --no-initrd or set PVM_GUEST_DIR");
    }
    auto busybox_bytes = read_file(busybox);
    if (!busybox_bytes) return usage_error("busybox " + busybox + ": " + to_string(busybox_bytes.error()));
    auto cpio = build_demo_initramfs(*busybox_bytes);
    if (!cpio) return usage_error("initramfs: " + std::string(to_string(cpio.error())));
    auto archive = gzip(*cpio);
    if (!archive) return usage_error("initramfs: " + std::string(to_string(archive.error())));
    fs::path out = work->path() / "initramfs.cpio.gz";
    if (auto written = write_file(out, *archive); !written) {
      complain(out.string() + ": " + to_string(written.error()));
      return kExitFailed;
    }
    initrd_path = out.string();
    initrd_size = archive->size();
  }

  // ---- Signing, when asked: the payload pvmfw verifies is the signed partition.
  if (args.sign_key) {
    auto signed_path = sign_payload(kernel_path, initrd_path, *args.sign_key, work->path());
    if (!signed_path) return usage_error(signed_path.error());
    kernel_path = *signed_path;
    auto signed_bytes = read_file(kernel_path);
    if (!signed_bytes) return usage_error(kernel_path + ": " + to_string(signed_bytes.error()));
    kernel = describe_kernel_payload(std::as_bytes(std::span(*signed_bytes)));
    if (!kernel) return usage_error(kernel_path + ": " + std::string(to_string(kernel.error())));
  }

  // ---- Layout and device tree.
  auto layout = plan_vm_layout(*kernel, initrd_size, args.mem_mib << 20);
  if (!layout) return usage_error(std::string(to_string(layout.error())) + " (--mem " +
                                  std::to_string(args.mem_mib) + ")");
  VmDtConfig dt_config;
  dt_config.ram_size = layout->ram_size;
  dt_config.cpus = args.cpus;
  dt_config.bootargs = args.cmdline;
  dt_config.kernel = VmDtConfig::Kernel{layout->kernel_address, layout->kernel_size};
  if (layout->initrd) dt_config.initrd = VmDtConfig::Range{layout->initrd->start, layout->initrd->end};
  dt_config.test_hook = args.test_hook;
  std::string instance_note;
  if (args.instance_id) {
    dt_config.instance_id = *args.instance_id;
    instance_note = "given instance id";
  } else if (!args.no_instance) {
    auto instance = load_instance(args.instance, /*create=*/true);
    if (!instance) return usage_error("instance: " + instance.error());
    dt_config.instance_id = std::move(instance->id);
    instance_note = "instance " + args.instance + (instance->created ? " (new)" : "");
  } else {
    instance_note = "no instance id";
  }
  auto dtb = make_vm_dt(dt_config);
  if (!dtb) return usage_error("device tree: " + std::string(to_string(dtb.error())));
  if (dtb->size() > BOARD_DT_MAX_SIZE) return usage_error("device tree larger than BOARD_DT_MAX_SIZE");
  fs::path dtb_path = work->path() / "vm.dtb";
  for (const fs::path& out : {dtb_path, args.dt_out ? fs::path(*args.dt_out) : fs::path()}) {
    if (out.empty()) continue;
    if (auto written = write_file(out, *dtb); !written) {
      complain(out.string() + ": " + to_string(written.error()));
      return kExitFailed;
    }
  }

  // ---- QEMU.
  QemuConfig qemu;
  qemu.mem_mib = args.mem_mib;
  qemu.cpus = args.cpus;
  qemu.firmware = *firmware;
  qemu.dtb = args.dtb ? *args.dtb : dtb_path.string();
  qemu.icount = args.icount;
  qemu.virtualization = args.virtualization;
  qemu.extra_args = args.qemu_args;

  // ---- The configuration blob: the previous DICE stage's handover, made from
  // this machine's device secret (created on first use), placed in RAM where
  // pvmfw reads and then wipes it (board layout: BOARD_CONFIG_BASE).
  if (!args.no_config) {
    const std::string secret = default_device_secret_path();
    if (!fs::exists(secret)) {
      const std::string_view init[] = {"init", "--out", secret};
      if (cmd_device(init) != kExitOk) return kExitFailed;
    }
    auto handover = device_previous_stage_handover(secret);
    if (!handover) return usage_error("previous DICE stage: " + handover.error());
    dice::ConfigSpec spec;
    spec.entries[0] = std::as_bytes(std::span(*handover));
    std::vector<std::byte> blob(BOARD_CONFIG_MAX_SIZE);
    auto size = dice::write_config(spec, blob);
    // Both hold the previous stage's CDIs: wiped once the file is written.
    base::secure_wipe(handover->data(), handover->size());
    if (!size) {
      base::secure_wipe(blob.data(), blob.size());
      return usage_error(std::string("config blob: ") + dice::to_string(size.error()));
    }
    const fs::path config_path = work->path() / "config.bin";
    auto written = write_private_file(config_path, std::span(reinterpret_cast<const uint8_t*>(blob.data()),
                                                     *size));
    base::secure_wipe(blob.data(), blob.size());
    if (!written) return usage_error(config_path.string() + ": " + to_string(written.error()));
    char addr[32];
    std::snprintf(addr, sizeof(addr), "0x%x", BOARD_CONFIG_BASE);
    qemu.extra_args.insert(qemu.extra_args.begin(),
                           {"-device", "loader,file=" + config_path.string() + ",addr=" + addr +
                                           ",force-raw=on"});
  }
  if (args.qemu) qemu.qemu = *args.qemu;
  qemu.loads.push_back({kernel_path, layout->kernel_address});
  if (initrd_path) qemu.loads.push_back({*initrd_path, layout->initrd->start});
  std::vector<std::string> argv = build_qemu_argv(qemu);

  Expectations expectations{.goals = args.expect, .expected_failure = args.expect_fail};
  if (expectations.goals.empty() && !expectations.expected_failure) {
    expectations.goals.emplace_back(kDefaultGoal);
  }

  std::string summary = "pvm: kernel " + hex(layout->kernel_address) + " (" +
                        std::to_string(layout->kernel_size) + " bytes" +
                        (kernel->is_linux ? "" : ", raw") + "), initrd ";
  summary += layout->initrd ? hex(layout->initrd->start) + "-" + hex(layout->initrd->end) : "none";
  summary += ", " + instance_note + ", dt via -dtb, firmware " + *firmware;
  say(summary);
  if (args.print_cmd) say(shell_command(argv));

  install_signal_handlers();
  RunOptions options{
      .timeout = std::chrono::seconds(args.timeout_s),
      .on_console = [](std::string_view line) { say(line); },
      .on_stderr =
          [](std::string_view line) {
            std::fflush(stdout);
            std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
          },
  };
  auto result = run_qemu(argv, expectations, options);
  if (!result) {
    complain(to_string(result.error()) + " (" + argv[0] + ")");
    return kExitFailed;
  }
  Judgement judgement = judge(*result, expectations);
  if (judgement.verdict != Verdict::kPass) {
    complain(judgement.message);
    return kExitFailed;
  }
  return kExitOk;
}

// ---- keygen, key export, sign --------------------------------------------------

// Prints `usage` and returns kExitOk when `help` is set; otherwise -1.
int usage_if_help(bool help, std::string_view usage) {
  if (!help) return -1;
  std::fwrite(usage.data(), 1, usage.size(), stdout);
  return kExitOk;
}

int command_usage_error(std::string_view command, std::string_view message) {
  complain(message);
  std::fprintf(stderr, "pvm: see `pvm %.*s --help`\n", static_cast<int>(command.size()),
               command.data());
  return kExitUsage;
}

// Reads and parses a PEM private key; the file's bytes are wiped after.
std::expected<avb::RsaKey, std::string> load_private_key(const std::string& path) {
  auto bytes = read_file(path, 1 << 20);
  if (!bytes) return std::unexpected(path + ": " + to_string(bytes.error()));
  avb::SecretBytes pem(std::move(*bytes));
  auto key = avb::RsaKey::from_pem(pem.bytes());
  if (!key) return std::unexpected(path + ": " + to_string(key.error()));
  return std::move(*key);
}

int cmd_keygen(std::span<const std::string_view> words) {
  auto args = parse_keygen_args(words);
  if (!args) return command_usage_error("keygen", to_string(args.error()));
  if (int status = usage_if_help(args->help, keygen_usage()); status >= 0) return status;
  if (fs::exists(args->out)) {
    return command_usage_error("keygen", args->out + " exists; not overwriting a key");
  }
  auto key = avb::RsaKey::generate(args->bits);
  if (!key) {
    complain(to_string(key.error()));
    return kExitFailed;
  }
  auto pem = key->to_pem();
  if (!pem) {
    complain(to_string(pem.error()));
    return kExitFailed;
  }
  if (auto written = write_new_private_file(args->out, pem->bytes()); !written) {
    complain(args->out + ": " + to_string(written.error()));
    return kExitFailed;
  }
  say("pvm: wrote a " + std::to_string(args->bits) + "-bit RSA key to " + args->out);
  return kExitOk;
}

int cmd_key(std::span<const std::string_view> words) {
  auto args = parse_key_args(words);
  if (!args) return command_usage_error("key", to_string(args.error()));
  if (int status = usage_if_help(args->help, key_usage()); status >= 0) return status;
  auto key = load_private_key(args->key);
  if (!key) return command_usage_error("key", key.error());
  auto blob = key->avb_public_key();
  if (!blob) {
    complain(to_string(blob.error()));
    return kExitFailed;
  }
  if (auto written = write_file(args->out, *blob); !written) {
    complain(args->out + ": " + to_string(written.error()));
    return kExitFailed;
  }
  return kExitOk;
}

// The salt given, or a random one as long as the digest (avbtool's default).
std::expected<std::vector<uint8_t>, std::string> salt_or_random(
    const std::optional<std::vector<uint8_t>>& given, avb::HashAlgorithm algorithm) {
  if (given) return *given;
  auto random = avb::random_bytes(avb::digest_size(algorithm));
  if (!random) return std::unexpected(to_string(random.error()));
  return std::move(*random);
}

int cmd_sign(std::span<const std::string_view> words) {
  auto parsed = parse_sign_args(words);
  if (!parsed) return command_usage_error("sign", to_string(parsed.error()));
  const SignArgs& args = *parsed;
  if (int status = usage_if_help(args.help, sign_usage()); status >= 0) return status;

  std::optional<avb::RsaKey> key;
  if (args.key) {
    auto loaded = load_private_key(*args.key);
    if (!loaded) return command_usage_error("sign", loaded.error());
    key = std::move(*loaded);
  }
  avb::VbmetaSpec vbmeta{
      .algorithm = *args.algorithm,
      .key = key ? &*key : nullptr,
      .rollback_index = args.rollback_index,
      .descriptors = {},
      .properties = args.properties,
      .included = {},
  };
  for (const SignArgs::HashImage& hash_image : args.hash_images) {
    auto bytes = read_file(hash_image.file);
    if (!bytes) {
      return command_usage_error("sign", hash_image.file + ": " + to_string(bytes.error()));
    }
    std::optional<std::vector<uint8_t>> given;
    for (const SignArgs::HashSalt& salt : args.hash_salts) {
      if (salt.partition == hash_image.partition) given = salt.salt;
    }
    auto salt = salt_or_random(given, args.hash_algorithm);
    if (!salt) {
      complain(salt.error());
      return kExitFailed;
    }
    vbmeta.included.push_back(avb::make_hash_descriptor(hash_image.partition, args.hash_algorithm,
                                                        std::move(*salt), *bytes));
  }

  std::expected<std::vector<uint8_t>, avb::SignError> result;
  std::string output;
  std::string what;
  if (args.vbmeta_image) {
    output = *args.output;
    result = avb::make_vbmeta_image(vbmeta);
    what = "vbmeta image";
  } else {
    output = args.output.value_or(args.image);
    auto image = read_file(args.image, kMaxPartitionSize);
    if (!image) return command_usage_error("sign", args.image + ": " + to_string(image.error()));
    auto salt = salt_or_random(args.salt, args.hash_algorithm);
    if (!salt) {
      complain(salt.error());
      return kExitFailed;
    }
    avb::FooterSpec footer{
        .partition_name = args.partition,
        .hash_algorithm = args.hash_algorithm,
        .salt = std::move(*salt),
        .partition_size = args.partition_size,
        .vbmeta = std::move(vbmeta),
    };
    result = avb::add_hash_footer(*image, std::move(footer));
    what = "partition " + args.partition;
  }
  if (!result) {
    complain(to_string(result.error()));
    return kExitFailed;
  }
  if (auto written = write_file(output, *result); !written) {
    complain(output + ": " + to_string(written.error()));
    return kExitFailed;
  }
  say("pvm: wrote " + what + " to " + output + " (" + std::to_string(result->size()) +
      " bytes, " + std::string(avb::to_string(*args.algorithm)) + ")");
  return kExitOk;
}

// ---- verify -----------------------------------------------------------------------

int cmd_verify(std::span<const std::string_view> words) {
  auto args = parse_verify_args(words);
  if (!args) return command_usage_error("verify", to_string(args.error()));
  if (int status = usage_if_help(args->help, verify_usage()); status >= 0) return status;

  auto read = [](const std::string& path) { return read_file(path, kMaxPartitionSize); };
  auto key = read(args->key);
  if (!key) return command_usage_error("verify", args->key + ": " + to_string(key.error()));
  auto kernel = read(args->kernel);
  if (!kernel) {
    return command_usage_error("verify", args->kernel + ": " + to_string(kernel.error()));
  }
  std::optional<std::vector<uint8_t>> initrd, vbmeta;
  for (auto [path, bytes] :
       {std::pair{&args->initrd, &initrd}, std::pair{&args->vbmeta, &vbmeta}}) {
    if (!*path) continue;
    auto loaded = read(**path);
    if (!loaded) return command_usage_error("verify", **path + ": " + to_string(loaded.error()));
    *bytes = std::move(*loaded);
  }

  verify::PayloadInputs inputs{
      .kernel = std::as_bytes(std::span(*kernel)),
      .initrd = std::nullopt,
      .vbmeta = std::nullopt,
      .trusted_public_key = std::as_bytes(std::span(*key)),
      .stored_rollback_index = args->stored_rollback_index,
  };
  if (initrd) inputs.initrd = std::as_bytes(std::span(*initrd));
  if (vbmeta) inputs.vbmeta = std::as_bytes(std::span(*vbmeta));

  auto verified = verify::verify_payload(inputs);
  if (!verified) {
    if (args->json) say(failure_json(verified.error()));
    std::fflush(stdout);
    std::fprintf(stderr, "%s\n", failure_line(verified.error()).c_str());
    return kExitFailed;
  }
  if (args->json) {
    say(verified_json(*verified));
  } else {
    std::string summary = describe_verified(*verified);
    std::fwrite(summary.data(), 1, summary.size(), stdout);
  }
  return kExitOk;
}

// ---- command table ------------------------------------------------------------------

int cmd_help(std::span<const std::string_view> words);

std::string_view no_usage() { return {}; }

struct Command {
  std::string_view name;
  int (*handler)(std::span<const std::string_view>);
  std::string_view summary;
  std::string_view (*usage)();  // what `pvm help NAME` and `pvm NAME --help` print
};

constexpr Command kCommands[] = {
    {"run", cmd_run, "boot pvmfw + a kernel under QEMU and check the console", run_usage},
    {"keygen", cmd_keygen, "make an RSA key for signing payloads (PEM, mode 0600)", keygen_usage},
    {"key", cmd_key, "key export: write a key's AVB public key blob", key_usage},
    {"sign", cmd_sign, "add an AVB hash footer (or make a vbmeta image), as avbtool",
     sign_usage},
    {"verify", cmd_verify, "check a payload's AVB signature as pvmfw does", verify_usage},
    {"fdt", cmd_fdt, "fdt sanitize: rebuild a device tree as pvmfw does", fdt_usage},
    {"dice", cmd_dice, "derive, predict and inspect DICE handovers as pvmfw makes them",
     dice_usage},
    {"config", cmd_config, "pack, unpack or append pvmfw's configuration blob", config_usage},
    {"device", cmd_device, "init: this machine's device secret, for -bios runs' DICE",
     device_usage},
    {"help", cmd_help, "show this help, or `pvm help COMMAND` for a command's options",
     no_usage},
};

int cmd_help(std::span<const std::string_view> words) {
  if (!words.empty()) {
    for (const Command& command : kCommands) {
      if (command.name == words[0] && !command.usage().empty()) {
        std::fputs(std::string(command.usage()).c_str(), stdout);
        return kExitOk;
      }
    }
    complain("no help for '" + std::string(words[0]) + "' (see `pvm help`)");
    return kExitUsage;
  }
  std::printf("usage: pvm COMMAND [options]\n\ncommands:\n");
  for (const Command& command : kCommands) {
    std::printf("  %-7.*s %.*s\n", static_cast<int>(command.name.size()), command.name.data(),
                static_cast<int>(command.summary.size()), command.summary.data());
  }
  std::printf("\n`pvm help COMMAND` or `pvm COMMAND --help` for one command's options.\n");
  return kExitOk;
}

int pvm_main(std::span<const std::string_view> words) {
  if (words.empty() || words[0] == "--help" || words[0] == "-h") {
    cmd_help({});
    return words.empty() ? kExitUsage : kExitOk;
  }
  for (const Command& command : kCommands) {
    if (command.name == words[0]) return command.handler(words.subspan(1));
  }
  complain("unknown command '" + std::string(words[0]) + "' (see `pvm help`)");
  return kExitUsage;
}

}  // namespace
}  // namespace pvm

int main(int argc, char** argv) {
  std::vector<std::string_view> words(argv + 1, argv + argc);
  return pvm::pvm_main(words);
}

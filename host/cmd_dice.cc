// `pvm dice derive|expect|inspect` and `pvm device init|handover`: the
// firmware's dice/ library on the host (see cmd_dice.h).
#include "cmd_dice.h"

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <dice/dice.h>
#include <dice/pvmfw.h>
#include <verify/verify.h>

#include "base/sha2.h"

#include "avb_crypto.h"  // random_bytes, SecretBytes
#include "cli.h"
#include "cli_options.h"
#include "cmd_avb.h"  // verify_payload_files
#include "file_io.h"
#include "instance.h"

namespace pvm {
namespace {

namespace fs = std::filesystem;

// Payload files are bounded as `pvm verify` bounds them.
constexpr uint64_t kMaxInput = uint64_t{1} << 30;

using Result = std::expected<void, ArgError>;

// Hex text (either case) to bytes, wiped when they die (CDIs pass here).
std::expected<avb::SecretBytes, ArgError> parse_secret_hex(std::string_view option,
                                                           std::string_view text,
                                                           std::optional<size_t> size) {
  if (text.size() % 2 != 0 || (size && text.size() != 2 * *size)) {
    return arg_error(ArgErrc::kBadValue, option);
  }
  avb::SecretBytes out(text.size() / 2);
  if (!hex_to_bytes(text, out.bytes())) return arg_error(ArgErrc::kBadValue, option);
  return out;
}

template <size_t N>
void copy_to(std::array<uint8_t, N>& dst, const avb::SecretBytes& src) {
  std::copy(src.bytes().begin(), src.bytes().end(), dst.begin());
}

// ---- dice derive ---------------------------------------------------------------------

struct DeriveArgs {
  std::optional<avb::SecretBytes> cdi_attest, cdi_seal;
  std::optional<std::string> handover;
  std::optional<avb::SecretBytes> code_hash, config_inline, config_descriptor, authority_hash,
      hidden, code_descriptor, authority_descriptor;
  std::optional<uint8_t> mode;
  std::optional<std::string> out;
  std::string profile_name;
  bool json = false;
  bool help = false;
};

template <typename Member>
OptionSpec<DeriveArgs> hex_option(std::string_view name, Member member,
                                  std::optional<size_t> size) {
  return {name, true, [name, member, size](DeriveArgs& a, std::string_view v) -> Result {
            auto bytes = parse_secret_hex(name, v, size);
            if (!bytes) return std::unexpected(bytes.error());
            if (a.*member) return arg_error(ArgErrc::kConflict, name);
            a.*member = std::move(*bytes);
            return {};
          }};
}

std::expected<DeriveArgs, ArgError> parse_derive_args(std::span<const std::string_view> words) {
  static const std::vector<OptionSpec<DeriveArgs>> table = {
      hex_option("--cdi-attest", &DeriveArgs::cdi_attest, dice::kCdiSize),
      hex_option("--cdi-seal", &DeriveArgs::cdi_seal, dice::kCdiSize),
      hex_option("--code-hash", &DeriveArgs::code_hash, dice::kHashSize),
      hex_option("--config-inline", &DeriveArgs::config_inline, dice::kInlineConfigSize),
      hex_option("--config-descriptor", &DeriveArgs::config_descriptor, std::nullopt),
      hex_option("--authority-hash", &DeriveArgs::authority_hash, dice::kHashSize),
      hex_option("--hidden", &DeriveArgs::hidden, dice::kHiddenSize),
      hex_option("--code-descriptor", &DeriveArgs::code_descriptor, std::nullopt),
      hex_option("--authority-descriptor", &DeriveArgs::authority_descriptor, std::nullopt),
      {"--mode", true,
       [](DeriveArgs& a, std::string_view v) -> Result {
         auto mode = parse_number<uint8_t>("--mode", v, 0, 3);
         if (!mode) return std::unexpected(mode.error());
         a.mode = *mode;
         return {};
       }},
      {"--handover", true, store(&DeriveArgs::handover)},
      {"--out", true, store(&DeriveArgs::out)},
      {"--profile-name", true, store(&DeriveArgs::profile_name)},
      {"--json", false, set_flag(&DeriveArgs::json)},
  };
  DeriveArgs a;
  if (auto parsed = parse_args<DeriveArgs>(words, table, a); !parsed) {
    return std::unexpected(parsed.error());
  }
  if (a.help) return a;
  if (a.handover) {
    if (a.cdi_attest || a.cdi_seal) return arg_error(ArgErrc::kConflict, "--handover");
  } else {
    if (!a.cdi_attest) return arg_error(ArgErrc::kRequired, "--cdi-attest");
    if (!a.cdi_seal) return arg_error(ArgErrc::kRequired, "--cdi-seal");
  }
  if (a.config_inline && a.config_descriptor)
    return arg_error(ArgErrc::kConflict, "--config-inline");
  if (!a.config_inline && !a.config_descriptor) {
    return arg_error(ArgErrc::kRequired, "--config-inline or --config-descriptor");
  }
  if (a.config_descriptor && a.config_descriptor->bytes().empty()) {
    return arg_error(ArgErrc::kBadValue, "--config-descriptor");
  }
  for (auto [present, name] :
       {std::pair{a.code_hash.has_value(), "--code-hash"},
        std::pair{a.authority_hash.has_value(), "--authority-hash"},
        std::pair{a.hidden.has_value(), "--hidden"}, std::pair{a.mode.has_value(), "--mode"}}) {
    if (!present) return arg_error(ArgErrc::kRequired, name);
  }
  return a;
}

dice::Bytes as_bytes_of(const std::optional<avb::SecretBytes>& b) {
  if (!b) return {};
  return std::as_bytes(b->bytes());
}

int dice_derive(const Io& io, std::span<const std::string_view> words) {
  auto args = parse_derive_args(words);
  if (!args) return io.usage_error("dice", to_string(args.error()));
  if (args->help) return io.help(dice_usage());
  DeriveArgs& a = *args;

  dice::InputValues in;
  copy_to(in.code_hash, *a.code_hash);
  copy_to(in.authority_hash, *a.authority_hash);
  copy_to(in.hidden, *a.hidden);
  in.mode = static_cast<dice::Mode>(*a.mode);
  if (a.config_inline) {
    in.config_type = dice::ConfigType::kInline;
    copy_to(in.config_value, *a.config_inline);
  } else {
    in.config_type = dice::ConfigType::kDescriptor;
    in.config_descriptor = as_bytes_of(a.config_descriptor);
  }
  in.code_descriptor = as_bytes_of(a.code_descriptor);
  in.authority_descriptor = as_bytes_of(a.authority_descriptor);

  // The current CDIs: given, or from a handover file.
  std::optional<avb::SecretBytes> handover_bytes;
  dice::Secret<dice::kCdiSize> attest, seal;
  std::optional<dice::Bytes> chain;
  if (a.handover) {
    auto bytes = read_file(*a.handover, dice::kHandoverRegionSize * 16);
    if (!bytes) return io.usage_error("dice", *a.handover + ": " + to_string(bytes.error()));
    handover_bytes.emplace(std::move(*bytes));
    auto h = dice::parse_handover(std::as_bytes(handover_bytes->bytes()));
    if (!h)
      return io.refuse(a.json, dice::to_string(h.error()), *a.handover + ": not a valid handover");
    std::copy(h->cdi_attest.begin(), h->cdi_attest.end(), attest.data());
    std::copy(h->cdi_seal.begin(), h->cdi_seal.end(), seal.data());
    chain = h->chain;
  } else {
    std::copy(a.cdi_attest->bytes().begin(), a.cdi_attest->bytes().end(), attest.data());
    std::copy(a.cdi_seal->bytes().begin(), a.cdi_seal->bytes().end(), seal.data());
  }

  dice::Secret<dice::kCdiSize> next_attest, next_seal;
  if (auto r = dice::derive_next_cdis(attest.span(), seal.span(), in, next_attest.span(),
                                      next_seal.span());
      !r) {
    return io.refuse(a.json, dice::to_string(r.error()), "derivation failed");
  }
  if (a.out) {
    avb::SecretBytes out(dice::kHandoverRegionSize);
    auto n =
        dice::main_flow(attest.span(), seal.span(), chain, in, dice::CertOptions{a.profile_name},
                        std::as_writable_bytes(out.bytes()));
    if (!n) return io.refuse(a.json, dice::to_string(n.error()), "the new handover");
    if (auto w = write_private_file(*a.out, out.bytes().first(*n)); !w) {
      return io.fail(*a.out + ": " + to_string(w.error()));
    }
  }
  const std::string attest_hex = to_hex(next_attest.span()), seal_hex = to_hex(next_seal.span());
  if (a.json) {
    std::fprintf(io.out, "{\"cdi_attest\":\"%s\",\"cdi_seal\":\"%s\"}\n", attest_hex.c_str(),
                 seal_hex.c_str());
  } else {
    std::fprintf(io.out, "cdi_attest %s\ncdi_seal %s\n", attest_hex.c_str(), seal_hex.c_str());
  }
  return kExitOk;
}

// ---- device secret -----------------------------------------------------------------------

std::expected<avb::SecretBytes, std::string> read_device_secret(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return std::unexpected(path + ": no device secret (make one with `pvm device init`)");
  }
  if (!S_ISREG(st.st_mode)) return std::unexpected(path + ": not a regular file");
  if ((st.st_mode & 077) != 0) {
    return std::unexpected(path + ": readable by others (chmod 600 it, or make a new one)");
  }
  auto bytes = read_file(path, 4096);
  if (!bytes) return std::unexpected(path + ": " + to_string(bytes.error()));
  avb::SecretBytes secret(std::move(*bytes));
  if (secret.bytes().size() != dice::kCdiSize) {
    return std::unexpected(path + ": not a 32-byte device secret");
  }
  return secret;
}

// ---- dice expect -----------------------------------------------------------------------

struct ExpectArgs {
  std::string kernel, key;  // required
  std::optional<std::string> initrd, vbmeta;
  std::optional<std::vector<uint8_t>> instance_id;
  std::optional<std::string> instance;
  // The whole chain: the stage below pvmfw too (all three, or none; the
  // device secret defaults to the machine's).
  std::optional<std::string> pvmfw_img, platform_key, device_secret;
  bool json = false;
  bool help = false;
};

CliResult<ExpectArgs> parse_expect_args(std::span<const std::string_view> words) {
  static const std::vector<OptionSpec<ExpectArgs>> table = {
      {"--kernel", true, store(&ExpectArgs::kernel)},
      {"--key", true, store(&ExpectArgs::key)},
      {"--initrd", true, store(&ExpectArgs::initrd)},
      {"--vbmeta", true, store(&ExpectArgs::vbmeta)},
      {"--instance-id", true,
       [](ExpectArgs& a, std::string_view v) -> Result {
         std::vector<uint8_t> id(dice::pvmfw::kInstanceIdSize);
         if (!hex_to_bytes(v, id)) return arg_error(ArgErrc::kBadValue, "--instance-id");
         a.instance_id = std::move(id);
         return {};
       }},
      {"--instance", true, store(&ExpectArgs::instance)},
      {"--pvmfw-img", true, store(&ExpectArgs::pvmfw_img)},
      {"--platform-key", true, store(&ExpectArgs::platform_key)},
      {"--device-secret", true, store(&ExpectArgs::device_secret)},
      {"--json", false, set_flag(&ExpectArgs::json)},
  };
  ExpectArgs a;
  if (auto parsed = parse_args<ExpectArgs>(words, table, a); !parsed) {
    return usage_failure(to_string(parsed.error()));
  }
  if (a.help) return a;
  if (a.kernel.empty()) return usage_failure("--kernel: required");
  if (a.key.empty()) return usage_failure("--key: required");
  if (a.instance && a.instance_id) return usage_failure("--instance: conflicts with --instance-id");
  if (a.pvmfw_img && !a.platform_key)
    return usage_failure("--platform-key: required with --pvmfw-img");
  if (a.platform_key && !a.pvmfw_img)
    return usage_failure("--pvmfw-img: required with --platform-key");
  if (a.device_secret && !a.pvmfw_img) {
    return usage_failure("--device-secret: only with --pvmfw-img");
  }
  if (a.instance) {
    auto instance = load_instance(*a.instance, /*create=*/false);
    if (!instance) return usage_failure(instance.error());
    a.instance_id = std::move(instance->id);
  }
  return a;
}

// The DICE inputs pvmfw derives the VM's CDIs with, as pvmfw computes them
// from the verified payload, with the same code (dice/pvmfw.h make_inputs,
// set_instance); `descriptor` holds the config descriptor.
struct ExpectedInputs {
  dice::pvmfw::Measurements measurements;
  std::array<std::byte, dice::pvmfw::kMaxConfigDescriptorSize> descriptor{};
  dice::InputValues in;
};

std::expected<void, std::string> expected_inputs(
    const VerifiedFiles& verified, const std::optional<std::vector<uint8_t>>& instance_id,
    ExpectedInputs& out) {
  auto digest = [](const verify::PartitionDigest& d) {
    return std::as_bytes(std::span(d.bytes).first(d.size));
  };
  dice::pvmfw::Measurements& m = out.measurements;
  m.kernel_digest = digest(verified.payload.kernel);
  if (verified.payload.initrd) m.initrd_digest = digest(*verified.payload.initrd);
  m.avb_public_key = std::as_bytes(std::span(verified.key));
  m.debug = verified.payload.debug_initrd;
  m.security_version = verified.payload.rollback_index;
  if (instance_id && !dice::pvmfw::set_instance(m, std::as_bytes(std::span(*instance_id)))) {
    return std::unexpected("computing the instance hash failed");
  }
  if (!dice::pvmfw::make_inputs(m, out.descriptor, out.in)) {
    return std::unexpected("computing the DICE inputs failed");
  }
  return {};
}

// The stage below pvmfw and the VM layer on top of it, as the hypervisor and
// pvmfw will derive them from the device secret (dice/pvmfw.h
// pvmfw_stage_handover, then dice::handover_main_flow as pvmfw runs it). Only
// what is not secret is kept: the CDIs stay in wiped buffers.
struct WholeChain {
  dice::PublicKey root{};
  std::array<std::byte, dice::pvmfw::kMaxFirstLayerDescriptorSize> pvmfw_descriptor{};
  dice::InputValues pvmfw_in;  // its config_descriptor points into pvmfw_descriptor
  uint64_t pvmfw_security_version = 0;
  dice::PublicKey pvmfw_key{};
  std::optional<dice::PublicKey> vm_key;  // with an instance (pvmfw boots nothing without)
  std::string pvmfw_img_sha256;           // of the whole partition image, as built
};

std::expected<void, std::string> derive_whole_chain(const avb::SecretBytes& uds,
                                                    const VerifiedPartitionFile& pvmfw,
                                                    const std::optional<dice::InputValues>& vm_in,
                                                    WholeChain& out) {
  const dice::pvmfw::PvmfwStageInputs stage{
      .image = pvmfw.image(),
      .platform_key = std::as_bytes(std::span(pvmfw.key)),
      .security_version = pvmfw.verified.rollback_index,
  };
  out.pvmfw_security_version = stage.security_version;
  std::array<uint8_t, base::sha2::kSha256Size> digest{};
  const std::span<const std::byte> whole_image[] = {std::as_bytes(std::span(pvmfw.partition))};
  base::sha2::sha256(whole_image, digest);
  out.pvmfw_img_sha256 = to_hex(digest);
  if (auto r = dice::pvmfw::pvmfw_stage_inputs(stage, out.pvmfw_descriptor, out.pvmfw_in); !r) {
    return std::unexpected(std::string("pvmfw stage: ") + dice::to_string(r.error()));
  }
  const std::span<const uint8_t, dice::kCdiSize> uds_view(uds.bytes().data(), dice::kCdiSize);
  avb::SecretBytes handover(dice::kHandoverRegionSize);
  auto n =
      dice::pvmfw::pvmfw_stage_handover(uds_view, stage, std::as_writable_bytes(handover.bytes()));
  if (!n) return std::unexpected(std::string("pvmfw stage: ") + dice::to_string(n.error()));
  handover.truncate(*n);
  auto chain_of = [](dice::Bytes handover_bytes) -> std::expected<dice::ChainSummary, std::string> {
    auto h = dice::parse_handover(handover_bytes);
    if (!h || !h->chain) return std::unexpected("the derived handover does not parse");
    auto chain = dice::verify_chain(*h->chain);
    if (!chain) {
      return std::unexpected(std::string("the derived chain does not verify: ") +
                             dice::to_string(chain.error().error));
    }
    return *chain;
  };
  auto pvmfw_chain = chain_of(std::as_bytes(handover.bytes()));
  if (!pvmfw_chain) return std::unexpected(pvmfw_chain.error());
  out.root = pvmfw_chain->root;
  out.pvmfw_key = pvmfw_chain->leaf;
  if (!vm_in) return {};

  avb::SecretBytes vm_handover(dice::kHandoverRegionSize);
  auto m = dice::handover_main_flow(std::as_bytes(handover.bytes()), *vm_in, dice::CertOptions{},
                                    std::as_writable_bytes(vm_handover.bytes()));
  if (!m) return std::unexpected(std::string("VM layer: ") + dice::to_string(m.error()));
  vm_handover.truncate(*m);
  auto vm_chain = chain_of(std::as_bytes(vm_handover.bytes()));
  if (!vm_chain) return std::unexpected(vm_chain.error());
  out.vm_key = vm_chain->leaf;
  return {};
}

// The hex ID of a key, as the certificates name it; empty if it cannot be derived.
std::string cert_id_hex(const dice::PublicKey& key) {
  auto id = dice::derive_cert_id(key);
  if (!id) return "";
  const dice::IdHex hex = dice::id_hex(*id);
  return std::string(hex.data(), hex.size());
}

void print_expected(const Io& io, const ExpectedInputs& e, uint64_t rollback_index,
                    bool with_instance, bool json, const std::optional<WholeChain>& whole) {
  const dice::InputValues& in = e.in;
  const std::string descriptor = to_hex(in.config_descriptor);
  // Without an instance id pvmfw refuses to boot (NO_INSTANCE_ID): no hidden.
  const std::string hidden = with_instance ? to_hex(in.hidden) : "";
  const std::string instance_hash = with_instance ? to_hex(*e.measurements.instance_hash) : "";
  if (json) {
    const std::string instance_json =
        with_instance ? ",\"instance_hash\":\"" + instance_hash + "\",\"hidden\":\"" + hidden + "\""
                      : "";
    std::string chain_json;
    if (whole) {
      const dice::InputValues& p = whole->pvmfw_in;
      chain_json = ",\"pvmfw_img_sha256\":\"" + whole->pvmfw_img_sha256 +
                   "\",\"root_public_key\":\"" + to_hex(whole->root) + "\",\"root_cert_id\":\"" +
                   cert_id_hex(whole->root) + "\",\"pvmfw\":{\"code_hash\":\"" +
                   to_hex(p.code_hash) + "\",\"authority_hash\":\"" + to_hex(p.authority_hash) +
                   "\",\"config_descriptor\":\"" + to_hex(p.config_descriptor) +
                   "\",\"mode\":" + std::to_string(static_cast<unsigned>(p.mode)) +
                   ",\"mode_name\":" + json_string(dice::to_string(p.mode)) +
                   ",\"security_version\":" + std::to_string(whole->pvmfw_security_version) +
                   ",\"public_key\":\"" + to_hex(whole->pvmfw_key) + "\",\"cert_id\":\"" +
                   cert_id_hex(whole->pvmfw_key) + "\"}";
      if (whole->vm_key) {
        chain_json += ",\"vm_public_key\":\"" + to_hex(*whole->vm_key) + "\",\"vm_cert_id\":\"" +
                      cert_id_hex(*whole->vm_key) + "\"";
      }
    }
    std::fprintf(
        io.out,
        "{\"result\":\"ok\",\"code_hash\":\"%s\",\"authority_hash\":\"%s\","
        "\"config_descriptor\":\"%s\",\"mode\":%u,\"mode_name\":%s,\"security_version\":%llu%s%s}"
        "\n",
        to_hex(in.code_hash).c_str(), to_hex(in.authority_hash).c_str(), descriptor.c_str(),
        static_cast<unsigned>(in.mode), json_string(dice::to_string(in.mode)).c_str(),
        static_cast<unsigned long long>(rollback_index), instance_json.c_str(), chain_json.c_str());
    return;
  }
  if (whole) {
    const dice::InputValues& p = whole->pvmfw_in;
    std::fprintf(io.out, "pvmfw_img_sha256 %s\n", whole->pvmfw_img_sha256.c_str());
    std::fprintf(io.out,
                 "root_public_key %s\nroot_cert_id %s\n"
                 "pvmfw_code_hash %s\npvmfw_authority_hash %s\npvmfw_config_descriptor %s\n"
                 "pvmfw_mode %u (%s)\npvmfw_security_version %llu\n"
                 "pvmfw_public_key %s\npvmfw_cert_id %s\n",
                 to_hex(whole->root).c_str(), cert_id_hex(whole->root).c_str(),
                 to_hex(p.code_hash).c_str(), to_hex(p.authority_hash).c_str(),
                 to_hex(p.config_descriptor).c_str(), static_cast<unsigned>(p.mode),
                 dice::to_string(p.mode),
                 static_cast<unsigned long long>(whole->pvmfw_security_version),
                 to_hex(whole->pvmfw_key).c_str(), cert_id_hex(whole->pvmfw_key).c_str());
  }
  std::fprintf(io.out,
               "code_hash %s\nauthority_hash %s\nconfig_descriptor %s\nmode %u (%s)\n"
               "security_version %llu\n",
               to_hex(in.code_hash).c_str(), to_hex(in.authority_hash).c_str(), descriptor.c_str(),
               static_cast<unsigned>(in.mode), dice::to_string(in.mode),
               static_cast<unsigned long long>(rollback_index));
  if (with_instance) {
    std::fprintf(io.out, "instance_hash %s\nhidden %s\n", instance_hash.c_str(), hidden.c_str());
  }
  if (whole && whole->vm_key) {
    std::fprintf(io.out, "vm_public_key %s\nvm_cert_id %s\n", to_hex(*whole->vm_key).c_str(),
                 cert_id_hex(*whole->vm_key).c_str());
  }
}

int dice_expect(const Io& io, std::span<const std::string_view> words) {
  auto args = parse_expect_args(words);
  if (!args) return io.report("dice", args.error());
  if (args->help) return io.help(dice_usage());
  const ExpectArgs& a = *args;

  // The stage below pvmfw first, as the hypervisor runs it: pvmfw.img
  // verified against the platform key, and the device secret.
  std::optional<VerifiedPartitionFile> pvmfw;
  std::optional<avb::SecretBytes> uds;
  if (a.pvmfw_img) {
    auto verified = verify_partition_file(io, *a.platform_key, *a.pvmfw_img,
                                          dice::pvmfw::kPvmfwStageName, kMaxInput,
                                          /*stored_rollback_index=*/0, a.json);
    if (!verified) return io.report("dice", verified.error());
    pvmfw.emplace(std::move(*verified));
    auto secret = read_device_secret(a.device_secret.value_or(default_device_secret_path()));
    if (!secret) return io.fail(secret.error());
    uds.emplace(std::move(*secret));
  }

  const PayloadFiles files{a.key, a.kernel, a.initrd, a.vbmeta};
  auto verified = verify_payload_files(io, files, kMaxInput, /*stored_rollback_index=*/0, a.json);
  if (!verified) return io.report("dice", verified.error());
  ExpectedInputs expected;
  if (auto made = expected_inputs(*verified, a.instance_id, expected); !made) {
    return io.refuse(a.json, "INTERNAL", made.error());
  }

  std::optional<WholeChain> whole;
  if (pvmfw) {
    std::optional<dice::InputValues> vm_in;
    if (a.instance_id) vm_in = expected.in;
    if (auto derived = derive_whole_chain(*uds, *pvmfw, vm_in, whole.emplace()); !derived) {
      return io.refuse(a.json, "INTERNAL", derived.error());
    }
  }
  print_expected(io, expected, verified->payload.rollback_index, a.instance_id.has_value(), a.json,
                 whole);
  return kExitOk;
}

// ---- dice inspect ----------------------------------------------------------------------

std::string json_opt_hex(const char* name, const std::optional<dice::Bytes>& b) {
  if (!b) return "";
  return std::string(",\"") + name + "\":\"" + to_hex(*b) + "\"";
}

std::string certificate_json(const dice::Certificate& c) {
  std::string j = "{\"issuer\":" + json_string(c.issuer) + ",\"subject\":" + json_string(c.subject);
  j += json_opt_hex("code_hash", c.code_hash) + json_opt_hex("code_descriptor", c.code_descriptor) +
       json_opt_hex("config_descriptor", c.config_descriptor) +
       json_opt_hex("config_hash", c.config_hash) +
       json_opt_hex("authority_hash", c.authority_hash) +
       json_opt_hex("authority_descriptor", c.authority_descriptor) +
       json_opt_hex("key_usage", c.key_usage);
  if (c.mode) j += ",\"mode\":" + std::to_string(*c.mode);
  if (c.profile_name) j += ",\"profile_name\":" + json_string(*c.profile_name);
  j += ",\"subject_public_key\":\"" + to_hex(c.subject_public_key) + "\"}";
  return j;
}

void print_certificate(const Io& io, size_t index, const dice::Certificate& c) {
  std::fprintf(io.out, "certificate %zu (signature verified):\n", index);
  std::fprintf(io.out, "  issuer   %.*s\n  subject  %.*s\n", static_cast<int>(c.issuer.size()),
               c.issuer.data(), static_cast<int>(c.subject.size()), c.subject.data());
  auto line = [&io](const char* name, const std::optional<dice::Bytes>& b) {
    if (b) std::fprintf(io.out, "  %-22s %s\n", name, to_hex(*b).c_str());
  };
  line("code_hash", c.code_hash);
  line("code_descriptor", c.code_descriptor);
  line("config_descriptor", c.config_descriptor);
  line("config_hash", c.config_hash);
  line("authority_hash", c.authority_hash);
  line("authority_descriptor", c.authority_descriptor);
  if (c.mode) {
    std::fprintf(io.out, "  %-22s %u (%s)\n", "mode", *c.mode,
                 *c.mode <= 3 ? dice::to_string(static_cast<dice::Mode>(*c.mode)) : "unknown");
  }
  if (c.profile_name) {
    std::fprintf(io.out, "  %-22s %.*s\n", "profile_name", static_cast<int>(c.profile_name->size()),
                 c.profile_name->data());
  }
}

struct InspectArgs {
  std::vector<std::string> files;
  bool json = false;
  bool help = false;
};

int dice_inspect(const Io& io, std::span<const std::string_view> words) {
  static const std::vector<OptionSpec<InspectArgs>> table = {
      {"--json", false, set_flag(&InspectArgs::json)},
  };
  auto positional = [](InspectArgs& a, std::string_view v) -> Result {
    a.files.emplace_back(v);
    return {};
  };
  InspectArgs args;
  if (auto parsed = parse_args<InspectArgs>(words, table, args, positional); !parsed) {
    return io.usage_error("dice", to_string(parsed.error()));
  }
  if (args.help) return io.help(dice_usage());
  const std::vector<std::string>& files = args.files;
  const bool json = args.json;
  if (files.size() != 1) return io.usage_error("dice", "inspect takes one HANDOVER file");
  auto bytes = read_file(files[0], dice::kHandoverRegionSize * 16);
  if (!bytes) return io.usage_error("dice", files[0] + ": " + to_string(bytes.error()));
  const avb::SecretBytes handover_bytes(std::move(*bytes));
  const dice::Bytes input = std::as_bytes(handover_bytes.bytes());

  auto h = dice::parse_handover(input);
  if (!h)
    return io.refuse(json, dice::to_string(h.error()), files[0] + ": not a valid DICE handover");
  if (!h->chain) {
    return io.refuse(json, dice::to_string(dice::Error::kHandoverBadChain),
                     "the handover has no DICE chain to verify");
  }
  auto count = dice::cbor::Reader(*h->chain).read_array();
  std::vector<dice::Certificate> views(count ? *count : 0);
  auto chain = dice::verify_chain(*h->chain, views);
  if (!chain) {
    const std::string where = chain.error().index == 0
                                  ? "the root key"
                                  : "certificate " + std::to_string(chain.error().index);
    return io.refuse(json, dice::to_string(chain.error().error), where,
                     ",\"index\":" + std::to_string(chain.error().index));
  }
  // The last certificate must certify the key CDI_Attest derives.
  dice::Secret<dice::kPrivateKeySize> priv;
  dice::PublicKey key{};
  if (!dice::derive_key_pair(h->cdi_attest, priv.span(), key) || key != chain->leaf) {
    return io.refuse(json, dice::to_string(dice::Error::kCdiKeyMismatch),
                     "the chain's last key is not CDI_Attest's",
                     ",\"index\":" + std::to_string(chain->certificates));
  }
  const size_t trailing = input.size() - h->size;
  if (json) {
    std::string j = "{\"result\":\"ok\",\"size\":" + std::to_string(h->size) +
                    ",\"trailing_bytes\":" + std::to_string(trailing) + ",\"cdi_attest\":\"" +
                    to_hex(h->cdi_attest) + "\",\"cdi_seal\":\"" + to_hex(h->cdi_seal) +
                    "\",\"root_public_key\":\"" + to_hex(chain->root) + "\",\"certificates\":[";
    for (size_t i = 0; i < chain->certificates; ++i) {
      if (i != 0) j += ",";
      j += certificate_json(views[i]);
    }
    j += "]}";
    std::fprintf(io.out, "%s\n", j.c_str());
    return kExitOk;
  }
  std::fprintf(
      io.out, "DICE handover, %zu bytes%s\n", h->size,
      trailing ? (" (" + std::to_string(trailing) + " trailing bytes ignored)").c_str() : "");
  std::fprintf(io.out, "cdi_attest %s\ncdi_seal   %s\n", to_hex(h->cdi_attest).c_str(),
               to_hex(h->cdi_seal).c_str());
  std::fprintf(io.out, "root key (P-256) x %s\n                 y %s\n",
               to_hex(std::span(chain->root).first(32)).c_str(),
               to_hex(std::span(chain->root).last(32)).c_str());
  for (size_t i = 0; i < chain->certificates; ++i) print_certificate(io, i + 1, views[i]);
  std::fprintf(io.out,
               "chain verified: %zu certificate%s, the last one certifying CDI_Attest's key\n",
               chain->certificates, chain->certificates == 1 ? "" : "s");
  return kExitOk;
}

// ---- device --------------------------------------------------------------------------------

struct DeviceArgs {
  std::string verb;
  std::optional<std::string> out, secret;
  bool help = false;
};

int device_init(const Io& io, const DeviceArgs& a) {
  if (a.secret) return io.usage_error("device", "--secret: not for init (use --out)");
  const fs::path path = a.out.value_or(default_device_secret_path());
  if (fs::exists(path)) {
    return io.fail(path.string() + " exists; a device keeps its secret (remove it to start over)");
  }
  std::error_code ec;
  if (path.has_parent_path() && !fs::exists(path.parent_path())) {
    fs::create_directories(path.parent_path(), ec);
    if (!ec) fs::permissions(path.parent_path(), fs::perms::owner_all, ec);
    if (ec) return io.fail(path.parent_path().string() + ": " + ec.message());
  }
  auto random = avb::random_bytes(dice::kCdiSize);
  if (!random) return io.fail(std::string("random: ") + to_string(random.error()));
  const avb::SecretBytes uds(std::move(*random));
  if (auto w = write_new_private_file(path, uds.bytes()); !w) {
    return io.fail(path.string() + ": " + to_string(w.error()));
  }
  io.say("pvm: wrote a new 32-byte device secret to " + path.string() + " (mode 0600)");
  return kExitOk;
}

int device_handover(const Io& io, const DeviceArgs& a) {
  if (!a.out) return io.usage_error("device", "--out: required for handover");
  auto handover = device_previous_stage_handover(a.secret.value_or(default_device_secret_path()));
  if (!handover) return io.fail(handover.error());
  const avb::SecretBytes bytes(std::move(*handover));
  if (auto w = write_private_file(*a.out, bytes.bytes()); !w) {
    return io.fail(*a.out + ": " + to_string(w.error()));
  }
  io.say("pvm: wrote the previous-stage DICE handover (" + std::to_string(bytes.bytes().size()) +
         " bytes) to " + *a.out);
  return kExitOk;
}

}  // namespace

std::string default_device_secret_path() {
  return (fs::path(state_dir()) / "device-secret").string();
}

std::expected<std::vector<uint8_t>, std::string> device_previous_stage_handover(
    const std::string& secret_path) {
  auto secret = read_device_secret(secret_path);
  if (!secret) return std::unexpected(secret.error());
  std::vector<uint8_t> out(dice::kHandoverRegionSize);
  auto n = dice::pvmfw::previous_stage_handover(
      std::span<const uint8_t, dice::kCdiSize>(secret->bytes().data(), dice::kCdiSize),
      std::as_writable_bytes(std::span(out)));
  if (!n) return std::unexpected(std::string("previous stage: ") + dice::to_string(n.error()));
  out.resize(*n);
  return out;
}

int cmd_dice(const Io& io, std::span<const std::string_view> words) {
  if (words.empty()) {
    io.print(dice_usage());
    return kExitUsage;
  }
  const std::string_view verb = words[0];
  if (is_help_option(verb)) return io.help(dice_usage());
  if (verb == "derive") return dice_derive(io, words.subspan(1));
  if (verb == "expect") return dice_expect(io, words.subspan(1));
  if (verb == "inspect") return dice_inspect(io, words.subspan(1));
  return io.usage_error("dice", "unknown verb '" + std::string(verb) + "'");
}

int cmd_device(const Io& io, std::span<const std::string_view> words) {
  if (words.empty()) {
    io.print(device_usage());
    return kExitUsage;
  }
  static const std::vector<OptionSpec<DeviceArgs>> table = {
      {"--out", true, store(&DeviceArgs::out)},
      {"--secret", true, store(&DeviceArgs::secret)},
  };
  auto verb = [](DeviceArgs& a, std::string_view v) -> Result {
    if (!a.verb.empty() || (v != "init" && v != "handover")) {
      return arg_error(ArgErrc::kUnexpectedArgument, v);
    }
    a.verb = std::string(v);
    return {};
  };
  DeviceArgs args;
  if (auto parsed = parse_args<DeviceArgs>(words, table, args, verb); !parsed) {
    return io.usage_error("device", to_string(parsed.error()));
  }
  if (args.help) return io.help(device_usage());
  if (args.verb.empty()) return io.usage_error("device", "init or handover: required");
  return args.verb == "init" ? device_init(io, args) : device_handover(io, args);
}

std::string_view dice_usage() {
  return R"(usage: pvm dice derive (--cdi-attest HEX --cdi-seal HEX | --handover FILE)
                       --code-hash HEX (--config-inline HEX | --config-descriptor HEX)
                       --authority-hash HEX --mode N --hidden HEX
                       [--code-descriptor HEX] [--authority-descriptor HEX]
                       [--out NEW_HANDOVER] [--profile-name NAME] [--json]
       pvm dice expect --kernel IMG [--initrd FILE] [--vbmeta FILE] --key KEY.avbpubkey
                       [--instance NAME | --instance-id HEX]
                       [--pvmfw-img IMG --platform-key KEY.avbpubkey
                        [--device-secret FILE]] [--json]
       pvm dice inspect HANDOVER.cbor [--json]

The firmware's DICE code (dice/, bit-compatible with open-dice) on the host.

  derive   one DICE layer (open-dice DiceMainFlow): prints the next CDI_Attest
           and CDI_Seal (hex; --json: {"cdi_attest":..., "cdi_seal":...}).
           Hashes and hidden are 64 bytes, the inline config 64, CDIs 32; mode
           0 not initialized, 1 normal, 2 debug, 3 maintenance. With
           --handover the current CDIs come from a handover file; --out writes
           the new handover (the chain with this layer's certificate appended)
  expect   verifies a payload as pvmfw does (pvm verify) and prints the inputs
           pvmfw will derive the VM's CDIs with: code hash, authority hash,
           config descriptor ({-70002: "vm_entry", -70005: rollback index,
           -71003: instance hash}), mode and security version; with the
           instance (`pvm run --instance NAME`, or its 64-byte id) also the
           instance hash SHA-512("InstanceId:" || id) and the hidden input.
           With --pvmfw-img, the whole chain as the hypervisor and pvmfw
           will make it: pvmfw.img is verified as the hypervisor does (pvm
           verify --partition pvmfw --key KEY), the stage below pvmfw derived
           from the device secret (default: the machine's, pvm device init),
           and printed first: the root key and its cert ID, pvmfw's code hash
           (SHA-512 of the image), authority hash (SHA-512 of KEY), config
           descriptor ({-70002: "pvmfw", -70005: rollback index}), mode,
           security version, public key and cert ID (pvmfw_* lines; --json:
           "root_public_key", "root_cert_id", "pvmfw": {...}); with the
           instance also the VM layer's public key and cert ID (vm_public_key,
           vm_cert_id). Never the CDIs
  inspect  decodes a DiceAndroidHandover, verifies every certificate of its
           chain (ES256 signatures, issuer/subject IDs) and that the last one
           certifies CDI_Attest's key, and prints them

Exit status: 0 done; 1 refused ("error: NAME: detail" on stderr, NAME as
dice/ names it, e.g. BAD_SIGNATURE, HANDOVER_BAD_CDI); 2 usage error or an
unreadable file.
)";
}

std::string_view device_usage() {
  return R"(usage: pvm device init [--out FILE]
       pvm device handover [--secret FILE] --out HANDOVER.cbor

The machine's stand-in for a device's Unique Device Secret, so that `pvm run`
can hand pvmfw a previous-stage DICE handover that is the same on every boot.

  init       writes 32 random bytes to FILE (default: $PVM_STATE/device-secret,
             or ~/.local/share/pvm/device-secret), mode 0600; never overwrites
  handover   derives the previous stage from the secret and writes its
             handover {1: CDI_Attest, 2: CDI_Seal, 3: [root key, certificate]}
             (dice/pvmfw.h previous_stage_handover says how)

Exit status: 0 done; 1 failed; 2 usage error.
)";
}

}  // namespace pvm

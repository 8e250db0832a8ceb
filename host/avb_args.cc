#include "avb_args.h"

#include <algorithm>
#include <set>

#include "cli.h"  // parse_hex

namespace pvm {
namespace {

using Result = std::expected<void, ArgError>;

Result ok() { return {}; }

Result require(bool present, std::string_view option) {
  if (!present) return arg_error(ArgErrc::kRequired, option);
  return {};
}

// "NAME=VALUE" with a non-empty NAME.
std::optional<std::pair<std::string_view, std::string_view>> split_assignment(
    std::string_view text, char separator) {
  size_t at = text.find(separator);
  if (at == std::string_view::npos || at == 0) return std::nullopt;
  return std::pair{text.substr(0, at), text.substr(at + 1)};
}

// ---- keygen ----------------------------------------------------------------------

const std::vector<OptionSpec<KeygenArgs>>& keygen_options() {
  static const std::vector<OptionSpec<KeygenArgs>> table = {
      {"--out", true, [](KeygenArgs& a, std::string_view v) { a.out = v; return ok(); }},
      {"--bits", true,
       [](KeygenArgs& a, std::string_view v) -> Result {
         auto bits = parse_number<unsigned>("--bits", v, 0, 1u << 16);
         if (!bits) return std::unexpected(bits.error());
         if (!avb::is_supported_key_size(*bits)) return arg_error(ArgErrc::kOutOfRange, "--bits");
         a.bits = *bits;
         return {};
       }},
  };
  return table;
}

// ---- key export ------------------------------------------------------------------

const std::vector<OptionSpec<KeyExportArgs>>& key_options() {
  static const std::vector<OptionSpec<KeyExportArgs>> table = {
      {"--out", true, [](KeyExportArgs& a, std::string_view v) { a.out = v; return ok(); }},
  };
  return table;
}

// ---- sign ------------------------------------------------------------------------

using SignOption = OptionSpec<SignArgs>;

std::vector<SignOption> common_sign_options() {
  return {
      {"--key", true, [](SignArgs& a, std::string_view v) { a.key = v; return ok(); }},
      {"--algorithm", true,
       [](SignArgs& a, std::string_view v) -> Result {
         auto algorithm = avb::parse_algorithm(v);
         if (!algorithm) return arg_error(ArgErrc::kBadValue, "--algorithm");
         a.algorithm = *algorithm;
         return {};
       }},
      {"--rollback-index", true,
       [](SignArgs& a, std::string_view v) -> Result {
         auto n = parse_number<uint64_t>("--rollback-index", v, 0, UINT64_MAX);
         if (!n) return std::unexpected(n.error());
         a.rollback_index = *n;
         return {};
       }},
      {"--prop", true,
       [](SignArgs& a, std::string_view v) -> Result {
         // avbtool splits at the first ':'.
         auto kv = split_assignment(v, ':');
         if (!kv) return arg_error(ArgErrc::kBadValue, "--prop");
         a.properties.push_back({std::string(kv->first), std::string(kv->second)});
         return {};
       }},
      {"--hash-image", true,
       [](SignArgs& a, std::string_view v) -> Result {
         auto kv = split_assignment(v, '=');
         if (!kv || kv->second.empty()) return arg_error(ArgErrc::kBadValue, "--hash-image");
         a.hash_images.push_back({std::string(kv->first), std::string(kv->second)});
         return {};
       }},
      {"--hash-salt", true,
       [](SignArgs& a, std::string_view v) -> Result {
         auto kv = split_assignment(v, '=');
         if (!kv) return arg_error(ArgErrc::kBadValue, "--hash-salt");
         auto salt = parse_hex(kv->second);
         if (!salt) return arg_error(ArgErrc::kBadValue, "--hash-salt");
         a.hash_salts.push_back({std::string(kv->first), std::move(*salt)});
         return {};
       }},
      {"--hash-algorithm", true,
       [](SignArgs& a, std::string_view v) -> Result {
         auto algorithm = avb::parse_hash_algorithm(v);
         if (!algorithm) return arg_error(ArgErrc::kBadValue, "--hash-algorithm");
         a.hash_algorithm = *algorithm;
         return {};
       }},
      {"--output", true, [](SignArgs& a, std::string_view v) { a.output = v; return ok(); }},
  };
}

const std::vector<SignOption>& footer_sign_options() {
  static const std::vector<SignOption> table = [] {
    std::vector<SignOption> options = common_sign_options();
    options.push_back(
        {"--partition", true,
         [](SignArgs& a, std::string_view v) { a.partition = v; return ok(); }});
    options.push_back(
        {"--image", true, [](SignArgs& a, std::string_view v) { a.image = v; return ok(); }});
    options.push_back({"--partition-size", true, [](SignArgs& a, std::string_view v) -> Result {
                         auto n = parse_number<uint64_t>("--partition-size", v, avb::kBlockSize,
                                                         kMaxPartitionSize);
                         if (!n) return std::unexpected(n.error());
                         if (*n % avb::kBlockSize != 0) {
                           return arg_error(ArgErrc::kBadValue, "--partition-size");
                         }
                         a.partition_size = *n;
                         return {};
                       }});
    options.push_back({"--salt", true, [](SignArgs& a, std::string_view v) -> Result {
                         auto salt = parse_hex(v);
                         if (!salt) return arg_error(ArgErrc::kBadValue, "--salt");
                         a.salt = std::move(*salt);
                         return {};
                       }});
    return options;
  }();
  return table;
}

const std::vector<SignOption>& vbmeta_sign_options() {
  static const std::vector<SignOption> table = common_sign_options();
  return table;
}

// ---- verify ----------------------------------------------------------------------

const std::vector<OptionSpec<VerifyArgs>>& verify_options() {
  static const std::vector<OptionSpec<VerifyArgs>> table = {
      {"--key", true, [](VerifyArgs& a, std::string_view v) { a.key = v; return ok(); }},
      {"--kernel", true, [](VerifyArgs& a, std::string_view v) { a.kernel = v; return ok(); }},
      {"--initrd", true, [](VerifyArgs& a, std::string_view v) { a.initrd = v; return ok(); }},
      {"--vbmeta", true, [](VerifyArgs& a, std::string_view v) { a.vbmeta = v; return ok(); }},
      {"--partition", true,
       [](VerifyArgs& a, std::string_view v) -> Result {
         if (v.empty()) return arg_error(ArgErrc::kBadValue, "--partition");
         a.partition = v;
         return {};
       }},
      {"--stored-rollback-index", true,
       [](VerifyArgs& a, std::string_view v) -> Result {
         auto n = parse_number<uint64_t>("--stored-rollback-index", v, 0, UINT64_MAX);
         if (!n) return std::unexpected(n.error());
         a.stored_rollback_index = *n;
         return {};
       }},
      {"--json", false, [](VerifyArgs& a, std::string_view) { a.json = true; return ok(); }},
  };
  return table;
}

}  // namespace

std::expected<KeygenArgs, ArgError> parse_keygen_args(std::span<const std::string_view> args) {
  KeygenArgs out;
  if (auto parsed = parse_args<KeygenArgs>(args, keygen_options(), out); !parsed) {
    return std::unexpected(parsed.error());
  }
  if (out.help) return out;
  if (auto present = require(!out.out.empty(), "--out"); !present) {
    return std::unexpected(present.error());
  }
  return out;
}

std::expected<KeyExportArgs, ArgError> parse_key_args(std::span<const std::string_view> args) {
  KeyExportArgs out;
  // The verb comes first ("key export ..."), or a request for help.
  if (!args.empty() && is_help_option(args[0])) {
    out.help = true;
    return out;
  }
  if (args.empty()) return arg_error(ArgErrc::kRequired, "export");
  if (args[0] != "export") return arg_error(ArgErrc::kUnexpectedArgument, args[0]);
  ApplyFn<KeyExportArgs> positional = [](KeyExportArgs& a, std::string_view v) -> Result {
    if (!a.key.empty()) return arg_error(ArgErrc::kUnexpectedArgument, v);
    a.key = v;
    return {};
  };
  if (auto parsed = parse_args<KeyExportArgs>(args.subspan(1), key_options(), out, positional);
      !parsed) {
    return std::unexpected(parsed.error());
  }
  if (out.help) return out;
  if (out.key.empty()) return arg_error(ArgErrc::kRequired, "KEY.pem");
  if (auto present = require(!out.out.empty(), "--out"); !present) {
    return std::unexpected(present.error());
  }
  return out;
}

std::expected<SignArgs, ArgError> parse_sign_args(std::span<const std::string_view> args) {
  SignArgs out;
  if (!args.empty() && args[0] == "vbmeta") {
    out.vbmeta_image = true;
    args = args.subspan(1);
  }
  const auto& table = out.vbmeta_image ? vbmeta_sign_options() : footer_sign_options();
  if (auto parsed = parse_args<SignArgs>(args, table, out); !parsed) {
    return std::unexpected(parsed.error());
  }
  if (out.help) return out;

  // --algorithm has no default: an unsigned image must be asked for by name.
  const bool is_none = out.algorithm == avb::Algorithm::kNone;
  Result checks[] = {
      require(out.algorithm.has_value(), "--algorithm"),
      require(out.vbmeta_image || !out.partition.empty(), "--partition"),
      require(out.vbmeta_image || !out.image.empty(), "--image"),
      require(!out.vbmeta_image || out.output.has_value(), "--output"),
      require(is_none || out.key.has_value(), "--key"),
  };
  for (const Result& check : checks) {
    if (!check) return std::unexpected(check.error());
  }
  if (is_none && out.key) {
    return arg_error(ArgErrc::kConflict, "--key");
  }
  if (out.output && out.output->empty()) return arg_error(ArgErrc::kMissingValue, "--output");

  std::set<std::string_view> partitions;
  if (!out.vbmeta_image) partitions.insert(out.partition);
  for (const SignArgs::HashImage& image : out.hash_images) {
    if (!partitions.insert(image.partition).second) {
      return arg_error(ArgErrc::kConflict, "--hash-image");
    }
  }
  std::set<std::string_view> salted;
  for (const SignArgs::HashSalt& salt : out.hash_salts) {
    bool known = std::ranges::any_of(out.hash_images, [&](const SignArgs::HashImage& image) {
      return image.partition == salt.partition;
    });
    if (!known) return arg_error(ArgErrc::kBadValue, "--hash-salt");
    if (!salted.insert(salt.partition).second) return arg_error(ArgErrc::kConflict, "--hash-salt");
  }
  return out;
}

std::expected<VerifyArgs, ArgError> parse_verify_args(std::span<const std::string_view> args) {
  VerifyArgs out;
  // IMAGE, once: only a partition check takes one (checked below, so the
  // options after it are parsed first).
  ApplyFn<VerifyArgs> positional = [](VerifyArgs& a, std::string_view v) -> Result {
    if (!a.image.empty()) return arg_error(ArgErrc::kUnexpectedArgument, v);
    a.image = v;
    return {};
  };
  if (auto parsed = parse_args<VerifyArgs>(args, verify_options(), out, positional); !parsed) {
    return std::unexpected(parsed.error());
  }
  if (out.help) return out;
  if (auto present = require(!out.key.empty(), "--key"); !present) {
    return std::unexpected(present.error());
  }
  if (!out.partition) {
    if (!out.image.empty()) return arg_error(ArgErrc::kUnexpectedArgument, out.image);
    if (auto present = require(!out.kernel.empty(), "--kernel"); !present) {
      return std::unexpected(present.error());
    }
    return out;
  }
  // A partition check has no payload parts.
  if (!out.kernel.empty()) return arg_error(ArgErrc::kConflict, "--kernel");
  if (out.initrd) return arg_error(ArgErrc::kConflict, "--initrd");
  if (out.vbmeta) return arg_error(ArgErrc::kConflict, "--vbmeta");
  if (auto present = require(!out.image.empty(), "IMAGE"); !present) {
    return std::unexpected(present.error());
  }
  return out;
}

std::string_view keygen_usage() {
  return R"(usage: pvm keygen --out KEY.pem [--bits 2048|4096|8192]

Generates an RSA private key (e = 65537) for signing payloads and writes it as
PEM ("BEGIN RSA PRIVATE KEY", which avbtool and openssl read) with mode 0600.
An existing file is never overwritten.

  --out KEY.pem   where to write the key (required)
  --bits N        modulus size: 2048, 4096 or 8192 (default: 4096; 8192 can
                  take minutes)

Exit status: 0 written; 1 failed; 2 usage error.
)";
}

std::string_view key_usage() {
  return R"(usage: pvm key export KEY.pem --out KEY.avbpubkey

Writes the AVB public key blob of a private key (what avbtool
extract_public_key writes, and what pvmfw and `pvm verify --key` trust):
key size, n0inv, the modulus and R^2 mod n, big-endian.

Exit status: 0 written; 1 failed; 2 usage error.
)";
}

std::string_view sign_usage() {
  return R"(usage: pvm sign --key KEY.pem --algorithm ALG --partition NAME --image F [options]
       pvm sign vbmeta --key KEY.pem --algorithm ALG --output F
                       [--hash-image NAME=FILE]... [options]

The first form adds an AVB hash footer to F as avbtool add_hash_footer does:
a hash descriptor for the image (H(salt || image)), a vbmeta image signed
with ALG at the next 4096-byte boundary, zeros, and an AvbFooter in the last
64 bytes. An existing footer on F is dropped first, so re-signing works. The
second form writes a standalone vbmeta image (avbtool make_vbmeta_image). The
output is byte-identical to avbtool 1.3.0's for the same key and salts.

  --key KEY.pem          RSA private key (not with ALG NONE)
  --algorithm ALG        NONE, SHA256_RSA2048, SHA256_RSA4096, SHA256_RSA8192,
                         SHA512_RSA2048, SHA512_RSA4096 or SHA512_RSA8192
                         (required; the key size must match)
  --partition NAME       partition name of the image's descriptor (e.g. boot)
  --image F              the image to sign; changed in place unless --output
  --partition-size N     make the result exactly N bytes (a multiple of 4096;
                         an error if image and vbmeta do not fit). Default:
                         round_up(image + 64 KiB + 4 KiB, 4096), room for the
                         largest vbmeta libavb reads and the footer block
                         (avbtool's --dynamic_partition_size)
  --salt HEX             salt of the image's descriptor (default: random, as
                         long as the digest)
  --rollback-index N     vbmeta rollback index (default: 0)
  --prop K:V             a property descriptor; repeatable, kept in order
  --hash-image NAME=FILE a hash descriptor for partition NAME stored elsewhere
                         (e.g. initrd_normal=initrd.img); repeatable. As
                         avbtool --include_descriptors_from_image of an image
                         holding only that descriptor: these come last, sorted
                         by NAME
  --hash-salt NAME=HEX   salt for --hash-image NAME (default: random)
  --hash-algorithm H     sha256 or sha512 for every hash descriptor
                         (default: sha256)
  --output F             write the result to F instead of in place (required
                         for `sign vbmeta`)

Exit status: 0 written; 1 failed; 2 usage error.
)";
}

std::string_view verify_usage() {
  return R"(usage: pvm verify --key KEY.avbpubkey --kernel IMG [--initrd FILE]
                  [--vbmeta FILE] [--stored-rollback-index N] [--json]
       pvm verify --partition NAME --key KEY.avbpubkey IMAGE
                  [--stored-rollback-index N] [--json]

The first form checks a payload as pvmfw would before booting it (the
verify/ library's verify_payload), and prints what it verified: algorithm,
rollback index, capabilities, and each partition's hash algorithm, size and
digest. The second checks one partition image as a bootloader does
(verify_partition; the hypervisor's check of pvmfw.img with --partition
pvmfw): signed with the key, exactly one hash descriptor, naming NAME and
covering the image, no other descriptor, every flag zero; it prints the
algorithm, rollback index and the image's hash algorithm, size and digest.

  --key F                    trusted AVB public key blob (pvm key export)
  --kernel IMG               the "boot" partition: image + vbmeta + footer,
                             or the raw kernel with --vbmeta
  --initrd FILE              the initrd (checked against initrd_normal or
                             initrd_debug)
  --vbmeta FILE              a standalone vbmeta image instead of the footer
  --partition NAME           check IMAGE (image + vbmeta + footer) as
                             partition NAME (e.g. pvmfw)
  --stored-rollback-index N  refuse images with a lower rollback index
                             (default: 0)
  --json                     print one JSON object on stdout

Exit status: 0 accepted; 1 refused, with "error: NAME: detail" on stderr
(and {"result":"error",...} on stdout with --json); 2 usage error or an
unreadable file.
)";
}

}  // namespace pvm

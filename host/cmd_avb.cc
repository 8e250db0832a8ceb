// `pvm keygen`, `pvm key export`, `pvm sign`, `pvm verify` (see cmd_avb.h).
#include "cmd_avb.h"

#include <filesystem>
#include <optional>
#include <utility>
#include <vector>

#include <verify/verify.h>

#include "avb_args.h"
#include "avb_sign.h"
#include "file_io.h"
#include "verify_report.h"

namespace pvm {
namespace {

namespace fs = std::filesystem;

// ---- sign ----------------------------------------------------------------------

// The salt given, or a random one as long as the digest (avbtool's default).
CliResult<std::vector<uint8_t>> salt_or_random(const std::optional<std::vector<uint8_t>>& given,
                                               avb::HashAlgorithm algorithm) {
  if (given) return *given;
  auto random = avb::random_bytes(avb::digest_size(algorithm));
  if (!random) return failure(to_string(random.error()));
  return std::move(*random);
}

// The vbmeta both forms sign: key, rollback index, properties, and a hash
// descriptor for each --hash-image (salted by its --hash-salt, or randomly).
CliResult<avb::VbmetaSpec> vbmeta_spec(const SignArgs& args,
                                       const std::optional<avb::RsaKey>& key) {
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
    if (!bytes) return usage_failure(hash_image.file + ": " + to_string(bytes.error()));
    std::optional<std::vector<uint8_t>> given;
    for (const SignArgs::HashSalt& salt : args.hash_salts) {
      if (salt.partition == hash_image.partition) given = salt.salt;
    }
    auto salt = salt_or_random(given, args.hash_algorithm);
    if (!salt) return std::unexpected(salt.error());
    vbmeta.included.push_back(avb::make_hash_descriptor(hash_image.partition, args.hash_algorithm,
                                                        std::move(*salt), *bytes));
  }
  return vbmeta;
}

// `pvm sign`'s first form: args.image with a hash footer (avbtool add_hash_footer).
CliResult<std::vector<uint8_t>> sign_image(const SignArgs& args, avb::VbmetaSpec vbmeta) {
  auto image = read_file(args.image, kMaxPartitionSize);
  if (!image) return usage_failure(args.image + ": " + to_string(image.error()));
  auto salt = salt_or_random(args.salt, args.hash_algorithm);
  if (!salt) return std::unexpected(salt.error());
  avb::FooterSpec footer{
      .partition_name = args.partition,
      .hash_algorithm = args.hash_algorithm,
      .salt = std::move(*salt),
      .partition_size = args.partition_size,
      .vbmeta = std::move(vbmeta),
  };
  auto partition = avb::add_hash_footer(*image, std::move(footer));
  if (!partition) return failure(to_string(partition.error()));
  return std::move(*partition);
}

// `pvm sign vbmeta`: a standalone vbmeta image (avbtool make_vbmeta_image).
CliResult<std::vector<uint8_t>> make_vbmeta(const avb::VbmetaSpec& vbmeta) {
  auto image = avb::make_vbmeta_image(vbmeta);
  if (!image) return failure(to_string(image.error()));
  return std::move(*image);
}

}  // namespace

std::expected<avb::RsaKey, std::string> load_private_key(const std::string& path) {
  auto bytes = read_file(path, 1 << 20);
  if (!bytes) return std::unexpected(path + ": " + to_string(bytes.error()));
  avb::SecretBytes pem(std::move(*bytes));
  auto key = avb::RsaKey::from_pem(pem.bytes());
  if (!key) return std::unexpected(path + ": " + to_string(key.error()));
  return std::move(*key);
}

CliResult<VerifiedFiles> verify_payload_files(const Io& io, const PayloadFiles& files,
                                              uint64_t max_size, uint64_t stored_rollback_index,
                                              bool json) {
  VerifiedFiles out;
  auto read = [max_size](const std::string& path, std::vector<uint8_t>& bytes) -> CliResult<void> {
    auto loaded = read_file(path, max_size);
    if (!loaded) return usage_failure(path + ": " + to_string(loaded.error()));
    bytes = std::move(*loaded);
    return {};
  };
  for (auto [path, bytes] :
       {std::pair{&files.key, &out.key}, std::pair{&files.kernel, &out.kernel}}) {
    if (auto done = read(*path, *bytes); !done) return std::unexpected(done.error());
  }
  for (auto [path, bytes] :
       {std::pair{&files.initrd, &out.initrd}, std::pair{&files.vbmeta, &out.vbmeta}}) {
    if (!*path) continue;
    if (auto done = read(**path, bytes->emplace()); !done) return std::unexpected(done.error());
  }
  verify::PayloadInputs inputs{
      .kernel = std::as_bytes(std::span(out.kernel)),
      .initrd = std::nullopt,
      .vbmeta = std::nullopt,
      .trusted_public_key = std::as_bytes(std::span(out.key)),
      .stored_rollback_index = stored_rollback_index,
  };
  if (out.initrd) inputs.initrd = std::as_bytes(std::span(*out.initrd));
  if (out.vbmeta) inputs.vbmeta = std::as_bytes(std::span(*out.vbmeta));
  auto verified = verify::verify_payload(inputs);
  if (!verified) {
    if (json) io.say(failure_json(verified.error()));
    io.error_line(failure_line(verified.error()));
    return failure("");  // reported
  }
  out.payload = *verified;
  return out;
}

CliResult<VerifiedPartitionFile> verify_partition_file(const Io& io, const std::string& key_path,
                                                       const std::string& image_path,
                                                       std::string_view name, uint64_t max_size,
                                                       uint64_t stored_rollback_index, bool json) {
  VerifiedPartitionFile out;
  for (auto [path, bytes] :
       {std::pair{&key_path, &out.key}, std::pair{&image_path, &out.partition}}) {
    auto loaded = read_file(*path, max_size);
    if (!loaded) return usage_failure(*path + ": " + to_string(loaded.error()));
    *bytes = std::move(*loaded);
  }
  const verify::PartitionInputs inputs{
      .partition = std::as_bytes(std::span(out.partition)),
      .partition_name = name,
      .trusted_public_key = std::as_bytes(std::span(out.key)),
      .stored_rollback_index = stored_rollback_index,
  };
  auto verified = verify::verify_partition(inputs);
  if (!verified) {
    if (json) io.say(failure_json(verified.error()));
    io.error_line(failure_line(verified.error()));
    return failure("");  // reported
  }
  out.verified = *verified;
  return out;
}

int cmd_keygen(const Io& io, std::span<const std::string_view> words) {
  auto args = parse_keygen_args(words);
  if (!args) return io.usage_error("keygen", to_string(args.error()));
  if (args->help) return io.help(keygen_usage());
  if (fs::exists(args->out)) {
    return io.usage_error("keygen", args->out + " exists; not overwriting a key");
  }
  auto key = avb::RsaKey::generate(args->bits);
  if (!key) return io.fail(to_string(key.error()));
  auto pem = key->to_pem();
  if (!pem) return io.fail(to_string(pem.error()));
  if (auto written = write_new_private_file(args->out, pem->bytes()); !written) {
    return io.fail(args->out + ": " + to_string(written.error()));
  }
  io.say("pvm: wrote a " + std::to_string(args->bits) + "-bit RSA key to " + args->out);
  return kExitOk;
}

int cmd_key(const Io& io, std::span<const std::string_view> words) {
  auto args = parse_key_args(words);
  if (!args) return io.usage_error("key", to_string(args.error()));
  if (args->help) return io.help(key_usage());
  auto key = load_private_key(args->key);
  if (!key) return io.usage_error("key", key.error());
  auto blob = key->avb_public_key();
  if (!blob) return io.fail(to_string(blob.error()));
  if (auto written = write_file(args->out, *blob); !written) {
    return io.fail(args->out + ": " + to_string(written.error()));
  }
  return kExitOk;
}

int cmd_sign(const Io& io, std::span<const std::string_view> words) {
  auto parsed = parse_sign_args(words);
  if (!parsed) return io.usage_error("sign", to_string(parsed.error()));
  const SignArgs& args = *parsed;
  if (args.help) return io.help(sign_usage());

  std::optional<avb::RsaKey> key;
  if (args.key) {
    auto loaded = load_private_key(*args.key);
    if (!loaded) return io.usage_error("sign", loaded.error());
    key = std::move(*loaded);
  }
  auto vbmeta = vbmeta_spec(args, key);
  if (!vbmeta) return io.report("sign", vbmeta.error());

  CliResult<std::vector<uint8_t>> result;
  std::string output, what;
  if (args.vbmeta_image) {
    output = *args.output;
    what = "vbmeta image";
    result = make_vbmeta(*vbmeta);
  } else {
    output = args.output.value_or(args.image);
    what = "partition " + args.partition;
    result = sign_image(args, std::move(*vbmeta));
  }
  if (!result) return io.report("sign", result.error());
  if (auto written = write_file(output, *result); !written) {
    return io.fail(output + ": " + to_string(written.error()));
  }
  io.say("pvm: wrote " + what + " to " + output + " (" + std::to_string(result->size()) +
         " bytes, " + std::string(avb::to_string(*args.algorithm)) + ")");
  return kExitOk;
}

int cmd_verify(const Io& io, std::span<const std::string_view> words) {
  auto args = parse_verify_args(words);
  if (!args) return io.usage_error("verify", to_string(args.error()));
  if (args->help) return io.help(verify_usage());
  if (args->partition) {
    auto verified =
        verify_partition_file(io, args->key, args->image, *args->partition, kMaxPartitionSize,
                              args->stored_rollback_index, args->json);
    if (!verified) return io.report("verify", verified.error());
    if (args->json) {
      io.say(verified_partition_json(*args->partition, verified->verified));
    } else {
      io.print(describe_verified_partition(*args->partition, verified->verified));
    }
    return kExitOk;
  }
  const PayloadFiles files{args->key, args->kernel, args->initrd, args->vbmeta};
  auto verified =
      verify_payload_files(io, files, kMaxPartitionSize, args->stored_rollback_index, args->json);
  if (!verified) return io.report("verify", verified.error());
  if (args->json) {
    io.say(verified_json(verified->payload));
  } else {
    io.print(describe_verified(verified->payload));
  }
  return kExitOk;
}

}  // namespace pvm

// Command-line options of `pvm keygen`, `pvm key export`, `pvm sign` and
// `pvm verify` (see cmd_avb.h for what they do).
//
// Callers may rely on: parsing is pure (no file system); a parsed value has
// every required option and no conflicting ones, unless `help` is set
// (--help or -h: cli_options.h).
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "avb_crypto.h"
#include "avb_sign.h"
#include "cli_options.h"

namespace pvm {

struct KeygenArgs {
  std::string out;
  unsigned bits = 4096;
  bool help = false;
};

struct KeyExportArgs {
  std::string key;  // PEM private key
  std::string out;  // AVB public key blob
  bool help = false;
};

struct SignArgs {
  struct HashImage {
    std::string partition;
    std::string file;
  };
  struct HashSalt {
    std::string partition;
    std::vector<uint8_t> salt;
  };

  bool vbmeta_image = false;  // `pvm sign vbmeta`: a standalone vbmeta image
  std::optional<std::string> key;
  std::optional<avb::Algorithm> algorithm;  // required: unsigned must be asked for
  // Footer mode only.
  std::string partition;
  std::string image;
  std::optional<uint64_t> partition_size;
  std::optional<std::vector<uint8_t>> salt;  // absent: random
  // Both modes.
  uint64_t rollback_index = 0;
  std::vector<avb::Property> properties;
  std::vector<HashImage> hash_images;
  std::vector<HashSalt> hash_salts;  // each names a hash_images partition
  avb::HashAlgorithm hash_algorithm = avb::HashAlgorithm::kSha256;
  std::optional<std::string> output;  // required for vbmeta; footer: in place when absent
  bool help = false;
};

struct VerifyArgs {
  std::string key;
  // A payload (verify::verify_payload) ...
  std::string kernel;
  std::optional<std::string> initrd;
  std::optional<std::string> vbmeta;
  // ... or, with --partition, one partition image (verify::verify_partition).
  std::optional<std::string> partition;
  std::string image;  // the positional IMAGE
  uint64_t stored_rollback_index = 0;
  bool json = false;
  bool help = false;
};

// Each takes the words after the command ("keygen", "key", "sign", "verify").
[[nodiscard]] std::expected<KeygenArgs, ArgError> parse_keygen_args(
    std::span<const std::string_view> args);
[[nodiscard]] std::expected<KeyExportArgs, ArgError> parse_key_args(
    std::span<const std::string_view> args);
[[nodiscard]] std::expected<SignArgs, ArgError> parse_sign_args(
    std::span<const std::string_view> args);
[[nodiscard]] std::expected<VerifyArgs, ArgError> parse_verify_args(
    std::span<const std::string_view> args);

std::string_view keygen_usage();
std::string_view key_usage();
std::string_view sign_usage();
std::string_view verify_usage();

// Largest --partition-size accepted (the whole partition is built in memory).
inline constexpr uint64_t kMaxPartitionSize = uint64_t{4} << 30;

}  // namespace pvm

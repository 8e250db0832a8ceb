// `pvm keygen`, `pvm key export`, `pvm sign` and `pvm verify`: AVB keys,
// signing as avbtool does, and the firmware's own verify/ library on a
// payload. Options: avb_args.h.
//
// Callers may rely on: exit statuses as cli.h (verify: 1 when the payload or
// partition is refused, with one stderr line "error: NAME: detail"); a private key read
// here is wiped from memory once parsed, and never printed or overwritten.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <verify/verify.h>

#include "avb_crypto.h"
#include "cli.h"

namespace pvm {

int cmd_keygen(const Io& io, std::span<const std::string_view> words);
int cmd_key(const Io& io, std::span<const std::string_view> words);
int cmd_sign(const Io& io, std::span<const std::string_view> words);
int cmd_verify(const Io& io, std::span<const std::string_view> words);

// The PEM (or DER) private key in `path`; its file bytes are wiped once
// parsed. The error is "PATH: reason".
[[nodiscard]] std::expected<avb::RsaKey, std::string> load_private_key(const std::string& path);

// A payload's files, as `pvm verify` and `pvm dice expect` name them.
struct PayloadFiles {
  std::string key;     // the trusted AVB public key blob
  std::string kernel;  // the "boot" partition (or the raw kernel, with vbmeta)
  std::optional<std::string> initrd;
  std::optional<std::string> vbmeta;  // a standalone vbmeta image
};

// Their bytes, and what verify::verify_payload made of them.
struct VerifiedFiles {
  std::vector<uint8_t> key, kernel;
  std::optional<std::vector<uint8_t>> initrd, vbmeta;
  verify::VerifiedPayload payload;
};

// Reads `files` (key, kernel, initrd, vbmeta; each at most `max_size` bytes)
// and runs the firmware's verify_payload on them. An unreadable file is a
// usage error "PATH: reason"; a refusal is reported on `io` as Io::refuse
// does ("error: NAME: detail", and the JSON form with `json`) and returned as
// kExitFailed with nothing more to print.
[[nodiscard]] CliResult<VerifiedFiles> verify_payload_files(const Io& io, const PayloadFiles& files,
                                                            uint64_t max_size,
                                                            uint64_t stored_rollback_index,
                                                            bool json);

// One partition image as the hypervisor checks pvmfw.img: its bytes, the
// trusted key's, and what verify::verify_partition made of them.
struct VerifiedPartitionFile {
  std::vector<uint8_t> key, partition;
  verify::VerifiedPartition verified;  // its `image` points into `partition`

  // partition[0:image_size]: the bytes the hash descriptor covers.
  std::span<const std::byte> image() const {
    return std::as_bytes(std::span(partition)).first(verified.digest.image_size);
  }
};

// Reads the key blob and the partition image (at most `max_size` bytes) and
// runs verify_partition on them as partition `name`. Errors as
// verify_payload_files.
[[nodiscard]] CliResult<VerifiedPartitionFile> verify_partition_file(
    const Io& io, const std::string& key_path, const std::string& image_path, std::string_view name,
    uint64_t max_size, uint64_t stored_rollback_index, bool json);

}  // namespace pvm

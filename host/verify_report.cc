#include "verify_report.h"

#include <algorithm>
#include <span>

#include "cli.h"  // to_hex

namespace pvm {
namespace {

struct NamedCapability {
  uint32_t bit;
  std::string_view name;  // as in AOSP pvmfw's com.android.virt.cap property
};

constexpr NamedCapability kCapabilities[] = {
    {verify::kCapRemoteAttest, "remote_attest"},
    {verify::kCapSecretkeeperProtection, "secretkeeper_protection"},
    {verify::kCapSupportsUefiBoot, "supports_uefi_boot"},
    {verify::kCapTrustySecurityVm, "trusty_security_vm"},
};

struct NamedPartition {
  std::string_view name;
  const verify::PartitionDigest* digest;
};

std::vector<NamedPartition> partitions(const verify::VerifiedPayload& payload) {
  std::vector<NamedPartition> out = {{"boot", &payload.kernel}};
  if (payload.initrd) {
    out.push_back({payload.debug_initrd ? "initrd_debug" : "initrd_normal", &*payload.initrd});
  }
  return out;
}

std::string digest_hex(const verify::PartitionDigest& digest) {
  size_t size = std::min<size_t>(digest.size, digest.bytes.size());
  return to_hex(std::span(digest.bytes).first(size));
}

const char* or_empty(const char* text) { return text != nullptr ? text : ""; }

}  // namespace

std::vector<std::string> capability_names(uint32_t capabilities) {
  std::vector<std::string> names;
  for (unsigned bit = 0; bit < 32; ++bit) {
    const uint32_t mask = uint32_t{1} << bit;
    if ((capabilities & mask) == 0) continue;
    std::string name = "bit" + std::to_string(bit);
    for (const NamedCapability& known : kCapabilities) {
      if (known.bit == mask) name = known.name;
    }
    names.push_back(std::move(name));
  }
  return names;
}

std::string describe_verified(const verify::VerifiedPayload& payload) {
  std::string text = "verified: algorithm " + std::string(verify::to_string(payload.algorithm)) +
                     ", rollback index " + std::to_string(payload.rollback_index) + "\n";
  text += "capabilities:";
  std::vector<std::string> names = capability_names(payload.capabilities);
  if (names.empty()) text += " none";
  for (const std::string& name : names) text += " " + name;
  text += "\n";
  for (const NamedPartition& partition : partitions(payload)) {
    text += std::string(partition.name) + ": " +
            verify::to_string(partition.digest->algorithm) + ", " +
            std::to_string(partition.digest->image_size) + " bytes, digest " +
            digest_hex(*partition.digest) + "\n";
  }
  text += "initrd: ";
  text += !payload.initrd ? "none" : payload.debug_initrd ? "debug (initrd_debug)" : "normal";
  text += "\n";
  return text;
}

std::string verified_json(const verify::VerifiedPayload& payload) {
  std::string json = R"({"result":"ok","algorithm":)" +
                     json_string(verify::to_string(payload.algorithm)) +
                     R"(,"rollback_index":)" + std::to_string(payload.rollback_index) +
                     R"(,"capabilities":[)";
  std::vector<std::string> names = capability_names(payload.capabilities);
  for (size_t i = 0; i < names.size(); ++i) {
    if (i != 0) json += ",";
    json += json_string(names[i]);
  }
  json += R"(],"partitions":{)";
  bool first = true;
  for (const NamedPartition& partition : partitions(payload)) {
    if (!first) json += ",";
    first = false;
    json += json_string(partition.name) + R"(:{"hash_algorithm":)" +
            json_string(verify::to_string(partition.digest->algorithm)) +
            R"(,"image_size":)" + std::to_string(partition.digest->image_size) +
            R"(,"digest":)" + json_string(digest_hex(*partition.digest)) + "}";
  }
  json += "}}";
  return json;
}

std::string describe_verified_partition(std::string_view partition,
                                        const verify::VerifiedPartition& verified) {
  return "verified: partition " + std::string(partition) + ", algorithm " +
         verify::to_string(verified.algorithm) + ", rollback index " +
         std::to_string(verified.rollback_index) + "\n" + std::string(partition) + ": " +
         verify::to_string(verified.digest.algorithm) + ", " +
         std::to_string(verified.digest.image_size) + " bytes, digest " +
         digest_hex(verified.digest) + "\n";
}

std::string verified_partition_json(std::string_view partition,
                                    const verify::VerifiedPartition& verified) {
  return R"({"result":"ok","algorithm":)" + json_string(verify::to_string(verified.algorithm)) +
         R"(,"rollback_index":)" + std::to_string(verified.rollback_index) + R"(,"partitions":{)" +
         json_string(partition) + R"(:{"hash_algorithm":)" +
         json_string(verify::to_string(verified.digest.algorithm)) + R"(,"image_size":)" +
         std::to_string(verified.digest.image_size) + R"(,"digest":)" +
         json_string(digest_hex(verified.digest)) + "}}}";
}

std::string failure_line(const verify::Failure& failure) {
  return std::string("error: ") + verify::to_string(failure.error) + ": " +
         or_empty(failure.detail);
}

std::string failure_json(const verify::Failure& failure) {
  return R"({"result":"error","error":)" + json_string(verify::to_string(failure.error)) +
         R"(,"detail":)" + json_string(or_empty(failure.detail)) + "}";
}

}  // namespace pvm

// pvmfw's DICE inputs and the host's stand-in previous stage (see
// include/dice/pvmfw.h).
#include "dice/pvmfw.h"

#include <cstring>

#include "dice/crypto.h"
#include "internal.h"

namespace dice::pvmfw {

std::expected<Hash, Error> code_hash(Bytes kernel_digest, std::optional<Bytes> initrd_digest) {
  if ((kernel_digest.size() != 32 && kernel_digest.size() != 64) ||
      (initrd_digest && initrd_digest->size() != kernel_digest.size())) {
    return std::unexpected(Error::kInvalidInput);
  }
  const std::array<uint8_t, 64> zeros{};
  const Bytes parts[] = {
      kernel_digest,
      initrd_digest ? *initrd_digest : std::as_bytes(std::span(zeros)).first(kernel_digest.size())};
  Hash h{};
  if (!sha512(parts, h)) return std::unexpected(Error::kCryptoFailure);
  return h;
}

std::expected<Hash, Error> authority_hash(Bytes avb_public_key) {
  if (avb_public_key.empty()) return std::unexpected(Error::kInvalidInput);
  Hash h{};
  if (!sha512(avb_public_key, h)) return std::unexpected(Error::kCryptoFailure);
  return h;
}

std::expected<size_t, Error> config_descriptor(uint64_t security_version,
                                               const std::optional<Hash>& instance_hash,
                                               std::span<std::byte> out) {
  AndroidConfig config;
  config.component_name = kComponentName;
  config.security_version = security_version;
  config.instance_hash = instance_hash;
  cbor::Writer w(out);
  write_android_config(config, w);
  if (!w.ok()) return std::unexpected(Error::kBufferTooSmall);
  return w.size();
}

std::expected<Hash, Error> hidden(std::span<const uint8_t, kHiddenSize> salt, uint8_t flags) {
  const Bytes parts[] = {std::as_bytes(salt),
                         std::as_bytes(std::span<const uint8_t, 1>(&flags, 1))};
  Hash h{};
  if (!sha512(parts, h)) return std::unexpected(Error::kCryptoFailure);
  return h;
}

std::expected<void, Error> make_inputs(const Measurements& m, std::span<std::byte> descriptor_buf,
                                       InputValues& in) {
  auto code = code_hash(m.kernel_digest, m.initrd_digest);
  if (!code) return std::unexpected(code.error());
  auto authority = authority_hash(m.avb_public_key);
  if (!authority) return std::unexpected(authority.error());
  auto descriptor_size = config_descriptor(m.security_version, m.instance_hash, descriptor_buf);
  if (!descriptor_size) return std::unexpected(descriptor_size.error());
  auto hidden_value = hidden(m.salt, m.hidden_flags);
  if (!hidden_value) return std::unexpected(hidden_value.error());
  in = InputValues{};
  in.code_hash = *code;
  in.config_type = ConfigType::kDescriptor;
  in.config_descriptor = std::as_bytes(descriptor_buf.first(*descriptor_size));
  in.authority_hash = *authority;
  in.mode = mode(m.debug);
  in.hidden = *hidden_value;
  return {};
}

std::expected<Hash, Error> instance_hash(Bytes instance_id) {
  if (instance_id.size() != kInstanceIdSize) return std::unexpected(Error::kInvalidInput);
  const Bytes parts[] = {internal::text("InstanceId:"), instance_id};
  Hash h{};
  if (!sha512(parts, h)) return std::unexpected(Error::kCryptoFailure);
  return h;
}

std::expected<void, Error> set_instance(Measurements& m, Bytes instance_id) {
  auto h = instance_hash(instance_id);
  if (!h) return std::unexpected(h.error());
  m.instance_hash = *h;
  std::memcpy(m.salt.data(), h->data(), m.salt.size());
  m.hidden_flags = static_cast<uint8_t>(m.hidden_flags | kHiddenDeferredRollbackProtection);
  return {};
}

std::expected<size_t, Error> previous_stage_handover(std::span<const uint8_t, kCdiSize> uds,
                                                     std::span<std::byte> out) {
  InputValues in;
  if (!sha512(internal::text("pvm previous stage"), in.code_hash)) {
    return std::unexpected(Error::kCryptoFailure);
  }
  std::byte descriptor[64];
  AndroidConfig config;
  config.component_name = kPreviousStageName;
  cbor::Writer w{std::span<std::byte>(descriptor)};
  write_android_config(config, w);
  if (!w.ok()) return std::unexpected(Error::kBufferTooSmall);
  in.config_type = ConfigType::kDescriptor;
  in.config_descriptor = std::as_bytes(w.written());
  in.mode = Mode::kNormal;
  return main_flow(uds, uds, std::nullopt, in, CertOptions{}, out);
}

}  // namespace dice::pvmfw

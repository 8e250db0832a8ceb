// pvmfw's DICE inputs, and the first layer from the UDS: the hypervisor's
// pvmfw stage and the host's stand-in previous stage (see include/dice/pvmfw.h).
#include "dice/pvmfw.h"

#include <array>
#include <cstring>

#include "dice/crypto.h"
#include "internal.h"

namespace dice::pvmfw {
namespace {

// A failed first layer leaves nothing in `out` (as main_flow).
std::unexpected<Error> wiped(std::span<std::byte> out, Error e) {
  base::secure_wipe(out.data(), out.size());
  return std::unexpected(e);
}

}  // namespace

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

std::expected<void, Error> first_layer_inputs(const FirstLayer& layer,
                                              std::span<std::byte> descriptor_buf,
                                              InputValues& in) {
  AndroidConfig config;
  config.component_name = layer.component_name;
  config.security_version = layer.security_version;
  cbor::Writer w(descriptor_buf);
  write_android_config(config, w);
  if (!w.ok()) return std::unexpected(Error::kBufferTooSmall);
  in = InputValues{};
  in.code_hash = layer.code_hash;
  in.config_type = ConfigType::kDescriptor;
  in.config_descriptor = std::as_bytes(w.written());
  in.authority_hash = layer.authority_hash;
  in.mode = Mode::kNormal;
  // in.hidden: 64 zero bytes.
  return {};
}

std::expected<size_t, Error> first_layer_handover(std::span<const uint8_t, kCdiSize> uds,
                                                  const InputValues& in, std::span<std::byte> out) {
  // open-dice: the UDS is both CDIs of the first layer, and its key the root.
  return main_flow(uds, uds, std::nullopt, in, CertOptions{}, out);
}

std::expected<size_t, Error> previous_stage_handover(std::span<const uint8_t, kCdiSize> uds,
                                                     std::span<std::byte> out) {
  FirstLayer layer;
  if (!sha512(internal::text("pvm previous stage"), layer.code_hash)) {
    return wiped(out, Error::kCryptoFailure);
  }
  layer.component_name = kPreviousStageName;
  std::array<std::byte, kMaxFirstLayerDescriptorSize> descriptor{};
  InputValues in;
  if (auto made = first_layer_inputs(layer, descriptor, in); !made) {
    return wiped(out, made.error());
  }
  return first_layer_handover(uds, in, out);
}

std::expected<void, Error> pvmfw_stage_inputs(const PvmfwStageInputs& stage,
                                              std::span<std::byte> descriptor_buf,
                                              InputValues& in) {
  if (stage.image.empty()) return std::unexpected(Error::kInvalidInput);
  auto authority = authority_hash(stage.platform_key);
  if (!authority) return std::unexpected(authority.error());
  FirstLayer layer;
  if (!sha512(stage.image, layer.code_hash)) return std::unexpected(Error::kCryptoFailure);
  layer.component_name = kPvmfwStageName;
  layer.security_version = stage.security_version;
  layer.authority_hash = *authority;
  return first_layer_inputs(layer, descriptor_buf, in);
}

std::expected<size_t, Error> pvmfw_stage_handover(std::span<const uint8_t, kCdiSize> uds,
                                                  const PvmfwStageInputs& stage,
                                                  std::span<std::byte> out) {
  // main_flow checks `out` against the UDS and the descriptor; the image and
  // key are only hashed, but a handover written over them is a caller's bug.
  const Bytes o = std::as_bytes(out);
  if (internal::overlaps(o, stage.image) || internal::overlaps(o, stage.platform_key)) {
    return std::unexpected(Error::kInvalidInput);
  }
  std::array<std::byte, kMaxFirstLayerDescriptorSize> descriptor{};
  InputValues in;
  if (auto made = pvmfw_stage_inputs(stage, descriptor, in); !made) {
    return wiped(out, made.error());
  }
  return first_layer_handover(uds, in, out);
}

}  // namespace dice::pvmfw

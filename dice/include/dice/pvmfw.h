// pvmfw's DICE inputs for the VM layer (AOSP pvmfw's
// dice.rs: code, authority, config descriptor, mode, hidden), and the first
// layer below pvmfw: the hypervisor's pvmfw stage and the stand-in previous
// stage the host uses for -bios runs. The same code computes them in the firmware and in
// `pvm dice expect`, so what the host predicts is what the firmware derives.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string_view>

#include "dice/dice.h"

namespace dice::pvmfw {

inline constexpr std::string_view kComponentName = "vm_entry";

// code_hash = SHA-512(kernel_digest || initrd_digest), with zeros of the
// kernel digest's size when there is no initrd (AOSP: "zeros if none"). The
// digests are the verified AVB hash-descriptor digests (32 or 64 bytes; an
// initrd digest must have the kernel digest's size).
[[nodiscard]] std::expected<Hash, Error> code_hash(Bytes kernel_digest,
                                                   std::optional<Bytes> initrd_digest);

// authority_hash = SHA-512(the trusted AVB public key blob).
[[nodiscard]] std::expected<Hash, Error> authority_hash(Bytes avb_public_key);

// Normal, or debug when the payload booted with its debug initrd.
constexpr Mode mode(bool debug) { return debug ? Mode::kDebug : Mode::kNormal; }

// The config descriptor: {-70002: "vm_entry", -70005: security_version
// (the vbmeta rollback index), -71003: instance hash (when there is one)}
// (write_android_config order). Returns the size written into `out`.
inline constexpr size_t kMaxConfigDescriptorSize = 128;
[[nodiscard]] std::expected<size_t, Error> config_descriptor(
    uint64_t security_version, const std::optional<Hash>& instance_hash, std::span<std::byte> out);

// The hidden input: SHA-512 over 65 bytes, salt (64) || flags (1). The salt
// is the per-instance salt (AOSP: from the instance image, or
// SHA-512("InstanceId:" || instance id)); flags are HiddenFlags bits. AOSP
// hashes a packed {rkp_vm_marker, salt, deferred_rollback_protection}; this
// project's layout is the one above (the salt source differs anyway).
enum HiddenFlags : uint8_t {
  kHiddenRkpVm = 1u << 0,                       // the VM is the RKP VM
  kHiddenDeferredRollbackProtection = 1u << 1,  // rollback protection left to the payload
};
[[nodiscard]] std::expected<Hash, Error> hidden(std::span<const uint8_t, kHiddenSize> salt,
                                                uint8_t flags);

// The InputValues pvmfw derives the VM layer with.
struct Measurements {
  Bytes kernel_digest;
  std::optional<Bytes> initrd_digest;
  Bytes avb_public_key;
  bool debug = false;
  uint64_t security_version = 0;
  std::optional<Hash> instance_hash;
  std::array<uint8_t, kHiddenSize> salt{};
  uint8_t hidden_flags = 0;
};
// Fills `in` (its config_descriptor points into `descriptor_buf`, which must
// outlive it and hold kMaxConfigDescriptorSize bytes).
[[nodiscard]] std::expected<void, Error> make_inputs(const Measurements& m,
                                                     std::span<std::byte> descriptor_buf,
                                                     InputValues& in);

// The VM instance (AVF's instance-id lifecycle, pvmfw-aosp.md "DICE"): the
// VMM gives every instance a 64-byte /avf/untrusted/instance-id, and
//   instance hash = SHA-512("InstanceId:" || instance id)
// is both the config descriptor's -71003 and the hidden input's salt. pvmfw
// keeps no instance storage, so rollback protection is the payload's
// (kHiddenDeferredRollbackProtection). Another instance of the same payload
// gets other CDIs; the same instance gets the same CDIs on every boot.
inline constexpr size_t kInstanceIdSize = 64;
[[nodiscard]] std::expected<Hash, Error> instance_hash(Bytes instance_id);
// Sets m.instance_hash, m.salt and m.hidden_flags for `instance_id`.
[[nodiscard]] std::expected<void, Error> set_instance(Measurements& m, Bytes instance_id);

// ---- The first layer, from the device secret ----------------------------------------
//
// The stage below pvmfw starts the chain from a 32-byte Unique Device Secret.
// As in open-dice the UDS is the first layer's CDI_Attest and CDI_Seal, and
// its key is the chain's root (UDS_Public). One layer is derived from it with
//   config = descriptor {-70002: component name[, -70005: security version]},
//   mode normal, hidden 64 zero bytes,
// and the layer's code and authority hashes, giving the handover
//   {1: CDI_Attest, 2: CDI_Seal, 3: [COSE_Key(UDS_Public), cert]}
// (dice.h main_flow without a chain). Two stages do this with the same code
// (first_layer_inputs, then first_layer_handover): the host's stand-in below
// and the hypervisor's pvmfw stage. Both are deterministic: the same inputs
// give the same bytes. The secrets they hold (the layer's private keys) are
// wiped before they return; the new CDIs are in `out`, the caller's to wipe
// (on failure `out` is wiped).

// The first layer's InputValues. Its config_descriptor points into
// `descriptor_buf` (kMaxFirstLayerDescriptorSize bytes hold any name up to
// 32 bytes), which must outlive it.
inline constexpr size_t kMaxFirstLayerDescriptorSize = 64;
struct FirstLayer {
  Hash code_hash{};
  std::string_view component_name;           // kBufferTooSmall when the descriptor is too big
  std::optional<uint64_t> security_version;  // -70005, when set
  Hash authority_hash{};
};
[[nodiscard]] std::expected<void, Error> first_layer_inputs(const FirstLayer& layer,
                                                            std::span<std::byte> descriptor_buf,
                                                            InputValues& in);
// main_flow(uds, uds, no chain, in) into `out`; returns the size written.
[[nodiscard]] std::expected<size_t, Error> first_layer_handover(
    std::span<const uint8_t, kCdiSize> uds, const InputValues& in, std::span<std::byte> out);

// The previous stage for -bios runs: until a hypervisor hands pvmfw a real
// handover, the host makes one from a per-machine UDS (`pvm device init`),
// as the first layer "pvm-previous-stage" with
//   code_hash = SHA-512("pvm previous stage"), authority_hash = 64 zero bytes,
//   no security version,
// the same for every boot of the machine. Returns the size written into `out`.
inline constexpr std::string_view kPreviousStageName = "pvm-previous-stage";
[[nodiscard]] std::expected<size_t, Error> previous_stage_handover(
    std::span<const uint8_t, kCdiSize> uds, std::span<std::byte> out);

// The stage below pvmfw, as the hypervisor runs it (docs/hypervisor.md "Boot,
// in order" step 4) and `pvm dice expect --pvmfw-img` predicts it: the first
// layer "pvmfw", measuring the pvmfw.img it verified (verify::verify_partition)
// with
//   code_hash      = SHA-512(image): the bytes pvmfw.img's hash descriptor covers
//   authority_hash = SHA-512(platform_key): the AVB public key blob it was
//                    verified against
//   config         = {-70002: "pvmfw", -70005: security_version (pvmfw.img's
//                    rollback index)}.
// Another UDS gives other CDIs and keys; another image or security version
// another CDI_Attest (CDI_Seal, open-dice's sealing CDI, depends only on the
// authority, mode and hidden inputs: it survives pvmfw updates signed by the
// same platform key); another platform key other CDIs. kInvalidInput when the
// image or key is empty or `out` overlaps an input. Returns the size written.
inline constexpr std::string_view kPvmfwStageName = "pvmfw";
struct PvmfwStageInputs {
  Bytes image;         // pvmfw.img[0:image_size]
  Bytes platform_key;  // the AVB public key blob pvmfw.img was verified with
  uint64_t security_version = 0;
};
// The layer's InputValues (first_layer_inputs with the hashes above).
[[nodiscard]] std::expected<void, Error> pvmfw_stage_inputs(const PvmfwStageInputs& stage,
                                                            std::span<std::byte> descriptor_buf,
                                                            InputValues& in);
[[nodiscard]] std::expected<size_t, Error> pvmfw_stage_handover(
    std::span<const uint8_t, kCdiSize> uds, const PvmfwStageInputs& stage,
    std::span<std::byte> out);

}  // namespace dice::pvmfw

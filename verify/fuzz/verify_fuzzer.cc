// libFuzzer harness: untrusted payload images through verify_payload (and,
// in footer mode, verify_partition), and the AVB parsers (footer, vbmeta
// header, key blob, descriptors) on raw bytes.
//
// Input:
//   - anything not starting with "VFZ1": the whole input is a "boot"
//     partition in footer mode (so the AVB vector images are seeds as is);
//   - "VFZ1" u8 flags, u8[3], be32 kernel_len, be32 initrd_len, then the
//     kernel, the initrd (flag 1) and, as the rest, a standalone vbmeta (flag 2).
//     Flag 4: trust the key embedded in the vbmeta; flag 8: repair the embedded
//     vbmeta hash first (so mutations get past HASH_MISMATCH to the key and
//     signature checks); flag 16: stored rollback index 1.
// Trusted key otherwise (and for raw inputs, whose hash is always repaired):
// the AVB key blob named by $VERIFY_FUZZ_TRUSTED_KEY (the 4096 test key of
// the public AVB test vectors), or the embedded key when that is unset.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

#include "avb.h"
#include "verify/verify.h"

namespace {

using verify::avb::Bytes;

std::vector<uint8_t>& env_key() {
  static std::vector<uint8_t> key;
  return key;
}

uint32_t be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

std::span<std::byte> writable(std::vector<uint8_t>& v) { return std::as_writable_bytes(std::span(v)); }

// The vbmeta inside `vbmeta` (a mutable copy), hash repaired when asked; the
// embedded key when `trust_embedded`.
Bytes prepare(std::span<std::byte> vbmeta, bool repair, bool trust_embedded) {
  auto v = verify::avb::parse_vbmeta(vbmeta);
  if (!v) return {};
  if (repair) {
    std::array<uint8_t, 64> h{};
    const std::array<Bytes, 2> parts = {v->header, v->auxiliary};
    verify::avb::digest(v->info.hash, parts, h);
    const size_t at = static_cast<size_t>(v->hash.data() - vbmeta.data());
    for (size_t i = 0; i < v->hash.size(); ++i) vbmeta[at + i] = std::byte{h[i]};
  }
  return trust_embedded ? v->public_key : Bytes{};
}

void fuzz_parsers(Bytes data) {
  (void)verify::avb::parse_footer(data);
  (void)verify::avb::parse_vbmeta(data);
  (void)verify::avb::parse_public_key(data);
  (void)verify::avb::parse_hash_descriptor(data);
  (void)verify::avb::parse_property_descriptor(data);
  (void)verify::avb::for_each_descriptor(data, verify::avb::check_descriptor_shape);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* path = std::getenv("VERIFY_FUZZ_TRUSTED_KEY")) {
    if (FILE* f = std::fopen(path, "rb")) {
      uint8_t buf[4096];
      size_t n = 0;
      while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) env_key().insert(env_key().end(), buf, buf + n);
      std::fclose(f);
    }
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz_parsers(std::as_bytes(std::span(data, size)));

  std::vector<uint8_t> kernel, initrd, vbmeta;
  uint8_t flags = 0;
  if (size >= 16 && data[0] == 'V' && data[1] == 'F' && data[2] == 'Z' && data[3] == '1') {
    flags = data[4];
    const size_t kernel_len = be32(data + 8), initrd_len = be32(data + 12);
    size_t pos = 16;
    if (kernel_len > size - pos) return 0;
    kernel.assign(data + pos, data + pos + kernel_len);
    pos += kernel_len;
    if (flags & 1) {
      if (initrd_len > size - pos) return 0;
      initrd.assign(data + pos, data + pos + initrd_len);
      pos += initrd_len;
    }
    if (flags & 2) vbmeta.assign(data + pos, data + size);
  } else {
    kernel.assign(data, data + size);
    flags = 8;  // the vector images: reach the key and signature checks
  }

  const bool repair = flags & 8, trust_embedded = (flags & 4) || env_key().empty();
  Bytes embedded_key;
  if (flags & 2) {
    embedded_key = prepare(writable(vbmeta), repair, trust_embedded);
  } else if (auto footer = verify::avb::parse_footer(std::as_bytes(std::span(kernel)))) {
    auto region = base::subspan(std::as_bytes(std::span(kernel)), footer->vbmeta_offset,
                                footer->vbmeta_size);
    if (region) {
      auto w = writable(kernel).subspan(static_cast<size_t>(footer->vbmeta_offset),
                                        static_cast<size_t>(footer->vbmeta_size));
      embedded_key = prepare(w, repair, trust_embedded);
    }
  }

  verify::PayloadInputs in;
  in.kernel = std::as_bytes(std::span(kernel));
  if (flags & 1) in.initrd = std::as_bytes(std::span(initrd));
  if (flags & 2) in.vbmeta = std::as_bytes(std::span(vbmeta));
  in.trusted_public_key = trust_embedded ? embedded_key : std::as_bytes(std::span(env_key()));
  in.stored_rollback_index = (flags & 16) ? 1 : 0;
  auto r = verify::verify_payload(in);
  if (r) {
    // Whatever is accepted covers exactly what would run.
    if (r->kernel.image_size > kernel.size()) std::abort();
    if ((flags & 2) && r->kernel.image_size != kernel.size()) std::abort();
    if (r->initrd.has_value() != bool(flags & 1)) std::abort();
    if (r->initrd && r->initrd->image_size != initrd.size()) std::abort();
  } else {
    (void)verify::to_string(r.error().error);
  }

  // Footer-mode inputs through verify_partition too, as partition "boot".
  // Its policy is the stricter one: whatever it accepts, verify_payload
  // accepted with the same inputs (no initrd, no stored index) and digest.
  if (!(flags & 2)) {
    verify::PartitionInputs part;
    part.partition = in.kernel;
    part.partition_name = "boot";
    part.trusted_public_key = in.trusted_public_key;
    auto p = verify::verify_partition(part);
    if (p) {
      if (p->image.data() != in.kernel.data() || p->image.size() != p->digest.image_size ||
          p->digest.image_size > kernel.size()) {
        std::abort();
      }
      if (!(flags & 1) && !(flags & 16) &&
          (!r || r->kernel.bytes != p->digest.bytes || r->rollback_index != p->rollback_index)) {
        std::abort();
      }
    } else {
      (void)verify::to_string(p.error().error);
    }
  }
  return 0;
}

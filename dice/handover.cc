// DiceAndroidHandover parsing and the Android main flow (see include/dice/dice.h).
#include <cstring>

#include "dice/crypto.h"
#include "dice/dice.h"
#include "internal.h"

namespace dice {
namespace {

constexpr int64_t kCdiAttestLabel = 1;
constexpr int64_t kCdiSealLabel = 2;
constexpr int64_t kChainLabel = 3;

// A CDI entry: `label` then a 32-byte bstr.
std::expected<CdiView, Error> read_cdi(cbor::Reader& r, int64_t label) {
  auto key = r.read_int();
  if (!key || *key != label) return std::unexpected(Error::kHandoverBadCdi);
  auto value = r.read_bstr();
  if (!value || value->size() != kCdiSize) return std::unexpected(Error::kHandoverBadCdi);
  return internal::cdi_view(value->first<kCdiSize>());
}

}  // namespace

namespace internal {

std::expected<uint64_t, Error> check_chain_shape(Bytes chain) {
  cbor::Reader r(chain);
  auto count = r.read_array();
  if (!count || *count < 2) return std::unexpected(Error::kHandoverBadChain);
  for (uint64_t i = 0; i < *count; ++i) {
    auto head = r.peek();
    if (!head) return std::unexpected(Error::kHandoverMalformed);
    const bool shape_ok = i == 0 ? head->major == cbor::Major::kMap
                                 : head->major == cbor::Major::kArray && head->arg == 4;
    if (!shape_ok) return std::unexpected(Error::kHandoverBadChain);
    if (!r.read_item()) return std::unexpected(Error::kHandoverMalformed);
  }
  if (!r.expect_end()) return std::unexpected(Error::kTrailingBytes);
  return *count;
}

}  // namespace internal

std::expected<Handover, Error> parse_handover(Bytes bytes) {
  // The whole item first: everything in it must be well-formed, and its end
  // is where the handover ends.
  cbor::Reader whole(bytes);
  auto item = whole.read_item();
  if (!item) return std::unexpected(Error::kHandoverMalformed);

  cbor::Reader r(*item);
  auto pairs = r.read_map();
  if (!pairs || (*pairs != 2 && *pairs != 3)) return std::unexpected(Error::kHandoverNotMap);
  auto attest = read_cdi(r, kCdiAttestLabel);
  if (!attest) return std::unexpected(attest.error());
  auto seal = read_cdi(r, kCdiSealLabel);
  if (!seal) return std::unexpected(seal.error());
  Handover h{*attest, *seal, std::nullopt, item->size()};
  if (*pairs == 3) {
    auto key = r.read_int();
    if (!key || *key != kChainLabel) return std::unexpected(Error::kHandoverUnknownEntry);
    auto chain = r.read_item();
    if (!chain) return std::unexpected(Error::kHandoverMalformed);
    if (auto shape = internal::check_chain_shape(*chain); !shape) {
      return std::unexpected(shape.error());
    }
    h.chain = *chain;
  }
  return h;
}

namespace {

// The key the chain's last certificate certifies (its subjectPublicKey). In a
// handover that is the key of its CDI_Attest: open-dice's
// DiceAndroidMainFlow hands over CDI_Attest' with the certificate for
// key(CDI_Attest'). Empty when that certificate or key cannot be read as a
// P-256 COSE_Key (a previous stage with other algorithms, or bytes that only
// have the chain's shape).
std::optional<PublicKey> certified_key(Bytes chain_items, uint64_t count) {
  cbor::Reader r(chain_items);
  for (uint64_t i = 0; i + 1 < count; ++i) {
    if (!r.read_item()) return std::nullopt;
  }
  auto last = r.read_item();
  if (!last) return std::nullopt;
  auto cert = parse_certificate(*last);
  if (!cert) return std::nullopt;
  auto key = parse_cose_key(cert->subject_public_key);
  if (!key) return std::nullopt;
  return *key;
}

// The current layer's key pair. The public key only names the issuer (and
// starts a new chain); when the chain already certifies it, it is taken from
// there instead of computing d·G again, a third of a layer's cost
// (README.md "The crypto"). That trusts the previous stage to hand over a chain that matches
// its CDI_Attest, as it is trusted with the CDIs themselves: if it does not,
// the chain is broken at its last link whichever key is named here, because
// the signature is always by the key of CDI_Attest.
std::expected<void, Error> current_key_pair(CdiView cdi_attest,
                                            const std::optional<PublicKey>& known,
                                            std::span<uint8_t, kPrivateKeySize> priv,
                                            PublicKey& pub) {
  if (!known) return derive_key_pair(cdi_attest, priv, pub);
  Secret<kPrivateKeySeedSize> seed;
  if (auto r = derive_private_key_seed(cdi_attest, seed.span()); !r) return r;
  if (auto r = p256::private_key_from_seed(seed.span(), priv); !r) return r;
  pub = *known;
  return {};
}

std::expected<size_t, Error> main_flow_into(CdiView cdi_attest, CdiView cdi_seal,
                                            std::optional<Bytes> chain, const InputValues& in,
                                            const CertOptions& options, std::span<std::byte> out) {
  // The chain's items, copied as they are, behind a one-longer array head.
  uint64_t chain_count = 0;
  Bytes chain_items;
  if (chain) {
    auto count = internal::check_chain_shape(*chain);
    if (!count) return std::unexpected(count.error());
    chain_count = *count;
    cbor::Reader r(*chain);
    if (!r.read_array()) return std::unexpected(Error::kHandoverBadChain);  // checked above
    chain_items = r.rest();
  }

  // The current layer's key signs; the next layer's public key is certified.
  Secret<kPrivateKeySize> current_priv;
  PublicKey current_pub{};
  const std::optional<PublicKey> known =
      chain ? certified_key(chain_items, chain_count) : std::nullopt;
  if (auto r = current_key_pair(cdi_attest, known, current_priv.span(), current_pub); !r) {
    return std::unexpected(r.error());
  }

  cbor::Writer w(out);
  w.map(3);
  w.integer(kCdiAttestLabel);
  std::span<std::byte> next_attest = w.bstr_space(kCdiSize);
  w.integer(kCdiSealLabel);
  std::span<std::byte> next_seal = w.bstr_space(kCdiSize);
  w.integer(kChainLabel);
  if (!w.ok()) return std::unexpected(Error::kBufferTooSmall);
  const CdiOut next_attest_out(reinterpret_cast<uint8_t*>(next_attest.data()), kCdiSize);
  const CdiOut next_seal_out(reinterpret_cast<uint8_t*>(next_seal.data()), kCdiSize);
  if (auto r = derive_next_cdis(cdi_attest, cdi_seal, in, next_attest_out, next_seal_out); !r) {
    return std::unexpected(r.error());
  }

  PublicKey next_pub{};
  {
    Secret<kPrivateKeySize> next_priv;  // only its public half is needed
    if (auto r = derive_key_pair(next_attest_out, next_priv.span(), next_pub); !r) {
      return std::unexpected(r.error());
    }
  }

  if (chain) {
    w.array(chain_count + 1);
    w.raw(chain_items);
  } else {
    w.array(2);
    write_cose_key(current_pub, w);
  }
  if (!w.ok()) return std::unexpected(Error::kBufferTooSmall);
  auto cert = write_certificate(next_pub, current_priv.span(), current_pub, in, options,
                                out.subspan(w.size()));
  if (!cert) return std::unexpected(cert.error());
  return w.size() + *cert;
}

}  // namespace

std::expected<size_t, Error> main_flow(CdiView cdi_attest, CdiView cdi_seal,
                                       std::optional<Bytes> chain, const InputValues& in,
                                       const CertOptions& options, std::span<std::byte> out) {
  const Bytes o = std::as_bytes(out);
  if (internal::overlaps(o, std::as_bytes(cdi_attest)) ||
      internal::overlaps(o, std::as_bytes(cdi_seal)) || (chain && internal::overlaps(o, *chain)) ||
      internal::overlaps(o, in.config_descriptor) || internal::overlaps(o, in.code_descriptor) ||
      internal::overlaps(o, in.authority_descriptor)) {
    return std::unexpected(Error::kInvalidInput);
  }
  auto written = main_flow_into(cdi_attest, cdi_seal, chain, in, options, out);
  if (!written) base::secure_wipe(out.data(), out.size());
  return written;
}

std::expected<size_t, Error> handover_main_flow(Bytes current, const InputValues& in,
                                                const CertOptions& options,
                                                std::span<std::byte> out) {
  auto handover = parse_handover(current);
  if (!handover) return std::unexpected(handover.error());
  if (internal::overlaps(std::as_bytes(out), current)) return std::unexpected(Error::kInvalidInput);
  return main_flow(handover->cdi_attest, handover->cdi_seal, handover->chain, in, options, out);
}

}  // namespace dice

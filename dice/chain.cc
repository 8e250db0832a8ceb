// Reading DICE chains back: COSE_Key, certificates, signature and ID checks
// (see include/dice/dice.h). Used by `pvm dice inspect` and the tests; the
// firmware reads only the handover chain's last key with it (handover.cc).
#include <cstring>

#include "dice/crypto.h"
#include "dice/dice.h"
#include "internal.h"

namespace dice {
namespace {

bool equal(std::string_view claim, const IdHex& hex) {
  return claim == std::string_view(hex.data(), hex.size());
}

// Which labels a map has already shown (the first 64 distinct ones this code
// knows about are enough: every label it accepts has an index).
struct Seen {
  bool add(unsigned index) {
    const uint64_t bit = uint64_t{1} << index;
    if (bits & bit) return false;
    bits |= bit;
    return true;
  }
  uint64_t bits = 0;
};

}  // namespace

std::expected<PublicKey, Error> parse_cose_key(Bytes encoded) {
  cbor::Reader r(encoded);
  auto pairs = r.read_map();
  if (!pairs) return std::unexpected(Error::kChainMalformed);
  PublicKey pub{};
  Seen seen;
  for (uint64_t i = 0; i < *pairs; ++i) {
    auto label = r.read_int();
    if (!label) return std::unexpected(Error::kChainMalformed);
    switch (*label) {
      case 1: {  // kty
        auto kty = r.read_int();
        if (!kty) return std::unexpected(Error::kChainMalformed);
        if (*kty != 2) return std::unexpected(Error::kUnsupportedAlgorithm);
        if (!seen.add(0)) return std::unexpected(Error::kChainMalformed);
        break;
      }
      case 3: {  // alg
        auto alg = r.read_int();
        if (!alg) return std::unexpected(Error::kChainMalformed);
        if (*alg != -7) return std::unexpected(Error::kUnsupportedAlgorithm);
        if (!seen.add(1)) return std::unexpected(Error::kChainMalformed);
        break;
      }
      case 4: {  // key_ops
        auto head = r.peek();
        if (!head || head->major != cbor::Major::kArray || !r.read_item() || !seen.add(2)) {
          return std::unexpected(Error::kChainMalformed);
        }
        break;
      }
      case -1: {  // crv
        auto crv = r.read_int();
        if (!crv) return std::unexpected(Error::kChainMalformed);
        if (*crv != 1) return std::unexpected(Error::kUnsupportedAlgorithm);
        if (!seen.add(3)) return std::unexpected(Error::kChainMalformed);
        break;
      }
      case -2:
      case -3: {  // x, y
        auto coordinate = r.read_bstr();
        if (!coordinate || coordinate->size() != 32 || !seen.add(*label == -2 ? 4 : 5)) {
          return std::unexpected(Error::kChainMalformed);
        }
        std::memcpy(pub.data() + (*label == -2 ? 0 : 32), coordinate->data(), 32);
        break;
      }
      default:
        return std::unexpected(Error::kChainMalformed);
    }
  }
  if (!r.expect_end()) return std::unexpected(Error::kChainMalformed);
  // kty, crv, x, y are required.
  if ((seen.bits & 0b111001) != 0b111001) return std::unexpected(Error::kChainMalformed);
  return pub;
}

std::expected<Certificate, Error> parse_certificate(Bytes encoded) {
  cbor::Reader r(encoded);
  auto count = r.read_array();
  if (!count || *count != 4) return std::unexpected(Error::kChainMalformed);
  Certificate cert;
  auto protected_header = r.read_bstr();
  auto unprotected = r.peek();
  if (!protected_header || !unprotected || unprotected->major != cbor::Major::kMap ||
      !r.read_item()) {
    return std::unexpected(Error::kChainMalformed);
  }
  auto payload = r.read_bstr();
  auto signature = r.read_bstr();
  if (!payload || !signature || !r.expect_end()) return std::unexpected(Error::kChainMalformed);
  if (signature->size() != kSignatureSize) return std::unexpected(Error::kUnsupportedAlgorithm);
  cert.protected_header = *protected_header;
  cert.payload = *payload;
  std::memcpy(cert.signature.data(), signature->data(), kSignatureSize);

  // Protected header: a map with the algorithm (label 1).
  cbor::Reader p(*protected_header);
  auto header_pairs = p.read_map();
  if (!header_pairs) return std::unexpected(Error::kChainMalformed);
  bool have_alg = false;
  for (uint64_t i = 0; i < *header_pairs; ++i) {
    auto label = p.read_int();
    if (!label) return std::unexpected(Error::kChainMalformed);
    if (*label == 1) {
      auto alg = p.read_int();
      if (!alg || have_alg) return std::unexpected(Error::kChainMalformed);
      cert.algorithm = *alg;
      have_alg = true;
    } else if (!p.read_item()) {
      return std::unexpected(Error::kChainMalformed);
    }
  }
  if (!have_alg || !p.expect_end()) return std::unexpected(Error::kChainMalformed);

  // CWT claims.
  cbor::Reader c(*payload);
  auto claims = c.read_map();
  if (!claims) return std::unexpected(Error::kCertificateMalformed);
  Seen seen;
  bool have_issuer = false, have_subject = false, have_key = false;
  for (uint64_t i = 0; i < *claims; ++i) {
    auto label = c.read_int();
    if (!label) return std::unexpected(Error::kCertificateMalformed);
    std::optional<Bytes>* slot = nullptr;
    unsigned index = 0;
    switch (*label) {
      case 1: {
        auto v = c.read_tstr();
        if (!v || have_issuer) return std::unexpected(Error::kCertificateMalformed);
        cert.issuer = *v;
        have_issuer = true;
        continue;
      }
      case 2: {
        auto v = c.read_tstr();
        if (!v || have_subject) return std::unexpected(Error::kCertificateMalformed);
        cert.subject = *v;
        have_subject = true;
        continue;
      }
      case -4670545:
        slot = &cert.code_hash;
        index = 0;
        break;
      case -4670546:
        slot = &cert.code_descriptor;
        index = 1;
        break;
      case -4670547:
        slot = &cert.config_hash;
        index = 2;
        break;
      case -4670548:
        slot = &cert.config_descriptor;
        index = 3;
        break;
      case -4670549:
        slot = &cert.authority_hash;
        index = 4;
        break;
      case -4670550:
        slot = &cert.authority_descriptor;
        index = 5;
        break;
      case -4670553:
        slot = &cert.key_usage;
        index = 6;
        break;
      case -4670551: {
        auto v = c.read_bstr();
        if (!v || v->size() != 1 || cert.mode) return std::unexpected(Error::kCertificateMalformed);
        cert.mode = std::to_integer<uint8_t>((*v)[0]);
        continue;
      }
      case -4670552: {
        auto v = c.read_bstr();
        if (!v || have_key) return std::unexpected(Error::kCertificateMalformed);
        cert.subject_public_key = *v;
        have_key = true;
        continue;
      }
      case -4670554: {
        auto v = c.read_tstr();
        if (!v || cert.profile_name) return std::unexpected(Error::kCertificateMalformed);
        cert.profile_name = *v;
        continue;
      }
      default:
        // Claims this code does not know are allowed (other profiles add some).
        if (!c.read_item()) return std::unexpected(Error::kCertificateMalformed);
        continue;
    }
    auto v = c.read_bstr();
    if (!v || !seen.add(index)) return std::unexpected(Error::kCertificateMalformed);
    *slot = *v;
  }
  if (!c.expect_end() || !have_issuer || !have_subject || !have_key) {
    return std::unexpected(Error::kCertificateMalformed);
  }
  return cert;
}

std::expected<ChainSummary, ChainFault> verify_chain(Bytes chain, std::span<Certificate> views) {
  auto fault = [](Error e, size_t index) { return std::unexpected(ChainFault{e, index}); };
  cbor::Reader r(chain);
  auto count = r.read_array();
  if (!count || *count == 0) return fault(Error::kChainMalformed, 0);
  auto root_item = r.read_item();
  if (!root_item) return fault(Error::kChainMalformed, 0);
  auto root = parse_cose_key(*root_item);
  if (!root) return fault(root.error(), 0);

  ChainSummary summary;
  summary.root = *root;
  PublicKey issuer_key = *root;
  for (uint64_t i = 1; i < *count; ++i) {
    auto item = r.read_item();
    if (!item) return fault(Error::kChainMalformed, i);
    auto cert = parse_certificate(*item);
    if (!cert) return fault(cert.error(), i);
    if (cert->algorithm != -7) return fault(Error::kUnsupportedAlgorithm, i);
    const internal::SigStructure tbs(cert->protected_header, cert->payload);
    if (auto ok = p256::verify(issuer_key, tbs.parts(), cert->signature); !ok) {
      return fault(ok.error(), i);
    }
    auto issuer_id = derive_cert_id(issuer_key);
    if (!issuer_id) return fault(issuer_id.error(), i);
    if (!equal(cert->issuer, id_hex(*issuer_id))) return fault(Error::kIssuerMismatch, i);
    auto subject_key = parse_cose_key(cert->subject_public_key);
    if (!subject_key) return fault(subject_key.error(), i);
    auto subject_id = derive_cert_id(*subject_key);
    if (!subject_id) return fault(subject_id.error(), i);
    if (!equal(cert->subject, id_hex(*subject_id))) return fault(Error::kSubjectMismatch, i);
    if (i - 1 < views.size()) views[i - 1] = *cert;
    issuer_key = *subject_key;
    ++summary.certificates;
  }
  if (!r.expect_end()) return fault(Error::kChainMalformed, *count);
  summary.leaf = issuer_key;
  return summary;
}

}  // namespace dice

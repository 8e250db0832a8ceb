// The open-dice main flow, the Android-profile certificate and the encodings
// it needs (see include/dice/dice.h).
#include "dice/dice.h"

#include <cstring>

#include "dice/crypto.h"
#include "internal.h"

namespace dice {
namespace {

// dice.md "Sizes and primitives" (open-dice src/dice.c kAsymSalt, kIdSalt).
constexpr uint8_t kAsymSalt[64] = {
    0x63, 0xb6, 0xa0, 0x4d, 0x2c, 0x07, 0x7f, 0xc1, 0x0f, 0x63, 0x9f, 0x21, 0xda, 0x79, 0x38, 0x44,
    0x35, 0x6c, 0xc2, 0xb0, 0xb4, 0x41, 0xb3, 0xa7, 0x71, 0x24, 0x03, 0x5c, 0x03, 0xf8, 0xe1, 0xbe,
    0x60, 0x35, 0xd3, 0x1f, 0x28, 0x28, 0x21, 0xa7, 0x45, 0x0a, 0x02, 0x22, 0x2a, 0xb1, 0xb3, 0xcf,
    0xf1, 0x67, 0x9b, 0x05, 0xab, 0x1c, 0xa5, 0xd1, 0xaf, 0xfb, 0x78, 0x9c, 0xcd, 0x2b, 0x0b, 0x3b,
};
constexpr uint8_t kIdSalt[64] = {
    0xdb, 0xdb, 0xae, 0xbc, 0x80, 0x20, 0xda, 0x9f, 0xf0, 0xdd, 0x5a, 0x24, 0xc8, 0x3a, 0xa5, 0xa5,
    0x42, 0x86, 0xdf, 0xc2, 0x63, 0x03, 0x1e, 0x32, 0x9b, 0x4d, 0xa1, 0x48, 0x43, 0x06, 0x59, 0xfe,
    0x62, 0xcd, 0xb5, 0xb7, 0xe1, 0xe0, 0x0f, 0xc6, 0x80, 0x30, 0x67, 0x11, 0xeb, 0x44, 0x4a, 0xf7,
    0x72, 0x09, 0x35, 0x94, 0x96, 0xfc, 0xff, 0x1d, 0xb9, 0x52, 0x0b, 0xa5, 0x1c, 0x7b, 0x29, 0xea,
};

// COSE / CWT labels (RFC 9052, RFC 8392, Open Profile for DICE "CBOR CDI
// certificates", Android profile).
constexpr int64_t kCoseAlgEs256 = -7;
constexpr int64_t kCwtIssuer = 1;
constexpr int64_t kCwtSubject = 2;
constexpr int64_t kCodeHash = -4670545;
constexpr int64_t kCodeDescriptor = -4670546;
constexpr int64_t kConfigHash = -4670547;
constexpr int64_t kConfigDescriptor = -4670548;
constexpr int64_t kAuthorityHash = -4670549;
constexpr int64_t kAuthorityDescriptor = -4670550;
constexpr int64_t kModeLabel = -4670551;
constexpr int64_t kSubjectPublicKey = -4670552;
constexpr int64_t kKeyUsage = -4670553;
constexpr int64_t kProfileName = -4670554;
constexpr uint8_t kKeyUsageCertSign = 0x20;  // RFC 5280 keyCertSign, as open-dice

template <size_t N>
Bytes bytes_of(const std::array<uint8_t, N>& a) {
  return std::as_bytes(std::span<const uint8_t, N>(a));
}

bool valid_inputs(const InputValues& in) {
  if (static_cast<uint8_t>(in.mode) > static_cast<uint8_t>(Mode::kMaintenance)) return false;
  if (in.config_type != ConfigType::kInline && in.config_type != ConfigType::kDescriptor)
    return false;
  if (in.config_type == ConfigType::kDescriptor &&
      (in.config_descriptor.empty() || in.config_descriptor.size() > kMaxDescriptorSize)) {
    return false;
  }
  return in.code_descriptor.size() <= kMaxDescriptorSize &&
         in.authority_descriptor.size() <= kMaxDescriptorSize;
}

// The CWT claims of the certificate (open-dice cbor_cert_op.c EncodeCwt order).
void write_cwt(cbor::Writer& w, const IdHex& issuer, const IdHex& subject, const InputValues& in,
               const Hash& config_hash, Bytes cose_key, const CertOptions& options) {
  uint64_t pairs = 7;
  if (!in.code_descriptor.empty()) ++pairs;
  pairs += in.config_type == ConfigType::kDescriptor ? 2 : 1;
  if (!in.authority_descriptor.empty()) ++pairs;
  if (!options.profile_name.empty()) ++pairs;
  w.map(pairs);
  w.integer(kCwtIssuer);
  w.tstr(std::string_view(issuer.data(), issuer.size()));
  w.integer(kCwtSubject);
  w.tstr(std::string_view(subject.data(), subject.size()));
  w.integer(kCodeHash);
  w.bstr(bytes_of(in.code_hash));
  if (!in.code_descriptor.empty()) {
    w.integer(kCodeDescriptor);
    w.bstr(in.code_descriptor);
  }
  if (in.config_type == ConfigType::kDescriptor) {
    w.integer(kConfigDescriptor);
    w.bstr(in.config_descriptor);
    w.integer(kConfigHash);
    w.bstr(bytes_of(config_hash));
  } else {
    w.integer(kConfigDescriptor);
    w.bstr(bytes_of(in.config_value));
  }
  w.integer(kAuthorityHash);
  w.bstr(bytes_of(in.authority_hash));
  if (!in.authority_descriptor.empty()) {
    w.integer(kAuthorityDescriptor);
    w.bstr(in.authority_descriptor);
  }
  const uint8_t mode = static_cast<uint8_t>(in.mode);
  w.integer(kModeLabel);
  w.bstr(std::as_bytes(std::span<const uint8_t, 1>(&mode, 1)));
  w.integer(kSubjectPublicKey);
  w.bstr(cose_key);
  const uint8_t usage = kKeyUsageCertSign;
  w.integer(kKeyUsage);
  w.bstr(std::as_bytes(std::span<const uint8_t, 1>(&usage, 1)));
  if (!options.profile_name.empty()) {
    w.integer(kProfileName);
    w.tstr(options.profile_name);
  }
}

}  // namespace

const char* to_string(Mode m) {
  switch (m) {
    case Mode::kNotInitialized:
      return "not_initialized";
    case Mode::kNormal:
      return "normal";
    case Mode::kDebug:
      return "debug";
    case Mode::kMaintenance:
      return "maintenance";
  }
  return "unknown";
}

const char* to_string(Error e) {
  switch (e) {
    case Error::kInvalidInput:
      return "INVALID_INPUT";
    case Error::kBufferTooSmall:
      return "BUFFER_TOO_SMALL";
    case Error::kCryptoFailure:
      return "CRYPTO_FAILURE";
    case Error::kAuthenticationFailed:
      return "AUTHENTICATION_FAILED";
    case Error::kHandoverMalformed:
      return "HANDOVER_MALFORMED";
    case Error::kHandoverNotMap:
      return "HANDOVER_NOT_MAP";
    case Error::kHandoverBadCdi:
      return "HANDOVER_BAD_CDI";
    case Error::kHandoverBadChain:
      return "HANDOVER_BAD_CHAIN";
    case Error::kHandoverUnknownEntry:
      return "HANDOVER_UNKNOWN_ENTRY";
    case Error::kTrailingBytes:
      return "TRAILING_BYTES";
    case Error::kChainMalformed:
      return "CHAIN_MALFORMED";
    case Error::kUnsupportedAlgorithm:
      return "UNSUPPORTED_ALGORITHM";
    case Error::kBadSignature:
      return "BAD_SIGNATURE";
    case Error::kIssuerMismatch:
      return "ISSUER_MISMATCH";
    case Error::kSubjectMismatch:
      return "SUBJECT_MISMATCH";
    case Error::kCertificateMalformed:
      return "CERTIFICATE_MALFORMED";
    case Error::kCdiKeyMismatch:
      return "CDI_KEY_MISMATCH";
  }
  return "UNKNOWN";
}

ErrorClass error_class(Error e) {
  switch (e) {
    case Error::kInvalidInput:
    case Error::kBufferTooSmall:
    case Error::kCryptoFailure:
    case Error::kAuthenticationFailed:
      return ErrorClass::kDerivation;
    default:
      return ErrorClass::kInvalidHandover;
  }
}

std::expected<void, Error> derive_next_cdis(CdiView cdi_attest, CdiView cdi_seal,
                                            const InputValues& in, CdiOut next_attest,
                                            CdiOut next_seal) {
  if (!valid_inputs(in)) return std::unexpected(Error::kInvalidInput);
  // open-dice DiceMainFlow's input buffer.
  constexpr size_t kConfigOffset = kHashSize;
  constexpr size_t kAuthorityOffset = kConfigOffset + kInlineConfigSize;
  constexpr size_t kModeOffset = kAuthorityOffset + kHashSize;
  constexpr size_t kHiddenOffset = kModeOffset + 1;
  constexpr size_t kInputSize = kHiddenOffset + kHiddenSize;  // 257
  uint8_t input[kInputSize];
  std::memcpy(input, in.code_hash.data(), kHashSize);
  bool ok = true;
  if (in.config_type == ConfigType::kInline) {
    std::memcpy(input + kConfigOffset, in.config_value.data(), kInlineConfigSize);
  } else {
    ok = sha512(in.config_descriptor, std::span<uint8_t, 64>(input + kConfigOffset, 64));
  }
  std::memcpy(input + kAuthorityOffset, in.authority_hash.data(), kHashSize);
  input[kModeOffset] = static_cast<uint8_t>(in.mode);
  std::memcpy(input + kHiddenOffset, in.hidden.data(), kHiddenSize);

  uint8_t attest_hash[kHashSize];
  uint8_t seal_hash[kHashSize];
  const auto whole = std::as_bytes(std::span<const uint8_t>(input, kInputSize));
  ok = ok && sha512(whole, attest_hash);
  ok = ok && sha512(whole.subspan(kAuthorityOffset), seal_hash);
  ok = ok && hkdf_sha512(std::as_bytes(cdi_attest), std::as_bytes(std::span(attest_hash)),
                         internal::text("CDI_Attest"), next_attest);
  ok = ok && hkdf_sha512(std::as_bytes(cdi_seal), std::as_bytes(std::span(seal_hash)),
                         internal::text("CDI_Seal"), next_seal);
  // The inputs are not secret, but their hashes and the hidden value are
  // kept from leaking through the stack anyway.
  base::secure_wipe(input, sizeof(input));
  base::secure_wipe(attest_hash, sizeof(attest_hash));
  base::secure_wipe(seal_hash, sizeof(seal_hash));
  if (!ok) {
    base::secure_wipe(next_attest.data(), next_attest.size());
    base::secure_wipe(next_seal.data(), next_seal.size());
    return std::unexpected(Error::kCryptoFailure);
  }
  return {};
}

std::expected<void, Error> derive_private_key_seed(CdiView cdi_attest,
                                                   std::span<uint8_t, kPrivateKeySeedSize> seed) {
  if (!hkdf_sha512(std::as_bytes(cdi_attest), std::as_bytes(std::span(kAsymSalt)),
                   internal::text("Key Pair"), seed)) {
    base::secure_wipe(seed.data(), seed.size());
    return std::unexpected(Error::kCryptoFailure);
  }
  return {};
}

std::expected<void, Error> derive_key_pair(CdiView cdi_attest,
                                           std::span<uint8_t, kPrivateKeySize> priv,
                                           PublicKey& pub) {
  Secret<kPrivateKeySeedSize> seed;
  if (auto r = derive_private_key_seed(cdi_attest, seed.span()); !r) return r;
  return p256::key_pair_from_seed(seed.span(), priv, pub);
}

std::expected<Id, Error> derive_cert_id(const PublicKey& pub) {
  Id id{};
  if (!hkdf_sha512(bytes_of(pub), std::as_bytes(std::span(kIdSalt)), internal::text("ID"), id)) {
    return std::unexpected(Error::kCryptoFailure);
  }
  id[0] &= 0x7f;
  return id;
}

IdHex id_hex(const Id& id) {
  constexpr char kDigits[] = "0123456789abcdef";
  IdHex hex{};
  for (size_t i = 0; i < id.size(); ++i) {
    hex[2 * i] = kDigits[id[i] >> 4];
    hex[2 * i + 1] = kDigits[id[i] & 0xf];
  }
  return hex;
}

void write_cose_key(const PublicKey& pub, cbor::Writer& w) {
  w.map(6);
  w.integer(1);  // kty
  w.integer(2);  // EC2
  w.integer(3);  // alg
  w.integer(kCoseAlgEs256);
  w.integer(4);  // key_ops
  w.array(1);
  w.integer(2);   // verify
  w.integer(-1);  // crv
  w.integer(1);   // P-256
  w.integer(-2);  // x
  w.bstr(std::as_bytes(std::span(pub).first<32>()));
  w.integer(-3);  // y
  w.bstr(std::as_bytes(std::span(pub).last<32>()));
}

void write_android_config(const AndroidConfig& c, cbor::Writer& w) {
  const uint64_t pairs = uint64_t{c.component_name.has_value()} + c.component_version.has_value() +
                         c.resettable + c.security_version.has_value() + c.rkp_vm_marker +
                         c.instance_hash.has_value();
  w.map(pairs);
  if (c.component_name) {
    w.integer(-70002);
    w.tstr(*c.component_name);
  }
  if (c.component_version) {
    w.integer(-70003);
    w.uint(*c.component_version);
  }
  if (c.resettable) {
    w.integer(-70004);
    w.null();
  }
  if (c.security_version) {
    w.integer(-70005);
    w.uint(*c.security_version);
  }
  if (c.rkp_vm_marker) {
    w.integer(-70006);
    w.null();
  }
  if (c.instance_hash) {
    w.integer(-71003);
    w.bstr(bytes_of(*c.instance_hash));
  }
}

namespace internal {

const uint8_t kProtectedEs256[3] = {0xa1, 0x01, 0x26};  // {1: -7}

SigStructure::SigStructure(Bytes protected_header, Bytes payload) {
  // ["Signature1", bstr protected, bstr external_aad (empty), bstr payload]
  cbor::Writer a{std::span<std::byte>(head_)};
  a.array(4);
  a.tstr("Signature1");
  a.bstr_head(protected_header.size());
  cbor::Writer b{std::span<std::byte>(middle_)};
  b.bstr({});
  b.bstr_head(payload.size());
  parts_[0] = std::as_bytes(std::span(head_)).first(a.size());
  parts_[1] = protected_header;
  parts_[2] = std::as_bytes(std::span(middle_)).first(b.size());
  parts_[3] = payload;
}

}  // namespace internal

std::expected<size_t, Error> write_certificate(
    const PublicKey& subject_pub, std::span<const uint8_t, kPrivateKeySize> authority_priv,
    const PublicKey& authority_pub, const InputValues& in, const CertOptions& options,
    std::span<std::byte> out) {
  if (!valid_inputs(in)) return std::unexpected(Error::kInvalidInput);
  auto subject_id = derive_cert_id(subject_pub);
  auto authority_id = derive_cert_id(authority_pub);
  if (!subject_id || !authority_id) return std::unexpected(Error::kCryptoFailure);
  const IdHex subject = id_hex(*subject_id);
  const IdHex issuer = id_hex(*authority_id);
  Hash config_hash{};
  if (in.config_type == ConfigType::kDescriptor && !sha512(in.config_descriptor, config_hash)) {
    return std::unexpected(Error::kCryptoFailure);
  }
  std::byte cose_key_buf[96];
  cbor::Writer key_writer{std::span<std::byte>(cose_key_buf)};
  write_cose_key(subject_pub, key_writer);
  if (!key_writer.ok()) return std::unexpected(Error::kBufferTooSmall);
  const Bytes cose_key = key_writer.written();

  cbor::Writer measure{std::span<std::byte>()};
  write_cwt(measure, issuer, subject, in, config_hash, cose_key, options);
  const size_t payload_size = measure.size();

  const Bytes protected_header = std::as_bytes(std::span(internal::kProtectedEs256));
  cbor::Writer w(out);
  w.array(4);
  w.bstr(protected_header);
  w.map(0);  // unprotected
  std::span<std::byte> payload = w.bstr_space(payload_size);
  if (!w.ok()) return std::unexpected(Error::kBufferTooSmall);
  cbor::Writer pw(payload);
  write_cwt(pw, issuer, subject, in, config_hash, cose_key, options);
  if (!pw.ok() || pw.size() != payload_size) return std::unexpected(Error::kInvalidInput);

  const internal::SigStructure tbs(protected_header, payload);
  Signature sig{};
  if (auto signed_ok = p256::sign(authority_priv, tbs.parts(), sig); !signed_ok) {
    return std::unexpected(signed_ok.error());
  }
  w.bstr(std::as_bytes(std::span(sig)));
  if (!w.ok()) return std::unexpected(Error::kBufferTooSmall);
  return w.size();
}

}  // namespace dice

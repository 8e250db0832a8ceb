// libFuzzer harness for the CBOR reader and everything that reads untrusted
// CBOR: the handover parser, COSE_Key / certificate decoding and chain
// verification. Properties: no crash or out-of-bounds read; every item the
// reader accepts re-encodes with the writer to exactly the same bytes (the
// profile admits one encoding per value); an accepted handover's parts lie
// inside the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "dice/cbor.h"
#include "dice/dice.h"

namespace {

using dice::cbor::Major;

// Copies one item from `r` to `w` value by value; false when the reader refuses.
// `depth` counts the containers this item is nested in, itself included when
// it is one (the reader allows kMaxDepth non-empty containers in a row).
bool reencode(dice::cbor::Reader& r, dice::cbor::Writer& w, size_t depth) {
  auto head = r.peek();
  if (!head) return false;
  switch (head->major) {
    case Major::kUint:
      w.uint(*r.read_uint());
      return true;
    case Major::kNint: {
      auto v = r.read_int();
      if (!v) {  // beyond int64_t: copy the encoding (still shortest form)
        auto item = r.read_item();
        if (!item) return false;
        w.raw(*item);
        return true;
      }
      w.integer(*v);
      return true;
    }
    case Major::kBstr: {
      auto b = r.read_bstr();
      if (!b) return false;
      w.bstr(*b);
      return true;
    }
    case Major::kTstr: {
      auto t = r.read_tstr();
      if (!t) return false;
      w.tstr(*t);
      return true;
    }
    case Major::kArray:
    case Major::kMap: {
      const uint64_t n = head->major == Major::kArray ? *r.read_array() : *r.read_map();
      if (head->major == Major::kArray) {
        w.array(n);
      } else {
        w.map(n);
      }
      const uint64_t items = head->major == Major::kArray ? n : 2 * n;
      if (items > 0 && depth > dice::cbor::kMaxDepth) return false;
      for (uint64_t i = 0; i < items; ++i) {
        if (!reencode(r, w, depth + 1)) return false;
      }
      return true;
    }
    case Major::kSimple: {
      auto item = r.read_item();
      if (!item) return false;
      w.raw(*item);
      return true;
    }
    default:
      return false;
  }
}

bool inside(base::Bytes part, const uint8_t* data, size_t size) {
  const auto* p = reinterpret_cast<const uint8_t*>(part.data());
  return part.empty() || (p >= data && p + part.size() <= data + size);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const base::Bytes input = std::as_bytes(std::span(data, size));

  dice::cbor::Reader r(input);
  auto item = r.read_item();
  if (item) {
    dice::cbor::Reader again(*item);
    std::vector<std::byte> out(item->size());
    dice::cbor::Writer w(out);
    if (!reencode(again, w, 1) || !w.ok() || w.size() != item->size() ||
        std::memcmp(out.data(), item->data(), item->size()) != 0) {
      std::abort();
    }
  }

  auto handover = dice::parse_handover(input);
  if (handover) {
    if (handover->size > size || !inside(std::as_bytes(handover->cdi_attest), data, size) ||
        !inside(std::as_bytes(handover->cdi_seal), data, size)) {
      std::abort();
    }
    if (handover->chain) {
      if (!inside(*handover->chain, data, size)) std::abort();
      std::vector<dice::Certificate> views(4);
      (void)dice::verify_chain(*handover->chain, views);
    }
  }
  (void)dice::parse_cose_key(input);
  (void)dice::parse_certificate(input);
  (void)dice::verify_chain(input);
  return 0;
}

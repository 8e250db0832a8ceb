#include "entry/entropy.h"

#include <cstring>

#include "base/sysreg.h"
#include "base/wipe.h"
#include "hvc/kvm.h"

namespace entropy {
namespace {

constinit Source g_source = Source::kNone;
constinit hvc::Conduit g_conduit = hvc::Conduit::kHvc;

bool has_rndr() { return base::sysreg::read_id_aa64isar0().has_rndr(); }
bool rndr(uint64_t* out) { return base::sysreg::rndr(*out); }

}  // namespace

const char* to_string(Source s) {
  switch (s) {
    case Source::kTrng:
      return "SMCCC TRNG";
    case Source::kRndr:
      return "FEAT_RNG (RNDR)";
    case Source::kNone:
      break;
  }
  return "none";
}

Source init(hvc::Conduit conduit) {
  g_conduit = conduit;
  if (hvc::trng_available(conduit)) {
    g_source = Source::kTrng;
  } else if (has_rndr()) {
    g_source = Source::kRndr;
  } else {
    g_source = Source::kNone;
  }
  return g_source;
}

Source source() { return g_source; }

bool fill(uint8_t* out, size_t n) {
  size_t done = 0;
  while (done < n) {
    uint64_t words[3];
    size_t got = 0;
    if (g_source == Source::kTrng) {
      auto r = hvc::trng_rnd192(g_conduit);
      if (!r) break;
      memcpy(words, r->data(), sizeof(words));
      got = sizeof(words);
    } else if (g_source == Source::kRndr) {
      if (!rndr(&words[0])) break;
      got = sizeof(words[0]);
    } else {
      break;
    }
    const size_t take = n - done < got ? n - done : got;
    memcpy(out + done, words, take);
    done += take;
    base::secure_wipe(words, sizeof(words));
  }
  if (done < n) {
    memset(out, 0, n);
    return false;
  }
  return true;
}

}  // namespace entropy

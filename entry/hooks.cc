// Test hooks at the boot sequence's named stages (entry/hooks.h). The
// PVMFW_TEST_HOOKS build switch acts here and nowhere else: the shipped
// image's at_stage does nothing, and none of the code below is in it.
#include "entry/hooks.h"

#if PVMFW_TEST_HOOKS

#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "base/sha2.h"
#include "entry/console.h"
#include "hvc/psci.h"

extern "C" char __stack_guard[];

namespace entry {
namespace {

using boot::Reason;

[[gnu::noinline]] uint64_t recurse(volatile uint64_t* p) {
  volatile uint64_t pad[64];
  pad[0] = *p;
  if (pad[0] == 0) return 0;  // never true: *p starts at 1 and is copied down
  return recurse(pad) + pad[1];
}

extern "C" char __text_start[], __text_end[];

// SHA-256/512 in the guest, on whatever path mbedTLS chose for this CPU,
// against FIPS 180-4 example digests (one-block, two-block and the
// million-'a' messages), whole and split across updates.
std::expected<void, boot::Failure> hash_self_test() {
  static constexpr char kAbc[] = "abc";
  static constexpr char kTwo256[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  static constexpr char kTwo512[] =
      "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
      "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
  struct Case {
    const char* msg;  // nullptr: one million 'a'
    uint8_t sha256[32];
    uint8_t sha512_head[8];
  };
  static constexpr Case kCases[] = {
      {kAbc,
       {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
        0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad},
       {0xdd, 0xaf, 0x35, 0xa1, 0x93, 0x61, 0x7a, 0xba}},
      {kTwo256,
       {0x24, 0x8d, 0x6a, 0x61, 0xd2, 0x06, 0x38, 0xb8, 0xe5, 0xc0, 0x26, 0x93, 0x0c, 0x3e, 0x60, 0x39,
        0xa3, 0x3c, 0xe4, 0x59, 0x64, 0xff, 0x21, 0x67, 0xf6, 0xec, 0xed, 0xd4, 0x19, 0xdb, 0x06, 0xc1},
       {0x20, 0x4a, 0x8f, 0xc6, 0xdd, 0xa8, 0x2f, 0x0a}},
      {nullptr,
       {0xcd, 0xc7, 0x6e, 0x5c, 0x99, 0x14, 0xfb, 0x92, 0x81, 0xa1, 0xc7, 0xe2, 0x84, 0xd7, 0x3e, 0x67,
        0xf1, 0x80, 0x9a, 0x48, 0xa4, 0x97, 0x20, 0x0e, 0x04, 0x6d, 0x39, 0xcc, 0xc7, 0x11, 0x2c, 0xd0},
       {0xe7, 0x18, 0x48, 0x3d, 0x0c, 0xe7, 0x69, 0x64}},
  };
  static constexpr uint8_t kTwo512Head[8] = {0x8e, 0x95, 0x9b, 0x75, 0xda, 0xe3, 0x13, 0xda};
  unsigned cases = 0;
  static std::byte million[1000];
  memset(million, 'a', sizeof(million));
  for (const Case& c : kCases) {
    for (size_t split = 0; split < 2; ++split) {
      base::sha2::Sha256 h256;
      base::sha2::Sha512 h512;
      if (c.msg != nullptr) {
        const auto msg = std::as_bytes(std::span(c.msg, strlen(c.msg)));
        const size_t cut = split != 0 ? msg.size() / 3 : 0;
        h256.update(msg.first(cut));
        h256.update(msg.subspan(cut));
        h512.update(msg.first(cut));
        h512.update(msg.subspan(cut));
      } else {
        for (size_t i = 0; i < 1000; ++i) {
          h256.update(std::span(million).first(split != 0 ? 999 : 1000));
          h512.update(std::span(million).first(split != 0 ? 999 : 1000));
        }
        if (split != 0) {
          h256.update(std::span(million).first(1000));
          h512.update(std::span(million).first(1000));
        }
      }
      uint8_t d256[32], d512[64];
      h256.finish(d256);
      h512.finish(d512);
      if (memcmp(d256, c.sha256, 32) != 0) {
        return std::unexpected(boot::failure(Reason::kTestHook, "SHA-256 known answer %u differs", cases));
      }
      if (memcmp(d512, c.sha512_head, 8) != 0) {
        return std::unexpected(boot::failure(Reason::kTestHook, "SHA-512 known answer %u differs", cases));
      }
      cases += 2;
    }
  }
  uint8_t d512[64];
  const std::span<const std::byte> parts[] = {std::as_bytes(std::span(kTwo512, strlen(kTwo512)))};
  base::sha2::sha512(parts, d512);
  if (memcmp(d512, kTwo512Head, 8) != 0) {
    return std::unexpected(
        boot::failure(Reason::kTestHook, "SHA-512 two-block known answer differs"));
  }
  console::print("pvmfw: hash self-test: %u known answers on %s\n", cases + 1,
                 base::sha2::implementation());
  return {};
}

constinit std::string_view g_test_hook;

// The hook the tree names, read once at the first stage (the tree is a view
// into the DT window, intact until the rebuild).
std::expected<void, boot::Failure> select_and_run(const fdt::Tree& tree) {
  auto chosen = tree.node("/chosen");
  if (!chosen) return {};
  auto hook = tree.prop_string(*chosen, "pvmfw,test-hook");
  if (!hook) return {};
  g_test_hook = *hook;
  console::print("pvmfw: TEST HOOK '%.*s'\n", static_cast<int>(hook->size()), hook->data());
  if (*hook == "hash-selftest") {
    return hash_self_test();
  } else if (*hook == "fault-unmapped") {
    // The stack guard page is never mapped.
    auto* p = reinterpret_cast<volatile uint64_t*>(__stack_guard);
    (void)*p;
  } else if (*hook == "stack-overflow") {
    volatile uint64_t seed = 1;
    (void)recurse(&seed);
  } else if (*hook == "write-text") {
    // W^X: code is read-only.
    *reinterpret_cast<volatile uint32_t*>(__text_start) = 0xd503201f;  // NOP
  } else if (*hook == "exec-stack") {
    // W^X: writable memory is execute-never. A RET at the top of a stack word.
    volatile uint32_t code[2] = {0xd65f03c0, 0};
    reinterpret_cast<void (*)()>(reinterpret_cast<uintptr_t>(code))();
  } else if (*hook == "fail") {
    return std::unexpected(boot::failure(Reason::kTestHook, "requested by the device tree"));
  }
  return {};
}

}  // namespace

std::expected<void, boot::Failure> at_stage(boot::Stage stage, const boot::StageContext& context) {
  switch (stage) {
    case boot::Stage::kPlatformReady:
      return select_and_run(context.tree);
    case boot::Stage::kVerified:
      if (g_test_hook == "verify-only") {
        console::print("pvmfw: TEST HOOK verify-only: not starting the payload\n");
        const hvc::Status s = hvc::psci::system_off(context.conduit);
        return std::unexpected(
            boot::failure(Reason::kTestHook, "SYSTEM_OFF returned %s", hvc::to_string(s)));
      }
      break;
    case boot::Stage::kDiceDerived:
      if (g_test_hook == "fault-after-dice") {
        (void)*reinterpret_cast<volatile uint64_t*>(__stack_guard);
      }
      break;
    case boot::Stage::kDiceReported:
      // A refusal with every DICE secret of the boot live (tests/qemu/dice_boot.py).
      if (g_test_hook == "fail-after-dice") {
        return std::unexpected(boot::failure(Reason::kTestHook, "after DICE"));
      }
      break;
    case boot::Stage::kInstanceWrite:
      // The machine stops with the instance entry half written, as a VM
      // killed mid-write would (tests/e2e/instance_rules.py).
      if (g_test_hook == "power-off-mid-instance-write") {
        console::print("pvmfw: TEST HOOK power-off-mid-instance-write: powering off\n");
        const hvc::Status s = hvc::psci::system_off(context.conduit);
        return std::unexpected(
            boot::failure(Reason::kTestHook, "SYSTEM_OFF returned %s", hvc::to_string(s)));
      }
      break;
  }
  return {};
}

}  // namespace entry

#else  // !PVMFW_TEST_HOOKS

namespace entry {

std::expected<void, boot::Failure> at_stage(boot::Stage, const boot::StageContext&) { return {}; }

}  // namespace entry

#endif

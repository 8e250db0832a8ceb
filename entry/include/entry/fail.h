// The one failure funnel. Every reason pvmfw refuses to boot ends here: one
// stable line on the console, `pvmfw: boot failed: <REASON>: <detail>`, then
// the wipe of every RAM range pvmfw maps writable -- the DT window, its own
// RAM (data, bss with mbedTLS's heap, page tables, both stacks), the config
// window and the handover page -- cleaned from the caches, then PSCI
// SYSTEM_RESET (tests run QEMU with -no-reboot, so the reset ends QEMU). If the
// reset returns, the CPU halts. Nothing of the boot's secrets survives a
// refusal, at any point of the boot (entry/jump.S, pvmfw_wipe_and_reset).
// Reason names follow AOSP's pvmfw reboot reasons without their prefix.
#pragma once

#include "boot/reason.h"
#include "hvc/smccc.h"

namespace fail {

// The reasons are the boot sequence's (entry/boot/include/boot/reason.h).
using Reason = boot::Reason;
using boot::to_string;

// The conduit the reset goes through (from the DT's /psci/method once read).
void set_conduit(hvc::Conduit c);

// From the first DICE secret on, general registers may hold key material: the
// exception report then prints the syndrome registers only. There is no way
// back: secrets stay in registers and RAM until the jump or the failure funnel
// wipes them. (The funnel wipes whether or not this was called.)
void mark_secrets_live();
bool secrets_live();

// Prints the line once, then wipe_and_reset(). Runs on any stack, with the
// MMU on or off (before start.S turns it on, an exception ends here too).
[[noreturn]] void boot_failed(Reason reason, const char* fmt, ...)
    __attribute__((format(printf, 2, 3)));

// The exception reporter calls this before printing anything: true the first
// time; false once an exception report or a failure is under way (a fault
// while printing one), when the caller must print nothing and call
// wipe_and_reset().
bool begin_exception_report();

// The funnel's end without a message: the wipe, then the reset.
[[noreturn]] void wipe_and_reset();

}  // namespace fail

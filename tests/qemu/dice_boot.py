#!/usr/bin/env python3
"""The VM's DICE secrets as a booted guest sees them, against the host's
prediction, and what is left of them in guest memory after the jump.

usage: dice_boot.py PART --pvm PVM --firmware PVMFW.bin --hello HELLO.bin --key KEY.pem
                    [--other-firmware PVMFW.bin --other-key KEY.pem]

PART is one of:
  handover  boots the test payload (tests/payloads/hello.S), which prints the
            DICE handover page; for a base payload and instance, the same again,
            another instance, a changed kernel, an initrd, a debug initrd and
            (with --other-*) a firmware trusting another key, signed with it:
            - the printed handover equals, byte for byte, the one `pvm dice
              derive --handover PREVIOUS --out` makes from the inputs `pvm dice
              expect` predicts (CDIs and the whole chain: ES256 is deterministic);
            - `pvm dice inspect` and an independent checker (python3-cryptography,
              python3-cbor2) verify its chain;
            - two boots give the same CDIs; the kernel changes CDI_Attest only,
              the instance, the initrd (authority and mode stay), the mode and
              the key change what open-dice says they change.
  memdump   boots the base payload with QEMU stopped (not exited) at the
            payload's power-off, saves all guest RAM over QMP (pmemsave) and
            looks for every DICE secret of the boot: the device secret, the
            previous stage's CDIs, both layers' private-key seeds and private
            keys (big- and little-endian) and the VM's CDIs; only the VM's
            CDIs may appear, and only in the handover page.
  faildump-hook, faildump-fault, faildump-nospace
            a refusal after DICE, with every secret of the boot live: the
            test-hook image's fail-after-dice (boot_failed) and
            fault-after-dice (a data abort: the exception path), and the
            shipped image given a valid tree so close to the 2 MiB DT window
            that the rebuilt tree has no room (INVALID_FDT: rebuild:
            OUTPUT_NO_SPACE). QEMU is stopped at the reset, not rebooted
            (-action reboot=shutdown,shutdown=pause), all guest RAM is saved
            over QMP and searched as for memdump, the VM's CDIs included: none
            may appear anywhere, and pvmfw's 4 MiB (DT window, its RAM, the
            config window and the handover page) must be all zeros. The
            signed kernel must be found where pvmfw said it was (the dump is
            the guest's RAM).

Runs with a fresh state folder (PVM_STATE): its own device secret.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../dice/tests"))
import dice_cli_test as ref  # noqa: E402  (the independent DICE)
import guest  # noqa: E402  (beside this file)
from guest import check, failures  # noqa: E402

RAM_BASE = 0x40000000
HANDOVER = (0x403FF000, 0x40400000)  # boards/qemu-virt: BOARD_HANDOVER_BASE, +4 KiB
# What pvmfw's failure funnel zeroes (boards/qemu-virt/include/board/layout.h):
# BOARD_DT_BASE up to the end of the handover page.
PVMFW_WINDOWS = (0x40000000, 0x40400000)
DT_MAX_SIZE = 0x200000  # BOARD_DT_MAX_SIZE
MEM_MIB = 64

INSTANCE_A = bytes(range(64)).hex()
INSTANCE_B = bytes(range(64, 128)).hex()

class Ctx:
    def __init__(self, args, tmp):
        self.a = args
        self.tmp = tmp
        self.env = dict(os.environ, PVM_STATE=os.path.join(tmp, "state"))

    def pvm(self, *words, ok=True, timeout=120):
        r = subprocess.run([self.a.pvm, *words], capture_output=True, text=True, env=self.env,
                           timeout=timeout)
        if ok and r.returncode != 0:
            raise RuntimeError(f"pvm {' '.join(words)}: exit {r.returncode}\n{r.stdout}{r.stderr}")
        return r

    def path(self, name):
        return os.path.join(self.tmp, name)

    def sign(self, name, kernel, initrd=None, initrd_partition="initrd_normal", key=None):
        out = self.path(name)
        words = ["sign", "--key", key or self.a.key, "--algorithm", "SHA256_RSA4096", "--partition",
                 "boot", "--image", kernel, "--output", out, "--salt", "11" * 32]
        if initrd:
            words += ["--hash-image", f"{initrd_partition}={initrd}",
                      "--hash-salt", f"{initrd_partition}={'22' * 32}"]
        self.pvm(*words)
        return out

    def boot(self, kernel, instance, initrd=None, qemu_args=(), firmware=None,
             goal=("--expect", "payload: done")):
        words = ["run", "--no-hypervisor", "--firmware", firmware or self.a.firmware, "--kernel", kernel, "--mem", str(MEM_MIB),
                 "--instance-id", instance, "--timeout", "60", *goal]
        words += ["--initrd", initrd] if initrd else ["--no-initrd"]
        if qemu_args:
            words += ["--", *qemu_args]
        return words

    def boot_handover(self, kernel, instance, initrd=None, firmware=None):
        r = self.pvm(*self.boot(kernel, instance, initrd, firmware=firmware))
        page = guest.handover_page(r.stdout)
        if page is None:
            raise RuntimeError("the payload printed no handover:\n" + r.stdout)
        return page, ref.cbor2.loads(page)

    def predict(self, kernel, instance, initrd=None, name="predicted", key=None):
        """The handover pvmfw should make: `pvm dice expect` + `pvm dice derive`."""
        prev = self.path("previous.cbor")
        if not os.path.exists(prev):
            self.pvm("device", "handover", "--out", prev)
        words = ["dice", "expect", "--kernel", kernel, "--key", self.avbpubkey(key),
                 "--instance-id", instance, "--json"]
        if initrd:
            words += ["--initrd", initrd]
        e = json.loads(self.pvm(*words).stdout)
        out = self.path(name + ".cbor")
        d = json.loads(self.pvm("dice", "derive", "--handover", prev, "--code-hash", e["code_hash"],
                                "--config-descriptor", e["config_descriptor"],
                                "--authority-hash", e["authority_hash"], "--mode", str(e["mode"]),
                                "--hidden", e["hidden"], "--out", out, "--json").stdout)
        return open(out, "rb").read(), d, e

    def avbpubkey(self, key=None):
        key = key or self.a.key
        out = self.path(os.path.basename(key) + ".avbpubkey")
        if not os.path.exists(out):
            self.pvm("key", "export", key, "--out", out)
        return out


def check_one(ctx, label, kernel, instance, initrd=None, firmware=None, key=None):
    raw, h = ctx.boot_handover(kernel, instance, initrd, firmware=firmware)
    predicted, d, e = ctx.predict(kernel, instance, initrd, name=label, key=key)
    check(h[1].hex() == d["cdi_attest"] and h[2].hex() == d["cdi_seal"],
          f"{label}: booted CDIs differ from `pvm dice derive`'s")
    check(raw == predicted, f"{label}: booted handover differs from the predicted one "
          f"({len(raw)} vs {len(predicted)} bytes)")
    booted = ctx.path(label + ".booted.cbor")
    open(booted, "wb").write(raw)
    r = ctx.pvm("dice", "inspect", booted, ok=False)
    check(r.returncode == 0, f"{label}: pvm dice inspect refused the booted handover: {r.stderr}")
    try:
        _, certs = ref.verify_chain(h[3])
        check(certs[-1][1] == ref.key_from_cdi(h[1]),
              f"{label}: the last certificate does not certify CDI_Attest's key")
        check(certs[-1][0].get(-4670551) == e["mode"].to_bytes(1, "big"),
              f"{label}: certificate mode {certs[-1][0].get(-4670551)} != {e['mode']}")
    except Exception as ex:  # noqa: BLE001
        check(False, f"{label}: independent chain check: {ex}")
    print(f"ok: {label}: mode {e['mode_name']}, CDI_Attest {h[1].hex()[:16]}..., "
          f"CDI_Seal {h[2].hex()[:16]}..., handover {len(raw)} bytes as predicted")
    return h[1], h[2]


def part_handover(ctx):
    hello = ctx.a.hello
    base = ctx.sign("base.signed", hello)
    padded = ctx.path("hello.padded")
    open(padded, "wb").write(open(hello, "rb").read() + b"\0" * 4096)
    changed = ctx.sign("changed.signed", padded)
    with_initrd = ctx.sign("initrd.signed", hello, initrd=hello)
    with_debug = ctx.sign("debug.signed", hello, initrd=hello, initrd_partition="initrd_debug")

    a1 = check_one(ctx, "base", base, INSTANCE_A)
    a2 = check_one(ctx, "base-again", base, INSTANCE_A)
    check(a1 == a2, "two boots of the same payload and instance gave different CDIs")
    b = check_one(ctx, "other-instance", base, INSTANCE_B)
    check(b[0] != a1[0] and b[1] != a1[1], "another instance must change both CDIs")
    k = check_one(ctx, "other-kernel", changed, INSTANCE_A)
    check(k[0] != a1[0] and k[1] == a1[1], "a kernel change must change CDI_Attest only")
    i = check_one(ctx, "initrd", with_initrd, INSTANCE_A, initrd=hello)
    check(i[0] != a1[0] and i[1] == a1[1], "an initrd (same key, mode) must change CDI_Attest only")
    dbg = check_one(ctx, "debug-initrd", with_debug, INSTANCE_A, initrd=hello)
    check(dbg[0] != i[0] and dbg[1] != i[1], "debug mode must change both CDIs")
    if ctx.a.other_firmware and ctx.a.other_key:
        other = ctx.sign("other-key.signed", hello, key=ctx.a.other_key)
        o = check_one(ctx, "other-key", other, INSTANCE_A, firmware=ctx.a.other_firmware,
                      key=ctx.a.other_key)
        check(o[0] != a1[0] and o[1] != a1[1], "another trusted key must change both CDIs")
    else:
        print("SKIP: other-key: no --other-firmware/--other-key")


def run_and_dump(ctx, words, qemu_args):
    """`pvm run WORDS -- QEMU_ARGS` until QEMU stops the guest; returns
    (pvm's output, its exit status, [(RAM_BASE, all guest RAM)])."""
    out, rc, dumps = guest.run_and_dump(
        [ctx.a.pvm, *words, "--", *qemu_args], ctx.env, ctx.path("qmp.sock"),
        [(RAM_BASE, MEM_MIB << 20, ctx.path("ram.bin"))])
    check(len(dumps[0][1]) == MEM_MIB << 20, f"dump is {len(dumps[0][1])} bytes")
    return out, rc, dumps


def boot_secrets(ctx, vm_handover):
    """Every secret of a boot by name, the VM's CDIs and keys from
    `vm_handover` (the payload's, or the predicted one when no payload ran);
    and the VM's CDIs by name."""
    uds = open(os.path.join(ctx.env["PVM_STATE"], "device-secret"), "rb").read()
    prev_path = ctx.path("previous.cbor")
    if not os.path.exists(prev_path):
        ctx.pvm("device", "handover", "--out", prev_path)
    prev = ref.cbor2.loads(open(prev_path, "rb").read())
    pvmfw_seed, pvmfw_key, pvmfw_pub = ref.key_material(prev[1])
    vm_seed, vm_key, vm_pub = ref.key_material(vm_handover[1])
    _, certs = ref.verify_chain(vm_handover[3])
    check(certs[-1][1] == vm_pub and certs[-2][1] == pvmfw_pub,
          "the recomputed keys are not the chain's: the search below would be blind")
    secrets = {
        "device secret (UDS)": uds,
        "previous CDI_Attest": prev[1], "previous CDI_Seal": prev[2],
        "pvmfw layer key seed": pvmfw_seed, "pvmfw layer private key": pvmfw_key,
        "VM layer key seed": vm_seed, "VM layer private key": vm_key,
    }
    return secrets, {"VM CDI_Attest": vm_handover[1], "VM CDI_Seal": vm_handover[2]}


def part_memdump(ctx):
    base = ctx.sign("base.signed", ctx.a.hello)
    # The payload powers off at its end; with -no-shutdown QEMU stops there.
    out, rc, ram = run_and_dump(ctx, ctx.boot(base, INSTANCE_A), ["-no-shutdown"])
    check(rc == 0, f"pvm run failed:\n{out}")
    handover = guest.handover(out)
    forbidden, allowed_in_handover = boot_secrets(ctx, handover)

    for name, secret in forbidden.items():
        where = guest.places(ram, secret)
        check(not where, f"{name} found in guest RAM at {', '.join(hex(a) for a in where[:8])}")
    for name, secret in allowed_in_handover.items():
        where = guest.places(ram, secret)
        outside = [a for a in where if not HANDOVER[0] <= a < HANDOVER[1]]
        check(where, f"{name} not found in the handover page: the dump is not the guest's RAM")
        check(not outside, f"{name} outside the handover page at "
              f"{', '.join(hex(a) for a in outside[:8])}")
    if not failures:
        print(f"ok: {MEM_MIB} MiB of guest RAM after the jump: no copy of {len(forbidden)} secrets, "
              f"the VM's CDIs only in the handover page")


def big_tree(ctx, kernel):
    """The tree `pvm run` writes for `kernel` and INSTANCE_A, grown with free
    space at its end (which DTSpec and libfdt allow) so that the tree pvmfw
    finds is 2 MiB less 2 KiB: valid, but the rebuilt tree, which pvmfw
    writes behind the input in the DT window, has no room left. QEMU's -dtb
    loader (load_device_tree) itself grows a tree of N bytes to
    2 * (N + 10000) before placing it: the file is sized for that."""
    small = ctx.path("vm.dtb")
    # QEMU is not needed for the tree: /bin/true stands in for it.
    ctx.pvm(*ctx.boot(kernel, INSTANCE_A, goal=()), "--dt-out", small, "--qemu", "/bin/true",
            ok=False)
    big = ctx.path("big.dtb")
    subprocess.run(["dtc", "-q", "-I", "dtb", "-O", "dtb", "-S",
                    str((DT_MAX_SIZE - 2048) // 2 - 10000), "-o", big, small], check=True)
    return big


def part_faildump(ctx, case):
    """A refusal after DICE leaves no secret in guest RAM (module docstring)."""
    kernel = ctx.sign("base.signed", ctx.a.hello)
    if case == "hook":
        run = ["--firmware", ctx.a.hooks_firmware, "--test-hook", "fail-after-dice"]
        reason = "TEST_HOOK"
    elif case == "fault":
        run = ["--firmware", ctx.a.hooks_firmware, "--test-hook", "fault-after-dice"]
        reason = "UNEXPECTED_EXCEPTION"
    else:
        run = ["--dtb", big_tree(ctx, kernel)]
        reason = "INVALID_FDT: rebuild: OUTPUT_NO_SPACE"
    words = ctx.boot(kernel, INSTANCE_A, goal=("--expect-fail", reason.split(":")[0]))
    # pvm run passes -no-reboot (reboot=shutdown); shutdown=pause keeps the
    # guest's RAM for QMP after pvmfw's PSCI SYSTEM_RESET.
    out, rc, ram = run_and_dump(ctx, [*words, *run], ["-action", "reboot=shutdown,shutdown=pause"])
    check(rc == 0, f"pvm run failed:\n{out}")
    if case == "fault":  # the hook faults before the DICE line
        check("(general registers withheld: DICE secrets in use)" in out,
              "the fault was not taken after DICE: nothing to look for")
    else:
        check("pvmfw: DICE: VM layer derived" in out,
              "the boot did not get past DICE: nothing to look for")
    check(f"pvmfw: boot failed: {reason}" in out, f"no 'pvmfw: boot failed: {reason}' line:\n{out}")
    check("Starting payload" not in out, "the payload was started")

    # The VM's secrets as pvmfw derived them before it failed.
    predicted, _, _ = ctx.predict(kernel, INSTANCE_A)
    forbidden, vm_cdis = boot_secrets(ctx, ref.cbor2.loads(predicted))
    forbidden.update(vm_cdis)
    for name, secret in forbidden.items():
        where = guest.places(ram, secret)
        check(not where, f"{name} found in guest RAM at {', '.join(hex(a) for a in where[:8])}")

    lo, hi = (a - RAM_BASE for a in PVMFW_WINDOWS)
    memory = ram[0][1]
    left = [RAM_BASE + lo + i for i in range(0, hi - lo, 4096) if any(memory[lo + i:lo + i + 4096])]
    check(not left, f"{len(left)} page(s) of pvmfw's windows not zeroed: "
          f"{', '.join(hex(a) for a in left[:8])}")

    # The dump is the guest's RAM: the signed kernel where pvmfw found it.
    line = next((l for l in out.splitlines() if l.startswith("pvmfw: kernel 0x")), "")
    image = open(kernel, "rb").read()
    try:
        at = int(line.split()[2].split("-")[0], 16) - RAM_BASE
        check(memory[at:at + len(image)] == image, "the signed kernel is not in the dump where pvmfw "
              "found it: the dump is not the guest's RAM")
    except (IndexError, ValueError):
        check(False, f"no kernel range on the console:\n{out}")
    if not failures:
        print(f"ok: {reason} after DICE: {MEM_MIB} MiB of guest RAM at the reset hold none of "
              f"{len(forbidden)} secrets; pvmfw's 4 MiB are zeros")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("part", choices=["handover", "memdump", "faildump-hook", "faildump-fault",
                                     "faildump-nospace"])
    for a in ("--pvm", "--firmware", "--hello", "--key"):
        ap.add_argument(a, required=True)
    ap.add_argument("--other-firmware")
    ap.add_argument("--other-key")
    ap.add_argument("--hooks-firmware", help="pvmfw-testhooks.bin (faildump-hook, -fault)")
    args = ap.parse_args()
    if not ref.HAVE_CRYPTO:
        print("SKIP: python3-cryptography / python3-cbor2 missing:", ref.MISSING)
        return 77
    with tempfile.TemporaryDirectory(prefix="pvm-dice-boot-") as tmp:
        ctx = Ctx(args, tmp)
        if args.part.startswith("faildump-"):
            if args.part != "faildump-nospace" and not args.hooks_firmware:
                ap.error(f"{args.part} needs --hooks-firmware")
            part_faildump(ctx, args.part.split("-", 1)[1])
        else:
            {"handover": part_handover, "memdump": part_memdump}[args.part](ctx)
    if failures:
        print(f"{len(failures)} failure(s)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

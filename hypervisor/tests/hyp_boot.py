#!/usr/bin/env python3
"""The hypervisor's DICE stage and isolation as booted guests see them.

usage: hyp_boot.py PART --pvm PVM --hyp HYP.bin --img PVMFW.img --other-img PVMFW.img
                   --hello HELLO.bin --key KEY.pem --platform-key PLATFORM.avbpubkey
                   --qemu QEMU

PART is one of:
  cdis     boots the test payload (tests/payloads/hello.S, which prints the VM's
           DICE handover) through hyp.bin: two boots with one device secret give
           the same CDIs; another device secret, or another pvmfw.img, other
           ones; the chain's root, pvmfw and VM keys are the ones `pvm dice
           expect --pvmfw-img` predicts, and an independent checker
           (python3-cryptography) verifies the chain.
  memdump  boots it once more with QEMU stopped (not exited) at the payload's
           power-off, saves the VM's RAM and the hypervisor's 16 MiB (all the
           RAM anything wrote) over QMP and looks for the device secret, pvmfw's CDIs and
           key material (recomputed here from the device secret and pvmfw.img):
           none may be anywhere; the VM's CDIs only in the VM's handover page.
  launch   runs hyp.bin with hand-made launch descriptions (fw_cfg files): a bad
           magic, a missing device secret, more VM RAM than the machine has, a
           payload over pvmfw's window; each is refused with its name and no
           VM starts.

Each part runs with fresh state folders (PVM_STATE): their own device secrets.
"""
import argparse
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "../../dice/tests"))
sys.path.insert(0, os.path.join(HERE, "../../tests/qemu"))
import dice_cli_test as ref  # noqa: E402  (the independent DICE)
import guest  # noqa: E402
from guest import check, failures  # noqa: E402

RAM_BASE = 0x40000000
HYP_BASE, HYP_RESERVED = 0xC0000000, 16 << 20  # the hypervisor's RAM (docs/hypervisor.md)
MACHINE_MIB = 2064  # QEMU's RAM under the hypervisor: up to the end of the hypervisor's
MEM_MIB = 64  # the VM's RAM, identity mapped from RAM_BASE
HANDOVER_IPA = (0x403FF000, 0x40400000)
INSTANCE = bytes(range(64)).hex()

class Ctx:
    def __init__(self, args, tmp):
        self.a = args
        self.tmp = tmp
        self.signed = None

    def path(self, name):
        return os.path.join(self.tmp, name)

    def env(self, state):
        return dict(os.environ, PVM_STATE=self.path(state))

    def pvm(self, *words, state="state", ok=True, timeout=120):
        r = subprocess.run([self.a.pvm, *words], capture_output=True, text=True,
                           env=self.env(state), timeout=timeout)
        if ok and r.returncode != 0:
            raise RuntimeError(f"pvm {' '.join(words)}: exit {r.returncode}\n{r.stdout}{r.stderr}")
        return r

    def hello(self):
        if self.signed is None:
            self.signed = self.path("hello.signed")
            self.pvm("sign", "--key", self.a.key, "--algorithm", "SHA256_RSA4096", "--partition",
                     "boot", "--image", self.a.hello, "--output", self.signed, "--salt", "11" * 32)
        return self.signed

    def run_words(self, img=None):
        return ["run", "--hypervisor", self.a.hyp, "--pvmfw-img", img or self.a.img,
                "--kernel", self.hello(), "--no-initrd", "--mem", str(MEM_MIB),
                "--instance-id", INSTANCE, "--timeout", "60", "--expect", "payload: done"]

    def handover(self, state, img=None):
        r = self.pvm(*self.run_words(img), state=state)
        return parse_handover(r.stdout)


def parse_handover(out):
    h = guest.handover(out)
    if h is None:
        raise RuntimeError("the payload printed no handover:\n" + out)
    return h


def uds_of(ctx, state):
    return open(os.path.join(ctx.path(state), "device-secret"), "rb").read()


def pvmfw_layer(ctx, uds, img):
    """pvmfw's CDIs as the hypervisor derives them (dice/pvmfw.h), from
    `pvm dice expect`'s inputs, recomputed independently."""
    out = ctx.pvm("dice", "expect", "--kernel", ctx.hello(), "--key", avbpubkey(ctx),
                  "--pvmfw-img", img, "--platform-key", ctx.a.platform_key,
                  "--device-secret", secret_file(ctx, uds),
                  "--instance-id", INSTANCE, "--json")
    e = json.loads(out.stdout)
    p = e["pvmfw"]
    attest, seal = ref.main_flow_cdis(uds, uds, bytes.fromhex(p["code_hash"]),
                                      hashlib.sha512(bytes.fromhex(p["config_descriptor"])).digest(),
                                      bytes.fromhex(p["authority_hash"]), p["mode"], bytes(64))
    return e, attest, seal


def secret_file(ctx, uds):
    # Named after a digest, never after the secret's own bytes.
    path = ctx.path("secret-" + hashlib.sha256(uds).hexdigest()[:16])
    if not os.path.exists(path):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, uds)
        os.close(fd)
    return path


def avbpubkey(ctx):
    path = ctx.path("payload.avbpubkey")
    if not os.path.exists(path):
        ctx.pvm("key", "export", ctx.a.key, "--out", path)
    return path


def part_cdis(ctx):
    a1 = ctx.handover("state-a")
    a2 = ctx.handover("state-a")
    check(a1[1] == a2[1] and a1[2] == a2[2], "two boots with one device secret: other CDIs")
    b = ctx.handover("state-b")
    check(b[1] != a1[1] and b[2] != a1[2], "another device secret: the same CDIs")
    o = ctx.handover("state-a", img=ctx.a.other_img)
    check(o[1] != a1[1], "another pvmfw.img: the same CDI_Attest")

    # The chain: [root = key(UDS), pvmfw's cert, the VM's cert], as predicted.
    _, certs = ref.verify_chain(a1[3])
    uds = uds_of(ctx, "state-a")
    e, attest, _ = pvmfw_layer(ctx, uds, ctx.a.img)
    check(e["root_public_key"] == ref.key_from_cdi(uds).hex(), "the root is not key(UDS)")
    check(len(certs) == 2, f"{len(certs)} certificates in the chain, want 2")
    check(certs[0][1].hex() == e["pvmfw"]["public_key"], "pvmfw's key is not the predicted one")
    check(certs[-1][1].hex() == e["vm_public_key"], "the VM's key is not the predicted one")
    check(ref.key_from_cdi(attest).hex() == e["pvmfw"]["public_key"],
          "pvmfw's CDI_Attest recomputed here does not give pvmfw's key")
    if not failures:
        print("ok: CDIs stable per device secret, follow the secret and pvmfw.img; "
              "the chain is the predicted one")


def run_and_dump(ctx, words, state, qemu_args=()):
    """`pvm run WORDS -- QEMU_ARGS` until the guest powers off; returns
    (output, exit status, dumps of the VM's RAM and the hypervisor's)."""
    out, rc, dumps = guest.run_and_dump(
        [ctx.a.pvm, *words, "--", *qemu_args, "-no-shutdown"], ctx.env(state),
        ctx.path("qmp.sock"), [(RAM_BASE, MEM_MIB << 20, ctx.path("ram.bin")),
                               (HYP_BASE, HYP_RESERVED, ctx.path("hyp.bin"))])
    check([len(d) for _, d in dumps] == [MEM_MIB << 20, HYP_RESERVED], "short dumps")
    return out, rc, dumps


def part_memdump(ctx):
    out, rc, ram = run_and_dump(ctx, ctx.run_words(), "state-m")
    check(rc == 0, f"pvm run failed:\n{out}")
    vm = parse_handover(out)
    uds = uds_of(ctx, "state-m")
    _, attest, seal = pvmfw_layer(ctx, uds, ctx.a.img)
    root_seed, root_key, _ = ref.key_material(uds)
    pvmfw_seed, pvmfw_key, _ = ref.key_material(attest)
    forbidden = {"device secret (UDS)": uds, "root key seed": root_seed, "root private key": root_key,
                 "pvmfw CDI_Attest": attest, "pvmfw CDI_Seal": seal,
                 "pvmfw key seed": pvmfw_seed, "pvmfw private key": pvmfw_key}
    for name, secret in forbidden.items():
        where = guest.places(ram, secret)
        check(not where, f"{name} found in RAM at {', '.join(hex(a) for a in where[:8])}")
    lo, hi = HANDOVER_IPA  # identity mapped
    for name, secret in {"VM CDI_Attest": vm[1], "VM CDI_Seal": vm[2]}.items():
        where = guest.places(ram, secret)
        check(where, f"{name} not found in the VM's handover page: the dump is not the machine's RAM")
        outside = [a for a in where if not lo <= a < hi]
        check(not outside, f"{name} outside the handover page at {', '.join(hex(a) for a in outside[:8])}")
    if not failures:
        print(f"ok: the VM's {MEM_MIB} MiB and the hypervisor's 16 MiB after the power-off: no copy of "
              f"{len(forbidden)} secrets of the hypervisor's stage, the VM's CDIs only in its "
              "handover page")

    # A fault after pvmfw's CDIs are written into the VM's config window and
    # before the VM runs (hyp-testhooks.bin): the fatal path wipes them too.
    words = ctx.run_words()
    words[words.index("--hypervisor") + 1] = ctx.a.hyp_hooks
    out, _, ram = run_and_dump(ctx, words, "state-m",
                               ["-fw_cfg", "name=opt/pvm/test-hook,string=fault-after-dice"])
    check("hyp: test hook fault-after-dice" in out and "hyp: powering off" in out
          and "pvmfw 0." not in out, f"the hook did not fault before the VM ran:\n{out}")
    for name, secret in forbidden.items():
        where = guest.places(ram, secret)
        check(not where, f"after a fault: {name} found in RAM at "
              f"{', '.join(hex(a) for a in where[:8])}")
    if not failures:
        print("ok: a fault between the DICE stage and the VM's entry leaves none of them either")


def launch_header(magic=b"PVML", ram=MEM_MIB << 20, payload=0x40400000, initrd=0, flags=0):
    return (magic + struct.pack("<III", 1, 64, flags) + struct.pack("<QII", ram, 1, 0) +
            struct.pack("<QQQQ", 0x40000000, payload, initrd, 0))


def part_launch(ctx):
    # The files a launcher would pass, made by `pvm run --keep-dir`.
    keep = ctx.path("keep")
    ctx.pvm(*ctx.run_words(), "--keep-dir", keep)
    dt = [os.path.join(keep, f) for f in os.listdir(keep) if f.endswith(".dtb")]
    check(len(dt) == 1, f"pvm run --keep-dir left {len(dt)} trees")
    secret = secret_file(ctx, bytes(range(32)))
    cases = [
        ("bad magic", launch_header(magic=b"PVMX"), True, "BAD_MAGIC"),
        ("missing device secret", launch_header(), False, "MISSING_FILE"),
        ("more RAM than below the hypervisor", launch_header(ram=4 << 30), True,
         "MEMORY_EXCEEDS_MACHINE"),
        ("payload over pvmfw's window", launch_header(payload=0x40300000), True, "PAYLOAD_OVERLAP"),
        ("unknown flag", launch_header(flags=2), True, "BAD_FLAGS"),
    ]
    for label, header, with_uds, reason in cases:
        path = ctx.path("launch.bin")
        open(path, "wb").write(header)
        cmd = [ctx.a.qemu, "-M", "virt,gic-version=2,virtualization=on", "-cpu",
               "max,pauth-impdef=on", "-m", str(MACHINE_MIB), "-nographic", "-nic", "none",
               "-no-reboot", "-bios", ctx.a.hyp,
               "-fw_cfg", f"name=opt/pvm/launch,file={path}",
               "-fw_cfg", f"name=opt/pvm/pvmfw.img,file={ctx.a.img}",
               "-fw_cfg", f"name=opt/pvm/dt,file={dt[0] if dt else path}",
               "-fw_cfg", f"name=opt/pvm/payload,file={ctx.hello()}"]
        if with_uds:
            cmd += ["-fw_cfg", f"name=opt/pvm/uds,file={secret}"]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                           stdin=subprocess.DEVNULL)
        want = f"hyp: launch refused: {reason}"
        check(want in r.stdout, f"{label}: no '{want}' in:\n{r.stdout}{r.stderr}")
        check("hyp: entering pvmfw" not in r.stdout and "pvmfw 0." not in r.stdout,
              f"{label}: the VM started:\n{r.stdout}")
        check(r.returncode == 0, f"{label}: QEMU exit {r.returncode} (the hypervisor powers off)")
    if not failures:
        print(f"ok: {len(cases)} malformed launch descriptions refused by name, no VM started")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("part", choices=["cdis", "memdump", "launch"])
    for a in ["--pvm", "--hyp", "--hyp-hooks", "--img", "--other-img", "--hello", "--key",
              "--platform-key", "--qemu"]:
        ap.add_argument(a, required=True)
    args = ap.parse_args()
    if not ref.HAVE_CRYPTO:
        print(f"SKIP: {ref.MISSING}")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        ctx = Ctx(args, tmp)
        {"cdis": part_cdis, "memdump": part_memdump, "launch": part_launch}[args.part](ctx)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

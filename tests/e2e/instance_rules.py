#!/usr/bin/env python3
"""The instance disk's rules, end to end (docs/instance.md), through
`pvm create` / `pvm start` with the test payload (tests/payloads/hello.S,
which prints the VM's DICE handover) in the protected VM.

usage: instance_rules.py --pvm PVM --hyp HYP.bin --img PVMFW.img
                         --otherkey-img PVMFW-OTHERKEY.img --hooks-img PVMFW-TESTHOOKS.img
                         --hello HELLO.bin
                         --key KEY.pem --other-key OTHER.pem --platform-key PLATFORM.avbpubkey

Every payload change goes through `pvm update NAME --kernel F [--initrd F]
--key KEY.avbpubkey`, which replaces the payload and leaves the instance to
pvmfw's judgement at the next start. Checks, each on fresh VMs in a fresh
state folder:
  - create, start, start again: the same CDIs, and the chain `pvm dice
    expect --pvmfw-img` predicts for the VM's instance id; "new instance", then "same
    software"; the first boot's tree has /chosen/avf,new-instance (pvmfw says
    it recorded the entry); exactly the two bounce pages were shared and none
    is left at the power-off;
  - two VMs of the same payload: other CDIs;
  - an update signed by the same key with a higher rollback index: accepted,
    "updated forward", same CDI_Seal, new CDI_Attest; then the old payload
    (lower rollback index): ROLLBACK;
  - the payload authority changed (a pvmfw trusting another key, the payload
    signed with it): INSTANCE_IMAGE_MISMATCH: authority;
  - another mode (the initrd signed as initrd_debug): INSTANCE_IMAGE_MISMATCH: mode;
  - a VM created with --pin-software: a code change is refused
    (INSTANCE_IMAGE_MISMATCH: pinned software changed);
  - the disk: the current slot tampered (refused), the two slots swapped
    (refused), the other slot torn as by a write killed half-way (boots as
    before), and a real power-off in the middle of the entry's write
    (pvmfw-testhooks.img: the next boot finds the entry, never a fresh
    instance).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "../../dice/tests"))
sys.path.insert(0, os.path.join(HERE, "../qemu"))
import dice_cli_test as ref  # noqa: E402
from guest import check, failures, handover  # noqa: E402  (tests/qemu/guest.py)

SECTOR = 512
class Ctx:
    def __init__(self, a, tmp):
        self.a, self.tmp = a, tmp
        self.env = dict(os.environ, PVM_STATE=os.path.join(tmp, "state"),
                        PVM_HYPERVISOR=a.hyp, PVM_PVMFW_IMG=a.img)

    def pvm(self, *words, env=None, timeout=120):
        return subprocess.run([self.a.pvm, *words], capture_output=True, text=True,
                              env=env or self.env, timeout=timeout)

    def payload(self, name, tail=b"", rollback=0, key=None, initrd=None):
        """hello.bin (plus `tail`, another code hash), signed; `initrd`:
        (partition, file) hashed along."""
        raw = os.path.join(self.tmp, name + ".raw")
        open(raw, "wb").write(open(self.a.hello, "rb").read() + tail)
        out = os.path.join(self.tmp, name + ".signed")
        extra = ["--hash-image", f"{initrd[0]}={initrd[1]}"] if initrd else []
        r = self.pvm("sign", "--key", key or self.a.key, "--algorithm", "SHA256_RSA4096",
                     "--partition", "boot", "--image", raw, "--output", out,
                     "--rollback-index", str(rollback), *extra)
        if r.returncode != 0:
            raise RuntimeError(r.stdout + r.stderr)
        return out

    def create(self, name, payload, *extra):
        initrd = [] if "--initrd" in extra else ["--no-initrd"]
        r = self.pvm("create", name, "--kernel", payload, *initrd, "--key",
                     self.avbpubkey(), "--mem", "64", *extra)
        if r.returncode != 0:
            raise RuntimeError(f"pvm create {name}: {r.stdout}{r.stderr}")

    def avbpubkey(self, key=None):
        key = key or self.a.key
        out = os.path.join(self.tmp, os.path.basename(key) + ".avbpubkey")
        if not os.path.exists(out):
            self.pvm("key", "export", key, "--out", out)
        return out

    def folder(self, name):
        return os.path.join(self.tmp, "state", "vms", name)

    def start(self, name, env=None, expect_fail=None):
        words = ["start", name, "--timeout", "60"]
        words += ["--expect", "payload: done"] if not expect_fail else []
        r = self.pvm(*words, env=env)
        return r.returncode, r.stdout + r.stderr

    def update(self, name, payload, *extra, key=None):
        """`pvm update NAME --kernel PAYLOAD [EXTRA] --key KEY.avbpubkey`: the
        VM's payload replaced with the CLI alone; pvmfw judges it at the next
        start."""
        r = self.pvm("update", name, "--kernel", payload, *extra, "--key", self.avbpubkey(key))
        if r.returncode != 0:
            raise RuntimeError(f"pvm update {name}: {r.stdout}{r.stderr}")
        check(f"takes effect at the next `pvm start {name}`" in r.stdout,
              f"pvm update {name}: no word on when it takes effect:\n{r.stdout}")
        return r.stdout




def partition_start(disk):
    """The vm-instance partition's first LBA (GPT entry 0, as pvm create makes it)."""
    entries_lba = int.from_bytes(disk[SECTOR + 72:SECTOR + 80], "little")
    e = disk[entries_lba * SECTOR:entries_lba * SECTOR + 128]
    return int.from_bytes(e[32:40], "little")


def booted(ctx, name, label, env=None):
    rc, out = ctx.start(name, env=env)
    check(rc == 0, f"{label}: start failed:\n{out}")
    return out, handover(out)


def refused(ctx, name, reason, label, env=None):
    rc, out = ctx.start(name, env=env, expect_fail=True)
    check(rc != 0 and f"pvmfw: boot failed: {reason}" in out,
          f"{label}: not refused with {reason}:\n{out}")
    check("payload: hello" not in out, f"{label}: the payload ran")


def main() -> int:
    ap = argparse.ArgumentParser()
    for a in ["--pvm", "--hyp", "--img", "--otherkey-img", "--hooks-img", "--hello", "--key",
              "--other-key", "--platform-key"]:
        ap.add_argument(a, required=True)
    a = ap.parse_args()
    if not ref.HAVE_CRYPTO:
        print(f"SKIP: {ref.MISSING}")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        ctx = Ctx(a, tmp)
        base = ctx.payload("base")

        # Create, start twice.
        ctx.create("alpha", base)
        out1, h1 = booted(ctx, "alpha", "first boot")
        check("pvmfw: instance disk at" in out1 and "new instance, entry recorded" in out1,
              "first boot: no new instance recorded")
        check("pvmfw: shared with the host while reading it: 0x403fd000-0x403ff000 (2 pages)"
              in out1, "first boot: not exactly the two bounce pages shared")
        check("(0 pages shared with the host)" in out1, "a share left at the power-off")
        out2, h2 = booted(ctx, "alpha", "second boot")
        check("same software as recorded" in out2, "second boot: not the same software")
        check(h1 and h2 and h1[1] == h2[1] and h1[2] == h2[2], "two boots: other CDIs")
        # The chain the VM got is the one `pvm dice expect` predicts for this
        # VM (its instance id, this machine's device secret, pvmfw.img).
        listing = json.loads(ctx.pvm("list", "--json").stdout)
        vm = [v for v in (listing if isinstance(listing, list) else listing.get("vms", []))
              if v.get("name") == "alpha"]
        check(len(vm) == 1, f"pvm list --json does not show alpha: {listing}")
        if vm and h1:
            r = ctx.pvm("dice", "expect", "--kernel", os.path.join(ctx.folder("alpha"), "kernel.img"),
                        "--key", ctx.avbpubkey(), "--instance-id", vm[0]["instance_id"],
                        "--pvmfw-img", a.img, "--platform-key", a.platform_key, "--json")
            check(r.returncode == 0, f"pvm dice expect: {r.stdout}{r.stderr}")
            if r.returncode == 0:
                e = json.loads(r.stdout)
                _, certs = ref.verify_chain(h1[3])
                check(certs[-1][1].hex() == e.get("vm_public_key"),
                      "the VM's key is not the one `pvm dice expect` predicts")
                check(certs[0][1].hex() == e["pvmfw"]["public_key"],
                      "pvmfw's key is not the one `pvm dice expect` predicts")

        # Two VMs.
        ctx.create("beta", base)
        _, hb = booted(ctx, "beta", "second VM")
        check(hb and h1 and hb[1] != h1[1] and hb[2] != h1[2], "two VMs: the same CDIs")

        # Update forward, then roll back.
        update = ctx.payload("update", tail=b"\x01" * 64, rollback=1)
        said = ctx.update("alpha", update)
        check("rollback index 0 -> 1" in said, f"update: rollback index not reported:\n{said}")
        out3, h3 = booted(ctx, "alpha", "update")
        check("updated forward" in out3, "update: not written forward")
        check(h3 and h1 and h3[2] == h1[2], "update: CDI_Seal changed")
        check(h3 and h1 and h3[1] != h1[1], "update: CDI_Attest unchanged")
        said = ctx.update("alpha", base)
        check("rollback index 1 -> 0 (lower" in said, f"roll back: not reported lower:\n{said}")
        refused(ctx, "alpha", "ROLLBACK", "lower rollback index")

        # Another payload authority: a pvmfw trusting another key.
        other = ctx.payload("other", key=a.other_key)
        said = ctx.update("beta", other, key=a.other_key)
        check("re-keyed" in said, f"another key: the re-key not reported:\n{said}")
        env = dict(ctx.env, PVM_PVMFW_IMG=a.otherkey_img)
        refused(ctx, "beta", "INSTANCE_IMAGE_MISMATCH: authority", "another key", env=env)

        # Another mode: the same payload and initrd, the initrd now signed as
        # initrd_debug (a debuggable boot of a normal instance).
        initrd = os.path.join(tmp, "initrd")
        open(initrd, "wb").write(b"initrd" * 100)
        normal = ctx.payload("normal", initrd=("initrd_normal", initrd))
        ctx.create("delta", normal, "--initrd", initrd)
        booted(ctx, "delta", "normal-mode first boot")
        said = ctx.update("delta", ctx.payload("debug", initrd=("initrd_debug", initrd)),
                          "--initrd", initrd)
        check("mode normal -> debug" in said, f"another mode: not reported:\n{said}")
        refused(ctx, "delta", "INSTANCE_IMAGE_MISMATCH: mode", "another mode")

        # Pinned software.
        ctx.create("pinned", base, "--pin-software")
        booted(ctx, "pinned", "pinned first boot")
        said = ctx.update("pinned", ctx.payload("changed", tail=b"\x02" * 64))
        check("software pinned" in said, f"pinned code change: the pin not reported:\n{said}")
        refused(ctx, "pinned", "INSTANCE_IMAGE_MISMATCH: pinned software changed",
                "pinned code change")

        # The disk: torn other slot (as by a killed write), tampered current
        # slot, swapped slots.
        ctx.create("gamma", base)
        booted(ctx, "gamma", "gamma first boot")  # slot A holds the entry
        disk_path = os.path.join(ctx.folder("gamma"), "disk.img")
        disk = bytearray(open(disk_path, "rb").read())
        start = partition_start(disk)
        slot_a, slot_b = (start + 1) * SECTOR, (start + 9) * SECTOR
        good = bytes(disk)
        disk[slot_b:slot_b + 8 * SECTOR] = bytes((i * 37 + 11) & 0xFF for i in range(8 * SECTOR))
        open(disk_path, "wb").write(disk)
        out, _ = booted(ctx, "gamma", "torn write in the other slot")
        check("same software as recorded" in out, "torn other slot: did not boot as before")
        disk = bytearray(good)
        disk[slot_a + 60] ^= 1
        open(disk_path, "wb").write(disk)
        refused(ctx, "gamma", "INVALID_INSTANCE_IMAGE", "tampered entry")
        disk = bytearray(good)
        disk[slot_b:slot_b + 8 * SECTOR] = good[slot_a:slot_a + 8 * SECTOR]
        disk[slot_a:slot_a + 8 * SECTOR] = bytes(8 * SECTOR)
        open(disk_path, "wb").write(disk)
        refused(ctx, "gamma", "INVALID_INSTANCE_IMAGE", "entry moved to the other slot")
        # A machine that stops in the middle of the entry's write (the
        # test-hook pvmfw powers off between the write's first sector and the
        # rest): the next boot finds the entry as before or as after, here
        # after (the entry fits in the first sector), never a fresh instance.
        ctx.create("epsilon", base)
        env = dict(ctx.env, PVM_PVMFW_IMG=a.hooks_img)
        r = ctx.pvm("start", "epsilon", "--timeout", "60", "--test-hook",
                    "power-off-mid-instance-write", env=env)
        out = r.stdout + r.stderr
        check("TEST HOOK power-off-mid-instance-write: powering off" in out and
              "payload: hello" not in out, f"mid-write power-off did not happen:\n{out}")
        out, h = booted(ctx, "epsilon", "boot after a power-off mid-write")
        check("same software as recorded" in out,
              f"after a power-off mid-write: not the entry as written:\n{out}")
    if not failures:
        print("ok: every instance rule held end to end")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

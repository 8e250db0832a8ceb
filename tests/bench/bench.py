#!/usr/bin/env python3
"""./pvm bench: pvmfw's speed and size figures (docs/performance.md), measured
deterministically.

Every boot runs under QEMU -icount shift=0,sleep=off -seed 1 (pvm run --icount):
one guest instruction is one nanosecond of virtual time, and one tick of the
62.5 MHz virtual counter is 16 instructions. pvmfw prints the counter at the
hand-off ("hand-off at counter tick N"), Linux prints virtual time stamps.

usage: bench.py --pvm PVM --firmware PVMFW.bin --elf PVMFW.elf --hello HELLO.bin
                --key KEY.pem --guest-dir DIR --hypervisor HYP.bin --pvmfw-img PVMFW.img [--json]

--json prints one JSON object instead of the table. Its field names are
stable (add, never rename): see FIELDS below.
"""
import argparse
import glob
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile

TICK_INSNS = 16  # instructions per counter tick at 62.5 MHz under -icount shift=0
QEMU = ["qemu-system-aarch64", "-M", "virt,gic-version=2", "-cpu", "max,pauth-impdef=on",
        "-m", "1024", "-nographic", "-nic", "none", "-no-reboot",
        "-icount", "shift=0,sleep=off", "-seed", "1", "-rtc", "base=2025-01-01T00:00:00,clock=vm"]


def run(cmd, timeout=300):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       stdin=subprocess.DEVNULL, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace")


def handoff_insns(out):
    m = re.search(r"hand-off at counter tick (\d+)", out)
    return int(m.group(1)) * TICK_INSNS if m else None


PHASES = ("start", "verify", "verified", "dice", "rebuild", "rebuilt")


def phase_ticks(out):
    m = re.search(r"phase ticks: " + ", ".join(p + r" (\d+)" for p in PHASES), out)
    return dict(zip(PHASES, (int(g) for g in m.groups()))) if m else None


HYP_PHASES = ("start", "verify", "dice", "load")


def hyp_phase_ticks(out):
    m = re.search(r"hyp: phase ticks: " + ", ".join(p + r" (\d+)" for p in HYP_PHASES), out)
    return dict(zip(HYP_PHASES, (int(g) for g in m.groups()))) if m else None


def hyp_entry_insns(out):
    m = re.search(r"hyp: entering pvmfw at EL1 .* at counter tick (\d+)", out)
    return int(m.group(1)) * TICK_INSNS if m else None


def heap_bytes(out):
    m = re.search(r"mbedTLS heap: (\d+) bytes", out)
    return int(m.group(1)) if m else None


# What --json prints (stable names; instructions are guest instructions under
# -icount shift=0, sizes in bytes).
FIELDS = {
    "pvmfw_insns_debian_kernel": "reset to the kernel's first instruction, Debian kernel + initramfs",
    "pvmfw_fixed_insns_debian_kernel": "the same, minus hashing (hash_insns_per_byte x payload)",
    "pvmfw_insns_small_payload": "reset to hand-off with the small test payload",
    "hash_insns_per_byte": "extra instructions per extra payload byte (16 MiB difference)",
    "debian_payload_bytes": "kernel partition + initramfs bytes pvmfw hashed",
    "phase_insns": "Debian boot: {setup, verify, dice, rebuild, handoff} instructions",
    "rsa_and_avb_insns": "verify phase minus hashing: vbmeta parsing and the RSA-4096 check",
    "heap_size_bytes": "the static mbedTLS heap",
    "run_init_ms_through_pvmfw": "Linux printk time of 'Run /init' through pvmfw (kernel clock)",
    "run_init_ms_direct_kernel": "the same with QEMU -kernel",
    "pvmfw_bin_bytes": "size of pvmfw.bin",
    "writable_ram_bytes": "pvmfw's writable RAM: data, bss (heap included), stacks, page tables",
    "hyp_pvmfw_insns_debian_kernel": "hypervisor + pvmfw: reset to the kernel's first instruction, Debian kernel",
    "hyp_added_insns": "hyp_pvmfw_insns_debian_kernel minus pvmfw_insns_debian_kernel",
    "hyp_phase_insns": "the hypervisor before pvmfw: {setup, verify, dice, load} instructions",
    "hyp_bin_bytes": "size of hyp.bin",
    "image_sha256": "{pvmfw.bin, pvmfw.img, hyp.bin}: SHA-256 of each image measured (reproducible)",
}


def run_init_ms(out):
    m = re.search(r"\[\s*(\d+\.\d+)\] Run /init", out)
    return float(m.group(1)) * 1000 if m else None


def symbol(elf, name):
    nm = subprocess.run(["llvm-nm-19", elf], stdout=subprocess.PIPE, text=True).stdout
    for line in nm.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == name:
            return int(parts[0], 16)
    raise SystemExit(f"bench: no symbol {name} in {elf}")


def main() -> int:
    ap = argparse.ArgumentParser()
    for a in ("--pvm", "--firmware", "--elf", "--hello", "--key", "--guest-dir", "--hypervisor",
              "--pvmfw-img"):
        ap.add_argument(a, required=True)
    ap.add_argument("--json", action="store_true", help="print JSON instead of the table")
    args = ap.parse_args()
    # pvm run finds busybox (the demo initramfs) and the kernel through it.
    os.environ["PVM_GUEST_DIR"] = args.guest_dir
    results = {}
    # pvmfw.bin under -bios, as the figures have always been measured (no
    # hypervisor: `pvm run` boots through one unless told otherwise).
    pvm_run = [args.pvm, "run", "--no-hypervisor", "--icount", "--firmware", args.firmware]
    with tempfile.TemporaryDirectory(prefix="pvm-bench-") as tmp:
        def sign(src, dst):
            code, out = run([args.pvm, "sign", "--key", args.key, "--algorithm", "SHA256_RSA4096",
                             "--partition", "boot", "--image", src, "--output", dst,
                             "--salt", "00" * 32])
            if code != 0:
                raise SystemExit("bench: pvm sign failed:\n" + out)

        def boot(kernel, extra=()):
            code, out = run([*pvm_run, "--kernel", kernel, *extra])
            if code != 0:
                raise SystemExit("bench: boot failed:\n" + out)
            return out

        # 1. Hashing cost per payload byte: the same test payload, 16 MiB larger.
        hello = open(args.hello, "rb").read()
        small, big = os.path.join(tmp, "small"), os.path.join(tmp, "big")
        open(small, "wb").write(hello)
        pad = 16 << 20
        open(big, "wb").write(hello + bytes((i * 131 + 7) & 0xff for i in range(256)) * (pad // 256))
        sign(small, small + ".signed")
        sign(big, big + ".signed")
        goal = ["--no-initrd", "--expect", "payload: done"]
        i_small = handoff_insns(boot(small + ".signed", goal))
        i_big = handoff_insns(boot(big + ".signed", goal))
        results["pvmfw_insns_small_payload"] = i_small
        results["hash_insns_per_byte"] = round((i_big - i_small) / pad, 3)

        # 2. The whole job on the Debian kernel + busybox initramfs (pvm signs both).
        keep = os.path.join(tmp, "keep")
        os.makedirs(keep)
        out = run([*pvm_run, "--sign-key", args.key, "--keep-dir", keep], timeout=600)[1]
        results["pvmfw_insns_debian_kernel"] = handoff_insns(out)
        ticks = phase_ticks(out)
        results["heap_size_bytes"] = heap_bytes(out)
        results["run_init_ms_through_pvmfw"] = run_init_ms(out)
        kernel_size = re.search(r"pvm: kernel 0x[0-9a-f]+ \((\d+) bytes", out)
        initrd = re.search(r"initrd (0x[0-9a-f]+)-(0x[0-9a-f]+)", out)
        results["debian_payload_bytes"] = (
            (int(kernel_size.group(1)) if kernel_size else 0) +
            (int(initrd.group(2), 16) - int(initrd.group(1), 16) if initrd else 0))
        hashing = results["hash_insns_per_byte"] * results["debian_payload_bytes"]
        results["pvmfw_fixed_insns_debian_kernel"] = round(results["pvmfw_insns_debian_kernel"] - hashing)
        if ticks:
            t = {k: v * TICK_INSNS for k, v in ticks.items()}
            results["phase_insns"] = {
                "setup": t["verify"],
                "verify": t["verified"] - t["verify"],
                "dice": t["rebuild"] - t["dice"],
                "rebuild": t["rebuilt"] - t["rebuild"],
                "handoff": results["pvmfw_insns_debian_kernel"] - t["rebuilt"]
                           + (t["dice"] - t["verified"]),
            }
            results["rsa_and_avb_insns"] = round(results["phase_insns"]["verify"] - hashing)

        # 3. The same job through the hypervisor: hyp.bin verifies pvmfw.img,
        # runs the DICE stage below pvmfw, loads the VM, enters pvmfw.
        code, out = run([args.pvm, "run", "--icount", "--hypervisor", args.hypervisor,
                         "--pvmfw-img", args.pvmfw_img, "--sign-key", args.key], timeout=600)
        if code != 0:
            raise SystemExit("bench: protected boot failed:\n" + out)
        results["hyp_pvmfw_insns_debian_kernel"] = handoff_insns(out)
        results["hyp_added_insns"] = (results["hyp_pvmfw_insns_debian_kernel"]
                                      - results["pvmfw_insns_debian_kernel"])
        hp = hyp_phase_ticks(out)
        entry = hyp_entry_insns(out)
        if hp and entry:
            t = {k: v * TICK_INSNS for k, v in hp.items()}
            results["hyp_phase_insns"] = {"setup": t["verify"], "verify": t["dice"] - t["verify"],
                                          "dice": t["load"] - t["dice"], "load": entry - t["load"]}

        # 4. The same kernel and initramfs booted by QEMU directly (-kernel).
        kernels = sorted(glob.glob(os.path.join(args.guest_dir, "boot/vmlinuz-*-cloud-arm64")))
        initrd = os.path.join(keep, "initramfs.cpio.gz")
        code, direct = run(QEMU + ["-kernel", kernels[-1], "-initrd", initrd,
                                   "-append", "console=ttyAMA0 panic=-1"], timeout=600)
        results["run_init_ms_direct_kernel"] = run_init_ms(direct)

    # 4. Size and writable RAM.
    results["pvmfw_bin_bytes"] = os.path.getsize(args.firmware)
    results["hyp_bin_bytes"] = os.path.getsize(args.hypervisor)
    results["image_sha256"] = {
        name: hashlib.sha256(open(path, "rb").read()).hexdigest()
        for name, path in (("pvmfw.bin", args.firmware), ("pvmfw.img", args.pvmfw_img),
                           ("hyp.bin", args.hypervisor))}
    results["writable_ram_bytes"] = symbol(args.elf, "__scratch_end") - symbol(args.elf, "__scratch_start")

    r = results
    if args.json:
        json.dump(r, sys.stdout, indent=1, sort_keys=True)
        print()
        return 0
    ratio = (r["run_init_ms_through_pvmfw"] / r["run_init_ms_direct_kernel"]
             if r["run_init_ms_through_pvmfw"] and r["run_init_ms_direct_kernel"] else None)
    ph = r.get("phase_insns") or {}
    hph = r.get("hyp_phase_insns") or {}
    rows = [
        ("pvmfw's job on the Debian kernel (guest instructions)",
         f"{r['pvmfw_insns_debian_kernel'] / 1e6:.2f} M", "<= 52 M"),
        ("  payload hashed (kernel partition + initramfs)",
         f"{(r['debian_payload_bytes'] or 0) / 1e6:.1f} MB", ""),
        ("  everything but hashing", f"{r['pvmfw_fixed_insns_debian_kernel'] / 1e6:.2f} M", "<= 8 M"),
        ("    set-up: MMU, console, DT read + validate, hypervisor",
         f"{ph.get('setup', 0) / 1e6:.2f} M", ""),
        ("    AVB parsing + RSA-4096 (verify phase minus hashing)",
         f"{(r.get('rsa_and_avb_insns') or 0) / 1e6:.2f} M", ""),
        ("    DICE: derivation, key pairs, ECDSA P-256 certificate",
         f"{ph.get('dice', 0) / 1e6:.2f} M", ""),
        ("    device-tree rebuild", f"{ph.get('rebuild', 0) / 1e6:.2f} M", ""),
        ("    hand-off: grants, report, wipe", f"{ph.get('handoff', 0) / 1e6:.2f} M", ""),
        ("  small test payload, reset to hand-off", f"{r['pvmfw_insns_small_payload'] / 1e6:.2f} M", ""),
        ("SHA-256 over the payload (instructions per byte)", f"{r['hash_insns_per_byte']}",
         "1.56 with Armv8 SHA"),
        ("Linux 'Run /init', through pvmfw (kernel clock, virtual ms)",
         f"{r['run_init_ms_through_pvmfw']:.1f}", ""),
        ("Linux 'Run /init', QEMU -kernel directly (virtual ms)",
         f"{r['run_init_ms_direct_kernel']:.1f}", ""),
        ("  ratio (the kernel clock starts after pvmfw ran)", f"{ratio:.3f}" if ratio else "n/a", ""),
        ("hypervisor + pvmfw on the Debian kernel (guest instructions)",
         f"{(r.get('hyp_pvmfw_insns_debian_kernel') or 0) / 1e6:.2f} M", ""),
        ("  added by the hypervisor", f"{(r.get('hyp_added_insns') or 0) / 1e6:.2f} M", "<= 2 M"),
        ("    its set-up (MMU, fw_cfg, launch checks)", f"{hph.get('setup', 0) / 1e6:.2f} M", ""),
        ("    verifying pvmfw.img (hash + RSA-4096)", f"{hph.get('verify', 0) / 1e6:.2f} M", ""),
        ("    DICE stage below pvmfw (root key, pvmfw's key pair, ES256 cert)",
         f"{hph.get('dice', 0) / 1e6:.2f} M", ""),
        ("    loading the VM, stage 2, entry", f"{hph.get('load', 0) / 1e6:.2f} M", ""),
        ("pvmfw.bin size", f"{r['pvmfw_bin_bytes'] / 1024:.1f} KiB", "<= 160 KiB"),
        ("hyp.bin size", f"{r['hyp_bin_bytes'] / 1024:.1f} KiB", ""),
        ("writable RAM (data, bss, heap, stacks, page tables)",
         f"{r['writable_ram_bytes'] / 1024:.1f} KiB", "<= 256 KiB"),
        ("  of which the static mbedTLS heap", f"{(r['heap_size_bytes'] or 0) / 1024:.1f} KiB", ""),
    ]
    w = max(len(a) for a, _, _ in rows)
    print(f"{'measure'.ljust(w)}  {'value':>12}  target")
    for a, b, c in rows:
        print(f"{a.ljust(w)}  {b:>12}  {c}")
    print("images measured (SHA-256; bit-identical from any clean build):")
    for name, digest in r["image_sha256"].items():
        print(f"  {name:<10} {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

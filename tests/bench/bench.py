#!/usr/bin/env python3
"""./pvm bench: pvmfw's speed and size figures (docs/performance.md), measured
deterministically.

Every boot runs under QEMU -icount shift=0,sleep=off -seed 1 (pvm run --icount):
one guest instruction is one nanosecond of virtual time, and one tick of the
62.5 MHz virtual counter is 16 instructions. pvmfw prints the counter at the
hand-off ("hand-off at counter tick N"); the demo initramfs's counter probe
prints it when /init starts ("reached /init at counter tick N"), so every
path is timed from reset, firmware included.

usage: bench.py --pvm PVM --firmware PVMFW.bin --elf PVMFW.elf --hello HELLO.bin
                --key KEY.pem --guest-dir DIR --hypervisor HYP.bin --pvmfw-img PVMFW.img
                [--peers] [--plot FILE.svg] [--json]

--peers also boots the same kernel and initramfs through U-Boot and EDK2
(tests/bench/peers.py) and writes the plot (tests/bench/plot.py; default
pvm-bench.svg in the current folder). --json prints one JSON object instead
of the table. Its field names are stable (add, never rename): see FIELDS.
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

import peers
import plot

TICK_INSNS = peers.TICK_INSNS  # instructions per counter tick (62.5 MHz, -icount shift=0)
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
    "hash_insns_per_byte": "the least-squares slope of hand-off over payload bytes (scaling)",
    "debian_payload_bytes": "kernel partition + initramfs bytes pvmfw hashed",
    "phase_insns": "Debian boot: {setup, verify, dice, rebuild, handoff} instructions",
    "rsa_and_avb_insns": "verify phase minus hashing: vbmeta parsing and the RSA-4096 check",
    "heap_size_bytes": "the static mbedTLS heap",
    "run_init_ms_through_pvmfw": "Linux printk time of 'Run /init' through pvmfw (kernel clock, "
                                 "which starts after the firmware ran: see paths for reset)",
    "run_init_ms_direct_kernel": "the same with QEMU -kernel",
    "pvmfw_bin_bytes": "size of pvmfw.bin",
    "writable_ram_bytes": "pvmfw's writable RAM: data, bss (heap included), stacks, page tables",
    "hyp_pvmfw_insns_debian_kernel": "hypervisor + pvmfw: reset to the kernel's first instruction, Debian kernel",
    "hyp_added_insns": "hyp_pvmfw_insns_debian_kernel minus pvmfw_insns_debian_kernel",
    "hyp_phase_insns": "the hypervisor before pvmfw: {setup, verify, dice, load} instructions",
    "hyp_bin_bytes": "size of hyp.bin",
    "image_sha256": "{pvmfw.bin, pvmfw.img, hyp.bin}: SHA-256 of each image measured (reproducible)",
    "scaling": "[{payload_bytes, handoff_insns}]: the test payload padded to 1, 8 and 32 MiB",
    "scaling_fixed_insns": "the least-squares line's intercept: pvmfw's cost for an empty payload",
    "scaling_max_residual_insns": "the largest distance of a scaling point from that line",
    "paths": "{direct, u-boot, edk2, pvmfw, hyp+pvmfw}: {name, init_insns, init_ms, "
             "vs_direct, firmware_insns, firmware_from, verifies, segments}; u-boot and "
             "edk2 with --peers only",
    "kernel_version": "the guest kernel, as it reports itself ('Linux version ...')",
    "qemu_version": "qemu-system-aarch64 --version, first line",
    "plot_file": "the SVG written (--peers), or null",
}


# The bench's VM instance id (64 bytes; any fixed value).
BENCH_INSTANCE_ID = hashlib.sha512(b"pvm bench instance").hexdigest()


def run_init_ms(out):
    m = re.search(r"\[\s*(\d+\.\d+)\] Run /init", out)
    return float(m.group(1)) * 1000 if m else None


def kernel_version(out):
    m = re.search(r"\] (Linux version \S+ .*?)\r?$", out, re.M)
    return m.group(1) if m else None


def symbol(elf, name):
    nm = subprocess.run(["llvm-nm-19", elf], stdout=subprocess.PIPE, text=True).stdout
    for line in nm.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == name:
            return int(parts[0], 16)
    raise SystemExit(f"bench: no symbol {name} in {elf}")


def least_squares(points):
    """(slope, intercept, largest residual) of y over x."""
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    slope = (sum((x - mx) * (y - my) for x, y in points)
             / sum((x - mx) ** 2 for x, _ in points))
    intercept = my - slope * mx
    return slope, intercept, max(abs(y - (slope * x + intercept)) for x, y in points)


def firmware_segments(total, hashing, phases, hyp=None):
    """What ran before the kernel, as plot segments that add up to `total`:
    the hypervisor's phases (if any), then pvmfw's hashing, AVB + RSA, DICE,
    DT rebuild, and the rest."""
    segs = []
    if hyp:
        segs += [("hyp_verify", hyp["verify"]), ("hyp_dice", hyp["dice"])]
    segs += [("hashing", round(hashing)), ("rsa", round(phases["verify"] - hashing)),
             ("dice", phases["dice"]), ("dt", phases["rebuild"])]
    rest = total - sum(v for _, v in segs)
    if hyp:
        hyp_rest = hyp["setup"] + hyp["load"]
        segs.append(("hyp_rest", hyp_rest))
        rest -= hyp_rest
    segs.append(("rest", rest))
    return segs


def pvmfw_phase_insns(out, handoff):
    """pvmfw's phases from its own marks: {setup, verify, dice, rebuild, handoff}."""
    ticks = phase_ticks(out)
    if not ticks:
        return None
    t = {k: v * TICK_INSNS for k, v in ticks.items()}
    return {
        "setup": t["verify"] - t["start"],
        "verify": t["verified"] - t["verify"],
        "dice": t["rebuild"] - t["dice"],
        "rebuild": t["rebuilt"] - t["rebuild"],
        "handoff": handoff - t["rebuilt"] + (t["dice"] - t["verified"]),
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    for a in ("--pvm", "--firmware", "--elf", "--hello", "--key", "--guest-dir", "--hypervisor",
              "--pvmfw-img"):
        ap.add_argument(a, required=True)
    ap.add_argument("--json", action="store_true", help="print JSON instead of the table")
    ap.add_argument("--peers", action="store_true",
                    help="also boot through U-Boot and EDK2, and write the plot")
    ap.add_argument("--plot", default="pvm-bench.svg",
                    help="with --peers: the SVG to write (default: pvm-bench.svg)")
    args = ap.parse_args()
    if args.peers and peers.missing():
        raise SystemExit("bench: --peers needs Debian's " + ", ".join(peers.missing())
                         + " (./pvm bench --peers installs them)")
    # pvm run finds busybox (the demo initramfs) and the kernel through it.
    os.environ["PVM_GUEST_DIR"] = args.guest_dir
    # A state folder of the bench's own with a fixed device secret: the DICE
    # inputs, hence the figures, do not depend on this machine's secret.
    state = tempfile.TemporaryDirectory(prefix="pvm-bench-state-")
    os.environ["PVM_STATE"] = state.name
    secret = os.path.join(state.name, "device-secret")
    with open(os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
        f.write(hashlib.sha256(b"pvm bench: not a secret").digest())
    results = {}
    paths = {}
    # pvmfw.bin under -bios, as the figures have always been measured (no
    # hypervisor: `pvm run` boots through one unless told otherwise).
    pvm_run = [args.pvm, "run", "--no-hypervisor", "--icount", "--firmware", args.firmware]
    cmdline = "console=ttyAMA0 panic=-1"  # pvm run's default, given to every path
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

        # 1. Scaling: the bare-metal test payload, alone and padded with a
        # fixed pattern to 1, 8 and 32 MiB. The hand-off over the payload's
        # size is a line: its slope is the hash cost per byte, its intercept
        # pvmfw's fixed cost.
        hello = open(args.hello, "rb").read()
        goal = ["--no-initrd", "--expect", "payload: done", "--instance-id", BENCH_INSTANCE_ID]
        pattern = bytes((i * 131 + 7) & 0xff for i in range(256))
        points = []
        for mib in (0, 1, 8, 32):
            image = os.path.join(tmp, f"payload-{mib}")
            size = max(len(hello), mib << 20)
            pad = size - len(hello)
            with open(image, "wb") as f:
                f.write(hello + pattern * (pad // 256) + pattern[:pad % 256])
            sign(image, image + ".signed")
            insns = handoff_insns(boot(image + ".signed", goal))
            if mib == 0:
                results["pvmfw_insns_small_payload"] = insns
            else:
                points.append((size, insns))
        slope, intercept, residual = least_squares(points)
        results["scaling"] = [{"payload_bytes": x, "handoff_insns": y} for x, y in points]
        results["hash_insns_per_byte"] = round(slope, 3)
        results["scaling_fixed_insns"] = round(intercept)
        results["scaling_max_residual_insns"] = round(residual)

        # 2. The whole job on the Debian kernel + busybox initramfs. A first
        # boot only writes the demo initramfs; the kernel is then signed
        # with fixed salts (pvm run's would be random), so that with the
        # fixed device secret and instance id every figure repeats bit for
        # bit, on any machine.
        keep = os.path.join(tmp, "keep")
        os.makedirs(keep)
        code, out = run([*pvm_run, "--sign-key", args.key, "--keep-dir", keep], timeout=600)
        if code != 0:
            raise SystemExit("bench: the Debian boot through pvmfw failed:\n" + out)
        kernels = sorted(glob.glob(os.path.join(args.guest_dir, "boot/vmlinuz-*-cloud-arm64")))
        initramfs = os.path.join(keep, "initramfs.cpio.gz")
        signed = os.path.join(tmp, "kernel.signed")
        code, log = run([args.pvm, "sign", "--key", args.key, "--algorithm", "SHA256_RSA4096",
                         "--partition", "boot", "--image", kernels[-1], "--output", signed,
                         "--salt", "00" * 32, "--hash-image", "initrd_normal=" + initramfs,
                         "--hash-salt", "initrd_normal=" + "00" * 32])
        if code != 0:
            raise SystemExit("bench: pvm sign failed:\n" + log)
        debian = ["--kernel", signed, "--initrd", initramfs, "--instance-id", BENCH_INSTANCE_ID]
        code, out = run([*pvm_run, *debian], timeout=600)
        if code != 0:
            raise SystemExit("bench: the Debian boot through pvmfw failed:\n" + out)
        results["kernel_version"] = kernel_version(out)
        results["pvmfw_insns_debian_kernel"] = handoff_insns(out)
        results["heap_size_bytes"] = heap_bytes(out)
        results["run_init_ms_through_pvmfw"] = run_init_ms(out)
        kernel_size = re.search(r"pvm: kernel 0x[0-9a-f]+ \((\d+) bytes", out)
        initrd = re.search(r"initrd (0x[0-9a-f]+)-(0x[0-9a-f]+)", out)
        results["debian_payload_bytes"] = (
            (int(kernel_size.group(1)) if kernel_size else 0) +
            (int(initrd.group(2), 16) - int(initrd.group(1), 16) if initrd else 0))
        hashing = results["hash_insns_per_byte"] * results["debian_payload_bytes"]
        results["pvmfw_fixed_insns_debian_kernel"] = round(results["pvmfw_insns_debian_kernel"] - hashing)
        phases = pvmfw_phase_insns(out, results["pvmfw_insns_debian_kernel"])
        if phases:
            # Reset to pvmfw's first mark counts as set-up (pvmfw runs from reset).
            phases["setup"] += phase_ticks(out)["start"] * TICK_INSNS
            results["phase_insns"] = phases
            results["rsa_and_avb_insns"] = round(phases["verify"] - hashing)
        paths["pvmfw"] = {
            "name": "pvmfw alone (-bios pvmfw.bin, unprotected)",
            "init_insns": peers.probe_insns(out),
            "firmware_insns": results["pvmfw_insns_debian_kernel"],
            "firmware_from": "pvmfw's hand-off tick",
            "verifies": "kernel + initramfs (AVB, RSA-4096), DICE-measured",
            "segments": firmware_segments(results["pvmfw_insns_debian_kernel"], hashing,
                                          phases) if phases else [],
        }
        # Every other path boots that kernel and the very initramfs bytes.

        # 3. The same job through the hypervisor: hyp.bin verifies pvmfw.img,
        # runs the DICE stage below pvmfw, loads the VM, enters pvmfw.
        code, out = run([args.pvm, "run", "--icount", "--hypervisor", args.hypervisor,
                         "--pvmfw-img", args.pvmfw_img, *debian], timeout=600)
        if code != 0:
            raise SystemExit("bench: protected boot failed:\n" + out)
        results["hyp_pvmfw_insns_debian_kernel"] = handoff_insns(out)
        results["hyp_added_insns"] = (results["hyp_pvmfw_insns_debian_kernel"]
                                      - results["pvmfw_insns_debian_kernel"])
        hp = hyp_phase_ticks(out)
        entry = hyp_entry_insns(out)
        hyp_phases = None
        if hp and entry:
            t = {k: v * TICK_INSNS for k, v in hp.items()}
            hyp_phases = {"setup": t["verify"], "verify": t["dice"] - t["verify"],
                          "dice": t["load"] - t["dice"], "load": entry - t["load"]}
            results["hyp_phase_insns"] = hyp_phases
        hyp_pvmfw_phases = pvmfw_phase_insns(out, results["hyp_pvmfw_insns_debian_kernel"])
        paths["hyp+pvmfw"] = {
            "name": "hypervisor + pvmfw (protected VM)",
            "init_insns": peers.probe_insns(out),
            "firmware_insns": results["hyp_pvmfw_insns_debian_kernel"],
            "firmware_from": "pvmfw's hand-off tick",
            "verifies": "pvmfw.img, then kernel + initramfs; DICE-measured",
            "segments": firmware_segments(results["hyp_pvmfw_insns_debian_kernel"], hashing,
                                          hyp_pvmfw_phases, hyp_phases)
                        if hyp_pvmfw_phases and hyp_phases else [],
        }

        # 4. The same kernel and initramfs by QEMU directly (-kernel), and
        # with --peers through U-Boot and EDK2: same QEMU options as pvm run.
        for key, name, argv, verifies in peers.peer_paths(QEMU, kernels[-1], initramfs, cmdline,
                                                          tmp, firmware=args.peers):
            code, out = run(argv, timeout=600)
            init = peers.probe_insns(out)
            if init is None:
                raise SystemExit(f"bench: {name} did not reach /init:\n" + out[-4000:])
            paths[key] = {"name": name, "init_insns": init, "verifies": verifies}
            if key == "direct":
                results["run_init_ms_direct_kernel"] = run_init_ms(out)
                paths[key].update(firmware_insns=0,
                                  firmware_from="none: QEMU's own boot stub, a few instructions")
            else:
                paths[key].update(firmware_insns=init - paths["direct"]["init_insns"],
                                  firmware_from="difference to direct -kernel",
                                  segments=[("firmware", init - paths["direct"]["init_insns"])])
    direct = paths["direct"]["init_insns"]
    order = ["direct", "u-boot", "edk2", "pvmfw", "hyp+pvmfw"]
    results["paths"] = {}
    for key in order:
        if key not in paths:
            continue
        p = paths[key]
        p["init_ms"] = round(p["init_insns"] / 1e6, 3)
        p["vs_direct"] = round(p["init_insns"] / direct, 4)
        p.setdefault("segments", [])
        p["segments"] = {k: v for k, v in p["segments"]}
        results["paths"][key] = p
    results["qemu_version"] = subprocess.run([QEMU[0], "--version"], stdout=subprocess.PIPE,
                                             text=True).stdout.splitlines()[0]

    # 5. Size and writable RAM.
    results["pvmfw_bin_bytes"] = os.path.getsize(args.firmware)
    results["hyp_bin_bytes"] = os.path.getsize(args.hypervisor)
    results["image_sha256"] = {
        name: hashlib.sha256(open(path, "rb").read()).hexdigest()
        for name, path in (("pvmfw.bin", args.firmware), ("pvmfw.img", args.pvmfw_img),
                           ("hyp.bin", args.hypervisor))}
    results["writable_ram_bytes"] = symbol(args.elf, "__scratch_end") - symbol(args.elf, "__scratch_start")

    # 6. The plot.
    results["plot_file"] = None
    if args.peers:
        time_bars, firmware_bars, zoom_bars = [], [], []
        for key, p in results["paths"].items():
            label = {"direct": "direct -kernel", "u-boot": "U-Boot", "edk2": "EDK2",
                     "pvmfw": "pvmfw (-bios)", "hyp+pvmfw": "hypervisor + pvmfw"}[key]
            fw = list(p["segments"].items())
            kernel = p["init_insns"] - p["firmware_insns"]
            time_bars.append((label, fw + [("kernel", kernel)],
                              f"{p['init_ms']:.1f} ms, {p['vs_direct']:.3f}x"))
            verified = not p["verifies"].startswith("nothing")
            firmware_bars.append((label, fw, f"{p['firmware_insns'] / 1e6:.2f} M"
                                  + ("" if key == "direct" else
                                     " (verified)" if verified else " (verifies nothing)")))
            if verified:
                zoom_bars.append(firmware_bars[-1])
        kernel = re.match(r"Linux version (\S+).*?(#\d+ .*)?$", results["kernel_version"] or "")
        plot.write_svg(args.plot, "pvm bench --peers: the same kernel and initramfs, five boot paths",
                       (f"Linux {kernel.group(1)} ({kernel.group(2) or ''})" if kernel else "Linux ?")
                       + f"\n{results['qemu_version']}, -icount shift=0: 1 instruction = 1 ns",
                       time_bars, firmware_bars, zoom_bars)
        results["plot_file"] = args.plot

    r = results
    if args.json:
        json.dump(r, sys.stdout, indent=1, sort_keys=True)
        print()
        return 0
    print_report(r)
    return 0


def print_report(r):
    ph = r.get("phase_insns") or {}
    hph = r.get("hyp_phase_insns") or {}
    paths = r["paths"]
    ratio = paths["pvmfw"]["vs_direct"]
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
        ("    hand-off: grants, report (the wipe in jump.S comes after the mark)",
         f"{ph.get('handoff', 0) / 1e3:.1f} k", ""),
        ("  small test payload, reset to hand-off", f"{r['pvmfw_insns_small_payload'] / 1e6:.2f} M", ""),
        ("SHA-256 over the payload (instructions per byte)", f"{r['hash_insns_per_byte']}",
         "1.56 with Armv8 SHA"),
        ("  fixed part (the scaling line at 0 bytes)", f"{r['scaling_fixed_insns'] / 1e6:.2f} M", ""),
        ("reset to Linux /init through pvmfw (virtual ms)", f"{paths['pvmfw']['init_ms']:.1f}", ""),
        ("reset to Linux /init, QEMU -kernel directly (virtual ms)",
         f"{paths['direct']['init_ms']:.1f}", ""),
        ("  ratio", f"{ratio:.3f}", "<= 1.04"),
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

    print()
    print("scaling: the test payload padded, reset to pvmfw's hand-off")
    for p in r["scaling"]:
        print(f"  {p['payload_bytes'] / (1 << 20):5.1f} MiB  {p['handoff_insns'] / 1e6:8.2f} M")
    print(f"  line: {r['scaling_fixed_insns'] / 1e6:.2f} M + {r['hash_insns_per_byte']} x bytes"
          f" (largest residual {r['scaling_max_residual_insns'] / 1e3:.1f} k)")

    print()
    print("boot paths: the same kernel, initramfs and command line, QEMU virt with the same"
          " options, timed from reset:")
    head = ("path", "reset to /init", "x direct", "before the kernel", "verifies")
    table = [head]
    for p in paths.values():
        fw = f"{p['firmware_insns'] / 1e6:.2f} M"
        if p["firmware_from"].startswith("difference"):
            fw += " (diff.)"
        table.append((p["name"], f"{p['init_ms']:.1f} ms", f"{p['vs_direct']:.3f}", fw,
                      p["verifies"]))
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    for row in table:
        print("  " + "  ".join(c.ljust(widths[i]) if i in (0, 4) else c.rjust(widths[i])
                               for i, c in enumerate(row)).rstrip())
    print("  (before the kernel: guest instructions until the kernel's first instruction;"
          " 'diff.' = reset to /init minus direct's)")
    if "hyp+pvmfw" in paths:
        print("  (hypervisor + pvmfw adds virtualization=on and the hypervisor's 16 MiB above the"
              " VM's 1024 MiB)")
    if "pvmfw" in paths:
        k_pvmfw = paths["pvmfw"]["init_insns"] - paths["pvmfw"]["firmware_insns"]
        print(f"  (the kernel's own part, first instruction to /init: {k_pvmfw / 1e6:.1f} ms after"
              f" pvmfw, {paths['direct']['init_insns'] / 1e6:.1f} ms direct: it depends on the"
              " tree it is given)")
    print(f"  kernel: {r['kernel_version']}")
    print(f"  QEMU:   {r['qemu_version']}")
    if r["plot_file"]:
        print(f"  plot:   {r['plot_file']}")
    print("images measured (SHA-256; bit-identical from any clean build):")
    for name, digest in r["image_sha256"].items():
        print(f"  {name:<10} {digest}")


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The tree pvmfw hands the guest is `pvm fdt sanitize`'s, byte for byte.

usage: firmware_tree_test.py --pvm PVM --firmware PVMFW.bin --hello HELLO.bin
                             --key KEY.pem --fdtget FDTGET

Boots the test payload (tests/payloads/hello.S, signed with KEY) through
pvmfw with `pvm run --dt-out IN.dtb`, QEMU stopped (not exited) at the
payload's power-off; saves pvmfw's DT window over QMP (pmemsave) and takes
the tree at its start: the one pvmfw rebuilt and handed over. Then runs
`pvm fdt sanitize IN.dtb OUT.dtb` with the kaslr-seed and rng-seed pvmfw
drew from its entropy source (read from the handed-over tree; the one thing
the host cannot know) and requires OUT.dtb to equal it byte for byte; and,
without the seeds, to differ from it (the seeds are there, and they are the
difference fdt/tests/sanitize_test.cc pins down).

Runs with a fresh state folder (PVM_STATE). Exit 0 ok, 1 failed.
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "qemu"))
import qmp  # noqa: E402  (tests/qemu/qmp.py)

DT_BASE = 0x40000000      # boards/qemu-virt: BOARD_DT_BASE
DT_MAX_SIZE = 0x200000    # BOARD_DT_MAX_SIZE
INSTANCE = bytes(range(64)).hex()


def fdtget_hex(fdtget, dtb, prop):
    """/chosen/PROP of DTB as hex text, or None when it is absent."""
    r = subprocess.run([fdtget, "-t", "bx", dtb, "/chosen", prop], capture_output=True, text=True)
    if r.returncode != 0:
        return None
    return "".join(f"{int(b, 16):02x}" for b in r.stdout.split())


def main():
    ap = argparse.ArgumentParser()
    for name in ("--pvm", "--firmware", "--hello", "--key", "--fdtget"):
        ap.add_argument(name, required=True)
    a = ap.parse_args()
    failures = []

    with tempfile.TemporaryDirectory(prefix="pvm-fwtree-") as tmp:
        env = dict(os.environ, PVM_STATE=os.path.join(tmp, "state"))
        path = lambda name: os.path.join(tmp, name)  # noqa: E731

        def pvm(*words):
            return subprocess.run([a.pvm, *words], capture_output=True, text=True, env=env,
                                  timeout=120)

        signed = path("hello.signed")
        r = pvm("sign", "--key", a.key, "--algorithm", "SHA256_RSA4096", "--partition", "boot",
                "--image", a.hello, "--output", signed, "--salt", "11" * 32)
        if r.returncode != 0:
            print(f"FAIL: pvm sign: {r.stdout}{r.stderr}")
            return 1

        vm_dtb, sock, dump = path("vm.dtb"), path("qmp.sock"), path("dt-window.bin")
        words = ["run", "--no-hypervisor", "--firmware", a.firmware, "--kernel", signed, "--no-initrd",
                 "--instance-id", INSTANCE, "--timeout", "60", "--expect", "payload: done",
                 "--dt-out", vm_dtb,
                 "--", "-no-shutdown", "-qmp", f"unix:{sock},server=on,wait=on"]
        proc = subprocess.Popen([a.pvm, *words], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, env=env)
        deadline = time.time() + 60
        s, _, command, _ = qmp.connect(sock, deadline)
        # The payload powers off at its end; with -no-shutdown QEMU stops there.
        while command("query-status")["status"] != "shutdown":
            if time.time() > deadline:
                command("quit")
                out, _ = proc.communicate(timeout=60)
                print(f"FAIL: the guest never powered off:\n{out}")
                return 1
            time.sleep(0.05)
        command("pmemsave", val=DT_BASE, size=DT_MAX_SIZE, filename=dump)
        command("quit")
        s.close()
        out, _ = proc.communicate(timeout=60)
        if proc.returncode != 0 or "pvmfw: device tree rebuilt from the template" not in out:
            print(f"FAIL: pvm run: exit {proc.returncode}:\n{out}")
            return 1

        window = open(dump, "rb").read()
        if window[:4] != b"\xd0\x0d\xfe\xed":
            print("FAIL: no device tree at the start of the DT window after the boot")
            return 1
        handed_over = window[:int.from_bytes(window[4:8], "big")]
        fw_dtb = path("firmware.dtb")
        with open(fw_dtb, "wb") as f:
            f.write(handed_over)

        kaslr = fdtget_hex(a.fdtget, fw_dtb, "kaslr-seed")
        rng = fdtget_hex(a.fdtget, fw_dtb, "rng-seed")
        if kaslr is None or rng is None:
            failures.append("the handed-over tree has no kaslr-seed or rng-seed: "
                            "pvmfw had no entropy, the comparison would prove less")
        seeds = []
        if kaslr is not None:
            seeds += ["--kaslr-seed", kaslr]
        if rng is not None:
            seeds += ["--rng-seed", rng]

        cli_dtb = path("sanitized.dtb")
        r = pvm("fdt", "sanitize", vm_dtb, cli_dtb, *seeds)
        if r.returncode != 0:
            failures.append(f"pvm fdt sanitize: exit {r.returncode}: {r.stderr.strip()}")
        else:
            cli = open(cli_dtb, "rb").read()
            if cli != handed_over:
                first = next((i for i, (x, y) in enumerate(zip(cli, handed_over)) if x != y),
                             min(len(cli), len(handed_over)))
                failures.append(f"`pvm fdt sanitize` wrote {len(cli)} bytes, pvmfw handed over "
                                f"{len(handed_over)}; first difference at byte {first}")

        plain_dtb = path("plain.dtb")
        r = pvm("fdt", "sanitize", vm_dtb, plain_dtb)
        if r.returncode != 0 or open(plain_dtb, "rb").read() == handed_over:
            failures.append("without the seeds, `pvm fdt sanitize` should refuse nothing and "
                            "differ from pvmfw's tree (by the seeds)")

    for f in failures:
        print("FAIL:", f)
    if not failures:
        print(f"ok: pvmfw handed over {len(handed_over)} bytes, `pvm fdt sanitize` with its seeds "
              "wrote the same")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

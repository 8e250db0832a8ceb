#!/usr/bin/env python3
"""The firmware images are bit-identical from two clean builds in two folders:
their hashes are what DICE measures and what verifiers predict.

usage: reproducible_build.py --source DIR --fw-build DIR --sysroot DIR --deps-src DIR
                             --pvm PVM --pvmfw-img IMG --platform-key KEY.pem --salt HEX

Configures a second firmware build in a fresh temporary folder (a different
path, as another machine would have), builds pvmfw.bin and hyp.bin there,
and compares them byte for byte with the build's own; then signs the second
pvmfw.bin as the build signs pvmfw.img (hypervisor/image/meson.build) and
compares that too. Prints each image's SHA-256.
"""
import argparse
import hashlib
import os
import subprocess
import sys
import tempfile

IMAGES = ["entry/pvmfw.bin", "hypervisor/el2/hyp.bin"]


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def main() -> int:
    ap = argparse.ArgumentParser()
    for a in ["--source", "--fw-build", "--sysroot", "--deps-src", "--pvm", "--pvmfw-img",
              "--platform-key", "--salt"]:
        ap.add_argument(a, required=True)
    a = ap.parse_args()
    failures = 0
    with tempfile.TemporaryDirectory(prefix="pvm-repro-") as tmp:
        build = os.path.join(tmp, "second-fw-build")
        setup = ["meson", "setup", build, a.source,
                 "--cross-file", os.path.join(a.source, "scripts/cross-aarch64.ini"),
                 "-Doptimization=s", f"-Darm64-sysroot={a.sysroot}", f"-Ddeps-src={a.deps_src}"]
        r = subprocess.run(setup, capture_output=True, text=True)
        if r.returncode != 0:
            print(f"FAIL: meson setup: {r.stdout}{r.stderr}")
            return 1
        r = subprocess.run(["ninja", "-C", build, *IMAGES], capture_output=True, text=True)
        if r.returncode != 0:
            print(f"FAIL: ninja: {r.stdout[-4000:]}{r.stderr[-2000:]}")
            return 1
        for img in IMAGES:
            one, two = os.path.join(a.fw_build, img), os.path.join(build, img)
            same = open(one, "rb").read() == open(two, "rb").read()
            print(f"{'ok' if same else 'FAIL'}: {img} sha256 {sha(one)}"
                  + ("" if same else f" vs {sha(two)} from the second build"))
            failures += not same
        img2 = os.path.join(tmp, "pvmfw.img")
        r = subprocess.run([a.pvm, "sign", "--partition", "pvmfw", "--algorithm", "SHA256_RSA4096",
                            "--key", a.platform_key, "--salt", a.salt, "--image",
                            os.path.join(build, "entry/pvmfw.bin"), "--output", img2],
                           capture_output=True, text=True)
        if r.returncode != 0:
            print(f"FAIL: pvm sign: {r.stdout}{r.stderr}")
            return 1
        same = open(a.pvmfw_img, "rb").read() == open(img2, "rb").read()
        print(f"{'ok' if same else 'FAIL'}: pvmfw.img sha256 {sha(a.pvmfw_img)}"
              + ("" if same else f" vs {sha(img2)}"))
        failures += not same
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

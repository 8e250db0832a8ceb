#!/usr/bin/env python3
"""The hostile device-tree corpus through the `pvm` binary itself.

usage: sanitize_test.py PVM FDT_TESTS_DIR CORPUS_BUILD_DIR DTC [--update-golden]

For every case of FDT_TESTS_DIR/corpus/*.dts (expected outcome on its first
line) and of CORPUS_BUILD_DIR/hostile.expect, runs
`pvm fdt sanitize IN OUT --json [--psci smc] [--debuggable]`:
- expected "ok": exit 0, {"result":"ok"} on stdout, OUT decompiles with
  `dtc -I dtb -O dts` without a warning and equals FDT_TESTS_DIR/golden/<case>.dts
  when that exists (--update-golden rewrites the goldens instead);
- expected NAME: exit 1, exactly one stderr line "error: NAME: ...",
  {"result":"error","error":NAME,"step":STEP} on stdout (STEP "read" for
  FDT_*, "rebuild" for OUTPUT_*, else "validate"), OUT not written.
Then the seeds (--kaslr-seed, --rng-seed: the output is the golden with
/chosen/kaslr-seed and rng-seed added, and nothing else changed) and a few
usage errors (exit 2).
"""
import json
import os
import re
import subprocess
import sys
import tempfile


def cases(tests_dir, build_dir):
    corpus = os.path.join(tests_dir, "corpus")
    for name in sorted(os.listdir(corpus)):
        if not name.endswith(".dts"):
            continue
        with open(os.path.join(corpus, name)) as f:
            first = f.readline()
        m = re.match(r"/\*(.*)\*/", first.strip())
        fields = [x.strip() for x in m.group(1).split(";")] if m else []
        expect = next((x[len("expect:"):].strip() for x in fields if x.startswith("expect:")), None)
        flags = []
        if "psci: smc" in fields:
            flags += ["--psci", "smc"]
        if "debuggable" in fields:
            flags += ["--debuggable"]
        yield name[:-4], expect, flags
    with open(os.path.join(build_dir, "hostile.expect")) as f:
        for line in f:
            name, expect = line.split()[:2]
            yield name, expect, []


def step_of(name):
    """The step of fdt::sanitize that names a refusal NAME."""
    if name.startswith("FDT_"):
        return "read"
    if name.startswith("OUTPUT_"):
        return "rebuild"
    return "validate"


def check_seeds(pvm, dtc, good, golden, tmp):
    """With --kaslr-seed and --rng-seed, the output is the golden with the two
    /chosen properties added where pvmfw adds them, and nothing else."""
    out = os.path.join(tmp, "seeded.dtb")
    kaslr, rng = "0123456789abcdef", bytes(range(0xa0, 0xc0)).hex()
    r = subprocess.run([pvm, "fdt", "sanitize", good, out, "--json", "--kaslr-seed", kaslr,
                        "--rng-seed", rng], capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        return [f"seeds: exit {r.returncode}: {r.stderr.strip()}"]
    report = json.loads(r.stdout)
    failures = []
    if report.get("seeds") != {"kaslr": True, "rng": True} or report.get("strict_boot") is not True:
        failures.append(f"seeds: JSON says {report.get('seeds')}, strict_boot "
                        f"{report.get('strict_boot')}")
    d = subprocess.run([dtc, "-I", "dtb", "-O", "dts", "-o", "-", out], capture_output=True,
                       text=True)
    # As dtc writes them: values of whole 32-bit cells as cells.
    def cells(value):
        return "<" + " ".join(hex(int.from_bytes(value[i:i + 4], "big"))
                              for i in range(0, len(value), 4)) + ">"
    with open(golden) as f:
        expected = f.read().replace(
            "\t\tavf,strict-boot;\n",
            f"\t\tkaslr-seed = {cells(bytes.fromhex(kaslr))};\n"
            f"\t\trng-seed = {cells(bytes.fromhex(rng))};\n\t\tavf,strict-boot;\n")
    if d.stdout != expected:
        failures.append("seeds: the output is not the golden with kaslr-seed and rng-seed added")
    return failures


def main():
    pvm, tests_dir, build_dir, dtc = sys.argv[1:5]
    update = "--update-golden" in sys.argv[5:]
    failures = []
    count = 0
    with tempfile.TemporaryDirectory(prefix="pvm-fdt-") as tmp:
        for name, expect, flags in cases(tests_dir, build_dir):
            count += 1
            if expect is None:
                failures.append(f"{name}: no '/* expect: ... */' first line")
                continue
            src = os.path.join(build_dir, name + ".dtb")
            out = os.path.join(tmp, name + ".out.dtb")
            r = subprocess.run([pvm, "fdt", "sanitize", src, out, "--json"] + flags,
                               capture_output=True, text=True, timeout=60)
            try:
                report = json.loads(r.stdout)
            except ValueError:
                failures.append(f"{name}: stdout is not one JSON object: {r.stdout!r}")
                continue
            if expect == "ok":
                if r.returncode != 0 or report.get("result") != "ok":
                    failures.append(f"{name}: expected ok, got exit {r.returncode}: {r.stderr.strip()}")
                    continue
                d = subprocess.run([dtc, "-I", "dtb", "-O", "dts", "-o", "-", out],
                                   capture_output=True, text=True)
                if d.returncode != 0 or d.stderr:
                    failures.append(f"{name}: dtc on the output: exit {d.returncode}: {d.stderr.strip()}")
                golden = os.path.join(tests_dir, "golden", name + ".dts")
                if update:
                    if os.path.exists(golden) or "--all" in sys.argv:
                        with open(golden, "w") as f:
                            f.write(d.stdout)
                elif os.path.exists(golden):
                    with open(golden) as f:
                        if f.read() != d.stdout:
                            failures.append(f"{name}: output differs from golden/{name}.dts")
            else:
                lines = r.stderr.splitlines()
                if r.returncode != 1:
                    failures.append(f"{name}: expected {expect} (exit 1), got exit {r.returncode}")
                elif len(lines) != 1 or not lines[0].startswith(f"error: {expect}: "):
                    failures.append(f"{name}: expected 'error: {expect}: ...', got {r.stderr!r}")
                elif report.get("result") != "error" or report.get("error") != expect:
                    failures.append(f"{name}: JSON says {report}")
                elif report.get("step") != step_of(expect):
                    failures.append(f"{name}: step {report.get('step')}, expected {step_of(expect)}")
                elif os.path.exists(out):
                    failures.append(f"{name}: refused, but the output was written")

        good = os.path.join(build_dir, "good_vm.dtb")
        failures += check_seeds(pvm, dtc, good, os.path.join(tests_dir, "golden", "good_vm.dts"),
                                tmp)
        usage = {
            "no subcommand": ["fdt"],
            "unknown subcommand": ["fdt", "clean", good, os.path.join(tmp, "u.dtb")],
            "one file": ["fdt", "sanitize", good],
            "three files": ["fdt", "sanitize", good, good, good],
            "bad --psci": ["fdt", "sanitize", good, os.path.join(tmp, "u.dtb"), "--psci", "svc"],
            "unknown option": ["fdt", "sanitize", good, os.path.join(tmp, "u.dtb"), "--frob"],
            "missing input": ["fdt", "sanitize", os.path.join(tmp, "absent.dtb"),
                              os.path.join(tmp, "u.dtb")],
            "short --kaslr-seed": ["fdt", "sanitize", good, os.path.join(tmp, "u.dtb"),
                                   "--kaslr-seed", "0123"],
            "short --rng-seed": ["fdt", "sanitize", good, os.path.join(tmp, "u.dtb"),
                                 "--rng-seed", "00" * 31],
            "long --rng-seed": ["fdt", "sanitize", good, os.path.join(tmp, "u.dtb"),
                                "--rng-seed", "00" * 65],
            "odd --rng-seed": ["fdt", "sanitize", good, os.path.join(tmp, "u.dtb"),
                               "--rng-seed", "0" * 65],
        }
        for what, args in usage.items():
            r = subprocess.run([pvm] + args, capture_output=True, text=True, timeout=60)
            if r.returncode != 2:
                failures.append(f"usage ({what}): exit {r.returncode}, expected 2")
        r = subprocess.run([pvm, "fdt", "sanitize", good, os.path.join(tmp, "s.dtb")],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0 or "memory" not in r.stdout or "bootargs" not in r.stdout:
            failures.append(f"summary output: exit {r.returncode}: {r.stdout!r}")

    for f in failures:
        print("FAIL:", f)
    print(f"{count} cases, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Runs a libFuzzer binary for a bounded session on a scratch copy of its seeds.

usage: run_fuzzer.py FUZZER --runs N [--seconds S] SEED_FILE_OR_DIR...

PVM_FUZZ_RUNS (and PVM_FUZZ_SECONDS, default 3600) in the environment replace
--runs and --seconds: the long session `./pvm fuzz` asks for.

The seeds are copied to a temporary corpus so the source tree is never
written. The run is bounded by executions (and a time cap as a guard), so it is
the same work on every machine. A crash fails the test and keeps the reproducer
in the build folder.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("fuzzer")
    ap.add_argument("--runs", type=int, required=True)
    ap.add_argument("--seconds", type=int, default=120)
    ap.add_argument("seeds", nargs="+")
    args = ap.parse_args()
    if os.environ.get("PVM_FUZZ_RUNS"):
        args.runs = int(os.environ["PVM_FUZZ_RUNS"])
        args.seconds = int(os.environ.get("PVM_FUZZ_SECONDS", "3600"))

    with tempfile.TemporaryDirectory(prefix="pvm-fuzz-") as corpus:
        n = 0
        for s in args.seeds:
            paths = [os.path.join(s, f) for f in sorted(os.listdir(s))] if os.path.isdir(s) else [s]
            for p in paths:
                if os.path.isfile(p):
                    shutil.copy(p, os.path.join(corpus, f"seed{n}_{os.path.basename(p)}"))
                    n += 1
        if n == 0:
            print("FAIL: no seeds found in", args.seeds)
            return 1
        artifacts = os.path.join(os.getcwd(), "fuzz-artifacts", os.path.basename(args.fuzzer))
        os.makedirs(artifacts, exist_ok=True)
        cmd = [args.fuzzer, corpus, f"-runs={args.runs}", f"-max_total_time={args.seconds}",
               f"-artifact_prefix={artifacts}/", "-print_final_stats=1",
               # libFuzzer's default exit code for a finding is 77, which
               # Meson counts as "skipped": make every finding a failure.
               "-error_exitcode=1", "-timeout_exitcode=1"]
        print("running:", " ".join(cmd), f"({n} seeds)")
        return subprocess.run(cmd).returncode


if __name__ == "__main__":
    sys.exit(main())

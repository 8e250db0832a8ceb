#!/usr/bin/env python3
"""Runs one boot and checks what the console shows.

usage: check.py [--expect TEXT]... [--absent TEXT]... [--exit N] [--timeout S]
                [--need PATH]... -- COMMAND [ARG]...

Every --expect must appear in the output (in that order), no --absent may
appear, and the command must exit with --exit (default 0). A missing --need
path makes the test skip (exit 77) with a visible message. On failure the whole
transcript is printed, so a red test explains itself.
"""
import argparse
import os
import subprocess
import sys


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--expect", action="append", default=[])
    ap.add_argument("--absent", action="append", default=[])
    ap.add_argument("--exit", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=180)
    ap.add_argument("--need", action="append", default=[])
    ap.add_argument("command", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    cmd = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not cmd:
        ap.error("no command")

    for path in args.need:
        if not os.path.exists(path):
            print(f"SKIP: {path} is absent (run ./pvm setup to fetch it)")
            return 77

    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL, timeout=args.timeout)
        out = proc.stdout.decode("utf-8", "replace").replace("\r\n", "\n")
        code = proc.returncode
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode("utf-8", "replace")
        print(out)
        print(f"FAIL: no exit within {args.timeout} s: {' '.join(cmd)}")
        return 1

    problems = []
    pos = 0
    for text in args.expect:
        found = out.find(text, pos)
        if found < 0:
            problems.append(f"missing (in order): {text!r}")
        else:
            pos = found + len(text)
    for text in args.absent:
        if text in out:
            problems.append(f"present but must not be: {text!r}")
    if code != args.exit:
        problems.append(f"exit status {code}, expected {args.exit}")

    if problems:
        print(out)
        print("command:", " ".join(cmd))
        for p in problems:
            print("FAIL:", p)
        return 1
    print(out)
    print(f"ok: {len(args.expect)} expected lines, exit {code}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

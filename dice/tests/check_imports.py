#!/usr/bin/env python3
"""Checks that a dice/ library imports from mbedTLS only SHA-256 and SHA-512.

usage: check_imports.py NM LIBRARY

P-256 is p256.cc's own; the firmware must link none of mbedTLS's ecp, bignum,
md or hmac_drbg objects for dice/ (README.md, "The firmware link").
"""
import re
import subprocess
import sys

ALLOWED = re.compile(r"mbedtls_sha(256|512)_\w+")


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    nm, lib = sys.argv[1:]
    out = subprocess.run([nm, "-u", lib], check=True, stdout=subprocess.PIPE, text=True).stdout
    imports = sorted({w for line in out.splitlines() for w in line.split()
                      if w.startswith("mbedtls_")})
    bad = [s for s in imports if not ALLOWED.fullmatch(s)]
    for s in bad:
        print(f"{lib}: imports {s}", file=sys.stderr)
    if not any(ALLOWED.fullmatch(s) for s in imports):
        print(f"{lib}: no mbedTLS SHA import found (wrong file?)", file=sys.stderr)
        return 1
    print(f"{lib}: mbedTLS imports: {' '.join(imports)}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

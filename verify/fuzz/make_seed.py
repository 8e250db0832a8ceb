#!/usr/bin/env python3
"""Writes a "VFZ1" fuzz seed (see verify_fuzzer.cc): kernel, initrd, standalone vbmeta.

usage: make_seed.py OUT KERNEL INITRD VBMETA
"""
import struct
import sys


def main() -> int:
    out, kernel, initrd, vbmeta = sys.argv[1:5]
    k, i, v = (open(p, "rb").read() for p in (kernel, initrd, vbmeta))
    flags = 1 | 2 | 8  # initrd, standalone vbmeta, repair the vbmeta hash
    with open(out, "wb") as f:
        f.write(b"VFZ1" + bytes([flags, 0, 0, 0]) + struct.pack(">II", len(k), len(i)) + k + i + v)
    return 0


if __name__ == "__main__":
    sys.exit(main())

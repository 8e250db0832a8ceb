#!/usr/bin/env python3
"""Makes a broken copy of a signed image for refusal tests.

usage: tamper.py IN OUT (--flip-bit OFFSET | --flip-vbmeta-bit OFFSET | --truncate BYTES)

--flip-bit N          flips bit 0 of byte N (negative: from the end)
--flip-vbmeta-bit N   flips bit 0 of byte N of the vbmeta image the AvbFooter
                      points at (N = 256 is the first byte of the auth block)
--truncate N          drops the last N bytes (the footer goes first)
"""
import argparse
import struct
import sys


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("dst")
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--flip-bit", type=int)
    g.add_argument("--flip-vbmeta-bit", type=int)
    g.add_argument("--truncate", type=int)
    a = ap.parse_args()
    data = bytearray(open(a.src, "rb").read())
    if a.flip_bit is not None:
        data[a.flip_bit] ^= 1
    elif a.flip_vbmeta_bit is not None:
        footer = data[-64:]
        if footer[:4] != b"AVBf":
            print("tamper.py: no AvbFooter in", a.src)
            return 1
        (vbmeta_offset,) = struct.unpack(">Q", footer[20:28])
        data[vbmeta_offset + a.flip_vbmeta_bit] ^= 1
    else:
        del data[len(data) - a.truncate:]
    open(a.dst, "wb").write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())

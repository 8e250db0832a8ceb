#!/usr/bin/env python3
"""Makes a broken copy of a signed image for refusal tests.

usage: tamper.py IN OUT (--flip-bit OFFSET | --flip-last-image-bit | --flip-vbmeta-bit OFFSET
                        | --truncate BYTES)

--flip-bit N          flips bit 0 of byte N (negative: from the end)
--flip-last-image-bit flips bit 0 of the image's last byte (the AvbFooter's
                      original_image_size says where the image ends)
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
    g.add_argument("--flip-last-image-bit", action="store_true")
    g.add_argument("--flip-vbmeta-bit", type=int)
    g.add_argument("--truncate", type=int)
    a = ap.parse_args()
    data = bytearray(open(a.src, "rb").read())
    footer = data[-64:]
    if (a.flip_last_image_bit or a.flip_vbmeta_bit is not None) and footer[:4] != b"AVBf":
        print("tamper.py: no AvbFooter in", a.src)
        return 1
    if a.flip_bit is not None:
        data[a.flip_bit] ^= 1
    elif a.flip_last_image_bit:
        # libavb avb_footer.h: original_image_size at offset 12, big-endian.
        (image_size,) = struct.unpack(">Q", footer[12:20])
        data[image_size - 1] ^= 1
    elif a.flip_vbmeta_bit is not None:
        (vbmeta_offset,) = struct.unpack(">Q", footer[20:28])
        data[vbmeta_offset + a.flip_vbmeta_bit] ^= 1
    else:
        del data[len(data) - a.truncate:]
    open(a.dst, "wb").write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())

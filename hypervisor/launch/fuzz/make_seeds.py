#!/usr/bin/env python3
"""Writes the launch fuzzer's seed inputs (fuzz/launch_fuzzer.cc's format).

usage: make_seeds.py OUT...   (one file per seed, in SEEDS order)

An input is: one byte L, L bytes of opt/pvm/launch, 8 bytes of machine RAM
size (little-endian), then the fw_cfg file directory (fw_cfg.rst: BE32
count, entries of BE32 size, BE16 select, BE16 reserved, name[56]).
"""
import struct
import sys

MIB = 1 << 20


def header(ram, payload, initrd, cpus=1, flags=0):
    return (b"PVML" + struct.pack("<IIIQII", 1, 64, flags, ram, cpus, 0) +
            struct.pack("<QQQQ", 0x4000_0000, payload, initrd, 0))


def directory(files):
    out = struct.pack(">I", len(files))
    for i, (name, size) in enumerate(files):
        out += struct.pack(">IHH", size, 0x20 + i, 0) + name.encode().ljust(56, b"\0")
    return out


def seed(hdr, machine_ram, files, count=None):
    d = directory(files)
    if count is not None:
        d = struct.pack(">I", count) + d[4:]
    return bytes([len(hdr)]) + hdr + struct.pack("<Q", machine_ram) + d


QEMU_FILES = [("bootorder", 0), ("etc/boot-fail-wait", 4)]
LAUNCH = [("opt/pvm/launch", 64), ("opt/pvm/pvmfw.img", 200 * 1024), ("opt/pvm/dt", 4096),
          ("opt/pvm/payload", 8 * MIB), ("opt/pvm/uds", 32)]

SEEDS = [
    # A launch with an initrd, as `pvm run` makes it.
    seed(header(1024 * MIB, 0x4040_0000, 0x40e0_0000), 1040 * MIB,
         QEMU_FILES + LAUNCH + [("opt/pvm/initrd", 3 * MIB)]),
    # No initrd, MMIO guard offered, two vCPUs.
    seed(header(64 * MIB, 0x4040_0000, 0, cpus=2, flags=1), 80 * MIB, LAUNCH + QEMU_FILES),
    # A directory whose count does not fit.
    seed(header(16 * MIB, 0x4040_0000, 0), 32 * MIB, LAUNCH, count=1000),
]


def main() -> int:
    if len(sys.argv) - 1 != len(SEEDS):
        print(f"usage: make_seeds.py OUT x{len(SEEDS)}", file=sys.stderr)
        return 2
    for path, data in zip(sys.argv[1:], SEEDS):
        with open(path, "wb") as f:
            f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())

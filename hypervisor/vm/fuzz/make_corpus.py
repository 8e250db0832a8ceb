#!/usr/bin/env python3
"""Writes the seed corpus of vm_fuzzer.cc into fuzz/corpus/ (run it after
changing the input format; the seeds are checked in).

The format is the harness's (see the comment at the top of vm_fuzzer.cc and
step()): a VM shape byte, a device mask, a storage byte, then steps.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def shape(guard, rng, vcpus, ram_index):
    return bytes([(1 if guard else 0) | (2 if rng else 0) | ((vcpus - 1) << 2) | (ram_index << 5)])


def u64(v):
    return struct.pack("<Q", v & 0xFFFFFFFFFFFFFFFF)


# IPA selectors (pick_ipa).
def ram_page(n): return bytes([0, n])
def ram_unaligned(n, off): return bytes([1, n, off])
def dev(cand, granule): return bytes([2, cand, granule])
def dev_unaligned(cand, granule, off): return bytes([3, cand, granule, off])
def fw_cfg(): return bytes([4, 0])
def edge(e): return bytes([5, e])
def raw_ipa(v): return bytes([6]) + u64(v)

UART, RTC, VIRTIO, BELOW_RAM, BIG, TOP = range(6)
JUNK = 0      # < 200: a clean function ID
JUNKY = 0xFF  # junk in x0's upper half


def share(ipa, count=0, junk=JUNK): return bytes([0, junk]) + ipa + bytes([count, 0])
def unshare(ipa, count=0, junk=JUNK): return bytes([1, junk]) + ipa + bytes([count, 0])
def guard_map(ipa, junk=JUNK): return bytes([2, junk]) + ipa + bytes([0x55])
def guard_unmap(ipa, junk=JUNK): return bytes([3, junk]) + ipa + bytes([0])
def enroll(junk=JUNK): return bytes([4, 1, junk])
def guard_info(): return bytes([4, 0, JUNK])
def abort(ipa, write=0): return bytes([5]) + ipa + bytes([write])
def rnd64(bits): return bytes([7, 1, JUNK, bits])
def rnd32(bits): return bytes([7, 0, JUNK, bits])
def cpu_on(target, entry, smc64=True): return bytes([8, 1 if smc64 else 0, JUNK, 0, target]) + entry + u64(0xC0FFEE)
def known(index, arg_index): return bytes([9, index, JUNK, arg_index, 0, 0])
def toggle_map(): return bytes([11])
def entropy(budget): return bytes([12, 128 + budget])  # budget 0..3 draws; < 128 unlimited
def raw(x0, x1=0, x2=0, x3=0): return bytes([13]) + u64(x0) + u64(x1) + u64(x2) + u64(x3)


SEEDS = {
    # pvmfw's sequence, then a Linux-like one (MAP without ENROLL is covered by "upstream").
    "guard_pvmfw": shape(True, True, 2, 3) + bytes([0b111, 0])
    + abort(dev(UART, 0), 1) + guard_info() + enroll() + guard_map(dev(UART, 0))
    + abort(dev(RTC, 0)) + guard_unmap(dev(UART, 0)) + abort(dev(UART, 0))
    + guard_map(dev(VIRTIO, 2)) + share(ram_page(3), 2) + unshare(ram_page(4))
    + unshare(ram_page(3)) + unshare(ram_page(4)),
    "guard_upstream": shape(True, True, 4, 4) + bytes([0b1111, 0])
    + abort(dev(UART, 0)) + abort(dev(BELOW_RAM, 0)) + guard_map(dev(RTC, 0))
    + guard_map(dev(RTC, 0)) + guard_map(ram_page(0)) + guard_map(fw_cfg())
    + guard_map(dev_unaligned(UART, 0, 4)) + toggle_map() + guard_map(dev(VIRTIO, 1))
    + abort(dev(VIRTIO, 1)) + toggle_map() + abort(dev(VIRTIO, 1)) + guard_unmap(dev(BIG, 0)),
    "no_guard": shape(False, False, 1, 2) + bytes([0b111111, 0])
    + abort(dev(UART, 0)) + abort(dev(TOP, 1)) + abort(fw_cfg()) + abort(ram_page(1))
    + enroll() + guard_map(dev(UART, 0)) + abort(dev(BIG, 15)) + rnd64(64)
    + share(edge(2)) + share(edge(1)) + share(ram_page(0), 63) + unshare(ram_page(10), 5),
    "trng": shape(False, True, 1, 0) + bytes([0, 0])
    + rnd64(192) + rnd32(96) + rnd64(1) + entropy(1) + rnd64(129) + entropy(3) + rnd64(150)
    + rnd64(0) + rnd32(97) + known(17, 18) + known(18, 21) + known(19, 0),
    "psci": shape(True, True, 8, 5) + bytes([0b111, 0])
    + cpu_on(1, ram_page(5)) + cpu_on(7, ram_page(0), False) + cpu_on(8, ram_page(0))
    + cpu_on(1, fw_cfg()) + known(36, 27) + known(36, 0) + known(36, 37) + known(1, 3)
    + known(23, 0) + known(24, 1) + known(34, 0) + known(35, 0),
    "refused_config": shape(True, True, 2, 7) + bytes([0x80 | 0b101, 0, 1])
    + share(ram_page(2), 200) + abort(dev(UART, 0)),
    "raw": shape(True, True, 2, 3) + bytes([0b111, 0])
    + raw(0xFFFFFFFF80000000) + raw(0x12345678C6000003, 0x40001000, 1)
    + raw(0xC6000007, 0x09000000) + raw(0x86000000) + raw(0x8600FF01)
    + raw(0xC4000003, 0, 0x40000000, 7) + share(ram_page(1), junk=JUNKY),
}

if __name__ == "__main__":
    out = os.path.join(HERE, "corpus")
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print(f"wrote {len(SEEDS)} seeds to {out}")

#!/usr/bin/env python3
"""Writes the device trees dtc cannot express, for the hostile corpus.

usage: make_hostile.py GOOD.dtb OUTDIR

Some cases are byte edits of GOOD.dtb (the tree `pvm run` writes, compiled
from tests/corpus/good_vm.dts); the others are token streams built here
(DTSpec v0.4 ch. 5). Writes OUTDIR/<case>.dtb for every case in CASES and
OUTDIR/hostile.expect: one "<case> <EXPECTED> <why>" line per case, the
expected outcome being a refusal name as `pvm fdt sanitize` prints it.
The list of case names is repeated in tests/corpus/meson.build.
"""
import os
import struct
import sys

BEGIN, END_NODE, PROP, NOP, END = 1, 2, 3, 4, 9
HEADER = struct.Struct(">10I")


def be32(v):
    return struct.pack(">I", v)


def build(tokens, strings_tail=b"", version=17):
    """A v17 blob from tokens: ("begin", name), ("end",), ("prop", name, value),
    ("nop",), ("rawtok", int), or ("prop_off", nameoff, value)."""
    strings = bytearray()
    offsets = {}

    def name_off(name):
        if name not in offsets:
            offsets[name] = len(strings)
            strings.extend(name.encode() + b"\0")
        return offsets[name]

    st = bytearray()
    for t in tokens:
        kind = t[0]
        if kind == "begin":
            st += be32(BEGIN) + t[1].encode() + b"\0"
            st += b"\0" * (-len(st) % 4)
        elif kind == "end":
            st += be32(END_NODE)
        elif kind == "nop":
            st += be32(NOP)
        elif kind == "rawtok":
            st += be32(t[1])
        elif kind in ("prop", "prop_off"):
            off = name_off(t[1]) if kind == "prop" else t[1]
            st += be32(PROP) + be32(len(t[2])) + be32(off) + t[2]
            st += b"\0" * (-len(st) % 4)
    st += be32(END)
    strings += strings_tail
    rsv = b"\0" * 16
    off_rsv = 40
    off_struct = off_rsv + len(rsv)
    off_strings = off_struct + len(st)
    total = off_strings + len(strings)
    hdr = HEADER.pack(0xD00DFEED, total, off_struct, off_strings, off_rsv, version, 16, 0,
                      len(strings), len(st))
    return hdr + rsv + bytes(st) + bytes(strings)


def u32(v):
    return be32(v)


def sz(s):
    return s.encode() + b"\0"


def tree(*body):
    """A small complete tree: root cells, then `body` tokens, then /chosen."""
    return ([("begin", ""), ("prop", "#address-cells", u32(2)), ("prop", "#size-cells", u32(2))]
            + list(body) + [("begin", "chosen"), ("prop", "bootargs", sz("quiet")), ("end",),
                            ("end",)])


def node(name, *props):
    return [("begin", name)] + [("prop", n, v) for n, v in props] + [("end",)]


def edit(blob, off, value):
    b = bytearray(blob)
    b[off:off + 4] = be32(value)
    return bytes(b)


def field(blob, index):
    return struct.unpack_from(">I", blob, 4 * index)[0]


def main():
    good_path, outdir = sys.argv[1:3]
    good = open(good_path, "rb").read()
    total = field(good, 1)
    off_struct, off_strings = field(good, 2), field(good, 3)
    size_strings, size_struct = field(good, 8), field(good, 9)
    # The first property of the root: BEGIN_NODE "" (8 bytes), then PROP len nameoff.
    first_prop = off_struct + 8
    assert struct.unpack_from(">I", good, first_prop)[0] == PROP
    end_node_before_end = off_struct + size_struct - 8
    chosen = good.index(b"chosen\0")

    cases = {}

    def add(name, expect, why, blob):
        cases[name] = (expect, why, blob)

    # ---- header and block layout (byte edits of the good tree)
    add("h_truncated_header", "FDT_TRUNCATED", "20 bytes: shorter than a header", good[:20])
    add("h_truncated_tail", "FDT_TRUNCATED", "the last 16 bytes cut off", good[:-16])
    add("h_bad_magic", "FDT_BAD_MAGIC", "magic 0xd00dfeee", edit(good, 0, 0xD00DFEEE))
    add("h_bad_version", "FDT_BAD_VERSION", "version 16", edit(good, 20, 16))
    big = edit(good, 4, 3 << 20) + b"\0" * ((3 << 20) - total)
    add("h_too_big", "FDT_TOO_BIG", "totalsize 3 MiB (the DT window is 2 MiB)", big)
    add("h_struct_out_of_bounds", "FDT_BAD_LAYOUT", "structure block offset past the end",
        edit(good, 8, 0xFFFFFFF0))
    add("h_blocks_overlap", "FDT_BAD_LAYOUT", "strings block on top of the structure block",
        edit(good, 12, off_struct))
    add("h_rsvmap_unterminated", "FDT_BAD_LAYOUT", "reservation map with no room for its end",
        edit(good, 16, (total - 8) & ~7))
    add("h_rsvmap_misaligned", "FDT_BAD_LAYOUT", "reservation map not 8-byte aligned",
        edit(good, 16, 44))

    # ---- token stream (byte edits)
    add("t_name_offset_out_of_strings", "FDT_BAD_STRUCTURE", "a property name offset past the strings block",
        edit(good, first_prop + 8, 0x7FFFFFFF))
    add("t_string_without_nul", "FDT_BAD_STRUCTURE", "the strings block's last name lost its NUL",
        edit(good, 32, size_strings - 1))
    add("t_prop_len_past_end", "FDT_BAD_STRUCTURE", "a property length past the block",
        edit(good, first_prop + 4, 0xFFFFFFF0))
    add("t_unbalanced", "FDT_BAD_STRUCTURE", "the root's END_NODE replaced by a NOP",
        edit(good, end_node_before_end, NOP))
    add("t_unknown_token", "FDT_BAD_STRUCTURE", "token 0x77", edit(good, first_prop, 0x77))
    slash = bytearray(good)
    slash[chosen + 3] = ord("/")
    add("t_node_name_slash", "FDT_BAD_NAME", "a node named \"cho/en\"", bytes(slash))

    # ---- token stream (built)
    add("t_nop_before_root", "FDT_BAD_STRUCTURE", "a NOP before the root (libfdt expects it at 0)",
        build([("nop",)] + tree()))
    add("t_prop_after_subnode", "FDT_BAD_STRUCTURE", "a property after a subnode",
        build(tree(*node("a"), ("prop", "late", u32(1)))))
    add("t_two_roots", "FDT_BAD_STRUCTURE", "a second root node",
        build(tree() + node("")))
    add("t_root_named", "FDT_BAD_NAME", "a root node with a name",
        build([("begin", "root")] + tree()[1:]))
    add("t_prop_name_empty", "FDT_BAD_NAME", "a property whose name is the empty string",
        build(tree(*node("a", ("", u32(1))))))
    add("t_duplicate_node", "FDT_DUPLICATE_NODE", "a second /chosen hiding other bootargs",
        build(tree(*node("chosen", ("bootargs", sz("init=/bin/sh"))))))
    add("t_duplicate_memory", "FDT_DUPLICATE_NODE", "memory@40000000 twice",
        build(tree(*node("memory@40000000", ("device_type", sz("memory"))),
                   *node("memory@40000000", ("device_type", sz("memory"))))))
    add("t_phandle_zero", "FDT_BAD_PHANDLE", "phandle 0",
        build(tree(*node("a", ("phandle", u32(0))))))
    add("t_phandle_ones", "FDT_BAD_PHANDLE", "phandle 0xffffffff",
        build(tree(*node("a", ("phandle", u32(0xFFFFFFFF))))))
    add("t_phandle_duplicate", "FDT_BAD_PHANDLE", "two nodes with phandle 5",
        build(tree(*node("a", ("phandle", u32(5))), *node("b", ("phandle", u32(5))))))
    add("t_phandle_mismatch", "FDT_BAD_PHANDLE", "phandle and linux,phandle differ",
        build(tree(*node("a", ("phandle", u32(5)), ("linux,phandle", u32(6))))))
    add("t_phandle_size", "FDT_BAD_PHANDLE", "an 8-byte phandle",
        build(tree(*node("a", ("phandle", u32(0) + u32(5))))))
    many = []
    for i in range(1100):
        many += node(f"n{i}")
    add("t_too_many_nodes", "FDT_TOO_BIG", "1100 nodes (at most 1024)", build(tree(*many)))
    handles = []
    for i in range(300):
        handles += node(f"p{i}", ("phandle", u32(i + 1)))
    add("t_too_many_phandles", "FDT_TOO_BIG", "300 phandles (at most 256)", build(tree(*handles)))

    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "hostile.expect"), "w") as f:
        for name, (expect, why, blob) in cases.items():
            with open(os.path.join(outdir, name + ".dtb"), "wb") as out:
                out.write(blob)
            f.write(f"{name} {expect} {why}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
